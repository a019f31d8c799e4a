"""Tests of creditmodel.pricing, .pricing_churn and .pricing_allocation.

IRB values are checked against DOMAIN.md B1 (published / independently computed) and against an
independent scalar implementation written here with scipy.stats.norm.
"""
from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_in_process import run_cli
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from creditmodel import pricing as P
from creditmodel import pricing_allocation as A
from creditmodel import pricing_churn as C
from creditmodel.errors import ConfigError, InputError
from creditmodel.reference import PROJECT_ROOT

CUMCM = PROJECT_ROOT.parent / "shared" / "data" / "cumcm2020c_sme_credit"
needs_cumcm = pytest.mark.skipif(not (CUMCM / "attachment3_rate_vs_churn.csv").is_file(),
                                 reason=f"CUMCM 2020 C data not found in {CUMCM}")


# ----------------------------------------------------------------------------- independent IRB
def irb_k_reference(pd_, lgd, m=2.5, sales=None, floor=0.0005, scaling=1.0):
    """Scalar Basel corporate K, written from DOMAIN.md B1 with scipy.stats.norm."""
    if pd_ == 1.0:
        return 0.0
    p = max(pd_, floor)
    w = (1 - math.exp(-50 * p)) / (1 - math.exp(-50))
    r = 0.12 * w + 0.24 * (1 - w)
    if sales is not None and sales < 50:
        s = min(max(sales, 5.0), 50.0)
        r -= 0.04 * (1 - (s - 5) / 45)
    b = (0.11852 - 0.05478 * math.log(p)) ** 2
    n = norm.cdf(norm.ppf(p) / math.sqrt(1 - r) + math.sqrt(r / (1 - r)) * norm.ppf(0.999))
    return (lgd * n - p * lgd) * (1 + (m - 2.5) * b) / (1 - 1.5 * b) * scaling


@pytest.mark.parametrize("pd_,rw", [(0.0005, 0.175), (0.0025, 0.440), (0.005, 0.619), (0.01, 0.821),
                                    (0.02, 1.021), (0.05, 1.332), (0.10, 1.716), (0.20, 2.118)])
def test_basel3_risk_weights_match_domain_b1(pd_, rw):
    assert P.risk_weight(pd_, 0.40) == pytest.approx(rw, abs=0.0006)


def test_domain_b1_worked_checks():
    assert P.irb_capital(0.01, 0.40) == pytest.approx(0.0656, abs=0.0001)
    assert P.risk_weight(0.01, 0.40, sales_eur_m=5) == pytest.approx(0.644, abs=0.0006)
    assert P.risk_weight(0.01, 0.40, sales_eur_m=2) == pytest.approx(0.644, abs=0.0006)
    rw2 = P.risk_weight(0.01, 0.45, framework="basel2")
    assert rw2 / 1.06 == pytest.approx(0.923, abs=0.0006)
    assert rw2 == pytest.approx(0.979, abs=0.0006)


#: Basel II Annex 5, "Illustrative IRB risk weights for UL", other retail exposures at LGD 45 % (no 1.06 factor)
ANNEX5_OTHER_RETAIL = [(0.0003, 0.0445), (0.0005, 0.0663), (0.001, 0.1116), (0.0025, 0.2115), (0.004, 0.2842),
                       (0.005, 0.3236), (0.0075, 0.4010), (0.01, 0.4577), (0.013, 0.5080), (0.015, 0.5337),
                       (0.02, 0.5799), (0.025, 0.6090)]


@pytest.mark.parametrize("pd_,rw", ANNEX5_OTHER_RETAIL)
def test_other_retail_risk_weights_match_basel_annex_5(pd_, rw):
    """helper-106: small-business loans under EUR 1 m a bank manages as a pool are retail exposures; the option
    ``asset_class="retail"`` applies Basel's other-retail function. Basel II's PD floor (0.03 %) for the first row."""
    assert P.risk_weight(pd_, 0.45, framework="basel2", asset_class="retail") / 1.06 == pytest.approx(rw, abs=6e-5)
    if pd_ >= 0.0005:
        assert P.risk_weight(pd_, 0.45, asset_class="retail") == pytest.approx(rw, abs=6e-5)


def test_retail_has_no_maturity_or_size_adjustment_and_is_chosen_in_the_configuration():
    base = P.irb_capital(0.02, 0.4, asset_class="retail")
    assert P.irb_capital(0.02, 0.4, maturity=5.0, sales_eur_m=5.0, asset_class="retail") == base
    assert P.irb_capital(1.0, 0.4, el_best_estimate=0.3, asset_class="retail") == pytest.approx(0.1)   # defaulted
    with pytest.raises(P.DomainError, match="asset_class"):
        P.irb_capital(0.02, 0.4, asset_class="sme")
    with pytest.raises(ConfigError) as e:
        P.PricingConfig(asset_class="SME")
    assert e.value.column == "asset_class"
    scored = pd.DataFrame({"pd_12m": [0.01, 0.01], "collateral": ["none", "none"], "lgd": [np.nan, 0.2],
                           "sales_eur_m": [2.0, 2.0]})
    retail = P.price_frame(scored, P.PricingConfig(asset_class="retail"))
    assert retail["risk_weight"].iloc[0] == pytest.approx(12.5 * P.irb_capital(0.01, 0.40, asset_class="retail"))
    assert retail["lgd"].tolist() == [0.40, 0.30]          # a bank's own unsecured LGD floored at retail's 30 %
    corporate = P.price_frame(scored, P.PricingConfig())
    assert corporate["lgd"].tolist() == [0.40, 0.25]
    assert (retail["risk_based_floor"] < corporate["risk_based_floor"]).all()
    from creditmodel import pricing_plots as PP
    assert "other retail risk weights" in PP.pricing_assumptions_markdown(P.PricingConfig(asset_class="retail"))


def test_irb_matches_independent_implementation_on_a_grid():
    pds = [0.0, 0.0001, 0.0003, 0.0004, 0.0005, 0.003, 0.02, 0.15, 0.6, 0.999, 1.0]
    lgds = [0.0, 0.25, 0.45, 1.0]
    mats = [1.0, 2.5, 3.7, 5.0]
    sales = [None, 0.0, 5.0, 12.5, 49.9, 50.0, 300.0]
    for fw, (floor, scaling) in {"basel3": (0.0005, 1.0), "basel2": (0.0003, 1.06)}.items():
        for s in sales:
            grid = np.array(list(itertools.product(pds, lgds, mats)))
            got = P.irb_capital(grid[:, 0], grid[:, 1], grid[:, 2], None if s is None else s, framework=fw)
            want = [irb_k_reference(p, lg, m, s, floor, scaling) for p, lg, m in grid]
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_pd_floor_and_default():
    # at and below the floor the requirement is the floor's
    assert P.irb_capital(0.0, 0.4) == P.irb_capital(0.0005, 0.4) == P.irb_capital(0.0002, 0.4)
    assert P.irb_capital(0.0006, 0.4) > P.irb_capital(0.0005, 0.4)
    assert P.irb_capital(0.0003, 0.4, framework="basel2") == P.irb_capital(0.0001, 0.4, framework="basel2")
    assert P.irb_capital(0.0004, 0.4, framework="basel2") > P.irb_capital(0.0003, 0.4, framework="basel2")
    # defaulted: K = max(0, LGD - EL best estimate), best estimate = LGD by default
    assert P.irb_capital(1.0, 0.4) == 0.0
    assert P.irb_capital(1.0, 0.4, el_best_estimate=0.3) == pytest.approx(0.1)
    assert P.irb_capital(1.0, 0.4, el_best_estimate=0.5) == 0.0
    assert P.irb_capital(1.0, 0.4, el_best_estimate=0.3, framework="basel2") == pytest.approx(0.106)


def test_maturity_and_size_adjustments():
    k1, k25, k5 = (P.irb_capital(0.02, 0.4, m) for m in (1.0, 2.5, 5.0))
    assert k1 < k25 < k5
    assert k1 == pytest.approx(irb_k_reference(0.02, 0.4, 1.0), rel=1e-12)
    assert k5 == pytest.approx(irb_k_reference(0.02, 0.4, 5.0), rel=1e-12)
    big = P.irb_capital(0.02, 0.4)
    assert P.irb_capital(0.02, 0.4, sales_eur_m=50) == big
    assert P.irb_capital(0.02, 0.4, sales_eur_m=np.inf) == big
    assert P.irb_capital(0.02, 0.4, sales_eur_m=0) == P.irb_capital(0.02, 0.4, sales_eur_m=5) < big
    s = np.array([5, 10, 20, 30, 49.9])
    assert np.all(np.diff(P.irb_capital(0.02, 0.4, sales_eur_m=s)) > 0)


def test_vectorised_shapes():
    assert np.ndim(P.irb_capital(0.01, 0.4)) == 0
    out = P.irb_capital(np.array([[0.01], [0.02], [0.05]]), np.array([0.2, 0.3, 0.4, 0.45]))
    assert out.shape == (3, 4)
    assert out[1, 2] == pytest.approx(irb_k_reference(0.02, 0.4), rel=1e-12)
    assert P.risk_weight([0.01, 0.02], 0.4, maturity=[1, 5]).shape == (2,)
    assert P.expected_loss([0.01, 0.02], [0.4, 0.5]) == pytest.approx([0.004, 0.01])
    br = P.risk_based_rate(np.full((2, 3), 0.01), 0.4, funding_cost=0.018, opex=0.008, hurdle_rate=0.12)
    assert br.rate.shape == (2, 3) and br.to_frame().shape[0] == 6


@pytest.mark.parametrize("kwargs,name", [
    ({"pd": -0.01}, "pd"), ({"pd": 1.01}, "pd"), ({"pd": np.nan}, "pd"), ({"pd": [0.01, np.nan]}, "pd"),
    ({"lgd": -0.1}, "lgd"), ({"lgd": 1.2}, "lgd"), ({"lgd": np.nan}, "lgd"),
    ({"maturity": 0.5}, "maturity"), ({"maturity": 5.5}, "maturity"),
    ({"sales_eur_m": -1.0}, "sales_eur_m"), ({"sales_eur_m": np.nan}, "sales_eur_m"),
    ({"framework": "basel4"}, "framework"), ({"pd": "high"}, "pd"),
])
def test_domain_errors_name_the_argument(kwargs, name):
    args = {"pd": 0.01, "lgd": 0.4} | kwargs
    with pytest.raises(P.DomainError, match=rf"\b{name}\b") as e:
        P.irb_capital(**args)
    assert isinstance(e.value, ValueError) and isinstance(e.value, InputError)


