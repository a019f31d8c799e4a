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
