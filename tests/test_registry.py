"""Guarded promotion: a worse or red-light candidate never takes the champion alias."""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from creditmodel import registry, tracking
from creditmodel.scoring.train import train_frame

pytestmark = pytest.mark.slow


class _Scaled:
    """A calibrator whose PDs are multiplied by ``factor`` (a deliberately miscalibrated model)."""

    def __init__(self, inner, factor):
        self.inner, self.factor = inner, factor

    def predict(self, raw):
        return np.clip(self.inner.predict(raw) * self.factor, 0, 1)


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-2.3 + 1.3 * x1 + 0.9 * x2)))).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "noise": rng.normal(size=n), "bad": y})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    import mlflow

    from creditmodel.scoring.pyfunc import log_model

    out = tmp_path_factory.mktemp("registry")
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{out / 'mlflow.db'}"
    tracking.configure(out)
    train = _frame(12000, 1)
    evidence = _frame(3000, 2)
    evidence.to_parquet(out / "evidence.parquet", index=False)
    good = train_frame(train, "bad", seed=1).model
    weak = train_frame(train, "bad", seed=1, features=["noise", "x2"]).model   # misses the strongest driver
    red = train_frame(train, "bad", seed=1).model
    red.calibrator = _Scaled(red.calibrator, 0.35)                                # PDs far too low
    versions = {}
    with mlflow.start_run(experiment_id=tracking.experiment_id("registry_test", out)):
        for key, m in (("good", good), ("weak", weak), ("red", red)):
            versions[key] = str(log_model(m, registered_model_name="pd", name=f"m_{key}").registered_model_version)
            registry.tag_version("pd", versions[key], {registry.TAG_DATA: str(out / "evidence.parquet"),
                                                       registry.TAG_TARGET: "bad"})
    first = registry.promote("pd", versions["good"], out=out)   # the first good model becomes champion
    yield out, versions, first
    if old is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = old


def test_first_good_model_becomes_champion(store):
    out, v, d = store
    assert d.promoted and registry.alias_version("pd", "champion") == v["good"]
    tags = registry.client().get_model_version("pd", v["good"]).tags
    assert tags["promotion_decision"] == "promoted" and tags["validation_status"] in {"green", "amber", "red"}


def test_worse_model_is_refused_by_delong(store):
    out, v, _ = store
    d = registry.promote("pd", v["weak"], out=out)
    assert not d.promoted
    assert d.evidence["auc_candidate"] < d.evidence["auc_champion"] and d.evidence["p_candidate_worse"] < 0.05
    assert registry.alias_version("pd", "champion") == v["good"]
    tags = registry.client().get_model_version("pd", v["weak"]).tags
    assert tags["promotion_decision"] == "refused" and "significantly worse" in tags["promotion_reasons"]
    assert json.loads(tags["promotion_evidence"])["champion_version"] == v["good"]


def test_red_light_model_is_refused_even_with_equal_ranking(store):
    out, v, _ = store
    d = registry.promote("pd", v["red"], out=out)
    assert not d.promoted
    assert "Jeffreys" in " ".join(d.evidence["gating_red_lights"])
    assert registry.alias_version("pd", "champion") == v["good"]


def test_promote_cli_exit_code(store):
    import subprocess
    import sys

    out, v, _ = store
    r = subprocess.run([sys.executable, "-m", "creditmodel.cli", "--store", str(out), "promote", "pd", "--version",
                        v["weak"]], capture_output=True, text=True)
    assert r.returncode == 1 and "NOT promoted" in r.stdout
    r = subprocess.run([sys.executable, "-m", "creditmodel.cli", "--store", str(out), "promote", "pd", "--version",
                        "99"], capture_output=True, text=True)
    assert r.returncode == 2 and "no version 99" in r.stderr
