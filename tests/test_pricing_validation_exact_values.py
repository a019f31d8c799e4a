"""Tests written from a manual mutation-testing pass over pricing, validation statistics, USCC and the evaluation's
numerics: each one catches a wrong number (or a wrong boundary) that the rest of the suite let through.

Every expected value is derived here from the published formula (DOMAIN.md), by hand, or from a second
implementation (scipy, statsmodels), never copied from the module's own output.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from creditmodel import pricing as P
from creditmodel.data import uscc
from creditmodel.validation import metrics as M

# ----------------------------------------------------------------------------- independent helpers
_SYMBOLS = "0123456789ABCDEFGHJKLMNPQRTUWXY"                                  # DOMAIN A1: no I, O, S, V, Z
_W31 = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]       # DOMAIN A1, written out
_W11 = [3, 7, 9, 10, 5, 8, 4, 2]                                              # GB 11714


def _org_check(body8: str) -> str:
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, _W11))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def _weighted_sum_31(first17: str) -> int:
    return sum(_SYMBOLS.index(c) * w for c, w in zip(first17, _W31))


def _irb_k(pd_: float, lgd: float, m: float = 2.5) -> float:
    """Basel corporate K (CRE31.5), DOMAIN B1, no firm-size adjustment, no scaling."""
    w = (1 - math.exp(-50 * pd_)) / (1 - math.exp(-50))
    r = 0.12 * w + 0.24 * (1 - w)
    b = (0.11852 - 0.05478 * math.log(pd_)) ** 2
    cond = stats.norm.cdf((stats.norm.ppf(pd_) + math.sqrt(r) * stats.norm.ppf(0.999)) / math.sqrt(1 - r))
    return (lgd * cond - pd_ * lgd) * (1 + (m - 2.5) * b) / (1 - 1.5 * b)


# ----------------------------------------------------------------------------- USCC
def test_a_code_whose_weighted_sum_is_a_multiple_of_31_has_check_character_0():
    """C18 = 31 - (sum mod 31), and 31 is written 0 (DOMAIN A1). None of the known-valid codes of test_uscc has a
    weighted sum divisible by 31: a wrong rule for that case was caught there only when the scalar and the vectorised
    checks disagreed, never against the value itself."""
    code17 = None
    for a in _SYMBOLS:                       # a Jiangbei-style body 'MA2H7K' + two free characters, org check kept valid
        for b in _SYMBOLS:
            body8 = "MA2H7K" + a + b
            c17 = "91330205" + body8 + _org_check(body8)
            if _weighted_sum_31(c17) % 31 == 0:
                code17 = c17
                break
        if code17:
            break
    assert code17 is not None
    code = code17 + "0"
    assert uscc.check_character(code17) == "0"
    assert uscc.check(code).status == "ok"
    assert uscc.check(code17 + "Y").reason == "check_char"
    v = uscc.validate(pd.Series([code, code17 + "Y"]))
    assert v["status"].tolist() == ["ok", "invalid"]
    assert pd.isna(v["reason"].iloc[0]) and v["reason"].iloc[1] == "check_char"


def _valid_code(head10: str, tail6: str = "7K3Q00") -> str:
    """A code with both check characters computed here: ``head10`` = authority, category, division, 'MA'."""
    body8 = head10[8:] + tail6
    c17 = head10[:8] + body8 + _org_check(body8)
    c18 = 31 - _weighted_sum_31(c17) % 31
    return c17 + _SYMBOLS[0 if c18 == 31 else c18]


@pytest.mark.parametrize("head", ["93330205MA",    # 93: farmers' professional cooperative (DOMAIN A1)
                                  "N1330205MA",    # N: agriculture authority
                                  "Y1330205MA",    # Y: other
                                  "A1330205MA"])   # A: CMC reform office
def test_every_registration_authority_and_market_category_of_domain_a1_is_accepted(head):
    code = _valid_code(head)
    assert uscc.check(code).status == "ok", uscc.check(code).message
    assert uscc.validate(pd.Series([code]))["status"].iloc[0] == "ok"


# ----------------------------------------------------------------------------- validation statistics
def test_calibration_interval_is_the_jeffreys_interval_of_statsmodels():
    """ci_low / ci_high are the equal-tailed Jeffreys interval Beta(D + 1/2, N - D + 1/2) of the default rate."""
    from statsmodels.stats.proportion import proportion_confint

    y = np.r_[np.ones(3), np.zeros(37), np.ones(5), np.zeros(15)].astype(int)
    grade = np.r_[np.full(40, "1"), np.full(20, "2")]
    pd_ = np.r_[np.full(40, 0.05), np.full(20, 0.2)]
    t = M.calibration_table(y, pd_, groups=grade, alpha=0.05).set_index("group")
    for g, d, n in (("1", 3, 40), ("2", 5, 20)):
        lo, hi = proportion_confint(d, n, alpha=0.05, method="jeffreys")
        assert t.loc[g, "ci_low"] == pytest.approx(lo, rel=1e-9) and t.loc[g, "ci_high"] == pytest.approx(hi, rel=1e-9)


def test_pd_deciles_are_right_closed_where_a_pd_sits_on_an_edge():
    """quantile_bins: bins (e_k-1, e_k]; a PD equal to a quantile edge belongs to the lower bin (pandas.cut with
    right=True). The suite's sklearn comparison used PDs that never sat on an edge."""
    x = np.array([0.01, 0.02, 0.03, 0.04, 0.05])
    ids, inner = M.quantile_bins(x, 2)
    assert inner.tolist() == [0.03]                                       # the median
    want = pd.cut(x, [-np.inf, 0.03, np.inf], right=True, labels=False)
    assert ids.tolist() == list(want) == [0, 0, 0, 1, 1]
    t = M.calibration_table(np.array([0, 0, 1, 0, 1]), x, n_bins=2)
    assert t["n"].tolist() == [3, 2] and t["defaults"].tolist() == [1, 1]


