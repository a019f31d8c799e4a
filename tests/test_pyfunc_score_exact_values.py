"""Tests written after a manual mutation-testing pass over the bank-facing scoring path (scoring/model.py,
scoring/pyfunc.py, scoring/score.py, scoring/narrative.py): each one catches a wrong number, a lost row, a wrong
status or an error text that no longer names its column, which the rest of the suite let through.

The models here are hand-made: a linear "LightGBM" whose log-odds of bad is ``x1 (+1 for sector farm)`` and a
"scorecard" whose points are ``500 + 10 * x1``, both calibrated by the logistic function. So every score, PD and
grade below is worked out by hand from DOMAIN.md B3 (600 points at odds 50:1, 20 points to double the odds; the
master scale's doubling bands from 0.05 %), never read from the code's own output.
"""
from __future__ import annotations

import logging
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from creditmodel.errors import InputError
from creditmodel.scoring import narrative as N
from creditmodel.scoring.district import TARGET, DistrictSample
from creditmodel.scoring.master_scale import MasterScale
from creditmodel.scoring.model import SCORE_COLUMNS, CreditModel, InputSpec, ScoreScaling
from creditmodel.scoring.pyfunc import (CreditModelPyfunc, input_checks_table, predict_array_equal,
                                        score_to_pd_table, signature, spark_result_type, to_plain_types)
from creditmodel.scoring.score import (BLANK_ROW, ChunkSummary, ResolvedModel, RowChecks, ScoreResult,
                                       _score_plain, apply_in_default, apply_row_errors, blank_rows,
                                       in_default_flags, iter_chunks, score_frame)

FACTOR = 20 / math.log(2)                    # 28.853900817779268
OFFSET = 600 - FACTOR * math.log(50)         # 487.12287620450553
USCC_OK = "91330205MA2A0B0C8L"               # a valid code (GB 32100-2015: organisation check 8, code check L)


class Logistic:
    """PD = 1 / (1 + exp(-raw / scale + shift))."""

    def __init__(self, sign: float = 1.0, centre: float = 0.0, scale: float = 1.0):
        self.sign, self.centre, self.scale = sign, centre, scale

    def predict(self, raw):
        return expit(self.sign * (np.asarray(raw, dtype=float) - self.centre) / self.scale)


class LinearGBM:
    """log-odds of bad = x1 (missing: 0) + 1 for sector farm; reasons: x1 first when x1 >= 0, else x2."""

    selected_features_ = ["x1", "x2", "sector"]

    def __init__(self):
        self.seen = []

    def decision_function(self, X):
        self.seen.append(len(X))
        farm = (X["sector"].astype(object) == "farm").to_numpy(dtype=bool)
        return X["x1"].fillna(0).to_numpy(dtype=float) + farm

    def reason_codes(self, X, n=3):
        up = (X["x1"].fillna(0) >= 0).to_numpy()
        return pd.DataFrame({"reason_1": np.where(up, "x1", "x2"), "reason_2": "sector",
                             "reason_3": np.where(up, "x2", "x1")}, index=X.index).iloc[:, :n]


class Card:
    """points = 500 + 10 * x1 (missing: 0); reason codes x2, x1, sector (positions 1, 0, 2)."""

    selected_features_ = ["x1", "x2", "sector"]
    points_table_ = pd.DataFrame({"feature": ["x1", "x1", "x2", "x2"], "points": [10.4, 20.0, -5.2, 7.6],
                                  "kind": "regular"})

    def points_and_reason_codes(self, X, n=3):
        raw = 500 + 10 * X["x1"].fillna(0).to_numpy(dtype=float)
        return raw, np.tile(np.array([1, 0, 2], dtype=np.int32)[:n], (len(X), 1))


SPEC = InputSpec(numeric=["x1", "x2"], categorical={"sector": ["farm", "retail"]}, binary=[],
                 bounds={"x2": (0.0, None, "a count", True)})


def _gbm(**kw) -> CreditModel:
    return CreditModel(LinearGBM(), Logistic(), MasterScale(), SPEC, "lightgbm", "toy", version="v9", **kw)


def _card() -> CreditModel:
    # higher points are safer: PD = expit(-(points - 500) / 20)
    return CreditModel(Card(), Logistic(sign=-1.0, centre=500.0, scale=20.0), MasterScale(), SPEC, "scorecard",
                       "card", version="c1")


def _s(col) -> list:
    """A column as a list of str, None where missing."""
    return [None if pd.isna(v) else str(v) for v in col]


def _points(p: float) -> int:
    return int(round(OFFSET + FACTOR * math.log((1 - p) / p)))


# ------------------------------------------------------------------------------------------ model.score_frame
def test_lightgbm_scores_pd_grade_are_the_scaling_formula_and_the_master_scale_bands():
    """log-odds x1 (+1 farm) -> PD = expit; points = round(487.1229 + 28.8539 * ln((1 - PD) / PD)); grades from
    the doubling bands: PD 0.5 grade 10, expit(-3) = 4.74 % grade 7, expit(-4) = 1.80 % grade 6, expit(-7)
    = 0.091 % grade 2."""
    df = pd.DataFrame({"x1": [0.0, -3.0, -5.0, -7.0], "x2": [1.0, 2.0, 3.0, 4.0],
                       "sector": ["retail", "retail", "farm", "retail"]}, index=[30, 10, 20, 0])
    out = _gbm().score_frame(df)
    assert list(out.columns) == SCORE_COLUMNS and list(out.index) == [30, 10, 20, 0]
    assert out["pd_12m"].tolist() == pytest.approx([0.5, 0.04742587317756678, 0.01798620996209156,
                                                    0.0009110511944006454], rel=1e-12)
    # by hand: 487.12 + 0 = 487.12; + 3 * 28.85 = 573.68; + 4 * 28.85 = 602.54; + 7 * 28.85 = 689.10
    assert out["score"].tolist() == [487, 574, 603, 689]
    assert [_points(p) for p in out["pd_12m"]] == [487, 574, 603, 689]
    assert out["grade"].astype(str).tolist() == ["10", "7", "6", "2"]
    assert out["reason_1"].astype(str).tolist() == ["x1", "x2", "x2", "x2"]
    assert out["reason_2"].astype(str).tolist() == ["sector"] * 4
    assert out["reason_3"].astype(str).tolist() == ["x2", "x1", "x1", "x1"]
    assert out["model_name"].astype(str).tolist() == ["toy"] * 4
    assert out["model_version"].astype(str).tolist() == ["v9"] * 4
    assert out["status"].astype(str).tolist() == ["ok"] * 4 and out["error"].isna().all()


