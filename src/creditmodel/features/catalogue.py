"""The feature catalogue: what every feature means, its unit, report section, risk direction and reason texts.

The catalogue is data (``resources/feature_catalogue.yaml``); :func:`catalogue` loads, expands (one copy
of each template per flagship sector) and validates it. The scorecard's monotonic binning and the
challenger's monotone constraints read :func:`feature_directions`; reason codes read :func:`reason_text`.
For data sets other than the district, :func:`generic_catalogue` builds a catalogue from column names.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

import pandas as pd
import yaml

from creditmodel.data.tables import TABLES
from creditmodel.errors import ConfigError, InputError
from creditmodel.reference import sectors

CATALOGUE_FILE = "feature_catalogue.yaml"
#: Columns of the catalogue frame, in order.
FIELDS = (
    "code",
    "name_zh",
    "name_en",
    "meaning",
    "unit",
    "group",
    "table",
    "kind",
    "direction",
    "reason_zh",
    "reason_en",
)
#: Optional columns: what a missing value of the feature means, in words a borrower can be told (``missing_zh``,
#: ``missing_en``, both or neither), where the value is missing by construction (no penalty on record, no commitment
#: assessed) rather than uncollected; the reason ``<code>.missing`` then says it instead of "data missing".
OPTIONAL_FIELDS = ("missing_zh", "missing_en")
KINDS = ("numeric", "count", "flag", "categorical")
DIRECTIONS = (-1, 0, 1)
LANGS = ("zh", "en")


def _check(entries: list[dict[str, Any]], groups: dict[str, Any], source: str) -> None:
    """Raise :class:`ConfigError` naming the entry and key at fault."""
    seen: set[str] = set()
    for i, e in enumerate(entries):
        where = f"features[{i}]" + (f" ({e.get('code')})" if isinstance(e, dict) and e.get("code") else "")
        if not isinstance(e, dict):
            raise ConfigError(f"{where}: must be a mapping", file=source)
        missing = [f for f in FIELDS if f not in e]
        if missing:
            raise ConfigError(f"{where}: missing key(s) {', '.join(missing)}", file=source, column=missing[0])
        unknown = sorted(set(e) - set(FIELDS) - set(OPTIONAL_FIELDS))
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}", file=source, column=unknown[0])
        code = e["code"]
        if not isinstance(code, str) or not code.isidentifier() or code != code.lower():
            raise ConfigError(
                f"{where}: code must be a snake_case identifier, got {code!r}", file=source, column="code"
            )
        if code in seen:
            raise ConfigError(f"{where}: duplicate code {code!r}", file=source, column="code")
        seen.add(code)
        for f in ("name_zh", "name_en", "meaning", "unit", "reason_zh", "reason_en"):
            if not isinstance(e[f], str) or not e[f].strip() or "{" in e[f]:
                raise ConfigError(
                    f"{where}: {f} must be a non-empty text without placeholders", file=source, column=f
                )
        given = [f for f in OPTIONAL_FIELDS if f in e]
        if given and len(given) < len(OPTIONAL_FIELDS):
            lacking = [f for f in OPTIONAL_FIELDS if f not in e]
            raise ConfigError(f"{where}: {given[0]} needs {', '.join(lacking)} too (a missing value's meaning in "
                              "both languages)", file=source, column=lacking[0])
        for f in given:
            if not isinstance(e[f], str) or not e[f].strip() or "{" in e[f]:
                raise ConfigError(
                    f"{where}: {f} must be a non-empty text without placeholders", file=source, column=f
                )
        if e["group"] not in groups:
            raise ConfigError(
                f"{where}: group {e['group']!r} is not one of {', '.join(groups)}",
                file=source,
                column="group",
            )
        if e["table"] not in TABLES:
            raise ConfigError(
                f"{where}: table {e['table']!r} is not a district table", file=source, column="table"
            )
        if e["kind"] not in KINDS:
            raise ConfigError(
                f"{where}: kind {e['kind']!r} is not one of {', '.join(KINDS)}", file=source, column="kind"
            )
        if isinstance(e["direction"], bool) or e["direction"] not in DIRECTIONS:
            raise ConfigError(
                f"{where}: direction must be -1, 0 or 1, got {e['direction']!r}",
                file=source,
                column="direction",
            )
        if e["kind"] == "categorical" and e["direction"] != 0:
            raise ConfigError(
                f"{where}: a categorical feature has direction 0", file=source, column="direction"
            )


def _expand(templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for key, names in sectors().items():
        subst = {
            "sector": key,
            "sector_zh": names["zh"],
            "sector_en": names["en"],
            "sector_en_lower": names["en"].lower(),
        }
        for t in templates:
            out.append({k: (v.format(**subst) if isinstance(v, str) else v) for k, v in t.items()})
    return out


def parse_catalogue(doc: dict[str, Any], source: str = CATALOGUE_FILE) -> pd.DataFrame:
    """Validate a parsed catalogue document and return it as a frame (one row per feature, :data:`FIELDS`)."""
    if not isinstance(doc, dict) or "features" not in doc or "groups" not in doc:
        raise ConfigError("the catalogue needs the keys 'groups' and 'features'", file=source)
    groups = doc["groups"]
    entries = list(doc["features"]) + _expand(list(doc.get("templates") or []))
    _check(entries, groups, source)
    df = pd.DataFrame(entries, columns=[*FIELDS, *OPTIONAL_FIELDS])
    df[list(OPTIONAL_FIELDS)] = df[list(OPTIONAL_FIELDS)].astype(object).where(df[list(OPTIONAL_FIELDS)].notna(), None)
    df["direction"] = df["direction"].astype("int64")
    df["group_zh"] = df["group"].map(lambda g: groups[g]["zh"])
    df["group_en"] = df["group"].map(lambda g: groups[g]["en"])
    return df


@lru_cache(maxsize=1)
def _packaged() -> pd.DataFrame:
    text = resources.files("creditmodel.resources").joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return parse_catalogue(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def catalogue(scope: str = "all") -> pd.DataFrame:
    """The packaged feature catalogue, one row per feature in output order.

    ``scope``: ``"all"``, ``"enterprise"`` (what :func:`build_features` returns) or ``"loan"`` (what
    :func:`build_loan_features` adds: the loan terms).
    """
    df = _packaged()
    if scope == "all":
        out = df
    elif scope == "enterprise":
        out = df[df["group"] != "loan"]
    elif scope == "loan":
        out = df[df["group"] == "loan"]
    else:
        raise ValueError(f"scope must be 'all', 'enterprise' or 'loan', got {scope!r}")
    return out.reset_index(drop=True).copy()


def feature_directions(cat: pd.DataFrame | None = None) -> dict[str, int]:
    """``{code: direction}``: +1 higher value = riskier, -1 = safer, 0 none or categorical."""
    cat = catalogue() if cat is None else cat
    return {c: int(d) for c, d in zip(cat["code"], cat["direction"])}


def categorical_features(cat: pd.DataFrame | None = None) -> list[str]:
    """Codes of the categorical features (pandas ``category`` columns in the feature frames)."""
    cat = catalogue() if cat is None else cat
    return cat.loc[cat["kind"] == "categorical", "code"].tolist()


#: A reason code ``<feature>.missing``: the factor costs points because its value is missing (no data), not
#: because it is unfavourable (a firm with no tax grade is not told "Low tax credit grade").
MISSING_REASON_SUFFIX = ".missing"


def missing_reason_text(name: str, lang: str = "en", meaning: str | None = None) -> str:
    """Text of the reason ``<feature>.missing`` from the feature's name in ``lang`` and, where the catalogue gives
    it (``missing_zh`` / ``missing_en``), what a missing value of the feature means; else "data missing"."""
    if not pd.isna(meaning) and str(meaning).strip():
        # a firm with no commitment assessed was told "data missing" (a bank reviewer's finding)
        return f"{name}：{str(meaning).strip()}" if lang == "zh" else f"{name}: {str(meaning).strip()}"
    # "data missing", not "no record": for a list flag "no record" reads as "not listed" (a validator's finding)
    return f"{name}：数据缺失（不可判断）" if lang == "zh" else f"{name}: data missing (cannot be judged)"


def reason_text(code: str, lang: str = "en", cat: pd.DataFrame | None = None) -> str:
    """Reason-code text of ``code`` in ``lang`` ("zh" or "en"); ``cat`` defaults to the packaged catalogue.
    ``<feature>.missing`` gives :func:`missing_reason_text` of the feature's name (and missing meaning)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    cat = catalogue() if cat is None else cat
    base = code[: -len(MISSING_REASON_SUFFIX)] if code.endswith(MISSING_REASON_SUFFIX) else None
    hit = cat.loc[cat["code"] == (base or code)]
    if hit.empty:
        raise KeyError(f"feature {base or code!r} is not in the catalogue")
    row = hit.iloc[0]
    return (missing_reason_text(str(row[f"name_{lang}"]), lang, row.get(f"missing_{lang}")) if base
            else str(row[f"reason_{lang}"]))


