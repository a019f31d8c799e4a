"""Real-data loaders, district tables and the feature catalogue: exact values on tiny hand-made files.

Every expected number is worked out by hand in the comments (no shared data needed): the CUMCM invoice arithmetic
(voided and red-letter invoices, active months, gross margin, the as-of date of the unrated firms), the monthly
district mapping, the date and firm-code checks of the invoice files, the SBA SAS-day check and reference columns,
the count of bad cells in an error, which data sets count as available, and catalogue lookups and domains.
"""
from __future__ import annotations

import gzip
import math

import numpy as np
import pandas as pd
import pytest

from creditmodel.data import real, tables
from creditmodel.errors import ConfigError, InputError
from creditmodel.features.catalogue import (FLAG_DOMAIN, catalogue, categorical_features, feature_directions,
                                            feature_domains, generic_catalogue, parse_catalogue, reason_text)
from creditmodel.reference import sectors
from test_real import _hmeq_file

# --------------------------------------------------------------------------- tiny files
_HEAD = "企业代号,发票号码,开票日期,{},金额,税额,价税合计,发票状态\n"
_CP = {"input": "销方单位代号", "output": "购方单位代号"}


def _cumcm(root, att1_in="", att1_out="", att2_in="", att2_out="",
           info1="E1,a,A,否\n", info2="E2,b\n"):
    """A CUMCM folder: the two enterprise lists and the four invoice files with the given data lines."""
    d = root / real.CUMCM_DIR
    d.mkdir(exist_ok=True)
    (d / "attachment1_enterprise_info.csv").write_text("企业代号,企业名称,信誉评级,是否违约\n" + info1,
                                                       encoding="utf-8")
    (d / "attachment2_enterprise_info.csv").write_text("企业代号,企业名称\n" + info2, encoding="utf-8")
    for att, kind, body in ((1, "input", att1_in), (1, "output", att1_out), (2, "input", att2_in),
                            (2, "output", att2_out)):
        with gzip.open(d / f"attachment{att}_{kind}_invoices.csv.gz", "wt", encoding="utf-8") as fh:
            fh.write(_HEAD.format(_CP[kind]) + body)
    return root


_OK_IN1 = "E1,1,2019/1/5,A1,100,3,103,有效发票\n"
_OK_IN2 = "E2,2,2019/1/5,A1,100,3,103,有效发票\n"
_OK_OUT2 = "E2,3,2019/2/1,B1,50,1.5,51.5,有效发票\n"


_SBA_COLS = ("Selected,LoanNr_ChkDgt,Name,City,State,Zip,Bank,BankState,NAICS,ApprovalDate,ApprovalFY,Term,NoEmp,"
             "NewExist,CreateJob,RetainedJob,FranchiseCode,UrbanRural,RevLineCr,LowDoc,ChgOffDate,DisbursementDate,"
             "DisbursementGross,BalanceGross,MIS_Status,ChgOffPrinGr,GrAppv,SBA_Appv,New,RealEstate,Portion,"
             "Recession,daysterm,xx,Default").split(",")
# the first line of the SBA case file (PROVENANCE.md), a loan paid in full
_SBA_ROW = ("0,1004285007,SIMPLEX OFFICE SOLUTIONS,ANAHEIM,CA,92801,CALIFORNIA BANK & TRUST,CA,532420,15074,2001,36,"
            "1,1,0,0,1,0,Y,N,,15095,32812,0,P I F,0,30000,15000,0,0,0.5,0,1080,16175,0").split(",")


def _sba(root, changes: list[dict]):
    rows = []
    for i, ch in enumerate(changes):
        r = dict(zip(_SBA_COLS, _SBA_ROW))
        r["LoanNr_ChkDgt"] = str(1000 + i)
        r.update(ch)
        rows.append(r)
    (root / "sba_loans_case").mkdir(exist_ok=True)
    pd.DataFrame(rows, columns=_SBA_COLS).to_csv(root / "sba_loans_case" / "SBAcase.11.13.17.csv", index=False)