def test_points_from_pd_is_the_pdo_formula_and_clips_at_1e9():
    s = ScoreScaling()
    assert s.factor == pytest.approx(FACTOR) and s.offset == pytest.approx(OFFSET)
    # odds 50:1 -> 600; odds 100:1 -> 620; odds 25:1 -> 580
    assert s.points_from_pd(np.array([1 / 51, 1 / 101, 1 / 26])).tolist() == [600, 620, 580]
    # PD 0 is read as 1e-9: 487.12 + 28.85 * ln(1e9 - 1) = 1085.08
    assert s.points_from_pd(np.array([0.0])).tolist() == [1085]
    assert s.points_from_pd(np.array([1.0])).tolist() == [round(OFFSET - FACTOR * math.log(1e9 - 1))]
    assert ScoreScaling(base_score=500, base_odds=20, pdo=40).points_from_pd(np.array([1 / 41])).tolist() == [540]


def test_faulty_rows_stay_in_place_with_the_column_named_and_the_others_are_scored_alone():
    """Each fault makes its own row an error naming the column; the clean rows keep the scores they have alone,
    and the LightGBM sees only the clean rows."""
    df = pd.DataFrame({"x1": ["-3", "abc", "inf", "1e39", "-5", " ", "0"],
                       "x2": ["2", "1", "1", "1", "-1", "2.5", "1"],
                       "sector": ["retail", "retail", "retail", "retail", "farm", "retail", "moon"]},
                      index=list("abcdefg"))
    m = _gbm()
    out = m.score_frame(df, warn=False)
    assert list(out.index) == list("abcdefg")
    assert out["status"].astype(str).tolist() == ["ok", "error", "error", "error", "error", "error", "error"]
    assert out["error"].tolist()[1:] == [
        "column 'x1': 'abc' is not a number",
        "column 'x1': infinite value",
        "column 'x1': value beyond 3.4e+38 (refused in training too)",
        "column 'x2': -1 is below 0, its lowest possible value (a count)",
        "column 'x2': 2.5 is not a whole number (a count)",
        "column 'sector': category 'moon' was not seen in training"]
    assert pd.isna(out["error"].iloc[0])
    assert out["score"].iloc[0] == 574 and out["pd_12m"].iloc[0] == pytest.approx(0.04742587317756678)
    assert out["grade"].iloc[0] == "7"
    assert out["score"].iloc[1:].isna().all() and out["pd_12m"].iloc[1:].isna().all()
    for c in ("grade", "reason_1", "reason_2", "reason_3"):
        assert out[c].iloc[1:].isna().all()
    assert out["model_version"].astype(str).tolist() == ["v9"] * 7   # an error row still says which model
    assert m.estimator.seen == [1]


def test_the_first_fault_of_a_row_is_its_message_and_a_warning_counts_the_rows(caplog):
    """A row with two faults is named by its first numeric column; the warning counts 2 of 3 rows."""
    df = pd.DataFrame({"x1": ["zz", "0", "1"], "x2": ["-4", "1", "qq"], "sector": ["moon", "retail", "retail"]})
    with caplog.at_level(logging.WARNING, logger="creditmodel.scoring.model"):
        out = _gbm().score_frame(df)
    assert out["error"].tolist()[0] == "column 'x1': 'zz' is not a number"
    assert out["error"].tolist()[2] == "column 'x2': 'qq' is not a number"
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs == ["2 of 3 rows have a model input that cannot be scored (status=error); first: "
                    "column 'x1': 'zz' is not a number"]


def test_a_missing_value_that_drives_a_reason_says_missing_and_a_blank_category_is_missing_not_unseen():
    df = pd.DataFrame({"x1": [-3.0, -3.0, 2.0], "x2": [np.nan, 1.0, np.nan], "sector": ["retail", "  ", None]})
    out = _gbm().score_frame(df)
    assert out["status"].astype(str).tolist() == ["ok", "ok", "ok"]
    assert out["reason_1"].astype(str).tolist() == ["x2.missing", "x2", "x1"]
    assert out["reason_2"].astype(str).tolist() == ["sector", "sector.missing", "sector.missing"]
    assert out["reason_3"].astype(str).tolist() == ["x1", "x1", "x2.missing"]
    assert out["score"].tolist() == [574, 574, _points(float(expit(2.0)))]


def test_true_false_in_a_numeric_column_that_was_no_yes_no_feature_is_not_a_number():
    df = pd.DataFrame({"x1": pd.array([True, False], dtype="boolean"), "x2": [1.0, 1.0], "sector": ["retail"] * 2})
    out = _gbm().score_frame(df, warn=False)
    assert out["error"].tolist() == [
        "column 'x1': 'TRUE' is not a number (a number in training, not a yes/no feature)",
        "column 'x1': 'FALSE' is not a number (a number in training, not a yes/no feature)"]
    spec = InputSpec(numeric=["x1", "x2"], categorical={"sector": ["farm", "retail"]}, binary=["x1"])
    m = CreditModel(LinearGBM(), Logistic(), MasterScale(), spec, "lightgbm", "toy", version="v9")
    ok = m.score_frame(df.assign(x1=pd.array(["TRUE", "false"], dtype="string")))
    assert ok["status"].astype(str).tolist() == ["ok", "ok"]
    assert ok["pd_12m"].tolist() == pytest.approx([expit(1.0), 0.5])


def test_a_missing_column_stops_the_call_naming_it():
    with pytest.raises(InputError) as e:
        _gbm().score_frame(pd.DataFrame({"x1": [1.0], "sector": ["farm"]}))
    assert "missing column(s) the model needs: ['x2']" in str(e.value) and e.value.column == "x2"


