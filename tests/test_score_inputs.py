"""Bad input to train / score / validate: exit 2 naming the file, column and row, or a per-row error; nothing
silently changed or dropped. Each case was found by fuzzing the commands and failed before its fix."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_in_process import run_cli

from creditmodel.errors import InputError
from creditmodel.scoring.score import score_file
from creditmodel.scoring.train import train_file, train_frame


def _frame(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n).round(0)
    age = rng.integers(20, 70, n)  # an integer column, as read from a CSV
    debt = rng.uniform(0, 1, n).round(3)
    industry = rng.choice(["C", "F", "G", "I"], n)
    logit = -1.5 - 0.6 * (np.log(income) - 10) + 2.0 * (debt - 0.5) - 0.02 * (age - 45)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"loan_id": [f"{i:06d}" for i in range(n)], "income": income, "age": age,
                         "debt_ratio": debt, "industry": industry, "bad": y})


def _cli(*args, cwd=None):
    """The CLI in this process (tests/cli_in_process.py: same entry point and exit codes, without the imports)."""
    return run_cli(*args, cwd=cwd)


def _cli_process(*args):
    """The CLI in its own process: for what Spark's JVM writes to the process's stderr."""
    return subprocess.run([sys.executable, "-m", "creditmodel.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("m")
    src = d / "train.csv"
    _frame().to_csv(src, index=False)
    train_file(src, "bad", d / "model_out", id_col="loan_id", seed=3)
    return d


def test_validate_leaves_out_repeated_ids_as_score_does(trained, tmp_path):
    """A reviewer's finding: ``validate`` on a file with 468 copied rows (same loan_id) counted them as more obligors
    and defaults and narrowed the AUC interval, exit 0 without a word. A row whose id (the model's training --id) is
    empty or repeats an earlier row's is left out, counted and listed in excluded_rows.csv."""
    sample = pd.read_parquet(trained / "model_out" / "test_sample.parquet")
    bads = sample[sample["bad"] == 1].head(5)
    sample.to_csv(tmp_path / "clean.csv", index=False)
    pd.concat([sample, bads, bads]).to_csv(tmp_path / "copies.csv", index=False)
    got = {}
    for name in ("clean", "copies"):
        r = _cli("validate", "--model", str(trained / "model_out"), "--data", str(tmp_path / f"{name}.csv"),
                 "--target", "bad", "--n-boot", "50", "--out", str(tmp_path / name))
        assert r.returncode in (0, 1), r.stderr
        got[name] = json.loads((tmp_path / name / "metrics.json").read_text())
    assert got["copies"]["n"] == got["clean"]["n"] == len(sample)
    assert got["copies"]["defaults"] == got["clean"]["defaults"]
    assert got["copies"]["auc"] == got["clean"]["auc"]
    ex = pd.read_csv(tmp_path / "copies" / "excluded_rows.csv")
    assert ex["row"].tolist() == list(range(len(sample) + 1, len(sample) + 11))
    assert ex["reason"].str.startswith("column 'loan_id': duplicate id").all() and (ex["defaulted"] == 1).all()
    assert not (tmp_path / "clean" / "excluded_rows.csv").exists()


def test_validate_takes_integer_columns_and_the_train_folder(trained, tmp_path):
    """MLflow's enforcement of a double signature refused int64 columns for the whole batch."""
    r = _cli("validate", "--model", str(trained / "model_out"), "--data", str(trained / "model_out" / "test_sample.parquet"),
             "--target", "bad", "--n-boot", "50", "--out", str(tmp_path / "v"))
    assert r.returncode in (0, 1), r.stderr  # 1 = a red light, still a report
    m = json.loads((tmp_path / "v" / "metrics.json").read_text())
    assert m["n"] > 0 and "Can not safely convert" not in r.stderr


def test_pyfunc_gives_per_row_errors_not_a_batch_failure(trained):
    import mlflow.pyfunc

    pf = mlflow.pyfunc.load_model(str(trained / "model_out" / "model"))
    df = _frame(6, seed=5).drop(columns="bad")
    df["income"] = df["income"].astype(object)
    df.loc[2, "income"] = "abc"
    out = pf.predict(df)
    assert out["status"].tolist() == ["ok", "ok", "error", "ok", "ok", "ok"]
    assert "income" in out.loc[2, "error"]


def test_pyfunc_answer_carries_the_callers_index(trained):
    """predict answered with 0..n-1 whatever the input's index, so X.join(predict(X)) misaligned."""
    import mlflow.pyfunc

    pf = mlflow.pyfunc.load_model(str(trained / "model_out" / "model"))
    df = _frame(5, seed=7).drop(columns="bad")
    plain = pf.predict(df)
    shuffled = df.set_axis(["e", "c", "a", "d", "b"]).iloc[[2, 4, 1, 3, 0]]   # a text index, out of order
    out = pf.predict(shuffled)
    assert out.index.tolist() == ["a", "b", "c", "d", "e"]
    joined = shuffled.join(out)
    assert joined["score"].tolist() == plain["score"].iloc[[2, 4, 1, 3, 0]].tolist()
    assert joined["reason_1"].tolist() == plain["reason_1"].iloc[[2, 4, 1, 3, 0]].tolist()


def test_ids_are_kept_as_written_and_duplicates_flagged(trained, tmp_path):
    df = _frame(300, seed=6).drop(columns="bad")
    df.loc[7, "loan_id"] = df.loc[2, "loan_id"]  # a repeated id
    df.loc[9, "loan_id"] = None                  # an empty one
    src = tmp_path / "apps.csv"
    df.to_csv(src, index=False)
    for out in (tmp_path / "s.csv", tmp_path / "s.parquet"):
        score_file(trained / "model_out", src, out, id_col="loan_id", progress=False, chunk_rows=1000)
        got = pd.read_csv(out, dtype={"loan_id": str}) if out.suffix == ".csv" else pd.read_parquet(out)
        assert len(got) == len(df)
        assert got["loan_id"].iloc[:5].tolist() == ["000000", "000001", "000002", "000003", "000004"]
        assert got.loc[7, "status"] == "error" and "first on row 3" in got.loc[7, "error"]
        assert got.loc[9, "status"] == "error" and "empty" in got.loc[9, "error"]
        assert pd.isna(got.loc[7, "pd_12m"]) and (got.drop(index=[7, 9])["status"] == "ok").all()


def test_score_file_problems_are_exit_2_before_any_work(trained, tmp_path):
    model = str(trained / "model_out")
    src = tmp_path / "a.csv"
    _frame(50, seed=1).drop(columns="bad").to_csv(src, index=False)
    (tmp_path / "dir.csv").mkdir()
    cases = [
        (["--data", str(tmp_path / "nosuch.csv"), "--out", str(tmp_path / "o.csv")], "nosuch.csv"),
        (["--data", str(tmp_path), "--out", str(tmp_path / "o.csv")], "folder"),
        (["--data", str(src), "--out", str(src)], "overwrite the input"),
        (["--data", str(src), "--out", str(tmp_path / "dir.csv")], "existing folder"),
    ]
    for args, text in cases:
        r = _cli("score", "--model", model, *args)
        assert r.returncode == 2 and text in r.stderr, (args, r.stderr)
    assert src.stat().st_size > 0 and not list(tmp_path.glob("*.partial"))
    for uri in ("models:/", "models:/x/notanumber"):
        r = _cli("--store", str(trained), "score", "--model", uri, "--data", str(src), "--out", str(tmp_path / "o.csv"))
        assert r.returncode == 2, (uri, r.stderr)
    r = _cli("--store", str(tmp_path / "typo_store"), "score", "--model", "models:/x@champion", "--data", str(src),
             "--out", str(tmp_path / "o.csv"))
    assert r.returncode == 2 and "no MLflow store" in r.stderr
    assert not (tmp_path / "typo_store" / "mlflow.db").exists()


def test_gb18030_file_scores_like_utf8(trained, tmp_path):
    df = _frame(40, seed=2).drop(columns="bad").assign(remark="备注")
    df.to_csv(tmp_path / "u.csv", index=False, encoding="utf-8")
    df.to_csv(tmp_path / "g.csv", index=False, encoding="gb18030")
    a = score_file(trained / "model_out", tmp_path / "u.csv", tmp_path / "u_out.csv", progress=False)
    b = score_file(trained / "model_out", tmp_path / "g.csv", tmp_path / "g_out.csv", progress=False)
    assert a.rows == b.rows == 40
    pd.testing.assert_series_equal(pd.read_csv(tmp_path / "u_out.csv")["pd_12m"],
                                   pd.read_csv(tmp_path / "g_out.csv")["pd_12m"])


def test_a_typo_in_a_number_column_names_the_row():
    df = _frame(600, seed=3)
    df["age"] = df["age"].astype(object)
    df.loc[3, "age"] = "forty"
    with pytest.raises(InputError) as e:
        train_frame(df, "bad", id_col="loan_id")
    assert (e.value.column, e.value.row) == ("age", 4) and "forty" in str(e.value)
    big = _frame(600, seed=3)
    big.loc[5, "income"] = 1e39
    with pytest.raises(InputError) as e:
        train_frame(big, "bad", id_col="loan_id")
    assert (e.value.column, e.value.row) == ("income", 6)
    with pytest.raises(InputError, match="no data rows"):
        train_frame(df.iloc[:0], "bad")


def test_retraining_into_a_folder_leaves_no_stale_files(tmp_path, monkeypatch):
    src = tmp_path / "t.csv"
    _frame(800, seed=4).to_csv(src, index=False)
    out = tmp_path / "m"
    train_file(src, "bad", out, id_col="loan_id", kind="scorecard", seed=1)
    assert (out / "scorecard.sql").exists()
    train_file(src, "bad", out, id_col="loan_id", kind="lightgbm", seed=1)
    assert not (out / "scorecard.sql").exists() and not (out / "points_table.csv").exists()
    assert json.loads((out / "metrics.json").read_text())["kind"] == "lightgbm"
    (tmp_path / "file_out").write_text("x")
    with pytest.raises(InputError, match="existing file"):
        train_file(src, "bad", tmp_path / "file_out")
    # a file on the way to the folder is said before the fit (it was said after 14 s of fitting: a reviewer)
    import creditmodel.scoring.train as train_module

    def no_fit(*a, **k):
        raise AssertionError("fitted before the output was checked")

    monkeypatch.setattr(train_module, "train_frame", no_fit)
    with pytest.raises(InputError, match="is a file") as e:
        train_file(src, "bad", tmp_path / "file_out" / "sub" / "m")
    assert str(tmp_path / "file_out") in str(e.value)


def test_gb18030_text_after_the_first_64_kib_is_read_as_text(tmp_path):
    """The encoding is guessed from the first 64 KiB; a file whose Chinese text starts later came back as bytes."""
    from creditmodel.data.io import read_table

    df = _frame(3000, seed=7).assign(remark="none")
    df.loc[2990:, "remark"] = "备注"
    p = tmp_path / "late.csv"
    df.to_csv(p, index=False, encoding="gb18030")
    assert p.read_bytes()[: 1 << 16].decode("utf-8")  # the first 64 KiB are plain ASCII
    for as_text in (False, True):
        got = read_table(p, as_text=as_text)
        assert got["remark"].iloc[0] == "none" and got["remark"].iloc[-1] == "备注", as_text


def test_score_reads_late_gb18030_text(trained, tmp_path):
    df = _frame(3000, seed=8).drop(columns="bad").assign(remark="none")
    df.loc[2995:, "remark"] = "备注"
    df.to_csv(tmp_path / "late.csv", index=False, encoding="gb18030")
    res = score_file(trained / "model_out", tmp_path / "late.csv", tmp_path / "o.csv", progress=False)
    assert res.rows == 3000 and res.rows_error == 0


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no 0/0 in the leak check
def test_a_copy_of_the_outcome_is_set_aside_as_a_leak(caplog):
    df = _frame(1500, seed=9)
    df["leak"] = df["bad"]                                               # the target itself
    df["days_to_default"] = np.where(df["bad"] == 1, 30.0 + np.arange(len(df)) % 300, np.nan)  # filled only for bads
    df["status_text"] = np.where(df["bad"] == 1, "CHGOFF", "P I F")  # a text copy (SBA's MIS_Status) was missed
    # a text date filled only for defaults, in small categories (under 200 levels, so not identifier-like)
    df["chgoff_date"] = np.where(df["bad"] == 1, [f"{1 + i % 12}/{1 + i % 9}/2010" for i in range(len(df))], None)
    df["branch"] = [f"B{i % 150}" for i in range(len(df))]  # 150 small categories: pure by chance, not a leak
    res = train_frame(df, "bad", id_col="loan_id", seed=2)
    for c in ("leak", "days_to_default", "status_text", "chgoff_date"):
        assert "leak" in res.dropped[c] and c not in res.features
    assert "branch" not in res.dropped and "branch" in res.features
    assert {"income", "debt_ratio"} <= set(res.features)
    assert res.metrics["test_auc"] < 0.95  # the model learnt from the real features only


def test_a_line_of_commas_is_not_scored(trained, tmp_path):
    df = _frame(20, seed=10).drop(columns="bad")
    text = df.to_csv(index=False).splitlines()
    text.insert(6, "," * (df.shape[1] - 1))  # data row 5: every cell empty
    (tmp_path / "b.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    score_file(trained / "model_out", tmp_path / "b.csv", tmp_path / "o.csv", progress=False)
    got = pd.read_csv(tmp_path / "o.csv")
    assert len(got) == 21 and got.loc[5, "status"] == "error" and "empty" in got.loc[5, "error"]
    assert (got.drop(index=5)["status"] == "ok").all()
    # with --id the blank line is still named as such, not as a row whose id is empty
    score_file(trained / "model_out", tmp_path / "b.csv", tmp_path / "o2.csv", id_col="loan_id", progress=False)
    got = pd.read_csv(tmp_path / "o2.csv")
    assert "blank line" in got.loc[5, "error"] and (got.drop(index=5)["status"] == "ok").all()


def test_coded_categories_and_identifiers_are_not_refused():
    """Only a measurement with a few typos stops training; coded categories and identifiers do not."""
    from creditmodel.scoring.train import candidate_features

    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame({
        "naics_sector": rng.choice(["11", "21", "22", "23", "31", "42", "48", "51", "44-45"], n,
                                   p=[.15, .12, .12, .12, .12, .12, .12, .1, .03]).astype(object),
        "account_no": [str(100000 + i) if i % 100 else f"X{i}" for i in range(n)],
        "zip": [f"{95000 + i % 300}" if i % 50 else "95123-4421" for i in range(n)],
    })
    feats, dropped = candidate_features(df, [])
    assert feats == ["naics_sector"]
    assert "identifier-like" in dropped["account_no"] and "95123-4421" in dropped["zip"]


def test_a_ragged_csv_row_is_named(tmp_path):
    from creditmodel.data.io import read_table

    p = tmp_path / "ragged.csv"
    p.write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n11,12,13\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_table(p)
    assert e.value.row == 3 and "ragged.csv" in str(e.value)


def test_identifiers_keep_one_type_across_chunks(trained, tmp_path):
    """Numeric-looking loan ids in the first chunk and 'X2200' in a later one broke the Parquet writer."""
    df = _frame(2500, seed=11).drop(columns="bad")
    df["loan_id"] = [str(i) for i in range(len(df))]
    df.loc[2200, "loan_id"] = "X2200"
    df.to_csv(tmp_path / "c.csv", index=False)
    res = score_file(trained / "model_out", tmp_path / "c.csv", tmp_path / "c.parquet", progress=False,
                     chunk_rows=1000)
    got = pd.read_parquet(tmp_path / "c.parquet")
    assert res.rows == 2500 and got.loc[2200, "loan_id"] == "X2200" and got.loc[0, "loan_id"] == "0"


def test_cells_of_spaces_are_missing_in_train_and_score(tmp_path):
    """Excel exports write a blank as ' ': a number column with such blanks (or with ' 12') stays a number
    column instead of becoming an identifier-like text column, and a category cell of spaces is missing at
    training and at scoring alike (not an unseen category)."""
    df = _frame(900, seed=4)
    text = df.astype(object)
    text.loc[::7, "income"] = " "
    text.loc[3, "debt_ratio"] = f" {df.loc[3, 'debt_ratio']}"
    text.loc[::11, "industry"] = "  "
    src = tmp_path / "padded.csv"
    text.to_csv(src, index=False)
    res = train_file(src, "bad", tmp_path / "m", id_col="loan_id", seed=3)
    assert {"income", "debt_ratio", "industry"} <= set(res.features), res.dropped
    assert res.model.input_spec.numeric.count("income") == 1 and "  " not in res.model.input_spec.categorical.get(
        "industry", [])
    new = text.drop(columns="bad").iloc[:30]
    new.to_csv(tmp_path / "new.csv", index=False)
    score_file(tmp_path / "m", tmp_path / "new.csv", tmp_path / "out.csv", progress=False)
    got = pd.read_csv(tmp_path / "out.csv")
    assert len(got) == 30 and (got["status"] == "ok").all(), got.loc[got["status"] != "ok", "error"].tolist()
    # the blank cells score as missing: the same PD as an explicitly empty cell
    empty = new.copy()
    empty.loc[empty["industry"] == "  ", "industry"] = ""
    empty.loc[empty["income"] == " ", "income"] = ""
    pd.testing.assert_series_equal(res.model.score_frame(empty)["pd_12m"], res.model.score_frame(new)["pd_12m"])


def test_passthrough_columns_keep_one_type_across_chunks(trained, tmp_path):
    """A chunk whose as_of_date is all empty (read as numbers) and a later one with dates used to stop the chunked
    Parquet writer (ArrowInvalid); the identifier columns are passed through as text, as written."""
    df = _frame(30, seed=5).drop(columns="bad")
    df["as_of_date"] = [""] * 10 + ["2026-06-30"] * 20
    df["uscc"] = [""] * 10 + ["91110108MA01XXXXX0"] * 20
    df.to_csv(tmp_path / "mixed.csv", index=False)
    res = score_file(trained / "model_out", tmp_path / "mixed.csv", tmp_path / "mixed.parquet", progress=False,
                     chunk_rows=10)
    got = pd.read_parquet(tmp_path / "mixed.parquet")
    assert res.rows == len(got) == 30
    assert got["as_of_date"].iloc[10:].tolist() == ["2026-06-30"] * 20 and got["as_of_date"].iloc[:10].isna().all()
    assert got["loan_id"].tolist() == df["loan_id"].tolist()  # leading zeros kept


def test_training_input_faults_found_by_fuzzing(tmp_path):
    """Each of these ended in exit 1 after the fit (a blank header: MLflow refused the signature; three defaults: a
    cross-fitting fold without defaults) or was accepted where score refuses it (an empty id)."""
    df = _frame(600, seed=6)
    with pytest.raises(InputError, match="same column"):
        train_frame(df, "bad", id_col="bad")
    blank = df.copy()
    blank.loc[4, "loan_id"] = " "
    with pytest.raises(InputError, match="empty id") as e:
        train_frame(blank, "bad", id_col="loan_id")
    assert (e.value.column, e.value.row) == ("loan_id", 5)
    few = df.copy()
    few["bad"] = (few.index < 5).astype(int)
    with pytest.raises(InputError, match="only [0-9] defaults") as e:
        train_frame(few, "bad", id_col="loan_id")
    assert e.value.column == "bad"
    df.rename(columns={"age": ""}).to_csv(tmp_path / "blank_header.csv", index=False)
    res = train_file(tmp_path / "blank_header.csv", "bad", tmp_path / "m", id_col="loan_id", seed=3)
    assert "" not in res.features and "no column name (column 3" in res.dropped[""]
    assert (tmp_path / "m" / "model" / "MLmodel").exists()


def test_scoring_input_faults_found_by_fuzzing(trained, tmp_path):
    """A value train refuses as too large was scored as ok; a UTF-16 file was reported as a GB 18030 fault on one
    row; a ';'-separated file at score gave no hint about the separator."""
    df = _frame(20, seed=7).drop(columns="bad")
    df.loc[2, "income"] = 1e39
    df.to_csv(tmp_path / "big.csv", index=False)
    score_file(trained / "model_out", tmp_path / "big.csv", tmp_path / "big_out.csv", progress=False)
    got = pd.read_csv(tmp_path / "big_out.csv")
    assert got.loc[2, "status"] == "error" and "income" in got.loc[2, "error"] and "beyond" in got.loc[2, "error"]
    assert (got.drop(index=2)["status"] == "ok").all() and len(got) == 20
    df.to_csv(tmp_path / "u16.csv", index=False, encoding="utf-16")
    r = _cli("score", "--model", str(trained / "model_out"), "--data", str(tmp_path / "u16.csv"),
             "--out", str(tmp_path / "o.csv"))
    assert r.returncode == 2 and "UTF-16" in r.stderr and "u16.csv" in r.stderr
    df.to_csv(tmp_path / "semi.csv", index=False, sep=";")
    r = _cli("score", "--model", str(trained / "model_out"), "--data", str(tmp_path / "semi.csv"),
             "--out", str(tmp_path / "o.csv"), "--id", "loan_id")
    assert r.returncode == 2 and "separator" in r.stderr


def test_quiet_train_prints_no_info_lines(tmp_path):
    """-q promised only warnings and errors, but MLflow re-set its own logger to INFO when imported."""
    import os

    _frame(500, seed=11).to_csv(tmp_path / "t.csv", index=False)
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_LOGGING_LEVEL"}  # as a user's shell has it
    r = subprocess.run([sys.executable, "-m", "creditmodel.cli", "-q", "train", "--data", str(tmp_path / "t.csv"),
                        "--target", "bad", "--id", "loan_id", "--out", str(tmp_path / "m")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert " INFO " not in r.stderr, [line for line in r.stderr.splitlines() if " INFO " in line][:3]
    assert "test AUC" in r.stdout


def _without_pyspark(monkeypatch):
    """Make ``import pyspark`` (and its submodules, even when already imported) fail as if not installed."""
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")] + ["pyspark"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError):
        from pyspark.sql import functions  # noqa: F401


def test_spark_engine_without_pyspark_exits_2_with_the_install_hint(trained, tmp_path, monkeypatch, capsys):
    """``creditmodel score --engine spark`` without pyspark: exit 2 (bad input), the install hint, no
    output."""
    import logging

    from creditmodel import cli
    from creditmodel.scoring.spark import NEEDS_PYSPARK

    _frame(30, seed=12).drop(columns="bad").to_csv(tmp_path / "apps.csv", index=False)
    _without_pyspark(monkeypatch)
    for var in ("MLFLOW_LOGGING_LEVEL", "MLFLOW_TRACKING_URI", "CREDITMODEL_OUT"):  # the CLI may set them
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    monkeypatch.setattr(sys, "argv", ["creditmodel", "score", "--model", str(trained / "model_out"),
                                      "--data", str(tmp_path / "apps.csv"), "--out", str(tmp_path / "s.csv"),
                                      "--engine", "spark"])
    noisy = ("mlflow", "alembic", "urllib3", "py4j", "papermill", "numba", "matplotlib", "traitlets")
    levels = {n: logging.getLogger(n).level for n in noisy}
    try:
        with pytest.raises(SystemExit) as e:
            cli.main()
    finally:  # the CLI sets these loggers' levels for its own process
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    assert NEEDS_PYSPARK in err and "pip install 'creditmodel[spark]'" in err and "--engine" in err
    assert not (tmp_path / "s.csv").exists()


class _FakeSparkReader:
    """What ``spark.read`` gives for a CSV: Spark reads a ';'-separated file with ',' as ONE column named
    after the whole header line (checked once against a real local session)."""

    def __init__(self, path_columns):
        self.path_columns = path_columns

    def option(self, *_):
        return self

    def schema(self, _):   # the engine re-reads with its text columns as strings
        return self

    def csv(self, path):
        from types import SimpleNamespace

        from pyspark.sql.types import DoubleType, StructField

        cols = self.path_columns[path]
        return SimpleNamespace(columns=cols, schema=SimpleNamespace(fields=[StructField(c, DoubleType()) for c in cols]))


def test_spark_missing_column_error_gets_the_separator_hint(trained, tmp_path):
    """Without a Spark session: a stub session whose reader returns the columns Spark would see."""
    pytest.importorskip("pyspark.sql.functions")
    from types import SimpleNamespace

    from creditmodel.scoring.score import resolve_model
    from creditmodel.scoring.spark import score_file_spark

    resolved = resolve_model(trained / "model_out")
    df = _frame(20, seed=13).drop(columns="bad")
    semi, comma = tmp_path / "semi.csv", tmp_path / "comma.csv"
    df.to_csv(semi, index=False, sep=";")
    needed = list(resolved.model.input_spec.columns)
    df.drop(columns=needed[0]).to_csv(comma, index=False)
    header = semi.read_text(encoding="utf-8").splitlines()[0]
    spark = SimpleNamespace(read=_FakeSparkReader({str(semi): [header],
                                                   str(comma): [c for c in df.columns if c != needed[0]]}))
    with pytest.raises(InputError) as e:
        score_file_spark(resolved, semi, tmp_path / "o.csv", spark=spark)
    assert "missing column(s)" in str(e.value) and "separator" in str(e.value)
    assert e.value.column == needed[0] and e.value.file == semi
    with pytest.raises(InputError) as e:  # a column really missing from a ','-separated file: no such hint
        score_file_spark(resolved, comma, tmp_path / "o.csv", spark=spark)
    assert "missing column(s)" in str(e.value) and "separator" not in str(e.value)
    assert e.value.column == needed[0]


def test_deliverable_never_overwrites_its_input_and_keeps_the_name_given(trained, tmp_path):
    """A deliverable writes a .parquet/.csv pair: ``--out loans.csv`` beside the input ``loans.parquet`` used to
    replace the input with the scores (exit 0), and ``portfolio.v2.csv`` became ``portfolio.parquet/.csv``."""
    from creditmodel.delivery import deliver_file
    from creditmodel.scoring.score import resolve_model

    resolved = resolve_model(trained / "model_out")
    resolved.registered_name, resolved.registered_version, resolved.alias = "pd", "1", "champion"
    src = tmp_path / "loans.parquet"
    _frame(60).drop(columns="bad").to_parquet(src)
    before = src.read_bytes()
    with pytest.raises(InputError, match="loans.parquet would overwrite the input file") as e:
        deliver_file(resolved, src, tmp_path / "loans.csv", progress=False)
    assert str(e.value.file).endswith("loans.parquet")
    assert src.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["loans.parquet"]
    (tmp_path / "portfolio.csv").write_text("somebody else's file\n")
    res = deliver_file(resolved, src, tmp_path / "portfolio.v2.csv", progress=False)
    assert sorted(p.name for p in res.files.values()) == ["portfolio.v2.columns.json", "portfolio.v2.csv",
                                                           "portfolio.v2.model_card.md", "portfolio.v2.model_files",
                                                           "portfolio.v2.parquet"]
    assert res.out.name == "portfolio.v2.csv" and res.rows == 60
    assert (tmp_path / "portfolio.csv").read_text() == "somebody else's file\n" and src.read_bytes() == before
    # the same through the CLI, before anything is written: exit 2 naming the file
    r = _cli("score", "--model", str(trained / "model_out"), "--data", str(src), "--out", str(src))
    assert r.returncode == 2 and "overwrite the input" in r.stderr


def test_csv_is_read_at_scoring_as_in_training_whatever_the_chunk(tmp_path):
    """A CSV at scoring is read like the training file: a category column stays text as written, whatever the
    cells of this file or chunk look like ('01' stays '01', not the number 1), and the category 'None' stays a
    category (pandas used to read it as missing and score it with the missing bin, status ok)."""
    rng = np.random.default_rng(5)
    n = 3000
    seg = rng.choice(["01", "02", "None", "X"], n, p=[0.4, 0.3, 0.2, 0.1])
    income = rng.lognormal(10, 0.5, n).round(0)
    risk = {"01": -0.8, "02": 0.0, "None": 1.2, "X": 0.4}
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-2.0 + np.vectorize(risk.get)(seg)
                                                 - 0.5 * (np.log(income) - 10))))).astype(int)
    df = pd.DataFrame({"loan_id": [f"{i:05d}" for i in range(n)], "seg": seg, "income": income, "bad": y})
    df.to_csv(tmp_path / "train.csv", index=False)
    train_file(tmp_path / "train.csv", "bad", tmp_path / "m", id_col="loan_id", seed=1)
    from creditmodel.scoring.score import resolve_model

    assert "seg" in resolve_model(tmp_path / "m").model.input_spec.categorical
    new = df.drop(columns="bad")
    new.to_csv(tmp_path / "all.csv", index=False)
    new.to_parquet(tmp_path / "all.parquet")
    ref = pd.read_parquet(score_file(tmp_path / "m", tmp_path / "all.parquet", tmp_path / "ref.parquet",
                                     id_col="loan_id", progress=False).out)
    assert (ref["status"] == "ok").all()
    cols = ["loan_id", "score", "grade", "pd_12m", "reason_1", "status"]
    for chunk_rows in (1000, 500_000):
        out = score_file(tmp_path / "m", tmp_path / "all.csv", tmp_path / f"c{chunk_rows}.parquet", id_col="loan_id",
                         chunk_rows=chunk_rows, progress=False).out
        got = pd.read_parquet(out)
        pd.testing.assert_frame_equal(got[cols], ref[cols], check_dtype=False, check_categorical=False)
    # a file (or chunk) whose codes all look like numbers
    only = new[new["seg"].isin(["01", "02"])]
    only.to_csv(tmp_path / "only.csv", index=False)
    got = pd.read_parquet(score_file(tmp_path / "m", tmp_path / "only.csv", tmp_path / "only.parquet",
                                     id_col="loan_id", progress=False).out)
    assert (got["status"] == "ok").all()
    assert got["score"].tolist() == ref.set_index("loan_id").loc[got["loan_id"], "score"].tolist()
    # validate reads the same way: no row excluded as a scoring error
    v = _cli("validate", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "train.csv"), "--target", "bad",
             "--out", str(tmp_path / "val"))
    assert v.returncode == 0, v.stderr
    m = json.loads((tmp_path / "val" / "metrics.json").read_text())
    assert m["n"] == m["n_input"] == n and m["excluded"] == {}
    # ... also where every code looks like a number, with a target written True/False
    df[df["seg"].isin(["01", "02"])].assign(bad=lambda d: d["bad"].map({1: "True", 0: "False"})).to_csv(
        tmp_path / "only_tf.csv", index=False)
    v = _cli("validate", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "only_tf.csv"), "--target", "bad",
             "--positive", "True", "--out", str(tmp_path / "val2"))
    assert v.returncode == 0, v.stderr
    m = json.loads((tmp_path / "val2" / "metrics.json").read_text())
    assert m["n"] == m["n_input"] == len(only) and m["excluded"] == {}


