from dataclasses import replace

import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.models import MLPConfig
from greedlab.worlds import HierarchyConfig, HierarchyWorld, Proxy, StaircaseStep, chi


def test_samples_are_reproducible_by_index_across_blocks():
    w = HierarchyWorld(HierarchyConfig(seed=3))
    big = w.sample("train", 0, 9000)
    part = HierarchyWorld(HierarchyConfig(seed=3)).sample("train", 4000, 300)  # spans a block boundary
    assert torch.equal(part.x, big.x[4000:4300]) and torch.equal(part.a, big.a[4000:4300])
    other = HierarchyWorld(HierarchyConfig(seed=4)).sample("train", 0, 100)
    assert not torch.equal(other.x, big.x[:100])


def test_splits_are_disjoint_samples():
    w = HierarchyWorld(HierarchyConfig())
    assert not torch.equal(w.sample("deploy", 0, 64).a, w.sample("probe", 0, 64).a)


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0])
def test_proxy_agrees_at_rho_in_training_and_is_orthogonal_at_deployment(rho):
    w = HierarchyWorld(HierarchyConfig(proxies=(Proxy((4,), rho), Proxy((5, 6), 0.8))))
    tr = w.sample("train", 0, 20000)
    assert torch.all(tr.y == chi(tr.a, (0, 1, 2, 3)))
    assert abs((chi(tr.a, (4,)) * tr.y).mean().item() - (2 * rho - 1)) < 0.02
    assert abs((chi(tr.a, (5, 6)) * tr.y).mean().item() - 0.6) < 0.02
    dep = w.sample("deploy", 0, 20000)
    assert abs((chi(dep.a, (4,)) * dep.y).mean().item()) < 0.02
    assert abs(dep.a.mean().item()) < 0.02


def test_staircase_steps_agree_at_their_rates():
    steps = (StaircaseStep((0,), 0.6), StaircaseStep((0, 1), 0.75), StaircaseStep((0, 1, 2), 0.9))
    w = HierarchyWorld(HierarchyConfig(proxies=(), staircase=steps))
    tr = w.sample("train", 0, 40000)
    for s in steps:
        assert abs((chi(tr.a, s.latents) * tr.y).mean().item() - (2 * s.rho - 1)) < 0.02


def test_pixels_render_latents_with_noise():
    c = HierarchyConfig(noise=0.0)
    w = HierarchyWorld(c)
    b = w.sample("probe", 0, 10)
    x = b.x.reshape(10, c.n_latents, c.pixels_per_latent)
    assert torch.allclose(x, b.a[:, :, None] * w.U[None])


def test_views_partition_the_pixels():
    w = HierarchyWorld(HierarchyConfig(n_views=2))
    views = w.view_index()
    assert len(views) == 2 and sorted(sum(views, [])) == list(range(w.input_dim))


@pytest.mark.parametrize("kwargs, field", [
    (dict(proxies=(Proxy((4,), 1.5),)), "world.proxies[0].rho"),
    (dict(proxies=(Proxy((16,), 0.9),)), "world.proxies[0].latents"),
    (dict(proxies=(Proxy((1,), 0.9),)), "world.proxies[0].latents"),  # inside the target: not a proxy
    (dict(target=()), "world.target"),
    (dict(n_views=3), "world.n_views"),
    (dict(staircase=(StaircaseStep((0, 1), 0.9), StaircaseStep((0,), 0.95))), "world.staircase[1].latents"),
    (dict(staircase=(StaircaseStep((0,), 0.9), StaircaseStep((0, 1), 0.7))), "world.staircase[1].rho"),
])
def test_bad_world_configs_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as e:
        HierarchyConfig(**kwargs)
    assert e.value.field == field and "accepted" in str(e.value)


def test_negative_width_is_rejected():
    with pytest.raises(ConfigError, match="model.width"):
        MLPConfig(width=-3)


# -- oversight cue, hidden latents, commands, label objectives ------------------------------------

