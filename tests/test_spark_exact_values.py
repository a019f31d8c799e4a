"""``creditmodel score --engine spark`` (scoring/spark.py): exact values a user sees, derived by hand.

A mutation pass over the Spark engine left these unchecked: the id check's message; which input columns reach a
model folder's output (the passed-through identifiers yes, an ``in_default`` or a pricing input no); the rows-error
count; the CSV's BOM and ``scored_at`` text; the temporary folder beside ``--out``; the duplicate-id check across
Spark's part files; the order checks on the part files (refused when out of input order, never written silently);
the row-count error's folder and its last words; a nanosecond date's zone (or its lack of one) and the score as an
integer in a Parquet output; the ordering of part files by their first row number (not their names) and an empty
part; the CSV conversion's chunks (every row kept; a column empty in one chunk still numbers; an ARFF of no rows);
PYTHONWARNINGS restored when it was unset. One test was a bug the pass found, fixed: a time-zone-aware microsecond
date lost its zone. One local Spark session (``local[1]``) serves the module; the tests that need no JVM
(the helpers on Parquet files, the checks before Spark starts) run without one.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditmodel.errors import InputError

NEEDS_PYSPARK = "the Spark engine needs pyspark: pip install 'creditmodel[spark]'"
BLANK = "every column the model uses is empty (a blank line?)"
BOM = b"\xef\xbb\xbf"


def _needs_spark() -> None:
    """Skip (with the reason) where pyspark or Java is missing, as tests/test_spark_scoring.py does."""
    pytest.importorskip("pyspark.sql.functions", reason=NEEDS_PYSPARK)
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("the Spark engine needs Java")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A scorecard on two numbers and a category (x1, x2, kind), trained with the id column ``id``."""
    pytest.importorskip("pyspark.sql.functions", reason=NEEDS_PYSPARK)
    from model_factory import train_small, with_outcome

    from creditmodel.scoring.score import resolve_model

    rng = np.random.default_rng(0)
    n = 600
    x1, x2 = rng.normal(size=n), rng.uniform(0, 10, n)
    kind = rng.choice(["A", "B", "C"], n)
    frame = with_outcome(rng, {"x1": x1, "x2": x2, "kind": kind}, -2.0 + 1.3 * x1 - 0.1 * x2 + 0.8 * (kind == "C"))
    out = train_small(tmp_path_factory, frame, id_col="id", name="spark_exact")
    resolved = resolve_model(out / "model")
    assert list(resolved.model.input_spec.columns) == ["x1", "x2", "kind"]
    return resolved


@pytest.fixture(scope="module")
def spark(model):
    _needs_spark()
    from creditmodel.scoring.spark import spark_session

    session = spark_session("local[1]", app="test_spark_exact_values")
    yield session
    session.stop()


@pytest.fixture
def several_parts(spark):
    """Spark's input split into partitions of about 2 kB (several part files from one small Parquet file)."""
    spark.conf.set("spark.sql.files.maxPartitionBytes", "2k")
    yield spark
    spark.conf.unset("spark.sql.files.maxPartitionBytes")


def _apps(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": [f"N{i:04d}" for i in range(n)], "x1": rng.normal(size=n).round(3),
                         "x2": rng.uniform(0, 10, n).round(2), "kind": rng.choice(["A", "B", "C"], n)})


def _parquet(df: pd.DataFrame, path: Path, row_group: int = 10) -> Path:
    df.to_parquet(path, index=False, row_group_size=row_group)
    return path


def _parts_seen(engine):
    """(counts, spy): ``spy`` wraps engine._in_input_order and appends how many part files it returned to
    ``counts``."""
    seen: list[int] = []
    real = engine._in_input_order

    def spy(parts):
        found = real(parts)
        seen.append(len(found))
        return found
    return seen, spy


# --------------------------------------------------------------------------- 1. a small CSV, every cell by hand
CSV = """app.id,x1,x2,kind,as_of_date,amount,in_default,note
A01,0.5,3,A,2025-06-30,1000,0,zz
A02,,,,2025-06-30,1000,0,zz
,0.1,4,B,2025-06-30,1000,0,zz
A01,0.2,5,C,2025-06-30,1000,0,zz
A05,abc,5,C,2025-06-30,1000,0,zz
A06,1.0,2,B,2025-06-30,1000,1,zz
A07,-0.3,7,A,2025-06-31,1000,0,zz
A08,0.3,9,C,2025-06-30,1000,0,zz
"""


