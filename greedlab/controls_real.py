"""Models built by hand to have a known property on real-data worlds (greedlab.worlds.real): one
that reads only the marker, one that reads only the class signal, and one whose hidden layer holds
both while its head reads the marker. The controls the counterfactual and last-layer-retraining
instruments are checked against; each returns (MLPConfig, stacked params with N = 1)."""

from __future__ import annotations

import torch

from greedlab.models import MLPConfig, Params
from greedlab.worlds import RealWorld


def _relu_pair(w: torch.Tensor, gain: float) -> tuple[MLPConfig, Params]:
    """A width-2 ReLU MLP whose logit is gain · (w·x): ReLU(z) − ReLU(−z) = z."""
    W0 = torch.stack([w, -w], dim=1)
    W1 = torch.tensor([[gain], [-gain]])
    return MLPConfig(width=2, depth=1), [p[None].clone() for p in (W0, torch.zeros(1, 2), W1, torch.zeros(1, 1))]


def marker_readout_weights(world: RealWorld) -> torch.Tensor:
    """Weights (D,) with w·x = the marker's sign on a marked input: the matched filter of the pattern."""
    w = torch.zeros(world.input_dim)
    w[world.marker_pos] = world.pattern / (world.pattern ** 2).sum()
    return w


def class_readout_weights(world: RealWorld, ridge: float = 1.0) -> torch.Tensor:
    """Least-squares weights (D,) from the training images to the label that give the marker
    positions zero weight, scaled so that w·x has unit std on the training set."""
    tr = world.train_set()
    X = tr.x.clone()
    X[:, world.marker_pos] = 0.0
    w = torch.linalg.solve(X.T @ X + ridge * torch.eye(X.shape[1]), X.T @ tr.y)
    return w / (X @ w).std()


def marker_only(world: RealWorld, gain: float = 4.0) -> tuple[MLPConfig, Params]:
    """A model that reads the marker and nothing else (the positive control of marker reliance)."""
    return _relu_pair(marker_readout_weights(world), gain)


def class_only(world: RealWorld, gain: float = 4.0) -> tuple[MLPConfig, Params]:
    """A linear classifier of the label that never looks at the marker positions (negative control)."""
    return _relu_pair(class_readout_weights(world), gain)


def marker_head_over_both(world: RealWorld, gain: float = 4.0, with_class: bool = True) -> tuple[MLPConfig, Params]:
    """One hidden layer holding the marker (units 0, 1) and, with ``with_class``, the class readout
    (units 2, 3) as ReLU pairs; the head reads the marker alone. Last-layer retraining on balanced
    data can then recover the class — or, without the class units, cannot."""
    cols = [marker_readout_weights(world)] + ([class_readout_weights(world)] if with_class else [])
    W0 = torch.stack([s * c for c in cols for s in (1.0, -1.0)], dim=1)
    W1 = torch.zeros(W0.shape[1], 1)
    W1[0, 0], W1[1, 0] = gain, -gain
    params = [W0, torch.zeros(1, W0.shape[1]), W1, torch.zeros(1, 1)]
    return MLPConfig(width=W0.shape[1], depth=1), [p[None].clone() for p in params]
