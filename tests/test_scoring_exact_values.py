"""Tests written after a manual mutation-testing pass over the scoring numerics: each one catches a wrong number
that the rest of the suite let through (a mutant of scorecard.py, binning.py, master_scale.py or calibration.py).

Every expected value comes from a formula in the docs (DOMAIN.md B3 and C2, the module docstrings) worked out by
hand here, never from the code's own output.
"""
from __future__ import annotations

import logging
import math
import sqlite3

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from creditmodel.errors import ConfigError
from creditmodel.scoring.binning import FeatureBins, WoEBinner
from creditmodel.scoring.calibration import PDCalibrator
from creditmodel.scoring.master_scale import MasterScale
from creditmodel.scoring.scorecard import WoEScorecard

from model_factory import two_feature_frame

#: DOMAIN.md B3 with the library's defaults: 600 points at odds 50:1, 20 points to double the odds
PDO, BASE_SCORE, BASE_ODDS = 20.0, 600.0, 50.0
FACTOR = 28.85390081777927           # 20 / ln 2
OFFSET = 487.1228762045055           # 600 - 20 / ln 2 * ln 50


@pytest.fixture(scope="module")
def two():
    df = two_feature_frame(3000, seed=1)
    return df[["x1", "x2"]], df["bad"].to_numpy()


@pytest.fixture(scope="module")
def card(two):
    X, y = two
    return WoEScorecard(points_model="woe", shape_cv=0).fit(X, y)


# --------------------------------------------------------------------------------------- scorecard
def test_the_exported_scaling_is_the_pdo_formula(card):
    """The JSON card's factor and offset are what a bank rebuilds the scale from: factor = pdo / ln 2 and
    offset = base_score - factor * ln(base_odds) (mutant: the JSON wrote the pdo as the factor)."""
    assert FACTOR == pytest.approx(PDO / math.log(2), rel=1e-15)   # the constants above, checked once
    assert OFFSET == pytest.approx(BASE_SCORE - FACTOR * math.log(BASE_ODDS), rel=1e-15)
    s = card.to_dict()["scaling"]
    assert s["pdo"] == PDO and s["base_score"] == BASE_SCORE and s["base_odds"] == BASE_ODDS
    assert s["factor"] == pytest.approx(FACTOR, rel=1e-12)
    assert s["offset"] == pytest.approx(OFFSET, rel=1e-12)
    # a row at odds 50:1 (ln odds good = ln 50) scores base_score; odds doubled, pdo more
    assert s["offset"] + s["factor"] * math.log(BASE_ODDS) == pytest.approx(BASE_SCORE)
    assert s["factor"] * math.log(2) == pytest.approx(PDO)


def test_a_wrong_signed_missing_bin_coefficient_leaves_the_bin_at_woe_0(caplog):
    """Class docstring: a missing bin's own coefficient that has the wrong sign leaves that bin at WoE 0 (neutral):
    its log-odds contribution is 0 and its points are the feature's even share of offset and intercept,
    round((offset - factor * b0) / m) (mutant: the bin fell back to the feature's coefficient instead)."""
    rng = np.random.default_rng(5)
    n = 4000
    z, x = rng.normal(size=n), rng.normal(size=n)
    miss = (z > 0.8) | (rng.random(n) < 0.02)   # missing where risky, but safer than its z says
    y = (rng.random(n) < expit(-2 + 1.5 * z + 0.5 * x - 1.5 * miss)).astype(int)
    X = pd.DataFrame({"z": z, "x": np.where(miss, np.nan, x)})
    with caplog.at_level(logging.INFO, logger="creditmodel.scoring.scorecard"):
        sc = WoEScorecard(feature_directions={"z": 1, "x": 1}, points_model="woe", shape_cv=0).fit(X, y)
    assert any("feature x: missing bin coefficient" in r.getMessage() and "bin set to WoE 0" in r.getMessage()
               for r in caplog.records)   # the premise: the own coefficient of x's missing bin was dropped
    m = len(sc.selected_features_)
    t = sc.points_table_.query("feature == 'x'").set_index("kind")
    assert t.loc["missing", "count"] > 0 and t.loc["missing", "woe"] != 0
    assert t.loc["missing", "coefficient"] == 0.0 and t.loc["missing", "log_odds"] == 0.0
    assert t.loc["missing", "points"] == round((OFFSET - FACTOR * sc.intercept_) / m)
    # and a row with x missing is scored with it
    row = pd.DataFrame({"z": [0.0], "x": [np.nan]})
    assert sc.points_by_feature(row)["x"].item() == t.loc["missing", "points"]


