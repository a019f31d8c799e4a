"""The ``creditmodel`` command line (DESIGN.md section 5).

Exit codes: 0 success, 2 bad input (the message names the file, column and row), 1 anything else.
"""
from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

import click

from creditmodel.errors import InputError

log = logging.getLogger("creditmodel")

PATH = click.Path(path_type=Path)


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    for noisy in ("mlflow", "alembic", "urllib3", "py4j", "papermill", "numba", "matplotlib", "traitlets"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.INFO)


def _bars_wanted(quiet: bool) -> bool:
    """Progress bars on stderr when it is a terminal and -q was not given; ``CREDITMODEL_PROGRESS=on`` forces them
    (a log file or a pipe got every bar redraw as a line of carriage returns), ``=off`` turns them off."""
    from creditmodel.progress import ENV

    setting = os.environ.get(ENV, "").strip().lower()
    if quiet or setting == "off":
        return False
    return setting == "on" or sys.stderr.isatty()


def _progress() -> bool:
    """Progress bars on stderr unless -q was given."""
    ctx = click.get_current_context(silent=True)
    return bool((ctx.obj or {}).get("progress", True)) if ctx is not None else True


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.option("--store", type=PATH, default=None, help="Output folder whose MLflow store (mlflow.db) resolves "
              "models:/ URIs and records runs (default: $MLFLOW_TRACKING_URI, $CREDITMODEL_OUT or ./out).")
@click.version_option(package_name="creditmodel")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, debug: bool, store: Path | None) -> None:
    """creditmodel: enterprise credit scoring workbench (public credit evaluation, small-loan PD models,
    validation, pricing) on a synthetic district or your own data."""

    _setup_logging(verbose, quiet)
    if verbose < 2 and "MLFLOW_LOGGING_LEVEL" not in os.environ:
        # MLflow sets its logger's level again when it is imported, from this variable (default INFO); restored
        # when the command ends, so that a caller's process (a test's CliRunner) keeps its own setting
        os.environ["MLFLOW_LOGGING_LEVEL"] = "WARNING"
        ctx.call_on_close(lambda: os.environ.pop("MLFLOW_LOGGING_LEVEL", None))
    if store is not None:
        from creditmodel import tracking

        os.environ[tracking.ENV_OUT] = str(store.resolve())
        os.environ["MLFLOW_TRACKING_URI"] = tracking.tracking_uri(store)
    bars = _bars_wanted(quiet)
    ctx.obj = {"debug": debug, "progress": bars}
    if bars:  # log lines above the bars, not spliced into them ("load:  8%|▊ | 1/12 ...18:31:16 INFO ...")
        from tqdm.contrib.logging import logging_redirect_tqdm

        ctx.with_resource(logging_redirect_tqdm())


# --------------------------------------------------------------------------- jobs
@cli.command("run")
@click.argument("experiment", type=PATH)
@click.option("-p", "--parameter", "params", multiple=True, metavar="KEY=VALUE",
              help="Override a notebook parameter (repeatable); values are read as YAML scalars.")
@click.option("--out", type=PATH, default=None, help="Output folder (MLflow store, executed notebooks, and the "
              "notebook's files unless -p out_dir= is given too). Default: the experiment's out_dir "
              "($CREDITMODEL_OUT, when set, for the store).")
def run_cmd(experiment: Path, params: tuple[str, ...], out: Path | None) -> None:
    """Run one papermill job (experiments/NAME.yaml) and track it as one MLflow run."""
    from creditmodel import jobs

    exp = jobs.load_experiment(experiment)
    try:
        parsed = jobs.parse_overrides(params)
    except InputError as e:   # named the parameter but not the experiment file, as every other check does (analyst)
        if e.file is not None:
            raise
        raise InputError(e.message, file=exp.path, parameter=e.parameter) from None
    overrides = _paths_from_here(exp, parsed)
    res = jobs.run_experiment(experiment, overrides, out=out, progress=_progress(), log_failure=False)
    click.echo(f"run {res.run_id} {res.status} in {res.duration_s:.1f} s")
    click.echo(f"executed notebook: {res.output_notebook}")
    for w in res.warnings:
        click.echo(f"notebook {w}", err=True)
    if not res.ok:
        click.echo(f"error: {res.error}", err=True)
        sys.exit(2 if res.bad_input else 1)  # the notebook stopped on bad input: the exit-code contract says 2


