"""Configuration YAML is read strictly (creditmodel.yamlfile): a repeated key is an error, 1e6 is a number."""
from __future__ import annotations

import pytest

from creditmodel.errors import ConfigError
from creditmodel.reference import PROJECT_DATA
from creditmodel.yamlfile import load_yaml


def test_numbers_with_an_exponent_are_floats_and_the_rest_is_safe_load():
    got = load_yaml("a: 5e-1\nb: 1E6\nc: -2.5e+3\nd: 12\ne: 1.5\nf: x1e5\ng: '5e-1'\nh: .5e1\n")
    assert got == {"a": 0.5, "b": 1e6, "c": -2500.0, "d": 12, "e": 1.5, "f": "x1e5", "g": "5e-1", "h": 5.0}


def test_a_repeated_key_names_the_file_the_key_and_both_lines(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("top:\n  x: 1\n  y: 2\n  x: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_yaml(p)
    assert e.value.column == "x" and str(p) in str(e.value) and "line 2, column 3 and line 4, column 3" in str(e.value)
    assert load_yaml("a: {x: 1}\nb: {x: 1}\n") == {"a": {"x": 1}, "b": {"x": 1}}  # same key, other mappings
    with pytest.raises(ConfigError, match="appears twice"):
        load_yaml("{a: 1, a: 2}")  # on one line too
    # merge keys stay what safe_load makes of them: an explicit key may override a merged one
    assert load_yaml("base: &b {w: 1, y: 2}\nind:\n  <<: *b\n  y: 3\n") == {"base": {"w": 1, "y": 2},
                                                                          "ind": {"w": 1, "y": 3}}


def test_an_indicator_defined_twice_is_refused_not_silently_replaced(tmp_path):
    """`creditmodel evaluate --config` used to keep the second of two blocks with the same indicator key."""
    from creditmodel.evaluation.config import load_config

    text = (PROJECT_DATA / "public_credit_indicators.yaml").read_text(encoding="utf-8")
    block = text[text.index("      enforcement_open:"):text.index("      dishonest_debtor_past:")]
    dup = tmp_path / "dup.yaml"
    dup.write_text(text.replace(block, block + block.replace("points: -4", "points: -1")), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(dup)
    assert e.value.column == "enforcement_open" and "appears twice" in str(e.value)
    assert load_config(PROJECT_DATA / "public_credit_indicators.yaml")  # the shipped file has no repeated key


@pytest.mark.parametrize("encoding", ["gbk", "utf-16", "utf-8-sig"])
def test_a_configuration_in_another_encoding_is_read_or_refused_naming_the_file(tmp_path, encoding, caplog):
    """A GBK or UTF-16 copy of a configuration was a UnicodeDecodeError with exit 1 that named no file
    (`evaluate --config`, `price --config`, `validate --thresholds`, `run -p config=`)."""
    import logging

    from creditmodel.evaluation.config import load_config

    text = (PROJECT_DATA / "public_credit_indicators.yaml").read_text(encoding="utf-8")
    p = tmp_path / "indicators.yaml"
    p.write_text(text, encoding=encoding)
    with caplog.at_level(logging.WARNING, logger="creditmodel"):
        cfg = load_config(p)
    assert cfg.indicator_table().equals(load_config(PROJECT_DATA / "public_credit_indicators.yaml").indicator_table())
    said = [r.getMessage() for r in caplog.records if "not UTF-8" in r.getMessage()]
    assert len(said) == (1 if encoding == "gbk" else 0) and (not said or str(p) in said[0])
    # UTF-8 Chinese with one stray Windows-1252 byte: refused (GB 18030 would garble every label), as the CSVs are
    stray = tmp_path / "stray.yaml"
    stray.write_bytes(text.encode("utf-8").replace("综合评价)".encode(), "综合评价) caf".encode() + b"\xe9", 1))
    if encoding == "gbk":
        with pytest.raises(ConfigError) as e:
            load_yaml(stray)
        assert str(stray) in str(e.value) and "not UTF-8" in str(e.value) and "e9" in str(e.value)
    bad = tmp_path / "binary.yaml"
    bad.write_bytes(b"a: 1\n\x81\x20\xff\xfe\x00")   # neither UTF-8 nor GB 18030
    with pytest.raises(ConfigError) as e:
        load_yaml(bad)
    assert str(bad) in str(e.value) and "byte 0x81 at position 5" in str(e.value) and "UTF-8" in str(e.value)
