"""Tracked papermill jobs: the data-quality notebook run through ``creditmodel.jobs.run_experiment``, and a
deliberately failing notebook. Each leaves one MLflow run in a temporary SQLite store."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
import pytest
from cli_in_process import run_cli

from creditmodel import jobs, tracking
from creditmodel.data import io, quality
from creditmodel.errors import ConfigError, InputError
from creditmodel.reference import PROJECT_ROOT

EXPERIMENT = PROJECT_ROOT / "experiments" / "data_quality.yaml"

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _own_store(monkeypatch):
    """Each test uses the SQLite store under its own ``out``: mlflow.set_tracking_uri() exports
    MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI into os.environ, which tracking.tracking_uri() then prefers."""
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_RUN_ID", tracking.ENV_OUT):
        monkeypatch.setenv(var, "")   # records the original state, restored (or removed) after the test
        monkeypatch.delenv(var)


def _client(out: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{out.resolve() / 'mlflow.db'}")


def _artifacts(client, run_id: str, path: str = "") -> list[str]:
    out = []
    for a in client.list_artifacts(run_id, path):
        out += _artifacts(client, run_id, a.path) if a.is_dir else [a.path]
    return out


def test_data_quality_notebook_is_one_tracked_run(tmp_path):
    district, out = tmp_path / "district", tmp_path / "out"
    params = {"data_dir": str(district), "firms": 300, "seed": 5, "out_dir": str(out)}
    head_before = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                                 text=True).stdout.strip()
    res = jobs.run_experiment(EXPERIMENT, params, out=out, progress=False)
    assert res.ok, res.error
    # the notebook generated the district it was pointed at, with the overridden parameters
    manifest = json.loads((district / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["firms"], manifest["seed"]) == (300, 5)

    client = _client(out)
    run = client.get_run(res.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"data_dir": str(district), "firms": "300", "seed": "5", "out_dir": str(out)}
    tags = run.data.tags
    assert tags["creditmodel.notebook"] == "notebooks/01_data_quality.ipynb"
    # the commit the job ran on (others may have committed since: it must be HEAD or one of its ancestors)
    sha = tags["mlflow.source.git.commit"]
    assert len(sha) == 40
    assert sha == head_before or subprocess.run(["git", "merge-base", "--is-ancestor", head_before, sha],
                                                cwd=PROJECT_ROOT).returncode == 0
    assert json.loads(tags["creditmodel.papermill_parameters"]) == params
    assert tags["creditmodel.district"].startswith("generated district: firms=300, seed=5")
    assert "creditmodel.district_note" not in tags
    assert tags["creditmodel.data_sha256"] == tracking.data_sha256([district])

    # the metrics the notebook logged are the ones an independent measurement of the same district gives
    dist = io.load_district(district)
    rep = quality.measure(dist.loaded, dist.quarantine, dist.snapshot_date, district)
    m = run.data.metrics
    for key in ("collection_compliance_rate", "uscc_error_duplicate_rate", "serious_dishonesty_share", "late",
                "missing_mandatory_cells", "rows_quarantined"):
        assert m[key] == pytest.approx(rep.indicators[key]), key
    assert m["injected_recovered_share"] == 1.0

    arts = _artifacts(client, res.run_id)
    nb_name = f"notebook/{res.output_notebook.name}"
    assert nb_name in arts
    assert {f"figures/{n}.png" for n in ("indicators_vs_targets", "completeness_heatmap", "by_street")} <= set(arts)
    assert {"tables/quarantine.parquet", "tables/by_industry.csv", "quality/quality.json"} <= set(arts)
    # the serious-dishonesty share under its three readings, shown and logged (a think tank's finding)
    assert {"figures/serious_dishonesty_definitions.png", "tables/serious_dishonesty_definitions.csv"} <= set(arts)
    assert {"figures/list_membership.png", "tables/list_membership.csv"} <= set(arts)   # who is on which list
    assert "tables/outside_life.csv" in arts   # records dated outside their enterprise's life, row by row
    # how the pooled compliance rate reads (a think tank's finding): logged, and its pooled row is the metric
    assert "tables/compliance_summary.csv" in arts
    cs = quality.compliance_summary(rep).set_index("scope")
    assert m["collection_compliance_rate"] == pytest.approx(cs.loc["all public records", "compliance_rate"])
    wider = quality.serious_dishonesty_shares(dist.tables, dist.snapshot_date)
    last = wider[wider["date"] == wider["date"].max()].set_index("definition")["share"]
    for k in ("plus_black_lists", "plus_dishonest_debtors"):
        assert m[f"serious_dishonesty_share_{k}"] == pytest.approx(last[k]), k
    local = Path(client.download_artifacts(res.run_id, nb_name, str(tmp_path / "dl")))
    nb = nbformat.read(local, as_version=4)
    assert nb.metadata["papermill"]["parameters"] == params
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    # the district was generated and loaded with progress bars: none is stored frozen at 0 % in the notebook
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                   for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_data_quality_notebook_reports_an_edited_generated_district(tmp_path):
    """A generated district whose tables were changed afterwards is still reported (the notebook used to stop on
    an assertion that the measured faults equal injected.json, exit 1); the differing entries are shown."""
    from creditmodel.data.synthetic import generate_district

    district, out = tmp_path / "district", tmp_path / "out"
    generate_district(firms=300, seed=5, out=district, progress=False)
    inj = json.loads((district / "injected.json").read_text(encoding="utf-8"))
    entries = inj if isinstance(inj, list) else inj.get("faults", inj)
    first = entries[0] if isinstance(entries, list) else entries[next(iter(entries))]
    first["count"] += 1  # as if one injected fault had been repaired by hand
    (district / "injected.json").write_text(json.dumps(inj), encoding="utf-8")
    res = jobs.run_experiment(EXPERIMENT, {"data_dir": str(district), "out_dir": str(out)}, out=out, progress=False)
    assert res.ok, res.error
    run = _client(out).get_run(res.run_id)
    m = run.data.metrics
    assert 0 < m["injected_recovered_share"] < 1
    # the experiment's firms/seed (2000, 42) did not make this district (300, 5): the run records the district's own
    assert run.data.tags["creditmodel.district"].startswith("generated district: firms=300, seed=5")
    assert (run.data.params["firms"], run.data.params["seed"]) == ("300", "5")
    assert "creditmodel.district_note" not in run.data.tags
    nb = nbformat.read(res.output_notebook, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "differ from injected.json" in text


def test_generator_parameters_say_what_the_job_reads(tmp_path, caplog):
    """A think-tank reviewer's finding: ``-p seed=12`` on a folder holding a seed-11 district ran on the seed-11 data
    under a run named ``seed=12`` (only a tag said otherwise), and with ``--out`` a district generated for the job
    went into the demo's folder. Checked before any kernel starts."""
    from dataclasses import replace

    from creditmodel.data.synthetic import generate_district

    exp = jobs.load_experiment(EXPERIMENT)
    assert exp.generator == ("firms", "seed")
    assert jobs.load_experiment(PROJECT_ROOT / "experiments" / "small_loan_models.yaml").generator == ("firms",)
    district = tmp_path / "d"
    generate_district(firms=300, seed=11, out=district, progress=False)
    for given in ({"seed": 12}, {"firms": 400}):
        params = jobs.resolve_parameters(exp, {"data_dir": str(district), **given})
        with pytest.raises(InputError) as e:
            jobs._settle_district(exp, params, {"data_dir": str(district), **given}, None)
        k = next(iter(given))
        assert e.value.parameter == k and f"{k}={given[k]} would not be used" in str(e.value)
        assert "already holds a district generated with" in str(e.value) and "A_NEW_FOLDER" in str(e.value)
    same = {"data_dir": str(district), "seed": 11}          # the district's own value: fine
    params = jobs.resolve_parameters(exp, same)
    jobs._settle_district(exp, params, same, None)
    assert (params["firms"], params["seed"]) == (300, 11)  # firms not given: recorded as the district's
    own = tmp_path / "own"                                   # tables that were not generated
    own.mkdir()
    for f in district.glob("*.parquet"):
        (own / f.name).write_bytes(f.read_bytes())
    with pytest.raises(InputError, match="not generated"):
        jobs._settle_district(exp, jobs.resolve_parameters(exp, {"data_dir": str(own), "seed": 3}),
                              {"data_dir": str(own), "seed": 3}, None)
    # --out with the experiment's default data_dir empty: the district is generated under --out
    exp2 = replace(exp, parameters={**exp.parameters, "data_dir": str(tmp_path / "no_demo" / "district")})
    params = jobs.resolve_parameters(exp2, {"seed": 7})
    jobs._settle_district(exp2, params, {"seed": 7}, tmp_path / "job")
    assert params["data_dir"] == str((tmp_path / "job" / "district").resolve()) and params["seed"] == 7
    params = jobs.resolve_parameters(exp2, {})              # without --out the default stays
    jobs._settle_district(exp2, params, {}, None)
    assert params["data_dir"] == str(tmp_path / "no_demo" / "district")
    # a district already under --out is read, and the log says so (it said "generated" on every rerun: analyst)
    generate_district(firms=300, seed=11, out=tmp_path / "job2" / "district", progress=False)
    with caplog.at_level("INFO", logger="creditmodel.jobs"):
        jobs._settle_district(exp2, jobs.resolve_parameters(exp2, {}), {}, tmp_path / "job3")   # nothing there
        jobs._settle_district(exp2, jobs.resolve_parameters(exp2, {}), {}, tmp_path / "job2")
    lines = [r.getMessage() for r in caplog.records if "no district in the experiment's default" in r.getMessage()]
    assert "a synthetic district is generated under --out" in lines[0]
    assert f"the district already under --out is read, {(tmp_path / 'job2' / 'district').resolve()}" in lines[1]
    with pytest.raises(ConfigError, match="must list parameter names"):
        bad = tmp_path / "bad.yaml"
        bad.write_text(EXPERIMENT.read_text(encoding="utf-8").replace("generator: [firms, seed]",
                                                                       "generator: [firms, colour]"), encoding="utf-8")
        jobs.load_experiment(bad)


