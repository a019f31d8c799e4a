"""Coverage of the KS confidence interval of the validation report (``metrics.bootstrap_discrimination``).

KS is a maximum over score cut-offs, so the sample KS is biased upward and the bootstrap percentile interval sits
too high. This simulation draws samples with a known true KS (scores of defaults ~ N(shift, 1), of non-defaults
~ N(0, 1): true KS = 2 Phi(shift / 2) - 1), builds each candidate interval from the same bootstrap replicates and
counts how often it holds the true KS. Seeded; a few minutes on one core::

    .venv/bin/python bench/ks_interval_coverage.py     # writes bench/results/ks_interval_coverage.md
"""
from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path

import numpy as np
from scipy import stats

from creditmodel.validation import metrics as M

ROOT = Path(__file__).resolve().parents[1]
CASES = [(10, 200, 1.0), (30, 600, 1.0), (150, 1650, 1.4), (600, 6000, 0.8)]   # defaults, non-defaults, shift
SAMPLES, N_BOOT, ALPHA = 200, 300, 0.05


def main() -> None:
    t0 = time.time()
    z = stats.norm.ppf(1 - ALPHA / 2)
    rows = []
    for nb, ng, shift in CASES:
        rng = np.random.default_rng(7)
        true = 2 * stats.norm.cdf(shift / 2) - 1
        hits = {"percentile": 0, "basic": 0, "bias-corrected normal (used)": 0}
        bias_seen, width = [], []
        for r in range(SAMPLES):
            y = np.r_[np.ones(nb), np.zeros(ng)].astype(int)
            risk = np.r_[rng.normal(shift, 1, nb), rng.normal(0, 1, ng)]
            res = M.bootstrap_discrimination(y, risk, n_boot=N_BOOT, seed=r, alpha=ALPHA)
            ks, reps = M.ks_statistic(y, risk).ks, res.samples["ks"]
            lo, hi = np.quantile(reps, [ALPHA / 2, 1 - ALPHA / 2])
            hits["percentile"] += lo <= true <= hi
            hits["basic"] += 2 * ks - hi <= true <= 2 * ks - lo
            c, h = ks - (reps.mean() - ks), z * reps.std(ddof=1)
            assert np.isclose(res.ks[0], max(0.0, c - h)) and np.isclose(res.ks[1], min(1.0, c + h))
            hits["bias-corrected normal (used)"] += res.ks[0] <= true <= res.ks[1]
            bias_seen.append(ks - true)
            width.append(res.ks[1] - res.ks[0])
        rows.append((nb, ng, true, float(np.mean(bias_seen)), float(np.mean(width)),
                     {k: v / SAMPLES for k, v in hits.items()}))
        print(nb, ng, rows[-1][-1], flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    names = list(rows[0][-1])
    lines = [f"# Coverage of the KS interval ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, commit {commit})",
             "",
             f"`bench/ks_interval_coverage.py`: {SAMPLES} samples per row, {N_BOOT} stratified bootstrap replicates "
             f"each, nominal {1 - ALPHA:.0%}; scores of defaults N(shift, 1), of non-defaults N(0, 1). Share of "
             f"samples whose interval holds the true KS. Python {platform.python_version()}, "
             f"{time.time() - t0:.0f} s.", "",
             "| defaults | non-defaults | true KS | mean KS - true KS | mean width (used) | "
             + " | ".join(names) + " |",
             "|---:|---:|---:|---:|---:|" + "---:|" * len(names)]
    for nb, ng, true, bias, w, cov in rows:
        lines.append(f"| {nb} | {ng:,} | {true:.3f} | {bias:+.3f} | {w:.3f} | "
                     + " | ".join(f"{cov[k]:.1%}" for k in names) + " |")
    lines += ["", "percentile = [q_2.5, q_97.5] of the replicates (the report's interval before 2026-12-05); "
              "basic = [2 KS - q_97.5, 2 KS - q_2.5]; bias-corrected normal = KS - bias +- 1.96 sd with bias = mean "
              "replicate - KS (the report's interval since)."]
    out = ROOT / "bench" / "results" / "ks_interval_coverage.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("wrote", out)


if __name__ == "__main__":
    main()
