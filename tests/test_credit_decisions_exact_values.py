"""Exact values of creditmodel.credit_decisions, worked out by hand or with an independent implementation.

* ``CrossValidation.quality`` on a hand-made 10-firm, 3-repeat result: every metric against hand counts,
  scikit-learn, scipy and a brute-force DeLong (DeLong, DeLong & Clarke-Pearson 1988).
* The parameter checks, the fold assignment, the fold table of the cross-validation and the deployed model's
  calibration on the repeats' mean raw score.
* The rating rules (Jeffreys PDs, nearest rating on the log-odds scale, the D rule and its errors), the limit
  cap, the cost rate's sales handling, the within-A-C verdict and the result's tables.
* With ``../shared/data``: one CUMCM decision with non-default settings, each setting traced to its output.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit, logit
from sklearn.metrics import roc_auc_score

from creditmodel import credit_decisions as CD
from creditmodel import pricing
from creditmodel.errors import ConfigError, InputError
from test_credit_decisions import HAVE_CUMCM, _folds, _simulated, skip_no_cumcm

#: Scorecard settings that fit in a fraction of the default's time (no shape or points-model search); the
#: tests below check the pipeline's wiring, not the card.
QUICK = {"shape_cv": 0, "points_model": "woe"}


# ============================================================================== quality on a hand-made result
# mean PD per firm (multiples of 1/32, so every mean below is exact in binary)
P = np.array([0.75, 0.5, 0.25, 0.5, 0.125, 0.5, 0.0625, 0.1875, 0.3125, 0.25])
Y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 0])
RATING = ["D", "D", "A", "D", "B", "C", "A", "B", "C", "A"]
_S0 = np.array([2, -1, 1, 0, -1, 2, 1, -1, 0, 1]) / 32
_S1 = np.array([-1, 2, 0, -2, 1, -1, 0, 2, -1, 0]) / 32
# three repeats whose mean is P but whose median is not (row 1: median 0.46875)
OOF = np.column_stack([P + _S0, P + _S1, P - _S0 - _S1])
RAW = np.arange(30, dtype=float).reshape(10, 3)   # row i: 3i, 3i+1, 3i+2 -> mean 3i+1


def _cv(oof=OOF, y=Y, raw=RAW, seed=5) -> CD.CrossValidation:
    n, r = oof.shape
    return CD.CrossValidation("scorecard", 3, r, seed, "platt", np.asarray(y), oof, raw,
                              np.zeros((n, r), dtype=np.int64), pd.DataFrame(), pd.Series(dtype=float), 0, 0.0)


def _delong(y, s, alpha=0.05):
    """Brute-force DeLong: placements over all default/non-default pairs, sample variances (ddof 1)."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    a = psi.mean()
    se = math.sqrt(psi.mean(axis=1).var(ddof=1) / len(pos) + psi.mean(axis=0).var(ddof=1) / len(neg))
    z = stats.norm.ppf(1 - alpha / 2)
    return a, max(0.0, a - z * se), min(1.0, a + z * se)


def test_the_hand_made_result_has_the_means_it_was_built_for():
    cv = _cv()
    np.testing.assert_array_equal(OOF.mean(axis=1), P)               # exact: multiples of 1/32
    assert np.all((OOF > 0) & (OOF < 1))
    np.testing.assert_array_equal(cv.pd, P)                           # the mean over repeats, not the median
    assert np.median(OOF[1]) == 0.46875
    np.testing.assert_array_equal(cv.raw, 3 * np.arange(10) + 1.0)   # the mean raw score, not the first repeat's


