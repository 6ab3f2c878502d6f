"""A suite's runs trained in worker processes give the numbers they give trained alone."""

from dataclasses import replace

import numpy as np

from greedlab.experiment import RunSpec, load, measure, seeds
from greedlab.models import MLPConfig
from greedlab.parallel import cost, default_workers, train_missing
from greedlab.store import Store
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig, Proxy

WORLD = replace(HierarchyConfig(), proxies=(Proxy((4,), 0.9),), n_train=512)


def _spec(width, **kw):
    return RunSpec(world=WORLD, model=MLPConfig(width=width), train=TrainConfig(steps=20, n_evals=3, batch_size=32),
                   eval_samples=128, **seeds(4, worlds=2), **kw)


def test_runs_trained_in_two_processes_equal_runs_trained_alone(tmp_path):
    specs = [_spec(8), _spec(16), _spec(8)]  # the repeat is trained once
    seen, steps = [], []
    with Store(tmp_path / "g.duckdb") as st:
        n = train_missing(specs, st, workers=2, progress=lambda r, d, t: steps.append((r, d, t)),
                          run_done=seen.append)
        assert n == 2 and sorted(seen) == sorted({s.run_id for s in specs})
        assert {r for r, _, _ in steps} == set(seen) and all(d <= t for _, d, t in steps)
        for s in specs[:2]:
            got = load(s, st)
            alone = measure(s)
            keep = alone["instrument"] == "reliance"
            want = dict(zip(zip(alone["seed"][keep], alone["step"][keep], alone["feature"][keep]), alone["value"][keep]))
            r = got.curve("reliance", "target")
            for (seed, step, feat), v in want.items():
                if feat == "target":
                    assert abs(r[seed, list(got.steps).index(step)] - v) < 1e-6
        assert train_missing(specs, st, workers=2) == 0  # all stored: nothing to do


def test_one_worker_leaves_training_to_the_caller_and_costs_order_runs(tmp_path):
    with Store(tmp_path / "g.duckdb") as st:
        assert train_missing([_spec(8)], st, workers=1) == 0
        assert st.run_status(_spec(8).run_id) != "done"
    assert cost(_spec(16)) > cost(_spec(8))
    assert default_workers("cuda") == 1 and 1 <= default_workers("cpu") <= 2