def test_an_id_named_like_an_output_column_is_refused(trained, tmp_path):
    """--id score used to end in exit 1 (Parquet: duplicate column names) or a CSV with two 'score' columns."""
    src = tmp_path / "apps.csv"
    _frame(30).drop(columns="bad").assign(score=range(30)).to_csv(src, index=False)
    for out in ("o.parquet", "o.csv"):
        r = _cli("score", "--model", str(trained / "model_out"), "--data", str(src), "--id", "score",
                 "--out", str(tmp_path / out))
        assert r.returncode == 2 and "--id 'score' has the name of an output column" in r.stderr, r.stderr
        assert not (tmp_path / out).exists()
    ok = score_file(trained / "model_out", src, tmp_path / "ok.csv", id_col="loan_id", progress=False)
    assert ok.rows == 30  # a passed-through identifier as --id is fine


def test_validate_names_the_file_when_no_row_scores_or_a_column_is_missing(trained, tmp_path):
    """validate used to say "column 'target': the sample is empty" when every row was status=error, and a
    reference file without a model column was reported without its file name."""
    df = _frame(200, seed=8)
    unseen = tmp_path / "unseen.csv"
    df.assign(industry="Z").to_csv(unseen, index=False)
    r = _cli("validate", "--model", str(trained / "model_out"), "--data", str(unseen), "--target", "bad",
             "--out", str(tmp_path / "v1"))
    assert r.returncode == 2, r.stderr
    assert "none of the 200 rows could be scored" in r.stderr and "unseen.csv" in r.stderr
    assert "was not seen in training" in r.stderr
    good, ref = tmp_path / "good.csv", tmp_path / "ref.csv"
    df.to_csv(good, index=False)
    df.drop(columns="income").to_csv(ref, index=False)
    r = _cli("validate", "--model", str(trained / "model_out"), "--data", str(good), "--target", "bad",
             "--reference", str(ref), "--out", str(tmp_path / "v2"))
    assert r.returncode == 2 and "ref.csv" in r.stderr and "income" in r.stderr, r.stderr


