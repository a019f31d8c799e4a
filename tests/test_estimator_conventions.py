"""scikit-learn conventions shared by the estimators: tags, target checks, not-fitted errors, array inputs.

Each test here failed before the fix it guards (found by a review against scikit-learn 1.9's tooling)."""
from __future__ import annotations

import logging
import re

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


def _data(n=1200, seed=0, coef=(-1.0, 1.2, -0.9)):
    """Columns risk, safe, noise (standard normal) and y drawn from logit PD = coef[0] + coef[1] risk + coef[2] safe."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"risk": rng.normal(size=n), "safe": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = (rng.random(n) < expit(coef[0] + coef[1] * X["risk"] + coef[2] * X["safe"])).astype(int).to_numpy()
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
    binner = WoEBinner().fit(X, y)   # an array is read as the fitted columns in order, as the scorecard reads it
    with pytest.warns(UserWarning, match="no column names"):
        woe = binner.transform(X.to_numpy())
    np.testing.assert_array_equal(np.asarray(woe), np.asarray(binner.transform(X)))


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


# --------------------------------------------------------------------------- helper-85's findings (Python API)
def _with_sector(n=1500, seed=3):
    X, y = _data(n, seed)
    rng = np.random.default_rng(seed)
    sector = rng.integers(1, 5, n)
    y = np.where(sector == 3, (rng.random(n) < 0.45).astype(int), y)
    return X.assign(sector=pd.Categorical(sector)), y


@pytest.mark.parametrize("make", [lambda: WoEScorecard(), lambda: LGBMChallenger(**FAST)], ids=["scorecard", "lgbm"])
def test_an_object_column_of_numbers_is_numeric(data, make):
    """Decimal amounts (a database NUMERIC) or astype(object) were binned as categories: each amount a level,
    most new rows 'unseen' (test AUC 0.71 -> 0.58)."""
    from decimal import Decimal

    X, y = data
    as_dec = X.assign(risk=[Decimal(str(round(v, 6))) for v in X["risk"]])
    as_obj = X.assign(risk=X["risk"].round(6).astype(object))
    ref = make().fit(X.assign(risk=X["risk"].round(6)), y)
    new, _ = _data(300, seed=9)
    new = new.assign(risk=new["risk"].round(6))
    for Xo in (as_dec, as_obj):
        est = make().fit(Xo, y)
        np.testing.assert_array_equal(est.predict_proba(new), ref.predict_proba(new))
    assert getattr(est, "categorical_features_", []) == []


def test_a_whole_float_category_is_the_integer_category():
    """A NaN in a scoring batch makes an integer category column float: 3.0 was 'not seen' (the challenger
    scored every row of the batch as missing; CreditModel refused them), so a firm's answer depended on the
    other rows of its batch."""
    from creditmodel.scoring.train import train_frame

    X, y = _with_sector()
    new = X.iloc[:50].copy()
    batch = new.assign(sector=new["sector"].astype(float))
    batch.loc[batch.index[0], "sector"] = np.nan        # one NaN: the column is float
    lg = LGBMChallenger(**FAST).fit(X, y)
    assert not lg.unseen_categories(batch).to_numpy().any()
    np.testing.assert_array_equal(lg.predict_proba(batch)[1:], lg.predict_proba(new)[1:])
    model = train_frame(X.assign(bad=y), "bad", seed=1).model
    assert "sector" in model.input_spec.categorical
    a, b = model.score_frame(batch), model.score_frame(new.assign(sector=new["sector"].astype(int)))
    assert (a["status"].iloc[1:] == "ok").all(), a["error"].dropna().head(3).tolist()
    np.testing.assert_array_equal(a["pd_12m"].to_numpy()[1:], b["pd_12m"].to_numpy()[1:])


def test_object_numbers_are_a_numeric_input_of_a_credit_model():
    from decimal import Decimal

    from creditmodel.scoring.model import InputSpec

    X = pd.DataFrame({"amt": [Decimal("1.5"), None, Decimal("2")], "n": pd.Series([1, 2.5, None], dtype=object),
                      "code": ["01", "02", None], "flag": pd.Series([True, False, None], dtype=object)})
    spec = InputSpec.from_frame(X)
    assert spec.numeric == ["amt", "n"] and set(spec.categorical) == {"code", "flag"}


@pytest.mark.parametrize("make", [lambda **k: WoEScorecard(**k), lambda **k: LGBMChallenger(**FAST, **k)],
                         ids=["scorecard", "lgbm"])
def test_a_misspelt_column_in_the_settings_is_a_warning(data, make, caplog):
    """special_codes={'dbet': [-999]} left -999 in the lowest regular bin with the best points, without a word;
    a misspelt direction left the feature unconstrained."""
    X, y = data
    kw = {"feature_directions": {"Risk": 1, "safe": -1}}
    if "Scorecard" in type(make()).__name__:
        kw.update(special_codes={"nosie": [-999]}, categorical_features=["zone"])
    with caplog.at_level("WARNING"):
        make(**kw).fit(X, y)
    text = caplog.text
    assert "feature_directions names 1 column(s) that are not in the data" in text and "'Risk'" in text
    assert "'safe'" not in text
    if "special_codes" in kw:
        assert "special_codes names 1 column(s)" in text and "'nosie'" in text and "'zone'" in text
    with pytest.raises(ValueError, match="got True"):
        make(feature_directions={"risk": True}).fit(X, y)


def test_set_params_after_fit_changes_nothing_fitted(data):
    """set_params(pdo=40, base_score=500, unseen='neutral') after fit moved raw_score and the exported card's
    header (pdo, offset, unseen rule) while the points stayed those of the fit."""
    X, y = data
    sc = WoEScorecard().fit(X, y)
    before = (sc.points(X), sc.raw_score(X), sc.to_json(), sc.to_sql())
    sc.set_params(pdo=40, base_score=500, unseen="neutral")
    after = (sc.points(X), sc.raw_score(X), sc.to_json(), sc.to_sql())
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]
    refit = sc.fit(X, y)   # a refit takes the new parameters
    assert refit.to_dict()["scaling"]["pdo"] == 40 and refit.to_dict()["rules"]["unseen"] == "neutral"
    assert refit.factor_ == pytest.approx(40 / np.log(2)) and not np.array_equal(refit.points(X), before[0])


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_blank_category_text_is_missing_in_python_as_in_sql(engine):
    """A blank text ('', spaces, a tab) was a category of its own (or 'unseen', the worst points) in points()
    and missing in the SQL export: two scores for one row."""
    import sqlite3

    rng = np.random.default_rng(4)
    n = 3000
    sector = rng.choice(["A", "B", "C", "", None], n, p=[0.3, 0.3, 0.2, 0.1, 0.1]).astype(object)
    risk = rng.normal(size=n)
    p = expit(-1.5 + risk + np.select([sector == "A", sector == "C"], [0.8, -0.6], 0.0))
    y = (rng.random(n) < p).astype(int)
    X = pd.DataFrame({"risk": risk, "sector": sector})
    sc = WoEScorecard(min_iv=0.0).fit(X, y)
    assert "sector" in sc.selected_features_
    assert sc.binner_.bins_["sector"].count[sc.binner_.bins_["sector"].missing_slot] == int(
        pd.isna(sector).sum() + (sector == "").sum())          # '' trained as missing
    rows = pd.DataFrame({"id": range(6), "risk": [0.1] * 6, "sector": ["", "  ", "\t", None, "A", "Z"]})
    if engine == "duckdb":
        duckdb = pytest.importorskip("duckdb")
        con = duckdb.connect()
    else:
        con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE apps (id INTEGER, risk DOUBLE, sector VARCHAR)")
    con.executemany("INSERT INTO apps VALUES (?, ?, ?)",
                    rows.astype(object).where(rows.notna(), None).values.tolist())
    got = [r[1] for r in con.execute(sc.to_sql(table="apps", id_col="id", score_col="score") + " ORDER BY id").fetchall()]
    py = sc.points(rows[["risk", "sector"]]).tolist()
    assert got == py and py[0] == py[1] == py[2] == py[3] != py[5]


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_sql_of_a_number_column_binned_as_categories(engine):
    """DuckDB refused the SQL of a card whose categorical_features named an int64 or float column
    (Binder Error: no trim(BIGINT, ...)); SQLite gave the library's scores."""
    import sqlite3

    rng = np.random.default_rng(5)
    n = 3000
    code = rng.integers(1, 5, n)
    risk = rng.normal(size=n)
    y = (rng.random(n) < expit(-1.5 + risk + 0.9 * (code == 3))).astype(int)
    for col in (code, code.astype(float)):
        X = pd.DataFrame({"risk": risk, "code": col})
        sc = WoEScorecard(categorical_features=["code"], min_iv=0.0).fit(X, y)
        assert sc.binner_.bins_["code"].dtype == "categorical" and "code" in sc.selected_features_
        rows = pd.DataFrame({"id": range(5), "risk": [0.0] * 5, "code": [1, 2, 3, 4, 7]}).astype({"code": col.dtype})
        if engine == "duckdb":
            con = pytest.importorskip("duckdb").connect()
        else:
            con = sqlite3.connect(":memory:")
        kind = "BIGINT" if col.dtype.kind == "i" else "DOUBLE"
        con.execute(f"CREATE TABLE apps (id INTEGER, risk DOUBLE, code {kind})")
        con.executemany("INSERT INTO apps VALUES (?, ?, ?)", [[int(i), float(r), col.dtype.type(c).item()]
                                                              for i, r, c in zip(rows["id"], rows["risk"],
                                                                                 rows["code"])])
        sql = sc.to_sql(table="apps", id_col="id", score_col="score", flag_col="bad_inputs") + " ORDER BY id"
        got = con.execute(sql).fetchall()
        assert [r[1] for r in got] == sc.points(rows[["risk", "code"]]).tolist()
        assert [r[2] for r in got] == [0, 0, 0, 0, 1]     # 7 was not seen


