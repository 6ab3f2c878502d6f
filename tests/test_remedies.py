"""G7, G9, H4 and the remedies table: strengths by rule, and conditions that reuse the runs of the
claims they come from (same spec, same run id, trained once); H4's own family of plain MLPs."""

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from greedlab.claims import g7_objective_switch, g8_clean_genie, g9_speed_regularizer, h4_speed_bias, presets
from greedlab.claims import remedies, x1_cone_descent
from greedlab.claims.common import INCONCLUSIVE, REFUTED, SUPPORTED, get_scale
from greedlab.claims.context import Context
from greedlab.models import MLPConfig


def _ctx():
    return Context(get_scale("quick"), Path("/tmp"), run=lambda spec, label: None)


def test_g9_strength_by_rule_and_its_conditions():
    assert math.isclose(g9_speed_regularizer.SPEED, 0.1 * math.log(2) / 2)
    specs = g9_speed_regularizer.conditions(_ctx())
    exit_runs = [s for k, s in specs.items() if k.model == g9_speed_regularizer.EXIT]
    assert all(s.model.family == "early_exit" for s in exit_runs)
    assert {k.rho for k in specs} == {0.9, 0.97}
    assert g9_speed_regularizer.no_help((SUPPORTED, SUPPORTED)) == SUPPORTED
    assert g9_speed_regularizer.no_help((SUPPORTED, REFUTED)) == REFUTED
    assert g9_speed_regularizer.no_help((SUPPORTED, INCONCLUSIVE)) == INCONCLUSIVE
    assert g9_speed_regularizer.rule([SUPPORTED, SUPPORTED], True, False) == INCONCLUSIVE
    assert g9_speed_regularizer.rule([SUPPORTED, REFUTED], True, False) == REFUTED  # help is a presence
    assert g9_speed_regularizer.rule([SUPPORTED, REFUTED], False, True) == INCONCLUSIVE  # the placebo helped too


