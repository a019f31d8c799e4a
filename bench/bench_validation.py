"""Speed of the validation suite (not a test): midrank DeLong against the O(n^2) definition, the bootstrap,
and a full report (with and without writing report.html).

Run: .venv/bin/python bench/bench_validation.py [--rows 20000 200000]
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from creditmodel.validation import Challenger, ReferenceSample, build_report
from creditmodel.validation import metrics as M

EDGES = [0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512, 0.1024, 0.2048]


def sample(n: int, seed: int, shift: float = 0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    pd_ = 1 / (1 + np.exp(-(-3.2 + 1.1 * x)))
    y = rng.binomial(1, pd_)
    score = np.rint(600 - 28.85 * np.log(pd_ / (1 - pd_)))
    grade = (np.searchsorted(EDGES, pd_) + 1).astype(str)
    return y, pd_, score, grade, rng


def brute_var(y, r):
    pos, neg = r[y == 1], r[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return np.var(v10, ddof=1) / v10.size + np.var(v01, ddof=1) / v01.size


def timed(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, nargs="*", default=[20_000, 200_000])
    ap.add_argument("--brute-rows", type=int, default=20_000)
    args = ap.parse_args()

    y, _, score, _, _ = sample(args.brute_rows, 0)
    r = -score
    t_fast = timed(lambda: M.auc_delong(y, r))
    t_brute = timed(lambda: brute_var(y, r), repeat=1)
    print(f"DeLong variance, {args.brute_rows:,} rows ({int(y.sum())} defaults): midrank {t_fast * 1e3:.1f} ms, "
          f"O(n^2) definition {t_brute * 1e3:.0f} ms ({t_brute / t_fast:.0f}x); "
          f"same value: {np.isclose(M.auc_delong(y, r).se ** 2, brute_var(y, r), rtol=1e-10)}")

    for n in args.rows:
        bench_rows(n)


def bench_rows(n: int) -> None:
    """Bootstrap and report timings on ``n`` rows (reference sample shifted, five industries, a challenger)."""
    y, pd_, score, grade, rng = sample(n, 1)
    ry, rpd, rscore, rgrade, _ = sample(n, 2, shift=-0.3)
    t_boot = timed(lambda: M.bootstrap_discrimination(y, -score, n_boot=500, seed=0), repeat=1)
    kw = {"industry": rng.choice(list("CFGHI"), n), "size_class": rng.choice(["micro", "small", "medium"], n),
          "reference": ReferenceSample(score=rscore, pd=rpd, grade=rgrade, y=ry),
          "challenger": Challenger("challenger", np.clip(pd_ * np.exp(rng.normal(0, 0.4, n)), 0, 1)),
          "n_boot": 500}
    t_build = timed(lambda: build_report(y, pd_, score, grade, **kw), repeat=1)
    with tempfile.TemporaryDirectory() as tmp:
        t_full = timed(lambda: build_report(y, pd_, score, grade, out=tmp, **kw), repeat=1)
    print(f"{n:,} rows: bootstrap (500 replicates) {t_boot:.2f} s; build_report {t_build:.2f} s; "
          f"with report.html + metrics.json {t_full:.2f} s")

if __name__ == "__main__":
    main()