@pytest.mark.parametrize("name, value", [("higher_is_riskier", "False"), ("strict", 1), ("se_rule", np.nan),
                                         ("se_rule", -5), ("cv", 2.5), ("cv", "5"), ("pd_floor", "0.001"),
                                         ("pd_cap", "0.9")])
def test_calibrator_parameters_are_checked(name, value):
    """higher_is_riskier='False' (truthy text) gave every row the same PD; a NaN or negative se_rule, cv=2.5 and
    cv='5' were taken; pd_floor='0.001' was a bare TypeError."""
    raw = np.linspace(-2, 2, 400)
    y = (np.random.default_rng(0).random(400) < expit(raw - 1)).astype(int)
    with pytest.raises(ConfigError, match=name):
        PDCalibrator(**{name: value}).fit(raw, y)


def test_challenger_min_rounds_is_capped_at_n_estimators(data):
    """LGBMChallenger(n_estimators=20) failed on min_rounds (default 50), a parameter the user never set."""
    X, y = data
    lg = LGBMChallenger(n_estimators=20, cv_folds=0).fit(X, y)
    assert lg.n_iter_ <= 20


def test_a_scorecard_on_a_handful_of_defaults_warns(caplog):
    rng = np.random.default_rng(6)
    X = pd.DataFrame({"a": rng.normal(size=2000), "b": rng.normal(size=2000)})
    y = np.zeros(2000, dtype=int)
    y[[3, 500, 1700]] = 1
    with caplog.at_level("WARNING"):
        WoEScorecard(min_iv=0.0).fit(X, y)
    assert "only 3 row(s) of the rarer class" in caplog.text
    caplog.clear()
    Xd, yd = _data()
    with caplog.at_level("WARNING"):
        WoEScorecard().fit(Xd, yd)
    assert "rarer class" not in caplog.text