def test_risk_based_rate_reproduces_domain_b2_example():
    br = P.risk_based_rate(0.01, 0.40, funding_cost=0.018, opex=0.008, hurdle_rate=0.12, capital_ratio=0.105)
    k = irb_k_reference(0.01, 0.40)
    assert br.capital == pytest.approx(12.5 * k * 0.105, rel=1e-12)
    assert br.capital == pytest.approx(0.086, abs=0.0005)
    assert br.capital_charge == pytest.approx(0.0103, abs=0.0001)
    assert br.expected_loss == pytest.approx(0.004)
    assert br.rate == pytest.approx(0.040, abs=0.0005)
    assert br.rate == pytest.approx(br.funding + br.opex + br.expected_loss + br.capital_charge + br.margin)
    # K held directly, capital earning the funding rate, a margin
    br2 = P.risk_based_rate(0.01, 0.40, funding_cost=0.018, opex=0.008, hurdle_rate=0.12,
                            capital_benefit_rate=0.018, margin=0.005)
    assert br2.capital == pytest.approx(k, rel=1e-12)
    assert br2.capital_charge == pytest.approx(k * (0.12 - 0.018), rel=1e-12)
    assert br2.rate == pytest.approx(0.018 + 0.008 + 0.004 + k * 0.102 + 0.005, rel=1e-12)
    with pytest.raises(P.DomainError, match="hurdle_rate"):
        P.risk_based_rate(0.01, 0.4, funding_cost=0.018, opex=0.008, hurdle_rate=-0.1)


def test_capital_earns_the_funding_cost_by_default():
    """helper-106's finding: with capital_benefit_rate 0 the capital's share of the loan paid the FTP and the hurdle
    both (DOMAIN B2's formula subtracts the "funding benefit of capital"; only its example leaves it out). By default
    the capital earns the funding cost, and follows it; 0 still reproduces the example."""
    scored = pd.DataFrame({"pd_12m": [0.01], "collateral": ["none"], "sales_eur_m": [np.inf]})
    k = irb_k_reference(0.01, 0.40)
    for fc in (0.018, 0.025):
        cfg = P.PricingConfig(funding_cost=fc)
        assert cfg.capital_benefit == fc and cfg.capital_benefit_rate is None
        row = P.price_frame(scored, cfg).iloc[0]
        assert row["capital_charge_rate"] == pytest.approx(12.5 * k * 0.105 * (0.12 - fc), rel=1e-12)
        assert row["risk_based_floor"] == pytest.approx(fc + 0.008 + 0.004 + 12.5 * k * 0.105 * (0.12 - fc), rel=1e-12)
    example = P.price_frame(scored, P.PricingConfig(capital_benefit_rate=0.0)).iloc[0]
    assert example["risk_based_floor"] == pytest.approx(0.040, abs=0.0005)          # DOMAIN B2's ~4.0 %
    assert P.price_frame(scored, P.PricingConfig()).iloc[0]["risk_based_floor"] == pytest.approx(
        example["risk_based_floor"] - 12.5 * k * 0.105 * 0.018, rel=1e-12)         # 15.5 bp less
    # it still may not exceed the hurdle
    with pytest.raises(ConfigError, match="null \\(the funding cost 0.15\\)") as e:
        P.PricingConfig(funding_cost=0.15, hurdle_rate=0.12)
    assert e.value.column == "capital_benefit_rate"
    from creditmodel import pricing_plots as PP
    assert "earning 1.80 % (the funding cost)" in PP.pricing_assumptions_markdown(P.PricingConfig())


# ----------------------------------------------------------------------------- configuration
def test_default_yaml_equals_code_defaults():
    assert P.load_config() == P.PricingConfig()
    assert set(P.PricingConfig().lgd) == {"none", "guarantee", "property", "receivables"}


@pytest.mark.parametrize("text,key", [
    ("hurdle_rate: -0.1", "hurdle_rate"), ("maturity: 7", "maturity"), ("framework: basel9", "framework"),
    ("lgd: {none: 0.4}", "lgd"),
    ("lgd: {none: 1.4, guarantee: 0.3, property: 0.2, receivables: 0.2}", "lgd.none"),
    ("funding_cost: abc", "funding_cost"), ("funding_cost: -0.5", "funding_cost"), ("hurdel_rate: 0.1", "hurdel_rate"),
    ("capital_ratio: 0", "capital_ratio"),
    ("default_collateral: gold", "default_collateral"),
    ("rate_cap: 0.029", "rate_cap"), ("lpr_1y: 0.05\nrate_cap: 0.04", "rate_cap"),  # below the policy rate
    ("lpr_1y: 0.0302\nrate_cap: 0.0303", "rate_cap"),  # below the policy rate rounded up (0.0305)
    # a pricing reviewer's findings: values written in percent, a non-positive policy rate, a negative capital
    # charge, euro per yuan
    ("policy_spread: -0.5", "policy_spread"), ("margin: -0.5", "margin"), ("margin: 1.5", "margin"),
    ("lpr_1y: 0.03\npolicy_spread: -0.03", "policy_spread"),
    ("hurdle_rate: 0.01\ncapital_benefit_rate: 0.05", "capital_benefit_rate"), ("cny_per_eur: 0.125", "cny_per_eur"),
    # a list or a mapping where a name belongs was a bare TypeError (unhashable) for framework
    ("framework: [basel3]", "framework"), ("framework: {basel3: 1}", "framework"),
    ("asset_class: [corporate]", "asset_class"), ("default_collateral: [none]", "default_collateral"),
])
def test_config_errors_name_the_key(tmp_path, text, key):
    f = tmp_path / "p.yaml"
    f.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        P.PricingConfig.from_yaml(f)
    assert e.value.column == key and Path(e.value.file) == f


@pytest.mark.parametrize("text,key,hint", [
    ("opex: 0.8", "opex", "0.8 % is 0.008"), ("rate_cap: 8", "rate_cap", "8 % is 0.08"),
    ("rate_cap: 15", "rate_cap", "15 % is 0.15"), ("lpr_1y: 0.9\nrate_cap: 9", "lpr_1y", "0.9 % is 0.009"),
    ("hurdle_rate: 12", "hurdle_rate", "12 % is 0.12"), ("funding_cost: 1.8", "funding_cost", "1.8 % is 0.018"),
    ("funding_cost: 0.5\nmargin: 0.5", "funding_cost", "0.5 % is 0.005"), ("margin: 0.5", "margin", "0.5 % is 0.005"),
    ("policy_spread: 0.5", "policy_spread", "0.5 % is 0.005"),
    ("capital_benefit_rate: 1.8\nhurdle_rate: 0.12", "capital_benefit_rate", "1.8 % is 0.018"),
    ("capital_ratio: 10.5", "capital_ratio", "10.5 % is 0.105"), ("capital_ratio: 8", "capital_ratio", "8 % is 0.08"),
    ("rounding: 0.05", "rounding", "0.05 % is 0.0005"),
    ("lgd: {none: 40, guarantee: 0.3, property: 0.28, receivables: 0.28}", "lgd.none", "40 % is 0.4"),
    ("opex: 60", "opex", "fractions a year: 0.8 % is 0.008"),   # no percentage that fits: the general hint
])
def test_config_refuses_rates_written_in_percent(tmp_path, text, key, hint):
    """A reviewer's findings: ``opex: 0.8`` (meant 0.8 %) priced 0 of 400 rows with exit 0, ``rate_cap: 8`` was an
    800 % cap, ``lpr_1y: 0.9`` an LPR of 90 %: every rate-like key has bounds no bank's value lies beyond, and the
    error names the key and says that rates are fractions."""
    f = tmp_path / "p.yaml"
    f.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        P.PricingConfig.from_yaml(f)
    assert e.value.column == key and Path(e.value.file) == f
    assert "fraction" in str(e.value) and hint in str(e.value), str(e.value)


def test_config_bounds_keep_every_plausible_value():
    """The bounds themselves are accepted, and so is every value of DOMAIN B2 and a stressed bank's."""
    P.PricingConfig(funding_cost=0.2, opex=0.1, hurdle_rate=0.5, capital_ratio=0.5, capital_benefit_rate=0.2,
                    margin=0.2, lpr_1y=0.2, policy_spread=0.0, rate_cap=1.0, rounding=0.01)
    P.PricingConfig(funding_cost=-0.05, capital_benefit_rate=-0.05, margin=-0.05, lpr_1y=0.06, policy_spread=-0.05)
    P.PricingConfig(funding_cost=0.045, opex=0.03, hurdle_rate=0.25, capital_ratio=0.165, lpr_1y=0.0435,
                    policy_spread=0.015, rate_cap=0.36)
    assert set(P.RATE_BOUNDS) == {"funding_cost", "opex", "hurdle_rate", "capital_ratio", "capital_benefit_rate",
                                  "margin", "lpr_1y", "policy_spread", "rate_cap", "rounding"}
    default = P.PricingConfig()
    for key, (lo, hi) in P.RATE_BOUNDS.items():   # the defaults lie well inside (null benefit: the funding cost)
        assert lo <= (default.capital_benefit if key == "capital_benefit_rate" else getattr(default, key)) <= hi, key


def test_config_warnings_for_legal_but_doubtful_values(caplog):
    with caplog.at_level("WARNING", logger="creditmodel.pricing"):
        P.PricingConfig(capital_ratio=0.001)
    assert "below the Basel minimum total capital ratio of 8 %" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="creditmodel.pricing"):
        P.PricingConfig(framework="basel2")
    assert "Basel II's F-IRB senior unsecured LGD is 45 %" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="creditmodel.pricing"):
        P.PricingConfig()
        P.PricingConfig(framework="basel2", lgd={"none": 0.45, "guarantee": 0.3, "property": 0.379,
                                                 "receivables": 0.37})
    assert caplog.text == ""