FAILING = '''import mlflow
from creditmodel import tracking
tracking.start_notebook_run("failing", params={"level": level})
tracking.log_metrics({"before_failure": 1.5})
raise ValueError("deliberate failure at level %d" % level)'''


def _failing_project(root: Path) -> Path:
    (root / "notebooks").mkdir(parents=True)
    (root / "experiments").mkdir()
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell("level: int = 1  # how deep to fail")
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_code_cell(FAILING), nbformat.v4.new_code_cell("print('never reached')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "fail.ipynb")
    exp = root / "experiments" / "fail.yaml"
    exp.write_text("notebook: notebooks/fail.ipynb\nexperiment: failing\nparameters:\n  level: 3\n", encoding="utf-8")
    return exp


def test_failing_notebook_leaves_a_failed_run_with_the_notebook(tmp_path):
    exp = _failing_project(tmp_path / "proj")
    out = tmp_path / "out"
    res = jobs.run_experiment(exp, {}, out=out, progress=False)
    assert res.status == "FAILED" and not res.ok
    assert "deliberate failure at level 3" in res.error
    client = _client(out)
    run = client.get_run(res.run_id)
    assert run.info.status == "FAILED"
    assert run.data.params == {"level": "3"}
    assert run.data.metrics["before_failure"] == 1.5
    assert "deliberate failure" in run.data.tags["creditmodel.error"]
    nb_name = f"notebook/{res.output_notebook.name}"
    assert nb_name in _artifacts(client, res.run_id)
    nb = nbformat.read(Path(client.download_artifacts(res.run_id, nb_name, str(tmp_path / "dl"))), as_version=4)
    assert nb.metadata["papermill"]["exception"] is True
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "ValueError"


def test_a_job_stores_no_progress_bar_frozen_at_zero(tmp_path):
    """Analyst's finding: the library's progress bars are widgets that papermill stored at 0 % in every executed
    notebook ("features:   0%|  | 0/9"); a job turns them off in its kernel, and leaves the caller's setting alone."""
    import os

    exp = _failing_project(tmp_path / "proj")
    nb_path = exp.parent.parent / "notebooks" / "fail.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[1] = nbformat.v4.new_code_cell(
        "from creditmodel.progress import tqdm\nfor _ in tqdm(range(3), desc='features'):\n    pass\n"
        "print('bar disabled:', tqdm(total=1).disable)")
    nbformat.write(nb, nb_path)
    before = os.environ.get("CREDITMODEL_PROGRESS")
    res = jobs.run_experiment(exp, {}, out=tmp_path / "out", progress=False)
    assert res.ok, res.error
    assert os.environ.get("CREDITMODEL_PROGRESS") == before
    out = nbformat.read(res.output_notebook, as_version=4)
    outputs = [o for c in out.cells for o in c.get("outputs", [])]
    assert any("bar disabled: True" in str(o.get("text", "")) for o in outputs)
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


