"""Calibration of our two models on the 200,000-row synthetic table, against the generator's true PD.

The same data, split and fit as ``bench_models.py``'s jobs (``peers_bench.make_synthetic``, its seeded 70/30
stratified test mask, ``train_frame`` on the 70 % with a seeded 80/20 train/valid split, seed 42), without the
peers run: the split is rebuilt here (``bench_models.split_here``'s way) and not checked against the peers' cache.
For rerunning the calibration columns of ``results/models.md`` after a calibration change; AUC and KS do not move
with the calibration (it is monotone), so the peer comparison stands. Writes ``results/calibration_200k.md``::

    .venv/bin/python bench/calibration_200k.py
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_models as bm  # noqa: E402  (peers_bench is put on the path by bench_models)


def main() -> None:
    from creditmodel.scoring.calibration import expected_calibration_error
    from creditmodel.scoring.train import stratified_split, train_frame
    from creditmodel.validation.metrics import auc

    X, y, p_true = bm.build_dataset("synthetic_200k")
    te = bm.pb._stratified_test_mask(y)
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]):
            X[c] = X[c].astype(str).astype(object)
    Xtr, ytr, Xte, yte, pte = X[~te].reset_index(drop=True), y[~te], X[te].reset_index(drop=True), y[te], p_true[te]
    train_df = Xtr.assign(**{bm.pb.TARGET: ytr})
    split = stratified_split(ytr, bm.SEED, valid=bm.VALID_SHARE, test=0.0)
    rows = []
    for kind in ("scorecard", "lightgbm"):
        t = time.perf_counter()
        res = train_frame(train_df, bm.pb.TARGET, kind=kind, seed=bm.SEED, split=split, name=f"synthetic_200k_{kind}")
        fit_s = time.perf_counter() - t
        p = res.model.predict_pd(Xte)
        ce = expected_calibration_error(pte, p)
        rows.append({"model": f"creditmodel_{kind}", "calibration": res.model.calibrator.method_,
                     "test AUC": round(auc(yte, p), 4), "ECE vs true PD": round(ce.ece, 5),
                     "max decile error": round(ce.max_bin_error, 5), "mean PD": round(float(p.mean()), 5),
                     "mean true PD": round(float(pte.mean()), 5),
                     "ECE vs observed defaults": round(expected_calibration_error(yte, p).ece, 5),
                     "training rows' default rate": round(float(ytr.mean()), 5), "fit s": round(fit_s, 1)})
        print(rows[-1], flush=True)
    sha = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    df = pd.DataFrame(rows)
    head = "| " + " | ".join(df.columns) + " |"
    lines = [f"# Calibration on the 200,000-row synthetic table ({time.strftime('%Y-%m-%d %H:%M')}, commit {sha})", "",
             "`bench/calibration_200k.py`: the benchmark's data, split and fit (`bench_models.py`), our models only; "
             f"{len(yte):,} test rows, equal-count deciles of our PD.", "", head, "|" + "---|" * len(df.columns),
             *["| " + " | ".join(str(v) for v in r) + " |" for r in df.itertuples(index=False)], ""]
    (HERE / "results" / "calibration_200k.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