# --------------------------------------------------------------------------- flat sets
def test_a_text_cell_in_a_number_column_counts_every_such_row(tmp_path):
    """LOAN 'abc' in rows 2 and 4: the error names the first (row 2) and counts both."""
    _hmeq_file(tmp_path, [{"LOAN": v} for v in ("100", "abc", "300", "x4")])
    with pytest.raises(InputError) as e:
        real.hmeq(data_dir=tmp_path)
    assert (e.value.column, e.value.row) == ("LOAN", 2)
    assert "(2 such row(s))" in str(e.value) and "abc" in str(e.value)


def test_a_file_with_its_own_row_id_column_names_the_data_set(tmp_path):
    """A copy with a column row_id clashes with the loader's row number: the ValueError of pandas is an InputError
    naming the folder, not a bare pandas error."""
    _hmeq_file(tmp_path, [{"LOAN": "100", "row_id": 7}, {"LOAN": "200", "row_id": 8}])
    with pytest.raises(InputError) as e:
        real.hmeq(data_dir=tmp_path)
    assert "hmeq" in str(e.value.file) and "row_id" in str(e.value)


def test_sba_loader_drops_the_outcome_and_keeps_reference_columns_apart(tmp_path):
    """Row 2 charged off (Default 1, MIS_Status CHGOFF with a charge-off date and amount): the outcome columns are
    dropped, the borrower is the group key and not among the reference columns a model leaves out."""
    _sba(tmp_path, [{}, {"Default": "1", "MIS_Status": "CHGOFF", "ChgOffDate": "16000", "ChgOffPrinGr": "1234",
                         "Name": "Act Fast Inc.", "FranchiseCode": "0"},
                    {"Name": "ACT FAST INC", "FranchiseCode": "12345"}])
    ds = real.sba_case(data_dir=tmp_path)
    assert ds.y.tolist() == [0, 1, 0]
    assert ds.leakage_dropped == ["MIS_Status", "ChgOffDate", "ChgOffPrinGr"]
    assert not {"MIS_Status", "ChgOffDate", "ChgOffPrinGr"} & set(ds.frame.columns)
    assert ds.group_col == "borrower" and ds.frame["borrower"].tolist() == ["SIMPLEXOFFICESOLUTIONS", "ACTFASTINC",
                                                                           "ACTFASTINC"]
    assert "borrower" in ds.info_cols and "borrower" not in ds.reference_columns
    assert ds.reference_columns == [c for c in ds.info_cols if c != "borrower"]
    assert ds.frame["FranchiseCode"].tolist() == ["none", "none", "franchise"]
    # 15074 days after 1960-01-01 is 2001-04-09; 16175 (xx) is 2004-04-14, renamed MaturityDate
    assert ds.frame["ApprovalDate"].iloc[0] == pd.Timestamp("2001-04-09")
    assert ds.frame["MaturityDate"].iloc[0] == pd.Timestamp("1960-01-01") + pd.Timedelta(days=16175)


@pytest.mark.parametrize("value", ["-40000", "40000"])
def test_a_sas_day_beyond_a_century_either_way_names_the_row(tmp_path, value):
    """SAS days within +-100 x 366 (1860..2060) are dates; -40000 (1850) is refused as well as 40000 (2069)."""
    _sba(tmp_path, [{}, {"ApprovalDate": value}])
    with pytest.raises(InputError, match="not a SAS day number") as e:
        real.sba_case(data_dir=tmp_path)
    assert (e.value.column, e.value.row) == ("ApprovalDate", 2)


def test_available_needs_every_file_of_a_set(tmp_path):
    """Only the CUMCM enterprise lists, without the invoice files: the CUMCM sets are not available."""
    _hmeq_file(tmp_path, [{"LOAN": "100"}])
    _cumcm(tmp_path, _OK_IN1, "", _OK_IN2, _OK_OUT2)
    for f in (tmp_path / real.CUMCM_DIR).glob("*.csv.gz"):
        f.unlink()
    assert real.available(tmp_path) == ["hmeq"]