def test_unknown_parameter_is_refused_before_any_run(tmp_path):
    with pytest.raises(InputError) as e:
        jobs.run_experiment(EXPERIMENT, {"firm_count": 10}, out=tmp_path, progress=False)
    assert e.value.parameter == "firm_count"
    assert not (tmp_path / "mlflow.db").exists()


def test_a_notebook_stopping_on_bad_input_exits_2(tmp_path):
    """The exit-code contract (2 = bad input) also holds when the notebook itself raises InputError."""

    exp = _failing_project(tmp_path / "proj")
    nb_path = exp.parent.parent / "notebooks" / "fail.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[1] = nbformat.v4.new_code_cell(
        "from creditmodel.errors import InputError\nraise InputError('level must be at most 2', column='level')")
    nbformat.write(nb, nb_path)
    res = jobs.run_experiment(exp, {}, out=tmp_path / "out", progress=False)
    assert not res.ok and res.bad_input and "level must be at most 2" in res.error
    plain = jobs.run_experiment(_failing_project(tmp_path / "other"), {}, out=tmp_path / "out2", progress=False)
    assert not plain.ok and not plain.bad_input  # a ValueError in the notebook stays exit 1
    r = run_cli("run", str(exp), "--out", str(tmp_path / "out3"))
    assert r.returncode == 2 and "level must be at most 2" in r.stderr
    assert r.stderr.count("level must be at most 2") == 1  # once (an ERROR log line repeated the error line)
    with pytest.raises(InputError) as e:  # 1.5 for an int parameter is refused before any run
        jobs.run_experiment(exp, {"level": 1.5}, out=tmp_path / "out4", progress=False)
    assert e.value.parameter == "level"


def test_ctrl_c_ends_the_run_as_killed_with_exit_130(tmp_path):
    """Analyst's finding: Ctrl-C during a job printed "aborted", exited 1 and left the MLflow run FINISHED (the
    kernel's own exit ended it), as if the job had succeeded."""
    import os
    import signal
    import subprocess
    import sys
    import time

    exp = _failing_project(tmp_path / "proj")
    nb_path = exp.parent.parent / "notebooks" / "fail.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    started = tmp_path / "started"
    nb.cells[1] = nbformat.v4.new_code_cell(
        "import pathlib, time\nfrom creditmodel import tracking\ntracking.start_notebook_run('failing')\n"
        f"pathlib.Path({str(started)!r}).touch()\ntime.sleep(120)")
    nbformat.write(nb, nb_path)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "creditmodel.cli", "run", str(exp), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert started.exists(), proc.communicate(timeout=30)
        os.killpg(proc.pid, signal.SIGINT)                # what Ctrl-C in a terminal does: the whole group
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err
    client = _client(out)
    runs = client.search_runs([client.get_experiment_by_name("failing").experiment_id])
    assert len(runs) == 1 and runs[0].info.status == "KILLED", runs[0].info
    assert "interrupted" in runs[0].data.tags["creditmodel.error"]


