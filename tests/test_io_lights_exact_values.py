"""Exact values for the traffic-light rules (validation.lights), the district validation's bookkeeping
(validation.district) and the table reader (data.io), each worked out by hand or from the published rule:
DOMAIN.md C1/C2 thresholds, Gini = 2 AUC - 1, the ECB's normalised Herfindahl index, a brute-force loop."""
from __future__ import annotations

import json
import logging
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import district_factory as fac
from creditmodel.errors import ConfigError, InputError
from creditmodel.validation import lights as L
from creditmodel.validation.lights import Rule, Thresholds

P_CHECKS = ("auc_vs_initial_p", "jeffreys_p", "jeffreys_grade_p", "binomial_grade_p", "hosmer_lemeshow_p", "brier_p",
            "hhi_vs_initial_p")


# --------------------------------------------------------------------------- lights: the default rules
@pytest.mark.parametrize("value, want", [(0.1999, "red"), (0.20, "amber"), (0.2999, "amber"), (0.30, "green"),
                                         (0.50, "green"), (0.5001, "amber")])
def test_ks_reads_as_domain_c2_says(value, want):
    """DOMAIN C2: KS < 0.2 weak, 0.2-0.3 acceptable, 0.3-0.5 good, > 0.5 check for leakage."""
    assert Thresholds().light("ks", value) == want


def test_gini_reads_as_the_auc_it_is():
    """Gini = 2 AUC - 1 (DOMAIN C2): the two rules give the same light to the same ranking, boundaries included
    (AUC 0.60 / 0.70 / 0.90 are Gini 0.20 / 0.40 / 0.80)."""
    th = Thresholds()
    for auc in np.round(np.arange(0.505, 1.0, 0.005), 3):
        if round(auc, 3) in (0.6, 0.7, 0.9):   # 2 * 0.7 - 1 is 0.3999...: the boundaries are checked below
            continue
        assert th.light("auc", auc) == th.light("gini", 2 * auc - 1), auc
    assert [th.light("gini", g) for g in (0.1999, 0.20, 0.3999, 0.40, 0.80, 0.8001)] == \
        ["red", "amber", "amber", "green", "green", "amber"]


@pytest.mark.parametrize("key", ["psi", "grade_psi", "csi"])
def test_psi_of_grades_and_csi_share_the_psi_thresholds(key):
    """DOMAIN C2: PSI < 0.1 stable, 0.1-0.25 moderate, > 0.25 major; CSI and the grades' PSI the same."""
    got = [Thresholds().light(key, v) for v in (0.0, 0.0999, 0.10, 0.25, 0.2501, 1.0)]
    assert got == ["green", "green", "amber", "amber", "red", "red"]


@pytest.mark.parametrize("key", P_CHECKS)
def test_every_p_value_check_is_amber_below_5_and_red_below_1_percent(key):
    """DOMAIN C1.1: alpha 5 % (amber) and 1 % (red)."""
    got = [Thresholds().light(key, p) for p in (0.0099, 0.01, 0.0499, 0.05, 0.5)]
    assert got == ["red", "amber", "amber", "green", "green"]


def _ecb_hi(shares: np.ndarray) -> float:
    """DOMAIN C1.5: CV = sqrt(K sum (R_i - 1/K)^2), HI = 1 + ln((CV^2 + 1) / K) / ln K."""
    k = len(shares)
    cv2 = k * np.sum((shares - 1 / k) ** 2)
    return 1 + math.log((cv2 + 1) / k) / math.log(k)


@pytest.mark.parametrize("used, want", [(10, "green"), (6, "green"), (5, "amber"), (4, "amber"), (3, "red"),
                                        (1, "red")])
def test_concentration_light_of_k_equally_used_grades_of_ten(used, want):
    """The rule's source: HI 0.3 ~ 5 equally used grades of 10, 0.5 ~ 3.2. With the ECB formula HI = 1 - log10(k)
    for k grades of 10 equally used: 6 -> 0.222, 5 -> 0.301, 4 -> 0.398, 3 -> 0.523."""
    shares = np.r_[np.full(used, 1 / used), np.zeros(10 - used)]
    hi = _ecb_hi(shares)
    assert hi == pytest.approx(1 - math.log10(used), abs=1e-12)
    assert Thresholds().light("hhi", hi) == want


def test_migration_z_share_reads_5_and_20_percent():
    """Share of off-diagonal cells rejecting monotone decay: < 5 % green, 5-20 % amber, > 20 % red."""
    got = [Thresholds().light("migration_z_p", v) for v in (0.0, 0.0499, 0.05, 0.20, 0.2001)]
    assert got == ["green", "green", "amber", "amber", "red"]


def test_a_check_without_a_rule_is_info_and_has_no_description():
    th = Thresholds()
    assert th.light("binomial_p", 0.0001) == "info" and th.light("no_such_check", None) == "info"
    assert th.describe("no_such_check") == ""


