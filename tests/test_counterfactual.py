"""Counterfactual reliance and last-layer retraining against models built (or trained) to use the
marker only, the class signal only, or a head on the marker over a layer that also holds the class."""

import pytest
import torch

from greedlab.controls_real import class_only, marker_head_over_both, marker_only
from greedlab.instruments import EvalSet, counterfactual_effects, evaluate
from greedlab.models import MLPConfig
from greedlab.train import TrainConfig, train
from greedlab.worlds import RealConfig, RealWorld


@pytest.fixture(scope="module")
def world():
    return RealWorld(RealConfig(dataset="digits", rho=0.9))


@pytest.fixture(scope="module")
def ev(world):
    return EvalSet.build(world, train_set=world.train_set())


def _effects(model, params, world):
    base = world.sample("deploy", 0, 10_000)
    return counterfactual_effects(model, params, base, world.counterfactuals("deploy"))


def test_a_marker_only_model_reads_as_marker_reliant(world, ev):
    model, params = marker_only(world)
    cf = _effects(model, params, world)
    assert cf["counterfactual_flip", "flipped"].item() == 1.0          # every prediction follows the marker
    assert cf["counterfactual_acc", "aligned"].item() == 1.0
    assert cf["counterfactual_acc", "opposed"].item() == 0.0
    assert cf["counterfactual_acc", "class_destroyed"].item() == 1.0   # the class signal does not matter
    assert abs(cf["counterfactual_acc", "random"].item() - 0.5) < 0.07  # marker random: chance
    out = evaluate(model, params, ev)
    assert out["reliance", "proxy0"].item() > 0.9 and abs(out["reliance", "target"].item()) < 0.01


def test_a_class_only_model_does_not_read_as_marker_reliant(world, ev):
    model, params = class_only(world)
    cf = _effects(model, params, world)
    for kind in ("flipped", "removed", "aligned", "opposed"):
        assert cf["counterfactual_flip", kind].item() == 0.0, kind      # the marker changes nothing
    acc = cf["counterfactual_acc", "random"].item()
    assert acc > 0.85                                                    # a linear read of the digit group
    assert cf["counterfactual_acc", "aligned"].item() == acc == cf["counterfactual_acc", "opposed"].item()
    assert abs(cf["counterfactual_acc", "class_destroyed"].item() - 0.5) < 0.1  # class gone: chance
    out = evaluate(model, params, ev)
    assert out["reliance", "target"].item() > 0.6 and out["reliance", "proxy0"].abs().item() < 1e-6


def test_a_model_trained_with_a_perfect_marker_reads_as_marker_reliant():
    """Shah et al.'s pitfall on a tiny trained model: with the marker fully predictive, randomizing it
    sends accuracy to chance and destroying the class signal changes nothing."""
    w = RealWorld(RealConfig(dataset="digits", rho=1.0))
    model = MLPConfig(width=32, depth=1)
    params = train(w, model, TrainConfig(steps=150, lr=1e-2), [0, 1], [2, 3])
    cf = _effects(model, params, w)
    assert torch.all(cf["counterfactual_acc", "aligned"] > 0.99)
    assert torch.all((cf["counterfactual_acc", "random"] - 0.5).abs() < 0.1)
    assert torch.all(cf["counterfactual_acc", "class_destroyed"] > 0.95)
    assert torch.all(cf["counterfactual_flip", "flipped"] > 0.8)


def test_evaluate_records_counterfactuals_only_where_the_world_offers_them(world, ev):
    from greedlab.controls import linear_on_latent
    from greedlab.worlds import HierarchyConfig, HierarchyWorld

    out = evaluate(*marker_only(world), ev)
    assert ("counterfactual_acc", "class_destroyed") in out and ("counterfactual_flip", "removed") in out
    torch.testing.assert_close(out["counterfactual_acc", "random"], out["deploy_acc", ""])
    h = HierarchyWorld(HierarchyConfig())
    h_out = evaluate(*linear_on_latent(h, 4), EvalSet.build(h, n_deploy=256, n_probe=256, n_train=256))
    assert not any(k[0].startswith("counterfactual") for k in h_out)


def test_last_layer_retraining_recovers_the_class_when_the_layer_holds_it(world, ev):
    model, params = marker_head_over_both(world)
    out = evaluate(model, params, ev)
    assert abs(out["deploy_acc", ""].item() - 0.5) < 0.07               # the head follows the marker
    retrained = out["decodability:hidden.0", "target"].item()            # ridge head on balanced probe data
    assert retrained > 0.85
    model, params = marker_head_over_both(world, with_class=False)       # negative: the layer holds the marker only
    out = evaluate(model, params, ev)
    assert abs(out["decodability:hidden.0", "target"].item() - 0.5) < 0.1
