"""Notebooks 03 and 04 say what this run computed (a reviewer ran them with ``-p oot_start=2022-07-15``: the text still
called the out-of-time sample "the generator's shock year" and quoted the demo's counts), their figures name their
window and section, and a development window too short to model is refused by ``oot_start`` before any fit."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from creditmodel.errors import InputError
from creditmodel.scoring import district
from creditmodel.scoring import narrative as N
from creditmodel.scoring.district import TARGET, DistrictSample

ROOT = Path(__file__).resolve().parents[1]
SHOCK = {"shock_period": {"start": "2024-01-01", "end": "2024-12-31", "exposed_industries": ["K", "F"]}}


def _sample(oot_start: str, n: int = 2400, rate: float = 0.04, seed: int = 0, industry: str = "",
            first: str = "2021-01-01", last: str = "2024-12-31") -> DistrictSample:
    """Loans spread evenly over ``first``..``last``, two per firm, defaults at ``rate``; windows as loan_sample
    assigns them (seeded, by enterprise)."""
    from creditmodel.scoring.train import stratified_split

    rng = np.random.default_rng(seed)
    dates = pd.to_datetime(np.linspace(pd.Timestamp(first).value, pd.Timestamp(last).value, n)).normalize()
    y = (rng.uniform(size=n) < rate).astype(int)
    t = pd.DataFrame({"loan_id": [f"L{i:05d}" for i in range(n)], "uscc": [f"F{i // 2:05d}" for i in range(n)],
                      "as_of_date": dates, TARGET: y, "true_pd": np.full(n, rate),
                      "on_black_list": (rng.uniform(size=n) < 0.02).astype(float),
                      "on_serious_dishonesty_list": (np.arange(n) % 400 == 0).astype(float),
                      "tax_grade": np.where(np.arange(n) % 10 == 0, None, "B"),
                      "firm_age_years": np.where(np.arange(n) % 10 == 0, 2.0, 7.0)})
    start = pd.Timestamp(oot_start)
    is_oot = (t["as_of_date"] >= start).to_numpy()
    window = np.empty(n, dtype=object)
    window[is_oot] = "oot"
    dev = np.flatnonzero(~is_oot)
    window[dev] = stratified_split(y[dev], seed, valid=0.2, test=0.2, groups=t["uscc"].to_numpy()[dev])
    cat = pd.DataFrame({"code": ["on_black_list", "on_serious_dishonesty_list", "tax_grade", "firm_age_years"],
                        "name_en": ["On a black list", "On the serious-dishonesty list", "Latest tax credit grade",
                                    "Firm age"]})
    return DistrictSample(t, ["on_black_list", "on_serious_dishonesty_list", "tax_grade", "firm_age_years"], window,
                          cat, start, industry)


# ----------------------------------------------------------------------------------------------- the guard
def test_a_development_window_too_short_to_model_is_refused_by_oot_start_before_any_fit(monkeypatch):
    """`-p oot_start=2021-03-01` exited with "column 'uscc': only 3 borrowers ... with a default", naming neither
    oot_start nor the cure (the guard ran only with industry set); it now names the parameter, the counts, the minimum
    and a date that gives enough, before any fit."""
    fitted = []
    monkeypatch.setattr(district, "train_frame", lambda *a, **k: fitted.append(1) or pytest.fail("fit started"))
    short = _sample("2021-04-01")                      # 3 months of 48: about 150 loans, 6 defaults
    with pytest.raises(InputError) as e:
        district.train_models(short, kinds=("scorecard",))
    msg = str(e.value)
    dev = short.table.loc[short.window != "oot"]
    assert e.value.parameter == "oot_start" and not fitted
    assert f"oot_start 2021-04-01 leaves too short a development window: {len(dev)} loans" in msg
    assert f"with {int(dev[TARGET].sum())} default(s)" in msg and "at least 10 defaults" in msg
    assert "move oot_start later, to " in msg and "column 'uscc'" not in msg
    later = pd.Timestamp(msg.split("move oot_start later, to ")[1][:10])
    assert later > pd.Timestamp("2021-04-01")
    district.check_trainable(_sample(f"{later + pd.Timedelta(days=120):%Y-%m-%d}"))   # a little later is enough
    # a section too small keeps its own message, naming industry (tests/test_features.py)
    with pytest.raises(InputError) as e:
        district.check_trainable(_sample("2021-04-01", industry="F"))
    assert e.value.parameter == "industry" and "industry section F has" in str(e.value)


def test_a_district_too_small_for_any_oot_start_says_so(tmp_path):
    """A 400-firm generated district has too few defaults for any development window: moving oot_start would not
    help, and the message says to use a larger district instead."""
    from creditmodel.data import synthetic
    from creditmodel.data.io import load_district

    synthetic.generate_district(firms=400, seed=3, out=tmp_path, progress=False)
    s = district.loan_sample(load_district(tmp_path).tables, oot_start="2024-01-01")
    assert s.table[TARGET].sum() < 10                                      # the premise: a small district
    with pytest.raises(InputError) as e:
        district.check_trainable(s)
    assert e.value.parameter == "oot_start" and "no oot_start helps" in str(e.value)
    assert "larger district" in str(e.value) and "move oot_start later" not in str(e.value)


# --------------------------------------------------------------------------------------------- the windows
def test_the_windows_note_follows_oot_start_and_the_manifest():
    default = N.windows_markdown(_sample("2024-01-01"), SHOCK)
    assert "`oot_start` = 2024-01-01; every loan" in default
    assert "The out-of-time window is the shock period" in default and "mix" not in default
    assert "K Real estate" in default
    early = _sample("2022-07-15")
    text = N.windows_markdown(early, SHOCK)
    oot = early.oot
    assert (f"out of time: {len(oot):,} loans originated 2022-07-15 to 2024-12-31, {int(oot[TARGET].sum()):,} "
            "defaulted") in text
    before = int((oot["as_of_date"] < "2024-01-01").sum())
    assert f"{before:,} before it (from 2022-07-15)" in text and "mix pre-shock loans" in text
    assert "is the shock period" not in text and "reaches into" not in text
    late = N.windows_markdown(_sample("2024-07-01"), SHOCK)
    assert "The development window reaches into the shock" in late
    assert "records no shock period" in N.windows_markdown(early, None)
    assert "industry F" in N.windows_markdown(_sample("2024-01-01", industry="F"), SHOCK)


def test_the_figure_scope_names_dates_and_section():
    s = _sample("2022-07-15", industry="F")
    assert N.scope_label(s, "oot") == ("out-of-time originations 2022-07-15 to 2024-12-31 · industry F Wholesale and "
                                       "retail trade")
    fit = s.table.loc[np.isin(s.window, ["train", "valid"]), "as_of_date"]
    assert N.scope_label(s, "fit").startswith(f"training and validation originations {fit.min():%Y-%m-%d} to ")
    assert N.validation_figure_scope("psi", s).startswith("development 2021-01-01 to 2022-07-1")
    assert " vs out of time 2022-07-15 to 2024-12-31" in N.validation_figure_scope("csi", s)
    assert N.validation_figure_scope("roc", s) == N.scope_label(s, "oot")
    assert N.validation_figure_scope("migration", s, ("2023-12-31", "2024-12-31")).startswith(
        "enterprises graded at 2023-12-31 and 2024-12-31 · industry F")
    assert "industry" not in N.scope_label(_sample("2022-07-15"), "oot")
    with pytest.raises(ValueError):
        N.scope_label(s, "shock")


@pytest.mark.parametrize("kind", ["axes", "suptitle", "constrained"])
def test_a_stamped_title_stays_inside_the_figure(kind):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scope = "out-of-time originations 2022-07-15 to 2024-12-31 · industry F Wholesale and retail trade"
    fig = Figure(figsize=(5.2, 5.0), layout="constrained" if kind == "constrained" else None)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1])
    if kind == "suptitle":
        fig.suptitle("Scores and master-scale grades")
    else:
        ax.set_title("Calibrated PD", fontsize=10)
    assert N.stamp_figure(fig, scope) is fig
    text = fig.get_suptitle() if kind == "suptitle" else ax.get_title()
    assert text.startswith(("Scores and master-scale grades\n", "Calibrated PD\n"))
    assert "2022-07-15 to 2024-12-31" in text and "Wholesale and retail trade" in text
    fig.canvas.draw()
    box = (fig._suptitle if kind == "suptitle" else ax.title).get_window_extent()
    w, h = fig.canvas.get_width_height()
    assert 0 <= box.x0 and box.x1 <= w and box.y1 <= h, (box, w, h)


# ------------------------------------------------------------------------------------------ the card's notes
def _card(sample: DistrictSample) -> SimpleNamespace:
    """A fitted card's tables as the notes read them (a real fit runs in the notebook tests)."""
    iv = pd.DataFrame({"feature": ["tax_grade", "annual_roa", "annual_assets_log", "on_black_list",
                                   "on_serious_dishonesty_list", "firm_age_years"],
                       "iv": [0.62, 0.55, 0.51, 0.0, 0.0, 0.2], "n_bins": [3, 5, 5, 1, 1, 4],
                       "rare_bin_p": [np.nan, np.nan, np.nan, 0.42, np.nan, np.nan],
                       "selected": [True, True, False, False, False, True]})
    pt = pd.DataFrame({"feature": ["tax_grade"] * 4, "label": ["A", "B", "C, D", "Missing"],
                       "kind": ["regular", "regular", "regular", "missing"], "points": [31, 20, 13, 20]})
    sel = pd.DataFrame({"feature": ["annual_assets_log", "on_black_list"],
                        "reason": ["|r| with annual_roa (higher IV) above 0.8", "IV below 0.02"]})
    return SimpleNamespace(iv_report_=iv, points_table_=pt, selection_report_=sel, rare_bin_alpha=0.001,
                           rare_bin_min_count=20, binner_=SimpleNamespace(min_bin_size_=0.05),
                           selected_features_=["tax_grade", "annual_roa", "firm_age_years"])


