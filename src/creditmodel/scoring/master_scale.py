"""The master scale: 10 rating grades plus D (default), each a band of 12-month PD.

The default bands are the proposal of DOMAIN.md part B3: geometric bands from the Basel III corporate PD floor
(0.05 %) doubling up to 20.48 %, grade 10 up to (but excluding) 100 %, and grade ``"D"`` for PD = 100 % or an
obligor flagged as defaulted. A band is the half-open interval ``[pd_low, pd_high)``: a PD exactly on an edge
belongs to the riskier grade. PDs below the first band's lower edge (the floor) are graded ``"1"``.

Bands are configurable (``MasterScale(bands=[...])``); the configuration is validated and a wrong entry is
rejected with :class:`~creditmodel.errors.ConfigError` naming the key (e.g. ``bands[3].pd_high``).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from creditmodel.errors import ConfigError, InputError

logger = logging.getLogger(__name__)

DEFAULT_GRADE = "D"

#: DOMAIN.md B3: grade, PD lower, PD upper, central PD (fractions), agency and public-credit analogues.
DEFAULT_BANDS: tuple[dict[str, Any], ...] = (
    {"grade": "1", "pd_low": 0.0005, "pd_high": 0.0008, "central_pd": 0.0006, "agency": "AAA/AA",
     "public_credit": "A (优)"},
    {"grade": "2", "pd_low": 0.0008, "pd_high": 0.0016, "central_pd": 0.0012, "agency": "A",
     "public_credit": "A"},
    {"grade": "3", "pd_low": 0.0016, "pd_high": 0.0032, "central_pd": 0.0023, "agency": "BBB+/BBB",
     "public_credit": "A/B"},
    {"grade": "4", "pd_low": 0.0032, "pd_high": 0.0064, "central_pd": 0.0045, "agency": "BBB-/BB+",
     "public_credit": "B (良)"},
    {"grade": "5", "pd_low": 0.0064, "pd_high": 0.0128, "central_pd": 0.009, "agency": "BB",
     "public_credit": "B"},
    {"grade": "6", "pd_low": 0.0128, "pd_high": 0.0256, "central_pd": 0.018, "agency": "BB-/B+",
     "public_credit": "C (中)"},
    {"grade": "7", "pd_low": 0.0256, "pd_high": 0.0512, "central_pd": 0.036, "agency": "B",
     "public_credit": "C"},
    {"grade": "8", "pd_low": 0.0512, "pd_high": 0.1024, "central_pd": 0.072, "agency": "B-",
     "public_credit": "C/D"},
    {"grade": "9", "pd_low": 0.1024, "pd_high": 0.2048, "central_pd": 0.145, "agency": "CCC",
     "public_credit": "D (差)"},
    {"grade": "10", "pd_low": 0.2048, "pd_high": 1.0, "central_pd": 0.30, "agency": "CC/C",
     "public_credit": "D"},
)
DEFAULT_ROW = {"grade": DEFAULT_GRADE, "pd_low": 1.0, "pd_high": 1.0, "central_pd": 1.0, "agency": "default",
               "public_credit": "serious dishonesty / 失信被执行人"}
_NUMERIC_KEYS = ("pd_low", "pd_high", "central_pd")


def _validated_bands(bands: Sequence[Mapping[str, Any]] | pd.DataFrame) -> list[dict[str, Any]]:
    """Check a band configuration; raise ConfigError naming the offending key."""
    if isinstance(bands, pd.DataFrame):
        bands = bands.to_dict(orient="records")
    if isinstance(bands, (str, bytes)) or not isinstance(bands, Sequence) or len(bands) < 2:
        raise ConfigError("bands: expected a list of at least 2 bands (mappings with grade, pd_low, pd_high)",
                          column="bands")
    out: list[dict[str, Any]] = []
    for i, band in enumerate(bands):
        key = f"bands[{i}]"
        if not isinstance(band, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {type(band).__name__}", column=key)
        for k in ("grade", "pd_low", "pd_high"):
            if k not in band:
                raise ConfigError(f"{key}.{k}: missing", column=f"{key}.{k}")
        row = {"grade": str(band["grade"]), "agency": str(band.get("agency", "")),
               "public_credit": str(band.get("public_credit", ""))}
        for k in _NUMERIC_KEYS:
            v = band.get(k)
            if k == "central_pd" and v is None:
                continue
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise ConfigError(f"{key}.{k}: not a number ({v!r})", column=f"{key}.{k}") from None
            if not (0.0 <= v <= 1.0):
                raise ConfigError(f"{key}.{k}: {v} is outside [0, 1] (PD is a fraction)", column=f"{key}.{k}")
            row[k] = v
        if row["grade"] == DEFAULT_GRADE:
            raise ConfigError(f"{key}.grade: '{DEFAULT_GRADE}' is reserved for default", column=f"{key}.grade")
        if not row["pd_low"] < row["pd_high"]:
            raise ConfigError(f"{key}.pd_high: {row['pd_high']} must be greater than pd_low {row['pd_low']}",
                              column=f"{key}.pd_high")
        if "central_pd" not in row:  # geometric mid-point of the band
            row["central_pd"] = float(np.sqrt(max(row["pd_low"], 1e-12) * row["pd_high"]))
        elif not row["pd_low"] <= row["central_pd"] < row["pd_high"]:
            raise ConfigError(f"{key}.central_pd: {row['central_pd']} is not in [pd_low, pd_high) = "
                              f"[{row['pd_low']}, {row['pd_high']})", column=f"{key}.central_pd")
        if out and row["pd_low"] != out[-1]["pd_high"]:
            raise ConfigError(f"{key}.pd_low: {row['pd_low']} must equal bands[{i - 1}].pd_high "
                              f"{out[-1]['pd_high']} (bands must be increasing and contiguous)",
                              column=f"{key}.pd_low")
        out.append(row)
    grades = [b["grade"] for b in out]
    dup = sorted({g for g in grades if grades.count(g) > 1})
    if dup:
        raise ConfigError(f"bands[*].grade: duplicate grade names {dup}", column="bands[*].grade")
    if out[-1]["pd_high"] != 1.0:
        raise ConfigError(f"bands[{len(out) - 1}].pd_high: the last band must end at 1.0 (PD = 1 is grade "
                          f"'{DEFAULT_GRADE}'), got {out[-1]['pd_high']}", column=f"bands[{len(out) - 1}].pd_high")
    return out


class MasterScale:
    """Rating grades ``"1"`` (best) .. ``"10"`` (worst) and ``"D"`` (default), each a band of 12-month PD.

    Parameters
    ----------
    bands : list of mappings or DataFrame, optional
        Each band has ``grade``, ``pd_low``, ``pd_high`` (fractions, ``[pd_low, pd_high)``), optionally
        ``central_pd`` (default: geometric mid-point), ``agency`` and ``public_credit`` (analogue labels).
        Bands must be increasing and contiguous within [0, 1], and the last one must end at 1.0.
        Defaults to :data:`DEFAULT_BANDS` (DOMAIN.md B3).
    """

    def __init__(self, bands: Sequence[Mapping[str, Any]] | pd.DataFrame | None = None):
        self.bands = bands
        self._bands = _validated_bands(DEFAULT_BANDS if bands is None else bands)
        # interior edges: searchsorted(side="right") puts a PD equal to an edge into the riskier grade
        self._edges = np.array([b["pd_high"] for b in self._bands[:-1]], dtype=float)
        self._names = np.array([b["grade"] for b in self._bands] + [DEFAULT_GRADE], dtype=object)
        self._central = {b["grade"]: b["central_pd"] for b in self._bands} | {DEFAULT_GRADE: 1.0}

    @property
    def grades(self) -> list[str]:
        """Grade names from best to worst, ``"D"`` last."""
        return list(self._names)

    def __repr__(self) -> str:
        return f"MasterScale({len(self._bands)} grades + {DEFAULT_GRADE})"

    def grade(self, pd_, defaulted=None, on_nan: str = "raise") -> np.ndarray:
        """Grade of each PD (fraction): object array of ``"1"`` .. ``"10"`` or ``"D"``.

        ``defaulted`` (bool array, optional) forces ``"D"``; PD = 1 is also ``"D"``. A PD outside [0, 1] raises
        :class:`InputError` naming the (1-based) row. A missing PD raises as well unless ``on_nan="none"``, in
        which case its grade is ``None`` (for a caller that flags the row itself).
        """
        if on_nan not in ("raise", "none"):
            raise ConfigError(f"on_nan: expected 'raise' or 'none', got {on_nan!r}", column="on_nan")
        p = np.atleast_1d(np.asarray(pd_, dtype=float))
        nan = np.isnan(p)
        if nan.any() and on_nan == "raise":
            row = int(np.flatnonzero(nan)[0]) + 1
            raise InputError(f"PD is missing (NaN) in {int(nan.sum())} row(s); cannot grade", column="pd", row=row)
        bad = ~nan & ((p < 0) | (p > 1))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"PD {p[i]} is outside [0, 1] (a fraction is expected)", column="pd", row=i + 1)
        idx = self._index(np.where(nan, 0.0, p))
        out = self._names[idx]
        if nan.any():
            out = out.astype(object)
            out[nan] = None
        if defaulted is not None:   # in default is grade D whatever the PD, a missing one too
            d = np.atleast_1d(np.asarray(defaulted))
            if d.shape != p.shape:
                raise InputError(f"defaulted has {d.size} values for {p.size} PDs", column="defaulted")
            if d.dtype.kind not in "bi" or (d.dtype.kind == "i" and not np.isin(d, (0, 1)).all()):
                raise InputError("defaulted must be boolean (or 0/1)", column="defaulted")
            out = np.where(d.astype(bool), DEFAULT_GRADE, out).astype(object)
        return out

    def _index(self, p: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self._edges, p, side="right")
        idx[p >= 1.0] = len(self._bands)  # grade D
        return idx

    def grade_codes(self, pd_) -> np.ndarray:
        """Position of each PD's grade in :attr:`grades` (int; fast path of :meth:`grade` for valid PDs)."""
        p = np.asarray(pd_, dtype=float)
        if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
            return np.searchsorted(self.grades, self.grade(p))  # raises with the row at fault
        return self._index(p)

    def central_pd(self, grade) -> np.ndarray | float:
        """Central PD (fraction) of a grade name or an array of grade names; ``"D"`` is 1.0."""
        scalar = np.ndim(grade) == 0
        g = np.atleast_1d(np.asarray(grade, dtype=object)).astype(str)
        unknown = sorted(set(g) - set(self._central))
        if unknown:
            raise InputError(f"unknown grade(s) {unknown}; the scale has {self.grades}", column="grade")
        out = np.array([self._central[x] for x in g], dtype=float)
        return float(out[0]) if scalar else out

    def table(self) -> pd.DataFrame:
        """The scale as a table: grade, pd_low, pd_high, central_pd, agency, public_credit (D row last)."""
        cols = ["grade", "pd_low", "pd_high", "central_pd", "agency", "public_credit"]
        return pd.DataFrame([{k: b[k] for k in cols} for b in self._bands] + [dict(DEFAULT_ROW)], columns=cols)

    def score_cutoffs(self, calibrator, score_min: int, score_max: int, step: int = 1) -> pd.DataFrame:
        """Score ranges of each grade when ``calibrator.predict(score)`` maps scores to PD monotonically.

        Every score ``score_min, score_min + step, .., score_max`` (integer points of a scorecard) is mapped to
        PD and graded; the result lists, per grade, the inclusive score range ``[score_low, score_high]`` that
        gets it (NaN when no score in the range does). A bank can then grade in SQL from the score alone
        (:meth:`grade_sql`) and gets exactly ``grade(calibrator.predict(score))`` for every score in the range;
        scores outside the range get the grade of the nearer end. Raises ``InputError`` if the mapping is not
        monotone on the grid (grades would not be contiguous score ranges).
        """
        if not (step > 0 and score_max >= score_min):
            raise InputError(f"need score_max >= score_min and step > 0, got {score_min}, {score_max}, {step}",
                             column="score_cutoffs")
        scores = np.arange(score_min, score_max + step / 2, step)
        p = np.asarray(calibrator.predict(scores), dtype=float)
        d = np.diff(p)
        if not ((d >= 0).all() or (d <= 0).all()):
            raise InputError("calibrator.predict is not monotone in the score on the given range", column="score")
        g = self.grade(p)
        rows = []
        for band in self.table().to_dict(orient="records"):
            sel = scores[g == band["grade"]]
            rows.append({"grade": band["grade"], "pd_low": band["pd_low"], "pd_high": band["pd_high"],
                         "score_low": sel.min() if sel.size else np.nan,
                         "score_high": sel.max() if sel.size else np.nan, "n_scores": int(sel.size)})
        out = pd.DataFrame(rows)
        out.attrs["higher_is_safer"] = bool(p[0] >= p[-1])
        return out

    @staticmethod
    def grade_sql(cutoffs: pd.DataFrame, column: str = "score") -> str:
        """A SQL ``CASE WHEN`` expression grading ``column`` with the ranges of :meth:`score_cutoffs`."""
        used = cutoffs.dropna(subset=["score_low", "score_high"])
        if used.empty:
            raise InputError("no grade has a score range", column="score_cutoffs")
        safer_high = bool(cutoffs.attrs.get("higher_is_safer", True))
        used = used.sort_values("score_low", ascending=not safer_high)
        q = '"' + column.replace('"', '""') + '"'
        parts = ["CASE", f"  WHEN {q} IS NULL THEN NULL"]
        # walk from the best grade; the last one takes everything beyond
        for _, r in list(used.iterrows())[:-1]:
            op, edge = (">=", r["score_low"]) if safer_high else ("<=", r["score_high"])
            edge = float(edge)
            lit = str(int(edge)) if edge.is_integer() else repr(edge)
            parts.append(f"  WHEN {q} {op} {lit} THEN '{r['grade']}'")
        parts.append(f"  ELSE '{used.iloc[-1]['grade']}'")
        parts.append("END")
        return "\n".join(parts)