def test_expected_loss_uses_the_floored_pd():
    """CRE32.4: the PD floor applies to the expected loss as to the risk weight (PD 0 had EL 0 beside K at 0.05 %)."""
    br = P.risk_based_rate([0.0, 0.0002, 0.01, 1.0], 0.4, funding_cost=0.018, opex=0.008, hurdle_rate=0.12)
    np.testing.assert_allclose(br.expected_loss, [0.0005 * 0.4, 0.0005 * 0.4, 0.01 * 0.4, 0.4], rtol=1e-15)
    b2 = P.risk_based_rate(0.0, 0.45, funding_cost=0.018, opex=0.008, hurdle_rate=0.12, framework="basel2")
    assert float(b2.expected_loss) == pytest.approx(0.0003 * 0.45, rel=1e-15)
    assert float(br.rate[0]) == pytest.approx(0.018 + 0.008 + 0.0002 + float(br.capital_charge[0]), rel=1e-12)


def test_own_lgd_below_the_basel3_input_floor_is_floored(caplog):
    df = pd.DataFrame({"pd_12m": [0.02] * 5, "collateral": ["none", "guarantee", "property", "receivables", "none"],
                       "lgd": [0.05, 0.20, 0.05, 0.15, np.nan]})
    with caplog.at_level("WARNING", logger="creditmodel.pricing"):
        out = P.price_frame(df, P.PricingConfig())
    assert list(out["lgd"]) == [0.25, 0.25, 0.10, 0.15, 0.40]   # the configured LGD of the last row is not floored
    assert "3 row(s) give an lgd below the Basel III LGD input floor" in caplog.text and "first: row 1" in caplog.text
    caplog.clear()
    refused = df.assign(lgd=[-0.2, 0.20, 0.05, 0.15, np.nan], status=["ok", "error", "ok", "ok", "ok"])
    with caplog.at_level("WARNING", logger="creditmodel.pricing"):
        P.price_frame(refused, P.PricingConfig())
    # row 1 is refused (lgd < 0) and row 2 not scored: only row 3 is priced at the floor
    assert "1 row(s) give an lgd below the Basel III LGD input floor" in caplog.text and "first: row 3" in caplog.text
    assert out.loc[0, "expected_loss_rate"] == pytest.approx(0.02 * 0.25)
    b2 = P.price_frame(df, P.PricingConfig(framework="basel2", lgd={"none": 0.45, "guarantee": 0.3,
                                                                    "property": 0.379, "receivables": 0.37}))
    assert list(b2["lgd"]) == [0.05, 0.20, 0.05, 0.15, 0.45]     # Basel II has no LGD input floors


def test_a_partly_secured_loan_s_own_lgd_floor_blends_the_unsecured_and_secured_floors():
    """CRE32.17 (CRE32.59 for other retail): the 10 % floor of property or receivables holds for a fully secured loan;
    a partly secured one's is the average of the unsecured and secured floors weighted by the secured share E_S / E.
    A property loan half secured was floored at 10 % instead of 17.5 %."""
    df = pd.DataFrame({"pd_12m": [0.02] * 8,
                       "collateral": ["property", "receivables", "property", "property", "none", "guarantee",
                                      "property", "property"],
                       "lgd": [0.05, 0.05, 0.05, 0.05, 0.05, 0.05, np.nan, 0.05],
                       "secured_share": [0.5, 0.2, None, 0.0, 0.5, 0.5, "n/a", 1.5]})
    out = P.price_frame(df, P.PricingConfig())
    np.testing.assert_allclose(out["lgd"].iloc[:6], [0.175, 0.22, 0.10, 0.25, 0.25, 0.25], rtol=1e-12)
    assert out.loc[6, "lgd"] == 0.28 and pd.isna(out.loc[6, "pricing_reason"])   # no own LGD: the share is not read
    assert out.loc[7, "pricing_reason"] == "secured_share outside [0, 1]"
    retail = P.price_frame(df.iloc[:1], P.PricingConfig(asset_class="retail"))
    assert retail.loc[0, "lgd"] == pytest.approx(0.30 * 0.5 + 0.10 * 0.5)
    assert P.price_frame(df.iloc[:1], P.PricingConfig(framework="basel2", lgd={
        "none": 0.45, "guarantee": 0.3, "property": 0.379, "receivables": 0.37})).loc[0, "lgd"] == 0.05
    np.testing.assert_allclose(P.lgd_input_floor(["property", "none"], [0.25, np.nan]), [0.2125, 0.25])


def test_zero_sales_takes_the_largest_sme_adjustment_with_a_warning(caplog):
    df = pd.DataFrame({"pd_12m": [0.02, 0.02, 0.02], "revenue": [0.0, np.nan, 40e6]})
    with caplog.at_level("WARNING", logger="creditmodel.pricing"):
        out = P.price_frame(df, P.PricingConfig())
    assert "1 row(s) with sales or revenue 0 take the largest SME firm-size adjustment" in caplog.text
    assert "first: row 1" in caplog.text
    assert out.loc[0, "capital_rate"] == pytest.approx(out.loc[2, "capital_rate"], rel=1e-12)   # both at EUR 5 m
    assert out.loc[1, "capital_rate"] > out.loc[0, "capital_rate"]


def test_infinite_amount_is_not_priced():
    df = _scored().head(2).assign(status="ok", pd_12m=0.02, amount=[np.inf, 5e5])
    out = P.price_frame(df, P.PricingConfig())
    assert "not a finite number" in out.loc[0, "pricing_reason"] and np.isnan(out.loc[0, "expected_loss_amount"])
    assert pd.isna(out.loc[1, "pricing_reason"]) and np.isfinite(out.loc[1, "expected_loss_amount"])


def test_true_false_dates_and_infinite_sales_are_not_priced_and_a_hand_written_ok_is(tmp_path):
    """A reviewer's findings on `creditmodel price`: a boolean pd_12m column read True as PD 1 (in default) and False
    as PD 0 (priced at the policy rate); a date as its nanoseconds ("outside [0, 1]"); status "OK" or " ok" was
    "not scored"."""
    flags = P.price_frame(pd.DataFrame({"pd_12m": [True, False]}))
    assert flags["pricing_reason"].tolist() == ["non-numeric pd_12m"] * 2 and flags["suggested_rate"].isna().all()
    dates = P.price_frame(pd.DataFrame({"pd_12m": pd.to_datetime(["2025-01-01", None])}))
    assert dates["pricing_reason"].tolist() == ["non-numeric pd_12m", "missing pd_12m"]
    mixed = P.price_frame(pd.DataFrame({"pd_12m": pd.Series([0.02, True, pd.Timestamp("2025-01-01")], dtype=object)}))
    assert mixed["pricing_reason"].tolist()[1:] == ["non-numeric pd_12m"] * 2
    assert pd.isna(mixed.loc[0, "pricing_reason"])
    # +inf sales is a firm above any size threshold (the grid's "no SME adjustment"); -inf is refused
    sales = P.price_frame(pd.DataFrame({"pd_12m": 0.02, "sales_eur_m": [np.inf, 3.0, np.nan],
                                        "revenue": [np.nan, np.nan, -np.inf]}))
    assert sales["pricing_reason"].isna().tolist() == [True, True, False]
    assert sales.loc[2, "pricing_reason"] == "negative sales or revenue"
    assert sales.loc[0, "capital_rate"] > sales.loc[1, "capital_rate"]
    status = P.price_frame(pd.DataFrame({"pd_12m": 0.02, "status": ["OK", " ok", "error", "ok "]}))
    assert status["suggested_rate"].notna().tolist() == [True, True, False, True]
    src = tmp_path / "scores.csv"
    pd.DataFrame({"pd_12m": [0.02, 0.02], "status": [" ok", "OK"], "error": ["", ""]}).to_csv(src, index=False)
    priced = P.price_file(src, None, tmp_path / "priced.csv").frame
    assert priced["suggested_rate"].notna().all() and priced["error"].isna().all()


