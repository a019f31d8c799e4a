"""Layout of the model figures (notebooks 03 and 04): every label inside the canvas and readable, and a group
without defaults visible on a log axis, never at a made-up rate (a reader's findings on the demo)."""
from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from creditmodel.scoring import plots as S  # noqa: E402
from creditmodel.validation import plots as V  # noqa: E402

EDGES = [-np.inf, -0.1463012993335724, -0.05984907224774361, -0.009288067929446697, 0.12272756174206734,
         0.2723295986652374, np.inf]
LONG = "C, D, manufacture of other transport equipment, wholesale and retail trade"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _renderer(fig):
    if not isinstance(fig.canvas, FigureCanvasAgg):   # the report figures are made without pyplot
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _inside_canvas(fig, renderer) -> None:
    """Nothing drawn outside the figure, as ``savefig(bbox_inches=None)`` would cut it (1 px of slack)."""
    tight, page = fig.get_tightbbox(renderer), fig.bbox_inches
    slack = 1.0 / fig.dpi
    assert tight.x0 >= page.x0 - slack and tight.y0 >= page.y0 - slack, (tight, page)
    assert tight.x1 <= page.x1 + slack and tight.y1 <= page.y1 + slack, (tight, page)


def _apart(texts, renderer) -> None:
    boxes = [t.get_window_extent(renderer) for t in texts if t.get_text()]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def _points_table() -> pd.DataFrame:
    counts, rates = [155, 311, 343, 1293, 651, 245], [0.12, 0.064, 0.041, 0.025, 0.011, 0.008]
    rows = [{"feature": "annual_roa", "label": f"[{EDGES[i]!r}, {EDGES[i + 1]!r})", "kind": "regular",
             "lower": EDGES[i], "upper": EDGES[i + 1], "count": c, "event_rate": r, "points": p}
            for i, (c, r, p) in enumerate(zip(counts, rates, [8, 12, 16, 21, 30, 30]))]
    rows.append({"feature": "annual_roa", "label": "Missing", "kind": "missing", "lower": np.nan,
                 "upper": np.nan, "count": 80, "event_rate": 0.083, "points": 17})
    for lab, c, r, p in (("A", 815, 0.007, 31), ("B", 1440, 0.027, 20), (LONG, 255, 0.09, 13),
                         ("Missing", 250, 0.07, 17)):
        rows.append({"feature": "tax_grade", "label": lab,
                     "kind": "missing" if lab == "Missing" else "regular", "lower": np.nan, "upper": np.nan,
                     "count": c, "event_rate": r, "points": p})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("feature", ["annual_roa", "tax_grade"])
def test_binning_labels_are_whole_apart_and_inside_the_canvas(feature):
    """Bin labels were cut at 22 characters and rotated against the figure's edge; the points label of the
    riskiest bin ran into the frame and the title."""
    fig = S.binning(_points_table(), feature)
    r = _renderer(fig)
    _inside_canvas(fig, r)
    ax = fig.axes[0]
    ticks = ax.get_xticklabels()
    _apart(ticks, r)
    shown = [t.get_text().replace("\n", " ") for t in ticks]
    if feature == "tax_grade":
        assert LONG in shown                                   # every category named, none cut
    else:
        assert shown[0] == "[-inf, -0.1463)" and shown[-2] == "[0.2723, inf)" and shown[-1] == "Missing"
    frame = ax.get_window_extent(r)
    for a in fig.axes[1].texts:                                # "8 pts" ... inside the axes, under the title
        box = a.get_window_extent(r)
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, a.get_text()


def _no_defaults_marker(ax, label: str):
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith(label)]
    assert len(lines) == 1, [ln.get_label() for ln in ax.get_lines()]
    return lines[0]


def _visible_at_bottom(ax, line, renderer) -> None:
    """The marker is drawn inside the axes (not off the log scale, not clipped), near the bottom edge."""
    frame = ax.get_window_extent(renderer)
    xy = line.get_transform().transform(np.column_stack([ax.xaxis.convert_units(line.get_xdata()),
                                                         np.asarray(line.get_ydata(), float)]))
    assert line.get_visible() and line.get_marker() == "v"
    assert np.all((xy[:, 0] > frame.x0) & (xy[:, 0] < frame.x1)), (xy, frame)
    assert np.all((xy[:, 1] > frame.y0) & (xy[:, 1] < frame.y0 + 0.1 * frame.height)), (xy, frame)