def test_a_yes_no_column_with_blanks_is_a_number_in_every_file_format(tmp_path):
    """TRUE/FALSE with some blanks used to train as the categories 'True'/'False': the same rows scored from a
    file holding TRUE/FALSE as text were all unseen-category errors."""
    rng = np.random.default_rng(3)
    n = 2500
    flag = rng.uniform(size=n) < 0.4
    income = rng.lognormal(10, 0.5, n).round(0)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-2.2 + 1.2 * flag - 0.5 * (np.log(income) - 10))))).astype(int)
    cells = np.where(flag, "TRUE", "FALSE").astype(object)
    cells[rng.uniform(size=n) < 0.05] = ""
    df = pd.DataFrame({"loan_id": [f"{i:05d}" for i in range(n)], "has_guarantee": cells, "income": income,
                       "bad": y})
    df.to_csv(tmp_path / "train.csv", index=False)
    train_file(tmp_path / "train.csv", "bad", tmp_path / "m", id_col="loan_id", seed=1)
    from creditmodel.scoring.score import resolve_model

    spec = resolve_model(tmp_path / "m").model.input_spec
    assert "has_guarantee" in spec.numeric and "has_guarantee" not in spec.categorical
    new = df.drop(columns="bad")
    new.to_csv(tmp_path / "s.csv", index=False)
    new.to_parquet(tmp_path / "text.parquet")  # TRUE/FALSE as text
    new.assign(has_guarantee=new["has_guarantee"].map({"TRUE": True, "FALSE": False, "": None}).astype("boolean")
               ).to_parquet(tmp_path / "bool.parquet")
    outs = [pd.read_parquet(score_file(tmp_path / "m", tmp_path / f, tmp_path / f"o_{i}.parquet", id_col="loan_id",
                                       progress=False).out) for i, f in enumerate(("s.csv", "text.parquet",
                                                                                    "bool.parquet"))]
    for o in outs:
        assert (o["status"] == "ok").all()
        assert o["score"].tolist() == outs[0]["score"].tolist()
    assert spec.binary == ["has_guarantee"]
    # a fuzzer's finding: a chunk whose income cells were all TRUE/FALSE was scored with income 1/0
    odd = new.head(6).copy()
    odd["income"] = ["TRUE", "FALSE", "TRUE", "1200", "TRUE", ""]
    odd.to_csv(tmp_path / "odd.csv", index=False)
    mixed = new.head(3).copy()   # 1 and 0 beside TRUE: only the TRUE row fails, whatever the chunk (reviewer)
    mixed["income"] = ["1", "TRUE", "0"]
    mixed.to_csv(tmp_path / "mixed.csv", index=False)
    for rows in (1, 3):
        o = pd.read_csv(score_file(tmp_path / "m", tmp_path / "mixed.csv", tmp_path / "mixed_out.csv",
                                   id_col="loan_id", chunk_rows=rows, progress=False).out)
        assert o["status"].tolist() == ["ok", "error", "ok"], rows
    for rows in (3, 100):   # chunk 1 reads income as booleans, chunk 2 as text; the same rows fail either way
        o = pd.read_csv(score_file(tmp_path / "m", tmp_path / "odd.csv", tmp_path / "odd_out.csv", id_col="loan_id",
                                   chunk_rows=rows, progress=False).out)
        assert o["status"].tolist() == ["error", "error", "error", "ok", "error", "ok"], rows
        assert "column 'income': 'TRUE' is not a number" in o.loc[0, "error"]
        assert "'FALSE' is not a number" in o.loc[1, "error"]
    # a model saved before the field existed reads TRUE/FALSE as 1/0 everywhere, as it did
    from creditmodel.scoring.model import InputSpec

    old = InputSpec(["income", "has_guarantee"])
    del old.binary
    frame, errors = old.check(pd.DataFrame({"income": [True, False], "has_guarantee": ["TRUE", "FALSE"]}))
    assert errors.tolist() == [None, None] and frame["income"].tolist() == [1.0, 0.0]


