"""Exact values of the splits, the target and parameter checks, the district's windows and guard, the real-set
models' summary and ``train``'s checks and metrics, each worked out by hand or with an independent implementation
(scikit-learn, a brute-force loop), so that an off-by-one, a flipped comparison or a dropped guard shows (a manual
mutation pass over scoring/{train,district,splits,target,params,real_models}.py: these survived the suite)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from creditmodel.errors import ConfigError, InputError


# ------------------------------------------------------------------------------------------------------- splits
def _counts(split, y):
    """{part: (goods, bads)} of a split."""
    return {p: (int(((split == p) & (y == 0)).sum()), int(((split == p) & (y == 1)).sum()))
            for p in ("train", "valid", "test")}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_split_takes_rounded_shares_of_each_class(seed):
    """37 goods and 13 bads, valid 0.1 and test 0.3: goods test round(11.1) = 11, valid round(3.7) = 4, train the
    other 22; bads test round(3.9) = 4, valid round(1.3) = 1, train 8 (whatever the seed: stratified)."""
    from creditmodel.scoring.splits import stratified_split

    y = np.array([0] * 37 + [1] * 13)
    s = stratified_split(y, seed, valid=0.1, test=0.3)
    assert _counts(s, y) == {"train": (22, 8), "valid": (4, 1), "test": (11, 4)}
    assert np.array_equal(s, stratified_split(y, seed, valid=0.1, test=0.3))       # seeded


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_grouped_split_takes_shares_of_the_groups_stratified_by_any_default(seed):
    """20 borrowers of 3 loans; 5 have a default (on their second loan only): of the 5, test round(1.0) = 1 and
    valid 1; of the 15 others test 3 and valid 3; every loan of a borrower in its borrower's part, whatever the order
    of the rows."""
    from creditmodel.scoring.splits import stratified_split

    groups = np.repeat([f"B{i:02d}" for i in range(20)], 3)
    y = np.zeros(60, dtype=int)
    y[[3 * b + 1 for b in range(5)]] = 1
    s = stratified_split(y, seed, groups=groups)
    per = pd.Series(s).groupby(groups)
    assert (per.nunique() == 1).all()
    part = per.first()
    bad = pd.Series(y).groupby(groups).max()
    assert {p: (int(((part == p) & (bad == 0)).sum()), int(((part == p) & (bad == 1)).sum()))
            for p in ("train", "valid", "test")} == {"train": (9, 3), "valid": (3, 1), "test": (3, 1)}
    order = np.random.default_rng(seed).permutation(60)
    again = stratified_split(y[order], seed, groups=groups[order])
    assert (pd.Series(again).groupby(groups[order]).first() == part).all()


def test_grouped_folds_with_as_many_groups_as_folds_hold_one_group_out_each():
    """4 borrowers for 4 folds is enough (each fold holds one out); 3 for 4 is not."""
    from creditmodel.scoring.splits import stratified_folds

    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    g = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    folds = stratified_folds(y, 4, 0, g)
    assert sorted(tuple(sorted(set(g[o]))) for _, o in folds) == [("a",), ("b",), ("c",), ("d",)]
    with pytest.raises(InputError, match="only 3 groups"):
        stratified_folds(y[:6], 4, 0, g[:6])


def test_folds_are_stratified_and_drawn_by_the_seed():
    """30 goods and 9 bads in 3 folds: each held-out fold has 10 goods and 3 bads; another seed draws other folds
    (shuffled, not the rows in file order)."""
    from creditmodel.scoring.splits import stratified_folds

    y = np.array([0] * 30 + [1] * 9)
    a = stratified_folds(y, 3, 0)
    for fit, out in a:
        assert (int((y[out] == 0).sum()), int(y[out].sum())) == (10, 3)
        assert sorted(np.concatenate([fit, out]).tolist()) == list(range(39))
    b = stratified_folds(y, 3, 1)
    assert [sorted(o.tolist()) for _, o in a] != [sorted(o.tolist()) for _, o in b]
    assert [o.tolist() for _, o in a] != [list(range(k * 10, k * 10 + 10)) + list(range(30 + 3 * k, 33 + 3 * k))
                                          for k in range(3)]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_a_holdout_keeps_the_default_rate(seed):
    """100 goods and 20 bads, a quarter held out: 30 rows, exactly 25 goods and 5 bads whatever the seed."""
    from creditmodel.scoring.splits import stratified_holdout

    y = np.array([0] * 100 + [1] * 20)
    kept, held = stratified_holdout(y, 0.25, seed)
    assert (len(kept), len(held), int(y[held].sum())) == (90, 30, 5)
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(120))


def test_id_order_trims_text_ids_before_ordering_them():
    """' b' and 'a' are the ids 'b' and 'a': 'a' first (untrimmed, the blank would sort ' b' first)."""
    from creditmodel.scoring.splits import id_order

    assert id_order(pd.Series([" b", "a"])).tolist() == [1, 0]
    assert id_order(pd.Series(["c", " 3", "10 ", "a"])).tolist() == [1, 2, 3, 0]


# ------------------------------------------------------------------------------------------------------- target
def test_a_target_of_another_length_or_with_missing_values_is_named():
    from creditmodel.scoring.target import binary_target, fit_target

    with pytest.raises(InputError) as e:
        binary_target([0, 1], 3)
    assert e.value.message == "target has 2 values for 3 rows" and e.value.column == "target"
    with pytest.raises(InputError) as e:
        binary_target([0, np.nan, 1, np.nan, np.nan], 5, column="bad")
    assert (e.value.message, e.value.column, e.value.row) == ("target has 3 missing value(s)", "bad", 2)
    # text labels with a missing one: the missing row is said (not the labels' mapping, which would not cure it)
    with pytest.raises(InputError) as e:
        fit_target(np.array(["bad", None, "good"], dtype=object), 3)
    assert e.value.row == 2 and "missing" in e.value.message and e.value.column == "y"


def test_text_labels_are_listed_sorted_in_the_hint():
    from creditmodel.scoring.target import fit_target

    with pytest.raises(InputError) as e:
        fit_target(pd.Series(["no", "yes", "no", "maybe"]), 4)
    assert "got the labels 'maybe', 'no', 'yes': map them first" in e.value.message


# ---------------------------------------------------------------------------------------------------- params
def test_number_bounds_are_inclusive_unless_open_and_said_so():
    from creditmodel.scoring import params as P

    P.number("x", 0.5, 0.0, 0.5)                      # the closed upper end is allowed
    P.number("x", 0.0, 0.0, 0.5)
    with pytest.raises(ConfigError) as e:
        P.number("x", 2, 0.0, 1.0, lo_open=True)
    assert e.value.message == "x must be a number in (0, 1], got 2" and e.value.column == "x"
    with pytest.raises(ConfigError) as e:
        P.number("x", 1.0, 0.0, 1.0, hi_open=True, none=True)
    assert e.value.message == "x must be a number in [0, 1), None, got 1.0"


def test_integer_bounds_bools_choices_and_seeds():
    from creditmodel.scoring import params as P

    P.integer("n", 5, 1, 5)                            # hi is inclusive
    with pytest.raises(ConfigError) as e:
        P.integer("n", 6, 1, 5)
    assert e.value.message == "n must be an integer >= 1 and <= 5, got 6"
    with pytest.raises(ConfigError, match="n must be an integer >= 0, got True"):
        P.integer("n", True, 0)                        # a bool is no count, although True == 1
    P.choice("k", 1, (1, 0))
    with pytest.raises(ConfigError, match="k must be one of 1, 0, got True"):
        P.choice("k", True, (1, 0))
    P.choice("stepwise", np.str_("aic"), (None, "aic"))    # a NumPy string is a text (helper-141's finding)
    with pytest.raises(ConfigError, match="stepwise must be one of None, 'aic', got 'bic'"):
        P.choice("stepwise", np.str_("bic"), (None, "aic"))
    with pytest.raises(ConfigError, match="k must be one of '1', got 1"):
        P.choice("k", 1, ("1",))                           # a number is not its text
    P.seed("s", 2**32 - 1)
    P.seed("s", np.random.RandomState(0))
    with pytest.raises(ConfigError, match=r"s must be an integer >= 0 and <= 4294967295"):
        P.seed("s", 2**32)


# ---------------------------------------------------------------------------------------------------- district
def _loan_table():
    """40 development firms of two loans in 2023 (F00..F09 default on their first loan) and 5 firms whose one loan
    is originated on 2024-01-01 (the out-of-time start itself) or 2024-03-01."""
    rows = []
    for f in range(40):
        for k, day in enumerate(("2023-02-01", "2023-09-01")):
            bad = int(f < 10 and k == 0)
            rows.append((f"L{f:02d}{k}", f"F{f:02d}", day, bad, 0.1 if f < 10 else 0.02))
    for f in range(40, 45):
        rows.append((f"L{f:02d}0", f"F{f:02d}", "2024-01-01" if f < 43 else "2024-03-01", int(f == 40), 0.05))
    t = pd.DataFrame(rows, columns=["loan_id", "uscc", "as_of_date", "default_12m", "true_pd"])
    t["as_of_date"] = pd.to_datetime(t["as_of_date"])
    return t.assign(firm_age_years=np.arange(len(t)) % 7 + 1.0, industry="C", not_a_feature=1)


@pytest.mark.parametrize("seed", [0, 5])
def test_the_loan_sample_windows_by_date_and_by_firm(monkeypatch, seed):
    """A loan originated on oot_start is out of time; the 40 development firms go whole to a window, valid and test
    shares of the firms stratified by default: of the 10 with a default test round(3.0) = 3, valid 1, train 6; of the
    30 others test 9, valid 3, train 18. describe() counts loans and defaults per window."""
    import creditmodel.features as F
    from creditmodel.scoring import district

    monkeypatch.setattr(F, "build_loan_features", lambda tables: _loan_table())
    s = district.loan_sample({}, oot_start="2024-01-01", seed=seed, valid=0.1, test=0.3)
    t = s.table
    assert (s.window[t["as_of_date"] >= "2024-01-01"] == "oot").all() and (s.window == "oot").sum() == 5
    assert s.features == ["firm_age_years", "industry"]
    dev = t.assign(window=s.window).loc[s.window != "oot"]
    firm = dev.groupby("uscc").agg(window=("window", "first"), parts=("window", "nunique"), bad=("default_12m", "max"))
    assert (firm["parts"] == 1).all()
    got = {w: (int(((firm["window"] == w) & (firm["bad"] == 0)).sum()), int(((firm["window"] == w) & (firm["bad"] == 1)).sum()))
           for w in ("train", "valid", "test")}
    assert got == {"train": (18, 6), "valid": (3, 1), "test": (9, 3)}
    d = s.describe()
    assert list(d.index) == ["train", "valid", "test", "oot"]
    assert d["loans"].tolist() == [48, 8, 24, 5] and d["defaults"].tolist() == [6, 1, 3, 1]
    assert d["default_rate"].tolist() == pytest.approx([0.125, 0.125, 0.125, 0.2])
    assert d["mean_true_pd"].tolist() == pytest.approx([0.04, 0.04, 0.04, 0.05])   # (12 x 0.1 + 36 x 0.02) / 48 ...
    assert d.loc["oot", "first_origination"] == pd.Timestamp("2024-01-01")
    assert d.loc["oot", "last_origination"] == pd.Timestamp("2024-03-01")


def _guard(rows, oot_start="2021-01-04", industry=""):
    """A DistrictSample of (uscc, date, default, window) rows, windows as given."""
    from creditmodel.scoring.district import TARGET, DistrictSample

    t = pd.DataFrame(rows, columns=["uscc", "as_of_date", TARGET, "window"])
    t["as_of_date"] = pd.to_datetime(t["as_of_date"])
    t["loan_id"] = [f"L{i:03d}" for i in range(len(t))]
    t["true_pd"] = 0.05
    return DistrictSample(t.drop(columns="window"), [], t["window"].to_numpy(dtype=object), pd.DataFrame(),
                          pd.Timestamp(oot_start), industry)


def _enough():
    """10 firms with one default and one good loan in training and validation (8 + 2), a default in test: just
    enough (10 defaults, 10 non-defaults, 10 borrowers with a default, 10 with a loan not in default)."""
    rows = []
    for f in range(10):
        w = "train" if f < 8 else "valid"
        rows += [(f"F{f}", "2020-06-01", 1, w), (f"F{f}", "2020-07-01", 0, w)]
    return rows + [("T0", "2020-06-01", 1, "test"), ("T0", "2020-07-01", 0, "test"), ("O0", "2021-02-01", 0, "oot")]


def test_the_guard_passes_ten_of_each_and_refuses_one_fewer():
    from creditmodel.scoring import district

    assert district.check_trainable(_guard(_enough())) is None
    no_test_default = [r if r[0] != "T0" else (r[0], r[1], 0, r[3]) for r in _enough()]
    with pytest.raises(InputError) as e:
        district.check_trainable(_guard(no_test_default))
    assert e.value.parameter == "oot_start" and "and 0 among the 2 test loans" in e.value.message
    # valid holds no default (both firms' defaults in train): the valid split could not calibrate
    moved = [(u, d, y, "train" if (y == 1 and w == "valid") else w) for u, d, y, w in _enough()]
    with pytest.raises(InputError) as e:
        district.check_trainable(_guard(moved))
    assert e.value.parameter == "oot_start"
    # the 11 borrowers with a default (ceil(10 / (20 / 22)) = 11 needed) all originated before oot_start: a later
    # date is not the cure the message names first, the seeded split is
    assert e.value.message.endswith(
        "the loans originated before it already come from 11 or more borrowers with a default, but the seeded split "
        "left too few in training and validation or none in test; try another seed or move oot_start later")


def test_the_guard_counts_borrowers_with_a_good_loan_not_loans():
    """12 defaults and 12 good loans, but the good loans come from 2 firms: 2 borrowers with a loan not in default,
    fewer than 10 (grouped folds hold borrowers out whole)."""
    from creditmodel.scoring import district

    rows = [(f"B{i}", "2020-06-01", 1, "valid" if i == 0 else "train") for i in range(12)]
    rows += [("G0", "2020-06-01", 0, "train")] * 6 + [("G1", "2020-06-01", 0, "valid")] * 6
    rows += [("T0", "2020-06-01", 1, "test"), ("O0", "2021-02-01", 0, "oot")]
    with pytest.raises(InputError) as e:
        district.check_trainable(_guard(rows))
    assert "12 among the 24 training and validation loans (12 borrower(s) with a default, 2 with a loan not in " \
           "default)" in e.value.message


def test_the_guard_names_the_first_oot_start_that_gives_enough_borrowers():
    """Before 2021-01-04: 20 loans, 16 of them in training and validation (a share of 0.8), so about ceil(10 / 0.8)
    = 13 borrowers with a default are needed; the 13th firm to default originated its loan on 2021-01-13, so
    2021-01-14 is the first oot_start that gets there."""
    from creditmodel.scoring import district

    rows = [("B0", "2021-01-01", 1, "train"), ("B1", "2021-01-02", 1, "valid"), ("B2", "2021-01-03", 1, "test")]
    rows += [(f"G{i:02d}", f"2021-01-0{1 + i % 3}", 0, "train" if i < 12 else "valid" if i < 14 else "test")
             for i in range(17)]
    rows += [(f"B{i}", f"2021-01-{1 + i:02d}", 1, "oot") for i in range(3, 15)] + [("G99", "2021-06-30", 0, "oot")]
    with pytest.raises(InputError) as e:
        district.check_trainable(_guard(rows))
    assert e.value.parameter == "oot_start"
    assert e.value.message == (
        "oot_start 2021-01-04 leaves too short a development window: 20 loans originated before it (2021-01-01 to "
        "2021-01-03) with 3 default(s): 2 among the 16 training and validation loans (2 borrower(s) with a default, "
        "14 with a loan not in default) and 1 among the 4 test loans; at least 10 defaults from 10 borrowers in "
        "training and validation, and 1 in the test loans, are needed to fit, calibrate and test a model; move "
        "oot_start later, to 2021-01-14 or after (the loans originated before it come from 13 borrowers with a "
        "default, about 10 of them in training and validation)")


def test_the_guard_says_no_oot_start_helps_when_only_the_last_origination_gets_there():
    """As above, but the 13th borrower to default originated on the last date of all the loans (2021-01-13): the
    date that gets there (2021-01-14) leaves no out-of-time loans, so no oot_start helps, although all the loans
    together hold exactly the 13 borrowers needed (helper-141's finding: the message said "move oot_start later"
    with no date)."""
    from creditmodel.scoring import district

    rows = [("B0", "2021-01-01", 1, "train"), ("B1", "2021-01-02", 1, "valid"), ("B2", "2021-01-03", 1, "test")]
    rows += [(f"G{i:02d}", f"2021-01-0{1 + i % 3}", 0, "train" if i < 12 else "valid" if i < 14 else "test")
             for i in range(17)]
    rows += [(f"B{i}", f"2021-01-{1 + i:02d}", 1, "oot") for i in range(3, 13)]
    with pytest.raises(InputError) as e:
        district.check_trainable(_guard(rows))
    assert e.value.parameter == "oot_start" and "move oot_start later" not in e.value.message
    assert e.value.message.endswith(
        "; no oot_start helps: the loans come from 13 borrowers with a default only with the last origination "
        "(2021-01-13) included, which would leave no out-of-time loans; use a larger district (more firms)")


def test_default_events_are_the_dated_defaults_sorted_and_the_first_per_firm():
    from creditmodel.scoring.district import default_events, first_default_dates

    loans = pd.DataFrame({"uscc": ["F2", "F1", "F3", "F1", "F2"],
                          "default_date": ["2024-03-01", "2024-05-01", None, "2023-01-10", "2024-03-01"]})
    ev = default_events({"loans": loans})
    assert ev["uscc"].tolist() == ["F1", "F2", "F2", "F1"]
    assert ev["default_date"].dt.strftime("%Y-%m-%d").tolist() == ["2023-01-10", "2024-03-01", "2024-03-01",
                                                                     "2024-05-01"]
    first = first_default_dates({"loans": loans})
    assert first.to_dict() == {"F1": pd.Timestamp("2023-01-10"), "F2": pd.Timestamp("2024-03-01")}


def test_the_portfolio_is_the_firms_registered_and_not_closed_at_the_date(monkeypatch):
    """Registered on the as-of date: in; closed on it: out (a bank does not lend to it); closed the day after: in;
    registered the day after: out."""
    import creditmodel.features as F
    from creditmodel.scoring.district import enterprise_portfolio

    asked = []

    def features(tables, when, uscc):
        asked.append(list(uscc))
        return pd.DataFrame({"uscc": list(uscc), "invoice_sales_12m_log": np.log1p(1000.0)})

    monkeypatch.setattr(F, "build_features", features)
    ent = pd.DataFrame({"uscc": ["A", "B", "C", "D"],
                        "registered_on": ["2024-06-30", "2020-01-01", "2020-01-01", "2024-07-01"],
                        "closed_on": [None, "2024-06-30", "2024-07-01", None]})
    port = enterprise_portfolio({"enterprises": ent}, "2024-06-30")
    assert asked == [["A", "C"]]
    assert port["revenue"].tolist() == pytest.approx([1000.0, 1000.0]) and not port["in_default"].any()


# ------------------------------------------------------------------------------------------------- real models
def test_the_real_set_summary_counts_rows_and_defaults_per_part():
    from creditmodel.scoring.real_models import RealSetModels

    y = pd.Series([1, 0, 0, 1, 0, 0, 1, 0])
    split = np.array(["train", "train", "valid", "test", "test", "train", "test", "train"], dtype=object)
    ds = SimpleNamespace(y=y, frame=pd.DataFrame({"id": [f"r{i}" for i in range(8)], "bad": y}))
    res = {"scorecard": SimpleNamespace(split=split, metrics={"test_auc": 0.7}),
           "lightgbm": SimpleNamespace(split=split, metrics={"test_auc": 0.8})}
    m = RealSetModels(ds, res)
    d = m.describe()
    assert list(d.index) == ["train", "valid", "test"]
    assert d["rows"].tolist() == [4, 1, 3] and d["defaults"].tolist() == [1, 0, 2]
    assert d["default_rate"].tolist() == pytest.approx([0.25, 0.0, 2 / 3])
    assert m.test["id"].tolist() == ["r3", "r4", "r6"]
    assert m.comparison(("test_auc",)).to_dict() == {"scorecard": {"test_auc": 0.7}, "lightgbm": {"test_auc": 0.8}}
    no_valid = RealSetModels(ds, {"scorecard": SimpleNamespace(split=np.where(split == "valid", "train", split))})
    assert list(no_valid.describe().index) == ["train", "test"]


def test_no_model_kind_is_bad_input_before_loading():
    from creditmodel.scoring.real_models import train_real_set

    with pytest.raises(InputError) as e:
        train_real_set("german_credit", kinds=())
    assert e.value.parameter == "kinds" and e.value.message == "model kind(s) [] unknown; use scorecard, lightgbm"


# --------------------------------------------------------------------------------------- train: the leak check
def test_the_separation_auc_is_the_mann_whitney_auc_either_way():
    from sklearn.metrics import roc_auc_score

    from creditmodel.scoring.train import _separation_auc

    rng = np.random.default_rng(4)
    y = (rng.uniform(size=300) < 0.2).astype(int)
    x = np.round(rng.normal(size=300) + 0.8 * y, 1)               # ties
    want = roc_auc_score(y, x)
    assert _separation_auc(pd.Series(x), y) == pytest.approx(max(want, 1 - want), abs=1e-12)
    assert _separation_auc(pd.Series(-x), y) == pytest.approx(max(want, 1 - want), abs=1e-12)
    # filled only for the defaults (a days-to-default column): whether a row is filled separates them
    filled = pd.Series(np.where(y == 1, rng.uniform(size=300), np.nan))
    assert _separation_auc(filled, y) == 1.0


def test_text_categories_of_ten_rows_are_ranked_by_their_own_rate():
    """A (10 rows, all defaults) and C (10 rows, none) keep their own rate; B (40 rows) has half. Ranked by the rate
    of each row's category, the AUC is sklearn's on those rates; categories of 9 rows would be pooled as one."""
    from sklearn.metrics import roc_auc_score

    from creditmodel.scoring.train import _separation_auc

    s = pd.Series(["A"] * 10 + ["C"] * 10 + ["B"] * 40)
    y = np.array([1] * 10 + [0] * 10 + [1, 0] * 20)
    rate = np.array([1.0] * 10 + [0.0] * 10 + [0.5] * 40)
    assert _separation_auc(s, y) == pytest.approx(roc_auc_score(y, rate), abs=1e-12)
    # by hand: 30 bads x 30 goods = 900 pairs; A's 10 bads outrank all 30 goods (300), B's 20 bads outrank C's 10
    # goods (200) and tie B's 20 goods (400 pairs, half each: 200): 700 / 900
    assert _separation_auc(s, y) == pytest.approx(7 / 9, abs=1e-12)
    small = pd.Series(["A"] * 9 + ["C"] * 9 + ["B"] * 40)         # pooled: A and C one category of rate 0.5
    y2 = np.array([1] * 9 + [0] * 9 + [1, 0] * 20)
    assert _separation_auc(small, y2) == pytest.approx(0.5)


class _Reached(Exception):
    """Raised by the fit stand-in: train_frame got past its checks."""


def _checks_only(monkeypatch, seen=None):
    """train_frame with its fit replaced by a stop (``seen`` gets the columns the fit would have learnt from)."""
    import creditmodel.scoring.train as T

    def stop(*a, **k):
        if seen is not None:
            seen.extend(a[0].columns)
        raise _Reached

    monkeypatch.setattr(T, "fit_credit_model", stop)
    return T.train_frame


def _rows(bads_by_part, goods_by_part, seed=0):
    """A frame with ``bads_by_part[p]`` defaults and ``goods_by_part[p]`` non-defaults in each part, and that split."""
    split, y = [], []
    for p in ("train", "valid", "test"):
        split += [p] * (bads_by_part[p] + goods_by_part[p])
        y += [1] * bads_by_part[p] + [0] * goods_by_part[p]
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": [f"{i:04d}" for i in range(len(y))], "x": rng.normal(size=len(y)),
                       "z": rng.uniform(size=len(y)), "bad": y})
    return df, np.array(split, dtype=object)


def test_a_candidate_separating_the_target_at_0_995_is_a_leak_and_below_it_is_not(monkeypatch, caplog):
    """On the development rows (10 defaults, 100 non-defaults: 1,000 pairs) a column ranking 5 pairs the wrong way
    has AUC 995 / 1000 = 0.995, the threshold: set aside; 6 pairs (0.994) stay."""
    train_frame = _checks_only(monkeypatch)
    df, split = _rows({"train": 7, "valid": 3, "test": 2}, {"train": 80, "valid": 20, "test": 20})
    dev = split != "test"
    y = df["bad"].to_numpy()
    goods = np.flatnonzero(dev & (y == 0))                 # their values 0 .. 99
    bads = np.flatnonzero(dev & (y == 1))
    for col, below in (("at", 5), ("under", 6)):
        v = np.full(len(df), 50.0)
        v[goods] = np.arange(100)
        v[bads] = 1000.0
        v[bads[0]] = 99.5 - below                             # under the top ``below`` goods
        df[col] = v
    with caplog.at_level("WARNING", logger="creditmodel.scoring.train"), pytest.raises(_Reached):
        train_frame(df, "bad", id_col="id", split=split)
    assert "column at alone separates the target (AUC 0.9950" in caplog.text
    assert "column under alone" not in caplog.text


# ------------------------------------------------------------------------------------- train: checks before the fit
def test_ten_defaults_in_training_and_validation_are_enough_nine_are_not(monkeypatch):
    """7 in train + 3 in valid = 10 (the test split's are not counted)."""
    train_frame = _checks_only(monkeypatch)
    df, split = _rows({"train": 7, "valid": 3, "test": 5}, {"train": 60, "valid": 20, "test": 20})
    with pytest.raises(_Reached):
        train_frame(df, "bad", id_col="id", split=split)
    df, split = _rows({"train": 6, "valid": 3, "test": 5}, {"train": 60, "valid": 20, "test": 20})
    with pytest.raises(InputError) as e:
        train_frame(df, "bad", id_col="id", split=split)
    assert e.value.message == ("only 9 defaults in the training and validation rows; at least 10 are needed to fit "
                               "and calibrate a model") and e.value.column == "bad"


def test_ten_borrowers_with_a_default_and_a_good_loan_are_enough(monkeypatch):
    """10 borrowers each with one default and one good loan in training and validation: 10 with a default and 10 with
    a loan not in default (although none is without a default): enough; 9 of them are not."""
    train_frame = _checks_only(monkeypatch)

    def frame(k):
        rows = []
        for b in range(k):
            part = "valid" if b >= k - 2 else "train"
            rows += [(f"B{b}", 1, part), (f"B{b}", 0, part)]
        rows += [(f"T{b}", int(b == 0), "test") for b in range(4)] + [(f"G{b}", 0, "train") for b in range(12)]
        rows += [("V", 0, "valid")]
        df = pd.DataFrame(rows, columns=["borrower", "bad", "part"])
        df["x"] = np.arange(len(df)) % 5
        return df.drop(columns="part"), df["part"].to_numpy(dtype=object)

    df, split = frame(10)
    with pytest.raises(_Reached):
        train_frame(df, "bad", group_col="borrower", split=split)
    df, split = frame(9)
    with pytest.raises(InputError) as e:
        train_frame(df, "bad", group_col="borrower", split=split)
    assert e.value.message.startswith("only 9 borrowers (groups of 'borrower') with a default in the training")


def test_a_given_split_is_checked_naming_the_part_and_the_first_row_of_the_caller(monkeypatch):
    train_frame = _checks_only(monkeypatch)
    df, split = _rows({"train": 8, "valid": 4, "test": 2}, {"train": 40, "valid": 10, "test": 10})
    bad_split = split.copy()
    bad_split[3] = "oot"
    with pytest.raises(InputError) as e:
        train_frame(df, "bad", split=bad_split)
    assert e.value.column == "split" and e.value.message == "split must give one of ('train', 'valid', 'test') per row"
    one_class = np.where((split == "valid") & (df["bad"].to_numpy() == 1), "train", split)
    with pytest.raises(InputError) as e:
        train_frame(df, "bad", split=one_class)
    assert e.value.message == "the valid split needs both classes (10 rows)" and e.value.column == "bad"
    with pytest.raises(InputError) as e:
        train_frame(df, "bad", id_col="bad")
    assert e.value.message == "the id column and the target are the same column" and e.value.column == "bad"
    with pytest.raises(InputError) as e:
        train_frame(df, "bad", group_col="bad")
    assert e.value.message == "the group column and the target are the same column" and e.value.column == "bad"
    # a borrower on both sides, the rows learnt in id order (reversed here): the row named is the caller's
    rev = df.iloc[::-1].reset_index(drop=True)
    rev_split = split[::-1].copy()
    rev["borrower"] = [f"B{i}" for i in range(len(rev))]
    rev.loc[[5, 40], "borrower"] = "twice"
    assert rev_split[5] != rev_split[40]
    with pytest.raises(InputError) as e:
        train_frame(rev, "bad", id_col="id", group_col="borrower", split=rev_split, order_by_id=True)
    assert (e.value.column, e.value.row) == ("borrower", 6) and "'twice' has rows in more than one part" in e.value.message


# ------------------------------------------------------------------------------------ train: candidate features
def test_a_value_at_float32_max_is_a_feature_value_and_beyond_it_is_named():
    from creditmodel.scoring.model import MAX_FEATURE_MAGNITUDE
    from creditmodel.scoring.train import candidate_features

    x = np.linspace(0, 1, 30)
    x[4] = MAX_FEATURE_MAGNITUDE
    assert candidate_features(pd.DataFrame({"x": x}), [])[0] == ["x"]
    x[6] = np.nextafter(MAX_FEATURE_MAGNITUDE, np.inf)
    with pytest.raises(InputError) as e:
        candidate_features(pd.DataFrame({"x": x}), [], file="f.csv")
    assert (e.value.column, e.value.row) == ("x", 7) and "1 such row(s)" in e.value.message


def test_a_measurement_with_exactly_95_percent_numbers_and_20_values_is_refused_naming_its_rows():
    from creditmodel.scoring.train import candidate_features

    cells = [str(100 + i) for i in range(40)]
    cells[3], cells[8] = "n/a", "n/a"                       # 38 of 40 numbers: 95 %, the share that marks a typo
    with pytest.raises(InputError) as e:
        candidate_features(pd.DataFrame({"age": cells}), [])
    assert (e.value.column, e.value.row) == ("age", 4)
    assert e.value.message == ("38 of 40 values are numbers but 2 is/are not, such as 'n/a' (row 4); rows 4, 9: correct "
                               "or blank them (as text the column would be binned as 39 categories)")
    twenty = [str(100 + i % 20) for i in range(40)]          # 39 numbers taking exactly 20 values: a measurement
    twenty[0] = "forty"
    with pytest.raises(InputError) as e:
        candidate_features(pd.DataFrame({"age": twenty}), [])
    assert e.value.row == 1
    nineteen = [str(100 + i % 19) for i in range(40)]       # 19 values: a coded category
    nineteen[0] = "forty"
    assert candidate_features(pd.DataFrame({"age": nineteen}), [])[0] == ["age"]
    many = [str(1000 + i) for i in range(200)]              # 7 typos: the first five rows are listed
    for i in (1, 3, 5, 7, 9, 11, 13):
        many[i] = "?"
    with pytest.raises(InputError) as e:
        candidate_features(pd.DataFrame({"amount": many}), [])
    assert "(row 2); rows 2, 4, 6, 8, 10 ...: correct" in e.value.message


def test_zero_padded_numbers_with_an_odd_code_are_codes_set_aside_not_a_typo():
    """'01' .. '0300' (one leading zero, widths 2 to 4, values repeated) and one 'X12': zero-padded, so codes (set
    aside with the hint), not a measurement with a typo."""
    from creditmodel.scoring.train import candidate_features

    cells = ["X12"] + [f"0{1 + i % 300}" for i in range(599)]
    feats, dropped = candidate_features(pd.DataFrame({"account": cells}), [])
    assert feats == [] and dropped["account"] == (
        "text with 301 distinct values (identifier-like); 599 of 600 values are numbers but 1 is/are not, such as "
        "'X12' (row 1): if it is a number column, correct those cells")


def test_a_formatted_amount_after_blank_cells_names_its_own_row():
    from creditmodel.scoring.train import candidate_features

    cells = [None, "  "] + [f"{1000 + 37 * i:,}" for i in range(60)]
    with pytest.raises(InputError) as e:
        candidate_features(pd.DataFrame({"amount": cells}), [], file="loans.csv")
    assert (e.value.column, e.value.row) == ("amount", 3) and "'1,000' (row 3)" in e.value.message
    assert e.value.message.startswith("60 of 60 values are numbers written with formatting")


def test_the_reasons_a_column_is_set_aside_at_their_boundaries():
    from creditmodel.scoring.train import candidate_features

    n = 400
    df = pd.DataFrame({
        "two_hundred": [f"k{i % 200}" for i in range(n)],               # 200 values: still categories
        "two_hundred_one": [f"k{i % 201}" for i in range(n)],           # 201: identifier-like
        " ": np.arange(n) % 3,                                          # no header: column 3 of the file
        "empty": np.full(n, np.nan),
        "constant": 7.0,
        "stamp": pd.to_datetime("2024-01-01") + pd.to_timedelta(np.arange(n) % 30, "D"),
        "dates": [f"2024-01-{1 + i % 19:02d}" if i % 20 else "soon" for i in range(n)],   # 95 % dates
        "yyyymmdd": np.where(np.arange(n) % 2 == 0, 19000101, 20200101),
        # 94 % calendar dates (4 % zeros, 2 % impossible days such as 20200230): a number column, not dates
        "almost": np.resize([0] * 4 + [20200230, 20201341]
                            + pd.date_range("2020-01-01", periods=94).strftime("%Y%m%d").astype(int).tolist(), n),
    })
    feats, dropped = candidate_features(df, [])
    assert feats == ["two_hundred", "almost"]
    assert dropped == {
        "two_hundred_one": "text with 201 distinct values (identifier-like)",
        " ": "no column name (column 3 of the file): name it to use it as a feature",
        "empty": "empty", "constant": "constant",
        "stamp": "date column (derive durations as features instead)",
        "dates": "date column given as text (derive durations as features instead)",
        "yyyymmdd": "date column written as a number yyyymmdd (derive durations as features instead)"}
    # every value distinct: an identifier above 50 rows, a category at 50
    assert candidate_features(pd.DataFrame({"c": [f"c{i}" for i in range(50)]}), [])[0] == ["c"]
    assert candidate_features(pd.DataFrame({"c": [f"c{i}" for i in range(51)]}), [])[1] == {
        "c": "text with 51 distinct values (identifier-like)"}


def test_flags_with_blanks_domains_and_the_training_range():
    from creditmodel.scoring.train import _domains_the_data_keeps, _flags_as_numbers, training_range

    X = pd.DataFrame({"f": pd.Series([True, None, False], dtype=object), "g": ["a", "b", "c"]})
    out = _flags_as_numbers(X)
    assert out["f"].tolist()[0] == 1.0 and np.isnan(out["f"].iloc[1]) and out["f"].iloc[2] == 0.0
    assert out["g"].tolist() == ["a", "b", "c"]
    doms = {"flag": (0.0, 1.0, "flag"), "count": (0.0, None, "firms", True), "absent": (0.0, 1.0, "")}
    ok = pd.DataFrame({"flag": [0.0, 1.0, np.nan], "count": [0.0, 3.0, 12.0]})
    assert _domains_the_data_keeps(doms, ok) == doms               # the bounds themselves are inside
    for col, vals in (("flag", [0.0, -0.01, 1.0]), ("flag", [0.0, 1.01, 1.0]), ("count", [0.0, 2.5, 3.0])):
        kept = _domains_the_data_keeps(doms, ok, pd.DataFrame({col: vals}))
        assert col not in kept and len(kept) == 2, (col, vals)
    rng = training_range([pd.DataFrame({"a": [1.0, np.nan, -np.inf], "b": [np.nan] * 3}),
                          pd.DataFrame({"a": [7.5, np.inf, 2.0], "c": ["x", "y", "z"]})], ["a", "b", "c"])
    assert rng == {"a": [1.0, 7.5]}


# ------------------------------------------------------------------------------------ train: one fit, its numbers
@pytest.fixture(scope="module")
def fitted():
    """A scorecard on 800 rows given in no particular id order, learnt in id order, with a given split."""
    from creditmodel.scoring.train import train_frame
    from model_factory import two_feature_frame

    df = two_feature_frame(800, seed=21)
    df = df.iloc[np.random.default_rng(2).permutation(len(df))].reset_index(drop=True)
    split = np.array(["train", "train", "valid", "test", "train"] * 160, dtype=object)
    res = train_frame(df, "bad", id_col="id", seed=3, split=split, order_by_id=True)
    return df, split, res


def test_the_fit_keeps_the_callers_split_per_row(fitted):
    df, split, res = fitted
    assert np.array_equal(res.split, split)


def test_the_test_metrics_are_recomputed_by_hand(fitted):
    from sklearn.metrics import roc_auc_score

    df, split, res = fitted
    m = res.metrics
    t = split == "test"
    y = df.loc[t, "bad"].to_numpy()
    X = df.loc[t, ["x1", "x2"]]
    p = res.model.predict_pd(X)
    auc = roc_auc_score(y, p)
    assert (m["n_rows"], m["n_test"], m["defaults_test"]) == (800, 160, int(y.sum()))
    assert m["test_auc"] == pytest.approx(auc, abs=1e-12) and m["test_gini"] == pytest.approx(2 * auc - 1, abs=1e-12)
    assert m["test_mean_pd"] == pytest.approx(p.mean(), abs=1e-12)
    assert m["test_default_rate"] == pytest.approx(y.mean(), abs=1e-15)
    assert m["test_brier"] == pytest.approx(np.mean((y - p) ** 2), abs=1e-12)
    ks = max(abs((p[y == 1] <= c).mean() - (p[y == 0] <= c).mean()) for c in np.unique(p))
    assert m["test_ks"] == pytest.approx(ks, abs=1e-12)
    score = res.model.score_frame(X)["score"].to_numpy(dtype=float)
    assert m["test_score_auc"] == pytest.approx(roc_auc_score(y, -score), abs=1e-12)   # higher score is safer
    assert "train_auc" not in m and "valid_auc" not in m      # cross-fitted: train and valid rows are in-sample


def test_the_fit_describes_its_rows_and_takes_the_initial_auc_on_more_defaults(fitted):
    df, split, res = fitted
    y = df["bad"].to_numpy()
    dev, t = split != "test", split == "test"
    d_dev, n_sel = int(y[dev].sum()), res.metrics["n_selected"]
    meta = res.model.metadata
    assert res.metrics["defaults_per_selected_feature"] == round(d_dev / n_sel, 2)
    assert meta["data_description"] == (
        f"640 development rows with {d_dev} defaults (default rate {100 * d_dev / 640:.2f} %) from an in-memory "
        f"table, target 'bad'; 160 rows held out for the test; 2 candidate features, {n_sel} used "
        f"({round(d_dev / n_sel, 2)} defaults per feature); seed 3")
    assert meta["test_sample"] == f"160 rows, {int(y[t].sum())} defaults"
    assert d_dev > int(y[t].sum())                             # the premise: the development rows have more defaults
    assert meta["initial_auc_defaults"] == d_dev
    assert meta["initial_auc_sample"].startswith("development rows, each graded by the calibration fold fit")
    assert f"(640 rows, {d_dev} defaults; ranked by grade)" in meta["initial_auc_sample"]
    assert res.metrics["auc_optimism"] == pytest.approx(res.metrics["development_auc"] - res.metrics["cv_auc"])
    assert 0.5 < res.metrics["cv_auc"] < 1


def test_the_output_folder_lists_the_fitted_ids_and_holds_the_test_rows(fitted, tmp_path):
    from creditmodel.scoring.train import write_outputs

    df, split, res = fitted
    files = write_outputs(res, df, "bad", tmp_path)
    fitted_ids = pd.read_parquet(files["fitted_ids"])["id"]
    assert sorted(fitted_ids) == sorted(df.loc[split != "test", "id"])
    test = pd.read_parquet(files["test_sample"])
    assert sorted(test["id"]) == sorted(df.loc[split == "test", "id"]) and len(test) == 160


def test_the_group_and_id_columns_are_never_features(monkeypatch):
    """A borrower number (50 values, numbers) would pass for a feature: it is the group key, not one."""
    seen = []
    train_frame = _checks_only(monkeypatch, seen)
    i = np.arange(300)
    df = pd.DataFrame({"id": [f"{k:04d}" for k in i], "x": np.sin(i), "z": np.cos(i), "borrower": i % 50,
                       "bad": (i % 7 == 0).astype(int)})
    split = np.array(["train", "train", "train", "valid", "test"], dtype=object)[i % 50 % 5]
    with pytest.raises(_Reached):
        train_frame(df, "bad", id_col="id", group_col="borrower", split=split)
    assert seen == ["x", "z"]


def test_a_csv_group_column_of_numbers_is_read_as_written(monkeypatch, tmp_path):
    """Borrowers '007' and '7' are two borrowers: the group keys reach the fit as the file writes them."""
    import creditmodel.scoring.train as T

    got = {}

    def capture(df, target, **kw):
        got["keys"] = df[kw["group_col"]].tolist()
        raise _Reached

    monkeypatch.setattr(T, "train_frame", capture)
    src = tmp_path / "loans.csv"
    src.write_text("loan,borrower,x,bad\nL1,007,1.5,0\nL2,7,2.5,1\nL3,,3.5,0\n", encoding="utf-8")
    with pytest.raises(_Reached):
        T.train_file(src, "bad", tmp_path / "out", id_col="loan", group_col="borrower")
    assert got["keys"] == ["007", "7", None]


def test_the_warnings_at_their_boundaries(caplog):
    """20 development defaults for the two features used: 10 per feature, not fewer than 10 (no warning); every test
    row with the same values, so the same PD: AUC 0.5, no better than chance (a warning)."""
    from creditmodel.scoring.train import train_frame

    rng = np.random.default_rng(0)
    y = np.zeros(360, dtype=int)
    y[rng.choice(300, 20, replace=False)] = 1                          # 20 defaults among the 300 dev rows
    y[[305, 325, 345]] = 1
    x1 = np.where(y == 1, rng.normal(1.5, 1, 360), rng.normal(0.0, 1.0, 360))
    x2 = np.where(y == 1, rng.normal(1.5, 1, 360), rng.normal(0.0, 1.0, 360))
    x1[300:], x2[300:] = 0.25, 0.25
    split = np.array(["train", "train", "train", "valid"] * 75 + ["test"] * 60, dtype=object)
    with caplog.at_level("WARNING", logger="creditmodel.scoring.train"):
        res = train_frame(pd.DataFrame({"x1": x1, "x2": x2, "bad": y}), "bad", seed=1, split=split)
    assert res.metrics["n_selected"] == 2 and res.metrics["defaults_per_selected_feature"] == 10.0
    assert "per feature, fewer than" not in caplog.text
    assert res.metrics["test_auc"] == 0.5
    assert "model_scorecard (scorecard): test AUC 0.500" in caplog.text