def test_psi_bins_are_right_closed_like_the_labels_say():
    """Bins are (e_k-1, e_k]: a value exactly on an edge falls in the bin the edge closes, as the label shows."""
    b = M.Binning("numeric", edges=(1.0, 2.0))
    assert b.labels[:3] == ["(-inf, 1]", "(1, 2]", "(2, inf)"]
    assert b.assign([1.0, 2.0, 1.5, 3.0, 0.5, np.nan]).tolist() == [0, 1, 1, 2, 0, 3]
    # PSI on those bins: reference shares 1/2, 1/4, 1/4; actual (values on the edges) 1/4, 1/2, 1/4
    r = M.psi([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 2.0, 5.0], binning=M.Binning("numeric", edges=(1.0, 2.0)))
    want = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.5 - 0.25) * math.log(0.5 / 0.25)
    assert r.psi == pytest.approx(want, rel=1e-12)


def test_mwb_normaliser_takes_the_larger_distance_to_either_end_of_the_scale():
    """ECB MWB: M_up = sum_i max(|i - K|, |i - 1|) N_i sum_{j>i} p_ij (DOMAIN C1). With K = 4, grade 3's largest
    possible move is 2 notches (to grade 1), not |3 - 4| = 1: a 3x3 matrix cannot tell the two apart."""
    counts = np.array([[10, 0, 0, 0], [0, 10, 0, 0], [0, 1, 7, 2], [0, 0, 0, 10]])
    up, low = M.matrix_weighted_bandwidth(counts)
    # upper: 1 * 10 * 0.2 / (2 * 10 * 0.2) = 0.5; lower: 1 * 10 * 0.1 / (2 * 10 * 0.1) = 0.5
    assert up == pytest.approx(0.5) and low == pytest.approx(0.5)


# ----------------------------------------------------------------------------- pricing
def test_the_configured_maturity_prices_rows_without_their_own():
    """A row without a maturity column takes the configuration's maturity (not the F-IRB 2.5 years)."""
    cfg = P.PricingConfig(maturity=1.0)
    out = P.price_frame(pd.DataFrame({"pd_12m": [0.01]}), cfg)
    k1 = _irb_k(0.01, 0.40, 1.0)
    assert out.loc[0, "capital_rate"] == pytest.approx(12.5 * k1 * 0.105, rel=1e-9)
    assert out.loc[0, "risk_weight"] == pytest.approx(12.5 * k1, rel=1e-9)
    assert k1 < _irb_k(0.01, 0.40, 2.5)


