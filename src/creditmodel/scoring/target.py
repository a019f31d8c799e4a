"""The binary default target every PD estimator fits on: 0 = good, 1 = bad (default), or bool.

Text labels ("bad"/"good", "yes"/"no") are refused rather than mapped: which one is the default cannot be
inferred (sorted, "good" would come second and be taken for the default, silently reversing the model).
Map them first, e.g. with :func:`creditmodel.validation.report.parse_target` (``positive=``), as
``creditmodel train --positive`` does.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from creditmodel.errors import InputError


def binary_target(y, n: int, column: str = "target") -> np.ndarray:
    """``y`` as int64 0/1 after checking it: ``n`` values, none missing, only 0/1 (or bool), both classes.

    Raises :class:`~creditmodel.errors.InputError` naming ``column`` (and the 1-based row where one is at
    fault)."""
    s = pd.Series(y.to_numpy() if isinstance(y, (pd.Series, pd.Index)) else np.asarray(y).ravel())
    if len(s) != n:
        raise InputError(f"target has {len(s)} values for {n} rows", column=column)
    miss = s.isna().to_numpy()
    if miss.any():
        raise InputError(f"target has {int(miss.sum())} missing value(s)", column=column,
                         row=int(np.flatnonzero(miss)[0]) + 1)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(np.int64)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        raise InputError(f"target must be binary 0/1 (1 = bad) or bool, got values such as {s.iloc[0]!r}; map text labels "
                         f"to 0/1 first (creditmodel train --positive LABEL)", column=column)
    v = s.to_numpy()
    bad = ~np.isin(v, (0, 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"target must be binary 0/1 (1 = bad), got {v[i].item()!r} ({int(bad.sum())} such row(s))",
                         column=column, row=i + 1)
    out = v.astype(np.int64)
    if out.min() == out.max():
        raise InputError(f"target has a single class ({int(out[0])}); need both goods (0) and bads (1)",
                         column=column)
    return out
