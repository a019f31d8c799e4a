"""District loading and generation leftovers of the fuzzer: a missing snapshot date is said, a manifest that is not
a JSON object is bad input, and `generate` does not overwrite another district without --force."""
from __future__ import annotations

import json
import logging

import pytest

from creditmodel.data.io import load_district
from creditmodel.errors import InputError


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from creditmodel.data.synthetic import generate_district

    d = tmp_path_factory.mktemp("d")
    generate_district(300, 5, out=d, progress=False)
    return d


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_a_district_without_a_snapshot_date_says_which_it_uses(small, tmp_path, caplog):
    d = _copy(small, tmp_path / "d")
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.io"):
        load_district(d)
    assert not [r for r in caplog.records if "snapshot date" in r.getMessage()]   # the manifest has it
    (d / "manifest.json").unlink()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.io"):
        dist = load_district(d)
    msg = [r.getMessage() for r in caplog.records if "snapshot date" in r.getMessage()]
    assert len(msg) == 1 and "no manifest.json" in msg[0] and "2025-12-31" in msg[0] and "snapshot_date" in msg[0]
    assert str(dist.snapshot_date.date()) == "2025-12-31"
    (d / "manifest.json").write_text(json.dumps({"firms": 300}), encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.io"):
        load_district(d)
    assert any("has no snapshot_date" in r.getMessage() for r in caplog.records)


def test_a_manifest_that_is_a_list_is_bad_input(small, tmp_path):
    d = _copy(small, tmp_path / "d")
    (d / "manifest.json").write_text(json.dumps([{"snapshot_date": "2025-12-31"}]), encoding="utf-8")
    with pytest.raises(InputError, match="must be a JSON object") as e:   # it was exit 1, AttributeError
        load_district(d)
    assert str(e.value.file).endswith("manifest.json")


def test_a_file_given_as_the_district_folder_says_what_a_district_is(small):
    with pytest.raises(InputError, match="a district is a folder of tables") as e:
        load_district(small / "enterprises.parquet")
    assert "load_table" in str(e.value) and "use load_table" not in str(e.value)


def _generate(*args):
    """(exit code, stderr) of ``creditmodel -q generate ARGS``, run in this process."""
    from test_jobs_cli_exact_values import _main

    return _main("generate", *args)


def test_generate_does_not_overwrite_another_district_without_force(tmp_path):
    out = tmp_path / "d"
    code, _ = _generate("--firms", "200", "--seed", "1", "--out", str(out))
    assert code == 0
    before = (out / "enterprises.parquet").read_bytes()
    code, err = _generate("--firms", "200", "--seed", "2", "--out", str(out))
    assert code == 2 and "firms=200, seed=1" in err and "--force" in err
    assert (out / "enterprises.parquet").read_bytes() == before                 # left as it was
    code, _ = _generate("--firms", "200", "--seed", "1", "--out", str(out))
    assert code == 0 and (out / "enterprises.parquet").read_bytes() == before   # same parameters: same files
    code, _ = _generate("--firms", "200", "--seed", "2", "--out", str(out), "--force")
    assert code == 0 and json.loads((out / "manifest.json").read_text())["seed"] == 2


def test_generate_refuses_a_folder_of_other_files_and_names_what_force_leaves(tmp_path):
    """A lone loans.parquet (no enterprises table: no district) was overwritten without a word, and files that
    --force does not write (a stale extra.parquet) stayed unmentioned beside the new district (a reviewer)."""
    out = tmp_path / "d"
    out.mkdir()
    (out / "loans.parquet").write_bytes(b"not yours")
    (out / "extra.parquet").write_bytes(b"x")
    code, err = _generate("--firms", "200", "--seed", "1", "--out", str(out))
    assert code == 2 and "holds 2 entries (extra.parquet, loans.parquet) but no district" in err and "--force" in err
    assert (out / "loans.parquet").read_bytes() == b"not yours" and not (out / "enterprises.parquet").exists()
    code, err = _generate("--firms", "200", "--seed", "1", "--out", str(out), "--force")   # the warning on stderr
    assert code == 0 and (out / "enterprises.parquet").exists()
    left = [line for line in err.splitlines() if "left in place" in line]
    assert len(left) == 1 and "(extra.parquet)" in left[0] and "loans.parquet" not in left[0]


def _score_read(path):
    from creditmodel.data.io import read_table

    return read_table(path)


@pytest.mark.parametrize("end", [b"\r", b"\r\n", b"\n"])
def test_a_windows_1252_csv_names_its_line_whatever_the_line_ends(tmp_path, end):
    """`_undecodable` split on LF only: a CR-only file named line 1 whatever the line (code reviewer)."""
    rows = [b"name,x", b""] + [f"firm{i},{i}".encode() for i in range(5)] + ["Café,9".encode("cp1252")]
    p = tmp_path / "f.csv"
    p.write_bytes(end.join(rows) + end)     # an empty line 2: counted as a line, not as a data row
    with pytest.raises(InputError) as e:
        _score_read(p)
    assert "line 8" in str(e.value) and e.value.row == 6 and "UTF-8" in str(e.value)


def test_a_small_windows_1252_file_with_its_odd_byte_at_the_end_is_not_utf8(tmp_path):
    """A file under 64 KiB whose only non-ASCII byte sat in its last 3 bytes passed for UTF-8 (a character 'cut' by
    the sample boundary that the file does not have): now named as not UTF-8 like other Windows-1252 files."""
    from creditmodel.data.io import _csv_encoding_and_header

    p = tmp_path / "g.csv"
    p.write_bytes(b"name,x\nfirm,1\nCaf" + "é".encode("cp1252"))
    assert _csv_encoding_and_header(p)[0] != "utf8"
    q = tmp_path / "u.csv"   # a real UTF-8 file of the same shape stays UTF-8
    q.write_bytes("name,x\nfirm,1\nCafé".encode("utf-8"))
    assert _csv_encoding_and_header(q)[0] == "utf8"


def test_a_record_table_without_rows_is_said(small, tmp_path, caplog):
    """A fuzzer's finding: a penalties file with a header and no rows was read as 'no penalties' without a word."""
    import pandas as pd

    d = _copy(small, tmp_path / "d")
    pen = pd.read_parquet(d / "penalties.parquet")
    pen.iloc[:0].to_parquet(d / "penalties.parquet", index=False)
    with caplog.at_level(logging.WARNING, logger="creditmodel.data.io"):
        dist = load_district(d)
    assert len(dist.tables["penalties"]) == 0
    msg = [r.getMessage() for r in caplog.records if "no rows" in r.getMessage()]
    assert len(msg) == 1 and "table penalties has a header but no rows" in msg[0]


def test_a_line_of_a_quoted_blank_is_an_empty_line_for_the_readers(tmp_path):
    """A line holding only "   " (a spreadsheet's empty text cell) stopped the read with "Expected 3 columns, got 1"
    and no row; it is skipped as an empty line, by the table reader and by scoring's chunked reader."""
    from creditmodel.data.io import read_table
    from creditmodel.scoring.score import iter_chunks

    f = tmp_path / "q.csv"
    f.write_text('a,b,c\n1,2,3\n"   "\n""\n4,5,6\n', encoding="utf-8")
    assert read_table(f, as_text=True)["a"].tolist() == ["1", "4"]
    got = [c for c in iter_chunks(f, 10)]
    assert sum(len(c) for c in got) == 2
    bad = tmp_path / "b.csv"   # a real short row after it is still named by its data row
    bad.write_text('a,b,c\n1,2,3\n"   "\n4,5\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_table(bad, as_text=True)
    assert err.value.row == 2


def test_a_parquet_column_of_lists_is_named_by_train_and_score(tmp_path):
    """A Parquet list<...> column stopped train and score with 'TypeError: unhashable type' (exit 1, a new
    user's finding): both readers name the file and the column."""
    import pandas as pd

    from creditmodel.data.io import read_table
    from creditmodel.scoring.score import check_input_file, iter_chunks

    p = tmp_path / "nested.parquet"
    pd.DataFrame({"x": [1.0, 2.0], "tags": [[1, 2], [3]], "bad": [0, 1]}).to_parquet(p)
    for read in (lambda: read_table(p), lambda: list(iter_chunks(p, 10)), lambda: check_input_file(p)):
        with pytest.raises(InputError) as e:
            read()
        assert e.value.column == "tags" and "nested values" in str(e.value) and "nested.parquet" in str(e.value)
    flat = tmp_path / "flat.parquet"
    pd.DataFrame({"x": [1.0, 2.0], "code": pd.Categorical(["a", "b"]), "bad": [0, 1]}).to_parquet(flat)
    assert read_table(flat).shape == (2, 3)          # a dictionary of plain values is one value per cell


def test_a_spreadsheet_is_refused_with_how_to_save_it(tmp_path):
    """A bank's portfolio arrives as .xlsx: the refusal listed our suffixes only."""
    from creditmodel.data.io import read_table
    from creditmodel.errors import InputError

    for name in ("portfolio.xlsx", "名单.xls"):
        (tmp_path / name).write_bytes(b"PK\x03\x04")
        with pytest.raises(InputError, match="save its sheet as CSV UTF-8") as e:
            read_table(tmp_path / name)
        assert str(e.value.file) == str(tmp_path / name)
    (tmp_path / "notes.docx").write_bytes(b"PK")
    with pytest.raises(InputError) as e:
        read_table(tmp_path / "notes.docx")
    assert "save its sheet" not in e.value.message
