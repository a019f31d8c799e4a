"""The bank deliverable (DESIGN.md section 6): one row per enterprise or loan, in input order.

Written as Parquet and as CSV (UTF-8 with BOM so Excel shows Chinese), with a JSON sidecar that
describes every column (name, type, unit, meaning in Chinese and English) and lists the reason-code
texts, and a model card beside it. Every row carries the model's name and version and the SHA-256
of the input data. ``scored_at`` honours ``SOURCE_DATE_EPOCH`` so a rerun can be byte-identical.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditmodel.data.uscc import normalise_series
from creditmodel.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    unit: str
    zh: str
    en: str


COLUMNS: tuple[ColumnDoc, ...] = (
    ColumnDoc("uscc", "string", "", "统一社会信用代码", "Unified social credit code of the enterprise"),
    ColumnDoc("as_of_date", "date", "", "评分基准日", "Date the features were observed (nothing later is used)"),
    ColumnDoc("score", "integer", "points", "信用评分(分值越高风险越低)", "Credit score in points; higher is safer"),
    ColumnDoc("grade", "string", "", "主标尺等级(1最优..10最差, D=已违约)",
              "Master-scale grade, 1 best .. 10 worst, D = in default at the as-of date (input in_default; pd_12m = 1). "
              "It is the grade of pd_12m: for a scorecard every score has one PD and one grade (score_to_pd.csv); for "
              "a LightGBM model the score is the PD on the points scale, rounded, so at a grade's edge one integer "
              "score can carry two grades: grade from pd_12m, not from the score"),
    ColumnDoc("pd_12m", "float", "fraction", "校准后的12个月违约概率", "Calibrated probability of default within 12 months"),
    ColumnDoc("reason_1", "string", "", "首要扣分原因代码", "Code of the factor that costs the most points"),
    ColumnDoc("reason_2", "string", "", "第二扣分原因代码", "Code of the second factor"),
    ColumnDoc("reason_3", "string", "", "第三扣分原因代码", "Code of the third factor"),
    ColumnDoc("public_credit_grade", "string", "", "公共信用综合评价等级(A优/B良/C中/D差)",
              "Public credit evaluation grade: A excellent, B good, C medium, D poor"),
    ColumnDoc("supervision_class", "string", "", "信用风险分类监管类别(A-D)",
              "Graded-supervision class A (low risk) .. D (high risk)"),
    ColumnDoc("expected_loss_rate", "float", "fraction of exposure over 12 months",
              "预期损失率(PD×LGD, PD不低于巴塞尔下限0.05%; 已违约D级为LGD)",
              "Expected loss rate, PD x LGD with the PD floored as for capital (Basel III: 0.05 %) (a row in "
              "default, grade D with PD = 1, expects its whole LGD)"),
    ColumnDoc("capital_rate", "float", "fraction of exposure",
              "资本占用率(12.5×IRB资本要求K×资本充足率; 未设充足率时为K; 输入有销售额/营业收入时含中小企业规模调整; "
              "已违约D级为0)",
              "Capital held against the loan as a fraction of exposure: 12.5 x the IRB capital requirement K x "
              "the bank's capital ratio (risk-weighted assets x ratio), or K itself when no ratio is set. K takes "
              "the Basel SME firm-size adjustment where the input row gave sales_eur_m or revenue below EUR 50 m "
              "(the deliverable does not repeat them; the sidecar's pricing_firm_size counts those rows), none "
              "where it did not. "
              "0 for a row in default (grade D): its loss is expected (expected_loss_rate = LGD), not unexpected"),
    ColumnDoc("suggested_rate", "float", "fraction per year", "建议年利率(风险定价)",
              "Suggested annual rate from risk-based pricing; empty when not priced (the row's error says why, "
              "e.g. in default (PD = 1), the risk-based rate above the pricing cap, an unknown collateral type)"),
    ColumnDoc("model_name", "string", "", "模型名称", "Name of the model that produced the score"),
    ColumnDoc("model_version", "string", "", "模型版本", "Registered version (or fingerprint) of the model"),
    ColumnDoc("data_sha256", "string", "", "输入数据SHA-256", "SHA-256 of the input data file"),
    ColumnDoc("scored_at", "timestamp (UTC)", "", "评分时间(UTC)", "When the row was scored (UTC)"),
    ColumnDoc("status", "string", "", "评分状态(ok/error)", "ok, or error when the row could not be scored"),
    ColumnDoc("error", "string", "", "错误原因(或未定价原因)",
              "Why the row could not be scored (names the column); on a scored row without a suggested rate, "
              "why it was not priced ('not priced: ...')"),
)
DELIVERABLE_COLUMNS: list[str] = [c.name for c in COLUMNS]


#: How CSV files write ``scored_at`` (UTC, ISO 8601): the deliverable and a model folder's ``score`` output alike.
SCORED_AT_CSV_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def scored_at_now() -> pd.Timestamp:
    """Now in UTC (seconds), or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return pd.Timestamp(int(epoch), unit="s", tz="UTC")
    return pd.Timestamp(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))


#: A UTC offset after a time of day (``00:00:00+08:00``, ``T08:00Z``): dropped, so that text keeps its local wall time
_UTC_OFFSET = r"([T ]\d{1,2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)\s*(?:Z|z|UTC|[+-]\d{2}(?::?\d{2})?)$"


