"""Outer 5-fold CV of the scorecard's points models on the training part of the benchmark split (issue 3).

Per fold the scorecard is fitted (bins and selection) on the other folds, then its points are refitted as
the one-coefficient WoE card, as the monotone per-bin card at each C, and by ``points_model="auto"``; the
held-out AUC and log-loss are averaged over the folds. This is the evidence behind ``auto``'s choice rule
(``results/models_findings.md``)::

    .venv/bin/python bench/points_model_cv.py germancredit hmeq sba_case polish_1year
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_models as bm  # noqa: E402 - the split loader of the model benchmark


def outer_cv(name: str, Cs=(3.0, 1.0, 0.3, 0.1, 0.03)) -> dict:
    from sklearn.metrics import log_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from creditmodel.features import generic_catalogue
    from creditmodel.scoring.train import make_estimator

    Xtr, ytr, _, _, _, meta = bm.load_ours(name)
    cat = generic_catalogue(Xtr)
    dirs = {c: int(d) for c, d in zip(cat["code"], cat["direction"])}
    labels = ["woe"] + [f"monotone C={c:g}" for c in Cs] + ["auto"]
    auc = {k: [] for k in labels}
    ll = {k: [] for k in labels}
    picks = []
    for tr, va in StratifiedKFold(5, shuffle=True, random_state=7).split(Xtr, ytr):
        A, ya, B, yb = Xtr.iloc[tr], ytr[tr], Xtr.iloc[va], ytr[va]
        e = make_estimator("scorecard", dirs, list(meta["categorical"]), 42, {"points_model": "woe"}).fit(A, ya)
        for k, (pm, C) in zip(labels, [("woe", 1.0)] + [("monotone", c) for c in Cs] + [("auto", None)]):
            e.points_model = pm
            e.monotone_C = C if C is not None else (3.0, 1.0, 0.3, 0.1)
            e._fit_points_model(A, ya)
            e._build_points()
            q = e.predict_proba(B)[:, 1]
            auc[k].append(roc_auc_score(yb, q))
            ll[k].append(log_loss(yb, q))
        picks.append(f"{e.points_model_} C={e.points_C_:g}")
    return {"set": name, "auc": {k: round(float(np.mean(v)), 4) for k, v in auc.items()},
            "log_loss": {k: round(float(np.mean(v)), 4) for k, v in ll.items()}, "auto_picks": picks}


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    for name in sys.argv[1:] or ["germancredit", "hmeq", "sba_case", "polish_1year"]:
        print(json.dumps(outer_cv(name)), flush=True)
