"""``CreditModel``: a fitted PD estimator made deployable.

It composes the estimator (WoE scorecard or LightGBM challenger), the PD calibrator, the master
scale and the feature catalogue, and turns any input frame into the bank's scoring columns
(DESIGN.md section 6): ``score`` (integer points, higher is safer), ``grade`` (1 best .. 10 worst, D),
``pd_12m`` (calibrated 12-month PD, a fraction), ``reason_1..reason_3`` (feature codes; ``<feature>.missing``
where the factor costs points because its value is missing; texts in :meth:`CreditModel.reason_table`),
``model_name``, ``model_version``, ``status`` and ``error``.

Every input row comes out, in input order. A row that cannot be scored keeps ``status = "error"``
and a message naming the column (a number that is not a number, an infinite value, a category never
seen in training); a missing column stops the whole call with :class:`InputError` naming it.
"""
from __future__ import annotations

import hashlib
import io
import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from creditmodel.errors import InputError, separator_hint
from creditmodel.features.catalogue import MISSING_REASON_SUFFIX, missing_reason_text
from creditmodel.scoring.binning import _category_key, holds_numbers, level_positions

log = logging.getLogger(__name__)

REASON_COLUMNS = ["reason_1", "reason_2", "reason_3"]
def missing_reason_codes(features: list[str]) -> list[str]:
    """Reason codes of a factor that costs points because its value is missing: ``<feature>.missing``."""
    return [f"{f}{MISSING_REASON_SUFFIX}" for f in features]
SCORE_COLUMNS = ["score", "grade", "pd_12m", *REASON_COLUMNS, "model_name", "model_version", "status", "error"]


@dataclass(frozen=True)
class ScoreScaling:
    """Points = offset + factor * ln(odds good:bad); ``pdo`` points double the odds.

    ``base_score`` points at ``base_odds`` (good:bad), e.g. 600 points at 50:1 with 20 points to double.
    """

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        return self.pdo / np.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * np.log(self.base_odds)

    def points_from_pd(self, pd_: np.ndarray) -> np.ndarray:
        """Integer points for PDs (fractions in (0, 1))."""
        p = np.clip(np.asarray(pd_, dtype=float), 1e-9, 1 - 1e-9)
        return np.rint(self.offset + self.factor * np.log((1 - p) / p)).astype(np.int64)


