"""Reliance by counterfactuals, for worlds without a Fourier basis of their inputs.

On real data the class signal is spread over the pixels in ways no basis names, so what a model
relies on is read from interventions instead: the same rows with the marker randomized, flipped,
removed, set to agree or disagree with the label, or with the class signal destroyed and the marker
kept (Shah et al., "The Pitfalls of Simplicity Bias in Neural Networks", 2020, who randomize one
block of an MNIST–CIFAR concatenation at a time). A world offers them through
``counterfactuals(split, n) -> {kind: Batch}`` (row for row the same examples, labels unchanged).

For each kind and model: accuracy against the label, and the fraction of predictions that change
against the unmodified rows (``flip``). A model that reads only the marker flips every prediction
when the marker is flipped and keeps its accuracy when the class signal is destroyed; a model that
ignores the marker flips nothing.
"""

from __future__ import annotations

import torch

from greedlab.models import Model, Params
from greedlab.worlds import Batch


def counterfactual_effects(model: Model, params: Params, base: Batch, variants: dict[str, Batch],
                           f_base: torch.Tensor | None = None) -> dict[tuple[str, str], torch.Tensor]:
    """{("counterfactual_acc", kind): (N,), ("counterfactual_flip", kind): (N,)} for every variant.

    ``f_base``: the models' logits on ``base`` when already computed (N, n).
    """
    if f_base is None:
        f_base, _ = model.forward(params, base.x)
    pred = torch.sign(f_base)
    out: dict[tuple[str, str], torch.Tensor] = {}
    for kind, b in variants.items():
        f, _ = model.forward(params, b.x)
        out["counterfactual_acc", kind] = (torch.sign(f) == b.y).float().mean(1)
        out["counterfactual_flip", kind] = (torch.sign(f) != pred).float().mean(1)
    return out
