"""Small models trained by the tests (the real `creditmodel train` on a frame written as CSV)."""
from __future__ import annotations


def train_small(tmp_path_factory, frame, target="bad", id_col=None, seed=0, name="m"):
    """``creditmodel train`` on ``frame`` (written as CSV) into a fresh folder; returns the training output folder."""
    from creditmodel.scoring.train import train_file

    d = tmp_path_factory.mktemp(name)
    frame.to_csv(d / "train.csv", index=False)
    train_file(d / "train.csv", target, d / "out", id_col=id_col, seed=seed)
    return d / "out"
