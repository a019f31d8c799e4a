"""The validation report's own logic (creditmodel.validation.report) pinned to numbers worked out by hand or with
scipy / scikit-learn / brute force: which rows feed which statistic, the boundaries of the light rules, counts in the
tables and the error messages. Small samples, few bootstrap replicates: fast."""
from __future__ import annotations

import json
import math
import types

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from sklearn.metrics import roc_auc_score

from creditmodel.errors import InputError
from creditmodel.validation import Challenger, ReferenceSample, build_report
from creditmodel.validation import report as R
from test_validation import brute_delong_var, brute_placements

Z95 = stats.norm.ppf(0.975)


def _sample(n=300, seed=0):
    """PD between 1 % and 30 %, outcomes drawn from it, a score falling with the PD, six grades by PD."""
    rng = np.random.default_rng(seed)
    pdv = np.round(rng.uniform(0.01, 0.30, n), 4)
    y = (rng.uniform(size=n) < pdv).astype(int)
    score = np.round(600 - 40 * np.log(pdv / (1 - pdv))).astype(int)
    grade = np.select([pdv < 0.05, pdv < 0.10, pdv < 0.15, pdv < 0.20, pdv < 0.25], ["4", "5", "6", "7", "8"], "9")
    return y, pdv, score, grade.astype(object)


def _brute_delong(y, risk):
    """(AUC, its DeLong standard error) from test_validation's O(n^2) placements."""
    return brute_placements(y, risk)[0], math.sqrt(brute_delong_var(y, risk))


def _build(*args, **kw):
    kw.setdefault("n_boot", 20)
    return build_report(*args, **kw)


def _light(res, check):
    return res.lights.set_index("check").loc[check]


# --------------------------------------------------------------------------- inputs and exclusions
def test_alpha_of_one_half_is_refused_naming_the_parameter():
    y, pdv, _, _ = _sample(60)
    with pytest.raises(InputError, match=r"alpha must be in \(0, 0.5\), got 0.5") as e:
        _build(y, pdv, alpha=0.5)
    assert e.value.column == "alpha"


def test_exclusions_count_grade_d_and_the_caller_s_rows_and_drop_zero_counts():
    y, pdv, score, grade = _sample(60)
    grade[[3, 10]] = "D"
    res = _build(y, pdv, score, grade, exclusions={"scoring error": 3, "nothing": 0})
    m = res.metrics
    assert m["excluded"] == {"scoring error": 3, "grade D (in default at the start)": 2}
    assert m["n"] == 58 and m["n_input"] == 63
    keep = np.ones(60, dtype=bool)
    keep[[3, 10]] = False
    assert m["defaults"] == int(y[keep].sum())
    assert m["mean_pd"] == pytest.approx(pdv[keep].mean(), abs=1e-15)


def test_a_missing_grade_names_its_one_based_row():
    y, pdv, score, grade = _sample(30)
    grade[4] = None
    with pytest.raises(InputError, match="1 missing grade") as e:
        _build(y, pdv, score, grade)
    assert (e.value.column, e.value.row) == ("grade", 5)


def test_numeric_grades_are_labels_without_decimals_only_when_every_grade_is_whole():
    y, pdv, score, _ = _sample(40)
    whole = np.where(pdv < 0.15, 11.0, 12.0)
    assert [r["grade"] for r in _build(y, pdv, score, whole).metrics["grades"]] == ["11", "12"]
    mixed = np.where(pdv < 0.15, 11.0, 12.5)
    assert sorted(r["grade"] for r in _build(y, pdv, score, mixed).metrics["grades"]) == ["11.0", "12.5"]


def test_grades_of_the_master_scale_are_read_against_all_ten_grades():
    y, pdv, score, grade = _sample(200)
    res = _build(y, pdv, score, grade)
    m = res.metrics
    assert m["parameters"]["grade_order"] == [str(i) for i in range(1, 11)]
    assert [r["grade"] for r in m["grades"]] == [str(i) for i in range(1, 11)]
    assert [r["n"] for r in m["grades"]][:3] == [0, 0, 0]
    assert m["hhi_k"] == 10
    assert m["grades_under_1pct"] == ["1", "2", "3", "10"]


