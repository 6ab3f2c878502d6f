"""Claims G7, G8, G9, H4, X1, R and A1 on synthetic results: each claim's pure ``analyse`` fed results
chosen by hand. Every control is shown to fail when its condition is made to show the effect
(negative) or to lack it (positive), turning the verdict inconclusive; clean inputs give the rule's
verdict and number. Nothing trains here."""

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from greedlab.claims import (a1_anchors as a1, g7_objective_switch as g7, g8_clean_genie as g8,
                             g9_speed_regularizer as g9, h4_speed_bias as h4, presets, remedies, setups,
                             x1_cone_descent as x1)
from greedlab.claims.common import INCONCLUSIVE, REFUTED, SCALES, SUPPORTED
from greedlab.claims.context import Context
from greedlab.experiment import RunResult
from fakes import fake_run

QUICK = Context(SCALES["quick"], Path("."), None)
OK, FAILED = "control ok", "control FAILED"


def spread(n: int, centre: float, sd: float, seed: int) -> np.ndarray:
    return centre + sd * np.random.default_rng(seed).standard_normal(n)


def finals(spec, values: dict, steps=None) -> RunResult:
    """A run whose every curve is flat at the given per-member values (only the end matters)."""
    steps = [0, spec.total_steps] if steps is None else steps
    return fake_run(spec, steps, {k: np.tile(np.asarray(v, float)[:, None], (1, len(steps)))
                                  for k, v in values.items()})


def controls(rows) -> list[str]:
    return [r.verdict for r in rows if r.kind == "control"]


def row(rows, condition: str, statistic: str = ""):
    """The one row whose condition starts with ``condition`` and whose statistic contains ``statistic``."""
    found = [r for r in rows if r.condition.startswith(condition) and statistic in r.statistic]
    assert len(found) == 1, [(r.condition, r.statistic) for r in found]
    return found[0]


# -- G9: the speed regularizer ------------------------------------------------------------------------

def g9_runs(help_at=None, placebo=0.0, l1_gain=0.3, depth_fall=0.8) -> dict:
    """Penalty and none alike (no help) unless ``help_at`` = (ρ, gain in target reliance); the
    placebo's gain ``placebo``; L1's gain ``l1_gain``; the penalty's fall in exit depth."""
    runs = {}
    for k, (key, spec) in enumerate(g9.conditions(QUICK).items()):
        n = spec.n_models
        target = spread(n, 0.96 if key.rho == 0.9 else 0.4, 0.02, 0)  # one member's start, shared by its arms
        gain = {g9.PENALTY: help_at[1] if help_at and help_at[0] == key.rho else 0.0, g9.TOO_SMALL: placebo,
                g9.L1: l1_gain}.get(key.regularizer, 0.0)
        t = target + gain + spread(n, 0, 0.005, 100 + k)
        values = {("reliance", "target"): t, ("reliance", "proxy0"): 0.97 - t,
                  ("train_loss", ""): spread(n, 0.01, 0.001, k)}
        if key.model == g9.EXIT:
            values["exit_depth", ""] = spread(n, 2.8, 0.02, 0) - (depth_fall if key.regularizer == g9.PENALTY else 0)
        runs[key] = finals(spec, values)
    return runs


def test_g9_clean_no_help_at_either_rho_is_supported():
    rows, verdict = g9.analyse(g9_runs())
    assert verdict == SUPPORTED
    assert controls(rows) == [OK, OK, OK, OK, OK]
    assert row(rows, "rho=0.97: penalty − none", "target reliance").value == pytest.approx(0.0, abs=0.01)
    assert row(rows, "rho=0.97: L1").value == pytest.approx(0.3, abs=0.01)


def test_g9_help_at_rho_097_refutes_with_the_gain():
    rows, verdict = g9.analyse(g9_runs(help_at=(0.97, 0.13)))
    assert verdict == REFUTED
    r = row(rows, "rho=0.97: penalty − none", "target reliance")
    assert r.verdict == REFUTED and r.value == pytest.approx(0.13, abs=0.01) and r.ci_low > g9.MARGIN


def test_g9_negative_control_fails_when_a_penalty_too_small_to_act_reads_as_help():
    rows, verdict = g9.analyse(g9_runs(placebo=0.12))
    assert row(rows, "rho=0.97: penalty 0.00035", "final target").verdict == FAILED
    assert verdict == INCONCLUSIVE


def test_g9_positive_control_fails_when_a_regularizer_that_helps_does_not_read_as_help():
    rows, verdict = g9.analyse(g9_runs(l1_gain=0.0))
    assert row(rows, "rho=0.97: L1").verdict == FAILED
    assert verdict == INCONCLUSIVE  # "no help" is an absence: it needs the positive control


def test_g9_positive_control_fails_when_the_penalty_did_not_act():
    rows, verdict = g9.analyse(g9_runs(depth_fall=0.0))
    assert row(rows, "rho=0.9: penalty − none (positive").verdict == FAILED
    assert verdict == INCONCLUSIVE


