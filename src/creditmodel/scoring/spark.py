"""``creditmodel score --engine spark``: the same scoring through Spark.

The registered pyfunc is wrapped with ``mlflow.pyfunc.spark_udf`` (``env_manager="local"``: the
workers use this interpreter, ``PYSPARK_PYTHON``), applied to a struct of the model's input columns,
and the result is written in input order with the same columns as in-process scoring. The master is
``local[2]`` by default; any Spark master URL works (``--spark-master`` or ``$CREDITMODEL_SPARK_MASTER``).
Spark is an optional extra: ``pip install creditmodel[spark]``.
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from creditmodel import tracking
from creditmodel.errors import InputError

log = logging.getLogger(__name__)

ORDER_COL = "__creditmodel_row"


def spark_session(master: str | None = None, app: str = "creditmodel") -> Any:
    """A Spark session for scoring (quiet, loopback-only, this interpreter on the workers)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise InputError("the Spark engine needs pyspark: pip install 'creditmodel[spark]'", column="--engine") from e
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    master = master or os.environ.get("CREDITMODEL_SPARK_MASTER", "local[2]")
    spark = (SparkSession.builder.master(master).appName(app)
             .config("spark.ui.enabled", "false")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.memory", os.environ.get("CREDITMODEL_SPARK_DRIVER_MEMORY", "2g"))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def score_file_spark(resolved: Any, data: Path, out: Path, id_col: str | None = None, master: str | None = None,
                     spark: Any = None) -> Any:
    """Score ``data`` (Parquet or CSV) through Spark; same output columns and order as in-process."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F

    from creditmodel.delivery import scored_at_now
    from creditmodel.scoring.pyfunc import spark_result_type
    from creditmodel.scoring.score import PASSTHROUGH, ScoreResult

    t0 = time.perf_counter()
    if not data.exists():
        raise InputError("file not found", file=data)
    sha = tracking.file_sha256(data)
    when = scored_at_now()
    own = spark is None
    spark = spark or spark_session(master)
    try:
        if data.suffix.lower() == ".parquet":
            sdf = spark.read.parquet(str(data))
        else:
            sdf = spark.read.option("header", True).option("inferSchema", True).option("encoding", "UTF-8").csv(str(data))
        model = resolved.model
        missing = [c for c in model.input_spec.columns if c not in sdf.columns]
        if missing:
            raise InputError(f"missing column(s) the model needs: {missing}", file=data, column=missing[0])
        if id_col and id_col not in sdf.columns:
            raise InputError(f"id column {id_col!r} not found", file=data, column=id_col)
        uri = resolved.uri if not str(resolved.uri).startswith("models:/") or resolved.registered_version is None \
            else f"models:/{resolved.registered_name}/{resolved.registered_version}"
        udf = mlflow.pyfunc.spark_udf(spark, uri, result_type=spark_result_type(), env_manager="local")
        keep = [c for c in dict.fromkeys([id_col, *PASSTHROUGH]) if c and c in sdf.columns]
        sdf = sdf.withColumn(ORDER_COL, F.monotonically_increasing_id())
        scored = sdf.select(ORDER_COL, *keep, udf(F.struct(*[F.col(c) for c in model.input_spec.columns])).alias("s"))
        scored = scored.select(ORDER_COL, *keep, "s.*").orderBy(ORDER_COL).drop(ORDER_COL)
        pdf = _collect(scored, out)
    finally:
        if own:
            spark.stop()
    import pandas as pd

    # spark_udf casts string struct fields with numpy's str (None -> "None") unless the whole column is
    # missing; no scoring string column ever holds the literal text "None", so map it back to null
    from creditmodel.scoring.model import SCORE_COLUMNS

    for c in SCORE_COLUMNS:
        if c not in {"score", "pd_12m"} and c in pdf:
            pdf[c] = pdf[c].astype(object).where(~pdf[c].isin(["None", "nan"]) & pdf[c].notna(), None)
    pdf["score"] = pd.array(pdf["score"], dtype="Float64").astype("Int64")
    pdf["model_version"] = str(resolved.version)
    pdf["data_sha256"] = sha
    pdf["scored_at"] = when
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        pdf.to_parquet(out, index=False)
    else:
        pdf.to_csv(out, index=False, encoding="utf-8-sig", float_format="%.10g")
    ok = int((pdf["status"] == "ok").sum())
    return ScoreResult(out, len(pdf), ok, len(pdf) - ok, time.perf_counter() - t0, resolved.model.name,
                       str(resolved.version), {"scores": out})


def _collect(sdf: Any, out: Path) -> Any:
    """Write the ordered result through Spark to a temporary Parquet folder and read it back in order."""
    import pandas as pd

    tmp = Path(tempfile.mkdtemp(prefix="creditmodel-spark-", dir=out.parent if out.parent.exists() else None))
    try:
        sdf.coalesce(1).write.mode("overwrite").parquet(str(tmp / "part"))
        parts = sorted((tmp / "part").glob("*.parquet"))
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else pd.DataFrame()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