def parse_as_of(values: pd.Series) -> pd.Series:
    """``as_of_date`` values as naive timestamps in their own local time: date/time columns as they are (time zone
    dropped), anything else read as ISO 8601 text (``2025-06-30``), a UTC offset after a time dropped too, so that
    ``2025-12-31 00:00:00+08:00`` is 31 December whether it comes as text (a CSV) or as a time-zone column (Parquet);
    read as text it was converted to UTC first and became 30 December (a reviewer's finding). Unreadable values
    become NaT. The one parser of the deliverable: the row check (:class:`creditmodel.scoring.score.RowChecks`)
    and the written column agree, whatever the chunk."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
    text = values.astype("string").str.strip().str.replace(_UTC_OFFSET, r"\1", regex=True)
    try:
        got = pd.to_datetime(text, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):   # a zone the pattern does not know beside plain dates: "Mixed timezones"
        got = pd.Series([_local_time(v) for v in text], index=values.index, dtype="datetime64[ns]")
    if getattr(got.dt, "tz", None) is not None:   # every value carried a zone the pattern does not know
        got = got.dt.tz_localize(None)
    return got


def _local_time(v: Any) -> pd.Timestamp:
    """One ``as_of_date`` text as a naive timestamp in its own local time (NaT when unreadable)."""
    t = pd.to_datetime(v, errors="coerce", format="ISO8601")
    return pd.NaT if pd.isna(t) else t.tz_localize(None) if t.tzinfo is not None else t


def assemble(scored: pd.DataFrame, inputs: pd.DataFrame, data_sha256: str, scored_at: pd.Timestamp | None = None,
             evaluation: pd.DataFrame | None = None, pricing: pd.DataFrame | None = None,
             id_col: str | None = None) -> pd.DataFrame:
    """Build the deliverable in column order from aligned frames (same length and order).

    ``id_col`` (``--id``, e.g. a loan number; not ``uscc``, which is a contract column) is added as the last
    column, as text exactly as read, so that a bank can join the rows back to its own.

    ``scored`` has the scoring columns; ``inputs`` may carry ``uscc``, ``as_of_date`` and already
    known ``public_credit_grade`` / ``supervision_class``; ``evaluation`` (by ``uscc``) supplies the
    public credit grade and supervision class; ``pricing`` (aligned) supplies the pricing columns.
    Columns that do not apply stay empty (null), never missing.
    """
    n = len(scored)
    if len(inputs) != n or (pricing is not None and len(pricing) != n):
        raise ValueError("scored, inputs and pricing must have the same number of rows")
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["uscc"] = _col(inputs, "uscc", n, "string")
    if "as_of_date" in inputs:
        out["as_of_date"] = parse_as_of(inputs["as_of_date"]).reset_index(drop=True).dt.normalize()
    else:
        out["as_of_date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[s]")
    for c in ("score", "grade", "pd_12m", "reason_1", "reason_2", "reason_3"):
        out[c] = scored[c].to_numpy() if c != "score" else scored[c].astype("Int64").to_numpy()
    out["score"] = out["score"].astype("Int64")
    for c in ("grade", "reason_1", "reason_2", "reason_3"):
        out[c] = out[c].astype("string")
    pcg = _col(inputs, "public_credit_grade", n, "string")
    sup = _col(inputs, "supervision_class", n, "string")
    given = {"public_credit_grade": pcg, "supervision_class": sup}
    checked = {c: public_credit_values(v, c) for c, v in given.items()}
    pcg, sup = checked["public_credit_grade"][0], checked["supervision_class"][0]
    if evaluation is not None and "uscc" in inputs:
        # both sides as the row check reads a code (NFKC, blanks, case): a code typed in lower case or with a blank
        # was scored ok but found no evaluation (helper-138's mutation pass)
        ev = evaluation.assign(uscc=normalise_series(evaluation["uscc"])).drop_duplicates("uscc").set_index("uscc")
        keys = normalise_series(inputs["uscc"])
        if "public_credit_grade" in ev:
            pcg = pcg.fillna(keys.map(ev["public_credit_grade"]).astype("string").reset_index(drop=True))
        if "supervision_class" in ev:
            sup = sup.fillna(keys.map(ev["supervision_class"]).astype("string").reset_index(drop=True))
    notes = pd.Series(pd.NA, index=out.index, dtype="string")
    out["public_credit_grade"], out["supervision_class"] = pcg, sup
    for c in ("public_credit_grade", "supervision_class"):
        wrong = checked[c][1] & out[c].isna().to_numpy(dtype=bool)   # not filled from the evaluation either
        if wrong.any():   # left empty, and the row says why (a bank's copy with 'E' or 'AA' was passed through)
            note = (f"{c} " + given[c][wrong].str.strip().map(repr).astype("string")
                    + " is not one of A, B, C, D" + (" (优/良/中/差)" if c == "public_credit_grade" else "")
                    + ": left empty")
            notes[wrong] = (notes[wrong] + "; " + note).fillna(note)
    for c in ("expected_loss_rate", "capital_rate", "suggested_rate"):
        out[c] = (pricing[c].to_numpy(dtype=float) if pricing is not None and c in pricing
                  else np.full(n, np.nan))
    for c in ("model_name", "model_version", "status", "error"):
        out[c] = scored[c].astype("string").to_numpy()
        out[c] = out[c].astype("string")
    if pricing is not None and "pricing_reason" in pricing:
        # a scored row without a rate says why (unknown collateral, a negative amount, in default, above the cap):
        # an empty rate with an empty error left the bank guessing
        why = pd.Series(pricing["pricing_reason"].to_numpy(dtype=object), dtype="string")
        unpriced = (out["status"] == "ok").fillna(False).to_numpy(dtype=bool) & why.notna().to_numpy(dtype=bool)
        if unpriced.any():
            out.loc[unpriced, "error"] = ("not priced: " + why[unpriced]).to_numpy()
    has = notes.notna().to_numpy(dtype=bool)
    if has.any():
        prior = out.loc[has, "error"].fillna("")
        out.loc[has, "error"] = prior.where(prior == "", prior + "; ") + notes[has]
    out["data_sha256"] = pd.array([data_sha256] * n, dtype="string")
    at = pd.Timestamp(scored_at or scored_at_now()).tz_convert("UTC").tz_localize(None).as_unit("s")
    out["scored_at"] = pd.Series(np.full(n, at.to_datetime64()), dtype="datetime64[s]").dt.tz_localize("UTC")
    out = out[DELIVERABLE_COLUMNS]
    if id_col and id_col not in DELIVERABLE_COLUMNS and id_col in inputs:  # last: the contract's positions stay
        out[id_col] = inputs[id_col].astype("string").reset_index(drop=True).to_numpy()
    return out


#: The public credit evaluation's grades in Chinese (DESIGN section 5: A/B/C/D = 优/良/中/差).
PUBLIC_CREDIT_GRADES_ZH = {"优": "A", "良": "B", "中": "C", "差": "D"}


def public_credit_values(given: pd.Series, column: str) -> tuple[pd.Series, np.ndarray]:
    """``given`` grades or classes as A/B/C/D (trimmed, upper case; for ``public_credit_grade`` also 优/良/中/差),
    and the rows whose non-blank value is none of them (left empty)."""
    # full-width letters (Ａ) and a grade or class written with its word (A级, B类) are read as the letter
    text = given.astype("string").str.normalize("NFKC").str.strip().str.upper().str.replace(
        r"\s*[级類类]$", "", regex=True)
    if column == "public_credit_grade":
        text = text.replace(PUBLIC_CREDIT_GRADES_ZH)
    text = text.where(text != "")
    ok = text.isin(["A", "B", "C", "D"]).fillna(False).to_numpy(dtype=bool)
    wrong = text.notna().to_numpy(dtype=bool) & ~ok
    return text.where(ok).astype("string").reset_index(drop=True), wrong


def _col(df: pd.DataFrame, name: str, n: int, dtype: str) -> pd.Series:
    if name in df:
        return df[name].astype(dtype).reset_index(drop=True)
    return pd.Series(pd.NA, index=pd.RangeIndex(n), dtype=dtype)


def sidecar(df: pd.DataFrame, model_name: str, model_version: str, data_sha256: str,
            reason_codes: pd.DataFrame | None = None, extra: dict[str, Any] | None = None,
            id_col: str | None = None) -> dict[str, Any]:
    """The JSON sidecar: file-level facts, every column described (``id_col`` last when given), reason-code texts."""
    cols = list(COLUMNS) + ([ColumnDoc(id_col, "string", "", "输入数据中的标识(--id)", "Identifier of the row in the "
                                       "input (--id)")] if id_col and id_col not in DELIVERABLE_COLUMNS else [])
    return {
        "format": "creditmodel bank deliverable",
        "rows": int(len(df)),
        "rows_ok": int((df["status"] == "ok").sum()),
        "rows_error": int((df["status"] == "error").sum()),
        "model_name": model_name,
        "model_version": model_version,
        "data_sha256": data_sha256,
        "columns": [{"name": c.name, "type": c.type, "unit": c.unit, "description_zh": c.zh,
                     "description_en": c.en} for c in cols],
        "reason_codes": ([] if reason_codes is None else
                         [{"code": r.code, "text_zh": r.text_zh, "text_en": r.text_en}
                          for r in reason_codes.itertuples(index=False)]),
        **(extra or {}),
    }


#: significant digits of the floats in the CSV (the Parquet file keeps full precision)
CSV_SIGNIFICANT_DIGITS = 10


def round_significant(x: np.ndarray, digits: int = CSV_SIGNIFICANT_DIGITS) -> np.ndarray:
    """``x`` rounded to ``digits`` significant digits (vectorised; NaN, inf and 0 unchanged).

    The result is the double nearest to the rounded decimal, so its shortest text form has at most
    ``digits`` digits (what ``%.{digits}g`` prints, without formatting every value in Python).
    """
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.floor(np.log10(np.abs(x)))
    finite = np.isfinite(e)
    k = np.zeros(x.shape, dtype=np.int64)
    k[finite] = (digits - 1 - e[finite]).astype(np.int64)
    fast = finite & (np.abs(k) <= 22)  # 10**k is an exact double up to 10**22
    v, kk = x[fast], k[fast]
    up = kk >= 0  # multiply and divide by the exact power of ten on the side where it is >= 1
    r = np.empty_like(v)
    r[up] = np.rint(v[up] * 10.0 ** kk[up]) / 10.0 ** kk[up]
    r[~up] = np.rint(v[~up] / 10.0 ** -kk[~up]) * 10.0 ** -kk[~up]
    out[fast] = r
    slow = np.flatnonzero(finite & ~fast)  # magnitudes beyond 1e+-13: rare, formatted one by one
    out[slow] = [float(f"%.{digits}g" % x[i]) for i in slow]
    return out


def _strftime_distinct(col, fmt: str):
    """``pyarrow.compute.strftime`` on the distinct values only (a deliverable has a few dates, one
    ``scored_at``), then expanded: the same strings, without formatting a million equal timestamps."""
    import pyarrow as pa
    import pyarrow.compute as pc

    enc = col.combine_chunks().dictionary_encode()
    return pa.DictionaryArray.from_arrays(enc.indices, pc.strftime(enc.dictionary, format=fmt)).cast(pa.string())


def write_csv_chunk(table: "pa.Table", f, header: bool) -> None:
    """Write one deliverable chunk as CSV with pyarrow: dates as ``YYYY-MM-DD``, ``scored_at`` as
    ``YYYY-MM-DDTHH:MM:SSZ``, floats to :data:`CSV_SIGNIFICANT_DIGITS` significant digits, text
    quoted, null as an empty field. Same values as ``DataFrame.to_csv(float_format="%.10g")``, which
    took 60 % of the deliverable's time at 1M rows (``bench/results/delivery.md``)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    cols = {}
    for name in table.column_names:
        col = table[name]
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        if name == "as_of_date":
            col = _strftime_distinct(col.cast(pa.timestamp("s")), "%Y-%m-%d")
        elif name == "scored_at":
            col = _strftime_distinct(col.cast(pa.timestamp("s", tz="UTC")), SCORED_AT_CSV_FORMAT)
        elif pa.types.is_floating(col.type):
            vals = col.to_numpy(zero_copy_only=False)
            col = pa.array(round_significant(vals), mask=np.isnan(vals), type=pa.float64())
        cols[name] = col
    pacsv.write_csv(pa.table(cols), f, write_options=pacsv.WriteOptions(include_header=header,
                                                                          quoting_style="needed"))


def deliverable_paths(out: str | Path) -> dict[str, Path]:
    """The files a deliverable named ``out`` consists of: ``out`` without its .parquet/.csv suffix (only that one:
    ``portfolio.v2.csv`` -> ``portfolio.v2``) plus .parquet, .csv, .columns.json and .model_card.md."""
    out = Path(out)
    stem = out.parent / out.stem if out.suffix.lower() in {".parquet", ".csv"} else out
    return {"parquet": Path(f"{stem}.parquet"), "csv": Path(f"{stem}.csv"),
            "sidecar": Path(f"{stem}.columns.json"), "model_card": Path(f"{stem}.model_card.md")}


class DeliverableWriter:
    """Append deliverable chunks to ``<stem>.parquet`` and ``<stem>.csv``; finish with the sidecar and card.

    Memory stays bounded by one chunk, so millions of rows can be delivered.
    """

    def __init__(self, out: str | Path, data: str | Path | None = None) -> None:
        out = Path(out)
        self.paths = deliverable_paths(out)
        if data is not None and Path(data).exists():
            src = Path(data).resolve()
            clash = [p for p in self.paths.values() if p.resolve() == src]
            if clash:
                raise InputError(f"the deliverable writes {', '.join(p.name for p in self.paths.values())}: "
                                 f"{clash[0].name} would overwrite the input file; give --out another name",
                                 file=clash[0])
        out.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = {k: p.with_name(p.name + ".partial") for k, p in self.paths.items() if k in {"parquet", "csv"}}
        self._writer = None
        self.rows = 0
        self.rows_ok = 0

    def append(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = list(df.columns)
        if cols[:len(DELIVERABLE_COLUMNS)] != DELIVERABLE_COLUMNS or len(cols) > len(DELIVERABLE_COLUMNS) + 1:
            raise ValueError("deliverable columns are not in the contract order (an optional id column last)")
        table = pa.Table.from_pandas(df, preserve_index=False)
        # a date, as the sidecar says: it was timestamp[ns] or [us] or [s] by the input's own type (a reviewer)
        i = table.schema.get_field_index("as_of_date")
        table = table.set_column(i, pa.field("as_of_date", pa.date32()), table["as_of_date"].cast(pa.date32()))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp["parquet"], table.schema)
        self._writer.write_table(table.cast(self._writer.schema))
        first = self.rows == 0
        with open(self._tmp["csv"], "wb" if first else "ab") as f:
            if first:
                f.write(b"\xef\xbb\xbf")  # UTF-8 BOM, once, so Excel reads the Chinese texts
            write_csv_chunk(table, f, header=first)
        self.rows += len(df)
        self.rows_ok += int((df["status"] == "ok").sum())

    def close(self, sidecar_doc: dict[str, Any], model_card: str | None = None) -> dict[str, Path]:
        if self._writer is None:
            raise ValueError("no rows were written")
        self._writer.close()
        for k, tmp in self._tmp.items():
            tmp.replace(self.paths[k])
        self.paths["sidecar"].write_text(json.dumps(sidecar_doc, ensure_ascii=False, indent=1), encoding="utf-8")
        paths = dict(self.paths)
        if model_card is not None:
            paths["model_card"].write_text(model_card, encoding="utf-8")
        else:
            paths.pop("model_card")
        log.info("deliverable written: %s", ", ".join(str(p) for p in paths.values()))
        return paths


