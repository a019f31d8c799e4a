"""Risk-based loan pricing: IRB capital, expected loss and the rate build-up (DOMAIN.md part B).

Every function is vectorised: numpy arrays or scalars in, the broadcast shape out. PD and LGD are
fractions, rates are per year as fractions, money is in yuan unless a name says otherwise.

The rate a loan must earn to pay for itself (DOMAIN B2, cost-plus / RAROC build-up)::

    risk-based floor = funding cost + operating cost + expected loss + capital charge + margin
    expected loss    = PD x LGD                                (per year, fraction of EAD)
    capital          = K               when capital_ratio is None (the 8 % minimum held as K)
                     = 12.5 K x capital_ratio   otherwise        (RWA x the bank's capital ratio)
    capital charge   = capital x (hurdle rate - capital benefit rate)
    suggested rate   = max(risk-based floor, policy rate) rounded up, NaN above the cap
    policy rate      = 1-year LPR + policy spread

``capital benefit rate`` is what the capital itself earns: equity replaces borrowed funds, so the configuration
sets it to the funding cost by default; 0 reproduces the DOMAIN B2 example (floor about 4.0 % for PD 1 %, LGD 40 %).
K comes from :func:`irb_capital` (Basel IRB formula, CRE31: corporate by default, or "other retail").

Related modules: :mod:`creditmodel.pricing_churn` (rate versus customer churn, best rate per grade)
and :mod:`creditmodel.pricing_allocation` (credit budget allocation by expected profit).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from creditmodel.data.tables import COLLATERAL
from creditmodel.errors import ConfigError, InputError
from creditmodel.reference import PROJECT_DATA
from creditmodel.yamlfile import load_yaml

log = logging.getLogger(__name__)

#: Default configuration file (documented values with their DOMAIN.md source tags).
DEFAULT_CONFIG = PROJECT_DATA / "pricing.yaml"

#: IRB risk-weight functions: ``corporate`` (CRE31.5, with the SME firm-size adjustment and the maturity adjustment)
#: and ``retail`` (Basel's "other retail", CRE31.16 / Basel II para. 330: correlation 3-16 %, no maturity or size
#: adjustment; for small-business loans a bank manages as a pool, under EUR 1 m to one borrower)
ASSET_CLASSES = ("corporate", "retail")


@dataclass(frozen=True)
class Framework:
    """IRB parameters that differ between Basel II and Basel III final (DOMAIN B1 table)."""

    pd_floor: float   # corporate PD floor, fraction
    scaling: float    # multiplier on K (and so on RWA)


FRAMEWORKS = {
    "basel3": Framework(pd_floor=0.0005, scaling=1.0),    # CRE32.4, 1.06 factor removed
    "basel2": Framework(pd_floor=0.0003, scaling=1.06),   # Basel II para. 272/285, x1.06 on IRB RWA
}


class DomainError(InputError, ValueError):
    """An argument outside its domain (PD or LGD outside [0, 1], maturity outside [1, 5], NaN ...).

    Both an :class:`InputError` (the CLI exits with 2) and a ``ValueError``.
    """


# ----------------------------------------------------------------------------- validation helpers
def _arg(name: str, x: Any, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """``x`` as a float array; raise :class:`DomainError` naming ``name`` on NaN, a boolean (``True`` was read as
    PD 1: a reviewer's finding) or out of [lo, hi]."""
    numeric = isinstance(getattr(x, "dtype", None), np.dtype) and x.dtype.kind in "fiu"   # arrays, Series: fast
    if not numeric:   # a list [True, 0.5] becomes floats in NumPy: look at the values as given
        raw = np.asarray(x, dtype=object)
        if any(isinstance(v, (bool, np.bool_)) for v in raw.ravel()):
            raise DomainError(f"argument {name} must be numeric, got a boolean in {x!r}")
        if getattr(x, "dtype", None) is not None and str(x.dtype) == "boolean":
            raise DomainError(f"argument {name} must be numeric, got a boolean in {x!r}")
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as e:
        raise DomainError(f"argument {name} must be numeric, got {x!r}") from e
    if np.isnan(a).any():
        raise DomainError(f"argument {name} contains NaN at position {int(np.flatnonzero(np.isnan(a))[0])}")
    bad = np.zeros(a.shape, bool)
    if lo is not None:
        bad |= a < lo
    if hi is not None:
        bad |= a > hi
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        rng = f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        raise DomainError(f"argument {name} must lie in {rng}; got {a.flat[i]!r} at position {i}")
    return a


def _broadcast(arrays: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    """The arguments broadcast to one shape, or a DomainError naming their shapes (a raw NumPy error before)."""
    try:
        return list(np.broadcast_arrays(*arrays))
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays) if a.ndim)
        raise DomainError(f"the array arguments have shapes that do not match: {shapes}") from None


def _framework(framework: str) -> Framework:
    if not isinstance(framework, str) or framework not in FRAMEWORKS:
        raise DomainError(f"argument framework must be one of {sorted(FRAMEWORKS)}, got {framework!r}")
    return FRAMEWORKS[framework]


def _out(a: np.ndarray) -> np.ndarray | float:
    """0-d arrays become numpy scalars; other shapes stay arrays."""
    return a[()] if a.ndim == 0 else a


