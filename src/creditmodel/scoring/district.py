"""Small-loan PD models on the district: the modelling sample, champion and challenger, registration.

* **Sample.** One row per loan with the enterprise's point-in-time features as of the origination
  date (:func:`creditmodel.features.build_loan_features`), target ``default_12m``; the generator's
  ``true_pd`` is kept beside it for calibration checks, never as a feature. The PD model is an
  enterprise model: loan terms are left to pricing (collateral -> LGD), so the same model scores
  every enterprise of the district for the bank deliverable.
* **Windows.** Development = originations before ``oot_start`` (default 2024-01-01), split by
  enterprise into train and valid (the estimators and the cross-fitted calibration, whose folds
  keep each enterprise whole too) and an in-time test: all loans of a firm go to the same part, the
  firms stratified by whether any of their loans defaulted, so the test measures the models on firms
  they never saw. Out-of-time (OOT) = originations from ``oot_start`` on (with the default, the synthetic
  district's 2024 shock year), for validation and drift monitoring (a firm may have loans in both windows, as in
  any OOT). A window too short to model is refused by :func:`check_trainable`, naming ``oot_start``.
* **Registration.** Both models go to one registered model (default ``district_pd``): the
  scorecard gets alias ``challenger`` first and becomes ``champion`` through the guarded
  promotion (:func:`creditmodel.registry.promote`), the LightGBM model keeps ``challenger``.
"""
from __future__ import annotations

import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditmodel.errors import InputError
from creditmodel.scoring.train import TrainResult, stratified_split, train_frame

log = logging.getLogger(__name__)

MODEL_NAME = "district_pd"
TARGET = "default_12m"
KINDS = ("scorecard", "lightgbm")


@dataclass
class DistrictSample:
    """The loan-level modelling table and its windows."""

    table: pd.DataFrame          # loan_id, uscc, as_of_date, loan terms, features, default_12m, true_pd
    features: list[str]
    window: np.ndarray           # "train", "valid", "test" (development) or "oot"
    catalogue: pd.DataFrame
    oot_start: pd.Timestamp
    industry: str = ""           # GB/T 4754 section letter the loans were restricted to ("" = every loan)

    @property
    def dev(self) -> pd.DataFrame:
        return self.table.loc[self.window != "oot"]

    @property
    def oot(self) -> pd.DataFrame:
        return self.table.loc[self.window == "oot"]

    def part(self, name: str) -> pd.DataFrame:
        return self.table.loc[self.window == name]

    def describe(self) -> pd.DataFrame:
        """Rows, defaults, default rate and mean true PD per window."""
        t = self.table.assign(window=self.window)
        g = t.groupby("window", sort=False)
        return pd.DataFrame({"loans": g.size(), "defaults": g[TARGET].sum(), "default_rate": g[TARGET].mean(),
                             "mean_true_pd": g["true_pd"].mean(),
                             "first_origination": g["as_of_date"].min(), "last_origination": g["as_of_date"].max()}
                            ).reindex(["train", "valid", "test", "oot"]).dropna(how="all")


def loan_sample(tables: dict[str, pd.DataFrame], oot_start: str = "2024-01-01", seed: int = 42,
                valid: float = 0.2, test: float = 0.2, industry: str = "") -> DistrictSample:
    """Build the loan sample with point-in-time features and assign the windows (seeded). ``industry`` (a
    GB/T 4754 section letter or name) keeps that section's loans only; ``""`` keeps every loan. ``valid`` and ``test``
    are shares of the development window's enterprises (each firm's loans stay together)."""
    from creditmodel.features import catalogue as feature_catalogue
    from creditmodel.features import build_loan_features

    table = build_loan_features(tables)
    key = ""
    if str(industry).strip():
        from creditmodel.reference import industry_key

        key = industry_key(industry)
        table = table.loc[table["industry"].astype(str) == key].reset_index(drop=True)
        if table.empty:
            raise InputError(f"no loan to an enterprise of industry section {key}", parameter="industry")
    cat = feature_catalogue("enterprise")
    feats = [c for c in cat["code"] if c in table.columns]
    try:
        start = pd.Timestamp(oot_start)
    except (ValueError, TypeError) as e:
        raise InputError(f"oot_start {oot_start!r} is not a date (YYYY-MM-DD)", parameter="oot_start") from e
    when = pd.to_datetime(table["as_of_date"])
    is_oot = (when >= start).to_numpy()
    if len(table) and (is_oot.all() or not is_oot.any()):
        first, last = when.min().date(), when.max().date()
        what = ("no loan originated before it: nothing to develop the models on" if is_oot.all() else
                "no loan originated on or after it: the out-of-time sample, which the notebooks score, plot and "
                "validate, would be empty")
        raise InputError(f"oot_start {start.date()}: {what} (originations run from {first} to {last})",
                         parameter="oot_start")
    window = np.empty(len(table), dtype=object)
    window[is_oot] = "oot"
    y = table[TARGET].to_numpy()
    dev_idx = np.flatnonzero(~is_oot)
    window[dev_idx] = stratified_split(y[dev_idx], seed, valid=valid, test=test,
                                       groups=table["uscc"].to_numpy()[dev_idx])
    return DistrictSample(table.reset_index(drop=True), feats, window, cat, start, key)


