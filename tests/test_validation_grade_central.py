"""The per-grade tests against the master scale's central PDs beside the default tests on each grade's mean PD (a
validator's finding: on the demo's out-of-time sample grade 10 defaulted at 45.7 %, 69 of 151 loans, against a
central PD of 30 %, and passed against its loans' mean PD of 42.8 %), and the sample's unit in the report's text and
figure axes."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from creditmodel.scoring.master_scale import MasterScale
from creditmodel.validation import metrics as M

CENTRAL = {g: float(MasterScale().central_pd(g)) for g in MasterScale().grades if g != "D"}


def _sample(grouped: bool = False):
    """Grades 3 (thin), 6, 8 and 10; grade 10 as in the demo: 69 defaults of 151 rows, mean PD about 42.8 %."""
    rng = np.random.default_rng(5)
    parts = [("3", 25, 1, 0.0026), ("6", 400, 7, 0.018), ("8", 300, 22, 0.073), ("10", 151, 69, 0.428)]
    g, p, y = [], [], []
    for grade, n, d, mean_pd in parts:
        g += [grade] * n
        p.append(np.clip(mean_pd * rng.uniform(0.85, 1.15, n), 1e-4, 0.99))
        y += [1] * d + [0] * (n - d)
    g, p, y = np.array(g, dtype=object), np.concatenate(p), np.array(y)
    # two rows per borrower, a defaulted row with a defaulted one: the grade's defaults cluster (design effect > 1)
    groups = np.array([f"firm{i // 2}" for i in range(y.size)]) if grouped else None
    return y, p, g, groups


def _build(central_pd=CENTRAL, grade_pd=None, grouped=False, **kw):
    from creditmodel.validation.report import build_report

    y, p, g, groups = _sample(grouped)
    return build_report(y, p, grade=g, central_pd=central_pd, grade_pd=grade_pd, groups=groups, n_boot=20,
                        data_info={"count_unit": "loans"}, **kw)


def test_each_grade_is_also_tested_against_its_central_pd_and_the_rejected_grades_are_named():
    res, plain = _build(), _build(central_pd=None)
    m = res.metrics
    rows = {r["grade"]: r for r in m["grades"]}
    g10 = rows["10"]
    # the mean-PD test passes grade 10; against the central PD of 30 % it is red
    assert g10["jeffreys_light"] == "green" and g10["jeffreys_p"] > 0.05
    assert g10["central_pd"] == pytest.approx(0.30)
    assert g10["central_jeffreys_p"] == pytest.approx(float(M.jeffreys_test(69, 151, 0.30)))
    assert g10["central_jeffreys_p"] < 1e-4 and g10["central_light"] == "red"
    # Holm over the grades read: grade 3 (0.06 expected defaults) is shown n/a, its Jeffreys amber is not confirmed by
    # the exact binomial test, so 3 grades are read and the worst p is multiplied by 3
    assert rows["3"]["central_light"] == "n/a"
    assert "not confirmed by the exact binomial test" in rows["3"]["central_note"]
    gc = m["grade_central_pd"]
    assert gc["grades_read"] == 3 and gc["rejected"] == ["10"] and gc["worst_grade"] == "10"
    assert gc["worst_p_holm"] == pytest.approx(3 * g10["central_jeffreys_p"]) == m["grade_central_pd_p"]
    assert any(n.startswith("Against the grade PDs of the master scale") and
               "grade 10: 45.70 % of 151 loans defaulted against the master scale's central PD 30.00 % (Jeffreys p "
               in n and "would understate the risk there" in n for n in m["notes"]), m["notes"]
    # informative: the status and every other light as without the check; the mean-PD keys unchanged
    lt = res.lights.set_index("check")
    assert lt.loc["grade_central_pd_p", "light"] == "info"
    assert lt.loc["grade_central_pd_p", "note"].startswith("rejected: grade 10: 45.70 % of 151 loans")
    assert res.status == plain.status
    pd.testing.assert_frame_equal(lt.drop(index="grade_central_pd_p"), plain.lights.set_index("check"))
    for r, q in zip(m["grades"], plain.metrics["grades"]):
        assert {k: r[k] for k in q} == q
    assert m["parameters"]["grade_pd"] == "mean PD of the grade"
    assert "info  Jeffreys per grade against the master scale's central PD" in res.summary()
    html = res.to_html()
    assert "<th>central PD</th><th>Jeffreys p vs central</th><th>Holm p vs central</th>" in html
    assert "what a grade-based user must read" in html and "sets no light of the status" in html


def test_the_central_tests_read_each_grade_through_its_design_effect():
    res = _build(grouped=True)
    g10 = next(r for r in res.metrics["grades"] if r["grade"] == "10")
    deff = g10["central_design_effect"]
    assert deff > 1.05
    assert g10["central_jeffreys_p"] == pytest.approx(float(M.jeffreys_test(69, 151, 0.30, deff)))
    assert g10["central_jeffreys_p"] > float(M.jeffreys_test(69, 151, 0.30))


def test_holm_adjusts_step_down_in_the_input_order():
    from creditmodel.validation.report import _holm

    assert _holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert _holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_nothing_doubles_when_the_grade_pd_is_already_the_central_pd():
    res = _build(grade_pd=CENTRAL)
    m = res.metrics
    assert "grade_central_pd" not in m and "grade_central_pd_p" not in m
    assert all("central_pd" not in r for r in m["grades"])
    assert "grade_central_pd_p" not in set(res.lights["check"]) and "grade_pd_also" not in m["parameters"]
    assert "vs central" not in res.to_html()
    # a scale without a PD for a grade that holds rows: not computable, said
    partial = _build(central_pd={k: v for k, v in CENTRAL.items() if k != "10"})
    assert "grade_central_pd" not in partial.metrics
    assert "10" in partial.metrics["not_computable"]["grades_central_pd"]


def test_validate_file_adds_the_central_check_by_default_for_a_model_with_a_master_scale(tmp_path_factory, tmp_path):
    from model_factory import train_small, two_feature_frame as frame

    from creditmodel.validation.report import validate_file

    model = train_small(tmp_path_factory, frame(1500, 0), id_col="id", seed=3, name="central")
    frame(1000, 1).to_csv(tmp_path / "new.csv", index=False)
    scale = pd.read_csv(model / "master_scale.csv", dtype={"grade": str}).set_index("grade")["central_pd"]
    mean = validate_file(model, tmp_path / "new.csv", "bad", out=tmp_path / "mean", n_boot=20)
    m = json.loads((tmp_path / "mean" / "metrics.json").read_text(encoding="utf-8"))
    assert m["grade_central_pd"]["pd"] == "central PD of the grade on the model's master scale"
    used = [r for r in m["grades"] if r["n"] > 0]
    assert used and all(r["central_pd"] == pytest.approx(scale[r["grade"]]) for r in used)
    assert all(r["central_jeffreys_p"] == pytest.approx(float(M.jeffreys_test(r["defaults"], r["n"], r["central_pd"])))
               for r in used)
    assert "grade_central_pd_p" in set(mean.lights["check"])
    central = validate_file(model, tmp_path / "new.csv", "bad", out=tmp_path / "central", n_boot=20, grade_pd="central")
    assert "grade_central_pd" not in central.metrics and "grade_central_pd_p" not in set(central.lights["check"])


def test_the_sample_unit_names_the_rows_in_the_text_and_the_figure_axes():
    from creditmodel.validation.report import Challenger, ReferenceSample, build_report

    y, p, g, _ = _sample()
    score = np.rint(600 - 40 * np.log(p / (1 - p)))
    ref = ReferenceSample(score=score[::-1].copy(), grade=g[::-1].copy())
    res = build_report(y, p, score=score, grade=g, reference=ref, challenger=Challenger("other", p * 0.9),
                       n_boot=20, data_info={"count_unit": "loans"})
    html = res.to_html()
    assert f"<p>{y.size:,} loans, {int(y.sum())} defaults" in html
    assert f"on the same {y.size:,} loans:" in html and "Share of loans per grade" in html
    assert "obligors" not in html.split("<h2>Data description")[0]
    assert res.figures["cap"].axes[0].get_xlabel() == "share of loans (riskiest first)"
    assert res.figures["grades"].axes[0].get_ylabel() == "share of loans"
    assert res.figures["psi"].axes[0].get_ylabel() == "share of loans"
    plain = build_report(y, p, score=score, grade=g, reference=ref, n_boot=20)
    assert "share of obligors" == plain.figures["grades"].axes[0].get_ylabel()
    assert f"<p>{y.size:,} obligors," in plain.to_html()


def test_notebook_04_splits_the_sample_with_the_seed_the_models_were_trained_with(monkeypatch, caplog):
    """Notebook 04 with its default seed showed a split of 268 / 95 / 89 loans for models notebook 03 had trained
    on 276 / 91 / 85 with seed 7: the registered models' seed splits the sample, and the difference is said."""
    import logging
    from types import SimpleNamespace

    import creditmodel.scoring.pyfunc as pyfunc
    from creditmodel.validation import district as vd

    monkeypatch.setattr(vd, "_has_versions", lambda name: True)
    monkeypatch.setattr(vd.registry, "alias_version", lambda name, alias: {"champion": "3"}.get(alias))
    monkeypatch.setattr(pyfunc, "load_credit_model", lambda uri: SimpleNamespace(metadata={"seed": 7}))
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        assert vd.training_seed("district_pd", 42) == 7
    assert any("trained with seed 7" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        assert vd.training_seed("district_pd", 7) == 7
    assert not caplog.records
    monkeypatch.setattr(pyfunc, "load_credit_model", lambda uri: SimpleNamespace(metadata={}))
    assert vd.training_seed("district_pd", 42) == 42          # no seed recorded: the notebook's
    monkeypatch.setattr(vd, "_has_versions", lambda name: False)
    assert vd.training_seed("district_pd", 11) == 11          # nothing registered yet: the notebook's
