"""Divergence: which models of an ensemble have blown up.

A model whose parameters or training loss become NaN or infinite (too large a learning rate, an
unlucky initialization) carries no information about greed; averaged in, it would turn a whole
statistic into NaN or, worse, into a number. Every run records this flag per model at every
evaluation, so that claims and reports can set such models aside *by name* instead of silently.
It is read at evaluations only: checking every step would force a device sync per step, and NaN
and inf, once in the parameters, stay there.
"""

from __future__ import annotations

import torch

from greedlab.models import Params


def diverged(params: Params, train_loss: torch.Tensor) -> torch.Tensor:
    """(N,): 1.0 for each model with a non-finite parameter or training loss, else 0.0."""
    bad = ~torch.isfinite(train_loss)
    for p in params:
        bad = bad | ~torch.isfinite(p.detach()).flatten(1).all(dim=1)
    return bad.float()
