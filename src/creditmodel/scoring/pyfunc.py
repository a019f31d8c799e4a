"""MLflow pyfunc flavour of a :class:`~creditmodel.scoring.model.CreditModel`.

``predict`` returns the scoring columns (``score``, ``grade``, ``pd_12m``, ``reason_1..3``,
``model_name``, ``model_version``, ``status``, ``error``), not class labels, for every input row in
input order, so that ``mlflow models serve``, ``mlflow.pyfunc.spark_udf`` and in-process scoring
give the same answer. The fitted model travels as one pickle artifact; the points table, SQL and
reason texts travel beside it for banks that score without our code.
"""
from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditmodel.errors import InputError
from creditmodel.scoring.model import SCORE_COLUMNS, CreditModel
from creditmodel.scoring.score import BLANK_ROW, IN_DEFAULT, apply_in_default, apply_row_errors, blank_rows

log = logging.getLogger(__name__)

ARTIFACT_KEY = "credit_model"

try:  # keep this module importable without mlflow for plain pickling use
    import mlflow.pyfunc

    _Base = mlflow.pyfunc.PythonModel
except ImportError:  # pragma: no cover
    _Base = object


class CreditModelPyfunc(_Base):
    """The pyfunc wrapper: loads the pickled CreditModel and scores DataFrames."""

    # predict takes and returns DataFrames described by the model signature; MLflow's type-hint based
    # validation (and its warning that predict has no type hints) does not apply
    _skip_type_hint_validation = True

    def load_context(self, context: Any) -> None:
        self.model = CreditModel.load(context.artifacts[ARTIFACT_KEY])

    def predict(self, context, model_input, params=None):  # no type hints: MLflow would validate against them
        df = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        index = df.index   # the answer carries the caller's index, so X.join(predict(X)) lines up
        df = df.reset_index(drop=True)
        try:
            out = self.model.score_frame(df)
            # a row of blanks is an error, as score and the deliverable say (it was answered ok, grade 10)
            out = apply_row_errors(out, np.where(blank_rows(df, self.model.input_spec.columns), BLANK_ROW, None))
            out = apply_in_default(out, df)   # an input flagged in_default is grade D, PD 1
        except InputError as e:
            raise _served_error(e) from e
        out = to_plain_types(out, none_for_missing_numbers=True)   # a REST answer must be JSON: null, not NaN
        out.index = index
        return out


def _served_error(e: InputError) -> Exception:
    """An input fault of a whole batch (a column the model needs is missing) as MLflow's own exception, so that
    ``mlflow models serve`` answers 400 with the message; any other exception is 'Encountered an unexpected error
    while evaluating the model', the reason buried in a stack trace (a user's finding). The InputError stays
    the ``__cause__`` (``validate`` reads it)."""
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
    except ImportError:  # pragma: no cover
        return e
    return MlflowException(str(e), error_code=INVALID_PARAMETER_VALUE)


def to_plain_types(out: pd.DataFrame, none_for_missing_numbers: bool = False) -> pd.DataFrame:
    """Nullable pandas dtypes to plain ones (float score and PD with NaN, object strings with None).

    ``none_for_missing_numbers``: the score and PD of a row in error become None (the column then object, else it
    stays float64) instead of NaN, as the pyfunc answers: MLflow's REST server writes a NaN as the bare token ``NaN``, which is not JSON, so
    one row in error made a whole batch's answer unreadable to a strict parser (a reviewer's finding). Arrow
    (Spark) takes either form as a nullable double.
    """
    res = pd.DataFrame(index=out.index)
    for c in out.columns:
        s = out[c]
        if c in ("score", "pd_12m"):
            f = s.astype("float64")
            missing = f.isna()
            res[c] = f.astype(object).where(~missing, None) if none_for_missing_numbers and missing.any() else f
        else:
            res[c] = s.astype(object).where(s.notna(), None)
    return res


