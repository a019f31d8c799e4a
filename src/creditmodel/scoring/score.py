"""``creditmodel score``: every input row, in input order, with the scoring columns.

Inputs stream in chunks (Parquet row groups / CSV chunks), so ten million rows score within a few
GB of memory. From a registered alias (``models:/NAME@ALIAS``) the output is the full bank
deliverable (DESIGN.md section 6: pricing, public credit grade when the input carries it, JSON
sidecar, model card); from a model folder it is the scoring columns plus identifiers, data hash and
time. ``--engine spark`` scores through Spark with identical results: the model's own ``score_frame`` in a pandas
UDF on the executors (:mod:`creditmodel.scoring.spark`, not ``mlflow.pyfunc.spark_udf``); a CSV is read by this
module's reader on the driver and handed to Spark as Parquet.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from creditmodel import tracking
from creditmodel.data.io import PARQUET_SUFFIXES
from creditmodel.errors import InputError, separator_hint
from creditmodel.scoring.model import REASON_COLUMNS, SCORE_COLUMNS, CreditModel

log = logging.getLogger(__name__)

PASSTHROUGH = ("uscc", "as_of_date", "loan_id")

#: Optional input column marking an obligor already in default at its as-of date (1/0, true/false, yes/no, 是/否;
#: empty = not flagged). Such a row is graded ``"D"`` with ``pd_12m`` = 1 (DESIGN section 6: D = in default); its
#: score and reason codes stay the model's. ``enterprise_portfolio`` fills it from the loans table.
IN_DEFAULT = "in_default"
_IN_DEFAULT_TRUE = frozenset({"1", "1.0", "true", "yes", "y", "t", "是"})
_IN_DEFAULT_FALSE = frozenset({"0", "0.0", "false", "no", "n", "f", "否", ""})


@dataclass
class ResolvedModel:
    """A loaded model and where it came from."""

    model: CreditModel
    uri: str
    registered_name: str | None = None
    registered_version: str | None = None
    alias: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.registered_version or self.model.version)


def _load_errors() -> tuple[type[BaseException], ...]:
    import pickle

    import yaml
    from mlflow.exceptions import MlflowException

    # what a broken or missing model gives; not ImportError (a package missing here) nor MemoryError
    return (MlflowException, OSError, pickle.UnpicklingError, EOFError, AttributeError, KeyError, ValueError,
            TypeError, yaml.YAMLError)   # a corrupt MLmodel file (exit 1 with a bare ParserError: a reviewer)


def _registered_here(client: Any) -> str:
    """What the store holds, for an error on a name or alias it does not know: ``; registered here: NAME (@ALIAS =
    vN, ...)``; a reader typing ``small_loan_pd@champion`` learns the demo's model is ``district_pd``."""
    try:
        found = client.search_registered_models(max_results=50)
    except Exception:  # noqa: BLE001 - a hint only: the error it would add to is already being raised
        return ""
    if not found:
        return "; no model is registered in this store"
    names = [f"{m.name} ({', '.join(f'@{a} = v{v}' for a, v in sorted(m.aliases.items())) or 'no alias'})"
             for m in sorted(found, key=lambda m: m.name)]
    return "; registered here: " + ", ".join(names)


