"""creditmodel: an open workbench for enterprise credit scoring.

Public credit evaluation, small-loan PD models (WoE scorecard champion, LightGBM challenger),
banking-standard validation and risk-based loan pricing, on a synthetic district or real data.
"""
import os
from importlib.metadata import PackageNotFoundError, version

# no usage telemetry, no artifact progress bars in logs (MLflow reads these at call time)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

try:
    __version__ = version("creditmodel")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
