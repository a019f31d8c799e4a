"""What the evaluation reads: the point-in-time features of :mod:`creditmodel.features` plus a few
evaluation features the catalogue lacks, and each enterprise's registration status at the as-of date.

The evaluation features follow the same knowledge rule as :func:`creditmodel.features.build_features`
(a record counts at ``t`` only when its event date and its ``reported_on`` are both ``<= t``) and the same
2-year window (event date in ``(t - 2 years, t]``, calendar years):

* ``complaint_inspections_2y_n``: complaint-driven sector inspections (投诉举报核查) in the last 2 years;
* ``complaint_substantiated_2y_n``: those of them that found something (result ``minor_issues`` or ``fail``): the
  social-supervision signal (社会监督);
* ``inspection_routine_fail_2y_n``: failed inspections not driven by a complaint, the evaluation's failed-inspection
  count: a failed complaint inspection was deducted in both dimensions (-2 and -3 for one record: helper-108), and
  counting it in one only as a failure made it cost less than a complaint with minor issues (helper-110);
* ``sector_<sector>_records_n``: inspections and administrative penalties of a flagship sector known at ``t``
  (any date): whether the enterprise is supervised in that sector (who a sector evaluation applies to).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from creditmodel.errors import InputError
from creditmodel.features import build_features
from creditmodel.features.pit import PreparedTables, prepare_tables, query_keys
from creditmodel.reference import sectors

log = logging.getLogger(__name__)

#: Evaluation features computed here: code -> meaning, unit, direction (+1 higher is riskier, 0 none).
EXTRA_FEATURES: dict[str, dict[str, Any]] = {
    "complaint_inspections_2y_n": {
        "zh": "近两年投诉举报核查次数",
        "en": "Complaint-driven inspections (2 years)",
        "unit": "count",
        "direction": 1,
    },
    "complaint_substantiated_2y_n": {
        "zh": "近两年查实的投诉举报数",
        "en": "Substantiated complaints (2 years)",
        "unit": "count",
        "direction": 1,
    },
    "inspection_routine_fail_2y_n": {
        "zh": "近两年监管检查不合格次数(投诉核查除外)",
        "en": "Failed inspections not driven by a complaint (2 years)",
        "unit": "count",
        "direction": 1,
    },
    **{
        f"sector_{s}_records_n": {
            "zh": f"{names['zh']}监管记录数",
            "en": f"{names['en']} inspection and penalty records",
            "unit": "count",
            "direction": 0,
        }
        for s, names in sectors().items()
    },
}
#: The black list of each sector's evaluation: black-list entries (``lists``, ``list_type = black``) whose ``reason``
#: names it [M]. A sector's grade cap read any black list: an environmental listing capped a machinery maker's
#: food-safety grade at D (a think-tank finding).
SECTOR_BLACK_LISTS: dict[str, tuple[str, ...]] = {
    "food_safety": ("食品安全严重违法生产经营者",),
    "environment": ("环境违法失信企业",),
    "work_safety": ("安全生产失信联合惩戒对象",),
    "construction": ("拖欠农民工工资失信联合惩戒对象",),
}
EXTRA_FEATURES.update({
    f"on_{s}_black_list": {"zh": f"列入{'、'.join(names)}名单", "en": f"On the {s.replace('_', ' ')} black list",
                           "unit": "flag", "direction": 1}
    for s, names in SECTOR_BLACK_LISTS.items()
})
#: Record tables and the date from which each record is known (with its ``reported_on``), for ``records_known_n``.
RECORD_EVENTS = {"penalties": "decision_date", "enforcement": "filed_on", "tax_grades": "published_on",
                 "arrears": "determined_on", "inspections": "inspected_on", "lists": "start_date",
                 "commitments": "made_on"}
EXTRA_FEATURES["records_known_n"] = {
    "zh": "已归集的公共信用记录数", "en": "Public credit records known (any table, any age)", "unit": "count",
    "direction": 0}
#: Columns describing the enterprise, added in front of the features.
STATUS_COLUMNS = ("name", "registration_status", "closed_on", "deregistered")


_said: set[str] = set()


def _say_once(level: int, msg: str, *args: Any) -> None:
    """Log a message once per process (the inputs are built again for every what-if and explanation)."""
    text = msg % args
    if text not in _said:
        _said.add(text)
        log.log(level, text)


def _dates(s: pd.Series) -> pd.Series:
    """Dates as naive ``datetime64[us]`` (a time zone dropped, local wall time kept; unreadable -> NaT; microseconds
    hold 9999-12-31, which nanoseconds overflow)."""
    out = pd.to_datetime(s, errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.astype("datetime64[us]")


def _pairs(q: pd.DataFrame, df: pd.DataFrame | None, cols: list[str]) -> pd.DataFrame | None:
    """(query position ``qi``, as-of ``t``) x the query firm's records, with ``cols``."""
    if df is None or len(df) == 0:
        return None
    rec = df.loc[df["uscc"].isin(q["uscc"].unique()), ["uscc", *cols]]
    return q.merge(rec, on="uscc", how="inner", sort=False)


