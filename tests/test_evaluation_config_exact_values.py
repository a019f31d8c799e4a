"""Tests from a manual mutation-testing pass (h163) over the indicator system's loading and validation
(evaluation/config.py). Each test pins a behaviour a mutant changed without any other test noticing.

Every test writes a small indicator YAML of its own to ``tmp_path`` (two dimensions of one indicator each, three
grades, two supervision classes) and loads it with :func:`load_config`, so that a refusal must name both the file
and the dotted key at fault. Expected values are worked out by hand from the rules in the module docstring of
evaluation/config.py (``max_points = weight x min(largest rule or missing points, cap)``; the best grade's
``min_score`` may not exceed ``base_score`` + every dimension's ``max_bonus``; ...).
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from creditmodel.errors import ConfigError, InputError
from creditmodel.evaluation.config import Rule, load_config

ENF = ["dimensions", "judicial", "indicators", "enforcement"]
RED = ["dimensions", "incentives", "indicators", "red"]


def _ind(feature: str, direction: str, rule: str, points, cap, **more) -> dict:
    return {"feature": feature, "zh": "指标", "en": "indicator", "direction": direction, "rule": rule,
            "points": points, "cap": cap, **more}


def _grade(label: str, min_score=None) -> dict:
    g = {"label": label, "zh": "级" + label, "en": "grade " + label}
    if min_score is not None:
        g["min_score"] = min_score
    return g


def _tiny() -> dict:
    """base 50; grades A from 55, B from 40, C below; judicial: enforcement -4 per open case (cap 12), at most 10
    deducted; incentives: red +3 per red-list honour (cap 6), at most 6 added (so the top score is 56)."""
    return {
        "name": "tiny",
        "version": 3,
        "base_score": 50,
        "grades": [_grade("A", 55), _grade("B", 40), _grade("C")],
        "dimensions": {
            "judicial": {"zh": "司法", "en": "judicial", "max_deduction": 10,
                         "indicators": {"enforcement": _ind("enforcement_open_n", "deduction", "per_count", -4, 12)}},
            "incentives": {"zh": "激励", "en": "incentives", "max_bonus": 6,
                           "indicators": {"red": _ind("red_list_active_n", "bonus", "per_count", 3, 6)}},
        },
        "supervision": {
            "classes": [{"label": "L", "zh": "低", "en": "low", "inspection_multiplier": 0.5},
                        {"label": "H", "zh": "高", "en": "high", "inspection_multiplier": 2.0}],
            "from_grade": {"A": "L", "B": "L", "C": "H"},
        },
    }


def _sector() -> dict:
    """A food-safety evaluation of one deduction indicator (base 100, grades A from 90, B from 70, C below)."""
    return {"zh": "食品", "en": "food", "applies_to": {"industries": ["H"], "with_records": False},
            "base_score": 100, "max_deduction": 50,
            "grades": [_grade("A", 90), _grade("B", 70), _grade("C")],
            "indicators": {"failed": _ind("inspection_food_safety_fail_2y_n", "deduction", "per_count", -10, 30)}}


def _edit(doc: dict, *edits) -> dict:
    """``doc`` copied, with ``(path, value)`` edits (value ``KeyError``: the key removed; a missing mapping on the
    way is added)."""
    doc = copy.deepcopy(doc)
    for path, value in edits:
        d = doc
        for k in path[:-1]:
            d = d.setdefault(k, {}) if isinstance(d, dict) else d[k]
        if value is KeyError:
            del d[path[-1]]
        else:
            d[path[-1]] = value
    return doc


def _write(tmp_path: Path, doc: dict) -> Path:
    p = tmp_path / "tiny_indicators.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def _load(tmp_path: Path, *edits, doc: dict | None = None):
    return load_config(_write(tmp_path, _edit(_tiny() if doc is None else doc, *edits)))


def _refused(tmp_path: Path, key: str, words: str, *edits, doc: dict | None = None) -> ConfigError:
    """load_config refuses the tiny YAML with ``edits``, naming the file and ``key`` and saying ``words``."""
    p = _write(tmp_path, _edit(_tiny() if doc is None else doc, *edits))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    e = err.value
    assert (e.column, e.file) == (key, str(p)), str(e)
    assert str(e).startswith(f"file {p}, key '{key}': {key}: "), str(e)
    assert words in str(e), str(e)
    return e


def test_the_tiny_configuration_loads_as_written(tmp_path):
    cfg = _load(tmp_path)
    assert (cfg.name, cfg.version, cfg.base_score, cfg.grade_labels) == ("tiny", 3, 50.0, ["A", "B", "C"])
    assert cfg.indicator_keys == ["enforcement", "red"] and cfg.source == str(tmp_path / "tiny_indicators.yaml")


# ----------------------------------------------------------------------------- rules: text, extremes, largest points
JOBS = _ind("employees", "bonus", "bands", [0, 1, 2], 5, thresholds=[50, 300], weight=1.5)
TAX = _ind("tax_grade_ordinal", "deduction", "bands", [0, -2], 10, thresholds=[3], missing=-5)


def test_a_rule_s_extremes_and_largest_points_follow_its_points_its_missing_points_its_cap_and_its_weight(tmp_path):
    """red (+3 per unit, cap 6): text '+3 per unit', extremes (0, 3), largest 6 (the cap: a count is unbounded);
    jobs (bands 0/1/2, cap 5, weight 1.5): extremes (0, 2), largest 1.5 x min(2, 5) = 3; tax (bands 0/-2, missing
    -5, cap 10): a missing value takes more than any band, largest 1 x min(max(2, 5), 10) = 5."""
    cfg = _load(tmp_path, (RED[:-1] + ["jobs"], JOBS), (ENF[:-1] + ["tax"], TAX))
    red, jobs, tax, enf = (cfg.indicator(k) for k in ("red", "jobs", "tax", "enforcement"))
    assert red.rule.describe() == "+3 per unit"
    assert jobs.rule.describe() == "[-inf, 50): +0; [50, 300): +1; [300, inf): +2"
    assert (red.rule.extreme_points(), enf.rule.extreme_points()) == ((0.0, 3.0), (-4.0, 0.0))
    assert (jobs.rule.extreme_points(), tax.rule.extreme_points()) == ((0.0, 2.0), (-2.0, 0.0))
    assert (red.max_abs_points, enf.max_abs_points, jobs.max_abs_points, tax.max_abs_points) == (6.0, 12.0, 3.0, 5.0)
    assert Rule("flag", points=-25.0).extreme_points() == (-25.0, 0.0)
    assert Rule("flag", points=2.0, at_least=3.0).describe() == "+2 when >= 3"


def test_the_indicator_table_gives_each_row_its_own_dimension_s_caps_and_missing_points(tmp_path):
    """judicial caps deductions at 10 and has no bonus cap (0); incentives the reverse (0, 6); the food-safety
    sector deducts at most 50 and adds nothing."""
    cfg = _load(tmp_path, (ENF[:-1] + ["tax"], TAX), (["sectors"], {"food_safety": _sector()}))
    t = cfg.indicator_table().set_index("indicator")
    assert t.loc[["enforcement", "tax", "red", "failed"], "system"].tolist() == ["public", "public", "public",
                                                                              "food_safety"]
    assert t["dimension_max_deduction"].tolist() == [10.0, 10.0, 0.0, 50.0]
    assert t["dimension_max_bonus"].tolist() == [0.0, 0.0, 6.0, 0.0]
    assert t["missing_points"].tolist() == [0.0, -5.0, 0.0, 0.0]
    assert t["max_points"].tolist() == [12.0, 5.0, 6.0, 30.0]


def test_the_industry_override_table_is_sorted_by_section_beside_the_district_wide_rule(tmp_path):
    """H (listed first) reads -6 per open case with cap 18 where the district reads -4 with cap 12; E reads +4 per
    honour where the district reads +3 (cap 6 kept)."""
    ov = {"H": {"enforcement": {"points": -6, "cap": 18}}, "E": {"red": {"points": 4}}}
    t = _load(tmp_path, (["industry_overrides"], ov)).industry_override_table()
    assert t["industry"].tolist() == ["E", "H"] and t["indicator"].tolist() == ["red", "enforcement"]
    assert t["rule_text"].tolist() == ["+4 per unit", "-6 per unit"]
    assert t["district_rule_text"].tolist() == ["+3 per unit", "-4 per unit"]
    assert t["cap"].tolist() == [6.0, 18.0] and t["district_cap"].tolist() == [6.0, 12.0]


def test_the_features_read_are_listed_once_in_order_indicators_caps_then_sectors(tmp_path):
    """A grade cap on enforcement_open_n (already read by an indicator) does not list it twice; the sector's own
    grade cap feature comes after its indicators'."""
    caps = {"listed": {"feature": "dishonest_debtor_listed", "max_grade": "C", "zh": "失信", "en": "listed"},
            "again": {"feature": "enforcement_open_n", "max_grade": "B", "zh": "执行", "en": "open cases"}}
    sector = dict(_sector(), grade_caps={"black": {"feature": "on_food_safety_black_list", "max_grade": "C",
                                                   "zh": "黑名单", "en": "black list"}})
    cfg = _load(tmp_path, (["grade_caps"], caps), (["sectors"], {"food_safety": sector}))
    assert cfg.features() == ["enforcement_open_n", "red_list_active_n", "dishonest_debtor_listed",
                              "inspection_food_safety_fail_2y_n", "on_food_safety_black_list"]
    assert [(c.key, c.at_least, c.max_grade) for c in cfg.grade_caps] == [("listed", 1.0, "C"), ("again", 1.0, "B")]


