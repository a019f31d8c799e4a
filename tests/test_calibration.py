"""PD calibration: recovery of known PDs, auto choice between Platt and isotonic, bounds, monotonicity, ECE."""
from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from creditmodel.errors import ConfigError, InputError
from creditmodel.scoring.calibration import BASEL_PD_FLOOR, PDCalibrator, expected_calibration_error

N = 20_000


def _logistic_truth(seed=1, n=N):
    """Raw output = true log-odds up to an affine map: PD = expit(-3 + 1.2 s)."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-3.0 + 1.2 * s)))
    return s, p, (rng.random(n) < p).astype(int)


def _plateau_truth(seed=2, n=N):
    """Non-logistic: PD is flat at 1 % and 2 % over most of the range, then jumps to 30 %."""
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n)
    p = np.where(s < 0, 0.01, np.where(s < 1, 0.02, 0.30))
    return s, p, (rng.random(n) < p).astype(int)


# decile default rates of ~2,000 rows at PD ~ 5-10 % have a standard error of ~0.006: ECE below 0.01 is
# "recovered"; a wrong-shape map is several times worse (checked below for Platt on the plateau truth)
ECE_OK = 0.01


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_recovers_known_logistic_pd(method):
    s, p, y = _logistic_truth()
    cal = PDCalibrator(method=method).fit(s, y)
    err = expected_calibration_error(p, cal.predict(s))
    assert err.ece < ECE_OK and err.overall < 0.005


def test_recovers_known_plateau_pd_with_isotonic_only():
    s, p, y = _plateau_truth()
    iso = expected_calibration_error(p, PDCalibrator(method="isotonic").fit(s, y).predict(s))
    platt = expected_calibration_error(p, PDCalibrator(method="platt").fit(s, y).predict(s))
    assert iso.ece < ECE_OK
    assert platt.ece > 2 * ECE_OK  # the logistic shape cannot follow the plateaus


def test_auto_picks_platt_on_logistic_truth_and_isotonic_otherwise():
    s, _, y = _logistic_truth()
    cal = PDCalibrator().fit(s, y)
    rep = cal.choice_report_
    assert cal.method_ == "platt" and rep.method == "platt" and rep.cv_folds == 5
    assert "simpler map" in rep.reason and set(rep.log_loss) == {"platt", "isotonic"}
    s, _, y = _plateau_truth()
    cal = PDCalibrator().fit(s, y)
    assert cal.method_ == "isotonic"
    rep = cal.choice_report_.to_dict()
    assert rep["log_loss"]["isotonic"] < rep["log_loss"]["platt"] and rep["paired_diff"] < -rep["paired_se"]


def test_platt_matches_statsmodels_logit():
    s, _, y = _logistic_truth(seed=5, n=5000)
    cal = PDCalibrator(method="platt").fit(s, y)
    ref = sm.Logit(y, sm.add_constant(s)).fit(disp=0).params
    assert cal.params_["b"] == pytest.approx(ref[0], abs=1e-4)
    assert cal.params_["a"] == pytest.approx(ref[1], abs=1e-4)


def test_points_higher_is_safer_recover_pdo():
    # 600 points <-> odds 50:1, 20 points double the odds; the true PD follows the points exactly
    rng = np.random.default_rng(3)
    pts = np.round(rng.normal(600, 50, N))
    factor = 20 / math.log(2)
    p = 1 / (1 + np.exp((pts - 600) / factor + math.log(50)))
    y = (rng.random(N) < p).astype(int)
    cal = PDCalibrator(method="platt", higher_is_riskier=False).fit(pts, y)
    assert cal.params_["a"] == pytest.approx(1 / factor, rel=0.1)
    pd_ = cal.predict(np.arange(400, 801))
    assert np.all(np.diff(pd_) <= 0)  # more points, lower PD
    assert expected_calibration_error(p, cal.predict(pts)).ece < ECE_OK


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_pd_within_bounds_and_monotone(method):
    s, _, y = _logistic_truth(seed=7, n=4000)
    cal = PDCalibrator(method=method).fit(s, y)
    grid = np.linspace(-50, 50, 20001)
    pd_ = cal.predict(grid)
    assert pd_.min() >= BASEL_PD_FLOOR and pd_.max() <= 1 - 1e-6
    assert pd_[0] == BASEL_PD_FLOOR  # very safe -> floor
    assert np.all(np.diff(pd_) >= 0)


def test_strict_isotonic_keeps_order_and_ties():
    s, _, y = _plateau_truth(seed=11, n=5000)
    s = np.round(s, 2)  # many equal raw values
    strict = PDCalibrator(method="isotonic").fit(s, y)
    steps = PDCalibrator(method="isotonic", strict=False).fit(s, y)
    pd_strict, pd_steps = strict.predict(s), steps.predict(s)
    # equal raw -> equal PD
    for v in np.unique(s)[:50]:
        assert np.unique(pd_strict[s == v]).size == 1
    # distinct raw -> distinct PD (strictly increasing) wherever the PD is not clipped at a bound
    u = np.unique(s)
    pu = strict.predict(u)
    inside = (pu > BASEL_PD_FLOOR) & (pu < 1 - 1e-6)
    assert np.all(np.diff(pu[inside]) > 0)
    # the step function lumps distinct scores together; the strict map keeps the ranking of the raw output
    assert np.unique(pd_steps).size < u.size / 10
    assert roc_auc_score(y, pd_strict) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auto_falls_back_to_platt_with_few_defaults():
    s = np.arange(40, dtype=float)
    y = np.zeros(40, dtype=int)
    y[[30, 38]] = 1
    cal = PDCalibrator(cv=5).fit(s, y)
    assert cal.method_ == "platt" and "smaller class" in cal.choice_report_.reason


def test_bad_inputs_and_params():
    s, _, y = _logistic_truth(n=200)
    bad = s.copy()
    bad[17] = np.nan
    with pytest.raises(InputError) as e:
        PDCalibrator().fit(bad, y)
    assert e.value.row == 18 and e.value.column == "raw"
    with pytest.raises(InputError, match="0/1"):
        PDCalibrator().fit(s, np.where(y == 1, 2, 0))
    with pytest.raises(InputError, match="single class"):
        PDCalibrator().fit(s, np.zeros_like(y))
    with pytest.raises(ConfigError, match="method"):
        PDCalibrator(method="beta").fit(s, y)
    with pytest.raises(ConfigError, match="pd_floor"):
        PDCalibrator(pd_floor=0.5, pd_cap=0.4).fit(s, y)
    cal = PDCalibrator(method="platt").fit(s, y)
    with pytest.raises(InputError, match="non-finite"):
        cal.predict([0.0, np.inf])


def test_clone_and_determinism():
    s, _, y = _logistic_truth(n=3000)
    a = PDCalibrator(random_state=3)
    b = clone(a)
    assert b.get_params() == a.get_params()
    np.testing.assert_array_equal(a.fit(s, y).predict(s), b.fit(s, y).predict(s))
    assert a.choice_report_ == b.choice_report_


def test_expected_calibration_error_known_answer():
    # two bins of 5 rows: mean PD 0.1 vs default rate 0.2, and 0.3 vs 0.6
    pd_ = np.array([0.1] * 5 + [0.3] * 5)
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 0])
    err = expected_calibration_error(y, pd_, bins=2)
    assert err.table["abs_diff"].tolist() == pytest.approx([0.1, 0.3])
    assert err.ece == pytest.approx(0.2) and err.max_bin_error == pytest.approx(0.3)
    assert err.overall == pytest.approx(abs(0.2 - 0.4))
    # with true PDs instead of outcomes, the bin truth is the mean true PD
    err = expected_calibration_error(np.r_[[0.1] * 5, [0.5] * 5], pd_, bins=2)
    assert err.ece == pytest.approx(0.1) and err.to_dict()["overall"] == pytest.approx(0.1)
    # unequal bins by rank: 10 rows, 3 bins -> sizes 4, 3, 3 (deterministic, stable order)
    err = expected_calibration_error(np.full(10, 0.2), np.linspace(0.1, 0.3, 10), bins=3)
    assert err.table["n"].tolist() == [4, 3, 3]
    with pytest.raises(InputError, match="fractions"):
        expected_calibration_error([0, 1], [0.5, 1.5])


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_central_tendency_shifts_the_log_odds_to_a_long_run_rate(method):
    """A validator found the PDs calibrated to three benign years (3.3 %) against 8.6 % in the next year; the
    calibrator can now be set to a long-run average: the mean PD on the calibration rows equals it, every PD
    moves by one log-odds shift (rank order kept), and the data's own rate is what it was without it."""
    from scipy.special import logit

    s, p, y = _logistic_truth()
    plain = PDCalibrator(method=method).fit(s, y)
    lra = 2.0 * y.mean()
    cal = PDCalibrator(method=method, central_tendency=lra).fit(s, y)
    pd_ = cal.predict(s)
    assert pd_.mean() == pytest.approx(lra, rel=1e-9) and cal.shift_ > 0
    inside = (plain.predict(s) > BASEL_PD_FLOOR * 1.01) & (pd_ < 0.99)
    assert np.allclose(logit(pd_[inside]) - logit(plain.predict(s)[inside]), cal.shift_, atol=1e-9)
    assert roc_auc_score(y, pd_) == pytest.approx(roc_auc_score(y, plain.predict(s)))
    assert plain.shift_ == 0.0 and cal.default_rate_ == plain.default_rate_
    assert clone(cal).central_tendency == lra
    for bad in (0.0, 1.0, -0.1, True, "5%"):
        with pytest.raises(ConfigError, match="central_tendency") as e:
            PDCalibrator(central_tendency=bad).fit(s, y)
        # a parameter, not a column of the data (an analyst read "column 'central_tendency'" in a notebook)
        assert e.value.parameter == "central_tendency" and e.value.column is None
        assert str(e.value).startswith("parameter 'central_tendency': ")


