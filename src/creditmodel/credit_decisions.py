"""Credit decisions on the CUMCM 2020 C firms: an honest PD model, ratings, limits and rates under a budget.

CUMCM 2020 problem C (中小微企业的信贷决策) asks a bank to rate 302 small firms that have no credit record
(attachment 2) from their VAT invoices alone, and to spend an annual credit budget of 100 million yuan on
them (problem 2): loans of 100k-1m yuan for one year, at 4 %-15 % a year, nothing for D-rated firms. The
123 firms of attachment 1 carry the bank's rating (信誉评级 A-D) and whether they defaulted (是否违约).
:func:`cumcm_credit_decisions` does it in five steps.

1. **PD model with an honest quality estimate.** The 31 invoice features of
   :data:`creditmodel.data.real.CUMCM_FEATURES` feed a WoE scorecard (or the LightGBM challenger).
   :func:`cross_validate_pd` runs repeated stratified K-fold cross-validation in which *every* fitted step
   is refitted inside each training part: binning, feature selection, the regression and the PD
   calibration. With 123 rows and 27 defaults there is no room for a separate calibration sample, so the
   calibrator of outer fold k is fitted by *cross-fitting on the training folds*: each training fold j is
   scored by a model fitted without folds j and k (one model per pair of folds, shared by the two outer
   folds it serves), and :class:`~creditmodel.scoring.calibration.PDCalibrator` maps those out-of-fold
   raw scores to PD. Fold k's PD thus comes from a pipeline that never saw fold k. Per repeat this costs
   K + K(K-1)/2 fits (15 for K = 5). Reported (:meth:`CrossValidation.quality`): out-of-fold AUC with
   DeLong and bootstrap intervals, Brier score and skill, the spread over repeats, and the caveat below.
2. **The deployed model** (:class:`~creditmodel.scoring.model.CreditModel`) is the estimator fitted on
   all 123 firms, calibrated on the out-of-fold raw scores of the cross-validation (averaged over the
   repeats, one value per firm), i.e. scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` scheme.
   It rates the 302 firms: score, PD, master-scale grade (DOMAIN B3), reason codes.
3. **Bank rating and exclusion.** Each master-scale grade is mapped to the bank rating A, B or C whose
   PD is nearest on the log-odds scale to the grade's central PD. The rating PDs are the Jeffreys
   estimates ``(d + 1/2) / (n + 1)`` from attachment 1 (A 0/27 -> 1.8 %, B 1/38 -> 3.8 %, C 2/34 ->
   7.1 %), so grades 1-6 -> A, 7 -> B, 8-10 -> C with the default scale. A firm whose PD is at least
   ``d_threshold`` (default 0.5: more likely to default than not, as every D firm of attachment 1 did)
   is rated **D** (D-like) and gets no loan, whatever its grade.
4. **Limit cap from sales.** ``max_limit = min(max_loan, floor_10k(limit_share x annual sales))`` with
   annual sales = annualised net valid sales from the invoices (``expm1(log_sales)``, yuan per year) and
   ``limit_share`` 0.2 [M]: the working-capital need of a firm turning its working capital about four to
   five times a year, own funds unknown (the spirit of the estimate in the annex of the CBRC 2010 流动资金
   贷款管理暂行办法, recalled, not read). A cap below the minimum loan (100k) means no loan.
5. **Allocation.** The rate-versus-churn curves of attachment 3 (:mod:`creditmodel.pricing_churn`) give,
   per firm, the rate in [4 %, 15 %] maximising ``(1 - churn(r)) [(1 - PD) r - PD LGD - cost]``; the
   budget goes to the limits with the highest expected profit (:func:`creditmodel.pricing_allocation.allocate`,
   a MILP). ``cost`` is the funding cost, operating cost, capital charge (IRB capital with the SME
   firm-size adjustment from the firm's sales, at the loans' own effective maturity ``maturity``, 1 year, not
   the configuration's ``maturity`` for loans of unknown term, F-IRB's 2.5 years) and margin of the pricing
   configuration (:class:`~creditmodel.pricing.PricingConfig`), or 0 with ``costs=False`` (the contest's view).
   The naive baseline lends the budget in equal parts at the middle rate of the range.

**Caveat (read before quoting the AUC).** All 24 D-rated firms of attachment 1 defaulted and only 3 of the
99 A-C firms did: the label is practically "the bank rated the firm D". An AUC near the one of a perfect
D detector (about 0.94) means the model finds D firms, not that it ranks risk among the firms a bank would
lend to; :meth:`CrossValidation.quality` therefore also reports the AUC within A-C (3 defaults: its
interval is very wide) and the AUC for "rated D" against the rest.

Everything is seeded: same data, parameters and seed give identical outputs, whatever ``n_jobs``.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold
from creditmodel.progress import tqdm

from creditmodel.errors import ConfigError, InputError
from creditmodel.pricing import PricingConfig, load_config, risk_based_rate
from creditmodel.pricing_allocation import Allocation, AllocationRules, allocate, naive_allocation
from creditmodel.pricing_churn import (
    ChurnCurve,
    churn_fit_report,
    fit_churn_curves,
    jeffreys_pd,
    load_rate_churn,
    optimal_rates_by_grade,
)
from creditmodel.workers import check_n_jobs, run_tasks

log = logging.getLogger(__name__)

KINDS = ("scorecard", "lightgbm")
#: The bank's ratings that have a churn curve (attachment 3); D is never lent to.
BANK_RATINGS = ("A", "B", "C")
EXCLUDED_RATING = "D"
#: Scorecard settings fixed before looking at the results: with about 22 defaults per training part only
#: features of at least medium strength (IV >= 0.1, the usual rule of thumb) are used.
SCORECARD_PARAMS: dict[str, Any] = {"min_iv": 0.1}
#: LightGBM challenger settings for ~100 training rows: small leaves, fewer trees to search.
LIGHTGBM_PARAMS: dict[str, Any] = {
    "min_child_samples": 10,
    "num_leaves": 7,
    "n_estimators": 500,
    "early_stopping_rounds": 50,
    "min_rounds": 20,
}
RATE_CHURN_NAME = "attachment3_rate_vs_churn.csv"
#: Effective maturity (Basel M, years) of the CUMCM loans, which run one year (problem 2). It presumes a bank that
#: measures M (A-IRB, or F-IRB where the supervisor requires it, CRE32.44-45); one on F-IRB's fixed 2.5 years passes
#: ``maturity=2.5``.
LOAN_MATURITY = 1.0


# ============================================================================== cross-validation
def _estimator(kind: str, seed: int, params: Mapping[str, Any] | None):
    from creditmodel.data.real import CUMCM_FEATURES
    from creditmodel.scoring.train import make_estimator

    if kind not in KINDS:
        raise InputError(f"unknown model kind {kind!r}; use one of {KINDS}", column="kind")
    base = dict(SCORECARD_PARAMS if kind == "scorecard" else LIGHTGBM_PARAMS)
    base.update(params or {})
    directions = {k: v.direction for k, v in CUMCM_FEATURES.items()}
    return make_estimator(kind, directions, [], seed, base)


def _raw(est, kind: str, X: pd.DataFrame) -> np.ndarray:
    """What the calibrator reads: scorecard points (higher = safer) or LightGBM log-odds of bad."""
    if kind == "scorecard":
        return np.asarray(est.points(X), dtype=float)
    return np.asarray(est.decision_function(X), dtype=float)


def _used_features(est, kind: str, columns: Sequence[str]) -> list[str]:
    if kind == "scorecard":
        return list(est.selected_features_)
    imp = getattr(est, "feature_importances_", None)
    return list(columns) if imp is None else [c for c, v in zip(columns, imp) if v > 0]


def _fit_and_score(
    kind: str, seed: int, params, X_fit: pd.DataFrame, y_fit: np.ndarray, X_score: pd.DataFrame
) -> tuple[np.ndarray, list[str]]:
    """Fit one estimator and return its raw output on ``X_score`` and the features it uses (joblib task)."""
    est = _estimator(kind, seed, params).fit(X_fit, y_fit)
    return _raw(est, kind, X_score), _used_features(est, kind, list(X_fit.columns))


@dataclass
class CrossValidation:
    """Out-of-fold results of :func:`cross_validate_pd` (rows in input order; R = repeats).

    ``oof_pd`` and ``oof_raw`` are (n, R): the calibrated PD (fraction) and the raw model output of each row
    from the pipeline of the fold that held it out; ``fold`` (n, R) is the fold number. ``folds`` holds one
    row per (repeat, fold): training and test counts, features used, calibration method, test AUC.
    ``selection`` is the share of the R x K outer models that used each feature.
    """

    kind: str
    cv_folds: int
    repeats: int
    seed: int
    calibration: str
    y: np.ndarray
    oof_pd: np.ndarray
    oof_raw: np.ndarray
    fold: np.ndarray
    folds: pd.DataFrame
    selection: pd.Series
    n_fits: int
    seconds: float

    @property
    def pd(self) -> np.ndarray:
        """Out-of-fold PD per row averaged over the repeats (each value still from held-out pipelines)."""
        return self.oof_pd.mean(axis=1)

    @property
    def raw(self) -> np.ndarray:
        """Out-of-fold raw output per row averaged over the repeats."""
        return self.oof_raw.mean(axis=1)

    def repeat_metrics(self) -> pd.DataFrame:
        """AUC and Brier score of each repeat's out-of-fold PDs."""
        from creditmodel.validation import metrics as M

        return pd.DataFrame(
            [
                {
                    "repeat": r,
                    "auc": M.auc(self.y, self.oof_pd[:, r]),
                    "brier": M.brier(self.y, self.oof_pd[:, r]).brier,
                }
                for r in range(self.repeats)
            ]
        )

    def quality(
        self, rating: Sequence[str] | None = None, n_boot: int = 2000, d_threshold: float = 0.5
    ) -> dict[str, float]:
        """Out-of-fold quality as flat metrics (fractions), with the D caveat when ``rating`` is given.

        ``auc`` (DeLong interval ``auc_ci_low/high``, stratified bootstrap ``auc_boot_low/high``) and
        ``brier`` are computed on :attr:`pd`; ``auc_repeat_mean/sd/min/max`` and ``brier_repeat_mean`` show
        the spread over partitions; ``brier_skill = 1 - brier / brier_base`` with ``brier_base`` the Brier
        score of the constant default rate. With the bank's ``rating`` (A-D per row): ``auc_within_abc``
        (with bootstrap interval; DeLong where computable), ``auc_d_vs_rest`` (the PD ranking "rated D"),
        the benchmarks ``auc_bank_rating`` (the rating itself as a score) and ``auc_perfect_d_detector``
        (a score that is 1 for D and 0 otherwise), the mean PD within D and within A-C, and
        ``d_like_recall`` / ``d_like_false_share``: the share of D firms, and of A-C firms, whose
        out-of-fold PD is at least ``d_threshold``.
        """
        from creditmodel.validation import metrics as M

        y, p = self.y, self.pd
        a = M.auc_delong(y, p)
        bs = M.bootstrap_discrimination(y, p, n_boot=n_boot, seed=self.seed)
        rep = self.repeat_metrics()
        base = float(y.mean())
        brier = M.brier(y, p).brier
        q: dict[str, float] = {
            "n": float(len(y)),
            "defaults": float(y.sum()),
            "default_rate": base,
            "auc": a.auc,
            "auc_ci_low": a.ci_low,
            "auc_ci_high": a.ci_high,
            "auc_boot_low": bs.auc[0],
            "auc_boot_high": bs.auc[1],
            "gini": 2 * a.auc - 1,
            "ks": M.ks_statistic(y, p).ks,
            "auc_repeat_mean": float(rep["auc"].mean()),
            "auc_repeat_sd": float(rep["auc"].std(ddof=1)) if len(rep) > 1 else 0.0,
            "auc_repeat_min": float(rep["auc"].min()),
            "auc_repeat_max": float(rep["auc"].max()),
            "brier": brier,
            "brier_repeat_mean": float(rep["brier"].mean()),
            "brier_base": base * (1 - base),
            "brier_skill": 1 - brier / (base * (1 - base)),
            "mean_pd": float(p.mean()),
        }
        if rating is not None:
            r = np.asarray(rating, dtype=object).astype(str)
            if r.shape != y.shape:
                raise InputError(f"rating has {r.size} values for {y.size} rows", column="rating")
            is_d = r == EXCLUDED_RATING
            abc = ~is_d
            order = {"A": 0, "B": 1, "C": 2, "D": 3}
            q["auc_bank_rating"] = M.auc(y, np.array([order.get(x, np.nan) for x in r], float))
            q["auc_perfect_d_detector"] = M.auc(y, is_d.astype(float))
            if 0 < is_d.sum() < len(r):
                q["auc_d_vs_rest"] = M.auc(is_d.astype(int), p)
            q["n_abc"], q["defaults_abc"] = float(abc.sum()), float(y[abc].sum())
            if 0 < y[abc].sum() < abc.sum():
                q["auc_within_abc"] = M.auc(y[abc], p[abc])
                b2 = M.bootstrap_discrimination(y[abc], p[abc], n_boot=n_boot, seed=self.seed)
                q["auc_within_abc_boot_low"], q["auc_within_abc_boot_high"] = b2.auc
                try:
                    a2 = M.auc_delong(y[abc], p[abc])
                    q["auc_within_abc_ci_low"], q["auc_within_abc_ci_high"] = a2.ci_low, a2.ci_high
                except InputError as e:
                    log.info("no DeLong interval within A-C: %s", e)
            q["mean_pd_d"] = float(p[is_d].mean()) if is_d.any() else float("nan")
            q["mean_pd_abc"] = float(p[abc].mean()) if abc.any() else float("nan")
            q["default_rate_abc"] = float(y[abc].mean()) if abc.any() else float("nan")
            flagged = p >= d_threshold
            q["d_like_recall"] = float(flagged[is_d].mean()) if is_d.any() else float("nan")
            q["d_like_false_share"] = float(flagged[abc].mean()) if abc.any() else float("nan")
        return q