# --------------------------------------------------------------------------- CUMCM invoice files
def test_an_empty_cell_names_its_row(tmp_path):
    _cumcm(tmp_path, _OK_IN1, "E1,4,2019/1/7,B1,300,9,309,有效发票\nE1,5,2019/1/8,,300,9,309,有效发票\n",
           _OK_IN2, _OK_OUT2)
    with pytest.raises(InputError, match="empty cell") as e:
        real.cumcm_invoices(tmp_path)
    assert (e.value.column, e.value.row) == ("购方单位代号", 2) and "attachment1_output" in str(e.value.file)


def test_the_date_range_is_inclusive_at_both_ends(tmp_path):
    """2000-01-01 and 2020-09-30 are accepted; 1999-12-31 (row 3) and 2020-10-01 (row 4) are refused: the error
    names the first and counts both."""
    ok = "E1,4,2000/1/1,B1,300,9,309,有效发票\nE1,5,2020/9/30,B1,300,9,309,有效发票\n"
    _cumcm(tmp_path, _OK_IN1, ok, _OK_IN2, _OK_OUT2)
    inv = real.cumcm_invoices(tmp_path)
    assert sorted(inv["date"].dt.strftime("%Y-%m-%d"))[:1] == ["2000-01-01"]
    assert inv["date"].max() == pd.Timestamp("2020-09-30")
    _cumcm(tmp_path, _OK_IN1, ok + "E1,6,1999/12/31,B1,1,0,1,有效发票\nE1,7,2020/10/1,B1,1,0,1,有效发票\n",
           _OK_IN2, _OK_OUT2)
    with pytest.raises(InputError, match="outside") as e:
        real.cumcm_invoices(tmp_path)
    assert (e.value.column, e.value.row) == ("开票日期", 3) and "(2 such row(s))" in str(e.value)


def test_a_firm_code_without_its_number_is_refused(tmp_path):
    _cumcm(tmp_path, _OK_IN1, "E1,4,2019/1/7,B1,300,9,309,有效发票\nE,5,2019/1/8,B1,300,9,309,有效发票\n",
           _OK_IN2, _OK_OUT2)
    with pytest.raises(InputError, match="E123") as e:
        real.cumcm_invoices(tmp_path)
    assert (e.value.column, e.value.row) == ("企业代号", 2)


def test_invoices_of_a_firm_missing_from_the_list_are_refused(tmp_path):
    """E9 issues invoices in attachment 1 but is in neither enterprise list: cumcm_firms names the list's file and
    the column, and cumcm_as_district refuses it too (it was dropped without a word)."""
    _cumcm(tmp_path, _OK_IN1, "E1,4,2019/1/7,B1,300,9,309,有效发票\nE9,5,2019/1/8,B1,300,9,309,有效发票\n",
           _OK_IN2, _OK_OUT2)
    inv = real.cumcm_invoices(tmp_path)
    with pytest.raises(InputError, match="E9") as e:
        real.cumcm_firms(True, data_dir=tmp_path, invoices=inv)
    assert e.value.column == "企业代号" and "attachment1_enterprise_info" in str(e.value.file)
    with pytest.raises(InputError, match="outside the enterprise lists") as e:
        real.cumcm_as_district(tmp_path, invoices=inv)
    assert e.value.column == "企业代号"


# --------------------------------------------------------------------------- CUMCM invoice features
# E1's sales in January 2019: 300 to B1, a credit note of -100 to B2 (valid), 50 voided and a voided credit note -20;
# a voided-only sales month in February; purchases 100 valid and 40 voided in January, 60 valid in March.
_E1_OUT = ("E1,11,2019/1/7,B1,300,9,309,有效发票\n"
           "E1,12,2019/1/20,B2,-100,-3,-103,有效发票\n"
           "E1,13,2019/1/21,B3,50,1.5,51.5,作废发票\n"
           "E1,14,2019/1/22,B1,-20,-0.6,-20.6,作废发票\n"
           "E1,15,2019/2/3,B1,70,2.1,72.1,作废发票\n")
