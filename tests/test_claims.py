"""Claim statistics on synthetic curves with known answers."""

import numpy as np

from greedlab.claims import REGISTRY
from greedlab.claims.g2_gradual_world_model import level_onset_correlation
from greedlab.claims.g4_path_dependence import order_agreement
from greedlab.claims.h1_regime_map import regime
from greedlab.claims.h6_long_path import gain_decay, path
from greedlab.experiment import RunResult, RunSpec


def _run(steps, **curves):
    return RunResult("synthetic", RunSpec(), np.asarray(steps), {(k, ""): np.asarray(v, float) for k, v in curves.items()})


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


def test_regimes():
    assert regime(0.0, 0.01) == "converge" and regime(0.06, 0.2) == "split" and regime(0.01, 0.1) == "unclear"


def test_h6_path_and_gain_decay_on_a_saturating_curve():
    steps = np.array([0, 10, 20, 40, 80, 160])
    r = _run(steps, train_acc=[[0.5, 0.9, 0.95, 1, 1, 1]], deploy_acc=[[0.5, 0.5, 0.8, 0.95, 0.99, 1.0]])
    seeds, start, done = path(r, 0.9)
    assert start.tolist() == [10] and done.tolist() == [80]
    assert gain_decay(r, seeds, start, done)[0] < 1    # fast early gains, slow late ones
    mixed = _run(steps, train_acc=[[0.5] * 6, [0.5, 0.9, 0.95, 1, 1, 1]],
                 deploy_acc=[[0.5] * 6, [0.5, 0.5, 0.8, 0.95, 0.99, 1.0]])
    seeds, start, done = path(mixed, 0.9)               # the first seed never fits even the proxy
    assert seeds.tolist() == [1] and gain_decay(mixed, seeds, start, done)[0] < 1
