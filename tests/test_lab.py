"""`creditmodel lab` opens JupyterLab on the notebooks with the project's kernel."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_lab_serves_notebooks_with_the_project_kernel(tmp_path):
    pytest.importorskip("jupyterlab")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "creditmodel.cli", "lab", "--out", str(tmp_path), "--port",
                             str(port), "--token", "t0ken"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token=t0ken", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"JupyterLab did not start: {proc.stdout.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.5)
        with urllib.request.urlopen(f"{base}/api/kernelspecs?token=t0ken", timeout=10) as r:
            specs = json.loads(r.read())
        argv0 = specs["kernelspecs"]["python3"]["spec"]["argv"][0]
        assert Path(argv0).parent == Path(sys.executable).parent   # the venv's own interpreter, by path
        with urllib.request.urlopen(f"{base}/api/contents/notebooks?token=t0ken", timeout=10) as r:
            names = {c["name"] for c in json.loads(r.read())["content"]}
        assert {f"0{i}_{n}.ipynb" for i, n in enumerate(["data_quality", "public_credit_evaluation",
                "small_loan_models", "model_validation", "loan_pricing"], start=1)} <= names
        with urllib.request.urlopen(f"{base}/lab?token=t0ken", timeout=10) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
