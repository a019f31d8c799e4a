"""Master scale: DOMAIN.md B3 bands, exact edges, D grade, config validation, score cut-offs and their SQL."""
from __future__ import annotations

import math
import sqlite3

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from creditmodel.errors import ConfigError, InputError
from creditmodel.scoring.master_scale import DEFAULT_BANDS, MasterScale

# DOMAIN.md B3, typed in from the document (grade, PD lower, PD upper, central PD), in per cent
B3 = [("1", 0.05, 0.08, 0.06), ("2", 0.08, 0.16, 0.12), ("3", 0.16, 0.32, 0.23), ("4", 0.32, 0.64, 0.45),
      ("5", 0.64, 1.28, 0.9), ("6", 1.28, 2.56, 1.8), ("7", 2.56, 5.12, 3.6), ("8", 5.12, 10.24, 7.2),
      ("9", 10.24, 20.48, 14.5), ("10", 20.48, 100.0, 30.0)]


def test_default_table_is_domain_b3():
    t = MasterScale().table()
    assert list(t["grade"]) == [g for g, *_ in B3] + ["D"]
    for (g, lo, hi, c), row in zip(B3, t.itertuples()):
        assert row.pd_low == pytest.approx(lo / 100, abs=1e-12)
        assert row.pd_high == pytest.approx(hi / 100, abs=1e-12)
        assert row.central_pd == pytest.approx(c / 100, abs=1e-12)
    assert t.iloc[-1]["pd_low"] == 1.0 and t.iloc[-1]["agency"] == "default"
    assert {"agency", "public_credit"} <= set(t.columns)
    assert t.loc[t["grade"] == "9", "agency"].item() == "CCC"


def test_exact_band_edges_go_to_the_riskier_grade():
    ms = MasterScale()
    for i, (g, lo, hi, _) in enumerate(B3[:-1]):
        edge = hi / 100
        nxt = B3[i + 1][0]
        assert ms.grade(edge)[0] == nxt, (edge, nxt)
        assert ms.grade(np.nextafter(edge, 0.0))[0] == g
    # inside every band, the central PD is graded to its own band
    for g, *_ in B3:
        assert ms.grade(ms.central_pd(g))[0] == g


def test_extremes_default_flag_and_vectorised_order():
    ms = MasterScale()
    assert ms.grade(1.0)[0] == "D"
    assert ms.grade(1 - 1e-6)[0] == "10"
    assert ms.grade(0.0)[0] == "1" and ms.grade(0.0001)[0] == "1"  # below the floor: best grade
    pd_ = np.array([0.001, 0.03, 0.5, 0.001])
    got = ms.grade(pd_, defaulted=np.array([False, True, False, True]))
    assert list(got) == ["2", "D", "10", "D"]
    assert list(ms.grade(pd_, defaulted=[0, 1, 0, 0])) == ["2", "D", "10", "2"]
    with pytest.raises(InputError, match="defaulted"):
        ms.grade(pd_, defaulted=[True])


def test_nan_and_out_of_range_pd():
    ms = MasterScale()
    with pytest.raises(InputError) as e:
        ms.grade([0.01, np.nan, 0.2])
    assert e.value.row == 2 and "NaN" in str(e.value)
    assert list(ms.grade([0.01, np.nan], on_nan="none")) == ["5", None]
    for bad in (-0.01, 1.5):
        with pytest.raises(InputError, match="outside"):
            ms.grade([0.1, bad])


def test_central_pd():
    ms = MasterScale()
    assert ms.central_pd("5") == pytest.approx(0.009)
    assert ms.central_pd("D") == 1.0
    np.testing.assert_allclose(ms.central_pd(["1", "10"]), [0.0006, 0.30])
    with pytest.raises(InputError, match="unknown grade"):
        ms.central_pd("11")


def _bands(**change):
    """Default bands as a list of dicts, with {index: {key: value}} changes."""
    b = [dict(x) for x in DEFAULT_BANDS]
    for i, kv in change.items():
        b[int(i.lstrip("b"))].update(kv)
    return b


