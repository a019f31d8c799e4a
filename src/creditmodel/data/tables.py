"""The district's tables: the data model every module relies on (DESIGN.md section 3).

Each :class:`Table` lists its columns with type, whether the field is mandatory, allowed values or
range, unit and Chinese/English meaning. The schema checks (``creditmodel.data.schema``), the quality
report (completeness per field), the generator and the loaders all read this one declaration.

Dates are calendar dates; money is in yuan unless the unit says otherwise; shares are fractions.
Every public credit record carries ``reported_on``: the day it reached the district platform (used for
the collection-compliance indicator, deadline in ``reference.yaml``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from creditmodel.reference import industries, sectors, streets

#: The district's history runs over these dates; the default as-of (snapshot) date is the end.
DISTRICT_START = date(2019, 1, 1)
DISTRICT_END = date(2025, 12, 31)


@dataclass(frozen=True)
class Column:
    """One column: ``dtype`` in {"string", "date", "int", "float", "bool"}."""

    name: str
    dtype: str
    required: bool = True          # mandatory field: a null is a completeness fault (quarantines the row unless
                                   # the column is descriptive)
    allowed: tuple | None = None   # allowed values (strings)
    min: float | None = None
    max: float | None = None
    unit: str = ""
    zh: str = ""
    en: str = ""
    uscc: bool = False             # holds a unified social credit code (checked with creditmodel.data.uscc)
    aliases: tuple[tuple[str, str], ...] = ()  # other spellings of allowed values -> the value (e.g. 中马街道 -> zhongma)
    # describes the record rather than being it (the supplying department, a fine's amount, a firm's street): a cell
    # fault here (empty, unreadable, out of range, not allowed) is listed in the warnings and the cell read as empty,
    # but the row is kept. Quarantining it would drop a live penalty, or a firm and all its records, from the
    # evaluation and the features, and so grade the firm better for a data fault. Some such cells still feed an
    # indicator (employees: the employment bonus; a penalty's category: which sector evaluation applies): read as
    # empty, they count as unknown there, which is less wrong than losing the record.
    descriptive: bool = False
    # a date set in advance (a publicity end, a deadline): it may lie after the snapshot; any other date records
    # something that happened, so one after the snapshot cannot be true (warning rule after_snapshot)
    scheduled: bool = False


@dataclass(frozen=True)
class Table:
    """A table of the district: unique ``key``, the ``event_date`` the reporting deadline runs from."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    zh: str
    en: str
    event_date: str | None = None
    public_record: bool = True     # a public credit record collected onto the platform
    hidden: bool = False           # generator truth: never a model input

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


SIZE_CLASSES = ("micro", "small", "medium", "large")
SEVERITIES = ("minor", "general", "serious")
PENALTY_CATEGORIES = ("food_safety", "fire_safety", "environment", "work_safety", "construction",
                      "tax", "market", "transport", "labour", "other")
TAX_GRADES = ("A", "B", "M", "C", "D")
ARREARS_KINDS = ("social_insurance", "housing_fund", "tax", "water", "electricity", "gas")
LIST_TYPES = ("red", "black", "abnormal_operation", "serious_dishonesty")
INSPECTION_TYPES = ("random", "targeted", "complaint")
INSPECTION_RESULTS = ("pass", "minor_issues", "fail")
COMMITMENT_KINDS = ("approval", "industry", "repair", "voluntary")
COMMITMENT_STATUS = ("kept", "broken", "pending")
REPAIR_TARGETS = ("penalties", "lists", "enforcement")
REPAIR_OUTCOMES = ("approved", "rejected", "pending")
COLLATERAL = ("none", "guarantee", "property", "receivables")
ENTERPRISE_STATUS = ("active", "deregistered", "revoked")


def _rid(prefix_zh: str = "记录编号") -> Column:
    return Column("record_id", "string", zh=prefix_zh, en="record identifier (unique in the table)")


def _uscc() -> Column:
    return Column("uscc", "string", uscc=True, zh="统一社会信用代码", en="unified social credit code")


def _reported() -> Column:
    return Column("reported_on", "date", zh="归集日期", en="date the record reached the platform")


def _dept() -> Column:
    return Column("department", "string", zh="数据提供部门", en="department that supplied the record", descriptive=True)