# ----------------------------------------------------------------------------- indicators and their rules
def test_an_indicator_s_text_must_hold_more_than_blanks(tmp_path):
    _refused(tmp_path, "dimensions.incentives.indicators.red.zh", "must be a non-empty text", (RED + ["zh"], "   "))


def test_a_per_count_or_flag_rule_has_no_thresholds_and_a_flag_reads_from_one_by_default(tmp_path):
    _refused(tmp_path, "dimensions.judicial.indicators.enforcement.thresholds",
             "only a bands rule has thresholds (rule is per_count)", (ENF + ["thresholds"], [1]))
    flag = _ind("dishonest_debtor_listed", "deduction", "flag", -20, 20)
    rule = _load(tmp_path, (ENF[:-1] + ["listed"], flag)).indicator("listed").rule
    assert (rule.at_least, rule.describe()) == (1.0, "-20 when >= 1")


def test_a_flag_may_start_just_above_the_feature_s_lowest_value(tmp_path):
    """dishonest_debtor_listed is a flag (lowest value 0): at_least 0 would hold for every firm, 0.5 is allowed."""
    flag = _ind("dishonest_debtor_listed", "deduction", "flag", -20, 20)
    _refused(tmp_path, "dimensions.judicial.indicators.listed.at_least", "must be above 0, the feature's lowest",
             (ENF[:-1] + ["listed"], dict(flag, at_least=0)))
    assert _load(tmp_path, (ENF[:-1] + ["listed"], dict(flag, at_least=0.5))).indicator("listed").rule.at_least == 0.5


