"""scikit-learn conventions shared by the estimators: tags, target checks, not-fitted errors, array inputs.

Each test here failed before the fix it guards (found by a review against scikit-learn 1.9's tooling)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score

from creditmodel.errors import ConfigError, InputError
from creditmodel.pricing_churn import ChurnCurve
from creditmodel.scoring.binning import WoEBinner
from creditmodel.scoring.calibration import PDCalibrator
from creditmodel.scoring.challenger import LGBMChallenger
from creditmodel.scoring.scorecard import WoEScorecard

FAST = {"n_estimators": 200, "learning_rate": 0.1, "early_stopping_rounds": 20, "min_rounds": 5, "cv_folds": 0}


def _data(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"risk": rng.normal(size=n), "safe": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = (rng.random(n) < expit(-1.0 + 1.2 * X["risk"] - 0.9 * X["safe"])).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def data():
    return _data()


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError) and issubclass(ConfigError, ValueError)


def test_tags_make_the_scorecard_a_classifier_and_the_binner_a_transformer():
    assert is_classifier(WoEScorecard()) and is_classifier(LGBMChallenger())
    assert WoEBinner().__sklearn_tags__().transformer_tags is not None


def test_integer_cv_is_stratified_for_the_scorecard(data):
    """With rows sorted by target, plain KFold (what a non-classifier gets) leaves one class out of a test
    fold and the AUC is NaN; a classifier gets StratifiedKFold."""
    X, y = data
    order = np.argsort(y, kind="stable")
    scores = cross_val_score(WoEScorecard(), X.iloc[order].reset_index(drop=True), y[order], cv=3,
                             scoring="roc_auc", error_score="raise")
    assert np.isfinite(scores).all() and scores.min() > 0.7


@pytest.mark.parametrize("est", [WoEBinner(), WoEScorecard(), LGBMChallenger(**FAST)], ids=type)
@pytest.mark.parametrize("bad, row", [
    (lambda y: np.where(y == 1, "bad", "good"), None),   # text: which label is the default is not guessed
    (lambda y: y + 1, 1),                                # 1/2 labels
    (lambda y: np.where(np.arange(len(y)) == 7, np.nan, y), 8),
    (lambda y: np.zeros_like(y), None),                  # one class
])
def test_every_estimator_checks_the_target(data, est, bad, row):
    X, y = data
    with pytest.raises(InputError) as e:
        est.fit(X, bad(y))
    assert e.value.column in ("target", "y")
    if row is not None:
        assert e.value.row == row


def test_challenger_bool_target_is_the_01_target(data):
    X, y = data
    a = LGBMChallenger(**FAST).fit(X, y)
    b = LGBMChallenger(**FAST).fit(X, y.astype(bool))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.predict_proba(X)[:, 1][y == 1].mean() > a.predict_proba(X)[:, 1][y == 0].mean()


@pytest.mark.parametrize("call", [
    lambda: LGBMChallenger().predict(np.zeros((2, 3))),
    lambda: WoEBinner().transform(pd.DataFrame({"a": [1.0]})),
    lambda: WoEBinner().get_feature_names_out(),
    lambda: ChurnCurve().predict([0.05]),
    lambda: PDCalibrator().predict([1.0]),
    lambda: WoEScorecard().predict_proba(pd.DataFrame({"a": [1.0]})),
])
def test_not_fitted_error_before_fit(call):
    with pytest.raises(NotFittedError):
        call()


def test_challenger_needs_an_integer_seed(data):
    X, y = data
    for seed in (None, np.random.RandomState(0), -1, True):
        with pytest.raises(ConfigError) as e:
            LGBMChallenger(**FAST, random_state=seed).fit(X, y)
        assert e.value.column == "random_state"


def test_arrays_are_checked_against_the_fitted_width(data):
    X, y = data
    lgbm = LGBMChallenger(**FAST).fit(X.to_numpy(), y)
    with pytest.raises(InputError, match="4 columns"):
        lgbm.predict_proba(np.column_stack([X.to_numpy(), X["risk"].to_numpy()]))
    named = LGBMChallenger(**FAST).fit(X, y)
    with pytest.warns(UserWarning, match="no column names"):
        p = named.predict_proba(X.to_numpy())
    np.testing.assert_array_equal(p, named.predict_proba(X))
    card = WoEScorecard().fit(X, y)
    with pytest.warns(UserWarning, match="no column names"):
        card.predict_proba(X.to_numpy())
    with pytest.raises(InputError, match="needs a pandas DataFrame"):
        WoEBinner().fit(X, y).transform(X.to_numpy())


def test_calibrator_wants_one_value_per_row(data):
    X, y = data
    raw = X["risk"].to_numpy() - X["safe"].to_numpy()
    cal = PDCalibrator(method="platt", higher_is_riskier=True).fit(raw, y)
    np.testing.assert_array_equal(cal.predict(raw.reshape(-1, 1)), cal.predict(raw))  # a column is fine
    with pytest.raises(InputError, match="shape"):
        cal.predict(np.ones((5, 3)))
    with pytest.raises(InputError, match="shape"):
        PDCalibrator().fit(np.ones((len(y), 2)), y)


def test_all_zero_weights_are_an_input_error(data):
    X, y = data
    raw = X["risk"].to_numpy()
    with pytest.raises(InputError) as e:
        PDCalibrator(method="platt").fit(raw, y, sample_weight=np.zeros(len(y)))
    assert e.value.column == "sample_weight"
    with pytest.raises(InputError) as e:
        LGBMChallenger(**FAST).fit(X, y, sample_weight=np.zeros(len(y)))
    assert e.value.column == "sample_weight"
