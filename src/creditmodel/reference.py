"""Reference tables of the district: industries (GB/T 4754 sections), streets, sectors, plan targets."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

#: The repository's ``data/`` folder (indicator configs, pricing configs, README), when run from a clone.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DATA = PROJECT_ROOT / "data"


@lru_cache(maxsize=1)
def reference() -> dict[str, Any]:
    """The packaged ``reference.yaml`` as a dict."""
    text = resources.files("creditmodel.resources").joinpath("reference.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def industries() -> dict[str, dict[str, str]]:
    """GB/T 4754-2017 section letter -> ``{"zh": ..., "en": ...}``."""
    return reference()["industries"]


def industry_key(value: str) -> str:
    """The GB/T 4754 section letter of ``value``: the letter (either case) or the section's Chinese or English
    name (``制造业``, ``Manufacturing``). Raises :class:`~creditmodel.errors.InputError` naming the parameter
    ``industry`` and the valid letters for anything else."""
    from creditmodel.errors import InputError

    text = str(value).strip()
    ref = industries()
    for key, names in ref.items():
        if text.upper() == key or text == names.get("zh") or text.casefold() == str(names.get("en", "")).casefold():
            return key
    raise InputError(f"unknown industry section {value!r}; one of "
                     + ", ".join(f"{k} ({v.get('en', '')})" for k, v in ref.items()), parameter="industry")


def streets() -> dict[str, dict[str, str]]:
    """Street key -> ``{"zh": ..., "en": ...}``."""
    return reference()["streets"]


def street_key(value: str) -> str:
    """The district's key of street or town ``value``: the key (either case), its Chinese name (``中马街道``) or its
    English name (``Zhongma Subdistrict``, either case). Raises :class:`~creditmodel.errors.InputError` naming the
    parameter ``street`` and the valid streets for anything else."""
    from creditmodel.errors import InputError

    text = str(value).strip()
    ref = streets()
    for key, names in ref.items():
        if text.casefold() in (key.casefold(), str(names.get("en", "")).casefold()) or text == names.get("zh"):
            return key
    raise InputError(f"unknown street {value!r}; one of "
                     + ", ".join(f"{k} ({v.get('zh', '')})" for k, v in ref.items()), parameter="street")


def sectors() -> dict[str, dict[str, str]]:
    """Flagship supervision sector key -> names."""
    return reference()["sectors"]


def plan_targets() -> dict[str, dict[str, Any]]:
    """The district plan's 2025 targets, with direction and 2020 baseline."""
    return reference()["plan_targets"]


def share_text(value: float, target: float | None = None, decimals: int = 2) -> str:
    """``value`` (a fraction) as a percentage with ``decimals`` decimals, or more (up to 4) where fewer would print it
    equal to ``target`` while it differs: 0.00997 against a < 1 % target is ``0.997%``, not ``1.00%`` beside "met"
    (a think-tank reviewer's finding). NaN is ``n/a``."""
    if value is None or value != value:
        return "n/a"
    d = decimals
    if target is not None:
        while d < 4 and value != target and round(value * 100, d) == round(target * 100, d):
            d += 1
    return f"{value:.{d}%}"


def reporting_deadline_days() -> int:
    """Days within which a record must reach the platform to count as compliant."""
    return int(reference()["reporting_deadline_days"])


def division_code() -> str:
    """Administrative division code used for generated codes."""
    return str(reference()["division_code"])
