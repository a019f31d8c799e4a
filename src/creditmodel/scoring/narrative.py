"""Narrative of the small-loan model notebooks (03 and 04), built from the run's own tables.

The notebooks are run with other parameters than their defaults (``-p oot_start=2022-07-15``, ``-p industry=F``); a
sentence typed from the demo's numbers ("the out-of-time sample is the generator's shock year", "19 loans on the
serious-dishonesty list") was then wrong (a reviewer's finding). Each function here returns Markdown or a label from
what the run computed, every claim conditional on the numbers:

* :func:`windows_markdown`: the run's development and out-of-time windows (dates, loans, defaults) and where they sit
  against the synthetic district's shock period (from the district's ``manifest.json``, when it records one);
* :func:`scorecard_notes_markdown`: the features above IV 0.5, the rare flags and whether each got a bin, the
  firms without a tax grade and the points the card gives them;
* :func:`scope_label`, :func:`validation_figure_scope` and :func:`stamp_figure`: the window (dates) and the industry
  section written into a figure's title, so that the figures of two runs can be told apart among MLflow artifacts.

Percentages are written as in the other notebooks ("3.4 %").
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from creditmodel.scoring.district import TARGET, DistrictSample

#: Rare flags and counts whose bins the think tank asks about (notebook 03, section 2), in the order shown.
RARE_FLAGS = ("enforcement_open_n", "penalty_active_unpaid_n", "arrears_social_insurance_open_n",
              "arrears_tax_open_n", "dishonest_debtor_listed", "on_black_list", "on_serious_dishonesty_list")
#: The tax-grade features, in the order the missing-grade note looks for one the card uses.
TAX_GRADE_FEATURES = ("tax_grade", "tax_grade_ordinal", "tax_grade_worst_3y")
#: Information value above which DOMAIN C2 calls a feature suspicious.
SUSPICIOUS_IV = 0.5

_PARTS = {"train": "training", "valid": "validation", "test": "in-time test", "oot": "out-of-time",
          "fit": "training and validation", "dev": "development"}


def _pct(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}%}".replace("%", " %") if np.isfinite(x) else "n/a"


def _day(t: Any) -> str:
    return f"{pd.Timestamp(t):%Y-%m-%d}"


def _rows(sample: DistrictSample, part: str) -> pd.DataFrame:
    """The loans of ``part``: a window name, ``fit`` (training and validation) or ``dev`` (development)."""
    if part == "fit":
        return sample.table.loc[np.isin(sample.window, ["train", "valid"])]
    if part == "dev":
        return sample.dev
    return sample.part(part)


def _span(rows: pd.DataFrame) -> str:
    when = pd.to_datetime(rows["as_of_date"])
    return f"{_day(when.min())} to {_day(when.max())}" if len(rows) else "no loans"


def industry_label(sample: DistrictSample) -> str:
    """``industry F Wholesale and retail trade`` for a section sample, ``""`` for every loan."""
    if not sample.industry:
        return ""
    from creditmodel.reference import industries

    name = industries().get(sample.industry, {}).get("en", "")
    return f"industry {sample.industry}" + (f" {name}" if name else "")


def scope_label(sample: DistrictSample, part: str = "oot") -> str:
    """What a figure of ``part`` shows: its originations' dates and, when set, the industry section, e.g.
    ``out-of-time originations 2024-01-01 to 2024-12-31 · industry F Wholesale and retail trade``. ``part``: a window
    (``train``, ``valid``, ``test``, ``oot``), ``fit`` (training and validation: what the scorecard's bins and IVs
    come from), ``dev`` (development) or ``dev_vs_oot`` (a stability figure: development against out of time)."""
    if part == "dev_vs_oot":
        text = f"development {_span(sample.dev)} vs out of time {_span(sample.oot)}"
    elif part in _PARTS:
        text = f"{_PARTS[part]} originations {_span(_rows(sample, part))}"
    else:
        raise ValueError(f"unknown part {part!r}; use one of {[*_PARTS, 'dev_vs_oot']}")
    where = industry_label(sample)
    return text + (f" · {where}" if where else "")


#: Validation figures (:class:`~creditmodel.validation.report.ValidationResult` ``figures``) that compare the
#: development window with the out-of-time one; ``migration`` grades enterprises at two dates; the others show the
#: out-of-time loans.
STABILITY_FIGURES = ("psi", "csi", "grades")


def validation_figure_scope(name: str, sample: DistrictSample, migration: Sequence[str] | None = None) -> str:
    """The scope of the validation figure ``name`` (notebook 04): the out-of-time loans, development against out of
    time for the stability figures, the two grading dates for the migration matrix; with the industry section."""
    if name == "migration" and migration is not None:
        where = industry_label(sample)
        return (f"enterprises graded at {_day(migration[0])} and {_day(migration[1])}"
                + (f" · {where}" if where else ""))
    return scope_label(sample, "dev_vs_oot" if name in STABILITY_FIGURES else "oot")


def _wrap(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters, broken at its " · " separators first."""
    import textwrap

    lines: list[str] = []
    for piece in text.split(" · "):
        joined = f"{lines[-1]} · {piece}" if lines else piece
        if lines and len(joined) <= width:
            lines[-1] = joined
        else:
            lines.append(piece)
    out = []
    for line in lines:   # a piece still too long: at " vs " (development vs out of time), then at spaces
        halves = line.split(" vs ", 1) if len(line) > width and " vs " in line else [line]
        halves = [halves[0], "vs " + halves[1]] if len(halves) == 2 else halves
        out += [w for h in halves for w in (textwrap.wrap(h, width, break_on_hyphens=False) or [h])]
    return "\n".join(out)


