"""Tests from a manual mutation-testing pass (h166) over the expert-versus-evidence comparison
(evaluation/evidence.py) and the explanation of one enterprise's grade (evaluation/explain.py). Each test pins a
behaviour a mutant changed without any other test noticing. Expected values are worked out by hand from the
rules of data/public_credit_indicators.yaml, or computed independently in the test (pair counting, an L2 logistic
fit by scipy's BFGS, scikit-learn's cross_val_predict, scipy's Spearman correlation).
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from creditmodel.errors import InputError
from creditmodel.evaluation import explain, load_config
from creditmodel.evaluation.evidence import EVENTS, adverse_events, data_end, expert_vs_evidence
from test_evaluation import A, B, C, T, district, firm, inspection, listing, penalty
from test_evaluation_inputs_exact_values import _logistic_l2


def _pair_auc(y: np.ndarray, risk: np.ndarray) -> float:
    """Share of (event, non-event) pairs where the event firm has the higher risk, ties counting one half."""
    ev, no = risk[y == 1], risk[y == 0]
    return float(((ev[:, None] > no[None, :]) + 0.5 * (ev[:, None] == no[None, :])).mean())


# ----------------------------------------------------------------------------- adverse events
def _enf(rid: str, code: str, filed: str, listed: str | None = None) -> dict:
    return {"record_id": rid, "uscc": code, "case_no": f"(2024)浙0205执{rid}号", "court": "c", "filed_on": filed,
            "amount": 1000.0, "dishonest_listed_on": listed, "dishonest_removed_on": None, "closed_on": None,
            "reported_on": filed}


def _loan(lid: str, code: str, default_date: str | None) -> dict:
    return {"loan_id": lid, "uscc": code, "origination_date": "2023-01-01", "amount": 1e5, "term_months": 24,
            "rate": 0.05, "collateral": "none", "default_12m": int(default_date is not None),
            "default_date": default_date, "true_pd": 0.05}


X1, X2, X3, X4 = "91330205MA0000000X", "91330205MA0000001Y", "91330205MA0000002Z", "91330205MA0000003A"


def _event_district() -> dict[str, pd.DataFrame]:
    """As of 2024-12-31, horizon 12 months: the window is (2024-12-31, 2025-12-31]."""
    return district(
        [firm(A), firm(B), firm(C, status="revoked", closed_on="2025-12-31"),
         firm(X1, status="revoked", closed_on="2026-01-01"), firm(X2), firm(X3),
         firm(X4, status="deregistered", closed_on="2025-06-01")],               # closed, not revoked
        penalties=[penalty("P1", A, "2025-06-01", "general", "2025-09-01", "2026-06-01")],   # not serious
        enforcement=[_enf("1", A, "2025-12-31"),                    # filed on the last day: counts
                     _enf("2", B, "2026-01-01", "2026-01-01"),      # the day after: neither counts
                     _enf("3", X2, "2024-12-31", "2025-01-01")],    # filed on the as-of date, listed the day after
        lists=[listing("L1", B, "serious_dishonesty", "2025-12-31"),
               listing("L2", X3, "serious_dishonesty", "2024-12-31"),    # on the as-of date: before the window
               listing("L3", A, "black", "2025-06-01")],                   # not the serious-dishonesty list
        loans=[_loan("N1", X3, "2025-06-30"), _loan("N2", X2, "2026-01-01"), _loan("N3", B, None)],
    )


def test_each_event_kind_counts_on_the_window_s_last_day_and_not_the_day_after():
    ev = adverse_events(_event_district(), "2024-12-31", 12)
    assert list(ev.columns) == [*EVENTS, "adverse"] and ev.index.name == "uscc"
    assert list(ev.index) == sorted([A, B, C, X2, X3])          # X1: revoked the day after the window; X4: closed
    want = {  # serious_penalty, enforcement, dishonest_debtor, serious_dishonesty, loan_default, revoked
        A: (0, 1, 0, 0, 0, 0), B: (0, 0, 0, 1, 0, 0), C: (0, 0, 0, 0, 0, 1),
        X2: (0, 0, 1, 0, 0, 0), X3: (0, 0, 0, 0, 1, 0)}
    for code, kinds in want.items():
        assert tuple(ev.loc[code, list(EVENTS)]) == kinds, code
    assert ev["adverse"].tolist() == [1] * 5


def test_adverse_counts_only_the_chosen_event_kinds():
    ev = adverse_events(_event_district(), "2024-12-31", 12, events=("loan_default", "revoked"))
    assert ev["adverse"].to_dict() == {A: 0, B: 0, C: 1, X2: 0, X3: 1}
    assert ev["enforcement"].to_dict()[A] == 1                 # the other kinds are still shown


def test_a_shorter_horizon_ends_the_window_earlier():
    """Six months: (2024-12-31, 2025-06-30]: the loan default on 2025-06-30 is its last day; the others later."""
    ev = adverse_events(_event_district(), "2024-12-31", 6)
    assert ev["adverse"].to_dict() == {X2: 1, X3: 1}


def test_an_unknown_event_kind_is_refused_by_name():
    with pytest.raises(InputError) as err:
        adverse_events(_event_district(), "2024-12-31", 12, events=["loan_default", "bankrupt"])
    assert err.value.column == "events"
    assert str(err.value).endswith(f"unknown adverse event(s) ['bankrupt']; known: {', '.join(EVENTS)}")


def test_the_data_end_ignores_tables_without_dates_and_a_district_without_any_is_refused():
    tabs = district([firm(A, registered="2019-01-01")], lists=[listing("L1", A, "red", "2024-01-01")])
    assert data_end(tabs) == T("2024-01-01")
    tabs["lists"]["reported_on"] = pd.NaT
    tabs["enterprises"]["reported_on"] = pd.NaT
    with pytest.raises(InputError) as err:
        data_end(tabs)
    assert err.value.column == "reported_on" and "cannot tell how far the outcomes are known" in str(err.value)


# ----------------------------------------------------------------------------- expert vs evidence on 60 firms
N = 60
PG, RED, INSP, MINOR = range(0, 12), range(12, 24), range(24, 36), range(36, 39)
YOUNG, EMPLOYS = range(51, 60), range(39, 51)        # registered 2018 (not established), 60 employees
EVENT = sorted({*range(0, 5), *range(12, 17), *range(24, 32), *range(39, 46), *range(51, 56)})   # 30 firms
# indicator, points per firm it applies to, firms
DESIGN = [("penalty_general", -5, PG), ("penalty_minor", -1, MINOR), ("inspection_failures", -2, INSP),
          ("established", 1, [i for i in range(N) if i not in YOUNG]), ("employment", 1, EMPLOYS),
          ("red_list", 3, RED)]


def _sixty(three: bool = False) -> dict[str, pd.DataFrame]:
    """60 firms as of 2024-12-31: a general penalty (-5), a minor one (-1), a failed inspection (-2), a red-list
    honour (+3), 10+ years old (+1), 50+ employees (+1) as in DESIGN; 30 of them with a serious penalty in 2025 (the
    adverse event), one on 2025-12-31 (the end of the data). ``three``: only the general penalty, the red list and
    the employees vary (all firms established, no minor penalty, no inspection)."""
    import district_factory as fac

    c = fac.codes(N + 1, seed=17)
    firms = [firm(c[i], registered="2018-05-01" if i in YOUNG and not three else "2010-01-01",
                  employees=60 if i in EMPLOYS else 10) for i in range(N)]
    firms.append(firm(c[N], status="deregistered", closed_on="2024-06-30"))
    pens = [penalty(f"G{i}", c[i], "2024-06-01", "general", "2024-09-01", "2025-06-01", paid="2024-06-05") for i in PG]
    pens += [penalty(f"M{i}", c[i], "2024-06-01", "minor", "2024-09-01", "2025-06-01", paid="2024-06-05")
             for i in MINOR if not three]
    pens += [penalty(f"S{i}", c[i], d, "serious", "2026-03-01", "2028-03-01", paid=d)
             for i in EVENT for d in ["2025-12-31" if i == EVENT[-1] else "2025-03-01"]]
    return district(firms, penalties=pens, lists=[listing(f"R{i}", c[i], "red", "2024-01-01") for i in RED],
                    inspections=[inspection(f"I{i}", c[i], "fire_safety", "2024-10-01", "fail", 1)
                                 for i in INSP if not three])


def _design():
    y = np.isin(np.arange(N), EVENT).astype(float)
    X = np.zeros((N, len(DESIGN)))
    for j, (_, p, firms) in enumerate(DESIGN):
        X[list(firms), j] = p
    return X, y


@pytest.fixture(scope="module")
def sixty(request):
    caplog_records = []

    class H(logging.Handler):
        def emit(self, r):
            caplog_records.append(r.getMessage())

    h = H(level=logging.WARNING)
    lg = logging.getLogger("creditmodel")
    lg.addHandler(h)
    try:
        ev = expert_vs_evidence(_sixty(), None, factors=(1.5,))
    finally:
        lg.removeHandler(h)
    return ev, caplog_records


def test_the_default_as_of_date_is_one_horizon_before_the_data_end_and_30_events_are_enough(sixty):
    ev, said = sixty
    assert ev.as_of == T("2024-12-31") and ev.outcome_end == T("2025-12-31")
    assert len(ev.frame) == N and int(ev.frame["adverse"].sum()) == 30          # the deregistered firm left out
    assert not any("the evidence rests on" in m for m in said)                  # 30 is not "fewer than 30"
    X, y = _design()
    keys = [k for k, _, _ in DESIGN]
    got = ev.frame[[f"contrib__{k}" for k in keys]].to_numpy(dtype=float)
    assert (got == X).all() and (ev.frame["adverse"].to_numpy() == y).all()    # the design as graded


def test_counts_rates_and_estimability_per_indicator(sixty):
    ev, _ = sixty
    X, y = _design()
    w = ev.weights.set_index("indicator")
    assert w["applies"].sum() == len(DESIGN)
    for j, (k, _, firms) in enumerate(DESIGN):
        hit = np.isin(np.arange(N), list(firms))
        r = w.loc[k]
        counts = (int(hit.sum()), int(y[hit].sum()), int((~hit).sum()), int(y[~hit].sum()))
        assert (r["n_hit"], r["events_hit"], r["n_not_hit"], r["events_not_hit"]) == counts, k
        assert r["prevalence"] == pytest.approx(hit.mean()), k
        assert r["event_rate_hit"] == pytest.approx(y[hit].mean()), k
        assert r["event_rate_not_hit"] == pytest.approx(y[~hit].mean()), k
        assert r["points_sd"] == pytest.approx(X[:, j].std()), k
    # events and firms without, where it applies | elsewhere: 5 and 7 | 25 and 23 (general penalty, red list), 7 and 5 |
    # 23 and 25 (employment): estimable.
    # The inspection: 8 events, 4 without where it applies; established: 5 events, 4 without where it does not.
    est = w.loc[[k for k, _, _ in DESIGN], "estimable"].to_dict()
    assert est == {"penalty_general": True, "penalty_minor": False, "inspection_failures": False,
                   "established": False, "employment": True, "red_list": True}
    assert w.loc["inspection_failures", "note"] == (
        "not identified: 8 adverse events among the 12 enterprises it applies to, 22 among the other 48 (needs at "
        "least 5 events and 5 without on each side)")
    assert w.loc["established", "note"].startswith(
        "not identified: 25 adverse events among the 51 enterprises it applies to, 5 among the other 9 ")
    assert w.loc["penalty_minor", "note"].startswith("not identified: 0 adverse events among the 3 enterprises")


def test_learned_weights_shares_and_sign_notes_by_an_independent_fit(sixty):
    ev, _ = sixty
    X, y = _design()
    sd = X.std(axis=0)
    beta = _logistic_l2((X - X.mean(axis=0)) / sd, y, 1.0)[1:]
    w = ev.weights.set_index("indicator").loc[[k for k, _, _ in DESIGN]]
    assert w["learned_coef_sd"].to_numpy() == pytest.approx(beta, rel=1e-3, abs=1e-5)
    assert w["expert_share"].to_numpy() == pytest.approx(sd / sd.sum())
    assert w["learned_share"].to_numpy() == pytest.approx(-beta / np.abs(beta).sum(), rel=1e-3, abs=1e-5)
    assert w["sign_agrees"].tolist() == [bool(b < 0) for b in beta]
    contra = [k for (k, _, _), b, e in zip(DESIGN, beta, w["estimable"]) if e and b > 0]
    assert contra == ["penalty_general", "employment"]
    assert ev.comparison["weights_sign_contradicts_expert"] == 2 and ev.comparison["weights_not_estimable"] == 3
    # the raw rates: 5/12 = 41.7% where the penalty applies, 25/48 = 52.1% elsewhere (a deduction: the expert says
    # higher); 7/12 = 58.3% and 23/48 = 47.9% for the employment bonus (the expert says lower): both contradict
    head = "learned sign contradicts the expert's direction: with the other indicators fixed, more points go with more risk"
    assert w.loc["penalty_general", "note"] == (f"{head} (event rate 41.7% where it applies, 52.1% elsewhere: the raw "
                                                "rates contradict the expert too)")
    assert w.loc["employment", "note"] == (f"{head} (event rate 58.3% where it applies, 47.9% elsewhere: the raw rates "
                                           "contradict the expert too)")
    assert w.loc["red_list", "note"] == "" and ev.weight_notes()[1] == (
        "learned sign contradicts the expert's direction (more points go with more risk, the other indicators held "
        "fixed): penalty_general, employment")
    assert ev.weight_notes()[0] == (
        "learned weight not identified (fewer than 5 adverse events, or enterprises without one, on one side of the "
        "indicator): penalty_minor (0 events among the 3 enterprises it applies to, 30 among the other 57); "
        "inspection_failures (8 events among the 12 enterprises it applies to, 22 among the other 48); established (25 "
        "events among the 51 enterprises it applies to, 5 among the other 9)")


def test_rank_correlations_over_all_and_over_the_estimable_weights(sixty):
    from scipy.stats import spearmanr

    ev, _ = sixty
    X, y = _design()
    sd = X.std(axis=0)
    beta = _logistic_l2((X - X.mean(axis=0)) / sd, y, 1.0)[1:]
    es, ls = sd / sd.sum(), -beta / np.abs(beta).sum()
    est = np.array([k in ("penalty_general", "employment", "red_list") for k, _, _ in DESIGN])
    c = ev.comparison
    assert c["weight_rank_correlation"] == pytest.approx(spearmanr(es, ls).statistic)
    assert c["weight_rank_correlation_estimable"] == pytest.approx(spearmanr(es[est], ls[est]).statistic)
    assert (c["weight_rank_correlation_n"], c["weight_rank_correlation_estimable_n"]) == (6, 3)


def test_three_estimable_weights_are_enough_for_both_rank_correlations():
    """Only the general penalty, the red list and the employees vary (all three estimable): both correlations are
    given over the three, and the established indicator (every firm) applies to no enterprise's ranking."""
    from scipy.stats import spearmanr

    ev = expert_vs_evidence(_sixty(three=True), None, factors=(), folds=30)
    X, y = _design()
    X = X[:, [0, 4, 5]]
    sd = X.std(axis=0)
    beta = _logistic_l2((X - X.mean(axis=0)) / sd, y, 1.0)[1:]
    rho = spearmanr(sd / sd.sum(), -beta / np.abs(beta).sum()).statistic
    c = ev.comparison
    assert (c["weight_rank_correlation"], c["weight_rank_correlation_estimable"]) == (pytest.approx(rho),) * 2
    assert (c["weight_rank_correlation_n"], c["weight_rank_correlation_estimable_n"], c["weights_not_estimable"]) \
        == (3, 3, 0)
    assert ev.rank_correlation_text().startswith(f"{rho:.2f} over all 3 indicators (all estimable); ")
    assert not ev.weights.set_index("indicator").loc["established", "applies"]


