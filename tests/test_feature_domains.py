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
    dom = feature_domains(catalogue())
    assert dom["employees"] == (0.0, None) and dom["invoice_voided_share"] == (0.0, 1.0)
    assert dom["on_black_list"] == (0.0, 1.0) and dom["tax_grade_ordinal"] == (0.0, 4.0)
    assert dom["invoice_sales_growth"] == (-1.0, None)                    # a growth rate can be negative
    assert "annual_roa" not in dom and "industry" not in dom                 # unbounded; categorical


def test_an_impossible_value_is_a_row_error_naming_column_and_value(model_dir, tmp_path):
    spec = resolve_model(model_dir).model.input_spec
    assert spec.bounds == {"employees": (0.0, None), "invoice_voided_share": (0.0, 1.0)}
    df = _frame(6, 9).drop(columns="bad")
    df.loc[1, "employees"] = -5
    df.loc[2, "invoice_voided_share"] = 1.7
    df.loc[3, "income"] = -1e6                                             # far outside training: still scored
    df.loc[4, "invoice_voided_share"] = 1.0                                # the edge itself is possible
    df.to_csv(tmp_path / "s.csv", index=False)
    got = pd.read_parquet(score_file(model_dir, tmp_path / "s.csv", tmp_path / "o.parquet", id_col="id",
                                     progress=False).out)
    assert got["status"].tolist() == ["ok", "error", "error", "ok", "ok", "ok"]
    assert got.loc[1, "error"] == "column 'employees': -5 is below 0, its lowest possible value (an impossible value)"
    assert got.loc[2, "error"].startswith("column 'invoice_voided_share': 1.7 is above 1")
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
