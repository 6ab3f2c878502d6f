"""The clean-genie pieces: the effects objective (a world model trained self-supervised), the
pragmascope regularizer with its positive and negative controls, the pragmascope scored on a world's
effect abstractions, and G8's conditions and verdict rule."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from greedlab import pragmascope as ps
from greedlab.claims import g8_clean_genie as g8, presets, remedies, setups
from greedlab.claims.common import get_scale
from greedlab.claims.context import Context
from greedlab.errors import ConfigError
from greedlab.instruments import EvalSet, evaluate
from greedlab.models import MLPConfig
from greedlab.pragmascope.regularizer import invariance_penalty, resampler, strength
from greedlab.train import TrainConfig, train
from greedlab.worlds import HierarchyConfig, HierarchyWorld, Proxy

SMALL = HierarchyConfig(n_latents=6, target=(0, 1), proxies=(Proxy((4,), 0.9),), n_train=1024, n_views=2,
                        effects=((0, 1), (2, 3)))
MODEL = MLPConfig(width=32, depth=2)


def _latent_reader(world: HierarchyWorld, noise_dirs: bool, seed: int = 0) -> list[torch.Tensor]:
    """A built one-layer-deep model whose first layer reads the latents' rendering directions (or, with
    ``noise_dirs``, directions orthogonal to every one of them: pure pixel noise)."""
    K, R = world.config.n_latents, world.config.pixels_per_latent
    g = torch.Generator().manual_seed(seed)
    W = torch.zeros(world.input_dim, 32)
    for j in range(32):
        i = j % K
        u = world.U[i] / world.U[i].norm()
        d = torch.randn(R, generator=g)
        d = d - (d @ u) * u if noise_dirs else u * (1.0 if j < K else torch.randn(1, generator=g).item())
        W[i * R:(i + 1) * R, j] = d / d.norm()
    params = MODEL.init(world.input_dim, [seed])
    params[0] = W[None]
    return params


def _penalty(world, params, features="natural", n=512):
    x = world.sample("deploy", 0, n).x
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(1))
    r = resampler(world.config, features)
    _, a = MODEL.forward(params, x, keep=True)
    _, b = MODEL.forward(params, r.resample(x, perm), keep=True)
    return invariance_penalty(a, b, perm, ["hidden.0"])


def test_a_latent_reading_model_passes_the_regularizer_and_a_noise_reading_one_does_not():
    w = HierarchyWorld(SMALL)
    reads_latents = _penalty(w, _latent_reader(w, noise_dirs=False))
    reads_noise = _penalty(w, _latent_reader(w, noise_dirs=True))
    assert reads_latents.item() < 0.1 and reads_noise.item() > 0.7
    # the random-features control keeps no latent: the same latent reader now pays
    assert _penalty(w, _latent_reader(w, noise_dirs=False), features="random").item() > 0.3


def test_training_under_the_regularizer_lowers_it_and_chunking_does_not_change_anything():
    w = HierarchyWorld(replace(SMALL, objective="target"))
    cfg = TrainConfig(steps=60, batch_size=64, lr=3e-3)
    plain = train(w, MODEL, cfg, [0, 1], [5, 6])
    reg = train(w, MODEL, replace(cfg, pragmascope=2.0), [0, 1], [5, 6], chunk=1)
    assert (_penalty(w, [p[:1] for p in reg]) < 0.6 * _penalty(w, [p[:1] for p in plain])).all()
    together = train(w, MODEL, replace(cfg, pragmascope=2.0), [0, 1], [5, 6], chunk=None)
    for a, b in zip(reg, together):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_schedule_and_bad_regularizer_settings():
    assert strength(2.0, "constant", 5, 10) == 2.0
    assert strength(2.0, "relaxed", 0, 10) == 2.0 and strength(2.0, "relaxed", 5, 10) == 1.0
    for kw, field in [(dict(pragmascope=-1.0), "train.pragmascope"),
                      (dict(pragmascope_features="pca"), "train.pragmascope_features"),
                      (dict(pragmascope_schedule="cosine"), "train.pragmascope_schedule")]:
        with pytest.raises(ConfigError) as e:
            TrainConfig(**kw)
        assert e.value.field == field


def test_the_effects_objective_builds_a_world_model_in_the_trunk_and_leaves_the_top_alone():
    w = HierarchyWorld(replace(SMALL, objective="effects"))
    start = MODEL.init(w.input_dim, [3])
    out = train(w, MODEL, TrainConfig(steps=300, batch_size=64, lr=3e-3), [3], [4])
    assert len(out) == len(start)  # the decoder is not part of the model
    assert not torch.allclose(out[0], start[0])  # the world model (below the decoder's layer) learned
    for k in (2, 3, 4, 5):  # the top hidden layer and the head got no signal: untouched
        torch.testing.assert_close(out[k], start[k])
    ev = EvalSet.build(w, 2048, 1024, 1024)
    before, after = evaluate(MODEL, start, ev), evaluate(MODEL, out, ev)
    for name in ("target", "effect1"):  # χ_01 (the target) and χ_23: products no single pixel shows
        assert after["decodability:hidden.0", name].item() > 0.95 > before["decodability:hidden.0", name].item()
    with pytest.raises(ConfigError):
        train(w, MODEL, TrainConfig(steps=2), [0], [1], trainable="head")


def test_an_auxiliary_effects_loss_keeps_a_world_model_beside_the_label_and_only_with_its_weight():
    # the label is the proxy a_4 (one latent: no product needed); χ_23 is an effect, never a label
    w = HierarchyWorld(replace(SMALL, objective="proxy"))
    ev = EvalSet.build(w, 2048, 1024, 1024)
    read = {}
    for lam in (0.0, 1.0):
        out = train(w, MODEL, TrainConfig(steps=300, batch_size=64, lr=3e-3, effects_weight=lam), [3], [4])
        got = evaluate(MODEL, out, ev)
        assert got["train_acc", ""].item() > 0.95  # the label is learned either way
        read[lam] = got["decodability:hidden.0", "effect1"].item()
    assert read[1.0] > 0.95 > read[0.0]  # positive: the effect is represented; negative: not without the loss
    for bad in (replace(SMALL, effects=()), replace(SMALL, objective="effects")):
        with pytest.raises(ConfigError, match="train.effects_weight"):
            train(HierarchyWorld(bad), MODEL, TrainConfig(steps=2, effects_weight=1.0), [0], [1])
    with pytest.raises(ConfigError, match="train.effects_weight"):
        TrainConfig(effects_weight=-1.0)


def test_the_pragmascope_recovers_every_latent_and_effect_abstraction_and_nothing_from_noise():
    c = HierarchyConfig(n_latents=8, noise=0.2, proxies=(), target=(0, 1), effects=((0, 1), (2, 3), (1, 4, 6)))
    s = ps.world_scorecard(c, rows=3000)
    assert s["n_features"] == s["n_true"] == 8 + 3
    assert s["latent_r2"].min() > 0.85 and s["effect_r2"].min() > 0.85 and s["noise_r2"] < 0.05
    # negative control: every latent hidden and no effects, so the pixels are pure noise
    blank = ps.world_scorecard(replace(c, hidden=tuple(range(8)), effects=()), rows=3000)
    assert blank["n_features"] == 0 and blank["n_true"] == 0


def test_g8_conditions_share_seeds_and_the_genie_and_its_random_features_differ_only_in_features():
    ctx = Context(get_scale("quick"), Path("/tmp"), run=lambda spec, label: None)
    specs = g8.conditions(ctx)
    S = ctx.scale.steps
    main = {k: s for k, s in specs.items() if k.rho == g8.RHO}
    assert {s.init_seeds for s in main.values()} == {tuple(range(16))}
    assert {s.init_seeds for k, s in specs.items() if k.rho != g8.RHO} == {tuple(range(8))}  # controls: half
    assert specs[g8.Key(g8.GENIE)].total_steps == specs[g8.Key(g8.PLAIN_STEPS)].total_steps == 2 * S
    assert specs[g8.Key(g8.PLAIN_COMPUTE)].total_steps == 4 * S
    genie, rand = specs[g8.Key(g8.GENIE)].plan, specs[g8.Key(g8.RANDOM)].plan
    assert [st.world.objective for st in genie] == ["effects", "command"]
    assert [replace(st.train, pragmascope_features="natural") for st in rand] == [st.train for st in genie]
    assert genie[0].train.pragmascope == g8.LAMBDA and genie[1].train.pragmascope_schedule == "relaxed"
    assert genie[1].train.l1 > 0 and specs[g8.Key(g8.NO_PRAG)].plan[0].train.pragmascope == 0
    assert all(s.world == specs[g8.Key(g8.PLAIN_STEPS)].world for s in main.values())
    # the controls: the same arms on the world where a_4 is independent of the label in training
    for arm in (g8.GENIE, g8.PLAIN_COMPUTE):
        ctrl, ref = specs[g8.Key(arm, g8.NO_PROXY_RHO)], specs[g8.Key(arm)]
        assert ctrl.world.proxies[0].rho == 0.5 and replace(ctrl.world, proxies=ref.world.proxies) == ref.world


def test_target_commanded_rows_show_the_target_command_on_balanced_latents():
    from greedlab.claims import setups

    cmd, _ = g8.worlds()
    w = HierarchyWorld(cmd)
    ev = EvalSet.build(w, 1024, 512, 512)
    told = ev.target_commanded
    mask = torch.zeros(16)
    mask[list(setups.TARGET)] = 1
    assert torch.equal(told.x[:, -16:], mask.expand(len(told), 16))
    odd = [j for j, S in enumerate(ev.features.values()) if len(S) % 2]  # antithetic pairs balance odd levels
    assert float(ev.chi_target_commanded[:, odd].mean(0).abs().max()) == 0.0
    assert np.isfinite(evaluate(MLPConfig(), MLPConfig().init(w.input_dim, [0]), ev)[
        "reliance@target_command", "proxy0"].numpy()).all()


def test_in_span_finds_a_target_made_of_effects_and_only_then():
    assert presets.in_span([(0, 2), (1, 2)], (0, 1))  # χ_02·χ_12 = χ_01: a two-factor leak
    assert presets.in_span([(0, 4), (1, 4), (2, 3)], (0, 1, 2, 3))  # three factors
    assert not presets.in_span([(0, 2), (2, 3), (3, 4)], (0, 1))  # latent 1 in no effect
    assert not presets.in_span([(0, 1), (2, 3)], (0,))  # odd sets are never products of pairs


def test_pretraining_effects_hand_neither_g8_nor_r_their_target():
    ctx = Context(get_scale("quick"), Path("/tmp"), run=lambda spec, label: None)
    _, held = setups.commands()
    g8_genies = [s for k, s in g8.conditions(ctx).items() if s.plan[0].world.objective == "effects"]
    r_genies = [s for k, s in remedies.conditions(ctx).items() if s.plan[0].world.objective == "effects"]
    assert len(g8_genies) >= 3 and len(r_genies) == 3  # R: one per ρ and the 2×-budget check's
    for spec in g8_genies + r_genies:
        eff, target = spec.plan[0].world.effects, tuple(spec.plan[-1].world.target)
        assert tuple(sorted(target)) not in eff and not presets.in_span(eff, target), spec.run_id
        assert len(eff) >= 15  # every latent but the target's last still takes part
    for spec in g8_genies:  # and no held-out command is itself an effect
        assert not set(map(tuple, held)) & set(spec.plan[0].world.effects)
