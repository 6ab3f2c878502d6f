"""Stochastic cone descent: descend, but stay as close to the initialization as the loss allows.

The first essay's comments propose it as a remedy for greed: at x, take the step whose direction d
lies within angle α of −∇L (so the loss still falls) and has the smallest scalar product with
x − x0 (so it heads back toward the initialization, x0), with the gradient's own step length. Among
all the minima a plain gradient path could reach, it drifts toward the one nearest x0.

The direction has a closed form. Let u = −g/|g| and w = −v/|v| with v = x − x0, and θ the angle
between u and w. Minimizing d·v over unit vectors within α of u is maximizing d·w:
- θ ≤ α: w itself lies in the cone, so d = w (straight back toward x0);
- θ > α: the optimum lies on the cone's boundary, in the plane of u and w, rotated from u toward w
  by exactly α: d = cos α·u + sin α·(w − cos θ·u)/sin θ.
The step is lr·|g|·d. Written in terms of g and v it is a·g + b·v with per-model scalars a and b,
so α = 0 gives a = −lr, b = 0: plain gradient descent, exactly.

"Global over all parameters" means one vector per *model*: the ensemble trainer stacks N models
along the leading axis of every tensor, so with ``per_model=True`` (the default) index n of that axis
across all tensors is model n's parameter vector, and each model gets its own cone, as if trained
alone (tested). ``per_model=False`` treats every parameter as one vector.
"""

from __future__ import annotations

import math

import torch

from greedlab.errors import ConfigError

_EPS = 1e-12  # below this a norm or a sine counts as zero


def cone_coefficients(gg: torch.Tensor, vv: torch.Tensor, gv: torch.Tensor, lr: float,
                      alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-model scalars (a, b) with step = a·g + b·v, from |g|², |v|², g·v and α in radians.

    Edge cases: g = 0 gives no step (the gradient's step length is 0); v = 0 (the first step) and
    α = 0 give plain gradient descent; θ = π exactly (−g points straight away from x0, so every
    boundary direction is equally good and the plane is undefined) falls back to the plain gradient.
    """
    gn, vn = gg.sqrt(), vv.sqrt()
    a = torch.full_like(gg, -lr)
    b = torch.zeros_like(gg)
    if alpha == 0.0:
        return a, b
    live = (gn > _EPS) & (vn > _EPS)
    cos_t = torch.where(live, gv / (gn * vn).clamp_min(_EPS), torch.ones_like(gg)).clamp(-1.0, 1.0)
    sin_t = (1 - cos_t * cos_t).clamp_min(0.0).sqrt()
    inside = live & (cos_t >= math.cos(alpha))
    boundary = live & ~inside & (sin_t > 1e-9)
    safe_sin, safe_vn = sin_t.clamp_min(_EPS), vn.clamp_min(_EPS)
    # inside the cone: d = w = −v/|v|
    a = torch.where(inside, torch.zeros_like(a), a)
    b = torch.where(inside, -lr * gn / safe_vn, b)
    # on the boundary: d = cos α·u + sin α·(w − cos θ·u)/sin θ
    a = torch.where(boundary, -lr * (math.cos(alpha) - math.sin(alpha) * cos_t / safe_sin), a)
    b = torch.where(boundary, -lr * gn * math.sin(alpha) / (safe_sin * safe_vn), b)
    return a, b


def cone_direction(g: torch.Tensor, v: torch.Tensor, alpha_deg: float) -> torch.Tensor:
    """Unit direction d (N, D) for gradients g (N, D) and displacements v = x − x0 (N, D), one row
    per model; rows with g = 0 give 0."""
    a, b = cone_coefficients((g * g).sum(1), (v * v).sum(1), (g * v).sum(1), 1.0, math.radians(alpha_deg))
    step = a[:, None] * g + b[:, None] * v
    return step / (g * g).sum(1, keepdim=True).sqrt().clamp_min(_EPS)


class ConeDescent(torch.optim.Optimizer):
    """x ← x + lr·|g|·d, d the direction within ``alpha_deg`` of −g closest to pointing back at x0.

    x0 is the parameters at the optimizer's creation. ``per_model``: every tensor's leading axis
    indexes ensemble members, each with its own cone (see the module docstring). All parameter
    groups share one lr and one α, since the cone is taken over all parameters at once.
    """

    def __init__(self, params, lr: float, alpha_deg: float, per_model: bool = True):
        if not (lr > 0 and math.isfinite(lr)):
            raise ConfigError("lr", "a finite number > 0", lr)
        if not (0 <= alpha_deg < 90):
            raise ConfigError("cone_alpha", "degrees in [0, 90)", alpha_deg)
        super().__init__(params, dict(lr=lr, alpha_deg=alpha_deg))
        if len({(g["lr"], g["alpha_deg"]) for g in self.param_groups}) > 1:
            raise ConfigError("param_groups", "one lr and one alpha_deg for all groups",
                              [(g["lr"], g["alpha_deg"]) for g in self.param_groups])
        self.per_model = per_model
        ps = self._params()
        if per_model and len({p.shape[0] if p.dim() else None for p in ps}) > 1:
            raise ConfigError("params", "tensors sharing one leading (ensemble) axis when per_model=True",
                              sorted({tuple(p.shape) for p in ps}))
        for p in ps:
            self.state[p]["x0"] = p.detach().clone()

    def _params(self) -> list[torch.Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def _rows(self, t: torch.Tensor) -> torch.Tensor:
        return t.reshape(t.shape[0], -1) if self.per_model else t.reshape(1, -1)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        ps = self._params()
        if not ps:
            return loss
        lr, alpha = self.param_groups[0]["lr"], math.radians(self.param_groups[0]["alpha_deg"])
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in ps]
        disp = [p - self.state[p]["x0"] for p in ps]
        gg = sum((self._rows(g) ** 2).sum(1) for g in grads)
        vv = sum((self._rows(v) ** 2).sum(1) for v in disp)
        gv = sum((self._rows(g) * self._rows(v)).sum(1) for g, v in zip(grads, disp))
        a, b = cone_coefficients(gg, vv, gv, lr, alpha)
        for p, g, v in zip(ps, grads, disp):
            if alpha == 0.0:
                p.add_(g, alpha=-lr)  # α = 0 is SGD, computed the way SGD computes it
                continue
            shape = (-1,) + (1,) * (p.dim() - 1) if self.per_model else ()
            p.add_(a.reshape(shape) * g + b.reshape(shape) * v)
        return loss
