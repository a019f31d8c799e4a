"""Exact values from a mutation pass over the LightGBM challenger, the validation report's status, the champion
promotion gate and the bank deliverable's sidecar counts: each test pins a value or relation derived by hand or
from the documented rule (never copied from the code's own output)."""
from __future__ import annotations

import math

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.model_selection import StratifiedKFold

from creditmodel.scoring.challenger import BASE_VALUE, LGBMChallenger

FAST = {"n_estimators": 300, "learning_rate": 0.1, "early_stopping_rounds": 30, "min_rounds": 10, "cv_folds": 0}


def _data(n=2000, seed=0):
    from test_estimator_conventions import _data as risk_safe_noise

    return risk_safe_noise(n, seed, coef=(-1.5, 1.0, -0.8))


@pytest.fixture(scope="module")
def data():
    return _data()


# ------------------------------------------------------------------------------------------------ challenger
def test_a_feature_contributing_exactly_nothing_is_no_reason(data):
    """A constant column cannot be split on: its pred_contrib is exactly 0 on every row, and a reason is a
    feature pushing the risk *up* (contribution > 0), so it is never named."""
    X, y = data
    Xc = X[["risk"]].assign(const=0.0)
    m = LGBMChallenger(**FAST).fit(Xc, y)
    c = m.contributions(Xc.iloc[:400])
    assert (c["const"] == 0.0).all()
    rc = m.reason_codes(Xc.iloc[:400], n=2)
    assert not rc.isin(["const"]).any().any()
    assert rc["reason_2"].isna().all()
    assert (rc["reason_1"].notna().to_numpy() == (c["risk"] > 0).to_numpy()).all()


def test_equal_contributions_are_ranked_by_column_order(data):
    """"largest first, ties by column order": contributions given by hand, three features tied."""
    X, y = data
    m = LGBMChallenger(**FAST).fit(X, y)
    rows = np.array([[0.5, 0.5, 0.5, 0.0],      # risk, safe, noise, base: a three-way tie
                     [0.2, 0.7, 0.7, 0.0],      # safe and noise tied behind nothing larger
                     [0.0, 0.3, 0.3, 0.0]])     # risk gives nothing
    fake = pd.DataFrame(rows, columns=[*X.columns, BASE_VALUE])
    m.contributions = lambda _X: fake          # the instance's own contributions, for the ranking rule alone
    got = m.reason_codes(X.iloc[:3], n=3)
    assert got.values.tolist() == [["risk", "safe", "noise"], ["safe", "noise", "risk"], ["safe", "noise", None]]


def test_log_loss_early_stopping_picks_the_lowest_loss(data):
    """eval_metric='binary_logloss' is minimised: the chosen round and score are those of the lowest mean fold
    log-loss of plain lightgbm.cv on the same seeded stratified folds."""
    X, y = data
    m = LGBMChallenger(**{**FAST, "cv_folds": 3, "eval_metric": "binary_logloss"}, tuning_grid=()).fit(X, y)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    res = lgb.cv(m._lgb_params("binary_logloss", {}), lgb.Dataset(X.to_numpy(float), y.astype(float),
                                                                   params={"verbosity": -1}),
                 FAST["n_estimators"], folds=folds, callbacks=[lgb.early_stopping(30, verbose=False)])
    curve = np.asarray(res["valid binary_logloss-mean"])
    assert m.best_iteration_ == int(np.argmin(curve)) + 1 > 1
    assert m.validation_["valid_score"] == pytest.approx(curve.min(), abs=1e-12)


def test_cv_stopping_scales_the_trees_by_the_folds_share(data):
    """k-fold early stopping: each fold fit saw (k-1)/k of the rows, so the final fit grows best x k/(k-1) trees
    (at least min_rounds, at most n_estimators)."""
    X, y = data
    m = LGBMChallenger(**{**FAST, "cv_folds": 4, "learning_rate": 0.02, "min_rounds": 1}, tuning_grid=()).fit(X, y)
    expected = min(FAST["n_estimators"], max(1, math.ceil(m.best_iteration_ * 4 / 3)))
    assert expected > m.best_iteration_ > 1            # the scaling, not the floor, decides
    assert m.n_iter_ == expected and m.validation_["n_rounds_refit"] == expected



