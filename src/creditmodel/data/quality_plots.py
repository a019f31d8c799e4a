"""Figures of the data-quality report (matplotlib, headless).

Labels are English unless a CJK font is installed (then Chinese terms are added); no font is downloaded.
Each ``plot_*`` function takes a :class:`creditmodel.data.quality.QualityReport` and returns a Figure.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from creditmodel.reference import share_text

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from creditmodel.data.quality import QualityReport

_CJK_HINTS = ("CJK", "WenQuanYi", "SimHei", "Microsoft YaHei", "Source Han", "PingFang", "Heiti", "Songti",
              "Noto Sans SC", "AR PL")
GOOD, BAD, NEUTRAL, TARGET, BASE = "#2e7d32", "#c62828", "#5c6bc0", "#212121", "#9e9e9e"


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of an installed font with Chinese glyphs, or None (checked in matplotlib's font list)."""
    from matplotlib import font_manager

    for f in font_manager.fontManager.ttflist:
        if any(h.lower() in f.name.lower() for h in _CJK_HINTS):
            return f.name
    return None


def _label(en: str, zh: str = "") -> str:
    return f"{en} {zh}" if zh and cjk_font() else en


#: English for the usual words of Chinese department names (longest match first), for figures drawn
#: without a CJK font. Unknown names are numbered instead.
DEPARTMENT_GLOSSARY = {
    "市场监督管理局": "Market Regulation", "消防救援": "Fire and Rescue", "生态环境局": "Ecology and Environment",
    "应急管理局": "Emergency Management", "住房和城乡建设局": "Housing and Construction", "税务局": "Tax Bureau",
    "交通运输局": "Transport", "人力资源和社会保障局": "Human Resources and Social Security",
    "综合行政执法局": "Comprehensive Law Enforcement", "社会保险": "Social Insurance Centre",
    "供电": "Power Supply", "住房公积金": "Housing Provident Fund", "自来水": "Water Supply", "燃气": "Gas Supply",
    "政务服务": "Government Services Office", "发展和改革局": "Development and Reform", "人民法院": "People's Court",
    "法院": "Court", "公安": "Public Security", "卫生健康": "Health", "教育局": "Education", "农业农村": "Agriculture",
    "商务局": "Commerce", "自然资源": "Natural Resources", "文化": "Culture and Tourism", "统计局": "Statistics",
}


def _drawable(text: str, fallback: str) -> str:
    """``text`` when the fonts can draw it; else an English gloss (department words) or ``fallback``."""
    text = str(text)
    if cjk_font() or text.isascii():
        return text
    for zh in sorted(DEPARTMENT_GLOSSARY, key=len, reverse=True):
        if zh in text:
            return DEPARTMENT_GLOSSARY[zh]
    return fallback


def _figure(w: float, h: float, ncols: int = 1, **kw):
    import matplotlib.pyplot as plt

    if cjk_font():
        plt.rcParams["font.sans-serif"] = [cjk_font(), *plt.rcParams["font.sans-serif"]]
        plt.rcParams["axes.unicode_minus"] = False
    return plt.subplots(1, ncols, figsize=(w, h), squeeze=False, **kw)


def close(fig: "Figure") -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def _pct_axis(ax, axis: str = "x") -> None:
    from matplotlib.ticker import PercentFormatter

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(PercentFormatter(1.0, decimals=None))


