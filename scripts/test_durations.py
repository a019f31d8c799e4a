"""Write tests/durations.json, each test file's measured seconds, from a pytest JUnit XML report.

    .venv/bin/python -m pytest -n 2 --dist loadfile --junitxml=/tmp/junit.xml
    .venv/bin/python scripts/test_durations.py /tmp/junit.xml

tests/conftest.py runs the files longest first, so that ``make test``'s two workers do not end with one of them
alone on a long notebook file that the scheduler had left to the last (the durations only order the files).
"""
from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "durations.json"


def main(report: str) -> None:
    seconds: dict[str, float] = defaultdict(float)
    for case in ET.parse(report).iter("testcase"):
        parts = (case.get("classname") or "").split(".")   # tests.test_x or tests.test_x.TestClass
        if len(parts) >= 2 and parts[0] == "tests":
            seconds[f"{parts[1]}.py"] += float(case.get("time") or 0)   # setup + call + teardown
    ordered = dict(sorted(((k, round(v, 1)) for k, v in seconds.items()), key=lambda kv: (-kv[1], kv[0])))
    OUT.write_text(json.dumps(ordered, indent=1) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(ordered)} files, {sum(ordered.values()):.0f} s in all")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/test_durations.py JUNIT_XML")
    main(sys.argv[1])
