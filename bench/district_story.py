"""What the synthetic district lets a model learn (not a test): signal, ceiling, out-of-time drift.

For each district size it generates a district (or reuses ``--reuse DIR``), loads it with
``creditmodel.data.io.load_district``, builds the loan features with ``creditmodel.features.build_loan_features``
and measures:

* per-feature AUC against ``default_12m`` (orientation-free, ``max(AUC, 1 - AUC)``, on rows where the feature
  is present; the top 10, on all loans and on the 2021-2023 originations), and the Spearman correlation of the invoice shares with the hidden latent;
* out-of-time discrimination: LightGBM and a plain logistic regression (median imputation with missing
  indicators, standardised, one-hot categories) trained on 2021-2023 originations, tested on 2024
  originations; the AUC of ``true_pd`` on the same test loans is the ceiling;
* default rate by origination year, split by exposure to the shock (firms of the exposed industries named in
  ``manifest.json``), mean true PD, median invoice sales growth and open arrears at origination, and the mean
  predicted PD of both models on the 2024 loans against their default rate;
* the PSI of the LightGBM score and the CSI of the features, 2021-2023 against 2024
  (``creditmodel.validation.metrics.psi``/``csi``);
* data consistency: invoice months with zero invoices but positive sales (and the reverse), balance-sheet
  rows with current assets > total assets or current liabilities > total liabilities.

Results go to ``bench/results/district_story.md``.

Run: .venv/bin/python bench/district_story.py [--firms 20000 100000] [--seed 42] [--out /tmp/cm_story]
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import shutil
import warnings
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from creditmodel.data.io import load_district
from creditmodel.data.synthetic import generate_district
from creditmodel.features import ID_COLUMNS, TARGET_COLUMNS, build_loan_features
from creditmodel.validation.metrics import csi, psi

ROOT = Path(__file__).resolve().parents[1]
TRAIN_YEARS = (2021, 2022, 2023)
TEST_YEAR = 2024


def _auc(y: np.ndarray, x: np.ndarray) -> float:
    ok = np.isfinite(x)
    if ok.sum() < 50 or len(np.unique(y[ok])) < 2 or np.nanstd(x[ok]) == 0:
        return float("nan")
    a = roc_auc_score(y[ok], x[ok])
    return max(a, 1 - a)


def _frame(d: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    dist = load_district(d)
    f = build_loan_features(dist.tables)
    truth = pd.read_parquet(d / "truth.parquet").drop_duplicates("uscc").set_index("uscc")
    f["latent"] = f["uscc"].map(truth["latent"]).to_numpy()
    manifest = dist.manifest or {}
    # districts of generator 1.0 did not name them: use the exposed industries of 1.1 for a like-for-like view
    exposed = manifest.get("shock_period", {}).get("exposed_industries", ["K", "E", "H", "F"])
    f["exposed"] = f["industry"].astype(str).isin(exposed).to_numpy()
    f["year"] = pd.to_datetime(f["as_of_date"]).dt.year
    return f, dist.tables, manifest


def _features(f: pd.DataFrame) -> tuple[list[str], list[str]]:
    skip = set(ID_COLUMNS) | set(TARGET_COLUMNS) | {"latent", "exposed", "year"}
    cats = [c for c in f.columns if c not in skip and isinstance(f[c].dtype, pd.CategoricalDtype)]
    nums = [c for c in f.columns if c not in skip and c not in cats]
    return nums, cats


def _models(f: pd.DataFrame, seed: int) -> dict:
    nums, cats = _features(f)
    tr = f[f["year"].isin(TRAIN_YEARS)]
    te = f[f["year"] == TEST_YEAR]
    ytr, yte = tr["default_12m"].to_numpy(), te["default_12m"].to_numpy()
    X = nums + cats
    gbm = lgb.LGBMClassifier(n_estimators=400, learning_rate=0.03, num_leaves=15, min_child_samples=40,
                             subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=5.0,
                             random_state=seed, deterministic=True, n_jobs=2, verbose=-1)
    gbm.fit(tr[X], ytr)
    p_gbm_te, p_gbm_tr = gbm.predict_proba(te[X])[:, 1], gbm.predict_proba(tr[X])[:, 1]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                              StandardScaler()), nums),
        ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20), cats)])
    lr = make_pipeline(pre, LogisticRegression(C=0.05, max_iter=2000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr.fit(tr[X].astype({c: object for c in cats}), ytr)
        p_lr_te = lr.predict_proba(te[X].astype({c: object for c in cats}))[:, 1]
    logit_tr, logit_te = np.log(p_gbm_tr / (1 - p_gbm_tr)), np.log(p_gbm_te / (1 - p_gbm_te))
    c_sum, _ = csi(tr[nums], te[nums])
    exp_te = te["exposed"].to_numpy()
    return {
        "n_train": len(tr), "n_test": len(te), "dr_train": ytr.mean(), "dr_test": yte.mean(),
        "auc_gbm": roc_auc_score(yte, p_gbm_te), "auc_lr": roc_auc_score(yte, p_lr_te),
        "auc_ceiling": roc_auc_score(yte, te["true_pd"]),
        "auc_gbm_train_insample": roc_auc_score(ytr, p_gbm_tr),
        "pd_gbm_test": p_gbm_te.mean(), "pd_gbm_test_exposed": p_gbm_te[exp_te].mean(),
        "dr_test_exposed": yte[exp_te].mean(),
        "psi_score": psi(logit_tr, logit_te).psi, "csi_top": c_sum.head(8),
        "psi_lr": psi(lr.decision_function(tr[X].astype({c: object for c in cats})),
                      lr.decision_function(te[X].astype({c: object for c in cats}))).psi,
        "pd_lr_test": p_lr_te.mean(),
    }


def _consistency(tables: dict) -> dict:
    inv = tables["invoices_monthly"]
    ar = tables["annual_reports"]
    return {
        "invoice_months": len(inv),
        "zero_inv_pos_sales": int(((inv["n_sales_invoices"] == 0) & (inv["sales"] > 0)).sum()),
        "pos_inv_zero_sales": int(((inv["n_sales_invoices"] > 0) & (inv["sales"] == 0)).sum()),
        "zero_sales_months": int((inv["sales"] == 0).sum()),
        "cur_a_gt_ta": int((ar["current_assets"] > ar["total_assets"]).sum()),
        "cur_l_gt_tl": int((ar["current_liabilities"] > ar["total_liabilities"]).sum()),
        "report_rows": len(ar),
    }


def story(firms: int, seed: int, out: Path, reuse: Path | None) -> str:
    d = reuse or out / f"firms_{firms}"
    if reuse is None:
        if d.exists():
            shutil.rmtree(d)
        generate_district(firms, seed, out=d, progress=False)
    f, tables, manifest = _frame(d)
    y = f["default_12m"].to_numpy()
    nums, _ = _features(f)
    aucs = pd.Series({c: _auc(y, f[c].to_numpy(dtype=float)) for c in nums}).dropna().sort_values(ascending=False)
    pre = f["year"].isin(TRAIN_YEARS).to_numpy()
    aucs_pre = {c: _auc(y[pre], f.loc[pre, c].to_numpy(dtype=float)) for c in aucs.index}
    cover = {c: f[c].notna().mean() for c in aucs.index}
    rho = {c: stats.spearmanr(f[c], f["latent"], nan_policy="omit").statistic
           for c in ("invoice_voided_share", "invoice_red_letter_share", "invoice_sales_growth") if c in f}
    m = _models(f, seed)
    f["exposed"] = np.where(f["exposed"], "exposed", "other")
    by = f.groupby(["year", "exposed"]).agg(loans=("default_12m", "size"), defaults=("default_12m", "sum"),
                                             default_rate=("default_12m", "mean"), mean_true_pd=("true_pd", "mean"))
    by_year = f.groupby("year").agg(loans=("default_12m", "size"), defaults=("default_12m", "sum"),
                                    default_rate=("default_12m", "mean"), mean_true_pd=("true_pd", "mean"))
    growth = f.groupby(["year", "exposed"])["invoice_sales_growth"].median().unstack()
    arrears = f.assign(a=f[[c for c in f if c.startswith("arrears_") and c.endswith("_open_n")]].sum(axis=1)) \
               .groupby(["year", "exposed"])["a"].mean().unstack()
    cons = _consistency(tables)
    L = [f"## {manifest.get('firms', firms):,} firms (seed {manifest.get('seed', seed)}, generator "
         f"{manifest.get('generator_version', '?')})", "",
         f"{len(f):,} loans, {int(y.sum()):,} defaults ({y.mean():.2%}); true-PD AUC on all loans "
         f"{roc_auc_score(y, f['true_pd']):.3f}.", "",
         "### Out of time: train 2021-2023 originations, test 2024", "",
         "| model | test AUC |", "|---|---:|",
         f"| LightGBM | {m['auc_gbm']:.3f} |", f"| logistic regression | {m['auc_lr']:.3f} |",
         f"| true_pd (ceiling) | {m['auc_ceiling']:.3f} |", "",
         f"Train {m['n_train']:,} loans (default rate {m['dr_train']:.2%}), test {m['n_test']:,} loans "
         f"(default rate {m['dr_test']:.2%}); LightGBM mean PD on the test loans {m['pd_gbm_test']:.2%}; exposed "
         f"test loans: default rate {m['dr_test_exposed']:.2%} against mean PD {m['pd_gbm_test_exposed']:.2%}. "
         f"Logistic regression mean PD on the test loans {m['pd_lr_test']:.2%}. "
         f"**Score PSI, train vs 2024: LightGBM {m['psi_score']:.3f}, logistic regression {m['psi_lr']:.3f}.**", "",
         "Largest feature CSI, train vs 2024: " + ", ".join(f"`{r.feature}` {r.csi:.3f}"
                                                          for r in m["csi_top"].itertuples()) + ".", "",
         "### Single features (AUC against default, present rows)", "",
         "| feature | AUC, all loans | AUC, 2021-2023 | present |", "|---|---:|---:|---:|"]
    L += [f"| `{c}` | {a:.3f} | {aucs_pre[c]:.3f} | {cover[c]:.0%} |" for c, a in aucs.head(10).items()]
    L += ["", "Spearman with the hidden latent: " + ", ".join(f"`{k}` {v:+.2f}" for k, v in rho.items()) + ".", "",
          "### Default rate by origination year (exposed = firms of the exposed industries)", "",
          "| year | loans | defaults | default rate | mean true PD | exposed: loans | exposed: default rate | "
          "other: default rate | exposed / other | median sales growth exposed / other | open arrears exposed / other |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for yr, r in by_year.iterrows():
        e = by.loc[(yr, "exposed")] if (yr, "exposed") in by.index else None
        o = by.loc[(yr, "other")]
        ratio = e["default_rate"] / o["default_rate"] if e is not None and o["default_rate"] > 0 else float("nan")
        L.append(f"| {yr} | {int(r.loans):,} | {int(r.defaults):,} | {r.default_rate:.2%} | {r.mean_true_pd:.2%} | "
                 f"{int(e['loans']) if e is not None else 0:,} | {e['default_rate'] if e is not None else float('nan'):.2%} | "
                 f"{o['default_rate']:.2%} | {ratio:.2f} | {growth.loc[yr, 'exposed']:+.3f} / {growth.loc[yr, 'other']:+.3f} | "
                 f"{arrears.loc[yr, 'exposed']:.3f} / {arrears.loc[yr, 'other']:.3f} |")
    L += ["", "### Consistency", "",
          f"Invoice months {cons['invoice_months']:,}: zero invoices with positive sales {cons['zero_inv_pos_sales']:,}, "
          f"invoices with zero sales {cons['pos_inv_zero_sales']:,}, zero-sales months {cons['zero_sales_months']:,}. "
          f"Annual reports {cons['report_rows']:,}: current assets > total assets {cons['cur_a_gt_ta']:,}, "
          f"current liabilities > total liabilities {cons['cur_l_gt_tl']:,}.", ""]
    if manifest.get("loans"):
        L += [f"Manifest: default rate {manifest['loans']['default_rate_12m']:.2%}, mean true PD "
              f"{manifest['loans']['mean_true_pd']:.2%}.", ""]
    return "\n".join(L)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firms", type=int, nargs="*", default=[20_000, 100_000])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=Path("/tmp/creditmodel_district_story"))
    ap.add_argument("--reuse", type=Path, default=None, help="Measure this existing district instead.")
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "district_story.md")
    ap.add_argument("--keep", action="store_true", help="Keep the generated folders.")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    parts = ["# The synthetic district's story, measured", "",
             f"Measured {dt.date.today().isoformat()} with `bench/district_story.py`. Features from "
             "`build_loan_features`; exposure, latent and true PD from the hidden truth (never model inputs).", ""]
    sizes = [None] if args.reuse else args.firms
    for firms in sizes:
        text = story(firms or 0, args.seed, args.out, args.reuse)
        print(text, flush=True)
        parts.append(text)
        if not args.keep and args.reuse is None:
            shutil.rmtree(args.out / f"firms_{firms}", ignore_errors=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("\n".join(parts) + "\n", encoding="utf-8")
    print(f"results written to {args.results}")


if __name__ == "__main__":
    main()
