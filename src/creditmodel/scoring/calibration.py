"""PD calibration: map a model's raw output (points or log-odds) to a 12-month PD, fitted on validation data.

Two maps are available, both monotone non-decreasing in risk:

* **Platt** -- ``PD = sigmoid(a * r + b)`` on the risk-oriented raw output ``r`` (``a >= 0``); two parameters, right
  when the raw output is (an affine function of) the true log-odds, as for a well-specified logistic scorecard.
* **isotonic** -- the pool-adjacent-violators fit (scikit-learn ``IsotonicRegression``); no shape assumption. With
  ``strict=True`` (default) the step function is replaced by a piecewise-linear interpolation, in log-odds,
  through the centre of each isotonic block, extrapolated linearly beyond the end blocks: distinct raw values get
  distinct PDs (rank order is kept, so grades do not lump scores that the model separates), equal raw values
  get equal PDs.

``method="auto"`` chooses between them by stratified K-fold cross-validation *on the calibration data* (out-of-
fold log-loss by default) and records the numbers and the reason in ``choice_report_``. Isotonic is chosen only
if its out-of-fold loss beats Platt's by more than ``se_rule`` standard errors of the paired per-row difference:
the flexible map has to pay for its extra parameters.

Every PD is clipped to ``[pd_floor, pd_cap]``; ``pd_floor`` defaults to the Basel III corporate PD floor (0.05 %).
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from creditmodel.errors import ConfigError, InputError, shown
from creditmodel.scoring.target import fit_target
from creditmodel.threads import fit_single_threaded

logger = logging.getLogger(__name__)

BASEL_PD_FLOOR = 0.0005
_METHODS = ("auto", "isotonic", "platt")
_CRITERIA = ("log_loss", "brier")


#: what ``pd.api.types.infer_dtype`` calls an object array of numbers (bool and Decimal included) or of nothing
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"})


def _refuse_non_numbers(a, name: str) -> None:
    """Complex values and text are refused, naming the first such row: a complex array lost its imaginary part
    with only a ComplexWarning, and text was parsed as numbers (a raw output read as text is a reading fault to
    fix where the text came from; a reviewer's finding)."""
    vals = a.to_numpy() if isinstance(a, pd.Series) else np.asarray(a)
    kind = vals.dtype.kind
    if kind not in "cUSO":
        return
    flat = vals.ravel()
    if kind == "O" and pd.api.types.infer_dtype(flat, skipna=True) in _NUMBER_KINDS:
        return
    bad = np.ones(flat.size, dtype=bool) if kind == "c" else \
        np.array([isinstance(v, (str, bytes, complex, np.complexfloating)) for v in flat], dtype=bool)
    if not bad.any():
        return
    j = int(np.flatnonzero(bad)[0])
    what = "complex" if kind == "c" or isinstance(flat[j], (complex, np.complexfloating)) else "text"
    row = j // (flat.size // vals.shape[0]) + 1 if vals.ndim else None
    raise InputError(f"expected real numbers, got {what} ({int(bad.sum())} value(s), first {shown(flat[j])}): pass "
                     f"them as floats", column=name, row=row)


def _as_1d(a, name: str) -> np.ndarray:
    _refuse_non_numbers(a, name)
    arr = np.asarray(a, dtype=float) if not isinstance(a, pd.Series) else a.to_numpy(dtype=float)
    if arr.ndim > 1 and arr.shape[1:] != (1,) * (arr.ndim - 1):
        raise InputError(f"expected one value per row, got an array of shape {arr.shape}", column=name)
    arr = arr.ravel()
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{int(bad.sum())} non-finite value(s) (NaN or inf); first is {arr[i]}", column=name,
                         row=i + 1)
    return arr


def _as_target(y, n: int) -> np.ndarray:
    return fit_target(y, n).astype(float)