def generic_catalogue(
    df: pd.DataFrame, target: str | None = None, exclude: tuple[str, ...] | list[str] = ()
) -> pd.DataFrame:
    """A catalogue for any tabular data: one row per column except ``target`` and ``exclude``.

    Names and reason texts come from the column names, the direction is 0 (binning picks the trend),
    ``kind`` is ``numeric`` for numeric and boolean columns, else ``categorical``. A column named like a feature
    of the packaged catalogue (a district feature table given to ``creditmodel train``) takes that feature's
    names, meaning, unit and group, and a neutral reason text in them ("Unfavourable firm age (years)"): its
    direction stays 0 (the binning picks the trend, which may fall and rise), so the catalogue's one-way texts
    ("Recently established enterprise") could name the wrong side; its kind is read from the data.
    """
    known = _packaged().set_index("code")
    if target is not None and target not in df.columns:
        raise InputError(f"target column {target!r} is not in the data", column=target)
    skip = set(exclude) | ({target} if target is not None else set())
    rows = []
    for col in df.columns:
        if col in skip:
            continue
        name = str(col)
        numeric = pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col])
        rows.append(
            {
                "code": name,
                "name_zh": name,
                "name_en": name,
                "meaning": f"input column {name}",
                "unit": "",
                "group": "other",
                "table": "",
                "kind": "numeric" if numeric else "categorical",
                "direction": 0,
                "reason_zh": f"{name} 取值不利",
                "reason_en": f"Unfavourable {name}",
                "group_zh": "其他",
                "group_en": "Other",
            }
        )
        if name in known.index:
            # names and meaning only: the catalogue's reason texts assume its direction ("Recently established
            # enterprise"), which a generic card does not impose (its bins may fall and rise): a neutral text
            entry = known.loc[name]
            rows[-1].update({k: entry[k] for k in ("name_zh", "name_en", "meaning", "unit", "group", "table",
                                                   "group_zh", "group_en")})
            rows[-1].update(reason_zh=f"{entry['name_zh']}取值不利", reason_en=f"Unfavourable {entry['name_en']}")
    out = pd.DataFrame(rows, columns=list(FIELDS) + ["group_zh", "group_en"])
    out["direction"] = out["direction"].astype("int64")
    return out


