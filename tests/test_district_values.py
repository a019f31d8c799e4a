"""How district CSV cells are read (a district fuzzer's findings): amounts with thousands separators are numbers,
a year or a month alone is not a date, a time with a UTC offset is its local date (mixed with plain dates too)."""
from __future__ import annotations

import pandas as pd

import district_factory as fac
from creditmodel.data import io


def _load(tmp_path, df, name):
    return io.load_table(fac.write(df, tmp_path / name, "csv"), name)


def test_amounts_with_thousands_separators_are_numbers(tmp_path):
    pen = fac.records("penalties", fac.codes(5), 5)
    pen["amount"] = ["39,500.00", "￥39,500", " ¥ 1,234 ", "12,34", "1,000,000"]
    lt = _load(tmp_path, pen, "penalties")
    assert lt.n_quarantined == 0                       # amount is descriptive: a bad one is read as empty and kept
    assert lt.data["amount"].tolist()[:3] == [39500.0, 39500.0, 1234.0] and lt.data["amount"].iloc[4] == 1e6
    assert pd.isna(lt.data["amount"].iloc[3])          # 12,34 is no grouping: still a fault, listed
    faults = set(zip(lt.faults["row"], lt.faults["column"], lt.faults["rule"]))
    assert faults == {(4, "amount", "bad_type")}


def test_money_written_with_a_chinese_unit_is_read_in_the_columns_unit(tmp_path):
    """3.5万 in an arrears amount quarantined the record (the evaluation lost a live arrears case)."""
    arr = fac.records("arrears", fac.codes(10), 10)
    arr["amount"] = ["3.5万", "1.1万元", "￥2万", "1,200元", "0.012亿", "3.5 万 元", "1.5萬", "3.5千", "万", "2.25億元"]
    lt = _load(tmp_path, arr, "arrears")
    assert lt.data["amount"].tolist() == [35000.0, 11000.0, 20000.0, 1200.0, 1_200_000.0, 35000.0, 15000.0,
                                          225_000_000.0]   # 1.1万 exactly 11000 (1.1 * 1e4 is not)
    q = lt.quarantine
    assert set(q["row"]) == {8, 9} and set(q.loc[q["row"] == 8, "column"]) == {"amount"}     # 千 is no money unit here
    ent = fac.enterprises(fac.codes(3))
    ent["registered_capital"] = ["500万", "5,000,000元", "500"]     # the column's unit is 10k yuan (万元)
    lt = _load(tmp_path, ent, "enterprises")
    assert lt.data["registered_capital"].tolist() == [500.0, 500.0, 500.0]
    inv = fac.records("invoices_monthly", fac.codes(1), 1)
    inv["n_sales_invoices"] = ["3万"]                                # a count is no amount: 3万 stays a fault
    assert _load(tmp_path, inv, "invoices_monthly").n_quarantined == 1


def test_a_year_or_a_month_alone_is_not_a_date(tmp_path):
    lists = fac.records("lists", fac.codes(4), 4)
    lists["start_date"] = ["2023-03-01", "2023", "2023-03", "2023-3-5"]
    lt = _load(tmp_path, lists, "lists")
    q = lt.quarantine.set_index("row")
    assert set(q.index) == {2, 3} and (q["rule"] == "bad_type").all()
    assert q.loc[2, "message"] == "'2023' is not a date (ISO 8601, e.g. 2024-03-31): a year or a month alone is an incomplete date"
    assert lt.data["start_date"].tolist() == [pd.Timestamp("2023-03-01"), pd.Timestamp("2023-03-05")]


def test_a_utc_offset_is_read_as_the_local_date_also_mixed_with_plain_dates(tmp_path):
    lists = fac.records("lists", fac.codes(3), 3)
    lists["start_date"] = ["2023-03-01T00:00:00+08:00", "2023-03-02", "2023-03-03T23:30:00-05:00"]
    lists["reported_on"] = "2023-03-10"
    lt = _load(tmp_path, lists, "lists")                 # it stopped the load: exit 1, "Mixed timezones"
    assert lt.n_quarantined == 0
    assert lt.data["start_date"].dt.date.astype(str).tolist() == ["2023-03-01", "2023-03-02", "2023-03-03"]


def test_every_spelling_of_a_year_or_month_alone_is_an_incomplete_date(tmp_path):
    """2023/03 and 2023.03 were read as 2023-03-01 without a word (only 2023-03 was caught)."""
    spellings = ["2023/03", "2023.03", "2023/3", "202303", "2023年3月", "2023年12月", "2023年"]
    lists = fac.records("lists", fac.codes(len(spellings) + 1), len(spellings) + 1)
    lists["start_date"] = ["2023-03-01", *spellings]
    lt = _load(tmp_path, lists, "lists")
    q = lt.quarantine.set_index("row")
    assert set(q.index) == set(range(2, len(spellings) + 2)) and (q["rule"] == "bad_type").all()
    assert q["message"].str.endswith("a year or a month alone is an incomplete date").all()
    assert lt.data["start_date"].tolist() == [pd.Timestamp("2023-03-01")]


