"""The quality module's Python API as a think tank uses it on edited frames (a think-tank reviewer's findings):
codes written differently, dates in other forms or outside the data, the list-entry knowledge rule against the
evaluation's, the in-memory report, dishonest debtors and the street/industry breakdown, repair_summary's base."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import district_factory as fac
from creditmodel.data import io, quality, uscc
from creditmodel.errors import InputError

SNAP = "2025-12-31"


@pytest.fixture
def frames():
    """Four legal persons and an individual business (92...), registered 2015; lists and two debtor listings."""
    c = uscc.generate("330205", 4, np.random.default_rng(11))
    c += uscc.generate("330205", 1, np.random.default_rng(12), category="2")
    ent = pd.DataFrame({"uscc": c, "street": ["zhongma", "zhongma", "baisha", "baisha", None],
                        "industry": ["C", "F", "C", "F", "C"],
                        "registered_on": pd.to_datetime(["2015-01-01"] * 5), "closed_on": pd.NaT})
    lists = pd.DataFrame({
        "record_id": ["L1", "L2", "L3", "L4"], "uscc": [c[0], c[1], c[2], c[4]],
        "list_type": ["serious_dishonesty", "serious_dishonesty", "black", "abnormal_operation"],
        "department": ["市场监管", "消防", "市场监管", "市场监管"], "reason": ["r1", "r2", "r3", "r4"],
        "start_date": pd.to_datetime(["2023-06-29", "2022-01-10", "2024-05-01", "2025-03-01"]),
        "end_date": pd.NaT,
        # L1 started 06-29 and reached the platform 07-02 (the demo's LST0000004716)
        "reported_on": pd.to_datetime(["2023-07-02", "2022-01-12", "2024-05-03", "2025-03-02"])})
    enf = pd.DataFrame({"record_id": ["E1", "E2"], "uscc": [c[3], c[0]], "court": ["江北区人民法院", "中级人民法院"],
                        "filed_on": pd.to_datetime(["2023-01-05", "2021-01-05"]),
                        "dishonest_listed_on": pd.to_datetime(["2023-05-01", "2021-03-01"]),
                        "dishonest_removed_on": pd.to_datetime([None, "2022-03-01"]),
                        "reported_on": pd.to_datetime(["2023-01-06", "2021-01-06"])})
    return {"enterprises": ent, "lists": lists, "enforcement": enf}


# --------------------------------------------------------------------------- 1. codes as the loader reads them
def test_codes_written_differently_match_and_unmatched_ones_are_counted(frames, caplog):
    """Lower case and a trailing blank in an edited frame matched nothing (an empty table, share 0): the codes are
    read in the loader's standard form; a code of no enterprise is left out with a warning counting it."""
    clean_sd = quality.serious_dishonesty_shares(frames, SNAP, years=[])
    clean_lm = quality.list_membership(frames, SNAP)
    assert clean_sd.set_index("definition").loc["serious_dishonesty_list", "listed"] == 2
    edited = {k: v.copy() for k, v in frames.items()}
    edited["lists"]["uscc"] = edited["lists"]["uscc"].str.lower() + " "
    edited["enforcement"]["uscc"] = " " + edited["enforcement"]["uscc"].str.lower()
    edited["enterprises"]["uscc"] = edited["enterprises"]["uscc"].str.lower()
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.quality"):
        pd.testing.assert_frame_equal(quality.serious_dishonesty_shares(edited, SNAP, years=[]), clean_sd)
        pd.testing.assert_frame_equal(quality.list_membership(edited, SNAP), clean_lm)
    assert "matches no enterprise" not in caplog.text
    stray = {k: v.copy() for k, v in frames.items()}
    stray["lists"].loc[1, "uscc"] = uscc.generate("330205", 1, np.random.default_rng(99))[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.quality"):
        sd = quality.serious_dishonesty_shares(stray, SNAP, years=[])
    assert sd.set_index("definition").loc["serious_dishonesty_list", "listed"] == 1
    assert "lists: 1 of 4 row(s) have a code that matches no enterprise of the register" in caplog.text


# --------------------------------------------------------------------------- 2. dates as the evaluation reads them
@pytest.mark.parametrize("bad", ["06/07/2025", "June 2025", "2025年6月30日", 20250630])
@pytest.mark.parametrize("fn", [quality.list_membership, quality.serious_dishonesty_shares])
def test_a_snapshot_in_another_form_is_refused_naming_the_parameter(frames, fn, bad):
    """'06/07/2025' was read as 7 June, 'June 2025' as 1 June, '2025年6月30日' raised a raw pandas DateParseError."""
    with pytest.raises(InputError) as e:
        fn(frames, bad)
    assert e.value.parameter == "snapshot"


def test_a_snapshot_outside_the_data_is_said_as_the_evaluation_says_it(frames, caplog):
    """Before the first record ('2010-01-01': an empty table) and after the data's snapshot ('2030-01-01': counts)
    passed without a word; the warnings are the evaluation's (as_of_warnings)."""
    from creditmodel.evaluation.engine import as_of_warnings

    dist_snap = pd.Timestamp(SNAP)
    for when in ("2010-01-01", "2030-01-01"):
        expected = as_of_warnings(pd.Timestamp(when), frames, dist_snap, coverage=False)
        assert len(expected) == 1
        for fn in (quality.list_membership, quality.serious_dishonesty_shares):
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="creditmodel.data.quality"):
                fn(frames, when, data_snapshot=SNAP)
            assert expected[0] in caplog.text, (fn.__name__, when)
    # without data_snapshot: a date after the last record reported is said, naming the parameter that gives one
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.quality"):
        quality.list_membership(frames, "2030-01-01")
    assert "after the last record of the data (reported on 2025-03-02)" in caplog.text
    assert "data_snapshot=" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.quality"):
        quality.list_membership(frames, "2025-03-02")
        quality.serious_dishonesty_shares(frames, pd.Timestamp("2025-03-02 00:00"))
    assert caplog.text == ""