_E1_IN = ("E1,21,2019/1/5,A1,100,13,113,有效发票\n"
          "E1,22,2019/1/6,A2,40,5.2,45.2,作废发票\n"
          "E1,23,2019/3/9,A1,60,7.8,67.8,有效发票\n")


@pytest.fixture
def e1(tmp_path):
    _cumcm(tmp_path, _E1_IN, _E1_OUT, _OK_IN2, _OK_OUT2)
    inv = real.cumcm_invoices(tmp_path)
    return tmp_path, inv


def test_invoice_features_count_valid_months_and_skip_voided_credit_notes(e1):
    root, inv = e1
    ds = real.cumcm_firms(True, data_dir=root, invoices=inv, as_of="2019-03-31")
    r = ds.frame.set_index("firm_id").loc["E1"]
    # valid invoices in January and March only (February holds a voided invoice): 2 active months of a 3-month span
    assert (r["months_active"], r["span_months"]) == (2, 3)
    assert r["active_month_share"] == pytest.approx(2 / 3)
    # |valid credit notes| / positive valid sales = 100 / 300 (the voided -20 is no credit note given)
    assert r["sales_red_amount_share"] == pytest.approx(100 / 300)
    # voided / issued: 3 of 5 sales, 1 of 3 purchases; red-letter over valid sales: 1 of 2
    assert r["sales_voided_share"] == pytest.approx(3 / 5) and r["purchase_voided_share"] == pytest.approx(1 / 3)
    assert r["sales_red_share"] == pytest.approx(1 / 2)
    # gross margin (200 - 160) / 200; customers on valid invoices B1, B2; top share of positive valid sales 1
    assert r["gross_margin"] == pytest.approx(40 / 200)
    assert (r["n_customers"], r["n_suppliers"], r["top_customer_share"]) == (2, 1, 1.0)
    # sales tax over positive valid sales 9 / 300; log of annualised net sales 200 x 12 / 3
    assert r["sales_tax_rate"] == pytest.approx(0.03)
    assert r["log_sales"] == pytest.approx(math.log1p(800.0))
    assert r["months_since_last_sale"] == 2 and r["months_since_last_purchase"] == 0
    assert ds.frame["default"].dtype == np.int64 and ds.frame["default"].tolist() == [0]


def test_gross_margin_is_missing_when_net_sales_are_zero(tmp_path):
    """Sales 100 and a credit note of -100 net to 0: the margin is NaN, not (0 - 50) / 0 = -inf."""
    _cumcm(tmp_path, "E1,1,2019/1/5,A1,50,1.5,51.5,有效发票\n",
           "E1,2,2019/1/7,B1,100,3,103,有效发票\nE1,3,2019/1/9,B1,-100,-3,-103,有效发票\n", _OK_IN2, _OK_OUT2)
    ds = real.cumcm_firms(True, data_dir=tmp_path, invoices=real.cumcm_invoices(tmp_path))
    r = ds.frame.iloc[0]
    assert np.isnan(r["gross_margin"]) and r["log_sales"] == 0.0
    assert np.isnan(r["sales_cv"]) and np.isnan(r["sales_trend"])   # mean monthly sales 0 is not positive


def test_the_unrated_firms_are_rated_as_of_the_last_invoice_of_both_attachments(tmp_path):
    """Attachment 1's last invoice is 2020-02-10, attachment 2's 2019-11-05: one as-of date for both, so the
    unrated E2 last sold 2020*12+1 - (2019*12+10) = 3 months before it, not 0."""
    _cumcm(tmp_path, _OK_IN1, "E1,4,2020/2/10,B1,300,9,309,有效发票\n", _OK_IN2,
           "E2,3,2019/11/5,B1,50,1.5,51.5,有效发票\n")
    inv = real.cumcm_invoices(tmp_path)
    unrated = real.cumcm_firms(False, data_dir=tmp_path, invoices=inv)
    r = unrated.frame.set_index("firm_id").loc["E2"]
    assert r["months_since_last_sale"] == 3
    # the last purchase 2019-01-05: 2020*12+1 - (2019*12+0) = 13 months
    assert r["months_since_last_purchase"] == 13
    assert unrated.y.isna().all()


