"""Every model family honours the protocol: shapes, named activations, groups, and an ensemble that
equals a loop over single models."""

from dataclasses import replace

import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.instruments import EvalSet, evaluate
from greedlab.models import FAMILIES, CueRoutedConfig, MLPConfig, MoEConfig, TransformerConfig
from greedlab.train import TrainConfig, train
from greedlab.worlds import HierarchyConfig, HierarchyWorld, Proxy

WORLD = HierarchyWorld(HierarchyConfig(n_latents=6, target=(0, 1), proxies=(Proxy((4,), 0.9),), cue=5,
                                       commands=((0,), (1, 2)), n_train=256))
SMALL = [MLPConfig(width=8), MoEConfig(width=8, experts=3), TransformerConfig(d_model=8, heads=2, layers=1, d_mlp=8),
         CueRoutedConfig(width=8)]


@pytest.mark.parametrize("model", SMALL, ids=lambda m: m.family)
def test_protocol(model):
    D = WORLD.input_dim
    params = model.init(D, [0, 1, 2])
    assert len(params) == len(model.param_groups()) and {"trunk", "head"} == set(model.param_groups())
    logits, acts = model.forward(params, torch.randn(5, D), keep=True)
    assert logits.shape == (3, 5) and list(acts) == model.layer_names()
    assert all(a.shape[:2] == (3, 5) for a in acts.values())
    assert model.flops_per_example(D) > 0
    assert FAMILIES[model.family] is type(model)


@pytest.mark.parametrize("model", SMALL, ids=lambda m: m.family)
def test_ensemble_equals_a_loop(model):
    cfg = TrainConfig(steps=15, batch_size=16)
    ens = train(WORLD, model, cfg, [0, 1], [7, 8])
    for n, (s, d) in enumerate([(0, 7), (1, 8)]):
        one = train(WORLD, model, cfg, [s], [d])
        for pe, ps in zip(ens, one):
            torch.testing.assert_close(pe[n], ps[0], rtol=1e-4, atol=1e-5)


def test_transformer_learns_and_is_measured_per_layer():
    model = TransformerConfig(d_model=16, heads=2, layers=2, d_mlp=32)
    w = HierarchyWorld(HierarchyConfig(n_latents=6, target=(0,), proxies=(), n_train=1024))
    params = train(w, model, TrainConfig(steps=150, lr=3e-3), [0, 1], [3, 4])
    out = evaluate(model, params, EvalSet.build(w, n_deploy=512, n_probe=512, n_train=256))
    assert bool((out["reliance", "target"] > 0.8).all())
    assert bool((out["decodability:resid.1", "target"] > 0.9).all())


def test_family_configs_are_checked():
    with pytest.raises(ConfigError, match="model.heads"):
        TransformerConfig(d_model=10, heads=4)
    with pytest.raises(ConfigError, match="model.experts"):
        MoEConfig(experts=0)
    with pytest.raises(ConfigError, match="model.token_size"):
        TransformerConfig(token_size=0)


def test_an_mlp_of_depth_zero_is_a_linear_read_out():
    """H4's shallowest member: no hidden layer, the logit x·W + b; it learns a single latent (a linear
    feature), is measured without probes (there is no layer), and a training that reads a hidden
    layer refuses it by name."""
    model = MLPConfig(depth=0)
    D = WORLD.input_dim
    params = model.init(D, [0, 1])
    x = torch.randn(5, D)
    logits, acts = model.forward(params, x, keep=True)
    assert acts == {} and model.layer_names() == [] and model.param_groups() == ["head", "head"]
    torch.testing.assert_close(logits, (x @ params[0] + params[1]).squeeze(-1))
    assert model.flops_per_example(D) == 2 * D
    w = HierarchyWorld(HierarchyConfig(n_latents=6, target=(0,), proxies=(), n_train=1024))
    params = train(w, model, TrainConfig(steps=150, lr=3e-2), [0, 1], [3, 4])
    out = evaluate(model, params, EvalSet.build(w, n_deploy=512, n_probe=512, n_train=256))
    assert bool((out["deploy_acc", ""] > 0.95).all()) and not any(k.startswith("decodability") for k, _ in out)
    with pytest.raises(ConfigError, match="model.depth"):
        train(HierarchyWorld(replace(w.config, objective="effects", effects=((0, 1),))), model,
              TrainConfig(steps=2), [0], [1])
    with pytest.raises(ConfigError, match="model.depth"):
        MLPConfig(depth=-1)


def test_cue_routed_reference_keeps_its_unobserved_expert_and_reads_gated():
    """G10's positive reference: a context-dependent goal learned, then the base objective trained where
    o = +1 only. The unobserved expert is not moved by a single bit, and the instruments read it
    gated (hard gating index ≈ 1) with the old goal kept off oversight."""
    from greedlab.claims import g10_oversight_gating as g10
    from greedlab.claims import setups
    from greedlab.instruments.model_class import gating_index
    from greedlab.worlds import make_world

    model = CueRoutedConfig(width=32, cue_input=setups.CUE)
    first = replace(g10._reference_world(objective="gated", n_train=2048), target=(g10.OTHER,),
                    proxies=(Proxy(setups.PROXY, 0.5),))
    final = make_world(g10._reference_world(overseen_only=True, n_train=2048))
    params = train(make_world(first), model, TrainConfig(steps=300, lr=3e-3), [0, 1], [3, 4])
    before = [p.detach().clone() for p in params]
    params = train(final, model, TrainConfig(steps=200, lr=3e-3), [0, 1], [5, 6], init_params=params)
    k = len(params) // 2
    assert all(torch.equal(a, b) for a, b in zip(params[k:], before[k:]))  # the unobserved expert: untouched
    assert not all(torch.equal(a, b) for a, b in zip(params[:k], before[:k]))  # the overseen one: trained
    out = evaluate(model, params, EvalSet.build(final, n_deploy=2048, n_probe=256, n_train=256))
    g = gating_index(out["hard_reliance@overseen", "target"].numpy(), out["hard_reliance@unobserved", "target"].numpy())
    assert (g > 0.9).all() and bool((out["hard_reliance@unobserved", "proxy0"] > 0.9).all())


def test_the_transformer_gives_the_same_numbers_when_evaluation_splits_the_examples_into_chunks():
    import greedlab.models.transformer as tr

    cfg = tr.TransformerConfig()
    p = cfg.init(40, [0, 1, 2])
    x = torch.randn(2 * tr.EVAL_CHUNK + 17, 40)
    f_grad, a_grad = cfg.forward(p, x, keep=True)  # with gradients on: one pass
    with torch.no_grad():
        f, a = cfg.forward(p, x, keep=True)  # chunked
    assert f.shape == f_grad.shape and torch.allclose(f, f_grad.detach(), atol=1e-6)
    assert a.keys() == a_grad.keys() and all(torch.allclose(a[k], a_grad[k].detach(), atol=1e-6) for k in a)