@pytest.mark.parametrize("est", [WoEBinner(), WoEScorecard(), LGBMChallenger(**FAST)], ids=type)
def test_fit_without_y_is_a_value_error_saying_so(data, est):
    """fit(X) raised a TypeError (missing argument), where scikit-learn's convention is a ValueError."""
    X, _ = data
    with pytest.raises(ValueError, match="requires y to be passed"):
        est.fit(X)


def test_scikit_learns_own_checks_run_on_the_scorecard():
    """check_estimator stopped at once (a transform without transformer tags); the checks a 0/1 scorecard should
    pass now run and pass (others fail by design: multi-class targets, tiny random tables with no feature)."""
    import logging
    import warnings

    import scipy.sparse
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            res = check_estimator(WoEScorecard(), on_fail=None)
        finally:
            logging.disable(logging.NOTSET)
    passed = {r["check_name"] for r in res if r["status"] == "passed"}
    assert {"check_requires_y_none", "check_fit_idempotent", "check_estimators_pickle", "check_set_params",
            "check_no_attributes_set_in_init", "check_estimators_unfitted", "check_get_params_invariance"} <= passed
    X, y = _data(200)
    for est in (WoEScorecard(), LGBMChallenger(**FAST)):
        with pytest.raises(InputError, match="sparse input is not supported"):
            est.fit(scipy.sparse.csr_matrix(X.to_numpy()), y)