def test_invoice_features_index_firms_in_natural_order(tmp_path):
    rows = "".join(f"{fid},{i},2019/1/{i + 1},B1,100,3,103,有效发票\n" for i, fid in enumerate(["E10", "E2", "E1"]))
    _cumcm(tmp_path, _OK_IN1, rows, _OK_IN2, _OK_OUT2,
           info1="E1,a,A,否\nE10,c,B,是\n", info2="E2,b\n")
    inv = real.cumcm_invoices(tmp_path)
    feats = real.cumcm_invoice_features(inv[(inv["direction"] == "sales").to_numpy()])
    assert feats.index.tolist() == ["E1", "E2", "E10"]


def test_monthly_district_table_counts_issued_valid_and_red_letter_invoices(e1):
    """January 2019 of E1: net valid sales 300 - 100 = 200, valid purchases 100 (the voided 40 left out); 4 sales
    invoices issued (2 valid, 2 voided), 1 valid purchase invoice; voided share 2 / 4; red-letter share = valid credit
    notes / issued = 1 / 4 (the voided -20 is no credit note). February: only a voided sale: 1 issued, all voided."""
    root, inv = e1
    d = real.cumcm_as_district(root, invoices=inv)
    code = d["enterprises"].set_index("firm_id").loc["E1", "uscc"]
    mon = d["invoices_monthly"]
    m = mon[mon["uscc"] == code].set_index("month")
    # as of the last invoice of all files (2019-03-09): January to March
    assert m.index.tolist() == [pd.Timestamp("2019-01-01"), pd.Timestamp("2019-02-01"), pd.Timestamp("2019-03-01")]
    jan, feb, mar = (m.iloc[i] for i in range(3))
    assert (jan["sales"], jan["purchases"]) == (200.0, 100.0)
    assert (jan["n_sales_invoices"], jan["n_purchase_invoices"]) == (4, 1)
    assert jan["voided_share"] == pytest.approx(0.5) and jan["red_letter_share"] == pytest.approx(0.25)
    assert (feb["sales"], feb["n_sales_invoices"], feb["voided_share"], feb["red_letter_share"]) == (0.0, 1, 1.0, 0.0)
    assert (mar["purchases"], mar["n_purchase_invoices"], mar["n_sales_invoices"]) == (60.0, 1, 0)


# --------------------------------------------------------------------------- feature catalogue
_GROUPS = {"basic": {"zh": "基础", "en": "Basic"}, "other": {"zh": "其他", "en": "Other"}}


def _entry(**kw):
    e = {"code": "firm_age_x", "name_zh": "成立年限", "name_en": "Firm age", "meaning": "years since registration",
         "unit": "years", "group": "basic", "table": "enterprises", "kind": "numeric", "direction": -1,
         "reason_zh": "成立时间较短", "reason_en": "Recently established"}
    e.update(kw)
    return e


def test_a_hand_made_catalogue_parses_with_its_group_names_and_directions():
    doc = {"groups": _GROUPS, "features": [_entry(), _entry(code="sector_x", kind="categorical", direction=0,
                                                              group="other", unit="category"),
                                           _entry(code="n_x", kind="count", unit="count", direction=1),
                                           _entry(code="flag_x", kind="flag", unit="flag", direction=1)]}
    cat = parse_catalogue(doc)
    assert cat["code"].tolist() == ["firm_age_x", "sector_x", "n_x", "flag_x"]
    assert cat["group_zh"].tolist()[:2] == ["基础", "其他"] and cat["group_en"].tolist()[:2] == ["Basic", "Other"]
    assert cat["direction"].dtype == np.int64
    assert feature_directions(cat) == {"firm_age_x": -1, "sector_x": 0, "n_x": 1, "flag_x": 1}
    assert categorical_features(cat) == ["sector_x"]
    assert reason_text("firm_age_x", "zh", cat) == "成立时间较短"
    assert reason_text("firm_age_x.missing", "en", cat) == "Firm age: data missing (cannot be judged)"
    assert reason_text("firm_age_x.missing", "zh", cat) == "成立年限：数据缺失（不可判断）"


