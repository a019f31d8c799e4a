"""Model validation to banking standards (DOMAIN.md part C).

* :mod:`.metrics` - the statistics and tests (AUC with DeLong, Gini, KS, CAP/ROC, Brier, Hosmer-Lemeshow,
  binomial and Jeffreys per grade, PSI/CSI, Herfindahl, migration MWB, bootstrap, per-segment results);
* :mod:`.lights` - green / amber / red thresholds as data;
* :mod:`.report` - :func:`~.report.build_report` and :func:`~.report.validate_file`: ``report.html`` and
  ``metrics.json``.
"""
from creditmodel.validation.lights import Rule, Thresholds
from creditmodel.validation.metrics import NotComputable
from creditmodel.validation.report import (
                                           Challenger,
                                           ReferenceSample,
                                           ValidationResult,
                                           build_report,
                                           validate_file,
)

__all__ = ["Challenger", "NotComputable", "ReferenceSample", "Rule", "Thresholds", "ValidationResult",
           "build_report", "validate_file"]