@pytest.mark.spark
def test_a_small_csv_scores_to_these_rows_columns_and_counts(model, spark, tmp_path, monkeypatch):
    """By hand, row by row (1-based rows of the file):
    1 ok; 2 a line of empty model columns: the blank-line error; 3 empty id; 4 id A01 again: 'first on row 1';
    5 x1 'abc': not a number; 6 in_default 1: ok, grade D, PD 1; 7 2025-06-31: not a date; 8 ok.
    So 8 rows, 3 ok, 5 errors. Columns: as_of_date (passed through), the scores, model_name .. error, then the
    --id 'app.id' (a dot: Spark's column syntax needs it quoted); not in_default (read, not written), not amount (a
    pricing input: deliverable only), not note. The CSV starts with a BOM and scored_at is ISO 8601 UTC with a Z.
    The temporary folder is made in --out's folder and removed."""
    import creditmodel.scoring.spark as engine

    src = tmp_path / "in.csv"
    src.write_text(CSV, encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*a, **k):
        made.append(Path(real_mkdtemp(*a, **k)))
        return str(made[-1])
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    res = engine.score_file_spark(model, src, out_dir / "s.csv", id_col="app.id", spark=spark)
    assert (res.rows, res.rows_ok, res.rows_error) == (8, 3, 5)
    assert res.out == out_dir / "s.csv" and res.files == {"scores": out_dir / "s.csv"}
    assert res.model_version == model.version
    assert len(made) == 1 and made[0].parent == out_dir and made[0].name.startswith("creditmodel-spark-")
    assert not made[0].exists() and sorted(p.name for p in out_dir.iterdir()) == ["s.csv"]

    raw = (out_dir / "s.csv").read_bytes()
    assert raw[:3] == BOM and raw.count(BOM) == 1
    got = pd.read_csv(out_dir / "s.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(got.columns) == ["as_of_date", "score", "grade", "pd_12m", "reason_1", "reason_2", "reason_3",
                                 "model_name", "model_version", "data_sha256", "scored_at", "status", "error",
                                 "app.id"]
    assert got["app.id"].tolist() == ["A01", "A02", "", "A01", "A05", "A06", "A07", "A08"]
    assert got["as_of_date"].tolist() == ["2025-06-30"] * 6 + ["2025-06-31", "2025-06-30"]
    assert got["status"].tolist() == ["ok", "error", "error", "error", "error", "ok", "error", "ok"]
    assert got["error"].tolist() == ["", BLANK, "column 'app.id': the id is empty",
                                     "column 'app.id': duplicate id 'A01', first on row 1",
                                     "column 'x1': 'abc' is not a number", "",
                                     "column 'as_of_date': '2025-06-31' is not a date (YYYY-MM-DD)", ""]
    err = got["status"] == "error"
    assert (got.loc[err, ["score", "grade", "pd_12m"]] == "").all().all()
    assert (got.loc[5, "grade"], got.loc[5, "pd_12m"]) == ("D", "1")
    assert got["model_version"].unique().tolist() == [model.version]
    assert len(set(got["scored_at"])) == 1 and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", got.loc[0, "scored_at"])
    # the scores of the ok rows are the model's own (its score_frame on those rows, in process)
    x = pd.DataFrame({"x1": [0.5, 0.3], "x2": [3.0, 9.0], "kind": ["A", "C"]})
    want = model.model.score_frame(x)
    assert got.loc[[0, 7], "score"].tolist() == [str(int(s)) for s in want["score"]]
    assert got.loc[[0, 7], "grade"].tolist() == [str(g) for g in want["grade"]]


