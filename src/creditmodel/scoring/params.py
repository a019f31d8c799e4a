"""Checks of estimator parameters, run at the start of ``fit``: a value out of range is a :class:`ConfigError` (an
:class:`InputError`) naming the parameter as its key, before any binning or fitting work, instead of a NumPy or
scikit-learn error deep inside the fit, or a silently odd model (a negative ``pdo`` turns "higher is safer" round)."""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from numbers import Integral, Real
from typing import Any

import numpy as np

from creditmodel.errors import ConfigError, shown


def _fail(name: str, expected: str, value: Any) -> None:
    raise ConfigError(f"{name} must be {expected}, got {shown(value)}", column=name)


def is_number(value: Any) -> bool:
    """A real number that is not a bool (``True`` is an int in Python) and not NaN."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and not math.isnan(value)


def number(name: str, value: Any, lo: float = -math.inf, hi: float = math.inf, *, lo_open: bool = False,
           hi_open: bool = False, none: bool = False, auto: bool = False) -> None:
    """``value`` is a finite real number in the interval (``None`` / ``"auto"`` where allowed)."""
    if (none and value is None) or (auto and isinstance(value, str) and value == "auto"):
        return
    ok = is_number(value) and math.isfinite(value)
    if ok:
        ok = (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        extra = "".join([", None" if none else "", ' or "auto"' if auto else ""])
        _fail(name, f"a number in {left}{lo:g}, {hi:g}{right}{extra}", value)


def integer(name: str, value: Any, lo: int, hi: int | None = None, *, none: bool = False, auto: bool = False) -> None:
    """``value`` is a whole number (int or NumPy integer, not bool) in ``[lo, hi]``."""
    if (none and value is None) or (auto and isinstance(value, str) and value == "auto"):
        return
    if (not isinstance(value, Integral) or isinstance(value, (bool, np.bool_)) or value < lo
            or (hi is not None and value > hi)):
        extra = "".join([" or None" if none else "", ' or "auto"' if auto else ""])
        _fail(name, f"an integer >= {lo}{'' if hi is None else f' and <= {hi}'}{extra}", value)


def folds(name: str, value: Any, zero: str) -> None:
    """``value`` is 0 (``zero`` says what that means) or a number of folds >= 2."""
    if not (isinstance(value, Integral) and not isinstance(value, (bool, np.bool_)) and (value == 0 or value >= 2)):
        _fail(name, f"0 ({zero}) or an integer >= 2", value)


def require(ok: bool, name: str, expected: str, value: Any) -> None:
    """A check the helpers above do not cover: ``ok`` or a ConfigError saying what ``name`` must be."""
    if not ok:
        _fail(name, expected, value)


def choice(name: str, value: Any, options: Iterable[Any]) -> None:
    """``value`` is one of ``options``: the same type and equal (``1`` is not ``True``), where any text type counts
    as text (a NumPy string read from an array or a YAML loader is accepted as the plain string)."""
    options = list(options)
    if not any(value is o or ((type(value) is type(o) or isinstance(value, str) and isinstance(o, str)) and value == o)
               for o in options):
        _fail(name, "one of " + ", ".join(shown(o) for o in options), value)


def names(name: str, value: Any) -> None:
    """None or a list-like of column names (a single string would be read letter by letter)."""
    if value is None:
        return
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        _fail(name, "None or a list of column names", value)


def mapping(name: str, value: Any) -> None:
    """None or a mapping (dict) of column name to value."""
    if value is not None and not isinstance(value, Mapping):
        _fail(name, "None or a dict of column name to value", value)


def seed(name: str, value: Any, hi: int = 2**32 - 1, *, none: bool = True) -> None:
    """An integer in [0, ``hi``], or (``none``) None or a ``numpy.random.RandomState``."""
    if none and (value is None or isinstance(value, np.random.RandomState)):
        return
    integer(name, value, 0, hi)


def special_codes(name: str, value: Any) -> None:
    """None, a list of codes or a dict of column name to such a list; a code is a number or, for a categorical
    column, a text (NaN is not a code: missing values have their own bin)."""
    if value is None:
        return
    lists = value.values() if isinstance(value, Mapping) else [value]
    for codes in lists:
        if (isinstance(codes, (str, bytes)) or not isinstance(codes, Iterable)
                or not all(is_number(c) or isinstance(c, str) for c in codes)):
            _fail(name, "None, a list of codes (numbers, or texts for a categorical column) or a dict of column "
                        "name to such a list", value)


#: ``extra`` key of a fit's notes (warnings about its settings and data: unknown columns, few defaults; and what it
#: chose: features selected, the points model, trees) that :func:`fold_fits_quiet` holds back: they are said by the
#: final fit, not again by each calibration fold's (notebook 03 printed 147 such lines)
FIT_NOTE = "creditmodel_fit_note"
_FIT_LOGGERS = ("creditmodel.scoring.binning", "creditmodel.scoring.scorecard", "creditmodel.scoring.challenger")


class _DropFitNotes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, FIT_NOTE, False)


@contextmanager
def fold_fits_quiet() -> Iterator[None]:
    """Within the block, the estimators' notes about their settings and data are not logged (a calibration fold's
    fit repeated each of them, and warned of few defaults where the final fit on all rows did not)."""
    f = _DropFitNotes()
    loggers = [logging.getLogger(n) for n in _FIT_LOGGERS]
    for lg in loggers:
        lg.addFilter(f)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(f)


def warn_unknown_columns(columns: Iterable[Any], logger: Any, **settings: Any) -> None:
    """Log a warning for each setting (a dict keyed by column, or a list of columns; None: not given) naming a
    column that is not among ``columns``: a misspelt key was ignored without a word (``special_codes={'dbet':
    [-999]}`` left -999 in the lowest regular bin, with the best points: a reviewer's finding)."""
    have = {str(c) for c in columns}
    for name, value in settings.items():
        if value is None:
            continue
        unknown = sorted({str(k) for k in value} - have)
        if unknown:
            logger.warning("%s names %d column(s) that are not in the data and is ignored for them: %s%s", name,
                           len(unknown), ", ".join(map(repr, unknown[:10])), " ..." if len(unknown) > 10 else "",
                           extra={FIT_NOTE: True})
