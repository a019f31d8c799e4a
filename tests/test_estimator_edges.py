"""Edges of the estimators' inputs a reviewer found (one check of the column names for the binner and the scorecard,
arrays in a Pipeline, no feature column, the target's message and name, the calibrator's fitted state and input).

Each test here failed before the fix it guards."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted

from creditmodel.errors import InputError
from creditmodel.scoring.binning import WoEBinner
from creditmodel.scoring.calibration import PDCalibrator, expected_calibration_error
from creditmodel.scoring.challenger import LGBMChallenger
from creditmodel.scoring.scorecard import WoEScorecard

FAST = {"n_estimators": 60, "learning_rate": 0.1, "early_stopping_rounds": 10, "min_rounds": 5, "cv_folds": 0}
SC = {"shape_cv": 0, "points_model": "woe"}


def _data(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"risk": rng.normal(size=n), "safe": rng.normal(size=n),
                      "kind": rng.choice(["a", "b", "c"], size=n)})
    y = (rng.random(n) < expit(-1.0 + 1.2 * X["risk"] - 0.9 * X["safe"] + 0.5 * (X["kind"] == "a"))).astype(int)
    return X, y.to_numpy()


@pytest.fixture(scope="module")
def data():
    return _data()


def test_binner_and_scorecard_refuse_a_duplicate_column_name_alike(data):
    """The binner failed with "'DataFrame' object has no attribute 'dtype'" where the scorecard names the column."""
    X, y = data
    dup = pd.concat([X, X[["kind"]]], axis=1)
    for est in (WoEBinner(), WoEScorecard(**SC)):
        with pytest.raises(InputError, match="duplicate column name") as e:
            est.fit(dup, y)
        assert e.value.column == "kind"
    fitted = WoEBinner().fit(X, y)
    with pytest.raises(InputError, match="duplicate column name"):
        fitted.transform(dup)


def test_binner_takes_integer_column_names_as_the_scorecard_does(data):
    """The binner failed inside optbinning ("name must be a string")."""
    X, y = data
    Xi = X.set_axis(range(X.shape[1]), axis=1)
    b = WoEBinner().fit(Xi, y)
    assert list(b.get_feature_names_out()) == ["0", "1", "2"]
    ref = WoEBinner().fit(X.set_axis(["0", "1", "2"], axis=1), y)
    pd.testing.assert_frame_equal(b.transform(Xi), ref.transform(Xi.set_axis(["0", "1", "2"], axis=1)))
    card = WoEScorecard(**SC).fit(Xi, y)
    np.testing.assert_array_equal(card.binner_.transform(Xi).to_numpy(), b.transform(Xi).to_numpy())


def test_the_binner_composes_after_an_imputer_like_the_scorecard(data):
    """``make_pipeline(SimpleImputer(), WoEBinner())`` failed ("needs a pandas DataFrame") without set_output."""
    X, y = data
    num = X[["risk", "safe"]].copy()
    num.iloc[::7, 0] = np.nan
    pipe = make_pipeline(SimpleImputer(), WoEBinner(), LogisticRegression()).fit(num, y)
    assert list(pipe[1].get_feature_names_out()) == ["x0", "x1"]   # the scorecard's names of an array's columns
    assert list(make_pipeline(SimpleImputer(), WoEScorecard(**SC)).fit(num, y)[-1].feature_names_in_) == ["x0", "x1"]
    arr = SimpleImputer().fit_transform(num)
    by_name = WoEBinner().fit(pd.DataFrame(arr, columns=["x0", "x1"]), y)
    np.testing.assert_array_equal(pipe[1].transform(arr).to_numpy(), by_name.transform(arr).to_numpy())
    assert pipe.score(num, y) > 0.6
    named = WoEBinner().fit(X, y)
    with pytest.warns(UserWarning, match="no column names"):
        got = named.transform(X.to_numpy())
    np.testing.assert_array_equal(got.to_numpy(), named.transform(X).to_numpy())
    with pytest.raises(InputError, match="2 columns"):
        named.transform(X.to_numpy()[:, :2])


def test_no_feature_column_is_said_before_lightgbm_runs(data, capfd):
    """LGBMChallenger raised LightGBM's own "Forced splits file includes feature index 0" with [Fatal] on stderr;
    the binner a KeyError 'iv'."""
    X, y = data
    for est in (LGBMChallenger(**FAST), WoEBinner(), WoEScorecard(**SC)):
        with pytest.raises(InputError, match="no feature column to fit on"):
            est.fit(X[[]], y)
    with pytest.raises(InputError, match="no feature column to fit on"):
        LGBMChallenger(**FAST).fit(np.empty((len(y), 0)), y)
    assert "Fatal" not in capfd.readouterr().err


@pytest.mark.parametrize("make", [WoEBinner, lambda: WoEScorecard(**SC), lambda: LGBMChallenger(**FAST)],
                         ids=["binner", "scorecard", "challenger"])
def test_text_labels_are_refused_in_the_librarys_words_naming_y(data, make):
    """The message said "(use --positive for two labels)", a command-line option, and named the target 'target' in
    two estimators and 'y' in the others."""
    X, y = data
    with pytest.raises(InputError) as e:
        make().fit(X, np.where(y == 1, "bad", "good"))
    assert e.value.column == "y" and "--positive" not in str(e.value)
    assert "'bad', 'good'" in str(e.value) and 'y == "bad"' in str(e.value)
    with pytest.raises(InputError) as e:   # the other target faults name it y too
        make().fit(X, np.zeros_like(y))
    assert e.value.column == "y"


def test_the_calibrators_target_message_is_the_estimators(data):
    _, y = data
    with pytest.raises(InputError) as e:
        PDCalibrator().fit(np.linspace(-2, 2, len(y)), pd.Series(np.where(y == 1, "bad", "good")))
    assert e.value.column == "y" and "--positive" not in str(e.value) and 'y == "bad"' in str(e.value)


def test_the_challenger_predicts_0_1_for_a_boolean_target_as_the_scorecard(data):
    """LGBMChallenger trained on a bool target predicted True/False and had classes_ [False, True]."""
    X, y = data
    a = LGBMChallenger(**FAST).fit(X, y)
    b = LGBMChallenger(**FAST).fit(X, y.astype(bool))
    c = LGBMChallenger(**FAST).fit(X, y.astype(float))
    for m in (a, b, c):
        assert m.classes_.tolist() == [0, 1] and m.predict(X).dtype.kind == "i"
        np.testing.assert_array_equal(m.predict_proba(X), a.predict_proba(X))
        np.testing.assert_array_equal(m.predict(X), a.predict(X))
    card = WoEScorecard(**SC).fit(X, y.astype(bool))
    assert card.classes_.tolist() == b.classes_.tolist() and card.predict(X).dtype.kind == b.predict(X).dtype.kind


def test_an_unfitted_calibrator_has_no_fitted_shift():
    """A class-level ``shift_ = 0.0`` made ``check_is_fitted(PDCalibrator(), "shift_")`` pass unfitted."""
    with pytest.raises(NotFittedError):
        check_is_fitted(PDCalibrator(), "shift_")
    assert "shift_" not in vars(PDCalibrator()) and not hasattr(PDCalibrator(), "shift_")


def test_a_calibrator_pickled_without_shift_and_central_tendency_loads_and_predicts():
    r = np.linspace(-3, 3, 300)
    y = (np.random.default_rng(1).random(300) < expit(r)).astype(int)
    cal = PDCalibrator(method="platt").fit(r, y)
    old = PDCalibrator.__new__(PDCalibrator)
    old.__dict__.update({k: v for k, v in vars(cal).items() if k not in ("shift_", "central_tendency")})
    back = pickle.loads(pickle.dumps(old))
    assert back.shift_ == 0.0 and back.central_tendency is None and "PDCalibrator" in repr(back)
    np.testing.assert_array_equal(back.predict(r), cal.predict(r))
    unfitted = PDCalibrator.__new__(PDCalibrator)
    unfitted.__dict__.update({k: v for k, v in vars(PDCalibrator()).items() if k != "central_tendency"})
    assert not hasattr(pickle.loads(pickle.dumps(unfitted)), "shift_")   # still unfitted after loading


@pytest.mark.parametrize("bad, what, row", [
    (lambda r: r + 1j, "complex", 1),
    (lambda r: r.astype(complex), "complex", 1),                             # a zero imaginary part too
    (lambda r: r.astype(str), "text", 1),
    (lambda r: np.concatenate([r[:4].astype(object), np.array(["0.5"], dtype=object), r[5:].astype(object)]),
     "text", 5),
    (lambda r: pd.Series(r.astype(str), dtype="string"), "text", 1),
])
def test_the_calibrator_refuses_complex_and_text_raw_values(bad, what, row):
    """Complex input lost its imaginary part with only a ComplexWarning; numeric text was parsed silently."""
    r = np.linspace(-3, 3, 200)
    y = (np.random.default_rng(0).random(200) < expit(r)).astype(int)
    with pytest.raises(InputError, match=what) as e:
        PDCalibrator().fit(bad(r), y)
    assert e.value.column == "raw" and e.value.row == row
    cal = PDCalibrator().fit(r, y)
    with pytest.raises(InputError, match=what):
        cal.predict(bad(r))
    with pytest.raises(InputError, match=what):
        expected_calibration_error(y, bad(r))
    np.testing.assert_array_equal(cal.predict(r.astype(object)), cal.predict(r))   # numbers in an object array