def test_an_input_without_rows_is_bad_input_in_every_format(trained, tmp_path):
    """A header-only CSV used to give exit 0 and an empty output, a 0-row Parquet exit 2."""
    empty = _frame(5).drop(columns="bad").iloc[:0]
    empty.to_csv(tmp_path / "e.csv", index=False)
    empty.to_parquet(tmp_path / "e.parquet")
    for f in ("e.csv", "e.parquet"):
        r = _cli("score", "--model", str(trained / "model_out"), "--data", str(tmp_path / f),
                 "--out", str(tmp_path / f"o_{f}.csv"))
        assert r.returncode == 2 and "no data rows" in r.stderr and f in r.stderr, (f, r.stderr)
        assert not (tmp_path / f"o_{f}.csv").exists()


def test_a_uscc_id_repeated_in_another_spelling_is_a_duplicate():
    """A bank user scored the same enterprise twice, once in lower case with a blank: neither row was flagged."""
    from creditmodel.scoring.score import RowChecks

    code = "91350100M000100Y43"
    chunks = [pd.DataFrame({"uscc": [code, "91110000600037341L"]}),
              pd.DataFrame({"uscc": [code.lower()[:6] + " " + code.lower()[6:], "９１１１００００６０００３７３４１Ｌ"]})]
    checks = RowChecks("uscc")
    first, second = (checks.messages(c) for c in chunks)
    assert list(first) == [None, None]
    assert second[0] == f"column 'uscc': duplicate id {code.lower()[:6] + ' ' + code.lower()[6:]!r}, first on row 1"
    assert "first on row 2" in second[1]                    # full-width digits: the same code
    other = RowChecks("loan_id")                             # other ids keep their spelling
    assert list(other.messages(pd.DataFrame({"loan_id": ["a1", "A1"]}))) == [None, None]