def test_one_output_folder_per_job(tmp_path, monkeypatch):
    """--out used to set only the MLflow store while the notebook kept writing to its out_dir default (out/demo),
    and without --out the store was ./out while the files went to out/demo."""
    exp = jobs.load_experiment(EXPERIMENT)
    params = jobs.resolve_parameters(exp, {})
    assert jobs._link_out_dir(exp, params, {}, tmp_path / "o") == tmp_path / "o"
    assert params["out_dir"] == str((tmp_path / "o").resolve())
    params = jobs.resolve_parameters(exp, {"out_dir": str(tmp_path / "files")})
    assert jobs._link_out_dir(exp, params, {"out_dir": str(tmp_path / "files")}, tmp_path / "o") == tmp_path / "o"
    assert params["out_dir"] == str(tmp_path / "files")  # an explicit -p out_dir wins for the files
    params = jobs.resolve_parameters(exp, {})
    default = (exp.notebook.parent / exp.parameters["out_dir"]).resolve()
    assert jobs._link_out_dir(exp, params, {}, None) == default
    monkeypatch.setenv(tracking.ENV_OUT, str(tmp_path / "env"))
    assert jobs._link_out_dir(exp, params, {}, None) is None  # $CREDITMODEL_OUT still decides the store


def test_a_parameter_given_twice_with_two_values_is_refused():
    """`-p data_dir=A -p data_dir=B` ran on B without a word."""
    with pytest.raises(InputError) as e:
        jobs.parse_overrides(["seed=1", "data_dir=A", "data_dir=B"])
    assert e.value.parameter == "data_dir" and "'A' and 'B'" in str(e.value)
    assert jobs.parse_overrides(["seed=1", "seed=1"]) == {"seed": 1}   # the same value twice is harmless


def test_an_impossible_date_parameter_is_named():
    with pytest.raises(InputError) as e:
        jobs.parse_overrides(["as_of=2023-02-30"])
    assert e.value.parameter == "as_of" and "2023-02-30" in str(e.value)
    assert jobs.parse_overrides(["as_of=2023-02-28"]) == {"as_of": "2023-02-28"}
    # on the command line it names the experiment file too, as every other parameter check does (an analyst's finding)
    exp_file = PROJECT_ROOT / "experiments" / "public_credit_evaluation.yaml"
    r = run_cli("run", str(exp_file), "-p", "as_of=2023-02-30")
    assert r.returncode == 2 and (f"error: file {exp_file}, parameter 'as_of': '2023-02-30' is not a valid date"
                                  in r.stderr), r.stderr
    # a word or another format is refused before the kernel starts (it failed inside the notebook after 9-21 s)
    pce = jobs.load_experiment(PROJECT_ROOT / "experiments" / "public_credit_evaluation.yaml")
    slm = jobs.load_experiment(PROJECT_ROOT / "experiments" / "small_loan_models.yaml")
    for exp, k, bad in ((pce, "as_of", "yesterday"), (pce, "as_of", "01/02/2024"), (slm, "oot_start", ""),
                        (slm, "oot_start", "2024")):
        with pytest.raises(InputError) as e:
            jobs.resolve_parameters(exp, jobs.parse_overrides([f"{k}={bad}"]))
        assert e.value.parameter == k and "YYYY-MM-DD" in str(e.value), (k, bad)
    assert jobs.resolve_parameters(pce, {"as_of": ""})["as_of"] == ""           # empty = the snapshot date
    for far in ("2100-01-01", "1899-12-31"):   # a fuzzer's finding: 2100 failed inside the kernel as a FAILED run
        with pytest.raises(InputError, match="outside 1900-01-01 .. 2099-12-31") as e:
            jobs.resolve_parameters(pce, jobs.parse_overrides([f"as_of={far}"]))
        assert e.value.parameter == "as_of"
    assert jobs.resolve_parameters(pce, {"as_of": "2099-12-31"})["as_of"] == "2099-12-31"
    assert jobs.resolve_parameters(slm, jobs.parse_overrides(["oot_start=2024-07-01"]))["oot_start"] == "2024-07-01"


def test_a_yes_no_parameter_takes_yes_or_no_only():
    """``-p register=maybe`` used to reach the notebook as the text 'maybe', i.e. true (and registered models)."""
    exp = jobs.load_experiment(PROJECT_ROOT / "experiments" / "small_loan_models.yaml")
    for given, want in (("false", False), ("No", False), ("0", False), (0, False), ("true", True), ("yes", True),
                        (True, True)):
        assert jobs.resolve_parameters(exp, {"register": given})["register"] is want, given
    for bad in ("maybe", "2", "", 7):
        with pytest.raises(InputError) as e:
            jobs.resolve_parameters(exp, {"register": bad})
        assert e.value.parameter == "register"
        assert f"expected bool (true/false, yes/no or 1/0), got {bad!r}" in str(e.value)   # the words it takes


def test_seed_and_number_parameters_are_checked_before_the_notebook_runs():
    """-p seed=-1 failed in the notebook's third cell with numpy's ValueError (exit 1); -p seed=true reached it as
    seed = True (found by a helper). Both are now exit 2 naming the parameter, before anything runs."""
    exp = jobs.load_experiment(PROJECT_ROOT / "experiments" / "small_loan_models.yaml")
    assert jobs.resolve_parameters(exp, {"seed": 0})["seed"] == 0
    # the seed reaches the LightGBM challenger, whose seeds stop at 2**31-4 (2**32-1 passed here and failed in
    # the notebook: reviewer's finding)
    from creditmodel.scoring.challenger import SEED_MAX

    assert jobs.SEED_MAX == SEED_MAX == 2 ** 31 - 4
    assert jobs.resolve_parameters(exp, {"seed": str(SEED_MAX)})["seed"] == SEED_MAX
    for bad in (-1, SEED_MAX + 1, 2 ** 32 - 1, True, "true"):
        with pytest.raises(InputError) as e:
            jobs.resolve_parameters(exp, jobs.parse_overrides([f"seed={bad}"]) if isinstance(bad, str) else {"seed": bad})
        assert e.value.parameter == "seed" and "parameter 'seed'" in str(e.value), bad


