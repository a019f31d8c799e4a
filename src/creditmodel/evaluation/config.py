"""The indicator system of the public credit evaluation, as typed and validated data.

The system lives in a YAML file (default ``data/public_credit_indicators.yaml``); :func:`load_config`
reads it into an :class:`EvaluationConfig`. Every problem raises :class:`~creditmodel.errors.ConfigError`
whose ``column`` is the dotted key at fault (e.g. ``dimensions.judicial.indicators.enforcement_open.weight``)
and whose ``file`` is the YAML file.

Scoring model (all amounts in points; higher is better):

* an indicator reads one feature (a code of :func:`creditmodel.features.catalogue` or of
  :data:`creditmodel.evaluation.inputs.EXTRA_FEATURES`) and turns it into rule points:
  ``per_count`` (``points`` per unit), ``flag`` (``points`` when the value is ``>= at_least``) or ``bands``
  (a step function: ``points[i]`` for ``thresholds[i-1] <= x < thresholds[i]``); a missing value gives
  ``missing`` points (default 0);
* the rule points are clipped to ``[-cap, cap]`` and multiplied by ``weight``: that is the indicator's
  contribution before the dimension cap (so the weight scales the indicator's whole effect);
* a dimension caps the sum of its deductions at ``max_deduction`` and of its bonuses at ``max_bonus``;
  when a cap binds, its indicators' contributions are scaled down in proportion (to the cent);
* score = ``base_score`` + the sum of the shown contributions; the grade is the best one whose ``min_score``
  the score reaches; grade caps (e.g. the serious-dishonesty list) then limit the grade.
"""

from __future__ import annotations

import copy
import functools
import itertools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from creditmodel.errors import ConfigError, InputError
from creditmodel.reference import PROJECT_DATA, industries, sectors
from creditmodel.yamlfile import load_yaml

log = logging.getLogger(__name__)

DEFAULT_CONFIG = PROJECT_DATA / "public_credit_indicators.yaml"

RULES = ("per_count", "flag", "bands")
DIRECTIONS = ("deduction", "bonus")
#: Public evaluation dimensions (DOMAIN.md A3a, the "8 dimensions" of a public demo repository [S-2]).
DIMENSIONS = (
    "judicial",
    "administrative",
    "commitment",
    "operation",
    "development",
    "incentives",
    "punishment",
    "social_supervision",
)
_INDICATOR_KEYS = {
    "feature",
    "zh",
    "en",
    "direction",
    "rule",
    "points",
    "thresholds",
    "at_least",
    "weight",
    "cap",
    "missing",
}
_OVERRIDE_KEYS = {"points", "thresholds", "at_least", "weight", "cap", "missing"}


# ----------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True)
class Rule:
    """How a feature value becomes points (before the cap and the weight).

    ``per_count``: ``points`` per unit of the feature; ``flag``: ``points`` when value >= ``at_least``;
    ``bands``: ``band_points[i]`` for ``thresholds[i-1] <= x < thresholds[i]`` (len = thresholds + 1).
    """

    kind: str
    points: float = 0.0
    at_least: float = 1.0
    thresholds: tuple[float, ...] = ()
    band_points: tuple[float, ...] = ()

    def describe(self) -> str:
        if self.kind == "per_count":
            return f"{self.points:+g} per unit"
        if self.kind == "flag":
            return f"{self.points:+g} when >= {self.at_least:g}"
        edges = ["-inf", *(f"{t:g}" for t in self.thresholds), "inf"]
        return "; ".join(f"[{edges[i]}, {edges[i + 1]}): {p:+g}" for i, p in enumerate(self.band_points))

    def extreme_points(self) -> tuple[float, float]:
        """(most negative, most positive) rule points over any value (per_count: one unit's sign)."""
        if self.kind == "bands":
            return min(self.band_points), max(self.band_points)
        return min(self.points, 0.0), max(self.points, 0.0)


@dataclass(frozen=True)
class Indicator:
    """One indicator: ``contribution = weight * clip(rule(feature), -cap, cap)`` (points)."""

    key: str
    dimension: str
    feature: str
    zh: str
    en: str
    direction: str  # "deduction" (points <= 0) or "bonus" (points >= 0)
    rule: Rule
    weight: float = 1.0
    cap: float = math.inf  # in rule points, before the weight
    missing: float = 0.0  # rule points when the feature is missing

    @property
    def column(self) -> str:
        return f"contrib__{self.key}"

    @property
    def max_abs_points(self) -> float:
        """Largest magnitude the contribution can take (points)."""
        lo, hi = self.rule.extreme_points()
        m = max(abs(lo), abs(hi), abs(self.missing))
        if self.rule.kind == "per_count":
            m = self.cap
        return self.weight * min(m, self.cap)


@dataclass(frozen=True)
class Dimension:
    key: str
    zh: str
    en: str
    max_deduction: float
    max_bonus: float
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Grade:
    label: str
    zh: str
    en: str
    min_score: float | None  # None for the lowest grade