def _is_whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_cv_folds(cv_folds: Any, parameter: str = "cv_folds") -> None:
    """Raise :class:`InputError` unless ``cv_folds`` is a whole number >= 3 (the calibration needs two training
    folds)."""
    if not _is_whole(cv_folds) or cv_folds < 3:
        raise InputError(f"cv_folds must be a whole number of at least 3 (the calibration needs two training "
                         f"folds), got {cv_folds!r}", parameter=parameter)


def check_cv_repeats(repeats: Any, parameter: str = "repeats") -> None:
    """Raise :class:`InputError` unless ``repeats`` (cross-validation repeats) is a whole number >= 1."""
    if not _is_whole(repeats) or repeats < 1:
        raise InputError(f"{parameter} must be a whole number of at least 1, got {repeats!r}", parameter=parameter)


def check_budget(budget: Any, parameter: str = "budget") -> None:
    """Raise :class:`InputError` unless ``budget`` (yuan per year) is a positive finite number."""
    if isinstance(budget, bool) or not (isinstance(budget, (int, float, np.integer, np.floating))
                                        and math.isfinite(budget) and budget > 0):
        raise InputError(f"budget must be a positive number of yuan, got {budget!r}", parameter=parameter)


def check_maturity(maturity: Any, parameter: str = "maturity") -> float:
    """``maturity`` (years) held to Basel's 1-5 years (CRE32.46), as :func:`creditmodel.pricing.price_frame` holds its
    ``maturity`` column; :class:`InputError` unless it is a positive finite number."""
    if isinstance(maturity, bool) or not (isinstance(maturity, (int, float, np.integer, np.floating))
                                          and math.isfinite(maturity) and maturity > 0):
        raise InputError(f"maturity must be a positive number of years, got {maturity!r}", parameter=parameter)
    held = min(max(float(maturity), 1.0), 5.0)
    if held != maturity:
        log.info("maturity %g years is held to %g (Basel's floor and cap on M, 1-5 years)", maturity, held)
    return held


