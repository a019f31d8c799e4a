"""Sign audit of the peer scorecards: how many WoE coefficients point the wrong way.

In a WoE logistic scorecard every coefficient must have the sign that makes a bin with a lower observed
default rate earn more points (DOMAIN.md C2). A coefficient of the other sign inverts its feature:
within it, the safer bin costs points. Our ``WoEScorecard`` refuses such cards (``sign_strategy``);
the peers do not check. This script refits the peer cards that return their coefficients (optbinning,
optbinning without the IV cap, toad, scorecardpy), exactly as ``../shared/bench/peers_bench.py`` fits
them, on its cached split, and counts per card the coefficients whose sign differs from the sign of the
same WoE column fitted alone (a convention-free test: it does not matter whether a library defines WoE
as ln(good/bad) or ln(bad/good)). The refit's test AUC is printed beside the one in the peers' JSON, so
a reader sees that it is the same card.

Runs in the peers' environment (``bench/_work/peers-venv``, made by ``bench_models.py``)::

    bench/_work/peers-venv/bin/python bench/peer_signs.py [--peers-json bench/_work/peers_<stamp>.json]

and writes ``bench/results/peer_signs.md``.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = ROOT.parent / "shared" / "bench"
CACHE = ROOT / "bench" / "_work" / "peers_cache"
#: the real sets (scorecardpy needs tens of minutes on the 200k synthetic table)
DATASETS = ["germancredit", "hmeq", "sba_case", "polish_1year"]


def opposite_signs(W, y, coef) -> int:
    """Columns whose multivariate coefficient (non-zero) has the other sign than their univariate fit."""
    coef = np.asarray(coef, dtype=float).ravel()
    W = np.asarray(W, dtype=float)
    uni = np.array([LogisticRegression(max_iter=1000).fit(W[:, [j]], y).coef_[0, 0] for j in range(W.shape[1])])
    nz = coef != 0
    return int((np.sign(coef[nz]) != np.sign(uni[nz])).sum())


def audit_optbinning(Xtr, ytr, Xte, yte, cats, iv_max):
    from optbinning import BinningProcess, Scorecard
    crit = {"iv": {"min": 0.02, "max": iv_max} if iv_max is not None else {"min": 0.02}}
    bp = BinningProcess(variable_names=list(Xtr.columns), categorical_variables=cats, selection_criteria=crit)
    card = Scorecard(binning_process=bp, estimator=LogisticRegression(max_iter=1000), scaling_method="min_max",
                     scaling_method_params={"min": 300, "max": 850}).fit(Xtr, ytr)
    W = card.binning_process_.transform(Xtr, metric="woe")
    coef = card.estimator_.coef_.ravel()
    risk = card.predict_proba(Xte)[:, 1]
    return int((coef != 0).sum()), opposite_signs(W.to_numpy(), ytr, coef), risk


def audit_toad(Xtr, ytr, Xte, yte, cats):
    import toad
    train = Xtr.copy()
    train["target"] = ytr
    selected = toad.selection.select(train, target="target", empty=0.9, iv=0.02, corr=0.7)
    comb = toad.transform.Combiner()
    comb.fit(selected, y="target", method="chi", min_samples=0.05, empty_separate=True, exclude=[])
    transer = toad.transform.WOETransformer()
    tw = transer.fit_transform(comb.transform(selected), selected["target"], exclude=["target"])
    final = toad.selection.stepwise(tw, target="target", estimator="ols", direction="both", criterion="aic")
    feats = [c for c in final.columns if c != "target"]
    card = toad.ScoreCard(combiner=comb, transer=transer, class_weight="balanced", C=0.1, base_score=600,
                          base_odds=35, pdo=60, rate=2).fit(final[feats], final["target"])
    risk = -np.asarray(card.predict(Xte[feats]), dtype=float)
    return len(feats), opposite_signs(final[feats].to_numpy(), ytr, card.coef_), risk


def audit_scorecardpy(Xtr, ytr, Xte, yte, cats):
    import scorecardpy as sc
    train = Xtr.copy()
    train["y"] = ytr
    train_f = sc.var_filter(train, y="y")
    bins = sc.woebin(train_f, y="y", check_cate_num=False, print_step=0)
    tw = sc.woebin_ply(train_f, bins, print_step=0)
    Xw = tw.drop(columns=["y"])
    lr = LogisticRegression(penalty="l1", C=0.9, solver="saga", max_iter=1000).fit(Xw, tw["y"])
    card = sc.scorecard(bins, lr, Xw.columns)
    score = sc.scorecard_ply(Xte, card, only_total_score=True, print_step=0)["score"]
    risk = -np.asarray(score, dtype=float)
    return int((lr.coef_ != 0).sum()), opposite_signs(Xw.to_numpy(), tw["y"].to_numpy(), lr.coef_), risk


AUDITS = {
    "optbinning": lambda *a: audit_optbinning(*a, iv_max=1),
    "optbinning_noivmax": lambda *a: audit_optbinning(*a, iv_max=None),
    "toad": audit_toad,
    "scorecardpy": audit_scorecardpy,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peers-json", type=Path, default=None, help="peers' results, for their recorded AUC")
    ap.add_argument("--datasets", nargs="+", default=DATASETS)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "peer_signs.md")
    ap.add_argument("--scores-out", type=Path, default=ROOT / "bench" / "_work" / "peer_test_scores.npz",
                    help="test-row risk of every refitted peer card and of default LightGBM (for auc_gaps.py)")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    sys.path.insert(0, str(SHARED_BENCH))
    import peers_bench as pb

    pj = (a.peers_json or max((ROOT / "bench" / "_work").glob("peers_*.json"))).resolve()
    recorded = {(r["lib"], r["dataset"]): (r.get("eval") or {}).get("auc") for r in json.loads(pj.read_text())}
    rows, scores = [], {}
    for name in a.datasets:
        Xtr, ytr, Xte, yte, cats, _ = pb.load_dataset(CACHE, name)
        scores[f"y/{name}"] = np.asarray(yte)
        # default LightGBM exactly as the peers' run fits it, for the paired tests of auc_gaps.py
        scores[f"lightgbm_default/{name}"] = np.asarray(pb.RUNNERS["lightgbm_default"](Xtr, ytr, cats)[2](Xte))
        print(f"{name:15s} lightgbm_default    test AUC {roc_auc_score(yte, scores[f'lightgbm_default/{name}']):.4f} "
              f"(peers' run: {recorded.get(('lightgbm_default', name))})", flush=True)
        for lib, fn in AUDITS.items():
            n, wrong, risk = fn(Xtr, ytr, Xte, yte, cats)
            scores[f"{lib}/{name}"] = risk
            auc = roc_auc_score(yte, risk)
            rec = recorded.get((lib, name))
            rows.append((name, lib, n, wrong, auc, rec))
            print(f"{name:15s} {lib:19s} coefficients {n:3d}  opposite sign {wrong:3d}  test AUC {auc:.4f} "
                  f"(peers' run: {rec if rec is None else round(rec, 4)})", flush=True)
    lines = ["# Sign audit of the peer scorecards", "",
             f"Generated by `bench/peer_signs.py` in the peers' environment; split: `{CACHE.relative_to(ROOT)}`; "
             f"recorded AUC from `{pj.relative_to(ROOT)}`.", "",
             "A coefficient has the opposite sign when the WoE column fitted alone gets the other sign: inside that "
             "feature, the bin with the lower default rate earns fewer points. Our scorecard has none by construction "
             "(`WoEScorecard(sign_strategy=\"constrained\")`, the default).", "",
             "| dataset | peer card | non-zero coefficients | opposite sign | refit test AUC | AUC in the peers' run |",
             "|---|---|---:|---:|---:|---:|"]
    for name, lib, n, wrong, auc, rec in rows:
        lines.append(f"| {name} | {lib} | {n} | {wrong} | {auc:.4f} | {'' if rec is None else f'{rec:.4f}'} |")
    a.out.write_text("\n".join(lines) + "\n")
    np.savez_compressed(a.scores_out, **scores)
    print(f"wrote {a.out} and {a.scores_out}")


if __name__ == "__main__":
    main()