def plot_completeness(rep: "QualityReport") -> "Figure":
    """Heat map: share of filled cells per mandatory field (rows) and table (columns)."""
    bf = rep.by_field[rep.by_field["mandatory"]]
    tables = list(dict.fromkeys(bf["table"]))
    fields = list(dict.fromkeys(bf["column"]))          # in order of first appearance (table by table)
    mat = bf.pivot(index="column", columns="table", values="completeness").reindex(index=fields, columns=tables)
    vals = mat.to_numpy(dtype=float)
    # colour scale down to the worst cell (at least 1 point wide) so that small gaps are visible
    worst = np.nanmin(vals) if np.isfinite(vals).any() else 1.0
    lo = min(0.99, np.floor(worst * 200) / 200)
    fig, axes = _figure(1.2 + 0.62 * len(tables), 1.2 + 0.24 * len(fields))
    ax = axes[0, 0]
    from matplotlib import colormaps

    cmap = colormaps["RdYlGn"].with_extremes(bad="#eeeeee")  # grey: the field is not in that table
    im = ax.imshow(np.ma.masked_invalid(vals), aspect="auto", cmap=cmap, vmin=lo, vmax=1.0)
    ax.set_xticks(range(len(tables)), tables, rotation=45, ha="right")
    ax.set_yticks(range(len(fields)), fields)
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            v = vals[i, j]
            if np.isfinite(v) and v < 0.99995:
                ax.text(j, i, f"{100 * v:.2f}", ha="center", va="center", fontsize=7)
    ax.set_title(_label("Completeness of mandatory fields (% filled; grey = field not in table)", "必填字段完整率"))
    cb = fig.colorbar(im, ax=ax, fraction=0.03)
    cb.ax.yaxis.set_major_formatter(__import__("matplotlib.ticker").ticker.PercentFormatter(1.0))
    return fig


def _hbar(ax, labels, values, colors, title: str, pct: bool = True, lines: dict[str, float] | None = None) -> None:
    y = np.arange(len(labels))
    ax.barh(y, values, color=colors)
    ax.set_yticks(y, labels)
    if not ax.yaxis_inverted():  # axes sharing y are inverted together
        ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    for name, (x, style) in (lines or {}).items():
        if x is not None and np.isfinite(x):
            ax.axvline(x, color=TARGET if style == "target" else BASE, ls="--" if style == "target" else ":",
                       lw=1.2, label=name)
    if lines:  # below the axes: inside, it covered the last bar (repairs at 100 %)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2, frameon=False)
    if pct:
        _pct_axis(ax)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # "0.00%0.50%1.00%..." ran together
    ax.grid(axis="x", alpha=0.3)


def _bar_values(ax, values, digits: int = 1, target: float | None = None, of=None) -> None:
    """Write each bar's value beside it, and say where a shortened axis starts: a 0 % bar had no length to see
    ("(missing) (n=151)" looked like missing data) and a compliance axis starting at 91 % did not say so (a
    reviewer's findings). ``of``: each bar's denominator, written after its value ("1.45% of 483"). Call after the
    axis limits are set."""
    left, right = ax.get_xlim()
    for y, v in enumerate(values):
        if v is None or not np.isfinite(v):
            continue
        text = share_text(float(v), target, digits)
        if of is not None and np.isfinite(float(of[y])):
            text += f" of {int(of[y]):,}"
        ax.annotate(text, (max(float(v), left), y), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7, clip_on=False)
    if left > 0:
        ax.set_xlabel(((ax.get_xlabel() + "; ") if ax.get_xlabel() else "") + f"axis starts at {left:.0%}",
                      fontsize=8)


def _target(key: str) -> tuple[float | None, float | None]:
    from creditmodel import reference

    spec = reference.plan_targets().get(key, {})
    return spec.get("target"), spec.get("baseline_2020")


#: the pooled bar at the top of the by-table figure
ALL_RECORDS = "all public records"