def _paths_from_here(exp, overrides: dict) -> dict:
    """Path parameters given with ``-p`` (the experiment's ``inputs`` and ``out_dir``) are read from the folder
    the command runs in, as any command-line path, and made absolute (the notebook runs in ``notebooks/``, where
    the experiment file's own defaults are relative to). An input that does not exist is refused: a mistyped
    ``data_dir`` used to be filled with a synthetic district that the job then reported on."""
    out = dict(overrides)
    for name in (*exp.inputs, "out_dir"):
        v = out.get(name)
        if isinstance(v, str) and not v.strip() and str(exp.parameters.get(name, "")).strip():
            # "" means "the default file" only where the experiment's own default is ""; an empty out_dir wrote
            # into notebooks/, an empty data_dir read notebooks/
            raise InputError(f"-p {name}= is empty; give a path (the default is {exp.parameters[name]!r}, relative "
                             "to notebooks/)", file=exp.path, parameter=name)
        if isinstance(v, str) and v.strip():
            given = Path(v).expanduser()
            out[name] = str(given if given.is_absolute() else given.resolve())
            if name in exp.inputs and not Path(out[name]).exists():
                hint = (" (`creditmodel generate --out PATH` writes a synthetic district; an empty folder is "
                        "filled with one by the notebook)") if name == "data_dir" else ""
                raise InputError(f"-p {name}={v}: {out[name]} does not exist{hint}", file=exp.path, parameter=name)
    return out


# --------------------------------------------------------------------------- data
#: Largest district generate and demo make: about 3 GB of memory per million firms (bench/results/generate.md); a
#: typo of a billion ended in a MemoryError, exit 1 (a reviewer's finding).
MAX_FIRMS = 10_000_000


@cli.command("generate")
@click.option("--firms", type=click.IntRange(10, MAX_FIRMS), default=20_000, show_default=True,
              help="Number of enterprises (at most 10,000,000: about 3 GB of memory per million).")
@click.option("--seed", type=click.IntRange(min=0), default=42, show_default=True,
              help="Random seed, 0 or more (same seed, identical files).")
@click.option("--out", type=PATH, required=True, help="Folder for the Parquet tables and injected.json.")
@click.option("--force", is_flag=True, help="Overwrite a district already in --out that was made otherwise, or write "
              "among other files in --out (the files the district does not write are left in place and named).")
def generate_cmd(firms: int, seed: int, out: Path, force: bool) -> None:
    """Write the synthetic district as Parquet tables (one file per table) and injected.json.

    A folder that already holds a district made with other parameters (or not generated), or other files and no
    district, is refused unless ``--force`` is given; the same firms and seed write the same files again."""
    from creditmodel.data import has_district, synthetic
    from creditmodel.data.io import read_manifest

    if not force and has_district(out):   # it was overwritten without a word (a fuzzer's finding)
        try:
            man = read_manifest(out)
        except InputError:
            man = None
        same = bool(man) and str(man.get("firms")) == str(firms) and str(man.get("seed")) == str(seed)
        if not same:
            made = (f"generated with firms={man.get('firms')}, seed={man.get('seed')}" if man
                    else "not generated by creditmodel (no readable manifest.json)")
            raise InputError(f"already holds a district {made}: give another --out, or --force to overwrite it",
                             file=out)
    before = sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.is_dir() else []
    if not force and before and not has_district(out):   # a lone loans.parquet was overwritten (a reviewer)
        shown = ", ".join(before[:5]) + (f" and {len(before) - 5} more" if len(before) > 5 else "")
        raise InputError(f"holds {len(before)} entries ({shown}) but no district (no enterprises table): give a new "
                         "or empty folder, or --force to write the district's tables among them", file=out)
    res = synthetic.generate_district(firms=firms, seed=seed, out=out, progress=_progress())
    written = {*res.files, "manifest.json", "injected.json"}
    left = [n for n in before if n not in written]
    if left:
        log.warning("%s: %d entr%s not written by this district left in place (%s)", out, len(left),
                    "y" if len(left) == 1 else "ies", ", ".join(left[:8]) + (" ..." if len(left) > 8 else ""))
    click.echo(res.summary())


