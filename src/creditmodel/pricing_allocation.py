"""Credit allocation: limits and rates per firm under an annual budget, by expected profit.

Input: a frame of firms with ``pd_12m`` (fraction) and optionally ``grade``, ``lgd``, ``cost_rate``
(per year) and ``max_limit`` (yuan, e.g. a cap from the firm's sales), and a churn curve per grade
(:mod:`creditmodel.pricing_churn`). Bank rules (:class:`AllocationRules`, CUMCM 2020 C defaults):
budget 100 million yuan a year, loans of 100k to 1m yuan, rates in [4 %, 15 %], grade D excluded.

Model (amounts in yuan, one-year loans). A firm offered limit L at rate r takes it up with
probability ``1 - churn_g(r)`` (g its grade). Expected profit of the offer::

    L x (1 - churn_g(r)) x [ (1 - PD) r - PD x LGD - cost_rate ]  =  L x profit_per_yuan(r)

PD is the model's estimate as given, not floored at Basel's 0.05 % (CRE32.4): the expected amounts are forecasts,
and the floor is a capital rule. It enters through ``cost_rate``, whose capital charge is computed at the floored PD
(:func:`creditmodel.credit_decisions.cost_rates`, at the loans' own maturity). The pricing build-up
(:func:`creditmodel.pricing.risk_based_rate`) floors its expected loss too, a regulatory EL (CRE32.4, compared with
provisions, CRE35) that a price should cover; the two differ only below the floor, by at most 0.05 % x LGD
(2 bp a year at LGD 40 %); the CUMCM 2020 C firms' PDs lie far above it (4.4 % the lowest of the 302, default
settings of notebook 05).

1. Rate: for each firm the rate maximising ``profit_per_yuan`` on a 1 bp grid
   (:func:`creditmodel.pricing_churn.optimal_rate`); it does not depend on L.
2. Limits: a mixed-integer program (``scipy.optimize.milp``, HiGHS) over limits in steps of
   ``limit_step`` (10,000 yuan)::

       maximise  sum_i profit_per_yuan_i x L_i
       s.t.      sum_i L_i <= budget                        (every offer may be taken up)
                 min_loan z_i <= L_i <= cap_i z_i,  z_i in {0, 1}   (no loan, or one in [min, cap_i])

   where ``cap_i = min(max_loan, max_limit_i)``. Only eligible firms with a positive profit take part.
   A greedy "best firms first" fill is not always optimal because of the minimum loan size.

Every input row comes back with ``rate``, ``limit`` (0 if none), the expected amounts and ``reason``
(None for a loan, else why not: excluded grade, invalid PD, unprofitable, budget exhausted ...).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from creditmodel.errors import ConfigError, InputError
from creditmodel.pricing import numeric_cells
from creditmodel.pricing_churn import ChurnCurve, optimal_rate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AllocationRules:
    """The bank's lending rules (yuan; rates per year). Validated on construction (errors name the key)."""

    budget: float = 100_000_000.0          # annual credit budget: sum of limits offered
    min_loan: float = 100_000.0
    max_loan: float = 1_000_000.0
    limit_step: float = 10_000.0           # limits are multiples of this
    rate_min: float = 0.04
    rate_max: float = 0.15
    rate_step: float = 0.0001              # rate grid (1 bp)
    excluded_grades: tuple[str, ...] = ("D",)
    lgd: float = 0.40                      # LGD where the frame has no lgd (F-IRB senior unsecured)
    cost_rate: float = 0.0                 # funding + opex (+ capital charge) per yuan lent, where not given

    def __post_init__(self) -> None:
        for key in ("budget", "min_loan", "max_loan", "limit_step", "rate_step"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ConfigError(f"must be a positive number, got {v!r}", column=key)
        if not self.min_loan <= self.max_loan:
            raise ConfigError("min_loan must not exceed max_loan", column="min_loan")
        for key in ("min_loan", "max_loan"):
            if abs(getattr(self, key) / self.limit_step - round(getattr(self, key) / self.limit_step)) > 1e-9:
                raise ConfigError("must be a multiple of limit_step", column=key)
        if not 0 <= self.rate_min <= self.rate_max <= 1:
            raise ConfigError("need 0 <= rate_min <= rate_max <= 1", column="rate_min")
        if not 0 <= self.lgd <= 1:
            raise ConfigError("must lie in [0, 1]", column="lgd")
        if not (isinstance(self.cost_rate, (int, float)) and -1 < self.cost_rate < 1):
            raise ConfigError("must lie in (-1, 1)", column="cost_rate")
        if isinstance(self.excluded_grades, str):
            raise ConfigError("must be a list of grades, e.g. ['D']", column="excluded_grades")


@dataclass
class Allocation:
    """Result of :func:`allocate`: one row per input firm, portfolio totals and the solver status."""

    firms: pd.DataFrame
    totals: dict[str, float]
    rules: AllocationRules
    solver: str

    def summary(self) -> str:
        t = self.totals
        lines = [f"{int(t['n_loans'])} loans, limits {t['limits']:,.0f} of budget "
                 f"{self.rules.budget:,.0f} yuan ({self.solver})",
                 f"expected: lent {t['expected_lent']:,.0f}, interest {t['expected_interest']:,.0f}, "
                 f"loss {t['expected_loss']:,.0f}, cost {t['expected_cost']:,.0f}, "
                 f"profit {t['expected_profit']:,.0f} yuan",
                 f"return on expected lending {t['return_on_lent']:.2%}, "
                 f"on the budget {t['return_on_budget']:.2%}"]
        for text, n in self.firms["reason"].dropna().value_counts().items():
            lines.append(f"no loan ({n}): {text}")
        return "\n".join(lines)


def _grade_keys(frame: pd.DataFrame, churn) -> np.ndarray:
    """The churn-curve key of each row: its stripped grade ("" if missing), or "" with a single curve."""
    if not isinstance(churn, Mapping):
        return np.full(len(frame), "", dtype=object)
    return frame["grade"].astype("string").str.strip().fillna("").to_numpy(object)


def _curve_for(churn: ChurnCurve | Mapping[str, ChurnCurve], key: str) -> ChurnCurve | None:
    return churn.get(key) if isinstance(churn, Mapping) else churn


def _prepare(firms: pd.DataFrame, churn, rules: AllocationRules
             ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Copy of ``firms`` with lgd, cost, cap, best rate and the reason a firm cannot borrow.

    Also returns two masks: ``eligible`` (passes the rules) and ``candidate`` (eligible and profitable).
    """
    if "pd_12m" not in firms.columns:
        raise InputError("the firms frame has no pd_12m column", column="pd_12m")
    if isinstance(churn, Mapping) and "grade" not in firms.columns:
        raise InputError("churn curves are given per grade but the frame has no grade column", column="grade")
    n = len(firms)
    out = firms.copy()
    reason = np.full(n, None, dtype=object)

    def flag(mask, text):
        m = np.asarray(mask, bool) & pd.isna(reason)
        reason[m] = text

    def numeric(col: str) -> np.ndarray:
        """``col`` as floats, NaN where absent or blank (the rules' default then applies); a cell that is given but
        not a number is flagged (it took the default silently: ``cost_rate "3%"`` priced at a cost of 0, a
        reviewer's finding)."""
        if col not in firms.columns:
            return np.full(n, np.nan)
        x, bad = numeric_cells(firms[col])
        flag(bad, f"non-numeric {col}")
        return x

    keys = _grade_keys(firms, churn)
    if "grade" in firms.columns:
        grade = firms["grade"].astype("string").str.strip()
        flag(grade.isin(list(rules.excluded_grades)).fillna(False).to_numpy(), "excluded grade")
    p = numeric("pd_12m")
    flag(np.isnan(p), "missing pd_12m")
    flag((p < 0) | (p > 1), "pd_12m outside [0, 1]")
    lgd = numeric("lgd")
    flag((lgd < 0) | (lgd > 1), "lgd outside [0, 1]")
    lgd = np.where(np.isnan(lgd), rules.lgd, lgd)
    cost = numeric("cost_rate")
    cost = np.where(np.isnan(cost), rules.cost_rate, cost)
    cap = np.full(n, rules.max_loan)
    ml = numeric("max_limit")
    cap = np.where(np.isnan(ml), cap, np.minimum(cap, ml))
    cap = np.floor(np.round(cap / rules.limit_step, 9)) * rules.limit_step
    flag(cap < rules.min_loan, "max_limit below the minimum loan")
    flag(np.array([_curve_for(churn, k) is None for k in keys], bool), "no churn curve for the grade")

    rate, prof = np.full(n, np.nan), np.full(n, np.nan)
    ok = pd.isna(reason)
    for key in sorted(set(keys[ok])):
        idx = np.flatnonzero(ok & (keys == key))
        rate[idx], prof[idx] = optimal_rate(_curve_for(churn, key), p[idx], lgd[idx], cost[idx],
                                            rules.rate_min, rules.rate_max, rules.rate_step)
    flag(ok & ~(prof > 0), f"no profitable rate in [{rules.rate_min:.2%}, {rules.rate_max:.2%}]")
    out["lgd"], out["cost_rate"], out["limit_cap"] = lgd, cost, cap
    out["rate"], out["profit_per_yuan"] = rate, prof
    out["reason"] = reason
    return out, ok, pd.isna(reason)


def _accept(frame: pd.DataFrame, churn, rate: np.ndarray) -> np.ndarray:
    """Take-up probability ``1 - churn_g(rate)`` per row (NaN where no curve or no rate)."""
    acc = np.full(len(frame), np.nan)
    keys = _grade_keys(frame, churn)
    for key in sorted(set(keys)):
        curve = _curve_for(churn, key)
        idx = np.flatnonzero((keys == key) & ~np.isnan(rate))
        if curve is not None and idx.size:
            acc[idx] = curve.retention(rate[idx])
    return acc


def _finish(frame: pd.DataFrame, churn, limit: np.ndarray, rules: AllocationRules, solver: str) -> Allocation:
    """Expected amounts per row and portfolio totals for given limits (yuan) and rates (``frame.rate``)."""
    p = pd.to_numeric(frame["pd_12m"], errors="coerce").to_numpy(float)
    rate = frame["rate"].to_numpy(float)
    acc = _accept(frame, churn, rate)
    lent = np.where(limit > 0, limit * acc, 0.0)
    frame["limit"] = limit
    frame["accept_prob"] = acc
    frame["expected_lent"] = lent
    frame["expected_interest"] = np.where(limit > 0, lent * (1 - p) * rate, 0.0)
    frame["expected_loss"] = np.where(limit > 0, lent * p * frame["lgd"].to_numpy(float), 0.0)
    frame["expected_cost"] = np.where(limit > 0, lent * frame["cost_rate"].to_numpy(float), 0.0)
    frame["expected_profit"] = frame["expected_interest"] - frame["expected_loss"] - frame["expected_cost"]
    t = {k: float(frame[k].sum()) for k in ("expected_lent", "expected_interest", "expected_loss",
                                             "expected_cost", "expected_profit")}
    t["limits"] = float(limit.sum())
    t["n_loans"] = float((limit > 0).sum())
    lent_total = t["expected_lent"]
    t["return_on_lent"] = t["expected_profit"] / lent_total if lent_total > 0 else float("nan")
    t["return_on_budget"] = t["expected_profit"] / rules.budget
    return Allocation(firms=frame, totals=t, rules=rules, solver=solver)


def allocate(firms: pd.DataFrame, churn: ChurnCurve | Mapping[str, ChurnCurve],
             rules: AllocationRules | None = None) -> Allocation:
    """Limits and rates per firm maximising expected profit under the rules (see the module docstring).

    ``churn``: one curve for every firm, or a mapping grade -> curve (then ``grade`` is required and
    firms of grades without a curve get no loan, with a reason). Deterministic (HiGHS, exact gap).
    """
    rules = rules or AllocationRules()
    frame, _, cand = _prepare(firms, churn, rules)
    limit = np.zeros(len(frame))
    idx = np.flatnonzero(cand)
    solver = "no candidate firm"
    if idx.size:
        step = rules.limit_step
        k = idx.size
        profit = frame["profit_per_yuan"].to_numpy(float)[idx] * step        # per unit of limit_step
        cap_u = np.round(frame["limit_cap"].to_numpy(float)[idx] / step)
        min_u = round(rules.min_loan / step)
        budget_u = math.floor(rules.budget / step + 1e-9)
        # variables: x = [L_1..L_k (units of step), z_1..z_k (0/1)]
        c = np.concatenate([-profit, np.zeros(k)])
        eye = sparse.identity(k, format="csr")
        a = sparse.vstack([sparse.hstack([sparse.csr_matrix(np.ones((1, k))), sparse.csr_matrix((1, k))]),
                           sparse.hstack([eye, -sparse.diags(cap_u)]),          # L - cap z <= 0
                           sparse.hstack([eye, -min_u * eye])]).tocsr()          # L - min z >= 0
        lb = np.concatenate([[-np.inf], np.full(k, -np.inf), np.zeros(k)])
        ub = np.concatenate([[budget_u], np.zeros(k), np.full(k, np.inf)])
        res = milp(c, constraints=LinearConstraint(a, lb, ub), integrality=np.ones(2 * k),
                   bounds=Bounds(np.zeros(2 * k), np.concatenate([cap_u, np.ones(k)])),
                   options={"mip_rel_gap": 0.0, "disp": False})
        if res.x is None:
            raise RuntimeError(f"allocation MILP failed: {res.message}")
        limit[idx] = np.round(res.x[:k]) * step
        solver = f"HiGHS MILP: {res.message}"
        log.info("allocation: %d candidates, %d loans, objective %.0f yuan",
                 k, int((limit > 0).sum()), -res.fun)
    reason = frame["reason"].to_numpy(object, copy=True)
    reason[cand & (limit == 0)] = "budget exhausted (better firms chosen)"
    frame["reason"] = reason
    return _finish(frame, churn, limit, rules, solver)


def naive_allocation(firms: pd.DataFrame, churn: ChurnCurve | Mapping[str, ChurnCurve],
                     rules: AllocationRules | None = None, rate: float | None = None) -> Allocation:
    """Baseline: one rate for all (default the middle of the range) and the budget split equally.

    Every firm that passes the rules (grade, PD, curve, cap) gets ``budget / n`` rounded down to
    ``limit_step`` and clipped to [min_loan, cap]; if that is below the minimum loan, the first
    ``budget // min_loan`` firms in input order get the minimum. For comparison with :func:`allocate`.
    """
    rules = rules or AllocationRules()
    frame, elig, _ = _prepare(firms, churn, rules)
    frame["rate"] = np.where(elig, (rules.rate_min + rules.rate_max) / 2 if rate is None else rate, np.nan)
    idx = np.flatnonzero(elig)
    limit = np.zeros(len(frame))
    if idx.size:
        each = math.floor(rules.budget / idx.size / rules.limit_step) * rules.limit_step
        if each >= rules.min_loan:
            limit[idx] = np.minimum(each, frame["limit_cap"].to_numpy(float)[idx])
        else:
            limit[idx[: int(rules.budget // rules.min_loan)]] = rules.min_loan
    reason = np.where(elig, None, frame["reason"].to_numpy(object))
    frame["reason"] = np.where(elig & (limit == 0), "budget exhausted", reason)
    frame["profit_per_yuan"] = np.nan         # the engine's best-rate profit does not apply here
    return _finish(frame, churn, limit, rules, "naive equal split")
