"""Tests of the synthetic district generator (creditmodel.data.synthetic).

Small districts (300-2,000 firms), and one default-sized district (20,000 firms, with and without the shock)
for the story's statistical properties, whose margins were chosen so that a 20k district shows them clearly.
Cross-checks are independent of the generator's code paths: codes are re-validated with ``uscc.validate``,
nulls, delays and duplicates are counted in the written files, publicity windows are recomputed with pandas'
calendar offsets, default rates, sales and arrears are recounted from the files, the drift test fits its own
logistic regression and computes the PSI by hand.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from creditmodel.data import tables as T
from creditmodel.data import uscc
from creditmodel.data.synthetic import GeneratorConfig, generate_district, read_injected
from creditmodel.errors import ConfigError

ARROW_TYPE = {"string": pa.string(), "date": pa.date32(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
#: Date columns that are scheduled deadlines and may lie after the snapshot; every other date happened.
SCHEDULED = {("penalties", "publicity_min_end"), ("penalties", "publicity_max_end"),
             ("inspections", "rectification_due"), ("commitments", "due_on")}
#: Dates allowed before the district's history (firms predate the platform).
PREHISTORY = {("enterprises", "registered_on"), ("enterprises", "reported_on")}

HIGH_FAULTS = GeneratorConfig(
    malformed_uscc_rate=0.01, duplicate_uscc_rate=0.005,
    malformed_uscc_tables=("enterprises", "penalties", "inspections", "tax_grades", "repairs"),
    missing_rates={t: 0.02 for t in ("enterprises", "penalties", "arrears", "inspections", "lists", "commitments")},
    late_rates={t: 0.05 for t in ("enterprises", "penalties", "enforcement", "tax_grades", "lists", "repairs")})


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read(d: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(d / f"{name}.parquet")


def _complete(d: Path, name: str) -> pd.DataFrame:
    """The table without rows that have an (injected) empty required field."""
    df = _read(d, name)
    return df[df[T.TABLES[name].required_columns].notna().all(axis=1)]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faulty")
    generate_district(1000, 5, out=out, progress=False, config=HIGH_FAULTS)
    return out


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("district")
    generate_district(2000, 11, out=out, progress=False)
    return out


def _faults(d: Path, kind: str) -> dict[tuple[str, str], dict]:
    return {(f["table"], f["column"]): f for f in read_injected(d)["faults"] if f["fault"] == kind}


# --------------------------------------------------------------------------- files and determinism
def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate_district(300, 3, out=a, progress=False, config=HIGH_FAULTS)
    generate_district(300, 3, out=b, progress=False, config=HIGH_FAULTS)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    assert {f"{t}.parquet" for t in T.TABLES} | {"injected.json", "manifest.json"} == set(files)
    assert {f: _sha(a / f) for f in files} == {f: _sha(b / f) for f in files}


def test_different_seeds_differ(tmp_path):
    generate_district(300, 1, out=tmp_path / "s1", progress=False)
    generate_district(300, 2, out=tmp_path / "s2", progress=False)
    for name in ("enterprises", "penalties", "loans", "truth"):
        assert _sha(tmp_path / "s1" / f"{name}.parquet") != _sha(tmp_path / "s2" / f"{name}.parquet")
    c1 = set(_read(tmp_path / "s1", "enterprises").uscc)
    c2 = set(_read(tmp_path / "s2", "enterprises").uscc)
    assert len(c1 & c2) < 5


def test_tables_have_exactly_the_declared_columns_and_types(faulty):
    for name, spec in T.TABLES.items():
        schema = pq.read_schema(faulty / f"{name}.parquet")
        assert schema.names == spec.column_names, name
        for col in spec.columns:
            assert schema.field(col.name).type == ARROW_TYPE[col.dtype], (name, col.name)
        df = _read(faulty, name)
        for col in spec.columns:
            if col.allowed is not None:
                vals = set(df[col.name].dropna())
                assert vals <= set(col.allowed), (name, col.name, vals - set(col.allowed))
            if col.min is not None and col.dtype in ("int", "float"):
                assert (df[col.name].dropna() >= col.min).all(), (name, col.name)
            if col.max is not None and col.dtype in ("int", "float"):
                assert (df[col.name].dropna() <= col.max).all(), (name, col.name)
        assert df[list(spec.key)].dropna().duplicated().sum() == (
            len(_faults(faulty, "duplicate_uscc").get((name, "uscc"), {"rows": []})["rows"])), name


def test_manifest_describes_the_files(district):
    m = json.loads((district / "manifest.json").read_text(encoding="utf-8"))
    assert m["seed"] == 11 and m["firms"] == 2000
    assert m["snapshot_date"] == T.DISTRICT_END.isoformat() and m["start_date"] == T.DISTRICT_START.isoformat()
    assert m["shock_period"]["start"] == "2024-01-01" and m["shock_period"]["end"] == "2024-12-31"
    for name in T.TABLES:
        assert m["row_counts"][name] == pq.read_metadata(district / f"{name}.parquet").num_rows
        assert m["files"][f"{name}.parquet"] == _sha(district / f"{name}.parquet")
    assert m["files"]["injected.json"] == _sha(district / "injected.json")


# --------------------------------------------------------------------------- injected faults
def test_every_code_valid_except_exactly_the_injected_malformed_ones(faulty):
    malformed = _faults(faulty, "malformed_uscc")
    assert sum(f["count"] for f in malformed.values()) > 10          # the high rates did inject faults
    for name in T.TABLES:
        df = _read(faulty, name)
        v = uscc.validate(df["uscc"])
        bad = np.flatnonzero((v["status"] != "ok").to_numpy())
        entry = malformed.get((name, "uscc"))
        expected = entry["rows"] if entry else []
        assert bad.tolist() == expected, name
        if entry:
            assert entry["count"] == len(bad) and entry["denominator"] == len(df)
            assert entry["keys"] == df[entry["key_columns"][0]].iloc[bad].tolist()
            assert [d["reason"] for d in entry["details"]] == v["reason"].iloc[bad].tolist()
            assert all(uscc.is_valid(d["original"]) for d in entry["details"])
            assert [d["value"] for d in entry["details"]] == df["uscc"].iloc[bad].tolist()


def test_duplicate_codes_match_injected(faulty):
    ent = _read(faulty, "enterprises")
    entry = _faults(faulty, "duplicate_uscc")[("enterprises", "uscc")]
    dup = ent["uscc"].duplicated(keep=False)
    assert dup.sum() == entry["rows_sharing_a_code"] == 2 * entry["count"] > 0
    for d in entry["details"]:
        assert ent["uscc"].iloc[d["row"]] == ent["uscc"].iloc[d["duplicate_of_row"]] == d["value"]
        assert uscc.is_valid(d["value"]) and d["original"] not in set(ent["uscc"])
    # the two enterprises sharing a code are different firms
    rows = [(d["row"], d["duplicate_of_row"]) for d in entry["details"]]
    assert all(ent["registered_on"].iloc[a] != ent["registered_on"].iloc[b] or ent["name"].iloc[a] != ent["name"].iloc[b]
               for a, b in rows)


def test_missing_fields_match_injected(faulty):
    missing = _faults(faulty, "missing_field")
    assert sum(f["count"] for f in missing.values()) > 20
    for name, spec in T.TABLES.items():
        df = _read(faulty, name)
        for col in spec.required_columns:
            nulls = np.flatnonzero(df[col].isna().to_numpy()).tolist()
            entry = missing.get((name, col))
            assert nulls == (entry["rows"] if entry else []), (name, col)
            if entry:
                assert entry["denominator"] == len(df) and entry["rate"] == pytest.approx(entry["count"] / len(df))


def test_late_reports_match_injected(faulty):
    late = _faults(faulty, "late_report")
    deadline = read_injected(faulty)["reporting_deadline_days"]
    for name, spec in T.TABLES.items():
        if not spec.event_date or "reported_on" not in spec.column_names:
            continue
        df = _read(faulty, name)
        delay = (pd.to_datetime(df["reported_on"]) - pd.to_datetime(df[spec.event_date])).dt.days.to_numpy()
        assert (delay >= 0).all(), name
        rows = np.flatnonzero(delay > deadline).tolist()
        entry = late.get((name, "reported_on"))
        assert rows == (entry["rows"] if entry else []), name
        if entry:
            assert entry["event_date_column"] == spec.event_date
            assert [d["delay_days"] for d in entry["details"]] == delay[rows].tolist()


def test_injected_summary_agrees_with_details(faulty):
    doc = read_injected(faulty)
    assert len(doc["summary"]) == len(doc["faults"])
    for s, f in zip(doc["summary"], doc["faults"]):
        assert s == {k: f[k] for k in s}
        assert f["count"] == len(f["rows"]) == len(f["keys"])
        assert f["rows"] == sorted(f["rows"])


def test_fault_rates_do_not_change_the_clean_data(tmp_path):
    clean = GeneratorConfig(malformed_uscc_rate=0, duplicate_uscc_rate=0, missing_rates={}, late_rates={})
    generate_district(300, 9, out=tmp_path / "c", progress=False, config=clean)
    generate_district(300, 9, out=tmp_path / "f", progress=False, config=HIGH_FAULTS)
    assert all(f["count"] == 0 for f in read_injected(tmp_path / "c")["faults"])
    for name in ("loans", "truth", "invoices_monthly"):      # untouched by faults
        assert _read(tmp_path / "c", name).equals(_read(tmp_path / "f", name)), name
    a, b = _read(tmp_path / "c", "penalties"), _read(tmp_path / "f", "penalties")
    assert len(a) == len(b) and (a["record_id"] == b["record_id"]).all()


# --------------------------------------------------------------------------- point in time
def test_dates_within_history_and_nothing_happens_after_the_snapshot(district):
    start, end = pd.Timestamp(T.DISTRICT_START), pd.Timestamp(T.DISTRICT_END)
    for name, spec in T.TABLES.items():
        df = _read(district, name)
        for col in spec.columns:
            if col.dtype != "date":
                continue
            d = pd.to_datetime(df[col.name]).dropna()
            if (name, col.name) not in SCHEDULED:
                assert (d <= end).all(), (name, col.name)
            if (name, col.name) not in PREHISTORY:
                assert (d >= start).all(), (name, col.name)
    ent = _read(district, "enterprises")
    reg, closed = pd.to_datetime(ent["registered_on"]), pd.to_datetime(ent["closed_on"])
    assert (closed.dropna() > reg[closed.notna()]).all()
    known = ent["status"].notna()                               # status may be an injected missing field
    assert ((ent.loc[known, "status"] == "active") == closed[known].isna()).all()


def test_penalty_publicity_windows_follow_the_rules_of_the_decision_date(district):
    """DOMAIN.md A4: a serious penalty's minimum publicity is 6 months under the 2019 rules (527号) and 1 year under
    the 2023 rules in force from 2023-05-01 (the generator used 1 year throughout)."""
    pen = _read(district, "penalties")
    hi = {"minor": 3, "general": 12, "serious": 36}
    pen = pen[pen["publicity_min_end"].notna() & pen["publicity_max_end"].notna()]   # skip injected missing fields
    dec = pd.to_datetime(pen["decision_date"])
    rules_2023 = dec >= pd.Timestamp("2023-05-01")
    assert rules_2023.any() and (~rules_2023).any()

    def lo(sev, new):
        return {"minor": 0, "general": 3, "serious": 12 if new else 6}[sev]

    for sev in ("minor", "general", "serious"):
        p = pen["severity"] == sev
        assert p.sum() > 0
        exp_min = [d + pd.DateOffset(months=lo(sev, new)) for d, new in zip(dec[p], rules_2023[p])]
        exp_max = [d + pd.DateOffset(months=hi[sev]) for d in dec[p]]
        assert (pd.to_datetime(pen.loc[p, "publicity_min_end"]) == pd.DatetimeIndex(exp_min)).all(), sev
        assert (pd.to_datetime(pen.loc[p, "publicity_max_end"]) == pd.DatetimeIndex(exp_max)).all(), sev
    r = pen["repaired_on"].notna()
    assert r.sum() > 10
    assert (pen.loc[r, "repaired_on"] >= pen.loc[r, "publicity_min_end"]).all()
    assert (pen.loc[r, "repaired_on"] < pen.loc[r, "publicity_max_end"]).all()
    assert pen.loc[r, "fine_paid_on"].notna().all() and (pen.loc[r, "fine_paid_on"] <= pen.loc[r, "repaired_on"]).all()


def test_repairs_consistent_with_the_records_they_repair(district):
    rep = _complete(district, "repairs")
    assert set(rep["target_table"]) == {"penalties", "lists", "enforcement"}
    pen = _read(district, "penalties").set_index("record_id")
    lst = _read(district, "lists").set_index("record_id")
    enf = _read(district, "enforcement").set_index("record_id")
    ok = rep["outcome"] == "approved"
    assert (rep.loc[rep["outcome"] == "pending", "decided_on"].isna()).all()
    assert rep.loc[rep["outcome"] != "pending", "decided_on"].notna().all()
    p = rep[ok & (rep["target_table"] == "penalties")]
    assert (pen.loc[p["target_record_id"], "repaired_on"].to_numpy() == p["decided_on"].to_numpy()).all()
    # every repaired penalty has exactly one approved application, and no other penalty is repaired
    assert set(pen.index[pen["repaired_on"].notna()]) == set(p["target_record_id"]) and p["target_record_id"].is_unique
    not_ok = rep[~ok & (rep["target_table"] == "penalties")]
    assert pen.loc[not_ok["target_record_id"], "repaired_on"].isna().all()
    q = rep[ok & (rep["target_table"] == "lists")]
    assert set(lst.loc[q["target_record_id"], "list_type"]) <= {"serious_dishonesty", "black"}
    assert (lst.loc[q["target_record_id"], "end_date"].to_numpy() == q["decided_on"].to_numpy()).all()
    e = rep[ok & (rep["target_table"] == "enforcement")]
    assert (enf.loc[e["target_record_id"], "dishonest_removed_on"].to_numpy() == e["decided_on"].to_numpy()).all()
    for t, frame in (("penalties", pen), ("lists", lst), ("enforcement", enf)):
        sub = rep[rep["target_table"] == t]
        assert (frame.loc[sub["target_record_id"], "uscc"].to_numpy() == sub["uscc"].to_numpy()).all(), t


def test_tax_grade_m_only_for_firms_in_their_first_year_without_a_direct_d(district):
    """M is a new firm's grade; a firm listed as seriously dishonest in its first year is D (M needs no listed
    dishonest act, DOMAIN A3: generator 1.1 gave 15 such firms M, a reviewer's finding)."""
    tax = _complete(district, "tax_grades")
    ent = _read(district, "enterprises").drop_duplicates("uscc", keep=False).set_index("uscc")
    tax = tax[tax["uscc"].isin(ent.index)]
    reg_year = pd.to_datetime(tax["uscc"].map(ent["registered_on"])).dt.year
    first = reg_year == tax["year"]
    assert (tax.loc[tax["grade"] == "M"].index.isin(tax.index[first])).all()
    assert tax.loc[first, "grade"].isin(["M", "D"]).all() and (tax.loc[first, "grade"] == "M").mean() > 0.9
    li = _read(district, "lists")
    sd = li[li["list_type"] == "serious_dishonesty"]
    listed = set(zip(sd["uscc"], pd.to_datetime(sd["start_date"]).dt.year))
    in_year = [(u, y) in listed for u, y in zip(tax["uscc"], tax["year"])]
    assert (tax.loc[in_year, "grade"] == "D").all()
    assert (reg_year <= tax["year"]).all()
    shares = tax["grade"].value_counts(normalize=True)
    assert shares["B"] > shares["A"] > shares["C"] > shares["D"] > 0