# --------------------------------------------------------------------------- discrimination
def test_auc_interval_gini_interval_and_auc_on_grades_by_brute_force():
    y, pdv, score, grade = _sample(300)
    m = _build(y, pdv, score, grade).metrics
    a, se = _brute_delong(y, -score.astype(float))
    assert m["auc"] == pytest.approx(a, abs=1e-12) and m["auc_se"] == pytest.approx(se, rel=1e-9)
    assert m["auc_ci_low"] == pytest.approx(a - Z95 * se, abs=1e-9)
    assert m["gini_ci_low"] == pytest.approx(2 * (a - Z95 * se) - 1, abs=1e-9)
    assert m["gini_ci_high"] == pytest.approx(2 * (a + Z95 * se) - 1, abs=1e-9)
    rank = grade.astype(int)   # grades 4..9: a higher grade is riskier
    assert m["auc_grade"] == pytest.approx(roc_auc_score(y, rank), abs=1e-12)


def test_a_score_rising_with_the_pd_is_said_and_a_falling_one_is_not():
    y, pdv, score, _ = _sample(80)
    assert not any("score rises with the PD" in n for n in _build(y, pdv, score).metrics["notes"])
    up = _build(y, pdv, -score).metrics
    assert up["score_pd_spearman"] == pytest.approx(stats.spearmanr(-score, pdv).statistic)
    assert any("The score rises with the PD (Spearman 1.00)" in n for n in up["notes"])


# --------------------------------------------------------------------------- ECB test against the initial AUC
def test_an_initial_auc_within_chance_of_its_own_interval_is_no_baseline():
    y, pdv, score, _ = _sample(200)
    m = _build(y, pdv, score, reference=ReferenceSample(auc=0.6, auc_se=0.08)).metrics
    # 0.6 -/+ 1.95996 x 0.08 = [0.4432, 0.7568]
    assert m["not_computable"]["auc_vs_initial"].startswith(
        "the initial AUC 0.600 is no better than chance within its own 95% interval [0.443, 0.757]")
    assert "auc_vs_initial_p" not in m


def test_auc_vs_initial_p_and_its_two_sample_p_by_hand():
    y, pdv, score, _ = _sample(300)
    m = _build(y, pdv, score, reference=ReferenceSample(auc=0.9, auc_se=0.02)).metrics
    a, se = _brute_delong(y, -score.astype(float))
    assert m["auc_vs_initial_current"] == pytest.approx(a, abs=1e-12)
    assert m["auc_vs_initial_p"] == pytest.approx(stats.norm.sf((0.9 - a) / se), rel=1e-7)
    assert m["auc_vs_initial_p_two_sample"] == pytest.approx(stats.norm.sf((0.9 - a) / math.hypot(se, 0.02)),
                                                             rel=1e-7)


def test_an_initial_auc_on_grades_is_compared_with_the_current_auc_on_grades():
    y, pdv, score, grade = _sample(300)
    m = _build(y, pdv, score, grade, reference=ReferenceSample(auc=0.7, auc_basis="grade")).metrics
    assert m["auc_vs_initial_basis"] == "grade"
    assert m["auc_vs_initial_current"] == pytest.approx(roc_auc_score(y, grade.astype(int)), abs=1e-12)
    ms = _build(y, pdv, score, grade, reference=ReferenceSample(auc=0.7, auc_basis="score")).metrics
    assert ms["auc_vs_initial_current"] == pytest.approx(roc_auc_score(y, -score), abs=1e-12)


def test_the_initial_auc_of_a_reference_sample_leaves_its_grade_d_rows_out():
    y, pdv, score, grade = _sample(200, seed=1)
    ry, _, _, rgrade = _sample(200, seed=2)
    rgrade[:15] = "D"
    ry[:15] = 1     # defaults ranked as the best grade would lower the AUC
    m = _build(y, pdv, score, grade, reference=ReferenceSample(y=ry, grade=rgrade)).metrics
    keep = rgrade != "D"
    assert m["auc_initial"] == pytest.approx(roc_auc_score(ry[keep], rgrade[keep].astype(int)), abs=1e-12)