def test_quality_without_ratings_exact_values():
    q = _cv().quality(n_boot=200)
    # defaults 0.75, 0.5, 0.25, 0.3125 against non-defaults 0.5, 0.125, 0.5, 0.0625, 0.1875, 0.25:
    # 6 + (4 + 2 x 1/2) + (3 + 1/2) + 4 = 18.5 of 24 pairs
    assert q["auc"] == pytest.approx(18.5 / 24, abs=1e-12) == roc_auc_score(Y, P)
    assert q["gini"] == pytest.approx(2 * 18.5 / 24 - 1, abs=1e-12)  # 13/24
    a, lo, hi = _delong(Y, P)
    assert (q["auc_ci_low"], q["auc_ci_high"]) == (pytest.approx(lo, abs=1e-12), pytest.approx(hi, abs=1e-12))
    assert q["auc_boot_low"] <= q["auc"] <= q["auc_boot_high"] and q["auc_boot_low"] < q["auc_boot_high"]
    assert q["ks"] == pytest.approx(stats.ks_2samp(P[Y == 1], P[Y == 0]).statistic, abs=1e-12)
    assert (q["n"], q["defaults"], q["default_rate"]) == (10.0, 4.0, 0.4)
    reps = [roc_auc_score(Y, OOF[:, r]) for r in range(3)]
    assert len(set(reps)) > 1                                           # the repeats differ: the spread is not 0
    assert q["auc_repeat_mean"] == pytest.approx(np.mean(reps), abs=1e-12)
    m = sum(reps) / 3
    assert q["auc_repeat_sd"] == pytest.approx(math.sqrt(sum((x - m) ** 2 for x in reps) / 2), abs=1e-12)
    assert (q["auc_repeat_min"], q["auc_repeat_max"]) == (pytest.approx(min(reps)), pytest.approx(max(reps)))
    brier = float(np.mean((Y - P) ** 2))
    assert q["brier"] == pytest.approx(brier, abs=1e-15)
    assert q["brier_repeat_mean"] == pytest.approx(np.mean([np.mean((Y - OOF[:, r]) ** 2) for r in range(3)]))
    assert q["brier_base"] == pytest.approx(0.4 * 0.6, abs=1e-15)   # Brier of the constant 40 %
    assert q["brier_skill"] == pytest.approx(1 - brier / 0.24, abs=1e-12)
    assert q["mean_pd"] == pytest.approx(3.4375 / 10, abs=1e-15)
    assert not {"auc_bank_rating", "n_abc", "d_like_recall"} & set(q)


def test_quality_with_ratings_exact_values():
    from creditmodel.validation.metrics import bootstrap_discrimination

    q = _cv().quality(RATING, n_boot=200, d_threshold=0.5)
    # the rating as a score (A 0 .. D 3): defaults 3, 3, 0, 2 against 3, 1, 2, 0, 1, 0
    # -> 2 x (5 + 1/2) + (2 x 1/2) + (4 + 1/2) = 16.5 of 24
    assert q["auc_bank_rating"] == pytest.approx(16.5 / 24, abs=1e-12)
    # is-D as a score: defaults 1, 1, 0, 0 against 1, 0, 0, 0, 0, 0 -> 2 x 5.5 + 2 x 2.5 = 16 of 24
    assert q["auc_perfect_d_detector"] == pytest.approx(16 / 24, abs=1e-12)
    # PD ranking "rated D": 0.75, 0.5, 0.5 against the 7 others -> 7 + 2 x 6.5 = 20 of 21
    assert q["auc_d_vs_rest"] == pytest.approx(20 / 21, abs=1e-12)
    assert (q["n_abc"], q["defaults_abc"]) == (7.0, 2.0)
    # within A-C: 0.25 and 0.3125 against 0.125, 0.5, 0.0625, 0.1875, 0.25 -> 3.5 + 4 = 7.5 of 10
    assert q["auc_within_abc"] == pytest.approx(0.75, abs=1e-12)
    abc = np.array([r != "D" for r in RATING])
    _, lo, hi = _delong(Y[abc], P[abc])
    assert q["auc_within_abc_ci_low"] == pytest.approx(lo, abs=1e-12)
    assert q["auc_within_abc_ci_high"] == pytest.approx(hi, abs=1e-12)
    # the bootstrap of the A-C rows only, with the cross-validation's seed
    b = bootstrap_discrimination(Y[abc], P[abc], n_boot=200, seed=5).auc
    assert (q["auc_within_abc_boot_low"], q["auc_within_abc_boot_high"]) == (b[0], b[1])
    assert q["mean_pd_d"] == pytest.approx(1.75 / 3, abs=1e-15)
    assert q["mean_pd_abc"] == pytest.approx(1.6875 / 7, abs=1e-15)
    assert q["default_rate_abc"] == pytest.approx(2 / 7, abs=1e-15)
    # PD >= 0.5 flags rows 0 (0.75), 1 and 3 (exactly 0.5; D) and 5 (exactly 0.5; C)
    assert q["d_like_recall"] == 1.0
    assert q["d_like_false_share"] == pytest.approx(1 / 7, abs=1e-15)
    q2 = _cv().quality(RATING, n_boot=200, d_threshold=0.6)            # only row 0
    assert (q2["d_like_recall"], q2["d_like_false_share"]) == (pytest.approx(1 / 3), 0.0)


