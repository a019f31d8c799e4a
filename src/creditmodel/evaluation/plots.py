"""Figures of the public credit evaluation (matplotlib, headless). Each function returns a Figure.

Labels are English, with the Chinese terms added when a CJK font is installed (no font is downloaded).
"""

from __future__ import annotations

import textwrap

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditmodel.data.quality_plots import cjk_font
from creditmodel.evaluation.config import EvaluationConfig, load_config
from creditmodel.evaluation.engine import grade_table, sector_table
from creditmodel.reference import plan_targets

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from creditmodel.evaluation.evidence import EvidenceResult
    from creditmodel.evaluation.explain import Explanation

#: Grade colours, best to worst (a fifth for longer scales).
GRADE_COLORS = ("#2e7d32", "#9ccc65", "#ffb300", "#c62828", "#6a1b9a")
TARGET, NEUTRAL, BAD, GOOD = "#212121", "#5c6bc0", "#c62828", "#2e7d32"


def _t(en: str, zh: str = "") -> str:
    return f"{en} {zh}" if zh and cjk_font() else en


def _figure(w: float, h: float, ncols: int = 1, nrows: int = 1, **kw):
    import matplotlib.pyplot as plt

    if cjk_font():
        plt.rcParams["font.sans-serif"] = [cjk_font(), *plt.rcParams["font.sans-serif"]]
        plt.rcParams["axes.unicode_minus"] = False
    return plt.subplots(nrows, ncols, figsize=(w, h), squeeze=False, **kw)


def _pct(ax, axis: str = "x") -> None:
    from matplotlib.ticker import PercentFormatter

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(PercentFormatter(1.0, decimals=0))


def _target_share() -> float:
    return float(plan_targets()["excellent_or_good_share"]["target"])


