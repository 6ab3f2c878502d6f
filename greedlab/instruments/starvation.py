"""Starvation, measured in parameter space: how far a gradient step moves a model toward a feature.

The old "gradient signal toward the target", E_train[y·σ(−y f)·χ_T], is the training residual: with
labels equal to χ_T it *is* E_train[σ(−y f)], which falls whenever the loss falls, by any route, so it
cannot tell starvation from fitting (it keeps its honest name, ``residual``, in the report).

Here, per model with parameters θ, training loss L(θ) (on the training subset) and soft reliance
r_S(θ) = E_deploy[tanh(f/2)·χ_S]:

- ``pull``      ⟨∇r_S, −∇L⟩ / ‖∇r_S‖ : the component of the descent direction along the direction
                 that most increases reliance on S — how fast one unit step of gradient descent
                 raises r_S, per unit of r_S's own sensitivity. It vanishes when the loss is fitted
                 (nothing left to learn) and when the loss's gradient points away from S (starved).
- ``alignment`` pull / ‖∇L‖ ∈ [−1, 1]: the cosine between the descent direction and ∇r_S, which
                 does not shrink as the loss does (is what is left of the gradient aimed at S?).

A feature's pull means little alone; each is read beside a *reference* feature: a random monomial of
the same level over latents outside the target and proxies, which no label rewards. Starvation is a
target pull that falls to the reference's while the target is not yet relied upon.

Both are exact first-order quantities (two backward passes per feature per evaluation), so they
are opt-in (``RunSpec.starvation``) rather than read at every evaluation of every run.
"""

from __future__ import annotations

import torch

from greedlab.instruments.reliance import soft_decision
from greedlab.models import Model, Params


def _grads(value: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    gs = torch.autograd.grad(value, params, allow_unused=True, retain_graph=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, gs)]


def _dot(a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
    """(N,): per-model inner products of stacked per-model tensors."""
    return sum((x * y).flatten(1).sum(1) for x, y in zip(a, b))


def pull(model: Model, params: Params, x_train: torch.Tensor, y_train: torch.Tensor, x_deploy: torch.Tensor,
         chis: torch.Tensor, loss_fn) -> tuple[torch.Tensor, torch.Tensor]:
    """(pull (N, F), alignment (N, F)) of every model toward each feature column of ``chis`` (n_deploy, F).

    ``loss_fn(logits, y)`` is the per-example training loss. Models are stacked on dim 0; each model's
    gradient is its own because the summed loss separates over models."""
    with torch.enable_grad():
        ps = [p.detach().clone().requires_grad_(True) for p in params]
        f_tr, _ = model.forward(ps, x_train)
        g_loss = _grads(loss_fn(f_tr, y_train).mean(dim=1).sum(), ps)
        f_dep, _ = model.forward(ps, x_deploy)
        m = soft_decision(f_dep)  # (N, n)
        norm_loss = _dot(g_loss, g_loss).sqrt()
        pulls, aligns = [], []
        for j in range(chis.shape[1]):
            r = (m * chis[:, j].to(m)).mean(dim=1)  # (N,) soft reliance on feature j
            g_r = _grads(r.sum(), ps)
            norm_r = _dot(g_r, g_r).sqrt()
            along = -_dot(g_r, g_loss)
            p = along / norm_r.clamp_min(1e-12)
            pulls.append(p)
            aligns.append(p / norm_loss.clamp_min(1e-12))
    return torch.stack(pulls, 1).detach(), torch.stack(aligns, 1).detach()


def reference_set(level: int, n_latents: int, avoid: set[int]) -> tuple[int, ...]:
    """The reference feature: the first ``level`` latents (from the top) outside ``avoid``: fixed, so
    every model and world reads the same one, and rewarded by no label."""
    free = [i for i in range(n_latents - 1, -1, -1) if i not in avoid]
    if len(free) < level:
        return tuple(sorted(free))
    return tuple(sorted(free[:level]))
