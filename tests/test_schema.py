"""Schema checks and loading: every rule gives the right quarantine rows; broken files raise InputError.

The frames are hand-made (tests/district_factory.py) so each test knows exactly which cell it broke.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import district_factory as fac
from creditmodel.data import io, schema, uscc
from creditmodel.data.tables import TABLES
from creditmodel.errors import InputError

FORMATS = ["csv", "parquet"]


def _load(tmp_path, df, name, fmt):
    p = fac.write(df, tmp_path / name, fmt)
    return io.load_table(p, name), p


def _entries(lt):
    return set(zip(lt.quarantine["row"], lt.quarantine["column"], lt.quarantine["rule"]))


def _faults(lt):
    """Every broken rule, quarantined or kept (descriptive fields)."""
    return set(zip(lt.faults["row"], lt.faults["column"], lt.faults["rule"]))


def _assert_accounting(lt):
    """rows in = kept + quarantined, and the quarantined rows are exactly the rows named in the quarantine."""
    assert lt.n_rows == lt.n_kept + lt.n_quarantined
    assert set(lt.rejected.index + 1) == set(lt.quarantine["row"])
    assert set(lt.data.index).isdisjoint(lt.rejected.index)
    assert list(lt.quarantine.columns) == schema.QUARANTINE_COLUMNS


# --------------------------------------------------------------------------- one rule at a time
@pytest.mark.parametrize("fmt", FORMATS)
def test_clean_table_has_declared_dtypes_and_passes_the_pandera_schema(tmp_path, fmt):
    df = fac.records("penalties", fac.codes(4), 6)
    lt, _ = _load(tmp_path, df, "penalties", fmt)
    assert lt.n_quarantined == 0 and len(lt.quarantine) == 0 and lt.n_kept == 6
    for c in TABLES["penalties"].columns:
        assert str(lt.data[c.name].dtype) == str(pd.Series(dtype=schema.PANDAS_DTYPES[c.dtype]).dtype), c.name
    assert lt.data["amount"].tolist() == [5000.0] * 6
    assert (lt.data["decision_date"] == pd.Timestamp(fac.EVENT)).all()
    schema.table_schema("penalties").validate(lt.data)  # the clean output satisfies the schema on its own
    assert lt.null_counts["fine_paid_on"] == 6 and lt.null_counts["uscc"] == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_mandatory_value_names_row_and_column(tmp_path, fmt):
    df = fac.records("penalties", fac.codes(4), 6)
    df.loc[2, "severity"] = ""          # mandatory, with an allowed set: only missing_value
    df.loc[4, "department"] = "  "      # blanks only: a descriptive field, the row is kept
    df.loc[5, "amount"] = ""            # optional: no rule
    lt, p = _load(tmp_path, df, "penalties", fmt)
    assert _entries(lt) == {(3, "severity", "missing_value")}
    assert _faults(lt) == {(3, "severity", "missing_value"), (5, "department", "missing_value")}
    q = lt.quarantine
    assert (q["table"] == "penalties").all() and (q["file"] == str(p)).all()
    assert q.loc[q["row"] == 3, "key"].item() == "PEN00002"
    assert lt.n_quarantined == 1 and list(lt.data.index) == [0, 1, 3, 4, 5]
    assert pd.isna(lt.data.loc[4, "department"]) and np.isnan(lt.data.loc[5, "amount"])
    w = lt.warnings.set_index("row")
    assert w.loc[5, "rule"] == "missing_value" and "read as empty, row kept" in w.loc[5, "message"]
    _assert_accounting(lt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_fault_in_a_descriptive_field_keeps_the_record(tmp_path, fmt):
    """A think-tank user's finding: a negative fine amount or an empty department quarantined a live serious
    penalty, and the firm was graded better for the data fault. Such a cell is read as empty and the row kept;
    a row with another fault stays quarantined with all its entries."""
    df = fac.records("penalties", fac.codes(4), 6)
    df.loc[0, "amount"] = "-5000"       # out of range, descriptive
    df.loc[1, "category"] = "piracy"    # not allowed, descriptive
    df.loc[2, "amount"] = "abc"         # unreadable, descriptive
    df.loc[3, "department"] = ""        # descriptive ...
    df.loc[3, "severity"] = "huge"      # ... in a row with a fault that quarantines it
    lt, _ = _load(tmp_path, df, "penalties", fmt)
    assert _entries(lt) == {(4, "department", "missing_value"), (4, "severity", "not_allowed")}
    assert _faults(lt) == _entries(lt) | {(1, "amount", "out_of_range"), (2, "category", "not_allowed"),
                                          (3, "amount", "bad_type")}
    assert list(lt.data.index) == [0, 1, 2, 4, 5]
    assert np.isnan(lt.data.loc[0, "amount"]) and pd.isna(lt.data.loc[1, "category"])
    assert np.isnan(lt.data.loc[2, "amount"]) and lt.data.loc[0, "severity"] == df.loc[0, "severity"]
    assert set(lt.warnings["value"]) == {"-5000", "piracy", "abc"}   # the value as delivered is kept
    _assert_accounting(lt)
    # a key, a code, a date or a severity is never descriptive: those faults still quarantine
    essential = {c.name for c in TABLES["penalties"].columns if not c.descriptive}
    assert {"record_id", "uscc", "decision_date", "severity", "reported_on"} <= essential


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_blank_case_number_keeps_the_dishonest_listing(tmp_path, fmt):
    """A think-tank reader's finding: an enforcement record with a blank case number (or amount) was quarantined,
    and with it the firm's dishonest-debtor listing (3 listings in the 20,000-firm demo); a tax grade with a
    blank evaluation year lost the grade. These fields describe the record: the row is kept, the fault listed."""
    enf = fac.records("enforcement", fac.codes(3), 4)
    enf["dishonest_listed_on"] = enf["filed_on"]
    enf.loc[0, "case_no"] = ""
    enf.loc[1, "amount"] = None
    lt, _ = _load(tmp_path, enf, "enforcement", fmt)
    assert list(lt.data.index) == [0, 1, 2, 3] and not len(_entries(lt))
    assert {(1, "case_no", "missing_value"), (2, "amount", "missing_value")} <= _faults(lt)
    assert lt.data["dishonest_listed_on"].notna().all()
    _assert_accounting(lt)
    tax = fac.records("tax_grades", fac.codes(3), 4)
    tax.loc[2, "year"] = None
    lt, _ = _load(tmp_path, tax, "tax_grades", fmt)
    assert list(lt.data.index) == [0, 1, 2, 3] and (3, "year", "missing_value") in _faults(lt)
    _assert_accounting(lt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_publicity_end_is_derived_from_severity_and_decision_date(tmp_path, fmt):
    """A carried finding: a penalty with an empty publicity end was quarantined, and the firm looked cleaner than it
    is. The end follows from the severity and the decision date under the rules of that date (DOMAIN.md A4)."""
    df = fac.records("penalties", fac.codes(4), 6)
    df["decision_date"] = ["2024-03-31", "2022-06-15", "2024-01-10", "2023-08-31", "2024-02-01", "2024-02-01"]
    df["severity"] = ["serious", "serious", "general", "minor", "general", "general"]
    df.loc[[2, 4, 5], "publicity_min_end"] = ["2024-04-10", "2024-05-01", "2024-05-01"]   # after the decision
    df.loc[[0, 1, 2], "publicity_max_end"] = ""
    df.loc[[0, 1, 3], "publicity_min_end"] = ""
    df.loc[4, "publicity_max_end"] = "2025-13-01"     # written but unreadable: not derived
    df.loc[5, ["publicity_max_end", "uscc"]] = ["", "91350100M000100Y4X"]   # another fault: stays quarantined
    lt, _ = _load(tmp_path, df, "penalties", fmt)
    d = lt.data
    assert list(d.index) == [0, 1, 2, 3]
    assert d.loc[0, "publicity_max_end"] == pd.Timestamp("2027-03-31")   # serious, 2023 rules: 1 to 3 years
    assert d.loc[0, "publicity_min_end"] == pd.Timestamp("2025-03-31")
    assert d.loc[1, "publicity_min_end"] == pd.Timestamp("2022-12-15")   # serious before 2023-05-01: 6 months
    assert d.loc[1, "publicity_max_end"] == pd.Timestamp("2025-06-15")
    assert d.loc[2, "publicity_max_end"] == pd.Timestamp("2025-01-10")   # general: 1 year
    assert d.loc[3, "publicity_min_end"] == pd.Timestamp("2023-08-31")   # minor: no minimum
    assert {r for r, c, rule in _faults(lt) if rule == "publicity_end_derived"} == {1, 2, 3, 4}
    w = lt.warnings[lt.warnings["rule"] == "publicity_end_derived"].set_index(["row", "column"])
    assert "derived as 2025-06-15 from severity 'serious' and decision date 2022-06-15 under the 2019 rules" in \
        w.loc[(2, "publicity_max_end"), "message"]
    assert (5, "publicity_max_end", "bad_type") in _entries(lt)
    both = df.copy()   # an empty end and a descriptive fault in one row: derived and kept (reviewer's finding)
    both.loc[2, "category"] = "nonsense"
    lt2, _ = _load(tmp_path, both, "penalties", fmt)
    assert 2 in lt2.data.index and lt2.data.loc[2, "publicity_max_end"] == pd.Timestamp("2025-01-10")
    assert {(6, "publicity_max_end", "missing_value"), (6, "uscc", "invalid_uscc")} <= _entries(lt)
    _assert_accounting(lt)
    from creditmodel.data.quality import record_flags   # still an incomplete record for the collection's quality

    assert record_flags(lt, None, 30)["incomplete"].tolist() == [True, True, True, True, False, True]


def test_a_derived_publicity_end_does_not_cross_the_written_one(tmp_path):
    """A serious penalty with a written maximum end shorter than the derived minimum (a local rule) got a minimum
    after its maximum: a period that cannot be; the derived end is capped at the written one and says so."""
    df = fac.records("penalties", fac.codes(3), 3)
    df["decision_date"] = ["2024-03-31", "2024-03-31", "2024-03-31"]
    df["severity"] = ["serious", "serious", "general"]
    df["publicity_max_end"] = ["2024-09-30", "2027-03-31", ""]          # row 1: shorter than the 1-year minimum
    df["publicity_min_end"] = ["", "", "2025-06-30"]                     # row 3: beyond the derived 1-year maximum
    lt, _ = _load(tmp_path, df, "penalties", "csv")
    d = lt.data
    assert d.loc[0, "publicity_min_end"] == pd.Timestamp("2024-09-30")   # capped at the written maximum
    assert d.loc[1, "publicity_min_end"] == pd.Timestamp("2025-03-31")   # the rule's 1 year: not capped
    assert d.loc[2, "publicity_max_end"] == pd.Timestamp("2025-06-30")   # raised to the written minimum
    assert (d["publicity_min_end"] <= d["publicity_max_end"]).all()
    w = lt.warnings[lt.warnings["rule"] == "publicity_end_derived"].set_index("row")["message"]
    assert w.loc[1].endswith("capped at the written publicity_max_end; the penalty is kept")
    assert "capped" not in w.loc[2]
    assert w.loc[3].endswith("capped at the written publicity_min_end; the penalty is kept")


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_type_for_numbers_integers_and_dates(tmp_path, fmt):
    df = fac.records("arrears", fac.codes(3), 6)
    df.loc[0, "amount"] = "12,5 yuan"
    df.loc[1, "months_overdue"] = "2.5"        # not a whole number
    df.loc[2, "determined_on"] = "2023-02-30"  # no such day
    df.loc[3, "started_on"] = "last spring"
    df.loc[4, "months_overdue"] = "4.0"        # whole: fine
    lt, _ = _load(tmp_path, df, "arrears", fmt)
    assert _entries(lt) == {(1, "amount", "bad_type"), (2, "months_overdue", "bad_type"),
                            (3, "determined_on", "bad_type"), (4, "started_on", "bad_type")}
    q = lt.quarantine.set_index("row")
    assert q.loc[1, "value"] == "12,5 yuan" and "12,5 yuan" in q.loc[1, "message"]
    assert q.loc[3, "value"] == "2023-02-30"
    assert lt.data.loc[4, "months_overdue"] == 4
    _assert_accounting(lt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_streets_and_industries_by_their_chinese_or_english_name_are_read_as_their_key(tmp_path, fmt):
    """A district writing 中马街道 (or 'Zhongma Subdistrict') for zhongma, 制造业 for C, used to have every
    enterprise quarantined as not_allowed."""
    from creditmodel.reference import industries, streets

    df = fac.enterprises(fac.codes(5))
    key_st, key_st1, key_ind = df.loc[0, "street"], df.loc[1, "street"], df.loc[2, "industry"]
    df.loc[0, "street"] = streets()[key_st]["zh"]
    df.loc[1, "street"] = streets()[key_st1]["en"]
    df.loc[2, "industry"] = industries()[key_ind]["zh"]
    df.loc[3, "street"] = "火星街道"  # not a street of the district
    lt, _ = _load(tmp_path, df, "enterprises", fmt)
    assert _entries(lt) == set() and _faults(lt) == {(4, "street", "not_allowed")}   # the firm is kept
    assert pd.isna(lt.data.loc[3, "street"])
    assert lt.data.loc[0, "street"] == key_st and lt.data.loc[1, "street"] == key_st1
    assert lt.data.loc[2, "industry"] == key_ind
    w = lt.warnings[lt.warnings["rule"] == "value_alias"]
    assert sorted(w["row"]) == [1, 2, 3] and f"read as {key_st}" in w.set_index("row").loc[1, "message"]
    _assert_accounting(lt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_allowed_value_in_another_spelling_is_read_as_that_value(tmp_path, fmt):
    """A severity written Serious or 严重, a list type 严重失信主体名单 or 'serious dishonesty', a tax grade ａ set
    aside every such record as not_allowed, and the reports read as if they did not exist (a think-tank reviewer's
    finding: the serious-dishonesty target read as met)."""
    pen = fac.records("penalties", fac.codes(4), 4)
    pen["severity"] = ["Serious", "SERIOUS", "严重", "grave"]
    lt, _ = _load(tmp_path, pen, "penalties", fmt)
    assert lt.data["severity"].tolist()[:3] == ["serious"] * 3
    assert (4, "severity", "not_allowed") in _entries(lt) | _faults(lt)      # not a spelling of any value
    w = lt.warnings[lt.warnings["rule"] == "value_alias"]
    assert sorted(w["row"]) == [1, 2, 3] and "'SERIOUS' read as serious" in w.set_index("row").loc[2, "message"]
    lists = fac.records("lists", fac.codes(3), 3)
    lists["list_type"] = ["严重失信主体名单", "serious dishonesty", "Abnormal-Operation"]
    lt, _ = _load(tmp_path / "l", lists, "lists", fmt)
    assert lt.data["list_type"].tolist() == ["serious_dishonesty", "serious_dishonesty", "abnormal_operation"]
    tax = fac.records("tax_grades", fac.codes(2), 2)
    tax["grade"] = ["ａ", "m"]
    lt, _ = _load(tmp_path / "t", tax, "tax_grades", fmt)
    assert lt.data["grade"].tolist() == ["A", "M"]
    _assert_accounting(lt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_not_allowed_and_out_of_range(tmp_path, fmt):
    df = fac.records("loans", fac.codes(3), 7)
    df.loc[0, "collateral"] = "house"
    df.loc[1, "rate"] = "1.5"            # max 1
    df.loc[2, "term_months"] = "0"       # min 1
    df.loc[3, "amount"] = "-1"           # min 0
    df.loc[4, "default_12m"] = "2"       # max 1
    df.loc[5, "rate"] = "1"              # bounds are inclusive
    lt, _ = _load(tmp_path, df, "loans", fmt)
    assert _entries(lt) == {(1, "collateral", "not_allowed"), (2, "rate", "out_of_range"),
                            (3, "term_months", "out_of_range"), (4, "amount", "out_of_range"),
                            (5, "default_12m", "out_of_range")}
    assert "'house'" in lt.quarantine.set_index("row").loc[1, "message"]
    _assert_accounting(lt)


def test_nan_and_inf_text_in_csv(tmp_path):
    df = fac.records("invoices_monthly", fac.codes(5), 5)
    df.loc[0, "sales"] = "nan"
    df.loc[1, "purchases"] = "inf"
    df.loc[2, "voided_share"] = "-inf"   # also below the minimum: reported once, as nan_or_inf
    lt, _ = _load(tmp_path, df, "invoices_monthly", "csv")
    assert _entries(lt) == {(1, "sales", "nan_or_inf"), (2, "purchases", "nan_or_inf"),
                            (3, "voided_share", "nan_or_inf")}
    _assert_accounting(lt)


def test_nan_is_not_null_in_typed_parquet(tmp_path):
    """In Parquet a NaN is a value (nan_or_inf), a null is an empty cell (missing_value for a mandatory field)."""
    df = fac.records("invoices_monthly", fac.codes(4), 4)
    typed = schema.coerce_table(df, "invoices_monthly").typed
    tbl = pa.Table.from_pandas(typed, preserve_index=False)
    sales = pa.array([np.nan, None, 5.0, np.inf], type=pa.float64(), from_pandas=False)
    tbl = tbl.set_column(tbl.column_names.index("sales"), "sales", sales)
    p = tmp_path / "invoices_monthly.parquet"
    pq.write_table(tbl, p)
    lt = io.load_table(p)
    assert _entries(lt) == {(1, "sales", "nan_or_inf"), (2, "sales", "missing_value"), (4, "sales", "nan_or_inf")}
    assert lt.data["month"].dtype == "datetime64[us]"
    _assert_accounting(lt)


def test_a_boolean_column_in_an_amount_is_bad_type_but_a_flag_reads_it(tmp_path):
    """A reviewer's finding: a Parquet boolean column in ``invoices_monthly.sales`` was kept as sales of 1.0 and
    0.0 yuan, nothing quarantined; text like 'abc' in the same column is ``bad_type``, and so is a boolean now. A 0/1
    flag (``loans.default_12m``) still reads true/false as 1/0."""
    df = fac.records("invoices_monthly", fac.codes(4), 4)
    tbl = pa.Table.from_pandas(schema.coerce_table(df, "invoices_monthly").typed, preserve_index=False)
    tbl = tbl.set_column(tbl.column_names.index("sales"), "sales", pa.array([True, False, None, True]))
    p = tmp_path / "invoices_monthly.parquet"
    pq.write_table(tbl, p)
    lt = io.load_table(p)
    assert _entries(lt) == {(1, "sales", "bad_type"), (2, "sales", "bad_type"), (3, "sales", "missing_value"),
                            (4, "sales", "bad_type")}
    _assert_accounting(lt)
    loans = fac.records("loans", fac.codes(3), 3).assign(default_12m=pd.array([True, False, None], dtype="boolean"))
    flag = schema.coerce_table(loans, "loans")
    assert [None if v is pd.NA else v for v in flag.typed["default_12m"]] == [1, 0, None]


@pytest.mark.parametrize("fmt", FORMATS)
def test_invalid_uscc_carries_the_uscc_reason_and_pilot_codes_only_warn(tmp_path, fmt):
    c = fac.codes(6)
    df = fac.records("lists", c, 6)
    good = c[0]
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    df.loc[0, "uscc"] = wrong_check
    df.loc[1, "uscc"] = good[:17]                    # 17 characters
    df.loc[2, "uscc"] = good[:9] + "O" + good[10:]   # forbidden letter O
    df.loc[3, "uscc"] = "91350100M0001TGQXM"          # pilot-era allow-listed code
    df.loc[4, "uscc"] = "".join(chr(ord(ch) + 0xFEE0) for ch in good)  # full-width digits and letters
    df.loc[5, "uscc"] = ""                                            # empty: missing, not invalid
    lt, _ = _load(tmp_path, df, "lists", fmt)
    assert _entries(lt) == {(1, "uscc", "invalid_uscc"), (2, "uscc", "invalid_uscc"), (3, "uscc", "invalid_uscc"),
                            (6, "uscc", "missing_value")}
    assert lt.rejected["uscc"].isna().tolist() == [False, False, False, True]
    msg = lt.quarantine.set_index("row")["message"]
    expected = {r: uscc.check(v).reason for r, v in ((1, wrong_check), (2, good[:17]), (3, df.loc[2, "uscc"]))}
    assert expected == {1: "check_char", 2: "length", 3: "charset"}
    for r, reason in expected.items():
        assert msg[r].startswith(reason + ":")
    # pilot code: kept, with a warning naming the row
    assert list(zip(lt.warnings["row"], lt.warnings["rule"])) == [(4, "pilot_uscc"), (5, "uscc_reformatted")]
    assert 3 in lt.data.index
    # full-width code: normalised and kept
    assert lt.data.loc[4, "uscc"] == good
    _assert_accounting(lt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_duplicate_key_quarantines_every_row_sharing_it(tmp_path, fmt):
    df = fac.records("penalties", fac.codes(5), 6)
    df.loc[[1, 3, 5], "record_id"] = "PEN-DUP"
    lt, _ = _load(tmp_path, df, "penalties", fmt)
    assert _entries(lt) == {(r, "record_id", "duplicate_key") for r in (2, 4, 6)}
    assert (lt.quarantine["key"] == "PEN-DUP").all()
    assert lt.quarantine["message"].str.contains("3 rows").all()
    _assert_accounting(lt)



@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_with_an_empty_key_are_missing_not_duplicates_of_each_other(tmp_path, fmt):
    """Two rows of one firm with an empty month are two missing keys, not one (firm, month) held twice: each row
    has its one entry (a mutation pass found that no test held the duplicate-key check to non-empty keys)."""
    df = fac.records("invoices_monthly", fac.codes(3), 6)
    df.loc[4, "uscc"] = df.loc[1, "uscc"]
    df.loc[[1, 4], "month"] = None
    lt, _ = _load(tmp_path, df, "invoices_monthly", fmt)
    assert _entries(lt) == {(2, "month", "missing_value"), (5, "month", "missing_value")}
    _assert_accounting(lt)

def test_duplicate_composite_key(tmp_path):
    c = fac.codes(3)
    df = fac.records("invoices_monthly", c, 6)   # (uscc, month) unique
    df.loc[4, "month"] = df.loc[1, "month"]       # same firm c[1], same month as row 2
    df.loc[4, "sales"] = "2000.0"                 # with other sales: two versions of one month, neither trusted
    lt, _ = _load(tmp_path, df, "invoices_monthly", "csv")
    assert _entries(lt) == {(2, "uscc,month", "duplicate_key"), (5, "uscc,month", "duplicate_key")}
    assert set(lt.quarantine["key"]) == {f"{c[1]}|{df.loc[1, 'month']}"}
    assert lt.quarantine["message"].str.endswith("differ in sales").all()


@pytest.mark.parametrize("fmt", FORMATS)
def test_exact_copies_keep_the_first_row(tmp_path, fmt):
    """A record delivered twice is one record: the first copy is kept, the later copies quarantined (both copies
    were quarantined, so a firm's serious penalty sent twice dropped out of its grade)."""
    df = fac.records("penalties", fac.codes(5), 6)
    df.loc[1, "severity"] = "serious"
    df = pd.concat([df, df.iloc[[1, 1]], df.iloc[[3]]], ignore_index=True)   # rows 7, 8 copy row 2; row 9 row 4
    df.loc[8, "severity"] = "minor"                                         # ... but row 9 differs from row 4
    assert not TABLES["penalties"].column("severity").descriptive          # (in an essential field)
    lt, _ = _load(tmp_path, df, "penalties", fmt)
    assert _entries(lt) == {(7, "record_id", "duplicate_row"), (8, "record_id", "duplicate_row"),
                            (4, "record_id", "duplicate_key"), (9, "record_id", "duplicate_key")}
    assert "PEN00001" in set(lt.data["record_id"])                      # the serious penalty stays
    q = lt.quarantine.set_index("row")
    assert q.loc[7, "message"].startswith("exact copy of row 2") and q.loc[7, "key"] == "PEN00001"
    assert "counted once, as row 2" in q.loc[7, "message"]
    assert q.loc[9, "message"].endswith("differ in severity")
    _assert_accounting(lt)


def test_a_copy_spelt_differently_is_a_copy_as_read(tmp_path):
    """A second copy whose code is in lower case or whose date is written 2019/01/24 reads as the same record: it
    was compared as written, so every copy was quarantined as duplicate_key (a serious penalty vanished)."""
    c = fac.codes(3)
    df = fac.records("penalties", c, 3)
    df.loc[1, "severity"] = "serious"
    low = df.iloc[[1]].assign(uscc=df.loc[1, "uscc"].lower())
    slash = df.iloc[[1]].assign(decision_date=str(df.loc[1, "decision_date"]).replace("-", "/"))
    df = pd.concat([df, low, slash], ignore_index=True)                    # rows 4, 5 copy row 2
    lt, _ = _load(tmp_path, df, "penalties", "csv")
    assert _entries(lt) == {(4, "record_id", "duplicate_row"), (5, "record_id", "duplicate_row")}
    assert df.loc[1, "record_id"] in set(lt.data["record_id"])              # the serious penalty stays
    _assert_accounting(lt)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_copy_whose_open_end_is_written_9999_12_31_is_a_copy(tmp_path, fmt):
    """An open end is empty or the placeholder 9999-12-31 (read as empty): two copies of a listing written one way
    and the other were a clash quarantining both (the listing vanished). Two different written ends still clash."""
    df = fac.records("lists", fac.codes(3), 3)
    df.loc[1, "list_type"] = "black"
    placeholder = df.iloc[[1]].assign(end_date="9999-12-31")               # row 4 copies row 2
    other = df.iloc[[2]].assign(end_date="2026-01-01")                     # row 5 contradicts row 3
    df = pd.concat([df, placeholder, other], ignore_index=True)
    lt, _ = _load(tmp_path, df, "lists", fmt)
    assert _entries(lt) == {(4, "record_id", "duplicate_row"), (3, "record_id", "duplicate_key"),
                            (5, "record_id", "duplicate_key")}
    assert df.loc[1, "record_id"] in set(lt.data["record_id"])              # the black listing stays
    _assert_accounting(lt)


def test_one_row_can_break_several_rules(tmp_path):
    df = fac.records("inspections", fac.codes(3), 3)
    df.loc[1, ["sector", "violations", "inspected_on"]] = ["nuclear", "-2", "yesterday"]
    lt, _ = _load(tmp_path, df, "inspections", "csv")
    assert _entries(lt) == {(2, "sector", "not_allowed"), (2, "violations", "out_of_range"),
                            (2, "inspected_on", "bad_type")}
    assert lt.n_quarantined == 1


def test_randomly_broken_table_matches_an_independent_expectation(tmp_path):
    """Break random cells with known rules and compare the whole quarantine with the expected set."""
    rng = np.random.default_rng(7)
    n = 400
    c = fac.codes(50)
    df = fac.records("commitments", c, n)
    breakers = {
        "missing_value": lambda r: ("department", ""),
        "not_allowed": lambda r: ("status", "maybe"),
        "bad_type": lambda r: ("due_on", "2023-13-01"),
        "invalid_uscc": lambda r: ("uscc", c[r % 50][:17] + "Z"),
    }
    expected = set()
    rows = rng.choice(n, size=60, replace=False)
    for k, r in enumerate(rows):
        rule = list(breakers)[k % 4]
        col, val = breakers[rule](r)
        df.loc[r, col] = val
        expected.add((r + 1, col, rule))
    dup = [r for r in range(n) if r not in set(rows)][:4]
    df.loc[dup, "record_id"] = "COM-DUP"
    expected |= {(r + 1, "record_id", "duplicate_key") for r in dup}
    for fmt in FORMATS:
        lt, _ = _load(tmp_path / fmt, df, "commitments", fmt)
        assert _faults(lt) == expected
        hard = {e for e in expected if e[1] != "department"}   # an empty department keeps its row
        assert _entries(lt) == hard
        assert lt.n_quarantined == len({e[0] for e in hard})
        _assert_accounting(lt)


# --------------------------------------------------------------------------- broken files
def test_missing_declared_column_raises_naming_file_and_column(tmp_path):
    df = fac.records("tax_grades", fac.codes(2)).drop(columns=["grade"])
    for fmt in FORMATS:
        p = fac.write(df, tmp_path / "tax_grades", fmt)
        with pytest.raises(InputError) as e:
            io.load_table(p)
        assert e.value.column == "grade" and e.value.file == p
        assert "grade" in str(e.value) and str(p) in str(e.value)


def test_renamed_column_is_a_missing_column(tmp_path):
    df = fac.records("tax_grades", fac.codes(2)).rename(columns={"published_on": "publish_date"})
    p = fac.write(df, tmp_path / "tax_grades", "csv")
    with pytest.raises(InputError) as e:
        io.load_table(p)
    assert e.value.column == "published_on"


def test_extra_columns_are_kept(tmp_path):
    df = fac.records("tax_grades", fac.codes(2)).assign(note=["a", "b"])
    lt, _ = _load(tmp_path, df, "tax_grades", "parquet")
    assert list(lt.data.columns) == TABLES["tax_grades"].column_names + ["note"]
    assert lt.data["note"].tolist() == ["a", "b"]


@pytest.mark.parametrize("content, what", [
    (b"", "empty"), (b"\n\n", "empty"), (b"\xef\xbb\xbf", "empty"),
    (b"uscc,name\n1,2,3\n", "cannot read"),
])
def test_broken_csv_raises_naming_the_file(tmp_path, content, what):
    p = tmp_path / "enterprises.csv"
    p.write_bytes(content)
    with pytest.raises(InputError) as e:
        io.read_table(p)
    assert e.value.file == p and what in str(e.value)
    with pytest.raises(InputError):
        io.load_table(p)


def test_corrupt_and_truncated_parquet(tmp_path):
    p = tmp_path / "loans.parquet"
    p.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(InputError) as e:
        io.load_table(p)
    assert e.value.file == p
    good = fac.write(fac.records("loans", fac.codes(3)), tmp_path / "ok" / "loans", "parquet")
    data = good.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as e:
        io.read_table(p)
    assert e.value.file == p


def test_missing_file_folder_and_unknown_names(tmp_path):
    with pytest.raises(InputError, match="not found") as e:
        io.load_table(tmp_path / "penalties.csv")
    assert e.value.file == tmp_path / "penalties.csv"
    with pytest.raises(InputError, match="folder"):
        io.read_table(tmp_path)
    p = fac.write(fac.records("loans", fac.codes(2)), tmp_path / "credit_loans", "csv")
    with pytest.raises(InputError, match="unknown table") as e:
        io.load_table(p)
    assert e.value.file == p
    with pytest.raises(InputError, match="unknown table"):
        io.load_table(p, "no_such_table")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(InputError, match="unsupported"):
        io.read_table(tmp_path / "x.xlsx")


def test_header_only_file_is_an_empty_table(tmp_path):
    p = tmp_path / "repairs.csv"
    p.write_text(",".join(TABLES["repairs"].column_names) + "\n", encoding="utf-8")
    lt = io.load_table(p)
    assert lt.n_rows == 0 and lt.n_kept == 0 and len(lt.quarantine) == 0


def test_csv_with_bom_and_gb18030_encoding(tmp_path):
    df = fac.records("enforcement", fac.codes(2), 2)
    p_bom = fac.write(df, tmp_path / "bom" / "enforcement", "csv")
    assert p_bom.read_bytes()[:3] == b"\xef\xbb\xbf"
    p_gbk = tmp_path / "gbk" / "enforcement.csv"
    p_gbk.parent.mkdir()
    df.to_csv(p_gbk, index=False, encoding="gb18030")
    for p in (p_bom, p_gbk):
        lt = io.load_table(p)
        assert lt.n_quarantined == 0
        assert lt.data["court"].tolist() == ["江北区人民法院"] * 2


def test_read_table_infers_types_unless_as_text(tmp_path):
    p = fac.write(fac.records("loans", fac.codes(2)), tmp_path / "loans", "csv")
    inferred = io.read_table(p)
    assert inferred["amount"].dtype == "int64" and inferred["default_date"].isna().all()
    text = io.read_table(p, as_text=True)
    assert text["amount"].tolist() == ["300000", "300000"] and text["default_date"].tolist() == ["", ""]
    assert len(io.read_table(p, nrows=1)) == 1


# --------------------------------------------------------------------------- a district
def _district(tmp_path, fmt="parquet"):
    c = fac.codes(6)
    ent = fac.enterprises(c)
    ent.loc[2, "uscc"] = ent.loc[1, "uscc"]          # rows 2 and 3 share a code
    ent.loc[4, "size_class"] = ""                    # row 5 incomplete
    fac.write(ent, tmp_path / "enterprises", fmt)
    pen = fac.records("penalties", c, 7)             # round robin over c[0..5]
    stranger = fac.codes(1, seed=99)[0]
    pen.loc[6, "uscc"] = stranger                    # not registered at all
    fac.write(pen, tmp_path / "penalties", fmt)
    fac.write(fac.records("lists", c, 3), tmp_path / "lists", fmt)
    return c, stranger


def test_load_district_referential_check(tmp_path):
    c, stranger = _district(tmp_path)
    d = io.load_district(tmp_path)
    assert set(d.tables) == {"enterprises", "penalties", "lists"}
    ent = d.loaded["enterprises"]
    assert _entries(ent) == {(2, "uscc", "duplicate_key"), (3, "uscc", "duplicate_key")}
    assert _faults(ent) == _entries(ent) | {(5, "size_class", "missing_value")}   # incomplete but kept
    pen = d.loaded["penalties"]
    # c[1] is on two quarantined register rows, c[2] on none (its row got c[1]'s code); c[4]'s firm is kept
    expected = {(2, "uscc", "quarantined_enterprise"), (3, "uscc", "unknown_uscc"), (7, "uscc", "unknown_uscc")}
    assert _entries(pen) == expected
    assert pen.quarantine.set_index("row").loc[7, "value"] == stranger
    assert "row 2" in pen.quarantine.set_index("row").loc[2, "message"]
    _assert_accounting(pen)
    # clean tables are referentially consistent
    clean = set(d["enterprises"]["uscc"])
    for name in ("penalties", "lists"):
        assert set(d[name]["uscc"]) <= clean
    assert len(d.quarantine) == sum(len(lt.quarantine) for lt in d.loaded.values())
    counts = d.counts().set_index("table")
    assert (counts["rows"] == counts["kept"] + counts["quarantined"]).all()
    assert d.snapshot_date == pd.Timestamp("2025-12-31")


def test_load_district_folder_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        io.load_district(tmp_path / "nowhere")
    fac.write(fac.records("lists", fac.codes(2)), tmp_path / "lists", "csv")
    with pytest.raises(InputError, match="enterprises") as e:
        io.load_district(tmp_path)
    assert "enterprises" in str(e.value.file)
    fac.write(fac.enterprises(fac.codes(2)), tmp_path / "enterprises", "csv")
    with pytest.raises(InputError, match="penalties"):
        io.load_district(tmp_path, tables=["penalties"])
    d = io.load_district(tmp_path, tables=["lists"])
    assert set(d.tables) == {"enterprises", "lists"}



def test_two_files_of_one_table_are_said_once(tmp_path, caplog):
    """A reviewer's finding: "several files for table lists" was logged twice per load."""
    codes = fac.codes(2)
    fac.write(fac.enterprises(codes), tmp_path / "enterprises", "csv")
    for fmt in ("csv", "parquet"):
        fac.write(fac.records("lists", codes), tmp_path / "lists", fmt)
    with caplog.at_level("WARNING", logger="creditmodel.data.io"):
        io.load_district(tmp_path, progress=False)
    said = [r.getMessage() for r in caplog.records if "several files for table lists" in r.getMessage()]
    assert len(said) == 1 and "using lists.parquet" in said[0]


def test_every_declared_table_has_a_schema():
    for name, t in TABLES.items():
        s = schema.table_schema(name)
        assert list(s.columns) == t.column_names
        assert all(s.columns[c.name].nullable == (not c.required) for c in t.columns)


def test_standalone_schema_checks_codes_too():
    """table_schema() on its own (without check_table) also rejects an invalid code."""
    typed = schema.coerce_table(fac.records("lists", fac.codes(3)), "lists").typed
    schema.table_schema("lists").validate(typed)
    typed.loc[1, "uscc"] = typed.loc[1, "uscc"][:17] + "Z"
    with pytest.raises(schema.SchemaErrors) as e:
        schema.table_schema("lists").validate(typed, lazy=True)
    fc = e.value.failure_cases
    assert fc[["column", "check", "index"]].values.tolist() == [["uscc", "uscc", 1]]
    schema.table_schema("lists", with_uscc=False).validate(typed)


def test_boolean_columns_are_read_from_text_and_numbers():
    """No district table declares a bool column yet; the reader supports the declared type anyway."""
    typed, null, bad = schema._coerce_bool(pd.Series(["true", "0", "是", "", "maybe", "N"], dtype="str"))
    assert typed.tolist()[:3] == [True, False, True] and typed.tolist()[5] is False
    assert null.tolist() == [False, False, False, True, False, False]
    assert bad.tolist() == [False, False, False, False, True, False]
    typed, null, bad = schema._coerce_bool(pd.Series([1.0, 0.0, 2.0, np.nan]))
    assert typed.tolist()[:2] == [True, False] and bad.tolist() == [False, False, True, False]
    assert null.tolist() == [False, False, False, True]


def test_a_descriptive_fault_of_a_row_quarantined_by_the_referential_check_is_in_its_quarantine(tmp_path):
    """A reviewer's finding: a penalty with a negative amount (kept, cell read as empty) and an unknown code was then
    quarantined by the referential check, but its amount fault stayed in the warnings of kept rows."""
    c = fac.codes(3)
    fac.write(fac.enterprises(c), tmp_path / "enterprises", "parquet")
    pen = fac.records("penalties", c, 4)
    pen["department"] = [f"局{i}" for i in range(4)]            # distinct records (not one under two ids)
    pen.loc[1, "amount"] = "-5"                                  # descriptive fault, registered firm: kept
    pen.loc[2, "amount"] = "-7"                                  # descriptive fault ...
    pen.loc[2, "uscc"] = fac.codes(1, seed=99)[0]                # ... and a code no enterprise has
    fac.write(pen, tmp_path / "penalties", "parquet")
    d = io.load_district(tmp_path)
    lt = d.loaded["penalties"]
    assert _entries(lt) == {(3, "uscc", "unknown_uscc"), (3, "amount", "out_of_range")}
    assert set(zip(lt.warnings["row"], lt.warnings["rule"])) == {(2, "out_of_range")}
    assert _faults(lt) == _entries(lt) | {(2, "amount", "out_of_range")}
    assert "row kept" not in lt.quarantine.set_index("column").loc["amount", "message"]
    _assert_accounting(lt)
    from creditmodel.data import quality

    assert quality._cleared_rows(lt) == 1


def test_descriptive_faults_are_logged_as_info_not_warnings(tmp_path, caplog):
    """Every district has some empty departments: seven WARNING lines on each quiet (-q) run said nothing the quality
    report does not say. A pilot-era code (a real warning) still warns."""
    import logging

    df = fac.records("penalties", fac.codes(4), 6)
    df["amount"] = [str(5000 + i) for i in range(6)]          # distinct records (not one under two ids)
    df.loc[1, "department"] = ""
    with caplog.at_level(logging.INFO, logger="creditmodel"):
        lt, _ = _load(tmp_path, df, "penalties", "csv")
    assert len(lt.warnings) == 1
    rec = [r for r in caplog.records if "descriptive field read as empty" in r.getMessage()]
    assert rec and rec[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "penalties" in r.getMessage()]
    caplog.clear()   # rows counted once however many of their cells were faulty; derived publicity ends at INFO
    df.loc[1, "category"] = "nonsense"
    df.loc[[2, 3], "publicity_max_end"] = ""
    df.loc[3, "publicity_min_end"] = ""
    with caplog.at_level(logging.INFO, logger="creditmodel"):
        _load(tmp_path, df, "penalties", "csv")
    text = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert "table penalties: 1 row(s) kept with a descriptive field read as empty (missing_value: 1 cell(s), " \
           "not_allowed: 1 cell(s))" in text or "table penalties: 1 row(s) kept with a descriptive field read as " \
           "empty (not_allowed: 1 cell(s), missing_value: 1 cell(s))" in text, text
    assert ("table penalties: 2 row(s) kept with the publicity end derived from the severity "
            "(publicity_end_derived: 3 cell(s))") in text, text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "penalties" in r.getMessage()]


