"""Delivery paths: REST (mlflow models serve) and Spark scoring give the in-process scores."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditmodel.scoring.model import SCORE_COLUMNS
from creditmodel.scoring.train import train_frame

pytestmark = pytest.mark.slow


def _frame(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    cat = rng.choice(["a", "b", "c"], size=n)
    logit = -2.0 + 1.2 * x1 + np.where(cat == "a", 0.7, 0.0)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    x2 = rng.uniform(0, 5, size=n)
    x2[::17] = np.nan
    from creditmodel.data import uscc

    codes = uscc.generate("330205", n, np.random.default_rng(seed))  # valid codes: the deliverable checks them
    return pd.DataFrame({"uscc": codes, "x1": x1, "x2": x2, "kind": cat, "bad": y})


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A scorecard registered as district-style champion in a fresh SQLite store."""
    import mlflow

    from creditmodel import registry, tracking
    from creditmodel.scoring.pyfunc import log_model

    out = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{out / 'mlflow.db'}"
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    try:
        tracking.configure(out)
        df = _frame()
        res = train_frame(df, "bad", id_col="uscc", seed=1)
        with mlflow.start_run(experiment_id=tracking.experiment_id("serving_test", out)):
            info = log_model(res.model, registered_model_name="serving_pd", name="model")
        registry.set_alias("serving_pd", "champion", info.registered_model_version)
        yield {"uri": uri, "out": out, "model": res.model, "df": df.drop(columns="bad")}
    finally:
        if old is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old


def _values(s: pd.Series) -> list:
    """Column values with every kind of missing (None, NaN, pd.NA) as None."""
    return s.astype(object).where(s.notna(), None).tolist()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_group(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the server's process group, wait until every member is gone, SIGKILL what is left."""
    pgid = proc.pid  # start_new_session=True: the server leads its own group
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.time() + grace
    while time.time() < deadline:
        proc.poll()  # reap the leader so it does not linger as a zombie member
        if not _group_alive(pgid):
            break
        time.sleep(0.2)
    else:
        os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=10)
        time.sleep(0.5)
    proc.wait(timeout=10)


def test_rest_serving_returns_the_deliverable_columns(registered):
    from creditmodel.scoring.pyfunc import to_plain_types

    port = _free_port()
    venv_bin = str(Path(sys.executable).parent)  # mlflow starts uvicorn from PATH
    env = {**os.environ, "MLFLOW_TRACKING_URI": registered["uri"], "MLFLOW_DISABLE_TELEMETRY": "true",
           "PATH": venv_bin + os.pathsep + os.environ.get("PATH", "")}
    mlflow_bin = str(Path(venv_bin) / "mlflow")
    proc = subprocess.Popen([mlflow_bin, "models", "serve", "-m", "models:/serving_pd@champion", "--env-manager",
                             "local", "-h", "127.0.0.1", "-p", str(port), "--workers", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"server did not start (rc={proc.poll()}):\n{out[-3000:]}")
            time.sleep(0.5)
        df = registered["df"].iloc[:40].copy().reset_index(drop=True)
        df.loc[df.index[5], "kind"] = "never-seen"
        df["in_default"] = 0
        df.loc[2, "in_default"] = 1               # a firm already in default: grade D, PD 1 over REST too
        payload = json.loads(df.to_json(orient="split", index=False))
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations",
                                     data=json.dumps({"dataframe_split": payload}).encode(),
                                     headers={"Content-Type": "application/json"})
        def not_json(token):  # Python's json reads NaN and Infinity; a bank's parser (JavaScript, Java) does not
            raise AssertionError(f"the answer holds {token}, which is not JSON")

        with urllib.request.urlopen(req, timeout=60) as r:
            body = json.loads(r.read(), parse_constant=not_json)
        got = pd.DataFrame(body["predictions"])
        assert body["predictions"][5]["score"] is None and body["predictions"][5]["pd_12m"] is None   # null
        want = to_plain_types(registered["model"].score_frame(df)).reset_index(drop=True)
        assert list(got.columns) == SCORE_COLUMNS
        assert got.loc[2, "grade"] == "D" and got.loc[2, "pd_12m"] == 1.0 and want.loc[2, "grade"] != "D"
        assert got.loc[2, "score"] == want.loc[2, "score"]      # the model's score stands
        want.loc[2, ["grade", "pd_12m"]] = ["D", 1.0]
        assert got["status"].tolist() == want["status"].tolist()
        assert got.loc[5, "status"] == "error" and "never-seen" in got.loc[5, "error"]
        ok = want["status"] == "ok"
        assert np.array_equal(got.loc[ok, "score"].astype(float), want.loc[ok, "score"].astype(float))
        assert np.allclose(got.loc[ok, "pd_12m"].astype(float), want.loc[ok, "pd_12m"], rtol=0, atol=1e-15)
        for c in ("grade", "reason_1", "reason_2", "reason_3"):
            assert _values(got.loc[ok, c]) == _values(want.loc[ok, c]), c
        # a batch without a column the model needs: 400 with the reason (it was 'Encountered an unexpected error
        # while evaluating the model', the reason at the end of a stack trace)
        short = json.loads(df.drop(columns="kind").to_json(orient="split", index=False))
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations",
                                     data=json.dumps({"dataframe_split": short}).encode(),
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=60)
        assert err.value.code == 400
        assert "missing column(s) the model needs: ['kind']" in json.loads(err.value.read())["message"]
    finally:
        _stop_group(proc)
    with pytest.raises(OSError):  # the port is free again: nothing left listening
        urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)


