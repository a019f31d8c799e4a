"""``creditmodel score --engine spark``: the same scoring through Spark.

The loaded model's own ``score_frame`` runs in a pandas UDF (:mod:`creditmodel.scoring.spark_udf`; the workers
use this interpreter, ``PYSPARK_PYTHON``) on a struct of the model's input columns, and the result is written in
input order with the same columns as in-process scoring. (``mlflow.pyfunc.spark_udf`` ran MLflow's schema
enforcement on every batch, 12 times the scoring's own time: see the UDF's module.) The master is
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
from importlib import resources
from pathlib import Path
from typing import Any

from creditmodel import tracking
from creditmodel.errors import InputError, separator_hint

log = logging.getLogger(__name__)

BLANK_COL = "__creditmodel_blank__"
NEEDS_PYSPARK = "the Spark engine needs pyspark (and Java): pip install 'creditmodel[spark]' (make test installs it)"
ORDER_COL = "__creditmodel_row"


def _quiet_pyspark_pandas_warning() -> None:
    """PySpark warns at every import that it does not yet fully support pandas 3 (a FutureWarning on the command's
    stderr, four times): the engine's results are tested equal to in-process scoring on every column, so the warning
    is not the user's to act on. Workers inherit the filter through ``PYTHONWARNINGS``."""
    import warnings

    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    rule = "ignore:PySpark does not yet fully support pandas:FutureWarning"
    current = os.environ.get("PYTHONWARNINGS", "")
    if rule not in current:
        os.environ["PYTHONWARNINGS"] = f"{current},{rule}" if current else rule


