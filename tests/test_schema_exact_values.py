"""Exact values of the schema checks (creditmodel.data.schema), worked out by hand on small hand-made frames.

Each test breaks a few cells of a valid table from tests/district_factory.py and states the quarantine (or
warnings, or typed values) that the rules in the module docstring and tables.py give: the 1-based data row, the
key, the column, the rule, the value as delivered and the message word for word. The frames are checked in memory
(``schema.check_table`` on text frames, as a CSV is read), so the file runs in a few seconds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import district_factory as fac
from creditmodel.data import schema
from creditmodel.errors import InputError


def _q(res):
    """(row, key, column, rule, value) of every quarantine entry, in table order."""
    q = res.quarantine
    return list(zip(q["row"], q["key"], q["column"], q["rule"], q["value"]))


def _w(res):
    w = res.warnings
    return list(zip(w["row"], w["column"], w["rule"]))


def _msg(frame, row, column, rule=None):
    m = (frame["row"] == row) & (frame["column"] == column)
    if rule is not None:
        m &= frame["rule"] == rule
    assert m.sum() == 1, frame[["row", "column", "rule"]].values.tolist()
    return frame.loc[m, "message"].item()


# --------------------------------------------------------------------------- numbers and integers
def test_integers_read_whole_numbers_and_set_aside_the_rest():
    """months_overdue is an int (min 1): 1.0 is 1; 1.5 is bad_type; inf is nan_or_inf only (not also bad_type);
    '-' is an empty cell (missing_value); 2**63 does not fit an int64 (bad_type)."""
    df = fac.records("arrears", fac.codes(6), 6)
    df["months_overdue"] = ["1.0", "1.5", "inf", "-", "9223372036854775808", "9223372036854774784"]
    res = schema.check_table(df, "arrears", file="arrears.csv")
    assert _q(res) == [(2, "ARR00001", "months_overdue", "bad_type", "1.5"),
                       (3, "ARR00002", "months_overdue", "nan_or_inf", "inf"),
                       (4, "ARR00003", "months_overdue", "missing_value", "-"),
                       (5, "ARR00004", "months_overdue", "bad_type", "9223372036854775808")]
    assert str(res.typed["months_overdue"].dtype) == "Int64"
    assert res.typed.loc[0, "months_overdue"] == 1
    assert res.typed.loc[5, "months_overdue"] == 9223372036854774784   # 2**63 - 1024: the largest float below 2**63
    q = res.quarantine
    assert _msg(q, 2, "months_overdue") == "'1.5' is not a whole number"
    assert _msg(q, 3, "months_overdue") == "NaN or infinite number"
    assert _msg(q, 4, "months_overdue") == "mandatory field is empty (months overdue when determined)"
    assert (q["table"] == "arrears").all() and (q["file"] == "arrears.csv").all()
    assert res.bad.tolist() == [False, True, True, True, True, False]
    assert res.null_counts["months_overdue"] == 1


def test_money_with_a_yuan_sign_or_a_chinese_unit_in_the_columns_unit():
    """arrears.amount is in yuan; enterprises.registered_capital in 10k yuan (万元): 1.2亿元 is 12000 万元 and
    1.25元 is 0.000125 万元 (rounded to the 6 decimals it carries in 万元, not to whole units)."""
    df = fac.records("arrears", fac.codes(3), 3)
    df["amount"] = ["￥39,500", "3.5万", "1,234.50"]
    res = schema.check_table(df, "arrears")
    assert len(res.quarantine) == 0
    assert res.typed["amount"].tolist() == [39500.0, 35000.0, 1234.5]
    ent = fac.enterprises(fac.codes(3))
    ent["registered_capital"] = ["1.2亿元", "1.25元", "500万"]
    res = schema.check_table(ent, "enterprises")
    assert len(res.quarantine) == 0 and len(res.warnings) == 0
    assert res.typed["registered_capital"].tolist() == [12000.0, 0.000125, 500.0]


def test_a_boolean_amount_is_not_read_as_a_number():
    """A boolean column where sales (yuan) are due: bad_type, and the typed cell is empty, not 1.0 or 0.0."""
    df = fac.records("invoices_monthly", fac.codes(3), 3)
    df["sales"] = pd.array([True, False, None], dtype="boolean")
    co = schema.coerce_table(df, "invoices_monthly")
    assert co.typed["sales"].isna().all()
    assert sorted(zip(co.issues["row"], co.issues["rule"])) == [(0, "bad_type"), (1, "bad_type")]
    assert co.null_counts["sales"] == 1
    # a count (int, min 0, no max) is no 0/1 flag either: true/false in it is bad_type too
    df = fac.records("invoices_monthly", fac.codes(3), 3)
    df["n_sales_invoices"] = pd.array([True, None, False], dtype="boolean")
    co = schema.coerce_table(df, "invoices_monthly")
    assert sorted(zip(co.issues["row"], co.issues["column"], co.issues["rule"])) == [
        (0, "n_sales_invoices", "bad_type"), (2, "n_sales_invoices", "bad_type")]
    assert co.typed["n_sales_invoices"].isna().all()     # empty, as in a float column (it kept 1 and 0)


def test_a_number_in_a_date_column_is_yyyymmdd_only_when_whole():
    df = fac.records("tax_grades", fac.codes(3), 3)
    df["published_on"] = [20230301.0, 20230301.5, 2023.0]
    res = schema.check_table(df, "tax_grades")
    assert res.typed.loc[0, "published_on"] == pd.Timestamp("2023-03-01")
    assert [(r, c, ru) for r, _, c, ru, _ in _q(res)] == [(2, "published_on", "bad_type"), (3, "published_on", "bad_type")]
    assert _msg(res.quarantine, 2, "published_on") == ("'20230301.5' is not a date (ISO 8601, e.g. 2024-03-31): "
                                                       "a number in a date column is read as yyyymmdd (e.g. 20240331)")


# --------------------------------------------------------------------------- dates
def test_date_range_boundaries_and_the_open_end_placeholder():
    """Plausible dates are 1900-01-01..2099-12-31 inclusive. An optional date after 2099 (fine_paid_on) is an
    open-end placeholder: read as empty with a warning, the row kept; a mandatory one is out_of_range."""
    df = fac.records("penalties", fac.codes(6), 6)
    df["reported_on"] = ["1900-01-01", "1899-12-31", "2023-03-03", "2023-03-03", "2100-01-01", "2023-03-03"]
    df["publicity_max_end"] = "2099-12-31"       # scheduled, mandatory: the last plausible day
    df["fine_paid_on"] = ["", "", "2099-12-31", "2100-01-01", "", "9999-12-31"]
    res = schema.check_table(df, "penalties")
    assert [(r, c, ru) for r, _, c, ru, _ in _q(res)] == [(2, "reported_on", "out_of_range"),
                                                          (5, "reported_on", "out_of_range")]
    assert _msg(res.quarantine, 2, "reported_on") == ("1899-12-31 is outside the plausible dates 1900-01-01..2099-12-31"
                                                      " (leave an open end empty)")
    assert _msg(res.quarantine, 5, "reported_on").startswith("2100-01-01 is outside")
    assert res.quarantine.loc[0, "value"] == "1899-12-31"
    assert _w(res) == [(4, "fine_paid_on", "open_end_placeholder"), (6, "fine_paid_on", "open_end_placeholder")]
    assert _msg(res.warnings, 6, "fine_paid_on") == "9999-12-31 read as an open end (empty)"
    assert res.typed.loc[0, "reported_on"] == pd.Timestamp("1900-01-01")
    assert res.typed.loc[2, "fine_paid_on"] == pd.Timestamp("2099-12-31")
    assert res.typed["fine_paid_on"].isna().tolist() == [True, True, False, True, True, True]
    assert res.null_counts["fine_paid_on"] == 5      # 3 empty + 2 placeholders read as empty


def test_impossible_and_partial_dates_and_times_of_day():
    df = fac.records("commitments", fac.codes(4), 4)
    df["made_on"] = ["2020-02-30", "2023-03", "2023-03-01 14:22", "2020-02-29"]
    df["due_on"] = "2023-09-01"
    res = schema.check_table(df, "commitments")
    assert [(r, c, ru) for r, _, c, ru, _ in _q(res)] == [(1, "made_on", "bad_type"), (2, "made_on", "bad_type")]
    assert _msg(res.quarantine, 1, "made_on") == "'2020-02-30' is not a date (ISO 8601, e.g. 2024-03-31)"
    assert _msg(res.quarantine, 2, "made_on") == ("'2023-03' is not a date (ISO 8601, e.g. 2024-03-31): a year or a "
                                                  "month alone is an incomplete date")
    assert res.typed.loc[2, "made_on"] == pd.Timestamp("2023-03-01")     # the time of day dropped
    assert res.typed.loc[3, "made_on"] == pd.Timestamp("2020-02-29")     # a leap day


# --------------------------------------------------------------------------- ranges, sets, messages
def test_range_and_allowed_set_messages_word_for_word():
    df = fac.records("loans", fac.codes(7), 7)
    df.loc[0, "rate"] = "1.5"
    df.loc[1, "amount"] = "-1"
    df.loc[2, "term_months"] = "0"
    df.loc[3, "collateral"] = "house"
    df.loc[4, "severity_note"] = "x"        # an extra column: kept, no rule
    df.loc[5, "rate"] = "0"                 # bounds are inclusive
    df.loc[6, "term_months"] = "120"
    res = schema.check_table(df, "loans", file="in/loans.csv")
    assert _q(res) == [(1, "L00000", "rate", "out_of_range", "1.5"), (2, "L00001", "amount", "out_of_range", "-1"),
                       (3, "L00002", "term_months", "out_of_range", "0"),
                       (4, "L00003", "collateral", "not_allowed", "house")]
    q = res.quarantine
    assert _msg(q, 1, "rate") == "1.5 is outside [0, 1] per year"
    assert _msg(q, 2, "amount") == "-1 is outside [0, inf] yuan"
    assert _msg(q, 3, "term_months") == "0 is outside [1, 120] months"
    assert _msg(q, 4, "collateral") == "'house' is not one of: none, guarantee, property, receivables"
    assert (q["file"] == "in/loans.csv").all()
    inv = fac.records("inspections", fac.codes(2), 2)
    inv.loc[0, "violations"] = "0"         # min 0 only (>=)
    inv.loc[1, "violations"] = "-1"
    res = schema.check_table(inv, "inspections")
    assert _q(res) == [(2, "INS00001", "violations", "out_of_range", "-1")]
    assert _msg(res.quarantine, 2, "violations") == "-1 is outside [0, inf]"


def test_a_descriptive_fault_message_and_a_long_allowed_list():
    """penalties.category has 10 allowed values: the message shows 8 and an ellipsis; a descriptive cell fault is a
    warning (row kept, cell read as empty) with its value as delivered."""
    df = fac.records("penalties", fac.codes(3), 3)
    df.loc[1, "category"] = "piracy"
    res = schema.check_table(df, "penalties")
    assert len(res.quarantine) == 0 and res.bad.tolist() == [False, False, False]
    assert _w(res) == [(2, "category", "not_allowed")]
    assert res.warnings.loc[0, "value"] == "piracy" and res.warnings.loc[0, "key"] == "PEN00001"
    assert res.warnings.loc[0, "message"] == (
        "'piracy' is not one of: food_safety, fire_safety, environment, work_safety, construction, tax, market, "
        "transport, …; read as empty, row kept (a descriptive field)")
    assert pd.isna(res.typed.loc[1, "category"]) and res.typed.loc[0, "category"] == "tax"
    assert res.typed.loc[2, "category"] == "tax"


def test_the_quarantine_is_sorted_by_row_then_column_and_an_empty_cell_has_an_empty_value():
    df = fac.records("penalties", fac.codes(4), 4)
    df.loc[3, "decision_date"] = "someday"       # coercion issue (listed first internally)
    df.loc[0, "severity"] = "huge"               # pandera issue
    df.loc[0, "uscc"] = None                     # pandera issue, earlier column
    df.loc[2, "record_id"] = None                # an empty key: the key text is empty
    res = schema.check_table(df, "penalties")
    assert _q(res) == [(1, "PEN00000", "severity", "not_allowed", "huge"), (1, "PEN00000", "uscc", "missing_value", ""),
                       (3, "", "record_id", "missing_value", ""), (4, "PEN00003", "decision_date", "bad_type", "someday")]
    assert _msg(res.quarantine, 1, "uscc") == "mandatory field is empty (unified social credit code)"


# --------------------------------------------------------------------------- USCC
def test_an_empty_code_is_missing_not_invalid_nor_reformatted():
    c = fac.codes(3)
    df = fac.records("lists", c, 3)
    df.loc[1, "uscc"] = "   "
    df.loc[2, "uscc"] = c[2].lower()
    co = schema.coerce_table(df, "lists")
    assert list(zip(co.warnings["row"], co.warnings["rule"])) == [(2, "uscc_reformatted")]
    assert co.issues.empty
    res = schema.check_table(df, "lists")
    assert [(r, c_, ru) for r, _, c_, ru, _ in _q(res)] == [(2, "uscc", "missing_value")]
    assert res.typed.loc[2, "uscc"] == c[2]


def test_a_pilot_code_warns_only_in_a_kept_row():
    df = fac.records("lists", fac.codes(3), 3)
    df.loc[[0, 1], "uscc"] = "91350100M0001TGQXM"          # allow-listed pilot-era code
    df.loc[1, "list_type"] = "purple"                       # row 2 quarantined: its pilot warning is not listed
    res = schema.check_table(df, "lists")
    assert _w(res) == [(1, "uscc", "pilot_uscc")]
    assert [(r, c, ru) for r, _, c, ru, _ in _q(res)] == [(2, "list_type", "not_allowed")]
    # warnings of every kind together, in row order: a descriptive fault of row 1 before the pilot code of row 3
    pen = fac.records("penalties", fac.codes(3), 3)
    pen.loc[2, "uscc"] = "91350100M0001TGQXM"
    pen.loc[0, "amount"] = "-1"
    res = schema.check_table(pen, "penalties")
    assert _w(res) == [(1, "amount", "out_of_range"), (3, "uscc", "pilot_uscc")]
    assert res.warnings["value"].tolist() == ["-1", "91350100M0001TGQXM"]


def test_uscc_status_of_an_empty_cell_and_the_standalone_check():
    c = fac.codes(2)
    st = schema.uscc_status(pd.Series([c[0], None, c[1], c[0]], dtype="str"))
    assert st["status"].tolist() == ["ok", "invalid", "ok", "ok"]
    assert st["reason"].tolist()[1] == "missing" and st["code"].tolist()[1] == ""
    typed = schema.coerce_table(fac.records("lists", fac.codes(3)), "lists").typed
    typed.loc[1, "uscc"] = None
    with pytest.raises(schema.SchemaErrors) as e:
        schema.table_schema("lists").validate(typed, lazy=True)
    fc = e.value.failure_cases
    assert fc[["column", "check"]].values.tolist() == [["uscc", "not_nullable"]]   # not also the uscc check


def test_the_standalone_schema_rejects_infinite_amounts():
    typed = schema.coerce_table(fac.records("invoices_monthly", fac.codes(3)), "invoices_monthly").typed
    typed.loc[2, "sales"] = np.inf
    with pytest.raises(schema.SchemaErrors) as e:
        schema.table_schema("invoices_monthly").validate(typed, lazy=True)
    fc = e.value.failure_cases
    assert fc[["column", "check", "index"]].values.tolist() == [["sales", "finite", 2]]


# --------------------------------------------------------------------------- duplicates
def test_a_clash_message_lists_five_rows_and_five_columns_then_an_ellipsis():
    c = fac.codes(8)
    df = fac.records("penalties", c, 8)
    df.loc[0:5, "record_id"] = "DUP"                      # rows 1..6 share a key
    df.loc[0:5, "department"] = [f"局{i}" for i in range(6)]
    df.loc[5, ["severity", "decision_date", "publicity_min_end", "publicity_max_end", "fine_paid_on"]] = [
        "serious", "2023-02-01", "2023-07-01", "2024-04-01", "2023-05-01"]
    df.loc[6:7, "record_id"] = "DUP5"                     # rows 7, 8: five differing columns exactly
    df.loc[7, ["severity", "decision_date", "publicity_min_end", "fine_paid_on"]] = [
        "serious", "2023-02-01", "2023-07-01", "2023-05-01"]
    res = schema.check_table(df, "penalties")
    q = res.quarantine
    assert set(zip(q["row"], q["rule"])) == {(r, "duplicate_key") for r in range(1, 9)}
    assert set(q["column"]) == {"record_id"}
    assert _msg(q, 1, "record_id") == ("key shared by 6 rows (rows 1, 2, 3, 4, 5, …) that differ in uscc, "
                                       "decision_date, severity, department, publicity_min_end, …")
    assert _msg(q, 7, "record_id") == ("key shared by 2 rows (rows 7, 8) that differ in uscc, decision_date, severity, "
                                       "publicity_min_end, fine_paid_on")
    assert q.loc[q["row"] == 8, "value"].item() == "DUP5" and q.loc[q["row"] == 8, "key"].item() == "DUP5"


def test_five_rows_sharing_a_key_are_all_named():
    df = fac.records("penalties", fac.codes(5), 5)
    df["record_id"] = "K"
    res = schema.check_table(df, "penalties")
    assert set(res.quarantine["message"]) == {"key shared by 5 rows (rows 1, 2, 3, 4, 5) that differ in uscc"}


def test_unreadable_cells_of_a_key_are_compared_as_written():
    """Two junk dates differ (a clash); the same junk twice is a copy; a blank and an empty optional date are the
    same empty cell (a copy)."""
    c = fac.codes(6)
    df = fac.records("penalties", c, 6)
    df["uscc"] = c[0]
    df["department"] = [f"局{i}" for i in range(6)]        # no possible_duplicate_record warnings
    df.loc[[0, 1], "record_id"] = "A"
    df.loc[[0, 1], "department"] = "局"
    df.loc[[0, 1], "fine_paid_on"] = ["abc", "xyz"]
    df.loc[[2, 3], "record_id"] = "B"
    df.loc[[2, 3], "department"] = "局"
    df.loc[[2, 3], "fine_paid_on"] = ["abc", "abc"]
    df.loc[[4, 5], "record_id"] = "C"
    df.loc[[4, 5], "department"] = "局"
    df.loc[[4, 5], "fine_paid_on"] = [" ", ""]
    res = schema.check_table(df, "penalties")
    assert _q(res) == [(1, "A", "fine_paid_on", "bad_type", "abc"), (1, "A", "record_id", "duplicate_key", "A"),
                       (2, "A", "fine_paid_on", "bad_type", "xyz"), (2, "A", "record_id", "duplicate_key", "A"),
                       (3, "B", "fine_paid_on", "bad_type", "abc"),
                       (4, "B", "fine_paid_on", "bad_type", "abc"), (4, "B", "record_id", "duplicate_row", "B"),
                       (6, "C", "record_id", "duplicate_row", "C")]
    assert _msg(res.quarantine, 2, "record_id") == "key shared by 2 rows (rows 1, 2) that differ in fine_paid_on"
    assert _msg(res.quarantine, 6, "record_id") == ("exact copy of row 5 (the same in every column as read): counted "
                                                    "once, as row 5")
    assert res.bad.tolist() == [True, True, True, True, False, True]


def test_a_later_copy_under_its_own_key_is_not_also_a_possible_duplicate_record():
    """Rows 2 and 3 are one record (id Y) delivered twice; row 2 is also like row 1 (id X) in every other column.
    Row 3 is the quarantined copy; row 2, the first of a key conflict, is left to that rule (no warning)."""
    c = fac.codes(4)
    df = fac.records("penalties", c, 4)
    df["uscc"] = c[0]
    df["record_id"] = ["X", "Y", "Y", "Z"]
    df.loc[3, "severity"] = "serious"
    df.loc[[0, 1, 2], "department"] = "局"
    res = schema.check_table(df, "penalties")
    assert [(r, c_, ru) for r, _, c_, ru, _ in _q(res)] == [(3, "record_id", "duplicate_row")]
    assert _w(res) == []
    df.loc[3, ["severity", "department"]] = ["general", "局"]   # row 4 (id Z): like row 1 in all but the id
    res = schema.check_table(df, "penalties")
    assert _w(res) == [(4, "record_id", "possible_duplicate_record")]
    assert _msg(res.warnings, 4, "record_id") == ("the same record as row 1 (record_id X) in every column but "
                                                  "record_id: kept; check whether it was delivered twice")


# --------------------------------------------------------------------------- missing columns
def test_missing_columns_name_the_first_in_declared_order():
    df = fac.records("tax_grades", fac.codes(2)).drop(columns=["published_on", "grade"])
    with pytest.raises(InputError) as e:
        schema.check_table(df, "tax_grades", file="x/tax.csv")
    assert e.value.column == "grade" and str(e.value.file) == "x/tax.csv"
    assert "missing column(s) ['grade', 'published_on'] of table 'tax_grades' (Tax credit grades)" in str(e.value)


def test_a_spelling_shared_by_two_allowed_values_decides_nothing():
    """'a_b' and 'A B' fold to the same spelling: it maps to neither; 'c' still maps to itself."""
    from creditmodel.data.tables import Column

    col = Column("x", "string", allowed=("a_b", "A B", "c"), aliases=(("Cee", "c"),))
    assert schema.value_spellings(col) == {"c": "c", "cee": "c"}


def test_a_composite_key_is_written_code_bar_iso_date_and_an_empty_part_is_empty():
    c = fac.codes(3)
    df = fac.records("invoices_monthly", c, 3)        # one month (2023-01-01) of three firms
    df.loc[1, "month"] = ""
    df.loc[2, "sales"] = "abc"
    res = schema.check_table(df, "invoices_monthly")
    assert _q(res) == [(2, f"{c[1]}|", "month", "missing_value", ""), (3, f"{c[2]}|2023-01-01", "sales", "bad_type", "abc")]
    assert _msg(res.quarantine, 3, "sales") == "'abc' is not a number"


def test_a_duplicate_entry_carries_the_key_as_read_in_its_value():
    """The value of a duplicate entry is the key as read: for a composite key code|month; for a code written in
    lower case, the code in its standard form."""
    c = fac.codes(3)
    df = fac.records("invoices_monthly", c, 3)
    df.loc[2, "uscc"] = c[1]
    df.loc[2, "sales"] = "7"
    res = schema.check_table(df, "invoices_monthly")
    assert _q(res) == [(2, f"{c[1]}|2023-01-01", "uscc,month", "duplicate_key", f"{c[1]}|2023-01-01"),
                       (3, f"{c[1]}|2023-01-01", "uscc,month", "duplicate_key", f"{c[1]}|2023-01-01")]
    ent = fac.enterprises(c)
    ent.loc[2, "uscc"] = c[1].lower()
    ent.loc[2, "registered_on"] = "2001-01-01"
    res = schema.check_table(ent, "enterprises")
    assert _q(res) == [(2, c[1], "uscc", "duplicate_key", c[1]), (3, c[1], "uscc", "duplicate_key", c[1])]