def test_an_id_column_not_in_the_file_is_refused_before_spark_starts(model, tmp_path):
    """--id nope on a file without it: InputError naming the column, before any Spark session (spark=object() would
    fail at its first use); no output, no temporary folder left."""
    from creditmodel.scoring.spark import score_file_spark

    src = tmp_path / "in.csv"
    src.write_text(CSV, encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'nope': id column 'nope' not found$") as e:
        score_file_spark(model, src, tmp_path / "o.csv", id_col="nope", spark=object())
    assert e.value.column == "nope" and e.value.file == src
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.spark
def test_a_model_folder_passes_uscc_as_of_date_and_loan_id_through_without_an_id(model, spark, tmp_path):
    """Without --id (and no 'id' column, the model's own id): loan_id, uscc and as_of_date are still written (the
    in-process engine's pass-through), the deliverable's columns order (uscc, as_of_date first), loan_id last."""
    from creditmodel.scoring.spark import score_file_spark

    df = _apps(3).drop(columns="id")
    df.insert(0, "loan_id", ["L1", "L2", "L3"])
    df["uscc"] = ["", "", ""]
    df["as_of_date"] = ["2025-01-31", "2025-02-28", "2025-03-31"]
    src = tmp_path / "in.csv"
    df.to_csv(src, index=False)
    res = score_file_spark(model, src, tmp_path / "o.csv", spark=spark)
    got = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert list(got.columns)[:2] == ["uscc", "as_of_date"] and list(got.columns)[-1] == "loan_id"
    assert got["loan_id"].tolist() == ["L1", "L2", "L3"]
    assert got["as_of_date"].tolist() == ["2025-01-31", "2025-02-28", "2025-03-31"]
    assert (res.rows, res.rows_ok) == (3, 3)


# --------------------------------------------------------------------------- 2. several part files
@pytest.mark.spark
def test_a_repeated_id_in_a_later_part_file_names_its_first_row(model, several_parts, tmp_path, monkeypatch):
    """120 rows in row groups of 10, read as several partitions: the id of row 6 (1-based) is repeated on row 115
    and the id of row 57 on row 58; each repeat is an error naming the first row; the ids come back in input order;
    the CSV has one header line and one BOM however many part files it was assembled from (121 lines)."""
    import creditmodel.scoring.spark as engine

    df = _apps(120)
    df.loc[114, "id"] = df.loc[5, "id"]      # row 115 repeats row 6 (N0005)
    df.loc[57, "id"] = df.loc[56, "id"]      # row 58 repeats row 57 (N0056)
    src = _parquet(df, tmp_path / "apps.parquet")
    seen, spy = _parts_seen(engine)
    monkeypatch.setattr(engine, "_in_input_order", spy)
    res = engine.score_file_spark(model, src, tmp_path / "o.csv", id_col="id", spark=several_parts)
    assert seen and seen[0] > 2, seen        # the repeats lie in other part files than their first rows
    raw = (tmp_path / "o.csv").read_bytes()
    assert raw.count(BOM) == 1 and raw.count(b"model_version") == 1 and raw.count(b"\n") == 121
    got = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert got["id"].tolist() == df["id"].tolist()
    bad = got.index[got["status"] == "error"].tolist()
    assert bad == [57, 114]
    assert got.loc[114, "error"] == "column 'id': duplicate id 'N0005', first on row 6"
    assert got.loc[57, "error"] == "column 'id': duplicate id 'N0056', first on row 57"
    assert (res.rows, res.rows_ok, res.rows_error) == (120, 118, 2)


def _no_output_left(tmp_path: Path) -> None:
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["apps.parquet"], left


@pytest.mark.spark
def test_part_files_out_of_input_order_are_refused_not_written(model, several_parts, tmp_path, monkeypatch):
    """Part files handed to the assembly last-first: the first row of the second is before the last of the first;
    RuntimeError, no output, no partial file, no temporary folder."""
    import creditmodel.scoring.spark as engine

    src = _parquet(_apps(120), tmp_path / "apps.parquet")
    real = engine._in_input_order
    monkeypatch.setattr(engine, "_in_input_order", lambda parts: real(parts)[::-1])
    with pytest.raises(RuntimeError, match=r"^Spark returned the scored rows out of input order$"):
        engine.score_file_spark(model, src, tmp_path / "o.csv", id_col="id", spark=several_parts)
    _no_output_left(tmp_path)


@pytest.mark.spark
@pytest.mark.parametrize("shuffle", ["reversed_in_a_part", "interleaved_parts"])
def test_rows_out_of_order_within_or_across_batches_are_refused(model, spark, tmp_path, monkeypatch, shuffle):
    """Spark's batches rearranged before the assembly: one batch's rows reversed (row numbers falling within a
    part), or one batch split into its even and its odd rows (the second starts at row 1, before the first's last
    row, 38): RuntimeError either way, nothing written."""
    import creditmodel.scoring.spark as engine

    src = _parquet(_apps(40), tmp_path / "apps.parquet", row_group=40)
    real = engine._batches

    def rearranged(parts):
        for pdf in real(parts):
            if shuffle == "reversed_in_a_part":
                yield pdf.iloc[::-1].reset_index(drop=True)
            else:
                yield pdf.iloc[0::2].reset_index(drop=True)
                yield pdf.iloc[1::2].reset_index(drop=True)
    monkeypatch.setattr(engine, "_batches", rearranged)
    with pytest.raises(RuntimeError, match=r"^Spark returned the scored rows out of input order$"):
        engine.score_file_spark(model, src, tmp_path / "o.csv", id_col="id", spark=spark)
    _no_output_left(tmp_path)


@pytest.mark.spark
def test_the_row_count_error_names_the_folder_and_says_nothing_was_written(model, several_parts, tmp_path,
                                                                            monkeypatch):
    """The last part file hidden from the driver: '120 rows read from the input but N scored rows found in Spark's
    part files in <the temporary folder beside --out>: ... nothing was written' (N = 120 - the hidden part's rows)."""
    import creditmodel.scoring.spark as engine

    src = _parquet(_apps(120), tmp_path / "apps.parquet")
    hidden = []
    real = engine._in_input_order

    def last_hidden(parts):
        found = real(parts)
        hidden.append(pq.read_metadata(found[-1]).num_rows)
        return found[:-1]
    monkeypatch.setattr(engine, "_in_input_order", last_hidden)
    with pytest.raises(RuntimeError) as e:
        engine.score_file_spark(model, src, tmp_path / "o.csv", id_col="id", spark=several_parts)
    msg = str(e.value)
    assert 0 < hidden[0] < 120
    m = re.fullmatch(r"120 rows read from the input but (\d+) scored rows found in Spark's part files in (\S+): "
                     r"the driver reads .*; nothing was written", msg)
    assert m, msg
    assert int(m.group(1)) == 120 - hidden[0]
    folder = Path(m.group(2))
    assert folder.parent == tmp_path and folder.name.startswith("creditmodel-spark-") and not folder.exists()
    _no_output_left(tmp_path)


# --------------------------------------------------------------------------- 3. time zones
@pytest.mark.spark
@pytest.mark.parametrize("tz", [None, "Asia/Shanghai"], ids=["naive", "shanghai"])
def test_a_nanosecond_date_keeps_its_zone_or_its_lack_of_one(model, spark, tmp_path, tz):
    """as_of_date as nanosecond timestamps, naive or in Asia/Shanghai: Spark reads them as int64 nanoseconds; the
    output holds the same dates with the same zone (2025-06-30 00:00 +08:00 is not written as 2025-06-29 16:00
    UTC; a naive date stays naive, not UTC)."""
    from creditmodel.scoring.spark import score_file_spark

    df = _apps(4)
    dates = pd.to_datetime(["2025-06-30", "2025-07-31", "2025-08-31", "2025-09-30"])
    df["as_of_date"] = (dates.tz_localize(tz) if tz else dates).as_unit("ns")
    src = _parquet(df, tmp_path / "apps.parquet")
    assert pq.read_schema(src).field("as_of_date").type == pa.timestamp("ns", tz=tz)
    score_file_spark(model, src, tmp_path / "o.parquet", id_col="id", spark=spark)
    got = pd.read_parquet(tmp_path / "o.parquet")
    assert pq.read_schema(tmp_path / "o.parquet").field("score").type == pa.int64()   # an integer, as in process
    assert got["id"].tolist() == ["N0000", "N0001", "N0002", "N0003"]
    assert str(got["as_of_date"].dt.tz) == str(tz)
    zone = "+0800" if tz else ""
    assert [t.strftime("%Y-%m-%d %H:%M%z") for t in got["as_of_date"]] == [
        f"2025-06-30 00:00{zone}", f"2025-07-31 00:00{zone}", f"2025-08-31 00:00{zone}", f"2025-09-30 00:00{zone}"]


@pytest.mark.spark
def test_a_time_zone_aware_microsecond_date_keeps_its_zone(model, spark, tmp_path):
    """Was a bug (h169's finding, fixed): the same dates as the nanosecond test, stored as
    timestamp[us, tz=Asia/Shanghai] (what pandas 3 writes for pd.to_datetime(...).tz_localize(...)): by hand the
    output's first date is 2025-06-30 00:00 +08:00, as the in-process engine writes it; Spark's engine wrote
    2025-06-29 16:00 without a zone (a day earlier as a date)."""
    from creditmodel.scoring.spark import score_file_spark

    df = _apps(4)
    df["as_of_date"] = pd.to_datetime(["2025-06-30", "2025-07-31", "2025-08-31", "2025-09-30"]).tz_localize(
        "Asia/Shanghai").as_unit("us")
    src = _parquet(df, tmp_path / "apps.parquet")
    assert pq.read_schema(src).field("as_of_date").type == pa.timestamp("us", tz="Asia/Shanghai")
    score_file_spark(model, src, tmp_path / "o.parquet", id_col="id", spark=spark)
    got = pd.read_parquet(tmp_path / "o.parquet")
    assert got["as_of_date"].dt.tz is not None and str(got["as_of_date"].dt.tz) == "Asia/Shanghai"
    assert [t.strftime("%Y-%m-%d %H:%M%z") for t in got["as_of_date"]] == [
        "2025-06-30 00:00+0800", "2025-07-31 00:00+0800", "2025-08-31 00:00+0800", "2025-09-30 00:00+0800"]


@pytest.mark.spark
def test_a_caller_s_session_gets_its_setting_back_and_a_new_out_folder_holds_the_temporary_one(model, spark,
                                                                                             tmp_path, monkeypatch):
    """Helper h169's findings: a session passed in kept spark.sql.legacy.parquet.nanosAsLong set after a file with
    nanosecond dates; and with --out in a folder not made yet the temporary folder went to the system's, not
    beside --out (on a cluster: executors writing where the driver does not read)."""
    from creditmodel.scoring import spark as engine

    df = _apps(3)
    df["as_of_date"] = pd.to_datetime(["2025-06-30", "2025-07-31", "2025-08-31"]).as_unit("ns")
    src = _parquet(df, tmp_path / "apps.parquet")
    spark.conf.set(engine.NANOS_AS_LONG, "false")
    made = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*a, **k):
        made.append(k.get("dir"))
        return real_mkdtemp(*a, **k)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    out = tmp_path / "new" / "deeper" / "o.parquet"
    engine.score_file_spark(model, src, out, id_col="id", spark=spark)
    assert spark.conf.get(engine.NANOS_AS_LONG) == "false"      # as the caller had it
    assert made == [out.parent] and out.is_file()
    assert pd.read_parquet(out)["as_of_date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-06-30", "2025-07-31",
                                                                                   "2025-08-31"]