def test_list_reasons_agree_with_the_tax_grades_and_the_annual_reports(big):
    """Generator 1.1 gave 60 % of its "A-grade taxpayer" honours to firms without an A grade and listed firms as
    abnormal for a missing annual report in their registration year or after the report was filed (a reviewer)."""
    li, tax = _read(big, "lists"), _read(big, "tax_grades").dropna(subset=["grade", "uscc"])
    ent = _read(big, "enterprises").drop_duplicates("uscc", keep=False).set_index("uscc")
    honours = li[(li["list_type"] == "red") & (li["reason"] == "纳税信用A级纳税人") & li["uscc"].isin(ent.index)]
    assert len(honours) > 100
    tax = tax.assign(published_on=pd.to_datetime(tax["published_on"])).sort_values("published_on")
    last = pd.merge_asof(honours.assign(start=pd.to_datetime(honours["start_date"])).sort_values("start"), tax,
                         left_on="start", right_on="published_on", by="uscc", direction="backward")
    # every honour follows an A (a grade row emptied by an injected fault leaves a few without a grade to read)
    assert (last["grade"] == "A").mean() > 0.99
    ab = li[(li["list_type"] == "abnormal_operation") & (li["reason"] == "未按规定报送年度报告")
            & li["uscc"].isin(ent.index)]
    year = pd.to_datetime(ab["start_date"]).dt.year
    assert len(ab) > 100 and (year > pd.to_datetime(ab["uscc"].map(ent["registered_on"])).dt.year).all()
    rep = _read(big, "annual_reports")
    m = ab.assign(year=year - 1).merge(rep[["uscc", "year", "filed_on"]], on=["uscc", "year"])
    assert not (pd.to_datetime(m["filed_on"]) <= pd.to_datetime(m["start_date"])).any()
    # the other abnormal reason took them: the listings are all still there
    assert (li["list_type"] == "abnormal_operation").sum() > len(ab)


