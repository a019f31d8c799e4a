"""Reading the district's tables with schema checks: :func:`read_table`, :func:`load_table`, :func:`load_district`.

* :func:`read_table` reads one CSV (UTF-8 with or without BOM; GB 18030 as a fallback; ``.csv.gz``)
  or Parquet file with pyarrow. A missing, empty, unreadable or corrupt file raises
  :class:`~creditmodel.errors.InputError` naming the file; so does a UTF-8 file with bytes of another encoding
  (naming their line: read as GB 18030 its Chinese text would be garbled).
* :func:`load_table` checks a file against its declared table (:mod:`creditmodel.data.schema`):
  clean rows with the declared dtypes, and every broken rule in a quarantine table. Nothing is dropped
  silently: ``rows in = rows kept + rows quarantined`` is verified on every load.
* :func:`load_district` loads a whole district folder (``<table>.parquet`` or ``<table>.csv``) and adds
  the referential check: a record whose (valid) code is not a registered enterprise is quarantined with
  rule ``unknown_uscc``; one whose enterprise row is itself quarantined gets ``quarantined_enterprise``.
  The clean tables are then referentially consistent: every ``uscc`` is a clean enterprise.

The index of a clean frame is the 0-based data row of the file (``row - 1`` in the quarantine table).
"""
from __future__ import annotations

import csv
import io as _io
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm

from creditmodel.data import schema
from creditmodel.data.tables import DISTRICT_END, TABLES, table
from creditmodel.errors import InputError
from creditmodel.progress import off as progress_off

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
ARFF_SUFFIXES = (".arff",)
#: Files of a district folder that are not tables.
SIDECARS = ("manifest.json", "injected.json")


# --------------------------------------------------------------------------- reading
def _kind(p: Path) -> str:
    name = p.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(ARFF_SUFFIXES):
        return "arff"
    # a spreadsheet is the commonest file a bank or a think tank has at hand: say how to get one of ours from it
    hint = ("; a spreadsheet: save its sheet as CSV UTF-8 (Excel: File > Save As > CSV UTF-8; WPS: 另存为 CSV) or "
            "read it with pandas and write Parquet" if name.endswith((".xlsx", ".xls", ".xlsm", ".et", ".ods")) else "")
    raise InputError(f"unsupported file type; expected one of {CSV_SUFFIXES + PARQUET_SUFFIXES + ARFF_SUFFIXES}"
                     f"{hint}", file=p)


def check_flat_schema(schema: pa.Schema, p: Path) -> None:
    """InputError naming the first column of ``schema`` whose cells hold lists, records or maps (a Parquet
    ``list<...>`` or ``struct<...>`` column): every reader here needs one value per cell (such a column stopped
    ``train`` and ``score`` with a bare TypeError, a new user's finding)."""
    for col in schema:
        t = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        if pa.types.is_nested(t):
            raise InputError(f"holds nested values (Arrow type {t}), not one value per cell: flatten it into "
                             "columns of single values or drop it", file=p, column=col.name)


def check_output_writable(out: Path) -> None:
    """InputError unless a file can be created in ``out``'s folder or, when that is still to be made, in the nearest
    folder on its way that exists; nothing is made. ``score`` and ``train`` check it before the work (``--out
    /proc/x.csv`` ended with exit 1 after every row was scored; a file on the way to ``train``'s folder was said
    after the fit: reviewers' findings)."""
    import tempfile

    near = next((a for a in [out.parent.absolute(), *out.parent.absolute().parents] if a.exists()), None)
    if near is None or not near.is_dir():
        raise InputError(f"the output folder cannot be made: {near} is a file", file=out)
    try:
        with tempfile.NamedTemporaryFile(dir=near, prefix=f".{out.name}.", suffix=".probe"):
            pass
    except OSError as e:
        raise InputError(f"cannot write the output in {near}: {e.strerror or e}", file=out) from None


def check_unique_names(names: list[str], p: Path) -> None:
    """InputError naming the first column name that appears more than once (or the count of unnamed columns)."""
    dup = sorted({h for h in names if names.count(h) > 1})
    if dup:
        if all(not str(h).strip() for h in dup):   # a spreadsheet export's trailing empty columns (fuzzer's finding)
            blank = sum(1 for h in names if not str(h).strip())
            raise InputError(f"{blank} columns have no name (empty header cells: a spreadsheet's trailing empty "
                             "columns?): delete those columns or name them", file=p)
        raise InputError(f"column name(s) {dup} appear more than once", file=p, column=dup[0])


def parquet_frame(tbl: pa.Table | pa.RecordBatch, **to_pandas: Any) -> pd.DataFrame:
    """A Parquet table or batch as a frame of all the file's named columns: a pandas index written with the data
    (``df.set_index('loan_id').to_parquet(...)``) comes back as columns (it was dropped, so ``--id loan_id`` was
    'not found'); an unnamed one (a filtered frame's row labels, ``__index_level_0__``) is not data and is left
    out, as a RangeIndex (named or not) is."""
    df = tbl.to_pandas(**to_pandas)
    stored = set(tbl.schema.names)   # a RangeIndex, named or not, is metadata, not a stored column
    keep = [n for n in df.index.names if n is not None and n in stored and n not in df.columns]
    if keep:
        df = df.reset_index(level=keep)
    return df.reset_index(drop=True)


def _arff_short_row(p: Path) -> tuple[int, int, int, int] | None:
    """(data row, line, values, attributes) of the first @data row of an ARFF file with fewer values than the header
    declares attributes (scipy's reader stopped with a bare IndexError: a reviewer's finding), or None."""
    n_attr, row, in_data = 0, 0, False
    try:
        with open(p, encoding="utf-8", errors="replace") as f:
            for line_no, line in enumerate(f, start=1):
                s = line.strip()
                if not s or s.startswith("%"):
                    continue
                if not in_data:
                    low = s.lower()
                    n_attr += low.startswith("@attribute")
                    in_data = low.startswith("@data")
                    continue
                row += 1
                k = len(next(csv.reader([s], skipinitialspace=True)))
                if k < n_attr:
                    return row, line_no, k, n_attr
    except OSError:
        return None
    return None


