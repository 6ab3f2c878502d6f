"""The model-class claims (G5, G6, G10, H2, H7) on synthetic results: each claim's pure ``analyse``
fed curves chosen by hand. Every control is shown to fail when its condition is made to show the
effect (negative) or to lack it (positive), turning the verdict inconclusive; clean inputs give the
rule's verdict and number. Nothing trains here but the end-to-end test, which reads the shared smoke
store."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from fakes import fake_run, noisy, ramp

from greedlab.claims import g5_gps_pointed_at_heuristics as g5
from greedlab.claims import g6_capability_over_objective as g6
from greedlab.claims import g10_oversight_gating as g10
from greedlab.claims import h2_diminishing_returns as h2
from greedlab.claims import h7_pointer_sooner as h7
from greedlab.claims import setups
from greedlab.claims.common import INCONCLUSIVE, REFUTED, SCALES, SUPPORTED
from greedlab.claims.context import Context
from greedlab.claims.setups import HEAD_FROZEN, MAIN, NO_PROXY, Attribution
from greedlab.experiment import RunResult, RunSpec

QUICK = Context(SCALES["quick"], Path("."), None)
STEPS = np.array([0, 10, 20, 40, 80, 160, 320, 640, 1000, 1500])
OK, FAILED = "control ok", "control FAILED"


def _row(rows, condition: str, kind: str = "verdict"):
    hits = [r for r in rows if r.condition == condition and r.kind == kind]
    assert len(hits) == 1, (condition, kind, [(r.condition, r.kind) for r in rows])
    return hits[0]


def _jitter(shape, sd: float, seed: int) -> np.ndarray:
    return 1 + sd * np.random.default_rng(seed).standard_normal(shape)


# -- G6 and H2: attribution runs ---------------------------------------------------------------------

def _rates(profile: dict[tuple[float, float], tuple[float, float]]):
    """Per-step (head, trunk) rates over step ranges (lo, hi]: {(lo, hi): (head, trunk)}."""
    def rate(which: int):
        def f(s):
            out = np.zeros(s.shape)
            for (lo, hi), v in profile.items():
                out = np.where((s > lo) & (s <= hi), v[which], out)
            return out
        return f
    return rate(0), rate(1)


# the main arm's clean profile: the head's share falls after the proxy fits at 20 (G6), and its returns
# decay 4 decades against the trunk's 1 (H2)
GREEDY = {(0, 20): (3, 1), (20, 80): (1, 1), (80, 640): (0.01, 0.5), (640, 1500): (1e-4, 0.1)}
# the reverse: the head's share rises after the fit, its returns decay 1 decade against the trunk's 4
REVERSED = {(0, 20): (1, 3), (20, 80): (1, 1), (80, 640): (0.5, 0.01), (640, 1500): (0.1, 1e-4)}
# nothing happens at the fit: the head earns a fixed quarter of every window, both decay alike
EVEN = {(0, 20): (1, 3), (20, 80): (1, 3), (80, 640): (0.1, 0.3), (640, 1500): (0.01, 0.03)}
# the head stops at step 60 (trained by hand for the first steps only), the trunk goes on
FROZEN = {(0, 20): (3, 1), (20, 60): (1, 1), (60, 80): (0, 1), (80, 640): (0, 0.5), (640, 1500): (0, 0.1)}


def attribution_run(spec: RunSpec, profile, fit_at: float | None = 20, seed: int = 0,
                    noise: float | dict = 1.0, same_batch: float = 1e-4) -> RunResult:
    """Rates from ``profile`` (each seed and evaluation jittered by 0.2%), the proxy fit at ``fit_at``
    (None: never), a per-step noise SD of ``noise`` times the step's total rate (a dict {(lo, hi):
    multiple} for ranges of steps; 1 leaves every window of the profiles of more than 4 steps above
    its floor of 2 SE, 2·√w·rate against w·rate), the step's own batch reading ``same_batch`` more
    per step, and a training loss that falls by the attributed decrease."""
    head, trunk = _rates(profile)
    n, t = spec.n_models, len(STEPS)
    s = np.broadcast_to(STEPS, (n, t)).astype(float)
    h = head(s) * _jitter((n, t), 0.002, seed)
    tr = trunk(s) * _jitter((n, t), 0.002, seed + 1)
    h[:, 0] = tr[:, 0] = np.nan  # no window before the first evaluation
    sd = np.ones((n, t))
    for (lo, hi), f in (noise.items() if isinstance(noise, dict) else [((-1, 1e9), noise)]):
        sd = np.where((s > lo) & (s <= hi), f, sd)
    width = np.diff(STEPS, prepend=0)
    loss = 1.0 - np.cumsum(np.nan_to_num(h + tr) * width, axis=1) * 1e-3
    proxy = np.zeros((n, t)) if fit_at is None else ramp(0.0, 0.8, fit_at - 1)(s)
    # the loss's scale is arbitrary: the attributed rates are scaled alike
    return fake_run(spec, STEPS, {("loss_decrease", "head"): h * 1e-3, ("loss_decrease", "trunk"): tr * 1e-3,
                                  ("loss_decrease_var", "total"): (sd * (h + tr) * 1e-3) ** 2,
                                  ("loss_decrease_same_batch", "total"): (h + tr) * 1e-3 + same_batch,
                                  ("train_loss", ""): loss, ("reliance", "proxy0"): proxy})


def attribution_runs(main=GREEDY, neg=EVEN, pos=FROZEN, archs=setups.ATTRIBUTION_ARCHS,
                     **kw) -> dict[Attribution, RunResult]:
    """G6/H2's runs with the given profiles (``kw`` goes to the main arm's ``attribution_run``). H2's
    tests take the MLP alone: its interval, a world bootstrap-t of a ratio of means, costs seconds."""
    specs = setups.attribution_conditions(QUICK)
    profiles = {MAIN: main, NO_PROXY: neg, HEAD_FROZEN: pos}
    return {k: attribution_run(spec, profiles[k.arm], fit_at=None if k.arm == NO_PROXY else 20,
                               seed=10 * setups.ATTRIBUTION_ARMS.index(k.arm) + len(k.arch),
                               **(kw if k.arm == MAIN else {}))
            for k, spec in specs.items() if k.arch in archs}


def test_attribution_conditions_share_runs_and_size_the_controls():
    specs = setups.attribution_conditions(QUICK)
    assert g6.conditions(QUICK) == h2.conditions(QUICK) == specs  # one set of runs, trained once
    mlp = {k.arm: s for k, s in specs.items() if k.arch == "mlp"}
    assert mlp[MAIN].n_models == 16 and mlp[NO_PROXY].n_models == mlp[HEAD_FROZEN].n_models == 8
    # the half-size controls and the transformer's arms: two seeds to a world, so a mean has an interval
    assert len(set(mlp[NO_PROXY].member_worlds)) == 4 and mlp[MAIN].member_worlds == tuple(m // 2 for m in range(16))
    assert len(set(specs[Attribution("transformer", MAIN)].member_worlds)) == 4
    assert [st.trainable for st in mlp[HEAD_FROZEN].stages] == ["all", "trunk"]
    assert mlp[HEAD_FROZEN].stages[0].train.steps == 1500 // setups.HEAD_TRAINED_FOR
    assert mlp[NO_PROXY].world.proxies[0].rho == 0.5 and all(s.attribute for s in specs.values())
    assert Attribution("mlp", MAIN).label() == "mlp: rho 0.9"


def test_g6_clean_inputs_support_the_claim_with_the_measured_fall():
    rows, verdict = g6.analyse(attribution_runs())
    assert verdict == SUPPORTED
    row = _row(rows, "mlp: rho 0.9")
    assert row.verdict == SUPPORTED and row.value == pytest.approx(65.686 / (65.686 + 426.0) - 0.75, abs=0.01)
    assert [r.verdict for r in rows if r.kind == "control"] == [OK, OK] * 2


def test_g6_reversed_inputs_refute_it_when_the_positive_control_passed():
    rows, verdict = g6.analyse(attribution_runs(main=REVERSED))
    assert verdict == REFUTED and _row(rows, "mlp: rho 0.9").value == pytest.approx(0.62, abs=0.01)


def test_g6_negative_control_fails_when_the_share_falls_without_a_proxy():
    rows, verdict = g6.analyse(attribution_runs(neg=GREEDY))
    assert _row(rows, "mlp: control: rho 0.5, no proxy", "control").verdict == FAILED
    assert _row(rows, "mlp: control: rho 0.5, no proxy", "control").value < -0.5
    assert verdict == INCONCLUSIVE


def test_g6_positive_control_fails_when_the_frozen_head_shows_nothing_and_blocks_a_refutation():
    rows, verdict = g6.analyse(attribution_runs(main=REVERSED, pos=EVEN))
    assert _row(rows, "mlp: control: head frozen early", "control").verdict == FAILED
    assert verdict == INCONCLUSIVE  # the same main arm is refuted when the positive control passes (above)


def test_g6_a_window_below_its_noise_floor_gives_no_verdict():
    # per-step noise 10 times the decrease: the before-fit window (20 steps) reads 20·r against a floor
    # of 2·√20·10·r ≈ 89·r
    rows, verdict = g6.analyse(attribution_runs(noise=10.0))
    row = _row(rows, "mlp: rho 0.9")
    assert row.verdict == INCONCLUSIVE and "noise floor" in row.statistic and verdict == INCONCLUSIVE
    assert row.value == pytest.approx(65.686 / (65.686 + 426.0) - 0.75, abs=0.01)  # the number is still shown
    floor = [r for r in rows if r.condition == "mlp: rho 0.9" and "noise floor" in r.statistic
             and r.kind == "measurement"]
    assert len(floor) == 2 and floor[0].value == pytest.approx(0.08, rel=0.01)  # 20 steps at 4e-3
    assert "noise floor 0.358" in floor[0].statistic  # 2·√20·10·4e-3 = 0.358


def test_h2_clean_inputs_support_the_claim_with_the_decay_difference():
    rows, verdict = h2.analyse(attribution_runs(archs=("mlp",)))
    assert verdict == SUPPORTED
    assert _row(rows, "mlp: rho 0.9").value == pytest.approx(-3.0, abs=0.05)  # head 4 decades, trunk 1
    assert [r.verdict for r in rows if r.kind == "control"] == [OK, OK]
    # a frozen head's late return is exactly 0: read as FLOOR_DECADES, not as no returns
    late_trunk = np.log10(0.1 * 860 / 750)  # evaluations 1000 and 1500 cover 860 steps of the 750-step window
    assert _row(rows, "mlp: control: head frozen early", "control").value == pytest.approx(
        -h2.FLOOR_DECADES - late_trunk, abs=0.02)


def test_h2_reversed_inputs_refute_it():
    rows, verdict = h2.analyse(attribution_runs(main=REVERSED, archs=("mlp",)))
    assert verdict == REFUTED and _row(rows, "mlp: rho 0.9").value == pytest.approx(3.0, abs=0.05)


def test_h2_negative_control_fails_when_the_head_decays_faster_without_a_proxy():
    rows, verdict = h2.analyse(attribution_runs(neg=GREEDY, archs=("mlp",)))
    ctrl = _row(rows, "mlp: control: rho 0.5, no proxy", "control")
    assert ctrl.verdict == FAILED and ctrl.value == pytest.approx(-3.0, abs=0.05) and verdict == INCONCLUSIVE


def test_h2_positive_control_fails_without_the_frozen_head_and_blocks_a_refutation():
    rows, verdict = h2.analyse(attribution_runs(main=REVERSED, pos=EVEN, archs=("mlp",)))
    assert _row(rows, "mlp: control: head frozen early", "control").verdict == FAILED
    assert verdict == INCONCLUSIVE


def test_h2_late_window_below_its_noise_floor_gives_no_verdict_while_g6_keeps_its_own():
    runs = attribution_runs(noise={(640, 1500): 30.0}, archs=("mlp",))  # late on, noise 30 times the decrease
    rows, verdict = h2.analyse(runs)
    assert _row(rows, "mlp: rho 0.9").verdict == INCONCLUSIVE and verdict == INCONCLUSIVE
    assert _row(rows, "mlp: rho 0.9").value == pytest.approx(-3.0, abs=0.05)  # the number is still shown
    assert g6.analyse(runs)[1] == SUPPORTED  # its after-fit window is dominated by early returns


def test_attribution_windows_and_head_share_fall():
    steps = [0, 10, 20, 40, 80]
    # per-step rates over each window (steps[k-1], steps[k]]: the head dominates until the proxy fits
    # at step 20, the trunk after
    r = RunResult("synthetic", RunSpec(init_seeds=(0,), data_seeds=(1,)), np.asarray(steps),
                  {("loss_decrease", "head"): np.array([[np.nan, 3, 3, 0.5, 0.1]]),
                   ("loss_decrease", "trunk"): np.array([[np.nan, 1, 1, 1, 1]]),
                   ("loss_decrease_var", "total"): np.array([[np.nan, 4, 1, 1, 1]]),
                   ("reliance", "proxy0"): np.array([[0, 0.2, 0.6, 0.7, 0.3]]),
                   ("train_loss", ""): np.array([[1.0, 0.96, 0.9, 0.9, 0.9]])})
    tot = setups.windows(r, np.array([0]), np.array([20]))
    assert tot["head"][0] == 60 and tot["trunk"][0] == 20
    signal, floor = setups.noise_floor(r, np.array([0]), np.array([20]))
    # the window's steps' noise variances add up: 10·4 + 10·1 = 50, a floor of 2·√50
    assert signal[0] == pytest.approx(80) and floor[0] == pytest.approx(2 * np.sqrt(50))
    before, after = g6.head_shares(r)
    assert before[0] == 0.75 and after[0] < 0.4
    # head returns fall 10×, trunk returns stay: decay difference −1; a return that vanished reads as
    # the floor, a negative one has no returns
    assert np.isclose(h2._decay(np.array([[1.0, 0.1, 1.0, 1.0]] * 3)), -1.0)
    assert np.isclose(h2._decay(np.array([[1.0, 0.0, 1.0, 1.0]])), -h2.FLOOR_DECADES)
    assert np.isnan(h2._decay(np.array([[1.0, -0.1, 1.0, 1.0]])))


# -- G5 -------------------------------------------------------------------------------------------------

def _stage_curve(spec: RunSpec, t: int) -> np.ndarray:
    """A curriculum's stage index at each of t evaluations, the stages in equal blocks."""
    return np.floor(np.arange(t) * len(spec.stages) / t)