# --------------------------------------------------------------------------- calibration
def test_portfolio_binomial_and_jeffreys_p_against_scipy():
    y, pdv, score, _ = _sample(300)
    m = _build(y, pdv, score).metrics
    d, n, pbar = int(y.sum()), y.size, pdv.mean()
    assert m["binomial_p"] == pytest.approx(stats.binom.sf(d - 1, n, pbar), rel=1e-9)
    assert m["jeffreys_p"] == pytest.approx(stats.beta.cdf(pbar, d + 0.5, n - d + 0.5), rel=1e-9)


def test_the_detectable_ratio_reads_the_green_boundary_of_the_jeffreys_rule():
    y, pdv, score, _ = _sample(300)
    m = _build(y, pdv, score, thresholds={"jeffreys_p": {"green": 0.10, "red": 0.01}}).metrics
    n, pbar = y.size, pdv.mean()
    d_crit = next(d for d in range(n + 1) if stats.beta.cdf(pbar, d + 0.5, n - d + 0.5) < 0.10)
    k = optimize.brentq(lambda k: stats.binom.sf(d_crit - 1, n, k * pbar) - 0.8, 1.0, 1 / pbar)
    # the power curve is a step function of k only through n x k x pbar: bisection and brentq meet within 1e-6
    assert m["jeffreys_detectable_ratio"] == pytest.approx(k, abs=1e-6)


def _grade_rows(res):
    return {r["grade"]: r for r in res.metrics["grades"]}


def test_a_thin_grade_red_by_both_tests_keeps_red_without_a_thin_evidence_note():
    # grade "5": 100 obligors at PD 1 % (1 expected default), 6 defaults: binomial P(X >= 6) = 0.00053, red
    y = np.r_[np.ones(6, int), np.zeros(94, int), np.r_[np.ones(20, int), np.zeros(180, int)]]
    pdv = np.r_[np.full(100, 0.01), np.full(200, 0.10)]
    grade = np.array(["5"] * 100 + ["8"] * 200, dtype=object)
    res = _build(y, pdv, None, grade)
    g5 = _grade_rows(res)["5"]
    assert g5["binomial_p"] == pytest.approx(stats.binom.sf(5, 100, 0.01), rel=1e-9)
    assert g5["jeffreys_p"] == pytest.approx(stats.beta.cdf(0.01, 6.5, 94.5), rel=1e-9)
    assert (g5["binomial_light"], g5["jeffreys_light"]) == ("red", "red")
    assert g5["note"] == ""
    # grade "8": 20 of 200 at 10 %: as expected, green on 20 expected defaults
    assert _grade_rows(res)["8"]["jeffreys_light"] == "green"


def test_a_thin_grade_jeffreys_amber_not_confirmed_by_the_binomial_test_is_n_a_said_once():
    # grade "5": 50 obligors at PD 2 % (1 expected), 3 defaults: Jeffreys p 0.045 (amber), binomial p 0.078 (green)
    y = np.r_[np.ones(3, int), np.zeros(47, int), np.ones(20, int), np.zeros(180, int)]
    pdv = np.r_[np.full(50, 0.02), np.full(200, 0.10)]
    grade = np.array(["5"] * 50 + ["8"] * 200, dtype=object)
    g5 = _grade_rows(_build(y, pdv, None, grade))["5"]
    jp, bp = stats.beta.cdf(0.02, 3.5, 47.5), stats.binom.sf(2, 50, 0.02)
    assert 0.01 < jp < 0.05 < bp
    assert (g5["jeffreys_light"], g5["binomial_light"]) == ("n/a", "n/a")
    assert g5["note"] == (f"thin evidence: Jeffreys amber (p {jp:.2g}) not confirmed by the exact binomial test "
                          f"(p {bp:.2g}): shown n/a; thin evidence: 1 expected defaults (< 5), Binomial green shown "
                          "as n/a")


