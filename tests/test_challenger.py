"""LightGBM challenger: monotone constraints, early stopping on training data only, reason codes,
bit-for-bit reproducibility, scikit-learn integration, categorical and bad-input handling."""
from __future__ import annotations

import copy
import math
import os

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from creditmodel.errors import ConfigError, InputError
from creditmodel.scoring.challenger import BASE_VALUE, LGBMChallenger

# small and quick: a few hundred trees at most on a few thousand rows
FAST = {"n_estimators": 300, "learning_rate": 0.1, "early_stopping_rounds": 30, "min_rounds": 10, "cv_folds": 0}


def _data(n=3000, seed=0):
    """u_shape: U-shaped true effect (risk high at both ends); risk: +; safe: -; noise; a category."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "u_shape": rng.uniform(-2, 2, n),
        "risk": rng.normal(size=n),
        "safe": rng.normal(size=n),
        "noise": rng.normal(size=n),
        "sector": pd.array(rng.choice(["agri", "build", "retail", "tech"], n), dtype="str"),
    })
    eff = X["sector"].map({"agri": 0.5, "build": 0.8, "retail": 0.0, "tech": -0.6}).to_numpy()
    logit = -1.6 + 1.2 * X["u_shape"] ** 2 - 1.2 + 1.0 * X["risk"] - 0.8 * X["safe"] + eff
    y = (rng.random(n) < expit(logit)).astype(int)
    return X, y


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return LGBMChallenger(**FAST).fit(X, y)


def _grid_predictions(model, X, feature, grid, rows=15):
    """decision_function along `grid` for `feature`, other features fixed at each of `rows` base rows."""
    base = X.iloc[:rows]
    rep = base.loc[base.index.repeat(len(grid))].reset_index(drop=True)
    rep[feature] = np.tile(grid, rows)
    return model.decision_function(rep).reshape(rows, len(grid))


def test_monotone_constraints_hold_on_a_grid(data):
    X, y = data
    grid = np.linspace(-3, 3, 121)
    free = LGBMChallenger(**FAST).fit(X, y)
    # the unconstrained model learns the U shape: not monotone, so the check below can fail
    assert (np.diff(_grid_predictions(free, X, "u_shape", grid), axis=1) < 0).any()
    mono = LGBMChallenger(**FAST, feature_directions={"u_shape": 1, "safe": -1, "not_a_column": 1}).fit(X, y)
    assert mono.monotone_ == [1, 0, -1, 0, 0]
    assert (np.diff(_grid_predictions(mono, X, "u_shape", grid), axis=1) >= 0).all()
    assert (np.diff(_grid_predictions(mono, X, "safe", grid), axis=1) <= 0).all()


def test_reg_lambda_auto_is_pseudo_rows_at_the_default_rate(fitted, data):
    _, y = data
    p = y.mean()
    assert fitted.reg_lambda_ == pytest.approx(20 * p * (1 - p))
    assert fitted._lgb_params()["lambda_l2"] == fitted.reg_lambda_
    fixed = LGBMChallenger(**FAST, reg_lambda=2.5).fit(*data)
    assert fixed.reg_lambda_ == 2.5
    with pytest.raises(ConfigError, match="reg_lambda"):
        LGBMChallenger(reg_lambda="big").fit(*data)


@pytest.mark.parametrize("key,value", [  # a parameter fuzz: each failed inside LightGBM or with a TypeError
    ("colsample_bytree", 0), ("colsample_bytree", 2.5), ("subsample", float("nan")), ("cat_smooth", -1),
    ("max_bin", 1), ("max_bin", "abc"), ("max_depth", None), ("min_child_samples", -1), ("min_split_gain", -1),
    ("learning_rate", "abc"), ("learning_rate", float("nan")), ("cv_folds", None), ("cv_folds", 2.5),
    ("cv_max_rows", "abc"), ("early_stopping_rounds", None), ("min_rounds", 2.5), ("feature_directions", 2.5),
    ("reg_alpha", float("nan")), ("subsample_freq", -1), ("tuning_grid", 2.5), ("num_leaves", 1),
    ("validation_fraction", 1.0)])
def test_parameters_out_of_their_domain_are_config_errors(data, key, value):
    X, y = data
    with pytest.raises(ConfigError) as e:
        LGBMChallenger(**{**FAST, key: value}).fit(X, y)
    assert e.value.column == key


def test_tuning_candidates_values_are_checked(data):
    X, y = data
    with pytest.raises(ConfigError) as e:
        LGBMChallenger(**FAST, tuning_grid=[{}, {"subsample": 1.5}]).fit(X, y)
    assert e.value.column == "tuning_grid[1].subsample"


def test_direction_config_errors(data):
    X, y = data
    with pytest.raises(ConfigError, match="categorical") as e:
        LGBMChallenger(**FAST, feature_directions={"sector": 1}).fit(X, y)
    assert "sector" in e.value.column
    with pytest.raises(ConfigError, match="expected -1, 0 or"):
        LGBMChallenger(**FAST, feature_directions={"risk": 2}).fit(X, y)
    with pytest.raises(ConfigError, match="inf_policy"):
        LGBMChallenger(inf_policy="drop").fit(X, y)


def test_early_stopping_holdout_is_carved_from_training_rows(data):
    X, y = data
    Xn = X.drop(columns="sector")
    m = LGBMChallenger(**FAST).fit(Xn, y)
    assert m.validation_["kind"] == "holdout"
    assert m.best_iteration_ < FAST["n_estimators"]
    assert m.validation_["rows"] == math.ceil(0.2 * len(y))
    # independent re-computation: the same stratified seeded split of the training rows, plain lightgbm
    tr, va = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
    params = m._lgb_params("auc")
    dtr = lgb.Dataset(Xn.to_numpy(float)[tr], y[tr].astype(float), params={"verbosity": -1})
    dva = lgb.Dataset(Xn.to_numpy(float)[va], y[va].astype(float), reference=dtr)
    b = lgb.train(params, dtr, FAST["n_estimators"], valid_sets=[dva],
                  callbacks=[lgb.early_stopping(FAST["early_stopping_rounds"], verbose=False)])
    assert m.best_iteration_ == b.best_iteration
    # the final model is refitted on all training rows with the rounds scaled by 1 / 0.8
    assert m.n_iter_ == max(FAST["min_rounds"], math.ceil(b.best_iteration / 0.8))


def test_cv_early_stopping_and_explicit_eval_set(data):
    X, y = data
    cv = LGBMChallenger(**{**FAST, "cv_folds": 3}).fit(X, y)
    assert cv.validation_["kind"] == "cv3" and cv.best_iteration_ < FAST["n_estimators"]
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, stratify=y, random_state=1)
    ev = LGBMChallenger(**FAST).fit(Xtr, ytr, eval_set=(Xva, yva))
    assert ev.validation_ == {"kind": "eval_set", "rows": len(yva), "best_iteration": ev.best_iteration_}
    assert ev.n_iter_ == max(ev.best_iteration_, FAST["min_rounds"])


def test_small_data_tuning_picks_the_best_cv_candidate(data):
    X, y = data
    Xn = X.drop(columns="sector").iloc[:1500]
    yn = y[:1500]
    grid = ({}, {"subsample": 1.0, "colsample_bytree": 1.0}, {"num_leaves": 4})
    m = LGBMChallenger(**{**FAST, "cv_folds": 3}, tuning_grid=grid).fit(Xn, yn)
    assert [t["params"] for t in m.tuning_] == list(grid)
    scores = [t["valid_score"] for t in m.tuning_]
    assert m.best_params_ == grid[int(np.argmax(scores))] and m.validation_["params"] == m.best_params_
    # independent check of one candidate: plain lightgbm.cv on the same seeded stratified folds
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(Xn, yn))
    params = {**m._lgb_params("auc", grid[2])}
    assert params["num_leaves"] == 4 and params["lambda_l2"] == pytest.approx(20 * yn.mean() * (1 - yn.mean()))
    res = lgb.cv(params, lgb.Dataset(Xn.to_numpy(float), yn.astype(float), params={"verbosity": -1}),
                 FAST["n_estimators"], folds=folds, callbacks=[lgb.early_stopping(30, verbose=False)])
    assert m.tuning_[2]["valid_score"] == pytest.approx(max(res["valid auc-mean"]), abs=1e-12)
    assert m.tuning_[2]["best_iteration"] == len(res["valid auc-mean"])
    # the refit uses the chosen candidate's settings
    assert m.booster_.params["num_leaves"] == m._lgb_params()["num_leaves"]
    assert len(LGBMChallenger(**{**FAST, "cv_folds": 3}, tuning_grid=()).fit(Xn, yn).tuning_) == 1
    with pytest.raises(ConfigError, match="tuning_grid"):
        LGBMChallenger(tuning_grid=[{"n_estimators": 5}]).fit(Xn, yn)


def test_predictions_do_not_depend_on_other_rows(fitted, data):
    """No batch or test-set leakage: a row's score is the same whatever the other scored rows are."""
    test = _data(n=400, seed=9)[0]
    p = fitted.predict_proba(test)[:, 1]
    changed = test.copy()
    changed.loc[200:, "risk"] = 50.0
    changed.loc[200:, "sector"] = "never_seen"
    p2 = fitted.predict_proba(changed)[:, 1]
    np.testing.assert_array_equal(p[:200], p2[:200])
    np.testing.assert_array_equal(fitted.predict_proba(test.iloc[::-1])[:, 1], p[::-1])
    # the fit itself only sees the training frame: refitting after changing the test rows gives the same model
    again = LGBMChallenger(**FAST).fit(*data)
    assert again.booster_.model_to_string() == fitted.booster_.model_to_string()


