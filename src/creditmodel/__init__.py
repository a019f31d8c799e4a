"""creditmodel: an open workbench for enterprise credit scoring.

Public credit evaluation, small-loan PD models (WoE scorecard champion, LightGBM challenger),
banking-standard validation and risk-based loan pricing, on a synthetic district or real data.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("creditmodel")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
