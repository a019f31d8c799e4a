"""Tables and figures of the loan-pricing notebook (``notebooks/05_loan_pricing.ipynb``); matplotlib, headless.

Tables: :func:`pricing_grid` (the risk-based rate build-up at the central PD of every master-scale grade,
per collateral type, for a firm of unknown size or of given sales), :func:`suggested_rate_table` (the suggested rates
of several grids, one block per firm size), :func:`domain_b2_example` (DOMAIN.md B2's worked example, recomputed) and
:func:`portfolio_by_grade` (a priced portfolio per grade). Narrative (Markdown built from the values in use, every
claim conditional on the numbers): :func:`pricing_assumptions_markdown`, :func:`sme_size_markdown`,
:func:`policy_rate_markdown`, :func:`inclusive_coverage`,
:func:`cv_quality_markdown` (with :func:`within_abc_verdict`), :func:`allocation_rules_markdown` and
:func:`allocation_summary_markdown`. Figures
(each returns a matplotlib Figure): :func:`plot_pricing_grid`, :func:`plot_floor_vs_policy`,
:func:`plot_churn`, :func:`plot_cv_quality`, :func:`plot_ratings`, :func:`plot_allocation`,
:func:`plot_portfolio_rates`. Labels are English, with Chinese terms when a CJK font is installed.
Rates are per year as fractions, amounts in yuan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditmodel.credit_decisions import within_abc_verdict  # also re-exported: the notebook's narrative
from creditmodel.data.quality_plots import cjk_font
from creditmodel.data.tables import COLLATERAL
from creditmodel.pricing import PricingConfig, load_config, price_frame, risk_based_rate

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from creditmodel.credit_decisions import CreditDecisionResult
    from creditmodel.pricing_churn import ChurnCurve

#: Weighted average rate of new inclusive small/micro loans (普惠小微贷款), June 2025 (DOMAIN B2, [S-2] PBoC).
INCLUSIVE_SME_RATE = 0.0348
#: The same series at earlier dates (DOMAIN B2): period -> rate.
INCLUSIVE_SME_HISTORY = {
    "2021 Jan-May": 0.0568,
    "2022 Jan-Oct": 0.0528,
    "2023 Aug": 0.0448,
    "2025 Jun": 0.0348,
}
#: Annual sales (EUR m) of the pricing grid's small-firm rows: at and below EUR 5 m Basel's SME firm-size adjustment is
#: at its largest (CRE31.8 holds S to 5-50), so the rows hold for every firm that small (CNY 40 m at 8 yuan per
#: euro; over nine in ten firms of the demo district's scored portfolio, median CNY 2 m).
SME_SALES_EUR_M = 5.0
RATING_COLOURS = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}
COLLATERAL_COLOURS = {
    "none": "#c62828",
    "guarantee": "#ef6c00",
    "property": "#1565c0",
    "receivables": "#6a1b9a",
}
COMPONENTS = (
    ("funding_rate", "funding (FTP)", "#90a4ae"),
    ("opex_rate", "operating cost", "#b0bec5"),
    ("expected_loss_rate", "expected loss PD x LGD", "#e57373"),
    ("capital_charge_rate", "capital charge", "#7986cb"),
    ("margin_rate", "margin", "#a5d6a7"),
)


# ----------------------------------------------------------------------------- tables
def pricing_grid(
    config: PricingConfig | str | None = None,
    scale=None,
    sales_eur_m: float | None = None,
    inclusive_rate: float = INCLUSIVE_SME_RATE,
) -> pd.DataFrame:
    """The rate build-up at each master-scale grade's central PD, for every collateral type.

    One row per (grade, collateral): ``grade``, ``central_pd``, ``collateral`` and the columns of
    :func:`creditmodel.pricing.price_frame` (``lgd``, ``risk_weight``, ``capital_rate``, the cost
    components, ``risk_based_floor``, ``policy_rate``, ``suggested_rate``, ``pricing_reason``), plus
    ``floor_below_policy`` (the policy rate alone would cover the cost) and ``above_inclusive`` (the floor
    exceeds ``inclusive_rate``: lending at the inclusive average rate is below cost). ``sales_eur_m``:
    annual sales for the SME firm-size adjustment (None: no adjustment). Grade D is left out.
    """
    from creditmodel.scoring.master_scale import MasterScale

    cfg = load_config(config)
    t = (scale or MasterScale()).table()
    t = t[t["grade"] != "D"]
    frame = pd.DataFrame(
        [
            {"grade": g, "central_pd": p, "collateral": c, "pd_12m": p}
            for g, p in zip(t["grade"], t["central_pd"])
            for c in COLLATERAL
        ]
    )
    # inf: no SME adjustment, said explicitly (a grid without the column warned "no sales_eur_m or revenue column"
    # on every pricing run, a warning meant for a bank's file)
    frame["sales_eur_m"] = float(sales_eur_m) if sales_eur_m is not None else np.inf
    out = price_frame(frame, cfg).drop(columns=["pd_12m", "expected_loss_amount", "capital_amount", "sales_eur_m"])
    out["floor_below_policy"] = out["risk_based_floor"] < out["policy_rate"]
    out["above_inclusive"] = out["risk_based_floor"] > inclusive_rate
    return out


def suggested_rate_table(grids: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Suggested rate by grade (rows) and collateral type (columns) of each grid of :func:`pricing_grid`, one block
    of rows per firm size, e.g. ``{"size unknown": pricing_grid(cfg), "sales <= EUR 5 m": pricing_grid(cfg,
    sales_eur_m=5)}``: index (``firm size``, ``grade``), first column ``central_pd``; NaN where the floor is above
    the rate cap."""
    blocks = []
    for grid in grids.values():
        piv = grid.pivot(index="grade", columns="collateral", values="suggested_rate")
        piv = piv.reindex(index=list(dict.fromkeys(grid["grade"])), columns=list(COLLATERAL))
        piv.insert(0, "central_pd", grid.drop_duplicates("grade").set_index("grade")["central_pd"])
        blocks.append(piv.rename_axis(columns=None))
    return pd.concat(blocks, keys=list(grids), names=["firm size", "grade"])