def grade_distribution(frame: pd.DataFrame, config: EvaluationConfig | None = None) -> Figure:
    """Shares of the public credit grades and of the supervision classes (existing enterprises)."""
    cfg = load_config(config)
    live = frame[~frame["deregistered"].to_numpy(dtype=bool)]
    fig, axes = _figure(11, 4, ncols=2)
    ax = axes[0, 0]
    sh = live["public_credit_grade"].value_counts(normalize=True).reindex(cfg.grade_labels, fill_value=0)
    bars = ax.bar([_t(g.label, g.zh) for g in cfg.grades], sh.to_numpy(), color=GRADE_COLORS[: len(sh)])
    for b, v in zip(bars, sh.to_numpy()):
        ax.annotate(f"{v:.1%}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=9)
    top2 = sh.iloc[:2].sum()
    ax.set_title(
        _t(f"Public credit grades (n = {len(live):,}); excellent or good {top2:.1%}", "公共信用评价等级")
    )
    ax.text(
        0.98,
        0.95,
        f"plan target: excellent or good >= {_target_share():.0%}",
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=9,
        color=GOOD if top2 >= _target_share() else BAD,
    )
    _pct(ax, "y")
    ax = axes[0, 1]
    labels = [c.label for c in cfg.supervision.classes]
    sc = live["supervision_class"].value_counts(normalize=True).reindex(labels, fill_value=0)
    bars = ax.bar(
        [f"{c.label}\nx{c.inspection_multiplier:g}" for c in cfg.supervision.classes],
        sc.to_numpy(),
        color=GRADE_COLORS[: len(sc)],
    )
    for b, v in zip(bars, sc.to_numpy()):
        ax.annotate(f"{v:.1%}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=9)
    load = float((sc.to_numpy() * np.array([c.inspection_multiplier for c in cfg.supervision.classes])).sum())
    ax.set_title(_t(f"Supervision classes (inspection multiplier); mean load x{load:.2f}", "分级分类监管"))
    _pct(ax, "y")
    fig.tight_layout()
    return fig


def grades_by(frame: pd.DataFrame, by: str, config: EvaluationConfig | None = None) -> Figure:
    """Stacked grade shares per ``by`` group (``industry`` or ``street``), sorted by the excellent-or-good
    share, with the plan's target and the group sizes."""
    cfg = load_config(config)
    tab = grade_table(frame, by, cfg).sort_values("excellent_or_good_share")
    fig, axes = _figure(10, 0.35 * len(tab) + 1.6)
    ax = axes[0, 0]
    # shortened at a word with an ellipsis ("S Public administration and social o" was cut mid-word)
    names = [f"{k} {textwrap.shorten(str(en or ''), 36, placeholder='…')} (n={n:,})"
             for k, en, n in zip(tab[by], tab["en"], tab["enterprises"])]
    left = np.zeros(len(tab))
    for g, col in zip(cfg.grades, GRADE_COLORS):
        v = tab[f"{g.label}_share"].to_numpy()
        ax.barh(names, v, left=left, color=col, label=_t(g.label, g.zh))
        left += v
    ax.axvline(_target_share(), color=TARGET, ls="--", lw=1)
    ax.text(_target_share(), len(tab) - 0.4, " target A+B", fontsize=8, va="bottom")
    ax.set_xlim(0, 1)
    _pct(ax)
    ax.legend(ncol=len(cfg.grades), loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=8, frameon=False)
    ax.set_title(_t(f"Public credit grades by {by}", "按行业" if by == "industry" else "按街道"), pad=22)
    fig.tight_layout()
    return fig


def sector_grades(frame: pd.DataFrame, config: EvaluationConfig | None = None) -> Figure:
    """Stacked grade shares of each industry (sector) evaluation, with how many enterprises it covers."""
    cfg = load_config(config)
    tab = sector_table(frame, cfg)
    fig, axes = _figure(10, 0.5 * len(tab) + 1.6)
    ax = axes[0, 0]
    names = [f"{r['sector']} (n={int(r['enterprises']):,})" for _, r in tab.iterrows()]
    left = np.zeros(len(tab))
    width = max(len(s.grades) for s in cfg.sectors.values()) if cfg.sectors else 0
    for k in range(width):
        v = np.array(
            [
                r[f"{cfg.sectors[r['sector']].grades[k].label}_share"]
                if k < len(cfg.sectors[r["sector"]].grades)
                else 0.0
                for _, r in tab.iterrows()
            ],
            dtype=float,
        )
        v = np.nan_to_num(v)
        lab = "/".join(dict.fromkeys(s.grades[k].label for s in cfg.sectors.values() if k < len(s.grades)))
        ax.barh(names, v, left=left, color=GRADE_COLORS[k], label=lab)
        left += v
    ax.set_xlim(0, 1)
    _pct(ax)
    ax.legend(ncol=width, loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=8, frameon=False)
    ax.set_title(_t("Industry credit evaluations of the flagship sectors", "行业信用评价"), pad=22)
    fig.tight_layout()
    return fig


def plan_targets_figure(targets: pd.DataFrame) -> Figure:
    """The plan's two evaluation targets against the measured values (from ``plan_targets_table``)."""
    from matplotlib.ticker import PercentFormatter

    from creditmodel.reference import share_text

    fig, axes = _figure(11, 3.1, ncols=2)
    for ax, (_, r) in zip(axes[0], targets.iterrows()):
        v, t = float(r["value"]), float(r["target"])
        met = r["met"] if "met" in r and r["met"] is not None and r["met"] == r["met"] else None
        shown = r["value_text"] if "value_text" in r else share_text(v, t)
        ax.barh(["measured"], [0.0 if v != v else v], color={True: GOOD, False: BAD, None: "#9e9e9e"}[met])
        if pd.notna(r["baseline_2020"]):
            # the plan's own 2020 figure, not a measurement of this district's data (a think tank's finding: a bare
            # "2020" bar beside "measured" read as a fall from 1.4 % to 1.07 %)
            b = float(r["baseline_2020"])
            ax.barh(["plan's 2020\nbaseline"], [b], color="#9e9e9e")
            ax.annotate(f"{b:.1%} (the plan's figure)", (b, 1), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=8, color="#616161")
        ax.axvline(t, color=TARGET, ls="--", lw=1.2)
        hi = max(0.0 if v != v else v, t, float(r["baseline_2020"]) if pd.notna(r["baseline_2020"]) else 0) * 1.15
        ax.set_xlim(0, 1 if t > 0.5 else hi)
        # the value beside its bar: a 0 % bar has no length to see (a reviewer's finding)
        ax.annotate(shown, (0.0 if v != v else v, 0), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize=9)
        status = {True: "met", False: "not met", None: "not measurable"}[met]
        title = textwrap.fill(r["en"], 48)   # the long serious-dishonesty title was cut at the figure's edge
        ax.set_title(_t(f"{title}\nmeasured {shown}, target {r['direction']} {t:.0%}: {status}", r["zh"]),
                     fontsize=10)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if t > 0.5 else 1))
    note = next((str(n) for n in targets.get("note", pd.Series(dtype=object)) if isinstance(n, str) and n), "")
    if note:
        fig.text(0.01, 0.005, textwrap.fill("not measurable: " + note, 150), fontsize=7, color=BAD, va="bottom")
    fig.tight_layout(rect=(0, 0.08 if note else 0, 1, 1))
    return fig