def test_early_stopping_on_an_eval_set_keeps_at_least_min_rounds_trees():
    """``min_rounds`` is the lower bound on the trees kept after early stopping, on the eval_set path too: lgb.train
    cut the booster at its best round, so a best round of 1 kept 1 tree (a bug the mutation pass found). The
    floored model is the one grown with exactly that many trees, without early stopping."""
    X, y = _data(2000, 0)
    Xv, yv = _data(800, 3)
    params = {**FAST, "early_stopping_rounds": 5, "min_rounds": 40}
    m = LGBMChallenger(**params).fit(X, y, eval_set=(Xv, 1 - yv))     # labels flipped: the best round is the first
    assert m.best_iteration_ < 40 and m.n_iter_ == 40 == m.booster_.current_iteration()
    plain = LGBMChallenger(**{**params, "n_estimators": 40, "early_stopping_rounds": 0}).fit(X, y)
    np.testing.assert_array_equal(m.decision_function(Xv), plain.decision_function(Xv))
    # above the floor, the best round decides and the trees past it are dropped
    m2 = LGBMChallenger(**{**params, "min_rounds": 2}).fit(X, y, eval_set=(Xv, yv))
    assert m2.n_iter_ == m2.best_iteration_ == m2.booster_.current_iteration() > 2