def test_quality_rating_edge_cases():
    with pytest.raises(InputError, match="rating has 9 values for 10 rows") as e:
        _cv().quality(RATING[:9], n_boot=50)
    assert e.value.column == "rating"
    q = _cv().quality(["D"] * 10, n_boot=50)          # every firm rated D: no "rated D vs the rest", no A-C
    assert "auc_d_vs_rest" not in q and "auc_within_abc" not in q
    assert (q["n_abc"], q["defaults_abc"]) == (0.0, 0.0) and math.isnan(q["mean_pd_abc"])
    assert q["d_like_recall"] == pytest.approx(0.4)   # 0.75, 0.5, 0.5, 0.5 of 10 at >= 0.5


# ============================================================================== parameter checks
def test_parameter_checks_boundaries():
    CD.check_cv_folds(3)
    CD.check_cv_folds(np.int64(4))
    for bad in (2, True, 3.0, "5"):
        with pytest.raises(InputError, match="cv_folds must be a whole number of at least 3") as e:
            CD.check_cv_folds(bad, parameter="folds_here")
        assert e.value.parameter == "folds_here"
    CD.check_cv_repeats(1)
    for bad in (0, -1, True, 1.0):
        with pytest.raises(InputError, match="cv_repeats must be a whole number of at least 1"):
            CD.check_cv_repeats(bad, parameter="cv_repeats")
    for good in (1, 0.5, np.float64(1e8), np.int32(7)):
        CD.check_budget(good)
    for bad in (0, 0.0, -1.0, math.inf, math.nan, True, "1e6", None):
        with pytest.raises(InputError, match="budget must be a positive number of yuan"):
            CD.check_budget(bad)
    assert CD.check_maturity(0.25) == 1.0 and CD.check_maturity(2.5) == 2.5
    assert CD.check_maturity(5) == 5.0 and CD.check_maturity(9.0) == 5.0
    for bad in (0, 0.0, -2.0, math.inf):
        with pytest.raises(InputError, match="maturity must be a positive number of years"):
            CD.check_maturity(bad)


def test_estimator_settings_and_overrides():
    sc = CD._estimator("scorecard", 3, None)
    assert sc.min_iv == 0.1 and sc.random_state == 3
    assert CD._estimator("scorecard", 3, {"min_iv": 0.25}).min_iv == 0.25
    lg = CD._estimator("lightgbm", 3, None)
    assert (lg.num_leaves, lg.min_child_samples, lg.n_estimators) == (7, 10, 500)
    assert CD._estimator("lightgbm", 3, {"num_leaves": 4}).num_leaves == 4


def test_used_features_of_each_kind():
    cols = ["a", "b", "c", "d"]
    lgb = SimpleNamespace(feature_importances_=np.array([0.0, 2.5, 0.0, 1e-9]))
    assert CD._used_features(lgb, "lightgbm", cols) == ["b", "d"]            # importance 0: not used
    assert CD._used_features(SimpleNamespace(), "lightgbm", cols) == cols      # no importances: all
    assert CD._used_features(SimpleNamespace(selected_features_=["c"]), "scorecard", cols) == ["c"]


# ============================================================================== folds and the cross-validation
def test_fold_ids_are_stratified_k_fold_seeded_per_repeat():
    _, y = _simulated(60, seed=1)
    got = CD._fold_ids(y, 3, 2, seed=11)
    states = np.random.SeedSequence(11).generate_state(2)
    for r in range(2):
        want = _folds(y, 3, int(states[r]))
        np.testing.assert_array_equal(got[:, r], want)
    assert not np.array_equal(got[:, 0], got[:, 1])