def domain_b2_example() -> pd.DataFrame:
    """DOMAIN.md B2's worked example recomputed with :func:`creditmodel.pricing.risk_based_rate`.

    PD 1 %, LGD 40 %, FTP 1.8 %, opex 0.8 %, hurdle 12 %, capital = RWA x 10.5 %, Basel III, M = 2.5.
    Columns: ``component``, ``computed`` (fraction), ``domain_b2`` (the value DOMAIN.md states).
    """
    br = risk_based_rate(0.01, 0.40, funding_cost=0.018, opex=0.008, hurdle_rate=0.12, capital_ratio=0.105)
    rows = [
        ("risk weight", br.risk_weight, 0.821),
        ("K (capital requirement, 8 % of RWA)", br.k, 0.0656),
        ("capital held (RWA x 10.5 %)", br.capital, 0.086),
        ("funding cost", br.funding, 0.018),
        ("operating cost", br.opex, 0.008),
        ("expected loss PD x LGD", br.expected_loss, 0.004),
        ("capital charge (capital x 12 %)", br.capital_charge, 0.0103),
        ("risk-based floor", br.rate, 0.040),
    ]
    return pd.DataFrame([{"component": n, "computed": float(v), "domain_b2": d} for n, v, d in rows])


def portfolio_by_grade(priced: pd.DataFrame, config: PricingConfig | str | None = None) -> pd.DataFrame:
    """Per grade of a priced portfolio (:func:`creditmodel.pricing.price_frame`): ``loans`` (rows),
    ``priced`` (rows with a suggested rate), ``mean_pd``, ``median_rate`` (of the priced rows) and
    ``floor_below_policy`` (share of the priced rows whose risk-based floor is below the policy rate).

    Never empty for a non-empty portfolio: without a ``grade`` column (a scored file need not have one) the
    whole portfolio is one row ``"all"``, as in :func:`plot_portfolio_rates`; rows whose grade is missing are
    grouped under ``"(none)"`` instead of being dropped. Grades come in scale order; ``grade`` is a column.
    """
    from creditmodel.validation.metrics import sort_grades

    cfg = load_config(config)
    cols = ["grade", "loans", "priced", "mean_pd", "median_rate", "floor_below_policy"]
    if priced.empty:
        return pd.DataFrame(columns=cols)
    if "grade" in priced.columns:
        g = priced["grade"].astype("string").fillna("(none)").astype(str)
    else:
        g = pd.Series("all", index=priced.index)
    ok = priced["suggested_rate"].notna()
    f = pd.DataFrame(
        {
            "grade": g,
            "pd_12m": pd.to_numeric(priced["pd_12m"], errors="coerce"),
            "rate": priced["suggested_rate"].where(ok),
            "priced": ok,
            "below": (priced["risk_based_floor"] < cfg.policy_rate).where(ok).astype(float),
        }
    )
    out = f.groupby("grade", sort=False).agg(
        loans=("pd_12m", "size"),
        priced=("priced", "sum"),
        mean_pd=("pd_12m", "mean"),
        median_rate=("rate", "median"),
        floor_below_policy=("below", "mean"),
    )
    out = out.reindex(sort_grades(out.index)).reset_index()
    out["priced"] = out["priced"].astype(int)
    return out[cols]


# ----------------------------------------------------------------------------- narrative (Markdown)
def _pp(x: float) -> str:
    return f"{x:.2%}".replace("%", " %")