# --------------------------------------------------------------------------- the story
def test_true_pd_is_a_probability_and_defaults_track_it(district):
    loans = _read(district, "loans")
    assert len(loans) > 150
    assert ((loans["true_pd"] > 0) & (loans["true_pd"] < 1)).all()
    assert loans["amount"].between(100e3, 1e6).all()
    o = pd.to_datetime(loans["origination_date"])
    assert o.min() >= pd.Timestamp("2021-01-01") and o.max() <= pd.Timestamp("2024-12-31")
    dd = pd.to_datetime(loans["default_date"])
    assert ((loans["default_12m"] == 1) == dd.notna()).all()
    assert (dd[dd.notna()] <= o[dd.notna()] + pd.DateOffset(months=12)).all()
    # the number of defaults is consistent with sum(true_pd) (Poisson-binomial, normal approximation)
    p = loans["true_pd"].to_numpy()
    z = (loans["default_12m"].sum() - p.sum()) / np.sqrt((p * (1 - p)).sum())
    assert abs(z) < 4
    assert 0.025 < p.mean() < 0.07
    # and riskier loans default more: rank correlation of PD and outcome (Mann-Whitney)
    res = stats.mannwhitneyu(p[loans["default_12m"] == 1], p[loans["default_12m"] == 0], alternative="greater")
    assert res.pvalue < 1e-4


