"""`creditmodel lab` opens JupyterLab on the notebooks with the project's kernel. The server is started once (slow);
the option checks and the environment the server is given are tested with the process replacement (os.execv) caught."""
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

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
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


# ----------------------------------------------------------------------------- options, without a server
class _Exec(Exception):
    """Raised instead of replacing the process: what the server would have been started with."""

    def __init__(self, args, env):
        super().__init__("execv")
        self.args, self.env = list(args), dict(env)


LAB_ENV = ("CREDITMODEL_OUT", "CREDITMODEL_LAB_OUT", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_RUN_ID")


@pytest.fixture
def lab(monkeypatch):
    """Invoke ``creditmodel lab ARGS`` in-process: returns (click result, the _Exec or None). The variables the
    command sets are restored after the test."""
    from click.testing import CliRunner

    from creditmodel import cli

    for var in LAB_ENV:
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)

    def execv(path, args):
        raise _Exec(args, os.environ)

    monkeypatch.setattr(os, "execv", execv)

    def invoke(*args):
        res = CliRunner().invoke(cli.cli, ["lab", *map(str, args)])
        return res, res.exception if isinstance(res.exception, _Exec) else None

    return invoke


def test_lab_checks_the_port_range(lab, tmp_path):
    """A reviewer's finding: --port 70000 was accepted (the server listened on 4464)."""
    for bad in (70000, 0, -1, 65536):
        res, started = lab("--out", tmp_path, "--port", bad)
        assert res.exit_code == 2 and started is None, (bad, res.output)
        assert "--port" in res.output and "1<=x<=65535" in res.output
    res, started = lab("--out", tmp_path, "--port", 65535)
    assert started is not None and "--port=65535" in started.args


def test_lab_refuses_an_empty_token_off_loopback(lab, tmp_path, caplog):
    """A reviewer's finding: --token "" turns JupyterLab's authentication off; with --ip 0.0.0.0 that was
    unauthenticated code execution (as root in the container) for anyone reaching the port."""
    for ip in ("0.0.0.0", "::", "", "192.168.1.5", "example.org", "*"):
        for token in ("", "  "):
            res, started = lab("--out", tmp_path, "--ip", ip, "--token", token)
            assert res.exit_code == 2 and started is None, (ip, token, res.output)
            assert "--token" in res.output and "empty token turns authentication off" in res.output
    for ip in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):   # loopback: allowed, with a warning
        caplog.clear()
        with caplog.at_level("WARNING", logger="creditmodel"):
            res, started = lab("--out", tmp_path, "--ip", ip, "--token", "")
        assert started is not None, (ip, res.output)
        assert "--IdentityProvider.token=" in started.args and "authentication is off" in caplog.text
    res, started = lab("--out", tmp_path, "--ip", "0.0.0.0", "--token", "s3cret")   # a token: any address
    assert started is not None and "--IdentityProvider.token=s3cret" in started.args and "--ip=0.0.0.0" in started.args
    res, started = lab("--out", tmp_path, "--ip", "0.0.0.0")                         # a random token
    assert started is not None and not any(a.startswith("--IdentityProvider.token") for a in started.args)


def test_lab_out_decides_where_the_notebooks_write(lab, tmp_path, monkeypatch, caplog):
    """A reviewer's finding: `lab --out DIR` exported MLFLOW_TRACKING_URI for DIR while the notebooks kept writing their
    files to ../out/demo (runs and files split). The server now gets $CREDITMODEL_LAB_OUT = DIR, which
    tracking.notebook_out_dir gives a notebook run by hand there, and no store variable of the lab's own: the
    notebook's store is the one under its out_dir. A variable the user exported (a tracking server) is kept, and the
    split named."""
    from creditmodel import tracking

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    out = tmp_path / "lab"
    with caplog.at_level("WARNING", logger="creditmodel"):
        res, started = lab("--out", out)
    assert started is not None, res.output
    env = started.env
    assert env[tracking.ENV_LAB_OUT] == env[tracking.ENV_OUT] == str(out.resolve())
    assert "MLFLOW_TRACKING_URI" not in env and "MLFLOW_REGISTRY_URI" not in env
    assert "record their MLflow runs" not in caplog.text
    # a notebook run by hand in that JupyterLab (the environment the server got): its default out_dir becomes DIR,
    # and so its store
    out_dir = tracking.notebook_out_dir("../out/demo")
    assert out_dir == str(out.resolve())
    assert tracking.tracking_uri(out_dir) == f"sqlite:///{out.resolve() / 'mlflow.db'}"
    assert tracking.notebook_out_dir("../out/mine") == "../out/mine"        # a folder the user chose is kept
    monkeypatch.setenv("MLFLOW_RUN_ID", "abc")                               # under creditmodel run: as injected
    assert tracking.notebook_out_dir("../out/demo") == "../out/demo"
    # an exported store (a tracking server) is kept, and the split is named
    monkeypatch.delenv("MLFLOW_RUN_ID")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    caplog.clear()
    with caplog.at_level("WARNING", logger="creditmodel"):
        res, started = lab("--out", out)
    assert started is not None and started.env["MLFLOW_TRACKING_URI"] == "http://mlflow.example:5000"
    assert "record their MLflow runs in MLFLOW_TRACKING_URI=http://mlflow.example:5000" in caplog.text


def test_notebook_data_dir_follows_the_lab_folder(tmp_path, monkeypatch):
    """With `lab --out DIR`, a notebook's default data_dir is DIR/district when that holds a district or the demo's
    folder holds none (a district is generated under DIR, not into ../out/demo); else the demo's district is read."""
    from creditmodel import tracking

    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    monkeypatch.delenv(tracking.ENV_LAB_OUT, raising=False)
    assert tracking.notebook_data_dir("../out/demo/district", "../out/demo") == "../out/demo/district"   # no lab
    monkeypatch.setenv(tracking.ENV_LAB_OUT, str(tmp_path))
    demo = ROOT / "out" / "demo" / "district"
    has_demo = (demo / "enterprises.parquet").exists() or (demo / "enterprises.csv").exists()
    got = tracking.notebook_data_dir("../out/demo/district", str(tmp_path))
    assert got == ("../out/demo/district" if has_demo else str(tmp_path / "district"))
    (tmp_path / "district").mkdir()
    (tmp_path / "district" / "enterprises.csv").write_text("uscc\n", encoding="utf-8")
    assert tracking.notebook_data_dir("../out/demo/district", str(tmp_path)) == str(tmp_path / "district")
    assert tracking.notebook_data_dir("/data/real", str(tmp_path)) == "/data/real"   # a folder the user chose
