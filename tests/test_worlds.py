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