def _read_arff(p: Path) -> pd.DataFrame:
    """A Weka ARFF file (the UCI Polish bankruptcy sets): numeric attributes as float64 (``?`` = NaN), nominal
    ones as text (``?`` = missing), read by scipy."""
    from scipy.io import arff

    try:
        data, _meta = arff.loadarff(str(p))
    except (ValueError, arff.ArffError, StopIteration, IndexError, NotImplementedError, OSError) as e:
        short = _arff_short_row(p)
        why = (f"data row {short[0]} (line {short[1]}) has {short[2]} of its {short[3]} values: the file is "
               "truncated or a row lost fields" if short
               else f"{type(e).__name__}: {e or 'no @data section or truncated data'}")
        raise InputError(f"cannot read ARFF: {why}", file=p, row=short[0] if short else None) from e
    df = pd.DataFrame(data)
    for c in df.columns:
        if df[c].dtype == object:  # nominal attributes come as bytes
            df[c] = df[c].map(lambda b: None if b in (b"?", "?") else (b.decode("utf-8") if isinstance(b, bytes)
                                                                        else b)).astype("str")
    return df


#: Characters of three UTF-8 bytes or more (U+0800 and above: Chinese text) decoded before a file's first invalid
#: byte from which the file is taken for UTF-8 with a foreign byte (an error naming its line) rather than for
#: GB 18030 text. A GB 18030 character alone can pass as a 2-byte UTF-8 one (女 as Ů, a reviewer's finding), not as
#: a 3-byte one: that needs two GB 18030 characters to line up, three times before any invalid byte.
UTF8_EVIDENCE_CHARS = 3


def _wide_chars(b: bytes) -> int:
    """Characters at U+0800 or above (the BOM excepted) in ``b``, valid UTF-8: its lead bytes of 3 or 4 (numpy, at
    memory speed; a regular expression over the decoded text read an ASCII file at a tenth of the speed)."""
    if b.isascii():
        return 0
    return int(np.count_nonzero(np.frombuffer(b, dtype=np.uint8) >= 0xE0)) - b.count(b"\xef\xbb\xbf")


def _utf8_scan(p: Path, block: int = 1 << 24) -> tuple[bool, int]:
    """Whether the whole file decodes as UTF-8 (streamed, about 1 GB/s), and how many non-ASCII characters it
    decodes at U+0800 or above before its first invalid byte (counted up to :data:`UTF8_EVIDENCE_CHARS`)."""
    import codecs

    dec = codecs.getincrementaldecoder("utf-8")()
    seen = 0
    with pa.input_stream(str(p), compression="detect") as f:
        while chunk := f.read(block):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                return False, seen + _wide_chars(chunk[: max(e.start, 0)])
            if seen < UTF8_EVIDENCE_CHARS:
                seen += _wide_chars(chunk)
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, seen
    return True, seen


def _foreign_bytes_error(p: Path) -> InputError:
    """A UTF-8 file (UTF-8 Chinese text before the fault) with bytes of another encoding: read as GB 18030, its
    Chinese text would come out garbled (张三 as 寮犱笁) with every row scored as ok."""
    found = _undecodable(p, "utf-8-sig")
    line, row, bad = found if found is not None else ("?", None, b"")
    return InputError(f"line {line} is not UTF-8 (bytes {bad.hex(' ')}) although the text before it is UTF-8 with "
                      "Chinese characters: part of the file was written in another encoding (a "
                      "pasted Windows-1252 or GB 18030 value?); fix that line or save the file as 'CSV UTF-8'",
                      file=p, row=row)


def _csv_encoding_and_header(p: Path) -> tuple[str, list[str]]:
    """The file's encoding (UTF-8 when the whole file decodes as UTF-8, else GB 18030) and its header line.

    The first 64 KiB decide quickly; when they are UTF-8 the rest is checked too, so that Chinese text written in
    GB 18030 further down (after thousands of ASCII rows) is not read as bytes."""
    with pa.input_stream(str(p), compression="detect") as f:
        head = f.read(1 << 16)
        more = bool(f.read(1))
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError("the file is UTF-16 text (Excel's 'Unicode text'); save it as CSV UTF-8", file=p)
    encoding = "utf8"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if more and e.reason == "unexpected end of data":  # a character cut by the 64 KiB boundary (a file that
            # ends there has no cut: a Windows-1252 byte in its last 3 bytes was read as UTF-8 bytes)
            text = head[: e.start].decode("utf-8")
        else:
            if _wide_chars(head[: e.start]) >= UTF8_EVIDENCE_CHARS:
                raise _foreign_bytes_error(p) from None
            encoding = "gb18030"
            text = head.decode("gb18030", errors="replace")
    if encoding == "utf8" and more:
        whole, seen = _utf8_scan(p)
        if not whole:
            if seen >= UTF8_EVIDENCE_CHARS:
                raise _foreign_bytes_error(p)
            encoding = "gb18030"
            text = head.decode("gb18030", errors="replace")
    first = next(csv.reader(_io.StringIO(text.lstrip("\ufeff"), newline=None)), None)  # CR-only lines too
    return encoding, ([] if first is None else first)