@pytest.mark.spark
def test_spark_scores_equal_in_process(registered, tmp_path):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: the project's setup installs openjdk-17-jre-headless for this test")
    from creditmodel.scoring.score import score_file

    df = registered["df"].copy()
    df.loc[3, "x1"] = np.inf
    df.loc[5, ["x1", "x2", "kind"]] = np.nan  # every model column empty: an error row in both engines
    df.loc[[9, 11], "x2"] = [1e9, -1e9]         # outside the training range: counted alike in both sidecars
    # pandas writes nanosecond timestamps, which Spark cannot read natively: the engine must bring them back
    df["as_of_date"] = (pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(len(df)), unit="D")).astype(
        "datetime64[ns]")
    # pricing inputs and a known public credit grade reach the deliverable in both engines
    df["collateral"] = np.resize(["none", "property", "guarantee", "gold"], len(df))   # gold: unknown, not priced
    df["amount"] = np.resize([300_000.0, 800_000.0, -5.0], len(df))                   # negative: not priced
    df["maturity"] = np.resize([1.0, np.nan, 3.0, 2.0, 1.0], len(df))                   # years; empty: 2.5
    df["public_credit_grade"] = np.resize(["A", "B", None], len(df))
    df["in_default"] = np.resize([0.0, 1.0, 0.0, np.nan, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0], len(df))  # 2: error
    df["uscc"] = df["uscc"].astype(object)
    good = df.loc[7, "uscc"]
    df.loc[7, "uscc"] = good[:-1] + ("0" if good[-1] != "0" else "1")   # a wrong check character: an error row
    src = tmp_path / "apps.parquet"
    df.to_parquet(src, index=False)
    a = score_file("models:/serving_pd@champion", src, tmp_path / "inproc.parquet", id_col="uscc", progress=False)
    b = score_file("models:/serving_pd@champion", src, tmp_path / "spark.parquet", id_col="uscc", engine="spark")
    assert a.rows == b.rows == len(df)
    x = pd.read_parquet(tmp_path / "inproc.parquet")
    y = pd.read_parquet(tmp_path / "spark.parquet")
    assert y["uscc"].tolist() == df["uscc"].tolist()          # input order kept
    assert pq.read_schema(src).field("as_of_date").type == pa.timestamp("ns")
    for got in (x, y):
        assert pd.to_datetime(got["as_of_date"]).tolist() == df["as_of_date"].tolist()
    # both engines write the whole priced deliverable (Spark wrote the scoring columns only): same columns, values,
    # sidecar counts; a row above the rate cap says so in its error in both
    assert list(y.columns) == list(x.columns)
    unpriced = x["error"].str.startswith("not priced: ", na=False)
    assert unpriced.any() and x.loc[unpriced, "suggested_rate"].isna().all()
    assert x["suggested_rate"].notna().sum() > 300
    for c in x.columns:
        if c != "scored_at":
            assert _values(x[c]) == _values(y[c]), c
    assert y.loc[3, "status"] == "error"
    assert y.loc[5, "status"] == "error" and "every column the model uses is empty" in y.loc[5, "error"]
    assert y.loc[7, "status"] == "error" and "uscc" in y.loc[7, "error"]
    assert y["error"].str.contains("unknown collateral gold", na=False).any()
    assert y["public_credit_grade"].notna().sum() == df["public_credit_grade"].notna().sum()
    flagged = (df["in_default"] == 1).to_numpy() & (y["status"] == "ok").to_numpy()
    assert flagged.sum() > 20 and (y.loc[flagged, "grade"] == "D").all() and (y.loc[flagged, "pd_12m"] == 1).all()
    assert y.loc[(df["in_default"] == 2).to_numpy(), "error"].str.contains("in_default").all()
    assert (y["grade"] == "D").sum() == flagged.sum()
    side = [json.loads(f.read_text(encoding="utf-8")) for f in (tmp_path / "inproc.columns.json",
                                                                 tmp_path / "spark.columns.json")]
    assert [(d["rows"], d["rows_ok"], d["rows_ok_not_priced"], d["rows_in_default"]) for d in side] == \
        [(a.rows, a.rows_ok, int(unpriced.sum()), int(flagged.sum()))] * 2
    # the loan terms read in both engines: the rows whose capital was computed without a maturity, counted alike
    terms = [d["pricing_default_terms"] for d in side]
    assert terms[0] == terms[1] and 0 < terms[0]["rows_without_maturity"] < terms[0]["rows_with_capital"]
    assert terms[0]["rows_without_collateral"] == 0
    # rows outside the training range, counted alike; not the rows refused (row 3's inf, row 11's in_default 2)
    outside = side[0]["outside_training_range"]
    assert outside["x2"]["above"] == 1 and "x1" not in outside
    assert [(d["rows_outside_training_range"], d["outside_training_range"]) for d in side[1:]] == \
        [(side[0]["rows_outside_training_range"], side[0]["outside_training_range"])]
    assert (tmp_path / "spark.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    # the same model card: it named the model's fingerprint as its version under Spark (reviewer's finding)
    card = (tmp_path / "spark.model_card.md").read_text(encoding="utf-8")
    assert card == (tmp_path / "inproc.model_card.md").read_text(encoding="utf-8")
    assert f"version {y['model_version'].iloc[0]}" in card


def test_deliverable_keeps_the_id_and_flags_bad_identifiers(registered, tmp_path):
    """`score --model models:/NAME@ALIAS --id COL` carries the id and refuses rows whose code or date is unusable."""
    from creditmodel.scoring.score import score_file

    df = registered["df"].head(40).copy().reset_index(drop=True)
    df.insert(0, "loan_id", [f"{i:07d}" for i in range(len(df))])
    df["as_of_date"] = "2025-06-30"
    df["uscc"] = df["uscc"].astype(object)
    good = df.loc[1, "uscc"]
    df.loc[1, "uscc"] = good[:-1] + ("0" if good[-1] != "0" else "1")   # wrong check character
    df.loc[2, "as_of_date"] = "2025-13-45"
    df.loc[3, "loan_id"] = df.loc[0, "loan_id"]
    df.loc[4, "uscc"] = None        # an empty code stays empty: the row is identified by its loan_id
    df.loc[5, "as_of_date"] = "2025/06/30"  # read by one parser for the check and the column
    df["collateral"] = "none"
    df.loc[6, "collateral"] = "gold"      # scored, but pricing has no LGD for it: the error says why no rate
    src = tmp_path / "apps.csv"
    df.to_csv(src, index=False)
    res = score_file("models:/serving_pd@champion", src, tmp_path / "deliv.parquet", id_col="loan_id", progress=False)
    got = pd.read_parquet(res.files["parquet"])
    assert got.columns[-1] == "loan_id" and got.columns[0] == "uscc"  # appended: the contract's positions stay
    assert got["loan_id"].tolist()[:3] == ["0000000", "0000001", "0000002"]
    assert got.loc[1, "status"] == "error" and "uscc" in got.loc[1, "error"]
    assert got.loc[2, "status"] == "error" and "as_of_date" in got.loc[2, "error"]
    assert got.loc[3, "status"] == "error" and "duplicate id" in got.loc[3, "error"]
    assert got.loc[[1, 2, 3], ["score", "pd_12m", "suggested_rate"]].isna().all().all()
    assert (got.drop(index=[1, 2, 3])["status"] == "ok").all() and len(got) == len(df)
    assert pd.isna(got.loc[4, "uscc"]) and str(got.loc[5, "as_of_date"]) == "2025-06-30"
    from creditmodel.scoring.score import resolve_model

    latest = resolve_model("models:/serving_pd/latest")  # MLflow's own alias for the newest version
    assert latest.version == res.model_version and latest.uri == f"models:/serving_pd/{res.model_version}"
    side = json.loads(res.files["sidecar"].read_text(encoding="utf-8"))
    assert side["columns"][-1]["name"] == "loan_id" and side["rows_error"] == 3
    assert got.loc[6, "status"] == "ok" and got.loc[6, "error"] == "not priced: unknown collateral gold"
    assert pd.isna(got.loc[6, "suggested_rate"]) and side["rows_ok_not_priced"] == int(got["error"].str.startswith(
        "not priced", na=False).sum()) >= 1


def test_deliverable_warns_when_the_identifier_columns_are_missing(registered, tmp_path, caplog):
    """A bank user scored a file without `uscc` and `as_of_date` with the registered model: every row's
    identifiers came back empty, without a word."""
    import logging

    from creditmodel.scoring.score import score_file

    df = registered["df"].head(20).drop(columns=["uscc", "as_of_date"], errors="ignore")
    src = tmp_path / "anon.csv"
    df.to_csv(src, index=False)
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        res = score_file("models:/serving_pd@champion", src, tmp_path / "d.parquet", progress=False)
    got = pd.read_parquet(res.files["parquet"])
    assert got["uscc"].isna().all() and len(got) == 20
    assert ("has no 'uscc' or 'as_of_date' column: the deliverable's uscc and as_of_date are empty on every row"
            in caplog.text and "no --id column was given" in caplog.text)


def test_deliverable_records_its_pricing_and_carries_the_validation_report(registered, tmp_path):
    """A bank validator's findings: the sidecar said only 'PricingConfig' (not which rates priced the rows), did not
    say which rows took the SME firm-size adjustment, and gave the validation report as a path on our machine."""
    import mlflow

    from creditmodel import registry, tracking
    from creditmodel.pricing import irb_capital
    from creditmodel.scoring.pyfunc import log_model
    from creditmodel.scoring.score import score_file

    with mlflow.start_run(experiment_id=tracking.experiment_id("serving_test", registered["out"])) as run:
        info = log_model(registered["model"], registered_model_name="serving_pd_validated", name="model")
    version = info.registered_model_version
    registry.set_alias("serving_pd_validated", "champion", version)
    report = tmp_path / "validation" / "report.html"
    report.parent.mkdir()
    report.write_text("<html><body>out-of-time validation: green</body></html>", encoding="utf-8")
    registry.tag_version("serving_pd_validated", version, {
        "validation_status": "green", "validation_report": str(report), "validation_run_id": run.info.run_id,
        "validation_alias": "champion"})
    (tmp_path / "bank.yaml").write_text("hurdle_rate: 0.15\ncapital_ratio: 0.08\n", encoding="utf-8")
    df = registered["df"].head(40).copy()
    df["revenue"] = np.where(np.arange(40) % 2 == 0, 20e6, np.nan)   # 2.5 EUR m: the largest SME adjustment
    df.loc[2, "revenue"] = -20e6                                      # refused: the row is not priced, not counted
    df.loc[4, "revenue"] = 1e9                                        # EUR 125 m: sales known, no SME adjustment
    df["in_default"] = np.arange(40) == 0                             # grade D: no capital, not counted
    src = tmp_path / "apps.csv"
    df.to_csv(src, index=False)

    res = score_file("models:/serving_pd_validated@champion", src, tmp_path / "d.parquet", progress=False,
                     pricing_config=tmp_path / "bank.yaml")
    side = json.loads(res.files["sidecar"].read_text(encoding="utf-8"))
    got = pd.read_parquet(res.files["parquet"])
    assert side["pricing_config"]["source"] == "bank.yaml"
    assert side["pricing_config"]["values"]["hurdle_rate"] == 0.15
    assert side["pricing_config"]["values"]["capital_ratio"] == 0.08
    assert side["pricing_config"]["values"]["lpr_1y"] == 0.030          # a default the file left out
    ok = (got["status"] == "ok").to_numpy()
    sized = (df["revenue"] > 0).to_numpy() & (got["grade"] != "D").to_numpy()
    assert got.loc[0, "grade"] == "D" and got.loc[0, "capital_rate"] == 0.0
    assert side["pricing_firm_size"]["rows_with_sales"] == int((ok & sized).sum()) > 0
    assert side["pricing_firm_size"]["rows_sme_adjusted"] == int((ok & sized).sum()) - int(ok[4])
    assert ok[2] and np.isnan(got["capital_rate"].iloc[2]) and "negative sales or revenue" in got["error"].iloc[2]
    # the counted rows are the ones whose capital took the adjustment: 12.5 K(sales 2.5 EUR m) x 8 %
    pd_, cap = got["pd_12m"].to_numpy(dtype=float), got["capital_rate"].to_numpy(dtype=float)
    i, j = np.flatnonzero(ok & sized & (np.arange(40) != 4))[0], np.flatnonzero(ok & ~sized)[0]
    assert cap[i] == pytest.approx(12.5 * 0.08 * float(irb_capital(pd_[i], 0.40, 2.5, 2.5)), rel=1e-9)
    assert cap[j] == pytest.approx(12.5 * 0.08 * float(irb_capital(pd_[j], 0.40, 2.5)), rel=1e-9)
    # the report travels with the scores, by a name relative to them, and the run artifact is named
    assert side["validation_report"] == "d.validation_report.html"
    assert res.files["validation_report"] == tmp_path / "d.validation_report.html"
    assert res.files["validation_report"].read_bytes() == report.read_bytes()
    assert side["validation_report_artifact"] == f"runs:/{run.info.run_id}/validation/champion/report.html"
    card = res.files["model_card"].read_text(encoding="utf-8")
    assert "d.validation_report.html" in card and str(report) not in card
    # where the report is not on this machine, the sidecar says so and copies nothing
    report.unlink()
    res2 = score_file("models:/serving_pd_validated@champion", src, tmp_path / "e.parquet", progress=False)
    side2 = json.loads(res2.files["sidecar"].read_text(encoding="utf-8"))
    assert side2["validation_report"] == f"{report} (not on this machine)"
    assert "validation_report" not in res2.files and not (tmp_path / "e.validation_report.html").exists()
    assert side2["pricing_config"]["values"]["hurdle_rate"] == 0.12   # the project's default pricing


def test_the_deliverable_carries_the_points_table_and_sql(registered, tmp_path):
    """The README promises the model as a points table with SQL beside the scores; the deliverable folder held
    neither (they were only inside the MLflow store)."""
    import sqlite3

    from creditmodel.scoring.score import score_file

    df = registered["df"].head(60).copy()
    src = tmp_path / "apps.csv"
    df.to_csv(src, index=False)
    res = score_file("models:/serving_pd@champion", src, tmp_path / "d.parquet", progress=False)
    folder = res.files["model_files"]
    assert folder == tmp_path / "d.model_files"
    assert {"points_table.csv", "points_table.json", "scorecard.sql", "score_to_pd.csv"} <= {
        f.name for f in folder.iterdir()}
    got = pd.read_parquet(res.files["parquet"])
    feats = [c for c in registered["model"].input_spec.columns]
    con = sqlite3.connect(":memory:")
    df[feats].assign(_row=range(len(df))).to_sql("applicants", con, index=False)
    sql = (folder / "scorecard.sql").read_bytes().decode("utf-8")
    rows = pd.read_sql_query(sql, con)
    ok = (got["status"] == "ok").to_numpy()
    assert len(rows) == len(df) and ok.sum() > 0
    assert rows["score"].to_numpy()[ok].tolist() == got["score"].to_numpy()[ok].astype(int).tolist()
