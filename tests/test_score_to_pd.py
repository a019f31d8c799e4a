"""The scorecard's calibration is exported as a lookup (score -> pd_12m, grade), so that a bank reproduces the
model's PD and grade from the SQL score without our code (the bank validator could reproduce the score only)."""
from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from creditmodel.scoring.score import score_file
from model_factory import train_small, with_outcome


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n).round(0)
    debt = rng.uniform(0, 1, n).round(3)
    sector = rng.choice(["C", "F", "G"], n)
    return with_outcome(rng, {"income": income, "debt_ratio": debt, "sector": sector},
                        -1.6 - 0.7 * (np.log(income) - 10) + 2.2 * (debt - 0.5) + (sector == "F") * 0.5, id_col="loan_id")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_small(tmp_path_factory, _frame(1500, 1), id_col="loan_id", seed=2, name="card")


def test_sql_score_joined_to_the_lookup_gives_the_models_pd_and_grade(trained, tmp_path):
    art = trained / "model" / "artifacts"
    lookup = pd.read_csv(art / "score_to_pd.csv", encoding="utf-8-sig", dtype={"grade": str})
    assert lookup["score"].is_monotonic_increasing and lookup["score"].diff().dropna().eq(1).all()
    new = _frame(400, 7).drop(columns="bad")
    new.to_csv(tmp_path / "new.csv", index=False)
    res = pd.read_parquet(score_file(trained, tmp_path / "new.csv", tmp_path / "s.parquet", id_col="loan_id",
                                     progress=False).out)
    ok = res["status"] == "ok"
    assert ok.all()
    con = sqlite3.connect(":memory:")
    new.to_sql("applicants", con, index=False)
    sql = (art / "scorecard.sql").read_bytes().decode("utf-8")
    got = pd.read_sql_query(sql.replace("SELECT\n", "SELECT\n  loan_id,\n", 1), con)
    joined = got.merge(lookup, on="score", how="left", validate="many_to_one")
    assert joined["pd_12m"].notna().all()                                  # every score is in the lookup
    assert (joined["score"].to_numpy() == res["score"].to_numpy()).all()
    assert np.array_equal(joined["pd_12m"].to_numpy(), res["pd_12m"].to_numpy())   # bit for bit
    assert (joined["grade"].astype(str).to_numpy() == res["grade"].astype(str).to_numpy()).all()
    # the lookup spans every score the points table can add up to
    pt = pd.read_csv(art / "points_table.csv", encoding="utf-8-sig")
    per = pt.groupby("feature")["points"]
    assert lookup["score"].min() == per.min().sum() and lookup["score"].max() == per.max().sum()
    assert lookup["pd_12m"].is_monotonic_decreasing                        # higher score, lower PD
