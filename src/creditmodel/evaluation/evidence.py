"""Expert versus evidence: do the configured (expert) weights rank the district's later adverse outcomes?

At an as-of date ``t`` (default: one horizon before the end of the data) the enterprises existing at ``t``
are evaluated; an **adverse event** is any of, dated in ``(t, t + horizon]`` (as the data stand):

* ``serious_penalty``: a serious administrative penalty decided;
* ``enforcement``: a court enforcement case filed; ``dishonest_debtor``: listed as a dishonest debtor;
* ``serious_dishonesty``: put on the serious-dishonesty list;
* ``loan_default``: a loan default; ``revoked``: business licence revoked (吊销).

Then:

* **ranking power**: AUC (DeLong interval, :mod:`creditmodel.validation.metrics`) of the score, of the grade
  before and after caps, and of a logistic model learned on the indicators (out-of-fold, cross-validated), with
  a paired DeLong test of the expert score against the learned one; event rates per grade;
* **weights**: a logistic regression of the event on the indicators' contributions (points, standardised).
  In the expert score one point is one point, whatever the indicator; the fit says how much risk a point
  of each indicator carries. ``implied_weight = weight * (beta_i / sd_i) / beta_score``: the weight that would
  make a point of the indicator as telling as an average point of the score (``beta_score``: log-odds per point
  of a logistic fit on the score alone). ``expert_share`` / ``learned_share``: each indicator's share of the
  total standardised effect (points per SD, resp. |log-odds per SD|);
* **estimability**: an indicator's learned weight is *not identified* by the data when one of its two groups (the
  enterprises it gives points to, and the others) has fewer than ``min_events`` adverse events or fewer than
  ``min_events`` enterprises without one: with no event among the listed firms (e.g. a red list), the fit pushes
  the coefficient as far as the penalty lets it, and the share it reports says nothing about the indicator. Such
  indicators are marked (``estimable`` False, ``note`` with the counts) and the rank correlation of expert and
  learned shares is given over all indicators (``weight_rank_correlation``, as before) and over the estimable
  ones only (``weight_rank_correlation_estimable``). Where an estimable weight's learned sign contradicts the
  expert's direction (more points going with more risk), ``note`` says so;
* **sensitivity**: each weight multiplied by 0.8 and 1.2 (the others fixed): grade shares, the share of
  enterprises whose grade changes, and the AUC of the score.

Learned weights come from one district and one window: a guide for the expert discussion, not a replacement
(the public evaluation is a policy grade, DOMAIN.md D3).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from creditmodel.progress import tqdm

from creditmodel.errors import InputError
from creditmodel.evaluation.config import EvaluationConfig, load_config
from creditmodel.evaluation.engine import plan_measures, score_inputs
from creditmodel.evaluation.inputs import build_inputs
from creditmodel.threads import fit_single_threaded
from creditmodel.validation import metrics

log = logging.getLogger(__name__)

EVENTS = (
    "serious_penalty",
    "enforcement",
    "dishonest_debtor",
    "serious_dishonesty",
    "loan_default",
    "revoked",
)


#: Fewest adverse events, and fewest enterprises without one, that each group of an indicator (the enterprises
#: it gives points to, and the others) needs for its learned weight to count as estimable.
MIN_EVENTS = 5
#: [M] Fewer adverse events than this in the whole horizon: the evidence is said to say little (a warning)
MIN_EVIDENCE_EVENTS = 30


def _dates(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_datetime(df[col], errors="coerce")


def data_end(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The last ``reported_on`` date of any public record table: how far outcomes are known."""
    ends = [
        _dates(df, "reported_on").max()
        for df in tables.values()
        if df is not None and "reported_on" in df.columns and len(df)
    ]
    ends = [e for e in ends if pd.notna(e)]
    if not ends:
        raise InputError(
            "no reported_on dates: cannot tell how far the outcomes are known", column="reported_on"
        )
    return max(ends).normalize()