def pricing_assumptions_markdown(config: PricingConfig | str | None = None) -> str:
    """The assumptions of a pricing configuration as one Markdown paragraph (values as configured)."""
    cfg = load_config(config)
    lgd = ", ".join(f"{k} {_pp(v)}" for k, v in cfg.lgd.items())
    held = "K itself" if cfg.capital_ratio is None else f"RWA x {_pp(cfg.capital_ratio)}"
    return (
        f"**Assumptions in use** ({cfg.framework}, "
        + ("other retail risk weights" if cfg.asset_class == "retail" else f"corporate risk weights, maturity "
                                                                           f"{cfg.maturity:g} y")
        + f"): funding {_pp(cfg.funding_cost)}, "
        f"operating cost {_pp(cfg.opex)}, hurdle rate {_pp(cfg.hurdle_rate)}, capital held {held} earning "
        f"{_pp(cfg.capital_benefit)}{' (the funding cost)' if cfg.capital_benefit_rate is None else ''}, margin "
        f"{_pp(cfg.margin)}; LGD by collateral: {lgd} (default collateral: {cfg.default_collateral}); policy rate "
        f"{_pp(cfg.policy_rate)} = 1-year LPR {_pp(cfg.lpr_1y)} + spread {cfg.policy_spread * 1e4:+.0f} bp; "
        f"rate cap {_pp(cfg.rate_cap)}."
    )


def sme_size_markdown(grid: pd.DataFrame, sme_grid: pd.DataFrame, sales_eur_m: float = SME_SALES_EUR_M,
                      collateral: str = "none") -> str:
    """What a small firm pays less than one of unknown size, for one collateral type: the floor and the suggested
    rate of ``sme_grid`` (:func:`pricing_grid` at ``sales_eur_m``) against ``grid``'s, in bp, from the numbers."""
    a = grid[grid["collateral"] == collateral].set_index("grade")
    b = sme_grid[sme_grid["collateral"] == collateral].set_index("grade").reindex(a.index)
    floor = (a["risk_based_floor"] - b["risk_based_floor"]) * 1e4
    both = a["suggested_rate"].notna() & b["suggested_rate"].notna()
    rate = ((a["suggested_rate"] - b["suggested_rate"]) * 1e4)[both]
    size = (f"sales of EUR {max(sales_eur_m, 5.0):g} m or less (the largest Basel SME firm-size adjustment)"
            if sales_eur_m <= 5 else f"sales of EUR {sales_eur_m:g} m (Basel's SME firm-size adjustment)")
    text = (f"A firm with {size} has a risk-based floor **{floor.min():.0f}–{floor.max():.0f} bp lower** than a "
            f"firm of unknown size ({collateral} collateral, grades {a.index[0]}–{a.index[-1]})")
    if both.any():
        text += f"; its suggested rate is {rate.min():.0f}–{rate.max():.0f} bp lower where both are priced"
        if (rate < 0.5).any():
            text += " (0 where the policy rate binds)"
    only = b["suggested_rate"].notna() & a["suggested_rate"].isna()
    if only.any():
        text += f"; grade(s) {', '.join(map(str, a.index[only]))} get a rate only as a small firm"
    return text + "."


def policy_rate_markdown(
    config: PricingConfig | str | None = None,
    inclusive_rate: float = INCLUSIVE_SME_RATE,
    history: Mapping[str, float] = INCLUSIVE_SME_HISTORY,
) -> str:
    """The policy anchor and the inclusive small/micro average, with the values actually used."""
    cfg = load_config(config)
    text = (
        f"The configuration's 1-year LPR is **{_pp(cfg.lpr_1y)}** (policy rate {_pp(cfg.policy_rate)} with a spread "
        f"of {cfg.policy_spread * 1e4:+.0f} bp); the inclusive small/micro average it is compared with is "
        f"**{_pp(inclusive_rate)}**"
    )
    if history:
        (p0, r0), (p1, r1) = next(iter(history.items())), list(history.items())[-1]
        text += f" (DOMAIN.md B2: {_pp(r1)} in {p1}, {_pp(r0)} in {p0})"
    return text + "."


def inclusive_coverage(
    grid: pd.DataFrame,
    config: PricingConfig | str | None = None,
    inclusive_rate: float = INCLUSIVE_SME_RATE,
) -> tuple[str, dict[str, int]]:
    """Per collateral type of a :func:`pricing_grid`: from which grade the risk-based floor exceeds the inclusive
    average rate, and which grades the policy rate alone covers. Returns the Markdown list and the counts as
    metrics (``grades_above_inclusive_<collateral>``, ``grades_below_policy_<collateral>``)."""
    cfg = load_config(config)
    lines, metrics = [], {}
    for coll in COLLATERAL:
        g = grid[grid["collateral"] == coll]
        above = g.loc[g["above_inclusive"], "grade"].tolist()
        below_policy = g.loc[g["floor_below_policy"], "grade"].tolist()
        if above:
            pd_first = float(g.loc[g["grade"] == above[0], "central_pd"].iloc[0])
            line = (f"* **{coll}**: the floor exceeds the inclusive average {_pp(inclusive_rate)} from grade "
                    f"**{above[0]}** (central PD {_pp(pd_first)})")
        else:
            line = f"* **{coll}**: the floor stays below the inclusive average"
        if below_policy:
            line += (f"; the policy rate {_pp(cfg.policy_rate)} alone covers the cost of grade(s) "
                     f"{', '.join(below_policy)}")
        lines.append(line)
        metrics.update({f"grades_above_inclusive_{coll}": len(above), f"grades_below_policy_{coll}": len(below_policy)})
    return "\n".join(lines), metrics


