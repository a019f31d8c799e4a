"""LightGBM challenger: gradient-boosted trees with monotone constraints, early stopping and reason codes.

``LGBMChallenger`` is a scikit-learn classifier around the LightGBM booster:

* **Inputs.** A DataFrame (or array) of numeric and categorical columns. Numeric columns (including bool and
  nullable integer/float, and an object column whose values are all numbers, e.g. ``Decimal``) become float64
  with NaN as missing. Categorical columns (pandas string, object of text, or category; to bin number codes as
  categories, give them as ``astype("category")`` or ``astype(str)``) are encoded with a mapping fitted on the
  training data (sorted labels -> 0..k-1; a whole float is its integer's label, 3.0 is ``'3'``; a blank text
  is missing) and
  passed to LightGBM as categorical features; a category not seen in training is treated as missing at
  prediction and reported by :meth:`LGBMChallenger.unseen_categories` so that the caller can flag the row.
  ``+/-inf`` in a numeric column raises :class:`~creditmodel.errors.InputError` naming the column and row
  (``inf_policy="error"``, the default) or is treated as missing (``inf_policy="nan"``).
* **Monotone constraints.** ``feature_directions`` maps a feature to +1 (higher value = riskier), -1 (safer) or
  0; it becomes LightGBM's ``monotone_constraints`` (the log-odds of default is then non-decreasing /
  non-increasing in that feature, other features fixed). Only numeric features can be constrained.
* **Early stopping without leakage.** ``fit`` only sees what it is given. The number of trees is chosen on data
  carved out of that training set: stratified ``cv_folds``-fold cross-validation (``lightgbm.cv``) when the
  training set is small (fewer than ``cv_max_rows`` rows), else a seeded stratified hold-out of
  ``validation_fraction``; the final model is then refitted on all training rows with that many trees (scaled
  by the share of data the stopping model saw). ``fit(..., groups=)`` keeps each borrower's rows in one fold or
  on one side of the hold-out. An explicit ``eval_set`` passed to ``fit`` replaces both: the model is trained on
  all of ``X`` and stopped on ``eval_set``.
* **Deterministic.** ``deterministic=True``, ``force_col_wise=True``, a fixed thread count (``n_jobs``) and all
  seeds derived from ``random_state``: the same data, parameters and seed give bit-for-bit identical models.
  (Results can differ between thread counts; keep ``n_jobs`` fixed.)
* **Explanations.** :meth:`contributions` (per-row log-odds contributions from ``pred_contrib``; they sum, with
  the base value, to :meth:`decision_function`) and :meth:`reason_codes` (the features pushing risk up most).
"""
from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Mapping

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from creditmodel.errors import ConfigError, InputError
from creditmodel.scoring.binning import (NO_FEATURES, _category_key, holds_numbers, level_positions,
                                        minority_count)
from creditmodel.scoring.params import FIT_NOTE
from creditmodel.scoring.splits import stratified_folds, stratified_holdout
from creditmodel.scoring.target import fit_target

logger = logging.getLogger(__name__)

BASE_VALUE = "__base_value__"
#: Largest seed the challenger takes (LightGBM's seeds are C ints and it derives seed + 3 for its sub-seeds).
SEED_MAX = 2**31 - 4
#: Candidates tried by cross-validation on small training sets: sampling helps some sets (German credit, SBA)
#: and hurts others (Polish bankruptcy, few defaults), as measured by CV AUC on their training parts.
DEFAULT_TUNING_GRID: tuple[dict, ...] = ({}, {"subsample": 1.0, "colsample_bytree": 1.0})
_TUNABLE = ("learning_rate", "num_leaves", "max_depth", "min_child_samples", "reg_lambda", "reg_alpha",
            "min_split_gain", "subsample", "subsample_freq", "colsample_bytree", "cat_smooth")


def _is_categorical(s: pd.Series) -> bool:
    return (isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype)
            or s.dtype == object) and not holds_numbers(s)


