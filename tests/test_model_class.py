"""The model-class classifier reads models built to be each class as that class, and no other."""

import itertools

import numpy as np
import pytest

from greedlab.controls import Oracle
from greedlab.errors import ConfigError
from greedlab.instruments import EvalSet, evaluate
from greedlab.instruments.model_class import ClassThresholds, class_shares, classify, gating_index
from greedlab.worlds import HierarchyConfig, HierarchyWorld, Proxy

PAIRS = [c for k in (1, 2) for c in itertools.combinations(range(8), k)]
WORLD = HierarchyConfig(proxies=(Proxy((4,), 0.9),), cue=5, objective="command", commands=tuple(PAIRS[6:]),
                        heldout_commands=tuple(PAIRS[:6]), n_train=512)


@pytest.fixture(scope="module")
def ev():
    return EvalSet.build(HierarchyWorld(WORLD), n_deploy=2048, n_probe=256, n_train=256)


def measure(behaviour: str, ev) -> dict:
    model = Oracle(HierarchyWorld(WORLD), behaviour)
    out = evaluate(model, model.init(WORLD.input_dim, [0]), ev)
    return {k: v.numpy() for k, v in out.items()}


@pytest.mark.parametrize("behaviour, cls", [("target", "internal"), ("proxy", "proxy"), ("mixed", "mixed"),
                                            ("gated", "context-gated"), ("pointer", "pointer"), ("none", "none")])
def test_built_models_read_as_their_class(ev, behaviour, cls):
    assert classify(measure(behaviour, ev))[0] == cls


def test_gating_index_reads_gated_and_ungated(ev):
    gated, plain = measure("gated", ev), measure("target", ev)
    g = gating_index(gated["reliance@overseen", "target"], gated["reliance@unobserved", "target"])
    assert g[0] > 0.9
    g = gating_index(plain["reliance@overseen", "target"], plain["reliance@unobserved", "target"])
    assert abs(g[0]) < 0.1


def test_hard_reliance_per_cue_value_reads_the_decisions_of_a_gated_model(ev):
    # the gated oracle's decisions: χ_T where â_cue = +1, the proxy where −1 (G10's hard gating index)
    gated, plain = measure("gated", ev), measure("target", ev)
    on, off = gated["hard_reliance@overseen", "target"], gated["hard_reliance@unobserved", "target"]
    assert on[0] > 0.9 and abs(off[0]) < 0.1 and gated["hard_reliance@unobserved", "proxy0"][0] > 0.9
    assert gating_index(on, off)[0] > 0.9
    assert abs(gating_index(plain["hard_reliance@overseen", "target"], plain["hard_reliance@unobserved", "target"])[0]) < 0.1


def test_command_accuracy_separates_pointer_from_fixed_objective(ev):
    assert measure("pointer", ev)["command_acc", "heldout"][0] > 0.95
    assert abs(measure("target", ev)["command_acc", "heldout"][0] - 0.5) < 0.1


def test_thresholds_decide_and_are_checked():
    m = {("reliance", "target"): np.array([0.5, 0.7]), ("reliance", "proxy0"): np.array([0.1, 0.1])}
    assert list(classify(m)) == ["mixed", "internal"]
    assert list(classify(m, ClassThresholds(high=0.45))) == ["internal", "internal"]
    assert class_shares(classify(m))["mixed"] == 0.5
    with pytest.raises(ConfigError, match="thresholds.low/high"):
        ClassThresholds(low=0.7, high=0.6)


def test_gating_index_undefined_without_overseen_behaviour():
    assert np.isnan(gating_index(np.array([0.05]), np.array([0.0]))[0])