def test_remedies_reuse_the_runs_of_their_claims_at_one_budget():
    ctx = _ctx()
    specs = remedies.conditions_at(ctx, 0.9)
    assert specs[remedies.NONE].run_id == ctx.spec(presets.world(0.9)).run_id  # G1's and G3's run
    x1 = x1_cone_descent.conditions(ctx)
    assert specs[remedies.NONE].run_id == x1[x1_cone_descent.ADAM].run_id
    assert specs[remedies.CONE].run_id == x1[x1_cone_descent.cone(30.0)].run_id
    assert specs[remedies.SGD].run_id == x1[x1_cone_descent.SGD].run_id
    g9 = g9_speed_regularizer.conditions(ctx)
    assert specs[remedies.SPEED].run_id == g9[g9_speed_regularizer.Key(0.9, "early exit", "speed")].run_id
    assert specs[remedies.EXIT].run_id == g9[g9_speed_regularizer.Key(0.9, "early exit", "none")].run_id
    at97 = remedies.conditions_at(ctx, 0.97)
    assert at97[remedies.NONE].run_id == ctx.spec(presets.world(0.97)).run_id  # G3's run
    every = remedies.conditions(ctx)
    # two ρ, the two controls, and the budget check (none and the seven remedies at 2× the steps)
    assert len(every) == 2 * len(specs) + 2 + 1 + len(remedies.REMEDIES)
    assert len({s.run_id for s in every.values()}) == len(every)
    longer = {k: every.pop(k) for k in list(every) if k.budget != 1}
    assert {s.total_steps for s in longer.values()} == {3000} and {s.n_models for s in longer.values()} == {8}
    # same members and total steps everywhere: differences are paired per member (the too-weak
    # penalty, a control, trains the first half of them)
    weak = every.pop(remedies.Key(0.97, remedies.TOO_WEAK))
    assert {s.init_seeds for s in every.values()} == {tuple(range(16))} and weak.init_seeds == tuple(range(8))
    assert {s.member_worlds for s in every.values()} == {tuple(m // 2 for m in range(16))}
    assert {s.total_steps for s in every.values()} == {1500}
    for rho in remedies.RHOS:
        assert all(s.world == presets.world(rho) for s in remedies.conditions_at(ctx, rho).values())
    genie = specs[remedies.GENIE]
    plain = remedies.compute(specs[remedies.NONE])
    assert [st.world.objective for st in genie.plan] == ["effects", "target"]
    eff = genie.plan[0].world.effects  # R's world: every pair but those holding latent 3 (no product gives χ_0123)
    assert eff == presets.effects(target=(0, 1, 2, 3)) and len(eff) == 28 - 7
    assert not presets.in_span(eff, (0, 1, 2, 3)) and presets.in_span(presets.effects(), (0, 1, 2, 3))
    assert 2 * plain < remedies.compute(genie) < 2.2 * plain  # the regularizer's second pass, and the decoder


def test_remedy_strengths_follow_their_rules_and_the_overall_rule():
    f = 3.0  # spectral decoupling: σ(−f) = λ·f at the chosen margin
    assert math.isclose(1 / (1 + math.exp(f)), remedies.SD * f)
    m = MLPConfig(width=4, depth=1)
    expected = 8 * 4 * 0.5 / math.sqrt(8) + 4 * 1 * 0.5 / math.sqrt(4)
    assert math.isclose(presets.l1_strength(m, 8) * expected, 0.05 * math.log(2))
    assert remedies.overall({"a": INCONCLUSIVE, "b": SUPPORTED}, True, False) == SUPPORTED
    assert remedies.overall({"a": INCONCLUSIVE, "b": SUPPORTED}, False, True) == INCONCLUSIVE
    assert remedies.overall({"a": REFUTED, "b": REFUTED}, True, True) == REFUTED
    assert remedies.overall({"a": REFUTED, "b": REFUTED}, True, False) == INCONCLUSIVE
    assert remedies.overall({"a": REFUTED, "b": INCONCLUSIVE}, True, True) == INCONCLUSIVE


def test_g7_switch_and_scratch_end_in_b_and_the_control_shares_no_latent():
    ctx = _ctx()
    g7 = g7_objective_switch
    specs = g7.conditions(ctx)
    B = g7.B
    assert B == presets.SWITCH_B
    assert all(s.world == B and s.plan[-1].world == B for k, s in specs.items() if k.b == g7.NOISE)
    assert all(s.world == g7.B_PAYS and s.plan[-1].world == g7.B_PAYS for k, s in specs.items() if k.b == g7.PAYS)
    assert [st.world for st in specs[g7.SWITCH].plan] == [g7.A, B]
    assert len(specs[g7.SCRATCH].plan) == 1
    # the probe's A differs from A in the proxy's agreement only
    bound = specs[g7.SWITCH_BOUND].plan[0].world
    assert replace(bound, proxies=g7.A.proxies) == g7.A
    assert bound.proxies[0].rho == 0.97 > g7.A.proxies[0].rho
    unrelated = g7.A_UNRELATED
    used = set(unrelated.target) | {i for p in unrelated.proxies for i in p.latents}
    assert not used & (set(B.target) | {i for p in B.proxies for i in p.latents} | {4})
    # B is A's abstraction times one latent; A's proxy is uncorrelated with B's label in B's data
    assert set(B.target) == set(g7.A.target) | {8}
    from greedlab.worlds import HierarchyWorld
    from greedlab.worlds.hierarchy import chi
    data = HierarchyWorld(B).train_set()
    assert abs(float((chi(data.a, (4,)) * data.y).mean())) < 0.05
    assert abs(float((chi(data.a, (0, 1, 2, 3)) * data.y).mean())) < 0.05
    assert float((chi(data.a, (5,)) * data.y).mean()) > 0.7


def test_g7_paying_arms_differ_from_the_noise_arms_in_a4_alone():
    from greedlab.worlds import HierarchyWorld
    from greedlab.worlds.hierarchy import chi

    g7 = g7_objective_switch
    specs = g7.conditions(_ctx())
    pays = {g7.PAYS_SWITCH, g7.PAYS_SCRATCH, g7.NO_HEURISTIC}
    assert all((s.world == g7.B_PAYS) == (k in pays) for k, s in specs.items())
    # the paying switch has the proxy-bound switch's A stage, the control's A differs in a_4's ρ alone
    assert specs[g7.PAYS_SWITCH].plan[0] == specs[g7.SWITCH_BOUND].plan[0]
    assert replace(g7.A_NO_HEURISTIC, proxies=g7.A.proxies) == g7.A and g7.A_NO_HEURISTIC.proxies[0].rho == 0.5
    # the control arm is the first half of the paying scratch's members (paired member by member)
    ctrl, scratch = specs[g7.NO_HEURISTIC], specs[g7.PAYS_SCRATCH]
    assert ctrl.n_models == scratch.n_models // 2 == 8
    assert ctrl.init_seeds == scratch.init_seeds[:8] and ctrl.member_worlds == scratch.member_worlds[:8]
    # B_PAYS: a_4 agrees with B's label as a_5 does; label and every other latent are B's own samples
    noise, paying = HierarchyWorld(g7.B).train_set(), HierarchyWorld(g7.B_PAYS).train_set()
    assert float((chi(paying.a, (4,)) * paying.y).mean()) > 0.7 > abs(float((chi(noise.a, (4,)) * noise.y).mean()))
    others = [i for i in range(g7.B.n_latents) if i != 4]
    assert torch.equal(noise.a[:, others], paying.a[:, others]) and torch.equal(noise.y, paying.y)


def test_g7_reads_reliance_at_the_switch_and_early_in_b():
    from greedlab.experiment import RunResult

    spec = g7_objective_switch.conditions(_ctx())[g7_objective_switch.SWITCH]
    steps = np.array([0, 750, 1500, 1513, 1518, 3000])
    curve = np.arange(12.0).reshape(2, 6)
    r = RunResult("x", spec, steps, {("reliance", "a4"): curve})
    assert g7_objective_switch.switch_step(r) == 1500
    assert list(g7_objective_switch.at_switch(r, "a4", 1500)) == [2.0, 8.0]
    assert list(g7_objective_switch.at_switch(r, "a4", 1510)) == [2.0, 8.0]
    v, step = g7_objective_switch.into_b(r, "a4", 15)
    assert list(v) == [4.0, 10.0] and step == 18


def test_h4_trains_plain_mlps_of_every_depth_on_each_objective_with_no_penalty():
    specs = h4_speed_bias.conditions(_ctx())
    for obj in h4_speed_bias.OBJECTIVES:
        for d in h4_speed_bias.DEPTHS:
            s = specs[h4_speed_bias.Key(obj, d)]
            assert s.world.objective == obj and s.train.speed_penalty == 0.0
            assert s.model == MLPConfig(depth=d)
    g9 = {s.run_id for s in g9_speed_regularizer.conditions(_ctx()).values()}
    assert not g9 & {s.run_id for s in specs.values()}  # the early-exit runs it read before are G9's alone


def test_g8_pipeline_is_the_shared_one_with_its_exclusions():
    ctx = _ctx()
    cmd, _ = g8_clean_genie.worlds()
    built = presets.genie_pipeline(ctx, cmd, ctx.scale.steps, exclude=g8_clean_genie.held_out_of_pretraining())
    assert ctx.curriculum(built).run_id == g8_clean_genie.conditions(ctx)[g8_clean_genie.Key("genie")].run_id
