"""Figures of the validation report (matplotlib, object API: no pyplot state, safe in threads and loops).

Every function returns a :class:`matplotlib.figure.Figure`; :func:`to_png` renders it deterministically.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, NullFormatter

COLORS = {"champion": "#1f5fa8", "challenger": "#d2691e", "reference": "#9a9a9a", "current": "#1f5fa8",
          "bad": "#c0392b", "good": "#2e8b57", "pd": "#c0392b"}


def _fig(w: float = 6.0, h: float = 4.0) -> tuple[Figure, Any]:
    fig = Figure(figsize=(w, h), dpi=100, layout="constrained")
    return fig, fig.add_subplot(1, 1, 1)


def to_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` without a software/date stamp (identical bytes for identical figures)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def roc_figure(curves: Sequence[tuple[str, pd.DataFrame, str]]) -> Figure:
    """ROC curves: ``(name, frame with fpr/tpr, legend label)`` per model."""
    fig, ax = _fig(5.0, 4.4)
    for k, (name, roc, label) in enumerate(curves):
        ax.plot(roc["fpr"], roc["tpr"], lw=1.8, label=label,
                color=COLORS.get(name, COLORS["challenger"] if k else COLORS["champion"]))
    ax.plot([0, 1], [0, 1], ls="--", lw=1, color="#888888", label="random")
    ax.set(xlabel="false positive rate (share of non-defaults flagged)",
           ylabel="true positive rate (share of defaults flagged)", title="ROC curve", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def cap_figure(curves: Sequence[tuple[str, pd.DataFrame, str]], default_rate: float, unit: str = "obligors"
               ) -> Figure:
    """CAP curves with the random and perfect models; ``unit`` names the sample's rows (``loans``, ...)."""
    fig, ax = _fig(5.0, 4.4)
    for k, (name, cap, label) in enumerate(curves):
        ax.plot(cap["population"], cap["defaults"], lw=1.8, label=label,
                color=COLORS.get(name, COLORS["challenger"] if k else COLORS["champion"]))
    ax.plot([0, default_rate, 1], [0, 1, 1], lw=1, color="#2e8b57", ls=":", label="perfect model")
    ax.plot([0, 1], [0, 1], ls="--", lw=1, color="#888888", label="random")
    ax.set(xlabel=f"share of {unit} (riskiest first)", ylabel="share of defaults captured",
           title="Cumulative accuracy profile (CAP)", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def ks_figure(y: np.ndarray, value: np.ndarray, ks: float, at: float, xlabel: str) -> Figure:
    """Empirical CDFs of ``value`` among defaults and non-defaults, with the KS distance marked."""
    fig, ax = _fig(5.5, 4.0)
    for cls, name, col in ((1, "defaults", COLORS["bad"]), (0, "non-defaults", COLORS["good"])):
        v, cnt = np.unique(value[y == cls], return_counts=True)      # ECDF at distinct values only
        ax.step(v, np.cumsum(cnt) / cnt.sum(), where="post", color=col, lw=1.6, label=name)
    fb = np.mean(value[y == 1] <= at)
    fg = np.mean(value[y == 0] <= at)
    ax.vlines(at, min(fb, fg), max(fb, fg), color="black", lw=2, label=f"KS = {ks:.3f}")
    ax.set(xlabel=xlabel, ylabel="cumulative share", title="Kolmogorov-Smirnov", ylim=(0, 1.01))
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def grade_calibration_figure(grades: pd.DataFrame) -> Figure:
    """Observed default rate per grade (Jeffreys 95 % interval) against the grade PD, log scale."""
    from scipy import stats

    fig, ax = _fig(6.5, 4.2)
    t = grades[grades["n"] > 0].reset_index(drop=True)
    x = np.arange(len(t))
    a = t["defaults"] + 0.5
    b = t["n"] - t["defaults"] + 0.5
    lo, hi = stats.beta.ppf(0.025, a, b), stats.beta.ppf(0.975, a, b)
    dr = t["default_rate"].to_numpy(dtype=float)
    pos = dr > 0
    # a grade without defaults has an upper bound only: its bar starts at the bottom of the axis
    # (positive values only: a grade PD of 0 has no place on a log axis, and a floor of 0 was ignored with a warning)
    shown = np.concatenate([lo[pos], t["pd"].to_numpy(dtype=float), hi])
    floor = float(np.nanmin(shown[shown > 0])) / 3
    lo = np.where(pos, lo, floor)
    ax.set_ylim(bottom=floor)
    ax.vlines(x, lo, hi, color=COLORS["current"], lw=3, alpha=0.45, label="observed rate, 95 % Jeffreys interval")
    ax.plot(x[pos], dr[pos], "o", color=COLORS["current"], label="observed default rate")
    ax.plot(x, t["pd"], "_", ms=18, mew=2.5, color=COLORS["pd"], label="grade PD")
    ax.set_yscale("log")
    # the axis ends above the highest bound or PD (room for the legend), not at 100 % where nothing is drawn
    top = float(np.nanmax(np.concatenate([hi, t["pd"].to_numpy(dtype=float)])))
    ax.set_ylim(floor, min(1.0, 3.0 * top))
    if (~pos).any():  # a zero rate has no place on a log scale: marked on the bottom edge, not at a made-up value
        from matplotlib.transforms import blended_transform_factory

        edge = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot(x[~pos], np.full(int((~pos).sum()), 0.035), "v", ms=9, color=COLORS["current"], mec="white",
                mew=0.8, transform=edge, zorder=5,
                label="0 defaults: no rate on a log axis (bar: 95 % upper bound)")
        for xi, n in zip(x[~pos], t.loc[~pos, "n"]):   # said on the plot too, beside the marker
            ax.annotate(f"0 of {int(n):,}", (xi, 0.035), xycoords=edge, xytext=(7, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=7,
                        color=COLORS["current"])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g} %"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(x, t["grade"].astype(str))
    ax.set(xlabel="grade", ylabel="default rate / PD (log scale)", title="Calibration per grade")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, which="major")
    return fig