@dataclass
class InputSpec:
    """The columns a model reads and what it saw in training (numeric vs categorical, known levels)."""

    numeric: list[str]
    categorical: dict[str, list[str]] = field(default_factory=dict)
    #: numeric columns whose training values were all 0/1 or true/false: only these read TRUE/FALSE as 1/0 at
    #: scoring (elsewhere it is "not a number"); None for a model saved before the field existed (read as before)
    binary: list[str] | None = None
    #: numeric column -> (lowest, highest[, why]) possible value (None = open; a ``features.catalogue.Domain``) from
    #: the feature catalogue: a value outside is impossible (a negative head count, a voided share of 1.7) and a row
    #: error; None for a model saved before
    bounds: dict[str, tuple] | None = None

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def subset(self, columns: list[str]) -> "InputSpec":
        """The spec restricted to ``columns`` (e.g. the features a scorecard kept)."""
        keep = set(columns)
        binary = getattr(self, "binary", None)
        bounds = getattr(self, "bounds", None)
        return InputSpec([c for c in self.numeric if c in keep],
                         {c: v for c, v in self.categorical.items() if c in keep},
                         None if binary is None else [c for c in binary if c in keep],
                         None if bounds is None else {c: b for c, b in bounds.items() if c in keep})

    def reads_yes_no(self, column: str) -> bool:
        """Whether TRUE/FALSE cells of numeric ``column`` are read as 1/0 (it was a 0/1 or yes/no feature)."""
        binary = getattr(self, "binary", None)
        return binary is None or column in binary

    @classmethod
    def from_frame(cls, X: pd.DataFrame, columns: list[str] | None = None) -> "InputSpec":
        """Numeric and categorical columns of ``X``; categorical levels = the dtype's categories when the
        column is a pandas Categorical (its declared domain), else the values seen."""
        cols = list(columns if columns is not None else X.columns)
        numeric, cats, binary = [], {}, []
        for c in cols:
            s = X[c]
            if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s) or holds_numbers(s):
                numeric.append(c)
                v = s.to_numpy(dtype="float64", na_value=np.nan)
                if bool(np.all((v == 0) | (v == 1) | np.isnan(v))):
                    binary.append(c)
            elif isinstance(s.dtype, pd.CategoricalDtype):
                # a categorical dtype declares the domain (e.g. every GB/T 4754 section): a declared level
                # that training did not see is scored (the estimator's unseen-level rule), not an error
                cats[c] = sorted({_category_key(v) for v in s.cat.categories} - {""})
            else:   # a blank text is missing, not a level (as the scorer and the SQL read it)
                cats[c] = sorted({k for v in pd.unique(s.dropna()) if (k := _category_key(v)).strip()})
        return cls(numeric=numeric, categorical=cats, binary=binary)

    def example(self, n: int = 2) -> pd.DataFrame:
        """A made-up input example (zeros and the first known level): documents the input, holds no data."""
        data: dict[str, list] = {c: [0.0] * n for c in self.numeric}
        data.update({c: [levels[0] if levels else None] * n for c, levels in self.categorical.items()})
        return pd.DataFrame(data, columns=self.columns)

    def check(self, df: pd.DataFrame, file: str | Path | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Coerce the model's columns and collect per-row problems.

        Returns the cleaned frame (numeric as float64 with NaN for missing, categoricals as pandas
        Categorical over the training levels) and an array of error messages (None where the row is fine).
        Vectorised: messages are only built for the rows at fault. The frame is not copied: float64 columns
        share memory with ``df`` (read-only under pandas' copy-on-write); ``.copy()`` it before writing.
        """
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise InputError(f"missing column(s) the model needs: {missing}{separator_hint(df.columns)}", file=file,
                             column=missing[0])
        n = len(df)
        errors = np.full(n, None, dtype=object)
        has_error = np.zeros(n, dtype=bool)
        out: dict[str, Any] = {}

        def flag(mask: np.ndarray, message) -> None:
            """Record ``message`` for the rows without an error yet: one text, an array with a text per
            row, or a function of the row number (called only for the flagged rows)."""
            new = mask & ~has_error
            if isinstance(message, (str, np.ndarray)):
                errors[new] = message if isinstance(message, str) else message[new]
            else:
                for i in np.flatnonzero(new):
                    errors[i] = message(i)
            has_error[new] = True

        bounds = getattr(self, "bounds", None) or {}
        for c in self.numeric:
            s = df[c]
            yes_no_ok = self.reads_yes_no(c)
            if pd.api.types.is_bool_dtype(s) and not yes_no_ok:
                # a chunk whose cells are all TRUE/FALSE is read as booleans: 1/0 only for a 0/1 feature (a fuzzer's
                # finding: an amount column holding TRUE/FALSE in one chunk was scored as 1/0)
                v = np.full(n, np.nan)
                raw = s.to_numpy(dtype=object)
                flag(s.notna().to_numpy(dtype=bool),
                     lambda i, c=c, raw=raw: f"column '{c}': {str(raw[i]).upper()!r} is not a number (a number in "
                                             "training, not a yes/no feature)")
            elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
                v = s.to_numpy(dtype="float64", na_value=np.nan)
            else:
                text = s.astype("string").str.strip()
                if yes_no_ok:   # yes/no columns are numbers (train)
                    yes_no = text.str.lower().map({"true": "1", "false": "0"})
                    text = yes_no.where(yes_no.notna(), text)
                v = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
                bad = np.isnan(v) & text.notna().to_numpy() & (text != "").to_numpy(dtype=bool, na_value=False)
                if bad.any():
                    raw = s.to_numpy(dtype=object)
                    flag(bad, lambda i, c=c, raw=raw: f"column '{c}': {raw[i]!r} is not a number")
            if n:   # two NaN-skipping reductions (no temporary array), shared by the magnitude and domain checks
                low, high = np.fmin.reduce(v), np.fmax.reduce(v)
                if high > MAX_FEATURE_MAGNITUDE or low < -MAX_FEATURE_MAGNITUDE:
                    big, inf = np.abs(v) > MAX_FEATURE_MAGNITUDE, np.isinf(v)
                    flag(big & inf, f"column '{c}': infinite value")
                    flag(big & ~inf,
                         f"column '{c}': value beyond {MAX_FEATURE_MAGNITUDE:.3g} (refused in training too)")
                if c in bounds:
                    _check_domain(c, v, low, high, bounds[c], flag)
            out[c] = v
        for c, levels in self.categorical.items():
            s = df[c]
            # factorize first (fast on Arrow strings), then map the few distinct values to training levels
            ucodes, uniques = pd.factorize(s, use_na_sentinel=True)
            # a whole float is the integer's category (3.0 is 3: a NaN in the batch made the column float)
            keys = pd.Index([_category_key(u) for u in np.asarray(uniques, dtype=object)], dtype=object)
            umap = np.r_[level_positions(uniques, pd.Index(levels, dtype=object)), -1]
            blank = np.r_[np.array([not k.strip() for k in keys], dtype=bool), False] & (umap < 0)
            if blank.any():  # a cell of spaces is missing, as in training (data.io reads it as empty)
                ucodes = np.where(blank[ucodes], -1, ucodes)
            cat = pd.Categorical.from_codes(umap[ucodes], categories=levels)
            unseen = (np.asarray(cat.codes) < 0) & (ucodes >= 0)
            if unseen.any():  # one message per distinct value, spread by code (no per-row Python)
                umsg = np.array([f"column '{c}': category {u!r} was not seen in training"
                                 for u in np.asarray(uniques, dtype=object)] + [None], dtype=object)
                flag(unseen, umsg[ucodes])
            out[c] = cat
        return pd.DataFrame(out, index=df.index, copy=False), errors  # no 2-D block copy


def _check_domain(c: str, v: np.ndarray, low: float, high: float, dom: tuple, flag: Any) -> None:
    """Flag the values of column ``c`` outside its domain ``dom`` (a ``features.catalogue.Domain``, or a (low, high)
    pair in a model saved before the reasons); ``low``/``high`` are the column's NaN-skipping min and max, so the
    masks are built only when a value is off."""
    lo, hi = dom[0], dom[1]
    why = (dom[2] if len(dom) > 2 else "") or "an impossible value"
    if lo is not None and low < lo:
        flag(v < lo, lambda i: f"column '{c}': {v[i]:g} is below {lo:g}, its lowest possible value ({why})")
    if hi is not None and high > hi:
        flag(v > hi, lambda i: f"column '{c}': {v[i]:g} is above {hi:g}, its highest possible value ({why})")
    if len(dom) > 3 and dom[3]:   # whole numbers only (a flag of 0.5)
        if (lo, hi) == (0.0, 1.0):   # a flag: strictly between its two values (2 cheap comparisons)
            part = (v > 0.0) & (v < 1.0)
        else:   # v - floor(v) is > 0 for a fraction, NaN (skipped) for NaN and +-inf
            with np.errstate(invalid="ignore"):
                part = (v - np.floor(v)) > 0.0
        if part.any():
            flag(part, lambda i: f"column '{c}': {v[i]:g} is not a whole number ({why})")


#: Largest magnitude a feature may have (LightGBM reads float32; train refuses larger values, score flags the row).
MAX_FEATURE_MAGNITUDE = float(np.finfo(np.float32).max)


def _text_column(values: np.ndarray) -> Any:
    """Object array of str/None -> an array of pandas' default string dtype (None -> missing), converted
    by pyarrow (about 6x faster than pandas' own conversion at 1M rows)."""
    try:
        dtype = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str" (pandas >= 2.3)
    except TypeError:  # older pandas: keep the object array (None = no error)
        return values
    return pd.Series(pa.array(values, type=pa.large_string(), from_pandas=True), dtype=dtype).array


def _constant(value: str, n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [value])


def content_pickle(obj: Any) -> bytes:
    """``obj`` pickled (protocol 5) without the pickler's memo (``Pickler.fast``): an object referenced twice is
    written twice, so the bytes are a function of the content alone. With the memo they also recorded which
    parts shared one Python object (a dtype, a column name), and an estimator fitted in a worker process
    and sent back shares fewer: ``--jobs 2`` wrote a different file than ``--jobs 1`` for the same model.
    An object graph with a cycle needs the memo: it is then pickled ordinarily, with a warning."""
    buf = io.BytesIO()
    try:
        pickler = pickle.Pickler(buf, protocol=5)
        pickler.fast = True
        pickler.dump(obj)
    except (ValueError, RecursionError, AttributeError) as e:
        log.warning("model pickled with the memo (%s): its bytes may differ between a model fitted in this "
                    "process and one fitted in a worker", e)
        buf = io.BytesIO()
        pickle.dump(obj, buf, protocol=5)
    return buf.getvalue()


class CreditModel:
    """A deployable PD model: estimator + calibrator + master scale + feature catalogue.

    ``kind`` is ``"scorecard"`` (score = the scorecard's integer points, calibrated to PD) or
    ``"lightgbm"`` (score = points scaled from the calibrated PD with ``scaling``).
    """

    def __init__(self, estimator: Any, calibrator: Any, master_scale: Any, input_spec: InputSpec, kind: str,
                 name: str, catalogue: pd.DataFrame | None = None, scaling: ScoreScaling | None = None,
                 version: str | None = None, id_col: str | None = None, metadata: dict | None = None) -> None:
        if kind not in {"scorecard", "lightgbm"}:
            raise ValueError(f"kind must be 'scorecard' or 'lightgbm', got {kind!r}")
        self.estimator = estimator
        self.calibrator = calibrator
        self.master_scale = master_scale
        self.input_spec = input_spec
        self.kind = kind
        self.name = name
        self.catalogue = catalogue
        self.scaling = scaling or ScoreScaling()
        self.id_col = id_col
        self.metadata = dict(metadata or {})
        self.version = version or self.fingerprint()

    # ------------------------------------------------------------------ raw outputs
    def raw(self, X: pd.DataFrame) -> np.ndarray:
        """The estimator output the calibrator reads: points (scorecard) or log-odds of bad (LightGBM)."""
        if self.kind == "scorecard":
            return np.asarray(self.estimator.points(X), dtype=float)
        return np.asarray(self.estimator.decision_function(X), dtype=float)

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated 12-month PD (fraction) for clean rows."""
        return np.asarray(self.calibrator.predict(self.raw(X)), dtype=float)

    def points(self, raw: np.ndarray, pd_: np.ndarray) -> np.ndarray:
        """The delivered integer score (points; higher = safer) from the raw output and the calibrated PD: the
        rounded scorecard points, or the LightGBM PD on the points scale."""
        return np.rint(raw).astype(np.int64) if self.kind == "scorecard" else self.scaling.points_from_pd(pd_)

    # ------------------------------------------------------------------ the deliverable
    def score_frame(self, df: pd.DataFrame, file: str | Path | None = None, n_reasons: int = 3,
                    warn: bool = True) -> pd.DataFrame:
        """Score every row of ``df``; the result has ``df``'s index and :data:`SCORE_COLUMNS`. ``warn=False`` leaves
        the warning on rows that cannot be scored to the caller (a file scored in chunks says it once)."""
        X, errors = self.input_spec.check(df, file=file)
        ok = pd.isna(errors).astype(bool)
        n = len(df)
        points = np.zeros(n, dtype=np.int64)
        pd12 = np.full(n, np.nan)
        codes = list(getattr(self.estimator, "selected_features_", None) or self.input_spec.columns)
        grades = list(self.master_scale.grades)
        grade_code = np.full(n, -1, dtype=np.int16)
        reason_code = np.full((n, len(REASON_COLUMNS)), -1, dtype=np.int32)
        k = min(n_reasons, len(REASON_COLUMNS))
        if ok.any():
            card = self.kind == "scorecard" and hasattr(self.estimator, "points_and_reason_codes")
            # the scorecard scores faulty rows too (missing/unseen slots) and they are masked below: cheaper
            # than copying the clean rows out; LightGBM's contributions are costly, so it sees clean rows only
            Xo = X.loc[ok] if not (card or ok.all()) else X
            if card:
                raw, rc = self.estimator.points_and_reason_codes(Xo, n=k)
                raw = np.asarray(raw, dtype=float)
                if not ok.all():
                    raw, rc = raw[ok], rc[ok]
            else:
                raw = self.raw(Xo)
                names = self.estimator.reason_codes(Xo, n=k).iloc[:, :k]
                pos = pd.Index(codes, dtype=object)
                rc = np.column_stack([pos.get_indexer(names.iloc[:, j].astype(object)) for j in range(names.shape[1])]
                                     ) if names.shape[1] else np.empty((len(Xo), 0), dtype=np.int32)
            p = np.asarray(self.calibrator.predict(raw), dtype=float)
            points[ok] = self.points(raw, p)
            pd12[ok] = p
            grade_code[ok] = self.master_scale.grade_codes(p)
            reason_code[ok, :rc.shape[1]] = rc
            # a reason whose value is missing says so (a firm with no tax grade was told "Low tax credit grade"):
            # code "<feature>.missing", its own text in reason_table
            # (only the columns holding a missing cell; a column-major mask and one gather per reason slot:
            # 29 ms per 1M rows x 17 features, where a dense mask and fancy indexing took 62 ms)
            nf = len(codes)
            miss = np.zeros((n, nf), dtype=bool, order="F")
            holes = False
            for p_, f in enumerate(codes):
                if f in X.columns:
                    na = X[f].isna().to_numpy()
                    if na.any():
                        miss[:, p_], holes = na, True
            if holes:
                hit = np.take_along_axis(miss, np.maximum(reason_code, 0), axis=1) & (reason_code >= 0)
                reason_code[hit] += nf
        out = pd.DataFrame({
            "score": pd.arrays.IntegerArray(points, ~ok),
            "grade": pd.Categorical.from_codes(grade_code, categories=grades),
            "pd_12m": pd12,
            **{c: pd.Categorical.from_codes(reason_code[:, j], categories=[*codes, *missing_reason_codes(codes)])
               for j, c in enumerate(REASON_COLUMNS)},
            "model_name": _constant(self.name, n),
            "model_version": _constant(str(self.version), n),
            "status": pd.Categorical.from_codes(np.where(ok, 0, 1).astype(np.int8), ["ok", "error"]),
            "error": _text_column(errors),
        }, index=df.index, copy=False)
        if warn and (~ok).any():
            log.warning("%d of %d rows have a model input that cannot be scored (status=error); first: %s",
                        int((~ok).sum()), n,
                        errors[~ok][0])
        return out

    # ------------------------------------------------------------------ documentation helpers
    def reason_table(self) -> pd.DataFrame:
        """Reason code -> Chinese and English text (from the catalogue; the code itself otherwise)."""
        feats = list(getattr(self.estimator, "selected_features_", None) or self.input_spec.columns)
        cat = self.catalogue
        rows = []
        for f in feats:
            zh = en = f
            if cat is not None and "code" in cat.columns and f in set(cat["code"]):
                r = cat.loc[cat["code"] == f].iloc[0]
                zh = str(r.get("reason_zh", r.get("name_zh", f)) or f)
                en = str(r.get("reason_en", r.get("name_en", f)) or f)
            rows.append({"code": f, "text_zh": zh, "text_en": en})
        for f, code in zip(feats, missing_reason_codes(feats)):
            zh = en = f
            mean_zh = mean_en = None   # what a missing value means (catalogue's missing_zh/en; older models: none)
            if cat is not None and "code" in cat.columns and f in set(cat["code"]):
                r = cat.loc[cat["code"] == f].iloc[0]
                zh, en = str(r.get("name_zh", f) or f), str(r.get("name_en", f) or f)
                mean_zh, mean_en = r.get("missing_zh"), r.get("missing_en")
            rows.append({"code": code, "text_zh": missing_reason_text(zh, "zh", mean_zh),
                         "text_en": missing_reason_text(en, "en", mean_en)})
        return pd.DataFrame(rows)

    def with_reason_texts(self, scored: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
        """A copy of ``scored`` (rows with ``reason_1..3`` codes, e.g. of :meth:`score_frame`) with each code replaced
        by its text in ``lang`` ("en" or "zh") from :meth:`reason_table`; a code without a text, and an empty one,
        stay as they are."""
        if lang not in ("en", "zh"):
            raise InputError(f"lang must be 'en' or 'zh', got {lang!r}", parameter="lang")
        texts = self.reason_table().set_index("code")[f"text_{lang}"]
        out = scored.copy()
        for c in [c for c in REASON_COLUMNS if c in out.columns]:
            out[c] = [texts.get(v, v) if isinstance(v, str) else v for v in out[c].astype(object)]
        return out

    def fingerprint(self) -> str:
        """A short SHA-256 of the fitted model (same data, parameters and seed: same fingerprint).

        Hashes :func:`content_pickle` of the fitted parts, so the hash depends on the model's content only, not
        on which of its parts happen to share one Python object (an estimator fitted in a worker process and
        sent back shares fewer).
        """
        parts = (self.estimator, self.calibrator, self.master_scale, self.input_spec, self.kind, self.scaling)
        return hashlib.sha256(content_pickle(parts)).hexdigest()[:12]

    def save(self, path: str | Path) -> Path:
        """Pickle the model to ``path`` (:func:`content_pickle`: the same bytes for the same model, whichever
        process fitted its parts)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content_pickle(self))
        return p

    @staticmethod
    def load(path: str | Path) -> "CreditModel":
        with open(path, "rb") as f:
            obj = pickle.load(f)
        if not isinstance(obj, CreditModel):
            raise InputError("not a creditmodel CreditModel pickle", file=path)
        return obj
