"""Fits give the same bits whatever the number of BLAS/OpenMP threads (creditmodel.threads).

Without the single-threaded fits these comparisons failed on the project machine: with 2 threads
instead of 1, the 20,000-row auto scorecard had a different intercept, per-bin log-odds and points
table, and the 200,000-row Platt calibration different PDs.
"""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from creditmodel.scoring.calibration import PDCalibrator
from creditmodel.scoring.scorecard import WoEScorecard
from creditmodel.threads import single_threaded
from test_scorecard import SPECIAL, make_frame


def _card_state(card: WoEScorecard) -> tuple:
    return (card.lr_.coef_.tobytes(), card.intercept_, card.points_model_, card.points_C_,
            {f: v.tobytes() for f, v in getattr(card, "_slot_log_odds", {}).items()},
            card.points_table_.to_json(double_precision=15))


def _pools() -> list[tuple[str, int]]:
    return sorted((p["filepath"], p["num_threads"]) for p in threadpool_info())


def test_scorecard_bits_do_not_depend_on_the_thread_count():
    X, y = make_frame(20_000, seed=0)
    states, points = [], []
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            card = WoEScorecard(special_codes=[SPECIAL], random_state=0).fit(X, y)
        states.append(_card_state(card))
        points.append(card.points(X))
    assert states[0][2] == "monotone" or states[0][2] == "woe"
    assert states[0] == states[1]
    assert np.array_equal(points[0], points[1])


@pytest.mark.parametrize("method", ["platt", "auto"])
def test_calibration_bits_do_not_depend_on_the_thread_count(method):
    rng = np.random.default_rng(0)
    raw = rng.normal(600, 50, 200_000)                       # points: higher is safer
    y = (rng.random(raw.size) < 1 / (1 + np.exp((raw - 480) / 30))).astype(int)
    pds = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            pds.append(PDCalibrator(method=method, higher_is_riskier=False).fit(raw, y).predict(raw))
    assert 0.0 < pds[0].mean() < 0.5
    assert pds[0].tobytes() == pds[1].tobytes()


def test_the_callers_thread_limits_come_back_after_a_fit():
    X, y = make_frame(2000, seed=4)
    with threadpool_limits(limits=2):
        before = _pools()
        with single_threaded():
            assert all(n == 1 for _, n in _pools())
        WoEScorecard(special_codes=[SPECIAL], points_model="woe").fit(X, y)
        assert _pools() == before
