"""Curricula: a run is a list of stages; the store records every stage and the run is reproducible."""

import numpy as np
import pytest

from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec, Stage, load, run, seeds
from greedlab.models import MLPConfig
from greedlab.store import Store
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig, Proxy

BASE = HierarchyConfig(n_latents=8, proxies=(Proxy((4,), 0.9),), cue=5, n_train=512)


def spec(**kw) -> RunSpec:
    stages = (Stage(HierarchyConfig(**{**BASE.__dict__, "objective": "proxy"}), TrainConfig(steps=20, n_evals=4)),
              Stage(HierarchyConfig(**{**BASE.__dict__, "overseen_only": True}), TrainConfig(steps=30, n_evals=4),
                    trainable="head"))
    return RunSpec(world=BASE, model=MLPConfig(width=16), stages=stages, attribute=True, **seeds(3), **kw)


def test_curriculum_is_stored_stage_by_stage_and_reproducible(tmp_path):
    s = spec()
    with Store(tmp_path / "a.duckdb") as store:
        r = run(s, store)
        assert r.steps[-1] == 50
        stage = r.curve("stage")
        assert set(np.unique(stage)) == {0.0, 1.0}
        assert (stage[:, r.steps <= 20] == 0).all() and (stage[:, r.steps > 20] == 1).all()
        assert ("reliance@unobserved", "target") in r.values and ("loss_decrease", "head") in r.values
        stored = next(row["config"] for row in store.runs() if row["run_id"] == s.run_id)
        assert "overseen_only" in str(stored) and "trainable" in str(stored)
    with Store(tmp_path / "b.duckdb") as store:
        again = run(spec(), store)
    for key, v in r.values.items():
        np.testing.assert_array_equal(v, again.values[key])


def test_stage_worlds_must_fit_the_model():
    with pytest.raises(ConfigError, match=r"stages\[0\]\.world"):
        RunSpec(world=BASE, stages=(Stage(HierarchyConfig(n_latents=9), TrainConfig()),))
    with pytest.raises(ConfigError, match=r"stages\[0\]\.trainable"):
        RunSpec(world=BASE, stages=(Stage(BASE, TrainConfig(), trainable="legs"),))