def test_empty_lines_of_a_csv_are_counted_not_skipped_unseen(tmp_path, caplog):
    """A bank user's file had empty lines: they were skipped without a word, and the row numbers in messages no
    longer matched the file's lines."""
    import logging

    from creditmodel.data.io import read_table
    from creditmodel.scoring.score import iter_chunks

    p = tmp_path / "apps.csv"
    p.write_text("a,b\n1,x\n\n2,y\n\n\n3,z\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        df = read_table(p)
        sizes = [len(c) for c in iter_chunks(p, 2)]
    assert df["a"].tolist() == [1, 2, 3] and sizes == [2, 1]
    assert caplog.text.count("3 empty line(s) skipped (the first is line 3)") == 2
    caplog.clear()
    (tmp_path / "ok.csv").write_text("a,b\r\n1,x\r\n2,y\r\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        read_table(tmp_path / "ok.csv")
    assert "empty line" not in caplog.text
    # old-Mac CR-only line endings ("CSV (Macintosh)") ended in exit 1 naming no file (a contract auditor)
    (tmp_path / "mac.csv").write_bytes(b"a,b\r1,x\r2,y\r")
    assert read_table(tmp_path / "mac.csv")["b"].tolist() == ["x", "y"]
    import bz2   # counted on the decompressed lines (the reviewer saw 30 false empty lines in the compressed bytes)

    rng = np.random.default_rng(0)
    text = "a,b\n" + "".join(f"{v:.6f},{w}\n" for v, w in zip(rng.normal(size=20000), rng.integers(0, 9, 20000)))
    (tmp_path / "t.csv.bz2").write_bytes(bz2.compress(text.encode()))
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        assert len(read_table(tmp_path / "t.csv.bz2")) == 20000
    assert "empty line" not in caplog.text


def test_a_line_of_only_spaces_is_skipped_as_an_empty_line(tmp_path, caplog):
    """A fuzzer's finding: one line of spaces (a text editor's "empty" line) stopped the whole file at train and
    score with "Expected 3 columns, got 1". It is skipped and counted like an empty line; a real short row still
    fails naming its row, counted without the skipped line."""
    import logging

    from creditmodel.data.io import read_table
    from creditmodel.scoring.score import iter_chunks

    p = tmp_path / "apps.csv"
    p.write_text("a,b,c\n1,x,2\n   \n2,y,3\n\t\n3,z,4\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        df = read_table(p)
        chunks = list(iter_chunks(p, 2))
        head = read_table(p, nrows=2)
    assert df["a"].tolist() == [1, 2, 3] and df["b"].tolist() == ["x", "y", "z"]
    assert [c["a"].tolist() for c in chunks] == [[1.0, 2.0], [3.0]] and head["a"].tolist() == [1, 2]
    assert caplog.text.count("2 line(s) of only spaces or tabs skipped as empty lines (lines 3, 5 of the file)") == 2
    p.write_text("a,b,c\n1,x,2\n   \n2,y,3\n3,z\n", encoding="utf-8")
    for read in (read_table, lambda q: list(iter_chunks(q, 2))):
        with pytest.raises(InputError) as e:
            read(p)
        assert e.value.row == 3 and "Expected 3 columns, got 2" in str(e.value)
    one = tmp_path / "one.csv"   # one column: a cell of spaces is a row with that cell empty, not a skipped line
    one.write_text("a\n1\n  \n3\n", encoding="utf-8")
    assert read_table(one)["a"].isna().tolist() == [False, True, False]


def test_a_csv_in_neither_utf8_nor_gb18030_names_the_line(tmp_path):
    """A fuzzer's finding: a Windows-1252 file ("Café") failed with the GB 18030 codec's byte position in Arrow's
    block, naming no row; the error names the line and data row and says what to do."""
    from creditmodel.data.io import read_table
    from creditmodel.scoring.score import iter_chunks

    p = tmp_path / "cp1252.csv"
    rows = "".join(f"{i},plain\n" for i in range(1, 6)) + "6,Caf\u00e9\n7,x\n"
    p.write_bytes(("a,b\n\n" + rows).encode("cp1252"))
    for read in (read_table, lambda q: list(iter_chunks(q, 3))):
        with pytest.raises(InputError) as e:
            read(p)
        assert e.value.row == 6 and "line 8 is neither UTF-8 nor GB 18030" in str(e.value)
        assert "bytes e9" in str(e.value) and "CSV UTF-8" in str(e.value)
    gb = tmp_path / "gb.csv"    # GB 18030 text is read as before
    gb.write_bytes("a,b\n1,企业\n".encode("gb18030"))
    assert read_table(gb)["b"].tolist() == ["企业"]


@pytest.mark.parametrize("rows", [20, 4000])                             # in the first 64 KiB, and after them
def test_one_foreign_byte_in_a_utf8_file_is_named_not_read_as_gb18030(trained, tmp_path, rows):
    """A reviewer's finding: one Windows-1252 byte in a UTF-8 file with Chinese IDs made the whole file read as
    GB 18030, so every ID came out garbled (张三0 as 寮犱笁0) with status ok, or the error named a line of good
    UTF-8 text. UTF-8 text before the bad byte means the file is UTF-8: the error names the bad line."""
    from creditmodel.data.io import read_table
    from creditmodel.scoring.score import iter_chunks

    df = _frame(rows, seed=11).drop(columns="bad")
    df["loan_id"] = [f"张三{i}" for i in range(rows)]
    b = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    at = b.rfind(b"\n", 0, len(b) - 1) + 1                                   # the last data line
    b = b[:at] + b"Caf\xe9" + b[at:]                                         # its ID: 'Café' in Windows-1252
    p = tmp_path / "mixed.csv"
    p.write_bytes(b)
    for read in (read_table, lambda q: list(iter_chunks(q, 1000))):
        with pytest.raises(InputError) as e:
            read(p)
        msg = str(e.value)
        assert e.value.row == rows and f"line {rows + 1} is not UTF-8" in msg and "bytes e9" in msg, msg
        assert "CSV UTF-8" in msg
    res = _cli("score", "--model", str(trained / "model_out"), "--data", str(p), "--out", str(tmp_path / "o.csv"))
    assert res.returncode == 2 and f"line {rows + 1} is not UTF-8" in res.stderr, res.stderr
    assert not (tmp_path / "o.csv").exists()
    good = tmp_path / "good.csv"                                             # without the byte: read as written
    good.write_bytes(b.replace(b"Caf\xe9", b""))
    assert read_table(good)["loan_id"].iloc[-1] == f"张三{rows - 1}"
    end = tmp_path / "end.csv"                       # the foreign byte ends the file (no newline): still named
    end.write_bytes(b.rstrip(b"\n").replace(b"Caf\xe9", b"") + b"Caf\xe9")
    with pytest.raises(InputError, match=f"line {rows + 1} is not UTF-8 \\(bytes e9\\)"):
        read_table(end)


def test_a_gb18030_file_whose_characters_pass_as_two_byte_utf8_is_read_as_gb18030(tmp_path):
    """A reviewer's finding on the check above: some GB 18030 characters are valid 2-byte UTF-8 on their own (女 is
    C5 AE, 'Ů'), so a GB 18030 file sorted by sex was refused as UTF-8 with a foreign byte. Only characters of three
    UTF-8 bytes (Chinese text) count as evidence of UTF-8."""
    from creditmodel.data.io import read_table

    for n in (4, 5000):                                                      # in the first 64 KiB; and after them
        sex = ["女"] * (n - 1) + ["男"]
        p = tmp_path / f"gb{n}.csv"
        p.write_bytes(("id,sex,income\n" + "".join(f"{i},{s},{100 * i}\n" for i, s in enumerate(sex))
                       ).encode("gb18030"))
        assert p.read_bytes()[: p.read_bytes().index(b"\xc4")].decode("utf-8")   # valid UTF-8 up to 男
        assert read_table(p)["sex"].tolist() == sex


def test_a_parquet_files_pandas_index_is_read_as_columns(trained, tmp_path):
    """A reviewer's finding: ``df.set_index('loan_id').to_parquet(...)`` stores the identifier as a column, but it
    was read as pandas' index and dropped: ``--id loan_id`` was 'not found', and a feature kept in the index was
    'missing'. Named index columns are columns; an unnamed index (a filtered frame's row labels) is not data."""
    from creditmodel.data.io import read_table

    df = _frame(300, seed=12).drop(columns="bad")
    p = tmp_path / "indexed.parquet"
    df.set_index(["loan_id", "industry"]).to_parquet(p)
    got = read_table(p)
    assert sorted(got.columns) == sorted(df.columns) and got["loan_id"].tolist() == df["loan_id"].tolist()
    res = score_file(trained / "model_out", p, tmp_path / "o.csv", id_col="loan_id", progress=False)
    assert res.rows == 300 and res.rows_error == 0
    out = pd.read_csv(tmp_path / "o.csv", dtype={"loan_id": str})
    flat = tmp_path / "flat.parquet"
    df.to_parquet(flat, index=False)
    score_file(trained / "model_out", flat, tmp_path / "o_flat.csv", id_col="loan_id", progress=False)
    ref = pd.read_csv(tmp_path / "o_flat.csv", dtype={"loan_id": str})
    pd.testing.assert_frame_equal(out.drop(columns=["scored_at", "data_sha256"], errors="ignore"),
                                  ref.drop(columns=["scored_at", "data_sha256"], errors="ignore"))
    rows = tmp_path / "rows.parquet"                                         # unnamed, non-range index: dropped
    df.iloc[np.r_[0:50, 100:150]].to_parquet(rows)
    assert "__index_level_0__" in pq_names(rows)
    assert sorted(read_table(rows).columns) == sorted(df.columns)
    named_range = df.rename_axis("income_rank")                              # a named RangeIndex is not data
    named_range.to_parquet(tmp_path / "nr.parquet")
    assert sorted(read_table(tmp_path / "nr.parquet").columns) == sorted(df.columns)
    df.rename_axis("income").to_parquet(tmp_path / "clash.parquet")          # a RangeIndex named like a column
    assert read_table(tmp_path / "clash.parquet")["income"].tolist() == df["income"].tolist()
    twice = df.set_index("loan_id", drop=False)            # an index beside its own column (pandas stores a copy)
    twice.to_parquet(tmp_path / "twice.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "twice.parquet"), read_table(flat))


def pq_names(p):
    import pyarrow.parquet as pq

    return pq.read_schema(p).names


def test_a_parquet_file_with_a_repeated_column_name_is_named(trained, tmp_path):
    """A reviewer's finding: a Parquet file with two columns 'income' stopped score with exit 1 and
    "AttributeError: 'DataFrame' object has no attribute 'str'", and train with an Arrow schema dump."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from creditmodel.data.io import read_table

    df = _frame(200, seed=13)
    t = pa.Table.from_pandas(df, preserve_index=False)
    p = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_arrays([*t.columns, t.column("income")], names=[*t.column_names, "income"]), p)
    with pytest.raises(InputError, match=r"column name\(s\) \['income'\] appear more than once") as e:
        read_table(p)
    assert e.value.column == "income"
    for cmd in (["score", "--model", str(trained / "model_out"), "--data", str(p), "--out", str(tmp_path / "o.csv")],
                ["train", "--data", str(p), "--target", "bad", "--out", str(tmp_path / "m")]):
        r = _cli(*cmd)
        assert r.returncode == 2 and "appear more than once" in r.stderr and "FieldRef" not in r.stderr, r.stderr


def test_scoring_without_id_uses_the_models_id_column(tmp_path):
    """A reviewer's finding: a model trained with ``--id app_id`` left ``app_id`` out of the scores when ``score`` was
    run without ``--id``, so nothing but the row order tied a score to its applicant, and a repeated id passed as ok.
    The model's id column is the default identifier when the file has it (kept as text, checked)."""
    df = _frame(900, seed=14).rename(columns={"loan_id": "app_id"})
    df.to_csv(tmp_path / "train.csv", index=False)
    train_file(tmp_path / "train.csv", "bad", tmp_path / "m", id_col="app_id", seed=2)
    new = df.drop(columns="bad").head(50).copy()
    new.loc[7, "app_id"] = new.loc[3, "app_id"]                              # a repeated applicant
    new.to_csv(tmp_path / "new.csv", index=False)
    for args in ((), ("--id", "app_id")):
        r = _cli("score", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "new.csv"),
                 "--out", str(tmp_path / "o.csv"), *args)
        assert r.returncode == 0, r.stderr
        out = pd.read_csv(tmp_path / "o.csv", dtype={"app_id": str})
        assert out["app_id"].tolist() == new["app_id"].tolist()              # leading zeros kept, input order
        assert out.loc[7, "status"] == "error" and "duplicate id" in out.loc[7, "error"], args
        assert (out.drop(index=7)["status"] == "ok").all()
    assert "app_id" not in pd.read_csv(tmp_path / "o.csv").columns.drop("app_id").tolist()
    spaced = new.rename(columns={"app_id": "app_id "})                       # a header with a space: not the id
    spaced.to_csv(tmp_path / "spaced.csv", index=False)
    res = score_file(tmp_path / "m", tmp_path / "spaced.csv", tmp_path / "o3.csv", progress=False)
    assert res.rows == 50 and res.rows_error == 0 and "app_id" not in pd.read_csv(tmp_path / "o3.csv").columns
    no_id = new.drop(columns="app_id")                                       # a file without it scores as before
    no_id.to_csv(tmp_path / "no_id.csv", index=False)
    res = score_file(tmp_path / "m", tmp_path / "no_id.csv", tmp_path / "o2.csv", progress=False)
    assert res.rows == 50 and res.rows_error == 0


def test_a_corrupt_mlmodel_or_an_unwritable_output_is_exit_2_naming_it(trained, tmp_path):
    """A reviewer's finding: a corrupt MLmodel file ended with exit 1 and a bare YAML ParserError, and ``--out`` in
    a folder that cannot hold files (``/proc``) with exit 1 and a FileNotFoundError on the temporary file after
    every row was scored."""
    _frame(40, seed=15).drop(columns="bad").to_csv(tmp_path / "apps.csv", index=False)
    broken = tmp_path / "broken"
    shutil.copytree(trained / "model_out" / "model", broken)
    (broken / "MLmodel").write_text("garbage: [\n")
    r = _cli("score", "--model", str(broken), "--data", str(tmp_path / "apps.csv"), "--out", str(tmp_path / "o.csv"))
    assert r.returncode == 2 and "cannot load the model" in r.stderr and str(broken) in r.stderr, r.stderr
    if Path("/proc/self").is_dir():                                          # Linux: /proc takes no new files
        r = _cli("score", "--model", str(trained / "model_out"), "--data", str(tmp_path / "apps.csv"),
                 "--out", "/proc/out.csv")
        assert r.returncode == 2 and "cannot write the output in /proc" in r.stderr, r.stderr
        r = _cli("score", "--model", str(trained / "model_out"), "--data", str(tmp_path / "apps.csv"),
                 "--out", "/proc/sub/out.csv")
        assert r.returncode == 2 and "cannot write the output in /proc" in r.stderr, r.stderr
    r = _cli("score", "--model", str(broken), "--data", str(tmp_path / "apps.csv"),   # refused: nothing made
             "--out", str(tmp_path / "new" / "dir" / "o.csv"))
    assert r.returncode == 2 and not (tmp_path / "new").exists()
    assert not list(tmp_path.glob("*.probe")) and not list(tmp_path.glob(".*.probe"))


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1 << 24])
def test_empty_line_count_does_not_depend_on_the_block_size(tmp_path, block):
    """The count streams the file in blocks: a line end split across two blocks is counted once."""
    import re

    from creditmodel.data.io import BlankLines

    for text in ("a,b\n1,x\n\n2,y\n\n\n3,z\n", "a\r\n1\r\n\r\n2\r\n\r\n", "a\n1\n2\n", "a,b\n1,x\n\n"):
        p = tmp_path / "t.csv"
        p.write_bytes(text.encode())
        ends = [m.start() for m in re.finditer(rb"\n(?=\r?\n)", text.encode())]
        got = BlankLines(p, block=block)
        assert got.count == len(ends) and got.first == (text[:ends[0]].count("\n") + 2 if ends else None), text


def test_training_ids_compare_a_uscc_however_it_is_spelt():
    from creditmodel.data.io import check_ids
    from creditmodel.errors import InputError

    code = "91350100M000100Y43"
    with pytest.raises(InputError, match="repeats row 1") as e:
        check_ids(pd.Series([code, "91110000600037341L", code.lower()]), "f.csv", "uscc")
    assert e.value.row == 3 and e.value.column == "uscc"
    check_ids(pd.Series(["a1", "A1"]), "f.csv", "loan_id")           # other ids keep their spelling


def test_a_typo_in_a_measurement_with_many_values_names_the_row(caplog):
    """A contract auditor's finding: an income with 500 distinct values and one 'n/a' was set aside as
    identifier-like (training went on without it, no warning); the README promises exit 2 naming the row. Codes with
    a digit in their odd cell (an account 'X600', a postcode '95123-4421') are still set aside, with a warning."""
    from creditmodel.scoring.train import candidate_features

    rng = np.random.default_rng(1)
    n = 600
    income = rng.integers(20_000, 90_000, n).astype(object)
    for odd, row in (("n/a", 7), ("52,000", 9), ("$52000", 9), ("52000元", 3), ("￥52000", 4), ("5.2万", 5),
                     ("52，000", 6)):   # the last four: a Chinese bank's forms (reviewer's finding)
        df = pd.DataFrame({"income": income.copy()})
        df.loc[row, "income"] = odd
        with pytest.raises(InputError) as e:
            candidate_features(df, [], file="loans.csv")
        assert (e.value.column, e.value.row) == ("income", row + 1) and odd in str(e.value)
    decimals = pd.DataFrame({"ratio": np.round(rng.random(n) * 40, 3).astype(object)})
    decimals.loc[2, "ratio"] = "X12"  # even with a digit: the numbers are not whole, so it is a measurement
    with pytest.raises(InputError):
        candidate_features(decimals, [])
    codes = pd.DataFrame({"account_no": [str(100000 + i) if i % 100 else f"X{i}" for i in range(n)]})
    with caplog.at_level("WARNING", logger="creditmodel"):
        feats, dropped = candidate_features(codes, [])
    assert feats == [] and "identifier-like" in dropped["account_no"]
    assert any("account_no" in r.getMessage() and "set aside" in r.getMessage() for r in caplog.records)


def test_a_measurement_written_with_formatting_throughout_names_the_row():
    """A fuzzer's finding: an amount column written as '1,169' in every cell (a spreadsheet's number format) was set
    aside as identifier-like without a word; it is refused naming a formatted cell. Plain codes, space-grouped codes
    and a few formatted categories are not."""
    from creditmodel.scoring.train import candidate_features

    rng = np.random.default_rng(2)
    n = 300
    amounts = rng.integers(1_000, 900_000, n)
    for cells in ([f"{a:,}" for a in amounts], [f"￥{a:,}.00" for a in amounts], [f"{a / 1e4:.2f}万" for a in amounts]):
        df = pd.DataFrame({"amount": cells})
        df.loc[0, "amount"] = "12"   # plain numbers below 1,000 have no comma: the first marked cell is named
        with pytest.raises(InputError) as e:
            candidate_features(df, [], file="loans.csv")
        assert e.value.column == "amount" and e.value.row == 2 and "numbers written with formatting" in str(e.value)
        assert cells[1] in str(e.value)
    ok = pd.DataFrame({"account": [f"{100 + i} {456 + i}" for i in range(n)],      # space-grouped: maybe codes
                       "band": rng.choice(["1,000-5,000", "5,000+", "<1,000"], n),  # few values: a category
                       "rate": rng.choice([f"{r}%" for r in range(5)], n)})          # five values: a category
    feats, dropped = candidate_features(ok, [])
    assert "band" in feats and "rate" in feats and "identifier-like" in dropped["account"]


@pytest.mark.parametrize("argv, where", [
    (["generate", "--firms", "200", "--out", "{file}"], "exists as a file where a folder is needed"),
    (["generate", "--firms", "200", "--out", "{file}/sub"], "has a file where a folder is needed"),
    (["price", "--scores", "{scores}", "--out", "{file}/priced.csv"], "exists as a file where a folder is needed"),
])
def test_a_bad_out_path_is_bad_input(tmp_path, monkeypatch, capsys, argv, where):
    """A contract auditor's finding: an --out naming an existing file as a folder (or passing through one) ended
    with exit 1 and a bare OS error; it is bad input: exit 2 naming the path."""
    from creditmodel import cli

    (tmp_path / "afile").write_text("x")
    (tmp_path / "s.csv").write_text("pd_12m\n0.01\n", encoding="utf-8")
    args = [a.format(file=tmp_path / "afile", scores=tmp_path / "s.csv") for a in argv]
    monkeypatch.setattr(sys, "argv", ["creditmodel", "-q", *args])
    with pytest.raises(SystemExit) as e:
        cli.main()
    err = capsys.readouterr().err
    assert e.value.code == 2 and where in err and str(tmp_path / "afile") in err, err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc file system (Linux only)")
def test_an_out_path_that_cannot_be_created_is_bad_input(tmp_path, monkeypatch, capsys):
    """`generate --out /proc/x` ended with exit 1 and a bare FileNotFoundError (a reviewer's finding)."""
    from creditmodel import cli

    target = f"/proc/{tmp_path.name}"
    monkeypatch.setattr(sys, "argv", ["creditmodel", "-q", "generate", "--firms", "10", "--out", target])
    with pytest.raises(SystemExit) as e:
        cli.main()
    err = capsys.readouterr().err
    assert e.value.code == 2 and f"{target}: does not exist, or cannot be created there" in err, err


def test_model_folder_scoring_checks_uscc_and_as_of_date(trained, tmp_path):
    """A contract auditor's finding: scoring from a model folder passed an invalid unified social credit code and
    an unreadable as_of_date through as status ok (the registry's deliverable makes them row errors)."""
    from creditmodel.data import uscc

    df = _frame(20, seed=21).drop(columns="bad")
    df["uscc"] = list(uscc.generate("330205", 20, np.random.default_rng(0)))
    df["as_of_date"] = "2025-12-31"
    df.loc[2, "uscc"] = df.loc[2, "uscc"][:-1] + ("0" if df.loc[2, "uscc"][-1] != "0" else "1")  # bad check digit
    df.loc[4, "as_of_date"] = "31/12/2025x"
    df.to_csv(tmp_path / "apps.csv", index=False)
    score_file(trained / "model_out", tmp_path / "apps.csv", tmp_path / "s.csv", progress=False)
    got = pd.read_csv(tmp_path / "s.csv", dtype=str)
    assert len(got) == 20 and got["uscc"].tolist() == df["uscc"].tolist()
    assert got.loc[2, "status"] == "error" and "column 'uscc'" in got.loc[2, "error"] and pd.isna(got.loc[2, "pd_12m"])
    assert got.loc[4, "status"] == "error" and "column 'as_of_date'" in got.loc[4, "error"]
    assert (got.drop(index=[2, 4])["status"] == "ok").all()


def test_spark_scoring_keeps_stderr_to_our_own_lines(trained, tmp_path):
    """A contract auditor's finding: `score --engine spark` printed Spark's log4j profile, "Setting default log
    level", a NativeCodeLoader warning, stage progress bars, MLflow's env_manager advice and four pandas-3
    FutureWarnings into the command's stderr."""
    pytest.importorskip("pyspark.sql.functions")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("the Spark engine needs Java")
    _frame(300, seed=13).drop(columns="bad").to_csv(tmp_path / "apps.csv", index=False)
    r = _cli_process("-q", "score", "--model", str(trained / "model_out"), "--data", str(tmp_path / "apps.csv"),
                     "--out", str(tmp_path / "s.csv"), "--id", "loan_id", "--engine", "spark")
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(tmp_path / "s.csv")) == 300
    for noise in ("FutureWarning", "Setting default log level", "log4j", "NativeCodeLoader", "env_manager",
                  "[Stage "):
        assert noise not in r.stderr, r.stderr