def spark_session(master: str | None = None, app: str = "creditmodel") -> Any:
    """A Spark session for scoring (quiet, loopback-only, this interpreter on the workers)."""
    _quiet_pyspark_pandas_warning()
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise InputError(NEEDS_PYSPARK, parameter="--engine") from e
    log4j = Path(str(resources.files("creditmodel.resources").joinpath("spark-log4j2.properties")))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    master = master or os.environ.get("CREDITMODEL_SPARK_MASTER", "local[2]")
    spark = (SparkSession.builder.master(master).appName(app)
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")  # its stage bars were spliced into our stderr
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.memory", os.environ.get("CREDITMODEL_SPARK_DRIVER_MEMORY", "2g"))
             .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log4j.as_uri()}")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def score_file_spark(resolved: Any, data: Path, out: Path, id_col: str | None = None, master: str | None = None,
                     spark: Any = None, pricing_config: str | Path | None = None) -> Any:
    """Score ``data`` (Parquet or CSV) through Spark; same output columns and order as in-process: for a registry
    alias (``models:/NAME@ALIAS``) the whole bank deliverable, priced with ``pricing_config``, as
    :func:`creditmodel.delivery.deliver_file` writes it."""
    _quiet_pyspark_pandas_warning()
    try:
        from pyspark.sql import functions as F
    except ImportError as e:  # the message spark_session gives, before anything else is read
        raise InputError(NEEDS_PYSPARK, parameter="--engine") from e

    from creditmodel.delivery import DELIVERY_INPUTS, Delivery, scored_at_now, warn_missing_identifiers
    from creditmodel.scoring.model import SCORE_COLUMNS
    from creditmodel.scoring.pyfunc import spark_result_type
    from creditmodel.scoring.spark_udf import scoring_udf
    from creditmodel.scoring.score import IN_DEFAULT, PASSTHROUGH, ScoreResult, _text_columns

    t0 = time.perf_counter()
    if not data.exists():
        raise InputError("file not found", file=data)
    sha = tracking.file_sha256(data)
    when = scored_at_now()
    deliver = resolved.alias is not None  # a registry alias: the bank deliverable, priced
    own = spark is None
    spark = spark or spark_session(master)
    try:
        nanos: dict[str, Any] = {}
        if data.suffix.lower() == ".parquet":
            nanos = _nanosecond_timestamps(data)
            if nanos:
                # Spark cannot read TIMESTAMP(NANOS) (pandas' default); read those columns as int64
                # nanoseconds and turn them back into timestamps when the parts are assembled
                spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
            sdf = spark.read.parquet(str(data))
        else:
            reader = spark.read.option("header", True).option("encoding", "UTF-8")
            sdf = reader.option("inferSchema", True).csv(str(data))
            # as written, as in process (000123 stays 000123; a category '01' is not the number 1)
            text = set(_text_columns(resolved.model, id_col)) | {"uscc"}
            if text & set(sdf.columns):
                from pyspark.sql.types import StringType, StructField, StructType

                schema = StructType([StructField(f.name, StringType(), True) if f.name in text else f
                                     for f in sdf.schema.fields])
                sdf = reader.schema(schema).csv(str(data))
        model = resolved.model
        missing = [c for c in model.input_spec.columns if c not in sdf.columns]
        if missing:
            raise InputError(f"missing column(s) the model needs: {missing}{separator_hint(sdf.columns)}", file=data,
                             column=missing[0])
        if id_col and id_col not in sdf.columns:
            raise InputError(f"id column {id_col!r} not found", file=data, column=id_col)
        udf = scoring_udf(model, spark_result_type(), list(SCORE_COLUMNS))
        keep = [c for c in dict.fromkeys([id_col, *PASSTHROUGH, *(DELIVERY_INPUTS if deliver else ()), IN_DEFAULT])
                if c and c in sdf.columns]
        if deliver:
            warn_missing_identifiers(sdf.columns, data, id_col)
        sdf = sdf.withColumn(ORDER_COL, F.monotonically_increasing_id())
        feats = [F.col(c) for c in model.input_spec.columns]
        blank = F.coalesce(*feats).isNull() if len(feats) > 1 else feats[0].isNull()  # a line of commas
        scored = sdf.select(ORDER_COL, *keep, blank.alias(BLANK_COL), udf(F.struct(*feats)).alias("s"))
        # no sort: a global sort's range partitioner sampled the whole plan, UDF included, so every row was scored
        # twice (reviewer's finding); a projection keeps each input partition's row order, _assemble orders the
        # part files by their first row number and checks the order as it reads them
        scored = scored.select(ORDER_COL, *keep, BLANK_COL, "s.*")
        tmp = Path(tempfile.mkdtemp(prefix="creditmodel-spark-", dir=out.parent if out.parent.exists() else None))
        try:
            scored.write.mode("overwrite").parquet(str(tmp / "part"))
            parts = _in_input_order(sorted((tmp / "part").glob("part-*.parquet")))
            if deliver:
                delivery = Delivery(resolved, data, out, id_col=id_col, pricing_config=pricing_config)
                _assemble(parts, out, resolved, sha, when, nanos, id_col=id_col, delivery=delivery)
                return delivery.finish()
            rows, ok = _assemble(parts, out, resolved, sha, when, nanos, id_col=id_col)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if own:
            spark.stop()
    return ScoreResult(out, rows, ok, rows - ok, time.perf_counter() - t0, resolved.model.name,
                       str(resolved.version), {"scores": out})


def _in_input_order(parts: list[Path]) -> list[Path]:
    """Spark's part files ordered by their first row number (``monotonically_increasing_id`` holds the input
    partition in its high bits and the row within it in its low bits; each part keeps its partition's row order);
    empty parts are left out."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    first = {}
    for part in parts:
        col = pq.read_table(part, columns=[ORDER_COL]).column(0)
        if len(col):
            first[part] = pc.min(col).as_py()
    return sorted(first, key=first.__getitem__)


#: Rows of Spark's output read into the driver at a time (the in-process engine's chunk size).
ASSEMBLE_ROWS = 500_000


def _batches(parts: list[Path]) -> Any:
    """Spark's ordered part files as pandas frames of at most :data:`ASSEMBLE_ROWS` rows, in order."""
    import pyarrow.parquet as pq

    for part in parts:
        for batch in pq.ParquetFile(part).iter_batches(batch_size=ASSEMBLE_ROWS):
            if batch.num_rows:
                yield batch.to_pandas()


