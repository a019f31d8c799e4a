"""Seeded, stratified splits and folds, optionally by group.

A borrower with several rows (loans) must not sit on both sides of a split: its other loans would tell the model
about the rows it is tested on. With ``groups`` (one key per row, e.g. the enterprise's USCC) every split and fold
here keeps each group whole.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from creditmodel.errors import InputError


def check_groups(groups, n: int) -> np.ndarray | None:
    """``groups`` as an array of one key per row (None stays None); InputError when the count is not ``n`` or a key
    is missing (the folds made all missing keys one group)."""
    if groups is None:
        return None
    g = np.asarray(groups, dtype=object).ravel()
    if len(g) != n:
        raise InputError(f"groups: {len(g)} keys for {n} rows", parameter="groups")
    missing = pd.isna(g)
    if missing.any():
        raise InputError("groups: a group key is missing", parameter="groups", row=int(np.flatnonzero(missing)[0]) + 1)
    return g


def group_keys(column: pd.Series, file=None) -> np.ndarray:
    """A file's column of group keys (the borrower of each row) as trimmed text, the same key however it was typed;
    InputError naming the file, column and (1-based) row of the first empty key: every row needs its borrower."""
    keys = column.astype("string").str.strip()
    blank = (keys.isna() | (keys == "")).to_numpy(dtype=bool)
    if blank.any():
        raise InputError("empty group key (every row needs its borrower)", file=file, column=str(column.name),
                         row=int(np.flatnonzero(blank)[0]) + 1)
    return keys.to_numpy(dtype=object)


def id_order(ids: pd.Series) -> np.ndarray:
    """Row positions in the order of their identifiers: ids that read as numbers by value first (``2`` before
    ``10``), then the others as text; ties (``007`` and ``7``) by their text. Distinct ids (trimmed text) have one
    order whatever the order of the rows, so a split and folds drawn on the rows in this order do not depend on it."""
    text = ids.astype("string").str.strip().fillna("")
    value = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    is_text = np.isnan(value)
    rank, _ = pd.factorize(text, sort=True)
    return np.lexsort((rank, np.where(is_text, 0.0, value), is_text))


def stratified_split(y: np.ndarray, seed: int, valid: float = 0.2, test: float = 0.2,
                     groups: np.ndarray | None = None) -> np.ndarray:
    """Per row "train", "valid" or "test", stratified by ``y`` and seeded.

    ``groups`` (one key per row, e.g. the enterprise of each loan): every row of a group goes to the same part, so a
    firm with several loans never sits on both sides of a split; the groups are stratified by whether any of their
    rows is a default, and ``valid``/``test`` are then shares of the groups, not of the rows."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    if groups is not None:
        codes, _ = pd.factorize(pd.Series(check_groups(groups, len(y))), sort=True)
        bad = np.bincount(codes, weights=(y == 1).astype(float)) > 0
        return stratified_split(bad.astype(np.int8), seed, valid=valid, test=test)[codes]
    out = np.empty(len(y), dtype=object)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        n_te, n_va = int(round(test * len(idx))), int(round(valid * len(idx)))
        out[idx[:n_te]] = "test"
        out[idx[n_te:n_te + n_va]] = "valid"
        out[idx[n_te + n_va:]] = "train"
    return out


def stratified_folds(y: np.ndarray, k: int, seed: int,
                     groups: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (fit rows, held-out rows) pairs, stratified by ``y`` and seeded (scikit-learn's ``StratifiedKFold``);
    with ``groups`` (one key per row), every row of a group is held out in the same fold (``StratifiedGroupKFold``)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if groups is None:
        return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    codes, uniq = pd.factorize(pd.Series(groups), sort=True)
    if len(uniq) < k:   # scikit-learn's ValueError ended the command with exit 1 (a reviewer's finding)
        raise InputError(f"only {len(uniq)} groups (borrowers) for {k} cross-validation folds: every fold holds whole "
                         "groups out", parameter="groups")
    return list(StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, codes))


def stratified_holdout(y: np.ndarray, share: float, seed: int,
                       groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(kept rows, held-out rows), about ``share`` of the rows held out, stratified by ``y`` and seeded
    (scikit-learn's ``train_test_split``); with ``groups``, ``share`` of the groups, each held out whole."""
    idx = np.arange(len(y))
    if groups is None:
        from sklearn.model_selection import train_test_split

        tr, va = train_test_split(idx, test_size=share, stratify=y, random_state=seed)
        return tr, va
    held = stratified_split(y, seed, valid=share, test=0.0, groups=groups) == "valid"
    return idx[~held], idx[held]
