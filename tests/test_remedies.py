"""G7, G9, H4 and the remedies table: verdict rules on known inputs, and conditions that reuse the
runs of the claims they come from."""

import math
from dataclasses import replace
from pathlib import Path


from greedlab.claims import presets, g1_proxy_first, g3_gradient_starvation, g7_objective_switch, g9_speed_regularizer, h4_speed_bias, remedies
from greedlab.claims import x1_cone_descent
from greedlab.claims.common import INCONCLUSIVE, REFUTED, SUPPORTED, get_scale
from greedlab.claims.context import Context
from greedlab.models import MLPConfig


def _ctx():
    return Context(get_scale("quick"), Path("/tmp"), run=lambda spec, label: None)


def test_g9_rule_help_beyond_the_margin_refutes_and_none_supports():
    rule = g9_speed_regularizer.helps_verdict
    assert rule((-0.2, -0.3, -0.1), (0.0, -0.01, 0.01)) == REFUTED      # proxy reliance falls clearly
    assert rule((0.0, -0.01, 0.01), (0.2, 0.1, 0.3)) == REFUTED         # target reliance rises clearly
    assert rule((0.05, 0.01, 0.1), (0.0, -0.02, 0.02)) == SUPPORTED      # penalty makes proxy worse
    assert rule((-0.04, -0.1, 0.02), (0.0, -0.02, 0.02)) == INCONCLUSIVE  # help of up to 0.1 not ruled out
    assert math.isclose(g9_speed_regularizer.SPEED, 0.1 * math.log(2) / 2)


def test_remedies_reuse_the_runs_of_their_claims_at_one_budget():
    ctx = _ctx()
    specs = remedies.conditions_at(ctx, 0.9)
    assert specs[remedies.NONE].run_id == g1_proxy_first.conditions(ctx)["rho=0.9"].run_id
    assert specs[remedies.NONE].run_id == x1_cone_descent.conditions(ctx)["adam"].run_id
    g9 = g9_speed_regularizer.conditions(ctx)
    assert specs[g9_speed_regularizer.PENALTY].run_id == g9[g9_speed_regularizer.PENALTY].run_id
    assert specs["early exit, no penalty"].run_id == g9[g9_speed_regularizer.NONE].run_id
    x1 = x1_cone_descent.conditions(ctx)
    assert specs["cone alpha=30"].run_id == x1[x1_cone_descent.cone(30.0)].run_id
    assert specs["sgd lr 0.3"].run_id == x1["sgd"].run_id
    assert {s.run_id for s in g9.values()} <= {s.run_id for s in h4_speed_bias.conditions(ctx).values()}
    at97 = remedies.conditions_at(ctx, 0.97)
    assert at97[remedies.NONE].run_id == g3_gradient_starvation.conditions(ctx)["rho=0.97"].run_id
    every = remedies.conditions(ctx)
    assert len(every) == 2 * len(specs) and len({s.run_id for s in every.values()}) == len(every)
    # same seeds and total steps everywhere: differences are paired per seed
    assert {s.init_seeds for s in every.values()} == {tuple(range(16))}
    assert {s.total_steps for s in every.values()} == {1500}
    for rho in remedies.RHOS:
        assert all(s.world == presets.world(rho) for s in remedies.conditions_at(ctx, rho).values())
    genie = specs["clean-genie pipeline (effects under pragmascope, then objective + relaxed reg + L1)"]
    plain = remedies.compute(specs[remedies.NONE])
    assert [st.world.objective for st in genie.plan] == ["effects", "target"]
    assert 2 * plain < remedies.compute(genie) < 2.2 * plain  # the regularizer's second pass, and the decoder


def test_remedy_strengths_follow_their_rules_and_the_overall_rule():
    f = 3.0  # spectral decoupling: σ(−f) = λ·f at the chosen margin
    assert math.isclose(1 / (1 + math.exp(f)), remedies.SD * f)
    m = MLPConfig(width=4, depth=1)
    expected = 8 * 4 * 0.5 / math.sqrt(8) + 4 * 1 * 0.5 / math.sqrt(4)
    assert math.isclose(remedies.l1_strength(m, 8) * expected, 0.05 * math.log(2))
    assert remedies.overall({"a": INCONCLUSIVE, "b": SUPPORTED}, {"a": 0.1, "b": 0.3}) == SUPPORTED
    assert remedies.overall({"a": REFUTED, "b": INCONCLUSIVE}, {"a": -0.1, "b": 0.01}) == REFUTED
    assert remedies.overall({"a": INCONCLUSIVE}, {"a": 0.2}) == INCONCLUSIVE


def test_g7_switch_and_scratch_end_in_b_and_the_control_shares_no_latent():
    ctx = _ctx()
    specs = g7_objective_switch.conditions(ctx)
    B = g7_objective_switch.B
    assert all(s.world == B and s.plan[-1].world == B for s in specs.values())
    assert [st.world for st in specs[g7_objective_switch.SWITCH].plan] == [g7_objective_switch.A, B]
    assert len(specs[g7_objective_switch.SCRATCH].plan) == 1
    # the probe's A differs from A in the proxy's agreement only
    bound = specs[g7_objective_switch.SWITCH_BOUND].plan[0].world
    assert replace(bound, proxies=g7_objective_switch.A.proxies) == g7_objective_switch.A
    assert bound.proxies[0].rho == 0.97 > g7_objective_switch.A.proxies[0].rho
    unrelated = g7_objective_switch.A_UNRELATED
    used = set(unrelated.target) | {i for p in unrelated.proxies for i in p.latents}
    assert not used & (set(B.target) | {i for p in B.proxies for i in p.latents} | {4})
    # B is A's abstraction times one latent; A's proxy is uncorrelated with B's label in B's data
    assert set(B.target) == set(g7_objective_switch.A.target) | {8}
    from greedlab.worlds import HierarchyWorld
    from greedlab.worlds.hierarchy import chi
    data = HierarchyWorld(B).train_set()
    assert abs(float((chi(data.a, (4,)) * data.y).mean())) < 0.05
    assert abs(float((chi(data.a, (0, 1, 2, 3)) * data.y).mean())) < 0.05
    assert float((chi(data.a, (5,)) * data.y).mean()) > 0.7


def test_g7_reads_reliance_at_the_switch_from_the_last_evaluation_of_stage_a():
    import numpy as np

    from greedlab.experiment import RunResult
    steps = np.array([0, 50, 100, 150, 200])
    curve = np.arange(10.0).reshape(2, 5)
    r = RunResult("x", None, steps, {("reliance", "a4"): curve})
    assert list(g7_objective_switch.at_switch(r, "a4", 100)) == [2.0, 7.0]
    assert list(g7_objective_switch.at_switch(r, "a4", 120)) == [2.0, 7.0]


def test_h4_measures_each_objective_under_the_penalty():
    specs = h4_speed_bias.conditions(_ctx())
    for obj in h4_speed_bias.OBJECTIVES:
        s = specs[f"objective {obj}"]
        assert s.world.objective == obj and s.train.speed_penalty == g9_speed_regularizer.SPEED
        assert s.model.family == "early_exit"
