"""Unified social credit code (统一社会信用代码, GB 32100-2015).

An 18-character code: registration authority (1), organisation category (1), administrative division
of the registering authority (6 digits, GB/T 2260), the 9-character organisation code (GB 11714, whose
9th character is its own check character) and a mod-31 check character.

``check(code)`` says whether a code is valid and, when it is not, *why* (checked in the order of
:data:`REASONS`: the characters and both check characters first, then the registration authority and, for
market-regulation codes, the organisation category, so a code that passes both check characters but was made
up, such as ``0A000000MA2H7K3Q0M``, is still refused); ``validate(series)`` does the
same for a whole column at vectorised speed; ``generate(...)`` makes valid codes for a division.
Codes issued in the 2014-15 pilot areas whose check character does not follow the formula but which
are genuine are kept in an allow-list and reported with status ``"pilot"`` (a warning, not an error): the list
excuses a code's check characters (positions 17 and 18) only; any other fault still makes it invalid.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Iterable, Literal

import numpy as np
import pandas as pd

#: The 31 symbols of GB 32100 (no I, O, S, V, Z), in value order 0..30.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weights of positions 1..17 for the mod-31 check character: 3^(i-1) mod 31.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
#: Weights of the 8 body characters of the GB 11714 organisation code (mod-11 check).
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

#: Genuine pilot-era codes (Fujian/Xiamen 2014-15) whose 18th character fails the mod-31 check.
PILOT_ALLOW_LIST: frozenset[str] = frozenset({
    "91350100M0001TGQXM",
    "91350211M0000XUF46",
    "91350203M0001FUE2P",
    "91350203M0001QAY9B",
})

REGISTRATION_AUTHORITIES = {
    "1": "机构编制 (institutional establishment)", "2": "外交 (foreign affairs)",
    "3": "司法行政 (justice)", "4": "文化 (culture)", "5": "民政 (civil affairs)",
    "6": "旅游 (tourism)", "7": "宗教 (religion)", "8": "工会 (trade unions)",
    "9": "工商 (market regulation)", "A": "中央军委改革和编制办公室 (CMC reform office)",
    "N": "农业 (agriculture)", "Y": "其他 (other)",
}
ENTERPRISE_CATEGORIES = {"91": "企业 (enterprise)", "92": "个体工商户 (individual business)",
                         "93": "农民专业合作社 (farmers' cooperative)"}

Status = Literal["ok", "pilot", "invalid"]

#: Reason codes, in the order they are checked, with their English explanation.
REASONS = {
    "missing": "code is empty or missing",
    "length": "code must have 18 characters",
    "charset": "character outside the GB 32100 set (digits and capitals without I, O, S, V, Z)",
    "division": "positions 3-8 (administrative division) must be 6 digits",
    "org_check": "position 17 is not the GB 11714 organisation-code check character",
    "check_char": "position 18 is not the GB 32100 mod-31 check character",
    "authority": "position 1 is not a GB 32100 registration-authority code (1-9, A, N or Y)",
    "category": "a market-regulation code (position 1 '9') must have category 1 (enterprise), 2 (individual "
                "business) or 3 (farmers' cooperative) at position 2",
}
#: Categories checked at position 2, per registration authority: only market regulation's list (91/92/93) is
#: sourced in DOMAIN.md A1 (the other authorities' lists there are partial, so their categories are not checked).
CHECKED_CATEGORIES = {"9": frozenset("123")}

_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# GB 11714 values: digits 0-9, A..Z = 10..35 (full Latin alphabet)
_ORG_VALUE = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}}


@dataclass(frozen=True)
class UsccCheck:
    """Result of checking one code. ``reason`` is a key of :data:`REASONS` (None when ok)."""

    code: str
    status: Status
    reason: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        """True for valid codes and allow-listed pilot-era codes."""
        return self.status != "invalid"


def normalise(code: object) -> str:
    """Full-width to half-width, strip blanks, upper-case. ``None``/NaN become ``""``."""
    if code is None or (isinstance(code, float) and np.isnan(code)) or code is pd.NA:
        return ""
    return unicodedata.normalize("NFKC", str(code)).strip().upper().replace(" ", "")


def normalise_series(codes: pd.Series) -> pd.Series:
    """:func:`normalise` for a string column, vectorised (NFKC, blanks removed, upper case); missing stays missing."""
    return codes.astype("string").str.normalize("NFKC").str.strip().str.upper().str.replace(" ", "", regex=False)


def is_legal_person(codes: pd.Series | Iterable[object]) -> np.ndarray:
    """Bool per code: not an individual business (个体工商户, codes beginning ``92``), which is no legal person.
    The plan's serious-dishonesty share is a share of legal-person enterprises (DOMAIN.md, plan indicators).
    Farmers' cooperatives (``93``) are legal persons under their law and stay; a branch (``91``, no legal person of
    its own) cannot be told from its code and stays too."""
    s = normalise_series(pd.Series(list(codes) if not isinstance(codes, pd.Series) else codes, dtype=object))
    return ~s.str[:2].eq("92").to_numpy(dtype=bool, na_value=False)


def check_character(first17: str) -> str:
    """The mod-31 check character (position 18) for the first 17 characters."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError(f"need 17 characters from the GB 32100 set, got {first17!r}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def org_check_character(body8: str) -> str:
    """The GB 11714 check character (organisation code position 9 = USCC position 17)."""
    if len(body8) != 8 or any(c not in _ORG_VALUE for c in body8):
        raise ValueError(f"need 8 organisation-code characters, got {body8!r}")
    c9 = 11 - sum(_ORG_VALUE[c] * w for c, w in zip(body8, ORG_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def check(code: object, allow_list: Iterable[str] = PILOT_ALLOW_LIST) -> UsccCheck:
    """Check one code; say why it fails. Allow-listed pilot-era codes get status ``"pilot"``."""
    c = normalise(code)
    if not c:
        return UsccCheck(c, "invalid", "missing", REASONS["missing"])
    if len(c) != 18:
        hint = ("; 15 digits is the business registration number (注册号) used before the 2015 reform, "
                "not a USCC: ask the supplier for the firm's 18-character code") if len(c) == 15 and c.isdigit() else ""
        return UsccCheck(c, "invalid", "length", f"{REASONS['length']}, got {len(c)}{hint}")
    bad = [f"{ch!r} at position {i + 1}" for i, ch in enumerate(c) if ch not in _VALUE]
    if bad:
        return UsccCheck(c, "invalid", "charset", f"{REASONS['charset']}: {', '.join(bad)}")
    if not c[2:8].isdigit():
        return UsccCheck(c, "invalid", "division", f"{REASONS['division']}, got {c[2:8]!r}")
    org, expected = org_check_character(c[8:16]), check_character(c[:17])
    fault = (UsccCheck(c, "invalid", "org_check", f"{REASONS['org_check']}: expected {org!r}, got {c[16]!r}")
             if c[16] != org else
             UsccCheck(c, "invalid", "check_char", f"{REASONS['check_char']}: expected {expected!r}, got {c[17]!r}")
             if c[17] != expected else None)
    if fault is None or c not in set(allow_list):
        return fault or _authority_check(c) or UsccCheck(c, "ok")
    # an allow-listed pilot-era code is excused its check characters (positions 17 and 18), nothing else
    return _authority_check(c) or UsccCheck(c, "pilot", fault.reason,
                                            f"pilot-era code on the allow-list; {fault.message}")


def _authority_check(c: str) -> UsccCheck | None:
    """The registration-authority and category faults of a code whose characters are valid (None when none)."""
    if c[0] not in REGISTRATION_AUTHORITIES:
        return UsccCheck(c, "invalid", "authority", f"{REASONS['authority']}, got {c[0]!r}")
    if c[0] in CHECKED_CATEGORIES and c[1] not in CHECKED_CATEGORIES[c[0]]:
        return UsccCheck(c, "invalid", "category", f"{REASONS['category']}, got {c[:2]!r}")
    return None


def is_valid(code: object, allow_pilot: bool = True) -> bool:
    """True when the code passes both checks (or is an allow-listed pilot-era code)."""
    r = check(code)
    return r.status == "ok" or (allow_pilot and r.status == "pilot")


def parse(code: str) -> dict[str, str]:
    """Split a code into its parts (no checking): authority, category, division, organisation code."""
    c = normalise(code)
    return {"registration_authority": c[:1], "organisation_category": c[:2],
            "division_code": c[2:8], "organisation_code": c[8:17], "check_character": c[17:18]}


# --------------------------------------------------------------------------- vectorised
_LUT31 = np.full(256, -1, dtype=np.int16)
for _c, _v in _VALUE.items():
    _LUT31[ord(_c)] = _v
_LUT_ORG = np.full(256, -1, dtype=np.int16)
for _c, _v in _ORG_VALUE.items():
    _LUT_ORG[ord(_c)] = _v
_W31 = np.array(WEIGHTS, dtype=np.int64)
_W11 = np.array(ORG_WEIGHTS, dtype=np.int64)
_AUTHORITY_BYTES = np.frombuffer("".join(REGISTRATION_AUTHORITIES).encode("ascii"), dtype=np.uint8)


def _bytes18(codes: pd.Series) -> np.ndarray:
    """(n, 18) uint8 array of 18-character codes: straight from Arrow's buffer when every code is 18 bytes
    (ASCII), else through Python (a non-Latin character becomes ``?``, which fails the charset check)."""
    import pyarrow as pa

    a = pa.array(codes.to_numpy(dtype=object), type=pa.string())
    off = np.frombuffer(a.buffers()[1], dtype=np.int32)[a.offset:a.offset + len(a) + 1]
    if a.null_count == 0 and off[-1] - off[0] == 18 * len(a):
        return np.frombuffer(a.buffers()[2], dtype=np.uint8)[off[0]:off[-1]].reshape(len(a), 18)
    return np.frombuffer("".join(codes).encode("latin-1", errors="replace"), dtype=np.uint8).reshape(len(codes), 18)


def validate(codes: pd.Series | Iterable[object], allow_list: Iterable[str] = PILOT_ALLOW_LIST) -> pd.DataFrame:
    """Check a whole column. Returns ``code`` (normalised), ``status`` and ``reason`` per input row.

    Same rules and reasons as :func:`check`, vectorised (about a million codes per second).
    """
    s = pd.Series(codes) if not isinstance(codes, pd.Series) else codes
    raw = s.astype("object")
    missing = raw.isna().to_numpy()
    norm = raw.where(~raw.isna(), "").astype(str)
    # NFKC + strip/upper only where needed (ASCII fast path)
    ascii_ok = norm.str.fullmatch(r"[0-9A-Z]*").fillna(False).to_numpy()
    if not ascii_ok.all():
        norm = norm.copy()
        norm[~ascii_ok] = [normalise(v) for v in norm[~ascii_ok]]
    n = len(norm)
    lengths = norm.str.len().to_numpy()
    reason = np.full(n, None, dtype=object)
    reason[(lengths == 0) | missing] = "missing"
    reason[(reason == None) & (lengths != 18)] = "length"  # noqa: E711
    idx = np.flatnonzero(reason == None)  # noqa: E711
    if len(idx):
        arr = _bytes18(norm.iloc[idx])
        v31 = _LUT31[arr]
        bad_chars = (v31 < 0).any(axis=1)
        digits = ((arr[:, 2:8] >= 48) & (arr[:, 2:8] <= 57)).all(axis=1)
        c9 = 11 - (_LUT_ORG[arr[:, 8:16]].astype(np.int64) @ _W11) % 11
        org_expected = np.where(c9 == 10, ord("X"), np.where(c9 == 11, ord("0"), 48 + c9))
        org_ok = arr[:, 16] == org_expected
        chk = (31 - (v31[:, :17].astype(np.int64) @ _W31) % 31) % 31
        chk_ok = v31[:, 17] == chk
        auth_ok = np.isin(arr[:, 0], _AUTHORITY_BYTES)
        cat_ok = np.ones(len(idx), dtype=bool)
        for a, cats in CHECKED_CATEGORIES.items():
            cat_ok &= (arr[:, 0] != ord(a)) | np.isin(arr[:, 1], np.frombuffer("".join(sorted(cats)).encode(), np.uint8))
        sub = np.full(len(idx), None, dtype=object)
        sub[~cat_ok] = "category"
        sub[~auth_ok] = "authority"
        sub[~chk_ok] = "check_char"
        sub[~org_ok] = "org_check"
        sub[~digits] = "division"
        sub[bad_chars] = "charset"
        reason[idx] = sub
    status = np.where(reason == None, "ok", "invalid").astype(object)  # noqa: E711
    allow = set(allow_list)
    if allow and len(idx):
        # allow-listed pilot-era codes are excused their check characters only: a head fault still refuses them
        listed = norm.iloc[idx].isin(allow).to_numpy() & np.isin(sub, ["org_check", "check_char"])
        head = np.where(~auth_ok, "authority", np.where(~cat_ok, "category", None))
        refused = listed & (head != None)  # noqa: E711
        reason[idx[refused]] = head[refused]
        status[idx[listed & ~refused]] = "pilot"
    return pd.DataFrame({"code": norm.to_numpy(), "status": status, "reason": reason}, index=s.index)


def generate(division_code: str, n: int, rng: np.random.Generator, registration_authority: str = "9",
             category: str = "1", exclude: set[str] | None = None) -> list[str]:
    """Make ``n`` distinct valid codes for a division (e.g. ``"330205"``), bodies starting with 'MA'.

    Deterministic for a seeded ``rng``; codes in ``exclude`` are never returned. Vectorised: random 6-character
    tails are drawn in batches, check characters computed with array arithmetic, and the first new codes of
    each batch kept in draw order.
    """
    if len(division_code) != 6 or not division_code.isdigit():
        raise ValueError(f"division_code must be 6 digits, got {division_code!r}")
    if len(registration_authority) != 1 or len(category) != 1 or category not in _VALUE:
        raise ValueError(f"registration_authority and category must be one GB 32100 character each, got "
                         f"{registration_authority!r} and {category!r}")
    fault = _authority_check(registration_authority + category + "0" * 16)
    if fault is not None:
        raise ValueError(fault.message)
    seen = set(exclude or ())
    out: list[str] = []
    head = np.frombuffer((registration_authority + category + division_code + "MA").encode("ascii"), dtype=np.uint8)
    alphabet = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
    while len(out) < n:
        need = int((n - len(out)) * 1.05) + 8
        tails = alphabet[rng.choice(len(ALPHABET), size=(need, 6))]
        chars = np.empty((need, 18), dtype=np.uint8)
        chars[:, :10] = head
        chars[:, 10:16] = tails
        c9 = 11 - (_LUT_ORG[chars[:, 8:16]].astype(np.int64) @ _W11) % 11
        chars[:, 16] = np.where(c9 == 10, ord("X"), np.where(c9 == 11, ord("0"), 48 + c9))
        chk = (31 - (_LUT31[chars[:, :17]].astype(np.int64) @ _W31) % 31) % 31
        chars[:, 17] = alphabet[chk]
        codes = pd.Series(chars.view("S18").ravel().astype("U18").tolist(), dtype=object)
        keep = ~codes.duplicated().to_numpy()
        if seen:
            keep &= ~codes.isin(seen).to_numpy()
        new = codes[keep].iloc[: n - len(out)].tolist()
        seen.update(new)
        out.extend(new)
    return out
