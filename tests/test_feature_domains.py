"""An impossible feature value (a negative head count, a voided-invoice share of 1.7, a negative firm age) is a row
error at scoring, not a score: a bank validator's finding. The domains come from the feature catalogue; a column
the catalogue does not know stays unbounded (no bounds from the training range: extrapolation is normal)."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from creditmodel.features import catalogue
from creditmodel.features.catalogue import feature_domains
from creditmodel.scoring.score import resolve_model, score_file
from model_factory import train_small, with_outcome


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    emp = rng.integers(1, 200, n)
    share = rng.uniform(0, 0.2, n).round(4)
    income = rng.normal(0, 1, n).round(3)          # a column the catalogue does not know: unbounded
    return with_outcome(rng, {"employees": emp, "invoice_voided_share": share, "income": income},
                        -1.5 - 0.01 * (emp - 50) + 6 * (share - 0.1) + 0.5 * income)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return train_small(tmp_path_factory, _frame(1500, 1), id_col="id", seed=4, name="dom")


def test_the_catalogue_gives_each_numeric_feature_a_sensible_domain():
    dom = {c: d[:2] for c, d in feature_domains(catalogue()).items()}
    assert dom["employees"] == (0.0, None) and dom["invoice_voided_share"] == (0.0, 1.0)
    assert dom["on_black_list"] == (0.0, 1.0) and dom["tax_grade_ordinal"] == (0.0, 4.0)
    assert dom["invoice_sales_growth"] == (-1.0, None)                    # a growth rate can be negative
    assert dom["invoice_zero_sales_months"] == (0.0, 12.0)                 # months among the last 12
    assert "annual_roa" not in dom and "industry" not in dom                 # unbounded; categorical
    full = feature_domains(catalogue())
    assert full["on_black_list"].whole and not full["employees"].whole
    assert all(d.reason for d in full.values())                             # every refusal says why


def test_an_impossible_value_is_a_row_error_naming_column_and_value(model_dir, tmp_path):
    spec = resolve_model(model_dir).model.input_spec
    assert {c: d[:2] for c, d in spec.bounds.items()} == {"employees": (0.0, None), "invoice_voided_share": (0.0, 1.0)}
    df = _frame(6, 9).drop(columns="bad")
    df.loc[1, "employees"] = -5
    df.loc[2, "invoice_voided_share"] = 1.7
    df.loc[3, "income"] = -1e6                                             # far outside training: still scored
    df.loc[4, "invoice_voided_share"] = 1.0                                # the edge itself is possible
    df.to_csv(tmp_path / "s.csv", index=False)
    got = pd.read_parquet(score_file(model_dir, tmp_path / "s.csv", tmp_path / "o.parquet", id_col="id",
                                     progress=False).out)
    assert got["status"].tolist() == ["ok", "error", "error", "ok", "ok", "ok"]
    assert got.loc[1, "error"] == ("column 'employees': -5 is below 0, its lowest possible value (a head count cannot "
                                   "be negative)")
    assert got.loc[2, "error"] == ("column 'invoice_voided_share': 1.7 is above 1, its highest possible value (a share "
                                   "lies between 0 and 1)")
    assert got.loc[[1, 2], "score"].isna().all()


def test_a_model_saved_before_the_domains_scores_as_before(model_dir):
    model = resolve_model(model_dir).model
    old = pickle.loads(pickle.dumps(model.input_spec))
    del old.__dict__["bounds"]                                             # as unpickled from an older model
    df = _frame(3, 2).drop(columns=["bad", "id"])
    df.loc[0, "employees"] = -5
    _, errors = old.check(df)
    assert errors.tolist() == [None, None, None]
    _, errors = model.input_spec.check(df)
    assert errors[0] is not None and errors[1] is None


def test_a_model_saved_with_two_number_bounds_still_names_the_impossible_value(model_dir):
    model = resolve_model(model_dir).model
    old = pickle.loads(pickle.dumps(model.input_spec))
    old.bounds = {"employees": (0.0, None)}                                 # as saved before the reasons
    df = _frame(2, 2).drop(columns=["bad", "id"])
    df.loc[0, "employees"] = -5
    _, errors = old.check(df)
    assert errors[0] == "column 'employees': -5 is below 0, its lowest possible value (an impossible value)"


def test_a_flag_is_0_or_1_and_months_of_12_at_most_12():
    from creditmodel.features.catalogue import Domain
    from creditmodel.scoring.model import InputSpec

    dom = feature_domains(catalogue(), ["on_black_list", "invoice_zero_sales_months"])
    spec = InputSpec(["on_black_list", "invoice_zero_sales_months"], bounds=dom)
    df = pd.DataFrame({"on_black_list": [0, 1, 0.5, 0], "invoice_zero_sales_months": [0, 12, 3, 13]})
    _, errors = spec.check(df)
    assert errors[0] is None and errors[1] is None
    assert errors[2] == "column 'on_black_list': 0.5 is not a whole number (a flag is 0 or 1)"
    assert errors[3] == ("column 'invoice_zero_sales_months': 13 is above 12, its highest possible value (months "
                         "among the last 12 lie between 0 and 12)")
    assert isinstance(dom["on_black_list"], Domain)


def test_a_tax_grade_is_a_whole_grade_and_its_reason_reads_the_grades_the_right_way_round():
    """Grades are A=0 .. D=4 (the catalogue): the reason said '0 (D) to 4 (A)'; 2.5 is no grade."""
    from creditmodel.scoring.model import InputSpec

    cols = ["tax_grade_ordinal", "tax_grade_change"]
    spec = InputSpec(cols, bounds=feature_domains(catalogue(), cols))
    df = pd.DataFrame({"tax_grade_ordinal": [0, 4, 7, 2.5, np.nan, 1], "tax_grade_change": [-4, 4, 0, 0, 1, -0.5]})
    _, errors = spec.check(df)
    assert errors[[0, 1, 4]].tolist() == [None, None, None]
    assert errors[2] == ("column 'tax_grade_ordinal': 7 is above 4, its highest possible value (a tax credit grade "
                         "is 0 (A), 1 (B), 2 (M), 3 (C) or 4 (D))")
    assert errors[3] == ("column 'tax_grade_ordinal': 2.5 is not a whole number (a tax credit grade is 0 (A), 1 (B), "
                         "2 (M), 3 (C) or 4 (D))")
    assert errors[5] == ("column 'tax_grade_change': -0.5 is not a whole number (a tax grade changes by whole steps, "
                         "-4 (D to A) to 4 (A to D))")


def test_a_column_of_one_value_between_0_and_1_is_no_flag():
    """The min and max of the column are shared with the magnitude check: a constant 0.5 is inside 0 .. 1 and still
    not a flag value."""
    from creditmodel.scoring.model import InputSpec

    spec = InputSpec(["on_black_list"], bounds=feature_domains(catalogue(), ["on_black_list"]))
    _, errors = spec.check(pd.DataFrame({"on_black_list": [0.5, 0.5, np.nan]}))
    assert errors.tolist() == ["column 'on_black_list': 0.5 is not a whole number (a flag is 0 or 1)"] * 2 + [None]


def test_a_generic_column_named_like_a_feature_but_outside_its_domain_stays_open(tmp_path_factory, caplog):
    """A generic file's 'employees' holding a change in head count (negative values in training) must not have its
    own kind of values refused at scoring: the domain is dropped with a warning."""
    rng = np.random.default_rng(3)
    n = 1200
    change = rng.integers(-20, 20, n)
    share = rng.uniform(0, 0.2, n).round(4)
    frame = with_outcome(rng, {"employees": change, "invoice_voided_share": share}, -1.5 + 0.05 * change + 6 * share)
    with caplog.at_level("WARNING"):
        out = train_small(tmp_path_factory, frame, id_col="id", seed=2, name="dom2")
    spec = resolve_model(out).model.input_spec
    assert "employees" not in spec.bounds and "invoice_voided_share" in spec.bounds
    assert "column 'employees'" in caplog.text and "left unbounded at scoring" in caplog.text
    df = frame.drop(columns="bad").head(3).copy()
    df.loc[0, "employees"] = -15
    _, errors = spec.check(df.drop(columns="id"))
    assert errors.tolist() == [None, None, None]


def test_a_domain_broken_only_by_the_held_out_rows_is_left_open_too(caplog):
    """The test split is scored with the model (``validate`` on test_sample.parquet): a name-sharing column whose
    few negative values all fell in it kept the domain, and those rows became errors."""
    from creditmodel.scoring.train import train_frame

    rng = np.random.default_rng(5)
    n = 1200
    change = rng.integers(0, 20, n)
    split = np.array(["train", "valid", "test"], dtype=object)[rng.choice(3, n, p=[0.6, 0.2, 0.2])]
    change[np.flatnonzero(split == "test")[:3]] = -4                       # a fall in head count, test rows only
    frame = with_outcome(rng, {"employees": change, "income": rng.normal(0, 1, n)}, -1.5 + 0.05 * change)
    with caplog.at_level("WARNING"):
        res = train_frame(frame, "bad", id_col="id", split=split, calibration_folds=0)
    assert "employees" not in res.model.input_spec.bounds
    assert "column 'employees': 3 value(s) of the training file outside the domain" in caplog.text
    _, errors = res.model.input_spec.check(frame.loc[split == "test", ["employees", "income"]])
    assert not any(e is not None for e in errors)


def test_a_generic_file_column_named_like_a_flag_is_0_or_1():
    """A generic file's column takes the catalogue feature's unit, not its kind (read from the data): the flag
    domain came from the kind only, so a generic 'on_black_list' was left unbounded."""
    from creditmodel.features import generic_catalogue
    from creditmodel.scoring.train import train_frame

    df = pd.DataFrame({"on_black_list": [0, 1, 0], "x": [1.0, 2.0, 3.0]})
    assert feature_domains(generic_catalogue(df))["on_black_list"].whole
    rng = np.random.default_rng(6)
    n = 1200
    listed = (rng.uniform(size=n) < 0.2).astype(int)
    frame = with_outcome(rng, {"on_black_list": listed, "income": rng.normal(0, 1, n)}, -2 + 1.5 * listed)
    spec = train_frame(frame, "bad", id_col="id", calibration_folds=0).model.input_spec
    assert spec.bounds["on_black_list"].whole
    _, errors = spec.check(pd.DataFrame({"on_black_list": [1, 0.5, 2], "income": [0.0, 0.0, 0.0]}))
    assert errors.tolist() == [None, "column 'on_black_list': 0.5 is not a whole number (a flag is 0 or 1)",
                               "column 'on_black_list': 2 is above 1, its highest possible value (a flag is 0 or 1)"]


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_the_exported_sql_counts_an_impossible_value_as_an_input_error(model_dir, engine):
    """scorecard.sql's input_errors marks the rows the scorer refuses: an impossible value was counted 0 (its row
    got a score in SQL and status error in creditmodel)."""
    import sqlite3

    from creditmodel.features.catalogue import Domain

    model = resolve_model(model_dir).model
    sql = (model_dir / "scorecard.sql").read_bytes().decode("utf-8")
    df = _frame(8, 9).drop(columns=["bad", "id"]).astype(float)
    df.loc[1, "employees"] = -5
    df.loc[2, "invoice_voided_share"] = 1.7
    df.loc[3, "invoice_voided_share"] = 1.0
    df.loc[4, "employees"] = 2.5                                           # refused below with a whole domain
    df.loc[5, "employees"] = np.nan
    want = model.score_frame(df)["status"].ne("ok").tolist()
    assert want == [False, True, True, False, False, False, False, False]
    con = pytest.importorskip("duckdb").connect() if engine == "duckdb" else sqlite3.connect(":memory:")
    con.execute('CREATE TABLE applicants ("employees" DOUBLE, "invoice_voided_share" DOUBLE, "income" DOUBLE)')
    con.executemany("INSERT INTO applicants VALUES (?, ?, ?)",
                    [tuple(float(x) for x in r) for r in df.itertuples(index=False)])   # NaN: DuckDB's NaN
    errors = [r[-1] for r in con.execute(sql).fetchall()]
    assert [e > 0 for e in errors] == want
    whole = model.estimator.to_sql(error_col="input_errors",
                                   bounds={**model.input_spec.bounds, "employees": Domain(0.0, None, "", True)})
    assert [r[-1] > 0 for r in con.execute(whole).fetchall()] == [False, True, True, False, True, False, False, False]


def test_the_model_files_list_each_columns_limits_for_a_bank_without_our_code(model_dir):
    """Only scorecard.sql carried the impossible-value limits: a bank applying points_table.csv or .json gave
    employees = -3 its points where score refuses the row. input_checks.csv lists every input column's limits."""
    import json
    from pathlib import Path

    files = {p.name: p for p in Path(model_dir).rglob("*.csv")}
    assert "input_checks.csv" in files
    checks = pd.read_csv(files["input_checks.csv"], encoding="utf-8-sig").set_index("feature")
    model = resolve_model(model_dir).model
    assert set(checks.index) == set(model.input_spec.columns)
    assert checks.loc["employees", "lowest"] == 0 and pd.isna(checks.loc["employees", "highest"])
    assert (checks.loc["invoice_voided_share", ["lowest", "highest"]] == [0, 1]).all()
    assert pd.isna(checks.loc["income", "lowest"]) and pd.isna(checks.loc["income", "highest"])   # open
    assert "head count" in checks.loc["employees", "reason"]
    # beside the limits, the range each number had in training (scored by extrapolation beyond it: a warning)
    seen = model.metadata["training_range"]
    assert [checks.loc["income", "training_min"], checks.loc["income", "training_max"]] == seen["income"]
    assert checks.loc["employees", "training_min"] >= checks.loc["employees", "lowest"]
    # the limit the file states is the one scoring applies: just below it is refused, at it scored
    low = float(checks.loc["employees", "lowest"])
    rows = _frame(2, 3).drop(columns=["bad"]).assign(employees=[low - 1, low])
    assert model.score_frame(rows)["status"].tolist() == ["error", "ok"]
    rules = json.loads(files["points_table.csv"].with_name("points_table.json").read_text(encoding="utf-8"))["rules"]
    assert "input_checks.csv" in rules["delivered_scoring"]