# --------------------------------------------------------------------------- lights: Rule
def test_equal_green_and_red_boundaries_are_a_valid_rule_with_no_amber_band():
    """green == red is in the right order for either direction: no amber band (higher is better), an amber band of
    one point (lower is better, both ends included)."""
    auc = Thresholds.from_dict({"auc": {"green": 0.65, "red": 0.65}})
    assert [auc.light("auc", v) for v in (0.6499, 0.65, 0.66)] == ["red", "green", "green"]
    psi = Thresholds.from_dict({"psi": {"green": 0.2, "red": 0.2}})
    assert [psi.light("psi", v) for v in (0.1999, 0.2, 0.2001)] == ["green", "amber", "red"]


@pytest.mark.parametrize("field", ["green", "red", "suspicious_above"])
def test_a_nan_boundary_is_refused_naming_the_check(field):
    with pytest.raises(ConfigError, match=f"rule 'AUC': {field} must be a number, got nan"):
        Thresholds.from_dict({"auc": {field: float("nan")}})


def test_rules_describe_themselves_exactly():
    th = Thresholds()
    assert th.describe("auc") == "green >= 0.7; amber 0.6-0.7; red < 0.6; amber above 0.9 (suspicious)"
    assert th.describe("psi") == "green < 0.1; amber 0.1-0.25; red > 0.25"
    assert th.describe("jeffreys_p") == "green >= 0.05; amber 0.01-0.05; red < 0.01"
    assert Rule("x", True, 1.0, 0.5).describe() == "green >= 1; amber 0.5-1; red < 0.5"
    assert Rule("x", False, 1e-05, 2.0).describe() == "green < 1e-05; amber 1e-05-2; red > 2"


def test_worst_light_orders_red_over_amber_over_green():
    assert L.worst(["amber", "red"]) == "red" and L.worst(["red", "amber", "green"]) == "red"
    assert L.worst(["green", "amber"]) == "amber" and L.worst(["green", "n/a", "info"]) == "green"
    assert L.worst(["n/a", "info"]) == "n/a" and L.worst([]) == "n/a"


# --------------------------------------------------------------------------- district: the migration population
T0, T1 = "2023-12-31", "2024-06-30"


@pytest.fixture(scope="module")
def ten_firms(tmp_path_factory):
    """Ten hand-made firms around the migration dates T0 / T1 (registered, closed, in default, with operating data or
    not), loaded as the validation loads a district. Row i is firm i:

    0 plain; 1 registered on T0; 2 registered the day after T0 (section C); 3 closed on T1, its loan defaulted before
    T0; 4 closed the day after T1; 5 its loan defaulted on T0; 6 its loan defaulted between T0 and T1; 7 invoices from
    2024-01 only (no operating data at T0); 8 registered after T0 and closed before T1 (section C); 9 section C."""
    from creditmodel.data.io import load_district

    d = tmp_path_factory.mktemp("ten")
    c = fac.codes(10)
    ent = fac.enterprises(c)
    ent["industry"] = ["F", "F", "C", "F", "F", "F", "F", "F", "C", "C"]
    ent.loc[1, "registered_on"] = T0
    ent.loc[2, "registered_on"] = "2024-01-01"
    ent.loc[3, ["status", "closed_on"]] = ["deregistered", T1]
    ent.loc[4, ["status", "closed_on"]] = ["deregistered", "2024-07-01"]
    ent.loc[8, ["registered_on", "status", "closed_on"]] = ["2024-02-01", "revoked", "2024-05-01"]
    ent["reported_on"] = "2024-08-01"
    fac.write(ent, d / "enterprises", "csv")
    months = [f"{y}-{m:02d}-01" for y in (2023, 2024) for m in range(1, 13)]
    rows = [(u, m) for i, u in enumerate(c) for m in months if not (i == 7 and m < "2024-01")]
    inv = fac.records("invoices_monthly", c, len(rows)).assign(uscc=[u for u, _ in rows], month=[m for _, m in rows])
    fac.write(inv, d / "invoices_monthly", "csv")
    loans = fac.records("loans", c, 10).assign(origination_date="2023-03-01")
    for i, when in ((3, "2023-06-01"), (5, T0), (6, "2024-03-01")):
        loans.loc[i, ["default_12m", "default_date"]] = ["1", when]
    fac.write(loans, d / "loans", "csv")
    (d / "manifest.json").write_text(json.dumps({"snapshot_date": "2024-12-31"}), encoding="utf-8")
    dist = load_district(d)
    assert len(dist.quarantine) == 0
    return c, dist.tables