def test_cross_validation_refuses_bad_folds_before_fitting():
    X, y = _simulated(60, seed=2)
    f = _folds(y, 3, 0)
    with pytest.raises(InputError, match=r"every repeat must use each fold 0..2"):
        CD.cross_validate_pd(X, y, folds=np.where(f == 0, -1, f))   # folds -1, 1, 2: three folds, one negative
    with pytest.raises(InputError, match="folds must be integers"):
        CD.cross_validate_pd(X, y, folds=f.astype(float))
    few = np.zeros(len(y), dtype=int)
    few[:2] = 1
    with pytest.raises(InputError, match="only 2 rows in the smaller class: fewer than 3 folds"):
        CD.cross_validate_pd(X, few, cv_folds=3)
    with pytest.raises(InputError, match="0/1"):
        CD.cross_validate_pd(X, np.where(y == 1, 0.5, 0.0))
    # every default in folds 0 and 1: each outer training part has both classes, but the calibration model
    # fitted without folds 0 and 1 has none
    g = np.where(y == 1, np.arange(len(y)) % 2, 2)
    with pytest.raises(InputError, match=r"repeat 0: the rows outside folds \(0, 1\) have one class only"):
        CD.cross_validate_pd(X, y, folds=g)


@pytest.fixture(scope="module")
def small_cv():
    X, y = _simulated(150, seed=6)
    X = X[["n_customers", "sales_cv", "log_sales", "sales_tax_rate"]]   # the noise count first: never selected
    folds = np.column_stack([_folds(y, 3, 1), _folds(y, 3, 2)])
    return X, y, folds, CD.cross_validate_pd(X, y, seed=4, folds=folds, calibration="isotonic",
                                             estimator_params=QUICK)


def test_fold_table_counts_and_selection(small_cv):
    X, y, folds, cv = small_cv
    assert (cv.cv_folds, cv.repeats, cv.n_fits) == (3, 2, 2 * (3 + 3))
    t = cv.folds
    assert list(zip(t["repeat"], t["fold"])) == [(r, k) for r in range(2) for k in range(3)]
    for row in t.itertuples():
        test = folds[:, row.repeat] == row.fold
        assert (row.n_test, row.defaults_test) == (test.sum(), y[test].sum())
        assert (row.n_train, row.defaults_train) == ((~test).sum(), y[~test].sum())
        assert row.test_auc == pytest.approx(roc_auc_score(y[test], cv.oof_pd[test, row.repeat]), abs=1e-12)
        assert row.calibration == "isotonic"
    assert cv.calibration == "isotonic"
    # the share of the 6 outer models using each feature: the shares add up to the features used per model
    assert cv.selection.sum() * 6 == pytest.approx(t["n_features"].sum(), abs=1e-9)
    # most used first; equal shares in column order (a stable sort), so the never-used first column goes last
    assert list(cv.selection) == sorted(cv.selection, reverse=True)
    assert cv.selection.index[-1] == "n_customers" and cv.selection.iloc[-1] < cv.selection.iloc[0]
    assert set(cv.selection.index) == set(X.columns) and cv.selection.name == "share_of_models"


def test_fold_table_features_match_a_scorecard_fitted_by_hand(small_cv):
    from creditmodel.data.real import CUMCM_FEATURES
    from creditmodel.scoring.scorecard import WoEScorecard

    X, y, folds, cv = small_cv
    train = folds[:, 1] != 0
    card = WoEScorecard(feature_directions={k: v.direction for k, v in CUMCM_FEATURES.items()},
                        categorical_features=[], random_state=4, min_iv=0.1, **QUICK).fit(X[train], y[train])
    n_feat = len(card.selected_features_)
    assert n_feat < X.shape[1]                      # the IV filter drops some: the count is informative
    assert cv.folds.set_index(["repeat", "fold"]).loc[(1, 0), "n_features"] == n_feat


def test_final_model_is_calibrated_on_the_repeats_mean_raw_score():
    from creditmodel.data.real import CUMCM_FEATURES
    from creditmodel.scoring.calibration import PDCalibrator
    from creditmodel.scoring.scorecard import WoEScorecard

    X, y = _simulated(120, seed=8)
    card = WoEScorecard(feature_directions={k: v.direction for k, v in CUMCM_FEATURES.items()},
                        categorical_features=[], random_state=2, min_iv=0.1, **QUICK).fit(X, y)
    pts = card.points(X).astype(float)
    wobble = 30.0 * np.random.default_rng(0).standard_normal(len(y))
    raw = np.column_stack([pts + wobble, pts - wobble])            # mean: pts; first repeat: pts + wobble
    cv = CD.CrossValidation("scorecard", 3, 2, 2, "platt", y, np.full((len(y), 2), 0.2), raw,
                            np.zeros((len(y), 2), dtype=np.int64), pd.DataFrame(), pd.Series(dtype=float), 0, 0.0)
    model = CD.fit_final_model(X, y, cv, QUICK)
    cal = PDCalibrator(method="platt", higher_is_riskier=False, random_state=2).fit(raw.mean(axis=1), y)
    np.testing.assert_allclose(model.predict_pd(X), cal.predict(pts), rtol=1e-10)
    y2 = y.copy()
    y2[0] = 1 - y2[0]
    with pytest.raises(InputError, match="y differs from the target the cross-validation was run on"):
        CD.fit_final_model(X, y2, cv, QUICK)


