"""Progress bars: ``tqdm.auto``'s (a widget in JupyterLab, text in a terminal), off in papermill jobs.

``creditmodel run`` sets ``CREDITMODEL_PROGRESS=off`` for the notebook's kernel: papermill stores a widget bar frozen
at 0 % ("features:   0%|  | 0/9") in the executed notebook and its HTML, and tqdm's notebook bars ignore
``TQDM_DISABLE``. The job's own bar (papermill's, one step per cell) shows the progress instead.
"""
from __future__ import annotations

import os
from typing import Any

from tqdm.auto import tqdm as _auto_tqdm

#: Environment variable that turns the bars off when set to ``off`` (and, on the command line, on with ``on``
#: where stderr is no terminal).
ENV = "CREDITMODEL_PROGRESS"


def off() -> bool:
    """True when ``CREDITMODEL_PROGRESS=off`` (a papermill job's kernel)."""
    return os.environ.get(ENV, "").strip().lower() == "off"


def tqdm(*args: Any, **kwargs: Any) -> Any:
    """:func:`tqdm.auto.tqdm`, disabled when ``CREDITMODEL_PROGRESS=off``."""
    if off():
        kwargs["disable"] = True
    return _auto_tqdm(*args, **kwargs)