@dataclass(frozen=True)
class GradeCap:
    """While ``feature >= at_least``, the grade is at best ``max_grade``."""

    key: str
    feature: str
    at_least: float
    max_grade: str
    zh: str
    en: str


@dataclass(frozen=True)
class SupervisionClass:
    label: str
    zh: str
    en: str
    inspection_multiplier: float  # inspection frequency relative to the average class (B = 1)


@dataclass(frozen=True)
class Supervision:
    classes: tuple[SupervisionClass, ...]
    from_grade: Mapping[str, str]

    def multiplier(self, label: str) -> float:
        return next(c.inspection_multiplier for c in self.classes if c.label == label)


@dataclass(frozen=True)
class Applicability:
    """Which enterprises a sector evaluation applies to: listed industries, and (``with_records``)
    any enterprise with an inspection or penalty of the sector known at the as-of date."""

    industries: tuple[str, ...]
    with_records: bool


@dataclass(frozen=True)
class SectorEvaluation:
    key: str
    zh: str
    en: str
    applies_to: Applicability
    base_score: float
    max_deduction: float
    max_bonus: float
    grades: tuple[Grade, ...]
    grade_caps: tuple[GradeCap, ...]
    supervision_floor: Mapping[str, str]  # sector grade -> best supervision class allowed
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class ListRepair:
    min_months: int  # repair may be applied for this long after listing
    max_months: int | None  # listing ends by itself after this long (None: only by removal)


@dataclass(frozen=True)
class RepairRules:
    decision_days: int  # days from a repair application to its decision
    lists: Mapping[str, ListRepair]


@dataclass(frozen=True)
class EvaluationConfig:
    """The validated indicator system (see the module docstring for the scoring model)."""

    name: str
    version: int
    base_score: float
    grades: tuple[Grade, ...]
    dimensions: tuple[Dimension, ...]
    grade_caps: tuple[GradeCap, ...]
    supervision: Supervision
    industry_overrides: Mapping[str, Mapping[str, Indicator]]
    sectors: Mapping[str, SectorEvaluation]
    repair: RepairRules
    source: str = "<dict>"
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for d in self.dimensions for i in d.indicators)

    @property
    def indicator_keys(self) -> list[str]:
        return [i.key for i in self.indicators]

    def indicator(self, key: str) -> Indicator:
        for i in self.indicators:
            if i.key == key:
                return i
        raise KeyError(f"no indicator {key!r}; known: {', '.join(self.indicator_keys)}")

    @property
    def grade_labels(self) -> list[str]:
        return [g.label for g in self.grades]

    def grade_zh(self) -> dict[str, str]:
        return {g.label: g.zh for g in self.grades}

    def features(self) -> list[str]:
        """Every feature the system reads (indicators, caps, overrides, sector evaluations), in order."""
        out: list[str] = []
        for i in self.indicators:
            out.append(i.feature)
        out += [c.feature for c in self.grade_caps]
        for ov in self.industry_overrides.values():
            out += [i.feature for i in ov.values()]
        for s in self.sectors.values():
            out += [i.feature for i in s.indicators] + [c.feature for c in s.grade_caps]
        return list(dict.fromkeys(out))

    def indicator_table(self) -> Any:
        """The indicator system as a frame: one row per indicator of the public evaluation and of each
        sector evaluation (system, dimension, key, feature, direction, rule, weight, cap, maximum points)."""
        import pandas as pd

        rows = []
        for d in self.dimensions:
            for i in d.indicators:
                rows.append(
                    {
                        "system": "public",
                        "dimension": d.key,
                        "dimension_zh": d.zh,
                        **_ind_row(i),
                        "dimension_max_deduction": d.max_deduction,
                        "dimension_max_bonus": d.max_bonus,
                    }
                )
        for s in self.sectors.values():
            for i in s.indicators:
                rows.append(
                    {
                        "system": s.key,
                        "dimension": s.key,
                        "dimension_zh": s.zh,
                        **_ind_row(i),
                        "dimension_max_deduction": s.max_deduction,
                        "dimension_max_bonus": s.max_bonus,
                    }
                )
        return pd.DataFrame(rows)

    def industry_override_table(self) -> Any:
        """The public evaluation's indicators that weigh otherwise in an industry section (``industry_overrides``):
        one row per section and indicator, the override's rule beside the district-wide one (a worked example
        of a catering firm read -3 per failed inspection where :meth:`indicator_table` said -2)."""
        import pandas as pd

        base = {i.key: i for d in self.dimensions for i in d.indicators}
        rows = []
        for ind, m in sorted(self.industry_overrides.items()):
            for key, i in m.items():
                b = base.get(key)
                rows.append({"industry": ind, **_ind_row(i),
                             "district_rule_text": b.rule.describe() if b is not None else "",
                             "district_cap": b.cap if b is not None else None})
        cols = ["industry", "indicator", "zh", "en", "feature", "direction", "rule", "rule_text", "weight", "cap",
                "missing_points", "max_points", "district_rule_text", "district_cap"]
        return pd.DataFrame(rows, columns=cols)

    def sector_rule_table(self) -> Any:
        """The flagship sectors' evaluation rules, one row per sector (the notebook showed the sector grades but
        not the rules behind them: a think tank's finding): ``applies_to`` (its industry sections, and whether an
        enterprise with an inspection or penalty record of the sector is evaluated too), ``base_score`` and
        ``max_deduction``, ``max_bonus`` (points), ``grades`` (each grade's lowest score), ``caps`` (a list that caps the sector
        grade) and ``raises_supervision`` (the supervision class a poor sector grade raises the enterprise to at
        least). Its indicators are :meth:`indicator_table`'s rows with ``system`` = the sector."""
        import pandas as pd

        rows = []
        for k, s in self.sectors.items():
            a = s.applies_to
            where = ", ".join(a.industries) if a.industries else "no section"
            rows.append({
                "sector": k, "zh": s.zh, "en": s.en,
                "applies_to": f"sections {where}" + ("; any enterprise with a record of the sector" if a.with_records
                                                     else ""),
                "base_score": s.base_score, "max_deduction": s.max_deduction, "max_bonus": s.max_bonus,
                "grades": ", ".join(f"{g.label} >= {g.min_score:g}" if g.min_score is not None else
                                    f"{g.label} < {s.grades[i - 1].min_score:g}" if i else g.label
                                    for i, g in enumerate(s.grades)),
                "caps": "; ".join(f"{c.feature} >= {c.at_least:g}: at most {c.max_grade}" for c in s.grade_caps),
                "raises_supervision": ", ".join(f"grade {g} -> class {c} at least"
                                                for g, c in s.supervision_floor.items()),
            })
        cols = ["sector", "zh", "en", "applies_to", "base_score", "max_deduction", "max_bonus", "grades", "caps",
                "raises_supervision"]
        return pd.DataFrame(rows, columns=cols)

    def with_weights(self, factors: Mapping[str, float]) -> EvaluationConfig:
        """A copy with indicator weights multiplied by ``factors`` (indicator key -> factor), also in the
        industry overrides. Used by the sensitivity analysis."""
        unknown = set(factors) - set(self.indicator_keys)
        if unknown:
            raise ConfigError(f"unknown indicator(s) {sorted(unknown)}", column=min(unknown))
        for k, f in factors.items():
            if not (isinstance(f, (int, float)) and math.isfinite(f) and f > 0):
                raise ConfigError(f"weight factor must be a positive number, got {f!r}", column=k)

        def scale(i: Indicator) -> Indicator:
            return replace(i, weight=i.weight * factors[i.key]) if i.key in factors else i

        dims = tuple(replace(d, indicators=tuple(scale(i) for i in d.indicators)) for d in self.dimensions)
        ov = {ind: {k: scale(i) for k, i in m.items()} for ind, m in self.industry_overrides.items()}
        return replace(self, dimensions=dims, industry_overrides=ov)


