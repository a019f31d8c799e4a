"""Point-in-time features: one row per enterprise and as-of date, from records known at that date only.

Knowledge rule: a record counts at the as-of date ``t`` only if its event date <= ``t`` and its
``reported_on`` <= ``t`` (a record that reached the platform after ``t`` is invisible, even when the
event happened before). Later changes of a record (repair, clearing, closing, removal from a list,
assessment of a commitment) count only when dated <= ``t``. Tables without ``reported_on``
(``invoices_monthly``, ``annual_reports``) are known by month end and filing date.

The register (``enterprises``) is one row per firm as it stands at the snapshot: firm age and the registration and
deregistration dates are point in time, but size class, industry, street, registered capital and employees are read
as registered at the snapshot, whatever the as-of date. The synthetic district never changes them; on a real register
refreshed after the loans were originated, a firm that shrank after its default would carry its outcome into
training: freeze the register at origination, or leave those columns out of the model.

Invoice windows and the start of the invoice data: the months of a trailing window before the invoice data's first
month (:func:`invoice_data_start`: the district's first invoice month overall, not each firm's first row) are
*unknown*, not months without sales: a window is read over the months it shares with the data (after registration,
as before: a firm that did not exist sold nothing). A month of the covered part without a row is a dormant month
(no sale), as before. So early in the data's history (as-of dates less than 24 months after its start) the counts,
means and volatility read the covered months, the 12-month sum is scaled up from them, and growth compares the
covered months of the previous year with the same months a year later; from 24 months after the start nothing
differs (every loan of the demo district is originated later).

Many as-of dates at once (one per loan) are handled without a Python loop per row: the records of each
table are sorted by (firm, event date) and every query takes the contiguous slice of its firm's records
dated up to its as-of date (two ``searchsorted`` calls); the (query, record) pairs are then aggregated
with ``bincount`` / ``ufunc.at``. Pairs are processed in bounded chunks, so memory stays flat for a
1,000,000-firm district. Every aggregation is sequential, so results are identical bit for bit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from creditmodel.progress import tqdm

from creditmodel.data.tables import (
    ARREARS_KINDS,
    COLLATERAL,
    COMMITMENT_STATUS,
    INSPECTION_RESULTS,
    LIST_TYPES,
    PENALTY_CATEGORIES,
    SEVERITIES,
    SIZE_CLASSES,
    TAX_GRADES,
)
from creditmodel.errors import InputError, shown
from creditmodel.features.catalogue import catalogue
from creditmodel.reference import industries, sectors, streets

log = logging.getLogger(__name__)

#: USCC positions 1-2 kept as entity categories; every other prefix becomes "other".
ENTITY_CATEGORIES = ("91", "92", "93", "other")
#: Arrears kinds grouped into the features' buckets.
ARREARS_GROUPS = {
    "social_insurance": ("social_insurance",),
    "housing_fund": ("housing_fund",),
    "tax": ("tax",),
    "utility": ("water", "electricity", "gas"),
}
DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25
#: Upper bound on (query, record) pairs held in memory at once.
MAX_PAIRS = 4_000_000
#: ``DataFrame.attrs`` key of an invoice table's data start (first month, ``YYYY-MM-01``), set by
#: :func:`mark_invoice_data_start` so that a subset of the table (one firm's rows: ``explain``, the repair what-if)
#: keeps the district's start instead of reading the firm's first row as the start of the data.
INVOICE_START_ATTR = "creditmodel.invoice_data_start"

_NAT = np.iinfo(np.int64).min
_NEVER = np.int64(10**7)  # "no end date": far after any as-of date (days since 1970)
_BASE = -(10**6)  # key offset so that (day - _BASE) >= 0 for any plausible date
_SPAN = np.int64(4 * 10**6)  # key stride per firm (> any day or month offset)

AsOf = date | datetime | str | pd.Timestamp | np.datetime64 | pd.Series


# ----------------------------------------------------------------------------- conversions
#: A day and a month in either order (``05/01/2020``): 5 January or 1 May, which pandas read month first.
_DAY_MONTH = re.compile(r"\s*\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}\s*")


def _where(values: pd.Series, pos: int) -> str:
    """`` (index label X)`` where a frame's index is not its row number, for a message naming row ``pos + 1``."""
    label = values.index[pos]
    if isinstance(label, (int, np.integer)) and int(label) == pos:
        return ""
    return f" (index label {shown(label)})"


def _datetimes(values: Any, table: str, column: str) -> pd.Series:
    """A date column as naive ``datetime64`` (a time zone dropped, the local wall time kept; missing -> NaT).

    Real dates pass as they are; text is read as the loader reads it (ISO ``YYYY-MM-DD``, with or without a time,
    ``2024年3月5日``, full-width digits: :mod:`creditmodel.data.schema`). Anything else raises :class:`InputError`
    naming ``table``, ``column`` and the first row: a day and a month in either order (``05/01/2020`` was read as
    1 May, and a whole column day first or month first depending on its first row), a year or a month alone, an
    unreadable text, a number (20240305 was read as nanoseconds since 1970)."""
    from creditmodel.data import schema

    s = values if isinstance(values, pd.Series) else pd.Series(values)
    dt = s.dtype
    if isinstance(dt, pd.DatetimeTZDtype):
        return s.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(dt):
        return s
    text = schema.is_text(s)
    arrow_date = isinstance(dt, pd.ArrowDtype) and (pa.types.is_date(dt.pyarrow_dtype)
                                                    or pa.types.is_timestamp(dt.pyarrow_dtype))
    if not text and not arrow_date and not isinstance(dt, pd.CategoricalDtype):
        null = s.isna().to_numpy(dtype=bool)
        if null.all():   # a column of NaN or None: no date known
            return pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
        pos = int(np.flatnonzero(~null)[0])
        raise InputError(
            f"table {table}: {s.iloc[pos]!r} in date column {column!r} is a number, not a date{_where(s, pos)}: write "
            f"dates as YYYY-MM-DD text or as datetimes ({int((~null).sum()):,} such value(s))",
            file=table, column=column, row=pos + 1)
    if isinstance(dt, pd.CategoricalDtype):
        s = s.astype(object)
    parsed, null, bad = schema.coerce_date(s)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        v = s.iloc[pos]
        written = str(v).strip()
        if _DAY_MONTH.fullmatch(written):
            why = ("a day and a month in a form whose order is ambiguous (05/01/2020 could be 5 January or 1 May): "
                   "write it YYYY-MM-DD (the loader sets such rows aside too)")
        elif schema.PARTIAL_DATE.fullmatch(written):
            why = "a year or a month alone is not a date: write YYYY-MM-DD"
        else:
            why = "not a date: write it YYYY-MM-DD"
        raise InputError(f"table {table}: {v!r} in date column {column!r}{_where(s, pos)}: {why} "
                         f"({int(bad.sum()):,} such value(s))", file=table, column=column, row=pos + 1)
    return parsed


def _to_days(values: Any, table: str, column: str) -> np.ndarray:
    """Dates -> int64 days since 1970-01-01; missing -> ``_NAT``. Dates are read by :func:`_datetimes` (ISO text or
    real dates; an ambiguous or unreadable value raises InputError naming the table, column and row)."""
    ts = _datetimes(values, table, column)
    return ts.to_numpy().astype("datetime64[D]").astype(np.int64)


def _end_days(values: Any, table: str, column: str) -> np.ndarray:
    """An end date (repair, clearing, removal): missing means 'not yet' -> far future."""
    d = _to_days(values, table, column)
    d[d == _NAT] = _NEVER
    return d


