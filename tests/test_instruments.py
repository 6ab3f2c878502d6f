"""Every instrument against models built to have (positive control) or lack (negative control)
the property it measures."""

import numpy as np
import pytest
import torch

from dataclasses import replace

from greedlab.controls import Oracle, linear_on_latent, parity_mlp
from greedlab.instruments import EvalSet, evaluate, gradient_signal, onset, pointed_agreement, reliance
from greedlab.models import MLPConfig, init_mlp
from greedlab.worlds import HierarchyConfig, HierarchyWorld, Proxy, chi


@pytest.fixture(scope="module")
def world():
    return HierarchyWorld(HierarchyConfig())


@pytest.fixture(scope="module")
def ev(world):
    return EvalSet.build(world, n_deploy=4096, n_probe=2048, n_train=4096)


def test_reliance_of_a_hand_built_target_model(world, ev):
    out = evaluate(*parity_mlp(world, (0, 1, 2, 3)), ev)
    assert out["reliance", "target"].item() > 0.95
    for f in ["proxy0", "a0", "a1", "a5"]:
        assert abs(out["reliance", f].item()) < 0.05
    assert out["reliance_se", "proxy0"].item() < 0.02


def test_reliance_of_a_proxy_model(world, ev):
    out = evaluate(*linear_on_latent(world, 4), ev)
    assert out["reliance", "proxy0"].item() > 0.8
    assert abs(out["reliance", "target"].item()) < 0.05


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_hard_reliance_of_an_exact_target_model_is_one_at_every_logit_scale(noise):
    # Oracle("target", gain=s) outputs s·χ_T(â): soft reliance is tanh(s/2), hard reliance only
    # counts its decisions; with pixel noise a few latents are misread (3 of 4096 rows here), the
    # same rows at every scale
    w = HierarchyWorld(replace(HierarchyConfig(), noise=noise))
    ev = EvalSet.build(w, n_deploy=4096, n_probe=256, n_train=256)
    hard, soft = [], []
    for s in (1.0, 2.0, 3.0, 6.0):
        oracle = Oracle(w, "target", gain=s)
        out = evaluate(oracle, oracle.init(w.input_dim, [0]), ev)
        hard.append(out["hard_reliance", "target"].item())
        soft.append(out["reliance", "target"].item())
        assert out["hard_reliance_se", "target"].item() < 1e-3
        assert abs(out["hard_reliance", "proxy0"].item()) < 0.05
    assert min(hard) > 0.998 and max(hard) - min(hard) < 1e-6
    if noise == 0:
        assert hard == [1.0] * 4
    np.testing.assert_allclose(soft, np.tanh(np.array([1.0, 2.0, 3.0, 6.0]) / 2) * np.array(hard), atol=2e-3)
    assert soft[0] < 0.5 and soft[2] < 0.95   # soft mixes confidence in: below 1 at small scales


def test_hard_reliance_of_a_proxy_model_is_its_agreement(world, ev):
    cfg, params = linear_on_latent(world, 4, gain=1.0)
    out = evaluate(cfg, params, ev)
    f, _ = cfg.forward(params, ev.deploy.x)
    agree = (torch.sign(f[0]) == chi(ev.deploy.a, (4,))).float().mean().item()
    assert out["hard_reliance", "proxy0"].item() == pytest.approx(2 * agree - 1, abs=1e-6)
    assert out["hard_reliance", "proxy0"].item() > 0.99
    assert out["reliance", "proxy0"].item() < 0.5    # timid logits: soft reads the confidence too
    assert abs(out["hard_reliance", "target"].item()) < 0.05


def test_reliance_squares_sum_to_at_most_one():
    logits = torch.randn(3, 4096) * 3
    a = torch.randint(0, 2, (4096, 6)).float() * 2 - 1
    chis = torch.stack([chi(a, S) for S in [(0,), (1,), (0, 1), (2, 3, 4)]], dim=1)
    r, _ = reliance(logits, chis)
    assert torch.all((r ** 2).sum(1) <= 1.05)


def test_decodability_sees_chi_T_only_where_it_is_held_explicitly(world, ev):
    out = evaluate(*parity_mlp(world, (0, 1, 2, 3)), ev)
    assert out["decodability:hidden.1", "target"].item() > 0.95   # positive: held linearly
    assert out["decodability:hidden.0", "target"].item() < 0.6    # negative: only the latents
    assert out["decodability:hidden.0", "a0"].item() > 0.95