@pytest.mark.parametrize("change, column", [
    ({"code": "Firm_Age"}, "code"),                     # not snake_case (upper case)
    ({"code": "firm age"}, "code"),                     # not an identifier
    ({"name_en": "Firm age in {unit}"}, "name_en"),     # a placeholder left unexpanded
    ({"reason_zh": "  "}, "reason_zh"),                 # blank
    ({"table": "nowhere"}, "table"),                    # not a district table
    ({"kind": "ratio"}, "kind"),
    ({"direction": True}, "direction"),                 # a bool is no direction, though True == 1
    ({"direction": 2}, "direction"),
    ({"kind": "categorical", "direction": 1}, "direction"),   # a categorical feature has direction 0
    ({"extra": 1}, "extra"),                            # unknown key
])
def test_a_bad_catalogue_entry_names_its_key(change, column):
    doc = {"groups": _GROUPS, "features": [_entry(code="ok_one"), _entry(**change)]}
    with pytest.raises(ConfigError) as e:
        parse_catalogue(doc, source="mine.yaml")
    assert e.value.column == column and "features[1]" in str(e.value) and "mine.yaml" in str(e.value.file)


def test_templates_are_expanded_once_per_sector_with_the_lower_case_name():
    tpl = _entry(code="insp_{sector}_n", name_zh="{sector_zh}检查", name_en="{sector_en} inspections",
                 reason_en="Many {sector_en_lower} inspections", unit="count", kind="count", direction=1)
    cat = parse_catalogue({"groups": _GROUPS, "features": [_entry()], "templates": [tpl]})
    sec = sectors()
    assert cat["code"].tolist() == ["firm_age_x", *[f"insp_{k}_n" for k in sec]]
    want = {f"insp_{k}_n": (f"{v['zh']}检查", f"{v['en']} inspections", f"Many {v['en'].lower()} inspections")
            for k, v in sec.items()}
    got = {c: (z, n, r) for c, z, n, r in zip(cat["code"], cat["name_zh"], cat["name_en"], cat["reason_en"])}
    assert {k: got[k] for k in want} == want
    assert got["insp_fire_safety_n"][2] == "Many fire safety inspections"


def test_the_scopes_split_the_packaged_catalogue_by_its_loan_group():
    """The YAML file read independently: the loan scope is the features of group loan, the enterprise scope all
    others, both numbered from 0 in file order."""
    from importlib import resources

    import yaml

    doc = yaml.safe_load(resources.files("creditmodel.resources").joinpath("feature_catalogue.yaml")
                         .read_text(encoding="utf-8"))
    loan = [f["code"] for f in doc["features"] if f["group"] == "loan"]
    assert loan  # the loan terms
    got_loan, got_ent, every = catalogue("loan"), catalogue("enterprise"), catalogue("all")
    assert got_loan["code"].tolist() == loan
    assert got_loan.index.tolist() == list(range(len(loan)))
    assert got_ent.index.tolist() == list(range(len(every) - len(loan)))
    assert not set(loan) & set(got_ent["code"]) and len(got_ent) + len(loan) == len(every)
    with pytest.raises(ValueError, match="scope"):
        catalogue("loans")


