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


def fit_target(y, n: int, column: str = "y") -> np.ndarray:
    """The 0/1 target of an estimator's ``fit`` (:func:`binary_target`, named ``y``):
    text labels are refused saying how to map them in Python; the shared check's hint names the command line's
    ``--positive``, which means nothing to a caller of ``fit`` (a reviewer's finding)."""
    try:
        return binary_target(y, n, column=column)
    except InputError as e:
        if y is None or e.row is not None:
            raise
        vals = y.to_numpy() if isinstance(y, (pd.Series, pd.Index)) else np.asarray(y).ravel()
        if len(vals) != n or vals.dtype == bool:
            raise
        try:
            vals.astype(float)
        except (TypeError, ValueError):   # text labels (numbers other than 0/1 are told by the check itself)
            pass
        else:
            raise
        labels = sorted({str(v) for v in pd.unique(vals[pd.notna(vals)])})
        listed = ", ".join(repr(v) for v in labels[:10]) + (", ..." if len(labels) > 10 else "")
        raise InputError(f"target must be 0/1 (1 = bad) or boolean, got the labels {listed}: map them first, "
                         f"e.g. fit(X, y == \"bad\") (True = bad)", column=column) from None