def g5_runs(first=0.4, none=0.05, irrelevant=0.05, kept=0.7, gps=0.95) -> dict:
    out = {}
    finals = {g5.FIRST: first, g5.NONE: none, g5.IRRELEVANT_FIRST: irrelevant, g5.KEPT: kept}
    for k, spec in g5.conditions(QUICK).items():
        seed = g5.ARMS.index(k.arm) + 10 * g5.ARCHS.index(k.arch)
        out[k] = fake_run(spec, STEPS, {("reliance", "proxy0"): noisy(ramp(0.0, finals[k.arm], 500), 0.02, seed),
                                        ("reliance", "target"): noisy(0.9, 0.02, seed + 100),
                                        ("stage", ""): _stage_curve(spec, len(STEPS)),
                                        ("command_acc", "heldout"): noisy(gps, 0.01, seed + 200)})
    return out


def _first_half_of(control: RunSpec, main: RunSpec) -> bool:
    n = control.n_models
    return (control.init_seeds, control.data_seeds, control.member_worlds) == (
        main.init_seeds[:n], main.data_seeds[:n], main.member_worlds[:n])


def test_g5_conditions_pair_every_arm_and_measure_the_kept_heuristic_on_the_base_world():
    specs = g5.conditions(QUICK)
    mlp = {k.arm: s for k, s in specs.items() if k.arch == "mlp"}
    assert mlp[g5.FIRST].n_models == mlp[g5.NONE].n_models == 16 and mlp[g5.KEPT].n_models == 8
    assert all(_first_half_of(s, mlp[g5.NONE]) for s in mlp.values())  # paired: the same worlds and seeds
    assert specs[g5.Cond("transformer", g5.KEPT)].n_models == 8  # half of 8 would leave 2 worlds: all kept
    assert mlp[g5.KEPT].world == mlp[g5.FIRST].world and mlp[g5.KEPT].world.objective == "target"
    assert [st.name for st in mlp[g5.KEPT].stages] == ["proxy heuristics", g5.GPS_STAGE]
    irr = mlp[g5.IRRELEVANT_FIRST].stages[0].world
    assert irr.objective == "proxy" and irr.proxies[0].latents == (g5.IRRELEVANT,)
    assert mlp[g5.FIRST].stages[0].world.proxies[0].latents == setups.PROXY


