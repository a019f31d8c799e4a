"""Fixtures shared by several test modules (a module's own fixture of the same name takes precedence)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated 1,500-firm district (seed 11), once per module that asks for it."""
    from creditmodel.data.synthetic import generate_district

    d = tmp_path_factory.mktemp("district")
    generate_district(firms=1500, seed=11, out=d, progress=False)
    return d


def pytest_collection_modifyitems(config, items):
    """Test files longest first (tests/durations.json, measured; scripts/test_durations.py refreshes it), each
    file's tests in their own order. ``make test`` gives xdist ``--no-loadscope-reorder`` so that it hands out the
    files in this order: by default it orders them by their number of tests, which left the one-test notebook file
    (two minutes) to the end, one worker running it alone."""
    import json
    from pathlib import Path

    path = Path(__file__).with_name("durations.json")
    seconds = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    items.sort(key=lambda item: -seconds.get(item.path.name, 0.0))   # stable: a file's tests keep their order