def test_g9_shares_its_runs_with_the_remedies_table():
    g, r = g9.conditions(QUICK), remedies.conditions(QUICK)
    for rho in g9.RHOS:
        assert g[g9.Key(rho, g9.EXIT, g9.PENALTY)].run_id == r[remedies.Key(rho, remedies.SPEED)].run_id
        assert g[g9.Key(rho, g9.EXIT, g9.NONE)].run_id == r[remedies.Key(rho, remedies.EXIT)].run_id
    assert g[g9.Key(0.97, g9.MLP, g9.L1)].run_id == r[remedies.Key(0.97, remedies.L1)].run_id
    assert g[g9.Key(0.97, g9.MLP, g9.NONE)].run_id == r[remedies.Key(0.97, remedies.NONE)].run_id
    # G9's penalty too small to act is the remedies table's, at full size (all 8 worlds; the table keeps
    # its half-size arm, the first half of these members)
    small, weak = g[g9.Key(0.97, g9.EXIT, g9.TOO_SMALL)], r[remedies.Key(0.97, remedies.TOO_WEAK)]
    assert small.run_id != weak.run_id and small.n_models == 2 * weak.n_models
    assert (small.world, small.model, small.train) == (weak.world, weak.model, weak.train)
    assert small.init_seeds[:weak.n_models] == weak.init_seeds and len(set(small.member_worlds)) == 8


# -- H4: speed bias, the least depth each solution needs ----------------------------------------------

def h4_runs(target=1, proxy=0, gated=2, second=1) -> dict:
    """A fixed-depth family whose member m reaches the criterion from its least depth on (an int for
    every member, or one per member; 3 = never): accuracy 0.99 there, 0.6 below (a run id per run)."""
    least = {(obj, 0): v for obj, v in (("target", target), ("proxy", proxy), ("gated", gated))}
    least["target", 1] = second
    runs = {}
    for k, (key, spec) in enumerate(h4.conditions(QUICK).items()):
        d = np.broadcast_to(np.asarray(least[key.objective, key.draw]), (spec.n_models,))
        acc = np.where(key.depth >= d, 0.99, 0.6) + spread(spec.n_models, 0, 0.002, k)
        runs[key] = finals(spec, {("deploy_acc", ""): acc})
        runs[key].run_id = f"h4-{k}"
    return runs


def test_h4_gated_needing_a_layer_more_is_supported_with_the_share():
    rows, verdict = h4.analyse(h4_runs())
    assert verdict == SUPPORTED and rows[0].value == 1.0 and rows[0].ci_low > 0.5
    assert controls(rows) == [OK, OK]
    assert row(rows, "gated − target", "difference in layers").value == 1.0


def test_h4_gated_at_the_targets_depth_refutes_when_the_proxy_needs_less():
    rows, verdict = h4.analyse(h4_runs(gated=1))
    assert verdict == REFUTED and rows[0].value == 0.0 and rows[0].ci_high < 0.5
    # one member of ten against the rest still decides (9/10: Clopper–Pearson above 1/2)
    rows, verdict = h4.analyse(h4_runs(gated=[2] * 9 + [1]))
    assert verdict == SUPPORTED
    rows, verdict = h4.analyse(h4_runs(gated=[2] * 5 + [1] * 5))  # half the members: neither
    assert rows[0].verdict == INCONCLUSIVE and verdict == INCONCLUSIVE


def test_h4_positive_control_fails_when_the_proxy_needs_no_less_depth():
    rows, verdict = h4.analyse(h4_runs(gated=1, proxy=1))
    assert rows[0].verdict == REFUTED and controls(rows)[0] == FAILED and verdict == INCONCLUSIVE
    rows, verdict = h4.analyse(h4_runs(target=0, gated=0, second=0))  # a linear read-out "solving" χ_01
    assert controls(rows)[0] == FAILED and verdict == INCONCLUSIVE
    # the target found at no depth: the proxy rightly reads cheaper, but neither the claim nor the
    # negative control has a member decided, so nothing follows
    rows, verdict = h4.analyse(h4_runs(target=3, gated=3, second=3))
    assert math.isnan(rows[0].ci_low) and "no member decided" in rows[0].note and verdict == INCONCLUSIVE
    assert controls(rows) == [OK, FAILED]


def test_h4_negative_control_fails_when_two_draws_of_one_solution_differ():
    rows, verdict = h4.analyse(h4_runs(second=2))
    assert rows[0].verdict == SUPPORTED and controls(rows)[1] == FAILED and verdict == INCONCLUSIVE
    rows, verdict = h4.analyse(h4_runs(second=0))  # either way
    assert controls(rows)[1] == FAILED and verdict == INCONCLUSIVE


def test_h4_censored_members_count_as_a_lower_bound_and_bounded_rows_stay_in_range():
    # gated never reached at depth ≤ 2 while the target is at 1: at least 2 layers more, decided
    rows, verdict = h4.analyse(h4_runs(gated=3))
    assert verdict == SUPPORTED and rows[0].value == 1.0 and "10 of 10 decided" in rows[0].statistic
    # both censored on some members: those say nothing and are left out of the share
    rows, _ = h4.analyse(h4_runs(target=[3, 3] + [1] * 8, gated=[3, 3] + [2] * 8))
    assert "8 of 10 decided" in rows[0].statistic and rows[0].value == 1.0
    ci = h4.mean_in(np.r_[np.zeros(15), 3.0], None, (0, h4.CENSORED))  # a bounded mean's interval stays inside
    assert ci.ok and 0 <= ci.low <= ci.high <= h4.CENSORED
    for r in rows:
        if "share" in r.statistic and not math.isnan(r.ci_low):
            assert 0 <= r.ci_low <= r.value <= r.ci_high <= 1
        if "mean least depth" in r.statistic and not math.isnan(r.ci_low):
            lo = -h4.CENSORED if "difference" in r.statistic else 0
            assert lo <= r.ci_low <= r.ci_high <= h4.CENSORED