def test_g5_clean_inputs_support_the_claim_with_the_paired_difference():
    runs = g5_runs()
    runs[g5.Cond("mlp", g5.NONE)] = runs[g5.Cond("mlp", g5.NONE)].without([3])  # a diverged seed leaves the pair
    rows, verdict = g5.analyse(runs)
    assert verdict == SUPPORTED
    row = _row(rows, "mlp: heuristics first − no proxy stage")
    assert row.verdict == SUPPORTED and row.value == pytest.approx(0.35, abs=0.02)
    ctrl = [r.verdict for r in rows if r.kind == "control"]
    assert ctrl == [OK] * len(ctrl) and len(ctrl) == 2 * 4  # two GPS checks and two controls per architecture


def test_g5_negative_control_fails_when_an_irrelevant_first_stage_raises_proxy_reliance():
    rows, verdict = g5.analyse(g5_runs(irrelevant=0.4))
    ctrl = _row(rows, "mlp: control: irrelevant heuristic first − no proxy stage", "control")
    assert ctrl.verdict == FAILED and ctrl.value == pytest.approx(0.35, abs=0.02) and verdict == INCONCLUSIVE


def test_g5_positive_control_fails_when_the_kept_heuristic_is_not_seen_and_blocks_a_refutation():
    assert g5.analyse(g5_runs(first=0.0, none=0.3, kept=0.9))[1] == REFUTED
    rows, verdict = g5.analyse(g5_runs(first=0.0, none=0.3, kept=0.3))
    assert _row(rows, "mlp: control: heuristics kept − no proxy stage", "control").verdict == FAILED
    assert verdict == INCONCLUSIVE