def test_the_learned_model_s_out_of_fold_auc_and_the_expert_minus_learned_difference(sixty):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ev, _ = sixty
    X, y = _design()
    oof = cross_val_predict(make_pipeline(StandardScaler(), LogisticRegression(C=1.0, solver="newton-cholesky")),
                            X, y, cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=0),
                            method="predict_proba")[:, 1]
    score = 100 + X.sum(axis=1)
    d = ev.discrimination.set_index("ranker")
    assert d.loc["learned_logistic_oof", "auc"] == pytest.approx(_pair_auc(y, oof), abs=1e-9)
    assert d.loc["public_credit_score", "auc"] == pytest.approx(_pair_auc(y, -score))
    assert ev.comparison["auc_diff_expert_minus_learned"] == pytest.approx(_pair_auc(y, -score) - _pair_auc(y, oof),
                                                                            abs=1e-9)
    assert d["n"].tolist() == [60] * 4 and d["n_events"].tolist() == [30] * 4
    assert ev.metrics()["evidence_event_rate"] == 0.5 and ev.metrics()["evidence_n"] == 60


def test_the_sensitivity_auc_is_that_of_the_reweighted_score(sixty):
    """x1.5 on one weight: no dimension cap binds for these three (7.5 of 15, 3 of 6, 4.5 of 6)."""
    ev, _ = sixty
    X, y = _design()
    s = ev.sensitivity.set_index(["indicator", "factor"])
    for j, k in [(0, "penalty_general"), (2, "inspection_failures"), (5, "red_list")]:
        wk = np.ones(len(DESIGN))
        wk[j] = 1.5
        assert s.loc[(k, 1.5), "auc_score"] == pytest.approx(_pair_auc(y, -(100 + X @ wk))), k
        assert s.loc[(k, 1.5), "weight"] == 1.5
    assert s.loc[("black_list", 1.5), "auc_score"] == pytest.approx(_pair_auc(y, -(100 + X.sum(axis=1))))


