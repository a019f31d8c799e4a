#!/usr/bin/env python
"""Delivery benchmarks (issue 7): the demo's wall time, and bank-deliverable scoring at 10 million rows.

    .venv/bin/python bench/bench_delivery.py demo   [--firms 20000]      # `creditmodel demo` wall time, peak RSS
    .venv/bin/python bench/bench_delivery.py score  [--rows 10000000]   # in-process (chunked) and Spark scoring
    .venv/bin/python bench/bench_delivery.py all

Each measurement runs the real CLI in a subprocess; memory is reported twice: the peak of the whole
process tree's resident memory (sampled every 0.2 s with psutil) and the largest single process
(``RUSAGE_CHILDREN`` of a wrapper, exact). ``score`` needs a store with a registered
champion: it runs the demo first if ``bench/_work/demo`` has none. The 10M-row input is the demo's
applicant portfolio repeated, written in row groups of 500k rows. Results: ``bench/results/delivery.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work"
RESULTS = ROOT / "bench" / "results"
CLI = [sys.executable, "-m", "creditmodel.cli"]


def run(cmd: list[str], env: dict | None = None) -> dict:
    """Run a command; return wall seconds, peak RSS (MB) of the whole process tree and of its largest process.

    The tree's resident memory (the command, its Python workers and, for Spark, the JVM) is sampled every
    0.2 s with psutil, so short spikes between samples can be missed; the largest single process is also
    taken from ``ru_maxrss`` of a fresh child-reaping wrapper, which misses nothing.
    """
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "_wrap", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})
    peak_tree = 0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [ps, *ps.children(recursive=True)]
            rss = 0
            for p in tree:
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
            peak_tree = max(peak_tree, rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(out[-3000:] + err[-3000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    body, _, last = out.rstrip("\n").rpartition("\n")
    largest_kb = json.loads(last)["ru_maxrss_children_kb"]
    return {"wall_s": wall, "peak_tree_mb": peak_tree / 2**20, "peak_rss_mb": largest_kb / 1024, "stdout": body}


def _wrap(cmd: list[str]) -> int:
    """Run ``cmd`` as this process's only child and print its ``RUSAGE_CHILDREN`` peak RSS as the last line."""
    rc = subprocess.run(cmd).returncode
    print(json.dumps({"ru_maxrss_children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}), flush=True)
    return rc


def bench_demo(firms: int) -> dict:
    out = WORK / f"demo_{firms}"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    r = run([*CLI, "-q", "demo", "--firms", str(firms), "--out", str(out)])
    steps = [line for line in r["stdout"].splitlines() if "FINISHED" in line or " ok " in line]
    return {"firms": firms, "wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"], "peak_tree_mb": r["peak_tree_mb"],
            "steps": steps, "out": str(out)}


def ensure_store() -> Path:
    for store in sorted(WORK.glob("demo_*")) + [WORK / "demo"]:  # reuse the timed demo's store
        if (store / "deliverable" / "portfolio_features.parquet").exists():
            return store
    store = WORK / "demo"
    if not (store / "deliverable" / "portfolio_features.parquet").exists():
        run([*CLI, "-q", "demo", "--firms", "20000", "--out", str(store)])
    return store


def big_input(store: Path, rows: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = WORK / f"portfolio_{rows}.parquet"
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == rows:
        return path
    base = pq.read_table(store / "deliverable" / "portfolio_features.parquet")
    group = 500_000
    reps = -(-group // base.num_rows)
    block = pa.concat_tables([base] * reps).slice(0, group)
    with pq.ParquetWriter(path, block.schema) as w:
        done = 0
        while done < rows:
            n = min(group, rows - done)
            w.write_table(block.slice(0, n))
            done += n
    return path


def bench_score(rows: int, spark_rows: int) -> list[dict]:
    store = ensure_store()
    res = []
    for engine, n in (("pandas", rows), ("spark", spark_rows)):
        if n <= 0:
            continue
        data = big_input(store, n)
        out = WORK / f"scored_{engine}_{n}.parquet"
        cmd = [*CLI, "-q", "--store", str(store), "score", "--model", "models:/district_pd@champion", "--data",
               str(data), "--out", str(out), "--engine", engine]
        r = run(cmd, env={"CREDITMODEL_SPARK_DRIVER_MEMORY": "4g"})
        res.append({"engine": engine, "rows": n, "wall_s": r["wall_s"], "rows_per_s": n / r["wall_s"],
                    "peak_rss_mb": r["peak_rss_mb"], "peak_tree_mb": r["peak_tree_mb"], "what": "full bank deliverable (score, grade, PD, reasons, "
                    "pricing)" if engine == "pandas" else "full bank deliverable, scored by the model's own score_frame in a "
                    "pandas UDF, local[2]"})
        print(json.dumps(res[-1]), flush=True)
    return res


def render(demo: dict | None, score: list[dict] | None) -> str:
    load = os.getloadavg()
    lines = ["# Delivery benchmarks", "",
             f"`bench/bench_delivery.py`, {time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; load average at the end {load[0]:.1f}. Single runs: +-20 %.", ""]
    if demo:
        lines += ["## `creditmodel demo`", "", "| firms | wall time | peak RSS, whole process tree | largest single process |", "|---|---|---|---|",
                  f"| {demo['firms']:,} | {demo['wall_s']:.0f} s ({demo['wall_s'] / 60:.1f} min) | "
                  f"{demo.get('peak_tree_mb', 0):,.0f} MB | {demo['peak_rss_mb']:,.0f} MB |", "",
                  "Steps (from the demo's own summary):", "", "```", *demo["steps"], "```", ""]
    if score:
        lines += ["## Scoring at scale", "", "| engine | rows | wall time | rows/s | peak RSS, process tree | largest process | output |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['engine']} | {r['rows']:,} | {r['wall_s']:.0f} s | {r['rows_per_s']:,.0f} | "
                  f"{r.get('peak_tree_mb', 0):,.0f} MB | {r['peak_rss_mb']:,.0f} MB | {r['what']} |" for r in score]
        lines += ["", "Wall time includes interpreter start, model loading and (Spark) session start-up; in-process "
                  "scoring streams 500k-row Parquet row groups, so its memory does not grow with the input.", ""]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_wrap":
        raise SystemExit(_wrap(sys.argv[2:]))
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["demo", "score", "all"])
    ap.add_argument("--firms", type=int, default=20_000)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--spark-rows", type=int, default=10_000_000)
    a = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    state = WORK / "delivery.json"
    prev = json.loads(state.read_text()) if state.exists() else {}
    if a.what in ("demo", "all"):
        prev["demo"] = bench_demo(a.firms)
        print(json.dumps({k: v for k, v in prev["demo"].items() if k != "steps"}), flush=True)
    if a.what in ("score", "all"):
        new = bench_score(a.rows, a.spark_rows)
        engines = {r["engine"] for r in new}
        prev["score"] = [r for r in prev.get("score", []) if r["engine"] not in engines] + new
    state.write_text(json.dumps(prev, indent=1))
    (RESULTS / "delivery.md").write_text(render(prev.get("demo"), prev.get("score")))
    print(f"wrote {RESULTS / 'delivery.md'}")


if __name__ == "__main__":
    main()