def _names_of(ref: dict[str, dict[str, str]]) -> tuple[tuple[str, str], ...]:
    """Chinese and English names of reference entries -> their key (a district may write 中马街道 for zhongma)."""
    return tuple((name, key) for key, names in ref.items() for name in (names.get("zh"), names.get("en"))
                 if name and name != key)


def _tables() -> dict[str, Table]:
    ind = tuple(industries())
    st = tuple(streets())
    sec = tuple(sectors())
    t = [
        Table("enterprises", ("uscc",), (
            _uscc(),
            Column("name", "string", zh="企业名称", en="registered name", descriptive=True),
            # descriptive: a firm without a readable industry is graded without an industry evaluation (in the
            # group "(missing)") rather than left out with all its records (38 firms of the demo district were)
            Column("industry", "string", allowed=ind, zh="行业门类 (GB/T 4754)", en="industry section (GB/T 4754-2017)",
                   aliases=_names_of(industries()), descriptive=True),
            Column("street", "string", allowed=st, zh="所属街道", en="street or town", aliases=_names_of(streets()),
                   descriptive=True),
            Column("registered_on", "date", zh="成立日期", en="registration date"),
            Column("registered_capital", "float", required=False, min=0, unit="10k yuan",
                   zh="注册资本(万元)", en="registered capital", descriptive=True),
            Column("size_class", "string", allowed=SIZE_CLASSES, zh="企业规模", en="size class", descriptive=True),
            Column("employees", "int", required=False, min=0, unit="persons", zh="从业人数", en="employees",
                   descriptive=True),
            # descriptive: whether a firm exists at a date is read from closed_on (the status only tells a
            # revocation from a deregistration), so a firm with an unreadable status is kept with its records
            Column("status", "string", allowed=ENTERPRISE_STATUS, zh="登记状态", en="registration status",
                   aliases=(("存续", "active"), ("在营", "active"), ("注销", "deregistered"), ("吊销", "revoked")),
                   descriptive=True),
            Column("closed_on", "date", required=False, zh="注销/吊销日期", en="deregistration or revocation date"),
            _reported(),
        ), "企业登记信息", "Enterprise registrations", event_date="registered_on"),
        Table("penalties", ("record_id",), (
            _rid(), _uscc(),
            Column("decision_date", "date", zh="处罚决定日期", en="penalty decision date"),
            Column("severity", "string", allowed=SEVERITIES, zh="失信程度", en="severity (minor/general/serious)",
                   aliases=(("轻微", "minor"), ("一般", "general"), ("严重", "serious"))),
            Column("category", "string", allowed=PENALTY_CATEGORIES, zh="处罚领域", en="field of the penalty",
                   descriptive=True),
            _dept(),
            Column("amount", "float", required=False, min=0, unit="yuan", zh="罚没金额", en="fine and confiscation",
                   descriptive=True),
            Column("publicity_min_end", "date", scheduled=True, zh="最短公示期满",
                   en="end of the minimum publicity period"),
            Column("publicity_max_end", "date", scheduled=True, zh="最长公示期满",
                   en="end of the maximum publicity period"),
            Column("fine_paid_on", "date", required=False, zh="履行完毕日期",
                   en="date obligations were fulfilled (empty: not yet)"),
            Column("repaired_on", "date", required=False, zh="信用修复日期", en="date publicity ended by credit repair"),
            _reported(),
        ), "行政处罚", "Administrative penalties", event_date="decision_date"),
        Table("enforcement", ("record_id",), (
            _rid(), _uscc(),
            # the case number and the amount describe the case; a blank one quarantined the whole record, and with it
            # a firm's dishonest-debtor listing (a think-tank reader's finding; 3 listings in the 20,000-firm demo)
            Column("case_no", "string", zh="案号", en="court case number", descriptive=True),
            Column("court", "string", zh="执行法院", en="enforcing court", descriptive=True),
            Column("filed_on", "date", zh="立案日期", en="case filing date"),
            Column("amount", "float", min=0, unit="yuan", zh="执行标的", en="amount under enforcement",
                   descriptive=True),
            Column("dishonest_listed_on", "date", required=False, zh="纳入失信被执行人日期",
                   en="date listed as a dishonest judgement debtor"),
            Column("dishonest_removed_on", "date", required=False, zh="移出失信被执行人日期",
                   en="date removed from the dishonest-debtor list"),
            Column("closed_on", "date", required=False, zh="结案日期", en="date the case was performed or closed"),
            _reported(),
        ), "司法执行", "Court enforcement", event_date="filed_on"),
        Table("tax_grades", ("record_id",), (
            _rid(), _uscc(),
            # the publication date is the event; the features read the current grade of each evaluation year (a later
            # publication of the same year supersedes it) and take a missing year as the one before its publication
            Column("year", "int", min=2000, max=2100, zh="评价年度", en="evaluation year", descriptive=True),
            Column("grade", "string", allowed=TAX_GRADES, zh="纳税信用等级", en="tax credit grade"),
            Column("published_on", "date", zh="发布日期", en="publication date"),
            _reported(),
        ), "纳税信用等级", "Tax credit grades", event_date="published_on"),
        Table("arrears", ("record_id",), (
            _rid(), _uscc(),
            Column("kind", "string", allowed=ARREARS_KINDS, zh="欠缴类型", en="what is owed"),
            _dept(),
            Column("started_on", "date", zh="欠缴起始日期", en="first month unpaid"),
            Column("amount", "float", min=0, unit="yuan", zh="欠缴金额", en="amount owed"),
            Column("months_overdue", "int", min=1, unit="months", zh="欠缴月数", en="months overdue when determined"),
            Column("determined_on", "date", zh="认定日期", en="date the department determined the arrears"),
            Column("cleared_on", "date", required=False, zh="清缴日期", en="date cleared"),
            _reported(),
        ), "欠缴信息", "Social-insurance, tax and utility arrears", event_date="determined_on"),
        Table("inspections", ("record_id",), (
            _rid(), _uscc(),
            Column("sector", "string", allowed=sec, zh="监管领域", en="flagship supervision sector"),
            Column("inspection_type", "string", allowed=INSPECTION_TYPES, zh="检查类型", en="random / targeted / complaint"),
            _dept(),
            Column("inspected_on", "date", zh="检查日期", en="inspection date"),
            Column("result", "string", allowed=INSPECTION_RESULTS, zh="检查结果", en="pass / minor issues / fail"),
            Column("violations", "int", min=0, zh="违规项数", en="number of violations found"),
            Column("rectification_due", "date", scheduled=True, required=False, zh="整改期限",
                   en="rectification deadline"),
            Column("rectified_on", "date", required=False, zh="整改完成日期", en="date rectified"),
            _reported(),
        ), "行业监管检查", "Sector inspections", event_date="inspected_on"),
        Table("lists", ("record_id",), (
            _rid(), _uscc(),
            Column("list_type", "string", allowed=LIST_TYPES, zh="名单类型",
                   en="red (honour) / black / abnormal operation / serious dishonesty",
                   aliases=(("红名单", "red"), ("黑名单", "black"), ("经营异常名录", "abnormal_operation"),
                            ("严重失信主体名单", "serious_dishonesty"), ("严重违法失信名单", "serious_dishonesty"))),
            _dept(),
            Column("reason", "string", required=False, zh="列入事由", en="reason for listing"),
            Column("start_date", "date", zh="列入日期", en="date listed"),
            # scheduled: an honour or a listing is often granted for a set period and its end written when listed
            # (every reader takes a later end as "listed until then"), so an end beyond the snapshot is no fault
            Column("end_date", "date", scheduled=True, required=False, zh="移出日期",
                   en="date removed or the listing period's end (empty while listed with no set end)"),
            _reported(),
        ), "红黑名单与经营异常名录", "Red, black, abnormal-operation and serious-dishonesty lists",
            event_date="start_date"),
        Table("commitments", ("record_id",), (
            _rid(), _uscc(),
            Column("kind", "string", allowed=COMMITMENT_KINDS, zh="承诺类型", en="kind of credit commitment"),
            _dept(),
            Column("made_on", "date", zh="承诺日期", en="date the commitment was made"),
            Column("due_on", "date", scheduled=True, zh="履诺期限", en="date by which it must be kept"),
            Column("status", "string", allowed=COMMITMENT_STATUS, zh="履诺情况", en="kept / broken / pending"),
            Column("assessed_on", "date", required=False, zh="核查日期", en="date performance was assessed"),
            _reported(),
        ), "信用承诺", "Credit commitments", event_date="made_on"),
        Table("repairs", ("record_id",), (
            _rid(), _uscc(),
            Column("target_table", "string", allowed=REPAIR_TARGETS, zh="修复对象表", en="table of the repaired record"),
            Column("target_record_id", "string", zh="修复对象记录", en="record_id of the repaired record"),
            Column("applied_on", "date", zh="申请日期", en="application date"),
            Column("decided_on", "date", required=False, zh="决定日期", en="decision date"),
            Column("outcome", "string", allowed=REPAIR_OUTCOMES, zh="修复结果", en="approved / rejected / pending"),
            _reported(),
        ), "信用修复", "Credit repair applications", event_date="applied_on"),
        Table("invoices_monthly", ("uscc", "month"), (
            _uscc(),
            Column("month", "date", zh="月份(月初)", en="month (first day)"),
            Column("sales", "float", min=0, unit="yuan", zh="销项金额", en="sales invoiced (excl. tax, net of credit notes)"),
            Column("purchases", "float", min=0, unit="yuan", zh="进项金额", en="purchases invoiced (excl. tax)"),
            Column("n_sales_invoices", "int", min=0, zh="销项发票张数", en="sales invoices issued"),
            Column("n_purchase_invoices", "int", min=0, zh="进项发票张数", en="purchase invoices received"),
            Column("voided_share", "float", min=0, max=1, zh="作废发票占比", en="share of sales invoices voided"),
            Column("red_letter_share", "float", min=0, max=1, zh="红字发票占比", en="share of sales invoices that are credit notes"),
        ), "月度发票汇总", "Monthly invoice totals (loan applicants)", public_record=False),
        Table("annual_reports", ("uscc", "year"), (
            _uscc(),
            Column("year", "int", min=2000, max=2100, zh="年报年度", en="report year"),
            Column("filed_on", "date", zh="报送日期", en="filing date"),
            Column("total_assets", "float", min=0, unit="yuan", zh="资产总额", en="total assets"),
            Column("total_liabilities", "float", min=0, unit="yuan", zh="负债总额", en="total liabilities"),
            Column("current_assets", "float", min=0, unit="yuan", zh="流动资产", en="current assets"),
            Column("current_liabilities", "float", min=0, unit="yuan", zh="流动负债", en="current liabilities"),
            Column("revenue", "float", min=0, unit="yuan", zh="营业收入", en="revenue"),
            Column("net_profit", "float", unit="yuan", zh="净利润", en="net profit"),
        ), "企业年报(简要资产负债)", "Annual reports (simple balance sheet)", event_date=None, public_record=False),
        Table("loans", ("loan_id",), (
            Column("loan_id", "string", zh="贷款编号", en="loan identifier"),
            _uscc(),
            Column("origination_date", "date", zh="放款日期", en="origination date"),
            Column("amount", "float", min=0, unit="yuan", zh="贷款金额", en="loan amount"),
            Column("term_months", "int", min=1, max=120, unit="months", zh="期限(月)", en="term"),
            Column("rate", "float", min=0, max=1, unit="per year", zh="年利率", en="annual interest rate"),
            Column("collateral", "string", allowed=COLLATERAL, zh="担保方式", en="collateral or guarantee"),
            Column("default_12m", "int", min=0, max=1, zh="12个月内违约", en="defaulted within 12 months (1/0)"),
            Column("default_date", "date", required=False, zh="违约日期", en="default date"),
            Column("true_pd", "float", required=False, min=0, max=1, zh="真实违约概率(生成器)",
                   en="generator's true 12-month PD (hidden from models)"),
        ), "小额贷款", "Small loans", public_record=False),
        Table("truth", ("uscc",), (
            _uscc(),
            Column("latent", "float", zh="潜在信用(生成器)", en="latent creditworthiness, standard normal (higher is safer)"),
            Column("industry_effect", "float", zh="行业效应", en="industry effect on the latent"),
            Column("shock_exposure", "float", min=0, max=1, zh="冲击暴露", en="exposure to the shock period"),
        ), "生成器真值(隐藏)", "Generator truth (hidden from models)", public_record=False, hidden=True),
    ]
    return {x.name: x for x in t}


TABLES: dict[str, Table] = _tables()
#: Tables that hold public credit records (collection compliance is measured on them).
PUBLIC_RECORD_TABLES = [n for n, t in TABLES.items() if t.public_record]


def table(name: str) -> Table:
    """The declaration of one table; ``KeyError`` naming the known tables otherwise."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}") from None
