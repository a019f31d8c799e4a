"""A reason code is shown to a declined borrower: its text says what is unfavourable (a bank officer's finding: the
environment-inspection count cost 8 points to firms with no inspection under the neutral text "Number of environment
inspections (2 years)"; the fire-safety count and the purchases-to-sales ratio 进销比 were neutral too)."""
import re

import pytest

from creditmodel.features import catalogue

#: English words that say which side of a feature costs points (a simple rule, not a grammar).
DIRECTION_WORDS = ("high", "higher", "low", "lower", "no", "not", "few", "many", "small", "large", "long", "short",
                   "recent", "recently", "overdue", "arrears", "failed", "falling", "deteriorated", "volatile",
                   "weak", "below", "above", "without", "broken", "listed", "active", "open", "repaired", "still", "past",
                   "previously", "violations", "unfavourable", "riskier")

CAT = catalogue("all").set_index("code")


@pytest.mark.parametrize("code", list(CAT.index))
def test_every_reason_text_says_what_is_unfavourable(code):
    r = CAT.loc[code]
    assert r["reason_en"].strip().lower() != r["name_en"].strip().lower(), code
    assert r["reason_zh"].strip() != r["name_zh"].strip(), code
    words = set(re.findall(r"[a-z]+", r["reason_en"].lower()))
    assert words & set(DIRECTION_WORDS), (code, r["reason_en"])


def test_the_named_neutral_texts_changed():
    old = {"inspection_environment_2y_n": ("Number of environment inspections (2 years)", "近两年生态环境检查次数"),
           "inspection_fire_safety_2y_n": ("Number of fire safety inspections (2 years)", "近两年消防安全检查次数"),
           "invoice_purchase_sales_ratio": ("Purchases to sales ratio", "进销比")}
    for code, (en, zh) in old.items():
        assert CAT.loc[code, "reason_en"] != en and CAT.loc[code, "reason_zh"] != zh, code
        if CAT.loc[code, "direction"] == 0:  # a feature without a direction says "in a riskier range"
            assert "risk" in CAT.loc[code, "reason_en"] and "风险" in CAT.loc[code, "reason_zh"], code
    # the sector inspection counts have a direction (DOMAIN A3(c): riskier classes are inspected more often)
    assert CAT.loc["inspection_environment_2y_n", "direction"] == 1
    assert CAT.loc["inspection_environment_2y_n", "reason_en"] == "Many environment inspections (2 years)"
