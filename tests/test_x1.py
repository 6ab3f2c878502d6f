"""X1 end to end at a tiny scale: every condition trained and read back, every row present with its
kind, the distances the optimizers really travel, and the verdict the rule gives at two members (no
interval: no verdict)."""

import numpy as np

from greedlab.claims import REGISTRY, x1_cone_descent as x1
from greedlab.claims.common import INCONCLUSIVE, Scale
from greedlab.claims.context import Context, run_claim
from greedlab.experiment import run
from greedlab.store import Store


def test_x1_runs_end_to_end(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ctx = Context(Scale("tiny", seeds=2, steps=40, max_evals=4), tmp_path / "fig", lambda spec, label: run(spec, store))
    assert REGISTRY["X1"] is x1
    specs = x1.conditions(ctx)
    assert specs[x1.SGD].train.optimizer == "sgd" and specs[x1.cone(60.0)].train.cone_alpha == 60.0
    assert len({s.run_id for s in specs.values()}) == len(specs)
    res = run_claim(x1, ctx)
    kinds = {r.kind for r in res.rows}
    assert {"verdict", "control", "measurement"} <= kinds
    ctrl = [r for r in res.rows if r.kind == "control"]
    assert [r.condition.split(" − ")[0] for r in ctrl] == [x1.SLOW.label(), x1.ADAM_NO_PROXY.label()]
    dist = {r.condition: r.value for r in res.rows if r.statistic == "distance from init"}
    assert set(dist) == {k.label() for k in specs} and all(v > 0 for v in dist.values())
    assert dist[x1.cone(80.0).label()] < dist[x1.SGD.label()]  # the cone pulls back toward x0
    assert dist[x1.SLOW.label()] < dist[x1.SGD.label()]  # half the learning rate travels less
    # two members in one world each: no interval method covers at that size, so no verdict
    assert np.isnan(res.rows[0].ci_low) and res.verdict == INCONCLUSIVE and len(res.figures) == 3
    assert all((tmp_path / "fig" / f).exists() for f in ("X1_distance_from_init.png", "X1_reliance.png"))