# --------------------------------------------------------------------------- 3. the knowledge rule
def test_the_quality_views_count_a_late_reported_entry_as_the_evaluation_does(tmp_path):
    """At 2023-06-30 the quality functions counted an entry started 06-29 and reported 07-02 (107 firms on the demo
    district), the evaluation did not (106). Now both count what was reported by the date; known_by counts what the
    data knew at a later date."""
    from creditmodel.evaluation.engine import evaluate

    c = fac.codes(4, seed=21)
    fac.write(fac.enterprises(c), tmp_path / "enterprises", "csv")
    li = fac.records("lists", c, 3)
    li["list_type"] = "serious_dishonesty"
    li["start_date"] = ["2023-06-29", "2023-01-10", "2023-06-30"]
    li["reported_on"] = ["2023-07-02", "2023-01-12", "2023-06-30"]
    fac.write(li, tmp_path / "lists", "csv")
    d = io.load_district(tmp_path)
    at = "2023-06-30"
    frame = evaluate(d.tables, None, pd.Timestamp(at))
    graded = frame.loc[~frame["deregistered"].astype(bool)]
    evaluated = int(graded["on_serious_dishonesty_list"].sum())
    sd = quality.serious_dishonesty_shares(d.tables, at, years=[]).set_index("definition")
    assert evaluated == 2 and sd.loc["serious_dishonesty_list", "listed"] == evaluated
    assert sd.loc["serious_dishonesty_list", "legal_person_enterprises"] == len(graded)
    lm = quality.list_membership(d.tables, at).set_index(["list_type", "department", "reason"])
    assert lm.loc[("serious_dishonesty", "(all)", "(all)"), ["enterprises", "entries"]].tolist() == [2, 2]
    # who was on the list at 06-30 as the data know it at their snapshot: the late report counts
    late = quality.serious_dishonesty_shares(d, at, years=[], known_by=d.snapshot_date).set_index("definition")
    assert late.loc["serious_dishonesty_list", "listed"] == 3
    lm = quality.list_membership(d, at, known_by="2023-07-02").set_index(["list_type", "department", "reason"])
    assert lm.loc[("serious_dishonesty", "(all)", "(all)"), "enterprises"] == 3
    with pytest.raises(InputError) as e:
        quality.list_membership(d, at, known_by="2023-06-01")
    assert e.value.parameter == "known_by"
    assert "reported_on" in quality.serious_dishonesty_shares.__doc__ and "known_by" in quality.list_membership.__doc__


def test_the_report_headline_leaves_out_an_entry_reported_after_the_snapshot(tmp_path):
    """The headline (the register as collected) follows the same rule at the snapshot: a listing reported after it
    (counted among the future-dated rows) is not one the platform knew."""
    c = fac.codes(4, seed=22)
    fac.write(fac.enterprises(c), tmp_path / "enterprises", "csv")
    li = fac.records("lists", c, 2)
    li["list_type"] = "serious_dishonesty"
    li["start_date"] = ["2025-12-20", "2025-12-30"]
    li["reported_on"] = ["2025-12-22", "2026-01-05"]
    fac.write(li, tmp_path / "lists", "csv")
    dist = io.load_district(tmp_path)
    rep = quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, tmp_path)
    assert rep.indicators["serious_dishonesty"] == 1
    assert rep.serious_dishonesty.set_index(["date", "definition"]).loc[
        (pd.Timestamp(SNAP).date(), "serious_dishonesty_list"), "listed"] == 1