def _sector_frame(n: int = 3000, seed: int = 7):
    """A categorical ``sector`` whose missing rows are safe (so its missing bin is far from its worst bin)."""
    rng = np.random.default_rng(seed)
    sector = rng.choice(np.array(["A", "B", "C", "D", None], dtype=object), n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    risk = rng.normal(size=n)
    eff = np.select([sector == "A", sector == "C", sector == "D", pd.isna(sector)], [-0.6, 0.5, 1.0, -1.5], 0.0)
    y = (rng.random(n) < expit(-1.8 + risk + eff)).astype(int)
    return pd.DataFrame({"risk": risk, "sector": sector}), y


@pytest.fixture(scope="module")
def sector_card():
    X, y = _sector_frame()
    return WoEScorecard(min_iv=0.0, points_model="woe", shape_cv=0).fit(X, y)


def test_an_unseen_category_gets_the_worst_regular_bin_in_python_and_in_sql(sector_card):
    """unseen="worst" (the default, module docstrings): a category never seen in training gets the points of the
    feature's worst regular bin, in ``points`` and in the SQL CASE's ELSE; a missing value gets the missing bin's
    own points (mutants: the worst bin taken as the highest WoE; the SQL ELSE giving the missing bin's points)."""
    sc = sector_card
    assert "sector" in sc.selected_features_
    t = sc.points_table_.query("feature == 'sector'")
    worst = int(t.loc[t["kind"] == "regular", "points"].min())
    missing = int(t.loc[t["kind"] == "missing", "points"].item())
    assert t.loc[t["kind"] == "missing", "count"].item() > 0 and missing != worst   # the premise
    rows = pd.DataFrame({"id": [0, 1, 2], "risk": [0.1, 0.1, 0.1], "sector": ["never seen", None, "A"]},
                        columns=["id", "risk", "sector"])
    risk_pts = sc.points_by_feature(rows[["risk", "sector"]])["risk"].to_numpy()
    a_pts = int(t.loc[t["categories"].map(lambda c: c is not None and "A" in c), "points"].item())
    want = risk_pts + np.array([worst, missing, a_pts])
    assert sc.points(rows[["risk", "sector"]]).tolist() == want.tolist()
    assert sc.unseen_mask(rows[["risk", "sector"]])["sector"].tolist() == [True, False, False]
    con = sqlite3.connect(":memory:")
    con.execute('CREATE TABLE applicants (id INTEGER, risk DOUBLE, sector VARCHAR)')
    con.executemany("INSERT INTO applicants VALUES (?, ?, ?)", rows.astype(object).to_records(index=False).tolist())
    got = con.execute(sc.to_sql(id_col="id", flag_col="n_unseen") + " ORDER BY id").fetchall()
    assert [r[1] for r in got] == want.tolist()
    assert [r[2] for r in got] == [1, 0, 0]


# ----------------------------------------------------------------------------------------- binning
def test_smoothed_woe_adds_the_prior_count_to_the_minority_class(two):
    """binning._woe_from_counts: WoE_k = ln(%good_k / %bad_k) with ``woe_prior_count`` (0.5) pseudo rows of the
    minority class per bin and pseudo rows of the other class in proportion to the overall rate: with bad share
    p < 1/2, (good_k + 0.5 (1 - p) / p) / G against (bad_k + 0.5) / B (mutant: the prior scaled by the majority)."""
    X, y = two
    b = WoEBinner().fit(X, y)   # no direction: no pool-adjacent-violators step after the WoE
    G, B = int((y == 0).sum()), int(y.sum())
    p = B / (B + G)
    assert p < 0.5
    for f in ("x1", "x2"):
        t = b.binning_table(f)
        t = t[t["count"] > 0]
        good, bad = (t["count"] - t["bad"]).to_numpy(), t["bad"].to_numpy()
        want = np.log((good + 0.5 * (1 - p) / p) / G) - np.log((bad + 0.5) / B)
        np.testing.assert_allclose(t["woe"].to_numpy(), want, rtol=1e-12)


def test_the_binning_table_event_rate_is_bads_over_rows(two):
    """The event rate of a bin is its default rate, bad / count (mutant: bad / good, the odds)."""
    X, y = two
    t = WoEBinner().fit(X, y).binning_table("x1")
    t = t[t["count"] > 0]
    np.testing.assert_allclose(t["event_rate"].to_numpy(), (t["bad"] / t["count"]).to_numpy(), rtol=1e-15)
    # the bins partition the rows: their default rates weighted by rows give the sample's
    assert np.average(t["event_rate"], weights=t["count"]) == pytest.approx(y.mean())


@pytest.mark.parametrize("n_splits", [10, 70])
def test_a_value_on_a_cut_point_belongs_to_the_bin_above_however_many_cuts(n_splits):
    """binning module docstring: regular bin i holds splits[i-1] <= x < splits[i]. Up to 64 cuts the slots come
    from comparisons, beyond from a binary search (mutant: the search put a value on a cut in the bin below)."""
    splits = np.arange(n_splits, dtype=float) * 1.5
    k = n_splits + 1
    fb = FeatureBins(feature="x", dtype="numerical", splits=splits, groups=[], special_codes=(-1.0,),
                     count=np.ones(k + 2), n_bad=np.zeros(k + 2), woe=np.zeros(k + 3), trend="constant",
                     requested_trend=None, iv=0.0)
    on = splits                                         # exactly on each cut: the bin above it
    below = np.nextafter(splits, -np.inf)               # just below: the bin below it
    x = np.r_[on, below, -1e9, 1e9, np.nan, np.inf, -1.0]
    want = np.r_[np.arange(1, k), np.arange(0, k - 1), 0, k - 1, fb.missing_slot, fb.special_slot, fb.special_slot]
    assert fb.indices(pd.Series(x)).tolist() == want.tolist()


# ------------------------------------------------------------------------------------ master scale
def test_a_band_with_no_width_is_refused():
    """A band is the half-open interval [pd_low, pd_high): pd_high must be greater than pd_low, an empty band
    (pd_low == pd_high) is a configuration error naming the key (mutant: an equal pair passed)."""
    bands = [{"grade": "A", "pd_low": 0.0, "pd_high": 0.01},
             {"grade": "B", "pd_low": 0.01, "pd_high": 0.01},
             {"grade": "C", "pd_low": 0.01, "pd_high": 1.0}]
    with pytest.raises(ConfigError) as e:
        MasterScale(bands)
    assert "bands[1].pd_high" in str(e.value)


# ------------------------------------------------------------------------------------- calibration
def _logistic(seed: int, n: int = 3000, a: float = 1.0, b: float = -3.0):
    rng = np.random.default_rng(seed)
    r = rng.normal(size=n)
    return r, (rng.random(n) < expit(a * r + b)).astype(int)


def test_auto_keeps_platt_unless_isotonic_wins_by_se_rule_standard_errors():
    """Isotonic is chosen only if its out-of-fold loss beats Platt's by more than ``se_rule`` paired standard
    errors: with an enormous ``se_rule`` it never is; with 0 the lower loss wins (mutant: the sign of the margin
    flipped, so isotonic won whenever it was not worse by more than the margin)."""
    r, y = _logistic(3)
    never = PDCalibrator(method="auto", se_rule=1e6).fit(r, y)
    assert never.method_ == "platt"
    rep = never.choice_report_
    assert rep.log_loss and rep.paired_se > 0   # the cross-validation ran
    lower = PDCalibrator(method="auto", se_rule=0.0).fit(r, y)
    rep = lower.choice_report_
    assert lower.method_ == ("isotonic" if rep.log_loss["isotonic"] < rep.log_loss["platt"] else "platt")


def test_auto_cross_validates_when_the_rarer_class_has_exactly_cv_rows():
    """The fallback to Platt without cross-validation is for fewer rows of the rarer class than folds; with
    exactly ``cv`` of them every fold holds one and the choice is cross-validated (mutant: <= instead of <)."""
    rng = np.random.default_rng(0)
    r = rng.normal(size=400)
    y = np.zeros(400, dtype=int)
    y[np.argsort(r)[-40::8]] = 1                        # 5 defaults among the riskiest raw values
    assert y.sum() == 5
    cal = PDCalibrator(method="auto", cv=5).fit(r, y)
    assert set(cal.choice_report_.log_loss) == {"platt", "isotonic"}
    assert not cal.choice_report_.reason.startswith("only")


def test_platt_slope_is_never_negative():
    """Platt: PD = sigmoid(a * r + b) with a >= 0. A raw output that ranks the wrong way (higher = safer, declared
    riskier) ends at a = 0: every PD is the same, the rows' default rate (the maximum-likelihood intercept with no
    slope) (mutant: the bound dropped, a negative slope that reversed the declared direction)."""
    r, y = _logistic(4, a=-1.0)                         # riskier when lower: the wrong way for higher_is_riskier
    cal = PDCalibrator(method="platt", higher_is_riskier=True).fit(r, y)
    assert cal.params_["a"] == 0.0
    p = cal.predict(np.linspace(-3, 3, 7))
    np.testing.assert_allclose(p, y.mean(), rtol=1e-5)


def test_an_all_default_end_block_takes_the_jeffreys_mean():
    """Isotonic, strict: the riskiest block holding only defaults takes (D + 1/2) / (N + 1), N its rows, at its
    knot (the block's centre), unless half-way from the block before to 1 is higher (mutant: (D + 1/2) / (N + 2))."""
    r = np.arange(200, dtype=float)
    y = np.zeros(200, dtype=int)
    y[:190:20] = 1                                      # 10 defaults spread over the first 190 rows
    y[195:] = 1                                         # the 5 riskiest rows all default
    cal = PDCalibrator(method="isotonic").fit(r, y)
    # the block before the end block is at most 10 / 195 < 2/3, so the Jeffreys mean 5.5 / 6 = 0.9167 is the higher
    assert cal.predict([197.0])[0] == pytest.approx(5.5 / 6.0, rel=1e-9)


def test_the_reported_losses_are_weighted_as_the_choice_is():
    """``choice_report_``: mean out-of-fold log-loss per method and their paired difference, all weighted by
    ``sample_weight``; the mean of the differences is the difference of the means (mutant: the per-method losses
    were unweighted while the difference was weighted)."""
    r, y = _logistic(6)
    w = np.where(r > 0, 3.0, 1.0)
    rep = PDCalibrator(method="auto").fit(r, y, sample_weight=w).choice_report_
    assert rep.paired_diff == pytest.approx(rep.log_loss["isotonic"] - rep.log_loss["platt"], rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------------------------------ score.py
@pytest.fixture(scope="module")
def small_model_dir(tmp_path_factory):
    from model_factory import train_small

    return train_small(tmp_path_factory, two_feature_frame(1500, seed=2), id_col="id", seed=3, name="mut_scoring")


@pytest.fixture(scope="module")
def small_model(small_model_dir):
    from creditmodel.scoring.score import resolve_model

    return resolve_model(small_model_dir).model


def _apps(n: int) -> pd.DataFrame:
    return two_feature_frame(n, seed=8).drop(columns="bad")


def test_a_numeric_in_default_column_flags_only_its_ones(small_model):
    """``in_default`` read as numbers: 1 is in default (grade D, PD 1), 0 and an empty cell are not (score.py:
    "empty = not flagged") (mutant: every non-zero value, NaN included, was flagged)."""
    from creditmodel.scoring.score import score_frame

    df = _apps(3)
    plain = score_frame(small_model, df, id_col="id", warn=False)
    df["in_default"] = [1.0, 0.0, np.nan]
    got = score_frame(small_model, df, id_col="id", warn=False)
    assert got["status"].tolist() == ["ok", "ok", "ok"]
    assert got["grade"].astype(object).tolist() == ["D", *plain["grade"].astype(object).tolist()[1:]]
    assert got["pd_12m"].tolist() == [1.0, *plain["pd_12m"].tolist()[1:]]
    assert (plain["grade"].astype(object) != "D").all()
    assert got["score"].tolist() == plain["score"].tolist()   # the model's score stands


def test_a_row_the_model_refuses_stays_an_error_even_when_flagged_in_default(small_model):
    """A row whose input the model refuses (an infinite value) is ``status = error`` with no score, grade or PD;
    its ``in_default`` flag grades only the scored rows (mutant: the error row was given grade D and PD 1)."""
    from creditmodel.scoring.score import score_frame

    df = _apps(2)
    df["x1"] = df["x1"].astype(float)
    df.loc[0, "x1"] = np.inf
    df["in_default"] = ["1", "1"]
    got = score_frame(small_model, df, id_col="id", warn=False)
    assert got["status"].tolist() == ["error", "ok"]
    assert pd.isna(got.loc[0, "grade"]) and np.isnan(got.loc[0, "pd_12m"]) and pd.isna(got.loc[0, "score"])
    assert got.loc[1, "grade"] == "D" and got.loc[1, "pd_12m"] == 1.0
    assert len(got) == 2 and got["id"].tolist() == df["id"].tolist()    # rows in = rows out, in input order


def test_points_from_a_pd_follow_the_pdo_scale():
    """The LightGBM score: points = offset + factor * ln(odds good:bad) (DOMAIN.md B3), so a PD of 1/51 (odds 50:1)
    is 600 points and odds of 100:1 are 20 more (mutant: ln(odds bad:good), the scale turned upside down)."""
    from creditmodel.scoring.model import ScoreScaling

    s = ScoreScaling()
    got = s.points_from_pd(np.array([1 / 51, 1 / 101, 1 / 26, 0.5]))
    assert got.tolist() == [600, 620, 580, round(OFFSET)]


def test_a_row_error_keeps_the_error_the_row_already_has(small_model):
    """score.apply_row_errors: rows with a message become errors, "an existing error is kept" (mutant: a later
    check's message overwrote the model's own reason)."""
    from creditmodel.scoring.score import apply_row_errors, score_frame

    df = _apps(3)
    df["x1"] = df["x1"].astype(float)
    df.loc[0, "x1"] = np.inf
    got = score_frame(small_model, df, id_col="id", warn=False)
    first = got.loc[0, "error"]
    assert got["status"].tolist() == ["error", "ok", "ok"] and "x1" in first
    apply_row_errors(got, np.array(["later check", "later check", None], dtype=object))
    assert got["status"].tolist() == ["error", "error", "ok"]
    assert got["error"].tolist()[:2] == [first, "later check"] and pd.isna(got.loc[2, "error"])
    assert pd.isna(got.loc[1, "score"]) and np.isnan(got.loc[1, "pd_12m"]) and pd.notna(got.loc[2, "score"])


def test_a_csv_scored_in_chunks_has_every_row_in_input_order(small_model_dir, tmp_path):
    """DESIGN section 5: ``score`` returns every input row, in input order; a CSV output written chunk by chunk
    holds all the chunks, one header (mutant: each chunk overwrote the file)."""
    from creditmodel.scoring.score import score_file

    df = _apps(23)
    df.to_csv(tmp_path / "apps.csv", index=False)
    res = score_file(small_model_dir, tmp_path / "apps.csv", tmp_path / "out.csv", id_col="id", chunk_rows=5,
                     progress=False)
    out = pd.read_csv(tmp_path / "out.csv", dtype={"id": str})
    assert res.rows == 23 and len(out) == 23
    assert out["id"].tolist() == df["id"].tolist()
    assert (out["status"] == "ok").all()