def test_every_utc_offset_form_gives_the_local_date_and_no_time_of_day(tmp_path):
    """'+08' beside plain dates stopped the load ("Mixed timezones"); a time of day was kept in a date."""
    cells = ["2023-03-01T23:30:00+08", "2023-03-02", "2023-03-03T23:30:00+0800", "2023-03-04T23:30:00Z",
             "2023-03-05 14:22:00", "2023-03-06T01:00:00-05"]
    lists = fac.records("lists", fac.codes(len(cells)), len(cells))
    lists["start_date"] = cells
    lists["reported_on"] = "2023-03-10"
    lt = _load(tmp_path, lists, "lists")
    assert lt.n_quarantined == 0
    got = lt.data["start_date"]
    assert got.tolist() == [pd.Timestamp(f"2023-03-0{i}") for i in range(1, 7)]   # midnight: no time of day


def test_parquet_zoned_timestamps_are_local_dates_and_yyyymmdd_numbers_are_dates(tmp_path):
    """A zoned Parquet timestamp was read as its UTC instant: Beijing 2024-03-05 00:30 became 2024-03-04 16:30;
    a yyyymmdd date column exported as integers was a bad_type on every row."""
    lists = fac.records("lists", fac.codes(3), 3)
    lists["start_date"] = pd.to_datetime(["2024-03-05 00:30", "2024-03-06 23:59", "2024-03-07 08:00"]
                                         ).tz_localize("Asia/Shanghai")
    lists["reported_on"] = pd.Timestamp("2024-03-10")
    lt = io.load_table(fac.write(lists, tmp_path / "lists", "parquet"), "lists")
    assert lt.n_quarantined == 0
    assert lt.data["start_date"].tolist() == [pd.Timestamp(d) for d in ("2024-03-05", "2024-03-06", "2024-03-07")]
    lists = fac.records("lists", fac.codes(4), 4)
    lists["start_date"] = pd.array([20240305, 20241399, 2024, 20240307], dtype="Int64")
    lists["reported_on"] = pd.Timestamp("2024-03-10")
    lt = io.load_table(fac.write(lists, tmp_path / "lists2", "parquet"), "lists")
    q = lt.quarantine.set_index("row")
    assert set(q.index) == {2, 3} and (q["rule"] == "bad_type").all() and q.loc[2, "column"] == "start_date"
    assert q.loc[2, "message"] == ("'20241399' is not a date (ISO 8601, e.g. 2024-03-31): a number in a date column "
                                   "is read as yyyymmdd (e.g. 20240331)")
    assert lt.data["start_date"].tolist() == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-07")]


def test_a_happened_date_after_the_snapshot_is_listed_and_a_deadline_is_not(tmp_path):
    """A fine paid, a firm closed or a list entry started after the snapshot cannot be known at it: listed as the
    warning after_snapshot (kept) and counted by quality; a scheduled publicity end beyond it is normal."""
    import json

    from creditmodel.data import quality

    d = tmp_path / "district"
    d.mkdir()
    codes = fac.codes(4)
    fac.write(fac.enterprises(codes), d / "enterprises", "csv")
    pen = fac.records("penalties", codes, 4)
    pen["decision_date"] = ["2024-01-10", "2024-02-10", "2026-01-05", "2024-03-10"]
    pen["reported_on"] = ["2024-01-12", "2024-02-12", "2026-01-06", "2024-03-12"]
    pen["publicity_min_end"] = ["2024-04-10", "2024-05-10", "2026-04-05", "2024-06-10"]
    pen["publicity_max_end"] = ["2025-01-10", "2026-02-10", "2027-01-05", "2025-03-10"]   # row 2: scheduled, fine
    pen["fine_paid_on"] = [None, "2026-03-01", None, "2024-04-01"]                         # row 2: happened later
    pen["repaired_on"] = None
    fac.write(pen, d / "penalties", "csv")
    (d / "manifest.json").write_text(json.dumps({"snapshot_date": "2025-12-31"}))
    dist = io.load_district(d)
    w = dist.warnings[dist.warnings["rule"] == "after_snapshot"]
    assert sorted(zip(w["row"], w["column"])) == [(2, "fine_paid_on"), (3, "decision_date"), (3, "reported_on")]
    assert w["message"].str.contains("after the snapshot date 2025-12-31").all()
    assert dist.loaded["penalties"].n_kept == 4
    assert quality.chronology(dist.loaded["penalties"], dist.snapshot_date)["future_dated"] == 2
    assert not io.load_table(d / "penalties.csv").warnings["rule"].eq("after_snapshot").any()   # no snapshot given