def stamp_figure(fig: Any, scope: str) -> Any:
    """Write ``scope`` under the figure's title (its suptitle, else the first axes title, else a new suptitle), in
    as many lines as the figure's width needs, and lay the figure out again so that the longer title stays inside
    it; returns ``fig``."""
    if not scope:
        return fig
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    sup = fig.get_suptitle()
    titled = next((ax for ax in fig.axes if ax.get_title()), None)
    on_axes = not sup and titled is not None
    size = (titled.title.get_fontsize() if on_axes
            else FontProperties(size=rcParams["figure.titlesize"]).get_size_in_points())
    # characters per line: the width of the figure (of the axes, for an axes title, centred over them) over an average
    # glyph (about 0.55 em in DejaVu Sans), with a margin
    inches = fig.get_figwidth() * (titled.get_position().width if on_axes else 1.0)
    width = max(20, int(inches * 72 * 0.95 / (0.55 * size)))
    text = _wrap(scope, width)
    if on_axes:
        titled.set_title(f"{titled.get_title()}\n{text}", fontsize=size)
    else:
        fig.suptitle(f"{sup}\n{text}" if sup else text)
    if not isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------------ windows
def _window_counts(rows: pd.DataFrame) -> str:
    n, d = len(rows), int(rows[TARGET].sum()) if len(rows) else 0
    return f"{n:,} loans originated {_span(rows)}, {d:,} defaulted ({_pct(d / n) if n else 'n/a'})"


def shock_period(manifest: Mapping[str, Any] | None) -> tuple[pd.Timestamp, pd.Timestamp, list[str]] | None:
    """(start, end, exposed industry sections) of the district's shock from its manifest, or None when the
    manifest records none (a real district, or one generated without a shock)."""
    sp = (manifest or {}).get("shock_period") or {}
    try:
        start, end = pd.Timestamp(sp["start"]), pd.Timestamp(sp["end"])
    except (KeyError, TypeError, ValueError):
        return None
    return start, end, [str(k) for k in sp.get("exposed_industries") or []]


