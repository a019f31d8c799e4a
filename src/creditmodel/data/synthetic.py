"""The synthetic district: every table of :mod:`creditmodel.data.tables`, generated from one hidden story.

Real enterprise credit records are confidential, so the workbench runs on a generated district that behaves
like one (DESIGN.md section 3). :func:`generate_district` writes ``<out>/<table>.parquet`` for every table of
``tables.TABLES`` (exactly the declared columns and types), plus ``injected.json`` (the quality faults that
were put in on purpose) and ``manifest.json`` (seed, firms, dates, shock, row counts, file hashes, story).
The same seed gives byte-identical files.

The story (what drives what)
----------------------------
* **Firms.** Each enterprise gets a USCC from :func:`creditmodel.data.uscc.generate` for the district's
  division code: about 84 % enterprises (``91``), 14 % individual businesses (``92``, mostly retail, catering
  and services) and 2 % farmers' cooperatives (``93``, agriculture). Industry (GB/T 4754 section) and street
  come from fixed weights; registration age is exponential (mean 9 years for enterprises, 5 for individual
  businesses), so about half the firms predate the district's history (2019-01-01..2025-12-31).
* **Latent creditworthiness.** ``latent = industry_effect + street_effect + e`` is standard normal (higher is
  safer; the effects are fixed constants, see :data:`INDUSTRY_EFFECT`, ``e`` is scaled so the variance is 1).
  Each firm also has a yearly **state** ``s[y] = latent + u[y] + macro[y] - shock_size * shock_exposure * g[y]``:
  ``u`` is an AR(1) transient (sd 0.5, autocorrelation 0.6) that makes recent records more telling than old
  ones, ``macro`` is a small district-wide year effect (2020 pandemic, 2022 lockdowns) and ``g[y]`` the mean
  shock intensity of year ``y`` (below). Everything below is drawn from the state of the year it happens in;
  invoices and the loans' PD windows use the shock's monthly intensity.
* **The shock** (``GeneratorConfig.shock_start``/``shock_end``/``shock_size``/``shock_recovery_months``; by
  default calendar 2024, 0.7 standard deviations, 12 months of recovery). Monthly intensity
  (:func:`shock_profile`): 1 inside the period, then fading linearly to 0 over the recovery months (2025).
  Exposure ``truth.shock_exposure = clip(base * 2 * Beta(4, 4), 0, 1)`` with the industry base of
  :data:`SHOCK_BASE`: real estate (K) 1.0, construction (E) 0.9, accommodation and catering (H) 0.8,
  wholesale and retail (F) 0.6 -- the **exposed industries** :data:`SHOCK_INDUSTRIES` -- manufacturing (C),
  transport (G), culture (R) 0.2, A, B, L, O 0.1, all others 0.05. With ``x = shock_size * exposure *
  intensity`` the shock acts through four channels, each scaling with ``shock_size``:

  1. *state*: ``s`` drops by ``x``, so penalties, arrears (also multiplied by ``1 + ARREARS_SHOCK * x``),
     enforcement, abnormal listings, failed inspections and broken commitments rise;
  2. *demand*: invoiced sales are multiplied by ``exp(-(SALES_STATE + SALES_SHOCK) * x)`` (a fully exposed
     firm sells about 47 % less at full intensity) and dormant months without any sale become more frequent;
  3. *credit*: ``SHOCK_PD_LOGIT * x_window`` (``x`` averaged over the loan's 12 months) is added to the PD
     logit -- risk that no record shows at origination (refinancing dries up, collateral loses value);
  4. *distress borrowing*: ``SHOCK_BORROWING * shock_size`` (0.245) times the ordinary loans originated in the
     period are added, one loan each to firms drawn with weights ``exposure * exp(-1.3 * s)`` (the state of the
     period's first year), originated later in the period rather than early (density rising linearly).

  In the 100,000-firm district (seed 42) loans of exposed industries originated in 2024 default at 12.2 %
  against 3.5 % before the shock (others 3.8 % against 2.5 %), their invoiced 2024 sales are 26 % below 2023
  (others +8 %) and their arrears 3.2 times as frequent; 2024 is the worst origination year (8.2 % against
  2.4-3.4 %). A model trained on 2021-2023 originations sees a score PSI of 0.12-0.16 on the 2024 originations
  and under-predicts their default rate by a fifth to a third (``bench/results/district_story.md``). The
  manifest's ``shock_period.realised`` has the figures of each generated district.
* **Public records** are Poisson events per firm-year with rates ``base(industry) * exp(-beta * s[y])``:
  sector inspections (food safety for catering and food firms, fire safety, environment for manufacturing,
  mining and utilities, work safety, construction for section E; random, targeted and complaint inspections,
  worse firms inspected more often and failing more), administrative penalties (organic ones plus a share of
  failed inspections; minor/general/serious with the publicity windows of DOMAIN.md A4 at the decision date:
  minor max 3 months, general min 3 months max 1 year, serious min 6 months (2019 rules, before 2023-05-01) or
  1 year (2023 rules) max 3 years), court enforcement (dishonest-debtor
  listing when a case is not performed, removal when it is), arrears (social insurance, housing fund, tax,
  utilities), abnormal-operation listings (moved to the serious-dishonesty list after 3 unremedied years),
  serious-dishonesty listings after serious penalties (about 1.2 % of firms listed at the snapshot), sector
  black lists, red-list honours (more likely for good firms), credit commitments kept or broken, annual tax
  grades A/B/M/C/D from a noisy tax score (:data:`TAX_SCORE`; M in the year of registration; arrears and tax
  penalties pull the grade down) and credit repair: after the minimum publicity period, with obligations
  (fines) fulfilled, a firm may apply; an approved application ends publicity early (``penalties.repaired_on``
  = ``repairs.decided_on``), the same for serious-dishonesty and black-list exits (``lists.end_date``) and
  dishonest-debtor removals. No single record type reveals the latent: the signal is spread over many noisy
  sources (in a 100,000-firm district no single point-in-time feature reaches a default AUC above about 0.71,
  while a model on all of them reaches about 0.83 out of time and the true PD about 0.91).
* **Loans.** About ``applicant_share`` (15 %) of the firms, chosen with weights favouring small and medium
  firms, take ``1 + Poisson(1.2)`` loans (at most 4) of 100k-1m yuan originated 2021-01-01..2024-12-31 (terms
  6-36 months, rate = LPR + a spread from the bank's noisy view + collateral add-on); a firm that has defaulted
  gets no further loan. The **true PD** (12 months) is ``sigmoid(logit)`` with ``logit = a0 - 1.1 * s_window +
  age + size + recent records + collateral + 0.2 log(amount / 300k) + N(0, 0.8) + shock credit channel``,
  where ``s_window`` is the state averaged over the loan's 12-month window (transient by calendar day, shock by
  month) and "recent records" are the firm's general and serious penalties not repaired, enforcement cases and
  arrears in the 24 months before origination and an active abnormal-operation or dishonest-debtor listing
  (:data:`PD_COEF`). ``default_12m ~ Bernoulli(true_pd)``, the default date falls within 12 months. Half of
  the defaults lead to a court enforcement case filed later.
* **Operating data of applicants.** Monthly invoice totals: level by size, trend by latent, the month's
  transient and shock (sales elasticity :data:`SALES_STATE`), seasonality, a sales dip after origination before
  a default; dormant months (no sale, hence no sales invoice, few purchases) with probability
  ``sigmoid(-5.6 - 0.9 * s)`` (:data:`DORMANT_LOGIT`); a month has sales invoices exactly when it has sales (purchase invoices exactly
  when it has purchases). Voided and red-letter (credit-note) invoices are counts among the month's sales
  invoices other than one valid invoice, with rates that are mostly the firm's own habit (lognormal, sd 0.6)
  and only a little the state (``exp(-0.35 * s)``); the shares are those counts over the invoice count.
  Annual reports: revenue = the year's invoiced sales (+-3 %), assets from revenue and industry turnover,
  leverage, net margin and short-term debt from the state with noise (:data:`REPORT_COEF`); current assets
  and current liabilities are parts of total assets and total liabilities.
  The truth (``true_pd``, ``truth.parquet`` with ``latent``, ``industry_effect``, ``shock_exposure``) is kept
  for calibration checks and is never a model input.

Dates are point-in-time sensible: every record event lies in 2019-01-01..2025-12-31 (only
``enterprises.registered_on`` and its ``reported_on`` may be earlier: firms predate the platform), nothing that
*happened* is dated after the snapshot 2025-12-31 (a later payment, repair, removal or assessment is simply
not known yet and left empty); only scheduled deadlines (``publicity_min_end``, ``publicity_max_end``,
``rectification_due``, ``due_on``) may lie beyond it. ``reported_on`` is 0-7 days after the table's event date
(``reference.reporting_deadline_days()``) except for the injected late reports.

Injected quality faults and ``injected.json``
---------------------------------------------
The clean district is drawn first; faults are then put in with their own random streams (so changing a fault
rate never changes the clean data). Everything that is not listed in ``injected.json`` is clean: every other
code passes :func:`creditmodel.data.uscc.validate`, no other required field is empty and every other public
record reached the platform within the deadline. Kinds of fault (rates in :class:`GeneratorConfig`):

* ``malformed_uscc``: a code made invalid in ``enterprises`` or a record table (reason ``check_char``: wrong
  18th character; ``length``: a character dropped or added; ``charset``: a forbidden letter I/O/S/V/Z put in).
  In ``enterprises`` it is a typo in the registry row only: the firm's records elsewhere keep its true code.
* ``duplicate_uscc``: an enterprise row carrying another enterprise's (valid) code; its own records elsewhere
  keep its true code. ``count`` = rows that received another row's code (= pairs).
* ``missing_field``: a required field emptied (never a key, ``uscc``, the event date or ``reported_on``).
* ``late_report``: ``reported_on`` set 8 days or more after the event date (still not after the snapshot).

``injected.json`` layout (row positions are 0-based positions in the written Parquet file)::

    {
      "format": "creditmodel.injected/1",
      "generator_version": "1.2", "seed": 42, "firms": 20000, "snapshot_date": "2025-12-31",
      "reporting_deadline_days": 7,
      "config": {...the GeneratorConfig fault rates...},
      "summary": [{"fault", "table", "column", "count", "denominator", "rate"}, ...],   # one line per entry
      "faults": [
        {"fault": "malformed_uscc", "table": "penalties", "column": "uscc",
         "count": 3, "denominator": 7000, "denominator_unit": "rows", "rate": 0.00043,
         "key_columns": ["record_id"],
         "rows": [12, 950, 4410], "keys": ["PEN0000000013", ...],
         "details": [{"row": 12, "value": "9133...", "original": "9133...", "reason": "check_char"}, ...]},
        {"fault": "duplicate_uscc", "table": "enterprises", "column": "uscc", "count": 2, "denominator": 20000,
         "rows_sharing_a_code": 4, ..., "details": [{"row": 8, "duplicate_of_row": 77, "value": ..., "original": ...}]},
        {"fault": "missing_field", "table": "arrears", "column": "department", "count": 5, ...},
        {"fault": "late_report", "table": "lists", "column": "reported_on", "event_date_column": "start_date",
         "deadline_days": 7, "count": 40, ..., "details": [{"row": 3, "delay_days": 19}, ...]}
      ]
    }

For single-column keys ``keys`` holds the key values (for ``enterprises`` the code as written); the lists
``rows``, ``keys`` and ``details`` are in the same order (ascending rows). There is one entry per
(fault, table, column) that the configuration enables, also when its count is 0.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from creditmodel.progress import tqdm

from creditmodel import reference
from creditmodel.data import tables as T
from creditmodel.data import uscc as U
from creditmodel.errors import ConfigError

log = logging.getLogger(__name__)

#: 1.2 (2026-12-06): list reasons agree with the other tables (an A-grade-taxpayer honour needs an A grade, an
#: abnormal-operation listing for a missing annual report is not made in the registration year nor after the report
#: was filed) and a direct D tax grade is not overridden by the new firm's M; no other draw changed.
GENERATOR_VERSION = "1.2"
INJECTED_FORMAT = "creditmodel.injected/1"

# --------------------------------------------------------------------------- calendar helpers
_EPOCH = np.datetime64("1970-01-01", "D")
NULL_DAY = np.iinfo(np.int64).min  # sentinel for an empty date in the int-day arrays


def _day(d: date) -> int:
    return int((np.datetime64(d, "D") - _EPOCH).astype(np.int64))


def _iso(day: int) -> str:
    return str(_EPOCH + np.timedelta64(int(day), "D"))


START = _day(T.DISTRICT_START)
END = _day(T.DISTRICT_END)
YEARS = np.arange(2018, 2026)                      # state years; records fall in 2019..2025
NY = len(YEARS)
Y_START = np.array([_day(date(int(y), 1, 1)) for y in YEARS], dtype=np.int64)
Y_END = np.array([_day(date(int(y), 12, 31)) for y in YEARS], dtype=np.int64)
LOAN_FIRST = _day(date(2021, 1, 1))
LOAN_LAST = _day(date(2024, 12, 31))
MONTHS = np.arange(np.datetime64(f"{YEARS[0]}-01", "M"), np.datetime64(f"{YEARS[-1] + 1}-01", "M"))  # state months
INVOICE_FIRST_MONTH = np.datetime64("2019-01", "M")
INVOICE_LAST_MONTH = np.datetime64("2025-12", "M")


def _add_months(days: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    """Add ``k`` calendar months to int days, keeping the day of month (clipped to the month's length)."""
    dt = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    m = dt.astype("datetime64[M]")
    off = (dt - m.astype("datetime64[D]")).astype(np.int64)
    tm = m + np.asarray(k, dtype=np.int64)
    first = tm.astype("datetime64[D]")
    length = ((tm + 1).astype("datetime64[D]") - first).astype(np.int64)
    return (first - _EPOCH).astype(np.int64) + np.minimum(off, length - 1)


def _year_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def shock_profile(start: date, end: date, recovery_months: int) -> np.ndarray:
    """Intensity of the shock in each month of :data:`MONTHS` (0..1), at the month's 15th day.

    1 from ``start`` to ``end``, then fading linearly to 0 over ``recovery_months`` (30.4375-day months);
    0 before ``start``. A firm's state drop in a month is ``shock_size * shock_exposure * profile``.
    """
    mid = (MONTHS.astype("datetime64[D]") - _EPOCH).astype(np.int64) + 14
    lo, hi = _day(start), _day(end)
    after = (mid - hi) / (30.4375 * recovery_months) if recovery_months > 0 else np.inf
    return np.where(mid < lo, 0.0, np.where(mid <= hi, 1.0, np.clip(1.0 - after, 0.0, 1.0)))


# --------------------------------------------------------------------------- the story's constants
#: Industry effect on the latent (before centring on the district's industry mix).
INDUSTRY_EFFECT = {"A": -0.25, "B": -0.30, "C": 0.00, "D": 0.45, "E": -0.40, "F": -0.10, "G": -0.15,
                   "H": -0.35, "I": 0.20, "J": 0.30, "K": -0.30, "L": -0.05, "M": 0.25, "N": 0.20,
                   "O": -0.20, "P": 0.30, "Q": 0.35, "R": -0.10, "S": 0.40, "T": 0.00}
#: Street effect on the latent.
STREET_EFFECT = {"zhongma": -0.10, "baisha": 0.05, "kongpu": -0.05, "wenjiao": 0.15, "yongjiang": 0.10,
                 "zhuangqiao": -0.05, "hongtang": 0.00, "cicheng": -0.12}
STREET_WEIGHT = {"zhongma": 0.14, "baisha": 0.12, "kongpu": 0.11, "wenjiao": 0.10, "yongjiang": 0.13,
                 "zhuangqiao": 0.15, "hongtang": 0.14, "cicheng": 0.11}
#: Industry mix by organisation category (91 enterprise, 92 individual business, 93 cooperative).
INDUSTRY_WEIGHT = {
    "91": {"A": 1.0, "B": 0.2, "C": 16, "D": 0.5, "E": 7, "F": 27, "G": 4, "H": 4, "I": 6, "J": 1, "K": 3,
           "L": 12, "M": 7.5, "N": 1, "O": 3, "P": 1.5, "Q": 0.8, "R": 2, "S": 0.2, "T": 0.0},
    "92": {"A": 2, "F": 50, "G": 5, "H": 25, "O": 15, "R": 3},
    "93": {"A": 90, "F": 5, "O": 5},
}
CATEGORY_WEIGHT = {"91": 0.84, "92": 0.14, "93": 0.02}
#: Base exposure of each industry to the shock (firm exposure = base x Beta(4,4) x 2, clipped to [0, 1]).
SHOCK_BASE = {"K": 1.00, "E": 0.90, "H": 0.80, "F": 0.60, "C": 0.20, "G": 0.20, "R": 0.20, "B": 0.10,
              "L": 0.10, "O": 0.10, "A": 0.10}
SHOCK_BASE_OTHER = 0.05
#: The industries the shock hits (base exposure >= 0.5): real estate, construction, accommodation and catering,
#: wholesale and retail.
SHOCK_INDUSTRIES = tuple(k for k, v in SHOCK_BASE.items() if v >= 0.5)
#: District-wide year effect on the state (years 2018..2025).
MACRO = {2018: 0.0, 2019: 0.0, 2020: -0.20, 2021: 0.0, 2022: -0.10, 2023: 0.0, 2024: 0.0, 2025: 0.05}
#: Coefficients of the true 12-month PD's logit.
PD_COEF = {"intercept": -4.78, "state": -1.10, "age_lt_2y": 0.45, "age_lt_5y": 0.20,
           "size": {"micro": 0.25, "small": 0.0, "medium": -0.20, "large": -0.40},
           "penalties_24m": 0.35, "enforcement_24m": 0.45, "arrears_24m": 0.35,
           "abnormal_active": 0.60, "dishonest_debtor_active": 0.80,
           "collateral": {"none": 0.15, "guarantee": 0.0, "property": -0.35, "receivables": 0.05},
           "log_amount_300k": 0.20, "noise_sd": 0.80}
#: Extra loans per applicant (1 + Poisson(mean), at most 4).
LOANS_EXTRA_MEAN = 1.2
#: Invoice story: sales elasticity to the state's transient and shock, dormant-month logit (a + b * state),
#: voided / credit-note shares = base * firm habit (lognormal, sd INVOICE_HABIT_SD) * exp(-INVOICE_SHARE_STATE * state).
SALES_STATE = 0.5
SALES_SHOCK = 0.4
DORMANT_LOGIT = (-5.6, -0.9)
VOID_BASE, RED_BASE = 0.012, 0.018
INVOICE_HABIT_SD = 0.6
INVOICE_SHARE_STATE = 0.35
#: Annual reports: leverage = 1.2 sigmoid(a + b * state + c * noise), net margin = a + b * state + c * noise,
#: current-liability share of liabilities ~ Beta(6 + short_debt * max(0, -state), 3).
REPORT_COEF = {"leverage": (-0.3, -0.6, 1.3), "margin": (0.04, 0.04, 0.08), "short_debt": 2.0}
#: Distress borrowing in the shock period: extra loans = SHOCK_BORROWING x shock_size x ordinary loans originated
#: in the period, to firms drawn with weights shock_exposure x exp(-SHOCK_BORROWING_STATE x state).
SHOCK_BORROWING = 0.35
SHOCK_BORROWING_STATE = 1.3
#: The shock's credit-market channel, seen in no record: added to the PD logit as
#: SHOCK_PD_LOGIT x shock_exposure x (mean shock intensity over the loan's 12-month window).
SHOCK_PD_LOGIT = 0.6
#: Arrears rates are also multiplied by 1 + ARREARS_SHOCK x shock_size x shock_exposure x intensity (payment
#: chains break in a sector crisis).
ARREARS_SHOCK = 2.0
#: Tax credit score = a + b * state + c * noise (minus arrears and tax penalties); A >= 90, B >= 70, C >= 45, else D.
TAX_SCORE = (84.0, 5.5, 9.5)
LPR_1Y = {2021: 0.0385, 2022: 0.0370, 2023: 0.0355, 2024: 0.0335}

DEPT = {
    "market": "江北区市场监督管理局", "fire": "江北区消防救援大队", "environment": "宁波市生态环境局江北分局",
    "work_safety": "江北区应急管理局", "construction": "江北区住房和城乡建设局",
    "tax": "国家税务总局宁波市江北区税务局", "transport": "江北区交通运输局", "labour": "江北区人力资源和社会保障局",
    "other": "江北区综合行政执法局", "social_insurance": "江北区社会保险管理服务中心",
    "housing_fund": "宁波市住房公积金管理中心江北分中心", "water": "宁波市自来水有限公司",
    "electricity": "国网宁波供电公司江北供电分公司", "gas": "宁波兴光燃气集团有限公司",
    "approval": "江北区政务服务办公室", "ndrc": "江北区发展和改革局",
}
CATEGORY_DEPT = {"food_safety": "market", "fire_safety": "fire", "environment": "environment",
                 "work_safety": "work_safety", "construction": "construction", "tax": "tax", "market": "market",
                 "transport": "transport", "labour": "labour", "other": "other"}
_PEN_DEFAULT = {"market": 0.30, "tax": 0.15, "fire_safety": 0.15, "labour": 0.10, "other": 0.15,
                "work_safety": 0.05, "environment": 0.03, "transport": 0.02, "food_safety": 0.03, "construction": 0.02}
#: Penalty field mix by industry (others use the default mix).
PENALTY_MIX = {
    "H": {"food_safety": .45, "fire_safety": .2, "market": .1, "tax": .08, "labour": .07, "other": .1},
    "C": {"environment": .25, "work_safety": .2, "fire_safety": .15, "market": .1, "tax": .1, "labour": .1, "other": .1},
    "E": {"construction": .35, "work_safety": .25, "labour": .15, "fire_safety": .05, "tax": .05, "environment": .05, "other": .1},
    "F": {"market": .4, "food_safety": .15, "tax": .15, "fire_safety": .1, "other": .1, "labour": .1},
    "G": {"transport": .45, "work_safety": .15, "market": .1, "tax": .1, "fire_safety": .05, "labour": .05, "other": .1},
    "A": {"food_safety": .2, "environment": .2, "market": .2, "other": .2, "tax": .1, "labour": .1},
    "B": {"environment": .3, "work_safety": .4, "tax": .1, "other": .2},
    "D": {"work_safety": .3, "environment": .3, "market": .2, "other": .2},
    "K": {"market": .3, "construction": .2, "fire_safety": .2, "tax": .1, "other": .2},
}
#: Organic penalties per firm-year at state 0, by industry.
PENALTY_RATE = {"H": 0.08, "C": 0.06, "E": 0.07, "F": 0.05, "G": 0.06, "A": 0.035, "B": 0.08, "K": 0.05}
PENALTY_RATE_OTHER = 0.03
#: Random (double-random) inspections per firm-year by sector for eligible firms.
INSPECTION_RATE = {"food_safety": 0.25, "fire_safety": 0.10, "environment": 0.20, "work_safety": 0.15,
                   "construction": 0.30}
SECTOR_DEPT = {"food_safety": "market", "fire_safety": "fire", "environment": "environment",
               "work_safety": "work_safety", "construction": "construction"}
ARREARS_WEIGHT = {"social_insurance": 0.30, "housing_fund": 0.15, "tax": 0.22, "water": 0.08,
                  "electricity": 0.18, "gas": 0.07}
ARREARS_MONTHLY = {"social_insurance": 6000.0, "housing_fund": 3000.0, "tax": 15000.0, "water": 800.0,
                   "electricity": 4000.0, "gas": 1500.0}
COURTS = (("宁波市江北区人民法院", "浙0205", 0.80), ("宁波市中级人民法院", "浙02", 0.08),
          ("宁波市海曙区人民法院", "浙0203", 0.06), ("宁波市鄞州区人民法院", "浙0212", 0.06))
RED_REASONS = (("守合同重信用企业", "market"), ("纳税信用A级纳税人", "tax"), ("诚信示范企业", "ndrc"),
               ("安全生产标准化达标企业", "work_safety"), ("劳动保障诚信示范单位", "labour"))
ABNORMAL_REASONS = ("未按规定报送年度报告", "通过登记的住所或者经营场所无法联系", "公示企业信息隐瞒真实情况、弄虚作假")
ABNORMAL_TO_SERIOUS = "列入经营异常名录届满3年仍未履行相关义务"
BLACK_REASONS = {"E": ("拖欠农民工工资失信联合惩戒对象", "labour"), "C": ("环境违法失信企业", "environment"),
                 "B": ("安全生产失信联合惩戒对象", "work_safety"), "H": ("食品安全严重违法生产经营者", "market"),
                 "F": ("食品安全严重违法生产经营者", "market"), "G": ("交通运输严重失信主体", "transport")}
_SIZE_IDX = {s: i for i, s in enumerate(T.SIZE_CLASSES)}

_NAME_CHARS = list("华兴盛达鑫恒瑞丰泰宏昌源新永德信联海江甬诚和佳宇博智远东明祥金富嘉天安康利通凯晟")
_NAME_WORD = {"A": "农业发展", "B": "矿业", "C": "机械制造", "D": "能源", "E": "建设工程", "F": "商贸",
              "G": "物流", "H": "餐饮管理", "I": "信息科技", "J": "投资管理", "K": "房地产开发", "L": "企业管理咨询",
              "M": "科技", "N": "环境工程", "O": "家政服务", "P": "教育科技", "Q": "医疗科技", "R": "文化传媒",
              "S": "社会服务", "T": "国际交流"}
_SHOP_WORD = {"A": "农场", "F": "便利店", "G": "货运部", "H": "小吃店", "O": "理发店", "R": "棋牌室"}
_COOP_WORD = ("果蔬", "水产", "花卉", "茶叶", "粮油")

# --------------------------------------------------------------------------- configuration
_PUBLIC_EVENT_TABLES = tuple(n for n, t in T.TABLES.items() if t.public_record and t.event_date)
DEFAULT_LATE_RATES: dict[str, float] = {
    "enterprises": 0.005, "penalties": 0.020, "enforcement": 0.050, "tax_grades": 0.010, "arrears": 0.040,
    "inspections": 0.030, "lists": 0.020, "commitments": 0.030, "repairs": 0.010}
DEFAULT_MISSING_RATES: dict[str, float] = {
    "enterprises": 0.002, "penalties": 0.001, "enforcement": 0.003, "tax_grades": 0.0005, "arrears": 0.004,
    "inspections": 0.002, "lists": 0.001, "commitments": 0.003, "repairs": 0.001}


def missing_candidate_columns(table: str) -> list[str]:
    """Required columns of ``table`` that ``missing_field`` faults may empty (not keys, uscc, dates of record)."""
    t = T.TABLES[table]
    skip = set(t.key) | {"uscc", "reported_on"} | ({t.event_date} if t.event_date else set())
    return [c for c in t.required_columns if c not in skip]


@dataclass(frozen=True)
class GeneratorConfig:
    """Parameters of the synthetic district. Rates are fractions of rows in [0, 1).

    ``malformed_uscc_rate``: share of rows whose ``uscc`` is made invalid, in each of ``malformed_uscc_tables``;
    ``duplicate_uscc_rate``: share of enterprise rows given another enterprise's code;
    ``missing_rates``: per table, share of rows emptied in *each* candidate required column
    (:func:`missing_candidate_columns`); ``late_rates``: per table, share of rows reported late.
    ``applicant_share``: share of firms that borrow. ``shock_start``/``shock_end``: the shock period,
    ``shock_size``: state drop (standard deviations) of a fully exposed firm during the shock;
    ``shock_recovery_months``: after ``shock_end`` the drop fades linearly to zero over this many months.
    """

    firms: int = 20_000
    seed: int = 42
    malformed_uscc_rate: float = 3e-4
    malformed_uscc_tables: tuple[str, ...] = ("enterprises", "penalties", "enforcement", "arrears",
                                              "inspections", "lists", "commitments")
    duplicate_uscc_rate: float = 1e-4
    missing_rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MISSING_RATES))
    late_rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LATE_RATES))
    applicant_share: float = 0.15
    shock_start: date = date(2024, 1, 1)
    shock_end: date = date(2024, 12, 31)
    shock_size: float = 0.7
    shock_recovery_months: int = 12

    def __post_init__(self) -> None:
        def bad(param: str, msg: str) -> ConfigError:
            return ConfigError(f"GeneratorConfig.{param} {msg}", column=param.split("[")[0])

        if isinstance(self.firms, bool) or not isinstance(self.firms, (int, np.integer)) or self.firms < 10:
            raise bad("firms", f"must be an integer >= 10, got {self.firms!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise bad("seed", f"must be a non-negative integer, got {self.seed!r}")

        def rate(param: str, v: Any) -> None:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not (0 <= float(v) < 1):
                raise bad(param, f"must be a rate in [0, 1), got {v!r}")

        rate("malformed_uscc_rate", self.malformed_uscc_rate)
        rate("duplicate_uscc_rate", self.duplicate_uscc_rate)
        for name, mapping in (("missing_rates", self.missing_rates), ("late_rates", self.late_rates)):
            for tname, v in mapping.items():
                if tname not in _PUBLIC_EVENT_TABLES:
                    raise bad(name, f"names unknown table {tname!r}; allowed: {', '.join(_PUBLIC_EVENT_TABLES)}")
                rate(f"{name}[{tname!r}]", v)
        for tname in self.malformed_uscc_tables:
            if tname not in _PUBLIC_EVENT_TABLES:
                raise bad("malformed_uscc_tables",
                          f"names unknown table {tname!r}; allowed: {', '.join(_PUBLIC_EVENT_TABLES)}")
        if not (0 < float(self.applicant_share) <= 0.5):
            raise bad("applicant_share", f"must be in (0, 0.5], got {self.applicant_share!r}")
        if not (T.DISTRICT_START <= self.shock_start <= self.shock_end <= T.DISTRICT_END):
            raise bad("shock_start", f"and shock_end must satisfy {T.DISTRICT_START} <= start <= end <= "
                      f"{T.DISTRICT_END}, got {self.shock_start}..{self.shock_end}")
        if not (0 <= float(self.shock_size) <= 3):
            raise bad("shock_size", f"must be in [0, 3] standard deviations, got {self.shock_size!r}")
        r = self.shock_recovery_months
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not (0 <= r <= 36):
            raise bad("shock_recovery_months", f"must be an integer number of months in [0, 36], got {r!r}")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["malformed_uscc_tables"] = list(self.malformed_uscc_tables)
        d["missing_rates"] = dict(self.missing_rates)
        d["late_rates"] = dict(self.late_rates)
        d["shock_start"] = self.shock_start.isoformat()
        d["shock_end"] = self.shock_end.isoformat()
        return d


@dataclass
class GenerationResult:
    """What :func:`generate_district` wrote. ``seconds`` is wall time (not in any file)."""

    out: Path
    firms: int
    seed: int
    row_counts: dict[str, int]
    seconds: float
    files: dict[str, str] = field(default_factory=dict)       # file name -> sha256
    faults: list[dict[str, Any]] = field(default_factory=list)  # injected.json "summary"
    default_rate: float = float("nan")
    mean_true_pd: float = float("nan")

    def summary(self) -> str:
        lines = [f"synthetic district: {self.firms:,} firms, seed {self.seed} -> {self.out} ({self.seconds:.1f} s)"]
        for name, n in self.row_counts.items():
            lines.append(f"  {name:<17} {n:>12,} rows")
        lines.append(f"  loans: 12-month default rate {self.default_rate:.2%}, mean true PD {self.mean_true_pd:.2%}")
        by_kind: dict[str, int] = {}
        for f in self.faults:
            by_kind[f["fault"]] = by_kind.get(f["fault"], 0) + f["count"]
        lines.append("  injected faults: " + ", ".join(f"{k} {v:,}" for k, v in by_kind.items())
                     + " (details in injected.json)")
        return "\n".join(lines)


# --------------------------------------------------------------------------- column containers
@dataclass
class _Cat:
    """A string column as codes into a vocabulary (code -1 = empty)."""

    codes: np.ndarray
    vocab: list[str]

    def arrow(self) -> pa.Array:
        codes = np.asarray(self.codes, dtype=np.int32)
        idx = pa.array(codes, mask=codes < 0)
        return pa.array(self.vocab, type=pa.string()).take(idx)


def _to_arrow(name: str, cols: dict[str, Any]) -> pa.Table:
    """Build the table ``name`` with exactly the declared columns and types."""
    spec = T.TABLES[name]
    missing = [c for c in spec.column_names if c not in cols]
    extra = [c for c in cols if c not in spec.column_names]
    if missing or extra:
        raise RuntimeError(f"generator bug: table {name} missing {missing} extra {extra}")
    arrays, pa_fields = [], []
    for c in spec.columns:
        v = cols[c.name]
        if c.dtype == "date":
            if isinstance(v, pa.Array):
                arr = v.cast(pa.date32())
            else:
                d = np.asarray(v, dtype=np.int64)
                null = d == NULL_DAY
                arr = pa.array(np.where(null, 0, d).astype(np.int32), mask=null).cast(pa.date32())
        elif c.dtype == "string":
            arr = v.arrow() if isinstance(v, _Cat) else v
            if not isinstance(arr, pa.Array):
                arr = pa.array(arr, type=pa.string())
            arr = arr.cast(pa.string())
        elif c.dtype == "int":
            arr = v.cast(pa.int64()) if isinstance(v, pa.Array) else pa.array(np.asarray(v, dtype=np.int64))
        elif c.dtype == "float":
            arr = pa.array(np.asarray(v, dtype=np.float64), from_pandas=True)
        elif c.dtype == "bool":
            arr = pa.array(np.asarray(v, dtype=bool))
        else:  # pragma: no cover - tables.py only uses the five types
            raise RuntimeError(f"unknown dtype {c.dtype}")
        arrays.append(arr)
        meta = {"required": "true" if c.required else "false", "zh": c.zh, "en": c.en}
        if c.unit:
            meta["unit"] = c.unit
        pa_fields.append(pa.field(c.name, arr.type, nullable=True, metadata=meta))
    schema = pa.schema(pa_fields, metadata={"table": name, "zh": spec.zh, "en": spec.en,
                                            "generator": f"creditmodel.data.synthetic {GENERATOR_VERSION}"})
    return pa.Table.from_arrays(arrays, schema=schema)


def _ids(prefix: str, n: int, width: int = 10) -> pa.Array:
    num = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, num, "")


