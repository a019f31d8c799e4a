"""``creditmodel score --engine spark`` against the in-process engine, row for row, on the inputs a reviewer found
them to differ on: a CSV is read by the project's reader (encoding, null markers, quoted newlines, doubled quotes)
in both engines; a row whose numeric features are empty but whose category is filled is scored, not a crashed job;
empty files and ``.pq`` files are read and refused as in process; part files Spark's driver cannot see are an error,
not fewer rows. One local Spark session (``local[1]``) serves the whole module."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditmodel.errors import InputError

pytestmark = pytest.mark.spark

INDUSTRIES = ["制造业", "批发业", "零售业", "F"]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n).round(0)
    age = rng.integers(20, 70, n)
    debt = rng.uniform(0, 1, n).round(3)
    industry = rng.choice(INDUSTRIES, n)
    logit = -1.5 - 0.6 * (np.log(income) - 10) + 2.0 * (debt - 0.5) - 0.02 * (age - 45) + 0.5 * (industry == "F")
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"loan_id": [f"{i:06d}" for i in range(n)], "income": income, "age": age,
                         "debt_ratio": debt, "industry": industry, "bad": y})


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A scorecard on three numbers and a category with Chinese levels (and 'F', a letter Spark's ANSI cast refused)."""
    pytest.importorskip("pyspark.sql.functions")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("the Spark engine needs Java")
    from creditmodel.scoring.score import resolve_model
    from creditmodel.scoring.train import train_file

    d = tmp_path_factory.mktemp("spark_model")
    _frame(1200, seed=0).to_csv(d / "train.csv", index=False)
    train_file(d / "train.csv", "bad", d / "out", id_col="loan_id", seed=3)
    resolved = resolve_model(d / "out" / "model")
    assert resolved.model.input_spec.categorical["industry"] == sorted(INDUSTRIES)
    return resolved


@pytest.fixture(scope="module")
def spark(model):
    from creditmodel.scoring.spark import spark_session

    session = spark_session("local[1]", app="test_spark_scoring")
    yield session
    session.stop()


def _apps(n: int = 40, seed: int = 1) -> pd.DataFrame:
    """Applications as text cells (a CSV as a bank writes it)."""
    return _frame(n, seed).drop(columns="bad").astype(str)


def _both(model, spark, src: Path, tmp_path: Path, id_col: str | None = "loan_id"):
    """(in-process, Spark) CSV outputs of ``src`` as text, ``scored_at`` left out (the time of each run)."""
    from creditmodel.scoring.score import score_file
    from creditmodel.scoring.spark import score_file_spark

    a_out, b_out = tmp_path / "pandas.csv", tmp_path / "spark.csv"
    a = score_file(model.uri, src, a_out, id_col=id_col, progress=False)
    b = score_file_spark(model, src, b_out, id_col=id_col, spark=spark)
    assert (a.rows, a.rows_ok) == (b.rows, b.rows_ok)
    assert not list(tmp_path.glob("creditmodel-spark-*"))   # the engine's temporary folder is removed
    return tuple(pd.read_csv(p, dtype=str, keep_default_na=False).drop(columns="scored_at") for p in (a_out, b_out))


# --------------------------------------------------------------------------- 1. a blank row of mixed types
def test_a_row_with_empty_numbers_and_a_filled_category_is_scored_as_in_process(model, spark, tmp_path):
    """The blank-line check coalesced number and text columns: Spark 4 (ANSI) cast the category 'F' to DOUBLE and
    the whole job failed (CAST_INVALID_INPUT), where in-process scoring scores the row (its numbers missing). A row
    whose every model column is empty stays an error row in both engines."""
    df = _apps()
    df.loc[5, ["income", "age", "debt_ratio"]] = ""          # numbers empty, industry filled
    df.loc[5, "industry"] = "F"
    df.loc[9, ["income", "age", "debt_ratio", "industry"]] = ""   # a line of commas (id kept)
    src = tmp_path / "numblank.csv"
    df.to_csv(src, index=False)
    a, b = _both(model, spark, src, tmp_path)
    pd.testing.assert_frame_equal(a, b)
    assert b.loc[5, "status"] == "ok" and b.loc[5, "score"] != ""
    assert b.loc[9, "status"] == "error" and "every column the model uses is empty" in b.loc[9, "error"]