def test_contributions_sum_to_log_odds_and_reason_codes(fitted, data):
    X, _ = data
    Xs = X.iloc[:300]
    c = fitted.contributions(Xs)
    assert list(c.columns) == [*X.columns, BASE_VALUE]
    np.testing.assert_allclose(c.sum(axis=1).to_numpy(), fitted.decision_function(Xs), rtol=0, atol=1e-9)
    np.testing.assert_allclose(fitted.predict_proba(Xs)[:, 1], expit(fitted.decision_function(Xs)))
    rc = fitted.reason_codes(Xs, n=3)
    assert list(rc.columns) == ["reason_1", "reason_2", "reason_3"]
    for i in range(len(Xs)):
        row = c.iloc[i].drop(BASE_VALUE)
        pos = row[row > 0].sort_values(ascending=False, kind="stable")
        expected = list(pos.index[:3]) + [None] * (3 - min(3, len(pos)))
        assert rc.iloc[i].tolist() == expected
    # a row made very risky on `risk` names `risk` first
    risky = X.iloc[[0]].copy()
    risky["risk"] = 4.0
    risky["safe"] = 0.0
    assert fitted.reason_codes(risky, n=1).iloc[0, 0] == "risk"


def test_reason_codes_none_without_positive_contribution(data):
    X, y = data
    one = LGBMChallenger(**FAST).fit(X[["risk"]], y)
    c = one.contributions(X[["risk"]].iloc[:500])["risk"].to_numpy()
    rc = one.reason_codes(X[["risk"]].iloc[:500], n=3)
    assert (c <= 0).any() and (c > 0).any()
    assert (rc["reason_1"].isna().to_numpy() == (c <= 0)).all()
    assert rc.loc[c > 0, "reason_1"].eq("risk").all()
    assert rc[["reason_2", "reason_3"]].isna().all().all()