def test_an_empty_path_parameter_is_refused_where_empty_is_not_a_default(tmp_path, monkeypatch):
    """-p out_dir= wrote the quality report into notebooks/quality; "" stays valid where it is the experiment's own
    default (config "" = the packaged indicator file)."""
    from creditmodel import cli

    exp = jobs.load_experiment(PROJECT_ROOT / "experiments" / "public_credit_evaluation.yaml")
    monkeypatch.chdir(tmp_path)
    for name in ("out_dir", "data_dir"):
        with pytest.raises(InputError) as e:
            cli._paths_from_here(exp, {name: ""})
        assert e.value.parameter == name and "empty" in str(e.value)
    assert cli._paths_from_here(exp, {"config": ""}) == {"config": ""}


def test_every_path_parameter_of_an_experiment_is_an_input():
    """A path given with -p is read from the caller's folder only when the experiment lists it under ``inputs``:
    ``-p config=cfg/x.yaml`` used to be looked up under notebooks/ and not found."""
    for f in sorted((PROJECT_ROOT / "experiments").glob("*.yaml")):
        exp = jobs.load_experiment(f)
        paths = {k for k in exp.parameters if k.endswith(("_dir", "_path", "config")) and k != "out_dir"}
        assert paths <= set(exp.inputs), (f.name, paths - set(exp.inputs))


@pytest.mark.parametrize("name, key, bad, good", [
    ("loan_pricing", "cv_folds", 2, 3), ("loan_pricing", "cv_repeats", 0, 1), ("loan_pricing", "budget", -1.0, 5e7),
    ("loan_pricing", "n_jobs", 0, 2), ("small_loan_models", "n_jobs", -2, 1),
    ("small_loan_models", "central_tendency", 1.5, 0.04), ("small_loan_models", "central_tendency", -0.1, 0.0),
    ("public_credit_evaluation", "horizon_months", 0, 6), ("data_quality", "firms", 3, 10),
    ("model_validation", "cure_months", -3, 12),
])
def test_out_of_range_parameters_are_refused_before_the_notebook_runs(name, key, bad, good):
    """-p cv_folds=1 failed inside the notebook after ~10 s as a FAILED MLflow run, naming a 'column': every
    parameter the library checks is checked by the same function before the kernel starts, naming it."""
    exp = jobs.load_experiment(PROJECT_ROOT / "experiments" / f"{name}.yaml")
    with pytest.raises(InputError) as e:
        jobs.resolve_parameters(exp, {key: bad})
    assert e.value.parameter == key and e.value.file == exp.path and repr(bad) in str(e.value)
    assert jobs.resolve_parameters(exp, {key: good})[key] == good


def test_an_unknown_industry_is_refused_before_the_notebook_runs(tmp_path):
    """-p industry=Z exited 2 only after the evaluation had rewritten the previous run's outputs (analyst's
    finding): every experiment with an industry parameter checks it first, by letter or name."""
    for name in ("public_credit_evaluation", "small_loan_models", "model_validation"):
        exp = jobs.load_experiment(PROJECT_ROOT / "experiments" / f"{name}.yaml")
        with pytest.raises(InputError) as e:
            jobs.resolve_parameters(exp, {"industry": "Z"})
        assert e.value.parameter == "industry" and "unknown industry section 'Z'" in str(e.value), name
        assert jobs.resolve_parameters(exp, {"industry": "制造业"})["industry"] == "制造业"   # a name is fine
    with pytest.raises(InputError):
        jobs.run_experiment(PROJECT_ROOT / "experiments" / "public_credit_evaluation.yaml", {"industry": "Z"},
                            out=tmp_path, progress=False)
    assert not (tmp_path / "mlflow.db").exists()                           # refused before any run or file