def test_the_learned_model_needs_as_many_events_and_non_events_as_folds():
    """30 events and 30 without: 30 folds are just enough (the learned row is there), 31 are not."""
    tabs = _sixty()
    at = expert_vs_evidence(tabs, None, factors=(), folds=30)
    assert "learned_logistic_oof" in set(at.discrimination["ranker"])
    over = expert_vs_evidence(tabs, None, factors=(), folds=31)
    assert "learned_logistic_oof" not in set(over.discrimination["ranker"]) and over.comparison == {}
    assert over.weights["note"].eq("no fit (too few adverse events overall)").sum() == 6


def test_an_as_of_date_with_a_time_of_day_is_read_as_its_day():
    ev = expert_vs_evidence(_sixty(), None, as_of="2024-12-31T15:30", factors=(), folds=30)
    assert ev.as_of == T("2024-12-31") and int(ev.frame["adverse"].sum()) == 30


def test_an_outcome_window_past_the_data_is_refused_naming_both_dates():
    with pytest.raises(InputError) as err:
        expert_vs_evidence(_sixty(), None, as_of="2025-01-01", factors=())
    assert err.value.column == "as_of"
    assert ("the outcome window (2025-01-01 + 12 months) ends after the data (2025-12-31); choose an earlier as-of "
            "date") in str(err.value)