def test_same_seed_bit_for_bit_and_seed_matters(fitted, data):
    X, y = data
    twin = LGBMChallenger(**FAST).fit(X.copy(), y.copy())
    assert twin.booster_.model_to_string() == fitted.booster_.model_to_string()
    np.testing.assert_array_equal(twin.decision_function(X), fitted.decision_function(X))
    other = LGBMChallenger(**FAST, random_state=1).fit(X, y)
    assert not np.array_equal(other.decision_function(X), fitted.decision_function(X))


def test_prediction_threads_change_speed_not_results(fitted, data):
    """predict_n_jobs only sets the prediction threads: log-odds and contributions are bit-for-bit the same."""
    X, _ = data
    outs = []
    for n in (1, 2, None):
        m = copy.deepcopy(fitted).set_params(predict_n_jobs=n)  # the same fitted booster
        assert m._predict_threads() == (n or max(1, os.cpu_count() or 1))
        outs.append((m.decision_function(X), m.contributions(X).to_numpy()))
    for raw, contrib in outs[1:]:
        np.testing.assert_array_equal(raw, outs[0][0])
        np.testing.assert_array_equal(contrib, outs[0][1])
    with pytest.raises(ConfigError, match="predict_n_jobs"):
        LGBMChallenger(**FAST, predict_n_jobs=0).fit(*data)