# ----------------------------------------------------------------------------- IRB capital
def irb_capital(pd, lgd, maturity=2.5, sales_eur_m=None, framework: str = "basel3",
                el_best_estimate=None, asset_class: str = "corporate"):
    """Capital requirement K as a fraction of EAD, Basel IRB corporate formula (CRE31.5, CRE31.8), or with
    ``asset_class="retail"`` the "other retail" one (CRE31.16: correlation ``0.03 w + 0.16 (1 - w)``,
    ``w = (1 - exp(-35 PD)) / (1 - exp(-35))``; ``maturity`` and ``sales_eur_m`` do not enter).

    ``pd``: 12-month PD, fraction in [0, 1]; floored at 0.05 % (``"basel3"``) or 0.03 % (``"basel2"``).
    ``lgd``: fraction in [0, 1]. ``maturity``: effective maturity in years, in [1, 5].
    ``sales_eur_m``: annual sales in EUR millions (>= 0; ``inf`` allowed). Below 50 the SME firm-size
    adjustment lowers the correlation by ``0.04 (1 - (S - 5) / 45)`` with S clamped to [5, 50].
    ``None`` means no adjustment. ``framework``: ``"basel3"`` (no scaling) or ``"basel2"``
    (K, and so the risk weight, times 1.06).

    Defaulted exposures (PD = 1) get ``K = max(0, LGD - EL_best_estimate)``: ``el_best_estimate``
    (fraction of EAD) defaults to the LGD itself, so K = 0: the loss is then fully expected and
    provisioned, none of it is unexpected. Pass a lower best estimate to hold capital on defaults.

    Raises :class:`DomainError` (a ``ValueError``) naming the argument for NaN or out-of-domain input.
    """
    fw = _framework(framework)
    if asset_class not in ASSET_CLASSES:
        raise DomainError(f"argument asset_class must be one of {list(ASSET_CLASSES)}, got {asset_class!r}")
    p = _arg("pd", pd, 0.0, 1.0)
    lg = _arg("lgd", lgd, 0.0, 1.0)
    m = _arg("maturity", maturity, 1.0, 5.0)
    arrays, names = [p, lg, m], ["pd", "lgd", "maturity"]
    if sales_eur_m is not None:
        arrays.append(_arg("sales_eur_m", sales_eur_m, 0.0, None))
        names.append("sales_eur_m")
    if el_best_estimate is not None:
        arrays.append(_arg("el_best_estimate", el_best_estimate, 0.0, 1.0))
        names.append("el_best_estimate")
    arrays = _broadcast(arrays, names)
    p, lg, m = arrays[:3]

    defaulted = p >= 1.0
    pf = np.where(defaulted, 0.5, np.maximum(p, fw.pd_floor))    # 0.5: placeholder, replaced below
    if asset_class == "retail":   # other retail (CRE31.16): no size or maturity adjustment
        w = (1.0 - np.exp(-35.0 * pf)) / (1.0 - math.exp(-35.0))
        r = 0.03 * w + 0.16 * (1.0 - w)
    else:   # asset correlation (CRE31.5) and SME firm-size adjustment (CRE31.8)
        w = (1.0 - np.exp(-50.0 * pf)) / (1.0 - math.exp(-50.0))
        r = 0.12 * w + 0.24 * (1.0 - w)
        if sales_eur_m is not None:
            s = np.clip(arrays[3], 5.0, 50.0)
            r = r - 0.04 * (1.0 - (s - 5.0) / 45.0)
    cond_pd = ndtr((ndtri(pf) + np.sqrt(r) * ndtri(0.999)) / np.sqrt(1.0 - r))
    k = lg * cond_pd - pf * lg
    if asset_class == "corporate":
        b = (0.11852 - 0.05478 * np.log(pf)) ** 2                # maturity adjustment
        k = k * (1.0 + (m - 2.5) * b) / (1.0 - 1.5 * b)

    elbe = lg if el_best_estimate is None else arrays[-1]
    k = np.where(defaulted, np.maximum(0.0, lg - elbe), k)
    return _out(k * fw.scaling)


def risk_weight(pd, lgd, maturity=2.5, sales_eur_m=None, framework: str = "basel3", el_best_estimate=None,
                asset_class: str = "corporate"):
    """Risk weight as a fraction (0.821 = 82.1 %): ``12.5 * irb_capital(...)``; RWA = RW x EAD."""
    return 12.5 * irb_capital(pd, lgd, maturity, sales_eur_m, framework, el_best_estimate, asset_class)


def expected_loss(pd, lgd):
    """Expected loss rate ``PD x LGD`` (per year, fraction of EAD); EL amount = rate x EAD."""
    return _out(_arg("pd", pd, 0.0, 1.0) * _arg("lgd", lgd, 0.0, 1.0))


# ----------------------------------------------------------------------------- rate build-up
@dataclass(frozen=True)
class RateBreakdown:
    """Every component of the risk-based rate (arrays of the broadcast shape; rates per year)."""

    pd: np.ndarray
    lgd: np.ndarray
    k: np.ndarray                 # IRB capital requirement, fraction of EAD
    risk_weight: np.ndarray       # 12.5 K
    capital: np.ndarray           # capital held, fraction of EAD
    funding: np.ndarray           # funding cost (FTP)
    opex: np.ndarray              # operating cost
    expected_loss: np.ndarray     # PD x LGD
    capital_charge: np.ndarray    # capital x (hurdle - capital benefit rate)
    margin: np.ndarray            # target margin
    rate: np.ndarray              # risk-based floor: the sum of the five cost components

    def to_frame(self) -> pd.DataFrame:
        """One row per element (flattened), one column per component."""
        return pd.DataFrame({f.name: np.ravel(getattr(self, f.name)) for f in fields(self)})


