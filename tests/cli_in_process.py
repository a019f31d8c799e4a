"""Run ``creditmodel`` in the test process instead of a new Python process.

A ``python -m creditmodel.cli`` process spends about three seconds importing pandas, scikit-learn and MLflow before it
starts (measured: ``score`` on 1,200 rows 3.8 s in a process, of which 2.6 s imports); the suite had about seventy
such calls, several in loops (the first six files converted: 423 s on two workers before, 304 s after).
:func:`run_cli` calls the same entry point, :func:`creditmodel.cli.main`, with the same exit-code contract, and
returns what :func:`subprocess.run` would: a :class:`subprocess.CompletedProcess` with ``returncode``,
``stdout`` and ``stderr`` as text. What a process would not carry over is put back afterwards: ``sys.argv``, the
working folder, ``os.environ`` (MLflow exports its URIs into it), MLflow's tracking and registry URIs, an MLflow run
left open, the root logger's handlers and the loggers' levels, and the warning filters. Warnings are filtered and
printed to ``stderr`` as in a new process (pytest would record them instead).

The CLI's log lines reach ``stderr`` as in a process: pytest's own handlers are taken off the root logger for the
call, so that :func:`logging.basicConfig` in the CLI installs its handler on the captured stream.

What differs from a process: modules are imported once, so a module-level cache or setting made by one call is
there for the next; and output written to the file descriptors themselves (by a child process or a JVM) is not
captured. ``CREDITMODEL_TEST_CLI=process`` runs every call in its own process instead (to check that both ways
agree). Tests about the process itself (the console script, progress bars on a terminal, what Spark writes to the
real stderr, a Ctrl-C) keep :func:`subprocess.run`.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

MODE_ENV = "CREDITMODEL_TEST_CLI"


def run_cli(*args, cwd: str | Path | None = None, env: Mapping[str, str] | None = None,
            ) -> subprocess.CompletedProcess:
    """``creditmodel ARGS`` as :func:`subprocess.run` with ``capture_output=True, text=True`` would run it.

    ``env`` replaces the whole environment for the call, as ``subprocess.run(env=...)`` does.
    """
    argv = [str(a) for a in args]
    if os.environ.get(MODE_ENV, "").strip().lower() == "process":
        return subprocess.run([sys.executable, "-m", "creditmodel.cli", *argv], capture_output=True, text=True,
                              cwd=cwd, env=None if env is None else dict(env))
    return _in_process(argv, cwd, env)


def run_in_process(*args, cwd: str | Path | None = None, env: Mapping[str, str] | None = None,
                   ) -> subprocess.CompletedProcess:
    """:func:`run_cli` always in this process, whatever ``CREDITMODEL_TEST_CLI`` says: for a test that monkeypatches
    the library's functions under the CLI."""
    return _in_process([str(a) for a in args], cwd, env)


def _in_process(argv: list[str], cwd, env) -> subprocess.CompletedProcess:
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    from creditmodel import cli

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    saved = {"argv": sys.argv[:], "cwd": os.getcwd(), "environ": dict(os.environ),
             "tracking": tracking_utils._tracking_uri, "registry": registry_utils._registry_uri,
             "handlers": root.handlers[:], "level": root.level, "run": mlflow.active_run(),
             "levels": {name: lg.level for name, lg in logging.Logger.manager.loggerDict.items()
                        if isinstance(lg, logging.Logger)}}
    code = 0
    try:
        sys.argv = ["creditmodel", *argv]
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        root.handlers[:] = []   # basicConfig in the CLI adds its handler only to a root logger without one
        with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            _process_warnings()
            try:
                cli.main()
            except SystemExit as e:
                code = _exit_code(e.code, err)
            finally:
                for h in root.handlers:
                    h.flush()
    finally:
        while saved["run"] is None and mlflow.active_run() is not None:
            mlflow.end_run("FAILED")   # a process ends its run with itself; here it would stay the active one
        root.handlers[:] = saved["handlers"]
        root.setLevel(saved["level"])
        for name, lg in list(logging.Logger.manager.loggerDict.items()):   # the CLI quietens MLflow's ... loggers
            if isinstance(lg, logging.Logger):
                lg.setLevel(saved["levels"].get(name, logging.NOTSET))
        os.chdir(saved["cwd"])
        os.environ.clear()
        os.environ.update(saved["environ"])
        tracking_utils._tracking_uri = saved["tracking"]
        registry_utils._registry_uri = saved["registry"]
        sys.argv = saved["argv"]
    return subprocess.CompletedProcess(["creditmodel", *argv], code, out.getvalue(), err.getvalue())


def _process_warnings() -> None:
    """The warning filters of a new ``python`` process, and warnings printed to ``sys.stderr`` as it prints them
    (pytest records them instead, which would keep them out of the captured stderr)."""
    warnings.resetwarnings()
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__", append=True)
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category, append=True)

    def show(message, category, filename, lineno, file=None, line=None):
        print(warnings.formatwarning(message, category, filename, lineno, line), end="", file=file or sys.stderr)

    warnings.showwarning = show


def _exit_code(code, err: io.StringIO) -> int:
    """What a process's exit status would be for ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=err)   # sys.exit("text") prints the text and exits 1
    return 1
