"""Exact values from a mutation pass over the bank deliverable (creditmodel.delivery), the credit allocation
(creditmodel.pricing_allocation) and the rate-versus-churn curves (creditmodel.pricing_churn).

Every expected value is worked out by hand in the comments, from DOMAIN.md B1/B2 (the IRB formula, the cost-plus
build-up, recomputed here with scipy), or by a brute-force loop in the test; none is copied from the code's output."""
from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from creditmodel import pricing_allocation as A
from creditmodel import pricing_churn as C
from creditmodel.delivery import (DELIVERABLE_COLUMNS, Delivery, DeliverableWriter, assemble, deliverable_paths,
                                  scored_at_now)
from creditmodel.errors import ConfigError, InputError


# ------------------------------------------------------------------------------------------------ deliverable
def _scored(pd12, status=None) -> pd.DataFrame:
    """Scoring columns as the engine hands them to the deliverable (row errors applied)."""
    n = len(pd12)
    status = status or ["ok"] * n
    return pd.DataFrame({"score": pd.array([600] * n, dtype="Int64"), "grade": ["5"] * n,
                         "pd_12m": pd12, "reason_1": None, "reason_2": None, "reason_3": None, "model_name": "m",
                         "model_version": "1", "status": status,
                         "error": [None if s == "ok" else 'column "x1": expected a number' for s in status]})


def _delivery(tmp_path) -> Delivery:
    """A Delivery on a model that has what the card reads (test_delivery._card_model: development originations
    2021-01-01 .. 2023-12-31), no training."""
    from test_delivery import _card_model

    data = tmp_path / "in.csv"
    if not data.exists():
        data.write_text("uscc\n", encoding="utf-8")
    resolved = SimpleNamespace(model=_card_model(), version="1", metadata={}, registered_name="m", alias="champion")
    return Delivery(resolved, data, tmp_path / "out.parquet")


def _codes(n, start=0):
    return [f"91330205MA{i:08d}" for i in range(start, start + n)]