class BlankLines:
    """Counts the empty lines of a CSV file, which Arrow's reader skips, so that :meth:`warn` can say so.

    An empty line is not a record and stays skipped (a trailing one is common), but the count and the first line are
    logged: row numbers in messages count data rows, and a bank counting the file's lines should know why they differ.
    One pass over the (decompressed) bytes, 16 MB at a time; a line ends with LF, CRLF or a lone CR ("CSV
    (Macintosh)"); an empty line inside a quoted cell is part of the cell, not skipped. (A fuzzer's findings: CR-only
    and compressed files were not counted, and a quoted cell's empty line was reported as skipped.)"""

    def __init__(self, path: Path, block: int = 1 << 24) -> None:
        self.path, self.count, self.first = path, 0, None
        if path.stat().st_size == 0:
            return
        tail, ends, quotes = b"", 0, 0   # 2 bytes carried into the next block; line ends and quotes before them
        with pa.input_stream(str(path), compression="detect") as f:
            while True:
                blk = f.read(block)
                data = np.frombuffer(tail + blk, dtype=np.uint8)
                last = not blk
                stop = len(data) if last else max(len(data) - 2, 0)   # the last two wait for the next block
                nl, cr = data == 10, data == 13
                end = nl.copy()                            # the byte that ends a line (LF, or a CR not before LF)
                end[:-1] |= cr[:-1] & ~nl[1:]
                end[-1:] |= cr[-1:]
                cand = np.zeros(len(data), dtype=bool)     # a line end followed by another: an empty line
                cand[:-1] = end[:-1] & (nl[1:] | cr[1:])
                cand[stop:] = False
                q = np.flatnonzero(data[:stop] == 34) if (cand.any() or not last) else None
                if cand.any():
                    at = np.flatnonzero(cand)
                    # within a quoted cell when an odd number of quotes came before ("" toggles twice); the quote
                    # parity is only computed at the candidates (a cumulative sum over every byte took 0.5 s per
                    # 60 MB, on every file that score and price read)
                    inside = (quotes + np.searchsorted(q, at, side="left")) % 2 == 1
                    hit = at[~inside]
                    if len(hit):
                        if self.first is None:
                            self.first = ends + int(np.count_nonzero(end[:int(hit[0])])) + 2
                        self.count += len(hit)
                if last:
                    break
                ends += int(np.count_nonzero(end[:stop]))
                quotes += len(q)
                tail = bytes(data[stop:])

    def warn(self) -> None:
        if self.count:
            log.warning("%s: %d empty line(s) skipped (the first is line %d); row numbers in messages count data "
                        "rows, empty lines excluded", self.path, self.count, self.first)


class SpaceLines:
    """Arrow's invalid-row handler for a CSV: a line of only spaces or tabs, quoted or not (an "empty" line that a
    text editor or a spreadsheet left with blanks) is skipped and counted like an empty line; any other row whose
    field count differs from the header's stays an error. (A fuzzer's finding: one such line stopped the whole file with
    "Expected 14 columns, got 1".)"""

    def __init__(self, path: Path) -> None:
        self.path, self.count, self.lines = path, 0, []

    def __call__(self, row) -> str:
        # a quoted blank ("   ", a spreadsheet's empty text cell alone on its line) is such a line too: the error
        # said "Expected 3 columns, got 1" without a row (the row finder below skips it as blank)
        if row.text is not None and not row.text.strip().strip('"').strip():
            self.count += 1
            if row.number is not None and row.number >= 0 and len(self.lines) < 5:  # Arrow gives it when it can
                self.lines.append(int(row.number))
            return "skip"
        return "error"

    def options(self) -> pacsv.ParseOptions:
        return pacsv.ParseOptions(invalid_row_handler=self)

    def warn(self) -> None:
        if self.count:
            if not self.lines:  # Arrow numbers rows only when it reads on one thread: find them in the file
                self.lines = _space_lines(self.path, 5)
            where = (f" (line{'s' if len(self.lines) > 1 else ''} {', '.join(map(str, sorted(self.lines)))}"
                     f"{' ...' if self.count > len(self.lines) else ''} of the file)") if self.lines else ""
            log.warning("%s: %d line(s) of only spaces or tabs skipped as empty lines%s; row numbers in messages "
                        "count data rows, such lines excluded", self.path, self.count, where)


def _space_lines(p: Path, limit: int) -> list[int]:
    """1-based numbers of the first ``limit`` lines of ``p`` holding only spaces, tabs or a quoted blank."""
    import gzip
    import bz2

    found: list[int] = []
    name = p.name.lower()
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    try:
        with opener(p, "rb") as f:
            for i, line in enumerate(f, start=1):
                body = line.rstrip(b"\r\n")
                if body and not body.strip().strip(b'"').strip():
                    found.append(i)
                    if len(found) >= limit:
                        break
    except OSError:
        return []
    return found


def _undecodable(p: Path, encoding: str) -> tuple[int, int, bytes] | None:
    """(line number, data row, offending bytes) of the first line of ``p`` that does not decode as ``encoding``,
    or None. Called only after a read failed to decode, to name the place (Arrow's message gives a position in
    its block); the data row counts non-empty lines after the header (a quoted cell over several lines is not
    taken into account)."""
    import codecs

    dec = codecs.getincrementaldecoder(encoding)()
    row = 0

    def lines(f):   # LF, CRLF and lone-CR line ends ("CSV (Macintosh)" named line 1 whatever the line)
        for raw in _io.BufferedReader(f):
            parts = raw.split(b"\r")
            yield from parts[:-1]
            if len(parts) == 1 or parts[-1] not in (b"", b"\n"):   # "\n" after a CR ends the CRLF line above
                yield parts[-1]

    i, last = 0, b""
    with pa.input_stream(str(p), compression="detect") as f:
        for i, line in enumerate(lines(f), start=1):
            try:
                dec.decode(line)
            except UnicodeDecodeError as e:
                return i, row + 1, line[e.start:e.end]
            if i > 1 and line.strip():
                row += 1
            last = line
    try:
        dec.decode(b"", final=True)   # a character cut by the end of the file (a last line without its newline)
    except UnicodeDecodeError as e:
        return i, max(row, 1), (last[-len(e.object):] if e.object else last[-1:])
    return None


