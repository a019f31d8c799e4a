"""Exact values of the job runner, the MLflow tracking helpers and the command line (mutation-testing helper h152).

Each test pins one thing a user relies on: how ``-p KEY=VALUE`` is read and checked before the kernel starts, what a
job records in MLflow and under which names, where its files go, and the exit codes and option ranges of the
commands (DESIGN.md section 5: 0 success, 2 bad input naming the file / column / parameter, 1 anything else).
Expected values are written by hand from the contract (or computed with hashlib / json here); papermill is replaced
by a copy of the notebook, so no kernel starts.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from cli_in_process import run_in_process
from click.testing import CliRunner

from creditmodel import cli, jobs, tracking
from creditmodel.errors import ConfigError, InputError
from creditmodel.reference import PROJECT_ROOT
from test_jobs import _client

EXP = PROJECT_ROOT / "experiments"
STORE_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", tracking.ENV_OUT,
              tracking.ENV_LAB_OUT)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """No store variable from the caller, and no store remembered from another test (restored afterwards)."""
    for var in STORE_VARS:
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    monkeypatch.setattr(tracking, "_configured", {})


@pytest.fixture(scope="module")
def _empty_db(tmp_path_factory) -> Path:
    """An empty MLflow SQLite store, made once: creating one (its migrations) takes seconds, a copy none."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("store")
    MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}").search_experiments()
    return folder / "mlflow.db"


@pytest.fixture
def store(_empty_db):
    """``store(folder)``: the folder, holding a fresh copy of the empty store (as ``mlflow.db``)."""
    import shutil

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(_empty_db, folder / "mlflow.db")
        return folder

    return make


def _exp(name: str) -> jobs.Experiment:
    return jobs.load_experiment(EXP / f"{name}.yaml")


# --------------------------------------------------------------------------- experiment files
@pytest.mark.parametrize("body, key", [
    ("notebook: notebooks/mini.ipynb\nparameters:\n  seed: 1\n", "experiment"),
    ("notebook: notebooks/mini.ipynb\nexperiment: '  '\nparameters:\n  seed: 1\n", "experiment"),
    ("experiment: x\nparameters:\n  seed: 1\n", "notebook"),
    ("notebook: notebooks/mini.ipynb\nexperiment: x\nparameters:\n  seed: 1\ninputs: [data_dir]\n", "inputs"),
    ("notebook: notebooks/mini.ipynb\nexperiment: x\nparameters:\n  seed: 1\ngenerator: [firms]\n", "generator"),
    ("notebook: notebooks/mini.ipynb\nexperiment: x\nparameters:\n  seed: 1\nchoices:\n  seed: [2, 3]\n", "choices"),
    ("notebook: notebooks/mini.ipynb\nexperiment: x\nparameters:\n  seed: 1\nowner: me\n", "owner"),
    ("notebook: notebooks/none.ipynb\nexperiment: x\nparameters:\n  seed: 1\n", "notebook"),
])
def test_a_bad_experiment_file_is_refused_naming_the_key(tmp_path, body, key):
    exp = _mini_project(tmp_path / "proj")
    exp.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        jobs.load_experiment(exp)
    assert e.value.column == key and Path(e.value.file) == exp


def test_an_experiment_file_s_notebook_is_read_from_the_project_root(tmp_path):
    exp = _mini_project(tmp_path / "proj")
    got = jobs.load_experiment(exp)
    assert got.notebook == (tmp_path / "proj" / "notebooks" / "mini.ipynb").resolve()
    assert (got.name, got.experiment, got.inputs, got.generator) == ("mini", "mini_exp", ("data_dir",), ())
    assert got.parameters == {"seed": 1, "labels": ["b", "a"], "data_dir": "data", "out_dir": "files"}


# --------------------------------------------------------------------------- -p KEY=VALUE
def test_overrides_keep_an_equals_sign_in_the_value_and_read_empty_as_empty_text():
    assert jobs.parse_overrides(["model_name=a=b"]) == {"model_name": "a=b"}      # split at the first '=' only
    assert jobs.parse_overrides(["config="]) == {"config": ""}                    # not None (YAML's empty)
    assert jobs.parse_overrides(["config=  "]) == {"config": ""}


def test_a_date_parameter_must_be_written_with_dashes():
    """Python 3.11 reads 20240101 as a date too: the job takes YYYY-MM-DD only."""
    pce = _exp("public_credit_evaluation")
    with pytest.raises(InputError, match="expected a date YYYY-MM-DD or empty, got '20240101'") as e:
        jobs.resolve_parameters(pce, jobs.parse_overrides(["as_of=20240101"]))
    assert e.value.parameter == "as_of" and e.value.file == pce.path
    assert jobs._is_iso_date("2024-01-01") and not jobs._is_iso_date("20240101")
    assert not jobs._is_iso_date("2024-W01-1")