def test_a_note_counts_one_event_in_the_singular_and_equal_rates_as_contradicting():
    from creditmodel.evaluation.evidence import _weight_note

    # equal raw rates (50% and 50%) agree with neither direction
    for deduction in (True, False):
        assert _weight_note(True, True, True, False, 5, 10, 10, 20, 5, deduction).endswith(
            "(event rate 50.0% where it applies, 50.0% elsewhere: the raw rates contradict the expert too)")

    assert _weight_note(True, True, False, None, 1, 3, 29, 57, 5, True).startswith(
        "not identified: 1 adverse event among the 3 enterprises it applies to, 29 among the other 57")


# ----------------------------------------------------------------------------- explain
def test_the_explanation_shows_each_indicator_s_points_before_and_after_its_dimension_cap():
    """Serious-dishonesty list (-40) and a black list (-20): the punishment dimension's 60 points are limited to 45 in
    proportion: -30 and -15 (score 55)."""
    tabs = district([firm(A)], lists=[listing("L1", A, "serious_dishonesty", "2025-01-01"),
                                      listing("L2", A, "black", "2025-01-01")])
    ex = explain(A, tabs, None, "2025-06-30", whatif=False)
    c = ex.contributions.set_index("indicator")
    assert tuple(c.loc["serious_dishonesty", ["value", "rule", "points_before_dimension_cap", "points"]]) \
        == (1.0, "-40 when >= 1", -40.0, -30.0)
    assert tuple(c.loc["black_list", ["value", "points_before_dimension_cap", "points"]]) == (1.0, -20.0, -15.0)
    assert ex.score == 55.0 and c["points"].sum() == -45.0
    assert (c.drop(index=["serious_dishonesty", "black_list"])[["points_before_dimension_cap", "points"]] == 0).all().all()