def allocation_summary_markdown(result: CreditDecisionResult) -> str:
    """The optimised allocation against the naive split, in numbers (amounts in millions of yuan), and, where the
    cross-validation found no evidence that the PDs rank risk among the firms a bank would lend to, that the profit
    and the gain over naive are what the model expects, not evidence (the caveat sat in section 4.1 only: a
    validator's finding)."""
    t, nv = result.allocation.totals, result.naive.totals
    q = getattr(result, "quality", None) or {}
    verdict = within_abc_verdict(q)[0] if q else "not_computable"
    caveat = ""
    if verdict in ("no_evidence", "inverse"):
        caveat = (f" **Read these as the model's expectations, not as evidence:** the limits and the choice of firms "
                  f"follow the PDs, and section 4.1 found {_WITHIN_ABC[verdict]} (out-of-fold AUC within A-C "
                  f"{q['auc_within_abc']:.3f}; mean PD there {_pp(q.get('mean_pd_abc', float('nan')))} against an "
                  f"observed default rate of {_pp(q.get('default_rate_abc', float('nan')))}).")
    return (
        f"With a budget of **{result.rules.budget / 1e6:.0f} m yuan**, the optimised strategy offers "
        f"**{int(t['n_loans'])} loans** (limits {t['limits'] / 1e6:.1f} m). Expected: {t['expected_lent'] / 1e6:.1f} m "
        f"lent, interest {t['expected_interest'] / 1e6:.2f} m, credit loss {t['expected_loss'] / 1e6:.2f} m, "
        f"funding/operating/capital cost {t['expected_cost'] / 1e6:.2f} m, "
        f"**profit {t['expected_profit'] / 1e6:.2f} m** "
        f"({_pp(t['return_on_lent'])} on the amount lent). The naive split offers {int(nv['n_loans'])} loans and "
        f"expects a profit of {nv['expected_profit'] / 1e6:.2f} m ({_pp(nv['return_on_lent'])}); its expected credit "
        f"loss is {nv['expected_loss'] / max(t['expected_loss'], 1):.1f} times the optimised strategy's." + caveat)


def rating_agreement_markdown(result: CreditDecisionResult) -> str:
    """How far the ratings from the out-of-fold PDs agree with the bank's, in one sentence under the crosstab (it
    said "shows how far our ratings agree" and gave no number: a validator's finding)."""
    a = result.rating_agreement()
    if not a["firms"]:
        return "No rated firm has both ratings: no agreement to measure."
    counts = result.rated["rating"].astype(str).value_counts()
    far = [f"{int(a[f'far_{k}']):,} of the {int(counts.get(k, 0)):,} the bank rates {k}"
           for k in ("A", "B", "C", "D") if a.get(f"far_{k}")]
    return (f"Our rating (from the out-of-fold PD) is the bank's for **{int(a['agree']):,} of the {int(a['firms']):,} "
            f"rated firms ({a['agree_share']:.0%})**"
            + (f"; two or more ratings apart: {', '.join(far)}." if far else "; none is two or more ratings apart."))


_WITHIN_ABC = {
    "ranks": "an interval above 0.5: it does rank risk among the firms a bank would lend to",
    "inverse": "an interval below 0.5: it ranks risk the wrong way round among the firms a bank would lend to",
    "no_evidence": "an interval that contains 0.5: no evidence that it ranks risk among the firms a bank would lend to",
}