def resolve_model(model_uri: str | Path) -> ResolvedModel:
    """Load a model folder (or a training output folder holding ``model/``) or ``models:/NAME@ALIAS|VERSION``."""
    from creditmodel.scoring.pyfunc import load_credit_model

    uri = str(model_uri)
    if uri.startswith("models:/"):
        from mlflow.tracking import MlflowClient

        tracking.configure()
        tracking.require_store()
        ref = uri[len("models:/"):]
        if not re.fullmatch(r"[^/@]+(@[^/@]+|/[^/@]+)", ref):
            raise InputError("expected models:/NAME@ALIAS or models:/NAME/VERSION", file=uri)
        client = MlflowClient()
        if "@" in ref:
            name, alias = ref.split("@", 1)
            try:
                mv = client.get_model_version_by_alias(name, alias)
            except Exception as e:  # noqa: BLE001 - MLflow raises its own exception types
                raise InputError(f"no model version with alias {alias!r} for registered model {name!r} "
                                 f"in {tracking.tracking_uri()}: {e}{_registered_here(client)}", file=uri) from e
            try:   # a broken version said only 'aborted' (EOFError is click's Abort): a reviewer's finding
                model = load_credit_model(f"models:/{name}/{mv.version}")
            except _load_errors() as e:
                raise InputError(f"cannot load version {mv.version} of registered model {name!r} (alias {alias!r}) "
                                 f"from {tracking.tracking_uri()}: {type(e).__name__}: {e}", file=uri) from e
            return ResolvedModel(model, uri, name, str(mv.version), alias, dict(mv.tags))
        name, version = ref.rsplit("/", 1)
        if version == "latest":  # MLflow's own alias for the newest version: record the number it stands for
            found = [int(v.version) for v in client.search_model_versions(f"name='{name}'")]
            if not found:
                raise InputError(f"registered model {name!r} has no version in {tracking.tracking_uri()}"
                                 f"{_registered_here(client)}", file=uri)
            version = str(max(found))
            uri = f"models:/{name}/{version}"
        try:
            model = load_credit_model(uri)
        except _load_errors() as e:
            raise InputError(f"cannot load version {version} of registered model {name!r} from "
                             f"{tracking.tracking_uri()}: {e}", file=uri) from e
        return ResolvedModel(model, uri, name, version)
    p = Path(uri)
    if p.is_dir() and not (p / "MLmodel").exists() and (p / "model" / "MLmodel").exists():
        p = p / "model"
    if not (p / "MLmodel").exists():
        raise InputError("not an MLflow model folder (no MLmodel file) nor models:/NAME@ALIAS", file=p)
    try:
        return ResolvedModel(load_credit_model(p), str(p))
    except _load_errors() as e:  # a truncated pickle, an empty MLmodel...: a broken model folder is bad input
        raise InputError(f"cannot load the model: {type(e).__name__}: {e}", file=p) from e


def open_parquet(path: Path) -> Any:
    """The ``pyarrow.parquet.ParquetFile`` of an input that :func:`check_input_file` passed (names and nesting
    checked there); InputError naming the file when it is unreadable or holds no row. Both engines open it here."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # noqa: BLE001  pyarrow's errors for a file that is not Parquet vary
        raise InputError(f"unreadable Parquet file: {e}", file=path) from e
    if pf.metadata.num_rows == 0:
        raise InputError("no data rows (a Parquet file of 0 rows)", file=path)
    return pf


def check_input_file(path: Path, out: Path | None = None) -> None:
    """InputError unless ``path`` is an existing, non-empty file and ``out`` (if given) is not ``path`` itself
    or a folder; checked before the model is loaded, so a typo fails at once."""
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.is_dir():
        raise InputError("is a folder, not a table file", file=path)
    if path.name.lower().endswith(PARQUET_SUFFIXES) and path.stat().st_size > 0:
        import pyarrow.parquet as pq

        from creditmodel.data.io import check_flat_schema, check_unique_names

        try:
            schema = pq.read_schema(path)
        except Exception:  # noqa: BLE001  unreadable: the reader says so with its own message
            schema = None
        if schema is not None:
            check_unique_names(schema.names, path)
            check_flat_schema(schema, path)
    if out is not None:
        if out.exists() and out.is_dir():
            raise InputError("the output is an existing folder; give a file name ending in .parquet or .csv", file=out)
        if out.exists() and out.resolve() == path.resolve():
            raise InputError("the output would overwrite the input file; write to another file", file=out)


def iter_chunks(path: Path, chunk_rows: int, text_columns: tuple[str, ...] = ()) -> Iterator[pd.DataFrame]:
    """Read a CSV or Parquet file in chunks of ``chunk_rows`` rows (InputError if unreadable).

    A CSV is read as ``train`` reads it (:func:`creditmodel.data.io.read_table`: the same encoding guess, the
    same null markers, cells of spaces empty), never by guessing a type per chunk: ``text_columns`` (the id, the
    model's categorical columns) stay text exactly as written (``000123`` keeps its zeros, ``532420`` stays the
    category ``'532420'``); every other column becomes numbers where all its cells in the chunk are numbers
    (or true/false), else stays text for the model's per-row checks. So a row's result does not depend on
    the rows around it or on ``chunk_rows``."""
    from creditmodel.data.io import (BlankLines, SpaceLines, _bad_csv_row, _csv_encoding_and_header, _decode_error,
                                     _header_separator_hint, _kind, parquet_frame, read_table)

    check_input_file(path)
    if _kind(path) == "parquet":   # .parquet and .pq (a 0-row .pq ended in FileNotFoundError: a reviewer's finding)
        pf = open_parquet(path)
        for batch in pf.iter_batches(batch_size=chunk_rows):
            yield parquet_frame(batch)
    elif _kind(path) == "csv":  # .csv, .txt and compressed .csv.gz/.csv.bz2 (a .bz2 fell to the typed reader)
        import pyarrow as pa
        import pyarrow.csv as pacsv

        # checks encoding, emptiness and duplicated names with a clear message; as text: no type guessed from 5 rows
        head = read_table(path, nrows=5, as_text=True)
        if head.empty:
            raise InputError("no data rows (only a header)", file=path)
        header = list(head.columns)
        del head
        encoding = _csv_encoding_and_header(path)[0]
        conv = pacsv.ConvertOptions(column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                                    quoted_strings_can_be_null=True)  # training's null markers (data.io)
        text = set(text_columns)
        pending: list[pa.RecordBatch] = []
        n_pending = 0
        spaces = SpaceLines(path)
        try:
            with pacsv.open_csv(str(path), read_options=pacsv.ReadOptions(encoding=encoding, block_size=1 << 22),
                                parse_options=spaces.options(), convert_options=conv) as reader:
                for batch in reader:
                    pending.append(batch)
                    n_pending += batch.num_rows
                    while n_pending >= chunk_rows:
                        tbl = pa.Table.from_batches(pending)
                        yield _typed_chunk(tbl.slice(0, chunk_rows), text)
                        rest = tbl.slice(chunk_rows)
                        pending, n_pending = rest.to_batches(), rest.num_rows
        except (pa.ArrowInvalid, OSError) as e:
            if (dec := _decode_error(path, e)) is not None:
                raise dec from None
            raise InputError(f"cannot read csv: {e}{_header_separator_hint(path)}", file=path,
                             row=_bad_csv_row(path)) from None
        if n_pending:
            yield _typed_chunk(pa.Table.from_batches(pending), text)
        BlankLines(path).warn()
        spaces.warn()
    else:
        yield read_table(path)


def _deliverable_columns() -> list[str]:
    from creditmodel.delivery import DELIVERABLE_COLUMNS

    return DELIVERABLE_COLUMNS


def in_deliverable_order(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the deliverable's columns it has in their DESIGN section 6 order (``uscc``, ``as_of_date``,
    the scores, ``model_name`` .. ``scored_at``, ``status``, ``error``), then its other columns (the ``--id``,
    ``loan_id``) as they were: a model folder's output is the deliverable without the columns that do not apply."""
    own = [c for c in _deliverable_columns() if c in frame.columns]
    return frame[own + [c for c in frame.columns if c not in own]]