def test_score_by_grade_shows_a_grade_without_defaults():
    """Grade 2 with no default dropped off the log axis: the line fell to the frame from grade 3 and grade 2
    had no mark at all."""
    rng = np.random.default_rng(0)
    gi = np.repeat(np.arange(2, 8), [30, 60, 120, 200, 150, 100])
    pdv = 0.002 * 2.0 ** (gi - 2)
    y = (rng.random(gi.size) < 3 * pdv).astype(int)
    y[gi == 2] = 0
    y[np.flatnonzero(gi == 3)[:2]] = 1
    scored = pd.DataFrame({"status": "ok", "grade": gi.astype(str), "score": 700 - 20 * gi, "pd_12m": pdv})
    fig = S.score_by_grade(scored, y)
    r = _renderer(fig)
    _inside_canvas(fig, r)                                      # the long log-scale label ran off the top
    ax = fig.axes[-1]
    assert ax.get_yscale() == "log"
    zero = _no_defaults_marker(ax, "no defaults")
    assert list(zero.get_xdata()) == ["2"]
    _visible_at_bottom(ax, zero, r)
    observed = next(ln for ln in ax.get_lines() if ln.get_label() == "observed default rate")
    ys = np.asarray(observed.get_ydata(), float)
    assert np.isnan(ys[0]) and np.all(ys[1:] > 0)               # no rate of 0 (or made up) on the log scale
    assert any(t.get_text().startswith("no defaults") for t in ax.get_legend().get_texts())


def test_calibration_vs_truth_marks_a_group_without_defaults_and_its_ticks_do_not_collide():
    """The observed rate 0 of a PD group was drawn at the diagonal's lower end (a rate nobody observed); the
    default minor labels of a two-decade log axis ran into each other."""
    rng = np.random.default_rng(1)
    p = np.sort(rng.uniform(0.002, 0.2, 600))
    y = (rng.random(600) < p).astype(int)
    y[:120] = 0
    fig = S.calibration_vs_truth(p, p * 1.1, y, bins=5)
    r = _renderer(fig)
    _inside_canvas(fig, r)
    ax = fig.axes[0]
    observed = next(ln for ln in ax.get_lines() if ln.get_label() == "observed default rate")
    assert len(observed.get_xdata()) == 4 and np.all(np.asarray(observed.get_ydata(), float) > 0)
    zero = _no_defaults_marker(ax, "no defaults")
    assert len(zero.get_xdata()) == 1
    _visible_at_bottom(ax, zero, r)
    # the legend over no marker or point: it sat on a no-defaults marker ("best"), then on the riskiest group
    assert not ax.get_legend().get_window_extent(r).overlaps(ax.get_window_extent(r))
    for axis in (ax.xaxis, ax.yaxis):
        _apart([t for t in axis.get_ticklabels(which="both") if t.get_visible()], r)


def test_short_bin_labels_stay_upright_and_long_ones_turn():
    """Grades 1..10 were rotated like long score bins, each label set off to the left of its bars."""
    rng = np.random.default_rng(2)
    t = pd.DataFrame({"bin": [str(i) for i in range(1, 11)], "reference_share": rng.uniform(0, 0.3, 10),
                      "actual_share": rng.uniform(0, 0.3, 10)})
    for table, turned in ((t, False), (t.assign(bin=[f"({a}, {a + 8}]" for a in range(561, 641, 8)]), True)):
        fig = V.distribution_figure(table, "Grade distribution", "grade")
        r = _renderer(fig)
        _inside_canvas(fig, r)
        ticks = fig.axes[0].get_xticklabels()
        assert all((tk.get_rotation() != 0) == turned for tk in ticks)
        _apart(ticks, r)


def test_migration_cells_with_a_tiny_share_do_not_read_zero():
    probs = pd.DataFrame([[0.996, 0.004], [0.3, 0.7]], index=["1", "2"], columns=["1", "2"])
    fig = V.migration_figure(probs)
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["0.30", "0.70", "1.00", "<.01"]


def test_a_grade_has_the_same_colour_for_every_model():
    """Grade 6 was dark green beside the challenger's grades 6-9 and yellow beside the champion's 3-10."""
    def bar_colour(grades, grade):
        gi = np.asarray(grades)
        scored = pd.DataFrame({"status": "ok", "grade": gi.astype(str), "score": 700 - 20 * gi,
                               "pd_12m": 0.01})
        ax = S.score_by_grade(scored).axes[1]
        labels = [t.get_text() for t in ax.get_xticklabels()]
        return ax.patches[labels.index(grade)].get_facecolor()

    assert bar_colour([6, 7, 8, 9], "6") == bar_colour([3, 4, 5, 6, 7, 8, 9, 10], "6")