def cv_quality_markdown(result: CreditDecisionResult) -> str:
    """The quality bullets of the credit-decision notebook, every claim conditional on the numbers: whether the PD
    ranks risk within A-C follows :func:`within_abc_verdict`; the D counts come from the data."""
    q = result.quality
    lines = [
        f"* Out-of-fold **AUC {q['auc']:.3f}** (DeLong 95 % interval {q['auc_ci_low']:.3f}–{q['auc_ci_high']:.3f}, "
        f"bootstrap {q['auc_boot_low']:.3f}–{q['auc_boot_high']:.3f}"
        + (f"; over the {result.cv.repeats} repeats {q['auc_repeat_min']:.3f}–{q['auc_repeat_max']:.3f}"
           if result.cv.repeats > 1 else "")
        + f"); the same model scores **{result.insample_auc:.3f}** "
        f"on its own training firms, the optimism cross-validation removes.",
        f"* **Brier score {q['brier']:.4f}** against {q['brier_base']:.4f} for the constant default rate "
        f"(skill {q['brier_skill']:.0%}); mean PD {q['mean_pd']:.1%} for a default rate of {q['default_rate']:.1%}.",
    ]
    if "n_abc" in q:
        n_d, def_d = int(q["n"] - q["n_abc"]), int(q["defaults"] - q["defaults_abc"])
        verdict, lo, hi, kind = within_abc_verdict(q)
        d_part = (f"All {n_d} D-rated firms defaulted" if def_d == n_d
                  else f"{def_d} of the {n_d} D-rated firms defaulted")
        head = ("**Caveat — the model mainly finds D firms.**" if verdict != "ranks"
                else "**The model ranks within A–C too, not only D firms.**")
        text = (
            f"* {head} {d_part}, {int(q['defaults_abc'])} of the {int(q['n_abc'])} A–C firms did. A score that only "
            f"knew 'rated D' would reach AUC {q['auc_perfect_d_detector']:.3f}; the bank's own rating reaches "
            f"{q['auc_bank_rating']:.3f}. Our PD separates D from A–C with AUC {q.get('auc_d_vs_rest', np.nan):.3f}"
        )
        if verdict == "not_computable":
            text += (f"; within A–C ({int(q['defaults_abc'])} defaults) its ranking cannot be measured: "
                     "no evidence either way.")
        else:
            text += (
                f", {'and' if verdict == 'ranks' else 'but'} **within A–C its AUC is {q['auc_within_abc']:.3f}** "
                f"({kind} {lo:.2f}–{hi:.2f}, {int(q['defaults_abc'])} defaults), {_WITHIN_ABC[verdict]}."
            )
        if np.isfinite(q.get("mean_pd_abc", np.nan)):
            text += f" Its PDs within A–C average {q['mean_pd_abc']:.1%} against an observed {q['default_rate_abc']:.1%}"
            if verdict != "ranks" and q["mean_pd_abc"] > q["default_rate_abc"]:
                text += (": the model cannot tell the safest firms apart, so it spreads the risk of the D firms it "
                         "cannot recognise over everybody")
            text += "."
        lines.append(text)
        lines.append(
            f"* D-like rule: out of fold, {q['d_like_recall']:.0%} of the D firms and {q['d_like_false_share']:.0%} of "
            f"the A–C firms have a PD of at least {result.settings.get('d_threshold', 0.5):.0%}."
        )
    return "\n".join(lines)


def allocation_rules_markdown(result: CreditDecisionResult) -> str:
    """The lending rules, the limit cap and the naive baseline's rate actually used by a credit decision."""
    r, s = result.rules, result.settings
    naive = result.naive.firms["rate"].dropna() if "rate" in result.naive.firms.columns else pd.Series(dtype=float)
    naive_rate = float(naive.iloc[0]) if len(naive) else (r.rate_min + r.rate_max) / 2
    excluded = ", ".join(r.excluded_grades) or "none"
    return (
        f"**Rules in use:** budget {r.budget / 1e6:,.0f} m yuan (sum of the limits offered); loans of "
        f"{r.min_loan:,.0f} to {r.max_loan:,.0f} yuan in steps of {r.limit_step:,.0f}, at {_pp(r.rate_min)}–"
        f"{_pp(r.rate_max)}; nothing for rating(s) {excluded} or a PD of at least "
        f"{_pp(s.get('d_threshold', 0.5))}; each limit capped at {s.get('limit_share', 0.2):.0%} of annual sales. "
        + (f"The capital charge is computed at the loans' effective maturity, {s['maturity']:g} year"
           f"{'' if s['maturity'] == 1 else 's'} (Basel M). " if s.get("costs", True) and "maturity" in s else "")
        + f"The naive baseline offers every eligible firm an equal share at {_pp(naive_rate)}."
    )


# ----------------------------------------------------------------------------- helpers
def _label(en: str, zh: str = "") -> str:
    return f"{en} {zh}" if zh and cjk_font() else en


def _figure(w: float, h: float, ncols: int = 1):
    import matplotlib.pyplot as plt

    if cjk_font():
        plt.rcParams["font.sans-serif"] = [cjk_font(), *plt.rcParams["font.sans-serif"]]
        plt.rcParams["axes.unicode_minus"] = False
    return plt.subplots(1, ncols, figsize=(w, h), squeeze=False)


def _pct(ax, axis: str = "y", decimals: int | None = None) -> None:
    from matplotlib.ticker import PercentFormatter

    # None: as many decimals as the tick spacing needs (with 0, the tick at 2.5 % read "2%" and 7.5 % "8%")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(1.0, decimals=decimals))