def plot_by_table(rep: "QualityReport") -> "Figure":
    """Compliance, late-reporting and incompleteness rates of each public-record table, under a first bar of all
    public records pooled (the plan's indicator: each table weighs by its records)."""
    bt = rep.by_table[rep.by_table["public_record"]].copy()
    ind = rep.indicators
    if len(bt) > 1 and "compliance_rate" in bt:   # a reader looked for the total the tables make (a think tank's finding)
        pooled = {"table": ALL_RECORDS, "compliance_rate": ind.get("collection_compliance_rate"),
                  "late_rate": ind.get("late_rate"), "incomplete_rate": ind.get("incomplete_rate")}
        bt = pd.concat([pd.DataFrame([{k: (np.nan if v is None else v) for k, v in pooled.items()}]), bt],
                       ignore_index=True)
    tgt, base = _target("collection_compliance_rate")
    fig, axes = _figure(14, 0.4 * len(bt) + 1.8, ncols=3, sharey=True)
    comp = bt["compliance_rate"].to_numpy(dtype=float)
    if np.isfinite(comp).any():
        _hbar(axes[0, 0], bt["table"], comp, [GOOD if v >= (tgt or 0) else BAD for v in comp],
              _label("Collection compliance rate", "归集合规率"),
              lines={f"2025 target {tgt:.0%}": (tgt, "target"), f"2020 baseline {base:.0%}": (base, "base")})
        axes[0, 0].set_xlim(max(0.0, np.nanmin(comp) - 0.05), 1.0)
        _bar_values(axes[0, 0], comp, target=tgt)
    else:   # no register: whether a record's firm is registered cannot be told
        _hbar(axes[0, 0], bt["table"], np.zeros(len(bt)), NEUTRAL, _label("Collection compliance rate", "归集合规率"))
        axes[0, 0].text(0.5, 0.5, "not measured:\nno enterprise register", transform=axes[0, 0].transAxes,
                        ha="center", va="center", fontsize=10)
    for ax, col, title in ((axes[0, 1], "late_rate", _label(f"Late-reporting rate (> {rep.deadline_days} days)", "迟报率")),
                           (axes[0, 2], "incomplete_rate", _label("Records missing a mandatory field", "必填缺失率"))):
        v = bt[col].to_numpy(dtype=float)
        _hbar(ax, bt["table"], v, NEUTRAL, title)
        ax.set_xlim(0, max(0.01, float(np.nanmax(v)) * 1.1) if np.isfinite(v).any() else 0.01)
    if len(bt) and bt["table"].iloc[0] == ALL_RECORDS:
        for ax in axes[0]:
            ax.axhline(0.5, color=TARGET, lw=0.8)    # the pooled bar apart from the tables'
        axes[0, 0].get_yticklabels()[0].set_fontweight("bold")
    fig.suptitle(_label("Public credit records by table", "按数据表"), fontsize=12)
    fig.tight_layout()
    return fig


def plot_by_department(rep: "QualityReport", top: int = 25) -> "Figure":
    """Compliance rate of the records each department supplied (tables without a department in brackets)."""
    bd = rep.by_department.sort_values(["compliance_rate", "records"], ascending=[True, False]).head(top)
    tgt, base = _target("collection_compliance_rate")
    fig, axes = _figure(9, 0.35 * len(bd) + 1.5)
    labels = [f"{_drawable(s, f'supplier #{i + 1}')} (n={n:,})"
              for i, (s, n) in enumerate(zip(bd["supplier"], bd["records"]))]
    labels = [lab if labels.count(lab) == 1 else f"{lab} #{i + 1}" for i, lab in enumerate(labels)]
    comp = bd["compliance_rate"].to_numpy(dtype=float)
    _hbar(axes[0, 0], labels, comp, [GOOD if v >= (tgt or 0) else BAD for v in comp],
          _label("Collection compliance rate by supplying department", "各部门归集合规率"),
          lines={f"2025 target {tgt:.0%}": (tgt, "target"), f"2020 baseline {base:.0%}": (base, "base")})
    axes[0, 0].set_xlim(max(0.0, np.nanmin(comp) - 0.05) if len(comp) else 0, 1.0)
    _bar_values(axes[0, 0], comp, target=tgt)
    if not cjk_font() and not all(str(s).isascii() for s in bd["supplier"]):
        numbered = "; #k = k-th row of this ranking" if any("#" in lab for lab in labels) else ""
        axes[0, 0].set_xlabel("Chinese department names glossed in English (no CJK font installed)"
                              f"{numbered}; full names in by_department.csv", fontsize=7)
    fig.tight_layout()
    return fig


