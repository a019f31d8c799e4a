"""Which folder a district notebook reads, and when it may generate a synthetic district there.

An analyst's mistyped ``data_dir`` must not be analysed as a freshly generated synthetic district, and a folder of
real files must not receive synthetic tables."""
from __future__ import annotations

import json
import logging

import pytest
from cli_in_process import run_cli

from creditmodel import jobs, tracking
from creditmodel.cli import _paths_from_here
from creditmodel.data import ensure_district, has_district
from creditmodel.errors import InputError
from creditmodel.reference import PROJECT_ROOT

EXPERIMENT = PROJECT_ROOT / "experiments" / "data_quality.yaml"


@pytest.fixture(autouse=True)
def _own_store(monkeypatch):
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_RUN_ID", tracking.ENV_OUT):
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)


def test_a_folder_of_other_files_is_refused_and_left_alone(tmp_path):
    real = tmp_path / "snapshot_2025"
    real.mkdir()
    (real / "enterprise_register.csv").write_text("uscc,name\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        ensure_district(real, firms=200, seed=1)
    assert e.value.file == real
    assert "enterprise_register.csv" in str(e.value) and "not a district" in str(e.value)
    assert sorted(p.name for p in real.iterdir()) == ["enterprise_register.csv"]  # nothing written beside it


def test_a_file_is_refused(tmp_path):
    f = tmp_path / "enterprises.xlsx"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="is a file"):
        ensure_district(f, firms=200, seed=1)


def test_a_new_folder_gets_a_synthetic_district_with_a_warning(tmp_path, caplog):
    target = tmp_path / "new" / "district"
    with caplog.at_level(logging.WARNING, logger="creditmodel.data"):
        assert ensure_district(target, firms=200, seed=3) == target
    assert has_district(target)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["firms"], manifest["seed"]) == (200, 3)
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "SYNTHETIC" in r.getMessage()]
    assert len(warned) == 1 and str(target) in warned[0].getMessage()
    # a second call reads what is there: no new generation, no warning
    stamp = (target / "enterprises.parquet").stat().st_mtime_ns
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="creditmodel.data"):
        ensure_district(target, firms=500, seed=9)
    assert (target / "enterprises.parquet").stat().st_mtime_ns == stamp
    assert not caplog.records


def test_an_empty_folder_gets_a_district(tmp_path):
    target = tmp_path / "empty"
    target.mkdir()
    (target / ".keep").write_text("", encoding="utf-8")  # hidden files do not count
    ensure_district(target, firms=200, seed=4)
    assert has_district(target)


def test_cli_paths_are_read_from_the_callers_folder(tmp_path, monkeypatch):
    exp = jobs.load_experiment(EXPERIMENT)
    (tmp_path / "district").mkdir()
    monkeypatch.chdir(tmp_path)
    got = _paths_from_here(exp, {"data_dir": "district", "out_dir": "runs/x", "seed": 5})
    assert got == {"data_dir": str(tmp_path / "district"), "out_dir": str(tmp_path / "runs" / "x"), "seed": 5}
    # absolute paths and parameters that are not paths are left as given
    assert _paths_from_here(exp, {"data_dir": str(tmp_path / "district")}) == {"data_dir": str(tmp_path / "district")}


def test_cli_refuses_a_data_dir_that_does_not_exist(tmp_path):
    res = run_cli("run", str(EXPERIMENT), "-p", "data_dir=out/demo/distrcit", "--out", str(tmp_path / "store"),
                  cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert str(tmp_path / "out" / "demo" / "distrcit") in res.stderr and "does not exist" in res.stderr
    assert "parameter 'data_dir'" in res.stderr and "Traceback" not in res.stderr
    # refused before any job: no MLflow store, nothing generated here or under notebooks/
    assert not (tmp_path / "store").exists() and not (tmp_path / "out").exists()
    assert not (PROJECT_ROOT / "notebooks" / "out" / "demo" / "distrcit").exists()


@pytest.mark.slow
def test_the_notebook_stops_on_a_folder_that_is_not_a_district(tmp_path):
    """End to end: notebook 01 pointed at a folder of other files stops with bad input (exit 2 from the CLI)."""
    real = tmp_path / "snapshot"
    real.mkdir()
    (real / "penalties_2025.csv").write_text("a\n1\n", encoding="utf-8")
    out = tmp_path / "out"
    res = jobs.run_experiment(EXPERIMENT, {"data_dir": str(real), "out_dir": str(out)}, out=out, progress=False)
    assert not res.ok and res.bad_input
    assert "InputError" in res.error and "not a district" in res.error
    assert sorted(p.name for p in real.iterdir()) == ["penalties_2025.csv"]


def test_notebook_01_runs_on_a_district_without_lists(tmp_path):
    """The serious-dishonesty figure cell showed a figure the report does not draw without a lists table
    (FileNotFoundError): a district of the register and a few record tables must run through (a reviewer)."""
    from creditmodel.data.synthetic import generate_district

    d = tmp_path / "district"
    generate_district(firms=300, seed=2, out=d, progress=False)
    (d / "lists.parquet").unlink()
    out = tmp_path / "out"
    res = jobs.run_experiment(EXPERIMENT, {"data_dir": str(d), "out_dir": str(out)}, out=out, progress=False)
    assert res.ok, res.error
    assert not (out / "quality" / "figures" / "serious_dishonesty_definitions.png").exists()