# ----------------------------------------------------------------------------- pricing grid
def plot_pricing_grid(grid: pd.DataFrame, collateral: str = "none", cap: float | None = None) -> Figure:
    """Stacked cost components of the floor by grade for one collateral type, and the suggested rate of
    every collateral type (markers; none above the cap)."""
    fig, axes = _figure(10, 4.8)
    ax = axes[0, 0]
    g = grid[grid["collateral"] == collateral].reset_index(drop=True)
    x = np.arange(len(g))
    bottom = np.zeros(len(g))
    for col, name, colour in COMPONENTS:
        v = g[col].to_numpy(float)
        if np.nanmax(np.abs(v)) > 0:
            ax.bar(x, v, bottom=bottom, color=colour, label=name, width=0.7)
            bottom += v
    for c in COLLATERAL:
        s = grid.loc[grid["collateral"] == c, "suggested_rate"].to_numpy(float)
        ax.plot(
            x, s, marker="o", ms=4, lw=1, color=COLLATERAL_COLOURS.get(c, "k"), label=f"suggested rate: {c}"
        )
    if cap is not None:
        ax.axhline(cap, color="k", ls=":", lw=1, label=f"rate cap {cap:.0%}")
    ax.set_xticks(x, [f"{gr}\n{p:.2%}" for gr, p in zip(g["grade"], g["central_pd"])], fontsize=8)
    ax.set_xlabel(_label("master-scale grade and central PD", "主标尺等级"))
    ax.set_ylabel("rate per year")
    ax.set_ylim(0, max(0.2, min(0.35, float(np.nanmax(bottom)) * 1.05)))
    _pct(ax)
    ax.set_title(f"Risk-based floor by grade ({collateral} collateral: stacked components)")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    fig.tight_layout()
    return fig


def plot_floor_vs_policy(
    grid: pd.DataFrame, config: PricingConfig, inclusive_rate: float = INCLUSIVE_SME_RATE
) -> Figure:
    """Risk-based floor per grade and collateral beside the LPR, the policy rate and the inclusive
    small/micro loan average rate; the shaded area is where lending at the inclusive rate is below cost."""
    fig, axes = _figure(10, 4.8)
    ax = axes[0, 0]
    grades = list(dict.fromkeys(grid["grade"]))
    x = np.arange(len(grades))
    for c in COLLATERAL:
        f = grid.loc[grid["collateral"] == c, "risk_based_floor"].to_numpy(float)
        ax.plot(x, f, marker="o", ms=4, color=COLLATERAL_COLOURS.get(c, "k"), label=f"risk-based floor: {c}")
    top = max(0.16, float(np.nanmax(grid["risk_based_floor"].to_numpy(float), initial=0.0)) * 1.06)   # every point
    ax.axhspan(
        inclusive_rate,
        top,
        color="#ffcdd2",
        alpha=0.35,
        lw=0,
        label="floor above the inclusive rate: lending at it is below cost",
    )
    ax.axhline(config.lpr_1y, color="k", lw=1.2, label=f"1-year LPR {config.lpr_1y:.2%}")
    if config.policy_spread:
        ax.axhline(
            config.policy_rate, color="k", ls="--", lw=1, label=f"policy rate {config.policy_rate:.2%}"
        )
    ax.axhline(
        inclusive_rate,
        color="#6a1b9a",
        ls="--",
        lw=1.2,
        label=_label(f"inclusive small/micro average {inclusive_rate:.2%}", "普惠小微贷款平均利率"),
    )
    ax.set_ylim(0, top)
    ax.set_xticks(x, grades)
    ax.set_xlabel(_label("master-scale grade", "主标尺等级"))
    ax.set_ylabel("rate per year")
    _pct(ax)
    ax.set_title("Where is pricing below cost? Risk-based floor vs policy and market rates")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- churn
