"""What each exit of an early-exit model (``models.early_exit``) could do alone, and how often it
is used: per model and per exit, the head's standalone logistic loss and accuracy, and the share of
examples that exit there (the mean exit probability p_l).

Why it exists: H4 read "compute a solution needs" off the expected exit depth. That reading holds
only if a head that *could* answer is also *used*; this instrument tells the two apart (a head with
low standalone loss that nobody exits at is a halting-dynamics artefact, not a cost of the solution).
It found the artefact (``examples/h4_halting_check.py``), and H4 now reads a fixed-depth family instead.
"""

from __future__ import annotations

import torch

from greedlab.models import Params
from greedlab.train import logistic_loss


@torch.no_grad()
def exit_table(model, params: Params, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{"loss", "accuracy", "share"}``, each (N, L): exit l's head on its own (logistic loss and
    sign accuracy against labels ``y`` ∈ {−1, +1}, shape (B,)), and the mean probability of exiting
    at l. ``model`` must be an early-exit model (it has ``exits``)."""
    if not hasattr(model, "exits"):
        raise TypeError(f"exit_table needs an early-exit model, not {type(model).__name__}")
    z, log_p, _ = model.exits(params, x)  # (N, B, L)
    yy = y.to(z.dtype).view(1, -1, 1)
    return {"loss": logistic_loss(z, yy).mean(1),
            "accuracy": (torch.sign(z) == yy).to(z.dtype).mean(1),
            "share": log_p.exp().mean(1)}