def test_scorecard_points_are_rounded_raw_points_and_pd_comes_from_the_unrounded_points():
    """points 500 + 10 * x1: x1 = 0.26 -> 502.6 -> score 503 but PD expit(-(502.6 - 500) / 20) = expit(-0.13);
    x1 = -0.26 -> 497.4 -> 497; an error row between them leaves both in place."""
    df = pd.DataFrame({"x1": ["0.26", "bad", "-0.26", "12"], "x2": [1.0, 1.0, 1.0, 1.0],
                       "sector": ["retail"] * 4})
    out = _card().score_frame(df, warn=False)
    assert out["status"].astype(str).tolist() == ["ok", "error", "ok", "ok"]
    assert out["score"].tolist()[0] == 503 and out["score"].tolist()[2:] == [497, 620]
    assert out["pd_12m"].iloc[0] == pytest.approx(1 / (1 + math.exp(0.13)), rel=1e-12)
    assert out["pd_12m"].iloc[2] == pytest.approx(1 / (1 + math.exp(-0.13)), rel=1e-12)
    assert out["pd_12m"].iloc[3] == pytest.approx(1 / (1 + math.exp(6.0)), rel=1e-12)   # 0.247 % grade 3
    assert _s(out["grade"]) == ["10", None, "10", "3"]
    assert _s(out["reason_1"]) == ["x2", None, "x2", "x2"]
    assert _s(out["reason_3"]) == ["sector", None, "sector", "sector"]
    assert out["model_version"].astype(str).tolist() == ["c1"] * 4


def test_reason_table_and_texts():
    cat = pd.DataFrame({"code": ["x1"], "name_en": ["Leverage"], "name_zh": ["杠杆"], "reason_en": ["High leverage"],
                        "reason_zh": ["杠杆高"]})
    m = _gbm(catalogue=cat)
    t = m.reason_table()
    assert t["code"].tolist() == ["x1", "x2", "sector", "x1.missing", "x2.missing", "sector.missing"]
    assert t["text_en"].tolist() == ["High leverage", "x2", "sector", "Leverage: data missing (cannot be judged)",
                                     "x2: data missing (cannot be judged)", "sector: data missing (cannot be judged)"]
    assert t["text_zh"].tolist()[0] == "杠杆高"
    scored = pd.DataFrame({"reason_1": ["x1", "x2.missing", None], "reason_2": ["zz", "x1", None]})
    en = m.with_reason_texts(scored)
    assert _s(en["reason_1"]) == ["High leverage", "x2: data missing (cannot be judged)", None]
    assert _s(en["reason_2"]) == ["zz", "High leverage", None]
    with pytest.raises(InputError, match="lang must be 'en' or 'zh'"):
        m.with_reason_texts(scored, lang="fr")


def test_input_spec_from_frame_reads_binary_columns_and_sorted_levels_without_blanks():
    X = pd.DataFrame({"flag": [0.0, 1.0, np.nan], "amount": [0.0, 1.0, 2.0], "sector": ["b", " ", "a"],
                      "yn": [True, False, True]})
    s = InputSpec.from_frame(X)
    assert s.numeric == ["flag", "amount", "yn"] and s.binary == ["flag", "yn"]
    assert s.categorical == {"sector": ["a", "b"]}
    sub = SPEC.subset(["x2", "sector"])
    assert sub.numeric == ["x2"] and sub.categorical == {"sector": ["farm", "retail"]} and sub.bounds == {
        "x2": (0.0, None, "a count", True)}


# ----------------------------------------------------------------------------------------------------- pyfunc
def _served(model: CreditModel) -> CreditModelPyfunc:
    w = CreditModelPyfunc()
    w.model = model
    return w


def test_pyfunc_predict_returns_the_scoring_columns_per_row_in_order_with_json_nulls():
    df = pd.DataFrame({"x1": [-3.0, "abc", None, -7.0, 0.0], "x2": [1.0, 1.0, None, 1.0, 1.0],
                       "sector": ["retail", "retail", None, "retail", "farm"], "in_default": [0, 0, 0, 1, "maybe"]},
                      index=["r1", "r2", "r3", "r4", "r5"])
    out = _served(_gbm()).predict(None, df)
    assert list(out.columns) == SCORE_COLUMNS and list(out.index) == ["r1", "r2", "r3", "r4", "r5"]
    assert out["status"].tolist() == ["ok", "error", "error", "ok", "error"]
    assert out["error"].tolist() == [None, "column 'x1': 'abc' is not a number", BLANK_ROW, None,
                                     "column 'in_default': 'maybe' is not 1/0, true/false or yes/no (whether the "
                                     "firm is in default decides grade D)"]
    assert out["score"].tolist() == [574, None, None, 689, None]
    assert out["pd_12m"].tolist()[0] == pytest.approx(0.04742587317756678)
    assert out["pd_12m"].tolist()[1:] == [None, None, 1.0, None]
    assert out["grade"].tolist() == ["7", None, None, "D", None]
    assert out["reason_1"].tolist() == ["x2", None, None, "x2", None]
    assert out["model_name"].tolist() == ["toy"] * 5 and out["model_version"].tolist() == ["v9"] * 5


def test_pyfunc_a_missing_column_is_mlflows_400_error_naming_it():
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as e:
        _served(_gbm()).predict(None, pd.DataFrame({"x1": [1.0], "x2": [1.0]}))
    assert "['sector']" in str(e.value) and e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert isinstance(e.value.__cause__, InputError)


def test_pyfunc_loads_its_pickle_from_the_artifacts(tmp_path):
    p = _gbm().save(tmp_path / "m.pkl")
    w = CreditModelPyfunc()
    w.load_context(SimpleNamespace(artifacts={"credit_model": str(p)}))
    out = w.predict(None, {"x1": [0.0], "x2": [1.0], "sector": ["retail"]})   # a dict is read as a frame
    assert out["score"].tolist() == [487] and out["grade"].tolist() == ["10"]