def test_a_bands_rule_needs_thresholds_and_exactly_one_more_point_than_thresholds(tmp_path):
    jobs = ["dimensions", "incentives", "indicators", "jobs"]
    _refused(tmp_path, "dimensions.incentives.indicators.jobs.thresholds", "needs a non-empty list of thresholds",
             (jobs, dict(JOBS, thresholds=[], points=[1])))
    _refused(tmp_path, "dimensions.incentives.indicators.jobs.points", "needs len(thresholds) + 1 = 3 points",
             (jobs, dict(JOBS, points=[0, 1, 2, 2])))
    _refused(tmp_path, "dimensions.incentives.indicators.jobs.points", "needs len(thresholds) + 1 = 3 points",
             (jobs, dict(JOBS, points=[0, 1])))


def test_the_first_band_of_a_bonus_cannot_take_points_either(tmp_path):
    _refused(tmp_path, "dimensions.incentives.indicators.jobs.points[0]", "a bonus cannot give -1 points",
             (RED[:-1] + ["jobs"], dict(JOBS, points=[-1, 1, 2])))


def test_band_points_must_not_move_against_the_feature_even_with_a_flat_step(tmp_path):
    """employees is safer when higher (-1): bonus bands [2, 0, 0] fall with it (refused) and so do [2, 2, 0];
    [0, 0, 2] rise (accepted, as [0, 1, 2])."""
    jobs = RED[:-1] + ["jobs"]
    _refused(tmp_path, "dimensions.incentives.indicators.jobs.points",
             "band points [2.0, 0.0, 0.0] fall with the feature, against its direction (-1: higher is safer)",
             (jobs, dict(JOBS, points=[2, 0, 0])))
    _refused(tmp_path, "dimensions.incentives.indicators.jobs.points", "fall with the feature",
             (jobs, dict(JOBS, points=[2, 2, 0])))
    assert _load(tmp_path, (jobs, dict(JOBS, points=[0, 0, 2]))).indicator("jobs").rule.band_points == (0, 0, 2)
    # tax_grade_ordinal is riskier when higher (+1): deduction bands [-2, 0] rise with it, against its direction
    _refused(tmp_path, "dimensions.judicial.indicators.tax.points", "grow with the feature, against its direction "
             "(+1: higher is riskier)", (ENF[:-1] + ["tax"], dict(TAX, points=[-2, 0])))