def test_the_migration_population_counts_each_firm_where_it_belongs(ten_firms):
    from creditmodel.validation import district as vd

    c, tables = ten_firms
    f0, f1, counts, defaulted = vd.portfolio_at(tables, T0, T1)
    # registered on or before T0: all but 2 and 8; of them closed on or before T1: 3 -> active at both: 7 firms;
    # in default at T0 among them: 5 (3 is, but closed); no operating data at T0: 7
    assert counts == {"enterprises": 10, "active_both": 7, "registered_after_start": 2, "closed_by_end": 1,
                      "in_default_at_start": 1, "outside_population": 1, "in_population": 5, "defaulted_in_period": 1}
    assert [c.index(u) for u in f0["uscc"]] == [0, 1, 4, 6, 9] and f1["uscc"].tolist() == f0["uscc"].tolist()
    assert defaulted.tolist() == [False, False, False, True, False]      # firm 6 only


def test_the_migration_population_of_one_section(ten_firms):
    from creditmodel.validation import district as vd

    c, tables = ten_firms
    f0, _, counts, _ = vd.portfolio_at(tables, T0, T1, industry="F")
    # section C: 2 (registered after T0), 8 (registered after T0, closed) and 9 (active): only 9 was active at both
    assert counts["other_industry"] == 1 and counts["active_both"] == 6 and counts["in_population"] == 4
    assert [c.index(u) for u in f0["uscc"]] == [0, 1, 4, 6]


def test_a_migration_must_end_after_it_starts(ten_firms):
    from creditmodel.validation import district as vd

    with pytest.raises(InputError, match="must be after migration_from") as e:
        vd.portfolio_at(ten_firms[1], T0, T0)
    assert e.value.parameter == "migration_to"


class _GradeModel:
    """Scores a frame by its ``g`` column: a grade, or None for a row it refuses (status error)."""

    def score_frame(self, df):
        g = df["g"]
        return pd.DataFrame({"status": np.where(g.notna(), "ok", "error"), "grade": g.fillna("")})


def test_migration_grades_a_period_default_d_even_when_the_end_row_is_refused():
    from creditmodel.validation import district as vd

    start = pd.DataFrame({"g": ["3", "4", None, "5", "6"]})
    end = pd.DataFrame({"g": ["3", "5", "2", None, None]})
    defaulted = np.array([False, True, False, True, False])
    g0, g1 = vd._migration(_GradeModel(), start, end, defaulted)
    # row 2: no start grade; row 4: no end grade and no default; row 3: refused at the end but defaulted -> D
    assert g0.tolist() == ["3", "4", "5"] and g1.tolist() == ["3", "D", "D"]
    g0, g1 = vd._migration(_GradeModel(), start, end)
    assert g0.tolist() == ["3", "4"] and g1.tolist() == ["3", "5"]



def test_segment_labels_name_a_missing_value_missing():
    from creditmodel.validation import district as vd

    got = vd._labels(pd.Series(["C", None, np.nan, "F"], dtype=object))
    assert got.tolist() == ["C", "missing", "missing", "F"] and got.dtype == object

# --------------------------------------------------------------------------- district: the default definition
def _cross_defaults_by_hand(cur: pd.DataFrame, loans: pd.DataFrame) -> int:
    n = 0
    for _, r in cur[cur["default_12m"] == 0].iterrows():
        t0 = pd.Timestamp(r["as_of_date"])
        other = loans[(loans["uscc"] == r["uscc"]) & (loans["loan_id"] != r["loan_id"]) & loans["default_date"].notna()]
        d = pd.to_datetime(other["default_date"])
        n += bool(((d >= t0) & (d < t0 + pd.DateOffset(months=12))).any())
    return n


def test_the_default_definition_counts_performing_loans_whose_firm_defaulted_on_another_loan():
    from creditmodel.validation import district as vd

    cur = pd.DataFrame({
        "loan_id": ["A1", "B1", "C1", "D1", "E1", "F1"],
        "uscc": ["A", "B", "C", "D", "E", "F"],
        "as_of_date": ["2024-01-10"] * 6,
        "default_12m": [0, 0, 0, 0, 1, 0]})
    loans = pd.DataFrame({
        "loan_id": ["A1", "A2", "A3", "B1", "B2", "C1", "C2", "D1", "E1", "E2", "F1"],
        "uscc": ["A", "A", "A", "B", "B", "C", "C", "D", "E", "E", "F"],
        "default_date": [None, "2024-01-10", "2024-05-01",   # A: two other loans default inside: one loan counted
                         None, "2025-01-10",                 # B: exactly 12 months later: outside
                         None, "2024-01-09",                 # C: the day before: outside
                         "2024-03-01",                       # D: its own default date (a data fault): not another's
                         "2024-02-01", "2024-03-01",         # E: a defaulted loan itself: not performing
                         None]})
    loans["default_date"] = pd.to_datetime(loans["default_date"])
    assert _cross_defaults_by_hand(cur, loans) == 1
    text = vd._default_definition(cur, {"loans": loans})
    assert "; 1 performing loan(s) of this sample belong to an enterprise that defaulted on another loan" in text
    # with C's other loan on the origination day itself it is inside: two loans
    loans.loc[loans["loan_id"] == "C2", "default_date"] = pd.Timestamp("2024-01-10")
    assert _cross_defaults_by_hand(cur, loans) == 2
    assert "; 2 performing loan(s)" in vd._default_definition(cur, {"loans": loans})


