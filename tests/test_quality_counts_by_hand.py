"""Counting parts of the data checks (register code rates, rows in = kept + quarantined): tests written after a
manual mutation-testing pass. Expected values are counted by hand from the rows each test breaks."""

from __future__ import annotations

import pandas as pd
import pytest

import district_factory as fac
from creditmodel.data import io, quality


def _measure(d):
    dist = io.load_district(d)
    return quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, d), dist


def test_an_invalid_code_used_twice_is_one_error_row_and_one_duplicate_row_not_three(tmp_path):
    c = fac.codes(6)
    ent = fac.enterprises(c)
    bad = c[1][:17] + ("0" if c[1][17] != "0" else "1")      # wrong check character
    ent.loc[[1, 4], "uscc"] = bad                             # two firms (names 企业1, 企业4) under one invalid code
    fac.write(ent, tmp_path / "enterprises", "csv")
    rep, dist = _measure(tmp_path)
    ind = rep.indicators
    # rows 2 and 5 are invalid; row 5 also repeats row 2's code: 2 rows are invalid or a duplicate, not 2 + 1
    assert (ind["enterprises"], ind["uscc_invalid"], ind["uscc_duplicate_excess"]) == (6, 2, 1)
    assert ind["uscc_error_or_duplicate"] == 2
    assert ind["uscc_error_duplicate_rate"] == pytest.approx(2 / 6)
    # rows in = rows kept + rows quarantined, table by table and in total
    bt = rep.by_table.set_index("table")
    assert bt.loc["enterprises", "rows"] == 6
    assert bt.loc["enterprises", "kept"] + bt.loc["enterprises", "quarantined"] == 6
    assert ind["rows_total"] == ind["rows_kept"] + ind["rows_quarantined"]
    assert ind["rows_quarantined_share"] == pytest.approx(ind["rows_quarantined"] / 6)


def test_completeness_and_rows_with_faults_counted_by_hand(tmp_path):
    c = fac.codes(5)
    ent = fac.enterprises(c)
    ent.loc[2, ["registered_on", "reported_on"]] = ""       # row 3: two mandatory cells empty, one row at fault
    fac.write(ent, tmp_path / "enterprises", "csv")
    rep, _ = _measure(tmp_path)
    ind = rep.indicators
    # 8 mandatory columns of the register (uscc, name, industry, street, registered_on, size_class, status,
    # reported_on) x 5 rows = 40 cells, 2 of them empty
    assert ind["missing_mandatory_cells"] == 2
    assert ind["completeness_mandatory"] == pytest.approx(38 / 40)
    bt = rep.by_table.set_index("table")
    assert bt.loc["enterprises", ["rows", "kept", "quarantined"]].tolist() == [5, 4, 1]
    assert bt.loc["enterprises", "rows_with_own_faults"] == 1
    by_field = rep.by_field.set_index(["table", "column"])
    # completeness is over the rows delivered (5), the quarantined row included
    assert by_field.loc[("enterprises", "registered_on"), ["rows", "filled", "missing"]].tolist() == [5, 4, 1]
    assert by_field.loc[("enterprises", "registered_on"), "completeness"] == pytest.approx(4 / 5)
    assert by_field.loc[("enterprises", "name"), "completeness"] == 1.0


def test_copies_of_a_record_differing_only_in_a_descriptive_field_keep_the_first(tmp_path):
    c = fac.codes(3)
    pen = fac.records("penalties", c, 3)
    copy = pen.iloc[[0]].assign(department="市场监管局")        # row 4: row 1 again, another department's name
    other_id = pen.iloc[[1]].assign(record_id="PEN99999")      # row 5: row 2 again under another id
    pen = pd.concat([pen, copy, other_id], ignore_index=True)
    lt = io.load_table(fac.write(pen, tmp_path / "penalties", "csv"))
    assert (lt.n_rows, lt.n_kept, lt.n_quarantined) == (5, 4, 1)
    assert lt.quarantine[["row", "rule"]].values.tolist() == [[4, "duplicate_row"]]
    # one record under two ids cannot be told from two like records: kept, the later one warned about
    w = lt.warnings[lt.warnings["rule"] == "possible_duplicate_record"]
    assert w["row"].tolist() == [5]