def cap_text(row: pd.Series) -> str:
    """What a grade cap did to an evaluation row, for a title: ``"; capped at C (dishonest_debtor)"`` where the
    cap lowered the grade, ``"; cap at C (dishonest_debtor) did not bind: the score alone gives C"`` where the
    score already gives that grade or a worse one, ``""`` without a cap."""
    cap = row.get("grade_cap")
    if not isinstance(cap, str):
        return ""
    why = str(row.get("cap_reason") or "").split(" (")[0]
    what = f"{cap} ({why})" if why else cap
    from_score = row.get("grade_from_score")
    if isinstance(from_score, str) and from_score == row.get("public_credit_grade"):
        return f"; cap at {what} did not bind: the score alone gives {from_score}"
    return f"; capped at {what}"


def contribution_waterfall(ex: Explanation, max_items: int = 14) -> Figure:
    """Waterfall from the base score through every non-zero contribution to the score, with the grade
    thresholds; a grade cap is named in the title, and said not to bind where the score alone gives the grade
    (:func:`cap_text`)."""
    cfg = ex.config
    c = ex.contributions[ex.contributions["points"] != 0]
    c = c.reindex(c["points"].abs().sort_values(ascending=False).index)
    if len(c) > max_items:
        # the rest as two bars, bonuses and deductions: one net "other +1.07" bar hid a -0.93 deduction (a think
        # tank's finding); each names how many indicators it holds
        rest = c.iloc[max_items - 2 :]["points"]
        others = [{"indicator": f"other {what} ({int(m.sum())})", "en": f"other {what}", "points": float(rest[m].sum())}
                  for what, m in (("bonuses", rest > 0), ("deductions", rest < 0)) if m.any()]
        c = pd.concat([c.iloc[: max_items - 2], pd.DataFrame(others)])
    c = c.sort_values("points", ascending=False)
    fig, axes = _figure(10, 4.6)
    ax = axes[0, 0]
    level = cfg.base_score
    xs = [_t("base", "基础分")]
    ax.bar(0, level, color="#9e9e9e")
    for k, (_, r) in enumerate(c.iterrows(), start=1):
        p = float(r["points"])
        ax.bar(k, p, bottom=level, color=GOOD if p > 0 else BAD)
        ax.annotate(f"{p:+g}", (k, level + max(p, 0)), ha="center", va="bottom", fontsize=8)
        level += p
        xs.append(str(r["indicator"]))
    k = len(xs)
    ax.bar(k, ex.score, color=NEUTRAL)
    ax.annotate(f"{ex.score:g}", (k, ex.score), ha="center", va="bottom", fontsize=9)
    xs.append(_t("score", "得分"))
    for g in cfg.grades[:-1]:   # labels in the right margin, clear of the frame and of the score bar
        ax.axhline(g.min_score, color=TARGET, lw=0.8, ls=":")
        ax.text(1.01, g.min_score, f"{g.label} >= {g.min_score:g}", va="center", ha="left", fontsize=8,
                color=TARGET, transform=ax.get_yaxis_transform(), clip_on=False)
    ax.set_xlim(-0.6, k + 0.6)
    ax.set_xticks(range(len(xs)), xs, rotation=35, ha="right", fontsize=8)
    lo = min(0.0, level, ex.score) - 5
    ax.set_ylim(lo, cfg.base_score + max(5.0, c["points"].clip(lower=0).sum() + 8))
    cap = cap_text(ex.row)
    ax.set_title(
        f"{ex.uscc} ({ex.row.get('industry', '')}): score {ex.score:g}, grade {ex.grade}{cap}", fontsize=10
    )
    ax.set_ylabel("points")
    fig.tight_layout()
    return fig


