"""Speed of the pricing functions (not a test): rows per second of price_frame, allocation time.

Run: .venv/bin/python bench/bench_pricing.py [--rows 1000000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from creditmodel import pricing, pricing_allocation, pricing_churn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--firms", type=int, nargs="*", default=[302, 5000])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.rows
    df = pd.DataFrame({"uscc": np.arange(n).astype(str), "pd_12m": rng.beta(0.5, 20, n), "status": "ok",
                       "collateral": rng.choice(["none", "property", "guarantee", "receivables"], n),
                       "revenue": rng.lognormal(16, 1.5, n), "amount": 5e5})
    cfg = pricing.PricingConfig()
    pricing.price_frame(df.head(1000), cfg)                      # warm-up
    t = time.perf_counter()
    pricing.price_frame(df, cfg)
    dt = time.perf_counter() - t
    print(f"price_frame: {n:,} rows in {dt:.2f} s ({n / dt:,.0f} rows/s)")

    x = np.linspace(0.04, 0.15, 29)
    curves = {g: pricing_churn.ChurnCurve().fit(x, 1 - np.exp(-(x - 0.04) / s)) for g, s in
              (("A", 0.045), ("B", 0.05), ("C", 0.055))}
    for k in args.firms:
        firms = pd.DataFrame({"grade": rng.choice(list("ABCD"), k), "pd_12m": rng.beta(0.5, 15, k)})
        rules = pricing_allocation.AllocationRules(budget=k * 330_000.0)
        t = time.perf_counter()
        a = pricing_allocation.allocate(firms, curves, rules)
        print(f"allocate: {k:,} firms, {int(a.totals['n_loans'])} loans in {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