def test_to_plain_types_keeps_nan_floats_unless_asked_for_none():
    out = pd.DataFrame({"score": pd.array([5, None], dtype="Int64"), "pd_12m": [0.1, np.nan],
                        "grade": pd.Categorical(["1", None])})
    a = to_plain_types(out)
    assert a["score"].dtype == np.float64 and np.isnan(a["score"].iloc[1]) and a["grade"].tolist() == ["1", None]
    b = to_plain_types(out, none_for_missing_numbers=True)
    assert b["score"].tolist() == [5.0, None] and b["pd_12m"].tolist() == [0.1, None]
    full = to_plain_types(out.iloc[:1], none_for_missing_numbers=True)   # no missing: stays float
    assert full["score"].dtype == np.float64


def test_signature_and_spark_type_list_the_columns_and_their_types():
    sig = signature(_gbm())
    assert sig.inputs.input_names() == ["x1", "x2", "sector", "in_default"]
    assert all(not c.required for c in sig.inputs.inputs)
    assert [(c.name, c.type.name) for c in sig.outputs.inputs] == [
        ("score", "double"), ("grade", "string"), ("pd_12m", "double"), ("reason_1", "string"),
        ("reason_2", "string"), ("reason_3", "string"), ("model_name", "string"), ("model_version", "string"),
        ("status", "string"), ("error", "string")]
    assert spark_result_type() == ("score double, grade string, pd_12m double, reason_1 string, reason_2 string, "
                                   "reason_3 string, model_name string, model_version string, status string, "
                                   "error string")


def test_input_checks_table_states_the_bounds_levels_and_training_range():
    m = _gbm(metadata={"training_range": {"x1": [-3.0, 3.0]}})
    t = input_checks_table(m)
    assert t["feature"].tolist() == ["x1", "x2", "sector"]
    assert t["kind"].tolist() == ["numeric", "numeric", "categorical"]
    assert t["lowest"].tolist()[1] == 0.0 and pd.isna(t["lowest"].iloc[0]) and pd.isna(t["highest"].iloc[1])
    assert t["whole_numbers"].tolist() == [False, True, False]
    assert t["reason"].tolist() == ["", "a count", "a category the model does not know"]
    assert t["accepted_levels"].tolist() == ["", "", '["farm", "retail"]']
    assert t["training_min"].tolist()[0] == -3.0 and t["training_max"].tolist()[0] == 3.0
    assert pd.isna(t["training_min"].iloc[1])


def test_score_to_pd_table_spans_every_score_the_points_can_add_up_to():
    """x1 gives 10.4..20, x2 -5.2..7.6: the lowest total 5.2 -> 5, the highest 27.6 -> 28: scores 5..28."""
    t = score_to_pd_table(_card())
    assert t["score"].tolist() == list(range(5, 29))
    assert t["pd_12m"].tolist() == pytest.approx([1 / (1 + math.exp(-(500 - s) / 20)) for s in range(5, 29)])
    assert set(t["grade"]) == {"10"}
    assert score_to_pd_table(_gbm()) is None


def test_the_mlmodel_metadata_records_the_version_and_the_column_types():
    from creditmodel.scoring.pyfunc import _metadata

    meta = _metadata(_gbm(metadata={"seed": 7, "training_range": {"x1": [0, 1]}, "data": "toy.csv"}))
    assert meta == {"creditmodel_kind": "lightgbm", "creditmodel_name": "toy", "creditmodel_version": "v9",
                    "creditmodel_numeric": ["x1", "x2"], "creditmodel_categorical": ["sector"], "seed": 7,
                    "data": "toy.csv"}


def test_predict_array_equal_reads_nan_as_nan_and_none_as_none():
    a = pd.DataFrame({"s": [1.0, np.nan], "g": ["1", None]})
    assert predict_array_equal(a, a.copy())
    assert not predict_array_equal(a, a.assign(s=[1.0, 2.0]))
    assert not predict_array_equal(a, a.assign(g=["1", "2"]))
    assert not predict_array_equal(a, a.iloc[:1])
    assert not predict_array_equal(a, a[["g", "s"]])


# ------------------------------------------------------------------------------------------------ score.py
def test_in_default_flags_reads_each_spelling():
    flagged, bad = in_default_flags(pd.Series(["1", "yes", " TRUE ", "是", "0", "no", "否", "", None, "2", "maybe"]))
    assert flagged.tolist() == [True, True, True, True] + [False] * 7
    assert bad.tolist() == [False] * 9 + [True, True]
    f, b = in_default_flags(pd.Series([1.0, 0.0, np.nan, 2.0, 0.5]))
    assert f.tolist() == [True, False, False, False, False] and b.tolist() == [False, False, False, True, True]
    f, b = in_default_flags(pd.Series([True, None, False], dtype="boolean"))
    assert f.tolist() == [True, False, False] and not b.any()


def test_apply_in_default_grades_d_with_pd_1_only_the_flagged_ok_rows():
    scored = _gbm().score_frame(pd.DataFrame({"x1": ["-3", "zz", "-3", "-3"], "x2": [1.0] * 4,
                                              "sector": ["retail"] * 4}), warn=False)
    # row 2 is unscorable and its flag unreadable too: the model's error is the one kept
    out = apply_in_default(scored, pd.DataFrame({"in_default": ["yes", "maybe", "no", "x"]}))
    assert _s(out["grade"]) == ["D", None, "7", None]
    assert out["pd_12m"].tolist()[0] == 1.0 and out["pd_12m"].tolist()[2] == pytest.approx(0.0474258731775668)
    assert out["score"].tolist()[0] == 574            # the model's score stays
    assert out["status"].astype(str).tolist() == ["ok", "error", "ok", "error"]
    assert out["error"].tolist()[1] == "column 'x1': 'zz' is not a number"   # the first error is kept
    assert out["error"].tolist()[3].startswith("column 'in_default': 'x' is not 1/0")


def test_apply_row_errors_blanks_the_scores_of_the_rows_with_a_message_only():
    scored = _gbm().score_frame(pd.DataFrame({"x1": [-3.0, -7.0, 0.0], "x2": [1.0] * 3, "sector": ["retail"] * 3}))
    out = apply_row_errors(scored, np.array([None, "bad id", None], dtype=object))
    assert out["status"].astype(str).tolist() == ["ok", "error", "ok"]
    assert out["error"].tolist()[1] == "bad id"
    assert out["score"].tolist()[0] == 574 and pd.isna(out["score"].iloc[1]) and out["score"].tolist()[2] == 487
    assert pd.isna(out["pd_12m"].iloc[1]) and pd.isna(out["grade"].iloc[1]) and pd.isna(out["reason_3"].iloc[1])
    assert out["model_name"].astype(str).tolist()[1] == "toy"