def test_spark_reads_categories_as_text_and_keeps_order_across_partitions(tmp_path):
    """A reviewer's finding: the Spark engine read a CSV category '01' as the number 1 (486 of 500 rows were row
    errors where in-process scoring had none) and a model folder's loan_id '000001' as 1; and its global sort
    scored every row twice. Checked on a file split into several partitions: same values, same order."""
    pytest.importorskip("pyspark.sql.functions")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("the Spark engine needs Java")
    from creditmodel.scoring.score import resolve_model
    from creditmodel.scoring.spark import score_file_spark, spark_session

    rng = np.random.default_rng(5)
    n = 3000
    region = rng.choice([f"{i:02d}" for i in range(1, 10)], n)
    x = rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-2 + x + 0.4 * (region == "07"))))).astype(int)
    df = pd.DataFrame({"loan_id": [f"{i:06d}" for i in range(n)], "region": region, "x": x, "bad": y})
    res = train_frame(df, "bad", id_col="loan_id", seed=1)
    assert "region" in res.model.input_spec.categorical
    from creditmodel.scoring.train import write_outputs

    folder = write_outputs(res, df, "bad", tmp_path / "m")["model"]
    df.drop(columns="bad").to_csv(tmp_path / "apps.csv", index=False)
    a = score_file(folder, tmp_path / "apps.csv", tmp_path / "a.csv", progress=False)
    spark = spark_session()
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16k")   # several input partitions
    try:
        assert spark.read.csv(str(tmp_path / "apps.csv"), header=True).rdd.getNumPartitions() > 1
        b = score_file_spark(resolve_model(folder), tmp_path / "apps.csv", tmp_path / "b.csv", spark=spark)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert a.rows == b.rows == n and a.rows_ok == b.rows_ok == n
    got_a = pd.read_csv(tmp_path / "a.csv", dtype=str).drop(columns="scored_at")
    got_b = pd.read_csv(tmp_path / "b.csv", dtype=str).drop(columns="scored_at")
    pd.testing.assert_frame_equal(got_a, got_b)
    assert got_b["loan_id"].iloc[1] == "000001"