def _fold_ids(y: np.ndarray, cv_folds: int, repeats: int, seed: int) -> np.ndarray:
    """(n, repeats) fold number of each row: stratified, shuffled, seeded per repeat from ``seed``."""
    seeds = np.random.SeedSequence(seed).generate_state(repeats)
    out = np.empty((len(y), repeats), dtype=np.int64)
    for r in range(repeats):
        skf = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=int(seeds[r]))
        for k, (_, te) in enumerate(skf.split(np.zeros(len(y)), y)):
            out[te, r] = k
    return out


def cross_validate_pd(
    X: pd.DataFrame,
    y,
    kind: str = "scorecard",
    seed: int = 42,
    cv_folds: int = 5,
    repeats: int = 3,
    calibration: str = "auto",
    estimator_params: Mapping[str, Any] | None = None,
    n_jobs: int = 1,
    progress: bool = False,
    folds: np.ndarray | None = None,
) -> CrossValidation:
    """Repeated stratified K-fold cross-validation of the whole PD pipeline (see the module docstring).

    For each repeat and outer fold k: the estimator (binning, selection, regression; or LightGBM with its
    early stopping) is fitted on the other folds; the calibrator (``calibration``: ``"auto"``, ``"platt"``
    or ``"isotonic"``, :class:`~creditmodel.scoring.calibration.PDCalibrator`) is fitted on the training
    folds' cross-fitted raw scores, each fold j scored by the model fitted without folds j and k. ``n_jobs``
    fits run in parallel (joblib); results do not depend on it. Needs at least 3 folds and, in every
    training part, both classes. ``folds`` (optional, (n,) or (n, repeats) integers 0..K-1) fixes the
    fold of every row instead of the seeded stratified assignment; ``cv_folds`` and ``repeats`` then follow it.
    """
    from creditmodel.scoring.calibration import PDCalibrator

    t0 = time.perf_counter()
    check_n_jobs(n_jobs)
    if kind not in KINDS:
        raise InputError(f"unknown model kind {kind!r}; use one of {KINDS}", column="kind")
    if not isinstance(X, pd.DataFrame):
        raise InputError("X must be a DataFrame of features")
    yy = np.asarray(y, dtype=float).ravel()
    if yy.shape[0] != len(X) or np.isnan(yy).any() or not np.isin(yy, (0.0, 1.0)).all():
        raise InputError("y must be 0/1 (1 = default), one value per row of X", column="y")
    yy = yy.astype(np.int64)
    if folds is not None:
        fold = np.asarray(folds)
        fold = fold.reshape(-1, 1) if fold.ndim == 1 else fold
        if fold.ndim != 2 or fold.shape[0] != len(yy) or fold.dtype.kind not in "iu":
            raise InputError(
                "folds must be integers, one row per row of X (and one column per repeat)", column="folds"
            )
        cv_folds, repeats = int(fold.max()) + 1, fold.shape[1]
        if fold.min() < 0 or any(len(np.unique(fold[:, r])) != cv_folds for r in range(repeats)):
            raise InputError(f"every repeat must use each fold 0..{cv_folds - 1}", column="folds")
    check_cv_folds(cv_folds)
    check_cv_repeats(repeats)
    n_min = int(min(yy.sum(), len(yy) - yy.sum()))
    if folds is None and n_min < cv_folds:
        raise InputError(f"only {n_min} rows in the smaller class: fewer than {cv_folds} folds", column="y")
    X = X.reset_index(drop=True)
    fold = _fold_ids(yy, cv_folds, repeats, seed) if folds is None else fold.astype(np.int64)
    for r, k in itertools.product(range(repeats), range(cv_folds)):
        for ex in [(k,)] + [(k, j) for j in range(cv_folds) if j != k]:
            yt = yy[~np.isin(fold[:, r], ex)]
            if yt.min() == yt.max():
                raise InputError(
                    f"repeat {r}: the rows outside folds {ex} have one class only", column="folds"
                )

    # every (repeat, excluded folds) fit: singletons are the outer models, pairs the calibration models
    tasks = [
        (r, ex)
        for r in range(repeats)
        for ex in [(k,) for k in range(cv_folds)] + list(itertools.combinations(range(cv_folds), 2))
    ]

    def args(r, ex):
        held = np.isin(fold[:, r], ex)
        return (kind, seed, estimator_params, X.loc[~held], yy[~held], X.loc[held])

    from creditmodel.scoring.params import fold_fits_quiet

    # the folds' notes on their settings and data (few defaults ...) are the final fit's to say, once
    with tqdm(total=len(tasks), desc=f"cross-validation ({kind})", disable=not progress, leave=False) as bar, \
            fold_fits_quiet():
        done = run_tasks(((_fit_and_score, args(r, ex)) for r, ex in tasks), n_jobs=n_jobs, progress=bar,
                         n_tasks=len(tasks))  # a generator: one task's data slices at a time
    fitted = {t: d for t, d in zip(tasks, done)}

    n = len(yy)
    oof_pd, oof_raw = np.full((n, repeats), np.nan), np.full((n, repeats), np.nan)
    rows, used = [], []
    for r in range(repeats):
        f = fold[:, r]
        for k in range(cv_folds):
            test = f == k
            raw_k, feats = fitted[(r, (k,))]
            oof_raw[test, r] = raw_k
            cal_raw = np.empty(n)
            for j in range(cv_folds):
                if j == k:
                    continue
                pair_raw, _ = fitted[(r, tuple(sorted((j, k))))]
                held = np.isin(f, (j, k))
                cal_raw[f == j] = pair_raw[f[held] == j]  # rows of fold j, from the model without j and k
            train = ~test
            cal = PDCalibrator(method=calibration, higher_is_riskier=(kind == "lightgbm"), random_state=seed)
            cal.fit(cal_raw[train], yy[train])
            oof_pd[test, r] = cal.predict(raw_k)
            used.append(feats)
            yt = yy[test]
            auc_k = float("nan")
            if 0 < yt.sum() < len(yt):
                from creditmodel.validation.metrics import auc

                auc_k = auc(yt, oof_pd[test, r])
            rows.append(
                {
                    "repeat": r,
                    "fold": k,
                    "n_train": int(train.sum()),
                    "defaults_train": int(yy[train].sum()),
                    "n_test": int(test.sum()),
                    "defaults_test": int(yt.sum()),
                    "n_features": len(feats),
                    "calibration": cal.method_,
                    "test_auc": auc_k,
                }
            )
    counts = pd.Series(0.0, index=list(X.columns))
    for feats in used:
        counts[feats] += 1
    selection = (counts / len(used)).sort_values(ascending=False, kind="stable").rename("share_of_models")
    secs = time.perf_counter() - t0
    log.info(
        "cross-validation (%s): %d repeats x %d folds, %d fits in %.1f s",
        kind,
        repeats,
        cv_folds,
        len(tasks),
        secs,
    )
    return CrossValidation(
        kind,
        int(cv_folds),
        int(repeats),
        int(seed),
        calibration,
        yy,
        oof_pd,
        oof_raw,
        fold,
        pd.DataFrame(rows),
        selection,
        len(tasks),
        secs,
    )