def test_true_pd_spreads_over_the_master_scale(district):
    p = _read(district, "loans")["true_pd"]
    assert p.quantile(0.05) < 0.003 and p.quantile(0.95) > 0.10
    bands = np.searchsorted([0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512, 0.1024, 0.2048], p)
    assert len(np.unique(bands)) >= 9


def test_latent_is_standard_normal_and_drives_records(district):
    truth = _read(district, "truth")
    assert abs(truth["latent"].mean()) < 0.1 and abs(truth["latent"].std() - 1) < 0.1
    assert stats.normaltest(truth["latent"]).pvalue > 1e-4
    pen = _read(district, "penalties")
    n_pen = truth["uscc"].map(pen["uscc"].value_counts()).fillna(0)
    rho = stats.spearmanr(truth["latent"], n_pen).statistic
    assert rho < -0.1                                          # worse firms are penalised more often
    red = _read(district, "lists").query("list_type == 'red'")
    assert truth.loc[truth["uscc"].isin(red["uscc"]), "latent"].mean() > truth["latent"].mean() + 0.3


CLEAN = GeneratorConfig(malformed_uscc_rate=0, duplicate_uscc_rate=0, missing_rates={}, late_rates={})


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A default-sized district (20,000 firms): the size the demo and the notebooks use."""
    out = tmp_path_factory.mktemp("big")
    generate_district(20_000, 5, out=out, progress=False, config=CLEAN)
    return out


@pytest.fixture(scope="module")
def calm(tmp_path_factory) -> Path:
    """The same district without the shock."""
    out = tmp_path_factory.mktemp("calm")
    generate_district(20_000, 5, out=out, progress=False, config=replace(CLEAN, shock_size=0.0))
    return out


def _loans_with_exposure(d: Path) -> tuple[pd.DataFrame, dict]:
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    loans = _read(d, "loans")
    ind = _read(d, "enterprises").set_index("uscc")["industry"]
    o = pd.to_datetime(loans["origination_date"])
    sp = m["shock_period"]
    loans["year"] = o.dt.year
    loans["exposed"] = loans["uscc"].map(ind).isin(sp["exposed_industries"])
    loans["when"] = np.select([o < pd.Timestamp(sp["start"]), o <= pd.Timestamp(sp["end"])],
                              ["before_shock", "in_shock"], "after")
    return loans, m


def test_shock_raises_realised_defaults_of_exposed_firms(big):
    loans, m = _loans_with_exposure(big)
    assert m["shock_period"]["exposed_industries"] == ["K", "E", "H", "F"]
    assert 0.03 < loans["default_12m"].mean() < 0.06
    g = loans.groupby(["when", "exposed"])["default_12m"].agg(["sum", "size", "mean"])
    ex_in, ex_before = g.loc[("in_shock", True)], g.loc[("before_shock", True)]
    ot_in, ot_before = g.loc[("in_shock", False)], g.loc[("before_shock", False)]
    assert ex_in["size"] > 500 and ex_before["size"] > 500
    # exposed firms' loans of the shock period default far more often than before it (one-sided Fisher test)
    assert ex_in["mean"] > 1.8 * ex_before["mean"]
    table = [[ex_in["sum"], ex_in["size"] - ex_in["sum"]], [ex_before["sum"], ex_before["size"] - ex_before["sum"]]]
    assert stats.fisher_exact(table, alternative="greater").pvalue < 1e-8
    # the others much less so
    assert ot_in["mean"] / ot_before["mean"] < 0.6 * ex_in["mean"] / ex_before["mean"]
    # the shock year is the worst origination year, by a wide margin
    by_year = loans.groupby("year")["default_12m"].mean()
    assert list(by_year.index) == [2021, 2022, 2023, 2024]
    assert by_year[2024] > 1.5 * by_year[[2021, 2022, 2023]].max()
    # the manifest's realised figures are these counts
    for (when, exposed), row in g.iterrows():
        rec = m["shock_period"]["realised"]["loans"][f"{when}_{'exposed' if exposed else 'other'}"]
        assert (rec["loans"], rec["defaults"]) == (row["size"], row["sum"])


def test_shock_shows_in_invoices_arrears_and_borrowing(big, calm):
    res = {}
    for k, d in (("shock", big), ("calm", calm)):
        ind = _read(d, "enterprises").set_index("uscc")["industry"]
        exposed_ind = json.loads((d / "manifest.json").read_text(encoding="utf-8"))["shock_period"]["exposed_industries"]
        inv = _read(d, "invoices_monthly")
        inv["exposed"] = inv["uscc"].map(ind).isin(exposed_ind)
        y = pd.to_datetime(inv["month"]).dt.year
        s = inv.groupby([inv["exposed"], y])["sales"].sum()
        arr = _read(d, "arrears")
        ay = pd.to_datetime(arr["determined_on"]).dt.year
        a_ex = arr["uscc"].map(ind).isin(exposed_ind)
        loans, _ = _loans_with_exposure(d)
        res[k] = {"sales_ex": s[(True, 2024)] / s[(True, 2023)], "sales_ot": s[(False, 2024)] / s[(False, 2023)],
                  "arrears_ex": ((ay == 2024) & a_ex).sum(), "arrears_ot": ((ay == 2024) & ~a_ex).sum(),
                  "loans_2024_ex": ((loans["year"] == 2024) & loans["exposed"]).sum(),
                  "loans_2023": (loans["year"] == 2023).sum()}
    shock, calm_ = res["shock"], res["calm"]
    assert shock["sales_ex"] < 0.75 and shock["sales_ot"] > 0.9          # exposed firms' invoiced sales fall
    assert calm_["sales_ex"] > 0.9
    assert shock["arrears_ex"] > 2 * calm_["arrears_ex"] > 0             # their arrears more than double
    assert shock["arrears_ot"] < 1.5 * calm_["arrears_ot"]
    assert shock["loans_2024_ex"] > 1.4 * calm_["loans_2024_ex"]          # firms under strain borrow more
    assert abs(shock["loans_2023"] / calm_["loans_2023"] - 1) < 0.03      # ... only in the shock period


#: Point-in-time features of a small logistic regression (no categorical feature, no feature selection).
MODEL_FEATURES = ["firm_age_years", "penalty_active_n", "inspection_fail_2y_n", "inspection_violations_2y",
                  "enforcement_open_n", "dishonest_debtor_listed", "tax_grade_ordinal", "tax_grade_worst_3y",
                  "arrears_months_overdue_max", "on_abnormal_operation_list", "red_list_active_n",
                  "commitments_broken_3y_n", "invoice_sales_12m_log", "invoice_sales_growth", "invoice_sales_cv",
                  "invoice_zero_sales_months", "annual_leverage", "annual_current_ratio", "annual_roa"]


def test_a_model_built_before_the_shock_drifts_and_under_predicts(big):
    """Logistic regression trained on 2021-2023 originations, scored on the shock year's originations."""
    from sklearn.linear_model import LogisticRegression

    from creditmodel.data.io import load_district
    from creditmodel.features import build_loan_features

    f = build_loan_features(load_district(big).tables)
    X = f[MODEL_FEATURES].astype(float)
    X = X.fillna(X.median())
    train = (pd.to_datetime(f["as_of_date"]) < pd.Timestamp("2024-01-01")).to_numpy()
    Z = ((X - X[train].mean()) / X[train].std()).to_numpy()
    y = f["default_12m"].to_numpy()
    lr = LogisticRegression(max_iter=2000).fit(Z[train], y[train])
    score = Z @ lr.coef_[0]
    # PSI of the score on the training deciles (computed here by hand)
    edges = np.quantile(score[train], np.linspace(0, 1, 11)[1:-1])
    e = np.bincount(np.searchsorted(edges, score[train]), minlength=10) / train.sum()
    a = np.bincount(np.searchsorted(edges, score[~train]), minlength=10) / (~train).sum()
    psi = float(np.sum((a - e) * np.log(a / e)))
    assert psi > 0.08                      # the score distribution moves (0.1-0.2 is typical at this size)
    pd_2024 = lr.predict_proba(Z[~train])[:, 1]
    assert y[~train].mean() > 1.15 * pd_2024.mean()                      # realised above predicted
    auc = stats.mannwhitneyu(pd_2024[y[~train] == 1], pd_2024[y[~train] == 0]).statistic / (
        (y[~train] == 1).sum() * (y[~train] == 0).sum())
    assert 0.7 < auc < 0.9                                               # and the model still ranks
    # the inputs show it: exposed firms' sales fall in the 12 months before a shock-year origination
    ind = _read(big, "enterprises").set_index("uscc")["industry"]
    exposed = f["uscc"].map(ind).isin(["K", "E", "H", "F"]).to_numpy()
    growth = f["invoice_sales_growth"].to_numpy()
    assert np.nanmedian(growth[exposed & ~train]) < -0.05 < 0.05 < np.nanmedian(growth[exposed & train])