def risk_based_rate(pd, lgd, *, funding_cost, opex, hurdle_rate, capital_ratio=None, capital_benefit_rate=0.0,
                    margin=0.0, maturity=2.5, sales_eur_m=None, framework: str = "basel3",
                    asset_class: str = "corporate") -> RateBreakdown:
    """Risk-based floor rate and its components (DOMAIN B2).

    ``rate = funding_cost + opex + PD x LGD + capital x (hurdle_rate - capital_benefit_rate) + margin``,
    with ``capital = K`` if ``capital_ratio`` is None, else ``12.5 K x capital_ratio`` (RWA times the
    capital ratio the bank holds, e.g. 0.105). K from :func:`irb_capital`; the PD floor of ``framework`` applies
    to the expected loss too (CRE32.4: the PD "used as input into the risk weight formula and the calculation of
    expected loss"); a defaulted row (PD = 1) has EL = LGD. All rates per year as fractions.

    The build-up is DOMAIN B2's cost-plus sum: it charges the expected loss but not the interest a defaulting
    borrower no longer pays, so under the profit model of :mod:`creditmodel.pricing_allocation`
    (``(1 - PD) r - PD x LGD - costs``) a loan priced exactly at the floor earns ``PD x floor`` less than its
    margin; the rate that earns the margin there is ``floor / (1 - PD)`` (PD 10 %, LGD 40 %, default
    configuration: floor 8.44 %, 9.38 %). The difference is small where PDs are small (PD 1 %: 4 bp).

    Example (DOMAIN B2): PD 1 %, LGD 40 %, funding 1.8 %, opex 0.8 %, hurdle 12 %, capital ratio 10.5 %
    gives capital 8.6 % of EAD, capital charge 1.03 % and a floor of about 4.0 %.
    """
    named = {"pd": _arg("pd", pd, 0.0, 1.0), "lgd": _arg("lgd", lgd, 0.0, 1.0),
             "funding_cost": _arg("funding_cost", funding_cost, -1.0, 1.0), "opex": _arg("opex", opex, 0.0, 1.0),
             "hurdle_rate": _arg("hurdle_rate", hurdle_rate, 0.0, 1.0),
             "capital_benefit_rate": _arg("capital_benefit_rate", capital_benefit_rate, -1.0, 1.0),
             "margin": _arg("margin", margin, -1.0, 1.0)}
    if capital_ratio is not None:
        named["capital_ratio"] = _arg("capital_ratio", capital_ratio, 0.0, 1.0)
    _broadcast(list(named.values()), list(named))   # every argument's shape, before any arithmetic
    k = np.asarray(irb_capital(pd, lgd, maturity, sales_eur_m, framework, asset_class=asset_class))
    p, lg, fund, op, hurdle, benefit, marg = (named[n] for n in ("pd", "lgd", "funding_cost", "opex", "hurdle_rate",
                                                                "capital_benefit_rate", "margin"))
    capital = k if capital_ratio is None else 12.5 * k * named["capital_ratio"]
    pf = np.where(p >= 1.0, 1.0, np.maximum(p, _framework(framework).pd_floor))
    el = pf * lg
    charge = capital * (hurdle - benefit)
    p, lg, k, capital, fund, op, el, charge, marg = np.broadcast_arrays(p, lg, k, capital, fund, op, el, charge, marg)
    rate = fund + op + el + charge + marg
    return RateBreakdown(pd=p, lgd=lg, k=k, risk_weight=12.5 * k, capital=capital, funding=fund, opex=op,
                         expected_loss=el, capital_charge=charge, margin=marg, rate=rate)


# ----------------------------------------------------------------------------- configuration
def _default_lgd() -> dict[str, float]:
    return {"none": 0.40, "guarantee": 0.30, "property": 0.28, "receivables": 0.28}


#: Basel III LGD input floors for a bank's own LGD estimates (A-IRB, CRE32.16), by collateral type: unsecured 25 %
#: (a guarantee is unfunded protection: the exposure stays unsecured), receivables and real estate 10 %. Other
#: retail (CRE32.58: unsecured 30 %, secured by receivables or real estate 10 %) in :data:`LGD_INPUT_FLOORS_RETAIL`.
#: A secured floor holds for a fully secured loan; a partly secured one's is the average of the unsecured and the
#: secured floor weighted by the secured share (CRE32.17, for other retail CRE32.59): :func:`lgd_input_floor`.
LGD_INPUT_FLOORS = {"none": 0.25, "guarantee": 0.25, "property": 0.10, "receivables": 0.10}
LGD_INPUT_FLOORS_RETAIL = {"none": 0.30, "guarantee": 0.30, "property": 0.10, "receivables": 0.10}


def lgd_input_floor(collateral, secured_share, floors: dict[str, float] = LGD_INPUT_FLOORS) -> np.ndarray:
    """The Basel III floor on a row's own LGD (fraction), CRE32.17: ``floors["none"] (1 - s) + floors[collateral] s``.

    ``s`` (``secured_share``, in [0, 1]) is E_S / E, the collateral's value after the CRE32.11 haircut (40 % for
    receivables and real estate: 0.6 x its value) as a share of the exposure, at most 1; NaN: fully secured (the
    collateral type's floor). A row without collateral or with a guarantee keeps the unsecured floor whatever ``s``.
    """
    floor = pd.Series(np.asarray(collateral, dtype=object)).map(floors).astype(float).to_numpy()
    s = np.asarray(secured_share, dtype=float)
    s = np.where(np.isnan(s), 1.0, s)
    return floors["none"] * (1.0 - s) + floor * s


def firm_sales_eur_m(df: pd.DataFrame, config: PricingConfig) -> np.ndarray:
    """Annual sales in EUR m for the SME firm-size adjustment: ``sales_eur_m``, else ``revenue`` (yuan) /
    ``cny_per_eur`` / 1e6; NaN where neither gives a number (no adjustment)."""
    sales = np.full(len(df), np.nan)
    if "sales_eur_m" in df.columns:
        sales = pd.to_numeric(df["sales_eur_m"], errors="coerce").to_numpy(float)
    if "revenue" in df.columns:
        revenue = pd.to_numeric(df["revenue"], errors="coerce").to_numpy(float)
        sales = np.where(np.isnan(sales), revenue / config.cny_per_eur / 1e6, sales)
    return sales


#: Bounds of the rate-like keys of :class:`PricingConfig` (fractions a year; ``capital_ratio`` a fraction of RWA).
#: Wide enough for any bank's value (DOMAIN B2: FTP 1.8 %, opex 0.8 %, hurdle 10-15 %, capital ratio 10.5 %, LPR
#: 3.0 %, SME rates 3-8 %), narrow enough that a value written in percent is refused: ``opex: 0.8`` (meant 0.8 %)
#: was a cost of 80 % a year, ``rate_cap: 8`` an 800 % cap, ``lpr_1y: 0.9`` an LPR of 90 %. ``capital_ratio`` and
#: ``rate_cap`` exclude 0; ``capital_ratio`` may also be null (K itself is held), ``capital_benefit_rate`` too (the
#: funding cost).
RATE_BOUNDS: dict[str, tuple[float, float]] = {
    "funding_cost": (-0.05, 0.2),          # negative funding rates exist, but not -5 % a year; 20 %: no bank's FTP
    "opex": (0.0, 0.1),                    # operating cost, 10 % of the balance a year at most
    "hurdle_rate": (0.0, 0.5),             # cost of equity, typically 10-15 %
    "capital_ratio": (0.0, 0.5),           # Basel 8 % minimum, 10.5 % with the buffer; 50 % of RWA at most
    "capital_benefit_rate": (-0.05, 0.2),  # what the capital earns (the funding cost in a match-funded build-up)
    "margin": (-0.05, 0.2),                # subsidised margins exist, but not -5 % a year
    "lpr_1y": (0.0, 0.2),                  # 1-year LPR 3.0 % (2025, DOMAIN B2)
    "policy_spread": (-0.05, 0.2),         # LPR + 0-150 bp for inclusive SME loans
    "rate_cap": (0.0, 1.0),                # 100 % a year at most (1: practically no cap)
    "rounding": (0.0, 0.01),               # a step of 1 % at most
}


