"""The starvation measure against models built by hand: one at zero loss through the target (nothing
left to learn), two fitting their training set through the proxy while the target is not represented
(starved: the proxy decisive on every training example, or the proxy plus the memorized examples it
gets wrong), and one in mid-learning whose gradient does point at the target."""

from dataclasses import replace
from itertools import combinations

import torch

from greedlab.controls import linear_on_latent, memorizing_proxy_mlp, parity_mlp
from greedlab.instruments.reliance import soft_decision
from greedlab.instruments.starvation import pull, reference_set
from greedlab.train import logistic_loss
from greedlab.worlds import HierarchyConfig, Proxy, chi, make_world


def world(rho):  # the default world (claims.presets.world), built here so this test imports no claim
    return replace(HierarchyConfig(), proxies=(Proxy((4,), rho),))

T = (0, 1, 2, 3)
N_TRAIN, N_DEPLOY = 2048, 4096  # what a run at the quick scale reads (eval_samples 4,096; half of it for train)


def unrewarded(n_latents: int) -> list[tuple[int, ...]]:
    """Same-level features over latents neither the target nor the proxy uses: every 7th of the 330 (48)."""
    free = [i for i in range(n_latents) if i not in set(T) | {4}]
    return list(combinations(free, len(T)))[::7]


def read(w, model, params):
    """(pull, alignment) of one model toward the target, the proxy, the reference, then the unrewarded
    features, on the first N_TRAIN training examples and N_DEPLOY deployment rows."""
    tr, dep = w.train_set()[:N_TRAIN], w.sample("deploy", 0, N_DEPLOY)
    feats = [T, (4,), reference_set(len(T), w.config.n_latents, set(T) | {4})] + unrewarded(w.config.n_latents)
    p, a = pull(model, params, tr.x, tr.y, dep.x, torch.stack([chi(dep.a, S) for S in feats], 1), logistic_loss)
    return p[0], a[0]


def target_reliance(w, model, params) -> float:
    dep = w.sample("deploy", 0, N_DEPLOY)
    return float((soft_decision(model.forward(params, dep.x)[0])[0] * chi(dep.a, T)).mean())


def test_the_hand_built_controls_read_apart():
    learning = make_world(world(0.5))
    decisive = make_world(world(1.0))  # the proxy agrees with the label on every training example
    excepted = make_world(world(0.97))  # the proxy is wrong on ~3% of them: fitting means memorizing those
    tr = excepted.train_set()[:N_TRAIN]
    memorizer = memorizing_proxy_mlp(excepted, 4, tr.x, tr.y, gain=8.0)
    f_tr = memorizer[0].forward(memorizer[1], tr.x)[0][0]
    assert bool((torch.sign(f_tr) == tr.y).all())  # it fits every training example, exceptions included ...
    assert abs(target_reliance(excepted, *memorizer)) < 0.02  # ... with the target not represented
    fitted = read(learning, *parity_mlp(learning, T, gain=12.0))
    mid = read(learning, *parity_mlp(learning, T, gain=0.5))
    starved = {"decisive": read(decisive, *linear_on_latent(decisive, 4, gain=8.0)),
               "memorizing": read(excepted, *memorizer)}
    # mid-learning: the descent direction is aimed at the target, and strongly
    assert mid[0][0] > 0.05 and mid[1][0] > 0.9
    # ... and not at a same-level feature no label rewards. In a network this small (601 parameters) the
    # gradient of reliance on such a feature is finite-sample noise whose direction can fall anywhere in
    # the few directions the model has, so these features' alignments scatter (SD ≈ 0.1–0.2 at these
    # sample sizes), the reference among them: the target's stands far outside that scatter
    assert mid[1][0] > 2 * mid[1][2:].abs().max()
    # fitted through the target: nothing left to learn, the pull vanishes
    assert abs(fitted[0][0]) < 1e-3 * mid[0][0]
    # starved, both ways: the training set is fit through the proxy (and, where the proxy errs, memorized);
    # the pull toward the target is a small fraction of the learning model's though the target is not
    # relied upon at all, and what is left of the descent direction aims at the target no more than at
    # an unrewarded feature: its alignment lies inside their scatter
    for p, a in starved.values():
        assert abs(p[0]) < 0.01 * mid[0][0]
        assert abs(a[0]) < 2 * a[3:].std()


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
