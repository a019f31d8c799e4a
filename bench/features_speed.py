"""Speed and memory of the point-in-time features at district scale.

Builds random tables with the declared columns (uniform dates, no latent structure: only sizes
matter here), then times ``build_features`` for every firm at one as-of date and
``build_loan_features`` for the loans (one as-of date per loan). Prints wall time and peak RSS.

    .venv/bin/python bench/features_speed.py --firms 1000000 --loans 200000
"""

from __future__ import annotations

import argparse
import logging
import resource
import time

import numpy as np
import pandas as pd

from creditmodel.data.tables import TABLES
from creditmodel.features import build_features, build_loan_features

DAY0 = np.datetime64("2019-01-01", "D")


def _dates(rng, n, lo=0, span=7 * 365):
    return DAY0 + rng.integers(lo, lo + span, n).astype("timedelta64[D]")


def _later(rng, d, p, span):
    out = d + rng.integers(1, span, len(d)).astype("timedelta64[D]")
    return np.where(rng.random(len(d)) < p, out, np.datetime64("NaT"))


def make_tables(firms: int, loans: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    codes = np.array([f"91330205{i:09d}X" for i in range(firms)], dtype=object)
    pick = lambda n: codes[rng.integers(0, firms, n)]  # noqa: E731
    t: dict[str, pd.DataFrame] = {}
    t["enterprises"] = pd.DataFrame(
        {
            "uscc": codes,
            "registered_on": DAY0 - rng.integers(0, 20 * 365, firms).astype("timedelta64[D]"),
            "industry": rng.choice(list("ACEFHIL"), firms),
            "street": rng.choice(["baisha", "kongpu"], firms),
            "size_class": rng.choice(["micro", "small", "medium"], firms),
            "registered_capital": rng.gamma(2, 100, firms),
            "employees": rng.integers(1, 200, firms),
        }
    )
    n = int(0.4 * firms)
    d = _dates(rng, n)
    t["penalties"] = pd.DataFrame(
        {
            "uscc": pick(n),
            "decision_date": d,
            "severity": rng.choice(["minor", "general", "serious"], n),
            "category": rng.choice(["food_safety", "market", "tax", "environment"], n),
            "amount": rng.gamma(2, 5000, n),
            "publicity_min_end": d + np.timedelta64(90, "D"),
            "publicity_max_end": d + np.timedelta64(365, "D"),
            "fine_paid_on": _later(rng, d, 0.8, 200),
            "repaired_on": _later(rng, d, 0.3, 700),
            "reported_on": d + rng.integers(0, 20, n).astype("timedelta64[D]"),
        }
    )
    n = int(0.1 * firms)
    d = _dates(rng, n)
    t["enforcement"] = pd.DataFrame(
        {
            "uscc": pick(n),
            "filed_on": d,
            "amount": rng.gamma(2, 1e5, n),
            "dishonest_listed_on": _later(rng, d, 0.3, 300),
            "dishonest_removed_on": pd.NaT,
            "closed_on": _later(rng, d, 0.6, 900),
            "reported_on": d,
        }
    )
    years = np.repeat(np.arange(2019, 2026), firms)
    t["tax_grades"] = pd.DataFrame(
        {
            "uscc": np.tile(codes, 7),
            "year": years,
            "grade": rng.choice(list("ABMCD"), len(years)),
            "published_on": pd.to_datetime([f"{y + 1}-04-20" for y in range(2019, 2026)])
            .repeat(firms)
            .to_numpy(),
            "reported_on": pd.to_datetime([f"{y + 1}-04-25" for y in range(2019, 2026)])
            .repeat(firms)
            .to_numpy(),
        }
    )
    n = int(0.15 * firms)
    d = _dates(rng, n)
    t["arrears"] = pd.DataFrame(
        {
            "uscc": pick(n),
            "kind": rng.choice(["social_insurance", "tax", "water"], n),
            "started_on": d,
            "amount": rng.gamma(2, 2000, n),
            "months_overdue": rng.integers(1, 12, n),
            "determined_on": d,
            "cleared_on": _later(rng, d, 0.7, 400),
            "reported_on": d,
        }
    )
    n = int(0.6 * firms)
    d = _dates(rng, n)
    t["inspections"] = pd.DataFrame(
        {
            "uscc": pick(n),
            "sector": rng.choice(["food_safety", "fire_safety", "environment"], n),
            "inspected_on": d,
            "result": rng.choice(["pass", "minor_issues", "fail"], n),
            "violations": rng.integers(0, 4, n),
            "rectification_due": d + np.timedelta64(30, "D"),
            "rectified_on": _later(rng, d, 0.8, 60),
            "reported_on": d,
        }
    )
    n = int(0.1 * firms)
    d = _dates(rng, n)
    t["lists"] = pd.DataFrame(
        {
            "uscc": pick(n),
            "list_type": rng.choice(["red", "black", "abnormal_operation", "serious_dishonesty"], n),
            "start_date": d,
            "end_date": _later(rng, d, 0.6, 700),
            "reported_on": d,
        }
    )
    n = int(0.3 * firms)
    d = _dates(rng, n)
    t["commitments"] = pd.DataFrame(
        {
            "uscc": pick(n),
            "made_on": d,
            "due_on": d + np.timedelta64(180, "D"),
            "status": rng.choice(["kept", "broken", "pending"], n),
            "assessed_on": d + np.timedelta64(190, "D"),
            "reported_on": d,
        }
    )
    # loan applicants: one firm per two loans, 84 months of invoices and 6 annual reports each
    applicants = codes[rng.choice(firms, size=max(loans // 2, 1), replace=False)]
    months = pd.date_range("2019-01-01", periods=84, freq="MS").to_numpy()
    na = len(applicants)
    t["invoices_monthly"] = pd.DataFrame(
        {
            "uscc": np.repeat(applicants, 84),
            "month": np.tile(months, na),
            "sales": rng.gamma(2, 5e4, 84 * na),
            "purchases": rng.gamma(2, 3e4, 84 * na),
            "n_sales_invoices": rng.integers(0, 50, 84 * na),
            "voided_share": rng.uniform(0, 0.1, 84 * na),
            "red_letter_share": rng.uniform(0, 0.05, 84 * na),
        }
    )
    t["annual_reports"] = pd.DataFrame(
        {
            "uscc": np.repeat(applicants, 6),
            "year": np.tile(np.arange(2019, 2025), na),
            "filed_on": np.tile(pd.to_datetime([f"{y + 1}-05-31" for y in range(2019, 2025)]).to_numpy(), na),
            "total_assets": rng.gamma(2, 1e6, 6 * na),
            "total_liabilities": rng.gamma(2, 5e5, 6 * na),
            "current_assets": rng.gamma(2, 3e5, 6 * na),
            "current_liabilities": rng.gamma(2, 2e5, 6 * na),
            "net_profit": rng.normal(5e4, 1e5, 6 * na),
        }
    )
    t["loans"] = pd.DataFrame(
        {
            "loan_id": [f"L{i:08d}" for i in range(loans)],
            "uscc": applicants[rng.integers(0, na, loans)],
            "origination_date": _dates(rng, loans, lo=730, span=4 * 365),
            "amount": rng.uniform(1e5, 1e6, loans),
            "term_months": rng.choice([6, 12, 24], loans),
            "collateral": rng.choice(["none", "guarantee"], loans),
            "default_12m": rng.integers(0, 2, loans),
            "true_pd": rng.uniform(0, 0.2, loans),
        }
    )
    for name, df in t.items():  # the declared columns only, in order, missing as None
        cols = [c for c in TABLES[name].column_names if c in df.columns]
        t[name] = df[cols]
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=1_000_000)
    ap.add_argument("--loans", type=int, default=200_000)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    t = make_tables(args.firms, args.loans)
    rows = sum(len(v) for v in t.values())
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tables: {rows:,} rows in {time.perf_counter() - t0:.1f} s, peak RSS {rss0:,.0f} MB")
    t0 = time.perf_counter()
    f = build_features(t, "2025-12-31")
    print(
        f"build_features: {len(f):,} firms x {f.shape[1]} columns in {time.perf_counter() - t0:.1f} s, "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )
    del f
    t0 = time.perf_counter()
    g = build_loan_features(t, t["loans"])
    print(
        f"build_loan_features: {len(g):,} loans x {g.shape[1]} columns in {time.perf_counter() - t0:.1f} s, "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )


if __name__ == "__main__":
    main()