def test_h4_a_member_diverged_at_one_depth_leaves_its_family_not_the_claim():
    runs = h4_runs()
    key = h4.Key("gated", 1)
    runs[key] = runs[key].without([0, 1])
    rows, verdict = h4.analyse(runs)
    assert "8 of 8 decided" in rows[0].statistic and verdict == SUPPORTED


def test_h4_family_pairs_members_across_depths_and_objectives_and_fits_the_budget():
    specs = h4.conditions(QUICK)
    assert {k.depth for k in specs} == set(h4.DEPTHS) and {s.model.depth for s in specs.values()} == set(h4.DEPTHS)
    first = [s for k, s in specs.items() if k.draw == 0]
    assert len({(s.init_seeds, s.data_seeds, s.member_worlds) for s in first}) == 1  # one member set
    assert {s.model.width for s in specs.values()} == {256} and {s.total_steps for s in specs.values()} == {1500}
    assert all(len(set(s.member_worlds)) == s.n_models == 10 for s in specs.values())  # a world each
    again = specs[h4.Key("target", 1, 1)]
    assert not set(again.init_seeds) & set(first[0].init_seeds)
    assert not set(again.data_seeds) & set(first[0].data_seeds)
    assert not set(again.member_worlds) & set(first[0].member_worlds)
    gated = specs[h4.Key("gated", 2)].world
    assert gated.objective == "gated" and gated.cue == setups.CUE and gated.cue not in gated.hidden
    assert not gated.gains and {p.rho for p in gated.proxies} == {h4.RHO}  # the cue rendered like any latent
    assert sum(s.n_models * s.total_steps for s in specs.values()) <= 200_000


# -- X1: cone descent -------------------------------------------------------------------------------

X1_STEPS = np.array([0, 3, 10, 30, 100, 300, 700, 1000, 1500])


def x1_run(spec, seed: int, distance: float, proxy: float, at: float, level: float) -> RunResult:
    """A run whose train loss falls log-linearly from 0.7 to ``level`` at step ``at`` (never if inf) while
    its distance from the start grows linearly, reaching ``distance`` (per member, ±1%) there."""
    n = spec.n_models
    d = spread(n, distance, 0.01 * distance, seed)[:, None]
    p = spread(n, proxy, 0.005, seed + 50)[:, None]
    rate = math.log(0.7 / level) / at
    return fake_run(spec, X1_STEPS, {"train_loss": lambda s: 0.7 * np.exp(-rate * s),
                                     "distance_from_init": lambda s: d * s / (at if math.isfinite(at) else 1500),
                                     ("reliance", "proxy0"): lambda s: p + 0 * s,
                                     ("reliance", "target"): lambda s: 0.1 + 0 * s, "train_acc": lambda s: 1 + 0 * s,
                                     "closest_distance": 3.0, "distance_to_closest": lambda s: 3.0 * (1 - s / 1500)},
                    run_id=f"fake{seed}")


def x1_runs(cone_distance=2.4, cone_proxy=0.1, cone_at=700.0, slow_distance=3.0, no_proxy=0.0,
            planted_distance=3.75, gd_proxy=0.3) -> dict:
    """Full-batch GD reaches the level at step 100 having moved 3.0 (proxy reliance 0.3); the linear GD
    likewise with |x* − x0| = 3. Each argument sets what one arm shows at the matched loss."""
    runs = {}
    for k, (key, spec) in enumerate(x1.conditions(QUICK).items()):
        dist, proxy, at = 3.0, gd_proxy, 100.0
        if key == x1.full_cone(x1.TESTED_ALPHA):
            dist, proxy, at = cone_distance, cone_proxy, cone_at
        elif key == x1.FULL_SLOW:
            dist, at = slow_distance, 200.0
        elif key == x1.FULL_NO_PROXY:
            proxy = no_proxy
        elif key == x1.LINEAR_PLANTED:
            dist = planted_distance
        level = x1.LINEAR_LEVEL if key.arm == x1.LINEAR else x1.LEVEL
        runs[key] = x1_run(spec, k, dist, proxy, at, level)
    return runs


def test_x1_clean_closer_and_less_greedy_cone_at_matched_loss_is_supported():
    rows, verdict = x1.analyse(x1_runs())
    assert verdict == SUPPORTED and controls(rows) == [OK, OK, OK]
    # read at the crossing, not at the end: 2.4 against 3.0 (−20%), though the cone arrives 7× later
    assert rows[0].value == pytest.approx(-0.2, abs=0.01) and rows[1].value == pytest.approx(-0.2, abs=0.01)
    assert [r.kind for r in rows[:5]] == ["verdict", "verdict", "control", "control", "control"]


def test_x1_matched_loss_interpolates_between_evaluations():
    spec = x1.conditions(QUICK)[x1.FULL_GD]
    r = fake_run(spec, [0, 10, 20], {"train_loss": np.tile([1.0, 0.1, 0.01], (spec.n_models, 1)),
                                     "distance_from_init": np.tile([0.0, 2.0, 4.0], (spec.n_models, 1))})
    # loss 0.1 → 0.01 over steps 10 → 20: 10^-1.5 lies half way in log loss, so half way in distance
    np.testing.assert_allclose(x1.at_level(r, 10 ** -1.5, "distance_from_init"), 3.0)
    np.testing.assert_allclose(x1.at_level(r, 0.1, "distance_from_init"), 2.0)
    assert np.isnan(x1.at_level(r, 1e-3, "distance_from_init")).all()


