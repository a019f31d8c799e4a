"""Exact values of the public credit evaluation engine and its repair what-if, derived by hand from the rules
documented in data/public_credit_indicators.yaml (contribution = weight x clip(rule points, -cap, +cap); a
dimension's deductions scaled in proportion to its max_deduction, to the cent, largest remainder first; a repair
takes effect decision_days after the application; a listing's own recorded end ends it first)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditmodel.evaluation import load_config, repair_whatif
from creditmodel.evaluation.engine import score_inputs
from test_evaluation import A, T, district, firm, listing, penalty

JUDICIAL = ["dishonest_debtor_listed", "enforcement_open_n", "dishonest_debtor_past_n"]


def _inputs(cfg, rows: list[dict]) -> pd.DataFrame:
    """An evaluation input frame: every feature the system reads at 0, then the given values per row."""
    feats = list(dict.fromkeys(cfg.features()))
    df = pd.DataFrame({f: np.zeros(len(rows)) for f in feats})
    df["industry"] = "F"   # no industry override for F
    df["uscc"] = [f"X{i}" for i in range(len(rows))]
    for i, r in enumerate(rows):
        for k, v in r.items():
            df.loc[i, k] = float(v)
    return df


def test_an_indicator_is_clipped_to_its_cap_before_its_weight():
    """enforcement_open: -4 points per open case, cap 12. Five open cases are -20 rule points, clipped to -12; with
    a weight of 1.5 the contribution is 1.5 x -12 = -18 (not 1.5 x -20 = -30, nor the unweighted -12)."""
    cfg = load_config()
    inp = _inputs(cfg, [{}, {"enforcement_open_n": 5}, {"enforcement_open_n": 2}])
    plain = score_inputs(inp, cfg, with_sectors=False)
    assert plain["contrib__enforcement_open"].tolist() == [0.0, -12.0, -8.0]   # 2 cases: -8, under the cap
    clean = plain["public_credit_score"][0]
    assert plain["public_credit_score"][1] == clean - 12
    heavy = score_inputs(inp, cfg.with_weights({"enforcement_open": 1.5}), with_sectors=False)
    assert heavy["contrib__enforcement_open"].tolist() == [0.0, -18.0, -12.0]
    assert heavy["public_credit_score"][1] == clean - 18


def test_a_dimension_s_deductions_are_limited_to_its_max_deduction_in_proportion():
    """judicial (max_deduction 40): a dishonest-debtor listing (-25), five open cases (-4 each, cap 12: -12) and two
    past listings (-2 each, cap 4: -4) deduct 41 points, over the limit: scaled by 40/41 to the cent,
    4000 x (2500, 1200, 400) / 4100 = 2439.02, 1170.73, 390.24 cents; the floors add up to 3999, and the one cent
    left goes to the largest remainder (0.73): -24.39, -11.71, -3.90, 40.00 points in all."""
    cfg = load_config()
    inp = _inputs(cfg, [{}, dict(zip(JUDICIAL, [1, 5, 2]))])
    out = score_inputs(inp, cfg, with_sectors=False)
    got = [out.loc[1, f"contrib__{k}"] for k in ("dishonest_debtor", "enforcement_open", "dishonest_debtor_past")]
    assert got == [-24.39, -11.71, -3.90]
    assert round(out["public_credit_score"][0] - out["public_credit_score"][1], 2) == 40.0


def test_a_paid_penalty_can_be_repaired_fifteen_days_after_its_minimum_publicity_end():
    """The shipped rules: a repair decision comes decision_days = 15 days after the application (YAML 'repair'),
    so a paid serious penalty with minimum publicity end 2025-03-01 is lifted from 2025-03-16."""
    tabs = district([firm(A)], penalties=[penalty("P1", A, "2024-03-01", "serious", "2025-03-01", "2027-03-01",
                                                  paid="2024-03-20")])
    w = repair_whatif(tabs, None, A, T("2024-09-30")).set_index("record_id")
    assert w.loc["P1", "earliest_repair_date"] == T("2025-03-16")
    assert load_config().repair.decision_days == 15


def test_a_listing_s_own_end_date_ends_it_before_its_maximum_period():
    """A black-list entry of 2025-01-01 (min 6 months, max 36) recorded to end on 2025-07-10: at 2025-06-30 a
    removal could take effect only on 2025-07-01 + 15 days = 2025-07-16, after the entry's own end, so it is not
    repairable, and its window ends on 2025-07-10 (not on the 36-month maximum, 2028-01-01)."""
    tabs = district([firm(A)], lists=[listing("L1", A, "black", "2025-01-01", "2025-07-10")])
    _, recs = repair_whatif(tabs, None, A, T("2025-06-30"), records=True)
    r = recs.set_index("record_id").loc["L1"]
    assert r["window_end"] == T("2025-07-10")
    assert not bool(r["repairable"])
    # the same entry without a recorded end runs to its maximum period, and is repairable from 2025-07-16
    tabs = district([firm(A)], lists=[listing("L1", A, "black", "2025-01-01")])
    _, recs = repair_whatif(tabs, None, A, T("2025-06-30"), records=True)
    r = recs.set_index("record_id").loc["L1"]
    assert r["window_end"] == T("2028-01-01") and bool(r["repairable"])
    assert r["earliest_repair_date"] == T("2025-07-16")


# ----------------------------------------------------------------------------- promote's gate, without a store
# The decision logic of registry.promote on a stand-in store, models and validation report: which lights block
# (README, `creditmodel promote`: a red light on a gating check - AUC, Gini, KS, Jeffreys, Hosmer-Lemeshow, Brier -
# blocks; per-grade, concentration and stability lights do not; below 20 defaults a red discrimination light
# blocks only when its whole 95 % interval is red), the paired DeLong "not worse" comparison (2 of each outcome
# needed), the rows left out (the candidate's and the champion's fitted rows), and the aliases moved only on a pass.
class _Version:
    def __init__(self, tags):
        self.tags = tags


class _Client:
    def __init__(self, tags):
        self.tags = tags

    def get_registered_model(self, name):
        return object()

    def get_model_version(self, name, version):
        return _Version(self.tags.setdefault(str(version), {}))


class _Model:
    """Scores every row ok with the PD column ``col`` of the sample."""

    metadata: dict = {}

    def __init__(self, col):
        self.col = col

    def score_frame(self, df, file=None):
        p = df[self.col].to_numpy(dtype=float)
        return pd.DataFrame({"status": "ok", "pd_12m": p, "score": -p, "grade": "A"}, index=df.index)


class _Report:
    def __init__(self, lights: dict[str, str], metrics: dict | None = None):
        from creditmodel.validation import lights as L

        self.lights = pd.DataFrame({"check": list(lights), "label": [f"{k} light" for k in lights],
                                    "light": list(lights.values())})
        self.metrics = dict(metrics or {})
        self.thresholds = L.Thresholds()
        self.status = L.worst(list(lights.values()))


GREEN_ALL = {k: "green" for k in ("auc", "gini", "ks", "jeffreys_p", "hosmer_lemeshow_p", "brier_p")}


def _sample(n_bad: int, n_good: int, seed: int = 0) -> pd.DataFrame:
    """A sample whose ``good`` PD ranks the defaults well and whose ``noise`` PD does not rank at all."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n_bad, dtype=int), np.zeros(n_good, dtype=int)]
    good = np.clip(0.05 + 0.4 * y + rng.normal(0, 0.05, len(y)), 0.001, 0.999)
    noise = rng.uniform(0.05, 0.45, len(y))
    return pd.DataFrame({"bad": y, "good": good, "noise": noise})


