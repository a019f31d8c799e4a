"""Data layer: the district's tables, unified social credit codes, schemas, loaders and quality."""
from __future__ import annotations

import logging
from pathlib import Path

from creditmodel.errors import InputError

log = logging.getLogger(__name__)


def __getattr__(name: str):
    """``from creditmodel.data import load_district`` (the loader lives in :mod:`creditmodel.data.io`, imported
    when first asked for: this package's light helpers do not pull in pandera and pyarrow)."""
    if name == "load_district":
        from creditmodel.data.io import load_district

        return load_district
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def has_district(folder: str | Path) -> bool:
    """True when ``folder`` holds district tables (``enterprises.parquet`` or ``.csv``)."""
    f = Path(folder)
    return any((f / f"enterprises{ext}").exists() for ext in (".parquet", ".csv"))


def ensure_district(folder: str | Path, firms: int = 2000, seed: int = 42) -> Path:
    """Generate a synthetic district into ``folder`` unless it already holds one; returns the folder.

    Notebooks call this so that they run top to bottom with their default parameters. Only a new or empty
    folder is filled: a folder that holds other files but no ``enterprises`` table is refused with
    :class:`~creditmodel.errors.InputError` (a wrong ``data_dir`` must not be analysed as synthetic data, nor
    receive synthetic tables beside real files). A generated district is logged as a warning and carries
    ``manifest.json`` and ``injected.json``.
    """
    f = Path(folder)
    if has_district(f):
        return f
    if f.exists() and not f.is_dir():
        raise InputError("is a file, not a district folder", file=f)
    present = sorted(p.name for p in f.iterdir() if not p.name.startswith(".")) if f.is_dir() else []
    if present:
        shown = ", ".join(present[:5]) + (f" and {len(present) - 5} more" if len(present) > 5 else "")
        raise InputError(f"holds {len(present)} entries ({shown}) but no enterprises table (enterprises.parquet "
                         "or enterprises.csv), so it is not a district; no synthetic district is written into it. "
                         "Point data_dir at a district folder, or at a new or empty folder to generate one",
                         file=f)
    from creditmodel.data.synthetic import generate_district

    res = generate_district(firms=firms, seed=seed, out=f, progress=False)
    log.warning("no district in %s: generated a SYNTHETIC district there\n%s", f, res.summary())
    return f