def calibration_curve_figure(table: pd.DataFrame, challenger: pd.DataFrame | None = None,
                             challenger_name: str = "challenger") -> Figure:
    """Reliability diagram on PD deciles: mean PD against observed default rate (Jeffreys intervals)."""
    fig, ax = _fig(5.0, 4.4)
    for t, name, col in ((table, "champion", COLORS["champion"]), (challenger, challenger_name, COLORS["challenger"])):
        if t is None:
            continue
        ax.errorbar(t["mean_pd"], t["default_rate"],
                    yerr=[np.clip(t["default_rate"] - t["ci_low"], 0, None), np.clip(t["ci_high"] - t["default_rate"], 0, None)],
                    fmt="o-", ms=4, lw=1.2, capsize=2, color=col, label=name)
    hi = float(max(table["ci_high"].max(), table["mean_pd"].max())) * 1.05
    ax.plot([0, hi], [0, hi], ls="--", color="#888888", lw=1, label="perfect calibration")
    # square-root axes: most deciles of a low-default book sit below a few per cent, where linear axes crowd them
    root = np.sqrt(hi)
    ticks = [0.0]
    for v in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0):  # at least a tenth apart
        if v <= hi and np.sqrt(v) - np.sqrt(ticks[-1]) >= 0.1 * root:
            ticks.append(v)
    for axis in ("x", "y"):
        getattr(ax, f"set_{axis}scale")("function", functions=(np.sqrt, np.square))
        getattr(ax, f"set_{axis}ticks")(ticks, [f"{v:g}" for v in ticks])
    ax.set(xlabel="mean PD in the decile (fraction, square-root scale)",
           ylabel="observed default rate (fraction, square-root scale)",
           title="Calibration curve (PD deciles)", xlim=(0, hi), ylim=(0, hi))
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def distribution_figure(table: pd.DataFrame, title: str, xlabel: str, unit: str = "obligors") -> Figure:
    """Reference against current shares per bin (PSI / CSI / grade distribution); ``unit`` names the rows."""
    fig, ax = _fig(7.0, 3.8)
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["reference_share"], width=0.4, color=COLORS["reference"], label="reference")
    ax.bar(x + 0.2, table["actual_share"], width=0.4, color=COLORS["current"], label="current")
    labels = table["bin"].astype(str)
    # rotated only when the labels would not fit under their bars side by side (grades 1..10 were rotated too,
    # which set each one off to the left of its bars)
    slot = 0.8 * fig.get_figwidth() * 72 / max(len(table), 1)       # points per bin, the axes about 80 % wide
    turn = len(table) > 0 and labels.str.len().max() * 0.6 * 7 > 0.9 * slot
    ax.set_xticks(x, labels, rotation=35 if turn else 0, ha="right" if turn else "center",
                  rotation_mode="anchor" if turn else "default", fontsize=7)
    ax.set(ylabel=f"share of {unit}", xlabel=xlabel, title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return fig


def csi_figure(summary: pd.DataFrame, green: float, red: float, top: int = 15) -> Figure:
    """Horizontal bars of the largest CSIs with the amber and red boundaries."""
    t = summary.head(top).iloc[::-1]
    fig, ax = _fig(6.5, max(2.5, 0.3 * len(t) + 1.2))
    ax.barh(np.arange(len(t)), t["csi"], color=COLORS["current"])
    ax.set_yticks(np.arange(len(t)), t["feature"].astype(str), fontsize=8)
    ax.axvline(green, color="#e6a700", ls="--", lw=1, label=f"amber from {green:g}")
    ax.axvline(red, color="#c0392b", ls="--", lw=1, label=f"red above {red:g}")
    ax.set(xlabel="CSI", title=f"Feature stability (top {len(t)})")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return fig


def migration_figure(probs: pd.DataFrame) -> Figure:
    """Heat map of migration probabilities (row = grade at start)."""
    k = probs.shape[0]
    fig, ax = _fig(max(4.5, 0.45 * k + 2), max(4.0, 0.4 * k + 1.5))
    im = ax.imshow(probs.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), probs.columns.astype(str))
    ax.set_yticks(range(k), probs.index.astype(str))
    for i in range(k):
        for j in range(k):
            v = probs.iat[i, j]
            if v > 0:   # a share under 0.005 said "0.00" of a cell that is not empty
                ax.text(j, i, f"{v:.2f}" if v >= 0.005 else "<.01", ha="center", va="center",
                        fontsize=7 if k <= 12 else 6, color="white" if v > 0.5 else "black")
    ax.set(xlabel="grade at end", ylabel="grade at start", title="Rating migration (row shares)")
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def segment_figure(table: pd.DataFrame, title: str, overall: float | None = None, alpha: float = 0.05) -> Figure:
    """Forest plot of AUC with DeLong ``1 - alpha`` intervals per segment."""
    t = table.reset_index(drop=True)
    fig, ax = _fig(6.0, max(2.5, 0.32 * len(t) + 1.3))
    y = np.arange(len(t))[::-1]
    auc_ = t["auc"].to_numpy(dtype=float)
    lo = t["auc_ci_low"].to_numpy(dtype=float)
    hi = t["auc_ci_high"].to_numpy(dtype=float)
    has = np.isfinite(lo) & np.isfinite(hi)
    ax.hlines(y[has], lo[has], hi[has], color=COLORS["current"], lw=2)
    fin = np.isfinite(auc_)
    ax.plot(auc_[fin], y[fin], "o", color=COLORS["current"])
    if overall is not None and np.isfinite(overall):
        ax.axvline(overall, color="#888888", ls="--", lw=1, label=f"all: {overall:.3f}")
        ax.legend(fontsize=8, loc="lower left")
    ax.axvline(0.5, color="#c0392b", ls=":", lw=1)
    # a segment without an AUC says so; one below 0.3 widens the axis (an AUC of 0.26 fell off it and looked like
    # a segment without defaults: an analyst's finding)
    # with the defaults: an AUC on 1 default has no interval and reads as well ranked as one on 50 (L at 0.993 and
    # N at 1.000 on one default each looked like the best-ranked sections: a validator's finding)
    d = t["defaults"].to_numpy(dtype=float) if "defaults" in t else np.full(len(t), np.nan)

    def label(s: Any, n: Any, k: float, f: bool, h: bool) -> str:
        dd = "" if not np.isfinite(k) else f", {int(k)} default{'s' if int(k) != 1 else ''}"
        return f"{s} (n={n}{dd})" + ("" if not f else "" if h else ", no interval") + ("" if f else ", no AUC")

    ax.set_yticks(y, [label(s, n, k, f, h) for s, n, k, f, h in zip(t["segment"], t["n"], d, fin, has)], fontsize=8)
    shown = np.concatenate([auc_[fin], lo[has]])
    left = min(0.3, float(np.floor(shown.min() * 20) / 20) - 0.05) if shown.size else 0.3
    # up to 1.02: a segment at AUC 1.0 (its interval clipped there) showed half a dot on the frame (a validator's
    # finding)
    ax.set(xlabel=f"AUC ({1 - alpha:.0%} DeLong interval)".replace("%", " %"), title=title, xlim=(max(0.0, left), 1.02))
    ax.set_xticks([x for x in ax.get_xticks() if x <= 1.0 + 1e-9])
    ax.grid(alpha=0.3, axis="x")
    return fig