def _ind_row(i: Indicator) -> dict[str, Any]:
    return {
        "indicator": i.key,
        "zh": i.zh,
        "en": i.en,
        "feature": i.feature,
        "direction": i.direction,
        "rule": i.rule.kind,
        "rule_text": i.rule.describe(),
        "weight": i.weight,
        "cap": i.cap,
        "missing_points": i.missing,
        "max_points": i.max_abs_points,
    }


# ----------------------------------------------------------------------------- validation helpers
def _err(msg: str, key: str, source: str) -> ConfigError:
    return ConfigError(f"{key}: {msg}", file=source, column=key)


def _mapping(v: Any, key: str, source: str) -> dict:
    if not isinstance(v, dict):
        raise _err(f"must be a mapping, got {type(v).__name__}", key, source)
    return v


def _number(
    v: Any, key: str, source: str, *, lo: float | None = None, lo_open: bool = False, allow_inf: bool = False
) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _err(f"must be a number, got {v!r}", key, source)
    f = float(v)
    if math.isnan(f) or (math.isinf(f) and not allow_inf):
        raise _err(f"must be a finite number, got {v!r}", key, source)
    if lo is not None and (f <= lo if lo_open else f < lo):
        raise _err(f"must be {'>' if lo_open else '>='} {lo:g}, got {v!r}", key, source)
    return f