# ------------------------------------------------------------------------------------------------ validation report
def _sample(n=6000, seed=1):
    """A calibrated, discriminating sample: y drawn from its own PD."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    pdv = expit(-3.0 + 1.1 * z)
    y = (rng.uniform(size=n) < pdv).astype(int)
    return rng, y, pdv


def _worst_by_hand(lights) -> str:
    """red > amber > green; info and n/a never count (DESIGN: the status is the worst graded light)."""
    lights = list(lights)
    return "red" if "red" in lights else "amber" if "amber" in lights else "green" if "green" in lights else "n/a"


def test_the_metrics_json_status_is_the_worst_light_amber_included():
    """An amber light (AUC under a raised green bar) with no red one: the status, in metrics.json as on the
    result, is amber."""
    from creditmodel.validation.report import build_report

    _, y, pdv = _sample()
    res = build_report(y, pdv, n_boot=20, thresholds={"auc": {"green": 0.99, "red": 0.5}})
    lights = res.lights.set_index("check")["light"]
    assert lights["auc"] == "amber" and "red" not in set(lights)
    assert _worst_by_hand(res.lights["light"]) == "amber"
    assert res.status == "amber" and res.metrics["status"] == "amber"


def test_the_challenger_comparison_is_informative_and_sets_no_light():
    """A far weaker challenger (paired DeLong p ~ 0) is reported, not judged: the champion's status is what it is
    without the comparison."""
    from creditmodel.validation.report import Challenger, build_report

    rng, y, pdv = _sample()
    alone = build_report(y, pdv, n_boot=20)
    assert alone.status in ("green", "amber")             # not red already: the comparison could change it
    weak = Challenger("coin", pd=np.clip(rng.uniform(0.01, 0.1, len(y)), 0, 1))
    both = build_report(y, pdv, n_boot=20, challenger=weak)
    row = both.lights.set_index("check").loc["delong_challenger_p"]
    assert row["value"] < 1e-6 and row["light"] == "info"
    assert both.status == alone.status and both.metrics["status"] == alone.status


def test_the_missing_value_calibration_is_informative_and_sets_no_light():
    """Rows missing an input default four times as often as their PD says: the check rejects it (note 'rejected:')
    but, informative, leaves the status as it is without the features."""
    from creditmodel.validation.report import build_report

    rng, y, pdv = _sample(n=8000, seed=2)
    miss = np.zeros(len(y), dtype=bool)
    miss[rng.choice(len(y), 400, replace=False)] = True
    y = y.copy()
    y[miss] = (rng.uniform(size=miss.sum()) < np.minimum(1, 4 * pdv[miss])).astype(int)
    # the other rows default a little less, so that the portfolio as a whole is not underestimated
    keep = ~miss & (y == 1)
    excess = int(y[miss].sum() - pdv[miss].sum())
    y[rng.choice(np.flatnonzero(keep), max(excess, 0), replace=False)] = 0
    x = np.where(miss, np.nan, rng.normal(size=len(y)))
    feats = pd.DataFrame({"x": x})
    plain = build_report(y, pdv, n_boot=20)
    assert plain.status != "red"
    res = build_report(y, pdv, n_boot=20, features=feats)
    row = res.lights.set_index("check").loc["missing_value_calibration"]
    assert row["light"] == "info" and row["note"].startswith("rejected: ") and row["value"] < 0.01
    assert res.status == plain.status and res.metrics["status"] == plain.status


def test_hosmer_lemeshow_degrees_of_freedom_in_and_out_of_sample():
    """G groups: df = G out of sample (validation), G - 2 when the PDs were fitted on this sample; p is the chi^2
    upper tail at that df."""
    from scipy.stats import chi2

    from creditmodel.validation.report import build_report

    _, y, pdv = _sample()
    out = build_report(y, pdv, n_boot=20).metrics
    ins = build_report(y, pdv, n_boot=20, hl_in_sample=True).metrics
    g = out["hosmer_lemeshow_groups"]
    assert g == ins["hosmer_lemeshow_groups"] >= 5
    assert out["hosmer_lemeshow_df"] == g and ins["hosmer_lemeshow_df"] == g - 2
    assert out["hosmer_lemeshow"] == pytest.approx(ins["hosmer_lemeshow"])
    assert out["hosmer_lemeshow_p"] == pytest.approx(chi2.sf(out["hosmer_lemeshow"], g))
    assert ins["hosmer_lemeshow_p"] == pytest.approx(chi2.sf(ins["hosmer_lemeshow"], g - 2))


# ------------------------------------------------------------------------------------------------ bank deliverable
@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    from model_factory import train_small
    from test_in_default import _frame as loans      # loan_id, income, debt_ratio, bad

    return train_small(tmp_path_factory, loans(), id_col="loan_id", seed=5)


def test_sidecar_counts_over_three_chunks_by_hand(small_model, tmp_path):
    """Nine rows in three chunks of three, each row's fate set by hand:

    row 0 inside the training range; row 1 at the income maximum and the debt_ratio minimum (the range's ends are
    inside); row 2 above on income but flagged in default (grade D: not counted outside); row 3 above on income
    only; row 4 below on income and above on debt_ratio (one row); row 5 above on income but a repeated id (refused
    by the row checks: an error, not counted); rows 6 and 7 flagged in default; row 8 above on income, last chunk.
    So: rows 9 in and out, rows_ok 8, rows_error 1, rows_in_default 3 (rows 2, 6, 7), rows outside 3 (3, 4, 8)."""
    import json

    from creditmodel.delivery import deliver_file
    from creditmodel.scoring.score import resolve_model

    resolved = resolve_model(small_model)
    rng = resolved.model.metadata["training_range"]
    (ilo, ihi), (dlo, dhi) = rng["income"], rng["debt_ratio"]
    mid_i, mid_d = (ilo + ihi) / 2, (dlo + dhi) / 2
    df = pd.DataFrame({
        "loan_id": [f"A{i}" for i in range(9)],
        "income": [mid_i, ihi, 10 * ihi, 10 * ihi, ilo / 2, 10 * ihi, mid_i, mid_i, 10 * ihi],
        "debt_ratio": [mid_d, dlo, mid_d, mid_d, dhi + 1, mid_d, mid_d, mid_d, mid_d],
        "in_default": ["0", "0", "1", "", "0", "0", "1", "true", "no"],
    })
    df.loc[5, "loan_id"] = df.loc[4, "loan_id"]
    df.to_parquet(tmp_path / "in.parquet", index=False, row_group_size=3)
    res = deliver_file(resolved, tmp_path / "in.parquet", tmp_path / "d.parquet", id_col="loan_id", chunk_rows=3,
                       progress=False)
    side = json.loads(res.files["sidecar"].read_text(encoding="utf-8"))
    got = pd.read_parquet(res.files["parquet"])
    assert len(got) == 9 and got["loan_id"].tolist() == df["loan_id"].tolist()        # rows in = rows out, in order
    assert got["status"].tolist() == ["ok"] * 5 + ["error"] + ["ok"] * 3
    assert (side["rows"], side["rows_ok"], side["rows_error"]) == (9, 8, 1)
    assert side["rows_in_default"] == 3
    assert got.loc[[2, 6, 7], "grade"].eq("D").all()
    assert side["rows_outside_training_range"] == 3
    assert side["outside_training_range"]["income"]["above"] == 2          # rows 3 and 8
    assert side["outside_training_range"]["income"]["below"] == 1          # row 4
    assert side["outside_training_range"]["debt_ratio"] == {"below": 0, "above": 1, "first_row": 5,
                                                            "training_min": dlo, "training_max": dhi}
    # the ok rows without a suggested rate, counted from the rows themselves
    unpriced = int((got["status"].eq("ok") & got["suggested_rate"].isna()).sum())
    assert side["rows_ok_not_priced"] == unpriced >= 3                     # at least the three in default


# ------------------------------------------------------------------------------------------------ LightGBM model
@pytest.fixture(scope="module")
def lgbm_ct():
    """A LightGBM model whose missing tax grade costs (1.5 log-odds), calibrated to a 3 % central tendency."""
    from creditmodel.scoring.train import train_frame

    rng = np.random.default_rng(5)
    n = 4000
    grade = rng.integers(0, 5, size=n).astype(float)
    none = rng.uniform(size=n) < 0.15
    lev, liq = rng.normal(size=n), rng.normal(size=n)
    risk = -3.2 + 0.5 * grade + 1.5 * none + 0.8 * lev - 0.6 * liq
    bad = (rng.uniform(size=n) < expit(risk)).astype(int)
    grade[none] = np.nan
    df = pd.DataFrame({"tax_grade_worst_3y": grade, "lev": lev, "liq": liq, "bad": bad})
    model = train_frame(df, "bad", kind="lightgbm", seed=2, calibration_folds=0, central_tendency=0.03,
                        estimator_params={**FAST, "min_rounds": 30}).model
    return model, df


def test_a_lightgbm_reason_from_a_missing_value_says_it_is_missing(lgbm_ct):
    """The challenger's reasons in the deliverable are its own reason_codes (the three largest positive
    contributions, in that order), and one whose value is missing is '<code>.missing' as for the scorecard."""
    model, _ = lgbm_ct
    X = pd.DataFrame({"tax_grade_worst_3y": [np.nan, 4.0, np.nan, 0.0], "lev": [2.0, 1.0, 0.5, 3.0],
                      "liq": [-2.0, -1.5, -1.0, -3.0]})
    out = model.score_frame(X)
    c = model.estimator.contributions(X)
    assert c.loc[0, "tax_grade_worst_3y"] > 0 and c.loc[2, "tax_grade_worst_3y"] > 0   # missing costs here
    for i in range(len(X)):
        row = c.iloc[i].drop(BASE_VALUE)
        pos = row[row > 0].sort_values(ascending=False, kind="stable")
        want = [f + ".missing" if pd.isna(X.loc[i, f]) else f for f in pos.index[:3]]
        want += [None] * (3 - len(want))
        got = [None if pd.isna(v) else str(v) for v in out.loc[i, ["reason_1", "reason_2", "reason_3"]]]
        assert got == want, (i, row.to_dict())
    assert "tax_grade_worst_3y.missing" in {out.loc[0, "reason_1"], out.loc[0, "reason_2"], out.loc[0, "reason_3"]}


def test_the_lightgbm_pd_is_the_calibration_of_its_log_odds(lgbm_ct):
    """The delivered pd_12m is the calibrator's map of the booster's log-odds (not the booster's own probability):
    calibrated to a central tendency of 3 % on a sample defaulting about 12 %, the mean PD is near 3 %."""
    model, df = lgbm_ct
    X = df.drop(columns="bad")
    out = model.score_frame(X)
    raw = model.estimator.decision_function(X)
    assert df["bad"].mean() > 0.08
    np.testing.assert_allclose(out["pd_12m"].to_numpy(float), model.calibrator.predict(raw), rtol=1e-12, atol=0)
    assert out["pd_12m"].mean() == pytest.approx(0.03, abs=0.01)
    assert abs(expit(raw).mean() - 0.03) > 0.04        # the booster's own probabilities are not these
    # the number of trees was chosen on a hold-out carved from the training rows (cv_folds=0), not on the validation
    # rows the calibrator learns on (an eval_set)
    assert model.estimator.validation_["kind"] == "holdout"


def test_the_challenger_takes_its_monotone_signs_from_the_catalogue():
    """An older firm is safer (direction -1), a larger active penalty riskier (+1): the challenger trained with the
    packaged catalogue is constrained that way, and its log-odds move that way along a grid."""
    from creditmodel.features import catalogue
    from creditmodel.scoring.train import train_frame

    cat = catalogue()
    dirs = dict(zip(cat["code"], cat["direction"]))
    assert dirs["firm_age_years"] == -1 and dirs["penalty_active_amount"] == 1
    rng = np.random.default_rng(8)
    n = 3000
    age = rng.uniform(0, 30, n)
    pen = rng.exponential(5.0, n)
    # a U-shaped age effect: unconstrained trees would let the risk rise again for old firms
    bad = (rng.uniform(size=n) < expit(-2.5 + 0.01 * (age - 15) ** 2 - 0.03 * age + 0.15 * pen)).astype(int)
    df = pd.DataFrame({"firm_age_years": age, "penalty_active_amount": pen, "bad": bad})
    est = train_frame(df, "bad", kind="lightgbm", seed=3, catalogue=cat, calibration_folds=0,
                      estimator_params={**FAST, "min_rounds": 30}).model.estimator
    assert dict(zip(est.feature_names_in_, est.monotone_)) == {"firm_age_years": -1, "penalty_active_amount": 1}
    grid = np.linspace(0, 30, 61)
    base = pd.DataFrame({"firm_age_years": grid, "penalty_active_amount": 5.0})
    assert (np.diff(est.decision_function(base)) <= 0).all()
    base = pd.DataFrame({"firm_age_years": 10.0, "penalty_active_amount": np.linspace(0, 30, 61)})
    assert (np.diff(est.decision_function(base)) >= 0).all()