def test_a_green_grade_on_exactly_five_expected_defaults_stays_green_and_on_four_and_a_half_is_n_a():
    # 40 obligors at PD 0.125: 5.0 expected defaults exactly (binary fractions); 5 defaults
    y = np.r_[np.ones(5, int), np.zeros(35, int), np.ones(4, int), np.zeros(32, int)]
    pdv = np.r_[np.full(40, 0.125), np.full(36, 0.125)]   # 36 x 0.125 = 4.5
    grade = np.array(["5"] * 40 + ["6"] * 36, dtype=object)
    g = _grade_rows(_build(y, pdv, None, grade))
    assert (g["5"]["jeffreys_light"], g["5"]["binomial_light"]) == ("green", "green")
    assert (g["6"]["jeffreys_light"], g["6"]["binomial_light"]) == ("n/a", "n/a")
    assert g["6"]["note"] == "thin evidence: 4.5 expected defaults (< 5), Jeffreys and Binomial green shown as n/a"


def test_a_grade_of_pd_zero_without_default_is_no_sign_of_underestimation():
    # Jeffreys p of 0 defaults at PD 0 is 0 (red by the rule): D = 0 <= N x PD = 0 turns it green, then n/a (thin)
    y = np.r_[np.zeros(30, int), np.ones(20, int), np.zeros(180, int)]
    pdv = np.r_[np.zeros(30), np.full(200, 0.10)]
    grade = np.array(["1"] * 30 + ["8"] * 200, dtype=object)
    g1 = _grade_rows(_build(y, pdv, None, grade))["1"]
    assert g1["jeffreys_p"] == 0.0
    assert g1["jeffreys_light"] == "n/a"
    assert g1["note"].startswith("0 default(s), not above the 0 the PD expects: no sign of underestimation")