@cli.command("quality")
@click.option("--data", type=PATH, required=True, help="District folder (Parquet/CSV tables) or one table file.")
@click.option("--out", type=PATH, required=True, help="Folder for the quality report, figures and quarantine.")
def quality_cmd(data: Path, out: Path) -> None:
    """Data quality: code validity, duplicates, completeness, timeliness and the plan's targets."""
    from creditmodel.data import quality

    rep = quality.quality_report(data, out, progress=_progress())
    click.echo(rep.summary())
    rec = rep.injected  # a generated district's own faults: were they all found? (written by the report)
    if rec is not None:
        click.echo(f"injected faults (injected.json): {int(rec['match'].sum())} of {len(rec)} entries measured "
                   f"exactly ({int(rec['injected'].sum()):,} faults); table: {Path(out) / 'injected_recovery.csv'}")
        for r in rec.loc[~rec["match"]].itertuples(index=False):
            click.echo(f"  differs: {r.fault} in {r.table}.{r.column or '-'}: injected {r.injected}, "
                       f"measured {r.measured}")


@cli.command("real")
@click.argument("name", required=False)
@click.option("--out", type=PATH, default=None, help="Folder to write <NAME>.parquet into.")
@click.option("--data-dir", type=PATH, default=None,
              help="The shared data folder. Default: $CREDITMODEL_SHARED_DATA or ../shared/data.")
def real_cmd(name: str | None, out: Path | None, data_dir: Path | None) -> None:
    """Write a real public data set as one Parquet table for train/score (id, features, target; the loader's
    checks, decoded dates and codes, leakage columns left out); without NAME, list the sets found."""
    from creditmodel.data import real

    if data_dir is not None and not Path(data_dir).is_dir():   # it listed every set as "missing", exit 0 (a reviewer)
        raise InputError("no such folder (--data-dir names the shared data folder, e.g. ../shared/data)",
                         file=data_dir, parameter="--data-dir")
    if name is None:
        found = set(real.available(data_dir))
        base = Path(data_dir) if data_dir is not None else real.shared_data_dir()
        click.echo(f"shared data folder: {base}" if base is not None else
                   f"shared data folder not found: looked for ${real.SHARED_DATA_ENV}, then "
                   f"{real.default_shared_data_dir()}; set {real.SHARED_DATA_ENV}=DIR or pass --data-dir")
        for n, spec in real.DATASETS.items():
            click.echo(f"{'found  ' if n in found else 'missing'}  {n:<14} {spec.description}")
        return
    if out is None:
        raise InputError("give --out FOLDER", parameter="--out")
    ds = real.load(name, data_dir=data_dir)
    cols = [ds.id_col, *([ds.group_col] if ds.group_col else []), *ds.features,
            *([ds.target] if ds.frame[ds.target].notna().any() else [])]
    Path(out).mkdir(parents=True, exist_ok=True)
    dest = Path(out) / f"{name}.parquet"  # Parquet keeps the loader's types (SBA's NAICS codes stay text)
    ds.frame[cols].to_parquet(dest, index=False)
    click.echo(f"{name}: {len(ds.frame):,} rows, {len(ds.features)} features -> {dest}")
    if ds.reference_columns or ds.leakage_dropped:
        click.echo(f"  left out: reference columns {ds.reference_columns}, outcome columns {ds.leakage_dropped}")
    if ds.target in cols:
        group = f" --group {ds.group_col}" if ds.group_col else ""
        click.echo(f"  creditmodel train --data {dest} --target {ds.target} --id {ds.id_col}{group} --out OUT")