def test_a_deduction_cannot_add_points_for_a_missing_value(tmp_path):
    _refused(tmp_path, "dimensions.judicial.indicators.enforcement.missing",
             "a deduction cannot give +1 points for a missing value", (ENF + ["missing"], 1))
    assert _load(tmp_path, (ENF + ["missing"], 0)).indicator("enforcement").missing == 0.0


def test_weight_and_missing_default_to_one_and_zero(tmp_path):
    enf = _load(tmp_path).indicator("enforcement")
    assert (enf.weight, enf.missing, enf.cap) == (1.0, 0.0, 12.0)


# ----------------------------------------------------------------------------- grades and grade caps
def test_a_grade_takes_only_its_own_keys_and_the_lowest_grade_no_threshold(tmp_path):
    _refused(tmp_path, "grades[1].colour", "unknown key(s) ['colour']", (["grades", 1, "colour"], "red"))
    _refused(tmp_path, "grades[2].min_score", "the lowest grade takes every score below the others",
             (["grades", 2, "min_score"], 10))


def test_the_best_grade_may_need_the_base_plus_every_dimension_s_bonus_cap_added_up(tmp_path):
    """incentives adds at most 6 and development at most 3: the top score is 50 + 6 + 3 = 59, A at 59 is reachable,
    A at 59.5 is not."""
    dev = {"zh": "发展", "en": "development", "max_bonus": 3, "indicators": {"jobs": dict(JOBS, cap=2)}}
    assert _load(tmp_path, (["dimensions", "development"], dev),
                 (["grades", 0, "min_score"], 59)).grades[0].min_score == 59.0
    _refused(tmp_path, "grades[0].min_score", "the best grade A needs 59.5 points, above the highest possible score "
             "59 (base_score plus every dimension's max_bonus)",
             (["dimensions", "development"], dev), (["grades", 0, "min_score"], 59.5))


def test_grade_caps_are_a_mapping_of_known_keys_and_texts(tmp_path):
    cap = {"feature": "dishonest_debtor_listed", "max_grade": "C", "zh": "失信", "en": "listed"}
    _refused(tmp_path, "grade_caps", "must be a mapping, got list", (["grade_caps"], []))
    _refused(tmp_path, "grade_caps.listed.colour", "unknown key(s) ['colour']",
             (["grade_caps"], {"listed": dict(cap, colour="red")}))
    _refused(tmp_path, "grade_caps.listed.zh", "must be a non-empty text",
             (["grade_caps"], {"listed": dict(cap, zh="")}))
    cfg = _load(tmp_path, (["grade_caps"], {"listed": dict(cap, at_least=2)}))
    assert [(c.feature, c.at_least, c.max_grade, c.zh) for c in cfg.grade_caps] == [
        ("dishonest_debtor_listed", 2.0, "C", "失信")]


