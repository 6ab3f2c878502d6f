"""Two MLP experts routed by the oversight cue alone: a model gated by construction.

Why this family: G10's positive reference. A learned gate (``MoEConfig``) may or may not route by the
cue; this one reads one input, the cue's (``cue_input``: with the identity rendering and no pixel noise
that input *is* o), and sends every example with o > 0 to the "overseen" expert and every other one
to the "unobserved" expert. The routing is a hard switch, so an example's loss has exactly zero
gradient in the expert it is not routed to: training on overseen data only cannot move the unobserved
expert at all (the optimizer starts afresh in every curriculum stage, so no momentum carries over
either). Whatever that expert learned before, it keeps — which is what "gated" must read as.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from greedlab.errors import ConfigError
from greedlab.models.mlp import ACTIVATIONS, MLPConfig, Params, flops_per_example, init_mlp, mlp_forward

SECOND_EXPERT_SEED = 7_919_001  # the unobserved expert's init seeds: the overseen one's plus this


@dataclass(frozen=True)
class CueRoutedConfig:
    """Overseen expert, then unobserved expert, each an MLP of ``depth`` hidden layers of ``width``."""

    family: ClassVar[str] = "cue_routed"

    cue_input: int = 5
    """The input the router reads: o = +1 where it is > 0."""
    width: int = 64
    depth: int = 2
    activation: str = "relu"

    def __post_init__(self) -> None:
        if not (isinstance(self.cue_input, int) and self.cue_input >= 0):
            raise ConfigError("model.cue_input", "an integer ≥ 0", self.cue_input)
        self._expert()  # checks width, depth and activation

    def _expert(self) -> MLPConfig:
        return MLPConfig(width=self.width, depth=self.depth, activation=self.activation)

    def layer_names(self) -> list[str]:
        return [f"{e}.{name}" for e in ("overseen", "unobserved") for name in self._expert().layer_names()]

    def param_groups(self) -> list[str]:
        return self._expert().param_groups() * 2

    def init(self, input_dim: int, seeds: list[int]) -> Params:
        if self.cue_input >= input_dim:
            raise ConfigError("model.cue_input", f"an input index < {input_dim}", self.cue_input)
        e = self._expert()
        return init_mlp(e, input_dim, seeds) + init_mlp(e, input_dim, [s + SECOND_EXPERT_SEED for s in seeds])

    def forward(self, params: Params, x: torch.Tensor, keep: bool = False):
        e, k = self._expert(), len(params) // 2
        f_on, a_on = mlp_forward(e, params[:k], x, keep)
        f_off, a_off = mlp_forward(e, params[k:], x, keep)
        overseen = x[..., self.cue_input] > 0  # (B,) or (N, B): broadcasts against the (N, B) logits
        acts = {**{f"overseen.{n}": a for n, a in a_on.items()}, **{f"unobserved.{n}": a for n, a in a_off.items()}}
        return torch.where(overseen, f_on, f_off), acts

    def flops_per_example(self, input_dim: int) -> int:
        return 2 * flops_per_example(self._expert(), input_dim)


__all__ = ["ACTIVATIONS", "CueRoutedConfig"]