# --------------------------------------------------------------------------- 4. the report in memory
def test_a_report_in_memory_writes_nothing(tmp_path, monkeypatch):
    """quality_report(data, out=None) raised a raw TypeError; now the report is returned with its tables, nothing
    written, and its figures drawn on demand."""
    from creditmodel.data import quality_plots

    c = fac.codes(5, seed=23)
    d = tmp_path / "d"
    d.mkdir()
    fac.write(fac.enterprises(c), d / "enterprises", "csv")
    fac.write(fac.records("penalties", c, 6), d / "penalties", "csv")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)
    rep = quality.quality_report(d, progress=False)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert rep.out is None and rep.files == {}
    assert rep.indicators["public_records"] == 11 and len(rep.by_table) == 2
    assert "report:" not in rep.summary()
    figs = rep.figures()
    assert "indicators_vs_targets" in figs and sorted(p.name for p in tmp_path.rglob("*")) == before
    for f in figs.values():
        quality_plots.close(f)
    written = quality.quality_report(d, tmp_path / "q", figures=False, progress=False)
    assert written.to_dict() == rep.to_dict()
    with pytest.raises(InputError) as e:
        quality.quality_report(d, 5)
    assert e.value.parameter == "out"


# --------------------------------------------------------------------------- 5. debtors, streets and industries
def test_dishonest_debtors_and_the_street_breakdown(frames):
    """No row said who is a dishonest judgement debtor (失信被执行人), and only filtering the register by hand gave a
    street's lists (its share then over the filtered register, individual businesses included, unsaid)."""
    lm = quality.list_membership(frames, SNAP)
    key = lm.set_index(["list_type", "department", "reason"])
    # c3's listing is active, c0's was removed in 2022 (left more than 12 months ago)
    assert key.loc[("dishonest_debtor", "(all)", "(all)"), ["enterprises", "entries", "entered", "left"]].tolist() == \
        [1, 1, 0, 0]
    assert key.loc[("dishonest_debtor", "江北区人民法院", quality.DISHONEST_DEBTOR_REASON), "enterprises"] == 1
    assert list(lm["list_type"].unique()) == ["serious_dishonesty", "black", "dishonest_debtor",
                                              "abnormal_operation"]
    # the share is of every enterprise existing at the snapshot, the individual business included (5)
    assert set(lm["enterprises_existing"]) == {5}
    assert key.loc[("serious_dishonesty", "(all)", "(all)"), "share"] == pytest.approx(2 / 5)
    assert list(lm.columns) == quality.MEMBERSHIP_COLUMNS
    by = quality.list_membership(frames, SNAP, by="street")
    assert list(by.columns) == ["street"] + quality.MEMBERSHIP_COLUMNS
    tot = by[(by["department"] == quality.ALL) & (by["reason"] == quality.ALL)]
    # every enterprise is in one street: the streets add up to the district's totals
    assert tot.groupby("list_type")["enterprises"].sum().to_dict() == \
        lm[lm["department"] == quality.ALL].set_index("list_type")["enterprises"].to_dict()
    s = tot.set_index(["street", "list_type"])
    assert s.loc[("zhongma", "serious_dishonesty"), ["enterprises", "enterprises_existing", "share"]].tolist() == \
        [2, 2, 1.0]
    assert s.loc[("(missing)", "abnormal_operation"), "enterprises_existing"] == 1
    ind = quality.list_membership(frames, SNAP, by="industry")
    assert set(ind["industry"]) == {"C", "F"}
    with pytest.raises(InputError) as e:
        quality.list_membership(frames, SNAP, by="town")
    assert e.value.parameter == "by"
    sd = quality.serious_dishonesty_shares(frames, SNAP, years=[]).set_index("definition")
    # the plan's share is of legal persons: the individual business's abnormal-operation entry is in neither part
    assert sd["listed"].tolist() == [2, 3, 4] and set(sd["legal_person_enterprises"]) == {4}