# ----------------------------------------------------------------------------- the document and its dimensions
def test_an_unknown_top_level_key_is_named_alone_the_first_in_sorted_order(tmp_path):
    _refused(tmp_path, "colour", "unknown key(s) ['colour', 'shade']", (["shade"], 1), (["colour"], 2))


def test_the_first_unknown_dimension_is_named(tmp_path):
    d = {"zh": "x", "en": "x", "indicators": {}}
    _refused(tmp_path, "dimensions.luck", "unknown dimension", (["dimensions", "luck"], d), (["dimensions", "zeal"], d))


def test_a_dimension_needs_an_indicator_and_an_indicator_key_is_used_once(tmp_path):
    _refused(tmp_path, "dimensions.judicial.indicators", "needs at least one indicator", (ENF[:-1], {}))
    red_in_judicial = _ind("enforcement_open_n", "deduction", "per_count", -1, 2)
    _refused(tmp_path, "dimensions.incentives.indicators.red", "duplicate indicator key (also in dimension judicial)",
             (ENF[:-1] + ["red"], red_in_judicial))


def test_a_dimension_s_caps_are_not_negative_and_each_direction_it_holds_needs_its_cap(tmp_path):
    _refused(tmp_path, "dimensions.incentives.max_bonus", "must be >= 0, got -1",
             (["dimensions", "incentives", "max_bonus"], -1))
    # judicial holds a deduction (max_deduction 10) and a bonus: the bonus needs a max_bonus too
    _refused(tmp_path, "dimensions.judicial.max_bonus", "has bonuses but max_bonus is 0",
             (ENF[:-1] + ["jobs"], JOBS))
    # incentives holds a bonus (max_bonus 6) and a deduction
    _refused(tmp_path, "dimensions.incentives.max_deduction", "has deductions but max_deduction is 0",
             (RED[:-1] + ["tax"], TAX))


def test_version_is_an_integer_and_name_and_version_have_defaults(tmp_path):
    _refused(tmp_path, "version", "must be an integer", (["version"], True))
    cfg = _load(tmp_path, (["version"], KeyError), (["name"], KeyError))
    assert (cfg.name, cfg.version) == ("public_credit", 1)


# ----------------------------------------------------------------------------- supervision classes
def test_supervision_needs_two_distinct_classes_inspected_a_positive_number_of_times(tmp_path):
    cl = ["supervision", "classes"]
    _refused(tmp_path, "supervision.classes", "must list at least 2 classes, lowest risk first",
             (cl, _tiny()["supervision"]["classes"][:1]),
             (["supervision", "from_grade"], {"A": "L", "B": "L", "C": "L"}))
    _refused(tmp_path, "supervision.classes[0].inspection_multiplier", "must be > 0, got 0",
             (cl + [0, "inspection_multiplier"], 0))
    _refused(tmp_path, "supervision.classes", "duplicate class labels ['L', 'L']", (cl + [1, "label"], "L"))
    cfg = _load(tmp_path)
    assert [(c.label, c.inspection_multiplier) for c in cfg.supervision.classes] == [("L", 0.5), ("H", 2.0)]
    assert (cfg.supervision.multiplier("L"), cfg.supervision.multiplier("H")) == (0.5, 2.0)


def test_supervision_maps_only_known_grades(tmp_path):
    _refused(tmp_path, "supervision.from_grade.Z", "'Z' is not a grade", (["supervision", "from_grade", "Z"], "H"))


# ----------------------------------------------------------------------------- industry overrides
def test_an_override_changes_only_a_rule_s_parameters(tmp_path):
    ov = ["industry_overrides"]
    _refused(tmp_path, "industry_overrides.H.enforcement.thresholds", "only a bands rule has thresholds",
             (ov, {"H": {"enforcement": {"thresholds": [1]}}}))
    _refused(tmp_path, "industry_overrides.H.enforcement.feature", "unknown key(s) ['feature']",
             (ov, {"H": {"enforcement": {"feature": "dishonest_debtor_listed"}}}))