def test_source_date_epoch_is_seconds_since_1970(monkeypatch):
    """SOURCE_DATE_EPOCH counts seconds (reproducible-builds.org): 1767225600 s = 20454 days = 56 years of which
    14 leap (1972 .. 2024): 56 x 365 + 14 = 20454, so 2026-01-01 00:00:00 UTC."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    got = scored_at_now()
    assert got == pd.Timestamp("2026-01-01 00:00:00", tz="UTC")
    assert got == pd.Timestamp(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=1767225600))


def test_scored_at_given_in_beijing_time_is_written_as_its_utc_instant():
    """08:00 in Beijing (UTC+8) is 00:00 UTC: the column is a UTC timestamp, not the local wall time relabelled."""
    out = assemble(_scored([0.02]), pd.DataFrame({"uscc": _codes(1)}), "ab" * 32,
                   pd.Timestamp("2026-12-05 08:00", tz="Asia/Shanghai"))
    assert out.loc[0, "scored_at"] == pd.Timestamp("2026-12-05 00:00", tz="UTC")


def test_assemble_refuses_misaligned_inputs_and_keeps_the_date_only():
    """Inputs one row short of the scores would shift every uscc onto another firm's score: refused. as_of_date is
    a date: 10:00 Beijing time on 31 December is 2025-12-31 (00:00), in the frame as in the files."""
    with pytest.raises(ValueError, match="same number of rows"):
        assemble(_scored([0.02, 0.03]), pd.DataFrame({"uscc": _codes(1)}), "ab" * 32,
                 pd.Timestamp("2026-12-04", tz="UTC"))
    out = assemble(_scored([0.02]), pd.DataFrame({"uscc": _codes(1), "as_of_date": ["2025-12-31T10:00:00+08:00"]}),
                   "ab" * 32, pd.Timestamp("2026-12-04", tz="UTC"))
    assert out.loc[0, "as_of_date"] == pd.Timestamp("2025-12-31")


def test_a_grade_given_in_the_input_is_kept_and_the_evaluation_fills_only_the_empty_ones():
    """The input's own public_credit_grade / supervision_class stand; the evaluation (by uscc) fills the empty
    cells only, both columns."""
    codes = _codes(3)
    inputs = pd.DataFrame({"uscc": codes, "public_credit_grade": ["A", None, None],
                           "supervision_class": [None, "D", None]})
    ev = pd.DataFrame({"uscc": codes, "public_credit_grade": ["C", "B", "D"], "supervision_class": ["B", "A", "C"]})
    out = assemble(_scored([0.02] * 3), inputs, "ab" * 32, pd.Timestamp("2026-12-04", tz="UTC"), evaluation=ev)
    assert out["public_credit_grade"].tolist() == ["A", "B", "D"]
    assert out["supervision_class"].tolist() == ["B", "D", "C"]
    assert out["error"].isna().all()


def test_chinese_grade_words_are_public_credit_grades_not_supervision_classes():
    """优/良/中/差 are the public credit evaluation's grades (DESIGN section 5); the supervision class is A-D only,
    so '优' there is not a class: left empty, and the row says so."""
    inputs = pd.DataFrame({"uscc": _codes(2), "public_credit_grade": ["优", "差"], "supervision_class": ["优", "B"]})
    out = assemble(_scored([0.02] * 2), inputs, "ab" * 32, pd.Timestamp("2026-12-04", tz="UTC"))
    assert out["public_credit_grade"].tolist() == ["A", "D"]
    assert pd.isna(out.loc[0, "supervision_class"]) and out.loc[1, "supervision_class"] == "B"
    assert out.loc[0, "error"] == "supervision_class '优' is not one of A, B, C, D: left empty"
    assert pd.isna(out.loc[1, "error"])


def test_the_sidecar_counts_its_rows_lists_every_reason_code_and_describes_the_id_last():
    from creditmodel.delivery import sidecar

    df = pd.DataFrame({"status": ["ok", "error", "ok", "error", "ok"]})
    codes = pd.DataFrame({"code": ["tax_grade", "penalties_n"], "text_zh": ["纳税", "处罚"],
                          "text_en": ["Tax", "Penalties"]})
    doc = sidecar(df, "m", "3", "ab" * 32, reason_codes=codes, id_col="loan_id")
    assert (doc["rows"], doc["rows_ok"], doc["rows_error"]) == (5, 3, 2)
    assert [r["code"] for r in doc["reason_codes"]] == ["tax_grade", "penalties_n"]
    assert doc["reason_codes"][1] == {"code": "penalties_n", "text_zh": "处罚", "text_en": "Penalties"}
    assert [c["name"] for c in doc["columns"]] == [*DELIVERABLE_COLUMNS, "loan_id"]
    assert [c["name"] for c in sidecar(df, "m", "3", "ab" * 32, id_col="uscc")["columns"]] == DELIVERABLE_COLUMNS


def test_an_upper_case_suffix_is_still_a_deliverable_name():
    """'Book.CSV' names the deliverable 'Book' (both files), as 'Book.csv' does; another suffix is part of the stem."""
    from pathlib import Path

    got = deliverable_paths("d/Book.CSV")
    assert got == {"parquet": Path("d/Book.parquet"), "csv": Path("d/Book.csv"), "sidecar": Path("d/Book.columns.json"),
                   "model_card": Path("d/Book.model_card.md")}
    assert deliverable_paths("d/Book.PARQUET")["csv"] == Path("d/Book.csv")
    assert deliverable_paths("d/Book.v2")["csv"] == Path("d/Book.v2.csv")


def test_the_writer_takes_one_id_column_after_the_contract_and_no_more(tmp_path):
    out = assemble(_scored([0.02]), pd.DataFrame({"uscc": _codes(1), "loan_id": ["L1"]}), "ab" * 32,
                   pd.Timestamp("2026-12-04", tz="UTC"), id_col="loan_id")
    assert list(out.columns) == [*DELIVERABLE_COLUMNS, "loan_id"]
    DeliverableWriter(tmp_path / "one.parquet").append(out)                      # one extra column: accepted
    with pytest.raises(ValueError, match="contract order"):
        DeliverableWriter(tmp_path / "two.parquet").append(out.assign(branch="x"))


def _floor_rate(p, lgd=0.40, funding=0.018, opex=0.008, hurdle=0.12, ratio=0.105, m=2.5):
    """DOMAIN B1 (IRB corporate, Basel III, no SME adjustment) and B2 (cost-plus) with the default pricing.yaml:
    funding + opex + PD x LGD + 12.5 K x capital ratio x (hurdle - funding)."""
    p = max(p, 0.0005)
    w = (1 - np.exp(-50 * p)) / (1 - np.exp(-50))
    r = 0.12 * w + 0.24 * (1 - w)
    b = (0.11852 - 0.05478 * np.log(p)) ** 2
    k = (lgd * norm.cdf((norm.ppf(p) + np.sqrt(r) * norm.ppf(0.999)) / np.sqrt(1 - r)) - p * lgd) \
        * (1 + (m - 2.5) * b) / (1 - 1.5 * b)
    return funding + opex + p * lgd + 12.5 * k * ratio * (hurdle - funding)


def test_the_card_counts_the_rows_priced_at_the_policy_rate_not_those_priced_by_risk(tmp_path):
    """PD 0.05 %: floor 1.8 + 0.8 + 0.02 + 17.5 % RW x 10.5 % x 10.2 % = 2.81 % < the policy rate (LPR 3.00 %), so
    3.00 % is set by policy. PD 5 %: RW 133.2 % (DOMAIN B1), floor 1.8 + 0.8 + 2.0 + 1.332 x 10.5 % x 10.2 % = 6.03 %,
    rounded up to 0.05 %: 6.05 %, set by its risk. PD 30 %: EL alone 12 %, the floor above the 15 % cap: unpriced.
    So 2 rows priced, 1 by the policy rate, 1 over the cap."""
    assert _floor_rate(0.0005) == pytest.approx(0.0281, abs=1e-4)
    assert _floor_rate(0.05) == pytest.approx(0.0603, abs=1e-4)
    assert _floor_rate(0.30) > 0.15
    d = _delivery(tmp_path)
    d.add(_scored([0.0005, 0.05, 0.30]), pd.DataFrame({"uscc": _codes(3), "as_of_date": "2025-12-31"}))
    res = d.finish()
    got = pd.read_parquet(res.files["parquet"])
    assert got["suggested_rate"].tolist()[:2] == pytest.approx([0.030, np.ceil(_floor_rate(0.05) / 0.0005) * 0.0005])
    assert got.loc[1, "suggested_rate"] == pytest.approx(0.0605) and np.isnan(got.loc[2, "suggested_rate"])
    card = res.files["model_card"].read_text(encoding="utf-8")
    assert "Of the 2 rows with a suggested rate, 1 have it set by the policy rate" in card
    assert "above the cap 15.00 %: 1 rows." in card


def test_sales_of_exactly_eur_50m_are_no_sme(tmp_path):
    """Basel's SME is a firm with sales below EUR 50 m (DOMAIN B1: SME = group sales < EUR 50 m; at S = 50 the
    adjustment 0.04 x (1 - 45/45) is 0): of two priced rows with sales 49.5 and 50, one is SME-adjusted."""
    d = _delivery(tmp_path)
    d.add(_scored([0.02, 0.02, 0.02]), pd.DataFrame({"uscc": _codes(3), "as_of_date": "2025-12-31",
                                                      "sales_eur_m": [49.5, 50.0, np.nan]}))
    side = json.loads(d.finish().files["sidecar"].read_text(encoding="utf-8"))
    assert side["pricing_firm_size"]["rows_with_sales"] == 2
    assert side["pricing_firm_size"]["rows_sme_adjusted"] == 1


def test_invalid_public_credit_values_are_counted_over_every_chunk_and_the_first_named_by_its_row(tmp_path, caplog):
    """Chunk 1 (rows 1-2) all valid, chunk 2 (rows 3-5) 'E' and 'e' on rows 4 and 5, chunk 3 (row 6) 'E': the
    sidecar counts 3 (not the last chunk's 1), the warning names data row 4 (not row 2 of its chunk). Every row and
    the sidecar carry the SHA-256 of the input file, computed here with hashlib."""
    import hashlib

    d = _delivery(tmp_path)
    with caplog.at_level("WARNING", logger="creditmodel.delivery"):
        d.add(_scored([0.02] * 2), pd.DataFrame({"uscc": _codes(2), "as_of_date": "2025-12-31",
                                                 "public_credit_grade": ["A", "A"]}))
        d.add(_scored([0.02] * 3), pd.DataFrame({"uscc": _codes(3, 2), "as_of_date": "2025-12-31",
                                                 "public_credit_grade": ["B", "E", "e"]}))
        d.add(_scored([0.02]), pd.DataFrame({"uscc": _codes(1, 5), "as_of_date": "2025-12-31",
                                             "public_credit_grade": ["E"]}))
        res = d.finish()
    side = json.loads(res.files["sidecar"].read_text(encoding="utf-8"))
    assert side["rows_invalid_public_credit_grade"] == 3
    assert (side["rows"], side["rows_ok"], side["rows_error"]) == (6, 6, 0)
    assert "3 row(s) with a public_credit_grade that is not A, B, C or D (first: row 4)" in caplog.text
    sha = hashlib.sha256((tmp_path / "in.csv").read_bytes()).hexdigest()
    assert side["data_sha256"] == sha
    assert pd.read_parquet(res.files["parquet"])["data_sha256"].tolist() == [sha] * 6


def test_the_card_s_as_of_window_spans_every_chunk_and_counts_whole_months(tmp_path):
    """Chunk 1 as of 2025-03-31, chunk 2 as of 2025-06-15: the window is 2025-03-31 .. 2025-06-15. From the last
    development origination 2023-12-31 to 2025-06-15: 18 calendar months less one (the 15th is before the 31st and
    not June's last day) = 17 months; 366 (2024) + 31+28+31+30+31+15 = 532 days."""
    assert (dt.date(2025, 6, 15) - dt.date(2023, 12, 31)).days == 532
    d = _delivery(tmp_path)
    d.add(_scored([0.02]), pd.DataFrame({"uscc": _codes(1), "as_of_date": ["2025-03-31"]}))
    d.add(_scored([0.02]), pd.DataFrame({"uscc": _codes(1, 1), "as_of_date": ["2025-06-15"]}))
    card = d.finish().files["model_card"].read_text(encoding="utf-8")
    assert ("this deliverable scored as of 2025-03-31 .. 2025-06-15, 17 months (532 days) after the last development "
            "origination (none validated) (2023-12-31)") in card


# ------------------------------------------------------------------------------------------------ allocation
class _Flat:
    """A churn curve that keeps the same share of offers at every rate (duck-typed like ChurnCurve)."""

    def __init__(self, keep: float):
        self.keep = keep

    def retention(self, rate):
        return np.full(np.shape(rate), self.keep) if np.ndim(rate) else self.keep

    def predict(self, rate):
        return 1.0 - self.retention(rate)


def _reasons(firms: pd.DataFrame) -> list[str]:
    """The reason column with "-" for a loan (no reason)."""
    return firms["reason"].astype(object).where(firms["reason"].notna(), "-").tolist()


def test_allocation_totals_by_hand():
    """Take-up 50 % at every rate, so the best rate is the top of the range, 15 %. Rules: cost_rate 1 % where not
    given, budget 1,505,000 (150.5 steps of 10,000: 150 usable). Per yuan offered:
      f0 PD 2 %, LGD 40 % (the rules'):  0.5 x (0.98 x 0.15 - 0.008 - 0.01) = 0.0645
      f1 PD 5 %, LGD 60 % (its own):      0.5 x (0.95 x 0.15 - 0.030 - 0.01) = 0.05125
      f2 grade D: excluded.
    Best: f0 1,000,000 (the maximum loan), f1 500,000. Lent 0.5 x 1.5 m = 750,000; interest 500,000 x 0.98 x 0.15
    + 250,000 x 0.95 x 0.15 = 73,500 + 35,625 = 109,125; loss 500,000 x 0.02 x 0.4 + 250,000 x 0.05 x 0.6 =
    4,000 + 7,500 = 11,500; cost 7,500; profit 90,125 (= 0.0645 x 1 m + 0.05125 x 0.5 m)."""
    rules = A.AllocationRules(budget=1_505_000, cost_rate=0.01)
    firms = pd.DataFrame({"grade": ["A", "B", "D"], "pd_12m": [0.02, 0.05, 0.01], "lgd": [np.nan, 0.6, np.nan]})
    res = A.allocate(firms, _Flat(0.5), rules)
    f, t = res.firms, res.totals
    assert f["rate"].tolist()[:2] == pytest.approx([0.15, 0.15]) and np.isnan(f.loc[2, "rate"])
    assert f["profit_per_yuan"].tolist()[:2] == pytest.approx([0.0645, 0.05125])
    assert f["limit"].tolist() == [1_000_000, 500_000, 0]
    assert f["expected_lent"].tolist() == pytest.approx([500_000, 250_000, 0])
    assert f["expected_loss"].tolist() == pytest.approx([4_000, 7_500, 0])
    assert _reasons(f) == ["-", "-", "excluded grade"]
    assert t["limits"] == 1_500_000 and t["n_loans"] == 2
    assert t["expected_lent"] == pytest.approx(750_000)
    assert t["expected_interest"] == pytest.approx(109_125)
    assert t["expected_loss"] == pytest.approx(11_500)
    assert t["expected_cost"] == pytest.approx(7_500)
    assert t["expected_profit"] == pytest.approx(90_125)
    assert t["return_on_lent"] == pytest.approx(90_125 / 750_000)
    assert t["return_on_budget"] == pytest.approx(90_125 / 1_505_000)


def test_allocation_rules_refuse_by_key():
    for kwargs, key in (({"budget": 0}, "budget"), ({"limit_step": 0.0}, "limit_step"),
                        ({"max_loan": 1_005_000}, "max_loan"), ({"rate_min": 0.16}, "rate_min"),
                        ({"cost_rate": 1.0}, "cost_rate"), ({"cost_rate": -1.0}, "cost_rate"),
                        ({"lgd": 1.2}, "lgd"), ({"excluded_grades": "D"}, "excluded_grades")):
        with pytest.raises(ConfigError) as e:
            A.AllocationRules(**kwargs)
        assert e.value.column == key, kwargs
    # one loan size: min_loan = max_loan is a rule, not an error
    one = A.AllocationRules(min_loan=100_000, max_loan=100_000, budget=250_000)
    res = A.allocate(pd.DataFrame({"pd_12m": [0.01, 0.02, 0.03]}), _Flat(1.0), one)
    assert res.firms["limit"].tolist() == [100_000, 100_000, 0]


def test_allocation_row_rules_at_their_edges():
    """A grade with blanks around it finds its curve; the first reason a row fails is the one it keeps (grade D
    with no PD: excluded grade); PD 0 is a PD; a negative LGD is refused; max_limit 155,000 caps at 150,000 (a
    multiple of the step, not above the firm's cap) and 100,000 (the minimum loan) is a loan; a firm whose best rate
    earns exactly 0 (PD 100 %, LGD 0) is unprofitable, not left out by the budget."""
    firms = pd.DataFrame({"grade": [" A ", "D", "A", "A", "A", "A", "A"],
                          "pd_12m": [0.01, np.nan, 0.0, 0.01, 0.01, 0.01, 1.0],
                          "lgd": [np.nan, np.nan, np.nan, -0.1, np.nan, np.nan, 0.0],
                          "max_limit": [np.nan, np.nan, np.nan, np.nan, 155_000, 100_000, np.nan]})
    f = A.allocate(firms, {"A": _Flat(1.0)}, A.AllocationRules(budget=10e6)).firms
    assert _reasons(f) == ["-", "excluded grade", "-", "lgd outside [0, 1]", "-", "-",
                           "no profitable rate in [4.00%, 15.00%]"]
    assert f["limit"].tolist() == [1_000_000, 0, 1_000_000, 0, 150_000, 100_000, 0]
    assert f.loc[4, "limit_cap"] == 150_000


def test_three_minimum_loans_beat_the_two_best_firms_filled():
    """Everyone takes the offer, so each firm's rate is 15 % and its profit per yuan 0.15 - (0.15 + 0.40) PD:
    PD 7.9 % -> 0.10655, 3.9 % -> 0.12855, 6.6 % -> 0.1137, 18.1 % -> 0.05045. Budget 2.1 m, loans 0.7 m .. 1 m in
    steps of 0.1 m. Filling the best two to 1 m leaves 0.1 m, too little for a loan: 128,550 + 113,700 = 242,250.
    Three loans of 0.7 m use the whole budget: 0.7 m x (0.12855 + 0.1137 + 0.10655) = 244,160, the optimum (0.8 %
    better, within a 5 % MIP gap: the solver must be run to the exact optimum). Checked by brute force here."""
    import itertools

    rules = A.AllocationRules(budget=2_100_000, min_loan=700_000, max_loan=1_000_000, limit_step=100_000)
    pds = np.array([0.079, 0.039, 0.066, 0.181])
    res = A.allocate(pd.DataFrame({"pd_12m": pds}), _Flat(1.0), rules)
    per_yuan = 0.15 - 0.55 * pds
    best = max(float(np.dot(np.array(c) * 1e5, per_yuan)) for c in itertools.product([0, 7, 8, 9, 10], repeat=4)
               if sum(c) <= 21)
    assert best == pytest.approx(244_160)
    assert res.firms["limit"].tolist() == [700_000, 700_000, 700_000, 0]
    assert res.totals["expected_profit"] == pytest.approx(244_160)


def test_the_rules_excluded_grades_are_the_ones_excluded():
    f = A.allocate(pd.DataFrame({"grade": ["C", "D"], "pd_12m": [0.02, 0.02]}), _Flat(1.0),
                   A.AllocationRules(excluded_grades=("C",))).firms
    assert _reasons(f) == ["excluded grade", "-"] and f["limit"].tolist() == [0, 1_000_000]


def test_naive_allocation_by_hand():
    """Six eligible firms, budget 1,000,000: 166,667 each, rounded down to the step: 160,000 (not 170,000), but a
    firm capped at 120,000 gets 120,000; one rate for all, the middle of 4 %-15 %: 9.5 %. Budget 250,000 for three:
    83,333 each is below the minimum loan, so the first 250,000 // 100,000 = 2 in input order get 100,000, and the
    third none: 'budget exhausted'."""
    firms = pd.DataFrame({"pd_12m": [0.02] * 6, "max_limit": [np.nan] * 5 + [120_000]})
    f = A.naive_allocation(firms, _Flat(1.0), A.AllocationRules(budget=1_000_000)).firms
    assert f["limit"].tolist() == [160_000] * 5 + [120_000]
    assert f["rate"].tolist() == pytest.approx([0.095] * 6)
    g = A.naive_allocation(firms.head(3), _Flat(1.0), A.AllocationRules(budget=250_000)).firms
    assert g["limit"].tolist() == [100_000, 100_000, 0]
    assert _reasons(g) == ["-", "-", "budget exhausted"]


# ------------------------------------------------------------------------------------------------ churn
#: four points whose isotonic fit pools the first three: (0.5 + 0.5 + 0) / 3 = 1/3, then 0.9
_RATE = np.array([0.04, 0.05, 0.06, 0.07])
_CHURN = np.array([0.5, 0.5, 0.0, 0.9])


def test_isotonic_curve_fit_quality_by_hand():
    """Fitted 1/3, 1/3, 1/3, 0.9 (PCHIP passes through its knots): residuals 1/6, 1/6, -1/3, 0; the largest in size
    is the negative one, 1/3; R² = 1 - SSres / SStot about the mean 0.475. Leave-one-out: each point predicted by
    sklearn's isotonic fit and scipy's PCHIP on the other three (clipped to their range), a brute-force loop here."""
    from scipy.interpolate import PchipInterpolator
    from sklearn.isotonic import IsotonicRegression

    c = C.ChurnCurve(kind="isotonic").fit(_RATE, _CHURN)
    res = _CHURN - np.array([1 / 3, 1 / 3, 1 / 3, 0.9])
    np.testing.assert_allclose(c.predict(_RATE), [1 / 3, 1 / 3, 1 / 3, 0.9], atol=1e-12)
    assert c.max_abs_error_ == pytest.approx(1 / 3)
    assert c.rmse_ == pytest.approx(np.sqrt(np.mean(res ** 2)))
    assert c.r2_ == pytest.approx(1 - np.sum(res ** 2) / np.sum((_CHURN - 0.475) ** 2))
    loo = []
    for i in range(4):
        x, y = np.delete(_RATE, i), np.delete(_CHURN, i)
        fit = IsotonicRegression(y_min=0, y_max=1, increasing=True).fit(x, y).predict(x)
        loo.append(_CHURN[i] - PchipInterpolator(x, fit)(np.clip(_RATE[i], x[0], x[-1])))
    # by hand: 0.5 - 0.25, 0.5 - 0.25 (a flat stretch), 0 - 0.61667 (Hermite midpoint), 0.9 - 1/3
    np.testing.assert_allclose(loo, [0.25, 0.25, -0.5 * 0.5 - 0.5 * 0.9 + 0.125 * 0.02 * (1.0 / 0.03), 0.9 - 1 / 3],
                               atol=1e-9)
    assert c.loo_rmse_ == pytest.approx(np.sqrt(np.mean(np.square(loo))))
    assert c.loo_rmse_ > c.rmse_
    # outside its knots the isotonic curve keeps its end values
    np.testing.assert_allclose(c.predict([0.03, 0.09]), [1 / 3, 0.9], atol=1e-12)


def test_a_falling_churn_table_gets_an_increasing_curve():
    """Isotonic regression constrained increasing: falling data 0.9, 0.5, 0.5, 0 pool into their mean 0.475."""
    c = C.ChurnCurve(kind="isotonic").fit(_RATE, [0.9, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(c.predict(_RATE), [0.475] * 4, atol=1e-12)


def test_churn_fit_input_rules():
    with pytest.raises(InputError, match="at least 4"):
        C.ChurnCurve().fit([0.04, 0.05, 0.06], [0.0, 0.1, 0.2])
    with pytest.raises(InputError) as e:
        C.ChurnCurve().fit(_RATE, [0.0, 0.1, 0.2, 1.2])
    assert e.value.column == "churn"
    # the Weibull starts at the lowest observed rate unless told: 0 at and below 5 % for a table starting there
    table = pd.DataFrame({"grade": "A", "rate": [0.05, 0.07, 0.09, 0.11, 0.13, 0.15],
                          "churn": 1 - np.exp(-((np.array([0.05, 0.07, 0.09, 0.11, 0.13, 0.15]) - 0.05) / 0.04))})
    curve = C.fit_churn_curves(table)["A"]
    assert curve.rate_start == 0.05
    assert curve.params_["scale"] == pytest.approx(0.04, rel=1e-4)
    assert curve.params_["shape"] == pytest.approx(1, rel=1e-4)
    assert curve.predict(0.045) == 0.0 and curve.predict(0.05) == 0.0


def test_jeffreys_pd_by_hand():
    """(d + 1/2) / (n + 1): 0 of 9 -> 0.05, 3 of 9 -> 0.35; more defaults than firms is refused."""
    assert C.jeffreys_pd(0, 9) == pytest.approx(0.05) and C.jeffreys_pd(3, 9) == pytest.approx(0.35)
    with pytest.raises(InputError):
        C.jeffreys_pd(10, 9)


def test_profit_charges_the_cost_rate_and_the_best_rate_takes_it_into_account():
    """Everyone takes the offer (churn 0): profit(r) = (1 - PD) r - PD LGD - cost, best at the top of the range;
    PD 2 %, LGD 40 %, cost 1 %: 0.98 x 0.15 - 0.008 - 0.01 = 0.129."""
    assert C.expected_profit(0.15, 0.02, 0.4, _Flat(1.0), cost_rate=0.01) == pytest.approx(0.129)
    r, prof = C.optimal_rate(_Flat(1.0), 0.02, 0.4, cost_rate=0.01)
    assert r == pytest.approx(0.15) and prof == pytest.approx(0.129)


def test_the_rate_grid_includes_both_ends():
    """4.00 % to 4.05 % in steps of 0.02 %: 4.00, 4.02, 4.04 and the top 4.05 itself."""
    np.testing.assert_allclose(C.rate_grid(0.04, 0.0405, 0.0002), [0.04, 0.0402, 0.0404, 0.0405], atol=1e-12)
    with pytest.raises(InputError):
        C.rate_grid(0.15, 0.04)


def test_a_tie_goes_to_the_lowest_rate_and_every_chunk_is_filled():
    """PD 100 % with LGD 0 earns exactly 0 at every rate: the tie goes to the lowest, 4 %. Chunked over 2 rows at a
    time, 5 firms get what each gets alone."""
    r, prof = C.optimal_rate(_Flat(0.7), 1.0, 0.0)
    assert r == pytest.approx(0.04) and prof == 0.0
    pds = np.array([0.0, 0.01, 0.02, 0.05, 0.1])
    r5, p5 = C.optimal_rate(_Flat(0.7), pds, 0.4, chunk=2)
    # churn flat: the top of the range; 0.7 x ((1 - PD) 0.15 - 0.4 PD)
    np.testing.assert_allclose(r5, [0.15] * 5)
    np.testing.assert_allclose(p5, 0.7 * ((1 - pds) * 0.15 - 0.4 * pds), rtol=1e-12)


def test_rates_by_grade_report_churn_and_both_ends_of_the_range():
    """Curve churn(r) = 1 - exp(-(r - 4 %) / 5 %) set directly: at 4 % it keeps everyone, at 15 % exp(-2.2).
    PD 2 %, LGD 40 %: profit at 4 %: 0.98 x 0.04 - 0.008 = 0.0312; at 15 %: exp(-2.2) x (0.147 - 0.008).
    Best rate (exponential churn, DOMAIN-free calculus): r* = scale + PD LGD / (1 - PD) = 0.05 + 0.008 / 0.98."""
    curve = C.ChurnCurve(rate_start=0.04)
    curve.params_ = {"scale": 0.05, "shape": 1.0}
    t = C.optimal_rates_by_grade({"A": curve}, {"A": 0.02}, lgd=0.4).iloc[0]
    assert t["profit_at_rate_min"] == pytest.approx(0.0312)
    assert t["profit_at_rate_max"] == pytest.approx(np.exp(-2.2) * 0.139)
    r_star = 0.05 + 0.008 / 0.98                                     # 0.058163: 0.0582 on the 1 bp grid
    assert t["rate"] == pytest.approx(0.0582)
    assert abs(t["rate"] - r_star) <= 0.00005
    assert t["churn"] == pytest.approx(1 - np.exp(-(0.0582 - 0.04) / 0.05))


def test_rates_by_grade_check_the_lgd_even_without_a_curve():
    """The LGD is a fraction whatever the grades given: 40 (meant 40 %) is refused naming it, with no curve too."""
    from creditmodel.pricing import DomainError

    with pytest.raises(DomainError, match="argument lgd "):
        C.optimal_rates_by_grade({}, {}, lgd=40)


def test_the_churn_table_is_read_by_grade_and_rate(tmp_path):
    """Attachment 3's layout: rates in rows, one churn column per grade (客户流失率_信誉评级<grade>); read in
    grade then rate order whatever the file's row order. A churn of 1 (every customer lost) is a fraction in [0, 1]."""
    p = tmp_path / "a3.csv"
    pd.DataFrame({"贷款年利率": [0.06, 0.04, 0.05], "客户流失率_信誉评级A": [0.3, 0.0, 0.1],
                  "客户流失率_信誉评级B": [1.0, 0.0, 0.2]}).to_csv(p, index=False, encoding="utf-8-sig")
    got = C.load_rate_churn(p)
    assert got["grade"].tolist() == ["A"] * 3 + ["B"] * 3
    assert got["rate"].tolist() == [0.04, 0.05, 0.06] * 2
    assert got["churn"].tolist() == [0.0, 0.1, 0.3, 0.0, 0.2, 1.0]



# ------------------------------------------------------------------------------------------------ found in this pass
def test_the_evaluation_is_found_for_a_uscc_in_another_spelling():
    """The row check reads one code however it is spelt (lower case, full width, blanks: data.uscc.normalise_series),
    so such a row is scored ok; its public credit grade and supervision class come from the evaluation too (they
    stayed empty: found by this pass, fixed in dc3f517, which has no test of its own for it)."""
    codes = _codes(3)
    full_width = codes[2].translate({ord(ch): ord(ch) + 0xFEE0 for ch in "0123456789MA"})
    inputs = pd.DataFrame({"uscc": [codes[0].lower(), f" {codes[1]}", full_width]})
    ev = pd.DataFrame({"uscc": codes, "public_credit_grade": ["B", "C", "D"], "supervision_class": ["A", "B", "C"]})
    out = assemble(_scored([0.02] * 3), inputs, "ab" * 32, pd.Timestamp("2026-12-04", tz="UTC"), evaluation=ev)
    assert out["public_credit_grade"].fillna("-").tolist() == ["B", "C", "D"]
    assert out["supervision_class"].fillna("-").tolist() == ["A", "B", "C"]


def test_the_deliverable_prices_with_the_inputs_maturity_and_secured_share(tmp_path):
    """The deliverable reads every optional pricing column that ``creditmodel price`` reads. PD 2 %, unsecured:
    a one-year loan (maturity 1) holds less capital than the configured 2.5 years; an own LGD of 5 % on property
    covering half the exposure (secured_share 0.5) is floored at 0.5 x 25 % + 0.5 x 10 % = 17.5 % (CRE32.17), not at
    the fully secured 10 %. Expected rates from DOMAIN B1/B2 by hand (_floor_rate), rounded up to 0.05 %."""
    d = _delivery(tmp_path)
    d.add(_scored([0.02, 0.02, 0.02]), pd.DataFrame({
        "uscc": _codes(3), "as_of_date": "2025-12-31", "maturity": [1.0, np.nan, np.nan],
        "collateral": ["none", "property", "none"], "lgd": [np.nan, 0.05, np.nan],
        "secured_share": [np.nan, 0.5, np.nan]}))
    got = pd.read_parquet(d.finish().files["parquet"])["suggested_rate"].to_numpy(dtype=float)
    want = [np.ceil(round(_floor_rate(0.02, **kw) / 0.0005, 9)) * 0.0005
            for kw in ({"m": 1.0}, {"lgd": 0.175}, {})]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert got[0] < got[2] and got[1] < got[2]   # shorter maturity, a secured loan: cheaper than the plain row


def test_the_card_and_sidecar_count_the_rows_priced_at_the_configured_loan_terms(tmp_path):
    """Rows whose capital is computed (scored, not in default; the one above the cap too): 4 of the 5 (row 3 is in
    default). Without collateral or own LGD: rows 0, 2 (blank), 4 (row 1 has collateral, row 3 is in default) -> 3.
    Without maturity: rows 1, 2, 4 (row 0 gives 1 year; spaces are empty) -> 3. A file giving an own LGD (no
    collateral) and a maturity on its one row: no such line."""
    d = _delivery(tmp_path)
    d.add(_scored([0.02, 0.02, 0.30, 1.0, 0.05]), pd.DataFrame({
        "uscc": _codes(5), "as_of_date": "2025-12-31", "maturity": ["1", "", "  ", None, None],
        "collateral": [None, "property", " ", None, None], "lgd": [np.nan, np.nan, np.nan, np.nan, np.nan]}))
    res = d.finish()
    side = json.loads(res.files["sidecar"].read_text(encoding="utf-8"))["pricing_default_terms"]
    assert (side["rows_with_capital"], side["rows_without_collateral"], side["rows_without_maturity"]) == (4, 3, 3)
    card = res.files["model_card"].read_text(encoding="utf-8")
    assert ("- Loan terms the input did not give: of the 4 scored rows not in default, 3 without a collateral or an own "
            "LGD (priced as none, LGD 40 %) and 3 without a maturity (priced at 2.5 years)") in card
    (tmp_path / "given").mkdir()
    d2 = _delivery(tmp_path / "given")
    d2.add(_scored([0.02]), pd.DataFrame({"uscc": _codes(1), "as_of_date": "2025-12-31", "maturity": [2.0],
                                          "lgd": [0.45]}))
    assert "Loan terms the input did not give" not in d2.finish().files["model_card"].read_text(encoding="utf-8")


def test_the_card_says_how_the_version_became_champion_and_that_a_red_validation_since_is_the_banks_call(tmp_path):
    """Registry tags of a version promoted on its in-time check and validated red out of time since: the card's
    Validation section names the check's date, status, sample (file name, rows) and reasons, then the red since. No
    promotion tags (or a refused promotion): no such line."""
    tags = {"promotion_decision": "promoted", "promotion_validation_status": "amber",
            "promotion_reasons": "validation: no red light on discrimination or portfolio calibration",
            "promotion_checked_at": "2026-12-01T13:18:57+00:00",
            "promotion_evidence": json.dumps({"sample": "/x/evidence/abc/test_sample.parquet", "n": 754}),
            "validation_status": "red", "validation_red_checks": "jeffreys_p"}
    d = _delivery(tmp_path)
    d.resolved.metadata = tags
    d.add(_scored([0.02]), pd.DataFrame({"uscc": _codes(1), "as_of_date": "2025-12-31"}))
    val = d.finish().files["model_card"].read_text(encoding="utf-8").split("## Validation")[1].split("## ")[0]
    assert ("- Promoted to champion by the check of 2026-12-01 (status amber on 754 rows of test_sample.parquet: "
            "validation: no red light on discrimination or portfolio calibration); the validation recorded since "
            "(above) is red: relying on this version's PDs and rates is the bank's decision until it is revalidated "
            "or replaced.") in val
    assert val.index("status **red**") < val.index("- Promoted to champion")
    for i, other in enumerate(({**tags, "validation_status": "amber"}, {**tags, "promotion_decision": "refused"}, {})):
        (tmp_path / str(i)).mkdir()
        d = _delivery(tmp_path / str(i))
        d.resolved.metadata = other
        d.add(_scored([0.02]), pd.DataFrame({"uscc": _codes(1), "as_of_date": "2025-12-31"}))
        card = d.finish().files["model_card"].read_text(encoding="utf-8")
        assert ("- Promoted to champion by the check of 2026-12-01 (status amber" in card) is (i == 0)
        assert "is the bank's decision" not in card


@pytest.mark.parametrize("as_of, said", [("2025-12-31", True), ("2026-09-06", True), ("2026-09-07", False)])
def test_the_card_says_when_the_as_of_dates_are_stale_at_scoring(tmp_path, monkeypatch, as_of, said):
    """Scored on 2026-12-08 (SOURCE_DATE_EPOCH 1796688000 = 2026-12-08T00:00:00Z, by hand: 20,795 days x 86,400 s):
    as-of 2025-12-31 is 342 days before, 2026-09-06 93 days (said: more than 92), 2026-09-07 92 days (not said)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796688000")
    assert pd.Timestamp("2026-12-08") - pd.Timestamp("1970-01-01") == pd.Timedelta(days=20_795)
    d = _delivery(tmp_path)
    d.add(_scored([0.02]), pd.DataFrame({"uscc": _codes(1), "as_of_date": as_of}))
    card = d.finish().files["model_card"].read_text(encoding="utf-8")
    days = (pd.Timestamp("2026-12-08") - pd.Timestamp(as_of)).days
    assert (f"; scored on 2026-12-08, {days:,} days after the latest as-of date: each PD is for the 12 months from "
            "its as-of date" in card) is said
    assert ("days after the latest as-of date" in card) is said
