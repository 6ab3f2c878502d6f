"""An MLP that may stop early: a logit head after every hidden layer and a learned halting rule
(PonderNet, Banino et al. 2021), so that "speed" — the depth a model computes before it answers —
is a quantity gradient descent can trade against the loss.

Layer l (1-based, of L) halts with probability ``λ_l = σ(h_l·w_l + c_l)`` given that no earlier
layer halted, so the exit distribution is ``p_l = λ_l Π_{j<l}(1−λ_j)``, the last layer taking the
remainder. The expected exit depth ``Σ_l l·p_l`` (per example) is what a speed penalty charges.

Output (our choice, stated once): the model *is* the stochastic early-exit model, so its output is
that model's predictive distribution ``P(y=+1|x) = Σ_l p_l σ(z_l)``, returned as a logit. The
logistic loss on this logit is then exactly the stochastic model's negative log-likelihood
(differentiable in the heads and in the halting rule), and ``2P − 1`` — what the reliance
instrument reads — is the behaviour averaged over exits. PonderNet instead trains on the expected
per-head loss ``Σ p_l L(z_l)``; that would need a second loss path in the trainer, and it upper-bounds
ours (Jensen), so the two agree where one exit dominates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from greedlab.errors import ConfigError
from greedlab.models.mlp import ACTIVATIONS, Params

EXIT_DEPTH = "exit_depth"
"""Reserved key of ``forward``'s activations dict: expected exit depth per example, (N, B). Not a
layer (never probed); the trainer's speed penalty and the ``exit_depth`` metric read it."""


@dataclass(frozen=True)
class EarlyExitConfig:
    """``depth`` hidden layers of ``width``, each followed by a logit head and a halting unit."""

    family: ClassVar[str] = "early_exit"

    width: int = 256
    """Units in each hidden layer."""
    depth: int = 3
    """Number of hidden layers L (= possible exits)."""
    activation: str = "relu"
    """One of ACTIVATIONS: relu, tanh, gelu."""
    halt_bias: float = -2.0
    """Initial halting bias c_l. −2 gives λ ≈ 0.12 per layer, so an untrained model exits at the last
    layer about 3/4 of the time (for L = 3): it starts as the plain deep MLP, and any move to early
    exits is learned, not given."""

    def __post_init__(self) -> None:
        if not (isinstance(self.width, int) and self.width >= 1):
            raise ConfigError("model.width", "an integer ≥ 1", self.width)
        if not (isinstance(self.depth, int) and self.depth >= 1):
            raise ConfigError("model.depth", "an integer ≥ 1", self.depth)
        if self.activation not in ACTIVATIONS:
            raise ConfigError("model.activation", ", ".join(ACTIVATIONS), self.activation)
        if not math.isfinite(self.halt_bias):
            raise ConfigError("model.halt_bias", "a finite number", self.halt_bias)

    def layer_names(self) -> list[str]:
        return [f"hidden.{i}" for i in range(self.depth)]

    def param_groups(self) -> list[str]:
        # hidden layers are the world model; the logit heads and the halting units read it off and
        # decide what (and when) to answer: the objective side
        return ["trunk"] * (2 * self.depth) + ["head"] * 4

    def init(self, input_dim: int, seeds: list[int]) -> Params:
        """[W0, b0, …, W_{L−1}, b_{L−1}, head W (N,W,L), head b (N,1,L), halt W (N,W,L), halt b (N,1,L)];
        nn.Linear's default uniform ±1/√fan_in, halting biases set to ``halt_bias``."""
        dims = [input_dim] + [self.width] * self.depth
        L, W = self.depth, self.width
        per_model = []
        for s in seeds:
            g = torch.Generator().manual_seed(int(s))
            u = lambda shape, fan: (torch.rand(shape, generator=g) * 2 - 1) / math.sqrt(fan)  # noqa: E731
            layers = []
            for fan_in, fan_out in zip(dims[:-1], dims[1:]):
                layers += [u((fan_in, fan_out), fan_in), u((1, fan_out), fan_in)]
            layers += [u((W, L), W), u((1, L), W), u((W, L), W), torch.full((1, L), float(self.halt_bias))]
            per_model.append(layers)
        return [torch.stack([m[k] for m in per_model]) for k in range(len(per_model[0]))]

    def exits(self, params: Params, x: torch.Tensor, keep: bool = False):
        """Every exit's own quantities: (head logits z_l, log exit probabilities log p_l, activations),
        the first two (N, B, L). For diagnostics (each head's standalone loss, how often it is
        used) and for ``forward``, which mixes them."""
        act = ACTIVATIONS[self.activation]
        L = self.depth
        Wh, bh, Wq, bq = params[2 * L:]
        N = Wh.shape[0]
        h = x if x.dim() == 3 else x.unsqueeze(0).expand(N, *x.shape)
        acts: dict[str, torch.Tensor] = {}
        z, s = [], []
        for i in range(L):
            h = act(torch.baddbmm(params[2 * i + 1], h, params[2 * i]))
            if keep:
                acts[f"hidden.{i}"] = h
            z.append(torch.baddbmm(bh[:, :, i:i + 1], h, Wh[:, :, i:i + 1]).squeeze(-1))
            s.append(torch.baddbmm(bq[:, :, i:i + 1], h, Wq[:, :, i:i + 1]).squeeze(-1))
        z_all, s_all = torch.stack(z, -1), torch.stack(s, -1)          # (N, B, L)
        log_halt, log_go = -F.softplus(-s_all), -F.softplus(s_all)      # log λ, log(1 − λ), stably
        # log p_l = log λ_l + Σ_{j<l} log(1 − λ_j); the last layer takes the remainder (its λ is 1)
        before = torch.cumsum(log_go, -1) - log_go
        log_p = torch.cat([log_halt[..., :-1], torch.zeros_like(log_halt[..., -1:])], -1) + before
        return z_all, log_p, acts

    def forward(self, params: Params, x: torch.Tensor, keep: bool = False):
        z_all, log_p, acts = self.exits(params, x, keep)
        # logit of Σ p_l σ(z_l) = log Σ p_l σ(z_l) − log Σ p_l σ(−z_l)
        logits = torch.logsumexp(log_p - F.softplus(-z_all), -1) - torch.logsumexp(log_p - F.softplus(z_all), -1)
        depth = torch.arange(1, self.depth + 1, dtype=z_all.dtype, device=z_all.device)
        acts[EXIT_DEPTH] = (log_p.exp() * depth).sum(-1)
        return logits, acts

    def flops_per_example(self, input_dim: int) -> int:
        """At full depth (every layer, head and halting unit); the expected cost is this scaled by
        the measured ``exit_depth``/L for the hidden layers."""
        dims = [input_dim] + [self.width] * self.depth
        return 2 * (sum(a * b for a, b in zip(dims[:-1], dims[1:])) + 2 * self.width * self.depth)