def test_a_scores_file_without_pd_12m_names_its_columns_and_a_semicolon_header(tmp_path):
    """A ';'-separated scores file was read as one column and refused with "no pd_12m column" alone."""
    semi = tmp_path / "semi.csv"
    semi.write_text("uscc;pd_12m\nA;0.02\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        P.price_file(semi, None, tmp_path / "out.csv")
    assert "'uscc;pd_12m'" in str(e.value) and "';'- or tab-separated" in str(e.value) and str(semi) in str(e.value)
    other = tmp_path / "other.csv"
    other.write_text("uscc,pd\nA,0.02\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        P.price_file(other, None, tmp_path / "out.csv")
    assert "the file's columns: 'uscc', 'pd'" in str(e.value) and "separated" not in str(e.value)


def test_partial_config_overrides_defaults(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("hurdle_rate: 0.15\ncapital_ratio: null\n", encoding="utf-8")
    cfg = P.PricingConfig.from_yaml(f)
    assert cfg.hurdle_rate == 0.15 and cfg.capital_ratio is None
    assert cfg.funding_cost == P.PricingConfig().funding_cost


# ----------------------------------------------------------------------------- frames and files
def _scored() -> pd.DataFrame:
    return pd.DataFrame({
        "uscc": [f"U{i}" for i in range(9)],
        "pd_12m": [0.01, np.nan, 1.0, 0.30, 0.0001, 1.5, 0.02, 0.05, 0.03],
        "status": ["ok", "error", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
        "error": [None, "missing feature x", None, None, None, None, None, None, None],
        "collateral": ["none", "property", None, "none", "guarantee", "none", "gold", "receivables", "none"],
        "revenue": [8e7, np.nan, 5e8, np.nan, 1e6, 1.0, 2.0, 3.0, np.nan],
        "lgd": [np.nan] * 8 + [0.6],
        "amount": [5e5] * 9,
    })


def test_price_frame_components_and_reasons():
    cfg = P.PricingConfig()
    out = P.price_frame(_scored(), cfg)
    assert list(out["uscc"]) == [f"U{i}" for i in range(9)]
    priced = out["suggested_rate"].notna()
    assert list(priced) == [True, False, False, False, True, False, False, True, True]
    reasons = out["pricing_reason"]
    assert "missing feature x" in reasons[1] and "default" in reasons[2] and "cap" in reasons[3]
    assert "outside [0, 1]" in reasons[5] and "gold" in reasons[6] and pd.isna(reasons[0])
    # LGD from collateral or the lgd column; SME adjustment from revenue (yuan / 8 per EUR / 1e6)
    assert list(out.loc[[0, 4, 7, 8], "lgd"]) == [0.40, 0.30, 0.28, 0.60]
    k0 = irb_k_reference(0.01, 0.40, 2.5, sales=8e7 / 8.0 / 1e6)
    assert out.loc[0, "capital_rate"] == pytest.approx(12.5 * k0 * 0.105, rel=1e-12)
    assert out.loc[8, "risk_weight"] == pytest.approx(12.5 * irb_k_reference(0.03, 0.6), rel=1e-12)
    ok = out["risk_based_floor"].notna()
    parts = out.loc[ok, ["funding_rate", "opex_rate", "expected_loss_rate", "capital_charge_rate",
                         "margin_rate"]]
    np.testing.assert_allclose(parts.sum(axis=1), out.loc[ok, "risk_based_floor"], rtol=1e-12)
    s, fl = out.loc[priced, "suggested_rate"], out.loc[priced, "risk_based_floor"]
    assert (s >= np.maximum(fl, cfg.policy_rate) - 1e-12).all()
    assert (s < np.maximum(fl, cfg.policy_rate) + cfg.rounding).all()
    np.testing.assert_allclose(s / cfg.rounding, np.round(s / cfg.rounding), atol=1e-9)
    assert out.loc[4, "suggested_rate"] == pytest.approx(cfg.policy_rate)      # floor below the policy rate
    assert out.loc[0, "expected_loss_amount"] == pytest.approx(5e5 * 0.004)
    # the defaulted row keeps its components: EL = LGD, no capital
    assert out.loc[2, "expected_loss_rate"] == pytest.approx(0.4) and out.loc[2, "capital_rate"] == 0.0
    # a sales_eur_m column with blanks: the revenue gives the size there (a bank user's finding: it was ignored)
    both = P.price_frame(_scored().assign(sales_eur_m=[np.nan, np.nan, np.nan, np.nan, np.nan, 1.0, 2.0, 3.0, 4.0]), cfg)
    assert both.loc[0, "capital_rate"] == pytest.approx(out.loc[0, "capital_rate"], rel=1e-12)   # from revenue
    k8 = irb_k_reference(0.03, 0.6, 2.5, sales=4.0)
    assert both.loc[8, "capital_rate"] == pytest.approx(12.5 * k8 * 0.105, rel=1e-12)            # sales_eur_m wins
    # a revenue cell that is not used is not read: a bad one does not stop the pricing of that row (reviewer)
    junk = P.price_frame(_scored().assign(sales_eur_m=[5.0] * 9, revenue=["n/a"] * 9), cfg)
    assert junk.loc[0, "suggested_rate"] == pytest.approx(
        P.price_frame(_scored().assign(sales_eur_m=[5.0] * 9).drop(columns="revenue"), cfg).loc[0, "suggested_rate"])
    assert not junk["pricing_reason"].fillna("").str.contains("revenue").any()
    mixed = P.price_frame(_scored().assign(sales_eur_m=[np.nan] + [5.0] * 8, revenue=["n/a"] * 9), cfg)
    assert mixed.loc[0, "pricing_reason"] == "non-numeric revenue" and pd.isna(mixed.loc[0, "suggested_rate"])


def test_a_row_s_own_maturity_sets_its_capital(caplog):
    """helper-106: the maturity was one value for the whole file (the F-IRB 2.5 years); a one-year loan's capital is
    a fifth lower at PD 1 %. A ``maturity`` column (years) sets it per row, held to Basel's 1-5 years; empty takes the
    configuration's; not a positive number is refused by name; retail risk weights have no maturity term."""
    df = pd.DataFrame({"pd_12m": [0.01] * 7, "maturity": [1.0, None, 7.0, 0.5, "abc", -1.0, np.inf]})
    with caplog.at_level("INFO", logger="creditmodel.pricing"):
        out = P.price_frame(df, P.PricingConfig())
    k = [P.irb_capital(0.01, 0.40, m) for m in (1.0, 2.5, 5.0, 1.0)]
    np.testing.assert_allclose(out["capital_rate"].iloc[:4], [12.5 * x * 0.105 for x in k], rtol=1e-12)
    assert out["capital_rate"].iloc[0] < 0.85 * out["capital_rate"].iloc[1]
    assert list(out["pricing_reason"].iloc[4:]) == ["non-numeric maturity"] + ["maturity not a positive number of "
                                                                              "years"] * 2
    assert any("2 row(s) with a maturity outside 1-5 years" in r.getMessage() for r in caplog.records)
    retail = P.price_frame(df.iloc[:3], P.PricingConfig(asset_class="retail"))
    assert retail["capital_rate"].nunique() == 1


def test_price_frame_keeps_index_and_flags_non_numeric_values():
    df = pd.DataFrame({"pd_12m": ["0.02", "abc", "", 0.01], "lgd": [None, 0.5, None, "x"],
                       "amount": [1e5, 1e5, 1e5, 1e5]}, index=[40, 30, 20, 10])
    before = df.copy()
    out = P.price_frame(df)
    pd.testing.assert_frame_equal(df, before)
    assert list(out.index) == [40, 30, 20, 10]
    assert list(out["pricing_reason"].fillna("")) == ["", "non-numeric pd_12m", "missing pd_12m",
                                                      "non-numeric lgd"]
    assert out.loc[40, "expected_loss_amount"] == pytest.approx(1e5 * 0.02 * 0.40)


def test_price_file_csv_and_parquet(tmp_path):
    src = tmp_path / "scores.csv"
    _scored().to_csv(src, index=False, encoding="utf-8-sig")
    res = P.price_file(src, None, tmp_path / "priced.csv")
    assert (tmp_path / "priced.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    back = pd.read_csv(tmp_path / "priced.csv", encoding="utf-8-sig")
    np.testing.assert_allclose(back["suggested_rate"], res.frame["suggested_rate"], equal_nan=True)
    assert "priced 4 of 9 rows" in res.summary()
    res2 = P.price_file(src, P.PricingConfig(framework="basel2"), tmp_path / "priced.parquet")
    back2 = pd.read_parquet(tmp_path / "priced.parquet")
    assert back2["capital_rate"].iloc[8] == pytest.approx(res.frame["capital_rate"].iloc[8] * 1.06, rel=1e-12)
    assert len(back2) == 9 and res2.frame["suggested_rate"].notna().sum() == 4


def test_price_file_records_what_priced_the_rows(tmp_path):
    """A priced file's rates could not be traced to their configuration: the summary printed the framework and the
    policy rate, and nothing was written beside the file."""
    import hashlib
    import json

    src = tmp_path / "scores.csv"
    _scored().to_csv(src, index=False, encoding="utf-8-sig")
    (tmp_path / "bank.yaml").write_text("hurdle_rate: 0.15\n", encoding="utf-8")
    res = P.price_file(src, tmp_path / "bank.yaml", tmp_path / "priced.parquet")
    rec = json.loads((tmp_path / "priced.pricing.json").read_text(encoding="utf-8"))
    assert rec["pricing_config"] == {"source": "bank.yaml", "values": P.PricingConfig(hurdle_rate=0.15).to_dict()}
    assert rec["scores_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest() and rec["priced_file"] == "priced.parquet"
    assert rec["rows"] == 9 and rec["rows_priced"] == int(res.frame["suggested_rate"].notna().sum()) == 4
    assert sum(rec["rows_not_priced"].values()) == 5
    from creditmodel import __version__
    from creditmodel.tracking import git_info
    assert rec["creditmodel_version"] == __version__ and rec.get("git_commit") == git_info().get("commit")
    assert set(rec["rows_not_priced"]) == set(P.reason_kinds(res.frame["pricing_reason"].dropna().astype(str)))
    P.price_file(src, P.PricingConfig(framework="basel2"), tmp_path / "b2.csv")
    rec2 = json.loads((tmp_path / "b2.pricing.json").read_text(encoding="utf-8"))
    assert rec2["pricing_config"]["source"] == "PricingConfig object"
    assert rec2["pricing_config"]["values"]["framework"] == "basel2"
    # a configuration read from a YAML and passed on as an object (notebook 05) names its file, as the path does;
    # the demo's sidecar said "PricingConfig object" where the deliverable's said "pricing.yaml (the project's default)"
    P.price_file(src, P.PricingConfig.from_yaml(tmp_path / "bank.yaml"), tmp_path / "obj.csv")
    rec3 = json.loads((tmp_path / "obj.pricing.json").read_text(encoding="utf-8"))
    assert rec3["pricing_config"] == rec["pricing_config"]
    if P.DEFAULT_CONFIG.is_file():
        assert P.config_record(P.load_config(None))["source"] == P.config_record(None)["source"] == \
            f"{P.DEFAULT_CONFIG.name} (the project's default)"


def test_price_reads_csv_as_score_does(tmp_path, caplog):
    """A contract auditor's finding: price read CSV with plain pandas: a bank's own id lost its leading zeros
    (000123 -> 123), a GB18030 file failed, blank lines were neither skipped with a count nor refused, and a file
    with a header only was priced as zero rows."""
    df = _scored().assign(branch_id=[f"{i:06d}" for i in range(9)], 备注="中文")
    src = tmp_path / "scores.csv"
    text = df.to_csv(index=False, lineterminator="\n")
    lines = text.splitlines(keepends=True)
    src.write_bytes(("".join(lines[:3]) + "\n" + "".join(lines[3:])).encode("gb18030"))  # GB18030, a blank line
    with caplog.at_level("WARNING"):
        res = P.price_file(src, None, tmp_path / "priced.csv")
    assert len(res.frame) == 9 and res.frame["branch_id"].tolist() == df["branch_id"].tolist()
    assert any("blank" in r.getMessage() or "empty line" in r.getMessage() for r in caplog.records)
    back = pd.read_csv(tmp_path / "priced.csv", encoding="utf-8-sig", dtype={"branch_id": str})
    assert back["branch_id"].iloc[1] == "000001" and back["备注"].iloc[0] == "中文"
    plain = P.price_frame(_scored())
    np.testing.assert_array_equal(res.frame["suggested_rate"].to_numpy(), plain["suggested_rate"].to_numpy())
    src.write_text(text.splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="only a header") as e:
        P.price_file(src, None, tmp_path / "p2.csv")
    assert Path(e.value.file) == src


def test_price_keeps_ids_and_integer_scores_as_written(tmp_path):
    """A fuzzer's finding: price typed every column, so ids 1.50 and 1.5 (and two twenty-digit ids) became the
    same float, 1 became 1.0 and the integer score 600 became 600.0 (float64 in Parquet)."""
    src = tmp_path / "p.csv"
    src.write_text("row_id,score,pd_12m\n1,600,0.01\n12E3,610,0.02\n1.50,620,0.02\n1.5,630,0.02\n"
                   "62220212345678901234,640,0.01\n62220212345678901235,650,0.01\n", encoding="utf-8")
    P.price_file(src, None, tmp_path / "o.csv")
    lines = (tmp_path / "o.csv").read_text(encoding="utf-8-sig").splitlines()
    assert [ln.split(",")[:2] for ln in lines[1:]] == [["1", "600"], ["12E3", "610"], ["1.50", "620"], ["1.5", "630"],
                                                       ["62220212345678901234", "640"], ["62220212345678901235", "650"]]
    P.price_file(src, None, tmp_path / "o.parquet")
    got = pd.read_parquet(tmp_path / "o.parquet")
    assert str(got["score"].dtype) == "Int64" and got["pd_12m"].dtype == np.float64
    assert got["row_id"].tolist()[2:4] == ["1.50", "1.5"] and got["suggested_rate"].notna().all()


def test_summary_groups_not_priced_reasons_with_their_count(tmp_path):
    """Many rows with the same reason give one line with the count; different reasons stay apart; rates above
    the cap differ by their rate only and count as one kind."""
    cfg = P.PricingConfig()
    groups = {"missing": ([np.nan] * 4, "none"), "gold": ([0.02] * 3, "gold"),
              "silver": ([0.03] * 2, "silver"), "cap": ([0.30, 0.40, 0.50], "none"),
              "priced": ([0.01, 0.02], "none")}
    df = pd.DataFrame({"pd_12m": [p for ps, _ in groups.values() for p in ps],
                       "collateral": [c for ps, c in groups.values() for _ in ps]})
    src = tmp_path / "scores.csv"
    df.to_csv(src, index=False)
    res = P.price_file(src, cfg, tmp_path / "priced.csv")
    reasons = res.frame["pricing_reason"]
    # the premise: the capped rows carry three different texts (their rates), the others one text per group
    capped = reasons[reasons.str.contains("above the cap", na=False)]
    assert len(capped) == len(groups["cap"][0]) and capped.nunique() == len(groups["cap"][0])
    lines = [ln for ln in res.summary().splitlines() if ln.startswith("not priced")]
    # each line names the first rows of its kind (1-based data rows of the file): rows 1-4 missing, 5-7 gold, ...
    expected = {f"not priced ({len(groups['missing'][0])}): missing pd_12m (rows 1, 2, 3, …)",
                f"not priced ({len(groups['gold'][0])}): unknown collateral gold (rows 5, 6, 7)",
                f"not priced ({len(groups['silver'][0])}): unknown collateral silver (rows 8, 9)",
                f"not priced ({len(groups['cap'][0])}): risk-based rate above the cap {cfg.rate_cap:.2%} "
                "(rows 10, 11, 12)"}
    assert len(lines) == len(expected) and set(lines) == expected, lines
    assert f"priced {len(groups['priced'][0])} of {len(df)} rows" in res.summary()


def test_price_file_errors(tmp_path):
    src = tmp_path / "scores.csv"
    _scored().to_csv(src, index=False)
    before = src.read_bytes()
    with pytest.raises(InputError, match="scores file itself"):     # it overwrote its input (bank reviewer)
        P.price_file(src, None, tmp_path / "." / "scores.csv")
    os.link(src, tmp_path / "linked.csv")                            # a hard link is the same file (reviewer)
    with pytest.raises(InputError, match="scores file itself"):
        P.price_file(src, None, tmp_path / "linked.csv")
    assert src.read_bytes() == before
    _scored().drop(columns="pd_12m").to_csv(src, index=False)
    with pytest.raises(InputError) as e:
        P.price_file(src, None, tmp_path / "out.csv")
    assert e.value.column == "pd_12m" and Path(e.value.file) == src
    with pytest.raises(InputError, match="not found"):
        P.price_file(tmp_path / "nope.csv", None, tmp_path / "out.csv")
    with pytest.raises(InputError, match="unsupported"):
        P.price_file(src, None, tmp_path / "out.xlsx")


def test_cli_price_exit_codes(tmp_path):
    exe = Path(sys.executable).with_name("creditmodel")
    if not exe.is_file():
        pytest.skip("creditmodel console script not installed in this environment")
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    _scored().to_csv(good, index=False)
    _scored().drop(columns="pd_12m").to_csv(bad, index=False)
    r = subprocess.run([exe, "price", "--scores", good, "--out", tmp_path / "o.parquet"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert pd.read_parquet(tmp_path / "o.parquet")["suggested_rate"].notna().sum() == 4
    r = subprocess.run([exe, "price", "--scores", bad, "--out", tmp_path / "o.csv"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "pd_12m" in r.stderr


def test_price_says_loudly_when_no_row_is_priced(tmp_path, caplog):
    """A reviewer's finding: a pricing that priced none of 400 rows ended with exit 0 and a summary line among
    others. price_file now warns, naming the commonest reason and its first row; the file is written all the same,
    with every row's reason. A portfolio all in default is valid data: the command still exits 0 (a configuration
    written in percent is refused by the bounds instead)."""

    scores = tmp_path / "scores.csv"
    pd.DataFrame({"uscc": ["A", "B", "C", "D"], "pd_12m": [0.5, 1.0, 1.0, 1.0],
                  "status": ["ok"] * 4}).to_csv(scores, index=False)
    with caplog.at_level("WARNING", logger="creditmodel.pricing"):
        res = P.price_file(scores, None, tmp_path / "priced.csv")
    assert res.rows_priced == 0 and (tmp_path / "priced.csv").is_file()
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("no row priced of 4" in w and "'in default (PD = 1): no new lending is priced' (3 rows, first: row 2)"
               in w and str(scores) in w for w in warned), warned
    (tmp_path / "priced.csv").unlink()
    r = run_cli("price", "--scores", str(scores), "--out", str(tmp_path / "priced.csv"))
    assert r.returncode == 0 and "no row priced of 4" in r.stderr and (tmp_path / "priced.csv").is_file()
    # one priced row is enough: no warning
    pd.DataFrame({"uscc": ["A", "B"], "pd_12m": [0.01, 1.0], "status": ["ok", "ok"]}).to_csv(scores, index=False)
    caplog.clear()
    with caplog.at_level("WARNING", logger="creditmodel.pricing"):
        res = P.price_file(scores, None, tmp_path / "priced.csv")
    assert res.rows_priced == 1 and res.nothing_priced() is None and "no row priced" not in caplog.text


# ----------------------------------------------------------------------------- churn
def _exp_curve(scale=0.05, shape=1.0, r0=0.04, noise=0.0, seed=0):
    """A Weibull churn curve fitted to points generated from known parameters (+ optional noise)."""
    rate = np.linspace(0.04, 0.15, 29)
    churn = 1 - np.exp(-(((rate - r0) / scale) ** shape))
    churn = np.clip(churn + np.random.default_rng(seed).normal(0, noise, rate.size), 0, 1)
    return C.ChurnCurve(rate_start=r0).fit(rate, churn), rate, churn


def test_weibull_recovers_known_parameters():
    curve, _, _ = _exp_curve(scale=0.045, shape=0.9, noise=0.005)
    assert curve.params_["scale"] == pytest.approx(0.045, rel=0.05)
    assert curve.params_["shape"] == pytest.approx(0.9, rel=0.05)
    assert curve.rmse_ < 0.01 and curve.loo_rmse_ >= curve.rmse_


@pytest.mark.parametrize("cells, column, row, says", [
    ({"B": ["0", "0.2", "1.5"]}, "客户流失率_信誉评级B", 3, "not a fraction in [0, 1]"),   # a churn of 150 %
    ({"rate": ["0.04", "-0.05", "0.06"]}, "贷款年利率", 2, "not a number at least 0"),
    ({"A": ["0", "", "0.3"]}, "客户流失率_信誉评级A", 2, "not a fraction"),                    # an empty cell
])
def test_a_bad_rate_churn_cell_names_its_column_and_row(tmp_path, cells, column, row, says):
    table = {"贷款年利率": ["0.04", "0.05", "0.06"], "客户流失率_信誉评级A": ["0", "0.1", "0.2"],
             "客户流失率_信誉评级B": ["0", "0.2", "0.4"]}
    table.update({"贷款年利率" if k == "rate" else f"客户流失率_信誉评级{k}": v for k, v in cells.items()})
    p = tmp_path / "a3.csv"
    pd.DataFrame(table).to_csv(p, index=False)
    with pytest.raises(InputError) as e:
        C.load_rate_churn(p)
    assert (e.value.column, e.value.row) == (column, row) and says in str(e.value) and "a3.csv" in str(e.value)


def test_an_empty_or_header_only_rate_churn_file_names_the_file(tmp_path):
    p = tmp_path / "a3.csv"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="empty") as e:
        C.load_rate_churn(p)
    assert e.value.file is not None and "a3.csv" in str(e.value)
    p.write_text("贷款年利率,客户流失率_信誉评级A\n", encoding="utf-8")
    with pytest.raises(InputError, match="no data rows"):
        C.load_rate_churn(p)


@needs_cumcm
@pytest.mark.shared_data
@pytest.mark.parametrize("kind", ["weibull", "isotonic"])
def test_cumcm_churn_curves_monotone_within_unit_interval(kind):
    table = C.load_rate_churn(CUMCM / "attachment3_rate_vs_churn.csv")
    assert set(table["grade"]) == {"A", "B", "C"} and len(table) == 87
    curves = C.fit_churn_curves(table, kind=kind)
    grid = np.linspace(0.0, 0.25, 2001)
    for grade, c in curves.items():
        y = c.predict(grid)
        assert np.all(np.diff(y) >= 0) and y.min() >= 0 and y.max() <= 1
        obs = table[table["grade"] == grade]
        res = obs["churn"].to_numpy() - c.predict(obs["rate"].to_numpy())
        assert np.sqrt(np.mean(res ** 2)) == pytest.approx(c.rmse_)
        assert c.r2_ > 0.99 and c.rmse_ < 0.02
    rep = C.churn_fit_report(curves)
    assert list(rep["grade"]) == ["A", "B", "C"]


@needs_cumcm
@pytest.mark.shared_data
def test_parametric_and_isotonic_curves_agree():
    table = C.load_rate_churn(CUMCM / "attachment3_rate_vs_churn.csv")
    w, i = C.fit_churn_curves(table, "weibull"), C.fit_churn_curves(table, "isotonic")
    grid = np.linspace(0.04, 0.15, 500)
    for g in w:
        assert np.max(np.abs(w[g].predict(grid) - i[g].predict(grid))) < 0.06


def test_optimal_rate_closed_form_and_continuous_optimum():
    # exponential churn (shape 1): profit' = 0 at r* = scale + (PD LGD + cost) / (1 - PD)
    curve, _, _ = _exp_curve(scale=0.05, shape=1.0)
    assert curve.params_["shape"] == pytest.approx(1.0, abs=1e-6)
    s = curve.params_["scale"]
    pds = np.array([0.0, 0.01, 0.03, 0.08])
    r, prof = C.optimal_rate(curve, pds, 0.4, cost_rate=0.01)
    np.testing.assert_allclose(r, s + (pds * 0.4 + 0.01) / (1 - pds), atol=0.0001)
    for p, rr, pp in zip(pds, r, prof):
        cont = minimize_scalar(lambda x: -C.expected_profit(x, p, 0.4, curve, 0.01), bounds=(0.04, 0.15),
                               method="bounded", options={"xatol": 1e-8})
        assert abs(rr - cont.x) <= 0.0001 and pp == pytest.approx(-cont.fun, abs=1e-6)
    # clipped to the range, higher PD never gets a lower rate
    r_hi, _ = C.optimal_rate(curve, 0.5, 1.0)
    assert r_hi == pytest.approx(0.15)
    r_many, _ = C.optimal_rate(curve, np.linspace(0, 0.3, 50), 0.45)
    assert np.all(np.diff(r_many) >= 0)


def test_optimal_rate_refuses_nan_and_values_outside_the_unit_interval():
    """A reviewer's finding: PD NaN gave 4 % as the optimal rate, PD 5, PD -0.2 and LGD 40 gave rates too; the
    arguments are checked as pricing's own (DomainError, an InputError, naming the argument)."""
    curve, _, _ = _exp_curve()
    for kwargs, name in (({"pd": np.nan, "lgd": 0.4}, "pd"), ({"pd": 5.0, "lgd": 0.4}, "pd"),
                         ({"pd": -0.2, "lgd": 0.4}, "pd"), ({"pd": 0.02, "lgd": 40.0}, "lgd"),
                         ({"pd": [0.01, np.nan], "lgd": 0.4}, "pd"), ({"pd": 0.02, "lgd": np.nan}, "lgd"),
                         ({"pd": 0.02, "lgd": 0.4, "cost_rate": np.nan}, "cost_rate"),
                         ({"pd": 0.02, "lgd": 0.4, "cost_rate": 3.0}, "cost_rate")):
        with pytest.raises(P.DomainError, match=f"argument {name} "):
            C.optimal_rate(curve, **kwargs)
        with pytest.raises(InputError, match=f"argument {name} "):
            C.expected_profit(0.06, curve=curve, **kwargs)
    for pdg, text in (({"A": np.nan}, r"pd_by_grade\['A'\] contains NaN"),
                      ({"A": 5.0}, r"pd_by_grade\['A'\] must lie in \[0.0, 1.0\]"),
                      ({"A": -0.2}, r"pd_by_grade\['A'\] must lie in")):
        with pytest.raises(P.DomainError, match=text):
            C.optimal_rates_by_grade({"A": curve}, pdg)
    with pytest.raises(P.DomainError, match="argument lgd "):
        C.optimal_rates_by_grade({"A": curve}, {"A": 0.02}, lgd=40)
    r, prof = C.optimal_rate(curve, [0.0, 0.02, 1.0], 0.4)     # the ends of the domain still work
    assert r.shape == (3,) and np.isfinite(prof).all()
    t = C.optimal_rates_by_grade({"A": curve}, {"A": 0.02}, lgd=0.4)
    assert t.loc[0, "pd"] == 0.02 and 0.04 <= t.loc[0, "rate"] <= 0.15


@needs_cumcm
@pytest.mark.shared_data
def test_optimal_rates_by_grade_beat_the_range_ends():
    curves = C.fit_churn_curves(C.load_rate_churn(CUMCM / "attachment3_rate_vs_churn.csv"))
    info = pd.read_csv(CUMCM / "attachment1_enterprise_info.csv")
    counts = info.groupby("信誉评级")["是否违约"].agg(d=lambda s: (s == "是").sum(), n="size")
    pdg = {g: C.jeffreys_pd(counts.loc[g, "d"], counts.loc[g, "n"]) for g in "ABC"}
    assert pdg["A"] == pytest.approx(0.5 / 28)
    t = C.optimal_rates_by_grade(curves, pdg, lgd=0.4)
    assert ((t["rate"] >= 0.04) & (t["rate"] <= 0.15)).all()
    assert (t["profit_per_yuan"] >= t[["profit_at_rate_min", "profit_at_rate_max"]].max(axis=1)).all()
    assert list(t.sort_values("pd")["grade"]) == ["A", "B", "C"] and t["rate"].is_monotonic_increasing


# ----------------------------------------------------------------------------- allocation
def _toy_curves() -> dict[str, C.ChurnCurve]:
    return {g: _exp_curve(scale=s, shape=k)[0] for g, s, k in (("A", 0.045, 0.95), ("B", 0.05, 0.95),
                                                                ("C", 0.055, 1.0))}


def _firms(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grade = rng.choice(list("ABCD"), n, p=[0.25, 0.3, 0.3, 0.15])
    base = {"A": 0.01, "B": 0.03, "C": 0.08, "D": 0.6}
    pd_ = np.clip([base[g] * rng.lognormal(0, 0.6) for g in grade], 0, 1)
    f = pd.DataFrame({"id": [f"E{i}" for i in range(n)], "grade": grade, "pd_12m": pd_,
                      "lgd": rng.choice([0.3, 0.4, 0.6, np.nan], n)})
    f["max_limit"] = np.where(rng.random(n) < 0.3, rng.uniform(50_000, 2_000_000, n), np.nan)
    return f


@pytest.mark.parametrize("seed,n,budget", [(1, 60, 20e6), (2, 302, 100e6), (3, 25, 100e6), (4, 80, 7.77e6)])
def test_allocation_respects_every_rule_and_beats_naive(seed, n, budget):
    rules = A.AllocationRules(budget=budget)
    f = _firms(n, seed)
    alloc = A.allocate(f, _toy_curves(), rules)
    out = alloc.firms
    assert list(out["id"]) == list(f["id"])
    lim = out["limit"].to_numpy()
    lent = lim > 0
    assert lim.sum() <= budget + 1e-6
    assert np.all((lim == 0) | ((lim >= rules.min_loan) & (lim <= rules.max_loan)))
    cap = np.fmin(rules.max_loan, f["max_limit"].to_numpy())
    assert np.all(lim <= np.floor(cap / rules.limit_step) * rules.limit_step + 1e-6)
    np.testing.assert_allclose(lim / rules.limit_step, np.round(lim / rules.limit_step), atol=1e-9)
    assert not lent[(f["grade"] == "D").to_numpy()].any()
    r = out.loc[lent, "rate"]
    assert ((r >= rules.rate_min) & (r <= rules.rate_max)).all()
    assert out.loc[~lent, "reason"].notna().all() and out.loc[lent, "reason"].isna().all()
    # expected profit recomputed here from the curves
    curves = _toy_curves()
    acc = np.array([curves[g].retention(x) if x == x else np.nan for g, x in zip(out["grade"], out["rate"])])
    lgd = f["lgd"].fillna(rules.lgd).to_numpy()
    p = f["pd_12m"].to_numpy()
    prof = np.where(lent, lim * acc * ((1 - p) * out["rate"] - p * lgd), 0.0)
    assert alloc.totals["expected_profit"] == pytest.approx(prof.sum(), rel=1e-9)
    t = alloc.totals
    net = t["expected_interest"] - t["expected_loss"] - t["expected_cost"]
    assert t["expected_profit"] == pytest.approx(net)
    naive = A.naive_allocation(f, curves, rules)
    assert naive.totals["limits"] <= budget + 1e-6
    assert t["expected_profit"] > naive.totals["expected_profit"]
    # and at least as good as random feasible allocations at the engine's rates
    rng = np.random.default_rng(seed)
    cand = np.flatnonzero(out["profit_per_yuan"].fillna(-1).to_numpy() > 0)
    for _ in range(50):
        pick = rng.permutation(cand)
        L, left = np.zeros(n), budget
        for i in pick:
            hi = min(np.floor(cap[i] / 1e4) * 1e4, np.floor(left / 1e4) * 1e4)
            if hi >= rules.min_loan:
                L[i] = rng.choice(np.arange(rules.min_loan, hi + 1, 1e4))
                left -= L[i]
        assert (L * out["profit_per_yuan"].fillna(0)).sum() <= t["expected_profit"] * (1 + 1e-9)


def test_allocation_is_optimal_against_brute_force():
    # budget 1.5m, loans 0.6m-1m: greedy "best first" stops at 1.0m; the optimum splits 0.9m + 0.6m
    rules = A.AllocationRules(budget=1_500_000, min_loan=600_000, max_loan=1_000_000, limit_step=100_000)
    curve = _toy_curves()["A"]
    for seed in range(5):
        rng = np.random.default_rng(seed)
        pds = rng.uniform(0.0, 0.1, 6) if seed else [0.005, 0.02, 0.05, 0.07, 0.08, 0.09]
        f = pd.DataFrame({"pd_12m": pds})
        alloc = A.allocate(f, curve, rules)
        p = alloc.firms["profit_per_yuan"].to_numpy()
        best = 0.0
        units = [0] + list(range(6, 11))                           # in 100k: none or 0.6m..1.0m
        for combo in itertools.product(units, repeat=len(f)):
            if sum(combo) <= 15:
                best = max(best, float(np.dot(np.array(combo) * 1e5, p)))
        assert alloc.totals["expected_profit"] == pytest.approx(best, rel=1e-9)
        if seed == 0:
            assert sorted(alloc.firms["limit"][alloc.firms["limit"] > 0]) == [600_000, 900_000]


def test_allocation_input_errors_and_reasons():
    curves = _toy_curves()
    with pytest.raises(InputError) as e:
        A.allocate(pd.DataFrame({"grade": ["A"]}), curves)
    assert e.value.column == "pd_12m"
    with pytest.raises(InputError) as e:
        A.allocate(pd.DataFrame({"pd_12m": [0.01]}), curves)
    assert e.value.column == "grade"
    f = pd.DataFrame({"grade": ["A", "D", "Z", "A", "A", "C"],
                      "pd_12m": [0.01, 0.01, 0.01, np.nan, 1.0, 0.02],
                      "max_limit": [np.nan, np.nan, np.nan, np.nan, np.nan, 50_000]})
    out = A.allocate(f, curves).firms
    assert out["limit"].iloc[0] == 1_000_000
    assert list(out["reason"].iloc[1:]) == ["excluded grade", "no churn curve for the grade",
                                            "missing pd_12m",
                                            "no profitable rate in [4.00%, 15.00%]",
                                            "max_limit below the minimum loan"]
    # a cell given but not a number is refused by name (a reviewer: cost_rate "3%" was priced at a cost of 0,
    # lgd "forty" at the rules' 40 %), a blank one takes the rules' default
    g = pd.DataFrame({"grade": ["A"] * 5, "pd_12m": ["0.01", "abc", 0.01, 0.01, 0.01],
                      "cost_rate": ["", None, "3%", None, None], "lgd": [None, None, None, "forty", None],
                      "max_limit": [" ", None, None, None, "n/a"]})
    out = A.allocate(g, curves).firms
    assert pd.isna(out["reason"].iloc[0]) and out["limit"].iloc[0] == 1_000_000
    assert list(out["reason"].iloc[1:]) == ["non-numeric pd_12m", "non-numeric cost_rate", "non-numeric lgd",
                                            "non-numeric max_limit"]
    assert (out["limit"].iloc[1:] == 0).all()
    with pytest.raises(ConfigError) as e:
        A.AllocationRules(min_loan=2e6)
    assert e.value.column == "min_loan"


def test_allocation_is_deterministic():
    f = _firms(120, 7)
    a, b = A.allocate(f, _toy_curves()), A.allocate(f, _toy_curves())
    pd.testing.assert_frame_equal(a.firms, b.firms)


# ----------------------------------------------------------------------------- notebook 05 tables and prose
def _priced(**cols) -> pd.DataFrame:
    base = {"pd_12m": [0.004, 0.01, 0.03, 0.3, np.nan], "collateral": ["none"] * 5}
    return P.price_frame(pd.DataFrame({**base, **cols}), P.PricingConfig())


def test_portfolio_by_grade_is_never_an_empty_table():
    """Analyst's finding: a scored file without a grade column showed an empty table in notebook 05."""
    from creditmodel import pricing_plots as PP

    cfg = P.PricingConfig()
    pf = _priced()
    assert "grade" not in pf.columns
    t = PP.portfolio_by_grade(pf, cfg)
    ok = pf["suggested_rate"].notna()
    assert t["grade"].tolist() == ["all"] and t.loc[0, "loans"] == 5 and t.loc[0, "priced"] == int(ok.sum()) == 3
    assert t.loc[0, "median_rate"] == pytest.approx(pf.loc[ok, "suggested_rate"].median())
    assert t.loc[0, "floor_below_policy"] == pytest.approx((pf.loc[ok, "risk_based_floor"] < cfg.policy_rate).mean())
    # a grade column that is partly or wholly missing keeps its rows, and grades come in scale order
    g = PP.portfolio_by_grade(_priced(grade=["10", "2", None, "D", "2"]), cfg)
    assert g["grade"].tolist() == ["2", "10", "(none)", "D"]
    assert g["loans"].sum() == 5 and g.set_index("grade").loc["2", "loans"] == 2
    assert PP.portfolio_by_grade(_priced(grade=[None] * 5), cfg)["loans"].tolist() == [5]
    assert PP.portfolio_by_grade(pf.iloc[:0], cfg).empty


def _quality(lo: float, hi: float, **kw) -> dict:
    q = {"n": 123.0, "defaults": 27.0, "default_rate": 27 / 123, "auc": 0.85, "auc_ci_low": 0.76, "auc_ci_high": 0.95,
         "auc_boot_low": 0.75, "auc_boot_high": 0.94, "auc_repeat_min": 0.84, "auc_repeat_max": 0.86, "brier": 0.10,
         "brier_base": 0.17, "brier_skill": 0.4, "mean_pd": 0.22, "auc_bank_rating": 0.97,
         "auc_perfect_d_detector": 0.94, "auc_d_vs_rest": 0.90, "n_abc": 99.0, "defaults_abc": 3.0,
         "auc_within_abc": (lo + hi) / 2, "auc_within_abc_boot_low": lo, "auc_within_abc_boot_high": hi,
         "mean_pd_abc": 0.15, "default_rate_abc": 0.03, "d_like_recall": 0.54, "d_like_false_share": 0.06}
    return {**q, **kw}


def _result(q: dict):
    from types import SimpleNamespace

    return SimpleNamespace(quality=q, insample_auc=0.96, cv=SimpleNamespace(repeats=2, cv_folds=5),
                           settings={"d_threshold": 0.5})


def test_the_within_abc_claim_follows_the_auc_interval():
    """Analyst's finding: notebook 05 said 'no evidence that it ranks risk' whatever the numbers."""
    from creditmodel import pricing_plots as PP

    assert PP.within_abc_verdict(_quality(0.08, 0.83))[0] == "no_evidence"
    assert PP.within_abc_verdict(_quality(0.62, 0.91)) == ("ranks", 0.62, 0.91, "bootstrap")
    assert PP.within_abc_verdict(_quality(0.10, 0.40))[0] == "inverse"
    no_boot = _quality(np.nan, np.nan, auc_within_abc=0.7, auc_within_abc_ci_low=0.55, auc_within_abc_ci_high=0.85)
    assert PP.within_abc_verdict(no_boot)[0::3] == ("ranks", "DeLong")
    assert PP.within_abc_verdict({k: v for k, v in _quality(0.1, 0.9).items() if k != "auc_within_abc"})[0] == \
        "not_computable"

    weak = PP.cv_quality_markdown(_result(_quality(0.08, 0.83)))
    assert "no evidence that it ranks risk among the firms a bank would lend to" in weak
    assert "over the 2 repeats" in weak
    once = _result(_quality(0.08, 0.83))
    once.cv.repeats = 1                         # one repeat: no range "0.909–0.909" over "the 1 repeats"
    assert "repeats" not in PP.cv_quality_markdown(once).split("\n")[0]
    assert "mainly finds D firms" in weak and "bootstrap 0.08–0.83, 3 defaults" in weak
    assert "All 24 D-rated firms defaulted, 3 of the 99 A–C firms did" in weak
    strong = PP.cv_quality_markdown(_result(_quality(0.62, 0.91, defaults_abc=10.0, defaults=30.0)))
    assert "no evidence" not in strong and "mainly finds D firms" not in strong
    assert "it does rank risk among the firms a bank would lend to" in strong and "cannot tell" not in strong
    assert "20 of the 24 D-rated firms defaulted" in strong  # counted, not "All 24"
    none = PP.cv_quality_markdown(_result({k: v for k, v in _quality(0.1, 0.9, defaults_abc=0.0).items()
                                           if not k.startswith("auc_within")}))
    assert "cannot be measured" in none and "ranks risk" not in none


def test_the_pricing_prose_shows_the_values_in_use():
    """Analyst's finding: notebook 05's prose hard-coded the LPR (3.00 %), the LGD and the naive rate (9.5 %)."""
    from types import SimpleNamespace

    from creditmodel import pricing_plots as PP

    cfg = P.PricingConfig(lpr_1y=0.0285, policy_spread=0.005, lgd={"none": 0.45, "guarantee": 0.3, "property": 0.26,
                                                                     "receivables": 0.26})
    text = PP.policy_rate_markdown(cfg)
    assert "**2.85 %**" in text and "policy rate 3.35 %" in text and "+50 bp" in text and "3.00 %" not in text
    assert f"**{PP.INCLUSIVE_SME_RATE:.2%}**".replace("%", " %") in text
    assumptions = PP.pricing_assumptions_markdown(cfg)
    assert "none 45.00 %" in assumptions and "1-year LPR 2.85 %" in assumptions
    rules = A.AllocationRules(budget=5e7, rate_min=0.05, rate_max=0.12, min_loan=200_000)
    res = SimpleNamespace(rules=rules, settings={"d_threshold": 0.4, "limit_share": 0.25, "maturity": 1.0},
                          naive=SimpleNamespace(firms=pd.DataFrame({"rate": [np.nan, 0.085, 0.085]})))
    text = PP.allocation_rules_markdown(res)
    assert "budget 50 m yuan" in text and "200,000 to 1,000,000 yuan" in text and "5.00 %–12.00 %" in text
    assert "at 8.50 %" in text and "40.00 %" in text and "25% of annual sales" in text and "9.5" not in text
    assert "effective maturity, 1 year (Basel M)" in text
    res.settings.update(maturity=2.5)
    assert "2.5 years" in PP.allocation_rules_markdown(res)
    res.settings.update(costs=False)
    assert "maturity" not in PP.allocation_rules_markdown(res)


def test_the_inclusive_coverage_and_the_allocation_summary_say_the_grids_and_totals_numbers():
    """Notebook 05 built these two texts in its own cells; they are library functions now."""
    from types import SimpleNamespace

    from creditmodel import pricing_plots as PP

    cfg = P.PricingConfig(lpr_1y=0.0285)
    grid = PP.pricing_grid(cfg)
    text, metrics = PP.inclusive_coverage(grid, cfg)
    lines = dict(zip(PP.COLLATERAL, text.splitlines()))
    for coll in PP.COLLATERAL:
        g = grid[grid["collateral"] == coll]
        above = g.loc[g["above_inclusive"], "grade"].tolist()
        assert metrics[f"grades_above_inclusive_{coll}"] == len(above) > 0
        assert metrics[f"grades_below_policy_{coll}"] == int(g["floor_below_policy"].sum())
        assert f"from grade **{above[0]}**" in lines[coll]
    # unsecured lending exceeds the inclusive average at a better grade than property-backed lending
    first = {c: int(lines[c].split("from grade **")[1].split("**")[0]) for c in ("none", "property")}
    assert first["none"] <= first["property"]
    # a policy rate above every floor covers every grade
    high = P.PricingConfig(lpr_1y=0.2, rate_cap=0.5)
    text, metrics = PP.inclusive_coverage(PP.pricing_grid(high), high)
    assert metrics["grades_below_policy_none"] == 10 and "alone covers the cost of grade(s) 1, 2" in text
    totals = {"n_loans": 80, "limits": 1e8, "expected_lent": 7.5e7, "expected_interest": 5.1e6,
              "expected_loss": 1.2e6, "expected_cost": 2.4e6, "expected_profit": 1.5e6, "return_on_lent": 0.02}
    naive = {**totals, "n_loans": 120, "expected_profit": -3e5, "expected_loss": 3.6e6, "return_on_lent": -0.004}
    res = SimpleNamespace(rules=A.AllocationRules(budget=1e8), allocation=SimpleNamespace(totals=totals),
                          naive=SimpleNamespace(totals=naive))
    summary = PP.allocation_summary_markdown(res)
    assert "**80 loans** (limits 100.0 m)" in summary and "**profit 1.50 m** (2.00 % on the amount lent)" in summary
    assert "naive split offers 120 loans and expects a profit of -0.30 m (-0.40 %)" in summary
    assert "3.0 times the optimised strategy's" in summary


def test_the_loan_pricing_notebook_prose_has_no_hard_coded_settings():
    """The numbers the configuration or the parameters set are displayed from code, not written in the prose."""
    import nbformat

    nb = nbformat.read(PROJECT_ROOT / "notebooks" / "05_loan_pricing.ipynb", as_version=4)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for fixed in ("3.00 %", "9.5 %", "3.48 %", "5.68 %", "100 million", "4 %–15 %", "20 % of its annual sales",
                  "unsecured 信用贷款: 40 %"):
        assert fixed not in prose, fixed
    assert "no evidence that" not in code and "All 24" not in code and "3 defaults" not in code
    assert "PP.cv_quality_markdown(res)" in code and "PP.portfolio_by_grade(pf, cfg)" in code


def test_price_file_says_in_error_why_a_scored_row_has_no_rate(tmp_path):
    """`price` kept status ok and an empty error for an unpriced row (the reason only in pricing_reason): a bank
    reading status/error took it as priced. It now writes `not priced: ...` as the deliverable does."""
    src = tmp_path / "s.csv"
    pd.DataFrame({"id": ["a", "b", "c", "d"], "pd_12m": [0.02, 1.0, 0.6, 0.02], "status": ["ok", "ok", "ok", "error"],
                  "error": ["", "", "not priced: old note; with a semicolon", "column 'x': bad"]}
                 ).to_csv(src, index=False)
    res = P.price_file(src, None, tmp_path / "p.csv")
    f = res.frame
    assert f["suggested_rate"].notna().tolist() == [True, False, False, False]
    assert pd.isna(f.loc[0, "error"])
    assert f.loc[1, "error"] == "not priced: in default (PD = 1): no new lending is priced"
    assert f.loc[2, "error"].startswith("not priced: risk-based rate") and "old note" not in f.loc[2, "error"]
    assert "semicolon" not in f.loc[2, "error"]                     # the whole old note went (it has a '; ')
    assert f.loc[3, "error"] == "column 'x': bad"                          # an error row keeps its own error
    back = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig", dtype=str)
    assert back.loc[1, "error"].startswith("not priced: in default") and back["status"].tolist()[:3] == ["ok"] * 3


def test_the_pricing_grid_reads_its_ticks_right_and_does_not_warn(caplog):
    """Analyst's findings: the grid chart labelled the tick at 2.5 % "2%" and 7.5 % "8%" (a percent format with 0
    decimals), and every pricing run warned "no sales_eur_m or revenue column" because of the grid itself."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from creditmodel import pricing_plots as PP

    with caplog.at_level("WARNING", logger="creditmodel"):
        grid = PP.pricing_grid(P.PricingConfig())
    assert "sales_eur_m" not in caplog.text and "sales_eur_m" not in grid.columns
    # the grid is priced without the SME adjustment, as documented: the same as sales of inf
    flat = P.price_frame(pd.DataFrame({"pd_12m": grid["central_pd"], "collateral": grid["collateral"],
                                       "sales_eur_m": np.inf}), P.PricingConfig())
    np.testing.assert_array_equal(grid["capital_rate"].to_numpy(), flat["capital_rate"].to_numpy())
    fig = PP.plot_pricing_grid(grid, cap=0.15)
    fig.canvas.draw()
    ax = fig.axes[0]
    for value, text in zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()]):
        if 0 <= value <= ax.get_ylim()[1]:
            assert float(text.rstrip("%")) == pytest.approx(100 * value, abs=1e-9), (value, text)
    plt.close(fig)


def test_the_pricing_functions_refuse_booleans_and_mismatched_shapes():
    """irb_capital(True, 0.4) was priced as PD 1; arrays of different lengths were a raw NumPy error."""
    with pytest.raises(P.DomainError, match="argument pd must be numeric, got a boolean"):
        P.irb_capital(True, 0.4)
    with pytest.raises(P.DomainError, match=r"shapes that do not match: pd \(3,\), lgd \(2,\)"):
        P.irb_capital(np.array([0.01, 0.02, 0.03]), np.array([0.4, 0.3]))
    with pytest.raises(P.DomainError, match="do not match"):
        P.risk_based_rate([0.01, 0.02], [0.4, 0.4], funding_cost=[0.01, 0.02, 0.03], opex=0.008, hurdle_rate=0.12)
    assert P.irb_capital(np.array([0.01, 0.02]), 0.4).shape == (2,)


def test_pricing_names_the_mismatched_argument_and_sees_a_boolean_in_a_list():
    with pytest.raises(P.DomainError, match=r"pd \(3,\), el_best_estimate \(2,\)"):
        P.irb_capital(np.array([0.01, 0.02, 0.03]), 0.4, el_best_estimate=np.array([0.01, 0.02]))
    with pytest.raises(P.DomainError, match=r"pd \(2,\), hurdle_rate \(3,\)"):
        P.risk_based_rate([0.01, 0.02], 0.4, funding_cost=0.018, opex=0.008, hurdle_rate=[0.1, 0.11, 0.12])
    with pytest.raises(P.DomainError, match="boolean"):
        P.irb_capital([True, 0.5], 0.4)
    with pytest.raises(P.DomainError, match="boolean"):
        P.irb_capital(pd.Series([True, False], dtype="boolean"), 0.4)


def test_the_grid_prices_a_small_firm_beside_one_of_unknown_size():
    """Notebook 05's grid was priced without the SME adjustment only (conservative, 15-55 bp above the demo
    portfolio's rates): a bank reading it overpriced a small firm. It now shows both sizes, the difference in words."""
    from creditmodel import pricing_plots as PP

    cfg = P.PricingConfig()
    grid, sme = PP.pricing_grid(cfg), PP.pricing_grid(cfg, sales_eur_m=PP.SME_SALES_EUR_M)
    small = P.price_frame(pd.DataFrame({"pd_12m": sme["central_pd"], "collateral": sme["collateral"],
                                        "sales_eur_m": 5.0}), cfg)
    np.testing.assert_array_equal(sme["capital_rate"].to_numpy(), small["capital_rate"].to_numpy())
    assert (sme["risk_based_floor"].to_numpy() < grid["risk_based_floor"].to_numpy()).all()
    table = PP.suggested_rate_table({"size unknown": grid, "sales <= EUR 5 m": sme})
    assert table.index.names == ["firm size", "grade"] and len(table) == 2 * grid["grade"].nunique()
    assert list(table.columns) == ["central_pd", *PP.COLLATERAL]
    assert table.loc[("sales <= EUR 5 m", "7"), "none"] == sme.set_index(["grade", "collateral"]).loc[
        ("7", "none"), "suggested_rate"]
    text = PP.sme_size_markdown(grid, sme)
    a, b = (g[g["collateral"] == "none"].set_index("grade") for g in (grid, sme))
    gap = (a["risk_based_floor"] - b["risk_based_floor"]) * 1e4
    assert f"**{gap.min():.0f}–{gap.max():.0f} bp lower**" in text and "sales of EUR 5 m or less" in text
    assert "0 where the policy rate binds" in text       # grades 1-2 are at the policy rate in both


def test_the_charts_leave_headroom_above_the_tallest_bar_and_point():
    """Notebook 05's ratings chart: a rating with no firm in the tallest grade stacked a bar of height 0 on its top,
    whose sticky edge left no margin, so the bar touched the frame; the floor-versus-policy chart cut grade 10."""
    from types import SimpleNamespace

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from creditmodel import pricing_plots as PP
    from creditmodel.scoring.master_scale import MasterScale

    grade = ["7"] * 39 + ["8"] * 103 + ["10"] * 89
    rating = ["B"] * 39 + ["C"] * 103 + ["C"] * 51 + ["D"] * 38
    d = pd.DataFrame({"master_grade": grade, "rating": rating, "limit": 0.0, "reason": "excluded grade",
                      "annual_sales": 1e6, "pd_12m": 0.1})
    fig = PP.plot_ratings(SimpleNamespace(decisions=d, model=SimpleNamespace(master_scale=MasterScale())))
    assert fig.axes[0].get_ylim()[1] >= 1.05 * 103
    plt.close(fig)
    grid = PP.pricing_grid(P.PricingConfig())
    fig = PP.plot_floor_vs_policy(grid, P.PricingConfig())
    assert fig.axes[0].get_ylim()[1] > grid["risk_based_floor"].max()
    plt.close(fig)


def test_the_allocation_charges_the_model_s_pd_and_the_capital_the_floored_one():
    """The expected profit is a forecast at the model's PD; Basel's PD floor (CRE32.4) is a capital rule that enters
    through the cost rate's capital charge (credit_decisions.cost_rates), not through the expected loss."""
    from creditmodel import credit_decisions as CD

    cfg = P.PricingConfig()
    firms = pd.DataFrame({"pd_12m": [0.0001, 0.0005], "grade": "A"})
    firms["cost_rate"] = CD.cost_rates(firms["pd_12m"], np.nan, cfg, maturity=1.0)
    assert firms["cost_rate"].nunique() == 1        # the capital charge is at the floored PD for both
    res = A.allocate(firms, {"A": _exp_curve()[0]}, A.AllocationRules(budget=2e6))
    f = res.firms
    assert (f["limit"] > 0).all()
    np.testing.assert_allclose(f["expected_loss"], f["expected_lent"] * f["pd_12m"] * 0.40, rtol=1e-12)
    assert f.loc[0, "expected_loss"] < f.loc[1, "expected_loss"]
