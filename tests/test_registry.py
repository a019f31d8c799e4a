"""Guarded promotion: a worse or red-light candidate never takes the champion alias."""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_in_process import run_cli

from creditmodel import registry, tracking
from creditmodel.scoring.train import train_frame

pytestmark = pytest.mark.slow


class _Scaled:
    """A calibrator whose PDs are multiplied by ``factor`` (a deliberately miscalibrated model)."""

    def __init__(self, inner, factor):
        self.inner, self.factor = inner, factor

    def predict(self, raw):
        return np.clip(self.inner.predict(raw) * self.factor, 0, 1)


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-2.3 + 1.3 * x1 + 0.9 * x2)))).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "noise": rng.normal(size=n), "bad": y})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    import mlflow

    from creditmodel.scoring.pyfunc import log_model

    out = tmp_path_factory.mktemp("registry")
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{out / 'mlflow.db'}"
    tracking.configure(out)
    train = _frame(12000, 1)
    evidence = _frame(3000, 2)
    evidence.to_parquet(out / "evidence.parquet", index=False)
    good = train_frame(train, "bad", seed=1).model
    weak = train_frame(train, "bad", seed=1, features=["noise", "x2"]).model   # misses the strongest driver
    red = copy.deepcopy(good)   # the same fit (same data and seed: tests/test_train_score.py), not fitted again
    red.calibrator = _Scaled(red.calibrator, 0.35)                                # PDs far too low
    versions = {}
    with mlflow.start_run(experiment_id=tracking.experiment_id("registry_test", out)):
        for key, m in (("good", good), ("weak", weak), ("red", red)):
            versions[key] = str(log_model(m, registered_model_name="pd", name=f"m_{key}").registered_model_version)
            registry.tag_version("pd", versions[key], {registry.TAG_DATA: str(out / "evidence.parquet"),
                                                       registry.TAG_TARGET: "bad"})
    first = registry.promote("pd", versions["good"], out=out)   # the first good model becomes champion
    yield out, versions, first
    if old is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = old


def test_first_good_model_becomes_champion(store):
    out, v, d = store
    assert d.promoted and registry.alias_version("pd", "champion") == v["good"]
    tags = registry.client().get_model_version("pd", v["good"]).tags
    assert tags["promotion_decision"] == "promoted" and tags["validation_status"] in {"green", "amber", "red"}


def test_a_promotion_keeps_an_out_of_time_validation_status(store):
    """promote wrote its in-time status over notebook 04's out-of-time validation_status: a version validated red
    out of time was delivered as amber, without the red-validation warning (a new user's finding)."""
    out, v, _ = store
    registry.tag_version("pd", v["good"], {"validation_status": "red", "validation_red_checks": "jeffreys_p, csi"})
    d = registry.promote("pd", v["good"], out=out)
    tags = registry.client().get_model_version("pd", v["good"]).tags
    assert tags["validation_status"] == "red" and tags["validation_red_checks"] == "jeffreys_p, csi"
    assert tags["promotion_validation_status"] in {"green", "amber", "red"}
    # ... nor cleared by it: a version red out of time on a gating check was promoted over it on the in-time sample,
    # exit 0 (a reviewer's finding); new evidence (--data) decides on its own
    assert not d.promoted and d.evidence["recorded_gating_red"] == ["jeffreys_p"]
    assert any("recorded validation red on jeffreys_p" in r and "--data" in r for r in d.reasons), d.reasons
    again = registry.promote("pd", v["good"], data=out / "evidence.parquet", target="bad", out=out)
    assert again.promoted and "recorded_gating_red" not in again.evidence
    assert registry.alias_version("pd", "champion") == v["good"]