def _promote(monkeypatch, df, cand_col, *, lights=None, metrics=None, champion_col=None, tags=None,
             seen=None, champ_seen=None, data=None):
    """Run registry.promote of version "2" (champion "1" when ``champion_col``); returns (decision, aliases, calls)."""
    import creditmodel.scoring.pyfunc as pyfunc
    import creditmodel.validation.report as report
    from creditmodel import registry, tracking

    aliases = {"champion": "1"} if champion_col else {}
    models = {"2": _Model(cand_col), "1": _Model(champion_col or cand_col)}
    calls: dict = {"set_alias": [], "report_rows": None}
    fake = _Client({k: dict(v) for k, v in (tags or {}).items()})

    def build_report(y, pdv, **kw):
        calls["report_rows"], calls["report_defaults"] = len(y), int(np.sum(y))
        return _Report(lights or GREEN_ALL, metrics)

    def set_alias(name, alias, version):
        calls["set_alias"].append((alias, str(version)))
        aliases[alias] = str(version)

    monkeypatch.setattr(tracking, "configure", lambda *a, **k: None)
    monkeypatch.setattr(tracking, "require_store", lambda *a, **k: None)
    monkeypatch.setattr(registry, "client", lambda: fake)
    monkeypatch.setattr(pyfunc, "load_credit_model", lambda uri: models[uri.rsplit("/", 1)[1]])
    monkeypatch.setattr(registry, "alias_version", lambda name, alias: aliases.get(alias))
    monkeypatch.setattr(registry, "set_alias", set_alias)
    monkeypatch.setattr(registry, "tag_version", lambda *a, **k: None)
    monkeypatch.setattr(registry, "_evidence_sample", lambda *a, **k: (df, "bad", "sample.parquet"))
    monkeypatch.setattr(report, "target_with_model_label", lambda s, *a, **k: (s.to_numpy(dtype=int), "1"))
    monkeypatch.setattr(report, "build_report", build_report)
    fitted = {"2": (seen, "its recorded training and validation rows") if seen is not None else (None, ""),
              "1": (champ_seen, "its recorded training and validation rows") if champ_seen is not None
              else (None, "")}
    monkeypatch.setattr(registry, "fitted_rows", lambda name, version, sample, in_time_sample=False:
                        fitted[str(version)])
    d = registry.promote("pd", "2", data=data)
    return d, aliases, calls


