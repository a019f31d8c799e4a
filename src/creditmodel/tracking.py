"""MLflow set-up shared by the CLI, the job runner and the notebooks.

* The tracking store is SQLite (``sqlite:///<out>/mlflow.db``) unless ``MLFLOW_TRACKING_URI`` says
  otherwise; the deprecated file store is refused. Artifacts go to ``<out>/mlartifacts``.
* Telemetry is off.
* A notebook calls :func:`notebook_run`: under ``creditmodel run`` it logs into the run the runner
  opened (``MLFLOW_RUN_ID``), interactively it opens a run of its own.
* In a JupyterLab started by ``creditmodel lab --out DIR``, a notebook run by hand writes to DIR
  (:func:`notebook_out_dir`).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from creditmodel.errors import ConfigError, InputError

log = logging.getLogger(__name__)

ENV_OUT = "CREDITMODEL_OUT"
DEFAULT_OUT = Path("out")
#: Set by ``creditmodel lab --out DIR`` for the JupyterLab it starts: the output folder of the notebooks opened there
#: (:func:`notebook_out_dir`, :func:`notebook_data_dir`).
ENV_LAB_OUT = "CREDITMODEL_LAB_OUT"
#: The notebooks' own defaults (their parameters cells), relative to notebooks/.
NOTEBOOK_OUT_DIR = "../out/demo"
NOTEBOOK_DATA_DIR = "../out/demo/district"


def _quiet_env() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


_quiet_env()


def default_out() -> Path:
    """The output folder: ``$CREDITMODEL_OUT`` or ``./out``."""
    return Path(os.environ.get(ENV_OUT, DEFAULT_OUT))


_configured: dict[str, str] = {}


def store_uri(out: str | Path) -> str:
    """The SQLite store of an output folder, ``sqlite:///<out>/mlflow.db`` (absolute path; the folder is created),
    whatever the environment says."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{out.resolve() / 'mlflow.db'}"