def test_worse_model_is_refused_by_delong(store, caplog):
    out, v, _ = store
    with caplog.at_level("WARNING", logger="creditmodel.registry"):
        d = registry.promote("pd", v["weak"], out=out)
    assert not d.promoted
    # a refusal is a warning (a notebook job repeats its WARNING lines on the command line; it said nothing)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"v{v['weak']} refused (champion stays v{v['good']})" in m and "significantly worse" in m
               for m in warned), warned
    assert d.evidence["auc_candidate"] < d.evidence["auc_champion"] and d.evidence["p_candidate_worse"] < 0.05
    assert registry.alias_version("pd", "champion") == v["good"]
    tags = registry.client().get_model_version("pd", v["weak"]).tags
    assert tags["promotion_decision"] == "refused" and "significantly worse" in tags["promotion_reasons"]
    assert json.loads(tags["promotion_evidence"])["champion_version"] == v["good"]
    # its status rests on the in-time check, and the tag says so (a deliverable showed "amber" without saying)
    assert tags["validation_basis"].startswith("in-time promotion check: ")
    assert f"{d.evidence['defaults']:,} defaults (not validated out of time" in tags["validation_basis"]


def test_red_light_model_is_refused_even_with_equal_ranking(store):
    out, v, _ = store
    d = registry.promote("pd", v["red"], out=out)
    assert not d.promoted
    assert "Jeffreys" in " ".join(d.evidence["gating_red_lights"])
    assert registry.alias_version("pd", "champion") == v["good"]


def test_promote_cli_exit_code(store):

    out, v, _ = store
    r = run_cli("--store", str(out), "promote", "pd", "--version", v["weak"])
    assert r.returncode == 1 and "NOT promoted" in r.stdout
    r = run_cli("--store", str(out), "promote", "pd", "--version", f" {v['weak']}")   # MLflow read " 2" as a stage, exit 1
    assert r.returncode == 1 and "NOT promoted" in r.stdout, r.stderr
    r = run_cli("--store", str(out), "promote", "pd", "--version", "99")
    assert r.returncode == 2 and "no version 99" in r.stderr
    r = run_cli("--store", str(out), "promote", "pdd", "--version", "1")   # a misspelt name is not "no version 1"
    assert r.returncode == 2 and "no registered model named 'pdd' in the store (registered: pd)" in r.stderr


def test_promote_refuses_a_sample_without_defaults_and_text_labels_without_positive(store, tmp_path):
    """A bank user's findings: on a sample with no default every gating light was n/a and the candidate was
    promoted; a yes/no target was read with 'yes' as the default whatever the column meant."""

    out, v, _ = store
    ev = pd.read_parquet(out / "evidence.parquet")
    ev[ev["bad"] == 0].to_csv(tmp_path / "no_defaults.csv", index=False)
    before = registry.alias_version("pd", "champion")
    with pytest.raises(registry.InputError, match="no default: discrimination and calibration cannot be tested") as e:
        registry.promote("pd", v["red"], data=tmp_path / "no_defaults.csv", target="bad", out=out)
    assert "no_defaults.csv" in str(e.value) and "column 'bad'" in str(e.value)
    assert registry.alias_version("pd", "champion") == before
    ev.assign(repaid=np.where(ev["bad"] == 1, "no", "yes")).drop(columns="bad").to_csv(tmp_path / "t.csv", index=False)
    base = ["--store", str(out), "promote", "pd", "--version", v["weak"], "--data", str(tmp_path / "t.csv"),
            "--target", "repaid"]
    r = run_cli(*base)
    assert r.returncode == 2 and "--positive" in r.stderr and "t.csv" in r.stderr
    ev.drop(columns="x1").to_csv(tmp_path / "nox1.csv", index=False)   # a model input missing: file and column
    with pytest.raises(registry.InputError) as e:
        registry.promote("pd", v["red"], data=tmp_path / "nox1.csv", target="bad", out=out)
    assert "nox1.csv" in str(e.value) and "x1" in str(e.value)
    r = run_cli(*base, "--positive", "no")   # read the right way round
    assert r.returncode == 1 and "significantly worse" in r.stdout, r.stdout + r.stderr


# --------------------------------------------------------------------------- per-run promotion evidence
@pytest.fixture
def own_store(tmp_path, monkeypatch):
    """A SQLite store of its own under ``tmp_path``; MLflow's URIs and any run left open are restored
    after."""
    import mlflow

    saved = (mlflow.get_tracking_uri(), mlflow.get_registry_uri(), dict(tracking._configured))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    tracking.configure(tmp_path)
    yield tmp_path
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(saved[0])
    mlflow.set_registry_uri(saved[1])
    tracking._configured.clear()
    tracking._configured.update(saved[2])


