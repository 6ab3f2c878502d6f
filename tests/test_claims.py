"""Claim statistics on synthetic curves with known answers."""

import numpy as np

from greedlab.claims import REGISTRY
from greedlab.claims.g2_gradual_world_model import level_onset_correlation
from greedlab.claims.g4_path_dependence import order_agreement
from greedlab.experiment import RunResult, RunSpec


def test_every_claim_reads_like_its_row():
    for cid, mod in REGISTRY.items():
        assert mod.ID == cid and mod.SUMMARY and mod.QUOTE and mod.SOURCE and mod.__doc__
        assert callable(mod.conditions) and callable(mod.run)


def test_order_agreement_is_one_for_equal_orders_and_minus_one_for_reversed():
    same = np.array([[0, 10, 100, 1000, 2000]] * 3, float)
    np.testing.assert_allclose(order_agreement(same), 1.0)
    flipped = np.array([[0, 10, 100, 1000, 2000], [2000, 1000, 100, 10, 0]], float)
    np.testing.assert_allclose(order_agreement(flipped), -1.0)


def test_level_onset_correlation_sees_an_ordering_and_ties_give_zero():
    np.testing.assert_allclose(level_onset_correlation([1, 2, 3, 4], np.array([[0, 10, 100, 200.0]])), 1.0)
    np.testing.assert_allclose(level_onset_correlation([1, 2, 3, 4], np.array([[5, 5, 5, 5.0]])), 0.0)


def _run2(steps, curves):
    return RunResult("synthetic", RunSpec(), np.asarray(steps), {k: np.asarray(v, float) for k, v in curves.items()})


def test_commands_hold_the_target_and_hold_out_eight_unseen_sets():
    from greedlab.claims import setups

    train, held = setups.commands()
    assert setups.TARGET in train and len(held) == setups.N_HELDOUT
    assert not set(train) & set(held) and len(train) + len(held) == 8 + 28


def test_attribution_windows_and_head_share_fall():
    from greedlab.claims import setups
    from greedlab.claims.g6_capability_over_objective import head_shares
    from greedlab.claims.h2_diminishing_returns import _decay

    steps = [0, 10, 20, 40, 80]
    # per-step rates over each window (steps[k-1], steps[k]]: the head dominates until the proxy fits
    # at step 20, the trunk after
    r = _run2(steps, {("loss_decrease", "head"): [[np.nan, 3, 3, 0.5, 0.1]],
                      ("loss_decrease", "trunk"): [[np.nan, 1, 1, 1, 1]],
                      ("reliance", "proxy0"): [[0, 0.2, 0.6, 0.7, 0.3]]})
    tot = setups.windows(r, np.array([0]), np.array([20]))
    assert tot["head"][0] == 60 and tot["trunk"][0] == 20
    before, after = head_shares(r)
    assert before[0] == 0.75 and after[0] < 0.4
    # head returns fall 10×, trunk returns stay: decay difference −1
    x = np.array([[1.0, 0.1, 1.0, 1.0]] * 3)
    assert np.isclose(_decay(x), -1.0)
    assert np.isnan(_decay(np.array([[1.0, -0.1, 1.0, 1.0]])))


def test_gating_of_runs_and_gps_accuracy_at_the_end_of_the_command_stage():
    from greedlab.claims.g5_gps_pointed_at_heuristics import gps_accuracy
    from greedlab.claims.g10_oversight_gating import gating

    r = _run2([0, 10, 20, 30], {("reliance@overseen", "target"): [[0, 0, 0, 0.9], [0, 0, 0, 0.9], [0, 0, 0, 0.1]],
                                ("reliance@unobserved", "target"): [[0, 0, 0, 0.9], [0, 0, 0, 0.0], [0, 0, 0, 0]],
                                ("stage", ""): [[0, 1, 1, 2]] * 3,
                                ("command_acc", "heldout"): [[0.5, 0.7, 0.95, 0.6]] * 3})
    g = gating(r)
    assert np.isclose(g[0], 0) and np.isclose(g[1], 1) and np.isnan(g[2])
    assert np.allclose(gps_accuracy(r), 0.95)


def _ctx(scale="smoke", overrides=None):
    from pathlib import Path

    from greedlab.claims.common import get_scale
    from greedlab.claims.context import Context
    return Context(get_scale(scale), Path("."), None, overrides or {})


def test_claims_carry_their_real_data_conditions_with_the_datasets_models():
    from greedlab.claims import real_data
    from greedlab.worlds import RealConfig

    for cid in ("G1", "G3", "G4"):  # H5's: tests/test_claims_h.py; A1's: tests/test_claims_remedies.py
        specs = REGISTRY[cid].conditions(_ctx())
        real = {k: s for k, s in specs.items() if isinstance(getattr(s, "world", None), RealConfig)}
        assert real, cid
        for name, s in real.items():
            assert name.startswith(f"{s.world.dataset}: "), name
            assert s.model == real_data.MODELS[s.world.dataset]
    g1 = REGISTRY["G1"].conditions(_ctx())
    for ds in real_data.DATASETS:       # every real condition has its own control at chance level
        assert g1[f"{ds}: control rho=0.5"].world.rho == 0.5 and g1[f"{ds}: rho=0.9"].world.rho == 0.9


def test_real_data_runs_take_train_overrides_only():
    from greedlab.claims import real_data

    ctx = _ctx(overrides={"world": {"noise": 0.8}, "model": {"width": 24},
                          "train": {"optimizer": "sgd", "pragmascope": 1.0}})
    s = real_data.spec(ctx, "mnist1d", 0.9)
    assert s.train.optimizer == "sgd" and s.train.lr == real_data.LR and s.model == real_data.MODELS["mnist1d"]
    assert s.train.pragmascope == 0.0  # defined on a hierarchy world's pixels only
    hier = ctx.spec(REGISTRY["G1"].world(0.9))
    assert hier.world.noise == 0.8 and hier.model.width == 24 and hier.train.pragmascope == 1.0
    runs = {"rho=0.9": 1, "digits: rho=0.9": 2, "mnist1d: control rho=0.5": 3}
    h, real = real_data.split(runs)
    assert h == {"rho=0.9": 1} and real == {"mnist1d": {"control rho=0.5": 3}, "digits": {"rho=0.9": 2}}