def test_industry_overrides_and_sectors_left_empty_are_none(tmp_path):
    cfg = _load(tmp_path, (["industry_overrides"], None), (["sectors"], None), (["repair"], None))
    assert (cfg.industry_overrides, cfg.sectors, cfg.repair.decision_days, dict(cfg.repair.lists)) == ({}, {}, 0, {})


# ----------------------------------------------------------------------------- sector evaluations
SEC = ["sectors", "food_safety"]


def test_a_sector_applies_to_a_list_of_sections_or_by_its_records_said_as_true_or_false(tmp_path):
    _refused(tmp_path, "sectors.food_safety.applies_to.industries", "must be a list of industry sections",
             (SEC, dict(_sector(), applies_to={"industries": "H"})))
    _refused(tmp_path, "sectors.food_safety.applies_to.with_records", "must be true or false",
             (SEC, dict(_sector(), applies_to={"industries": ["H"], "with_records": "yes"})))
    # with_records defaults to false: no sections and no with_records applies to no enterprise
    _refused(tmp_path, "sectors.food_safety.applies_to", "applies to no enterprise",
             (SEC, dict(_sector(), applies_to={"industries": []})))
    cfg = _load(tmp_path, (SEC, dict(_sector(), applies_to={"industries": ["H", "I"]})))
    ap = cfg.sectors["food_safety"].applies_to
    assert (ap.industries, ap.with_records) == (("H", "I"), False)


def test_a_sector_s_supervision_floor_names_its_grades_and_never_eases_for_a_worse_grade(tmp_path):
    _refused(tmp_path, "sectors.food_safety.supervision_floor.Z", "'Z' is not a grade of this sector",
             (SEC, dict(_sector(), supervision_floor={"Z": "H"})))
    _refused(tmp_path, "sectors.food_safety.supervision_floor", "a worse grade cannot have a lower-risk supervision",
             (SEC, dict(_sector(), supervision_floor={"B": "H", "C": "L"})))
    floor = _load(tmp_path, (SEC, dict(_sector(), supervision_floor={"B": "L", "C": "H"}))).sectors["food_safety"]
    assert dict(floor.supervision_floor) == {"B": "L", "C": "H"}


def test_a_sector_s_bonus_needs_a_max_bonus_and_its_best_grade_the_base_plus_that_bonus(tmp_path):
    bonus = {"good": _ind("red_list_active_n", "bonus", "per_count", 2, 4)}
    _refused(tmp_path, "sectors.food_safety.max_bonus", "has bonuses but max_bonus is 0",
             (SEC, dict(_sector(), indicators={**_sector()["indicators"], **bonus})))
    # base 100 and no bonus: A from 100 is reachable, from 101 not (the 50 deduction points do not help)
    a100 = dict(_sector(), grades=[_grade("A", 100), _grade("B", 70), _grade("C")])
    assert _load(tmp_path, (SEC, a100)).sectors["food_safety"].grades[0].min_score == 100.0
    _refused(tmp_path, "sectors.food_safety.grades[0].min_score", "the best grade A needs 101 points, above the "
             "highest possible score 100 (base_score plus max_bonus)",
             (SEC, dict(a100, grades=[_grade("A", 101), _grade("B", 70), _grade("C")])))
    # with max_bonus 4, A from 104 is reachable
    a104 = dict(_sector(), indicators={**_sector()["indicators"], **bonus}, max_bonus=4,
                grades=[_grade("A", 104), _grade("B", 70), _grade("C")])
    s = _load(tmp_path, (SEC, a104)).sectors["food_safety"]
    assert (s.base_score, s.max_deduction, s.max_bonus, s.grades[0].min_score) == (100.0, 50.0, 4.0, 104.0)


# ----------------------------------------------------------------------------- repair rules
def test_repair_days_are_not_negative_and_list_months_default_to_none_below_and_open_above(tmp_path):
    _refused(tmp_path, "repair.decision_days", "must be >= 0, got -1", (["repair"], {"decision_days": -1}))
    cfg = _load(tmp_path, (["repair"], {"decision_days": 15, "lists": {"black": {"max_months": 0},
                                                                        "abnormal_operation": {"min_months": 3}}}))
    lists = cfg.repair.lists
    assert cfg.repair.decision_days == 15
    assert (lists["black"].min_months, lists["black"].max_months) == (0, 0)
    assert (lists["abnormal_operation"].min_months, lists["abnormal_operation"].max_months) == (3, None)
    _refused(tmp_path, "repair.lists.black.max_months", "max_months 2 < min_months 3",
             (["repair"], {"lists": {"black": {"min_months": 3, "max_months": 2}}}))


