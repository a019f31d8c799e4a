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