# --------------------------------------------------------------------------- district: loans set aside
def test_loans_set_aside_count_from_the_out_of_time_start_with_their_defaults():
    from creditmodel.validation import district as vd

    sample = SimpleNamespace(oot_start=pd.Timestamp("2024-01-01"), industry="")
    rejected = pd.DataFrame({"origination_date": ["2023-12-31", "2024-01-01", "2024-02-01", "2024-03-01"],
                             "uscc": ["A", "B", "C", "D"], "default_12m": [1, 1, 0, None]})
    got = vd._loans_set_aside(rejected, sample, None)
    assert got == {"set aside by the loader (the loan's row or its enterprise quarantined; 1 of them defaulted, 1 "
                   "with an unreadable outcome)": 3}


def test_loans_set_aside_of_a_section_keep_firms_not_in_the_register():
    from creditmodel.validation import district as vd

    sample = SimpleNamespace(oot_start=pd.Timestamp("2024-01-01"), industry="F")
    ent = pd.DataFrame({"uscc": ["A", "B"], "industry": ["F", "C"]})
    rejected = pd.DataFrame({"origination_date": ["2024-02-01"] * 3, "uscc": ["A", "B", "Z"], "default_12m": [1, 1, 0]})
    got = vd._loans_set_aside(rejected, sample, {"enterprises": ent})
    # A (section F) and Z (quarantined enterprise, section unknown) stay; B is of section C
    assert got == {"set aside by the loader (the loan's row or its enterprise quarantined; 1 of them defaulted)": 2}


# --------------------------------------------------------------------------- district: flat metrics and tags
def test_flat_metrics_keep_finite_numbers_and_graded_lights_only():
    from creditmodel.validation import district as vd

    metrics = {"n": 1825, "auc": 0.75, "psi": float("nan"), "ks": float("inf"), "central": True, "note": "x",
               "hhi": np.float64(0.3), "status": "amber",
               "migration": {"n": 40, "mwb_upper": None, "monotone": False},
               "challenger": {"auc": 0.71, "delong_p": 0.2},
               "csi": {"annual_roa": 0.12, "street": float("nan")},
               "lights": [{"check": "auc", "light": "green"}, {"check": "psi", "light": "n/a"},
                          {"check": "binomial_p", "light": "info"}, {"check": "hhi", "light": "red"}]}
    got = vd.flat_metrics(metrics, other="champion")
    assert got == {"n": 1825.0, "auc": 0.75, "hhi": 0.3, "migration_n": 40.0, "vs_champion_auc": 0.71,
                   "vs_champion_delong_p": 0.2, "csi_annual_roa": 0.12, "light_auc": 1.0, "light_hhi": 3.0,
                   "status": 2.0}
    assert "status" not in vd.flat_metrics({"status": "n/a"})


def test_grade_and_missing_rows_leave_out_flags_and_non_finite_numbers():
    from creditmodel.validation import district as vd

    grades = [{"grade": "4", "n": 10, "defaults": True, "default_rate": float("nan"), "pd": 0.02,
               "central_light": "n/a"}]
    assert vd.grade_metrics(grades) == {"grade_4_n": 10.0, "grade_4_pd": 0.02}
    rows = [{"feature": "x", "n": 5, "ratio": False, "holm_p": float("inf"), "light": "amber"}]
    assert vd.missing_metrics(rows) == {"missing_x_n": 5.0, "missing_x_light": 2.0}


def _validation(lights: list[tuple[str, str, str]], metrics: dict):
    lt = pd.DataFrame(lights, columns=["check", "value_text", "light"]).assign(label=lambda d: d["check"].str.upper())
    res = SimpleNamespace(metrics=metrics, lights=lt, html_path=None, status=L.worst(lt["light"].tolist()))
    return SimpleNamespace(ref=SimpleNamespace(name="district_pd", version="3"), result=res, status=res.status,
                           version_out=None)   # as ModelValidation: no report written, no copy kept


