"""Which records weigh on an enterprise's grade, when each leaves its window, and which credit repair
(信用修复) would lift the grade, from when (DOMAIN.md A4).

Records that weigh at the as-of date ``t`` (known at ``t``: event date and ``reported_on`` <= ``t``):

=====================  =========================================================  ==============================
record                 weighs while                                               repair (earliest effective date)
=====================  =========================================================  ==============================
penalty                decided, not repaired, before ``publicity_max_end`` (or     apply after ``publicity_min_end``
                       later while its obligations are not fulfilled)             with obligations fulfilled (fine
                                                                                  paid; unfulfilled: fulfilled at
                                                                                  ``t``), plus ``decision_days``
serious-dishonesty /   listed, not removed (ends by itself after                  apply ``min_months`` after listing,
black / abnormal list  ``repair.lists.<type>.max_months`` when configured)         plus ``decision_days``
enforcement case       filed and not closed; dishonest-debtor listing until       perform the judgement at ``t``
                       removal
arrears                determined, not cleared                                    clear at ``t``
overdue inspection     rectification deadline passed, not rectified               rectify at ``t``
failed inspection,     inside the 2-year (3-year) window of the features          none: leaves the window
complaint, broken
commitment
tax credit grade C/D   until the next annual grade                                none
=====================  =========================================================  ==============================

A repair that would take effect only on or after the record's natural end is reported but not simulated.

The points of a record are *marginal*: the public credit score with the record minus the score without it
at ``t`` (caps and dimension limits included, so the points of several records need not add up). The what-if
re-evaluates the enterprise at the earliest repair date ``d`` twice, without and with the record treated as
repaired on ``d`` (penalty ``repaired_on = d``, list ``end_date = d``, case closed and debtor removed, arrears
cleared, inspection rectified), so that records expiring by themselves before ``d`` are not credited to the
repair. All scenarios of all enterprises are evaluated in one :func:`build_inputs` call: each scenario is a copy
of the enterprise's records under its own code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from creditmodel.errors import InputError
from creditmodel.evaluation.config import EvaluationConfig, load_config
from creditmodel.evaluation.engine import score_inputs
from creditmodel.evaluation.inputs import build_inputs, evaluation_tables

log = logging.getLogger(__name__)

#: How the note of a penalty that fulfilling its obligations ends (rather than a repair) begins, with a fine and
#: without one; the explanation reads it.
PAY_THE_FINE = "pay the fine"
FULFIL_OBLIGATIONS = "fulfil the obligations"
#: How the note of a penalty whose repair needs its obligations fulfilled first begins; the explanation reads it.
FULFIL_FIRST = "fulfil the penalty obligations"
# an open case whose dishonest-debtor listing was already removed: performing it lifts the open case, not the
# past listing (dishonest_debtor_past weighs without a time window); the explanation repeats this part of the note
PAST_LISTING_STAYS = "its dishonest-debtor listing removed on"

#: Tables the evaluation reads (the scenario copies include each of them).
EVAL_TABLES = (
    "enterprises",
    "penalties",
    "enforcement",
    "tax_grades",
    "arrears",
    "inspections",
    "lists",
    "commitments",
    "invoices_monthly",
    "annual_reports",
)
_DATE_COLS = {
    "penalties": (
        "decision_date",
        "publicity_min_end",
        "publicity_max_end",
        "fine_paid_on",
        "repaired_on",
        "reported_on",
    ),
    "enforcement": ("filed_on", "dishonest_listed_on", "dishonest_removed_on", "closed_on", "reported_on"),
    "lists": ("start_date", "end_date", "reported_on"),
    "arrears": ("determined_on", "cleared_on", "reported_on"),
    "inspections": ("inspected_on", "rectification_due", "rectified_on", "reported_on"),
    "commitments": ("made_on", "due_on", "assessed_on", "reported_on"),
    "tax_grades": ("published_on", "reported_on"),
}
RECORD_COLUMNS = (
    "uscc",
    "as_of_date",
    "table",
    "record_id",
    "kind",
    "sector",
    "event_date",
    "points",
    "sector_points",
    "window_min_end",
    "window_end",
    "obligations_fulfilled",
    "repairable",
    "earliest_repair_date",
    "note",
)
WHATIF_COLUMNS = (
    "uscc",
    "as_of_date",
    "table",
    "record_id",
    "kind",
    "earliest_repair_date",
    "score_now",
    "grade_now",
    "score_without_repair",
    "grade_without_repair",
    "score_with_repair",
    "grade_with_repair",
    "lift_points",
    "lifts_grade",
    "note",
)


def _ts(x: Any) -> pd.Timestamp:
    """The as-of date as :func:`evaluate_dir <creditmodel.evaluation.engine.evaluate_dir>` reads it (YYYY-MM-DD
    text or a date, in range), at midnight: '01/02/2025' was read as 2 January here and refused there."""
    from creditmodel.evaluation.engine import parse_as_of

    return parse_as_of(x).normalize()


def firm_tables(tables: dict[str, pd.DataFrame], codes: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The rows of ``codes`` in every evaluated table, dates as ``datetime64``, 0..n-1 index."""
    codes = pd.Index(list(codes)).astype(str)
    out = {}
    for name in EVAL_TABLES:
        df = tables.get(name)
        if df is None:
            continue
        sub = df[df["uscc"].astype(str).isin(codes)].reset_index(drop=True).copy()
        for c in _DATE_COLS.get(name, ()):
            if c in sub.columns:
                sub[c] = pd.to_datetime(sub[c], errors="coerce").astype("datetime64[ns]")
        out[name] = sub
    return out


