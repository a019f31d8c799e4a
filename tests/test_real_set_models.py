"""Notebook 06 and ``scoring.real_models``: the champion and challenger on a real public data set (issue 3, item 8:
"so that creditmodel train and the notebook can run on them"; a reviewer found notebook 03 ran on the district only)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from creditmodel import jobs, tracking
from creditmodel.data import real
from creditmodel.errors import InputError
from creditmodel.reference import PROJECT_ROOT
from creditmodel.scoring.real_models import train_real_set
from creditmodel.scoring.train import train_frame

DATA = real.shared_data_dir()
pytestmark = [pytest.mark.shared_data,
              pytest.mark.skipif(DATA is None, reason="real data folder ../shared/data (or $CREDITMODEL_SHARED_DATA) "
                                 "is absent")]
EXPERIMENT = PROJECT_ROOT / "experiments" / "real_set_models.yaml"


@pytest.fixture(scope="module")
def german():
    return train_real_set("german_credit", seed=3, n_jobs=1)


def test_both_models_share_one_split_and_leave_the_reference_columns_out(german):
    ds = german.dataset
    sc, lg = german.results["scorecard"], german.results["lightgbm"]
    assert np.array_equal(sc.split, lg.split) and set(np.unique(sc.split)) == {"train", "valid", "test"}
    assert len(german.test) == int((sc.split == "test").sum()) and german.describe()["rows"].sum() == len(ds.frame)
    assert not set(ds.info_cols) & set(sc.features) and ds.id_col not in sc.features
    # the same model as train_frame on the table, with the same split
    again = train_frame(ds.frame, ds.target, id_col=ds.id_col, kind="scorecard", seed=3, exclude=ds.info_cols,
                        categorical=ds.categorical, split=sc.split, n_jobs=1)
    assert again.metrics["test_auc"] == sc.metrics["test_auc"]
    assert list(german.comparison().columns) == ["scorecard", "lightgbm"]


def test_reason_codes_read_as_the_model_s_texts(german):
    """Notebooks 05 and 06 each mapped the codes to texts in a cell of their own; one method does it."""
    model = german.results["scorecard"].model
    scored = model.score_frame(german.test)
    texts = model.reason_table().set_index("code")
    for lang in ("en", "zh"):
        read = model.with_reason_texts(scored, lang)
        assert read["score"].equals(scored["score"]) and len(read) == len(scored)
        for c in ("reason_1", "reason_2", "reason_3"):
            codes = scored[c].dropna()
            assert (read.loc[codes.index, c] == codes.map(texts[f"text_{lang}"])).all()
            assert read[c].isna().equals(scored[c].isna())
    assert german.dataset.reference_columns == german.dataset.info_cols        # no group key in German credit
    with pytest.raises(InputError):
        model.with_reason_texts(scored, "fr")


def test_a_set_with_borrowers_is_split_by_borrower():
    """SBA's 103 borrowers with two to four loans went to both sides of the split by loan (helper-102)."""
    sba = train_real_set("sba_case", seed=3, n_jobs=1, kinds=("scorecard",))
    names = sba.dataset.frame["borrower"].to_numpy()
    parts = {n: set(sba.split[names == n]) for n in set(names[sba.split == "test"])}
    assert all(p == {"test"} for p in parts.values())
    several = sba.dataset.frame["borrower"].value_counts()
    assert any(several.get(n, 0) > 1 for n in parts)        # the test holds borrowers with several loans, whole
    assert not {"Name", "borrower"} & set(sba.results["scorecard"].features)
    assert "borrower" not in sba.dataset.reference_columns and "Name" in sba.dataset.reference_columns


def test_a_set_without_an_outcome_or_an_unknown_set_is_bad_input():
    with pytest.raises(InputError, match="no outcome"):
        train_real_set("cumcm_unrated", kinds=("scorecard",))
    with pytest.raises(InputError, match="unknown real data set") as e:
        train_real_set("mnist")
    assert e.value.parameter == "real_set"
    with pytest.raises(InputError, match="unknown"):
        train_real_set("german_credit", kinds=("forest",))


@pytest.mark.slow
def test_notebook_06_is_one_tracked_run_with_the_libraries_numbers(tmp_path, monkeypatch, german):
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_RUN_ID", tracking.ENV_OUT):
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    out = tmp_path / "out"
    res = jobs.run_experiment(EXPERIMENT, {"real_set": "german_credit", "seed": 3, "out_dir": str(out), "n_jobs": 1},
                              out=out, progress=False)
    assert res.ok, res.error
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{Path(out).resolve() / 'mlflow.db'}")
    run = client.get_run(res.run_id)
    m = run.data.metrics
    for kind in ("scorecard", "lightgbm"):    # the notebook's models are the library's, bit for bit
        assert m[f"{kind}_test_auc"] == german.results[kind].metrics["test_auc"]
    assert run.data.params["real_set"] == "german_credit"

    def arts(path=""):
        found = []
        for a in client.list_artifacts(res.run_id, path):
            found += arts(a.path) if a.is_dir else [a.path]
        return found

    got = set(arts())
    assert {"figures/iv_ranking.png", "figures/calibration_test.png", "figures/score_by_grade_scorecard.png",
            "tables/points_table.csv", "tables/model_comparison.csv", "scorecard/scorecard.sql"} <= got