def test_a_bz2_csv_is_read_as_the_plain_csv(trained, tmp_path):
    """A fuzzer's finding: a .csv.bz2 (an accepted suffix) skipped the scoring reader, so ids lost their leading
    zeros (duplicate id '2.0') and code categories became numbers."""
    import bz2

    df = _frame(50, seed=14).drop(columns="bad")
    df.to_csv(tmp_path / "a.csv", index=False)
    (tmp_path / "a.csv.bz2").write_bytes(bz2.compress((tmp_path / "a.csv").read_bytes()))
    score_file(trained / "model_out", tmp_path / "a.csv", tmp_path / "plain.csv", id_col="loan_id", progress=False)
    score_file(trained / "model_out", tmp_path / "a.csv.bz2", tmp_path / "bz.csv", id_col="loan_id", progress=False)
    a = pd.read_csv(tmp_path / "plain.csv", dtype=str).drop(columns=["scored_at", "data_sha256"])
    b = pd.read_csv(tmp_path / "bz.csv", dtype=str).drop(columns=["scored_at", "data_sha256"])
    pd.testing.assert_frame_equal(a, b)
    assert b["loan_id"].iloc[1] == "000001" and (b["status"] == "ok").all()


def test_an_os_error_on_an_internal_path_is_not_blamed_on_the_input():
    """A reviewer's finding: every PermissionError/FileExistsError became exit 2 with an --out hint, even on a path
    the user never gave (the store, a temporary folder)."""
    from creditmodel.cli import _names_a_given_path

    args = ["score", "--data", "in.csv", "--out", "out/scores.csv"]
    assert _names_a_given_path(NotADirectoryError(20, "Not a directory", "out/scores.csv"), args)
    assert _names_a_given_path(PermissionError(13, "Permission denied", "out/scores.csv.partial"), args)
    assert _names_a_given_path(FileExistsError(17, "File exists", "out"), ["generate", "--out", "out"])
    assert _names_a_given_path(IsADirectoryError(21, "Is a directory", "out/sub/x"), ["run", "--out=out"])
    assert not _names_a_given_path(PermissionError(13, "Permission denied", "/var/lib/mlflow/mlflow.db"), args)


def test_train_reads_the_id_as_written(tmp_path):
    """A fuzzer's finding: train read a zero-padded id column as numbers, so '00001' and '1' were refused as the
    same id (score treats them as two) and test_sample.parquet stored 5 for '00005'."""
    df = _frame(600, seed=15)
    df.loc[599, "loan_id"] = "1"
    df.to_csv(tmp_path / "t.csv", index=False)
    train_file(tmp_path / "t.csv", "bad", tmp_path / "m", id_col="loan_id", seed=3)
    sample = pd.read_parquet(tmp_path / "m" / "test_sample.parquet")
    assert sample["loan_id"].map(type).eq(str).all() and sample["loan_id"].str.len().isin([1, 6]).all()


@pytest.mark.parametrize("block", [3, 7, 1 << 24])
def test_empty_lines_are_counted_in_every_line_ending_and_compression(tmp_path, block):
    """A fuzzer's findings: empty lines of CR-only ("CSV (Macintosh)") and compressed files were skipped without a
    word, and an empty line inside a quoted cell was reported as skipped. Counted the same whatever the block
    size (the carry across blocks)."""
    import bz2
    import gzip

    from creditmodel.data.io import BlankLines

    cases = {"lf.csv": (b"a,b\n1,2\n\n3,4\n\n", 2, 3), "crlf.csv": (b"a,b\r\n1,2\r\n\r\n3,4\r\n", 1, 3),
             "cr.csv": (b"a,b\r1,2\r\r3,4\r\r", 2, 3), "quoted.csv": (b'a,b\n1,"x\n\ny"\n3,4\n', 0, None),
             "both.csv": (b'a,b\n1,"say ""hi""\n\nok"\n\n3,4\n', 1, 5)}
    for name, (data, count, first) in cases.items():
        (tmp_path / name).write_bytes(data)
        got = BlankLines(tmp_path / name, block=block)
        assert (got.count, got.first) == (count, first), name
    (tmp_path / "lf.csv.gz").write_bytes(gzip.compress(cases["lf.csv"][0]))
    (tmp_path / "lf.csv.bz2").write_bytes(bz2.compress(cases["lf.csv"][0]))
    for name in ("lf.csv.gz", "lf.csv.bz2"):
        got = BlankLines(tmp_path / name, block=block)
        assert (got.count, got.first) == (2, 3), name


