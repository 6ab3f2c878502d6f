from pathlib import Path

import numpy as np
import torch

from greedlab.models import MLPConfig
from greedlab.train import TrainConfig, eval_steps, train
from greedlab.worlds import HierarchyConfig, HierarchyWorld, Proxy

WORLD = HierarchyWorld(HierarchyConfig(n_latents=6, target=(0,), proxies=(Proxy((4,), 0.9),), n_train=512))
MODEL = MLPConfig(width=16, depth=2)


def _train(seeds, data_seeds, **kw):
    cfg = TrainConfig(steps=30, batch_size=32, **kw)
    return train(WORLD, MODEL, cfg, seeds, data_seeds)


def test_ensemble_equals_a_loop_over_single_models():
    for opt in [dict(optimizer="adam"), dict(optimizer="sgd", lr=0.05, momentum=0.9),
                dict(optimizer="adamw", weight_decay=0.1)]:
        ens = _train([0, 1, 2], [10, 11, 12], **opt)
        for n, (s, d) in enumerate([(0, 10), (1, 11), (2, 12)]):
            single = _train([s], [d], **opt)
            for pe, ps in zip(ens, single):
                torch.testing.assert_close(pe[n], ps[0], rtol=1e-4, atol=1e-5)


def test_same_seeds_same_numbers_and_models_ignore_their_companions():
    a = _train([0, 1], [5, 6])
    b = _train([0, 1], [5, 6])
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    c = _train([0, 7], [5, 8])
    torch.testing.assert_close(a[0][0], c[0][0])
    assert not torch.allclose(a[0][1], c[0][1])


def test_init_and_data_order_seeds_act_separately():
    base = _train([0], [5])
    other_order = _train([0], [6])
    other_init = _train([1], [5])
    assert not torch.allclose(base[0], other_order[0]) and not torch.allclose(base[0], other_init[0])


def test_a_small_model_learns_a_level_one_target():
    from greedlab.models import mlp_forward
    params = train(WORLD, MODEL, TrainConfig(steps=150, batch_size=64, lr=3e-3), [0, 1], [2, 3])
    dep = WORLD.sample("deploy", 0, 1024)
    logits, _ = mlp_forward(MODEL, params, dep.x)
    acc = (torch.sign(logits) == dep.y).float().mean(1)
    assert torch.all(acc > 0.95)


def test_eval_steps_are_dense_early_and_include_both_ends():
    s = eval_steps(2000, 40)
    assert s[0] == 0 and s[-1] == 2000 and s == sorted(set(s))
    assert sum(1 for x in s if x <= 100) >= 10  # the greedy phase is sampled densely


def test_chunking_the_ensemble_does_not_change_the_result():
    cfg = TrainConfig(steps=20, batch_size=32)
    whole = train(WORLD, MODEL, cfg, [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], chunk=None)
    chunked = train(WORLD, MODEL, cfg, [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], chunk=2)
    for a, b in zip(whole, chunked):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_frozen_groups_do_not_move_and_training_continues_from_given_params():
    start = _train([0, 1], [5, 6])
    cfg = TrainConfig(steps=10, batch_size=32)
    head_only = train(WORLD, MODEL, cfg, [0, 1], [5, 6], init_params=start, trainable="head")
    for p0, p1, g in zip(start, head_only, MODEL.param_groups()):
        assert torch.equal(p0, p1) == (g == "trunk")


def test_attribution_matches_the_actual_loss_decrease_to_first_order():
    from greedlab.train import Attribution, logistic_loss

    data = WORLD.train_set()[:64]
    cfg = TrainConfig(optimizer="sgd", lr=1e-3, steps=1, batch_size=64)  # one full-batch step
    start = MODEL.init(WORLD.input_dim, [0, 1])
    attr = Attribution(MODEL.param_groups())
    end = train(WORLD, MODEL, cfg, [0, 1], [5, 6], train_set=data, init_params=start, attribution=attr)
    got = attr.take()

    def loss(p):
        return logistic_loss(MODEL.forward(p, data.x)[0], data.y).mean(1)

    actual = loss(start) - loss(end)
    # the independent batch is the whole training set here (batch = set), as is the step's
    total = got["loss_decrease", "trunk"] + got["loss_decrease", "head"]
    torch.testing.assert_close(total, actual, rtol=2e-2, atol=1e-7)
    torch.testing.assert_close(got["loss_decrease_same_batch", "total"], total, rtol=1e-4, atol=1e-9)
    assert bool((got["loss_decrease", "trunk"] > 0).all()) and bool((got["loss_decrease", "head"] > 0).all())
    assert attr.take() is None  # a window is read once


