"""Model registry workflow: aliases ``champion`` / ``challenger``, and guarded promotion.

Stages are not used (deprecated in MLflow). ``promote(NAME, VERSION)`` moves the ``champion`` alias to
the candidate only when

1. the candidate's validation on the evidence sample has **no red light on a gating check**:
   discrimination (AUC, Gini, KS) and portfolio calibration (Jeffreys, Hosmer-Lemeshow, Brier).
   Per-grade tests (about one false red in ten with ten grades), grade concentration (a design
   diagnostic of the master scale) and stability (no reference at promotion) are reported in the
   evidence but do not block; and
2. it is **not worse than the current champion**: the paired DeLong test (same rows) does not show
   the candidate's AUC significantly below the champion's (one-sided, ``alpha``).

The decision and its evidence are recorded as model-version tags (``promotion_decision``,
``promotion_reasons``, ``promotion_evidence``, ``promotion_validation_status``) whatever the outcome, and
``validation_status`` when the version has none yet (an out-of-time validation's status, with its red checks and
report, is kept); the previous champion keeps the alias ``previous_champion``.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from creditmodel import tracking
from creditmodel.errors import InputError

log = logging.getLogger(__name__)

CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous_champion"
#: Validation checks whose red light blocks a promotion (keys of the lights table).
GATING_CHECKS = ("auc", "gini", "ks", "jeffreys_p", "hosmer_lemeshow_p", "brier_p")
#: Below this many defaults in the evidence sample the decision says its lights are weak evidence (not gating).
THIN_EVIDENCE_DEFAULTS = 20
TAG_DATA, TAG_TARGET = "creditmodel.validation_data", "creditmodel.target"
#: A version's fitted rows (training and validation splits): a Parquet file of their ids, and the id column.
TAG_FITTED, TAG_ROW_ID = "creditmodel.fitted_rows", "creditmodel.row_id"


def _row_keys(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """One text key per row of ``frame`` from ``cols`` (the loader's key text: dates as ISO days, ``a|b``). A date
    column read as text (a CSV sample, ``2024-06-30 00:00:00``) is keyed by its day too: as written it matched no
    recorded row, and the candidate's own training rows counted as evidence (a reviewer's finding)."""
    from creditmodel.data.schema import key_strings

    frame = frame[list(cols)]
    for c in cols:
        s = frame[c]
        if c.endswith("_date") and not pd.api.types.is_datetime64_any_dtype(s.dtype):
            day = pd.to_datetime(s, errors="coerce", format="mixed").dt.strftime("%Y-%m-%d")
            frame = frame.assign(**{c: day.where(day.notna(), s.astype(object))})
    return pd.Series(key_strings(frame, tuple(cols), np.arange(len(frame))))


def fitted_rows(name: str, version: str, sample: pd.DataFrame, in_time_sample: bool = False
                 ) -> tuple[np.ndarray | None, str]:
    """Which rows of ``sample`` version ``version`` was fitted on, and how that is known.

    From the version's fitted rows (its training and validation rows, matched on the id columns its tags name:
    ``loan_id``, ``uscc`` and ``as_of_date``, so a loan number reused by another district matches nothing); else,
    for a version registered before those were recorded and an ``in_time_sample`` (another version's in-time test
    rows, the default evidence: each such row was in this version's training, validation or test split), every row
    outside its own held-out test sample counts as fitted on; ``(None, "")`` when neither is known or the sample
    lacks the id columns."""
    tags = client().get_model_version(name, version).tags
    path, spec = tags.get(TAG_FITTED), tags.get(TAG_ROW_ID)
    cols = [c for c in (spec or "").split(",") if c]
    if path and cols and Path(path).is_file() and set(cols) <= set(sample.columns):
        ids = _row_keys(pd.read_parquet(path, columns=cols), cols)
        return _row_keys(sample, cols).isin(ids).to_numpy(dtype=bool), "its recorded training and validation rows"
    held = tags.get(TAG_DATA)
    if in_time_sample and held and held.endswith(".parquet") and Path(held).is_file():
        ev = pd.read_parquet(held)
        cols = [c for c in ("loan_id", "uscc", "as_of_date") if c in ev and c in sample]
        if "loan_id" in cols:
            unseen = _row_keys(sample, cols).isin(_row_keys(ev, cols)).to_numpy(dtype=bool)
            return ~unseen, "the rows outside its held-out evidence sample (no fitted rows recorded)"
    return None, ""


@dataclass
class PromotionDecision:
    name: str
    version: str
    promoted: bool
    reasons: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)
    previous_champion: str | None = None

    def summary(self) -> str:
        head = (f"{self.name} version {self.version} promoted to {CHAMPION}" if self.promoted
                else f"{self.name} version {self.version} NOT promoted")
        if self.previous_champion == self.version:
            head = f"{self.name} version {self.version} is already the {CHAMPION}" + ("" if self.promoted else
                                                                                 " but fails validation now")
        elif self.previous_champion:
            head += f" (champion was version {self.previous_champion})"
        return "\n".join([head, *[f"  - {r}" for r in self.reasons]])


def client() -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient()


def alias_version(name: str, alias: str) -> str | None:
    """Version behind ``name@alias`` or None."""
    try:
        return str(client().get_model_version_by_alias(name, alias).version)
    except Exception:  # noqa: BLE001 - MLflow raises RestException for a missing alias
        return None


def set_alias(name: str, alias: str, version: str | int) -> None:
    client().set_registered_model_alias(name, alias, str(version))


def tag_version(name: str, version: str | int, tags: dict[str, Any]) -> None:
    c = client()
    for k, v in tags.items():
        c.set_model_version_tag(name, str(version), k, v if isinstance(v, str) else json.dumps(v, default=str))


def _evidence_sample(name: str, version: str, data: Path | None, target: str | None, models: tuple = ()
                     ) -> tuple[pd.DataFrame, str, str]:
    """The promotion sample, target and path, read as ``creditmodel score`` reads it for ``models``: in a CSV their
    category columns stay text as written (promote read ``053242`` as the number 53242, 'not seen in training',
    and left those rows out of the evidence while ``score`` scored them)."""
    from creditmodel.validation.report import _read_for_model

    if data is None:
        tags = client().get_model_version(name, version).tags
        if TAG_DATA not in tags:
            raise InputError(f"no validation sample given and version {version} of {name!r} records none "
                             f"(tag {TAG_DATA}); pass --data and --target", parameter="--data")
        data = Path(tags[TAG_DATA])
        target = target or tags.get(TAG_TARGET)
    if not target:
        raise InputError("the target column of the validation sample is unknown; pass --target", parameter="--target")
    df = _read_for_model(data, *models)
    if target not in df.columns:
        raise InputError("target column not found", file=data, column=target)
    return df, target, str(data)


def _red_by_chance(check: str, val: Any) -> bool:
    """A red discrimination light whose confidence interval's favourable end is not red under the report's own
    thresholds (AUC, Gini: DeLong upper bound; KS: bootstrap upper bound); never for the calibration checks, whose
    lights are already tests."""
    from creditmodel.validation import lights as L

    upper = {"auc": "auc_ci_high", "gini": "gini_ci_high", "ks": "ks_ci_high"}.get(check)
    hi = val.metrics.get(upper) if upper else None
    if hi is None:
        return False
    return val.thresholds.light(check, float(hi)) != L.RED


def promote(name: str, version: str | int, data: str | Path | None = None, target: str | None = None,
            out: str | Path | None = None, alpha: float = 0.05, positive: str | None = None) -> PromotionDecision:
    """Validate ``name`` version ``version`` and move ``champion`` to it when the evidence allows."""
    from creditmodel.scoring.pyfunc import load_credit_model
    from creditmodel.validation import metrics as M
    from creditmodel.validation.report import build_report, target_with_model_label

    tracking.configure(out)
    tracking.require_store()
    version = str(version).strip()   # " 1" passed the check below, then MLflow read models:/NAME/ 1 as a stage
    try:
        client().get_registered_model(name)
    except Exception as e:  # noqa: BLE001
        known = sorted(m.name for m in client().search_registered_models())
        raise InputError(f"no registered model named {name!r} in the store (registered: {', '.join(known) or 'none'})",
                         parameter="NAME") from e
    try:
        client().get_model_version(name, version)
    except Exception as e:  # noqa: BLE001
        raise InputError(f"registered model {name!r} has no version {version}", parameter="--version") from e
    cand_model = load_credit_model(f"models:/{name}/{version}")
    current = alias_version(name, CHAMPION)
    champ_model = load_credit_model(f"models:/{name}/{current}") if current not in (None, version) else None
    df, target, data_path = _evidence_sample(name, version, Path(data) if data else None, target,
                                             models=tuple(m for m in (cand_model, champ_model) if m is not None))
    y, positive = target_with_model_label(df[target], cand_model.metadata, positive, file=data_path, column=target)
    cand = cand_model.score_frame(df, file=data_path)
    ok = (cand["status"] == "ok").to_numpy()
    reasons: list[str] = []
    evidence: dict[str, Any] = {"sample": data_path, "target": target, "n": int(len(df)), "n_scored": int(ok.sum()),
                                "alpha": alpha}
    seen, _ = fitted_rows(name, version, df)
    if seen is not None and (seen & ok).any():   # a --data sample holding the candidate's own fitted rows
        evidence["rows_fitted_by_candidate_excluded"] = int((seen & ok).sum())
        reasons.append(f"{int((seen & ok).sum())} row(s) of the sample were in the candidate's training or "
                       "validation rows: left out")
        ok = ok & ~seen
    d = int(np.asarray(y)[ok].sum())
    if d in (0, int(ok.sum())):  # a bank user's finding: n/a lights on such a sample counted as "no red light"
        raise InputError(f"the validation sample's {int(ok.sum())} scored rows hold "
                         f"{'no default' if d == 0 else 'only defaults'}: discrimination and calibration "
                         "cannot be tested on it, so no model is promoted on it", file=data_path, column=target)
    val = build_report(y[ok], cand["pd_12m"].to_numpy()[ok], score=cand["score"].to_numpy(dtype=float)[ok],
                       grade=cand["grade"].astype(str).to_numpy()[ok], n_boot=200, title=f"{name} v{version}")
    status = val.status
    red = val.lights[val.lights["light"] == "red"]
    gating_red = red[red["check"].isin(GATING_CHECKS)]
    evidence.update({"validation_status": status, "auc": val.metrics.get("auc"),
                     "red_lights": red["label"].tolist(), "gating_red_lights": gating_red["label"].tolist(),
                     "lights": dict(zip(val.lights["check"], val.lights["light"]))})
    k = val.metrics.get("jeffreys_detectable_ratio")
    evidence.update(defaults=d, jeffreys_detectable_ratio=k)
    if d < THIN_EVIDENCE_DEFAULTS and not gating_red.empty:
        # on a handful of defaults a red discrimination light may be chance (an AUC of 0.597 on 6 defaults, 95 %
        # interval about 0.35-0.85, blocked the first model of a 4,000-firm district, which then had no champion):
        # it blocks only where its whole interval is red; the calibration lights are tests with their own p
        chance = [c for c in gating_red["check"] if _red_by_chance(c, val)]
        if chance:
            evidence["red_lights_within_chance"] = chance
            reasons.append("thin evidence: the red light(s) on " + ", ".join(
                gating_red.loc[gating_red["check"].isin(chance), "label"]) + " do not block: the 95 % interval "
                "reaches out of the red zone")
            gating_red = gating_red[~gating_red["check"].isin(chance)]
            evidence["gating_red_lights"] = gating_red["label"].tolist()
    passed = gating_red.empty
    # a version whose recorded validation (notebook 04, out of time) is red on a gating check is not cleared by the
    # in-time sample it was tested on at training: it was promoted over that red, exit 0 (a reviewer's finding);
    # new evidence (--data) decides on its own
    recorded = client().get_model_version(name, version).tags or {}
    recorded_red = [c.strip() for c in str(recorded.get("validation_red_checks") or "").split(",")
                    if c.strip() in GATING_CHECKS] if recorded.get("validation_status") == "red" else []
    held_by_record = bool(recorded_red) and data is None
    if held_by_record:
        passed = False
        evidence["recorded_gating_red"] = recorded_red
        reasons.append(f"recorded validation red on {', '.join(recorded_red)} ("
                       f"{recorded.get('validation_basis') or 'out of time'}): the in-time check does not clear it; "
                       "promote with --data FILE --target COL of a newer sample to validate it again")
    if d < THIN_EVIDENCE_DEFAULTS:  # a validator's finding: green lights on a handful of defaults mean little
        reasons.append(f"thin evidence: {d} defaults in the sample (fewer than {THIN_EVIDENCE_DEFAULTS}); "
                       + (f"the calibration test detects only a default rate {k:.2f}x the mean PD or more"
                          if k is not None else "too few to detect an underestimated PD"))
    if gating_red.empty:
        # the red lights waived on thin evidence are said as such: "no red light on discrimination (non-gating red:
        # AUC ...)" contradicted itself (an analyst's finding)
        waived = red.loc[red["check"].isin(evidence.get("red_lights_within_chance") or []), "label"].tolist()
        other = red.loc[~red["check"].isin(GATING_CHECKS), "label"].tolist()
        reasons.append(("in-time " if held_by_record else "")
                       + ("validation: no blocking red light on discrimination or portfolio calibration (red but "
                          f"within chance on thin evidence: {', '.join(waived)})" if waived else
                          "validation: no red light on discrimination or portfolio calibration")
                       + (f" (non-gating red: {', '.join(other)})" if other else ""))
    else:
        reasons.append(f"validation: red light(s) on {', '.join(gating_red['label'])}")
    not_worse = True
    if champ_model is not None:
        champ = champ_model.score_frame(df, file=data_path)
        both = ok & (champ["status"] == "ok").to_numpy()
        evidence["champion_version"] = current
        # the comparison is on rows neither model was fitted on: the candidate's test rows that were the champion's
        # training rows (a rerun with another seed or split) flatter the champion (analyst's finding: AUC 0.87 on
        # them against 0.76 on its own test rows, and the candidate refused as significantly worse)
        champ_seen, how = fitted_rows(name, current, df, in_time_sample=data is None)
        if champ_seen is None:  # a reviewer's finding: this fell back to all rows without a word
            evidence["champion_fitted_rows_unknown"] = True
            reasons.append(f"the rows champion v{current} was fitted on are unknown (no record of them, or the "
                           "sample has no loan_id): compared on all rows, which favours the champion if it was "
                           "fitted on some of them")
        elif (champ_seen & both).any():
            evidence["rows_fitted_by_champion_excluded"] = int((champ_seen & both).sum())
            evidence["champion_fitted_rows_from"] = how
            both = both & ~champ_seen
        yb = np.asarray(y)[both]
        evidence.update(compared_rows=int(both.sum()), compared_defaults=int(yb.sum()))
        fair = (f" on the {int(both.sum()):,} rows neither model was fitted on ({int(yb.sum())} defaults; "
                f"{evidence['rows_fitted_by_champion_excluded']:,} left out: {how})"
                if "rows_fitted_by_champion_excluded" in evidence else "")
        if 0 < yb.sum() < THIN_EVIDENCE_DEFAULTS and yb.sum() < len(yb):
            reasons.append(f"thin comparison: {int(yb.sum())} defaults on the rows compared with the champion "
                           f"(fewer than {THIN_EVIDENCE_DEFAULTS}): a worse candidate may go undetected")
        if min(yb.sum(), len(yb) - yb.sum()) < 2:   # DeLong's minimum: 2 of each outcome
            # one default is no comparison either: it passed as "not worse" and moved the champion (analyst's
            # finding: oot_start=2022-07-15 compared on 1 default and 63 non-defaults)
            not_worse = False
            evidence["delong"] = (f"the rows neither model was fitted on hold {int(yb.sum())} default(s) and "
                                  f"{int(len(yb) - yb.sum())} non-default(s): DeLong needs 2 of each")
            reasons.append(f"DeLong vs champion v{current}: not computable{fair or ''} ({evidence['delong']}) -> "
                           "the champion stays; promote with --data FILE of rows neither model saw (a later "
                           "out-of-time sample)")
            t = None
        else:
            try:
                t = M.delong_paired(yb, cand["pd_12m"].to_numpy()[both], champ["pd_12m"].to_numpy()[both])
            except M.NotComputable as e:  # identical rankings: the candidate is not worse
                evidence["delong"] = str(e)
                reasons.append(f"DeLong vs champion v{current}: {e} -> not worse")
                t = None
        if t is not None:
            p_worse = float(stats.norm.cdf(t.z))  # H0: candidate AUC >= champion AUC
            evidence.update({"auc_candidate": t.auc_a, "auc_champion": t.auc_b, "auc_diff": t.diff,
                             "delong_z": t.z, "p_candidate_worse": p_worse})
            not_worse = not (t.diff < 0 and p_worse < alpha)
            reasons.append(f"DeLong vs champion v{current}{fair}: AUC {t.auc_a:.4f} vs {t.auc_b:.4f} (z = {t.z:.2f}, "
                           f"one-sided p = {p_worse:.3g}) -> " + ("not worse" if not_worse else "significantly worse"))
    elif current == version:
        reasons.append("already the champion")
    else:
        reasons.append("no current champion")
    promoted = passed and not_worse
    # the promotion's own status: an out-of-time validation's validation_status (notebook 04, with its red checks and
    # report) is not overwritten by this in-time check (a new user's finding: a red model was delivered as amber)
    prior = recorded.get("validation_status")
    tags = {"promotion_validation_status": status, "promotion_decision": "promoted" if promoted else "refused",
            "promotion_reasons": "; ".join(reasons), "promotion_evidence": json.dumps(evidence, default=str),
            "promotion_checked_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    if not prior:   # no validation recorded yet: the promotion's check is the last one, and it says what it rests on
        tags["validation_status"] = status
        tags["validation_basis"] = (f"in-time promotion check: {int(ok.sum()):,} scored rows, {d:,} defaults (not "
                                    "validated out of time: run notebook 04, experiments/model_validation.yaml)")
    tag_version(name, version, tags)
    if promoted and current != version:
        if current is not None:
            set_alias(name, PREVIOUS, current)
            # what models:/NAME@champion scores (the bank deliverable) changes: said on a job's command line too
            log.warning("%s: %s moved from v%s to v%s (%s = v%s)", name, CHAMPION, current, version, PREVIOUS,
                        current)
        set_alias(name, CHAMPION, version)
    if promoted or current == version:
        log.info("promotion of %s v%s: %s", name, version, tags["promotion_decision"])
    else:  # a refusal reaches the command line of a notebook job (its WARNING lines are repeated there)
        log.warning("promotion of %s v%s refused (%s): %s", name, version,
                    f"champion stays v{current}" if current else "no champion", tags["promotion_reasons"])
    return PromotionDecision(name, version, promoted, reasons, evidence, current)
