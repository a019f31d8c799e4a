"""Edges of `creditmodel train` and `score` an engineering reviewer found: a digit-bearing typo in a measurement, the
row order of a training file with --id, values outside the training range at scoring, and warnings said once."""
from __future__ import annotations

import logging
import os
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from cli_in_process import run_cli

from creditmodel.errors import InputError


def _cli(*args, cwd=None):
    """The CLI in this process (tests/cli_in_process.py: same entry point and exit codes, without the imports)."""
    return run_cli(*args, cwd=cwd)


def _frame(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Loans with an amount of 3 to 5 digits that repeats (as German credit's credit_amount), a duration, a purpose."""
    rng = np.random.default_rng(seed)
    amount = (rng.lognormal(8, 0.7, n).round(-1) + 250).astype(int)
    duration = rng.choice(np.arange(4, 73, 2), n)
    purpose = rng.choice(["car", "furniture", "education", "business"], n)
    logit = -1.2 + 0.00012 * amount + 0.02 * duration + 0.5 * (purpose == "education")
    bad = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"loan_id": [f"{i:05d}" for i in range(n)], "amount": amount, "duration": duration,
                         "purpose": purpose, "bad": bad})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A scorecard trained with --id on the file in id order and on the same rows shuffled."""
    from creditmodel.scoring.train import train_file

    d = tmp_path_factory.mktemp("edges")
    df = _frame()
    df.to_csv(d / "loans.csv", index=False)
    df.sample(frac=1, random_state=7).to_csv(d / "shuffled.csv", index=False)
    a = train_file(d / "loans.csv", "bad", d / "sorted_out", id_col="loan_id", seed=3)
    b = train_file(d / "shuffled.csv", "bad", d / "shuffled_out", id_col="loan_id", seed=3)
    return d, a, b


def test_a_typo_with_a_digit_in_a_measurement_stops_training_naming_the_row(tmp_path):
    """'12O0' (a letter O), '1500 DM', '1,000x' in one cell of an amount set the whole column aside as
    "identifier-like" with exit 0 (the model lost its amount), where 'abc' gave exit 2 naming the row. Codes
    (zero-padded, of one width, or all distinct) with an alphanumeric odd cell are still set aside."""
    from creditmodel.scoring.train import candidate_features

    df = _frame()
    assert df["amount"].nunique() > 200 and df["amount"].astype(str).str.len().nunique() > 1
    for typo in ("12O0", "1500 DM", "1,000x", "abc"):
        bad = df.astype({"amount": object})
        bad.loc[17, "amount"] = typo
        with pytest.raises(InputError) as e:
            candidate_features(bad.drop(columns=["loan_id", "bad"]), [], file="loans.csv")
        assert (e.value.file, e.value.column, e.value.row) == ("loans.csv", "amount", 18) and typo in str(e.value)
    two = df.astype({"amount": object})
    two.loc[[17, 40], "amount"] = ["12O0", "7 5OO"]
    with pytest.raises(InputError, match="rows 18, 41"):
        candidate_features(two[["amount"]], [], file="loans.csv")
    n = 600
    codes = pd.DataFrame({
        "padded": [f"{i:06d}" if i % 100 else f"X{i}" for i in range(n)],           # zero-padded codes
        "account": [str(100000 + i) if i % 100 else f"AB{i}" for i in range(n)],    # one width, letters
        "serial": [str(7 * i + 1) if i % 100 else f"S{i}-1" for i in range(n)],     # widths vary, all distinct
        "zip": [f"{95000 + i % 300}" if i % 50 else "95123-4421" for i in range(n)],
    })
    feats, dropped = candidate_features(codes, [])
    assert feats == [] and all("identifier-like" in dropped[c] for c in codes.columns)
    # end to end: exit 2, the message names the file, the column and the row
    bad = df.astype({"amount": object})
    bad.loc[17, "amount"] = "12O0"
    bad.to_csv(tmp_path / "typo.csv", index=False)
    r = _cli("-q", "train", "--data", str(tmp_path / "typo.csv"), "--target", "bad", "--id", "loan_id",
             "--out", str(tmp_path / "out"))
    assert r.returncode == 2, r.stderr
    assert "typo.csv" in r.stderr and "'amount'" in r.stderr and "row 18" in r.stderr and "'12O0'" in r.stderr


def test_train_with_an_id_gives_the_same_model_for_any_row_order(trained):
    """Shuffling the rows of a file changed the model although --id was given (German credit: test AUC 0.800 against
    0.790): the split was drawn by row position. With --id the rows are taken in id order; the outputs that name
    rows (test sample, fitted ids) hold the same ids."""
    d, a, b = trained
    assert a.model.version == b.model.version
    assert a.metrics["test_auc"] == b.metrics["test_auc"]
    for f in ("points_table.csv", "scorecard.sql", "score_to_pd.csv"):
        assert (d / "sorted_out" / f).read_bytes() == (d / "shuffled_out" / f).read_bytes(), f
    for f in ("test_sample.parquet", "fitted_ids.parquet"):
        ids = [set(pd.read_parquet(d / o / f, columns=["loan_id"])["loan_id"].astype(int))
               for o in ("sorted_out", "shuffled_out")]
        assert ids[0] == ids[1] and len(ids[0]) > 100
    # split per row of the caller's file: the shuffled file's test rows are the same loans
    shuffled = pd.read_csv(d / "shuffled.csv", dtype={"loan_id": str})
    assert set(shuffled.loc[b.split == "test", "loan_id"]) == set(pd.read_parquet(
        d / "shuffled_out" / "test_sample.parquet")["loan_id"])
    # numbers by value, then text; '007' and '7' are two ids, each with its place
    from creditmodel.scoring.splits import id_order

    ids = pd.Series(["10", "b", "2", " 007", "a", "7", "1e1"])
    expected = ["2", "007", "7", "10", "1e1", "a", "b"]
    assert ids.iloc[id_order(ids)].str.strip().tolist() == expected
    other = ids.sample(frac=1, random_state=1).reset_index(drop=True)
    assert other.iloc[id_order(other)].str.strip().tolist() == expected


def test_score_warns_once_of_values_outside_the_training_range(trained, tmp_path, caplog):
    """A duration of -5 or 1e12 was scored ok without a word (a negative duration in the safest bin). Such rows
    keep their status and scores; one warning counts them per column, with the lowest and highest value seen in
    training. A model saved before the range was stored says nothing."""
    from creditmodel.scoring.score import score_file

    d, a, _ = trained
    lo, hi = a.model.metadata["training_range"]["duration"]
    assert (lo, hi) == (4.0, 72.0)
    apps = _frame(30, seed=5).drop(columns="bad").astype({"duration": float, "amount": float})
    apps["amount"] = apps["amount"].clip(*a.model.metadata["training_range"]["amount"])
    apps.loc[[2, 9, 12], "duration"] = [-5, 1e12, np.inf]   # inf: a row error, not a value scored outside
    apps.loc[4, "amount"] = 10 ** 9
    apps.to_csv(tmp_path / "apps.csv", index=False)
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        score_file(d / "sorted_out", tmp_path / "apps.csv", tmp_path / "s.csv", progress=False)
    said = [r.getMessage() for r in caplog.records if "outside the range" in r.getMessage()]
    assert len(said) == 1, said
    assert "duration: 1 below, 1 above (training 4 .. 72; first row 3)" in said[0]
    assert "amount: 1 above" in said[0]
    got = pd.read_csv(tmp_path / "s.csv")
    assert (got.drop(index=12)["status"] == "ok").all() and got.loc[12, "status"] == "error"
    # an old model (no range in its metadata): the same scores, no warning
    from creditmodel.scoring.pyfunc import save_model

    old = a.model
    kept = old.metadata.pop("training_range")
    try:
        save_model(old, tmp_path / "old_model")
    finally:
        old.metadata["training_range"] = kept
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        score_file(tmp_path / "old_model", tmp_path / "apps.csv", tmp_path / "s_old.csv", progress=False)
    assert not [r for r in caplog.records if "outside the range" in r.getMessage()]
    old_scores = pd.read_csv(tmp_path / "s_old.csv")
    pd.testing.assert_series_equal(old_scores["score"], got["score"])


def test_the_deliverable_tells_the_bank_of_values_outside_the_training_range(trained, tmp_path, caplog):
    """The range warning reached the log of whoever ran the job, not the bank: the deliverable's sidecar counts
    the rows outside the training range per column, and the model card's Limits say what such a score rests on."""
    import json

    from creditmodel.delivery import deliver_file
    from creditmodel.scoring.score import resolve_model

    d, a, _ = trained
    rng = a.model.metadata["training_range"]
    apps = _frame(30, seed=5).drop(columns="bad").astype({"duration": float, "amount": float})
    apps["amount"] = apps["amount"].clip(*rng["amount"])
    apps.loc[[2, 9, 25], "duration"] = [-5, 1e12, 500]
    apps.loc[[4, 9], "amount"] = 10 ** 9                   # row 9 outside in two columns: one row
    apps.loc[25, "loan_id"] = apps.loc[24, "loan_id"]      # a repeated id: refused by the row checks, not counted
    apps.to_parquet(tmp_path / "apps.parquet")
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        res = deliver_file(resolve_model(d / "sorted_out"), tmp_path / "apps.parquet", tmp_path / "d.parquet",
                           id_col="loan_id", chunk_rows=10, progress=False)
    assert len([r for r in caplog.records if "outside the range" in r.getMessage()]) == 1
    side = json.loads(res.files["sidecar"].read_text(encoding="utf-8"))
    assert side["rows_outside_training_range"] == 3
    assert list(side["outside_training_range"]) == ["amount", "duration"]          # most rows first (2 each)
    assert side["outside_training_range"]["duration"] == {"below": 1, "above": 1, "first_row": 3,
                                                          "training_min": rng["duration"][0],
                                                          "training_max": rng["duration"][1]}
    assert side["outside_training_range"]["amount"]["above"] == 2
    card = res.files["model_card"].read_text(encoding="utf-8")
    line = next(x for x in card.split("## Limits")[1].splitlines() if x.startswith("- Extrapolation"))
    assert "3 of the 29 scored rows hold a value outside the range the model saw in training, in 2 columns" in line
    assert "(amount: 2 above (training" in line and "duration: 1 below, 1 above (training 4 .. 72)" in line
    # values within the range: no line, and the sidecar says none
    apps.loc[[2, 9, 25], "duration"] = 12.0
    apps.loc[25, "loan_id"] = "L-unique"
    apps["amount"] = apps["amount"].clip(*rng["amount"])
    apps.to_parquet(tmp_path / "inside.parquet")
    res = deliver_file(resolve_model(d / "sorted_out"), tmp_path / "inside.parquet", tmp_path / "e.parquet",
                       id_col="loan_id", progress=False)
    side = json.loads(res.files["sidecar"].read_text(encoding="utf-8"))
    assert side["rows_outside_training_range"] == 0 and side["outside_training_range"] == {}
    assert "- Extrapolation" not in res.files["model_card"].read_text(encoding="utf-8")