def test_a_rate_exactly_at_the_cap_is_still_suggested():
    """rate_cap: "no suggested rate above this": a rate equal to the cap is priced, one step above it is not."""
    scored = pd.DataFrame({"pd_12m": [0.05]})
    s = float(P.price_frame(scored, P.PricingConfig(rate_cap=1.0)).loc[0, "suggested_rate"])
    at = P.price_frame(scored, P.PricingConfig(rate_cap=s))
    assert at.loc[0, "suggested_rate"] == pytest.approx(s) and at.loc[0, "pricing_reason"] is None
    below = P.price_frame(scored, P.PricingConfig(rate_cap=s - 0.0005))
    assert np.isnan(below.loc[0, "suggested_rate"]) and "above the cap" in below.loc[0, "pricing_reason"]


def test_a_rate_just_above_the_cap_is_not_shown_equal_to_it():
    """Without rounding, a rate 0.001 point above a 15 % cap read "15.00% above the cap 15.00%": the reason shows
    as many decimals as tell the two apart."""
    scored = pd.DataFrame({"pd_12m": [0.05]})
    s = float(P.price_frame(scored, P.PricingConfig(rate_cap=1.0, rounding=0.0)).loc[0, "suggested_rate"])
    cap = s - 0.00001                                        # 0.001 percentage point below the rate
    out = P.price_frame(scored, P.PricingConfig(rate_cap=cap, rounding=0.0))
    assert out.loc[0, "pricing_reason"] == f"risk-based rate {s:.3%} above the cap {cap:.3%}"
    assert f"{s:.3%}" != f"{cap:.3%}"
    wide = P.price_frame(scored, P.PricingConfig(rate_cap=s - 0.001, rounding=0.0))   # 0.1 point: two decimals
    assert wide.loc[0, "pricing_reason"] == f"risk-based rate {s:.2%} above the cap {s - 0.001:.2%}"


# ----------------------------------------------------------------------------- evaluation: windows and repair
def _eval_helpers():
    import yaml

    from creditmodel.data.tables import TABLES
    from creditmodel.evaluation import evaluate, repair_whatif
    from creditmodel.evaluation.config import DEFAULT_CONFIG

    return TABLES, evaluate, repair_whatif, yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))


_A = "91330205MA2H7K3Q0B"


def _district(penalties=(), lists=(), inspections=()):
    from test_features import frame     # a table with every declared column, dates as datetime64

    tables, *_ = _eval_helpers()
    firm = {"uscc": _A, "name": "企业0B", "industry": "F", "street": "baisha", "registered_on": "2018-05-01",
            "registered_capital": 50.0, "size_class": "small", "employees": 10, "status": "active",
            "reported_on": "2018-05-01"}
    given = {"penalties": list(penalties), "lists": list(lists), "inspections": list(inspections)}
    out = {"enterprises": frame("enterprises", [firm])}
    for n, t in tables.items():
        if not t.hidden and n != "enterprises":
            out[n] = frame(n, given.get(n, []))
    return out


def _penalty(rid, decided, min_end, max_end, paid=None, severity="general"):
    return {"record_id": rid, "uscc": _A, "decision_date": decided, "severity": severity, "category": "market",
            "department": "市场监管局", "amount": 1000.0, "publicity_min_end": min_end, "publicity_max_end": max_end,
            "fine_paid_on": paid, "repaired_on": None, "reported_on": decided}


