"""USCC checks against the known-valid codes of DOMAIN.md A1, malformed and pilot-era codes."""
import numpy as np
import pandas as pd
import pytest

from creditmodel.data import uscc

KNOWN_VALID = """91350100M000100Y43 91350200776049653A 91350500798359476R 91350503MA31DKY80A 91350200MA31E12PXF
91440101MA5CJQ4N59 913502000728319549 123502001549897397 9135021359498494XQ 91350213678251743X
91420000737944946L 91320100748204660Q 91320281142232229Q 91430122707233692A 91370400728618604X
91510104MA6CFT042R 91330205MA2H7K3Q0B""".split()
PILOT = ["91350100M0001TGQXM", "91350211M0000XUF46", "91350203M0001FUE2P", "91350203M0001QAY9B"]


def _independent_check_char(code17: str) -> str:
    """Textbook mod-31 rule written out separately from the module (DOMAIN.md A1)."""
    symbols = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(symbols.index(ch) * w for ch, w in zip(code17, weights))
    c18 = 31 - total % 31
    return symbols[0 if c18 == 31 else c18]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_valid_codes_pass(code):
    r = uscc.check(code)
    assert r.status == "ok", r.message
    assert uscc.check_character(code[:17]) == code[17] == _independent_check_char(code[:17])


def test_standard_worked_example():
    # 91350100M000100Y43: sum 1640, 1640 mod 31 = 28, 31 - 28 = 3 (DOMAIN.md A1)
    assert uscc.check_character("91350100M000100Y4") == "3"
    assert uscc.org_check_character("M000100Y") == "4"
    r = uscc.check("91350100M000100Y4Z")
    assert r.status == "invalid" and r.reason == "charset" and "position 18" in r.message


@pytest.mark.parametrize("code,reason", [
    ("", "missing"), (None, "missing"), ("91350100M000100Y4", "length"), ("91350100M000100Y433", "length"),
    ("91350100M000100I43", "charset"), ("91350100M000100O43", "charset"), ("91A50100M000100Y43", "division"),
    ("91350100M000100Y53", "org_check"), ("91350100M000100Y44", "check_char"),
])
def test_malformed_codes_say_why(code, reason):
    r = uscc.check(code)
    assert r.status == "invalid"
    assert r.reason == reason
    assert r.message


def test_check_char_failure_names_expected_character():
    r = uscc.check("91350100M000100Y44")
    assert "expected '3'" in r.message and "got '4'" in r.message


def test_normalisation_full_width_and_case():
    full = "９１３５０１００ｍ０００１００ｙ４３"
    assert uscc.check(full).status == "ok"
    assert uscc.check(" 91350100m000100y43 ").code == "91350100M000100Y43"


@pytest.mark.parametrize("code", PILOT)
def test_pilot_era_codes_are_flagged_not_rejected(code):
    r = uscc.check(code)
    assert r.status == "pilot" and r.ok
    assert not uscc.is_valid(code, allow_pilot=False)
    # without the allow-list they are invalid
    assert uscc.check(code, allow_list=()).status == "invalid"


def test_vectorised_matches_scalar_on_random_corruptions():
    rng = np.random.default_rng(7)
    good = uscc.generate("330205", 400, rng)
    codes = list(good)
    alphabet = list(uscc.ALPHABET + "IOSVZ")
    for c in good[:300]:
        i = int(rng.integers(0, 18))
        codes.append(c[:i] + str(rng.choice(alphabet)) + c[i + 1:])
    codes += KNOWN_VALID + PILOT + ["", None, "short", "９１３５０１００Ｍ０００１００Ｙ４３"]
    vec = uscc.validate(pd.Series(codes, dtype=object))
    for code, (_, row) in zip(codes, vec.iterrows()):
        r = uscc.check(code)
        assert (row["status"], row["reason"] if row["status"] != "ok" else None) == (
            r.status, r.reason if r.status != "ok" else None), code


def test_generate_is_valid_distinct_and_deterministic():
    a = uscc.generate("330205", 2000, np.random.default_rng(1))
    b = uscc.generate("330205", 2000, np.random.default_rng(1))
    assert a == b and len(set(a)) == 2000
    assert all(c.startswith("91330205MA") and uscc.check(c).status == "ok" for c in a)
    assert all(_independent_check_char(c[:17]) == c[17] for c in a)
    c = uscc.generate("330205", 50, np.random.default_rng(1), exclude=set(a[:50]))
    assert not set(c) & set(a[:50])


def test_generate_rejects_bad_division():
    with pytest.raises(ValueError, match="division_code"):
        uscc.generate("33020", 1, np.random.default_rng(0))


def test_parse_parts():
    p = uscc.parse("91330205MA2H7K3Q0B")
    assert p == {"registration_authority": "9", "organisation_category": "91", "division_code": "330205",
                 "organisation_code": "MA2H7K3Q0", "check_character": "B"}