def repair_figure(whatif: pd.DataFrame, config: EvaluationConfig | None = None) -> Figure:
    """For one enterprise's what-if: the score on each repair date without and with the repair."""
    cfg = load_config(config)
    w = whatif.reset_index(drop=True)
    fig, axes = _figure(10, 0.45 * len(w) + 1.8)
    ax = axes[0, 0]
    y = np.arange(len(w))
    names = [
        f"{r['record_id']} {r['kind']} from {r['earliest_repair_date'].date()}: "
        f"{r['grade_without_repair']} -> {r['grade_with_repair']}"
        for _, r in w.iterrows()
    ]
    ax.hlines(y, w["score_without_repair"], w["score_with_repair"], color="#9e9e9e", lw=2)
    ax.scatter(w["score_without_repair"], y, color=BAD, zorder=3, label="without repair")
    ax.scatter(w["score_with_repair"], y, color=GOOD, zorder=3, label="with repair")
    for g in cfg.grades[:-1]:
        ax.axvline(g.min_score, color=TARGET, lw=0.8, ls=":")
        ax.text(g.min_score, -0.6, f" {g.label} >= {g.min_score:g}", fontsize=7, va="center")
    ax.set_ylim(-0.9, len(w) - 0.5)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("public credit score on the repair date (points)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_title(
        f"Credit repair what-if for {w['uscc'].iloc[0]} (now {w['score_now'].iloc[0]:g}, "
        f"grade {w['grade_now'].iloc[0]})"
        if len(w)
        else "no repairable record",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def evidence_figure(ev: EvidenceResult) -> Figure:
    """Event rate per grade, expert versus learned weight shares, and the AUCs with their intervals."""
    fig, axes = _figure(15, 4.8, ncols=3)
    ax = axes[0, 0]
    r = ev.grade_rates
    ax.bar(r["public_credit_grade"], r["event_rate"], color=GRADE_COLORS[: len(r)])
    for x, v, n in zip(r["public_credit_grade"], r["event_rate"], r["enterprises"]):
        ax.annotate(f"{v:.1%}\n(n={n:,})", (x, v), ha="center", va="bottom", fontsize=8)
    ax.set_title(
        f"Adverse events within {ev.horizon_months} months after {ev.as_of.date()}, by grade", fontsize=10
    )
    _pct(ax, "y")
    ax.set_ylim(0, float(np.nanmax(r["event_rate"])) * 1.3 if len(r) else 1)
    ax = axes[0, 1]
    w = ev.weights.dropna(subset=["expert_share", "learned_share"])
    est = w["estimable"].astype(bool) if "estimable" in w.columns else pd.Series(True, index=w.index)
    agree = w["sign_agrees"].fillna(True).astype(bool)
    for mask, kw in (
        (est & agree, {"color": NEUTRAL, "label": "estimable"}),
        (est & ~agree, {"color": BAD, "label": "estimable, learned sign contradicts the expert"}),
        (~est, {"facecolors": "none", "edgecolors": "#757575",
                "label": f"not identified (< {ev.min_events} events or non-events on one side)"}),
    ):
        if mask.any():
            ax.scatter(w.loc[mask, "expert_share"], w.loc[mask, "learned_share"], **kw)
    big = w.assign(m=np.maximum(w["expert_share"], w["learned_share"].abs())).nlargest(10, "m")
    shown = big.index.union(w.index[~est])  # the ten largest, and every unidentified one
    m = float(max(w["expert_share"].max(), w["learned_share"].abs().max())) * 1.1 if len(w) else 1
    ax.plot([0, m], [0, m], color="#9e9e9e", lw=0.8, ls="--")
    ax.axhline(0, color="#9e9e9e", lw=0.5)
    labels = []
    for i in shown:  # the small ones crowd near the origin
        x = w.loc[i]
        labels.append(((x["indicator"] if est[i] else
                        f"{x['indicator']} (not identified: {int(x['events_hit'])} events / {int(x['n_hit']):,})"),
                       (float(x["expert_share"]), float(x["learned_share"])), "#212121" if est[i] else "#757575"))
    ax.set_xlabel("expert share (points per SD)")
    ax.set_ylabel("learned share (log-odds per SD)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False)
    rho = ev.rank_correlation_text() if ev.comparison else "not computed"
    ax.set_title("Expert vs learned weight shares\n" + textwrap.fill(f"rank correlation {rho}", 62), fontsize=9)
    ax = axes[0, 2]
    d = ev.discrimination
    yy = np.arange(len(d))
    ax.errorbar(d["auc"], yy, xerr=[d["auc"] - d["ci_low"], d["ci_high"] - d["auc"]], fmt="o", color=NEUTRAL)
    ax.set_yticks(yy, d["ranker"], fontsize=8)
    ax.axvline(0.5, color="#9e9e9e", lw=0.8, ls="--")
    ax.set_xlabel("AUC (95 % DeLong interval)")
    ax.set_title("Ranking power for later adverse events", fontsize=10)
    fig.tight_layout()
    _place_labels(axes[0, 1], labels)   # after the layout: a label's place depends on the final axes
    return fig


def _place_labels(ax, labels: list[tuple[str, tuple[float, float], str]]) -> None:
    """Annotate points with labels that do not print over each other: a label that would overlap one already drawn
    moves a line down, then up, and so on (two labels printed over each other read "blacktax_grade_low": a
    reviewer's finding)."""
    renderer = ax.figure.canvas.get_renderer()
    placed = []
    # right of the point, then left of it, a line lower or higher at a time
    places = [(dx, dy, ha) for dy in (0, -8, 8, -16, 16, -24, 24, -32, 32, -40, 40, -48, 48)
              for dx, ha in ((2, "left"), (-2, "right"))]
    for text, xy, color in labels:
        for k, (dx, dy, ha) in enumerate(places):
            a = ax.annotate(text, xy, fontsize=7, xytext=(dx, 2 + dy), textcoords="offset points", color=color,
                            ha=ha)
            box = a.get_window_extent(renderer)
            if k == len(places) - 1 or not any(box.overlaps(b) for b in placed):
                break
            a.remove()
        placed.append(box)


def sensitivity_figure(ev: EvidenceResult, top: int = 15) -> Figure:
    """Tornado: change of the excellent-or-good share when each weight is scaled (e.g. x0.8 and x1.2)."""
    s = ev.sensitivity
    piv = s.pivot(index="indicator", columns="factor", values="delta_excellent_or_good")
    chg = s.groupby("indicator")["grade_changed_share"].max()
    order = piv.abs().max(axis=1).sort_values(ascending=False).index[:top][::-1]
    fig, axes = _figure(10, 0.35 * len(order) + 1.8)
    ax = axes[0, 0]
    for f, col in zip(piv.columns, (GOOD, BAD, NEUTRAL, "#ffb300")):
        ax.barh(
            [f"{k} ({chg[k]:.1%} change grade)" for k in order],
            piv.loc[order, f],
            color=col,
            alpha=0.8,
            label=f"weight x{f:g}",
        )
    ax.axvline(0, color=TARGET, lw=0.8)
    from matplotlib.ticker import FuncFormatter

    # ticks in percentage points, as the label says (they read "-0.3%" under a "percentage points" label)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x * 100:+.2g} pp" if x else "0"))
    ax.set_xlabel("change of the excellent-or-good share (percentage points, pp)")
    ax.legend(fontsize=8)
    ax.set_title("Sensitivity of the grade distribution to each weight", fontsize=10)
    fig.tight_layout()
    return fig
