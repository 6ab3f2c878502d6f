import math

import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec
from greedlab.models import MLPConfig
from greedlab.optim import ConeDescent, cone_direction
from greedlab.train import TrainConfig, train
from greedlab.worlds import HierarchyConfig, HierarchyWorld, Proxy

WORLD = HierarchyWorld(HierarchyConfig(n_latents=6, target=(0,), proxies=(Proxy((4,), 0.9),), n_train=512))
MODEL = MLPConfig(width=16, depth=2)


def _angle_deg(a, b):
    cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    return torch.rad2deg(torch.arccos(cos.clamp(-1, 1)))


@pytest.mark.parametrize("alpha", [10.0, 30.0, 60.0, 80.0])
def test_direction_lies_in_the_cone_and_beats_sampled_cone_directions(alpha):
    gen = torch.Generator().manual_seed(0)
    D, M = 7, 2000
    g = torch.randn(20, D, generator=gen, dtype=torch.float64)
    v = torch.randn(20, D, generator=gen, dtype=torch.float64)
    d = cone_direction(g, v, alpha)
    torch.testing.assert_close(d.norm(dim=1), torch.ones(20, dtype=torch.float64))
    assert torch.all(_angle_deg(d, -g) <= alpha + 1e-6)
    # sampled unit directions within the cone: u rotated by a random angle ≤ α toward a random orthogonal
    u = -g / g.norm(dim=1, keepdim=True)
    r = torch.randn(20, M, D, generator=gen, dtype=torch.float64)
    r = r - (r * u[:, None]).sum(-1, keepdim=True) * u[:, None]
    r = r / r.norm(dim=-1, keepdim=True)
    phi = torch.rand(20, M, 1, generator=gen, dtype=torch.float64) * math.radians(alpha)
    samples = torch.cos(phi) * u[:, None] + torch.sin(phi) * r
    assert torch.all(_angle_deg(samples, -g[:, None]) <= alpha + 1e-6)
    best_sampled = (samples * v[:, None]).sum(-1).min(1).values
    assert torch.all((d * v).sum(1) <= best_sampled + 1e-9)