# --------------------------------------------------------------------------- models
@cli.command("train")
@click.option("--data", type=PATH, required=True, help="Training table (CSV, also .csv.gz or .csv.bz2; Parquet; ARFF).")
@click.option("--target", required=True, help="Target column (0/1, boolean or two labels).")
@click.option("--id", "id_col", default=None,
              help="Identifier column (kept, never a feature). The rows are ordered by it before the split and the "
                   "fits, so the model does not depend on the file's row order; without --id the split is drawn by "
                   "row position and the same rows in another order give another model.")
@click.option("--positive", default=None, help="Label of the bad (default) class when the target has two labels.")
@click.option("--model", "kind", type=click.Choice(["scorecard", "lightgbm"]), default="scorecard", show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**31 - 4), default=42, show_default=True,
              help="Seed of the split, the folds and the fits (the LightGBM challenger takes 0 to 2**31-4).")
@click.option("--jobs", "n_jobs", type=int, default=1, show_default=True,
              help="Worker processes fitting the cross-fitted estimators side by side: a positive number, or -1 "
                   "for one per core. The model is the same, bit for bit, for any value.")
@click.option("--central-tendency", "central_tendency", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              default=None, help="Long-run average default rate (fraction) to calibrate the PDs to, e.g. one that "
                                 "covers a downturn; default: the training data's own default rate.")
@click.option("--categorical", "categorical", multiple=True, metavar="COL",
              help="A column of codes to bin as categories, not as a range of numbers (an industry or region code "
                   "such as 01, 02, 110101 in a CSV); repeat it or separate names with commas. A column with any "
                   "text value is categorical anyway.")
@click.option("--group", "group_col", default=None, metavar="COL",
              help="Column of the borrower of each row, when a borrower has several rows (loans): never a feature; "
                   "all of a borrower's rows go to the same part of the split and the same calibration fold.")
@click.option("--out", type=PATH, required=True, help="Folder for the MLflow model, points table and metrics.json.")
def train_cmd(data: Path, target: str, id_col: str | None, positive: str | None, kind: str, seed: int,
              n_jobs: int, central_tendency: float | None, categorical: tuple[str, ...], group_col: str | None,
              out: Path) -> None:
    """Train a PD model on any tabular file; every other column is a candidate feature."""
    from creditmodel.scoring import train

    if n_jobs == 0 or n_jobs < -1:
        raise click.BadParameter(f"{n_jobs}: use a positive number of processes or -1 (one per core)",
                                 param_hint="'--jobs'")
    res = train.train_file(data=data, target=target, id_col=id_col, positive=positive, kind=kind, seed=seed,
                           out=out, n_jobs=n_jobs, central_tendency=central_tendency,
                           categorical=[c.strip() for v in categorical for c in v.split(",") if c.strip()],
                           group_col=group_col)
    click.echo(res.summary())


@cli.command("score")
@click.option("--model", "model_uri", required=True, help="Model folder or models:/NAME@ALIAS.")
@click.option("--data", type=PATH, required=True, help="Table to score (CSV, also .csv.gz or .csv.bz2; Parquet; ARFF).")
@click.option("--out", type=PATH, required=True, help="Scored file (.parquet or .csv); a bank deliverable "
              "also gets its .csv/.parquet twin, a JSON sidecar and a model card.")
@click.option("--id", "id_col", default=None,
              help="Identifier column to carry into the output and check (empty, repeated); default for a model "
                   "folder: the column the model was trained with as --id, when the file has it.")