def adverse_events(
    tables: dict[str, pd.DataFrame], as_of: Any, horizon_months: int = 12, events: Sequence[str] = EVENTS
) -> pd.DataFrame:
    """One row per enterprise code with any record: a 0/1 column per event kind in ``(as_of, as_of + horizon]``
    and ``adverse`` (any of ``events``). The tables are read as the evaluation reads them
    (:func:`creditmodel.features.pit.prepare_tables`: codes normalised, categories written by name mapped)."""
    from creditmodel.features.pit import prepare_tables

    unknown = set(events) - set(EVENTS)
    if unknown:
        raise InputError(
            f"unknown adverse event(s) {sorted(unknown)}; known: {', '.join(EVENTS)}", column="events"
        )
    # as the grades read them: lower-cased codes or a severity written 严重 graded the same, but counted 0 events
    # (helper-142's mutation pass)
    tables = prepare_tables(tables)
    t = pd.Timestamp(as_of).normalize()
    end = t + pd.DateOffset(months=horizon_months)

    def within(s: pd.Series) -> pd.Series:
        return (s > t) & (s <= end)

    hits: dict[str, pd.Index] = {}
    p = tables.get("penalties")
    if p is not None:
        m = within(_dates(p, "decision_date")) & (p["severity"].astype(str) == "serious")
        hits["serious_penalty"] = pd.Index(p.loc[m, "uscc"].astype(str))
    e = tables.get("enforcement")
    if e is not None:
        hits["enforcement"] = pd.Index(e.loc[within(_dates(e, "filed_on")), "uscc"].astype(str))
        hits["dishonest_debtor"] = pd.Index(
            e.loc[within(_dates(e, "dishonest_listed_on")), "uscc"].astype(str)
        )
    li = tables.get("lists")
    if li is not None:
        m = within(_dates(li, "start_date")) & (li["list_type"].astype(str) == "serious_dishonesty")
        hits["serious_dishonesty"] = pd.Index(li.loc[m, "uscc"].astype(str))
    lo = tables.get("loans")
    if lo is not None and "default_date" in lo.columns:
        hits["loan_default"] = pd.Index(lo.loc[within(_dates(lo, "default_date")), "uscc"].astype(str))
    en = tables.get("enterprises")
    if en is not None:
        m = within(_dates(en, "closed_on")) & (en["status"].astype(str) == "revoked")
        hits["revoked"] = pd.Index(en.loc[m, "uscc"].astype(str))
    codes = pd.Index(sorted(set().union(*[set(h) for h in hits.values()]))) if hits else pd.Index([])
    out = pd.DataFrame(index=codes)
    for k in EVENTS:
        out[k] = codes.isin(hits[k]).astype(np.int64) if k in hits else 0
    out["adverse"] = (out[list(events)].sum(axis=1) > 0).astype(np.int64)
    out.index.name = "uscc"
    return out