def _decode_error(p: Path, e: Exception) -> InputError | None:
    """A clear InputError for a CSV that is neither UTF-8 nor GB 18030 (a Windows-1252 export: ``café``), naming
    the line; None when ``e`` is not a decoding error."""
    if "decode" not in str(e) and "codec" not in str(e):
        return None
    try:
        encoding, _ = _csv_encoding_and_header(p)
        found = _undecodable(p, "utf-8-sig" if encoding == "utf8" else encoding)
    except (OSError, pa.ArrowException, InputError):
        found = None
    if found is None:
        return None
    line, row, bad = found
    return InputError(f"line {line} is neither UTF-8 nor GB 18030 text (bytes {bad.hex(' ')}): the file is probably "
                      "in another encoding (Windows-1252 or Latin-1?); save it as 'CSV UTF-8'", file=p, row=row)


#: The files (path, size, modification time) already said to be GB 18030 in this process: a file read twice (train
#: reads a CSV, then its id as written; score reads its header, then its rows) said so twice.
_SAID_GB18030: set[tuple[str, int, int]] = set()


def _warn_gb18030(p: Path) -> None:
    """Warn once per file (and version of it) that it is read as GB 18030; later reads of it log at DEBUG."""
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    except OSError:
        key = (str(p), -1, -1)
    if key in _SAID_GB18030:
        log.debug("%s is not UTF-8; reading it as GB 18030", p)
        return
    _SAID_GB18030.add(key)
    log.warning("%s is not UTF-8; reading it as GB 18030", p)


def _read_csv(p: Path, as_text: bool, nrows: int | None = None) -> pa.Table:
    encoding, header = _csv_encoding_and_header(p)
    if not header or all(not h.strip() for h in header):
        raise InputError("file is empty (no header line)", file=p)
    if encoding != "utf8":
        _warn_gb18030(p)
    conv = pacsv.ConvertOptions(column_types={h: pa.string() for h in header} if as_text else None,
                                strings_can_be_null=not as_text, quoted_strings_can_be_null=not as_text,
                                null_values=[] if as_text else None)
    spaces = SpaceLines(p)
    if nrows is None:
        tbl = pacsv.read_csv(str(p), read_options=pacsv.ReadOptions(encoding=encoding, block_size=1 << 24),
                             parse_options=spaces.options(), convert_options=conv)
        BlankLines(p).warn()
        spaces.warn()
        return tbl if as_text else _padded_text_columns(tbl, p)
    batches, n = [], 0
    with pacsv.open_csv(str(p), read_options=pacsv.ReadOptions(encoding=encoding, block_size=1 << 20),
                        parse_options=spaces.options(), convert_options=conv) as reader:
        schema_ = reader.schema
        while n < nrows:
            try:
                b = reader.read_next_batch()
            except StopIteration:
                break
            batches.append(b)
            n += b.num_rows
    tbl = pa.Table.from_batches(batches, schema=schema_).slice(0, nrows)
    return tbl if as_text else _padded_text_columns(tbl, p)


def _padded_text_columns(tbl: pa.Table, p: Path) -> pa.Table:
    """Blank cells made of spaces become empty (null), as they are at scoring; a text column that is numbers once
    its cells are trimmed (``' '`` for missing, ``' 12'``) becomes a number column (float64). Arrow's CSV type
    inference treats both as text, which would turn a measurement into a category or an identifier."""
    import pyarrow.compute as pc

    for i, name in enumerate(tbl.column_names):
        col = tbl.column(i)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        trimmed = pc.utf8_trim_whitespace(col)
        if not pc.any(pc.not_equal(trimmed, col)).as_py():
            continue  # nothing padded: Arrow's guess stands
        trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, col.type), trimmed)
        try:
            new = pc.cast(trimmed, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            new = pc.if_else(pc.equal(pc.utf8_trim_whitespace(col), ""), pa.scalar(None, col.type), col)
        else:
            log.info("%s: column %r read as numbers once its cells are trimmed of spaces", p, name)
        tbl = tbl.set_column(i, name, new)
    return tbl


def _bad_csv_row(p: Path) -> int | None:
    """1-based data row of the first record whose field count differs from the header's (only called after a
    parse error, to name the row; None when the fault is elsewhere, e.g. an unclosed quote at the end)."""
    import csv as csv_

    try:
        encoding, _ = _csv_encoding_and_header(p)
        with pa.input_stream(str(p), compression="detect") as raw:
            text = _io.TextIOWrapper(raw, encoding="utf-8-sig" if encoding == "utf8" else encoding, errors="replace",
                                     newline="")
            reader = csv_.reader(text)
            width = len(next(reader, []))
            i = 0
            for rec in reader:
                if not rec or (width > 1 and len(rec) == 1 and not rec[0].strip()):
                    continue  # an empty line or one of spaces is skipped by the readers, so it is not a data row
                i += 1
                if len(rec) != width:
                    return i
    except (OSError, csv_.Error, pa.ArrowException):
        return None
    return None


def _header_separator_hint(p: Path) -> str:
    """The separator hint for a CSV whose header reads as one ';'- or tab-separated name (a row error such as
    "Expected 1 columns, got 9" said nothing of it: a fuzzer's finding); empty when the header cannot be read."""
    from creditmodel.errors import separator_hint

    try:
        return separator_hint(_csv_encoding_and_header(p)[1])
    except (InputError, OSError, ValueError, pa.ArrowException):
        return ""


def check_finite(df: pd.DataFrame, cols, file: str | Path | None) -> None:
    """InputError naming the first infinite cell of the numeric ``cols`` (empty cells, NaN, are missing values and
    pass): ``inf`` would otherwise reach a model as a number."""
    for c in cols:
        if c in df.columns and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
            inf = np.isinf(df[c].to_numpy(dtype=np.float64, na_value=np.nan))
            if inf.any():
                i = int(np.flatnonzero(inf)[0])
                raise InputError(f"infinite value ({int(inf.sum())} such row(s)); leave the cell empty if unknown",
                                 file=file, column=c, row=i + 1)


def check_ids(s: pd.Series, file: str | Path | None, column: str) -> None:
    """InputError naming the row of the first empty or repeated identifier (a ``uscc`` column compared however it
    is spelt: case, blanks, full-width characters, as ``score`` compares them)."""
    text = s.astype("string").str.strip()
    if column == "uscc":
        from creditmodel.data.uscc import normalise_series

        text = normalise_series(text)
    empty = (text.isna() | (text == "")).to_numpy(dtype=bool)
    if empty.any():
        raise InputError("empty identifier", file=file, column=column, row=int(np.flatnonzero(empty)[0]) + 1)
    dup = text.duplicated(keep="first").to_numpy(dtype=bool)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero((text == text.iloc[i]).to_numpy(dtype=bool))[0]) + 1
        raise InputError(f"identifier {str(s.iloc[i])!r} repeats row {first} ({int(dup.sum())} repeated row(s))",
                         file=file, column=column, row=i + 1)