@click.option("--engine", type=click.Choice(["pandas", "spark"]), default="pandas", show_default=True)
@click.option("--spark-master", default=None, help="Spark master URL (default local[2]).")
@click.option("--chunk-rows", type=click.IntRange(min=1000), default=500_000, show_default=True,
              help="Rows per chunk when streaming large Parquet inputs.")
def score_cmd(model_uri: str, data: Path, out: Path, id_col: str | None, engine: str, spark_master: str | None,
              chunk_rows: int) -> None:
    """Score every input row, in input order; rows that cannot be scored are kept with status=error."""
    from creditmodel.scoring import score

    given = click.get_current_context().get_parameter_source
    if engine == "spark" and given("chunk_rows") == click.core.ParameterSource.COMMANDLINE:
        log.warning("--chunk-rows %d is not used by the Spark engine: Spark splits the work by the input's Parquet "
                    "row groups", chunk_rows)
    if engine != "spark" and spark_master:
        log.warning("--spark-master %s is not used by the %s engine (give --engine spark)", spark_master, engine)
    res = score.score_file(model_uri=model_uri, data=data, out=out, id_col=id_col, engine=engine,
                           spark_master=spark_master, chunk_rows=chunk_rows, progress=_progress())
    click.echo(res.summary())


@cli.command("validate")
@click.option("--model", "model_uri", required=True, help="Model folder or models:/NAME@ALIAS.")
@click.option("--data", type=PATH, required=True, help="Validation sample with the observed target.")
@click.option("--target", required=True, help="Observed default flag column.")
@click.option("--reference", type=PATH, default=None, help="Reference (development) sample for PSI and CSI.")
@click.option("--positive", default=None, help="Label of the bad class when the target has two labels.")
@click.option("--challenger", "challenger_uri", default=None, help="A second model scored on the same rows "
              "(paired DeLong comparison).")
@click.option("--thresholds", type=PATH, default=None, help="YAML with traffic-light thresholds (overrides).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the bootstrap intervals (0 or more).")
@click.option("--n-boot", type=click.IntRange(50, 100_000), default=500, show_default=True,
              help="Bootstrap replicates (50 to 100,000).")
@click.option("--override-col", "override_col", default=None,
              help="Column of final grades after human overrides (blank = the model grade stands): override rate, "
                   "direction and default rates in the report.")
@click.option("--initial-auc", "initial_auc", type=click.FloatRange(0.0, 1.0), default=None,
              help="AUC at development, on grades, for the ECB deterioration test (default: the AUC the model "
                   "recorded at training, on the held-out test split or its cross-validated development rows, "
                   "whichever holds more defaults; else the reference sample's AUC).")
@click.option("--group", "group_col", default=None, metavar="COL",
              help="Column of the borrower of each row (several loans of one firm): the bootstrap intervals resample "
                   "borrowers, each with all its rows.")
@click.option("--grade-pd", "grade_pd", type=click.Choice(["mean", "central"]), default="mean", show_default=True,
              help="PD each grade's binomial and Jeffreys tests read: the mean PD of its obligors, or the central PD "
                   "of the grade on the model's master scale.")
@click.option("--out", type=PATH, required=True, help="Folder for report.html and metrics.json.")
def validate_cmd(model_uri: str, data: Path, target: str, reference: Path | None, positive: str | None,
                 challenger_uri: str | None, thresholds: Path | None, seed: int, n_boot: int, out: Path,
                 initial_auc: float | None, override_col: str | None, group_col: str | None, grade_pd: str) -> None:
    """Validate a PD model to banking standards: report.html and metrics.json."""
    from creditmodel.validation import report

    res = report.validate_file(model_uri=model_uri, data=data, target=target, reference=reference,
                               positive=positive, out=out, thresholds=thresholds, seed=seed, n_boot=n_boot,
                               challenger_uri=challenger_uri, initial_auc=initial_auc, override_col=override_col,
                               group_col=group_col, grade_pd=grade_pd)
    click.echo(res.summary())