def train_models(sample: DistrictSample, seed: int = 42, kinds: tuple[str, ...] = KINDS,
                 estimator_params: dict[str, dict[str, Any]] | None = None, n_jobs: int = 1,
                 central_tendency: float | None = None) -> dict[str, TrainResult]:
    """Fit champion (scorecard) and challenger (LightGBM) on the development window (``n_jobs``: worker
    processes for the cross-fitted estimators, see :func:`~creditmodel.scoring.train.fit_credit_model`).
    ``central_tendency`` (fraction): the long-run average default rate the PDs are calibrated to (None: the
    development window's own).

    Metrics: train/valid/test from training, plus ``oot_*`` and the calibration error against the
    generator's true PD (``test_ece_true_pd``, ``oot_ece_true_pd``).
    """
    from creditmodel.scoring.calibration import expected_calibration_error
    from creditmodel.scoring.train import evaluate

    check_trainable(sample)   # a section or a development window too small to model: said by its parameter
    dev = sample.dev
    split = sample.window[sample.window != "oot"]
    out = {}
    for kind in kinds:
        res = train_frame(dev, TARGET, id_col="loan_id", group_col="uscc", kind=kind, seed=seed,
                          name=f"district_{kind}",
                          catalogue=sample.catalogue, split=split, features=sample.features,
                          estimator_params=(estimator_params or {}).get(kind), n_jobs=n_jobs,
                          central_tendency=central_tendency)
        dates = pd.to_datetime(dev["as_of_date"])
        # the validation refuses an out-of-time sample that reaches back into these originations
        res.model.metadata["last_development_origination"] = f"{dates.max():%Y-%m-%d}"
        # ... and a sample of another population (a section model on every loan, or the reverse)
        res.model.metadata["industry"] = sample.industry
        scope = f" to industry section {sample.industry}" if sample.industry else ""
        res.model.metadata["data_description"] = (
            f"synthetic district loans{scope} originated {dates.min():%Y-%m-%d} .. {dates.max():%Y-%m-%d} (before the "
            f"out-of-time window from {sample.oot_start:%Y-%m-%d}): " + res.model.metadata["data_description"])
        for part in ("test", "oot"):
            d = sample.part(part)
            if len(d) and 0 < d[TARGET].sum() < len(d):
                if part == "oot":
                    res.metrics.update(evaluate(res.model, d[sample.features], d[TARGET].to_numpy(), "oot",
                                                groups=d["uscc"].astype(str).to_numpy()))
                ece = expected_calibration_error(d["true_pd"].to_numpy(), res.model.predict_pd(d[sample.features]))
                res.metrics[f"{part}_ece_true_pd"] = ece.ece
                res.metrics[f"{part}_mean_true_pd"] = float(d["true_pd"].mean())
        out[kind] = res
    return out