def test_the_earliest_date_the_tables_accept_is_accepted():
    pce = _exp("public_credit_evaluation")
    assert jobs.resolve_parameters(pce, {"as_of": "1900-01-01"})["as_of"] == "1900-01-01"


def test_parameter_types_follow_the_notebook():
    slm, lp, mv = _exp("small_loan_models"), _exp("loan_pricing"), _exp("model_validation")
    # a float parameter given as a whole number reaches the notebook as a float
    got = jobs.resolve_parameters(lp, {"budget": 200000})["budget"]
    assert got == 200000.0 and type(got) is float
    got = jobs.resolve_parameters(slm, {"central_tendency": 0})["central_tendency"]
    assert got == 0.0 and type(got) is float
    # a text parameter given as a number is text
    got = jobs.resolve_parameters(slm, jobs.parse_overrides(["model_name=123"]))["model_name"]
    assert got == "123" and type(got) is str
    # yes/no: 1 is yes
    assert jobs.resolve_parameters(slm, {"register": "1"})["register"] is True
    assert jobs.resolve_parameters(slm, jobs.parse_overrides(["register=1"]))["register"] is True
    # an int parameter given as a whole float is an int; 2.5 is refused naming the parameter
    got = jobs.resolve_parameters(mv, {"cure_months": 6.0})["cure_months"]
    assert got == 6 and type(got) is int
    with pytest.raises(InputError, match=r"expected int, got 2\.5") as e:
        jobs.resolve_parameters(mv, {"cure_months": 2.5})
    assert e.value.parameter == "cure_months"
    # a float parameter given true is refused (it would be 1.0)
    with pytest.raises(InputError, match="expected float, got True") as e:
        jobs.resolve_parameters(lp, {"budget": True})
    assert e.value.parameter == "budget"


def test_a_backslash_cannot_be_in_a_registered_model_name():
    slm = _exp("small_loan_models")
    with pytest.raises(InputError, match=r"MLflow names may not hold '\\\\'") as e:
        jobs.resolve_parameters(slm, {"model_name": "a\\b"})
    assert e.value.parameter == "model_name"


def test_a_relative_file_to_price_is_read_from_the_notebooks_folder(tmp_path, monkeypatch):
    import pandas as pd

    lp = _exp("loan_pricing")
    f = tmp_path / "scores.parquet"
    pd.DataFrame({"uscc": ["X"], "pd_12m": [0.02]}).to_parquet(f)
    rel = os.path.relpath(f, lp.notebook.parent)
    deep = tmp_path / "a" / "b" / "c"                       # not the notebooks' folder, and deeper than it
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert not Path(rel).is_file()
    assert jobs.resolve_parameters(lp, {"scores_path": rel})["scores_path"] == rel
    jobs._check_scores_file(lp, rel)


# --------------------------------------------------------------------------- run names, input paths, warnings
def test_run_name_leaves_out_paths_and_cuts_long_parameter_text_at_80_characters():
    slm = _exp("small_loan_models")
    base = jobs.resolve_parameters(slm, {})
    stamp_len = len("2026-12-03 08:30:00")
    assert jobs.run_name(slm, {**base, "out_dir": "/elsewhere"}, now=0) == "small_loan_models " + \
        jobs.run_name(slm, base, now=0)[-stamp_len:]
    long = "m" * 90
    name = jobs.run_name(slm, {**base, "model_name": long}, now=0)
    text = name[len("small_loan_models "):-stamp_len - 1]
    assert text == ("model_name=" + long)[:79] + "…" and len(text) == 80
    exact = "m" * (80 - len("model_name="))                                  # exactly 80: kept whole
    assert f" model_name={exact} " in jobs.run_name(slm, {**base, "model_name": exact}, now=0)


def test_input_paths_are_read_from_the_notebooks_folder(tmp_path):
    exp = _exp("public_credit_evaluation")
    got = jobs._input_paths(exp, {"data_dir": "../d", "config": "", "seed": 1}, tmp_path / "nb")
    assert got == [(tmp_path / "d").resolve()]
    assert jobs._input_paths(exp, {"data_dir": "/abs/d", "config": "c.yaml"}, tmp_path) == \
        [Path("/abs/d"), (tmp_path / "c.yaml").resolve()]