def read_table(path: str | Path, *, as_text: bool = False, nrows: int | None = None) -> pd.DataFrame:
    """Read one CSV or Parquet file into a DataFrame (RangeIndex = 0-based data row).

    ``as_text=True`` is what the schema check needs: CSV cells come back as text, untouched (no type
    guessing, no null parsing), and Parquet columns other than text keep their Arrow types (so a null
    stays distinct from a NaN). With ``as_text=False`` types are inferred and empty cells are nulls.

    Raises :class:`InputError` naming the file when it is missing, a folder, empty, unreadable, corrupt,
    of an unknown type, or has duplicated column names. A header with no data rows is a valid empty table.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=p)
    if p.is_dir():
        raise InputError("is a folder, not a table file", file=p)
    kind = _kind(p)
    try:
        size = p.stat().st_size
    except OSError as e:
        raise InputError(f"cannot read: {e}", file=p) from e
    if size == 0:
        raise InputError("file is empty (0 bytes)", file=p)
    if kind == "arff":
        df = _read_arff(p)
        return (df.astype("str").where(df.notna()) if as_text else df).iloc[:nrows].reset_index(drop=True)
    try:
        if kind == "parquet":
            check_unique_names(pq.read_schema(str(p)).names, p)   # Arrow's reader fails on them with a schema dump
            if nrows is None:
                tbl = pq.read_table(str(p))
            else:
                pf = pq.ParquetFile(str(p))
                first = next(pf.iter_batches(batch_size=max(int(nrows), 1)), None)
                tbl = pa.Table.from_batches([first] if first is not None else [], schema=pf.schema_arrow
                                            ).slice(0, nrows)
        else:
            tbl = _read_csv(p, as_text, nrows)
    except InputError:
        raise
    except (pa.ArrowException, OSError, ValueError) as e:
        if kind == "csv" and (dec := _decode_error(p, e)) is not None:
            raise dec from None
        hint = _header_separator_hint(p) if kind == "csv" else ""
        raise InputError(f"cannot read {kind}: {e}{hint}", file=p,
                         row=_bad_csv_row(p) if kind == "csv" else None) from e
    if tbl.num_columns == 0:
        raise InputError("file has no columns", file=p)
    if kind == "parquet":
        check_flat_schema(tbl.schema, p)
    check_unique_names(tbl.column_names, p)
    if kind == "parquet":
        # text stays pandas' own string dtype; other Arrow types stay Arrow-backed (null distinct from NaN)
        return parquet_frame(tbl, types_mapper=_arrow_types_except_text) if as_text else parquet_frame(tbl)
    return (tbl.to_pandas(types_mapper=_arrow_types_except_text) if as_text else tbl.to_pandas()).reset_index(drop=True)


def _arrow_types_except_text(t: pa.DataType):
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return None
    return pd.ArrowDtype(t)


# --------------------------------------------------------------------------- one table
@dataclass
class LoadedTable:
    """One checked table."""

    name: str
    file: Path
    data: pd.DataFrame          # clean rows, declared dtypes; index = 0-based data row in the file
    quarantine: pd.DataFrame    # one row per broken rule (schema.QUARANTINE_COLUMNS)
    warnings: pd.DataFrame      # kept rows with a warning (pilot-era codes), same columns
    rejected: pd.DataFrame      # the quarantined rows themselves, typed like ``data``
    n_rows: int                 # data rows in the file
    null_counts: dict[str, int] = field(default_factory=dict)  # empty cells per declared column, as read

    @property
    def n_kept(self) -> int:
        return len(self.data)

    @property
    def n_quarantined(self) -> int:
        return len(self.rejected)

    @property
    def kept_faults(self) -> pd.DataFrame:
        """Cell faults in kept rows: of descriptive columns (``schema.CELL_RULES`` in the warnings; each cell was read
        as empty) and a penalty's empty publicity end derived from its severity (``publicity_end_derived``, an
        empty mandatory field all the same). Quarantine columns."""
        w = self.warnings
        return w[w["rule"].isin((*schema.CELL_RULES, "publicity_end_derived"))].reset_index(drop=True) if len(w) else w

    @property
    def faults(self) -> pd.DataFrame:
        """Every broken rule of the file, whether it quarantined its row or not: the quarantine entries plus
        :attr:`kept_faults`. Same columns."""
        soft = self.kept_faults
        if not len(soft):
            return self.quarantine
        return pd.concat([self.quarantine, soft], ignore_index=True).sort_values(["row", "column", "rule"],
                                                                                 kind="stable").reset_index(drop=True)

    def all_rows(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every row of the file (clean and quarantined), typed, in file order (only ``columns`` if given)."""
        data = self.data if columns is None else self.data[columns]
        if len(self.rejected) == 0:
            return data
        rejected = self.rejected if columns is None else self.rejected[columns]
        return pd.concat([data, rejected]).sort_index(kind="stable")

    def counts(self) -> dict[str, object]:
        return {"table": self.name, "file": str(self.file), "rows": self.n_rows, "kept": self.n_kept,
                "quarantined": self.n_quarantined, "quarantine_entries": len(self.quarantine),
                "warnings": len(self.warnings)}

    def _verify(self) -> None:
        if self.n_rows != self.n_kept + self.n_quarantined:
            raise RuntimeError(f"{self.file}: {self.n_rows} rows in but {self.n_kept} kept + "
                               f"{self.n_quarantined} quarantined")
        if len(self.quarantine):
            qrows = np.unique(self.quarantine["row"].to_numpy()) - 1
            if not np.array_equal(qrows, np.sort(self.rejected.index.to_numpy())):
                raise RuntimeError(f"{self.file}: quarantined rows do not match the quarantine table")


