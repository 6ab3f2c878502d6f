"""Real-data worlds: the datasets as their own generators make them, the marker at ρ in training and
balanced at deployment, and counterfactual re-renderings that change exactly what they say."""

import numpy as np
import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.worlds import RealConfig, RealWorld, make_world
from greedlab.worlds.hierarchy import HierarchyConfig, HierarchyWorld
from greedlab.worlds.real import COUNTERFACTUALS, load_classes


@pytest.fixture(scope="module")
def digits():
    return RealWorld(RealConfig(dataset="digits", rho=0.9))


def test_mnist1d_is_the_packages_default_dataset_generated_locally_without_touching_global_rng():
    from mnist1d.data import get_dataset_args, make_dataset

    state = np.random.get_state()[1].copy()
    x_tr, c_tr, x_te, c_te = load_classes("mnist1d")
    assert np.array_equal(np.random.get_state()[1], state)   # the generator's set_seed was undone
    assert x_tr.shape == (4000, 40) and x_te.shape == (1000, 40) and set(c_tr.tolist()) == set(range(10))
    ref = make_dataset(get_dataset_args())
    np.testing.assert_allclose(x_tr, ref["x"], rtol=1e-6, atol=1e-6)
    assert np.array_equal(c_te, ref["y_test"])


def test_digits_split_and_scale(digits):
    x_tr, c_tr, x_te, c_te = load_classes("digits")
    assert len(c_tr) + len(c_te) == 1797 and len(c_te) == 600
    assert abs(float(x_tr.mean())) < 1e-3 and abs(float(x_tr.std()) - 1) < 1e-3
    assert digits.size("train") == 1197 and digits.size("deploy") == 600 and digits.size("probe") == 600


def test_label_is_the_class_grouping_and_latents_are_label_and_marker(digits):
    b = digits.train_set()
    classes = digits._classes["train"]
    assert torch.equal(b.y, torch.where(classes <= 4, 1.0, -1.0))
    assert torch.equal(b.a[:, 0], b.y) and set(b.a[:, 1].tolist()) == {-1.0, 1.0}
    odd = RealWorld(RealConfig(dataset="digits", positive=(1, 3, 5, 7, 9))).train_set()
    assert torch.equal(odd.y, torch.where(classes % 2 == 1, 1.0, -1.0))


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0])
def test_marker_agrees_at_rho_in_training_and_is_exactly_balanced_at_deployment(rho):
    w = RealWorld(RealConfig(dataset="digits", rho=rho))
    tr = w.train_set()
    agree = (tr.a[:, 1] == tr.y).float().mean().item()
    assert abs(agree - rho) < 1e-3                       # exactly round(ρ·n) agreeing samples
    for split in ("deploy", "probe"):
        b = w.sample(split, 0, 10_000)
        m = b.a[:, 1]
        assert torch.equal(m[0::2], -m[1::2])            # antithetic pairs of one image
        assert torch.equal(b.y[0::2], b.y[1::2])
        assert (m * b.y).sum().item() == 0               # marker ⟂ label on the sample itself


def test_marker_is_written_at_its_positions_and_nowhere_else(digits):
    b = digits.sample("deploy", 0, 20)
    img = digits._images["deploy"][torch.arange(20) // 2]
    pos = digits.marker_pos
    assert torch.allclose(b.x[:, pos], b.a[:, 1:2] * digits.pattern)
    rest = [i for i in range(64) if i not in pos]
    assert torch.equal(b.x[:, rest], img[:, rest])


def test_samples_are_reproducible_by_index_and_a_finite_split_stops_at_its_end(digits):
    full = digits.sample("deploy", 0, 10_000)
    assert len(full) == 600
    part = RealWorld(RealConfig(dataset="digits", rho=0.9)).sample("deploy", 100, 50)
    assert torch.equal(part.x, full.x[100:150]) and torch.equal(part.a, full.a[100:150])
    assert len(digits.sample("deploy", 590, 50)) == 10
    other = RealWorld(RealConfig(dataset="digits", rho=0.9, seed=1)).sample("deploy", 0, 600)
    assert not torch.equal(other.a, full.a)             # the world seed redraws the markers


def test_counterfactuals_change_exactly_what_they_name(digits):
    cf = digits.counterfactuals("deploy", 200)
    base = digits.sample("deploy", 0, 200)
    assert set(cf) == set(COUNTERFACTUALS)
    pos = digits.marker_pos
    rest = [i for i in range(64) if i not in pos]
    m, y = base.a[:, 1], base.y
    for kind, b in cf.items():
        assert torch.equal(b.y, y), kind                 # labels stay the rows' own
    assert torch.equal(cf["random"].x, base.x)
    assert torch.allclose(cf["aligned"].x[:, pos], y[:, None] * digits.pattern)
    assert torch.allclose(cf["opposed"].x[:, pos], -y[:, None] * digits.pattern)
    assert torch.allclose(cf["flipped"].x[:, pos], -m[:, None] * digits.pattern)
    for kind in ("aligned", "opposed", "flipped"):
        assert torch.equal(cf[kind].x[:, rest], base.x[:, rest])
    img = digits._images["deploy"][torch.arange(200) // 2]
    assert torch.equal(cf["removed"].x, img)
    destroyed = cf["class_destroyed"].x
    assert torch.allclose(destroyed[:, pos], y[:, None] * digits.pattern)
    assert not torch.equal(destroyed[:, rest], base.x[:, rest])
    # every row's other pixels are another image of the split, never its own
    others = digits._images["deploy"][:, rest]
    match = (destroyed[:, None, rest] == others[None]).all(-1)
    assert torch.all(match.sum(1) >= 1) and not torch.any(match[torch.arange(200), torch.arange(200) // 2])


def test_make_world_dispatches_on_the_config_type():
    assert isinstance(make_world(HierarchyConfig()), HierarchyWorld)
    assert isinstance(make_world(RealConfig(dataset="digits")), RealWorld)


@pytest.mark.parametrize("kwargs, field", [
    (dict(dataset="cifar"), "world.dataset"),
    (dict(positive=()), "world.positive"),
    (dict(positive=tuple(range(10))), "world.positive"),
    (dict(positive=(0, 12)), "world.positive"),
    (dict(rho=1.2), "world.rho"),
    (dict(marker_scale=-1.0), "world.marker_scale"),
    (dict(n_train=0), "world.n_train"),
])
def test_bad_real_configs_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as e:
        RealConfig(**kwargs)
    assert e.value.field == field and "accepted" in str(e.value)


def test_n_train_beyond_the_partition_is_rejected():
    with pytest.raises(ConfigError, match="world.n_train"):
        RealWorld(RealConfig(dataset="digits", n_train=5000))
    assert RealWorld(RealConfig(dataset="digits", n_train=300)).train_set().x.shape == (300, 64)