def _pooled_district(d):
    """4 register rows (all compliant); 11 penalties: rows 1-5 of 税务局 (rows 1-2 reported 30 days late), rows
    6-10 of 市场监管局, row 11 with an empty department (incomplete); 6 list entries of 发改局 (3 late); 20 tax
    grades (no department column), all on time."""
    c = fac.codes(4)
    fac.write(fac.enterprises(c), d / "enterprises", "csv")
    pen = fac.records("penalties", c, 11)
    pen["record_id"] = [f"PEN{i:05d}" for i in range(11)]
    pen.loc[5:9, "department"] = "市场监管局"
    pen.loc[10, "department"] = ""
    pen.loc[[0, 1], "reported_on"] = "2023-03-31"
    fac.write(pen, d / "penalties", "csv")
    li = fac.records("lists", c, 6)
    li.loc[[0, 2, 4], "reported_on"] = "2023-03-31"
    fac.write(li, d / "lists", "csv")
    fac.write(fac.records("tax_grades", c, 20), d / "tax_grades", "csv")


def test_compliance_summary_reads_the_pooled_rate_by_table_and_by_supplier(tmp_path):
    _pooled_district(tmp_path)
    rep, _ = _measure(tmp_path)
    # compliant: register 4 of 4, penalties 8 of 11 (2 late, 1 incomplete), lists 3 of 6, tax grades 20 of 20
    assert rep.indicators["collection_compliance_rate"] == pytest.approx(35 / 41)
    s = quality.compliance_summary(rep).set_index("scope")
    assert list(s.index) == list(quality.COMPLIANCE_SCOPES)
    assert s.loc["all public records", ["records", "compliant", "groups", "groups_below_target"]].tolist() == [41, 35, 4, 2]
    assert s.loc["all public records", "compliance_rate"] == pytest.approx(35 / 41)
    # the largest table (tax grades, 20 records) against the other three (21 records, 15 compliant)
    big, rest = s.loc["largest tables"], s.loc["other tables"]
    assert (big["tables"], big["records"], big["compliant"], big["compliance_rate"]) == ("tax_grades", 20, 20, 1.0)
    assert big["share_of_records"] == pytest.approx(20 / 41)
    assert rest["tables"] == "penalties,lists,enterprises"          # by records, largest first
    assert (rest["records"], rest["compliant"], rest["groups"], rest["groups_below_target"]) == (21, 15, 3, 2)
    assert rest["compliance_rate"] == pytest.approx(15 / 21)
    # each table once: the plain mean of 1, 8/11, 1/2 and 1
    assert s.loc["each table once", "compliance_rate"] == pytest.approx((2.5 + 8 / 11) / 4)
    assert s.loc["each table once", "weighting"] == "unweighted"
    # each supplier once: [enterprises] 1, 税务局 3/5, 市场监管局 1, 发改局 1/2, [tax_grades] 1; the record without
    # a department is no supplier's (its 1 record is left out of that row only)
    sup = s.loc["each supplier once"]
    assert sup["compliance_rate"] == pytest.approx(4.1 / 5)
    assert (sup["groups"], sup["groups_below_target"], sup["records"]) == (5, 2, 40)
    assert pd.isna(sup["compliant"])
    text = quality.compliance_summary_text(quality.compliance_summary(rep))
    assert "85.37% of 41 records" in text
    assert "The largest table, `tax_grades`, holds 48.8% of them, which comply at 100.00%" in text
    assert "the records of the other 3 tables comply at 71.43%" in text
    assert "2 of the 4 tables are below the 98% target (their rates' plain mean: 80.68%)" in text
    assert "2 of the 5 suppliers are below the 98% target (their rates' plain mean: 82.00%)" in text
    two = quality.compliance_summary(rep, largest=2).set_index("scope")
    assert two.loc["largest tables", "tables"] == "tax_grades,penalties"
    assert two.loc["largest tables", ["records", "compliant"]].tolist() == [31, 28]
    assert "The 2 largest tables, `tax_grades`, `penalties`, hold 75.6% of them" in \
        quality.compliance_summary_text(quality.compliance_summary(rep, largest=2))
    # the terminal summary says it in one line (20 / 41 = 48.78 %, 15 / 21 = 71.43 %)
    assert ("  compliance pooled by records: tax_grades holds 48.78 % of them at 100.00 %, the other tables' records "
            "71.43 %; below the target: 2 of 4 tables, 2 of 5 suppliers (compliance_summary.csv)") in \
        rep.summary().splitlines()
    # as many largest tables as tables: no split
    assert "largest tables" not in set(quality.compliance_summary(rep, largest=4)["scope"])
    with pytest.raises(quality.InputError, match="largest must be a whole number of tables >= 1, got 0"):
        quality.compliance_summary(rep, largest=0)