def test_overseen_only_training_keeps_deployment_uniform():
    w = HierarchyWorld(HierarchyConfig(cue=6, overseen_only=True, n_train=1024))
    assert bool((w.train_set().a[:, 6] == 1).all())
    dep = w.sample("deploy", 0, 2048)
    assert abs(float(dep.a[:, 6].mean())) < 0.01  # antithetic pairs: exactly balanced


def test_hidden_latent_pixels_are_noise_only():
    c = HierarchyConfig(hidden=(6,), noise=0.5)
    b = HierarchyWorld(c).sample("deploy", 0, 4096)
    R = c.pixels_per_latent
    pix = b.x[:, 6 * R:7 * R]
    assert abs(float((pix * b.a[:, 6:7]).mean())) < 0.03  # no signal of a_6
    seen = b.x[:, 7 * R:8 * R]
    assert float((seen * b.a[:, 7:8]).abs().mean()) > 0.3  # a visible latent's pixels do carry it


def test_gated_and_proxy_objectives_label_as_documented():
    w = HierarchyWorld(HierarchyConfig(cue=6, objective="gated"))
    b = w.sample("deploy", 0, 512)
    want = torch.where(b.a[:, 6] > 0, chi(b.a, (0, 1, 2, 3)), b.a[:, 4])
    assert torch.equal(b.y, want)
    b = HierarchyWorld(HierarchyConfig(objective="proxy")).sample("train", 0, 512)
    assert torch.equal(b.y, b.a[:, 4])


def test_command_channel_labels_and_held_out_commands():
    c = HierarchyConfig(objective="command", commands=((0, 1), (2,)), heldout_commands=((3, 5),), n_train=256)
    w = HierarchyWorld(c)
    assert c.input_dim == 16 * 4 + 16
    tr = w.train_set()
    assert set(tr.cmd.tolist()) == {0, 1}  # held-out commands never appear in training
    for k, S in enumerate(c.all_commands):
        rows = tr if k < 2 else w.sample("deploy", 0, 64)
        sel = rows.cmd == k
        assert torch.equal(rows.y[sel], chi(rows.a[sel], S))
        mask = rows.x[sel][:, 64:]
        assert torch.equal(mask[0], torch.tensor([1.0 if i in S else 0.0 for i in range(16)]))
    dep = w.sample("deploy", 0, 600)
    assert set(dep.cmd.tolist()) == {0, 1, 2} and torch.equal(dep.cmd[0::2], dep.cmd[1::2])
    # a world with a command channel but a fixed objective shows the null command (all zeros)
    fixed = HierarchyWorld(HierarchyConfig(commands=((0, 1),)))
    b = fixed.sample("train", 0, 64)
    assert bool((b.x[:, 64:] == 0).all()) and bool((b.cmd == -1).all())


def test_new_world_fields_are_checked():
    for kw, field in [(dict(cue=2), "world.cue"), (dict(overseen_only=True), "world.overseen_only"),
                      (dict(objective="gated"), "world.objective"), (dict(objective="nope"), "world.objective"),
                      (dict(objective="command"), "world.commands"), (dict(commands=((0, 99),)), "world.commands"),
                      (dict(commands=((0, 1),), heldout_commands=((1, 0),)), "world.heldout_commands"),
                      (dict(hidden=(40,)), "world.hidden")]:
        with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
            HierarchyConfig(**kw)