def test_a_red_hosmer_lemeshow_light_blocks_a_promotion_and_a_non_gating_red_does_not(monkeypatch):
    df = _sample(50, 350)
    d, aliases, _ = _promote(monkeypatch, df, "good", lights={**GREEN_ALL, "hosmer_lemeshow_p": "red"})
    assert not d.promoted and "champion" not in aliases
    assert d.evidence["gating_red_lights"] == ["hosmer_lemeshow_p light"]
    d, aliases, _ = _promote(monkeypatch, df, "good", lights={**GREEN_ALL, "psi_score": "red"})
    assert d.promoted and aliases["champion"] == "2"


def test_a_red_auc_light_is_waived_by_its_interval_only_below_twenty_defaults(monkeypatch):
    """An AUC of 0.58 is red (below 0.60), its DeLong upper bound 0.75 green (0.70 or more): on 50 defaults the red
    light blocks; on 10 defaults (thin evidence) its interval reaches out of the red zone, and it does not."""
    red_auc = {**GREEN_ALL, "auc": "red"}
    m = {"auc": 0.58, "auc_ci_high": 0.75}
    d, aliases, _ = _promote(monkeypatch, _sample(50, 350), "good", lights=red_auc, metrics=m)
    assert not d.promoted and "champion" not in aliases and "red_lights_within_chance" not in d.evidence
    d, aliases, _ = _promote(monkeypatch, _sample(10, 390), "good", lights=red_auc, metrics=m)
    assert d.promoted and d.evidence["red_lights_within_chance"] == ["auc"] and aliases["champion"] == "2"
    # said as waived, not as "no red light on discrimination" beside a red AUC (an analyst's finding)
    said = [r for r in d.reasons if r.startswith("validation: ")]
    assert said == ["validation: no blocking red light on discrimination or portfolio calibration (red but within "
                    "chance on thin evidence: auc light)"], d.reasons


def test_the_candidate_s_own_fitted_rows_are_left_out_of_its_validation(monkeypatch):
    df = _sample(50, 350)
    seen = np.zeros(len(df), dtype=bool)
    seen[:10] = True      # 10 defaults
    seen[100:130] = True  # 30 non-defaults
    d, _, calls = _promote(monkeypatch, df, "good", seen=seen, data="sample.parquet")
    assert d.evidence["rows_fitted_by_candidate_excluded"] == 40
    assert (calls["report_rows"], calls["report_defaults"]) == (360, 40) and d.evidence["defaults"] == 40


def test_a_recorded_red_validation_holds_the_version_and_a_recorded_amber_does_not(monkeypatch):
    df = _sample(50, 350)
    red = {"2": {"validation_status": "red", "validation_red_checks": "auc, csi"}}
    d, aliases, _ = _promote(monkeypatch, df, "good", tags=red)
    assert not d.promoted and d.evidence["recorded_gating_red"] == ["auc"] and "champion" not in aliases
    amber = {"2": {"validation_status": "amber", "validation_red_checks": "auc"}}
    d, aliases, _ = _promote(monkeypatch, df, "good", tags=amber)
    assert d.promoted and "recorded_gating_red" not in d.evidence and aliases["champion"] == "2"


