"""The README's Python example for the think tank's own notebooks runs as written (on a generated district)."""
from __future__ import annotations

import re

import pandas as pd

from creditmodel.reference import PROJECT_ROOT


def _example() -> str:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    part = text.split("In a notebook of your own", 1)[1]
    return re.search(r"```python\n(.*?)```", part, re.S).group(1)


def test_the_readme_python_example_runs_and_each_call_returns_what_it_says(generated):
    code = _example().replace('"out/demo/district"', repr(str(generated)))
    assert str(generated) in code                       # the example reads the demo's district folder
    lines = code.strip().splitlines()
    scope: dict = {}
    exec("\n".join(lines[:-4]), scope)                  # imports, district, configuration, the evaluation
    frame = scope["frame"]
    assert len(frame) and (pd.to_datetime(frame["as_of_date"]) == "2024-12-31").all()
    targets = eval(lines[-4].split("#")[0], scope)
    assert {"excellent_or_good_share", "serious_dishonesty_share"} <= set(targets["indicator"])
    by_industry = eval(lines[-3].split("#")[0], scope)
    assert "industry" in by_industry.columns and by_industry["enterprises"].sum() <= len(frame)
    lists = eval(lines[-2].split("#")[0], scope)
    assert "street" in lists.columns and "dishonest_debtor" in set(lists["list_type"])
    text = eval(lines[-1], scope)
    assert "public credit grade C" in text