@dataclass
class EvidenceResult:
    """Expert weights against the district's later adverse outcomes (see the module docstring)."""

    as_of: pd.Timestamp
    horizon_months: int
    frame: pd.DataFrame  # evaluation of the enterprises existing at as_of, with the event columns
    discrimination: pd.DataFrame  # ranker, auc, se, ci_low, ci_high, gini, n_events, n, note
    grade_rates: pd.DataFrame  # grade, enterprises, events, event_rate
    weights: pd.DataFrame  # one row per indicator
    sensitivity: pd.DataFrame  # one row per (indicator, factor)
    comparison: dict[str, float] = field(
        default_factory=dict
    )  # paired DeLong expert vs learned, rank correlations (all, estimable), counts of flagged weights
    min_events: int = MIN_EVENTS  # fewest events (and non-events) per group for a weight to count as estimable

    @property
    def outcome_end(self) -> pd.Timestamp:
        """The end of the outcome window: ``as_of + horizon_months``."""
        return self.as_of + pd.DateOffset(months=self.horizon_months)

    def scope(self, population: str = "whole district") -> str:
        """What the evidence covers, for a figure stamp or a caption: the population (:func:`expert_vs_evidence`
        scores every enterprise of the tables it is given), its size, the as-of date and the outcome window,
        e.g. ``"whole district (1,234 enterprises), as of 2025-06-30, adverse events to 2026-06-30"``."""
        return (f"{population} ({len(self.frame):,} enterprises), as of {self.as_of.date()}, "
                f"adverse events to {self.outcome_end.date()}")

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat metrics; ``prefix`` is put before every name (a notebook reporting on a narrower scope logs them
        as ``district_*``, so that they do not read as the scope's own)."""
        m: dict[str, float] = {
            "evidence_n": float(len(self.frame)),
            "evidence_event_rate": float(self.frame["adverse"].mean()),
        }
        for _, r in self.discrimination.iterrows():
            m[f"auc_{r['ranker']}"] = float(r["auc"])
        d = self.discrimination.set_index("ranker")["auc"]
        if "public_credit_grade" in d:  # names the demo summary reads
            m["grade_auc_later_adverse"] = float(d["public_credit_grade"])
            m["score_auc_later_adverse"] = float(d["public_credit_score"])
        m.update({k: float(v) for k, v in self.comparison.items()})
        return {f"{prefix}{k}": v for k, v in m.items()}

    def summary(self) -> str:
        d = self.discrimination.set_index("ranker")
        lines = [
            (
                f"expert vs evidence as of {self.as_of.date()}, adverse events within {self.horizon_months} months: "
                f"{int(self.frame['adverse'].sum()):,} of {len(self.frame):,} enterprises "
                f"({self.frame['adverse'].mean():.2%})"
            )
        ]
        for k, r in d.iterrows():
            ci = (f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]" if np.isfinite(r["ci_low"])
                  else f"(no interval: {r.get('note') or 'not computable'})")
            lines.append(f"  AUC {k}: {r['auc']:.3f} {ci}")
        if self.comparison:
            lines.append(
                f"  expert score vs learned (out-of-fold): AUC difference "
                f"{self.comparison.get('auc_diff_expert_minus_learned', np.nan):+.3f}, p = "
                f"{self.comparison.get('delong_p_value', np.nan):.3g}; Spearman rank correlation of the "
                f"weights {self.rank_correlation_text()}"
            )
        lines += [f"  {n}" for n in self.weight_notes()]
        return "\n".join(lines)

    def rank_correlation_text(self) -> str:
        """The rank correlation of expert and learned shares over all indicators with a share, and over the
        estimable ones only, e.g. ``"0.10 over all 27 indicators, 0.35 over the 24 estimable ones"``."""
        c = self.comparison
        n_all = int(c.get("weight_rank_correlation_n", 0))
        n_est = int(c.get("weight_rank_correlation_estimable_n", 0))
        a, e = c.get("weight_rank_correlation", np.nan), c.get("weight_rank_correlation_estimable", np.nan)
        all_txt = f"{a:.2f} over all {n_all} indicators" if np.isfinite(a) else "not computable"
        est_txt = (f"{e:.2f} over the {n_est} estimable ones" if np.isfinite(e)
                   else f"not computable over the {n_est} estimable ones")
        text = f"{all_txt}, {est_txt}" if n_est != n_all or not np.isfinite(a) else f"{all_txt} (all estimable)"
        w = self.weights
        if len(w) and "applies" in w.columns:   # the weights table has them: say why the count is smaller (reviewer)
            none = w.loc[~w["applies"].astype(bool), "indicator"].astype(str).tolist()
            if none:
                text += f"; {len(none)} more appl{'ies' if len(none) == 1 else 'y'} to no enterprise: {', '.join(none)}"
        return text

    def weight_notes(self) -> list[str]:
        """Plain-text caveats on the learned weights: the indicators whose weight the data do not identify (with
        their event counts) and those whose learned sign contradicts the expert's direction; empty when none."""
        w = self.weights
        if not len(w) or "estimable" not in w.columns:
            return []
        out = []
        ne = w[w["applies"] & np.isfinite(w["learned_coef_sd"]) & ~w["estimable"].astype(bool)]
        if len(ne):
            out.append(
                f"learned weight not identified (fewer than {self.min_events} adverse events, or enterprises "
                "without one, on one side of the indicator): "
                + "; ".join(f"{r['indicator']} ({_events(r['events_hit'])} among the {int(r['n_hit']):,} "
                            f"enterprises it applies to, {int(r['events_not_hit'])} among the other "
                            f"{int(r['n_not_hit']):,})" for _, r in ne.iterrows())
            )
        wrong = w[w["estimable"].astype(bool) & (w["sign_agrees"] == False)]  # noqa: E712 (None = no fit)
        if len(wrong):
            out.append(
                "learned sign contradicts the expert's direction (more points go with more risk, the other "
                "indicators held fixed): " + ", ".join(wrong["indicator"])
            )
        return out