def test_inside_the_cone_the_direction_points_straight_at_x0_and_edge_cases_are_finite():
    g = torch.tensor([[1.0, 0.1], [0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    v = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    d = cone_direction(g, v, 30.0)
    torch.testing.assert_close(d[0], torch.tensor([-1.0, 0.0], dtype=torch.float64))  # −v within 6° of −g
    assert torch.equal(d[1], torch.zeros(2, dtype=torch.float64))  # no gradient: no step
    torch.testing.assert_close(d[2], torch.tensor([-1.0, 0.0], dtype=torch.float64))  # at x0: the gradient


def test_alpha_zero_is_plain_gradient_descent():
    a = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(1))
    b = a.clone()
    pa, pb = a.clone().requires_grad_(), b.clone().requires_grad_()
    cone, sgd = ConeDescent([pa], lr=0.1, alpha_deg=0.0), torch.optim.SGD([pb], lr=0.1)
    for k in range(5):
        for p, opt in ((pa, cone), (pb, sgd)):
            opt.zero_grad()
            ((p ** 3).sum() + (p * k).sum()).backward()
            opt.step()
    assert torch.equal(pa, pb)


def _curve_loss(p):
    # minima form the line x = 1; off it the gradient also pulls y toward 0, so plain descent slides
    # along the valley away from the minimum nearest its start
    x, y = p[..., 0], p[..., 1]
    return (0.5 * (x - 1) ** 2 * (1 + y ** 2)).sum()


def _descend(alpha, steps=4000, lr=0.01):
    p = torch.tensor([-3.0, 2.0], dtype=torch.float64, requires_grad=True)
    opt = ConeDescent([p], lr=lr, alpha_deg=alpha, per_model=False)
    for _ in range(steps):
        opt.zero_grad()
        _curve_loss(p).backward()
        opt.step()
    return p.detach()


def test_wide_cone_finds_the_minimum_closest_to_the_start_where_gradient_descent_does_not():
    nearest = torch.tensor([1.0, 2.0], dtype=torch.float64)  # the closest point of x = 1 to (−3, 2)
    gd, cone = _descend(0.0), _descend(80.0)
    assert abs(gd[0] - 1) < 1e-3 and abs(cone[0] - 1) < 1e-3  # both reach a minimum
    assert (gd - nearest).norm() > 1.5  # plain descent slid toward y = 0
    assert (cone - nearest).norm() < 1e-3
    assert (_descend(30.0) - nearest).norm() > (_descend(60.0) - nearest).norm() > (cone - nearest).norm()


def test_per_model_cones_equal_each_model_alone():
    gen = torch.Generator().manual_seed(2)
    start = [torch.randn(3, 4, 2, generator=gen), torch.randn(3, 1, 2, generator=gen)]

    def run(tensors):
        ps = [t.clone().requires_grad_() for t in tensors]
        opt = ConeDescent(ps, lr=0.05, alpha_deg=60.0)
        for _ in range(10):
            opt.zero_grad()
            sum(torch.log1p((p - 1) ** 2 * (1 + p.detach().abs())).sum() for p in ps).backward()
            opt.step()
        return ps

    together = run(start)
    for n in range(3):
        alone = run([t[n:n + 1] for t in start])
        for pt, pa in zip(together, alone):
            torch.testing.assert_close(pt[n:n + 1], pa, rtol=1e-5, atol=1e-6)


def test_trainer_accepts_cone_and_checks_its_fields():
    cfg = TrainConfig(optimizer="cone", cone_alpha=60.0, lr=0.1, steps=20, batch_size=32)
    ens = train(WORLD, MODEL, cfg, [0, 1], [5, 6])
    alone = train(WORLD, MODEL, cfg, [1], [6])
    for pe, pa in zip(ens, alone):
        torch.testing.assert_close(pe[1:], pa, rtol=1e-4, atol=1e-5)
    sgd = train(WORLD, MODEL, TrainConfig(optimizer="sgd", lr=0.1, steps=20, batch_size=32), [0], [5])
    zero = train(WORLD, MODEL, TrainConfig(optimizer="cone", lr=0.1, steps=20, batch_size=32), [0], [5])
    for a, b in zip(sgd, zero):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    for field, kw in (("train.cone_alpha", dict(cone_alpha=90.0)), ("train.cone_alpha", dict(cone_alpha=-1.0)),
                      ("train.l1", dict(l1=-0.1)), ("train.spectral_decoupling", dict(spectral_decoupling=float("nan"))),
                      ("train.optimizer", dict(optimizer="cones"))):
        with pytest.raises(ConfigError) as e:
            TrainConfig(**kw)
        assert e.value.field == field


def test_new_training_fields_at_their_defaults_keep_old_run_ids():
    spec = RunSpec()
    assert "cone_alpha" not in spec.config()["train"] and "l1" not in spec.config()["train"]
    assert RunSpec(train=TrainConfig(l1=1e-4)).run_id != spec.run_id


def _final(**kw):
    cfg = TrainConfig(optimizer="sgd", lr=0.2, steps=60, batch_size=64, **kw)
    params = train(WORLD, MODEL, cfg, [0, 1], [5, 6])
    logits, _ = MODEL.forward(params, WORLD.train_set().x[None].expand(2, -1, -1))
    return params, logits


def test_regularizers_off_leave_training_bitwise_unchanged_and_on_shrink_what_they_penalize():
    base, base_logits = _final()
    off, _ = _final(spectral_decoupling=0.0, l1=0.0)
    assert all(torch.equal(a, b) for a, b in zip(base, off))
    _, sd_logits = _final(spectral_decoupling=0.5)
    assert (sd_logits ** 2).mean() < 0.7 * (base_logits ** 2).mean()
    l1, _ = _final(l1=3e-3)
    weights = lambda ps: sum(p.abs().sum() for p in ps[0::2])  # noqa: E731  (MLP: W0, b0, W1, b1, …)
    assert weights(l1) < 0.8 * weights(base)


def test_cone_and_regularizers_are_reachable_from_set_flags():
    from greedlab import config

    ov = config.load(None, ["train.optimizer=cone", "train.cone_alpha=30", "train.l1=1e-5",
                            "train.spectral_decoupling=0.1"])
    _, _, tr = config.apply(ov, HierarchyConfig(), MODEL, TrainConfig())
    assert (tr.optimizer, tr.cone_alpha, tr.l1, tr.spectral_decoupling) == ("cone", 30.0, 1e-5, 0.1)
    with pytest.raises(ConfigError) as e:
        config.apply(config.load(None, ["train.cone_alpha=95"]), HierarchyConfig(), MODEL, TrainConfig())
    assert e.value.field == "train.cone_alpha"
