"""The pragmascope regularizer: hidden activity may depend on the data's natural latents and on
nothing else.

"Greed Is the Root of This Evil" (§4) proposes hooking a pragmascope, a tool that finds the natural
abstractions in data, to a regularizer, so that what a model computes is built from those
abstractions rather than from whatever shallow regularity the gradient finds first. Implemented as
an invariance penalty:

    x′ = x̂(x) + r(x_π),   x̂(x) = the part of x the pragmascope's latents explain,  r = x − x̂

i.e. x′ keeps x's natural latents and takes the rest from another sample of the batch (π a
permutation). The penalty per hidden layer is ``E‖h(x) − h(x′)‖² / E‖h(x) − h(x_π)‖²``: the share of
the layer's sample-to-sample variation that comes from anything but the latents. The denominator is
held fixed (no gradient through it), so the penalty cannot be lowered by scaling activity up; it is
scale-free, so one λ means the same for every layer and architecture.

x̂ is affine in x: the pragmascope's linear method (``greedlab.pragmascope.find``, multi-view CCA)
gives latents z = xM + c, and x̂ is the least-squares reconstruction of x from z on the world's
training set. The control ``features="random"`` keeps a random subspace of the same dimension
instead: the same penalty, the same strength, no natural abstraction behind it.

Only the world's pixels are resampled; a command channel (what the user asks for, not the world) is
kept as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from greedlab.errors import ConfigError

FEATURES = ("natural", "random")
SCHEDULES = ("constant", "relaxed")
RANDOM_SEED = 12345  # the random-features control's subspace: fixed, so runs are reproducible


@dataclass(frozen=True)
class Resampler:
    """x ↦ x′ for one world: ``proj`` (D_w, D_w) and ``shift`` (D_w,) give x̂ = x_w·proj + shift on the
    first D_w (world-pixel) columns; ``k`` latents were kept."""

    proj: torch.Tensor
    shift: torch.Tensor
    k: int

    @property
    def n_world(self) -> int:
        return self.proj.shape[-1]  # proj may be stacked per model: (N, D_w, D_w)

    def resample(self, x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
        """x (…, B, D) → x′: each row's latent part with the non-latent part of row ``perm[i]``."""
        n = self.n_world
        xw = x[..., :n]
        explained = xw @ self.proj.to(x) + self.shift.to(x)
        rest = xw - explained
        return torch.cat([explained + rest[..., perm, :], x[..., n:]], dim=-1)


def _affine(transform, d: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, c) of an affine map given as a function of rows."""
    c = transform(np.zeros((1, d)))[0]
    return transform(np.eye(d)) - c, c


@lru_cache(maxsize=16)
def resampler(world_config, features: str = "natural") -> Resampler:
    """The resampler of a hierarchy world's training inputs (cached: one pragmascope fit per world)."""
    from greedlab import pragmascope
    from greedlab.worlds import HierarchyWorld

    if features not in FEATURES:
        raise ConfigError("train.pragmascope_features", ", ".join(FEATURES), features)
    world = HierarchyWorld(world_config)
    c = world_config
    n = c.n_latents * c.pixels
    x = world.train_set().x[:, :n].double().numpy()
    views = world.view_index() if c.n_views > 1 else None
    found = pragmascope.find(x, views)
    k = found.features.shape[1]
    if features == "natural":
        M, shift = _affine(found.transform, n)
    else:
        M, shift = np.random.default_rng(RANDOM_SEED).standard_normal((n, k)), np.zeros(k)
    z = x @ M + shift
    design = np.column_stack([z, np.ones(len(z))])
    B = np.linalg.lstsq(design, x, rcond=None)[0]  # (k + 1, n): reconstruction of x from the latents
    proj = M @ B[:k]
    const = shift @ B[:k] + B[k]
    return Resampler(torch.as_tensor(proj, dtype=torch.float32), torch.as_tensor(const, dtype=torch.float32), k)


def invariance_penalty(acts: dict[str, torch.Tensor], acts_resampled: dict[str, torch.Tensor],
                       perm: torch.Tensor, layers: list[str]) -> torch.Tensor:
    """Per model (N,): mean over ``layers`` of E‖h(x) − h(x′)‖² / E‖h(x) − h(x_π)‖² (denominator fixed)."""
    out = None
    for name in layers:
        h, h2 = acts[name], acts_resampled[name]
        num = ((h - h2) ** 2).sum(-1).mean(-1)
        den = ((h - h[:, perm]) ** 2).sum(-1).mean(-1).clamp_min(1e-8)
        out = num / den if out is None else out + num / den
    return out / len(layers)


def strength(lam: float, schedule: str, step: int, steps: int) -> float:
    """λ at ``step``: constant, or relaxed (falling linearly from λ to 0 over the stage)."""
    if schedule == "relaxed":
        return lam * (1 - step / steps)
    return lam