def _district_sample(n, seed):
    """A small DistrictSample (loan table with two features, target, true PD and the four windows)."""
    from creditmodel.scoring.district import TARGET, DistrictSample

    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    pd_true = 1 / (1 + np.exp(-(-2.0 + 1.2 * x1 + 0.8 * x2)))
    table = pd.DataFrame({"loan_id": [f"L{seed}-{i:05d}" for i in range(n)],
                          "uscc": [f"U{i % 97}" for i in range(n)],
                          "as_of_date": pd.Timestamp("2023-01-01")
                          + pd.to_timedelta(rng.integers(0, 700, n), "D"),
                          "x1": x1, "x2": x2, TARGET: (rng.uniform(size=n) < pd_true).astype(int),
                          "true_pd": pd_true})
    windows = np.array(["train", "valid", "test", "oot"], dtype=object)
    window = rng.choice(windows, size=n, p=[0.5, 0.15, 0.2, 0.15])
    return DistrictSample(table, ["x1", "x2"], window, pd.DataFrame(), pd.Timestamp("2024-01-01"))


def test_each_run_registers_against_its_own_frozen_evidence(own_store):
    """register_models copies the test sample to models/evidence/<run id>/ and tags the versions with that
    copy, so a second run (which rewrites models/test_sample.parquet) leaves the first run's evidence as it
    was."""
    import re

    import mlflow

    from creditmodel.scoring import district

    out = own_store
    first, second = _district_sample(1500, 1), _district_sample(1500, 2)
    # the model is beside the point here: the quickest fit (no cross-fitted calibration)
    res = train_frame(first.dev[["loan_id", "x1", "x2", district.TARGET]], district.TARGET, id_col="loan_id",
                      seed=1, calibration_folds=0)
    results = {"scorecard": res}
    cols = ["loan_id", "uscc", "as_of_date", *first.features, district.TARGET, "true_pd"]
    exp = tracking.experiment_id("evidence_test", out)

    def evidence_of(version):
        return Path(registry.client().get_model_version("ev_pd", version).tags[registry.TAG_DATA])

    with mlflow.start_run(experiment_id=exp) as run_a:
        va = district.register_models(results, first, out, name="ev_pd")["scorecard"]
    with mlflow.start_run(experiment_id=exp) as run_b:
        vb = district.register_models(results, second, out, name="ev_pd")["scorecard"]
    latest, frozen = out / "models" / "test_sample.parquet", out / "models" / "evidence"
    assert evidence_of(va) == (frozen / run_a.info.run_id / "test_sample.parquet").resolve()
    assert evidence_of(vb) == (frozen / run_b.info.run_id / "test_sample.parquet").resolve()
    # the latest file is the second run's; the first run's versions still read the first run's test rows
    want_a = first.part("test")[cols].reset_index(drop=True)
    want_b = second.part("test")[cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_parquet(latest), want_b)
    pd.testing.assert_frame_equal(pd.read_parquet(evidence_of(va)), want_a)
    pd.testing.assert_frame_equal(pd.read_parquet(evidence_of(vb)), want_b)
    assert not set(want_a["loan_id"]) & set(want_b["loan_id"])   # the two samples really differ
    # promote's evidence for the first version is its frozen copy, not the rewritten file
    ev, target, where = registry._evidence_sample("ev_pd", va, None, None)
    assert target == district.TARGET and Path(where) == evidence_of(va)
    pd.testing.assert_frame_equal(ev, want_a)

    # without an active run: a fresh folder per call (a random id), never one of the runs' folders
    assert mlflow.active_run() is None
    vc = district.register_models(results, first, out, name="ev_pd")["scorecard"]
    assert mlflow.active_run() is None       # logging the model opened no run: the next call is run-less too
    vd = district.register_models(results, second, out, name="ev_pd")["scorecard"]
    folders = [evidence_of(v).parent.name for v in (vc, vd)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", f) for f in folders), folders
    assert len(set(folders) | {run_a.info.run_id, run_b.info.run_id}) == 4
    pd.testing.assert_frame_equal(pd.read_parquet(evidence_of(vc)), want_a)
    pd.testing.assert_frame_equal(pd.read_parquet(evidence_of(va)), want_a)   # still untouched


def test_a_decision_on_few_defaults_says_its_evidence_is_thin(store, tmp_path):
    """Validator's finding: a promotion on a handful of defaults read as well founded as one on hundreds. The
    decision records the defaults and the power of its calibration test, and says when the evidence is thin."""
    out, v, first = store
    evidence = pd.read_parquet(out / "evidence.parquet")
    assert first.evidence["defaults"] == int(evidence["bad"].sum()) >= registry.THIN_EVIDENCE_DEFAULTS
    assert not any(r.startswith("thin evidence") for r in first.reasons)
    small = evidence.loc[evidence["bad"] == 1].head(6)
    small = pd.concat([small, evidence.loc[evidence["bad"] == 0].head(200)]).reset_index(drop=True)
    small.to_parquet(tmp_path / "small.parquet", index=False)
    d = registry.promote("pd", v["good"], data=tmp_path / "small.parquet", target="bad", out=out)
    thin = [r for r in d.reasons if r.startswith("thin evidence")]
    assert d.evidence["defaults"] == 6 and len(thin) == 1 and "6 defaults" in thin[0], d.reasons
    k = d.evidence["jeffreys_detectable_ratio"]   # shown as the report shows it (it read "1.0x" for 1.04)
    assert k is not None and f"a default rate {k:.2f}x the mean PD" in thin[0]
    assert registry.alias_version("pd", "champion") == v["good"]


def test_a_rerun_with_another_split_is_compared_on_rows_neither_model_saw(own_store):
    """Analyst's finding: a rerun with another seed was compared with the champion on its own test rows, most of
    them the champion's training rows (AUC 0.87 there against 0.76 on its own test rows), and refused as
    significantly worse. The comparison now leaves out the rows either model was fitted on."""
    import mlflow

    from creditmodel.scoring import district

    out = own_store
    a = _district_sample(4000, 5)
    b = district.DistrictSample(a.table, a.features, np.random.default_rng(6).permutation(a.window), a.catalogue,
                                a.oot_start)                                 # the same loans, another split
    exp = tracking.experiment_id("rerun_test", out)
    cols = ["loan_id", *a.features, district.TARGET]
    versions = {}
    for key, s in (("a", a), ("b", b)):
        res = train_frame(s.dev[cols].loc[np.isin(s.window[s.window != "oot"], ["train", "valid"])],
                          district.TARGET, id_col="loan_id", seed=1, calibration_folds=0)
        with mlflow.start_run(experiment_id=exp):
            versions[key] = district.register_models({"scorecard": res}, s, out, name="rerun_pd")["scorecard"]
    registry.set_alias("rerun_pd", registry.CHAMPION, versions["a"])         # the first run's card is champion
    d = registry.promote("rerun_pd", versions["b"], out=out)
    test_b = b.part("test")
    fitted_a = set(a.table.loc[np.isin(a.window, ["train", "valid"]), "loan_id"])
    fair = ~test_b["loan_id"].isin(fitted_a)
    assert 0 < fair.sum() < len(test_b)                                       # the premise: an overlap to leave out
    assert d.evidence["rows_fitted_by_champion_excluded"] == int((~fair).sum())
    assert d.evidence["compared_rows"] == int(fair.sum())
    assert d.evidence["compared_defaults"] == int(test_b.loc[fair, district.TARGET].sum())
    from creditmodel.scoring.pyfunc import load_credit_model
    from sklearn.metrics import roc_auc_score

    champ = load_credit_model(f"models:/rerun_pd/{versions['a']}").score_frame(test_b.loc[fair, cols])
    assert d.evidence["auc_champion"] == pytest.approx(
        roc_auc_score(test_b.loc[fair, district.TARGET], champ["pd_12m"]), abs=1e-12)
    assert any("rows neither model was fitted on" in r for r in d.reasons), d.reasons
    assert (not any(r.startswith("thin comparison") for r in d.reasons)) == (d.evidence["compared_defaults"] >= 20)
    # a champion registered before its fitted rows were recorded: every in-time row outside its held-out test
    # sample counts as fitted on (it compared on all rows without a word: reviewer's finding)
    registry.client().delete_model_version_tag("rerun_pd", versions["a"], registry.TAG_FITTED)
    f = registry.promote("rerun_pd", versions["b"], out=out)
    outside = ~test_b["loan_id"].isin(set(a.part("test")["loan_id"]))
    assert f.evidence["rows_fitted_by_champion_excluded"] == int(outside.sum()) >= d.evidence[
        "rows_fitted_by_champion_excluded"]
    assert "held-out" in f.evidence["champion_fitted_rows_from"]
    # a --data sample without the id columns: nothing can be left out, and the decision says so
    test_b[["x1", "x2", district.TARGET]].to_parquet(out / "anonymous.parquet", index=False)
    g = registry.promote("rerun_pd", versions["b"], data=out / "anonymous.parquet", target=district.TARGET, out=out)
    assert g.evidence["champion_fitted_rows_unknown"] and any("are unknown" in r for r in g.reasons)
    # a --data sample that holds the candidate's own fitted rows: those rows are left out of its evidence
    b.dev[cols + ["uscc", "as_of_date"]].to_parquet(out / "with_own_rows.parquet", index=False)
    e = registry.promote("rerun_pd", versions["b"], data=out / "with_own_rows.parquet", target=district.TARGET,
                         out=out)
    own = int(np.isin(b.window, ["train", "valid"]).sum())
    assert e.evidence["rows_fitted_by_candidate_excluded"] == own
    assert e.evidence["n_scored"] - own == int((b.window == "test").sum())


def test_validate_says_when_the_rows_are_the_models_own(own_store, caplog):
    """Validator's finding: `validate` on the development sample (80 % of it training and validation rows) gave
    AUC 0.886 green, Hosmer-Lemeshow labelled out-of-sample and no note. The rows a registered version was fitted
    on are now named in the report's notes and the log, and Hosmer-Lemeshow takes G - 2 when they are most rows."""
    import mlflow

    from creditmodel.scoring import district
    from creditmodel.validation.report import validate_file

    out = own_store
    a = _district_sample(3000, 8)
    cols = ["loan_id", *a.features, district.TARGET]
    fit = np.isin(a.window[a.window != "oot"], ["train", "valid"])
    res = train_frame(a.dev[cols].loc[fit], district.TARGET, id_col="loan_id", seed=1, calibration_folds=0)
    with mlflow.start_run(experiment_id=tracking.experiment_id("insample_test", out)):
        version = district.register_models({"scorecard": res}, a, out, name="insample_pd")["scorecard"]
    registry.set_alias("insample_pd", registry.CHAMPION, version)
    dev = a.dev[["loan_id", "uscc", "as_of_date", *a.features, district.TARGET]]
    dev.to_parquet(out / "dev.parquet", index=False)
    with caplog.at_level("WARNING", logger="creditmodel.validation.report"):
        v = validate_file("models:/insample_pd@champion", out / "dev.parquet", district.TARGET, out=out / "v1",
                          n_boot=20)
    k = int(fit.sum())
    assert v.metrics["data"]["rows_fitted_on"] == k and k > len(dev) / 2
    note = v.metrics["notes"][0]
    assert note.startswith(f"{k:,} of the {len(dev):,} validated rows") and "in sample, so optimistic" in note
    assert "G - 2" in note and v.metrics["hosmer_lemeshow_df"] == v.metrics["hosmer_lemeshow_groups"] - 2
    assert any("rows the model was fitted on" in r.getMessage() for r in caplog.records)
    held = a.part("test")[["loan_id", "uscc", "as_of_date", *a.features, district.TARGET]]
    held.to_parquet(out / "held.parquet", index=False)
    w = validate_file("models:/insample_pd@champion", out / "held.parquet", district.TARGET, out=out / "v2", n_boot=20)
    assert "rows_fitted_on" not in w.metrics["data"] and not any("fitted on" in n for n in w.metrics["notes"])
    assert w.metrics["hosmer_lemeshow_df"] == w.metrics["hosmer_lemeshow_groups"]


def test_moving_the_champion_keeps_the_previous_one_and_says_so(own_store, caplog):
    """A rerun that replaces the champion changes what models:/NAME@champion scores (the bank deliverable): the old
    version keeps the alias previous_champion and the move is a warning (a job printed nothing: newcomer's
    finding)."""
    import mlflow

    from creditmodel.scoring.pyfunc import log_model

    out = own_store
    _frame(3000, 2).to_parquet(out / "evidence.parquet", index=False)
    model = train_frame(_frame(12000, 1), "bad", seed=1).model
    versions = []
    with mlflow.start_run(experiment_id=tracking.experiment_id("move_test", out)):
        for k in range(2):
            versions.append(str(log_model(model, registered_model_name="mv", name=f"m{k}").registered_model_version))
            registry.tag_version("mv", versions[-1], {registry.TAG_DATA: str(out / "evidence.parquet"),
                                                      registry.TAG_TARGET: "bad"})
    with caplog.at_level("WARNING", logger="creditmodel.registry"):
        assert registry.promote("mv", versions[0], out=out).promoted
        assert not [r for r in caplog.records if "moved" in r.getMessage()]      # a first champion is no move
        assert registry.promote("mv", versions[1], out=out).promoted           # the same ranking: not worse
    assert registry.alias_version("mv", registry.CHAMPION) == versions[1]
    assert registry.alias_version("mv", registry.PREVIOUS) == versions[0]
    assert any(f"champion moved from v{versions[0]} to v{versions[1]}" in r.getMessage() for r in caplog.records)


def test_a_mistyped_model_name_in_validation_is_a_warning_that_names_the_store_s_models(tmp_path, monkeypatch,
                                                                                        caplog):
    """An analyst's finding: notebook 04 with -p model_name=district_pb (a typo of district_pd) trained, registered
    and promoted a new model, saying so in an INFO line the command line does not repeat."""
    import logging

    from creditmodel.scoring import district as SD
    from creditmodel.validation import district as VD

    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)   # an earlier test's registry would be kept
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    tracking.configure(tmp_path)
    registry.client().create_registered_model("district_pd")
    trained = []
    monkeypatch.setattr(SD, "train_models", lambda sample, seed: trained.append(seed) or {})
    monkeypatch.setattr(SD, "register_models", lambda results, sample, out, name: {"scorecard": "1"})
    monkeypatch.setattr(registry, "promote", lambda name, version, out: None)
    monkeypatch.setattr(registry, "alias_version", lambda name, alias: None)
    with caplog.at_level(logging.INFO, logger="creditmodel"):
        reg = VD.ensure_registered(object(), tmp_path, name="district_pb", seed=3)
    assert reg.trained and trained == [3]
    warn = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("no registered model 'district_pb'" in m and "'district_pd'" in m and "did you mean 'district_pd'?"
               in m for m in warn), warn
    caplog.clear()
    (tmp_path / "fresh").mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'fresh' / 'mlflow.db'}")
    with caplog.at_level(logging.INFO, logger="creditmodel"):   # an empty store: training is the plan, said as INFO
        VD.ensure_registered(object(), tmp_path / "fresh", name="district_pd", seed=3)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_red_discrimination_light_on_a_handful_of_defaults_can_be_chance():
    """An AUC of 0.597 on 6 defaults (interval about 0.35-0.85) blocked the first model of a 4,000-firm district,
    which then had no champion and no deliverable: on thin evidence a red discrimination light blocks only when its
    whole interval is red; calibration lights, already tests, are never waived."""
    from creditmodel.registry import _red_by_chance
    from creditmodel.validation.report import build_report

    rng = np.random.default_rng(4)
    n = 300
    y = np.zeros(n, dtype=int)
    y[:6] = 1
    score = rng.normal(0, 1, n) - 0.2 * y          # barely ranks the 6 defaults
    pdv = np.full(n, 0.02)
    thin = build_report(y, pdv, score=-score, n_boot=50)
    assert thin.lights.set_index("check").loc["auc", "light"] == "red"
    assert _red_by_chance("auc", thin) and not _red_by_chance("jeffreys_p", thin)
    y2 = np.zeros(6000, dtype=int)
    y2[:600] = 1
    flat = build_report(y2, np.full(6000, 0.1), score=rng.normal(0, 1, 6000), n_boot=50)   # AUC ~0.5, narrow
    assert flat.lights.set_index("check").loc["auc", "light"] == "red" and not _red_by_chance("auc", flat)


