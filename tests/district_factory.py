"""Small, hand-made, fully valid district tables for the schema and quality tests.

Every value is chosen here (not by the generator), so a test can break exactly one cell and know the
answer. Dates are ISO text; ``reported_on`` is the event date plus ``delay`` days.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from creditmodel.data import uscc
from creditmodel.data.tables import TABLES

EVENT = "2023-03-01"


def codes(n: int, seed: int = 0) -> list[str]:
    return uscc.generate("330205", n, np.random.default_rng(seed))


def _reported(event: str, delay: int) -> str:
    return (pd.Timestamp(event) + pd.Timedelta(days=delay)).strftime("%Y-%m-%d")


def enterprises(c: list[str], delay: int = 1) -> pd.DataFrame:
    n = len(c)
    inds = ["C", "F", "I", "E", "H"]
    sts = ["zhongma", "baisha", "kongpu", "wenjiao"]
    reg = [f"20{10 + i % 10:02d}-0{1 + i % 9}-15" for i in range(n)]
    return pd.DataFrame({
        "uscc": c, "name": [f"企业{i}" for i in range(n)], "industry": [inds[i % len(inds)] for i in range(n)],
        "street": [sts[i % len(sts)] for i in range(n)], "registered_on": reg,
        "registered_capital": [str(100 + i) for i in range(n)], "size_class": ["micro", "small"] * (n // 2) + ["micro"] * (n % 2),
        "employees": [str(5 + i) for i in range(n)], "status": ["active"] * n, "closed_on": [""] * n,
        "reported_on": [_reported(r, delay) for r in reg],
    })


def records(name: str, c: list[str], n: int | None = None, delay: int = 2) -> pd.DataFrame:
    """``n`` valid rows of a record table for the codes ``c`` (round robin)."""
    n = len(c) if n is None else n
    u = [c[i % len(c)] for i in range(n)]
    rid = [f"{name[:3].upper()}{i:05d}" for i in range(n)]
    rep = [_reported(EVENT, delay)] * n
    ev = [EVENT] * n
    cols: dict[str, list] = {}
    if name == "penalties":
        cols = {"record_id": rid, "uscc": u, "decision_date": ev, "severity": ["general"] * n, "category": ["tax"] * n,
                "department": ["税务局"] * n, "amount": ["5000"] * n, "publicity_min_end": ["2023-06-01"] * n,
                "publicity_max_end": ["2024-03-01"] * n, "fine_paid_on": [""] * n, "repaired_on": [""] * n,
                "reported_on": rep}
    elif name == "enforcement":
        cols = {"record_id": rid, "uscc": u, "case_no": [f"(2023)浙0205执{i}号" for i in range(n)],
                "court": ["江北区人民法院"] * n, "filed_on": ev, "amount": ["10000"] * n, "dishonest_listed_on": [""] * n,
                "dishonest_removed_on": [""] * n, "closed_on": [""] * n, "reported_on": rep}
    elif name == "tax_grades":
        cols = {"record_id": rid, "uscc": u, "year": ["2022"] * n, "grade": ["B"] * n, "published_on": ev,
                "reported_on": rep}
    elif name == "arrears":
        cols = {"record_id": rid, "uscc": u, "kind": ["social_insurance"] * n, "department": ["人社局"] * n,
                "started_on": ["2022-12-01"] * n, "amount": ["3000"] * n, "months_overdue": ["3"] * n,
                "determined_on": ev, "cleared_on": [""] * n, "reported_on": rep}
    elif name == "inspections":
        cols = {"record_id": rid, "uscc": u, "sector": ["food_safety"] * n, "inspection_type": ["random"] * n,
                "department": ["市场监管局"] * n, "inspected_on": ev, "result": ["pass"] * n, "violations": ["0"] * n,
                "rectification_due": [""] * n, "rectified_on": [""] * n, "reported_on": rep}
    elif name == "lists":
        cols = {"record_id": rid, "uscc": u, "list_type": ["red"] * n, "department": ["发改局"] * n,
                "reason": ["守信"] * n, "start_date": ev, "end_date": [""] * n, "reported_on": rep}
    elif name == "commitments":
        cols = {"record_id": rid, "uscc": u, "kind": ["approval"] * n, "department": ["行政审批局"] * n,
                "made_on": ev, "due_on": ["2023-09-01"] * n, "status": ["kept"] * n, "assessed_on": [""] * n,
                "reported_on": rep}
    elif name == "repairs":
        cols = {"record_id": rid, "uscc": u, "target_table": ["penalties"] * n, "target_record_id": ["PEN00000"] * n,
                "applied_on": ev, "decided_on": [""] * n, "outcome": ["pending"] * n, "reported_on": rep}
    elif name == "invoices_monthly":
        months = [f"2023-{1 + i // len(c):02d}-01" for i in range(n)]
        cols = {"uscc": u, "month": months, "sales": ["1000.5"] * n, "purchases": ["800"] * n,
                "n_sales_invoices": ["10"] * n, "n_purchase_invoices": ["8"] * n, "voided_share": ["0.01"] * n,
                "red_letter_share": ["0"] * n}
    elif name == "annual_reports":
        years = [str(2020 + i // len(c)) for i in range(n)]
        cols = {"uscc": u, "year": years, "filed_on": ["2023-05-01"] * n, "total_assets": ["1000000"] * n,
                "total_liabilities": ["400000"] * n, "current_assets": ["500000"] * n,
                "current_liabilities": ["200000"] * n, "revenue": ["2000000"] * n, "net_profit": ["-5000"] * n}
    elif name == "loans":
        cols = {"loan_id": [f"L{i:05d}" for i in range(n)], "uscc": u, "origination_date": ev,
                "amount": ["300000"] * n, "term_months": ["12"] * n, "rate": ["0.045"] * n, "collateral": ["none"] * n,
                "default_12m": ["0"] * n, "default_date": [""] * n, "true_pd": ["0.02"] * n}
    else:
        raise KeyError(name)
    df = pd.DataFrame(cols)
    assert list(df.columns) == TABLES[name].column_names, name
    return df


def write(df: pd.DataFrame, path: Path, fmt: str = "csv") -> Path:
    """Write a text frame as CSV (UTF-8 with BOM) or Parquet (typed as declared, via the loader's reading)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        p = path.with_suffix(".csv")
        df.to_csv(p, index=False, encoding="utf-8-sig")
    else:
        p = path.with_suffix(".parquet")
        df.to_parquet(p, index=False)
    return p