def test_random_network_does_not_represent_the_target(world, ev):
    cfg = MLPConfig(width=64, depth=2)
    out = evaluate(cfg, init_mlp(cfg, world.input_dim, [0, 1]), ev)
    assert torch.all(out["decodability:hidden.1", "target"] < 0.7)
    assert torch.all(out["decodability:hidden.0", "a3"] > 0.9)   # level-1 features are linear in the input


def test_gradient_signal_at_zero_function_and_after_fit(world):
    tr = world.sample("train", 0, 8192)
    chis = torch.stack([chi(tr.a, (0, 1, 2, 3)), chi(tr.a, (4,))], dim=1)
    zero = gradient_signal(torch.zeros(1, len(tr)), tr.y, chis)
    torch.testing.assert_close(zero[0, 0].item(), 0.5, rtol=0, atol=1e-6)
    assert abs(zero[0, 1].item() - 0.5 * 0.8) < 0.02   # proxy agrees at ρ = 0.9: E[y χ_P] = 0.8
    fitted = gradient_signal(20 * tr.y[None], tr.y, chis)
    assert fitted.abs().max() < 1e-6                    # nothing left to learn: starved everywhere


def test_onset_is_the_first_crossing():
    steps = np.array([0, 10, 100, 1000])
    vals = np.array([[0.0, 0.6, 0.4, 0.9], [0.0, 0.1, 0.2, 0.3]])
    np.testing.assert_array_equal(onset(steps, vals, 0.5), [10, np.inf])


def test_disagreement_counts_differing_predictions():
    from greedlab.instruments import disagreement
    a = torch.tensor([1.0, 1.0, -1.0, -1.0])
    logits = torch.stack([a, a, -a])          # third model flips every prediction
    d = disagreement(logits)
    torch.testing.assert_close(d, torch.tensor([0.5, 0.5, 1.0]))
    assert disagreement(torch.stack([a, a])).abs().max() == 0   # identical models never disagree


# -- pointing: is the no-command behaviour the model's own commanded computation pointed at S? ----------

LIVE = HierarchyConfig(target=(0, 1), proxies=(Proxy((4,), 0.9),), commands=((0, 1), (4,), (2, 6)),
                       heldout_commands=((3,),), command_share=0.5, n_train=512)


@pytest.fixture(scope="module")
def live_ev():
    return EvalSet.build(HierarchyWorld(LIVE), n_deploy=4096, n_probe=256, n_train=256)


def _pointing(behaviour: str, ev) -> tuple[float, float]:
    oracle = Oracle(HierarchyWorld(LIVE), behaviour)
    out = evaluate(oracle, oracle.init(LIVE.input_dim, [0]), ev)
    return out["pointed_agreement", "proxy0"].item(), out["pointed_agreement", "target"].item()


def test_pointed_agreement_reads_the_gps_pointed_at_the_proxy_and_at_the_target(live_ev):
    # positive control: built to be the GPS pointed at {4} (a_4 with no command, χ_S when shown S)
    proxy, target = _pointing("gps-proxy", live_ev)
    assert proxy == 1.0 and abs(target - 0.5) < 0.03
    # negative control: the same GPS pointed at the target {0, 1} instead
    proxy, target = _pointing("gps-target", live_ev)
    assert abs(proxy - 0.5) < 0.03 and target == 1.0
    # a model deaf to the channel agrees with itself under every command: only the difference of the
    # two agreements tells where a model is pointed (0 here), and only where it follows commands at all
    proxy, target = _pointing("target", live_ev)
    assert proxy == target == 1.0
    assert set(live_ev.pointed) == {"target", "proxy0"}  # the sets that are commands of the world
    # a proxy's exceptions are samples that show no command (commanded ones carry χ_S, not the target's label)
    exc = live_ev.exceptions["proxy0"]
    assert len(exc) > 10 and bool((exc.x[:, 16 * 4:] == 0).all()) and bool((chi(exc.a, (4,)) != exc.y).all())


def test_pointed_agreement_is_the_share_of_equal_decisions_and_needs_a_live_channel():
    f_none = torch.tensor([[2.0, -1.0, 0.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    f_cmd = torch.tensor([[0.5, 1.0, 0.0, -3.0], [2.0, 3.0, -1.0, -2.0]])
    assert pointed_agreement(f_none, f_cmd).tolist() == [0.5, 0.5]
    # a world whose channel is not kept live in training gets no such rows (its runs keep their cost)
    ev = EvalSet.build(HierarchyWorld(replace(LIVE, command_share=0.0)), n_deploy=256, n_probe=64, n_train=64)
    assert ev.pointed == {}