# --------------------------------------------------------------------------- invoices and annual reports
def test_months_without_invoices_have_no_sales(district):
    inv = _read(district, "invoices_monthly")
    assert ((inv["n_sales_invoices"] == 0) == (inv["sales"] == 0)).all()
    assert ((inv["n_purchase_invoices"] == 0) == (inv["purchases"] == 0)).all()
    dormant = inv["sales"] == 0
    assert 0.001 < dormant.mean() < 0.05
    # dormant months belong to weak firms
    truth = _read(district, "truth").set_index("uscc")["latent"]
    lat = inv.groupby("uscc")["sales"].apply(lambda s: (s == 0).any())
    assert truth[lat[lat].index].mean() < truth[lat.index].mean() - 0.3
    # voided and red-letter shares are counts over the month's invoices, at least one invoice valid
    n = inv["n_sales_invoices"].to_numpy()
    kv, kr = inv["voided_share"].to_numpy() * n, inv["red_letter_share"].to_numpy() * n
    assert np.allclose(kv, np.round(kv), atol=1e-3 * np.maximum(n, 1)) and np.allclose(kr, np.round(kr), atol=1e-3 * np.maximum(n, 1))
    assert (np.round(kv) + np.round(kr) <= np.maximum(n - 1, 0)).all()
    assert (inv.loc[dormant, ["voided_share", "red_letter_share"]] == 0).all().all()


