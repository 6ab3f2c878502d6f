"""X1 end to end at a tiny scale: every row present, the α = 0 control clean, the verdict from its rule."""

from greedlab.claims import REGISTRY, x1_cone_descent
from greedlab.claims.common import Scale
from greedlab.claims.context import Context
from greedlab.experiment import run
from greedlab.store import Store


def test_x1_runs_and_its_control_holds(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ctx = Context(Scale("tiny", seeds=2, steps=40, max_evals=4), tmp_path / "fig", lambda spec, label: run(spec, store))
    assert REGISTRY["X1"] is x1_cone_descent
    specs = x1_cone_descent.conditions(ctx)
    assert specs["sgd"].train.optimizer == "sgd" and specs["cone alpha=60"].train.cone_alpha == 60.0
    assert len({s.run_id for s in specs.values()}) == len(specs)
    res = x1_cone_descent.run(ctx)
    ctrl = [r for r in res.rows if r.verdict.startswith("control")]
    assert len(ctrl) == 1 and ctrl[0].verdict == "control ok" and ctrl[0].value < 1e-4
    dist = {r.condition: r.value for r in res.rows if r.statistic == "distance from init"}
    assert set(dist) == set(specs) and all(v > 0 for v in dist.values())
    assert dist["cone alpha=80"] < dist["sgd"]  # the cone pulls back toward x0
    assert res.verdict in ("supported", "refuted", "inconclusive") and len(res.figures) == 3
    assert all((tmp_path / "fig" / f).exists() for f in ("X1_distance_from_init.png", "X1_reliance.png"))
