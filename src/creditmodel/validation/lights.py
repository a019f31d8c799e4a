"""Traffic lights (green / amber / red) for validation checks, with the thresholds stated as data.

A :class:`Rule` holds two boundaries. For a metric where higher is better (AUC, a p-value):
``green`` if value >= ``green``, ``red`` if value < ``red``, ``amber`` in between. Where lower is better (PSI):
``green`` if value < ``green``, ``red`` if value > ``red``, ``amber`` in between (both ends included).
A value that cannot be computed gets ``n/a``; a check without thresholds is ``info``.

The defaults follow DOMAIN.md C1/C2; the ones marked [M] are rules of thumb, not supervisory limits.
Override them with :meth:`Thresholds.from_dict` (e.g. from a YAML file) and the report prints what was used.
"""
from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from creditmodel.errors import ConfigError
from creditmodel.yamlfile import load_yaml

log = logging.getLogger(__name__)

GREEN, AMBER, RED, NA, INFO = "green", "amber", "red", "n/a", "info"
#: Severity order used to pick the worst light of several.
SEVERITY = {INFO: 0, NA: 0, GREEN: 1, AMBER: 2, RED: 3}


@dataclass(frozen=True)
class Rule:
    """Thresholds of one check. ``suspicious_above`` turns a too-good value amber (e.g. KS > 0.5: leakage?)."""

    label: str
    higher_is_better: bool
    green: float
    red: float
    source: str = ""
    suspicious_above: float | None = None

    def __post_init__(self) -> None:
        for name in ("green", "red", "suspicious_above"):
            v = getattr(self, name)
            if v is None and name == "suspicious_above":
                continue
            # a quoted "0.9" failed only when the light was computed, after the whole validation had run; true
            # was read as 1
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) or math.isnan(v):
                raise ConfigError(f"rule {self.label!r}: {name} must be a number, got {v!r}", column=self.label)
        if not isinstance(self.higher_is_better, (bool, np.bool_)):
            raise ConfigError(f"rule {self.label!r}: higher_is_better must be true or false, got "
                              f"{self.higher_is_better!r}", column=self.label)
        ok = self.green >= self.red if self.higher_is_better else self.green <= self.red
        if not ok:
            raise ConfigError(f"rule {self.label!r}: green boundary {self.green} and red boundary {self.red} are "
                              f"in the wrong order for {'higher' if self.higher_is_better else 'lower'}-is-better",
                              column=self.label)

    def light(self, value: float | None) -> str:
        """The light of ``value`` (``n/a`` for None / NaN)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return NA
        v = float(value)
        if self.higher_is_better:
            light = GREEN if v >= self.green else RED if v < self.red else AMBER
        else:
            light = GREEN if v < self.green else RED if v > self.red else AMBER
        if self.suspicious_above is not None and v > self.suspicious_above:
            light = AMBER
        return light

    def describe(self) -> str:
        """The rule in words, e.g. ``green >= 0.7; amber 0.6-0.7; red < 0.6``."""
        g, r = _num(self.green), _num(self.red)
        lo, hi = (r, g) if self.higher_is_better else (g, r)
        if self.higher_is_better:
            text = f"green >= {g}; amber {lo}-{hi}; red < {r}"
        else:
            text = f"green < {g}; amber {lo}-{hi}; red > {r}"
        if self.suspicious_above is not None:
            text += f"; amber above {_num(self.suspicious_above)} (suspicious)"
        return text


def _num(x: float) -> str:
    return f"{x:g}"


#: Check keys renamed since a thresholds file may have used them: old -> new.
RENAMED = {"binomial_p": "binomial_grade_p"}


def _p(label: str, source: str) -> Rule:
    return Rule(label, True, 0.05, 0.01, source)


def _default_rules() -> dict[str, Rule]:
    return {
        # above 0.90 (Gini 0.80) the same "check for leakage" as KS above 0.5: a validator's finding was KS amber
        # as suspicious while AUC 0.92 and Gini 0.84 of the same ranking were plain green
        "auc": Rule("AUC", True, 0.70, 0.60, "DOMAIN C2: corporate PD about 0.70-0.85 [M]; >0.90 check for leakage "
                    "(ours [M], as DOMAIN C2 says of KS >0.5)", suspicious_above=0.90),
        "gini": Rule("Gini / accuracy ratio", True, 0.40, 0.20, "DOMAIN C2: Gini 0.4-0.6 typical for SME [M]; >0.80 "
                     "check for leakage (ours [M], as DOMAIN C2 says of KS >0.5)", suspicious_above=0.80),
        # KS 0.5 is AUC 0.83 for two normal score distributions of equal spread (inside DOMAIN C2's typical
        # AUC range): a validator read KS 0.545 amber beside AUC 0.838 green as two findings
        "ks": Rule("KS", True, 0.30, 0.20, "DOMAIN C2: <0.2 weak, 0.2-0.3 acceptable, 0.3-0.5 good, "
                   ">0.5 check for leakage [M]; KS 0.5 is about AUC 0.83 for normal scores of equal spread, so an "
                   "amber KS beside a green AUC asks for the leakage check, it is no second finding",
                   suspicious_above=0.50),
        "auc_vs_initial_p": _p("AUC vs initial (ECB, p)", "ECB 2019 §2.5: H0 AUC not lower; alpha 5 % / 1 % [M]"),
        "psi": Rule("PSI (score)", False, 0.10, 0.25, "DOMAIN C2: <0.1 stable, 0.1-0.25 moderate, >0.25 major"),
        "grade_psi": Rule("PSI (grades)", False, 0.10, 0.25, "DOMAIN C2: as the score's PSI, on the grade shares"),
        "csi": Rule("CSI (worst feature)", False, 0.10, 0.25, "DOMAIN C2: same thresholds as PSI"),
        "jeffreys_p": _p("Jeffreys (portfolio, p)", "ECB 2019 §2.5.3.1: H0 PD not underestimated; alpha 5 % / 1 % [M]"),
        "jeffreys_grade_p": _p("Jeffreys per grade (worst grade, Holm-adjusted p over the grades read)",
                               "ECB 2019: per grade; alpha 5 % / 1 % [M]"),
        # the portfolio's binomial p is the metric binomial_p (informative): one key held both (a validator's finding)
        "binomial_grade_p": _p("Binomial per grade (worst grade, Holm-adjusted p over the grades read)",
                               "BCBS WP14: one-sided, assumes independence"),
        "hosmer_lemeshow_p": _p("Hosmer-Lemeshow (p)", "chi^2 upper tail; alpha 5 % / 1 % [M]"),
        "brier_p": _p("Brier, Spiegelhalter z (p)", "two-sided; alpha 5 % / 1 % [M]"),
        "hhi": Rule("Concentration HI (ECB normalised)", False, 0.30, 0.50,
                    "[M]: HI 0.3 ~ 5 equally used grades of 10, 0.5 ~ 3.2"),
        "hhi_vs_initial_p": _p("Concentration vs initial (ECB, p)", "ECB 2019: H0 not more concentrated"),
        "migration_z_p": Rule("Migration adjacent-cell z (share of cells p < 1 %)", False, 0.05, 0.20,
                              "ECB 2019 §2.5.4: share of off-diagonal cells rejecting monotone decay [M]"),
    }


@dataclass(frozen=True)
class Thresholds:
    """All rules, by check key. ``Thresholds()`` gives the defaults; :meth:`from_dict` overrides some."""

    rules: Mapping[str, Rule] = field(default_factory=_default_rules)

    def light(self, key: str, value: float | None) -> str:
        """Light for check ``key``; ``info`` when there is no rule for it."""
        rule = self.rules.get(key)
        return INFO if rule is None else rule.light(value)

    def describe(self, key: str) -> str:
        rule = self.rules.get(key)
        return "" if rule is None else rule.describe()

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain dict (YAML/JSON-able)."""
        return {k: asdict(r) for k, r in self.rules.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]] | None) -> Thresholds:
        """Defaults updated by ``data`` (``{check: {green: .., red: .., ...}}``); unknown fields are refused."""
        rules = dict(_default_rules())
        if data is not None and not isinstance(data, Mapping):
            raise ConfigError(f"thresholds must be a mapping of check names to their fields (e.g. auc: {{green: 0.7, "
                              f"red: 0.6}}), got a {type(data).__name__}")
        for key, spec in (data or {}).items():
            if key in RENAMED:
                log.warning("threshold %r is now %r (the per-grade test; binomial_p is the portfolio's p)", key,
                            RENAMED[key])
                key = RENAMED[key]
            if not isinstance(spec, Mapping):
                raise ConfigError(f"thresholds for {key!r} must be a mapping", column=key)
            if key not in rules:  # a typo ('aucc') set no light; a Rule without its fields raised a TypeError text
                raise ConfigError(f"unknown check {key!r}; the checks with thresholds are: {', '.join(rules)}",
                                  column=key)
            allowed = set(Rule.__dataclass_fields__)
            unknown = set(spec) - allowed
            if unknown:
                raise ConfigError(f"unknown field(s) {sorted(unknown)} for threshold {key!r}; allowed: "
                                  f"{sorted(allowed)}", column=key)
            try:
                rules[key] = replace(rules[key], **spec)
            except TypeError as e:
                raise ConfigError(f"threshold {key!r}: {e}", column=key) from None
            except ConfigError as e:   # a boundary not a number or out of order: named by the file's key, not
                raise ConfigError(e.message, column=key) from None   # the rule's label (helper-140)
        return cls(rules)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Thresholds:
        """Read overrides from a YAML file (same shape as :meth:`to_dict`)."""
        p = Path(path)
        try:
            data = load_yaml(p) or {}
        except OSError as e:
            raise ConfigError(f"cannot read thresholds: {e}", file=p) from None
        try:
            return cls.from_dict(data)
        except ConfigError as e:  # name the file: a bank user got "column 'auc'" alone
            raise ConfigError(e.message, file=p, column=e.column, row=e.row) from None


def worst(lights: list[str]) -> str:
    """The most severe light (red > amber > green); ``n/a`` when none is green/amber/red."""
    graded = [x for x in lights if x in (GREEN, AMBER, RED)]
    return max(graded, key=SEVERITY.__getitem__) if graded else NA