@pytest.mark.parametrize("lra", [None, 0.08])
def test_recentre_meets_the_target_on_another_models_outputs(lra):
    """Cross-fitted calibration learns the map on the fold fits' outputs; the final fit's outputs can sit on
    another scale. recentre() re-solves the shift on those: their mean PD is the target, the map's shape kept."""
    s, p, y = _logistic_truth()
    cal = PDCalibrator(method="platt", central_tendency=lra).fit(s, y)
    final = 1.4 * s + 0.3                              # the final model: same ranks, another scale
    before = cal.predict(final).mean()
    cal.recentre(final)
    target = y.mean() if lra is None else lra
    assert abs(before - target) > 0.005                # the out-of-fold shift missed on these outputs
    assert cal.predict(final).mean() == pytest.approx(target, rel=1e-9)
    assert cal.default_rate_ == pytest.approx(y.mean())


def test_recentre_keeps_the_shift_when_the_target_is_under_the_pd_floor(caplog):
    """A default rate under the 0.05 % PD floor cannot be the mean of floored PDs: recentre() used to raise
    brentq's ValueError (train crashed on such portfolios); it now keeps the shift and warns."""
    rng = np.random.default_rng(3)
    s = rng.normal(size=5000)
    y = np.zeros(5000, dtype=int)
    y[np.argmax(s)] = 1                                # 1 default in 5,000: 0.02 %, under the 0.05 % floor
    cal = PDCalibrator(method="platt").fit(s, y)
    assert cal.default_rate_ < BASEL_PD_FLOOR and cal.shift_for(s) is None
    expected = cal.predict(s)
    with caplog.at_level("WARNING"):
        cal.recentre(1.5 * s)
    assert cal.shift_ == 0.0 and np.array_equal(cal.predict(s), expected)
    assert "not recentred" in caplog.text
    with pytest.raises(InputError, match="sample_weight"):
        cal.recentre(s, sample_weight=np.ones(10))
    with pytest.raises(InputError, match="no rows"):
        cal.recentre(np.array([]))