def test_a_comparison_on_one_default_keeps_the_champion(store, tmp_path):
    """An analyst's finding: notebook 03 with oot_start=2022-07-15 compared the new card with the champion on 1
    default and 63 non-defaults; DeLong's 'needs at least 2 defaults' read as 'not worse' and the champion moved."""
    import mlflow

    from creditmodel.scoring.pyfunc import log_model

    out, v, _ = store
    tracking.configure(out)   # the module's store (a test between may have pointed MLflow elsewhere)
    evidence = pd.read_parquet(out / "evidence.parquet")
    one = pd.concat([evidence.loc[evidence["bad"] == 1].head(1), evidence.loc[evidence["bad"] == 0].head(63)])
    one.to_parquet(tmp_path / "one.parquet", index=False)
    with mlflow.start_run(experiment_id=tracking.experiment_id("registry_test", out)):
        v2 = str(log_model(train_frame(_frame(12000, 3), "bad", seed=2).model, registered_model_name="pd",
                           name="m_good2").registered_model_version)
    d = registry.promote("pd", v2, data=tmp_path / "one.parquet", target="bad", out=out)
    assert not d.promoted and registry.alias_version("pd", "champion") == v["good"], d.reasons
    assert any("not computable" in r and "1 default(s) and 63 non-default(s)" in r for r in d.reasons), d.reasons