def test_version_tags_name_the_red_checks_once_and_the_worst_stability_light(monkeypatch):
    from creditmodel import registry
    from creditmodel.validation import district as vd

    written = {}
    monkeypatch.setattr(registry, "tag_version", lambda name, version, tags: written.update({(name, version): tags}))
    v = _validation([("auc", "0.8", "green"), ("psi", "0.05", "green"), ("csi", "0.3", "red"),
                     ("jeffreys_p", "0.001", "red"), ("csi", "0.31", "red"), ("ks", "0.25", "amber")],
                    {"auc": 0.8123456789, "psi": 0.0512345678, "n": 1825, "defaults": 157,
                     "data": {"oot_window": "originations from 2024-01-01"}})
    tags = vd.tag_versions({"champion": v}, run_id="r1")["champion"]
    assert written[("district_pd", "3")] == tags
    assert tags["validation_red_checks"] == "csi, jeffreys_p"
    assert tags["validation_stability"] == "red"          # the CSI, though the score's PSI is green
    assert tags["validation_oot_auc"] == "0.812346" and tags["validation_psi"] == "0.0512346"
    assert tags["validation_basis"] == ("out-of-time validation (notebook 04, as champion): 1,825 loans, 157 "
                                        "defaults, originations from 2024-01-01")
    assert tags["validation_status"] == "red" and tags["validation_run_id"] == "r1"
    assert tags["validation_report"] == ""                 # no report written


def test_the_lights_comparison_keeps_a_check_only_one_model_has():
    from creditmodel.validation import district as vd

    a = _validation([("auc", "0.8", "green"), ("hhi", "0.2", "green")], {})
    b = _validation([("auc", "0.7", "amber"), ("missing_x", "1.2", "red")], {})
    got = vd.lights_comparison({"champion": a, "challenger": b}).set_index("check")
    assert sorted(got.index) == ["auc", "hhi", "missing_x"]
    assert got.loc["auc", "challenger light"] == "amber" and got.loc["hhi", "champion light"] == "green"
    assert pd.isna(got.loc["hhi", "challenger light"]) and pd.isna(got.loc["missing_x", "champion value"])