def table_name_for(path: str | Path) -> str:
    """The declared table a file holds, from its name (``penalties.csv`` -> ``penalties``)."""
    p = Path(path)
    name = p.name
    for suffix in sorted(CSV_SUFFIXES + PARQUET_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name not in TABLES:
        raise InputError(f"unknown table {name!r}: the file name must be one of the district's tables "
                         f"({', '.join(TABLES)}) with .parquet or .csv", file=p)
    return name


def load_table(path: str | Path, table_name: str | None = None, snapshot: str | pd.Timestamp | None = None
               ) -> LoadedTable:
    """Read and check one file against its declared table (name from the file name when not given).
    ``snapshot`` (the district's as-of date; :func:`load_district` passes it) lists the dates of things that
    happened after it (warning ``after_snapshot``).

    Raises :class:`InputError` for a broken file (see :func:`read_table`), an unknown table or a
    missing declared column (naming file and column). Bad rows go to the quarantine table.
    """
    p = Path(path)
    if table_name is None:
        table_name = table_name_for(p)
    elif table_name not in TABLES:
        raise InputError(f"unknown table {table_name!r}; known: {', '.join(TABLES)}", file=p)
    raw = read_table(p, as_text=True)
    res = schema.check_table(raw, table_name, file=p, snapshot=None if snapshot is None else pd.Timestamp(snapshot))
    del raw
    bad = res.bad
    typed = res.typed
    lt = LoadedTable(name=table_name, file=p, data=typed[~bad], quarantine=res.quarantine, warnings=res.warnings,
                     rejected=typed[bad], n_rows=len(typed), null_counts=res.null_counts)
    lt._verify()
    log.info("%s: %d rows, %d kept, %d quarantined (%d rule failures)", p.name, lt.n_rows, lt.n_kept,
             lt.n_quarantined, len(lt.quarantine))
    return lt


# --------------------------------------------------------------------------- a district
@dataclass
class District:
    """A loaded district: clean tables, one quarantine table, manifest and snapshot date."""

    directory: Path
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    warnings: pd.DataFrame
    manifest: dict | None
    snapshot_date: pd.Timestamp
    loaded: dict[str, LoadedTable] = field(repr=False, default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"table {name!r} not loaded; loaded: {', '.join(self.tables)}") from None

    def counts(self) -> pd.DataFrame:
        """Rows in, kept and quarantined per table."""
        return pd.DataFrame([lt.counts() for lt in self.loaded.values()])


def find_table_file(directory: Path, name: str, warn: bool = True) -> Path | None:
    """``<dir>/<name>.parquet`` (preferred) or ``<dir>/<name>.csv[.gz]``, or None (``warn``: say when there are
    several)."""
    found = [directory / f"{name}{s}" for s in PARQUET_SUFFIXES + CSV_SUFFIXES if (directory / f"{name}{s}").is_file()]
    if len(found) > 1 and warn:
        log.warning("%s: several files for table %s (%s); using %s", directory, name,
                    ", ".join(f.name for f in found), found[0].name)
    return found[0] if found else None


def read_manifest(directory: str | Path) -> dict | None:
    """``manifest.json`` of a district folder, or None when absent."""
    p = Path(directory) / "manifest.json"
    if not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"manifest is not valid JSON: {e}", file=p) from e
    if not isinstance(doc, dict):   # a list gave exit 1 (AttributeError) further on: a fuzzer's finding
        raise InputError(f"manifest must be a JSON object such as {{\"snapshot_date\": \"2025-12-31\"}}, got a "
                         f"{type(doc).__name__}", file=p)
    return doc


#: Manifest keys read as the snapshot date, first found wins.
SNAPSHOT_KEYS = ("snapshot_date", "snapshot", "as_of", "as_of_date")


def snapshot_from_manifest(manifest: dict | None, file: str | Path | None = None) -> pd.Timestamp:
    """The district's snapshot (as-of) date: the manifest's ``snapshot_date`` else ``DISTRICT_END``; a calendar
    date (a time's UTC offset gives its local date, a time of day is dropped).

    The date must be ISO 8601 (YYYY-MM-DD; ``31/12/2025`` or ``01/02/2025`` would be guessed) within the schema's
    plausible dates; anything else raises :class:`InputError` naming ``file`` and the key."""
    from creditmodel.data.schema import DATE_RANGE

    for key in SNAPSHOT_KEYS:
        if manifest and manifest.get(key):
            try:
                t = pd.to_datetime(str(manifest[key]), format="ISO8601")
                # the date as written, like a table's date cells: a time's offset gives its local date (its UTC
                # instant put Beijing 2025-12-31 01:00 on 12-30) and a time of day is dropped (compared by day)
                t = (t.tz_localize(None) if t.tzinfo is not None else t).normalize()
            except (ValueError, TypeError, OverflowError):
                t = pd.NaT
            if pd.isna(t) or not DATE_RANGE[0] <= t <= DATE_RANGE[1]:
                raise InputError(f"not an ISO date (YYYY-MM-DD) between {DATE_RANGE[0]:%Y-%m-%d} and "
                                 f"{DATE_RANGE[1]:%Y-%m-%d}: {manifest[key]!r}", file=file, column=key)
            return t
    return pd.Timestamp(DISTRICT_END)


