"""Every notebook runs top to bottom with its default parameters, as in JupyterLab (no injected values).

The notebooks are copied beside an empty ``out/`` so that their relative defaults (``../out/demo``)
land in a temporary folder; they run in order because 04 validates the models 03 registered.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["01_data_quality", "02_public_credit_evaluation", "03_small_loan_models", "04_model_validation",
             "05_loan_pricing"]


def test_notebooks_run_with_their_defaults(tmp_path, monkeypatch):
    import nbformat
    import papermill as pm

    for k in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "CREDITMODEL_OUT"):
        monkeypatch.delenv(k, raising=False)
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", nb_dir)
    for name in NOTEBOOKS:
        out = tmp_path / f"{name}.out.ipynb"
        pm.execute_notebook(str(nb_dir / f"{name}.ipynb"), str(out), parameters=None, kernel_name="python3",
                            cwd=str(nb_dir), progress_bar=False)
        nb = nbformat.read(str(out), as_version=4)
        assert not nb.metadata["papermill"]["exception"], name
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, (name, errors[:1])
    demo = tmp_path / "out" / "demo"
    assert (demo / "district" / "enterprises.parquet").exists() and (demo / "mlflow.db").exists()
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{demo / 'mlflow.db'}")
    for exp in ("data_quality", "public_credit_evaluation", "small_loan_models", "model_validation", "loan_pricing"):
        e = client.get_experiment_by_name(exp)
        assert e is not None, exp
        runs = client.search_runs([e.experiment_id])
        assert runs and runs[0].info.status == "FINISHED" and runs[0].data.metrics, exp
    assert not os.environ.get("MLFLOW_RUN_ID")