def test_compliance_summary_is_empty_without_a_register_and_the_figure_pools_first(tmp_path):
    _pooled_district(tmp_path)
    rep, _ = _measure(tmp_path)
    from creditmodel.data import quality_plots

    fig = quality_plots.plot_by_table(rep)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["all public records", "enterprises"]
    assert ax.patches[0].get_width() == pytest.approx(35 / 41)      # the pooled bar is the plan's indicator
    assert ax.patches[2].get_width() == pytest.approx(8 / 11)       # then each table in by_table's order
    quality_plots.close(fig)
    rep2 = quality.quality_report(tmp_path / "penalties.csv", progress=False)   # one table: no register
    assert rep2.indicators["collection_compliance_rate"] is None
    assert quality.compliance_summary(rep2).empty
    assert quality.compliance_summary_text(quality.compliance_summary(rep2)) == ""


def test_breakdown_bars_carry_their_own_denominators(tmp_path):
    _pooled_district(tmp_path)
    rep, _ = _measure(tmp_path)
    from creditmodel.data import quality_plots

    fig = quality_plots.plot_by_industry(rep)
    texts = [[t.get_text() for t in ax.texts] for ax in fig.axes[:3]]
    bi = rep.by_industry.set_index("industry")
    # firm i is in section CFIE[i % 4]: C holds firm 0, whose records are penalties 0, 4, 8, lists 0, 4 and tax
    # grades 0, 4, 8, 12, 16 (10 records; a breakdown's records leave the register rows out), and 1 register row
    assert bi.loc["C", ["records", "enterprises"]].tolist() == [10, 1]
    row = list(bi.index).index("C")
    assert texts[0][row].endswith(" of 10")
    assert texts[1][row].endswith(" of 1")
    quality_plots.close(fig)


def test_a_table_exactly_at_the_target_is_not_below_it(tmp_path):
    c = fac.codes(4)
    fac.write(fac.enterprises(c), tmp_path / "enterprises", "csv")
    tax = fac.records("tax_grades", c, 50)
    tax.loc[7, "reported_on"] = "2023-03-31"                   # 1 of 50 late: 49 / 50 = 98 %, the target itself
    fac.write(tax, tmp_path / "tax_grades", "csv")
    pen = fac.records("penalties", c, 5)
    pen.loc[0, "reported_on"] = "2023-03-31"                   # 4 / 5
    fac.write(pen, tmp_path / "penalties", "csv")
    rep, _ = _measure(tmp_path)
    s = quality.compliance_summary(rep).set_index("scope")
    assert s.loc["largest tables", "compliance_rate"] == 0.98
    assert s.loc["largest tables", "groups_below_target"] == 0
    assert s.loc["each table once", ["groups", "groups_below_target"]].tolist() == [3, 1]   # penalties only
