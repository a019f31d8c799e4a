"""The deliverable writer: Parquet and CSV agree row for row across appended chunks; the CSV has one BOM,
exact dates and timestamps, floats to 10 significant digits, quoted text and empty nulls."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditmodel.delivery import (CSV_SIGNIFICANT_DIGITS, DELIVERABLE_COLUMNS, DeliverableWriter, assemble,
                                  round_significant, sidecar)


def _chunk(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ok = rng.random(n) > 0.2
    pd12 = np.where(ok, rng.uniform(1e-5, 0.4, n), np.nan)
    scored = pd.DataFrame({
        "score": pd.Series(rng.integers(300, 900, n), dtype="Int64").where(ok, pd.NA),
        "grade": pd.Categorical(np.where(ok, rng.choice(["1", "5", "10", "D"], n), None)),
        "pd_12m": pd12,
        "reason_1": pd.Categorical(np.where(ok, "tax_grade", None)),
        "reason_2": pd.Categorical(np.where(ok, "工商处罚_n", None)),
        "reason_3": pd.Categorical([None] * n, categories=["x"]),
        "model_name": "district_scorecard", "model_version": "3",
        "status": np.where(ok, "ok", "error"),
        "error": np.where(ok, None, 'column "x1": expected a number, got "a,b"'),
    })
    inputs = pd.DataFrame({"uscc": [f"9133020{seed}MA{i:09d}" for i in range(n)],
                           "as_of_date": pd.Timestamp("2025-12-31") + pd.to_timedelta(rng.integers(0, 3, n), "D"),
                           "public_credit_grade": rng.choice(["A", "B", None], n)})
    pricing = pd.DataFrame({"expected_loss_rate": pd12 * 0.45, "capital_rate": pd12 * 3.1,
                            "suggested_rate": np.round(0.0435 + pd12, 4)})
    return assemble(scored, inputs, "ab" * 32, pd.Timestamp("2026-11-27 03:04:05", tz="UTC"), pricing=pricing)


def test_capital_rate_is_described_as_the_pricing_computes_it():
    """A bank user's finding: the data dictionary called capital_rate 'the IRB capital requirement K' while the
    pricing holds 12.5 x K x the capital ratio when a ratio is set."""
    from creditmodel import pricing
    from creditmodel.delivery import COLUMNS

    doc = {c.name: c for c in COLUMNS}["capital_rate"].en
    assert "12.5 x the IRB capital requirement K x the bank's capital ratio" in doc and "K itself" in doc
    # units say what the numbers are (a bank reviewer's finding: "per year" without "fraction", "fraction of
    # exposure" without the horizon): EL is a 12-month loss, capital a stock held, the rate a yearly fraction
    units = {c.name: c.unit for c in COLUMNS}
    assert units["suggested_rate"] == "fraction per year" and units["pd_12m"] == "fraction"
    assert units["expected_loss_rate"] == "fraction of exposure over 12 months"
    assert units["capital_rate"] == "fraction of exposure"
    zh = {c.name: c for c in COLUMNS}["capital_rate"].zh   # the Chinese label said K alone (bank validator)
    assert "12.5×IRB资本要求K×资本充足率" in zh and "为K" in zh
    k = float(pricing.irb_capital(0.02, 0.45))
    kw = dict(funding_cost=0.02, opex=0.01, hurdle_rate=0.12)
    with_ratio = pricing.risk_based_rate(0.02, 0.45, capital_ratio=0.105, **kw)
    without = pricing.risk_based_rate(0.02, 0.45, **kw)
    assert float(with_ratio.capital) == pytest.approx(12.5 * k * 0.105) and float(without.capital) == pytest.approx(k)


def test_round_significant_matches_printf_g():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-1, 1, 2000) * 10.0 ** rng.integers(-12, 12, 2000),
                        [0.0, np.nan, np.inf, -np.inf, 0.0515, 1e-300, 123456789012345.0]])
    r = round_significant(x)
    for v, got in zip(x, r):
        if np.isfinite(v) and v != 0:
            assert got == float(f"%.{CSV_SIGNIFICANT_DIGITS}g" % v), v
            assert len(repr(float(got)).lstrip("-").split("e")[0].replace(".", "").strip("0")) <= CSV_SIGNIFICANT_DIGITS
        else:
            assert got == v or (np.isnan(got) and np.isnan(v))


def test_csv_and_parquet_agree_across_chunks(tmp_path):
    chunks = [_chunk(300, 1), _chunk(257, 2)]
    w = DeliverableWriter(tmp_path / "out.parquet")
    for c in chunks:
        w.append(c)
    whole = pd.concat(chunks, ignore_index=True)
    paths = w.close(sidecar(whole, "district_scorecard", "3", "ab" * 32))
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    assert raw.splitlines()[0].decode("utf-8-sig").replace('"', "").split(",") == DELIVERABLE_COLUMNS
    pq = pd.read_parquet(paths["parquet"])
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(pq) == len(csv) == len(whole) == w.rows
    assert pq["uscc"].tolist() == csv["uscc"].tolist() == whole["uscc"].tolist()  # input order kept
    assert csv["as_of_date"].tolist() == [d.isoformat() for d in pq["as_of_date"]]
    import pyarrow.parquet as pqf

    # a date, as the sidecar says (it was the input's timestamp type: [ns] from pandas, [us] from a CSV)
    assert str(pqf.read_schema(paths["parquet"]).field("as_of_date").type) == "date32[day]"
    assert set(csv["scored_at"]) == {"2026-11-27T03:04:05Z"}
    for c in ("pd_12m", "expected_loss_rate", "capital_rate", "suggested_rate"):
        want = round_significant(pq[c].to_numpy(dtype=float))
        got = pd.to_numeric(csv[c].replace("", np.nan)).to_numpy(dtype=float)
        np.testing.assert_array_equal(got, want)
        assert (csv.loc[pq[c].isna().to_numpy(), c] == "").all()
    assert csv["suggested_rate"].str.len().max() <= 12  # 0.0435 + rounded PD, not 0.051500000000000004
    err = pq["status"].eq("error").to_numpy()
    assert csv.loc[err, "error"].eq('column "x1": expected a number, got "a,b"').all()  # commas and quotes survive
    assert csv.loc[~err, "error"].eq("").all() and csv.loc[err, "score"].eq("").all()
    assert csv.loc[~err, "score"].astype(int).tolist() == pq.loc[~err, "score"].astype(int).tolist()
    assert csv["reason_2"][~err].eq("工商处罚_n").all()
    assert paths["sidecar"].exists()


def test_writer_refuses_columns_out_of_order(tmp_path):
    c = _chunk(5, 3)
    with pytest.raises(ValueError, match="contract order"):
        DeliverableWriter(tmp_path / "o.parquet").append(c[DELIVERABLE_COLUMNS[::-1]])


def test_a_scored_row_without_a_rate_says_why():
    """Pricing refuses a row (unknown collateral, negative amount, in default): the row stays scored (status ok)
    and its error says why it has no rate (it was empty: bank reviewer's finding); unscored rows keep their error."""
    from creditmodel import pricing

    scored = pd.DataFrame({"score": pd.array([610, 580, 300, pd.NA, 640], dtype="Int64"),
                           "grade": ["4", "5", "D", None, "3"], "pd_12m": [0.02, 0.03, 1.0, np.nan, 0.015],
                           "reason_1": None, "reason_2": None, "reason_3": None, "model_name": "m",
                           "model_version": "1", "status": ["ok", "ok", "ok", "error", "ok"],
                           "error": [None, None, None, 'column "x1": expected a number', None]})
    inputs = pd.DataFrame({"uscc": [f"91330205MA{i:08d}" for i in range(5)],
                           "collateral": ["none", "gold", "none", "none", "none"],
                           "amount": [1e5, 1e5, 1e5, 1e5, -5.0]})
    priced = pricing.price_frame(pd.concat([scored[["pd_12m", "status", "error"]],
                                            inputs[["collateral", "amount"]]], axis=1), pricing.load_config(None))
    out = assemble(scored, inputs, "ab" * 32, pd.Timestamp("2026-12-04", tz="UTC"), pricing=priced)
    assert out["status"].tolist() == ["ok", "ok", "ok", "error", "ok"]
    assert pd.isna(out.loc[0, "error"]) and out.loc[0, "suggested_rate"] > 0
    assert out.loc[1, "error"] == "not priced: unknown collateral gold" and pd.isna(out.loc[1, "suggested_rate"])
    assert out.loc[2, "error"].startswith("not priced: in default")
    assert out.loc[3, "error"] == 'column "x1": expected a number'
    assert out.loc[4, "error"] == "not priced: negative amount"
    assert out["suggested_rate"].isna().tolist() == [False, True, True, True, True]


def test_public_credit_values_outside_a_to_d_are_left_empty_with_the_reason():
    """A contract auditor's finding: a bank's input column public_credit_grade = 'E' (or supervision_class 'AA')
    went into the deliverable as given, outside the documented A-D. Chinese grades and case or spaces are read;
    other values are left empty and the row's error says so (its score stands); a pricing note is kept."""
    n = 6
    scored = pd.DataFrame({"score": pd.array([610] * n, dtype="Int64"), "grade": ["4"] * n, "pd_12m": [0.02] * n,
                           "reason_1": None, "reason_2": None, "reason_3": None, "model_name": "m",
                           "model_version": "1", "status": "ok", "error": [None] * 5 + ["not priced: x"]})
    inputs = pd.DataFrame({"uscc": [f"91330205MA{i:08d}" for i in range(n)],
                           "public_credit_grade": ["A", " b ", "良", "E", None, "E"],
                           "supervision_class": ["A", "d", "", "C", "AA", "B"]})
    out = assemble(scored, inputs, "ab" * 32, pd.Timestamp("2026-12-04", tz="UTC"))
    assert out["public_credit_grade"].tolist()[:3] == ["A", "B", "B"] and out["public_credit_grade"][3:].isna().all()
    assert out["supervision_class"].fillna("-").tolist() == ["A", "D", "-", "C", "-", "B"]
    assert out["status"].eq("ok").all() and out["score"].eq(610).all()
    assert out["error"][:3].isna().all()
    assert out.loc[3, "error"] == "public_credit_grade 'E' is not one of A, B, C, D (优/良/中/差): left empty"
    assert out.loc[4, "error"] == "supervision_class 'AA' is not one of A, B, C, D: left empty"
    assert out.loc[5, "error"].startswith("not priced: x; public_credit_grade 'E'")


def test_public_credit_values_read_full_width_and_words_and_fall_back_to_the_evaluation():
    """A reviewer's finding: 'Ａ' (full width), 'A级' and 'B类' were refused; an invalid 'E' stayed empty although
    the evaluation had the firm's grade."""
    from creditmodel.delivery import public_credit_values

    got, wrong = public_credit_values(pd.Series(["Ａ", "ｂ", "A级", "B类", "差", "E"]), "public_credit_grade")
    assert got.tolist()[:5] == ["A", "B", "A", "B", "D"] and pd.isna(got.iloc[5])
    assert wrong.tolist() == [False] * 5 + [True]
    n = 2
    scored = pd.DataFrame({"score": pd.array([610] * n, dtype="Int64"), "grade": ["4"] * n, "pd_12m": [0.02] * n,
                           "reason_1": None, "reason_2": None, "reason_3": None, "model_name": "m",
                           "model_version": "1", "status": "ok", "error": [None] * n})
    codes = [f"91330205MA{i:08d}" for i in range(n)]
    inputs = pd.DataFrame({"uscc": codes, "public_credit_grade": ["E", "E"]})
    ev = pd.DataFrame({"uscc": codes[:1], "public_credit_grade": ["B"], "supervision_class": ["A"]})
    out = assemble(scored, inputs, "ab" * 32, pd.Timestamp("2026-12-04", tz="UTC"), evaluation=ev)
    assert out.loc[0, "public_credit_grade"] == "B" and pd.isna(out.loc[0, "error"])
    assert pd.isna(out.loc[1, "public_credit_grade"]) and "'E' is not one of" in out.loc[1, "error"]


def test_the_deliverable_refuses_rows_without_a_firm_or_a_date_and_a_firm_twice():
    """Rows with an empty uscc, an empty as_of_date, an as_of_date after the scoring date, or a second row of one
    enterprise at one date were delivered with status ok and a rate (a new user's finding); across chunks too."""
    from creditmodel.data import uscc as uscc_mod
    from creditmodel.scoring.score import RowChecks

    codes = uscc_mod.generate("330205", 3, np.random.default_rng(1))
    a = pd.DataFrame({"uscc": [codes[0], "", None, codes[1]],
                      "as_of_date": ["2025-12-31", "2025-12-31", "2025-12-31", ""]})
    b = pd.DataFrame({"uscc": [codes[0].lower(), codes[0], codes[2]],
                      "as_of_date": ["2025-12-31", "2024-12-31", "2027-01-01"]})
    checks = RowChecks(None, identifiers=True, deliverable=True, today=pd.Timestamp("2026-12-05 01:00", tz="UTC"))
    m = [*checks.messages(a), *checks.messages(b)]
    assert m[0] is None and m[5] is None                          # the same firm at another date is another row
    assert "column 'uscc': empty" in m[1] and "column 'uscc': empty" in m[2]
    assert "column 'as_of_date': empty" in m[3]
    assert m[4] == (f"enterprise {codes[0].lower()!r} at 2025-12-31 is already on row 1: the deliverable holds one "
                    "row per enterprise and date")
    assert m[6] == ("column 'as_of_date': 2027-01-01 is after the scoring date 2026-12-05 (the features cannot be "
                    "known yet)")
    # a Beijing nightly batch at 01:00 local (17:00 UTC the day before) scores as of its own date
    beijing = RowChecks(None, identifiers=True, deliverable=True,
                        today=pd.Timestamp("2026-12-06 01:00", tz="Asia/Shanghai"))
    assert beijing.messages(pd.DataFrame({"uscc": [codes[0]], "as_of_date": ["2026-12-06"]}))[0] is None
    assert "after the scoring date" in beijing.messages(pd.DataFrame({"uscc": [codes[1]],
                                                                      "as_of_date": ["2026-12-07"]}))[0]
    plain = RowChecks(None, identifiers=True)                      # scoring from a model folder: not a deliverable
    assert all(x is None for x in [*plain.messages(a), *plain.messages(b)])
    # rows named by a loan id are loans: one firm may have two at one date, and a loan may lack a code
    loans = RowChecks("loan_id", identifiers=True, deliverable=True, today=pd.Timestamp("2026-12-05", tz="UTC"))
    c = pd.DataFrame({"loan_id": ["L1", "L2", "L3", "L4"], "uscc": [codes[0], codes[0], None, codes[1]],
                      "as_of_date": ["2025-12-31", "2025-12-31", "2025-12-31", "2027-01-01"]})
    m = loans.messages(c)
    assert m[0] is None and m[1] is None and m[2] is None and "after the scoring date" in m[3]


def test_the_validation_basis_says_what_a_status_rests_on():
    """An analyst's finding: a new champion, never validated out of time, was delivered as "amber" (from its in-time
    promotion check on 147 rows) and its model card pointed at a report that did not exist."""
    from creditmodel.delivery import validation_basis

    assert validation_basis({"validation_basis": "out-of-time validation (notebook 04, as champion): 1,817 loans"}) \
        == "out-of-time validation (notebook 04, as champion): 1,817 loans"
    assert validation_basis({"validation_status": "red", "validation_run_id": "abc"}).startswith("out-of-time")
    assert validation_basis({"validation_status": "amber", "promotion_validation_status": "amber"}) == \
        "in-time promotion check (not validated out of time)"
    assert validation_basis({}) == ""


def test_a_utc_offset_keeps_the_local_date_as_text_and_as_a_time_zone_column():
    """2025-12-31 00:00:00+08:00 (Beijing) was delivered as 2025-12-31 from a Parquet time-zone column and as
    2025-12-30 from the same text in a CSV (converted to UTC first); both now keep the local calendar date."""
    from creditmodel.delivery import parse_as_of

    text = pd.Series(["2025-12-31 00:00:00+08:00", "2025-12-31T07:59:59+0800", "2025-12-31T23:30:00-05:00",
                      "2025-12-31T08:00Z", "2025-12-31", "2025-12-31 00:00 bad", None])
    got = parse_as_of(text).dt.normalize()
    assert got.iloc[:5].tolist() == [pd.Timestamp("2025-12-31")] * 5 and got.iloc[5:].isna().all()
    zoned = pd.Series(pd.to_datetime(["2025-12-31 00:00:00+08:00", "2025-12-31 07:59:59+08:00"]))
    assert parse_as_of(zoned).dt.normalize().tolist() == got.iloc[:2].tolist()
    # an hour without minutes keeps its offset out too (it stayed zoned: beside plain dates 'Mixed timezones', exit 1)
    assert parse_as_of(pd.Series(["2025-12-31T10+08:00", "2025-12-31"])).tolist() == [
        pd.Timestamp("2025-12-31 10:00"), pd.Timestamp("2025-12-31")]


def test_a_zone_the_pattern_misses_still_gives_naive_local_times(monkeypatch):
    import creditmodel.delivery as D

    monkeypatch.setattr(D, "_UTC_OFFSET", r"(x)(?!x)x")   # the pattern strips nothing: pandas sees the zones
    mixed = D.parse_as_of(pd.Series(["2025-12-31T00:30+08:00", "2025-12-31", "soon"]))
    assert mixed.dt.tz is None and mixed.tolist()[:2] == [pd.Timestamp("2025-12-31 00:30"), pd.Timestamp("2025-12-31")]
    assert pd.isna(mixed.iloc[2])
    zoned = D.parse_as_of(pd.Series(["2025-12-31T00:30+08:00"]))
    assert zoned.dt.tz is None and zoned.tolist() == [pd.Timestamp("2025-12-31 00:30")]


def _card_model():
    """A fitted-looking model for the card: what model_card reads, no training."""
    from types import SimpleNamespace

    cal = SimpleNamespace(method="platt", method_="platt")
    est = SimpleNamespace(selected_features_=["tax_grade"])
    return SimpleNamespace(
        name="district_scorecard", version="1", kind="scorecard", calibrator=cal, estimator=est,
        input_spec=SimpleNamespace(columns=["tax_grade"]),
        scaling=SimpleNamespace(base_score=600, base_odds=50, pdo=20),
        reason_table=lambda: pd.DataFrame({"code": ["tax_grade"], "text_zh": ["纳税"], "text_en": ["Tax"]}),
        fingerprint=lambda: "abc",
        metadata={"data_description": "loans originated 2021-01-01 .. 2023-12-31: 3,082 development rows with 101 "
                                      "defaults (default rate 3.28%)", "test_auc": 0.7443, "cv_auc": 0.7902,
                  "development_auc": 0.8807, "calibration": "cross-fitted, 4 folds"})


_REGISTRY = {"validation_status": "red", "validation_red_checks": "jeffreys_p, brier_p, csi",
             "validation_basis": "out-of-time validation: 1,825 loans, 157 defaults (2024-01-01 .. 2024-12-31)",
             "validation_oot_auc": 0.83841, "validation_psi": 0.147735, "validation_stability": "red"}
_VALIDATION = {"n": 1825.0, "defaults": 157.0, "default_rate": 157 / 1825, "mean_pd": 0.0699308, "auc": 0.83841,
               "psi": 0.147735, "grade_psi": 0.2016, "csi_max": 0.396, "light_jeffreys_p": "red",
               "light_brier_p": "red", "light_psi": "amber", "light_grade_psi": "amber", "light_csi": "red",
               "light_auc": "green", "source": "validation run r1"}


def test_the_card_says_in_numbers_what_a_red_calibration_and_stability_mean():
    """A credit-risk officer's finding: the card named red checks (jeffreys_p, brier_p, csi) and said nothing of what
    they mean in numbers."""
    from creditmodel.delivery import model_card

    card = model_card(_card_model(), metrics=_REGISTRY, validation=_VALIDATION)
    val = card.split("## Validation")[1].split("## Limits")[0]
    ratio = (157 / 1825) / 0.0699308
    assert "8.60 % of the 1,825 out-of-time loans defaulted against a mean PD of 6.99 %" in val
    assert f"about {ratio:.2f} times too low" in val and "1.23 times too low" in val
    assert "no margin of conservatism" in val and "understate the risk" in val
    assert "PSI 0.148 amber" in val and "grade PSI 0.202 amber" in val and "largest CSI 0.396 red" in val
    assert "review whenever a stability light turns amber or red" in val and "applies now" in val
    # the reference of PSI and CSI is the report's, not the card's development rows (a bank reviewer's finding)
    assert "(Measured against the validation report's reference sample, named there" in val
    # with the run's psi_reference_n, how many rows it had (the validation run did not log it: a bank's finding)
    counted = model_card(_card_model(), metrics=_REGISTRY,
                         validation={**_VALIDATION, "psi_reference_n": 3836.0, "count_unit": "loans"})
    assert "(Measured against the validation report's reference sample of 3,836 loans, named there" in counted
    obligors = model_card(_card_model(), metrics=_REGISTRY,
                          validation={**_VALIDATION, "psi_reference_n": 12.0, "count_unit": "obligors"})
    assert "reference sample of 12 obligors, named there" in obligors
    # the statements are conditional on the lights: green calibration and stability, none of them
    green = {k: ("green" if k.startswith("light_") else v) for k, v in _VALIDATION.items()}
    quiet = model_card(_card_model(), metrics={"validation_status": "green"}, validation=green)
    assert "times too" not in quiet and "applies now" not in quiet
    # PDs too high: said as such
    high = model_card(_card_model(), metrics=_REGISTRY, validation={**_VALIDATION, "default_rate": 0.035})
    assert "times too high" in high and "overstate the risk" in high
    # numbers out of reach: the card says what would be needed
    blind = model_card(_card_model(), metrics=_REGISTRY)
    assert "not reachable from this card's inputs" in blind and "<alias>_default_rate" in blind


def test_validation_numbers_come_from_the_validation_run_or_its_metrics_json(tmp_path):
    import json

    from creditmodel.delivery import validation_numbers

    (tmp_path / "metrics.json").write_text(json.dumps({"n": 1825, "default_rate": 0.086, "mean_pd": 0.07,
                                                       "lights": [{"check": "psi", "light": "amber"}]}))
    got = validation_numbers({"validation_report": str(tmp_path / "report.html")})
    assert got["n"] == 1825 and got["light_psi"] == "amber" and got["source"].endswith("metrics.json")
    reg = validation_numbers({"metric.oot_default_rate": "0.086", "metric.oot_mean_pd": "0.07"})
    assert reg["default_rate"] == 0.086 and "n" not in reg
    assert validation_numbers({}) == {}


def test_the_card_names_the_grades_whose_central_pd_the_validation_rejected(tmp_path):
    """A credit-risk modeller's finding: out of time grade 10 defaulted at 45.70 % against its master-scale central
    PD of 30 %; the report said so, the bank's card did not."""
    import json

    from creditmodel.delivery import model_card, validation_numbers
    from creditmodel.validation.district import flat_metrics

    grades = [{"grade": "10", "n": 151, "defaults": 69, "pd": 0.4206, "default_rate": 69 / 151, "central_pd": 0.30,
               "central_holm_p": 0.000144, "central_light": "red"},
              {"grade": "8", "n": 264, "defaults": 30, "pd": 0.08, "default_rate": 30 / 264, "central_pd": 0.072,
               "central_holm_p": 0.031, "central_light": "amber"},
              {"grade": "3", "n": 300, "defaults": 0, "pd": 0.004, "default_rate": 0.0, "central_pd": 0.0045,
               "central_holm_p": 0.9, "central_light": "green"},
              {"grade": "1", "n": 0, "defaults": 0, "pd": None, "default_rate": None, "central_pd": 0.0003}]
    # the validation run's flat metrics (what the card reads from MLflow) carry each grade's numbers
    flat = flat_metrics({"n": 1825, "grades": grades})
    assert flat["grade_10_central_light"] == 3.0 and flat["grade_8_central_light"] == 2.0
    assert flat["grade_10_central_pd"] == 0.30 and flat["grade_10_n"] == 151 and "grade_1_n" not in flat
    # ... and so does the metrics.json beside the report
    (tmp_path / "metrics.json").write_text(json.dumps({"n": 1825, "default_rate": 0.086, "grades": grades}))
    from_json = validation_numbers({"validation_report": str(tmp_path / "report.html")})
    flat = {k: v for k, v in flat.items() if k.startswith("grade_")}
    assert {k: v for k, v in from_json.items() if k.startswith("grade_")} == flat
    card = model_card(_card_model(), metrics=_REGISTRY, validation={**_VALIDATION, **flat})
    val = card.split("## Validation")[1].split("## Limits")[0]
    line = next(x for x in val.splitlines() if x.startswith("- Grades against the master scale"))
    assert "grade 8: 11.36 % of 264 loans defaulted against its central PD 7.20 % (Holm p 0.031, amber)" in line
    assert "grade 10: 45.70 % of 151 loans defaulted against its central PD 30.00 % (Holm p 0.00014, red)" in line
    assert line.index("grade 8:") < line.index("grade 10:") and "grade 3" not in line
    assert "would understate the risk of grades 8, 10" in line and "overstate" not in line
    # a grade that defaulted below its central PD is said the other way; none rejected, no line
    low = {**flat, "grade_8_default_rate": 0.01}
    line = next(x for x in model_card(_card_model(), metrics=_REGISTRY, validation={**_VALIDATION, **low})
                .splitlines() if x.startswith("- Grades against"))
    assert "understate the risk of grade 10 and overstate the risk of grade 8" in line
    quiet = {k: (1.0 if k.endswith("_central_light") else v) for k, v in flat.items()}
    assert "Grades against the master scale" not in model_card(_card_model(), metrics=_REGISTRY,
                                                               validation={**_VALIDATION, **quiet})


def test_the_card_names_the_inputs_whose_missing_rows_the_validation_found_under_predicted(tmp_path):
    """The validation report's missing-value calibration reaches the bank's card, from the run's flat metrics or the
    metrics.json beside the report."""
    import json

    from creditmodel.delivery import model_card, validation_numbers
    from creditmodel.validation.district import flat_metrics

    rows = [{"feature": "invoice_sales_growth", "n": 141, "defaults": 28, "default_rate": 28 / 141, "mean_pd": 0.108,
             "ratio": 1.84, "present_ratio": 1.21, "relative": 1.52, "holm_p": 0.0049, "light": "red"},
            {"feature": "annual_roa", "n": 63, "defaults": 16, "default_rate": 16 / 63, "mean_pd": 0.136,
             "ratio": 1.86, "present_ratio": 1.23, "relative": 1.51, "holm_p": 0.045, "light": "amber"},
            # worse predicted than the rest, but its PDs still above its default rate: not "riskier than its PD"
            {"feature": "street", "n": 90, "defaults": 3, "default_rate": 3 / 90, "mean_pd": 0.05,
             "ratio": 0.67, "present_ratio": 0.4, "relative": 1.67, "holm_p": 0.02, "light": "amber"},
            {"feature": "tax_grade", "n": 222, "defaults": 31, "default_rate": 31 / 222, "mean_pd": 0.123,
             "ratio": 1.13, "relative": 0.9, "holm_p": 0.9, "light": "green"},
            {"feature": "employees", "n": 64, "defaults": 5, "default_rate": 5 / 64, "mean_pd": 0.039,
             "ratio": 2.0, "relative": 1.6, "holm_p": None, "light": "n/a"},
            {"feature": "bad name!", "n": 64, "defaults": 5, "default_rate": 5 / 64, "mean_pd": 0.039, "light": "red"}]
    flat = {k: v for k, v in flat_metrics({"n": 1825, "missing_values": rows}).items() if k.startswith("missing_")}
    assert flat["missing_invoice_sales_growth_light"] == 3.0 and "missing_employees_light" not in flat
    assert not [k for k in flat if "bad name" in k]                     # MLflow would refuse the key
    (tmp_path / "metrics.json").write_text(json.dumps({"n": 1825, "missing_values": rows}))
    got = validation_numbers({"validation_report": str(tmp_path / "report.html")})
    assert {k: v for k, v in got.items() if k.startswith("missing_")} == flat
    card = model_card(_card_model(), metrics=_REGISTRY, validation={**_VALIDATION, **flat})
    line = next(x for x in card.split("## Validation")[1].splitlines() if x.startswith("- Missing inputs"))
    assert line.index("invoice_sales_growth missing (missing when the previous level is 0): 19.86 % of 141 loans "
                      "defaulted against a mean PD of 10.80 % (red, 1.84x against 1.21x where it is given, Holm p "
                      "0.0049)") < line.index("annual_roa missing")
    assert "tax_grade" not in line and "employees" not in line and "street" not in line
    obligors = model_card(_card_model(), metrics=_REGISTRY,
                          validation={**_VALIDATION, **flat, "count_unit": "obligors"})
    assert "of 141 obligors defaulted" in obligors
    quiet = {k: (1.0 if k.endswith("_light") else v) for k, v in flat.items()}
    assert "- Missing inputs" not in model_card(_card_model(), metrics=_REGISTRY, validation={**_VALIDATION, **quiet})


def test_the_card_states_the_rate_build_up_with_the_configuration_values():
    from creditmodel import pricing
    from creditmodel.delivery import model_card

    cfg = pricing.PricingConfig(funding_cost=0.021, opex=0.009, hurdle_rate=0.13, capital_ratio=0.11, margin=0.002,
                                lpr_1y=0.031, policy_spread=0.005, rate_cap=0.14, rounding=0.001)
    card = model_card(_card_model(), pricing_config=cfg,
                      scoring={"rows_priced": 90, "rows_policy_rate": 7, "rows_over_cap": 3, "rows_with_sales": 80,
                               "rows_sme": 75})
    pr = card.split("## Pricing")[1].split("## Limits")[0]
    assert "funding cost 2.10 % + operating cost 0.90 % + PD x LGD (PD floored at 0.05 %" in pr
    assert "12.5 x K x capital ratio 11.00 % x (hurdle 13.00 % - capital benefit 2.10 %, the funding cost)" in pr
    assert "margin 0.20 %" in pr and "SME firm-size adjustment" in pr and "80 scored rows not in default (those above the rate cap among them) had sales, 75" in pr
    assert "none 40 %" in pr and "property 28 %" in pr and "row without collateral takes none (40 %)" in pr
    assert "policy rate = LPR 3.10 % + spread 0.50 % = 3.60 %" in pr and "multiple of 0.10 %" in pr
    assert "above the cap 14.00 %: 3 rows" in pr and "Of the 90 rows with a suggested rate, 7" in pr
    assert "## Pricing" not in model_card(_card_model())


def test_the_card_puts_the_windows_together_and_names_the_calibration_and_the_rating_philosophy():
    from creditmodel.delivery import model_card

    scoring = {"as_of_min": pd.Timestamp("2025-12-31"), "as_of_max": pd.Timestamp("2025-12-31")}
    card = model_card(_card_model(), metrics=_REGISTRY, validation=_VALIDATION, scoring=scoring)
    data = card.split("## Data")[1].split("## Features")[0]
    assert ("development originations 2021-01-01 .. 2023-12-31; out-of-time validation originations 2024-01-01 .. "
            "2024-12-31; this deliverable scored as of 2025-12-31, 12 months (365 days) after the last validated "
            "origination (2024-12-31)") in data
    assert "out-of-time AUC 0.8384 is above the held-out test 0.7443 and cross-validated 0.7902" in data
    assert "riskier" in data and "no sign that the model ranks better" in data
    # one percent format in the card: the model's description of an older model says "3.28%"
    assert "(default rate 8.60 % against 3.28 % in development)" in data
    below = model_card(_card_model(), metrics={**_REGISTRY, "validation_oot_auc": 0.70},
                       validation={**_VALIDATION, "auc": 0.70})
    assert "no sign that the model ranks better" not in below
    model = card.split("## Model\n")[1].split("## Data")[0]
    assert "- Calibration: Platt scaling (logistic) on cross-fitted scores (4 folds" in model
    assert "PDCalibrator" not in model
    limits = card.split("## Limits")[1]
    assert "point-in-time" in limits and "development window (3.28 %)" in limits and "no central tendency" in limits
    assert "long-run averages only if" not in limits
    assert "a stability light is amber or red now" in limits


def _points_card_model(top: int = 30):
    """_card_model with a two-feature points table (scores 0 + 0 .. 40 + top points), a Platt-like calibrator of
    the points (PD 0.094 % at 69 points, about) and the default master scale."""
    from types import SimpleNamespace

    from creditmodel.scoring.master_scale import MasterScale

    m = _card_model()
    m.estimator = SimpleNamespace(selected_features_=["tax_grade"], points_table_=pd.DataFrame(
        {"feature": ["tax_grade"] * 3 + ["employees"] * 2, "points": [0, 25, 40, 0, top]}))
    m.calibrator = SimpleNamespace(method="platt", method_="platt",
                                   predict=lambda s: 1 / (1 + np.exp(-(3.5 - 0.1496 * np.asarray(s, dtype=float)))))
    m.master_scale = MasterScale()
    return m


def test_the_card_says_which_scores_pds_and_grades_a_scorecard_can_give():
    """A credit-risk validator's finding: the champion's best possible score (699 points: each feature's highest
    points summed) maps to PD 0.094 %, grade 2, so grade 1 of the master scale can never be given, and the card did
    not say so; nor did it give the worst possible score."""
    from creditmodel.delivery import model_card, score_range

    m = _points_card_model()
    rng = score_range(m)
    p = 1 / (1 + np.exp(-(3.5 - 0.1496 * np.array([0.0, 70.0]))))
    assert (rng["score_min"], rng["score_max"]) == (0, 70) and rng["pd_at_max"] == pytest.approx(p[1])
    assert rng["grade_at_max"] == rng["best_grade"] == "2" and rng["out_of_reach"] == ["1"]
    card = model_card(m)
    model = card.split("## Model\n")[1].split("## Data")[0]
    line = [ln for ln in model.splitlines() if ln.startswith("- Score range:")][0]
    assert "0 .. 70 points" in line and f"PD {100 * p[0]:.2f} % (grade 10) .. {100 * p[1]:.3f} % (grade 2)" in line
    assert "best grade this model can give is 2" in line and "grade 1 (PD 0.050 % .. 0.080 %)" in line
    assert "Out of reach by construction" in line
    assert "Grade 1 of the master scale cannot be given by this scorecard" in card.split("## Limits")[1]
    # a card whose best score reaches grade 1: no grade out of reach, no Limits line
    low = model_card(_points_card_model(top=40))
    assert "every grade of the master scale is reachable" in low and "cannot be given" not in low
    # LightGBM (or a model without a points table): nothing said of a range
    gbm = _points_card_model()
    gbm.kind = "lightgbm"
    assert "Score range" not in model_card(gbm) and score_range(gbm) is None
    assert "Score range" not in model_card(_card_model())


def test_the_card_says_no_reject_inference_was_done():
    """A validator's finding: the model was developed on granted loans only and the card did not say that PDs of
    applicants unlike past borrowers are extrapolated."""
    from creditmodel.delivery import model_card

    limits = model_card(_card_model()).split("## Limits")[1]
    assert "- No reject inference: the model was developed on granted loans only" in limits
    assert "extrapolation" in limits and "declined applications" in limits


def test_the_card_counts_the_scored_firms_outside_the_development_population(tmp_path):
    """A validator's finding: of the 2,925 scored firms not in default, 299 never borrowed (no loan in the loans
    table) and the card did not say so. Given the loans table, the deliverable counts the rows (out of default) of
    firms with no loan in the development window and with none at all."""
    from types import SimpleNamespace

    from creditmodel.delivery import Delivery, development_borrowers

    model = _card_model()
    model.metadata["last_development_origination"] = "2023-12-31"
    firms = [f"91330205MA{i:08d}" for i in range(6)]
    loans = pd.DataFrame({"uscc": [firms[0], f" {firms[1]} ", firms[2], firms[2]],
                          "origination_date": ["2021-03-01", "2023-12-31T10:00+08:00", "2024-06-01", "2025-01-01"]})
    got = development_borrowers(loans, model)
    assert sorted(got["any"]) == firms[:3] and sorted(got["development"]) == firms[:2]
    assert got["development_window"] == "2021-01-01 .. 2023-12-31" and got["loans_window"] == "2021-03-01 .. 2025-01-01"
    data = tmp_path / "in.parquet"
    inputs = pd.DataFrame({"uscc": firms, "as_of_date": pd.Timestamp("2025-12-31")})
    inputs.to_parquet(data)
    resolved = SimpleNamespace(model=model, version="1", metadata={}, registered_name="m", alias="champion")
    d = Delivery(resolved, data, tmp_path / "out.parquet", loans=loans)
    scored = pd.DataFrame({"score": pd.array([610, 580, 600, 300, 640, pd.NA], dtype="Int64"),
                           "grade": ["4", "5", "4", "D", "3", None], "pd_12m": [0.02, 0.03, 0.02, 1.0, 0.015, np.nan],
                           "reason_1": None, "reason_2": None, "reason_3": None, "model_name": "m",
                           "model_version": "1", "status": ["ok"] * 5 + ["error"],
                           "error": [None] * 5 + ['column "x1": expected a number']})
    d.add(scored, inputs)
    # rows out of default and scored: firms 0, 1 (development loans), 2 (a loan after it), 4 (no loan)
    assert d.outside == {"rows_not_in_default": 4, "rows_no_loan": 1, "rows_no_development_loan": 2}
    card = d.finish().files["model_card"].read_text(encoding="utf-8")
    limits = card.split("## Limits")[1]
    assert ("- Scored outside the development population: of the 4 scored rows not in default, 2 (50.00 %) are "
            "enterprises with no loan originated in the development window (2021-01-01 .. 2023-12-31), of which 1 "
            "(25.00 % of the 4) have no loan in the loans data (originations 2021-03-01 .. 2025-01-01) at all "
            "(never borrowed)") in limits
    # without the loans table the card does not count them
    plain = Delivery(resolved, data, tmp_path / "out2.parquet")
    plain.add(scored, inputs)
    assert "Scored outside" not in plain.finish().files["model_card"].read_text(encoding="utf-8")


def test_the_card_names_the_points_model_and_a_penalty_at_the_grid_s_edge():
    """A validator's finding: the card said "WoE logistic scorecard" of a card with one fitted log-odds value per
    bin (its coefficient column derived), chosen at the strongest penalty of its grid without a word."""
    from creditmodel.delivery import model_card

    m = _card_model()
    m.estimator.points_model_, m.estimator.points_C_, m.estimator.cv = "monotone", 0.1, 5
    m.estimator.points_cv_ = pd.DataFrame({"model": ["woe", "monotone", "monotone"], "C": [1.0, 0.3, 0.1],
                                           "cv_auc": [0.7612, 0.7787, 0.7923]})
    kind = model_card(m).split("- Kind: ")[1].split("\n")[0]
    assert kind.startswith("scorecard on WoE bins (champion design) with one log-odds value per bin")
    assert "(L2 penalty C = 0.1)" in kind and "not a fitted parameter" in kind
    assert "5-fold cross-validated AUC among woe C = 1: 0.7612; monotone C = 0.3: 0.7787; monotone C = 0.1: 0.7923" \
        in kind and "grid's strongest penalty" in kind
    m.estimator.points_C_ = 0.3   # chosen inside the grid: no edge note
    assert "strongest penalty" not in model_card(m)
    m.estimator.points_model_, m.estimator.points_C_, m.estimator.points_cv_ = "woe", 1.0, None
    assert "- Kind: WoE logistic scorecard (champion design), one coefficient per feature (L2 penalty C = 1)" \
        in model_card(m)