def _category_codes(s: pd.Series, labels: list[str]) -> np.ndarray:
    """Codes 0..k-1 of ``s`` in the fitted ``labels`` (values compared by their text, a whole float as the
    integer: 3.0 is the category 3 whether or not a NaN made the batch's column float); -1 for missing or
    unseen."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)  # fast on Arrow strings; lookup on the few uniques
    lut = np.r_[level_positions(uniques, pd.Index(labels, dtype=object)), -1].astype(np.int64)
    return lut[codes]  # code -1 (missing) picks the trailing -1; a blank text is no label, so missing too


def _as_frame(X, feature_names=None) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    import scipy.sparse

    if scipy.sparse.issparse(X):   # was "expected a 2-D table of features, got 0 dimension(s)"
        raise InputError("sparse input is not supported: pass a dense DataFrame or array (X.toarray())")
    arr = np.asarray(X, dtype=object if getattr(X, "dtype", None) == object else None)
    if arr.ndim != 2:
        raise InputError(f"expected a 2-D table of features, got {arr.ndim} dimension(s)")
    names = feature_names if feature_names is not None and len(feature_names) == arr.shape[1] \
        else [f"x{i}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=names)


class LGBMChallenger(ClassifierMixin, BaseEstimator):
    """LightGBM binary classifier of default (``y`` = 1 bad) for the challenger PD model.

    Parameters (LightGBM names in brackets)
    ---------------------------------------
    n_estimators : int
        Upper bound on the number of trees [num_boost_round]; early stopping picks the number used.
    learning_rate, num_leaves, max_depth, min_child_samples [min_data_in_leaf], reg_alpha [lambda_l1],
    min_split_gain, subsample [bagging_fraction], subsample_freq [bagging_freq],
    colsample_bytree [feature_fraction], max_bin, cat_smooth : tree booster settings.
    reg_lambda : float or "auto"
        L2 penalty on leaf values [lambda_l2]. A leaf value is ``-G / (H + reg_lambda)`` with ``H`` about
        ``n_leaf * p(1 - p)``, so a fixed penalty shrinks far more on a rare-default portfolio than on a 30 %
        one. ``"auto"`` sets ``reg_lambda_rows * p(1 - p)`` at the training default rate ``p``: the same
        shrinkage as adding ``reg_lambda_rows`` pseudo-rows to every leaf, whatever the default rate.
    reg_lambda_rows : float
        Pseudo-rows of ``reg_lambda="auto"``.
    feature_directions : dict, optional
        ``{feature: +1 | -1 | 0}``: +1 higher value = riskier, -1 = safer, 0 = unconstrained. Keys that are not
        columns of ``X`` are ignored (logged); a non-zero direction on a categorical column is an error.
    monotone_constraints_method : {"basic", "intermediate", "advanced"}
        LightGBM's method for enforcing the constraints.
    validation_fraction : float
        Share of the training rows held out (stratified, seeded) for early stopping on larger sets.
    cv_folds : int
        Folds of the cross-validated early stopping used when the training set has fewer than ``cv_max_rows``
        rows (0 = always use the hold-out).
    cv_max_rows : int
        Row count below which early stopping is cross-validated.
    tuning_grid : sequence of dicts, optional
        Candidate overrides of the booster settings above, compared by the same cross-validation (mean AUC
        at each candidate's best round) when early stopping is cross-validated; the best one is refitted.
        ``None`` = :data:`DEFAULT_TUNING_GRID` (with and without row/column sampling); ``()`` = no tuning.
    early_stopping_rounds : int
        Stop after this many rounds without improvement of ``eval_metric`` (0 = no early stopping: fit
        ``n_estimators`` trees on all rows).
    min_rounds : int
        Lower bound on the number of trees kept after early stopping (capped at ``n_estimators``: the default 50
        with ``n_estimators=20`` keeps 20, where it was an error about a parameter the user never set).
    eval_metric : str
        LightGBM metric watched by early stopping (``"binary_logloss"`` or ``"auc"``).
    inf_policy : {"error", "nan"}
        What ``+/-inf`` in a numeric column does: raise ``InputError`` or count as missing.
    importance_type : {"gain", "split"}
        Kind of ``feature_importances_``.
    random_state : int
        Seed (0 to 2**31 - 4; not None: every fit is seeded) of the split, the folds, bagging and feature sampling.
    n_jobs : int
        LightGBM threads for fitting; a fixed positive number (results are reproducible for a given value).
    predict_n_jobs : int, optional
        Threads for prediction and contributions; None = every core (LightGBM's own default), a number
        limits them (e.g. one per Spark worker). Rows are independent at prediction, so the output is the
        same, bit for bit, for any thread count (tested); only the speed changes.

    Defaults (learning rate 0.05, 15 leaves, ``reg_lambda="auto"``, AUC early stopping with patience 200,
    5-fold CV below 20,000 rows choosing between 0.8 and no row/column sampling) were chosen by cross-validated
    AUC on the *training* parts of the peer benchmark sets (German credit, HMEQ, Polish 1year, SBA case,
    synthetic 200k); no test rows were used.

    Fitted attributes: ``booster_`` (lightgbm.Booster), ``classes_``, ``feature_names_in_``,
    ``categorical_features_``, ``category_maps_`` (feature -> training labels), ``monotone_`` (constraint per
    column), ``default_rate_``, ``reg_lambda_``, ``best_params_`` and ``tuning_`` (the tuning candidate chosen and
    every candidate's CV score), ``best_iteration_`` (best round on the stopping data), ``n_iter_`` (trees in
    the final model), ``validation_`` (how the number of trees was chosen).
    """

    def __init__(self, n_estimators: int = 2000, learning_rate: float = 0.05, num_leaves: int = 15,
                 max_depth: int = -1, min_child_samples: int = 20,
                 reg_lambda: float | str = "auto", reg_lambda_rows: float = 20.0,
                 reg_alpha: float = 0.0, min_split_gain: float = 0.0, subsample: float = 0.8,
                 subsample_freq: int = 1, colsample_bytree: float = 0.8, max_bin: int = 255,
                 cat_smooth: float = 10.0, feature_directions: Mapping[str, int] | None = None,
                 monotone_constraints_method: str = "advanced", validation_fraction: float = 0.2,
                 cv_folds: int = 5, cv_max_rows: int = 20_000,
                 tuning_grid: tuple[dict, ...] | list[dict] | None = None, early_stopping_rounds: int = 200,
                 min_rounds: int = 50, eval_metric: str = "auc", inf_policy: str = "error",
                 importance_type: str = "gain", random_state: int = 0, n_jobs: int = 1,
                 predict_n_jobs: int | None = None):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.reg_lambda_rows = reg_lambda_rows
        self.reg_alpha = reg_alpha
        self.min_split_gain = min_split_gain
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.max_bin = max_bin
        self.cat_smooth = cat_smooth
        self.feature_directions = feature_directions
        self.monotone_constraints_method = monotone_constraints_method
        self.validation_fraction = validation_fraction
        self.cv_folds = cv_folds
        self.cv_max_rows = cv_max_rows
        self.tuning_grid = tuning_grid
        self.early_stopping_rounds = early_stopping_rounds
        self.min_rounds = min_rounds
        self.eval_metric = eval_metric
        self.inf_policy = inf_policy
        self.importance_type = importance_type
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.predict_n_jobs = predict_n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    # ------------------------------------------------------------------------------------------------------
    # parameters and encoding
    # ------------------------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Every parameter, and every tuning candidate's values, in its domain (ConfigError naming it)."""
        from creditmodel.scoring import params as P

        self._check_tunable({k: getattr(self, k) for k in _TUNABLE}, "")
        P.integer("n_estimators", self.n_estimators, 1)
        P.number("reg_lambda_rows", self.reg_lambda_rows, 0.0)
        P.integer("max_bin", self.max_bin, 2)
        P.mapping("feature_directions", self.feature_directions)
        P.number("validation_fraction", self.validation_fraction, 0.0, 1.0, hi_open=True)
        P.folds("cv_folds", self.cv_folds, "hold-out")
        P.integer("cv_max_rows", self.cv_max_rows, 0)
        P.integer("early_stopping_rounds", self.early_stopping_rounds, 0)
        P.integer("min_rounds", self.min_rounds, 0)
        P.choice("eval_metric", self.eval_metric, ("auc", "binary_logloss"))
        P.choice("inf_policy", self.inf_policy, ("error", "nan"))
        P.choice("importance_type", self.importance_type, ("gain", "split"))
        P.choice("monotone_constraints_method", self.monotone_constraints_method, ("basic", "intermediate", "advanced"))
        P.integer("n_jobs", self.n_jobs, 1)
        P.integer("predict_n_jobs", self.predict_n_jobs, 1, none=True)
        try:  # always seeded (reproducible): an integer, not None or a RandomState
            P.seed("random_state", self.random_state, SEED_MAX, none=False)
        except ConfigError as e:
            raise ConfigError(f"{e.message} (an integer seed 0..{SEED_MAX}: the challenger is always seeded)",
                              column="random_state") from None
        if self.tuning_grid is not None and not isinstance(self.tuning_grid, (list, tuple)):
            raise ConfigError(f"tuning_grid must be None (the default grid), () (no tuning) or a list of dicts, got "
                              f"{self.tuning_grid!r}", column="tuning_grid")
        for i, cand in enumerate(self._grid()):
            bad = sorted(set(cand) - set(_TUNABLE)) if isinstance(cand, Mapping) else ["(not a dict)"]
            if bad:
                raise ConfigError(f"tuning_grid[{i}]: cannot tune {bad}; tunable: {list(_TUNABLE)}",
                                  column=f"tuning_grid[{i}]")
            self._check_tunable(cand, f"tuning_grid[{i}].")

    @staticmethod
    def _check_tunable(values: Mapping, prefix: str) -> None:
        """The booster settings a tuning candidate may override; ``prefix`` names where they come from."""
        from creditmodel.scoring import params as P

        checks = {"learning_rate": lambda k, v: P.number(k, v, 0.0, lo_open=True),
                  "num_leaves": lambda k, v: P.integer(k, v, 2, 131_072),
                  "max_depth": lambda k, v: P.integer(k, v, -1),
                  "min_child_samples": lambda k, v: P.integer(k, v, 0),
                  "reg_lambda": lambda k, v: P.number(k, v, 0.0, auto=True),
                  "reg_alpha": lambda k, v: P.number(k, v, 0.0),
                  "min_split_gain": lambda k, v: P.number(k, v, 0.0),
                  "subsample": lambda k, v: P.number(k, v, 0.0, 1.0, lo_open=True),
                  "subsample_freq": lambda k, v: P.integer(k, v, 0),
                  "colsample_bytree": lambda k, v: P.number(k, v, 0.0, 1.0, lo_open=True),
                  "cat_smooth": lambda k, v: P.number(k, v, 0.0)}
        for key, value in values.items():
            checks[key](prefix + key, value)

    def _grid(self) -> list[dict]:
        grid = DEFAULT_TUNING_GRID if self.tuning_grid is None else self.tuning_grid
        return [dict(c) if isinstance(c, Mapping) else c for c in grid] or [{}]

    def _reg_lambda(self, overrides: Mapping, p: float) -> float:
        lam = overrides.get("reg_lambda", self.reg_lambda)
        return float(self.reg_lambda_rows) * p * (1 - p) if lam == "auto" else float(lam)

    def _lgb_params(self, metric: str | None = None, overrides: Mapping | None = None) -> dict:
        """LightGBM parameters; ``overrides`` (a tuning candidate) default to the fitted ``best_params_``."""
        o = dict(getattr(self, "best_params_", {}) if overrides is None else overrides)
        v = {k: o.get(k, getattr(self, k)) for k in _TUNABLE}
        seed = int(self.random_state)
        params = {
            "objective": "binary", "learning_rate": float(v["learning_rate"]), "num_leaves": int(v["num_leaves"]),
            "max_depth": int(v["max_depth"]), "min_data_in_leaf": int(v["min_child_samples"]),
            "lambda_l2": self._reg_lambda(o, self.default_rate_), "lambda_l1": float(v["reg_alpha"]),
            "min_gain_to_split": float(v["min_split_gain"]), "bagging_fraction": float(v["subsample"]),
            "bagging_freq": int(v["subsample_freq"]) if v["subsample"] < 1.0 else 0,
            "feature_fraction": float(v["colsample_bytree"]), "max_bin": int(self.max_bin),
            "cat_smooth": float(v["cat_smooth"]), "seed": seed, "bagging_seed": seed + 1,
            "feature_fraction_seed": seed + 2, "data_random_seed": seed + 3, "deterministic": True,
            "force_col_wise": True, "num_threads": int(self.n_jobs), "verbosity": -1,
            "feature_pre_filter": False, "metric": metric or "None",
        }
        if any(self.monotone_ or ()):
            params["monotone_constraints"] = list(self.monotone_)
            params["monotone_constraints_method"] = self.monotone_constraints_method
        return params

    def _min_rounds(self) -> int:
        """``min_rounds`` capped at ``n_estimators``."""
        return min(int(self.min_rounds), int(self.n_estimators))

    def _fit_encoding(self, X: pd.DataFrame) -> None:
        self.feature_names_in_ = np.array([str(c) for c in X.columns], dtype=object)
        if len(set(self.feature_names_in_)) != len(self.feature_names_in_):
            raise InputError("duplicate column names in the features")
        self.n_features_in_ = X.shape[1]
        self.categorical_features_ = []
        self.category_maps_ = {}
        for c in X.columns:
            s = X[c]
            if pd.api.types.is_datetime64_any_dtype(s.dtype) or isinstance(s.dtype, pd.PeriodDtype):
                raise InputError("date/time columns are not model features; derive numbers first", column=str(c))
            if _is_categorical(s) and not pd.api.types.is_bool_dtype(s.dtype):
                # a blank text is missing, not a label (it scored apart from '  ' and None: a reviewer's finding)
                labels = sorted({k for v in s.dropna().unique() if (k := _category_key(v)).strip()})
                self.categorical_features_.append(str(c))
                self.category_maps_[str(c)] = labels
        dirs = dict(self.feature_directions or {})
        from creditmodel.scoring.params import warn_unknown_columns

        warn_unknown_columns(self.feature_names_in_, logger, feature_directions=dirs)
        mono = []
        for name in self.feature_names_in_:
            d = dirs.get(name, 0)
            if isinstance(d, (bool, np.bool_)) or d not in (-1, 0, 1):   # True == 1 in Python: not a direction
                raise ConfigError(f"feature_directions[{name!r}]: expected -1, 0 or +1, got {d!r}",
                                  column=f"feature_directions.{name}")
            if d and name in self.category_maps_:
                raise ConfigError(f"feature_directions[{name!r}]: a categorical feature cannot be monotone",
                                  column=f"feature_directions.{name}")
            mono.append(int(d))
        self.monotone_ = mono

    def _encode(self, X) -> np.ndarray:
        """Float matrix in the training column order; categories -> codes, unseen/missing -> NaN."""
        if not isinstance(X, pd.DataFrame):  # an array: its columns are taken by position
            X = _as_frame(X)
            if X.shape[1] != self.n_features_in_:
                raise InputError(f"X has {X.shape[1]} columns, the challenger was fitted on {self.n_features_in_}")
            names = list(self.feature_names_in_)
            if names != [f"x{i}" for i in range(len(names))]:
                warnings.warn("X has no column names, but LGBMChallenger was fitted on named columns: its columns "
                              "are taken in the training order", UserWarning, stacklevel=3)
            X = X.set_axis(names, axis=1)
        cols = {str(c): c for c in X.columns}
        missing = [c for c in self.feature_names_in_ if c not in cols]
        if missing:
            raise InputError(f"{len(missing)} feature column(s) missing: {missing[:10]}", column=missing[0])
        out = np.empty((len(X), self.n_features_in_), dtype=np.float64)
        for j, name in enumerate(self.feature_names_in_):
            s = X[cols[name]]
            if name in self.category_maps_:
                codes = _category_codes(s, self.category_maps_[name])
                out[:, j] = np.where(codes < 0, np.nan, codes)
                continue
            out[:, j] = self._numeric(s, name)
        return out

    def _numeric(self, s: pd.Series, name: str) -> np.ndarray:
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna().to_numpy() & s.notna().to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(f"expected a number, got {s.iloc[i]!r} ({int(bad.sum())} such row(s))",
                                 column=name, row=i + 1)
            v = num.to_numpy(dtype=np.float64, na_value=np.nan)
        inf = np.isinf(v)
        if inf.any():
            if self.inf_policy == "error":
                i = int(np.flatnonzero(inf)[0])
                raise InputError(f"infinite value {v[i]} ({int(inf.sum())} such row(s)); inf_policy='nan' "
                                 f"treats them as missing", column=name, row=i + 1)
            v = np.where(inf, np.nan, v)
        return v

    def unseen_categories(self, X) -> pd.DataFrame:
        """Boolean frame (rows of ``X`` x categorical features): True where a non-missing category was not seen
        in training (scored as missing). ``.any(axis=1)`` flags the rows to report."""
        check_is_fitted(self, "booster_")
        X = _as_frame(X, list(self.feature_names_in_))
        cols = {str(c): c for c in X.columns}
        out = {}
        for name, labels in self.category_maps_.items():
            if name not in cols:
                raise InputError("feature column missing", column=name)
            s = X[cols[name]]
            blank = s.astype("string").str.strip().eq("").to_numpy(dtype=bool, na_value=False)   # missing, too
            out[name] = s.notna().to_numpy() & ~blank & (_category_codes(s, labels) < 0)
        return pd.DataFrame(out, index=X.index, columns=list(self.category_maps_))

    # ------------------------------------------------------------------------------------------------------
    # fit
    # ------------------------------------------------------------------------------------------------------
    def _dataset(self, Xe, y, w=None, reference=None) -> lgb.Dataset:
        cat_idx = [j for j, n in enumerate(self.feature_names_in_) if n in self.category_maps_]
        return lgb.Dataset(Xe, label=y, weight=w, reference=reference, feature_name=[f"f{j}" for j in
                           range(Xe.shape[1])], categorical_feature=cat_idx, free_raw_data=True,
                           params={"max_bin": int(self.max_bin), "verbosity": -1, "feature_pre_filter": False,
                                   "data_random_seed": int(self.random_state) + 3})

    def fit(self, X, y=None, sample_weight=None, eval_set=None, groups=None) -> LGBMChallenger:
        """Fit on ``X`` (features) and ``y`` (1 = default). ``eval_set=(X_val, y_val)`` stops early on that
        set instead of a split of ``X``. ``groups`` (one key per row, e.g. the borrower of each loan): the
        early-stopping folds or hold-out keep each group whole. Returns ``self``."""
        from creditmodel.scoring.splits import check_groups

        self._check_params()
        X = _as_frame(X)
        groups = check_groups(groups, len(X))
        y01 = fit_target(y, len(X)).astype(np.float64)
        if X.shape[1] == 0:   # before LightGBM, which failed on its forced-splits file and wrote [Fatal] to stderr
            raise InputError(NO_FEATURES)
        # 0/1 as the scorecard's, also for a bool or float target (predict said True/False); an integer target keeps
        # its dtype (int8 from the CLI), so the pickled model and its fingerprint stay those of earlier fits
        yv = np.asarray(y).ravel()
        self.classes_ = np.unique(yv) if yv.dtype.kind in "iu" else np.array([0, 1])
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
        if w is not None and (w.shape[0] != len(X) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0):
            raise InputError("sample_weight must be finite, non-negative, not all zero and one per row",
                             column="sample_weight")
        self._fit_encoding(X)
        Xe = self._encode(X)
        self.default_rate_ = float(np.average(y01, weights=w))
        self.best_params_, self.tuning_ = {}, []
        n_rounds, self.validation_, booster = self._choose_rounds(Xe, y01, w, eval_set, groups)
        if booster is None:  # refit on all training rows with the chosen number of trees
            booster = lgb.train(self._lgb_params(), self._dataset(Xe, y01, w), num_boost_round=n_rounds)
        self.booster_ = booster
        self.reg_lambda_ = self._reg_lambda(self.best_params_, self.default_rate_)
        self.n_iter_ = int(self.booster_.num_trees())
        logger.info("LGBMChallenger: %d trees on %d rows x %d features (%s)", self.n_iter_, len(X),
                    self.n_features_in_, self.validation_["kind"], extra={FIT_NOTE: True})
        return self

    def fixed_rounds_clone(self, share: float) -> LGBMChallenger:
        """An unfitted copy that trains as this fit did without choosing again: this fit's tuned parameters
        (``best_params_``) and ``ceil(n_iter_ x share)`` trees, no early stopping, but not fewer than the floor this
        fit was held to (``min(min_rounds, n_iter_)``). ``share``: the copy's training rows relative to this fit's
        (0 < share <= 1). For cross-fitted calibration: fold fits built like the final
        fit give out-of-fold outputs on the final fit's scale (fold fits that chose their own number of trees
        stopped at 50 where the final fit grew 238, and the calibration learned on them missed the final fit's
        mean PD on new rows by half)."""
        check_is_fitted(self, "booster_")
        if not 0.0 < float(share) <= 1.0:
            raise InputError(f"share must be in (0, 1], got {share!r}", parameter="share")
        from sklearn.base import clone

        copy = clone(self)
        floor = min(self._min_rounds(), self.n_iter_)
        copy.set_params(**dict(self.best_params_), n_estimators=max(1, floor, math.ceil(self.n_iter_ * float(share))),
                        early_stopping_rounds=0, min_rounds=0, tuning_grid=[{}])
        return copy

    def _choose_rounds(self, Xe, y, w, eval_set, groups=None) -> tuple[int, dict, lgb.Booster | None]:
        """Number of trees, a record of how it was chosen, and the final booster when no refit is needed."""
        n_max, patience = int(self.n_estimators), int(self.early_stopping_rounds)
        callbacks = [lgb.early_stopping(patience, first_metric_only=True, verbose=False)] if patience else []
        params = self._lgb_params(self.eval_metric)
        if eval_set is not None:
            Xv, yv = eval_set
            yv = fit_target(yv, len(_as_frame(Xv)), column="eval_set y").astype(np.float64)
            dtr = self._dataset(Xe, y, w)
            dva = self._dataset(self._encode(Xv), yv, reference=dtr)
            # keep every round grown (lgb.train otherwise cuts the booster at its best round, and the floor below
            # could never hold: a helper's mutation pass found min_rounds ignored on this path)
            b = lgb.train(params, dtr, n_max, valid_sets=[dva], valid_names=["eval"], callbacks=callbacks,
                          keep_training_booster=True)
            self.best_iteration_ = int(b.best_iteration or b.current_iteration())
            n = max(self.best_iteration_, self._min_rounds())
            if n > b.current_iteration():     # the floor lies past where early stopping ended: grow exactly n trees
                b = lgb.train(params, dtr, n)
            b = lgb.Booster(model_str=b.model_to_string(num_iteration=n))
            return n, {"kind": "eval_set", "rows": len(yv), "best_iteration": self.best_iteration_}, b
        if not patience or (self.validation_fraction == 0 and self.cv_folds == 0):
            self.best_iteration_ = n_max
            return n_max, {"kind": "none", "best_iteration": n_max}, None
        # grouped folds hold whole groups out: then the groups holding each class count (a fold with no default
        # scored its early stopping on nothing: a reviewer's finding)
        n_min_class = minority_count(y, groups)
        unit = "rows" if groups is None else "groups (borrowers)"
        use_cv = self.cv_folds and (len(y) < self.cv_max_rows or self.validation_fraction == 0)
        if use_cv:
            k = int(self.cv_folds)
            if n_min_class < k:
                raise InputError(f"only {n_min_class} {unit} in the smaller class: too few for {k}-fold early "
                                 f"stopping", column="y")
            folds = stratified_folds(y, k, int(self.random_state), groups)
            data = self._dataset(Xe, y, w)
            sign = 1.0 if self.eval_metric == "auc" else -1.0
            for cand in self._grid():
                res = lgb.cv(self._lgb_params(self.eval_metric, cand), data, n_max, folds=folds,
                             callbacks=callbacks, return_cvbooster=False)
                curve = np.asarray(res[f"valid {self.eval_metric}-mean"])
                # lightgbm.cv truncates the history at the best round when it stops early
                best = int(np.argmax(sign * curve)) + 1
                self.tuning_.append({"params": cand, "best_iteration": best, "valid_score": float(curve[best - 1])})
            pick = max(range(len(self.tuning_)), key=lambda i: (sign * self.tuning_[i]["valid_score"], -i))
            self.best_params_ = dict(self.tuning_[pick]["params"])
            self.best_iteration_ = self.tuning_[pick]["best_iteration"]
            # the fold fits' share of the rows (grouped folds are not equal in rows)
            share = (k - 1) / k if groups is None else float(np.mean([len(f) for f, _ in folds])) / len(y)
            info = {"kind": f"cv{k}", "best_iteration": self.best_iteration_,
                    "valid_score": self.tuning_[pick]["valid_score"], "params": self.best_params_}
        else:
            if n_min_class < 2:
                raise InputError(f"too few {unit} in the smaller class for a validation split", column="y")
            tr, va = stratified_holdout(y, self.validation_fraction, int(self.random_state), groups)
            dtr = self._dataset(Xe[tr], y[tr], None if w is None else w[tr])
            dva = self._dataset(Xe[va], y[va], None if w is None else w[va], reference=dtr)
            b = lgb.train(params, dtr, n_max, valid_sets=[dva], valid_names=["valid"], callbacks=callbacks)
            self.best_iteration_ = int(b.best_iteration or b.current_iteration())
            # a grouped hold-out holds out a share of the groups, not of the rows
            share = 1.0 - self.validation_fraction if groups is None else len(tr) / len(y)
            info = {"kind": "holdout", "rows": len(va), "best_iteration": self.best_iteration_,
                    "valid_score": float(b.best_score["valid"][self.eval_metric])}
        # the final model sees 1/share times more rows: scale the number of trees accordingly
        n = min(n_max, max(self._min_rounds(), math.ceil(self.best_iteration_ / share)))
        info["n_rounds_refit"] = n
        return n, info, None

    # ------------------------------------------------------------------------------------------------------
    # predict and explain
    # ------------------------------------------------------------------------------------------------------
    def _predict_threads(self) -> int:
        n = getattr(self, "predict_n_jobs", None)  # models saved before the parameter existed: every core
        return int(n) if n else max(1, os.cpu_count() or 1)

    def decision_function(self, X) -> np.ndarray:
        """Raw log-odds of default per row."""
        check_is_fitted(self, "booster_")
        return self.booster_.predict(self._encode(X), raw_score=True, num_threads=self._predict_threads())

    def predict_proba(self, X) -> np.ndarray:
        """``(n, 2)`` probabilities; column 1 is the (uncalibrated) probability of default."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """Class label with the larger probability (1 = default when p > 0.5)."""
        raw = self.decision_function(X)  # checks that the model is fitted
        return self.classes_[(raw > 0).astype(int)]

    def contributions(self, X) -> pd.DataFrame:
        """Per-row contribution of each feature to the log-odds (``pred_contrib``), plus the base value.

        Each row sums to :meth:`decision_function`; index is that of ``X`` when it is a DataFrame."""
        check_is_fitted(self, "booster_")
        c = self.booster_.predict(self._encode(X), pred_contrib=True, num_threads=self._predict_threads())
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(c, columns=[*self.feature_names_in_, BASE_VALUE], index=index)

    def reason_codes(self, X, n: int = 3) -> pd.DataFrame:
        """``reason_1..reason_n``: the features with the largest positive log-odds contributions per row
        (largest first, ties by column order); ``None`` where fewer features push the risk up."""
        contrib = self.contributions(X)
        c = contrib.to_numpy()[:, :-1]
        order = np.argsort(-c, axis=1, kind="stable")[:, :n]
        top = np.take_along_axis(c, order, axis=1)
        names = self.feature_names_in_[order].astype(object)
        names[top <= 0] = None
        out = pd.DataFrame(index=contrib.index)
        for i in range(n):  # object columns: None (not NaN) where there is no reason
            col = names[:, i] if i < names.shape[1] else np.full(len(out), None, dtype=object)
            out[f"reason_{i + 1}"] = pd.Series(col, index=contrib.index, dtype=object)
        return out

    @property
    def feature_importances_(self) -> np.ndarray:
        """Importance of each input column (``importance_type``: total gain or split count)."""
        check_is_fitted(self, "booster_")
        return self.booster_.feature_importance(importance_type=self.importance_type).astype(float)