def test_annual_reports_keep_balance_sheet_identities(district):
    ar = _read(district, "annual_reports")
    assert len(ar) > 500
    assert (ar["current_assets"] <= ar["total_assets"]).all()
    assert (ar["current_liabilities"] <= ar["total_liabilities"]).all()
    assert (ar[["total_assets", "total_liabilities", "current_assets", "current_liabilities", "revenue"]] >= 0).all().all()
    # revenue is the year's invoiced sales (within the generator's +-3 % reporting noise, 5 sd)
    inv = _read(district, "invoices_monthly")
    sales = inv.groupby([inv["uscc"], pd.to_datetime(inv["month"]).dt.year])["sales"].sum()
    key = pd.MultiIndex.from_arrays([ar["uscc"], ar["year"]])
    ratio = ar["revenue"].to_numpy() / sales.reindex(key).to_numpy()
    ok = np.isfinite(ratio) & (sales.reindex(key).to_numpy() > 0)
    assert ok.mean() > 0.99 and (np.abs(np.log(ratio[ok])) < 0.15).all()


def test_invoice_shares_do_not_reveal_the_latent(big):
    inv = _read(big, "invoices_monthly")
    inv = inv[pd.to_datetime(inv["month"]).dt.year == 2023]
    n = inv["n_sales_invoices"]
    firm = pd.DataFrame({"n": n, "void": inv["voided_share"] * n, "red": inv["red_letter_share"] * n,
                         "uscc": inv["uscc"]}).groupby("uscc").sum()
    firm = firm[firm["n"] >= 12]
    latent = _read(big, "truth").set_index("uscc")["latent"].reindex(firm.index)
    assert len(firm) > 1000
    for col in ("void", "red"):
        rho = stats.spearmanr(firm[col] / firm["n"], latent).statistic
        assert -0.5 < rho < -0.05, (col, rho)          # a weak signal, far from a readout of the latent


