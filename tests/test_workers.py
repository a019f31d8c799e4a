"""creditmodel.workers: the same results, errors and log lines in process and in worker processes."""
from __future__ import annotations

import io
import logging
import operator

import numpy as np
import pandas as pd
import pytest
from tqdm import tqdm

from creditmodel.errors import InputError
from creditmodel.workers import check_n_jobs, run_tasks, worker_count

LOG = logging.getLogger("creditmodel.test_workers")


@pytest.mark.parametrize("n_jobs", [1, 2, -1])
def test_results_come_back_in_task_order(n_jobs):
    tasks = [(operator.mul, (i, i + 1)) for i in range(7)]
    bar = tqdm(total=len(tasks), file=io.StringIO())
    assert run_tasks(tasks, n_jobs=n_jobs, progress=bar) == [i * (i + 1) for i in range(7)]
    assert bar.n == len(tasks)


def test_worker_log_lines_come_back_in_task_order(caplog):
    # Logger.info pickles by name, so the worker logs to its own "creditmodel.test_workers" logger
    tasks = [(LOG.info, ("task %d of %s", i, "seven")) for i in range(7)] + [(LOG.debug, ("not at INFO",))]
    seen = {}
    for jobs in (1, 2):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="creditmodel"):
            run_tasks(tasks, n_jobs=jobs)
        seen[jobs] = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert seen[1] == [("creditmodel.test_workers", logging.INFO, f"task {i} of seven") for i in range(7)]
    assert seen[2] == seen[1]  # same lines, same order, the DEBUG one filtered in the worker too


class _Keep(logging.Handler):
    """Every record that reaches the handlers, whatever their level."""

    def __init__(self):
        super().__init__(logging.NOTSET)
        self.seen = []

    def emit(self, record):
        self.seen.append((record.levelno, record.getMessage()))


def _lines_with_levels(tasks, child_level: int, n_jobs: int) -> list[tuple[int, str]]:
    """The records the parent's handlers get from ``tasks`` with creditmodel at INFO and LOG at ``child_level``."""
    parent, keep = logging.getLogger("creditmodel"), _Keep()
    old = (parent.level, LOG.level)
    parent.setLevel(logging.INFO)
    LOG.setLevel(child_level)
    parent.addHandler(keep)
    try:
        run_tasks(tasks, n_jobs=n_jobs)
    finally:
        parent.removeHandler(keep)
        parent.setLevel(old[0])
        LOG.setLevel(old[1])
    return keep.seen


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_child_loggers_own_level_holds_in_the_workers(n_jobs):
    """Notebook 05 set creditmodel.scoring to WARNING; the cross-validation's workers logged at creditmodel's
    INFO and the parent handed every record on (Logger.handle skips the level check): 148 lines in the cell. And a
    child set to DEBUG under an INFO creditmodel lost its DEBUG lines in the workers (a reviewer's finding)."""
    quiet = [(LOG.info, ("info %d", i)) for i in range(3)] + [(LOG.warning, ("a warning",))]
    assert _lines_with_levels(quiet, logging.WARNING, n_jobs) == [(logging.WARNING, "a warning")]
    loud = [(LOG.debug, ("debug %d", i)) for i in range(2)]
    assert _lines_with_levels(loud, logging.DEBUG, n_jobs) == [(logging.DEBUG, "debug 0"), (logging.DEBUG, "debug 1")]


def test_a_task_error_keeps_its_class_and_where():
    tasks = [(operator.mul, (2, 3)), (check_n_jobs, (0, "folds"))]
    for jobs in (1, 2):
        with pytest.raises(InputError) as e:
            run_tasks(tasks, n_jobs=jobs)
        assert e.value.parameter == "folds" and str(e.value).startswith("parameter 'folds'")


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2", None])
def test_bad_n_jobs(bad):
    with pytest.raises(InputError) as e:
        run_tasks([(operator.neg, (1,))], n_jobs=bad)
    assert e.value.parameter == "n_jobs" and e.value.column is None


def test_worker_count_is_capped_by_the_tasks():
    assert worker_count(8, 3) == 3
    assert worker_count(-1, 1) == 1
    assert worker_count(1, 10) == 1
    assert 1 <= worker_count(-1, 1000)


def test_cross_validation_checks_n_jobs_before_fitting():
    from creditmodel.credit_decisions import cross_validate_pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=60)})
    y = (rng.random(60) < 0.3).astype(int)
    with pytest.raises(InputError) as e:
        cross_validate_pd(X, y, cv_folds=3, repeats=1, n_jobs=0)
    assert e.value.parameter == "n_jobs" and e.value.column is None
