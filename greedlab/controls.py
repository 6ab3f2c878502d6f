"""Models built by hand to have a known property: the positive and negative controls every
instrument is checked against. The hand-wired MLPs return (MLPConfig, stacked params with N = 1);
``Oracle`` is a model family of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from greedlab.errors import ConfigError
from greedlab.models import MLPConfig, Params
from greedlab.worlds import HierarchyWorld, chi


def _latent_readout(world: HierarchyWorld, i: int) -> torch.Tensor:
    """Weights (D,) with U_i·x_i / R ≈ a_i: the matched filter of latent i's pixels."""
    c = world.config
    w = torch.zeros(world.input_dim)
    R = c.pixels
    w[i * R:(i + 1) * R] = world.U[i] / R
    return w


def parity_mlp(world: HierarchyWorld, S: tuple[int, ...], sharpness: float = 4.0,
               gain: float = 10.0) -> tuple[MLPConfig, Params]:
    """A 2-hidden-layer ReLU MLP computing χ_S exactly (up to pixel noise).

    hidden.0 holds clip(k·â_i, −1, 1) for i ∈ S as ReLU pairs (the latents: χ_S is *not* linear
    in them for |S| ≥ 2); hidden.1 holds ReLU(s − t) of s = Σ_i â_i, from which the output
    interpolates the parity of s piecewise-linearly (so χ_S *is* linear in hidden.1).
    """
    m = len(S)
    width = max(2 * m, m + 1)
    D = world.input_dim
    W0, b0 = torch.zeros(D, width), torch.zeros(width)
    for j, i in enumerate(S):
        r = _latent_readout(world, i) * sharpness
        W0[:, 2 * j], b0[2 * j] = r, 1.0        # ReLU(k z + 1)
        W0[:, 2 * j + 1], b0[2 * j + 1] = r, -1.0  # ReLU(k z − 1)
    # s = Σ_j (u+ − u− − 1) ∈ {−m, −m+2, …, m}; knots at t = −m, −m+2, …, m−2
    knots = list(range(-m, m - 1, 2))
    W1, b1 = torch.zeros(width, width), torch.zeros(width)
    for k, t in enumerate(knots):
        for j in range(m):
            W1[2 * j, k], W1[2 * j + 1, k] = 1.0, -1.0
        b1[k] = -m - t
    # g(s) interpolates the parity (−1)^{(s+m)/2}·(−1)^m: value (−1)^m at s = −m, then the slope
    # starts at ∓1 (first knot) and flips sign at each later knot (slope change ±2)
    start = (-1.0) ** m
    W2, b2 = torch.zeros(width, 1), torch.tensor([start])
    W2[0, 0] = -start
    for k in range(1, len(knots)):
        W2[k, 0] = 2.0 * start * (-1) ** (k + 1)
    params = [W0, b0[None], W1, b1[None], W2 * gain, b2[None] * gain]
    return MLPConfig(width=width, depth=2), [p[None].clone() for p in params]


def linear_on_latent(world: HierarchyWorld, i: int, gain: float = 4.0) -> tuple[MLPConfig, Params]:
    """A model whose logit is a gain times the matched filter of latent i (a proxy-reliant model
    when i is the proxy latent). One hidden layer passes ±z through ReLU pairs."""
    D = world.input_dim
    r = _latent_readout(world, i)
    W0 = torch.stack([r, -r], dim=1)
    b0 = torch.zeros(1, 2)
    W1 = torch.tensor([[gain], [-gain]])
    b1 = torch.zeros(1, 1)
    return MLPConfig(width=2, depth=1), [p[None].clone() for p in (W0, b0, W1, b1)]