def windows_markdown(sample: DistrictSample, manifest: Mapping[str, Any] | None = None) -> str:
    """This run's windows as Markdown: ``oot_start``, the development window (split by enterprise into training,
    validation and in-time test) and the out-of-time window with their dates, loans and defaults; then, from the
    district's ``manifest`` (``shock_period``), how the windows sit against the generator's shock: whether the
    out-of-time window is the shock period, starts before it (its figures mix pre-shock loans in), or the development
    window reaches into it (the models learnt from part of it)."""
    dev, oot = sample.dev, sample.oot
    where = industry_label(sample)
    parts = ", ".join(f"{_PARTS[w]} {int((sample.window == w).sum()):,}" for w in ("train", "valid", "test"))
    lines = [f"**Windows of this run** (`oot_start` = {_day(sample.oot_start)}"
             + (f"; {where} only" if where else "; every loan") + "):",
             f"* development: {_window_counts(dev)}; split by enterprise into {parts} loans;",
             f"* out of time: {_window_counts(oot)}."]
    shock = shock_period(manifest)
    if shock is None:
        lines.append("\nThe district's manifest records no shock period: the out-of-time window is simply the later "
                     "originations.")
        return "\n".join(lines)
    start, end, exposed = shock
    from creditmodel.reference import industries

    names = industries()
    ex = ", ".join(f"{k} {names.get(k, {}).get('en', '')}".strip() for k in exposed)
    when_o, when_d = pd.to_datetime(oot["as_of_date"]), pd.to_datetime(dev["as_of_date"])
    o_before, o_in = int((when_o < start).sum()), int(when_o.between(start, end).sum())
    o_after = int((when_o > end).sum())
    d_in = int((when_d >= start).sum())
    text = (f"\nThe generator's shock runs from {_day(start)} to {_day(end)} (the district's manifest"
            + (f"; exposed industries: {ex}" if ex else "") + "). ")
    if o_in == 0:
        text += "No out-of-time loan was originated in it: this run's out-of-time window does not test the shock."
    elif o_before == 0 and o_after == 0 and d_in == 0:
        text += (f"The out-of-time window is the shock period: all its {len(oot):,} loans were originated in it, "
                 "and no development loan was.")
    else:
        bits = [f"{o_in:,} of the {len(oot):,} out-of-time loans {'was' if o_in == 1 else 'were'} originated in it"]
        if o_before:
            bits.append(f"{o_before:,} before it (from {_day(when_o.min())})")
        if o_after:
            bits.append(f"{o_after:,} after it")
        text += "; ".join(bits) + "."
        if o_before:
            text += (" The out-of-time figures therefore mix pre-shock loans with the shock's: they measure "
                     "drift and discrimination over both, not the shock alone.")
    if d_in:
        text += (f" The development window reaches into the shock ({d_in:,} of its loans "
                 f"{'was' if d_in == 1 else 'were'} originated from "
                 f"{_day(start)} on): the models learnt from part of it.")
    text += _outcomes_into_shock(dev, start, when_d, exposed)
    lines.append(text)
    return "\n".join(lines)


def _outcomes_into_shock(dev: pd.DataFrame, start: pd.Timestamp, when: pd.Series, exposed: list[str]) -> str:
    """The development loans originated before the shock whose 12-month outcome window runs into it, with their
    default rate against the earlier ones' (overall and in the exposed sections): "no development loan was
    originated in it" hid that their outcomes were (a validator's finding: in the exposed sections the loans of 2023's
    second half defaulted at 6.8 %, those of 2021-22 at 2.4-4.0 %)."""
    late = ((when < start) & (when > start - pd.DateOffset(months=12))).to_numpy()
    early = (when <= start - pd.DateOffset(months=12)).to_numpy()
    if not late.any():
        return ""
    y = dev[TARGET].to_numpy()

    def rate(m: np.ndarray) -> str:
        return _pct(y[m].mean()) if m.any() else "n/a"

    k, d = int(late.sum()), int(y[late].sum())
    many = k != 1
    outcome = (f"{d:,} of them defaulted ({rate(late)}, " if many
               else f"it {'defaulted' if d else 'did not default'} (")
    versus = (f"against {rate(early)} of the earlier development loans)" if early.any()
              else "every development loan being that recent)")
    out = (f" Their outcomes are not all before it: {k:,} development loan{'s were' if many else ' was'} originated "
           f"in the 12 months before it, so {'their' if many else 'its'} 12-month outcome window"
           f"{'s run' if many else ' runs'} into it; {outcome}{versus}")
    if exposed and "industry" in dev.columns:
        ex = dev["industry"].astype(str).isin(exposed).to_numpy()
        if (late & ex).any():
            out += (f"; in the exposed sections {rate(late & ex)} of {int((late & ex).sum()):,}"
                    + (f" against {rate(early & ex)} of {int((early & ex).sum()):,}" if (early & ex).any() else ""))
    return out + (". The development sample, and so its default rate (the calibration's target) and the in-time "
                  "test, hold those outcomes.")