def write(df: pd.DataFrame, out: str | Path, sidecar_doc: dict[str, Any], model_card: str | None = None) -> dict[str, Path]:
    """Write ``<stem>.parquet``, ``<stem>.csv`` (UTF-8 BOM), ``<stem>.columns.json`` and the model card.

    ``out`` may end in .parquet or .csv; both files are written either way.
    """
    w = DeliverableWriter(out)
    w.append(df)
    return w.close(sidecar_doc, model_card)


def warn_missing_identifiers(columns: Any, data: Path, id_col: str | None) -> None:
    """Warn when the input lacks the deliverable's identifier columns: they would be empty on every row."""
    missing = [c for c in ("uscc", "as_of_date") if c not in columns]
    if missing:
        log.warning("file %s has no %s column: the deliverable's %s empty on every row; %s", data,
                    " or ".join(repr(c) for c in missing), " and ".join(missing) + (" are" if len(missing) > 1 else " is"),
                    f"rows are told apart by {id_col!r} only" if id_col else
                    "and no --id column was given: a bank can tell the rows apart only by their order")


#: Input columns the deliverable reads besides the model's features: identifiers, known public credit results, and
#: what pricing uses (``collateral``, ``amount``, ``revenue``, ``sales_eur_m``, ``lgd``, ``secured_share``,
#: ``maturity``: the optional columns of :func:`creditmodel.pricing.price_frame`; the last two were left out, so a
#: deliverable priced every loan at the configured 2.5 years and a partly secured own LGD at the fully secured floor
#: while ``creditmodel price`` read them: a bank reviewer's finding).
PRICING_INPUTS = ("collateral", "amount", "revenue", "sales_eur_m", "lgd", "secured_share", "maturity")
DELIVERY_INPUTS = ("uscc", "as_of_date", "public_credit_grade", "supervision_class", "in_default", *PRICING_INPUTS)


#: Days between the latest as-of date and the scoring date above which the card says the PDs are for an earlier
#: 12-month window (a quarter: features refreshed quarterly or more often are not flagged).
STALE_AS_OF_DAYS = 92


def promotion_line(meta: dict[str, Any]) -> str:
    """The card's line on how this version became the champion: the promotion check's date, status, sample and
    reasons (registry tags ``promotion_*``), and, when the validation recorded since is red, that relying on it is
    the bank's decision (a bank reviewer's finding: the card did not say why a version validated red was champion).
    Empty when the version records no promotion."""
    if meta.get("promotion_decision") != "promoted":
        return ""
    try:
        ev = json.loads(str(meta.get("promotion_evidence") or "{}"))
    except ValueError:
        ev = {}
    ev = ev if isinstance(ev, dict) else {}
    when = str(meta.get("promotion_checked_at") or "")[:10]
    sample = f" on {int(ev['n']):,} rows of {Path(str(ev['sample'])).name}" if ev.get("n") and ev.get("sample") else ""
    line = (f"- Promoted to champion by the check{' of ' + when if when else ''} (status "
            f"{meta.get('promotion_validation_status') or 'not recorded'}{sample}"
            + (f": {meta['promotion_reasons']}" if meta.get("promotion_reasons") else "") + ")")
    if str(meta.get("validation_status") or "") == "red":
        line += ("; the validation recorded since (above) is red: relying on this version's PDs and rates is the "
                 "bank's decision until it is revalidated or replaced")
    return line + "."


def validation_basis(meta: dict[str, Any]) -> str:
    """What a version's ``validation_status`` rests on: its ``validation_basis`` tag, else what its other tags show
    (an analyst's finding: a fresh champion was delivered as "amber" from a 147-row in-time promotion check)."""
    if meta.get("validation_basis"):
        return str(meta["validation_basis"])
    if meta.get("validation_run_id"):
        return "out-of-time validation (notebook 04)"
    if meta.get("validation_status") and meta.get("promotion_validation_status"):
        return "in-time promotion check (not validated out of time)"
    return ""


def _validation_report(meta: dict[str, Any], sidecar_path: Path) -> tuple[str, tuple[Path, Path] | None]:
    """What the sidecar says of the model's validation report, and (source, copy) when it is copied beside the
    deliverable as ``<stem>.validation_report.html``: a local path means nothing on the bank's machine."""
    src = str(meta.get("validation_report") or "")
    if not src:
        return "", None
    dest = Path(str(sidecar_path)[: -len(".columns.json")] + ".validation_report.html")
    if Path(src).is_file():
        return dest.name, (Path(src), dest)
    return f"{src} (not on this machine)", None


def _model_files(model: Any, files: dict[str, Path]) -> Path | None:
    """The model's own files for a bank that scores without our code (points table as CSV and JSON, scorecard.sql,
    score_to_pd.csv, reason codes, master scale: the files ``train`` writes, made by the same function as the
    registered model's artifacts) in ``<stem>.model_files/`` beside the deliverable; they were only inside the
    MLflow store (a user's finding: the README promises them with the deliverable). None when not written."""
    import shutil

    from creditmodel.scoring.pyfunc import _write_side_files

    dest = Path(str(files["sidecar"])[: -len(".columns.json")] + ".model_files")
    if dest.exists():
        shutil.rmtree(dest)   # a previous model's files must not stay beside these
    dest.mkdir(parents=True)
    try:
        written = _write_side_files(model, dest)
    except Exception as e:  # noqa: BLE001 - the scores stand without them; say so
        log.warning("the model's points table and SQL could not be written beside the deliverable: %s", e)
        shutil.rmtree(dest, ignore_errors=True)
        return None
    log.info("the model's own files (%s) are beside it: %s", ", ".join(sorted(Path(f).name for f in
                                                                             written.values())), dest)
    return dest


def development_window(model: Any) -> tuple[pd.Timestamp | None, pd.Timestamp] | None:
    """The model's development originations (first, last): from its ``data_description`` "YYYY-MM-DD ..
    YYYY-MM-DD", else ``(None, last_development_origination)``; None when neither is recorded."""
    meta = getattr(model, "metadata", {}) or {}
    dev = re.search(_DATE_RANGE, str(meta.get("data_description") or ""))
    if dev:
        return pd.Timestamp(dev.group(1)), pd.Timestamp(dev.group(2))
    if meta.get("last_development_origination"):
        return None, pd.Timestamp(str(meta["last_development_origination"]))
    return None


def development_borrowers(loans: pd.DataFrame, model: Any) -> dict[str, Any]:
    """The enterprises of a loans table (``uscc``; ``origination_date`` optional), for the model card's count of
    scored firms outside the development population: ``any`` (a loan at all), ``development`` (a loan originated in
    the model's development window, read from its ``data_description`` "YYYY-MM-DD .. YYYY-MM-DD", else up to its
    ``last_development_origination``; None when neither the dates nor the window are known), the windows as text.
    The development data holds granted loans only: a firm with none is one the model never saw the like of."""
    if "uscc" not in loans.columns:
        raise InputError("loans: no uscc column; the model card counts the scored firms without a loan by uscc",
                         column="uscc")
    firm = normalise_series(loans["uscc"])
    out: dict[str, Any] = {"any": pd.Index(firm.dropna().unique()), "development": None, "loans_window": ""}
    if "origination_date" not in loans.columns:
        return out
    when = parse_as_of(loans["origination_date"])
    if when.notna().any():
        out["loans_window"] = f"{when.min():%Y-%m-%d} .. {when.max():%Y-%m-%d}"
    win = development_window(model)
    if win is None:
        return out
    lo, hi = win
    out["development_window"] = f"{lo:%Y-%m-%d} .. {hi:%Y-%m-%d}" if lo is not None else f"up to {hi:%Y-%m-%d}"
    # the last day whole (a time of day too)
    inside = (when >= (lo if lo is not None else pd.Timestamp.min)) & (when < hi + pd.Timedelta(days=1))
    out["development"] = pd.Index(firm[inside.to_numpy()].dropna().unique())
    return out


