"""``creditmodel demo``: the main job, end to end on the synthetic district.

1. generate the district (reused when ``<out>/district`` already holds the same firms and seed);
2. run the notebooks 01-04 as tracked papermill jobs (``creditmodel run``): data quality, public
   credit evaluation, small-loan models (trains, registers, promotes the champion), validation;
3. score every active enterprise at the snapshot date with ``models:/district_pd@champion`` and
   write the bank deliverable (scores, grades, PDs, reason codes, public credit grade, supervision
   class, pricing; Parquet + CSV + column sidecar + model card);
4. run notebook 05 (loan pricing) on that scored portfolio;
5. print what ran, the key metrics, where every file is, and how to open MLflow and JupyterLab.
"""
from __future__ import annotations

import json
import logging
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creditmodel import tracking
from creditmodel.errors import InputError
from creditmodel.reference import PROJECT_ROOT

log = logging.getLogger(__name__)

JOBS = ("data_quality", "public_credit_evaluation", "small_loan_models", "model_validation", "loan_pricing")
MODEL_NAME = "district_pd"


@dataclass
class Step:
    name: str
    status: str
    seconds: float
    detail: str = ""
    path: str = ""


@dataclass
class DemoResult:
    out: Path
    steps: list[Step] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(s.status in {"ok", "FINISHED", "reused"} for s in self.steps)

    def summary(self) -> str:
        w = max(len(s.name) for s in self.steps) if self.steps else 10
        lines = ["", "creditmodel demo: " + ("all steps succeeded" if self.ok else "SOME STEPS FAILED"), "",
                 f"{'step':<{w}}  {'status':<8}  {'time':>7}  detail", f"{'-' * w}  {'-' * 8}  {'-' * 7}  {'-' * 40}"]
        for s in self.steps:
            lines.append(f"{s.name:<{w}}  {s.status:<8}  {s.seconds:6.1f}s  {s.detail}")
        if self.metrics:
            lines += ["", "key metrics:"]
            lines += [f"  {k:<44} {v:.4g}" if isinstance(v, float) else f"  {k:<44} {v}" for k, v in self.metrics.items()]
        lines += ["", "files:"] + [f"  {k:<28} {v}" for k, v in self.files.items()]
        store = self.out.resolve() / "mlflow.db"
        lines += ["", "open the results:",
                  f"  MLflow UI:   {shlex.quote(_bin('mlflow'))} ui --backend-store-uri sqlite:///{store} --port 5000"
                  "   (then http://127.0.0.1:5000)",
                  f"  JupyterLab:  {shlex.quote(_bin('creditmodel'))} lab --out {shlex.quote(str(self.out))}"
                  "   (or: make lab)", ""]
        return "\n".join(lines)


def _district(out: Path, firms: int, seed: int) -> tuple[Path, Step]:
    from creditmodel.data import has_district
    from creditmodel.data.synthetic import generate_district

    folder = out / "district"
    t0 = time.perf_counter()
    man = folder / "manifest.json"
    if has_district(folder) and man.exists():
        m = json.loads(man.read_text(encoding="utf-8"))
        if m.get("firms") == firms and m.get("seed") == seed:
            return folder, Step("generate district", "reused", time.perf_counter() - t0,
                                f"{firms:,} firms, seed {seed}", str(folder))
        raise FileExistsError(f"{folder} holds a district of {m.get('firms')} firms / seed {m.get('seed')}; "
                              f"use another --out or remove it")
    res = generate_district(firms=firms, seed=seed, out=folder, progress=False)
    return folder, Step("generate district", "ok", time.perf_counter() - t0,
                        f"{firms:,} firms, {sum(res.row_counts.values()):,} rows", str(folder))


def _job(name: str, out: Path, overrides: dict[str, Any]) -> tuple[Step, Any]:
    from creditmodel import jobs

    res = jobs.run_experiment(PROJECT_ROOT / "experiments" / f"{name}.yaml", overrides, out=out, progress=False)
    detail = f"run {res.run_id[:8]}" + (f": {res.error}" if res.error else "")
    return Step(f"notebook {name}", res.status, res.duration_s, detail, str(res.output_notebook)), res


def _run_metrics(run_id: str) -> dict[str, float]:
    from mlflow.tracking import MlflowClient

    return dict(MlflowClient().get_run(run_id).data.metrics)


#: smallest district the demo's loan models are tested on (tests/test_demo.py)
MIN_FIRMS = 4_000


