"""Exact values of the synthetic district generator (creditmodel.data.synthetic), pinned by hand.

Calendar helpers against pandas' calendar offsets, the shock profile against its formula evaluated with
``datetime``, record dates against the windows of the module docstring (publicity, repairs, listings, arrears,
commitments, tax-grade publication, case numbers), the manifest's figures recounted from the written files and
the injected faults compared with a clean generation of the same seed (faults never change the clean data).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from creditmodel import reference
from creditmodel.data import tables as T
from creditmodel.data import uscc
from creditmodel.data import synthetic as S
from creditmodel.data.synthetic import GeneratorConfig, generate_district, read_injected
from creditmodel.errors import ConfigError

END = pd.Timestamp(T.DISTRICT_END)
CLEAN = GeneratorConfig(malformed_uscc_rate=0, duplicate_uscc_rate=0, missing_rates={}, late_rates={})
FAULT_TABLES = ("enterprises", "penalties", "enforcement", "arrears", "inspections", "lists", "commitments")
HEAVY = GeneratorConfig(malformed_uscc_rate=0.2, duplicate_uscc_rate=0.03, malformed_uscc_tables=FAULT_TABLES,
                        missing_rates={"penalties": 0.01}, late_rates={t: 0.9 for t in FAULT_TABLES})


def _read(d: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(d / f"{name}.parquet")


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """5,000 firms without faults (every code unique, every field filled): windows can be checked row by row.
    Seed 34 has a serious penalty decided on 2023-05-01 (the first day of the 2023 publicity rules) and a red-list
    honour from 2023-12-31 (its 24 months end on the snapshot day itself)."""
    out = tmp_path_factory.mktemp("clean5k")
    generate_district(5000, 34, out=out, progress=False, config=CLEAN)
    return out


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """400 firms with heavy faults, and the same district without faults."""
    a, b = tmp_path_factory.mktemp("heavy"), tmp_path_factory.mktemp("heavy_clean")
    res = generate_district(400, 3, out=a, progress=False, config=HEAVY)
    generate_district(400, 3, out=b, progress=False, config=CLEAN)
    return a, b, res


# --------------------------------------------------------------------------- calendar helpers
def test_day_iso_year_of_exact_values():
    assert S._day(date(1970, 1, 1)) == 0 and S._day(date(1970, 1, 2)) == 1
    leap = (date(2024, 2, 29) - date(1970, 1, 1)).days
    assert S._day(date(2024, 2, 29)) == leap and S._iso(leap) == "2024-02-29" and S._iso(0) == "1970-01-01"
    days = np.array([S._day(date(2019, 12, 31)), S._day(date(2020, 1, 1)), S._day(date(2025, 12, 31))])
    assert S._year_of(days).tolist() == [2019, 2020, 2025]


@pytest.mark.parametrize("k", [-6, -1, 1, 3, 6, 12, 24, 36])
def test_add_months_matches_pandas_date_offsets(k):
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    got = S._add_months(np.array([S._day(d.date()) for d in days]), k)
    expected = [(d + pd.DateOffset(months=k)).date() for d in days]
    assert [S._iso(x) for x in got] == [e.isoformat() for e in expected]
    # the month-end clip by hand
    assert S._iso(S._add_months(np.array([S._day(date(2024, 1, 31))]), 1)[0]) == "2024-02-29"
    assert S._iso(S._add_months(np.array([S._day(date(2023, 1, 31))]), 1)[0]) == "2023-02-28"


def test_shock_profile_follows_its_formula_month_by_month():
    prof = S.shock_profile(date(2024, 1, 1), date(2024, 12, 31), 12)
    assert prof.shape == (96,)                                  # 2018-01 .. 2025-12
    months = [(2018 + i // 12, 1 + i % 12) for i in range(96)]
    for (y, m), v in zip(months, prof):
        mid = date(y, m, 15)
        if y < 2024:
            exp = 0.0
        elif y == 2024:
            exp = 1.0
        else:
            exp = max(0.0, 1.0 - (mid - date(2024, 12, 31)).days / (30.4375 * 12))
        assert v == pytest.approx(exp, abs=1e-12), (y, m)
    assert prof[84] == pytest.approx(1 - 15 / 365.25)         # 2025-01: 15 days into the recovery


def test_shock_profile_is_read_at_the_15th_inclusive_at_both_ends():
    p = S.shock_profile(date(2024, 1, 15), date(2024, 6, 15), 0)
    i = (2024 - 2018) * 12                                      # index of 2024-01
    assert p[i - 1 : i + 7].tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    p = S.shock_profile(date(2024, 1, 16), date(2024, 6, 14), 0)
    assert p[i - 1 : i + 7].tolist() == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]


def test_reporting_delay_is_0_to_7_days_and_capped_at_the_snapshot():
    rng = np.random.default_rng(0)
    ev = np.full(40_000, S._day(date(2022, 3, 1)))
    delay = S._reporting_delay(rng, ev) - ev
    assert reference.reporting_deadline_days() == 7
    counts = np.bincount(delay, minlength=8)
    assert len(counts) == 8 and (counts > 0).all()
    p = np.array([0.30, 0.20, 0.15, 0.10, 0.08, 0.07, 0.05, 0.05])
    assert np.abs(counts / len(ev) - p).max() < 0.01
    near = np.full(2000, S.END - 2)
    r = S._reporting_delay(rng, near)
    assert r.max() == S.END and r.min() == S.END - 2
    late = np.array([S.END + 10])                               # an event after the snapshot keeps its date
    assert S._reporting_delay(rng, late).tolist() == [S.END + 10]


def test_pairs_and_count_pairs_against_a_brute_force_loop():
    rng = np.random.default_rng(4)
    ev = rng.integers(0, 30, 200)
    q = rng.integers(0, 35, 90)
    qi, ei = S._pairs(ev, q)
    assert sorted(zip(qi.tolist(), ei.tolist())) == sorted((i, j) for i in range(len(q)) for j in range(len(ev))
                                                           if q[i] == ev[j])
    cond = ei % 2 == 0
    expected = [sum(1 for j in range(len(ev)) if ev[j] == q[i] and j % 2 == 0) for i in range(len(q))]
    assert S._count_pairs(qi, cond, len(q)).tolist() == expected


# --------------------------------------------------------------------------- configuration
def test_boundary_values_are_accepted():
    c = GeneratorConfig(firms=10, seed=0, malformed_uscc_rate=0.0, duplicate_uscc_rate=0.999, applicant_share=0.5,
                        shock_size=3.0, shock_recovery_months=36, shock_start=date(2019, 1, 1),
                        shock_end=date(2019, 1, 1))
    assert (c.firms, c.seed, c.applicant_share, c.shock_size, c.shock_recovery_months) == (10, 0, 0.5, 3.0, 36)


@pytest.mark.parametrize("kwargs, column, message", [
    ({"firms": 9}, "firms", "GeneratorConfig.firms must be an integer >= 10, got 9"),
    ({"firms": True}, "firms", "GeneratorConfig.firms must be an integer >= 10, got True"),
    ({"seed": -1}, "seed", "GeneratorConfig.seed must be a non-negative integer, got -1"),
    ({"missing_rates": {"penalties": 1.0}}, "missing_rates",
     "GeneratorConfig.missing_rates['penalties'] must be a rate in [0, 1), got 1.0"),
    ({"late_rates": {"loans": 0.1}}, "late_rates", "GeneratorConfig.late_rates names unknown table 'loans'; allowed: "
     + ", ".join(n for n, t in T.TABLES.items() if t.public_record and t.event_date)),
    ({"applicant_share": 0.51}, "applicant_share", "GeneratorConfig.applicant_share must be in (0, 0.5], got 0.51"),
    ({"shock_start": date(2024, 6, 1), "shock_end": date(2024, 5, 31)}, "shock_start",
     "GeneratorConfig.shock_start and shock_end must satisfy 2019-01-01 <= start <= end <= 2025-12-31, "
     "got 2024-06-01..2024-05-31"),
    ({"shock_size": 3.01}, "shock_size", "GeneratorConfig.shock_size must be in [0, 3] standard deviations, got 3.01"),
    ({"shock_recovery_months": 37}, "shock_recovery_months",
     "GeneratorConfig.shock_recovery_months must be an integer number of months in [0, 36], got 37"),
    ({"shock_recovery_months": True}, "shock_recovery_months",
     "GeneratorConfig.shock_recovery_months must be an integer number of months in [0, 36], got True"),
])
def test_invalid_parameters_exact_messages(kwargs, column, message):
    with pytest.raises(ConfigError) as e:
        GeneratorConfig(**kwargs)
    assert e.value.column == column and e.value.message == message


def test_as_dict_writes_the_shock_dates_and_plain_containers():
    d = GeneratorConfig(shock_start=date(2023, 3, 1), shock_end=date(2024, 2, 29)).as_dict()
    assert d["shock_start"] == "2023-03-01" and d["shock_end"] == "2024-02-29"
    assert d["malformed_uscc_tables"] == list(FAULT_TABLES) and d["late_rates"] == S.DEFAULT_LATE_RATES


# --------------------------------------------------------------------------- record windows (clean district)
def test_penalty_repairs_only_after_the_minimum_period_and_payment(clean):
    pen = _read(clean, "penalties").set_index("record_id")
    rep = _read(clean, "repairs")
    rep = rep[rep["target_table"] == "penalties"]
    assert len(rep) > 100
    p = pen.loc[rep["target_record_id"]]
    applied = _ts(rep["applied_on"]).to_numpy()
    assert (applied > _ts(p["publicity_min_end"]).to_numpy()).all()         # strictly after the minimum period
    assert (applied > _ts(p["fine_paid_on"]).to_numpy()).all()
    assert (applied + np.timedelta64(20, "D") < _ts(p["publicity_max_end"]).to_numpy()).all()
    decided = _ts(rep["decided_on"])
    lag = (decided - _ts(rep["applied_on"])).dt.days
    done = rep["outcome"] != "pending"
    assert lag[done].between(3, 15).all() and (decided[done] <= END).all()
    assert rep.loc[~done, "decided_on"].isna().all()


def test_red_and_serious_dishonesty_list_ends(clean):
    li = _read(clean, "lists")
    rep = _read(clean, "repairs")
    repaired = set(rep.loc[(rep["target_table"] == "lists") & (rep["outcome"] == "approved"), "target_record_id"])
    start, end = _ts(li["start_date"]), _ts(li["end_date"])

    def natural(months):
        return pd.Series([s + pd.DateOffset(months=months) for s in start], index=li.index)

    red = li["list_type"] == "red"
    n24 = natural(24)
    assert red.sum() > 500
    assert (end[red & (n24 <= END)] == n24[red & (n24 <= END)]).all() and end[red & (n24 > END)].isna().all()
    assert (end[red & (start == pd.Timestamp("2023-12-31"))] == END).sum() >= 1      # ends on the snapshot day
    sd = (li["list_type"] == "serious_dishonesty") & ~li["record_id"].isin(repaired)
    n36 = natural(36)
    assert (sd & (n36 <= END)).sum() > 5
    assert (end[sd & (n36 <= END)] == n36[sd & (n36 <= END)]).all() and end[sd & (n36 > END)].isna().all()
    fixed = li["record_id"].isin(repaired)
    assert fixed.sum() >= 5
    assert (end[fixed] < n36[fixed]).all() and (end[fixed] - start[fixed]).dt.days.min() >= 180


def test_enforcement_case_numbers_listing_and_bank_suits(clean):
    enf = _read(clean, "enforcement")
    parts = enf["case_no"].str.extract(r"^（(\d{4})）(浙\d+)执(\d+)号$")
    assert parts.notna().all().all()
    year, court, seq = parts[0].astype(int), parts[1], parts[2].astype(int)
    assert (year == _ts(enf["filed_on"]).dt.year).all()
    codes = {name: code for name, code, _ in S.COURTS}
    assert (enf["court"].map(codes) == court).all()
    for (c, y), g in seq.groupby([court, year], sort=False):      # record order = filing order
        assert g.tolist() == list(range(1 + (y % 7) * 100, 1 + (y % 7) * 100 + len(g))), (c, y)
    both = enf["dishonest_listed_on"].notna() & enf["closed_on"].notna()
    assert both.sum() > 20
    assert (_ts(enf.loc[both, "dishonest_listed_on"]) < _ts(enf.loc[both, "closed_on"])).all()
    # suits after a loan default (same firm, filed 60-300 days after the default, amount 50-100 % of the loan) go to
    # the district court; an organic case of the firm can match by chance (20 % of those go elsewhere)
    loans = _read(clean, "loans")
    d = loans[loans["default_12m"] == 1].merge(enf, on="uscc", suffixes=("_loan", ""))
    lag = (_ts(d["filed_on"]) - _ts(d["default_date"])).dt.days
    suit = lag.between(60, 300) & (d["amount"] >= d["amount_loan"] * 0.5 - 50) & (d["amount"] <= d["amount_loan"])
    assert suit.sum() > 10 and (d.loc[suit, "court"] == "宁波市江北区人民法院").mean() > 0.9


def test_arrears_start_month_and_months_overdue(clean):
    arr = _read(clean, "arrears")
    ent = _read(clean, "enterprises").set_index("uscc")
    started, det = _ts(arr["started_on"]), _ts(arr["determined_on"])
    reg = _ts(arr["uscc"].map(ent["registered_on"]))
    assert (started >= pd.Timestamp("2019-01-01")).all() and (started >= reg).all()
    # the first of the month, unless that precedes the firm's registration (then the registration day)
    first = started.dt.day == 1
    assert (first | (started == reg)).all() and (~first).sum() > 0
    k = arr["months_overdue"]
    assert k.between(1, 24).all() and (k >= 3).sum() > 50
    lag = (det - pd.Series([s + pd.DateOffset(months=int(m)) for s, m in zip(started, k)], index=arr.index)).dt.days
    assert lag.between(0, 14).all()


def test_tax_grades_are_published_on_the_10th_of_april_of_the_next_year(clean):
    tax = _read(clean, "tax_grades")
    expected = [date(int(y) + 1, 4, 10) for y in tax["year"]]
    assert tax["published_on"].tolist() == expected
    assert set(tax["year"]) == set(range(2018, 2025))


def test_loans_windows_ids_and_rates(clean):
    loans = _read(clean, "loans")
    ent = _read(clean, "enterprises").set_index("uscc")
    assert loans["loan_id"].tolist() == [f"LN{i:09d}" for i in range(1, len(loans) + 1)]
    orig = _ts(loans["origination_date"])
    reg = _ts(loans["uscc"].map(ent["registered_on"]))
    assert ((orig - reg).dt.days >= 180).all()
    dd = _ts(loans["default_date"])
    lag = (dd - orig).dt.days[dd.notna()]
    assert lag.between(30, 30 + 334).all()
    # no loan originated after an earlier default of the same firm
    first_default = dd.groupby(loans["uscc"]).transform("min")
    assert not (orig > first_default).any()
    # rate = LPR + 1.2 % + 3.5 % x sigmoid(..) + collateral add-on, rounded to 4 decimals
    lpr = orig.dt.year.map({2021: 0.0385, 2022: 0.0370, 2023: 0.0355, 2024: 0.0335})
    addon = loans["collateral"].map({"none": 0.010, "guarantee": 0.005, "property": 0.0, "receivables": 0.004})
    part = (loans["rate"] - lpr - 0.012 - addon) / 0.035
    inside = (loans["rate"] > 0.03) & (loans["rate"] < 0.15)
    assert part[inside].between(-0.002, 1.002).all() and part[inside].min() < 0.1 and part[inside].max() > 0.7
    assert np.allclose(loans["rate"] * 1e4, np.round(loans["rate"] * 1e4))
    assert (np.abs(loans["rate"] * 1e3 - np.round(loans["rate"] * 1e3)) > 1e-6).sum() > 100


def test_commitments_due_and_assessment(clean):
    com = _read(clean, "commitments")
    made, due, assessed = _ts(com["made_on"]), _ts(com["due_on"]), _ts(com["assessed_on"])
    term = (due - made).dt.days
    assert set(com["kind"]) == set(T.COMMITMENT_KINDS)
    assert (term[com["kind"] == "approval"] == 180).all() and (term[com["kind"] != "approval"] == 365).all()
    assert ((com["status"] == "pending") == assessed.isna()).all()
    lag = (assessed - due).dt.days.dropna()
    assert lag.between(0, 45).all() and (assessed.dropna() <= END).all()


def test_every_reported_on_is_0_to_7_days_after_the_event_without_faults(clean):
    for name, spec in T.TABLES.items():
        if not spec.event_date or "reported_on" not in spec.column_names:
            continue
        df = _read(clean, name)
        lag = (_ts(df["reported_on"]) - _ts(df[spec.event_date])).dt.days
        assert lag.between(0, 7).all(), name
        if len(df) > 500:
            assert set(lag) == set(range(8)), name


# --------------------------------------------------------------------------- manifest
def test_manifest_figures_recounted_from_the_files(clean):
    m = json.loads((clean / "manifest.json").read_text(encoding="utf-8"))
    assert m["loan_origination"] == {"start": "2021-01-01", "end": "2024-12-31"}
    ch = m["shock_period"]["channels"]
    assert ch == {"state_drop_sd": 0.7, "sales_log_drop": 0.63, "pd_logit_add": 0.42, "extra_loans_share": 0.245,
                  "extra_loans_state_weight": 1.3}
    assert m["shock_period"]["exposed_industries"] == ["K", "E", "H", "F"]
    assert m["hidden_tables"] == [n for n, t in T.TABLES.items() if t.hidden] + ["loans.true_pd"]
    loans = _read(clean, "loans")
    assert m["loans"]["default_rate_12m"] == round(float(loans["default_12m"].mean()), 6)
    assert m["loans"]["mean_true_pd"] == round(float(loans["true_pd"].mean()), 6)
    assert m["config"]["shock_start"] == "2024-01-01" and m["config"]["shock_end"] == "2024-12-31"
    for f, h in m["files"].items():
        assert h == hashlib.sha256((clean / f).read_bytes()).hexdigest(), f
    # realised shock effect, recounted
    ind = _read(clean, "enterprises").set_index("uscc")["industry"]
    exposed = loans["uscc"].map(ind).isin(["K", "E", "H", "F"])
    orig = _ts(loans["origination_date"])
    real = m["shock_period"]["realised"]
    assert (orig == pd.Timestamp("2024-12-31")).any()
    for when, sel in (("before_shock", orig < "2024-01-01"), ("in_shock", orig.between("2024-01-01", "2024-12-31"))):
        for grp, g in (("exposed", exposed), ("other", ~exposed)):
            k = sel & g
            assert real["loans"][f"{when}_{grp}"] == {
                "loans": int(k.sum()), "defaults": int(loans.loc[k, "default_12m"].sum()),
                "default_rate": round(float(loans.loc[k, "default_12m"].mean()), 6),
                "mean_true_pd": round(float(loans.loc[k, "true_pd"].mean()), 6)}, (when, grp)
    arr = _read(clean, "arrears")
    ax = arr["uscc"].map(ind).isin(["K", "E", "H", "F"])
    det = _ts(arr["determined_on"])
    assert (det == pd.Timestamp("2024-01-01")).any() or (det == pd.Timestamp("2023-01-01")).any()
    for grp, g in (("exposed", ax), ("other", ~ax)):
        now = (g & det.between("2024-01-01", "2024-12-31")).sum()
        before = (g & (det >= pd.Timestamp("2024-01-01") - pd.Timedelta(days=366)) & (det < "2024-01-01")).sum()
        assert real["arrears_vs_period_before"][grp] == round(now / before, 4), grp
    inv = _read(clean, "invoices_monthly")
    ix = inv["uscc"].map(ind).isin(["K", "E", "H", "F"])
    yr = _ts(inv["month"]).dt.year
    for grp, g in (("exposed", ix), ("other", ~ix)):
        assert real["invoiced_sales_vs_year_before"][grp] == round(
            float(inv.loc[g & (yr == 2024), "sales"].sum() / inv.loc[g & (yr == 2023), "sales"].sum()), 4), grp


def test_arguments_win_over_the_config_and_no_sales_ratio_before_the_invoices(tmp_path):
    cfg = replace(CLEAN, firms=10, seed=999, shock_start=date(2019, 6, 1), shock_end=date(2020, 6, 30))
    res = generate_district(300, 5, out=tmp_path, progress=False, config=cfg)
    m = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert (m["firms"], m["seed"], res.firms, res.seed) == (300, 5, 300, 5)
    assert pq.read_metadata(tmp_path / "enterprises.parquet").num_rows == 300
    assert m["shock_period"]["start"] == "2019-06-01"
    # the year before the shock (2018-06..2019-06) starts before the invoices (2019-01): no ratio
    assert m["shock_period"]["realised"]["invoiced_sales_vs_year_before"] == {"exposed": None, "other": None}


def test_parquet_field_metadata_marks_required_columns(clean):
    for name in ("penalties", "loans"):
        schema = pq.read_schema(clean / f"{name}.parquet")
        for col in T.TABLES[name].columns:
            assert schema.field(col.name).metadata[b"required"] == (b"true" if col.required else b"false")


# --------------------------------------------------------------------------- injected faults
def test_malformed_codes_are_really_malformed_and_keep_the_division_code(faulty):
    d, c, _ = faulty
    doc = read_injected(d)
    div = reference.division_code()
    n = {"check_char": 0, "length": 0, "charset": 0}
    for f in doc["faults"]:
        if f["fault"] != "malformed_uscc":
            continue
        clean_codes = _read(c, f["table"])["uscc"]
        for det in f["details"]:
            v, o = det["value"], det["original"]
            assert o == clean_codes.iloc[det["row"]] and uscc.is_valid(o)
            assert v != o and not uscc.is_valid(v), (f["table"], det)
            n[det["reason"]] += 1
            if det["reason"] == "check_char":
                assert len(v) == 18 and v[:17] == o[:17] and v[17] != o[17]
            elif det["reason"] == "length":
                assert (len(v) == 17 and v == o[:17]) or (len(v) == 19 and v[:18] == o)
            else:
                diff = [i for i in range(18) if v[i] != o[i]]
                assert len(v) == 18 and len(diff) == 1 and v[diff[0]] in "IOSVZ" and v[2:8] == div
    assert min(n.values()) > 50


def test_duplicates_and_malformed_codes_never_share_an_enterprise_row(faulty):
    d, c, _ = faulty
    doc = read_injected(d)
    dup = next(f for f in doc["faults"] if f["fault"] == "duplicate_uscc")
    mal = next(f for f in doc["faults"] if f["fault"] == "malformed_uscc" and f["table"] == "enterprises")
    involved = {x["row"] for x in dup["details"]} | {x["duplicate_of_row"] for x in dup["details"]}
    assert dup["count"] >= 5 and len(involved) == 2 * dup["count"] == dup["rows_sharing_a_code"]
    assert not involved & set(mal["rows"])
    codes = _read(c, "enterprises")["uscc"]
    for x in dup["details"]:
        assert x["original"] == codes.iloc[x["row"]] and x["value"] == codes.iloc[x["duplicate_of_row"]]


def test_late_reports_are_really_late_and_the_entry_names_its_deadline(faulty):
    d, _, _ = faulty
    doc = read_injected(d)
    late = [f for f in doc["faults"] if f["fault"] == "late_report"]
    assert {f["table"] for f in late} == set(FAULT_TABLES)
    for f in late:
        assert f["deadline_days"] == 7 and f["event_date_column"] == T.TABLES[f["table"]].event_date
        df = _read(d, f["table"])
        ev = _ts(df[f["event_date_column"]])
        assert f["count"] > 0.8 * (ev <= END - pd.Timedelta(days=8)).sum()
        assert all(x["delay_days"] >= 8 for x in f["details"]), f["table"]
        rep = _ts(df["reported_on"]).iloc[f["rows"]]
        assert (rep <= END).all()
        # no event of the last 8 days before the snapshot can be reported late
        assert (ev.iloc[f["rows"]] <= END - pd.Timedelta(days=8)).all()


def test_injected_document_head_summary_and_reading(faulty, tmp_path):
    d, _, res = faulty
    doc = read_injected(d)
    assert doc == read_injected(d / "injected.json")
    assert doc["config"] == {"malformed_uscc_rate": 0.2, "malformed_uscc_tables": list(FAULT_TABLES),
                             "duplicate_uscc_rate": 0.03, "missing_rates": {"penalties": 0.01},
                             "late_rates": {t: 0.9 for t in FAULT_TABLES}}
    assert (doc["format"], doc["seed"], doc["firms"], doc["snapshot_date"], doc["reporting_deadline_days"]) == (
        "creditmodel.injected/1", 3, 400, "2025-12-31", 7)
    for s, f in zip(doc["summary"], doc["faults"]):
        assert list(s) == ["fault", "table", "column", "count", "denominator", "rate"]
        assert s["rate"] == f["count"] / f["denominator"]
    missing = [f["column"] for f in doc["faults"] if f["fault"] == "missing_field"]
    assert missing == S.missing_candidate_columns("penalties")
    assert not {"record_id", "uscc", "decision_date", "reported_on"} & set(missing)
    totals: dict[str, int] = {}
    for f in doc["faults"]:
        totals[f["fault"]] = totals.get(f["fault"], 0) + f["count"]
    assert "  injected faults: " + ", ".join(f"{k} {v:,}" for k, v in totals.items()) + \
        " (details in injected.json)" in res.summary()
    bad = tmp_path / "injected.json"
    bad.write_text(json.dumps({"format": "something/1"}), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        read_injected(tmp_path)
    assert e.value.column == "format" and Path(e.value.file) == bad


def test_without_a_shock_its_dates_only_set_the_measured_period(tmp_path):
    """shock_size 0: the shock dates change no record, they only set the period the manifest measures; the arrears
    of the period are compared with those of the same number of days just before it (the first day excluded)."""
    base = replace(CLEAN, shock_size=0.0)
    generate_district(800, 7, out=tmp_path / "a", progress=False, config=base)
    det = _ts(_read(tmp_path / "a", "arrears")["determined_on"])
    lo = det[det.dt.year == 2023].min()
    hi = lo + pd.Timedelta(days=99)
    cfg = replace(base, shock_start=lo.date(), shock_end=hi.date())
    generate_district(800, 7, out=tmp_path / "b", progress=False, config=cfg)
    for name in ("arrears", "loans", "penalties", "invoices_monthly"):
        assert _read(tmp_path / "a", name).equals(_read(tmp_path / "b", name)), name
    m = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    ind = _read(tmp_path / "b", "enterprises").set_index("uscc")["industry"]
    arr = _read(tmp_path / "b", "arrears")
    ax = arr["uscc"].map(ind).isin(["K", "E", "H", "F"])
    expected = {}
    for grp, g in (("exposed", ax), ("other", ~ax)):
        now = (g & det.between(lo, hi)).sum()
        before = (g & (det >= lo - pd.Timedelta(days=100)) & (det < lo)).sum()
        expected[grp] = round(now / before, 4) if before else None
    assert m["shock_period"]["realised"]["arrears_vs_period_before"] == expected


def test_a_duplicate_rate_near_one_pairs_at_most_half_the_register(tmp_path):
    cfg = replace(CLEAN, duplicate_uscc_rate=0.99)
    generate_district(10, 1, out=tmp_path, progress=False, config=cfg)
    dup = next(f for f in read_injected(tmp_path)["faults"] if f["fault"] == "duplicate_uscc")
    assert dup["count"] == 5 and dup["rows_sharing_a_code"] == 10
    assert sorted(dup["rows"] + [x["duplicate_of_row"] for x in dup["details"]]) == list(range(10))
    assert _read(tmp_path, "enterprises")["uscc"].nunique() == 5


def test_a_boolean_seed_is_refused():
    with pytest.raises(ConfigError) as e:
        GeneratorConfig(seed=True)
    assert e.value.column == "seed" and e.value.message == "GeneratorConfig.seed must be a non-negative integer, got True"


def test_enterprise_register_by_organisation_category(clean):
    ent = _read(clean, "enterprises")
    cat = ent["uscc"].str[:2]
    assert set(cat) == {"91", "92", "93"}
    assert (ent["uscc"].str[2:8] == reference.division_code()).all()
    assert (ent["registered_capital"].isna() == (cat == "92")).all()          # individual businesses: no capital
    assert (ent.loc[cat == "92", "size_class"] == "micro").all()
    assert ent.loc[cat == "93", "size_class"].isin(["micro", "small"]).all()
    assert ent.loc[cat == "91", "name"].str.match(r"^宁波.*有限公司$").all()
    assert ent.loc[cat == "92", "name"].str.startswith("江北区").all()
    assert ent.loc[cat == "93", "name"].str.match(r"^宁波市江北.*专业合作社$").all()
    closed = ent["closed_on"].notna()
    assert closed.sum() > 50
    life = (_ts(ent.loc[closed, "closed_on"]) - _ts(ent.loc[closed, "registered_on"])).dt.days
    assert (life >= 365).all()
    assert (_ts(ent.loc[closed, "closed_on"]) >= pd.Timestamp("2019-01-01")).all()
    truth = _read(clean, "truth")
    assert truth["uscc"].tolist() == ent["uscc"].tolist()


def test_record_ids_are_numbered_from_one_in_table_order(clean):
    for name, prefix in (("penalties", "PEN"), ("inspections", "INS"), ("enforcement", "ENF"), ("arrears", "ARR"),
                         ("lists", "LST"), ("tax_grades", "TAX"), ("repairs", "REP"), ("commitments", "COM")):
        ids = _read(clean, name)["record_id"].tolist()
        assert ids == [f"{prefix}{i:010d}" for i in range(1, len(ids) + 1)], name


def test_inspection_deadlines_and_rectification(clean):
    ins = _read(clean, "inspections")
    day, due, rect = _ts(ins["inspected_on"]), _ts(ins["rectification_due"]), _ts(ins["rectified_on"])
    term = (due - day).dt.days
    assert due[ins["result"] == "pass"].isna().all() and rect[ins["result"] == "pass"].isna().all()
    assert (term[ins["result"] == "minor_issues"] == 15).all() and (term[ins["result"] == "fail"] == 30).all()
    lag = (rect - day).dt.days.dropna()
    assert lag.min() == 3 and (rect.dropna() <= END).all()


def test_dishonest_debtor_removal_follows_the_closing_within_3_days(clean):
    enf = _read(clean, "enforcement")
    r = enf["dishonest_removed_on"].notna()
    assert r.sum() > 20
    lag = (_ts(enf.loc[r, "dishonest_removed_on"]) - _ts(enf.loc[r, "closed_on"])).dt.days
    assert lag.between(0, 3).all() and set(lag) == {0, 1, 2, 3}
    assert enf.loc[r, "dishonest_listed_on"].notna().all()


def test_every_repair_application_is_a_repair_commitment_made_that_day(clean):
    rep = _read(clean, "repairs")
    com = _read(clean, "commitments")
    c = com[com["kind"] == "repair"]
    assert len(rep) > 100
    assert sorted(zip(c["uscc"], c["made_on"])) == sorted(zip(rep["uscc"], rep["applied_on"]))


def test_annual_reports_are_filed_in_the_first_half_of_the_next_year(clean):
    rep = _read(clean, "annual_reports")
    filed = _ts(rep["filed_on"])
    assert (filed.dt.year == rep["year"] + 1).all() and (filed.dt.month <= 6).all()
    assert set(rep["year"]) == set(range(2019, 2025))
    assert (filed.dt.strftime("%m-%d") == "06-30").any() and (filed.dt.strftime("%m-%d") == "01-01").any()


def test_gas_arrears_only_for_catering_and_manufacturing(clean):
    arr = _read(clean, "arrears")
    ind = _read(clean, "enterprises").set_index("uscc")["industry"]
    gas = arr["kind"] == "gas"
    assert gas.sum() > 5 and arr.loc[gas, "uscc"].map(ind).isin(["H", "C"]).all()
    assert arr.loc[gas, "department"].eq(S.DEPT["gas"]).all()


def test_enforcement_repairs_are_applied_on_the_closing_day(clean):
    rep = _read(clean, "repairs")
    rep = rep[rep["target_table"] == "enforcement"]
    enf = _read(clean, "enforcement").set_index("record_id").loc[rep["target_record_id"]]
    assert len(rep) > 10 and (rep["outcome"] == "approved").all()
    assert rep["applied_on"].tolist() == enf["closed_on"].tolist()
    assert rep["decided_on"].tolist() == enf["dishonest_removed_on"].tolist()


def test_invoice_shares_are_counts_over_the_sales_invoices(clean):
    inv = _read(clean, "invoices_monthly")
    n = inv["n_sales_invoices"]
    has = n > 0
    for col in ("voided_share", "red_letter_share"):
        k = inv.loc[has, col] * n[has]
        assert np.allclose(k, np.round(k), atol=1e-5 * n[has].max()), col
        assert (inv.loc[~has, col] == 0).all()
    k_all = np.round((inv["voided_share"] + inv["red_letter_share"]) * n)
    assert (k_all[has] <= n[has] - 1).all() and (np.round(inv["voided_share"] * n) > 0).sum() > 50


def test_annual_revenue_is_the_years_invoiced_sales_within_noise(clean):
    rep = _read(clean, "annual_reports")
    inv = _read(clean, "invoices_monthly")
    sales = inv.groupby([inv["uscc"], _ts(inv["month"]).dt.year])["sales"].sum()
    s = sales.reindex(pd.MultiIndex.from_arrays([rep["uscc"], rep["year"]])).to_numpy()
    ok = s > 0
    assert ok.sum() > 500
    ratio = np.log(rep["revenue"].to_numpy()[ok] / s[ok])
    assert np.abs(ratio).max() < 0.2 and 0.02 < ratio.std() < 0.04    # exp(0.03 N)


def test_the_result_object_agrees_with_the_files(faulty):
    d, _, res = faulty
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    assert res.files == m["files"] and "injected.json" in res.files
    assert res.row_counts == m["row_counts"] and res.faults == read_injected(d)["summary"] == m["injected_faults"]
    assert res.default_rate == pytest.approx(_read(d, "loans")["default_12m"].mean(), abs=0)


MARKET, TAX, FIRE = "江北区市场监督管理局", "国家税务总局宁波市江北区税务局", "江北区消防救援大队"


def test_departments_follow_the_record_kind(clean):
    pen = _read(clean, "penalties")
    by_cat = {"food_safety": MARKET, "market": MARKET, "tax": TAX, "fire_safety": FIRE,
              "environment": "宁波市生态环境局江北分局", "work_safety": "江北区应急管理局",
              "construction": "江北区住房和城乡建设局", "transport": "江北区交通运输局",
              "labour": "江北区人力资源和社会保障局", "other": "江北区综合行政执法局"}
    assert set(pen["category"]) == set(by_cat)
    assert (pen["department"] == pen["category"].map(by_cat)).all()
    ins = _read(clean, "inspections")
    assert (ins["department"] == ins["sector"].map({**by_cat, "food_safety": MARKET})).all()
    li = _read(clean, "lists")
    assert (li.loc[li["list_type"] == "abnormal_operation", "department"] == MARKET).all()
    red = li[li["list_type"] == "red"]
    assert (red.loc[red["reason"] == "纳税信用A级纳税人", "department"] == TAX).all()
    assert (red.loc[red["reason"] == "守合同重信用企业", "department"] == MARKET).all()
    arr = _read(clean, "arrears")
    assert (arr.loc[arr["kind"] == "tax", "department"] == TAX).all()
    assert (arr.loc[arr["kind"] == "social_insurance", "department"] == "江北区社会保险管理服务中心").all()
    com = _read(clean, "commitments")
    assert (com.loc[com["kind"] == "approval", "department"] == "江北区政务服务办公室").all()
    assert (com.loc[com["kind"] == "voluntary", "department"] == "江北区发展和改革局").all()


def test_a_boolean_rate_is_refused_naming_the_table():
    with pytest.raises(ConfigError) as e:
        GeneratorConfig(late_rates={"lists": False})          # False would pass as a rate of 0
    assert e.value.column == "late_rates"
    assert e.value.message == "GeneratorConfig.late_rates['lists'] must be a rate in [0, 1), got False"


def test_penalties_after_a_failed_inspection_come_10_to_60_days_later(clean):
    """A failed inspection leads to a penalty of its sector 10-60 days later (35 %); other penalties of the same
    firm and category are organic and rare, so the first 10 days after a failure hold only the background."""
    ins, pen = _read(clean, "inspections"), _read(clean, "penalties")
    f = ins.loc[ins["result"] == "fail", ["uscc", "sector", "inspected_on"]].rename(columns={"sector": "category"})
    m = f.merge(pen[["uscc", "category", "decision_date"]], on=["uscc", "category"])
    lag = (_ts(m["decision_date"]) - _ts(m["inspected_on"])).dt.days
    first10, next10, after = lag.between(0, 9).sum(), lag.between(10, 19).sum(), lag.between(61, 70).sum()
    assert next10 > 60 and first10 < next10 / 3 and next10 > 3 * after


def test_publicity_windows_at_the_2023_rules_boundary(clean):
    """DOMAIN.md A4: serious minimum 6 months before 2023-05-01, 1 year from that day on; general 3 months to 1 year,
    minor 0 to 3 months, serious at most 3 years."""
    pen = _read(clean, "penalties")
    dec = _ts(pen["decision_date"])
    lo = {"minor": 0, "general": 3}
    exp_min = [d + pd.DateOffset(months=lo.get(s, 12 if d >= pd.Timestamp("2023-05-01") else 6))
               for d, s in zip(dec, pen["severity"])]
    exp_max = [d + pd.DateOffset(months={"minor": 3, "general": 12, "serious": 36}[s]) for d, s in zip(dec, pen["severity"])]
    assert _ts(pen["publicity_min_end"]).tolist() == exp_min and _ts(pen["publicity_max_end"]).tolist() == exp_max
    edge = pen[(pen["severity"] == "serious") & (dec == pd.Timestamp("2023-05-01"))]
    assert len(edge) >= 1 and (edge["publicity_min_end"] == date(2024, 5, 1)).all()
    before = pen[(pen["severity"] == "serious") & (dec == pd.Timestamp("2023-04-30"))]
    assert (before["publicity_min_end"] == date(2023, 10, 30)).all()