# --------------------------------------------------------------------------- io: reading one file
def test_an_empty_file_is_said_empty_whatever_its_kind(tmp_path):
    from creditmodel.data.io import read_table

    for name in ("loans.csv", "loans.parquet"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(InputError) as e:
            read_table(tmp_path / name)
        assert e.value.message == "file is empty (0 bytes)" and e.value.file == tmp_path / name


def test_a_header_of_blank_names_is_no_header(tmp_path):
    from creditmodel.data.io import read_table

    p = tmp_path / "blank.csv"
    p.write_text(" , \n1,2\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_table(p)
    assert e.value.message == "file is empty (no header line)"


def test_a_parquet_file_without_columns_is_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from creditmodel.data.io import read_table

    p = tmp_path / "none.parquet"
    pq.write_table(pa.table({}), p)
    with pytest.raises(InputError) as e:
        read_table(p)
    assert e.value.message == "file has no columns" and e.value.file == p


def test_repeated_and_unnamed_column_names_are_counted_and_named():
    from creditmodel.data.io import check_unique_names

    with pytest.raises(InputError) as e:
        check_unique_names(["b", "a", "c", "b", "a"], "f.csv")
    assert e.value.column == "a" and "column name(s) ['a', 'b'] appear more than once" in e.value.message
    with pytest.raises(InputError) as e:
        check_unique_names(["x", "", "", " ", "y"], "f.csv")
    assert e.value.message.startswith("3 columns have no name") and e.value.column is None
    with pytest.raises(InputError) as e:   # a named repeat beside the blank ones: named, not counted as blanks
        check_unique_names(["a", "a", "", ""], "f.csv")
    assert "column name(s) ['', 'a'] appear more than once" in e.value.message and e.value.column == ""


def test_a_parquet_struct_column_is_named_as_nested(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from creditmodel.data.io import read_table

    p = tmp_path / "s.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0], "addr": [{"city": "a", "zip": 1}, {"city": "b", "zip": 2}]}), p)
    with pytest.raises(InputError, match="nested values") as e:
        read_table(p)
    assert e.value.column == "addr"


def test_an_arff_file_reads_its_first_rows_and_names_a_short_row(tmp_path):
    from creditmodel.data.io import read_table

    p = tmp_path / "t.arff"
    p.write_text("% comment\n@relation t\n@attribute a numeric\n@attribute b numeric\n@attribute c {x,y}\n@data\n"
                 "1,2,x\n3,?,y\n5,6,?\n7,8,x\n", encoding="utf-8")
    df = read_table(p)
    assert df["a"].tolist() == [1.0, 3.0, 5.0, 7.0] and df["c"].tolist()[:2] == ["x", "y"] and pd.isna(df["c"][2])
    assert read_table(p, nrows=2)["a"].tolist() == [1.0, 3.0]
    short = tmp_path / "s.arff"   # lines: 1 @relation, 2-4 attributes, 5 @data, 6 a row, 7 empty, 8 the short row
    short.write_text("@relation t\n@attribute a numeric\n@attribute b numeric\n@attribute c {x,y}\n@data\n1,2,x\n\n"
                     "3,4\n5,6,y\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_table(short)
    assert e.value.row == 2 and "data row 2 (line 8) has 2 of its 3 values" in e.value.message

def test_infinite_cells_are_named_by_their_first_row_and_counted():
    from creditmodel.data.io import check_finite

    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": [0.0, 1.0, np.inf, 3.0, -np.inf]})
    with pytest.raises(InputError) as e:
        check_finite(df, ["a", "b"], "f.csv")
    assert e.value.column == "b" and e.value.row == 3 and "(2 such row(s))" in e.value.message
    check_finite(df.assign(b=[0.0, np.nan, 1.0, 2.0, 3.0]), ["a", "b"], "f.csv")   # NaN is a missing value


def test_identifiers_name_the_empty_and_the_repeated_row():
    from creditmodel.data.io import check_ids

    with pytest.raises(InputError, match="empty identifier") as e:
        check_ids(pd.Series(["a", "b", "  ", "c"]), "f.csv", "loan_id")
    assert e.value.row == 3 and e.value.column == "loan_id"
    with pytest.raises(InputError) as e:
        check_ids(pd.Series(["a", "b", " a", "c", "b", "a"]), "f.csv", "loan_id")
    # the first repeat is row 3 (' a' is 'a' of row 1 once trimmed); rows 3, 5 and 6 repeat an earlier one
    assert e.value.row == 3 and "identifier ' a' repeats row 1 (3 repeated row(s))" in e.value.message


def test_blank_and_space_lines_are_counted_with_the_first_line_number(tmp_path, caplog):
    from creditmodel.data.io import BlankLines, read_table

    p = tmp_path / "b.csv"
    p.write_bytes(b'a,b\n1,x\n2,"y\n\nz"\n\n3,w\n  \n4,v\n\n')
    got = BlankLines(p)
    # line 4 is inside the quoted cell; lines 6 and 10 are empty (line 8 holds spaces: Arrow's handler counts it)
    assert (got.count, got.first) == (2, 6)
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.io"):
        df = read_table(p)
    assert df["b"].tolist() == ["x", "y\n\nz", "w", "v"]
    assert "2 empty line(s) skipped (the first is line 6)" in caplog.text
    assert "1 line(s) of only spaces or tabs skipped as empty lines (line 8 of the file)" in caplog.text


@pytest.mark.parametrize("gb, utf8_chars", [(b"\xe4\xb8\xb0\xa1", 1), (b"\xe4\xb8\xb0\xe4\xb8\xb0\xb0\xa1", 2)])
def test_gb18030_text_that_passes_for_a_few_utf8_characters_is_still_gb18030(tmp_path, gb, utf8_chars):
    """GB 18030 涓啊 (E4 B8 | B0 A1) is UTF-8 丰 (E4 B8 B0) then an invalid byte; 涓颁赴啊 is 丰丰 then one. Fewer than three
    UTF-8 characters of three bytes before the first invalid byte are no evidence of UTF-8: the file is GB 18030."""
    from creditmodel.data.io import read_table

    text = gb.decode("gb18030")
    with pytest.raises(UnicodeDecodeError) as bad:
        gb.decode("utf-8")
    assert gb[:bad.value.start].decode("utf-8") == "丰" * utf8_chars
    p = tmp_path / "g.csv"
    p.write_bytes(b"name,x\n" + gb + b",1\n")
    assert read_table(p)["name"].tolist() == [text] and text.endswith("啊")

def test_the_first_rows_of_a_csv_are_exactly_nrows(tmp_path):
    from creditmodel.data.io import read_table

    p = tmp_path / "n.csv"
    p.write_text("a\n" + "".join(f"{i}\n" for i in range(50)), encoding="utf-8")
    assert read_table(p, nrows=7)["a"].tolist() == list(range(7))
    assert read_table(p, nrows=7, as_text=True)["a"].tolist() == [str(i) for i in range(7)]


# --------------------------------------------------------------------------- io: a district
def test_the_manifest_snapshot_is_the_first_key_found_and_must_lie_in_the_schema_dates():
    from creditmodel.data.io import snapshot_from_manifest

    both = {"as_of": "2024-01-01", "snapshot": "2024-02-02", "snapshot_date": "2025-06-30"}
    assert snapshot_from_manifest(both) == pd.Timestamp("2025-06-30")
    assert snapshot_from_manifest({"as_of": "2024-01-01", "snapshot": "2024-02-02"}) == pd.Timestamp("2024-02-02")
    # written in Beijing an hour after midnight: the local date, not the UTC instant's (2025-12-30 17:00)
    assert snapshot_from_manifest({"snapshot_date": "2025-12-31T01:00:00+08:00"}) == pd.Timestamp("2025-12-31")
    assert snapshot_from_manifest({"snapshot_date": "2099-12-31"}) == pd.Timestamp("2099-12-31")
    for bad in ("1899-12-31", "2100-01-01"):
        with pytest.raises(InputError, match="not an ISO date") as e:
            snapshot_from_manifest({"snapshot_date": bad}, "m.json")
        assert e.value.column == "snapshot_date" and str(e.value.file) == "m.json"


@pytest.fixture(scope="module")
def six_firms(tmp_path_factory):
    """Enterprise rows 2 and 3 share a code (row 3 also without its registration date); penalty rows 1..7 over the
    six codes round robin, row 7 of a code nobody registered; an exact copy of penalty row 1 is not made."""
    from creditmodel.data.io import load_district

    d = tmp_path_factory.mktemp("six")
    c = fac.codes(6)
    ent = fac.enterprises(c)
    ent.loc[2, "uscc"] = ent.loc[1, "uscc"]
    ent.loc[2, "registered_on"] = ""
    fac.write(ent, d / "enterprises", "csv")
    pen = fac.records("penalties", c, 7)
    pen.loc[6, "uscc"] = fac.codes(1, seed=99)[0]
    fac.write(pen, d / "penalties", "csv")
    return c, load_district(d)


def test_a_record_of_a_quarantined_enterprise_names_every_row_of_its_code(six_firms):
    c, dist = six_firms
    q = dist.loaded["penalties"].quarantine.set_index("row")
    assert sorted(q.index) == [2, 3, 7]
    assert q.loc[2, "rule"] == "quarantined_enterprise" and q.loc[3, "rule"] == "unknown_uscc"
    assert q.loc[2, "message"] == (f"enterprise {c[1]} is quarantined in enterprises.csv: row 2 (duplicate_key), "
                                   "row 3 (duplicate_key/missing_value)")
    assert q.loc[3, "message"] == f"no enterprise with code {c[2]} in enterprises.csv"


def test_all_rows_come_back_in_file_order(six_firms):
    _, dist = six_firms
    pen = dist.loaded["penalties"]
    assert pen.rejected.index.tolist() == [1, 2, 6]
    rows = pen.all_rows(["record_id"])
    assert rows.index.tolist() == list(range(7))
    assert rows["record_id"].tolist() == [f"PEN{i:05d}" for i in range(7)]


def _lt(name, n_rows, n_q):
    return SimpleNamespace(n_rows=n_rows, n_quarantined=n_q, file=f"{name}.csv")


def _quarantine(table, column, rule, k, value="x"):
    return pd.DataFrame({"table": table, "column": column, "rule": rule, "value": value, "row": range(1, k + 1)})


@pytest.mark.parametrize("n_rows, n_q, said", [(20, 10, True), (20, 9, False), (21, 10, False), (200, 99, False),
                                               (200, 100, True), (12, 10, True)])
def test_a_table_is_said_quarantined_wholesale_from_ten_rows_and_half_the_table(caplog, n_rows, n_q, said):
    from creditmodel.data.io import _warn_wholesale_quarantine

    q = pd.concat([_quarantine("penalties", "severity", "not_allowed", n_q - 1),
                   _quarantine("penalties", "amount", "bad_type", 1)])
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.io"):
        _warn_wholesale_quarantine({"penalties": _lt("penalties", n_rows, n_q)}, q)
    msg = [r.getMessage() for r in caplog.records if "rows of table penalties are quarantined" in r.getMessage()]
    assert len(msg) == int(said)
    if said:
        assert f"{n_q} of {n_rows} rows of table penalties are quarantined, {n_q - 1} of them on column 'severity' " \
               "(not_allowed)" in msg[0]


@pytest.mark.parametrize("k, said", [(9, False), (10, True)])
def test_a_value_not_allowed_is_said_from_ten_rows(caplog, k, said):
    from creditmodel.data.io import _warn_wholesale_quarantine

    q = _quarantine("penalties", "severity", "not_allowed", k, value="Serious")
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.io"):
        _warn_wholesale_quarantine({"penalties": _lt("penalties", 1000, k)}, q)
    msg = [r.getMessage() for r in caplog.records if "is not an allowed value" in r.getMessage()]
    assert len(msg) == int(said)
    if said:
        assert msg[0].startswith(f"table penalties, column 'severity': the value 'Serious' is not an allowed value "
                                 f"and sets aside {k} rows (allowed: ")


# --------------------------------------------------------------------------- district: what validate_models reports
class _Model:
    """A model that grades by ``x`` and refuses the loans of ``refuse`` (status error)."""

    kind = "scorecard"
    version = "fp"

    def __init__(self, refuse, last="2023-12-31"):
        self.refuse = set(refuse)
        self.metadata = {"industry": "", "initial_auc": 0.7, "initial_auc_se": 0.02, "initial_auc_basis": "grade",
                         "last_development_origination": last}
        self.estimator = SimpleNamespace(selected_features_=["x"])

    def score_frame(self, df):
        x = df["x"].to_numpy(dtype=float)
        bad = df["loan_id"].isin(self.refuse).to_numpy()
        return pd.DataFrame({"status": np.where(bad, "error", "ok"), "pd_12m": np.where(bad, np.nan, x / 100),
                             "score": np.where(bad, np.nan, 600 - x), "grade": np.where(bad, "", (x // 10 + 1).astype(int).astype(str))})


def _loan_sample():
    from creditmodel.scoring.district import DistrictSample

    # 6 development loans (2023), 8 out-of-time loans (2024) L6..L13; firms: L6 and L7 share U6, L8 L9 L10 share U8
    n = 14
    firm = [f"U{i}" for i in range(6)] + ["U6", "U6", "U8", "U8", "U8", "U11", "U12", "U13"]
    table = pd.DataFrame({"loan_id": [f"L{i}" for i in range(n)], "uscc": firm,
                          "as_of_date": pd.to_datetime(["2023-06-01"] * 6 + ["2024-01-01"] + ["2024-03-01"] * 7),
                          "default_12m": [0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0], "industry": "C",
                          "size_class": "micro", "loan_amount": 1e5, "x": np.arange(n) * 7.0 % 90, "true_pd": 0.05})
    window = np.array(["train"] * 4 + ["test"] * 2 + ["oot"] * 8)
    return DistrictSample(table, ["x"], window, pd.DataFrame(), pd.Timestamp("2024-01-01"))


def test_validate_models_reads_the_rows_both_models_score_and_counts_the_others(monkeypatch):
    from creditmodel.validation import district as vd

    calls = {}

    def report(y, pd_, score, grade, **kw):
        calls[kw["champion_name"]] = {"y": list(y), **kw}
        return SimpleNamespace(html_path=None, status="green", summary=lambda: "t\nok")

    monkeypatch.setattr(vd, "build_report", report)
    # the champion refuses L6 (a default) and L8; the challenger refuses L8, L9 (a default) and L11
    refs = {"champion": vd.ModelRef("champion", "m", "1", _Model({"L6", "L8"})),
            "challenger": vd.ModelRef("challenger", "m", "2", _Model({"L8", "L9", "L11"}))}
    vd.validate_models(refs, _loan_sample(), n_boot=20)
    champ, chal = calls["champion (v1, scorecard)"], calls["challenger (v2, scorecard)"]
    # scored by both: L7, L10, L12, L13 -> outcomes 0, 0, 1, 0
    assert champ["y"] == chal["y"] == [0, 0, 1, 0]
    assert champ["exclusions"] == {"scoring error (status=error; 1 of them defaulted)": 2,
                                   "not scored by the challenger": 2}
    assert chal["exclusions"] == {"scoring error (status=error; 1 of them defaulted)": 3,
                                  "not scored by the champion": 1}
    # L7 (U6) and L10 (U8) are one loan each of their firms among the rows read: no firm with two loans
    assert champ["data_info"]["unit"].startswith("loans: 4 scored out-of-time loans to 4 enterprises; ")
    assert "more than one" not in champ["data_info"]["unit"]
    calls.clear()
    vd.validate_models({"champion": vd.ModelRef("champion", "m", "1", _Model(set()))}, _loan_sample(), n_boot=20)
    unit = calls["champion (v1, scorecard)"]["data_info"]["unit"]
    assert unit.startswith("loans: 8 scored out-of-time loans to 5 enterprises; ")
    assert "(5 loans go to 2 enterprises with more than one: " in unit


def test_a_model_developed_up_to_the_first_out_of_time_loan_is_refused():
    from creditmodel.validation import district as vd

    late = vd.ModelRef("champion", "m", "1", _Model(set(), last="2024-01-01"))
    with pytest.raises(InputError, match="developed on loans originated up to 2024-01-01") as e:
        vd.validate_models({"champion": late}, _loan_sample(), n_boot=20)
    assert e.value.parameter == "oot_start"



# Was a bug (fixed in 1c37232): a boundary that is not a number, or boundaries in the wrong order, are refused under the
# rule's label ("key 'PSI (score)'"), not under the key the thresholds file has ('psi'); other faults of the same file
# name the key ("key 'auc': unknown field(s) ..."). Fixed: Thresholds.from_dict re-raises Rule's ConfigError with
# column=key.
@pytest.mark.parametrize("key, spec", [("psi", {"green": 0.3, "red": 0.1}), ("auc", {"green": float("nan")}),
                                       ("ks", {"higher_is_better": "yes"})])
def test_a_bad_rule_is_named_by_its_key_in_the_thresholds_file(key, spec):
    with pytest.raises(ConfigError) as e:
        Thresholds.from_dict({key: spec})
    assert e.value.column == key and str(e.value).startswith(f"key {key!r}: ")
