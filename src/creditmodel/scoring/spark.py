"""``creditmodel score --engine spark``: the same scoring through Spark, row for row the in-process result.

Where each step runs:

* **driver** (the machine that runs the command): the input's checks, as in process (a missing, empty, header-only
  or 0-row file, an unknown suffix, a missing column: :class:`~creditmodel.errors.InputError`, exit 2). A Parquet
  file (``.parquet``, ``.pq``) is read by Spark as it is. Any other file (CSV, ``.csv.gz``, ``.txt``, ARFF) is read
  by the in-process reader (:func:`creditmodel.scoring.score.iter_chunks`: encoding guess incl. GB 18030, null
  markers such as ``NA``, quoted newlines, doubled quotes, ids and categories as written) in chunks of
  :data:`CONVERT_ROWS` rows and written as Parquet into a temporary folder beside ``--out``; Spark reads that
  (its own CSV reader read such files otherwise: rows, ids and scores differed).
* **executors**: the loaded model's own ``score_frame`` in a pandas UDF (:mod:`creditmodel.scoring.spark_udf`; the
  workers use this interpreter, ``PYSPARK_PYTHON``) on a struct of the model's input columns, not
  ``mlflow.pyfunc.spark_udf`` (MLflow's schema enforcement on every batch took 12 times the scoring's own time:
  see the UDF's module). The scored rows are written as Parquet part files into the same temporary folder.
* **driver** again: the part files are read back from that folder, in input order, one part at a time, with the
  id checks (empty, repeated ids; invalid ``uscc``/``as_of_date``) and, for a registry alias, the pricing, and
  written to ``--out`` with the same columns as in-process scoring.

So the input and the temporary folder (beside ``--out``) must be at the same paths for the driver and every
executor: local mode (``local[N]``, the default ``local[2]``: everything on this machine), or a cluster whose
machines all mount the input's and ``--out``'s folders at the same paths. On a cluster without such a shared file
system the executors cannot read the input (Spark's job fails), or the driver finds only some part files: the rows
assembled are counted against the rows read and any difference stops the command (RuntimeError naming both counts,
exit 1; nothing written), never fewer rows in the output. The driver reads and writes every row itself (the CSV
conversion, the assembly): Spark spreads the scoring only.

The master is ``local[2]`` by default; any Spark master URL works (``--spark-master`` or
``$CREDITMODEL_SPARK_MASTER``); the driver's memory is ``$CREDITMODEL_SPARK_DRIVER_MEMORY`` (default ``2g``).
``--chunk-rows`` is not used: Spark splits the work by Parquet row groups. Spark is an optional extra:
``pip install creditmodel[spark]``.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from creditmodel import tracking
from creditmodel.errors import InputError, separator_hint
from creditmodel.scoring.score import BLANK_ROW  # the in-process engine's reason of a row of blanks

log = logging.getLogger(__name__)

BLANK_COL = "__creditmodel_blank__"
NEEDS_PYSPARK = "the Spark engine needs pyspark (and Java): pip install 'creditmodel[spark]' (make test installs it)"
ORDER_COL = "__creditmodel_row"
#: prefix of the columns carrying the numeric inputs with a training range through Spark (``<prefix><i>``)
RANGE_PREFIX = "__creditmodel_range_"


_PANDAS_WARNING = "PySpark does not yet fully support pandas"


@contextlib.contextmanager
def _quiet_pyspark_pandas_warning(workers: bool = False) -> Iterator[None]:
    """PySpark warns at every import that it does not yet fully support pandas 3 (a FutureWarning on the command's
    stderr, four times): the engine's results are tested equal to in-process scoring on every column, so the warning
    is not the user's to act on. Ignored within the block only (the caller's warning filters come back after it);
    with ``workers`` (around the start of Spark's JVM, whose Python workers inherit its environment) the filter is
    also put into ``PYTHONWARNINGS`` for the block, and the variable is restored after it (it was left changed for
    the rest of the process, and every process it started: a reviewer's finding)."""
    import warnings

    rule = f"ignore:{_PANDAS_WARNING}:FutureWarning"
    before = os.environ.get("PYTHONWARNINGS")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
        if workers and rule not in (before or ""):
            os.environ["PYTHONWARNINGS"] = f"{before},{rule}" if before else rule
        try:
            yield
        finally:
            if workers:
                if before is None:
                    os.environ.pop("PYTHONWARNINGS", None)
                else:
                    os.environ["PYTHONWARNINGS"] = before


def spark_session(master: str | None = None, app: str = "creditmodel") -> Any:
    """A Spark session for scoring (quiet, loopback-only, this interpreter on the workers)."""
    with _quiet_pyspark_pandas_warning(workers=True):
        return _spark_session(master, app)


def _spark_session(master: str | None, app: str) -> Any:
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
    """Score ``data`` (Parquet, or a CSV / text file the in-process engine reads) through Spark; same rows, output
    columns and order as in-process: for a registry alias (``models:/NAME@ALIAS``) the whole bank deliverable,
    priced with ``pricing_config``, as :func:`creditmodel.delivery.deliver_file` writes it.

    The input is checked as in process before a Spark session starts (a missing, empty, header-only or 0-row file,
    an unknown suffix: :class:`InputError`); a file that is not Parquet is read on the driver by the in-process
    reader and written as Parquet for Spark (:func:`_to_parquet`). Raises RuntimeError when the rows assembled from
    Spark's part files are not the rows read (part files the driver cannot see)."""
    with _quiet_pyspark_pandas_warning():
        return _score_file_spark(resolved, data, out, id_col=id_col, master=master, spark=spark,
                                 pricing_config=pricing_config)


def _score_file_spark(resolved: Any, data: Path, out: Path, id_col: str | None = None, master: str | None = None,
                      spark: Any = None, pricing_config: str | Path | None = None) -> Any:
    try:
        from pyspark.sql import functions as F
    except ImportError as e:  # the message spark_session gives, before anything else is read
        raise InputError(NEEDS_PYSPARK, parameter="--engine") from e

    from creditmodel.data.io import _kind
    from creditmodel.delivery import DELIVERY_INPUTS, Delivery, scored_at_now, warn_missing_identifiers
    from creditmodel.scoring.model import SCORE_COLUMNS
    from creditmodel.scoring.pyfunc import spark_result_type
    from creditmodel.scoring.spark_udf import scoring_udf
    from creditmodel.scoring.score import (IN_DEFAULT, PASSTHROUGH, ChunkSummary, ScoreResult, _text_columns,
                                           check_input_file, open_parquet)

    t0 = time.perf_counter()
    data, out = Path(data), Path(out)
    check_input_file(data)   # the in-process engine's checks and messages (not found, a folder, ...)
    kind = _kind(data)       # .parquet and .pq are Parquet; .csv, .csv.gz, .csv.bz2, .txt, .arff are not
    model = resolved.model
    deliver = resolved.alias is not None  # a registry alias: the bank deliverable, priced
    keep: list[str] = []

    def columns_read(columns: list[str]) -> list[str]:
        """The input's checks on its header (as in process: the id, then the model's columns); the columns
        Spark needs, in the file's order."""
        if id_col and id_col not in columns:
            raise InputError(f"id column {id_col!r} not found{separator_hint(columns)}", file=data, column=id_col)
        missing = [c for c in model.input_spec.columns if c not in columns]
        if missing:
            raise InputError(f"missing column(s) the model needs: {missing}{separator_hint(columns)}", file=data,
                             column=missing[0])
        if deliver:
            warn_missing_identifiers(columns, data, id_col)
        keep[:] = [c for c in dict.fromkeys([id_col, *PASSTHROUGH, *(DELIVERY_INPUTS if deliver else ()),
                                             IN_DEFAULT]) if c and c in columns]
        needed = set(model.input_spec.columns) | set(keep)
        return [c for c in columns if c in needed]

    nanos: dict[str, Any] = {}
    # beside --out, which the executors must reach too (see the module's docstring): a folder --out names that did
    # not exist yet put it in the system's temporary folder (helper h169's finding); in process writes it anyway
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="creditmodel-spark-", dir=out.parent))
    try:
        if kind == "parquet":
            pf = open_parquet(data)   # unreadable, 0 rows: as in process (names and nesting: check_input_file)
            n_in, names = int(pf.metadata.num_rows), list(pf.schema_arrow.names)
            nanos = _nanosecond_timestamps(data)
            columns_read(names)
            source = data
        else:
            source = tmp / "input.parquet"
            n_in = _to_parquet(data, source, _text_columns(model, id_col), columns_read)
        sha = tracking.file_sha256(data)
        when = scored_at_now()
        own = spark is None
        spark = spark or spark_session(master)
        as_long = None   # a caller's session gets its setting back (it was left changed: helper h169's finding)
        try:
            if any(unit == NANOS for unit, _ in nanos.values()):
                # Spark cannot read TIMESTAMP(NANOS) (pandas' default); read those columns as int64
                # nanoseconds and turn them back into timestamps when the parts are assembled
                as_long = (spark.conf.get(NANOS_AS_LONG, None),)
                spark.conf.set(NANOS_AS_LONG, "true")
            sdf = spark.read.parquet(str(source))
            udf = scoring_udf(model, spark_result_type(), list(SCORE_COLUMNS))
            sdf = sdf.withColumn(ORDER_COL, F.monotonically_increasing_id())
            feats = [_col(c) for c in model.input_spec.columns]
            blank = _blank_row(sdf, list(model.input_spec.columns))  # a line of commas
            # the numeric inputs with a training range, as numbers (a text cell: null, a row error already), for
            # the warning on values outside that range (as in process: ChunkSummary)
            # try_cast in SQL: Spark 3.2 on (Column.try_cast is Spark 4's; pyproject allows pyspark 3.5)
            ranged = [F.expr(f"try_cast(`{c.replace('`', '``')}` AS DOUBLE)").alias(f"{RANGE_PREFIX}{i}")
                      for i, c in enumerate(ChunkSummary(model).ranges)]
            scored = sdf.select(_col(ORDER_COL), *[_col(c) for c in keep], blank.alias(BLANK_COL), *ranged,
                                udf(F.struct(*feats)).alias("s"))
            # no sort: a global sort's range partitioner sampled the whole plan, UDF included, so every row was
            # scored twice (reviewer's finding); a projection keeps each input partition's row order, _assemble
            # orders the part files by their first row number and checks the order as it reads them
            scored = scored.select(_col(ORDER_COL), *[_col(c) for c in keep], _col(BLANK_COL),
                                   *[_col(f"{RANGE_PREFIX}{i}") for i in range(len(ranged))], "s.*")
            scored.write.mode("overwrite").parquet(str(tmp / "part"))
        finally:
            if own:
                spark.stop()
            elif as_long is not None:
                if as_long[0] is None:
                    spark.conf.unset(NANOS_AS_LONG)
                else:
                    spark.conf.set(NANOS_AS_LONG, as_long[0])
        # the driver reads the part files from its own file system: see the module's docstring
        parts = _in_input_order(sorted((tmp / "part").glob("part-*.parquet")))
        if deliver:
            delivery = Delivery(resolved, data, out, id_col=id_col, pricing_config=pricing_config)
            _assemble(parts, out, resolved, sha, when, nanos, id_col=id_col, delivery=delivery,
                      rows_read=n_in, folder=tmp, file=data)
            return delivery.finish()
        rows, ok = _assemble(parts, out, resolved, sha, when, nanos, id_col=id_col, rows_read=n_in, folder=tmp,
                             file=data)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ScoreResult(out, rows, ok, rows - ok, time.perf_counter() - t0, resolved.model.name,
                       str(resolved.version), {"scores": out})