def fit_final_model(
    X: pd.DataFrame,
    y,
    cv: CrossValidation,
    estimator_params: Mapping[str, Any] | None = None,
    name: str | None = None,
):
    """The deployed :class:`~creditmodel.scoring.model.CreditModel`: the estimator fitted on all rows,
    calibrated on the cross-validation's out-of-fold raw scores (:attr:`CrossValidation.raw`)."""
    from creditmodel.data.real import CUMCM_FEATURES
    from creditmodel.scoring.calibration import PDCalibrator
    from creditmodel.scoring.master_scale import MasterScale
    from creditmodel.scoring.model import CreditModel, InputSpec

    yy = np.asarray(y, dtype=np.int64).ravel()
    if len(yy) != len(cv.y) or not np.array_equal(yy, cv.y):
        raise InputError("y differs from the target the cross-validation was run on", column="y")
    est = _estimator(cv.kind, cv.seed, estimator_params).fit(X, yy)
    cal = PDCalibrator(method=cv.calibration, higher_is_riskier=(cv.kind == "lightgbm"), random_state=cv.seed)
    cal.fit(cv.raw, yy)
    catalogue = pd.DataFrame(
        [
            {
                "code": f.name,
                "name_zh": f.name,
                "name_en": f.name,
                "meaning": f.meaning,
                "direction": f.direction,
                "reason_zh": f"发票指标不利: {f.name}",
                "reason_en": f"Unfavourable invoice signal: {f.name}",
            }
            for f in CUMCM_FEATURES.values()
            if f.name in X.columns
        ]
    )
    meta = {
        "data": "CUMCM 2020 C attachment 1 (123 rated firms)",
        "target": "default (是否违约)",
        "seed": cv.seed,
        "calibration": f"on out-of-fold raw scores of {cv.repeats}x{cv.cv_folds}-fold CV",
    }
    return CreditModel(
        est,
        cal,
        MasterScale(),
        InputSpec.from_frame(X),
        cv.kind,
        name or f"cumcm_{cv.kind}",
        catalogue,
        metadata=meta,
    )