def test_x1_a_cone_that_never_fits_gives_no_comparison_and_the_row_says_so():
    rows, verdict = x1.analyse(x1_runs(cone_at=math.inf))
    assert verdict == INCONCLUSIVE and controls(rows) == [OK, OK, OK]
    assert np.isnan(rows[0].value) and "no comparison: only 0 of 8 members of the first arm" in rows[0].statistic
    assert rows[0].verdict == INCONCLUSIVE and rows[1].verdict == INCONCLUSIVE


def test_x1_negative_control_fails_when_slower_descent_alone_reads_closer_at_matched_loss():
    rows, verdict = x1.analyse(x1_runs(slow_distance=2.5))
    assert controls(rows) == [FAILED, OK, OK] and verdict == INCONCLUSIVE
    assert rows[2].value == pytest.approx(-1 / 6, abs=0.01)


def test_x1_negative_control_fails_when_the_slow_arm_is_never_read():
    rows, verdict = x1.analyse(x1_runs(slow_distance=3.0) | {x1.FULL_SLOW: x1_run(
        x1.conditions(QUICK)[x1.FULL_SLOW], 7, 3.0, 0.3, math.inf, x1.LEVEL)})
    assert controls(rows)[0] == FAILED and verdict == INCONCLUSIVE


def test_x1_positive_control_fails_at_the_floor_and_then_a_greedier_cone_refutes_nothing():
    rows, verdict = x1.analyse(x1_runs(cone_proxy=0.05, gd_proxy=0.03, no_proxy=0.02))
    assert rows[1].verdict == REFUTED and rows[1].value == pytest.approx(0.02, abs=0.005)
    assert controls(rows) == [OK, FAILED, OK] and verdict == INCONCLUSIVE


def test_x1_planted_control_fails_when_a_farther_minimum_does_not_read_farther():
    rows, verdict = x1.analyse(x1_runs(planted_distance=3.0))
    assert controls(rows) == [OK, OK, FAILED] and verdict == INCONCLUSIVE
    assert x1.analyse(x1_runs())[0][4].value == pytest.approx(3.0 / 3.75 - 1, abs=0.01)


def test_x1_a_cone_that_moves_further_at_matched_loss_is_refuted():
    rows, verdict = x1.analyse(x1_runs(cone_distance=3.6))
    assert verdict == REFUTED and rows[0].value == pytest.approx(0.2, abs=0.01)


def test_x1_full_batch_arms_fit_one_batch_with_the_cos_rule_and_stochastic_runs_stay_shared():
    specs = x1.conditions(QUICK)
    for a in x1.ALPHAS:
        s = specs[x1.full_cone(a)]
        assert s.train.batch_size == s.world.n_train == x1.FULL_BATCH_N and s.train.cone_alpha == a
        assert s.train.lr == pytest.approx(0.3 * math.cos(math.radians(a)))
        assert s.n_models == 8 and s.init_seeds == specs[x1.FULL_GD].init_seeds  # half-size, paired
    assert specs[x1.FULL_SLOW].train.lr == specs[x1.full_cone(60.0)].train.lr == pytest.approx(0.15)
    assert specs[x1.FULL_NO_PROXY].world.proxies[0].rho == 0.5
    assert all(s.train.cone_alpha > 0 for k, s in specs.items() if k.optimizer == "cone" and k.arm != x1.LINEAR)
    r = remedies.conditions(QUICK)
    assert specs[x1.cone(30.0)].run_id == r[remedies.Key(0.9, remedies.CONE)].run_id
    assert specs[x1.SGD].run_id == r[remedies.Key(0.9, remedies.SGD)].run_id
    assert specs[x1.ADAM].run_id == r[remedies.Key(0.9, remedies.NONE)].run_id
    # the stochastic cones keep the ids they had before the full-batch arm existed
    assert (specs[x1.cone(60.0)].run_id, specs[x1.cone(80.0)].run_id) == ("a8f0c2fd1c0293f8", "4945490c8becac6c")


# -- G7: the objective switch -----------------------------------------------------------------------