def _auc_row(name: str, y: np.ndarray, risk: np.ndarray) -> dict[str, Any]:
    """AUC with its DeLong interval; where the interval is not computable, ``note`` says why and the AUC is
    still given when both outcomes occur (a ranker that separates perfectly has AUC 1 and variance 0)."""
    try:
        r = metrics.auc_delong(y, risk)
        return {
            "ranker": name,
            "auc": r.auc,
            "se": r.se,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "gini": r.gini,
            "n_events": r.n_defaults,
            "n": r.n_defaults + r.n_nondefaults,
            "note": "",
        }
    except metrics.NotComputable as e:
        log.warning("AUC interval of %s not computable: %s", name, e)
        events = int(y.sum())
        auc = metrics.auc(y, risk) if 0 < events < len(y) else np.nan
        return {
            "ranker": name,
            "auc": auc,
            "se": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "gini": 2.0 * auc - 1.0,
            "n_events": events,
            "n": len(y),
            "note": e.message,
        }


def _logistic(c: float, seed: int):
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, solver="newton-cholesky", max_iter=200))


def check_horizon_months(horizon_months: Any) -> None:
    """Raise :class:`InputError` (parameter ``horizon_months``) unless it is a whole number of months >= 1; the
    notebook calls it first, before the evaluation it would otherwise wait for."""
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, (int, np.integer)) or horizon_months < 1:
        raise InputError(f"must be a whole number of months >= 1, got {horizon_months!r}", parameter="horizon_months")