def _nanosecond_timestamps(data: Path) -> dict[str, Any]:
    """Columns of a Parquet file stored as nanosecond timestamps, with their time zone (or None)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(data)
    except (OSError, pa.ArrowInvalid) as e:
        raise InputError(f"unreadable Parquet file: {e}", file=data) from e
    return {f.name: f.type.tz for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"}


def _clean(pdf: Any, resolved: Any, sha: str, when: Any, nanos: dict[str, Any] | None = None) -> Any:
    """One batch of Spark's output in the in-process column types."""
    import pandas as pd

    from creditmodel.scoring.score import in_deliverable_order

    pdf = pdf.drop(columns=[ORDER_COL])
    for c, tz in (nanos or {}).items():
        if c in pdf:
            pdf[c] = pd.to_datetime(pdf[c], unit="ns", utc=tz is not None)
            if tz is not None:
                pdf[c] = pdf[c].dt.tz_convert(tz)
    pdf["score"] = pd.array(pdf["score"], dtype="Float64").astype("Int64")
    pdf["model_version"] = str(resolved.version)
    pdf["data_sha256"] = sha
    pdf["scored_at"] = when
    return in_deliverable_order(pdf)


def _assemble(parts: list[Path], out: Path, resolved: Any, sha: str, when: Any,
              nanos: dict[str, Any] | None = None, id_col: str | None = None, delivery: Any = None
              ) -> tuple[int, int]:
    """Stream Spark's ordered part files into ``out`` (Parquet or CSV) one part at a time; the id checks of the
    in-process engine (empty or repeated ``id_col``; for a ``delivery``, also an invalid ``uscc`` or
    ``as_of_date``) run here, over the parts in input order. A ``delivery`` takes each part instead of ``out``."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from creditmodel.delivery import SCORED_AT_CSV_FORMAT
    from creditmodel.scoring.score import IN_DEFAULT, RowChecks, apply_in_default, apply_row_errors

    # a uscc or as_of_date column is checked as in process (for a delivery: one row per enterprise and date)
    checks = RowChecks(id_col, identifiers=True, deliverable=delivery is not None,
                       today=getattr(delivery, "when", None))

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    writer, rows, ok = None, 0, 0
    try:
        last = -1
        for raw in _batches(parts):   # bounded memory: a part holds a whole input partition (millions of rows)
            order = raw[ORDER_COL].to_numpy()
            if order[0] <= last or (len(order) > 1 and not bool((order[1:] > order[:-1]).all())):
                raise RuntimeError("Spark returned the scored rows out of input order")  # never seen; never silent
            last = int(order[-1])
            pdf = _clean(raw, resolved, sha, when, nanos).reset_index(drop=True)
            blank = pdf.pop(BLANK_COL).to_numpy(dtype=bool)
            pdf = apply_in_default(pdf, pdf)   # as in process (before the id checks): in_default is grade D, PD 1
            msg = checks.messages(pdf)
            msg[blank] = "every column the model uses is empty (a blank line?)"  # first, as the in-process engine
            pdf = apply_row_errors(pdf, msg)
            if delivery is None:
                pdf = pdf.drop(columns=[IN_DEFAULT], errors="ignore")  # read, not written (as in process)
            if delivery is not None:
                delivery.add(pdf, pdf)
                continue
            first = rows == 0
            rows += len(pdf)
            ok += int((pdf["status"] == "ok").sum())
            if out.suffix.lower() == ".parquet":
                table = pa.Table.from_pandas(pdf, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(partial, table.schema)
                writer.write_table(table.cast(writer.schema))
            else:  # scored_at as the deliverable's CSV writes it
                pdf["scored_at"] = pd.Timestamp(when).tz_convert("UTC").strftime(SCORED_AT_CSV_FORMAT)
                pdf.to_csv(partial, mode="w" if first else "a", header=first, index=False,
                           encoding="utf-8-sig" if first else "utf-8", float_format="%.10g")
    finally:
        if writer is not None:
            writer.close()
    if delivery is None:
        partial.replace(out)
    return rows, ok