def _sort_order(day: np.ndarray, firm: np.ndarray, *more: np.ndarray) -> np.ndarray:
    """Stable order by (day, firm, more...)."""
    return np.lexsort(tuple(reversed((day, firm) + more)))


def _reporting_delay(rng: np.random.Generator, event: np.ndarray) -> np.ndarray:
    """On-time ``reported_on``: 0..deadline days after the event, never after the snapshot."""
    deadline = reference.reporting_deadline_days()
    p = np.array([0.30, 0.20, 0.15, 0.10, 0.08, 0.07, 0.05, 0.05])[: deadline + 1]
    delay = rng.choice(len(p), size=len(event), p=p / p.sum())
    return np.minimum(event + delay, np.maximum(event, END))


def _pairs(ev_firm: np.ndarray, q_firm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (query, event) index pairs with the same firm (vectorised; firms have few events each)."""
    order = np.argsort(ev_firm, kind="stable")
    ef = ev_firm[order]
    lo = np.searchsorted(ef, q_firm, "left")
    cnt = np.searchsorted(ef, q_firm, "right") - lo
    qi = np.repeat(np.arange(len(q_firm)), cnt)
    within = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return qi, order[np.repeat(lo, cnt) + within]


def _count_pairs(qi: np.ndarray, cond: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(qi[cond], minlength=n)


# --------------------------------------------------------------------------- the generator
class _District:
    """Holds the clean district while it is drawn (one method per stage)."""

    def __init__(self, cfg: GeneratorConfig, out: Path) -> None:
        self.cfg = cfg
        self.out = out
        names = ["firms", "inspections", "penalties", "enforcement", "arrears", "lists", "tax", "loans",
                 "invoices", "reports", "repairs", "commitments", "reporting"]
        seqs = np.random.SeedSequence(cfg.seed).spawn(len(names))
        self.rng = {n: np.random.default_rng(s) for n, s in zip(names, seqs)}
        self.ind_keys = list(reference.industries())
        self.street_keys = list(reference.streets())
        self.sector_keys = list(reference.sectors())
        self.tables: dict[str, dict[str, Any]] = {}
        self.row_counts: dict[str, int] = {}
        self.files: dict[str, str] = {}
        self.faults: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ firms and their state
    def firms(self) -> None:
        cfg, rng = self.cfg, self.rng["firms"]
        n = cfg.firms
        cats = list(CATEGORY_WEIGHT)
        cat = rng.choice(3, size=n, p=np.array(list(CATEGORY_WEIGHT.values())))
        ind = np.empty(n, dtype=np.int64)
        pop_w = np.zeros(len(self.ind_keys))
        for ci, c in enumerate(cats):
            w = np.array([INDUSTRY_WEIGHT[c].get(k, 0.0) for k in self.ind_keys])
            w = w / w.sum()
            pop_w += CATEGORY_WEIGHT[c] * w
            sel = np.flatnonzero(cat == ci)
            ind[sel] = rng.choice(len(w), size=len(sel), p=w)
        sw = np.array([STREET_WEIGHT[k] for k in self.street_keys])
        street = rng.choice(len(sw), size=n, p=sw / sw.sum())
        ie = np.array([INDUSTRY_EFFECT[k] for k in self.ind_keys])
        ie = ie - pop_w @ ie                                   # centred on the district's mix
        se = np.array([STREET_EFFECT[k] for k in self.street_keys])
        se = se - (sw / sw.sum()) @ se
        var_struct = pop_w @ ie**2 + (sw / sw.sum()) @ se**2
        latent = ie[ind] + se[street] + math.sqrt(1 - var_struct) * rng.standard_normal(n)
        base = np.array([SHOCK_BASE.get(k, SHOCK_BASE_OTHER) for k in self.ind_keys])
        exposure = np.clip(base[ind] * rng.beta(4, 4, size=n) * 2, 0, 1)

        # registration and closure
        mean_age = np.where(cat == 1, 5.0, 9.0)
        age = np.minimum(rng.exponential(mean_age), 35.0)
        reg = END - np.floor(age * 365.25).astype(np.int64) - rng.integers(0, 30, size=n)
        reg = np.minimum(reg, END)
        p_close = _sigmoid(-2.9 - 0.9 * latent)
        close_lo = np.maximum(reg + 365, START)
        closes = (rng.random(n) < p_close) & (close_lo < END)
        closed = np.where(closes, close_lo + (rng.random(n) * np.maximum(END - close_lo, 1)).astype(np.int64), NULL_DAY)
        revoked = closes & (rng.random(n) < _sigmoid(-1.2 - 1.0 * latent))
        status = np.where(~closes, 0, np.where(revoked, 2, 1))   # ENTERPRISE_STATUS order
        active_end = np.where(closes, closed, END)

        # size, capital, employees
        score = 0.35 * latent + 0.25 * np.log1p(age) + rng.standard_normal(n)
        cuts = np.quantile(score, [0.70, 0.92, 0.985])
        size = np.searchsorted(cuts, score)
        size[cat == 1] = 0
        size[cat == 2] = np.where(size[cat == 2] > 0, 1, 0)
        med_cap = np.array([50.0, 500.0, 3000.0, 20000.0])
        capital = np.round(med_cap[size] * np.exp(0.8 * rng.standard_normal(n)), 1)
        capital[cat == 2] = np.round(100.0 * np.exp(0.7 * rng.standard_normal(int((cat == 2).sum()))), 1)
        capital[cat == 1] = np.nan                               # individual businesses: no registered capital
        lo_emp = np.array([1, 10, 100, 300]); hi_emp = np.array([9, 99, 299, 2000])
        emp = lo_emp[size] + np.floor(rng.random(n) ** 1.5 * (hi_emp[size] - lo_emp[size] + 1)).astype(np.int64)
        emp_missing = rng.random(n) < 0.04

        # codes (91 / 92 / 93), names
        division = reference.division_code()
        codes = np.empty(n, dtype=object)
        for ci, c in enumerate(cats):
            sel = np.flatnonzero(cat == ci)
            codes[sel] = U.generate(division, len(sel), rng, registration_authority=c[0], category=c[1])
        self.codes = pa.array(codes.tolist(), type=pa.string())
        ch = pa.array(_NAME_CHARS)
        a = ch.take(pa.array(rng.integers(0, len(_NAME_CHARS), n)))
        b = ch.take(pa.array(rng.integers(0, len(_NAME_CHARS), n)))
        ent_word = pa.array([_NAME_WORD[k] for k in self.ind_keys]).take(pa.array(ind))
        shop_word = pa.array([_SHOP_WORD.get(k, "经营部") for k in self.ind_keys]).take(pa.array(ind))
        coop_word = pa.array(list(_COOP_WORD)).take(pa.array(rng.integers(0, len(_COOP_WORD), n)))
        ent_name = pc.binary_join_element_wise("宁波", a, b, ent_word, "有限公司", "")
        shop_name = pc.binary_join_element_wise("江北区", a, b, shop_word, "")
        coop_name = pc.binary_join_element_wise("宁波市江北", a, b, coop_word, "专业合作社", "")
        catp = pa.array(cat)
        name = pc.if_else(pc.equal(catp, 0), ent_name, pc.if_else(pc.equal(catp, 1), shop_name, coop_name))

        # yearly state
        u = np.empty((n, NY))
        u[:, 0] = 0.5 * rng.standard_normal(n)
        for y in range(1, NY):
            u[:, y] = 0.6 * u[:, y - 1] + 0.4 * rng.standard_normal(n)
        self.shock_month = shock_profile(cfg.shock_start, cfg.shock_end, cfg.shock_recovery_months)
        self.shock_year = self.shock_month.reshape(NY, 12).mean(1)          # yearly mean intensity
        macro = np.array([MACRO[int(y)] for y in YEARS])
        self.transient = u + macro[None, :]                                  # state minus latent, before the shock
        self.state = latent[:, None] + self.transient - cfg.shock_size * exposure[:, None] * self.shock_year[None, :]

        # firm-year activity windows inside the district's history
        lo = np.maximum(np.maximum(Y_START[None, :], reg[:, None]), START)
        hi = np.minimum(Y_END[None, :], active_end[:, None])
        self.fy_lo, self.fy_hi = lo, hi

        self.n, self.cat, self.ind, self.street, self.latent = n, cat, ind, street, latent
        self.ind_effect, self.exposure, self.reg, self.closed, self.active_end = ie[ind], exposure, reg, closed, active_end
        self.size, self.age_years = size, age
        self.tables["enterprises"] = {
            "uscc": self.codes, "name": name, "industry": _Cat(ind, self.ind_keys),
            "street": _Cat(street, self.street_keys), "registered_on": reg, "registered_capital": capital,
            "size_class": _Cat(size, list(T.SIZE_CLASSES)), "employees": emp, "status": _Cat(status, list(T.ENTERPRISE_STATUS)),
            "closed_on": closed, "_emp_missing": emp_missing,
        }
        self.tables["truth"] = {"uscc": self.codes, "latent": latent, "industry_effect": ie[ind],
                                "shock_exposure": exposure}

    def _ind_vec(self, mapping: Mapping[str, float], other: float = 0.0) -> np.ndarray:
        return np.array([mapping.get(k, other) for k in self.ind_keys])[self.ind]

    def _events(self, rng: np.random.Generator, rate: np.ndarray, mask: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Poisson events per firm-year: ``rate`` (n, NY) per full year -> (firm, year index, day)."""
        length = np.maximum(self.fy_hi - self.fy_lo + 1, 0)
        if mask is not None:
            length = np.where(mask[:, None], length, 0)
        lam = rate * length / 365.25
        cnt = rng.poisson(lam).ravel()
        flat = np.flatnonzero(cnt)
        cell = np.repeat(flat, cnt[flat])
        firm, yi = cell // NY, cell % NY
        day = self.fy_lo.ravel()[cell] + (rng.random(len(cell)) * length.ravel()[cell]).astype(np.int64)
        return firm, yi, day

    # ------------------------------------------------------------------ inspections
    def inspections(self) -> None:
        rng = self.rng["inspections"]
        n, ind, s = self.n, self.ind, self.state
        letter = np.array(self.ind_keys)[ind]
        u = rng.random(n)
        elig = {
            "food_safety": (letter == "H") | ((letter == "F") & (u < 0.30)) | ((letter == "C") & (u < 0.12))
                           | ((letter == "A") & (u < 0.40)),
            "fire_safety": np.ones(n, dtype=bool),
            "environment": np.isin(letter, ["C", "B", "D", "N"]) | ((letter == "A") & (u > 0.7)),
            "work_safety": np.isin(letter, ["C", "E", "B", "D", "G"]),
            "construction": letter == "E",
        }
        fire_mult = self._ind_vec({"H": 2.0, "F": 1.3, "R": 1.8, "C": 1.5, "K": 1.3, "O": 1.2}, 0.7)
        size_mult = np.array([0.8, 1.2, 1.6, 2.0])[self.size]
        parts = []
        for si, sec in enumerate(self.sector_keys):
            base = INSPECTION_RATE[sec] * size_mult * (fire_mult if sec == "fire_safety" else 1.0)
            r_random = np.broadcast_to(base[:, None], s.shape)
            r_target = 0.06 * np.exp(-0.8 * s)
            r_complaint = 0.03 * np.exp(-1.0 * s)
            firm, yi, day = self._events(rng, r_random + r_target + r_complaint, elig[sec])
            tot = r_random[firm, yi] + r_target[firm, yi] + r_complaint[firm, yi]
            v = rng.random(len(firm)) * tot
            itype = np.where(v < r_random[firm, yi], 0, np.where(v < r_random[firm, yi] + r_target[firm, yi], 1, 2))
            parts.append((firm, day, np.full(len(firm), si), itype, s[firm, yi]))
        firm, day, sec, itype, st = (np.concatenate(x) for x in zip(*parts))
        m = len(firm)
        p_fail = _sigmoid(-3.0 - 0.9 * st + np.array([0.0, 0.4, 0.8])[itype])
        p_minor = _sigmoid(-0.7 - 0.5 * st)
        v = rng.random(m)
        result = np.where(v < p_fail, 2, np.where(v < p_fail + (1 - p_fail) * p_minor, 1, 0))
        viol = np.where(result == 0, 0, np.where(result == 1, 1 + rng.poisson(0.6, m),
                                                 2 + rng.poisson(1.5 + np.maximum(0, -st))))
        due = np.where(result == 0, NULL_DAY, day + np.where(result == 1, 15, 30))
        fixes = (result > 0) & (rng.random(m) < _sigmoid(2.0 + 1.0 * st))
        span = np.where(result == 1, 15, 30)
        rect = day + 3 + (rng.random(m) * span * (1.0 + 0.6 * np.maximum(0, -st))).astype(np.int64)
        rect = np.where(fixes & (rect <= END), rect, NULL_DAY)
        order = _sort_order(day, firm, sec)
        firm, day, sec, itype, st, result, viol, due, rect = (x[order] for x in
                                                               (firm, day, sec, itype, st, result, viol, due, rect))
        dept_keys = list(DEPT)
        sec_dept = np.array([dept_keys.index(SECTOR_DEPT[k]) for k in self.sector_keys])
        self.tables["inspections"] = {
            "record_id": _ids("INS", m), "uscc": self.codes.take(pa.array(firm)),
            "sector": _Cat(sec, self.sector_keys), "inspection_type": _Cat(itype, list(T.INSPECTION_TYPES)),
            "department": _Cat(sec_dept[sec], list(DEPT.values())), "inspected_on": day,
            "result": _Cat(result, list(T.INSPECTION_RESULTS)), "violations": viol,
            "rectification_due": due, "rectified_on": rect, "reported_on": None,
        }
        # failed inspections feed penalties
        self._insp_fail = (firm[result == 2], day[result == 2], sec[result == 2], st[result == 2])

    # ------------------------------------------------------------------ penalties
    def penalties(self) -> None:
        rng = self.rng["penalties"]
        s = self.state
        cats = list(T.PENALTY_CATEGORIES)
        rate = self._ind_vec(PENALTY_RATE, PENALTY_RATE_OTHER)[:, None] * np.exp(-0.7 * s)
        firm, yi, day = self._events(rng, rate)
        st = s[firm, yi]
        mix = np.array([[PENALTY_MIX.get(k, _PEN_DEFAULT).get(c, 0.0) for c in cats] for k in self.ind_keys])
        cum = np.cumsum(mix / mix.sum(1, keepdims=True), axis=1)
        cat = (rng.random(len(firm))[:, None] > cum[self.ind[firm]]).sum(1)
        cat = np.minimum(cat, len(cats) - 1)
        # penalties following failed inspections
        ff, fd, fs, fst = self._insp_fail
        take = rng.random(len(ff)) < 0.35
        fday = fd[take] + rng.integers(10, 61, int(take.sum()))
        keep = fday <= np.minimum(END, self.active_end[ff[take]])
        sec_to_cat = np.array([cats.index(k) for k in self.sector_keys])
        firm = np.concatenate([firm, ff[take][keep]])
        day = np.concatenate([day, fday[keep]])
        cat = np.concatenate([cat, sec_to_cat[fs[take][keep]]])
        st = np.concatenate([st, fst[take][keep]])
        shift = np.concatenate([np.zeros(len(firm) - int(keep.sum())), np.full(int(keep.sum()), 0.6)])
        m = len(firm)
        # severity: minor / general / serious
        l_minor = 0.3 + 0.5 * st - shift
        l_serious = -2.6 - 0.5 * st + shift
        p = np.stack([np.exp(l_minor), np.ones(m), np.exp(l_serious)], 1)
        p /= p.sum(1, keepdims=True)
        sev = (rng.random(m)[:, None] > np.cumsum(p, 1)).sum(1)
        sev = np.minimum(sev, 2)
        has_fine = rng.random(m) < np.array([0.70, 0.90, 0.95])[sev]
        med = np.array([2000.0, 20000.0, 150000.0])[sev]
        amount = np.where(has_fine, np.minimum(np.round(med * np.exp(0.9 * rng.standard_normal(m)), -2), 5e6), np.nan)
        amount = np.where(has_fine, np.maximum(amount, 100.0), np.nan)
        # the publicity rules of the decision date (DOMAIN.md A4; schema.PUBLICITY_MONTHS): a serious penalty's
        # minimum is 6 months under the 2019 rules (527号), 1 year from 2023-05-01 (Order No. 58)
        serious_min = np.where(day < _day(date(2023, 5, 1)), 6, 12)
        min_end = np.where(sev == 0, day, _add_months(day, np.where(sev == 1, 3, serious_min)))
        max_end = _add_months(day, np.array([3, 12, 36])[sev])
        fulfils = rng.random(m) < _sigmoid(2.2 + 1.0 * st)
        paid = day + np.ceil(rng.exponential(np.where(st > 0, 20.0, 60.0))).astype(np.int64)
        paid = np.where(fulfils & (paid <= END), paid, NULL_DAY)
        # credit repair applications (after the minimum period, obligations fulfilled)
        earliest = np.maximum(min_end, np.where(paid == NULL_DAY, 0, paid))
        applies = (paid != NULL_DAY) & (rng.random(m) < _sigmoid(-0.7 + 0.8 * st + np.array([-0.8, 0.0, 0.4])[sev]))
        applied = earliest + 1 + np.floor(rng.exponential(45.0, m)).astype(np.int64)
        applies &= (applied <= END) & (applied + 20 < max_end)
        decided = applied + rng.integers(3, 16, m)
        approved = rng.random(m) < _sigmoid(2.0 + 0.5 * st)
        pending = decided > END
        repaired = np.where(applies & approved & ~pending, decided, NULL_DAY)
        order = _sort_order(day, firm, cat)
        inv = np.empty(m, dtype=np.int64); inv[order] = np.arange(m)
        firm, day, cat, sev, st, amount, min_end, max_end, paid, repaired = (
            x[order] for x in (firm, day, cat, sev, st, amount, min_end, max_end, paid, repaired))
        cat_dept = np.array([list(DEPT).index(CATEGORY_DEPT[c]) for c in cats])
        self.tables["penalties"] = {
            "record_id": _ids("PEN", m), "uscc": self.codes.take(pa.array(firm)), "decision_date": day,
            "severity": _Cat(sev, list(T.SEVERITIES)), "category": _Cat(cat, cats),
            "department": _Cat(cat_dept[cat], list(DEPT.values())), "amount": amount,
            "publicity_min_end": min_end, "publicity_max_end": max_end, "fine_paid_on": paid,
            "repaired_on": repaired, "reported_on": None,
        }
        self.pen = dict(firm=firm, day=day, cat=cat, sev=sev, st=st, repaired=repaired, dept=cat_dept[cat])
        # repair applications of penalties (positions in the sorted table)
        a = np.flatnonzero(applies)
        outcome = np.where(pending[a], 2, np.where(approved[a], 0, 1))
        self._repairs = [("penalties", inv[a], firm[inv[a]], applied[a], np.where(pending[a], NULL_DAY, decided[a]),
                          outcome, cat_dept[cat[inv[a]]])]

    # ------------------------------------------------------------------ enforcement
    def _enforcement_cases(self, rng: np.random.Generator, firm: np.ndarray, filed: np.ndarray, st: np.ndarray,
                           amount: np.ndarray) -> dict[str, np.ndarray]:
        m = len(firm)
        never = rng.random(m) < _sigmoid(-2.0 - 1.0 * st)
        lag = np.ceil(rng.exponential(90.0 * np.exp(-0.8 * st))).astype(np.int64) + 10
        closed = np.where(~never & (filed + lag <= END), filed + lag, NULL_DAY)
        lists = ((lag > 120) | never) & (rng.random(m) < _sigmoid(-0.3 - 0.8 * st))
        listed = filed + rng.integers(60, 151, m)
        lists &= (listed <= END) & ((closed == NULL_DAY) | (listed < closed))
        listed = np.where(lists, listed, NULL_DAY)
        removed = np.where(lists & (closed != NULL_DAY), closed + rng.integers(0, 4, m), NULL_DAY)
        removed = np.where(removed > END, NULL_DAY, removed)
        via_repair = (removed != NULL_DAY) & (rng.random(m) < 0.5)
        return dict(firm=firm, filed=filed, amount=amount, closed=closed, listed=listed, removed=removed,
                    via_repair=via_repair)

    def enforcement(self) -> None:
        rng = self.rng["enforcement"]
        s = self.state
        firm, yi, day = self._events(rng, 0.006 * np.exp(-1.3 * s))
        amount = np.round(80000.0 * np.exp(1.2 * rng.standard_normal(len(firm))), -2) + 1000.0
        self.enf_organic = self._enforcement_cases(rng, firm, day, s[firm, yi], amount)

    def _finish_enforcement(self) -> None:
        """Organic cases plus those following loan defaults; sorted, numbered, case numbers."""
        rng = self.rng["enforcement"]
        o, d = self.enf_organic, self.enf_default
        parts = {k: np.concatenate([o[k], d[k]]) for k in o}
        m = len(parts["firm"])
        court = rng.choice(len(COURTS), size=m, p=np.array([c[2] for c in COURTS]))
        court[len(o["firm"]):] = 0                       # bank suits go to the district court
        order = _sort_order(parts["filed"], parts["firm"])
        parts = {k: v[order] for k, v in parts.items()}
        court = court[order]
        year = _year_of(parts["filed"])
        # case numbers: sequence per court and year in filing order
        key = court * 10000 + year
        o2 = np.lexsort((np.arange(m), key))
        ks = key[o2]
        start = np.r_[0, np.flatnonzero(np.diff(ks)) + 1]
        seq_sorted = np.arange(m) - np.repeat(start, np.diff(np.r_[start, m]))
        seq = np.empty(m, dtype=np.int64); seq[o2] = seq_sorted + 1 + (year[o2] % 7) * 100
        court_code = pa.array([c[1] for c in COURTS]).take(pa.array(court))
        case_no = pc.binary_join_element_wise("（", pc.cast(pa.array(year), pa.string()), "）", court_code, "执",
                                              pc.cast(pa.array(seq), pa.string()), "号", "")
        self.tables["enforcement"] = {
            "record_id": _ids("ENF", m), "uscc": self.codes.take(pa.array(parts["firm"])), "case_no": case_no,
            "court": _Cat(court, [c[0] for c in COURTS]), "filed_on": parts["filed"], "amount": parts["amount"],
            "dishonest_listed_on": parts["listed"], "dishonest_removed_on": parts["removed"],
            "closed_on": parts["closed"], "reported_on": None,
        }
        r = np.flatnonzero(parts["via_repair"])
        self._repairs.append(("enforcement", r, parts["firm"][r], parts["closed"][r], parts["removed"][r],
                              np.zeros(len(r), dtype=np.int64), np.full(len(r), list(DEPT).index("ndrc"))))

    # ------------------------------------------------------------------ arrears
    def arrears(self) -> None:
        rng = self.rng["arrears"]
        s = self.state
        shock = self.cfg.shock_size * self.exposure[:, None] * self.shock_year[None, :]
        rate = 0.012 * np.exp(-1.1 * s) * (1 + ARREARS_SHOCK * shock)
        firm, yi, day = self._events(rng, rate)
        st = s[firm, yi]
        kinds = list(T.ARREARS_KINDS)
        w = np.array([ARREARS_WEIGHT[k] for k in kinds])
        kind = rng.choice(len(kinds), size=len(firm), p=w / w.sum())
        letter = np.array(self.ind_keys)[self.ind[firm]]
        kind[(kind == kinds.index("gas")) & ~np.isin(letter, ["H", "C"])] = kinds.index("electricity")
        started = (day.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]") - _EPOCH).astype(np.int64)
        started = np.maximum(started, self.fy_lo[firm, yi])
        k = np.minimum(rng.geometric(_sigmoid(0.8 + 0.6 * st)), 24)     # months overdue, >= 1
        determined = _add_months(started, k) + rng.integers(0, 15, len(firm))
        keep = determined <= END
        firm, st, kind, started, k, determined = (x[keep] for x in (firm, st, kind, started, k, determined))
        m = len(firm)
        monthly = np.array([ARREARS_MONTHLY[x] for x in kinds])[kind] * np.array([0.5, 2.0, 8.0, 30.0])[self.size[firm]]
        amount = np.round(monthly * k * np.exp(0.5 * rng.standard_normal(m)), 2)
        clears = rng.random(m) < _sigmoid(1.5 + 1.0 * st)
        cleared = determined + np.ceil(rng.exponential(60.0, m)).astype(np.int64)
        cleared = np.where(clears & (cleared <= END), cleared, NULL_DAY)
        order = _sort_order(determined, firm, kind)
        firm, st, kind, started, k, determined, amount, cleared = (
            x[order] for x in (firm, st, kind, started, k, determined, amount, cleared))
        dept = np.array([list(DEPT).index(x) for x in kinds])[kind]
        self.tables["arrears"] = {
            "record_id": _ids("ARR", m), "uscc": self.codes.take(pa.array(firm)), "kind": _Cat(kind, kinds),
            "department": _Cat(dept, list(DEPT.values())), "started_on": started, "amount": amount,
            "months_overdue": k, "determined_on": determined, "cleared_on": cleared, "reported_on": None,
        }
        self.arr = dict(firm=firm, day=determined, kind=kind, months=k)

    # ------------------------------------------------------------------ lists
    def lists(self) -> None:
        rng = self.rng["lists"]
        s = self.state
        dept_keys = list(DEPT)
        parts: list[tuple] = []        # (firm, type, dept, reason_code, start, end)
        reasons: list[str] = []

        def reason_code(text: str) -> int:
            if text not in reasons:
                reasons.append(text)
            return reasons.index(text)

        # abnormal operation
        rate = 0.018 * np.exp(-1.1 * s) * np.where(self.cat == 1, 1.5, 1.0)[:, None]
        firm, yi, day = self._events(rng, rate)
        st = s[firm, yi]
        m = len(firm)
        rc = rng.choice(3, size=m, p=[0.6, 0.3, 0.1])
        july = Y_START[yi] + 181 + rng.integers(0, 31, m)
        ok_july = (rc == 0) & (july >= self.fy_lo[firm, yi]) & (july <= self.fy_hi[firm, yi])
        day = np.where(ok_july, july, day)
        removes = rng.random(m) < _sigmoid(0.5 + 1.0 * st)
        end = day + np.ceil(rng.exponential(150.0, m)).astype(np.int64)
        end = np.where(removes & (end <= END), end, NULL_DAY)
        codes_r = np.array([reason_code(x) for x in ABNORMAL_REASONS])[rc]
        parts.append((firm, np.full(m, 2), np.full(m, dept_keys.index("market")), codes_r, day, end))
        self.abn = dict(firm=firm, start=day, end=end)
        # -> serious dishonesty after 3 years without remedy
        esc = ~removes & (rng.random(m) < 0.12) & (_add_months(day, 36) + 30 <= np.minimum(END, self.active_end[firm]))
        sd_start = _add_months(day[esc], 36) + rng.integers(0, 31, int(esc.sum()))
        sd_start = np.minimum(sd_start, END)
        sd_parts = [(firm[esc], sd_start, np.full(int(esc.sum()), dept_keys.index("market")),
                     np.full(int(esc.sum()), reason_code(ABNORMAL_TO_SERIOUS)), s[firm[esc], np.minimum(yi[esc] + 3, NY - 1)])]
        # -> serious dishonesty after serious penalties
        pen = self.pen
        ser = np.flatnonzero((pen["sev"] == 2) & (rng.random(len(pen["sev"])) < _sigmoid(-2.55 - 0.8 * pen["st"])))
        start = pen["day"][ser] + rng.integers(15, 61, len(ser))
        keep = start <= np.minimum(END, self.active_end[pen["firm"][ser]])
        ser, start = ser[keep], start[keep]
        cats = list(T.PENALTY_CATEGORIES)
        zh = {"food_safety": "食品安全", "fire_safety": "消防安全", "environment": "生态环境", "work_safety": "安全生产",
              "construction": "建筑市场", "tax": "税收", "market": "市场监管", "transport": "交通运输",
              "labour": "劳动保障", "other": "综合执法"}
        rcode = np.array([reason_code(f"严重违法失信行为（{zh[c]}）") for c in cats])[pen["cat"][ser]]
        sd_parts.append((pen["firm"][ser], start, pen["dept"][ser], rcode, pen["st"][ser]))
        f, st_, dp, rc_, stt = (np.concatenate(x) for x in zip(*sd_parts))
        m = len(f)
        nat_end = _add_months(st_, 36)
        applies = rng.random(m) < _sigmoid(-0.8 + 0.8 * stt)
        applied = st_ + 365 + np.floor(rng.exponential(60.0, m)).astype(np.int64)
        decided = applied + rng.integers(5, 21, m)
        applies &= (applied <= END) & (decided < nat_end)
        approved = rng.random(m) < _sigmoid(1.4 + 0.5 * stt)
        pending = decided > END
        end = np.where(applies & approved & ~pending, decided, np.where(nat_end <= END, nat_end, NULL_DAY))
        parts.append((f, np.full(m, 3), dp, rc_, st_, end))
        rep_sd = (f, applies, applied, decided, approved, pending, dp)
        # black lists (sector joint-punishment lists)
        letter = np.array(self.ind_keys)
        black_ok = np.isin(letter[self.ind], list(BLACK_REASONS))
        firm, yi, day = self._events(rng, 0.004 * np.exp(-1.2 * s), black_ok)
        m = len(firm)
        ind_reason = np.array([reason_code(BLACK_REASONS[k][0]) if k in BLACK_REASONS else -1 for k in self.ind_keys])
        ind_dept = np.array([dept_keys.index(BLACK_REASONS[k][1]) if k in BLACK_REASONS else 0 for k in self.ind_keys])
        nat_end = _add_months(day, 12 * rng.integers(1, 4, m))
        stb = s[firm, yi]
        applies_b = rng.random(m) < _sigmoid(-1.2 + 0.8 * stb)
        applied_b = day + 180 + np.floor(rng.exponential(60.0, m)).astype(np.int64)
        decided_b = applied_b + rng.integers(5, 21, m)
        applies_b &= (applied_b <= END) & (decided_b < nat_end)
        approved_b = rng.random(m) < _sigmoid(1.4 + 0.5 * stb)
        pending_b = decided_b > END
        end = np.where(applies_b & approved_b & ~pending_b, decided_b, np.where(nat_end <= END, nat_end, NULL_DAY))
        parts.append((firm, np.full(m, 1), ind_dept[self.ind[firm]], ind_reason[self.ind[firm]], day, end))
        rep_black = (firm, applies_b, applied_b, decided_b, approved_b, pending_b, ind_dept[self.ind[firm]])
        # red-list honours
        size_mult = np.array([0.5, 1.5, 2.5, 3.0])[self.size] * (self.cat == 0)
        firm, yi, day = self._events(rng, 0.03 * np.exp(0.9 * s) * size_mult[:, None])
        m = len(firm)
        which = rng.integers(0, len(RED_REASONS), m)
        red_reason = np.array([reason_code(r[0]) for r in RED_REASONS])[which]
        red_dept = np.array([dept_keys.index(r[1]) for r in RED_REASONS])[which]
        end = _add_months(day, 24)
        end = np.where(end <= END, end, NULL_DAY)
        parts.append((firm, np.zeros(m, dtype=np.int64), red_dept, red_reason, day, end))

        f, lt, dp, rc_, st_, en = (np.concatenate(x) for x in zip(*parts))
        src = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
        order = _sort_order(st_, f, lt)
        inv = np.empty(len(f), dtype=np.int64); inv[order] = np.arange(len(f))
        f, lt, dp, rc_, st_, en = (x[order] for x in (f, lt, dp, rc_, st_, en))
        m = len(f)
        self.tables["lists"] = {
            "record_id": _ids("LST", m), "uscc": self.codes.take(pa.array(f)), "list_type": _Cat(lt, list(T.LIST_TYPES)),
            "department": _Cat(dp, list(DEPT.values())), "reason": _Cat(rc_, reasons), "start_date": st_,
            "end_date": en, "reported_on": None,
        }
        self.lst = dict(firm=f, type=lt, start=st_, end=en)
        # repairs of serious-dishonesty (source 1) and black-list (source 2) entries
        for si, (ff, ap, apd, dec, appr, pend, dpt) in ((1, rep_sd), (2, rep_black)):
            a = np.flatnonzero(ap)
            pos = inv[np.flatnonzero(src == si)[a]] if len(a) else np.zeros(0, dtype=np.int64)
            outcome = np.where(pend[a], 2, np.where(appr[a], 0, 1))
            self._repairs.append(("lists", pos, ff[a], apd[a], np.where(pend[a], NULL_DAY, dec[a]), outcome, dpt[a]))

    # ------------------------------------------------------------------ tax grades
    def tax_grades(self) -> None:
        rng = self.rng["tax"]
        n, s = self.n, self.state
        graded = (self.cat != 1) | (rng.random(n) < 0.3)
        publish = np.array([_day(date(int(y) + 1, 4, 10)) for y in YEARS[:-1]])   # evaluation years 2018..2024
        ny = len(publish)
        yend = Y_END[:ny]
        elig = graded[:, None] & (self.reg[:, None] <= yend[None, :]) & (self.active_end[:, None] >= publish[None, :])
        firm, yi = np.nonzero(elig)
        m = len(firm)
        # tax arrears and tax penalties in the evaluation year pull the grade down
        arr_tax = self.arr["kind"] == list(T.ARREARS_KINDS).index("tax")
        key = lambda f, d: f * NY + (_year_of(d) - YEARS[0])  # noqa: E731
        n_arr = np.bincount(key(self.arr["firm"][arr_tax], self.arr["day"][arr_tax]), minlength=n * NY)
        tp = self.pen["cat"] == list(T.PENALTY_CATEGORIES).index("tax")
        ser_tax = np.bincount(key(self.pen["firm"][tp & (self.pen["sev"] == 2)], self.pen["day"][tp & (self.pen["sev"] == 2)]), minlength=n * NY)
        gen_tax = np.bincount(key(self.pen["firm"][tp & (self.pen["sev"] == 1)], self.pen["day"][tp & (self.pen["sev"] == 1)]), minlength=n * NY)
        cell = firm * NY + yi
        score = (TAX_SCORE[0] + TAX_SCORE[1] * s[firm, yi] + TAX_SCORE[2] * rng.standard_normal(m)
                 - 12 * (n_arr[cell] > 0) - 10 * (gen_tax[cell] > 0))
        grade = np.select([score >= 90, score >= 70, score >= 45], [0, 1, 3], 4)     # A B (M) C D
        lst = self.lst
        sdl = lst["type"] == list(T.LIST_TYPES).index("serious_dishonesty")
        sd_year = np.bincount(key(lst["firm"][sdl], lst["start"][sdl]), minlength=n * NY)
        long_tax = arr_tax & (self.arr["months"] >= 3)
        arr_long = np.bincount(key(self.arr["firm"][long_tax], self.arr["day"][long_tax]), minlength=n * NY)
        evasion = rng.random(m) < _sigmoid(-5.2 - 1.0 * s[firm, yi])        # tax-evasion / false-invoice findings
        direct_d = (ser_tax[cell] > 0) | (sd_year[cell] > 0) | (arr_long[cell] > 0) | evasion
        grade = np.where(self.reg[firm] >= Y_START[yi], 2, grade)                       # new firm -> M
        grade = np.where(direct_d, 4, grade)   # ... unless a D applies directly (M needs no dishonest act: DOMAIN A3)
        pub = publish[yi]
        order = _sort_order(pub, firm)
        firm, yi, grade, pub = (x[order] for x in (firm, yi, grade, pub))
        self._tax = dict(firm=firm, grade=grade, published=pub)
        self.tables["tax_grades"] = {
            "record_id": _ids("TAX", m), "uscc": self.codes.take(pa.array(firm)), "year": YEARS[yi],
            "grade": _Cat(grade, list(T.TAX_GRADES)), "published_on": pub, "reported_on": None,
        }

    # ------------------------------------------------------------------ loans
    def loans(self) -> None:
        rng = self.rng["loans"]
        cfg, n, s = self.cfg, self.n, self.state
        cand = (self.reg <= LOAN_LAST - 365) & (self.active_end >= LOAN_FIRST + 365)
        w = np.array([1.0, 1.8, 1.5, 0.5])[self.size] * np.exp(0.2 * self.latent) * cand
        k = min(int(round(cfg.applicant_share * n)), int(cand.sum()))
        g = np.where(w > 0, np.log(np.where(w > 0, w, 1)) + rng.gumbel(size=n), -np.inf)
        applicants = np.sort(np.argpartition(-g, k - 1)[:k]) if k > 0 else np.zeros(0, dtype=np.int64)
        nl = np.minimum(1 + rng.poisson(LOANS_EXTRA_MEAN, len(applicants)), 4)
        firm = np.repeat(applicants, nl)
        m = len(firm)
        orig = LOAN_FIRST + (rng.random(m) * (LOAN_LAST - LOAN_FIRST + 1)).astype(np.int64)
        keep = (orig >= self.reg[firm] + 180) & (orig <= self.active_end[firm] - 30)
        firm, orig = firm[keep], orig[keep]
        # distress borrowing: in the shock period, firms under strain (exposed, weak state) take extra loans,
        # SHOCK_BORROWING x shock_size times the number of ordinary loans originated in that period
        lo, hi = max(_day(cfg.shock_start), LOAN_FIRST), min(_day(cfg.shock_end), LOAN_LAST)
        n_extra = int(round(SHOCK_BORROWING * cfg.shock_size * np.count_nonzero((orig >= lo) & (orig <= hi))))
        if n_extra > 0:
            ys = int(_year_of(np.array([lo]))[0]) - YEARS[0]
            ok = (self.reg <= hi - 180) & (self.active_end >= lo + 30)
            w2 = self.exposure * np.exp(-SHOCK_BORROWING_STATE * s[:, ys]) * ok
            n_extra = min(n_extra, int(np.count_nonzero(w2 > 0)))
            g2 = np.where(w2 > 0, np.log(np.where(w2 > 0, w2, 1)) + rng.gumbel(size=n), -np.inf)
            extra = np.sort(np.argpartition(-g2, n_extra - 1)[:n_extra]) if n_extra > 0 else np.zeros(0, np.int64)
            e_lo = np.maximum(lo, self.reg[extra] + 180)
            e_hi = np.minimum(hi, self.active_end[extra] - 30)
            # later in the period rather than early: cash buffers run out first (density rising linearly)
            e_orig = e_lo + (np.sqrt(rng.random(len(extra))) * np.maximum(e_hi - e_lo + 1, 1)).astype(np.int64)
            ok = e_orig <= e_hi
            firm, orig = np.concatenate([firm, extra[ok]]), np.concatenate([orig, e_orig[ok]])
            applicants = np.union1d(applicants, extra[ok])
        o = np.lexsort((orig, firm))
        firm, orig = firm[o], orig[o]
        m = len(firm)
        size = self.size[firm]
        med = np.array([200e3, 400e3, 700e3, 900e3])[size]
        amount = np.clip(np.round(med * np.exp(0.45 * rng.standard_normal(m)), -4), 100e3, 1e6)
        term = np.array([6, 12, 24, 36])[rng.choice(4, size=m, p=[0.10, 0.55, 0.25, 0.10])]
        coll = rng.choice(4, size=m, p=[0.40, 0.30, 0.20, 0.10])
        # state averaged over the 12-month window: transient by calendar day, shock by month
        w_end = np.minimum(_add_months(orig, 12) - 1, END)
        ov = np.clip(np.minimum(Y_END[None, :], w_end[:, None]) - np.maximum(Y_START[None, :], orig[:, None]) + 1, 0, None)
        om = (orig.astype("datetime64[D]").astype("datetime64[M]") - MONTHS[0]).astype(np.int64)
        shock_win = self.shock_month[np.minimum(om[:, None] + np.arange(12)[None, :], len(MONTHS) - 1)].mean(1)
        s_win = (self.latent[firm] + (ov * self.transient[firm]).sum(1) / ov.sum(1)
                 - cfg.shock_size * self.exposure[firm] * shock_win)
        oy = _year_of(orig) - YEARS[0]
        # recent public records at origination (24 months, point in time)
        pen, eo, abn = self.pen, self.enf_organic, self.abn
        qi, ei = _pairs(pen["firm"], firm)
        o, d, rp = orig[qi], pen["day"][ei], pen["repaired"][ei]
        live = (pen["sev"][ei] >= 1) & (d > o - 730) & (d <= o) & ~((rp != NULL_DAY) & (rp <= o))
        c_pen = _count_pairs(qi, live, m)
        qi, ei = _pairs(eo["firm"], firm)
        o = orig[qi]
        c_enf = _count_pairs(qi, (eo["filed"][ei] > o - 730) & (eo["filed"][ei] <= o), m)
        listed, removed = eo["listed"][ei], eo["removed"][ei]
        c_dis = _count_pairs(qi, (listed != NULL_DAY) & (listed <= o) & ((removed == NULL_DAY) | (removed > o)), m)
        qi, ei = _pairs(self.arr["firm"], firm)
        o = orig[qi]
        c_arr = _count_pairs(qi, (self.arr["day"][ei] > o - 730) & (self.arr["day"][ei] <= o), m)
        qi, ei = _pairs(abn["firm"], firm)
        o, e = orig[qi], abn["end"][ei]
        c_abn = _count_pairs(qi, (abn["start"][ei] <= o) & ((e == NULL_DAY) | (e > o)), m)
        age = (orig - self.reg[firm]) / 365.25
        c = PD_COEF
        logit = (c["intercept"] + c["state"] * s_win + c["age_lt_2y"] * (age < 2) + c["age_lt_5y"] * (age < 5)
                 + np.array([c["size"][x] for x in T.SIZE_CLASSES])[size]
                 + c["penalties_24m"] * np.minimum(c_pen, 3) + c["enforcement_24m"] * np.minimum(c_enf, 3)
                 + c["arrears_24m"] * np.minimum(c_arr, 3) + c["abnormal_active"] * (c_abn > 0)
                 + c["dishonest_debtor_active"] * (c_dis > 0)
                 + np.array([c["collateral"][x] for x in T.COLLATERAL])[coll]
                 + c["log_amount_300k"] * np.log(amount / 300e3) + c["noise_sd"] * rng.standard_normal(m)
                 + SHOCK_PD_LOGIT * cfg.shock_size * self.exposure[firm] * shock_win)
        true_pd = np.clip(_sigmoid(logit), 1e-4, 0.95)
        default = rng.random(m) < true_pd
        ddate = np.where(default, orig + 30 + (rng.beta(2.0, 1.5, m) * 335).astype(np.int64), NULL_DAY)
        # a firm that has defaulted gets no further loan (loans are in (firm, origination) order here)
        after_default = np.zeros(m, dtype=bool)
        dd_known = np.where(default, ddate, np.iinfo(np.int64).max)
        for lag in range(1, int(np.bincount(firm).max()) if m else 1):
            same = np.zeros(m, dtype=bool)
            same[lag:] = firm[lag:] == firm[:-lag]
            after_default[lag:] |= same[lag:] & (dd_known[:-lag] < orig[lag:])
        keep = ~after_default
        firm, orig, amount, term, coll, true_pd, default, ddate, oy = (
            x[keep] for x in (firm, orig, amount, term, coll, true_pd, default, ddate, oy))
        m = len(firm)
        # the bank's price: LPR + spread from a noisy view of risk + collateral add-on
        view = s[firm, oy] + 1.5 * rng.standard_normal(m)
        lpr = np.array([LPR_1Y[int(y)] for y in _year_of(orig)])
        rate = np.round(np.clip(lpr + 0.012 + 0.035 * _sigmoid(-1.2 * view - 0.5)
                                + np.array([0.010, 0.005, 0.0, 0.004])[coll], 0.03, 0.15), 4)
        order = _sort_order(orig, firm)
        firm, orig, amount, term, rate, coll, default, ddate, true_pd = (
            x[order] for x in (firm, orig, amount, term, rate, coll, default, ddate, true_pd))
        self.tables["loans"] = {
            "loan_id": _ids("LN", m, 9), "uscc": self.codes.take(pa.array(firm)), "origination_date": orig,
            "amount": amount, "term_months": term, "rate": rate, "collateral": _Cat(coll, list(T.COLLATERAL)),
            "default_12m": default.astype(np.int64), "default_date": ddate, "true_pd": true_pd,
        }
        self.loan = dict(firm=firm, orig=orig, default=default, ddate=ddate, amount=amount, true_pd=true_pd)
        self.applicants = applicants
        # bank suits after defaults -> enforcement cases
        dd = np.flatnonzero(default)
        sue = dd[rng.random(len(dd)) < 0.5]
        filed = ddate[sue] + rng.integers(60, 301, len(sue))
        ok = filed <= np.minimum(END, self.active_end[firm[sue]])
        sue, filed = sue[ok], filed[ok]
        st = s[firm[sue], _year_of(filed) - YEARS[0]]
        self.enf_default = self._enforcement_cases(rng, firm[sue], filed, st,
                                                   np.round(amount[sue] * rng.uniform(0.5, 1.0, len(sue)), -2))
        self._finish_enforcement()

    # ------------------------------------------------------------------ invoices and annual reports
    def invoices(self) -> None:
        rng = self.rng["invoices"]
        app = self.applicants
        na = len(app)
        first = np.maximum(self.reg[app].astype("datetime64[D]").astype("datetime64[M]"), INVOICE_FIRST_MONTH)
        last = np.minimum(self.active_end[app].astype("datetime64[D]").astype("datetime64[M]"), INVOICE_LAST_MONTH)
        nm = np.maximum((last - first).astype(np.int64) + 1, 0)
        pos = np.repeat(np.arange(na), nm)
        month_idx = (np.arange(len(pos)) - np.repeat(np.cumsum(nm) - nm, nm)) + (first - INVOICE_FIRST_MONTH).astype(np.int64)[pos]
        month = INVOICE_FIRST_MONTH + month_idx
        firm = app[pos]
        r = len(firm)
        lat = self.latent[app]
        level = np.array([80e3, 600e3, 4e6, 20e6])[self.size[app]] * np.exp(0.5 * rng.standard_normal(na))
        growth = 0.05 + 0.04 * lat + 0.04 * rng.standard_normal(na)
        sigma = 0.12 + 0.03 * np.maximum(0.0, -lat)
        habit = np.exp(INVOICE_HABIT_SD * rng.standard_normal((na, 2)))   # the firm's own voiding / credit-note habit
        yi = month_idx // 12 + 1                                  # state column (2019 -> 1)
        mi = month_idx + (INVOICE_FIRST_MONTH - MONTHS[0]).astype(np.int64)   # column of the monthly shock profile
        season = np.array([0.85, 0.70, 1.00, 1.00, 1.00, 1.02, 0.98, 0.98, 1.02, 1.00, 1.05, 1.15])[month_idx % 12]
        # the month's state minus the latent: the year's transient and the shock at its monthly intensity
        shock = self.cfg.shock_size * self.exposure[firm] * self.shock_month[mi]
        st = self.transient[firm, yi] - shock
        s_month = self.latent[firm] + st
        since_reg = (month - self.reg[firm].astype("datetime64[D]").astype("datetime64[M]")).astype(np.int64)
        ramp = np.minimum(1.0, (since_reg + 1) / 7.0)
        # after origination, a loan that will default shows falling sales in the 6 months before default
        ld = self.loan
        dmask = ld["default"]
        dip = np.ones(r)
        if dmask.any():
            df, dorig, ddate = ld["firm"][dmask], ld["orig"][dmask], ld["ddate"][dmask]
            mstart = np.maximum(_add_months(ddate, -6), dorig + 31).astype("datetime64[D]").astype("datetime64[M]")
            mend = _add_months(ddate, 12).astype("datetime64[D]").astype("datetime64[M]")
            # map each defaulted loan to its applicant position and mark the months (vectorised per window)
            apos = np.searchsorted(app, df)
            off = np.cumsum(nm) - nm
            for k in range(19):                                  # at most 19 months per window
                mm = mstart + k
                ok = mm <= mend
                idx = (mm - first[apos]).astype(np.int64)
                ok &= (idx >= 0) & (idx < nm[apos])
                dip[off[apos[ok]] + idx[ok]] = 0.55
        sales = (level[pos] * np.exp(growth[pos] * month_idx / 12.0) * np.exp(SALES_STATE * st - SALES_SHOCK * shock)
                 * season * ramp * dip * np.exp(sigma[pos] * rng.standard_normal(r)))
        del season, ramp, dip, since_reg, shock, st, mi                # 1M firms: keep the peak memory down
        # dormant months: no sales invoice at all (weak firms, more so in the shock), few purchases
        dormant = rng.random(r) < _sigmoid(DORMANT_LOGIT[0] + DORMANT_LOGIT[1] * s_month)
        ratio = self._ind_vec({"C": .70, "F": .85, "H": .50, "E": .75, "I": .30, "L": .40, "M": .35, "K": .50}, .60)[firm]
        p_scale = np.where(dormant, np.where(rng.random(r) < 0.5, 0.0, 0.2), 1.0)
        purchases = np.round(sales * ratio * np.exp(0.15 * rng.standard_normal(r)) * p_scale, 2)
        sales = np.where(dormant, 0.0, np.round(sales, 2))
        del ratio, p_scale, dormant
        ticket = self._ind_vec({"F": 3000, "C": 20000, "H": 400, "E": 50000, "I": 15000}, 8000)[firm]
        # at least one invoice in a month with sales (purchases), none without
        n_sales = np.where(sales > 0, 1 + rng.poisson(np.maximum(sales / ticket - 1.0, 0.0)), 0)
        n_purch = np.where(purchases > 0, 1 + rng.poisson(np.maximum(purchases / (1.5 * ticket) - 1.0, 0.0)), 0)
        # voided and credit-note (red-letter) invoices among the sales invoices other than one valid invoice:
        # mostly the firm's habit, a little more for a weak state
        m_void = np.minimum(VOID_BASE * habit[pos, 0] * np.exp(-INVOICE_SHARE_STATE * s_month), 0.3)
        m_red = np.minimum(RED_BASE * habit[pos, 1] * np.exp(-INVOICE_SHARE_STATE * s_month), 0.3)
        others = np.maximum(n_sales - 1, 0)
        k_void = rng.binomial(others, m_void)
        k_red = rng.binomial(others - k_void, m_red / (1.0 - m_void))
        del m_void, m_red, others, s_month, ticket
        with np.errstate(invalid="ignore", divide="ignore"):
            voided = np.where(n_sales > 0, np.round(k_void / n_sales, 6), 0.0)
            red = np.where(n_sales > 0, np.round(k_red / n_sales, 6), 0.0)
        del k_void, k_red
        self._inv_exposed = np.isin(np.array(self.ind_keys), SHOCK_INDUSTRIES)[self.ind[firm]]
        self.tables["invoices_monthly"] = {
            "uscc": self.codes.take(pa.array(firm)), "month": (month.astype("datetime64[D]") - _EPOCH).astype(np.int64),
            "sales": sales, "purchases": purchases, "n_sales_invoices": n_sales, "n_purchase_invoices": n_purch,
            "voided_share": voided, "red_letter_share": red,
        }
        # yearly invoiced sales per applicant for the annual reports
        self._annual_sales = np.bincount(pos * NY + yi, weights=sales, minlength=na * NY).reshape(na, NY)
        self._annual_months = np.bincount(pos * NY + yi, minlength=na * NY).reshape(na, NY)

    def annual_reports(self) -> None:
        rng = self.rng["reports"]
        app = self.applicants
        years = np.arange(1, NY - 1)                                # 2019..2024, filed in 2020..2025
        ok = (self._annual_months[:, years] > 0) & (self.active_end[app][:, None] >= Y_END[years][None, :])
        pos, j = np.nonzero(ok)
        yi = years[j]
        firm = app[pos]
        m = len(firm)
        revenue = np.round(self._annual_sales[pos, yi] * np.exp(0.03 * rng.standard_normal(m)), 2)
        st = self.state[firm, yi]
        turnover = self._ind_vec({"C": 1.0, "F": 2.0, "H": 1.5, "E": 0.9, "K": 0.3, "I": 1.2}, 1.2)[firm]
        assets = np.round(np.maximum(revenue / turnover * np.exp(0.3 * rng.standard_normal(m)), 50e3), 2)
        a = REPORT_COEF
        lev = 1.2 * _sigmoid(a["leverage"][0] + a["leverage"][1] * st + a["leverage"][2] * rng.standard_normal(m))
        liab = np.round(assets * lev, 2)
        # current items are parts of the totals (shares < 1); weak firms carry more short-term debt
        cur_a = np.round(assets * rng.beta(5, 4, m), 2)
        cur_l = np.round(liab * rng.beta(6 + a["short_debt"] * np.maximum(0.0, -st), 3), 2)
        margin = a["margin"][0] + a["margin"][1] * st + a["margin"][2] * rng.standard_normal(m)
        profit = np.round(revenue * margin, 2)
        filed = Y_START[yi + 1] + rng.integers(0, 181, m)
        order = _sort_order(YEARS[yi], firm)
        firm, yi, filed, assets, liab, cur_a, cur_l, revenue, profit = (
            x[order] for x in (firm, yi, filed, assets, liab, cur_a, cur_l, revenue, profit))
        self._reports = dict(firm=firm, year=YEARS[yi], filed=filed)
        self.tables["annual_reports"] = {
            "uscc": self.codes.take(pa.array(firm)), "year": YEARS[yi], "filed_on": filed, "total_assets": assets,
            "total_liabilities": liab, "current_assets": cur_a, "current_liabilities": cur_l, "revenue": revenue,
            "net_profit": profit,
        }

    # ------------------------------------------------------------------ list reasons
    def list_reasons(self) -> None:
        """Reasons that agree with the other tables, drawn from no random numbers (every other value stays as
        drawn): an honour "纳税信用A级纳税人" goes to a firm whose last published tax grade is A, otherwise it takes
        another honour (in turn); an abnormal-operation listing "未按规定报送年度报告" (annual report not filed) is
        not made in the firm's registration year (no report was due) nor after the year's report was filed,
        otherwise its reason is "通过登记的住所或者经营场所无法联系" (a reviewer found 60 % and 22 % of them wrong)."""
        tab, lst = self.tables["lists"], self.lst
        reason, dept = tab["reason"], tab["department"]
        vocab, dept_keys = reason.vocab, list(DEPT)
        codes, dcodes = np.asarray(reason.codes).copy(), np.asarray(dept.codes).copy()
        firm, start = lst["firm"], lst["start"]
        # abnormal operation for a missing annual report
        annual = (lst["type"] == list(T.LIST_TYPES).index("abnormal_operation")) & (codes == vocab.index(ABNORMAL_REASONS[0]))
        year = _year_of(start)
        due = year > _year_of(self.reg[firm])
        rep = self._reports
        filed_by = dict(zip(zip(rep["firm"].tolist(), rep["year"].tolist()), rep["filed"].tolist()))
        rows = np.flatnonzero(annual)
        filed = np.array([filed_by.get((int(firm[i]), int(year[i]) - 1), END + 1) for i in rows], dtype=np.int64)
        was_filed = filed <= start[rows]   # the year's report was filed by the listing (END + 1: none filed)
        wrong = rows[~due[rows] | was_filed]
        codes[wrong] = vocab.index(ABNORMAL_REASONS[1])
        # A-grade taxpayer honours
        tax_a = vocab.index(RED_REASONS[1][0])
        rows = np.flatnonzero((lst["type"] == list(T.LIST_TYPES).index("red")) & (codes == tax_a))
        tx = self._tax
        order = np.lexsort((tx["published"], tx["firm"]))
        tf, tp, tg = tx["firm"][order], tx["published"][order], tx["grade"][order]
        others = [r for r in RED_REASONS if r[0] != RED_REASONS[1][0]]
        k = 0
        for i in rows:
            lo, hi = np.searchsorted(tf, firm[i], "left"), np.searchsorted(tf, firm[i], "right")
            j = lo + int(np.searchsorted(tp[lo:hi], start[i], "right")) - 1
            if j >= lo and tg[j] == 0:   # the last grade published by the honour's date is A
                continue
            text, dk = others[k % len(others)]
            codes[i], dcodes[i] = vocab.index(text), dept_keys.index(dk)
            k += 1
        tab["reason"], tab["department"] = _Cat(codes, vocab), _Cat(dcodes, dept.vocab)

    # ------------------------------------------------------------------ repairs and commitments
    def repairs(self) -> None:
        parts = self._repairs
        ids = {"penalties": self.tables["penalties"]["record_id"], "lists": self.tables["lists"]["record_id"],
               "enforcement": self.tables["enforcement"]["record_id"]}
        tgt = np.concatenate([np.full(len(p[1]), list(T.REPAIR_TARGETS).index(p[0])) for p in parts])
        target_ids = pa.concat_arrays([ids[p[0]].take(pa.array(p[1], type=pa.int64())) for p in parts])
        firm, applied, decided, outcome, dept = (np.concatenate([p[i] for p in parts]) for i in range(2, 7))
        order = _sort_order(applied, firm, tgt)
        m = len(firm)
        firm, applied, decided, outcome, dept, tgt = (x[order] for x in (firm, applied, decided, outcome, dept, tgt))
        target_ids = target_ids.take(pa.array(order))
        self.tables["repairs"] = {
            "record_id": _ids("REP", m), "uscc": self.codes.take(pa.array(firm)),
            "target_table": _Cat(tgt, list(T.REPAIR_TARGETS)), "target_record_id": target_ids,
            "applied_on": applied, "decided_on": decided, "outcome": _Cat(outcome, list(T.REPAIR_OUTCOMES)),
            "reported_on": None,
        }
        self.rep = dict(firm=firm, applied=applied, dept=dept)

    def commitments(self) -> None:
        rng = self.rng["commitments"]
        s = self.state
        dept_keys = list(DEPT)
        kinds = list(T.COMMITMENT_KINDS)
        parts = []
        size_mult = np.array([0.7, 1.2, 1.6, 2.0])[self.size]
        firm, yi, day = self._events(rng, np.broadcast_to((0.06 * size_mult)[:, None], s.shape))
        parts.append((firm, day, np.full(len(firm), 0), np.full(len(firm), dept_keys.index("approval")), 180))
        letter = np.array(self.ind_keys)[self.ind]
        ind_ok = np.isin(letter, ["H", "E", "C", "F", "G"])
        firm, yi, day = self._events(rng, np.full(s.shape, 0.03), ind_ok)
        ind_dept = np.array([dept_keys.index({"H": "market", "E": "construction", "C": "environment", "F": "market",
                                              "G": "transport"}.get(k, "market")) for k in self.ind_keys])
        parts.append((firm, day, np.full(len(firm), 1), ind_dept[self.ind[firm]], 365))
        rep = self.rep
        parts.append((rep["firm"], rep["applied"], np.full(len(rep["firm"]), 2), rep["dept"], 365))
        firm, yi, day = self._events(rng, 0.02 * np.exp(0.5 * s))
        parts.append((firm, day, np.full(len(firm), 3), np.full(len(firm), dept_keys.index("ndrc")), 365))
        firm = np.concatenate([p[0] for p in parts]); made = np.concatenate([p[1] for p in parts])
        kind = np.concatenate([p[2] for p in parts]); dept = np.concatenate([p[3] for p in parts])
        due = made + np.concatenate([np.full(len(p[0]), p[4]) for p in parts])
        m = len(firm)
        dy = np.clip(_year_of(np.minimum(due, END)) - YEARS[0], 0, NY - 1)
        assessed = due + rng.integers(0, 46, m)
        broken = rng.random(m) < _sigmoid(-3.0 - 1.1 * s[firm, dy])
        done = assessed <= END
        status = np.where(~done, 2, np.where(broken, 1, 0))
        assessed = np.where(done, assessed, NULL_DAY)
        order = _sort_order(made, firm, kind)
        firm, made, kind, dept, due, status, assessed = (x[order] for x in (firm, made, kind, dept, due, status, assessed))
        self.tables["commitments"] = {
            "record_id": _ids("COM", m), "uscc": self.codes.take(pa.array(firm)), "kind": _Cat(kind, kinds),
            "department": _Cat(dept, list(DEPT.values())), "made_on": made, "due_on": due,
            "status": _Cat(status, list(T.COMMITMENT_STATUS)), "assessed_on": assessed, "reported_on": None,
        }

    # ------------------------------------------------------------------ what the shock did (manifest)
    def shock_effect(self) -> dict[str, Any]:
        """Realised effect of the shock, exposed industries (:data:`SHOCK_INDUSTRIES`) against the others.

        Loans originated in the shock period against loans originated before it (count, defaults, default rate,
        mean true PD); invoiced sales of the shock period's months over the same months a year earlier; arrears
        determined in the shock period over those determined in the 12 months before it (per firm-year).
        """
        cfg = self.cfg
        lo, hi = _day(cfg.shock_start), _day(cfg.shock_end)
        exposed_ind = np.isin(np.array(self.ind_keys), SHOCK_INDUSTRIES)
        ld = self.loan
        out: dict[str, Any] = {"loans": {}}
        lex = exposed_ind[self.ind[ld["firm"]]]
        for when, sel in (("before_shock", ld["orig"] < lo), ("in_shock", (ld["orig"] >= lo) & (ld["orig"] <= hi))):
            for grp, g in (("exposed", lex), ("other", ~lex)):
                k = sel & g
                nk = int(k.sum())
                out["loans"][f"{when}_{grp}"] = {
                    "loans": nk, "defaults": int(ld["default"][k].sum()),
                    "default_rate": round(float(ld["default"][k].mean()), 6) if nk else None,
                    "mean_true_pd": round(float(ld["true_pd"][k].mean()), 6) if nk else None}
        inv = self.tables["invoices_monthly"]
        month = np.asarray(inv["month"], dtype=np.int64)
        iex = self._inv_exposed
        y_lo, y_hi = _add_months(np.array([lo]), -12)[0], _add_months(np.array([hi]), -12)[0]
        ratio: dict[str, float | None] = {}
        for grp, g in (("exposed", iex), ("other", ~iex)):
            now = np.asarray(inv["sales"])[g & (month >= lo) & (month <= hi)].sum()
            before = np.asarray(inv["sales"])[g & (month >= y_lo) & (month <= y_hi)].sum()
            ratio[grp] = round(float(now / before), 4) if before > 0 and y_lo >= _day(date(2019, 1, 1)) else None
        out["invoiced_sales_vs_year_before"] = ratio
        arr_ex = exposed_ind[self.ind[self.arr["firm"]]]
        span = hi - lo + 1
        arrears: dict[str, float | None] = {}
        for grp, g in (("exposed", arr_ex), ("other", ~arr_ex)):
            now = np.count_nonzero(g & (self.arr["day"] >= lo) & (self.arr["day"] <= hi))
            before = np.count_nonzero(g & (self.arr["day"] >= lo - span) & (self.arr["day"] < lo))
            arrears[grp] = round(now / before, 4) if before else None
        out["arrears_vs_period_before"] = arrears
        return out

    # ------------------------------------------------------------------ reporting dates, faults, files
    def reporting(self) -> None:
        """On-time ``reported_on`` for every public record table (0..deadline days after the event)."""
        rng = self.rng["reporting"]
        for name in T.TABLES:
            t = T.TABLES[name]
            if t.event_date and "reported_on" in t.column_names:
                ev = np.asarray(self.tables[name][t.event_date], dtype=np.int64)
                self.tables[name]["reported_on"] = _reporting_delay(rng, ev)
        ent = self.tables["enterprises"]
        emp_missing = ent.pop("_emp_missing")
        ent["employees"] = pa.array(np.asarray(ent["employees"], dtype=np.int64), mask=emp_missing)

    def write_all(self, bar: tqdm) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        for ti, name in enumerate(T.TABLES):
            tab = _to_arrow(name, self.tables.pop(name))
            tab = _Faults(self.cfg, name, ti).inject(tab, self.faults)
            path = self.out / f"{name}.parquet"
            pq.write_table(tab, path, compression="zstd", write_statistics=True)
            self.row_counts[name] = tab.num_rows
            self.files[path.name] = _sha256(path)
            log.debug("wrote %s: %d rows", path.name, tab.num_rows)
            bar.set_postfix_str(f"wrote {name}")


# --------------------------------------------------------------------------- fault injection
class _Faults:
    """Puts the configured faults into one table and records them (see the module docstring)."""

    def __init__(self, cfg: GeneratorConfig, table: str, index: int) -> None:
        self.cfg, self.table, self.spec = cfg, table, T.TABLES[table]
        self.rng = np.random.default_rng([cfg.seed, 7919, index])

    def _entry(self, fault: str, column: str, rows: np.ndarray, tab: pa.Table, **extra: Any) -> dict[str, Any]:
        n = tab.num_rows
        keycols = list(self.spec.key)
        if len(keycols) == 1:
            keys = tab.column(keycols[0]).take(pa.array(rows, type=pa.int64())).to_pylist()
        else:  # pragma: no cover - no faulted table has a composite key
            keys = [list(r.values()) for r in tab.select(keycols).take(pa.array(rows, type=pa.int64())).to_pylist()]
        e = {"fault": fault, "table": self.table, "column": column, "count": int(len(rows)), "denominator": int(n),
             "denominator_unit": "rows", "rate": (len(rows) / n) if n else 0.0, "key_columns": keycols}
        e.update({k: v for k, v in extra.items() if k != "details"})
        e["rows"] = [int(r) for r in rows]
        e["keys"] = keys
        if "details" in extra:
            e["details"] = extra["details"]
        return e

    def _pick(self, candidates: np.ndarray, rate: float) -> np.ndarray:
        k = int(self.rng.binomial(len(candidates), rate)) if len(candidates) and rate > 0 else 0
        return np.sort(self.rng.choice(candidates, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)

    def inject(self, tab: pa.Table, sink: list[dict[str, Any]]) -> pa.Table:
        cfg, name, n = self.cfg, self.table, tab.num_rows
        all_rows = np.arange(n)
        taken = np.zeros(n, dtype=bool)
        if name == "enterprises":
            k = int(self.rng.binomial(n, cfg.duplicate_uscc_rate)) if n >= 2 and cfg.duplicate_uscc_rate > 0 else 0
            k = min(k, n // 2)
            pick = self.rng.choice(n, size=2 * k, replace=False) if k else np.zeros(0, dtype=np.int64)
            src, dst = pick[:k], pick[k:]
            o = np.argsort(dst)
            src, dst = src[o], dst[o]
            codes = tab.column("uscc").combine_chunks()
            orig = codes.take(pa.array(dst, type=pa.int64())).to_pylist()
            vals = codes.take(pa.array(src, type=pa.int64())).to_pylist()
            tab = self._replace(tab, "uscc", dst, pa.array(vals, type=pa.string()))
            taken[src] = taken[dst] = True
            details = [{"row": int(d), "duplicate_of_row": int(s), "value": v, "original": o_}
                       for d, s, v, o_ in zip(dst, src, vals, orig)]
            sink.append(self._entry("duplicate_uscc", "uscc", dst, tab, rows_sharing_a_code=2 * len(dst),
                                    details=details))
        if name in cfg.malformed_uscc_tables:
            rows = self._pick(all_rows[~taken], cfg.malformed_uscc_rate)
            codes = tab.column("uscc").combine_chunks()
            orig = codes.take(pa.array(rows, type=pa.int64())).to_pylist()
            reasons = self.rng.choice(["check_char", "length", "charset"], size=len(rows), p=[0.5, 0.25, 0.25])
            vals = [self._malform(c, r) for c, r in zip(orig, reasons)]
            tab = self._replace(tab, "uscc", rows, pa.array(vals, type=pa.string()))
            details = [{"row": int(r), "value": v, "original": o_, "reason": str(x)}
                       for r, v, o_, x in zip(rows, vals, orig, reasons)]
            sink.append(self._entry("malformed_uscc", "uscc", rows, tab, details=details))
        rate = cfg.missing_rates.get(name, 0.0)
        if name in cfg.missing_rates:
            for col in missing_candidate_columns(name):
                rows = self._pick(all_rows, rate)
                tab = self._replace(tab, col, rows, pa.nulls(len(rows), tab.schema.field(col).type))
                sink.append(self._entry("missing_field", col, rows, tab))
        if name in cfg.late_rates and self.spec.event_date:
            deadline = reference.reporting_deadline_days()
            ev = tab.column(self.spec.event_date).combine_chunks().cast(pa.int32()).to_numpy(zero_copy_only=False)
            cand = np.flatnonzero(ev <= END - (deadline + 1))
            rows = self._pick(cand, cfg.late_rates[name])
            delay = deadline + 1 + np.floor(self.rng.exponential(30.0, len(rows))).astype(np.int64)
            delay = np.minimum(delay, END - ev[rows])
            new = (ev[rows] + delay).astype(np.int32)
            tab = self._replace(tab, "reported_on", rows, pa.array(new).cast(pa.date32()))
            details = [{"row": int(r), "delay_days": int(d)} for r, d in zip(rows, delay)]
            sink.append(self._entry("late_report", "reported_on", rows, tab, event_date_column=self.spec.event_date,
                                    deadline_days=deadline, details=details))
        return tab

    @staticmethod
    def _replace(tab: pa.Table, col: str, rows: np.ndarray, values: pa.Array) -> pa.Table:
        if len(rows) == 0:
            return tab
        i = tab.schema.get_field_index(col)
        mask = np.zeros(tab.num_rows, dtype=bool)
        mask[rows] = True
        arr = pc.replace_with_mask(tab.column(col).combine_chunks(), pa.array(mask), values.cast(tab.schema.field(col).type))
        return tab.set_column(i, tab.schema.field(col), arr)

    def _malform(self, code: str, reason: str) -> str:
        rng = self.rng
        if reason == "check_char":
            wrong = [c for c in U.ALPHABET if c != code[17]]
            return code[:17] + wrong[int(rng.integers(0, len(wrong)))]
        if reason == "length":
            return code[:17] if rng.random() < 0.5 else code + U.ALPHABET[int(rng.integers(0, 10))]
        pos = int(rng.choice([0, 1] + list(range(8, 18))))   # never inside the 6-digit division code
        return code[:pos] + "IOSVZ"[int(rng.integers(0, 5))] + code[pos + 1:]


# --------------------------------------------------------------------------- driver
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


STORY = (
    "Each firm has a latent creditworthiness (standard normal, higher is safer) made of an industry effect, a "
    "street effect and an idiosyncratic part, plus a yearly state (latent + AR(1) transient + district year "
    "effect - shock). Public records (inspections, penalties, enforcement, arrears, lists, tax grades, "
    "commitments, repairs) are Poisson events whose rates and outcomes depend on the state of their year. "
    "Loan applicants (about 15 % of firms) get monthly invoices, annual reports and 1-4 loans originated "
    "2021-2024; each loan's true 12-month PD is a logistic function of the state over its window, firm age "
    "and size, its recent public records, collateral and amount; defaults are drawn from it. A shock period "
    "(default calendar 2024, fading out over 2025) hits the exposed industries (real estate, construction, "
    "accommodation and catering, wholesale and retail) through four channels: their state drops (more arrears, "
    "penalties, enforcement), their invoiced sales fall, their loans carry extra risk that no record shows, and "
    "firms under strain take extra loans. Realised default rates of exposed firms' loans rise well above the "
    "pre-shock level and above what a model trained before the shock predicts. Quality faults (malformed and "
    "duplicated codes, missing fields, late reports) are injected afterwards and listed in injected.json."
)


def generate_district(firms: int = 20_000, seed: int = 42, *, out: Path, progress: bool = True,
                      config: GeneratorConfig | None = None) -> GenerationResult:
    """Generate the synthetic district into ``out`` and return what was written.

    ``firms`` and ``seed`` always win over ``config`` (which supplies the fault rates and the shock).
    Same ``firms``, ``seed`` and ``config`` give byte-identical files. Raises :class:`ConfigError` for an
    invalid parameter.
    """
    cfg = replace(config, firms=firms, seed=seed) if config is not None else GeneratorConfig(firms=firms, seed=seed)
    out = Path(out)
    t0 = time.perf_counter()
    log.info("generating a synthetic district of %d firms (seed %d) into %s", cfg.firms, cfg.seed, out)
    d = _District(cfg, out)
    stages: list[tuple[str, Callable[[], None]]] = [
        ("firms", d.firms), ("inspections", d.inspections), ("penalties", d.penalties),
        ("enforcement", d.enforcement), ("arrears", d.arrears), ("lists", d.lists), ("tax grades", d.tax_grades),
        ("loans", d.loans), ("invoices", d.invoices), ("annual reports", d.annual_reports),
        ("list reasons", d.list_reasons), ("repairs", d.repairs), ("commitments", d.commitments), ("reporting dates", d.reporting)]
    with tqdm(total=len(stages) + 1, desc="generate", unit="stage", disable=not progress, file=sys.stderr) as bar:
        for label, fn in stages:
            bar.set_postfix_str(label)
            ts = time.perf_counter()
            fn()
            log.debug("stage %s done in %.2f s", label, time.perf_counter() - ts)
            bar.update()
        loans = d.tables["loans"]
        default_rate = float(np.mean(loans["default_12m"])) if len(loans["default_12m"]) else float("nan")
        mean_pd = float(np.mean(loans["true_pd"])) if len(loans["true_pd"]) else float("nan")
        shock_effect = d.shock_effect()
        d.write_all(bar)
        bar.update()
    _write_injected(out / "injected.json", _injected_doc(cfg, d.faults))
    summary = _fault_summary(d.faults)
    manifest = {
        "generator": "creditmodel.data.synthetic", "generator_version": GENERATOR_VERSION,
        "seed": cfg.seed, "firms": cfg.firms,
        "start_date": T.DISTRICT_START.isoformat(), "snapshot_date": T.DISTRICT_END.isoformat(),
        "shock_period": {
            "start": cfg.shock_start.isoformat(), "end": cfg.shock_end.isoformat(),
            "recovery_months": cfg.shock_recovery_months, "size_sd": cfg.shock_size,
            "exposed_industries": list(SHOCK_INDUSTRIES),
            "industry_exposure": {k: SHOCK_BASE.get(k, SHOCK_BASE_OTHER) for k in reference.industries()},
            "channels": {"state_drop_sd": cfg.shock_size,
                         "sales_log_drop": round((SALES_STATE + SALES_SHOCK) * cfg.shock_size, 6),
                         "pd_logit_add": round(SHOCK_PD_LOGIT * cfg.shock_size, 6),
                         "extra_loans_share": round(SHOCK_BORROWING * cfg.shock_size, 6),
                         "extra_loans_state_weight": SHOCK_BORROWING_STATE},
            "realised": shock_effect},
        "loan_origination": {"start": _iso(LOAN_FIRST), "end": _iso(LOAN_LAST)},
        "reporting_deadline_days": reference.reporting_deadline_days(),
        "division_code": reference.division_code(),
        "row_counts": d.row_counts,
        "loans": {"default_rate_12m": round(default_rate, 6), "mean_true_pd": round(mean_pd, 6)},
        "files": {**d.files, "injected.json": _sha256(out / "injected.json")},
        "config": cfg.as_dict(),
        "story": STORY,
        "story_parameters": {"industry_effect": INDUSTRY_EFFECT, "street_effect": STREET_EFFECT, "macro": MACRO,
                             "pd_logit": PD_COEF, "tax_score": TAX_SCORE, "annual_reports": REPORT_COEF,
                             "invoices": {"sales_state": SALES_STATE, "sales_shock": SALES_SHOCK,
                                          "dormant_logit": DORMANT_LOGIT, "voided_base": VOID_BASE,
                                          "red_letter_base": RED_BASE, "habit_sd": INVOICE_HABIT_SD,
                                          "share_state": INVOICE_SHARE_STATE},
                             "loans_extra_mean": LOANS_EXTRA_MEAN},
        "hidden_tables": [n for n, t in T.TABLES.items() if t.hidden] + ["loans.true_pd"],
        "injected_faults": summary,
    }
    _write_json(out / "manifest.json", manifest)
    secs = time.perf_counter() - t0
    log.info("district written in %.1f s: %s", secs, ", ".join(f"{k} {v}" for k, v in d.row_counts.items()))
    return GenerationResult(out=out, firms=cfg.firms, seed=cfg.seed, row_counts=dict(d.row_counts), seconds=secs,
                            files=manifest["files"], faults=summary, default_rate=default_rate, mean_true_pd=mean_pd)


def _fault_summary(faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: f[k] for k in ("fault", "table", "column", "count", "denominator", "rate")} for f in faults]


def _injected_doc(cfg: GeneratorConfig, faults: list[dict[str, Any]]) -> dict[str, Any]:
    c = cfg.as_dict()
    return {
        "format": INJECTED_FORMAT, "generator_version": GENERATOR_VERSION, "seed": cfg.seed, "firms": cfg.firms,
        "snapshot_date": T.DISTRICT_END.isoformat(), "reporting_deadline_days": reference.reporting_deadline_days(),
        "config": {k: c[k] for k in ("malformed_uscc_rate", "malformed_uscc_tables", "duplicate_uscc_rate",
                                     "missing_rates", "late_rates")},
        "summary": _fault_summary(faults),
        "faults": faults,
    }


def _write_injected(path: Path, doc: dict[str, Any]) -> None:
    """Like :func:`_write_json`, but each fault entry on one compact line (its row lists can be long)."""
    head = {k: v for k, v in doc.items() if k != "faults"}
    text = json.dumps(head, ensure_ascii=False, indent=1)
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in doc["faults"]]
    body = ' "faults": [' + ("\n  " + ",\n  ".join(lines) + "\n ]" if lines else "]")
    path.write_text(text[:-2] + ",\n" + body + "\n}\n", encoding="utf-8")


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def read_injected(path: Path | str) -> dict[str, Any]:
    """Read ``injected.json`` (a district folder or the file itself)."""
    p = Path(path)
    if p.is_dir():
        p = p / "injected.json"
    doc = json.loads(p.read_text(encoding="utf-8"))
    if doc.get("format") != INJECTED_FORMAT:
        raise ConfigError(f"not an injected-faults file of format {INJECTED_FORMAT}", file=p, column="format")
    return doc