def test_the_grade_calibration_axis_starts_above_zero_when_a_grade_s_pd_is_zero():
    """A grade PD of 0 made the log axis's floor 0 (matplotlib ignored it with a warning, the bars' bottoms at 0 were
    dropped): the floor is a third of the smallest positive bound or PD. Grade 1: PD 0, 0 of 30; grade 8: PD 0.1,
    20 of 200, Jeffreys lower bound beta.ppf(0.025, 20.5, 180.5)."""
    import warnings

    from creditmodel.validation.plots import grade_calibration_figure

    grades = pd.DataFrame({"grade": ["1", "8"], "n": [30, 200], "defaults": [0, 20], "default_rate": [0.0, 0.1],
                           "pd": [0.0, 0.1]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = grade_calibration_figure(grades)
    lows = [stats.beta.ppf(0.025, 20.5, 180.5), 0.1, stats.beta.ppf(0.975, 0.5, 30.5),
            stats.beta.ppf(0.975, 20.5, 180.5)]
    assert fig.axes[0].get_ylim()[0] == pytest.approx(min(lows) / 3)


def test_holm_adjustment_by_hand():
    # sorted 0.01 x 3 = 0.03, 0.012 x 2 = 0.024 -> kept non-decreasing 0.03, 0.3 x 1
    assert R._holm([0.012, 0.01, 0.3]).tolist() == pytest.approx([0.03, 0.03, 0.3])
    assert R._holm([0.6, 0.5]).tolist() == pytest.approx([1.0, 1.0])


def test_the_p_shown_for_a_thin_grade_is_the_larger_of_jeffreys_and_binomial():
    row = {"n": 50, "pd": 0.02, "jeffreys_p": 0.004, "binomial_p": 0.009}
    assert R._p_shown(row, "jeffreys") == 0.009
    assert R._p_shown(dict(row, n=500), "jeffreys") == 0.004   # 10 expected defaults: the Jeffreys p itself
    assert R._p_shown(row, "binomial") == 0.009


def test_the_portfolio_jeffreys_light_is_green_when_defaults_equal_the_expected_count():
    # every PD 0, no default: Jeffreys p = 0 (red by the rule), but 0 defaults are not above the 0 expected
    res = _build(np.zeros(40, int), np.zeros(40), None)
    row = _light(res, "jeffreys_p")
    assert res.metrics["jeffreys_p"] == 0.0
    assert row["light"] == "green"
    assert row["note"] == "0 default(s), not above the 0 the PD expects: no sign of underestimation (p not read)"


# --------------------------------------------------------------------------- segments
def test_a_segment_with_exactly_five_defaults_keeps_its_auc_light():
    rng = np.random.default_rng(4)
    n = 120
    pdv = np.round(rng.uniform(0.02, 0.3, n), 4)
    y = np.zeros(n, int)
    seg = np.array(["a"] * 60 + ["b"] * 60, dtype=object)
    y[np.argsort(-pdv[:60])[:5]] = 1            # segment a: 5 defaults, on its 5 highest PDs: AUC 1
    y[60 + np.argsort(-pdv[60:])[:4]] = 1       # segment b: 4 defaults
    st = {r["segment"]: r for r in _build(y, pdv, None, segments={"region": seg}).metrics["segments"]["region"]}
    assert st["a"]["defaults"] == 5 and st["a"]["auc"] == 1.0
    assert st["a"]["auc_light"] != "n/a"
    assert st["b"]["auc_light"] == "n/a"
    assert "AUC light n/a: fewer than 5 defaults or non-defaults" in st["b"]["note"]


# --------------------------------------------------------------------------- concentration, migration
def test_a_grade_holding_exactly_one_percent_is_not_under_one_percent():
    y, pdv, score, _ = _sample(100)
    grade = np.array(["4"] * 1 + ["5"] * 49 + ["6"] * 50, dtype=object)
    m = _build(y, pdv, score, grade).metrics
    assert m["max_grade"] == "6" and m["max_grade_share"] == 0.5
    assert "4" not in m["grades_under_1pct"]
    assert m["grades_under_1pct"] == ["1", "2", "3", "7", "8", "9", "10"]


def test_exposure_concentration_reads_the_exposures_of_the_rows_kept():
    y, pdv, score, _ = _sample(40)
    grade = np.array(["D"] * 4 + ["5"] * 18 + ["6"] * 18, dtype=object)
    exposure = np.r_[np.full(4, 1000.0), np.full(18, 3.0), np.full(18, 1.0)]
    m = _build(y, pdv, score, grade, exposure=exposure).metrics
    r = np.zeros(10)
    r[4], r[5] = 0.75, 0.25      # grade 5 holds 54 of 72, grade 6 18 of 72
    hhi = float(np.sum(r ** 2))
    assert m["hhi_exposure"] == pytest.approx(1 + math.log(hhi) / math.log(10), abs=1e-12)


def _ecb_adjacent_cell_p(counts):
    """The ECB adjacent-cell z-tests written out from the formula: the p of every off-diagonal cell with variance."""
    out = []
    for i, row in enumerate(counts):
        n = sum(row)
        if n == 0:
            continue
        for j in range(len(row)):
            if j == i:
                continue
            nb = j + 1 if j < i else j - 1
            a, b = row[j] / n, row[nb] / n
            var = (a * (1 - a) + b * (1 - b) + 2 * a * b) / n
            if var > 0:
                out.append(stats.norm.cdf((b - a) / math.sqrt(var)))
    return out


def test_migration_counts_shares_and_rejections_by_hand():
    y, pdv, score, _ = _sample(60)
    grade = np.array(["5"] * 30 + ["6"] * 30, dtype=object)
    start = ["4"] * 20 + ["5"] * 20 + ["D"] * 3 + ["x"] * 2 + ["6"] * 5 + ["7"] * 10
    end = ["4"] * 16 + ["6"] * 4 + ["5"] * 17 + ["D"] * 3 + ["D"] * 5 + ["6"] * 5 + ["7"] * 5 + ["9"] * 5
    res = _build(y, pdv, score, grade, migration=(start, end))
    mig = res.metrics["migration"]
    assert mig["n"] == 52                         # pairs with a grade of the scale at both dates
    assert mig["defaulted"] == 3                  # from 5 to D; from D or an unknown grade to D not counted
    assert mig["excluded"] == 8 and mig["excluded_other"] == 5
    assert mig["stay_share"] == pytest.approx((16 + 17 + 5 + 5) / 52)
    counts = np.zeros((10, 10), int)
    for s_, e_ in zip(start, end):
        if s_ in R.MASTER_GRADES[:10] and e_ in R.MASTER_GRADES[:10]:
            counts[int(s_) - 1, int(e_) - 1] += 1
    ps = _ecb_adjacent_cell_p(counts)
    # (4 -> 6): 4 of 20 against (4 -> 5) 0: p = Phi(-2.236) = 0.0127, not below 1 %; (7 -> 9): 5 of 10: p 0.0008
    assert sorted(ps)[:2] == pytest.approx([stats.norm.cdf(-0.5 / math.sqrt(0.025)), stats.norm.cdf(-2.2360679775)])
    assert mig["cells_tested"] == len(ps) == 8
    assert mig["cells_rejected_1pct"] == 1
    assert mig["rejected_share"] == res.metrics["migration_z_p"] == 1 / 8
    assert _light(res, "migration_z_p")["light"] == "amber"    # green < 5 %, red > 20 %


# --------------------------------------------------------------------------- challenger, stability
def test_the_challenger_jeffreys_p_reads_the_challenger_s_own_mean_pd():
    y, pdv, score, _ = _sample(200)
    ch_pd = np.clip(pdv * 0.5, 0, 1)
    ch = _build(y, pdv, score, challenger=Challenger("half", ch_pd)).metrics["challenger"]
    d, n = int(y.sum()), y.size
    assert ch["mean_pd"] == pytest.approx(ch_pd.mean())
    assert ch["jeffreys_p"] == pytest.approx(stats.beta.cdf(ch_pd.mean(), d + 0.5, n - d + 0.5), rel=1e-9)


def test_csi_max_is_the_largest_feature_csi():
    y, pdv, score, _ = _sample(300, seed=3)
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "c": rng.normal(size=300)})
    cur = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(0.8, 1, 300), "c": rng.normal(0.3, 1, 300)})
    m = _build(y, pdv, score, features=cur, reference=ReferenceSample(score=score, features=ref)).metrics
    assert m["csi_max"] == max(m["csi"].values())
    assert m["csi_max_feature"] == "b"