@fit_single_threaded
def expert_vs_evidence(
    tables: dict[str, pd.DataFrame],
    config: EvaluationConfig | str | None = None,
    as_of: Any = None,
    horizon_months: int = 12,
    events: Sequence[str] = EVENTS,
    factors: Sequence[float] = (0.8, 1.2),
    C: float = 1.0,
    folds: int = 5,
    seed: int = 0,
    min_events: int = MIN_EVENTS,
) -> EvidenceResult:
    """Compare the configured weights with the district's adverse outcomes after ``as_of`` (default: the
    end of the data minus ``horizon_months``). ``C``: inverse L2 strength of the logistic fits; ``folds``:
    cross-validation folds for the learned model's out-of-fold AUC; ``seed``: fold assignment; ``min_events``:
    fewest adverse events (and enterprises without one) on each side of an indicator for its learned weight to
    count as estimable (module docstring)."""
    from creditmodel.features.pit import prepare_tables

    check_horizon_months(horizon_months)
    cfg = load_config(config)
    tables = prepare_tables(tables)    # read once: the grades and the adverse events read the same tables
    end = data_end(tables)
    t = (end - pd.DateOffset(months=horizon_months)) if as_of is None else pd.Timestamp(as_of).normalize()
    if t + pd.DateOffset(months=horizon_months) > end:
        raise InputError(
            f"the outcome window ({t.date()} + {horizon_months} months) ends after the data "
            f"({end.date()}); choose an earlier as-of date",
            column="as_of",
        )
    inputs = build_inputs(tables, t, repair=cfg.repair)
    live = ~inputs["deregistered"].to_numpy(dtype=bool)
    inputs = inputs[live].reset_index(drop=True)
    frame = score_inputs(inputs, cfg)
    ev = adverse_events(tables, t, horizon_months, events)
    ev = ev.reindex(frame["uscc"].astype(str)).fillna(0).astype(np.int64)
    for c in ev.columns:
        frame[c] = ev[c].to_numpy()
    y = frame["adverse"].to_numpy()
    if int(y.sum()) < MIN_EVIDENCE_EVENTS:   # a horizon of 1 month gave 5 events and AUCs logged as evidence
        log.warning("the evidence rests on %d adverse event(s) in the %d month(s) after %s (fewer than %d): its AUCs "
                    "and learned weights say little; choose a longer horizon_months or an earlier as-of date",
                    int(y.sum()), horizon_months, t.date(), MIN_EVIDENCE_EVENTS)
    labels = cfg.grade_labels
    g_rank = frame["public_credit_grade"].map({g: i for i, g in enumerate(labels)}).to_numpy(dtype=float)
    g0_rank = frame["grade_from_score"].map({g: i for i, g in enumerate(labels)}).to_numpy(dtype=float)

    # weights: logistic on the standardised contributions
    keys = cfg.indicator_keys
    X = frame[[f"contrib__{k}" for k in keys]].to_numpy(dtype=float)
    sd = X.std(axis=0)
    use = sd > 0
    rows_w = []
    beta = np.full(len(keys), np.nan)
    oof = None
    if y.sum() >= folds and (len(y) - y.sum()) >= folds and use.any():
        model = _logistic(C, seed).fit(X[:, use], y)
        beta[use] = model[-1].coef_[0]
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        oof = cross_val_predict(_logistic(C, seed), X[:, use], y, cv=cv, method="predict_proba")[:, 1]
    score = frame["public_credit_score"].to_numpy(dtype=float)
    b_score = np.nan
    if 0 < y.sum() < len(y) and score.std() > 0:
        b_score = float(
            LogisticRegression(C=1e6, solver="newton-cholesky").fit(score[:, None], y).coef_[0, 0]
        )
    w = np.array([cfg.indicator(k).weight for k in keys])
    expert_eff = np.where(use, sd, np.nan)
    learned_eff = -beta  # positive when more points mean less risk, as the expert assumes
    fitted = np.isfinite(beta)
    for j, k in enumerate(keys):
        ind = cfg.indicator(k)
        hit = X[:, j] != 0
        ev_hit, ev_not = int(y[hit].sum()), int(y[~hit].sum())
        n_hit, n_not = int(hit.sum()), int((~hit).sum())
        estimable = bool(use[j] and fitted[j]
                         and min(ev_hit, n_hit - ev_hit, ev_not, n_not - ev_not) >= min_events)
        sign_agrees = bool(beta[j] < 0) if use[j] and np.isfinite(beta[j]) else None
        rows_w.append(
            {
                "indicator": k,
                "dimension": ind.dimension,
                "zh": ind.zh,
                "en": ind.en,
                "expert_weight": ind.weight,
                "prevalence": float(hit.mean()),
                "event_rate_hit": float(y[hit].mean()) if hit.any() else np.nan,
                "event_rate_not_hit": float(y[~hit].mean()) if (~hit).any() else np.nan,
                "points_sd": float(sd[j]),
                "expert_share": float(expert_eff[j] / np.nansum(expert_eff)) if use[j] else np.nan,
                "learned_coef_sd": float(beta[j]),
                "learned_share": float(learned_eff[j] / np.nansum(np.abs(learned_eff))) if use[j] else np.nan,
                "implied_weight": float(w[j] * (beta[j] / sd[j]) / b_score)
                if use[j] and np.isfinite(b_score)
                else np.nan,
                "sign_agrees": sign_agrees,
                "n_hit": n_hit,
                "events_hit": ev_hit,
                "n_not_hit": n_not,
                "events_not_hit": ev_not,
                "applies": bool(use[j]),
                "estimable": estimable,
                "note": _weight_note(bool(use[j]), fitted[j], estimable, sign_agrees, ev_hit, n_hit, ev_not,
                                     n_not, min_events, deduction=bool(hit.any() and X[hit, j].mean() < 0)),
            }
        )
    weights = pd.DataFrame(rows_w)
    for _, r in weights[weights["note"] != ""].iterrows():
        log.info("weight of %s: %s", r["indicator"], r["note"])

    disc = [
        _auc_row("public_credit_score", y, -score),
        _auc_row("grade_from_score", y, g0_rank),
        _auc_row("public_credit_grade", y, g_rank),
    ]
    comparison: dict[str, float] = {}
    if oof is not None:
        disc.append(_auc_row("learned_logistic_oof", y, oof))
        try:
            pr = metrics.delong_paired(y, -score, oof)
            comparison["auc_diff_expert_minus_learned"] = float(pr.auc_a - pr.auc_b)
            comparison["delong_p_value"] = float(pr.p_value)
        except metrics.NotComputable as e:
            log.warning("paired DeLong test not computable: %s", e)
        ok = weights.dropna(subset=["expert_share", "learned_share"])
        est = ok[ok["estimable"]]
        if len(ok) > 2:
            comparison["weight_rank_correlation"] = float(
                ok["expert_share"].rank().corr(ok["learned_share"].rank())
            )
        if len(est) > 2:
            comparison["weight_rank_correlation_estimable"] = float(
                est["expert_share"].rank().corr(est["learned_share"].rank())
            )
        comparison["weight_rank_correlation_n"] = float(len(ok))
        comparison["weight_rank_correlation_estimable_n"] = float(len(est))
        comparison["weights_not_estimable"] = float((weights["applies"] & ~weights["estimable"]).sum())
        comparison["weights_sign_contradicts_expert"] = float(
            (weights["estimable"] & (weights["sign_agrees"] == False)).sum()  # noqa: E712
        )
    disc = pd.DataFrame(disc)
    rates = (
        frame.groupby("public_credit_grade")["adverse"]
        .agg(enterprises="size", events="sum")
        .reindex(labels, fill_value=0)
        .reset_index()
    )
    rates["event_rate"] = rates["events"] / rates["enterprises"].where(rates["enterprises"] > 0)

    # sensitivity of the grade distribution to each weight
    base = score_inputs(inputs, cfg, with_sectors=False)
    base_m = plan_measures(base, cfg)
    sens = []
    for k in tqdm(keys, desc="sensitivity", unit="weight", disable=None, leave=False):
        for f in factors:
            r = score_inputs(inputs, cfg.with_weights({k: f}), with_sectors=False)
            m = plan_measures(r, cfg)
            row = {
                "indicator": k,
                "factor": f,
                "weight": cfg.indicator(k).weight * f,
                "grade_changed_share": float(
                    (r["public_credit_grade"] != base["public_credit_grade"]).mean()
                ),
                "excellent_or_good_share": m["excellent_or_good_share"],
                "delta_excellent_or_good": m["excellent_or_good_share"] - base_m["excellent_or_good_share"],
                "auc_score": _auc_row("s", y, -r["public_credit_score"].to_numpy(dtype=float))["auc"],
            }
            row.update({f"grade_{g}_share": m[f"grade_{g}_share"] for g in labels})
            sens.append(row)
    sens = pd.DataFrame(sens)
    return EvidenceResult(
        as_of=t,
        horizon_months=horizon_months,
        frame=frame,
        discrimination=disc,
        grade_rates=rates,
        weights=weights,
        sensitivity=sens,
        comparison=comparison,
        min_events=min_events,
    )


