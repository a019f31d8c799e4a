"""Tests of the synthetic district generator (creditmodel.data.synthetic).

Small districts (300-2,000 firms). Cross-checks are independent of the generator's code paths: codes are
re-validated with ``uscc.validate``, nulls, delays and duplicates are counted in the written files, publicity
windows are recomputed with pandas' calendar offsets.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
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


def test_penalty_publicity_windows_follow_the_2023_rules(district):
    pen = _read(district, "penalties")
    dec = pd.to_datetime(pen["decision_date"])
    lo = {"minor": 0, "general": 3, "serious": 12}
    hi = {"minor": 3, "general": 12, "serious": 36}
    pen = pen[pen["publicity_min_end"].notna() & pen["publicity_max_end"].notna()]   # skip injected missing fields
    dec = pd.to_datetime(pen["decision_date"])
    for sev in ("minor", "general", "serious"):
        p = pen["severity"] == sev
        assert p.sum() > 0
        exp_min = [d + pd.DateOffset(months=lo[sev]) for d in dec[p]]
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


def test_tax_grade_m_exactly_for_firms_in_their_first_year(district):
    tax = _complete(district, "tax_grades")
    ent = _read(district, "enterprises").drop_duplicates("uscc", keep=False).set_index("uscc")
    tax = tax[tax["uscc"].isin(ent.index)]
    reg_year = pd.to_datetime(tax["uscc"].map(ent["registered_on"])).dt.year
    assert ((tax["grade"] == "M") == (reg_year == tax["year"])).all()
    assert (reg_year <= tax["year"]).all()
    shares = tax["grade"].value_counts(normalize=True)
    assert shares["B"] > shares["A"] > shares["C"] > shares["D"] > 0


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


def test_shock_period_raises_defaults_and_arrears(tmp_path):
    base = GeneratorConfig(missing_rates={}, late_rates={}, malformed_uscc_rate=0, duplicate_uscc_rate=0)
    generate_district(2000, 21, out=tmp_path / "shock", progress=False, config=base)
    generate_district(2000, 21, out=tmp_path / "calm", progress=False,
                      config=GeneratorConfig(**{**base.__dict__, "shock_size": 0.0}))
    truth = _read(tmp_path / "shock", "truth").set_index("uscc")
    res = {}
    for k in ("shock", "calm"):
        loans = _read(tmp_path / k, "loans")
        o = pd.to_datetime(loans["origination_date"])
        in_shock = (o >= pd.Timestamp("2023-04-01")) & (o <= pd.Timestamp("2024-09-30"))
        exposed = loans["uscc"].map(truth["shock_exposure"]) > 0.4
        g = loans[in_shock & exposed]
        arr = _read(tmp_path / k, "arrears")
        y = pd.to_datetime(arr["determined_on"]).dt.year
        res[k] = (g["true_pd"].mean(), g["default_12m"].sum(), (y == 2024).sum(), len(g))
    assert res["shock"][3] == res["calm"][3] > 40                # same loans (the loan draws do not depend on the shock)
    assert res["shock"][0] > 1.25 * res["calm"][0]
    assert res["shock"][1] >= res["calm"][1]
    assert res["shock"][2] > 1.5 * res["calm"][2]


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
