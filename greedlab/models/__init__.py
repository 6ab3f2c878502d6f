"""Model families. Every family is a frozen dataclass config with the same small protocol, so
training, instruments and claims work on any of them:

- ``init(input_dim, seeds) -> Params``: stacked parameters, model n drawn from seeds[n] alone;
- ``forward(params, x, keep=False) -> (logits (N, B), {layer name: activations (N, B, W)})``;
- ``layer_names()``: the activations ``forward(keep=True)`` names (probed for decodability);
- ``param_groups()``: a group name per stacked tensor ("trunk" = world model, "head" = objective),
  used to attribute loss decrease;
- ``flops_per_example(input_dim)``.

A family whose compute varies per example (early exit) also returns the expected exit depth in the
activations dict under the reserved key ``EXIT_DEPTH``; it is not a layer.
"""

from __future__ import annotations

from typing import Protocol

import torch

from greedlab.models.cnn import CNNConfig
from greedlab.models.early_exit import EXIT_DEPTH, EarlyExitConfig
from greedlab.models.mlp import ACTIVATIONS, MLPConfig, Params, flops_per_example, init_mlp, mlp_forward
from greedlab.models.moe import MoEConfig
from greedlab.models.routed import CueRoutedConfig
from greedlab.models.transformer import TransformerConfig


class Model(Protocol):
    family: str

    def init(self, input_dim: int, seeds: list[int]) -> Params: ...

    def forward(self, params: Params, x: torch.Tensor, keep: bool = False) -> tuple[torch.Tensor, dict]: ...

    def layer_names(self) -> list[str]: ...

    def param_groups(self) -> list[str]: ...

    def flops_per_example(self, input_dim: int) -> int: ...


FAMILIES = {c.family: c for c in (MLPConfig, MoEConfig, TransformerConfig, CNNConfig, EarlyExitConfig, CueRoutedConfig)}

__all__ = ["ACTIVATIONS", "CNNConfig", "EXIT_DEPTH", "EarlyExitConfig", "FAMILIES", "MLPConfig", "MoEConfig", "Model",
           "Params", "TransformerConfig", "CueRoutedConfig", "flops_per_example", "init_mlp", "mlp_forward"]