# ============================================================================== ratings and limits
def rating_pds(rated: pd.DataFrame) -> pd.DataFrame:
    """Per bank rating of attachment 1: firms, defaults, observed rate and Jeffreys PD ``(d + 1/2)/(n + 1)``."""
    g = rated.groupby("rating", sort=True)["default"].agg(n="size", defaults="sum").reset_index()
    g["default_rate"] = g["defaults"] / g["n"]
    g["jeffreys_pd"] = jeffreys_pd(g["defaults"].to_numpy(), g["n"].to_numpy())
    return g


def grade_to_rating(rating_pd: Mapping[str, float], scale=None) -> pd.DataFrame:
    """Map each master-scale grade to the bank rating (A/B/C) whose PD is nearest on the log-odds scale.

    ``rating_pd``: PD (fraction) per rating, e.g. the Jeffreys PDs of :func:`rating_pds`. Returns one row
    per grade (``D`` excluded): ``grade, central_pd, rating, rating_pd``.
    """
    from scipy.special import logit

    from creditmodel.scoring.master_scale import MasterScale

    scale = scale or MasterScale()
    names = [r for r in BANK_RATINGS if r in rating_pd]
    if not names:
        raise InputError(f"no PD for any of the ratings {BANK_RATINGS}", column="rating_pd")
    for r in names:   # 0, 1, a percentage or NaN mapped every grade to one rating without a word (a reviewer's finding)
        v = rating_pd[r]
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and 0.0 < float(v) < 1.0
        if not ok:
            raise InputError(f"rating {r}: PD must be a fraction strictly between 0 and 1, got {v!r} (a percentage? "
                             "0.018 for 1.8 %)", column="rating_pd")
    lo = np.array([logit(float(rating_pd[r])) for r in names])
    t = scale.table()
    t = t[t["grade"] != EXCLUDED_RATING][["grade", "central_pd"]].reset_index(drop=True)
    near = np.argmin(np.abs(logit(t["central_pd"].to_numpy())[:, None] - lo[None, :]), axis=1)
    t["rating"] = [names[i] for i in near]
    t["rating_pd"] = [float(rating_pd[names[i]]) for i in near]
    return t


def bank_rating(master_grade, pd_12m, mapping: pd.DataFrame, d_threshold: float = 0.5) -> np.ndarray:
    """Bank rating per firm: ``D`` where PD >= ``d_threshold`` (or grade D), else the grade's mapped rating.

    A missing PD or grade gives ``None``.
    """
    if not 0.0 < d_threshold <= 1.0:
        raise InputError(f"d_threshold must lie in (0, 1], got {d_threshold}", column="d_threshold")
    m = dict(zip(mapping["grade"].astype(str), mapping["rating"]))
    g = pd.Series(np.asarray(master_grade, dtype=object))
    out = g.map(lambda x: m.get(str(x)) if pd.notna(x) else None).to_numpy(dtype=object)
    p = np.asarray(pd_12m, dtype=float)
    off = np.flatnonzero(~np.isnan(p) & ((p < 0.0) | (p > 1.0)))
    if len(off):   # a PD of 5 was rated D and -0.2 rated by its grade (a reviewer's finding)
        raise InputError(f"pd_12m must be a fraction in [0, 1]; got {p[off[0]]:g} ({len(off)} such row(s))",
                         column="pd_12m", row=int(off[0]) + 1)
    d = (p >= d_threshold) | (g.astype(str) == EXCLUDED_RATING).to_numpy()
    out[d] = EXCLUDED_RATING
    out[np.isnan(p)] = None
    return out


def max_limits(
    annual_sales, share: float = 0.2, max_loan: float = 1_000_000.0, step: float = 10_000.0
) -> np.ndarray:
    """Per-firm limit cap (yuan): ``min(max_loan, floor(share x annual_sales / step) x step)``, 0 for no sales.

    ``annual_sales``: yuan per year (NaN or negative -> 0). The allocation gives no loan when the cap is
    below its minimum loan.
    """
    if not 0 < share <= 10:
        raise InputError(f"limit share of sales must lie in (0, 10], got {share}", column="limit_share")
    s = np.nan_to_num(np.asarray(annual_sales, dtype=float), nan=0.0)
    s = np.clip(s, 0.0, None)
    return np.minimum(max_loan, np.floor(np.round(share * s / step, 9)) * step)