def _text_columns(model: CreditModel, id_col: str | None) -> tuple[str, ...]:
    """Columns a CSV keeps as text at scoring: the id, the passed-through identifiers, the model's categories."""
    return tuple(c for c in dict.fromkeys((id_col, *PASSTHROUGH, *model.input_spec.categorical)) if c)


def _typed_chunk(tbl: Any, text: set[str]) -> pd.DataFrame:
    """A CSV chunk read as text -> pandas: ``text`` columns as strings; others as float64 when every non-blank
    cell is a number (Arrow's parser, as in training), as booleans when every one is true/false (a model reads
    them as 1/0), else left as text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, name in enumerate(tbl.column_names):
        if name in text:
            continue
        col = tbl.column(i)
        trimmed = pc.utf8_trim_whitespace(col)
        trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
        try:
            tbl = tbl.set_column(i, name, pc.cast(trimmed, pa.float64()))
            continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        # booleans only when every non-blank cell is true/false: Arrow's bool cast also takes "1"/"0", which made a
        # chunk of 1, TRUE, 0 all booleans (a reviewer's finding: the result depended on the rows around it)
        low = pc.utf8_lower(trimmed)
        if pc.all(pc.is_in(low, value_set=pa.array(["true", "false"])), skip_nulls=True).as_py() is not False:
            tbl = tbl.set_column(i, name, pc.cast(low, pa.bool_()))
    return tbl.to_pandas(types_mapper={pa.string(): pd.StringDtype(), pa.bool_(): pd.BooleanDtype()}.get)


OUTPUT_VALUES = ("score", "grade", "pd_12m", *REASON_COLUMNS)


class _SeenKeys:
    """Keys seen so far across the chunks of one file, as sorted 64-bit hashes with the 1-based row of their first
    appearance: 16 bytes per key, not a Python dict of strings (about 130 bytes), so ten million rows stream."""

    def __init__(self) -> None:
        self._hash = np.empty(0, dtype=np.uint64)
        self._row = np.empty(0, dtype=np.int64)

    def first_rows(self, keys: pd.Series, start: int, empty: np.ndarray) -> np.ndarray:
        """1-based row where each key of this chunk first appeared (in an earlier chunk or this one)."""
        h = pd.util.hash_array(keys.to_numpy(dtype=object))
        rows = start + np.arange(len(h), dtype=np.int64) + 1
        first = pd.Series(rows).groupby(h, sort=False).transform("min").to_numpy().copy()  # within this chunk
        pos = np.searchsorted(self._hash, h)
        found = pos < len(self._hash)
        found[found] = self._hash[pos[found]] == h[found]
        first[found] = self._row[pos[found]]
        new = ~found & ~empty & (first == rows)
        if new.any():
            hh = np.concatenate([self._hash, h[new]])
            order = np.argsort(hh, kind="stable")
            self._hash, self._row = hh[order], np.concatenate([self._row, rows[new]])[order]
        return first


class RowChecks:
    """Per-row checks of the identifiers across the chunks of one file: an empty or repeated ``id_col`` and, with
    ``identifiers`` (file scoring, from a model folder or the registry), an invalid ``uscc`` or an unreadable
    ``as_of_date``. With ``deliverable`` (the bank deliverable) also an empty ``as_of_date`` or one after ``today``
    (the scoring date; an aware time counts as the latest date it is anywhere, UTC+14) and, unless rows are loans named by another ``id_col`` (several per firm, a code may be
    blank), an empty ``uscc`` and a second row of the same enterprise at the same date. A row that fails is kept, with ``status = "error"`` and the reason (its scores
    are blanked: a bank could not tell whose they are)."""

    def __init__(self, id_col: str | None, identifiers: bool = False, features: tuple[str, ...] = (),
                 deliverable: bool = False, today: pd.Timestamp | None = None) -> None:
        self.id_col, self.identifiers, self.features = id_col, identifiers, tuple(features)
        self.deliverable = deliverable
        t = None if today is None else pd.Timestamp(today)
        if t is not None and t.tzinfo:  # the latest calendar date anywhere at that instant (UTC+14): a Beijing
            t = (t.tz_convert("UTC") + pd.Timedelta(hours=14)).tz_localize(None)  # batch at 01:00 is on its own day
        self.today = None if t is None else t.normalize()
        self._ids, self._firms = _SeenKeys(), _SeenKeys()
        self.rows = 0

    def messages(self, chunk: pd.DataFrame) -> np.ndarray:
        """Reason per row of ``chunk`` (object array, None where the row passes)."""
        n, start = len(chunk), self.rows
        self.rows += n
        msg = np.full(n, None, dtype=object)

        def put(mask: np.ndarray, text) -> None:
            for i in np.flatnonzero(mask & pd.isna(msg)):
                msg[i] = text(i) if callable(text) else text

        put(blank_rows(chunk, self.features), BLANK_ROW)
        if self.id_col and self.id_col in chunk:
            ids = chunk[self.id_col].astype("string").str.strip().reset_index(drop=True)
            empty = (ids.isna() | (ids == "")).to_numpy(dtype=bool)
            put(empty, f"column '{self.id_col}': the id is empty")
            key = ids.fillna("")
            if self.id_col == "uscc":  # one code however it is spelt: full-width, lower case, inner blanks
                from creditmodel.data.uscc import normalise_series

                key = normalise_series(key)
            first = self._ids.first_rows(key, start, empty)
            dup = ~empty & (first != start + np.arange(n) + 1)
            put(dup, lambda i: f"column '{self.id_col}': duplicate id {ids.iloc[i]!r}, first on row {first[i]}")
        if self.identifiers and "uscc" in chunk:
            from creditmodel.data.schema import uscc_status

            codes = chunk["uscc"].astype("string").reset_index(drop=True)
            st = uscc_status(codes)
            given = (codes.notna() & (codes.str.strip() != "")).to_numpy(dtype=bool)  # an empty code stays empty
            bad = (st["status"] == "invalid").to_numpy() & given
            reason = st["reason"].to_numpy()
            put(bad, lambda i: f"column 'uscc': invalid unified social credit code ({reason[i]})")
        if self.identifiers and "as_of_date" in chunk:
            from creditmodel.delivery import parse_as_of

            raw = chunk["as_of_date"].reset_index(drop=True)
            given = (raw.notna() & (raw.astype("string").str.strip() != "")).to_numpy(dtype=bool, na_value=False)
            bad = given & parse_as_of(raw).isna().to_numpy()   # a blank date stays empty (deliverable: an error)
            put(bad, lambda i: f"column 'as_of_date': {str(raw.iloc[i])!r} is not a date (YYYY-MM-DD)")
        if self.deliverable:
            self._deliverable_checks(chunk, start, put)
        return msg

    def _deliverable_checks(self, chunk: pd.DataFrame, start: int, put: Any) -> None:
        """The deliverable's identity: an empty code or date, a date not reached yet, one firm twice at one date
        (all were delivered with status ok and a rate: a new user's finding)."""
        from creditmodel.delivery import parse_as_of

        n = len(chunk)
        codes = (chunk["uscc"].astype("string").str.strip().reset_index(drop=True) if "uscc" in chunk
                 else pd.Series(pd.NA, index=range(n), dtype="string"))
        no_code = (codes.isna() | (codes == "")).to_numpy(dtype=bool)
        by_firm = "uscc" in chunk and self.id_col in (None, "uscc")   # --id loan_id: a row is a loan, not a firm
        if by_firm:
            put(no_code, "column 'uscc': empty: a deliverable row is one enterprise, named by its unified social "
                         "credit code")
        when = (parse_as_of(chunk["as_of_date"].reset_index(drop=True)) if "as_of_date" in chunk
                else pd.Series(pd.NaT, index=range(n)))
        if "as_of_date" in chunk:
            raw = chunk["as_of_date"].reset_index(drop=True)
            blank = (raw.isna() | (raw.astype("string").str.strip() == "")).to_numpy(dtype=bool)
            put(blank, "column 'as_of_date': empty: the date the enterprise's PD and rate hold at")
            if self.today is not None:
                late = (when.dt.normalize() > self.today).to_numpy(dtype=bool, na_value=False)
                put(late, lambda i: f"column 'as_of_date': {when.iloc[i]:%Y-%m-%d} is after the scoring date "
                                    f"{self.today:%Y-%m-%d} (the features cannot be known yet)")
        if by_firm:
            from creditmodel.data.uscc import normalise_series

            key = normalise_series(codes.fillna("")) + "|" + when.dt.strftime("%Y-%m-%d").fillna("")
            first = self._firms.first_rows(key, start, no_code)
            dup = ~no_code & (first != start + np.arange(n) + 1)
            put(dup, lambda i: f"enterprise {codes.iloc[i]!r} at {when.iloc[i]:%Y-%m-%d} is already on row "
                               f"{first[i]}: the deliverable holds one row per enterprise and date"
                if pd.notna(when.iloc[i]) else f"enterprise {codes.iloc[i]!r} is already on row {first[i]}: the "
                                                "deliverable holds one row per enterprise and date")


def in_default_flags(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Read an ``in_default`` column: (flagged, unreadable) boolean arrays. Empty cells are not flagged."""
    v = values.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(v.dtype):
        return v.fillna(False).to_numpy(dtype=bool), np.zeros(len(v), dtype=bool)
    if pd.api.types.is_numeric_dtype(v.dtype):
        x = pd.to_numeric(v, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return x == 1, ~np.isnan(x) & (x != 0) & (x != 1)
    text = v.astype("string").str.strip().str.lower().fillna("")
    return text.isin(_IN_DEFAULT_TRUE).to_numpy(dtype=bool), (~text.isin(_IN_DEFAULT_TRUE | _IN_DEFAULT_FALSE)
                                                                ).to_numpy(dtype=bool)


#: The reason of a row whose every model column is empty: nothing to score, not an applicant
BLANK_ROW = "every column the model uses is empty (a blank line?)"


def blank_rows(df: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """True for the rows of ``df`` whose every column of ``features`` is empty (missing, or text of blanks); all
    False when ``df`` lacks one of them (that is a missing column, said elsewhere). The one rule of every path:
    ``score``, the deliverable, Spark, the pyfunc (REST) and the exported SQL's ``input_errors``; the pyfunc
    answered such a row ok, grade 10 (a reviewer's finding)."""
    feats = list(features)
    if not feats or any(c not in df.columns for c in feats):
        return np.zeros(len(df), dtype=bool)
    from creditmodel.data.schema import empty_cells

    empty = np.ones(len(df), dtype=bool)
    for c in feats:
        empty &= empty_cells(df[c])
    return empty


def apply_in_default(scored: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """Grade ``"D"`` with ``pd_12m`` = 1 the scored rows whose input says ``in_default``; a value that is not
    1/0, true/false, yes/no makes the row ``status = "error"`` naming it (its grade would be a guess).
    ``scored`` and ``inputs`` are aligned by position; ``scored`` is changed in place and returned."""
    if IN_DEFAULT not in inputs.columns or len(scored) == 0:
        return scored
    flagged, bad = in_default_flags(inputs[IN_DEFAULT])
    if bad.any():
        raw = inputs[IN_DEFAULT].reset_index(drop=True)
        msg = np.full(len(scored), None, dtype=object)
        for i in np.flatnonzero(bad):
            msg[i] = (f"column '{IN_DEFAULT}': {str(raw.iloc[i])!r} is not 1/0, true/false or yes/no (whether the "
                      "firm is in default decides grade D)")
        apply_row_errors(scored, msg)
    hit = flagged & (scored["status"].to_numpy(dtype=object) == "ok")
    if hit.any():
        idx = scored.index[hit]
        if isinstance(scored["grade"].dtype, pd.CategoricalDtype) and "D" not in scored["grade"].cat.categories:
            scored["grade"] = scored["grade"].cat.add_categories(["D"])
        scored.loc[idx, "grade"] = "D"
        scored.loc[idx, "pd_12m"] = 1.0
    return scored


def apply_row_errors(scored: pd.DataFrame, msg: np.ndarray) -> pd.DataFrame:
    """Rows of ``scored`` with a message become ``status = "error"`` with that reason (an existing error is kept)
    and lose their scores. Changes ``scored`` in place and returns it."""
    hit = pd.notna(msg) & (scored["status"].to_numpy(dtype=object) == "ok")
    if hit.any():
        idx = scored.index[hit]
        for c in OUTPUT_VALUES:
            if c in scored:
                scored.loc[idx, c] = np.nan if c in ("score", "pd_12m") else None
        scored.loc[idx, "status"] = "error"
        scored.loc[idx, "error"] = msg[hit]
    return scored


class ChunkSummary:
    """What one file's chunks have to say, said once after the last chunk (:meth:`warn`), not once per chunk:

    * the rows with a model input that cannot be scored (the chunks are scored with ``warn=False``);
    * per numeric column, the scored rows (not the rows the model refused: inf, text) whose value lies outside the
      range the model saw in training (its metadata ``training_range``; a model saved before has none and nothing
      is said). Such a row keeps its status and score (a negative duration is scored in the bin of the shortest
      durations): a warning only.

    :meth:`add` takes each chunk (the inputs) and the model's scores of it (before other row checks), in order."""

    def __init__(self, model: CreditModel) -> None:
        ranges = (getattr(model, "metadata", None) or {}).get("training_range") or {}
        self.ranges = {c: (float(r[0]), float(r[1])) for c, r in ranges.items() if c in model.input_spec.numeric}
        self.outside = {c: [0, 0, 0] for c in self.ranges}   # rows below, rows above, first such row (1-based)
        self.rows = 0
        self.rows_outside = 0   # rows with at least one value outside its column's training range
        self.rows_counted = 0   # rows the model scored, out of default, that the row checks kept
        self.unscorable, self.first_error, self.first_error_row = 0, None, None

    def add(self, chunk: pd.DataFrame, scored: pd.DataFrame, refused: np.ndarray | None = None) -> None:
        """Count one chunk: ``scored`` the model's statuses (before the row checks), ``refused`` the rows the row
        checks turn into errors (an invalid code, a repeated id), which are not counted as outside the range."""
        start = self.rows
        self.rows += len(chunk)
        bad = np.flatnonzero((scored["status"] == "error").to_numpy(dtype=bool))
        if len(bad):
            self.unscorable += len(bad)
            if self.first_error is None:
                self.first_error, self.first_error_row = str(scored["error"].iloc[bad[0]]), start + int(bad[0]) + 1
        anywhere = np.zeros(len(chunk), dtype=bool)
        # the rows scored by the model: not refused (inf, text), not by the row checks, not in default (grade D: PD 1
        # whatever the inputs)
        scored_ok = (scored["status"] != "error").to_numpy(dtype=bool, copy=True)
        if "grade" in scored.columns:
            scored_ok &= (scored["grade"].astype("string") != "D").fillna(True).to_numpy(dtype=bool)
        if refused is not None:
            scored_ok &= ~np.asarray(refused, dtype=bool)
        self.rows_counted += int(scored_ok.sum())
        for c, (lo, hi) in self.ranges.items():
            if c not in chunk.columns:
                continue
            col = chunk[c]
            if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                v = col.to_numpy(dtype=np.float64, na_value=np.nan)
            else:   # a chunk with a text cell: the cells that read as numbers (the others are row errors)
                v = pd.to_numeric(col.astype("string").str.strip(), errors="coerce").to_numpy(
                    dtype=np.float64, na_value=np.nan)
            below, above = (v < lo) & scored_ok, (v > hi) & scored_ok   # an error row (inf, text) is not scored
            anywhere |= below | above
            if below.any() or above.any():
                tally = self.outside[c]
                if not tally[2]:
                    tally[2] = start + int(np.flatnonzero(below | above)[0]) + 1
                tally[0] += int(below.sum())
                tally[1] += int(above.sum())
        self.rows_outside += int(anywhere.sum())

    def outside_range(self) -> dict[str, dict[str, Any]]:
        """Per column with values outside its training range: ``below``, ``above`` (rows), ``first_row``
        (1-based) and the range itself (``training_min``, ``training_max``); most rows first."""
        hit = {c: {"below": t[0], "above": t[1], "first_row": t[2], "training_min": self.ranges[c][0],
                   "training_max": self.ranges[c][1]} for c, t in self.outside.items() if t[0] or t[1]}
        return dict(sorted(hit.items(), key=lambda kv: -(kv[1]["below"] + kv[1]["above"])))

    def warn(self, file: str | Path) -> None:
        """Log the summary: one warning for the unscorable rows, one for the values outside the training range."""
        if self.unscorable:
            where = f" (row {self.first_error_row})" if self.first_error_row else ""
            log.warning("%s: %d of %d rows have a model input that cannot be scored (status=error); first%s: %s",
                        file, self.unscorable, self.rows, where, self.first_error)
        hit = {c: t for c, t in self.outside.items() if t[0] or t[1]}
        if hit:
            def one(c: str, t: list[int]) -> str:
                lo, hi = self.ranges[c]
                side = ", ".join(x for x in (f"{t[0]:,} below" if t[0] else "", f"{t[1]:,} above" if t[1] else "")
                                 if x)
                return f"{c}: {side} (training {lo:.10g} .. {hi:.10g}; first row {t[2]})"

            log.warning("%s: values outside the range the model saw in training, where its scores extrapolate "
                        "(status and scores unchanged): %s", file, "; ".join(one(c, t) for c, t in hit.items()))


@dataclass
class ScoreResult:
    out: Path
    rows: int
    rows_ok: int
    rows_error: int
    seconds: float
    model_name: str
    model_version: str
    files: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else float("nan")
        lines = [f"scored {self.rows:,} rows ({self.rows_ok:,} ok, {self.rows_error:,} error) with "
                 f"{self.model_name} version {self.model_version} in {self.seconds:.1f} s ({rate:,.0f} rows/s)"]
        lines += [f"  {k}: {v}" for k, v in self.files.items()] or [f"  output: {self.out}"]
        return "\n".join(lines)


def score_frame(model: CreditModel, df: pd.DataFrame, id_col: str | None = None, file: str | Path | None = None,
                warn: bool = True) -> pd.DataFrame:
    """Identifiers (``id_col``, ``uscc``, ``as_of_date``, ``loan_id`` when present) + scoring columns; a row whose
    ``in_default`` input is set is graded D (:func:`apply_in_default`); ``warn`` as for the model's ``score_frame``."""
    keep = [c for c in dict.fromkeys([id_col, *PASSTHROUGH]) if c and c in df.columns]
    if id_col and id_col not in df.columns:
        raise InputError(f"id column {id_col!r} not found{separator_hint(df.columns)}", file=file, column=id_col)
    scored = model.score_frame(df, file=file, warn=warn)
    out = pd.concat([df[keep].reset_index(drop=True), scored.reset_index(drop=True)], axis=1)
    return apply_in_default(out, df)


def score_file(model_uri: str | Path, data: str | Path, out: str | Path, id_col: str | None = None,
               engine: str = "pandas", spark_master: str | None = None, chunk_rows: int = 500_000,
               pricing_config: str | Path | None = None, progress: bool = True) -> ScoreResult:
    """Score a file and write the result (format by the ``out`` suffix: .parquet or .csv)."""
    data, out = Path(data), Path(out)
    if out.suffix.lower() not in {".parquet", ".csv"}:
        raise InputError("output file must end in .parquet or .csv", file=out)
    check_input_file(data, out)
    from creditmodel.data.io import check_output_writable

    check_output_writable(out)   # before the model is loaded and the rows are scored
    resolved = resolve_model(model_uri)
    outputs = _deliverable_columns() if resolved.alias is not None else [*SCORE_COLUMNS, "data_sha256", "scored_at"]
    if id_col is None and resolved.alias is None:
        id_col = _trained_id_column(resolved.model, data, outputs)
    if id_col and id_col not in PASSTHROUGH and id_col in outputs:
        raise InputError(f"--id {id_col!r} has the name of an output column; the output would hold two columns of "
                         "that name: rename the identifier in the input", file=data, column=id_col)
    if engine == "spark":
        from creditmodel.scoring.spark import score_file_spark

        return score_file_spark(resolved, data, out, id_col=id_col, master=spark_master, pricing_config=pricing_config)
    if resolved.alias is not None:
        from creditmodel.delivery import deliver_file

        return deliver_file(resolved, data, out, id_col=id_col, chunk_rows=chunk_rows,
                            pricing_config=pricing_config, progress=progress)
    return _score_plain(resolved, data, out, id_col, chunk_rows, progress)


def _trained_id_column(model: CreditModel, data: Path, outputs: list[str]) -> str | None:
    """The id column the model was trained with (``train --id``) when ``data`` has it: the default identifier of
    a model folder's scores (without it a score was tied to its applicant by row order alone and a repeated id
    passed as ok: a reviewer's finding)."""
    trained = model.id_col or (model.metadata or {}).get("id_col") or None
    if not trained or trained in outputs:
        return None
    from creditmodel.data.io import read_table

    try:   # the columns as scoring reads them (iter_chunks reads its header the same way)
        names = read_table(data, nrows=1, as_text=True).columns
    except InputError:   # unreadable: scoring says so with its own message
        return None
    if trained not in names:
        return None
    log.info("%s: identifier column %r, the model's id column (--id names another)", data, trained)
    return trained


def _score_plain(resolved: ResolvedModel, data: Path, out: Path, id_col: str | None, chunk_rows: int,
                 progress: bool) -> ScoreResult:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from creditmodel.progress import tqdm

    from creditmodel.delivery import SCORED_AT_CSV_FORMAT, scored_at_now

    t0 = time.perf_counter()
    sha = tracking.file_sha256(data)
    when = scored_at_now()
    model = resolved.model
    model.version = resolved.version
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    writer = None
    rows = rows_ok = 0
    first = True
    bar = tqdm(desc=f"scoring {data.name}", unit="rows", disable=not progress, leave=False)
    # a uscc or as_of_date column is checked as the deliverable checks it (an invalid code was passed through)
    checks = RowChecks(id_col, identifiers=True, features=tuple(model.input_spec.columns))
    summary = ChunkSummary(model)   # one warning per file, after the last chunk, not one per chunk
    try:
        for chunk in iter_chunks(data, chunk_rows, text_columns=_text_columns(model, id_col)):
            res = score_frame(model, chunk, id_col=id_col, file=data, warn=False)
            msg = checks.messages(chunk)
            summary.add(chunk, res, refused=pd.notna(msg))
            apply_row_errors(res, msg)
            res["data_sha256"] = sha
            res["scored_at"] = when
            res = in_deliverable_order(res)
            rows += len(res)
            rows_ok += int((res["status"] == "ok").sum())
            if out.suffix.lower() == ".parquet":
                table = pa.Table.from_pandas(res, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
            else:  # scored_at as the deliverable's CSV writes it (pandas wrote "2026-12-04 10:00:00+00:00")
                res["scored_at"] = when.tz_convert("UTC").strftime(SCORED_AT_CSV_FORMAT)
                res.to_csv(tmp, mode="w" if first else "a", header=first, index=False,
                           encoding="utf-8-sig" if first else "utf-8", float_format="%.10g")
            first = False
            bar.update(len(res))
    except BaseException:
        if writer is not None:
            writer.close()
            writer = None
        tmp.unlink(missing_ok=True)  # no half-written output left behind
        raise
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    tmp.replace(out)
    summary.warn(data)
    return ScoreResult(out, rows, rows_ok, rows - rows_ok, time.perf_counter() - t0, model.name,
                       str(resolved.version), {"scores": out})