def plot_churn(
    table: pd.DataFrame,
    curves: Mapping[str, ChurnCurve],
    optimal: pd.DataFrame,
    rate_min: float = 0.04,
    rate_max: float = 0.15,
) -> Figure:
    """Left: attachment 3's churn points and the fitted curve per rating. Right: expected profit per
    yuan offered against the rate at the rating's PD (solid: no costs; dashed: with the bank's costs when
    ``optimal`` has ``cost_rate``), the best rate marked."""
    from creditmodel.pricing_churn import expected_profit

    fig, axes = _figure(12, 4.6, ncols=2)
    a, b = axes[0]
    grid = np.linspace(rate_min, rate_max, 500)
    for g, curve in curves.items():
        col = RATING_COLOURS.get(g, "k")
        pts = table[table["grade"] == g]
        a.scatter(pts["rate"], pts["churn"], s=12, color=col, alpha=0.7)
        a.plot(
            grid, curve.predict(grid), color=col, label=f"{g}: fitted ({curve.kind}, RMSE {curve.rmse_:.3f})"
        )
        row = optimal[optimal["grade"] == g].iloc[0]
        b.plot(
            grid,
            expected_profit(grid, row["pd"], row["lgd"], curve),
            color=col,
            label=f"{g} (PD {row['pd']:.1%}): best {row['rate']:.2%}",
        )
        b.scatter([row["rate"]], [row["profit_per_yuan"]], color=col, zorder=3)
        if "cost_rate" in optimal.columns:
            b.plot(
                grid,
                expected_profit(grid, row["pd"], row["lgd"], curve, row["cost_rate"]),
                color=col,
                ls="--",
                label=f"{g} with costs {row['cost_rate']:.2%}: best {row['rate_with_costs']:.2%}",
            )
            b.scatter(
                [row["rate_with_costs"]], [row["profit_per_yuan_with_costs"]], color=col, marker="s", zorder=3
            )
    a.set_xlabel("annual rate")
    a.set_ylabel(_label("customer churn", "客户流失率"))
    a.set_title("Rate versus churn (attachment 3)")
    _pct(a, "x", 1)
    _pct(a)
    a.legend(fontsize=8)
    b.axhline(0, color="k", lw=0.6)
    b.set_xlabel("annual rate")
    b.set_ylabel("expected profit per yuan offered")
    b.set_title("(1 - churn) x [(1 - PD) r - PD x LGD - cost]")
    _pct(b, "x", 1)
    _pct(b, "y", 1)
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- CUMCM decisions
def plot_cv_quality(result: CreditDecisionResult) -> Figure:
    """Left: out-of-fold PD of the 123 rated firms by the bank's rating (defaults in red), with the
    D-like threshold. Right: out-of-fold ROC curves: all firms, within A-C, and 'rated D' vs the rest."""
    from creditmodel.validation.metrics import roc_curve

    fig, axes = _figure(12, 4.6, ncols=2)
    a, b = axes[0]
    r = result.rated
    rng = np.random.default_rng(0)
    order = ["A", "B", "C", "D"]
    for i, g in enumerate(order):
        s = r[r["rating"] == g]
        x = i + rng.uniform(-0.18, 0.18, len(s))
        bad = s["default"].to_numpy() == 1
        a.scatter(
            x[~bad],
            s["oof_pd"][~bad],
            s=14,
            color="#546e7a",
            alpha=0.75,
            label="no default" if i == 0 else None,
        )
        a.scatter(
            x[bad], s["oof_pd"][bad], s=22, color="#c62828", marker="x", label="defaulted" if i == 3 else None
        )
    thr = result.settings.get("d_threshold", 0.5)
    a.axhline(thr, color="k", ls="--", lw=1, label=f"D-like threshold PD {thr:.0%}")
    a.set_yscale("log")
    a.set_xticks(
        range(4),
        [
            f"{g}\n({(r['rating'] == g).sum()} firms, {int(r.loc[r['rating'] == g, 'default'].sum())} def.)"
            for g in order
        ],
        fontsize=8,
    )
    a.set_xlabel(_label("bank rating", "信誉评级"))
    a.set_ylabel("out-of-fold PD (log scale)")
    a.set_title("Out-of-fold PD by the bank's rating")
    a.legend(fontsize=8, loc="lower right")
    q = result.quality
    y, p = result.rated["default"].to_numpy(), result.rated["oof_pd"].to_numpy()
    is_d = (result.rated["rating"] == "D").to_numpy()
    curves = [
        (f"all {len(y)} firms", y, p, q["auc"], "#1565c0"),
        ("'rated D' vs A-C", is_d.astype(int), p, q.get("auc_d_vs_rest", np.nan), "#6a1b9a"),
    ]
    if "auc_within_abc" in q:
        curves.append(
            (
                f"within A-C ({int(q['defaults_abc'])} defaults)",
                y[~is_d],
                p[~is_d],
                q["auc_within_abc"],
                "#ef6c00",
            )
        )
    for name, yy, pp, auc_, col in curves:
        roc = roc_curve(yy, pp)
        b.plot(roc["fpr"], roc["tpr"], color=col, label=f"{name}: AUC {auc_:.3f}")
    b.plot([0, 1], [0, 1], color="#9e9e9e", lw=0.8, ls=":")
    b.set_xlabel("false positive rate")
    b.set_ylabel("true positive rate")
    b.set_title(f"Out-of-fold ROC ({result.cv.repeats} x {result.cv.cv_folds}-fold CV)")
    b.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_ratings(result: CreditDecisionResult) -> Figure:
    """Left: the 302 unrated firms by master-scale grade, coloured by mapped bank rating. Right: PD
    against annual sales, coloured by the decision."""
    fig, axes = _figure(12, 4.6, ncols=2)
    a, b = axes[0]
    d = result.decisions
    grades = [g for g in result.model.master_scale.grades if g in set(d["master_grade"].astype(str))]
    ct = pd.crosstab(d["master_grade"].astype(str), d["rating"].astype(str)).reindex(grades, fill_value=0)
    bottom = np.zeros(len(ct))
    for rt in [c for c in ("A", "B", "C", "D") if c in ct.columns]:
        a.bar(range(len(ct)), ct[rt], bottom=bottom, color=RATING_COLOURS[rt], label=f"rating {rt}")
        bottom += ct[rt].to_numpy()
    # headroom: a rating with no firm in the tallest bar's grade adds a bar of height 0 on its top, whose sticky edge
    # took matplotlib's margin away (the bar touched the frame)
    a.set_ylim(0, max(1.0, float(bottom.max(initial=0.0))) * 1.08)
    a.set_xticks(range(len(ct)), ct.index)
    a.set_xlabel(_label("master-scale grade", "主标尺等级"))
    a.set_ylabel("firms")
    a.set_title("302 unrated firms: grade and bank-rating equivalent")
    a.legend(fontsize=8)
    cat = np.where(d["limit"] > 0, "loan", d["reason"].fillna("").astype(str))
    colours = {
        "loan": "#2e7d32",
        "budget exhausted (better firms chosen)": "#90a4ae",
        "excluded grade": "#c62828",
        "max_limit below the minimum loan": "#6a1b9a",
    }
    for c in pd.unique(cat):
        m = cat == c
        label = "D-like (excluded)" if c == "excluded grade" else c
        b.scatter(
            np.maximum(d.loc[m, "annual_sales"], 1e3),
            d.loc[m, "pd_12m"],
            s=14,
            color=colours.get(c, "#ef6c00"),
            label=f"{label} ({int(m.sum())})",
            alpha=0.8,
        )
    b.set_xscale("log")
    b.set_yscale("log")
    b.set_xlabel("annual sales from invoices (yuan, log scale)")
    b.set_ylabel("PD (log scale)")
    b.set_title("Decision by PD and size")
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_allocation(result: CreditDecisionResult) -> Figure:
    """Left: expected interest, loss, cost and profit of the optimised and the naive allocation (million
    yuan). Right: the loans: limit against PD, coloured by rate."""
    fig, axes = _figure(12, 4.6, ncols=2)
    a, b = axes[0]
    comp = result.comparison()
    keys = ["expected_interest", "expected_loss", "expected_cost", "expected_profit"]
    x = np.arange(len(keys))
    for i, (col, colour) in enumerate((("optimised", "#1565c0"), ("naive", "#9e9e9e"))):
        v = comp.loc[keys, col].to_numpy(float) / 1e6
        bars = a.bar(
            x + (i - 0.5) * 0.38,
            v,
            width=0.38,
            color=colour,
            label=f"{col}: {int(comp.loc['n_loans', col])} loans, expected lending "
            f"{comp.loc['expected_lent', col] / 1e6:.1f} m",
        )
        a.bar_label(bars, fmt="%.2f", fontsize=7)
    a.set_xticks(x, [k.replace("expected_", "expected ") for k in keys])
    a.set_ylabel("million yuan")
    a.set_title(f"Expected outcome of a {result.rules.budget / 1e6:.0f} m yuan budget (limits offered)")
    a.legend(fontsize=8)
    loans = result.loans()
    sc = b.scatter(loans["pd_12m"], loans["limit"] / 1e3, c=loans["rate"], cmap="viridis", s=18)
    cb = fig.colorbar(sc, ax=b)
    cb.set_label("rate per year")
    _pct(cb.ax, "y")   # as a percentage, like the other charts (it showed 0.110)
    b.set_xscale("log")
    b.set_xlabel("PD (log scale)")
    b.set_ylabel("limit (thousand yuan)")
    b.set_title("Loans: limit and rate by PD")
    fig.tight_layout()
    return fig


