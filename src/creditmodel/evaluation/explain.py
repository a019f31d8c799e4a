"""Line-by-line explanation of one enterprise's public credit grade (and its industry grades).

:func:`explain` returns an :class:`Explanation`: the evaluation row, every indicator's feature value, rule
and points (before and after its dimension's cap), the grade caps in force, the sector evaluations that
apply, the records that weigh on the grade (record ids, marginal points, window ends) and the credit repair
what-if (:mod:`creditmodel.evaluation.repair`). The shown points add up exactly:
``score = base_score + sum(points)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from creditmodel.data.schema import NULL_TOKENS
from creditmodel.errors import InputError
from creditmodel.evaluation.config import EvaluationConfig, load_config
from creditmodel.evaluation.engine import contribution_cents, feature_values, score_inputs, sector_applies
from creditmodel.evaluation.inputs import build_inputs
from creditmodel.evaluation.repair import (FULFIL_FIRST, FULFIL_OBLIGATIONS, PAST_LISTING_STAYS, PAY_THE_FINE, _ts,
                                          firm_tables, repair_whatif)

log = logging.getLogger(__name__)

#: What lifts a record, by its table: only a penalty or a listing is lifted by credit repair (信用修复); a
#: judgement is fulfilled, arrears are cleared, an inspection finding is rectified (a think-tank reader's finding:
#: every record said "repair effective from").
REMEDY = {
    "penalties": "credit repair (信用修复) can take effect from",
    "lists": "removal from the list (信用修复) can take effect from",
    "enforcement": "fulfilling the judgement lifts it from",
    "arrears": "clearing the arrears lifts it from",
    "inspections": "rectification lifts it from",
}


@dataclass
class Explanation:
    """Why an enterprise has its grade (points, rules, caps, records) and how repair would change it."""

    uscc: str
    as_of: pd.Timestamp
    config: EvaluationConfig
    row: pd.Series  # the evaluation row (engine output columns)
    contributions: pd.DataFrame  # one row per indicator of the public evaluation
    sectors: pd.DataFrame  # one row per (applicable sector, indicator)
    records: pd.DataFrame = field(default_factory=pd.DataFrame)  # repair.RECORD_COLUMNS
    whatif: pd.DataFrame = field(default_factory=pd.DataFrame)  # repair.WHATIF_COLUMNS
    # an as-of date outside the data, or windows it covers only in part (engine.as_of_warnings; also logged)
    warnings: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return float(self.row["public_credit_score"])

    @property
    def grade(self) -> str:
        return str(self.row["public_credit_grade"])

    def text(self) -> str:
        """A short explanation in English with the Chinese terms."""
        r, cfg = self.row, self.config
        lines = [
            f"{self.uscc} {r.get('name', '')} ({_known(r.get('industry'), 'industry')}, "
            f"{_known(r.get('street'), 'street')}), as of "
            f"{self.as_of.date()}: public credit grade {self.grade} ({r['grade_zh']}), score "
            f"{self.score:g} = base {cfg.base_score:g}"
            + "".join(
                f" {p:+g} {k}"
                for k, p in zip(self.contributions["indicator"], self.contributions["points"])
                if p != 0
            )
        ]
        if isinstance(r.get("grade_cap"), str):
            binds = r.get("grade_from_score") != r.get("public_credit_grade")   # the score may give it already
            lines.append(
                f"  grade from the score alone: {r['grade_from_score']}; "
                + (f"capped at {r['grade_cap']}: " if binds else f"cap at {r['grade_cap']} did not bind: ")
                + f"{r['cap_reason']}"
            )
        lines.append(
            f"  supervision class {r['supervision_class']} ({r['supervision_zh']}), inspections x"
            f"{r['inspection_multiplier']:g}: {r['supervision_reason']}"
        )
        for sk, g in self.sectors.groupby("sector", sort=False):
            s = g.iloc[0]
            lines.append(
                f"  {sk} ({s['sector_zh']}): grade {s['grade']}, score {s['score']:g}"
                + "".join(f" {p:+g} {k}" for k, p in zip(g["indicator"], g["points"]) if p != 0)
                + (f"; capped: {s['cap_reason']}" if isinstance(s.get("cap_reason"), str) and s["cap_reason"] else "")
            )
        if len(self.records):
            lines.append("  records weighing on the grade (marginal points):")
            # what each record's own step lifts: less than its marginal points where part of them does not depend on
            # that step (an inspection's substantiated complaint stays after rectification; a reviewer found "-5
            # points; rectification lifts it" beside a what-if of +2)
            lifts = (dict(zip(self.whatif["record_id"], self.whatif["lift_points"])) if len(self.whatif) else {})
            for _, x in self.records.iterrows():
                if pd.notna(x["window_end"]):
                    end = f"leaves its window on {x['window_end'].date()}"
                else:
                    end = "counts until removed or fulfilled" if x["repairable"] else "no fixed window"
                absorbed = " (absorbed by a cap: the other records reach it without this one)" if x["points"] == 0 else ""
                lines.append(
                    f"    {x['record_id']} {x['kind']} ({x['event_date'].date()}): {x['points']:+g} points{absorbed}; "
                    f"{end}; "
                    + (
                        f"{_remedy(x, lifts.get(x['record_id']))} {x['earliest_repair_date'].date()}"
                        + _partial_lift(lifts.get(x["record_id"]), x["points"])
                        + _kept_part(x)
                        if x["repairable"]
                        else x["note"]
                    )
                )
        if len(self.whatif):
            single = self.whatif[self.whatif["record_id"] != "ALL"]
            b = single.sort_values(
                ["lifts_grade", "lift_points", "earliest_repair_date"], ascending=[False, False, True]
            ).iloc[0]
            if b["lifts_grade"]:
                lines.append(
                    f"  best single step (repair, payment or rectification): {b['record_id']} ({b['kind']}) from "
                    f"{b['earliest_repair_date'].date()}: {b['lift_points']:+g} points, grade "
                    f"{b['grade_without_repair']} -> {b['grade_with_repair']}"
                )
            else:
                lines.append("  no single step (repair, payment or rectification) lifts the grade")
            a = self.whatif[self.whatif["record_id"] == "ALL"].iloc[0]
            lines.append(
                (f"  all {len(single)} steps" if len(single) != 1 else "  the one step")   # not "all 1 steps"
                + f" by {a['earliest_repair_date'].date()}: {a['lift_points']:+g} "
                f"points, grade {a['grade_without_repair']} -> {a['grade_with_repair']}"
            )
        return "\n".join(lines)


def _known(value: Any, what: str) -> str:
    """A register field as text; an empty one (read as empty from a faulty cell) says so (it printed None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or (
            str(value).strip() in NULL_TOKENS):
        return f"{what} unknown"
    return str(value)


def _remedy(x: pd.Series, lift: float | None = None) -> str:
    """What lifts a repairable record: paying an unpaid fine (fulfilling a penalty's obligations) when that ends the
    publicity before a repair could (the line said "credit repair can take effect from" beside a note saying no
    application is needed); a repair whose date assumes them fulfilled says so. A step whose what-if lowers the
    score ends the record rather than lifting it ("lifts it ... LOWERS the score")."""
    note = str(x["note"])
    if x["table"] == "penalties" and note.startswith(PAY_THE_FINE):
        return "paying the fine ends its publicity (no repair application) on"
    if x["table"] == "penalties" and note.startswith(FULFIL_OBLIGATIONS):
        return "fulfilling its obligations ends its publicity (no repair application) on"
    text = REMEDY.get(x["table"], "repair can take effect from")
    if x["table"] == "penalties" and note.startswith(FULFIL_FIRST):
        # the date assumes they are fulfilled now: the line left that condition out (helper-108)
        text = ("once its obligations are fulfilled" + (" (the fine paid)" if PAY_THE_FINE in note else "")
                + ", " + text)
    if lift is not None and lift == lift and float(lift) < 0:
        text = text.replace("lifts it from", "ends it from")
    return text


def _kept_part(x: pd.Series) -> str:
    """``; its dishonest-debtor listing removed on ... keeps weighing ...`` for an open case whose past listing its
    step does not lift (the part of its points that stays); empty otherwise."""
    note = str(x["note"])
    i = note.find(PAST_LISTING_STAYS)
    return f"; {note[i:]}" if x["table"] == "enforcement" and i >= 0 else ""


def _partial_lift(lift: float | None, points: float) -> str:
    """`` (that step lifts +2 of these -5 points; the rest stays)`` where a record's step lifts less than its marginal
    points; empty where it lifts them all or the what-if has no row for it."""
    if lift is None or lift != lift or abs(float(lift) + float(points)) < 1e-9:
        return ""
    if float(lift) < 0:   # "lifts -2 of these +0 points" (a think-tank reviewer's finding): say it lowers the score
        return (f" (that step LOWERS the score by {-float(lift):g} points in the what-if: what it ends weighs under "
                "another indicator, e.g. a removed dishonest-debtor listing as a past listing, while the records "
                "left keep their indicators at their caps)")
    return f" (that step lifts {float(lift):+g} of these {float(points):+g} points; the rest stays)"


def _contributions(inputs: pd.DataFrame, row: pd.Series, cfg: EvaluationConfig) -> pd.DataFrame:
    ind_code = str(inputs["industry"].iloc[0]) if "industry" in inputs.columns else ""
    overrides = cfg.industry_overrides.get(ind_code, {})
    rows = []
    for d in cfg.dimensions:
        for i in d.indicators:
            eff = overrides.get(i.key, i)
            x = feature_values(inputs, i.feature)
            rows.append(
                {
                    "dimension": d.key,
                    "dimension_zh": d.zh,
                    "dimension_en": d.en,
                    "indicator": i.key,
                    "zh": i.zh,
                    "en": i.en,
                    "feature": i.feature,
                    "value": float(x[0]),
                    "rule": eff.rule.describe(),
                    "weight": eff.weight,
                    "cap": eff.cap,
                    "override": ind_code if i.key in overrides else None,
                    "points_before_dimension_cap": float(contribution_cents(eff, x)[0]) / 100.0,
                    "points": float(row[i.column]),
                }
            )
    return pd.DataFrame(rows)


def _sectors(inputs: pd.DataFrame, row: pd.Series, cfg: EvaluationConfig) -> pd.DataFrame:
    rows = []
    for sk, s in cfg.sectors.items():
        if not bool(sector_applies(inputs, cfg, sk)[0]):
            continue
        for i in s.indicators:
            rows.append(
                {
                    "sector": sk,
                    "sector_zh": s.zh,
                    "sector_en": s.en,
                    "grade": row[f"sector_grade__{sk}"],
                    "score": float(row[f"sector_score__{sk}"]),
                    "cap_reason": row.get(f"sector_cap_reason__{sk}"),
                    "indicator": i.key,
                    "zh": i.zh,
                    "en": i.en,
                    "feature": i.feature,
                    "value": float(feature_values(inputs, i.feature)[0]),
                    "rule": i.rule.describe(),
                    "points": float(row[f"sector_contrib__{sk}__{i.key}"]),
                }
            )
    cols = [
        "sector",
        "sector_zh",
        "sector_en",
        "grade",
        "score",
        "cap_reason",
        "indicator",
        "zh",
        "en",
        "feature",
        "value",
        "rule",
        "points",
    ]
    return pd.DataFrame(rows, columns=cols)


def explain(
    uscc: str,
    tables: dict[str, pd.DataFrame],
    config: EvaluationConfig | str | None = None,
    as_of: Any = None,
    whatif: bool = True,
) -> Explanation:
    """Explain the grade of ``uscc`` at ``as_of`` (see the module docstring); ``whatif=False`` skips the
    records and the repair what-if.

    ``as_of`` is read as :func:`~creditmodel.evaluation.engine.evaluate_dir` reads it (``parse_as_of``) and the
    tables as :func:`~creditmodel.evaluation.engine.evaluate` reads them
    (:func:`creditmodel.features.pit.prepare_tables`). An as-of date outside the data (before the first record,
    after the snapshot date) or whose windows the data cover only in part is logged as a warning and kept in
    :attr:`Explanation.warnings` (explanations at 2012-06-30 or 2030-01-01 said nothing)."""
    if as_of is None:
        raise InputError("an as-of date is required", column="as_of")
    from creditmodel.data.uscc import normalise
    from creditmodel.evaluation.engine import as_of_notes, snapshot_of
    from creditmodel.features.pit import prepare_tables

    cfg = load_config(config)
    t = _ts(as_of)
    uscc = normalise(uscc) or str(uscc)   # as the loader reads codes: lower case, full width, blanks
    tables = prepare_tables(tables)   # as evaluate reads them: an edited frame's codes, dates and names
    sub = firm_tables(tables, [uscc])
    ent = sub.get("enterprises")
    if ent is None or not (ent["uscc"].astype(str) == uscc).any():
        raise InputError(f"no enterprise {uscc} in the register", file="enterprises", column="uscc")
    reg = pd.to_datetime(ent["registered_on"]).iloc[0]
    if pd.notna(reg) and reg > t:
        raise InputError(
            f"enterprise {uscc} was registered on {reg.date()}, after the as-of date {t.date()}",
            column="as_of",
        )
    inputs = build_inputs(sub, t, uscc=[uscc], repair=cfg.repair)
    row = score_inputs(inputs, cfg).iloc[0]
    outside, covered = as_of_notes([t], tables, snapshot_of(tables))
    for w in outside + covered:
        log.warning("%s", w)
    ex = Explanation(
        uscc=uscc,
        as_of=t,
        config=cfg,
        row=row,
        contributions=_contributions(inputs, row, cfg),
        sectors=_sectors(inputs, row, cfg),
        warnings=outside + covered,
    )
    total = cfg.base_score + ex.contributions["points"].sum()
    if not np.isclose(total, ex.score, atol=1e-6):  # the engine's own invariant
        raise RuntimeError(f"{uscc}: contributions add up to {total}, score is {ex.score}")
    if whatif:
        ex.whatif, ex.records = repair_whatif(tables, cfg, uscc, t, records=True)
    return ex


def example_enterprises(frame: pd.DataFrame, n: int = 3) -> list[str]:
    """Up to ``n`` existing enterprises worth explaining, chosen deterministically (smallest code of each
    kind): a catering firm (industry H) graded B or C with a food-safety grade, one whose grade is capped
    for dishonest judgement debts or a black list (C), and one on the serious-dishonesty list (D)."""
    live = frame[~frame["deregistered"].to_numpy(dtype=bool)].sort_values("uscc")
    picks = [
        live[
            (live["industry"] == "H")
            & live["public_credit_grade"].isin(["B", "C"])
            & live.get("sector_grade__food_safety", pd.Series(index=live.index, dtype="str")).notna()
        ],
        live[live["grade_cap"].eq("C") & live["public_credit_grade"].eq("C")],
        live[live["on_serious_dishonesty_list"].to_numpy(dtype=bool)],
        live[live["public_credit_grade"].isin(["B", "C", "D"])],
    ]
    out: list[str] = []
    for cand in picks:
        for u in cand["uscc"]:
            if u not in out:
                out.append(str(u))
                break
        if len(out) == n:
            break
    return out


def not_in_register(uscc: str, register: Any) -> InputError:
    """Why ``uscc`` has no grade, for ``creditmodel explain``: its row of the loaded ``register``
    (:class:`~creditmodel.data.io.LoadedTable`) was quarantined (the row, the rule, the reason), or the register
    file has no such code (it said "file enterprises" of no real file: a reviewer's finding)."""
    from creditmodel.data.uscc import normalise, normalise_series

    code = normalise(uscc) or uscc.strip()
    rej = register.rejected
    if len(rej) and "uscc" in rej.columns:
        hit = rej.index[(normalise_series(rej["uscc"]) == code).to_numpy(dtype=bool)]
        if len(hit):
            row = int(hit[0]) + 1
            q = register.quarantine
            why = q.loc[q["row"] == row, ["rule", "message"]]
            said = "; ".join(f"{r}: {m}" for r, m in why.itertuples(index=False)) or "see the quarantine table"
            return InputError(f"enterprise {code} is not graded: its register row was quarantined ({said})",
                              file=register.file, column="uscc", row=row)
    return InputError(f"no enterprise {code} in the register ({register.n_kept:,} enterprises)", file=register.file,
                      column="uscc")
