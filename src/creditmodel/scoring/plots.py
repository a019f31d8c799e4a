"""Figures of the small-loan models: IV ranking, binning, score distribution by grade, calibration.

Each function returns a matplotlib Figure (the notebook shows it, ``tracking.log_figure`` logs it).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _plt():
    import matplotlib

    import matplotlib.pyplot as plt

    return plt


def iv_ranking(iv_report: pd.DataFrame, top: int = 25) -> Any:
    """Horizontal bars of information value, selected features highlighted, DOMAIN C2 bands marked."""
    plt = _plt()
    d = iv_report.sort_values("iv", ascending=False).head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(d) + 1.2))
    colors = ["#2b6cb0" if s else "#a0aec0" for s in d.get("selected", pd.Series(True, index=d.index))]
    ax.barh(d["feature"], d["iv"], color=colors)
    for x, lab in ((0.02, "useless"), (0.1, "weak"), (0.3, "medium"), (0.5, "strong")):
        ax.axvline(x, color="#718096", lw=0.6, ls=":")
        ax.text(x, len(d) - 0.55, f" {lab}<", fontsize=7, color="#4a5568", va="bottom")
    ax.set_ylim(-0.6, len(d) + 0.2)   # the band labels above the top bar, not over it (helper-109)
    ax.set_xlabel("information value (blue = in the scorecard)")
    ax.set_title("Feature information value")
    fig.tight_layout()
    return fig


def binning(points_table: pd.DataFrame, feature: str) -> Any:
    """One feature's bins: share of rows (bars), default rate (line) and points (labels)."""
    plt = _plt()
    t = points_table[(points_table["feature"] == feature) & (points_table["count"] > 0)].copy()
    fig, ax = plt.subplots(figsize=(8, 3.4))
    share = t["count"] / t["count"].sum()
    x = np.arange(len(t))
    ax.bar(x, share, color="#bee3f8", label="share of rows")
    ax.set_ylabel("share of rows")
    ax.set_xticks(x, [str(l)[:22] for l in t["label"]], rotation=30, ha="right", fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(x, t["event_rate"], "o-", color="#c53030", label="default rate")
    ax2.set_ylabel("default rate", color="#c53030")
    for xi, (er, pts) in enumerate(zip(t["event_rate"], t["points"])):
        ax2.annotate(f"{int(pts)} pts", (xi, er), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.set_title(f"Bins of {feature}")
    fig.tight_layout()
    return fig


def score_by_grade(scored: pd.DataFrame, y: Any | None = None) -> Any:
    """Score histogram coloured by master-scale grade, and rows and default rate per grade."""
    plt = _plt()
    ok = scored["status"].astype(str) == "ok"
    d = scored.loc[ok].copy()
    d["grade"] = d["grade"].astype(str)
    order = sorted(d["grade"].unique(), key=lambda g: (g == "D", int(g) if g.isdigit() else 99))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.6))
    cmap = plt.get_cmap("RdYlGn_r", max(len(order), 2))
    bins = np.linspace(d["score"].min(), d["score"].max() + 1, 40)
    for i, g in enumerate(order):
        a1.hist(d.loc[d["grade"] == g, "score"].astype(float), bins=bins, color=cmap(i), label=g, alpha=0.9)
    a1.set_xlabel("score (points, higher is safer)")
    a1.set_ylabel("rows")
    a1.legend(title="grade", fontsize=7, ncol=2)
    cnt = d["grade"].value_counts().reindex(order)
    a2.bar(order, cnt.to_numpy(), color=[cmap(i) for i in range(len(order))])
    a2.set_xlabel("grade")
    a2.set_ylabel("rows")
    if y is not None:
        yy = pd.Series(np.asarray(y)[ok.to_numpy()], index=d.index)
        rate = yy.groupby(d["grade"]).mean().reindex(order)
        pdm = d.groupby("grade")["pd_12m"].mean().reindex(order)
        ax = a2.twinx()
        ax.plot(order, rate.to_numpy(), "o-", color="black", label="observed default rate")
        ax.plot(order, pdm.to_numpy(), "s--", color="#2b6cb0", label="mean PD")
        ax.set_yscale("log")
        ax.set_ylabel("12-month default rate / PD (fraction, log scale)")
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Scores and master-scale grades")
    fig.tight_layout()
    return fig


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
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    lo, hi = max(min(m["p"].min(), m["t"].min()) / 1.5, 1e-4), min(max(m["p"].max(), m["t"].max()) * 1.5, 1)
    ax.plot([lo, hi], [lo, hi], color="#a0aec0", lw=1)
    ax.plot(m["p"], m["t"], "o-", color="#2b6cb0", label="true PD (generator)")
    if "y" in m:
        ax.plot(m["p"], m["y"].clip(lower=lo), "x", color="#c53030", label="observed default rate")
    ax.set_xscale("log")
    ax.set_yscale("log")
    names = {10: "decile", 5: "quintile", 4: "quartile"}
    ax.set_xlabel(f"predicted PD (mean of each {names.get(bins, f'1/{bins} of the rows')}; {bins} groups)")
    ax.set_ylabel("true PD / observed rate")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
