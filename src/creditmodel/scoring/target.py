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

    The 0/1 check is :func:`creditmodel.validation.metrics.check_binary`'s; this adds the length, the missing
    values (named by row) and the second class. Raises :class:`~creditmodel.errors.InputError` naming ``column``
    (and the 1-based row where one is at fault)."""
    from creditmodel.validation.metrics import check_binary

    if y is None:   # fit(X) without y: scikit-learn's check_requires_y_none expects a ValueError (an InputError)
        raise InputError("requires y to be passed, but the target y is None (y = 1 for bad, 0 for good)",
                         column=column)
    s = pd.Series(y.to_numpy() if isinstance(y, (pd.Series, pd.Index)) else np.asarray(y).ravel())
    if len(s) != n:
        raise InputError(f"target has {len(s)} values for {n} rows", column=column)
    miss = s.isna().to_numpy()
    if miss.any():
        raise InputError(f"target has {int(miss.sum())} missing value(s)", column=column,
                         row=int(np.flatnonzero(miss)[0]) + 1)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(np.int64)
    out = check_binary(s.to_numpy(), column).astype(np.int64)
    if out.min() == out.max():
        raise InputError(f"target has a single class ({int(out[0])}); need both goods (0) and bads (1)",
                         column=column)
    return out