def plot_portfolio_rates(
    priced: pd.DataFrame, config: PricingConfig, inclusive_rate: float = INCLUSIVE_SME_RATE
) -> Figure:
    """Distribution of the suggested rate by grade of a priced portfolio (box plots), with the policy
    rate and the inclusive small/micro average rate."""
    fig, axes = _figure(10, 4.6)
    ax = axes[0, 0]
    from creditmodel.validation.metrics import sort_grades

    p = priced[priced["suggested_rate"].notna()]
    grades = sort_grades(p["grade"].astype(str).unique()) if "grade" in p.columns else ["all"]
    data = [
        p.loc[p["grade"].astype(str) == g, "suggested_rate"].to_numpy()
        if g != "all"
        else p["suggested_rate"].to_numpy()
        for g in grades
    ]
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(grades) + 1), [f"{g}\n{len(v):,}" for g, v in zip(grades, data)], fontsize=8)
    ax.axhline(config.policy_rate, color="k", lw=1, label=f"policy rate {config.policy_rate:.2%}")
    ax.axhline(
        inclusive_rate, color="#6a1b9a", ls="--", lw=1, label=f"inclusive average {inclusive_rate:.2%}"
    )
    ax.set_xlabel("grade and priced loans")
    ax.set_ylabel("suggested rate")
    _pct(ax, "y", 1)
    ax.set_title("Suggested rate by grade of the scored portfolio")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
