"""Worlds as a resampling unit: models of one ensemble may each live in their own world draw, and
still train as one stack. Each model's numbers must equal those it gets trained alone in its world."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec, measure, seeds
from greedlab.models import MLPConfig
from greedlab.train import TrainConfig, train
from greedlab.worlds import HierarchyConfig, Proxy, make_world

WORLD = replace(HierarchyConfig(), proxies=(Proxy((4,), 0.9),), n_train=512)
MODEL = MLPConfig(width=16, depth=2)
CFG = TrainConfig(steps=30, n_evals=3, batch_size=32)


def test_a_mixed_world_stack_equals_each_world_trained_alone():
    worlds = [make_world(replace(WORLD, seed=s)) for s in (0, 7)]
    mixed = train(worlds, MODEL, CFG, [0, 1, 2, 3], [10, 11, 12, 13], member_world=[0, 1, 1, 0])
    a = train(worlds[0], MODEL, CFG, [0, 3], [10, 13])
    b = train(worlds[1], MODEL, CFG, [1, 2], [11, 12])
    for m, pa, pb in zip(mixed, a, b):
        torch.testing.assert_close(m[[0, 3]], pa, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(m[[1, 2]], pb, rtol=1e-5, atol=1e-6)
    # and the draw matters: the same seeds in another world end elsewhere
    assert not torch.allclose(mixed[0][1], a[0][1])


def test_a_run_over_worlds_measures_each_model_in_its_own_world():
    spec = RunSpec(world=WORLD, model=MODEL, train=CFG, eval_samples=256, **seeds(4, worlds=2))
    assert spec.world_seeds == (0, 0, 1, 1)
    cols = measure(spec)
    alone = measure(RunSpec(world=replace(WORLD, seed=1), model=MODEL, train=CFG, eval_samples=256,
                            init_seeds=spec.init_seeds[2:], data_seeds=spec.data_seeds[2:]))

    def table(c, seeds_):
        keep = np.isin(c["seed"], seeds_) & (c["instrument"] != "distance_from_init")
        return {(i, f, s % 2, t): v for i, f, s, t, v in zip(c["instrument"][keep], c["feature"][keep],
                                                             c["seed"][keep], c["step"][keep], c["value"][keep])}
    got, want = table(cols, [2, 3]), table(alone, [0, 1])
    assert got.keys() == want.keys()
    assert max(abs(got[k] - want[k]) for k in got) < 1e-4


def test_world_seeds_change_the_run_id_and_single_world_runs_keep_theirs():
    plain = RunSpec(world=WORLD, **seeds(4))
    assert "world_seeds" not in plain.config()  # runs stored before worlds were resampled keep their ids
    assert RunSpec(world=WORLD, **seeds(4, worlds=2)).run_id != plain.run_id


def test_seeds_nest_in_worlds_and_each_source_can_vary_alone():
    s = seeds(8, worlds=4, world_base=10)
    assert s["world_seeds"] == (10, 10, 11, 11, 12, 12, 13, 13)
    assert len(set(s["init_seeds"])) == 8
    w = seeds(4, vary="world")
    assert len(set(w["init_seeds"])) == len(set(w["data_seeds"])) == 1 and len(set(w["world_seeds"])) == 4
    with pytest.raises(ConfigError, match="worlds"):
        seeds(6, worlds=4)


def test_results_know_their_worlds_after_seeds_are_left_out():
    from greedlab.experiment import RunResult
    spec = RunSpec(world=WORLD, **seeds(4, worlds=2))
    r = RunResult("x", spec, np.arange(2), {("a", ""): np.zeros((4, 2))})
    assert r.worlds.tolist() == [0, 0, 1, 1]
    assert r.without([1]).worlds.tolist() == [0, 1, 1]
    assert r.without([1]).without([0]).worlds.tolist() == [1, 1]