# --------------------------------------------------------------------------- JSON, text
def test_booleans_stay_booleans_in_metrics_json_and_a_tiny_p_reads_below_1e_4():
    y, pdv, score, _ = _sample(300)
    res = _build(y, pdv * 0.2, score)     # the PD a fifth of the drawn rate: Jeffreys p far below 1e-4
    js = json.loads(res.to_json())
    assert js["parameters"]["hl_in_sample"] is False
    row = _light(res, "jeffreys_p")
    assert row["value_text"] == "< 0.0001" and row["light"] == "red"
    assert R._p(1e-4) == "0.0001"


def test_development_fit_states_the_optimism_as_in_sample_minus_cross_validated():
    assert R.development_fit({"development_auc": 0.80, "cv_auc": 0.75, "test_auc": 0.7, "test_sample": "2023"}) == (
        "recorded at training: AUC in sample 0.800, cross-validated 0.750 (optimism +0.050), held-out test 0.700 "
        "(2023)")


# --------------------------------------------------------------------------- files
def test_parse_target_names_the_first_missing_row_and_refuses_three_labels():
    with pytest.raises(InputError, match="1 missing target value") as e:
        R.parse_target(pd.Series([0, 1, None, 1], name="bad"), file="f.csv")
    assert (e.value.file, e.value.column, e.value.row) == ("f.csv", "bad", 3)
    with pytest.raises(InputError, match="the target has 3 distinct values, expected two"):
        R.parse_target(pd.Series(["a", "b", "c"], name="bad"), positive="a")


def test_a_recorded_initial_auc_outside_0_1_is_ignored():
    assert R.initial_auc_of({"initial_auc": 1.5}) == (None, None, "")
    assert R.initial_auc_of({"initial_auc": 1.0, "initial_auc_se": 0.01}) == (1.0, 0.01, "score")


def test_the_development_window_includes_its_last_origination_day():
    model = types.SimpleNamespace(metadata=types.SimpleNamespace(
        metadata={"last_development_origination": "2024-06-30"}))
    df = pd.DataFrame({"as_of_date": ["2024-06-29", "2024-06-30", "2024-07-01"]})
    seen, how, exact = R._rows_fitted_on("/nowhere/model", model, df)
    assert seen.tolist() == [True, True, False] and exact is False
    assert "originations up to 2024-06-30" in how