def plot_uscc_causes(rep: "QualityReport") -> "Figure":
    """Why codes fail: each GB 32100 check, duplicates and pilot-era warnings; register and record tables."""
    uc = rep.uscc_causes
    fig, axes = _figure(12, 0.42 * len(uc) + 1.6, ncols=2, sharey=True)
    colors = [BASE if c == "pilot" else (NEUTRAL if c == "duplicate" else BAD) for c in uc["cause"]]
    n_rec = int(rep.indicators.get("public_records", 0)) - int(rep.indicators.get("enterprises", 0))
    for ax, col, title in ((axes[0, 0], "register_rows",
                            _label(f"Enterprise register ({rep.indicators.get('enterprises', 0):,} rows)", "法人库")),
                           (axes[0, 1], "record_rows", _label(f"Codes on public credit records ({n_rec:,} rows)",
                                                              "信用记录"))):
        v = uc[col].to_numpy()
        _hbar(ax, uc["label"], v, colors, title, pct=False)
        ax.set_xlim(0, max(1, v.max()) * 1.2)
        for i, x in enumerate(v):
            ax.text(x, i, f" {x:,}", va="center", fontsize=8)
    fig.suptitle(_label("Unified social credit code faults by cause (rows)", "统一社会信用代码错误原因"), fontsize=12)
    fig.tight_layout()
    return fig