class Delivery:
    """One bank deliverable written chunk by chunk: each scored chunk is priced, assembled in the contract's column
    order and appended; :meth:`finish` writes the sidecar and the model card. The in-process engine and the Spark
    engine both feed it, so both deliver the same columns."""

    def __init__(self, resolved: Any, data: str | Path, out: str | Path, id_col: str | None = None,
                 pricing_config: str | Path | None = None, evaluation: pd.DataFrame | None = None,
                 loans: pd.DataFrame | None = None) -> None:
        import time

        from creditmodel import pricing, tracking

        self.t0 = time.perf_counter()
        resolved.model.version = resolved.version  # the card and the rows name the registered version (Spark too)
        self.resolved, self.data, self.out, self.id_col, self.evaluation = resolved, Path(data), Path(out), id_col, \
            evaluation
        self.sha = tracking.file_sha256(self.data)
        self.when = scored_at_now()
        self.cfg = pricing.load_config(pricing_config)
        self.cfg_record = pricing.config_record(pricing_config, self.cfg)
        self.sized = 0                           # priced rows whose input gave the firm's sales
        self.sme = 0                             # ... of which below EUR 50 m: the SME firm-size adjustment
        self.capital_rows = 0                    # rows whose capital was computed (scored, not in default)
        self.default_terms = {"collateral": 0, "maturity": 0}   # ... of which priced at the configured term
        self.writer = DeliverableWriter(self.out, self.data)
        self.not_priced: dict[str, int] = {}     # scored rows without a suggested rate, by reason
        self.in_default = 0                      # scored rows graded D because the input flags them in default
        self.invalid: dict[str, list[int]] = {}  # public credit column -> [rows, first 1-based data row]
        self.as_of: list[pd.Timestamp] = []      # earliest and latest as-of date scored (the card's windows)
        self.priced = self.policy_set = self.over_cap = 0   # rows with a rate; ... set by the policy rate; over the cap
        self.borrowers = development_borrowers(loans, resolved.model) if loans is not None else None
        self.outside = {"rows_not_in_default": 0, "rows_no_loan": 0, "rows_no_development_loan": 0}
        from creditmodel.scoring.score import ChunkSummary

        # the engine adds each chunk's inputs and scores (before the row checks); finish() warns once and writes
        # the values outside the training range into the sidecar and the card
        self.summary = ChunkSummary(resolved.model)

    def add(self, scored: pd.DataFrame, inputs: pd.DataFrame) -> None:
        """Price and append one chunk: ``scored`` has the scoring columns (row errors applied), ``inputs`` the
        aligned input rows (identifiers, pricing inputs; other columns are ignored)."""
        from creditmodel import pricing

        if "in_default" in inputs.columns:
            self.in_default += int(((scored["grade"] == "D") & (scored["status"] == "ok")).sum())
        if self.borrowers is not None and "uscc" in inputs.columns:
            live = ((scored["grade"] != "D") & (scored["status"] == "ok")).to_numpy(dtype=bool)
            firm = normalise_series(inputs["uscc"]).to_numpy(dtype=object)[live]
            self.outside["rows_not_in_default"] += int(live.sum())
            self.outside["rows_no_loan"] += int((~pd.Index(firm).isin(self.borrowers["any"])).sum())
            if self.borrowers.get("development") is not None:
                self.outside["rows_no_development_loan"] += int(
                    (~pd.Index(firm).isin(self.borrowers["development"])).sum())
        extra = [c for c in PRICING_INPUTS if c in inputs.columns]
        priced = pricing.price_frame(pd.concat([scored[["pd_12m", "status", "error"]].reset_index(drop=True),
                                                inputs[extra].reset_index(drop=True)], axis=1), self.cfg)
        # rows whose capital was computed with a firm size (a refused cell leaves the row unpriced)
        sales = pricing.firm_sales_eur_m(inputs.reset_index(drop=True), self.cfg)
        rate = priced["suggested_rate"].to_numpy(dtype=float)
        floor = pricing._round_up(priced["risk_based_floor"].to_numpy(dtype=float), self.cfg.rounding)
        self.priced += int(np.isfinite(rate).sum())
        self.policy_set += int((np.isfinite(rate) & (rate > floor + 1e-12)).sum())
        self.over_cap += int(priced["pricing_reason"].astype("string").str.contains("above the cap", na=False).sum())
        if "as_of_date" in inputs.columns:
            d = parse_as_of(inputs["as_of_date"]).dropna()
            if len(d):
                self.as_of = [min([d.min(), *self.as_of[:1]]), max([d.max(), *self.as_of[1:]])]
        capital = priced["capital_rate"].notna().to_numpy() & (
            pd.to_numeric(scored["pd_12m"], errors="coerce").to_numpy(dtype=float) < 1.0)   # D: no capital
        self.capital_rows += int(capital.sum())
        sized = np.isfinite(sales) & capital
        self.sized += int(sized.sum())
        # the loan terms the input did not give, priced at the configuration's (a bank reviewer's finding: the demo's
        # portfolio has neither, so every rate is an unsecured benchmark at 2.5 years, which the card did not say)
        for term, given_by in (("collateral", ("collateral", "lgd")), ("maturity", ("maturity",))):
            given = np.zeros(len(inputs), dtype=bool)
            for c in given_by:
                if c in inputs.columns:
                    given |= (inputs[c].astype("string").str.strip().fillna("") != "").to_numpy(dtype=bool)
            self.default_terms[term] += int((capital & ~given).sum())
        self.sme += int((sized & (sales < 50.0)).sum())
        refused = priced["pricing_reason"].where((scored["status"] == "ok").to_numpy()).dropna().astype(str)
        for why, k in pricing.reason_kinds(refused).value_counts().items():
            self.not_priced[str(why)] = self.not_priced.get(str(why), 0) + int(k)
        for c in ("public_credit_grade", "supervision_class"):
            if c in inputs.columns:
                wrong = public_credit_values(inputs[c], c)[1]
                if wrong.any():
                    seen = self.invalid.setdefault(c, [0, self.writer.rows + int(np.flatnonzero(wrong)[0]) + 1])
                    seen[0] += int(wrong.sum())
        self.writer.append(assemble(scored.reset_index(drop=True), inputs.reset_index(drop=True), self.sha,
                                    self.when, evaluation=self.evaluation, pricing=priced, id_col=self.id_col))

    def finish(self, metrics: dict[str, Any] | None = None, lights: pd.DataFrame | None = None) -> Any:
        """Write the sidecar (row counts, reason-code texts) and the model card; the files as a ScoreResult."""
        import time

        from creditmodel.scoring.score import ScoreResult

        resolved, model, writer = self.resolved, self.resolved.model, self.writer
        doc = sidecar(pd.DataFrame({"status": []}), model.name, str(resolved.version), self.sha, model.reason_table(),
                      extra={"registered_model": resolved.registered_name, "alias": resolved.alias,
                             "input_file": self.data.name, "pricing_config": self.cfg_record},
                      id_col=self.id_col)
        doc["rows"], doc["rows_ok"], doc["rows_error"] = writer.rows, writer.rows_ok, writer.rows - writer.rows_ok
        meta = resolved.metadata or {}
        doc["validation_status"] = str(meta.get("validation_status") or "not recorded")
        basis = validation_basis(meta)
        if basis:
            doc["validation_basis"] = basis
        if meta.get("validation_red_checks"):
            doc["validation_red_checks"] = str(meta["validation_red_checks"])
        report, report_copy = _validation_report(meta, writer.paths["sidecar"])
        if report:
            doc["validation_report"] = report
        if meta.get("validation_run_id") and meta.get("validation_alias"):
            doc["validation_report_artifact"] = (f"runs:/{meta['validation_run_id']}/validation/"
                                                 f"{meta['validation_alias']}/report.html")
        if doc["validation_status"] == "red":
            log.warning("model %s version %s: its last validation is red (%s; report %s): review before relying on "
                        "these PDs and rates", resolved.registered_name or model.name, resolved.version,
                        meta.get("validation_red_checks") or "see the report", meta.get("validation_report") or "-")
        doc["rows_ok_not_priced"] = int(sum(self.not_priced.values()))
        doc["pricing_firm_size"] = {
            "rows_with_sales": self.sized,
            "rows_sme_adjusted": self.sme,
            "note": "rows_with_sales: scored rows whose capital_rate was computed with the sales their input gave "
                    "(sales_eur_m, else revenue in yuan / cny_per_eur / 1e6; grade D rows hold no capital and are not counted); "
                    "capital_rate takes the Basel SME firm-size adjustment on those with sales below EUR 50 m "
                    "(rows_sme_adjusted); the other rows have none (size unknown: the conservative choice, a higher "
                    "capital_rate)"}
        doc["pricing_default_terms"] = {
            "rows_with_capital": self.capital_rows, "rows_without_collateral": self.default_terms["collateral"],
            "rows_without_maturity": self.default_terms["maturity"],
            "note": "rows_with_capital: scored rows not in default whose capital was computed (priced or above the "
                    "rate cap); of them, those whose input gave no collateral and no "
                    "lgd (priced with default_collateral's LGD) and no maturity (priced at the configuration's "
                    "maturity): their rates are a benchmark for a loan on those terms"}
        doc["rows_in_default"] = self.in_default
        self.summary.warn(self.data)
        outside = self.summary.outside_range()
        if self.summary.ranges:   # a model saved with its training range (new models)
            doc["rows_outside_training_range"] = self.summary.rows_outside
            doc["outside_training_range"] = outside
        if self.in_default:
            log.info("%d scored row(s) flagged in_default: grade D, pd_12m = 1, not priced", self.in_default)
        for why, k in sorted(self.not_priced.items(), key=lambda kv: -kv[1]):
            log.warning("%d scored row(s) without a suggested rate, not priced: %s (their error column says so)", k,
                        why)
        for c, (k, first) in self.invalid.items():
            log.warning("%s: %d row(s) with a %s that is not A, B, C or D (first: row %d): taken from the public "
                        "credit evaluation where it has the firm, else left empty with the reason in the row's error",
                        self.data, k, c, first)
            doc[f"rows_invalid_{c}"] = k
        card_metrics = metrics or {k: v for k, v in meta.items() if k.startswith(("test_", "validation_"))}
        if report and "validation_report" in card_metrics:
            card_metrics = {**card_metrics, "validation_report": report}
        scoring = {"rows_priced": self.priced, "rows_policy_rate": self.policy_set, "rows_over_cap": self.over_cap,
                   "rows_with_sales": self.sized, "rows_sme": self.sme, "rows_capital": self.capital_rows,
                   "rows_default_collateral": self.default_terms["collateral"],
                   "rows_default_maturity": self.default_terms["maturity"]}
        if self.as_of:
            scoring.update(as_of_min=self.as_of[0], as_of_max=self.as_of[1], scored_at=self.when)
        if outside:
            scoring.update(rows_scored=self.summary.rows_counted, rows_outside_training_range=self.summary.rows_outside,
                           outside_training_range=outside)
        if self.borrowers is not None and self.outside["rows_not_in_default"]:
            scoring.update(self.outside, loans_window=self.borrowers["loans_window"])
            if self.borrowers.get("development") is None:
                del scoring["rows_no_development_loan"]
            else:
                scoring["development_window"] = self.borrowers["development_window"]
        elif self.borrowers is not None:
            log.info("the loans given to count the scored firms that never borrowed were not used: the input has no "
                     "uscc column or no scored row out of default")
        promotion = promotion_line(meta)
        if promotion:
            scoring["promotion"] = promotion
        card = model_card(model, metrics=card_metrics, lights=lights, validation=validation_numbers(meta),
                          pricing_config=self.cfg, scoring=scoring)
        files = writer.close(doc, card)
        if report_copy is not None:   # the validation report travels with the scores (a bank's copy has no /tmp)
            import shutil

            shutil.copyfile(report_copy[0], report_copy[1])
            files["validation_report"] = report_copy[1]
            log.info("the model's validation report is copied beside it: %s", report_copy[1])
        side = _model_files(model, files)
        if side:
            files["model_files"] = side
        return ScoreResult(files["parquet"] if self.out.suffix != ".csv" else files["csv"], writer.rows,
                           writer.rows_ok, writer.rows - writer.rows_ok, time.perf_counter() - self.t0, model.name,
                           str(resolved.version), files)


