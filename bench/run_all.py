#!/usr/bin/env python
"""Run every benchmark in ``bench/`` one after the other (``make bench``).

    .venv/bin/python bench/run_all.py                 # all of them (about two hours on 2 cores)
    .venv/bin/python bench/run_all.py generate models # only these (names as in SCRIPTS)

One benchmark at a time, each in its own process, so their timings do not disturb each other. Each
script's output goes to ``bench/_work/<name>.log``; the committed results are written by the scripts
themselves under ``bench/results/`` and summarised by hand in ``bench/RESULTS.md``. A failing script
is reported and the others still run; the exit code is non-zero when any failed.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work"

#: name -> (script, one argument list per invocation); the order is the order of ``make bench``
SCRIPTS: dict[str, tuple[str, list[list[str]]]] = {
    "generate": ("bench_generate.py", [[]]),
    "schema": ("bench_schema.py", [[]]),
    "features": ("features_speed.py", [[]]),
    "evaluation": ("bench_evaluation.py", [[]]),
    "validation": ("bench_validation.py", [[]]),
    "pricing": ("bench_pricing.py", [[]]),
    "input_checks": ("bench_input_checks.py", [[]]),
    "district_story": ("district_story.py", [[]]),
    "scorecard": ("bench_scorecard.py", [["prepare"], ["all"]]),
    "models": ("bench_models.py", [[]]),
    "fit_jobs": ("fit_jobs.py", [[]]),
    "repeated_splits": ("repeated_splits.py", [["run", "--refit"]]),
    "delivery": ("bench_delivery.py", [["all"]]),
}


def main(argv: list[str]) -> int:
    names = argv or list(SCRIPTS)
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        print(f"run_all.py: unknown benchmark(s) {unknown}; choose from {list(SCRIPTS)}", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        script, runs = SCRIPTS[name]
        log = WORK / f"{name}.log"
        t0 = time.perf_counter()
        rc = 0
        with log.open("w") as fh:
            for args in runs:
                rc = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT,
                                    stdout=fh, stderr=subprocess.STDOUT).returncode
                if rc:
                    break
        status = "ok" if rc == 0 else f"FAILED ({rc})"
        print(f"{name:15s} {status:12s} {time.perf_counter() - t0:8.0f} s   log: {log.relative_to(ROOT)}", flush=True)
        if rc:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