def test_recentre_offset_is_added_to_the_solved_shift():
    s, p, y = _logistic_truth()
    cal = PDCalibrator(method="platt").fit(s, y)
    solved = cal.shift_for(1.2 * s)
    cal.recentre(1.2 * s, offset=-0.1)
    assert cal.shift_ == pytest.approx(solved - 0.1, abs=1e-12)


def test_a_calibrator_pickled_before_central_tendency_still_works():
    """Calibrators pickled before 2026-12-03 have no central_tendency or shift_: repr and get_params failed."""
    s, p, y = _logistic_truth()
    cal = PDCalibrator(method="platt").fit(s, y)
    expected = cal.predict(s)
    state = cal.__getstate__()
    state.pop("central_tendency"), state.pop("shift_")
    old = PDCalibrator.__new__(PDCalibrator)
    old.__setstate__(state)
    assert "PDCalibrator" in repr(old) and old.get_params()["central_tendency"] is None
    assert np.array_equal(old.predict(s), expected) and clone(old).central_tendency is None


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_the_floor_is_applied_after_the_shift(method):
    """A statistician's finding: the map's PD was clipped at the floor, then shifted and clipped again, so every
    floored row moved to one PD above the floor (0.12 %) and grade 1 emptied under a conservative central
    tendency. The floor is now applied once, after the shift."""
    from creditmodel.scoring.master_scale import MasterScale

    rng = np.random.default_rng(0)
    r = rng.normal(0, 1.3, 20_000)
    y = (rng.random(r.size) < 1 / (1 + np.exp(-(-5.5 + 1.5 * r)))).astype(int)
    cal = PDCalibrator(method=method, central_tendency=0.04).fit(r, y)
    p = cal.predict(r)
    assert p.mean() == pytest.approx(0.04, rel=1e-9) and cal.shift_ > 0.5
    assert p.min() == BASEL_PD_FLOOR                                     # the floor is the floor
    assert (MasterScale().grade(p) == "1").sum() > 500                   # grade 1 was empty
    above = p > BASEL_PD_FLOOR
    assert np.unique(r[~above]).size == (~above).sum() and np.unique(p[above]).size > 0.5 * above.sum()