def test_g5_without_the_gps_is_inconclusive():
    rows, verdict = g5.analyse(g5_runs(gps=0.6))
    assert verdict == INCONCLUSIVE
    assert _row(rows, "mlp: heuristics first", "control").verdict == FAILED


def test_gps_accuracy_is_read_at_the_end_of_the_command_stage():
    spec = g5.conditions(QUICK)[g5.Cond("mlp", g5.FIRST)]
    r = fake_run(spec, [0, 10, 20, 30, 40, 50], {("stage", ""): [0, 0, 1, 1, 2, 2],
                                                  ("command_acc", "heldout"): [0.5, 0.5, 0.7, 0.95, 0.6, 0.6]})
    assert np.allclose(g5.gps_accuracy(r), 0.95)


# -- G10 ------------------------------------------------------------------------------------------------

def g10_runs(aware=0.1, from_proxy=0.9, scratch=0.88, gated=0.05, gated_before=0.05) -> dict:
    """Final target reliance when not overseen per arm (0.9 when overseen everywhere)."""
    off = {g10.AWARE: aware, g10.FROM_PROXY: from_proxy, g10.SCRATCH: scratch, g10.GATED_FIRST: gated}
    out = {}
    for k, spec in g10.conditions(QUICK).items():
        seed = g10.ARMS.index(k.arm) + 10 * list(setups.architectures(QUICK)).index(k.arch)
        stage = _stage_curve(spec, len(STEPS)) if spec.stages and len(spec.stages) > 1 else np.zeros(len(STEPS))
        start = gated_before if k.arm == g10.GATED_FIRST else off[k.arm]
        unobserved = noisy(lambda s, a=start, b=off[k.arm]: np.where(s >= 1000, b, a), 0.01, seed)
        out[k] = fake_run(spec, STEPS, {("reliance@overseen", "target"): noisy(0.9, 0.01, seed + 100),
                                        ("reliance@unobserved", "target"): unobserved, ("stage", ""): stage})
    return out