def check_trainable(sample: DistrictSample) -> None:
    """InputError naming the parameter at fault when ``sample`` holds too few defaults to fit, calibrate and test
    a model, before any fit: ``industry`` when set (a small section; it failed later as "the valid split needs both
    classes (15 rows)", an analyst's finding), else ``oot_start`` (a short development window; it failed as "column
    'uscc': only 3 borrowers ... with a default", naming neither the parameter nor the cure, a reviewer's finding).

    Needed, as :func:`~creditmodel.scoring.train.train_frame` will check: at least
    :data:`~creditmodel.scoring.train.MIN_CLASS_ROWS` defaults, non-defaults, borrowers with a default and borrowers
    with a loan not in default among the training and validation loans, both classes in each of the two, and at
    least one default among the in-time test loans."""
    from creditmodel.scoring.train import MIN_CLASS_ROWS

    y, window = sample.table[TARGET].to_numpy(), sample.window
    fit = np.isin(window, ["train", "valid"])
    n_fit, d = int(fit.sum()), int(y[fit].sum())
    d_test = int(y[window == "test"].sum())
    held = pd.Series(y[fit] == 1).groupby(sample.table["uscc"].astype(str).to_numpy()[fit])
    bad_firms, good_firms = int(held.any().sum()), int((~held.all()).sum())
    each = all(0 < y[window == w].sum() < (window == w).sum() for w in ("train", "valid"))
    if min(d, n_fit - d, bad_firms, good_firms) >= MIN_CLASS_ROWS and d_test > 0 and each:
        return
    dev = window != "oot"
    when = pd.to_datetime(sample.table["as_of_date"])
    counts = (f"among the {n_fit} training and validation loans ({bad_firms} borrower(s) with a "
              f"default, {good_firms} with a loan not in default) and {d_test} among the "
              f"{int((window == 'test').sum())} test loans")
    need = (f"at least {MIN_CLASS_ROWS} defaults from {MIN_CLASS_ROWS} borrowers in training and validation, and 1 in "
            "the test loans, are needed to fit, calibrate and test a model")
    needed, k, bad_all = _later_oot_start(sample, n_fit / max(int(dev.sum()), 1), MIN_CLASS_ROWS)
    later = needed if needed is not None and sample.oot_start < needed <= when.max() else None
    if sample.industry:
        raise InputError(f"industry section {sample.industry} has {d} default(s) {counts}: {need}; choose a larger "
                         "section or none (industry=\"\")" + (f", or an oot_start of {later:%Y-%m-%d} or later"
                                                              if later is not None else ""), parameter="industry")
    span = f" ({when[dev].min():%Y-%m-%d} to {when[dev].max():%Y-%m-%d})" if dev.any() else ""
    head = (f"oot_start {sample.oot_start:%Y-%m-%d} leaves too short a development window: {int(dev.sum())} loans "
            f"originated before it{span} with {int(y[dev].sum())} default(s): {d} {counts}; {need}")
    if later is not None:
        hint = (f"move oot_start later, to {later:%Y-%m-%d} or after (the loans originated before it come from {k} "
                f"borrowers with a default, about {MIN_CLASS_ROWS} of them in training and validation)")
    elif bad_all < k:   # no date helps: the district itself is too small
        hint = (f"no oot_start helps: all {len(y)} loans hold {int(y.sum())} default(s) from {bad_all} borrower(s); "
                "use a larger district (more firms)")
    elif needed > when.max():   # only a date after the last loan gets there: no out-of-time loans would be left
        hint = (f"no oot_start helps: the loans come from {k} borrowers with a default only with the last "
                f"origination ({when.max():%Y-%m-%d}) included, which would leave no out-of-time loans; use a larger "
                "district (more firms)")
    else:   # enough borrowers with a default before oot_start already: the seeded split fell short
        hint = (f"the loans originated before it already come from {k} or more borrowers with a default, but the "
                "seeded split left too few in training and validation or none in test; try another seed or move "
                "oot_start later")
    raise InputError(f"{head}; {hint}", parameter="oot_start")


def _later_oot_start(sample: DistrictSample, fit_share: float, minimum: int) -> tuple[pd.Timestamp | None, int, int]:
    """(date, k, borrowers with a default): the first oot_start by which the loans originated before it come from
    ``k = minimum / fit_share`` borrowers with a default (``fit_share``: the share of the development loans that go
    to training and validation), None when all the loans together come from fewer; and how many borrowers with a
    default all the loans have. The date may fall on or before ``oot_start`` (enough already) or after the last
    origination (no out-of-time loans left): the caller tells these apart. An estimate: the seeded split decides the
    exact count."""
    import math

    t = sample.table
    when = pd.to_datetime(t["as_of_date"])
    bad = (t[TARGET].to_numpy() == 1)
    firsts = when[bad].groupby(t.loc[bad, "uscc"].astype(str).to_numpy()).min().sort_values()
    k = math.ceil(minimum / min(max(fit_share, 0.1), 1.0))
    if len(firsts) < k:
        return None, k, len(firsts)
    return (firsts.iloc[k - 1] + pd.Timedelta(days=1)).normalize(), k, len(firsts)


