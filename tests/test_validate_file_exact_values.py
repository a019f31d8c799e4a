"""``validate_file`` (``creditmodel validate``): which rows it leaves out and why, the counts and the
excluded_rows.csv it writes, the data fields of metrics.json, the reference sample, target labels, parameter
defaults and the messages naming file/column/row. Expected values are worked out by hand from the stand-in model's
formula below (or with sklearn/hashlib), never taken from the module's own output."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from creditmodel.errors import InputError

EDGES = [0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512, 0.1024, 0.2048]
D_AT = 3.5   # the stand-in grades a row D (in default at the start) from this x1 on


def _pd(x):
    return 1 / (1 + np.exp(-(-3.0 + 1.2 * x)))


def _score(x):
    p = _pd(x)
    return np.rint(600 - 28.85 * np.log(p / (1 - p)))


def _save(path, metadata, fail_above=None):
    """A stand-in pyfunc with the scoring contract: x1 missing -> status error "x1 missing" (and, with
    ``fail_above``, x1 above it -> "x1 too high"); x1 >= D_AT -> grade D."""
    mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")

    class Contract(mlflow_pyfunc.PythonModel):
        def __init__(self, fail_above=None):
            self.fail_above = fail_above

        def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
            x = pd.to_numeric(model_input["x1"], errors="coerce").to_numpy(dtype=float)
            ok = np.isfinite(x)
            err = np.where(ok, None, "x1 missing").astype(object)
            if self.fail_above is not None:
                hi = ok & (np.nan_to_num(x) > self.fail_above)
                err[hi], ok = "x1 too high", ok & ~hi
            xx = np.nan_to_num(x)
            p = np.where(ok, _pd(xx), np.nan)
            grade = np.where(ok, np.where(xx >= D_AT, "D", (np.searchsorted(EDGES, np.nan_to_num(p)) + 1).astype(str)),
                             None)
            return pd.DataFrame({"score": np.where(ok, _score(xx), np.nan), "grade": grade, "pd_12m": p,
                                 "model_name": "contract", "model_version": "1",
                                 "status": np.where(ok, "ok", "error"), "error": err})

    mlflow_pyfunc.save_model(str(path), python_model=Contract(fail_above), pip_requirements=["mlflow"],
                             metadata=metadata)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("contracts")
    return {"id": _save(d / "with_id", {"id_col": "id"}),
            "yes": _save(d / "yes", {"positive": "yes"}),
            "zero": _save(d / "zero", {"positive": "0"}),
            "picky": _save(d / "picky", {}, fail_above=1.5),
            "plain": _save(d / "plain", {})}


def _frame(n=400, seed=11):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0.0, 1.0, n).clip(-3, 3)
    y = rng.binomial(1, _pd(x1))
    return pd.DataFrame({"id": [f"F{i:05d}" for i in range(n)], "x1": x1, "bad": y})


# rows (0-based) of the mixed file
ERR = {3: 1, 10: 0, 11: 1}                 # x1 missing -> scoring error; value: their outcome
REP = {20: 0, 25: 1, 30: 0, 35: 0}         # 20: empty id; 25, 35: id of row 1; 30: id of row 10 (an error row)
DROWS = {40: 1, 41: 0}                     # grade D


def _mixed():
    df = _frame()
    for r, v in {**ERR, **REP, **DROWS}.items():
        df.loc[r, "bad"] = v
    df.loc[list(ERR), "x1"] = np.nan
    df.loc[11, "id"] = "F00000"            # an error row that also repeats an id: a scoring error, said once
    df.loc[20, "id"] = None
    df.loc[[25, 35], "id"] = "F00001"
    df.loc[30, "id"] = "F00010"
    df.loc[list(DROWS), "x1"] = 4.0
    return df


@pytest.fixture(scope="module")
def mixed_run(models, tmp_path_factory):
    from creditmodel.validation.report import validate_file

    d = tmp_path_factory.mktemp("mixed")
    df = _mixed()
    df.to_csv(d / "mixed.csv", index=False)
    res = validate_file(models["id"], d / "mixed.csv", "bad", out=d / "out", n_boot=20)
    m = json.loads((d / "out" / "metrics.json").read_text(encoding="utf-8"))
    return d, df, res, m


def test_counts_of_the_rows_left_out_and_their_defaults(mixed_run):
    d, df, res, m = mixed_run
    assert m["excluded"] == {"scoring error (status=error; 2 of them defaulted)": 3,
                             "empty or repeated id (1 of them defaulted)": 4,
                             "grade D (in default at the start)": 2}
    assert m["n_input"] == 400 and m["n"] == 400 - 3 - 4 - 2
    keep = np.ones(400, dtype=bool)
    keep[[*ERR, *REP, *DROWS]] = False
    y = df["bad"].to_numpy()[keep]
    assert m["defaults"] == int(y.sum())
    assert m["auc"] == pytest.approx(roc_auc_score(y, -_score(df["x1"].to_numpy()[keep])))
    assert m["data"]["scoring_errors"] == {"x1 missing": 3, "column 'id': the id is empty": 1,
                                           "column 'id': duplicate id 'F00001', first on row 2": 2,
                                           "column 'id': duplicate id 'F00010', first on row 11": 1}


def test_excluded_rows_csv_lists_every_row_with_its_reason_and_outcome(mixed_run):
    d, df, res, m = mixed_run
    raw = (d / "out" / "excluded_rows.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                      # utf-8-sig: Excel reads it
    ex = pd.read_csv(d / "out" / "excluded_rows.csv", encoding="utf-8-sig")
    assert list(ex.columns) == ["row", "reason", "defaulted"]
    assert ex["row"].tolist() == [4, 11, 12, 21, 26, 31, 36, 41, 42]
    assert ex["reason"].tolist() == (["scoring error: x1 missing"] * 3
                                     + ["column 'id': the id is empty",
                                        "column 'id': duplicate id 'F00001', first on row 2",
                                        "column 'id': duplicate id 'F00010', first on row 11",
                                        "column 'id': duplicate id 'F00001', first on row 2"]
                                     + ["grade D (in default at the start)"] * 2)
    assert ex["defaulted"].tolist() == [1, 0, 1, 0, 1, 0, 0, 1, 0]


def test_data_fields_of_metrics_json(mixed_run, models):
    d, df, res, m = mixed_run
    data = m["data"]
    assert data["model"] == str(models["id"])
    assert data["data_file"] == str(d / "mixed.csv")
    assert data["data_sha256"] == hashlib.sha256((d / "mixed.csv").read_bytes()).hexdigest()
    assert data["target"] == "bad" and data["positive"] == "1"
    assert data["model_name"] == "contract" and data["model_version"] == "1"
    # 399 non-blank ids (row 21 empty), 400 - 4 repeats - the blank one = 395 distinct
    assert data["unit"] == ("rows: each of the 400 rows of the file is counted as one obligor in the per-grade tests "
                            "(Jeffreys, binomial), concentration and segments; their 399 non-blank id values hold "
                            "395 distinct ones")
    assert "reference_file" not in data and "initial_auc_sample" not in data


def test_a_clean_run_into_the_same_folder_removes_the_old_excluded_rows(models, tmp_path):
    from creditmodel.validation.report import validate_file

    _frame().to_csv(tmp_path / "clean.csv", index=False)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "excluded_rows.csv").write_text("row,reason,defaulted\n4,scoring error,1\n")  # a former run's
    res = validate_file(models["id"], tmp_path / "clean.csv", "bad", out=tmp_path / "o", n_boot=10)
    assert not (tmp_path / "o" / "excluded_rows.csv").exists()
    assert res.metrics["excluded"] == {} and res.metrics["n"] == res.metrics["n_input"] == 400
    assert "scoring_errors" not in res.metrics["data"]


def test_without_the_model_s_id_column_no_row_is_left_out_for_its_id(models, tmp_path):
    """Repeated values of a column that is not the model's id column are no exclusion; neither is a file
    without that column."""
    from creditmodel.validation.report import validate_file

    df = _frame()
    df.loc[[5, 6], "id"] = "F00000"
    df.rename(columns={"id": "firm"}).to_csv(tmp_path / "d.csv", index=False)
    m = validate_file(models["id"], tmp_path / "d.csv", "bad", out=None, n_boot=10).metrics
    assert m["excluded"] == {} and m["n"] == 400


def test_every_row_refused_names_the_file_and_the_most_frequent_reason(models, tmp_path):
    from creditmodel.validation.report import validate_file

    df = _frame(7)
    df["x1"] = [np.nan, 2.0, np.nan, np.nan, 2.5, np.nan, 3.0]   # 4 "x1 missing", 3 "x1 too high"
    df["bad"] = [1, 0, 1, 0, 0, 1, 1]
    df.to_csv(tmp_path / "none.csv", index=False)
    with pytest.raises(InputError) as e:
        validate_file(models["picky"], tmp_path / "none.csv", "bad", out=tmp_path / "o", n_boot=10)
    assert e.value.message == "none of the 7 rows could be scored (status=error); most often: x1 missing"
    assert str(e.value.file) == str(tmp_path / "none.csv") and e.value.row is None
    # two rows scored: no such refusal (the guard is "every row", not "any row"); 5 refused, 3 of them defaults
    df.loc[2, "x1"], df.loc[3, "x1"] = 0.1, 0.2
    df.to_csv(tmp_path / "two.csv", index=False)
    m = validate_file(models["picky"], tmp_path / "two.csv", "bad", out=None, n_boot=10).metrics
    assert m["n"] == 2 and m["n_input"] == 7 and m["defaults"] == 1
    assert m["excluded"] == {"scoring error (status=error; 3 of them defaulted)": 5}
    assert m["data"]["scoring_errors"] == {"x1 too high": 3, "x1 missing": 2}


@pytest.mark.parametrize("case", ["target", "header", "grade_pd", "override", "group", "group_is_target",
                                  "group_few"])
def test_messages_name_the_file_column_and_parameter(models, tmp_path, case):
    from creditmodel.validation.report import validate_file

    df = _frame(60)
    path = tmp_path / "d.csv"
    if case == "header":   # a CSV with only a header is refused by the reader; a parquet file reaches this check
        path = tmp_path / "d.parquet"
        df.iloc[:0].to_parquet(path)
    else:
        df.assign(cls=np.arange(60) % 2).to_csv(path, index=False)
    kw = {"target": "bad", **{"target": {"target": "default_flag"}, "grade_pd": {"grade_pd": "median"},
                              "override": {"override_col": "final"}, "group": {"group_col": "borrower"},
                              "group_is_target": {"group_col": "bad"}, "group_few": {"group_col": "cls"}}.get(case, {})}
    with pytest.raises(InputError) as e:
        validate_file(models["picky"], path, out=tmp_path / "o", n_boot=10, **kw)
    err = e.value
    want = {"target": ("target column not found (columns: ['id', 'x1', 'bad', 'cls'])", str(path), "default_flag",
                       None),
            "header": ("no data rows (only a header): nothing to validate", str(path), None, None),
            "grade_pd": ("grade_pd must be 'mean', 'central' or a PD per grade, got 'median'", None, None,
                         "--grade-pd"),
            "override": ("override column not found (columns: ['id', 'x1', 'bad', 'cls'])", str(path), "final",
                         None),
            "group": ("group column not found (columns: ['id', 'x1', 'bad', 'cls'])", str(path), "borrower", None),
            "group_is_target": (None, str(path), "bad", "--group"),
            "group_few": ("the group column has 2 distinct value(s) for 60 rows: --group names the borrower of each "
                          "row (the firm of each loan), and the borrower-clustered intervals and tests need at least "
                          "30 borrowers; leave --group out for a column that is a class, not a borrower", str(path),
                          "cls", "--group")}[case]
    if want[0] is not None:
        assert err.message == want[0]
    else:
        assert err.message.startswith("the group column is the target")
    assert (None if err.file is None else str(err.file)) == want[1]
    assert err.column == want[2] and err.parameter == want[3] and err.row is None


def test_thirty_borrowers_are_enough_for_group(models, tmp_path):
    """MIN_BORROWERS = 30: 30 distinct borrowers pass, 29 are refused."""
    from creditmodel.validation.report import validate_file

    df = _frame(60)
    df.assign(firm=np.arange(60) % 30).to_csv(tmp_path / "g30.csv", index=False)
    df.assign(firm=np.arange(60) % 29).to_csv(tmp_path / "g29.csv", index=False)
    m = validate_file(models["picky"], tmp_path / "g30.csv", "bad", out=None, n_boot=10,
                      group_col="firm").metrics
    assert m["n_input"] == 60
    with pytest.raises(InputError, match="has 29 distinct value"):
        validate_file(models["picky"], tmp_path / "g29.csv", "bad", out=tmp_path / "o2", n_boot=10, group_col="firm")


def test_a_final_grade_off_the_scale_names_its_row_and_ignores_refused_rows(models, tmp_path):
    from creditmodel.validation.report import validate_file

    df = _frame(80)
    df["final"] = None
    df.loc[2, "x1"] = np.nan
    df.loc[2, "final"] = "Z"          # a refused row: not checked
    df.loc[4, "final"] = "D"          # D is a grade of every scale
    df.loc[9, "final"] = "Q"
    df.loc[12, "final"] = "Q"
    df.to_csv(tmp_path / "o.csv", index=False)
    with pytest.raises(InputError) as e:
        validate_file(models["picky"], tmp_path / "o.csv", "bad", out=tmp_path / "o", n_boot=10, override_col="final")
    assert e.value.row == 10 and e.value.column == "final" and str(e.value.file) == str(tmp_path / "o.csv")
    assert e.value.message.startswith("final grade 'Q' is not a grade of the master scale (")
    assert e.value.message.endswith("D); 2 such row(s)")


def test_the_challenger_must_score_every_row_the_champion_scored(models, tmp_path):
    from creditmodel.validation.report import validate_file

    df = _frame(100)
    df["x1"] = np.linspace(-2, 1.4, 100)
    df.loc[37, "x1"] = 1.7
    df.loc[60, "x1"] = 2.0
    df.loc[5, "x1"] = np.nan
    df.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError) as e:
        validate_file(models["id"], tmp_path / "c.csv", "bad", out=tmp_path / "o", n_boot=10,
                      challenger_uri=models["picky"])
    assert e.value.message == "the challenger could not score 2 row(s) the champion scored"
    assert e.value.row == 38 and str(e.value.file) == str(tmp_path / "c.csv")


def test_reference_sample_counts_and_initial_auc_sample(models, tmp_path):
    from creditmodel.validation.report import validate_file

    cur = _frame(300, 1)
    ref = _frame(250, 2)
    ref.loc[[0, 7, 8, 9], "x1"] = np.nan           # 4 refused reference rows
    ref.loc[[0, 7], "bad"] = 1
    ref.loc[[8, 9], "bad"] = 0
    cur.to_csv(tmp_path / "cur.csv", index=False)
    ref.to_csv(tmp_path / "ref.csv", index=False)
    m = validate_file(models["plain"], tmp_path / "cur.csv", "bad", reference=tmp_path / "ref.csv",
                      out=None, n_boot=10).metrics
    data = m["data"]
    assert data["reference_file"] == str(tmp_path / "ref.csv")
    assert data["reference_sha256"] == hashlib.sha256((tmp_path / "ref.csv").read_bytes()).hexdigest()
    assert data["reference_rows"] == 250 and data["reference_scoring_errors"] == 4
    ok = ref["x1"].notna().to_numpy()
    d = int(ref.loc[ok, "bad"].sum())
    assert data["initial_auc_sample"] == (f"reference file ref.csv (246 scored rows, {d:,} defaults; optimistic "
                                          "if it holds rows the model was fitted on)")
    # the initial AUC on grades of the scored reference rows (Mann-Whitney, ties 1/2)
    g = np.searchsorted(EDGES, _pd(ref.loc[ok, "x1"].to_numpy())) + 1
    assert m["auc_initial"] == pytest.approx(roc_auc_score(ref.loc[ok, "bad"], g))
    # a given initial AUC wins over the reference's
    g2 = validate_file(models["plain"], tmp_path / "cur.csv", "bad", reference=tmp_path / "ref.csv",
                       out=None, n_boot=10, initial_auc=0.71).metrics
    assert g2["auc_initial"] == 0.71 and g2["data"]["initial_auc_sample"] == "given (--initial-auc)"
    # a reference without the target: PSI still, no initial AUC from it
    ref.drop(columns="bad").to_csv(tmp_path / "ref_x.csv", index=False)
    n = validate_file(models["plain"], tmp_path / "cur.csv", "bad", reference=tmp_path / "ref_x.csv",
                      out=None, n_boot=10).metrics
    assert "initial_auc_sample" not in n["data"] and n["data"]["reference_rows"] == 250
    assert "psi" in n and "auc_initial" not in n


def test_the_recorded_bad_label_reads_the_target(models, tmp_path):
    from creditmodel.validation.report import validate_file

    df = _frame(200, 4)
    y = df["bad"].to_numpy()
    df.assign(bad=np.where(y == 1, "yes", "no")).to_csv(tmp_path / "yn.csv", index=False)
    m = validate_file(models["yes"], tmp_path / "yn.csv", "bad", out=None, n_boot=10).metrics
    assert m["data"]["positive"] == "yes" and m["defaults"] == int(y.sum())
    # the reference's target is read with the same label (here the model's recorded one)
    ref = _frame(120, 6)
    ref.assign(bad=np.where(ref["bad"] == 1, "yes", "no")).to_csv(tmp_path / "ref.csv", index=False)
    r = validate_file(models["yes"], tmp_path / "yn.csv", "bad", reference=tmp_path / "ref.csv", out=None,
                      n_boot=10).metrics
    assert r["data"]["initial_auc_sample"].startswith(f"reference file ref.csv (120 scored rows, "
                                                      f"{int(ref['bad'].sum())} defaults;")
    assert m["auc"] == pytest.approx(roc_auc_score(y, -_score(df["x1"].to_numpy())))
    inv = validate_file(models["yes"], tmp_path / "yn.csv", "bad", positive="no", out=None, n_boot=10).metrics
    assert inv["data"]["positive"] == "no" and inv["defaults"] == 200 - int(y.sum())
    # a model trained with 0 as its bad label: a 0/1 target is read that way round
    df.to_csv(tmp_path / "01.csv", index=False)
    z = validate_file(models["zero"], tmp_path / "01.csv", "bad", out=None, n_boot=10).metrics
    assert z["defaults"] == 200 - int(y.sum()) and z["data"]["positive"] == "0"


def test_parameter_defaults(models, tmp_path, monkeypatch):
    """out='validation' in the working folder, n_boot=500, seed=0, grade_pd='mean'."""
    from creditmodel.validation.report import validate_file

    _frame(150, 5).to_csv(tmp_path / "d.csv", index=False)
    monkeypatch.chdir(tmp_path)
    res = validate_file(models["plain"], tmp_path / "d.csv", "bad")
    m = json.loads((tmp_path / "validation" / "metrics.json").read_text(encoding="utf-8"))
    assert m["parameters"]["n_boot"] == 500 and m["parameters"]["seed"] == 0
    assert m["parameters"]["alpha"] == 0.05 and res.metrics["n"] == 150


def test_a_row_without_a_target_is_refused_by_its_row_number(models, tmp_path):
    from creditmodel.validation.report import validate_file

    df = _frame(30).astype({"bad": "float"})
    df.loc[[7, 19], "bad"] = np.nan
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InputError) as e:
        validate_file(models["plain"], tmp_path / "t.csv", "bad", out=None, n_boot=10)
    assert e.value.message == "2 missing target value(s)"
    assert e.value.row == 8 and e.value.column == "bad" and str(e.value.file) == str(tmp_path / "t.csv")


@pytest.mark.parametrize("given", [0.0, 1.0, 1.01, True])
def test_a_given_initial_auc_is_a_number_in_zero_one(models, tmp_path, given):
    from creditmodel.validation.report import validate_file

    _frame(80, 7).to_csv(tmp_path / "d.csv", index=False)
    if given is True or given > 1:
        with pytest.raises(InputError) as e:
            validate_file(models["plain"], tmp_path / "d.csv", "bad", out=None, n_boot=10, initial_auc=given)
        assert e.value.message == f"the initial AUC must be a number in [0, 1], got {given!r}"
        assert e.value.column == "initial_auc"
    else:
        m = validate_file(models["plain"], tmp_path / "d.csv", "bad", out=None, n_boot=10, initial_auc=given).metrics
        assert m["auc_initial"] == given and m["data"]["initial_auc_sample"] == "given (--initial-auc)"


def test_an_id_of_blanks_is_empty_not_a_distinct_borrower(models, tmp_path):
    from creditmodel.validation.report import validate_file

    df = _frame(50, 8)
    df.loc[7, "id"] = "   "
    df.loc[8, "id"] = "F00000"
    df.loc[[7, 8], "bad"] = [1, 1]
    df.to_csv(tmp_path / "b.csv", index=False)
    m = validate_file(models["id"], tmp_path / "b.csv", "bad", out=None, n_boot=10).metrics
    assert m["excluded"] == {"empty or repeated id (2 of them defaulted)": 2} and m["n"] == 48
    # 49 non-blank ids; F00007 and F00008 gone, F00000 twice: 48 distinct
    assert m["data"]["unit"].endswith("; their 49 non-blank id values hold 48 distinct ones")


@pytest.mark.parametrize("n_missing", [0, 2])
def test_no_row_left_after_the_id_check_names_the_file_and_the_id_column(models, tmp_path, n_missing):
    """Every row without an id (and, in the second case, two rows the model cannot score): the refusal names the file,
    the id column and the first such row (it read "column 'target': the sample is empty")."""
    from creditmodel.validation.report import validate_file

    df = _frame(40, 9)
    df["id"] = None
    df.loc[[5, 6][:n_missing], "x1"] = np.nan   # x1 missing: status error from the model, before the id check
    df.to_csv(tmp_path / "ids.csv", index=False)
    with pytest.raises(InputError) as e:
        validate_file(models["id"], tmp_path / "ids.csv", "bad", out=None, n_boot=10)
    assert e.value.file == tmp_path / "ids.csv" and e.value.column == "id" and e.value.row == 1
    n_rep = 40 - n_missing
    tail = f" and the other {n_missing} could not be scored" if n_missing else ""
    assert e.value.message == (f"no row left to validate: {n_rep} of the 40 rows have an empty or repeated id "
                               f"(the model's id column, as score reads it){tail}")