def test_effects_render_their_monomials_and_leave_every_input_unchanged():
    base = HierarchyConfig(n_train=256)
    c = HierarchyConfig(n_train=256, effects=((0, 1), (2, 5, 7)), effect_pixels=3, noise=0.0)
    w0, w = HierarchyWorld(replace(base, noise=0.0)), HierarchyWorld(c)
    for split in ("train", "deploy"):
        b0, b = w0.sample(split, 100, 300), w.sample(split, 100, 300)
        assert torch.equal(b.x, b0.x) and torch.equal(b.y, b0.y) and torch.equal(b.a, b0.a)
        assert b0.e is None and b.e.shape == (300, 2 * 3) and c.effect_dim == 6
        for k, S in enumerate(c.effects):  # noiseless effect pixels are ±V_S: their sign pattern is χ_S's
            px = b.e[:, 3 * k:3 * (k + 1)]
            torch.testing.assert_close(px, chi(b.a, S)[:, None] * w.V[k][None])
    assert c.input_dim == base.input_dim  # effects are never inputs
    assert HierarchyWorld(replace(c, objective="effects")).sample("train", 0, 64).e is not None
    for kw, field in [(dict(objective="effects"), "world.effects"), (dict(effects=((0, 99),)), "world.effects[0]"),
                      (dict(effects=((0,),), effect_pixels=0), "world.effect_pixels")]:
        with pytest.raises(ConfigError) as e:
            HierarchyConfig(**kw)
        assert e.value.field == field


# -- a live command channel beside a fixed objective (command_share) -------------------------------------

SHARE_WORLD = HierarchyConfig(target=(0, 1), proxies=(Proxy((4,), 0.9),), commands=((0, 1), (4,), (2, 6)),
                              heldout_commands=((3,),), n_train=4096)


@pytest.mark.parametrize("objective, label", [("target", (0, 1)), ("proxy", (4,))])
def test_command_share_shows_commands_on_that_share_of_training_samples_only(objective, label):
    plain = replace(SHARE_WORLD, objective=objective)
    w0, w = HierarchyWorld(plain), HierarchyWorld(replace(plain, command_share=0.5))
    b0, b = w0.train_set(), w.train_set()
    on = b.cmd >= 0
    assert abs(on.float().mean().item() - 0.5) < 0.03 and set(b.cmd[on].tolist()) == {0, 1, 2}  # training ones
    px = 16 * 4  # the latents' pixels and the latents themselves are the world's without the share
    assert torch.equal(b.x[:, :px], b0.x[:, :px]) and torch.equal(b.a, b0.a)
    torch.testing.assert_close(b.x[:, px:], w.command_masks[b.cmd.clamp_min(0)] * on[:, None].float())
    for k, S in enumerate(SHARE_WORLD.commands):  # a commanded sample carries its command's label χ_S
        rows = b.cmd == k
        assert torch.equal(b.y[rows], chi(b.a[rows], S))
    assert torch.equal(b.y[~on], chi(b.a[~on], label)) and torch.equal(b.y[~on], b0.y[~on])
    # the proxy still agrees with the target at ρ over the training set, commanded samples included
    assert abs((chi(b.a, (4,)) == chi(b.a, (0, 1))).float().mean().item() - 0.9) < 0.02
    for split in ("deploy", "probe"):  # deployment shows no command, exactly as without the share
        d0, d = w0.sample(split, 0, 512), w.sample(split, 0, 512)
        assert bool((d.cmd == -1).all()) and torch.equal(d.x, d0.x) and torch.equal(d.y, d0.y)
    cw = w.command_world()  # command following is still measured on the command objective
    assert cw.config.objective == "command" and cw.config.command_share == 0.0


