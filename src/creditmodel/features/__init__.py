"""Point-in-time features per enterprise or loan and as-of date, and the feature catalogue.

* :func:`build_features` / :func:`build_loan_features` (``creditmodel.features.pit``): features from
  records known at the as-of date only (event date and ``reported_on`` both on or before it).
* :func:`catalogue`, :func:`feature_directions`, :func:`reason_text`, :func:`generic_catalogue`
  (``creditmodel.features.catalogue``): meaning, unit, report section, risk direction and reason texts.
"""

from creditmodel.features.catalogue import (
    catalogue,
    categorical_features,
    feature_directions,
    generic_catalogue,
    parse_catalogue,
    reason_text,
)
from creditmodel.features.pit import build_features, build_loan_features

#: Columns of a feature frame that are identifiers or targets, never features.
ID_COLUMNS = ("loan_id", "uscc", "as_of_date")
TARGET_COLUMNS = ("default_12m", "true_pd")

__all__ = [
    "build_features",
    "build_loan_features",
    "catalogue",
    "categorical_features",
    "feature_directions",
    "generic_catalogue",
    "parse_catalogue",
    "reason_text",
    "ID_COLUMNS",
    "TARGET_COLUMNS",
]
