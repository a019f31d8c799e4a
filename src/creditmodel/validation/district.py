"""Out-of-time validation of the district's registered PD models (notebook 04).

The registered model (default ``district_pd``, see :mod:`creditmodel.scoring.district`) holds the
``champion`` (WoE scorecard) and the ``challenger`` (LightGBM). Each is validated with
:func:`creditmodel.validation.build_report` on

* the **out-of-time sample**: loans originated from ``oot_start`` on (the generator's shock year), observed
  default within 12 months against the model's calibrated PD, score and grade; per industry and size class;
  the other model's predictions on the same rows for the paired DeLong test; loan amounts (yuan) for the
  exposure-weighted concentration;
* the **development sample** (originations before ``oot_start``) as reference: PSI of the score, CSI of the
  model's input features, grade concentration; the initial AUC of the ECB deterioration test (on grades) is the
  one the model recorded at training: of its held-out test split and its cross-validated development rows, the
  one resting on more defaults (neither optimistic);
* the **rating migration** of every enterprise of the model's population (active, with operating data) at
  both dates, graded by the model from its point-in-time features at ``migration_from`` and at ``migration_to``.

Results go to ``<out_dir>/validation/<alias>/`` (``report.html``, ``metrics.json``; another registered model
than ``district_pd``, e.g. a section's ``district_pd_F``, to ``<out_dir>/validation/<name>/<alias>/``), with a copy
per model version in ``<out_dir>/validation/versions/<name>/<version>/`` that the version's ``validation_report``
tag points to (a later validation of another model or version into the same folder no longer changes the report a
version's deliverable ships: an analyst's finding), to the active MLflow run (metrics prefixed ``<alias>_``,
reports, figures) and onto the model versions as tags (``validation_status`` = worst light, ``validation_oot_auc``,
``validation_psi``, ``validation_report``, ``validation_run_id``).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditmodel import registry, tracking
from creditmodel.errors import InputError
from creditmodel.scoring.district import MODEL_NAME, TARGET, DistrictSample
from creditmodel.scoring.master_scale import DEFAULT_GRADE
from creditmodel.validation import lights as L
from creditmodel.validation import metrics as M
from creditmodel.validation.report import (Challenger, ReferenceSample, ValidationResult, build_report,
                                         development_fit, initial_auc_of, master_scale_central_pd)

log = logging.getLogger(__name__)

ALIASES = (registry.CHAMPION, registry.CHALLENGER)
#: Model-version tags written by :func:`tag_versions`.
VERSION_TAGS = ("validation_status", "validation_oot_auc", "validation_psi", "validation_report",
                "validation_run_id", "validation_red_checks", "validation_basis")


# --------------------------------------------------------------------------- registration
@dataclass
class Registration:
    """What :func:`ensure_registered` found or did: alias -> version, and the promotion decision if it trained."""

    name: str
    versions: dict[str, str | None]
    trained: bool
    decision: Any = None

    def summary(self) -> str:
        head = (f"trained and registered {self.name}" if self.trained else f"{self.name} already registered")
        aliases = ", ".join(f"{a} = v{v}" if v else f"{a}: none" for a, v in self.versions.items())
        return f"{head}: {aliases}" + (f"\n{self.decision.summary()}" if self.decision is not None else "")


def _has_versions(name: str) -> bool:
    return bool(registry.client().search_model_versions(f"name='{name}'"))


def ensure_registered(sample: DistrictSample, out_dir: str | Path, name: str = MODEL_NAME, seed: int = 42
                      ) -> Registration:
    """Make sure ``name`` has registered versions in the store under ``out_dir``.

    When it has none, trains the champion (scorecard) and the challenger (LightGBM) on ``sample`` with
    ``seed``, registers both into the active MLflow run (:func:`creditmodel.scoring.district.register_models`)
    and submits the scorecard to the guarded promotion (:func:`creditmodel.registry.promote`), as notebook 03
    does. Otherwise changes nothing.
    """
    from creditmodel.scoring import district

    tracking.configure(out_dir)
    if _has_versions(name):
        return Registration(name, {a: registry.alias_version(name, a) for a in ALIASES}, trained=False)
    others = sorted(m.name for m in registry.client().search_registered_models() if m.name != name)
    if others:   # a typo (-p model_name=district_pb) trained and registered a new model under an INFO line
        import difflib

        near = difflib.get_close_matches(name, others, n=1)
        log.warning("no registered model %r under %s, which holds %s: training and registering a new champion and "
                    "challenger as %r%s", name, out_dir, ", ".join(map(repr, others)), name,
                    f" (did you mean {near[0]!r}?)" if near else "")
    else:
        log.info("no registered model %r under %s: training champion and challenger", name, out_dir)
    results = district.train_models(sample, seed=seed)
    versions = district.register_models(results, sample, out_dir, name=name)
    decision = registry.promote(name, versions["scorecard"], out=out_dir)
    return Registration(name, {a: registry.alias_version(name, a) for a in ALIASES}, trained=True,
                        decision=decision)


# --------------------------------------------------------------------------- the models
@dataclass
class ModelRef:
    """One model under validation: the alias it is validated as, its registered name and version, the
    loaded :class:`~creditmodel.scoring.model.CreditModel`, and a note (e.g. why an alias was resolved by
    fallback)."""

    alias: str
    name: str
    version: str
    model: Any
    note: str = ""

    @property
    def label(self) -> str:
        """``champion (v1, scorecard)``: the name printed in reports and tables; ``champion candidate (...)`` when
        no version holds the alias and the last promotion candidate stands in (``note`` says why)."""
        return f"{self.alias}{' candidate' if self.note else ''} (v{self.version}, {self.model.kind})"

    @property
    def features(self) -> list[str]:
        """The model's input features for CSI: the scorecard's selected ones, else every input column."""
        sel = getattr(self.model.estimator, "selected_features_", None)
        return list(sel) if sel else list(self.model.input_spec.columns)


def _last_candidate(name: str, exclude: set[str]) -> tuple[str, dict[str, str]] | None:
    """Newest version submitted to the promotion (tag ``promotion_decision``) that no other alias holds."""
    versions = [mv for mv in registry.client().search_model_versions(f"name='{name}'")
                if "promotion_decision" in mv.tags and str(mv.version) not in exclude]
    if not versions:
        return None
    mv = max(versions, key=lambda m: int(m.version))
    return str(mv.version), dict(mv.tags)


def training_seed(name: str, seed: int) -> int:
    """The seed the registered models of ``name`` were trained with (the champion's metadata, else the
    challenger's), so that notebook 04's sample is split as notebook 03 split it; ``seed`` when no version is
    registered or none records one. A seed other than ``seed`` is said (a reviewer's notebook 04 with the default
    seed showed a split of 268 / 95 / 89 loans for models trained on 276 / 91 / 85 with seed 7)."""
    if not _has_versions(name):
        return seed
    for alias in ALIASES:
        version = registry.alias_version(name, alias)
        if version is None:
            continue
        from creditmodel.scoring.pyfunc import load_credit_model

        got = (getattr(load_credit_model(f"models:/{name}/{version}"), "metadata", None) or {}).get("seed")
        if got is None:
            continue
        if int(got) != int(seed):
            log.warning("registered model %s @%s was trained with seed %d: the sample is split with it, not with "
                        "seed %d (which still seeds the bootstrap)", name, alias, int(got), int(seed))
        return int(got)
    return seed


def resolve_models(name: str = MODEL_NAME, aliases: Sequence[str] = ALIASES) -> dict[str, ModelRef]:
    """Load the versions behind ``aliases`` of registered model ``name`` (MLflow must be configured).

    A missing ``champion`` alias (the promotion refused every candidate) falls back to the newest promotion
    candidate, with a warning and a note that the report prints; a missing ``challenger`` is skipped. No
    version at all raises :class:`InputError`.
    """
    from creditmodel.scoring.pyfunc import load_credit_model

    if not _has_versions(name):
        raise InputError(f"registered model {name!r} has no version in {tracking.tracking_uri()}; run "
                         "experiments/small_loan_models.yaml first", parameter="model_name")
    found = {a: registry.alias_version(name, a) for a in aliases}
    refs: dict[str, ModelRef] = {}
    for alias in aliases:
        version, note = found[alias], ""
        if version is None and alias == registry.CHAMPION:
            cand = _last_candidate(name, {v for v in found.values() if v})
            if cand is None:
                raise InputError(f"registered model {name!r} has no {alias!r} alias and no promotion candidate",
                                 parameter="model_name")
            version, tags = cand
            note = (f"no '{alias}' alias: version {version}, the last promotion candidate, is validated in its "
                    f"place (promotion {tags.get('promotion_decision')}: {tags.get('promotion_reasons', '')})")
            log.warning(note)
        if version is None:
            log.warning("registered model %r has no %r alias: not validated", name, alias)
            continue
        refs[alias] = ModelRef(alias, name, version, load_credit_model(f"models:/{name}/{version}"), note)
    return refs


# --------------------------------------------------------------------------- the samples
def portfolio_at(tables: Mapping[str, pd.DataFrame], start: str | pd.Timestamp, end: str | pd.Timestamp,
                 applicants_only: bool = True, industry: str = "", cure_months: int | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], np.ndarray]:
    """Point-in-time features of the enterprises active at both dates: registered on or before ``start``
    and not closed (deregistered or revoked) on or before ``end``; one row per enterprise, same order in
    both frames. ``applicants_only`` keeps the model's population, as the bank deliverable does
    (:func:`creditmodel.scoring.district.enterprise_portfolio`): enterprises with operating (invoice) data in
    the 12 months before each date. Also returns counts (``enterprises``, ``active_both``,
    ``registered_after_start``, ``closed_by_end``, ``outside_population``: active at both dates but without
    operating data at one of them, and ``in_population``: the rows returned). ``industry`` (a section letter)
    keeps that section's enterprises (``other_industry`` counts the others). A migration matrix covers obligors
    performing at the start (ECB): enterprises in default at ``start`` are left out (``in_default_at_start``;
    a loan defaulted on or before it, lifted ``cure_months`` after the last default when given, as for the bank
    deliverable: :func:`creditmodel.scoring.district.in_default_at`); the last value flags, per row, an
    enterprise with a loan that defaulted after ``start`` and on or before ``end`` (``defaulted_in_period``),
    whose end grade is D.
    """
    from creditmodel.features import build_features

    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    if t1 <= t0:
        raise InputError(f"migration_to {t1.date()} must be after migration_from {t0.date()}", parameter="migration_to")
    ent = tables["enterprises"].drop_duplicates("uscc")
    reg = pd.to_datetime(ent["registered_on"]).le(t0).fillna(False).to_numpy(dtype=bool)
    closed = (pd.to_datetime(ent["closed_on"]).le(t1).fillna(False).to_numpy(dtype=bool)
              if "closed_on" in ent.columns else np.zeros(len(ent), dtype=bool))
    keep = reg & ~closed
    from creditmodel.scoring.district import defaulted_between, in_default_at

    in_default = in_default_at(dict(tables), ent["uscc"], t0, cure_months=cure_months)
    other = np.zeros(len(ent), dtype=bool)
    if industry:
        other = (ent["industry"].astype(str) != industry).to_numpy()
        keep &= ~other
    codes = ent.loc[keep, "uscc"].tolist()
    counts = {"enterprises": len(ent), "active_both": len(codes), "registered_after_start": int((~reg).sum()),
              "closed_by_end": int((reg & closed).sum())}
    if industry:
        counts["other_industry"] = int((reg & ~closed & other).sum())
    counts["in_default_at_start"] = int((keep & in_default).sum())
    keep &= ~in_default
    codes = ent.loc[keep, "uscc"].tolist()
    f0, f1 = build_features(dict(tables), t0, uscc=codes), build_features(dict(tables), t1, uscc=codes)
    inside = np.ones(len(f0), dtype=bool)
    if applicants_only and "invoice_sales_12m_log" in f0.columns:
        inside = (f0["invoice_sales_12m_log"].notna() & f1["invoice_sales_12m_log"].notna()).to_numpy()
        f0, f1 = f0.loc[inside].reset_index(drop=True), f1.loc[inside].reset_index(drop=True)
    defaulted = defaulted_between(dict(tables), f1["uscc"], t0, t1)
    counts.update(outside_population=int((~inside).sum()), in_population=int(inside.sum()),
                  defaulted_in_period=int(defaulted.sum()))
    return f0, f1, counts, defaulted


def _labels(s: pd.Series) -> np.ndarray:
    return s.astype(object).where(s.notna(), "missing").astype(str).to_numpy(dtype=object)


# --------------------------------------------------------------------------- validation
@dataclass
class ModelValidation:
    """The validation of one model: what was validated and the :class:`ValidationResult`."""

    ref: ModelRef
    result: ValidationResult
    out: Path | None = None
    #: the copy of ``report.html`` and ``metrics.json`` kept for this model version (:func:`version_report_dir`)
    version_out: Path | None = None

    @property
    def status(self) -> str:
        return self.result.status


@dataclass
class _Scored:
    frame: pd.DataFrame
    ok: np.ndarray


def _score(model: Any, df: pd.DataFrame) -> _Scored:
    s = model.score_frame(df.reset_index(drop=True))
    return _Scored(s, (s["status"].astype(str) == "ok").to_numpy())


def _initial_auc(y: np.ndarray, scored: _Scored, model: Any) -> tuple[float, float | None] | None:
    """AUC of the grades on the in-time test window and its DeLong standard error (None where only the AUC is
    defined, e.g. one grade for every row); None, and the development sample is used, if not computable."""
    from creditmodel.scoring.train import grade_auc_record

    yy = y[scored.ok]
    codes = model.master_scale.grade_codes(scored.frame.loc[scored.ok, "pd_12m"].to_numpy(dtype=float)).astype(float)
    rec = grade_auc_record(codes, yy)   # the AUC on grades training records, with its DeLong s.e.
    if rec is not None:
        return rec["auc"], rec["se"]
    try:
        return M.auc(yy, codes), None
    except M.NotComputable as e:
        log.warning("initial AUC on the in-time test window not computable (%s); the development sample "
                    "is used", e.message)
        return None


def _reference(model: Any, dev: pd.DataFrame, test: pd.DataFrame, feats: list[str], name: str
               ) -> tuple[ReferenceSample, str | None]:
    """Development scores, grades and features, and the initial AUC with the sample it comes from.

    The initial AUC is the held-out test AUC the model recorded at training (metadata ``initial_auc``): the
    in-time test window rebuilt here is only the model's own test split for the seed and population it was
    trained with, and would hold training loans otherwise. Models without that record fall back to the rebuilt
    window (sample name returned), else to the development sample (None)."""
    ds = _score(model, dev)
    ok = ds.ok
    meta = getattr(model, "metadata", None) or {}
    auc, se, basis = initial_auc_of(meta)
    if auc is not None:
        sample = f"recorded at training: {meta.get('initial_auc_sample', 'held-out test split')}"
    else:
        rebuilt = _initial_auc(test[TARGET].to_numpy(), _score(model, test), model)
        auc, se, basis = (*rebuilt, "grade") if rebuilt is not None else (None, None, None)
        sample = (f"in-time test window rebuilt with this run's seed ({len(test)} loans; the model records no "
                  f"held-out AUC)" if auc is not None else None)
    return ReferenceSample(score=ds.frame.loc[ok, "score"].to_numpy(dtype=float),
                           pd=ds.frame.loc[ok, "pd_12m"].to_numpy(dtype=float),
                           grade=ds.frame.loc[ok, "grade"].astype(str).to_numpy(), y=dev.loc[ok, TARGET].to_numpy(),
                           features=dev.loc[ok, feats].reset_index(drop=True) if feats else None,
                           auc=auc, auc_se=se, auc_basis=basis, name=name), sample


def _migration(model: Any, start: pd.DataFrame, end: pd.DataFrame, defaulted: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Grades of the same enterprises at the two dates (rows the model scores at both); the end grade of an
    enterprise that defaulted in between is D (the model graded it as performing from its features)."""
    g0, g1 = _score(model, start), _score(model, end)
    end_grade = g1.frame["grade"].astype(str).to_numpy(dtype=object)
    if defaulted is not None:
        end_grade[np.asarray(defaulted, dtype=bool)] = DEFAULT_GRADE
    both = g0.ok & (g1.ok | (defaulted if defaulted is not None else False))
    return g0.frame.loc[both, "grade"].astype(str).to_numpy(), end_grade[both]


def _default_definition(cur: pd.DataFrame, tables: Mapping[str, pd.DataFrame] | None) -> str:
    """The target as the report states it, with how many performing loans a per-obligor definition would
    count as defaults (another loan of the same enterprise defaulted within this loan's 12 months)."""
    text = (f"{TARGET} of the loans table: the loan defaulted within 12 months of its origination (a per-loan "
            "definition: another loan of the same enterprise defaulting does not count; no cross-default)")
    loans = (tables or {}).get("loans")
    if loans is None or not {"uscc", "default_date"} <= set(loans.columns) or "uscc" not in cur.columns:
        return text
    own = "loan_id" in loans.columns and "loan_id" in cur.columns
    dd = loans.loc[loans["default_date"].notna(), ["uscc", "default_date", *(["loan_id"] if own else [])]]
    dd = dd.assign(default_date=pd.to_datetime(dd["default_date"]))
    perf = cur.loc[cur[TARGET].to_numpy() == 0, ["uscc", "as_of_date", *(["loan_id"] if own else [])]].reset_index()
    pairs = perf.merge(dd, on="uscc", how="inner", suffixes=("", "_other"))
    t0 = pd.to_datetime(pairs["as_of_date"])
    hit = (pairs["default_date"] >= t0) & (pairs["default_date"] < t0 + pd.DateOffset(months=12))
    if own:   # another loan's default (a performing loan's own default date would be a data fault, not this)
        hit &= (pairs["loan_id"].astype(str) != pairs["loan_id_other"].astype(str))
    n = int(pairs.loc[hit.to_numpy(), "index"].nunique())
    if n:
        text += (f"; {n:,} performing loan(s) of this sample belong to an enterprise that defaulted on another loan "
                 "within their 12 months: defaults under a per-obligor definition (Basel / CRR Art. 178), which "
                 "would raise the observed default rate")
    return text


def _loans_set_aside(rejected: pd.DataFrame | None, sample: DistrictSample,
                     tables: Mapping[str, pd.DataFrame] | None) -> dict[str, int]:
    """The out-of-time loans the loader quarantined (their row or their enterprise), as exclusions with their
    defaults; of a section's sample, those whose enterprise is of the section or not in the register."""
    if rejected is None or not len(rejected) or "origination_date" not in rejected.columns:
        return {}
    r = rejected[pd.to_datetime(rejected["origination_date"]) >= sample.oot_start]
    if sample.industry and "uscc" in r.columns:
        ent = (tables or {}).get("enterprises")
        known = (ent.drop_duplicates("uscc").set_index("uscc")["industry"].astype(str)
                 if ent is not None and "industry" in ent.columns else pd.Series(dtype=str))
        ind = r["uscc"].astype(str).map(known)
        r = r[ind.isna().to_numpy() | (ind == sample.industry).to_numpy()]
    if not len(r):
        return {}
    y = pd.to_numeric(r[TARGET], errors="coerce") if TARGET in r.columns else pd.Series(np.nan, index=r.index)
    unknown = int(y.isna().sum())
    return {f"set aside by the loader (the loan's row or its enterprise quarantined; {int((y == 1).sum())} of them "
            f"defaulted" + (f", {unknown} with an unreadable outcome" if unknown else "") + ")": len(r)}


def district_info(district: Any) -> dict[str, Any]:
    """What the report's data section says of a loaded district (:class:`~creditmodel.data.io.District`): its
    folder, snapshot date and one SHA-256 over the folder's files, so that a validation names the data it read."""
    folder = Path(district.directory)
    return {"district": str(folder), "district_snapshot": f"{pd.Timestamp(district.snapshot_date):%Y-%m-%d}",
            "district_sha256": tracking.data_sha256([folder])}


def validate_models(models: Mapping[str, ModelRef], sample: DistrictSample,
                    tables: Mapping[str, pd.DataFrame] | None = None, *,
                    migration: tuple[str, str] | None = None, out_dir: str | Path | None = None,
                    thresholds: L.Thresholds | Mapping[str, Any] | None = None, n_boot: int = 500, seed: int = 0,
                    data_info: Mapping[str, Any] | None = None, cure_months: int | None = None,
                    loans_set_aside: pd.DataFrame | None = None) -> dict[str, ModelValidation]:
    """Validate every model of ``models`` (alias -> :class:`ModelRef`) on the out-of-time window of
    ``sample`` against its development window, each with the other model as challenger.

    ``migration = (from, to)`` dates grade the enterprises of ``tables`` active at both dates (those in default at
    ``from`` left out; ``cure_months`` lifts a default that long after the last one, None never does); ``out_dir``
    receives ``report.html`` and ``metrics.json`` in :func:`report_dir`, and a copy per version in
    :func:`version_report_dir` (nothing written when None). Rows a
    model cannot score (status ``error``) are excluded from every model's report and counted, so the paired
    comparison uses the same rows. ``n_boot`` and ``seed`` drive the bootstrap intervals, which resample enterprises
    (a firm's loans together). ``loans_set_aside``
    (the loans rows the loader quarantined, ``District.loaded["loans"].rejected``) are counted among the
    exclusions when they fall in the out-of-time window, with their defaults.
    """
    if not models:
        raise InputError("no model to validate", column="model_name")
    from creditmodel.scoring.district import check_cure_months

    check_cure_months(cure_months)
    oot, dev, test = sample.oot.reset_index(drop=True), sample.dev.reset_index(drop=True), sample.part("test")
    start = sample.oot_start.date()
    if oot.empty:
        raise InputError(f"no loan originated on or after {start}: the out-of-time sample is empty",
                         parameter="oot_start")
    if dev.empty:
        raise InputError(f"no loan originated before {start}: no development sample", parameter="oot_start")
    first_oot = pd.to_datetime(oot["as_of_date"]).min()
    for alias, ref in models.items():
        last = (getattr(ref.model, "metadata", None) or {}).get("last_development_origination")
        if last and first_oot <= pd.Timestamp(last):
            raise InputError(f"the {alias} ({ref.name} v{ref.version}) was developed on loans originated up to "
                             f"{last}; an out-of-time sample from {start} holds loans it was fitted or tested on. "
                             f"Give an oot_start after {last}", parameter="oot_start")
        meta = getattr(ref.model, "metadata", None) or {}
        if "industry" not in meta:  # trained before models recorded their population (2026-12-03)
            hint = (f"; its name ends in '_{m.group(1)}', the notebooks' suffix for a model of section {m.group(1)}"
                    if (m := re.search(r"_([A-T])$", str(ref.name))) else "")
            log.warning("the %s (%s v%s) does not record the population it was developed on: cannot check it "
                        "against this sample (%s)%s", alias, ref.name, ref.version,
                        f"industry section {sample.industry}" if sample.industry else "every loan of the district",
                        hint)
        own = str(meta.get("industry", sample.industry) or "")
        if own != sample.industry:
            def scope(k: str) -> str:
                return f"the loans of industry section {k}" if k else "every loan of the district"
            raise InputError(f"the {alias} ({ref.name} v{ref.version}) was developed on {scope(own)}; this sample "
                             f"holds {scope(sample.industry)}. Give industry={own!r} to validate it on its own "
                             f"population", parameter="industry")
        if not last:
            log.warning("the %s (%s v%s) does not record its development window: cannot check that the out-of-time "
                        "sample from %s is after it", alias, ref.name, ref.version, start)
    scored = {a: _score(r.model, oot) for a, r in models.items()}
    rows = np.flatnonzero(np.logical_and.reduce([s.ok for s in scored.values()]))
    ports = (portfolio_at(tables, *migration, industry=sample.industry, cure_months=cure_months)
             if (tables is not None and migration is not None) else None)
    dates = pd.to_datetime(oot["as_of_date"])
    common: dict[str, Any] = {
        "oot_window": f"originations from {start} ({dates.min():%Y-%m-%d} .. {dates.max():%Y-%m-%d})",
        "oot_loans": len(oot), "development_loans": len(dev), **dict(data_info or {})}
    if sample.industry:
        common["industry"] = sample.industry
    if ports is not None:
        common["migration"] = {"population": "every enterprise active at both dates with operating data at both "
                                             "(the model's population, with or without a loan), not the "
                                             "out-of-time loans; defaults seen among them only through their loans",
                               "from": str(migration[0]), "to": str(migration[1]),
                               "cure_months": "never" if cure_months is None else int(cure_months), **ports[2]}
    cur = oot.iloc[rows].reset_index(drop=True)
    y = cur[TARGET].to_numpy()
    common["count_unit"] = "loans"
    if "uscc" in cur.columns:  # the report's "obligors" are loans here (a validator's finding)
        per_firm = cur["uscc"].value_counts()
        multi = per_firm[per_firm > 1]
        common["unit"] = (f"loans: {len(cur):,} scored out-of-time loans to {len(per_firm):,} enterprises; the "
                          "counts of the grade table, concentration and segments are loans" +
                          (f" ({int(multi.sum()):,} loans go to {len(multi):,} enterprises with more than one: the "
                           "intervals resample and cluster by enterprise, the calibration tests read their counts "
                           "through the design effect of a firm's loans)" if len(multi) else ""))
    common["rating_philosophy"] = ("point in time: a 12-month PD from what was known of the enterprise at each "
                                   "loan's origination (its point-in-time features); grades move with the economy "
                                   "(the out-of-time window may hold a downturn the development years did not), "
                                   "nothing is averaged over a cycle")
    common["default_definition"] = _default_definition(cur, tables)
    dev_y = dev[TARGET].to_numpy()
    common["development_sample"] = (f"{len(dev):,} loans originated before {start}, {int(dev_y.sum()):,} defaults "
                                    f"(default rate {100 * dev_y.mean():.2f} %): the reference of PSI, CSI and "
                                    "concentration (the initial AUC's sample is named apart)")
    scope = f"of industry section {sample.industry} " if sample.industry else ""
    common["sample"] = (f"the loans {scope}of the loans table originated in the window that the loader kept (the "
                        "loans table holds granted loans only: no rejected application), one row per loan, each "
                        "with the point-in-time features of its enterprise at origination; the outcome window of "
                        f"the last origination ends {(dates.max() + pd.DateOffset(months=12)):%Y-%m-%d}")
    set_aside = _loans_set_aside(loans_set_aside, sample, tables)
    out: dict[str, ModelValidation] = {}
    for alias, ref in models.items():
        model, own = ref.model, scored[alias]
        y_all = oot[TARGET].to_numpy()   # every out-of-time row (own.ok is one flag per row of oot)
        exclusions = {**set_aside,
                      f"scoring error (status=error; {int(y_all[~own.ok].sum())} of them defaulted)":
                      int((~own.ok).sum()),
                      **{f"not scored by the {o}": int((own.ok & ~s.ok).sum()) for o, s in scored.items() if o != alias}}
        feats = [c for c in ref.features if c in oot.columns]
        reference, auc_sample = _reference(model, dev, test, feats, f"development sample (before {start})")
        info = {"registered_model": ref.name, "version": ref.version, "alias": alias, "kind": model.kind,
                "fingerprint": str(model.version), "csi_features": len(feats),
                "initial_auc_sample": auc_sample or "development sample (the test window gives no AUC)", **common}
        fit = development_fit(getattr(model, "metadata", None) or {})
        if fit:
            info["development_fit"] = fit
        if ref.note:
            info["note"] = ref.note
        other = next((o for o in models if o != alias), None)
        chal = None
        if other is not None:
            of = scored[other].frame.iloc[rows]
            chal = Challenger(models[other].label, of["pd_12m"].to_numpy(dtype=float),
                              of["score"].to_numpy(dtype=float))
        f = own.frame.iloc[rows]
        try:  # each grade also against its master-scale central PD (what a bank pricing by grade reads)
            central = master_scale_central_pd(model)[0]
        except InputError as e:
            central = None
            log.info("%s: no master-scale central PDs to test the grades against (%s)", ref.label, e)
        res = build_report(
            y, f["pd_12m"].to_numpy(dtype=float), f["score"].to_numpy(dtype=float), f["grade"].astype(str).to_numpy(),
            industry=_labels(cur["industry"]), size_class=_labels(cur["size_class"]),
            features=cur[feats] if feats else None, reference=reference, challenger=chal, champion_name=ref.label,
            migration=_migration(model, ports[0], ports[1], ports[3]) if ports is not None else None,
            exposure=cur["loan_amount"].to_numpy(dtype=float), thresholds=thresholds, n_boot=n_boot, seed=seed,
            exclusions=exclusions, data_info=info, groups=cur["uscc"].astype(str).to_numpy(), central_pd=central,
            title=f"Out-of-time validation of {ref.name} @{alias} (version {ref.version}, {model.kind}"
                  + ("; no version holds the alias: last promotion candidate)" if ref.note else ")"),
            out=report_dir(out_dir, ref.name, alias) if out_dir is not None else None)
        kept = (_keep_for_version(res, version_report_dir(out_dir, ref.name, ref.version))
                if out_dir is not None else None)
        out[alias] = ModelValidation(ref, res, res.html_path.parent if res.html_path else None, kept)
        log.info("%s: %s -> %s", ref.label, res.summary().splitlines()[1], res.status)
    return out


def report_dir(out_dir: str | Path, name: str, alias: str) -> Path:
    """Where the validation of ``name@alias`` writes ``report.html`` and ``metrics.json``: ``validation/<alias>``
    for the district model (:data:`MODEL_NAME`), ``validation/<name>/<alias>`` for any other (a section's model
    wrote over the district champion's report, which its deliverable then shipped: an analyst's finding)."""
    base = Path(out_dir) / "validation"
    return base / alias if name == MODEL_NAME else base / name / alias


def version_report_dir(out_dir: str | Path, name: str, version: str) -> Path:
    """The copy of a version's latest validation report, which its ``validation_report`` tag names:
    ``validation/versions/<name>/<version>``."""
    return Path(out_dir) / "validation" / "versions" / name / str(version)


def _keep_for_version(res: ValidationResult, dest: Path) -> Path | None:
    """Copy ``report.html`` and ``metrics.json`` of ``res`` into ``dest`` (replacing an earlier validation of the
    same version); the folder, or None when nothing was written."""
    import shutil

    files = [p for p in (res.html_path, res.json_path) if p is not None]
    if not files:
        return None
    dest.mkdir(parents=True, exist_ok=True)
    for p in files:
        shutil.copy2(p, dest / p.name)
    return dest


#: the rows of :func:`migration_table`: metric key -> what it counts
MIGRATION_ROWS = {
    "n": "firms in the matrix: performing at both dates",
    "excluded": "firms graded at the start, left out of the matrix",
    "defaulted": "  of which defaulted in between (end grade D: no D column, not in the MWB or the z-tests)",
    "excluded_other": "  of which for another reason (no grade at the end)",
    "defaulted_share": "defaults' share of the firms graded at the start",
    "upper_mwb": "upper MWB (downgrades between performing grades)",
    "lower_mwb": "lower MWB (upgrades)",
    "stay_share": "share staying in their grade (of the matrix)",
    "cells_tested": "adjacent cells z-tested",
    "cells_rejected_1pct": "cells rejected at 1 %",
    "rejected_share": "share of the tested cells rejected",
}


def migration_table(validations: Mapping[str, ModelValidation]) -> pd.DataFrame:
    """The migration metrics of each model side by side, one row per :data:`MIGRATION_ROWS` entry with what it
    counts (notebook 04 showed "excluded 66, defaulted 66" beside a text saying a defaulted firm "ends in D", while
    the matrix has no D column: a validator's finding). The firms in default at the start are not among them: the
    population leaves them out before grading (the report's data section counts them)."""
    cols = {a: v.result.metrics.get("migration") or {} for a, v in validations.items()}
    rows = [k for k in MIGRATION_ROWS if any(k in c for c in cols.values())]
    out = pd.DataFrame({a: [c.get(k) for k in rows] for a, c in cols.items()}, index=[MIGRATION_ROWS[k] for k in rows])
    out.index.name = "migration"
    return out


# --------------------------------------------------------------------------- summaries
def lights_comparison(validations: Mapping[str, ModelValidation]) -> pd.DataFrame:
    """One row per check: value and light of each model side by side (graded and informative checks)."""
    parts = []
    for alias, v in validations.items():
        lt = v.result.lights.set_index("check")[["label", "value_text", "light"]]
        parts.append(lt.rename(columns={"value_text": f"{alias} value", "light": f"{alias} light"})
                     .drop(columns="label" if parts else []))
    table = pd.concat(parts, axis=1, join="outer", sort=False)
    return table.reset_index()


def flat_metrics(metrics: Mapping[str, Any], other: str = "challenger") -> dict[str, float]:
    """The numeric metrics of a :class:`ValidationResult` as a flat dict for MLflow: top-level numbers,
    ``migration_*``, ``vs_<other>_*`` (the paired comparison with the model of alias ``other``: its AUC, Brier,
    ..., and the DeLong test of this model against it), ``csi_<feature>``, ``light_<check>`` and ``status`` as
    severities (1 green, 2 amber, 3 red)."""
    out: dict[str, float] = {}

    def put(key: str, v: Any) -> None:
        if isinstance(v, (bool, np.bool_)) or v is None:
            return
        if isinstance(v, (int, float, np.integer, np.floating)) and np.isfinite(v):
            out[key] = float(v)

    for k, v in metrics.items():
        put(k, v)
    for k, v in (metrics.get("migration") or {}).items():
        put(f"migration_{k}", v)
    for k, v in (metrics.get("challenger") or {}).items():
        put(f"vs_{other}_{k}", v)
    for k, v in (metrics.get("csi") or {}).items():
        put(f"csi_{k}", v)
    for row in metrics.get("lights") or []:
        if row.get("light") in (L.GREEN, L.AMBER, L.RED):
            out[f"light_{row['check']}"] = float(L.SEVERITY[row["light"]])
    if metrics.get("status") in (L.GREEN, L.AMBER, L.RED):
        out["status"] = float(L.SEVERITY[metrics["status"]])
    out.update(grade_metrics(metrics.get("grades") or []))
    out.update(missing_metrics(metrics.get("missing_values") or []))
    return out


#: the numbers of each input's missing-value calibration kept in the flat metrics (``missing_<feature>_<key>``)
MISSING_KEYS = ("n", "defaults", "default_rate", "mean_pd", "ratio", "present_ratio", "relative", "holm_p")
#: the numbers of each grade's calibration test kept in the flat metrics (``grade_<grade>_<key>``)
GRADE_KEYS = ("n", "defaults", "default_rate", "pd", "central_pd", "central_holm_p")


def _row_metrics(prefix: str, row: Mapping[str, Any], keys: Sequence[str], light_key: str,
                 light_name: str) -> dict[str, float]:
    """``<prefix>_<key>`` for each finite number of ``row`` under ``keys`` and ``<prefix>_<light_name>`` for its
    light ``row[light_key]`` as a severity (1 green, 2 amber, 3 red; n/a left out)."""
    out = {}
    for k in keys:
        v = row.get(k)
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v):
            out[f"{prefix}_{k}"] = float(v)
    if row.get(light_key) in (L.GREEN, L.AMBER, L.RED):
        out[f"{prefix}_{light_name}"] = float(L.SEVERITY[row[light_key]])
    return out


