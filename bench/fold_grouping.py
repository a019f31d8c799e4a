"""How much loan-level folds flatter the cross-validated AUC on the district (the split by enterprise, 254948c).

The development window's windows are drawn by enterprise; the models are fitted twice on the same rows, once with
the cross-validations inside the fit drawn loan by loan (``group_col=None``) and once by enterprise
(``group_col="uscc"``). Same rows, same test: only the folds differ, so the gap in ``cv_auc`` is what a firm's other
loans in the fitting folds add. Writes ``bench/results/fold_grouping.md``.

    python bench/fold_grouping.py out/demo/district
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd


def main(district_dir: str) -> None:
    from central_tendency import _markdown   # the benches' own table writer (bench/ is on the path)

    from creditmodel.data.io import load_district
    from creditmodel.scoring import district
    from creditmodel.scoring.train import train_frame

    sample = district.loan_sample(load_district(district_dir).tables, oot_start="2024-01-01", seed=42)
    dev, split = sample.dev, sample.window[sample.window != "oot"]
    rows = []
    for kind in ("scorecard", "lightgbm"):
        for group in (None, "uscc"):
            t0 = time.perf_counter()
            r = train_frame(dev, district.TARGET, id_col="loan_id", group_col=group, kind=kind, seed=42,
                            name=f"district_{kind}", catalogue=sample.catalogue, split=split,
                            features=sample.features)
            m = r.metrics
            rows.append({"model": kind, "folds drawn": "by enterprise" if group else "loan by loan",
                         "cv AUC (development rows)": round(m["cv_auc"], 4),
                         "in-sample AUC": round(m["development_auc"], 4), "test AUC": round(m["test_auc"], 4),
                         "calibration": m["calibration_method"], "features used": m["n_selected"],
                         "fit s": round(time.perf_counter() - t0, 1)})
            print(rows[-1], flush=True)
    t = pd.DataFrame(rows)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = Path(__file__).resolve().parent / "results" / "fold_grouping.md"
    out.write_text(
        f"# Folds by loan or by enterprise ({time.strftime('%Y-%m-%d %H:%M')}, commit {commit})\n\n"
        f"`bench/fold_grouping.py {district_dir}`: the demo district's development window (windows drawn by "
        f"enterprise, seed 42: {int((split != 'test').sum()):,} training and validation loans of "
        f"{dev.loc[split != 'test', 'uscc'].nunique():,} firms, {int((split == 'test').sum()):,} test loans), each "
        "model fitted with the cross-validations inside the fit drawn loan by loan and by enterprise.\n\n"
        + _markdown(t) + "\n", encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/demo/district")