def register_models(results: dict[str, TrainResult], sample: DistrictSample, out_dir: str | Path,
                    name: str = MODEL_NAME) -> dict[str, str]:
    """Log both models into the active MLflow run and register them; returns kind -> version.

    The in-time test sample (features + target) is written beside the store, copied to
    ``models/evidence/<run id>/`` and that copy recorded on each
    version (tag ``creditmodel.validation_data``) as promotion evidence, with the ids of the rows the models were
    fitted on (``fitted_rows.parquet``, tag ``creditmodel.fitted_rows``). Aliases: the LightGBM
    model becomes ``challenger``; the scorecard is registered and then promoted to ``champion``
    through :func:`creditmodel.registry.promote` by the caller.
    """
    from creditmodel import registry
    from creditmodel.scoring.pyfunc import log_model

    import mlflow

    folder = Path(out_dir) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    cols = ["loan_id", "uscc", "as_of_date", *sample.features, TARGET, "true_pd"]
    sample.part("test")[cols].to_parquet(folder / "test_sample.parquet", index=False)
    sample.oot[cols].to_parquet(folder / "oot_sample.parquet", index=False)
    sample.dev[cols].to_parquet(folder / "dev_sample.parquet", index=False)
    # the versions' evidence is a copy of this run's test sample that no later run rewrites (the files above are
    # the latest run's, for the validation notebook)
    run = mlflow.active_run()
    evidence = folder / "evidence" / (run.info.run_id if run else uuid.uuid4().hex) / "test_sample.parquet"
    evidence.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "test_sample.parquet", evidence)
    # the ids of the rows the models were fitted on (training and validation), so that a later promotion compares
    # this run's models with another's only on rows neither was fitted on
    fitted = evidence.with_name("fitted_rows.parquet")
    ids = ["loan_id", "uscc", "as_of_date"]   # together: a loan number reused by another district matches nothing
    sample.table.loc[np.isin(sample.window, ["train", "valid"]), ids].to_parquet(fitted, index=False)
    versions = {}
    for kind, res in results.items():
        info = log_model(res.model, registered_model_name=name, name=f"model_{kind}")
        v = str(info.registered_model_version)
        versions[kind] = v
        registry.tag_version(name, v, {"creditmodel.kind": kind, registry.TAG_DATA: str(evidence.resolve()),
                                       registry.TAG_TARGET: TARGET, registry.TAG_FITTED: str(fitted.resolve()),
                                       registry.TAG_ROW_ID: ",".join(ids), "creditmodel.fingerprint": res.model.version,
                                       **{f"metric.{k}": f"{v_:.6g}" for k, v_ in res.metrics.items()
                                          if isinstance(v_, float)}})
    if "lightgbm" in versions:
        registry.set_alias(name, registry.CHALLENGER, versions["lightgbm"])
    return versions


def enterprise_portfolio(tables: dict[str, pd.DataFrame], as_of: str | pd.Timestamp,
                         evaluation: pd.DataFrame | None = None, applicants_only: bool = True,
                         cure_months: int | None = None) -> pd.DataFrame:
    """Every enterprise active at ``as_of`` with its point-in-time features, ready to score.

    ``applicants_only`` keeps the model's population: enterprises with invoice data in the 12 months
    before ``as_of`` (the district collects operating data from loan applicants only; an enterprise
    without it is outside the population the PD model was built on).

    Carries ``public_credit_grade`` and ``supervision_class`` from ``evaluation`` (by ``uscc``) when
    given, so the bank deliverable has them. Deregistered or revoked enterprises (closed on or before
    ``as_of``) are left out: a bank does not lend to them. ``in_default`` (bool) flags an enterprise with a
    loan defaulted on or before ``as_of`` (:func:`in_default_at`, lifted ``cure_months`` after the last default
    when given): scoring grades it D with PD 1. ``revenue``
    (yuan) is the invoiced sales of the 12 full months before the as-of month, read by pricing for the SME
    adjustment.
    """
    from creditmodel.features import build_features

    check_cure_months(cure_months)
    ent = tables["enterprises"]
    when = pd.Timestamp(as_of)
    closed = pd.to_datetime(ent.get("closed_on")).le(when).fillna(False) if "closed_on" in ent else False
    active = ent.loc[~np.asarray(closed, dtype=bool) & (pd.to_datetime(ent["registered_on"]) <= when), "uscc"]
    feats = build_features(tables, when, uscc=active.tolist())
    if applicants_only and "invoice_sales_12m_log" in feats:
        keep = feats["invoice_sales_12m_log"].notna()
        log.info("portfolio: %d of %d active enterprises have operating data (loan applicants)", int(keep.sum()),
                 len(feats))
        feats = feats.loc[keep].reset_index(drop=True)
    if evaluation is not None:
        cols = [c for c in ("public_credit_grade", "supervision_class") if c in evaluation.columns]
        feats = feats.merge(evaluation[["uscc", *cols]].drop_duplicates("uscc"), on="uscc", how="left")
    if "invoice_sales_12m_log" in feats:
        # annual sales for pricing's Basel SME firm-size adjustment (CRE31.8): without them every firm was priced
        # as a large corporate (a bank validator's finding); yuan, excl. tax, the 12 months before as_of's month
        feats["revenue"] = np.expm1(feats["invoice_sales_12m_log"].to_numpy(dtype=float))
    feats["in_default"] = in_default_at(tables, feats["uscc"], when, cure_months=cure_months)
    if feats["in_default"].any():
        log.info("portfolio: %d of %d enterprises are in default at %s (a loan defaulted on or before it): grade D",
                 int(feats["in_default"].sum()), len(feats), f"{when:%Y-%m-%d}")
    return feats


