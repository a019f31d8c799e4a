"""The in-process CLI runner the tests use (tests/cli_in_process.py) answers as a ``python -m creditmodel.cli``
process does, and leaves the test process as it found it."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import warnings

import pandas as pd
from cli_in_process import run_cli

from creditmodel import cli


def _scores(path) -> None:
    """Four rows of which none can be priced (three in default, one error row): a warning in the log, exit 0."""
    pd.DataFrame({"uscc": ["A", "B", "C", "D"], "pd_12m": [1.0, 1.0, 1.0, None],
                  "status": ["ok", "ok", "ok", "error"]}).to_csv(path, index=False)


def _process(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "creditmodel.cli", *args], capture_output=True, text=True, cwd=cwd)


def _same(text: str, tmp) -> str:
    """Clock times and the temporary folder aside."""
    return re.sub(r"\b\d\d:\d\d:\d\d\b", "HH:MM:SS", text).replace(str(tmp), "TMP")


def test_exit_code_stdout_and_log_lines_are_those_of_a_process(tmp_path):
    _scores(tmp_path / "s.csv")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cases = [("price", "--scores", "s.csv", "--out", "{}/priced.csv"),   # exit 0, a WARNING line on stderr
             ("price", "--scores", "missing.csv", "--out", "{}/x.csv"),    # exit 2, the error line
             ("price", "--scores", "s.csv", "--bogus"),                   # exit 2, click's usage error
             ("-q", "price", "--scores", "s.csv", "--out", "{}/q.csv")]   # -q: no INFO lines
    for case in cases:
        got = run_cli(*[a.format("a") for a in case], cwd=tmp_path)
        want = _process(*[a.format("b") for a in case], cwd=tmp_path)
        assert got.returncode == want.returncode, (case, got.stderr, want.stderr)
        assert _same(got.stdout, tmp_path).replace("a/", "b/") == _same(want.stdout, tmp_path), case
        assert _same(got.stderr, tmp_path).replace("a/", "b/") == _same(want.stderr, tmp_path), case
    assert "WARNING" in want.stderr and "no row priced of 4" in want.stderr   # the comparison saw a log line
    assert pd.read_csv(tmp_path / "a" / "priced.csv").equals(pd.read_csv(tmp_path / "b" / "priced.csv"))


def test_the_test_process_is_left_as_it_was(tmp_path, monkeypatch):
    import mlflow
    from mlflow.tracking._tracking_service import utils as tracking_utils

    from creditmodel import tracking

    _scores(tmp_path / "s.csv")
    monkeypatch.setattr(tracking_utils, "_tracking_uri", tracking_utils._tracking_uri)   # put back at the end
    tracking.configure(tmp_path / "store")
    tracking.experiment_id("empty", tmp_path / "store")   # a store without models for promote to look in
    # values the CLI would change: MLflow's logger level (it quietens it) and MLflow's tracking URI (promote sets it)
    tracking_utils._tracking_uri = f"sqlite:///{tmp_path / 'mine.db'}"
    level = logging.getLogger("mlflow").level
    logging.getLogger("mlflow").setLevel(15)
    root = logging.getLogger()

    def state():
        return (dict(os.environ), os.getcwd(), root.handlers[:], root.level, mlflow.get_tracking_uri(),
                logging.getLogger("mlflow").level, sys.argv[:], mlflow.active_run())

    try:
        before = state()
        r = run_cli("--store", str(tmp_path / "store"), "price", "--scores", "s.csv", "--out", "p.csv", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "p.csv").is_file()   # relative paths were read in cwd
        assert state() == before
        r = run_cli("--store", str(tmp_path / "store"), "promote", "nosuch", "--version", "1")
        assert r.returncode == 2 and "no registered model named 'nosuch'" in r.stderr, r.stderr
        assert state() == before
    finally:
        logging.getLogger("mlflow").setLevel(level)


def test_a_python_warning_is_printed_to_stderr_as_a_new_process_prints_it(tmp_path, monkeypatch):
    """pytest records warnings; a process prints them (and hides DeprecationWarnings raised outside __main__)."""
    _scores(tmp_path / "s.csv")
    setup = cli._setup_logging

    def warn_then_setup(verbose, quiet):
        warnings.warn("shown as a process shows it", UserWarning, stacklevel=1)
        warnings.warn("hidden as in a process", DeprecationWarning, stacklevel=1)
        setup(verbose, quiet)

    monkeypatch.setattr(cli, "_setup_logging", warn_then_setup)
    r = run_cli("-q", "price", "--scores", str(tmp_path / "s.csv"), "--out", str(tmp_path / "p.csv"))
    assert r.returncode == 0, r.stderr
    assert "UserWarning: shown as a process shows it" in r.stderr and "hidden as in a process" not in r.stderr
