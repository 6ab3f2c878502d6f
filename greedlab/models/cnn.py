"""The CNN family: 1D convolutions for signals (MNIST-1D), 2D for square images (digits), as
*stacked* parameters with a leading ensemble axis N, like the MLP.

The default is the CNN of the MNIST-1D paper (Greydanus & Kobak, 2024): three convolutions of 25
channels, kernels 5, 3, 3, stride 2, padding 1, ReLU, and a linear head on the flattened last layer.

The ensemble runs as one grouped convolution per layer (``groups = N``: model n's channels only
see model n's channels). Measured on a shared 2-core CPU, one thread, batch 128, forward + backward,
alternating rounds: for the digits CNN (2D) 5.6–6.5 ms per step of 8 models against 21–26 ms for
patches (im2col, ``unfold``) times stacked kernels in one batched matmul; for the MNIST-1D CNN
the patches were at most 25% faster and within the noise of other rounds (unfold 11.8–15.3 ms,
grouped 14.1–14.5 ms), and ``torch.func.vmap`` over ``F.conv1d`` was slower than grouped (27
against 22–26 ms for 16 models). One form for both: grouped. Unlike the MLP's, a CNN ensemble is not
cheaper per model than one CNN alone (1.5 ms per step at N = 1 on MNIST-1D): its convolutions
already keep a core busy. With two threads on a busy machine every form slowed down several-fold
(OpenMP threads waiting for a core).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from greedlab.errors import ConfigError
from greedlab.models.mlp import Params

PADDING = 1  # as in the MNIST-1D paper's CNN


def _positive_ints(t: object) -> bool:
    return isinstance(t, tuple) and len(t) > 0 and all(isinstance(k, int) and k >= 1 for k in t)


@dataclass(frozen=True)
class CNNConfig:
    """A convolutional network with one logit output (or ``outputs`` logits, for multi-class anchors)."""

    family: ClassVar[str] = "cnn"

    ndim: int = 1
    """1: inputs are signals of length D; 2: inputs are square images of side √D, flattened."""
    channels: int = 25
    """Channels of every convolution."""
    kernels: tuple[int, ...] = (5, 3, 3)
    """Kernel size of each convolution (their number is the depth)."""
    strides: tuple[int, ...] = (2, 2, 2)
    """Stride of each convolution."""
    outputs: int = 1
    """Logits per example: 1 for the ±1 label every claim trains on; 10 for the 10-class anchors."""

    def __post_init__(self) -> None:
        if self.ndim not in (1, 2):
            raise ConfigError("model.ndim", "1 or 2", self.ndim)
        if not (isinstance(self.channels, int) and self.channels >= 1):
            raise ConfigError("model.channels", "an integer ≥ 1", self.channels)
        if not _positive_ints(self.kernels):
            raise ConfigError("model.kernels", "a non-empty tuple of integers ≥ 1", self.kernels)
        if not (_positive_ints(self.strides) and len(self.strides) == len(self.kernels)):
            raise ConfigError("model.strides", f"{len(self.kernels)} integers ≥ 1 (one per kernel)", self.strides)
        if not (isinstance(self.outputs, int) and self.outputs >= 1):
            raise ConfigError("model.outputs", "an integer ≥ 1", self.outputs)

    def layer_names(self) -> list[str]:
        """``conv.0`` … ``conv.{L-1}``; the last one is what the head reads."""
        return [f"conv.{i}" for i in range(len(self.kernels))]

    def param_groups(self) -> list[str]:
        return ["trunk"] * (2 * len(self.kernels)) + ["head", "head"]

    def side(self, input_dim: int) -> int:
        """Input length (1D) or image side (2D)."""
        if self.ndim == 1:
            return input_dim
        s = math.isqrt(input_dim)
        if s * s != input_dim:
            raise ConfigError("model.ndim", f"1, or 2 for a square input (got input_dim {input_dim})", self.ndim)
        return s

    def sizes(self, input_dim: int) -> list[int]:
        """Spatial side after each convolution."""
        out, L = [], self.side(input_dim)
        for k, s in zip(self.kernels, self.strides):
            L = (L + 2 * PADDING - k) // s + 1
            if L < 1:
                raise ConfigError("model.kernels",
                                  f"kernels and strides that fit an input of side {self.side(input_dim)}", self.kernels)
            out.append(L)
        return out

    def init(self, input_dim: int, seeds: list[int]) -> Params:
        return init_cnn(self, input_dim, seeds)

    def forward(self, params: Params, x: torch.Tensor, keep: bool = False):
        return cnn_forward(self, params, x, keep)

    def flops_per_example(self, input_dim: int) -> int:
        c_in, total = 1, 0
        for k, L in zip(self.kernels, self.sizes(input_dim)):
            total += 2 * c_in * self.channels * k ** self.ndim * L ** self.ndim
            c_in = self.channels
        return total + 2 * self.channels * self.sizes(input_dim)[-1] ** self.ndim * self.outputs


def init_cnn(cfg: CNNConfig, input_dim: int, seeds: list[int]) -> Params:
    """Stacked parameters [K0 (N,C,1,k…), b0 (N,C), …, W (N,F,outputs), b (N,1,outputs)].

    PyTorch's default init for Conv and Linear (uniform ±1/√fan_in for weights and biases), drawn
    from a generator per model, so model n depends only on seeds[n].
    """
    flat = cfg.channels * cfg.sizes(input_dim)[-1] ** cfg.ndim
    per_model = []
    for s in seeds:
        g = torch.Generator().manual_seed(int(s))
        layers, c_in = [], 1
        for k in cfg.kernels:
            shape = (cfg.channels, c_in) + (k,) * cfg.ndim
            bound = 1.0 / math.sqrt(c_in * k ** cfg.ndim)
            layers.append((torch.rand(shape, generator=g) * 2 - 1) * bound)
            layers.append((torch.rand(cfg.channels, generator=g) * 2 - 1) * bound)
            c_in = cfg.channels
        bound = 1.0 / math.sqrt(flat)
        layers.append((torch.rand(flat, cfg.outputs, generator=g) * 2 - 1) * bound)
        layers.append((torch.rand(1, cfg.outputs, generator=g) * 2 - 1) * bound)
        per_model.append(layers)
    return [torch.stack([m[k] for m in per_model]) for k in range(len(per_model[0]))]


def cnn_forward(cfg: CNNConfig, params: Params, x: torch.Tensor,
                keep: bool = False) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits (N, B) — or (N, B, outputs) — for inputs x (N, B, D) or (B, D) shared by all models.

    With ``keep`` each convolution's post-ReLU activations are returned flattened, (N, B, C·L^ndim).
    """
    conv = F.conv1d if cfg.ndim == 1 else F.conv2d
    N = params[0].shape[0]
    side = cfg.side(x.shape[-1])
    spatial = (side,) * cfg.ndim
    C = cfg.channels
    acts: dict[str, torch.Tensor] = {}
    if x.dim() == 2:
        # one input for all models: the first layer is a plain convolution with N·C output channels
        B = x.shape[0]
        h = conv(x.reshape(B, 1, *spatial), params[0].reshape(N * C, 1, *params[0].shape[3:]),
                 params[1].reshape(N * C), stride=cfg.strides[0], padding=PADDING)
    else:
        B = x.shape[1]
        h = conv(x.transpose(0, 1).reshape(B, N, *spatial), params[0].reshape(N * C, 1, *params[0].shape[3:]),
                 params[1].reshape(N * C), stride=cfg.strides[0], padding=PADDING, groups=N)
    for i in range(len(cfg.kernels)):
        if i > 0:
            w, b = params[2 * i], params[2 * i + 1]
            h = conv(h, w.reshape(N * C, C, *w.shape[3:]), b.reshape(N * C), stride=cfg.strides[i],
                     padding=PADDING, groups=N)
        h = torch.relu(h)
        if keep:
            acts[f"conv.{i}"] = h.reshape(B, N, -1).transpose(0, 1)
    flat = h.reshape(B, N, -1).transpose(0, 1)  # (N, B, C·L^ndim), channel-major like nn.Flatten
    out = torch.baddbmm(params[-1], flat, params[-2])
    return (out.squeeze(-1) if cfg.outputs == 1 else out), acts