def _shift_years(days: np.ndarray, years: int) -> np.ndarray:
    """Calendar shift of day numbers by whole years (29 Feb -> 28 Feb), computed on unique values."""
    u, inv = np.unique(days, return_inverse=True)
    idx = pd.DatetimeIndex(u.astype("datetime64[D]")) + pd.DateOffset(years=years)
    return idx.to_numpy().astype("datetime64[D]").astype(np.int64)[inv]


def _months(days: np.ndarray) -> np.ndarray:
    """Day numbers -> month numbers (months since 1970-01); ``_NAT`` stays ``_NAT``."""
    out = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    out[days == _NAT] = _NAT
    return out


def _strings(values: Any) -> pa.Array:
    """A column as a pyarrow string array (zero-copy for arrow-backed pandas strings)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical):
        values = np.asarray(values, dtype=object)
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _dictionary(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """(indices into the distinct values, -1 for missing; distinct values as an object array)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        return (
            values.cat.codes.to_numpy().astype(np.int64),
            np.asarray(values.cat.categories.astype(str), dtype=object),
        )
    enc = pc.dictionary_encode(_strings(values))
    idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return idx, enc.dictionary.to_numpy(zero_copy_only=False).astype(object)


class _Lookup:
    """Position of values in a fixed list of distinct strings (pyarrow hash lookup; -1 when absent)."""

    def __init__(self, values: Any):
        self.values = _strings(values)

    def __len__(self) -> int:
        return len(self.values)

    def __call__(self, values: Any) -> np.ndarray:
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
            pos = self(pd.Series(values.cat.categories.astype(str), dtype=object))
            codes = values.cat.codes.to_numpy().astype(np.int64)
            return np.where(codes >= 0, pos[np.maximum(codes, 0)] if len(pos) else -1, -1)
        found = pc.index_in(_strings(values), value_set=self.values)
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _encode(values: Any, allowed: tuple[str, ...], name: str) -> tuple[np.ndarray, list[str]]:
    """Integer codes over ``allowed`` plus any unexpected values (sorted, warned); -1 for missing."""
    idx, distinct = _dictionary(values)
    extra = sorted(str(v) for v in distinct if v not in set(allowed))
    if extra:
        log.warning("%s: values outside the declared ones kept as extra categories: %s", name, extra[:10])
    cats = list(allowed) + extra
    pos = pd.Index(cats, dtype=object).get_indexer(distinct) if len(distinct) else np.zeros(0, dtype=np.int64)
    return np.where(idx >= 0, pos[np.maximum(idx, 0)] if len(pos) else -1, -1).astype(np.int64), cats


def _numbers(values: Any) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


# ----------------------------------------------------------------------------- queries and pairs
@dataclass
class _Queries:
    """The (firm, as-of) rows to compute: ``firm`` indexes ``codes``; ``asof`` in days."""

    codes: _Lookup
    firm: np.ndarray
    asof: np.ndarray
    lo2: np.ndarray = field(init=False)
    lo3: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.lo2 = _shift_years(self.asof, -2)
        self.lo3 = _shift_years(self.asof, -3)

    @property
    def n(self) -> int:
        return len(self.firm)


@dataclass
class _Records:
    """Rows of one table restricted to queried firms, sorted by (firm, event, tiebreak)."""

    firm: np.ndarray
    event: np.ndarray
    cols: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]


def _records(
    df: pd.DataFrame,
    name: str,
    q: _Queries,
    event: str,
    dates: dict[str, str],
    nums: tuple[str, ...] = (),
    cats: dict[str, tuple[str, ...]] | None = None,
    extra: dict[str, np.ndarray] | None = None,
    tiebreak: str | None = None,
    event_in_months: bool = False,
) -> _Records:
    """Select, convert and sort the rows of table ``name`` that belong to queried firms.

    ``dates``: column -> "start" (missing = excluded / unknown) or "end" (missing = never);
    ``nums``: numeric columns (float64, NaN when missing); ``cats``: column -> allowed values (int codes,
    -1 missing, >= len(allowed) unexpected); ``extra``: precomputed arrays aligned with ``df``.
    Rows without an event date cannot be placed in time: they are left out with a warning.
    """
    firm = q.codes(df["uscc"])
    keep = firm >= 0
    ev = _to_days(df[event], name, event)
    if event_in_months:
        ev = _months(ev)
    no_event = keep & (ev == _NAT)
    if no_event.any():
        log.warning("%s: %d row(s) without %s are left out of the features", name, int(no_event.sum()), event)
        keep &= ~no_event
    idx = np.flatnonzero(keep)
    f, e = firm[idx], ev[idx]
    tb = extra[tiebreak][idx] if tiebreak else None
    order = idx[np.lexsort((tb, e, f) if tb is not None else (e, f))]
    cols: dict[str, np.ndarray] = {}
    for c, how in dates.items():
        cols[c] = (_end_days if how == "end" else _to_days)(df[c], name, c)[order]
    for c in nums:
        cols[c] = _numbers(df[c])[order]
    for c, allowed in (cats or {}).items():
        cols[c] = _encode(df[c], allowed, f"{name}.{c}")[0][order]
    for c, v in (extra or {}).items():
        cols[c] = np.asarray(v)[order]
    if "reported_on" in cols:
        miss = cols["reported_on"] == _NAT
        if miss.any():  # schema checks quarantine these; if one slips through, assume the event date
            log.warning(
                "%s: %d row(s) without reported_on are taken as reported on %s", name, int(miss.sum()), event
            )
            cols["reported_on"][miss] = ev[order][miss]
    return _Records(firm[order], ev[order], cols)