def test_a_paid_penalty_stops_weighing_on_its_maximum_end_date():
    """Publicity runs from the decision *until* the maximum end (DOMAIN A4): on that very day the record no longer
    weighs, in the grade and in the repair what-if alike; the day before it still does."""
    _, evaluate, repair_whatif, _ = _eval_helpers()
    tabs = _district(penalties=[_penalty("P1", "2024-03-01", "2024-06-01", "2025-03-01", paid="2024-03-10")])
    on_end = repair_whatif(tabs, None, _A, pd.Timestamp("2025-03-01"), records=True)[1]
    assert "P1" not in set(on_end["record_id"])
    before = repair_whatif(tabs, None, _A, pd.Timestamp("2025-02-28"), records=True)[1]
    assert "P1" in set(before["record_id"])
    s_end = evaluate(tabs, None, "2025-03-01").set_index("uscc").loc[_A, "public_credit_score"]
    s_before = evaluate(tabs, None, "2025-02-28").set_index("uscc").loc[_A, "public_credit_score"]
    assert s_end > s_before


def test_a_penalty_repair_taking_effect_on_the_maximum_end_date_is_not_simulated():
    """"A repair that would take effect only on or after the record's natural end is reported but not simulated":
    minimum end + decision days == maximum end is not repairable; one day more of publicity and it is."""
    _, _, repair_whatif, raw = _eval_helpers()
    days = pd.Timedelta(days=raw["repair"]["decision_days"])
    min_end = pd.Timestamp("2024-06-01")
    as_of = pd.Timestamp("2024-04-01")
    exact = _district(penalties=[_penalty("P1", "2024-03-01", "2024-06-01", str((min_end + days).date()),
                                          paid="2024-03-10")])
    r = repair_whatif(exact, None, _A, as_of, records=True)[1].set_index("record_id")
    assert not bool(r.loc["P1", "repairable"]) and pd.isna(r.loc["P1", "earliest_repair_date"])
    later = _district(penalties=[_penalty("P1", "2024-03-01", "2024-06-01",
                                          str((min_end + days + pd.Timedelta(days=1)).date()), paid="2024-03-10")])
    r2 = repair_whatif(later, None, _A, as_of, records=True)[1].set_index("record_id")
    assert bool(r2.loc["P1", "repairable"]) and r2.loc["P1", "earliest_repair_date"] == min_end + days


def test_a_listing_removal_taking_effect_on_its_own_end_date_is_not_simulated():
    """The same rule for a list entry: a black-list entry whose recorded end falls exactly when a removal could take
    effect (start + min_months + decision days) ends by itself; one day later and the removal comes first."""
    _, _, repair_whatif, raw = _eval_helpers()
    rule = raw["repair"]["lists"]["black"]
    days = pd.Timedelta(days=raw["repair"]["decision_days"])
    start = pd.Timestamp("2024-01-15")
    eff = start + pd.DateOffset(months=rule["min_months"]) + days
    as_of = pd.Timestamp("2024-03-01")

    def entry(end):
        return {"record_id": "L1", "uscc": _A, "list_type": "black", "department": "发改局", "reason": "x",
                "start_date": str(start.date()), "end_date": str(end.date()), "reported_on": str(start.date())}

    r = repair_whatif(_district(lists=[entry(eff)]), None, _A, as_of, records=True)[1].set_index("record_id")
    assert not bool(r.loc["L1", "repairable"])
    r2 = repair_whatif(_district(lists=[entry(eff + pd.Timedelta(days=1))]), None, _A, as_of,
                       records=True)[1].set_index("record_id")
    assert bool(r2.loc["L1", "repairable"]) and r2.loc["L1", "earliest_repair_date"] == eff


def test_a_failed_inspection_exactly_two_years_old_has_left_its_window():
    """The 2-year window counts events with t - 2 years < event: an inspection exactly two years before the as-of
    date no longer weighs; one day younger, it does."""
    _, _, repair_whatif, _ = _eval_helpers()

    def insp(rid, day):
        return {"record_id": rid, "uscc": _A, "sector": "fire_safety", "inspection_type": "random", "department": "x",
                "inspected_on": day, "result": "fail", "violations": 3, "rectification_due": None,
                "rectified_on": None, "reported_on": day}

    tabs = _district(inspections=[insp("I1", "2023-05-10"), insp("I2", "2023-05-11")])
    recs = repair_whatif(tabs, None, _A, pd.Timestamp("2025-05-10"), records=True)[1]
    assert set(recs["record_id"]) == {"I2"}