# --------------------------------------------------------------------------- 4. helpers on files, no Spark
def _part(path: Path, rows: list[int]) -> Path:
    from creditmodel.scoring.spark import ORDER_COL

    pq.write_table(pa.table({ORDER_COL: pa.array(rows, pa.int64()), "v": pa.array([1.0] * len(rows))}), path)
    return path


def test_part_files_are_ordered_by_their_first_row_number_not_their_names_and_empty_ones_left_out(tmp_path):
    """part-00000 holds rows from 2^33 (a later input partition), part-00001 rows 0..2, part-00002 none,
    part-00003 rows 2^32..: in input order that is 00001, 00003, 00000; the empty part is not returned (pyarrow
    only: no pyspark needed)."""
    from creditmodel.scoring.spark import _in_input_order

    p0 = _part(tmp_path / "part-00000.parquet", [2**33, 2**33 + 1])
    p1 = _part(tmp_path / "part-00001.parquet", [0, 1, 2])
    p2 = _part(tmp_path / "part-00002.parquet", [])
    p3 = _part(tmp_path / "part-00003.parquet", [2**32 + 5, 2**32 + 6])
    assert _in_input_order([p0, p1, p2, p3]) == [p1, p3, p0]


def test_a_csv_column_empty_in_one_chunk_and_numeric_in_another_is_written_as_numbers(tmp_path, monkeypatch):
    """Chunks of 2 rows: x2 is empty in the first chunk and numbers in the second; x1 numbers in the first and
    'n/a!' in the second (text throughout, its numbers as written). The Parquet file Spark reads: x2 double
    [None, None, 4.5, 6.0], x1 text ['0.25', '-1.5', 'n/a!', '2'], 4 rows returned, the chunk files removed (the
    driver's conversion: no pyspark needed)."""
    import creditmodel.scoring.spark as engine

    monkeypatch.setattr(engine, "CONVERT_ROWS", 2)
    src = tmp_path / "in.csv"
    src.write_text("id,x1,x2,kind\nA,0.25,,A\nB,-1.5,,B\nC,n/a!,4.5,C\nD,2,6,A\n", encoding="utf-8")
    dest = tmp_path / "conv" / "input.parquet"
    dest.parent.mkdir()
    n = engine._to_parquet(src, dest, ("id", "kind"), lambda cols: list(cols))
    assert n == 4
    assert sorted(p.name for p in dest.parent.iterdir()) == ["input.parquet"]
    t = pq.read_table(dest)
    assert t.schema.field("x2").type == pa.float64()
    assert t.column("x2").to_pylist() == [None, None, 4.5, 6.0]
    assert pa.types.is_large_string(t.schema.field("x1").type) or pa.types.is_string(t.schema.field("x1").type)
    assert [float(v) if v != "n/a!" else v for v in t.column("x1").to_pylist()] == [0.25, -1.5, "n/a!", 2.0]
    assert t.column("id").to_pylist() == ["A", "B", "C", "D"]