def calibration_markdown(results: Mapping[str, Any]) -> str:
    """The calibration errors against the true PD, with their bins (deciles: notebook 03's figures use five groups,
    and the sentence under them gave decile values without saying so), and each model's out-of-time PD level
    against the mean true PD and the observed default rate (the error is their distance: the notebook never said
    which way the PDs were off: a validator's finding)."""
    parts, level = [], []
    for kind, r in results.items():
        m = r.metrics
        parts.append(f"{kind} test {m.get('test_ece_true_pd', float('nan')):.4f} / out-of-time "
                     f"{m.get('oot_ece_true_pd', float('nan')):.4f}")
        mp, tp, dr = (m.get(k) for k in ("oot_mean_pd", "oot_mean_true_pd", "oot_default_rate"))
        if mp and tp and dr is not None:
            way = "too low" if mp < tp else "too high"
            level.append(f"{kind} {_pct(mp, 2)} against a mean true PD of {_pct(tp, 2)} ({way}, "
                         f"{max(mp, tp) / min(mp, tp):.2f} times) and an observed default rate of {_pct(dr, 2)}")
    text = ("Calibration error against the true PD (share-weighted mean absolute difference per predicted-PD decile: "
            "ten groups, as `bench/RESULTS.md` reports it, not the figures' five): " + ", ".join(parts) + ".")
    if level:
        text += " Out of time, the mean PD: " + "; ".join(level) + "."
    return text


# -------------------------------------------------------------------------------------------- scorecard notes
def _names(sample: DistrictSample) -> dict[str, str]:
    cat = sample.catalogue
    if cat is None or "code" not in getattr(cat, "columns", ()) or "name_en" not in cat.columns:
        return {}
    return dict(zip(cat["code"].astype(str), cat["name_en"].astype(str)))


def _reasons(card: Any) -> dict[str, str]:
    rep = getattr(card, "selection_report_", None)
    if rep is None or not len(rep):
        return {}
    return {str(f): str(r) for f, r in zip(rep["feature"], rep["reason"])}


def _high_iv_bullet(card: Any, sample: DistrictSample, names: dict[str, str], n_fit: int) -> str:
    iv = card.iv_report_
    high = iv.loc[iv["iv"] > SUSPICIOUS_IV].sort_values("iv", ascending=False)
    head = f"* **Features above IV {SUSPICIOUS_IV:g}** (on the {n_fit:,} training and validation loans): "
    if high.empty:
        return head + "none in this run."
    sel = high["selected"].astype(bool) if "selected" in high else pd.Series(False, index=high.index)

    def name(f: str, v: float) -> str:
        return f"`{f}` ({names[f] + '; ' if f in names else ''}IV {v:.2f})"

    used = [name(f, v) for f, v in zip(high.loc[sel, "feature"], high.loc[sel, "iv"])]
    why = _reasons(card)
    left = [name(f, v) + (f": {why[f]}" if f in why else "") for f, v in zip(high.loc[~sel, "feature"],
                                                                            high.loc[~sel, "iv"])]
    text = head + (f"the card uses {len(used)}: " + ", ".join(used) + "." if used else "the card uses none of them.")
    if left:
        text += f" Left out: {'; '.join(left)}."
    return text