def _col(name: str) -> Any:
    """Column ``name`` as written (a dot or a space in a name is not Spark's syntax)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _blank_row(sdf: Any, columns: list[str]) -> Any:
    """True where every one of ``columns`` is empty, as in process (``score.RowChecks``): null, NaN in a floating
    column, text of blanks in a text column; one test per column, ANDed (a ``coalesce`` over number and text
    columns cast the text to DOUBLE and failed under Spark's ANSI mode on a category 'F': reviewer's finding)."""
    from functools import reduce

    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    def empty(c: str) -> Any:
        col, kind = _col(c), sdf.schema[c].dataType
        if isinstance(kind, (T.DoubleType, T.FloatType)):
            return col.isNull() | F.isnan(col)
        if isinstance(kind, T.StringType):
            return col.isNull() | col.rlike(r"(?U)^\s*$")   # (?U): Unicode blanks, as Python's str.strip
        return col.isNull()

    return reduce(lambda a, b: a & b, [empty(c) for c in columns])


#: Rows of a CSV read at a time when it is written as Parquet for Spark: the in-process engine's default chunk
#: (``--chunk-rows``), so a column is typed on the same rows as in process.
CONVERT_ROWS = 500_000
#: Rows per Parquet row group of that file: Spark's read tasks split a file at row groups.
CONVERT_ROW_GROUP = 100_000


def _to_parquet(data: Path, dest: Path, text_columns: tuple[str, ...], columns_read: Any) -> int:
    """Write a CSV (or another file that is not Parquet) as the Parquet file ``dest`` as the in-process engine reads
    it: :func:`creditmodel.scoring.score.iter_chunks` (encoding guess incl. GB 18030, null markers such as NA,
    quoted newlines, doubled quotes, cells of spaces; the id, identifiers and categories as text), chunk by chunk
    on the driver, with its checks and messages. ``columns_read`` checks the header and names the columns kept.
    A column typed differently in two chunks (numbers in one, text in another) is text throughout (its numbers
    written so that they read back exactly). Returns the rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from creditmodel.scoring.score import iter_chunks

    t0 = time.perf_counter()
    files: list[Path] = []
    schemas: list[Any] = []
    rows, keep = 0, None
    try:
        for i, chunk in enumerate(iter_chunks(data, CONVERT_ROWS, text_columns=text_columns)):
            if keep is None:
                keep = columns_read(list(chunk.columns))
            table = pa.Table.from_pandas(chunk[keep], preserve_index=False).replace_schema_metadata(None)
            files.append(dest.with_name(f"{dest.stem}-{i:05d}.parquet"))
            pq.write_table(table, files[-1], row_group_size=CONVERT_ROW_GROUP)
            schemas.append(table.schema)
            rows += table.num_rows
        if rows == 0:
            raise InputError("no data rows", file=data)
        fields = []
        for j, name in enumerate(schemas[0].names):
            types = {s.field(j).type for s in schemas} - {pa.null()}   # a column of only empty cells fits any type
            fields.append(pa.field(name, types.pop() if len(types) == 1 else pa.large_string()))
        schema = pa.schema(fields)
        if len(files) == 1 and schemas[0].equals(schema):
            files[0].replace(dest)
        else:
            with pq.ParquetWriter(dest, schema) as writer:
                for f in files:
                    writer.write_table(pq.read_table(f).cast(schema), row_group_size=CONVERT_ROW_GROUP)
                    f.unlink()
    finally:
        for f in files:
            f.unlink(missing_ok=True)
    log.info("%s: %d rows read as in process and written as Parquet for Spark in %.1f s", data, rows,
             time.perf_counter() - t0)
    return rows


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