def test_notebook_warnings_stop_at_twenty(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr",
                                           text="".join(f"WARNING w{i}\n" for i in range(25)))]
    nb.cells = [cell]
    nbformat.write(nb, str(tmp_path / "n.ipynb"))
    assert jobs.notebook_warnings(tmp_path / "n.ipynb") == [f"WARNING w{i}" for i in range(20)]


# --------------------------------------------------------------------------- the district a job reads
def test_a_district_s_generator_parameters_become_the_run_s(tmp_path):
    from creditmodel.data.synthetic import generate_district

    exp = _exp("data_quality")
    d = tmp_path / "d"
    generate_district(firms=10, seed=3, out=d, progress=False)
    params = jobs.resolve_parameters(exp, {"data_dir": str(d)})
    jobs._settle_district(exp, params, {"data_dir": str(d)}, None)
    assert (params["firms"], params["seed"]) == (10, 3) and type(params["firms"]) is int
    # a manifest written by hand with the numbers as text: the run still gets the notebook's int
    man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    (d / "manifest.json").write_text(json.dumps({**man, "firms": "10", "seed": "3"}), encoding="utf-8")
    params = jobs.resolve_parameters(exp, {"data_dir": str(d)})
    jobs._settle_district(exp, params, {"data_dir": str(d)}, None)
    assert (params["firms"], params["seed"]) == (10, 3) and type(params["seed"]) is int
    (d / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    # given the district's own values with -p: kept as given
    ov = {"data_dir": str(d), "firms": 10, "seed": 3}
    params = jobs.resolve_parameters(exp, ov)
    jobs._settle_district(exp, params, ov, None)
    assert (params["firms"], params["seed"]) == (10, 3)
    # another seed than the district's: refused, naming it
    ov = {"data_dir": str(d), "seed": 4}
    with pytest.raises(InputError, match="already holds a district generated with seed=3") as e:
        jobs._settle_district(exp, jobs.resolve_parameters(exp, ov), ov, None)
    assert e.value.parameter == "seed"


def test_a_data_dir_given_with_p_is_not_moved_under_out(tmp_path):
    exp = _exp("data_quality")
    empty = tmp_path / "empty"
    empty.mkdir()
    ov = {"data_dir": str(empty)}
    params = jobs.resolve_parameters(exp, ov)
    jobs._settle_district(exp, params, ov, tmp_path / "o")
    assert params["data_dir"] == str(empty)
    params = jobs.resolve_parameters(exp, {"data_dir": str(tmp_path / "nothing")})
    jobs._settle_district(exp, params, {}, tmp_path / "o")              # the experiment's own: under --out
    assert params["data_dir"] == str((tmp_path / "o" / "district").resolve())


# --------------------------------------------------------------------------- one job = one MLflow run
def _mini_project(root: Path) -> Path:
    """An experiment whose notebook has text, list and path parameters (papermill is faked: no kernel)."""
    (root / "notebooks" / "data").mkdir(parents=True)
    (root / "notebooks" / "data" / "t.csv").write_text("a\n1\n", encoding="utf-8")
    (root / "experiments").mkdir()
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell("seed: int = 1\nlabels: list = ['a']\ndata_dir: str = 'data'\n"
                                  "out_dir: str = 'files'")
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_code_cell("print('hi')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "mini.ipynb")
    exp = root / "experiments" / "mini.yaml"
    exp.write_text("notebook: notebooks/mini.ipynb\nexperiment: mini_exp\nparameters:\n  seed: 1\n"
                   "  labels: [b, a]\n  data_dir: data\n  out_dir: files\ninputs: [data_dir]\n", encoding="utf-8")
    return exp


def _fake_papermill(monkeypatch, fail: tuple[str, str] | None = None, crash: Exception | None = None) -> dict:
    import shutil

    import papermill

    seen: dict = {}

    def execute(src, dst, **kw):
        seen.update(params=dict(kw["parameters"]), env={k: os.environ.get(k) for k in STORE_VARS})
        shutil.copy(src, dst)
        if crash is not None:
            raise crash
        if fail is not None:
            raise papermill.PapermillExecutionError(1, 3, "x", fail[0], fail[1], [])

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return seen


def test_a_job_records_its_parameters_tags_metric_and_notebook(tmp_path, monkeypatch, store):
    exp = _mini_project(tmp_path / "proj")
    seen = _fake_papermill(monkeypatch)
    out = store(tmp_path / "out")
    res = jobs.run_experiment(exp, {"seed": 7, "data_dir": "data"}, out=out, progress=False)
    assert res.ok and res.status == "FINISHED" and res.error is None and not res.bad_input
    # the kernel got the store and the run; the caller's environment is as it was afterwards
    assert seen["env"]["MLFLOW_RUN_ID"] == res.run_id
    assert seen["env"]["MLFLOW_TRACKING_URI"] == f"sqlite:///{out.resolve() / 'mlflow.db'}"
    assert seen["env"][tracking.ENV_OUT] == str(out.resolve())
    assert all(os.environ.get(k) is None for k in STORE_VARS)
    # the executed notebook: OUT/runs/<experiment file's name>/<time>-<run id's first 8>.ipynb
    nb = res.output_notebook
    assert nb.parent == (out / "runs" / "mini").resolve() and nb.name.endswith(f"-{res.run_id[:8]}.ipynb")
    run = _client(out).get_run(res.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"seed": "7", "labels": '["b", "a"]', "data_dir": "data",
                               "out_dir": str(out.resolve())}
    tags = run.data.tags
    assert list(json.loads(tags["creditmodel.papermill_parameters"])) == ["data_dir", "labels", "out_dir", "seed"]
    assert tags["creditmodel.papermill_parameters"].startswith('{"data_dir": "data", "labels": ["b", "a"], ')
    assert tags["creditmodel.output_notebook"] == str(nb)
    assert tags["creditmodel.launched_by"] == "creditmodel run"
    folder = (exp.parent.parent / "notebooks" / "data").resolve()
    h = hashlib.sha256()
    h.update(b"t.csv")
    h.update(hashlib.sha256(b"a\n1\n").hexdigest().encode())
    assert tags["creditmodel.data_sha256"] == h.hexdigest() == tracking.data_sha256([folder])
    assert "creditmodel.error" not in tags
    assert set(run.data.metrics) == {"job_duration_s"} and run.data.metrics["job_duration_s"] >= 0
    assert run.info.run_name.startswith("mini seed=7 ")
    assert _client(out).get_experiment(res.experiment_id).name == "mini_exp"


def test_a_notebook_stopping_on_a_configuration_error_is_bad_input(tmp_path, monkeypatch, store):
    exp = _mini_project(tmp_path / "proj")
    out = store(tmp_path / "out")
    _fake_papermill(monkeypatch, fail=("ConfigError", "key 'x': wrong"))
    res = jobs.run_experiment(exp, {}, out=out, progress=False)
    assert (res.status, res.bad_input, res.error) == ("FAILED", True, "ConfigError: key 'x': wrong (cell 3)")
    run = _client(out).get_run(res.run_id)
    assert run.info.status == "FAILED" and run.data.tags["creditmodel.error"] == "ConfigError: key 'x': wrong (cell 3)"
    _fake_papermill(monkeypatch, fail=("ValueError", "boom"))
    res = jobs.run_experiment(exp, {}, out=out, progress=False)
    assert (res.status, res.bad_input) == ("FAILED", False)
    _fake_papermill(monkeypatch, crash=RuntimeError("kernel died"))
    res = jobs.run_experiment(exp, {}, out=out, progress=False)
    assert (res.status, res.bad_input, res.error) == ("FAILED", False, "RuntimeError: kernel died")
    assert _client(out).get_run(res.run_id).info.status == "FAILED"
    assert all(os.environ.get(k) is None for k in STORE_VARS)


def test_without_out_the_data_dir_stays_the_experiment_s(tmp_path, monkeypatch, store):
    exp = _mini_project(tmp_path / "proj")
    seen = _fake_papermill(monkeypatch)
    store(exp.parent.parent / "notebooks" / "files")
    res = jobs.run_experiment(exp, {}, progress=False)
    assert res.ok and seen["params"]["data_dir"] == "data" and seen["params"]["out_dir"] == "files"


def test_the_run_command_exits_2_on_bad_input_in_the_notebook_and_1_otherwise(tmp_path, monkeypatch, store):
    exp = _mini_project(tmp_path / "proj")
    _fake_papermill(monkeypatch, fail=("InputError", "column 'x': bad"))
    store(tmp_path / "o")
    res = CliRunner().invoke(cli.cli, ["-q", "run", str(exp), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "error: InputError: column 'x': bad (cell 3)" in res.output
    _fake_papermill(monkeypatch, fail=("KeyError", "'x'"))
    res = CliRunner().invoke(cli.cli, ["-q", "run", str(exp), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1


def test_path_parameters_given_with_p_are_made_absolute_from_the_caller_s_folder(tmp_path, monkeypatch):
    exp = _exp("public_credit_evaluation")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    got = cli._paths_from_here(exp, {"data_dir": "d", "out_dir": "o", "seed": 3})
    assert got == {"data_dir": str(tmp_path / "d"), "out_dir": str(tmp_path / "o"), "seed": 3}
    with pytest.raises(InputError, match="does not exist") as e:
        cli._paths_from_here(exp, {"data_dir": "nope"})
    assert e.value.parameter == "data_dir"


# --------------------------------------------------------------------------- tracking helpers
def test_a_tracking_uri_without_a_scheme_is_refused_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(tmp_path / "mlruns"))
    with pytest.raises(ConfigError, match="file store") as e:
        tracking.configure()
    assert e.value.column == "MLFLOW_TRACKING_URI"


def test_configure_points_at_the_out_store_and_leaves_the_environment_alone(tmp_path, monkeypatch):
    import mlflow

    uri = tracking.configure(tmp_path / "a")
    assert uri == f"sqlite:///{(tmp_path / 'a').resolve() / 'mlflow.db'}"
    assert mlflow.get_tracking_uri() == uri and mlflow.get_registry_uri() == uri
    assert os.environ.get("MLFLOW_TRACKING_URI") is None and os.environ.get("MLFLOW_REGISTRY_URI") is None
    monkeypatch.setenv(tracking.ENV_OUT, str(tmp_path / "env"))
    assert tracking.tracking_uri() == uri                               # the configured store, not the variable
    monkeypatch.setattr(tracking, "_configured", {})
    assert tracking.tracking_uri() == f"sqlite:///{(tmp_path / 'env').resolve() / 'mlflow.db'}"
    assert tracking.default_out() == tmp_path / "env"
    reg = f"sqlite:///{tmp_path / 'reg.db'}"
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", reg)
    tracking.configure(tmp_path / "a")
    assert mlflow.get_registry_uri() == reg                             # an explicit registry is kept


def test_store_paths_are_absolute_and_artifacts_sit_beside_the_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert tracking.store_uri("rel") == f"sqlite:///{tmp_path.resolve() / 'rel' / 'mlflow.db'}"
    assert tracking.artifact_root("rel") == tmp_path.resolve() / "rel" / "mlartifacts"
    with pytest.raises(InputError, match="mlflow.db not found") as e:
        tracking.require_store(f"sqlite:///{tmp_path / 'none' / 'mlflow.db'}")
    assert Path(e.value.file) == tmp_path / "none" / "mlflow.db"


def test_an_experiment_name_with_a_slash_gets_one_artifact_folder(tmp_path, store):
    import mlflow

    tracking.configure(store(tmp_path))
    eid = tracking.experiment_id("team/pd", tmp_path)
    loc = mlflow.get_experiment(eid).artifact_location
    assert loc == (tmp_path.resolve() / "mlartifacts" / "team_pd").as_uri()
    assert tracking.experiment_id("team/pd", tmp_path) == eid


def test_metrics_params_and_tags_logged_as_mlflow_holds_them(tmp_path, store):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow
    import pandas as pd

    tracking.configure(store(tmp_path))
    with tracking.notebook_run("logs", tmp_path, params={"first": 5}) as run:
        clean = tracking.log_metrics({"auc": 0.75, "n": 3, "nan": float("nan"), "inf": math.inf, "txt": "x",
                                      "none": None}, prefix="test_")
        assert clean == {"test_auc": 0.75, "test_n": 3.0}
        tracking.log_params({"k": 1, "grid": ("a", 2), "cfg": {"b": True}, "long": "x" * 7000})
        tracking.log_params({"k": 2})                       # already logged: kept as it was (no MLflow error)
        tracking.set_tags({"note": "y" * 6000})
        fig = plt.figure()
        tracking.log_figure(fig, "roc.png")
        plt.close(fig)
        tracking.log_table(pd.DataFrame({"名称": ["甲"]}), "t")
        rid = run.info.run_id
    r = mlflow.get_run(rid)
    assert r.info.status == "FINISHED"
    assert r.data.metrics == {"test_auc": 0.75, "test_n": 3.0}
    assert r.data.params == {"first": "5", "k": "1", "grid": '["a", 2]', "cfg": '{"b": true}', "long": "x" * 6000}
    assert r.data.tags["note"] == "y" * 5000 and r.data.tags["creditmodel.launched_by"] == "interactive"
    from mlflow.tracking import MlflowClient

    c = MlflowClient()
    assert [a.path for a in c.list_artifacts(rid, "figures")] == ["figures/roc.png"]
    local = c.download_artifacts(rid, "tables/t.csv", str(tmp_path / "dl"))
    assert Path(local).read_bytes().startswith(b"\xef\xbb\xbf")        # UTF-8 with BOM for Excel


def test_a_failing_interactive_run_ends_failed_and_a_job_s_run_is_left_open(tmp_path, monkeypatch, store):
    import mlflow

    tracking.configure(store(tmp_path))
    with pytest.raises(ZeroDivisionError):
        with tracking.notebook_run("fails", tmp_path) as run:
            1 / 0
    assert mlflow.get_run(run.info.run_id).info.status == "FAILED"
    first = tracking.start_notebook_run("again", tmp_path)
    assert tracking.start_notebook_run("again", tmp_path).info.run_id == first.info.run_id   # one run, not two
    monkeypatch.setenv("MLFLOW_RUN_ID", first.info.run_id)
    tracking.end_notebook_run()                                   # the runner closes it, not the notebook
    assert mlflow.active_run() is not None
    monkeypatch.delenv("MLFLOW_RUN_ID")
    tracking.end_notebook_run()
    assert mlflow.active_run() is None and mlflow.get_run(first.info.run_id).info.status == "FINISHED"


def test_a_district_tag_says_which_generator_parameters_were_not_used(tmp_path, store):
    import mlflow

    from creditmodel.data.synthetic import generate_district

    d = tmp_path / "d"
    generate_district(firms=10, seed=3, out=d, progress=False)
    plain = tmp_path / "plain"
    plain.mkdir()
    tracking.configure(store(tmp_path))
    run = tracking.start_notebook_run("districts", tmp_path)
    try:
        snap = json.loads((d / "manifest.json").read_text(encoding="utf-8"))["snapshot_date"]
        tags = tracking.tag_district({"data_dir": str(d), "firms": 10, "seed": 4})
        assert tags == {"creditmodel.district": f"generated district: firms=10, seed=3, snapshot {snap}",
                        "creditmodel.district_note": "parameter(s) seed not used for the data: the folder already "
                                                     "held a district (seed=3)"}
        tags = tracking.tag_district({"data_dir": str(plain), "firms": 10})
        assert tags == {"creditmodel.district": "no manifest.json: not a generated district",
                        "creditmodel.district_note": "parameters firms and seed not used for the data: not a "
                                                     "generated district"}
        assert mlflow.get_run(run.info.run_id).data.tags["creditmodel.district_note"].startswith("parameters firms")
    finally:
        tracking.end_notebook_run()


def test_data_sha256_by_hand(tmp_path):
    """One SHA-256 over the inputs, in sorted order: a folder by relative path and content, a file by name and
    content, a missing path by its path."""
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "x.csv").write_bytes(b"1")
    (tmp_path / "d" / "a.csv").write_bytes(b"2")
    (tmp_path / "f.csv").write_bytes(b"3")
    missing = tmp_path / "zz"
    h = hashlib.sha256()
    for part in ("a.csv", hashlib.sha256(b"2").hexdigest(), "sub/x.csv", hashlib.sha256(b"1").hexdigest(),
                 "f.csv", hashlib.sha256(b"3").hexdigest(), f"missing:{missing}"):
        h.update(part.encode())
    want = h.hexdigest()
    assert tracking.data_sha256([missing, tmp_path / "f.csv", tmp_path / "d"]) == want
    assert tracking.data_sha256([tmp_path / "d", tmp_path / "f.csv", missing]) == want
    assert tracking.file_sha256(tmp_path / "f.csv") == hashlib.sha256(b"3").hexdigest()


def test_git_info_says_when_the_work_tree_has_changes(tmp_path):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x"}
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "x"]):
        if args[0] == "add":
            (tmp_path / "f").write_text("1")
        subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True, capture_output=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    assert tracking.git_info(tmp_path) == {"commit": sha, "dirty": "false"}
    (tmp_path / "f").write_text("2")
    assert tracking.git_info(tmp_path) == {"commit": sha, "dirty": "true"}
    g = tracking.git_info()
    if g:
        assert tracking._git_tags() == {"mlflow.source.git.commit": g["commit"], "creditmodel.git_dirty": g["dirty"]}


def test_a_job_s_notebook_in_the_lab_keeps_its_out_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(tracking.ENV_LAB_OUT, str(tmp_path))
    assert tracking.notebook_out_dir(tracking.NOTEBOOK_OUT_DIR) == str(tmp_path)
    monkeypatch.setenv("MLFLOW_RUN_ID", "abc")                       # under creditmodel run: as injected
    assert tracking.notebook_out_dir(tracking.NOTEBOOK_OUT_DIR) == tracking.NOTEBOOK_OUT_DIR


# --------------------------------------------------------------------------- the command line
def _main(*args) -> tuple[int, str]:
    """(exit code, stderr) of ``creditmodel -q ARGS`` in this process (some tests patch functions under the CLI)."""
    r = run_in_process("-q", *args)
    return r.returncode, r.stderr


def test_progress_bars_follow_the_variable_then_the_terminal(monkeypatch):
    from creditmodel.progress import ENV

    class Pipe:
        def isatty(self):
            return False

    monkeypatch.setattr(sys, "stderr", Pipe())
    monkeypatch.setenv(ENV, "on")
    assert cli._bars_wanted(False) is True and cli._bars_wanted(True) is False
    monkeypatch.setenv(ENV, "off")
    Pipe.isatty = lambda self: True
    assert cli._bars_wanted(False) is False
    monkeypatch.setenv(ENV, "")
    assert cli._bars_wanted(False) is True


def test_store_option_exports_the_store_for_the_command(tmp_path, monkeypatch):
    seen = {}
    from creditmodel.data import real

    def available(data_dir):
        seen.update(out=os.environ.get(tracking.ENV_OUT), uri=os.environ.get("MLFLOW_TRACKING_URI"))
        return []

    monkeypatch.setattr(real, "available", available)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shared").mkdir()
    res = CliRunner().invoke(cli.cli, ["-q", "--store", "st", "real", "--data-dir", "shared"])
    assert res.exit_code == 0, res.output
    assert seen == {"out": str(tmp_path / "st"), "uri": f"sqlite:///{tmp_path / 'st' / 'mlflow.db'}"}


@pytest.mark.parametrize("args, option", [
    (["generate", "--firms", "9", "--out", "{t}/g"], "--firms"),
    (["generate", "--firms", "10000001", "--out", "{t}/g"], "--firms"),
    (["generate", "--seed", "-1", "--firms", "10", "--out", "{t}/g"], "--seed"),
    (["demo", "--firms", "3999", "--out", "{t}/g"], "--firms"),
    (["demo", "--seed", str(2**31 - 3), "--out", "{t}/g"], "--seed"),
    (["train", "--data", "x.csv", "--target", "y", "--central-tendency", "0", "--out", "{t}/g"], "--central-tendency"),
    (["train", "--data", "x.csv", "--target", "y", "--central-tendency", "1", "--out", "{t}/g"], "--central-tendency"),
    (["validate", "--model", "m", "--data", "x.csv", "--target", "y", "--n-boot", "49", "--out", "{t}/g"], "--n-boot"),
    (["train", "--data", "x.csv", "--target", "y", "--jobs", "0", "--out", "{t}/g"], "--jobs"),
    (["train", "--data", "x.csv", "--target", "y", "--jobs", "-2", "--out", "{t}/g"], "--jobs"),
])
def test_options_out_of_range_exit_2_naming_the_option(tmp_path, monkeypatch, args, option):
    from creditmodel import demo
    from creditmodel.data import synthetic
    from creditmodel.scoring import train
    from creditmodel.validation import report

    def reached(*a, **k):   # a value let through would start the work: stop it at once (exit 1)
        raise RuntimeError("reached the command's work")

    for mod, fn in ((synthetic, "generate_district"), (demo, "run_demo"), (train, "train_file"),
                    (report, "validate_file")):
        monkeypatch.setattr(mod, fn, reached)
    code, err = _main(*[a.format(t=tmp_path) for a in args])
    assert code == 2 and option in err, err
    assert not (tmp_path / "g").exists()


def test_lab_starts_jupyter_with_the_project_root_and_allow_root_as_root(tmp_path, monkeypatch):
    class Exec(Exception):
        pass

    def execv(path, args):
        raise Exec(list(args))

    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    res = CliRunner().invoke(cli.cli, ["-q", "lab", "--out", str(tmp_path), "--port", "8899"])
    args = res.exception.args[0]
    assert args[1:] == ["-m", "jupyter", "lab", "--no-browser", "--port=8899", "--ip=127.0.0.1",
                        f"--ServerApp.root_dir={PROJECT_ROOT}", "--LabApp.default_url=/lab/tree/notebooks",
                        "--allow-root"]
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    res = CliRunner().invoke(cli.cli, ["-q", "lab", "--out", str(tmp_path), "--token", "t"])
    assert res.exception.args[0][-1] == "--IdentityProvider.token=t"


def test_train_takes_minus_one_jobs_and_splits_categorical_names(tmp_path, monkeypatch):
    from creditmodel.scoring import train

    seen = {}

    class Res:
        def summary(self):
            return "trained"

    def train_file(**kw):
        seen.update(kw)
        return Res()

    monkeypatch.setattr(train, "train_file", train_file)
    res = CliRunner().invoke(cli.cli, ["-q", "train", "--data", "x.csv", "--target", "y", "--jobs", "-1",
                                       "--categorical", "a, b", "--categorical", "c,", "--central-tendency", "0.04",
                                       "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert (seen["n_jobs"], seen["categorical"], seen["central_tendency"]) == (-1, ["a", "b", "c"], 0.04)


def test_generate_refuses_a_district_of_other_firms_and_lists_five_other_files(tmp_path):
    out = tmp_path / "d"
    assert _main("generate", "--firms", "10", "--seed", "1", "--out", out)[0] == 0
    code, err = _main("generate", "--firms", "11", "--seed", "1", "--out", out)
    assert code == 2 and "already holds a district generated with firms=10, seed=1" in err
    other = tmp_path / "o"
    other.mkdir()
    for n in "abcdefg":
        (other / f"{n}.txt").write_text("x")
    code, err = _main("generate", "--firms", "10", "--out", other)
    assert code == 2 and "holds 7 entries (a.txt, b.txt, c.txt, d.txt, e.txt and 2 more) but no district" in err
    hidden = tmp_path / "h"
    hidden.mkdir()
    (hidden / ".DS_Store").write_text("x")                        # a hidden file is no reason to refuse
    assert _main("generate", "--firms", "10", "--out", hidden)[0] == 0
    assert (hidden / "enterprises.parquet").is_file()


def test_exit_codes_of_main(tmp_path, monkeypatch):
    from creditmodel import demo, registry

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(jobs, "load_experiment", interrupt)
    code, err = _main("run", "x.yaml")
    assert code == 130 and "interrupted" in err

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied", "/var/lib/elsewhere/mlflow.db")

    monkeypatch.setattr(jobs, "load_experiment", denied)
    code, err = _main("run", "x.yaml")                 # not a path the user gave: exit 1
    assert code == 1 and "error: PermissionError" in err

    class Decision:
        promoted = False

        def summary(self):
            return "kept"

    monkeypatch.setattr(registry, "promote", lambda *a, **k: Decision())
    assert _main("promote", "pd", "--version", "2")[0] == 1

    class Demo:
        ok = False

        def summary(self):
            return "failed"

    monkeypatch.setattr(demo, "run_demo", lambda **k: Demo())
    assert _main("demo", "--out", tmp_path / "x")[0] == 1
    code, err = _main("real", "--data-dir", tmp_path / "nowhere")
    assert code == 2 and "parameter '--data-dir'" in err and str(tmp_path / "nowhere") in err
    code, err = _main("real", "german_credit")
    assert code == 2 and "parameter '--out'" in err


# Was a bug (h152's finding, fixed): `creditmodel run experiments/small_loan_models.yaml -p seed=null` (or seed=[1],
# seed={a: 1}) exited 1 with "TypeError: '<=' not supported between instances of 'int' and 'NoneType'" (jobs._coerce
# compared the uncoerced value with 0). A number parameter given no number is bad input (exit 2) naming the parameter
# and the experiment file, as the other parameter checks do.
@pytest.mark.parametrize("given, name, shown", [("seed=null", "seed", "None"), ("seed=[1]", "seed", "[1]"),
                                                ("seed={a: 1}", "seed", "{'a': 1}"), ("firms=null", "firms", "None"),
                                                ("central_tendency=[0.1]", "central_tendency", "[0.1]")])
def test_a_number_parameter_given_no_number_is_bad_input_naming_it_and_the_file(given, name, shown):
    slm = _exp("small_loan_models")
    with pytest.raises(InputError) as e:
        jobs.resolve_parameters(slm, jobs.parse_overrides([given]))
    kind = "float" if name == "central_tendency" else "int"
    assert e.value.parameter == name and e.value.message == f"expected {kind}, got {shown}"
    assert e.value.file == slm.path


def test_explain_names_its_as_of_option_for_a_date_before_the_firm_s_registration(tmp_path):
    """explain raises "registered on ..., after the as-of date" under column 'as_of' (not parameter): the command
    names its option as typed, --as-of, and no column (h152's last uncaught mutant, C41: the column test dropped)."""
    import district_factory as fac

    c = fac.codes(2)
    fac.write(fac.enterprises(c), tmp_path / "d" / "enterprises", "csv")      # c[1] registered 2011-02-15
    (tmp_path / "d" / "manifest.json").write_text('{"snapshot_date": "2025-12-31"}', encoding="utf-8")
    code, err = _main("explain", "--data", tmp_path / "d", "--uscc", c[1], "--as-of", "2010-06-30")
    assert code == 2 and "was registered on 2011-02-15, after the as-of date 2010-06-30" in err, err
    assert "parameter '--as-of'" in err and "column" not in err
