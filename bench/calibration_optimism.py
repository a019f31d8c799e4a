"""How far the final fit's in-sample optimism moves the mean PD on new rows, and what its correction does.

With cross-fitted calibration (``train_frame``'s default) the calibrator is learned on the fold fits'
out-of-fold outputs, then its log-odds shift is re-solved so that the final fit's mean PD on the development
rows meets the target (their default rate, or a central tendency). Those outputs are in sample; the recentring
therefore adds ``optimism_shift_``, the shift that meets the target on the folds' unseen rows minus the one that
meets it on their seen rows. For several seeds this script trains on a small table (``--rows``, from
``peers_bench.make_synthetic``, its default rate about 5 %), scores ``--fresh`` new rows of the same generator,
and compares their mean PD with the training rows' default rate with the correction (the model as trained) and
without it (the same model, shift minus ``optimism_shift_``) and with the map learned on the out-of-fold outputs
alone (no recentring on the final fit: shift 0). Writes ``results/calibration_optimism_<kind>.md``::

    .venv/bin/python bench/calibration_optimism.py [--kind lightgbm] [--rows 3000] [--fresh 200000] [--seeds 6]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "shared" / "bench"))

import peers_bench as pb  # noqa: E402  (the shared benchmark's synthetic table)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=("scorecard", "lightgbm"), default="lightgbm")
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--fresh", type=int, default=200_000)
    ap.add_argument("--seeds", type=int, default=6)
    a = ap.parse_args()
    from creditmodel.scoring.train import train_frame

    rows = []
    for seed in range(1, a.seeds + 1):
        X, y, _ = pb.make_synthetic(n=a.rows + a.fresh, seed=seed)
        for c in X.columns:
            if not pd.api.types.is_numeric_dtype(X[c]):
                X[c] = X[c].astype(str).astype(object)
        train = X.iloc[:a.rows].assign(bad=y[:a.rows])
        fresh = X.iloc[a.rows:].reset_index(drop=True)
        res = train_frame(train, "bad", kind=a.kind, seed=seed)
        m, cal = res.model, res.model.calibrator
        dev = res.split != "test"
        target = float(train.loc[dev, "bad"].mean())
        raw = m.raw(fresh[m.input_spec.columns])
        base = cal._log_odds(cal.method_, cal.params_, cal._risk(raw))
        with_corr = float(cal._shifted(base, cal.shift_).mean())
        without = float(cal._shifted(base, cal.shift_ - cal.optimism_shift_).mean())
        oof_only = float(cal._shifted(base, 0.0).mean()) if cal.central_tendency is None else float("nan")
        rows.append({"seed": seed, "development default rate": round(target, 5),
                     "optimism shift (log-odds)": round(cal.optimism_shift_, 4),
                     "fresh mean PD, corrected": round(with_corr, 5),
                     "gap, corrected": f"{with_corr / target - 1:+.1%}",
                     "fresh mean PD, uncorrected": round(without, 5),
                     "gap, uncorrected": f"{without / target - 1:+.1%}",
                     "gap, out-of-fold map alone": f"{oof_only / target - 1:+.1%}",
                     "fresh default rate": round(float(y[a.rows:].mean()), 5)})
        print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    gc = df["fresh mean PD, corrected"] / df["development default rate"] - 1
    gu = df["fresh mean PD, uncorrected"] / df["development default rate"] - 1
    go = df["gap, out-of-fold map alone"].str.rstrip("%").astype(float) / 100
    sha = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    lines = [f"# In-sample optimism of the calibration ({time.strftime('%Y-%m-%d %H:%M')}, commit {sha})", "",
             f"`bench/calibration_optimism.py --kind {a.kind} --rows {a.rows} --fresh {a.fresh} --seeds {a.seeds}`: "
             f"{a.kind} trained by `train_frame` (seed = table seed) on {a.rows:,} rows of `peers_bench.make_synthetic`,"
             f" scored on {a.fresh:,} new rows of the same generator; the gap is the fresh rows' mean PD against the "
             "development rows' default rate (the calibration target).", "",
             "| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns),
             *["| " + " | ".join(str(v) for v in r) + " |" for r in df.itertuples(index=False)], "",
             f"Mean gap corrected {gc.mean():+.1%} (range {gc.min():+.1%} to {gc.max():+.1%}); uncorrected "
             f"{gu.mean():+.1%} (range {gu.min():+.1%} to {gu.max():+.1%}); the out-of-fold map alone, not recentred on "
             f"the final fit {go.mean():+.1%} (range {go.min():+.1%} to {go.max():+.1%}).", ""]
    (HERE / "results" / f"calibration_optimism_{a.kind}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
