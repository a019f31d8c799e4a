"""The Python API reads edited frames and parameters as ``evaluate_dir`` reads a folder (a reviewer's findings).

Each test edits the tables of a generated district as a notebook user would (``df["uscc"].str.lower()``, a text
date, a Chinese name, a dropped column, an unknown code) and checks that the evaluation either reads the edit as the
loader would (same grades) or refuses it with an :class:`InputError` naming the table, column and row (or the
parameter), never a silent change of results.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from creditmodel.data.io import load_district
from creditmodel.errors import InputError
from creditmodel.evaluation import (
    evaluate,
    explain,
    grade_table,
    load_config,
    plan_measures,
    plan_targets_table,
)
from creditmodel.features import build_features, catalogue, pit

SNAP = "2025-12-31"


@pytest.fixture(scope="module")
def tables(generated):
    return load_district(generated).tables


@pytest.fixture(scope="module")
def cfg():
    return load_config(None)


@pytest.fixture(scope="module")
def base(tables, cfg):
    return evaluate(tables, cfg, SNAP)


def _same_grades(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return (len(a) == len(b) and a["uscc"].tolist() == b["uscc"].tolist()
            and np.array_equal(a["public_credit_score"].to_numpy(), b["public_credit_score"].to_numpy())
            and a["public_credit_grade"].tolist() == b["public_credit_grade"].tolist()
            and a["supervision_class"].tolist() == b["supervision_class"].tolist())


# ----------------------------------------------------------------------------- 1. codes written otherwise
def test_codes_written_otherwise_are_read_as_the_register_writes_them(tables, cfg, base):
    """``li["uscc"] = li.uscc.str.lower()`` dropped every list entry: the serious-dishonesty share read 0 and
    firms moved up a grade."""
    assert plan_measures(base, cfg)["serious_dishonesty_share"] > 0
    edited = dict(tables)
    for name in ("lists", "penalties", "enforcement"):
        df = tables[name].copy()
        df["uscc"] = df["uscc"].str.lower() + " "
        edited[name] = df
    ent = tables["enterprises"].copy()
    ent["uscc"] = " " + ent["uscc"].str.lower()
    edited["enterprises"] = ent
    f = evaluate(edited, cfg, SNAP)
    assert _same_grades(f, base)
    assert plan_measures(f, cfg)["serious_dishonesty_share"] == plan_measures(base, cfg)["serious_dishonesty_share"]
    # explain reads the same tables the same way
    u = base.loc[base["on_serious_dishonesty_list"], "uscc"].iloc[0]
    assert explain(u.lower(), edited, cfg, SNAP, whatif=False).grade == base.set_index("uscc").loc[u,
                                                                                          "public_credit_grade"]


def test_records_of_no_registered_enterprise_are_counted_in_a_warning(tables, cfg, caplog):
    pen = tables["penalties"].copy()
    pen.loc[pen.index[:3], "uscc"] = "91330205MA00000000"
    caplog.set_level(logging.WARNING)
    evaluate({**tables, "penalties": pen}, cfg, SNAP)
    said = [r.getMessage() for r in caplog.records if "matches no enterprise of the register" in r.getMessage()]
    assert len(said) == 1 and "penalties 3" in said[0] and "lists" not in said[0]


# ----------------------------------------------------------------------------- 2. the as-of date
@pytest.mark.parametrize("as_of", [20251231, "30/06/2023", "2023-06", "tomorrow"])
def test_evaluate_reads_the_as_of_date_as_evaluate_dir(tables, cfg, as_of):
    """20251231 gave 0 rows (read as 1970-01-01); 30/06/2023 was accepted with a pandas warning."""
    with pytest.raises(InputError) as e:
        evaluate(tables, cfg, as_of)
    assert e.value.parameter == "as_of"
    with pytest.raises(InputError) as e:
        evaluate(tables, cfg, ["2025-06-30", as_of])
    assert e.value.parameter == "as_of"


def test_an_as_of_date_outside_the_data_is_said_and_the_targets_read_not_measurable(tables, cfg, base, caplog):
    """At 2010-01-01 every firm keeps the base score: evaluate graded them all A and the targets read "met"."""
    caplog.set_level(logging.WARNING)
    early = evaluate(tables, cfg, "2010-01-01")
    assert any("before the first record" in r.getMessage() for r in caplog.records)
    assert early.attrs["creditmodel.outside_data"]
    targets = plan_targets_table(plan_measures(early, cfg))
    assert targets["met"].isna().all() and targets["note"].str.contains("before the first record").all()
    caplog.clear()
    late = evaluate(tables, cfg, "2030-01-01")
    assert any("after the data's snapshot date" in r.getMessage() for r in caplog.records)
    assert plan_targets_table(plan_measures(late, cfg))["met"].isna().all()
    # inside the data: no warning, the targets measurable; a selection of the frame keeps its notes
    assert base.attrs["creditmodel.outside_data"] == []
    assert plan_targets_table(plan_measures(base, cfg))["met"].isin([True, False]).all()
    part = early[early["industry"] == "C"].reset_index(drop=True)
    assert plan_targets_table(plan_measures(part, cfg))["met"].isna().all()


def test_targets_on_windows_the_data_cover_in_part_are_measured_but_said_with_care(tables, cfg, caplog):
    """A run at 2019-06-30 read "99.01 % ... met" beside warnings that the 2- and 3-year windows cover half a year."""
    from creditmodel.evaluation import plan_targets_markdown

    caplog.set_level(logging.WARNING)
    early = evaluate(tables, cfg, "2019-06-30")
    m = plan_measures(early, cfg)
    assert not m.outside_data and m.partly_covered and any("only" in w for w in m.partly_covered)
    targets = plan_targets_table(m)
    assert targets["met"].isin([True, False]).all()
    assert targets["note"].str.startswith("read with care: ").all()
    assert plan_targets_markdown(targets).count("(read with care: ") == 2


def test_the_targets_and_the_scope_read_as_notebook_02_shows_them(tables, cfg, base, monkeypatch):
    """Notebook 02 wrote these lines in its own cells; they are library functions now."""
    from creditmodel.evaluation import plan_targets_markdown, scope_label, select_scope

    text = plan_targets_markdown(plan_targets_table(plan_measures(base, cfg)))
    lines = text.splitlines()
    assert len(lines) == 2 and all(x.startswith("* **") for x in lines)
    assert "against a target of >=" in lines[0] and "against a target of <" in lines[1]
    assert all(x.endswith(("— met", "— **not met**")) for x in lines)
    early = plan_targets_markdown(plan_targets_table(plan_measures(evaluate(tables, cfg, "2010-01-01"), cfg)))
    assert early.count("**not measurable**: ") == 2 and "before the first record" in early
    as_of = pd.Timestamp(SNAP)
    assert scope_label(as_of) == f"as of {as_of.date()} · whole district"
    want = f"as of {as_of.date()} · industry C Manufacturing · district"
    assert scope_label(as_of, "c", "", "district") == want       # the section as typed: the reference's key
    assert scope_label(as_of, "制造业", "", "district") == want
    street = str(base["street"].iloc[0])
    assert len(select_scope(base, "C", street))
    label = scope_label(as_of, "C", street)
    assert label.startswith(f"as of {as_of.date()} · industry C Manufacturing · street {street}")
    import creditmodel.data.quality_plots as QP

    monkeypatch.setattr(QP, "cjk_font", lambda: None)        # no font to draw 中马街道: boxes on every figure
    stamp = scope_label(as_of, "C", street, for_figure=True)
    assert stamp == f"as of {as_of.date()} · industry C Manufacturing · street {street}"
    assert scope_label(as_of, "C", street) == label            # the text keeps it


def test_frames_without_a_snapshot_date_say_an_as_of_date_after_their_last_record(tables, cfg, caplog):
    ent = tables["enterprises"].copy()
    ent.attrs.clear()
    caplog.set_level(logging.WARNING)
    f = evaluate({**tables, "enterprises": ent}, cfg, "2030-01-01")
    assert any("after the last record of the data" in r.getMessage() for r in caplog.records)
    assert f.attrs["creditmodel.as_of_warnings"] and not f.attrs["creditmodel.outside_data"]


def test_explain_says_an_as_of_date_outside_the_data(tables, cfg, caplog):
    """explain at 2012-06-30 or 2030-01-01 said nothing."""
    ent = tables["enterprises"]
    old = ent.loc[ent["registered_on"] < "2012-01-01", "uscc"].iloc[0]
    caplog.set_level(logging.WARNING)
    ex = explain(old, tables, cfg, "2012-06-30", whatif=False)
    assert any("before the first record" in w for w in ex.warnings)
    assert any("before the first record" in r.getMessage() for r in caplog.records)
    ex = explain(old, tables, cfg, "2030-01-01", whatif=False)
    assert any("after the data's snapshot date" in w for w in ex.warnings)
    assert explain(old, tables, cfg, SNAP, whatif=False).warnings == []
    with pytest.raises(InputError) as e:
        explain(old, tables, cfg, 20251231, whatif=False)
    assert e.value.parameter == "as_of"


# ----------------------------------------------------------------------------- 3. required register columns
@pytest.mark.parametrize("column", ["closed_on", "status"])
def test_the_register_must_say_when_and_how_a_firm_closed(tables, cfg, base, column):
    """Without closed_on every firm read as existing: 0 deregistered instead of 1,262 on the demo district."""
    assert base["deregistered"].sum() > 0
    with pytest.raises(InputError) as e:
        evaluate({**tables, "enterprises": tables["enterprises"].drop(columns=column)}, cfg, SNAP)
    assert e.value.file == "enterprises" and e.value.column == column


def test_the_evaluation_needs_the_register(tables, cfg, base):
    with pytest.raises(InputError) as e:
        evaluate({k: v for k, v in tables.items() if k != "enterprises"}, cfg, SNAP, uscc=base["uscc"].iloc[:2])
    assert e.value.file == "enterprises"


# ----------------------------------------------------------------------------- 4. evaluate(uscc=...)
def test_evaluate_refuses_codes_it_cannot_grade(tables, cfg, base):
    """A code not in the register was graded A with status 'unknown'; a firm registered after the as-of date got
    'active' and A, where the docstring promised no row and explain refuses it."""
    with pytest.raises(InputError) as e:
        evaluate(tables, cfg, SNAP, uscc=["91330205MA00000000", base["uscc"].iloc[0]])
    assert e.value.parameter == "uscc" and "91330205MA00000000" in e.value.message
    ent = tables["enterprises"]
    late = ent.loc[ent["registered_on"] > "2025-06-30", "uscc"].iloc[0]
    with pytest.raises(InputError) as e:
        evaluate(tables, cfg, "2025-06-30", uscc=[late])
    assert e.value.parameter == "uscc" and late in e.value.message
    with pytest.raises(InputError):
        evaluate(tables, cfg, ["2025-06-30", SNAP], uscc=[late])
    with pytest.raises(InputError):
        explain(late, tables, cfg, "2025-06-30", whatif=False)
    # registered codes, in any writing, are graded as in the whole-district frame
    codes = base["uscc"].iloc[[3, 1]].tolist()
    one = evaluate(tables, cfg, SNAP, uscc=[c.lower() for c in codes])
    assert one["uscc"].tolist() == codes
    assert _same_grades(one, base.set_index("uscc").loc[codes].reset_index())


# ----------------------------------------------------------------------------- 6. names of declared values
def test_an_industry_or_list_type_written_by_its_name_is_read_as_its_key(tables, cfg, base):
    """住宿和餐饮业 for H lost the catering rule and the food-safety evaluation (175 scores and 8 grades changed on
    the demo district); a Chinese list type gave a serious-dishonesty share of 0."""
    ent = tables["enterprises"].copy()
    h = ent["industry"] == "H"
    assert h.any()
    ent.loc[h, "industry"] = "住宿和餐饮业"
    ent.loc[ent["industry"] == "C", "industry"] = "manufacturing"
    ent.loc[ent["street"] == "zhongma", "street"] = "中马街道"
    li = tables["lists"].copy()
    li.loc[li["list_type"] == "serious_dishonesty", "list_type"] = "严重失信主体名单"
    li.loc[li["list_type"] == "red", "list_type"] = "RED"
    f = evaluate({**tables, "enterprises": ent, "lists": li}, cfg, SNAP)
    assert _same_grades(f, base)
    assert f["industry"].equals(base["industry"]) and f["street"].equals(base["street"])
    assert (f.filter(like="sector_score__").fillna(-1).to_numpy() == base.filter(like="sector_score__").fillna(-1)
            .to_numpy()).all()


@pytest.mark.parametrize("table, column, value", [("enterprises", "industry", "餐饮"),
                                                  ("lists", "list_type", "失信名单"),
                                                  ("penalties", "severity", "very serious"),
                                                  ("inspections", "inspection_type", "投诉")])
def test_a_value_that_is_no_declared_value_nor_a_name_of_one_is_refused(tables, cfg, table, column, value):
    df = tables[table].copy()
    df[column] = df[column].astype(object)
    df.loc[df.index[4], column] = value
    with pytest.raises(InputError) as e:
        evaluate({**tables, table: df}, cfg, SNAP)
    assert (e.value.file, e.value.column, e.value.row) == (table, column, 5) and repr(value) in e.value.message


# ----------------------------------------------------------------------------- 5. text dates
def test_text_dates_of_an_edited_frame_are_read_strictly(tables, cfg, base):
    """05/01/2020 was read as 1 May; 2025年6月30日 raised a raw pandas DateParseError."""
    ent = tables["enterprises"].copy()
    ent["registered_on"] = ent["registered_on"].dt.strftime("%Y-%m-%d")
    pen = tables["penalties"].copy()
    pen["decision_date"] = pen["decision_date"].dt.strftime("%Y年%m月%d日")
    f = evaluate({**tables, "enterprises": ent, "penalties": pen}, cfg, SNAP)
    assert _same_grades(f, base)
    dmy = tables["enterprises"].copy()
    dmy["registered_on"] = dmy["registered_on"].dt.strftime("%d/%m/%Y")
    with pytest.raises(InputError) as e:
        evaluate({**tables, "enterprises": dmy}, cfg, SNAP)
    assert (e.value.file, e.value.column, e.value.row) == ("enterprises", "registered_on", 1)
    assert "ambiguous" in e.value.message


# ----------------------------------------------------------------------------- 7. small ones
def test_select_scope_is_exported():
    import creditmodel.evaluation as ev

    assert "select_scope" in ev.__all__ and callable(ev.select_scope)


def test_load_district_marks_the_invoice_data_start_and_the_snapshot(tables):
    inv = tables["invoices_monthly"]
    start = pit.invoice_data_start(inv)
    assert inv.attrs[pit.INVOICE_START_ATTR] == start.strftime("%Y-%m-%d")
    late = inv[inv["month"] >= start + pd.DateOffset(months=30)]
    assert pit.invoice_data_start(late) == start   # a subset keeps the district's start
    assert tables["enterprises"].attrs[pit.SNAPSHOT_ATTR] == SNAP


def test_the_invoice_meanings_say_months_before_the_data_are_unknown():
    cat = catalogue("enterprise").set_index("code")
    for code in ("invoice_sales_12m_log", "invoice_sales_growth", "invoice_sales_cv", "invoice_zero_sales_months"):
        assert "before the invoice data start are unknown" in cat.loc[code, "meaning"], code


def test_plan_measures_of_an_empty_frame_has_the_same_keys(base, cfg):
    full, empty = plan_measures(base, cfg), plan_measures(base.iloc[:0], cfg)
    assert list(empty) == list(full)
    assert np.isnan(empty["excellent_or_good_share"]) and np.isnan(empty["serious_dishonesty_share"])
    assert empty["enterprises_graded"] == 0
    assert plan_targets_table(empty)["met"].isna().all()


def test_grade_table_names_a_wrong_column(base, cfg):
    with pytest.raises(InputError) as e:
        grade_table(base, "Industry", cfg)
    assert e.value.column == "Industry" and "'industry'" in e.value.message and "street" in e.value.message
    assert "enterprises" in grade_table(base, "industry", cfg).columns


def test_build_features_costs_little_more_on_clean_tables(tables):
    """The reading of the frames is one hash lookup per code column on the loader's tables (nothing copied)."""
    prepared = pit.prepare_tables(tables)
    assert all(prepared[k] is tables[k] for k in tables)
    assert pit.prepare_tables(prepared) is prepared
    f = build_features(tables, SNAP)
    assert len(f) == int((tables["enterprises"]["registered_on"] <= SNAP).sum())


