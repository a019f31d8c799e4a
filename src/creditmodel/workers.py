"""Seeded fits side by side in worker processes, with the results and log lines of an in-process run.

:func:`run_tasks` runs a list of ``(function, args)`` tasks either in this process (``n_jobs=1``) or in
joblib's worker processes, and returns the results in task order either way. The ``creditmodel`` log
records a task emits in a worker come back and are emitted here, in task order, so that ``-v`` output and
the MLflow logs do not depend on ``n_jobs`` (a worker's own logging is not configured and would drop them).
Each fit in this package is seeded and single-threaded (:mod:`creditmodel.threads`), so a result does not
depend on the process it ran in: the model is the same, bit for bit, for any ``n_jobs``. Keep joblib's
default process backend: under ``parallel_config(backend="threading")`` a single-threaded fit would change
the BLAS thread count of the whole process while the others run.

Used by :func:`creditmodel.scoring.train.fit_credit_model` (the cross-fitted calibration folds and the final
fit) and :func:`creditmodel.credit_decisions.cross_validate_pd` (the repeated nested cross-validation).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from creditmodel.errors import InputError

Task = tuple[Callable[..., Any], tuple[Any, ...]]


def check_n_jobs(n_jobs: Any, parameter: str = "n_jobs") -> None:
    """Raise :class:`~creditmodel.errors.InputError` unless ``n_jobs`` is a positive integer or -1 (one per core)."""
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs == 0 or n_jobs < -1:
        raise InputError(f"n_jobs must be a positive number of processes or -1 (one per core), got {n_jobs!r}",
                         parameter=parameter)


def worker_count(n_jobs: int, n_tasks: int) -> int:
    """Processes :func:`run_tasks` starts for ``n_tasks`` tasks: ``n_jobs`` (-1: the cores), at most ``n_tasks``."""
    from joblib import effective_n_jobs

    check_n_jobs(n_jobs)
    return max(1, min(effective_n_jobs(int(n_jobs)), n_tasks))


class _Records(logging.Handler):
    """Keeps the log records of one worker task (message formatted, so they pickle)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


def _levels() -> dict[str, int]:
    """The parent's ``creditmodel`` logger level and every ``creditmodel.*`` logger's own level (set ones only)."""
    levels = {"creditmodel": logging.getLogger("creditmodel").getEffectiveLevel()}
    for name, lg in logging.Logger.manager.loggerDict.items():
        if name.startswith("creditmodel.") and isinstance(lg, logging.Logger) and lg.level != logging.NOTSET:
            levels[name] = lg.level
    return levels


def _in_worker(fn: Callable[..., Any], levels: dict[str, int], *args: Any) -> tuple[Any, list[logging.LogRecord]]:
    """``fn(*args)`` in a worker process with the parent's ``creditmodel`` logger levels (``levels``: a child
    set louder or quieter than ``creditmodel`` keeps its level, so the lines do not depend on ``n_jobs``), the
    records returned to the parent (which emits them through its own handlers) instead of lost."""
    logger = logging.getLogger("creditmodel")
    keep = _Records()
    old = {name: logging.getLogger(name).level for name in levels}
    propagate = logger.propagate
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logger.propagate = False
    logger.addHandler(keep)
    try:
        return fn(*args), keep.records
    finally:
        logger.removeHandler(keep)
        for name, level in old.items():
            logging.getLogger(name).setLevel(level)
        logger.propagate = propagate


def run_tasks(tasks: Iterable[Task], n_jobs: int = 1, progress: Any = None, n_tasks: int | None = None) -> list[Any]:
    """``[fn(*args) for fn, args in tasks]``, in ``n_jobs`` worker processes when that is more than one.

    Results are in task order. Start the longest task first: joblib hands tasks out in order. ``tasks`` may be a
    generator (give ``n_tasks``): its arguments are then built one task at a time in process, and only as the
    workers need them otherwise, not all at once. ``progress`` (optional, a tqdm bar) is advanced by one per
    finished task. An exception raised by a task reaches the caller with its class and attributes (an
    :class:`~creditmodel.errors.InputError` keeps its column).
    """
    if n_tasks is None:
        tasks = list(tasks)
        n_tasks = len(tasks)
    workers = worker_count(n_jobs, n_tasks)
    results: list[Any] = []
    if workers == 1:
        for fn, args in tasks:
            results.append(fn(*args))
            if progress is not None:
                progress.update(1)
        return results
    from joblib import Parallel, delayed

    levels = _levels()
    done = Parallel(n_jobs=workers, return_as="generator")(delayed(_in_worker)(fn, levels, *args) for fn, args in tasks)
    for result, records in done:  # in task order: the workers' log lines come out as in one process
        for rec in records:
            lg = logging.getLogger(rec.name)
            if lg.isEnabledFor(rec.levelno):   # handle() skips the level check: a notebook that set
                lg.handle(rec)                 # creditmodel.scoring to WARNING got 148 INFO lines of the folds
        results.append(result)
        if progress is not None:
            progress.update(1)
    return results
