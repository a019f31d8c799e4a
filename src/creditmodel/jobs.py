"""Tracked papermill jobs: ``creditmodel run experiments/NAME.yaml [-p KEY=VALUE ...]``.

An experiment file names a notebook, its parameters and an MLflow experiment::

    notebook: notebooks/01_data_quality.ipynb
    experiment: data_quality
    description: Data quality of the district's public credit records
    parameters:
      data_dir: ../out/demo/district
      firms: 2000
    inputs: [data_dir]          # parameters that point at input data (hashed into a tag)
    generator: [firms]          # parameters used only to generate a district into an empty data_dir

One job = one MLflow run. The runner opens the run and records parameters and tags (notebook path,
git commit, papermill parameters, input-data hash), then papermill executes the notebook into a new
output notebook; the notebook logs its metrics and figures into the same run
(:func:`creditmodel.tracking.notebook_run`). The executed notebook (and an HTML copy) is attached
whether the notebook succeeded or not; a failing notebook leaves a FAILED run and a non-zero exit.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from creditmodel import tracking
from creditmodel.errors import ConfigError, InputError
from creditmodel.progress import ENV as PROGRESS_ENV
from creditmodel.yamlfile import load_yaml

#: Largest ``seed`` parameter: the LightGBM challenger's (:data:`creditmodel.scoring.challenger.SEED_MAX`; not
#: imported, so that reading an experiment does not load LightGBM).
SEED_MAX = 2**31 - 4

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Experiment:
    """A parsed experiment file."""

    path: Path
    notebook: Path
    experiment: str
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    description: str = ""
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # parameter -> the values it may take
    generator: tuple[str, ...] = ()  # parameters that only shape a district generated into an empty data_dir

    @property
    def name(self) -> str:
        return self.path.stem


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment YAML; errors name the file and the key."""
    p = Path(path)
    if not p.is_file():
        # experiments/NAME.yaml (or NAME) of the project, from any folder: it worked only from the project's root
        from creditmodel.reference import PROJECT_ROOT

        own = PROJECT_ROOT / "experiments"
        for cand in (PROJECT_ROOT / p, own / p.name, own / f"{p.name}.yaml") if not p.is_absolute() else ():
            if cand.is_file():
                log.info("experiment %s read as the project's %s", path, cand)
                p = cand
                break
        else:
            known = sorted(f.stem for f in own.glob("*.yaml")) if own.is_dir() else []
            raise InputError("experiment file not found" + (f"; the project's experiments ({own}): "
                                                            f"{', '.join(known)}" if known else ""), file=p)
    raw = load_yaml(p)
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping with keys notebook, experiment, parameters", file=p)
    unknown = set(raw) - {"notebook", "experiment", "parameters", "inputs", "description", "choices", "generator"}
    if unknown:
        raise ConfigError(f"unknown key(s) {sorted(unknown)}", file=p, column=sorted(unknown)[0])
    for key in ("notebook", "experiment"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError("missing or empty", file=p, column=key)
    params = raw.get("parameters") or {}
    if not isinstance(params, dict):
        raise ConfigError("must be a mapping of parameter names to values", file=p, column="parameters")
    inputs = raw.get("inputs") or []
    if not isinstance(inputs, list) or any(i not in params for i in inputs):
        raise ConfigError("must list parameter names that appear under 'parameters'", file=p, column="inputs")
    choices = raw.get("choices") or {}
    if not isinstance(choices, dict) or any(k not in params or not isinstance(v, list) or params[k] not in v
                                            for k, v in choices.items()):
        raise ConfigError("must map parameter names under 'parameters' to lists of values that hold their default",
                          file=p, column="choices")
    generator = raw.get("generator") or []
    if not isinstance(generator, list) or any(g not in params for g in generator):
        raise ConfigError("must list parameter names that appear under 'parameters'", file=p, column="generator")
    nb = Path(raw["notebook"])
    if not nb.is_absolute():
        # relative to the project root (the folder holding experiments/)
        nb = (p.resolve().parent.parent / nb).resolve()
    if not nb.is_file():
        raise ConfigError(f"notebook {nb} not found", file=p, column="notebook")
    return Experiment(path=p.resolve(), notebook=nb, experiment=raw["experiment"], parameters=dict(params),
                      inputs=tuple(inputs), description=str(raw.get("description", "")),
                      choices={k: tuple(v) for k, v in choices.items()}, generator=tuple(generator))


#: Parameters that hold a date (YYYY-MM-DD; empty where the experiment's default is empty).
DATE_PARAMETERS = ("as_of", "oot_start", "migration_from", "migration_to")


def _is_iso_date(text: str) -> bool:
    """True for a real calendar date written YYYY-MM-DD (not 2023-02-30, not 01/02/2024)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` strings to a dict; values are read as YAML scalars (dates become ISO strings)."""
    out: dict[str, Any] = {}
    for item in pairs:
        if "=" not in item:
            raise InputError(f"parameter override {item!r} must look like KEY=VALUE", parameter=item)
        k, v = item.split("=", 1)
        k = k.strip()
        if not k.isidentifier():
            raise InputError(f"parameter name {k!r} is not a valid identifier", parameter=k)
        try:
            val = yaml.safe_load(v) if v.strip() else ""
        except yaml.YAMLError:
            val = v
        except ValueError as e:  # a date-shaped value that is no date: 2023-02-30
            raise InputError(f"{v!r} is not a valid date ({e})", parameter=k) from None
        if isinstance(val, (dt.date, dt.datetime)):
            val = val.isoformat()
        if k in out and out[k] != val:   # `-p data_dir=A -p data_dir=B` ran on B without a word
            raise InputError(f"parameter {k} is given twice, as {out[k]!r} and {val!r}: give it once", parameter=k)
        out[k] = val
    return out


def notebook_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """The notebook's ``parameters`` cell, as papermill sees it (name -> default, type, help)."""
    import papermill as pm

    return pm.inspect_notebook(str(notebook))


def _coerce(name: str, value: Any, spec: dict[str, Any]) -> Any:
    t = (spec.get("inferred_type_name") or "").lower()
    value = _coerce_type(name, value, t)
    # -1 failed inside the notebook (exit 1); the seed reaches the LightGBM challenger, whose seeds are C ints
    if name == "seed" and not 0 <= value <= SEED_MAX:
        raise InputError(f"a seed is an integer from 0 to {SEED_MAX} (one range for every notebook: the LightGBM "
                         f"challenger's seeds are C ints), got {value!r}", parameter=name)
    return value


def _coerce_type(name: str, value: Any, t: str) -> Any:
    if t in ("int", "float") and isinstance(value, bool):  # -p seed=true reached the notebook as seed = True
        raise InputError(f"expected {t}, got {value!r}", parameter=name)
    try:
        if t == "str" and not isinstance(value, str):
            return str(value)
        if t == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if t == "int" and isinstance(value, float):
            if not value.is_integer():
                raise ValueError(value)
            return int(value)
        if t == "int" and isinstance(value, str):
            return int(value)
        if t == "float" and isinstance(value, str):
            return float(value)
        if t == "bool" and not isinstance(value, bool):
            words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
            key = str(value).strip().lower()
            if key not in words:  # "maybe" used to reach the notebook as a string, i.e. true
                raise ValueError(value)
            return words[key]
    except ValueError as e:
        words = " (true/false, yes/no or 1/0)" if t == "bool" else ""   # 'expected bool' named no word (analyst)
        raise InputError(f"expected {t}{words}, got {value!r}", parameter=name) from e
    if t in ("int", "float") and not isinstance(value, (int, float)):
        # -p seed=null (or [1], {a: 1}) reached the seed's range check and failed there as a TypeError (exit 1)
        raise InputError(f"expected {t}, got {value!r}", parameter=name)
    return value


def _check_central_tendency_parameter(value: Any) -> None:
    from creditmodel.scoring.calibration import check_central_tendency

    if value != 0:  # 0: the development window's own default rate
        check_central_tendency(value)


def _check_cure_months_parameter(value: Any) -> None:
    from creditmodel.scoring.district import check_cure_months

    if value != 0:  # 0: never cured
        check_cure_months(value)


def _check_firms(value: Any) -> None:
    from creditmodel.data.synthetic import GeneratorConfig

    GeneratorConfig(firms=value)


def _check_model_name(value: Any) -> None:
    """A registered model name MLflow accepts (no '/' or ':'; not empty): a bad one failed after the training, in
    the registration (exit 1, 29 s in)."""
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise InputError(f"must be a non-empty name without leading or trailing spaces, got {value!r}")
    bad = [c for c in ("/", ":", "\\") if c in value]
    if bad or ".." in value:
        raise InputError(f"{value!r} cannot be a registered model name: MLflow names may not hold "
                         f"{' or '.join(repr(c) for c in bad) if bad else repr('..')}")


def _check_budget(value: Any) -> None:
    """A positive budget that holds at least one loan: below the allocation's minimum loan (100,000 yuan) no firm
    can get one, which the job found only after its cross-validation (a reviewer's finding)."""
    from creditmodel.credit_decisions import check_budget
    from creditmodel.pricing_allocation import AllocationRules

    check_budget(value)
    least = AllocationRules().min_loan
    if value < least:
        raise InputError(f"budget {value!r} yuan is below the minimum loan of {least:,.0f} yuan: no loan could be "
                         f"offered; give at least {least:g}")


@cache
def _parameter_checks() -> dict[str, Any]:
    """Parameter name -> the library's own check of it (raises InputError), run before a job's kernel starts;
    the library calls the same checks again when the notebook reaches them."""
    from creditmodel.credit_decisions import check_cv_folds, check_cv_repeats
    from creditmodel.evaluation.evidence import check_horizon_months
    from creditmodel.workers import check_n_jobs

    return {"n_jobs": check_n_jobs, "cv_folds": check_cv_folds,
            "cv_repeats": lambda v: check_cv_repeats(v, parameter="cv_repeats"), "budget": _check_budget,
            "horizon_months": check_horizon_months, "central_tendency": _check_central_tendency_parameter,
            "firms": _check_firms, "cure_months": _check_cure_months_parameter, "model_name": _check_model_name}


def _check_scores_file(exp: Experiment, value: str) -> None:
    """A scored file to price must be a readable file holding ``pd_12m``: without it the job failed in the kernel
    after ~40 s of cross-validation (an analyst's finding), and a folder failed there too (a reviewer's)."""
    from creditmodel.data.io import read_table

    path = Path(value) if Path(value).is_absolute() else exp.notebook.parent / value
    if path.is_dir():
        raise InputError("is a folder, not a scored file: give the CSV or Parquet file to price (the output of "
                         "creditmodel score)", file=path, parameter="scores_path")
    if not path.is_file():
        raise InputError("scored file to price not found", file=path, parameter="scores_path")
    try:
        head = read_table(path, as_text=True, nrows=5)
    except InputError as e:
        raise InputError(e.message, file=e.file or path, column=e.column, row=e.row, parameter="scores_path") from None
    if head.empty:
        raise InputError("no data rows (only a header): nothing to price", file=path, parameter="scores_path")
    if "pd_12m" not in head.columns:
        raise InputError("no pd_12m column (the 12-month PD from creditmodel score) in the file to price",
                         file=path, column="pd_12m", parameter="scores_path")


def resolve_parameters(exp: Experiment, overrides: dict[str, Any]) -> dict[str, Any]:
    """Experiment defaults updated by overrides, checked against the notebook's parameters cell."""
    declared = notebook_parameters(exp.notebook)
    if not declared:
        raise ConfigError("the notebook has no cell tagged 'parameters'", file=exp.notebook)
    params = {**exp.parameters, **overrides}
    unknown = [k for k in params if k not in declared]
    if unknown:
        raise InputError(f"unknown parameter(s) {unknown}; the notebook declares {sorted(declared)}",
                         file=exp.path, parameter=unknown[0])
    try:   # a value of the wrong type names the experiment file, as the other parameter checks do
        out = {k: _coerce(k, v, declared[k]) for k, v in params.items()}
    except InputError as e:
        raise InputError(e.message, file=exp.path, parameter=e.parameter) from None
    for k, allowed in exp.choices.items():
        if out[k] not in allowed:
            raise InputError(f"{out[k]!r} is not one of {', '.join(map(str, allowed))}", file=exp.path, parameter=k)
    for k in DATE_PARAMETERS:  # "yesterday" failed inside the notebook after the kernel had started (9-21 s)
        if k in out and not (out[k] == "" and exp.parameters.get(k) == "") and not _is_iso_date(str(out[k])):
            raise InputError(f"expected a date YYYY-MM-DD{' or empty' if exp.parameters.get(k) == '' else ''}, "
                             f"got {out[k]!r}", file=exp.path, parameter=k)
        if k in out and str(out[k]) and not ("1900-01-01" <= str(out[k]) <= "2099-12-31"):
            # -p as_of=2100-01-01 failed inside the kernel (the evaluation's range) as a FAILED run
            raise InputError(f"{out[k]} is outside 1900-01-01 .. 2099-12-31 (the dates the district's tables "
                             "accept)", file=exp.path, parameter=k)
    if str(out.get("migration_from") or "") and str(out.get("migration_to") or "") \
            and not str(out["migration_from"]) < str(out["migration_to"]):   # was refused in the kernel, after 8 s
        raise InputError(f"migration_to {out['migration_to']} must be after migration_from {out['migration_from']}",
                         file=exp.path, parameter="migration_to")
    for k, check in _parameter_checks().items():  # -p cv_folds=1 failed in the notebook after ~10 s, as a FAILED run
        if k in out:
            try:
                check(out[k])
            except InputError as e:
                raise InputError(e.message, file=exp.path, parameter=k) from None
    if isinstance(out.get("scores_path"), str) and out["scores_path"].strip():
        _check_scores_file(exp, out["scores_path"])
    # a configuration file is read now: a typo in it failed inside the kernel, as a FAILED run (a reviewer's finding)
    for k, module in (("config", "creditmodel.evaluation.config"), ("pricing_config", "creditmodel.pricing")):
        if isinstance(out.get(k), str) and out[k].strip():
            import importlib

            path = Path(out[k]) if Path(out[k]).is_absolute() else exp.notebook.parent / out[k]
            try:
                importlib.import_module(module).load_config(path)
            except InputError as e:
                raise type(e)(e.message, file=e.file or path, column=e.column, row=e.row, parameter=k) from None
    from creditmodel.reference import industry_key, street_key

    # a mistyped section failed after the job had rewritten its outputs: industry and street are checked now
    for k, key in (("industry", industry_key), ("street", street_key)):
        if str(out.get(k) or "").strip():
            try:
                key(out[k])
            except InputError as e:
                raise InputError(e.message, file=exp.path, parameter=k) from None
    return out


@dataclass
class JobResult:
    """What one job left behind."""

    run_id: str
    experiment_id: str
    status: str                  # FINISHED or FAILED (KILLED runs raise KeyboardInterrupt)
    output_notebook: Path
    parameters: dict[str, Any]
    error: str | None = None
    duration_s: float = 0.0
    bad_input: bool = False      # the notebook stopped on an InputError / ConfigError (the CLI exits 2)
    warnings: list[str] = field(default_factory=list)  # the notebook's WARNING log lines, in order, once each

    @property
    def ok(self) -> bool:
        return self.status == "FINISHED"


def notebook_warnings(path: Path, limit: int = 20) -> list[str]:
    """The ``WARNING ...`` log lines the executed notebook printed (stream outputs), in order, each once: what
    a job found worth saying (an as-of date after the data, a synthetic district generated) reaches the
    command line, not only the notebook."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - no notebook, no warnings
        return []
    seen: dict[str, None] = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                for line in str(o.get("text", "")).splitlines():
                    if line.startswith("WARNING"):
                        seen.setdefault(line.strip(), None)
    return list(seen)[:limit]


def _input_paths(exp: Experiment, params: dict[str, Any], cwd: Path) -> list[Path]:
    out = []
    for name in exp.inputs:
        v = params.get(name)
        if isinstance(v, str) and v:
            p = Path(v)
            out.append(p if p.is_absolute() else (cwd / p).resolve())
    return out


def _link_out_dir(exp: Experiment, params: dict[str, Any], overrides: dict[str, Any],
                  out: str | Path | None) -> Path | None:
    """One output folder per job when the notebook has an ``out_dir`` parameter: ``--out`` sets it (unless
    ``-p out_dir=`` is given too), and without ``--out`` (nor ``$CREDITMODEL_OUT``) the MLflow store goes where
    the notebook writes its files. Before, a rerun logged to ``./out/mlflow.db`` while it rewrote the files of
    ``out/demo`` that the demo's registered models point at."""
    if "out_dir" not in params:
        return Path(out) if out is not None else None
    if out is not None:
        if "out_dir" not in overrides:
            params["out_dir"] = str(Path(out).resolve())
        return Path(out)
    if os.environ.get(tracking.ENV_OUT):
        return None
    return (exp.notebook.parent / str(params["out_dir"])).resolve()


@cache
def kernel_manager_class() -> type:
    """The kernel manager papermill starts the notebook's kernel with: jupyter_client's, with two changes.

    * No SIGINT at shutdown. ``AsyncKernelManager.shutdown_kernel`` interrupts the kernel (SIGINT to its
      process group) before it sends the shutdown request, and papermill shuts the kernel down the moment
      the reply to its closing ``kernel_info`` request arrives. When the signal lands while ipykernel is
      still in that request's handler (SIGINT is ignored only between messages), the kernel prints
      ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel.`` at the end of a successful job (about
      1 run in 10 on a busy kernel). The kernel is idle then (every cell has replied): the interrupt has
      nothing to stop, so it is skipped. The shutdown request, then SIGTERM at half of
      ``shutdown_wait_time`` and SIGKILL at its end, still stop a kernel that does not exit; ipykernel
      itself terminates its child processes on the shutdown request. Interrupts outside a shutdown
      (nbclient's cell timeout) are unchanged.
    * CurveZMQ keys from the manager (``transport_encryption="auto"``: used when the kernel spec declares
      ``supported_encryption: curve``, as ``ipykernel install`` in scripts/setup.sh writes it), so that
      ipykernel >= 7.4 does not warn ``Kernel is running over TCP without encryption`` at every start.
      Left off when pyzmq has no Curve support.
    """
    import zmq
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class NotebookKernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if getattr(self, "shutting_down", False):  # set by shutdown_kernel just before it interrupts
                return
            await super()._async_interrupt_kernel()

        @default("transport_encryption")
        def _transport_encryption_default(self) -> str:
            return "auto" if zmq.has("curve") else "disabled"

    NotebookKernelManager.__module__ = __name__
    NotebookKernelManager.__qualname__ = "NotebookKernelManager"
    return NotebookKernelManager


def run_name(exp: Experiment, params: dict[str, Any], now: float | None = None) -> str:
    """``<experiment> <non-path parameters that differ from the experiment's defaults> <local time>``, so that two
    runs can be told apart in MLflow's run list (``small_loan_models seed=8 2026-12-03 08:30:00``)."""
    skip = {*exp.inputs, "out_dir", "data_dir"}
    changed = [f"{k}={params[k]}" for k in params
               if k not in skip and k in exp.parameters and params[k] != exp.parameters[k]]
    text = " ".join(changed)
    if len(text) > 80:
        text = text[:79] + "…"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    return " ".join(x for x in (exp.name, text, stamp) if x)


def _settle_district(exp: Experiment, params: dict[str, Any], overrides: dict[str, Any],
                     out: str | Path | None) -> None:
    """Make ``data_dir`` and the generator parameters (:attr:`Experiment.generator`) say what the job will read,
    before the kernel starts (a think-tank reviewer's finding: ``-p seed=12`` on a folder holding a seed-11
    district ran on the seed-11 data under a run named ``seed=12``, and a district generated for a job given
    ``--out`` was written into the demo's folder):

    * with ``--out`` and the experiment's default ``data_dir`` holding no district, a district is generated under
      ``--out`` (``OUT/district``), not into the default folder;
    * a generator parameter given with ``-p`` that an existing district was not generated with is refused
      (exit 2), as it would not be used;
    * otherwise the generator parameters are set to the existing district's own (``manifest.json``), so the run's
      parameters and name describe the data."""
    if "data_dir" not in params or not isinstance(params["data_dir"], str) or not params["data_dir"]:
        return
    from creditmodel.data import has_district
    from creditmodel.data.io import read_manifest

    def folder() -> Path:
        v = Path(params["data_dir"])
        return v if v.is_absolute() else (exp.notebook.parent / v).resolve()

    if out is not None and "data_dir" not in overrides and not has_district(folder()):
        params["data_dir"] = str((Path(out) / "district").resolve())
        log.info("no district in the experiment's default data_dir: %s", "the district already under --out is read, "
                 f"{params['data_dir']}" if has_district(Path(params["data_dir"])) else "a synthetic district is "
                 f"generated under --out, in {params['data_dir']}")
    f = folder()
    if not has_district(f):
        return
    man = read_manifest(f)
    snap = str((man or {}).get("snapshot_date") or "")[:10]
    if _is_iso_date(snap):
        # a grade at a date after the data rests on nothing: -p migration_to=2030-12-31 ran, reported a migration
        # matrix with 13 % of firms keeping their grade (37 % at the snapshot) and tagged the versions red
        for k in ("migration_from", "migration_to"):
            v = str(params.get(k) or "")
            if v and v > snap:
                raise InputError(f"{v} is after the district's snapshot date {snap} (data_dir {f}): the grades at "
                                 f"that date would rest on no data after {snap}; give a date on or before it",
                                 file=exp.path, parameter=k)
    given = [k for k in exp.generator if k in overrides]
    for k in given:
        if man is None:
            raise InputError(f"{k}={params[k]} would not be used: data_dir {f} holds a district that was not "
                             f"generated (no manifest.json); {', '.join(exp.generator)} only shape a district "
                             "generated into a new or empty data_dir", file=exp.path, parameter=k)
        if str(man.get(k)) != str(params[k]):
            raise InputError(f"{k}={params[k]} would not be used: data_dir {f} already holds a district generated "
                             f"with {k}={man.get(k)}; give -p data_dir=A_NEW_FOLDER to generate one with "
                             f"{k}={params[k]}, or leave {k} out to analyse this one", file=exp.path, parameter=k)
    if man is not None:
        for k in exp.generator:
            if k in man and k not in overrides:
                params[k] = type(params[k])(man[k]) if isinstance(params[k], (int, float, str)) else man[k]


def run_experiment(path: str | Path, overrides: dict[str, Any] | None = None, out: str | Path | None = None,
                   kernel_name: str = "python3", progress: bool = True, log_failure: bool = True) -> JobResult:
    """Execute one experiment as a tracked papermill job and return its result (never raises on a
    failing notebook: the result says FAILED; bad experiment files and parameters raise InputError).
    ``log_failure=False`` leaves the failure's ERROR line to the caller (the command line prints it once).

    The run is recorded in ``$MLFLOW_TRACKING_URI`` when it is set (MLflow's convention: a team's tracking server
    wins), else in the store of ``out`` (``OUT/mlflow.db``), ``$CREDITMODEL_OUT`` or the notebook's ``out_dir``; a
    warning says so when a SQLite store is not in the folder the notebook writes its files to (an exported variable
    split them without a word: a reviewer's finding)."""
    exp = load_experiment(path)
    params = resolve_parameters(exp, overrides or {})
    given_out = out
    out = _link_out_dir(exp, params, overrides or {}, out)
    _settle_district(exp, params, overrides or {}, given_out)
    out_dir = Path(out) if out is not None else tracking.default_out()
    out_dir.mkdir(parents=True, exist_ok=True)
    return _run(exp, params, out_dir, given_out, kernel_name=kernel_name, progress=progress, log_failure=log_failure)


def _say_where(exp: Experiment, params: dict[str, Any], uri: str, given_out: str | Path | None) -> None:
    """A warning when the run is recorded in a SQLite store outside the folder the notebook writes its files to (an
    exported ``MLFLOW_TRACKING_URI`` or ``CREDITMODEL_OUT`` split them without a word); a tracking server is named
    at INFO."""
    if "out_dir" not in params:
        return
    files = Path(str(params["out_dir"]))
    files = (files if files.is_absolute() else exp.notebook.parent / files).resolve()
    source = "$MLFLOW_TRACKING_URI" if os.environ.get("MLFLOW_TRACKING_URI") else f"${tracking.ENV_OUT}"
    if not uri.startswith("sqlite:///"):
        log.info("the run is recorded in %s (from %s), the notebook's files in %s", uri, source, files)
    elif Path(uri[len("sqlite:///"):]).parent.resolve() != files:
        log.warning("the run is recorded in %s (from %s) while the notebook writes its files to %s: %s", uri, source,
                    files, "unset MLFLOW_TRACKING_URI to keep both in one folder" if source == "$MLFLOW_TRACKING_URI"
                    else "give --out DIR to keep both in one folder")


def _run(exp: Experiment, params: dict[str, Any], out_dir: Path, given_out: str | Path | None, kernel_name: str,
         progress: bool, log_failure: bool) -> JobResult:
    """:func:`run_experiment` once the parameters and the output folder are settled (and, with ``--out``, its store)."""
    import mlflow  # noqa: F401
    import papermill as pm
    from mlflow.tracking import MlflowClient

    from creditmodel import __version__

    uri = tracking.configure(out_dir)
    _say_where(exp, params, uri, given_out)
    exp_id = tracking.experiment_id(exp.experiment, out_dir)
    nb_cwd = exp.notebook.parent
    client = MlflowClient()
    run = client.create_run(exp_id, run_name=run_name(exp, params), tags={
        "mlflow.source.type": "NOTEBOOK",
        "mlflow.source.name": str(exp.notebook),
        "creditmodel.notebook": _rel(exp.notebook),
        "creditmodel.experiment_file": _rel(exp.path),
        "creditmodel.papermill_parameters": json.dumps(params, sort_keys=True, default=str),
        "creditmodel.version": __version__,
        "creditmodel.launched_by": "creditmodel run",
        **tracking._git_tags(),
    })
    run_id = run.info.run_id
    for k, v in params.items():
        client.log_param(run_id, k, (json.dumps(v) if isinstance(v, (list, dict)) else str(v))[:6000])
    runs_dir = out_dir / "runs" / exp.name
    runs_dir.mkdir(parents=True, exist_ok=True)
    out_nb = (runs_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{run_id[:8]}.ipynb").resolve()
    log.info("running %s -> %s (MLflow run %s, %s)", _rel(exp.notebook), out_nb, run_id, uri)

    env_backup = {k: os.environ.get(k) for k in ("MLFLOW_RUN_ID", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID",
                                                  tracking.ENV_OUT, PROGRESS_ENV)}
    # the kernel's progress bars are widgets that papermill stores frozen at 0 % ("features: 0%| | 0/9") in the
    # executed notebook and its HTML: off in jobs (creditmodel.progress), where papermill's bar shows the progress
    os.environ.update({"MLFLOW_RUN_ID": run_id, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_ID": exp_id,
                       tracking.ENV_OUT: str(out_dir.resolve()), PROGRESS_ENV: "off"})
    status, error, bad_input = "FINISHED", None, False
    interrupted: BaseException | None = None
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(exp.notebook), str(out_nb), parameters=params, kernel_name=kernel_name,
                            cwd=str(nb_cwd), progress_bar=progress, log_output=False,
                            request_save_on_cell_execute=True, kernel_manager_class=kernel_manager_class())
    except pm.PapermillExecutionError as e:
        status, error = "FAILED", f"{e.ename}: {e.evalue} (cell {e.exec_count})"
        bad_input = e.ename in ("InputError", "ConfigError", "DomainError", "NotComputable")  # InputError subclasses
    except Exception as e:  # kernel died, timeout, ...
        status, error = "FAILED", f"{type(e).__name__}: {e}"
    except KeyboardInterrupt as e:  # Ctrl-C: the kernel's own exit had ended the run as FINISHED
        status, error, interrupted = "KILLED", "interrupted (Ctrl-C) before the notebook finished", e
    finally:
        for k, v in env_backup.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    duration = time.perf_counter() - t0
    try:
        if out_nb.exists():
            client.log_artifact(run_id, str(out_nb), artifact_path="notebook")
            html = _to_html(out_nb)
            if html is not None:
                client.log_artifact(run_id, str(html), artifact_path="notebook")
        inputs = _input_paths(exp, params, nb_cwd)
        if inputs:
            client.set_tag(run_id, "creditmodel.data_sha256", tracking.data_sha256(inputs))
        client.set_tag(run_id, "creditmodel.output_notebook", str(out_nb))
        client.log_metric(run_id, "job_duration_s", duration)
        if error:
            client.set_tag(run_id, "creditmodel.error", error[:5000])
    finally:
        client.set_terminated(run_id, status=status)
    if interrupted is not None:
        log.error("%s interrupted: MLflow run %s ended as KILLED; notebook as far as it got: %s", exp.name, run_id,
                  out_nb)
        raise interrupted
    if error and log_failure:
        log.error("%s failed: %s; executed notebook: %s", exp.name, error, out_nb)
    return JobResult(run_id=run_id, experiment_id=exp_id, status=status, output_notebook=out_nb,
                     parameters=params, error=error, duration_s=duration, bad_input=bad_input,
                     warnings=notebook_warnings(out_nb))


class _DropMessage(logging.Filter):
    """Drops log records whose message contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def _to_html(nb_path: Path) -> Path | None:
    try:
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError:
        return None
    exporter = HTMLExporter()
    quiet_alt = _DropMessage("Alternative text is missing")  # every matplotlib figure: noise even under -q
    exporter.log.addFilter(quiet_alt)
    try:
        body, _ = exporter.from_notebook_node(nbformat.read(str(nb_path), as_version=4))
    except Exception as e:  # an HTML copy is a convenience, never a reason to fail the job
        log.warning("could not render %s as HTML: %s", nb_path, e)
        return None
    finally:
        exporter.log.removeFilter(quiet_alt)
    html = nb_path.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def _rel(p: Path) -> str:
    from creditmodel.reference import PROJECT_ROOT

    try:
        return str(Path(p).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(p)