@cli.command("evaluate")
@click.option("--data", type=PATH, required=True, help="District folder.")
@click.option("--config", type=PATH, default=None, help="Indicator system YAML (default data/public_credit_indicators.yaml).")
@click.option("--as-of", "as_of", default=None, help="Evaluation date YYYY-MM-DD (default: the data's snapshot date).")
@click.option("--out", type=PATH, required=True, help="Output file (.parquet or .csv).")
def evaluate_cmd(data: Path, config: Path | None, as_of: str | None, out: Path) -> None:
    """Public credit evaluation: grade (A/B/C/D), supervision class and every indicator's contribution."""
    from creditmodel import evaluation

    try:
        res = evaluation.evaluate_dir(data=data, config=config, as_of=as_of, out=out)
    except InputError as e:   # the option as typed on this command line (it said parameter 'as_of': a reviewer)
        if e.parameter == "as_of":
            raise type(e)(e.message, file=e.file, column=e.column, row=e.row, parameter="--as-of") from None
        raise
    click.echo(res.summary())


@cli.command("explain")
@click.option("--data", type=PATH, required=True, help="District folder.")
@click.option("--uscc", required=True, help="The enterprise's unified social credit code.")
@click.option("--config", type=PATH, default=None, help="Indicator system YAML (default data/public_credit_indicators.yaml).")
@click.option("--as-of", "as_of", default=None, help="Evaluation date YYYY-MM-DD (default: the data's snapshot date).")
@click.option("--out", type=PATH, default=None, help="Also write the records behind the grade and the repair what-if "
              "(<out>.csv and <out>.whatif.csv).")
def explain_cmd(data: Path, uscc: str, config: Path | None, as_of: str | None, out: Path | None) -> None:
    """Why an enterprise has its public credit grade: points per indicator, caps, the records behind them and what
    credit repair would change."""
    from creditmodel.data.io import load_district
    from creditmodel.evaluation.explain import explain, not_in_register

    if not uscc.strip():
        raise InputError("an enterprise's 18-character unified social credit code is required", parameter="--uscc")
    if out is not None and Path(out).is_dir():   # it wrote <folder>.csv beside the folder
        raise InputError(f"--out names a folder: give a file stem in it, e.g. {Path(out) / 'explanation'} (writes "
                         "explanation.csv and explanation.whatif.csv)", file=out, parameter="--out")
    d = load_district(data, progress=_progress())
    try:
        ex = explain(uscc, d.tables, config=config, as_of=as_of or d.snapshot_date)   # logs the as-of warnings
    except InputError as e:   # the option as typed on this command line
        if e.parameter == "as_of" or e.column == "as_of":
            raise type(e)(e.message, file=e.file, column=None, row=e.row, parameter="--as-of") from None
        if e.column == "uscc" and "enterprises" in d.loaded:
            raise not_in_register(uscc, d.loaded["enterprises"]) from None
        raise
    click.echo(ex.text())
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        rec, wif = Path(f"{out}.csv"), Path(f"{out}.whatif.csv")   # a stem such as firm.v2 keeps its dot
        ex.records.to_csv(rec, index=False, encoding="utf-8-sig")
        ex.whatif.to_csv(wif, index=False, encoding="utf-8-sig")
        click.echo(f"records: {rec}, what-if: {wif}")


@cli.command("price")
@click.option("--scores", type=PATH, required=True, help="Scored file with pd_12m (from creditmodel score).")
@click.option("--config", type=PATH, default=None, help="Pricing YAML (default data/pricing.yaml).")
@click.option("--out", type=PATH, required=True, help="Output file (.parquet or .csv).")
def price_cmd(scores: Path, config: Path | None, out: Path) -> None:
    """Add expected loss, capital and the suggested risk-based rate to a scored file."""
    from creditmodel import pricing

    res = pricing.price_file(scores=scores, config=config, out=out)
    click.echo(res.summary())