def _count(m: pd.DataFrame, mask: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(m["qi"].to_numpy()[mask], minlength=n).astype(np.float64)


def extra_features(tables: dict[str, pd.DataFrame], keys: pd.DataFrame) -> pd.DataFrame:
    """The :data:`EXTRA_FEATURES` for each row of ``keys`` (``uscc``, ``as_of_date``), same index order."""
    n = len(keys)
    q = pd.DataFrame(
        {
            "qi": np.arange(n),
            "uscc": keys["uscc"].astype(str).to_numpy(),
            "t": _dates(keys["as_of_date"]).to_numpy(),
        }
    )
    out = {k: np.zeros(n) for k in EXTRA_FEATURES}
    ins = tables.get("inspections")
    m = _pairs(q, ins, ["inspected_on", "reported_on", "inspection_type", "result", "sector"])
    if ins is None:
        out["complaint_inspections_2y_n"][:] = np.nan
        out["complaint_substantiated_2y_n"][:] = np.nan
        out["inspection_routine_fail_2y_n"][:] = np.nan
    elif m is not None and len(m):
        t = m["t"].to_numpy()
        ev = _dates(m["inspected_on"]).to_numpy()
        known = (ev <= t) & (_dates(m["reported_on"]).to_numpy() <= t)
        u, inv = np.unique(t, return_inverse=True)
        lo2 = (pd.DatetimeIndex(u) + pd.DateOffset(years=-2)).to_numpy()[inv]
        in2 = known & (ev > lo2)
        complaint = m["inspection_type"].astype(str).to_numpy() == "complaint"
        result = m["result"].astype(str).to_numpy()
        out["complaint_inspections_2y_n"] = _count(m, in2 & complaint, n)
        out["complaint_substantiated_2y_n"] = _count(   # "!= pass" also read a missing result as one
            m, in2 & complaint & np.isin(result, ("minor_issues", "fail")), n
        )
        out["inspection_routine_fail_2y_n"] = _count(m, in2 & ~complaint & (result == "fail"), n)
        sec = m["sector"].astype(str).to_numpy()
        for s in sectors():
            out[f"sector_{s}_records_n"] += _count(m, known & (sec == s), n)
    li = tables.get("lists")
    need = ["list_type", "start_date", "end_date", "reported_on"]
    if li is None or not set(need) <= set(li.columns):
        for s in SECTOR_BLACK_LISTS:
            out[f"on_{s}_black_list"][:] = np.nan
    else:
        m = _pairs(q, li, need + (["reason"] if "reason" in li.columns else []))
        if m is not None and len(m):
            t = m["t"].to_numpy()
            end = _dates(m["end_date"]).to_numpy()
            live = ((_dates(m["start_date"]).to_numpy() <= t) & (_dates(m["reported_on"]).to_numpy() <= t)
                    & ~(end <= t) & (m["list_type"].astype(str).to_numpy() == "black"))
            reason = (m["reason"].astype("string").fillna("").str.strip().to_numpy(dtype=object)
                      if "reason" in m.columns else np.full(len(m), "", dtype=object))
            # a black-list entry that names no list is every sector's (the cap read any black list before): said
            unnamed = live & (reason == "")
            if unnamed.any():
                _say_once(logging.WARNING, "%d black-list entr(y/ies) without a reason naming the list: they cap every "
                          "sector's grade (the sector lists are told apart by lists.reason)", int(unnamed.sum()))
            named = {x for names in SECTOR_BLACK_LISTS.values() for x in names}
            other = live & (reason != "") & ~np.isin(reason, list(named))
            if other.any():
                _say_once(logging.INFO, "black lists that cap no sector grade (no sector evaluation of theirs): %s",
                          ", ".join(sorted(set(reason[other]))))
            for s, names in SECTOR_BLACK_LISTS.items():
                out[f"on_{s}_black_list"] = np.minimum(_count(m, live & (np.isin(reason, names) | unnamed), n), 1.0)
    for name, event in RECORD_EVENTS.items():  # an A resting on no record at all is told apart (think tank)
        df = tables.get(name)
        if df is None or not {event, "reported_on"} <= set(df.columns):
            continue
        m = _pairs(q, df, [event, "reported_on"])
        if m is not None and len(m):
            t = m["t"].to_numpy()
            out["records_known_n"] += _count(m, (_dates(m[event]).to_numpy() <= t)
                                             & (_dates(m["reported_on"]).to_numpy() <= t), n)
    pen = tables.get("penalties")
    m = _pairs(q, pen, ["decision_date", "reported_on", "category"])
    if m is not None and len(m):
        t = m["t"].to_numpy()
        known = (_dates(m["decision_date"]).to_numpy() <= t) & (_dates(m["reported_on"]).to_numpy() <= t)
        cat = m["category"].astype(str).to_numpy()
        for s in sectors():
            out[f"sector_{s}_records_n"] += _count(m, known & (cat == s), n)
    return pd.DataFrame(out, index=keys.index)


#: Columns of the register the evaluation reads besides those of the features: without them every firm read as
#: existing (0 deregistered instead of 1,262 on the demo district, the excellent-or-good share 92.15 % -> 91.65 %).
REGISTER_COLUMNS = ("closed_on", "status")


def _require_register(ent: pd.DataFrame) -> None:
    """InputError naming the first column of the register the evaluation needs and ``ent`` lacks."""
    from creditmodel.features.pit import _check_columns

    _check_columns(ent, "enterprises")
    for c in REGISTER_COLUMNS:
        if c not in ent.columns:
            raise InputError(f"table enterprises has no column {c!r}: the evaluation reads whether and how an "
                             "enterprise was closed from closed_on and status (leave a cell empty for a firm "
                             "still registered)", file="enterprises", column=c)


def registration(tables: dict[str, pd.DataFrame], keys: pd.DataFrame) -> pd.DataFrame:
    """Name and registration status at the as-of date: ``active`` unless ``closed_on <= as_of``, then the
    register's status (``deregistered`` or ``revoked``; a closing date with status ``active`` counts as
    ``deregistered``). ``deregistered`` is True for both closed statuses. The register's ``closed_on`` and
    ``status`` columns are required (InputError naming the column); a code not in it reads ``unknown``
    (:func:`build_inputs` refuses such codes)."""
    ent = tables.get("enterprises")
    n = len(keys)
    if ent is not None:
        _require_register(ent)
    if ent is None:
        return pd.DataFrame(
            {
                "name": pd.Series([None] * n, dtype="str"),
                "registration_status": "unknown",
                "closed_on": pd.NaT,
                "deregistered": False,
            },
            index=keys.index,
        )
    e = ent.drop_duplicates("uscc", keep="first").set_index("uscc")
    codes = keys["uscc"].astype(str)
    pos = e.index.get_indexer(codes)
    has = pos >= 0
    take = np.maximum(pos, 0)

    def col(name: str, fill: Any) -> np.ndarray:
        if name not in e.columns or not len(e):
            return np.full(n, fill, dtype=object)
        v = e[name].to_numpy(dtype=object)[take]
        v[~has] = fill
        return v

    closed = _dates(pd.Series(col("closed_on", None))).to_numpy()
    t = _dates(keys["as_of_date"]).to_numpy()
    gone = ~pd.isna(closed) & (closed <= t)
    st = pd.Series(col("status", None)).astype("str").to_numpy(dtype=object)
    status = np.where(gone, np.where(st == "revoked", "revoked", "deregistered"), "active")
    status = np.where(has, status, "unknown")
    return pd.DataFrame(
        {
            "name": pd.Series(col("name", None), dtype="str").to_numpy(),
            "registration_status": status,
            "closed_on": closed,
            "deregistered": gone,
        },
        index=keys.index,
    )


def expire_listings(tables: dict[str, pd.DataFrame], lists: Mapping[str, Any] | None) -> dict[str, pd.DataFrame]:
    """``tables`` with each list entry's ``end_date`` at most ``start_date`` + its type's ``max_months``
    (``repair.lists`` of the evaluation config: a serious-dishonesty listing ends by itself after 3 years, DOMAIN
    A4). An entry without an end date counted for ever: a listing of 2023-05-03 still capped a grade at D in
    2027, while its explanation said it had left its window (a think-tank finding)."""
    li = tables.get("lists")
    if li is None or not len(li) or not lists or not {"list_type", "start_date", "end_date"} <= set(li.columns):
        return tables
    start, end = _dates(li["start_date"]), _dates(li["end_date"])
    cap = pd.Series(pd.NaT, index=li.index, dtype="datetime64[us]")
    lt = li["list_type"].astype(str)
    for typ, rule in lists.items():
        months = getattr(rule, "max_months", None)
        m = (lt == typ).to_numpy()
        if months is not None and m.any():
            cap[m] = (start[m] + pd.DateOffset(months=int(months))).to_numpy()
    shorter = cap.notna() & (end.isna() | (cap < end))
    if not shorter.any():
        return tables
    out = dict(tables)
    li = li.copy()
    li["end_date"] = end.where(~shorter, cap)
    out["lists"] = li
    return out


def extend_unpaid_publicity(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``tables`` with a penalty's ``publicity_max_end`` moved to the day its obligations were fulfilled
    (``fine_paid_on``, 履行完毕日期) when that is later, and removed (publicity goes on) while they are not: "at the
    maximum period, publication stops automatically if obligations are fulfilled" (DOMAIN A4, [S-2]). An unpaid
    fine's penalty dropped out of the grade on its maximum end date (67 -> 75 points overnight; 497 such penalties
    at the demo's snapshot: a think-tank finding). A penalty without a fine is read the same way: its obligations
    (a suspension, a correction) are fulfilled on the date given, and a warning with nothing to fulfil carries its
    decision date there; without a date it is unfulfilled, as the features' ``penalty_active_unpaid_n`` and the
    repair what-if already read it (they disagreed with this function, which let it end at its maximum: helper-108)."""
    pen = tables.get("penalties")
    if pen is None or not len(pen) or not {"fine_paid_on", "publicity_max_end"} <= set(pen.columns):
        return tables
    paid, mx = _dates(pen["fine_paid_on"]), _dates(pen["publicity_max_end"])
    later = (paid.isna() | (paid > mx)) & mx.notna()
    if not later.any():
        return tables
    pen = pen.copy()
    pen["publicity_max_end"] = mx.where(~later, paid)
    return {**tables, "penalties": pen}


def evaluation_tables(tables: dict[str, pd.DataFrame], repair: Any = None) -> dict[str, pd.DataFrame]:
    """The tables as the evaluation reads them under ``repair`` (the config's :class:`RepairRules`): list entries
    end at their maximum period (:func:`expire_listings`), unfulfilled obligations keep a penalty published
    (:func:`extend_unpaid_publicity`). ``repair=None``: the tables as they are (the PD models' view; the feature
    builder keeps an unfulfilled penalty published by itself, so only the list expiry differs)."""
    if repair is None:
        return tables
    return extend_unpaid_publicity(expire_listings(tables, getattr(repair, "lists", None)))


def _check_graded(ent: pd.DataFrame, codes: pd.Series, days: np.ndarray) -> None:
    """Refuse queried codes the evaluation cannot grade, naming them: a code not in the register (it was graded A
    with status ``unknown`` and counted in the plan's shares) and an enterprise registered after its as-of date (it
    got a row, ``active`` and A, where the docstring promised none and :func:`~creditmodel.evaluation.explain`
    refuses it). ``days``: the as-of dates in days since 1970-01-01."""
    e = ent.drop_duplicates("uscc", keep="first").set_index("uscc")
    pos = e.index.get_indexer(codes.astype(str))
    unknown = pos < 0
    if unknown.any():
        bad = list(dict.fromkeys(codes.astype(str).to_numpy()[unknown]))
        raise InputError(f"{len(bad):,} code(s) not in the register (table enterprises): "
                         f"{', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}; only registered enterprises "
                         "are graded (explain refuses them too)", parameter="uscc")
    born = _dates(e["registered_on"]).to_numpy()[pos]
    t = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[us]")
    later = ~pd.isna(born) & (born > t)
    if later.any():
        i = np.flatnonzero(later)
        shown = ", ".join(f"{codes.iloc[k]} (registered {pd.Timestamp(born[k]).date()}, as of "
                          f"{pd.Timestamp(t[k]).date()})" for k in i[:5])
        raise InputError(f"{len(i):,} enterprise(s) registered after the as-of date: {shown}"
                         f"{' ...' if len(i) > 5 else ''}; they did not exist then and get no grade (explain refuses "
                         "them too; evaluate without uscc leaves them out)", parameter="uscc")


def build_inputs(tables: dict[str, pd.DataFrame], as_of: Any, uscc: Any = None, repair: Any = None
                 ) -> pd.DataFrame:
    """Features for the evaluation, one row per enterprise and as-of date.

    ``as_of`` and ``uscc`` as in :func:`creditmodel.features.build_features` (one date: every enterprise
    registered by then, deregistered ones included). ``repair`` (``config.repair``) applies the publicity rules of
    :func:`evaluation_tables`. Returns ``uscc``, ``as_of_date``, the :data:`STATUS_COLUMNS`, the catalogue
    features and the :data:`EXTRA_FEATURES`.

    The tables are read by :func:`creditmodel.features.pit.prepare_tables` (codes normalised, dates read strictly,
    category names mapped to their keys). The register (``enterprises``, with ``closed_on`` and ``status``) is
    required. Codes given in ``uscc`` must be registered enterprises, registered by their as-of date: any other
    raises :class:`InputError` naming them (they were graded A, as ``unknown`` or ``active``).
    """
    tables = PreparedTables(evaluation_tables(prepare_tables(tables), repair))
    if tables.get("enterprises") is None:
        raise InputError("the evaluation needs the register (table enterprises): it grades registered enterprises, "
                         "from their registration and closing dates", file="enterprises")
    _require_register(tables["enterprises"])
    if uscc is not None or isinstance(as_of, pd.Series):   # checked before any feature is computed
        codes, days = query_keys(tables, as_of, uscc)
        _check_graded(tables["enterprises"], pd.Series(codes.to_pandas(), dtype="str"), days)
    feats = build_features(tables, as_of, uscc=uscc)
    keys = feats[["uscc", "as_of_date"]]
    reg = registration(tables, keys)
    extra = extra_features(tables, keys)
    return pd.concat([keys, reg, feats.drop(columns=["uscc", "as_of_date"]), extra], axis=1)
