"""The public credit evaluation: scores, grades, grade caps, industry evaluations and supervision classes.

:func:`score_inputs` turns an evaluation input frame (:func:`creditmodel.evaluation.inputs.build_inputs`)
into the evaluation columns; :func:`evaluate` does both for a dict of district tables and :func:`evaluate_dir`
for a district folder (the ``creditmodel evaluate`` command).

Arithmetic is done in integer cents (hundredths of a point), so that the score is *exactly*
``base_score + sum(contrib__*)`` and a grade never depends on floating-point rounding; the frame shows
points (cents / 100).

Output columns (one row per enterprise and as-of date):

* ``uscc``, ``as_of_date``, ``name``, ``industry``, ``street``, ``registration_status`` (active /
  deregistered / revoked *at the as-of date*), ``deregistered`` (closed on or before the as-of date: still
  graded, flagged, and left out of the plan's shares), ``on_serious_dishonesty_list``, ``records_known_n``
  (public credit records known at the as-of date: 0 = a grade resting on no evidence);
* ``public_credit_score`` (points), ``public_credit_grade`` (A/B/C/D), ``grade_zh`` (优/良/中/差),
  ``grade_from_score`` (before caps), ``grade_cap`` (the strictest cap in force, or empty), ``cap_reason``;
* ``supervision_class`` (A-D), ``supervision_zh``, ``inspection_multiplier`` (inspection frequency relative
  to class B), ``supervision_reason``;
* ``dimension__<dimension>`` (sum of its contributions) and ``contrib__<indicator>`` (points) for every
  indicator;
* per flagship sector ``sector_applies__<s>``, ``sector_score__<s>``, ``sector_grade__<s>`` (empty where the
  sector evaluation does not apply) and ``sector_contrib__<s>__<indicator>``.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditmodel.data import schema
from creditmodel.data import uscc as uscc_mod
from creditmodel.data.io import load_district
from creditmodel.data.tables import TABLES
from creditmodel.errors import InputError
from creditmodel.evaluation.config import (
    EvaluationConfig,
    Grade,
    GradeCap,
    Indicator,
    load_config,
)
from creditmodel.evaluation.inputs import build_inputs
from creditmodel.reference import industries, plan_targets, share_text

log = logging.getLogger(__name__)

OUTPUT_SUFFIXES = (".parquet", ".csv")
#: Output column: rows of the enterprise's records (penalties, lists, ...) set aside by the schema checks.
RECORDS_QUARANTINED = "records_quarantined"
#: Group of the firms whose grouping field (street, industry) is empty: the quality report's label.
MISSING_GROUP = "(missing)"
#: The enterprises' record tables the evaluation reads (every district table but the register, the loan sample
#: and the generator's truth).
#: Loaded tables the evaluation does not read, and why (their rows were counted "used"): the loans are a bank's data
#: for the PD models; a repair's effect is read from each record's own repaired_on / removed_on, not from the
#: repair applications (a think-tank reviewer's finding)
NOT_EVALUATED = {"loans": "a bank's data, for the small-loan PD models",
                 "repairs": "repair applications: a repair counts through its record's repaired_on / removed_on"}
RECORD_TABLES = tuple(n for n, tb in TABLES.items() if not tb.hidden and n != "enterprises" and n not in NOT_EVALUATED)
#: Evaluation dates accepted by :func:`evaluate_dir` (the schema's plausible dates).
AS_OF_RANGE = ("1900-01-01", "2099-12-31")


# ----------------------------------------------------------------------------- points in cents
def _cents(points: float | np.ndarray) -> np.ndarray | int:
    return np.rint(np.asarray(points, dtype=np.float64) * 100.0).astype(np.int64)


def feature_values(inputs: pd.DataFrame, feature: str) -> np.ndarray:
    """A feature column as float64 (missing -> NaN); a missing column raises InputError."""
    if feature not in inputs.columns:
        raise InputError(f"the evaluation inputs have no feature {feature!r}", column=feature)
    col = inputs[feature]
    if col.dtype == np.float64:
        return col.to_numpy()
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def rule_points(ind: Indicator, x: np.ndarray) -> np.ndarray:
    """Rule points of ``ind`` for feature values ``x`` (before the cap and the weight)."""
    r = ind.rule
    miss = np.isnan(x)
    xv = np.where(miss, 0.0, x)
    if r.kind == "per_count":
        p = r.points * xv
    elif r.kind == "flag":
        p = np.where(xv >= r.at_least, r.points, 0.0)
    else:
        i = np.searchsorted(np.asarray(r.thresholds), xv, side="right")
        p = np.asarray(r.band_points)[i]
    return np.where(miss, ind.missing, p)


def contribution_cents(ind: Indicator, x: np.ndarray) -> np.ndarray:
    """``weight * clip(rule points, -cap, cap)`` in cents, before the dimension cap."""
    p = np.clip(rule_points(ind, x), -ind.cap, ind.cap)
    return _cents(ind.weight * p)


def _limit(c: np.ndarray, limit: int, sign: int) -> np.ndarray:
    """Scale the entries of sign ``sign`` of each row so their magnitudes sum to at most ``limit`` cents,
    in proportion, by the largest-remainder method (exact integers; ties go to the earlier indicator)."""
    part = np.where(c * sign > 0, np.abs(c), 0)
    tot = part.sum(axis=1)
    over = tot > limit
    if not over.any():
        return c
    p, t = part[over], tot[over][:, None]
    num = p * limit
    base = num // t
    rem_num = np.where(p > 0, num % t, -1)
    left = limit - base.sum(axis=1)
    order = np.argsort(-rem_num, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(p.shape[1]), p.shape), axis=1)
    new = base + (rank < left[:, None])
    out = c.copy()
    sub = out[over]
    out[over] = np.where(sub * sign > 0, sign * new, sub)
    return out


def _grade_index(score_cents: np.ndarray, grades: Sequence[Grade]) -> np.ndarray:
    """Index of the best grade whose ``min_score`` the score reaches (the last grade otherwise)."""
    idx = np.full(len(score_cents), len(grades) - 1, dtype=np.int64)
    for k in range(len(grades) - 2, -1, -1):
        idx = np.where(score_cents >= _cents(grades[k].min_score), k, idx)
    return idx


def _caps(
    inputs: pd.DataFrame, caps: Sequence[GradeCap], grades: Sequence[Grade]
) -> tuple[np.ndarray, np.ndarray]:
    """(strictest cap grade index per row, -1 when none; reason text per row, "" when none)."""
    n = len(inputs)
    labels = [g.label for g in grades]
    cap_idx = np.full(n, -1, dtype=np.int64)
    reason = np.full(n, "", dtype=object)
    for c in caps:
        on = feature_values(inputs, c.feature) >= c.at_least
        cap_idx = np.where(on, np.maximum(cap_idx, labels.index(c.max_grade)), cap_idx)
        txt = f"{c.key} ({c.zh} / {c.en}): at most {c.max_grade}"
        reason = np.where(on, np.where(reason == "", txt, reason + "; " + txt), reason)
    return cap_idx, reason


@dataclass
class _Block:
    """One scored system (the public evaluation or a sector): cents per indicator and totals."""

    contrib: dict[str, np.ndarray]  # indicator key -> cents
    dim_total: dict[str, np.ndarray]  # dimension key -> cents
    score: np.ndarray  # cents
    grade_idx: np.ndarray  # after caps
    grade_from_score: np.ndarray
    cap_idx: np.ndarray
    cap_reason: np.ndarray


def _score_block(
    inputs: pd.DataFrame,
    base: float,
    grades: Sequence[Grade],
    dims: Sequence[tuple[str, float, float, Sequence[Indicator]]],
    caps: Sequence[GradeCap],
    overrides: dict[str, dict[str, Indicator]] | None = None,
) -> _Block:
    n = len(inputs)
    industry = inputs["industry"].astype("str").to_numpy(dtype=object) if overrides else None
    contrib: dict[str, np.ndarray] = {}
    dim_total: dict[str, np.ndarray] = {}
    total = np.full(n, int(_cents(base)), dtype=np.int64)
    for dkey, max_ded, max_bon, inds in dims:
        c = np.zeros((n, len(inds)), dtype=np.int64)
        for j, ind in enumerate(inds):
            x = feature_values(inputs, ind.feature)
            c[:, j] = contribution_cents(ind, x)
            for sec, ov in (overrides or {}).items():
                if ind.key in ov:
                    rows = industry == sec
                    if rows.any():
                        c[rows, j] = contribution_cents(ov[ind.key], x[rows])
        c = _limit(c, int(_cents(max_ded)), -1)
        c = _limit(c, int(_cents(max_bon)), +1)
        for j, ind in enumerate(inds):
            contrib[ind.key] = c[:, j]
        dim_total[dkey] = c.sum(axis=1)
        total = total + dim_total[dkey]
    g0 = _grade_index(total, grades)
    cap_idx, reason = _caps(inputs, caps, grades)
    return _Block(contrib, dim_total, total, np.maximum(g0, cap_idx), g0, cap_idx, reason)


def _labels(idx: np.ndarray, values: Sequence[str], mask: np.ndarray | None = None) -> pd.Series:
    arr = np.asarray(list(values), dtype=object)[np.maximum(idx, 0)]
    arr = np.where(idx >= 0, arr, None)
    if mask is not None:
        arr = np.where(mask, arr, None)
    return pd.Series(arr, dtype="str")


def _points(cents: np.ndarray) -> np.ndarray:
    return cents.astype(np.float64) / 100.0


def sector_applies(inputs: pd.DataFrame, config: EvaluationConfig, sector: str) -> np.ndarray:
    """Rows the sector evaluation applies to (listed industry, or records of the sector when configured)."""
    s = config.sectors[sector]
    ind = inputs["industry"].astype("str").to_numpy(dtype=object)
    m = np.isin(ind, list(s.applies_to.industries))
    if s.applies_to.with_records:
        m |= np.nan_to_num(feature_values(inputs, f"sector_{sector}_records_n")) > 0
    return m


def score_inputs(
    inputs: pd.DataFrame, config: EvaluationConfig | str | Path | None = None, with_sectors: bool = True
) -> pd.DataFrame:
    """The evaluation columns (module docstring) for an input frame from :func:`build_inputs`.

    ``with_sectors=False`` skips the industry evaluations (no sector columns; the supervision class then
    follows the public grade only): a faster path for sensitivity runs."""
    cfg = load_config(config)
    n = len(inputs)
    dims = [(d.key, d.max_deduction, d.max_bonus, d.indicators) for d in cfg.dimensions]
    pub = _score_block(
        inputs,
        cfg.base_score,
        cfg.grades,
        dims,
        cfg.grade_caps,
        {k: dict(v) for k, v in cfg.industry_overrides.items()},
    )
    labels = cfg.grade_labels
    out: dict[str, Any] = {}
    for c in ("uscc", "as_of_date", "name"):
        out[c] = inputs[c].to_numpy() if c in inputs.columns else np.full(n, None)
    for c in ("industry", "street"):  # text, with an empty (descriptive) street kept empty, not the text "nan"
        out[c] = (np.where(inputs[c].notna().to_numpy(), inputs[c].astype("str").to_numpy(dtype=object), None)
                  if c in inputs.columns else np.full(n, None))
    out["registration_status"] = (
        inputs["registration_status"].to_numpy()
        if "registration_status" in inputs.columns
        else np.full(n, "active")
    )
    out["deregistered"] = (
        inputs["deregistered"].to_numpy(dtype=bool)
        if "deregistered" in inputs.columns
        else np.zeros(n, dtype=bool)
    )
    sd = (
        feature_values(inputs, "on_serious_dishonesty_list")
        if "on_serious_dishonesty_list" in inputs
        else np.zeros(n)
    )
    out["on_serious_dishonesty_list"] = np.nan_to_num(sd) >= 1
    if "records_known_n" in inputs:  # public credit records known at the as-of date: 0 = graded on no evidence
        out["records_known_n"] = inputs["records_known_n"].to_numpy()
    out["public_credit_score"] = _points(pub.score)
    out["public_credit_grade"] = _labels(pub.grade_idx, labels)
    out["grade_zh"] = _labels(pub.grade_idx, [g.zh for g in cfg.grades])
    out["grade_from_score"] = _labels(pub.grade_from_score, labels)
    out["grade_cap"] = _labels(pub.cap_idx, labels)
    out["cap_reason"] = pd.Series(np.where(pub.cap_reason == "", None, pub.cap_reason), dtype="str")

    # industry (sector) evaluations
    sec_cols: dict[str, Any] = {}
    cls_labels = [c.label for c in cfg.supervision.classes]
    cls_idx = np.array([cls_labels.index(cfg.supervision.from_grade[g]) for g in labels])[pub.grade_idx]
    reason = np.array(
        [f"public credit grade {g} -> class {cfg.supervision.from_grade[g]}" for g in labels], dtype=object
    )[pub.grade_idx]
    for sk, s in cfg.sectors.items() if with_sectors else ():
        applies = sector_applies(inputs, cfg, sk)
        blk = _score_block(
            inputs, s.base_score, s.grades, [(sk, s.max_deduction, s.max_bonus, s.indicators)], s.grade_caps
        )
        sec_cols[f"sector_applies__{sk}"] = applies
        sec_cols[f"sector_score__{sk}"] = np.where(applies, _points(blk.score), np.nan)
        sec_cols[f"sector_grade__{sk}"] = _labels(blk.grade_idx, [g.label for g in s.grades], applies)
        # why a sector grade sits below its score's ("grade D, score 100" read as a broken grading: think tank)
        sec_cols[f"sector_cap_reason__{sk}"] = pd.Series(
            np.where(applies & (blk.cap_reason != ""), blk.cap_reason, None), dtype="str")
        for ind in s.indicators:
            sec_cols[f"sector_contrib__{sk}__{ind.key}"] = np.where(
                applies, _points(blk.contrib[ind.key]), np.nan
            )
        sg = [g.label for g in s.grades]
        for g, floor in s.supervision_floor.items():
            hit = applies & (blk.grade_idx == sg.index(g)) & (cls_idx < cls_labels.index(floor))
            cls_idx = np.where(hit, cls_labels.index(floor), cls_idx)
            reason = np.where(hit, reason + f"; {sk} grade {g} -> at least class {floor}", reason)
    out["supervision_class"] = _labels(cls_idx, cls_labels)
    out["supervision_zh"] = _labels(cls_idx, [c.zh for c in cfg.supervision.classes])
    out["inspection_multiplier"] = np.array([c.inspection_multiplier for c in cfg.supervision.classes])[
        cls_idx
    ]
    out["supervision_reason"] = pd.Series(reason, dtype="str")
    for d in cfg.dimensions:
        out[f"dimension__{d.key}"] = _points(pub.dim_total[d.key])
    for ind in cfg.indicators:
        out[ind.column] = _points(pub.contrib[ind.key])
    out.update(sec_cols)
    frame = pd.DataFrame(out)
    frame.index = inputs.index
    for c in ("uscc", "name"):
        frame[c] = frame[c].astype("str")
    return frame


def evaluate(
    tables: dict[str, pd.DataFrame],
    config: EvaluationConfig | str | Path | None = None,
    as_of: Any = None,
    uscc: Any = None,
) -> pd.DataFrame:
    """Evaluate every enterprise registered by ``as_of`` (one date or a list of dates; or a ``pd.Series``
    of dates paired with ``uscc``, as in :func:`creditmodel.features.build_features`).

    Deregistered and revoked enterprises are graded too and flagged (``deregistered``); enterprises
    registered after the as-of date did not exist yet and get no row. Codes given in ``uscc`` must be
    registered enterprises, registered by the as-of date: a code not in the register, or an enterprise registered
    later, raises :class:`InputError` naming them (as :func:`~creditmodel.evaluation.explain` refuses them).

    ``as_of`` is read as :func:`evaluate_dir` reads it (:func:`parse_as_of`: ``YYYY-MM-DD`` text or a date, in
    range; ``20251231`` or ``30/06/2023`` raise :class:`InputError`). The tables are read by
    :func:`creditmodel.features.pit.prepare_tables` (codes normalised, dates read strictly, category names mapped;
    what cannot be read raises InputError naming table, column and row). An as-of date outside the data (before the
    first record, after the snapshot date that :func:`~creditmodel.data.io.load_district` records; without one, after
    the last record reported is said too) or one whose windows the data cover only in part is logged as a warning
    (:func:`as_of_warnings`) and kept in the frame's ``attrs``: :data:`AS_OF_WARNINGS_ATTR` (all of them) and
    :data:`OUTSIDE_DATA_ATTR` (those that make the plan's targets not measurable), which :func:`plan_measures` carries
    to :func:`plan_targets_table` (``met`` then reads None, "not measurable", as for :func:`evaluate_dir`).
    """
    if as_of is None:
        raise InputError(
            "an as-of date is required (evaluate_dir defaults it to the snapshot date)", parameter="as_of"
        )
    cfg = load_config(config)
    as_of, dates = _as_of_dates(as_of)
    from creditmodel.features.pit import prepare_tables

    tables = prepare_tables(tables)
    frame = _evaluate(tables, cfg, as_of, uscc)
    outside, covered = as_of_notes(dates, tables, snapshot_of(tables))
    for w in outside + covered:
        log.warning("%s", w)
    _note(frame, outside, covered)
    return frame


#: ``DataFrame.attrs`` keys of an evaluation frame: every warning about its as-of date(s), and those that make the
#: plan's targets not measurable (an as-of date outside the data); :func:`plan_measures` reads the latter.
AS_OF_WARNINGS_ATTR = "creditmodel.as_of_warnings"
OUTSIDE_DATA_ATTR = "creditmodel.outside_data"


def _note(frame: pd.DataFrame, outside: list[str], covered: list[str]) -> None:
    frame.attrs[AS_OF_WARNINGS_ATTR] = list(outside) + list(covered)
    frame.attrs[OUTSIDE_DATA_ATTR] = list(outside)


def _evaluate(tables: Mapping[str, pd.DataFrame], cfg: EvaluationConfig, as_of: Any, uscc: Any) -> pd.DataFrame:
    """:func:`evaluate` without the as-of checks (``as_of`` already read)."""
    inputs = build_inputs(tables, as_of, uscc=uscc, repair=cfg.repair)
    return score_inputs(inputs, cfg)


def _as_of_dates(as_of: Any) -> tuple[Any, list[pd.Timestamp]]:
    """(``as_of`` as the features take it, its distinct dates): one date or a list read by :func:`parse_as_of`, a
    Series of dates read strictly (:func:`creditmodel.features.pit._datetimes`) and within :data:`AS_OF_RANGE`."""
    if isinstance(as_of, pd.Series):
        from creditmodel.features.pit import _datetimes

        d = _datetimes(as_of.reset_index(drop=True), "as_of", "as_of")
        if d.isna().any():
            raise InputError("missing as-of date", parameter="as_of", row=int(np.flatnonzero(d.isna())[0]) + 1)
        out = d.dt.normalize()
        lo, hi = pd.Timestamp(AS_OF_RANGE[0]), pd.Timestamp(AS_OF_RANGE[1])
        far = ((out < lo) | (out > hi)).to_numpy()
        if far.any():
            i = int(np.flatnonzero(far)[0])
            raise InputError(f"{out.iloc[i].date()} is outside {AS_OF_RANGE[0]}..{AS_OF_RANGE[1]}", parameter="as_of",
                             row=i + 1)
        return pd.Series(out.to_numpy(), index=as_of.index), sorted(pd.Series(out.unique()))
    if isinstance(as_of, (list, tuple, np.ndarray, pd.Index)):
        ts = [parse_as_of(a).normalize() for a in as_of]
        return ts, sorted(set(ts))
    t = parse_as_of(as_of).normalize()
    return t, [t]


def snapshot_of(tables: Mapping[str, pd.DataFrame]) -> pd.Timestamp | None:
    """The district's snapshot date as :func:`~creditmodel.data.io.load_district` records it on the register
    (``attrs``, kept through row selections and copies), or None."""
    ent = tables.get("enterprises")
    from creditmodel.features.pit import SNAPSHOT_ATTR

    v = ent.attrs.get(SNAPSHOT_ATTR) if isinstance(ent, pd.DataFrame) else None
    return pd.Timestamp(v) if v else None


def _last_report(tables: Mapping[str, pd.DataFrame]) -> pd.Timestamp | None:
    """The last ``reported_on`` of the record tables: the data's end where no snapshot date is known."""
    ends = [pd.to_datetime(df["reported_on"], errors="coerce").max() for name, df in tables.items()
            if name in RECORD_TABLES and isinstance(df, pd.DataFrame) and "reported_on" in df.columns and len(df)]
    ends = [e for e in ends if pd.notna(e)]
    return pd.Timestamp(max(ends)).normalize() if ends else None


def as_of_notes(dates: Sequence[pd.Timestamp], tables: Mapping[str, pd.DataFrame],
                 snap: pd.Timestamp | None, coverage: bool = True) -> tuple[list[str], list[str]]:
    """(as-of dates outside the data, other warnings) for the earliest and the latest of ``dates`` (the dates
    between them lie inside whatever those two do). Without a snapshot date, an as-of date after the data's last
    report date is said among the other warnings (the plan's targets stay measurable). ``coverage=False`` leaves out
    the windows only partly covered (:func:`coverage_warnings`; the list views of ``quality`` read no window)."""
    if not dates:
        return [], []
    last = None if snap is not None else _last_report(tables)
    outside: list[str] = []
    covered: list[str] = []
    for t in dict.fromkeys([min(dates), max(dates)]):
        o, c = _as_of_checks(t, tables, snap)
        c = c if coverage else []
        if snap is None and last is not None and t > last:   # said, but the targets stay measurable: a district's
            # own frames may simply have had nothing to report since (evaluate_dir always knows its snapshot date)
            c.append(f"as-of date {t.date()} is after the last record of the data (reported on {last.date()}) and no "
                     "snapshot date is known (load_district records the manifest's): records reported after it are "
                     "not in the data, while penalties and listings already in it expire")
        outside += [w for w in o if w not in outside]
        covered += [w for w in c if w not in covered]
    return outside, covered


def _select(frame: pd.DataFrame, column: str, value: str, key: Callable[[str], str], what: str) -> pd.DataFrame:
    """Rows of ``frame`` whose ``column`` is ``key(value)`` (every row for an empty ``value``); InputError naming the
    parameter ``column`` when none is graded there (``key`` raises for an unknown value)."""
    if not str(value).strip():
        return frame
    k = key(value)
    sel = frame[frame[column].astype(str) == k]
    if sel.empty:
        raise InputError(f"no graded enterprise in {what} {k}", parameter=column)
    return sel.reset_index(drop=True)


def select_industry(frame: pd.DataFrame, industry: str) -> pd.DataFrame:
    """The graded enterprises of one GB/T 4754 section (``industry``: its letter, Chinese or English name; ``""``:
    every row). Raises :class:`InputError` naming ``industry`` for an unknown section or one with no graded
    enterprise."""
    from creditmodel.reference import industry_key

    return _select(frame, "industry", industry, industry_key, "industry section")


def select_street(frame: pd.DataFrame, street: str) -> pd.DataFrame:
    """The graded enterprises of one street or town (``street``: its key, Chinese or English name; ``""``: every
    row). Raises :class:`InputError` naming ``street`` for an unknown street or one with no graded enterprise."""
    from creditmodel.reference import street_key

    return _select(frame, "street", street, street_key, "street")


def select_scope(frame: pd.DataFrame, industry: str = "", street: str = "") -> pd.DataFrame:
    """The graded enterprises of one industry section in one street (either may be ``""``: every section, every
    street), as :func:`select_industry` and :func:`select_street` read them.

    With both given and no enterprise of the section in the street, the :class:`InputError` names the combination
    and says how many enterprises each has on its own (``-p industry=B -p street=cicheng`` said "no graded
    enterprise in street cicheng" of a street with 2,200: a reviewer's finding); one with none on its own is named as
    :func:`select_industry` or :func:`select_street` names it."""
    from creditmodel.reference import industry_key, street_key

    ind = industry_key(industry) if str(industry).strip() else ""
    st = street_key(street) if str(street).strip() else ""
    if not (ind and st):
        return select_street(select_industry(frame, industry), street)
    in_ind = (frame["industry"].astype(str) == ind).to_numpy()
    in_st = (frame["street"].astype(str) == st).to_numpy()
    if not (in_ind & in_st).any():
        if not in_ind.any():
            select_industry(frame, industry)   # raises: none of the section anywhere
        if not in_st.any():
            select_street(frame, street)       # raises: nobody graded in the street
        from creditmodel.reference import streets

        raise InputError(
            f"no graded enterprise of industry section {ind} ({industries()[ind].get('en', '')}) in street {st} "
            f"({streets()[st].get('zh', '')}): {int(in_ind.sum()):,} graded enterprise(s) of section {ind} in the "
            f"district, {int(in_st.sum()):,} in street {st}, none in both",
            parameter="industry, street")
    return frame[in_ind & in_st].reset_index(drop=True)


def scope_label(as_of: pd.Timestamp, industry: str = "", street: str = "", source: str = "",
                for_figure: bool = False) -> str:
    """What a report on :func:`select_scope` ``(frame, industry, street)`` of one evaluation covers, in one line, e.g.
    ``as of 2025-12-31 · industry C Manufacturing · street cicheng 慈城镇 · district`` (``source``: the data
    folder's name; the section and the street by their reference keys, whatever spelling the parameters used).
    ``for_figure``: a stamp drawn on a figure, without the street's Chinese name where no CJK font can draw it."""
    from creditmodel.reference import industry_key, street_key, streets

    where = []
    if str(industry).strip():   # the key as the reference spells it (select_scope reads the parameter so)
        section = industry_key(industry)
        where.append(f"industry {section} {industries()[section]['en']}")
    if str(street).strip():   # on a figure the Chinese name only where a CJK font can draw it (boxes otherwise)
        from creditmodel.data.quality_plots import cjk_font

        key = street_key(street)
        drawable = not for_figure or cjk_font()
        where.append(f"street {key} {streets()[key]['zh']}" if drawable else f"street {key}")
    text = f"as of {pd.Timestamp(as_of).date()} · " + (" · ".join(where) or "whole district")
    return text + (f" · {source}" if source else "")


# ----------------------------------------------------------------------------- plan targets and summaries
def _records_not_known(df: pd.DataFrame, t: pd.Timestamp, graded: pd.Index) -> int:
    """Kept record rows of ``df`` that no grade at ``t`` reads: reported after ``t``, or of an enterprise that is
    not graded (registered after ``t``)."""
    unknown = np.zeros(len(df), dtype=bool)
    if "reported_on" in df.columns:
        unknown |= (pd.to_datetime(df["reported_on"], errors="coerce") > t).to_numpy(dtype=bool)
    if "uscc" in df.columns:
        unknown |= ~schema.is_member(df["uscc"], graded)
    return int(unknown.sum())


def _to_target(enterprises: int, excellent_or_good: int) -> int:
    """How many more of ``enterprises`` would have to reach the two best grades to meet the plan's target."""
    target = float(plan_targets()["excellent_or_good_share"]["target"])
    return max(0, math.ceil(target * int(enterprises) - int(excellent_or_good) - 1e-9))


class PlanMeasures(dict):
    """The plan's measures (a plain ``dict`` of floats) with :attr:`outside_data`: the warnings of an as-of date
    outside the data that make the plan's targets not measurable, and :attr:`partly_covered`: those of windows the
    data cover only in part, which leave them measurable but to be read with care (:func:`plan_targets_table`
    reads both)."""

    outside_data: list[str]
    partly_covered: list[str]

    def __init__(self, *args: Any, outside_data: Sequence[str] = (), partly_covered: Sequence[str] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outside_data = list(outside_data)
        self.partly_covered = list(partly_covered)


def plan_measures(frame: pd.DataFrame, config: EvaluationConfig | None = None) -> PlanMeasures:
    """The plan's measures on enterprises existing at the as-of date (not deregistered): the
    excellent-or-good share (the two best grades), the serious-dishonesty share, grade and class shares.

    Counted over the graded enterprises: ``quality`` counts the register as collected (quarantined rows too), so
    its serious-dishonesty share can differ slightly (on the demo district 173 of 16,149 legal-person enterprises
    there, 1.0713 %, against 173 of the 16,142 graded here, 1.0717 %).

    The same keys for any frame: the shares and means are NaN where no enterprise exists (an empty frame gave only
    the three counts). The frame's as-of warnings (``attrs``, set by :func:`evaluate` and :func:`evaluate_dir`) come
    along as :attr:`PlanMeasures.outside_data`, so that ``plan_targets_table(plan_measures(frame))`` reads "not
    measurable" for an as-of date outside the data."""
    cfg = load_config(config)
    live = frame[~frame["deregistered"].to_numpy(dtype=bool)]
    n = len(live)
    top2 = cfg.grade_labels[:2]
    nan = float("nan")
    m: dict[str, float] = {
        "enterprises_graded": float(len(frame)),
        "enterprises_existing": float(n),
        "enterprises_deregistered": float(len(frame) - n),
        "excellent_or_good_share": nan,
        "legal_person_enterprises": 0.0,
        "serious_dishonesty_share": nan,
        "excellent_or_good_share_legal_person": nan,
        "excellent_or_good_to_target": nan,
        **{f"grade_{g}_share": nan for g in cfg.grade_labels},
        **{f"class_{c.label}_share": nan for c in cfg.supervision.classes},
        "mean_inspection_multiplier": nan,
        "capped_share": nan,
        "mean_score": nan,
    }
    if "records_known_n" in live.columns:
        m.update({"no_record_share": nan, "excellent_or_good_without_records_share": nan})
    if n:
        m["excellent_or_good_share"] = float(live["public_credit_grade"].isin(top2).mean())
        # the plan counts legal-person enterprises: individual businesses (codes 92...) are left out of this share
        lp = uscc_mod.is_legal_person(live["uscc"])
        m["legal_person_enterprises"] = float(lp.sum())
        m["serious_dishonesty_share"] = (float(live.loc[lp, "on_serious_dishonesty_list"].mean()) if lp.any()
                                         else nan)
        # the excellent-or-good share counts every graded enterprise (individual businesses too); the same share of
        # legal-person enterprises, as the serious-dishonesty share counts them (a think tank's finding)
        good = live["public_credit_grade"].isin(top2).to_numpy()
        m["excellent_or_good_share_legal_person"] = float(good[lp].mean()) if lp.any() else nan
        m["excellent_or_good_to_target"] = float(_to_target(n, int(good.sum())))
        for g in cfg.grade_labels:
            m[f"grade_{g}_share"] = float((live["public_credit_grade"] == g).mean())
        for c in cfg.supervision.classes:
            m[f"class_{c.label}_share"] = float((live["supervision_class"] == c.label).mean())
        m["mean_inspection_multiplier"] = float(live["inspection_multiplier"].mean())
        m["capped_share"] = float(live["grade_cap"].notna().mean())
        m["mean_score"] = float(live["public_credit_score"].mean())
        if "records_known_n" in live.columns:  # an A on no record at all: no evidence either way (think tank)
            none = live["records_known_n"].fillna(0).to_numpy() == 0
            m["no_record_share"] = float(none.mean())
            m["excellent_or_good_without_records_share"] = float(
                (none & live["public_credit_grade"].isin(top2).to_numpy()).mean())
    outside = list(frame.attrs.get(OUTSIDE_DATA_ATTR, ()))
    partly = [w for w in frame.attrs.get(AS_OF_WARNINGS_ATTR, ()) if w not in outside]
    return PlanMeasures(m, outside_data=outside, partly_covered=partly)


def plan_targets_table(measures: dict[str, float], caveats: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """The plan's evaluation targets (``reference.plan_targets()``) against the measured values.

    ``met`` is True/False, or None ("not measurable") when ``caveats`` are given (an as-of date outside the data:
    :attr:`EvaluationResult.outside_data`), when ``measures`` carry them (:func:`plan_measures` of a frame from
    :func:`evaluate` or :func:`evaluate_dir` at such a date: :attr:`PlanMeasures.outside_data`), or the value is
    missing: before the first record every firm keeps the base score and the targets read "100 % excellent or good,
    0 % listed: met" (a think-tank reviewer's finding). Windows the data cover only in part
    (:attr:`PlanMeasures.partly_covered`) leave ``met`` as measured and are said in ``note`` with "read with care"
    (a run at 2019-06-30 read "99.01 % ... met" with the windows half covered and nothing beside it).
    ``value_text`` is the value as shown, with enough decimals to tell it from the target (``share_text``)."""
    rows = []
    caveats = list(caveats) + [w for w in getattr(measures, "outside_data", ()) if w not in caveats]
    note = "; ".join(caveats)
    partly = [w for w in getattr(measures, "partly_covered", ()) if w not in caveats]
    care = ("read with care: " + "; ".join(partly)) if partly else ""
    for key in ("excellent_or_good_share", "serious_dishonesty_share"):
        t = plan_targets()[key]
        v = measures.get(key, np.nan)
        met: bool | None = bool(v >= t["target"]) if t["direction"] == ">=" else bool(v < t["target"])
        if note or v != v:
            met = None
        rows.append(
            {
                "indicator": key,
                "zh": t["zh"],
                "en": t["en"],
                "value": v,
                "value_text": share_text(v, t["target"]),
                "direction": t["direction"],
                "target": t["target"],
                "baseline_2020": t["baseline_2020"],
                "met": met,
                "note": note if note else ("no enterprise to measure" if v != v else care),
            }
        )
    return pd.DataFrame(rows).astype({"met": "object"})


def plan_targets_markdown(targets: pd.DataFrame) -> str:
    """One Markdown line per row of :func:`plan_targets_table`: the value against the target, met, **not met**, or
    **not measurable** with the reason."""
    lines = []
    for _, r in targets.iterrows():
        status = {True: "met", False: "**not met**"}.get(r["met"], f"**not measurable**: {r['note']}")
        if r["met"] in (True, False) and str(r["note"]).startswith("read with care"):
            status += f" ({r['note']})"
        lines.append(f"* **{r['en']}** ({r['zh']}): **{r['value_text']}** against a target of {r['direction']} "
                     f"{r['target']:.0%} — {status}")
    return "\n".join(lines)


def invoice_reach_markdown(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> str:
    """How many of the enterprises of ``frame`` have invoice data, which the invoice indicators (``sales_growth``,
    ``no_sales``) read: the others score 0 on both (a think tank's finding: the bonus is open to loan applicants
    only). One Markdown line."""
    inv = tables.get("invoices_monthly")
    n = int(frame["uscc"].isin(inv["uscc"]).sum()) if inv is not None and "uscc" in inv.columns else 0
    return (f"Invoice data (for `sales_growth` and `no_sales`): {n:,} of the {len(frame):,} enterprises reported on "
            f"({n / max(len(frame), 1):.1%}); the others score 0 on both.")


def grade_table(
    frame: pd.DataFrame,
    by: str | None = None,
    config: EvaluationConfig | None = None,
    existing_only: bool = True,
) -> pd.DataFrame:
    """Counts and shares of each grade, overall or per ``by`` (a column of the evaluation frame: ``industry``,
    ``street``, ``registration_status``, ``supervision_class``...; a column it lacks raises :class:`InputError` naming
    it and the frame's grouping columns). With ``existing_only`` (the default) deregistered and revoked enterprises
    are left out, as the plan's measures leave them out.

    One row per group (``by`` as its value, empty ones as ``(missing)``; ``group`` = ``all`` without ``by``):

    * ``zh``, ``en``: the industry section's or street's names (empty for other groupings);
    * one column per grade (``A``, ``B``, ...): enterprises of the group with that grade (count);
    * ``enterprises``: enterprises of the group (count);
    * ``<grade>_share``: that grade's enterprises over the group's ``enterprises`` (fraction, 0-1);
    * ``excellent_or_good_share``: enterprises at the two best grades over ``enterprises`` (fraction; the plan's
      excellent-or-good share counts every graded enterprise, individual businesses too);
    * ``to_target``: how many more of the group's enterprises would have to reach the two best grades for the group
      to meet the plan's target (count);
    * ``legal_person_enterprises``: the group's legal-person enterprises (count; individual businesses, codes 92...,
      left out);
    * ``serious_dishonesty_share``: legal-person enterprises on the serious-dishonesty list over
      ``legal_person_enterprises`` (fraction; empty without any).
    """
    from creditmodel.reference import streets

    if by is not None and by not in frame.columns:   # a bare KeyError said only 'Industry'
        close = [c for c in frame.columns if str(c).casefold() == str(by).casefold()]
        usable = [c for c in ("industry", "street", "registration_status", "supervision_class", "public_credit_grade",
                              "grade_cap", "entity_category") if c in frame.columns]
        raise InputError(f"the evaluation frame has no column {by!r}"
                         + (f" (did you mean {close[0]!r}?)" if close else "")
                         + f"; group by one of its columns, e.g. {', '.join(usable) or 'industry, street'}",
                         parameter="by", column=str(by))
    cfg = load_config(config)
    df = frame[~frame["deregistered"].to_numpy(dtype=bool)] if existing_only else frame
    labels = cfg.grade_labels
    # a firm whose street (a descriptive field) was empty or faulty is graded: it is counted as "(missing)", as the
    # quality report counts it, not dropped from the breakdown
    key = (df[by].astype("object").where(df[by].notna(), MISSING_GROUP).astype("str") if by
           else pd.Series("all", index=df.index))
    counts = pd.crosstab(key, df["public_credit_grade"]).reindex(columns=labels, fill_value=0)
    counts.index.name = by or "group"
    out = counts.copy()
    out["enterprises"] = counts.sum(axis=1)
    for g in labels:
        out[f"{g}_share"] = counts[g] / out["enterprises"]
    out["excellent_or_good_share"] = counts[labels[:2]].sum(axis=1) / out["enterprises"]
    # how many of the group's enterprises would have to reach the two best grades for the group to meet the plan's
    # target (the think tank asked which industry drives the miss: the share alone hid the counts)
    out["to_target"] = [_to_target(n, g) for n, g in zip(out["enterprises"], counts[labels[:2]].sum(axis=1))]
    # the plan's share is of legal-person enterprises (individual businesses, 92..., left out), as plan_measures
    lp = uscc_mod.is_legal_person(df["uscc"]) if "uscc" in df.columns else np.ones(len(df), dtype=bool)
    out["legal_person_enterprises"] = pd.Series(lp, index=df.index).groupby(key).sum().reindex(out.index).fillna(0)
    out["serious_dishonesty_share"] = (df.loc[lp].groupby(key[lp])["on_serious_dishonesty_list"].mean()
                                       .reindex(out.index))
    names = dict(industries() if by == "industry" else streets() if by == "street" else {})
    names[MISSING_GROUP] = {"zh": "未填报", "en": "not given"}
    out.insert(0, "zh", [names.get(i, {}).get("zh", "") for i in out.index])
    out.insert(1, "en", [names.get(i, {}).get("en", "") for i in out.index])
    out.columns.name = None   # crosstab's "public_credit_grade" showed as a stray header (a think tank's finding)
    return out.reset_index()


#: the total row of :func:`target_gap_table`
GAP_TOTAL = "(all)"


def target_gap_table(frame: pd.DataFrame, by: str = "industry", config: EvaluationConfig | None = None,
                     top: int = 8) -> pd.DataFrame:
    """Where the excellent-or-good target is missed: the ``top`` groups of ``by`` with the most enterprises to bring
    to the two best grades (``to_target`` > 0, most first), under a total row ``by`` = :data:`GAP_TOTAL` of every
    existing enterprise (its ``to_target`` is the scope's own: the groups' do not add up to it, each is for the
    group on its own). Columns as :func:`grade_table`'s."""
    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 1:
        raise InputError(f"top must be a whole number of groups >= 1, got {top!r}", parameter="top")
    groups = grade_table(frame, by, config).sort_values(["to_target", by], ascending=[False, True])
    total = grade_table(frame, None, config).rename(columns={"group": by})
    total[by] = GAP_TOTAL
    total["zh"], total["en"] = "合计", "all enterprises reported on"
    return pd.concat([groups[groups["to_target"] > 0].head(top), total[groups.columns]], ignore_index=True)


def sector_table(
    frame: pd.DataFrame, config: EvaluationConfig | None = None, existing_only: bool = True
) -> pd.DataFrame:
    """Per sector evaluation: enterprises it applies to, grade counts and shares, mean score."""
    cfg = load_config(config)
    df = frame[~frame["deregistered"].to_numpy(dtype=bool)] if existing_only else frame
    rows = []
    for sk, s in cfg.sectors.items():
        app = df[df[f"sector_applies__{sk}"].to_numpy(dtype=bool)]
        r: dict[str, Any] = {
            "sector": sk,
            "zh": s.zh,
            "en": s.en,
            "enterprises": len(app),
            "mean_score": float(app[f"sector_score__{sk}"].mean()) if len(app) else np.nan,
        }
        for g in s.grades:
            k = int((app[f"sector_grade__{sk}"] == g.label).sum())
            r[g.label] = k
            r[f"{g.label}_share"] = k / len(app) if len(app) else np.nan
        rows.append(r)
    return pd.DataFrame(rows)


@dataclass
class EvaluationResult:
    """What :func:`evaluate_dir` did: the graded frame, the file written and the accounting of rows."""

    frame: pd.DataFrame
    out: Path | None
    as_of: pd.Timestamp
    config: EvaluationConfig
    enterprise_rows_in: int
    enterprises_quarantined: int
    enterprises_not_yet_registered: int
    district_quarantine: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    tables: dict[str, pd.DataFrame] = field(repr=False, default_factory=dict)  # the clean tables evaluated
    record_counts: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)  # rows in/kept/quarantined per record table
    tables_absent: list[str] = field(default_factory=list)  # district tables with no file: evaluated as no records
    quarantine_out: Path | None = None  # the quarantine table written beside ``out``
    kept_faults_out: Path | None = None  # faults of descriptive fields in kept rows, written beside ``out``
    warnings: list[str] = field(default_factory=list)  # e.g. an as-of date outside the data, windows partly covered
    # the warnings that make the plan's targets not measurable (an as-of date outside the data), for
    # plan_targets_table; a window only partly covered by the data is said in ``warnings`` but leaves them measurable
    outside_data: list[str] = field(default_factory=list)
    records_after_as_of: int = 0  # kept record rows reported after the as-of date or of an enterprise registered after
    not_evaluated: dict[str, int] = field(default_factory=dict)  # loaded tables the evaluation does not read: rows

    @property
    def measures(self) -> dict[str, float]:
        return plan_measures(self.frame, self.config)

    def _unfulfilled_line(self) -> list[str]:
        """Penalties published past their maximum publicity end for want of a fulfilment date, and the graded
        enterprises they weigh on (notebook 02 graded on 2,088 such penalties without a word, 686 of its 1,471 C and
        D firms carrying one: a think tank's finding). As the features read them (DOMAIN A4): a penalty not yet
        fulfilled stays published; a warning, with nothing to fulfil, should carry its decision date in
        ``fine_paid_on``. ``quality`` counts the same rows at the snapshot as ``unfulfilled_past_maximum``."""
        pen = self.tables.get("penalties")
        need = {"uscc", "reported_on", "publicity_max_end", "fine_paid_on", "repaired_on"}
        if pen is None or not len(pen) or not need <= set(pen.columns):
            return []
        from creditmodel.data.quality import unfulfilled_past_maximum

        t = self.as_of
        known = (pd.to_datetime(pen["reported_on"]) <= t).to_numpy(dtype=bool, na_value=False)
        on = known & unfulfilled_past_maximum(pen, t)
        if not on.any():
            return []
        f = self.frame[~self.frame["deregistered"].to_numpy(dtype=bool)]
        firms = f[f["uscc"].isin(pen.loc[on, "uscc"])]
        low = self.config.grade_labels[2:]
        n_low = int(firms["public_credit_grade"].isin(low).sum())
        all_low = int(f["public_credit_grade"].isin(low).sum())
        return [f"  penalties past their maximum publicity end without a fulfilment date (fine_paid_on), read as "
                f"unfulfilled and still published: {int(on.sum()):,}, on {len(firms):,} existing enterprises "
                f"({n_low:,} of the {all_low:,} graded {' or '.join(low)}); a warning should carry its decision "
                "date in fine_paid_on"]

    def _no_record_line(self) -> list[str]:
        """The existing enterprises graded on no public credit record at all, and their grades: "9.76 % of
        enterprises without any record" did not say that all 1,828 of them were A (a think tank's finding)."""
        f = self.frame
        if "records_known_n" not in f.columns:
            return []
        live = f[~f["deregistered"].to_numpy(dtype=bool)]
        none = live.loc[live["records_known_n"].fillna(0).to_numpy() == 0, "public_credit_grade"]
        if not len(none):
            return []
        counts = none.value_counts().reindex(self.config.grade_labels).dropna().astype(int)
        grades = (f"all graded {counts.index[0]}" if len(counts) == 1 else
                  "graded " + ", ".join(f"{g} {k:,}" for g, k in counts.items()))
        return [f"  without any public credit record: {len(none):,} existing enterprises "
                f"({len(none) / len(live):.2%}), {grades}, on no evidence either way"]

    def summary(self) -> str:
        m = self.measures
        f = self.frame
        lines = [
            f"public credit evaluation as of {self.as_of.date()} ({self.config.name}, {self.config.source})",
            (
                f"  enterprise rows in {self.enterprise_rows_in:,} = graded {len(f):,} + quarantined "
                f"{self.enterprises_quarantined:,} + registered after the as-of date "
                f"{self.enterprises_not_yet_registered:,}"
            ),
            (
                f"  graded: {int(m['enterprises_existing']):,} existing, {int(m['enterprises_deregistered']):,} "
                f"deregistered or revoked (graded, flagged, left out of the shares)"
            ),
        ]
        if m["enterprises_existing"]:
            dist = ", ".join(
                f"{g.label} {g.zh} {m[f'grade_{g.label}_share']:.1%}" for g in self.config.grades
            )
            cls = ", ".join(
                f"{c.label} {m[f'class_{c.label}_share']:.1%}" for c in self.config.supervision.classes
            )
            t = plan_targets()
            lp_good = float(m.get("excellent_or_good_share_legal_person", float("nan")))
            lines += [
                f"  grades: {dist}",
                f"  supervision classes: {cls}",
                (
                    f"  excellent or good: {share_text(m['excellent_or_good_share'], t['excellent_or_good_share']['target'])} (plan target >= "
                    f"{t['excellent_or_good_share']['target']:.0%}"
                    + (f": {int(m['excellent_or_good_to_target']):,} more enterprises at A or B would meet it"
                       if m.get("excellent_or_good_to_target") else "")
                    + (f"; of legal-person enterprises {lp_good:.2%}" if lp_good == lp_good else "") + ")"
                ),
                *self._no_record_line(),
                *self._unfulfilled_line(),
                (
                    f"  on the serious-dishonesty list: "
                    f"{share_text(m['serious_dishonesty_share'], t['serious_dishonesty_share']['target'])} of "
                    f"{int(m.get('legal_person_enterprises', 0)):,} legal-person enterprises (plan target < "
                    f"{t['serious_dishonesty_share']['target']:.0%})"
                ),
            ]
            for _, r in sector_table(f, self.config).iterrows():
                sh = ", ".join(
                    f"{g.label} {r[f'{g.label}_share']:.1%}" for g in self.config.sectors[r["sector"]].grades
                )
                lines.append(f"  sector {r['sector']}: {int(r['enterprises']):,} enterprises; {sh}")
        rc = self.record_counts
        if len(rc):
            q = rc[rc["quarantined"] > 0]
            per = ", ".join(f"{r.table} {int(r.quarantined):,}" for r in q.itertuples()) or "none"
            hit = int((self.frame[RECORDS_QUARANTINED] > 0).sum()) if RECORDS_QUARANTINED in self.frame else 0
            later = (f" (of which {self.records_after_as_of:,} not known at the as-of date: reported after it, or of "
                     f"an enterprise registered after it)") if self.records_after_as_of else ""
            lines.append(f"  record rows in {int(rc['rows'].sum()):,} = used {int(rc['kept'].sum()):,}{later} + "
                         f"quarantined {int(rc['quarantined'].sum()):,} ({per}); {hit:,} graded enterprise(s) have "
                         f"quarantined records (column {RECORDS_QUARANTINED}): their grades miss those records")
        if self.not_evaluated:
            lines.append("  not read by the evaluation: " + "; ".join(
                f"{k} {v:,} rows ({NOT_EVALUATED.get(k, 'not read')})" for k, v in self.not_evaluated.items()))
        if self.tables_absent:
            lines.append(f"  WARNING: no file for table(s) {', '.join(self.tables_absent)}: evaluated as if no "
                         f"enterprise had such records")
        lines += [f"  WARNING: {w}" for w in self.warnings]
        if self.out is not None:
            lines.append(f"  written to {self.out}")
        if self.quarantine_out is not None:
            lines.append(f"  quarantine table (every broken rule, with file, row and column) in {self.quarantine_out}")
        if self.kept_faults_out is not None:
            lines.append(f"  rows kept with a descriptive field empty or faulty (the cell read as empty) in "
                         f"{self.kept_faults_out}")
        return "\n".join(lines)


def write_frame(frame: pd.DataFrame, out: str | Path) -> Path:
    """Write by suffix: ``.parquet`` or ``.csv`` (UTF-8 with BOM, dates as YYYY-MM-DD)."""
    p = Path(out)
    suffix = p.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(f"unsupported output type {p.suffix!r}: use .parquet or .csv", file=p)
    p.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        frame.to_parquet(p, index=False)
    else:
        frame.to_csv(p, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
    return p


def parse_as_of(as_of: Any) -> pd.Timestamp:
    """An evaluation date: a date, datetime or text ``YYYY-MM-DD`` within :data:`AS_OF_RANGE` (InputError naming
    ``as_of`` otherwise). ``01/02/2024`` could be 1 February or 2 January, and the number 20251231 was read as
    nanoseconds (1970-01-01): both are refused with the form to write (a reviewer's finding: ``explain`` and
    ``repair_whatif`` took what ``evaluate_dir`` refused)."""
    if isinstance(as_of, (bool, np.bool_)) or isinstance(as_of, (int, float, np.integer, np.floating)):
        compact = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", str(as_of))
        hint = f"write it {compact[1]}-{compact[2]}-{compact[3]}" if compact else "write it YYYY-MM-DD"
        raise InputError(f"not a date: the number {as_of!r} ({hint})", parameter="as_of")
    # a time after the day (str(pd.Timestamp): '2025-12-31 00:00:00') is dropped, as promote reads a sample's dates
    if isinstance(as_of, str) and not re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*", as_of):
        compact = re.fullmatch(r"\s*(\d{4})(\d{2})(\d{2})\s*", as_of)
        hint = (f"write it {compact[1]}-{compact[2]}-{compact[3]}" if compact
                else "01/02/2024 could be 1 February or 2 January")
        raise InputError(f"not a date in the form YYYY-MM-DD: {as_of!r} ({hint})", parameter="as_of")
    try:
        t = pd.Timestamp(as_of)
    except (ValueError, TypeError) as e:
        raise InputError(f"not a date: {as_of!r} ({e})", parameter="as_of") from None
    if pd.isna(t):
        raise InputError(f"not a date: {as_of!r}", parameter="as_of")
    if not pd.Timestamp(AS_OF_RANGE[0]) <= t <= pd.Timestamp(AS_OF_RANGE[1]):
        raise InputError(f"{as_of!r} is outside {AS_OF_RANGE[0]}..{AS_OF_RANGE[1]}", parameter="as_of")
    return t.normalize() if isinstance(as_of, str) else t


def evaluate_dir(
    data: str | Path,
    config: EvaluationConfig | str | Path | None = None,
    as_of: Any = None,
    out: str | Path | None = None,
    industry: str = "",
    street: str = "",
) -> EvaluationResult:
    """Load a district folder (schema checks, quarantine), evaluate it as of ``as_of`` (default: the
    snapshot date of its manifest) and write ``out`` (.parquet or .csv) when given.

    ``industry`` and ``street`` (as :func:`select_scope` reads them) are the part of the district a report will show:
    the whole district is graded and written, but an unknown section or street, or a part with no graded enterprise,
    raises :class:`InputError` before anything is written (the whole-district file was rewritten first, then the
    notebook stopped: a reviewer's finding).

    The tables kept in the result carry the invoice data's start
    (:func:`creditmodel.features.pit.mark_invoice_data_start`), so that an explanation or a repair what-if on one
    firm's rows cuts the invoice windows where the district's data begin, as the grade did. The frame carries its
    as-of warnings in ``attrs`` as :func:`evaluate`'s does (``plan_measures(res.frame)`` reads "not measurable" for
    an as-of date outside the data)."""
    if out is not None and Path(out).suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"unsupported output type {Path(out).suffix!r}: use .parquet or .csv", file=out)
    if out is not None and Path(out).is_dir():   # exit 1 with an IsADirectoryError after the run (a reviewer)
        raise InputError("the output is an existing folder; give a file name ending in .parquet or .csv", file=out)
    if out is not None and Path(data).is_dir() and Path(out).resolve().parent == Path(data).resolve():
        # --out DIR/penalties.parquet replaced the input's penalties table with the grades (exit 0: an auditor)
        raise InputError("the output (and its quarantine files) would be written into the input district folder, "
                         "where it could replace a table: give --out a path outside it", file=out)
    from creditmodel.reference import industry_key, street_key

    if str(industry).strip():
        industry_key(industry)   # an unknown section or street is refused before the district is read
    if str(street).strip():
        street_key(street)
    cfg = load_config(config)
    t = None if as_of is None else parse_as_of(as_of)
    dist = load_district(data)
    from creditmodel.features.pit import mark_invoice_data_start

    mark_invoice_data_start(dist.tables)
    t = (dist.snapshot_date if t is None else t).normalize()
    ent = dist.tables["enterprises"]
    lt = dist.loaded["enterprises"]
    if len(ent) == 0:
        q = dist.quarantine[dist.quarantine["table"] == "enterprises"] if len(dist.quarantine) else dist.quarantine
        why = (f"all {lt.n_rows:,} rows are quarantined; most often column '{q['column'].mode().iloc[0]}' "
               f"({q['rule'].mode().iloc[0]}), see `creditmodel quality`" if len(q) else "the table has no rows")
        raise InputError(f"no enterprise can be graded: {why}", file=lt.file,
                         column=str(q["column"].mode().iloc[0]) if len(q) else None)
    reg = pd.to_datetime(ent["registered_on"])
    if not (reg <= t).any():  # an evaluation of nobody (the notebook then failed in a plot, exit 1)
        raise InputError(f"no enterprise is registered on or before the as-of date {t.date()}; the first "
                         f"registration is {reg.min().date()} (the snapshot date is "
                         f"{dist.snapshot_date.date() if dist.snapshot_date is not None else 'unknown'})",
                         file=lt.file, parameter="as_of")
    frame = _evaluate(dist.tables, cfg, t, None)
    frame[RECORDS_QUARANTINED] = _records_quarantined(dist, frame["uscc"])
    select_scope(frame, industry, street)   # a part with no graded enterprise: refused before any file is written
    later = int((reg > t).sum())
    dup_kept = int(ent["uscc"].duplicated().sum())
    res = EvaluationResult(
        frame=frame,
        out=None,
        as_of=t,
        config=cfg,
        enterprise_rows_in=lt.n_rows,
        enterprises_quarantined=lt.n_quarantined + dup_kept,
        enterprises_not_yet_registered=later,
        district_quarantine=dist.quarantine,
        tables=dist.tables,
        record_counts=dist.counts().loc[lambda c: c["table"].isin(RECORD_TABLES)].reset_index(drop=True),
        tables_absent=[n for n in RECORD_TABLES if n not in dist.loaded],
        not_evaluated={r.table: int(r.rows) for r in dist.counts().itertuples() if r.table in NOT_EVALUATED},
    )
    if lt.n_rows != len(frame) + res.enterprises_quarantined + later:
        raise RuntimeError(
            f"enterprise rows do not add up: {lt.n_rows} in, {len(frame)} graded, "
            f"{res.enterprises_quarantined} quarantined, {later} registered later"
        )
    if res.tables_absent:
        log.warning("no file for table(s) %s: evaluated as if no enterprise had such records",
                    ", ".join(res.tables_absent))
    # kept record rows no grade could use: reported after the as-of date, or of an enterprise not graded (registered
    # after it); both were counted "used" although no grade read them (think-tank user's finding for the latter)
    graded = pd.Index(frame["uscc"].dropna().unique())
    res.records_after_as_of = sum(_records_not_known(df, t, graded) for name, df in dist.tables.items()
                                  if name in RECORD_TABLES)
    res.outside_data, covered = _as_of_checks(t, dist.tables, dist.snapshot_date)
    res.warnings = res.outside_data + covered
    _note(frame, res.outside_data, covered)   # as evaluate() notes them: plan_measures(res.frame) carries them
    for w in res.warnings:
        log.warning("%s", w)
    if out is not None:
        res.out = write_frame(frame, out)
        res.quarantine_out = write_frame(dist.quarantine, quarantine_path(res.out))
        from creditmodel.data.quality import kept_faults

        kept = kept_faults(dist.loaded)
        kept_path = quarantine_path(res.out).with_name(
            quarantine_path(res.out).name.replace(".quarantine.csv", ".kept_faults.csv"))
        if len(kept):
            res.kept_faults_out = write_frame(kept, kept_path)
        else:   # a previous run's, naming another district's files, stayed beside this one (a reviewer's finding)
            kept_path.unlink(missing_ok=True)
        log.info("evaluated %d enterprises as of %s -> %s", len(frame), t.date(), res.out)
    return res


def as_of_warnings(t: pd.Timestamp, tables: Mapping[str, pd.DataFrame], snap: pd.Timestamp | None,
                   coverage: bool = True) -> list[str]:
    """Why an as-of date outside the data (before the record tables' first report date, after the snapshot date
    ``snap``) gives grades that describe no real state of the district; ``evaluate`` and ``explain`` say them.

    With ``coverage`` (the default), also where the as-of date is inside the data but a window the evaluation reads
    reaches back before the data's start (:func:`coverage_warnings`): the invoice months before the invoice data
    begin are unknown, not months without sales (a reviewer's finding: at 2019-03-16, 1,713 firms of the demo district
    lost points for "no sales" in 2018)."""
    outside, covered = _as_of_checks(t, tables, snap)
    return outside + (covered if coverage else [])


def _as_of_checks(t: pd.Timestamp, tables: Mapping[str, pd.DataFrame],
                  snap: pd.Timestamp | None) -> tuple[list[str], list[str]]:
    """(warnings of an as-of date outside the data, warnings of windows only partly covered by the data)."""
    reported = [pd.to_datetime(df["reported_on"], errors="coerce") for name, df in tables.items()
                if name in RECORD_TABLES and "reported_on" in df.columns]
    starts = [d for d in (r.min() for r in reported) if pd.notna(d)]
    out = []
    before = bool(starts) and t < min(starts).normalize()
    if before:
        out.append(f"as-of date {t.date()} is before the first record of the data ({min(starts).date()}): no record "
                   "is known then, so every enterprise keeps the base score")
    if snap is not None and pd.notna(snap) and t > snap.normalize():
        out.append(f"as-of date {t.date()} is after the data's snapshot date ({snap.date()}): records reported "
                   "after the snapshot are not in the data, while penalties and listings already in it expire")
    return out, ([] if before else coverage_warnings(t, tables))


def _month_text(m: pd.Timestamp, k: int = 0) -> str:
    return (m + pd.DateOffset(months=k)).strftime("%Y-%m")


def coverage_warnings(t: pd.Timestamp, tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The windows read at ``t`` that begin before the data do: the invoice windows (the 12 complete months before
    the as-of month, and the 12 before them for growth) against the invoice data's first month
    (:func:`creditmodel.features.pit.invoice_data_start`, the district's, not a firm's), and the evaluation's 2- and
    3-year record windows (inspections, credit commitments) against the public records' first event date. The
    features read the covered part only (``creditmodel.features.pit``); these say so, with how much is covered."""
    from creditmodel.data.tables import TABLES
    from creditmodel.features.pit import invoice_data_start

    t = pd.Timestamp(t).normalize()
    out = []
    first = invoice_data_start(tables.get("invoices_monthly"))
    if first is not None:
        m = t.to_period("M").to_timestamp()   # the as-of month: the windows end with the month before it
        k = (m.year - first.year) * 12 + m.month - first.month   # complete invoice months before the as-of month
        if k <= 0:
            out.append(f"as-of date {t.date()} is before the end of the invoice data's first month "
                       f"({_month_text(first)}): no invoice month is known, so every invoice feature is missing (the "
                       "invoice indicators read it as missing data)")
        elif k < 12:
            out.append(f"the invoice data begin in {_month_text(first)}: of the 12 months before the as-of date "
                       f"({_month_text(m, -12)} to {_month_text(m, -1)}) only the last {k} are covered, and the "
                       f"invoice features read those {k} (the months before the data are unknown, not months without "
                       f"sales): months without sales are counted among those {k} only, 12-month sales are scaled up "
                       "from them, and sales growth, which needs the year before, is missing")
        elif k < 24:
            out.append(f"the invoice data begin in {_month_text(first)}: of the 12 months before the last 12 "
                       f"({_month_text(m, -24)} to {_month_text(m, -13)}) only the last {k - 12} are covered, so sales "
                       f"growth compares those {k - 12} months with the same months a year later")
    events = [pd.to_datetime(df[TABLES[name].event_date], errors="coerce").min() for name, df in tables.items()
              if name in RECORD_TABLES and TABLES[name].public_record and TABLES[name].event_date in df.columns]
    events = [e for e in events if pd.notna(e)]
    if events and t >= min(events):
        f = pd.Timestamp(min(events)).normalize()
        # the penalties' publicity (up to 3 years for a serious one) and the lists too: a penalty or listing from
        # before the data that is still in force is unknown (an analyst at 2019-03-31 read a 0.02 % serious-dishonesty
        # share "met", with only the invoice and 2-3-year windows named)
        reach = [f"{y}-year windows ({what})" for y, what in (
            (3, "credit commitments, penalties' publicity, list entries still in force"), (2, "inspections"))
                 if t - pd.DateOffset(years=y) < f]
        if reach:
            days = (t - f).days
            since = f"{days / 365.25:.1f} years" if days >= 365 else f"{days / 30.44:.0f} months"
            out.append(f"the public records begin on {f.date()}: the evaluation's {' and '.join(reach)} reach back "
                       f"before them and count only the {since} since (records from before the data are unknown, not "
                       "absent: a penalty still published or an enterprise still listed may be missing)")
    return out


def quarantine_path(out: str | Path) -> Path:
    """Where :func:`evaluate_dir` writes the district's quarantine table: ``<out stem>.quarantine.csv``."""
    p = Path(out)
    return p.with_name(f"{p.stem}.quarantine.csv")


def _records_quarantined(dist, uscc: pd.Series) -> np.ndarray:
    """Per graded enterprise: quarantined rows of the record tables that name its code."""
    counts: dict[str, int] = {}
    for name, lt in dist.loaded.items():
        if name not in RECORD_TABLES or "uscc" not in lt.rejected.columns or not len(lt.rejected):
            continue
        for code, k in lt.rejected["uscc"].dropna().astype(str).value_counts().items():
            counts[code] = counts.get(code, 0) + int(k)
    return uscc.astype(str).map(counts).fillna(0).astype(np.int64).to_numpy()