def test_promote_reads_a_csv_sample_as_score_does(own_store):
    """A CSV sample's category column of digit codes (``053242``) was read as the number 53242, 'not seen in
    training': promote left half the sample out of its evidence, where ``creditmodel score`` scores every row."""
    import mlflow

    from creditmodel.scoring.pyfunc import log_model

    rng = np.random.default_rng(0)
    n = 6000
    x1, sector = rng.normal(size=n), rng.choice(["053242", "641100", "C13", "F51"], n)
    eff = pd.Series(sector).map({"053242": 0.8, "641100": -0.5, "C13": 0.0, "F51": 0.3}).to_numpy()
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-2.2 + 1.2 * x1 + eff)))).astype(int)
    df = pd.DataFrame({"x1": x1, "sector": sector, "bad": y})
    model = train_frame(df.iloc[:4000], "bad", seed=1).model
    assert "sector" in model.input_spec.categorical
    with mlflow.start_run(experiment_id=tracking.experiment_id("csv_sample", own_store)):
        v = str(log_model(model, registered_model_name="pd_csv", name="m").registered_model_version)
    ev = df.iloc[4000:]
    ev = ev[ev["sector"].isin(["053242", "641100"])]   # only digit codes: a CSV reader takes them for numbers
    ev.to_csv(own_store / "ev.csv", index=False)
    d = registry.promote("pd_csv", v, data=own_store / "ev.csv", target="bad", out=own_store)
    assert d.evidence["n"] == len(ev) and d.evidence["n_scored"] == len(ev), d.evidence


