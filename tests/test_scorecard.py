"""Tests of the WoE binning and scorecard (creditmodel.scoring.binning / .scorecard).

The points are checked against an independent pure-Python scorer that reads only the exported JSON
card, and against the SQL export run in DuckDB and in SQLite.
"""
from __future__ import annotations

import io
import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from creditmodel.errors import InputError
from creditmodel.reference import PROJECT_ROOT
from creditmodel.scoring.binning import WoEBinner, iv_strength, psi
from creditmodel.scoring.scorecard import (WoEScorecard, monotone_chain_basis, nonpositive_lr,
                                           sign_constrained_lr, slot_lr, vif_values)

GERMAN = Path(PROJECT_ROOT).parent / "shared" / "data" / "german_credit" / "germancredit.csv"
SPECIAL = -999.0


def make_frame(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic applicants: risk rises with x_up, falls with x_down, depends on the category."""
    rng = np.random.default_rng(seed)
    x_up = rng.normal(size=n)
    x_down = rng.uniform(0, 100, n)
    cat = rng.choice(np.array(list("ABCDE")), n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    eff = pd.Series({"A": -1.0, "B": -0.3, "C": 0.0, "D": 0.6, "E": 1.3})
    logit = -1.2 + 0.9 * x_up - 0.025 * (x_down - 50) + eff[cat].to_numpy()
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    x_up[rng.random(n) < 0.03 + 0.08 * y] = np.nan  # informative missingness: more among bads
    u = rng.random(n)
    x_down[u < 0.03] = SPECIAL
    x_down[(u >= 0.03) & (u < 0.04)] = np.inf
    x_down[(u >= 0.04) & (u < 0.045)] = -np.inf
    X = pd.DataFrame({"x_up": x_up, "x_down": x_down, "cat": pd.array(cat, dtype="str"),
                      "noise": rng.normal(size=n)})
    return X, y


@pytest.fixture(scope="module")
def frame():
    return make_frame()


@pytest.fixture(scope="module")
def card(frame):
    X, y = frame
    return WoEScorecard(feature_directions={"x_up": 1, "x_down": -1}, special_codes=[SPECIAL]).fit(X, y)


@pytest.fixture(scope="module")
def mono_card(frame):
    X, y = frame
    return WoEScorecard(feature_directions={"x_up": 1, "x_down": -1}, special_codes=[SPECIAL],
                        points_model="monotone", monotone_C=1.0).fit(X, y)


@pytest.fixture(params=["card", "mono_card"])
def any_card(request):
    """The one-coefficient card and the monotone per-bin card: the exports must hold for both."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def german():
    if not GERMAN.exists():
        pytest.skip(f"German credit data not found at {GERMAN} (../shared/data is not laid out)")
    d = pd.read_csv(GERMAN)
    y = (d.pop("creditability") == "bad").astype(int).to_numpy()
    return d, y


def tricky_rows(sc: WoEScorecard, X: pd.DataFrame) -> pd.DataFrame:
    """Training rows plus edge values, NaN, +/-inf, special codes and an unseen category."""
    extra = []
    for f in sc.selected_features_:
        fb = sc.binner_.bins_[f]
        base = X.iloc[0].to_dict()
        if fb.dtype == "numerical":
            vals = [*fb.splits, *np.nextafter(fb.splits, -np.inf), np.nan, np.inf, -np.inf, SPECIAL, 0.0]
        else:
            vals = [g[0] for g in fb.groups] + [None, "never seen in training", ""]
        for v in vals:
            extra.append({**base, f: v})
    out = pd.concat([X.iloc[:300], pd.DataFrame(extra)], ignore_index=True)
    for c in X.columns:
        out[c] = out[c].astype(X[c].dtype)
    return out


# ---------------------------------------------------------------------------------------- JSON
def json_points(card: dict, row: dict) -> dict[str, int]:
    """Points of each feature for one row, from the exported JSON alone (independent scorer)."""
    return {f: b["points"] for f, b in json_bins(card, row).items()}


def json_bins(card: dict, row: dict) -> dict[str, dict]:
    """The JSON bin each feature's value falls in, by the card's written rules."""
    out = {}
    for f in card["features"]:
        v = row[f["feature"]]
        bins = f["bins"]
        kind = {b["kind"]: b for b in bins if b["kind"] != "regular"}
        regular = [b for b in bins if b["kind"] == "regular"]
        if f["dtype"] == "numerical":
            if v is None or (isinstance(v, float) and math.isnan(v)):
                b = kind["missing"]
            elif math.isinf(v) or float(v) in [float(c) for c in f["special_codes"]]:
                b = kind["special"]
            else:
                b = next(b for b in regular if float(b["lower"]) <= v < float(b["upper"]))
        else:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                b = kind["missing"]
            elif str(v) in f["special_codes"]:
                b = kind["special"]
            else:
                b = next((b for b in regular if str(v) in b["categories"]), kind["unseen"])
        out[f["feature"]] = b
    return out


def test_points_table_reproduces_points_exactly(any_card, frame):
    card = any_card
    X, _ = frame
    rows = tricky_rows(card, X)
    doc = json.loads(card.to_json())
    expected = np.array([sum(json_points(doc, r).values())
                         for r in rows.astype(object).where(rows.notna(), None).to_dict("records")])
    assert np.array_equal(card.points(rows), expected)
    # CSV carries the same integer points as the JSON and the fitted table
    csv = pd.read_csv(io.StringIO(card.to_csv()))
    assert csv["points"].tolist() == card.points_table_["points"].tolist()
    js = [(f["feature"], b["bin"], b["points"]) for f in doc["features"] for b in f["bins"]]
    assert js == list(zip(csv["feature"], csv["bin"], csv["points"]))
    # per-feature points add up to the total
    assert np.array_equal(card.points_by_feature(rows).sum(axis=1).to_numpy(), card.points(rows))


def test_to_csv_and_to_json_write_files(card, tmp_path):
    card.to_csv(tmp_path / "points.csv")
    card.to_json(tmp_path / "points.json")
    assert pd.read_csv(tmp_path / "points.csv")["points"].tolist() == card.points_table_["points"].tolist()
    assert json.loads((tmp_path / "points.json").read_text())["scaling"]["pdo"] == 20.0


# ----------------------------------------------------------------------------------------- SQL
def _sql_rows(sc, rows):
    feats = sc.selected_features_
    recs = []
    for i, r in enumerate(rows[feats].astype(object).to_dict("records")):
        vals = []
        for f in feats:
            v = r[f]
            if sc.binner_.bins_[f].dtype == "numerical":
                vals.append(float(v))  # NaN stays NaN: a real NaN in DuckDB, NULL in SQLite
            else:
                vals.append(None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
        recs.append((i, *vals))
    return recs


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_sql_export_gives_exactly_the_library_scores(any_card, frame, engine):
    card = any_card
    X, _ = frame
    rows = tricky_rows(card, X)
    feats = card.selected_features_
    types = ["DOUBLE" if card.binner_.bins_[f].dtype == "numerical" else "VARCHAR" for f in feats]
    ddl = 'CREATE TABLE "my apps" (id INTEGER, ' + ", ".join(f'"{f}" {t}' for f, t in zip(feats, types)) + ")"
    ins = f'INSERT INTO "my apps" VALUES ({", ".join(["?"] * (len(feats) + 1))})'
    sql = card.to_sql(table='"my apps"', id_col="id", score_col="score", flag_col="n_unseen") + " ORDER BY id"
    if engine == "duckdb":
        duckdb = pytest.importorskip("duckdb")
        con = duckdb.connect()
    else:
        con = sqlite3.connect(":memory:")
    con.execute(ddl)
    con.executemany(ins, _sql_rows(card, rows))
    got = con.execute(sql).fetchall()
    assert [r[0] for r in got] == list(range(len(rows)))
    assert [r[1] for r in got] == card.points(rows).tolist()
    assert [r[2] for r in got] == card.unseen_mask(rows).sum(axis=1).tolist()
    assert max(r[2] for r in got) >= 1  # the unseen category is among the rows


def test_sql_duckdb_reads_pandas_frame_with_nan(card, frame):
    duckdb = pytest.importorskip("duckdb")
    X, _ = frame
    rows = tricky_rows(card, X)
    con = duckdb.connect()
    con.register("applicants", rows)
    got = con.execute(card.to_sql()).fetchnumpy()["score"]
    assert np.array_equal(np.asarray(got, dtype=np.int64), card.points(rows))


# ------------------------------------------------------------------------------------- binning
def test_monotonic_bins_follow_the_requested_direction(card):
    for f, trend in [("x_up", "ascending"), ("x_down", "descending")]:
        t = card.binner_.binning_table(f)
        reg = t[t["kind"] == "regular"]
        assert len(reg) >= 3
        rate, woe = reg["event_rate"].to_numpy(), reg["woe"].to_numpy()
        if trend == "ascending":
            assert np.all(np.diff(rate) >= 0) and np.all(np.diff(woe) <= 0)
        else:
            assert np.all(np.diff(rate) <= 0) and np.all(np.diff(woe) >= 0)


def test_monotonic_on_german_credit(german):
    X, y = german
    b = WoEBinner(feature_directions={"duration_in_month": 1, "credit_amount": 1, "age_in_years": -1}).fit(X, y)
    for f, up in [("duration_in_month", True), ("credit_amount", True), ("age_in_years", False)]:
        reg = b.binning_table(f).query("kind == 'regular'")
        d_rate, d_woe = np.diff(reg["event_rate"]), np.diff(reg["woe"])
        assert len(reg) >= 2
        assert (np.all(d_rate >= 0) and np.all(d_woe <= 0)) if up else (np.all(d_rate <= 0) and np.all(d_woe >= 0))
        assert b.bins_[f].trend == ("ascending" if up else "descending")


def test_missing_and_special_values_get_their_own_bins(card, frame):
    X, y = frame
    for f in ["x_up", "x_down"]:
        fb = card.binner_.bins_[f]
        idx = fb.indices(X[f])
        x = X[f].to_numpy()
        special = np.isinf(x) | (x == SPECIAL)
        assert np.array_equal(idx == fb.missing_slot, np.isnan(x))
        assert np.array_equal(idx == fb.special_slot, special)
        regular = idx < fb.n_regular
        # regular bins hold only finite, non-special values, each inside its bounds
        edges = np.r_[-np.inf, fb.splits, np.inf]
        xr, ir = x[regular], idx[regular]
        assert np.isfinite(xr).all() and not (xr == SPECIAL).any()
        assert np.all((edges[ir] <= xr) & (xr < edges[ir + 1]))
        t = fb.table()
        assert t.loc[t["kind"] == "missing", "count"].item() == np.isnan(x).sum()
        assert t.loc[t["kind"] == "special", "count"].item() == special.sum()
        assert t.loc[t["kind"] == "special", "bad"].item() == y[special].sum()


def test_counts_and_woe_match_an_independent_computation(german):
    X, y = german
    b = WoEBinner(woe_prior_count=1e-12).fit(X, y)
    G, B = (y == 0).sum(), (y == 1).sum()
    for f in ["duration_in_month", "purpose"]:
        fb = b.bins_[f]
        t = fb.table().query("kind == 'regular'")
        if fb.dtype == "numerical":
            groups = np.digitize(X[f].to_numpy(float), fb.splits, right=False)
        else:
            lookup = {c: i for i, g in enumerate(fb.groups) for c in g}
            groups = X[f].map(lookup).to_numpy()
        cnt = np.bincount(groups, minlength=len(t))
        bad = np.bincount(groups, weights=y, minlength=len(t))
        assert np.array_equal(t["count"].to_numpy(), cnt)
        assert np.array_equal(t["bad"].to_numpy(), bad)
        woe = np.log(((cnt - bad) / G) / (bad / B))
        np.testing.assert_allclose(t["woe"].to_numpy(), woe, rtol=1e-9)
        iv = np.sum(((cnt - bad) / G - bad / B) * woe)
        assert b.iv_report_.set_index("feature").loc[f, "iv"] == pytest.approx(iv, rel=1e-9)


def _zigzag_terms(n: int = 6000, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Loan terms in months: the standard terms (60, 84, 120, 240) are safe, the others risky (as in the
    SBA case file), plus a smoothly monotone feature."""
    rng = np.random.default_rng(seed)
    standard = rng.random(n) < 0.6
    term = np.where(standard, rng.choice([60, 84, 120, 240], n), rng.integers(12, 300, n)).astype(float)
    smooth = rng.normal(size=n)
    logit = np.where(standard, -2.5, 0.5) + 0.8 * smooth
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"term": term, "smooth": smooth}), y


def test_shape_cv_frees_a_zigzag_feature_and_keeps_a_monotone_one():
    X, y = _zigzag_terms()
    Xt, yt = _zigzag_terms(seed=4)  # a second sample from the same generator
    plain = WoEBinner().fit(X, y)
    chosen = WoEBinner(shape_cv=5, random_state=1).fit(X, y)
    rep = chosen.iv_report_.set_index("feature")
    assert rep.loc["term", "requested_trend"] == "free (cv)" and rep.loc["term", "shape_cv_gain"] > 0.005
    assert rep.loc["smooth", "requested_trend"] == "auto_heuristic"
    assert np.array_equal(chosen.bins_["smooth"].splits, plain.bins_["smooth"].splits)
    # the free term bins carry the zig-zag: better log-loss on the second sample than the default shape

    def logloss(b):
        fb = b.bins_["term"]
        logit = math.log(y.sum() / (len(y) - y.sum())) - fb.woe[fb.indices(Xt["term"])]
        return float(np.mean(np.logaddexp(0, logit) - yt * logit))

    assert logloss(chosen) < logloss(plain) - 0.01
    # a business direction is never overridden
    directed = WoEBinner(shape_cv=5, feature_directions={"term": 1}).fit(X, y)
    assert directed.bins_["term"].requested_trend == "ascending"
    assert np.isnan(directed.bins_["term"].shape_cv_gain)
    # positions, not labels: a shuffled index gives the same bins
    perm = np.random.default_rng(0).permutation(len(y))
    Xs = X.iloc[perm].set_index(pd.Index(np.arange(len(y))[::-1] * 7))
    shuffled = WoEBinner(shape_cv=5, random_state=1).fit(Xs, y[perm])
    assert shuffled.bins_["term"].requested_trend == "free (cv)"
    # reproducible, and reachable from the scorecard
    again = WoEBinner(shape_cv=5, random_state=1).fit(X, y)
    assert np.array_equal(again.bins_["term"].splits, chosen.bins_["term"].splits)
    sc = WoEScorecard(shape_cv=5, random_state=1).fit(X, y)
    assert sc.iv_report_.set_index("feature").loc["term", "requested_trend"] == "free (cv)"
    assert clone(sc).get_params()["shape_cv"] == 5


def test_card_pickled_before_shape_cv_loads_with_it_off(frame):
    import pickle

    X, y = frame  # cards of that time had one coefficient per feature
    card = WoEScorecard(feature_directions={"x_up": 1, "x_down": -1}, special_codes=[SPECIAL],
                        points_model="woe").fit(X, y)
    state = dict(card.__getstate__())  # a copy: object.__getstate__ returns the live __dict__
    for key in ("shape_cv",):
        state.pop(key)
    bstate = dict(card.binner_.__getstate__())
    for key in ("shape_cv", "shape_cv_tol", "random_state"):
        bstate.pop(key)
    for key in ("points_model", "monotone_C", "intercept_", "points_model_", "points_C_", "points_cv_"):
        state.pop(key)  # nor the points model
    old = WoEScorecard.__new__(WoEScorecard)
    old.__setstate__({**state, "binner_": pickle.loads(pickle.dumps(card.binner_))})
    binner = WoEBinner.__new__(WoEBinner)
    binner.__setstate__(bstate)
    assert old.get_params()["shape_cv"] == 0 and binner.get_params()["shape_cv"] == 0
    assert clone(old).get_params()["shape_cv"] == 0
    assert old.get_params()["points_model"] == "woe" and old.points_model_ == "woe"
    X, _ = frame
    assert np.array_equal(old.points(X), card.points(X))
    np.testing.assert_array_equal(old.predict_proba(X), card.predict_proba(X))


def test_shape_cv_with_fewer_rare_rows_than_folds_keeps_the_default_trend():
    X, y = _zigzag_terms(n=300)
    y = np.zeros_like(y)
    y[[3, 50, 120, 200]] = 1  # 4 bads, 5 folds asked
    plain = WoEBinner().fit(X, y)
    b = WoEBinner(shape_cv=5).fit(X, y)
    for f in X.columns:
        assert np.array_equal(b.bins_[f].splits, plain.bins_[f].splits)
    assert b.iv_report_["shape_cv_gain"].isna().all()
    assert WoEScorecard(min_iv=0.0).fit(X, y).get_params()["shape_cv"] == 5  # the scorecard default fits too


def _rare_flag(n: int = 4000, share: float = 0.012, bad_rate: float = 0.03, flagged_rate: float = 0.4,
               seed: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    """A flag held by ``share`` of the rows (a court listing) at ``flagged_rate`` defaults, ``bad_rate`` elsewhere,
    a zero-inflated count with the same rows, and a numeric feature carrying some signal of its own."""
    rng = np.random.default_rng(seed)
    flag = np.zeros(n)
    flag[rng.choice(n, int(round(share * n)), replace=False)] = 1
    y = (rng.random(n) < np.where(flag == 1, flagged_rate, bad_rate)).astype(int)
    count = flag * rng.integers(1, 4, n)
    x = rng.normal(size=n) + 0.8 * y
    return pd.DataFrame({"listed": flag, "cases_n": count, "x": x}), y


def test_a_rare_risky_flag_gets_its_own_bin_only_when_the_test_says_so():
    """The automatic minimum bin size (25 defaults a bin, at least 2 % of the rows) gave a flag held by 1.2 % of
    the loans at ten times the default rate one bin, IV 0: dropped (the district's dishonest-debtor listing)."""
    X, y = _rare_flag()
    flagged = X["listed"].to_numpy() == 1
    off = WoEBinner(feature_directions={"listed": 1, "cases_n": 1}, rare_bin_alpha=None).fit(X, y)
    assert off.bins_["listed"].n_regular == 1 and off.bins_["listed"].iv == 0
    assert "rare_bin_p" not in off.iv_report_
    on = WoEBinner(feature_directions={"listed": 1, "cases_n": 1}).fit(X, y)
    for f in ("listed", "cases_n"):
        fb = on.bins_[f]
        assert fb.n_regular == 2 and fb.rare_bin_p < 1e-3
        idx = fb.indices(X[f])
        assert np.array_equal(idx == 1, flagged)   # the rare bin holds the flagged rows, exactly
        assert fb.iv > 0.1 and fb.woe[1] < fb.woe[0]
    rep = on.iv_report_.set_index("feature")
    assert rep.loc["listed", "rare_bin_p"] == on.bins_["listed"].rare_bin_p
    assert np.isnan(rep.loc["x", "rare_bin_p"])    # optbinning split it: no rescue tried
    assert np.array_equal(on.bins_["x"].splits, off.bins_["x"].splits)
    # the same flag without signal stays one bin (the test's p-value recorded); a wrong-way flag too
    Xn, yn = _rare_flag(flagged_rate=0.03)
    noise = WoEBinner(feature_directions={"listed": 1}).fit(Xn, yn).bins_["listed"]
    assert noise.n_regular == 1 and noise.rare_bin_p >= 1e-3
    wrong = WoEBinner(feature_directions={"listed": -1}).fit(X, y).bins_["listed"]
    assert wrong.n_regular == 1 and np.isnan(wrong.rare_bin_p)
    # too few rows for a bin of its own; a minimum bin size set by hand is kept
    few = WoEBinner(feature_directions={"listed": 1}, rare_bin_min_count=60).fit(X, y).bins_["listed"]
    assert few.n_regular == 1 and np.isnan(few.rare_bin_p)
    for mbs in (0.05, None):
        kept = WoEBinner(feature_directions={"listed": 1}, min_bin_size=mbs).fit(X, y).bins_["listed"]
        assert np.isnan(kept.rare_bin_p) and (kept.n_regular == 1 or mbs is None)
    # the p-value is the two-sided Fisher test as the doubled one-sided tail, times the cuts tried (one for a flag)
    from scipy.stats import fisher_exact

    table = [[int(y[flagged].sum()), int((~flagged & (y == 1)).sum())],
             [int((flagged & (y == 0)).sum()), int((~flagged & (y == 0)).sum())]]
    assert on.bins_["listed"].rare_bin_p == pytest.approx(2 * fisher_exact(table, alternative="greater")[1], rel=1e-9)
    assert on.bins_["listed"].splits.tolist() == [0.5]   # half-way between the values, as optbinning cuts
    # a rare risky value on the left tail of a feature whose higher values are safer (direction -1)
    tenure = np.where(flagged, 0.0, 10.0)
    left = WoEBinner(feature_directions={"tenure": -1}).fit(pd.DataFrame({"tenure": tenure}), y).bins_["tenure"]
    assert left.n_regular == 2 and np.array_equal(left.indices(pd.Series(tenure)) == 0, flagged)
    # the scorecard passes it on: the flag is in the card and costs the flagged rows points
    sc = WoEScorecard(feature_directions={"listed": 1, "cases_n": 1}, points_model="woe").fit(X, y)
    assert "listed" in sc.selected_features_ or "cases_n" in sc.selected_features_
    assert sc.points(X)[flagged].mean() < sc.points(X)[~flagged].mean() - 20
    assert clone(sc).get_params()["rare_bin_alpha"] == 1e-3
    assert WoEScorecard(rare_bin_alpha=None, feature_directions={"listed": 1, "cases_n": 1}).fit(X, y) \
        .iv_report_.set_index("feature").loc[["listed", "cases_n"], "iv"].eq(0).all()


def test_rare_bin_parameters_are_checked_and_old_cards_load_with_it_off(frame):
    import pickle

    X, y = frame
    for key, value in [("rare_bin_alpha", 0), ("rare_bin_alpha", 1.5), ("rare_bin_min_count", 0),
                       ("rare_bin_min_count", 2.5)]:
        with pytest.raises(InputError) as e:
            WoEScorecard(**{key: value}).fit(X, y)
        assert e.value.column == key
    card = WoEScorecard(points_model="woe").fit(X, y)
    state = dict(card.__getstate__())
    state.pop("rare_bin_alpha"), state.pop("rare_bin_min_count")
    old = WoEScorecard.__new__(WoEScorecard)
    old.__setstate__({**state, "binner_": pickle.loads(pickle.dumps(card.binner_))})
    bstate = dict(card.binner_.__getstate__())
    bstate.pop("rare_bin_alpha"), bstate.pop("rare_bin_min_count")
    binner = WoEBinner.__new__(WoEBinner)
    binner.__setstate__(bstate)
    assert old.get_params()["rare_bin_alpha"] is None and binner.get_params()["rare_bin_alpha"] is None
    assert np.array_equal(old.points(X), card.points(X))


def _fit_on_four_bads(caplog, **params):
    """A card fitted on 300 rows with 4 bads (fewer than 5 folds), any warning an error, INFO logs captured."""
    import warnings

    X, y = _zigzag_terms(n=300)
    y = np.zeros_like(y)
    y[[3, 50, 120, 200]] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level("INFO", logger="creditmodel"):
            return WoEScorecard(min_iv=0.0, **params).fit(X, y), X, y


@pytest.mark.parametrize("points_model,expected", [("auto", "woe"), ("monotone", "monotone")])
def test_points_model_cv_with_fewer_rare_rows_than_folds_is_skipped(points_model, expected, caplog):
    """4 bads for 5 folds: sklearn's StratifiedKFold warned and one fold held no bad; the choice is not made by CV."""
    card, _, _ = _fit_on_four_bads(caplog, points_model=points_model, monotone_C=(0.3, 1.0))
    assert card.points_cv_ is None
    assert card.points_model_ == expected
    assert card.points_C_ == (card.C if expected == "woe" else 0.3)
    assert "CV skipped, 4 row(s) of the rarer class for 5 folds" in caplog.text


@pytest.mark.parametrize("params,key", [
    ({"woe_cv": 1}, "woe_cv"), ({"woe_cv": 2.5}, "woe_cv"), ({"woe_cv": "3"}, "woe_cv"), ({"woe_cv": -1}, "woe_cv"),
    ({"woe_cv": True}, "woe_cv"), ({"points_model": "monotone", "monotone_C": (1.0, 0.1), "cv": 1}, "cv"),
    ({"points_model": "auto", "cv": True}, "cv")])
def test_cv_parameters_out_of_range_are_clear_errors(params, key):
    """sklearn's own ValueError ('n_splits=1', 'must be of Integral type') came out of fit after the binning."""
    X, y = _zigzag_terms(n=300)
    with pytest.raises(InputError) as e:
        WoEScorecard(min_iv=0.0, **params).fit(X, y)
    assert e.value.column == key


_BAD_PARAMS = [  # (parameter, value): a parameter-fuzzing finding; each was accepted or failed deep in the fit
    ("pdo", -20.0), ("pdo", 0), ("pdo", float("nan")), ("base_odds", 0), ("base_odds", float("nan")),
    ("base_score", float("inf")), ("C", "abc"), ("C", None), ("C", True), ("max_iter", 2.5), ("max_iter", 0),
    ("sign_strategy", "abc"), ("sign_strategy", None), ("max_corr", -1), ("max_corr", 2.5), ("max_vif", 0.5),
    ("max_psi", 0), ("min_iv", -1), ("min_iv", float("nan")), ("max_iv", 0), ("stepwise", "forward"),
    ("stepwise_tol", -1), ("separate_missing_coef", 2.5), ("class_weight", 2.5), ("random_state", -1),
    ("random_state", 2.5), ("default_trend", "up"), ("categorical_features", "c"), ("feature_directions", [1]),
    ("special_codes", 2.5), ("special_codes", [None]), ("special_codes", [float("nan")]), ("min_bin_size", -0.1),
    ("min_bin_size", 0.9),
    ("min_prebin_size", "abc"), ("max_n_bins", 1), ("max_n_prebins", None), ("monotone_C", None),
]


@pytest.mark.parametrize("key,value", _BAD_PARAMS)
def test_parameters_out_of_their_domain_are_refused_before_the_fit(frame, key, value, monkeypatch):
    X, y = frame
    called = []
    monkeypatch.setattr(WoEBinner, "_fit_feature", lambda *a, **k: called.append(1))
    with pytest.raises(InputError) as e:
        WoEScorecard(**{key: value}).fit(X, y)
    assert e.value.column == key and key in str(e.value)
    assert not called   # refused before any binning work


def test_text_special_codes_and_no_minimum_bin_size_are_still_accepted(frame):
    """The parameter checks refused a text special code for a categorical column and min_bin_size None (no
    minimum), which the binner handles (a reviewer's finding on the day's diff)."""
    X, y = frame
    b = WoEBinner(special_codes={"cat": ["unknown"], "x_up": [SPECIAL]}, min_bin_size=None).fit(X, y)
    assert b._specials_for("cat") == ("unknown",) and b.min_bin_size_ is None


def test_binner_parameters_out_of_their_domain_are_refused(frame):
    X, y = frame
    for key, value in [("time_limit", 0), ("woe_prior_count", -1), ("shape_cv_tol", float("nan")),
                       ("unseen", "best"), ("shape_cv", True)]:
        with pytest.raises(InputError) as e:
            WoEBinner(**{key: value}).fit(X, y)
        assert e.value.column == key


def test_woe_cv_with_fewer_rare_rows_than_folds_learns_the_in_sample_woe(caplog):
    card, X, y = _fit_on_four_bads(caplog, woe_cv=5, points_model="woe")
    plain = WoEScorecard(min_iv=0.0, points_model="woe").fit(X, y)
    assert "woe_cv=5 skipped: 4 row(s) of the rarer class" in caplog.text
    pd.testing.assert_frame_equal(card.points_table_, plain.points_table_)


@pytest.mark.parametrize("bad", [-1, 1, 2.5, "5"])
def test_shape_cv_out_of_range_is_a_clear_error(bad):
    X, y = _zigzag_terms(n=500)
    with pytest.raises(InputError, match="shape_cv"):
        WoEBinner(shape_cv=bad).fit(X, y)


def test_iv_strength_thresholds():
    assert [iv_strength(v) for v in [0.0, 0.0199, 0.02, 0.099, 0.1, 0.3, 0.49, 0.5, 3.0]] == [
        "useless", "useless", "weak", "weak", "medium", "strong", "strong", "suspicious", "suspicious"]


def test_string_object_and_category_dtypes_give_the_same_card(frame):
    X, y = frame
    variants = [X.assign(cat=X["cat"].astype(object)), X.assign(cat=X["cat"].astype("category")), X]
    cards = [WoEScorecard(special_codes=[SPECIAL]).fit(v, y) for v in variants]
    for c, v in zip(cards[1:], variants[1:]):
        pd.testing.assert_frame_equal(c.points_table_, cards[0].points_table_)
        assert np.array_equal(c.points(v), cards[0].points(variants[0]))
    # and a card fitted on one dtype scores another
    assert np.array_equal(cards[0].points(variants[1]), cards[0].points(variants[0]))


# ---------------------------------------------------------------------------------- selection
def test_selection_report_explains_every_dropped_feature(frame):
    X, y = frame
    rng = np.random.default_rng(1)
    X2 = X.assign(x_up_copy=X["x_up"] + rng.normal(0, 0.05, len(X)), noise2=rng.normal(size=len(X)))
    sc = WoEScorecard(special_codes=[SPECIAL], max_corr=0.8).fit(X2, y)
    rep = sc.selection_report_.set_index("feature")
    assert set(sc.selected_features_) | set(rep.index) == set(X2.columns)
    assert not set(sc.selected_features_) & set(rep.index)
    iv = sc.iv_report_.set_index("feature")["iv"]
    assert rep.loc["noise", "stage"] == "iv" and iv["noise"] < 0.02
    # of the correlated pair, the one with the lower IV is dropped, naming the other
    lo, hi = sorted(["x_up", "x_up_copy"], key=lambda f: iv[f])
    assert rep.loc[lo, "stage"] == "correlation" and hi in rep.loc[lo, "reason"]
    assert hi in sc.selected_features_
    assert (sc.lr_.coef_ < 0).all()


def test_no_iv_cap_by_default_and_cap_when_asked(german):
    X, y = german
    sc = WoEScorecard().fit(X, y)
    top = sc.iv_report_.iloc[0]
    assert top["iv"] > 0.5 and top["feature"] in sc.selected_features_
    capped = WoEScorecard(max_iv=0.5).fit(X, y)
    assert top["feature"] not in capped.selected_features_
    assert capped.selection_report_.set_index("feature").loc[top["feature"], "stage"] == "iv"


def test_stability_hook_drops_shifted_feature(frame):
    X, y = frame
    shifted = X.assign(x_up=X["x_up"] + 1.5)
    sc = WoEScorecard(special_codes=[SPECIAL]).fit(X, y, X_stability=shifted)
    rep = sc.selection_report_.set_index("feature")
    assert rep.loc["x_up", "stage"] == "stability"
    fb = sc.binner_.bins_["x_up"]
    e = np.bincount(fb.indices(X["x_up"]), minlength=fb.n_regular + 3) / len(X)
    a = np.bincount(fb.indices(shifted["x_up"]), minlength=fb.n_regular + 3) / len(X)
    e, a = np.maximum(e, 1e-4), np.maximum(a, 1e-4)
    assert rep.loc["x_up", "value"] == pytest.approx(float(np.sum((a - e) * np.log(a / e))))
    assert "x_down" in sc.selected_features_  # unchanged features stay
    assert psi(np.array([0, 1, 1]), np.array([0, 1, 1]), 3) == 0.0


def test_vif_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.stats.outliers_influence")
    rng = np.random.default_rng(3)
    a = rng.normal(size=500)
    Z = np.column_stack([a, a + rng.normal(0, 0.5, 500), rng.normal(size=500)])
    const = np.column_stack([np.ones(500), Z])
    ref = [sm.variance_inflation_factor(const, i) for i in range(1, 4)]
    np.testing.assert_allclose(vif_values(Z), ref, rtol=1e-8)


def test_sign_constrained_fit_matches_sklearn_when_signs_are_right(frame):
    from sklearn.linear_model import LogisticRegression
    X, y = frame
    sc = WoEScorecard(special_codes=[SPECIAL]).fit(X, y)
    W = sc.transform(X).to_numpy()
    ref = LogisticRegression(C=0.5, max_iter=1000, tol=1e-10).fit(W, y).coef_.ravel()
    assert (ref < 0).all()
    np.testing.assert_allclose(sign_constrained_lr(W, y, 0.5), ref, rtol=1e-4)


@pytest.mark.parametrize("how", ["aic", "bic"])
def test_forward_stepwise_stops_where_statsmodels_says_no_feature_helps(frame, how):
    sm = pytest.importorskip("statsmodels.api")
    X, y = frame
    rng = np.random.default_rng(5)
    X2 = X.assign(weak=X["x_up"].fillna(0) * 0.05 + rng.normal(size=len(X)))
    sc = WoEScorecard(special_codes=[SPECIAL], stepwise=how, min_iv=0.0, max_corr=None, max_vif=None,
                      min_bin_size=0.05, default_trend="auto").fit(X2, y)
    assert {"x_up", "x_down", "cat"} <= set(sc.selected_features_)
    left = sc.selection_report_.query("stage == 'stepwise'")["feature"].tolist()
    assert left, "the test needs at least one feature that stepwise leaves out"
    W = sc.binner_.transform(X2)

    def crit(cols):
        res = sm.Logit(y, sm.add_constant(W[cols].to_numpy())).fit(disp=0)
        return getattr(res, how)

    base = crit(sc.selected_features_)
    for f in left:  # adding any left-out feature does not improve the criterion
        assert crit(sc.selected_features_ + [f]) >= base - 1e-3
    for f in sc.selected_features_:  # every chosen feature improves on the set without it
        assert crit([g for g in sc.selected_features_ if g != f]) > base - 1e-3


def test_stepwise_auc_keeps_the_signal(frame):
    X, y = frame
    sc = WoEScorecard(special_codes=[SPECIAL], stepwise="auc", cv=3).fit(X, y)
    assert {"x_up", "x_down", "cat"} <= set(sc.selected_features_)


# ------------------------------------------------------------------------------- reason codes
def test_reason_codes_name_features_that_really_cost_points(any_card, frame):
    card = any_card
    X, _ = frame
    rows = tricky_rows(card, X)
    doc = json.loads(card.to_json())
    best = {f["feature"]: max(b["points"] for b in f["bins"]) for f in doc["features"]}
    order = card.selected_features_
    got = card.reason_codes(rows, n=3)
    assert list(got.columns) == ["reason_1", "reason_2", "reason_3"]
    recs = rows.astype(object).where(rows.notna(), None).to_dict("records")
    assert (got.dtypes == object).all()
    for r, g in zip(recs, got.to_numpy()):
        pts = json_points(doc, r)
        costs = sorted(((best[f] - pts[f], -order.index(f), f) for f in order), reverse=True)
        want = [f if c > 0 else None for c, _, f in costs[:3]] + [None] * (3 - len(costs))
        assert g.tolist() == want
    # a row in the best bin of every feature has no reason at all
    assert got.isna().all(axis=1).sum() == sum(all(best[f] == json_points(doc, r)[f] for f in order)
                                               for r in recs)
    assert card.reason_codes(rows.iloc[:5], n=1).shape == (5, 1)


def test_points_and_reasons_agree_across_row_blocks(card, frame, monkeypatch):
    """The fused block-wise pass gives the same points and reasons whatever the block size, and the
    same points as the plain per-feature sum; asking for more reasons than features pads with None."""
    X, _ = frame
    pts, rs = card.points_and_reasons(X, n=3)
    monkeypatch.setattr(WoEScorecard, "_CHUNK_ROWS", 7)  # 4,000 rows: 572 blocks, the last one short
    pts7, rs7 = card.points_and_reasons(X, n=3)
    assert np.array_equal(pts, card.points(X)) and np.array_equal(pts7, pts)
    assert rs7.equals(rs) and rs.notna().any().all()
    nf = len(card.selected_features_)
    wide = card.reason_codes(X, n=nf + 2)
    assert wide.iloc[:, :3].equals(rs) and wide.iloc[:, nf:].isna().all().all()


# ------------------------------------------------------------------------------------ scaling
def test_pdo_points_double_the_odds(card, frame):
    X, _ = frame
    rows = tricky_rows(card, X)
    p_bad = card.predict_proba(rows)[:, 1]
    ln_odds_good = np.log((1 - p_bad) / p_bad)
    raw = card.raw_score(rows)
    # score = base_score + pdo * log2(odds / base_odds): pdo points more = odds doubled
    np.testing.assert_allclose(raw, 600 + 20 * (ln_odds_good - math.log(50)) / math.log(2), rtol=1e-10)
    i, j = np.argmax(raw), np.argmin(raw)
    assert (raw[i] - raw[j]) / 20 == pytest.approx((ln_odds_good[i] - ln_odds_good[j]) / math.log(2))
    # integer points differ from the exact score by rounding only (half a point per feature at most)
    m = len(card.selected_features_)
    assert np.all(np.abs(card.points(rows) - raw) <= 0.5 * m + 1e-9)
    assert card.points(rows).dtype == np.int64


def test_points_table_woe_and_coefficients_give_the_model_log_odds(card, frame):
    X, _ = frame
    rows = tricky_rows(card, X)
    doc = json.loads(card.to_json())
    recs = rows.astype(object).where(rows.notna(), None).to_dict("records")
    eta = np.array([doc["scaling"]["intercept"] + sum(b["coefficient"] * b["woe"] for b in json_bins(doc, r).values())
                    for r in recs])
    np.testing.assert_allclose(card.decision_function(rows), eta, rtol=1e-9, atol=1e-9)
    # the per-bin log-odds give it too
    eta = np.array([doc["scaling"]["intercept"] + sum(b["log_odds"] for b in json_bins(doc, r).values())
                    for r in recs])
    np.testing.assert_allclose(card.decision_function(rows), eta, rtol=0, atol=1e-12)
    # the informative missing bin of x_up has its own (negative) coefficient
    t = card.points_table_.query("feature == 'x_up'").set_index("kind")
    assert t.loc["missing", "coefficient"] < 0
    assert t.loc["missing", "coefficient"] != t.query("kind == 'regular'")["coefficient"].iloc[0]


def test_scaling_parameters_are_honoured(frame):
    X, y = frame
    a = WoEScorecard(special_codes=[SPECIAL]).fit(X, y)
    b = WoEScorecard(special_codes=[SPECIAL], pdo=40, base_score=500, base_odds=20).fit(X, y)
    np.testing.assert_allclose(b.decision_function(X), a.decision_function(X))
    ln_odds_good = -a.decision_function(X)
    np.testing.assert_allclose(b.raw_score(X), 500 + 40 * (ln_odds_good - math.log(20)) / math.log(2))


# ------------------------------------------------------------------------- sklearn conventions
def test_same_seed_gives_identical_cards(frame):
    X, y = frame
    a = WoEScorecard(special_codes=[SPECIAL], random_state=7).fit(X, y)
    b = WoEScorecard(special_codes=[SPECIAL], random_state=7).fit(X, y)
    pd.testing.assert_frame_equal(a.points_table_, b.points_table_)
    assert a.to_sql() == b.to_sql() and a.to_json() == b.to_json()
    assert np.array_equal(a.points(X), b.points(X))


def test_clone_and_pipeline(frame):
    X, y = frame
    sc = WoEScorecard(special_codes=[SPECIAL], pdo=30)
    c = clone(sc)
    assert c.get_params() == sc.get_params()
    with pytest.raises(NotFittedError):
        c.points(X)
    pipe = Pipeline([("identity", FunctionTransformer(validate=False)), ("card", clone(sc))]).fit(X, y)
    direct = clone(sc).fit(X, y)
    np.testing.assert_array_equal(pipe.predict_proba(X), direct.predict_proba(X))
    np.testing.assert_array_equal(pipe[-1].points(X), direct.points(X))
    assert set(pipe.predict(X)) <= {0, 1}


def test_numpy_input_uses_fitted_column_order(frame):
    X, y = frame
    Xn = X[["x_up", "x_down", "noise"]]
    sc = WoEScorecard(special_codes=[SPECIAL]).fit(Xn, y)
    with pytest.warns(UserWarning, match="no column names"):  # as scikit-learn warns
        assert np.array_equal(sc.points(Xn.to_numpy()), sc.points(Xn))


# ---------------------------------------------------------------------------------- bad input
def test_bad_targets_are_clear_errors(frame):
    X, y = frame
    with pytest.raises(InputError, match="binary"):
        WoEScorecard().fit(X, np.where(y == 1, 2, np.arange(len(y)) % 3))
    with pytest.raises(InputError, match="single class"):
        WoEScorecard().fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(InputError, match="0/1"):
        WoEScorecard().fit(X, np.where(y == 1, "bad", "good"))
    with pytest.raises(InputError) as e:
        WoEScorecard().fit(X, np.where(np.arange(len(y)) == 4, np.nan, y))
    assert e.value.row == 5


def test_no_usable_feature_is_a_clear_error(frame):
    X, y = frame
    useless = pd.DataFrame({"constant": np.ones(len(y)), "empty": np.full(len(y), np.nan),
                            "one_level": pd.array(["a"] * len(y), dtype="str")})
    with pytest.raises(InputError, match="no usable feature"):
        WoEScorecard().fit(useless, y)
    with pytest.raises(InputError, match="no feature"):
        WoEScorecard().fit(X[[]], y)


def test_missing_or_wrong_column_at_predict_time_names_it(card, frame):
    X, _ = frame
    with pytest.raises(InputError) as e:
        card.points(X.drop(columns=["x_down"]))
    assert e.value.column == "x_down"
    with pytest.raises(InputError) as e:
        card.reason_codes(X.assign(x_up=X["x_up"].astype(object).where(X.index != 2, "abc")))
    assert e.value.column == "x_up" and e.value.row == 3


# ------------------------------------------------------------------------- monotone per-bin card
def test_monotone_card_never_gives_a_safer_bin_fewer_points(mono_card, frame):
    """Regular bins sorted by WoE (default rate falling) have non-decreasing points and log-odds, and a
    missing/special bin with its own coefficient never pushes against its WoE."""
    t = mono_card.points_table_
    assert mono_card.points_model_ == "monotone"
    differs = 0
    for f in mono_card.selected_features_:
        reg = t[(t.feature == f) & (t.kind == "regular") & (t["count"] > 0)].sort_values("woe", kind="stable")
        assert (np.diff(reg["points"].to_numpy()) >= 0).all(), f
        assert (np.diff(reg["log_odds"].to_numpy()) <= 1e-12).all(), f
        for _, r in t[(t.feature == f) & t.kind.isin(["missing", "special"]) & (t["count"] > 0)].iterrows():
            assert r.log_odds * r.woe <= 1e-12, (f, r.kind)
        # not just the WoE card again: the log-odds are not one coefficient times the WoE
        nz = reg[reg.woe != 0]
        differs += int(np.ptp(nz.log_odds / nz.woe) > 1e-3)
    assert differs >= 1
    # the monotone card ranks the training rows at least about as well as the one-coefficient card
    X, y = frame
    from sklearn.metrics import roc_auc_score
    woe_card = clone(mono_card).set_params(points_model="woe").fit(X, y)
    assert roc_auc_score(y, mono_card.decision_function(X)) >= roc_auc_score(y, woe_card.decision_function(X)) - 1e-3


def test_monotone_basis_with_one_coefficient_is_the_woe_card(card):
    """All chain coefficients equal to beta give beta * WoE for every slot inside the knots' range."""
    for f in card.selected_features_:
        fb = card.binner_.bins_[f]
        B = monotone_chain_basis(fb, [])
        knots = fb.woe[: fb.n_regular][fb.count[: fb.n_regular] > 0]
        inside = (fb.woe >= knots.min()) & (fb.woe <= knots.max())
        np.testing.assert_allclose((B @ np.full(B.shape[1], -0.7))[inside], -0.7 * fb.woe[inside], atol=1e-12)
        own = [fb.missing_slot]
        B2 = monotone_chain_basis(fb, own)
        assert B2.shape[1] == B.shape[1] + 1 and np.all(B2[fb.missing_slot, :-1] == 0)
        assert B2[fb.missing_slot, -1] == fb.woe[fb.missing_slot]


def test_slot_lr_is_the_bounded_regression_on_the_explicit_design(mono_card, frame):
    X, y = frame
    feats = mono_card.selected_features_
    idx = mono_card.binner_.index_columns(X, feats)
    bases = [mono_card._monotone_basis(mono_card.binner_.bins_[f]) for f in feats]
    Z = np.hstack([B[i] for B, i in zip(bases, idx)])
    w1, b1 = slot_lr(idx, bases, y, 0.3)
    w2, b2 = nonpositive_lr(Z, y, 0.3)  # the tightly converged reference

    def objective(w, b):
        eta = Z @ w + b
        return 0.5 * w @ w + 0.3 * np.sum(np.logaddexp(0, eta) - y * eta)

    assert (w1 <= 0).all() and (w1 < 0).any()
    assert objective(w1, b1) - objective(w2, b2) < 1e-8 * objective(w2, b2)  # same optimum
    np.testing.assert_allclose(w1, w2, atol=5e-4)
    assert abs(b1 - b2) < 5e-4


def test_auto_points_model_takes_the_best_cross_validated_candidate(frame):
    X, y = frame
    sc = WoEScorecard(special_codes=[SPECIAL], points_model="auto", monotone_C=[1.0, 0.1]).fit(X, y)
    cv = sc.points_cv_
    assert cv["model"].tolist() == ["woe", "monotone", "monotone"] and cv["C"].tolist() == [1.0, 1.0, 0.1]
    assert cv["cv_auc"].between(0.5, 1).all() and (cv["cv_log_loss"] > 0).all()
    best = cv.iloc[int(np.argmax(cv["cv_auc"].to_numpy()))]
    assert (sc.points_model_, sc.points_C_) == (best.model, best.C)
    fixed = WoEScorecard(special_codes=[SPECIAL], points_model=best.model, monotone_C=best.C,
                         C=1.0).fit(X, y)
    assert fixed.points_cv_ is None
    assert np.array_equal(fixed.points(X), sc.points(X))
    again = clone(sc).fit(X, y)  # same seed, same choice, same card
    assert again.points_table_.equals(sc.points_table_)


@pytest.mark.parametrize("params, column", [
    ({"points_model": "per_bin"}, "points_model"), ({"monotone_C": 0}, "monotone_C"),
    ({"monotone_C": []}, "monotone_C"), ({"monotone_C": [1.0, float("nan")]}, "monotone_C"),
    ({"monotone_C": "1"}, "monotone_C"), ({"points_model": "auto", "cv": 1}, "cv")])
def test_points_model_parameters_out_of_range_are_clear_errors(frame, params, column):
    X, y = frame
    with pytest.raises(InputError, match=column) as e:
        WoEScorecard(**params).fit(X, y)
    assert e.value.column == column


def test_groups_reach_every_cross_validation_of_the_card(monkeypatch):
    """``fit(groups=)``: the binning's shape CV, the out-of-fold WoE, stepwise AUC and the points-model CV all hold
    each borrower out whole (their folds were drawn row by row)."""
    import creditmodel.scoring.splits as splits

    X, y = make_frame(3000, seed=4)
    groups = np.arange(len(X)) // 3
    seen = []
    real = splits.stratified_folds

    def spy(yy, k, seed, g=None):
        import inspect

        folds = real(yy, k, seed, g)
        caller = inspect.stack()[1].function
        seen.append((caller, g is not None and all(not set(g[a]) & set(g[b]) for a, b in folds)))
        return folds

    monkeypatch.setattr(splits, "stratified_folds", spy)
    sc = WoEScorecard(woe_cv=3, stepwise="auc", points_model="auto", random_state=0).fit(X, y, groups=groups)
    sites = {"folds", "_oof_woe", "_stepwise", "_fit_points_model"}   # shape CV (the binner's folds()), WoE, ...
    assert {c for c, _ in seen} == sites and all(ok for _, ok in seen), seen   # ... stepwise, points CV: by group
    seen.clear()
    plain = WoEScorecard(woe_cv=3, stepwise="auc", points_model="auto", random_state=0).fit(X, y)
    assert {c for c, _ in seen} == sites and not any(ok for _, ok in seen)
    assert sc.selected_features_ and plain.selected_features_
    with pytest.raises(InputError, match="groups: 2 keys"):
        WoEScorecard().fit(X, y, groups=[1, 2])


def test_a_bin_set_to_woe_0_is_said_once_per_fit(tmp_path, caplog):
    """Notebook 03 said 'feature tax_grade: missing bin coefficient 0 has the wrong sign; bin set to WoE 0' once per
    selection round, three times for each of six bins (72 stderr lines in all)."""
    import collections
    import logging

    from creditmodel.data import synthetic
    from creditmodel.data.io import load_district
    from creditmodel.scoring.district import TARGET, loan_sample

    synthetic.generate_district(firms=20000, seed=42, out=tmp_path, progress=False)
    s = loan_sample(load_district(tmp_path).tables, seed=42)
    fit = np.isin(s.window, ["train", "valid"])
    X, y = s.table.loc[fit, s.features], s.table.loc[fit, TARGET].to_numpy()
    dirs = {c: int(d) for c, d in zip(s.catalogue["code"], s.catalogue["direction"]) if c in s.features}
    cats = [c for c in s.features if not pd.api.types.is_numeric_dtype(X[c])]
    with caplog.at_level(logging.INFO, logger="creditmodel.scoring.scorecard"):
        WoEScorecard(feature_directions=dirs, categorical_features=cats, random_state=42).fit(X, y)
    notes = collections.Counter(r.getMessage() for r in caplog.records if "bin set to WoE 0" in r.getMessage())
    rounds = [r.getMessage() for r in caplog.records if r.getMessage().startswith("selection round")]
    assert notes and rounds                                  # the premise: such bins, and more than one round
    assert set(notes.values()) == {1}, notes.most_common(3)