def plot_targets(rep: "QualityReport") -> "Figure":
    """Each plan indicator: measured value against the 2025 target and the 2020 baseline."""
    tg = rep.targets
    fig, axes = _figure(3.4 * len(tg), 3.2, ncols=len(tg))
    for ax, (_, r) in zip(axes[0], tg.iterrows()):
        title = _label(r["en"], r["zh"])
        ax.set_title("\n".join(_wrap(title, 34)), fontsize=9)
        vals = [r["baseline_2020"], r["value"], r["target"]]
        names = ["2020 baseline", "measured", "2025 target"]
        if r["value"] is None or pd.isna(r["value"]):
            ax.text(0.5, 0.5, "not measured here\n" + "\n".join(_wrap(r["note"], 30)), ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        colors = [BASE, GOOD if r["met"] else BAD, TARGET]
        heights = [np.nan if v is None or pd.isna(v) else float(v) for v in vals]
        ax.bar(names, heights, color=colors)
        for i, v in enumerate(heights):
            if np.isfinite(v):
                ax.text(i, v, f"{100 * v:.3g}%", ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, np.nanmax(heights) * 1.25)
        _pct_axis(ax, "y")
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlabel(f"{r['direction']} target: {'met' if r['met'] else 'NOT met'}", fontsize=8,
                      color=GOOD if r["met"] else BAD)
    fig.suptitle(_label("District plan indicators: measured vs targets", "规划指标与目标"), fontsize=12)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(str(text), width) or [""]


def _plot_breakdown(rep: "QualityReport", df: pd.DataFrame, key: str, title_en: str, title_zh: str) -> "Figure":
    df = df.copy()
    counts = [c for c in ("enterprises", "records") if c in df.columns]
    if counts:  # an empty "(unmatched) (n=0)" bar said nothing
        empty = (df[key] == "(unmatched)") & (df[counts].fillna(0).sum(axis=1) == 0)
        df = df[~empty].reset_index(drop=True)
    labels = [_label(en if en else k, zh) if k not in ("(missing)", "(unmatched)") else
              ("(unmatched: code invalid or not in the register)" if k == "(unmatched)" else k)
              for k, en, zh in zip(df[key], df["en"], df["zh"])]
    # each panel has its own denominator, written after each bar's value: an "(n=562)" label gave the register rows
    # beside a rate of 4,461 records and one of 483 legal persons (a think tank's finding)
    panels = [("records_compliance_rate", _label("Record compliance rate, of records", "归集合规率"),
               "collection_compliance_rate", "records"),
              ("uscc_error_duplicate_rate", _label("USCC error/duplicate rate, of register rows", "重错码率"),
               "uscc_error_duplicate_rate", "enterprises"),
              ("serious_dishonesty_share", _label("Serious-dishonesty share, of legal persons", "严重失信占比"),
               "serious_dishonesty_share", "legal_person_enterprises_at_snapshot")]
    panels = [p for p in panels if p[0] in df.columns]
    fig, axes = _figure(5 * len(panels), 0.38 * len(df) + 1.8, ncols=len(panels), sharey=True)
    for ax, (col, title, tkey, den) in zip(axes[0], panels):
        of = df[den].to_numpy(dtype=float) if den in df.columns else None
        tgt, base = _target(tkey)
        v = df[col].to_numpy(dtype=float)
        higher_better = tkey == "collection_compliance_rate"
        colors = [NEUTRAL if tgt is None or not np.isfinite(x) else
                  (GOOD if (x >= tgt if higher_better else x < tgt) else BAD) for x in v]
        _hbar(ax, labels, v, colors, title,
              lines={f"target {tgt:.2%}": (tgt, "target"), f"2020 {base:.2%}": (base, "base")} if tgt else None)
        known = v[(df[key] != "(unmatched)").to_numpy() & np.isfinite(v)]  # records without a firm: not a group
        if higher_better and known.size:
            ax.set_xlim(max(0.0, float(known.min()) - 0.05), 1.0)   # 97.5 % and 98.3 % looked alike on 0-100 %
            _bar_values(ax, v, target=tgt, of=of)
        else:  # rates near zero: from 0 to past the largest bar or reference line
            top = np.nanmax([*(v[np.isfinite(v)] if np.isfinite(v).any() else [0.0]), tgt or 0.0, base or 0.0])
            ax.set_xlim(0.0, max(top, 1e-4) * 1.15)
            _bar_values(ax, v, digits=2, target=tgt, of=of)   # a 0 % bar is drawn as nothing: its value says so
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # labels such as 0.050% are wide: few ticks, no overlap
    n = df["enterprises"].sum() if "enterprises" in df.columns else 0
    fig.suptitle(_label(f"{title_en} ({n:,} register rows)", title_zh), fontsize=12)
    fig.tight_layout()
    return fig


def plot_by_industry(rep: "QualityReport") -> "Figure":
    """Indicators per GB/T 4754 industry section."""
    return _plot_breakdown(rep, rep.by_industry, "industry", "By industry section (GB/T 4754)", "按行业门类")


def plot_by_street(rep: "QualityReport") -> "Figure":
    """Indicators per street or town."""
    return _plot_breakdown(rep, rep.by_street, "street", "By street or town", "按街道/镇")


def plot_delays(rep: "QualityReport") -> "Figure":
    """How long records took to reach the platform, per table (share of records per delay band)."""
    d = rep.delays
    mat = d.pivot(index="table", columns="band", values="share").fillna(0.0)
    mat = mat.reindex(index=list(dict.fromkeys(d["table"])), columns=list(dict.fromkeys(d["band"])))
    fig, axes = _figure(11, 0.4 * len(mat) + 1.8)
    ax = axes[0, 0]
    left = np.zeros(len(mat))
    cmap = __import__("matplotlib").colormaps["RdYlGn_r"]
    later = [b for b in mat.columns if b not in ("before event", "unknown")]
    for band in mat.columns:
        if band == "unknown":
            color = "#bdbdbd"
        elif band == "before event":
            color = "#7b1fa2"
        else:
            color = cmap(0.1 + 0.9 * later.index(band) / max(1, len(later) - 1))
        ax.barh(mat.index, mat[band], left=left, color=color, label=band)
        left += mat[band].to_numpy()
    on_time = mat[later[0]].to_numpy() if later else np.ones(len(mat))
    start = max(0.0, np.floor((np.nanmin(on_time) - 0.02) * 20) / 20) if len(mat) else 0.0
    ax.set_xlim(start, 1.0)
    if start > 0:
        ax.set_xlabel(f"share of records (axis starts at {start:.0%})", fontsize=8)
    ax.invert_yaxis()
    _pct_axis(ax)
    ax.legend(title="days after the event", fontsize=7, ncol=len(mat.columns), loc="upper center",
              bbox_to_anchor=(0.5, -0.12))
    ax.set_title(_label(f"Reporting delay (deadline {rep.deadline_days} days)", "归集时效"))
    fig.tight_layout()
    return fig


def plot_by_year(rep: "QualityReport") -> "Figure":
    """Collection compliance per year the records were reported (the last 8 years), against the plan's 2020
    baseline and 2025 target, with the count of records behind each point."""
    by = rep.by_year
    by = by[by["year"] >= by["year"].max() - 7]   # the plan's horizon: a register reaches back decades
    tgt, base = _target("collection_compliance_rate")
    fig, axes = _figure(8, 4.2)
    ax = axes[0, 0]
    years = by["year"].to_numpy(dtype=int)
    comp = by["compliance_rate"].to_numpy(dtype=float)
    ax.plot(years, comp, marker="o", color=NEUTRAL, label="measured")
    register_only = (by["tables"].eq("enterprises") if "tables" in by else pd.Series(False, index=by.index)).to_numpy()
    if register_only.any():   # not comparable with the years the record tables report in
        ax.plot(years[register_only], comp[register_only], ls="none", marker="o", mfc="white", color=NEUTRAL,
                label="register rows only")
    for x, v, n, reg in zip(years, comp, by["records"].to_numpy(dtype=int), register_only):
        ax.annotate(f"{share_text(float(v), tgt, 1)}\nn={n:,}" + ("\nregister" if reg else ""), (x, v),
                    xytext=(0, -8), textcoords="offset points",
                    ha="center", va="top", fontsize=7, bbox={"boxstyle": "round,pad=0.15", "fc": "white",
                                                              "ec": "none", "alpha": 0.85})
    if tgt is not None:
        ax.axhline(tgt, color=TARGET, ls="--", lw=1.2, label=f"2025 target {tgt:.0%}")
    if base is not None:
        ax.axhline(base, color=BASE, ls=":", lw=1.2, label=f"2020 baseline {base:.0%}")
    if tgt is not None and base is not None:   # the notebook said "against the plan's path" and drew two flat lines
        ax.plot([2020, 2025], [base, tgt], color=TARGET, ls="-.", lw=1.0, alpha=0.8,
                label="plan's path (straight line; the plan states its two ends only)")
    low = min([v for v in [*comp, tgt, base] if v is not None and np.isfinite(v)], default=0.9)
    ax.set_ylim(max(0.0, low - 0.03), 1.005)
    ax.set_xticks(years, [str(y) for y in years])
    _pct_axis(ax, "y")
    ax.grid(axis="y", alpha=0.3)
    ax.set_xlabel("year the record reached the platform" + (f"; axis starts at {max(0.0, low - 0.03):.0%}"
                                                            if low - 0.03 > 0 else ""), fontsize=8)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    ax.set_title(_label("Collection compliance by year", "历年归集合规率"), fontsize=10)
    fig.tight_layout()
    return fig


def plot_serious_dishonesty(rep: "QualityReport") -> "Figure":
    """The serious-dishonesty share of legal-person enterprises at each year end under the three definitions of
    ``quality.SERIOUS_DISHONESTY_DEFINITIONS``, against the plan's target and 2020 baseline."""
    from creditmodel.data.quality import SERIOUS_DISHONESTY_DEFINITIONS

    sd = rep.serious_dishonesty
    tgt, base = _target("serious_dishonesty_share")
    fig, axes = _figure(8, 4.2)
    ax = axes[0, 0]
    styles = {"serious_dishonesty_list": ("-", "o", NEUTRAL), "plus_black_lists": ("--", "s", "#8c6d31"),
              "plus_dishonest_debtors": (":", "^", "#7f7f7f")}
    labels = {"serious_dishonesty_list": "serious-dishonesty list (the plan's indicator here)",
              "plus_black_lists": "+ sector black lists", "plus_dishonest_debtors": "+ dishonest judgement debtors"}
    for key in SERIOUS_DISHONESTY_DEFINITIONS:
        d = sd[sd["definition"] == key]
        if not len(d):
            continue
        ls, mk, col = styles[key]
        x = [str(v)[:4] if str(v)[5:] == "12-31" else str(v) for v in d["date"]]
        ax.plot(x, d["share"].to_numpy(dtype=float), ls=ls, marker=mk, color=col, label=labels[key])
    if tgt is not None:
        ax.axhline(tgt, color=TARGET, ls="--", lw=1.2, label=f"2025 target < {tgt:.0%}")
    if base is not None:
        ax.axhline(base, color=BASE, ls=":", lw=1.2, label=f"plan's 2020 baseline {base:.1%}")
    ax.set_ylim(0, None)
    _pct_axis(ax, "y")
    ax.grid(axis="y", alpha=0.3)
    ax.set_xlabel("year end (the snapshot for its own year); the records begin in the first year shown, so its "
                  "listings are undercounted", fontsize=7)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    ax.set_title(_label("Serious-dishonesty share of legal-person enterprises, by definition", "严重失信主体占比"),
                 fontsize=10)
    fig.tight_layout()
    return fig


#: English for the national wording of list reasons, for figures drawn without a CJK font (longest match first)
REASON_GLOSSARY = {
    "列入经营异常名录届满3年仍未履行相关义务": "abnormal operation 3 years unresolved",
    "严重违法失信行为": "serious violation", "食品安全严重违法生产经营者": "food-safety serious offender",
    "环境违法失信企业": "environmental offender", "拖欠农民工工资失信联合惩戒对象": "migrant-wage arrears",
    "交通运输严重失信主体": "transport serious dishonesty", "安全生产失信联合惩戒对象": "work-safety dishonesty",
    "通过登记的住所或者经营场所无法联系": "unreachable at registered address",
    "未按规定报送年度报告": "annual report not filed", "公示企业信息隐瞒真实情况、弄虚作假": "false public information",
    "守合同重信用企业": "contract-abiding enterprise", "纳税信用A级纳税人": "tax credit grade A",
    "诚信示范企业": "integrity model enterprise", "安全生产标准化达标企业": "work-safety standard met",
    "劳动保障诚信示范单位": "labour-security integrity model", "失信被执行人": "dishonest judgement debtor",
    "食品安全": "food safety", "消防安全": "fire safety", "安全生产": "work safety", "建筑市场": "construction market",
    "市场监管": "market regulation", "生态环境": "environment", "劳动保障": "labour security",
    "交通运输": "transport", "综合执法": "law enforcement", "税收": "tax",
}
LIST_COLOURS = {"serious_dishonesty": BAD, "black": "#6d4c41", "dishonest_debtor": "#ad1457",
                "abnormal_operation": "#ef6c00", "red": GOOD}


def _reason_text(text: str, fallback: str) -> str:
    """A list reason as the fonts can draw it: itself, else its English gloss (a bracketed sector glossed too)."""
    text = str(text)
    if cjk_font() or text.isascii():
        return text
    if text in REASON_GLOSSARY:
        return REASON_GLOSSARY[text]
    head, _, tail = text.partition("（")
    if head in REASON_GLOSSARY and tail.rstrip("）") in REASON_GLOSSARY:
        return f"{REASON_GLOSSARY[head]} ({REASON_GLOSSARY[tail.rstrip('）')]})"
    return fallback


def plot_list_membership(rep: "QualityReport", top: int = 30) -> "Figure":
    """Enterprises existing at the snapshot with an active list entry, per list type and reason (the largest
    ``top`` reasons), with the share of the register; ``quality.list_membership`` has the departments too."""
    from creditmodel.data.quality import ALL

    t = rep.list_membership
    rows = t[(t["reason"] != ALL) & (t["enterprises"] > 0)]
    rows = (rows.assign(dept=rows["department"].where(rows["department"] != "(missing)"))
            .groupby(["list_type", "reason"], sort=False, observed=True)
            .agg(enterprises=("enterprises", "sum"), share=("share", "sum"), departments=("dept", "nunique"))
            .reset_index())
    # a list type with one reason (the dishonest debtors, listed by several courts): its bar is the list type's
    # total, each enterprise once (the sum over courts counted a firm listed by two courts twice: 424 against the
    # table's 403 in the demo, a think tank's finding)
    total = t[(t["reason"] == ALL) & (t["department"] == ALL)].set_index("list_type")
    single = rows.groupby("list_type", observed=True)["reason"].transform("nunique").eq(1) & rows["list_type"].isin(
        total.index)
    if single.any():
        lt = rows.loc[single, "list_type"]
        rows.loc[single, "enterprises"] = lt.map(total["enterprises"]).to_numpy()
        rows.loc[single, "share"] = lt.map(total["share"]).to_numpy()
    rows = rows[rows["enterprises"] > 0]
    rows = rows.sort_values("enterprises", ascending=False).head(top)
    order = {k: i for i, k in enumerate(LIST_COLOURS)}
    rows = rows.sort_values(["list_type", "enterprises"], key=lambda c: c.map(order) if c.name == "list_type" else -c,
                            kind="stable")
    fig, axes = _figure(9, 0.32 * len(rows) + 1.6)
    ax = axes[0, 0]
    labels = [f"{lt.replace('_', ' ')}: {_reason_text(r, f'reason #{i + 1}')}"
              + (f" ({d} departments)" if d > 1 else "")
              for i, (lt, r, d) in enumerate(zip(rows["list_type"], rows["reason"], rows["departments"]))]
    _hbar(ax, labels, rows["share"].to_numpy(dtype=float), [LIST_COLOURS.get(x, NEUTRAL) for x in rows["list_type"]],
          _label(f"Enterprises on each list at {rep.snapshot_date}, by reason (share of the register)",
                 "名单构成"))
    for y, (n, v) in enumerate(zip(rows["enterprises"], rows["share"])):
        ax.annotate(f"{int(n):,} ({v:.2%})", (float(v), y), xytext=(3, 0), textcoords="offset points", va="center",
                    fontsize=7, clip_on=False)
    ax.set_xlim(0, float(rows["share"].max()) * 1.25 if len(rows) else 1)
    ax.set_xlabel("existing enterprises with an active entry; an enterprise listed for two reasons is in both bars, "
                  "one listed for a reason by two departments counts twice in its bar (not on a list with one reason: "
                  "its bar is the list's total)"
                  + ("" if cjk_font() else "; reasons glossed in English (no CJK font), full text in "
                     "list_membership.csv"), fontsize=7)
    fig.tight_layout()
    return fig


FIGURES: dict[str, Callable[["QualityReport"], "Figure"]] = {
    "indicators_vs_targets": plot_targets,
    "completeness_heatmap": plot_completeness,
    "compliance_by_table": plot_by_table,
    "compliance_by_department": plot_by_department,
    "compliance_by_year": plot_by_year,
    "serious_dishonesty_definitions": plot_serious_dishonesty,
    "list_membership": plot_list_membership,
    "uscc_error_causes": plot_uscc_causes,
    "reporting_delay": plot_delays,
    "by_industry": plot_by_industry,
    "by_street": plot_by_street,
}


def save(fig: "Figure", path) -> None:
    """Write a figure as PNG (120 dpi, no software stamp, so the same figure gives the same bytes)."""
    fig.savefig(path, dpi=120, bbox_inches="tight", metadata={"Software": None})


def make_figures(rep: "QualityReport") -> dict[str, "Figure"]:
    """Every figure the report can draw from ``rep`` (figures without data are skipped)."""
    out = {}
    for name, fn in FIGURES.items():
        if name in ("by_industry", "by_street", "uscc_error_causes") and "enterprises" not in rep.indicators:
            continue
        if name in ("compliance_by_table", "compliance_by_department", "reporting_delay") and not rep.indicators.get(
                "public_records"):
            continue
        if name == "compliance_by_year" and not len(rep.by_year):
            continue
        if name == "serious_dishonesty_definitions" and not len(rep.serious_dishonesty):
            continue
        if name == "list_membership" and not len(rep.list_membership):
            continue
        if name in ("compliance_by_department", "compliance_by_year") and "enterprises" not in rep.indicators:
            continue   # no register: compliance is not measured (the by-table figure still shows lateness)
        out[name] = fn(rep)
    return out