def test_an_enterprise_registered_on_the_as_of_date_is_explained_and_one_registered_after_it_is_refused():
    tabs = district([firm(A, registered="2025-06-30"), firm(B, registered="2025-07-01")])
    assert explain(A, tabs, None, "2025-06-30", whatif=False).score == 100.0
    with pytest.raises(InputError) as err:
        explain(B, tabs, None, "2025-06-30", whatif=False)
    assert err.value.column == "as_of"
    assert f"enterprise {B} was registered on 2025-07-01, after the as-of date 2025-06-30" in str(err.value)


def test_an_unknown_code_or_a_missing_date_is_refused_naming_it():
    tabs = district([firm(A)])
    with pytest.raises(InputError) as err:
        explain(X1, tabs, None, "2025-06-30")
    assert (err.value.file, err.value.column) == ("enterprises", "uscc")
    assert f"no enterprise {X1} in the register" in str(err.value)
    with pytest.raises(InputError) as err:
        explain(A, tabs, None, None)
    assert err.value.column == "as_of" and "an as-of date is required" in str(err.value)


def test_a_register_field_read_as_empty_is_said_unknown():
    from creditmodel.evaluation.explain import _known

    for token in ("", "-", "NULL", "nan", "N/A", " NA "):
        assert _known(token, "street") == "street unknown", token
    assert _known(None, "industry") == "industry unknown" and _known(float("nan"), "industry") == "industry unknown"
    assert _known("baisha", "street") == "baisha" and _known("F", "industry") == "F"