# --------------------------------------------------------------------------- configuration
@pytest.mark.parametrize("kwargs, param", [
    ({"firms": 5}, "firms"),
    ({"seed": -1}, "seed"),
    ({"malformed_uscc_rate": 1.0}, "malformed_uscc_rate"),
    ({"duplicate_uscc_rate": -0.01}, "duplicate_uscc_rate"),
    ({"missing_rates": {"penalties": 1.5}}, "missing_rates"),
    ({"missing_rates": {"nope": 0.1}}, "missing_rates"),
    ({"late_rates": {"loans": 0.1}}, "late_rates"),
    ({"malformed_uscc_tables": ("enterprises", "truth")}, "malformed_uscc_tables"),
    ({"applicant_share": 0.0}, "applicant_share"),
    ({"shock_start": date(2026, 1, 1), "shock_end": date(2026, 6, 30)}, "shock_start"),
    ({"shock_recovery_months": 48}, "shock_recovery_months"),
    ({"shock_recovery_months": 1.5}, "shock_recovery_months"),
])
def test_invalid_config_is_rejected_naming_the_parameter(kwargs, param):
    with pytest.raises(ConfigError) as e:
        GeneratorConfig(**kwargs)
    assert param in str(e.value) and e.value.column == param


def test_generate_district_validates_firms(tmp_path):
    with pytest.raises(ConfigError, match="firms"):
        generate_district(3, 1, out=tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_data_readme_documents_every_table_and_column():
    from creditmodel.reference import PROJECT_DATA

    readme = PROJECT_DATA / "README.md"
    if not readme.exists():
        pytest.skip("data/README.md is not present (installed package without the repository)")
    text = readme.read_text(encoding="utf-8")
    for name, spec in T.TABLES.items():
        assert f"#### `{name}`" in text, name
        section = text.split(f"#### `{name}`", 1)[1].split("#### ", 1)[0]
        for col in spec.columns:
            assert f"| `{col.name}` | {col.dtype} | {'yes' if col.required else 'no'} |" in section, (name, col.name)