# ============================================================================== ratings, limits, costs
def test_rating_pds_are_jeffreys_from_a_hand_count():
    # attachment 1 in miniature: A 0/27, B 1/38, C 2/34, D 24/24
    rows = [("A", 0, 27), ("B", 1, 38), ("C", 2, 34), ("D", 24, 24)]
    rated = pd.DataFrame({"rating": [r for r, d, n in rows for _ in range(n)],
                          "default": [int(i < d) for r, d, n in rows for i in range(n)]})
    got = CD.rating_pds(rated.sample(frac=1.0, random_state=0))
    assert list(got["rating"]) == ["A", "B", "C", "D"]
    assert list(got["n"]) == [27, 38, 34, 24] and list(got["defaults"]) == [0, 1, 2, 24]
    np.testing.assert_allclose(got["default_rate"], [0.0, 1 / 38, 2 / 34, 1.0], rtol=1e-15)
    np.testing.assert_allclose(got["jeffreys_pd"], [0.5 / 28, 1.5 / 39, 2.5 / 35, 24.5 / 25], rtol=1e-15)


def test_grade_to_rating_nearest_on_log_odds_not_on_pd():
    # A 1 %, B 10 %: the log-odds midpoint is expit((logit .01 + logit .1)/2) = 3.24 %, the PD midpoint 5.5 %.
    # Grade 7 (central 3.6 %) is B on the log-odds scale (distance 1.09 against 1.31) though nearer A in PD.
    mid = expit((logit(0.01) + logit(0.1)) / 2)
    assert mid == pytest.approx(0.0324, abs=1e-4)
    m = CD.grade_to_rating({"A": 0.01, "B": 0.1, "D": 0.9})   # D has no churn curve: never a target
    assert list(m["rating"]) == ["A"] * 6 + ["B"] * 4
    assert list(m["rating_pd"]) == [0.01] * 6 + [0.1] * 4
    assert list(m["central_pd"]) == [0.0006, 0.0012, 0.0023, 0.0045, 0.009, 0.018, 0.036, 0.072, 0.145, 0.30]
    with pytest.raises(InputError, match="no PD for any of the ratings"):
        CD.grade_to_rating({"D": 0.9})


def test_bank_rating_rules_exactly():
    m = CD.grade_to_rating({"A": 0.02, "B": 0.04, "C": 0.07})
    # a grade D firm is D even at a low PD; a PD at the threshold is D; the threshold may be 1
    got = CD.bank_rating(["D", "10", "10", "3"], [0.1, 0.3, 0.29999, 0.0], m, d_threshold=0.3)
    assert list(got) == ["D", "D", "C", "A"]
    assert list(CD.bank_rating(["10", "10"], [0.999, 1.0], m, d_threshold=1.0)) == ["C", "D"]
    for bad in (0.0, -0.1, 1.01):
        with pytest.raises(InputError, match="d_threshold must lie in"):
            CD.bank_rating(["3"], [0.01], m, d_threshold=bad)
    with pytest.raises(InputError, match=r"pd_12m must be a fraction in \[0, 1\]; got -0.2 \(2 such row\(s\)\)") as e:
        CD.bank_rating(["3", "4", "5", "6"], [0.01, np.nan, -0.2, 7.0], m)
    assert e.value.row == 3 and e.value.column == "pd_12m"


def test_max_limits_floor_is_exact_and_share_bounds():
    # 70 % of 700,000 yuan is 490,000 (0.7 x 700000 / 10000 is 48.99999999999999 in floating point)
    assert CD.max_limits([700_000.0], share=0.7)[0] == 490_000.0
    assert CD.max_limits([1e5], share=10)[0] == 1_000_000.0       # share 10 is allowed (the upper end)
    assert CD.max_limits([1e4], share=10)[0] == 100_000.0
    with pytest.raises(InputError, match=r"limit share of sales must lie in \(0, 10\], got 10.5"):
        CD.max_limits([1e6], share=10.5)