def _percent_hint(key: str, v: float) -> str:
    """What to write instead of a value out of ``RATE_BOUNDS[key]``: ``rates are fractions a year: 0.8 % is 0.008``,
    with the value given when it reads as a percentage that lies within the bounds."""
    lo, hi = RATE_BOUNDS[key]
    what = "a capital ratio is a fraction of RWA" if key == "capital_ratio" else "rates are fractions a year"
    if v and lo <= v / 100 <= hi:
        return f"{what}: {v:g} % is {v / 100:g}"
    return f"{what}: {'10.5 % is 0.105' if key == 'capital_ratio' else '0.8 % is 0.008'}"


@dataclass(frozen=True)
class PricingConfig:
    """Pricing parameters (rates per year as fractions). Defaults equal ``data/pricing.yaml``.

    Validated on construction: a bad value raises :class:`ConfigError` naming the key; every rate-like key lies
    within :data:`RATE_BOUNDS` (a value written in percent is refused, with the fraction it probably meant).
    """

    framework: str = "basel3"
    asset_class: str = "corporate"        # IRB risk-weight function: corporate or (other) retail
    maturity: float = 2.5                 # years, in [1, 5]
    funding_cost: float = 0.018           # FTP
    opex: float = 0.008                   # operating cost, fraction of the balance
    hurdle_rate: float = 0.12             # cost of equity / RAROC hurdle
    capital_ratio: float | None = 0.105   # capital held per unit of RWA; None: hold K itself
    capital_benefit_rate: float | None = None   # what the capital held earns; None: the funding cost (match-funded)
    margin: float = 0.0                   # target margin above the risk-based floor
    lgd: dict[str, float] = field(default_factory=_default_lgd)   # LGD by collateral type
    default_collateral: str = "none"      # used where the collateral column is absent or empty
    cny_per_eur: float = 8.0              # converts a revenue column (yuan) into sales in EUR m
    lpr_1y: float = 0.030                 # 1-year loan prime rate
    policy_spread: float = 0.0            # policy rate = lpr_1y + policy_spread (the policy floor)
    rate_cap: float = 0.15                # no suggested rate above this (row is flagged instead)
    rounding: float = 0.0005              # suggested rates are rounded up to a multiple of this

    def __post_init__(self) -> None:
        def num(key: str, lo: float, hi: float, lo_open: bool = False) -> None:
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"must be a finite number, got {v!r}", column=key)
            if v < lo or v > hi or (lo_open and v == lo):
                hint = f" ({_percent_hint(key, v)})" if key in RATE_BOUNDS else ""
                raise ConfigError(f"must lie in {'(' if lo_open else '['}{lo}, {hi}], got {v!r}{hint}", column=key)

        if not isinstance(self.framework, str) or self.framework not in FRAMEWORKS:   # a list: TypeError before
            raise ConfigError(f"must be one of {sorted(FRAMEWORKS)}, got {self.framework!r}",
                              column="framework")
        if self.asset_class not in ASSET_CLASSES:
            raise ConfigError(f"must be one of {list(ASSET_CLASSES)}, got {self.asset_class!r}",
                              column="asset_class")
        num("maturity", 1.0, 5.0)
        # every rate is a fraction a year, bounded where no bank's value lies beyond, so that one written in percent
        # is refused: opex 0.8 (meant 0.8 %) priced no row of 400, rate_cap 8 was an 800 % cap (a reviewer's finding)
        for key, (lo, hi) in RATE_BOUNDS.items():
            if getattr(self, key) is not None or key not in ("capital_ratio", "capital_benefit_rate"):   # may be null
                num(key, lo, hi, lo_open=key in ("capital_ratio", "rate_cap"))
        if self.policy_rate <= 0:
            raise ConfigError(f"the policy rate lpr_1y + policy_spread must be positive, got {self.lpr_1y!r} + "
                              f"{self.policy_spread!r} (rates are fractions a year: -50 bp is -0.005)",
                              column="policy_spread")
        if self.capital_benefit > self.hurdle_rate:
            given = ("null (the funding cost " + repr(self.funding_cost) + ")" if self.capital_benefit_rate is None
                     else repr(self.capital_benefit_rate))
            raise ConfigError(f"must not exceed hurdle_rate {self.hurdle_rate!r}, got {given} "
                              "(the capital charge would be negative: more capital, a cheaper loan)",
                              column="capital_benefit_rate")
        if self.capital_ratio is not None:
            if self.capital_ratio < 0.08:
                log.warning("pricing: capital_ratio %g is below the Basel minimum total capital ratio of 8 %% of RWA "
                            "(10.5 %% with the conservation buffer)", self.capital_ratio)
        num("cny_per_eur", 1.0, 1000.0)  # yuan per euro, about 7.8-8 in 2025; below 1 is euro per yuan
        lowest = float(_round_up(np.asarray([self.policy_rate]), self.rounding)[0])  # the lowest rate suggested
        if self.rate_cap < lowest:  # every suggested rate is at least the rounded policy rate: none could be given
            raise ConfigError(f"must be at least the policy rate lpr_1y + policy_spread rounded up to the rounding, "
                              f"{lowest:.4g} (no rate could be suggested), got {self.rate_cap!r}", column="rate_cap")
        if not isinstance(self.lgd, dict) or set(self.lgd) != set(COLLATERAL):
            got = sorted(self.lgd) if isinstance(self.lgd, dict) else self.lgd
            raise ConfigError(f"must map exactly the collateral types {list(COLLATERAL)} to an LGD, "
                              f"got {got}", column="lgd")
        for k, v in self.lgd.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                hint = (f" (an LGD is a fraction: {v:g} % is {v / 100:g})"
                        if isinstance(v, (int, float)) and not isinstance(v, bool) and 1 < v <= 100 else "")
                raise ConfigError(f"LGD must be a number in [0, 1], got {v!r}{hint}", column=f"lgd.{k}")
        if self.default_collateral not in COLLATERAL:
            raise ConfigError(f"must be one of {list(COLLATERAL)}, got {self.default_collateral!r}",
                              column="default_collateral")
        if self.framework == "basel2" and self.lgd["none"] < 0.45:
            log.warning("pricing: framework basel2 with lgd.none %g; Basel II's F-IRB senior unsecured LGD is 45 %% "
                        "(40 %% is Basel III's, for non-financial corporates)", self.lgd["none"])

    @property
    def capital_benefit(self) -> float:
        """What the capital held earns a year: ``capital_benefit_rate``, or the funding cost when it is None (the
        capital funds that share of the loan, which is not borrowed at the FTP; with 0 that share pays the FTP and
        the hurdle both: 15 bp more at PD 1 %, a reviewer's finding)."""
        return self.funding_cost if self.capital_benefit_rate is None else self.capital_benefit_rate

    @property
    def policy_rate(self) -> float:
        """Policy floor rate: ``lpr_1y + policy_spread``."""
        return self.lpr_1y + self.policy_spread

    @classmethod
    def from_yaml(cls, path: str | Path) -> "PricingConfig":
        """Read and validate a pricing YAML; keys left out take the defaults. Errors name file and key."""
        p = Path(path)
        if not p.is_file():
            raise InputError("pricing configuration file not found", file=p)
        raw = load_yaml(p) or {}
        if not isinstance(raw, dict):
            raise ConfigError("must be a mapping of pricing keys to values", file=p)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"unknown key(s) {unknown}; known keys: {sorted(known)}", file=p,
                              column=unknown[0])
        if "lgd" in raw and isinstance(raw["lgd"], dict):
            raw["lgd"] = {str(k): v for k, v in raw["lgd"].items()}
        try:
            cfg = cls(**raw)
        except ConfigError as e:
            raise ConfigError(e.message, file=p, column=e.column) from None
        object.__setattr__(cfg, "_source", p)  # not a field: where it was read, for the sidecar (config_record)
        return cfg

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_config(config: PricingConfig | str | Path | None = None) -> PricingConfig:
    """A :class:`PricingConfig` from an object, a YAML path, or None (``data/pricing.yaml`` if present)."""
    if isinstance(config, PricingConfig):
        return config
    if config is None:
        if DEFAULT_CONFIG.is_file():
            return PricingConfig.from_yaml(DEFAULT_CONFIG)
        log.info("%s not found: using the built-in pricing defaults", DEFAULT_CONFIG)
        return PricingConfig()
    return PricingConfig.from_yaml(config)