def _events(k: int, word: str = "event") -> str:
    return f"{int(k)} {word}" + ("" if int(k) == 1 else "s")


def _weight_note(applies: bool, fitted: bool, estimable: bool, sign_agrees: bool | None, ev_hit: int, n_hit: int,
                 ev_not: int, n_not: int, min_events: int, deduction: bool) -> str:
    """The ``note`` of a row of :attr:`EvidenceResult.weights`: why the learned weight is not identified, or that
    its sign contradicts the expert's (and whether the raw event rates agree with the expert); empty when neither.
    ``deduction``: the indicator takes points away (the expert says the enterprises it applies to are riskier)."""
    if not applies:
        return "applies to no enterprise: no weight to learn"
    if not fitted:
        return "no fit (too few adverse events overall)"
    if not estimable:
        return (f"not identified: {_events(ev_hit, 'adverse event')} among the {n_hit:,} enterprises it applies to, "
                f"{ev_not} among the other {n_not:,} (needs at least {min_events} events and {min_events} "
                "without on each side)")
    if sign_agrees is False:
        rate_hit, rate_not = ev_hit / n_hit, ev_not / n_not
        raw_agrees = rate_hit > rate_not if deduction else rate_hit < rate_not
        raw = (f"event rate {rate_hit:.1%} where it applies, {rate_not:.1%} elsewhere: "
               + ("the raw rates agree with the expert, the other indicators it goes with take the effect"
                  if raw_agrees else "the raw rates contradict the expert too"))
        return ("learned sign contradicts the expert's direction: with the other indicators fixed, more points go "
                f"with more risk ({raw})")
    return ""