def _unseen_every_500(path, n: int, seed: int, first: int) -> None:
    """``n`` applications with loan ids, an unseen purpose on every 500th row from ``first`` (0-based), written as
    Parquet in row groups of 1,000 (the chunks)."""
    apps = _frame(n, seed=seed).drop(columns="bad")
    apps["loan_id"] = [f"L{i:05d}" for i in range(len(apps))]
    apps.loc[apps.index % 500 == first, "purpose"] = "spaceship"
    apps.to_parquet(path, row_group_size=1000)


def test_chunked_scoring_says_the_unscorable_rows_once(trained, tmp_path, caplog):
    """Scoring a Parquet file in chunks logged one 'N of 1000 rows ... cannot be scored' warning per chunk (even with
    -q); one summary comes after the last chunk, naming the first such row."""
    from creditmodel.scoring.score import score_file

    d, *_ = trained
    _unseen_every_500(tmp_path / "apps.parquet", 3500, seed=6, first=7)
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        res = score_file(d / "sorted_out", tmp_path / "apps.parquet", tmp_path / "s.parquet", chunk_rows=1000,
                         progress=False)
    said = [r.getMessage() for r in caplog.records if "cannot be scored" in r.getMessage()]
    assert len(said) == 1, said
    assert "7 of 3500 rows" in said[0] and "(row 8)" in said[0] and "spaceship" in said[0]
    assert res.rows_error == 7