def test_cost_rates_take_negative_sales_as_none():
    cfg = pricing.PricingConfig()
    got = CD.cost_rates([0.02, 0.02], [-3e6, 0.0], cfg, maturity=1.0)
    k = pricing.irb_capital(0.02, 0.40, 1.0, 0.0)          # S below 5: the full SME adjustment
    want = 0.018 + 0.008 + 12.5 * k * 0.105 * (0.12 - 0.018)
    np.testing.assert_allclose(got, [want, want], rtol=1e-12)
    assert math.isnan(CD.cost_rates([np.nan], [1e6], cfg)[0])


def test_within_abc_verdict_boundaries_and_order():
    def q(lo, hi, **kw):
        return {"auc_within_abc": 0.6, "auc_within_abc_boot_low": lo, "auc_within_abc_boot_high": hi, **kw}

    assert CD.within_abc_verdict(q(0.5, 0.9))[0] == "no_evidence"      # an interval starting at chance
    assert CD.within_abc_verdict(q(0.1, 0.5))[0] == "no_evidence"      # ... or ending at it
    assert CD.within_abc_verdict(q(0.5000001, 0.9))[0] == "ranks"
    both = q(0.45, 0.8, auc_within_abc_ci_low=0.55, auc_within_abc_ci_high=0.9)
    assert CD.within_abc_verdict(both) == ("no_evidence", 0.45, 0.8, "bootstrap")   # the bootstrap first
    assert CD.within_abc_verdict(both, level=0.4) == ("ranks", 0.45, 0.8, "bootstrap")


def test_rules_cap_at_the_lowest_rate_is_allowed():
    from creditmodel.pricing_allocation import AllocationRules

    rules = AllocationRules()
    held = CD.rules_under_cap(rules, pricing.PricingConfig(rate_cap=0.04))
    assert (held.rate_min, held.rate_max) == (0.04, 0.04)
    with pytest.raises(ConfigError) as e:
        CD.rules_under_cap(rules, pricing.PricingConfig(rate_cap=0.0399))
    assert e.value.column == "rate_cap"


# ============================================================================== the result's tables
def _result() -> CD.CreditDecisionResult:
    from creditmodel.pricing_allocation import AllocationRules

    d = pd.DataFrame({
        "firm_id": ["E1", "E2", "E3", "E4", "E5", "E6"],
        "rating": ["A", "A", "B", "C", "D", "A"],
        "pd_12m": [0.01, 0.02, 0.04, 0.08, 0.6, 0.015],
        "limit": [500_000.0, 0.0, 300_000.0, 200_000.0, 0.0, 100_000.0],
        "rate": [0.05, 0.09, 0.08, 0.12, np.nan, 0.07],     # E2: a rate, but the budget went to better firms
        "expected_lent": [400_000.0, 0.0, 270_000.0, 150_000.0, 0.0, 90_000.0],
        "expected_interest": [19_800.0, 0.0, 20_736.0, 16_560.0, 0.0, 6_205.5],
        "expected_loss": [1_600.0, 0.0, 4_320.0, 4_800.0, 0.0, 540.0],
        "expected_profit": [1_000.0, 0.0, 2_000.0, 1_000.0, 0.0, 2_000.0],
    })
    keys = ["n_loans", "limits", "expected_lent", "expected_interest", "expected_loss", "expected_cost",
            "expected_profit", "return_on_lent", "return_on_budget"]
    alloc = SimpleNamespace(totals={k: float(i + 1) for i, k in enumerate(keys)} | {"expected_profit": 6000.0})
    naive = SimpleNamespace(totals={k: float(10 * (i + 1)) for i, k in enumerate(keys)} | {"expected_profit": 3500.0})
    return CD.CreditDecisionResult(
        quality={"auc": 0.8}, insample_auc=0.9, cv=SimpleNamespace(seconds=2.5), model=None, rated=None,
        rating_pd=None, rating_map=None, decisions=d, allocation=alloc, naive=naive, curves={},
        churn_report=None, optimal_rates=None, rules=AllocationRules(), config=None)