def test_a_broken_configuration_file_is_refused_before_the_notebook_runs(tmp_path):
    """A reviewer's finding: an indicator YAML with a mistyped feature failed inside the kernel (a FAILED run after
    3 s); the indicator and pricing configurations are read before any run or file."""
    src = (PROJECT_ROOT / "data" / "public_credit_indicators.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(src.replace("feature: dishonest_debtor_listed\n", "feature: dishonest_debtor_listd\n", 1),
                   encoding="utf-8")
    exp = jobs.load_experiment(PROJECT_ROOT / "experiments" / "public_credit_evaluation.yaml")
    with pytest.raises(ConfigError) as e:
        jobs.resolve_parameters(exp, {"config": str(bad)})
    assert e.value.parameter == "config" and "dishonest_debtor_listd" in str(e.value) and str(bad) in str(e.value)
    pricing = jobs.load_experiment(PROJECT_ROOT / "experiments" / "loan_pricing.yaml")
    (tmp_path / "p.yaml").write_text("lgd: 1.7\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        jobs.resolve_parameters(pricing, {"pricing_config": str(tmp_path / "p.yaml")})
    assert e.value.parameter == "pricing_config"
    with pytest.raises(InputError):
        jobs.run_experiment(PROJECT_ROOT / "experiments" / "public_credit_evaluation.yaml", {"config": str(bad)},
                            out=tmp_path / "o", progress=False)
    assert not (tmp_path / "o" / "mlflow.db").exists()
    assert jobs.resolve_parameters(exp, {"config": str(PROJECT_ROOT / "data" / "public_credit_indicators.yaml")})


def test_run_name_shows_the_parameters_that_differ_from_the_defaults():
    """Every run was named '<experiment> <timestamp>': two runs with other seeds looked alike in MLflow's list."""
    exp = jobs.load_experiment(PROJECT_ROOT / "experiments" / "small_loan_models.yaml")
    default = jobs.resolve_parameters(exp, {})
    assert jobs.run_name(exp, default, now=0).startswith("small_loan_models 19")
    changed = jobs.resolve_parameters(exp, {"seed": 8, "data_dir": "/somewhere/else"})
    name = jobs.run_name(exp, changed, now=0)
    assert name.startswith("small_loan_models seed=8 ") and "somewhere" not in name


def test_notebook_warnings_reach_the_job_result(tmp_path):
    """-p as_of=2030-01-01 (after the snapshot) finished with exit 0 and its warning only inside the notebook
    (helper's finding); the job result and the CLI now carry the notebook's WARNING lines, once each."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=(
        "INFO creditmodel.data.io: loaded\nWARNING creditmodel.evaluation.engine: as-of date 2030-01-01 is after the "
        "data's snapshot date\n")),
        nbformat.v4.new_output("stream", name="stderr", text="WARNING creditmodel.evaluation.engine: as-of date "
                                                             "2030-01-01 is after the data's snapshot date\n"),
        nbformat.v4.new_output("stream", name="stdout", text="a WARNING inside a line is not one\n")]
    nb.cells = [cell]
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, str(path))
    assert jobs.notebook_warnings(path) == [
        "WARNING creditmodel.evaluation.engine: as-of date 2030-01-01 is after the data's snapshot date"]
    assert jobs.notebook_warnings(tmp_path / "missing.ipynb") == []


def test_a_parameter_with_choices_is_checked_before_the_notebook_runs(tmp_path):
    """-p model=xgboost ran notebook 05 until it failed naming "column 'kind'" (analyst helper's finding). An
    experiment may list the values a parameter takes; anything else is refused naming the parameter."""
    exp = jobs.load_experiment(PROJECT_ROOT / "experiments" / "loan_pricing.yaml")
    assert exp.choices["model"] == ("scorecard", "lightgbm")
    assert jobs.resolve_parameters(exp, {"model": "lightgbm"})["model"] == "lightgbm"
    with pytest.raises(InputError) as e:
        jobs.resolve_parameters(exp, jobs.parse_overrides(["model=xgboost"]))
    assert e.value.parameter == "model" and "'xgboost' is not one of scorecard, lightgbm" in str(e.value)
    text = (PROJECT_ROOT / "experiments" / "loan_pricing.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "experiments" / "x.yaml"
    bad.parent.mkdir()
    bad.write_text(text.replace("model: [scorecard, lightgbm]", "model: [lightgbm]")
                   .replace("notebooks/05", str(PROJECT_ROOT / "notebooks" / "05")), encoding="utf-8")
    with pytest.raises(ConfigError) as e:                       # the default must be one of the choices
        jobs.load_experiment(bad)
    assert e.value.column == "choices"


def test_html_copy_of_a_notebook_does_not_warn_about_alt_text(tmp_path, caplog):
    """An analyst saw nbconvert's "Alternative text is missing on N image(s)" on every run, even under -q."""
    import base64
    import logging

    import nbformat
    from nbconvert import HTMLExporter

    from creditmodel import jobs

    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d"
        "0000000049454e44ae426082")).decode()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "plot()", outputs=[nbformat.v4.new_output("display_data", data={"image/png": png})])])
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, str(path))
    with caplog.at_level(logging.WARNING):
        HTMLExporter().from_notebook_node(nb)               # nbconvert itself warns
    assert "Alternative text is missing" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        html = jobs._to_html(path)
    assert html is not None and "<img" in html.read_text(encoding="utf-8")
    assert "Alternative text is missing" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):                  # the filter is removed after the export
        HTMLExporter().from_notebook_node(nb)
    assert "Alternative text is missing" in caplog.text


def test_migration_dates_are_checked_before_the_kernel(tmp_path):
    """An analyst's findings: -p migration_to=2030-12-31 (after the district's snapshot) ran and reported a migration
    made up from no data (and tagged the model versions red); migration_from=2023/12/31 was taken; a migration_to
    before migration_from failed inside the kernel after 8 s."""
    from creditmodel.data.synthetic import generate_district

    exp = jobs.load_experiment(PROJECT_ROOT / "experiments" / "model_validation.yaml")
    for k, bad in (("migration_from", "2023/12/31"), ("migration_to", "end of 2024")):
        with pytest.raises(InputError, match="YYYY-MM-DD") as e:
            jobs.resolve_parameters(exp, jobs.parse_overrides([f"{k}={bad}"]))
        assert e.value.parameter == k
    with pytest.raises(InputError, match="must be after migration_from 2024-06-30") as e:
        jobs.resolve_parameters(exp, {"migration_from": "2024-06-30", "migration_to": "2024-06-30"})
    assert e.value.parameter == "migration_to"
    district = tmp_path / "d"
    generate_district(firms=300, seed=11, out=district, progress=False)
    snap = json.loads((district / "manifest.json").read_text(encoding="utf-8"))["snapshot_date"][:10]
    late = {"data_dir": str(district), "migration_to": "2030-12-31"}
    with pytest.raises(InputError, match=f"after the district's snapshot date {snap}") as e:
        jobs._settle_district(exp, jobs.resolve_parameters(exp, late), late, None)
    assert e.value.parameter == "migration_to"
    fine = {"data_dir": str(district), "migration_to": snap}       # the snapshot itself is a valid end
    jobs._settle_district(exp, jobs.resolve_parameters(exp, fine), fine, None)


