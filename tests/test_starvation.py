"""The starvation measure against models built by hand: one at zero loss through the target (nothing
left to learn), one fitting its training set through the proxy while the target is not represented
(starved), and one in mid-learning whose gradient does point at the target."""

import torch

from greedlab.controls import linear_on_latent, parity_mlp
from greedlab.instruments.starvation import pull, reference_set
from greedlab.train import logistic_loss
from dataclasses import replace

from greedlab.worlds import HierarchyConfig, Proxy, chi, make_world


def world(rho):  # the default world (claims.presets.world), built here so this test imports no claim
    return replace(HierarchyConfig(), proxies=(Proxy((4,), rho),))

T = (0, 1, 2, 3)


def _read(w, model, params, n=2048):
    tr, dep = w.train_set()[:n], w.sample("deploy", 0, n)
    ref = reference_set(4, w.config.n_latents, set(T) | {4})
    chis = torch.stack([chi(dep.a, T), chi(dep.a, (4,)), chi(dep.a, ref)], 1)
    p, a = pull(model, params, tr.x, tr.y, dep.x, chis, logistic_loss)
    return p[0], a[0]


def test_the_three_hand_built_controls_read_apart():
    learning = make_world(world(0.5))
    starved_world = make_world(world(1.0))  # the proxy agrees with the label on every training example
    fitted = _read(learning, *parity_mlp(learning, T, gain=12.0))
    starved = _read(starved_world, *linear_on_latent(starved_world, 4, gain=8.0))
    mid = _read(learning, *parity_mlp(learning, T, gain=0.5))
    # mid-learning: the descent direction is aimed at the target, and strongly
    assert mid[0][0] > 0.05 and mid[1][0] > 0.5
    # ... and not at a same-level feature no label rewards
    assert abs(mid[0][2]) < 0.1 * mid[0][0]
    # fitted through the target: nothing left to learn, the pull vanishes
    assert abs(fitted[0][0]) < 1e-3 * mid[0][0]
    # starved: the training set is fit through the proxy; the pull toward the target is a small
    # fraction of the learning model's, though the target is not relied upon at all
    assert abs(starved[0][0]) < 0.01 * mid[0][0]
    assert starved[0][0] < starved[0][2]  # below even the unrewarded reference feature's pull


def test_reference_feature_avoids_the_target_and_proxy():
    assert reference_set(4, 16, {0, 1, 2, 3, 4}) == (12, 13, 14, 15)
    assert not set(reference_set(2, 6, {4, 5})) & {4, 5}


def test_runs_read_the_measure_when_asked_and_memorization_always():
    import numpy as np

    from greedlab.experiment import RunSpec, measure, seeds
    from greedlab.models import MLPConfig
    from greedlab.train import TrainConfig
    w = replace(world(0.9), n_train=1024)
    base = dict(world=w, model=MLPConfig(width=16), train=TrainConfig(steps=10, n_evals=2, batch_size=32),
                eval_samples=256, **seeds(2))
    plain = measure(RunSpec(**base))
    assert "pull" not in set(plain["instrument"]) and "exception_acc" in set(plain["instrument"])
    assert RunSpec(**base, starvation=True).run_id != RunSpec(**base).run_id
    cols = measure(RunSpec(**base, starvation=True))
    feats = set(cols["feature"][cols["instrument"] == "pull"])
    assert {"target", "proxy0", "reference"} <= feats
    exc = cols["value"][(cols["instrument"] == "exception_acc")]
    assert np.isfinite(exc).all() and ((exc >= 0) & (exc <= 1)).all()