def run_demo(firms: int = 20_000, seed: int = 42, out: str | Path = "out/demo", progress: bool = True) -> DemoResult:
    """Run the whole workbench on a synthetic district; never raises for a failing step (see ``ok``).

    ``firms`` must be at least :data:`MIN_FIRMS`: smaller districts have too few loan defaults for the
    models' early stopping and cross-fitted calibration (a 1,500-firm district has 4 in a training fold).
    """
    from creditmodel.progress import tqdm

    if firms < MIN_FIRMS:
        raise InputError(f"parameter firms={firms}: the demo needs at least {MIN_FIRMS:,} firms so that the loan "
                         f"models see enough defaults; use `creditmodel generate` for smaller districts")

    import os

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ[tracking.ENV_OUT] = str(out)
    tracking.configure(out)
    result = DemoResult(out)
    bar = tqdm(total=len(JOBS) + 2, desc="creditmodel demo", unit="step", disable=not progress)

    def advance(step: Step) -> None:
        result.steps.append(step)
        bar.set_postfix_str(step.name)
        bar.update(1)
        log.info("%s: %s (%.1f s) %s", step.name, step.status, step.seconds, step.detail)

    try:
        district, step = _district(out, firms, seed)
        advance(step)
        common = {"data_dir": str(district), "out_dir": str(out), "firms": firms, "seed": seed}
        runs = {}
        for name in JOBS[:4]:
            step, res = _job(name, out, common)
            advance(step)
            runs[name] = res
        deliverable = out / "deliverable" / "bank_deliverable.parquet"
        t0 = time.perf_counter()
        try:
            files = write_portfolio_deliverable(district, deliverable)
            result.files.update({f"deliverable {k}": v for k, v in files.items()})
            advance(Step("bank deliverable", "ok", time.perf_counter() - t0,
                         f"models:/{MODEL_NAME}@champion{_validation_note(files.get('sidecar'))}",
                         str(files["parquet"])))
        except Exception as e:  # noqa: BLE001 - the summary reports it
            log.exception("bank deliverable failed")
            advance(Step("bank deliverable", "FAILED", time.perf_counter() - t0, f"{type(e).__name__}: {e}"))
        scored = out / "deliverable" / "portfolio_scored.parquet"   # the deliverable with the sales it was priced on
        scores = scored if scored.exists() else deliverable
        step, res = _job("loan_pricing", out, {"out_dir": str(out), "seed": seed,
                                                "scores_path": str(scores) if scores.exists() else ""})
        advance(step)
        runs["loan_pricing"] = res
    finally:
        bar.close()
    result.metrics = _key_metrics(runs)
    result.files.update({
        "district": out / "district",
        "MLflow store": out / "mlflow.db",
        "executed notebooks": out / "runs",
        "quality report": out / "quality",
        "validation report": out / "validation" / "champion" / "report.html",
    })
    return result


KEY_METRICS = {
    "data_quality": ("collection_compliance_rate", "uscc_error_duplicate_rate", "serious_dishonesty_share"),
    "public_credit_evaluation": ("excellent_or_good_share", "district_score_auc_later_adverse",
                                 "district_grade_auc_later_adverse"),
    "small_loan_models": ("scorecard_test_auc", "lightgbm_test_auc", "scorecard_oot_auc", "scorecard_test_ece_true_pd"),
    "model_validation": ("champion_auc", "champion_psi", "challenger_auc"),
    "loan_pricing": ("alloc_expected_profit", "alloc_return_on_budget", "profit_gain_vs_naive"),
}


def _key_metrics(runs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, res in runs.items():
        if not getattr(res, "run_id", None):
            continue        # the job stopped before its run was created: its step in the summary says why
        try:
            m = _run_metrics(res.run_id)
        except Exception as e:  # noqa: BLE001  the summary goes on without this run's metrics, and says so
            log.warning("key metrics of %s not read from its MLflow run %s: %s", name, res.run_id, e)
            continue
        for k in KEY_METRICS.get(name, ()):
            if k in m:
                out[f"{name}: {k}"] = m[k]
    return out


def _bin(name: str) -> str:
    """A console script of this environment (the venv's bin folder need not be on PATH): beside the interpreter,
    else where PATH finds it, else the bare name."""
    import shutil

    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else (shutil.which(name) or name)


def _validation_note(sidecar: Path | None) -> str:
    """``; last validation red (checks)`` from the deliverable's sidecar: the demo's summary said "ok" beside a
    deliverable priced with PDs its own out-of-time validation had lit red (a validator's finding)."""
    import json

    try:
        doc = json.loads(Path(sidecar).read_text(encoding="utf-8")) if sidecar else {}
    except (OSError, ValueError):
        return ""
    status = doc.get("validation_status")
    if not status:
        return ""
    red = doc.get("validation_red_checks")
    return f"; its last validation: {status}" + (f" ({red}): review before pricing" if status == "red" and red else "")


def write_portfolio_deliverable(district: Path, out: Path, model_uri: str = f"models:/{MODEL_NAME}@champion",
                                as_of: str | None = None) -> dict[str, Path]:
    """Score every active enterprise at the snapshot with the champion and write the bank deliverable."""
    import pandas as pd

    from creditmodel.data.io import load_district
    from creditmodel.delivery import deliver_file
    from creditmodel.evaluation import evaluate
    from creditmodel.scoring.district import enterprise_portfolio
    from creditmodel.scoring.score import resolve_model

    io_log = logging.getLogger("creditmodel.data.io")
    level = io_log.level
    io_log.setLevel(logging.WARNING)  # the quality notebook already reported it
    try:
        d = load_district(district)
    finally:
        io_log.setLevel(level)   # a reviewer's finding: it stayed raised for the rest of the process
    when = pd.Timestamp(as_of or d.snapshot_date)
    ev = evaluate(d.tables, as_of=when)
    port = enterprise_portfolio(d.tables, when, evaluation=ev)
    src = out.parent / "portfolio_features.parquet"
    src.parent.mkdir(parents=True, exist_ok=True)
    port.to_parquet(src, index=False)
    resolved = resolve_model(model_uri)
    # the loans let the model card count the scored firms outside the development population
    res = deliver_file(resolved, src, out, progress=False, loans=d.tables["loans"])
    files = dict(res.files)
    if "revenue" in port.columns:
        # the deliverable as priced, with the sales it was priced on: repriced without them (notebook 05,
        # `creditmodel price`), every firm lost the SME adjustment and got another rate (a new user's finding)
        scored = pd.read_parquet(files["parquet"])
        if len(scored) == len(port) and scored["uscc"].astype(str).tolist() == port["uscc"].astype(str).tolist():
            scored["revenue"] = port["revenue"].to_numpy()
            files["scored_with_sales"] = out.parent / "portfolio_scored.parquet"
            scored.to_parquet(files["scored_with_sales"], index=False)
    return files