def test_the_manifest_snapshot_is_its_local_date_with_no_time_of_day(tmp_path):
    """A snapshot with an offset was converted to UTC (Beijing 2025-12-31 01:00 became 2025-12-30 17:00), so a
    penalty decided on the snapshot day was listed as after_snapshot; a time of day was kept in the as-of date."""
    import json

    for written in ("2025-12-31T01:00:00+08:00", "2025-12-31T20:00:00-05:00", "2025-12-31T18:00:00",
                    "2025-12-31T23:59:59Z", "2025-12-31"):
        assert io.snapshot_from_manifest({"snapshot_date": written}) == pd.Timestamp("2025-12-31"), written
    d = tmp_path / "district"
    d.mkdir()
    codes = fac.codes(2)
    fac.write(fac.enterprises(codes), d / "enterprises", "csv")
    pen = fac.records("penalties", codes, 2)
    pen["decision_date"] = ["2025-12-31", "2026-01-01"]
    pen["reported_on"] = ["2025-12-31", "2026-01-02"]
    pen["publicity_min_end"], pen["publicity_max_end"] = "2026-04-01", "2027-01-01"
    pen["fine_paid_on"], pen["repaired_on"] = None, None
    fac.write(pen, d / "penalties", "csv")
    (d / "manifest.json").write_text(json.dumps({"snapshot_date": "2025-12-31T01:00:00+08:00"}))
    dist = io.load_district(d)
    assert dist.snapshot_date == pd.Timestamp("2025-12-31")
    w = dist.warnings[dist.warnings["rule"] == "after_snapshot"]
    assert sorted(zip(w["row"], w["column"])) == [(2, "decision_date"), (2, "reported_on")]


def test_a_listing_periods_end_beyond_the_snapshot_is_not_after_snapshot(tmp_path):
    """A red-list honour granted for two years ends after the snapshot by design: it was listed as after_snapshot
    (and counted as future-dated); a listing that starts after the snapshot still is."""
    import json

    from creditmodel.data import quality

    d = tmp_path / "district"
    d.mkdir()
    codes = fac.codes(3)
    fac.write(fac.enterprises(codes), d / "enterprises", "csv")
    lists = fac.records("lists", codes, 3)
    lists["start_date"] = ["2025-06-01", "2025-01-10", "2026-02-01"]
    lists["end_date"] = ["2027-06-01", None, None]
    lists["reported_on"] = ["2025-06-02", "2025-01-11", "2025-12-30"]
    fac.write(lists, d / "lists", "csv")
    (d / "manifest.json").write_text(json.dumps({"snapshot_date": "2025-12-31"}))
    dist = io.load_district(d)
    w = dist.warnings[dist.warnings["rule"] == "after_snapshot"]
    assert list(zip(w["row"], w["column"])) == [(3, "start_date")]
    assert quality.chronology(dist.loaded["lists"], dist.snapshot_date)["future_dated"] == 1


def test_full_dates_in_chinese_full_width_or_with_an_offset_and_no_time_are_dates(tmp_path):
    """2024年3月5日, full-width digits and an XML-Schema date with an offset (2024-03-05+08:00) were quarantined as
    bad_type while 2024/3/5 was read; a year or a month alone in any of these stays an incomplete date."""
    cells = ["2024年3月5日", "2024年03月06日", "２０２４－０３－０７", "2024-03-08+08:00", "2024-03-09Z",
             "２０２３年３月", "2024年2月30日"]
    lists = fac.records("lists", fac.codes(len(cells)), len(cells))
    lists["start_date"] = cells
    lists["reported_on"] = "2024-03-10"
    lt = _load(tmp_path, lists, "lists")
    assert lt.data["start_date"].tolist() == [pd.Timestamp(f"2024-03-0{i}") for i in range(5, 10)]
    q = lt.quarantine.set_index("row")
    assert set(q.index) == {6, 7} and (q["rule"] == "bad_type").all() and (q["column"] == "start_date").all()
    assert q.loc[6, "message"].endswith("a year or a month alone is an incomplete date")


def test_an_offset_after_an_hour_alone_or_in_basic_form_does_not_stop_the_load(tmp_path):
    """'2024-03-05T23+08:00' beside plain dates still stopped the load ("Mixed timezones"), as '+08' had."""
    cells = ["2024-03-05T23+08:00", "2024-03-06", "2024-03-07T2330+0800", "2024-03-08T23:30:00+08:00:00"]
    lists = fac.records("lists", fac.codes(len(cells)), len(cells))
    lists["start_date"] = cells
    lists["reported_on"] = "2024-03-10"
    lt = _load(tmp_path, lists, "lists")
    assert lt.data["start_date"].tolist() == [pd.Timestamp(f"2024-03-0{i}") for i in (5, 6, 7)]
    q = lt.quarantine
    assert list(zip(q["row"], q["column"], q["rule"])) == [(4, "start_date", "bad_type")]
