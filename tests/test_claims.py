"""Claim statistics on synthetic curves with known answers."""

import numpy as np

from greedlab.claims import REGISTRY
from greedlab.claims.g2_gradual_world_model import level_onset_correlation
from greedlab.claims.g4_path_dependence import order_agreement


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