def test_fitted_rows_match_a_csv_sample_whose_dates_carry_a_time():
    """A CSV sample read as score reads it keeps as_of_date as text; written '2024-06-30 00:00:00' it matched none
    of the recorded fitted rows (keyed '2024-06-30'), and the candidate's own training rows counted as evidence."""
    recorded = pd.DataFrame({"loan_id": ["L1", "L2"], "as_of_date": pd.to_datetime(["2024-06-30", "2024-07-01"])})
    sample = pd.DataFrame({"loan_id": ["L1", "L2", "L3"],
                           "as_of_date": ["2024-06-30 00:00:00", "2024/07/01", "2024-06-30"]})
    keys = registry._row_keys(sample, ["loan_id", "as_of_date"])
    assert keys.isin(registry._row_keys(recorded, ["loan_id", "as_of_date"])).tolist() == [True, True, False]


def test_a_model_logged_without_a_run_keeps_its_files_beside_the_store(own_store, tmp_path, monkeypatch):
    """Logged outside a run, a model went to MLflow's Default experiment, whose artifacts a SQLite store keeps in
    ./mlruns of the working folder: 26 test models piled up in the project's folder."""
    import mlflow

    from creditmodel.scoring.pyfunc import log_model

    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = mlflow.tracking.fluent._get_experiment_id()
    info = log_model(train_frame(_frame(3000, 5), "bad", seed=1).model, registered_model_name="no_run")
    assert mlflow.active_run() is None and not (cwd / "mlruns").exists()
    assert list((own_store / "mlartifacts" / "logged_models").rglob("MLmodel"))   # beside the store
    assert info.registered_model_version is not None
    assert mlflow.tracking.fluent._get_experiment_id() == before   # the caller's experiment is left as it was