def test_the_unit_of_rows_mentions_repeats_only_when_ids_repeat():
    base = "rows: each of the 3 rows of the file is counted as one obligor"
    t = R._unit_of_rows(pd.DataFrame({"firm": ["a", "b", "c"]}), {"id_col": "firm"})
    assert t.startswith(base) and "distinct" not in t
    t = R._unit_of_rows(pd.DataFrame({"firm": ["a", "a", "c"]}), {"id_col": "firm"})
    assert t.endswith("; their 3 non-blank firm values hold 2 distinct ones")


# --------------------------------------------------------------------------- summary lights, text and HTML
def test_the_worst_grade_light_reads_the_thin_grade_s_larger_p_times_the_grades_read():
    y = np.r_[np.ones(6, int), np.zeros(94, int), np.r_[np.ones(20, int), np.zeros(180, int)]]
    pdv = np.r_[np.full(100, 0.01), np.full(200, 0.10)]
    grade = np.array(["5"] * 100 + ["8"] * 200, dtype=object)
    res = _build(y, pdv, None, grade)
    jp, bp = stats.beta.cdf(0.01, 6.5, 94.5), stats.binom.sf(5, 100, 0.01)
    assert jp < bp      # on 1 expected default the p shown is the larger one (the binomial test's)
    row = _light(res, "jeffreys_grade_p")
    assert row["value"] == pytest.approx(2 * bp, rel=1e-9) and row["light"] == "red"
    assert row["note"] == (f"worst: grade 5, p {bp:.2g} x 2 grades read (Holm); 1 red, 0 amber among them; 0 of the "
                           "2 grades with obligors shown n/a, not counted")
    assert _light(res, "binomial_grade_p")["value"] == pytest.approx(2 * bp, rel=1e-9)
    assert res.status == res.metrics["status"] == "red"


def test_the_summary_the_html_and_the_reference_counts_say_the_rows_validated():
    y, pdv, score, grade = _sample(60)
    grade[[3, 10]] = "D"
    ry, rpd, rscore, rgrade = _sample(80, seed=5)
    rgrade[:7] = "D"
    res = _build(y, pdv, score, grade, exclusions={"scoring error": 3},
                 reference=ReferenceSample(score=rscore, grade=rgrade))
    keep = grade != "D"
    assert res.summary().splitlines()[0] == f"validated 58 obligors, {int(y[keep].sum())} defaults (5 excluded)"
    assert res.metrics["reference_grade_d_excluded"] == 7
    html = res.to_html()
    assert '<tr><td>obligors in the input</td><td style="text-align:left">63</td></tr>' in html
    assert '<tr><td>obligors validated</td><td style="text-align:left">58</td></tr>' in html
    assert "AUC (95 % DeLong CI)" in html
    # concentration against the reference grades (ECB z-test, one-sided): by hand from the two grade shares
    order = [str(i) for i in range(1, 11)]

    def cv(labels):
        r = np.array([np.sum(labels == g) for g in order], dtype=float)
        r /= r.sum()
        return math.sqrt(10 * np.sum((r - 0.1) ** 2))

    c1, c0 = cv(grade[keep]), cv(rgrade[rgrade != "D"])
    z = 3 * (c1 - c0) / math.sqrt(c1 ** 2 * (0.5 + c1 ** 2))
    assert res.metrics["hhi_vs_initial_z"] == pytest.approx(z, rel=1e-9)
    assert res.metrics["hhi_vs_initial_p"] == pytest.approx(stats.norm.sf(z), rel=1e-9)


def test_the_grade_psi_leaves_the_reference_s_grade_d_rows_out():
    y, pdv, score, grade = _sample(120)
    _, _, rscore, rgrade = _sample(150, seed=6)
    rgrade[:30] = "D"
    m = _build(y, pdv, score, grade, reference=ReferenceSample(score=rscore, grade=rgrade)).metrics
    ref = rgrade[rgrade != "D"]
    value = 0.0
    for g in [str(i) for i in range(1, 11)]:
        e_n, a_n = np.sum(ref == g), np.sum(grade == g)
        if e_n == 0 and a_n == 0:
            continue          # a grade empty in both samples carries nothing
        e, a = max(e_n / ref.size, 1e-4), max(a_n / grade.size, 1e-4)
        value += (a - e) * math.log(a / e)
    assert m["grade_psi"] == pytest.approx(value, rel=1e-12)
    assert m["reference_grade_d_excluded"] == 30
