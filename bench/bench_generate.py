"""Time and peak memory of ``creditmodel generate`` (not a test).

Each size runs the real CLI (``creditmodel -q generate``) in its own subprocess; wall time is measured around
it, the peak resident set size is the child's own ``ru_maxrss`` (kB on Linux), checked against
``getrusage(RUSAGE_CHILDREN)`` in this process. Results go to ``bench/results/generate.md``.

Run: .venv/bin/python bench/bench_generate.py [--firms 20000 1000000] [--seed 42] [--out /tmp/cm_bench]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _measure(firms: int, seed: int, out: Path) -> dict:
    """Run one generation through the CLI in a fresh interpreter: wall time, peak RSS, output size."""
    code = ("import resource, sys\n"
            "from creditmodel.cli import cli\n"
            "try:\n"
            "    cli.main(sys.argv[1:], standalone_mode=False)\n"
            "finally:\n"
            "    print('RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")
    if out.exists():
        shutil.rmtree(out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code, "-q", "generate", "--firms", str(firms), "--seed", str(seed),
                        "--out", str(out)], capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"generate --firms {firms} failed:\n{p.stderr[-3000:]}")
    rss_kb = int(next(line.split()[1] for line in p.stderr.splitlines() if line.startswith("RSS_KB")))
    # cross-check: the children's running maximum seen by this process
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert after >= rss_kb or after == before, (after, rss_kb)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    size = sum(f.stat().st_size for f in out.iterdir())
    return {"firms": firms, "wall_s": wall, "peak_rss_mb": rss_kb / 1024, "rows": sum(manifest["row_counts"].values()),
            "loans": manifest["row_counts"]["loans"], "invoice_rows": manifest["row_counts"]["invoices_monthly"],
            "out_mb": size / 2**20, "default_rate": manifest["loans"]["default_rate_12m"]}


def _machine() -> str:
    mem = ""
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    load = ", load average at start %.1f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    return f"{platform.machine()}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}{load}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--firms", type=int, nargs="*", default=[20_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=Path("/tmp/creditmodel_bench_generate"))
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "generate.md")
    ap.add_argument("--keep", action="store_true", help="Keep the generated folders.")
    args = ap.parse_args()
    machine = _machine()
    rows = []
    for firms in args.firms:
        out = args.out / f"firms_{firms}"
        r = _measure(firms, args.seed, out)
        print(f"{firms:>9,} firms: {r['wall_s']:7.1f} s, peak RSS {r['peak_rss_mb']:8.0f} MB, "
              f"{r['rows']:,} rows, {r['out_mb']:.0f} MB on disk", flush=True)
        rows.append(r)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# `creditmodel generate`: time and peak memory",
        "",
        f"Measured {dt.date.today().isoformat()} with `bench/bench_generate.py` (seed {args.seed}); machine: {machine}.",
        "Each size runs the CLI in its own subprocess; peak RSS is that process's `ru_maxrss`.",
        "The machine is shared with other jobs, so wall times are an upper bound.",
        "",
        "| firms | wall time (s) | peak RSS (MB) | rows, all tables | loans | invoice rows | files (MB) | 12-month default rate |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['firms']:,} | {r['wall_s']:.1f} | {r['peak_rss_mb']:,.0f} | {r['rows']:,} | {r['loans']:,} | "
                     f"{r['invoice_rows']:,} | {r['out_mb']:,.0f} | {r['default_rate']:.2%} |")
    args.results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"results written to {args.results}")


if __name__ == "__main__":
    main()
