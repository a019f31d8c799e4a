"""Validation statistics for PD models (DOMAIN.md part C): discrimination, calibration, stability,
concentration and migration. Pure numpy / scipy / scikit-learn; nothing here talks to MLflow.

Conventions
-----------
* ``y`` is 1 for a default (bad) and 0 otherwise.
* ``risk`` is any ranking where **higher means riskier**: a PD, or minus the score (the score is in points
  and higher is safer, see :func:`risk_from_score`).
* ``pd`` is a probability of default as a fraction in [0, 1].
* Every test states its null hypothesis and its direction; p-values are returned as fractions.
* Input that makes a statistic meaningless (one class only, an empty grade, zero variance) raises
  :class:`NotComputable`, a subclass of :class:`creditmodel.errors.InputError`, whose message says why.
  Malformed input (NaN, PD outside [0, 1], lengths that differ) raises :class:`InputError` naming the row.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from creditmodel.errors import InputError, shown

log = logging.getLogger(__name__)

#: Share given to an empty bin before taking logs in PSI / CSI (DOMAIN C2).
PSI_FLOOR = 1e-4


class NotComputable(InputError):
    """A statistic is not defined on this input; the message gives the reason (e.g. one class only)."""


# --------------------------------------------------------------------------- input checks
def _first_bad(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) + 1 if idx.size else None


def check_binary(y: Any, name: str = "y") -> np.ndarray:
    """``y`` as an int8 array of 0/1; raises :class:`InputError` naming the first bad row (1-based)."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InputError(f"expected a one-dimensional target, got shape {arr.shape}", column=name)
    if arr.size == 0:
        raise InputError("the sample is empty", column=name)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    try:
        f = arr.astype(float)
    except (TypeError, ValueError):
        raise InputError("target must be 0/1 or boolean (use --positive for two labels)", column=name,
                         row=None) from None
    bad = ~np.isin(f, (0.0, 1.0))
    if bad.any():
        row = _first_bad(bad)
        raise InputError(f"target must be binary 0/1; {int(bad.sum())} value(s) are not, first {shown(arr[row - 1])}",
                         column=name, row=row)
    return f.astype(np.int8)


