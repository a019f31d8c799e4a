"""Data layer: the district's tables, unified social credit codes, schemas, loaders and quality."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def has_district(folder: str | Path) -> bool:
    """True when ``folder`` holds district tables (``enterprises.parquet`` or ``.csv``)."""
    f = Path(folder)
    return any((f / f"enterprises{ext}").exists() for ext in (".parquet", ".csv"))


def ensure_district(folder: str | Path, firms: int = 2000, seed: int = 42) -> Path:
    """Generate a synthetic district into ``folder`` unless it already holds one; returns the folder.

    Notebooks call this so that they run top to bottom with their default parameters.
    """
    f = Path(folder)
    if not has_district(f):
        from creditmodel.data.synthetic import generate_district

        log.info("no district in %s: generating %d firms (seed %d)", f, firms, seed)
        generate_district(firms=firms, seed=seed, out=f, progress=False)
    return f