def test_a_csv_of_several_chunks_of_one_type_keeps_every_row(tmp_path, monkeypatch):
    """Chunks of 2 rows of the same types (5 rows: chunks of 2, 2, 1): the Parquet file Spark reads holds all 5 rows
    in file order, not the first chunk's 2."""
    import creditmodel.scoring.spark as engine

    monkeypatch.setattr(engine, "CONVERT_ROWS", 2)
    src = tmp_path / "in.csv"
    src.write_text("id,x1,x2,kind\nA,1,2,A\nB,3,4,B\nC,5,6,C\nD,7,8,A\nE,9,10,B\n", encoding="utf-8")
    dest = tmp_path / "conv" / "input.parquet"
    dest.parent.mkdir()
    assert engine._to_parquet(src, dest, ("id", "kind"), lambda cols: list(cols)) == 5
    t = pq.read_table(dest)
    assert t.column("id").to_pylist() == ["A", "B", "C", "D", "E"]
    assert t.column("x1").to_pylist() == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["input.parquet"]


def test_an_arff_of_no_data_rows_is_no_data_rows_before_spark(tmp_path):
    """An ARFF file with its attributes and no data: the reader gives one chunk of 0 rows; the conversion refuses it
    (InputError 'no data rows', exit 2) and leaves no chunk file (it would have gone on to Spark with 0 rows)."""
    import creditmodel.scoring.spark as engine

    src = tmp_path / "empty.arff"
    src.write_text("@RELATION t\n@ATTRIBUTE x1 NUMERIC\n@ATTRIBUTE x2 NUMERIC\n@ATTRIBUTE kind {A,B,C}\n@DATA\n",
                   encoding="utf-8")
    dest = tmp_path / "conv" / "input.parquet"
    dest.parent.mkdir()
    with pytest.raises(InputError, match=r"no data rows$") as e:
        engine._to_parquet(src, dest, ("kind",), lambda cols: list(cols))
    assert e.value.file == src
    assert list(dest.parent.iterdir()) == []


@pytest.mark.parametrize("before", [None, "default::DeprecationWarning"], ids=["unset", "set"])
def test_pythonwarnings_holds_the_pandas_filter_only_inside_the_block(monkeypatch, before):
    """Around the JVM's start the filter 'ignore:PySpark does not yet fully support pandas:FutureWarning' is in
    PYTHONWARNINGS (after a value already there, comma-separated); after the block the variable is as before:
    unset stays unset, a value comes back (no JVM needed)."""
    from creditmodel.scoring.spark import _quiet_pyspark_pandas_warning

    rule = "ignore:PySpark does not yet fully support pandas:FutureWarning"
    if before is None:
        monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    else:
        monkeypatch.setenv("PYTHONWARNINGS", before)
    with _quiet_pyspark_pandas_warning(workers=True):
        assert os.environ["PYTHONWARNINGS"] == (f"{before},{rule}" if before else rule)
    assert os.environ.get("PYTHONWARNINGS") == before