def test_blank_rows_need_every_model_column_empty():
    df = pd.DataFrame({"a": [None, " ", "1", None], "b": [np.nan, np.nan, np.nan, 0.0]})
    assert blank_rows(df, ["a", "b"]).tolist() == [True, True, False, False]
    assert blank_rows(df, ["a", "c"]).tolist() == [False] * 4   # a missing column is said elsewhere
    assert blank_rows(df, []).tolist() == [False] * 4


def test_row_checks_name_empty_and_repeated_ids_with_the_first_row_across_chunks():
    rc = RowChecks("firm", identifiers=True, features=("x1",))
    a = rc.messages(pd.DataFrame({"firm": ["007", "008", " "], "x1": [1.0, 1.0, 1.0]}))
    b = rc.messages(pd.DataFrame({"firm": ["009", "008 ", "007"], "x1": [1.0, np.nan, 1.0]}, index=[7, 8, 9]))
    assert a.tolist() == [None, None, "column 'firm': the id is empty"]
    assert b.tolist() == [None, BLANK_ROW, "column 'firm': duplicate id '007', first on row 1"]
    c = rc.messages(pd.DataFrame({"firm": ["009"], "x1": [1.0]}))
    assert c.tolist() == ["column 'firm': duplicate id '009', first on row 4"]


def test_row_checks_name_an_invalid_code_and_an_unreadable_date_but_leave_blanks():
    rc = RowChecks(None, identifiers=True)
    m = rc.messages(pd.DataFrame({"uscc": [USCC_OK, USCC_OK[:-1] + "A", "", USCC_OK],
                                  "as_of_date": ["2025-06-30", "2025-06-30", "", "30/06/2025"]}))
    assert m[0] is None and m[2] is None
    assert m[1].startswith("column 'uscc': invalid unified social credit code (")
    assert m[3] == "column 'as_of_date': '30/06/2025' is not a date (YYYY-MM-DD)"


def test_deliverable_checks_refuse_a_date_after_today_and_a_firm_twice_at_one_date():
    rc = RowChecks(None, identifiers=True, deliverable=True, today=pd.Timestamp("2025-12-31"))
    m = rc.messages(pd.DataFrame({"uscc": [USCC_OK, USCC_OK.lower(), USCC_OK, "", USCC_OK],
                                  "as_of_date": ["2025-12-31", "2025-12-31", "2026-01-01", "2025-06-30", None]}))
    assert m[0] is None
    assert m[1] == (f"enterprise {USCC_OK.lower()!r} at 2025-12-31 is already on row 1: the deliverable holds one "
                    "row per enterprise and date")
    assert m[2] == ("column 'as_of_date': 2026-01-01 is after the scoring date 2025-12-31 (the features cannot be "
                    "known yet)")
    assert m[3].startswith("column 'uscc': empty")
    assert m[4] == "column 'as_of_date': empty: the date the enterprise's PD and rate hold at"


def test_score_frame_keeps_the_identifiers_and_names_a_missing_id_column():
    m = _gbm()
    df = pd.DataFrame({"loan_id": ["L1", "L2"], "firm": ["a", "b"], "x1": [0.0, -3.0], "x2": [1.0, 1.0],
                       "sector": ["retail", "retail"], "in_default": [0, 1]}, index=[5, 3])
    out = score_frame(m, df, id_col="firm")
    assert list(out.columns[:2]) == ["firm", "loan_id"] and out["firm"].tolist() == ["a", "b"]
    assert out["grade"].astype(str).tolist() == ["10", "D"] and out["pd_12m"].tolist()[1] == 1.0
    with pytest.raises(InputError) as e:
        score_frame(m, df, id_col="nope")
    assert "id column 'nope' not found" in str(e.value) and e.value.column == "nope"


def test_iter_chunks_gives_every_row_in_order_in_chunks_of_the_size_asked(tmp_path):
    p = tmp_path / "in.csv"
    p.write_text("firm,x1,flag\n001,1,TRUE\n002,x,false\n003,3,\n004,4,1\n005,5,0\n", encoding="utf-8")
    chunks = list(iter_chunks(p, 2, text_columns=("firm",)))
    assert [len(c) for c in chunks] == [2, 2, 1]
    allrows = pd.concat(chunks, ignore_index=True)
    assert allrows["firm"].tolist() == ["001", "002", "003", "004", "005"]
    assert chunks[0]["x1"].tolist() == ["1", "x"]                    # a chunk with text stays text
    assert chunks[1]["x1"].dtype == np.float64 and chunks[1]["x1"].tolist() == [3.0, 4.0]
    assert str(chunks[0]["flag"].dtype) == "boolean" and chunks[0]["flag"].tolist() == [True, False]
    assert chunks[2]["flag"].tolist() == [0.0]
    assert chunks[1]["flag"].tolist()[1] == 1.0 and pd.isna(chunks[1]["flag"].iloc[0])


def _plain(tmp_path, model, rows: str, chunk_rows: int, caplog, id_col="firm"):
    data = tmp_path / "in.csv"
    data.write_text(rows, encoding="utf-8")
    out = tmp_path / "out.parquet"
    with caplog.at_level(logging.WARNING, logger="creditmodel.scoring.score"):
        res = _score_plain(ResolvedModel(model, "models:/toy@x", "toy", "7"), data, out, id_col, chunk_rows,
                           progress=False)
    return res, pd.read_parquet(out)