def test_clone_pipeline_and_cross_validation(fitted, data):
    X, y = data
    c = clone(fitted)
    assert c.get_params() == fitted.get_params() and not hasattr(c, "booster_")
    pipe = Pipeline([("id", FunctionTransformer(None)), ("model", LGBMChallenger(**FAST))]).fit(X, y)
    np.testing.assert_array_equal(pipe.predict_proba(X), fitted.predict_proba(X))
    assert set(pipe.predict(X)) <= {0, 1}
    aucs = cross_val_score(LGBMChallenger(**FAST), X, y, cv=2, scoring="roc_auc")
    assert (aucs > 0.7).all()


def test_categories_unseen_missing_and_dtypes(fitted, data):
    X, _ = data
    rows = X.iloc[:4].copy()
    assert fitted.categorical_features_ == ["sector"]
    assert fitted.category_maps_["sector"] == ["agri", "build", "retail", "tech"]
    odd = rows.copy()
    odd["sector"] = pd.array(["mining", None, "tech", "agri"], dtype="str")
    flags = fitted.unseen_categories(odd)
    assert flags["sector"].tolist() == [True, False, False, False]
    as_missing = odd.copy()
    as_missing.loc[as_missing.index[0], "sector"] = None
    np.testing.assert_array_equal(fitted.decision_function(odd), fitted.decision_function(as_missing))
    # object and category dtypes encode the same as the string dtype
    for dtype in (object, "category"):
        alt = rows.copy()
        alt["sector"] = rows["sector"].astype(dtype)
        np.testing.assert_array_equal(fitted.decision_function(alt), fitted.decision_function(rows))
    imp = fitted.feature_importances_
    assert imp.shape == (5,) and imp[list(X.columns).index("risk")] > imp[list(X.columns).index("noise")]


def test_bad_inputs_name_column_and_row(fitted, data):
    X, y = data
    rows = X.iloc[:5].copy()
    with pytest.raises(InputError) as e:
        fitted.predict_proba(rows.drop(columns="safe"))
    assert e.value.column == "safe"
    bad = rows.copy()
    bad["risk"] = bad["risk"].astype(object)
    bad.iloc[3, bad.columns.get_loc("risk")] = "n/a"
    with pytest.raises(InputError) as e:
        fitted.predict_proba(bad)
    assert (e.value.column, e.value.row) == ("risk", 4)
    inf = rows.copy()
    inf.iloc[2, inf.columns.get_loc("noise")] = -np.inf
    with pytest.raises(InputError) as e:
        fitted.decision_function(inf)
    assert (e.value.column, e.value.row) == ("noise", 3) and "infinite" in str(e.value)
    lenient = LGBMChallenger(**{**FAST, "inf_policy": "nan"}).fit(X, y)
    nan = inf.copy()
    nan.iloc[2, nan.columns.get_loc("noise")] = np.nan
    np.testing.assert_array_equal(lenient.decision_function(inf), lenient.decision_function(nan))
    with pytest.raises(InputError, match="single class"):
        LGBMChallenger(**FAST).fit(X, np.zeros(len(X)))
    with pytest.raises(InputError, match="date"):
        LGBMChallenger(**FAST).fit(X.assign(when=pd.Timestamp("2024-01-01")), y)


