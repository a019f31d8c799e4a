"""Speed of the schema checks (not a test): is pandera fast enough for a 1,000,000-firm district?

Builds a ``penalties`` table of ``--rows`` rows (typed as the generator writes it, 50k distinct firms,
about 0.3 % faulty cells), writes it as Parquet and measures, each in a fresh run of the same process:

* ``read``: ``io.read_table(as_text=True)``;
* ``coerce``: ``schema.coerce_table`` (type reading, USCC normalisation);
* ``pandera``: the lazy pandera validation of the typed frame (``schema._pandera_failures``: mandatory
  fields, allowed values, ranges, finite numbers, unique key; the USCC check is part of ``coerce``);
* ``hand``: the same rules written by hand with pandas/numpy (notna, isin, ranges, finite, duplicated keys),
  for comparison;
* ``uscc``: ``schema.uscc_status`` alone (GB 32100 checks once per distinct code), part of ``coerce``;
* ``check_table``: coercion + pandera + the quarantine table, i.e. what ``load_table`` does after reading;
* ``load_table``: the whole load from the Parquet file; and peak RSS of the process.

With ``--district DIR`` it also times the whole data-quality pipeline on a generated district (``load_district``,
``quality.measure``, writing the report with figures) and reports the peak RSS.

Run: .venv/bin/python bench/bench_schema.py [--rows 2000000] [--district DIR] [--skip-table]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from creditmodel.data import io, schema, uscc
from creditmodel.data.tables import table


def make_penalties(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    codes = np.array(uscc.generate("330205", 50_000, rng), dtype=object)
    u = codes[rng.integers(0, len(codes), n)]
    bad = rng.random(n) < 0.001
    u[bad] = np.array([c[:17] + ("0" if c[17] != "0" else "1") for c in u[bad]], dtype=object)
    dec = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    sev = rng.choice(np.array(["minor", "general", "serious"], dtype=object), n, p=[0.5, 0.35, 0.15])
    sev[rng.random(n) < 0.001] = None
    amount = rng.exponential(1e4, n)
    amount[rng.random(n) < 0.0005] = -1.0
    rid = np.char.add("PEN", np.char.zfill(np.arange(n).astype(str), 10)).astype(object)
    rid[1:200:2] = rid[0:199:2]  # 100 duplicated keys
    dept = rng.choice(np.array(["江北区市场监督管理局", "江北区消防救援大队", "国家税务总局宁波市江北区税务局"], dtype=object), n)
    return pd.DataFrame({
        "record_id": rid, "uscc": u, "decision_date": dec, "severity": sev,
        "category": rng.choice(np.array(["tax", "market", "fire_safety"], dtype=object), n), "department": dept,
        "amount": amount, "publicity_min_end": dec + pd.Timedelta(days=90), "publicity_max_end": dec + pd.Timedelta(days=365),
        "fine_paid_on": pd.Series(pd.NaT, index=range(n)).astype("datetime64[us]"),
        "repaired_on": pd.Series(pd.NaT, index=range(n)).astype("datetime64[us]"),
        "reported_on": dec + pd.to_timedelta(rng.integers(0, 8, n), unit="D"),
    }).astype({c: "str" for c in ("record_id", "uscc", "severity", "category", "department")})


def hand_rules(typed: pd.DataFrame) -> int:
    """The pandera rules of ``penalties`` (USCC aside) written directly; returns the number of failing cells."""
    t = table("penalties")
    n_fail = 0
    for c in t.columns:
        s = typed[c.name]
        bad = np.zeros(len(s), dtype=bool)
        if c.required:
            bad |= s.isna().to_numpy()
        if c.allowed is not None:
            bad |= (~s.isin(c.allowed) & s.notna()).to_numpy()
        if c.dtype == "float":
            v = s.to_numpy(dtype="float64")
            if c.min is not None:
                bad |= v < c.min
            bad |= np.isinf(v)
        n_fail += int(bad.sum())
    n_fail += int(typed.duplicated(list(t.key), keep=False).sum())
    return n_fail


def timed(label: str, fn, n: int) -> object:
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    print(f"{label:<12} {dt:7.2f} s  ({n / dt:>12,.0f} rows/s)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--district", type=Path, default=None, help="also time the quality pipeline on this folder")
    ap.add_argument("--skip-table", action="store_true", help="only the district part")
    args = ap.parse_args()
    if not args.skip_table:
        bench_table(args.rows)
    if args.district is not None:
        bench_district(args.district)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB; load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def bench_district(d: Path) -> None:
    from creditmodel.data import quality

    t = time.perf_counter()
    dist = io.load_district(d)
    t1 = time.perf_counter()
    rows = int(dist.counts()["rows"].sum())
    print(f"load_district {d}: {rows:,} rows in {t1 - t:.1f} s ({rows / (t1 - t):,.0f} rows/s), "
          f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    rep = quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, d)
    t2 = time.perf_counter()
    print(f"quality.measure: {t2 - t1:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        quality.write_report(rep, Path(tmp))
    t3 = time.perf_counter()
    print(f"write_report (JSON, CSV, quarantine, 8 figures): {t3 - t2:.1f} s; total {t3 - t:.1f} s")
    print(rep.summary())
    if (d / "injected.json").is_file():
        rec = quality.recovery(rep, json.loads((d / "injected.json").read_text(encoding="utf-8")))
        print(f"injected faults: {int(rec['injected'].sum()):,} in {len(rec)} entries; measured equal in "
              f"{int(rec['match'].sum())} entries")


def bench_table(n: int) -> None:
    df = make_penalties(n)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "penalties.parquet"
        df.to_parquet(p, index=False)
        del df
        raw = timed("read", lambda: io.read_table(p, as_text=True), n)
        co = timed("coerce", lambda: schema.coerce_table(raw, "penalties"), n)
        pf = timed("pandera", lambda: schema._pandera_failures(co.typed, "penalties"), n)
        hand = timed("hand", lambda: hand_rules(co.typed), n)
        timed("uscc", lambda: schema.uscc_status(co.typed["uscc"]), n)
        print(f"  failing cells: pandera {len(pf):,}, by hand {hand:,}")
        res = timed("check_table", lambda: schema.check_table(raw, "penalties", file=p), n)
        print(f"  quarantine entries {len(res.quarantine):,}, rows quarantined {int(res.bad.sum()):,}")
        del raw, co, res
        timed("load_table", lambda: io.load_table(p), n)


if __name__ == "__main__":
    main()