def test_a_broken_version_behind_an_alias_is_bad_input_naming_the_model(own_store):
    """score --model models:/NAME@ALIAS on a version whose pickle is empty printed only 'aborted' (click reads an
    EOFError as Abort), exit 1; the same fault through models:/NAME/VERSION was already an error naming it."""
    from mlflow.tracking import MlflowClient

    from creditmodel.errors import InputError
    from creditmodel.scoring.pyfunc import log_model
    from creditmodel.scoring.score import resolve_model

    info = log_model(train_frame(_frame(3000, 5), "bad", seed=1).model, registered_model_name="broken")
    MlflowClient().set_registered_model_alias("broken", "champion", info.registered_model_version)
    assert resolve_model("models:/broken@champion").version == str(info.registered_model_version)
    pickles = list(own_store.rglob("credit_model.pkl"))
    assert len(pickles) == 1
    pickles[0].write_bytes(b"")
    for uri in ("models:/broken@champion", f"models:/broken/{info.registered_model_version}"):
        with pytest.raises(InputError) as e:
            resolve_model(uri)
        assert f"cannot load version {info.registered_model_version} of registered model 'broken'" in str(e.value)
        assert e.value.file == uri


def test_a_registered_mlmodel_names_no_path_of_the_machine_that_logged_it(own_store):
    """save_model wrote a reproducible MLmodel but log_model (the registry's) kept the build machine's path of the
    entry file and the temporary folder of its artifacts, and a random uuid."""
    import yaml

    from creditmodel.scoring.pyfunc import log_model
    from creditmodel.scoring.score import resolve_model

    model = train_frame(_frame(3000, 5), "bad", seed=1).model
    info = log_model(model, registered_model_name="clean")
    files = list(own_store.rglob("MLmodel"))
    assert len(files) == 1
    mm = yaml.safe_load(files[0].read_text(encoding="utf-8"))
    conf = mm["flavors"]["python_function"]
    assert conf["model_code_path"] == "pyfunc_entry.py"
    assert all(a["uri"] == a["path"] for a in conf["artifacts"].values())
    assert "/tmp" not in files[0].read_text(encoding="utf-8").replace(str(own_store), "")
    import uuid

    assert mm["model_uuid"] == uuid.uuid5(uuid.NAMESPACE_URL, f"creditmodel:{model.version}").hex
    again = resolve_model(f"models:/clean/{info.registered_model_version}").model   # still loads and scores
    X = _frame(50, 9).drop(columns="bad")
    pd.testing.assert_frame_equal(again.score_frame(X), model.score_frame(X))


def test_an_unknown_name_or_alias_names_what_the_store_holds(own_store):
    """score --model models:/small_loan_pd@champion on the demo's store said only that the name was not found; the
    demo registers district_pd. The error now lists the registered models and their aliases."""
    from mlflow.tracking import MlflowClient

    from creditmodel.errors import InputError
    from creditmodel.scoring.pyfunc import log_model
    from creditmodel.scoring.score import resolve_model

    info = log_model(train_frame(_frame(3000, 5), "bad", seed=1).model, registered_model_name="district")
    MlflowClient().set_registered_model_alias("district", "champion", info.registered_model_version)
    for uri in ("models:/small_loan@champion", "models:/district@challenger", "models:/small_loan/latest"):
        with pytest.raises(InputError) as e:
            resolve_model(uri)
        assert f"registered here: district (@champion = v{info.registered_model_version})" in str(e.value), uri