def tracking_uri(out: str | Path | None = None) -> str:
    """``$MLFLOW_TRACKING_URI`` when set, else ``sqlite:///<out>/mlflow.db`` (absolute path).

    Without ``out``: the store of the last :func:`configure` call in this process, else
    ``$CREDITMODEL_OUT`` or ``./out``.
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    if out is None and "uri" in _configured:
        return _configured["uri"]
    return store_uri(out if out is not None else default_out())


#: Environment variables that choose an MLflow store other than an output folder's own.
STORE_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def _notebook_path(value: str | Path) -> Path:
    """A notebook's path parameter as the kernel reads it: relative to notebooks/ (the kernel's working folder)."""
    from creditmodel.reference import PROJECT_ROOT

    return (PROJECT_ROOT / "notebooks" / Path(value).expanduser()).resolve()


def _lab_out() -> str | None:
    """``$CREDITMODEL_LAB_OUT`` for a notebook run by hand in ``creditmodel lab``; None under ``creditmodel run``
    (``MLFLOW_RUN_ID`` set: the job's parameters say where) or outside the lab."""
    lab = os.environ.get(ENV_LAB_OUT, "").strip()
    return lab if lab and not os.environ.get("MLFLOW_RUN_ID") else None


def notebook_out_dir(out_dir: str | Path, default: str | Path = NOTEBOOK_OUT_DIR) -> str:
    """The folder a notebook writes to (its files and, through :func:`start_notebook_run`, its MLflow store):
    ``out_dir`` as given, except in a notebook opened in ``creditmodel lab --out DIR`` and run there by hand whose
    ``out_dir`` is still the notebook's ``default``: then DIR (``$CREDITMODEL_LAB_OUT``). Before, such a notebook
    wrote its files to ../out/demo while the lab had pointed its MLflow runs at DIR (a reviewer's finding).

    Under ``creditmodel run`` (and papermill) the parameter as injected is kept. For a notebook's first code cell:
    ``out_dir = tracking.notebook_out_dir(out_dir)``."""
    lab = _lab_out()
    if lab is None or _notebook_path(out_dir) != _notebook_path(default):
        return str(out_dir)
    log.info("out_dir: %s (creditmodel lab --out) instead of the notebook's default %s", lab, default)
    return lab


def notebook_data_dir(data_dir: str | Path, out_dir: str | Path, default: str | Path = NOTEBOOK_DATA_DIR) -> str:
    """The district folder a notebook reads (and generates a district into when it holds none), to go with
    :func:`notebook_out_dir`: ``data_dir`` as given, except in a notebook opened in ``creditmodel lab --out DIR`` and
    run there by hand whose ``data_dir`` is still the notebook's ``default``: then ``<out_dir>/district`` (``out_dir``
    as :func:`notebook_out_dir` returned it) when that holds a district or the default folder holds none (a district
    is generated there, not into ../out/demo), else the default (the demo's district is read), as
    ``creditmodel run --out`` does."""
    from creditmodel.data import has_district

    if _lab_out() is None or _notebook_path(data_dir) != _notebook_path(default):
        return str(data_dir)
    own = _notebook_path(out_dir) / "district"
    if own == _notebook_path(default) or (not has_district(own) and has_district(_notebook_path(default))):
        return str(data_dir)
    log.info("data_dir: %s (creditmodel lab --out) instead of the notebook's default %s", own, default)
    return str(own)


def configure(out: str | Path | None = None) -> str:
    """Point MLflow at the project's store; returns the tracking URI. Refuses the file store."""
    import mlflow

    uri = tracking_uri(out)
    if uri.startswith("file:") or ("://" not in uri and not uri.startswith("databricks")):
        raise ConfigError(f"MLflow file store {uri!r} is deprecated; use sqlite:///PATH/mlflow.db or a server URL",
                          column="MLFLOW_TRACKING_URI")
    # mlflow.set_*_uri also export MLFLOW_*_URI into os.environ; keep the environment as it was so that a
    # later configure(other_out) in the same process is not pinned to this store
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    explicit_registry = saved["MLFLOW_REGISTRY_URI"]
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(explicit_registry or uri)  # the registry follows the tracking store
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    _configured["uri"] = uri
    return uri


def require_store(uri: str | None = None) -> None:
    """InputError when ``uri`` (default: the configured store) is a SQLite store whose file does not exist, so that
    a lookup in a mistyped ``--store``/``--out`` says so instead of creating an empty store and not finding the model."""
    uri = uri or tracking_uri()
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///"):])
        if not db.is_file():
            raise InputError("no MLflow store here (mlflow.db not found): check --store / --out, $CREDITMODEL_OUT "
                             "or $MLFLOW_TRACKING_URI", file=db)


def artifact_root(out: str | Path | None = None) -> Path:
    """Where run artifacts are stored for a SQLite store under ``out``."""
    uri = tracking_uri(out)
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///"):]).parent / "mlartifacts"
    return (Path(out) if out is not None else default_out()).resolve() / "mlartifacts"


def _check_own_artifacts(exp: Any, uri: str, out: str | Path | None) -> None:
    """InputError when a SQLite store's experiment keeps its artifacts outside the store's ``mlartifacts``: MLflow
    records absolute paths, so a store copied (or moved) from another folder wrote its runs' notebooks, figures and
    models into the original's folder without a word (an analyst's finding: ``cp -r out/demo copy`` then
    ``creditmodel run ... --out copy`` filled ``out/demo/mlartifacts``)."""
    from urllib.parse import unquote, urlparse

    loc = str(exp.artifact_location or "")
    if not (uri.startswith("sqlite:///") and loc.startswith("file:")):
        return
    own = artifact_root(out).resolve()
    where = Path(unquote(urlparse(loc).path)).resolve()
    if where == own or own in where.parents:
        return
    raise InputError(f"experiment {exp.name!r} of this store keeps its artifacts in {where}, outside the store's "
                     f"own {own}: the store was copied or moved from another folder, and a run here would write "
                     "into that folder (MLflow records absolute paths). Use a fresh --out for new runs (a district "
                     "is generated there, or pass -p data_dir=...), or run in the store's original folder",
                     file=uri[len("sqlite:///"):])


def experiment_id(name: str, out: str | Path | None = None) -> str:
    """Get or create an experiment, with its artifacts under ``<out>/mlartifacts/<name>``."""
    import mlflow

    exp = mlflow.get_experiment_by_name(name)
    uri = tracking_uri(out)
    if exp is not None:
        _check_own_artifacts(exp, uri, out)
        return exp.experiment_id
    location = None
    if uri.startswith("sqlite:///"):
        location = (artifact_root(out) / name.replace("/", "_")).resolve().as_uri()
    try:
        return mlflow.create_experiment(name, artifact_location=location)
    except Exception:  # created concurrently by another process
        exp = mlflow.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


@contextmanager
def notebook_run(experiment: str, out: str | Path | None = None, run_name: str | None = None,
                 params: dict[str, Any] | None = None) -> Iterator[Any]:
    """Log a notebook's work to MLflow.

    Under ``creditmodel run`` (``MLFLOW_RUN_ID`` set) the runner's run is resumed and left open for the
    runner to close; run interactively, a new run is opened and closed here.
    """
    import mlflow

    configure(out)
    managed = bool(os.environ.get("MLFLOW_RUN_ID"))
    if managed:
        run = mlflow.start_run(run_id=os.environ["MLFLOW_RUN_ID"])
    else:
        run = mlflow.start_run(experiment_id=experiment_id(experiment, out), run_name=run_name)
        mlflow.set_tags({"creditmodel.launched_by": "interactive", **_git_tags()})
    if params:
        log_params(params)
        tag_district(params)
    try:
        yield run
    except BaseException:
        if not managed:
            mlflow.end_run(status="FAILED")
        raise
    else:
        if not managed:
            mlflow.end_run()


def start_notebook_run(experiment: str, out: str | Path | None = None, params: dict[str, Any] | None = None) -> Any:
    """Notebook form of :func:`notebook_run` (no ``with`` block): returns the active run.

    Resumes the runner's run under ``creditmodel run``; opens a run otherwise (closed by
    :func:`end_notebook_run` or when the kernel exits).
    """
    import mlflow

    configure(out)
    if mlflow.active_run() is not None:
        return mlflow.active_run()
    if os.environ.get("MLFLOW_RUN_ID"):
        run = mlflow.start_run(run_id=os.environ["MLFLOW_RUN_ID"])
    else:
        run = mlflow.start_run(experiment_id=experiment_id(experiment, out))
        mlflow.set_tags({"creditmodel.launched_by": "interactive", **_git_tags()})
    if params:
        log_params(params)
        tag_district(params)
    return run


def tag_district(params: dict[str, Any]) -> dict[str, str]:
    """Tag the active run with what ``params["data_dir"]`` holds: the generator's manifest (firms, seed) or none.

    A notebook's ``firms`` and ``seed`` parameters only shape a district it generates; on a folder that already
    held one they were logged as if they described the data. ``creditmodel.district`` says what the data is, and
    ``creditmodel.district_note`` says when those parameters were not used."""
    import mlflow

    folder = params.get("data_dir")
    if not isinstance(folder, (str, Path)) or not str(folder) or not Path(folder).is_dir():
        return {}
    from creditmodel.data.io import read_manifest
    from creditmodel.errors import InputError

    try:
        man = read_manifest(folder)
    except InputError as e:  # a broken manifest stops the loaders later; here the run just says so
        man, tags = None, {"creditmodel.district": f"manifest.json unreadable: {e}"[:500]}
    else:
        tags = {"creditmodel.district": "no manifest.json: not a generated district"}
    if man:
        tags = {"creditmodel.district": f"generated district: firms={man.get('firms')}, seed={man.get('seed')}, "
                                        f"snapshot {man.get('snapshot_date')}"}
        differ = [k for k in ("firms", "seed") if k in params and str(params[k]) != str(man.get(k))]
        if differ:
            tags["creditmodel.district_note"] = (
                f"parameter(s) {', '.join(differ)} not used for the data: the folder already held a district "
                f"({', '.join(f'{k}={man.get(k)}' for k in differ)})")
    elif "firms" in params:
        tags["creditmodel.district_note"] = "parameters firms and seed not used for the data: not a generated district"
    mlflow.set_tags(tags)
    return tags


def end_notebook_run() -> None:
    """Close a run opened interactively; a runner-managed run is left for the runner to close."""
    import mlflow

    if os.environ.get("MLFLOW_RUN_ID"):
        return
    if mlflow.active_run() is not None:
        mlflow.end_run()


def log_params(params: dict[str, Any]) -> None:
    """Log parameters (values stringified, long ones truncated to MLflow's limit)."""
    import mlflow

    flat = {str(k): (json.dumps(v, default=str) if isinstance(v, (dict, list, tuple)) else str(v))[:6000]
            for k, v in params.items()}
    # a resumed run may already hold the same params: only log new or equal ones
    run = mlflow.active_run()
    if run is not None:
        existing = mlflow.get_run(run.info.run_id).data.params
        flat = {k: v for k, v in flat.items() if k not in existing}
    if flat:
        mlflow.log_params(flat)


def set_tags(tags: dict[str, Any]) -> None:
    """Tag the active run (values stringified, truncated to 5,000 characters): what a reader of the run must know
    beside its metrics, such as an as-of date outside the data."""
    import mlflow

    mlflow.set_tags({str(k): str(v)[:5000] for k, v in tags.items()})


def log_metrics(metrics: dict[str, Any], prefix: str = "", step: int | None = None) -> dict[str, float]:
    """Log the finite numeric entries of ``metrics`` (others are skipped, with a debug message)."""
    import math

    import mlflow

    clean = {}
    for k, v in metrics.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            log.debug("metric %s is not numeric, not logged", k)
            continue
        if math.isfinite(f):
            clean[f"{prefix}{k}"] = f
    if clean:
        mlflow.log_metrics(clean, step=step)
    return clean


def log_figure(fig: Any, name: str) -> None:
    """Log a matplotlib figure as a PNG artifact under ``figures/``."""
    import mlflow

    mlflow.log_figure(fig, f"figures/{name if name.endswith('.png') else name + '.png'}")


def log_table(df: Any, name: str, formats: Iterable[str] = ("csv",)) -> None:
    """Log a DataFrame as artifacts under ``tables/`` (CSV in UTF-8 with BOM, and/or Parquet)."""
    import tempfile

    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            p = Path(tmp) / f"{name}.{fmt}"
            if fmt == "csv":
                df.to_csv(p, index=False, encoding="utf-8-sig")
            elif fmt == "parquet":
                df.to_parquet(p, index=False)
            else:
                raise ValueError(f"unknown table format {fmt!r}")
            mlflow.log_artifact(str(p), artifact_path="tables")


# --------------------------------------------------------------------------- provenance
def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of one file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def data_sha256(paths: Iterable[str | Path]) -> str:
    """One SHA-256 over files and folders (folders: every file, by relative path and content)."""
    h = hashlib.sha256()
    for p in sorted(Path(x) for x in paths):
        if p.is_dir():
            for f in sorted(q for q in p.rglob("*") if q.is_file()):
                h.update(str(f.relative_to(p)).encode())
                h.update(file_sha256(f).encode())
        elif p.is_file():
            h.update(p.name.encode())
            h.update(file_sha256(p).encode())
        else:
            h.update(f"missing:{p}".encode())
    return h.hexdigest()


def git_info(repo: str | Path | None = None) -> dict[str, str]:
    """Commit SHA and whether the work tree has uncommitted changes ({} outside a git repo)."""
    from creditmodel.reference import PROJECT_ROOT

    cwd = Path(repo) if repo else PROJECT_ROOT
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": sha, "dirty": "true" if dirty else "false"}


def _git_tags() -> dict[str, str]:
    g = git_info()
    return {"mlflow.source.git.commit": g["commit"], "creditmodel.git_dirty": g["dirty"]} if g else {}