def test_score_plain_scores_every_row_in_order_across_chunks_with_the_registered_version(tmp_path, caplog):
    m = _gbm(metadata={"training_range": {"x1": [-3.0, 3.0], "x2": [0.0, 5.0]}})
    rows = ("firm,x1,x2,sector\n007,-3,1,retail\n008,abc,1,retail\n009,5,1,retail\n007,-4,1,retail\n"
            "010,-4,9,retail\n011,inf,1,retail\n012,-7,1,retail\n")
    res, out = _plain(tmp_path, m, rows, 2, caplog)
    assert (res.rows, res.rows_ok, res.rows_error) == (7, 4, 3)
    assert res.model_version == "7" and res.model_name == "toy"
    assert out["firm"].tolist() == ["007", "008", "009", "007", "010", "011", "012"]
    assert out["status"].tolist() == ["ok", "error", "ok", "error", "ok", "error", "ok"]
    assert out["error"].tolist()[1] == "column 'x1': 'abc' is not a number"
    assert out["error"].tolist()[3] == "column 'firm': duplicate id '007', first on row 1"
    assert out["error"].tolist()[5] == "column 'x1': infinite value"
    assert out["score"].tolist()[0] == 574 and out["score"].tolist()[6] == 689
    assert out["model_version"].tolist() == ["7"] * 7 and out["model_name"].tolist() == ["toy"] * 7
    assert list(out.columns) == ["score", "grade", "pd_12m", "reason_1", "reason_2", "reason_3", "model_name",
                                 "model_version", "data_sha256", "scored_at", "status", "error", "firm"]
    msgs = [r.getMessage() for r in caplog.records]
    assert len(msgs) == 2
    # 2 rows the model refused (abc, inf); the repeated id is a row check, not counted there
    assert msgs[0].endswith("2 of 7 rows have a model input that cannot be scored (status=error); first (row 2): "
                            "column 'x1': 'abc' is not a number")
    # x1 5 above 3 (row 3), -4 below -3 on rows 5 and 7 (row 4 is the repeated id: refused, not counted); x2 9 > 5
    assert msgs[1].endswith("x1: 2 below, 1 above (training -3 .. 3; first row 3); x2: 1 above (training 0 .. 5; "
                            "first row 5)")


def test_chunk_summary_counts_rows_outside_the_training_range_and_most_rows_first():
    m = _gbm(metadata={"training_range": {"x1": [-3.0, 3.0], "x2": [0.0, 5.0]}})
    s = ChunkSummary(m)
    c1 = pd.DataFrame({"x1": [-4.0, 4.0, 0.0], "x2": [6.0, 1.0, 1.0], "sector": ["retail"] * 3})
    s.add(c1, m.score_frame(c1))
    c2 = pd.DataFrame({"x1": ["-5", "9", "q", "3"], "x2": [1.0, 1.0, 1.0, 9.0], "sector": ["retail"] * 4})
    s.add(c2, m.score_frame(c2, warn=False), refused=np.array([False, True, False, False]))
    assert s.rows == 7 and s.unscorable == 1 and s.first_error_row == 6
    assert s.rows_counted == 5 and s.rows_outside == 4
    assert s.outside_range() == {
        "x1": {"below": 2, "above": 1, "first_row": 1, "training_min": -3.0, "training_max": 3.0},
        "x2": {"below": 0, "above": 2, "first_row": 1, "training_min": 0.0, "training_max": 5.0}}
    assert list(s.outside_range()) == ["x1", "x2"]   # most rows first: 3 against 2


def test_score_result_summary_line():
    r = ScoreResult(out="o.parquet", rows=1234, rows_ok=1200, rows_error=34, seconds=2.0, model_name="toy",
                    model_version="7")
    assert r.summary() == ("scored 1,234 rows (1,200 ok, 34 error) with toy version 7 in 2.0 s (617 rows/s)\n"
                           "  output: o.parquet")


def test_resolved_model_version_is_the_registered_one_else_the_models():
    m = _gbm()
    assert ResolvedModel(m, "x", "toy", "12").version == "12"
    assert ResolvedModel(m, "x").version == "v9"


# --------------------------------------------------------------------------------------------- narrative.py
def _toy_sample() -> DistrictSample:
    """10 loans: 6 development (4 train, 1 valid, 1 test) in 2023, 4 out of time from 2023-12-01."""
    dates = pd.to_datetime(["2023-01-10", "2023-02-10", "2023-03-10", "2023-04-10", "2023-05-10", "2023-06-10",
                            "2023-12-01", "2024-02-01", "2024-06-01", "2025-02-01"])
    t = pd.DataFrame({"loan_id": [f"L{i}" for i in range(10)], "uscc": [f"F{i}" for i in range(10)],
                      "as_of_date": dates, TARGET: [1, 0, 0, 0, 1, 0, 1, 0, 0, 1],
                      "on_black_list": [1, 1, 0, 0, 0, 1, 0, 0, 0, 0],
                      "tax_grade": ["A", None, "B", " ", "A", "B", "A", "A", None, "B"],
                      "firm_age_years": [5.0, 2.0, 6.0, 3.0, 8.0, 9.0, 1.0, 1.0, 1.0, 1.0]})
    window = np.array(["train", "train", "valid", "train", "test", "train", "oot", "oot", "oot", "oot"])
    return DistrictSample(t, ["on_black_list", "tax_grade", "firm_age_years"], window,
                          pd.DataFrame({"code": ["on_black_list"], "name_en": ["On a black list"]}),
                          pd.Timestamp("2023-12-01"))