#: the unit of a timestamp column that Spark reads as int64 (:data:`NANOS_AS_LONG`)
NANOS = "ns"
NANOS_AS_LONG = "spark.sql.legacy.parquet.nanosAsLong"


def _nanosecond_timestamps(data: Path) -> dict[str, Any]:
    """Timestamp columns of a Parquet file that Spark does not hand back as they were: name -> (unit, time zone or
    None) of every nanosecond column (Spark reads them as int64 nanoseconds) and of every column with a time zone
    in another unit (Spark writes the instant back without its zone: a microsecond ``Asia/Shanghai`` date came
    back naive at its UTC wall time, a day early as a date; helper h169's finding)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(data)
    except (OSError, pa.ArrowInvalid) as e:
        raise InputError(f"unreadable Parquet file: {e}", file=data) from e
    return {f.name: (f.type.unit, f.type.tz) for f in schema
            if pa.types.is_timestamp(f.type) and (f.type.unit == NANOS or f.type.tz is not None)}


def _clean(pdf: Any, resolved: Any, sha: str, when: Any, nanos: dict[str, Any] | None = None) -> Any:
    """One batch of Spark's output in the in-process column types."""
    import pandas as pd

    from creditmodel.scoring.score import in_deliverable_order

    pdf = pdf.drop(columns=[ORDER_COL])
    for c, (unit, tz) in (nanos or {}).items():
        if c not in pdf:
            continue
        if unit == NANOS:
            pdf[c] = pd.to_datetime(pdf[c], unit="ns", utc=tz is not None)
        else:   # Spark keeps a timestamp as its UTC instant and writes it back without the zone
            v = pd.to_datetime(pdf[c])
            pdf[c] = v.dt.tz_localize("UTC") if v.dt.tz is None else v
        if tz is not None:
            pdf[c] = pdf[c].dt.tz_convert(tz)
    pdf["score"] = pd.array(pdf["score"], dtype="Float64").astype("Int64")
    pdf["model_version"] = str(resolved.version)
    pdf["data_sha256"] = sha
    pdf["scored_at"] = when
    return in_deliverable_order(pdf)