def deliver_file(resolved: Any, data: str | Path, out: str | Path, id_col: str | None = None,
                 chunk_rows: int = 500_000, pricing_config: str | Path | None = None,
                 evaluation: pd.DataFrame | None = None, metrics: dict[str, Any] | None = None,
                 lights: pd.DataFrame | None = None, progress: bool = True, loans: pd.DataFrame | None = None) -> Any:
    """Score ``data`` with a registered model and write the full bank deliverable (chunked).

    Pricing uses ``pricing_config`` (default ``data/pricing.yaml``) on each row's PD and, when the
    input has them, ``collateral``, ``amount`` and ``revenue``; ``public_credit_grade`` and
    ``supervision_class`` come from the input or from ``evaluation`` (by ``uscc``). ``loans`` (the loans table
    the model was developed from: ``uscc``, ``origination_date``) lets the model card count the scored firms
    outside the development population (:func:`development_borrowers`); without it the card does not count them.
    """
    from creditmodel.progress import tqdm
    from creditmodel.scoring.score import RowChecks, _text_columns, apply_row_errors, iter_chunks, score_frame

    data = Path(data)
    model = resolved.model
    model.version = resolved.version
    delivery = Delivery(resolved, data, out, id_col=id_col, pricing_config=pricing_config, evaluation=evaluation,
                        loans=loans)
    bar = tqdm(desc=f"delivering {data.name}", unit="rows", disable=not progress, leave=False)
    checks = RowChecks(id_col, identifiers=True, features=tuple(model.input_spec.columns), deliverable=True,
                       today=delivery.when)
    summary = delivery.summary   # one warning per file (at finish), after the last chunk, as `score` does
    try:
        for n_chunk, chunk in enumerate(iter_chunks(data, chunk_rows, text_columns=_text_columns(model, id_col))):
            chunk = chunk.reset_index(drop=True)
            if n_chunk == 0:
                warn_missing_identifiers(chunk.columns, data, id_col)
            scored = score_frame(model, chunk, id_col=id_col, file=data, warn=False)
            msg = checks.messages(chunk)
            summary.add(chunk, scored, refused=pd.notna(msg))
            apply_row_errors(scored, msg)
            delivery.add(scored, chunk)
            bar.update(len(chunk))
    finally:
        bar.close()
    return delivery.finish(metrics=metrics, lights=lights)


#: validation checks on the level of the PDs (a red or amber one means the PDs miss the observed default rate)
CALIBRATION_CHECKS = ("jeffreys_p", "binomial_p", "brier_p", "hosmer_lemeshow_p", "jeffreys_grade_p",
                      "binomial_grade_p")
#: validation checks on the stability of the population (the card's review rule names them)
STABILITY_CHECKS = ("psi", "grade_psi", "csi")
_LIGHT_OF_SEVERITY = {1.0: "green", 2.0: "amber", 3.0: "red"}
_DATE_RANGE = r"(\d{4}-\d{2}-\d{2}) \.\. (\d{4}-\d{2}-\d{2})"