def test_feature_domains_by_unit_kind_and_code():
    rows = [("share_x", "numeric", "fraction"), ("n_x", "count", "count"), ("amount_x", "numeric", "yuan"),
            ("age_x", "numeric", "years"), ("grade_x", "numeric", "grade (0-4)"),
            ("grade_change_x", "numeric", "grade steps"), ("flag_x", "flag", "ratio"), ("ratio_x", "numeric", "ratio"),
            ("industry_x", "categorical", "fraction"), ("annual_roa", "numeric", "fraction"),
            ("invoice_sales_growth", "numeric", "fraction"), ("invoice_zero_sales_months", "count", "months")]
    cat = pd.DataFrame(rows, columns=["code", "kind", "unit"])
    dom = feature_domains(cat)
    got = {c: (d.low, d.high, d.whole) for c, d in dom.items()}
    assert got == {"share_x": (0.0, 1.0, False), "n_x": (0.0, None, False), "amount_x": (0.0, None, False),
                   "age_x": (0.0, None, False), "grade_x": (0.0, 4.0, True), "grade_change_x": (-4.0, 4.0, True),
                   "flag_x": (0.0, 1.0, True), "invoice_sales_growth": (-1.0, None, False),
                   "invoice_zero_sales_months": (0.0, 12.0, False)}
    assert dom["flag_x"] == FLAG_DOMAIN
    assert set(feature_domains(cat, codes=["n_x", "ratio_x", "annual_roa"])) == {"n_x"}


def test_generic_catalogue_skips_excluded_columns_and_reads_integer_columns_as_numbers():
    known = catalogue().set_index("code")
    code = next(c for c in known.index if known.loc[c, "unit"] == "yuan" and known.loc[c, "kind"] != "categorical")
    df = pd.DataFrame({"id": ["a", "b"], "n": [1, 2], code: [10.0, 20.0], "debt.ratio": [0.5, 0.1], "bad": [0, 1]})
    cat = generic_catalogue(df, "bad", exclude=["id"]).set_index("code")
    assert cat.index.tolist() == ["n", code, "debt.ratio"]
    assert cat.loc["n", "kind"] == "numeric" and cat.loc[code, "unit"] == "yuan"
    assert feature_domains(cat.reset_index(), [code])[code].low == 0.0
    # a column name with a dot: its reason is its own, and ".missing" is still the suffix only
    assert reason_text("debt.ratio", "en", cat.reset_index()) == "Unfavourable debt.ratio"
    assert reason_text("debt.ratio.missing", "en", cat.reset_index()) == "debt.ratio: data missing (cannot be judged)"


# --------------------------------------------------------------------------- district tables
def _load_rows(tmp_path, name, df):
    import district_factory as fac
    from creditmodel.data import io

    lt = io.load_table(fac.write(df, tmp_path / name, "csv"), name)
    faults = set(zip(lt.faults["row"], lt.faults["column"], lt.faults["rule"]))
    return lt, faults


def _records(name, n):
    import district_factory as fac

    return fac.records(name, fac.codes(3), n)


def test_invoice_month_shares_lie_between_0_and_1_and_amounts_are_not_negative(tmp_path):
    df = _records("invoices_monthly", 6)
    df.loc[0, "voided_share"] = "1.5"
    df.loc[1, "red_letter_share"] = "1.01"
    df.loc[2, "voided_share"] = "1"          # both ends inclusive
    df.loc[2, "red_letter_share"] = "1"
    df.loc[3, "sales"] = "-1"
    df.loc[4, "n_sales_invoices"] = "-2"
    _, faults = _load_rows(tmp_path, "invoices_monthly", df)
    assert faults == {(1, "voided_share", "out_of_range"), (2, "red_letter_share", "out_of_range"),
                      (4, "sales", "out_of_range"), (5, "n_sales_invoices", "out_of_range")}


def test_record_table_ranges_by_hand(tmp_path):
    arr = _records("arrears", 4)
    arr.loc[0, "months_overdue"] = "0"       # at least one month overdue
    arr.loc[1, "months_overdue"] = "1"
    arr.loc[2, "amount"] = "-5"
    _, faults = _load_rows(tmp_path / "a", "arrears", arr)
    assert faults == {(1, "months_overdue", "out_of_range"), (3, "amount", "out_of_range")}
    tax = _records("tax_grades", 3)
    tax.loc[0, "year"] = "2101"
    tax.loc[1, "year"] = "1999"
    _, faults = _load_rows(tmp_path / "t", "tax_grades", tax)
    assert faults == {(1, "year", "out_of_range"), (2, "year", "out_of_range")}
    loans = _records("loans", 3)
    loans.loc[0, "term_months"] = "121"     # at most 10 years
    loans.loc[1, "term_months"] = "120"
    _, faults = _load_rows(tmp_path / "l", "loans", loans)
    assert faults == {(1, "term_months", "out_of_range")}
    ins = _records("inspections", 3)
    ins.loc[2, "violations"] = "-1"
    _, faults = _load_rows(tmp_path / "i", "inspections", ins)
    assert faults == {(3, "violations", "out_of_range")}


