"""Fits whose bits do not depend on the machine's core count.

NumPy's BLAS (OpenBLAS) and scikit-learn's OpenMP loops split a long sum (``X.T @ g``, a log-loss
gradient) across as many threads as the machine has cores, and the order of a floating-point sum
changes its last bits: the same data, parameters and seed gave a scorecard with different
points and a Platt calibration with different bits with 1 and with 2 threads (``tests/test_threads.py``).
Inside :func:`single_threaded` every BLAS and OpenMP pool runs one thread, so a fit is the same on a
laptop and on a 64-core server. It is also faster here: the scorecard's solvers work on vectors too
short to gain from threads (``bench/RESULTS.md``). Used by the scorecard, the binner, the PD calibrator
and the evaluation's evidence regressions. LightGBM is not affected: the challenger sets its own
thread count (``n_jobs``), and scoring is not limited.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from threadpoolctl import threadpool_limits

F = TypeVar("F", bound=Callable)


def single_threaded():
    """Context manager: one thread in every BLAS and OpenMP pool, restored on exit."""
    return threadpool_limits(limits=1)


def fit_single_threaded(fit: F) -> F:
    """Decorator for a ``fit`` method (or any fitting function): the whole call runs under :func:`single_threaded`."""

    @functools.wraps(fit)
    def wrapper(*args, **kwargs):
        with single_threaded():
            return fit(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