def test_a_row_of_blank_text_and_empty_numbers_is_a_blank_row_as_in_process(model, spark, tmp_path):
    """A category of spaces (or an ideographic space) with every number empty is a blank line in process
    (``score.blank_rows``: text of blanks is empty); Spark tests each text column for blanks too."""
    df = _apps()
    df.loc[3, ["income", "age", "debt_ratio"]] = ""
    df.loc[3, "industry"] = "   "
    df.loc[4, ["income", "age", "debt_ratio"]] = ""
    df.loc[4, "industry"] = "\u3000"
    src = tmp_path / "blanktext.csv"
    df.to_csv(src, index=False)
    a, b = _both(model, spark, src, tmp_path)
    pd.testing.assert_frame_equal(a, b)
    for i in (3, 4):
        assert b.loc[i, "status"] == "error" and "every column the model uses is empty" in b.loc[i, "error"]


def test_a_parquet_row_of_nan_is_a_blank_row_as_in_process(model, spark, tmp_path):
    """A Parquet double column can hold NaN (not null): in process NaN is empty, so a row of NaN numbers and no
    category is the blank-line error; Spark's isNull alone did not see NaN and scored it."""
    df = _frame(30, seed=2).drop(columns="bad")
    tbl = pa.Table.from_pandas(df, preserve_index=False)
    for c in ("income", "debt_ratio"):
        vals = df[c].astype(float).to_numpy().copy()
        vals[4] = np.nan
        tbl = tbl.set_column(tbl.schema.get_field_index(c), c, pa.array(vals, from_pandas=False))  # NaN, not null
    age = df["age"].astype("Int64").astype(object).where(df.index != 4, None)
    tbl = tbl.set_column(tbl.schema.get_field_index("age"), "age", pa.array(age.tolist(), pa.int64()))
    ind = [None if i == 4 else v for i, v in enumerate(df["industry"])]
    tbl = tbl.set_column(tbl.schema.get_field_index("industry"), "industry", pa.array(ind, pa.string()))
    assert tbl.column("income").null_count == 0 and np.isnan(tbl.column("income").to_numpy()[4])
    src = tmp_path / "nan.parquet"
    pq.write_table(tbl, src)
    a, b = _both(model, spark, src, tmp_path)
    pd.testing.assert_frame_equal(a, b)
    assert b.loc[4, "status"] == "error" and "every column the model uses is empty" in b.loc[4, "error"]


# --------------------------------------------------------------------------- 2. a CSV read as in process
def _quoted_newline(df):
    df.loc[5, "loan_id"] = "line1\nline2"
    return {"loan_id": "line1\nline2"}


def _na_tokens(df):
    df.loc[5, "income"], df.loc[6, "age"], df.loc[7, "debt_ratio"] = "NA", "N/A", "NULL"
    return {}


def _doubled_quotes(df):
    df.loc[5, "loan_id"] = 'ACME "Best", Ltd'
    return {"loan_id": 'ACME "Best", Ltd'}


def _gb18030(df):
    df.loc[5, "loan_id"] = "宁波企业5"
    return {"loan_id": "宁波企业5"}


def _utf8_bom(df):
    return {}


TRICKY = {"quoted_newline": (_quoted_newline, "utf-8"), "na_tokens": (_na_tokens, "utf-8"),
          "doubled_quotes": (_doubled_quotes, "utf-8"), "gb18030": (_gb18030, "gb18030"),
          "utf8_bom": (_utf8_bom, "utf-8-sig")}


@pytest.mark.parametrize("case", list(TRICKY))
def test_a_csv_scores_row_for_row_as_in_process(model, spark, tmp_path, case):
    """Spark's own CSV reader read these files otherwise than the in-process reader (data.io): a quoted newline
    split a row in two, NA / N/A / NULL were text (row errors, not missing values), GB 18030 text was garbled
    (unseen categories), a doubled quote broke the row, a BOM renamed the first column. Every row agrees now."""
    mutate, encoding = TRICKY[case]
    df = _apps()
    expect = mutate(df)
    src = tmp_path / f"{case}.csv"
    df.to_csv(src, index=False, encoding=encoding)
    a, b = _both(model, spark, src, tmp_path)
    pd.testing.assert_frame_equal(a, b)
    assert len(b) == len(df)
    for col, value in expect.items():
        assert b.loc[5, col] == value
    assert (b["status"] == "ok").all(), b.loc[b["status"] != "ok", "error"].tolist()