@cli.command("promote")
@click.argument("name")
@click.option("--version", "version", required=True, help="Model version to promote to champion.")
@click.option("--data", type=PATH, default=None, help="Validation sample (default: the one recorded at training).")
@click.option("--target", default=None, help="Target column of the validation sample.")
@click.option("--positive", default=None, help="Label of the bad class when the target has two text labels.")
@click.option("--out", type=PATH, default=None, help="Output folder with the MLflow store (default $CREDITMODEL_OUT or ./out).")
def promote_cmd(name: str, version: str, data: Path | None, target: str | None, positive: str | None,
                out: Path | None) -> None:
    """Move the champion alias to VERSION only if it passes validation and is not worse than the champion."""
    from creditmodel import registry

    decision = registry.promote(name, version, data=data, target=target, positive=positive, out=out)
    click.echo(decision.summary())
    if not decision.promoted:
        sys.exit(1)


# --------------------------------------------------------------------------- demo and lab
@cli.command("demo")
@click.option("--firms", type=click.IntRange(4000, MAX_FIRMS), default=20_000, show_default=True,
              help="Enterprises in the synthetic district (4,000 to 10,000,000: the loan models need enough "
                   "defaults).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 4), default=42, show_default=True,
              help="Seed of the district and the models (0 to 2**31-4, the range the LightGBM challenger takes).")
@click.option("--out", type=PATH, default=Path("out/demo"), show_default=True)
def demo_cmd(firms: int, seed: int, out: Path) -> None:
    """Run the main job end to end on the synthetic district and print where everything is."""
    from creditmodel import demo

    res = demo.run_demo(firms=firms, seed=seed, out=out, progress=_progress())
    click.echo(res.summary())
    if not res.ok:
        sys.exit(1)


@cli.command("lab")
@click.option("--out", type=PATH, default=Path("out/demo"), show_default=True,
              help="Output folder of the notebooks run in this JupyterLab: their default out_dir follows it "
                   "($CREDITMODEL_LAB_OUT), so their files and MLflow store (DIR/mlflow.db) are there (an exported "
                   "MLFLOW_TRACKING_URI still takes the runs). Commands in its terminals get it as $CREDITMODEL_OUT.")
@click.option("--port", type=click.IntRange(1, 65535), default=8888, show_default=True,
              help="Port to listen on (1 to 65535).")
@click.option("--ip", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; an empty --token is then refused).")
@click.option("--token", default=None,
              help="Access token (default: a random one, printed in the log). An empty token turns authentication "
                   "off: accepted only with a loopback --ip (127.0.0.1, ::1, localhost).")
def lab_cmd(out: Path, port: int, ip: str, token: str | None) -> None:
    """Open JupyterLab on the notebooks with the project's kernel."""
    import ipaddress

    from creditmodel import tracking
    from creditmodel.reference import PROJECT_ROOT

    def loopback(address: str) -> bool:
        host = address.strip().strip("[]")
        if host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:   # a host name, "", "*": possibly reachable from elsewhere
            return False

    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if token is not None and not token.strip():
        # --token "" with --ip 0.0.0.0 was unauthenticated code execution (as root in the container) for anyone who
        # reached the port (a reviewer's finding)
        if not loopback(ip):
            raise click.BadParameter(
                f"an empty token turns authentication off, and on --ip {ip or repr(ip)} anyone who reaches port {port} "
                f"could run code as {'root' if root else 'this user'}: give a token (or none for a random one), or "
                "listen on a loopback address (--ip 127.0.0.1)", param_hint="'--token'")
        log.warning("lab: authentication is off (--token ''): any local user or program can run code through "
                    "%s:%d", ip, port)
    out.mkdir(parents=True, exist_ok=True)
    folder = str(out.resolve())
    os.environ[tracking.ENV_OUT] = folder       # creditmodel commands in the lab's terminals
    os.environ[tracking.ENV_LAB_OUT] = folder   # the notebooks (tracking.notebook_out_dir)
    # the notebooks' store follows their out_dir (DIR); the lab exported MLFLOW_TRACKING_URI for DIR while the
    # notebooks wrote their files to ../out/demo (a reviewer's finding). A variable the user exported still wins
    # (MLflow's convention: a team's tracking server), and the lab says so.
    own = tracking.store_uri(out)
    for var, what in zip(tracking.STORE_ENV, ("record their MLflow runs", "register their models")):
        value = os.environ.get(var)
        if value and value != own:
            log.warning("lab: the notebooks %s in %s=%s (exported), their files in %s; unset it to keep both in %s",
                        what, var, value, folder, folder)
    log.info("lab: output folder %s ($%s for the notebooks, $%s for the terminals); MLflow store %s", folder,
             tracking.ENV_LAB_OUT, tracking.ENV_OUT, os.environ.get("MLFLOW_TRACKING_URI") or own)
    args = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", f"--ip={ip}",
            f"--ServerApp.root_dir={PROJECT_ROOT}", "--LabApp.default_url=/lab/tree/notebooks"]
    if token is not None:
        args.append(f"--IdentityProvider.token={token}")
    if root:
        args.append("--allow-root")
    os.execv(sys.executable, args)


