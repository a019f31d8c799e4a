"""Feature selection of the scorecard on few defaults: stepwise off (the default) against forward BIC / AIC / CV AUC,
and the default card without the rare-bin rescue (``rare_bin_alpha=None``).

The district's development window has about 90 defaults for 80 candidate features; the champion keeps about 25
of them (3 to 4 defaults per feature). This script asks whether a sparser card predicts new firms better. For
each seed it generates a district of ``--firms`` enterprises, trains the scorecard as notebook 03 does
(``district.train_models``, development window 2021-2023, cross-fitted calibration) once per ``stepwise``
setting, and scores the loans of one independent, larger district (``--eval-firms``, seed 10,000): its
development-window loans (same period as the training loans) and its 2024 loans (the shock year). Reported:
features kept, AUC, ECE against the generator's true PD, mean PD against mean true PD. Writes
``results/scorecard_selection.md``::

    .venv/bin/python bench/scorecard_selection.py [--firms 20000] [--eval-firms 100000] [--seeds 4]
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
BASE = "off (default)"
#: (label, scorecard parameters): the default card, forward stepwise by each criterion, and the default card without
#: the rare-bin rescue (a rare flag's own bin; the card before it)
SETTINGS = ((BASE, {}), ("bic", {"stepwise": "bic"}), ("aic", {"stepwise": "aic"}), ("auc", {"stepwise": "auc"}),
            ("off, no rare-bin rescue", {"rare_bin_alpha": None}))


def _sample(firms: int, seed: int, tmp: Path):
    from creditmodel.data.io import load_district
    from creditmodel.data.synthetic import generate_district
    from creditmodel.scoring import district

    out = tmp / f"d{firms}_{seed}"
    generate_district(firms=firms, seed=seed, out=out, progress=False)
    return district.loan_sample(load_district(out).tables, oot_start="2024-01-01", seed=seed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firms", type=int, default=20_000)
    ap.add_argument("--eval-firms", type=int, default=100_000)
    ap.add_argument("--seeds", type=int, default=4)
    a = ap.parse_args()
    from creditmodel.scoring import district
    from creditmodel.scoring.calibration import expected_calibration_error
    from creditmodel.validation.metrics import auc

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ev = _sample(a.eval_firms, 10_000, Path(tmp))
        parts = {"same period": ev.dev, "2024": ev.oot}
        for seed in range(1, a.seeds + 1):
            s = _sample(a.firms, seed, Path(tmp))
            fit_part = np.isin(s.window, ("train", "valid"))   # the rows train_frame cross-fits on
            dev_defaults = int(s.table.loc[fit_part, district.TARGET].sum())
            for sw, params in SETTINGS:
                t0 = time.perf_counter()
                res = district.train_models(s, seed=seed, kinds=("scorecard",),
                                            estimator_params={"scorecard": params})["scorecard"]
                fit_s = time.perf_counter() - t0
                m = res.model
                row = {"seed": seed, "stepwise": sw, "fitted defaults": dev_defaults,
                       "features": len(m.estimator.selected_features_), "fit s": round(fit_s, 1)}
                for label, t in parts.items():
                    p = m.predict_pd(t[s.features])
                    y, tp = t[district.TARGET].to_numpy(), t["true_pd"].to_numpy()
                    row[f"{label} AUC"] = round(float(auc(y, p)), 4)
                    row[f"{label} true-PD AUC"] = round(float(auc(y, tp)), 4)
                    row[f"{label} ECE vs true PD"] = round(float(expected_calibration_error(tp, p).ece), 5)
                    row[f"{label} mean PD / mean true PD"] = round(float(p.mean() / tp.mean()), 3)
                rows.append(row)
                print(row, flush=True)
    df = pd.DataFrame(rows)
    keys = [c for c in df.columns if c.endswith(("AUC", "ECE vs true PD", "PD / mean true PD")) or c == "features"]
    mean = df.groupby("stepwise", sort=False)[keys].mean().round(4).reset_index()
    base = df[df["stepwise"] == BASE].set_index("seed")
    wins = {}
    for sw in df["stepwise"].unique():
        o = df[df["stepwise"] == sw].set_index("seed")
        wins[sw] = (f"{int((o['same period AUC'] > base['same period AUC']).sum())}/{len(o)} seeds higher AUC, "
                    f"{int((o['same period ECE vs true PD'] < base['same period ECE vs true PD']).sum())}/{len(o)} "
                    f"lower ECE (same period)")
    mean["against off"] = mean["stepwise"].map(wins)
    sha = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()

    def md(d: pd.DataFrame) -> list[str]:
        return ["| " + " | ".join(map(str, d.columns)) + " |", "|" + "---|" * len(d.columns),
                *["| " + " | ".join(str(v) for v in r) + " |" for r in d.itertuples(index=False)]]

    lines = [f"# Scorecard selection on few defaults ({time.strftime('%Y-%m-%d %H:%M')}, commit {sha})", "",
             f"`bench/scorecard_selection.py --firms {a.firms} --eval-firms {a.eval_firms} --seeds {a.seeds}`: "
             f"the scorecard trained as notebook 03 trains it on districts of {a.firms:,} firms (seeds 1..{a.seeds}), "
             f"scored on one independent district of {a.eval_firms:,} firms (seed 10,000; {len(ev.dev):,} loans "
             f"of the same period, {int(ev.dev[district.TARGET].sum())} defaults; {len(ev.oot):,} loans of 2024, "
             f"{int(ev.oot[district.TARGET].sum())} defaults). ECE: equal-count deciles of our PD against the "
             "generator's true PD. `true-PD AUC` is the AUC of the true PD itself (the ceiling).", "",
             "Means over seeds:", "", *md(mean), "", "Per seed:", "", *md(df), ""]
    (HERE / "results" / "scorecard_selection.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