def g7_runs(switch_target=0.92, switch_a4=0.0, unrelated_target=0.05, bound_early=0.6, bound_end=0.0,
            pays_a4=0.33, pays_early=0.6, no_heuristic_a4=0.2) -> dict:
    """G7's seven arms. Final B-target reliance: switch ``switch_target``, scratch 0.10, the A' control
    ``unrelated_target``. a_4 reliance at the end of A (and 15 steps into B) → at the end of B: switch
    0.05 → ``switch_a4``, proxy-bound switch ``bound_early`` → ``bound_end`` (a_4 noise) and
    ``pays_early`` → ``pays_a4`` (a_4 pays), scratch 0 → 0.04 (noise) and 0 → 0.35 (pays), the switch
    from an A that taught no heuristic 0 → ``no_heuristic_a4``."""
    S = QUICK.scale.steps
    runs = {}
    for k, (key, spec) in enumerate(g7.conditions(QUICK).items()):
        n = spec.n_models
        at = g7.switch_step(finals(spec, {}))
        steps = np.array([0, 1, 15, S // 2, S] if at == 0 else [0, S // 2, S, S + 1, S + 15, S + S // 2, 2 * S])
        target = {g7.SWITCH: switch_target, g7.SCRATCH: 0.10, g7.UNRELATED: unrelated_target,
                  g7.SWITCH_BOUND: 0.85, g7.PAYS_SWITCH: 0.5, g7.PAYS_SCRATCH: 0.05, g7.NO_HEURISTIC: 0.7}[key]
        a4_end = {g7.SWITCH: switch_a4, g7.SCRATCH: 0.04, g7.UNRELATED: 0.04, g7.SWITCH_BOUND: bound_end,
                  g7.PAYS_SWITCH: pays_a4, g7.PAYS_SCRATCH: 0.35, g7.NO_HEURISTIC: no_heuristic_a4}[key]
        a4_start = {g7.SWITCH: 0.05, g7.SWITCH_BOUND: bound_early, g7.PAYS_SWITCH: pays_early}.get(key, 0.0)
        noise = spread(n, 0, 0.005, k)[:, None]

        def a4(s, at=at, a4_start=a4_start, a4_end=a4_end, noise=noise):
            # A's reliance up to the switch and just after it, B's end value later
            return np.where(s <= at + 15, a4_start if at else 0.0, a4_end) + noise

        runs[key] = fake_run(spec, steps, {("reliance", "target"): lambda s, t=target, e=noise: np.where(
            s == s.max(), t, 0.0) + e, ("reliance", "a4"): a4, ("reliance", "proxy0"): 0.8 + 0 * noise,
            ("reliance", "step1"): 0.0 + noise, ("reliance", "a13"): 0.0 + noise}, run_id=f"g7-{k}")
    return runs


G7_CONTROLS = 6  # four negative (A' on B's target and on a_4, a_4 erased as noise, no heuristic taught), two positive


def test_g7_a_paying_heuristic_kept_no_more_than_from_scratch_refutes_carry_over():
    rows, verdict = g7.analyse(g7_runs())
    assert rows[0].verdict == SUPPORTED and rows[0].value == pytest.approx(0.82, abs=0.01)
    assert rows[1].condition.startswith(g7.PAYS_SWITCH.label()) and "a_4 paying" in rows[1].statistic
    assert rows[1].verdict == REFUTED and rows[1].value == pytest.approx(-0.02, abs=0.01)
    assert controls(rows) == [OK] * G7_CONTROLS and verdict == REFUTED
    assert all("at step 1 of B" in r.statistic for r in rows if r.control == "positive")
    # the old part, carry-over of a heuristic B does not pay for, is still reported beside the rule
    old = row(rows, g7.SWITCH.label() + " − ", "carry-over part before")
    assert old.kind == "measurement" and old.value == pytest.approx(-0.04, abs=0.01)
    # the paying switch against the switch that taught no heuristic: 0.33 − 0.20 on the first half
    assert row(rows, g7.PAYS_SWITCH.label() + " − " + g7.NO_HEURISTIC.label()).value == pytest.approx(0.13, abs=0.01)


def test_g7_a_paying_heuristic_kept_beyond_scratch_supports_carry_over():
    rows, verdict = g7.analyse(g7_runs(pays_a4=0.6))
    assert rows[1].verdict == SUPPORTED and rows[1].value == pytest.approx(0.25, abs=0.01)
    assert verdict == SUPPORTED


def test_g7_positive_controls_fail_when_no_heuristic_is_read_at_the_switch():
    rows, verdict = g7.analyse(g7_runs(bound_early=0.0))
    assert controls(rows) == [OK] * 4 + [FAILED, OK] and verdict == INCONCLUSIVE
    # the paying world's own planted control: a refuted carry-over then stands on nothing
    rows, verdict = g7.analyse(g7_runs(pays_early=0.0))
    assert controls(rows) == [OK] * 5 + [FAILED] and rows[1].verdict == REFUTED and verdict == INCONCLUSIVE


def test_g7_negative_controls_fail_when_the_effect_shows_where_it_must_not():
    rows, verdict = g7.analyse(g7_runs(pays_a4=0.6, unrelated_target=0.6))
    assert controls(rows) == [FAILED] + [OK] * 5 and verdict == INCONCLUSIVE
    # a heuristic B's data leave as noise, kept through B: the instrument reads history, not carry-over
    rows, verdict = g7.analyse(g7_runs(pays_a4=0.6, bound_end=0.3))
    assert controls(rows) == [OK, OK, FAILED, OK, OK, OK] and verdict == INCONCLUSIVE
    # a switch whose A taught no heuristic reads as carry-over: pretraining alone raises a_4 reliance
    rows, verdict = g7.analyse(g7_runs(pays_a4=0.6, no_heuristic_a4=0.6))
    assert controls(rows) == [OK, OK, OK, FAILED, OK, OK] and verdict == INCONCLUSIVE


# -- G8: the clean genie ----------------------------------------------------------------------------

def scorecard(found: bool = True):
    """G8's pragmascope scorecard as the world gives it (~0.77 worst latent R², 36 features, noise 0.01)
    without computing it (a property of the data, tested in tests/test_clean_genie.py and
    test_pragmascope.py); ``found=False``: a pragmascope that misses the effect abstractions."""
    from greedlab.claims.common import control_row

    nan = float("nan")
    rows = (control_row("pragmascope on this world", "worst recovery R² of the latents", (0.77, nan, nan), True, [],
                        positive=True),
            control_row("pragmascope on this world", "worst recovery R² of the effects", (0.82 if found else 0.3, nan,
                        nan), found, [], positive=True),
            control_row("pragmascope on this world", "best R² of a noise column", (0.01, nan, nan), True, []))
    return lambda: (rows, found, True)


@pytest.fixture(autouse=True)
def _no_scorecard(monkeypatch, request):
    if request.node.name.startswith("test_g8"):
        monkeypatch.setattr(g8, "_scorecard_rows", scorecard())


def g8_runs(genie=0.02, no_prag=0.06, plain=0.07, genie_05=0.0, plain_05=0.0, held=0.96) -> dict:
    proxy = {g8.GENIE: genie, g8.NO_PRAG: no_prag, g8.PLAIN_COMPUTE: plain, g8.PLAIN_STEPS: 0.08, g8.RANDOM: 0.2}
    runs = {}
    for k, (key, spec) in enumerate(g8.conditions(QUICK).items()):
        n = spec.n_models
        p = proxy[key.arm] if key.rho == g8.RHO else {g8.GENIE: genie_05, g8.PLAIN_COMPUTE: plain_05}[key.arm]
        runs[key] = finals(spec, {("reliance@target_command", "proxy0"): spread(n, p, 0.003, k),
                                  ("reliance@target_command", "target"): spread(n, 0.9, 0.01, k + 50),
                                  ("command_acc", "heldout"): spread(n, held if key.arm == g8.GENIE else 0.88, 0.005,
                                                                    k + 100),
                                  ("command_acc", "seen"): spread(n, 0.99, 0.002, k + 150)})
    return runs


def test_g8_clean_pipeline_with_the_regularizers_share_is_supported():
    rows, verdict = g8.analyse(g8_runs())
    assert verdict == SUPPORTED and rows[0].value == pytest.approx(-0.05, abs=0.005)
    assert rows[2].value == pytest.approx(-0.04, abs=0.005)  # d5: the regularizer's own share
    assert controls(rows) == [OK, OK, OK, OK, OK]


def test_g8_a_regularizer_that_adds_heuristics_refutes():
    rows, verdict = g8.analyse(g8_runs(no_prag=0.0))
    assert rows[2].verdict == REFUTED and rows[2].value == pytest.approx(0.02, abs=0.003) and verdict == REFUTED
    rows, verdict = g8.analyse(g8_runs(no_prag=0.02))  # no share at all: neither way
    assert rows[2].verdict == INCONCLUSIVE and verdict == INCONCLUSIVE


def test_g8_positive_control_fails_at_the_floor_and_the_refutation_turns_inconclusive():
    rows, verdict = g8.analyse(g8_runs(no_prag=0.0, plain=0.01, genie=0.02))
    assert rows[2].verdict == REFUTED
    assert controls(rows)[:2] == [OK, FAILED] and verdict == INCONCLUSIVE


def test_g8_negative_control_fails_when_the_pipeline_sheds_a_heuristic_that_is_not_there():
    rows, verdict = g8.analyse(g8_runs(genie_05=-0.04))  # below plain's 0.0 where there is nothing to shed
    assert controls(rows)[:2] == [FAILED, OK] and verdict == INCONCLUSIVE


def test_g8_a_pragmascope_that_misses_the_abstractions_is_a_failed_positive_control(monkeypatch):
    monkeypatch.setattr(g8, "_scorecard_rows", scorecard(found=False))
    rows, verdict = g8.analyse(g8_runs())
    assert controls(rows) == [OK, OK, OK, FAILED, OK] and verdict == INCONCLUSIVE


def test_g8_pretraining_never_predicts_the_target_or_a_held_out_command():

    specs = g8.conditions(QUICK)
    _, held = setups.commands()
    banned = {setups.TARGET} | {S for S in held if len(S) == 2}
    for key in (g8.Key(g8.GENIE), g8.Key(g8.NO_PRAG), g8.Key(g8.RANDOM), g8.Key(g8.GENIE, g8.NO_PROXY_RHO)):
        first = specs[key].plan[0].world
        assert first.objective == "effects" and first.effects == g8.effects()
        assert not banned & set(first.effects)
        # and no pair holding latent 1: no product of two effects (χ_{0k}·χ_{1k}) gives the target either
        assert len(first.effects) == 28 - len(banned | {S for S in itertools.combinations(range(8), 2) if 1 in S})
        assert not presets.in_span(first.effects, setups.TARGET)
    _, eff = g8.worlds()
    assert not banned & set(eff.effects)


# -- R: the remedies table --------------------------------------------------------------------------

def r_runs(gains=None, balanced=(0.02, 0.5), placebo=0.0, longer=None) -> dict:
    """Final target reliance: none at each ρ sits ``balanced[ρ]`` below the balanced-data run (its gain,
    the positive control's), each remedy ``gains[ρ][remedy]`` above none (default: the quick table's
    two largest at ρ = 0.97, nothing at ρ = 0.9), the too-weak penalty ``placebo`` above its reference;
    at 2× steps each remedy ``longer[remedy]`` above none (default: its gain at 1×). Hard reliance is
    the soft one + 0.01 (the rule reads hard)."""
    gains = gains if gains is not None else {0.97: {remedies.GENIE: 0.49, remedies.L1: 0.34}}
    runs = {}
    for k, (key, spec) in enumerate(remedies.conditions(QUICK).items()):
        n = spec.n_models
        none = 0.98 - balanced[remedies.RHOS.index(key.rho)] if key.rho in remedies.RHOS else 0.98
        gain = placebo if key.remedy == remedies.TOO_WEAK else gains.get(key.rho, {}).get(key.remedy, 0.0)
        if key.budget != 1 and longer is not None:
            gain = longer.get(key.remedy, 0.0)
        # a member's own luck is shared by its arms (paired), plus a little of each arm's
        t = spread(n, none + gain, 0.02, 0) + spread(n, 0, 0.004, 100 + k)
        values = {("reliance", "target"): t - 0.01, ("reliance", "proxy0"): 0.99 - t,
                  ("hard_reliance", "target"): t, ("hard_reliance", "proxy0"): 1 - t,
                  ("train_loss", ""): spread(n, 0.01, 0.001, k)}
        if spec.model.family == "early_exit":
            values["exit_depth", ""] = spread(n, 2.0, 0.05, k)
        runs[key] = finals(spec, values)
    return runs


def test_r_clean_table_is_supported_by_the_pipeline_after_holm():
    rows, verdict = remedies.analyse(r_runs())
    assert verdict == SUPPORTED
    genie = row(rows, "rho=0.97: clean-genie", "Holm")
    assert genie.verdict == SUPPORTED and genie.value == pytest.approx(0.49, abs=0.01)
    assert "Holm" in genie.statistic
    assert controls(rows) == [FAILED, OK, OK]  # ρ = 0.9: plain Adam at its ceiling, no room to show a gain


def test_r_holm_widens_every_interval_beyond_the_plain_one():
    from greedlab.claims.common import bootstrap_ci

    runs = r_runs()
    rows, _ = remedies.analyse(runs)
    d, w = remedies.paired_gain(runs[remedies.Key(0.97, remedies.L1)], runs[remedies.Key(0.97, remedies.NONE)])
    plain = bootstrap_ci(d, np.mean, clusters=w)
    adj = row(rows, "rho=0.97: L1", "Holm")
    assert adj.ci_low < plain[1] and adj.ci_high > plain[2]


def test_r_every_remedy_worse_is_refuted_only_where_a_gain_could_be_seen():
    worse = {rho: {m: -0.1 for m in remedies.REMEDIES} for rho in remedies.RHOS}
    rows, verdict = remedies.analyse(r_runs(gains=worse, balanced=(0.5, 0.5)))
    assert controls(rows) == [OK, OK, OK] and verdict == REFUTED
    assert row(rows, "rho=0.9: L1", "Holm").value == pytest.approx(-0.1, abs=0.01)
    rows, verdict = remedies.analyse(r_runs(gains=worse))
    assert controls(rows) == [FAILED, OK, OK] and verdict == INCONCLUSIVE
    rows, verdict = remedies.analyse(r_runs(gains={}, balanced=(0.5, 0.5)))  # no gain, no loss: neither
    assert verdict == INCONCLUSIVE


def test_r_reads_hard_reliance_and_reports_the_soft_one_beside_it():
    rows, _ = remedies.analyse(r_runs())
    hard = row(rows, "rho=0.97: clean-genie", "Holm")
    soft = row(rows, "rho=0.97: clean-genie", "soft target reliance: difference")
    assert "hard" in hard.statistic and soft.kind == "measurement"
    assert hard.value == pytest.approx(0.49, abs=0.01) and soft.value == pytest.approx(0.49, abs=0.01)


def test_r_budget_check_reads_whether_the_ranking_holds_at_twice_the_steps():
    assert remedies.kendall_tau([1, 2, 3], [10, 20, 30]) == 1.0 and remedies.kendall_tau([1, 2, 3], [3, 2, 1]) == -1.0
    spaced = {m: 0.05 * i for i, m in enumerate(remedies.REMEDIES)}
    rows, verdict = remedies.analyse(r_runs(gains={0.97: spaced}, longer=spaced))
    tau = row(rows, "rho=0.97: remedies at 1× and 2× steps", "Kendall")
    assert tau.value == pytest.approx(1.0) and tau.kind == "measurement"
    flipped = {m: -g for m, g in spaced.items()}
    rows, verdict2 = remedies.analyse(r_runs(gains={0.97: spaced}, longer=flipped))
    assert row(rows, "rho=0.97: remedies at 1× and 2× steps", "Kendall").value == pytest.approx(-1.0)
    assert verdict2 == verdict  # the budget check is reported; the verdict is decided at 1×
    gain = row(rows, f"rho=0.97: {remedies._text(remedies.L1, 1)[:2]}", "budget check")
    assert gain.value == pytest.approx(flipped[remedies.L1], abs=0.01)


def test_r_budget_check_pairs_half_the_members_at_twice_the_steps():
    specs = remedies.conditions(QUICK)
    for m in (remedies.NONE, *remedies.REMEDIES):
        long, short = specs[remedies.Key(0.97, m, 2)], specs[remedies.Key(0.97, m)]
        assert long.total_steps == 2 * short.total_steps and long.n_models == short.n_models // 2
        assert long.init_seeds == short.init_seeds[:long.n_models]


def test_r_negative_control_fails_when_a_remedy_too_weak_to_act_beats_its_reference():
    rows, verdict = remedies.analyse(r_runs(placebo=0.2))
    assert controls(rows)[-1] == FAILED and verdict == INCONCLUSIVE


# -- A1: the anchors --------------------------------------------------------------------------------

def a1_runs(ctx=QUICK, rand_1=0.5, rand_05=0.92, destroyed_05=0.5) -> dict:
    runs = {}
    for k, (key, spec) in enumerate(a1.conditions(ctx).items()):
        n = spec.n_models
        if key.model:
            acc = {"logreg": 0.317, "mlp": 0.661, "cnn": 0.931}[key.model]
            runs[key] = finals(spec, {("test_acc", ""): spread(n, acc, 0.005, k), ("train_acc", ""): np.ones(n)})
            continue
        control = key.rho == a1.CONTROL_RHO
        rand = rand_05 if control else (rand_1 if key.rho == 1.0 else 0.7)
        destroyed = destroyed_05 if control else 0.99
        last = spec.model.layer_names()[-1]
        values = {("counterfactual_acc", kind): spread(n, v, 0.005, k + i) for i, (kind, v) in enumerate(
            (("aligned", 1.0 if not control else 0.95), ("random", rand), ("removed", rand), ("opposed", 0.0),
             ("class_destroyed", destroyed)))}
        values.update({("deploy_acc", ""): spread(n, 0.93 if control else 0.6, 0.005, k + 10),
                       (f"decodability:{last}", "target"): spread(n, 0.85, 0.005, k + 11),
                       ("reliance", "target"): spread(n, 0.3, 0.01, k + 12),
                       ("reliance", "proxy0"): spread(n, 0.6, 0.01, k + 13)})
        runs[key] = finals(spec, values)
    return runs


def test_a1_clean_real_data_parts_decide_beside_baselines_without_intervals():
    rows, verdict = a1.analyse(a1_runs())
    base = row(rows, "mnist1d: 10 classes, cnn", "test accuracy")  # 3 seeds, as the published tables
    assert base.value == pytest.approx(0.931, abs=0.01) and np.isnan(base.ci_low) and "3 members" in base.note
    assert base.verdict == INCONCLUSIVE
    pitfall = row(rows, "digits: rho=1.0", "marker randomized")
    assert pitfall.verdict == SUPPORTED and pitfall.value == pytest.approx(0.5, abs=0.01)
    dfr = row(rows, "mnist1d: rho=0.97", "recovered")  # (0.85 − 0.6)/(0.93 − 0.6)
    assert dfr.verdict == SUPPORTED and dfr.value == pytest.approx(0.76, abs=0.02)
    assert controls(rows) == [OK, OK, OK, OK]
    assert verdict == INCONCLUSIVE  # three-seed baselines: no interval, no verdict


def test_a1_negative_control_fails_when_an_uninformative_marker_still_matters():
    rows, _ = a1.analyse(a1_runs(rand_05=0.5))
    assert controls(rows)[0] == FAILED


def test_a1_positive_control_fails_and_an_absent_pitfall_then_refutes_nothing():
    rows, verdict = a1.analyse(a1_runs(rand_1=0.95))
    assert row(rows, "mnist1d: rho=1.0", "marker randomized").verdict == REFUTED
    rows, verdict = a1.analyse(a1_runs(rand_1=0.95, destroyed_05=0.95))
    assert controls(rows)[1] == FAILED and verdict == INCONCLUSIVE


def test_anchor_verdict_within_a_band_and_recovery_share():
    assert a1.verdict_within(0.92, 0.95, 0.91, 0.97) == "supported"
    assert a1.verdict_within(0.85, 0.89, 0.91, 0.97) == "refuted"
    assert a1.verdict_within(0.89, 0.93, 0.91, 0.97) == "inconclusive"
    assert a1.recovery(np.array([0.9]), np.array([0.5]), np.array([0.9])) == pytest.approx(1.0)
    assert a1.recovery(np.array([0.6]), np.array([0.5]), np.array([0.9])) == pytest.approx(0.25)
    assert np.isnan(a1.recovery(np.array([0.9]), np.array([0.9]), np.array([0.905])))  # nothing was lost


def test_keys_are_typed_and_read_as_labels():
    for mod in (g7, g8, g9, h4, x1, remedies, a1):
        keys = list(mod.conditions(QUICK))
        assert all(not isinstance(k, str) and isinstance(k.label(), str) for k in keys), mod.ID
        assert len({k.label() for k in keys}) == len(keys), mod.ID


def test_a1_real_conditions_carry_each_datasets_model():
    from greedlab.claims import real_data
    from greedlab.worlds import RealConfig

    specs = a1.conditions(QUICK)
    real = {k: s for k, s in specs.items() if isinstance(getattr(s, "world", None), RealConfig)}
    assert {(k.dataset, k.rho) for k in real} == {(ds, rho) for ds in real_data.DATASETS for rho in a1.RHOS}
    for key, s in real.items():
        assert key.dataset == s.world.dataset and key.rho == s.world.rho and key.label().startswith(f"{key.dataset}: ")
        assert s.model == real_data.MODELS[s.world.dataset]


# -- end to end -------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("module", [g7, g8, g9, h4, x1, remedies, a1], ids=lambda m: m.ID)
def test_claims_run_end_to_end_from_the_smoke_store(smoke_store, tmp_path, module):
    """The smoke suite trained every claim and stored it; analysed again from the store: nothing
    retrained, the stored rows exactly, its figures, a negative and a positive control row."""
    from greedlab.claims.context import run_claim
    from greedlab.experiment import run
    from greedlab.store import Store

    with Store(smoke_store[0] / "g.duckdb") as st:
        n_runs = st.con.execute("select count(*) from runs").fetchone()[0]
        stored = st.con.execute("select condition, statistic, value from verdicts where claim = ? and scale = 'smoke' "
                                "and value is not null", [module.ID]).fetchall()
        res = run_claim(module, Context(SCALES["smoke"], tmp_path / "figures", lambda spec, label: run(spec, st)))
        assert st.con.execute("select count(*) from runs").fetchone()[0] == n_runs  # read back, not trained
    assert res.claim == module.ID and res.figures and all(Path(f).exists() for f in res.figures)
    ctrl = [r for r in res.rows if r.kind == "control"]
    assert {r.control for r in ctrl} == {"negative", "positive"} and all(r.verdict in (OK, FAILED) for r in ctrl)
    assert any(r.kind == "verdict" for r in res.rows)
    assert sorted((r.condition, r.statistic, r.value) for r in res.rows if r.value == r.value) == sorted(stored)
