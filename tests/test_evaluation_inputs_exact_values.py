"""Tests from a manual mutation-testing pass (h5) over the evaluation's configuration (evaluation/config.py), its
inputs (evaluation/inputs.py), its explanations (evaluation/explain.py) and its expert-versus-evidence comparison
(evaluation/evidence.py). Each test pins a behaviour a mutant changed without any other test noticing; expected
values are worked out by hand from the rules of data/public_credit_indicators.yaml (documented in
evaluation/config.py), or by an independent computation in the test (pair counting, scipy).

The configuration tests hold the rule that every out-of-range or malformed parameter of the indicator YAML is
refused at load with a ConfigError naming the file and the dotted key at fault.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from creditmodel.errors import ConfigError, InputError
from creditmodel.evaluation import evaluate, explain, load_config, parse_config
from creditmodel.evaluation.engine import score_inputs
from creditmodel.evaluation.inputs import build_inputs, extra_features, registration
from test_evaluation import A, B, C, RAW, T, _broken, district, firm, inspection, listing, penalty
from test_registry_engine_exact_values import _inputs

SRC = "cfg.yaml"
J = ["dimensions", "judicial", "indicators"]


def _doc(*edits) -> dict:
    """The shipped YAML document with ``(path, value)`` edits (value ``KeyError``: the key removed)."""
    doc = copy.deepcopy(RAW)                    # a copy even without edits: tests change what they get
    for path, value in edits:
        doc = _broken(path, value, doc)
    return doc


def _refused(doc: dict, key: str, words: str = "") -> ConfigError:
    with pytest.raises(ConfigError) as err:
        parse_config(doc, source=SRC)
    assert err.value.column == key, str(err.value)
    assert str(err.value).startswith(f"file {SRC}, key '{key}': {key}: "), str(err.value)
    assert words in str(err.value)
    return err.value


# ----------------------------------------------------------------------------- config: numbers
@pytest.mark.parametrize("value, words", [(float("nan"), "must be a finite number, got nan"),
                                          (float("inf"), "must be a finite number, got inf"),
                                          (True, "must be a number, got True"),
                                          (0, "must be > 0, got 0"),
                                          ("2", "must be a number, got '2'")])
def test_a_weight_that_is_not_a_positive_finite_number_is_refused(value, words):
    """NaN, an infinity, a YAML boolean (``true`` is an int to Python) and 0 all passed for weights once a guard went."""
    _refused(_doc((J + ["enforcement_open", "weight"], value)), "dimensions.judicial.indicators.enforcement_open.weight",
             words)


def test_a_grade_threshold_that_is_not_finite_is_refused():
    _refused(_doc((["grades", 1, "min_score"], float("-inf"))), "grades[1].min_score", "must be a finite number")


# ----------------------------------------------------------------------------- config: grades
def test_grades_need_two_distinct_labels_and_strictly_falling_thresholds():
    _refused(_doc((["grades"], [{"label": "A", "zh": "优", "en": "excellent"}])), "grades",
             "must be a list of at least 2 grades")
    # B starting where A starts: no score could be graded B (equal thresholds overlap)
    _refused(_doc((["grades", 1, "min_score"], 95)), "grades[1].min_score",
             "thresholds overlap or are not decreasing: 95 >= 95 of grade A")
    _refused(_doc((["grades", 2, "label"], "B")), "grades", "duplicate grade labels ['A', 'B', 'B', 'D']")


def test_the_best_grade_may_need_exactly_the_highest_possible_score_and_no_more():
    """The highest score is base 100 + the dimensions' max_bonus (development 3 + incentives 8) = 111: A at 111 can
    be reached, A at 105 too (above the base, below the top), A at 111.5 cannot."""
    assert parse_config(_doc((["grades", 0, "min_score"], 111))).grades[0].min_score == 111
    assert parse_config(_doc((["grades", 0, "min_score"], 105))).grades[0].min_score == 105
    _refused(_doc((["grades", 0, "min_score"], 111.5)), "grades[0].min_score",
             "needs 111.5 points, above the highest possible score 111")


# ----------------------------------------------------------------------------- config: rules
def test_an_indicator_whose_points_are_zero_is_refused():
    _refused(_doc((J + ["enforcement_open", "points"], 0)), "dimensions.judicial.indicators.enforcement_open.points",
             "a deduction needs negative points, got 0")


def test_only_a_flag_rule_has_at_least_and_a_flag_reads_it():
    _refused(_doc((J + ["enforcement_open", "at_least"], 2)),
             "dimensions.judicial.indicators.enforcement_open.at_least", "only a flag rule has at_least")
    # arrears_social_insurance: flag -4 (cap 4) on the count of open social-insurance arrears; from 2 arrears on
    cfg = parse_config(_doc((["dimensions", "commitment", "indicators", "arrears_social_insurance", "at_least"], 2)))
    ind = cfg.indicator("arrears_social_insurance")
    assert ind.rule.at_least == 2 and ind.rule.describe() == "-4 when >= 2"
    out = score_inputs(_inputs(cfg, [{"arrears_social_insurance_open_n": n} for n in (0, 1, 2, 3)]), cfg,
                       with_sectors=False)
    assert out["contrib__arrears_social_insurance"].tolist() == [0, 0, -4, -4]


def test_points_against_a_safer_when_higher_feature_are_refused():
    """firm_age_years has catalogue direction -1 (higher is safer): a deduction per year contradicts it."""
    ind = {"feature": "firm_age_years", "zh": "x", "en": "x", "direction": "deduction", "rule": "per_count",
           "points": -1, "cap": 3}
    _refused(_doc((J + ["age_deduction"], ind)), "dimensions.judicial.indicators.age_deduction.points",
             "points -1 per unit contradict the feature's direction (-1: higher is safer)")


def test_band_points_must_be_monotone_and_not_all_zero():
    """employees (direction -1) with bonus bands [0, 2, 1]: the trend check alone lets them through (they rise
    somewhere, as the feature's direction wants); the monotonicity check must refuse them."""
    emp = ["dimensions", "development", "indicators", "employment", "points"]
    _refused(_doc((emp, [0, 2, 1])), "dimensions.development.indicators.employment.points",
             "band points [0.0, 2.0, 1.0] are not monotone")
    _refused(_doc((emp, [0, 0, 0])), "dimensions.development.indicators.employment.points",
             "every band gives 0 points")


def test_an_indicator_key_must_be_lower_snake_case():
    doc = _doc()
    ind = doc["dimensions"]["judicial"]["indicators"].pop("enforcement_open")
    doc["dimensions"]["judicial"]["indicators"]["Enforcement_Open"] = ind
    _refused(doc, "dimensions.judicial.indicators.Enforcement_Open", "snake_case identifier")


def test_a_bonus_cannot_take_points_for_a_missing_value():
    _refused(_doc((["dimensions", "incentives", "indicators", "red_list", "missing"], -1)),
             "dimensions.incentives.indicators.red_list.missing", "a bonus cannot give -1 points for a missing value")


def test_a_rule_s_text_names_each_band_with_its_edges():
    cfg = load_config()
    assert cfg.indicator("tax_grade_low").rule.describe() == "[-inf, 3): +0; [3, 4): -8; [4, inf): -15"
    assert cfg.indicator("enforcement_open").rule.describe() == "-4 per unit"


def test_the_largest_points_of_an_indicator_are_its_weight_times_the_smaller_of_its_cap_and_its_rule_points():
    """tax_grade_low: bands 0/-8/-15; with cap 10 and weight 1.5 its largest contribution is 1.5 x 10 = 15 (not
    1.5 x 15); enforcement_open (per_count, cap 12) reaches 12; dishonest_debtor (flag -25, cap 25) 25."""
    tax = ["dimensions", "commitment", "indicators", "tax_grade_low"]
    cfg = parse_config(_doc((tax + ["cap"], 10), (tax + ["weight"], 1.5)))
    t = cfg.indicator_table().set_index("indicator")
    assert (t.loc["tax_grade_low", "max_points"], t.loc["enforcement_open", "max_points"],
            t.loc["dishonest_debtor", "max_points"]) == (15.0, 12.0, 25.0)


# ----------------------------------------------------------------------------- config: dimensions, classes, sectors
def test_a_dimension_with_deductions_needs_a_max_deduction_and_names_an_unknown_key_under_its_path():
    _refused(_doc((["dimensions", "judicial", "max_deduction"], KeyError)), "dimensions.judicial.max_deduction",
             "has deductions but max_deduction is 0")
    _refused(_doc((["dimensions", "judicial", "colour"], "red")), "dimensions.judicial.colour", "unknown key(s)")
    _refused(_doc((["sectors", "construction", "max_bonus"], KeyError)), "sectors.construction.max_bonus",
             "has bonuses but max_bonus is 0")


def test_two_classes_may_be_inspected_equally_often_but_every_grade_needs_a_class():
    doc = _doc((["supervision", "classes", 1, "inspection_multiplier"], 0.5))
    assert parse_config(doc).supervision.multiplier("B") == 0.5
    fg = dict(RAW["supervision"]["from_grade"])
    del fg["D"]
    _refused(_doc((["supervision", "from_grade"], fg)), "supervision.from_grade.D", "no supervision class for grade D")


def test_a_sector_must_apply_to_some_enterprise():
    _refused(_doc((["sectors", "construction", "applies_to"], {"industries": [], "with_records": False})),
             "sectors.construction.applies_to", "applies to no enterprise")


def test_repair_rules_are_whole_and_for_adverse_lists_only():
    _refused(_doc((["repair", "decision_days"], 1.5)), "repair.decision_days", "must be a whole number of days")
    _refused(_doc((["repair", "lists", "black", "max_months"], 36.5)), "repair.lists.black.max_months",
             "must be a whole number of months, got 36.5")
    _refused(_doc((["repair", "lists", "red"], {"min_months": 0})), "repair.lists.red", "unknown adverse list type 'red'")
    # a listing that may be repaired only when it ends anyway is odd, but consistent: min = max is accepted
    cfg = parse_config(_doc((["repair", "lists", "black"], {"min_months": 6, "max_months": 6})))
    assert (cfg.repair.lists["black"].min_months, cfg.repair.lists["black"].max_months) == (6, 6)


# ----------------------------------------------------------------------------- config: weights for the sensitivity
def test_weight_factors_are_positive_and_scale_the_industry_overrides_too():
    cfg = load_config()
    with pytest.raises(ConfigError) as err:
        cfg.with_weights({"penalty_general": 0})
    assert err.value.column == "penalty_general"
    # E (construction) reads arrears_social_insurance as -6 (cap 6) instead of -4: doubled, -12 for an E firm
    heavy = cfg.with_weights({"arrears_social_insurance": 2.0})
    assert heavy.industry_overrides["E"]["arrears_social_insurance"].weight == 2.0
    assert heavy.indicator("arrears_social_insurance").weight == 2.0
    inp = _inputs(cfg, [{"arrears_social_insurance_open_n": 1}] * 2)
    inp["industry"] = ["E", "F"]
    out = score_inputs(inp, heavy, with_sectors=False)
    assert out["contrib__arrears_social_insurance"].tolist() == [-12.0, -8.0]


# ----------------------------------------------------------------------------- inputs: inspections
FOOD_BLACK = "食品安全严重违法生产经营者"


def _at(tabs, as_of, cols, code=A) -> list:
    """``cols`` of ``code`` in build_inputs at each date of ``as_of`` (the shipped repair rules applied)."""
    inp = build_inputs(tabs, pd.Series(pd.to_datetime(as_of)), uscc=[code] * len(as_of),
                       repair=load_config().repair)
    return inp[cols].to_numpy().tolist()


def test_an_inspection_counts_from_the_day_it_is_reported_not_the_day_it_took_place():
    late = {**inspection("I1", A, "fire_safety", "2025-01-10", "fail", 2, itype="complaint"), "reported_on": "2025-02-10"}
    tabs = district([firm(A)], inspections=[late])
    got = _at(tabs, ["2025-02-09", "2025-02-10"], ["complaint_inspections_2y_n", "complaint_substantiated_2y_n"])
    assert got == [[0, 0], [1, 1]]


def test_a_targeted_inspection_that_fails_is_a_routine_failure_not_a_complaint():
    tabs = district([firm(A)], inspections=[inspection("I1", A, "fire_safety", "2025-01-10", "fail", 2, itype="targeted")])
    assert _at(tabs, ["2025-06-30"], ["inspection_routine_fail_2y_n", "complaint_inspections_2y_n"]) == [[1, 0]]


def test_the_two_year_window_is_two_calendar_years_across_a_leap_day():
    """As of 2024-03-01 the window is (2022-03-01, 2024-03-01]: 731 days, since 2024 has a 29 February; a complaint
    of 2022-03-02 is in it (730 days would have left it out), one of 2022-03-01 is not."""
    tabs = district([firm(A), firm(B)],
                    inspections=[inspection("I1", A, "fire_safety", "2022-03-02", "minor_issues", 1, itype="complaint"),
                                 inspection("I2", B, "fire_safety", "2022-03-01", "minor_issues", 1, itype="complaint")])
    assert _at(tabs, ["2024-03-01"], ["complaint_substantiated_2y_n"]) == [[1]]
    assert _at(tabs, ["2024-03-01"], ["complaint_substantiated_2y_n"], code=B) == [[0]]


def test_a_sector_supervises_a_firm_with_any_record_of_it_however_old():
    """An F firm (no sector lists F) with a fire-safety inspection of 2020 and a work-safety penalty of 2019 is
    supervised in both sectors in 2025, although both records left every window; a firm without records is not."""
    tabs = district([firm(A), firm(B)],
                    inspections=[inspection("I1", A, "fire_safety", "2020-01-10", "pass", 0)],
                    penalties=[penalty("P1", A, "2019-01-10", "general", "2019-04-10", "2020-01-10", paid="2019-01-20",
                                       category="work_safety")])
    cols = ["sector_fire_safety_records_n", "sector_work_safety_records_n", "sector_food_safety_records_n"]
    assert _at(tabs, ["2025-06-30"], cols) == [[1, 1, 0]]
    res = evaluate(tabs, None, "2025-06-30").set_index("uscc")
    assert res.loc[A, "sector_grade__fire_safety"] == "A" and res.loc[A, "sector_grade__work_safety"] == "A"
    assert pd.isna(res.loc[B, "sector_grade__fire_safety"]) and pd.isna(res.loc[A, "sector_grade__food_safety"])


def test_without_the_tables_the_evaluation_features_are_unknown_not_zero():
    tabs = district([firm(A)])
    keys = pd.DataFrame({"uscc": [A], "as_of_date": [T("2025-06-30")]})
    out = extra_features({"enterprises": tabs["enterprises"]}, keys)
    for c in ("complaint_inspections_2y_n", "complaint_substantiated_2y_n", "inspection_routine_fail_2y_n",
              "on_food_safety_black_list", "on_construction_black_list"):
        assert np.isnan(out.loc[0, c]), c
    assert out.loc[0, "records_known_n"] == 0 and out.loc[0, "sector_fire_safety_records_n"] == 0


# ----------------------------------------------------------------------------- inputs: sector black lists
def _black(rid, code, start, end=None, kind="black", reason=FOOD_BLACK) -> dict:
    return {**listing(rid, code, kind, start, end), "reason": reason}


def test_a_sector_black_list_counts_until_the_day_before_its_end_and_as_a_flag():
    tabs = district([firm(A), firm(B), firm(C)],
                    lists=[_black("L1", A, "2025-01-01", "2025-06-30"),
                           _black("L2", B, "2025-01-01"), _black("L3", B, "2025-02-01"),        # two entries: 1
                           _black("L4", C, "2025-01-01", kind="red")])                          # a red list: 0
    assert _at(tabs, ["2025-06-29", "2025-06-30"], ["on_food_safety_black_list"]) == [[1], [0]]
    assert _at(tabs, ["2025-06-30"], ["on_food_safety_black_list", "on_environment_black_list"], code=B) == [[1, 0]]
    assert _at(tabs, ["2025-06-30"], ["on_food_safety_black_list"], code=C) == [[0]]


def test_a_black_list_entry_naming_no_list_counts_for_every_sector():
    tabs = district([firm(A)], lists=[_black("L1", A, "2025-01-01", reason=None)])
    cols = ["on_food_safety_black_list", "on_environment_black_list", "on_work_safety_black_list",
            "on_construction_black_list"]
    assert _at(tabs, ["2025-06-30"], cols) == [[1, 1, 1, 1]]


def test_a_listing_recorded_to_end_after_its_maximum_period_ends_at_the_maximum():
    """black: max_months 36. An entry of 2022-01-01 recorded to end in 2030 ends on 2025-01-01."""
    tabs = district([firm(A)], lists=[_black("L1", A, "2022-01-01", "2030-01-01")])
    assert _at(tabs, ["2024-12-31", "2025-01-01"], ["on_black_list", "on_food_safety_black_list"]) == [[1, 1], [0, 0]]


# ----------------------------------------------------------------------------- inputs: records known, publicity
def test_records_known_count_what_was_reported_by_the_as_of_date():
    p = {**penalty("P1", A, "2025-01-01", "general", "2025-04-01", "2026-01-01", paid="2025-01-05"),
         "reported_on": "2025-03-01"}
    tabs = district([firm(A)], penalties=[p], inspections=[inspection("I1", A, "fire_safety", "2024-06-01", "pass", 0)])
    assert _at(tabs, ["2025-02-28", "2025-03-01"], ["records_known_n"]) == [[1], [2]]


def test_a_fine_paid_after_the_maximum_publicity_end_keeps_the_penalty_published_until_paid():
    tabs = district([firm(A)], penalties=[penalty("P1", A, "2023-01-01", "general", "2023-04-01", "2024-01-01",
                                                  paid="2024-03-01")])
    res = evaluate(tabs, None, ["2024-02-29", "2024-03-01"]).set_index("as_of_date")
    assert res.loc[T("2024-02-29"), "contrib__penalty_general"] == -5
    assert res.loc[T("2024-03-01"), "contrib__penalty_general"] == 0


# ----------------------------------------------------------------------------- inputs: the register
def test_the_registration_status_on_and_after_the_closing_day():
    tabs = district([firm(A, status="deregistered", closed_on="2025-03-01"),
                     firm(B, status="revoked", closed_on="2025-03-01"), firm(C)])
    keys = pd.DataFrame({"uscc": [A, A, B, C, "91330205MA0000000X"],
                         "as_of_date": pd.to_datetime(["2025-02-28", "2025-03-01", "2025-03-01", "2025-03-01",
                                                       "2025-03-01"])})
    reg = registration(tabs, keys)
    assert reg["registration_status"].tolist() == ["active", "deregistered", "revoked", "active", "unknown"]
    assert reg["deregistered"].tolist() == [False, True, True, False, False]


def test_a_firm_registered_on_the_as_of_date_is_graded_and_one_registered_the_next_day_is_named():
    tabs = district([firm(A, registered="2025-06-30"), firm(B, registered="2025-07-01")])
    got = build_inputs(tabs, "2025-06-30", uscc=[A])
    assert got["uscc"].tolist() == [A] and got["registration_status"].tolist() == ["active"]
    with pytest.raises(InputError) as err:
        build_inputs(tabs, "2025-06-30", uscc=[A, B])
    assert err.value.parameter == "uscc"
    assert f"1 enterprise(s) registered after the as-of date: {B} (registered 2025-07-01, as of 2025-06-30)" in str(
        err.value)
    assert explain(A, tabs, None, "2025-06-30", whatif=False).grade == "A"


def test_a_code_not_in_the_register_is_named_and_a_register_without_closing_dates_is_refused():
    tabs = district([firm(A)])
    with pytest.raises(InputError) as err:
        build_inputs(tabs, "2025-06-30", uscc=[A, B])
    assert err.value.parameter == "uscc" and f"1 code(s) not in the register (table enterprises): {B};" in str(err.value)
    bare = {**tabs, "enterprises": tabs["enterprises"].drop(columns=["closed_on"])}
    with pytest.raises(InputError) as err:
        build_inputs(bare, "2025-06-30")
    assert err.value.column == "closed_on" and err.value.file == "enterprises"


# ----------------------------------------------------------------------------- explain
def test_the_explanation_shows_the_industry_override_s_rule_and_points_before_the_dimension_cap():
    """Catering (H) reads a failed inspection as -3 per unit, cap 9 (district-wide: -2, cap 6)."""
    tabs = district([firm(A, industry="H"), firm(B, industry="F")],
                    inspections=[inspection("I1", A, "fire_safety", "2025-03-01", "fail", 1),
                                 inspection("I2", B, "fire_safety", "2025-03-01", "fail", 1)])
    h = explain(A, tabs, None, "2025-06-30", whatif=False).contributions.set_index("indicator")
    f = explain(B, tabs, None, "2025-06-30", whatif=False).contributions.set_index("indicator")
    assert tuple(h.loc["inspection_failures", ["rule", "cap", "override", "points_before_dimension_cap", "points"]]) \
        == ("-3 per unit", 9.0, "H", -3.0, -3.0)
    assert tuple(f.loc["inspection_failures", ["rule", "cap", "override", "points_before_dimension_cap", "points"]]) \
        == ("-2 per unit", 6.0, None, -2.0, -2.0)
    assert pd.isna(h.loc["penalty_general", "override"]) and h.loc["inspection_failures", "value"] == 1.0


def test_the_explanation_lists_only_the_sector_evaluations_that_apply():
    """H is listed by food safety and fire safety; an F firm without sector records is in none."""
    tabs = district([firm(A, industry="H"), firm(B, industry="F")])
    h = explain(A, tabs, None, "2025-06-30", whatif=False)
    assert list(dict.fromkeys(h.sectors["sector"])) == ["food_safety", "fire_safety"]
    assert (h.sectors["points"] == 0).all() and set(h.sectors["grade"]) == {"A"}
    assert explain(B, tabs, None, "2025-06-30", whatif=False).sectors.empty


def test_a_clean_firm_s_line_names_no_indicator():
    tabs = district([firm(A)])
    first = explain(A, tabs, None, "2025-06-30", whatif=False).text().splitlines()[0]
    assert first == f"{A} 企业{A[-3:]} (F, baisha), as of 2025-06-30: public credit grade A (优), score 100 = base 100"


def test_a_grade_cap_the_score_already_reaches_is_said_not_to_bind():
    """Serious-dishonesty list (-40, cap D) and a black list (-20, cap C): punishment deducts 60, limited to 45 in
    proportion (-30, -15): 55, grade D from the score alone, so the cap at D does not bind."""
    tabs = district([firm(A)], lists=[listing("L1", A, "serious_dishonesty", "2025-01-01"),
                                      listing("L2", A, "black", "2025-01-01")])
    lines = explain(A, tabs, None, "2025-06-30", whatif=False).text().splitlines()
    assert lines[0].endswith("score 55 = base 100 -30 serious_dishonesty -15 black_list")
    assert lines[1].startswith("  grade from the score alone: D; cap at D did not bind: serious_dishonesty")


def test_example_enterprises_are_the_smallest_code_of_each_kind():
    from creditmodel.evaluation.explain import example_enterprises

    rows = [  # uscc, deregistered, industry, grade, food-safety grade, grade cap, serious dishonesty
        ("U5", False, "H", "B", "C", None, False),
        ("U2", False, "H", "C", "B", None, False),
        ("U0", True, "H", "B", "C", None, False),     # deregistered
        ("U1", False, "H", "B", None, None, False),   # no food-safety grade
        ("U3", False, "F", "D", None, "C", False),    # capped at C, but D by its score: not a capped example
        ("U6", False, "F", "C", None, "C", False),
        ("U7", False, "F", "D", None, "D", True),
    ]
    frame = pd.DataFrame(rows, columns=["uscc", "deregistered", "industry", "public_credit_grade",
                                        "sector_grade__food_safety", "grade_cap", "on_serious_dishonesty_list"])
    assert example_enterprises(frame) == ["U2", "U6", "U7"]
    assert example_enterprises(frame, n=2) == ["U2", "U6"]
    assert example_enterprises(frame, n=4) == ["U2", "U6", "U7", "U1"]


def test_a_quarantined_register_row_is_named_by_its_data_row(tmp_path):
    import district_factory as fac
    from creditmodel.data import io
    from creditmodel.evaluation.explain import not_in_register

    c = fac.codes(4, seed=3)
    ent = fac.enterprises(c)
    ent.loc[2, "registered_on"] = "2020-13-45"   # the third data row
    fac.write(ent, tmp_path / "enterprises")
    reg = io.load_district(tmp_path, tables=["enterprises"]).loaded["enterprises"]
    err = not_in_register(c[2].lower(), reg)
    assert (err.row, err.column) == (3, "uscc")
    assert f"enterprise {c[2]} is not graded: its register row was quarantined (bad_type: '2020-13-45' is not a " \
           "date" in err.message
    err = not_in_register("91330205MA0000000X", reg)
    assert err.row is None and err.message == "no enterprise 91330205MA0000000X in the register (3 enterprises)"


# ----------------------------------------------------------------------------- evidence: adverse events
def test_the_data_end_is_the_latest_report_of_any_table():
    from creditmodel.evaluation.evidence import data_end

    tabs = district([firm(A, registered="2019-01-01")],
                    penalties=[penalty("P1", A, "2025-03-01", "general", "2025-06-01", "2026-03-01")],
                    lists=[listing("L1", A, "red", "2024-01-01")])
    assert data_end(tabs) == T("2025-03-01")


def test_an_adverse_event_is_one_of_its_kind_dated_after_the_as_of_date_up_to_the_horizon_end():
    from creditmodel.evaluation.evidence import adverse_events

    enf = {"record_id": "E1", "uscc": B, "case_no": "(2024)浙0205执1号", "court": "c", "filed_on": "2024-06-01",
           "amount": 1000.0, "dishonest_listed_on": "2025-02-01", "dishonest_removed_on": None, "closed_on": None,
           "reported_on": "2024-06-01"}
    tabs = district(
        [firm(A), firm(B), firm(C, status="deregistered", closed_on="2025-03-01"),
         firm("91330205MA0000000X", status="revoked", closed_on="2024-12-31")],
        penalties=[penalty("P1", A, "2025-12-31", "serious", "2026-12-31", "2028-12-31"),      # the horizon's last day
                   penalty("P2", C, "2024-12-31", "serious", "2025-12-31", "2027-12-31")],     # the as-of date
        enforcement=[enf],
        lists=[listing("L1", C, "black", "2025-05-01")])
    ev = adverse_events(tabs, "2024-12-31", 12)
    assert ev.loc[A, "serious_penalty"] == 1 and ev.loc[A, "adverse"] == 1
    # filed before the window, listed as a dishonest debtor inside it
    assert (ev.loc[B, "enforcement"], ev.loc[B, "dishonest_debtor"], ev.loc[B, "adverse"]) == (0, 1, 1)
    # a penalty on the as-of date, a black (not serious-dishonesty) listing, a deregistration (not a revocation)
    assert C not in ev.index or ev.loc[C, "adverse"] == 0
    assert "91330205MA0000000X" not in ev.index or ev.loc["91330205MA0000000X", "adverse"] == 0
    only = adverse_events(tabs, "2024-12-31", 12, events=["dishonest_debtor"])
    assert only.loc[A, "serious_penalty"] == 1 and only.loc[A, "adverse"] == 0 and only.loc[B, "adverse"] == 1


# ----------------------------------------------------------------------------- evidence: weights and sensitivity
RED = (0, 1, 2, 3, 4, 10, 11, 12, 20)        # firms with an active red-list honour (+3)
EVENTS = (0, 1, 2, 3, 4, 10, 11, 12, 13, 14)  # firms with a serious penalty in 2025 (the adverse event)


def _evidence_district() -> dict[str, pd.DataFrame]:
    """40 firms as of 2024-12-31 (and one deregistered before, left out): firms 0-9 with a general penalty in
    publicity, the red-list firms +3; adverse events (serious penalties) as listed, one of them on the horizon's
    last day 2025-12-31 (the end of the data)."""
    import district_factory as fac

    codes = fac.codes(41, seed=5)
    pens = [penalty(f"G{i}", codes[i], "2024-06-01", "general", "2024-09-01", "2025-06-01", paid="2024-06-05")
            for i in range(10)]
    pens += [penalty(f"S{i}", codes[i], d, "serious", "2026-03-01", "2028-03-01", paid=d)
             for i in EVENTS for d in ["2025-12-31" if i == 14 else "2025-03-01"]]
    return district([firm(c) for c in codes[:40]] + [firm(codes[40], status="deregistered", closed_on="2024-06-30")],
                    penalties=pens, lists=[listing(f"R{i}", codes[i], "red", "2024-01-01") for i in RED])


@pytest.fixture(scope="module")
def evidence40():
    """The evidence on :func:`_evidence_district`, penalty_general weighted x4 (-20: 80, grade B)."""
    from creditmodel.evaluation.evidence import expert_vs_evidence

    cfg = load_config().with_weights({"penalty_general": 4.0})
    return expert_vs_evidence(_evidence_district(), cfg, as_of="2024-12-31", horizon_months=12, factors=(0.8, 1.2))


def _logistic_l2(Z: np.ndarray, y: np.ndarray, C: float) -> np.ndarray:
    """Independent fit of scikit-learn's objective C * sum(log-loss) + |w|^2 / 2 (intercept not penalised)."""
    from scipy.optimize import minimize

    def f(p):
        m = p[0] + Z @ p[1:]
        return C * np.sum(np.logaddexp(0, m) - y * m) + 0.5 * p[1:] @ p[1:]

    return minimize(f, np.zeros(Z.shape[1] + 1), method="BFGS", options={"gtol": 1e-10}).x


def test_the_evidence_counts_the_firms_existing_at_the_as_of_date_and_their_events_per_grade(evidence40):
    ev = evidence40
    assert len(ev.frame) == 40 and int(ev.frame["adverse"].sum()) == 10
    r = ev.grade_rates.set_index("public_credit_grade")
    assert r.loc[["A", "B"], "enterprises"].tolist() == [30, 10] and r.loc[["A", "B"], "events"].tolist() == [5, 5]
    assert r.loc["A", "event_rate"] == pytest.approx(5 / 30) and r.loc["B", "event_rate"] == 0.5
    assert r.loc[["C", "D"], "event_rate"].isna().all()


def test_the_aucs_are_those_of_pair_counting(evidence40):
    """Scores: events 83 x5 (penalty and red list), 103 x3, 100 x2; the others 80 x5, 103 x1, 100 x24. A pair counts
    1 when the event firm scores lower, 1/2 on a tie: (5 x 25 + 3 x 0.5 + 2 x (1 + 12)) / 300 = 152.5 / 300. The
    grade (B for the penalty firms, A otherwise): (5 x 25 + 25 x 0.5 + 125 x 0.5) / 300 = 200 / 300."""
    d = evidence40.discrimination.set_index("ranker")["auc"]
    assert d["public_credit_score"] == pytest.approx(152.5 / 300)
    assert d["public_credit_grade"] == pytest.approx(200 / 300) and d["grade_from_score"] == pytest.approx(200 / 300)


def test_learned_weights_shares_and_estimability_by_hand(evidence40):
    w = evidence40.weights.set_index("indicator")
    hit = np.r_[np.ones(10), np.zeros(30)]
    red = np.isin(np.arange(40), RED).astype(float)
    y = np.isin(np.arange(40), EVENTS).astype(float)
    X = np.c_[-20 * hit, 3 * red]
    sd = X.std(axis=0)
    beta = _logistic_l2((X - X.mean(axis=0)) / sd, y, 1.0)[1:]
    b_score = _logistic_l2((100 + X.sum(axis=1))[:, None], y, 1e6)[1]
    pg, rl = w.loc["penalty_general"], w.loc["red_list"]
    assert (pg["n_hit"], pg["events_hit"], pg["n_not_hit"], pg["events_not_hit"]) == (10, 5, 30, 5)
    assert (pg["prevalence"], pg["event_rate_hit"], pg["event_rate_not_hit"]) == (0.25, 0.5, pytest.approx(5 / 30))
    assert pg["points_sd"] == pytest.approx(np.sqrt(75))               # -20 x 10 and 0 x 30 around -5
    assert pg["expert_share"] == pytest.approx(sd[0] / sd.sum())
    assert [pg["learned_coef_sd"], rl["learned_coef_sd"]] == pytest.approx(beta, rel=1e-3)
    assert pg["learned_share"] == pytest.approx(-beta[0] / np.abs(beta).sum(), rel=1e-3)
    assert rl["learned_share"] == pytest.approx(-beta[1] / np.abs(beta).sum(), rel=1e-3)
    assert pg["implied_weight"] == pytest.approx(4.0 * beta[0] / sd[0] / b_score, rel=1e-3)
    # 5 events and 5 without among the 10 it applies to, 5 and 25 among the others: exactly min_events (5) a side
    assert bool(pg["estimable"]) and pg["sign_agrees"] is True and pg["note"] == ""
    assert not bool(rl["estimable"]) and rl["sign_agrees"] is False
    assert rl["note"] == ("not identified: 8 adverse events among the 9 enterprises it applies to, 2 among the other "
                          "31 (needs at least 5 events and 5 without on each side)")
    # the red list's sign is against the expert, but it is not estimable: the notes do not say it contradicts
    assert evidence40.weight_notes() == [
        "learned weight not identified (fewer than 5 adverse events, or enterprises without one, on one side of the "
        "indicator): red_list (8 events among the 9 enterprises it applies to, 2 among the other 31)"]
    assert evidence40.comparison["weights_sign_contradicts_expert"] == 0


def test_the_sensitivity_moves_the_grades_a_weight_can_move(evidence40):
    """penalty_general at 4 x 1.2 = 4.8: -24, the ten penalty firms fall from B (80, 83) to C (76, 79): a quarter of the
    firms change grade, the excellent-or-good share falls from 1 to 0.75; at 4 x 0.8 (-16: 84, 87) nothing moves."""
    s = evidence40.sensitivity.set_index(["indicator", "factor"])
    up, down = s.loc[("penalty_general", 1.2)], s.loc[("penalty_general", 0.8)]
    assert (up["weight"], up["grade_changed_share"], up["excellent_or_good_share"]) == (pytest.approx(4.8), 0.25, 0.75)
    assert up["delta_excellent_or_good"] == -0.25 and (up["grade_B_share"], up["grade_C_share"]) == (0.0, 0.25)
    assert (down["grade_changed_share"], down["delta_excellent_or_good"]) == (0.0, 0.0)
    assert (s.drop(index="penalty_general", level="indicator")["grade_changed_share"] == 0).all()


def test_the_grade_auc_ranks_the_grade_after_its_caps():
    """Ten firms, one adverse event (firm 0: on the serious-dishonesty list, 60, grade C by its score, D after the
    cap). Firm 1 (two serious penalties: 70, C) has none, the eight others are A. After the caps firm 0 ranks above
    every other firm: AUC 1; by the score alone it ties firm 1: (0.5 + 8) / 9."""
    import district_factory as fac
    from creditmodel.evaluation.evidence import expert_vs_evidence

    c = fac.codes(10, seed=9)
    tabs = district([firm(x) for x in c],
                    penalties=[penalty(f"P{k}", c[1], "2024-06-01", "serious", "2025-06-01", "2027-06-01",
                                       paid="2024-06-05") for k in (1, 2)]
                    + [penalty("E0", c[0], "2025-12-31", "serious", "2026-12-31", "2028-12-31")],
                    lists=[listing("L0", c[0], "serious_dishonesty", "2024-06-01")])
    ev = expert_vs_evidence(tabs, None, as_of="2024-12-31", factors=())
    d = ev.discrimination.set_index("ranker")["auc"]
    assert d["public_credit_grade"] == 1.0 and d["grade_from_score"] == pytest.approx(8.5 / 9)


def test_a_contradicting_sign_says_whether_the_raw_rates_agree():
    from creditmodel.evaluation.evidence import _weight_note

    agree = _weight_note(True, True, True, False, ev_hit=10, n_hit=20, ev_not=5, n_not=80, min_events=5, deduction=True)
    assert agree == ("learned sign contradicts the expert's direction: with the other indicators fixed, more points go "
                     "with more risk (event rate 50.0% where it applies, 6.2% elsewhere: the raw rates agree with the "
                     "expert, the other indicators it goes with take the effect)")
    bonus = _weight_note(True, True, True, False, ev_hit=10, n_hit=20, ev_not=5, n_not=80, min_events=5, deduction=False)
    assert bonus.endswith("(event rate 50.0% where it applies, 6.2% elsewhere: the raw rates contradict the expert too)")


# ------------------------------------------------ bugs the mutation pass found (fixed in 16105c0; these guard them)
# Was a bug (fixed): sector evaluations skip the check the public grades have (parse_config: "grades[0].min_score >
# top"): a sector grade that no score can reach (food safety: base 100, max_bonus 0, A from 150) is accepted without a
# word, and no firm is ever graded A in that sector. The public check was a reviewer's finding (test_evaluation, 150
# points).
def test_a_sector_grade_no_score_can_reach_is_refused():
    _refused(_doc((["sectors", "food_safety", "grades", 0, "min_score"], 150)), "sectors.food_safety.grades[0].min_score",
             "above the highest possible score 100")


# Was a bug (fixed): a flag rule's at_least is not range-checked (_rule: at_least = _number(...) with no lower bound).
# On a count or 0/1 feature, at_least 0 (or below) flags every enterprise: dishonest_debtor with at_least 0 deducts 25
# points from a firm with no record (a clean firm is graded C, 75). The grade caps refuse the same value (at_least must
# be above 0).
@pytest.mark.parametrize("value", [0, -1])
def test_a_flag_threshold_that_flags_every_firm_is_refused(value):
    _refused(_doc((J + ["dishonest_debtor", "at_least"], value)), "dimensions.judicial.indicators.dishonest_debtor.at_least")


# Was a bug (consistency, fixed): supervision.from_grade refuses a worse grade mapped to a lower-risk class, but a
# sector's supervision_floor is not checked: {C: C, D: B} (a food-safety D floors the class at B, a C at C) is accepted.
def test_a_sector_floor_that_is_laxer_for_a_worse_grade_is_refused():
    _refused(_doc((["sectors", "food_safety", "supervision_floor"], {"C": "C", "D": "B"})),
             "sectors.food_safety.supervision_floor")


# Was a bug (fixed): expert_vs_evidence grades the tables through prepare_tables (build_inputs) but reads the adverse
# events from the raw tables (adverse_events): a penalties table with lower-cased codes, or severities written by name
# (严重, which prepare_tables maps to serious), is graded the same but shows 0 adverse events instead of 10.
def test_the_evidence_reads_its_adverse_events_as_the_evaluation_reads_the_tables():
    from creditmodel.evaluation.evidence import expert_vs_evidence

    tabs = _evidence_district()
    pen = tabs["penalties"].copy()
    pen["uscc"] = pen["uscc"].str.lower()
    pen["severity"] = pen["severity"].map({"serious": "严重", "general": "一般"})
    ev = expert_vs_evidence({**tabs, "penalties": pen}, None, as_of="2024-12-31", factors=())
    assert ev.weights.set_index("indicator").loc["penalty_general", "prevalence"] == 0.25   # graded as the original
    assert int(ev.frame["adverse"].sum()) == 10