def test_without_the_whatif_no_records_or_steps_are_read():
    tabs = district([firm(A)], penalties=[penalty("P1", A, "2025-01-01", "general", "2025-04-01", "2026-01-01",
                                                  paid="2025-01-05")])
    ex = explain(A, tabs, None, "2025-06-30", whatif=False)
    assert ex.records.empty and ex.whatif.empty and ex.score == 95.0
    assert explain(A, tabs, None, "2025-06-30").records["record_id"].tolist() == ["P1"]


def test_a_sector_line_shows_the_sector_s_own_score():
    """A catering firm (H) with a general penalty: public score 95; its food- and fire-safety grades have no record:
    100, A."""
    cfg = load_config()
    tabs = district([firm(A, industry="H")], penalties=[
        penalty("P1", A, "2025-01-01", "general", "2025-04-01", "2026-01-01", paid="2025-01-05")])
    ex = explain(A, tabs, cfg, "2025-06-30", whatif=False)
    assert ex.score == 95.0 and set(ex.sectors["score"]) == {100.0}
    lines = ex.text().splitlines()
    assert lines[0].endswith("score 95 = base 100 -5 penalty_general")
    assert f"  food_safety ({cfg.sectors['food_safety'].zh}): grade A, score 100" in lines


def test_a_sample_of_events_only_has_no_auc_and_says_why():
    from creditmodel.evaluation.evidence import _auc_row

    r = _auc_row("all events", np.ones(4, dtype=int), np.arange(4.0))
    assert np.isnan(r["auc"]) and np.isnan(r["gini"]) and (r["n_events"], r["n"]) == (4, 4)
    assert r["note"].startswith("AUC needs both defaults and non-defaults; the sample has 4 default(s) and 0 non-")


