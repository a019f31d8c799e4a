"""Figures of the small-loan models: IV ranking, binning, score distribution by grade, calibration.

Each function returns a matplotlib Figure (the notebook shows it, ``tracking.log_figure`` logs it).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _plt():
    import matplotlib.pyplot as plt

    return plt


def iv_ranking(iv_report: pd.DataFrame, top: int = 25) -> Any:
    """Horizontal bars of information value, selected features highlighted, DOMAIN C2 bands marked."""
    plt = _plt()
    d = iv_report.sort_values("iv", ascending=False).head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(d) + 1.2))
    colors = ["#2b6cb0" if s else "#a0aec0" for s in d.get("selected", pd.Series(True, index=d.index))]
    ax.barh(d["feature"], d["iv"], color=colors)
    # each band named from the line where it starts ("weak<" right of the 0.1 line read as "below 0.1 is weak" or
    # as "weak from here": a validator's finding); above 0.5 "suspicious" (DOMAIN C2: check for leakage)
    for k, (x, lab) in enumerate(((0.02, "weak"), (0.1, "medium"), (0.3, "strong"), (0.5, "suspicious"))):
        ax.axvline(x, color="#c53030" if x == 0.5 else "#718096", lw=0.6, ls=":")
        ax.text(x, len(d) - 0.55 + 0.5 * (k % 2), f" {lab} \u2265 {x:g}", fontsize=7, va="bottom",
                color="#c53030" if x == 0.5 else "#4a5568")   # staggered: 0.02 and 0.1 lie close together
    ax.set_ylim(-0.6, len(d) + 0.75)   # the band labels above the top bar, not over it (helper-109)
    ax.set_xlabel("information value (blue = in the scorecard)")
    shown = "" if len(d) == len(iv_report) else f" (the {len(d)} highest of {len(iv_report)} features)"
    ax.set_title(f"Feature information value{shown}")
    fig.tight_layout()
    return fig


def _edge(v: float, digits: int) -> str:
    if not np.isfinite(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:,.{digits - 4}f}" if abs(v) >= 1e4 else f"{v:.{digits}g}"   # 12,500 rather than 1.25e+04


def _bin_labels(t: pd.DataFrame) -> list[str]:
    """Short labels of the bins: a numerical bin's bounds to 4 significant digits (more where two bounds would
    read the same), a categorical bin's categories as they are."""
    labels = [str(v) for v in t["label"]]
    if not {"lower", "upper", "kind"} <= set(t.columns):
        return labels
    reg = ((t["kind"].astype(str) == "regular") & t["lower"].notna() & t["upper"].notna()).to_numpy()
    if not reg.any():
        return labels
    edges = np.unique(np.r_[t.loc[reg, "lower"].to_numpy(float), t.loc[reg, "upper"].to_numpy(float)])
    digits = 4
    while digits < 12 and len({_edge(e, digits) for e in edges}) < len(edges):
        digits += 1
    for i in np.flatnonzero(reg):
        labels[i] = f"[{_edge(t['lower'].iat[i], digits)}, {_edge(t['upper'].iat[i], digits)})"
    return labels


def _wrap(label: str, width: int, max_lines: int = 5) -> str:
    """``label`` on lines of at most ``width`` characters (a longer word is cut across lines, not dropped)."""
    import textwrap

    lines = textwrap.wrap(label, width=max(width, 4), break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [lines[max_lines - 1][: max(width - 1, 1)] + "…"]
    return "\n".join(lines)


def binning(points_table: pd.DataFrame, feature: str) -> Any:
    """One feature's bins: share of rows (bars), default rate (line) and points (labels).

    Bin labels are horizontal and wrapped to the width of their bin (a numerical bin's bounds rounded to 4
    significant digits), so that none is cut or runs into its neighbour; the figure grows with the lines. A
    list of categories longer than five lines ends in "…" (the points table holds it whole)."""
    plt = _plt()
    t = points_table[(points_table["feature"] == feature) & (points_table["count"] > 0)].copy()
    fontsize = 8 if len(t) <= 8 else 7
    width_in = 8.0
    # characters that fit under one bar: the axes take about 80 % of the width, a character about 0.6 em
    chars = int(0.8 * width_in * 72 / max(len(t), 1) / (0.6 * fontsize))
    labels = [_wrap(lab, chars) for lab in _bin_labels(t)]
    lines = max((lab.count("\n") + 1 for lab in labels), default=1)
    fig, ax = plt.subplots(figsize=(width_in, 3.2 + 0.14 * lines), layout="constrained")
    share = t["count"] / t["count"].sum()
    x = np.arange(len(t))
    ax.bar(x, share, color="#bee3f8", label="share of rows")
    ax.set_ylabel("share of rows")
    ax.set_xticks(x, labels, fontsize=fontsize)
    ax.set_xlim(-0.6, len(t) - 0.4)
    ax2 = ax.twinx()
    rate = t["event_rate"].to_numpy(dtype=float)
    ax2.plot(x, rate, "o-", color="#c53030", label="default rate")
    ax2.set_ylabel("default rate", color="#c53030")
    # room above the highest point for its "pts" label (it ran into the frame and the title)
    top = float(np.nanmax(rate)) if np.isfinite(rate).any() else 0.0
    ax2.set_ylim(0, top * 1.25 if top > 0 else 1.0)
    for xi, (er, pts) in enumerate(zip(rate, t["points"])):
        ax2.annotate(f"{int(pts)} pts", (xi, er), textcoords="offset points", xytext=(0, 6), ha="center",
                     fontsize=8, bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                       "alpha": 0.75})
    ax.set_title(f"Bins of {feature}")
    return fig


