"""Reliance: what a model's behaviour is made of, exactly.

On the deployment split latents are uniform, so the monomials χ_S form an orthonormal basis of
functions of the latents. The Walsh–Fourier coefficient ``E_deploy[m(x) χ_S(a)]`` of the model's
soft decision ``m = 2σ(logit) − 1`` is then the exact share of its behaviour that follows χ_S;
the squares of all coefficients sum to at most E[m²] ≤ 1 (Parseval).
"""

from __future__ import annotations

import torch

from greedlab.worlds import chi


def soft_decision(logits: torch.Tensor) -> torch.Tensor:
    """m = 2σ(f) − 1 = tanh(f/2), in [−1, 1]."""
    return torch.tanh(logits / 2)


def feature_matrix(a: torch.Tensor, features: dict[str, tuple[int, ...]]) -> torch.Tensor:
    """(n, F) matrix of χ_S(a) for each named feature, in dict order."""
    return torch.stack([chi(a, S) for S in features.values()], dim=1)


def reliance(logits: torch.Tensor, chis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients (N, F) and their standard errors (N, F).

    logits: (N, n) on deployment samples; chis: (n, F) from ``feature_matrix`` on the same samples.
    """
    m = soft_decision(logits)
    prod = m.unsqueeze(-1) * chis.unsqueeze(0)  # (N, n, F)
    n = chis.shape[0]
    return prod.mean(dim=1), prod.std(dim=1) / n ** 0.5