def _text(v: Any, key: str, source: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise _err("must be a non-empty text", key, source)
    return v


def _known_features() -> dict[str, int]:
    """Feature code -> catalogue direction (+1 riskier when higher, -1 safer, 0 none)."""
    from creditmodel.evaluation.inputs import EXTRA_FEATURES
    from creditmodel.features import catalogue

    cat = catalogue("enterprise")
    out = {c: int(d) for c, d, k in zip(cat["code"], cat["direction"], cat["kind"]) if k != "categorical"}
    out.update({c: int(v["direction"]) for c, v in EXTRA_FEATURES.items()})
    return out


@functools.lru_cache(maxsize=1)
def _feature_lows() -> dict[str, float]:
    """Feature code -> its lowest possible value, where the catalogue's unit or code gives one (a count 0, a flag
    0, a growth rate -1; :func:`creditmodel.features.catalogue.feature_domains`). Cached: the package's catalogue
    does not change while running (read per indicator, it made a configuration's load 15 times slower)."""
    import pandas as pd

    from creditmodel.evaluation.inputs import EXTRA_FEATURES
    from creditmodel.features import catalogue
    from creditmodel.features.catalogue import feature_domains

    extra = pd.DataFrame([{"code": c, "kind": "numeric", "unit": v["unit"]} for c, v in EXTRA_FEATURES.items()])
    cat = pd.concat([catalogue("enterprise"), extra], ignore_index=True)
    return {c: d.low for c, d in feature_domains(cat).items() if d.low is not None}


def _check_best_grade_reachable(grades: tuple[Grade, ...], top: float, how: str, key: str, source: str) -> None:
    """ConfigError at ``<key>[0].min_score`` when the best grade needs more points than the highest possible score
    ``top`` (``how`` says how it is made up)."""
    if grades and grades[0].min_score is not None and grades[0].min_score > top:
        raise _err(f"the best grade {grades[0].label} needs {grades[0].min_score:g} points, above the highest "
                   f"possible score {top:g} ({how})", f"{key}[0].min_score", source)


def _grades(raw: Any, key: str, source: str) -> tuple[Grade, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise _err("must be a list of at least 2 grades, best first", key, source)
    out: list[Grade] = []
    for i, g in enumerate(raw):
        k = f"{key}[{i}]"
        g = _mapping(g, k, source)
        unknown = set(g) - {"label", "zh", "en", "min_score"}
        if unknown:
            raise _err(f"unknown key(s) {sorted(unknown)}", f"{k}.{min(unknown)}", source)
        label = _text(g.get("label"), f"{k}.label", source)
        last = i == len(raw) - 1
        if last:
            if g.get("min_score") is not None:
                raise _err(
                    "the lowest grade takes every score below the others: leave min_score out",
                    f"{k}.min_score",
                    source,
                )
            ms = None
        else:
            ms = _number(g.get("min_score"), f"{k}.min_score", source)
            if out and out[-1].min_score is not None and ms >= out[-1].min_score:
                raise _err(
                    f"thresholds overlap or are not decreasing: {ms:g} >= {out[-1].min_score:g} of "
                    f"grade {out[-1].label} (grades are listed best first)",
                    f"{k}.min_score",
                    source,
                )
        out.append(
            Grade(label, _text(g.get("zh"), f"{k}.zh", source), _text(g.get("en"), f"{k}.en", source), ms)
        )
    labels = [g.label for g in out]
    if len(set(labels)) != len(labels):
        raise _err(f"duplicate grade labels {labels}", key, source)
    return tuple(out)


def _rule(d: dict, key: str, source: str, feat_dir: int, direction: str, low: float | None = None) -> Rule:
    """The rule of an indicator; ``low`` is the feature's lowest possible value (None: unbounded)."""
    kind = d.get("rule")
    if kind not in RULES:
        raise _err(f"unknown rule {kind!r}; expected one of {', '.join(RULES)}", f"{key}.rule", source)
    sign_ok = (lambda p: p <= 0) if direction == "deduction" else (lambda p: p >= 0)
    if kind in ("per_count", "flag"):
        if "thresholds" in d:
            raise _err(f"only a bands rule has thresholds (rule is {kind})", f"{key}.thresholds", source)
        p = _number(d.get("points"), f"{key}.points", source)
        if not sign_ok(p) or p == 0:
            raise _err(
                f"a {direction} needs {'negative' if direction == 'deduction' else 'positive'} points, "
                f"got {p:g}",
                f"{key}.points",
                source,
            )
        at_least = 1.0
        if kind == "flag":
            at_least = _number(d.get("at_least", 1), f"{key}.at_least", source)
            if low is not None and at_least <= low:
                # dishonest_debtor at_least 0 took 25 points from every firm, a clean one graded C (helper-142)
                raise _err(f"must be above {low:g}, the feature's lowest possible value: at {at_least:g} the flag "
                           f"would hold for every enterprise", f"{key}.at_least", source)
        elif "at_least" in d:
            raise _err("only a flag rule has at_least", f"{key}.at_least", source)
        # the points must move in the safer direction of the feature (catalogue direction)
        if feat_dir != 0 and (p > 0) == (feat_dir > 0):
            raise _err(
                f"points {p:+g} per unit contradict the feature's direction "
                f"({'+1: higher is riskier' if feat_dir > 0 else '-1: higher is safer'})",
                f"{key}.points",
                source,
            )
        return Rule(kind, points=p, at_least=at_least)
    th = d.get("thresholds")
    pts = d.get("points")
    if not isinstance(th, list) or not th:
        raise _err("a bands rule needs a non-empty list of thresholds", f"{key}.thresholds", source)
    if not isinstance(pts, list) or len(pts) != len(th) + 1:
        raise _err(f"a bands rule needs len(thresholds) + 1 = {len(th) + 1} points", f"{key}.points", source)
    th_f = [_number(t, f"{key}.thresholds[{i}]", source) for i, t in enumerate(th)]
    for i in range(1, len(th_f)):
        if th_f[i] <= th_f[i - 1]:
            raise _err(
                f"thresholds overlap or are not increasing: {th_f[i]:g} <= {th_f[i - 1]:g}",
                f"{key}.thresholds[{i}]",
                source,
            )
    p_f = [_number(p, f"{key}.points[{i}]", source) for i, p in enumerate(pts)]
    for i, p in enumerate(p_f):
        if not sign_ok(p):
            raise _err(f"a {direction} cannot give {p:+g} points", f"{key}.points[{i}]", source)
    if all(p == 0 for p in p_f):
        raise _err("every band gives 0 points", f"{key}.points", source)
    steps = [b - a for a, b in itertools.pairwise(p_f)]
    if any(s > 0 for s in steps) and any(s < 0 for s in steps):
        raise _err(f"band points {p_f} are not monotone", f"{key}.points", source)
    trend = 1 if any(s > 0 for s in steps) else -1  # +1: points grow with the feature
    if feat_dir != 0 and trend == feat_dir:
        raise _err(
            f"band points {p_f} {'grow' if trend > 0 else 'fall'} with the feature, against its direction "
            f"({'+1: higher is riskier' if feat_dir > 0 else '-1: higher is safer'})",
            f"{key}.points",
            source,
        )
    return Rule("bands", thresholds=tuple(th_f), band_points=tuple(p_f))


def _indicator(key: str, raw: Any, dim: str, path: str, source: str, feats: dict[str, int]) -> Indicator:
    d = _mapping(raw, path, source)
    unknown = set(d) - _INDICATOR_KEYS
    if unknown:
        raise _err(
            f"unknown key(s) {sorted(unknown)}; allowed: {', '.join(sorted(_INDICATOR_KEYS))}",
            f"{path}.{min(unknown)}",
            source,
        )
    if not key.isidentifier() or key != key.lower():
        raise _err("an indicator key must be a snake_case identifier", path, source)
    feature = d.get("feature")
    if not isinstance(feature, str) or feature not in feats:   # a YAML list here raised a bare TypeError (h163)
        raise _err(
            f"unknown feature {feature!r}: not a numeric feature of the catalogue "
            f"(creditmodel.features.catalogue) nor an evaluation feature",
            f"{path}.feature",
            source,
        )
    direction = d.get("direction")
    if direction not in DIRECTIONS:
        raise _err(
            f"unknown direction {direction!r}; expected one of {', '.join(DIRECTIONS)}",
            f"{path}.direction",
            source,
        )
    rule = _rule(d, path, source, feats[feature], direction, _feature_lows().get(feature))
    weight = _number(d.get("weight", 1.0), f"{path}.weight", source, lo=0, lo_open=True)
    if "cap" not in d:
        raise _err("missing cap (largest rule points, before the weight)", f"{path}.cap", source)
    cap = _number(d.get("cap"), f"{path}.cap", source, lo=0, lo_open=True)
    lo, hi = rule.extreme_points()
    if rule.kind != "per_count" and cap < max(abs(lo), abs(hi)):
        log.debug("%s: cap %g below the rule's largest points", path, cap)
    missing = _number(d.get("missing", 0.0), f"{path}.missing", source)
    if (direction == "deduction" and missing > 0) or (direction == "bonus" and missing < 0):
        raise _err(
            f"a {direction} cannot give {missing:+g} points for a missing value", f"{path}.missing", source
        )
    return Indicator(
        key=key,
        dimension=dim,
        feature=feature,
        zh=_text(d.get("zh"), f"{path}.zh", source),
        en=_text(d.get("en"), f"{path}.en", source),
        direction=direction,
        rule=rule,
        weight=weight,
        cap=cap,
        missing=missing,
    )


def _caps(
    raw: Any, key: str, source: str, feats: dict[str, int], grades: tuple[Grade, ...]
) -> tuple[GradeCap, ...]:
    if raw is None:
        return ()
    raw = _mapping(raw, key, source)
    labels = [g.label for g in grades]
    out = []
    for k, c in raw.items():
        p = f"{key}.{k}"
        c = _mapping(c, p, source)
        unknown = set(c) - {"feature", "at_least", "max_grade", "zh", "en"}
        if unknown:
            raise _err(f"unknown key(s) {sorted(unknown)}", f"{p}.{min(unknown)}", source)
        if not isinstance(c.get("feature"), str) or c.get("feature") not in feats:
            raise _err(f"unknown feature {c.get('feature')!r}", f"{p}.feature", source)
        if c.get("max_grade") not in labels:
            raise _err(
                f"max_grade {c.get('max_grade')!r} is not one of the grades {labels}",
                f"{p}.max_grade",
                source,
            )
        at_least = _number(c.get("at_least", 1), f"{p}.at_least", source)
        if not at_least > 0:   # 0 capped every firm, the cap naming a list none was on (a reviewer's finding)
            raise _err(f"must be above 0 (a firm without the record would be capped too), got {at_least:g}",
                       f"{p}.at_least", source)
        out.append(
            GradeCap(
                k,
                c["feature"],
                at_least,
                c["max_grade"],
                _text(c.get("zh"), f"{p}.zh", source),
                _text(c.get("en"), f"{p}.en", source),
            )
        )
    return tuple(out)


def _check_unknown(d: dict, allowed: set[str], key: str, source: str) -> None:
    unknown = set(d) - allowed
    if unknown:
        first = min(unknown)
        raise _err(
            f"unknown key(s) {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}",
            f"{key}.{first}" if key else first,
            source,
        )


def _indicators_block(
    raw: Any, dim: str, path: str, source: str, feats: dict[str, int]
) -> tuple[Indicator, ...]:
    raw = _mapping(raw, path, source)
    if not raw:
        raise _err("needs at least one indicator", path, source)
    return tuple(_indicator(k, v, dim, f"{path}.{k}", source, feats) for k, v in raw.items())


def parse_config(doc: Any, source: str = "<dict>") -> EvaluationConfig:
    """Validate a parsed YAML document and build the :class:`EvaluationConfig`."""
    doc = _mapping(doc, "<root>", source)
    allowed = {
        "name",
        "version",
        "base_score",
        "grades",
        "dimensions",
        "grade_caps",
        "supervision",
        "industry_overrides",
        "sectors",
        "repair",
    }
    _check_unknown(doc, allowed, "", source)
    for k in ("base_score", "grades", "dimensions", "supervision"):
        if k not in doc:
            raise _err("missing", k, source)
    feats = _known_features()
    base = _number(doc["base_score"], "base_score", source)
    grades = _grades(doc["grades"], "grades", source)

    # dimensions and indicators
    dims_raw = _mapping(doc["dimensions"], "dimensions", source)
    unknown_dims = [k for k in dims_raw if k not in DIMENSIONS]
    if unknown_dims:
        raise _err(
            f"unknown dimension; expected keys among {', '.join(DIMENSIONS)}",
            f"dimensions.{unknown_dims[0]}",
            source,
        )
    dims: list[Dimension] = []
    seen: dict[str, str] = {}
    for dk, dv in dims_raw.items():
        p = f"dimensions.{dk}"
        dv = _mapping(dv, p, source)
        _check_unknown(dv, {"zh", "en", "max_deduction", "max_bonus", "indicators"}, p, source)
        inds = _indicators_block(dv.get("indicators"), dk, f"{p}.indicators", source, feats)
        for i in inds:
            if i.key in seen:
                raise _err(
                    f"duplicate indicator key (also in dimension {seen[i.key]})",
                    f"{p}.indicators.{i.key}",
                    source,
                )
            seen[i.key] = dk
        dims.append(
            Dimension(
                dk,
                _text(dv.get("zh"), f"{p}.zh", source),
                _text(dv.get("en"), f"{p}.en", source),
                _number(dv.get("max_deduction", 0), f"{p}.max_deduction", source, lo=0),
                _number(dv.get("max_bonus", 0), f"{p}.max_bonus", source, lo=0),
                inds,
            )
        )
        if any(i.direction == "deduction" for i in inds) and dims[-1].max_deduction == 0:
            raise _err("has deductions but max_deduction is 0", f"{p}.max_deduction", source)
        if any(i.direction == "bonus" for i in inds) and dims[-1].max_bonus == 0:
            raise _err("has bonuses but max_bonus is 0", f"{p}.max_bonus", source)

    caps = _caps(doc.get("grade_caps"), "grade_caps", source, feats, grades)

    # supervision classes
    sv = _mapping(doc["supervision"], "supervision", source)
    _check_unknown(sv, {"classes", "from_grade"}, "supervision", source)
    cl_raw = sv.get("classes")
    if not isinstance(cl_raw, list) or len(cl_raw) < 2:
        raise _err("must list at least 2 classes, lowest risk first", "supervision.classes", source)
    classes: list[SupervisionClass] = []
    for i, c in enumerate(cl_raw):
        p = f"supervision.classes[{i}]"
        c = _mapping(c, p, source)
        _check_unknown(c, {"label", "zh", "en", "inspection_multiplier"}, p, source)
        m = _number(c.get("inspection_multiplier"), f"{p}.inspection_multiplier", source, lo=0, lo_open=True)
        if classes and m < classes[-1].inspection_multiplier:
            raise _err(
                f"a riskier class cannot be inspected less often: {m:g} < "
                f"{classes[-1].inspection_multiplier:g} of class {classes[-1].label}",
                f"{p}.inspection_multiplier",
                source,
            )
        classes.append(
            SupervisionClass(
                _text(c.get("label"), f"{p}.label", source),
                _text(c.get("zh"), f"{p}.zh", source),
                _text(c.get("en"), f"{p}.en", source),
                m,
            )
        )
    cls_labels = [c.label for c in classes]
    if len(set(cls_labels)) != len(cls_labels):
        raise _err(f"duplicate class labels {cls_labels}", "supervision.classes", source)
    fg = _mapping(sv.get("from_grade"), "supervision.from_grade", source)
    for g in grades:
        if g.label not in fg:
            raise _err(
                f"no supervision class for grade {g.label}", f"supervision.from_grade.{g.label}", source
            )
    for g, c in fg.items():
        if g not in [x.label for x in grades]:
            raise _err(f"{g!r} is not a grade", f"supervision.from_grade.{g}", source)
        if c not in cls_labels:
            raise _err(
                f"{c!r} is not a supervision class {cls_labels}", f"supervision.from_grade.{g}", source
            )
    order = [cls_labels.index(fg[g.label]) for g in grades]
    if order != sorted(order):
        raise _err(
            "a worse grade cannot map to a lower-risk supervision class", "supervision.from_grade", source
        )
    supervision = Supervision(tuple(classes), dict(fg))

    # industry overrides (public evaluation)
    by_key = {i.key: i for d in dims for i in d.indicators}
    overrides: dict[str, dict[str, Indicator]] = {}
    ov_raw = doc.get("industry_overrides") or {}
    ov_raw = _mapping(ov_raw, "industry_overrides", source)
    for ind, m in ov_raw.items():
        p = f"industry_overrides.{ind}"
        if ind not in industries():
            raise _err(
                f"unknown industry section {ind!r} (GB/T 4754 letters: {''.join(industries())})", p, source
            )
        m = _mapping(m, p, source)
        overrides[ind] = {}
        for k, changes in m.items():
            pk = f"{p}.{k}"
            if k not in by_key:
                raise _err(f"unknown indicator {k!r}", pk, source)
            changes = _mapping(changes, pk, source)
            _check_unknown(changes, _OVERRIDE_KEYS, pk, source)
            base_raw = copy.deepcopy(_raw_indicator(doc, by_key[k]))
            if "thresholds" in changes and base_raw.get("rule") != "bands":
                raise _err("only a bands rule has thresholds", f"{pk}.thresholds", source)
            base_raw.update(changes)
            overrides[ind][k] = _indicator(k, base_raw, by_key[k].dimension, pk, source, feats)

    # sector (industry) evaluations
    sectors_out: dict[str, SectorEvaluation] = {}
    sec_raw = _mapping(doc.get("sectors") or {}, "sectors", source)
    for sk, s in sec_raw.items():
        p = f"sectors.{sk}"
        if sk not in sectors():
            raise _err(f"unknown sector {sk!r}; the flagship sectors are {', '.join(sectors())}", p, source)
        s = _mapping(s, p, source)
        _check_unknown(
            s,
            {
                "zh",
                "en",
                "applies_to",
                "base_score",
                "max_deduction",
                "max_bonus",
                "grades",
                "grade_caps",
                "supervision_floor",
                "indicators",
            },
            p,
            source,
        )
        ap = _mapping(s.get("applies_to"), f"{p}.applies_to", source)
        _check_unknown(ap, {"industries", "with_records"}, f"{p}.applies_to", source)
        inds = ap.get("industries") or []
        if not isinstance(inds, list):
            raise _err("must be a list of industry sections", f"{p}.applies_to.industries", source)
        for x in inds:
            if not isinstance(x, str) or x not in industries():
                raise _err(f"unknown industry section {x!r}", f"{p}.applies_to.industries", source)
        wr = ap.get("with_records", False)
        if not isinstance(wr, bool):
            raise _err("must be true or false", f"{p}.applies_to.with_records", source)
        if not inds and not wr:
            raise _err(
                "applies to no enterprise (no industries and with_records false)", f"{p}.applies_to", source
            )
        sg = _grades(s.get("grades"), f"{p}.grades", source)
        sinds = _indicators_block(s.get("indicators"), sk, f"{p}.indicators", source, feats)
        floor = _mapping(s.get("supervision_floor") or {}, f"{p}.supervision_floor", source)
        for g, c in floor.items():
            if g not in [x.label for x in sg]:
                raise _err(f"{g!r} is not a grade of this sector", f"{p}.supervision_floor.{g}", source)
            if c not in cls_labels:
                raise _err(
                    f"{c!r} is not a supervision class {cls_labels}", f"{p}.supervision_floor.{g}", source
                )
        floor_order = [cls_labels.index(floor[g.label]) for g in sg if g.label in floor]
        if floor_order != sorted(floor_order):   # as supervision.from_grade (helper-142: {C: C, D: B} passed)
            raise _err("a worse grade cannot have a lower-risk supervision floor", f"{p}.supervision_floor", source)
        sectors_out[sk] = SectorEvaluation(
            sk,
            _text(s.get("zh"), f"{p}.zh", source),
            _text(s.get("en"), f"{p}.en", source),
            Applicability(tuple(inds), wr),
            _number(s.get("base_score"), f"{p}.base_score", source),
            _number(s.get("max_deduction", 0), f"{p}.max_deduction", source, lo=0),
            _number(s.get("max_bonus", 0), f"{p}.max_bonus", source, lo=0),
            sg,
            _caps(s.get("grade_caps"), f"{p}.grade_caps", source, feats, sg),
            dict(floor),
            sinds,
        )
        if any(i.direction == "bonus" for i in sinds) and sectors_out[sk].max_bonus == 0:
            raise _err("has bonuses but max_bonus is 0", f"{p}.max_bonus", source)
        if any(i.direction == "deduction" for i in sinds) and sectors_out[sk].max_deduction == 0:
            raise _err("has deductions but max_deduction is 0", f"{p}.max_deduction", source)
        # as the public grades: food safety's A from 150 on a base of 100 without bonuses graded no firm A
        _check_best_grade_reachable(sg, sectors_out[sk].base_score + sectors_out[sk].max_bonus,
                                    "base_score plus max_bonus", f"{p}.grades", source)

    # credit repair rules
    rp = _mapping(doc.get("repair") or {}, "repair", source)
    _check_unknown(rp, {"decision_days", "lists"}, "repair", source)
    dd = _number(rp.get("decision_days", 0), "repair.decision_days", source, lo=0)
    if dd != int(dd):
        raise _err("must be a whole number of days", "repair.decision_days", source)
    lists: dict[str, ListRepair] = {}
    from creditmodel.data.tables import LIST_TYPES

    for lt, v in _mapping(rp.get("lists") or {}, "repair.lists", source).items():
        p = f"repair.lists.{lt}"
        if lt not in LIST_TYPES or lt == "red":
            raise _err(f"unknown adverse list type {lt!r}", p, source)
        v = _mapping(v, p, source)
        _check_unknown(v, {"min_months", "max_months"}, p, source)
        mn = _number(v.get("min_months", 0), f"{p}.min_months", source, lo=0)
        if mn != int(mn):   # 1.5 was read as 1 (a reviewer's finding)
            raise _err(f"must be a whole number of months, got {mn:g}", f"{p}.min_months", source)
        mx = v.get("max_months")
        if mx is not None:
            mx = _number(mx, f"{p}.max_months", source, lo=0)
            if mx != int(mx):
                raise _err(f"must be a whole number of months, got {mx:g}", f"{p}.max_months", source)
            if mx < mn:
                raise _err(f"max_months {mx:g} < min_months {mn:g}", f"{p}.max_months", source)
        lists[lt] = ListRepair(int(mn), None if mx is None else int(mx))
    version = doc.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise _err("must be an integer", "version", source)
    # min_score 150 where the score cannot pass 111: no firm could be graded A, accepted without a word
    _check_best_grade_reachable(grades, base + sum(d.max_bonus for d in dims),
                                "base_score plus every dimension's max_bonus", "grades", source)
    return EvaluationConfig(
        name=str(doc.get("name", "public_credit")),
        version=version,
        base_score=base,
        grades=grades,
        dimensions=tuple(dims),
        grade_caps=caps,
        supervision=supervision,
        industry_overrides=overrides,
        sectors=sectors_out,
        repair=RepairRules(int(dd), lists),
        source=source,
        raw=copy.deepcopy(doc),
    )


def _raw_indicator(doc: dict, ind: Indicator) -> dict:
    return dict(doc["dimensions"][ind.dimension]["indicators"][ind.key])


def load_config(config: EvaluationConfig | str | Path | Mapping[str, Any] | None = None) -> EvaluationConfig:
    """An :class:`EvaluationConfig` from an object, a parsed mapping, a YAML path or None (the default
    ``data/public_credit_indicators.yaml``)."""
    if isinstance(config, EvaluationConfig):
        return config
    if isinstance(config, Mapping):
        return parse_config(dict(config))
    p = Path(config) if config is not None else DEFAULT_CONFIG
    if not p.is_file():
        raise InputError(
            "indicator configuration not found"
            + (
                " (the default lives in the repository's data/ folder; pass --config)"
                if config is None
                else ""
            ),
            file=p,
        )
    doc = load_yaml(p)  # a repeated key or invalid YAML: ConfigError naming the file
    return parse_config(doc, source=str(p))