def load_district(directory: str | Path, tables: list[str] | tuple[str, ...] | None = None,
                  progress: bool = False) -> District:
    """Load and check every table of a district folder (or only ``tables``; ``enterprises`` is always loaded).

    Hidden generator truth (``truth``) is loaded only when asked for. Raises :class:`InputError` when the
    folder or a requested table file is missing. ``progress`` shows a progress bar (stderr) over the tables.

    The tables carry (``DataFrame.attrs``, kept by pandas through row selections and copies) the invoice data's
    start (:func:`creditmodel.features.pit.mark_invoice_data_start`) and, on ``enterprises``, the snapshot date
    (:data:`creditmodel.features.pit.SNAPSHOT_ATTR`), so that the Python API reads a subset of them as
    :func:`~creditmodel.evaluation.engine.evaluate_dir` reads the district.
    """
    d = Path(directory)
    if not d.exists():
        raise InputError("district folder not found", file=d)
    if not d.is_dir():
        raise InputError("not a folder: a district is a folder of tables (enterprises.parquet or .csv and "
                         "the record tables); in Python, creditmodel.data.io.load_table reads one table file", file=d)
    if tables is None:
        names = [n for n, t in TABLES.items() if not t.hidden and find_table_file(d, n, warn=False) is not None]
        if "enterprises" not in names:
            raise InputError("no enterprises table (enterprises.parquet or enterprises.csv)", file=d / "enterprises.parquet")
    else:
        unknown = [n for n in tables if n not in TABLES]
        if unknown:
            raise InputError(f"unknown table(s) {unknown}; known: {', '.join(TABLES)}", file=d)
        names = ["enterprises"] + [n for n in tables if n != "enterprises"]
    others = sorted(f.name for f in d.iterdir() if f.is_file() and f.name not in SIDECARS and not any(
        f.name == f"{n}{s}" for n in TABLES for s in PARQUET_SUFFIXES + CSV_SUFFIXES))
    near = {}
    for f in others:   # Penalties.csv, penalties.CSV, penalties.xlsx: a table read as absent without a word
        stem = f.lower().split(".")[0]
        if (stem in TABLES and not TABLES[stem].hidden and (tables is None or stem in names)
                and find_table_file(d, stem, warn=False) is None):
            near[f] = stem
    for f, stem in near.items():
        suffix = f.lower()[len(stem):]   # .csv.gz whole
        why = ("names are case-sensitive: rename it " + stem + suffix
               if suffix in PARQUET_SUFFIXES + CSV_SUFFIXES
               else "only Parquet and CSV files are read: save it as " + stem + ".csv")
        log.warning("%s: %s is not read as table %s (%s); the table is absent", d, f, stem, why)
    others = [f for f in others if f not in near]
    if others:
        log.info("%s: ignoring files that are not district tables: %s", d, ", ".join(others))
    files = {}
    for n in names:
        f = find_table_file(d, n)
        if f is None:
            raise InputError(f"table {n} not found (expected {n}.parquet or {n}.csv)", file=d / f"{n}.parquet")
        files[n] = f
    manifest = read_manifest(d)
    snapshot = snapshot_from_manifest(manifest, d / "manifest.json")   # a bad date stops before the tables load
    loaded: dict[str, LoadedTable] = {}
    with tqdm(total=len(files), desc="load", unit="table", disable=not progress or progress_off(),
              file=sys.stderr) as bar:
        for n, f in files.items():
            bar.set_postfix_str(n)
            loaded[n] = load_table(f, n, snapshot=snapshot)
            if loaded[n].n_rows == 0:   # read as "no such records" (a fuzzer found it silent): say so
                log.warning("%s: table %s has a header but no rows: read as no %s at all", f, n, table(n).en.lower())
            bar.update()
    _referential_check(loaded)
    if not any(manifest and manifest.get(k) for k in SNAPSHOT_KEYS):
        # it was used without a word (a fuzzer's finding): every as-of default and plan figure depends on it
        log.warning("%s: %s, so the snapshot date is taken as %s (the embedded district's end); write "
                    "{\"snapshot_date\": \"YYYY-MM-DD\"} into manifest.json to set it", d,
                    "no manifest.json" if manifest is None else "manifest.json has no snapshot_date", DISTRICT_END)
    quarantine = _concat([lt.quarantine for lt in loaded.values()])
    _warn_wholesale_quarantine(loaded, quarantine)
    warns = _concat([lt.warnings for lt in loaded.values()])
    dist = District(directory=d, tables={n: lt.data for n, lt in loaded.items()}, quarantine=quarantine,
                    warnings=warns, manifest=manifest, snapshot_date=snapshot,
                    loaded=loaded)
    from creditmodel.features.pit import SNAPSHOT_ATTR, mark_invoice_data_start

    # what a subset of the tables (one firm's rows, an edited copy) keeps of the district: the invoice data's start
    # (its windows cut there, not at the firm's first row) and the snapshot date (the evaluation's as-of checks)
    mark_invoice_data_start(dist.tables)
    if snapshot is not None and "enterprises" in dist.tables:
        dist.tables["enterprises"].attrs[SNAPSHOT_ATTR] = pd.Timestamp(snapshot).strftime("%Y-%m-%d")
    total = dist.counts()
    log.info("district %s: %d rows, %d kept, %d quarantined", d, total["rows"].sum(), total["kept"].sum(),
             total["quarantined"].sum())
    return dist