def test_platt_on_a_constant_raw_output_is_the_default_rate(caplog):
    """One raw value leaves the slope unlearnable: it kept its start value and new scores got PDs from 0.05 % to
    99.9999 %; now the slope is 0 and every PD is the default rate, with the warning."""
    raw = np.full(400, 600.0)
    y = np.r_[np.ones(20), np.zeros(380)].astype(int)
    with caplog.at_level("WARNING", logger="creditmodel"):
        cal = PDCalibrator(method="platt", higher_is_riskier=False).fit(raw, y)
    np.testing.assert_allclose(cal.predict([560.0, 600.0, 640.0]), 0.05, rtol=1e-9)
    assert "Platt slope is 0" in caplog.text


def test_isotonic_all_default_end_block_is_not_a_near_certain_default():
    """The riskiest isotonic block holding only defaults put its knot at pd_cap (1 - 1e-6) and extrapolated beyond
    it: performing firms got PDs of 0.9997 and 0.999999 where the true PD was at most 0.71."""
    rng = np.random.default_rng(0)
    r = rng.normal(0, 1, 4000)
    tp = 1 / (1 + np.exp(-(-3 + 1.2 * r)))
    y = (rng.random(r.size) < tp).astype(int)
    cal = PDCalibrator(method="isotonic").fit(r, y)
    top = np.sort(r)[-5:]
    p = cal.predict(top)
    assert p.max() < 0.99 and np.all(np.diff(p) > 0)
    assert cal.predict([r.max() + 1.0])[0] < 0.999


@pytest.mark.parametrize("floor,cap", [(0.0, 1 - 1e-6), (0.0005, 1.0)])
def test_a_pd_of_zero_or_one_is_not_a_calibration_bound(floor, cap):
    """pd_cap = 1 made isotonic return PD 1, graded D (in default) for performing firms; pd_floor = 0 a PD of 0."""
    s, p, y = _logistic_truth()
    with pytest.raises(ConfigError, match="pd_floor/pd_cap"):
        PDCalibrator(pd_floor=floor, pd_cap=cap).fit(s, y)


def test_method_choice_does_not_depend_on_the_weights_scale():
    """The paired s.e. treated weights as counts: weights of 1/n made it 55 times larger and flipped the choice."""
    s, p, y = _plateau_truth()
    picks = {scale: PDCalibrator(method="auto").fit(s, y, sample_weight=np.full(s.size, scale)).choice_report_
             for scale in (1.0, 1.0 / s.size, 10.0)}
    assert len({c.method for c in picks.values()}) == 1
    ses = [c.paired_se for c in picks.values()]
    assert max(ses) == pytest.approx(min(ses), rel=0.01)   # the fits move a little with the scale; s.e. was 55x


def test_ece_does_not_depend_on_the_order_of_tied_rows():
    """Equal-count bins cut a run of tied PDs by input order: 0.0031 in one order, 0.0145 sorted by outcome."""
    rng = np.random.default_rng(3)
    p = rng.choice(np.linspace(0.01, 0.2, 26), 5000)
    y = (rng.random(p.size) < p).astype(int)
    base = expected_calibration_error(y, p).ece
    by_y = np.argsort(y, kind="stable")
    assert expected_calibration_error(y[by_y], p[by_y]).ece == pytest.approx(base, abs=1e-15)
    assert expected_calibration_error(np.full(100, 0.1), np.full(100, 0.05)).ece == pytest.approx(0.05)


def test_isotonic_end_block_does_not_move_with_the_weights_scale():
    """The Jeffreys mean of an all-default end block counted the weights as rows: weights of 10 gave 0.9918 where
    weights of 1 gave 0.9286 (a reviewer's finding on the day's diff)."""
    rng = np.random.default_rng(0)
    r = rng.normal(0, 1, 4000)
    y = (rng.random(r.size) < 1 / (1 + np.exp(-(-3 + 1.2 * r)))).astype(int)
    one = PDCalibrator(method="isotonic").fit(r, y, sample_weight=np.ones(r.size))
    ten = PDCalibrator(method="isotonic").fit(r, y, sample_weight=np.full(r.size, 10.0))
    np.testing.assert_allclose(one.params_["knot_logit"], ten.params_["knot_logit"], rtol=1e-9)


def test_platt_slope_zero_message_says_why_and_the_pd(caplog):
    raw = np.full(400, 600.0)
    y = np.r_[np.ones(40), np.zeros(360)].astype(int)
    with caplog.at_level("WARNING", logger="creditmodel"):
        cal = PDCalibrator(method="platt", central_tendency=0.05).fit(raw, y)
    assert "the raw output takes one value; every PD is the same, 0.05" in caplog.text
    assert cal.predict([600.0])[0] == pytest.approx(0.05)
