"""Point-in-time features at their date boundaries: tests written after a manual mutation-testing pass.

Each test pins a value worked out by hand from a few records whose dates sit exactly on a boundary (a record
reported, ended, listed, removed, cleared or due on the as-of date itself; a record exactly 2 or 3 years old) or
that were decided before the as-of date but reported after it. The rules are the module's (pit.py docstring,
DOMAIN A4): a record counts once reported (``reported_on <= t``); an end (repair, clearing, closing, removal,
maximum publicity end) dated on ``t`` has taken effect on ``t``; "in the last N years" is ``t - N years < date <= t``.
Helpers (``district``, ``penalty``, ``frame``...) are the ones of ``test_features.py``.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from creditmodel.features import build_features, feature_directions
from test_features import A, B, C, _invoice_rows, _two_old_firms, district, one, penalty


def _at(t: dict, *dates: str, uscc: str = A) -> pd.DataFrame:
    """Features of ``uscc`` at each of ``dates`` (one row per date, in order)."""
    return build_features(t, pd.Series(pd.to_datetime(list(dates))), uscc=[uscc] * len(dates))


# ------------------------------------------------------------------------------------ penalties
def test_a_repaired_penalty_leaves_the_3_year_count_on_the_third_anniversary_of_its_decision():
    # serious, decided 2022-05-01, fulfilled 2022-06-01, repaired 2023-07-15; (t - 3y, t] excludes 2022-05-01
    # when t = 2025-05-01
    t = district(penalties=[penalty("p1", A, "2022-05-01", "serious", amount=100.0, paid="2022-06-01",
                                    repaired="2023-07-15")])
    f = _at(t, "2025-04-30", "2025-05-01")
    assert f["penalty_repaired_3y_n"].tolist() == [1, 0]


def test_a_penalty_becomes_repairable_on_its_minimum_publicity_end():
    # general: minimum publicity 3 months, 2023-01-10 -> 2023-04-10; fine paid 2023-02-01
    t = district(penalties=[penalty("p1", A, "2023-01-10", "general", paid="2023-02-01")])
    f = _at(t, "2023-04-09", "2023-04-10")
    assert f["penalty_active_repairable_n"].tolist() == [0, 1]
    assert f["penalty_active_n"].tolist() == [1, 1]


def test_an_expired_penalty_leaves_the_3_year_count_3_years_after_its_publicity_ended():
    # general, fulfilled: publicity ended at its maximum 2021-01-10; counted while 2021-01-10 > t - 3 years
    t = district(penalties=[penalty("p1", A, "2020-01-10", "general", paid="2020-01-20")])
    f = _at(t, "2021-01-09", "2021-01-10", "2024-01-09", "2024-01-10")
    assert f["penalty_expired_3y_n"].tolist() == [0, 1, 1, 0]
    assert f["penalty_active_n"].tolist() == [1, 0, 0, 0]


# ------------------------------------------------------------------------------------ enforcement
def _case(rid: str, filed: str, reported: str, *, listed=None, removed=None, closed=None, amount=1000.0) -> dict:
    return {"record_id": rid, "uscc": A, "case_no": rid, "court": "c", "filed_on": filed, "amount": amount,
            "dishonest_listed_on": listed, "dishonest_removed_on": removed, "closed_on": closed,
            "reported_on": reported}


def test_enforcement_case_closed_on_the_as_of_date_is_no_longer_open():
    t = district(enforcement=[_case("e1", "2022-01-05", "2022-01-06", closed="2023-09-01", amount=80000.0)])
    f = _at(t, "2023-08-31", "2023-09-01")
    assert f["enforcement_open_n"].tolist() == [1, 0]
    assert f["enforcement_open_amount"].tolist() == [80000.0, 0.0]


def test_dishonest_debtor_status_on_the_day_of_listing_and_of_removal():
    t = district(enforcement=[_case("e1", "2022-01-05", "2022-01-06", listed="2022-03-01", removed="2022-09-01")])
    f = _at(t, "2022-02-28", "2022-03-01", "2022-08-31", "2022-09-01")
    assert f["dishonest_debtor_listed"].tolist() == [0, 1, 1, 0]
    assert f["dishonest_debtor_past_n"].tolist() == [0, 0, 0, 1]


def test_a_dishonest_listing_of_a_case_reported_later_is_invisible():
    # filed 2023-01-05 and listed 2023-02-01, but the case reached the platform on 2023-03-10
    t = district(enforcement=[_case("e1", "2023-01-05", "2023-03-10", listed="2023-02-01", removed="2023-03-05")])
    f = _at(t, "2023-03-01", "2023-03-09", "2023-03-10")
    assert f["dishonest_debtor_listed"].tolist() == [0, 0, 0]
    assert f["dishonest_debtor_past_n"].tolist() == [0, 0, 1]
    assert f["enforcement_open_n"].tolist() == [0, 0, 1]


def test_dishonest_debtor_listed_is_a_flag_however_many_cases_are_listed():
    t = district(enforcement=[_case("e1", "2022-01-05", "2022-01-06", listed="2022-03-01"),
                              _case("e2", "2022-02-05", "2022-02-06", listed="2022-04-01")])
    f = _at(t, "2022-05-01")
    assert f["dishonest_debtor_listed"].tolist() == [1]
    assert f["enforcement_open_n"].tolist() == [2]


# ------------------------------------------------------------------------------------ tax grades
def _grade(rid: str, year: int, grade: str, published: str, reported: str) -> dict:
    return {"record_id": rid, "uscc": A, "year": year, "grade": grade, "published_on": published,
            "reported_on": reported}


def test_a_tax_grade_counts_from_its_report_date_not_its_publication():
    # 2022's grade D published 2023-04-15, reported to the platform 2023-04-20; 2021's grade A known long before
    t = district(tax_grades=[_grade("t1", 2021, "A", "2022-04-15", "2022-04-16"),
                             _grade("t2", 2022, "D", "2023-04-15", "2023-04-20")])
    f = _at(t, "2023-04-17", "2023-04-19", "2023-04-20")
    assert f["tax_grade"].astype(str).tolist() == ["A", "A", "D"]
    assert f["tax_grade_ordinal"].tolist() == [0, 0, 4]
    assert f["tax_grade_worst_3y"].tolist() == [0, 0, 4]
    assert f["tax_grade_change"].tolist()[2] == 4 - 0
    assert all(math.isnan(x) for x in f["tax_grade_change"].tolist()[:2])   # no year before 2021


def test_the_worst_tax_grade_of_3_years_leaves_on_the_third_anniversary_of_its_publication():
    t = district(tax_grades=[_grade("t1", 2019, "C", "2020-04-20", "2020-04-20"),
                             _grade("t2", 2020, "A", "2021-04-20", "2021-04-20")])
    f = _at(t, "2023-04-19", "2023-04-20")
    assert f["tax_grade_worst_3y"].tolist() == [3, 0]      # C (3) published 2020-04-20, then only A (0)
    assert f["tax_grade_ordinal"].tolist() == [0, 0]


# ------------------------------------------------------------------------------------ arrears
def _arrear(rid: str, kind: str, amount: float, determined: str, reported: str, cleared=None, months=1) -> dict:
    return {"record_id": rid, "uscc": A, "kind": kind, "department": "x", "started_on": "2022-01-01",
            "amount": amount, "months_overdue": months, "determined_on": determined, "cleared_on": cleared,
            "reported_on": reported}


def test_arrears_cleared_on_the_as_of_date_are_no_longer_open():
    t = district(arrears=[_arrear("a1", "tax", 700.0, "2023-02-01", "2023-02-03", cleared="2023-05-01", months=2)])
    f = _at(t, "2023-04-30", "2023-05-01")
    assert f["arrears_tax_open_n"].tolist() == [1, 0]
    assert f["arrears_tax_open_amount"].tolist() == [700.0, 0.0]
    # open on 2023-04-30: 2 months when determined + 88 days (2 whole months of 30.4375 days); none open after
    assert f["arrears_months_overdue_max"].tolist() == [4, 0]


def test_each_arrears_kind_lands_in_its_group():
    t = district(arrears=[_arrear("a1", "social_insurance", 1.0, "2023-01-01", "2023-01-02"),
                          _arrear("a2", "housing_fund", 20.0, "2023-01-01", "2023-01-02"),
                          _arrear("a3", "tax", 300.0, "2023-01-01", "2023-01-02"),
                          _arrear("a4", "water", 4000.0, "2023-01-01", "2023-01-02"),
                          _arrear("a5", "electricity", 50000.0, "2023-01-01", "2023-01-02"),
                          _arrear("a6", "gas", 600000.0, "2023-01-01", "2023-01-02"),
                          _arrear("a7", "electricity", 7e6, "2023-01-01", "2023-03-02")])   # reported later
    r = _at(t, "2023-03-01").iloc[0]
    assert (r["arrears_social_insurance_open_n"], r["arrears_social_insurance_open_amount"]) == (1, 1.0)
    assert (r["arrears_housing_fund_open_n"], r["arrears_housing_fund_open_amount"]) == (1, 20.0)
    assert (r["arrears_tax_open_n"], r["arrears_tax_open_amount"]) == (1, 300.0)
    assert (r["arrears_utility_open_n"], r["arrears_utility_open_amount"]) == (3, 654000.0)


# ------------------------------------------------------------------------------------ lists
def _entry(rid: str, list_type: str, start: str, reported: str, end=None) -> dict:
    return {"record_id": rid, "uscc": A, "list_type": list_type, "department": "x", "start_date": start,
            "end_date": end, "reported_on": reported}


def test_a_list_entry_ending_on_the_as_of_date_has_ended():
    t = district(lists=[_entry("l1", "abnormal_operation", "2022-07-01", "2022-07-02", end="2023-07-01"),
                        _entry("l2", "red", "2022-01-01", "2022-01-02", end="2023-07-01")])
    f = _at(t, "2023-06-30", "2023-07-01")
    assert f["on_abnormal_operation_list"].tolist() == [1, 0]
    assert f["red_list_active_n"].tolist() == [1, 0]


def test_list_flags_are_flags_and_red_list_entries_are_counted():
    t = district(lists=[_entry("l1", "black", "2022-01-01", "2022-01-02"),
                        _entry("l2", "black", "2022-06-01", "2022-06-02"),
                        _entry("l3", "serious_dishonesty", "2022-02-01", "2022-02-02"),
                        _entry("l4", "serious_dishonesty", "2022-03-01", "2022-03-02"),
                        _entry("l5", "red", "2022-01-01", "2022-01-02"),
                        _entry("l6", "red", "2022-02-01", "2022-02-02")])
    r = _at(t, "2023-01-01").iloc[0]
    assert r["on_black_list"] == 1 and r["on_serious_dishonesty_list"] == 1
    assert r["red_list_active_n"] == 2 and r["on_abnormal_operation_list"] == 0


# ------------------------------------------------------------------------------------ commitments
def _commitment(rid: str, made: str, due: str, status: str, assessed=None, reported=None) -> dict:
    return {"record_id": rid, "uscc": A, "kind": "approval", "department": "x", "made_on": made, "due_on": due,
            "status": status, "assessed_on": assessed, "reported_on": reported or made}


def test_a_commitment_assessed_after_its_due_date_is_known_at_the_assessment():
    # due 2023-04-01 but assessed (broken) on 2023-06-01: on 2023-05-15 the outcome is not known yet
    t = district(commitments=[_commitment("c1", "2022-01-01", "2023-04-01", "broken", assessed="2023-06-01"),
                              _commitment("c2", "2022-02-01", "2022-08-01", "kept", assessed="2022-08-05")])
    f = _at(t, "2023-05-15", "2023-06-01")
    assert f["commitments_3y_n"].tolist() == [2, 2]
    assert f["commitments_broken_3y_n"].tolist() == [0, 1]
    assert f["commitment_kept_ratio_3y"].tolist() == [1.0, 0.5]


def test_a_commitment_reported_after_the_as_of_date_is_invisible_and_3_years_is_a_half_open_window():
    t = district(commitments=[_commitment("c1", "2023-01-01", "2023-12-01", "pending", reported="2023-06-01"),
                              _commitment("c2", "2020-05-15", "2020-09-01", "broken", assessed="2020-09-02")])
    f = _at(t, "2023-05-14", "2023-05-15", "2023-06-01")
    # c2 made 2020-05-15: inside (t - 3y, t] on 2023-05-14, out on 2023-05-15; c1 counted from 2023-06-01
    assert f["commitments_3y_n"].tolist() == [1, 0, 1]
    assert f["commitments_broken_3y_n"].tolist() == [1, 0, 0]


# ------------------------------------------------------------------------------------ inspections
def _inspection(rid: str, inspected: str, reported: str, result="fail", violations=2, due=None, rectified=None):
    return {"record_id": rid, "uscc": A, "sector": "fire_safety", "inspection_type": "random", "department": "x",
            "inspected_on": inspected, "result": result, "violations": violations, "rectification_due": due,
            "rectified_on": rectified, "reported_on": reported}


def test_rectification_is_overdue_only_after_its_due_date():
    t = district(inspections=[_inspection("i1", "2023-01-10", "2023-01-11", due="2023-03-01")])
    f = _at(t, "2023-03-01", "2023-03-02")
    assert f["inspection_unrectified_overdue_n"].tolist() == [0, 1]
    assert f["inspection_fire_safety_unrectified_overdue_n"].tolist() == [0, 1]


def test_inspections_of_the_last_2_years_half_open_and_counted_once_reported():
    t = district(inspections=[_inspection("i1", "2021-03-01", "2021-03-01", violations=3),
                              _inspection("i2", "2023-02-20", "2023-03-10", violations=5)])
    f = _at(t, "2023-02-28", "2023-03-01", "2023-03-10")
    # i1 (2021-03-01) in (t - 2y, t] on 2023-02-28 only; i2 counted from its report date 2023-03-10
    assert f["inspection_fail_2y_n"].tolist() == [1, 0, 1]
    assert f["inspection_violations_2y"].tolist() == [3, 0, 5]
    assert f["inspection_fire_safety_2y_n"].tolist() == [1, 0, 1]


# ------------------------------------------------------------------------------------ invoices
def test_the_as_of_months_own_invoices_change_nothing():
    """The as-of month is not complete on the as-of date: its row (known at the month's end) is no data yet."""
    base = _invoice_rows(A, "2022-01-01", [100.0, 200.0, 300.0, 400.0, 500.0, 600.0])   # Jan .. Jun 2022
    t = district(enterprises=_two_old_firms(), invoices_monthly=base + _invoice_rows(B, "2022-07-01", [9e6]))
    f = build_features(t, "2022-07-20", uscc=[A, B])
    # B's only row is July 2022, the as-of month: nothing known about B's invoices yet
    for col in ("invoice_sales_12m_log", "invoice_zero_sales_months", "invoice_sales_cv", "invoice_voided_share"):
        assert math.isnan(one(f, B, col)), col
    # A: Jan .. Jun 2022 covered (the data start), 2100 over 6 months, scaled to 12; a July row changes nothing
    assert one(f, A, "invoice_sales_12m_log") == pytest.approx(math.log1p(2100.0 / 6 * 12))
    assert one(f, A, "invoice_zero_sales_months") == 0
    t2 = district(enterprises=_two_old_firms(), invoices_monthly=base + _invoice_rows(A, "2022-07-01", [9e6]))
    g = build_features(t2, "2022-07-20", uscc=[A])
    assert one(g, A, "invoice_sales_12m_log") == pytest.approx(math.log1p(2100.0 / 6 * 12))


def test_invoice_months_before_registration_are_not_months_without_sales():
    """A firm registered inside the window, with the invoice data starting long before: only the months since its
    registration month are read (the data start cannot hide the registration here)."""
    ent = _two_old_firms() + [{"uscc": C, "name": "丙", "industry": "F", "street": "baisha",
                               "registered_on": "2022-03-01", "size_class": "micro", "status": "active",
                               "reported_on": "2022-03-02"}]
    rows = _invoice_rows(A, "2020-01-01", [10.0] * 30) + _invoice_rows(C, "2022-03-01", [100.0, 200.0, 0.0, 300.0])
    t = district(enterprises=ent, invoices_monthly=rows)
    f = build_features(t, "2022-07-10", uscc=[C])          # window Jul 2021 .. Jun 2022; C exists Mar .. Jun
    assert one(f, C, "invoice_zero_sales_months") == 1      # April's 0; not the 8 months before registration
    assert one(f, C, "invoice_sales_12m_log") == pytest.approx(math.log1p(600.0))
    mean = 600.0 / 4
    sd = math.sqrt(sum((x - mean) ** 2 for x in (100.0, 200.0, 0.0, 300.0)) / 4)
    assert one(f, C, "invoice_sales_cv") == pytest.approx(sd / mean)
    # shares weighted by the month's sales invoices (10, 11, 12, 13): voided 0, .1, 0, .1; red letter 0, .02, .04, 0
    assert one(f, C, "invoice_voided_share") == pytest.approx((11 * 0.1 + 13 * 0.1) / 46)
    assert one(f, C, "invoice_red_letter_share") == pytest.approx((11 * 0.02 + 12 * 0.04) / 46)
    assert one(f, C, "invoice_purchase_sales_ratio") == pytest.approx(0.5)


# ------------------------------------------------------------------------------------ register
def test_a_firm_registered_on_the_as_of_date_exists_with_age_zero():
    f = build_features(district(), "2024-06-01")     # C registered 2024-06-01
    assert f["uscc"].tolist() == [A, B, C]
    assert one(f, C, "firm_age_years") == 0.0
    assert build_features(district(), "2024-05-31")["uscc"].tolist() == [A, B]


def test_the_first_registration_row_of_a_duplicated_code_is_used():
    t = district()
    ent = t["enterprises"]
    later = ent.iloc[[0]].assign(registered_on=pd.Timestamp("2019-03-01"), employees=99)
    t["enterprises"] = pd.concat([ent, later], ignore_index=True)
    f = build_features(t, "2024-03-01", uscc=[A])
    # first row: registered 2015-03-01, 8 employees; 2015-03-01 .. 2024-03-01 is 3288 days
    assert one(f, A, "firm_age_years") == pytest.approx(3288 / 365.25)
    assert one(f, A, "employees") == 8


# ------------------------------------------------------------------------------------ annual reports
def _report(year: int, filed: str, assets: float, liabilities: float) -> dict:
    return {"uscc": A, "year": year, "filed_on": filed, "total_assets": assets, "total_liabilities": liabilities,
            "current_assets": assets / 2, "current_liabilities": liabilities / 2, "revenue": 1.0, "net_profit": 0.0}


def test_the_latest_report_year_wins_over_a_later_filed_earlier_year():
    t = district(annual_reports=[_report(2022, "2023-06-01", 2e6, 1.5e6),     # leverage 0.75
                                 _report(2021, "2023-07-01", 1e6, 4e5)])     # 2021 filed late: leverage 0.4
    f = _at(t, "2023-06-15", "2023-08-01")
    assert f["annual_leverage"].tolist() == pytest.approx([0.75, 0.75])


# ------------------------------------------------------------------------------------ catalogue directions
def test_risk_directions_of_the_features_follow_their_meaning():
    """+1: a higher value is riskier; -1: safer. Tax grades are ordinals A=0 .. D=4 (D worst), so a higher ordinal,
    a higher worst grade and a positive change (towards D) are riskier; red-list entries and kept commitments are
    good signs; a dishonest-debtor listing and the other lists are bad ones."""
    dirs = feature_directions()
    expected = {
        "tax_grade_ordinal": 1, "tax_grade_worst_3y": 1, "tax_grade_change": 1,
        "red_list_active_n": -1, "commitment_kept_ratio_3y": -1, "commitments_broken_3y_n": 1,
        "dishonest_debtor_listed": 1, "dishonest_debtor_past_n": 1, "enforcement_open_n": 1,
        "enforcement_open_amount": 1, "on_serious_dishonesty_list": 1, "on_black_list": 1,
        "on_abnormal_operation_list": 1, "penalty_active_n": 1, "penalty_active_amount": 1,
        "penalty_active_unpaid_n": 1, "months_since_last_penalty": -1, "arrears_months_overdue_max": 1,
        "arrears_tax_open_n": 1, "inspection_unrectified_overdue_n": 1, "invoice_sales_growth": -1,
        "invoice_sales_12m_log": -1, "invoice_zero_sales_months": 1, "invoice_voided_share": 1,
        "invoice_red_letter_share": 1, "invoice_sales_cv": 1, "annual_leverage": 1, "annual_current_ratio": -1,
        "annual_roa": -1, "annual_assets_log": -1, "registered_capital_log": -1, "firm_age_years": -1,
    }
    assert {k: dirs[k] for k in expected} == expected


# ------------------------------------------------------------------------------------ event after the as-of date
def test_a_record_reported_before_its_event_counts_only_from_its_event():
    """Both dates must be <= t (pit.py docstring): a penalty or a tax grade whose ``reported_on`` precedes its
    decision or publication (a delivery fault the quality report counts) is not known before the event itself."""
    t = district(penalties=[penalty("p1", A, "2023-03-10", "serious", reported="2023-03-01")],
                 tax_grades=[_grade("t1", 2022, "D", "2023-04-15", "2023-04-10")])
    f = _at(t, "2023-03-05", "2023-03-10", "2023-04-12", "2023-04-15")
    assert f["penalty_active_n"].tolist() == [0, 1, 1, 1]
    assert math.isnan(f.loc[0, "months_since_last_penalty"]) and f.loc[1, "months_since_last_penalty"] == 0.0
    assert f["tax_grade_ordinal"].isna().tolist() == [True, True, True, False]
    assert f.loc[3, "tax_grade_ordinal"] == 4


def test_a_repaired_penalty_delivered_late_is_invisible_until_reported():
    # decided 2023-01-10, fulfilled 2023-01-20 and repaired 2023-04-20, but reported to the platform on 2023-05-01
    t = district(penalties=[penalty("p1", A, "2023-01-10", "general", paid="2023-01-20", repaired="2023-04-20",
                                    reported="2023-05-01")])
    f = _at(t, "2023-04-25", "2023-05-01")
    assert f["penalty_repaired_3y_n"].tolist() == [0, 1]
    assert f["penalty_active_n"].tolist() == [0, 0]
    assert f["months_since_last_penalty"].isna().tolist() == [True, True]   # repaired: no live negative
