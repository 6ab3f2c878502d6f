"""Gradient signal: how hard the loss pulls the model's function toward a feature.

For the logistic loss L = E log(1 + e^{−y f}), the functional gradient is −y σ(−y f). Its
projection on χ_S over the training data, ``E_train[y σ(−y f) χ_S]``, is the first-order loss
decrease from adding a small multiple of χ_S to f. Gradient starvation (Pezeshki et al. 2021)
is this signal vanishing for a feature the model has not learned, because other features
already fit the training labels.
"""

from __future__ import annotations

import torch


def gradient_signal(logits: torch.Tensor, y: torch.Tensor, chis: torch.Tensor) -> torch.Tensor:
    """(N, F): logits (N, n) on training samples with labels y (n,) and features chis (n, F)."""
    w = y.unsqueeze(0) * torch.sigmoid(-y.unsqueeze(0) * logits)  # (N, n)
    return w @ chis / chis.shape[0]