def score_by_grade(scored: pd.DataFrame, y: Any | None = None) -> Any:
    """Score histogram coloured by master-scale grade, and rows and default rate per grade."""
    plt = _plt()
    ok = scored["status"].astype(str) == "ok"
    d = scored.loc[ok].copy()
    d["grade"] = d["grade"].astype(str)
    order = sorted(d["grade"].unique(), key=lambda g: (g == "D", int(g) if g.isdigit() else 99))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.6))
    # a grade has the same colour in every figure (by its number on the scale, not its place among the grades
    # present: grade 6 was dark green for one model and yellow for the other)
    cmap = plt.get_cmap("RdYlGn_r")
    top = max([10, *(int(g) for g in order if g.isdigit())])
    colors = [cmap((int(g) - 1) / (top - 1)) if g.isdigit() else "#67000d" if g == "D"
              else cmap(i / max(len(order) - 1, 1)) for i, g in enumerate(order)]
    bins = np.linspace(d["score"].min(), d["score"].max() + 1, 40)
    for g, c in zip(order, colors):
        a1.hist(d.loc[d["grade"] == g, "score"].astype(float), bins=bins, color=c, label=g, alpha=0.9)
    a1.set_xlabel("score (points, higher is safer)")
    a1.set_ylabel("rows")
    a1.legend(title="grade", fontsize=7, ncol=2)
    cnt = d["grade"].value_counts().reindex(order)
    a2.bar(order, cnt.to_numpy(), color=colors)
    a2.set_xlabel("grade")
    a2.set_ylabel("rows")
    if y is not None:
        yy = pd.Series(np.asarray(y)[ok.to_numpy()], index=d.index)
        rate = yy.groupby(d["grade"]).mean().reindex(order)
        pdm = d.groupby("grade")["pd_12m"].mean().reindex(order)
        ax = a2.twinx()
        r = rate.to_numpy(dtype=float)
        # a grade without defaults has no place on a log scale: a marker on the bottom edge, no made-up rate
        ax.plot(order, np.where(r > 0, r, np.nan), "o-", color="black", label="observed default rate")
        ax.plot(order, pdm.to_numpy(), "s--", color="#2b6cb0", label="mean PD")
        ax.set_yscale("log")
        zero = [g for g, v in zip(order, r) if v == 0]
        if zero:
            _mark_no_defaults(ax, zero)
        ax.set_ylabel("12-month default rate / PD\n(fraction, log scale)")
        # above the bars, not over them
        ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False,
                  borderaxespad=0.2, columnspacing=1.0)
    fig.suptitle("Scores and master-scale grades")
    fig.tight_layout()
    return fig


NO_DEFAULTS = "no defaults (0 %: below the log axis)"


def _mark_no_defaults(ax: Any, xs: Any, label: str = NO_DEFAULTS, color: str = "black") -> Any:
    """Downward triangles on the bottom edge of log axes ``ax`` at data positions ``xs``: a group whose
    observed rate is 0, which a log scale cannot show (at no made-up value: y is in axes coordinates)."""
    from matplotlib.transforms import blended_transform_factory

    edge = blended_transform_factory(ax.transData, ax.transAxes)
    (line,) = ax.plot(list(xs), np.full(len(xs), 0.035), "v", ms=8, color=color, mec="white", mew=0.8,
                      transform=edge, label=label, zorder=5)
    return line


def calibration_vs_truth(pd_pred: Any, true_pd: Any, y: Any | None = None, bins: int = 10,
                         title: str = "Calibrated PD against the generator's true PD") -> Any:
    """Mean predicted PD vs mean true PD (and observed rate) per predicted-PD quantile group (``bins`` groups of
    equal size: 10 deciles, 5 quintiles), log-log."""
    plt = _plt()
    p = np.asarray(pd_pred, float)
    t = np.asarray(true_pd, float)
    q = pd.qcut(pd.Series(p).rank(method="first"), bins, labels=False)
    g = pd.DataFrame({"p": p, "t": t, "q": q})
    if y is not None:
        g["y"] = np.asarray(y, float)
    m = g.groupby("q").mean()
    fig, ax = plt.subplots(figsize=(5.2, 5.0))
    lo, hi = max(min(m["p"].min(), m["t"].min()) / 1.5, 1e-4), min(max(m["p"].max(), m["t"].max()) * 1.5, 1)
    ax.plot([lo, hi], [lo, hi], color="#a0aec0", lw=1)
    ax.plot(m["p"], m["t"], "o-", color="#2b6cb0", label="true PD (generator)")
    if "y" in m:
        obs = m["y"].to_numpy(dtype=float)
        pos = obs > 0
        ax.plot(m["p"].to_numpy()[pos], obs[pos], "x", color="#c53030", label="observed default rate")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if "y" in m and (~pos).any():   # was drawn at the diagonal's lower end, a rate nobody observed
        _mark_no_defaults(ax, m["p"].to_numpy()[~pos], color="#c53030",
                          label="no defaults (0 %: below the log axis)")
    # plain fractions at 1, 2, 5 x 10^k: the default labels of a log axis spanning two decades or less put
    # "2x10^-3 3x10^-3 4x10^-2 ..." over one another
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())
    names = {10: "decile", 5: "quintile", 4: "quartile"}
    ax.set_xlabel(f"predicted PD (mean of each {names.get(bins, f'1/{bins} of the rows')}; {bins} groups)")
    ax.set_ylabel("true PD / observed rate")
    ax.set_title(title, fontsize=10)
    # under the axes: inside, "best" put it over the no-defaults markers, "upper left" over the riskiest group
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False,
              columnspacing=1.0, handletextpad=0.4)
    fig.tight_layout()
    return fig
