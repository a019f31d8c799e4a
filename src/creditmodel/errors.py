"""Errors that reach the user: each names the file, column and row it concerns.

The CLI maps :class:`InputError` to exit code 2 (bad input) and everything else to exit code 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class InputError(ValueError):
    """Bad input: a missing or unreadable file, a wrong or missing column, a value out of range.

    A :class:`ValueError`, so that scikit-learn's tools (and callers catching ValueError) treat it as bad input.

    ``row`` is the 1-based data row (header excluded) when one row is at fault. ``parameter`` names a job or
    command parameter (``-p seed=-1``) where the fault is not in a table.
    """

    message: str
    file: str | Path | None = None
    column: str | None = None
    row: int | None = None
    parameter: str | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    #: What ``column`` is called in the message: a table's column here, a configuration file's key in ConfigError.
    column_word = "column"

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.parameter is not None:
            where.append(f"parameter '{self.parameter}'")
        if self.column is not None:
            where.append(f"{self.column_word} '{self.column}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ConfigError(InputError):
    """An invalid configuration file or parameter (names the key that is wrong: ``column`` holds the key, which
    the message calls a key; a bank user read "column 'auc'" of a thresholds file)."""

    column_word = "key"


def shown(value: object) -> str:
    """``repr`` of a value for a message, numpy scalars as plain Python (``2``, not ``np.int64(2)``)."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        try:
            value = item()
        except (ValueError, TypeError):
            pass
    return repr(value)


def separator_hint(columns) -> str:
    """A hint for a table read as one column whose name holds ';' or a tab: a file saved with another separator."""
    cols = list(columns)
    if len(cols) == 1 and any(sep in str(cols[0]) for sep in (";", "\t")):
        return " (the header looks ';'- or tab-separated: save the file with ',' as the separator)"
    return ""
