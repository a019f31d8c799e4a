"""Public credit evaluation (公共信用综合评价), industry evaluations, supervision classes and credit repair.

* :mod:`~creditmodel.evaluation.config`: the indicator system as validated data (``data/public_credit_indicators.yaml``).
* :mod:`~creditmodel.evaluation.inputs`: point-in-time features (``creditmodel.features``) plus evaluation features.
* :mod:`~creditmodel.evaluation.engine`: :func:`evaluate`, :func:`evaluate_dir` (``creditmodel evaluate``).
* :mod:`~creditmodel.evaluation.explain` and :mod:`~creditmodel.evaluation.repair`: why a grade, which records
  weigh on it, and which credit repair would lift it, from when.
* :mod:`~creditmodel.evaluation.evidence`: expert weights against the district's later adverse outcomes.
"""

from creditmodel.evaluation.config import EvaluationConfig, load_config, parse_config
from creditmodel.evaluation.engine import (
    EvaluationResult,
    PlanMeasures,
    evaluate,
    evaluate_dir,
    grade_table,
    invoice_reach_markdown,
    target_gap_table,
    plan_measures,
    plan_targets_markdown,
    plan_targets_table,
    score_inputs,
    sector_table,
    select_industry,
    scope_label,
    select_scope,
    select_street,
    write_frame,
)
from creditmodel.evaluation.explain import Explanation, explain
from creditmodel.evaluation.inputs import EXTRA_FEATURES, build_inputs
from creditmodel.evaluation.repair import records_weighing, repair_whatif

_LAZY = {"expert_vs_evidence": "evidence", "adverse_events": "evidence", "EvidenceResult": "evidence"}


def __getattr__(name: str):
    """Evidence functions load scikit-learn: imported on first use, so the CLI starts fast."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"creditmodel.evaluation.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXTRA_FEATURES",
    "EvaluationConfig",
    "EvaluationResult",
    "EvidenceResult",
    "Explanation",
    "PlanMeasures",
    "adverse_events",
    "build_inputs",
    "evaluate",
    "evaluate_dir",
    "expert_vs_evidence",
    "explain",
    "grade_table",
    "invoice_reach_markdown",
    "target_gap_table",
    "load_config",
    "parse_config",
    "plan_measures",
    "plan_targets_markdown",
    "plan_targets_table",
    "records_weighing",
    "repair_whatif",
    "score_inputs",
    "sector_table",
    "select_industry",
    "scope_label",
    "select_scope",
    "select_street",
    "write_frame",
]