def _ranges(
    rec: _Records, firm: np.ndarray, hi: np.ndarray, lo: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """First record position and number of records of each query's firm with ``lo <= event <= hi``."""
    key = rec.firm * _SPAN + (rec.event - _BASE)
    valid = firm >= 0
    base = np.where(valid, firm, 0) * _SPAN - _BASE
    start = np.searchsorted(key, base + (lo if lo is not None else _BASE), side="left")
    stop = np.searchsorted(key, base + hi, side="right")
    return start, np.where(valid, np.maximum(stop - start, 0), 0)


def _iter_pairs(
    rec: _Records,
    firm: np.ndarray,
    hi: np.ndarray,
    lo: np.ndarray | None = None,
    max_pairs: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(qi, ri)``: query index and record index of every record of the query's ``firm`` with
    ``lo <= event <= hi`` (no lower bound when ``lo`` is None; same unit as the records' event).
    ``qi`` is ascending; within a query the records keep their sort order. Chunks never split a query."""
    max_pairs = MAX_PAIRS if max_pairs is None else max_pairs
    start, cnt = _ranges(rec, firm, hi, lo)
    csum = np.cumsum(cnt)
    n = len(firm)
    s = 0
    while s < n:
        before = csum[s - 1] if s else 0
        e = max(int(np.searchsorted(csum, before + max_pairs, side="right")), s + 1)
        c = cnt[s:e]
        tot = int(c.sum())
        if tot:
            qi = np.repeat(np.arange(s, e), c)
            offs = np.repeat(np.cumsum(c) - c - start[s:e], c)
            yield qi, np.arange(tot) - offs
        s = e


def _count(qi: np.ndarray, m: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(qi[m], minlength=n).astype(np.float64)


def _sum(qi: np.ndarray, m: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(qi[m], weights=w[m], minlength=n)


def _last(qi: np.ndarray) -> np.ndarray:
    """Positions of the last element of each run of equal values in an ascending array."""
    if len(qi) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[qi[1:] != qi[:-1], True])


class _Acc:
    """Accumulates per-query feature arrays across chunks."""

    def __init__(self, n: int):
        self.n = n
        self.v: dict[str, np.ndarray] = {}

    def add(self, name: str, x: np.ndarray) -> None:
        self.v[name] = self.v[name] + x if name in self.v else x

    def zeros(self, *names: str) -> None:
        for nm in names:
            self.v.setdefault(nm, np.zeros(self.n))


# ----------------------------------------------------------------------------- tables
def _penalties(df: pd.DataFrame, q: _Queries, acc: _Acc) -> None:
    secs = list(sectors())
    r = _records(
        df,
        "penalties",
        q,
        "decision_date",
        {
            "reported_on": "start",
            "publicity_min_end": "end",
            "publicity_max_end": "end",
            "fine_paid_on": "end",
            "repaired_on": "end",
        },
        nums=("amount",),
        cats={"severity": SEVERITIES, "category": PENALTY_CATEGORIES},
    )
    amount = np.nan_to_num(r["amount"], nan=0.0)
    sev, cat = r["severity"], r["category"]
    n = q.n
    acc.zeros(
        "penalty_active_n",
        *(f"penalty_active_{s}_n" for s in SEVERITIES),
        "penalty_active_amount",
        "penalty_active_unpaid_n",
        "penalty_active_repairable_n",
        "penalty_repaired_3y_n",
        "penalty_expired_3y_n",
        *(f"penalty_{s}_active_n" for s in secs),
    )
    last = np.full(n, _NAT)
    for qi, ri in _iter_pairs(r, q.firm, q.asof):
        t = q.asof[qi]
        vis = r["reported_on"][ri] <= t
        rep, mx, paid_on = r["repaired_on"][ri], r["publicity_max_end"][ri], r["fine_paid_on"][ri]
        paid = paid_on <= t
        # publication stops at the maximum end only if the obligations are fulfilled (DOMAIN A4): a penalty
        # unfulfilled at t, fined or not, stays published (as penalty_active_unpaid_n counts it and the evaluation's
        # extend_unpaid_publicity reads it); the effective end is the fulfilment day when later
        mx = np.where(paid_on > mx, paid_on, mx)
        active = vis & (t < rep) & (t < mx)  # from decision until repair or the (effective) maximum end
        in3y = r.event[ri] > q.lo3[qi]
        acc.add("penalty_active_n", _count(qi, active, n))
        for k, s in enumerate(SEVERITIES):
            acc.add(f"penalty_active_{s}_n", _count(qi, active & (sev[ri] == k), n))
        acc.add("penalty_active_amount", _sum(qi, active, amount[ri], n))
        acc.add("penalty_active_unpaid_n", _count(qi, active & ~paid, n))
        acc.add(
            "penalty_active_repairable_n", _count(qi, active & paid & (r["publicity_min_end"][ri] <= t), n)
        )
        repaired = vis & (rep <= t) & (rep < mx)
        acc.add("penalty_repaired_3y_n", _count(qi, repaired & in3y, n))
        # publicity that ran out (no repair) in the last 3 years: a serious penalty's 3-year maximum end is 3 years
        # after its decision, so a window on the decision date never held one (0 of 43 in a reviewer's district)
        acc.add("penalty_expired_3y_n", _count(qi, vis & (mx <= t) & ~(rep < mx) & (mx > q.lo3[qi]), n))
        for s in secs:
            k = PENALTY_CATEGORIES.index(s) if s in PENALTY_CATEGORIES else -2
            acc.add(f"penalty_{s}_active_n", _count(qi, active & (cat[ri] == k), n))
        live = vis & ~repaired   # a penalty ended by credit repair is not a live negative (DOMAIN A4)
        np.maximum.at(last, qi[live], r.event[ri][live])
    acc.v["months_since_last_penalty"] = np.where(last == _NAT, np.nan, (q.asof - last) / DAYS_PER_MONTH)


def _enforcement(df: pd.DataFrame, q: _Queries, acc: _Acc) -> None:
    r = _records(
        df,
        "enforcement",
        q,
        "filed_on",
        {
            "reported_on": "start",
            "closed_on": "end",
            "dishonest_listed_on": "end",
            "dishonest_removed_on": "end",
        },
        nums=("amount",),
    )
    amount = np.nan_to_num(r["amount"], nan=0.0)
    n = q.n
    acc.zeros(
        "enforcement_open_n", "enforcement_open_amount", "dishonest_debtor_listed", "dishonest_debtor_past_n"
    )
    for qi, ri in _iter_pairs(r, q.firm, q.asof):
        t = q.asof[qi]
        vis = r["reported_on"][ri] <= t
        open_ = vis & (t < r["closed_on"][ri])
        listed_on, removed_on = r["dishonest_listed_on"][ri], r["dishonest_removed_on"][ri]
        acc.add("enforcement_open_n", _count(qi, open_, n))
        acc.add("enforcement_open_amount", _sum(qi, open_, amount[ri], n))
        acc.add("dishonest_debtor_listed", _count(qi, vis & (listed_on <= t) & (t < removed_on), n))
        acc.add("dishonest_debtor_past_n", _count(qi, vis & (listed_on <= t) & (removed_on <= t), n))
    acc.v["dishonest_debtor_listed"] = np.minimum(acc.v["dishonest_debtor_listed"], 1.0)


def _tax_grades(df: pd.DataFrame, q: _Queries, acc: _Acc) -> None:
    year = _numbers(df["year"])
    # an evaluation year missing or not before its publication year (a descriptive column: its faults are kept) is
    # taken as the year before the publication, when grades are published (the spring after their year). Left at
    # -1 a missing year ranked below every year; a mistyped 2032 stayed the firm's current grade for ever
    guess = pd.to_datetime(df["published_on"], errors="coerce").dt.year.to_numpy(dtype="float64") - 1
    odd = ~np.isnan(guess) & ~(year <= guess)
    if (odd & ~np.isnan(year)).any():
        log.warning("tax_grades: %d row(s) with an evaluation year not before their publication year are read as "
                    "the year before it", int((odd & ~np.isnan(year)).sum()))
    year = np.where(odd, guess, year)
    # same-year rows published the same day: the later reported, then the higher record_id, is the current one
    rid = (pd.factorize(df["record_id"].astype(str), sort=True)[0] if "record_id" in df
           else np.arange(len(df)))
    r = _records(
        df,
        "tax_grades",
        q,
        "published_on",
        {"reported_on": "start"},
        cats={"grade": TAX_GRADES},
        extra={"_year": np.nan_to_num(year, nan=-1).astype(np.int64), "_rid": rid},
        tiebreak="_year",
    )
    n = q.n
    ordinal = np.where((r["grade"] >= 0) & (r["grade"] < len(TAX_GRADES)), r["grade"], -1)
    yr = r["_year"]
    latest, previous, worst = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for qi, ri in _iter_pairs(r, q.firm, q.asof):
        vis = (r["reported_on"][ri] <= q.asof[qi]) & (ordinal[ri] >= 0)
        qv, rv = qi[vis], ri[vis]
        # a year's grade is its latest publication (a re-evaluation supersedes it); ordered by query, year, then
        # publication (report, record id), the last row of each (query, year) run is that year's current grade.
        # Read by publication alone, a re-evaluated earlier year published later became the "latest" grade and the
        # superseded grade stayed in the 3-year worst (helper-101's finding)
        o = np.lexsort((r["_rid"][rv], r["reported_on"][rv], r.event[rv], yr[rv], qv))
        qv, rv = qv[o], rv[o]
        y = yr[rv]
        cur = np.r_[(qv[1:] != qv[:-1]) | (y[1:] != y[:-1]), True]
        qc, rc = qv[cur], rv[cur]
        pos = _last(qc)  # the latest year's current grade
        latest[qc[pos]] = ordinal[rc[pos]]
        prev = pos[(pos > 0) & (qc[np.maximum(pos - 1, 0)] == qc[pos])] - 1   # the year before it, if any
        previous[qc[prev]] = ordinal[rc[prev]]
        in3 = r.event[rc] > q.lo3[qc]
        w = np.full(n, -1)
        np.maximum.at(w, qc[in3], ordinal[rc][in3])
        worst = np.where(w >= 0, w, worst)
    acc.v["tax_grade_ordinal"] = latest
    acc.v["tax_grade_worst_3y"] = worst
    acc.v["tax_grade_change"] = latest - previous


def _arrears(df: pd.DataFrame, q: _Queries, acc: _Acc) -> None:
    r = _records(
        df,
        "arrears",
        q,
        "determined_on",
        {"reported_on": "start", "cleared_on": "end"},
        nums=("amount", "months_overdue"),
        cats={"kind": ARREARS_KINDS},
    )
    amount = np.nan_to_num(r["amount"], nan=0.0)
    months0 = np.nan_to_num(r["months_overdue"], nan=0.0)
    groups = {g: [ARREARS_KINDS.index(k) for k in kinds] for g, kinds in ARREARS_GROUPS.items()}
    n = q.n
    acc.zeros(*(f"arrears_{g}_open_{x}" for g in ARREARS_GROUPS for x in ("n", "amount")))
    longest = np.zeros(n)
    for qi, ri in _iter_pairs(r, q.firm, q.asof):
        t = q.asof[qi]
        open_ = (r["reported_on"][ri] <= t) & (t < r["cleared_on"][ri])
        kind = r["kind"][ri]
        for g, codes in groups.items():
            m = open_ & np.isin(kind, codes)
            acc.add(f"arrears_{g}_open_n", _count(qi, m, n))
            acc.add(f"arrears_{g}_open_amount", _sum(qi, m, amount[ri], n))
        overdue = months0[ri] + np.floor((t - r.event[ri]) / DAYS_PER_MONTH)
        np.maximum.at(longest, qi[open_], overdue[open_])
    acc.v["arrears_months_overdue_max"] = longest


def _inspections(df: pd.DataFrame, q: _Queries, acc: _Acc) -> None:
    secs = list(sectors())
    r = _records(
        df,
        "inspections",
        q,
        "inspected_on",
        {"reported_on": "start", "rectification_due": "start", "rectified_on": "end"},
        nums=("violations",),
        cats={"sector": tuple(secs), "result": INSPECTION_RESULTS},
    )
    viol = np.nan_to_num(r["violations"], nan=0.0)
    fail_code = INSPECTION_RESULTS.index("fail")
    n = q.n
    acc.zeros(
        "inspection_fail_2y_n",
        "inspection_violations_2y",
        "inspection_unrectified_overdue_n",
        *(
            f"inspection_{s}_{x}"
            for s in secs
            for x in ("2y_n", "fail_2y_n", "violations_2y", "unrectified_overdue_n")
        ),
    )
    for qi, ri in _iter_pairs(r, q.firm, q.asof):
        t = q.asof[qi]
        vis = r["reported_on"][ri] <= t
        in2 = vis & (r.event[ri] > q.lo2[qi])
        fail = in2 & (r["result"][ri] == fail_code)
        due = r["rectification_due"][ri]
        overdue = vis & (due != _NAT) & (due < t) & (t < r["rectified_on"][ri])
        acc.add("inspection_fail_2y_n", _count(qi, fail, n))
        acc.add("inspection_violations_2y", _sum(qi, in2, viol[ri], n))
        acc.add("inspection_unrectified_overdue_n", _count(qi, overdue, n))
        sector = r["sector"][ri]
        for k, s in enumerate(secs):
            m = sector == k
            acc.add(f"inspection_{s}_2y_n", _count(qi, in2 & m, n))
            acc.add(f"inspection_{s}_fail_2y_n", _count(qi, fail & m, n))
            acc.add(f"inspection_{s}_violations_2y", _sum(qi, in2 & m, viol[ri], n))
            acc.add(f"inspection_{s}_unrectified_overdue_n", _count(qi, overdue & m, n))


def _lists(df: pd.DataFrame, q: _Queries, acc: _Acc) -> None:
    r = _records(
        df,
        "lists",
        q,
        "start_date",
        {"reported_on": "start", "end_date": "end"},
        cats={"list_type": LIST_TYPES},
    )
    n = q.n
    out = {
        "serious_dishonesty": "on_serious_dishonesty_list",
        "black": "on_black_list",
        "abnormal_operation": "on_abnormal_operation_list",
        "red": "red_list_active_n",
    }
    acc.zeros(*out.values())
    for qi, ri in _iter_pairs(r, q.firm, q.asof):
        t = q.asof[qi]
        active = (r["reported_on"][ri] <= t) & (t < r["end_date"][ri])
        lt = r["list_type"][ri]
        for k, name in out.items():
            acc.add(name, _count(qi, active & (lt == LIST_TYPES.index(k)), n))
    for k, name in out.items():
        if k != "red":
            acc.v[name] = np.minimum(acc.v[name], 1.0)


def _commitments(df: pd.DataFrame, q: _Queries, acc: _Acc) -> None:
    assessed = _to_days(df["assessed_on"], "commitments", "assessed_on")
    due = _to_days(df["due_on"], "commitments", "due_on")
    known = np.where(assessed != _NAT, assessed, due)  # outcome known when assessed, else at the due date
    known[known == _NAT] = _NEVER
    r = _records(
        df,
        "commitments",
        q,
        "made_on",
        {"reported_on": "start"},
        cats={"status": COMMITMENT_STATUS},
        extra={"_known": known},
    )
    kept_code, broken_code = COMMITMENT_STATUS.index("kept"), COMMITMENT_STATUS.index("broken")
    n = q.n
    acc.zeros("commitments_3y_n", "commitments_broken_3y_n")
    kept = np.zeros(n)
    for qi, ri in _iter_pairs(r, q.firm, q.asof):
        t = q.asof[qi]
        m3 = (r["reported_on"][ri] <= t) & (r.event[ri] > q.lo3[qi])
        done = m3 & (r["_known"][ri] <= t)
        st = r["status"][ri]
        acc.add("commitments_3y_n", _count(qi, m3, n))
        acc.add("commitments_broken_3y_n", _count(qi, done & (st == broken_code), n))
        kept += _count(qi, done & (st == kept_code), n)
    tot = kept + acc.v["commitments_broken_3y_n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        acc.v["commitment_kept_ratio_3y"] = np.where(tot > 0, kept / tot, np.nan)


def invoice_data_start(df: pd.DataFrame | None) -> pd.Timestamp | None:
    """First month of the invoice data (``YYYY-MM-01``), or None without any dated row.

    The district's start, not a firm's: the value :func:`mark_invoice_data_start` stored on the table (kept by
    pandas through row selections, so one firm's rows still know it), else the earliest ``month`` of the table as
    given. A firm without a row in a later month may have been dormant (data/README.md, item 6): its own first row
    says nothing about where the data begin."""
    if df is None:
        return None
    known = df.attrs.get(INVOICE_START_ATTR) if hasattr(df, "attrs") else None
    if known is not None:
        return pd.Timestamp(known).to_period("M").to_timestamp()
    if "month" not in df.columns or not len(df):
        return None
    col = df["month"]
    # the column's own minimum when it holds dates (no copy of a 1,000,000-firm table); text is parsed
    first = col.min() if pd.api.types.is_datetime64_any_dtype(col.dtype) else pd.to_datetime(col, errors="coerce").min()
    if pd.isna(first):
        return None
    if getattr(first, "tzinfo", None) is not None:
        first = first.tz_localize(None)
    return pd.Timestamp(first).to_period("M").to_timestamp()


def mark_invoice_data_start(tables: dict[str, pd.DataFrame]) -> pd.Timestamp | None:
    """Store the invoice data's start (:func:`invoice_data_start` of the whole table) on ``tables["invoices_monthly"]``
    (``attrs``), so that the features of a subset of it (one firm's rows) cut their windows where the district's
    data begin. Returns the start (None without invoice data); a start already stored is kept."""
    df = tables.get("invoices_monthly")
    start = invoice_data_start(df)
    if df is not None and start is not None:
        df.attrs[INVOICE_START_ATTR] = start.strftime("%Y-%m-%d")
    return start


def _invoices(df: pd.DataFrame, q: _Queries, acc: _Acc, reg_month: np.ndarray) -> None:
    """12 complete months before the as-of month (``cur``) and the 12 before them (``prev``).

    A window is read over the months the firm existed (from its registration month) *and* the data cover (from
    :func:`invoice_data_start`): months before the data start are unknown, not months without sales. Within the
    covered months a month without a row counts as a month without sales (dormant). Where the data start cuts the
    12-month window: ``invoice_zero_sales_months`` counts the covered months without sales (at most as many as are
    covered), the mean and ``invoice_sales_cv`` are over the covered months, ``invoice_sales_12m_log`` scales the
    covered months' sales up to the months the firm existed in the window (their mean for each unknown month), and
    the shares and ratios are over the covered months' invoices. Where it cuts the previous 12 months,
    ``invoice_sales_growth`` compares the covered months of the previous year with the same calendar months a year
    later (seasonality cancels; missing when no month of the previous year is covered). Windows after the data
    start give the same values as before, bit for bit."""
    cols = ("sales", "purchases", "n_sales_invoices", "voided_share", "red_letter_share")
    start = invoice_data_start(df)
    data_start = (
        np.int64(np.datetime64(start.strftime("%Y-%m"), "M").astype(np.int64)) if start is not None else np.int64(_NAT)
    )
    r = _records(df, "invoices_monthly", q, "month", {}, nums=cols, event_in_months=True)
    num = {c: np.nan_to_num(r[c], nan=0.0) for c in cols}
    n = q.n
    m_asof = _months(q.asof)
    covered = _ranges(r, q.firm, m_asof - 1)[1] > 0  # any invoice month before the as-of month
    start_cur = np.maximum(m_asof - 12, reg_month)
    start_prev = np.maximum(m_asof - 24, reg_month)
    n_cur = np.clip(m_asof - start_cur, 0, 12).astype(np.float64)  # months the firm existed in the window
    n_prev = np.clip(m_asof - 12 - start_prev, 0, 12).astype(np.float64)
    # months of the windows the data cover (unknown before the data start: not zero-sales months)
    known_cur = np.clip(m_asof - np.maximum(start_cur, data_start), 0, 12).astype(np.float64)
    known_prev = np.clip(m_asof - 12 - np.maximum(start_prev, data_start), 0, 12).astype(np.float64)
    cut_cur = known_cur < n_cur
    cut_prev = known_prev < n_prev
    # growth where the data start cuts the previous year: the current months whose month a year earlier is covered
    match_from = np.maximum(m_asof - 12, data_start + 12)
    s_cur, s_prev, p_cur, inv, voided, red, pos, present, s_match = (np.zeros(n) for _ in range(9))
    for qi, ri in _iter_pairs(r, q.firm, m_asof - 1, lo=m_asof - 24):
        cur = r.event[ri] >= m_asof[qi] - 12
        sales = num["sales"][ri]
        s_cur += _sum(qi, cur, sales, n)
        s_prev += _sum(qi, ~cur, sales, n)
        s_match += _sum(qi, cur & (r.event[ri] >= match_from[qi]), sales, n)
        p_cur += _sum(qi, cur, num["purchases"][ri], n)
        k = num["n_sales_invoices"][ri]
        inv += _sum(qi, cur, k, n)
        voided += _sum(qi, cur, num["voided_share"][ri] * k, n)
        red += _sum(qi, cur, num["red_letter_share"][ri] * k, n)
        pos += _count(qi, cur & (sales > 0), n)
        present += _count(qi, cur, n)
    exist_cur = np.maximum(n_cur, present)
    n_cur = np.where(cut_cur, np.maximum(known_cur, present), exist_cur)  # the months read
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_cur > 0, s_cur / n_cur, np.nan)
        ss = np.zeros(n)  # second pass: squared deviations, missing months = 0
        for qi, ri in _iter_pairs(r, q.firm, m_asof - 1, lo=m_asof - 12):
            d = num["sales"][ri] - mean[qi]
            ss += np.bincount(qi, weights=d * d, minlength=n)
        ss += (n_cur - present) * mean * mean
        # 12-month sales: an unknown month (before the data start) at the covered months' mean
        s_12m = np.where(cut_cur & (n_cur > 0), s_cur / n_cur * exist_cur, s_cur)
        growth = np.where(
            (n_prev > 0) & (s_prev > 0) & (n_cur > 0), (s_cur / n_cur) / (s_prev / n_prev) - 1.0, np.nan
        )
        growth = np.where(cut_prev, np.where((known_prev > 0) & (s_prev > 0), s_match / s_prev - 1.0, np.nan), growth)
        feats = {
            "invoice_sales_12m_log": np.log1p(s_12m),
            "invoice_sales_growth": growth,
            "invoice_sales_cv": np.where(mean > 0, np.sqrt(ss / n_cur) / mean, np.nan),
            "invoice_zero_sales_months": n_cur - pos,
            "invoice_voided_share": np.where(inv > 0, voided / inv, np.nan),
            "invoice_red_letter_share": np.where(inv > 0, red / inv, np.nan),
            "invoice_purchase_sales_ratio": np.where(s_cur > 0, p_cur / s_cur, np.nan),
        }
    for k, v in feats.items():
        acc.v[k] = np.where(covered, v, np.nan)


def _annual_reports(df: pd.DataFrame, q: _Queries, acc: _Acc) -> None:
    cols = ("total_assets", "total_liabilities", "current_assets", "current_liabilities", "net_profit")
    year = np.nan_to_num(_numbers(df["year"]), nan=-1).astype(np.int64)
    r = _records(df, "annual_reports", q, "filed_on", {}, nums=cols, extra={"_year": year})
    n = q.n
    pick = np.full(n, -1, dtype=np.int64)
    for qi, ri in _iter_pairs(r, q.firm, q.asof):
        order = np.lexsort((r.event[ri], r["_year"][ri], qi))  # latest report year, then latest filing
        qs, rs = qi[order], ri[order]
        p = _last(qs)
        pick[qs[p]] = rs[p]
    has = pick >= 0
    v = {
        c: np.where(has, r[c][np.maximum(pick, 0)], np.nan) if len(r.firm) else np.full(n, np.nan)
        for c in cols
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        ta = v["total_assets"]
        acc.v["annual_leverage"] = np.where(ta > 0, v["total_liabilities"] / ta, np.nan)
        acc.v["annual_current_ratio"] = np.where(
            v["current_liabilities"] > 0, v["current_assets"] / v["current_liabilities"], np.nan
        )
        acc.v["annual_assets_log"] = np.where(ta >= 0, np.log1p(np.maximum(ta, 0)), np.nan)
        acc.v["annual_roa"] = np.where(ta > 0, v["net_profit"] / ta, np.nan)


_STEPS: dict[str, Callable[..., None]] = {
    "penalties": _penalties,
    "enforcement": _enforcement,
    "tax_grades": _tax_grades,
    "arrears": _arrears,
    "inspections": _inspections,
    "lists": _lists,
    "commitments": _commitments,
    "invoices_monthly": _invoices,
    "annual_reports": _annual_reports,
}


# ----------------------------------------------------------------------------- enterprises and assembly
#: Columns each step reads (checked before computing; a missing column raises InputError).
USED_COLUMNS: dict[str, tuple[str, ...]] = {
    "enterprises": (
        "uscc",
        "registered_on",
        "industry",
        "street",
        "size_class",
        "registered_capital",
        "employees",
    ),
    "penalties": (
        "uscc",
        "decision_date",
        "severity",
        "category",
        "amount",
        "publicity_min_end",
        "publicity_max_end",
        "fine_paid_on",
        "repaired_on",
        "reported_on",
    ),
    "enforcement": (
        "uscc",
        "filed_on",
        "amount",
        "dishonest_listed_on",
        "dishonest_removed_on",
        "closed_on",
        "reported_on",
    ),
    "tax_grades": ("uscc", "year", "grade", "published_on", "reported_on"),
    "arrears": ("uscc", "kind", "amount", "months_overdue", "determined_on", "cleared_on", "reported_on"),
    "inspections": (
        "uscc",
        "sector",
        "inspected_on",
        "result",
        "violations",
        "rectification_due",
        "rectified_on",
        "reported_on",
    ),
    "lists": ("uscc", "list_type", "start_date", "end_date", "reported_on"),
    "commitments": ("uscc", "made_on", "due_on", "status", "assessed_on", "reported_on"),
    "invoices_monthly": (
        "uscc",
        "month",
        "sales",
        "purchases",
        "n_sales_invoices",
        "voided_share",
        "red_letter_share",
    ),
    "annual_reports": (
        "uscc",
        "year",
        "filed_on",
        "total_assets",
        "total_liabilities",
        "current_assets",
        "current_liabilities",
        "net_profit",
    ),
}


# ----------------------------------------------------------------------------- frames entering the features
#: Tables whose values :func:`prepare_tables` maps to the declared ones (alias names, other spellings) or refuses:
#: the tables the features and the evaluation read. ``loans`` (a bank's data) only gets its codes and dates read.
VALUE_TABLES = ("enterprises", *_STEPS)
#: ``DataFrame.attrs`` key on ``enterprises`` of the district's snapshot date (``YYYY-MM-DD``), set by
#: :func:`creditmodel.data.io.load_district`: the evaluation's as-of checks read it where no manifest is at hand.
SNAPSHOT_ATTR = "creditmodel.snapshot_date"


class PreparedTables(dict):
    """Tables as :func:`prepare_tables` returns them: read again by nobody (an explanation's what-ifs call the
    feature builder dozens of times)."""


def _as_text(values: Any) -> pd.Series:
    """A column as text (numbers as their text, missing kept missing) for the Arrow string kernels."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    from creditmodel.data import schema

    return s if schema.is_text(s) or isinstance(s.dtype, pd.CategoricalDtype) else s.astype("str")


def _plain(arr: pa.Array) -> pa.Array:
    """True where a code is written as the loader writes codes (ASCII capitals and digits only), or missing."""
    return pc.fill_null(pc.and_(pc.ascii_is_alnum(arr), pc.equal(pc.ascii_upper(arr), arr)), True)


def _codes(values: pd.Series, register: pa.Array | None = None) -> tuple[pd.Series | None, int, int]:
    """(``values`` normalised as the loader reads codes (:func:`creditmodel.data.uscc.normalise_series`: full width
    to half width, blanks removed, upper case), or None when every code is already so written; how many codes
    changed; how many codes are then outside ``register``, the register's normalised codes, 0 without one). Only the
    codes outside ``register`` are looked at: a clean column costs one hash lookup and no copy."""
    s = _as_text(values)
    arr = _strings(s)

    def outside(a: pa.Array) -> pa.Array:
        return a if register is None else a.filter(pc.invert(pc.is_in(a, value_set=register)))

    look = outside(arr)
    if pc.all(_plain(look)).as_py() is False:
        from creditmodel.data.uscc import normalise_series

        out = normalise_series(s).astype("str")
        new = _strings(out)
        changed = int(pc.sum(pc.fill_null(pc.not_equal(new, arr), False)).as_py() or 0)
        look = outside(new)
    else:
        out, changed = None, 0
    return out, changed, (len(look) - look.null_count if register is not None else 0)


def _values(s: pd.Series, col: Any, table: str) -> tuple[pd.Series | None, dict[str, str]]:
    """(``s`` with names and other spellings of the declared values mapped to them, or None when all are declared;
    the mapping used). A value that is no declared value nor a name of one raises InputError naming the table, the
    column, the value and its first row (kept, it became an extra category that no rule reads: a catering firm
    written ``住宿和餐饮业`` lost the catering rule and its food-safety evaluation without a word)."""
    from creditmodel.data import schema

    arr = _strings(_as_text(s))
    odd = pc.and_(pc.invert(pc.is_in(arr, value_set=pa.array(list(col.allowed), type=pa.string()))),
                  pc.is_valid(arr))
    if not pc.any(odd).as_py():
        return None, {}
    distinct = pc.unique(arr.filter(odd)).to_pylist()
    spelled = schema.value_spellings(col)
    keys = schema.spelling_keys(pd.Series(distinct, dtype=object)).tolist()
    names: dict[str, Any] = {}
    for v, k in zip(distinct, keys):
        if str(v).strip() in schema.NULL_TOKENS:
            names[v] = None   # an empty cell written as text: missing, as the loader reads it
        elif isinstance(k, str) and k in spelled:
            names[v] = spelled[k]
        else:
            pos = int(np.flatnonzero(np.asarray(pc.fill_null(pc.equal(arr, v), False)))[0])
            raise InputError(
                f"table {table}: {v!r} in column {col.name!r}{_where(s, pos)} is not one of its values "
                f"({', '.join(col.allowed)}) nor a name of one"
                + (" (a section's Chinese or English name is read as its letter)" if col.name == "industry" else
                   " (a street's Chinese or English name is read as its key)" if col.name == "street" else ""),
                file=table, column=col.name, row=pos + 1)
    out = pd.Series(np.asarray(arr.to_pandas(), dtype=object), index=s.index)
    idx = np.flatnonzero(np.asarray(odd))
    out.iloc[idx] = [names[v] for v in out.iloc[idx]]
    return out.astype("str"), {k: v for k, v in names.items() if v is not None}


def prepare_tables(tables: Mapping[str, pd.DataFrame]) -> PreparedTables:
    """The district tables as the features and the evaluation read them, whoever edited them.

    Frames from :func:`creditmodel.data.io.load_district` pass unchanged (nothing is copied). An edited frame is
    read as the loader would read it, and whatever cannot be so read raises :class:`InputError` naming the table,
    column and row, rather than changing results without a word (a reviewer's findings):

    * codes (``uscc``) written otherwise (lower case, blanks, full width) are normalised as the loader does
      (:func:`creditmodel.data.uscc.normalise_series`; logged at INFO): lower-cased codes dropped every list entry,
      and the serious-dishonesty share read 0. Records whose code then matches no enterprise of the register are
      counted in a warning, per table (no graded enterprise reads them);
    * dates given as text are read strictly (:func:`_datetimes`);
    * values of the declared categories (``industry``, ``street``, ``list_type``, ``severity``...) written by a name
      (``住宿和餐饮业`` for H, ``严重失信主体名单``) or another case are mapped to the declared value (the schema's
      aliases, as the loader maps them; warned); any other value is refused.

    Tables the features do not read are passed as they are (only ``loans`` gets its codes and dates read).
    """
    from creditmodel.data.tables import TABLES

    if isinstance(tables, PreparedTables):
        return tables
    out = PreparedTables()
    register = None
    lost: dict[str, int] = {}
    order = sorted(tables, key=lambda n: n != "enterprises")   # the register first: the others are read against it
    for name in order:
        df = tables[name]
        tb = TABLES.get(name)
        if tb is None or tb.hidden or not isinstance(df, pd.DataFrame) or (
                name not in VALUE_TABLES and name != "loans"):
            out[name] = df
            continue
        new: dict[str, pd.Series] = {}
        if "uscc" in df.columns:
            codes, k, lost[name] = _codes(df["uscc"], None if name == "enterprises" else register)
            if codes is not None:
                log.info("%s: %d code(s) written otherwise (lower case, blanks, full width) read as the loader "
                         "writes them", name, k)
                new["uscc"] = codes
        for col in tb.columns:
            if col.name not in df.columns or col.name == "uscc":
                continue
            if col.dtype == "date" and not pd.api.types.is_datetime64_dtype(df[col.name].dtype):
                new[col.name] = _datetimes(df[col.name], name, col.name)
            elif col.allowed and name in VALUE_TABLES:
                v, names = _values(df[col.name], col, name)
                if v is not None:
                    new[col.name] = v
                if names:
                    log.warning("%s.%s: values written as names read as the declared values: %s", name, col.name,
                                ", ".join(f"{a!r} -> {b}" for a, b in list(names.items())[:10]))
        if new:
            attrs = dict(df.attrs)
            df = df.assign(**new)
            df.attrs.update(attrs)
        out[name] = df
        if name == "enterprises" and "uscc" in df.columns:
            register = pc.unique(_strings(_as_text(df["uscc"])).drop_null())
    out = PreparedTables((n, out[n]) for n in tables)   # the caller's order
    lost = {n: k for n, k in lost.items() if k}
    if lost:
        log.warning("records whose code matches no enterprise of the register (no graded enterprise reads them; the "
                    "loader sets them aside as unknown_uscc): %s", ", ".join(f"{n} {k:,}" for n, k in lost.items()))
    return out


def _check_columns(df: pd.DataFrame, name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"table {name} must be a pandas DataFrame, got {type(df).__name__}", file=name)
    for c in USED_COLUMNS[name]:
        if c not in df.columns:
            raise InputError(f"table {name} has no column {c!r}", file=name, column=c)


def _dedup_enterprises(ent: pd.DataFrame) -> pd.DataFrame:
    dup = ent["uscc"].duplicated(keep="first").to_numpy()
    if dup.any():
        log.warning(
            "enterprises: %d duplicated uscc row(s); the first registration row of each code is used",
            int(dup.sum()),
        )
        ent = ent[~dup]
    return ent


def _categorical(codes: np.ndarray, cats: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=cats)


def _enterprise_features(ent: pd.DataFrame | None, q: _Queries, q_uscc: pa.Array) -> tuple[dict, np.ndarray]:
    """Registration features per query and the registration month per query (``_NAT`` when unknown)."""
    n = q.n
    out: dict[str, Any] = {}
    allowed = {"size_class": SIZE_CLASSES, "industry": tuple(industries()), "street": tuple(streets())}
    if ent is None:
        out.update({k: np.full(n, np.nan) for k in ("firm_age_years", "registered_capital_log", "employees")})
        out.update({k: _categorical(np.full(n, -1), list(a)) for k, a in allowed.items()})
        reg = np.full(n, _NAT)
    else:
        ent = _dedup_enterprises(ent)
        row_of_code = _Lookup(ent["uscc"])(q.codes.values)
        row = np.where(q.firm >= 0, row_of_code[np.maximum(q.firm, 0)] if len(row_of_code) else -1, -1)
        if (row < 0).any():
            log.warning(
                "%d queried row(s) have a uscc absent from enterprises: registration features missing",
                int((row < 0).sum()),
            )
        has, take = row >= 0, np.maximum(row, 0)

        def per_query(v: np.ndarray, fill: Any) -> np.ndarray:
            return np.where(has, v[take], fill) if len(v) else np.full(n, fill)

        reg = per_query(_to_days(ent["registered_on"], "enterprises", "registered_on"), _NAT)
        age = np.where(reg == _NAT, np.nan, (q.asof - reg) / DAYS_PER_YEAR)
        if (age < 0).any():
            log.warning(
                "%d row(s) have an as-of date before the registration date: firm age left missing",
                int((age < 0).sum()),
            )
            age[age < 0] = np.nan
        cap = per_query(_numbers(ent["registered_capital"]), np.nan)
        with np.errstate(invalid="ignore"):
            out["registered_capital_log"] = np.where(cap >= 0, np.log1p(np.where(cap >= 0, cap, 0.0)), np.nan)
        out["firm_age_years"] = age
        out["employees"] = per_query(_numbers(ent["employees"]), np.nan)
        for k, a in allowed.items():
            codes, cats = _encode(ent[k], a, f"enterprises.{k}")
            out[k] = _categorical(per_query(codes, -1), cats)
    prefix = pc.utf8_slice_codeunits(q_uscc, 0, 2)
    codes = _Lookup(ENTITY_CATEGORIES[:-1])(prefix)
    codes[(codes < 0) & ~np.asarray(pc.is_null(q_uscc))] = len(ENTITY_CATEGORIES) - 1
    out["entity_category"] = _categorical(codes, list(ENTITY_CATEGORIES))
    return out, _months(reg)


def _make_queries(q_uscc: pa.Array, q_asof: np.ndarray) -> _Queries:
    codes = _Lookup(pc.unique(q_uscc.drop_null()))
    firm = codes(q_uscc)
    if (firm < 0).any():
        log.warning("%d queried row(s) have no uscc: their features are missing", int((firm < 0).sum()))
    return _Queries(codes, firm, q_asof)


def _compute(tables: dict[str, pd.DataFrame], q_uscc: Any, q_asof: np.ndarray) -> dict[str, Any]:
    """Feature columns (enterprise scope, catalogue order) for the queries ``(q_uscc[i], q_asof[i])``."""
    q_uscc = _strings(q_uscc)
    q = _make_queries(q_uscc, q_asof)
    acc = _Acc(q.n)
    ent = tables.get("enterprises")
    if ent is not None:
        _check_columns(ent, "enterprises")
    else:
        log.warning("no enterprises table: registration features are missing")
    static, reg_month = _enterprise_features(ent, q, q_uscc)
    steps = [nm for nm in _STEPS if tables.get(nm) is not None]
    absent = [nm for nm in _STEPS if nm not in steps]
    if absent:
        log.warning("tables absent, their features are missing (NaN): %s", ", ".join(absent))
    for nm in steps:
        _check_columns(tables[nm], nm)
    for nm in tqdm(steps, desc="features", unit="table", disable=None, leave=False):
        log.debug("features from %s (%d rows) for %d queries", nm, len(tables[nm]), q.n)
        if nm == "invoices_monthly":
            _invoices(tables[nm], q, acc, reg_month)
        else:
            _STEPS[nm](tables[nm], q, acc)
    if "tax_grade_ordinal" in acc.v:
        o = acc.v["tax_grade_ordinal"]
        static["tax_grade"] = _categorical(
            np.where(np.isnan(o), -1, np.nan_to_num(o)).astype(np.int64), list(TAX_GRADES)
        )
    cat = catalogue("enterprise")
    data: dict[str, Any] = {}
    for code, kind in zip(cat["code"], cat["kind"]):
        if code in static:
            data[code] = static[code]
        elif code in acc.v:
            data[code] = np.asarray(acc.v[code], dtype=np.float64)
        elif kind == "categorical":
            data[code] = _categorical(np.full(q.n, -1), list(TAX_GRADES) if code == "tax_grade" else [])
        else:
            data[code] = np.full(q.n, np.nan)
    return data


def _as_days_array(values: Any, name: str) -> np.ndarray:
    d = _to_days(pd.Series(values).reset_index(drop=True), name, name)
    bad = np.flatnonzero(d == _NAT)
    if len(bad):
        raise InputError("missing as-of date", column=name, row=int(bad[0]) + 1)
    return d


def _day_series(days: np.ndarray) -> pd.Series:
    return pd.Series(days.astype("datetime64[D]").astype("datetime64[ns]"))


def _query_codes(codes: Any) -> Any:
    """Queried codes as the loader writes them (lower case, blanks, full width normalised); as given otherwise."""
    s = pd.Series(np.asarray(codes, dtype=object))
    norm = _codes(s)[0] if len(s) else None
    return codes if norm is None else norm.to_numpy(dtype=object)


def build_features(
    tables: dict[str, pd.DataFrame], as_of: AsOf | list | np.ndarray | pd.Index, uscc: Any = None
) -> pd.DataFrame:
    """Point-in-time features, one row per enterprise and as-of date.

    ``as_of`` is one date (every enterprise registered by then, deregistered and revoked ones included, as the
    public credit evaluation grades them (status ``deregistered``); the district's loan portfolio leaves them out
    itself; in table order, or the codes in
    ``uscc`` in their order), a list of dates (the same for each date, date by date), or a
    ``pd.Series`` of dates paired row by row with ``uscc`` (or with its own index when ``uscc`` is
    None). Returns ``uscc``, ``as_of_date`` and the features of ``catalogue("enterprise")`` in that
    order: numeric features as float64 (units in the catalogue), categorical ones as pandas
    ``category``. Features of an absent table are missing (NaN, warned), not zero.

    The tables are read by :func:`prepare_tables` first (codes normalised, text dates read strictly, category names
    mapped; InputError naming table, column and row for what cannot be read); so are the codes of ``uscc``.
    """
    tables = prepare_tables(tables)
    q_uscc, q_asof = query_keys(tables, as_of, uscc)
    feats = _compute(tables, q_uscc, q_asof)
    head = {"uscc": pd.Series(q_uscc.to_pandas(), dtype="str"), "as_of_date": _day_series(q_asof)}
    return pd.DataFrame({**head, **feats})


def query_keys(tables: Mapping[str, pd.DataFrame], as_of: Any, uscc: Any = None) -> tuple[pa.Array, np.ndarray]:
    """The (code, as-of day) rows :func:`build_features` computes for ``as_of`` and ``uscc`` (prepared ``tables``):
    codes as a string array (normalised as the loader writes them), days since 1970-01-01."""
    if uscc is not None:
        uscc = _query_codes(uscc)
    elif isinstance(as_of, pd.Series):
        as_of = pd.Series(as_of.to_numpy(), index=_query_codes(as_of.index))
    if isinstance(as_of, pd.Series):
        codes = as_of.index if uscc is None else uscc
        q_uscc = _strings(pd.Series(np.asarray(codes, dtype=object)))
        if len(q_uscc) != len(as_of):
            raise InputError(f"uscc has {len(q_uscc)} values but as_of has {len(as_of)}", column="uscc")
        q_asof = _as_days_array(as_of.to_numpy(), "as_of")
    else:
        many = isinstance(as_of, (list, tuple, np.ndarray, pd.Index))
        dates = _as_days_array(list(as_of) if many else [as_of], "as_of")
        if uscc is None:
            ent = tables.get("enterprises")
            if ent is None:
                raise InputError(
                    "build_features needs the enterprises table or an explicit uscc list", file="enterprises"
                )
            _check_columns(ent, "enterprises")
            ent = _dedup_enterprises(ent)
            codes = _strings(ent["uscc"])
            reg = _to_days(ent["registered_on"], "enterprises", "registered_on")
            parts_u, parts_d = [], []
            for d in dates:
                alive = (reg == _NAT) | (reg <= d)
                if not alive.all():
                    log.info(
                        "as of %s: %d enterprise(s) registered later are left out",
                        np.datetime64(int(d), "D"),
                        int((~alive).sum()),
                    )
                parts_u.append(codes.filter(pa.array(alive)))
                parts_d.append(np.full(int(alive.sum()), d, dtype=np.int64))
            q_uscc = pa.concat_arrays(parts_u)
            q_asof = np.concatenate(parts_d)
        else:
            codes = _strings(pd.Series(np.asarray(uscc, dtype=object)))
            q_uscc = pa.concat_arrays([codes] * len(dates)) if len(dates) else codes.slice(0, 0)
            q_asof = np.repeat(dates, len(codes))
    return q_uscc, q_asof


def build_loan_features(tables: dict[str, pd.DataFrame], loans: pd.DataFrame | None = None) -> pd.DataFrame:
    """Features of every loan as of its origination date (``loans`` defaults to ``tables["loans"]``).

    One row per loan in input order: ``loan_id``, ``uscc``, ``as_of_date``, the loan terms
    (``loan_amount`` yuan, ``loan_term_months``, ``loan_collateral``), the enterprise features as in
    :func:`build_features`, then ``default_12m`` and ``true_pd`` untouched when present (targets, never
    features). Records reported on the origination date itself count.
    """
    if loans is None:
        tables = prepare_tables(tables)
        loans = tables.get("loans")
        if loans is None:
            raise InputError("no loans table", file="loans")
    else:   # read with the district's tables: its codes, dates and the register's codes are checked together
        tables = prepare_tables({**tables, "loans": loans})
        loans = tables["loans"]
    for c in ("loan_id", "uscc", "origination_date"):
        if c not in loans.columns:
            raise InputError(f"table loans has no column {c!r}", file="loans", column=c)
    loans = loans.reset_index(drop=True)
    q_asof = _to_days(loans["origination_date"], "loans", "origination_date")
    bad = np.flatnonzero(q_asof == _NAT)
    if len(bad):
        raise InputError(
            "missing origination date", file="loans", column="origination_date", row=int(bad[0]) + 1
        )
    feats = _compute(tables, loans["uscc"], q_asof)
    out: dict[str, Any] = {
        "loan_id": loans["loan_id"],
        "uscc": loans["uscc"],
        "as_of_date": _day_series(q_asof),
    }
    for code, src in {"loan_amount": "amount", "loan_term_months": "term_months"}.items():
        out[code] = _numbers(loans[src]) if src in loans.columns else np.full(len(loans), np.nan)
    coll = (
        loans["collateral"] if "collateral" in loans.columns else pd.Series([None] * len(loans), dtype=object)
    )
    out["loan_collateral"] = _categorical(*_encode(coll, COLLATERAL, "loans.collateral"))
    tail = {c: loans[c] for c in ("default_12m", "true_pd") if c in loans.columns}
    return pd.DataFrame({**out, **feats, **tail})
