"""``train_frame`` with the cross-fitted estimators in 1 and in 2 worker processes (``n_jobs``), on the peers' split.

For each data set and model kind: wall time of ``train_frame(kind, seed=42, n_jobs=...)`` on the 70 % training
rows (4 or 10 cross-fitted calibration folds, ``calibration_folds_for``, + the final fit, as ``bench_models.py``
fits), both values in the same process one after the other, and whether the two models are the same
(``model.version``, a SHA-256 of the fitted model). Output ``bench/results/fit_jobs.md``.

    .venv/bin/python bench/fit_jobs.py [--datasets synthetic_200k polish_1year] [--kinds scorecard lightgbm]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT.parent / "shared" / "bench")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=["synthetic_200k", "polish_1year"])
    ap.add_argument("--kinds", nargs="+", default=["scorecard", "lightgbm"])
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    import bench_models as bm
    import peers_bench as pb

    from creditmodel.scoring.train import stratified_split, train_frame

    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    started, rows = time.strftime("%Y-%m-%d %H:%M"), []
    for name in a.datasets:
        Xtr, ytr, _, _ = bm.split_here(name)
        split = stratified_split(ytr, bm.SEED, valid=bm.VALID_SHARE, test=0.0)
        df = Xtr.assign(**{pb.TARGET: ytr})
        for kind in a.kinds:
            t, v = {}, {}
            for jobs in (1, 2):
                t0 = time.perf_counter()
                res = train_frame(df, pb.TARGET, kind=kind, seed=bm.SEED, split=split, name=name, n_jobs=jobs)
                t[jobs], v[jobs] = time.perf_counter() - t0, res.model.version
            rows.append((name, kind, len(df), t[1], t[2], v[1], v[2]))
            print(f"{name} {kind}: {t[1]:.1f} s -> {t[2]:.1f} s, versions {v[1]} / {v[2]}", flush=True)
    L = ["# Cross-fitted fits in worker processes (`n_jobs`)", "",
         f"`bench/fit_jobs.py`, run {started} at `{head}` on the project machine (2 cores): `train_frame(kind, "
         f"seed=42, n_jobs=1 | 2)` on the 70 % training rows of the peers' split (the cross-fitted calibration "
         f"folds, 10 for LightGBM below 50,000 rows and 4 otherwise, and the final fit), one after the other in one process. `version` is the model's SHA-256 fingerprint.", "",
         "| dataset | model | training rows | n_jobs=1 s | n_jobs=2 s | time ratio | version n_jobs=1 | version n_jobs=2 |",
         "|---|---|---:|---:|---:|---:|---|---|"]
    for name, kind, n, t1, t2, v1, v2 in rows:
        L.append(f"| {name} | {kind} | {n:,} | {t1:.1f} | {t2:.1f} | {t2 / t1:.2f} | `{v1}` | `{v2}` |")
    (ROOT / "bench" / "results" / "fit_jobs.md").write_text("\n".join(L) + "\n", encoding="utf-8")
    print("\n".join(L))


if __name__ == "__main__":
    main()