def test_spellings_of_a_revocation_and_an_empty_capital(tmp_path):
    import district_factory as fac

    ent = fac.enterprises(fac.codes(3))
    ent["status"] = ["吊销", "注销", "存续"]
    ent["registered_capital"] = ["", "100", ""]     # not mandatory: no fault
    lt, faults = _load_rows(tmp_path, "enterprises", ent)
    assert lt.data["status"].tolist() == ["revoked", "deregistered", "active"]
    assert not {f for f in faults if f[1] == "registered_capital"}


def test_table_declarations_users_rely_on():
    ent = tables.table("enterprises")
    assert ent.required_columns == ["uscc", "name", "industry", "street", "registered_on", "size_class", "status",
                                    "reported_on"]
    with pytest.raises(KeyError, match="nope"):
        ent.column("nope")
    assert tables.table("invoices_monthly").key == ("uscc", "month")
    assert tables.table("penalties").event_date == "decision_date"
    assert tables.PUBLIC_RECORD_TABLES == ["enterprises", "penalties", "enforcement", "tax_grades", "arrears",
                                           "inspections", "lists", "commitments", "repairs"]
    lists = tables.table("lists")
    assert lists.column("end_date").scheduled and not lists.column("start_date").scheduled
    with pytest.raises(KeyError, match="unknown table 'loan'"):
        tables.table("loan")


def test_invoice_features_of_thin_firms(tmp_path):
    """E1 sold 100 in January and gave a credit note of -300 in February: net sales -200 read as 0 (log 0, growth
    log(1) - log(1) = 0). E2's only sale is a credit note: no positive sales, so no top customer and no HHI. E3 only
    bought: no sale to date from. E4 has one voided invoice only: no active span, so no annualised level."""
    _cumcm(tmp_path, "E1,1,2019/1/5,A1,50,1.5,51.5,有效发票\n",
           "E1,2,2019/1/10,B1,100,3,103,有效发票\nE1,3,2019/2/10,B1,-300,-9,-309,有效发票\n",
           "E3,4,2019/1/5,A1,100,3,103,有效发票\nE4,5,2019/1/6,A1,10,0.3,10.3,作废发票\n",
           "E2,6,2019/2/1,B1,-50,-1.5,-51.5,有效发票\n", info2="E2,b\nE3,c\nE4,d\n")
    feats = real.cumcm_invoice_features(real.cumcm_invoices(tmp_path), as_of="2019-02-28")
    e1, e2, e3, e4 = (feats.loc[f] for f in ("E1", "E2", "E3", "E4"))
    assert (e1["log_sales"], e1["sales_growth"]) == (0.0, 0.0)
    assert e1["top_customer_share"] == 1.0 and e1["customer_hhi"] == 1.0 and e1["span_months"] == 2
    assert np.isnan(e2["top_customer_share"]) and np.isnan(e2["customer_hhi"]) and e2["n_customers"] == 1
    assert e2["sales_red_share"] == 1.0 and e2["months_since_last_sale"] == 0
    assert np.isnan(e3["months_since_last_sale"]) and e3["n_sales_invoices"] == 0
    assert e3["months_since_last_purchase"] == 1 and e3["log_purchases"] == pytest.approx(math.log1p(1200.0))
    assert np.isnan(e4["span_months"]) and np.isnan(e4["log_purchases"]) and e4["months_active"] == 0
    assert e4["purchase_voided_share"] == 1.0