def test_a_bad_model_name_or_a_file_to_price_without_pd_is_refused_before_the_kernel(tmp_path):
    """An analyst's findings: -p model_name="bad name/x" trained for 29 s and failed in the registration (exit 1);
    notebook 05 with a scores_path lacking pd_12m failed in the kernel after ~40 s of cross-validation."""
    slm = jobs.load_experiment(PROJECT_ROOT / "experiments" / "small_loan_models.yaml")
    for bad in ("bad name/x", "a:b", "", " district_pd", "a..b"):
        with pytest.raises(InputError) as e:
            jobs.resolve_parameters(slm, {"model_name": bad})
        assert e.value.parameter == "model_name", bad
    assert jobs.resolve_parameters(slm, {"model_name": "district_pd_v2"})["model_name"] == "district_pd_v2"
    lp = jobs.load_experiment(PROJECT_ROOT / "experiments" / "loan_pricing.yaml")
    no_pd = tmp_path / "scores.csv"
    no_pd.write_text("uscc,score\nX,600\n", encoding="utf-8")
    with pytest.raises(InputError, match="no pd_12m column") as e:
        jobs.resolve_parameters(lp, {"scores_path": str(no_pd)})
    assert (e.value.parameter, e.value.column, Path(e.value.file)) == ("scores_path", "pd_12m", no_pd)
    header = tmp_path / "header.csv"
    header.write_text("uscc,pd_12m\n", encoding="utf-8")
    with pytest.raises(InputError, match="no data rows") as e:
        jobs.resolve_parameters(lp, {"scores_path": str(header)})
    assert e.value.parameter == "scores_path"
    import pandas as pd

    good = tmp_path / "good.parquet"
    pd.DataFrame({"uscc": ["X"], "pd_12m": [0.02]}).to_parquet(good)
    assert jobs.resolve_parameters(lp, {"scores_path": str(good)})["scores_path"] == str(good)


def test_a_budget_below_the_minimum_loan_or_a_folder_to_price_is_refused_before_the_kernel(tmp_path):
    """A reviewer's findings: -p budget=50000 (below the 100,000-yuan minimum loan: no loan possible) was found only
    after the cross-validation, and -p scores_path=<a folder> failed inside the kernel; both are refused before the
    kernel starts, naming the parameter, and so is a pricing YAML written in percent."""
    from creditmodel.pricing_allocation import AllocationRules

    lp = jobs.load_experiment(PROJECT_ROOT / "experiments" / "loan_pricing.yaml")
    least = AllocationRules().min_loan
    for bad in (50_000.0, least - 1):
        with pytest.raises(InputError, match="below the minimum loan of 100,000 yuan") as e:
            jobs.resolve_parameters(lp, {"budget": bad})
        assert e.value.parameter == "budget" and e.value.file == lp.path
    assert jobs.resolve_parameters(lp, {"budget": least})["budget"] == least
    with pytest.raises(InputError, match="is a folder") as e:
        jobs.resolve_parameters(lp, {"scores_path": str(tmp_path)})
    assert e.value.parameter == "scores_path" and Path(e.value.file) == tmp_path
    with pytest.raises(InputError, match="not found") as e:
        jobs.resolve_parameters(lp, {"scores_path": str(tmp_path / "nope.csv")})
    assert e.value.parameter == "scores_path"
    (tmp_path / "pct.yaml").write_text("opex: 0.8\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"0\.8 % is 0\.008") as e:
        jobs.resolve_parameters(lp, {"pricing_config": str(tmp_path / "pct.yaml")})
    assert (e.value.parameter, e.value.column) == ("pricing_config", "opex")
    with pytest.raises(InputError):   # and no run nor file
        jobs.run_experiment(lp.path, {"budget": 50_000.0}, out=tmp_path / "o", progress=False)
    assert not (tmp_path / "o" / "mlflow.db").exists()


def _fake_papermill(monkeypatch) -> dict:
    """papermill.execute_notebook replaced by a copy of the notebook (no kernel): records the store the kernel would
    have been given."""
    import os
    import shutil

    import papermill

    seen: dict = {}

    def execute(src, dst, **kw):
        seen.update(uri=os.environ.get("MLFLOW_TRACKING_URI"), registry=os.environ.get("MLFLOW_REGISTRY_URI"),
                    params=kw.get("parameters"))
        shutil.copy(src, dst)

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return seen


def _project_with_out_dir(root: Path) -> Path:
    """:func:`_failing_project` whose notebook has an ``out_dir`` parameter (default and experiment value
    ``files``)."""
    exp = _failing_project(root)
    nb_path = root / "notebooks" / "fail.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[0] = nbformat.v4.new_code_cell("level: int = 1\nout_dir: str = 'files'")
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, nb_path)
    exp.write_text("notebook: notebooks/fail.ipynb\nexperiment: failing\nparameters:\n  level: 3\n  out_dir: files\n",
                   encoding="utf-8")
    return exp