def test_command_share_is_checked_and_leaves_existing_run_ids_alone():
    from greedlab.experiment import RunSpec, Stage
    from greedlab.train import TrainConfig

    for kw in (dict(command_share=1.0), dict(command_share=-0.1), dict(command_share="half"),
               dict(command_share=0.5, commands=()), dict(command_share=0.5, objective="command")):
        with pytest.raises(ConfigError) as e:
            replace(SHARE_WORLD, **{"heldout_commands": (), **kw})
        assert e.value.field == "world.command_share" and "\n" not in str(e.value)
    # a run's key holds the field only when it is set: runs of worlds with a command channel stored
    # before it existed keep their ids (every id here was computed before the field was added)
    w = HierarchyConfig(target=(0, 1), proxies=(Proxy((4,), 0.9),), commands=((0, 1), (4,)), heldout_commands=((2,),))
    staged = RunSpec(world=w, stages=(Stage(replace(w, objective="command"), TrainConfig(steps=10)),
                                      Stage(w, TrainConfig(steps=10))))
    assert (staged.run_id, RunSpec(world=w).run_id) == ("4780b8939aa5af30", "129aa8829b6b25f0")
    assert "command_share" not in str(staged.config())
    live = replace(w, command_share=0.5)
    assert RunSpec(world=live).run_id != RunSpec(world=w).run_id and "command_share" in str(RunSpec(world=live).config())
    # runs that key their measured world in full (LLC runs, monitored runs) leave it out at its default too
    from greedlab.experiment import world_key
    from greedlab.llc_runs import LLCRunSpec

    assert "command_share" not in world_key(w) and world_key(live)["command_share"] == 0.5
    # (its id is not pinned: the LLC estimator's own settings are in it, and they changed with its fix)
    assert "command_share" not in str(LLCRunSpec(run=RunSpec(world=w), measured=w).config())


# -- per-latent gains (a data designer's rendering knob) -------------------------------------------

def test_gains_scale_one_latents_signal_and_leave_every_other_input_unchanged():
    base = HierarchyConfig(n_train=512)
    c = replace(base, gains=((0, 2.0), (5, 0.0)))
    w0, w = HierarchyWorld(base), HierarchyWorld(c)
    R = base.pixels_per_latent
    for split in ("train", "deploy"):
        b0, b = w0.sample(split, 0, 2048), w.sample(split, 0, 2048)
        assert torch.equal(b.a, b0.a) and torch.equal(b.y, b0.y)  # the same latents and labels
        assert torch.equal(b.x[:, R:5 * R], b0.x[:, R:5 * R]) and torch.equal(b.x[:, 6 * R:], b0.x[:, 6 * R:])
        # latent 0's signal doubles, the noise is the same draw: x = g·a·U + σε
        assert torch.allclose(b.x[:, :R] - b0.x[:, :R], b0.a[:, :1] * w0.U[0], atol=1e-5)
        # gain 0 leaves only the noise, as a hidden latent
        assert torch.allclose(b.x[:, 5 * R:6 * R], b0.x[:, 5 * R:6 * R] - b0.a[:, 5:6] * w0.U[5], atol=1e-5)
    assert torch.allclose(w.U[0], 2 * w0.U[0]) and float(w.U[5].abs().sum()) == 0.0


@pytest.mark.parametrize("gains", [((16, 2.0),), ((0, -1.0),), ((0, float("inf")),), ((0, 2.0), (0, 3.0)),
                                   ((0,),), [(0, 2.0)], ((True, 2.0),), ((0, "2"),)])
def test_bad_gains_fail_naming_the_field(gains):
    with pytest.raises(ConfigError) as e:
        HierarchyConfig(gains=gains)
    assert e.value.field == "world.gains" and "\n" not in str(e.value)


def test_gains_leave_existing_run_ids_alone():
    """The field enters a run's key only when set: every id here was computed before it existed."""
    from greedlab.experiment import RunSpec, world_key
    from greedlab.llc_runs import LLCRunSpec

    w = HierarchyConfig()
    e = replace(w, target=(0,), proxies=(Proxy((4,), 1.0),), rendering="identity")
    assert (RunSpec(world=w).run_id, RunSpec(world=e).run_id) == ("d58ce81cc21210c3", "6ab6558e766e4d2f")
    assert "gains" not in str(LLCRunSpec(run=RunSpec(world=w), measured=w).config())  # id not pinned: see above
    assert "gains" not in str(RunSpec(world=w).config()) and "gains" not in world_key(w)
    set_ = replace(w, gains=((0, 2.0),))
    assert RunSpec(world=set_).run_id != RunSpec(world=w).run_id and world_key(set_)["gains"] == ((0, 2.0),)