def test_the_scorecard_notes_are_computed_from_the_fit():
    s = _sample("2024-01-01")
    text = N.scorecard_notes_markdown(_card(s), s)
    fit = s.table.loc[np.isin(s.window, ["train", "valid"])]
    assert f"on the {len(fit):,} training and validation loans" in text
    assert "the card uses 2: `tax_grade` (Latest tax credit grade; IV 0.62), `annual_roa` (IV 0.55)" in text
    assert "Left out: `annual_assets_log` (IV 0.51): |r| with annual_roa (higher IV) above 0.8" in text
    black = fit["on_black_list"] > 0
    assert (f"`on_black_list` (On a black list): {int(black.sum())} loans" in text
            and "not different enough for a bin of its own (p = 0.42)" in text)
    listed = fit["on_serious_dishonesty_list"] > 0
    assert (f"`on_serious_dishonesty_list` (On the serious-dishonesty list): {int(listed.sum())} loans" in text
            and "too few for a bin of its own (fewer than 20 rows)" in text)
    miss = fit["tax_grade"].isna()
    assert f"{int(miss.sum()):,} of the {len(fit):,} training and validation loans" in text
    assert "median age 2.0 years against 7.0" in text and "younger" in text
    assert "gives a missing value 20 points (as many as B; bins: A 31 · B 20 · C, D 13)" in text
    assert "prices the firm's age separately" in text
    # nothing above 0.5, no tax grade in the card: said so, not the demo's sentences
    card = _card(s)
    card.iv_report_["iv"] = card.iv_report_["iv"].clip(upper=0.4)
    card.selected_features_ = ["annual_roa"]
    other = N.scorecard_notes_markdown(card, s)
    assert "none in this run" in other and "uses no tax-grade feature" in other