#: per table: the date of the event itself (a row dated after ``t`` is unknown at ``t``) and the dates of later
#: changes (cleared, repaired, rectified, removed, closed, assessed: unknown at ``t`` when after it); scheduled
#: dates (a publicity end, a due date, a list's end date) are known when the record is
_EVENT_DATE = {"penalties": "decision_date", "enforcement": "filed_on",
               "tax_grades": "published_on", "arrears": "started_on", "inspections": "inspected_on",
               "lists": "start_date", "commitments": "made_on", "repairs": "applied_on",
               "invoices_monthly": "month", "annual_reports": "filed_on"}
_CHANGE_DATES = {"enterprises": ("closed_on",), "penalties": ("fine_paid_on", "repaired_on"),
                 "enforcement": ("dishonest_listed_on", "dishonest_removed_on", "closed_on"),
                 "arrears": ("determined_on", "cleared_on"), "inspections": ("rectified_on",),
                 "commitments": ("assessed_on",), "repairs": ("decided_on",)}


def known_at(tables: dict[str, pd.DataFrame], t: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The tables as known at ``t``: rows whose event or report comes after ``t`` left out, and later changes dated
    after ``t`` (a clearing, a repair decision, a removal...) blanked. The repair what-if evaluates an enterprise at
    later dates (its records' earliest repair dates) from what was known at ``t``: it read the records reported
    after ``t`` (a reviewer's run at 2019-06-30 scored a firm -48 in 2020 from penalties and arrears of July
    2019 and showed '+74 points, grade D -> D' beside a score of 12)."""
    out = {}
    for name, df in tables.items():
        keep = np.ones(len(df), dtype=bool)
        for c in (_EVENT_DATE.get(name), "reported_on") if name != "enterprises" else ():   # the firm stays
            if c and c in df.columns:
                keep &= ~(pd.to_datetime(df[c], errors="coerce") > t).to_numpy(dtype=bool)
        sub = df[keep].reset_index(drop=True)
        later = [c for c in _CHANGE_DATES.get(name, ()) if c in sub.columns]
        if later:
            sub = sub.copy()
            for c in later:
                d = pd.to_datetime(sub[c], errors="coerce")
                sub[c] = d.where(~(d > t))
        out[name] = sub
    return out


def _window_end(event: pd.Series, years: int) -> pd.Series:
    """The first day an event of ``event`` no longer counts in a ``years``-year window (``t - years < event``, as
    the features count it): ``event + years``, one day later for 29 February (2022-02-28 less two years is
    2020-02-28, so an inspection of 2020-02-29 still counts on 2022-02-28: the text said it left that day)."""
    ev = pd.to_datetime(event)
    end = ev + pd.DateOffset(years=years)
    return end.where(~((end - pd.DateOffset(years=years)) < ev), end + pd.Timedelta(days=1))


def _d(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col] if col in df.columns else pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")


def _months(t: pd.Series | pd.Timestamp, k: int) -> Any:
    return t + pd.DateOffset(months=k)


def adverse_records(sub: dict[str, pd.DataFrame], config: EvaluationConfig, as_of: Any) -> pd.DataFrame:
    """Records weighing at ``as_of`` for the enterprises in ``sub`` (from :func:`firm_tables`), with their
    windows and earliest repair date (no points yet; :func:`records_weighing` adds them)."""
    t = _ts(as_of)
    dd = pd.Timedelta(days=config.repair.decision_days)
    written = sub   # the penalties' maximum ends as written (evaluation_tables removes an unfulfilled one's)
    sub = evaluation_tables(sub, config.repair)  # listings end at their maximum period; unfulfilled penalties stay
    rows: list[pd.DataFrame] = []

    def known(df: pd.DataFrame, event: str) -> pd.Series:
        return (_d(df, event) <= t) & (_d(df, "reported_on") <= t)

    def frame(df, table, kind, sector, event, mn, mx, fulfilled, repairable, earliest, note) -> pd.DataFrame:
        n = len(df)

        def arr(v: Any) -> Any:  # positional values (a Series' own index must not realign)
            return v.to_numpy() if isinstance(v, (pd.Series, pd.Index)) else v

        return pd.DataFrame(
            {
                "uscc": df["uscc"].astype(str).to_numpy(),
                "table": table,
                "record_id": df["record_id"].astype(str).to_numpy(),
                "kind": arr(kind),
                "sector": arr(sector),
                "event_date": arr(event),
                "window_min_end": arr(mn),
                "window_end": arr(mx),
                "obligations_fulfilled": arr(fulfilled),
                "repairable": arr(repairable),
                "earliest_repair_date": arr(earliest),
                "note": arr(note),
            },
            index=range(n),
        )

    secs = set(config.sectors)
    p = sub.get("penalties")
    if p is not None and len(p):
        rep, mx = _d(p, "repaired_on"), _d(p, "publicity_max_end")
        act = known(p, "decision_date") & ~(rep <= t) & ~(t >= mx)   # no maximum end: published on
        a = p[act]
        paid = _d(a, "fine_paid_on") <= t
        apply_from = pd.concat(
            [_d(a, "publicity_min_end"), a["fine_paid_on"].where(paid, t), pd.Series(t, index=a.index)],
            axis=1,
        ).max(axis=1)
        eff = apply_from + dd
        ok = ~(eff >= mx[act])   # no maximum end: a repair always comes first
        # unfulfilled obligations: publication stops by itself at the maximum period once they are (DOMAIN A4), so
        # fulfilling them on the as-of date ends the penalty at max(maximum end as written, as-of date) when that comes
        # before a repair could take effect (the what-if told firms past their maximum end to apply for repair and
        # wait 15 days; a reviewer counted 86 such penalties)
        max_written = _d(written["penalties"], "publicity_max_end").reindex(a.index)
        extended = max_written.notna() & ~(mx[act] == max_written)   # extend_unpaid_publicity moved it: unfulfilled
        ends_on_payment = pd.concat([max_written, pd.Series(t, index=a.index)], axis=1).max(axis=1)
        by_payment = extended & ~paid & (ends_on_payment <= eff)
        eff = eff.where(~by_payment, ends_on_payment)
        ok = ok | by_payment
        # a penalty without a fine has obligations too (a suspension, a correction): fulfilled on fine_paid_on
        fined = pd.to_numeric(a.get("amount", pd.Series(np.nan, index=a.index)), errors="coerce").gt(0).to_numpy()
        on_fulfilment = [
            (PAY_THE_FINE if f else FULFIL_OBLIGATIONS) + ": "
            + (f"the maximum publicity period has passed, so publicity ends on {'payment' if f else 'fulfilment'} "
               "(no repair application)" if past else
               "publicity then ends by itself at its maximum period, before a repair could take effect")
            for f, past in zip(fined, (max_written <= t).to_numpy())]
        note = np.where(
            by_payment,
            on_fulfilment,
            np.where(
                ~ok,
                "publicity ends by itself before a repair could take effect",
                np.where(
                    paid,
                    "apply after the minimum publicity period",
                    np.where(fined, f"{FULFIL_FIRST} (pay the fine) first", f"{FULFIL_FIRST} first"),
                ),
            ),
        )
        cat = a["category"].astype(str)
        rows.append(
            frame(
                a,
                "penalties",
                "penalty_" + a["severity"].astype(str),
                cat.where(cat.isin(secs), None).to_numpy(),
                a["decision_date"].to_numpy(),
                a["publicity_min_end"].to_numpy(),
                mx[act].to_numpy(),
                paid.to_numpy(),
                ok.to_numpy(),
                eff.where(ok).to_numpy(),
                note,
            )
        )
    li = sub.get("lists")
    if li is not None and len(li):
        lt = li["list_type"].astype(str)
        act = (
            known(li, "start_date")
            & ~(_d(li, "end_date") <= t)
            & lt.isin(["serious_dishonesty", "black", "abnormal_operation"])
        )
        a, lt = li[act], lt[act]
        mn = pd.Series(pd.NaT, index=a.index, dtype="datetime64[ns]")
        mx = mn.copy()
        for typ, rule in config.repair.lists.items():
            m = lt == typ
            mn[m] = _months(a.loc[m, "start_date"], rule.min_months)
            if rule.max_months is not None:
                mx[m] = _months(a.loc[m, "start_date"], rule.max_months)
        # a listing's own recorded end (a set period, after the as-of date) ends it first when earlier: "removal can
        # take effect from 2026-01-15" was said of a black-list entry ending on 2026-01-10 (a reviewer's finding)
        mx = pd.concat([mx, pd.to_datetime(_d(a, "end_date"))], axis=1).min(axis=1)
        eff = pd.concat([mn, pd.Series(t, index=a.index)], axis=1).max(axis=1) + dd
        ok = mn.notna() & ~(eff >= mx)
        note = np.where(
            mn.isna(),
            "no repair rule for this list (repair.lists)",
            np.where(
                ~ok,
                "the listing ends by itself before a repair could take effect",
                "apply for removal after the minimum listing period",
            ),
        )
        rows.append(
            frame(
                a,
                "lists",
                "list_" + lt,
                None,
                a["start_date"].to_numpy(),
                mn.to_numpy(),
                mx.to_numpy(),
                np.zeros(len(a), dtype=bool),
                ok.to_numpy(),
                eff.where(ok).to_numpy(),
                note,
            )
        )
    e = sub.get("enforcement")
    if e is not None and len(e):
        lst, rem = _d(e, "dishonest_listed_on"), _d(e, "dishonest_removed_on")
        open_ = known(e, "filed_on") & ~(_d(e, "closed_on") <= t)
        dishonest = known(e, "filed_on") & (lst <= t) & ~(rem <= t)
        weighs = open_ | dishonest
        a = e[weighs]
        kind = np.where(dishonest[weighs], "dishonest_debtor", "enforcement_open")
        removed_before = ((lst <= t) & (rem <= t))[weighs]   # an open case whose listing ended: that part stays
        closed = _d(e, "closed_on")[weighs]
        closed_listed = (dishonest & (_d(e, "closed_on") <= t))[weighs]
        # a case closed with the listing still open: "perform the judgement" was advice to do what may be done
        # (a reviewer's finding); a performed judgement is taken off the list, a case closed without performance
        # (终结本次执行) keeps it, so the court's removal is what is missing
        note = [f"the case closed on {c:%Y-%m-%d} but the listing was not removed: a performed judgement is taken "
                "off the list (ask the court to remove it, or correct the record); a case closed without "
                "performance (终结本次执行) keeps it until the judgement is performed" if cl else
                f"perform the judgement (case closed); {PAST_LISTING_STAYS} {d:%Y-%m-%d} keeps weighing "
                "(dishonest_debtor_past, no time window)" if gone else
                "perform the judgement (case closed, listing removed)"
                for gone, d, cl, c in zip(removed_before, rem[weighs], closed_listed, closed)]
        rows.append(
            frame(
                a,
                "enforcement",
                kind,
                None,
                a["filed_on"].to_numpy(),
                pd.NaT,
                pd.NaT,
                np.zeros(len(a), dtype=bool),
                True,
                t,
                note,
            )
        )
        # a removed listing still weighs (dishonest_debtor_past_n, no time window in the indicator file): the
        # explanation showed its points with no record behind them (a reviewer's finding, 19 firms)
        past = known(e, "filed_on") & (lst <= t) & (rem <= t) & ~(open_ | dishonest)
        if past.any():
            a = e[past]
            rows.append(
                frame(
                    a,
                    "enforcement",
                    "dishonest_debtor_past",
                    None,
                    a["filed_on"].to_numpy(),
                    pd.NaT,
                    pd.NaT,
                    np.ones(len(a), dtype=bool),
                    False,
                    pd.NaT,
                    [f"a dishonest-debtor listing removed on {d:%Y-%m-%d}: past listings weigh without a time "
                     "window (dishonest_debtor_past in the indicator file); no step lifts it" for d in rem[past]],
                )
            )
    ar = sub.get("arrears")
    if ar is not None and len(ar):
        a = ar[known(ar, "determined_on") & ~(_d(ar, "cleared_on") <= t)]
        rows.append(
            frame(
                a,
                "arrears",
                "arrears_" + a["kind"].astype(str),
                None,
                a["determined_on"].to_numpy(),
                pd.NaT,
                pd.NaT,
                np.zeros(len(a), dtype=bool),
                True,
                t,
                "clear the arrears",
            )
        )
    ins = sub.get("inspections")
    if ins is not None and len(ins):
        k = known(ins, "inspected_on")
        lo2 = t - pd.DateOffset(years=2)
        in2 = k & (ins["inspected_on"] > lo2)
        due = _d(ins, "rectification_due")
        overdue = k & due.notna() & (due < t) & ~(_d(ins, "rectified_on") <= t)
        res = ins["result"].astype(str)
        complaint = ins["inspection_type"].astype(str) == "complaint"   # as the evaluation's inputs count them
        comp = in2 & complaint & res.isin(["minor_issues", "fail"])
        weigh = overdue | (in2 & ~complaint & (res == "fail")) | comp
        a = ins[weigh]
        ov = overdue[weigh].to_numpy()
        kind = np.where(ov, "inspection_overdue",
                        np.where(comp[weigh].to_numpy(), "complaint_substantiated", "inspection_failed"))
        end = _window_end(a["inspected_on"], 2).where(~ov).to_numpy()  # overdue: until rectified
        rows.append(
            frame(
                a,
                "inspections",
                kind,
                a["sector"].astype(str).to_numpy(),
                a["inspected_on"].to_numpy(),
                pd.NaT,
                end,
                np.zeros(len(a), dtype=bool),
                ov,
                np.where(ov, t, pd.NaT),
                np.where(
                    ov,
                    "rectify the findings (the 2-year failure count stays)",
                    "no repair: leaves the 2-year window",
                ),
            )
        )
    cm = sub.get("commitments")
    if cm is not None and len(cm):
        kn = _d(cm, "assessed_on").fillna(_d(cm, "due_on"))
        lo3 = t - pd.DateOffset(years=3)
        b = known(cm, "made_on") & (cm["made_on"] > lo3) & (kn <= t) & (cm["status"].astype(str) == "broken")
        a = cm[b]
        rows.append(
            frame(
                a,
                "commitments",
                "commitment_broken",
                None,
                a["made_on"].to_numpy(),
                pd.NaT,
                _window_end(a["made_on"], 3).to_numpy(),
                np.zeros(len(a), dtype=bool),
                False,
                pd.NaT,
                "no repair: leaves the 3-year window",
            )
        )
    tg = sub.get("tax_grades")
    if tg is not None and len(tg):
        g = tg[known(tg, "published_on")].sort_values(["uscc", "published_on", "year"], kind="stable")
        last = g.groupby("uscc", sort=False).tail(1)
        last = last[last["grade"].astype(str).isin(["C", "D"])]
        rows.append(
            frame(
                last,
                "tax_grades",
                "tax_grade_" + last["grade"].astype(str),
                None,
                last["published_on"].to_numpy(),
                pd.NaT,
                pd.NaT,
                np.zeros(len(last), dtype=bool),
                False,
                pd.NaT,
                "no repair: re-graded with the next annual tax credit evaluation",
            )
        )
    rows = [r for r in rows if len(r)]
    if not rows:
        empty = pd.DataFrame(index=range(0))
        rows = [
            frame(
                empty.assign(uscc=pd.Series(dtype="str"), record_id=pd.Series(dtype="str")),
                "",
                "",
                None,
                pd.NaT,
                pd.NaT,
                pd.NaT,
                False,
                False,
                pd.NaT,
                "",
            )
        ]
    out = pd.concat(rows, ignore_index=True)
    for c in ("event_date", "window_min_end", "window_end", "earliest_repair_date"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    out["repairable"] = out["repairable"].astype(bool)
    out["obligations_fulfilled"] = out["obligations_fulfilled"].astype(bool)
    return out.sort_values(["uscc", "table", "event_date", "record_id"], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- scenarios
def _apply_repair(df: pd.DataFrame, table: str, rows: np.ndarray, date: pd.Series) -> None:
    """Treat ``rows`` of a scenario copy of ``table`` as repaired / fulfilled on ``date`` (in place)."""
    if not rows.any():
        return
    d = date[rows]
    if table == "penalties":
        df.loc[rows, "repaired_on"] = d
        paid = df.loc[rows, "fine_paid_on"]
        df.loc[rows, "fine_paid_on"] = paid.where(paid.notna() & (paid <= d), d)
    elif table == "lists":
        df.loc[rows, "end_date"] = d
    elif table == "enforcement":
        closed = df.loc[rows, "closed_on"]
        df.loc[rows, "closed_on"] = closed.where(closed.notna() & (closed <= d), d)
        listed = df.loc[rows, "dishonest_listed_on"].notna()
        df.loc[rows, "dishonest_removed_on"] = d.where(listed, pd.NaT)
    elif table == "arrears":
        df.loc[rows, "cleared_on"] = d
    elif table == "inspections":
        df.loc[rows, "rectified_on"] = d
    else:
        raise ValueError(f"records of table {table} cannot be repaired")


def run_scenarios(
    sub: dict[str, pd.DataFrame], scenarios: pd.DataFrame, config: EvaluationConfig
) -> pd.DataFrame:
    """Evaluate scenarios: ``scenarios`` has ``scenario`` (unique code), ``uscc`` (the enterprise),
    ``as_of`` and ``changes`` (a list of ``(table, record_id, action, date)``, action ``"drop"`` or
    ``"repair"``). Returns the evaluation frame indexed by ``scenario``."""
    scen = scenarios.reset_index(drop=True)
    codes = scen["scenario"].astype(str).to_numpy()
    firm = scen["uscc"].astype(str).to_numpy()
    mods = [(i, tb, rid, act, d) for i, ch in enumerate(scen["changes"]) for tb, rid, act, d in ch]
    mod = pd.DataFrame(mods, columns=["_s", "table", "record_id", "action", "date"])
    tables: dict[str, pd.DataFrame] = {}
    for name, df in sub.items():
        idx = df.groupby(df["uscc"].astype(str), sort=False).indices if len(df) else {}
        parts = [idx.get(u, np.zeros(0, dtype=np.int64)) for u in firm]
        pos = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        s_of = np.repeat(np.arange(len(firm)), [len(p) for p in parts])
        copy = df.iloc[pos].reset_index(drop=True)
        copy["uscc"] = pd.Series(codes[s_of], dtype=df["uscc"].dtype if len(df) else "str")
        m = mod[mod["table"] == name]
        if len(m) and "record_id" in copy.columns:
            key = pd.DataFrame({"_s": s_of, "record_id": copy["record_id"].astype(str).to_numpy()})
            hit = key.merge(m[["_s", "record_id", "action", "date"]], on=["_s", "record_id"], how="left")
            act = hit["action"].to_numpy(dtype=object)
            _apply_repair(copy, name, act == "repair", pd.to_datetime(hit["date"]).astype("datetime64[ns]"))
            copy = copy[act != "drop"].reset_index(drop=True)
        tables[name] = copy
    asof = pd.Series(pd.to_datetime(scen["as_of"]).to_numpy(), index=codes)
    inputs = build_inputs(tables, asof, uscc=codes, repair=config.repair)
    res = score_inputs(inputs, config)
    res.index = pd.Index(codes, name="scenario")
    return res


def _better(a: str, b: str, labels: list[str]) -> bool:
    return labels.index(a) < labels.index(b)


def repair_whatif(
    tables: dict[str, pd.DataFrame],
    config: EvaluationConfig | str | None,
    uscc: str | Iterable[str],
    as_of: Any,
    records: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Credit repair what-if for one or several enterprises at ``as_of``.

    One row per repairable record that weighs on the grade (:data:`WHATIF_COLUMNS`), plus one row
    ``record_id = "ALL"`` per enterprise repairing all of them at their earliest dates (evaluated at the
    latest one). ``lift_points`` = score with the repair minus score without it on the same date;
    ``lifts_grade`` = the grade with the repair is better. With ``records=True`` also returns the record
    table of :func:`records_weighing` (computed in the same batch).
    """
    from creditmodel.data.uscc import normalise

    cfg = load_config(config)
    t = _ts(as_of)
    # codes as the loader reads them (lower case, full width, blanks): '91330205ma5g73xfxu' was 'not in the register'
    codes = [uscc] if isinstance(uscc, str) else list(uscc)
    codes = list(dict.fromkeys(normalise(u) or str(u) for u in codes))
    from creditmodel.features.pit import prepare_tables

    # an edited frame read as the evaluation reads it (codes, dates, category names), before one firm's rows are cut;
    # the later dates of the what-if see only what was known at t
    sub = known_at(firm_tables(prepare_tables(tables), codes), t)
    ent = sub.get("enterprises")
    if ent is None or not len(ent):
        raise InputError(
            f"no enterprise {codes[0] if len(codes) == 1 else codes[:3]} in the tables",
            file="enterprises",
            column="uscc",
        )
    missing = sorted(set(codes) - set(ent["uscc"].astype(str)))
    if missing:
        raise InputError(
            f"enterprise(s) not in the register: {missing[:5]}", file="enterprises", column="uscc"
        )
    recs = adverse_records(sub, cfg, t)
    sc: list[dict[str, Any]] = []
    for u in codes:
        sc.append({"scenario": f"{u}|now", "uscc": u, "as_of": t, "changes": []})
    for i, r in recs.iterrows():
        sc.append(
            {
                "scenario": f"{r['uscc']}|drop|{i}",
                "uscc": r["uscc"],
                "as_of": t,
                "changes": [(r["table"], r["record_id"], "drop", t)],
            }
        )
    rep = recs[recs["repairable"]]
    for u, g in rep.groupby("uscc", sort=False):
        for d in sorted(set(g["earliest_repair_date"])):
            sc.append({"scenario": f"{u}|base|{d.date()}", "uscc": u, "as_of": d, "changes": []})
        for i, r in g.iterrows():
            sc.append(
                {
                    "scenario": f"{u}|repair|{i}",
                    "uscc": u,
                    "as_of": r["earliest_repair_date"],
                    "changes": [(r["table"], r["record_id"], "repair", r["earliest_repair_date"])],
                }
            )
        dmax = g["earliest_repair_date"].max()
        sc.append({"scenario": f"{u}|base|{dmax.date()}|all", "uscc": u, "as_of": dmax, "changes": []})
        sc.append(
            {
                "scenario": f"{u}|repair|all",
                "uscc": u,
                "as_of": dmax,
                "changes": [
                    (r["table"], r["record_id"], "repair", r["earliest_repair_date"]) for _, r in g.iterrows()
                ],
            }
        )
    res = run_scenarios(sub, pd.DataFrame(sc), cfg)
    labels = cfg.grade_labels
    score, grade = res["public_credit_score"], res["public_credit_grade"]

    # marginal points of every record (public score; and the record's sector score when it has one)
    recs = recs.copy()
    recs.insert(1, "as_of_date", t)
    pts, spts = [], []
    for i, r in recs.iterrows():
        now, without = f"{r['uscc']}|now", f"{r['uscc']}|drop|{i}"
        pts.append(round(score[now] - score[without], 2))
        col = f"sector_score__{r['sector']}" if isinstance(r["sector"], str) else None
        spts.append(round(res.at[now, col] - res.at[without, col], 2) if col in res.columns else np.nan)
    recs["points"] = pts
    recs["sector_points"] = spts
    if r_tax := [i for i, r in recs.iterrows() if r["table"] == "tax_grades"]:
        # dropping the latest grade would expose the previous year's: report the indicator points instead
        for i in r_tax:
            u = recs.at[i, "uscc"]
            recs.at[i, "points"] = (
                float(res.at[f"{u}|now", "contrib__tax_grade_low"])
                if "contrib__tax_grade_low" in res.columns
                else np.nan
            )
    recs = recs[list(RECORD_COLUMNS)]

    rows = []
    for u, g in rep.groupby("uscc", sort=False):
        now = f"{u}|now"
        for i, r in g.iterrows():
            d = r["earliest_repair_date"]
            b, w = f"{u}|base|{d.date()}", f"{u}|repair|{i}"
            rows.append(
                {
                    "uscc": u,
                    "as_of_date": t,
                    "table": r["table"],
                    "record_id": r["record_id"],
                    "kind": r["kind"],
                    "earliest_repair_date": d,
                    "score_now": score[now],
                    "grade_now": grade[now],
                    "score_without_repair": score[b],
                    "grade_without_repair": grade[b],
                    "score_with_repair": score[w],
                    "grade_with_repair": grade[w],
                    "lift_points": round(score[w] - score[b], 2),
                    "lifts_grade": _better(grade[w], grade[b], labels),
                    "note": r["note"],
                }
            )
        dmax = g["earliest_repair_date"].max()
        b, w = f"{u}|base|{dmax.date()}|all", f"{u}|repair|all"
        rows.append(
            {
                "uscc": u,
                "as_of_date": t,
                "table": "*",
                "record_id": "ALL",
                "kind": f"all {len(g)} repairs",
                "earliest_repair_date": dmax,
                "score_now": score[now],
                "grade_now": grade[now],
                "score_without_repair": score[b],
                "grade_without_repair": grade[b],
                "score_with_repair": score[w],
                "grade_with_repair": grade[w],
                "lift_points": round(score[w] - score[b], 2),
                "lifts_grade": _better(grade[w], grade[b], labels),
                "note": "every repairable record repaired at its earliest date",
            }
        )
    whatif = pd.DataFrame(rows, columns=list(WHATIF_COLUMNS))
    if len(whatif):
        whatif = whatif.astype({"lifts_grade": bool})
    return (whatif, recs) if records else whatif


def records_weighing(
    tables: dict[str, pd.DataFrame],
    config: EvaluationConfig | str | None,
    uscc: str | Iterable[str],
    as_of: Any,
) -> pd.DataFrame:
    """The records that weigh on the grade of ``uscc`` at ``as_of`` (:data:`RECORD_COLUMNS`), with their
    marginal points, window ends and earliest repair dates."""
    return repair_whatif(tables, config, uscc, as_of, records=True)[1]


def repair_summary(whatif: pd.DataFrame, config: EvaluationConfig | str | None = None) -> dict[str, float]:
    """District view of a batch what-if (several enterprises): how many would improve their grade by one
    repair or by all their repairs, and how soon (days from the as-of date, median).

    **The base is the enterprises with at least one repairable record**, i.e. with a ``record_id = "ALL"`` row in
    ``whatif``, not every enterprise the what-if was asked about: an enterprise graded C or D with nothing repairable
    (only records that leave their window by themselves, a tax grade, ...) has no row and is in neither part of any
    share (on the demo district at its snapshot: 1,470 of the 1,471 existing enterprises graded C or D). Keys:

    * ``repair_enterprises``: that base, the enterprises with at least one repairable record;
    * ``repair_single_lifts_share``: of them, the share one of whose single repairs lifts the grade;
    * ``repair_all_lifts_share``: of them, the share whose grade all their repairs together lift;
    * ``repair_all_reaches_good_share``: of them, the share reaching one of the two best grades with all repairs;
    * ``repair_all_mean_lift_points``: their mean points gained by all repairs;
    * ``repair_all_median_days``: their median days from the as-of date to the last earliest repair date.

    An empty ``whatif`` gives ``{"repair_enterprises": 0.0}`` only; the share of the enterprises asked about is
    ``repair_enterprises`` over their number, which the caller knows."""
    cfg = load_config(config)
    if not len(whatif):
        return {"repair_enterprises": 0.0}
    labels = cfg.grade_labels
    allr = whatif[whatif["record_id"] == "ALL"]
    single = whatif[whatif["record_id"] != "ALL"]
    n = allr["uscc"].nunique()
    lifted_single = single[single["lifts_grade"]]
    to_good = allr["grade_with_repair"].map(labels.index) <= 1
    days = (allr["earliest_repair_date"] - allr["as_of_date"]).dt.days
    return {
        "repair_enterprises": float(n),
        "repair_single_lifts_share": float(lifted_single["uscc"].nunique() / n) if n else np.nan,
        "repair_all_lifts_share": float(allr["lifts_grade"].mean()) if n else np.nan,
        "repair_all_reaches_good_share": float(to_good.mean()) if n else np.nan,
        "repair_all_mean_lift_points": float(allr["lift_points"].mean()) if n else np.nan,
        "repair_all_median_days": float(days.median()) if n else np.nan,
    }


def repair_summary_table(summary: dict[str, float], asked: int,
                         config: EvaluationConfig | str | None = None) -> pd.DataFrame:
    """:func:`repair_summary` as a table a reader can check: each measure with its count of enterprises, what it is
    out of, and the share (a fraction), starting from the ``asked`` enterprises the what-if was run on (e.g. those
    graded C or D), so that the ones with nothing repairable are counted, not left out in silence (a think tank's
    finding: the notebook showed bare fractions of an unnamed base). Columns ``measure, enterprises, of, share,
    value`` (``value``: the mean points and the median days, which are not counts)."""
    cfg = load_config(config)
    n = int(summary.get("repair_enterprises", 0))
    if asked < n:
        raise InputError(f"asked ({asked}) is below the enterprises with a repairable record ({n})",
                         parameter="asked")
    best = " or ".join(cfg.grade_labels[:2])
    rows = [("enterprises the what-if was run on", asked, None, None),
            ("with at least one repairable record (the base of the rows below)", n, asked, None),
            ("with nothing repairable (their grade moves only as records leave their windows)", asked - n, asked,
             None)]
    for key, text in (("repair_single_lifts_share", "one of whose single repairs lifts the grade"),
                      ("repair_all_lifts_share", "whose grade all their repairs together lift"),
                      ("repair_all_reaches_good_share", f"reaching {best} with all their repairs")):
        share = summary.get(key)
        rows.append((text, int(round(float(share) * n)) if n and share is not None else 0, n, None))
    out = pd.DataFrame(rows, columns=["measure", "enterprises", "of", "value"]).astype({"value": float})
    out["share"] = [e / o if o else np.nan for e, o in zip(out["enterprises"], out["of"].fillna(0))]
    extra = pd.DataFrame({"measure": ["mean points gained by all repairs (points)",
                                      "median days from the as-of date to the earliest date all repairs can be "
                                      f"decided (application date plus the configured {cfg.repair.decision_days} "
                                      "decision days: a possibility, not an observed time)"],
                          "enterprises": [n, n], "of": [None, None],
                          "value": [summary.get("repair_all_mean_lift_points", np.nan),
                                    summary.get("repair_all_median_days", np.nan)],
                          "share": [np.nan, np.nan]})
    out = pd.concat([out, extra], ignore_index=True)
    out["of"] = out["of"].astype("Int64")
    return out[["measure", "enterprises", "of", "share", "value"]]
