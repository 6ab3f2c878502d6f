"""Reliance: what a model's behaviour is made of, exactly.

On the deployment split latents are uniform, so the monomials χ_S form an orthonormal basis of
functions of the latents. The Walsh–Fourier coefficient ``E_deploy[m(x) χ_S(a)]`` of the model's
soft decision ``m = 2σ(logit) − 1`` is then the exact share of its behaviour that follows χ_S;
the squares of all coefficients sum to at most E[m²] ≤ 1 (Parseval).

The soft coefficient mixes *use* with *confidence*: a model that computes χ_T exactly with logit
±s reads tanh(s/2) on it (0.46, 0.76, 0.905, 0.995 at s = 1, 2, 3, 6). Hard reliance
``E_deploy[sign(f) χ_S]`` reads the decisions alone: 1 for any model whose predictions are χ_S,
whatever its logit scale, and 2·P(sign f = χ_S) − 1 in general. Reported beside the soft one, it
tells a model that uses a feature timidly from one that barely uses it.
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


def _coefficients(m: torch.Tensor, chis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Means (N, F) of m·χ over the samples and their standard errors (N, F)."""
    prod = m.unsqueeze(-1) * chis.unsqueeze(0)  # (N, n, F)
    n = chis.shape[0]
    return prod.mean(dim=1), prod.std(dim=1) / n ** 0.5


def reliance(logits: torch.Tensor, chis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients (N, F) and their standard errors (N, F).

    logits: (N, n) on deployment samples; chis: (n, F) from ``feature_matrix`` on the same samples.
    """
    return _coefficients(soft_decision(logits), chis)


def hard_reliance(logits: torch.Tensor, chis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients of the decisions sign(f) (N, F) and their standard errors (N, F); arguments as
    for ``reliance``. A zero logit counts as no decision (0), as it counts as wrong in accuracy."""
    return _coefficients(torch.sign(logits), chis)