# --------------------------------------------------------------------------- 6. repair_summary's base
def test_repair_summary_says_its_shares_are_of_the_enterprises_with_something_repairable():
    """The demo's 1,470 firms with a repairable record, not the 1,471 graded C or D asked about: now said."""
    from creditmodel.evaluation.repair import repair_summary

    t = pd.Timestamp(SNAP)
    allr = pd.DataFrame({"uscc": ["A", "B"], "record_id": "ALL", "lifts_grade": [True, False],
                         "grade_with_repair": ["B", "C"], "lift_points": [30.0, 5.0], "as_of_date": t,
                         "earliest_repair_date": [t + pd.Timedelta(days=10), t + pd.Timedelta(days=30)]})
    single = allr.assign(record_id=["P1", "P2"])
    # a third firm graded D with nothing repairable has no row, so no part in the shares
    s = repair_summary(pd.concat([allr, single], ignore_index=True))
    assert s["repair_enterprises"] == 2 and s["repair_all_lifts_share"] == 0.5
    doc = " ".join(repair_summary.__doc__.split())
    assert "at least one repairable record" in doc and "not every enterprise" in doc


def test_the_repair_summary_table_counts_from_the_enterprises_asked_about():
    """3 firms graded C or D asked about, 2 with a repairable record (A lifted by all its repairs to B, a best grade;
    B neither), 1 with nothing: counts and denominators by hand; the mean points (30 + 5) / 2 and median days
    (10, 30) -> 20 in the value column."""
    from creditmodel.evaluation.repair import repair_summary, repair_summary_table

    t = pd.Timestamp(SNAP)
    allr = pd.DataFrame({"uscc": ["A", "B"], "record_id": "ALL", "lifts_grade": [True, False],
                         "grade_with_repair": ["B", "C"], "lift_points": [30.0, 5.0], "as_of_date": t,
                         "earliest_repair_date": [t + pd.Timedelta(days=10), t + pd.Timedelta(days=30)]})
    single = allr.assign(record_id=["P1", "P2"])
    tab = repair_summary_table(repair_summary(pd.concat([allr, single], ignore_index=True)), 3)
    assert tab["enterprises"].tolist() == [3, 2, 1, 1, 1, 1, 2, 2]
    assert tab["of"].isna().tolist() == [True] + [False] * 5 + [True] * 2
    assert tab["of"].iloc[1:6].astype(int).tolist() == [3, 3, 2, 2, 2]
    assert tab["share"].iloc[1:6].tolist() == pytest.approx([2 / 3, 1 / 3, 0.5, 0.5, 0.5])
    assert tab["value"].iloc[6:].tolist() == pytest.approx([17.5, 20.0])
    assert tab["measure"].iloc[5] == "reaching A or B with all their repairs"
    assert "15 decision days: a possibility, not an observed time" in tab["measure"].iloc[7]
    with pytest.raises(InputError, match="asked"):
        repair_summary_table(repair_summary(pd.concat([allr, single], ignore_index=True)), 1)


def test_the_dishonest_debtor_rows_are_drawn_with_their_own_gloss_and_colour(monkeypatch):
    """Without a CJK font the new dishonest-debtor bar read 'dishonest debtor: reason #25', in the neutral grey."""
    from creditmodel.data import quality_plots as qp
    from creditmodel.data.quality import DISHONEST_DEBTOR, DISHONEST_DEBTOR_REASON, LIST_TYPE_ORDER

    monkeypatch.setattr(qp, "cjk_font", lambda: None)                  # a machine without a CJK font
    assert qp._reason_text(DISHONEST_DEBTOR_REASON, "reason #25") == "dishonest judgement debtor"
    assert qp.LIST_COLOURS[DISHONEST_DEBTOR] != qp.NEUTRAL
    assert [k for k in qp.LIST_COLOURS] == list(LIST_TYPE_ORDER)      # the bars in the think tank's order


def test_the_list_views_read_an_edited_frame_as_the_evaluation_does(frames):
    """The list views normalised codes and list types with near-copies of the evaluation's reading and left dates to
    pandas: a start date typed as 05/01/2023 was read month-first without a word. They now read the frames through
    pit.prepare_tables, as the evaluation does: a Chinese list type is mapped, an ambiguous date refused by name."""
    clean = quality.list_membership(frames, SNAP)
    named = {k: v.copy() for k, v in frames.items()}
    named["lists"]["list_type"] = named["lists"]["list_type"].replace({"serious_dishonesty": "严重失信主体名单"})
    pd.testing.assert_frame_equal(quality.list_membership(named, SNAP), clean)
    typed = {k: v.copy() for k, v in frames.items()}
    typed["lists"]["start_date"] = ["05/01/2023"] + [f"{d:%Y-%m-%d}" for d in typed["lists"]["start_date"][1:]]
    with pytest.raises(InputError) as e:
        quality.list_membership(typed, SNAP)
    assert e.value.column == "start_date" and e.value.row == 1 and "ambiguous" in e.value.message
