"""The early-exit family: protocol, exit distribution, ensemble = loop, and a speed penalty that
actually buys speed."""

import dataclasses

import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec
from greedlab.instruments import EvalSet, evaluate
from greedlab.models import EXIT_DEPTH, EarlyExitConfig, MLPConfig
from greedlab.train import TrainConfig, train
from greedlab.worlds import HierarchyConfig, HierarchyWorld, Proxy

WORLD = HierarchyWorld(HierarchyConfig(n_latents=6, target=(0, 1), proxies=(Proxy((4,), 0.9),), n_train=256))
SMALL = EarlyExitConfig(width=8, depth=3)


def test_protocol_and_exit_depth_range():
    D = WORLD.input_dim
    params = SMALL.init(D, [0, 1, 2])
    assert len(params) == len(SMALL.param_groups()) and {"trunk", "head"} == set(SMALL.param_groups())
    logits, acts = SMALL.forward(params, torch.randn(5, D), keep=True)
    assert logits.shape == (3, 5)
    assert [k for k in acts if k != EXIT_DEPTH] == SMALL.layer_names()
    assert all(acts[n].shape == (3, 5, 8) for n in SMALL.layer_names())
    depth = acts[EXIT_DEPTH]
    assert depth.shape == (3, 5) and bool(((depth >= 1) & (depth <= 3)).all())
    # halt bias −2: the untrained model mostly runs to the last layer
    assert float(depth.mean()) > 2.4
    assert SMALL.flops_per_example(D) > MLPConfig(width=8, depth=3).flops_per_example(D) - 2 * 8
    with pytest.raises(ConfigError, match="model.depth"):
        EarlyExitConfig(depth=0)


def test_output_is_the_exit_mixture_of_the_heads():
    """With one hidden layer there is one exit: the model is a plain MLP and its depth is 1; with a
    huge halting bias every example exits at the first head."""
    one = EarlyExitConfig(width=8, depth=1)
    p = one.init(WORLD.input_dim, [0])
    x = torch.randn(7, WORLD.input_dim)
    logits, acts = one.forward(p, x)
    h = torch.relu(torch.baddbmm(p[1], x.unsqueeze(0), p[0]))
    torch.testing.assert_close(logits, torch.baddbmm(p[3], h, p[2]).squeeze(-1))
    torch.testing.assert_close(acts[EXIT_DEPTH], torch.ones(1, 7))
    fast = dataclasses.replace(SMALL, halt_bias=30.0)
    p = fast.init(WORLD.input_dim, [0])
    logits, acts = fast.forward(p, x)
    h0 = torch.relu(torch.baddbmm(p[1], x.unsqueeze(0), p[0]))
    torch.testing.assert_close(logits, torch.baddbmm(p[7][:, :, :1], h0, p[6][:, :, :1]).squeeze(-1),
                               rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(acts[EXIT_DEPTH], torch.ones(1, 7), rtol=0, atol=1e-6)


def test_ensemble_equals_a_loop_with_the_speed_penalty():
    cfg = TrainConfig(steps=15, batch_size=16, speed_penalty=0.1)
    ens = train(WORLD, SMALL, cfg, [0, 1], [7, 8])
    for n, (s, d) in enumerate([(0, 7), (1, 8)]):
        one = train(WORLD, SMALL, cfg, [s], [d])
        for pe, ps in zip(ens, one):
            torch.testing.assert_close(pe[n], ps[0], rtol=1e-4, atol=1e-5)


def test_speed_penalty_lowers_the_exit_depth_and_is_measured():
    model = EarlyExitConfig(width=16, depth=3)
    ev = EvalSet.build(WORLD, n_deploy=512, n_probe=512, n_train=256)
    depth = {}
    for lam in (0.0, 0.05):
        params = train(WORLD, model, TrainConfig(steps=200, lr=3e-3, speed_penalty=lam), [0, 1, 2], [3, 4, 5])
        out = evaluate(model, params, ev)
        assert ("decodability:" + EXIT_DEPTH, "target") not in out
        depth[lam] = out["exit_depth", ""]
    assert bool((depth[0.05] < depth[0.0] - 0.5).all()), depth


def test_speed_penalty_needs_an_early_exit_model_and_stays_out_of_run_ids_at_zero():
    with pytest.raises(ConfigError, match="train.speed_penalty"):
        train(WORLD, MLPConfig(width=8), TrainConfig(steps=2, speed_penalty=0.1), [0], [1])
    with pytest.raises(ConfigError, match="train.speed_penalty"):
        TrainConfig(speed_penalty=-1.0)
    plain = RunSpec()
    assert "speed_penalty" not in plain.config()["train"]
    assert RunSpec(train=TrainConfig(speed_penalty=0.1)).run_id != plain.run_id


def test_the_exit_table_reads_each_head_alone_and_where_examples_exit():
    from greedlab.instruments.exits import exit_table

    x = torch.randn(64, WORLD.input_dim)
    p = SMALL.init(WORLD.input_dim, [0, 1])
    z, log_p, _ = SMALL.exits(p, x)
    y = torch.sign(z[0, :, 1])  # labels that head 2 of model 0 gets exactly right
    t = exit_table(SMALL, p, x, y)
    assert all(v.shape == (2, 3) for v in t.values())
    assert float(t["accuracy"][0, 1]) == 1.0 and float(t["accuracy"][0, 0]) < 1.0
    torch.testing.assert_close(t["loss"][0, 1], torch.nn.functional.softplus(-y * z[0, :, 1]).mean())
    torch.testing.assert_close(t["share"].sum(-1), torch.ones(2))
    assert float(t["share"][0, -1]) > 0.6  # halt bias −2: most examples run to the last exit
    fast = dataclasses.replace(SMALL, halt_bias=30.0)  # every example exits at the first head
    t_fast = exit_table(fast, fast.init(WORLD.input_dim, [0]), x, y)
    assert float(t_fast["share"][0, 0]) > 0.999
    with pytest.raises(TypeError, match="early-exit"):
        exit_table(MLPConfig(width=8), MLPConfig(width=8).init(WORLD.input_dim, [0]), x, y)
