"""X1 end to end at a tiny scale: every condition trained and read back (the full-batch arm and the
linear least-squares arm included), every row present with its kind, the distances the optimizers
really travel, and the verdict the rule gives at two members (no interval: no verdict)."""

import numpy as np

from greedlab.claims import REGISTRY, x1_cone_descent as x1
from greedlab.claims.common import INCONCLUSIVE, Scale
from greedlab.claims.context import Context, run_claim
from greedlab.experiment import run
from greedlab.least_squares import LeastSquaresSpec
from greedlab.store import Store


def test_x1_runs_end_to_end(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ctx = Context(Scale("tiny", seeds=2, steps=40, max_evals=4), tmp_path / "fig", lambda spec, label: run(spec, store))
    assert REGISTRY["X1"] is x1
    specs = x1.conditions(ctx)
    assert specs[x1.SGD].train.optimizer == "sgd" and specs[x1.cone(60.0)].train.cone_alpha == 60.0
    assert specs[x1.full_cone(60.0)].train.batch_size == x1.FULL_BATCH_N and specs[x1.FULL_GD].n_models == 1
    assert isinstance(specs[x1.LINEAR_GD], LeastSquaresSpec) and specs[x1.LINEAR_GD].steps == 40
    assert len({s.run_id for s in specs.values()}) == len(specs)
    res = run_claim(x1, ctx)
    assert {"verdict", "control", "measurement"} <= {r.kind for r in res.rows}
    ctrl = [r for r in res.rows if r.kind == "control"]
    assert [r.condition.split(" − ")[0] for r in ctrl] == [x1.FULL_SLOW.label(), x1.FULL_NO_PROXY.label(),
                                                          x1.LINEAR_GD.label()]
    dist = {r.condition: r.value for r in res.rows if r.statistic == "distance from init"}
    network = [k for k in specs if k.arm != x1.LINEAR]
    assert set(dist) == {k.label() for k in network} and all(v > 0 for v in dist.values())
    assert dist[x1.cone(80.0).label()] < dist[x1.SGD.label()]  # the cone pulls back toward x0
    assert dist[x1.FULL_SLOW.label()] < dist[x1.FULL_GD.label()]  # half the step travels less in 40 steps
    # 40 steps fit nothing at train loss 0.05: the verdict rows say there is no comparison
    assert "no comparison" in res.rows[0].statistic and np.isnan(res.rows[0].value)
    # the linear arm descends for real: 40 steps of GD take the loss below the matched level, toward x*
    to_star = [r for r in res.rows if r.condition == x1.LINEAR_GD.label() and "distance to the closest" in r.statistic]
    assert len(to_star) == 1 and to_star[0].value < 0.1
    assert res.verdict == INCONCLUSIVE and len(res.figures) == 6
    assert all((tmp_path / "fig" / f).exists() for f in ("X1_distance_from_init.png", "X1_full_batch_train_loss.png"))
