"""Optimal weight-of-evidence (WoE) binning per feature, with missing and special bins.

The cut points (numeric features) and category groups (categorical features) come from optbinning's
:class:`~optbinning.OptimalBinning` (constraint programming, IV maximised under a monotonic trend and
a minimum bin size).  Everything after the cut points is computed here, so that the bins used for
the WoE, the points table, :meth:`FeatureBins.indices` and the SQL export are the same bins:

* numeric regular bin ``i`` holds ``splits[i-1] <= x < splits[i]`` (first bin open below, last open above);
* ``NaN``/``None`` go to the **missing** bin; ``+inf``, ``-inf`` and the special codes go to the
  **special** bin (one per feature), never into a regular bin;
* a category not seen in training goes to the **unseen** slot (categorical features only).

WoE follows DOMAIN.md C2: ``WoE_k = ln(%good_k / %bad_k)`` (higher WoE = safer), with a small
prior-proportional pseudo count so that bins without goods or bads get a finite WoE and an empty bin
gets WoE 0.  A bin that saw no training row (missing or special values absent in training) and the
unseen slot get the WoE chosen by ``unseen`` ("worst": the riskiest regular bin, the conservative
default; "neutral": WoE 0, the population average).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from creditmodel.progress import tqdm

from creditmodel.errors import InputError
from creditmodel.scoring.params import FIT_NOTE
from creditmodel.scoring.target import fit_target
from creditmodel.threads import fit_single_threaded

log = logging.getLogger(__name__)

#: slot kinds after the regular bins, in this order
MISSING, SPECIAL, UNSEEN = "missing", "special", "unseen"
FREE_SHAPE = "free (cv)"  # requested_trend of a feature whose free shape won the shape CV
#: ``default_trend`` values: optbinning's ``monotonic_trend`` options and None (free shape)
TRENDS = ("auto", "auto_heuristic", "auto_asc_desc", "ascending", "descending", "concave", "convex", "peak",
          "valley", "peak_heuristic", "valley_heuristic", None)

#: What an estimator's ``fit`` says of a table without a feature column.
NO_FEATURES = "no feature column to fit on"


def refuse_sparse(X) -> None:
    """A SciPy sparse matrix is refused by name (it was 'X must be a table (2-D), got 0-D')."""
    import scipy.sparse

    if scipy.sparse.issparse(X):
        raise InputError("sparse input is not supported: pass a dense DataFrame or array (X.toarray())")


def input_frame(X, fitted_names=None, estimator: str = "WoEBinner") -> pd.DataFrame:
    """``X`` as the DataFrame the WoE estimators (:class:`WoEBinner`, the scorecard) work on, one check for both.

    A DataFrame keeps its columns, named by their text (``0`` is column ``'0'``: optbinning wants text names); a
    duplicate name is an :class:`InputError` naming it (a second column of a name was a bare AttributeError). An
    array (no column names) is a table whose columns are ``x0, x1, ...`` when fitting (``fitted_names`` None),
    else the fitted columns in the training order (a warning when those had names of their own)."""
    if isinstance(X, pd.DataFrame):
        cols = [str(c) for c in X.columns]
        if len(set(cols)) != len(cols):
            dup = pd.Index(cols)[pd.Index(cols).duplicated()][0]
            raise InputError("duplicate column name", column=dup)
        return X.set_axis(cols, axis=1) if list(X.columns) != cols else X
    refuse_sparse(X)
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise InputError(f"X must be a table (2-D), got {arr.ndim}-D")
    if fitted_names is None:
        names = [f"x{i}" for i in range(arr.shape[1])]
    else:
        names = list(fitted_names)
        if arr.shape[1] != len(names):
            raise InputError(f"X has {arr.shape[1]} columns, {estimator} was fitted on {len(names)}")
        if names != [f"x{i}" for i in range(len(names))]:
            import warnings

            warnings.warn(f"X has no column names, but {estimator} was fitted on named columns: its columns are "
                          f"taken in the training order", UserWarning, stacklevel=4)
    return pd.DataFrame(arr, columns=names)


def minority_count(y: np.ndarray, groups: np.ndarray | None = None) -> int:
    """Rows of the rarer class of a 0/1 target (a K-fold CV needs at least K of them); with ``groups`` (one key per
    row), groups instead: the fewer of the groups holding a default and the groups holding a non-default, since a
    grouped fold holds whole groups out."""
    y = np.asarray(y)
    if groups is None:
        return int(min(y.sum(), len(y) - y.sum()))
    g = pd.Series(np.asarray(y) == 1).groupby(pd.factorize(pd.Series(groups), sort=True)[0])
    return int(min(g.any().sum(), (~g.all()).sum()))


#: DOMAIN.md C2 reading of the information value
IV_STRENGTH = ((0.02, "useless"), (0.1, "weak"), (0.3, "medium"), (0.5, "strong"), (math.inf, "suspicious"))

#: trend requested by a business direction (+1 riskier with higher value, -1 safer)
DIRECTION_TREND = {1: "ascending", -1: "descending"}


def iv_strength(iv: float) -> str:
    """DOMAIN.md C2 label of an information value: useless, weak, medium, strong or suspicious."""
    for upper, label in IV_STRENGTH:
        if iv < upper:
            return label
    return IV_STRENGTH[-1][1]  # pragma: no cover - nan


#: what ``pd.api.types.infer_dtype`` calls an object column of numbers (a database NUMERIC as ``Decimal``, a
#: ``pd.concat`` of int and float frames, ``astype(object)``)
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})


def holds_numbers(s: pd.Series) -> bool:
    """True for an ``object`` column whose every present value is a number (int, float, ``Decimal``; not bool
    or text): such a column is numeric. It was taken for categories: each distinct amount a level, a model
    that scored most new rows as 'unseen' (a reviewer's finding)."""
    return s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in _NUMBER_KINDS


def _numbers_as_levels(s: pd.Series) -> bool:
    """Whether a column binned as categories holds numbers (a number column in ``categorical_features``, a
    Categorical of numbers) rather than text codes."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return pd.api.types.is_numeric_dtype(s.cat.categories.dtype)
    return not is_categorical(s)


def is_categorical(s: pd.Series) -> bool:
    """True for text, category and object columns of text; numbers (also an object column of numbers, see
    :func:`holds_numbers`) and booleans are numeric."""
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or holds_numbers(s))


def _category_key(v: Any) -> str:
    """Text form of a category value: integral floats lose their ``.0`` so 1.0 and 1 agree."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def level_positions(uniques: Any, levels: pd.Index) -> np.ndarray:
    """Position in the fitted ``levels`` of each distinct value (-1: unseen), for the delivered scorer's input
    check and the challenger: by its key (:func:`_category_key`, a whole float as its integer), else by ``str``
    (a model saved before whole floats were keyed kept ``'1.0'``), else, for a text that is a number, by that
    number's key (a CSV's ``1.0`` for a level that came from the number 1). A reviewer's findings: both older
    models and CSV input were refused once whole floats were keyed as integers."""
    vals = list(np.asarray(uniques, dtype=object))
    pos = levels.get_indexer(pd.Index([_category_key(u) for u in vals], dtype=object)) if vals else \
        np.empty(0, np.int64)
    for i in np.flatnonzero(pos < 0):
        u = vals[i]
        alt = [str(u)]
        if isinstance(u, str):
            try:
                f = float(u)
            except ValueError:
                f = None
            if f is not None and np.isfinite(f):
                alt.append(_category_key(f))
        for a in alt:
            j = levels.get_indexer([a])[0]
            if j >= 0:
                pos[i] = j
                break
    return pos


def categorical_values(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(text values as an object array, missing mask) of a categorical column; a blank text (``''``, spaces,
    tabs) is missing, as in the SQL export and the delivered scorer (it was a category of its own here and
    missing in SQL: a reviewer's finding)."""
    miss = s.isna().to_numpy()
    vals = s.to_numpy(dtype=object, na_value=None)
    if miss.all() or pd.api.types.infer_dtype(vals[~miss], skipna=True) != "string":
        vals = np.array([None if m else _category_key(v) for v, m in zip(vals, miss)], dtype=object)
    blank = ~miss & (pd.Series(vals, dtype=object).str.strip() == "").to_numpy(dtype=bool, na_value=False)
    if blank.any():
        vals = np.where(blank, None, vals)
        miss = miss | blank
    return vals, miss


def numeric_values(s: pd.Series, feature: str) -> np.ndarray:
    """The column as float64; text that is not a number raises :class:`InputError` naming the row."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64").to_numpy()
    if s.dtype == np.float64:
        return s.to_numpy()  # no copy: NaN is already the missing value
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype="float64", na_value=np.nan)
    conv = pd.to_numeric(s, errors="coerce")
    bad = conv.isna().to_numpy() & s.notna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"numeric feature has a non-numeric value {s.iloc[i]!r}", column=feature, row=i + 1)
    return conv.to_numpy(dtype="float64", na_value=np.nan)


def _realised_trend(event_rate: np.ndarray) -> str:
    """Shape of the event rate over the regular bins: ascending, descending, peak, valley or none."""
    d = np.sign(np.diff(event_rate))
    d = d[d != 0]
    if len(d) == 0:
        return "constant"
    if (d > 0).all():
        return "ascending"
    if (d < 0).all():
        return "descending"
    changes = np.flatnonzero(np.diff(d) != 0)
    if len(changes) == 1:
        return "peak" if d[0] > 0 else "valley"
    return "none"


@dataclass
class FeatureBins:
    """The fitted bins of one feature.

    Slots ``0 .. n_regular-1`` are the regular bins, then ``missing``, ``special`` and ``unseen``
    (unseen is used by categorical features only).  ``count``/``n_bad``/``woe`` have one entry per slot.
    """

    feature: str
    dtype: str  # "numerical" or "categorical"
    splits: np.ndarray  # numeric cut points, ascending (empty for categorical)
    groups: list[list[str]]  # categories of each regular bin (empty for numeric)
    special_codes: tuple
    count: np.ndarray
    n_bad: np.ndarray
    woe: np.ndarray
    trend: str
    requested_trend: str | None
    iv: float
    shape_cv_gain: float = float("nan")  # out-of-fold log-loss gain of the free shape; NaN = not cross-validated
    #: Bonferroni-adjusted Fisher p-value of the rare-bin rescue's best cut (NaN: not tried); kept when below alpha
    rare_bin_p: float = float("nan")
    #: categorical levels that came from text (``'01'``), not numbers: the SQL compares them as text (None: a card
    #: fitted before this was recorded, compared as before)
    text_levels: bool | None = None
    _cat_index: pd.Index = field(default=None, repr=False)  # type: ignore[assignment]
    _cat_bin: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def n_regular(self) -> int:
        return len(self.splits) + 1 if self.dtype == "numerical" else len(self.groups)

    @property
    def missing_slot(self) -> int:
        return self.n_regular

    @property
    def special_slot(self) -> int:
        return self.n_regular + 1

    @property
    def unseen_slot(self) -> int:
        return self.n_regular + 2

    def _build_index(self) -> None:
        cats = [c for g in self.groups for c in g]
        self._cat_index = pd.Index(cats, dtype=object)
        self._cat_bin = np.concatenate(
            [np.full(len(g), i, dtype=np.int64) for i, g in enumerate(self.groups)] + [np.empty(0, np.int64)])

    _BLOCK = 1 << 16  # rows per block of the numeric comparisons (the block stays in the CPU cache)

    @property
    def _slot_dtype(self) -> type:
        return np.int8 if self.n_regular + 3 <= np.iinfo(np.int8).max else np.intp

    def indices(self, s: pd.Series) -> np.ndarray:
        """Slot of each value (int8 when the slots fit, else intp): regular bin, missing, special or unseen."""
        if self.dtype == "numerical":
            x = numeric_values(s, self.feature)
            if len(self.splits) <= 64:  # a few comparisons per block of rows beat a binary search per row
                idx = np.zeros(len(x), dtype=self._slot_dtype)
                hit = np.empty(min(len(x), self._BLOCK), dtype=bool)
                for a in range(0, len(x), self._BLOCK):
                    xs, acc, h = x[a:a + self._BLOCK], idx[a:a + self._BLOCK], hit[: min(self._BLOCK, len(x) - a)]
                    for edge in self.splits:
                        np.greater_equal(xs, edge, out=h)
                        acc += h
            else:
                idx = np.searchsorted(self.splits, x, side="right")
            odd = ~np.isfinite(x)
            for c in self.special_codes:
                odd |= x == c
            if odd.any():
                pos = np.flatnonzero(odd)
                idx[pos] = np.where(np.isnan(x[pos]), self.missing_slot, self.special_slot)
            return idx
        if self._cat_index is None:
            self._build_index()
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        keys = [u if isinstance(u, str) else _category_key(u) for u in np.asarray(uniques, dtype=object)]
        special = set(self.special_codes)
        pos = self._cat_index.get_indexer(pd.Index(keys, dtype=object)) if keys else np.empty(0, np.int64)
        umap = np.empty(len(keys) + 1, dtype=self._slot_dtype)
        for i, (k, p) in enumerate(zip(keys, pos)):
            umap[i] = (self.missing_slot if not k.strip()   # blank text is missing, as in the SQL export
                       else self.special_slot if k in special else (self._cat_bin[p] if p >= 0 else self.unseen_slot))
        umap[-1] = self.missing_slot  # code -1 = NaN/None
        return umap[codes]

    def labels(self) -> list[str]:
        """Human-readable label of every slot."""
        out = []
        if self.dtype == "numerical":
            edges = [-np.inf, *self.splits.tolist(), np.inf]
            out = [f"[{edges[i]!r}, {edges[i + 1]!r})" for i in range(self.n_regular)]
        else:
            out = [", ".join(g) for g in self.groups]
        return out + ["Missing", "Special", "Unseen"]

    def table(self) -> pd.DataFrame:
        """Binning table: one row per slot with bounds or categories, counts, event rate, WoE and IV."""
        n = self.n_regular
        kinds = ["regular"] * n + [MISSING, SPECIAL, UNSEEN]
        lower = np.full(n + 3, np.nan)
        upper = np.full(n + 3, np.nan)
        if self.dtype == "numerical":
            edges = np.r_[-np.inf, self.splits, np.inf]
            lower[:n], upper[:n] = edges[:-1], edges[1:]
        cats: list[list[str] | None] = [list(g) for g in self.groups] if self.dtype == "categorical" else [None] * n
        cats += [None, list(map(str, self.special_codes)) if self.special_codes else None, None]
        tot_bad = self.n_bad.sum()
        tot_good = (self.count - self.n_bad).sum()
        good = self.count - self.n_bad
        iv = np.r_[(good / max(tot_good, 1) - self.n_bad / max(tot_bad, 1)) * self.woe[: n + 2], 0.0]
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.r_[self.n_bad / self.count, np.nan]
        return pd.DataFrame({
            "feature": self.feature, "bin": np.arange(n + 3), "label": self.labels(), "kind": kinds,
            "lower": lower, "upper": upper, "categories": cats,
            "count": np.r_[self.count, 0], "bad": np.r_[self.n_bad, 0], "event_rate": rate,
            "woe": self.woe, "iv": iv})


def _woe_from_counts(count: np.ndarray, n_bad: np.ndarray, prior_count: float) -> np.ndarray:
    """Smoothed WoE ln(%good/%bad): pseudo counts in proportion to the overall bad rate.

    The minority class gets ``prior_count`` pseudo observations per bin, so an empty bin gets WoE 0.
    """
    good = count - n_bad
    tot_bad, tot_good = n_bad.sum(), good.sum()
    p = tot_bad / (tot_bad + tot_good)
    alpha = prior_count / min(p, 1 - p)
    return np.log((good + alpha * (1 - p)) / tot_good) - np.log((n_bad + alpha * p) / tot_bad)


def _pava(values: np.ndarray, weights: np.ndarray, increasing: bool) -> np.ndarray:
    from sklearn.isotonic import isotonic_regression
    w = np.maximum(weights, 1e-9).astype(float)
    return np.asarray(isotonic_regression(values, sample_weight=w, increasing=increasing), dtype=float)


class WoEBinner(TransformerMixin, BaseEstimator):
    """Optimal WoE binning of every column of a DataFrame (scikit-learn transformer). An array is taken as the
    scorecard takes it (columns ``x0, x1, ...``), so both compose alike in a Pipeline after e.g. an imputer.

    Parameters
    ----------
    feature_directions : dict {feature: +1 | -1 | 0}, optional
        Business direction: +1 higher value = riskier (event rate ascending), -1 = safer
        (descending), 0 or absent = ``default_trend``.  Ignored for categorical features (their
        categories are ordered by event rate).
    default_trend : str or None
        optbinning ``monotonic_trend`` for numeric features without a direction: "auto_heuristic"
        or "auto" (may pick a peak or valley; the heuristic is much faster with many pre-bins),
        "auto_asc_desc" (monotonic, direction chosen by IV) or None (free).
    categorical_features : list of str, optional
        Columns binned as categories even when numeric; text/category/object columns always are.
    special_codes : list or dict {feature: list}, optional
        Values that get the special bin (e.g. -999).  ``+inf`` and ``-inf`` always do.
    min_bin_size : float, "auto" or None
        Minimum fraction of the training rows in each regular bin; "auto" = 25 rows of the rarer
        class per bin, clipped to [0.02, 0.05] (fitted value in ``min_bin_size_``).
    max_n_bins, max_n_prebins : int (max_n_prebins may be "auto" = 1 / min_prebin_size)
        Maximum number of regular bins and of CART pre-bins.
    min_prebin_size : float or "auto"
        Minimum fraction of rows in a pre-bin ("auto" = the minimum bin size).
    woe_prior_count : float
        Pseudo observations of the minority class added per bin when computing WoE.
    unseen : {"worst", "neutral"}
        WoE of a value whose slot saw no training row (unseen category, or missing/special values
        when training had none): the riskiest regular bin's WoE, or 0.
    time_limit : float
        Seconds allowed to optbinning's solver per feature.
    shape_cv : int
        0 (default): numeric features without a direction get ``default_trend``.  K >= 2: each such
        feature is also binned with a free shape (optbinning ``monotonic_trend=None``; only bins with
        the same minimum size), and when the two binnings differ both are refitted on K-1 folds and
        scored on the held-out fold (Bernoulli log-loss of the bins' default rates); the free shape
        is kept only if it lowers the out-of-fold log-loss by more than ``shape_cv_tol`` (nats per
        row).  For features whose risk zig-zags (e.g. loan terms where the standard programme terms
        are the safe ones); ``iv_report_`` says which shape each feature got (``requested_trend`` =
        "free (cv)") and the out-of-fold gain (``shape_cv_gain``; NaN where no CV was run: categorical or
        directed features, equal binnings, an in-sample gain already below the threshold, or fewer than K
        rows of either class, when every feature keeps ``default_trend``).
    shape_cv_tol : float
        Out-of-fold log-loss improvement (nats per row) the free shape must beat.
    rare_bin_alpha : float or None
        Rescue of a small bin the automatic minimum bin size refused (``min_bin_size="auto"`` only: a minimum set
        by hand is kept).  A numeric feature left with one regular bin (IV 0, so dropped by any IV floor) is split
        in two, half-way between two neighbouring values, where the smaller side (below the minimum bin size, at
        least ``rare_bin_min_count`` rows) differs most in default rate, if Fisher's exact test (two-sided: twice
        the one-sided hypergeometric tail) of that cut, times the number of cuts tried (Bonferroni), is below
        ``rare_bin_alpha`` and the rates run the way the feature's trend asks.  For a rare flag or a zero-inflated
        count (a court listing held by 1 % of the loans at ten times the default rate): the automatic minimum asks
        ~25 defaults per bin and would never give it a bin.  ``iv_report_`` gives the test's p-value
        (``rare_bin_p``).  None: no rescue.
    rare_bin_min_count : int
        Rows a rescued bin holds at least.
    random_state : int
        Seed of the ``shape_cv`` folds.
    """

    def __init__(self, feature_directions=None, default_trend="auto_heuristic", categorical_features=None,
                 special_codes=None, min_bin_size="auto", max_n_bins=None, max_n_prebins="auto",
                 min_prebin_size="auto", woe_prior_count=0.5, unseen="worst", time_limit=60, shape_cv=0,
                 shape_cv_tol=0.005, rare_bin_alpha=0.001, rare_bin_min_count=20, random_state=0, progress=False):
        self.feature_directions = feature_directions
        self.default_trend = default_trend
        self.categorical_features = categorical_features
        self.special_codes = special_codes
        self.min_bin_size = min_bin_size
        self.max_n_bins = max_n_bins
        self.max_n_prebins = max_n_prebins
        self.min_prebin_size = min_prebin_size
        self.woe_prior_count = woe_prior_count
        self.unseen = unseen
        self.time_limit = time_limit
        self.shape_cv = shape_cv
        self.shape_cv_tol = shape_cv_tol
        self.rare_bin_alpha = rare_bin_alpha
        self.rare_bin_min_count = rare_bin_min_count
        self.random_state = random_state
        self.progress = progress

    def __setstate__(self, state):
        # a binner pickled before ``shape_cv`` existed: the shape choice was off
        # ... and before the rare-bin rescue (it had none)
        for key, value in (("shape_cv", 0), ("shape_cv_tol", 0.005), ("random_state", 0), ("rare_bin_alpha", None),
                           ("rare_bin_min_count", 20)):
            state.setdefault(key, value)
        super().__setstate__(state)

    # -- helpers -----------------------------------------------------------------------------------
    def _resolve_sizes(self, y: np.ndarray) -> tuple:
        """(min_bin_size, min_prebin_size, max_n_prebins) with "auto" resolved from the sample.

        "auto" asks for about 25 rows of the rarer class per bin: ``25 / n_minority`` clipped to
        [0.02, 0.05] of the rows (5 % for small samples, finer bins when events are plentiful); the
        pre-bins then use the same minimum size and ``1 / size`` pre-bins at most.
        """
        n_min = max(1.0, min(y.sum(), len(y) - y.sum()))
        auto = float(np.clip(25.0 / n_min, 0.02, 0.05))
        mbs = auto if self.min_bin_size == "auto" else self.min_bin_size
        mps = (mbs or auto) if self.min_prebin_size == "auto" else self.min_prebin_size
        mnp = int(round(1 / mps)) if self.max_n_prebins == "auto" else self.max_n_prebins
        return mbs, mps, mnp

    def _specials_for(self, feature: str) -> tuple:
        sc = self.special_codes
        if sc is None:
            return ()
        if isinstance(sc, dict):
            sc = sc.get(feature, ())
        return tuple(sc)

    def _trend_for(self, feature: str) -> str | None:
        d = (self.feature_directions or {}).get(feature, 0)
        if isinstance(d, (bool, np.bool_)) or d not in (-1, 0, 1):   # True == 1 in Python: not a direction
            raise InputError(f"feature direction must be -1, 0 or +1, got {d!r}", column=feature)
        return DIRECTION_TREND.get(d, self.default_trend)

    def _fit_feature(self, feature: str, s: pd.Series, y: np.ndarray, trend="default") -> FeatureBins:
        """Bins of one column; ``trend`` overrides the feature's requested trend (numeric columns)."""
        from optbinning import OptimalBinning

        specials = self._specials_for(feature)
        cat = feature in set(self.categorical_features or ()) or is_categorical(s)
        n = len(s)
        if cat:
            vals, miss = categorical_values(s)
            specials = tuple(_category_key(v) for v in specials)
            spec = pd.Series(vals).isin(specials).to_numpy() if specials else np.zeros(n, bool)
        else:
            vals = numeric_values(s, feature)
            miss = np.isnan(vals)
            spec = np.isinf(vals)
            if specials:
                spec |= np.isin(vals, np.asarray(specials, dtype=float))
            specials = tuple(float(v) for v in specials if np.isfinite(float(v)))
        spec = spec & ~miss
        clean = ~miss & ~spec
        xc, yc = vals[clean], y[clean]
        trend = None if cat else (self._trend_for(feature) if trend == "default" else trend)
        splits: np.ndarray = np.empty(0)
        groups: list[list[str]] = []
        rare_p = float("nan")
        n_clean = int(clean.sum())
        if n_clean and len(np.unique(yc)) == 2 and len(pd.unique(xc)) > 1:
            mbs, mps, mnp = self._sizes
            rel = min(0.5, mbs * n / n_clean) if mbs else None
            ob = OptimalBinning(
                name=feature, dtype="categorical" if cat else "numerical",
                monotonic_trend=(trend if not cat else "auto_asc_desc"), max_n_prebins=mnp,
                min_prebin_size=min(0.5, mps * n / n_clean), min_bin_size=rel,
                max_n_bins=self.max_n_bins, time_limit=self.time_limit)
            ob.fit(xc, yc)
            if cat:
                groups = [sorted(map(str, g)) for g in ob.splits]
                seen = {c for g in groups for c in g}
                left = sorted(set(xc) - seen)
                if left:  # optbinning puts every training category in a group; keep it so if not
                    groups.append(left)
            else:
                splits = np.asarray(ob.splits, dtype=float)
                if not len(splits) and self.rare_bin_alpha and self.min_bin_size == "auto":
                    cut, rare_p = self._rare_cut(xc, yc, trend, n)
                    if cut is not None:
                        splits = np.array([cut])
        elif cat:
            groups = [sorted(set(xc))] if n_clean else [[]]
        fb = FeatureBins(feature=feature, dtype="categorical" if cat else "numerical", splits=splits,
                         groups=groups, special_codes=specials, count=np.empty(0), n_bad=np.empty(0),
                         woe=np.empty(0), trend="constant", requested_trend=trend, iv=0.0,
                         text_levels=cat and not _numbers_as_levels(s), rare_bin_p=rare_p)
        idx = fb.indices(s)
        slots = fb.n_regular + 2
        count = np.bincount(idx, minlength=slots + 1)[:slots].astype(float)
        n_bad = np.bincount(idx, weights=y, minlength=slots + 1)[:slots]
        woe = _woe_from_counts(count, n_bad, self.woe_prior_count)
        k = fb.n_regular
        if trend in ("ascending", "descending") and k > 1:  # event rate up <=> WoE down
            woe[:k] = _pava(woe[:k], count[:k], increasing=(trend == "descending"))
        nonempty = count[:k] > 0
        fill = float(woe[:k][nonempty].min()) if (self.unseen == "worst" and nonempty.any()) else 0.0
        woe = np.r_[woe, fill]
        woe[:slots][count == 0] = fill
        fb.count, fb.n_bad, fb.woe = count, n_bad, woe
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = n_bad[:k] / count[:k]
        fb.trend = _realised_trend(rate[nonempty])
        good = count - n_bad
        fb.iv = float(np.sum((good / max(good.sum(), 1) - n_bad / max(n_bad.sum(), 1)) * woe[:slots]))
        return fb

    def _rare_cut(self, x: np.ndarray, y: np.ndarray, trend: str | None, n: int) -> tuple[float | None, float]:
        """(cut point, p-value) of the rescued two-bin split of ``x`` (finite values, 0/1 ``y``), or (None, p) when
        no cut passes; see ``rare_bin_alpha``.  ``n``: the feature's rows (the minimum bin size's base)."""
        from scipy.stats import hypergeom

        order = np.argsort(x, kind="stable")
        xs, ys = x[order], y[order]
        first = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])   # first row of each distinct value
        if len(first) < 2:
            return None, float("nan")
        m, bad = len(xs), int(round(ys.sum()))
        left_n = first[1:]                                       # rows below each candidate cut (one per value)
        left_bad = np.rint(np.cumsum(ys)[first[1:] - 1]).astype(np.int64)
        right_n, right_bad = m - left_n, bad - left_bad
        small_right = right_n <= left_n
        small_n = np.where(small_right, right_n, left_n)
        small_bad = np.where(small_right, right_bad, left_bad)
        ok = (small_n >= self.rare_bin_min_count) & (small_n < (self.min_bin_size_ or 0.0) * n)
        rate_left, rate_right = left_bad / left_n, right_bad / right_n   # both sides hold rows
        if trend == "ascending":
            ok &= rate_right > rate_left
        elif trend == "descending":
            ok &= rate_right < rate_left
        if not ok.any():
            return None, float("nan")
        # two-sided Fisher exact test: twice the tail of the small bin's defaults (hypergeometric), capped at 1
        k, nn = small_bad[ok], small_n[ok]
        higher = k / nn > bad / m
        tail = np.where(higher, hypergeom.sf(k - 1, m, bad, nn), hypergeom.cdf(k, m, bad, nn))
        p = np.minimum(1.0, 2 * tail) * int(ok.sum())
        best = int(np.argmin(p))
        p_best = float(min(1.0, p[best]))
        if p_best >= self.rare_bin_alpha:
            return None, p_best
        j = first[1:][ok][best]   # first row right of the cut: cut half-way, as optbinning's splits are (a value
        return float(0.5 * (xs[j - 1] + xs[j])), p_best   # stored rounded elsewhere keeps its side in the SQL export)

    def _oof_logloss(self, feature: str, s: pd.Series, y: np.ndarray, trend, folds) -> float:
        """Mean held-out Bernoulli log-loss (nats per row) of ``feature`` binned with ``trend`` per fold."""
        total = sum(_bins_logloss(self._fit_feature(feature, s.iloc[tr], y[tr], trend), y[tr], s.iloc[va], y[va])
                    for tr, va in folds)
        return total / len(y)

    def _choose_shape(self, feature: str, s: pd.Series, y: np.ndarray, fb: FeatureBins, folds) -> FeatureBins:
        """The default-trend bins ``fb`` or the free-shape bins, whichever wins out of fold; ``folds`` is
        a callable giving the K folds (built on first use)."""
        if fb.dtype != "numerical" or fb.requested_trend is None or \
                (self.feature_directions or {}).get(feature, 0) != 0:
            return fb
        free = self._fit_feature(feature, s, y, None)
        if np.array_equal(free.splits, fb.splits):
            return fb
        # heuristic: the in-sample gain is usually larger than the held-out one (the folds refit the cut
        # points, so it is no strict bound); no CV when it is already below the threshold
        if (_bins_logloss(fb, y, s, y) - _bins_logloss(free, y, s, y)) / len(y) <= self.shape_cv_tol:
            return fb
        gain = (self._oof_logloss(feature, s, y, fb.requested_trend, folds())
                - self._oof_logloss(feature, s, y, None, folds()))
        fb.shape_cv_gain = free.shape_cv_gain = gain
        if gain > self.shape_cv_tol:
            free.requested_trend = FREE_SHAPE
            return free
        return fb

    def _check_params(self) -> None:
        """Every binning parameter in its domain (InputError naming it), before any work."""
        from creditmodel.scoring import params as P

        P.mapping("feature_directions", self.feature_directions)
        P.choice("default_trend", self.default_trend, TRENDS)
        P.names("categorical_features", self.categorical_features)
        P.special_codes("special_codes", self.special_codes)
        P.number("min_bin_size", self.min_bin_size, 0.0, 0.5, auto=True, none=True)   # None / 0: no minimum
        P.integer("max_n_bins", self.max_n_bins, 2, none=True)
        P.integer("max_n_prebins", self.max_n_prebins, 2, auto=True)
        P.number("min_prebin_size", self.min_prebin_size, 0.0, 0.5, lo_open=True, auto=True)
        P.number("woe_prior_count", self.woe_prior_count, 0.0)
        P.choice("unseen", self.unseen, ("worst", "neutral"))
        P.number("time_limit", self.time_limit, 0.0, lo_open=True)
        P.folds("shape_cv", self.shape_cv, "no shape choice")
        P.number("shape_cv_tol", self.shape_cv_tol, 0.0)
        P.number("rare_bin_alpha", self.rare_bin_alpha, 0.0, 1.0, lo_open=True, none=True)
        P.integer("rare_bin_min_count", self.rare_bin_min_count, 1)
        P.seed("random_state", self.random_state)

    # -- sklearn API -------------------------------------------------------------------------------
    @fit_single_threaded
    def fit(self, X: pd.DataFrame, y=None, groups=None) -> "WoEBinner":
        """Bin every column of ``X`` against the binary target ``y`` (1 = bad). ``groups`` (one key per row, e.g.
        the borrower): the ``shape_cv`` folds hold each group out whole."""
        self._check_params()
        X = input_frame(X)
        from creditmodel.scoring.params import warn_unknown_columns

        sc = self.special_codes
        warn_unknown_columns(X.columns, log, feature_directions=self.feature_directions,
                             categorical_features=self.categorical_features,
                             special_codes=sc if isinstance(sc, dict) else None)   # a plain list holds codes
        y = fit_target(y, len(X)).astype(float)
        from creditmodel.scoring.splits import check_groups, stratified_folds

        groups = check_groups(groups, len(X))
        if X.shape[1] == 0:
            raise InputError(NO_FEATURES)
        self._sizes = self._resolve_sizes(y)
        self.min_bin_size_, self.min_prebin_size_, self.max_n_prebins_ = self._sizes
        self.bins_: dict[str, FeatureBins] = {}
        cols = list(X.columns)
        k = int(self.shape_cv)
        n_minority = minority_count(y, groups)
        shape_cv = k >= 2 and n_minority >= k  # every training part of a stratified K-fold has both classes
        if k >= 2 and not shape_cv:
            log.info("shape_cv=%d skipped: %d %s of the rarer class; every feature keeps default_trend",
                     k, n_minority, "row(s)" if groups is None else "group(s)", extra={FIT_NOTE: True})
        cache: list = []

        def folds() -> list:
            if not cache:
                cache.extend(stratified_folds(y, k, self.random_state, groups))
            return cache

        for c in tqdm(cols, desc="WoE binning", disable=not self.progress, leave=False):
            fb = self._fit_feature(c, X[c], y)
            self.bins_[c] = self._choose_shape(c, X[c], y, fb, folds) if shape_cv else fb
        self.feature_names_in_ = np.asarray(cols, dtype=object)
        self.n_features_in_ = len(cols)
        rows = [{"feature": c, "dtype": b.dtype, "iv": b.iv, "strength": iv_strength(b.iv),
                 "n_bins": b.n_regular, "trend": b.trend, "requested_trend": b.requested_trend,
                 "missing_count": int(b.count[b.missing_slot]), "special_count": int(b.count[b.special_slot]),
                 **({"shape_cv_gain": b.shape_cv_gain} if k >= 2 else {}),
                 **({"rare_bin_p": b.rare_bin_p} if self.rare_bin_alpha else {})}
                for c, b in self.bins_.items()]
        self.iv_report_ = (pd.DataFrame(rows).sort_values(["iv", "feature"], ascending=[False, True])
                           .reset_index(drop=True))
        return self

    def index_columns(self, X: pd.DataFrame, features=None) -> list[np.ndarray]:
        """Slot arrays (int8 or intp, see :meth:`FeatureBins.indices`), one per feature; a missing column
        raises InputError naming it. ``X``: a DataFrame, or an array whose columns are the fitted ones in order."""
        check_is_fitted(self, "bins_")
        X = input_frame(X, list(self.bins_))
        features = list(self.bins_) if features is None else list(features)
        missing = [f for f in features if f not in X.columns]
        if missing:
            raise InputError(f"feature column is missing ({len(missing)} missing in all)", column=missing[0])
        return [self.bins_[f].indices(X[f]) for f in features]

    def bin_indices(self, X: pd.DataFrame, features=None) -> np.ndarray:
        """(n_rows, n_features) slot of each value; a missing column raises InputError."""
        cols = self.index_columns(X, features)
        return np.column_stack(cols) if cols else np.empty((len(X), 0), dtype=np.int64)

    def transform(self, X: pd.DataFrame, features=None) -> pd.DataFrame:
        """WoE of each value (float DataFrame, same index as ``X``; an array's columns are the fitted ones in order)."""
        check_is_fitted(self, "bins_")
        X = input_frame(X, list(self.bins_))
        features = list(self.bins_) if features is None else list(features)
        cols = self.index_columns(X, features)
        data = {f: self.bins_[f].woe[i] for f, i in zip(features, cols)}
        return pd.DataFrame(data, index=X.index, columns=features, dtype=float)

    def binning_table(self, feature: str) -> pd.DataFrame:
        """Binning table of one feature (see :meth:`FeatureBins.table`)."""
        return self.bins_[feature].table()

    def get_feature_names_out(self, input_features=None):
        """Names of the WoE columns :meth:`transform` returns (the fitted features, in order)."""
        check_is_fitted(self, "bins_")
        return np.asarray(list(self.bins_), dtype=object)


def _bins_logloss(fb: FeatureBins, y_fit: np.ndarray, s: pd.Series, y: np.ndarray) -> float:
    """Summed Bernoulli log-loss (nats) of ``y`` under the default rates of ``fb``'s bins for the values ``s``;
    ``y_fit`` is the target the bins were fitted on (its bad:good odds turn WoE = ln(good / bad share) back
    into log-odds of bad)."""
    bad = y_fit.sum()
    logit = np.log(bad / (len(y_fit) - bad)) - fb.woe[fb.indices(s)]
    return float(np.sum(np.logaddexp(0, logit) - y * logit))


def psi(expected_idx: np.ndarray, actual_idx: np.ndarray, n_slots: int, floor: float = 1e-4) -> float:
    """Population stability index between two samples of bin slots (DOMAIN.md C2; shares floored)."""
    e = np.bincount(expected_idx, minlength=n_slots) / max(len(expected_idx), 1)
    a = np.bincount(actual_idx, minlength=n_slots) / max(len(actual_idx), 1)
    e, a = np.maximum(e, floor), np.maximum(a, floor)
    return float(np.sum((a - e) * np.log(a / e)))