def test_the_repair_what_if_reads_an_edited_frame_as_the_evaluation_does(tables, cfg, base):
    """repair_whatif cut one firm's rows before reading the edit: penalties with lower-cased codes fell out of the
    cut, so a firm with repairable penalties had nothing to repair."""
    from creditmodel.evaluation.repair import repair_whatif

    firm = base.loc[base["public_credit_grade"].isin(["C", "D"]), "uscc"].iloc[0]
    want = repair_whatif(tables, cfg, firm, SNAP)
    assert len(want) > 1                                                   # the premise: records to repair
    edited = dict(tables)
    for name in ("penalties", "lists", "enforcement", "arrears"):
        edited[name] = tables[name].assign(uscc=tables[name]["uscc"].str.lower())
    got = repair_whatif(edited, cfg, firm, SNAP)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))


def test_the_coverage_warning_names_the_penalties_and_lists_and_counts_months_under_a_year():
    """An analyst at 2019-03-31 read a 0.02 % serious-dishonesty share "met": the warning named the invoice months
    and the 2- and 3-year windows of inspections and commitments, not the penalties' publicity or the lists, and said
    "0.2 years since". Records from 2019-01-01: 89 days to 2019-03-31 are 3 months (89 / 30.44 = 2.9)."""
    from creditmodel.evaluation.engine import coverage_warnings

    tables = {"penalties": pd.DataFrame({"decision_date": ["2019-01-01"], "reported_on": ["2019-01-05"]})}
    (w,) = coverage_warnings(pd.Timestamp("2019-03-31"), tables)
    assert w == ("the public records begin on 2019-01-01: the evaluation's 3-year windows (credit commitments, "
                 "penalties' publicity, list entries still in force) and 2-year windows (inspections) reach back before "
                 "them and count only the 3 months since (records from before the data are unknown, not absent: a "
                 "penalty still published or an enterprise still listed may be missing)")
    (w2,) = coverage_warnings(pd.Timestamp("2021-03-01"), tables)     # 790 days: 2.2 years, the 3-year window only
    assert "3-year windows (credit commitments, penalties' publicity, list entries still in force) reach" in w2
    assert "2-year" not in w2 and "only the 2.2 years since" in w2
    assert coverage_warnings(pd.Timestamp("2022-01-01"), tables) == []