def validation_numbers(meta: dict[str, Any]) -> dict[str, Any]:
    """The numbers of a registered version's last validation, for its model card: the validation run's metrics for
    the version's alias (``<alias>_n``, ``_default_rate``, ``_mean_pd``, ``_psi``, ``_light_<check>`` ... in the
    MLflow run the ``validation_run_id`` tag names), else the ``metrics.json`` beside the ``validation_report``
    tag's report, else the out-of-time numbers registered with the version (``metric.oot_default_rate``,
    ``metric.oot_mean_pd``: no loan count). Lights as ``light_<check>`` = "green" / "amber" / "red"; ``source``
    says where they were read; {} when none is reachable."""
    run, alias = meta.get("validation_run_id"), meta.get("validation_alias")
    if run and alias:
        try:
            from mlflow.tracking import MlflowClient

            got = MlflowClient().get_run(str(run)).data.metrics
        except Exception as e:  # noqa: BLE001 - the card still comes, saying what it could not read
            log.debug("validation run %s not readable: %s", run, e)
            got = {}
        pre = f"{alias}_"
        out: dict[str, Any] = {k[len(pre):]: float(v) for k, v in got.items()
                               if k.startswith(pre) and not k.startswith(f"{pre}vs_")}
        if out.get("n"):
            for k in [k for k in out if k.startswith("light_")]:
                out[k] = _LIGHT_OF_SEVERITY.get(out[k], "n/a")
            out["source"] = f"validation run {run} (metrics {alias}_*)"
            return out
    report = str(meta.get("validation_report") or "")
    mj = Path(report).with_name("metrics.json") if report else None
    if mj is not None and mj.is_file():
        try:
            doc = json.loads(mj.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            log.debug("%s not readable: %s", mj, e)
            doc = {}
        if doc.get("n"):
            from creditmodel.validation.district import grade_metrics, missing_metrics

            out = {k: v for k, v in doc.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
            out.update({f"light_{r['check']}": r.get("light") for r in doc.get("lights") or [] if r.get("check")})
            out.update(grade_metrics(doc.get("grades") or []))
            out.update(missing_metrics(doc.get("missing_values") or []))
            out["count_unit"] = str((doc.get("data") or {}).get("count_unit") or "obligors")   # as the report reads it
            out["source"] = str(mj)
            return out
    if meta.get("metric.oot_default_rate") is not None and meta.get("metric.oot_mean_pd") is not None:
        return {"default_rate": float(meta["metric.oot_default_rate"]), "mean_pd": float(meta["metric.oot_mean_pd"]),
                "source": "the out-of-time metrics registered with the version (metric.oot_*)"}
    return {}


def _pct(x: float, digits: int = 2) -> str:
    return f"{100 * float(x):.{digits}f} %"


def _pct_text(text: str) -> str:
    """A percentage read from a model's description ("3.28%" in models trained before December 2026) as
    :func:`_pct` writes it."""
    return re.sub(r"\s*%$", " %", text)


def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month) - (1 if b.day < a.day and b.day != b.days_in_month else 0)


CALIBRATION_WORDS = {"platt": "Platt scaling (logistic)",
                     "isotonic": "isotonic regression (monotone, piecewise linear in log-odds)"}


def calibration_words(model: Any) -> str:
    """The calibration map in words, with the rows it was fitted on (``metadata['calibration']``)."""
    cal = getattr(model, "calibrator", None)
    method = str(getattr(cal, "method_", "") or getattr(cal, "method", "") or "")
    words = CALIBRATION_WORDS.get(method, f"{type(cal).__name__} {method}".strip() if cal is not None else "none")
    fitted = str((getattr(model, "metadata", {}) or {}).get("calibration") or "")
    if fitted.startswith("cross-fitted"):
        words += f" on cross-fitted scores ({fitted[len('cross-fitted, '):] or fitted}: each development row scored " \
                 "by a fold fit that did not see it)"
    elif fitted:
        words += f" on the {fitted}"
    if getattr(cal, "method", None) == "auto":
        words += "; chosen over the other map by cross-validation on the calibration rows"
    return words


def _light(val: dict[str, Any], red: set[str], check: str) -> str:
    got = val.get(f"light_{check}")
    if got in ("amber", "red"):
        return str(got)
    return "red" if check in red else ""


def validation_paragraphs(meta: dict[str, Any], metrics: dict[str, Any], val: dict[str, Any]) -> list[str]:
    """What the last validation found, in numbers (an officer's finding: the card named red checks and said nothing
    of what they mean): a calibration light red or amber gives the observed default rate against the mean PD and
    their ratio; a stability light amber or red says the card's review rule applies now."""
    red = {c.strip() for c in str(metrics.get("validation_red_checks") or "").split(",") if c.strip()}
    out = []
    cal = [(c, _light(val, red, c)) for c in CALIBRATION_CHECKS if _light(val, red, c)]
    if cal:
        named = ", ".join(f"{c} {lt}" for c, lt in cal)
        dr, mp, n = val.get("default_rate"), val.get("mean_pd"), val.get("n")
        if dr is not None and mp is not None and float(mp) > 0:
            ratio = float(dr) / float(mp)
            sample = (f"of the {int(n):,} out-of-time loans" if n else "of the out-of-time validation sample")
            low = ratio > 1
            out.append(
                f"- Calibration ({named}): {_pct(dr)} {sample} defaulted against a mean PD of {_pct(mp)}: the PDs "
                f"are about {ratio if low else 1 / ratio:.2f} times too {'low' if low else 'high'} there. The PDs "
                "and the rates built on them (expected_loss_rate, capital_rate, suggested_rate) carry no margin of "
                "conservatism for this: on that evidence the PDs "
                + ("understate the risk (and the rates the cost) until the model is recalibrated or a margin of "
                   "conservatism is added." if low else
                   "overstate the risk (and the rates the cost) until the model is recalibrated.")
                + f" (Read from {val.get('source', 'the validation')}.)")
        else:
            out.append(f"- Calibration ({named}): the observed default rate and mean PD of the validation sample are "
                       "not reachable from this card's inputs (the registry tags hold no numbers of them; the "
                       "validation run's metrics `<alias>_default_rate` and `<alias>_mean_pd`, or the metrics.json "
                       "beside its report, would be needed): read them in the validation report. The PDs carry no "
                       "margin of conservatism.")
    out += central_pd_paragraphs(val)
    out += missing_value_paragraphs(val)
    stab = [(c, _light(val, red, c)) for c in STABILITY_CHECKS if _light(val, red, c)]
    if not stab and str(metrics.get("validation_stability") or "") in ("amber", "red"):
        stab = [("stability", str(metrics["validation_stability"]))]
    if stab:
        value = {"psi": val.get("psi", metrics.get("validation_psi")), "grade_psi": val.get("grade_psi"),
                 "csi": val.get("csi_max")}
        label = {"psi": "PSI", "grade_psi": "grade PSI", "csi": "largest CSI", "stability": "stability"}

        def one(c: str, lt: str) -> str:
            v = value.get(c)
            num = f" {float(v):.3f}" if v is not None else ""
            feat = f" ({val['csi_max_feature']})" if c == "csi" and val.get("csi_max_feature") else ""
            return f"{label[c]}{num}{feat} {lt}"

        # the reference is said: the card's development rows and the report's reference differ (a bank reviewer's
        # finding: two "development" samples, 3,082 and 3,836 loans, without a word)
        ref_n = val.get("psi_reference_n")
        ref_rows = f" of {int(ref_n):,} {val.get('count_unit') or 'loans'}" if ref_n else ""   # as the line above
        out.append(f"- Stability ({', '.join(one(c, lt) for c, lt in stab)}): the card's own review rule (\"review "
                   "whenever a stability light turns amber or red\", Limits) applies now: the population scored "
                   f"has moved from the development one. (Measured against the validation report's reference sample"
                   f"{ref_rows}, named there: in notebook 04 every loan originated before the out-of-time window, the "
                   "held-out test rows among them, so more rows than the development rows of Data.)")
    return out


def _flagged_rows(val: dict[str, Any], prefix: str, light_name: str,
                  keys: Sequence[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """The rows of a validation flattened as ``<prefix>_<name>_<key>`` (:func:`creditmodel.validation.district.
    grade_metrics`, ``missing_metrics``) whose light ``<prefix>_<name>_<light_name>`` is amber or red: (name, light,
    {key: value or None})."""
    end, out = f"_{light_name}", []
    for k in val:
        if k.startswith(f"{prefix}_") and k.endswith(end):
            name = k[len(prefix) + 1:-len(end)]
            light = _LIGHT_OF_SEVERITY.get(float(val[k]))
            if light in ("amber", "red"):
                out.append((name, light, {x: val.get(f"{prefix}_{name}_{x}") for x in keys}))
    return out


def central_pd_paragraphs(val: dict[str, Any]) -> list[str]:
    """The grades whose master-scale central PD the validation rejected (amber or red, ``grade_<g>_central_light``
    of :func:`creditmodel.validation.district.grade_metrics`), with their numbers, and what that means to a bank
    that prices or provisions by grade (a credit-risk modeller's finding: out of time grade 10 defaulted at 45.70 %
    against a central PD of 30 %, and the card said nothing)."""
    found = [(g, light, float(v["default_rate"]), float(v["central_pd"]), int(v["n"]), v["central_holm_p"])
             for g, light, v in _flagged_rows(val, "grade", "central_light",
                                              ("default_rate", "central_pd", "n", "central_holm_p"))
             if None not in (v["default_rate"], v["central_pd"], v["n"])]
    if not found:
        return []
    found.sort(key=lambda t: (not t[0].isdigit(), int(t[0]) if t[0].isdigit() else 0, t[0]))
    unit = str(val.get("count_unit") or "loans")
    said = "; ".join(f"grade {g}: {_pct(dr)} of {n:,} {unit} defaulted against its central PD {_pct(cp)}"
                     + (f" (Holm p {float(p):.2g}, {lt})" if p is not None else f" ({lt})")
                     for g, lt, dr, cp, n, p in found)
    under = [g for g, _, dr, cp, _, _ in found if dr > cp]
    over = [g for g, _, dr, cp, _, _ in found if dr <= cp]
    effect = " and ".join(
        f"{word} the risk of grade{'s' if len(gs) > 1 else ''} {', '.join(gs)}"
        for word, gs in (("understate", under), ("overstate", over)) if gs)
    return [f"- Grades against the master scale (informative, not in the status): {said}. A bank that prices, "
            f"provisions or sets limits by grade at the grade's central PD would {effect}; this deliverable's PDs "
            "and rates are each row's own pd_12m, not its grade's. (Read from "
            f"{val.get('source', 'the validation')}.)"]


def missing_value_paragraphs(val: dict[str, Any]) -> list[str]:
    """The model inputs whose missing rows the validation found under-predicted against the rows that have them
    (amber or red, ``missing_<feature>_light`` of :func:`creditmodel.validation.district.missing_metrics`) and
    whose default rate is above their mean PD, with their numbers (rates as percentages of the fractions): a firm
    without that data was riskier than its PD said."""
    unit = str(val.get("count_unit") or "loans")
    # worse predicted than the others but still above its PD: a portfolio over-predicted elsewhere could light a
    # missing group whose PDs are too high, and "riskier than its PD said" would be false
    found = [(f, light, got) for f, light, got in _flagged_rows(
                 val, "missing", "light", ("n", "default_rate", "mean_pd", "ratio", "present_ratio", "relative",
                                           "holm_p"))
             if None not in (got["n"], got["default_rate"], got["mean_pd"])
             and float(got["default_rate"]) > float(got["mean_pd"])]
    if not found:
        return []
    found.sort(key=lambda t: float(t[2]["holm_p"]) if t[2]["holm_p"] is not None else 1.0)

    def one(f: str, lt: str, g: dict[str, Any]) -> str:
        times = ""
        if g["ratio"] is not None:
            times = f", {float(g['ratio']):.2f}x"
            if g["present_ratio"] is not None:
                times += f" against {float(g['present_ratio']):.2f}x where it is given"
        p = f", Holm p {float(g['holm_p']):.2g}" if g["holm_p"] is not None else ""
        why = f" ({when[f]})" if f in when else ""
        return (f"{f} missing{why}: {_pct(g['default_rate'])} of {int(g['n']):,} {unit} defaulted against a mean PD "
                f"of {_pct(g['mean_pd'])} ({lt}{times}{p})")

    when = missing_meanings([f for f, _, _ in found])
    return [f"- Missing inputs (informative, not in the status): {'; '.join(one(*t) for t in found)}. An enterprise "
            "with these inputs missing was riskier than its PD said, more so than one that has them: read its "
            f"pd_12m with a margin. (Read from {val.get('source', 'the validation')}.)"]


def missing_meanings(features: list[str]) -> dict[str, str]:
    """What a missing value of each catalogue feature means, from its meaning (``missing when none``: no penalty
    on record, not data left uncollected); features the catalogue does not know are left out."""
    from creditmodel.features.catalogue import catalogue

    meaning = catalogue().set_index("code")["meaning"]
    out = {}
    for f in features:
        m = re.search(r"missing when ([^;.)]+)", str(meaning.get(f, "")))
        if m:
            out[f] = f"missing when {m.group(1).strip()}"
    return out


def window_paragraphs(model: Any, metrics: dict[str, Any], val: dict[str, Any],
                      scoring: dict[str, Any] | None) -> list[str]:
    """The data windows together (development, validation, this deliverable's as-of dates) and, when the
    out-of-time AUC is above the in-time ones, why that is no sign of improvement."""
    meta = getattr(model, "metadata", {}) or {}
    dev = development_window(model)
    oot = re.search(_DATE_RANGE, str(metrics.get("validation_basis") or val.get("oot_window") or ""))
    parts = []
    if dev is not None:
        first, last_dev = dev
        parts.append(f"development originations {first:%Y-%m-%d} .. {last_dev:%Y-%m-%d}" if first is not None
                     else f"development originations up to {last_dev:%Y-%m-%d}")
    if oot:
        parts.append(f"out-of-time validation originations {oot.group(1)} .. {oot.group(2)}")
    lo, hi = (scoring or {}).get("as_of_min"), (scoring or {}).get("as_of_max")
    if lo is not None and hi is not None:
        lo, hi = pd.Timestamp(lo), pd.Timestamp(hi)
        when = f"{lo:%Y-%m-%d}" if lo == hi else f"{lo:%Y-%m-%d} .. {hi:%Y-%m-%d}"
        text = f"this deliverable scored as of {when}"
        last = pd.Timestamp(oot.group(2)) if oot else (dev[1] if dev is not None and dev[0] is not None else None)
        if last is not None:
            gap = (hi - last).days
            what = "the last validated origination" if oot else "the last development origination (none validated)"
            text += (f", {_months_between(last, hi)} months ({gap:,} days) after {what} ({last:%Y-%m-%d})"
                     if gap > 0 else f", within the {'validated' if oot else 'development'} window")
        scored = (scoring or {}).get("scored_at")
        if scored is not None:   # a year-old as-of date scored today (a bank reviewer's finding: nothing said so)
            scored = pd.Timestamp(scored)
            scored = scored.tz_convert(None) if scored.tzinfo is not None else scored
            age = (scored.normalize() - hi).days
            if age > STALE_AS_OF_DAYS:
                text += (f"; scored on {scored:%Y-%m-%d}, {age:,} days after the latest as-of date: each PD is for the "
                         "12 months from its as-of date, on what was known then (refresh the features for a PD from "
                         "the scoring date)")
        parts.append(text)
    out = [f"Windows: {'; '.join(parts)}."] if parts else []
    auc_oot = val.get("auc", metrics.get("validation_oot_auc"))
    inner = {k: float(meta[m]) for k, m in (("held-out test", "test_auc"), ("cross-validated", "cv_auc"))
             if meta.get(m) is not None}
    if auc_oot is not None and inner and float(auc_oot) > max(inner.values()):
        dr = val.get("default_rate")
        dev_rate = re.search(r"default rate ([0-9.]+ ?%)", str(meta.get("data_description") or ""))
        against = f" against {_pct_text(dev_rate.group(1))} in development" if dev_rate else ""
        riskier = f" (default rate {_pct(dr)}{against})" if dr is not None else ""
        out.append(f"The out-of-time AUC {float(auc_oot):.4f} is above the "
                   + " and ".join(f"{k} {v:.4f}" for k, v in inner.items())
                   + f": the out-of-time sample is riskier{riskier} and its PDs more spread out, which raises the "
                     "AUC by itself; it is no sign that the model ranks better than in development.")
    return out


def pricing_paragraphs(cfg: Any, scoring: dict[str, Any] | None = None) -> list[str]:
    """The rate build-up the deliverable's rates follow, with the configuration's values (DOMAIN B2)."""
    from creditmodel import pricing

    s = scoring or {}
    fw = pricing.FRAMEWORKS[cfg.framework]
    benefit = ("the funding cost" if cfg.capital_benefit_rate is None else "configured")
    capital = ("K" if cfg.capital_ratio is None
               else f"12.5 x K x capital ratio {_pct(cfg.capital_ratio)}")
    lgd = ", ".join(f"{k} {_pct(v, 0)}" for k, v in cfg.lgd.items())
    out = [
        f"- Risk-based floor = funding cost {_pct(cfg.funding_cost)} + operating cost {_pct(cfg.opex)} + PD x LGD "
        f"(PD floored at {_pct(fw.pd_floor)}, {cfg.framework}) + capital charge {capital} x (hurdle "
        f"{_pct(cfg.hurdle_rate)} - capital benefit {_pct(cfg.capital_benefit)}, {benefit}) + margin "
        f"{_pct(cfg.margin)}.",
        (f"- K: the Basel IRB capital requirement ({cfg.framework}, corporate, maturity {cfg.maturity:g} years"
         + (f", x {fw.scaling:g}" if fw.scaling != 1 else "")
         + f") with the SME firm-size adjustment where the input gives the firm's sales (sales_eur_m, else revenue "
           f"in yuan / {cfg.cny_per_eur:g} per EUR) below EUR 50 m; without sales none (the conservative choice)"
         if cfg.asset_class == "corporate" else
         f"- K: the Basel IRB capital requirement for other retail exposures ({cfg.framework}; no maturity or "
         "firm-size adjustment)")
        # the rows whose capital was computed: every scored row not in default, those above the rate cap too (it said
        # "priced rows", 2,925 against 2,848 priced in the demo: a bank reviewer's finding)
        + (f": {int(s['rows_with_sales']):,} scored rows not in default (those above the rate cap among them) had "
           f"sales, {int(s['rows_sme']):,} of them adjusted."
           if s.get("rows_with_sales") is not None and cfg.asset_class == "corporate" else "."),
        f"- LGD by collateral: {lgd}; a row without collateral takes {cfg.default_collateral} "
        f"({_pct(cfg.lgd.get(cfg.default_collateral, float('nan')), 0)}).",
        f"- Suggested rate = max(floor, policy rate = LPR {_pct(cfg.lpr_1y)} + spread {_pct(cfg.policy_spread)} = "
        f"{_pct(cfg.policy_rate)}), rounded up to a multiple of {_pct(cfg.rounding)}; unpriced (no suggested "
        f"rate, the reason in the row's error) above the cap {_pct(cfg.rate_cap)}"
        + (f": {int(s['rows_over_cap']):,} rows." if s.get("rows_over_cap") is not None else "."),
    ]
    terms = []
    if s.get("rows_default_collateral"):
        terms.append(f"{int(s['rows_default_collateral']):,} without a collateral or an own LGD (priced as "
                     f"{cfg.default_collateral}, LGD {_pct(cfg.lgd.get(cfg.default_collateral, float('nan')), 0)})")
    if s.get("rows_default_maturity") and cfg.asset_class == "corporate":
        terms.append(f"{int(s['rows_default_maturity']):,} without a maturity (priced at {cfg.maturity:g} years)")
    if terms and s.get("rows_capital"):
        out.append(f"- Loan terms the input did not give: of the {int(s['rows_capital']):,} scored rows not in "
                   "default, " + " and ".join(terms) + ": for those rows the rates are a benchmark for a loan on those terms, not "
                   "the price of a given loan; add the columns collateral (or lgd with secured_share) and maturity "
                   "to price each loan on its own terms.")
    if s.get("rows_priced") is not None and s.get("rows_policy_rate") is not None:
        out.append(f"- Of the {int(s['rows_priced']):,} rows with a suggested rate, {int(s['rows_policy_rate']):,} "
                   "have it set by the policy rate, not by their risk (suggested_rate above their risk-based floor "
                   "rounded up): for them the rate does not move with the PD.")
    return out


def _pd_text(p: float) -> str:
    """A PD as the card writes it: three decimals below 1 % (0.094 %), two above."""
    return _pct(p, 3 if float(p) < 0.01 else 2)


def score_range(model: Any) -> dict[str, Any] | None:
    """What a scorecard can give, exactly: its lowest and highest total points (each feature's lowest / highest
    points in the points table, summed), their PDs and grades by the model's own calibration and master scale, and
    the master scale's grades no score maps to (``out_of_reach``, with their PD bands), read from every integer
    score in between (score_to_pd.csv). A validator's finding: the best possible score of the champion (699 points,
    PD 0.094 %) is grade 2, so grade 1 could never be given, and the card did not say so. None for a model without
    a points table (LightGBM: its range is not exact from its parts)."""
    if getattr(model, "kind", None) != "scorecard":
        return None
    try:
        from creditmodel.scoring.pyfunc import score_to_pd_table

        tab = score_to_pd_table(model)
        if tab is None or not len(tab):
            return None
        scale = model.master_scale
        bands = scale.table().set_index("grade") if hasattr(scale, "table") else None
        grades = [str(g) for g in scale.grades]
    except Exception as e:  # noqa: BLE001 - the card comes without the range
        log.debug("score range not computable: %s", e)
        return None
    got = {str(g) for g in tab["grade"]}
    order = [g for g in grades if g in got]
    out = {"score_min": int(tab["score"].iloc[0]), "score_max": int(tab["score"].iloc[-1]),
           "pd_at_min": float(tab["pd_12m"].iloc[0]), "pd_at_max": float(tab["pd_12m"].iloc[-1]),
           "grade_at_min": str(tab["grade"].iloc[0]), "grade_at_max": str(tab["grade"].iloc[-1]),
           "best_grade": order[0], "worst_grade": order[-1],
           "out_of_reach": [g for g in grades if g not in got and g != "D"], "bands": {}}
    if bands is not None:
        out["bands"] = {g: (float(bands.loc[g, "pd_low"]), float(bands.loc[g, "pd_high"]))
                        for g in out["out_of_reach"] if g in bands.index}
    return out


def _grades_text(gs: list[str], bands: dict[str, tuple[float, float]]) -> str:
    named = [f"{g} (PD {_pd_text(bands[g][0])} .. {_pd_text(bands[g][1])})" if g in bands else g for g in gs]
    return ("grade " if len(gs) == 1 else "grades ") + ", ".join(named)


def score_range_line(rng: dict[str, Any]) -> str:
    """The card's Model line on the scores a scorecard can give (:func:`score_range`)."""
    line = (f"- Score range: {rng['score_min']:,} .. {rng['score_max']:,} points (each feature's lowest and highest "
            f"points in the points table, summed; no row can score outside them), PD {_pd_text(rng['pd_at_min'])} "
            f"(grade {rng['grade_at_min']}) .. {_pd_text(rng['pd_at_max'])} (grade {rng['grade_at_max']}): the best "
            f"grade this model can give is {rng['best_grade']}, the worst {rng['worst_grade']} (D only by the "
            "in_default flag)")
    if rng["out_of_reach"]:
        many = len(rng["out_of_reach"]) > 1
        return (line + f". Out of reach by construction: {_grades_text(rng['out_of_reach'], rng['bands'])} of the "
                f"master scale: no score the points table can add up to maps to {'them' if many else 'it'}, "
                "whatever the enterprise.")
    return line + "; every grade of the master scale is reachable."


def outside_development_line(s: dict[str, Any]) -> str:
    """The card's Limits line on the scored firms with no loan in the development data (``scoring`` counts of
    :class:`Delivery` given ``loans``); "" when not counted."""
    n, none = s.get("rows_not_in_default"), s.get("rows_no_loan")
    if not n or none is None:
        return ""
    n, none = int(n), int(none)
    loans = f"the loans data (originations {s['loans_window']})" if s.get("loans_window") else "the loans data"
    dev = s.get("rows_no_development_loan")
    if dev is not None:
        what = (f"{int(dev):,} ({_pct(int(dev) / n)}) are enterprises with no loan originated in the development "
                f"window ({s.get('development_window') or 'not recorded'}), of which {none:,} ({_pct(none / n)} of the "
                f"{n:,}) have no loan in {loans} at all (never borrowed)")
    else:
        what = f"{none:,} ({_pct(none / n)}) are enterprises with no loan in {loans} (never borrowed)"
    return (f"- Scored outside the development population: of the {int(n):,} scored rows not in default, {what}: "
            "their PDs are extrapolated from past borrowers (no reject inference, above), not estimated on firms "
            "like them.")


def extrapolation_line(s: dict[str, Any]) -> str:
    """The card's Limits line on the scored values outside the range the model saw in training (``scoring``'s
    ``outside_training_range`` of :meth:`~creditmodel.scoring.score.ChunkSummary.outside_range`); "" when none."""
    hit = s.get("outside_training_range") or {}
    if not hit:
        return ""

    def one(c: str, t: dict[str, Any]) -> str:
        side = ", ".join(x for x in (f"{t['below']:,} below" if t["below"] else "",
                                     f"{t['above']:,} above" if t["above"] else "") if x)
        return f"{c}: {side} (training {t['training_min']:.4g} .. {t['training_max']:.4g})"

    shown = list(hit.items())[:3]
    rest = f", and {len(hit) - len(shown)} more" if len(hit) > len(shown) else ""
    of = f" of the {int(s['rows_scored']):,}" if s.get("rows_scored") else ""
    return (f"- Extrapolation: {int(s.get('rows_outside_training_range') or 0):,}{of} scored rows hold a value "
            f"outside the range the model saw in training, in {len(hit)} column{'s' if len(hit) > 1 else ''} "
            f"({'; '.join(one(c, t) for c, t in shown)}{rest}). Such a value is scored as the nearest values seen "
            "were (a scorecard's edge bin, LightGBM's outermost splits), which no outcome in the development data "
            "checks; the sidecar counts every column (outside_training_range) and input_checks.csv gives each "
            "column's training range.")


def kind_words(model: Any) -> str:
    """The card's Kind line: which points model the scorecard's points come from and how its penalty was chosen (a
    validator read "WoE logistic scorecard" of a card with one fitted log-odds value per bin), or the challenger."""
    if model.kind != "scorecard":
        return "LightGBM with monotone constraints (challenger design)"
    est = model.estimator
    kind, C = getattr(est, "points_model_", "woe"), getattr(est, "points_C_", None)
    pen = f"L2 penalty C = {C:g}" if C is not None else "L2 penalty"
    if kind == "monotone":
        text = ("scorecard on WoE bins (champion design) with one log-odds value per bin, fitted jointly for all "
                f"features ({pen}) so that within a feature a bin of lower training default rate never gets fewer "
                "points; the points table's coefficient is each bin's log-odds divided by its WoE, not a fitted "
                "parameter, and may differ between the bins of one feature")
    else:
        text = f"WoE logistic scorecard (champion design), one coefficient per feature ({pen})"
    cv = getattr(est, "points_cv_", None)
    if isinstance(cv, pd.DataFrame) and len(cv) > 1 and C is not None:
        cands = "; ".join(f"{m} C = {c:g}: {a:.4f}" for m, c, a in zip(cv["model"], cv["C"], cv["cv_auc"]))
        text += f". Chosen by {est.cv}-fold cross-validated AUC among {cands}"
        grid = cv.loc[cv["model"] == kind, "C"]
        if kind == "monotone" and len(grid) > 1 and C == grid.min():
            text += (f"; C = {C:g} is the grid's strongest penalty (the best AUC at the grid's edge): a stronger "
                     "one was not tried (monotone_C)")
    return text


def _fingerprint(model: Any) -> str:
    try:
        return str(model.fingerprint())
    except Exception:   # noqa: BLE001  (a model without one: the card still comes)
        return "not computable"


def model_card(model: Any, metrics: dict[str, Any] | None = None, lights: pd.DataFrame | None = None,
               owner: str = "", data_description: str = "", validation: dict[str, Any] | None = None,
               pricing_config: Any = None, scoring: dict[str, Any] | None = None) -> str:
    """A Markdown model card: purpose, data, features, performance, validation lights, limits, owner.

    The data section is ``data_description``, else what the model recorded at training (rows, defaults,
    window, held-out AUC), with the development, validation and scoring windows together; the validation section
    is the ``lights`` table, else the validation status the registry holds in ``metrics`` (``validation_*``), and
    what it found in numbers from ``validation`` (:func:`validation_numbers`: observed default rate against mean PD
    when a calibration light is amber or red, the stability values when a stability light is); the pricing section
    the rate build-up with ``pricing_config``'s values (a :class:`~creditmodel.pricing.PricingConfig`). ``scoring``
    holds what the deliverable saw (``as_of_min``/``as_of_max``, ``rows_priced``, ``rows_policy_rate``,
    ``rows_over_cap``, ``rows_with_sales``, ``rows_sme``, ``rows_capital`` and of them ``rows_default_collateral`` /
    ``rows_default_maturity`` (priced at the configured loan terms), ``scored_at`` (the windows line says when the
    latest as-of date is more than :data:`STALE_AS_OF_DAYS` before it), ``promotion`` (:func:`promotion_line`); given
    the loans table, ``rows_not_in_default``,
    ``rows_no_loan``, ``rows_no_development_loan``, ``loans_window``, ``development_window``: the Limits count of
    scored firms outside the development population); every statement is left out when its numbers are. A
    scorecard's card states the scores, PDs and grades it can give (:func:`score_range`) and the grades of the
    master scale out of its reach; every card says that no reject inference was done."""
    metrics = metrics or {}
    val = validation or {}
    meta = getattr(model, "metadata", {}) or {}
    data = [data_description or str(meta.get("data_description") or
                                    "Not recorded with the model: see the MLflow run that trained it.")]
    if meta.get("test_auc") is not None:
        data.append(f"Held-out test AUC: {float(meta['test_auc']):.4f} ({meta.get('test_sample', 'test split')}).")
    if meta.get("initial_auc") is not None:
        basis = meta.get("initial_auc_basis", "score")
        data.append(f"Initial AUC for the ECB deterioration test, on {basis}s: {float(meta['initial_auc']):.4f} "
                    f"({meta.get('initial_auc_sample', 'test split')}).")
    if meta.get("cv_auc") is not None and meta.get("development_auc") is not None:
        data.append(f"AUC on the development rows: {float(meta['development_auc']):.4f} in sample, "
                    f"{float(meta['cv_auc']):.4f} cross-validated (each row scored by a fit that did not see it); "
                    "the difference is the fit's optimism.")
    if meta.get("training_file"):
        data.append(f"Training file: {meta['training_file']} (seed {meta.get('seed', '')}).")
    data += window_paragraphs(model, metrics, val, scoring)
    feats = list(getattr(model.estimator, "selected_features_", None) or model.input_spec.columns)
    rt = model.reason_table().set_index("code")
    rng = score_range(model)
    lines = [
        f"# Model card: {model.name} (version {model.version})", "",
        "## Purpose",
        "Estimate the probability that an enterprise defaults on a small loan within 12 months (PD), "
        "grade it on the 10-grade master scale (plus D), and give the three factors that cost it the most "
        "points, for risk-based pricing of small and micro enterprise loans.", "",
        "## Model",
        f"- Kind: {kind_words(model)}",
        # the validation report names the model by its fingerprint: the card and the report tie together by it
        f"- Fingerprint: {_fingerprint(model)} (the validation report's `fingerprint` and the REST answer's "
        "`model_version`; the deliverable's `model_version` is the registered version)",
        f"- Calibration: {calibration_words(model)}",
        f"- Score scaling: {model.scaling.base_score:g} points at odds {model.scaling.base_odds:g}:1, "
        f"{model.scaling.pdo:g} points to double the odds"
        + (" of the logistic regression on the development rows, before calibration: a score's calibrated PD "
           "(pd_12m) can sit at other odds; the master scale gives each grade's PD band"
           if model.kind == "scorecard" else " of the calibrated PD (pd_12m)"),
        "- Grade D: a firm the input flags as already in default at its as-of date (column in_default) is graded "
        "D with pd_12m = 1 whatever its score, and not priced"
        + ("; score_to_pd.csv (beside the points table, in the deliverable's <stem>.model_files/ folder) maps every "
           "other score to its PD and grade"
           if model.kind == "scorecard" else ""),
        *([score_range_line(rng)] if rng else []),
        "", "## Data", *[f"- {d}" for d in data], "",
        "## Features", "| code | 中文 | English |", "|---|---|---|",
        *[f"| {f} | {rt.loc[f, 'text_zh'] if f in rt.index else f} | {rt.loc[f, 'text_en'] if f in rt.index else f} |"
          for f in feats],
        "", "A reason code `<code>.missing` (e.g. `tax_grade_worst_3y.missing`) names a factor that costs points "
            "because its value is missing, not because it is bad. Where a missing value has a meaning (no penalty on "
            "record, no credit commitment assessed, no tax credit grade published), the reason's text says it (in "
            "reason_codes.csv); otherwise the data has none, which is not 'no' or 'none': 数据缺失（不可判断）.", "",
        "## Performance",
        *([f"- {k}: {v:.4f}" if isinstance(v, float) else f"- {k}: {v}" for k, v in metrics.items()
           if isinstance(v, (int, float, str))] or ["- not recorded"]), "",
        "## Validation",
    ]
    if lights is not None and len(lights):
        cols = [c for c in ("check", "value", "light", "thresholds") if c in lights.columns]
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for _, r in lights.iterrows()]
    elif metrics.get("validation_status") is not None:
        basis = validation_basis(metrics)
        lines.append(f"- Validation recorded in the model registry: status **{metrics['validation_status']}**"
                     + (f" ({basis})" if basis else "")
                     + (f", red: {metrics['validation_red_checks']}" if metrics.get("validation_red_checks") else "")
                     + (f", report {metrics['validation_report']} (the lights are in that report)."
                        if metrics.get("validation_report") else "; no validation report for this version."))
    else:
        lines.append("- no validation recorded with this deliverable")
    if (scoring or {}).get("promotion"):
        lines.append(str(scoring["promotion"]))
    found = validation_paragraphs(meta, metrics, val) if (metrics.get("validation_status") is not None or val) else []
    lines += found
    if pricing_config is not None:
        lines += ["", "## Pricing", *pricing_paragraphs(pricing_config, scoring)]
    dev_rate = re.search(r"default rate ([0-9.]+ ?%)", str(meta.get("data_description") or ""))
    review_now = any(p.startswith("- Stability") for p in found)
    lines += ["", "## Limits",
              "- Trained on the data described above; use outside that population (other regions, sectors, "
              "loan sizes) needs revalidation.",
              ("- PDs are 12-month and calibrated to a long-run average default rate of "
               f"{_pct(meta['central_tendency'])} given at training (central tendency). "
               if meta.get("central_tendency") is not None else
               "- PDs are 12-month point-in-time PDs (the validation report's rating philosophy: from what was "
               "known of the enterprise at its as-of date; they move with the economy), calibrated to the default "
               "rate of the development window" + (f" ({_pct_text(dev_rate.group(1))})" if dev_rate else "")
               + ", with no long-run (through-the-cycle) adjustment (the model records no central tendency) and no "
               "margin of conservatism. ")
              + "A shock period raises realised default rates above them until the model is recalibrated.",
              "- No reject inference: the model was developed on granted loans only (the data records loans and "
              "their outcomes, not declined applications, which have none), so its PDs rest on past borrowers; for "
              "an applicant unlike them (one a lender declined, one that never borrowed) the PD is an extrapolation "
              "that no outcome in the development data checks.",
              *([outside] if (outside := outside_development_line(scoring or {})) else []),
              *([beyond] if (beyond := extrapolation_line(scoring or {})) else []),
              *([f"- {_grades_text(rng['out_of_reach'], {}).capitalize()} of the master scale cannot be given by "
                 f"this scorecard (Model: score range): its grade distribution holds none whatever the portfolio's "
                 "quality."] if rng and rng["out_of_reach"] else []),
              "- Reason codes explain points lost against the best bin (scorecard) or positive contributions "
              "(LightGBM); they are not causal statements.",
              "- Review at least annually and whenever a stability light turns amber or red (SR 11-7)"
              + (": a stability light is amber or red now (Validation)." if review_now else "."), "",
              "## Owner", owner or "Not named: the bank names the model owner and approver before use.", ""]
    return "\n".join(lines)
