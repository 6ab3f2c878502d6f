"""World and training options the literature uses, so published set-ups can be re-run through
greedlab's API: identity rendering, online sampling, hinge and square losses."""

from dataclasses import replace

import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec, measure, seeds
from greedlab.models import MLPConfig
from greedlab.train import TrainConfig, train
from greedlab.worlds import HierarchyConfig, make_world, sparse_parity


def test_identity_rendering_shows_the_latent_bits_themselves():
    w = make_world(replace(HierarchyConfig(), rendering="identity", noise=0.0))
    b = w.sample("deploy", 0, 64)
    assert w.config.input_dim == 16 and torch.equal(b.x, b.a)
    with pytest.raises(ConfigError, match="world.rendering"):
        HierarchyConfig(rendering="pixel")


def test_online_models_see_fresh_examples_of_their_own_stream():
    from greedlab.train import _Online
    w = make_world(sparse_parity(10, 3, online=True))
    a, b = _Online([w, w], [5, 6], 32, torch.device("cpu")), _Online([w], [5], 32, torch.device("cpu"))
    a.next(); first = a.current.x.clone(); a.next()
    assert not torch.equal(first[0], a.current.x[0])  # fresh every step
    b.next()
    assert torch.equal(first[0], b.current.x[0])  # a model's stream depends on its own seed alone
    assert not torch.equal(first[0], first[1])


def test_a_sparse_parity_experiment_in_a_few_lines_learns_its_parity():
    # (n, k) = (10, 3) sparse parity, online, plain SGD at batch 32 with weight decay, hinge loss
    spec = RunSpec(world=sparse_parity(10, 3, online=True), model=MLPConfig(width=64),
                   train=TrainConfig(optimizer="sgd", lr=0.1, batch_size=32, steps=1500, n_evals=4,
                                     weight_decay=1e-4, loss="hinge"), eval_samples=512, **seeds(2))
    cols = measure(spec)
    acc = cols["value"][(cols["instrument"] == "deploy_acc") & (cols["step"] == 1500)]
    assert acc.min() > 0.9, acc


def test_the_losses_differ_and_unknown_ones_are_refused():
    w = make_world(replace(HierarchyConfig(), n_train=256))
    out = {loss: train(w, MLPConfig(width=8), TrainConfig(steps=5, n_evals=2, loss=loss), [0], [1])[0]
           for loss in ("logistic", "hinge", "square")}
    assert not torch.equal(out["logistic"], out["hinge"]) and not torch.equal(out["hinge"], out["square"])
    with pytest.raises(ConfigError, match="train.loss"):
        TrainConfig(loss="mse")
