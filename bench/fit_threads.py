"""Scorecard fit time and test AUC of the working tree against an earlier commit, on the peers' split.

Both sides fit ``train_frame(kind="scorecard", seed=42)`` (what ``bench_models.py`` times: binning,
selection, points model, 4 cross-fitted calibration folds and the final fit) on the 70 % training rows
of each data set, one subprocess per side and data set, one after the other; the test AUC is on the
30 % test rows (``peers_bench._stratified_test_mask``, the split of every peer run). Written for the
single-threaded fits (``creditmodel.threads``): same AUC, same points model, less time.

    .venv/bin/python bench/fit_threads.py --before 6e11783 [--datasets germancredit ...]

The earlier commit is checked out with ``git worktree`` under ``bench/_work/`` and imported through
``PYTHONPATH``; output ``bench/results/fit_threads.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work"
RESULTS = ROOT / "bench" / "results"
DATASETS = ["germancredit", "hmeq", "sba_case", "polish_1year", "synthetic_200k"]


def one(name: str) -> dict:
    """Fit and evaluate on one data set in this process (the code on ``sys.path`` decides the side)."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING)
    sys.path[:0] = [str(ROOT / "bench"), str(ROOT.parent / "shared" / "bench")]
    import bench_models as bm
    import peers_bench as pb
    from sklearn.metrics import roc_auc_score

    import creditmodel
    from creditmodel.scoring.train import stratified_split, train_frame

    Xtr, ytr, Xte, yte = bm.split_here(name)
    split = stratified_split(ytr, bm.SEED, valid=bm.VALID_SHARE, test=0.0)
    t = time.perf_counter()
    res = train_frame(Xtr.assign(**{pb.TARGET: ytr}), pb.TARGET, kind="scorecard", seed=bm.SEED, split=split,
                      name=name)
    fit_s = time.perf_counter() - t
    est = res.model.estimator
    return {"dataset": name, "src": str(Path(creditmodel.__file__).parents[1]), "fit_s": fit_s,
            "test_auc": float(roc_auc_score(yte, res.model.predict_pd(Xte))),
            "points_model": f"{est.points_model_} (C={est.points_C_:g})", "n_features": len(est.selected_features_),
            "points_sum": int(est.points(Xte).sum())}


def side(src: Path, name: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, __file__, "--one", name], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", help="git revision to compare against")
    ap.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one)))
        return
    if not a.before:
        ap.error("--before REV is required")
    rev = subprocess.run(["git", "rev-parse", "--short", a.before], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.strip()
    tree = WORK / f"worktree_{rev}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True)
    rows, started = [], time.strftime("%Y-%m-%d %H:%M")
    for name in a.datasets:
        b = side(tree / "src", name)
        n = side(ROOT / "src", name)
        rows.append((name, b, n))
        print(f"{name}: fit {b['fit_s']:.1f} -> {n['fit_s']:.1f} s, AUC {b['test_auc']:.4f} -> {n['test_auc']:.4f}",
              flush=True)
    now = f"{head}{' + uncommitted src changes' if dirty else ''}"
    L = ["# Scorecard fit: single-threaded BLAS/OpenMP against the earlier code", "",
         f"`bench/fit_threads.py --before {rev}`, run {started} on the project machine (2 cores): "
         f"`train_frame(kind=\"scorecard\", seed=42)` on the 70 % training rows of the peers' split (binning, "
         f"selection, points model, 4 cross-fitted calibration folds, final fit), one subprocess per side and "
         f"data set, one at a time. Before = `{rev}`, now = `{now}`. Test AUC of the calibrated PD on the 30 % "
         f"test rows; `points_sum` = the card's summed integer points over the test rows.", "",
         "| dataset | fit s before | fit s now | change | test AUC before | test AUC now | points model before / now "
         "| features | points_sum before / now |",
         "|---|---:|---:|---:|---:|---:|---|---:|---|"]
    for name, b, n in rows:
        L.append(f"| {name} | {b['fit_s']:.1f} | {n['fit_s']:.1f} | {n['fit_s'] / b['fit_s'] - 1:+.0%} | "
                 f"{b['test_auc']:.4f} | {n['test_auc']:.4f} | {b['points_model']} / {n['points_model']} | "
                 f"{b['n_features']} / {n['n_features']} | {b['points_sum']:,} / {n['points_sum']:,} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fit_threads.md").write_text("\n".join(L) + "\n", encoding="utf-8")
    print("\n".join(L))


if __name__ == "__main__":
    main()