@pytest.mark.parametrize("bands, key", [
    (_bands(b3={"pd_low": 0.0030}), "bands[3].pd_low"),                      # gap: not contiguous
    (_bands(b2={"pd_high": 0.0008}), "bands[2].pd_high"),                    # not increasing
    (_bands(b0={"pd_low": -0.1}), "bands[0].pd_low"),                        # outside [0, 1]
    (_bands(b9={"pd_high": 0.9}), "bands[9].pd_high"),                       # last band must end at 1
    (_bands(b4={"central_pd": 0.05}), "bands[4].central_pd"),                # central PD outside band
    (_bands(b5={"pd_low": "abc"}), "bands[5].pd_low"),                       # not a number
    (_bands(b1={"grade": "D"}), "bands[1].grade"),                           # reserved name
    (_bands(b1={"grade": "1"}), "bands[*].grade"),                           # duplicate
    ([{"grade": "1", "pd_low": 0.0}, {"grade": "2", "pd_low": 0.5, "pd_high": 1.0}], "bands[0].pd_high"),
])
def test_invalid_band_configs_name_the_key(bands, key):
    with pytest.raises(ConfigError) as e:
        MasterScale(bands)
    assert key in str(e.value)


def test_custom_bands_and_dataframe_config():
    cfg = pd.DataFrame({"grade": ["A", "B", "C"], "pd_low": [0.0, 0.01, 0.1], "pd_high": [0.01, 0.1, 1.0]})
    ms = MasterScale(cfg)
    assert list(ms.grade([0.0, 0.01, 0.099, 0.1, 1.0])) == ["A", "B", "B", "C", "D"]
    # central PD defaults to the geometric mid-point of the band
    assert ms.central_pd("C") == pytest.approx(math.sqrt(0.1 * 1.0))


class _Platt:
    """A points -> PD map written independently of PDCalibrator: PD = expit(b - a * points)."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def predict(self, s):
        return expit(self.b - self.a * np.asarray(s, dtype=float))


def test_score_cutoffs_match_analytic_inverse_and_sql():
    # 600 points <-> odds 50:1 (good:bad), 20 points to double the odds
    a = math.log(2) / 20
    b = -math.log(50) + a * 600
    cal = _Platt(a, b)
    ms = MasterScale()
    cut = ms.score_cutoffs(cal, 300, 900)
    assert cut.attrs["higher_is_safer"]
    # analytic: PD(s) < edge  <=>  s > (b - logit(edge)) / a, so the lowest integer score of a grade whose lower
    # PD edge is `hi` of the next-safer grade is the smallest integer strictly above that point
    t = ms.table().iloc[:-1]
    for _, row in t.iterrows():
        got = cut.set_index("grade").loc[row["grade"]]
        if row["pd_high"] < 1.0:
            s_star = (b - logit(row["pd_high"])) / a
            expected_low = math.floor(s_star) + 1
            if got["n_scores"]:
                assert got["score_low"] == max(expected_low, 300)
    # every integer score: cut-off lookup, SQL in SQLite and direct grading agree
    scores = np.arange(250, 951)
    direct = ms.grade(cal.predict(np.clip(scores, 300, 900)))
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (score INTEGER)")
    con.executemany("INSERT INTO t VALUES (?)", [(int(s),) for s in scores] + [(None,)])
    sql = MasterScale.grade_sql(cut, "score")
    got = [r[0] for r in con.execute(f"SELECT {sql} FROM t ORDER BY rowid")]
    assert got[:-1] == list(direct) and got[-1] is None
    assert cut["n_scores"].sum() == 601


def test_score_cutoffs_reject_non_monotone_map():
    class Wiggly:
        def predict(self, s):
            return 0.01 + 0.005 * np.sin(np.asarray(s, dtype=float) / 10) ** 2

    with pytest.raises(InputError, match="monotone"):
        MasterScale().score_cutoffs(Wiggly(), 0, 100)


def test_in_default_is_d_even_without_a_pd():
    """grade(on_nan="none") let a missing PD override defaulted=True: None instead of D."""
    from creditmodel.scoring.master_scale import MasterScale

    g = MasterScale().grade([np.nan, np.nan, 0.01], defaulted=[True, False, False], on_nan="none")
    assert list(g) == ["D", None, "5"]
