"""The champion and challenger on a real public data set (``data.real``), for notebook 06.

:func:`train_real_set` trains the WoE scorecard and the LightGBM challenger on one of the real sets with the same
seeded split (train, validation and test rows as ``creditmodel train`` draws them), leaving out the loader's
reference columns (dates, the outcome's companions), as ``creditmodel real`` writes the table. The district's
notebook 03 measures against a generator's true PD; a real set has none, so the calibration is read against the
observed default rate of the held-out test rows.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditmodel import tracking
from creditmodel.data import real
from creditmodel.errors import InputError
from creditmodel.scoring.train import TrainResult, train_frame

log = logging.getLogger(__name__)

KINDS = ("scorecard", "lightgbm")


@dataclass
class RealSetModels:
    """Both models of one real set, the data set and the split they share."""

    dataset: real.RealDataset
    results: dict[str, TrainResult] = field(default_factory=dict)
    data_sha256: str = ""    # one SHA-256 over the files the loader read (tracking.data_sha256)

    @property
    def split(self) -> np.ndarray:
        """``train``/``valid``/``test`` per row of ``dataset.frame`` (the same for both models)."""
        return next(iter(self.results.values())).split

    @property
    def test(self) -> pd.DataFrame:
        """The held-out test rows of the data set (never seen by either fit)."""
        return self.dataset.frame.loc[self.split == "test"].reset_index(drop=True)

    def describe(self) -> pd.DataFrame:
        """Rows and defaults per part of the split."""
        y = self.dataset.y.to_numpy()
        return pd.DataFrame([{"part": p, "rows": int((self.split == p).sum()), "defaults": int(y[self.split == p].sum()),
                              "default_rate": float(y[self.split == p].mean())} for p in ("train", "valid", "test")
                             if (self.split == p).any()]).set_index("part")

    def comparison(self, keys: tuple[str, ...] = ("test_auc", "test_auc_ci_low", "test_auc_ci_high", "test_gini",
                                                  "test_ks", "test_brier", "n_selected", "calibration_method")
                   ) -> pd.DataFrame:
        """One column per model, one row per metric of ``keys``."""
        return pd.DataFrame({k: {m: r.metrics.get(m) for m in keys} for k, r in self.results.items()})


def train_real_set(name: str, seed: int = 42, n_jobs: int = 1, data_dir: str | Path | None = None,
                   kinds: tuple[str, ...] = KINDS, **train_kw: Any) -> RealSetModels:
    """Load the real set ``name`` (``data.real.DATASETS``) and train ``kinds`` on one seeded split.

    The first model draws the split; the others reuse it (by borrower where the set has a ``group_col``: SBA). The
    loader's ``info_cols`` (reference columns) are left out, its text columns are categorical. A set without a
    target (``cumcm_unrated``) or a missing shared data folder is bad input naming the set. ``train_kw`` goes to
    :func:`~creditmodel.scoring.train.train_frame`.
    """
    if name not in real.DATASETS:
        raise InputError(f"unknown real data set {name!r}; known: {', '.join(real.DATASETS)}", parameter="real_set")
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise InputError(f"model kind(s) {bad or list(kinds)} unknown; use {', '.join(KINDS)}", parameter="kinds")
    ds = real.load(name, data_dir=data_dir)
    y = pd.to_numeric(ds.y, errors="coerce")
    if y.isna().all():
        raise InputError(f"{name} has no outcome ({ds.target} is empty): nothing to train on", parameter="real_set")
    base = real._base(data_dir)
    out = RealSetModels(ds, data_sha256=tracking.data_sha256([base / f for f in real.DATASETS[name].files]))
    split = None
    for kind in kinds:
        log.info("%s: training the %s on %s rows", name, kind, f"{len(ds.frame):,}")
        res = train_frame(ds.frame, ds.target, id_col=ds.id_col, kind=kind, seed=seed, name=f"{name}_{kind}",
                          exclude=ds.reference_columns, categorical=list(ds.categorical),
                          split=split, file=ds.source, n_jobs=n_jobs, group_col=ds.group_col, **train_kw)
        split = res.split
        out.results[kind] = res
    return out