def signature(model: CreditModel) -> Any:
    """Input columns (all optional, of type ``Any``) and the scoring output columns.

    The inputs are typed ``Any`` on purpose: MLflow's own enforcement of a ``double`` column refuses a whole
    batch for one integer column (``Can not safely convert int64 to float64``: ages and counts read from a
    CSV) or for one text cell, while the model itself checks every value and reports a wrong one as a per-row
    error naming the column (the contract). The expected type of each column is in the model's metadata
    (``creditmodel_numeric`` / ``creditmodel_categorical``) and in :meth:`CreditModel.input_spec`."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from mlflow.types.schema import AnyType

    names = [*model.input_spec.numeric, *model.input_spec.categorical]
    names += [IN_DEFAULT] if IN_DEFAULT not in names else []   # optional: a firm already in default is grade D
    cols = [ColSpec(AnyType(), c, required=False) for c in names]
    outputs = [ColSpec("double", "score"), ColSpec("string", "grade"), ColSpec("double", "pd_12m")]
    outputs += [ColSpec("string", c) for c in SCORE_COLUMNS if c not in {"score", "grade", "pd_12m"}]
    return ModelSignature(inputs=Schema(cols), outputs=Schema(outputs))


def spark_result_type() -> str:
    """DDL of the pyfunc output for ``mlflow.pyfunc.spark_udf``."""
    types = {"score": "double", "pd_12m": "double"}
    return ", ".join(f"{c} {types.get(c, 'string')}" for c in SCORE_COLUMNS)


def _write_side_files(model: CreditModel, folder: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    est = model.estimator
    if model.kind == "scorecard" and hasattr(est, "points_table_"):
        p = folder / "points_table.csv"
        # categories as JSON lists (["Sales", "Self"]), as WoEScorecard.to_csv writes them, not Python's repr
        text = est.to_csv() if hasattr(est, "to_csv") else est.points_table_.to_csv(index=False)
        p.write_text(text, encoding="utf-8-sig")
        files["points_table_csv"] = str(p)
        if hasattr(est, "to_json"):
            pj = folder / "points_table.json"
            js = est.to_json()
            pj.write_text(js if isinstance(js, str) else json.dumps(js, ensure_ascii=False, indent=1), encoding="utf-8")
            files["points_table_json"] = str(pj)
        if hasattr(est, "to_sql"):
            ps = folder / "scorecard.sql"
            # input_errors: how many features of the row hold a value the model refuses (an unseen category, a
            # number beyond float32, an impossible value): status=error in the library's scoring, so a bank keeps
            # input_errors = 0
            sql = est.to_sql(table="applicants", error_col="input_errors",
                             bounds=getattr(model.input_spec, "bounds", None),
                             levels=getattr(model.input_spec, "categorical", None))
            ps.write_bytes((SQL_FILE_HEADER + sql).encode("utf-8"))
            files["scorecard_sql"] = str(ps)
        lookup = score_to_pd_table(model)
        if lookup is not None:
            pl = folder / "score_to_pd.csv"
            lookup.to_csv(pl, index=False, encoding="utf-8-sig")
            files["score_to_pd"] = str(pl)
    pr = folder / "reason_codes.csv"
    model.reason_table().to_csv(pr, index=False, encoding="utf-8-sig")
    files["reason_codes"] = str(pr)
    if hasattr(model.master_scale, "table"):
        pm = folder / "master_scale.csv"
        model.master_scale.table().to_csv(pm, index=False, encoding="utf-8-sig")
        files["master_scale"] = str(pm)
    pc = folder / "input_checks.csv"
    input_checks_table(model).to_csv(pc, index=False, encoding="utf-8-sig")
    files["input_checks"] = str(pc)
    return files


def input_checks_table(model: CreditModel) -> pd.DataFrame:
    """What the delivered model refuses, per input column, for a bank that scores with the points table or another
    tool: ``lowest`` / ``highest`` possible value (empty = open), ``whole_numbers`` (a fraction is refused), the
    ``reason``, and for a category column the ``accepted_levels`` (JSON list; any other non-blank value is refused).
    Every column also refuses +/-inf and numbers beyond float32; a row whose every column is empty is refused. Only
    the SQL carried the impossible-value limits: a bank applying the CSV or JSON gave employees = -3 its points
    (a reviewer's finding). A numeric column also has ``training_min`` / ``training_max``, the range of its values in
    training (the model's ``training_range``; empty for a model saved without it): a value outside it is accepted
    but scored by extrapolation (``score`` warns), e.g. a negative duration in the bin of the shortest."""
    spec = model.input_spec
    bounds = getattr(spec, "bounds", None) or {}
    seen = (getattr(model, "metadata", None) or {}).get("training_range") or {}
    rows = []
    for c in spec.numeric:
        dom = bounds.get(c)
        lo, hi = (dom[0], dom[1]) if dom is not None else (None, None)
        rng = seen.get(c) or (None, None)
        rows.append({"feature": c, "kind": "numeric", "lowest": lo, "highest": hi,
                     "whole_numbers": bool(dom is not None and len(dom) > 3 and dom[3]),
                     "reason": (dom[2] if dom is not None and len(dom) > 2 else "") or "",
                     "accepted_levels": "", "training_min": rng[0], "training_max": rng[1]})
    for c, levels in spec.categorical.items():
        rows.append({"feature": c, "kind": "categorical", "lowest": None, "highest": None, "whole_numbers": False,
                     "reason": "a category the model does not know",
                     "accepted_levels": json.dumps([str(v) for v in levels], ensure_ascii=False),
                     "training_min": None, "training_max": None})
    return pd.DataFrame(rows, columns=["feature", "kind", "lowest", "highest", "whole_numbers", "reason",
                                       "accepted_levels", "training_min", "training_max"])


def score_to_pd_table(model: CreditModel) -> pd.DataFrame | None:
    """The calibration of a scorecard as a lookup: every integer score the points table can add up to, from the
    lowest to the highest, with its ``pd_12m`` (fraction, full precision) and master-scale ``grade``, exactly as the
    model maps them. Joined on ``score`` to the SQL's output, a bank gets the model's PD and grade without our code
    (a row flagged in default is grade D with PD 1 whatever its score). None for a model without a points table."""
    est = model.estimator
    pt = getattr(est, "points_table_", None)
    if model.kind != "scorecard" or pt is None or "points" not in pt:
        return None
    per = pt.groupby("feature", sort=False)["points"]
    lo, hi = int(np.floor(per.min().sum())), int(np.ceil(per.max().sum()))
    scores = np.arange(lo, hi + 1, dtype=np.int64)
    p = np.asarray(model.calibrator.predict(scores.astype(float)), dtype=float)
    return pd.DataFrame({"score": scores, "pd_12m": p, "grade": model.master_scale.grade(p)})


#: The first lines of ``scorecard.sql``: how to use it, and why it must be copied as bytes.
SQL_FILE_HEADER = (
    "-- creditmodel scorecard: one row per row of the table applicants (rename it to yours), with the integer\n"
    "-- score and input_errors (features holding a value the model refuses; score such rows with creditmodel).\n"
    "-- The 12-month PD and the master-scale grade of each score are in score_to_pd.csv (join on score); a firm\n"
    "-- already in default is grade D with PD 1 whatever its score.\n"
    "-- Runs unchanged in DuckDB and SQLite. The TRIM set below holds every whitespace character as itself\n"
    "-- (tab, carriage return, U+2028...): copy this file as bytes, without line-ending conversion.\n")


def _pip_requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    reqs = []
    for pkg in ("creditmodel", "mlflow", "pandas", "numpy", "scikit-learn", "lightgbm", "optbinning", "scipy"):
        try:
            reqs.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:    # not installed here (creditmodel run from a source tree): not pinned
            log.debug("%s is not installed: left out of the model's pip requirements", pkg)
    return reqs


def _code_model() -> str:
    """The models-from-code entry file (no cloudpickle of the wrapper)."""
    return str(Path(__file__).with_name("pyfunc_entry.py"))


def _artifacts(model: CreditModel, tmp: Path) -> dict[str, str]:
    pkl = model.save(tmp / "credit_model.pkl")
    return {ARTIFACT_KEY: str(pkl), **_write_side_files(model, tmp)}


def save_model(model: CreditModel, path: str | Path) -> Path:
    """Save as an MLflow model folder (``MLmodel``, the pickle, points table, SQL, reason texts)."""
    import mlflow.pyfunc

    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.pyfunc.save_model(str(path), python_model=_code_model(), artifacts=_artifacts(model, Path(tmp)),
                                 signature=signature(model), input_example=model.input_spec.example(), pip_requirements=_pip_requirements(),
                                 metadata=_metadata(model))
    _reproducible_mlmodel(path, model)
    return path


def _reproducible_mlmodel(path: Path, model: CreditModel) -> None:
    """Make ``MLmodel`` a function of the model: MLflow writes a random ``model_uuid``, the creation time and the
    temporary folder the artifacts were copied from, so two trainings with the same data and seed gave different
    files; its ``model_code_path`` was the absolute path of the entry file in the installed package. The uuid
    is derived from the model's fingerprint, the artifacts' source is their path in the folder, the entry file
    is named by its file name in the folder (MLflow loads it from there by that name), and the time is
    ``SOURCE_DATE_EPOCH`` when set (as the deliverable's ``scored_at``)."""
    import datetime as dt
    import os
    import uuid

    from mlflow.models import Model

    mm = Model.load(str(path / "MLmodel"))
    mm.model_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"creditmodel:{model.version}").hex
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        mm.utc_time_created = str(dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).replace(tzinfo=None))
    pyfunc_conf = mm.flavors.get("python_function", {})
    if pyfunc_conf.get("model_code_path"):
        pyfunc_conf["model_code_path"] = Path(pyfunc_conf["model_code_path"]).name
    for art in (pyfunc_conf.get("artifacts") or {}).values():
        if isinstance(art, dict) and "path" in art:
            art["uri"] = art["path"]
    mm.save(str(path / "MLmodel"))


def log_model(model: CreditModel, registered_model_name: str | None = None, name: str = "model") -> Any:
    """Log into the active MLflow run (and register when a name is given). Returns ModelInfo.

    Without an active run the model is logged under the experiment ``logged_models``, whose artifacts live beside
    the store (``<out>/mlartifacts``): MLflow's Default experiment of a SQLite store keeps them in ``./mlruns`` of
    whatever folder the process runs in (26 test models piled up in the project's own folder: a user's finding)."""
    import mlflow.pyfunc

    prev = None
    if mlflow.active_run() is None:
        from mlflow.tracking import fluent

        from creditmodel import tracking

        prev = fluent._get_experiment_id()
        mlflow.set_experiment(experiment_id=tracking.experiment_id("logged_models"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            info = mlflow.pyfunc.log_model(name=name, python_model=_code_model(),
                                           artifacts=_artifacts(model, Path(tmp)), signature=signature(model),
                                           input_example=model.input_spec.example(),
                                           pip_requirements=_pip_requirements(),
                                           registered_model_name=registered_model_name, metadata=_metadata(model))
    finally:
        if prev is not None:
            mlflow.set_experiment(experiment_id=prev)
    _reproducible_logged_mlmodel(info, model)
    return info


def _reproducible_logged_mlmodel(info: Any, model: CreditModel) -> None:
    """:func:`_reproducible_mlmodel` on a logged model whose artifacts are on this machine's disk (a SQLite store's
    ``mlartifacts``): the registered ``MLmodel`` held the build machine's path of the entry file and the temporary
    folder its artifacts were copied from (a reviewer's finding). Its run and model ids stay: they name the log.
    An artifact store elsewhere (S3, a server) is left as MLflow wrote it."""
    from urllib.parse import unquote, urlparse

    import mlflow

    model_id = getattr(info, "model_id", None)
    if not model_id:
        return
    try:
        where = urlparse(mlflow.get_logged_model(model_id).artifact_location)
    except Exception as e:  # noqa: BLE001 - MLflow raises its own exception types
        log.debug("logged model %s: artifact location unknown (%s); MLmodel left as written", model_id, e)
        return
    folder = Path(unquote(where.path))
    if where.scheme in ("", "file") and (folder / "MLmodel").is_file():
        _reproducible_mlmodel(folder, model)


def _metadata(model: CreditModel) -> dict[str, Any]:
    return {"creditmodel_kind": model.kind, "creditmodel_name": model.name,
            "creditmodel_version": str(model.version),
            "creditmodel_numeric": list(model.input_spec.numeric),  # the signature's inputs are Any: the types are here
            "creditmodel_categorical": list(model.input_spec.categorical),
            **{k: v for k, v in model.metadata.items()
                                                         if isinstance(v, (str, int, float, bool))}}


def load_credit_model(model_uri: str | Path) -> CreditModel:
    """The CreditModel inside an MLflow model (a folder, ``runs:/``, ``models:/NAME@ALIAS``...)."""
    import mlflow.pyfunc

    pf = mlflow.pyfunc.load_model(str(model_uri))
    inner = pf.unwrap_python_model()
    if not isinstance(inner, CreditModelPyfunc):
        raise TypeError(f"{model_uri} is not a creditmodel model")
    return inner.model


def predict_array_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """True when two scoring outputs are identical (NaN equal to NaN, None to None)."""
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for c in a.columns:
        x, y = a[c].to_numpy(dtype=object), b[c].to_numpy(dtype=object)
        both_na = pd.isna(x) & pd.isna(y)
        same = np.array([u == v for u, v in zip(x, y)], dtype=bool)
        if not np.all(both_na | same):
            return False
    return True