def test_g10_conditions_end_alike_and_plant_the_gate_in_the_positive_control():
    specs = g10.conditions(QUICK)
    mlp = {k.arm: s for k, s in specs.items() if k.arch == "mlp"}
    assert len({s.stages[-1] for s in mlp.values()}) == 1  # every arm ends with the same oversight-only stage
    assert mlp[g10.SCRATCH].stages[-1].world.overseen_only and len(mlp[g10.SCRATCH].stages) == 1
    assert mlp[g10.GATED_FIRST].stages[0].world.objective == "gated"
    assert mlp[g10.SCRATCH].n_models == 8 and mlp[g10.AWARE].n_models == 16
    assert not any(setups.CUE in st.world.hidden for s in specs.values() for st in s.stages)


def test_g10_clean_inputs_support_the_claim_with_the_gating_index():
    rows, verdict = g10.analyse(g10_runs())
    assert verdict == SUPPORTED
    row = _row(rows, "mlp: situationally aware")
    assert row.verdict == SUPPORTED and row.value == pytest.approx(1 - 0.1 / 0.9, abs=0.02)
    assert [r.verdict for r in rows if r.kind == "control"] == [OK, OK] * 3
    assert _row(rows, "mlp: from proxy", "measurement").value == pytest.approx(0.0, abs=0.02)