def config_record(config: PricingConfig | str | Path | None = None,
                  loaded: PricingConfig | None = None) -> dict[str, Any]:
    """What priced the rows, for a sidecar: ``{"source": ..., "values": {every key}}``. The source is the YAML's
    file name (also for a configuration read from one and passed as an object), "pricing.yaml (the project's
    default)", "PricingConfig object" (built in code) or "built-in defaults"; ``loaded`` is ``config`` already
    loaded (:func:`load_config`), so that the file is not read again."""
    cfg = loaded if loaded is not None else load_config(config)
    path = getattr(config, "_source", None) if isinstance(config, PricingConfig) else config
    if path is None and config is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    if path is not None:
        path = Path(path)
        default = path.is_file() and DEFAULT_CONFIG.is_file() and os.path.samefile(path, DEFAULT_CONFIG)
        source = f"{path.name} (the project's default)" if default else path.name
    else:
        source = "PricingConfig object" if isinstance(config, PricingConfig) else "built-in defaults"
    return {"source": source, "values": cfg.to_dict()}


# ----------------------------------------------------------------------------- frames and files
def numeric_cells(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``raw`` as floats (NaN where blank or not a number) and the mask of the cells given but not a number (a
    blank cell is missing, not faulty). True/False and dates are not numbers (a boolean pd_12m column read True
    as PD 1 and False as PD 0, priced at the policy rate; a date as its nanoseconds)."""
    kind = raw.dtype
    if (pd.api.types.is_bool_dtype(kind) or pd.api.types.is_datetime64_any_dtype(kind)
            or pd.api.types.is_timedelta64_dtype(kind)):
        return np.full(len(raw), np.nan), raw.notna().to_numpy(dtype=bool)
    if kind == object:   # Python True/False or dates among the cells of a text column
        odd = raw.map(lambda v: isinstance(v, (bool, np.bool_, pd.Timestamp, dt.date, dt.timedelta))).to_numpy(bool)
        if odd.any():
            raw = raw.where(~odd, "not a number")
    x = pd.to_numeric(raw, errors="coerce").to_numpy(float)
    bad = np.isnan(x) & raw.notna().to_numpy()
    if bad.any():
        bad[bad] = (raw[bad].astype(str).str.strip() != "").to_numpy()
    return x, bad


#: Columns :func:`price_frame` adds (existing columns of these names are overwritten).
PRICE_COLUMNS = ("lgd", "risk_weight", "capital_rate", "funding_rate", "opex_rate", "expected_loss_rate",
                 "capital_charge_rate", "margin_rate", "risk_based_floor", "policy_rate", "suggested_rate",
                 "expected_loss_amount", "capital_amount", "pricing_reason")


def _above_cap_text(rate: float, cap: float) -> str:
    """``risk-based rate 15.01% above the cap 15.00%``: two decimals of a percent, more where two would show the
    rate equal to the cap (with ``rounding`` 0 a rate of 15.001 % read "15.00% above the cap 15.00%")."""
    decimals = 2
    while decimals < 6 and f"{rate:.{decimals}%}" == f"{cap:.{decimals}%}":
        decimals += 1
    return f"risk-based rate {rate:.{decimals}%} above the cap {cap:.{decimals}%}"


def _round_up(x: np.ndarray, step: float) -> np.ndarray:
    if step <= 0:
        return x
    return np.ceil(np.round(x / step, 9)) * step    # round(…, 9): 0.0405/0.0005 must not become 82


def price_frame(df: pd.DataFrame, config: PricingConfig | str | Path | None = None) -> pd.DataFrame:
    """Add the pricing columns to a scored frame; every input row is kept, in order.

    Reads ``pd_12m`` (required) and, when present: ``status``/``error`` (rows not ``"ok"`` are not
    priced), ``collateral`` (one of ``COLLATERAL``; empty -> ``config.default_collateral``), ``lgd``
    (overrides the collateral LGD where given; under ``basel3`` floored at the LGD input floor of its collateral,
    blended by ``secured_share`` for a partly secured loan: :func:`lgd_input_floor`), ``sales_eur_m``, or
    ``revenue`` (yuan, converted with ``cny_per_eur``) where it is empty, for the SME adjustment (both empty -> no
    adjustment; +inf, a firm of any size above EUR 50 m, none either), ``amount`` (yuan), ``maturity`` (the loan's
    effective maturity in years, held to Basel's 1-5 years; empty -> ``config.maturity``; the corporate risk weights
    only, retail ones have no maturity adjustment).

    Adds ``PRICE_COLUMNS``: the components (fractions per year), ``risk_based_floor`` (their sum),
    ``policy_rate``, ``suggested_rate = max(floor, policy rate)`` rounded up to ``config.rounding``,
    amounts in yuan when ``amount`` is given, and ``pricing_reason`` (None when priced). Rows that
    cannot be priced keep NaN and a reason; a defaulted row (PD = 1) and a row whose suggested rate
    would exceed ``rate_cap`` keep their components but get no suggested rate.
    """
    cfg = load_config(config)
    if "pd_12m" not in df.columns:
        raise InputError("the scored frame has no pd_12m column", column="pd_12m")
    n = len(df)
    out = df.copy()
    reason = pd.Series([None] * n, index=df.index, dtype=object)

    def flag(mask, text) -> None:
        mask = np.asarray(mask, bool) & reason.isna().to_numpy()
        if isinstance(text, str):
            reason[mask] = text
        else:
            reason[mask] = np.asarray(text, dtype=object)[mask]

    if "status" in df.columns:   # "OK" and " ok" (a file edited by hand) read as ok, as _say_why_not_priced reads them
        status = df["status"].astype("string").fillna("").str.strip().str.lower()
        err = (df["error"].astype("string").fillna("") if "error" in df.columns
               else pd.Series("", index=df.index, dtype="string"))
        text = ("not scored (status '" + status + "')").where(status != "", "not scored (no status)")
        text = text + (": " + err).where(err != "", "")
        flag((status != "ok").to_numpy(), text.to_numpy())
    def numeric(col: str, rows: np.ndarray | None = None) -> np.ndarray:
        """``col`` as floats (NaN where blank); non-numbers flagged, only among ``rows`` when given."""
        x, bad = numeric_cells(df[col])
        flag(bad if rows is None else bad & rows, f"non-numeric {col}")
        return x

    p = numeric("pd_12m")
    flag(np.isnan(p), "missing pd_12m")
    flag((p < 0) | (p > 1), "pd_12m outside [0, 1]")

    if "collateral" in df.columns:
        coll = df["collateral"].astype("string").str.strip().fillna(cfg.default_collateral)
        coll = coll.where(coll != "", cfg.default_collateral)
    else:
        coll = pd.Series(cfg.default_collateral, index=df.index, dtype="string")
    flag(~coll.isin(COLLATERAL).to_numpy(), ("unknown collateral " + coll.fillna("")).to_numpy())
    lgd = coll.map(cfg.lgd).astype(float).to_numpy()
    if "lgd" in df.columns:
        given = numeric("lgd")
        flag((given < 0) | (given > 1), "lgd outside [0, 1]")
        if cfg.framework == "basel3":   # a row's own LGD estimate is floored (CRE32.16), the configured ones are not
            floors = LGD_INPUT_FLOORS_RETAIL if cfg.asset_class == "retail" else LGD_INPUT_FLOORS
            share = np.full(n, np.nan)
            if "secured_share" in df.columns:   # read (and refused) only where an own LGD uses it, as revenue is
                share = numeric("secured_share", rows=~np.isnan(given))
                flag(~np.isnan(given) & ((share < 0) | (share > 1)), "secured_share outside [0, 1]")
            floor = lgd_input_floor(coll.to_numpy(object), share, floors)
            low = (given < floor) & reason.isna().to_numpy()   # rows priced (a refused or unscored row is not)
            if low.any():
                log.warning("%d row(s) give an lgd below the Basel III LGD input floor for their collateral "
                            "(%s: unsecured or guaranteed %.0f %%, property or receivables 10 %% when fully "
                            "secured, blended with the unsecured floor by secured_share): priced at the "
                            "floor (first: row %d)", int(low.sum()), cfg.asset_class, 100 * floors["none"],
                            int(np.flatnonzero(low)[0]) + 1)
                given = np.where(low, floor, given)
        lgd = np.where(np.isnan(given), lgd, given)

    if "sales_eur_m" not in df.columns and "revenue" not in df.columns and n:
        log.warning("no sales_eur_m or revenue column: every row is priced without the Basel SME firm-size "
                    "adjustment, as a large corporate (higher capital and rates than an SME's)%s",
                    "; the suggested rates already in the file are replaced (a deliverable priced on the firms' "
                    "sales gets other rates)"
                    if "suggested_rate" in df.columns and df["suggested_rate"].notna().any() else "")
    need = np.ones(n, bool)
    if "sales_eur_m" in df.columns:
        need = np.isnan(numeric("sales_eur_m"))
    if "revenue" in df.columns:  # where sales_eur_m is empty (or absent), the revenue gives the size
        numeric("revenue", rows=need)   # a revenue cell is read (and can be refused) only where it is used
    sales = firm_sales_eur_m(df, cfg)
    flag(sales < 0, "negative sales or revenue")
    zero = (sales == 0) & reason.isna().to_numpy()
    if zero.any():
        log.warning("%d row(s) with sales or revenue 0 take the largest SME firm-size adjustment (sales count as "
                    "EUR 5 m); leave the cell empty where 0 means unknown (first: row %d)", int(zero.sum()),
                    int(np.flatnonzero(zero)[0]) + 1)
    sales = np.where(np.isnan(sales), np.inf, sales)        # unknown size: no SME adjustment (conservative)

    amount = numeric("amount") if "amount" in df.columns else np.full(n, np.nan)
    flag(amount < 0, "negative amount")
    flag(np.isinf(amount), "amount is not a finite number")

    # a loan's own effective maturity (a one-year loan's capital is a fifth lower at PD 1 % than at the F-IRB 2.5 y:
    # helper-106), held to 1-5 years as Basel holds M (CRE32.47); empty: the configuration's one value
    mat = numeric("maturity") if "maturity" in df.columns else np.full(n, np.nan)
    flag(~np.isnan(mat) & ~(np.isfinite(mat) & (mat > 0)), "maturity not a positive number of years")
    held = ((mat < 1.0) | (mat > 5.0)) & reason.isna().to_numpy()
    if held.any():
        log.info("%d row(s) with a maturity outside 1-5 years are priced at the nearest bound (Basel's floor and "
                 "cap on M; first: row %d)", int(held.sum()), int(np.flatnonzero(held)[0]) + 1)
    mat = np.where(np.isnan(mat), cfg.maturity, np.clip(mat, 1.0, 5.0))

    ok = reason.isna().to_numpy()
    cols = {c: np.full(n, np.nan) for c in PRICE_COLUMNS if c != "pricing_reason"}
    if ok.any():
        br = risk_based_rate(p[ok], lgd[ok], funding_cost=cfg.funding_cost, opex=cfg.opex,
                             hurdle_rate=cfg.hurdle_rate, capital_ratio=cfg.capital_ratio,
                             capital_benefit_rate=cfg.capital_benefit, margin=cfg.margin,
                             maturity=mat[ok], sales_eur_m=sales[ok], framework=cfg.framework,
                             asset_class=cfg.asset_class)
        for col, val in (("lgd", br.lgd), ("risk_weight", br.risk_weight), ("capital_rate", br.capital),
                         ("funding_rate", br.funding), ("opex_rate", br.opex),
                         ("expected_loss_rate", br.expected_loss), ("capital_charge_rate", br.capital_charge),
                         ("margin_rate", br.margin), ("risk_based_floor", br.rate)):
            cols[col][ok] = val
        cols["policy_rate"][ok] = cfg.policy_rate
        cols["suggested_rate"][ok] = _round_up(np.maximum(br.rate, cfg.policy_rate), cfg.rounding)
    cols["expected_loss_amount"] = cols["expected_loss_rate"] * amount
    cols["capital_amount"] = cols["capital_rate"] * amount
    defaulted = ok & (p >= 1)
    flag(defaulted, "in default (PD = 1): no new lending is priced")
    over = ok & ~defaulted & (cols["suggested_rate"] > cfg.rate_cap)
    if over.any():
        text = np.full(n, None, dtype=object)
        text[over] = [_above_cap_text(x, cfg.rate_cap) for x in cols["suggested_rate"][over]]
        flag(over, text)
    cols["suggested_rate"][defaulted | over] = np.nan

    overwritten = [c for c in PRICE_COLUMNS if c in df.columns]
    if overwritten:
        log.info("overwriting existing column(s) %s", overwritten)
    for c in PRICE_COLUMNS:
        out[c] = cols[c] if c != "pricing_reason" else reason.to_numpy()
    return out


def reason_kinds(reasons: pd.Series) -> pd.Series:
    """Pricing reasons with the row's own rate taken out ("risk-based rate 31.20% above the cap" -> "risk-based rate
    above the cap"), so that rows refused for the same reason count as one kind."""
    return reasons.str.replace(r"rate -?[0-9.]+% above", "rate above", regex=True)


@dataclass
class PricingResult:
    """Result of :func:`price_file`: the priced frame and where it was written."""

    frame: pd.DataFrame
    scores: Path
    out: Path
    config: PricingConfig

    @property
    def rows_priced(self) -> int:
        """Rows that got a suggested rate."""
        return int(self.frame["suggested_rate"].notna().sum())

    def nothing_priced(self) -> str | None:
        """None when a row got a suggested rate; else what went wrong: no row priced, the commonest reason (with its
        count and first 1-based row) and where each row's reason is. A configuration written in percent or a scores
        file of unscored rows gave a file with no rate and exit 0 (a reviewer's finding)."""
        if self.rows_priced or not len(self.frame):
            return None
        kinds = reason_kinds(self.frame["pricing_reason"].fillna("?").astype(str)).reset_index(drop=True)
        counts = kinds.value_counts()
        top, n = str(counts.index[0]), int(counts.iloc[0])
        first = int(np.flatnonzero((kinds == top).to_numpy())[0]) + 1
        return (f"no row priced of {len(self.frame)}: the commonest reason is '{top}' ({n} row{'s' if n > 1 else ''}, "
                f"first: row {first}); every row's reason is in column pricing_reason of {self.out}")

    def summary(self) -> str:
        f = self.frame
        priced = f["suggested_rate"].notna()
        lines = [f"priced {int(priced.sum())} of {len(f)} rows from {self.scores} -> {self.out}",
                 f"framework {self.config.framework}, policy rate {self.config.policy_rate:.2%}, "
                 f"cap {self.config.rate_cap:.2%}"]
        if priced.any():
            s, fl = f.loc[priced, "suggested_rate"], f.loc[priced, "risk_based_floor"]
            lines.append(f"suggested rate: min {s.min():.2%}, median {s.median():.2%}, max {s.max():.2%}; "
                         f"{int((fl < self.config.policy_rate).sum())} rows have a risk-based floor "
                         f"below the policy rate")
        kinds = reason_kinds(f["pricing_reason"].where(~priced).fillna("?").astype(str))
        kinds = pd.Series(kinds.to_numpy(), index=np.arange(1, len(f) + 1))[~priced.to_numpy()]
        for text, count in kinds.value_counts().items():
            rows = kinds.index[kinds == text][:3].tolist()   # 1-based data rows of the scores file
            shown = ", ".join(map(str, rows)) + (", …" if count > 3 else "")
            lines.append(f"not priced ({count}): {text} (row{'s' if count > 1 else ''} {shown})")
        return "\n".join(lines)


#: Columns of a scores file that hold numbers: the pricing inputs (read per row by :func:`price_frame`, which
#: names a cell that is not a number) and the deliverable's numbers. Every other column stays text exactly as
#: written: a bank's ids (``001``, ``12E3``, twenty digits), codes and labels.
NUMBER_COLUMNS = ("pd_12m", "lgd", "sales_eur_m", "revenue", "amount", "score", "expected_loss_rate",
                  "capital_rate", "suggested_rate")


def _read(path: Path) -> pd.DataFrame:
    """A scores file as ``score`` reads its input (:func:`creditmodel.scoring.score.iter_chunks`: the encoding
    guess with GB18030, blank lines skipped and counted, a header-only file refused). A CSV's cells stay text as
    written (ids such as ``1`` and ``1.0`` or twenty-digit numbers were turned into floats and merged), except
    ``score`` (integer points when every cell is whole) and the pricing inputs, which :func:`price_frame` reads as
    numbers row by row."""
    from creditmodel.data.io import _kind, read_table
    from creditmodel.scoring.score import iter_chunks

    if not path.is_file():
        raise InputError("scores file not found" if not path.exists() else "is a folder, not a scores file",
                         file=path)
    kind = _kind(path)   # the readers' own suffixes (.csv, .csv.gz, .csv.bz2, .txt, .parquet, .pq)
    if kind not in ("csv", "parquet"):
        raise InputError(f"unsupported file type {path.suffix!r}: use .csv or .parquet", file=path)
    if kind == "parquet":
        return read_table(path)
    header = list(read_table(path, nrows=1, as_text=True).columns)
    df = pd.concat(list(iter_chunks(path, 1 << 62, text_columns=tuple(header))), ignore_index=True)
    import pyarrow as pa
    import pyarrow.compute as pc

    for c in (c for c in NUMBER_COLUMNS if c in df.columns):
        text = pc.utf8_trim_whitespace(pa.array(df[c], type=pa.string(), from_pandas=True))
        try:   # Arrow's parser: 10x faster than pandas.to_numeric on a million text cells
            x = pc.cast(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue                  # a cell that is not a number: price_frame names it per row
        x = pd.Series(x.to_numpy(zero_copy_only=False), index=df.index, dtype=float)
        whole = x.dropna()
        df[c] = x.astype("Int64") if c == "score" and bool((whole == whole.round()).all()) else x
    return df


def _say_why_not_priced(priced: pd.DataFrame) -> pd.DataFrame:
    """A scored row (``status = ok``) left without a rate says so in ``error`` as the deliverable does
    (``not priced: <reason>``), so that a bank reading ``status`` and ``error`` only is not misled; an earlier
    ``not priced`` note (a deliverable priced again) is replaced."""
    if "status" not in priced.columns:
        return priced
    ok = (priced["status"].astype("string").str.strip().str.lower() == "ok").fillna(False).to_numpy(dtype=bool)
    unpriced = ok & priced["pricing_reason"].notna().to_numpy(dtype=bool)
    err = (priced["error"].astype("string") if "error" in priced.columns
           else pd.Series(pd.NA, index=priced.index, dtype="string"))
    # the note is always the last part of error, and a reason may hold '; ' itself: drop to the end of the text
    err[ok] = err[ok].str.replace(r"(?:^|; )not priced: .*$", "", regex=True).str.strip("; ").replace("", pd.NA)
    if unpriced.any():
        note = "not priced: " + pd.Series(priced["pricing_reason"].to_numpy(dtype=object), index=priced.index,
                                          dtype="string")[unpriced]
        prior = err[unpriced].fillna("")
        err[unpriced] = prior.where(prior == "", prior + "; ") + note
    if "error" in priced.columns or unpriced.any():
        priced["error"] = err
    return priced


def price_file(scores: str | Path, config: PricingConfig | str | Path | None = None,
               out: str | Path | None = None) -> PricingResult:
    """Price a scored CSV (UTF-8, BOM allowed) or Parquet file and write it (CSV with BOM, or Parquet), with
    ``<out stem>.pricing.json`` beside it: the scores file and its SHA-256, the configuration's source and values,
    the row counts and the unpriced rows by reason, the creditmodel version and git commit, so that a rate can be
    traced to what priced it.

    A missing ``pd_12m`` column raises :class:`InputError` naming the file and the column. When no row gets a rate
    the file is written all the same and a warning names the commonest reason (a portfolio all in default or all
    above the cap is valid data: the command still exits 0).
    """
    scores = Path(scores)
    if out is None:
        raise InputError("an output file is required (--out)")
    out = Path(out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"unsupported output type {out.suffix!r}: use .csv or .parquet", file=out)
    if out.exists() and scores.exists() and os.path.samefile(out, scores):  # the scores would be lost (links too)
        raise InputError("the output file is the scores file itself: write the priced rows to another file",
                         file=out)
    cfg = load_config(config)
    df = _read(scores)
    if "pd_12m" not in df.columns:
        from creditmodel.errors import separator_hint

        found = ", ".join(repr(str(c)) for c in list(df.columns)[:8]) + (", ..." if len(df.columns) > 8 else "")
        raise InputError(f"no pd_12m column (the 12-month PD from creditmodel score); the file's columns: {found}"
                         f"{separator_hint(df.columns)}", file=scores, column="pd_12m")
    priced = _say_why_not_priced(price_frame(df, cfg))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        priced.to_parquet(out, index=False)
    else:
        priced.to_csv(out, index=False, encoding="utf-8-sig")
    from creditmodel import __version__
    from creditmodel.tracking import file_sha256, git_info

    why = priced["pricing_reason"].dropna().astype(str) if "pricing_reason" in priced else pd.Series([], dtype=str)
    record = {"scores_file": scores.name, "scores_sha256": file_sha256(scores), "priced_file": out.name,
              "rows": int(len(priced)), "rows_priced": int(priced["suggested_rate"].notna().sum()),
              "rows_not_priced": {str(k): int(v) for k, v in reason_kinds(why).value_counts().items()},
              "pricing_config": config_record(config, cfg),
              # the code that priced them (a reviewer: a rate could not be traced to the formula's version)
              "creditmodel_version": __version__, **{f"git_{k}": v for k, v in git_info().items()}}
    out.with_name(out.stem + ".pricing.json").write_text(json.dumps(record, ensure_ascii=False, indent=1),
                                                         encoding="utf-8")
    log.info("wrote %d rows (%d with a suggested rate) -> %s", len(priced), int(priced["suggested_rate"].notna().sum()),
             out)
    res = PricingResult(frame=priced, scores=scores, out=out, config=cfg)
    nothing = res.nothing_priced()
    if nothing is not None:
        log.warning("%s: %s", scores, nothing)
    return res