def _row_log_loss(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


# ----------------------------------------------------------------------------------------------------------
# the two maps (plain functions of the risk-oriented raw value r, so they can be cross-validated cheaply)
# ----------------------------------------------------------------------------------------------------------
def _fit_platt(r: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> dict:
    """Unpenalised 1-D logistic regression of y on standardised r, slope constrained to >= 0."""
    w = np.ones_like(r) if w is None else w
    centre, scale = float(np.average(r, weights=w)), float(np.sqrt(np.cov(r, aweights=w))) if r.size > 1 else 1.0
    p0 = float(np.clip(np.average(y, weights=w), 1e-6, 1 - 1e-6))
    if not scale > 0:   # one raw value: no slope can be learned (it kept its start value, 0.5 per unit of r)
        return {"a": 0.0, "b": float(logit(p0)), "converged": True}
    z = (r - centre) / scale

    def nll(theta):
        a, b = theta
        s = a * z + b
        # log(1 + e^s) - y*s, stable; gradient analytic
        f = np.sum(w * (np.logaddexp(0.0, s) - y * s))
        g = w * (expit(s) - y)
        return f, np.array([np.sum(g * z), np.sum(g)])

    res = minimize(nll, x0=np.array([0.5, logit(p0)]), jac=True, method="L-BFGS-B",
                   bounds=[(0.0, None), (None, None)])
    a, b = (float(v) for v in res.x)
    return {"a": a / scale, "b": b - a * centre / scale, "converged": bool(res.success)}


def _logit_platt(params: dict, r: np.ndarray) -> np.ndarray:
    return params["a"] * r + params["b"]


def _fit_isotonic(r: np.ndarray, y: np.ndarray, strict: bool, lo: float, hi: float,
                  w: np.ndarray | None = None) -> dict:
    """Isotonic fit; with ``strict`` the knots (block centre, block PD) for log-odds interpolation."""
    ir = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(r, y, sample_weight=w)
    if not strict:
        return {"ir": ir}
    ux, inv = np.unique(r, return_inverse=True)
    wt = np.bincount(inv, weights=np.ones_like(r) if w is None else w)
    fitted = ir.predict(ux)
    # blocks = runs of equal fitted value; PAVA makes them strictly increasing from block to block
    start = np.r_[0, np.flatnonzero(np.diff(fitted) > 0) + 1]
    block_w = np.add.reduceat(wt, start)
    kx = np.add.reduceat(ux * wt, start) / block_w
    kp = fitted[start].copy()
    if kp[-1] >= 1.0 and kp.size > 1:
        # the riskiest block holds only defaults: its PD of 1 (clipped to pd_cap, 1 - 1e-6, and extrapolated
        # beyond) gave performing firms near-certain default; it takes the Jeffreys posterior mean of its rows,
        # (D + 1/2) / (N + 1) with N its rows counted without their weights (the weights' scale must not move
        # it), kept above the block before it
        n_last = float(np.bincount(inv)[start[-1]:].sum())
        kp[-1] = max((n_last + 0.5) / (n_last + 1.0), kp[-2] + 0.5 * (1.0 - kp[-2]))
    kp = np.clip(kp, lo, hi)
    # blocks that clip to the same PD (e.g. several zero-default blocks at the floor) keep one knot:
    # the riskiest one at the floor (everything below it gets the floor), the safest one at the cap
    keep = np.ones(kp.size, dtype=bool)
    keep[:-1] &= ~((kp[:-1] == lo) & (kp[1:] == lo))
    keep[1:] &= ~((kp[1:] == hi) & (kp[:-1] == hi))
    return {"knot_x": kx[keep], "knot_logit": logit(kp[keep])}


def _logit_isotonic(params: dict, r: np.ndarray) -> np.ndarray:
    if "ir" in params:
        with np.errstate(divide="ignore"):
            return logit(params["ir"].predict(r))      # a step at 0 or 1 is -inf / +inf: the floor or the cap
    kx, kl = params["knot_x"], params["knot_logit"]
    if kx.size == 1:
        return np.full(r.shape, kl[0])
    s = np.interp(r, kx, kl)
    left, right = r < kx[0], r > kx[-1]
    s[left] = kl[0] + (r[left] - kx[0]) * (kl[1] - kl[0]) / (kx[1] - kx[0])
    s[right] = kl[-1] + (r[right] - kx[-1]) * (kl[-1] - kl[-2]) / (kx[-1] - kx[-2])
    return s


@dataclass
class CalibrationChoice:
    """Why ``method="auto"`` chose what it chose (out-of-fold numbers on the calibration data)."""

    method: str
    reason: str
    cv_folds: int
    criterion: str
    log_loss: dict = field(default_factory=dict)     # method -> mean out-of-fold log-loss
    brier: dict = field(default_factory=dict)        # method -> mean out-of-fold Brier score
    paired_diff: float = float("nan")                # mean(loss_isotonic - loss_platt) per row
    paired_se: float = float("nan")                  # its standard error

    def to_dict(self) -> dict:
        return asdict(self)


def check_central_tendency(central_tendency: Any, pd_floor: float = BASEL_PD_FLOOR, pd_cap: float = 1 - 1e-6) -> None:
    """Raise :class:`ConfigError` (parameter ``central_tendency``) unless it is a default rate (fraction)
    strictly between ``pd_floor`` and ``pd_cap``."""
    ct = central_tendency
    if isinstance(ct, bool) or not isinstance(ct, (int, float, np.integer, np.floating)) \
            or not pd_floor < float(ct) < pd_cap:
        raise ConfigError(f"central_tendency: a default rate between pd_floor {pd_floor:g} and pd_cap {pd_cap:g} "
                          f"(fraction), got {ct!r}", parameter="central_tendency")


class PDCalibrator(BaseEstimator):
    """Calibrated 12-month PD (fraction) from a raw model output, fitted on validation data.

    Parameters
    ----------
    method : {"auto", "isotonic", "platt"}
        ``auto`` picks isotonic or Platt by stratified ``cv``-fold cross-validation on the data given to ``fit``.
    higher_is_riskier : bool
        Direction of the raw output: True for log-odds of default, False for scorecard points (higher = safer).
    pd_floor, pd_cap : float
        Output PDs are clipped to ``[pd_floor, pd_cap]`` (fractions; default floor is Basel III's 0.05 %).
    strict : bool
        Isotonic only: strictly increasing log-odds interpolation between block centres instead of steps.
    cv : int
        Folds for ``method="auto"``.
    criterion : {"log_loss", "brier"}
        Out-of-fold loss compared by ``auto``.
    se_rule : float
        ``auto`` chooses isotonic only if it beats Platt by more than ``se_rule`` paired standard errors
        (0 = whichever loss is lower).
    random_state : int
        Seed of the cross-validation folds.
    central_tendency : float or None
        Long-run average default rate (fraction) the PDs are calibrated to: after the map is fitted, every
        PD is shifted by one constant in log-odds so that the mean PD of the calibration rows equals it
        (rank order and the map's shape kept). None: the calibration rows' own default rate, which after
        benign years understates the long-run average (no margin of conservatism).

    Fitted attributes: ``method_`` (the map used), ``params_``, ``choice_report_`` (:class:`CalibrationChoice`,
    also for a fixed method), ``n_samples_``, ``default_rate_``, ``shift_`` (the log-odds shift, 0 without a
    central tendency unless :meth:`recentre` set it).
    """

    def __init__(self, method: str = "auto", higher_is_riskier: bool = True, pd_floor: float = BASEL_PD_FLOOR,
                 pd_cap: float = 1 - 1e-6, strict: bool = True, cv: int = 5, criterion: str = "log_loss",
                 se_rule: float = 1.0, random_state: int = 0, central_tendency: float | None = None):
        self.method = method
        self.higher_is_riskier = higher_is_riskier
        self.pd_floor = pd_floor
        self.pd_cap = pd_cap
        self.strict = strict
        self.cv = cv
        self.criterion = criterion
        self.se_rule = se_rule
        self.random_state = random_state
        self.central_tendency = central_tendency

    def __setstate__(self, state):
        # calibrators pickled before ``central_tendency`` existed load without it and, fitted, without ``shift_``
        # (repr, get_params and predict work); class-level defaults did this but made ``shift_`` look fitted on an
        # unfitted calibrator (``check_is_fitted(PDCalibrator(), "shift_")`` passed: a reviewer's finding)
        state.setdefault("central_tendency", None)
        if "params_" in state:
            state.setdefault("shift_", 0.0)
        super().__setstate__(state)

    # -- helpers -----------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.method not in _METHODS:
            raise ConfigError(f"method: expected one of {_METHODS}, got {self.method!r}", parameter="method")
        if self.criterion not in _CRITERIA:
            raise ConfigError(f"criterion: expected one of {_CRITERIA}, got {self.criterion!r}", parameter="criterion")
        from creditmodel.scoring import params as P

        # types first: a text "False" was truthy (every PD equal, a warning saying higher_is_riskier=False), a NaN
        # or negative se_rule, cv=2.5 and cv="5" were taken, pd_floor="0.001" a bare TypeError (a reviewer's finding)
        for name in ("higher_is_riskier", "strict"):
            P.require(isinstance(getattr(self, name), (bool, np.bool_)), name, "True or False", getattr(self, name))
        P.number("pd_floor", self.pd_floor)   # a number; its range with pd_cap's below
        P.number("pd_cap", self.pd_cap)
        P.number("se_rule", self.se_rule, 0.0)
        P.integer("cv", self.cv, 2)
        if not (0.0 < self.pd_floor < self.pd_cap < 1.0):
            # a PD of 0 is no risk at all, and a PD of 1 is grade D (in default): neither is a performing firm's
            raise ConfigError(f"pd_floor/pd_cap: need 0 < pd_floor < pd_cap < 1, got {self.pd_floor}, "
                              f"{self.pd_cap}", parameter="pd_floor")
        if int(self.cv) < 2:
            raise ConfigError(f"cv: need at least 2 folds, got {self.cv}", parameter="cv")
        if self.central_tendency is not None:
            check_central_tendency(self.central_tendency, self.pd_floor, self.pd_cap)

    def _risk(self, raw) -> np.ndarray:
        r = _as_1d(raw, "raw")
        return r if self.higher_is_riskier else -r

    def _fit_one(self, method, r, y, w=None) -> dict:
        if method == "platt":
            return _fit_platt(r, y, w)
        return _fit_isotonic(r, y, self.strict, self.pd_floor, self.pd_cap, w)

    @staticmethod
    def _log_odds(method, params, r) -> np.ndarray:
        """The map's log-odds of default, before the shift and the floor/cap."""
        return _logit_platt(params, r) if method == "platt" else _logit_isotonic(params, r)

    def _predict_one(self, method, params, r) -> np.ndarray:
        return self._shifted(self._log_odds(method, params, r), 0.0)

    # -- API ---------------------------------------------------------------------------------------------
    @fit_single_threaded
    def fit(self, raw, y, sample_weight=None, groups=None) -> PDCalibrator:
        """Fit on validation data: ``raw`` model output (points or log-odds), ``y`` 1 = default. ``groups`` (one key
        per row, e.g. the borrower): ``auto``'s folds hold each group out whole and its standard error is clustered
        by group (a borrower's loans are not independent rows)."""
        from creditmodel.scoring.splits import check_groups

        self._check_params()
        r = self._risk(raw)
        yf = _as_target(y, r.size)
        groups = check_groups(groups, r.size)
        w = None if sample_weight is None else _as_1d(sample_weight, "sample_weight")
        if w is not None and (w.size != r.size or (w < 0).any() or w.sum() <= 0):
            raise InputError("sample_weight must be non-negative, not all zero, one per row", column="sample_weight")
        self.n_samples_ = int(r.size)
        self.default_rate_ = float(np.average(yf, weights=w))
        if self.method == "auto":
            self.choice_report_ = self._choose(r, yf, w, groups)
            self.method_ = self.choice_report_.method
        else:
            self.method_ = self.method
            self.choice_report_ = CalibrationChoice(method=self.method, reason="fixed by the method parameter",
                                                    cv_folds=0, criterion=self.criterion)
        self.params_ = self._fit_one(self.method_, r, yf, w)
        self.shift_ = 0.0
        self.optimism_shift_ = 0.0  # log-odds added by recentre() for in-sample optimism
        if self.central_tendency is not None:
            self.shift_ = self._shift_to(self._log_odds(self.method_, self.params_, r), float(self.central_tendency), w)
            logger.info("PD calibration: shifted by %+.4f in log-odds to a mean PD of %.4f (central tendency; the "
                        "calibration rows' default rate is %.4f)", self.shift_, self.central_tendency,
                        self.default_rate_)
        if self.method_ == "platt" and self.params_["a"] == 0.0:
            flat = float(np.ptp(r)) == 0.0
            logger.warning("Platt slope is 0: %s; every PD is the same, %.4g", "the raw output takes one value"
                           if flat else f"the raw output does not rank defaults in the declared direction "
                           f"(higher_is_riskier={self.higher_is_riskier})",
                           float(self._shifted(np.array([self.params_["b"]]), self.shift_)[0]))
        logger.info("PD calibration: %s on %d rows (default rate %.4f); %s", self.method_, r.size,
                    self.default_rate_, self.choice_report_.reason)
        return self

    def _choose(self, r, y, w, groups=None) -> CalibrationChoice:
        from creditmodel.scoring.binning import minority_count
        from creditmodel.scoring.splits import stratified_folds

        k = int(self.cv)
        n_min = minority_count(y, groups)
        if n_min < k:
            return CalibrationChoice("platt", f"only {n_min} {'rows' if groups is None else 'groups'} in the smaller "
                                     f"class (< {k} folds): Platt", k, self.criterion)
        oof = {m: np.empty_like(r) for m in ("platt", "isotonic")}
        for tr, te in stratified_folds(y, k, self.random_state, groups):
            for m, pred in oof.items():
                params = self._fit_one(m, r[tr], y[tr], None if w is None else w[tr])
                pred[te] = self._predict_one(m, params, r[te])
        ww = np.ones_like(r) if w is None else w
        ll = {m: float(np.average(_row_log_loss(y, p), weights=ww)) for m, p in oof.items()}
        br = {m: float(np.average((y - p) ** 2, weights=ww)) for m, p in oof.items()}
        loss = {"log_loss": _row_log_loss, "brier": lambda yy, p: (yy - p) ** 2}[self.criterion]
        d = loss(y, oof["isotonic"]) - loss(y, oof["platt"])
        diff = float(np.average(d, weights=ww))
        if groups is None:
            n_eff = ww.sum() ** 2 / float(np.sum(ww ** 2))   # the weights' scale does not matter (1/n, 1 or 10 per row)
            se = float(np.sqrt(np.average((d - diff) ** 2, weights=ww) / max(n_eff - 1, 1.0)))
        else:   # clustered by group: the sum of each group's weighted deviations, small-sample corrected
            s = pd.Series(ww * (d - diff)).groupby(pd.factorize(pd.Series(groups), sort=True)[0]).sum().to_numpy()
            g = len(s)
            se = float(np.sqrt(g / max(g - 1, 1) * np.sum(s ** 2)) / ww.sum())
        if diff < -self.se_rule * se:
            method = "isotonic"
            reason = (f"isotonic out-of-fold {self.criterion} is lower than Platt's by {-diff:.3g} per row "
                      f"(> {self.se_rule:g} x paired s.e. {se:.2g}): the raw output is not logistic in the PD")
        else:
            method = "platt"
            reason = (f"isotonic does not beat Platt by more than {self.se_rule:g} x paired s.e. "
                      f"({self.criterion} difference {diff:+.3g}, s.e. {se:.2g}): the simpler map is kept")
        return CalibrationChoice(method, reason, k, self.criterion, ll, br, diff, se)

    def _shifted(self, s: np.ndarray, shift: float) -> np.ndarray:
        """PD from the map's log-odds ``s`` plus ``shift``, clipped to [pd_floor, pd_cap] once, after the shift (a
        clip before it moved every floored row to one PD above the floor and could empty grade 1)."""
        return np.clip(expit(s + shift), self.pd_floor, self.pd_cap)

    def _shift_to(self, s: np.ndarray, target: float, w: np.ndarray | None) -> float:
        """The log-odds shift that makes the (weighted) mean PD of the map's log-odds ``s`` equal ``target``."""
        from scipy.optimize import brentq

        def gap(d: float) -> float:
            return float(np.average(self._shifted(s, d), weights=w)) - target

        return float(brentq(gap, -30.0, 30.0, xtol=1e-12))

    def _target(self) -> float:
        return float(self.central_tendency) if self.central_tendency is not None else self.default_rate_

    def shift_for(self, raw, sample_weight=None) -> float | None:
        """The log-odds shift that makes the (weighted) mean PD of ``raw`` equal the central tendency (or,
        without one, ``default_rate_``) under the fitted map; None when no shift reaches it (a target at or
        beyond what ``pd_floor``/``pd_cap`` allow, e.g. a default rate under the 0.05 % floor)."""
        check_is_fitted(self, "params_")
        r = self._risk(raw)
        if r.size == 0:
            raise InputError("no rows to recentre on", column="raw")
        w = None if sample_weight is None else _as_1d(sample_weight, "sample_weight")
        if w is not None and (w.size != r.size or (w < 0).any() or w.sum() <= 0):
            raise InputError("sample_weight must be non-negative, not all zero, one per row", column="sample_weight")
        base = self._log_odds(self.method_, self.params_, r)
        target = self._target()
        lo, hi = (float(np.average(self._shifted(base, d), weights=w)) for d in (-30.0, 30.0))
        if not lo < target < hi:
            return None
        return self._shift_to(base, target, w)

    def recentre(self, raw, sample_weight=None, offset: float = 0.0) -> PDCalibrator:
        """Re-solve the log-odds shift so that the mean PD of ``raw`` equals the central tendency (or, without
        one, the calibration rows' default rate ``default_rate_``), then add ``offset`` (log-odds); the fitted
        map is kept. A target no shift reaches keeps the current shift, with a warning.

        For cross-fitted calibration: the map is learned on out-of-fold outputs, but the model that scores is
        the final fit, whose outputs can sit on another scale (a LightGBM fit on all development rows grows
        other trees than its fold fits). Passing the final model's outputs on the development rows makes the
        mean PD it produces there equal the target, which the out-of-fold fit alone does not guarantee. Those
        outputs are in-sample, hence optimistic; ``offset`` carries the correction measured on the fold fits
        (their out-of-fold shift minus their in-sample shift), so that the target is met on new rows.
        """
        shift = self.shift_for(raw, sample_weight)
        base = self._log_odds(self.method_, self.params_, self._risk(raw))
        if shift is None:
            logger.warning("PD calibration not recentred: no log-odds shift brings the mean PD of %d rows to %.6f "
                           "within [pd_floor %g, pd_cap %g]; the shift stays %+.4f", base.size, self._target(),
                           self.pd_floor, self.pd_cap, self.shift_)
            return self
        w = None if sample_weight is None else _as_1d(sample_weight, "sample_weight")
        before = float(np.average(self._shifted(base, self.shift_), weights=w))
        self.shift_, self.optimism_shift_ = shift + float(offset), float(offset)
        logger.info("PD calibration recentred on %d rows of the final model: their mean PD %.4f -> %.4f (target "
                    "%.4f; log-odds shift %+.4f, of which %+.4f corrects in-sample optimism)", base.size, before,
                    float(np.average(self._shifted(base, self.shift_), weights=w)), self._target(), self.shift_,
                    self.optimism_shift_)
        return self

    def predict(self, raw) -> np.ndarray:
        """PD (fraction in ``[pd_floor, pd_cap]``) for each raw value; non-decreasing in risk."""
        check_is_fitted(self, "params_")
        r = self._risk(raw)
        return self._shifted(self._log_odds(self.method_, self.params_, r), self.shift_)


@dataclass
class CalibrationError:
    """Calibration of predicted PD against observed outcomes or true PDs (all fractions)."""

    ece: float            # share-weighted mean |mean PD - mean truth| over the PD bins
    max_bin_error: float  # the largest per-bin |mean PD - mean truth|
    overall: float        # |mean PD - mean truth| over all rows
    table: pd.DataFrame   # per bin: n, pd_min, pd_max, mean_pd, mean_true, abs_diff

    def to_dict(self) -> dict:
        """The scalar metrics (for MLflow)."""
        return {"ece": self.ece, "max_bin_error": self.max_bin_error, "overall": self.overall}


def expected_calibration_error(y_or_pd_true, pd_pred, bins: int = 10) -> CalibrationError:
    """Compare predicted PD with the truth per PD bin (equal-count bins by predicted-PD rank, deciles by default).

    ``y_or_pd_true`` is either observed 0/1 defaults (then the bin truth is the default rate) or the true PD of
    each row (e.g. the synthetic generator's), in which case the bin truth is the mean true PD. Bins are formed
    by the rank of ``pd_pred``; rows with equal PDs always share a bin (the bin of the first of them), so the
    result does not depend on the order of the rows (a coarse scorecard's ties split by input order gave 0.0031 in
    one order and 0.0145 in another). With many ties a bin can hold more rows than others, or none.
    """
    t = _as_1d(y_or_pd_true, "y_or_pd_true")
    p = _as_1d(pd_pred, "pd_pred")
    if t.size != p.size or t.size == 0:
        raise InputError(f"need the same non-zero number of truths and PDs, got {t.size} and {p.size}",
                         column="pd_pred")
    for name, a in (("y_or_pd_true", t), ("pd_pred", p)):
        if (a < 0).any() or (a > 1).any():
            raise InputError("values must be fractions in [0, 1]", column=name)
    bins = int(min(max(bins, 1), p.size))
    order = np.argsort(p, kind="stable")
    _, first, tie = np.unique(p[order], return_index=True, return_inverse=True)
    b = np.empty(p.size, dtype=int)
    b[order] = first[tie] * bins // p.size         # every tied row takes the rank of the first of its PD
    df = pd.DataFrame({"bin": b, "pd": p, "true": t})
    tab = df.groupby("bin").agg(n=("pd", "size"), pd_min=("pd", "min"), pd_max=("pd", "max"),
                                mean_pd=("pd", "mean"), mean_true=("true", "mean")).reset_index()
    tab["abs_diff"] = (tab["mean_pd"] - tab["mean_true"]).abs()
    ece = float(np.sum(tab["n"] * tab["abs_diff"]) / p.size)
    return CalibrationError(ece=ece, max_bin_error=float(tab["abs_diff"].max()),
                            overall=float(abs(p.mean() - t.mean())), table=tab)