def test_g10_negative_control_fails_when_oversight_only_training_alone_reads_gated():
    rows, verdict = g10.analyse(g10_runs(scratch=0.1))
    ctrl = _row(rows, "mlp: control: oversight-only from scratch", "control")
    assert ctrl.verdict == FAILED and ctrl.value == pytest.approx(0.889, abs=0.02) and verdict == INCONCLUSIVE


def test_g10_refutation_needs_the_planted_gate_to_survive_the_last_stage():
    assert g10.analyse(g10_runs(aware=0.9))[1] == REFUTED
    rows, verdict = g10.analyse(g10_runs(aware=0.9, gated=0.9))  # the last stage erased the planted gate
    assert _row(rows, "mlp: control: gated first", "control").verdict == FAILED and verdict == INCONCLUSIVE
    before = [r for r in rows if r.condition == "mlp: control: gated first" and r.kind == "measurement"]
    assert before[0].value == pytest.approx(1 - 0.05 / 0.9, abs=0.02)  # it was gated before that stage


def test_gating_index_of_runs_and_undefined_seeds():
    spec = g10.conditions(QUICK)[g10.Cond("mlp", g10.SCRATCH)]
    on = np.array([[0.9], [0.9], [0.1]] + [[0.9]] * 5)
    off = np.array([[0.9], [0.0], [0.0]] + [[0.9]] * 5)
    r = fake_run(spec, [0], {("reliance@overseen", "target"): on, ("reliance@unobserved", "target"): off})
    g = g10.gating(r)
    assert np.isclose(g[0], 0) and np.isclose(g[1], 1) and np.isnan(g[2])


# -- H7 -------------------------------------------------------------------------------------------------

PRE = 1500  # stage 1's steps at the quick scale: stage 2 starts there
FINE = np.arange(0, PRE + 751, 5)  # an evaluation every 5 steps: leads vary smoothly, not in grid-sized jumps


def _reach(at: np.ndarray, high: float = 0.95):
    """Accuracy 0.5 until each seed's stage-2 step ``at`` (inf: never), ``high`` from there."""
    return lambda s: np.where(s - PRE >= np.asarray(at, float)[:, None], high, 0.5)


def h7_runs(internal=80, pointer=20, neg_internal=80, neg_pointer=80, ready=0, decodable=0.98,
            decodable_internal=None) -> dict:
    """Each arm's seeds reach 0.9 at the given stage-2 step times a per-seed factor within ×1.6 (drawn);
    where the negative control's pointer starts with its internal arm, it repeats its seeds' steps within
    ±10%. The target is decodable at ``decodable`` from the start of stage 2 in every arm (the internal
    arm's reading, with no command shown, at ``decodable_internal`` if given)."""
    at = {h7.INTERNAL: internal, h7.POINTER: pointer, h7.NEG_INTERNAL: neg_internal, h7.NEG_POINTER: neg_pointer,
          h7.READY: ready}
    out = {}
    for k, spec in h7.conditions(QUICK).items():
        n = spec.n_models
        factor = np.random.default_rng(h7.ARMS.index(k.arm)).uniform(1, 1.6, n)
        if k.arm == h7.NEG_POINTER and neg_pointer == neg_internal:
            same = np.random.default_rng(h7.ARMS.index(h7.NEG_INTERNAL)).uniform(1, 1.6, n)
            factor = same * np.random.default_rng(7).uniform(0.9, 1.1, n)
        step = at[k.arm]
        t = np.minimum(np.round(step * factor / 5) * 5, 750) if np.isfinite(step) else np.full(n, np.inf)
        dec = decodable_internal if k.arm == h7.INTERNAL and decodable_internal is not None else decodable
        out[k] = fake_run(spec, FINE, {("deploy_acc", ""): _reach(t), ("decodability:h1", "target"): 0.6,
                                       ("decodability:h2", "target"): dec})
    return out