def test_a_column_typed_differently_in_two_chunks_scores_as_in_process(model, spark, tmp_path, monkeypatch):
    """The CSV is converted in chunks (as the in-process engine reads it): a column of numbers in one chunk and of
    text in the next (a 'n/a!' cell) is one Parquet column of text, whose numbers are scored as numbers."""
    import creditmodel.scoring.spark as engine

    monkeypatch.setattr(engine, "CONVERT_ROWS", 16)
    df = _apps()
    df.loc[30, "income"] = "n/a!"        # rows 16-31, the second chunk of 16: text there, numbers in the others
    src = tmp_path / "mixed.csv"
    df.to_csv(src, index=False)
    from creditmodel.scoring.score import score_file
    from creditmodel.scoring.spark import score_file_spark

    score_file(model.uri, src, tmp_path / "a.csv", id_col="loan_id", progress=False, chunk_rows=16)
    score_file_spark(model, src, tmp_path / "b.csv", id_col="loan_id", spark=spark)
    a, b = (pd.read_csv(tmp_path / f, dtype=str, keep_default_na=False).drop(columns="scored_at")
            for f in ("a.csv", "b.csv"))
    pd.testing.assert_frame_equal(a, b)
    assert b.loc[30, "status"] == "error" and "'n/a!' is not a number" in b.loc[30, "error"]
    assert (b.drop(index=30)["status"] == "ok").all()


def test_the_warnings_on_unscorable_rows_and_values_outside_the_training_range_are_as_in_process(
        model, spark, tmp_path, caplog):
    """The in-process engine says once per file how many rows could not be scored and which columns hold values
    outside the range the model saw in training; the Spark engine said neither."""
    import logging

    lo, hi = model.model.metadata["training_range"]["age"]
    df = _apps()
    df.loc[3, "age"], df.loc[7, "age"], df.loc[9, "age"] = str(int(lo) - 15), str(int(hi) + 30), str(int(hi) + 1)
    df.loc[5, "income"] = "n/a!"             # a row error: counted as unscorable, not in the range
    df.loc[11, "debt_ratio"] = "-0.5"
    src = tmp_path / "outside.csv"
    df.to_csv(src, index=False)
    from creditmodel.scoring.score import score_file
    from creditmodel.scoring.spark import score_file_spark

    said = []
    for run in (lambda: score_file(model.uri, src, tmp_path / "a.csv", id_col="loan_id", progress=False),
                lambda: score_file_spark(model, src, tmp_path / "b.csv", id_col="loan_id", spark=spark)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="creditmodel"):
            run()
        said.append(sorted(r.getMessage() for r in caplog.records
                           if "outside the range" in r.getMessage() or "cannot be scored" in r.getMessage()))
    assert said[0] == said[1] and len(said[1]) == 2
    outside = next(m for m in said[1] if "outside the range" in m)
    assert "age: 1 below, 2 above" in outside and "first row 4)" in outside and "debt_ratio: 1 below" in outside
    assert "income" not in outside
    assert "1 of 40 rows have a model input that cannot be scored" in next(m for m in said[1] if "cannot" in m)


# --------------------------------------------------------------------------- 3. file checks as in process
def _cli(*args):
    return subprocess.run([sys.executable, "-m", "creditmodel.cli", *args], capture_output=True, text=True)


def test_empty_inputs_exit_2_no_data_rows_as_in_process(model, tmp_path):
    """A header-only CSV or a Parquet file of 0 rows ended in FileNotFoundError (exit 1) under Spark, after the
    Spark session started; in process it is the InputError 'no data rows' (exit 2). Now the same, before Spark."""
    df = _apps(3)
    (tmp_path / "header.csv").write_text(",".join(df.columns) + "\n", encoding="utf-8")
    df.head(0).to_parquet(tmp_path / "empty.parquet", index=False)
    for name in ("header.csv", "empty.parquet"):
        out = tmp_path / f"o_{name}.csv"
        r = _cli("-q", "score", "--model", model.uri, "--data", str(tmp_path / name), "--out", str(out),
                 "--engine", "spark", "--chunk-rows", "2000")
        assert r.returncode == 2, r.stderr
        assert "no data rows" in r.stderr and name in r.stderr, r.stderr
        assert "--chunk-rows 2000 is not used by the Spark engine" in r.stderr     # said, not silently ignored
        assert not out.exists() and not list(tmp_path.glob("creditmodel-spark-*"))