#: Operating-system errors about a path the user gave (mostly ``--out``): exit 2 naming the path.
PATH_ERRORS = (FileExistsError, NotADirectoryError, IsADirectoryError, PermissionError, FileNotFoundError)


def path_error_text(e: OSError) -> str:
    """What went wrong with a path, and what to do: names the path."""
    where = e.filename if e.filename is not None else "a path"
    hint = {FileExistsError: "exists as a file where a folder is needed",
            NotADirectoryError: "has a file where a folder is needed on its way",
            IsADirectoryError: "is a folder where a file is needed",
            PermissionError: "cannot be written or read here (permission denied)",
            FileNotFoundError: "does not exist, or cannot be created there"}
    what = next((h for t, h in hint.items() if isinstance(e, t)), e.strerror or str(e))
    return f"{where}: {what}; choose another path (for --out: a folder for a folder, a file name for a file)"


def _names_a_given_path(e: OSError, args: list[str]) -> bool:
    """Whether the OS error is about a path given on the command line: the path itself, a file under it, a folder
    on its way, or a sibling written for it (``out.csv.partial``); otherwise the fault is the tool's, not the
    input's."""
    hit = [Path(str(f)).absolute() for f in (e.filename, getattr(e, "filename2", None)) if f is not None]
    for a in args:
        if a.startswith("-") and "=" not in a:
            continue
        given = Path(a.split("=", 1)[-1]).absolute()
        for h in hit:
            if (h == given or given in h.parents or h in given.parents   # the path, under it, or on its way
                    or (h.parent == given.parent and h.name.startswith(given.name))):
                return True
    return False


def main() -> None:
    """Console entry point with the exit-code contract."""
    debug = "--debug" in sys.argv
    try:
        # the program's name in usage lines whether run as the console script or as python -m creditmodel.cli
        cli.main(standalone_mode=False, prog_name="creditmodel")
    except InputError as e:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Abort as e:
        if isinstance(e.__cause__, KeyboardInterrupt):   # click turns Ctrl-C into Abort: keep the shell's code
            click.echo("interrupted", err=True)
            sys.exit(130)
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except PATH_ERRORS as e:  # a bad --out (a file where a folder goes, or the reverse) is bad input, not a crash
        if debug:
            traceback.print_exc()
        if not _names_a_given_path(e, sys.argv[1:]):   # an internal path (the store, a temporary folder): exit 1
            click.echo(f"error: {type(e).__name__}: {e}", err=True)
            sys.exit(1)
        click.echo(f"error: {path_error_text(e)}", err=True)
        sys.exit(2)
    except Exception as e:  # noqa: BLE001 - the contract says exit 1 with a message
        if debug:
            traceback.print_exc()
        click.echo(f"error: {type(e).__name__}: {e}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