def test_fixed_rounds_clone_keeps_the_tree_floor(data):
    """A final fit held at its tree floor gave its calibration fold fits fewer trees than that floor (38 for 50)."""
    X, y = data
    floored = LGBMChallenger(**{**FAST, "min_rounds": 120}).fit(X, y)   # early stopping would stop sooner
    assert floored.best_iteration_ < 120 and floored.n_iter_ == 120
    fold = floored.fixed_rounds_clone(0.75)
    assert fold.n_estimators == 120 and fold.early_stopping_rounds == 0 and fold.min_rounds == 0
    free = LGBMChallenger(**{**FAST, "min_rounds": 5}).fit(X, y)         # above the floor: scaled to the rows
    assert free.n_iter_ > 10
    assert free.fixed_rounds_clone(0.75).n_estimators == max(5, math.ceil(free.n_iter_ * 0.75))
    assert fold.fit(X.iloc[:2250], y[:2250]).n_iter_ == 120


def test_groups_keep_a_borrowers_rows_out_of_the_early_stopping_folds_together():
    """A feature that names the firm (its value shared by the firm's loans) and a firm-level outcome: with folds
    drawn row by row a firm's other loans gave its held-out ones away and the CV AUC, which picks the number of trees
    and the tuning, looked useful. With ``groups`` the folds and the hold-out hold each firm out whole: chance."""
    from creditmodel.scoring.splits import stratified_holdout

    rng = np.random.default_rng(0)
    firms = 400
    firm = np.repeat(np.arange(firms), 4)
    X = pd.DataFrame({"firm_x": rng.uniform(size=firms)[firm] + rng.normal(scale=1e-4, size=len(firm)),
                      "noise": rng.normal(size=len(firm))})
    y = (rng.uniform(size=firms) < 0.25)[firm].astype(int)
    loose = LGBMChallenger(random_state=1, tuning_grid=[{}]).fit(X, y)
    whole = LGBMChallenger(random_state=1, tuning_grid=[{}]).fit(X, y, groups=firm)
    assert loose.validation_["valid_score"] > 0.65                 # the leak the folds let in
    assert abs(whole.validation_["valid_score"] - 0.5) < 0.05      # nothing to learn
    again = LGBMChallenger(random_state=1, tuning_grid=[{}]).fit(X, y, groups=firm)
    assert again.booster_.model_to_string() == whole.booster_.model_to_string()
    # the hold-out used on larger tables keeps firms whole too
    tr, va = stratified_holdout(y, 0.2, 1, firm)
    assert not set(firm[tr]) & set(firm[va]) and abs(len(set(firm[va])) / firms - 0.2) < 0.01
    # three defaulting firms: grouped folds leave most without a default; refused as too few groups, not scored
    few = np.isin(firm, np.flatnonzero(y.reshape(-1, 4)[:, 0])[:3]).astype(int)
    with pytest.raises(InputError, match="only 3 groups \\(borrowers\\) in the smaller class"):
        LGBMChallenger(random_state=1, tuning_grid=[{}]).fit(X, few, groups=firm)
    LGBMChallenger(random_state=1, tuning_grid=[{}], cv_folds=3).fit(X, few)   # row by row: 12 rows, enough
    with pytest.raises(InputError, match="groups: 3 keys for 1600 rows"):
        LGBMChallenger(random_state=1).fit(X, y, groups=[1, 2, 3])
    # a Pipeline routes the groups to the step
    pipe = Pipeline([("id", FunctionTransformer()), ("gbm", LGBMChallenger(random_state=1, tuning_grid=[{}]))])
    assert pipe.fit(X, y, gbm__groups=firm)[-1].validation_ == whole.validation_