#: A value quarantined on this many rows or more (or half a table quarantined) is a warning, not only a count: a
#: list type written 严重失信主体名单, a severity written Serious, dates as Excel serial numbers set aside whole kinds
#: of records and the reports read as if they did not exist (a think-tank reviewer's finding: the plan's
#: serious-dishonesty target read "0.0000 % -> met").
WHOLESALE_ROWS = 10


def _warn_wholesale_quarantine(loaded: dict[str, LoadedTable], quarantine: pd.DataFrame) -> None:
    if not len(quarantine):
        return
    for n, lt in loaded.items():
        if lt.n_rows and lt.n_quarantined >= max(WHOLESALE_ROWS, lt.n_rows / 2):
            q = quarantine[quarantine["table"] == n]
            top = q.groupby(["column", "rule"]).size().sort_values(ascending=False)
            (col, rule), k = top.index[0], int(top.iloc[0])
            log.warning("%s: %d of %d rows of table %s are quarantined, %d of them on column '%s' (%s): the "
                        "results read as if those records did not exist; see `creditmodel quality`", lt.file,
                        lt.n_quarantined, lt.n_rows, n, k, col, rule)
    bad = quarantine[quarantine["rule"] == "not_allowed"]
    if len(bad):
        for (n, col, val), k in bad.groupby(["table", "column", "value"], dropna=True).size().items():
            if k >= WHOLESALE_ROWS:
                try:
                    allowed = table(n).column(col).allowed
                except (KeyError, ValueError, AttributeError):
                    allowed = None
                log.warning("table %s, column '%s': the value %r is not an allowed value and sets aside %d rows%s",
                            n, col, val, int(k), f" (allowed: {', '.join(map(str, allowed))})" if allowed else "")


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return schema.empty_quarantine()
    return pd.concat(frames, ignore_index=True)


def _referential_check(loaded: dict[str, LoadedTable]) -> None:
    """Quarantine records whose valid code is not a clean enterprise (in place)."""
    ent = loaded["enterprises"]
    clean_codes = pd.Index(ent.data["uscc"].dropna().unique())
    rejected_codes = ent.rejected["uscc"].dropna()
    # why an enterprise code is not clean: the rules its rows broke
    why: dict[str, str] = {}
    if len(rejected_codes):
        q = ent.quarantine
        rules = q.groupby("row")["rule"].agg(lambda r: "/".join(sorted(set(r))))
        for idx, code in rejected_codes.items():
            prev = why.get(code)
            entry = f"row {idx + 1} ({rules.get(idx + 1, '?')})"
            why[code] = entry if prev is None else f"{prev}, {entry}"
    for name, lt in loaded.items():
        t = table(name)
        if name == "enterprises" or "uscc" not in t.column_names or len(lt.data) == 0:
            continue
        codes = lt.data["uscc"]
        # clean rows hold valid (or allow-listed) codes only: invalid ones are quarantined already
        orphan = ~schema.is_member(codes, clean_codes) & codes.notna().to_numpy()
        if not orphan.any():
            continue
        rows = lt.data.index.to_numpy()[orphan]
        vals = codes.to_numpy(dtype=object)[orphan]
        known = np.array([v in why for v in vals], dtype=bool)
        rule = np.where(known, "quarantined_enterprise", "unknown_uscc")
        msg = [f"enterprise {v} is quarantined in {ent.file.name}: {why[v]}" if k
               else f"no enterprise with code {v} in {ent.file.name}" for v, k in zip(vals, known)]
        keys = schema.key_strings(lt.data, t.key, np.flatnonzero(orphan))
        add = pd.DataFrame({"table": name, "file": str(lt.file), "row": rows + 1, "key": keys, "column": "uscc",
                            "rule": rule, "value": vals, "message": msg})
        add = add.astype({c: "str" for c in schema.QUARANTINE_COLUMNS if c != "row"}).astype({"row": "int64"})
        if len(lt.warnings):  # warnings describe kept rows: a moved row's cell faults join its quarantine entries
            w_moved = lt.warnings["row"].isin(rows + 1).to_numpy()
            cell = w_moved & lt.warnings["rule"].isin(schema.CELL_RULES).to_numpy()   # kept_faults of moved rows
            if cell.any():
                add = pd.concat([add, lt.warnings[cell].assign(
                    message=lt.warnings.loc[cell, "message"].str.replace(
                        "; read as empty, row kept (a descriptive field)", "", regex=False))], ignore_index=True)
            # a penalty's derived publicity end: the row is not kept after all, so the cell is an empty mandatory
            # field again (it vanished from every count) and the quarantined row shows it as read
            derived = w_moved & (lt.warnings["rule"] == "publicity_end_derived").to_numpy()
            if derived.any():
                back = lt.warnings[derived]
                add = pd.concat([add, back.assign(rule="missing_value", value="", message=[
                    f"mandatory field is empty ({t.column(c).en})" for c in back["column"]])], ignore_index=True)
                for r, c in zip(back["row"].to_numpy(), back["column"]):
                    lt.data.loc[int(r) - 1, c] = pd.NaT
            lt.warnings = lt.warnings[~w_moved].reset_index(drop=True)
        lt.quarantine = pd.concat([lt.quarantine, add], ignore_index=True).sort_values(
            ["row", "column", "rule"], kind="stable").reset_index(drop=True)
        moved = lt.data[orphan]
        lt.rejected = pd.concat([lt.rejected, moved]).sort_index(kind="stable")
        lt.data = lt.data[~orphan]
        lt._verify()
        log.info("%s: %d record(s) whose code is not a clean enterprise quarantined (%d unknown, %d of "
                 "quarantined enterprises)", name, int(orphan.sum()), int((~known).sum()), int(known.sum()))
