"""Data-quality indicators: hand-counted answers on hand-made districts, and recovery of the generator's faults."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import pytest
from cli_in_process import run_cli

import district_factory as fac
from creditmodel import reference
from creditmodel.data import io, quality, quality_plots, uscc
from creditmodel.data.synthetic import GeneratorConfig, generate_district
from creditmodel.errors import InputError

DEADLINE = reference.reporting_deadline_days()


def _shift(date: str, days: int) -> str:
    return (pd.Timestamp(date) + pd.Timedelta(days=days)).strftime("%Y-%m-%d")


def _measure(d: Path) -> quality.QualityReport:
    dist = io.load_district(d)
    return quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, d)


# --------------------------------------------------------------------------- compliance, by hand
@pytest.fixture
def compliance_district(tmp_path):
    c = fac.codes(5)
    ent = fac.enterprises(c, delay=1)
    ent.loc[4, "reported_on"] = _shift(ent.loc[4, "registered_on"], DEADLINE + 1)   # late
    ent.loc[3, "size_class"] = ""                                                    # incomplete
    fac.write(ent, tmp_path / "enterprises", "parquet")
    pen = fac.records("penalties", c, 10, delay=2)
    pen.loc[0, "reported_on"] = _shift(fac.EVENT, DEADLINE)        # on the deadline: compliant
    pen.loc[1, "reported_on"] = _shift(fac.EVENT, DEADLINE + 1)    # late
    pen.loc[2, "department"] = ""                                  # incomplete
    pen.loc[3, "uscc"] = fac.codes(1, seed=123)[0]                 # valid, not registered
    pen.loc[4, "uscc"] = c[4][:17] + ("0" if c[4][17] != "0" else "1")   # invalid check character
    pen.loc[5, "reported_on"] = _shift(fac.EVENT, -1)              # reported before the event
    pen.loc[6, "reported_on"] = ""                                 # incomplete, delay unknown
    fac.write(pen, tmp_path / "penalties", "csv")
    return tmp_path


def test_collection_compliance_counted_by_hand(compliance_district):
    rep = _measure(compliance_district)
    bt = rep.by_table.set_index("table")
    # register: rows 4 (incomplete) and 5 (late) fail; penalties: rows 1, 8, 9, 10 (0-based 0, 7, 8, 9) pass.
    # Row 9 (0-based 8) carries c[3], whose register row is quarantined: still a registered code.
    assert bt.loc["enterprises", ["records", "compliant", "incomplete", "late"]].tolist() == [5, 3, 1, 1]
    assert bt.loc["penalties", ["records", "compliant", "incomplete", "late", "early", "uscc_invalid",
                                "unregistered"]].tolist() == [10, 4, 2, 1, 1, 1, 1]
    ind = rep.indicators
    assert (ind["public_records"], ind["compliant"]) == (15, 7)
    assert ind["collection_compliance_rate"] == pytest.approx(7 / 15)
    assert ind["late"] == 2 and ind["delay_known"] == 14 and ind["late_rate"] == pytest.approx(2 / 14)
    assert ind["reported_before_event"] == 1 and ind["incomplete"] == 3
    assert ind["records_unregistered_uscc"] == 1   # the penalty of row 4; register rows are not counted here
    t = rep.targets.set_index("indicator")
    assert not t.loc["collection_compliance_rate", "met"]
    assert t.loc["collection_compliance_rate", "vs_baseline"] == "worse than the plan's 2020 baseline (95.00 %)"
    dep = rep.by_department.set_index("supplier")
    assert dep.loc["税务局", ["records", "compliant"]].tolist() == [9, 4]
    assert dep.loc["(missing)", ["records", "compliant"]].tolist() == [1, 0]
    assert dep.loc["[enterprises]", ["records", "compliant"]].tolist() == [5, 3]
    # delay bands of the penalties: -1, 7, 8, unknown, and six records at 2 days
    bands = rep.delays[rep.delays["table"] == "penalties"].set_index("band")["records"]
    assert bands["before event"] == 1 and bands[f"0-{DEADLINE}"] == 7 and bands[f"{DEADLINE + 1}-30"] == 1
    assert bands["unknown"] == 1 and bands.sum() == 10


def test_a_record_delivered_twice_is_not_compliant(compliance_district):
    """Both copies of a compliant penalty sent twice fail compliance (key shared, as for a shared register code);
    the loader keeps the first copy for grading (both copies counted compliant: think-tank user's finding)."""
    pen = pd.read_csv(compliance_district / "penalties.csv", dtype=str, keep_default_na=False)
    pd.concat([pen, pen.iloc[[7]]], ignore_index=True).to_csv(compliance_district / "penalties.csv", index=False)
    rep = _measure(compliance_district)
    bt = rep.by_table.set_index("table")
    assert bt.loc["penalties", ["records", "compliant", "key_shared"]].tolist() == [11, 3, 2]
    assert rep.indicators["records_key_shared"] == 2 and rep.indicators["compliant"] == 6
    q = rep.quarantine[rep.quarantine["table"] == "penalties"].set_index("row")
    assert q.loc[11, "rule"] == "duplicate_row" and 8 not in q.index      # the first copy is kept


def test_flags_are_per_file_row(compliance_district):
    lt = io.load_table(compliance_district / "penalties.csv")
    reg = quality._register({"enterprises": io.load_table(compliance_district / "enterprises.parquet")})
    f = quality.record_flags(lt, reg, DEADLINE)
    assert f["row"].tolist() == list(range(1, 11))
    assert f.loc[f["late"], "row"].tolist() == [2]
    assert f.loc[~f["uscc_ok"], "uscc_reason"].tolist() == ["check_char"]
    assert f["delay_days"].iloc[[0, 1, 5]].tolist() == [DEADLINE, DEADLINE + 1, -1]


# --------------------------------------------------------------------------- USCC rates, by hand
def test_uscc_error_and_duplicate_rates_by_hand(tmp_path):
    c = fac.codes(8)
    ent = fac.enterprises(c)
    ent.loc[[2, 3], "uscc"] = c[1]                    # three rows share c[1]: two excess
    ent.loc[5, "uscc"] = c[5][:17] + ("0" if c[5][17] != "0" else "1")
    ent.loc[6, "uscc"] = ""                           # empty code
    ent.loc[7, "uscc"] = "91350203M0001FUE2P"          # pilot-era allow-listed: valid, warning only
    fac.write(ent, tmp_path / "enterprises", "csv")
    rep = _measure(tmp_path)
    ind = rep.indicators
    assert (ind["enterprises"], ind["uscc_invalid"], ind["uscc_pilot"]) == (8, 2, 1)
    assert (ind["uscc_duplicate_rows"], ind["uscc_duplicate_codes"], ind["uscc_duplicate_excess"]) == (3, 1, 2)
    assert ind["uscc_error_duplicate_rate"] == pytest.approx(4 / 8)
    assert ind["uscc_error_rate"] == pytest.approx(2 / 8) and ind["uscc_duplicate_rate"] == pytest.approx(2 / 8)
    causes = rep.uscc_causes.set_index("cause")["register_rows"]
    assert causes[["check_char", "missing", "duplicate", "pilot"]].tolist() == [1, 1, 2, 1]
    assert causes.drop(["check_char", "missing", "duplicate", "pilot"]).sum() == 0
    by_ind = rep.by_industry.set_index("industry")
    # rows 1, 2, 3 are industries F, I, E (factory round robin C, F, I, E, H)
    assert by_ind["uscc_duplicate_excess"].sum() == 2 and by_ind["uscc_invalid"].sum() == 2
    assert by_ind.loc["F", "uscc_duplicate_excess"] == 0  # the first use of a code is not a duplicate


def test_an_exact_copy_of_a_register_row_is_not_a_duplicate_code(tmp_path):
    """The duplicate-code rate is the plan's limit on one code for two firms (重码): an exact copy of a register row
    (a delivery fault, counted against compliance) turned a clean register's 0 % into 'NOT met'."""
    c = fac.codes(6)
    ent = fac.enterprises(c)
    ent = pd.concat([ent, ent.iloc[[2]]], ignore_index=True)           # row 7: an exact copy of row 3
    fac.write(ent, tmp_path / "enterprises", "csv")
    ind = _measure(tmp_path).indicators
    assert ind["uscc_duplicate_excess"] == 0 and ind["uscc_duplicate_rate"] == 0
    assert ind["uscc_error_duplicate_rate"] == 0


def test_a_copy_under_another_name_is_a_duplicate_code_a_copy_under_the_same_name_is_not(tmp_path):
    """Two firms of different names and industries under one code read a 0 % duplicate-code rate: the second row
    was folded away as a copy differing only in descriptive fields. Another registered name is another firm."""
    c = fac.codes(6)
    ent = fac.enterprises(c)
    other = ent.iloc[[2]].assign(name="另一家公司", industry="C" if ent.loc[2, "industry"] != "C" else "F")
    full = str(ent.loc[4, "name"]).upper().replace("(", "（").replace(")", "）") + "（宁波）"
    ent.loc[4, "name"] = str(ent.loc[4, "name"]) + "(宁波)"
    same = ent.iloc[[4]].assign(street="elsewhere" if ent.loc[4, "street"] != "elsewhere" else "x",
                                name=" " + full + " ")   # the same name: upper case, full-width brackets, blanks
    fac.write(pd.concat([ent, other, same], ignore_index=True), tmp_path / "enterprises", "csv")
    ind = _measure(tmp_path).indicators
    assert ind["uscc_duplicate_excess"] == 1 and ind["uscc_duplicate_codes"] == 1 and ind["uscc_duplicate_rows"] == 2
    assert ind["uscc_duplicate_rate"] == pytest.approx(1 / 8)


def test_a_record_rejected_for_its_own_value_is_not_compliant(compliance_district):
    """A record the loader quarantines for a bad value (a penalty of severity 'huge') was counted compliant."""
    pen = pd.read_csv(compliance_district / "penalties.csv", dtype=str, keep_default_na=False)
    pen.loc[9, "severity"] = "huge"                                       # row 10 was compliant
    pen.to_csv(compliance_district / "penalties.csv", index=False)
    rep = _measure(compliance_district)
    assert rep.by_table.set_index("table").loc["penalties", ["records", "compliant"]].tolist() == [10, 3]
    assert rep.indicators["records_invalid_value"] == 1


def test_reformatted_codes_are_counted_not_hidden(tmp_path):
    """Lower case, full-width or padded codes are read in the standard form but counted as a format fault."""
    c = fac.codes(6, seed=3)
    ent = fac.enterprises(c)
    ent.loc[1, "uscc"] = c[1].lower()
    ent.loc[2, "uscc"] = f"  {c[2]} "
    ent.loc[3, "uscc"] = c[3].translate({ord(ch): ord(ch) + 0xFEE0 for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY"})
    ent.loc[4, "uscc"] = (c[4][:17] + ("0" if c[4][17] != "0" else "1")).lower()  # reformatted and invalid:
    fac.write(ent, tmp_path / "enterprises", "csv")                                # quarantined, not a warning
    rep = _measure(tmp_path)
    ind = rep.indicators
    assert ind["uscc_invalid"] == 1 and ind["uscc_reformatted"] == 3
    bt = rep.by_table.set_index("table")
    assert bt.loc["enterprises", "uscc_reformatted"] == 3 and bt.loc["enterprises", "pilot_warnings"] == 0
    w = io.load_district(tmp_path).warnings
    assert sorted(w.loc[w["rule"] == "uscc_reformatted", "row"]) == [2, 3, 4]


def test_impossible_dates_are_counted(tmp_path):
    c = fac.codes(6, seed=4)
    ent = fac.enterprises(c)
    ent.loc[1, "status"] = "deregistered"
    ent.loc[1, "closed_on"] = "1980-01-01"            # closed before it was registered
    pen = fac.records("penalties", c, 6)
    pen.loc[2, "publicity_max_end"] = "2023-01-01"    # publicity ends before the decision (2023-03-01)
    pen.loc[3, "decision_date"] = "2031-05-01"        # decided after the snapshot
    pen.loc[3, "reported_on"] = "2031-05-02"
    fac.write(ent, tmp_path / "enterprises", "csv")
    fac.write(pen, tmp_path / "penalties", "csv")
    rep = _measure(tmp_path)
    bt = rep.by_table.set_index("table")
    assert (bt.loc["enterprises", "date_order_faults"], bt.loc["enterprises", "future_dated"]) == (1, 0)
    assert bt.loc["penalties", "date_order_faults"] >= 1 and bt.loc["penalties", "future_dated"] == 1
    assert rep.indicators["future_dated"] == 1 and "impossible dates" in rep.summary()
    assert bt.loc["penalties", "rows"] == 6  # counted, not removed


def test_records_outside_their_enterprises_life_are_counted(tmp_path):
    """helper-100's finding: a penalty decided before its firm was registered, or after it closed, or repaired before
    its minimum publicity period ended, was read by the evaluation without a word. The quality report counts them by
    table (kept, read as delivered)."""
    c = fac.codes(6, seed=5)
    ent = fac.enterprises(c)
    ent.loc[0, "registered_on"] = "2024-01-10"        # registered after its penalty (decided 2023-03-01)
    ent.loc[0, "reported_on"] = "2024-01-11"
    ent.loc[2, "status"] = "deregistered"
    ent.loc[2, "closed_on"] = "2022-12-31"            # closed before its penalty
    ent.loc[4, "registered_on"] = "2023-03-01"        # registered the day of its penalty: inside its life
    ent.loc[4, "reported_on"] = "2023-03-02"
    ent.loc[3, "status"] = "revoked"                  # revoked (吊销) before its penalty: still a legal person
    ent.loc[3, "closed_on"] = "2022-06-30"
    # a code two firms share (重码), the younger (registered after the penalty) first: the older firm's record
    # is inside the code's life (a reviewer found every demo count of 'before registration' on such codes)
    twin = ent.loc[[5]].assign(name="另一企业", registered_on="2024-05-01", reported_on="2024-05-02")
    ent = pd.concat([twin, ent], ignore_index=True)
    pen = fac.records("penalties", c, 6)
    pen.loc[1, "repaired_on"] = "2023-05-31"          # the day before its minimum publicity end (2023-06-01)
    pen.loc[3, "repaired_on"] = "2023-06-01"          # on it: allowed
    fac.write(ent, tmp_path / "enterprises", "csv")
    fac.write(pen, tmp_path / "penalties", "csv")
    rep = _measure(tmp_path)
    bt = rep.by_table.set_index("table")
    assert bt.loc["penalties", "repaired_before_minimum"] == 1 == rep.indicators["repaired_before_minimum"]
    assert "1 penalty row(s) repaired" in rep.summary()
    assert rep.indicators["repair_applied_before_minimum"] is None     # no repairs file: not measured
    rp = fac.records("repairs", c, 2)
    rp["target_record_id"] = ["PEN00004", "PEN00005"]                  # minimum publicity end 2023-06-01
    rp["uscc"] = [c[4], c[5]]
    rp["applied_on"] = ["2023-05-31", "2023-06-01"]                    # the day before it, and on it
    rp["reported_on"] = ["2023-06-02", "2023-06-02"]
    fac.write(rp, tmp_path / "repairs", "csv")
    again = _measure(tmp_path)
    assert again.indicators["repair_applied_before_minimum"] == 1
    assert "1 repair application(s) for a penalty" in again.summary()
    assert (bt.loc["penalties", "before_registration"], bt.loc["penalties", "after_closure"]) == (1, 1)
    assert (rep.indicators["before_registration"], rep.indicators["after_closure"]) == (1, 1)
    assert "1 dated before its registration, 1 after its deregistration" in rep.summary()
    assert bt.loc["penalties", "rows"] == 6                # counted, not removed
    # a data steward finds each row (a reviewer: the counts alone named none)
    rows = rep.outside_life.set_index("reason")
    assert rows.loc["before_registration", "uscc"] == c[0] and rows.loc["after_closure", "uscc"] == c[2]
    assert rows["row"].tolist() == [1, 3] and rows["kept"].all() and (rows["date_column"] == "decision_date").all()
    assert rows.loc["after_closure", "deregistered_on"] == pd.Timestamp("2022-12-31")
    files = quality.write_report(rep, tmp_path / "report", figures=False)
    written = pd.read_csv(files["outside_life.csv"], encoding="utf-8-sig")
    assert written["reason"].tolist() == ["before_registration", "after_closure"]


def test_penalties_published_on_for_want_of_a_fulfilment_date_are_counted(tmp_path):
    """A penalty past its maximum publicity end stays published while its obligations are not fulfilled, fined or
    not (DOMAIN A4); an empty fine_paid_on reads as not fulfilled, so the report counts them: a warning, with nothing
    to fulfil, should carry its decision date there."""
    c = fac.codes(2, seed=9)
    fac.write(fac.enterprises(c), tmp_path / "enterprises", "csv")
    pen = fac.records("penalties", c, 5)                 # maximum end 2024-03-01, before the snapshot 2025-12-31
    pen.loc[1, "fine_paid_on"] = "2023-04-01"            # fulfilled
    pen.loc[2, "repaired_on"] = "2023-06-05"             # repaired
    pen.loc[3, "amount"] = ""                            # no fine, no fulfilment date: counted too
    pen.loc[4, "publicity_max_end"] = "2026-03-01"       # not past its maximum end
    fac.write(pen, tmp_path / "penalties", "csv")
    rep = _measure(tmp_path)
    assert rep.by_table.set_index("table").loc["penalties", "unfulfilled_past_maximum"] == 2
    assert rep.indicators["unfulfilled_past_maximum"] == 2
    assert "without a fulfilment date (fine_paid_on): 2 as delivered, read as unfulfilled" in rep.summary()


def test_arrears_and_tax_grades_are_compared_by_the_period_they_cover(tmp_path):
    """helper-105's finding: arrears determined after the firm closed were counted 'after closure' although they
    accrued before (all 6 of the demo's), and a tax grade for a year before the firm's registration passed when it
    was published after it. Arrears compare their first unpaid month, tax grades their evaluation year."""
    c = fac.codes(5, seed=7)
    ent = fac.enterprises(c)
    ent.loc[0, ["registered_on", "reported_on"]] = ["2022-12-15", "2022-12-16"]   # inside December 2022 and 2022
    ent.loc[1, ["registered_on", "reported_on"]] = ["2023-01-10", "2023-01-11"]   # after both periods
    ent.loc[2, ["status", "closed_on"]] = ["deregistered", "2023-01-31"]          # closed after December 2022
    ent.loc[3, ["status", "closed_on"]] = ["deregistered", "2022-11-30"]          # closed before it
    ent.loc[4, ["registered_on", "reported_on"]] = ["2023-06-01", "2023-06-02"]   # after the publication
    arr = fac.records("arrears", c[:4])        # started 2022-12-01, determined 2023-03-01
    tax = fac.records("tax_grades", c)         # year 2022, published 2023-03-01
    tax.loc[3, "year"] = "2023"
    tax.loc[4, "year"] = ""                    # no year: its publication date is compared
    for name, df in (("enterprises", ent), ("arrears", arr), ("tax_grades", tax)):
        fac.write(df, tmp_path / name, "csv")
    rep = _measure(tmp_path)
    rows = rep.outside_life
    # no penalties table: its counts are not measured (repaired_before_minimum said 0)
    assert rep.indicators["repaired_before_minimum"] is None and rep.indicators["unfulfilled_past_maximum"] is None
    got = {(r.table, r.uscc): (r.reason, r.date_column, r.date) for r in rows.itertuples()}
    assert got == {
        ("arrears", c[1]): ("before_registration", "started_on", pd.Timestamp("2022-12-01")),
        ("arrears", c[3]): ("after_closure", "started_on", pd.Timestamp("2022-12-01")),
        ("tax_grades", c[1]): ("before_registration", "year", pd.Timestamp("2022-01-01")),
        ("tax_grades", c[3]): ("after_closure", "year", pd.Timestamp("2023-01-01")),
        ("tax_grades", c[4]): ("before_registration", "published_on", pd.Timestamp("2023-03-01"))}


# --------------------------------------------------------------------------- serious dishonesty, by hand
def test_serious_dishonesty_share_at_the_snapshot(tmp_path):
    from creditmodel.data import uscc

    # c[7]: an individual business (个体工商户, 92...), no legal person: not in the plan's share (DOMAIN.md)
    c = fac.codes(7) + uscc.generate("330205", 1, np.random.default_rng(5), category="2")
    ent = fac.enterprises(c)
    ent.loc[5, ["status", "closed_on"]] = ["deregistered", "2024-01-01"]            # closed before the snapshot
    ent.loc[6, ["registered_on", "reported_on"]] = ["2024-08-01", "2024-08-02"]   # registered after it
    fac.write(ent, tmp_path / "enterprises", "parquet")
    li = fac.records("lists", c, 8)
    spec = [  # (code, list type, start, end)
        (0, "serious_dishonesty", "2023-01-01", ""),            # active
        (1, "serious_dishonesty", "2023-01-01", "2024-01-01"),  # ended
        (2, "serious_dishonesty", "2024-12-01", ""),            # starts after the snapshot
        (3, "serious_dishonesty", "2023-05-01", ""),            # active, twice
        (3, "serious_dishonesty", "2022-05-01", ""),
        (4, "red", "2023-01-01", ""),                           # another list
        (5, "serious_dishonesty", "2023-01-01", ""),            # closed firm: not counted
        (7, "serious_dishonesty", "2023-01-01", ""),            # individual business: not a legal person
    ]
    for i, (k, lt, start, end) in enumerate(spec):
        li.loc[i, ["uscc", "list_type", "start_date", "end_date", "reported_on"]] = [c[k], lt, start, end, start]
    fac.write(li, tmp_path / "lists", "parquet")
    (tmp_path / "manifest.json").write_text(json.dumps({"snapshot_date": "2024-06-30"}), encoding="utf-8")
    rep = _measure(tmp_path)
    assert rep.snapshot_date == "2024-06-30"
    assert rep.indicators["enterprises_at_snapshot"] == 6 and rep.indicators["legal_person_enterprises_at_snapshot"] == 5
    assert rep.indicators["serious_dishonesty"] == 2
    assert rep.indicators["serious_dishonesty_share"] == pytest.approx(2 / 5)
    assert rep.targets.set_index("indicator").loc["serious_dishonesty_share", "met"] == False  # noqa: E712
    st = rep.by_street.set_index("street")
    assert st["serious_dishonesty"].sum() == 2 and st["legal_person_enterprises_at_snapshot"].sum() == 5
    assert st["enterprises_at_snapshot"].sum() == 6
    # the report carries the shares under the three definitions (here, with no black list or debtor, all equal
    # to the headline), their CSV, figure, JSON and the wider readings as metrics
    sd = rep.serious_dishonesty
    last = sd[sd["date"] == sd["date"].max()].set_index("definition")
    assert np.allclose(last["share"], 2 / 5) and (last["legal_person_enterprises"] == 5).all()
    assert rep.metrics()["serious_dishonesty_share_plus_dishonest_debtors"] == pytest.approx(2 / 5)
    files = quality.write_report(rep, tmp_path / "q")
    assert len(pd.read_csv(files["serious_dishonesty_definitions.csv"], encoding="utf-8-sig")) == len(sd)
    assert (tmp_path / "q" / "figures" / "serious_dishonesty_definitions.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads(files["quality.json"].read_text(encoding="utf-8"))["serious_dishonesty_definitions"]


# --------------------------------------------------------------------------- files, single tables, errors
def test_compliance_year_by_year_counted_by_hand(compliance_district, tmp_path):
    """The plan sets a path (95 % in 2020, 98 % by 2025): compliance per year the records reached the platform."""
    rep = _measure(compliance_district)
    by = rep.by_year.set_index("year")
    # register rows reported 2010-2014 (2013 incomplete, 2014 late); the ten penalties in 2023 (one without a report
    # date counts in its decision's year), four of them compliant
    assert by["records"].to_dict() == {2010: 1, 2011: 1, 2012: 1, 2013: 1, 2014: 1, 2023: 10}
    assert by["compliant"].to_dict() == {2010: 1, 2011: 1, 2012: 1, 2013: 0, 2014: 0, 2023: 4}
    assert by.loc[2023, "compliance_rate"] == pytest.approx(0.4) and by["records"].sum() == rep.indicators["public_records"]
    assert (by["target_2025"] == 0.98).all() and (by["baseline_2020"] == 0.95).all()
    # the years of register rows alone say so: their rate is not comparable with the record tables' (helper-109)
    assert by["tables"].to_dict() == {**{y: "enterprises" for y in range(2010, 2015)}, 2023: "penalties"}
    from creditmodel.data import quality_plots
    from types import SimpleNamespace   # the register's years moved into the chart's 8 years
    recent = rep.by_year.assign(year=rep.by_year["year"].where(rep.by_year["year"] == 2023, rep.by_year["year"] + 8))
    fig = quality_plots.plot_by_year(SimpleNamespace(by_year=recent))
    assert "register rows only" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    plt.close(fig)
    files = quality.write_report(rep, tmp_path / "q")
    assert pd.read_csv(files["by_year.csv"], encoding="utf-8-sig")["records"].tolist() == [1, 1, 1, 1, 1, 10]
    assert (tmp_path / "q" / "figures" / "compliance_by_year.png").read_bytes()[:4] == b"\x89PNG"


def test_report_files_and_determinism(compliance_district, tmp_path_factory):
    outs = [tmp_path_factory.mktemp(f"q{i}") for i in range(2)]
    reps = [quality.quality_report(compliance_district, o) for o in outs]
    a, b = outs
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    for required in ("quality.json", "quality_by_field.csv", "by_industry.csv", "by_street.csv", "quarantine.parquet",
                     "figures/completeness_heatmap.png", "figures/indicators_vs_targets.png",
                     "figures/compliance_by_table.png", "figures/uscc_error_causes.png", "figures/by_street.png",
                     "figures/by_industry.png"):
        assert required in names
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n
    assert all((a / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names if n.endswith(".png"))
    doc = json.loads((a / "quality.json").read_text(encoding="utf-8"))
    assert doc["indicators"]["compliant"] == reps[0].indicators["compliant"] == 7
    assert {r["indicator"] for r in doc["plan_targets"]} == set(reference.plan_targets())
    q = pd.read_parquet(a / "quarantine.parquet")
    assert len(q) == len(reps[0].quarantine) and set(q["rule"]) >= {"missing_value", "invalid_uscc"}
    by_field = pd.read_csv(a / "quality_by_field.csv", encoding="utf-8-sig")
    row = by_field[(by_field["table"] == "penalties") & (by_field["column"] == "department")].iloc[0]
    assert (row["missing"], row["zh"]) == (1, "数据提供部门")
    assert "collection compliance rate" in reps[0].summary()
    # the empty department (a descriptive field) is not quarantined: its row is kept and its fault written out
    kept = pd.read_parquet(a / "kept_faults.parquet")
    dept = kept[(kept["table"] == "penalties") & (kept["column"] == "department")]
    assert len(dept) == 1 and dept["rule"].iloc[0] == "missing_value"
    assert not ((q["table"] == "penalties") & (q["column"] == "department")).any()
    assert len(kept) == reps[0].indicators["rows_kept_cells_cleared"] == doc["indicators"]["rows_kept_cells_cleared"]


def test_a_rerun_into_the_same_folder_leaves_no_file_of_the_previous_run(compliance_district, tmp_path):
    """A reviewer's finding: a report on a single table written into the folder of a whole-district report kept that
    report's by-department, by-year, by-industry and by-street figures (and its injected_recovery.csv) beside the new
    quality.json, as if they were the new run's."""
    out = tmp_path / "q"
    quality.quality_report(compliance_district, out, figures=True)
    before = {p.name for p in (out / "figures").glob("*.png")}
    assert {"compliance_by_department.png", "by_industry.png", "by_street.png"} <= before
    (out / "injected_recovery.csv").write_text("stale")
    (out / "figures" / "my_own.png").write_bytes(b"x")                     # not the report's: left alone
    rep = quality.quality_report(compliance_district / "penalties.csv", out, figures=True)
    now = {p.name for p in (out / "figures").glob("*.png")}
    assert now == {f"{n}.png" for n in quality_plots.make_figures(rep)} | {"my_own.png"}
    assert not {"compliance_by_department.png", "by_industry.png", "by_street.png"} & now
    assert not (out / "injected_recovery.csv").exists()
    plt.close("all")
    with pytest.raises(InputError, match="into the input district folder"):   # among its tables: refused
        quality.quality_report(compliance_district, compliance_district, figures=False)
    assert not (compliance_district / "quality.json").exists()
    with pytest.raises(InputError, match="an existing file") as e:   # a raw FileExistsError after the measuring
        quality.quality_report(compliance_district, compliance_district / "penalties.csv", figures=False)
    assert e.value.file is not None and e.value.file.name == "penalties.csv"


def test_single_table_file(compliance_district, tmp_path):
    rep = quality.quality_report(compliance_district / "penalties.csv", tmp_path / "q", figures=False)
    ind = rep.indicators
    assert ind["tables"] == 1 and ind["late"] == 1 and ind["incomplete"] == 2
    assert ind["collection_compliance_rate"] is None and "enterprises" not in ind
    t = rep.targets.set_index("indicator")
    assert t.loc["collection_compliance_rate", "value"] is None
    assert (tmp_path / "q" / "quality.json").is_file()
    # nor per table, department or year: without a register no record is "registered", so every rate read 0.0
    for frame in (rep.by_table[rep.by_table["public_record"]], rep.by_department, rep.by_year):
        assert len(frame) and frame[["compliant", "compliance_rate", "unregistered"]].isna().all().all()
        assert frame["late"].notna().all()
    assert rep.by_table.set_index("table").loc["penalties", "late"] == 1
    for frame in (rep.by_industry, rep.by_street):   # a reviewer's finding: 0 compliant, every record unregistered
        cols = [c for c in frame.columns if c.endswith(("compliant", "compliance_rate", "unregistered"))]
        assert len(cols) >= 3 and frame[cols].isna().all().all()
    assert ind["compliant"] is None
    figs = quality_plots.make_figures(rep)
    assert "compliance_by_table" in figs and not {"compliance_by_department", "compliance_by_year"} & set(figs)
    assert "not measured" in " ".join(t.get_text() for t in figs["compliance_by_table"].axes[0].texts)
    for f in figs.values():
        plt.close(f)
    # the register alone is not the plan's collection: "98.54 % -> met" from it alone (a reviewer's finding)
    reg = quality.quality_report(compliance_district / "enterprises.parquet", tmp_path / "r", figures=False)
    assert reg.indicators["collection_compliance_rate"] is None
    t = reg.targets.set_index("indicator")
    assert pd.isna(t.loc["collection_compliance_rate", "value"]) and not t.loc["collection_compliance_rate", "met"]
    assert "no public credit record table besides the register" in t.loc["collection_compliance_rate", "note"]
    # the terminal line counts the record rows' invalid codes too (it said "0 invalid ... of 0 register rows")
    assert ind["records_invalid_uscc"] >= 1
    assert f"{ind['records_invalid_uscc']:,} invalid in the rows of all tables" in rep.summary()


def test_broken_input_raises_naming_the_file(compliance_district, tmp_path):
    with pytest.raises(InputError) as e:
        quality.quality_report(tmp_path / "nowhere", tmp_path / "q")
    assert e.value.file == tmp_path / "nowhere"
    bad = compliance_district / "lists.parquet"
    bad.write_bytes(b"garbage")
    with pytest.raises(InputError) as e:
        quality.quality_report(compliance_district, tmp_path / "q")
    assert e.value.file == bad


def test_cli_exit_codes(compliance_district, tmp_path):
    exe = Path(sys.executable).parent / "creditmodel"
    bad = subprocess.run([str(exe), "quality", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "q")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and str(tmp_path / "missing") in bad.stderr
    ok = subprocess.run([str(exe), "-q", "quality", "--data", str(compliance_district), "--out", str(tmp_path / "q")],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "46.67 %" in ok.stdout and (tmp_path / "q" / "quality.json").is_file()
    assert "injected faults" not in ok.stdout and not (tmp_path / "q" / "injected_recovery.csv").exists()


def test_progress_bars_only_on_a_terminal_unless_asked_for(compliance_district, tmp_path):
    """A piped or logged run got every bar redraw ("load:   8%|▊ | 1/12 ...") spliced into its log lines: bars
    show on a terminal only; CREDITMODEL_PROGRESS=on forces them, and log lines then stay whole lines."""
    import os

    exe = Path(sys.executable).parent / "creditmodel"
    env = {k: v for k, v in os.environ.items() if k != "CREDITMODEL_PROGRESS"}
    piped = subprocess.run([str(exe), "quality", "--data", str(compliance_district), "--out", str(tmp_path / "a")],
                           capture_output=True, text=True, timeout=300, env=env)
    assert piped.returncode == 0 and "INFO creditmodel" in piped.stderr
    assert "table/s" not in piped.stderr and "\r" not in piped.stderr
    forced = subprocess.run([str(exe), "quality", "--data", str(compliance_district), "--out", str(tmp_path / "b")],
                            capture_output=True, text=True, timeout=300, env={**env, "CREDITMODEL_PROGRESS": "on"})
    assert forced.returncode == 0 and "table/s" in forced.stderr
    logged = [ln for ln in forced.stderr.replace("\r", "\n").splitlines() if " INFO creditmodel" in ln]
    assert logged and all(re.match(r"\d\d:\d\d:\d\d INFO creditmodel", ln) for ln in logged), logged


# --------------------------------------------------------------------------- the generator's faults
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    d = tmp_path_factory.mktemp("district")
    cfg = GeneratorConfig(malformed_uscc_rate=0.004, duplicate_uscc_rate=0.003)
    generate_district(firms=1500, seed=11, out=d, progress=False, config=cfg)
    dist = io.load_district(d)
    rep = quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, d)
    injected = json.loads((d / "injected.json").read_text(encoding="utf-8"))
    return d, dist, rep, injected


def test_unregistered_records_are_counted_among_the_public_records_only(generated):
    """A think-tank reviewer's finding: notebook 01's "records whose code is not in the register: 74" held 6
    duplicated register rows; 68 public records had a valid code that no register row holds."""
    from creditmodel.data.tables import TABLES

    d, dist, rep, injected = generated
    assert any(f["fault"] == "duplicate_uscc" and f["count"] > 0 for f in injected["faults"])
    register = {uscc.normalise(c) for c in pd.read_parquet(d / "enterprises.parquet")["uscc"].dropna()}
    expected = 0
    for name, tb in TABLES.items():
        if name == "enterprises" or not tb.public_record or not (d / f"{name}.parquet").exists():
            continue
        codes = pd.read_parquet(d / f"{name}.parquet")["uscc"]
        expected += sum(1 for c in codes if c is not None and uscc.is_valid(c) and uscc.normalise(c) not in register)
    assert expected > 0 and rep.indicators["records_unregistered_uscc"] == expected


def _quarantine_rows(dist, table, rule, column=None):
    """Rows that broke ``rule``: quarantined, or kept with the cell read as empty (a descriptive field)."""
    q = dist.loaded[table].faults
    q = q[q["rule"] == rule]
    if column is not None:
        q = q[q["column"] == column]
    return set(q["row"])


def test_generated_faults_are_recovered_row_by_row(generated):
    d, dist, rep, injected = generated
    kinds = {f["fault"] for f in injected["faults"] if f["count"] > 0}
    assert kinds == {"malformed_uscc", "duplicate_uscc", "missing_field", "late_report"}
    bt = rep.by_table.set_index("table")
    bf = rep.by_field.set_index(["table", "column"])
    for f in injected["faults"]:
        t, col, rows = f["table"], f["column"], {r + 1 for r in f["rows"]}
        where = f"{f['fault']} {t}.{col}"
        if f["fault"] == "malformed_uscc":
            assert _quarantine_rows(dist, t, "invalid_uscc") == rows, where
            q = dist.loaded[t].quarantine.set_index("row")
            for det in f["details"]:
                assert uscc.check(det["value"]).reason == det["reason"], where
                assert q.loc[det["row"] + 1, "message"].startswith(det["reason"]), where
            measured = rep.indicators["uscc_invalid"] if t == "enterprises" else bt.loc[t, "uscc_invalid"]
        elif f["fault"] == "duplicate_uscc":
            pairs = {r + 1 for det in f["details"] for r in (det["row"], det["duplicate_of_row"])}
            assert _quarantine_rows(dist, t, "duplicate_key") == pairs, where
            measured = rep.indicators["uscc_duplicate_excess"]
        elif f["fault"] == "missing_field":
            # a penalty's empty publicity end is derived from its severity (kept, still an incomplete record)
            rule = "publicity_end_derived" if col.startswith("publicity_") else "missing_value"
            assert _quarantine_rows(dist, t, rule, col) == rows, where
            measured = bf.loc[(t, col), "missing"]
        else:
            flags = quality.record_flags(dist.loaded[t], quality._register(dist.loaded), DEADLINE)
            assert set(flags.loc[flags["late"], "row"]) == rows, where
            delays = flags.set_index("row")["delay_days"]
            assert all(delays[det["row"] + 1] == det["delay_days"] for det in f["details"]), where
            measured = bt.loc[t, "late"]
        assert measured == f["count"], where
        assert measured / bt.loc[t, "rows"] == pytest.approx(f["rate"]), where


def test_cli_reports_the_recovery_of_injected_faults(generated, tmp_path):
    d, _, rep, injected = generated
    r = run_cli("-q", "quality", "--data", str(d), "--out", str(tmp_path / "q"))
    assert r.returncode == 0, r.stderr
    n = len(injected["faults"])
    total = sum(f["count"] for f in injected["faults"])
    assert f"{n} of {n} entries measured exactly ({total:,} faults)" in r.stdout
    rec = pd.read_csv(tmp_path / "q" / "injected_recovery.csv")
    assert len(rec) == n and rec["match"].all() and rec["injected"].sum() == total
    # an entry the data does not bear out is named
    tampered = dict(injected, faults=[dict(injected["faults"][0], count=injected["faults"][0]["count"] + 1),
                                      *injected["faults"][1:]])
    d2 = tmp_path / "d2"
    d2.mkdir()
    for f in d.iterdir():
        (d2 / f.name).symlink_to(f)
    (d2 / "injected.json").unlink()
    (d2 / "injected.json").write_text(json.dumps(tampered), encoding="utf-8")
    r = run_cli("-q", "quality", "--data", str(d2), "--out", str(tmp_path / "q2"))
    assert r.returncode == 0, r.stderr
    f0 = injected["faults"][0]
    assert f"{n - 1} of {n} entries measured exactly" in r.stdout
    assert f"differs: {f0['fault']} in {f0['table']}." in r.stdout


def test_injected_recovery_reads_the_folders_fault_list(generated, tmp_path):
    d, _, rep, injected = generated
    pd.testing.assert_frame_equal(quality.injected_recovery(rep, d), quality.recovery(rep, injected))
    assert quality.injected_recovery(rep, tmp_path) is None          # no injected.json: not a generated district
    (tmp_path / "injected.json").write_text(json.dumps({"faults": [{"fault": "late_report"}]}), encoding="utf-8")
    with pytest.raises(InputError) as e:
        quality.injected_recovery(rep, tmp_path)
    assert e.value.file == tmp_path / "injected.json" and "fault list" in str(e.value)


def test_the_report_folder_holds_the_injected_recovery_of_a_generated_district(generated, tmp_path):
    """The command line wrote injected_recovery.csv, the notebook (and so the demo's quality/ folder) did not:
    the report writes it whenever the folder holds the generator's fault list."""
    d, _, _, injected = generated
    rep = quality.quality_report(d, tmp_path / "q", figures=False, progress=False)
    rec = pd.read_csv(tmp_path / "q" / "injected_recovery.csv", encoding="utf-8-sig")
    assert rep.files["injected_recovery.csv"] == tmp_path / "q" / "injected_recovery.csv"
    assert list(rec.columns) == list(rep.injected.columns) and len(rec) == len(injected["faults"])
    assert rec["match"].all() and rec["injected"].sum() == sum(f["count"] for f in injected["faults"])
    single = quality.quality_report(d / "enterprises.parquet", tmp_path / "one", figures=False, progress=False)
    assert single.injected is None and not (tmp_path / "one" / "injected_recovery.csv").exists()


def test_generated_totals_and_recovery_table(generated):
    d, dist, rep, injected = generated
    rec = quality.recovery(rep, injected)
    assert len(rec) == len(injected["faults"]) and rec["match"].all()
    total = {k: sum(f["count"] for f in injected["faults"] if f["fault"] == k)
             for k in ("malformed_uscc", "missing_field", "late_report")}
    ind = rep.indicators
    assert ind["late"] == total["late_report"]
    assert ind["missing_mandatory_cells"] == total["missing_field"]
    assert ind["records_invalid_uscc"] == total["malformed_uscc"]   # register rows included
    # a clean generated district is otherwise consistent: rows in = kept + quarantined everywhere
    c = dist.counts()
    assert (c["rows"] == c["kept"] + c["quarantined"]).all()
    assert np.isclose(ind["uscc_error_duplicate_rate"],
                      (ind["uscc_invalid"] + ind["uscc_duplicate_excess"]) / ind["enterprises"])


def test_a_district_table_without_a_file_is_named(generated, tmp_path):
    """quality used to report a district without penalties.parquet as '11 table(s)' with no word, its compliance
    rate then covering the other tables only; evaluate already warned."""
    d, _, rep, _ = generated
    assert rep.tables_absent == [] and "WARNING" not in rep.summary()
    d2 = tmp_path / "d2"
    d2.mkdir()
    for f in d.iterdir():
        if f.name != "penalties.parquet":
            (d2 / f.name).symlink_to(f)
    dist = io.load_district(d2)
    rep2 = quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, d2)
    assert rep2.tables_absent == ["penalties"]
    assert "WARNING: no file for table(s) penalties" in rep2.summary()
    assert rep2.to_dict()["tables_absent"] == ["penalties"]


def test_an_empty_register_is_named_in_the_summary(generated, tmp_path):
    """An enterprises table with a header only gave 'compliance rate: 0.00 %' and nothing else (evaluate: exit 2)."""
    d, _, rep, _ = generated
    assert "no usable enterprise row" not in rep.summary()
    d2 = tmp_path / "d2"
    d2.mkdir()
    for f in d.iterdir():
        if f.name != "enterprises.parquet":
            (d2 / f.name).symlink_to(f)
    pd.read_parquet(d / "enterprises.parquet").iloc[:0].to_parquet(d2 / "enterprises.parquet")
    dist = io.load_district(d2)
    rep2 = quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, d2)
    assert "WARNING: no usable enterprise row (the table is empty)" in rep2.summary()


def test_a_bad_fault_list_is_refused_after_the_report_is_written(generated, tmp_path):
    """Reviewer's finding: a folder whose injected.json is not the generator's fault list exited 2 with no report
    (it wrote the report before); the report is written, then the fault list refused."""
    import shutil

    d = tmp_path / "d"
    shutil.copytree(generated[0], d)
    (d / "injected.json").write_text(json.dumps({"format": 1, "faults": [{"fault": "x"}]}), encoding="utf-8")
    with pytest.raises(InputError) as e:
        quality.quality_report(d, tmp_path / "q", figures=False, progress=False)
    assert e.value.file == d / "injected.json"
    assert (tmp_path / "q" / "quality.json").is_file() and not (tmp_path / "q" / "injected_recovery.csv").exists()


def test_the_summary_prints_a_failing_share_with_the_decimals_that_tell_it_from_its_target(compliance_district):
    """A code reviewer's finding: 0.97996 against a >= 98 % target printed as '98.00 %' beside 'NOT met'."""
    import dataclasses

    rep = _measure(compliance_district)
    t = rep.targets.copy()
    i = t.index[t["indicator"] == "collection_compliance_rate"][0]
    t.loc[i, ["value", "met"]] = [0.97996, False]
    line = next(ln for ln in dataclasses.replace(rep, targets=t).summary().splitlines()
                if "collection compliance rate" in ln)
    assert "97.996 %" in line and "NOT met" in line and "98.00" not in line.split("(target")[0]


def test_a_table_without_rows_recovers_its_zero_faults(tmp_path):
    """A 10-firm district had no repairs: the recovery said 'differs: late_report in repairs' (measured empty,
    injected 0). A table without rows holds no fault: measured 0, a match."""
    d = tmp_path / "tiny"
    generate_district(firms=10, seed=1, out=d, progress=False)
    dist = io.load_district(d)
    rep = quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, d)
    rec = quality.recovery(rep, json.loads((d / "injected.json").read_text(encoding="utf-8")))
    empty = rec[rec["rows"] == 0]
    assert len(empty) and (empty["measured"] == 0).all() and empty["match"].all()
    assert rec["match"].all()


def test_a_penalties_table_of_a_header_only_is_no_penalty(tmp_path):
    """`creditmodel quality` on a district whose penalties file had a header and no rows: exit 1, a TypeError from
    mapping the repairs onto the empty table (evaluate and explain read it as no penalty)."""
    d = tmp_path / "tiny"
    generate_district(firms=60, seed=2, out=d, progress=False)
    pen = pd.read_parquet(d / "penalties.parquet")
    pen.iloc[:0].to_parquet(d / "penalties.parquet", index=False)
    dist = io.load_district(d)
    assert len(dist.loaded["repairs"].data) > 0   # repairs that point at penalties the file no longer holds
    rep = quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, d)
    assert quality.repairs_applied_early(dist.loaded) == 0
    assert rep.indicators["enterprises"] == 60


def test_serious_dishonesty_share_under_three_definitions_year_by_year():
    """A think tank's finding: only list_type serious_dishonesty counted, a choice the notebook never stated; the
    sector black lists (serious-dishonesty lists of their sector since 2020) and the dishonest judgement debtors
    doubled and tripled the share. The three readings, at each year end and at the snapshot."""
    from creditmodel.data import uscc
    from creditmodel.data.quality import SERIOUS_DISHONESTY_DEFINITIONS, serious_dishonesty_shares

    c = uscc.generate("330205", 5, np.random.default_rng(5))
    c += uscc.generate("330205", 1, np.random.default_rng(6), category="2")   # an individual business: in no share
    ent = pd.DataFrame({"uscc": c, "registered_on": pd.to_datetime(["2015-01-01"] * 5 + ["2015-01-01"]),
                        "closed_on": pd.to_datetime([None, None, None, None, "2021-06-30", None])})
    lists = pd.DataFrame({"uscc": [c[0], c[1], c[2], c[5]], "list_type": ["serious_dishonesty", "black",
                                                                      "serious_dishonesty", "serious_dishonesty"],
                          "start_date": pd.to_datetime(["2020-03-01", "2021-05-01", "2020-01-01", "2020-01-01"]),
                          "end_date": pd.to_datetime([None, None, "2021-01-01", None])})
    enf = pd.DataFrame({"uscc": [c[3], c[4]], "dishonest_listed_on": pd.to_datetime(["2021-02-01", "2020-02-01"]),
                        "dishonest_removed_on": pd.to_datetime([None, None])})
    sd = serious_dishonesty_shares({"enterprises": ent, "lists": lists, "enforcement": enf}, "2021-09-30")
    assert list(sd["definition"].unique()) == list(SERIOUS_DISHONESTY_DEFINITIONS)
    s = sd.set_index(["date", "definition"])
    y20, snap = pd.Timestamp("2020-12-31").date(), pd.Timestamp("2021-09-30").date()
    assert sorted(sd["date"].unique()) == [y20, snap]          # the year ends of the lists, then the snapshot
    # 2020-12-31: five legal persons exist; c0 and c2 listed; black none yet; debtor c4
    assert s.loc[(y20, "serious_dishonesty_list"), ["listed", "legal_person_enterprises"]].tolist() == [2, 5]
    assert s.loc[(y20, "plus_black_lists"), "listed"] == 2 and s.loc[(y20, "plus_dishonest_debtors"), "listed"] == 3
    # the snapshot: c4 closed (four legal persons); c2's listing ended; c1 black; c3 a debtor
    assert s.loc[(snap, "serious_dishonesty_list"), ["listed", "legal_person_enterprises"]].tolist() == [1, 4]
    assert s.loc[(snap, "plus_black_lists"), "listed"] == 2
    assert s.loc[(snap, "plus_dishonest_debtors"), "share"] == pytest.approx(3 / 4)


def test_who_is_on_which_list_by_type_department_and_reason(tmp_path):
    """A think tank's finding: no table said who is on which list, for what reason, listed by which department.
    Counted by hand: an enterprise once per total however many entries, closed firms and ended entries out, the
    last 12 months' entries and exits."""
    from creditmodel.data import uscc
    from creditmodel.data.quality import list_membership

    c = uscc.generate("330205", 5, np.random.default_rng(7))
    ent = pd.DataFrame({"uscc": c, "registered_on": pd.to_datetime(["2015-01-01"] * 4 + ["2026-01-01"]),
                        "closed_on": pd.to_datetime([None, None, None, "2025-06-30", None])})
    lists = pd.DataFrame({
        "uscc": [c[0], c[0], c[1], c[2], c[3], c[4], c[1]],
        "list_type": ["black", "black", "black", "black", "black", "black", "red"],
        "department": ["市场监管", "生态环境", "市场监管", "市场监管", "市场监管", "市场监管", " "],
        "reason": ["食品安全", "环境违法", "食品安全", "食品安全", "食品安全", "食品安全", "纳税信用A级"],
        "start_date": pd.to_datetime(["2025-03-01", "2020-01-01", "2023-01-01", "2022-01-01", "2024-01-01",
                                      "2025-01-01", "2024-01-01"]),
        "end_date": pd.to_datetime([None, None, None, "2025-02-01", None, None, None])})
    t = list_membership({"enterprises": ent, "lists": lists}, "2025-12-31")
    key = t.set_index(["list_type", "department", "reason"])
    # c3 closed, c4 not yet registered: 3 enterprises exist; black: c0 (two entries) and c1 active, c2 ended
    assert key.loc[("black", "(all)", "(all)"), ["enterprises", "entries", "entered", "left"]].tolist() == [2, 3, 1, 1]
    assert key.loc[("black", "(all)", "(all)"), "share"] == pytest.approx(2 / 3)
    assert key.loc[("black", "市场监管", "食品安全"), ["enterprises", "entries", "left"]].tolist() == [2, 2, 1]
    assert key.loc[("black", "生态环境", "环境违法"), "enterprises"] == 1
    assert ("black", "市场监管", "(all)") not in key.index               # one reason: no subtotal repeating it
    assert key.loc[("red", "(missing)", "纳税信用A级"), "enterprises"] == 1
    assert list(t["list_type"].unique()) == ["black", "red"]              # the plan's order: black before honours
    assert list(t.columns) == ["list_type", "department", "reason", "enterprises", "share", "enterprises_existing",
                               "entries", "entered", "left"]
    assert set(t["enterprises_existing"]) == {3}                          # the share's denominator, said
    with pytest.raises(InputError, match="months"):
        list_membership({"enterprises": ent, "lists": lists}, "2025-12-31", months=0)
    with pytest.raises(InputError, match="enterprises"):
        list_membership({"lists": lists}, "2025-12-31")


def test_the_quality_report_writes_the_list_membership(compliance_district, tmp_path):
    li = fac.records("lists", fac.codes(5), 4)
    li.loc[3, "list_type"] = "black"
    fac.write(li, compliance_district / "lists", "csv")
    rep = quality.quality_report(compliance_district, tmp_path / "q", figures=False)
    got = pd.read_csv(tmp_path / "q" / "list_membership.csv", encoding="utf-8-sig")
    assert got[["list_type", "reason", "enterprises"]].values.tolist() == [
        ["black", "(all)", 1], ["black", "守信", 1], ["red", "(all)", 3], ["red", "守信", 3]]
    assert got["share"].tolist() == pytest.approx([0.2, 0.2, 0.6, 0.6])          # of the register's 5 firms
    tables = io.load_district(compliance_district, progress=False)
    assert rep.list_membership.equals(quality.list_membership(tables.tables, tables.snapshot_date))
    assert json.loads((tmp_path / "q" / "quality.json").read_text(encoding="utf-8"))["list_membership"] == \
        json.loads(rep.list_membership.to_json(orient="records", force_ascii=False))


def test_the_list_figure_reads_each_reason_without_a_cjk_font(monkeypatch):
    """The figure of who is on which list names each reason in English when no CJK font can draw it (a glossary of
    the national wording, a bracketed sector glossed too), a bar per list type and reason, its share of the
    register."""
    from creditmodel.data.quality import ALL

    monkeypatch.setattr(quality_plots, "cjk_font", lambda: None)
    lm = pd.DataFrame({"list_type": ["black", "black", "serious_dishonesty", "serious_dishonesty", "red"],
                       "department": [ALL, "市场监督管理局", ALL, "消防救援大队", "未知部门"],
                       "reason": [ALL, "食品安全严重违法生产经营者", ALL, "严重违法失信行为（消防安全）", "某某荣誉"],
                       "enterprises": [3, 3, 2, 2, 1], "share": [0.03, 0.03, 0.02, 0.02, 0.01],
                       "entries": [3, 3, 2, 2, 1], "entered": [0] * 5, "left": [0] * 5})
    rep = type("R", (), {"list_membership": lm, "snapshot_date": "2025-12-31"})()
    fig = quality_plots.plot_list_membership(rep)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["serious dishonesty: serious violation (fire safety)", "black: food-safety serious offender",
                      "red: reason #3"]
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == pytest.approx([0.02, 0.03, 0.01])
    plt.close(fig)


def test_the_list_figure_counts_a_firm_listed_by_two_courts_once(monkeypatch):
    """Dishonest debtors listed by two courts (2 firms each, one firm by both: 3 distinct, the list's (all) row): its
    bar reads 3 (3.00 %), not 4; a list with two reasons keeps a bar per reason, summed over its departments (r1: 1 + 3
    = 4; a think tank's finding: the demo's bar said 424 against the table's 403)."""
    from creditmodel.data.quality import ALL

    monkeypatch.setattr(quality_plots, "cjk_font", lambda: None)
    lm = pd.DataFrame({
        "list_type": ["dishonest_debtor"] * 3 + ["black"] * 4,
        "department": [ALL, "A court", "B court", ALL, "X", "Y", "Y"],
        "reason": [ALL, "失信被执行人", "失信被执行人", ALL, "r1", "r1", "r2"],
        "enterprises": [3, 2, 2, 5, 1, 3, 2], "share": [0.03, 0.02, 0.02, 0.05, 0.01, 0.03, 0.02],
        "entries": [4, 2, 2, 6, 1, 3, 2], "entered": [0] * 7, "left": [0] * 7})
    rep = type("R", (), {"list_membership": lm, "snapshot_date": "2025-12-31"})()
    fig = quality_plots.plot_list_membership(rep)
    ax = fig.axes[0]
    bars = dict(zip((t.get_text() for t in ax.get_yticklabels()), (p.get_width() for p in ax.patches)))
    assert bars == pytest.approx({"black: r1 (2 departments)": 0.04, "black: r2": 0.02,
                                  "dishonest debtor: dishonest judgement debtor (2 departments)": 0.03})
    assert sorted(a.get_text() for a in ax.texts) == ["2 (2.00%)", "3 (3.00%)", "4 (4.00%)"]
    plt.close(fig)
