"""Small models trained by the tests (the real `creditmodel train` on a frame written as CSV)."""
from __future__ import annotations


def train_small(tmp_path_factory, frame, target="bad", id_col=None, seed=0, name="m"):
    """``creditmodel train`` on ``frame`` (written as CSV) into a fresh folder; returns the training output folder."""
    from creditmodel.scoring.train import train_file

    d = tmp_path_factory.mktemp(name)
    frame.to_csv(d / "train.csv", index=False)
    train_file(d / "train.csv", target, d / "out", id_col=id_col, seed=seed)
    return d / "out"


def with_outcome(rng, columns: dict, logit, id_col: str = "id", target: str = "bad"):
    """A frame of ``columns`` with an id column first and a 0/1 ``target`` drawn from ``logit`` (log-odds of bad)."""
    import numpy as np
    import pandas as pd

    n = len(logit)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-np.asarray(logit, dtype=float)))).astype(int)
    return pd.DataFrame({id_col: [f"{i:05d}" for i in range(n)], **columns, target: y})


def two_feature_frame(n: int, seed: int):
    """``n`` rows of a normal ``x1`` (riskier when higher) and a uniform ``x2`` on 0..10 (safer), ~9 % bad."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.uniform(0, 10, n)
    return with_outcome(rng, {"x1": x1, "x2": x2}, -2.6 + 1.3 * x1 - 0.1 * x2)