def test_a_long_cell_near_the_top_does_not_refuse_the_file(trained, tmp_path):
    """A fuzzer's finding: a cell over 1 MiB in data rows 2-5 made the 5-row header check guess a type from the
    rows above (all blank in a number column) and refuse the whole valid file, naming neither column nor row."""
    df = _frame(10, seed=16).drop(columns="bad")
    df["income"] = df["income"].astype(object)
    df.loc[0, "income"] = None
    df["note"] = ""
    df.loc[1, "note"] = "y" * 1_100_000
    df.to_csv(tmp_path / "long.csv", index=False)
    res = score_file(trained / "model_out", tmp_path / "long.csv", tmp_path / "o.csv", progress=False)
    assert res.rows == 10


def test_a_semicolon_file_that_fails_to_read_names_the_separator(tmp_path):
    """A fuzzer's finding: a ';'-separated file with decimal commas failed with "row 1: Expected 1 columns, got 9",
    saying nothing of the separator."""
    from creditmodel.data.io import read_table

    p = tmp_path / "semi.csv"
    p.write_text("income;age;debt_ratio\n1,5;40;0,2\n2,5;41;0,3\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_table(p)
    assert "';'- or tab-separated" in str(e.value) and e.value.row is not None


def test_trailing_unnamed_columns_are_named_as_such(tmp_path):
    """A fuzzer's finding: two trailing empty header cells (an Excel export) gave "column '': column name(s) ['']
    appear more than once"."""
    from creditmodel.data.io import read_table

    p = tmp_path / "x.csv"
    p.write_text("a,b,,\n1,2,,\n3,4,,\n", encoding="utf-8")
    with pytest.raises(InputError, match="2 columns have no name") as e:
        read_table(p)
    assert e.value.column is None and "x.csv" in str(e.value)


def test_train_categorical_bins_digit_codes_as_categories(tmp_path):
    """A CSV column of codes (01 .. 05) was read as numbers and binned as ranges; ``--categorical`` keeps the codes
    as written, and score reads them the same way."""
    df = _frame(1500, seed=8)
    rng = np.random.default_rng(8)
    df["region"] = rng.choice(["01", "02", "03", "04", "05"], len(df))
    df.loc[df["region"] == "03", "bad"] = (rng.uniform(size=int((df["region"] == "03").sum())) < 0.5).astype(int)
    df.loc[5, "region"] = None                                   # an empty cell stays missing
    src = tmp_path / "train.csv"
    df.to_csv(src, index=False)
    plain = train_file(src, "bad", tmp_path / "plain", id_col="loan_id")
    assert "region" in plain.model.input_spec.numeric            # without the option: a number column
    r = _cli("train", "--data", str(src), "--target", "bad", "--id", "loan_id", "--categorical", "region,industry",
             "--out", str(tmp_path / "cat"))
    assert r.returncode == 0, r.stderr
    import mlflow.pyfunc

    meta = mlflow.pyfunc.load_model(str(tmp_path / "cat" / "model")).metadata.metadata
    assert "region" in meta["creditmodel_categorical"] and "region" not in meta["creditmodel_numeric"]
    new = df.drop(columns="bad").iloc[:40].copy()
    new.loc[7, "region"] = "3"                                    # not a code of the training file
    new.to_csv(tmp_path / "new.csv", index=False)
    score_file(tmp_path / "cat", tmp_path / "new.csv", tmp_path / "s.csv", progress=False)
    got = pd.read_csv(tmp_path / "s.csv")
    assert len(got) == 40 and got.loc[7, "status"] == "error" and "'3' was not seen" in got.loc[7, "error"]
    assert (got.drop(index=7)["status"] == "ok").all()
    pt = pd.read_csv(tmp_path / "cat" / "points_table.csv", dtype=str)   # the card lists the codes as written
    assert set(pt.loc[pt["feature"] == "region", "categories"].dropna()) == {'["01"]', '["02"]', '["03"]', '["04"]',
                                                                           '["05"]'}
    # refusals name the column: not in the file, the target, a Parquet number column
    for args, want in ((["--categorical", "regoin"], "column 'regoin'"), (["--categorical", "bad"], "target"),):
        r = _cli("train", "--data", str(src), "--target", "bad", *args, "--out", str(tmp_path / "x"))
        assert r.returncode == 2 and want in r.stderr, r.stderr
    df.assign(region=df["region"].astype(float)).to_parquet(tmp_path / "t.parquet", index=False)
    with pytest.raises(InputError, match="store the codes as text") as e:
        train_file(tmp_path / "t.parquet", "bad", tmp_path / "x", categorical=["region"])
    assert e.value.column == "region" and e.value.file is not None


def test_train_reads_a_decimal_parquet_column_as_numbers(tmp_path):
    """A Parquet decimal128 amount (a database NUMERIC) came back as Decimal objects and was set aside as
    'text with N distinct values (identifier-like)'."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from decimal import Decimal

    df = _frame(1500, seed=9)
    tbl = pa.Table.from_pandas(df, preserve_index=False)
    dec = pa.array([Decimal(f"{v:.2f}") for v in df["income"]], type=pa.decimal128(12, 2))
    tbl = tbl.set_column(tbl.schema.get_field_index("income"), "income", dec)
    pq.write_table(tbl, tmp_path / "t.parquet")
    res = train_file(tmp_path / "t.parquet", "bad", tmp_path / "m", id_col="loan_id")
    assert "income" not in res.dropped and "income" in res.model.input_spec.numeric
    score_file(tmp_path / "m", tmp_path / "t.parquet", tmp_path / "s.csv", progress=False)
    out = pd.read_csv(tmp_path / "s.csv")
    assert len(out) == len(df) and (out["status"] == "ok").all()


def test_a_named_categorical_column_may_hold_many_codes(tmp_path):
    """train --categorical county with 300 county codes set the column aside as 'identifier-like' (over 200
    values), with only a line in the summary."""
    df = _frame(3000, seed=10)
    rng = np.random.default_rng(10)
    df["county"] = [str(110101 + k) for k in rng.integers(0, 300, len(df))]
    df.to_csv(tmp_path / "t.csv", index=False)
    plain = train_file(tmp_path / "t.csv", "bad", tmp_path / "a", id_col="loan_id")
    assert "county" in plain.model.input_spec.numeric            # digits: a number column unless named
    named = train_file(tmp_path / "t.csv", "bad", tmp_path / "b", id_col="loan_id", categorical=["county"])
    assert "county" not in named.dropped and len(named.model.input_spec.categorical["county"]) > 200
    from creditmodel.scoring.train import train_frame

    mem = train_frame(df.assign(county=df["county"].astype(int)), "bad", id_col="loan_id", categorical=["county"])
    assert "county" in mem.model.input_spec.categorical and "county" not in mem.model.input_spec.numeric


def test_validate_names_a_missing_model_column(trained, tmp_path):
    """The served model raises MLflow's exception for a batch without a column it needs (REST answers 400 with the
    reason); validate still says which file and column, exit 2."""
    src = tmp_path / "v.csv"
    _frame(400, seed=11).drop(columns="income").to_csv(src, index=False)
    r = _cli("validate", "--model", str(trained / "model_out"), "--data", str(src), "--target", "bad", "--n-boot",
             "50", "--out", str(tmp_path / "v"))
    assert r.returncode == 2 and "income" in r.stderr and "scoring with the" in r.stderr and "v.csv" in r.stderr, \
        r.stderr


def test_validate_on_a_model_folder_says_when_the_sample_holds_its_training_rows(trained, tmp_path):
    """train -> validate on the training file reported an optimistic AUC without a word; the train folder now
    records its fitted rows' ids (fitted_ids.parquet) and validate says how many of the sample's rows they are."""
    folder = trained / "model_out"
    assert (folder / "fitted_ids.parquet").is_file()
    r = _cli("validate", "--model", str(folder), "--data", str(trained / "train.csv"), "--target", "bad",
             "--n-boot", "50", "--out", str(tmp_path / "v"))
    assert r.returncode in (0, 1), r.stderr
    m = json.loads((tmp_path / "v" / "metrics.json").read_text())
    test_ids = set(pd.read_parquet(folder / "test_sample.parquet")["loan_id"])
    k = 1200 - len(test_ids)
    assert any(n.startswith(f"{k:,} of the 1,200 validated rows") and "fitted_ids.parquet" in n for n in m["notes"])
    r = _cli("validate", "--model", str(folder), "--data", str(folder / "test_sample.parquet"), "--target", "bad",
             "--n-boot", "50", "--out", str(tmp_path / "w"))
    assert not any("fitted on" in n for n in json.loads((tmp_path / "w" / "metrics.json").read_text()).get("notes", []))


def test_a_pq_file_is_parquet_for_the_pandas_engine_too(tmp_path):
    """A 0-row .pq ended in FileNotFoundError (exit 1) where a 0-row .parquet is 'no data rows' (exit 2); a .pq with
    rows scores as its .parquet twin."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from creditmodel.scoring.score import iter_chunks

    df = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]})
    df.to_parquet(tmp_path / "t.pq", index=False)
    got = pd.concat(list(iter_chunks(tmp_path / "t.pq", 10)))
    assert got["x"].tolist() == [1.0, 2.0] and got["c"].tolist() == ["a", "b"]
    pq.write_table(pa.table({"x": pa.array([], pa.float64())}), tmp_path / "e.pq")
    with pytest.raises(InputError, match="no data rows"):
        list(iter_chunks(tmp_path / "e.pq", 10))