def test_a_spark_master_without_the_spark_engine_is_said(model, tmp_path):
    _apps(3).to_csv(tmp_path / "a.csv", index=False)
    r = _cli("-q", "score", "--model", model.uri, "--data", str(tmp_path / "a.csv"), "--out", str(tmp_path / "o.csv"),
             "--spark-master", "local[1]")
    assert r.returncode == 0, r.stderr
    assert "--spark-master local[1] is not used by the pandas engine" in r.stderr
    assert len(pd.read_csv(tmp_path / "o.csv")) == 3


def test_a_zero_row_pq_file_is_no_data_rows(model, tmp_path):
    """``.pq`` is a Parquet suffix of the project's readers (data.io._kind): 0 rows is 'no data rows' as for
    ``.parquet`` (checked without a Spark session: the input is refused before one starts)."""
    from creditmodel.scoring.spark import score_file_spark

    _apps(3).head(0).to_parquet(tmp_path / "empty.pq", index=False)
    with pytest.raises(InputError, match="no data rows") as e:
        score_file_spark(model, tmp_path / "empty.pq", tmp_path / "o.csv", spark=object())
    assert e.value.file == tmp_path / "empty.pq"
    (tmp_path / "table.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="unsupported file type"):
        score_file_spark(model, tmp_path / "table.xlsx", tmp_path / "o.csv", spark=object())


def test_a_pq_file_is_read_as_parquet(model, spark, tmp_path):
    """A Parquet file named ``*.pq`` was read as CSV (one garbled column: 'missing column(s)')."""
    df = _frame(50, seed=4).drop(columns="bad")
    df.to_parquet(tmp_path / "apps.pq", index=False)
    a, b = _both(model, spark, tmp_path / "apps.pq", tmp_path)
    pd.testing.assert_frame_equal(a, b)
    assert b["loan_id"].tolist() == df["loan_id"].tolist() and (b["status"] == "ok").all()


# --------------------------------------------------------------------------- 4. every row read is written
@pytest.mark.parametrize("deliver", [False, True], ids=["model_folder", "deliverable"])
def test_part_files_the_driver_cannot_see_are_an_error_not_fewer_rows(model, spark, tmp_path, monkeypatch, deliver):
    """The driver finds Spark's part files in its own temporary folder: on a cluster without a shared filesystem
    some (or all) are elsewhere, and the output was written without their rows, exit 0. Simulated by hiding one
    part: the scoring stops naming both counts, and no output (nor a partial deliverable) is left."""
    import creditmodel.scoring.spark as engine
    from creditmodel.scoring.score import ResolvedModel

    resolved = ResolvedModel(model.model, model.uri, "spark_test", "1", "champion") if deliver else model
    df = _frame(400, seed=6).drop(columns="bad")
    src = tmp_path / "apps.parquet"
    df.to_parquet(src, index=False, row_group_size=100)
    seen, hidden = [], []
    real = engine._in_input_order

    def one_hidden(parts):
        found = real(parts)
        seen.append(len(found))
        hidden.append(pq.read_metadata(found[0]).num_rows)
        return found[1:]

    monkeypatch.setattr(engine, "_in_input_order", one_hidden)
    spark.conf.set("spark.sql.files.maxPartitionBytes", "2k")   # several input partitions, so several parts
    try:
        with pytest.raises(RuntimeError) as e:
            engine.score_file_spark(resolved, src, tmp_path / "o.csv", id_col="loan_id", spark=spark)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert seen and seen[0] > 1 and 0 < hidden[0] < 400
    msg = str(e.value)
    assert "400 rows read" in msg and f"but {400 - hidden[0]} scored rows" in msg, msg
    assert not list(tmp_path.glob("o.*")), list(tmp_path.glob("o.*"))
    assert not list(tmp_path.glob("creditmodel-spark-*"))