def test_windows_markdown_counts_loans_defaults_and_the_shock_overlap():
    s = _toy_sample()
    md = N.windows_markdown(s, {"shock_period": {"start": "2023-06-01", "end": "2024-12-31"}})
    lines = md.split("\n")
    assert lines[0] == "**Windows of this run** (`oot_start` = 2023-12-01; every loan):"
    assert lines[1] == ("* development: 6 loans originated 2023-01-10 to 2023-06-10, 2 defaulted (33.3 %); split by "
                        "enterprise into training 4, validation 1, in-time test 1 loans;")
    assert lines[2] == "* out of time: 4 loans originated 2023-12-01 to 2025-02-01, 2 defaulted (50.0 %)."
    assert lines[4].startswith("The generator's shock runs from 2023-06-01 to 2024-12-31 (the district's manifest). "
                               "3 of the 4 out-of-time loans were originated in it; 1 after it. The development window "
                               "reaches into the shock (1 of its loans was originated from 2023-06-01 on): the models "
                               "learnt from part of it. Their outcomes are not all before it: 5 development loans")
    md2 = N.windows_markdown(s, {"shock_period": {"start": "2024-01-01", "end": "2024-12-31"}})
    assert md2.split("\n")[-1].startswith("The generator's shock runs from 2024-01-01 to 2024-12-31 (the district's "
                                          "manifest). 2 of the 4 out-of-time loans were originated in it; 1 before it "
                                          "(from 2023-12-01); 1 after it. The out-of-time figures therefore mix "
                                          "pre-shock loans with the shock's: they measure drift and discrimination "
                                          "over both, not the shock alone. Their outcomes")
    md3 = N.windows_markdown(s, {"shock_period": {"start": "2023-12-01", "end": "2025-02-01"}})
    # every development loan (2023-01-10 .. 2023-06-10) within 12 months of the shock's start: 6 loans, 2 defaults
    assert md3.split("\n")[-1].endswith("The out-of-time window is the shock period: all its 4 loans were "
                                        "originated in it, and no development loan was. Their outcomes are not all "
                                        "before it: 6 development loans were originated in the 12 months before it, "
                                        "so their 12-month outcome windows run into it; 2 of them defaulted (33.3 %, "
                                        "every development loan being that recent). The development sample, and so "
                                        "its default rate (the calibration's target) and the in-time test, hold "
                                        "those outcomes.")
    # a loan on the shock's first or last day is in it: 2024-02-01 .. 2025-02-01 holds 3, 2023-12-01 is before
    md5 = N.windows_markdown(s, {"shock_period": {"start": "2024-02-01", "end": "2025-02-01"}})
    assert "manifest). 3 of the 4 out-of-time loans were originated in it; 1 before it (from 2023-12-01)." in md5
    md4 = N.windows_markdown(s, {"shock_period": {"start": "2026-01-01", "end": "2026-12-31"}})
    assert md4.split("\n")[-1].endswith("No out-of-time loan was originated in it: this run's out-of-time window "
                                        "does not test the shock.")


def test_windows_markdown_says_which_development_outcomes_run_into_the_shock():
    """Development loans 2022-01-10 (F, no default), 2022-06-10 (C, default), 2023-03-10 (F, default), 2023-09-10 (F,
    no default); shock from 2024-01-01, exposed F: the last two lie in the 12 months before it (1 of 2 defaulted,
    50.0 %, against 1 of 2 before, 50.0 %); in F 1 of 2 (50.0 %) against 0 of 1 (0.0 %). Notebook 03 said only "no
    development loan was" originated in the shock (a validator's finding)."""
    dates = pd.to_datetime(["2022-01-10", "2022-06-10", "2023-03-10", "2023-09-10", "2024-02-01", "2024-05-01"])
    t = pd.DataFrame({"loan_id": [f"L{i}" for i in range(6)], "uscc": [f"F{i}" for i in range(6)],
                      "as_of_date": dates, TARGET: [0, 1, 1, 0, 1, 0], "industry": ["F", "C", "F", "F", "F", "C"],
                      "x": [1.0] * 6})
    s = DistrictSample(t, ["x"], np.array(["train", "train", "valid", "test", "oot", "oot"]), None,
                       pd.Timestamp("2024-01-01"))
    md = N.windows_markdown(s, {"shock_period": {"start": "2024-01-01", "end": "2024-12-31",
                                                 "exposed_industries": ["F"]}})
    assert md.split("\n")[-1].endswith(
        "no development loan was. Their outcomes are not all before it: 2 development loans were originated in the 12 "
        "months before it, so their 12-month outcome windows run into it; 1 of them defaulted (50.0 %, against 50.0 % "
        "of the earlier development loans); in the exposed sections 50.0 % of 2 against 0.0 % of 1. The development "
        "sample, and so its default rate (the calibration's target) and the in-time test, hold those outcomes.")
    # a loan exactly 12 months before the start is an earlier one (its outcome window ends the day the shock starts)
    t.loc[2, "as_of_date"] = pd.Timestamp("2023-01-01")
    md = N.windows_markdown(s, {"shock_period": {"start": "2024-01-01", "end": "2024-12-31"}})
    assert ("Their outcomes are not all before it: 1 development loan was originated in the 12 months before it, so "
            "its 12-month outcome window runs into it; it did not default (against 66.7 % of the earlier "
            "development loans).") in md


def test_scope_labels_give_each_parts_dates():
    s = _toy_sample()
    assert N.scope_label(s, "fit") == "training and validation originations 2023-01-10 to 2023-06-10"
    assert N.scope_label(s, "test") == "in-time test originations 2023-05-10 to 2023-05-10"
    assert N.scope_label(s) == "out-of-time originations 2023-12-01 to 2025-02-01"
    assert N.scope_label(s, "dev_vs_oot") == ("development 2023-01-10 to 2023-06-10 vs out of time 2023-12-01 to "
                                              "2025-02-01")


def _toy_card(selected=("on_black_list", "tax_grade")):
    iv = pd.DataFrame({"feature": ["on_black_list", "tax_grade"], "iv": [0.7, 0.2], "n_bins": [2, 3],
                       "rare_bin_p": [0.01, np.nan], "selected": [True, True]})
    pt = pd.DataFrame({"feature": ["tax_grade"] * 3, "kind": ["regular", "regular", "missing"],
                       "label": ["A", "B", "missing"], "points": [30, 10, 20]})
    return SimpleNamespace(iv_report_=iv, points_table_=pt, selected_features_=list(selected),
                           selection_report_=None, rare_bin_min_count=20, rare_bin_alpha=0.05)


def test_rare_flags_table_counts_the_fit_loans_with_the_flag():
    """Training and validation: loans 0, 1, 2, 3, 5 (5 loans, 2 defaults); on_black_list on 0, 1, 5: 3 loans, 1
    default (loan 0)."""
    t = N.rare_flags_table(_toy_card(), _toy_sample())
    assert t["feature"].tolist() == ["on_black_list"]
    r = t.iloc[0]
    assert (r["loans"], r["defaults"]) == (3, 1)
    assert r["share"] == pytest.approx(3 / 5) and r["default_rate"] == pytest.approx(1 / 3)
    assert r["bin"] == "own bin" and bool(r["selected"])