def test_same_batch_attribution_is_biased_upward_at_a_minimum_and_the_independent_one_is_not():
    """Near a minimum of a loss the model cannot drive to 0 (random labels, 4 hidden units), SGD's steps
    are noise: the loss does not fall, yet −g·Δθ with the step's own batch reads η·tr Σ/B > 0. The
    independent batch's estimate reads the true first-order decrease (≈ 0) within its own noise."""
    import dataclasses

    from greedlab.train import Attribution

    model = MLPConfig(width=4, depth=1)
    data = WORLD.train_set()[:512]
    data = dataclasses.replace(data, y=torch.where(torch.rand(512, generator=torch.Generator().manual_seed(0)) < 0.5,
                                                   -1.0, 1.0))
    seeds, orders = [0, 1, 2], [5, 6, 7]
    # full batch, to the minimum
    fit = TrainConfig(optimizer="adam", lr=1e-2, steps=1500, batch_size=512, loss="square")
    start = train(WORLD, model, fit, seeds, orders, train_set=data)
    cfg = TrainConfig(optimizer="sgd", lr=2e-3, steps=300, batch_size=8, loss="square")
    read = {}
    for same_batch in (True, False):  # attribution never changes what is trained: one trajectory, read twice
        attr = Attribution(model.param_groups(), same_batch=same_batch)
        end = train(WORLD, model, cfg, seeds, orders, train_set=data, init_params=start, attribution=attr)
        w = attr.take()
        se = (w["loss_decrease_var", "total"] / cfg.steps).sqrt()  # the window mean's standard error
        read[same_batch] = (w["loss_decrease", "head"] + w["loss_decrease", "trunk"], se)

    def loss(p):
        return ((model.forward(p, data.x)[0] - data.y) ** 2 / 2).mean(1)

    actual = (loss(start) - loss(end)) / cfg.steps
    (same, se_same), (ind, se_ind) = read[True], read[False]
    assert bool((same > 10 * se_same).all()) and bool((same > 100 * actual.abs()).all())  # clearly positive
    assert bool(((ind - actual).abs() < 3 * se_ind).all())  # ≈ the actual fall, within its noise
    assert bool((same - ind > 20 * se_ind).all())


def test_attribution_never_changes_what_is_trained_and_is_chunk_independent():
    from greedlab.train import Attribution

    cfg = TrainConfig(steps=12, batch_size=32)
    reads = []
    for chunk in (None, 2):  # the independent batches follow each model's own seed, not its companions
        plain = train(WORLD, MODEL, cfg, [0, 1, 2], [5, 6, 7], chunk=chunk)
        attr = Attribution(MODEL.param_groups())
        got = train(WORLD, MODEL, cfg, [0, 1, 2], [5, 6, 7], attribution=attr, chunk=chunk)
        assert all(torch.equal(a, b) for a, b in zip(plain, got))  # bit for bit
        reads.append(attr.take())
    for key in reads[0]:
        torch.testing.assert_close(reads[0][key], reads[1][key], rtol=1e-4, atol=1e-9)


def test_command_instruments_read_at_stage_ends_only_give_the_same_numbers_there():
    """RunSpec.extras_at_stage_ends: the command channel's instruments only at each stage's last
    evaluation, with the values a run measuring them at every evaluation reads there."""
    from dataclasses import replace

    from greedlab.claims import g5_gps_pointed_at_heuristics as g5
    from greedlab.claims.common import get_scale
    from greedlab.claims.context import Context
    from greedlab.experiment import measure

    spec = g5.conditions(Context(get_scale("smoke"), Path("."), None))[g5.Cond("mlp", g5.NONE)]
    assert spec.extras_at_stage_ends
    spec = replace(spec, init_seeds=spec.init_seeds[:2], data_seeds=spec.data_seeds[:2],
                   world_seeds=spec.world_seeds[:2])
    full = replace(spec, extras_at_stage_ends=False)
    assert spec.run_id != full.run_id

    def curves(s):
        cols = measure(s)
        out = {}
        for inst, feat, step, seed, v in zip(cols["instrument"], cols["feature"], cols["step"], cols["seed"],
                                             cols["value"]):
            out.setdefault((inst, feat), {}).setdefault(int(step), {})[int(seed)] = v
        return out

    sparse, dense = curves(spec), curves(full)
    ends = set(np.cumsum([st.train.steps for st in spec.plan]).tolist())
    for key in (("command_acc", "heldout"), ("pointed_agreement", "target")):
        assert set(sparse[key]) == ends & set(dense[key]) and len(dense[key]) > len(ends)
        assert all(sparse[key][s] == dense[key][s] for s in sparse[key])
    assert sparse["deploy_acc", ""] == dense["deploy_acc", ""]  # everything else at every evaluation, unchanged