# ----------------------------------------------------------------------------- load_config
def test_load_config_takes_an_object_a_mapping_or_a_file_and_names_a_missing_default(tmp_path, monkeypatch):
    from creditmodel.evaluation import config as config_module

    cfg = _load(tmp_path)
    assert load_config(cfg) is cfg
    assert load_config(_tiny()).source == "<dict>"
    with pytest.raises(InputError) as err:
        load_config(tmp_path / "nowhere.yaml")
    assert err.value.file == tmp_path / "nowhere.yaml" and "pass --config" not in str(err.value)
    monkeypatch.setattr(config_module, "DEFAULT_CONFIG", tmp_path / "default.yaml")
    with pytest.raises(InputError) as err:
        load_config(None)
    assert err.value.file == tmp_path / "default.yaml"
    assert "indicator configuration not found (the default lives in the repository's data/ folder; pass --config)" \
        in str(err.value)


# ----------------------------------------------------------------------------- a list where a code belongs
# Found by h163: a feature written as a YAML list (``feature: [enforcement_open_n]``, in an indicator or a grade cap)
# or a sector's industry section written as a list (``industries: [[H]]``) raised a bare ``TypeError: unhashable
# type: 'list'`` from ``x not in <dict>`` in _indicator / _caps / parse_config, instead of the ConfigError naming the
# file and the key that the module promises for every problem (fixed: each is checked to be a text first).
@pytest.mark.parametrize("edit, key", [
    ((ENF + ["feature"], ["enforcement_open_n"]), "dimensions.judicial.indicators.enforcement.feature"),
    ((["grade_caps"], {"listed": {"feature": ["on_black_list"], "max_grade": "C", "zh": "黑", "en": "black"}}),
     "grade_caps.listed.feature"),
    ((SEC, dict(_sector(), applies_to={"industries": [["H"]]})), "sectors.food_safety.applies_to.industries"),
])
def test_a_list_where_a_code_belongs_is_a_config_error_naming_the_key(tmp_path, edit, key):
    _refused(tmp_path, key, "unknown", edit)


def test_the_sector_rule_table_says_where_each_sector_applies_and_how_it_grades(tmp_path):
    """The notebook showed sector grades without the rules behind them (a think tank's finding)."""
    sector = _edit(_sector(), (("grade_caps",), {"black": {"feature": "on_food_safety_black_list", "max_grade": "C",
                                                             "zh": "黑名单", "en": "black list"}}),
                   (("supervision_floor",), {"C": "H"}))
    wide = _edit(_sector(), (("applies_to",), {"industries": ["C", "F"], "with_records": True}), (("max_bonus",), 5))
    t = _load(tmp_path, (("sectors",), {"food_safety": sector, "construction": wide})).sector_rule_table()
    assert list(t.columns) == ["sector", "zh", "en", "applies_to", "base_score", "max_deduction", "max_bonus",
                               "grades", "caps", "raises_supervision"]
    food, w = t.iloc[0].to_dict(), t.iloc[1].to_dict()
    assert (food["sector"], food["applies_to"], food["base_score"], food["max_deduction"], food["max_bonus"]) == (
        "food_safety", "sections H", 100.0, 50.0, 0.0)
    assert food["grades"] == "A >= 90, B >= 70, C < 70"          # the last grade: below the one before it
    assert food["caps"] == "on_food_safety_black_list >= 1: at most C"
    assert food["raises_supervision"] == "grade C -> class H at least"
    assert (w["sector"], w["applies_to"], w["max_bonus"]) == (
        "construction", "sections C, F; any enterprise with a record of the sector", 5.0)
    assert (w["caps"], w["raises_supervision"]) == ("", "")