class Domain(NamedTuple):
    """The possible values of a numeric feature: ``low`` .. ``high`` (None = open), ``whole`` numbers only, and why
    (for the row error)."""

    low: float | None
    high: float | None
    reason: str = ""
    whole: bool = False


#: A flag feature's domain.
FLAG_DOMAIN = Domain(0.0, 1.0, "a flag is 0 or 1", whole=True)
#: Possible values of a feature by its catalogue unit (a generic file's column named like a feature has its unit,
#: not its kind); flags are 0/1, tax grades whole. A value outside is impossible (a negative head count, a voided
#: share of 1.7) and refused at scoring.
UNIT_DOMAINS: dict[str, Domain] = {
    "flag": FLAG_DOMAIN,
    "count": Domain(0.0, None, "a count cannot be negative"),
    "yuan": Domain(0.0, None, "an amount cannot be negative"),
    "months": Domain(0.0, None, "a number of months cannot be negative"),
    "persons": Domain(0.0, None, "a head count cannot be negative"),
    "years": Domain(0.0, None, "an age cannot be negative"),
    "fraction": Domain(0.0, 1.0, "a share lies between 0 and 1"),
    "grade (0-4)": Domain(0.0, 4.0, "a tax credit grade is 0 (A), 1 (B), 2 (M), 3 (C) or 4 (D)", whole=True),
    "grade steps": Domain(-4.0, 4.0, "a tax grade changes by whole steps, -4 (D to A) to 4 (A to D)", whole=True),
    "log(yuan)": Domain(0.0, None, "the log of 1 + an amount cannot be negative"),
    "log(10k yuan)": Domain(0.0, None, "the log of 1 + an amount cannot be negative")}
#: Features whose domain differs from their unit's: a growth rate falls to -100 % at most; ratios of amounts are
#: >= 0, a return on assets can be negative; months among the last 12 are at most 12.
CODE_DOMAINS: dict[str, Domain] = {
    "invoice_sales_growth": Domain(-1.0, None, "sales cannot fall by more than 100 %"),
    "invoice_sales_cv": Domain(0.0, None, "a coefficient of variation cannot be negative"),
    "invoice_purchase_sales_ratio": Domain(0.0, None, "a ratio of two amounts cannot be negative"),
    "annual_leverage": Domain(0.0, None, "a ratio of two amounts cannot be negative"),
    "annual_current_ratio": Domain(0.0, None, "a ratio of two amounts cannot be negative"),
    "annual_roa": Domain(None, None),
    "invoice_zero_sales_months": Domain(0.0, 12.0, "months among the last 12 lie between 0 and 12")}


def feature_domains(cat: pd.DataFrame, codes: list[str] | None = None) -> dict[str, Domain]:
    """``code ->`` :class:`Domain` (lowest, highest possible value, why) of each numeric feature of catalogue ``cat``
    (optionally only ``codes``) whose unit or code has a known domain; features without one (a generic file's
    columns) are left out, i.e. unbounded."""
    out: dict[str, Domain] = {}
    want = None if codes is None else set(codes)
    for r in cat.itertuples(index=False):
        code = str(r.code)
        if (want is not None and code not in want) or getattr(r, "kind", "") == "categorical":
            continue
        dom = CODE_DOMAINS.get(code)
        if dom is None:
            dom = FLAG_DOMAIN if getattr(r, "kind", "") == "flag" else UNIT_DOMAINS.get(str(getattr(r, "unit", "")))
        if dom is not None and (dom.low is not None or dom.high is not None):
            out[code] = dom
    return out