def test_h7_conditions_share_pretraining_and_differ_in_stage_two_only_by_the_command_shown():
    specs = h7.conditions(QUICK)
    mlp = {k.arm: s for k, s in specs.items() if k.arch == "mlp"}
    assert all(_first_half_of(s, mlp[h7.INTERNAL]) for s in mlp.values())  # paired: the same worlds and seeds
    assert mlp[h7.POINTER].n_models == 16 and mlp[h7.READY].n_models == mlp[h7.NEG_POINTER].n_models == 8
    assert specs[h7.Cond("transformer", h7.READY)].n_models == 8  # half of 8 would leave 2 worlds: all kept
    internal, pointer = mlp[h7.INTERNAL].stages, mlp[h7.POINTER].stages
    assert internal[0] == pointer[0] and internal[0].train.steps == 1500 and internal[1].train.steps == 750
    pre = internal[0].world
    assert pre.objective == "command" and setups.TARGET not in pre.commands and setups.TARGET in pre.heldout_commands
    assert setups.TARGET in mlp[h7.READY].stages[0].world.commands  # the positive control's pointer is trained
    neg = mlp[h7.NEG_POINTER].stages[0].world
    assert neg.objective == "effects" and setups.TARGET in neg.effects  # represented, never commanded
    assert mlp[h7.NEG_INTERNAL].stages[0] == mlp[h7.NEG_POINTER].stages[0]
    assert internal[1].world.objective == "target" and pointer[1].world.objective == "command"
    assert replace(pointer[1].world, objective="target") == internal[1].world


def test_h7_stage_two_worlds_show_the_same_samples_and_labels_but_the_command():
    """The arms' equal exposure: every training and deployment sample of the two stage-2 worlds has the
    same latents, pixels and label χ_{01}; only the command pixels differ ({0, 1} against none)."""
    from greedlab.worlds import make_world
    from greedlab.worlds.hierarchy import chi

    wi, wp = (make_world(replace(h7.objective_world(arm), seed=3)) for arm in (h7.INTERNAL, h7.POINTER))
    K = wi.config.n_latents
    for split in ("train", "deploy"):
        bi, bp = wi.sample(split, 0, 512), wp.sample(split, 0, 512)
        assert torch.equal(bi.a, bp.a) and torch.equal(bi.y, bp.y) and torch.equal(bi.x[:, :-K], bp.x[:, :-K])
        assert torch.equal(bp.y, chi(bp.a, setups.TARGET))
        assert float(bi.x[:, -K:].abs().sum()) == 0 and (bp.x[:, -K:] == torch.tensor([1.0, 1] + [0] * (K - 2))).all()


def test_h7_clean_inputs_support_the_claim_with_the_paired_lead():
    rows, verdict = h7.analyse(h7_runs())
    assert verdict == SUPPORTED
    row = _row(rows, "mlp")
    # the pointer's seeds reach 0.9 four times sooner (20 against 80, each times ×1–1.6)
    assert row.verdict == SUPPORTED and row.value == pytest.approx(np.log10(4), abs=0.03)
    assert [r.verdict for r in rows if r.kind == "control"] == [OK] * 8
    # the planted lead: the ready pointer is there at stage 2's start, the internal arm ~100 steps in
    assert _row(rows, f"mlp: {h7.READY} vs {h7.INTERNAL}", "control").value > 1.8
    zero_shot = [r for r in rows if r.condition == "mlp: pointer" and "zero-shot" in r.statistic]
    assert len(zero_shot) == 1 and zero_shot[0].value == pytest.approx(0.5)


def test_h7_negative_control_fails_when_a_pointer_with_nothing_to_point_at_leads():
    rows, verdict = h7.analyse(h7_runs(neg_pointer=20))
    ctrl = _row(rows, f"mlp: {h7.NEG_POINTER} vs {h7.NEG_INTERNAL}", "control")
    assert ctrl.verdict == FAILED and ctrl.value > h7.MARGIN and verdict == INCONCLUSIVE


def test_h7_positive_control_fails_when_the_ready_pointer_shows_no_lead():
    assert h7.analyse(h7_runs(pointer=1000))[1] == REFUTED  # never reached: censored, far behind
    rows, verdict = h7.analyse(h7_runs(pointer=1000, ready=80))
    ctrl = _row(rows, f"mlp: {h7.READY} vs {h7.INTERNAL}", "control")
    assert ctrl.verdict == FAILED and abs(ctrl.value) < h7.MARGIN and verdict == INCONCLUSIVE