def default_events(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every loan default of the loans table: ``uscc`` and ``default_date`` (sorted, one row per defaulted loan).

    A loan with a ``default_date`` has defaulted on that date, whatever its ``default_12m``: that flag says
    whether it happened within 12 months of origination, and a loan that defaulted later has 0 with a date (a
    bank validator's finding: such a firm was never graded D). Empty when the table or the column is missing."""
    loans = tables.get("loans")
    if loans is None or not {"uscc", "default_date"} <= set(loans.columns):
        return pd.DataFrame({"uscc": pd.Series(dtype=object), "default_date": pd.Series(dtype="datetime64[ns]")})
    ev = pd.DataFrame({"uscc": loans["uscc"].astype(str).to_numpy(),
                       "default_date": pd.to_datetime(loans["default_date"], errors="coerce").to_numpy()})
    return ev.dropna(subset=["default_date"]).sort_values(["default_date", "uscc"], kind="stable"
                                                         ).reset_index(drop=True)


def first_default_dates(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """First default date per enterprise (``uscc`` index) over all its loans (:func:`default_events`)."""
    ev = default_events(tables)
    return ev.groupby("uscc")["default_date"].min()


def check_cure_months(cure_months: int | None) -> None:
    """InputError (parameter ``cure_months``) unless a whole number of months >= 1, or None (never cured)."""
    if cure_months is not None and (isinstance(cure_months, bool) or not isinstance(cure_months, (int, np.integer))
                                    or cure_months < 1):
        # "or None" meant nothing to a job's user (an analyst's finding): both spellings of "never" are named
        raise InputError(f"cure_months must be a whole number of months >= 1, or never cured (0 as a job parameter, "
                         f"None in Python), not {cure_months!r}", parameter="cure_months")


def defaulted_between(tables: dict[str, pd.DataFrame], uscc: pd.Series, start: str | pd.Timestamp | None,
                      end: str | pd.Timestamp) -> np.ndarray:
    """Whether each enterprise (bool array aligned with ``uscc``) has a loan that defaulted after ``start``
    (``None``: ever) and on or before ``end``."""
    ev = default_events(tables)
    t1 = pd.Timestamp(end)
    hit = ev["default_date"] <= t1
    if start is not None:
        hit &= ev["default_date"] > pd.Timestamp(start)
    return uscc.astype(str).isin(set(ev.loc[hit, "uscc"])).to_numpy(dtype=bool)


def in_default_at(tables: dict[str, pd.DataFrame], uscc: pd.Series, as_of: str | pd.Timestamp,
                  cure_months: int | None = None) -> np.ndarray:
    """Whether each enterprise is in default at ``as_of`` (bool array aligned with ``uscc``): one of its loans
    defaulted on or before ``as_of`` (:func:`default_events`).

    The loans table records no cure. ``cure_months=None`` (the default, conservative) never lifts a default;
    a number of months lifts it that long after the firm's last default (a probation period; the EBA's
    guidelines on the definition of default ask for at least 3 months without a default trigger), so a firm is
    in default at ``as_of`` when a loan defaulted within ``cure_months`` before it. The validation's migration
    matrix uses the same rule."""
    check_cure_months(cure_months)
    when = pd.Timestamp(as_of)
    start = None if cure_months is None else when - pd.DateOffset(months=int(cure_months))
    return defaulted_between(tables, uscc, start, when)
