"""Rate versus customer churn: a monotone churn curve per rating and the rate that maximises profit.

The CUMCM 2020 C bank (attachment 3) observed, per rating A/B/C, the share of potential customers it
loses (``churn``) as a function of the annual rate it quotes, from 0 at 4 % to about 0.9 at 15 %.

Churn curve (``kind="weibull"``, the default): a Weibull distribution function starting at the lowest
quoted rate ``r0``::

    churn(r) = 1 - exp(-((r - r0) / scale) ** shape)   for r > r0,   0 for r <= r0

It is smooth, increasing and within [0, 1) for any fitted ``scale, shape > 0`` (least squares with
``scipy.optimize.curve_fit``). ``kind="isotonic"`` is a non-parametric benchmark: isotonic regression
(scikit-learn) joined by a monotone PCHIP interpolant (scipy).

Expected profit per yuan offered to one customer at rate r (PD, LGD fractions; rates per year)::

    profit(r) = (1 - churn(r)) x [ (1 - PD) r - PD x LGD - cost_rate ]

i.e. the share of offers taken up times the margin on a kept loan: interest is paid by the firms that
do not default, the expected loss PD x LGD is lost on the principal, and ``cost_rate`` (funding, opex,
capital charge; 0 by default) is paid on every yuan lent. Assumptions: a one-year loan, churn does not
depend on PD within a rating (adverse selection is ignored), the bank is risk neutral. The best rate
is searched on a grid of ``step`` (1 bp) within the bank's range, 4 %-15 % by default.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator
from scipy.optimize import curve_fit
from sklearn.base import BaseEstimator, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from creditmodel.errors import InputError
from creditmodel.pricing import _arg, _broadcast
from creditmodel.reference import PROJECT_ROOT

log = logging.getLogger(__name__)

#: Attachment 3 of CUMCM 2020 C, read-only in the shared data folder.
RATE_CHURN_FILE = (PROJECT_ROOT.parent / "shared" / "data" / "cumcm2020c_sme_credit"
                   / "attachment3_rate_vs_churn.csv")
_RATE_COL = "贷款年利率"
_CHURN_PREFIX = "客户流失率_信誉评级"


def load_rate_churn(path: str | Path | None = None) -> pd.DataFrame:
    """Attachment 3 as a long frame with columns ``grade`` (A/B/C), ``rate``, ``churn`` (fractions)."""
    from creditmodel.data.io import read_table

    p = Path(path) if path is not None else RATE_CHURN_FILE
    if not p.is_file():
        raise InputError("rate-versus-churn file not found", file=p)
    raw = read_table(p, as_text=True)       # empty, corrupt or mis-encoded: an InputError naming the file
    if _RATE_COL not in raw.columns:
        raise InputError("missing the annual-rate column", file=p, column=_RATE_COL)
    grades = [c for c in raw.columns if c.startswith(_CHURN_PREFIX)]
    if not grades:
        raise InputError(f"no churn columns named {_CHURN_PREFIX}<grade>", file=p)
    if raw.empty:
        raise InputError("no data rows (only a header)", file=p)
    # checked in the file's own columns, so that an error names the column and data row a person can find (on
    # the long frame a bad cell of grade B's row 2 was "column churn, row 5": helper-138's mutation pass)
    for col, low, high in ((_RATE_COL, 0.0, None), *((g, 0.0, 1.0) for g in grades)):
        v = pd.to_numeric(raw[col].str.strip(), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(v) | (v < low) | ((v > high) if high is not None else False)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            want = "a fraction in [0, 1]" if high is not None else "a number at least 0"
            raise InputError(f"{raw[col].iloc[i]!r} is not {want} ({int(bad.sum())} such row(s))", file=p,
                             column=col, row=i + 1)
        raw[col] = v
    long = raw.melt(id_vars=_RATE_COL, value_vars=grades, var_name="grade", value_name="churn")
    long = long.rename(columns={_RATE_COL: "rate"})
    long["grade"] = long["grade"].str.removeprefix(_CHURN_PREFIX)
    long = long[["grade", "rate", "churn"]].sort_values(["grade", "rate"], kind="stable")
    return long.reset_index(drop=True)


def _weibull(r, scale, shape):
    x = np.clip(np.asarray(r, float), 0.0, None) / scale
    return 1.0 - np.exp(-(x ** shape))


class ChurnCurve(BaseEstimator):
    """Monotone increasing churn (fraction of customers lost) as a function of the annual rate.

    ``kind``: ``"weibull"`` (smooth parametric, see the module docstring) or ``"isotonic"``
    (isotonic regression + PCHIP). ``rate_start``: rate at and below which churn is 0 (weibull only).

    Fitted attributes: ``params_`` (weibull: ``scale``, ``shape``), ``n_points_``, and the fit quality
    on the training points: ``rmse_``, ``r2_``, ``max_abs_error_``, and ``loo_rmse_`` (leave-one-out).
    """

    def __init__(self, kind: str = "weibull", rate_start: float = 0.04):
        self.kind = kind
        self.rate_start = rate_start

    def _fit_core(self, rate: np.ndarray, churn: np.ndarray) -> "ChurnCurve":
        if self.kind == "weibull":
            x = rate - self.rate_start
            high = churn >= 1.0 - np.exp(-1.0)             # churn(r0 + scale) = 1 - 1/e for any shape
            guess = float(x[high].min()) if high.any() else float(np.ptp(x))
            (scale, shape), _ = curve_fit(_weibull, x, churn, p0=[max(guess, 1e-3), 1.0],
                                          bounds=([1e-5, 0.05], [10.0, 10.0]), maxfev=10_000)
            self.params_ = {"scale": float(scale), "shape": float(shape)}
        elif self.kind == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
            iso.fit(rate, churn)
            xs = np.unique(rate)
            self.params_ = {"knots": xs, "values": iso.predict(xs)}
            self.interp_ = PchipInterpolator(xs, self.params_["values"], extrapolate=False)
        else:
            raise InputError(f"kind must be 'weibull' or 'isotonic', got {self.kind!r}", column="kind")
        return self

    def fit(self, rate, churn) -> "ChurnCurve":
        """Fit on observed (rate, churn) pairs: rates per year, churn fractions in [0, 1]."""
        rate = np.asarray(rate, float).ravel()
        churn = np.asarray(churn, float).ravel()
        if rate.shape != churn.shape or rate.size < 4:
            raise InputError(f"need at least 4 (rate, churn) pairs of equal length, "
                             f"got {rate.size} and {churn.size}")
        for name, x in (("rate", rate), ("churn", churn)):
            if not np.isfinite(x).all():
                raise InputError("must be finite numbers", column=name)
        if (churn < 0).any() or (churn > 1).any():
            raise InputError("churn must lie in [0, 1]", column="churn")
        self._fit_core(rate, churn)
        res = churn - self.predict(rate)
        self.n_points_ = int(rate.size)
        self.rmse_ = float(np.sqrt(np.mean(res ** 2)))
        self.r2_ = float(1.0 - np.sum(res ** 2) / np.sum((churn - churn.mean()) ** 2))
        self.max_abs_error_ = float(np.max(np.abs(res)))
        loo = [churn[i] - clone(self)._fit_core(np.delete(rate, i), np.delete(churn, i)).predict(rate[i])
               for i in range(rate.size)]
        self.loo_rmse_ = float(np.sqrt(np.mean(np.square(loo))))
        return self

    def predict(self, rate):
        """Churn (fraction in [0, 1]) at the given annual rates; same shape as ``rate``."""
        check_is_fitted(self, "params_")
        r = np.asarray(rate, float)
        if self.kind == "weibull":
            out = _weibull(r - self.rate_start, self.params_["scale"], self.params_["shape"])
        else:
            xs = self.params_["knots"]
            out = self.interp_(np.clip(r, xs[0], xs[-1]))
        out = np.clip(out, 0.0, 1.0)
        return out[()] if out.ndim == 0 else out

    def retention(self, rate):
        """Share of offers taken up: ``1 - churn``."""
        return 1.0 - self.predict(rate)


def fit_churn_curves(table: pd.DataFrame, kind: str = "weibull", rate_start: float | None = None
                     ) -> dict[str, ChurnCurve]:
    """One fitted :class:`ChurnCurve` per grade of a long table (``grade``, ``rate``, ``churn``).

    ``rate_start`` defaults to the lowest observed rate (4 % in attachment 3, where churn is 0).
    """
    start = float(table["rate"].min()) if rate_start is None else rate_start
    curves = {}
    for grade, g in table.groupby("grade", sort=True):
        curves[str(grade)] = ChurnCurve(kind=kind, rate_start=start).fit(g["rate"], g["churn"])
        log.info("churn curve %s (%s): rmse %.4f, R2 %.4f, LOO rmse %.4f", grade, kind,
                 curves[str(grade)].rmse_, curves[str(grade)].r2_, curves[str(grade)].loo_rmse_)
    return curves


def churn_fit_report(curves: Mapping[str, ChurnCurve]) -> pd.DataFrame:
    """Fit quality per grade: kind, weibull parameters, points, RMSE, R², max |error|, LOO RMSE."""
    rows = []
    for grade, c in curves.items():
        rows.append({"grade": grade, "kind": c.kind, "scale": c.params_.get("scale", np.nan),
                     "shape": c.params_.get("shape", np.nan), "n_points": c.n_points_, "rmse": c.rmse_,
                     "r2": c.r2_, "max_abs_error": c.max_abs_error_, "loo_rmse": c.loo_rmse_})
    return pd.DataFrame(rows)


def jeffreys_pd(defaults, n):
    """PD of a grade from ``defaults`` out of ``n`` firms: Jeffreys posterior mean ``(d + 1/2) / (n + 1)``.

    Unlike ``d / n`` it is never 0, so a grade with no observed default still pays for some risk.
    """
    d, n = np.asarray(defaults, float), np.asarray(n, float)
    if (d < 0).any() or (n <= 0).any() or (d > n).any():
        raise InputError("need 0 <= defaults <= n and n > 0")
    out = (d + 0.5) / (n + 1.0)
    return out[()] if out.ndim == 0 else out


def _risk_args(pd, lgd, cost_rate) -> list[np.ndarray]:
    """PD and LGD in [0, 1], the cost rate in [-1, 1], none NaN, broadcast to one shape; a
    :class:`~creditmodel.pricing.DomainError` (an InputError) naming the argument otherwise. PD NaN gave 4 % as
    the optimal rate, PD 5 or LGD 40 a rate as if they were fractions (a reviewer's finding)."""
    named = {"pd": _arg("pd", pd, 0.0, 1.0), "lgd": _arg("lgd", lgd, 0.0, 1.0),
             "cost_rate": _arg("cost_rate", cost_rate, -1.0, 1.0)}
    return _broadcast(list(named.values()), list(named))


def expected_profit(rate, pd, lgd, curve: ChurnCurve, cost_rate=0.0):
    """Expected profit per yuan offered: ``(1 - churn(r)) x ((1 - PD) r - PD x LGD - cost_rate)``.

    PD and LGD are fractions in [0, 1] and ``cost_rate`` in [-1, 1]; NaN or a value outside raises
    :class:`~creditmodel.pricing.DomainError` naming the argument."""
    p, lg, c = _risk_args(pd, lgd, cost_rate)
    r, p, lg, c = np.broadcast_arrays(np.asarray(rate, float), p, lg, c)
    out = curve.retention(r) * ((1.0 - p) * r - p * lg - c)
    return out[()] if np.ndim(out) == 0 else out


def rate_grid(rate_min: float = 0.04, rate_max: float = 0.15, step: float = 0.0001) -> np.ndarray:
    """The candidate rates ``rate_min, rate_min + step, ..., rate_max`` (both ends included)."""
    if not 0 <= rate_min <= rate_max or step <= 0:
        raise InputError(f"need 0 <= rate_min <= rate_max and step > 0, got {rate_min}, {rate_max}, {step}")
    n = int(np.floor((rate_max - rate_min) / step + 1e-9))
    grid = rate_min + step * np.arange(n + 1)
    return np.unique(np.append(np.round(grid, 10), rate_max))


def optimal_rate(curve: ChurnCurve, pd, lgd, cost_rate=0.0, rate_min: float = 0.04, rate_max: float = 0.15,
                 step: float = 0.0001, chunk: int = 4096):
    """Rate in [rate_min, rate_max] (grid of ``step``) maximising :func:`expected_profit`, per element.

    Returns ``(rate, profit_per_yuan_offered)`` of the broadcast shape of ``pd, lgd, cost_rate``; ties
    go to the lowest rate. A non-positive profit means no rate in the range pays for the risk.
    PD and LGD are fractions in [0, 1] and ``cost_rate`` in [-1, 1]; NaN or a value outside raises
    :class:`~creditmodel.pricing.DomainError` (an :class:`InputError`) naming the argument.
    """
    p, lg, c = _risk_args(pd, lgd, cost_rate)
    grid = rate_grid(rate_min, rate_max, step)
    keep = curve.retention(grid)                                    # (G,)
    shape = p.shape
    p, lg, c = p.ravel(), lg.ravel(), c.ravel()
    best_rate, best_profit = np.empty(p.size), np.empty(p.size)
    for s in range(0, p.size, chunk):
        sl = slice(s, s + chunk)
        prof = keep * ((1.0 - p[sl, None]) * grid - (p[sl] * lg[sl] + c[sl])[:, None])   # (n, G)
        j = np.argmax(prof, axis=1)
        best_rate[sl], best_profit[sl] = grid[j], prof[np.arange(j.size), j]
    if shape == ():
        return best_rate[0], best_profit[0]
    return best_rate.reshape(shape), best_profit.reshape(shape)


def optimal_rates_by_grade(curves: Mapping[str, ChurnCurve], pd_by_grade: Mapping[str, float],
                           lgd: float = 0.40, cost_rate: float = 0.0, rate_min: float = 0.04,
                           rate_max: float = 0.15, step: float = 0.0001) -> pd.DataFrame:
    """Best rate per grade and what it earns, beside the profit at the two ends of the rate range.

    Columns: ``grade, pd, lgd, rate, churn, profit_per_yuan`` (per yuan offered at the best rate),
    ``profit_at_rate_min``, ``profit_at_rate_max``. Each PD and the LGD are fractions in [0, 1], ``cost_rate`` in
    [-1, 1]: NaN or a value outside raises :class:`~creditmodel.pricing.DomainError` naming the argument (a PD by
    its grade, ``pd_by_grade['A']``).
    """
    _risk_args(0.0, lgd, cost_rate)
    rows = []
    for grade, curve in curves.items():
        if grade not in pd_by_grade:
            raise InputError(f"no PD given for grade {grade!r}", column="pd_by_grade")
        if np.ndim(pd_by_grade[grade]) != 0:
            raise InputError(f"the PD of grade {grade!r} must be one number, got {pd_by_grade[grade]!r}",
                             column="pd_by_grade")
        p = float(_arg(f"pd_by_grade[{grade!r}]", pd_by_grade[grade], 0.0, 1.0))
        r, prof = optimal_rate(curve, p, lgd, cost_rate, rate_min, rate_max, step)
        rows.append({"grade": grade, "pd": p, "lgd": lgd, "rate": float(r), "churn": float(curve.predict(r)),
                     "profit_per_yuan": float(prof),
                     "profit_at_rate_min": float(expected_profit(rate_min, p, lgd, curve, cost_rate)),
                     "profit_at_rate_max": float(expected_profit(rate_max, p, lgd, curve, cost_rate))})
    return pd.DataFrame(rows)