def test_an_exported_tracking_uri_that_splits_runs_from_files_is_said(tmp_path, monkeypatch, caplog):
    """A reviewer's finding: with MLFLOW_TRACKING_URI exported (creditmodel lab exported one) `creditmodel run
    --out X` recorded its run in the exported store, not in X, without a word. The lab no longer exports it; a
    variable the user exported still wins (MLflow's convention: a team's tracking server), and the run says that its
    runs and files are apart."""
    seen = _fake_papermill(monkeypatch)
    (tmp_path / "elsewhere").mkdir()
    other = f"sqlite:///{(tmp_path / 'elsewhere').resolve() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", other)
    exp = _project_with_out_dir(tmp_path / "proj")
    out = tmp_path / "x"
    with caplog.at_level("WARNING", logger="creditmodel.jobs"):
        res = jobs.run_experiment(exp, {"out_dir": str(out)}, out=out, progress=False)
    assert res.ok, res.error
    assert seen["uri"] == other
    assert _client(tmp_path / "elsewhere").get_run(res.run_id).info.status == "FINISHED"
    assert f"the run is recorded in {other} (from $MLFLOW_TRACKING_URI) while the notebook writes its files to " \
           f"{out.resolve()}: unset MLFLOW_TRACKING_URI" in caplog.text


def test_a_run_says_when_its_store_is_not_where_the_notebook_writes(tmp_path, monkeypatch, caplog):
    """Without --out the store is $MLFLOW_TRACKING_URI or $CREDITMODEL_OUT: the run says so when the notebook writes
    its files elsewhere (a job run in a terminal of `creditmodel lab --out DIR` split them without a word)."""
    seen = _fake_papermill(monkeypatch)
    exp = _project_with_out_dir(tmp_path / "proj")
    nb_path = exp.parent.parent / "notebooks" / "fail.ipynb"
    monkeypatch.setenv(tracking.ENV_OUT, str(tmp_path / "store"))
    with caplog.at_level("WARNING", logger="creditmodel.jobs"):
        res = jobs.run_experiment(exp, {}, progress=False)
    files = (nb_path.parent / "files").resolve()
    assert res.ok and seen["params"]["out_dir"] == "files"
    assert f"the run is recorded in sqlite:///{(tmp_path / 'store').resolve() / 'mlflow.db'} (from $CREDITMODEL_OUT) " \
           f"while the notebook writes its files to {files}" in caplog.text
    caplog.clear()
    monkeypatch.delenv(tracking.ENV_OUT)
    with caplog.at_level("WARNING", logger="creditmodel.jobs"):
        res = jobs.run_experiment(exp, {}, progress=False)   # one folder for both: nothing to say
    assert res.ok and "the run is recorded in" not in caplog.text
    assert _client(files).get_run(res.run_id).info.status == "FINISHED"


def test_an_experiment_is_found_from_any_folder(tmp_path, monkeypatch):
    """`creditmodel run experiments/loan_pricing.yaml` worked only from the project's root: elsewhere it was
    'experiment file not found' with no hint where the experiments are."""
    from creditmodel.errors import InputError
    from creditmodel.jobs import load_experiment
    from creditmodel.reference import PROJECT_ROOT

    monkeypatch.chdir(tmp_path)
    want = (PROJECT_ROOT / "experiments" / "loan_pricing.yaml").resolve()
    for given in ("experiments/loan_pricing.yaml", "loan_pricing.yaml", "loan_pricing"):
        assert load_experiment(given).path.resolve() == want
    with pytest.raises(InputError, match="the project's experiments .*loan_pricing, model_validation"):
        load_experiment("loan_pricng")


def test_a_copied_store_refuses_to_write_its_runs_into_the_original(tmp_path, monkeypatch):
    """An analyst's finding: `cp -r out/demo copy` then `creditmodel run ... --out copy` recorded the runs in the
    copy's mlflow.db but wrote their notebooks, figures and models into out/demo/mlartifacts (MLflow keeps the
    experiment's absolute path). The run is refused before it starts, naming both folders; the original still runs."""
    import shutil

    seen = _fake_papermill(monkeypatch)
    exp = _project_with_out_dir(tmp_path / "proj")
    first = tmp_path / "first"
    res = jobs.run_experiment(exp, {"out_dir": str(first)}, out=first, progress=False)
    assert res.ok, res.error
    shutil.copytree(first, tmp_path / "copy")
    before = sorted(p.name for p in (first / "mlartifacts").rglob("*"))
    tracking._configured.clear()
    seen.clear()
    with pytest.raises(InputError) as e:
        jobs.run_experiment(exp, {"out_dir": str(tmp_path / "copy")}, out=tmp_path / "copy", progress=False)
    msg = str(e.value)
    assert str((first / "mlartifacts").resolve()) in msg and str((tmp_path / "copy" / "mlartifacts").resolve()) in msg
    assert "copied or moved" in msg and not seen                       # refused before the notebook ran
    assert sorted(p.name for p in (first / "mlartifacts").rglob("*")) == before
    again = jobs.run_experiment(exp, {"out_dir": str(first)}, out=first, progress=False)
    assert again.ok, again.error


def test_cure_months_names_both_spellings_of_never():
    """'or None (never cured; 0 as a job parameter)' named a value a job parameter cannot take first (an analyst's
    finding)."""
    from creditmodel.scoring.district import check_cure_months

    for bad in (-3, 0, 1.5, True):
        with pytest.raises(InputError) as e:
            check_cure_months(bad)
        assert e.value.parameter == "cure_months" and str(e.value) == (
            "parameter 'cure_months': cure_months must be a whole number of months >= 1, or never cured (0 as a job "
            f"parameter, None in Python), not {bad!r}")
    check_cure_months(None)
    check_cure_months(6)