def cost_rates(pd_12m, sales_yuan, config: PricingConfig, maturity: float | None = None) -> np.ndarray:
    """Cost per yuan lent other than the expected loss: funding + opex + capital charge + margin (per year).

    Capital from :func:`creditmodel.pricing.risk_based_rate` with the default-collateral LGD and the SME
    firm-size adjustment from the firm's sales (yuan -> EUR m with ``config.cny_per_eur``; NaN sales: size
    unknown, no adjustment, as in :func:`creditmodel.pricing.price_frame`), at effective maturity ``maturity``
    (years, held to 1-5: :func:`check_maturity`; None: ``config.maturity``). K is computed at the Basel-floored
    PD; the expected loss left out is the allocation's, at the unfloored PD
    (:mod:`creditmodel.pricing_allocation`). NaN PD -> NaN.
    """
    m = config.maturity if maturity is None else check_maturity(maturity)
    p = np.asarray(pd_12m, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        sales = np.broadcast_to(np.asarray(sales_yuan, dtype=float), p.shape)[ok] / config.cny_per_eur / 1e6
        sales = np.where(np.isnan(sales), np.inf, sales)
        br = risk_based_rate(
            p[ok],
            config.lgd[config.default_collateral],
            funding_cost=config.funding_cost,
            opex=config.opex,
            hurdle_rate=config.hurdle_rate,
            capital_ratio=config.capital_ratio,
            capital_benefit_rate=config.capital_benefit,
            margin=config.margin,
            maturity=m,
            sales_eur_m=np.clip(sales, 0.0, None),
            framework=config.framework,
            asset_class=config.asset_class,
        )
        out[ok] = br.rate - br.expected_loss
    return out


# ============================================================================== the whole decision
def within_abc_verdict(quality: Mapping[str, float], level: float = 0.5) -> tuple[str, float, float, str]:
    """Does the out-of-fold PD rank risk among the A-C firms? From the AUC interval within A-C:

    ``("ranks", lo, hi, kind)`` when the interval lies above ``level`` (0.5: chance), ``"inverse"`` when below,
    ``"no_evidence"`` when it contains ``level``, ``"not_computable"`` when there is no AUC or interval within
    A-C (no defaults, or only defaults, there). The interval is the bootstrap one shown in the notebook
    (``kind`` "bootstrap"), else DeLong's (``kind`` "DeLong")."""
    if not np.isfinite(quality.get("auc_within_abc", np.nan)):
        return "not_computable", np.nan, np.nan, ""
    for kind, lo_key, hi_key in (
        ("bootstrap", "auc_within_abc_boot_low", "auc_within_abc_boot_high"),
        ("DeLong", "auc_within_abc_ci_low", "auc_within_abc_ci_high"),
    ):
        lo, hi = float(quality.get(lo_key, np.nan)), float(quality.get(hi_key, np.nan))
        if np.isfinite(lo) and np.isfinite(hi):
            verdict = "ranks" if lo > level else "inverse" if hi < level else "no_evidence"
            return verdict, lo, hi, kind
    return "not_computable", np.nan, np.nan, ""


def _within_abc_reading(q: Mapping[str, float]) -> str:
    """The summary's caveat, following :func:`within_abc_verdict`."""
    return {"ranks": "it also ranks risk within A-C",
            "inverse": "within A-C it ranks risk the wrong way round",
            "no_evidence": "no evidence that it ranks risk within A-C: the model mainly finds D firms",
            "not_computable": "no interval within A-C"}[within_abc_verdict(q)[0]]


@dataclass
class CreditDecisionResult:
    """Everything :func:`cumcm_credit_decisions` decided, and why.

    * ``cv`` / ``quality``: the cross-validation and its metrics (:meth:`CrossValidation.quality`);
      ``insample_auc``: the final model's AUC on its own 123 training rows (optimistic, for contrast).
    * ``model``: the deployed :class:`~creditmodel.scoring.model.CreditModel`.
    * ``rated``: the 123 firms with the bank's rating, default, out-of-fold PD, and the rating the
      out-of-fold PD would get (``oof_grade``, ``oof_rating``): a check of the grade -> rating map.
    * ``rating_pd`` (Jeffreys PD per bank rating), ``rating_map`` (grade -> A/B/C).
    * ``decisions``: the 302 firms: score, grade, PD, reason codes, rating, sales, cap, limit, rate,
      take-up probability and expected amounts (yuan), and the reason when there is no loan.
    * ``allocation`` / ``naive``: the optimised and the naive allocation; ``curves``, ``churn_report``,
      ``optimal_rates`` (best rate per rating at its Jeffreys PD, without and with costs).
    """

    quality: dict[str, float]
    insample_auc: float
    cv: CrossValidation
    model: Any
    rated: pd.DataFrame
    rating_pd: pd.DataFrame
    rating_map: pd.DataFrame
    decisions: pd.DataFrame
    allocation: Allocation
    naive: Allocation
    curves: dict[str, ChurnCurve]
    churn_report: pd.DataFrame
    optimal_rates: pd.DataFrame
    rules: AllocationRules
    config: PricingConfig
    settings: dict[str, Any] = field(default_factory=dict)

    def comparison(self) -> pd.DataFrame:
        """The optimised and the naive allocation side by side (amounts in yuan, returns as fractions)."""
        keys = [
            "n_loans",
            "limits",
            "expected_lent",
            "expected_interest",
            "expected_loss",
            "expected_cost",
            "expected_profit",
            "return_on_lent",
            "return_on_budget",
        ]
        return pd.DataFrame(
            {
                "optimised": [self.allocation.totals[k] for k in keys],
                "naive": [self.naive.totals[k] for k in keys],
            },
            index=pd.Index(keys, name="total"),
        )

    def loans(self) -> pd.DataFrame:
        """The firms that get a loan, largest expected profit first."""
        d = self.decisions
        return (
            d[d["limit"] > 0]
            .sort_values(["expected_profit", "firm_id"], ascending=[False, True], kind="stable")
            .reset_index(drop=True)
        )

    def by_rating(self) -> pd.DataFrame:
        """Per bank rating: firms, loans, limits, mean PD and rate, expected amounts (yuan). ``mean_pd`` is over
        all the rating's firms, ``mean_pd_of_loans`` over those lent to, as the amounts and ``mean_rate_of_loans``
        (C read 15.48 % over its 225 firms beside the amounts of its 68 loans, whose mean PD is 6.14 %: a
        validator's finding)."""
        d = self.decisions.assign(lent=lambda x: x["limit"] > 0)
        g = d.groupby("rating", dropna=False, sort=True)
        out = g.agg(
            firms=("firm_id", "size"),
            loans=("lent", "sum"),
            mean_pd=("pd_12m", "mean"),
            limits=("limit", "sum"),
            expected_lent=("expected_lent", "sum"),
            expected_interest=("expected_interest", "sum"),
            expected_loss=("expected_loss", "sum"),
            expected_profit=("expected_profit", "sum"),
        ).reset_index()
        lent = d[d["lent"]].groupby("rating")
        out.insert(out.columns.get_loc("mean_pd") + 1, "mean_pd_of_loans", out["rating"].map(lent["pd_12m"].mean()))
        out["mean_rate_of_loans"] = out["rating"].map(lent["rate"].mean())
        return out

    def rating_agreement(self) -> dict[str, float]:
        """How far the ratings from the out-of-fold PDs agree with the bank's on the rated firms: ``firms``,
        ``agree`` (same rating) and ``agree_share``, and per bank rating the firms the PD puts two or more ratings
        away (``far_<rating>``; A against C or D, B against D...). The notebook showed the crosstab alone."""
        r = self.rated.dropna(subset=["rating", "oof_rating"])
        order = {k: i for i, k in enumerate([*BANK_RATINGS, EXCLUDED_RATING])}
        a = r["rating"].astype(str).map(order)
        b = r["oof_rating"].astype(str).map(order)
        ok = a.notna() & b.notna()
        out: dict[str, float] = {"firms": float(ok.sum()), "agree": float((a[ok] == b[ok]).sum())}
        out["agree_share"] = out["agree"] / out["firms"] if out["firms"] else float("nan")
        for k in order:
            sel = ok & (r["rating"].astype(str) == k)
            out[f"far_{k}"] = float(((a[sel] - b[sel]).abs() >= 2).sum())
        return out

    def metrics(self) -> dict[str, float]:
        """Flat metrics for MLflow: ``cv_*`` quality, ``alloc_*`` and ``naive_*`` totals, counts."""
        m = {f"cv_{k}": v for k, v in self.quality.items()}
        m["insample_auc"] = self.insample_auc
        m.update({f"alloc_{k}": v for k, v in self.allocation.totals.items()})
        m.update({f"naive_{k}": v for k, v in self.naive.totals.items()})
        d = self.decisions
        if self.rated is not None:   # how far our out-of-fold ratings agree with the bank's (rating_agreement)
            m.update({f"rating_{k}": v for k, v in self.rating_agreement().items()})
        m["unrated_firms"] = float(len(d))
        m["unrated_d_like"] = float((d["rating"] == EXCLUDED_RATING).sum())
        for r in BANK_RATINGS:
            m[f"unrated_rating_{r}"] = float((d["rating"] == r).sum())
        m["profit_gain_vs_naive"] = (
            self.allocation.totals["expected_profit"] - self.naive.totals["expected_profit"]
        )
        m["cv_seconds"] = self.cv.seconds
        return m

    def summary(self) -> str:
        q, t, nv = self.quality, self.allocation.totals, self.naive.totals
        head = (
            f"PD model ({self.cv.kind}), {self.cv.repeats} x {self.cv.cv_folds}-fold CV on {int(q['n'])} "
            f"firms ({int(q['defaults'])} defaults):"
        )
        auc_line = (
            f"  out-of-fold AUC {q['auc']:.3f} (DeLong 95 % {q['auc_ci_low']:.3f}-{q['auc_ci_high']:.3f}), "
            f"Brier {q['brier']:.4f} (constant default rate: {q['brier_base']:.4f}); in-sample AUC "
            f"{self.insample_auc:.3f}"
        )
        lines = [head, auc_line]
        if "auc_within_abc" in q:
            lines.append(
                f"  caveat: AUC within A-C {q['auc_within_abc']:.3f} on {int(q['defaults_abc'])} defaults "
                f"(bootstrap {q['auc_within_abc_boot_low']:.2f}-{q['auc_within_abc_boot_high']:.2f}); "
                f"AUC for 'rated D' {q.get('auc_d_vs_rest', float('nan')):.3f}; a perfect D detector "
                f"scores {q['auc_perfect_d_detector']:.3f}: " + _within_abc_reading(q)
            )
        d = self.decisions
        counts = d["rating"].value_counts().reindex([*BANK_RATINGS, EXCLUDED_RATING], fill_value=0)
        lines.append(f"{len(d)} firms rated: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        lines.append(
            f"allocation: {int(t['n_loans'])} loans, limits {t['limits'] / 1e6:.2f} m of "
            f"{self.rules.budget / 1e6:.0f} m; expected interest {t['expected_interest'] / 1e6:.2f} m, "
            f"loss {t['expected_loss'] / 1e6:.2f} m, cost {t['expected_cost'] / 1e6:.2f} m, profit "
            f"{t['expected_profit'] / 1e6:.2f} m ({t['return_on_lent']:.2%} on expected lending)"
        )
        lines.append(
            f"naive: {int(nv['n_loans'])} loans, profit {nv['expected_profit'] / 1e6:.2f} m "
            f"({nv['return_on_lent']:.2%} on expected lending)"
        )
        return "\n".join(lines)


def _rate_churn_file(data_dir: str | Path | None) -> Path:
    from creditmodel.data.real import CUMCM_DIR, shared_data_dir

    base = Path(data_dir) if data_dir is not None else shared_data_dir()
    if base is None:
        raise InputError("shared data folder not found (../shared/data or $CREDITMODEL_SHARED_DATA)")
    return base / CUMCM_DIR / RATE_CHURN_NAME


def rules_under_cap(rules: AllocationRules, cfg: PricingConfig) -> AllocationRules:
    """The lending rules with their highest rate held to the pricing configuration's ``rate_cap`` (a fraction a
    year): the bank's cap binds the contest's range too (a reviewer's run at a cap of 8 % offered 107 loans at
    11.1-12.4 %, beside a portfolio section that refused rates above 8 %). A cap below the rules' lowest rate leaves
    no loan to offer: :class:`ConfigError`."""
    if cfg.rate_cap >= rules.rate_max:
        return rules
    if cfg.rate_cap < rules.rate_min:
        raise ConfigError(f"the pricing configuration's rate_cap {cfg.rate_cap:.2%} is below the lending rules' "
                          f"lowest rate {rules.rate_min:.2%}: no loan could be offered", column="rate_cap")
    log.info("lending rates held to the pricing configuration's cap %.2f %% (the rules' range ended at %.2f %%)",
             100 * cfg.rate_cap, 100 * rules.rate_max)
    return dataclasses.replace(rules, rate_max=float(cfg.rate_cap))


def cumcm_credit_decisions(
    budget: float = 100e6,
    kind: str = "scorecard",
    seed: int = 42,
    cv_folds: int = 5,
    repeats: int = 3,
    rules: AllocationRules | None = None,
    config: PricingConfig | str | Path | None = None,
    *,
    calibration: str = "auto",
    d_threshold: float = 0.5,
    limit_share: float = 0.2,
    costs: bool = True,
    maturity: float = LOAN_MATURITY,
    estimator_params: Mapping[str, Any] | None = None,
    n_jobs: int = 1,
    data_dir: str | Path | None = None,
    invoices: pd.DataFrame | None = None,
    n_boot: int = 2000,
    progress: bool = False,
) -> CreditDecisionResult:
    """CUMCM 2020 C problem 2: rate the 302 unrated firms and allocate ``budget`` yuan (module docstring).

    ``kind``: ``"scorecard"`` or ``"lightgbm"``; ``cv_folds`` x ``repeats`` cross-validation (seeded by
    ``seed``); ``rules``: the bank's rules (:class:`~creditmodel.pricing_allocation.AllocationRules`; its
    budget is replaced by ``budget``); ``config``: pricing configuration (object, YAML path, or None for
    ``data/pricing.yaml``) for the costs and the LGD; ``d_threshold``: PD at and above which a firm is
    D-like; ``limit_share``: cap as a share of annual sales; ``costs=False`` ignores funding, opex and
    capital (the contest's profit); ``maturity``: the loans' effective maturity in years for their capital
    (:data:`LOAN_MATURITY`, held to 1-5; the configuration's ``maturity`` is for loans of unknown term).
    ``invoices`` (from :func:`creditmodel.data.real.cumcm_invoices`) avoids reading the files again. Missing
    data files raise :class:`~creditmodel.errors.InputError`.
    """
    from creditmodel.data.real import cumcm_firms, cumcm_invoices
    from creditmodel.validation.metrics import auc

    check_budget(budget)
    check_n_jobs(n_jobs)
    maturity = check_maturity(maturity)
    rules = dataclasses.replace(rules or AllocationRules(), budget=float(budget))
    cfg = load_config(config)
    rules = rules_under_cap(rules, cfg)
    if invoices is None:
        invoices = cumcm_invoices(data_dir)
    rated_ds = cumcm_firms(True, data_dir, invoices=invoices)
    unrated_ds = cumcm_firms(False, data_dir, invoices=invoices)
    feats = rated_ds.features
    rated = rated_ds.frame
    X, y = rated[feats], rated["default"].to_numpy(np.int64)

    # 1-2. honest quality, then the deployed model
    cv = cross_validate_pd(
        X, y, kind, seed, cv_folds, repeats, calibration, estimator_params, n_jobs, progress
    )
    quality = cv.quality(rated["rating"].to_numpy(), n_boot=n_boot, d_threshold=d_threshold)
    model = fit_final_model(X, y, cv, estimator_params)
    insample = float(auc(y, model.predict_pd(X)))
    log.info("out-of-fold AUC %.3f vs in-sample %.3f", quality["auc"], insample)

    # 3. bank ratings
    rpd = rating_pds(rated)
    mapping = grade_to_rating(dict(zip(rpd["rating"], rpd["jeffreys_pd"])), model.master_scale)
    oof_grade = model.master_scale.grade(cv.pd)
    rated_out = rated[["firm_id", "name", "rating", "default"]].copy()
    rated_out["oof_pd"] = cv.pd
    rated_out["oof_grade"] = oof_grade
    rated_out["oof_rating"] = bank_rating(oof_grade, cv.pd, mapping, d_threshold)
    rated_out["log_sales"] = rated["log_sales"].to_numpy()

    un = unrated_ds.frame
    scored = model.score_frame(un[feats])
    dec = pd.DataFrame({"firm_id": un["firm_id"].to_numpy(), "name": un["name"].to_numpy()})
    dec["score"] = scored["score"].to_numpy()
    dec["master_grade"] = scored["grade"].astype(object).to_numpy()
    dec["pd_12m"] = scored["pd_12m"].to_numpy()
    for c in ("reason_1", "reason_2", "reason_3"):
        dec[c] = scored[c].astype(object).to_numpy()
    dec["status"] = scored["status"].astype(str).to_numpy()
    dec["rating"] = bank_rating(dec["master_grade"], dec["pd_12m"], mapping, d_threshold)

    # 4. limit caps from sales; costs
    dec["annual_sales"] = np.expm1(un["log_sales"].to_numpy(float))
    dec["max_limit"] = max_limits(dec["annual_sales"], limit_share, rules.max_loan, rules.limit_step)
    dec["lgd"] = cfg.lgd[cfg.default_collateral]
    dec["cost_rate"] = cost_rates(dec["pd_12m"], dec["annual_sales"], cfg, maturity) if costs else 0.0

    # 5. churn curves and the allocation (the allocation engine reads the churn key from "grade")
    curves = fit_churn_curves(load_rate_churn(_rate_churn_file(data_dir)))
    firms = dec.assign(grade=dec["rating"])
    alloc = allocate(firms, curves, rules)
    naive = naive_allocation(firms, curves, rules)
    cols = [
        "rate",
        "profit_per_yuan",
        "limit",
        "accept_prob",
        "expected_lent",
        "expected_interest",
        "expected_loss",
        "expected_cost",
        "expected_profit",
        "reason",
    ]
    for c in cols:
        dec[c] = alloc.firms[c].to_numpy()
    dec.loc[dec["status"] != "ok", "reason"] = "not scored"

    jp = dict(zip(rpd["rating"], rpd["jeffreys_pd"]))
    lgd = cfg.lgd[cfg.default_collateral]
    opt = optimal_rates_by_grade(
        curves, jp, lgd=lgd, rate_min=rules.rate_min, rate_max=rules.rate_max, step=rules.rate_step
    )
    # each rating's costs at the median sales of the rated firms with that rating (the firm-size adjustment, as
    # in the per-firm allocation; the Jeffreys PDs come from the same firms)
    sales_by_rating = pd.Series(np.expm1(rated["log_sales"].to_numpy(float))).groupby(
        rated["rating"].to_numpy()).median()
    opt["cost_rate"] = [float(cost_rates([jp[g]], [sales_by_rating[g]], cfg, maturity)[0]) for g in opt["grade"]]
    wc = pd.concat(
        [
            optimal_rates_by_grade(
                {g: curves[g]},
                jp,
                lgd=lgd,
                cost_rate=c,
                rate_min=rules.rate_min,
                rate_max=rules.rate_max,
                step=rules.rate_step,
            )
            for g, c in zip(opt["grade"], opt["cost_rate"])
        ],
        ignore_index=True,
    )
    opt["rate_with_costs"] = wc["rate"].to_numpy()
    opt["profit_per_yuan_with_costs"] = wc["profit_per_yuan"].to_numpy()
    settings = {
        "budget": float(budget),
        "kind": kind,
        "seed": seed,
        "cv_folds": cv_folds,
        "repeats": repeats,
        "calibration": calibration,
        "d_threshold": d_threshold,
        "limit_share": limit_share,
        "costs": costs,
        "maturity": maturity,
        "estimator_params": dict(estimator_params or {}),
        "rules": dataclasses.asdict(rules),
        "config": cfg.to_dict(),
    }
    res = CreditDecisionResult(
        quality=quality,
        insample_auc=insample,
        cv=cv,
        model=model,
        rated=rated_out,
        rating_pd=rpd,
        rating_map=mapping,
        decisions=dec,
        allocation=alloc,
        naive=naive,
        curves=curves,
        churn_report=churn_fit_report(curves),
        optimal_rates=opt,
        rules=rules,
        config=cfg,
        settings=settings,
    )
    log.info("credit decisions:\n%s", res.summary())
    return res