def test_category_levels_of_older_models_and_csv_text_still_match():
    """Once whole floats were keyed as integers, a model saved before (levels '1.0') refused every row of its own
    training frame, and a new model with levels from numbers refused a CSV's '1.0'; a blank text was a LightGBM
    label of its own, scored apart from '  ' and None."""
    from creditmodel.scoring.challenger import _category_codes
    from creditmodel.scoring.model import InputSpec

    old = InputSpec(numeric=[], categorical={"code": ["1.0", "2.0"]})          # as saved before the change
    _, err = old.check(pd.DataFrame({"code": pd.Series([1.0, 2.0, np.nan])}))
    assert list(err) == [None, None, None]
    new = InputSpec.from_frame(pd.DataFrame({"code": pd.Categorical([1.0, 2.0, np.nan])}))
    assert new.categorical == {"code": ["1", "2"]}
    clean, err = new.check(pd.DataFrame({"code": ["1.0", "2", "3", "  "]}))   # text as a CSV gives it
    assert list(err[:2]) == [None, None] and "'3' was not seen" in err[2] and err[3] is None
    assert clean["code"].tolist()[:2] == ["1", "2"] and pd.isna(clean["code"].iloc[3])
    assert _category_codes(pd.Series([1.0, "2.0", "x"], dtype=object), ["1.0", "2.0"]).tolist() == [0, 1, -1]
    assert InputSpec.from_frame(pd.DataFrame({"s": ["A", "", " ", None]})).categorical == {"s": ["A"]}
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"s": rng.choice(["A", "B", ""], 3000), "x": rng.normal(size=3000)})
    y = (rng.random(3000) < expit(-1.5 + X["x"] + (X["s"] == "A"))).astype(int)
    lg = LGBMChallenger(**FAST).fit(X, y)
    assert lg.category_maps_["s"] == ["A", "B"]
    p = lg.predict_proba(pd.DataFrame({"s": ["", "  ", None], "x": [0.0, 0.0, 0.0]}))[:, 1]
    assert p[0] == p[1] == p[2]
    assert not lg.unseen_categories(pd.DataFrame({"s": ["", "  "], "x": [0.0, 0.0]})).to_numpy().any()


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_sql_compares_text_codes_as_text(engine):
    """A card of text codes ('01', '02', 'A'): a bank's INTEGER column holding 1 compared equal to '01' in both
    engines (the row scored with 01's points, input_errors 0, where the scorer refuses it), and DuckDB failed on
    a group holding 'A' (Conversion Error)."""
    import sqlite3

    rng = np.random.default_rng(8)
    n = 3000
    code = rng.choice(["01", "02", "A"], n)
    risk = rng.normal(size=n)
    y = (rng.random(n) < expit(-1.5 + risk + 0.9 * (code == "02"))).astype(int)
    sc = WoEScorecard(min_iv=0.0).fit(pd.DataFrame({"risk": risk, "code": code}), y)
    assert "code" in sc.selected_features_ and sc.binner_.bins_["code"].text_levels
    sql = sc.to_sql(table="apps", id_col="id", score_col="score", flag_col="bad_inputs") + " ORDER BY id"
    con = pytest.importorskip("duckdb").connect() if engine == "duckdb" else sqlite3.connect(":memory:")
    con.execute("CREATE TABLE apps (id INTEGER, risk DOUBLE, code VARCHAR)")
    con.executemany("INSERT INTO apps VALUES (?, ?, ?)", [[0, 0.0, "01"], [1, 0.0, "A"], [2, 0.0, "1"]])
    got = con.execute(sql).fetchall()
    py = sc.points(pd.DataFrame({"risk": [0.0] * 3, "code": ["01", "A", "1"]})).tolist()
    assert [r[1] for r in got] == py and [r[2] for r in got] == [0, 0, 1]
    con.execute("CREATE TABLE ints (id INTEGER, risk DOUBLE, code BIGINT)")
    con.executemany("INSERT INTO ints VALUES (?, ?, ?)", [[0, 0.0, 1], [1, 0.0, 2]])
    got = con.execute(sql.replace("apps", "ints")).fetchall()
    assert [r[2] for r in got] == [1, 1]                  # 1 and 2 are not the codes 01 and 02


def test_setting_notes_are_said_by_the_final_fit_not_by_each_fold(caplog):
    """train fits the estimator once per calibration fold and once on all rows: an unknown column or few defaults
    was said five times, and by fold fits on 3/4 of the rows where the final fit had enough defaults."""
    from creditmodel.scoring.train import fit_credit_model

    X, y = _data(1500, seed=4)
    with caplog.at_level("WARNING"):
        fit_credit_model(X, y, X.iloc[:0], y[:0], "scorecard", "t", calibration_folds=4,
                         estimator_params={"special_codes": {"nosie": [-999]}})
    assert caplog.text.count("special_codes names 1 column(s)") == 1


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_trained_model_says_its_fit_notes_once_not_once_per_calibration_fold(caplog, n_jobs):
    """Notebook 03 printed 147 INFO lines: each calibration fold's fit said which features it selected, its
    points model, its missing bins set to WoE 0, its trees. The final fit says them, once."""
    from creditmodel.scoring.train import train_frame

    X, y = _with_sector()
    for kind, line in (("scorecard", "scorecard fitted:"), ("lightgbm", "LGBMChallenger:")):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="creditmodel"):
            train_frame(X.assign(bad=y), "bad", seed=1, kind=kind, calibration_folds=4, n_jobs=n_jobs,
                        estimator_params=dict(FAST) if kind == "lightgbm" else None)
        said = [r for r in caplog.records if r.getMessage().startswith(line)]
        assert len(said) == 1, (kind, len(said))
        assert not [r for r in caplog.records if r.levelno >= logging.INFO
                    and re.search(r"calibration fold \d+/\d+ fitted", r.getMessage())]