@pytest.mark.parametrize("none, tail", [(["black_list"], "; 1 more applies to no enterprise: black_list"),
                                        (["black_list", "red_list"],
                                         "; 2 more apply to no enterprise: black_list, red_list")])
def test_the_rank_correlation_text_counts_the_weights_that_apply_to_no_enterprise(none, tail):
    from creditmodel.evaluation.evidence import EvidenceResult

    keys = ["penalty_general", "employment", "established", "black_list", "red_list"]
    w = pd.DataFrame({"indicator": keys, "applies": [k not in none for k in keys]})
    n = len(keys) - len(none)
    ev = EvidenceResult(as_of=T("2024-12-31"), horizon_months=12, frame=pd.DataFrame({"adverse": [0, 1]}),
                        discrimination=pd.DataFrame(), grade_rates=pd.DataFrame(), weights=w,
                        sensitivity=pd.DataFrame(),
                        comparison={"weight_rank_correlation": 0.5, "weight_rank_correlation_n": n,
                                    "weight_rank_correlation_estimable": -0.25,
                                    "weight_rank_correlation_estimable_n": 2})
    assert ev.rank_correlation_text() == f"0.50 over all {n} indicators, -0.25 over the 2 estimable ones{tail}"


@pytest.mark.parametrize("penalties, best, every", [
    # Serious (-15), two general penalties (-5 each), all paid: 75, C. Each repair alone lifts the grade to B; the
    # serious one lifts most (+15, from its minimum end 2026-01-01 + 15 days), the general ones +5.
    ([("P1", "2025-01-01", "serious", "2026-01-01", "2028-01-01", "2025-01-10"),
      ("P2", "2025-02-01", "general", "2025-05-01", "2026-02-01", "2025-02-05"),
      ("P3", "2025-02-01", "general", "2025-05-01", "2026-02-01", "2025-02-05")],
     "P1 (penalty_serious) from 2026-01-16: +15 points, grade C -> B", "all 3 steps by 2026-01-16: +25 points, grade C -> A"),
    # Two paid general penalties (-5 each): 90, B. Repairing either lifts +5 to 95, A; P2's repair can take effect
    # first (its minimum publicity end 2025-08-01 + 15 days), P1's on 2025-09-16: of two equal steps, the first.
    ([("P1", "2025-01-01", "general", "2025-09-01", "2026-01-01", "2025-01-05"),
      ("P2", "2025-02-01", "general", "2025-08-01", "2026-02-01", "2025-02-05")],
     "P2 (penalty_general) from 2025-08-16: +5 points, grade B -> A", "all 2 steps by 2025-09-16: +10 points, grade B -> A"),
    # One paid serious penalty (-15): 85, B; its repair from 2026-01-16 lifts +15 to 100, A: "the one step", not
    # "all 1 steps" (an analyst's finding)
    ([("P1", "2025-01-01", "serious", "2026-01-01", "2028-01-01", "2025-01-10")],
     "P1 (penalty_serious) from 2026-01-16: +15 points, grade B -> A", "the one step by 2026-01-16: +15 points, grade B -> A"),
])
def test_the_best_single_step_lifts_most_and_of_equal_ones_comes_first(penalties, best, every):
    tabs = district([firm(A)], penalties=[penalty(rid, A, day, sev, lo, hi, paid=paid)
                                          for rid, day, sev, lo, hi, paid in penalties])
    lines = explain(A, tabs, None, "2025-06-30").text().splitlines()
    assert f"  best single step (repair, payment or rectification): {best}" in lines
    assert f"  {every}" in lines