def _assemble(parts: list[Path], out: Path, resolved: Any, sha: str, when: Any,
              nanos: dict[str, Any] | None = None, id_col: str | None = None, delivery: Any = None,
              rows_read: int | None = None, folder: Path | None = None,
              file: Path | None = None) -> tuple[int, int]:
    """Stream Spark's ordered part files into ``out`` (Parquet or CSV) one part at a time; the id checks of the
    in-process engine (empty or repeated ``id_col``; for a ``delivery``, also an invalid ``uscc`` or
    ``as_of_date``) run here, over the parts in input order. A ``delivery`` takes each part instead of ``out``.
    After the last part, the in-process engine's warnings on the input ``file`` (:class:`ChunkSummary`: rows that
    could not be scored, values outside the training range; a ``delivery`` gives them when it finishes).

    ``rows_read`` (the input's rows): RuntimeError naming both counts when the parts hold another number of rows
    (part files the driver did not see: written on another machine's disk); nothing is written then (a
    ``delivery``'s partial files are removed, and it is not finished)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from creditmodel.delivery import SCORED_AT_CSV_FORMAT
    from creditmodel.scoring.score import IN_DEFAULT, ChunkSummary, RowChecks, apply_in_default, apply_row_errors

    # a uscc or as_of_date column is checked as in process (for a delivery: one row per enterprise and date)
    checks = RowChecks(id_col, identifiers=True, deliverable=delivery is not None,
                       today=getattr(delivery, "when", None))
    summary = delivery.summary if delivery is not None else ChunkSummary(resolved.model)   # finish() warns
    ranged = {f"{RANGE_PREFIX}{i}": c for i, c in enumerate(summary.ranges)}

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
            values = pd.DataFrame({c: pdf.pop(k) for k, c in ranged.items() if k in pdf.columns}, index=pdf.index)
            blank = pdf.pop(BLANK_COL).to_numpy(dtype=bool)
            pdf = apply_in_default(pdf, pdf)   # as in process (before the id checks): in_default is grade D, PD 1
            msg = checks.messages(pdf)
            msg[blank] = BLANK_ROW  # first, as the in-process engine
            summary.add(values, pdf, refused=pd.notna(msg))   # the statuses before the row checks (as in process)
            pdf = apply_row_errors(pdf, msg)
            if delivery is None:
                pdf = pdf.drop(columns=[IN_DEFAULT], errors="ignore")  # read, not written (as in process)
            first = rows == 0
            rows += len(pdf)
            if delivery is not None:
                delivery.add(pdf, pdf)
                continue
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
        if rows_read is not None and rows != rows_read:
            raise RuntimeError(
                f"{rows_read} rows read from the input but {rows} scored rows found in Spark's part files"
                f"{f' in {folder}' if folder else ''}: the driver reads the part files from its own disk, so the "
                "executors must write them where it sees them (local mode, or --out's folder on a file system every "
                "machine of the cluster mounts at the same path); nothing was written")
    except BaseException:
        if writer is not None:
            writer.close()
            writer = None
        partial.unlink(missing_ok=True)   # no half-written output left behind (as in process)
        if delivery is not None:
            _discard(delivery)
        raise
    finally:
        if writer is not None:
            writer.close()
    if delivery is None:
        summary.warn(file if file is not None else out)
        if rows == 0:   # never reached: an input of 0 rows is refused before Spark starts
            raise RuntimeError("Spark returned no scored rows")
        partial.replace(out)
    return rows, ok


def _discard(delivery: Any) -> None:
    """Close and remove a delivery's partial files (a failed assembly leaves no half deliverable)."""
    writer = getattr(delivery, "writer", None)
    inner = getattr(writer, "_writer", None)
    if inner is not None:
        try:
            inner.close()
        except Exception:  # noqa: BLE001  already failing: the first error is the one to report
            pass
    for p in (getattr(writer, "_tmp", None) or {}).values():
        Path(p).unlink(missing_ok=True)