def test_notebooks_03_and_04_quote_the_run_not_the_demo():
    """The narrative cells carry no count or claim typed from the demo run; the code shows the computed notes and
    stamps every figure with its scope."""
    import nbformat

    nb3, nb4 = (nbformat.read(ROOT / "notebooks" / f"{n}.ipynb", as_version=4)
                for n in ("03_small_loan_models", "04_model_validation"))
    for nb in (nb3, nb4):
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for typed in ("the generator's shock\nyear —", "— the generator's **shock year**", "19 in the development",
                      "default at 7 %", "9 % of the development", "5.8 %", "median 2.4 years"):
            assert typed not in prose, typed
        assert "narrative.windows_markdown(sample, d.manifest)" in code
        assert "suptitle(f\"{kind}: out-of-time" not in code
    code3 = "\n".join(c.source for c in nb3.cells if c.cell_type == "code")
    assert "narrative.scorecard_notes_markdown(card, sample)" in code3
    assert "narrative.calibration_markdown(results)" in code3   # its bins named, which way the PDs are off
    assert code3.count("narrative.stamp_figure(") == 4      # IV ranking, bins, scores by grade, calibration
    code4 = "\n".join(c.source for c in nb4.cells if c.cell_type == "code")
    assert "narrative.validation_figure_scope(name, sample" in code4 and "stamp_figure(plots.lights_figure" in code4


def test_the_iv_ranking_says_it_shows_the_highest_and_names_each_band_from_its_start():
    """It showed 25 of 80 features under "Feature information value", and "weak<" right of the 0.1 line read either
    way (a validator's finding)."""
    import matplotlib

    matplotlib.use("Agg")

    from creditmodel.scoring import plots

    iv = pd.DataFrame({"feature": [f"f{i}" for i in range(30)], "iv": np.linspace(0.005, 0.7, 30),
                       "selected": [i % 2 == 0 for i in range(30)]})
    fig = plots.iv_ranking(iv)
    ax = fig.axes[0]
    assert ax.get_title() == "Feature information value (the 25 highest of 30 features)"
    assert [t.get_text() for t in ax.texts] == [" weak \u2265 0.02", " medium \u2265 0.1", " strong \u2265 0.3",
                                                " suspicious \u2265 0.5"]
    assert [t.get_position()[0] for t in ax.texts] == [0.02, 0.1, 0.3, 0.5]
    assert len(ax.patches) == 25 and ax.patches[-1].get_width() == 0.7      # the highest on top
    assert plots.iv_ranking(iv.head(10)).axes[0].get_title() == "Feature information value"
    matplotlib.pyplot.close("all")
