"""Speed and memory of the public credit evaluation on generated districts.

For each size: generate the district (not timed), then time ``evaluate_dir`` (load with schema checks,
features, scoring, write Parquet), ``score_inputs`` alone, a batch credit-repair what-if for every
enterprise graded C or D (capped at ``--repair-max`` enterprises) and the expert-versus-evidence run.
Prints wall times and the peak RSS of the process.

    .venv/bin/python bench/bench_evaluation.py --firms 20000 200000
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import time
from pathlib import Path

from creditmodel.data.synthetic import generate_district
from creditmodel.evaluation import build_inputs, evaluate_dir, expert_vs_evidence, repair_whatif, score_inputs


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(firms: int, seed: int, repair_max: int, evidence: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "district"
        generate_district(firms=firms, seed=seed, out=d, progress=False)
        out: dict[str, float] = {"firms": firms}
        t0 = time.perf_counter()
        res = evaluate_dir(d, out=Path(tmp) / "evaluation.parquet")
        out["evaluate_dir_s"] = time.perf_counter() - t0
        inputs = build_inputs(res.tables, res.as_of)
        t0 = time.perf_counter()
        score_inputs(inputs)
        out["score_inputs_s"] = time.perf_counter() - t0
        low = res.frame.loc[res.frame["public_credit_grade"].isin(["C", "D"]), "uscc"].tolist()[:repair_max]
        t0 = time.perf_counter()
        repair_whatif(res.tables, None, low, res.as_of)
        out["repair_enterprises"] = len(low)
        out["repair_whatif_s"] = time.perf_counter() - t0
        if evidence:
            t0 = time.perf_counter()
            expert_vs_evidence(res.tables)
            out["evidence_s"] = time.perf_counter() - t0
        out["peak_rss_mb"] = _rss_mb()
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, nargs="+", default=[20_000])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repair-max", type=int, default=2000)
    ap.add_argument("--no-evidence", action="store_true")
    a = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for n in a.firms:
        r = run(n, a.seed, a.repair_max, not a.no_evidence)
        print(
            " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()), flush=True
        )


if __name__ == "__main__":
    main()