def rare_flags_table(card: Any, sample: DistrictSample, flags: Sequence[str] = RARE_FLAGS) -> pd.DataFrame:
    """Per rare flag or count (among the card's candidates): the training and validation loans with it (value > 0),
    their defaults and default rate, the feature's IV and rare-bin p-value, whether the card uses it, and why it has
    no bin of its own (``bin``: ``own bin``, ``too few rows``, ``not different enough``, ``no bin``)."""
    fit = _rows(sample, "fit")
    y = fit[TARGET].to_numpy()
    iv = card.iv_report_.set_index("feature")
    min_count = int(getattr(card, "rare_bin_min_count", 20) or 20)
    rows = []
    for f in flags:
        if f not in fit.columns or f not in iv.index:
            continue
        hit = (pd.to_numeric(fit[f], errors="coerce").fillna(0) > 0).to_numpy()
        n, d = int(hit.sum()), int(y[hit].sum())
        r = iv.loc[f]
        p = float(r.get("rare_bin_p", np.nan))
        if float(r["iv"]) > 0 and int(r.get("n_bins", 2)) >= 2:
            verdict = "own bin"
        elif n < min_count:
            verdict = "too few rows"
        elif np.isfinite(p):
            verdict = "not different enough"
        else:
            verdict = "no bin"
        rows.append({"feature": f, "loans": n, "share": n / len(fit) if len(fit) else np.nan, "defaults": d,
                     "default_rate": d / n if n else np.nan, "iv": float(r["iv"]), "rare_bin_p": p,
                     "selected": bool(r.get("selected", False)), "bin": verdict})
    return pd.DataFrame(rows, columns=["feature", "loans", "share", "defaults", "default_rate", "iv", "rare_bin_p",
                                       "selected", "bin"])


def _rare_bullet(card: Any, sample: DistrictSample, names: dict[str, str], n_fit: int, rate: float) -> str:
    t = rare_flags_table(card, sample)
    if t.empty:
        return ""
    alpha = getattr(card, "rare_bin_alpha", None)
    min_count = int(getattr(card, "rare_bin_min_count", 20) or 20)
    binner = getattr(card, "binner_", None)
    mbs = getattr(binner, "min_bin_size_", None)
    why = _reasons(card)
    text = (f"* **Rare flags and counts.** Share of the {n_fit:,} training and validation loans with each, against "
            f"a default rate of {_pct(rate)} over all of them"
            + (f"; a bin of the card must hold at least {_pct(mbs, 0)} of the rows" if mbs else "")
            + (f", a rare flag gets one of its own only if Fisher's exact test finds its default rate different "
               f"(p < {alpha:g} after the Bonferroni correction) on at least {min_count} rows" if alpha else "")
            + ":")
    items = []
    for r in t.itertuples(index=False):
        label = f"`{r.feature}`" + (f" ({names[r.feature]})" if r.feature in names else "")
        s = (f"{label}: {r.loans:,} loan{'' if r.loans == 1 else 's'} ({_pct(r.share)}), {r.defaults:,} defaulted"
             + (f" ({_pct(r.default_rate)})" if r.loans else ""))
        if r.bin == "own bin":
            s += f"; a bin of its own (IV {r.iv:.2f})" + ("" if not np.isfinite(r.rare_bin_p) else
                                                         f", p = {r.rare_bin_p:.2g}")
            s += ", in the card" if r.selected else (f", left out: {why[r.feature]}" if r.feature in why
                                                      else ", not in the card")
        elif r.bin == "too few rows":
            s += f"; too few for a bin of its own (fewer than {min_count} rows): IV 0"
        elif r.bin == "not different enough":
            s += f"; not different enough for a bin of its own (p = {r.rare_bin_p:.2g}): IV 0"
        else:
            s += "; no bin of its own: IV 0"
        items.append("  * " + s)
    return text + "\n" + "\n".join(items)