def missing_metrics(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The rows of a validation's ``missing_values`` (the calibration of the rows with a missing input) as flat
    numbers ``missing_<feature>_<key>`` (keys :data:`MISSING_KEYS`) and the row's light as a severity,
    ``missing_<feature>_light``; a feature whose name MLflow would refuse as a metric key is left out. The model
    card reads them back (which inputs' missing rows are under-predicted)."""
    out: dict[str, float] = {}
    for r in rows:
        f = str(r.get("feature", ""))
        if re.fullmatch(r"[\w.\- /]+", f):
            out.update(_row_metrics(f"missing_{f}", r, MISSING_KEYS, "light", "light"))
    return out


def grade_metrics(grades: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The per-grade rows of a validation's ``grades`` as flat numbers ``grade_<grade>_<key>`` (keys
    :data:`GRADE_KEYS`; PDs and default rates as fractions) and the light of the test against the master scale's
    central PD as a severity, ``grade_<grade>_central_light``; grades without loans are left out. The model card
    reads them back (which grades' central PDs the out-of-time defaults rejected)."""
    out: dict[str, float] = {}
    for r in grades:
        if r.get("n"):
            out.update(_row_metrics(f"grade_{r['grade']}", r, GRADE_KEYS, "central_light", "central_light"))
    return out


# --------------------------------------------------------------------------- recording
def log_validations(validations: Mapping[str, ModelValidation]) -> None:
    """Log into the active MLflow run: metrics prefixed ``<alias>_``, ``report.html`` and ``metrics.json`` under
    ``validation/<alias>/``, every figure as ``figures/validation_<alias>_<name>.png``, and run tags
    ``creditmodel.validation.<alias>.{version,status}``."""
    import mlflow

    for alias, v in validations.items():
        # the model this one was compared with: `challenger_vs_champion_*`, not `challenger_vs_challenger_*`
        # holding the champion's numbers (an analyst's finding)
        other = next((o for o in validations if o != alias), "challenger")
        tracking.log_metrics(flat_metrics(v.result.metrics, other=other), prefix=f"{alias}_")
        for p in (v.result.html_path, v.result.json_path):
            if p is not None:
                mlflow.log_artifact(str(p), artifact_path=f"validation/{alias}")
        for name, fig in v.result.figures.items():
            tracking.log_figure(fig, f"validation_{alias}_{name}")
        mlflow.set_tags({f"creditmodel.validation.{alias}.version": v.ref.version,
                         f"creditmodel.validation.{alias}.status": v.status})


def tag_versions(validations: Mapping[str, ModelValidation], run_id: str | None = None) -> dict[str, dict[str, str]]:
    """Record each outcome on its model version (tags :data:`VERSION_TAGS`, plus the alias validated as and
    the worst stability light); returns the tags written per alias."""
    written = {}
    for alias, v in validations.items():
        m = v.result.metrics
        stab = v.result.lights[v.result.lights["check"].isin(["psi", "csi"])]["light"].tolist()
        tags = {"validation_status": v.status,
                "validation_oot_auc": "" if m.get("auc") is None else f"{m['auc']:.6g}",
                "validation_psi": "" if m.get("psi") is None else f"{m['psi']:.6g}",
                # the version's own copy: the alias's folder is rewritten by the next validation
                "validation_report": (str((v.version_out / v.result.html_path.name).resolve()) if v.version_out
                                      and v.result.html_path else
                                      str(v.result.html_path.resolve()) if v.result.html_path else ""),
                "validation_run_id": run_id or "",
                "validation_basis": (f"out-of-time validation (notebook 04, as {alias}): {int(m.get('n') or 0):,} "
                                     f"loans, {int(m.get('defaults') or 0):,} defaults"
                                     + (f", {m['data']['oot_window']}" if (m.get("data") or {}).get("oot_window")
                                        else "")),
                "validation_alias": alias, "validation_stability": L.worst(stab),
                # which checks are red, so that the deliverable can say it (a bank reads the sidecar, not the run)
                "validation_red_checks": ", ".join(dict.fromkeys(
                    v.result.lights.loc[v.result.lights["light"] == "red", "check"].astype(str)))}
        registry.tag_version(v.ref.name, v.ref.version, tags)
        written[alias] = tags
    return written

