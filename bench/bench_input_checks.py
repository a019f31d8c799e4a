"""Cost of the per-row input checks on the scoring and loading paths (not a test).

* ``InputSpec.check`` (what every ``score`` call runs first) on ``--rows`` rows of 20 numeric catalogue features,
  without domains and with the catalogue's domains (impossible values: a negative count, a share above 1, a flag
  other than 0 or 1); every value is possible, so this is the price paid on clean data;
* the district schema's date reading (``schema._coerce_date``) on ``--rows`` ISO text cells and on the same dates
  as an Arrow ``date32`` column (a Parquet file);
* the district schema's money reading (``schema._coerce_numeric`` of an amount in yuan) on ``--rows`` text cells:
  plain numbers, and the same amounts written with a Chinese unit (``123456元``, ``12.34万``).

Each figure is the best of ``--repeat`` calls in one process (the machine is shared: treat it as +-20 %).

    .venv/bin/python bench/bench_input_checks.py [--rows 1000000] [--repeat 7]

writes ``bench/results/input_checks.md``.
"""
from __future__ import annotations

import argparse
import platform
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "input_checks.md"


def best_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    from creditmodel.data.schema import _coerce_date, _coerce_numeric
    from creditmodel.data.tables import table
    from creditmodel.features import catalogue
    from creditmodel.features.catalogue import feature_domains
    from creditmodel.scoring.model import InputSpec

    n, rng = args.rows, np.random.default_rng(0)
    cat = catalogue()
    numeric = [c for c, k in zip(cat["code"], cat["kind"]) if k in ("count", "numeric", "flag")][:20]
    domains = feature_domains(cat, numeric)
    frame = pd.DataFrame({c: rng.uniform(0, 1, n) for c in numeric})
    for c, d in domains.items():
        if d.whole:
            frame[c] = rng.integers(0, 2, n).astype(float)
    rows = []
    for label, bounds in (("without domains", None), ("with the catalogue's domains", domains)):
        spec = InputSpec(numeric, bounds=bounds)
        _, errors = spec.check(frame)
        assert not any(e is not None for e in errors), "the benchmark frame must be all possible values"
        rows.append((f"`InputSpec.check`, {len(numeric)} features, {label}", best_ms(lambda: spec.check(frame),
                                                                                      args.repeat)))
    days = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    text = pd.Series(days.strftime("%Y-%m-%d"), dtype="string")
    date32 = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(days.values.astype("datetime64[D]"))))
    rows.append(("district date column, ISO text cells", best_ms(lambda: _coerce_date(text), args.repeat)))
    rows.append(("district date column, Parquet date32", best_ms(lambda: _coerce_date(date32), args.repeat)))
    amount = next(c for c in table("arrears").columns if c.name == "amount")
    yuan = rng.integers(1, 10**6, n)
    for label, cells in (("plain numbers", [str(v) for v in yuan]), ("written `123456元`", [f"{v}元" for v in yuan]),
                         ("written `12.34万`", [f"{v / 100:.2f}万" for v in yuan])):
        col = pd.Series(cells, dtype="str")
        assert not _coerce_numeric(col, amount)[2].any(), "every cell must read"
        rows.append((f"district amount column (yuan), text cells, {label}",
                     best_ms(lambda col=col: _coerce_numeric(col, amount), args.repeat)))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    lines = [f"# Input checks: cost per {n:,} rows", "",
             f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC at `{commit}` (plus working-tree edits, if any), "
             f"Python {platform.python_version()}, best of {args.repeat} calls in one process "
             f"(`bench/bench_input_checks.py`).", "", "| what | ms |", "|---|---:|"]
    lines += [f"| {what} | {ms:.1f} |" for what, ms in rows]
    flags = [c for c, d in domains.items() if d.whole]
    lines += ["", f"Features: {', '.join(f'`{c}`' for c in numeric)} ({len(domains)} with a domain; flags, checked "
              f"to be 0 or 1: {', '.join(f'`{c}`' for c in flags) or 'none'})."]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