def test_result_loans_by_rating_metrics_and_comparison():
    res = _result()
    # largest expected profit first, ties by firm id; only firms with a limit
    assert list(res.loans()["firm_id"]) == ["E3", "E6", "E1", "E4"]
    br = res.by_rating().set_index("rating")
    assert list(br.index) == ["A", "B", "C", "D"]
    assert list(br["firms"]) == [3, 1, 1, 1] and list(br["loans"]) == [2, 1, 1, 0]
    assert br.loc["A", "limits"] == 600_000.0 and br.loc["A", "mean_pd"] == pytest.approx(0.045 / 3)
    # mean rate of the loans made: E1 5 % and E6 7 % (not E2's 9 %, which was not lent)
    assert br.loc["A", "mean_rate_of_loans"] == pytest.approx(0.06, abs=1e-15)
    assert br.loc["C", "mean_rate_of_loans"] == 0.12 and math.isnan(br.loc["D", "mean_rate_of_loans"])
    # the mean PD of the loans made beside the rating's: A lent to E1 (1 %) and E6 (1.5 %), not E2 (2 %)
    assert br.loc["A", "mean_pd_of_loans"] == pytest.approx(0.0125, abs=1e-15)
    assert math.isnan(br.loc["D", "mean_pd_of_loans"])
    assert list(br.columns[:4]) == ["firms", "loans", "mean_pd", "mean_pd_of_loans"]
    m = res.metrics()
    assert m["profit_gain_vs_naive"] == 2500.0
    assert m["unrated_firms"] == 6.0 and m["unrated_d_like"] == 1.0
    assert (m["unrated_rating_A"], m["unrated_rating_B"], m["unrated_rating_C"]) == (3.0, 1.0, 1.0)
    assert m["cv_auc"] == 0.8 and m["insample_auc"] == 0.9 and m["cv_seconds"] == 2.5
    assert m["alloc_limits"] == 2.0 and m["naive_limits"] == 20.0
    comp = res.comparison()
    assert comp.loc["limits", "optimised"] == 2.0 and comp.loc["limits", "naive"] == 20.0
    assert comp.loc["expected_profit", "naive"] == 3500.0


# ============================================================================== one real decision, non-default settings
@pytest.fixture(scope="module")
def tuned():
    from creditmodel.data import real

    if not HAVE_CUMCM:
        pytest.skip("CUMCM 2020 C files not found in ../shared/data/cumcm2020c_sme_credit")
    from creditmodel.scoring.model import CreditModel

    inv = real.cumcm_invoices()
    scores = CreditModel.score_frame

    def first_firm_unscorable(self, df, *args, **kwargs):
        """The real scores, with the first firm as a row the model could not score (status error, no PD)."""
        out = scores(self, df, *args, **kwargs)
        out["status"], out["grade"] = out["status"].astype(object), out["grade"].astype(object)
        out.loc[out.index[0], ["status", "grade", "pd_12m"]] = ["error", None, np.nan]
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(CreditModel, "score_frame", first_firm_unscorable)
        return CD.cumcm_credit_decisions(budget=30e6, cv_folds=3, repeats=1, n_boot=20, d_threshold=0.3,
                                         limit_share=0.1, costs=False, maturity=2.0, estimator_params=QUICK,
                                         invoices=inv)