def test_a_better_candidate_moves_the_champion_and_keeps_the_previous_one(monkeypatch):
    d, aliases, calls = _promote(monkeypatch, _sample(50, 350), "good", champion_col="noise")
    assert d.promoted and d.evidence["auc_candidate"] > d.evidence["auc_champion"]
    assert aliases == {"champion": "2", "previous_champion": "1"}
    assert calls["set_alias"] == [("previous_champion", "1"), ("champion", "2")]


def test_a_significantly_worse_candidate_with_green_lights_leaves_the_aliases_alone(monkeypatch):
    d, aliases, calls = _promote(monkeypatch, _sample(50, 350), "noise", champion_col="good")
    assert not d.promoted and d.evidence["p_candidate_worse"] < 0.05
    assert aliases == {"champion": "1"} and calls["set_alias"] == []


def test_one_default_on_the_compared_rows_is_no_delong_comparison(monkeypatch):
    """1 default and 63 non-defaults: DeLong needs 2 of each, so the champion stays (even for a better ranker)."""
    d, aliases, _ = _promote(monkeypatch, _sample(1, 63), "good", champion_col="noise", lights=GREEN_ALL)
    assert not d.promoted and aliases == {"champion": "1"}
    assert "1 default(s) and 63 non-default(s)" in d.evidence["delong"]


def test_the_champion_s_fitted_rows_are_left_out_of_the_comparison(monkeypatch):
    df = _sample(50, 350)
    champ_seen = np.zeros(len(df), dtype=bool)
    champ_seen[:20] = True       # 20 defaults
    champ_seen[200:280] = True   # 80 non-defaults
    d, _, _ = _promote(monkeypatch, df, "good", champion_col="noise", champ_seen=champ_seen)
    assert d.evidence["rows_fitted_by_champion_excluded"] == 100
    assert (d.evidence["compared_rows"], d.evidence["compared_defaults"]) == (300, 30)


# ----------------------------------------------------------------------------- validate_file's in-sample basis
# How validate_file treats rows the model was fitted on (report._rows_fitted_on): recorded fitted rows (exact) are
# counted as rows_fitted_on, and Hosmer-Lemeshow takes G - 2 degrees of freedom when they are at least half the
# validated rows; a development window (not exact: it also holds held-out rows) is only a warning, never an
# in-sample test.
@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    from model_factory import train_small, two_feature_frame

    out = train_small(tmp_path_factory, two_feature_frame(3000, 5), id_col="id", name="insample")
    v = tmp_path_factory.mktemp("insample_v")
    two_feature_frame(1200, 6).to_csv(v / "v.csv", index=False)
    return out, v / "v.csv"


def _validate(monkeypatch, small_model, tmp_path, first: int, exact: bool):
    """validate_file with the first ``first`` rows of the sample named fitted on (``exact``) or in the window."""
    import creditmodel.validation.report as report

    model, data = small_model
    n = len(pd.read_csv(data))

    def fitted(uri, m, df):
        seen = np.zeros(len(df), dtype=bool)
        seen[:first] = True
        return seen, ("its recorded rows" if exact else "dated within its development window"), exact

    monkeypatch.setattr(report, "_rows_fitted_on", fitted)
    v = report.validate_file(model, data, "bad", out=tmp_path / "val", n_boot=20)
    return v.metrics, n


def test_most_rows_fitted_on_make_hosmer_lemeshow_in_sample(monkeypatch, small_model, tmp_path):
    m, n = _validate(monkeypatch, small_model, tmp_path, 700, exact=True)      # 700 of 1,200: at least half
    assert m["data"]["rows_fitted_on"] == 700 and "rows_in_development_window" not in m["data"]
    assert m["hosmer_lemeshow_df"] == m["hosmer_lemeshow_groups"] - 2


def test_a_minority_of_rows_fitted_on_keeps_hosmer_lemeshow_out_of_sample(monkeypatch, small_model, tmp_path):
    m, n = _validate(monkeypatch, small_model, tmp_path, 500, exact=True)      # 500 of 1,200: fewer than half
    assert m["data"]["rows_fitted_on"] == 500
    assert m["hosmer_lemeshow_df"] == m["hosmer_lemeshow_groups"]


def test_a_development_window_is_a_warning_not_an_in_sample_test(monkeypatch, small_model, tmp_path):
    m, n = _validate(monkeypatch, small_model, tmp_path, 1200, exact=False)    # every row in the window
    assert m["data"]["rows_in_development_window"] == 1200 and "rows_fitted_on" not in m["data"]
    assert m["hosmer_lemeshow_df"] == m["hosmer_lemeshow_groups"]