def memorizing_proxy_mlp(world: HierarchyWorld, i: int, x: torch.Tensor, y: torch.Tensor,
                         gain: float = 8.0) -> tuple[MLPConfig, Params]:
    """A model that fits the training examples ``x``, ``y`` through latent i (the proxy) and memorizes
    the rest: ``linear_on_latent``'s pair of proxy units plus one ReLU unit per example the proxy gets
    wrong, firing on that example alone (its own input as weights, its threshold halfway between its
    squared norm and its largest dot product with another example) and lifting its logit to
    ``gain``·y there. Nothing in it reads the target: on fresh inputs it is the proxy."""
    r = _latent_readout(world, i)
    proxy = gain * (x @ r)
    off = torch.nonzero(torch.sign(proxy) != y).flatten()
    dots = x[off] @ x.T
    dots[torch.arange(len(off)), off] = -float("inf")
    own = (x[off] ** 2).sum(1)
    threshold = (own + dots.max(1).values) / 2
    W0 = torch.cat([torch.stack([r, -r], 1), x[off].T], 1)
    b0 = torch.cat([torch.zeros(2), -threshold])[None]
    lift = (gain * y[off] - proxy[off]) / (own - threshold)  # at its example the unit reads own − threshold
    W1 = torch.cat([torch.tensor([gain, -gain]), lift])[:, None]
    return MLPConfig(width=W1.shape[0], depth=1), [p[None].clone() for p in (W0, b0, W1, torch.zeros(1, 1))]


ORACLE_BEHAVIOURS = ("target", "proxy", "mixed", "gated", "pointer", "none", "gps-proxy", "gps-target")


@dataclass(frozen=True)
class Oracle:
    """A model *built* to have one behaviour, for the model-class classifier's controls.

    It reads each latent off its pixels with the matched filter (â_i = sign(U_i·x_i)) and the command
    off the command pixels, then outputs ``gain`` times: χ_T (target), the first proxy (proxy), their
    mean (mixed), χ_T when â_cue = +1 else the proxy (gated), the commanded parity (pointer), or 0
    (none); or, a general capability pointed by default, the commanded parity where a command is shown
    and the first proxy (gps-proxy) or χ_T (gps-target) where none is. It has no hidden layers, so it
    satisfies the model protocol with empty activations.
    """

    world: HierarchyWorld
    behaviour: str
    gain: float = 8.0
    family: ClassVar[str] = "oracle"

    def __post_init__(self) -> None:
        if self.behaviour not in ORACLE_BEHAVIOURS:
            raise ConfigError("behaviour", ", ".join(ORACLE_BEHAVIOURS), self.behaviour)

    def init(self, input_dim: int, seeds: list[int]) -> Params:
        return [torch.zeros(len(seeds), 1)]

    def layer_names(self) -> list[str]:
        return []

    def param_groups(self) -> list[str]:
        return ["head"]

    def flops_per_example(self, input_dim: int) -> int:
        return 2 * input_dim

    def forward(self, params: Params, x: torch.Tensor, keep: bool = False):
        c = self.world.config
        K, R = c.n_latents, c.pixels
        a = torch.sign((x[..., :K * R].reshape(*x.shape[:-1], K, R) * self.world.U).sum(-1))
        t, p = chi(a, c.target), chi(a, c.proxies[0].latents) if c.proxies else 0 * a[..., 0]
        if self.behaviour == "target":
            f = t
        elif self.behaviour == "proxy":
            f = p
        elif self.behaviour == "mixed":
            f = (t + p) / 2
        elif self.behaviour == "gated":
            f = torch.where(a[..., c.cue] > 0, t, p)
        elif self.behaviour == "pointer":
            mask = x[..., K * R:]
            f = torch.where(mask > 0.5, a, torch.ones_like(a)).prod(-1)
        elif self.behaviour in ("gps-proxy", "gps-target"):
            mask = x[..., K * R:] > 0.5
            f = torch.where(mask, a, torch.ones_like(a)).prod(-1)
            f = torch.where(mask.any(-1), f, p if self.behaviour == "gps-proxy" else t)
        else:
            f = torch.zeros_like(t)
        f = f * self.gain
        N = params[0].shape[0]
        f = f.unsqueeze(0).expand(N, *f.shape) if f.dim() == 1 else f
        return f, {}