def test_an_empty_publicity_end_of_a_row_quarantined_by_the_referential_check_stays_a_fault(tmp_path):
    """A reviewer's finding: a penalty with an empty publicity end (kept, end derived) and an unknown code was then
    quarantined by the referential check, and its empty mandatory field vanished from every count (46 incomplete
    records counted against 47)."""
    c = fac.codes(3)
    fac.write(fac.enterprises(c), tmp_path / "enterprises", "parquet")
    pen = fac.records("penalties", c, 4)
    pen["department"] = [f"局{i}" for i in range(4)]
    pen.loc[1, "publicity_max_end"] = ""                         # registered firm: kept, end derived
    pen.loc[2, "publicity_max_end"] = ""                         # the same ...
    pen.loc[2, "uscc"] = fac.codes(1, seed=99)[0]                # ... with a code no enterprise has
    fac.write(pen, tmp_path / "penalties", "parquet")
    lt = io.load_district(tmp_path).loaded["penalties"]
    assert _entries(lt) == {(3, "uscc", "unknown_uscc"), (3, "publicity_max_end", "missing_value")}
    assert set(zip(lt.warnings["row"], lt.warnings["rule"])) == {(2, "publicity_end_derived")}
    assert _faults(lt) == _entries(lt) | {(2, "publicity_max_end", "publicity_end_derived")}
    assert "derived" not in lt.quarantine.set_index("column").loc["publicity_max_end", "message"]
    assert pd.isna(lt.rejected.loc[2, "publicity_max_end"])     # the quarantined row as read, not as derived
    assert pd.notna(lt.data.loc[1, "publicity_max_end"])
    _assert_accounting(lt)
    from creditmodel.data import quality

    flags = quality.record_flags(lt, quality._register(io.load_district(tmp_path).loaded), 7).set_index("row")
    assert flags.loc[[2, 3], "incomplete"].tolist() == [True, True]
