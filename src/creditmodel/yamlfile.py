"""Reading the project's YAML configuration files strictly.

PyYAML's ``safe_load`` keeps the last of two equal keys without a word (an indicator defined twice in a
configuration silently lost its first definition) and, following YAML 1.1, reads ``5e-1`` and ``1e6`` as text
(a weight written so was refused as "not a number"). :func:`load_yaml` refuses a repeated key with a
:class:`~creditmodel.errors.ConfigError` naming the file, the key and both places, and reads numbers with an
exponent as floats (YAML 1.2's rule); everything else is ``safe_load``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from creditmodel.errors import ConfigError

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BASE):  # type: ignore[misc, valid-type]
    """``SafeLoader`` that refuses repeated mapping keys and reads ``1e6`` as a float."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, str] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # '<<: *anchor': merged keys may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            where = f"line {key_node.start_mark.line + 1}, column {key_node.start_mark.column + 1}"
            try:
                first = seen.setdefault(key, where)
            except TypeError:  # an unhashable key: let PyYAML report it
                continue
            if first != where:
                raise ConfigError(f"key {key!r} appears twice in one mapping ({first} and {where}); "
                                  "the second would silently replace the first", column=str(key))
        return super().construct_mapping(node, deep=deep)


StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$|^[-+]?\.[0-9_]+[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_config_text(path: Path) -> str:
    """The text of a configuration file: UTF-8 (with or without a BOM), UTF-16 with its BOM, else GB 18030 with a
    warning (as the project's CSV readers do: a file saved by a Chinese Windows editor); bytes that are none of
    these raise :class:`ConfigError` naming the file and the first undecodable byte (a GBK file was a
    ``UnicodeDecodeError`` with exit 1 that named no file)."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        first = e
    from creditmodel.data.io import UTF8_EVIDENCE_CHARS, _foreign_bytes_error, _warn_gb18030, _wide_chars

    if encoding != "utf-16" and _wide_chars(raw[:first.start]) >= UTF8_EVIDENCE_CHARS:
        # UTF-8 Chinese before the fault: a stray byte of another encoding, which GB 18030 would garble (as the
        # CSV readers refuse it)
        e = _foreign_bytes_error(path)
        raise ConfigError(e.message.replace("'CSV UTF-8'", "UTF-8"), file=path, row=e.row) from None
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise ConfigError(f"not text in UTF-8 (nor GB 18030): byte 0x{raw[first.start]:02x} at position "
                          f"{first.start} cannot be read; save the file as UTF-8", file=path) from None
    _warn_gb18030(path)
    return text


def load_yaml(text_or_path: str | Path, file: str | Path | None = None) -> Any:
    """Parse YAML (a path, or text with ``file`` naming where it came from) with :class:`StrictLoader`.

    Raises :class:`ConfigError` naming the file for a repeated key or invalid YAML."""
    if isinstance(text_or_path, Path):
        file = text_or_path if file is None else file
        text = read_config_text(text_or_path)
    else:
        text = text_or_path
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except ConfigError as e:
        raise ConfigError(e.message, file=file, column=e.column) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"not valid YAML: {e}", file=file) from e