LIGHT_COLORS = {"green": "#2e8b57", "amber": "#e6a700", "red": "#c0392b", "info": "#d9e2ec", "n/a": "#f0f0f0"}


def lights_figure(table: pd.DataFrame, models: Sequence[str]) -> Figure:
    """Traffic-light grid: one row per check (``label``), one column per model, each cell coloured by the
    model's light (column ``<model> light``) and showing its value (``<model> value``)."""
    t = table.reset_index(drop=True)
    n, k = len(t), len(models)
    fig, ax = _fig(2.2 + 1.6 * k + 0.055 * max((len(str(x)) for x in t["label"]), default=10), 0.3 * n + 1.0)
    for j, m in enumerate(models):
        for i in range(n):
            light = str(t.at[i, f"{m} light"]) if pd.notna(t.at[i, f"{m} light"]) else "n/a"
            ax.add_patch(Rectangle((j, n - 1 - i), 0.96, 0.92, color=LIGHT_COLORS.get(light, LIGHT_COLORS["n/a"])))
            v = t.at[i, f"{m} value"]
            ax.text(j + 0.48, n - 1 - i + 0.46, "" if pd.isna(v) else str(v), ha="center", va="center", fontsize=7,
                    color="white" if light in ("green", "red") else "black")
    ax.set_xlim(0, k)
    ax.set_ylim(0, n)
    ax.set_xticks(np.arange(k) + 0.48, list(models), fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(np.arange(n)[::-1] + 0.46, t["label"].astype(str), fontsize=7)
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_title("Validation lights (green / amber / red; grey = informative or not computable)", fontsize=9)
    return fig