def _made_up(first8: str, body8: str = "MA2H7K3Q") -> str:
    """A code with both check characters right whatever its first 8 characters say."""
    c17 = first8 + body8 + uscc.org_check_character(body8)
    return c17 + _independent_check_char(c17)


@pytest.mark.parametrize("head,reason", [("0A000000", "authority"), ("B1330205", "authority"),
                                         ("94330205", "category"), ("9A330205", "category")])
def test_made_up_authority_or_category_is_refused_though_check_characters_pass(head, reason):
    code = _made_up(head)
    r = uscc.check(code)
    assert (r.status, r.reason) == ("invalid", reason), r
    assert repr(code[:1] if reason == "authority" else code[:2]) in r.message
    vec = uscc.validate(pd.Series([code, _made_up("91330205"), _made_up("12330205"), _made_up("Y1330205")]))
    assert vec["reason"].fillna("-").tolist() == [reason, "-", "-", "-"]
    assert vec["status"].tolist() == ["invalid", "ok", "ok", "ok"]


def test_check_character_faults_are_reported_before_the_authority():
    code = _made_up("0A000000")
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    assert uscc.check(wrong).reason == "check_char"
    assert uscc.validate(pd.Series([wrong]))["reason"].iloc[0] == "check_char"


def test_fifteen_digit_registration_number_gets_a_hint():
    r = uscc.check("330205000123456")
    assert r.reason == "length" and "注册号" in r.message and "got 15" in r.message
    assert "注册号" not in uscc.check("33020500012345X").message


@pytest.mark.parametrize("authority,category", [("0", "1"), ("9", "4"), ("91", ""), ("9", "I")])
def test_generate_refuses_codes_it_could_not_validate(authority, category):
    with pytest.raises(ValueError):
        uscc.generate("330205", 1, np.random.default_rng(0), registration_authority=authority, category=category)
    assert all(uscc.check(c).status == "ok"
               for c in uscc.generate("330205", 5, np.random.default_rng(0), registration_authority="5", category="2"))


def test_vectorised_matches_scalar_on_random_heads_with_right_check_characters():
    rng = np.random.default_rng(11)
    heads = ["".join(rng.choice(list(uscc.ALPHABET), 2)) + "330205" for _ in range(400)]
    codes = [_made_up(h) for h in heads]
    vec = uscc.validate(pd.Series(codes))
    scalar = [uscc.check(c) for c in codes]
    assert vec["status"].tolist() == [r.status for r in scalar]
    assert vec["reason"].fillna("-").tolist() == [r.reason or "-" for r in scalar]
    assert {r.reason for r in scalar} == {None, "authority", "category"}


def test_an_allow_list_excuses_the_check_characters_only_and_both_checks_agree():
    """A reviewer's finding: with a caller's allow-list, ``check`` passed an allow-listed code with a wrong position 17
    as "ok" and refused one with a made-up head, while ``validate`` called both "pilot". The allow-list is for
    genuine pilot-era codes whose check characters do not follow the formula: it excuses positions 17 and 18, nothing
    else, and the scalar and vectorised checks say the same."""
    rng = np.random.default_rng(3)
    good = uscc.generate("350100", 200, rng)
    codes = []
    for c in good[:100]:                                             # every position corrupted in turn
        i = int(rng.integers(0, 18))
        codes.append(c[:i] + str(rng.choice(list(uscc.ALPHABET))) + c[i + 1:])
    codes += [_made_up(h + "350100") for h in ("0A", "9Y", "B1", "91")]
    wrong17 = good[100][:16] + ("1" if good[100][16] != "1" else "2") + good[100][17]
    assert len(wrong17) == 18
    codes += [wrong17, wrong17[:17] + uscc.check_character(wrong17[:17])]  # wrong 17 (and 18); wrong 17 only
    bad_head = "0A" + good[101][2:17] + "X"                          # made-up head, wrong 18: not a pilot code
    codes += [bad_head, good[102]]
    allow = set(codes)
    vec = uscc.validate(pd.Series(codes), allow_list=allow)
    for code, (_, row) in zip(codes, vec.iterrows()):
        r = uscc.check(code, allow_list=allow)
        assert (row["status"], None if pd.isna(row["reason"]) else row["reason"]) == (r.status, r.reason), code
        plain = uscc.check(code, allow_list=())
        if plain.reason in ("org_check", "check_char") and uscc._authority_check(code) is None:
            assert r.status == "pilot" and r.reason == plain.reason, code  # only the check characters are excused
        elif plain.status == "invalid":
            assert r.status == "invalid", code                       # any other fault stays
    only17 = wrong17[:17] + uscc.check_character(wrong17[:17])
    r17 = uscc.check(only17, allow_list=allow)
    assert (r17.status, r17.reason) == ("pilot", "org_check") and "position 17" in r17.message
    assert uscc.check(bad_head, allow_list=allow).reason == "authority"
    assert uscc.check(good[102], allow_list=allow).status == "ok"