@pytest.mark.shared_data
@skip_no_cumcm
def test_cumcm_settings_reach_their_outputs(tuned):
    res = tuned
    d = res.decisions
    # the budget replaces the rules' 100 m
    assert res.rules.budget == 30e6 and res.settings["budget"] == 30e6
    assert d["limit"].sum() <= 30e6 and res.allocation.totals["limits"] > 30e6 - 100_000
    # D at PD >= 0.3, for the unrated firms, the rated firms' out-of-fold rating and the quality's D-like shares
    np.testing.assert_array_equal((d["rating"] == "D").to_numpy(), d["pd_12m"].to_numpy() >= 0.3)
    assert ((d["pd_12m"] >= 0.3) & (d["pd_12m"] < 0.5)).any()          # the threshold changes something
    r = res.rated
    oof_d = r["oof_pd"].to_numpy() >= 0.3
    np.testing.assert_array_equal((r["oof_rating"] == "D").to_numpy(), oof_d)
    is_d = (r["rating"] == "D").to_numpy()
    assert res.quality["d_like_recall"] == pytest.approx(oof_d[is_d].mean(), abs=1e-15)
    assert res.quality["d_like_false_share"] == pytest.approx(oof_d[~is_d].mean(), abs=1e-15)
    # the cap: 10 % of annual sales in 10k steps, at most 1 m
    cap = np.minimum(1e6, np.floor(np.round(0.1 * d["annual_sales"].to_numpy() / 1e4, 9)) * 1e4)
    np.testing.assert_array_equal(d["max_limit"], cap)
    # no costs: the contest's profit
    assert (d["cost_rate"] == 0.0).all() and res.allocation.totals["expected_cost"] == 0.0
    # the per-rating table: costs at the loans' maturity (2 years) and the rated firms' median sales
    assert res.settings["maturity"] == 2.0 and res.settings["estimator_params"] == QUICK
    assert res.model.estimator.shape_cv == 0 and res.model.estimator.points_model == "woe"
    opt = res.optimal_rates.set_index("grade")
    for g in ("A", "B", "C"):
        med = float(np.median(np.expm1(r.loc[r["rating"] == g, "log_sales"].to_numpy(float))))
        jp = float(res.rating_pd.set_index("rating").loc[g, "jeffreys_pd"])
        want = CD.cost_rates([jp], [med], res.config, 2.0)[0]
        assert opt.loc[g, "cost_rate"] == pytest.approx(want, rel=1e-12)
    # the reasons: a loan has none, every other firm one; the firm the model could not score says so
    lent = (d["limit"] > 0).to_numpy()
    assert d.loc[lent, "reason"].isna().all() and d.loc[~lent, "reason"].notna().all()
    first = d.iloc[0]
    assert (first["status"], first["reason"], first["limit"]) == ("error", "not scored", 0.0)
    assert pd.isna(first["rating"])
    assert (d["status"].iloc[1:] == "ok").all() and (d["reason"].iloc[1:] != "not scored").all()


def test_rating_agreement_counts_equal_and_far_ratings():
    """6 rated firms, bank rating against the out-of-fold one: A-A (agree), A-C (two apart), B-B (agree), C-A (two
    apart), C-B (one apart), D-B (two apart): 2 of 6 agree; far A 1, C 1, D 1; none for B."""
    import dataclasses

    from creditmodel import pricing_plots as PP

    rated = pd.DataFrame({"rating": ["A", "A", "B", "C", "C", "D"], "oof_rating": ["A", "C", "B", "A", "B", "B"]})
    res = dataclasses.replace(_result(), rated=rated)
    a = res.rating_agreement()
    assert (a["firms"], a["agree"], a["agree_share"]) == (6.0, 2.0, 2 / 6)
    assert (a["far_A"], a["far_B"], a["far_C"], a["far_D"]) == (1.0, 0.0, 1.0, 1.0)
    assert PP.rating_agreement_markdown(res) == (
        "Our rating (from the out-of-fold PD) is the bank's for **2 of the 6 rated firms (33%)**; two or more ratings "
        "apart: 1 of the 2 the bank rates A, 1 of the 2 the bank rates C, 1 of the 1 the bank rates D.")


def test_the_allocation_summary_says_when_its_profit_rests_on_pds_that_do_not_rank_within_a_to_c():
    """The profit claim sat without the section 4.1 caveat beside it (a validator's finding)."""
    import dataclasses

    from creditmodel import pricing_plots as PP

    base = _result()
    no_ev = {"auc_within_abc": 0.493, "auc_within_abc_boot_low": 0.30, "auc_within_abc_boot_high": 0.70,
             "mean_pd_abc": 0.1475, "default_rate_abc": 0.0303}
    text = PP.allocation_summary_markdown(dataclasses.replace(base, quality=no_ev))
    assert text.endswith("**Read these as the model's expectations, not as evidence:** the limits and the choice of "
                         "firms follow the PDs, and section 4.1 found an interval that contains 0.5: no evidence that "
                         "it ranks risk among the firms a bank would lend to (out-of-fold AUC within A-C 0.493; mean "
                         "PD there 14.75 % against an observed default rate of 3.03 %).")
    ranks = {**no_ev, "auc_within_abc": 0.8, "auc_within_abc_boot_low": 0.6, "auc_within_abc_boot_high": 0.95}
    assert "not as evidence" not in PP.allocation_summary_markdown(dataclasses.replace(base, quality=ranks))