def test_missing_tax_grade_bullet_counts_rates_ages_and_points():
    """Fit loans 0, 1, 2, 3, 5: tax grade missing on 1 and 3 (None and a blank): 2 of 5 (40.0 %), neither
    defaulted (0.0 %) against 1 of 3 (33.3 %); median age 2.5 against 6.0; the missing grade's 20 points lie
    between B's 10 and A's 30: more than 1 of its 2 bins."""
    text = N._missing_grade_bullet(_toy_card(), _toy_sample(), 5)
    assert text == ("* **Missing values: firms without a tax grade.** 2 of the 5 training and validation loans "
                    "(40.0 %) went to a firm without a tax grade; 0.0 % of them defaulted against 33.3 % of the "
                    "others. Such firms are younger (median age 2.5 years against 6.0). The card's `tax_grade` gives "
                    "a missing value 20 points (more than 1 of its 2 bins; bins: A 30 · B 10).")


def test_a_development_loan_on_the_shocks_first_day_is_in_the_shock():
    """Shock 2023-06-10 .. 2025-02-01: the 4 out-of-time loans are in it, and so is the development loan of
    2023-06-10 (its first day): the out-of-time window is not 'the shock period'."""
    md = N.windows_markdown(_toy_sample(), {"shock_period": {"start": "2023-06-10", "end": "2025-02-01"}})
    # the other 5 development loans (2023-01-10 .. 2023-05-10, defaults on the first and the fifth) lie in the 12
    # months before the shock: 2 of 5 defaulted, 40.0 %, and no development loan is older
    assert md.split("\n")[-1] == ("The generator's shock runs from 2023-06-10 to 2025-02-01 (the district's "
                                  "manifest). 4 of the 4 out-of-time loans were originated in it. The development "
                                  "window reaches into the shock (1 of its loans was originated from 2023-06-10 "
                                  "on): the models learnt from part of it. Their outcomes are not all before it: 5 "
                                  "development loans were originated in the 12 months before it, so their 12-month "
                                  "outcome windows run into it; 2 of them defaulted (40.0 %, every development loan "
                                  "being that recent). The development sample, and so its default rate (the "
                                  "calibration's target) and the in-time test, hold those outcomes.")


def test_the_high_iv_note_lists_features_strictly_above_0_5():
    card = _toy_card()
    card.iv_report_ = pd.DataFrame({"feature": ["tax_grade", "on_black_list", "firm_age_years"],
                                    "iv": [0.5, 0.7, 0.9], "selected": [True, True, False]})
    card.selection_report_ = pd.DataFrame({"feature": ["firm_age_years"], "reason": ["correlated"]})
    text = N._high_iv_bullet(card, _toy_sample(), N._names(_toy_sample()), 5)
    assert text == ("* **Features above IV 0.5** (on the 5 training and validation loans): the card uses 1: "
                    "`on_black_list` (On a black list; IV 0.70). Left out: `firm_age_years` (IV 0.90): correlated.")


def test_negative_huge_and_infinite_values_are_refused_like_positive_ones():
    df = pd.DataFrame({"x1": [-1e39, -np.inf, -3.0], "x2": [1.0] * 3, "sector": ["retail"] * 3})
    out = _gbm().score_frame(df, warn=False)
    assert out["error"].tolist()[:2] == ["column 'x1': value beyond 3.4e+38 (refused in training too)",
                                         "column 'x1': infinite value"]
    assert _s(out["status"]) == ["error", "error", "ok"] and out["score"].tolist()[2] == 574


def test_a_missing_category_does_not_hide_an_unseen_one_in_the_next_column():
    spec = InputSpec(numeric=["x1", "x2"], categorical={"sector": ["farm", "retail"], "region": ["n", "s"]})
    m = CreditModel(LinearGBM(), Logistic(), MasterScale(), spec, "lightgbm", "toy", version="v9")
    df = pd.DataFrame({"x1": [-3.0, -3.0], "x2": [1.0, 1.0], "sector": [None, "retail"], "region": ["moon", None]})
    out = m.score_frame(df, warn=False)
    assert _s(out["status"]) == ["error", "ok"]
    assert out["error"].tolist()[0] == "column 'region': category 'moon' was not seen in training"
    assert out["score"].tolist()[1] == 574


def test_calibration_markdown_names_its_bins_and_which_way_the_pds_are_off():
    """Notebook 03 gave decile errors under five-group figures without saying so, and never said the out-of-time
    PDs were too low (a validator's finding). 0.0689 against a true 0.0843: too low, 0.0843 / 0.0689 = 1.22 times."""
    r = {"scorecard": SimpleNamespace(metrics={"test_ece_true_pd": 0.004014, "oot_ece_true_pd": 0.015465,
                                               "oot_mean_pd": 0.0689, "oot_mean_true_pd": 0.0843,
                                               "oot_default_rate": 0.086}),
         "lightgbm": SimpleNamespace(metrics={"test_ece_true_pd": 0.00448, "oot_ece_true_pd": 0.01455,
                                              "oot_mean_pd": 0.09, "oot_mean_true_pd": 0.0843,
                                              "oot_default_rate": 0.086})}
    assert N.calibration_markdown(r) == (
        "Calibration error against the true PD (share-weighted mean absolute difference per predicted-PD decile: ten "
        "groups, as `bench/RESULTS.md` reports it, not the figures' five): scorecard test 0.0040 / out-of-time 0.0155, "
        "lightgbm test 0.0045 / out-of-time 0.0146. Out of time, the mean PD: scorecard 6.89 % against a mean true PD "
        "of 8.43 % (too low, 1.22 times) and an observed default rate of 8.60 %; lightgbm 9.00 % against a mean true "
        "PD of 8.43 % (too high, 1.07 times) and an observed default rate of 8.60 %.")
    no_oot = {"scorecard": SimpleNamespace(metrics={"test_ece_true_pd": 0.004})}
    assert N.calibration_markdown(no_oot).endswith("scorecard test 0.0040 / out-of-time nan.")
