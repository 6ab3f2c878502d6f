"""Disagreement: how differently the members of an ensemble behave on the same inputs.

McCoy et al. (2020, "BERTs of a feather do not generalize together") fine-tuned 100 BERTs that
agreed in distribution and disagreed widely out of distribution; here the same measurement is
the rate at which two seeds' predictions differ on the deployment split, where proxy and target
come apart.
"""

from __future__ import annotations

import torch


def disagreement(logits: torch.Tensor) -> torch.Tensor:
    """(N,): for each model, the mean over the *other* models of the fraction of samples on which
    their predicted labels differ. The mean of this vector is the pairwise disagreement rate.

    A model with a non-finite logit (a diverged one) is left out of every other model's mean,
    which it would otherwise turn into NaN, and gets NaN itself."""
    ok = torch.isfinite(logits).all(dim=1)
    if not bool(ok.all()):
        out = torch.full(ok.shape, float("nan"), device=logits.device)
        out[ok] = disagreement(logits[ok])
        return out
    s = torch.sign(logits)
    n_models, n = s.shape
    if n_models < 2:
        return torch.zeros(n_models, device=logits.device)
    agree = (s @ s.T + n) / (2 * n)      # fraction of equal signs for every pair (signs are ±1)
    off = 1 - agree
    return (off.sum(dim=1) - off.diagonal()) / (n_models - 1)