def test_a_gb18030_file_is_said_to_be_gb18030_once(trained, tmp_path, caplog):
    """'not UTF-8; reading it as GB 18030' was logged twice for one file scored (its header read, then its rows)."""
    from creditmodel.scoring.score import score_file

    d, *_ = trained
    apps = _frame(20, seed=8).drop(columns="bad")
    apps["note"] = "张三"
    apps.to_csv(tmp_path / "gb.csv", index=False, encoding="gb18030")
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        score_file(d / "sorted_out", tmp_path / "gb.csv", tmp_path / "s.csv", progress=False)
    assert len([r for r in caplog.records if "GB 18030" in r.getMessage()]) == 1


def test_the_spark_engine_leaves_pythonwarnings_and_the_warning_filters_as_they_were(monkeypatch):
    """scoring/spark.py added its pandas-3 filter to PYTHONWARNINGS for the rest of the process (and every process it
    started after): it is set only while Spark's JVM starts (its Python workers inherit it from there)."""
    pytest.importorskip("pyspark.sql.functions")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("the Spark engine needs Java")
    from creditmodel.scoring.spark import spark_session

    monkeypatch.setenv("PYTHONWARNINGS", "default::DeprecationWarning")
    filters = list(warnings.filters)
    session = spark_session("local[1]", app="test_cli_edges")
    try:
        assert os.environ["PYTHONWARNINGS"] == "default::DeprecationWarning"
        assert warnings.filters == filters
    finally:
        session.stop()


def test_the_deliverable_says_the_unscorable_rows_once_too(trained, tmp_path, caplog):
    """The bank deliverable's chunks warned once each as `score`'s did; it now sums them as `score` does."""
    from creditmodel.delivery import deliver_file
    from creditmodel.scoring.score import resolve_model

    d, *_ = trained
    _unseen_every_500(tmp_path / "apps.parquet", 2500, seed=7, first=9)
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        res = deliver_file(resolve_model(d / "sorted_out"), tmp_path / "apps.parquet", tmp_path / "d.parquet",
                           id_col="loan_id", chunk_rows=1000, progress=False)
    said = [r.getMessage() for r in caplog.records if "cannot be scored" in r.getMessage()]
    assert len(said) == 1, said
    assert "5 of 2500 rows" in said[0] and "(row 10)" in said[0] and "spaceship" in said[0]
    got = pd.read_parquet(res.files["parquet"])
    assert int((got["status"] == "error").sum()) == 5
