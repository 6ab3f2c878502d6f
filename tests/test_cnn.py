"""The CNN family: the stacked ensemble equals per-model torch modules, trains like a loop over
single models, and a tiny one learns a real task."""

import pytest
import torch
import torch.nn as nn

from greedlab.errors import ConfigError
from greedlab.models import CNNConfig
from greedlab.train import TrainConfig, train
from greedlab.worlds import RealConfig, RealWorld

CONFIGS = [(CNNConfig(), 40), (CNNConfig(ndim=2, channels=6, kernels=(3, 3), strides=(1, 2)), 64)]


def _reference(cfg: CNNConfig, params, n: int) -> nn.Module:
    """Model n as an nn.Sequential of Conv/ReLU/Flatten/Linear holding the same weights."""
    conv = nn.Conv1d if cfg.ndim == 1 else nn.Conv2d
    layers, c_in = [], 1
    for i, (k, s) in enumerate(zip(cfg.kernels, cfg.strides)):
        m = conv(c_in, cfg.channels, k, stride=s, padding=1)
        m.weight.data, m.bias.data = params[2 * i][n].clone(), params[2 * i + 1][n].clone()
        layers += [m, nn.ReLU()]
        c_in = cfg.channels
    head = nn.Linear(params[-2].shape[1], cfg.outputs)
    head.weight.data, head.bias.data = params[-2][n].T.clone(), params[-1][n, 0].clone()
    return nn.Sequential(*layers, nn.Flatten(), head)


@pytest.mark.parametrize("cfg, dim", CONFIGS)
def test_stacked_cnn_equals_per_model_torch_modules(cfg, dim):
    params = cfg.init(dim, [0, 1, 2])
    x = torch.randn(3, 5, dim)
    logits, acts = cfg.forward(params, x, keep=True)
    shared, _ = cfg.forward(params, x[0])
    side = (dim,) if cfg.ndim == 1 else (8, 8)
    for n in range(3):
        ref = _reference(cfg, params, n)
        torch.testing.assert_close(logits[n], ref(x[n].reshape(5, 1, *side)).squeeze(-1), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(shared[n], ref(x[0].reshape(5, 1, *side)).squeeze(-1), rtol=1e-5, atol=1e-5)
    sizes = cfg.sizes(dim)
    assert list(acts) == cfg.layer_names()
    for name, L in zip(cfg.layer_names(), sizes):
        assert acts[name].shape == (3, 5, cfg.channels * L ** cfg.ndim)


def test_model_n_depends_only_on_its_seed_and_multiclass_heads_give_one_logit_per_class():
    cfg = CNNConfig(outputs=10)
    a, b = cfg.init(40, [0, 1]), cfg.init(40, [5, 1])
    assert all(torch.equal(p[1], q[1]) for p, q in zip(a, b)) and not torch.equal(a[0][0], b[0][0])
    logits, _ = cfg.forward(a, torch.randn(7, 40))
    assert logits.shape == (2, 7, 10)


def test_cnn_ensemble_trains_like_a_loop_over_single_models():
    world = RealWorld(RealConfig(dataset="digits", n_train=256))
    cfg = CNNConfig(ndim=2, channels=4, kernels=(3, 3), strides=(1, 2))
    tc = TrainConfig(steps=15, batch_size=32, lr=1e-2)
    ens = train(world, cfg, tc, [0, 1], [10, 11])
    for n, (s, d) in enumerate([(0, 10), (1, 11)]):
        single = train(world, cfg, tc, [s], [d])
        for pe, ps in zip(ens, single):
            torch.testing.assert_close(pe[n], ps[0], rtol=1e-4, atol=1e-5)


def test_a_small_cnn_learns_the_digit_grouping_without_a_proxy():
    world = RealWorld(RealConfig(dataset="digits", rho=0.5))
    cfg = CNNConfig(ndim=2, channels=8, kernels=(3, 3), strides=(1, 2))
    params = train(world, cfg, TrainConfig(steps=300, lr=1e-2), [0, 1], [2, 3])
    dep = world.sample("deploy", 0, 600)
    logits, _ = cfg.forward(params, dep.x)
    assert torch.all((torch.sign(logits) == dep.y).float().mean(1) > 0.9)


@pytest.mark.parametrize("kwargs, field", [
    (dict(ndim=3), "model.ndim"),
    (dict(channels=0), "model.channels"),
    (dict(kernels=()), "model.kernels"),
    (dict(kernels=(3, 3), strides=(2,)), "model.strides"),
    (dict(outputs=0), "model.outputs"),
])
def test_bad_cnn_configs_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as e:
        CNNConfig(**kwargs)
    assert e.value.field == field


def test_inputs_the_cnn_cannot_read_are_rejected():
    with pytest.raises(ConfigError, match="model.ndim"):
        CNNConfig(ndim=2).init(40, [0])                  # 40 is no square
    with pytest.raises(ConfigError, match="model.kernels"):
        CNNConfig(kernels=(9, 9, 9), strides=(4, 4, 4)).init(40, [0])