def test_h7_premise_fails_when_the_target_is_not_represented_after_pretraining():
    rows, verdict = h7.analyse(h7_runs(decodable=0.7))
    premise = [r for r in rows if r.kind == "control" and "decodability" in r.statistic and r.condition[:3] == "mlp"]
    assert [r.verdict for r in premise] == [FAILED] * 2 and premise[0].value == pytest.approx(0.7)
    assert _row(rows, "mlp").verdict == INCONCLUSIVE and verdict == INCONCLUSIVE  # the lead alone would support
    # represented only where {0, 1} is shown: the internal arm would have to build what the pointer points at
    rows, verdict = h7.analyse(h7_runs(decodable_internal=0.85))
    premise = [r for r in rows if r.kind == "control" and "decodability" in r.statistic and r.condition[:3] == "mlp"]
    assert [r.verdict for r in premise] == [FAILED, OK] and premise[0].value == pytest.approx(0.85)
    assert _row(rows, "mlp").verdict == INCONCLUSIVE and verdict == INCONCLUSIVE


# -- shared set-ups and the end-to-end run --------------------------------------------------------------

def test_commands_hold_the_target_and_hold_out_eight_unseen_sets():
    train, held = setups.commands()
    assert setups.TARGET in train and len(held) == setups.N_HELDOUT
    assert not set(train) & set(held) and len(train) + len(held) == 8 + 28


def test_claims_are_in_the_contract_with_typed_keys():
    for mod in (g5, g6, g10, h2, h7):
        assert all(hasattr(k, "label") and not isinstance(k, str) for k in mod.conditions(QUICK))
        assert not hasattr(mod, "run") and callable(mod.analyse) and callable(mod.figures)


@pytest.mark.parametrize("mod", [g5, g6, g10, h2, h7], ids=lambda m: m.ID)
def test_model_class_claims_run_end_to_end_from_the_smoke_store(mod, smoke_store, tmp_path):
    """The smoke suite (shared with the CLI tests) trained every condition; here each claim is run again
    from the store: nothing retrained, a negative and a positive control row per architecture, the
    stored rows exactly."""
    from greedlab.claims.common import get_scale
    from greedlab.claims.context import Context as Ctx
    from greedlab.claims.context import run_claim
    from greedlab.experiment import run
    from greedlab.store import Store

    with Store(smoke_store[0] / "g.duckdb") as st:
        n_runs = st.con.execute("select count(*) from runs").fetchone()[0]
        stored = st.con.execute("select condition, statistic, value from verdicts where claim = ? "
                                "and scale = 'smoke' and value is not null", [mod.ID]).fetchall()
        res = run_claim(mod, Ctx(get_scale("smoke"), tmp_path / "figures", lambda spec, label: run(spec, st)))
        assert st.con.execute("select count(*) from runs").fetchone()[0] == n_runs  # read back, not trained
    archs = {k.arch for k in mod.conditions(Ctx(get_scale("smoke"), tmp_path, None))}
    # the negative and positive control proper: not the rows that check a manipulation took (H7's premise)
    controls = [r for r in res.rows if r.kind == "control" and "command accuracy" not in r.statistic
                and "after pretraining" not in r.statistic]
    assert len(controls) == 2 * len(archs) and all(r.verdict in (OK, FAILED) for r in controls)
    assert all(Path(f).exists() for f in res.figures) and res.figures
    assert sorted((r.condition, r.statistic, r.value) for r in res.rows if r.value == r.value) == sorted(stored)


def test_the_floor_rule_is_sharp_and_a_control_below_its_floor_fails():
    # the before-fit window (0, 20] reads 20·r against a floor of 2·√20·k·r for per-step noise k·r:
    # above it while k < √20/2 ≈ 2.236, whatever r is
    assert g6.analyse(attribution_runs(noise=2.2, archs=("mlp",)))[1] == SUPPORTED
    rows, verdict = g6.analyse(attribution_runs(noise=2.3, archs=("mlp",)))
    assert verdict == INCONCLUSIVE and "not above its noise floor" in _row(rows, "mlp: rho 0.9").statistic
    # a clean negative control whose window drowns in noise cannot vouch for the instrument
    runs = attribution_runs(archs=("mlp",))
    key = Attribution("mlp", NO_PROXY)
    runs[key] = attribution_run(runs[key].spec, EVEN, fit_at=None, seed=11, noise={(0, 20): 30.0})
    rows, verdict = g6.analyse(runs)
    ctrl = _row(rows, "mlp: control: rho 0.5, no proxy", "control")
    assert ctrl.verdict == FAILED and ctrl.ci_low > -g6.MARGIN and "noise floor" in ctrl.statistic
    assert verdict == INCONCLUSIVE