def _missing_grade_bullet(card: Any, sample: DistrictSample, n_fit: int) -> str:
    fit = _rows(sample, "fit")
    if "tax_grade" not in fit.columns:
        return ""
    miss = fit["tax_grade"].isna() | (fit["tax_grade"].astype(str).str.strip().isin(["", "nan", "None", "<NA>"]))
    miss = miss.to_numpy()
    n = int(miss.sum())
    y = fit[TARGET].to_numpy()
    head = "* **Missing values: firms without a tax grade.** "
    if n == 0:
        return head + f"Every one of the {n_fit:,} training and validation loans has a tax grade."
    text = (head + f"{n:,} of the {n_fit:,} training and validation loans ({_pct(n / n_fit)}) went to a firm without "
            f"a tax grade; {_pct(y[miss].mean())} of them defaulted against {_pct(y[~miss].mean())} of the others.")
    if "firm_age_years" in fit.columns:
        age = pd.to_numeric(fit["firm_age_years"], errors="coerce")
        a_m, a_o = float(age[miss].median()), float(age[~miss].median())
        if np.isfinite(a_m) and np.isfinite(a_o):
            word = "younger" if a_m < a_o else "older" if a_m > a_o else "as old"
            text += f" Such firms are {word} (median age {a_m:.1f} years against {a_o:.1f})."
    selected = set(getattr(card, "selected_features_", []) or [])
    feat = next((f for f in TAX_GRADE_FEATURES if f in selected), None)
    if feat is None:
        return text + " The card uses no tax-grade feature, so the missing grade costs no points of its own."
    pt = card.points_table_
    rows = pt.loc[pt["feature"] == feat]
    reg = rows.loc[rows["kind"] == "regular"]
    mis = rows.loc[rows["kind"] == "missing", "points"]
    if mis.empty or reg.empty:
        return text
    p = int(mis.iloc[0])
    pts = " · ".join(f"{lab} {int(v)}" for lab, v in zip(reg["label"].astype(str), reg["points"]))
    same = [str(lab) for lab, v in zip(reg["label"], reg["points"]) if int(v) == p]
    fewer = int((reg["points"] < p).sum())
    where = (f"as many as {' and '.join(same)}" if same else
             "more than every bin" if fewer == len(reg) else "fewer than every bin" if fewer == 0 else
             f"more than {fewer} of its {len(reg)} bins")
    text += f" The card's `{feat}` gives a missing value {p} points ({where}; bins: {pts})."
    if "firm_age_years" in selected:
        text += " The card prices the firm's age separately (`firm_age_years`)."
    return text


def scorecard_notes_markdown(card: Any, sample: DistrictSample) -> str:
    """Notebook 03's notes on the scorecard, from this run's fit: the features above IV 0.5 (used or left out, and
    why), the rare flags and counts (loans, defaults, whether each got a bin of its own and why not) and the firms
    without a tax grade (share, default rates, median age, the points the card gives the missing grade). ``card``:
    the fitted :class:`~creditmodel.scoring.scorecard.WoEScorecard` (``iv_report_``, ``points_table_``,
    ``selection_report_``); ``sample``: the run's loan sample (the card was fitted on its training and validation
    loans)."""
    fit = _rows(sample, "fit")
    n_fit = len(fit)
    rate = float(fit[TARGET].mean()) if n_fit else float("nan")
    names = _names(sample)
    bullets = [_high_iv_bullet(card, sample, names, n_fit), _rare_bullet(card, sample, names, n_fit, rate),
               _missing_grade_bullet(card, sample, n_fit)]
    return f"**This run's card** ({scope_label(sample, 'fit')}):\n\n" + "\n".join(b for b in bullets if b)


def missing_inputs_table(results: Mapping[str, Any], sample: DistrictSample,
                         parts: Sequence[str] = ("test", "oot")) -> pd.DataFrame:
    """Per model, sample part and model input with 30 or more missing values: the loans missing it against the loans
    that have it (:func:`creditmodel.validation.metrics.missing_value_table`: ``n``, ``defaults``, ``ratio`` and
    ``present_ratio`` as default rate / mean PD, ``relative``, ``relative_p``), unadjusted for the number of inputs
    (the validation report adjusts). ``results``: kind -> a result with ``.model`` (``predict_pd``,
    ``input_spec``); a part with no default or no missing input gives no rows."""
    from creditmodel.validation.metrics import missing_value_table

    rows = []
    for kind, r in results.items():
        cols = list(r.model.input_spec.columns)
        for part in parts:
            dd = _rows(sample, part)
            y = dd[TARGET].to_numpy(dtype=int)
            if not len(dd) or not 0 < y.sum() < len(y):
                continue
            t = missing_value_table(y, r.model.predict_pd(dd), dd[cols])
            if len(t):
                rows.append(t.assign(model=kind, sample=part))
    cols = ["model", "sample", "feature", "n", "defaults", "ratio", "present_ratio", "relative", "relative_p"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
