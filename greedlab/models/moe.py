"""A gated MLP (mixture of experts) as stacked parameters: a softmax gate over E small expert MLPs.

Why this family: G10 asks whether training under oversight only changes behaviour only under
oversight. A plain MLP shares every unit between contexts; a gate lets a model route overseen and
unobserved inputs through different experts, which makes context-gated behaviour architecturally
cheap. If gating appears anywhere, it should appear here first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from greedlab.errors import ConfigError
from greedlab.models.mlp import ACTIVATIONS, Params


@dataclass(frozen=True)
class MoEConfig:
    """E experts, each a 2-hidden-layer MLP of ``width``, mixed by a softmax gate read off the input."""

    family: ClassVar[str] = "moe"

    width: int = 64
    """Units in each hidden layer of each expert."""
    experts: int = 4
    """Number of experts E."""
    activation: str = "relu"

    def __post_init__(self) -> None:
        if not (isinstance(self.width, int) and self.width >= 1):
            raise ConfigError("model.width", "an integer ≥ 1", self.width)
        if not (isinstance(self.experts, int) and self.experts >= 1):
            raise ConfigError("model.experts", "an integer ≥ 1", self.experts)
        if self.activation not in ACTIVATIONS:
            raise ConfigError("model.activation", ", ".join(ACTIVATIONS), self.activation)

    def layer_names(self) -> list[str]:
        return ["hidden.0", "hidden.1", "gate"]

    def param_groups(self) -> list[str]:
        # [Wg, bg, W1, b1, W2, b2, W3, b3]: gate and expert bodies are the trunk, expert outputs the head
        return ["trunk"] * 6 + ["head", "head"]

    def init(self, input_dim: int, seeds: list[int]) -> Params:
        E, W = self.experts, self.width
        shapes = [((input_dim, E), input_dim), ((1, E), input_dim),          # gate
                  ((input_dim, E * W), input_dim), ((1, E * W), input_dim),  # first layer, all experts side by side
                  ((E, W, W), W), ((E, 1, W), W),                            # second layer, per expert
                  ((E, W), W), ((1, E), W)]                                  # each expert's logit
        per_model = []
        for s in seeds:
            g = torch.Generator().manual_seed(int(s))
            # nn.Linear's default: uniform ±1/√fan_in
            per_model.append([(torch.rand(shape, generator=g) * 2 - 1) / math.sqrt(fan) for shape, fan in shapes])
        return [torch.stack([m[k] for m in per_model]) for k in range(len(shapes))]

    def forward(self, params: Params, x: torch.Tensor, keep: bool = False):
        Wg, bg, W1, b1, W2, b2, W3, b3 = params
        act = ACTIVATIONS[self.activation]
        N, E, W = Wg.shape[0], self.experts, self.width
        h = x if x.dim() == 3 else x.unsqueeze(0).expand(N, *x.shape)
        B = h.shape[1]
        gate = torch.softmax(torch.baddbmm(bg, h, Wg), dim=-1)                  # (N, B, E)
        h1 = act(torch.baddbmm(b1, h, W1))                                       # (N, B, E·W)
        h1e = h1.view(N, B, E, W).transpose(1, 2)                                # (N, E, B, W)
        h2 = act(torch.matmul(h1e, W2) + b2)                                     # (N, E, B, W)
        out = torch.einsum("nebw,new->nbe", h2, W3) + b3                         # (N, B, E)
        logits = (gate * out).sum(-1)
        acts = {}
        if keep:
            acts = {"hidden.0": h1, "hidden.1": h2.transpose(1, 2).reshape(N, B, E * W), "gate": gate}
        return logits, acts

    def flops_per_example(self, input_dim: int) -> int:
        E, W = self.experts, self.width
        return 2 * (input_dim * E + input_dim * E * W + E * W * W + E * W)
