"""Decodability: is a feature *represented* in a hidden layer (the world model)?

A closed-form ridge probe from the layer's activations to χ_S, fit on the ``probe`` split and
scored by sign accuracy on the disjoint ``deploy`` split, for every model of the ensemble and every
feature in one batched solve. Closed form (not SGD-trained logistic probes) because it is exact,
deterministic and cheap enough to run at every evaluation.
"""

from __future__ import annotations

import torch

REPRESENTED = 0.9  # CLAIMS.md: represented ⇔ held-out probe accuracy ≥ 0.9


def _design(h: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    z = (h - mean) / scale
    return torch.cat([z, torch.ones_like(z[..., :1])], dim=-1)


def fit_probe(h_fit: torch.Tensor, targets: torch.Tensor, ridge: float = 1e-2):
    """Ridge weights (N, W+1, F) from activations (N, n, W) to targets (n, F) in {−1, +1}.

    Features are standardized per model so one ridge strength (relative to n) suits every layer.
    """
    mean = h_fit.mean(dim=1, keepdim=True)
    scale = h_fit.std(dim=1, keepdim=True).clamp_min(1e-6)
    X = _design(h_fit, mean, scale)
    n, p = X.shape[1], X.shape[2]
    gram = X.transpose(1, 2) @ X + ridge * n * torch.eye(p, dtype=X.dtype, device=X.device)
    rhs = X.transpose(1, 2) @ targets.to(X.dtype).unsqueeze(0).expand(X.shape[0], -1, -1)
    # the ridge term keeps the standardized Gram matrix well conditioned, so float32 Cholesky is safe
    L, info = torch.linalg.cholesky_ex(gram)
    failed = info != 0
    if bool(failed.any()):
        # only a diverged model (NaN/inf activations) gets here: its probe alone fails, as NaN weights,
        # instead of the whole ensemble's evaluation
        L = torch.where(failed[:, None, None], torch.eye(p, dtype=L.dtype, device=L.device), L)
        w = torch.cholesky_solve(rhs, L)
        return w.masked_fill(failed[:, None, None], float("nan")), mean, scale
    return torch.cholesky_solve(rhs, L), mean, scale


def probe_accuracy(h_fit: torch.Tensor, t_fit: torch.Tensor, h_test: torch.Tensor, t_test: torch.Tensor,
                   ridge: float = 1e-2) -> torch.Tensor:
    """Held-out sign accuracy (N, F) of ridge probes fit on (h_fit, t_fit), scored on (h_test, t_test)."""
    w, mean, scale = fit_probe(h_fit, t_fit, ridge)
    pred = _design(h_test, mean, scale) @ w
    acc = (torch.sign(pred) == t_test.to(pred.dtype).unsqueeze(0)).float().mean(dim=1)
    return acc.masked_fill(~torch.isfinite(pred).all(dim=1), float("nan"))  # no probe, no accuracy
