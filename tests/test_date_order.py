"""A record whose dates cannot be true as written is quarantined (rule ``date_order``): a district fuzzer found end
dates before their start dates accepted, and an early end made a firm look better (a listing over before it
began, a dishonest-debtor removal before the listing, a fine paid before the decision)."""
from __future__ import annotations

import pandas as pd
import pytest

import district_factory as fac
from creditmodel.data import io, schema

FORMATS = ["csv", "parquet"]


def _load(tmp_path, df, name, fmt):
    return io.load_table(fac.write(df, tmp_path / name, fmt), name)


def _order(lt):
    q = lt.quarantine[lt.quarantine["rule"] == "date_order"]
    return {(int(r.row), r.column): r.message for r in q.itertuples()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_end_dates_before_their_start_are_quarantined(tmp_path, fmt):
    lists = fac.records("lists", fac.codes(3), 3)
    lists.loc[1, "end_date"] = "2023-02-01"            # before start_date 2023-03-01
    lists.loc[2, "end_date"] = "2023-03-01"            # the same day: possible
    lt = _load(tmp_path, lists, "lists", fmt)
    assert _order(lt) == {(2, "end_date"): "end_date 2023-02-01 is before start_date 2023-03-01"}
    assert list(lt.data.index) == [0, 2] and lt.n_rows == lt.n_kept + lt.n_quarantined

    enf = fac.records("enforcement", fac.codes(3), 3)
    enf["dishonest_listed_on"] = "2023-06-01"
    enf.loc[0, "dishonest_removed_on"] = "2023-05-01"  # removed before listed (both after filing)
    enf.loc[1, "dishonest_removed_on"] = "2023-07-01"
    lt = _load(tmp_path, enf, "enforcement", fmt)
    assert _order(lt) == {(1, "dishonest_removed_on"):
                          "dishonest_removed_on 2023-05-01 is before dishonest_listed_on 2023-06-01"}

    pen = fac.records("penalties", fac.codes(3), 3)
    pen.loc[2, "fine_paid_on"] = "2023-01-15"          # paid before the decision of 2023-03-01
    lt = _load(tmp_path, pen, "penalties", fmt)
    assert list(_order(lt)) == [(3, "fine_paid_on")] and 2 not in lt.data.index

    arr = fac.records("arrears", fac.codes(2), 2)
    arr.loc[0, "started_on"] = "2022-12-01"            # an arrear starts before it is determined: allowed
    lt = _load(tmp_path, arr, "arrears", fmt)
    assert not _order(lt) and lt.n_quarantined == 0


def test_an_enterprise_closed_before_it_registered_is_quarantined_and_counted_by_quality(tmp_path):
    from creditmodel.data import quality

    c = fac.codes(4)
    ent = fac.enterprises(c)
    ent.loc[1, "closed_on"] = (pd.Timestamp(ent.loc[1, "registered_on"]) - pd.Timedelta(days=3)).strftime("%Y-%m-%d")
    d = tmp_path / "d"
    d.mkdir()
    fac.write(ent, d / "enterprises", "csv")
    dist = io.load_district(d)
    assert list(_order(dist.loaded["enterprises"])) == [(2, "closed_on")]
    rep = quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, d)
    assert rep.indicators["date_order_faults"] == 1      # measured on the data as delivered
    assert "1 row(s) with a date before the date it follows (quarantined, rule date_order)" in rep.summary()


def test_the_pairs_checked_are_the_ones_quality_counts():
    from creditmodel.data.tables import TABLES

    pairs = {n: schema.date_order_pairs(t) for n, t in TABLES.items()}
    assert ("dishonest_listed_on", "dishonest_removed_on") in pairs["enforcement"]
    assert ("start_date", "end_date") in pairs["lists"] and ("decision_date", "fine_paid_on") in pairs["penalties"]
    assert ("determined_on", "started_on") not in pairs["arrears"] and ("started_on", "cleared_on") in pairs["arrears"]
    assert all("reported_on" not in p for ps in pairs.values() for p in ps)
    assert "date_order" in schema.RULES


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_record_under_another_id_is_listed_not_dropped(tmp_path, fmt):
    """A district fuzzer's finding: one penalty delivered under two record ids was counted twice without a word.
    The tables hold no decision number, so it cannot be told from two like penalties: kept, listed as a warning."""
    pen = fac.records("penalties", fac.codes(3), 4)
    pen.loc[:, "decision_date"] = ["2023-03-01", "2023-03-02", "2023-03-03", "2023-03-04"]
    pen.loc[3] = pen.loc[1]
    pen.loc[3, "record_id"] = "PEN-COPY"            # row 4: row 2 again under another id
    lt = _load(tmp_path, pen, "penalties", fmt)
    w = lt.warnings[lt.warnings["rule"] == "possible_duplicate_record"]
    assert w["row"].tolist() == [4] and w["column"].tolist() == ["record_id"]
    assert w["message"].iloc[0].startswith(f"the same record as row 2 (record_id {pen.loc[1, 'record_id']}) in "
                                           "every column but record_id")
    assert lt.n_quarantined == 0 and list(lt.data.index) == [0, 1, 2, 3]
    other = pen.copy()
    other.loc[3, "amount"] = "7000"                 # differs in one column: no warning
    assert not (_load(tmp_path, other, "penalties", fmt).warnings["rule"] == "possible_duplicate_record").any()


def test_an_enterprise_closed_without_a_date_is_listed(tmp_path):
    """A fuzzer's finding: a deregistered enterprise with an empty closed_on was graded as active without a word."""
    ent = fac.enterprises(fac.codes(3))
    ent.loc[1, "status"] = "deregistered"
    ent.loc[1, "closed_on"] = ""
    lt = _load(tmp_path, ent, "enterprises", "csv")
    w = lt.warnings[lt.warnings["rule"] == "closed_without_date"]
    assert w["row"].tolist() == [2] and "status deregistered without a closed_on date" in w["message"].iloc[0]
    assert lt.n_quarantined == 0 and len(lt.data) == 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_copies_differing_only_in_a_descriptive_field_keep_the_first(tmp_path, fmt):
    """A fuzzer's finding: two copies of a penalty under one id that differed only in the department's name were
    both quarantined, so the penalty was lost; now the first is kept and the copy quarantined (duplicate_row)."""
    pen = fac.records("penalties", fac.codes(3), 3)
    pen.loc[3] = pen.loc[1]
    pen.loc[3, "department"] = "市场监督管理局"       # the same record id, only a descriptive field differs
    lt = _load(tmp_path, pen, "penalties", fmt)
    q = lt.quarantine
    assert q["row"].tolist() == [4] and q["rule"].tolist() == ["duplicate_row"]
    assert q["message"].iloc[0] == "copy of row 2 differing only in descriptive field(s) department: counted once, as row 2"
    assert list(lt.data.index) == [0, 1, 2]
    clash = pen.copy()
    clash.loc[3, "severity"] = "serious"             # an essential field differs: a contradiction, both out
    lt = _load(tmp_path, clash, "penalties", fmt)
    assert set(lt.quarantine.loc[lt.quarantine["rule"] == "duplicate_key", "row"]) == {2, 4}