def check_float(x: Any, name: str, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """``x`` as a finite float64 array within [lo, hi]; raises :class:`InputError` naming the first bad row."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise InputError(f"expected a one-dimensional array, got shape {arr.shape}", column=name)
    try:
        f = arr.astype(np.float64)
    except (TypeError, ValueError):   # pandas NA or text: coerce, then report the first offending row
        f = pd.to_numeric(pd.Series(arr), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(f)
    if bad.any():
        raise InputError(f"{int(bad.sum())} missing, non-numeric or non-finite value(s), first {shown(arr[bad][0])}",
                         column=name, row=_first_bad(bad))
    if lo is not None and (f < lo).any():
        m = f < lo
        raise InputError(f"{int(m.sum())} value(s) below {lo}, first {shown(f[m][0])}", column=name, row=_first_bad(m))
    if hi is not None and (f > hi).any():
        m = f > hi
        raise InputError(f"{int(m.sum())} value(s) above {hi}, first {shown(f[m][0])}", column=name, row=_first_bad(m))
    return f


def check_pd(pd_: Any, name: str = "pd") -> np.ndarray:
    """PD as a float array in [0, 1] (fractions, not percent)."""
    return check_float(pd_, name, 0.0, 1.0)


def check_lengths(**arrays: Any) -> int:
    """The common length of the given arrays (``None`` entries ignored); :class:`InputError` if they differ."""
    lens = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lens.values())) > 1:
        raise InputError("inputs have different lengths: " + ", ".join(f"{k}={n}" for k, n in lens.items()))
    return next(iter(lens.values()), 0)


def risk_from_score(score: Any) -> np.ndarray:
    """Turn a score in points (higher is safer) into a risk ranking (higher is riskier): ``-score``."""
    return -check_float(score, "score")


def _classes(y: np.ndarray, what: str) -> tuple[int, int]:
    d = int(y.sum())
    nd = int(y.size - d)
    if d == 0 or nd == 0:
        raise NotComputable(f"{what} needs both defaults and non-defaults; the sample has {d} default(s) and "
                            f"{nd} non-default(s) (one class only)")
    return d, nd


# --------------------------------------------------------------------------- discrimination: AUC / DeLong
def delong_placements(y: Any, risk: Any) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong placement values, from midranks in O(n log n) (Sun & Xu 2014).

    ``AUC = P(risk_bad > risk_good) + 1/2 P(tie)`` (Mann-Whitney). With ``psi(a, b) = 1, 1/2, 0`` for
    ``a > b, a = b, a < b``:

    * ``V10_i = (1/N_ND) sum_j psi(bad_i, good_j)`` for each default ``i`` (fraction of non-defaults it outranks),
    * ``V01_j = (1/N_D) sum_i psi(bad_i, good_j)`` for each non-default ``j``,

    computed as ``V10_i = (T_Z(i) - T_X(i)) / N_ND`` and ``V01_j = 1 - (T_Z(j) - T_Y(j)) / N_D`` where ``T_Z``,
    ``T_X``, ``T_Y`` are midranks in the pooled, defaults-only and non-defaults-only samples.

    Returns ``(auc, v10, v01)``; ``auc = mean(v10) = mean(v01)``.
    """
    yy = check_binary(y)
    r = check_float(risk, "risk")
    check_lengths(y=yy, risk=r)
    _classes(yy, "AUC")
    pos, neg = r[yy == 1], r[yy == 0]
    m, n = pos.size, neg.size
    tz = stats.rankdata(np.concatenate([pos, neg]))
    tx = stats.rankdata(pos)
    ty = stats.rankdata(neg)
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    return float(v10.mean()), v10, v01


@dataclass(frozen=True)
class AUCResult:
    """AUC with its DeLong standard error and Wald interval ``AUC -/+ z_{1-alpha/2} * se`` (clipped to [0, 1])."""

    auc: float
    se: float
    ci_low: float
    ci_high: float
    n_defaults: int
    n_nondefaults: int
    alpha: float = 0.05

    @property
    def gini(self) -> float:
        """Gini = accuracy ratio = 2 AUC - 1."""
        return 2.0 * self.auc - 1.0


def cluster_influence(y: np.ndarray, v10: np.ndarray, v01: np.ndarray, auc_: float, groups: Any) -> np.ndarray:
    """Per group ``k`` the AUC's influence ``u_k = (V10_k - m_k AUC) / N_D + (V01_k - n_k AUC) / N_ND``, where
    ``V10_k`` (``V01_k``) sums the placements of the group's ``m_k`` defaults (``n_k`` non-defaults): the clustered
    variance of Obuchowski (1997) is ``K / (K - 1) sum_k u_k^2`` over the ``K`` groups (a firm's loans are not
    independent). With one row per group it is DeLong's, up to the ``K / (K - 1)`` factor."""
    yy = np.asarray(y)
    codes = _group_codes(groups, yy.size)
    k = int(codes.max()) + 1
    bad, good = codes[yy == 1], codes[yy == 0]
    a = np.bincount(bad, weights=v10, minlength=k) - np.bincount(bad, minlength=k) * auc_
    b = np.bincount(good, weights=v01, minlength=k) - np.bincount(good, minlength=k) * auc_
    return a / v10.size + b / v01.size


def _clustered_var(u: np.ndarray) -> float:
    k = u.size
    return float(k / (k - 1) * np.sum(u ** 2)) if k > 1 else float("nan")


def _group_codes(groups: Any, n: int) -> np.ndarray:
    from creditmodel.scoring.splits import check_groups

    return pd.factorize(pd.Series(check_groups(groups, n)), sort=True)[0]


def _within_group_cross(codes: np.ndarray, x: np.ndarray) -> float:
    """``sum_k sum_{i != j in k} x_i x_j``: the products of different rows of one group (one-row groups add
    exactly nothing)."""
    size = np.bincount(codes)
    multi = size[codes] > 1
    if not multi.any():
        return 0.0
    return float(np.sum(np.bincount(codes[multi], weights=x[multi]) ** 2) - np.sum(x[multi] ** 2))


def within_group_correlation(y: Any, pd_: Any, groups: Any) -> float:
    """Exchangeable correlation of the defaults of rows of one group (e.g. two loans of one firm): the moment
    estimator of Liang and Zeger (1986), ``rho = sum_k sum_{i != j in k} e_i e_j / (phi sum_k n_k (n_k - 1))``, with
    the Pearson residuals ``e_i = (y_i - PD_i) / sqrt(PD_i (1 - PD_i))`` (rows with PD 0 or 1 left out) centred
    within PD bands (quantile bands of at least 500 rows, at most 10) and ``phi`` their mean square. Centred, a PD
    too low (or high) on every row of a band reads as miscalibration, not as correlation. Uncentred, it inflated the
    design effect and so weakened the very tests that should catch it: PDs of 1 % against a true 10 % gave rho 0.81
    (firms of 1-3 loans), centred 0.01; a true rho of 0.1 under PDs half the true ones read 0.22-0.25, centred 0.10
    (simulated samples of 2,000 firms, helper-112's report). Clipped to [0, 1]; 0 when no group holds two rows."""
    yy, p = np.asarray(y, dtype=float), np.asarray(pd_, dtype=float)
    codes = _group_codes(groups, yy.size)
    ok = (p > 0) & (p < 1)
    codes, p = codes[ok], p[ok]
    e = (yy[ok] - p) / np.sqrt(p * (1 - p))
    size = np.bincount(codes)
    pairs = float(np.sum(size * (size - 1.0)))
    if pairs == 0:
        return 0.0
    band = np.unique(quantile_bins(p, int(np.clip(p.size // 500, 1, 10)))[0], return_inverse=True)[1]
    e = e - (np.bincount(band, weights=e) / np.bincount(band))[band]
    phi = float(np.mean(e ** 2))
    if not phi > 0:                 # every residual its band's mean: nothing varies, nothing correlates
        return 0.0
    return min(1.0, max(0.0, _within_group_cross(codes, e) / (pairs * phi)))


def design_effect(y: Any, pd_: Any, groups: Any = None, weight: Any = None, rho: float | None = None) -> float:
    """How much a test's null variance grows because rows of one group (a firm's loans) default together:
    ``deff = Var(sum_i w_i (y_i - PD_i)) / sum_i w_i^2 v_i = 1 + rho sum_k sum_{i != j in k} w_i w_j sqrt(v_i v_j)
    / sum_i w_i^2 v_i``, ``v_i = PD_i (1 - PD_i)``, ``rho`` the :func:`within_group_correlation` (estimated from
    ``y``, ``pd_`` unless given: pass the whole sample's for a part of it), ``w`` = 1 for a default count. 1 without
    groups or with one row per group. A test on ``N`` rows with ``D`` defaults then reads as ``N / deff`` independent
    rows with ``D / deff`` defaults (Kish's effective sample size)."""
    if groups is None:
        return 1.0
    yy, p = np.asarray(y, dtype=float), np.asarray(pd_, dtype=float)
    codes = _group_codes(groups, yy.size)
    r = within_group_correlation(yy, p, groups) if rho is None else float(rho)
    w = np.ones_like(p) if weight is None else np.asarray(weight, dtype=float)
    v = p * (1 - p)
    v0 = float(np.sum(w ** 2 * v))
    if not (v0 > 0 and r > 0):
        return 1.0
    return 1.0 + r * max(0.0, _within_group_cross(codes, w * np.sqrt(v))) / v0


def auc_delong(y: Any, risk: Any, alpha: float = 0.05, groups: Any = None) -> AUCResult:
    """AUC with the DeLong variance ``s^2 = Var(V10)/N_D + Var(V01)/N_ND`` (sample variances, ddof = 1).

    The interval is the two-sided Wald interval ``AUC -/+ z_{1-alpha/2} s``. With ``groups`` (one key per row, e.g.
    the firm of each loan) the variance is clustered by group (Obuchowski 1997, :func:`cluster_influence`). Raises
    :class:`NotComputable` with one class only, fewer than two defaults or non-defaults, or zero variance (e.g. a
    constant score).
    """
    auc, v10, v01 = delong_placements(y, risk)
    m, n = v10.size, v01.size
    if m < 2 or n < 2:
        raise NotComputable(f"the DeLong variance needs at least 2 defaults and 2 non-defaults (got {m} and {n})")
    if groups is None:
        var = float(np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n)
    else:
        var = _clustered_var(cluster_influence(check_binary(y), v10, v01, auc, groups))
    if not var > 0:
        raise NotComputable("the DeLong variance is 0: every default/non-default pair is ranked the same way "
                            "(a constant score, or perfect separation); no confidence interval")
    se = float(np.sqrt(var))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return AUCResult(auc, se, max(0.0, auc - z * se), min(1.0, auc + z * se), m, n, alpha)


def auc(y: Any, risk: Any) -> float:
    """AUC (Mann-Whitney, ties count 1/2); ``risk`` higher = riskier."""
    return delong_placements(y, risk)[0]


def gini(y: Any, risk: Any) -> float:
    """Gini coefficient = accuracy ratio = ``2 AUC - 1``."""
    return 2.0 * auc(y, risk) - 1.0


@dataclass(frozen=True)
class PairedDeLongResult:
    """Paired DeLong test of two models on the same sample (H0: AUC_a = AUC_b, two-sided)."""

    auc_a: float
    auc_b: float
    diff: float            # auc_a - auc_b
    se: float              # standard error of the difference
    z: float
    p_value: float         # two-sided
    ci_low: float          # Wald interval of the difference
    ci_high: float
    corr: float            # correlation of the two AUC estimates
    alpha: float = 0.05


def delong_paired(y: Any, risk_a: Any, risk_b: Any, alpha: float = 0.05, groups: Any = None) -> PairedDeLongResult:
    """DeLong, DeLong & Clarke-Pearson (1988) test of two correlated AUCs on the same obligors.

    With the placement vectors of both models, ``S10 = Cov(V10)`` (2x2 over defaults) and ``S01 = Cov(V01)``
    (over non-defaults), ``S = S10/N_D + S01/N_ND`` and ``Var(AUC_a - AUC_b) = S_aa + S_bb - 2 S_ab``.
    ``z = (AUC_a - AUC_b) / sqrt(Var)``; H0: equal AUCs; the p-value is two-sided ``2 (1 - Phi(|z|))``.
    With ``groups`` the covariances are clustered by group (Obuchowski 1997: the per-group influences of both AUCs).
    Raises :class:`NotComputable` when the variance of the difference is 0 (e.g. identical rankings).
    """
    yy = check_binary(y)
    a = check_float(risk_a, "risk_a")
    b = check_float(risk_b, "risk_b")
    check_lengths(y=yy, risk_a=a, risk_b=b)
    auc_a, v10a, v01a = delong_placements(yy, a)
    auc_b, v10b, v01b = delong_placements(yy, b)
    m, n = v10a.size, v01a.size
    if m < 2 or n < 2:
        raise NotComputable(f"the DeLong test needs at least 2 defaults and 2 non-defaults (got {m} and {n})")
    if groups is None:
        s = np.cov(np.vstack([v10a, v10b]), ddof=1) / m + np.cov(np.vstack([v01a, v01b]), ddof=1) / n
    else:
        ua, ub = (cluster_influence(yy, v10, v01, au, groups) for v10, v01, au in ((v10a, v01a, auc_a),
                                                                                 (v10b, v01b, auc_b)))
        k = ua.size
        s = k / (k - 1) * np.array([[ua @ ua, ua @ ub], [ua @ ub, ub @ ub]]) if k > 1 else np.full((2, 2), np.nan)
    var = float(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    diff = auc_a - auc_b
    if not var > 1e-15:
        raise NotComputable("the variance of the AUC difference is 0: the two models rank this sample the same way")
    se = float(np.sqrt(var))
    z = diff / se
    p = float(2 * stats.norm.sf(abs(z)))
    zc = float(stats.norm.ppf(1 - alpha / 2))
    denom = np.sqrt(s[0, 0] * s[1, 1])
    corr = float(s[0, 1] / denom) if denom > 0 else float("nan")
    return PairedDeLongResult(auc_a, auc_b, diff, se, float(z), p, diff - zc * se, diff + zc * se, corr, alpha)


@dataclass(frozen=True)
class AUCChangeResult:
    """ECB test of the current AUC against the AUC at initial validation (one-sided)."""

    auc_initial: float
    auc_current: float
    se_current: float
    statistic: float       # S = (AUC_init - AUC_curr) / s
    p_value: float         # 1 - Phi(S)


def auc_vs_initial(auc_current: float, se_current: float, auc_initial: float) -> AUCChangeResult:
    """ECB (2019) §2.5 test: ``S = (AUC_init - AUC_curr) / s_curr``, ``p = 1 - Phi(S)``.

    H0: the current AUC is not lower than the initial AUC. A small p means a significant deterioration;
    an improvement gives p close to 1. ``s_curr`` is the DeLong standard error on the current sample.
    """
    if not (np.isfinite(se_current) and se_current > 0):
        raise NotComputable("the current AUC has no positive standard error")
    if not (0.0 <= auc_initial <= 1.0):
        raise InputError(f"initial AUC {auc_initial!r} is outside [0, 1]", column="auc_initial")
    s = (auc_initial - auc_current) / se_current
    return AUCChangeResult(float(auc_initial), float(auc_current), float(se_current), float(s),
                           float(stats.norm.sf(s)))


# --------------------------------------------------------------------------- KS, ROC, CAP
def _tie_groups(risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique risk values (ascending) and the group index of every observation."""
    uniq, inv = np.unique(risk, return_inverse=True)
    return uniq, inv


@dataclass(frozen=True)
class KSResult:
    """Kolmogorov-Smirnov distance between the risk distributions of defaults and non-defaults."""

    ks: float
    threshold: float       # risk value where |F_bad - F_good| is largest (first such value)


def ks_statistic(y: Any, risk: Any) -> KSResult:
    """``KS = max_s |F_bad(s) - F_good(s)|`` over all observed values ``s`` (empirical CDFs, ties grouped).

    Equals the two-sample KS statistic (``scipy.stats.ks_2samp``) of risk among defaults vs non-defaults.
    """
    yy = check_binary(y)
    r = check_float(risk, "risk")
    check_lengths(y=yy, risk=r)
    d, nd = _classes(yy, "KS")
    uniq, inv = _tie_groups(r)
    bad = np.bincount(inv, weights=yy, minlength=uniq.size)
    good = np.bincount(inv, weights=1 - yy, minlength=uniq.size)
    diff = np.abs(np.cumsum(bad) / d - np.cumsum(good) / nd)
    k = int(np.argmax(diff))
    return KSResult(float(diff[k]), float(uniq[k]))


def roc_curve(y: Any, risk: Any) -> pd.DataFrame:
    """ROC curve (``fpr``, ``tpr``, ``threshold``: risk >= threshold is flagged) from scikit-learn."""
    from sklearn.metrics import roc_curve as _roc

    yy = check_binary(y)
    r = check_float(risk, "risk")
    check_lengths(y=yy, risk=r)
    _classes(yy, "ROC curve")
    fpr, tpr, thr = _roc(yy, r, drop_intermediate=True)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})


def cap_curve(y: Any, risk: Any) -> pd.DataFrame:
    """Cumulative accuracy profile: obligors sorted from riskiest to safest (tied risks enter together).

    ``population`` = share of all obligors with risk >= s, ``defaults`` = share of defaults among them
    (both fractions, starting at (0, 0)). The accuracy ratio is
    ``AR = (area under CAP - 1/2) / (area of the perfect model - 1/2)`` = Gini, see :func:`accuracy_ratio_cap`.
    """
    yy = check_binary(y)
    r = check_float(risk, "risk")
    check_lengths(y=yy, risk=r)
    d, _ = _classes(yy, "CAP curve")
    uniq, inv = _tie_groups(r)
    cnt = np.bincount(inv, minlength=uniq.size)[::-1]
    bad = np.bincount(inv, weights=yy, minlength=uniq.size)[::-1]
    return pd.DataFrame({"population": np.concatenate([[0.0], np.cumsum(cnt) / yy.size]),
                         "defaults": np.concatenate([[0.0], np.cumsum(bad) / d]),
                         "threshold": np.concatenate([[np.inf], uniq[::-1]])})


def accuracy_ratio_cap(y: Any, risk: Any) -> float:
    """Accuracy ratio from the trapezoid area of the CAP curve (equals Gini = 2 AUC - 1 with ties as 1/2)."""
    cap = cap_curve(y, risk)
    yy = check_binary(y)
    pi = yy.mean()
    area = float(np.trapezoid(cap["defaults"], cap["population"]))
    perfect = 1.0 - pi / 2.0
    return (area - 0.5) / (perfect - 0.5)


# --------------------------------------------------------------------------- bootstrap
@dataclass(frozen=True)
class BootstrapResult:
    """Stratified bootstrap intervals: percentile for AUC and Gini, bias-corrected normal for KS (see
    :func:`bootstrap_discrimination`)."""

    n_boot: int
    seed: int
    alpha: float
    auc: tuple[float, float]
    gini: tuple[float, float]
    ks: tuple[float, float]
    auc_std: float
    ks_std: float
    samples: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    clusters: int = 0          # groups resampled (a cluster bootstrap); 0 = rows resampled


def _weighted_auc_ks(inv: np.ndarray, ngroups: int, w_bad: np.ndarray, w_good: np.ndarray,
                     bad_idx: np.ndarray, good_idx: np.ndarray) -> tuple[float, float]:
    """AUC and KS when defaults / non-defaults carry integer weights (bootstrap counts); O(n)."""
    b = np.bincount(inv[bad_idx], weights=w_bad, minlength=ngroups)
    g = np.bincount(inv[good_idx], weights=w_good, minlength=ngroups)
    tb, tg = b.sum(), g.sum()
    g_below = np.cumsum(g) - g
    auc_ = float(np.sum(b * (g_below + 0.5 * g)) / (tb * tg))
    ks_ = float(np.max(np.abs(np.cumsum(b) / tb - np.cumsum(g) / tg)))
    return auc_, ks_


def bootstrap_discrimination(y: Any, risk: Any, n_boot: int = 500, seed: int = 0, alpha: float = 0.05,
                             progress: bool = False, groups: Any = None) -> BootstrapResult:
    """Stratified bootstrap of AUC, Gini and KS (KS has no closed-form interval).

    Each replicate resamples the defaults and the non-defaults separately with replacement (keeping their
    counts), so both classes are always present. With ``groups`` (one key per row, e.g. the firm of each loan) it is
    a cluster bootstrap: the groups holding a default and the others are resampled separately, each drawn group with
    all its rows, so a firm's loans, which are not independent, count once per draw (loans resampled one by one gave
    too narrow an interval when firms hold several). Deterministic for a given ``seed``
    (``numpy.random.default_rng(seed)``). AUC and Gini: percentile interval ``[q_{alpha/2}, q_{1-alpha/2}]`` of the
    replicates. KS: bias-corrected normal interval ``KS - bias +- z_{1-alpha/2} sd`` (bias = mean replicate - KS,
    sd of the replicates; clipped to [0, 1]): KS is a maximum and biased upward, so the percentile interval sat
    too high. Coverage of the nominal 95 % is measured by ``bench/ks_interval_coverage.py``
    (``bench/results/ks_interval_coverage.md``): still approximate, and short below about 30 defaults.
    """
    from creditmodel.progress import tqdm

    yy = check_binary(y)
    r = check_float(risk, "risk")
    check_lengths(y=yy, risk=r)
    m, n = _classes(yy, "the bootstrap")
    if n_boot < 10:
        raise InputError(f"n_boot must be at least 10, got {n_boot}", column="n_boot")
    uniq, inv = _tie_groups(r)
    bad_idx, good_idx = np.flatnonzero(yy == 1), np.flatnonzero(yy == 0)
    rng = np.random.default_rng(seed)
    aucs = np.empty(n_boot)
    kss = np.empty(n_boot)
    clusters = 0
    if groups is not None:
        codes = _group_codes(groups, yy.size)
        clusters = int(codes.max()) + 1
        has_bad = np.bincount(codes, weights=yy.astype(float), minlength=clusters) > 0
        bad_g, good_g = np.flatnonzero(has_bad), np.flatnonzero(~has_bad)
        if not good_g.size:   # every group holds a default: a replicate could draw no non-default at all
            log.warning("bootstrap: every one of the %d groups holds a default; rows are resampled instead",
                        clusters)
            groups, clusters = None, 0
    for k in tqdm(range(n_boot), desc="bootstrap", disable=not progress, leave=False):
        if groups is None:
            wb = np.bincount(rng.integers(0, m, m), minlength=m).astype(float)
            wg = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        else:   # each row weighs as often as its group was drawn
            drawn = np.zeros(clusters)
            for pool in (bad_g, good_g):
                if pool.size:
                    drawn += np.bincount(pool[rng.integers(0, pool.size, pool.size)], minlength=clusters)
            w = drawn[codes]   # a group without a default is always drawn: both classes are present
            wb, wg = w[bad_idx], w[good_idx]
        aucs[k], kss[k] = _weighted_auc_ks(inv, uniq.size, wb, wg, bad_idx, good_idx)
    q = [alpha / 2, 1 - alpha / 2]
    a_lo, a_hi = (float(v) for v in np.quantile(aucs, q))
    ks_hat = _weighted_auc_ks(inv, uniq.size, np.ones(m), np.ones(n), bad_idx, good_idx)[1]
    centre, half = ks_hat - (float(np.mean(kss)) - ks_hat), stats.norm.ppf(1 - alpha / 2) * float(np.std(kss, ddof=1))
    k_lo, k_hi = max(0.0, centre - half), min(1.0, centre + half)
    return BootstrapResult(n_boot, seed, alpha, (a_lo, a_hi), (2 * a_lo - 1, 2 * a_hi - 1), (k_lo, k_hi),
                           float(np.std(aucs, ddof=1)), float(np.std(kss, ddof=1)), {"auc": aucs, "ks": kss},
                           clusters)


# --------------------------------------------------------------------------- calibration
@dataclass(frozen=True)
class BrierResult:
    """Brier score with Spiegelhalter's z-test."""

    brier: float
    z: float
    p_value: float          # two-sided


def brier(y: Any, pd_: Any, groups: Any = None) -> BrierResult:
    """Brier score ``BS = (1/N) sum (y_i - PD_i)^2`` (lower is better) and Spiegelhalter's (1986) test.

    ``z = sum (y_i - PD_i)(1 - 2 PD_i) / sqrt( sum (1 - 2 PD_i)^2 PD_i (1 - PD_i) )``.
    H0: the PDs are the true default probabilities (calibrated); z ~ N(0, 1); the p-value is two-sided.
    With ``groups`` (the borrower of each row) the variance adds the within-borrower covariance
    (:func:`design_effect` with ``w = 1 - 2 PD``). The z-test is not computable when every PD is 0, 1/2 or 1 (zero
    variance); the Brier score still is.
    """
    yy = check_binary(y)
    p = check_pd(pd_)
    check_lengths(y=yy, pd=p, groups=groups)
    bs = float(np.mean((yy - p) ** 2))
    var = float(np.sum((1 - 2 * p) ** 2 * p * (1 - p)))
    if groups is not None and var > 0:
        var *= design_effect(yy, p, groups, weight=1 - 2 * p)
    if not var > 0:
        return BrierResult(bs, float("nan"), float("nan"))
    z = float(np.sum((yy - p) * (1 - 2 * p)) / np.sqrt(var))
    return BrierResult(bs, z, float(2 * stats.norm.sf(abs(z))))


def quantile_bins(x: np.ndarray, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Bin ids from the sample quantiles of ``x`` (edges deduplicated, bins right-closed ``(e_k-1, e_k]``).

    The same convention as ``sklearn.calibration.calibration_curve(strategy="quantile")``.
    Returns ``(ids, inner_edges)``; with ties the number of bins can be below ``n_bins``.
    """
    inner = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(inner, x, side="left"), inner


def calibration_table(y: Any, pd_: Any, groups: Any = None, n_bins: int = 10, alpha: float = 0.05) -> pd.DataFrame:
    """Observed default rate against mean PD per group (PD deciles by default, or the given labels).

    Columns: ``group`` (decile 1 = lowest PD, or the label), ``n, defaults, mean_pd, default_rate, ci_low,
    ci_high`` where the interval is the
    equal-tailed Jeffreys interval ``Beta(D + 1/2, N - D + 1/2)`` quantiles of the default rate.
    """
    yy = check_binary(y)
    p = check_pd(pd_)
    check_lengths(y=yy, pd=p, groups=groups)
    df = pd.DataFrame({"group": _calibration_keys(p, groups, n_bins), "y": yy, "pd": p})
    t = df.groupby("group", sort=True, observed=True).agg(n=("y", "size"), defaults=("y", "sum"), mean_pd=("pd", "mean"))
    t = t.reset_index()
    if groups is not None:                               # grade labels in scale order ("2" before "10")
        t = t.set_index(t["group"].astype(str)).loc[sort_grades(t["group"].astype(str))].reset_index(drop=True)
    return _with_rate_interval(t, alpha)


def _calibration_keys(p: np.ndarray, groups: Any, n_bins: int) -> pd.Series:
    """Each row's group in :func:`calibration_table`: its PD decile (1 = lowest PD) or its given label."""
    if groups is None:
        return pd.Series(quantile_bins(p, n_bins)[0] + 1, name="group")
    return pd.Series(np.asarray(groups), name="group")


def _with_rate_interval(t: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """``t`` (columns ``n``, ``defaults``) with ``default_rate`` and its equal-tailed Jeffreys interval
    ``Beta(D + 1/2, N - D + 1/2)`` quantiles (``ci_low``, ``ci_high``), in place."""
    t["default_rate"] = t["defaults"] / t["n"]
    a, b = t["defaults"] + 0.5, t["n"] - t["defaults"] + 0.5
    t["ci_low"] = stats.beta.ppf(alpha / 2, a, b)
    t["ci_high"] = stats.beta.ppf(1 - alpha / 2, a, b)
    return t


@dataclass(frozen=True)
class HLResult:
    """Hosmer-Lemeshow test result and its group table (after merging, see :func:`hosmer_lemeshow`)."""

    statistic: float
    df: int
    p_value: float
    groups: int
    table: pd.DataFrame = field(repr=False)
    dropped: tuple[str, ...] = ()
    merged: tuple[str, ...] = ()        # labels of the groups made by merging neighbours ("1-3")
    impossible: tuple[str, ...] = ()    # groups whose defaults their PD of 0 (or 1) rules out


def _merge_small_groups(t: pd.DataFrame, min_expected: float,
                        alpha: float = 0.05) -> tuple[pd.DataFrame, tuple, list[list]]:
    """Merge neighbouring groups (in table order, PD ascending) until each expects at least ``min_expected``
    defaults and as many non-defaults; a short last run joins the group before it. Returns the merged table, the
    labels of the merged groups, and each row's original labels."""
    e, n = (t["n"] * t["mean_pd"]).to_numpy(), t["n"].to_numpy()
    runs, cur = [], []
    for i in range(len(t)):
        cur.append(i)
        if min(e[cur].sum(), n[cur].sum() - e[cur].sum()) >= min_expected:
            runs.append(cur)
            cur = []
    if cur:
        if runs:
            runs[-1] = runs[-1] + cur
        else:
            runs.append(cur)
    if all(len(r) == 1 for r in runs):
        return t, (), [[g] for g in t["group"]]
    rows, merged = [], []
    for r in runs:
        part = t.iloc[r]
        label = str(part["group"].iloc[0]) if len(r) == 1 else f"{part['group'].iloc[0]}-{part['group'].iloc[-1]}"
        if len(r) > 1:
            merged.append(label)
        n, d = int(part["n"].sum()), int(part["defaults"].sum())
        rows.append({"group": label, "n": n, "defaults": d, "mean_pd": float((part["n"] * part["mean_pd"]).sum() / n)})
    return _with_rate_interval(pd.DataFrame(rows), alpha), tuple(merged), [list(t["group"].iloc[r]) for r in runs]


def hosmer_lemeshow(y: Any, pd_: Any, groups: Any = None, n_groups: int = 10, in_sample: bool = False,
                    min_expected: float = 5.0, clusters: Any = None) -> HLResult:
    """Hosmer-Lemeshow test ``HL = sum_g (D_g - N_g PD_g)^2 / (N_g PD_g (1 - PD_g))``, ``PD_g`` = mean PD of group g.

    Groups are PD deciles (``groups=None``, right-closed quantile bins) or the given labels (e.g. grades).
    H0: the PDs are calibrated in every group; HL ~ chi^2 with ``df = G - 2`` in-sample (the PDs were fitted
    on this sample) or ``G`` out-of-sample (``in_sample=False``, the default for validation); the p-value is
    the upper tail. The chi^2 approximation needs enough expected defaults per group: neighbouring groups are
    merged until each expects at least ``min_expected`` defaults and non-defaults (named in ``merged``; with
    6.5 expected defaults in ten deciles the unmerged test was red in 5.5 % of calibrated samples, not 1 %).
    Groups whose mean PD is 0 or 1 carry no variance and are dropped (``dropped``), unless their defaults
    contradict that PD (a PD of 0 with a default): then the test is decisive, ``p = 0`` (``impossible``).
    With ``clusters`` (the borrower of each row) each group's term is divided by its :func:`design_effect` too
    (column ``design_effect``, with the whole sample's within-borrower correlation): a firm's loans in one group do
    not count as independent draws (the covariance of one firm's loans in different groups is left out).
    """
    yy = check_binary(y)
    p = check_pd(pd_)
    check_lengths(y=yy, pd=p, groups=groups, clusters=clusters)
    t = calibration_table(yy, p, groups=groups, n_bins=n_groups)
    degenerate = (t["mean_pd"] <= 0) | (t["mean_pd"] >= 1)
    impossible = ((t["mean_pd"] <= 0) & (t["defaults"] > 0)) | ((t["mean_pd"] >= 1) & (t["defaults"] < t["n"]))
    dropped = tuple(str(g) for g in t.loc[degenerate & ~impossible, "group"])
    if impossible.any():
        bad = tuple(str(g) for g in t.loc[impossible, "group"])
        t = t.assign(expected=t["n"] * t["mean_pd"], contribution=np.where(impossible, np.inf, np.nan))
        g = int((~degenerate | impossible).sum())
        return HLResult(float("inf"), max(g - 2 if in_sample else g, 1), 0.0, g, t, dropped, (), bad)
    t, merged, members = _merge_small_groups(t.loc[~degenerate].reset_index(drop=True), min_expected)
    t = t.assign(expected=t["n"] * t["mean_pd"])
    t["contribution"] = (t["defaults"] - t["expected"]) ** 2 / (t["expected"] * (1 - t["mean_pd"]))
    if clusters is not None:
        key = _calibration_keys(p, groups, n_groups).astype(str).to_numpy()
        cl = np.asarray(clusters, dtype=object)
        rho = within_group_correlation(yy, p, cl)
        t["design_effect"] = [design_effect(yy[m], p[m], cl[m], rho=rho) for m in
                              (np.isin(key, [str(x) for x in labels]) for labels in members)]
        t["contribution"] /= t["design_effect"]
    g = len(t)
    df = g - 2 if in_sample else g
    if df < 1:
        raise NotComputable(f"Hosmer-Lemeshow needs more groups with 0 < PD < 1 and at least {min_expected:g} "
                            f"expected defaults each: {g} group(s) after merging, df = {df}")
    hl = float(t["contribution"].sum())
    return HLResult(hl, df, float(stats.chi2.sf(hl, df)), g, t, dropped, merged)


def binomial_test(defaults: Any, n: Any, pd_: Any, design_effect: Any = 1.0) -> np.ndarray:
    """One-sided binomial test per grade: ``p = 1 - BinomCDF(D - 1; N, PD) = P(X >= D | N, PD)``.

    H0: PD is not underestimated (true default rate <= PD). Small p: more defaults than the PD explains.
    Assumes independent defaults (too strict under default correlation). With a ``design_effect`` above 1 (rows of
    one borrower, :func:`design_effect`) the counts read as ``D / deff`` of ``N / deff``, through the identity
    ``P(X >= D) = I_PD(D, N - D + 1)`` (the regularised incomplete beta), which takes counts that are not whole.
    Vectorised; NaN where N = 0.
    """
    d = np.asarray(defaults, dtype=float)
    nn = np.asarray(n, dtype=float)
    p = np.asarray(pd_, dtype=float)
    de = np.asarray(design_effect, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = stats.binom.sf(d - 1, nn, p)
        if np.any(de != 1.0):
            de_, de_d, de_n = np.broadcast_arrays(de, d / de, nn / de)
            eff = np.where(de_d > 0, stats.beta.cdf(p, np.where(de_d > 0, de_d, 1.0), de_n - de_d + 1), 1.0)
            out = np.where(de_ != 1.0, eff, out)
    return np.where(nn > 0, out, np.nan)


def jeffreys_test(defaults: Any, n: Any, pd_: Any, design_effect: Any = 1.0) -> np.ndarray:
    """ECB (2019) Jeffreys test: ``p = Beta_CDF(PD; D + 1/2, N - D + 1/2)``.

    The Jeffreys posterior of the default rate given D defaults among N obligors is
    ``Beta(D + 1/2, N - D + 1/2)``; p is its mass below PD. H0: PD >= true default rate (not underestimated);
    one-sided; small p means the PD is too low. With a ``design_effect`` above 1 (the rows are loans, several of
    one obligor, :func:`design_effect`) ``D`` and ``N`` read as ``D / deff`` and ``N / deff``. Vectorised; NaN where
    N = 0.
    """
    d = np.asarray(defaults, dtype=float)
    nn = np.asarray(n, dtype=float)
    p = np.asarray(pd_, dtype=float)
    de = np.asarray(design_effect, dtype=float)
    if np.any(de != 1.0):
        d, nn = d / de, nn / de
    with np.errstate(invalid="ignore"):
        out = stats.beta.cdf(p, d + 0.5, nn - d + 0.5)
    return np.where(nn > 0, out, np.nan)


def jeffreys_detectable_ratio(n: int, pd_mean: float, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """How far the PD must underestimate the default rate before the portfolio Jeffreys test notices it.

    The smallest ratio ``k`` (true default rate = ``k`` x ``pd_mean``) at which the test rejects at level
    ``alpha`` with probability ``power``, the defaults being Binomial(``n``, ``k`` x ``pd_mean``) (one PD for all
    obligors, an approximation). None when even a default rate of 1 would not reach that power. A
    validator's reading of "no red light": with few defaults only large errors are detected.
    """
    if n <= 0 or not 0.0 < pd_mean < 1.0:
        return None
    def rejects(d: int) -> bool:                  # the Jeffreys p falls as the defaults d rise
        return bool(stats.beta.cdf(pd_mean, d + 0.5, n - d + 0.5) < alpha)

    if not rejects(n):
        return None
    lo_d, d_crit = -1, n                          # bisection on the counts: O(log n) beta CDFs, not n + 1
    while d_crit - lo_d > 1:
        mid_d = (lo_d + d_crit) // 2
        lo_d, d_crit = (lo_d, mid_d) if rejects(mid_d) else (mid_d, d_crit)
    # the test rejects from d_crit defaults on

    def pw(k: float) -> float:
        return float(stats.binom.sf(d_crit - 1, n, min(k * pd_mean, 1.0)))

    lo, hi = 1.0, 1.0 / pd_mean
    if pw(hi) < power:
        return None
    for _ in range(60):                           # bisection on the increasing power curve
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if pw(mid) < power else (lo, mid)
    return hi


def final_grade_labels(final_grade: Any) -> np.ndarray:
    """Final (overridden) grades as stripped text labels, None where blank (None, NaN, "", "nan", "None"): a grade
    9 read as the number 9.0 is "9"."""
    out = []
    for v in np.asarray(final_grade, dtype=object):
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = str(int(v))
        t = None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v).strip()
        out.append(None if t in (None, "", "nan", "None", "<NA>") else t)
    return np.asarray(out, dtype=object)


def override_table(model_grade: Any, final_grade: Any, y: Any, order: Sequence[str],
                   default_grade: str = "D") -> pd.DataFrame:
    """Rating overrides (ECB validation reporting): how many final grades differ from the model's, in which
    direction, and how those obligors performed.

    ``final_grade`` is the grade after a human override, blank (None, NaN, "") where the model grade stands;
    ``order`` lists the grades best first, ``default_grade`` ranks below all of them. One row per direction
    (``none``, ``upgrade`` = a better final grade, ``downgrade``): ``obligors``, ``share``, ``defaults``,
    ``default_rate``, ``mean_notches`` (final minus model position, positive = worse). A final grade outside
    ``order`` and ``default_grade`` raises :class:`InputError` naming its row (1-based).
    """
    g = np.asarray(model_grade).astype(str)
    yy = check_binary(y)
    f = final_grade_labels(final_grade)
    final = np.where(pd.isna(f), g, f.astype(str))
    check_lengths(model_grade=g, final_grade=final, y=yy)
    rank = {str(k): i for i, k in enumerate([*order, default_grade])}
    bad = ~pd.Series(final).isin(list(rank)).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"final grade {final[i]!r} is not a grade of the master scale ({', '.join(rank)})",
                         column="final_grade", row=i + 1)
    notch = np.array([rank[b] - rank.get(a, rank[b]) for a, b in zip(g, final)], dtype=float)
    direction = np.where(notch < 0, "upgrade", np.where(notch > 0, "downgrade", "none"))
    rows = []
    for d in ("none", "upgrade", "downgrade"):
        m = direction == d
        n = int(m.sum())
        rows.append({"direction": d, "obligors": n, "share": n / len(g) if len(g) else float("nan"),
                     "defaults": int(yy[m].sum()), "default_rate": float(yy[m].mean()) if n else float("nan"),
                     "mean_notches": float(notch[m].mean()) if n else float("nan")})
    return pd.DataFrame(rows)


def grade_rank_inversions(table: pd.DataFrame) -> pd.DataFrame:
    """Adjacent grades (empty ones skipped) whose observed default rate falls as the grade worsens.

    ``table`` is :func:`grade_table`'s output, best grade first. One row per inversion: ``grade`` (the worse
    grade), ``better_grade``, both default rates and ``p``, the one-sided Fisher exact test that the better
    grade's default rate is higher (H0: it is not; a small p means the grades do not rank the risk there).
    """
    from scipy import stats

    rows = table.loc[table["n"] > 0, ["grade", "n", "defaults"]].to_dict(orient="records")
    out = []
    for better, worse in zip(rows, rows[1:]):
        dr_b, dr_w = better["defaults"] / better["n"], worse["defaults"] / worse["n"]
        if dr_w < dr_b:
            tab = [[int(better["defaults"]), int(better["n"] - better["defaults"])],
                   [int(worse["defaults"]), int(worse["n"] - worse["defaults"])]]
            p = float(stats.fisher_exact(tab, alternative="greater").pvalue)
            out.append({"grade": str(worse["grade"]), "better_grade": str(better["grade"]),
                        "default_rate": dr_w, "better_default_rate": dr_b, "p": p})
    return pd.DataFrame(out, columns=["grade", "better_grade", "default_rate", "better_default_rate", "p"])


def grade_table(y: Any, pd_: Any, grade: Any, grade_order: Sequence[str] | None = None,
                grade_pd: Mapping[str, float] | None = None, groups: Any = None) -> pd.DataFrame:
    """Per-grade calibration: ``grade, n, defaults, pd, default_rate, binomial_p, jeffreys_p, note``.

    ``pd`` is the grade's PD used for the tests: ``grade_pd[grade]`` when given (e.g. the master-scale PD),
    else the mean PD of the grade's obligors. Grades of ``grade_order`` with no obligor appear with n = 0
    and the note "empty grade" (their tests are not computable, NaN). With ``groups`` (the borrower of each row)
    the tests read each grade's counts through its :func:`design_effect` (column ``design_effect``, after
    ``default_rate``), computed with the grade's PD and the whole sample's within-borrower correlation.
    """
    yy = check_binary(y)
    p = check_pd(pd_)
    g = np.asarray(grade).astype(str)
    check_lengths(y=yy, pd=p, grade=g, groups=groups)
    order = list(grade_order) if grade_order is not None else sort_grades(np.unique(g))
    extra = sorted(set(np.unique(g)) - set(order))
    if extra:
        raise InputError(f"grade(s) {extra} are not in the grade order {order}", column="grade",
                         row=_first_bad(np.isin(g, extra)))
    df = pd.DataFrame({"grade": pd.Categorical(g, categories=order), "y": yy, "pd": p})
    t = df.groupby("grade", observed=False).agg(n=("y", "size"), defaults=("y", "sum"), pd=("pd", "mean"))
    t = t.reset_index()
    t["grade"] = t["grade"].astype(str)
    t["defaults"] = t["defaults"].astype(int)
    if grade_pd is not None:
        missing = [k for k in order if k not in grade_pd]
        if missing:
            raise InputError(f"grade_pd has no PD for grade(s) {missing}", column="grade_pd")
        t["pd"] = [float(grade_pd[k]) for k in t["grade"]]
    with np.errstate(invalid="ignore", divide="ignore"):
        t["default_rate"] = np.where(t["n"] > 0, t["defaults"] / t["n"].where(t["n"] > 0, 1), np.nan)
    cols = ["grade", "n", "defaults", "pd", "default_rate", "binomial_p", "jeffreys_p", "note"]
    deff = 1.0
    if groups is not None:
        gr = np.asarray(groups, dtype=object)
        rho = within_group_correlation(yy, p, gr)
        deff = t["design_effect"] = [design_effect(yy[g == k], np.full(int(n), pk), gr[g == k], rho=rho) if n else 1.0
                                     for k, n, pk in zip(t["grade"], t["n"], t["pd"])]
        cols.insert(5, "design_effect")
    t["binomial_p"] = binomial_test(t["defaults"], t["n"], t["pd"], deff)
    t["jeffreys_p"] = jeffreys_test(t["defaults"], t["n"], t["pd"], deff)
    t["note"] = np.where(t["n"] == 0, "empty grade: not computable", "")
    return t[cols]


def sort_grades(labels: Sequence[Any]) -> list[str]:
    """Grade labels in scale order: numeric labels ascending ("1" < "2" < "10"), then others, "D" last."""
    labs = [str(x) for x in labels]

    def key(s: str) -> tuple[int, float, str]:
        if s == "D":
            return (2, 0.0, s)
        try:
            return (0, float(s), s)
        except ValueError:
            return (1, 0.0, s)

    return sorted(dict.fromkeys(labs), key=key)


# --------------------------------------------------------------------------- stability: PSI / CSI
@dataclass(frozen=True)
class Binning:
    """Fixed bins learnt on a reference sample: numeric quantile edges or categories; missing is its own bin."""

    kind: str                                   # "numeric" or "categorical"
    edges: tuple[float, ...] = ()               # inner edges, bins right-closed (e_k-1, e_k]
    categories: tuple[str, ...] = ()            # kept categories; others go to "other"
    has_other: bool = False

    @property
    def labels(self) -> list[str]:
        if self.kind == "numeric":
            e = [-np.inf, *self.edges, np.inf]
            labs = [f"({_fmt(e[i])}, {_fmt(e[i + 1])}]" if i < len(e) - 2 else f"({_fmt(e[i])}, {_fmt(e[i + 1])})"
                    for i in range(len(e) - 1)]
        else:
            labs = list(self.categories) + ["other"]
        return labs + ["missing"]

    def assign(self, x: Any) -> np.ndarray:
        """Bin index of every value (the last index is the missing bin)."""
        s = pd.Series(x)
        miss = s.isna().to_numpy()
        nb = len(self.labels)
        if self.kind == "numeric":
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            miss = miss | ~np.isfinite(v)
            idx = np.searchsorted(np.asarray(self.edges, dtype=float), np.where(miss, 0.0, v), side="left")
        else:
            codes = pd.Categorical(s.astype(str).where(~miss, None), categories=list(self.categories)).codes
            idx = np.where(codes < 0, len(self.categories), codes).astype(np.int64)   # unseen -> "other"
        return np.where(miss, nb - 1, idx)


def _fmt(v: float) -> str:
    return "inf" if v == np.inf else "-inf" if v == -np.inf else f"{v:.6g}"


def fit_binning(reference: Any, n_bins: int = 10, max_categories: int = 20) -> Binning:
    """Bins from the reference sample: quantile edges (``n_bins`` quantiles, deduplicated) for numeric data,
    else the ``max_categories`` most frequent categories (ties by name) plus "other"; missing is a bin."""
    s = pd.Series(reference)
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        vals = s.dropna().astype(str)
        counts = vals.value_counts()
        cats = sorted(counts.index, key=lambda c: (-counts[c], c))
        return Binning("categorical", categories=tuple(cats[:max_categories]), has_other=len(cats) > max_categories)
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return Binning("numeric", edges=())
    _, inner = quantile_bins(v, n_bins)
    return Binning("numeric", edges=tuple(float(e) for e in inner))


@dataclass(frozen=True)
class PSIResult:
    """Population stability index and its bin table."""

    psi: float
    table: pd.DataFrame = field(repr=False)
    binning: Binning = field(repr=False, default=None)  # type: ignore[assignment]
    #: PSI expected from sampling alone, ``(B - 1)(1/N_ref + 1/N_act)`` over the B bins either sample fills
    expected_no_shift: float = float("nan")
    #: ``P(chi2_{B-1} >= PSI / (1/N_ref + 1/N_act))``: how often sampling alone gives this PSI (Yurdakul 2018;
    #: approximate, and not when a bin is empty in one sample, where the floor sets the PSI)
    p_no_shift: float = float("nan")


def psi(reference: Any, actual: Any, binning: Binning | None = None, n_bins: int = 10,
        floor: float = PSI_FLOOR) -> PSIResult:
    """``PSI = sum_k (A_k - E_k) ln(A_k / E_k)`` over bins fixed on the reference (E = expected, reference
    shares; A = actual shares). Shares below ``floor`` (empty bins) are set to ``floor`` before the log.

    Readings (DOMAIN C2): < 0.1 no significant shift, 0.1-0.25 moderate, > 0.25 major shift. The result also
    gives what sampling alone gives (``expected_no_shift``) and the approximate chi-square p of no shift
    (``p_no_shift``). The same function gives a feature's CSI.
    """
    ref = pd.Series(reference)
    act = pd.Series(actual)
    if ref.size == 0 or act.size == 0:
        raise NotComputable(f"PSI needs both samples non-empty (reference {ref.size}, actual {act.size} rows)")
    b = binning if binning is not None else fit_binning(ref, n_bins)
    nb = len(b.labels)
    e_cnt = np.bincount(b.assign(ref), minlength=nb)
    a_cnt = np.bincount(b.assign(act), minlength=nb)
    e = np.maximum(e_cnt / e_cnt.sum(), floor)
    a = np.maximum(a_cnt / a_cnt.sum(), floor)
    contrib = (a - e) * np.log(a / e)
    t = pd.DataFrame({"bin": b.labels, "reference_n": e_cnt, "actual_n": a_cnt, "reference_share": e_cnt / e_cnt.sum(),
                      "actual_share": a_cnt / a_cnt.sum(), "contribution": contrib})
    # a missing/other bin empty in both samples carries no information: leave it out of the table and the sum
    both_empty = (e_cnt == 0) & (a_cnt == 0)
    t = t[~both_empty].reset_index(drop=True)
    value = float(contrib[~both_empty].sum())
    # with no shift PSI / (1/N + 1/M) is about chi-square with B - 1 degrees of freedom: 100 current rows against
    # 3,000 give an expected PSI near 0.1, amber by the rule of thumb alone (helper-107's simulation)
    scale, dof = 1 / e_cnt.sum() + 1 / a_cnt.sum(), int((~both_empty).sum()) - 1
    exp0 = dof * scale if dof > 0 else float("nan")
    p0 = float(stats.chi2.sf(value / scale, dof)) if dof > 0 else float("nan")
    return PSIResult(value, t, b, exp0, p0)


def csi(reference: pd.DataFrame, actual: pd.DataFrame, features: Sequence[str] | None = None, n_bins: int = 10,
        max_categories: int = 20, floor: float = PSI_FLOOR) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Characteristic stability index of each feature (PSI on the feature's reference bins).

    Returns a summary ``feature, kind, bins, csi`` sorted by CSI (largest first) and the bin table of
    every feature. ``features`` defaults to the columns present in both frames.
    """
    feats = list(features) if features is not None else [c for c in reference.columns if c in actual.columns]
    missing = [f for f in feats if f not in reference.columns or f not in actual.columns]
    if missing:
        raise InputError(f"feature(s) {missing} missing from the reference or the current sample", column=missing[0])
    rows, tables = [], {}
    for f in feats:
        b = fit_binning(reference[f], n_bins, max_categories)
        r = psi(reference[f], actual[f], binning=b, floor=floor)
        rows.append({"feature": f, "kind": b.kind, "bins": len(r.table), "csi": r.psi})
        tables[f] = r.table
    summary = pd.DataFrame(rows, columns=["feature", "kind", "bins", "csi"])
    if len(summary):
        summary = summary.sort_values(["csi", "feature"], ascending=[False, True], kind="mergesort")
    return summary.reset_index(drop=True), tables


# --------------------------------------------------------------------------- concentration
@dataclass(frozen=True)
class HHIResult:
    """ECB normalised Herfindahl index of the grade distribution."""

    hi: float               # normalised, in [0, 1]: 0 = uniform over K grades, 1 = all in one grade
    cv: float               # coefficient of variation of the shares
    hhi: float              # plain Herfindahl sum of squared shares
    k: int
    shares: pd.Series = field(repr=False)


def herfindahl(grade: Any, grade_order: Sequence[str], weights: Any = None) -> HHIResult:
    """ECB (2019) concentration in rating grades, number- or exposure-weighted (``weights``).

    With ``R_i`` the share of grade i among the K grades of ``grade_order`` (empty grades count, R_i = 0):
    ``CV = sqrt(K sum_i (R_i - 1/K)^2)``, ``HI = 1 + ln((CV^2 + 1)/K) / ln K``, which equals
    ``1 + ln(HHI)/ln K`` with ``HHI = sum R_i^2``. Labels outside ``grade_order`` (e.g. "D") are ignored.
    """
    order = [str(x) for x in grade_order]
    k = len(order)
    if k < 2:
        raise NotComputable(f"concentration needs at least 2 grades in the scale, got {k}")
    g = pd.Series(np.asarray(grade).astype(str))
    w = np.ones(len(g)) if weights is None else check_float(weights, "exposure", lo=0.0)
    check_lengths(grade=g, weights=w)
    keep = g.isin(order).to_numpy()
    tot = pd.Series(w[keep]).groupby(pd.Categorical(g[keep], categories=order), observed=False).sum()
    if not tot.sum() > 0:
        raise NotComputable("no obligor (or no exposure) in any grade of the scale")
    r = (tot / tot.sum()).astype(float)
    r.index = order
    cv = float(np.sqrt(k * np.sum((r.to_numpy() - 1.0 / k) ** 2)))
    hi = float(1 + np.log((cv ** 2 + 1) / k) / np.log(k))
    hi = min(max(hi, 0.0), 1.0)   # guard rounding at the two ends
    return HHIResult(hi, cv, float(np.sum(r.to_numpy() ** 2)), k, r)


@dataclass(frozen=True)
class HHIChangeResult:
    """ECB z-test that concentration has not increased since initial validation."""

    cv_current: float
    cv_initial: float
    z: float
    p_value: float


def herfindahl_vs_initial(cv_current: float, cv_initial: float, k: int) -> HHIChangeResult:
    """``z = sqrt(K - 1) (CV_curr - CV_init) / sqrt(CV_curr^2 (0.5 + CV_curr^2))``, ``p = 1 - Phi(z)``.

    H0: concentration has not increased (one-sided). A small p means significantly more concentration.
    Not computable when CV_curr = 0 (a perfectly uniform current distribution). The statistic treats the K
    grade shares as the observations: it has no sample size, and from CV_init = 0 it reduces to
    ``sqrt(K - 1) / sqrt(0.5 + CV_curr^2)``, so read it next to the two HI values.
    """
    denom = np.sqrt(cv_current ** 2 * (0.5 + cv_current ** 2))
    if not denom > 0:
        raise NotComputable("the current grade distribution is uniform (CV = 0): the concentration z-test "
                            "is not defined")
    z = float(np.sqrt(k - 1) * (cv_current - cv_initial) / denom)
    return HHIChangeResult(float(cv_current), float(cv_initial), z, float(stats.norm.sf(z)))


# --------------------------------------------------------------------------- migration
@dataclass(frozen=True)
class MigrationResult:
    """Rating migration between two dates: counts, row probabilities, MWB and adjacent-cell z-tests."""

    counts: pd.DataFrame          # N_ij: rows = grade at start, columns = grade at end
    probs: pd.DataFrame           # p_ij = N_ij / N_i
    upper_mwb: float
    lower_mwb: float
    z_tests: pd.DataFrame = field(repr=False)
    excluded: int = 0


def matrix_weighted_bandwidth(counts: Any) -> tuple[float, float]:
    """ECB (2019) upper and lower matrix weighted bandwidth of a K x K migration count matrix.

    ``upper MWB = sum_{i<K} sum_{j>i} |i-j| N_i p_ij / M_up``,
    ``M_up = sum_{i<K} max(|i-K|, |i-1|) N_i sum_{j>i} p_ij``; the lower MWB is the same over j < i, i > 1.
    Grades are 1-based and ordered best to worst; ``upper`` is the part above the diagonal (downgrades).
    When nothing migrates in a direction (e.g. the identity matrix) the MWB of that direction is 0.
    """
    n = np.asarray(counts, dtype=float)
    if n.ndim != 2 or n.shape[0] != n.shape[1]:
        raise InputError(f"migration matrix must be square, got shape {n.shape}")
    k = n.shape[0]
    ni = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(ni[:, None] > 0, n / np.where(ni > 0, ni, 1)[:, None], 0.0)
    i = np.arange(1, k + 1)[:, None]
    j = np.arange(1, k + 1)[None, :]
    dist = np.abs(i - j)
    rowmax = np.maximum(np.abs(i - k), np.abs(i - 1)).ravel()
    up, low = j > i, j < i
    num_up = float(np.sum(dist * ni[:, None] * p * up))
    num_low = float(np.sum(dist * ni[:, None] * p * low))
    m_up = float(np.sum(rowmax * ni * np.sum(p * up, axis=1)))
    m_low = float(np.sum(rowmax * ni * np.sum(p * low, axis=1)))
    return (num_up / m_up if m_up > 0 else 0.0), (num_low / m_low if m_low > 0 else 0.0)


def migration_z_tests(counts: Any, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """ECB adjacent-cell z-tests that migration probabilities decrease away from the diagonal.

    For a cell (i, j) off the diagonal, the neighbour is (i, j+1) below the diagonal (j < i) and (i, j-1)
    above it (j > i), i.e. the cell one step closer to the diagonal.
    ``z = (p_nb - p_ij) / sqrt(p_ij(1-p_ij)/N_i + p_nb(1-p_nb)/N_i + 2 p_ij p_nb / N_i)``, ``p = Phi(z)``.
    H0: ``p_nb >= p_ij`` (the nearer cell is at least as likely); a small p means the farther cell is
    significantly more populated. Cells where both probabilities are 0 are skipped (no variance).
    """
    n = np.asarray(counts, dtype=float)
    k = n.shape[0]
    labs = [str(x) for x in labels] if labels is not None else [str(x + 1) for x in range(k)]
    ni = n.sum(axis=1)
    rows = []
    for a in range(k):
        if ni[a] == 0:
            continue
        for b in range(k):
            if a == b:
                continue
            nb = b + 1 if b < a else b - 1
            pij, pnb = n[a, b] / ni[a], n[a, nb] / ni[a]
            var = (pij * (1 - pij) + pnb * (1 - pnb) + 2 * pij * pnb) / ni[a]
            if not var > 0:
                continue
            z = (pnb - pij) / np.sqrt(var)
            rows.append({"from": labs[a], "to": labs[b], "neighbour": labs[nb], "n_from": int(ni[a]),
                         "p_ij": pij, "p_neighbour": pnb, "z": float(z), "p_value": float(stats.norm.cdf(z))})
    return pd.DataFrame(rows, columns=["from", "to", "neighbour", "n_from", "p_ij", "p_neighbour", "z", "p_value"])


def migration_matrix(start: Any, end: Any, grade_order: Sequence[str]) -> MigrationResult:
    """Migration matrix of the same obligors' grades at two dates over the K grades of ``grade_order``.

    Pairs where either grade is missing or outside ``grade_order`` (e.g. "D", defaulted) are excluded and
    counted in ``excluded``.
    """
    s = pd.Series(np.asarray(start, dtype=object))
    e = pd.Series(np.asarray(end, dtype=object))
    check_lengths(start=s, end=e)
    order = [str(x) for x in grade_order]
    ok = s.notna() & e.notna()
    s2, e2 = s[ok].astype(str), e[ok].astype(str)
    ok2 = s2.isin(order) & e2.isin(order)
    s2, e2 = s2[ok2], e2[ok2]
    if s2.empty:
        raise NotComputable("no obligor has a grade of the scale at both dates")
    counts = pd.crosstab(pd.Categorical(s2, categories=order), pd.Categorical(e2, categories=order), dropna=False)
    counts = counts.reindex(index=order, columns=order, fill_value=0)
    counts.index.name, counts.columns.name = "from", "to"
    ni = counts.sum(axis=1)
    probs = counts.div(ni.where(ni > 0, 1), axis=0)
    up, low = matrix_weighted_bandwidth(counts.to_numpy())
    return MigrationResult(counts, probs, up, low, migration_z_tests(counts.to_numpy(), order),
                           int(len(s) - len(s2)))


# --------------------------------------------------------------------------- segments
def segment_table(y: Any, risk: Any, pd_: Any, segment: Any, n_boot: int = 200, seed: int = 0,
                  alpha: float = 0.05, min_defaults: int = 2, groups: Any = None) -> pd.DataFrame:
    """Discrimination and calibration per segment (industry, size class, ...).

    Columns: ``segment, n, defaults, default_rate, mean_pd, auc, auc_ci_low, auc_ci_high`` (DeLong),
    ``gini, gini_ci_low, gini_ci_high, ks, ks_ci_low, ks_ci_high`` (stratified bootstrap, seed derived from
    ``seed`` and the segment's position), ``jeffreys_p`` (segment level, mean PD) and ``note`` (why a statistic
    is missing, e.g. one class only). Missing segment labels form the segment "missing". With ``groups`` (the
    borrower of each row) the DeLong variance is clustered, the bootstrap resamples borrowers and the Jeffreys test
    reads the counts through the segment's :func:`design_effect`, as for the whole sample.
    """
    yy = check_binary(y)
    r = check_float(risk, "risk")
    p = check_pd(pd_)
    seg = pd.Series(np.asarray(segment, dtype=object)).where(lambda s: s.notna(), "missing").astype(str)
    check_lengths(y=yy, risk=r, pd=p, segment=seg, groups=groups)
    gr = None if groups is None else np.asarray(groups, dtype=object)
    rho = None if gr is None else within_group_correlation(yy, p, gr)
    rows = []
    for k, name in enumerate(sorted(seg.unique())):
        m = (seg == name).to_numpy()
        ys, rs, ps = yy[m], r[m], p[m]
        gs = None if gr is None else gr[m]
        d = int(ys.sum())
        row: dict[str, Any] = {"segment": name, "n": int(m.sum()), "defaults": d, "default_rate": d / m.sum(),
                               "mean_pd": float(ps.mean())}
        row["jeffreys_p"] = float(jeffreys_test(d, m.sum(), ps.mean(),
                                                design_effect(ys, ps, gs, rho=rho)))
        notes = []
        if gs is not None and len(pd.unique(gs)) < 2:   # a clustered variance needs two borrowers (K / (K - 1))
            notes.append("one borrower: its loans are not independent, so no interval (AUC, KS, Gini) is given")
            if 0 < d < len(ys):
                row.update(auc=auc(ys, rs), gini=gini(ys, rs), ks=ks_statistic(ys, rs).ks)
            row["note"] = "; ".join(notes)
            rows.append(row)
            continue
        try:
            a = auc_delong(ys, rs, alpha, groups=gs)
            row.update(auc=a.auc, auc_ci_low=a.ci_low, auc_ci_high=a.ci_high, gini=a.gini)
        except NotComputable as e:
            notes.append(f"AUC CI: {e.message}")
            if 0 < d < len(ys):
                row.update(auc=auc(ys, rs), gini=gini(ys, rs))
        if d >= min_defaults and len(ys) - d >= min_defaults:
            row["ks"] = ks_statistic(ys, rs).ks
            bs = bootstrap_discrimination(ys, rs, n_boot=n_boot, seed=int(np.random.SeedSequence([seed, k])
                                                                                .generate_state(1)[0]), alpha=alpha,
                                        groups=gs)
            row.update(gini_ci_low=bs.gini[0], gini_ci_high=bs.gini[1], ks_ci_low=bs.ks[0], ks_ci_high=bs.ks[1])
            if gs is not None and not bs.clusters:
                notes.append("the bootstrap resampled loans: every borrower of the segment holds a default")
        elif not notes:
            notes.append(f"too few defaults or non-defaults for KS and the bootstrap ({d} and {len(ys) - d})")
        row["note"] = "; ".join(notes)
        rows.append(row)
    cols = ["segment", "n", "defaults", "default_rate", "mean_pd", "auc", "auc_ci_low", "auc_ci_high", "gini",
            "gini_ci_low", "gini_ci_high", "ks", "ks_ci_low", "ks_ci_high", "jeffreys_p", "note"]
    return pd.DataFrame(rows).reindex(columns=cols)


# --------------------------------------------------------------------------- missing inputs
def missing_mask(features: Any) -> pd.DataFrame:
    """True where a model input is missing: NaN, None or NA, or text that is empty or blank (``" "``); one column per
    column of ``features`` (a frame, or anything :class:`pandas.DataFrame` takes), positional index."""
    f = pd.DataFrame(features).reset_index(drop=True)
    if f.columns.duplicated().any():
        dup = [str(c) for c in f.columns[f.columns.duplicated()]]
        raise InputError(f"the feature frame repeats column(s) {dup}", column=dup[0])
    from creditmodel.data.schema import empty_cells

    return pd.DataFrame({c: empty_cells(f[c]) for c in f.columns}, index=f.index, columns=f.columns)


def missing_value_table(y: Any, pd_: Any, features: Any, groups: Any = None, min_rows: int = 30) -> pd.DataFrame:
    """Calibration of the rows with a missing input against the rows that have it, one row per column of
    ``features`` (the model's inputs) with at least ``min_rows`` rows missing it (:func:`missing_mask`) and at least
    one present.

    Columns: ``feature, n`` (rows missing it), ``defaults, default_rate, mean_pd`` (fractions), ``ratio`` (default
    rate / mean PD), ``present_ratio`` (the same on the rows that have the input), ``portfolio_ratio`` (on the whole
    sample), ``relative`` (ratio / present_ratio: how much worse the PD predicts the missing rows than the others),
    ``jeffreys_p`` (:func:`jeffreys_test` on the missing rows' mean PD; H0 the PD is not underestimated there,
    one-sided), ``relative_p`` (H0 the missing rows are not worse predicted than the present ones: of all the sample's
    defaults, the missing rows hold no larger share than their share of the expected defaults, E_miss / E_all; a
    Jeffreys test of that share, the counts divided by the design effect; it conditions on the sample's defaults, so
    the portfolio's own miss, which ``jeffreys_p`` of the whole sample reads, is not counted again),
    ``relative_binomial_p`` (the exact binomial test of the same share, on the effective counts rounded) and ``note``;
    with ``groups`` (the borrower of each row) ``design_effect`` after ``relative``, the missing rows'
    :func:`design_effect` with the whole sample's within-borrower correlation, as per segment. Sorted by
    ``relative_p`` (smallest first). A scorecard that gives a missing value near-neutral points (a small missing
    bin's coefficient shrunk towards 0) under-predicts these rows. A row missing several inputs is in several rows
    of the table: the tests are not independent.
    """
    yy = check_binary(y, "target")
    p = check_pd(pd_, "pd")
    if isinstance(min_rows, bool) or not isinstance(min_rows, (int, np.integer)) or min_rows < 1:
        raise InputError(f"min_rows must be a whole number of at least 1, got {min_rows!r}", column="min_rows")
    miss = missing_mask(features)
    check_lengths(target=yy, pd=p, features=miss, groups=groups)
    gr = None if groups is None else np.asarray(groups, dtype=object)
    rho = None if gr is None else within_group_correlation(yy, p, gr)
    d_all, e_all = int(yy.sum()), float(p.sum())
    port = d_all / e_all if e_all > 0 else np.nan
    rows = []
    for c in miss.columns:
        m = miss[c].to_numpy(dtype=bool)
        k = int(m.sum())
        if k < min_rows or k == m.size:
            continue
        ys, ps = yy[m], p[m]
        d, mp = int(ys.sum()), float(ps.mean())
        e_miss = float(ps.sum())
        ratio = (d / k) / mp if mp > 0 else np.nan
        e_present = e_all - e_miss
        present = (d_all - d) / e_present if e_present > 0 else np.nan
        row: dict[str, Any] = {"feature": str(c), "n": k, "defaults": d, "default_rate": d / k, "mean_pd": mp,
                               "ratio": ratio, "present_ratio": present, "portfolio_ratio": port,
                               "relative": ratio / present if present > 0 and np.isfinite(ratio) else np.nan}
        deff = 1.0
        if gr is not None:
            deff = row["design_effect"] = design_effect(ys, ps, gr[m], rho=rho)
        row["jeffreys_p"] = float(jeffreys_test(d, k, mp, deff))
        share = e_miss / e_all if e_all > 0 else np.nan
        row["relative_p"] = (float(stats.beta.cdf(share, d / deff + 0.5, (d_all - d) / deff + 0.5))
                             if 0 < share < 1 else np.nan)
        # the exact conditional binomial test of the same share (effective counts): where few defaults are expected
        # the Jeffreys prior's half default alone rejects too often, as per grade
        d_eff, n_eff = int(round(d / deff)), int(round(d_all / deff))
        row["relative_binomial_p"] = (float(stats.binom.sf(d_eff - 1, n_eff, share)) if 0 < share < 1 and n_eff > 0
                                      else np.nan)
        row["note"] = "mean PD 0: no ratio" if mp <= 0 else ""
        rows.append(row)
    cols = ["feature", "n", "defaults", "default_rate", "mean_pd", "ratio", "present_ratio", "portfolio_ratio",
            "relative", *(["design_effect"] if gr is not None else []), "jeffreys_p", "relative_p",
            "relative_binomial_p", "note"]
    t = pd.DataFrame(rows).reindex(columns=cols)
    if len(t):
        t = t.sort_values(["relative_p", "jeffreys_p", "feature"], kind="mergesort").reset_index(drop=True)
    log.debug("missing-value calibration: %d of %d feature(s) with at least %d missing values", len(t),
              miss.shape[1], min_rows)
    return t