def test_an_open_case_counts_until_fulfilled_and_a_listing_leaves_its_window():
    """An open enforcement case (-4) and a black list from 2025-01-01 (-20, three years, removal after six months +
    15 days): 76, C."""
    tabs = district([firm(A)], lists=[listing("L1", A, "black", "2025-01-01")], enforcement=[_enf("1", A, "2025-02-01")])
    ex = explain(A, tabs, None, "2025-06-30")
    lines = ex.text().splitlines()
    assert lines[0].endswith("score 76 = base 100 -4 enforcement_open -20 black_list")
    # the last record was reported on 2025-02-01 (the case) and no snapshot date is known: kept among the warnings
    assert sum(w.startswith("as-of date 2025-06-30 is after the last record of the data (reported on 2025-02-01)")
               for w in ex.warnings) == 1
    assert "    1 enforcement_open (2025-02-01): -4 points; counts until removed or fulfilled; fulfilling the judgement " \
           "lifts it from 2025-06-30" in lines
    assert "    L1 list_black (2025-01-01): -20 points; leaves its window on 2028-01-01; removal from the list (信用修复) " \
           "can take effect from 2025-07-16" in lines


def test_a_step_that_lifts_nothing_is_not_said_to_end_the_record():
    from creditmodel.evaluation.explain import _remedy

    x = pd.Series({"table": "arrears", "note": ""})
    assert _remedy(x, 0.0) == "clearing the arrears lifts it from"
    assert _remedy(x, None) == "clearing the arrears lifts it from"
    assert _remedy(x, -2.0) == "clearing the arrears ends it from"
    # paying a fine ends only a penalty's publicity: another table's note is read by its table
    from creditmodel.evaluation.repair import PAY_THE_FINE
    assert _remedy(pd.Series({"table": "lists", "note": f"{PAY_THE_FINE} x"})) \
        == "removal from the list (信用修复) can take effect from"
    assert _remedy(pd.Series({"table": "penalties", "note": f"{PAY_THE_FINE} x"})) \
        == "paying the fine ends its publicity (no repair application) on"


def test_only_an_enforcement_case_keeps_its_past_listing_part():
    from creditmodel.evaluation.explain import _kept_part
    from creditmodel.evaluation.repair import PAST_LISTING_STAYS

    note = f"perform the judgement; {PAST_LISTING_STAYS} 2 points"
    assert _kept_part(pd.Series({"table": "enforcement", "note": note})) == f"; {PAST_LISTING_STAYS} 2 points"
    assert _kept_part(pd.Series({"table": "lists", "note": note})) == ""
    assert _kept_part(pd.Series({"table": "enforcement", "note": "perform the judgement"})) == ""


def test_the_explanation_s_warnings_read_the_whole_district_s_dates():
    """The district's records run from 2020-01-01 (B's red listing) to 2025-06-01 (B's penalty); A's own only from
    2025-01-01 to 2025-02-01. The windows are covered (nothing said about where the records begin) and the last report
    is the district's."""
    tabs = district([firm(A), firm(B)], lists=[listing("L1", A, "black", "2025-01-01"),
                                               listing("L2", B, "red", "2020-01-01")],
                    enforcement=[_enf("1", A, "2025-02-01")],
                    penalties=[penalty("P1", B, "2025-06-01", "general", "2025-09-01", "2026-06-01")])
    ex = explain(A, tabs, None, "2025-06-30")
    assert not any("records begin" in w for w in ex.warnings)
    assert [w[:86] for w in ex.warnings] == [
        "as-of date 2025-06-30 is after the last record of the data (reported on 2025-06-01) an"]
