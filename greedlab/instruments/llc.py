"""The local learning coefficient (LLC): how much parameter volume a solution occupies.

Singular learning theory (Watanabe) counts a solution's complexity by λ, the learning coefficient:
near a minimum w*, the volume of parameters whose loss is within ε of the minimum scales as ε^λ,
so a *lower* λ is *more* volume. A regular model with d parameters has λ = d/2; redundant or
degenerate parameters make it smaller. Lau et al. ("The Local Learning Coefficient", 2023) estimate
it at a trained model as ``λ̂ = nβ·(E_w[L_n(w)] − L_n(w*))``, the expectation over a tempered
posterior localized at w* and sampled with SGLD. We use devinterp's estimator (``greedlab[slt]``)
and never re-implement the sampler.

devinterp 2.x samples language models: a dataset of token sequences and a per-token loss. A world's
training set is handed to it as sequences ``[i, i]`` of example indices (one "next token" each), and
the loss looks the example up; the estimate is the one devinterp computes for any model.
"""

from __future__ import annotations

import contextlib
import gc
import io
import math
import random
import tempfile
import warnings
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import torch
from torch import nn

from greedlab.errors import ConfigError
from greedlab.models import Model, Params
from greedlab.train import logistic_loss

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(model output (B,), targets (B,)) -> per-example loss (B,): the negative log-likelihood."""


@dataclass(frozen=True)
class LLCConfig:
    """SGLD settings of the estimator, the same for every model a claim compares.

    The defaults follow Lau et al. 2023 and devinterp's guidance, and were checked on models of known
    λ (``tests/test_llc.py``, ``llc_runs.LLCCheckSpec``): over ten regression data sets of n = 8,192,
    d = 4 weights read 0.76–1.08 of d/2 (mean 0.91) and d = 16 read 0.93–1.11 (mean 1.03).
    Remaining biases: localization (down, ≤ 10%), the chain starting at w* (down, ~τ/draws ≈ 4%),
    minibatch gradient noise (up, ∝ ε: about +30% at ε = 3e-4, +5–8% at ε = 1e-4).
    """

    lr: float = 1e-4
    """SGLD step ε. Stable while ε·nβ·h/2 < 1 for the sharpest curvature h of the loss; at
    nβ ≈ 900 that allows h up to ~20, and chains still move ~ε·nβ·h/2 ≈ 5% of the way to
    equilibrium per step along directions of curvature h ≈ 1."""
    localization: float = 100.0
    """γ, the pull toward w*: keeps chains in w*'s basin. It shrinks λ̂ along directions whose
    curvature nβ·h is not ≫ γ (a factor nβh/(nβh + γ), 0.9 at nβh ≈ 900)."""
    nbeta: float | None = None
    """Inverse temperature nβ; None: n/log n, the WBIC temperature (Watanabe 2013) devinterp recommends."""
    chains: int = 2
    """Independent SGLD chains; their spread is the estimate's own standard error."""
    draws: int = 256
    """SGLD steps per chain. devinterp averages the loss over all of them (no burn-in is discarded),
    so chains must equilibrate within a small fraction (~10 steps here). Best a multiple of
    n/batch_size (8 passes over 8,192 examples): every example then weighs the same in the sampled
    loss as in L_n(w*), else the minibatches' own loss differences enter λ̂ multiplied by nβ
    (measured on ten d = 4 regressions: 0.64–1.42 of d/2 at 200 draws, 0.76–1.08 at 256)."""
    batch_size: int = 256
    """Examples per SGLD step."""
    seed: int = 0
    """Seed of the SGLD noise and of the minibatch order."""

    def __post_init__(self) -> None:
        for name in ("lr", "localization"):
            v = getattr(self, name)
            if not (v >= 0 and math.isfinite(v)) or (name == "lr" and v == 0):
                raise ConfigError(f"llc.{name}", "a finite number > 0" if name == "lr" else "a finite number ≥ 0", v)
        if self.nbeta is not None and not (self.nbeta > 0 and math.isfinite(self.nbeta)):
            raise ConfigError("llc.nbeta", "None or a finite number > 0", self.nbeta)
        for name in ("chains", "draws", "batch_size"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ConfigError(f"llc.{name}", "an integer ≥ 1", v)


def nbeta_for(cfg: LLCConfig, n: int) -> float:
    return cfg.nbeta if cfg.nbeta is not None else n / math.log(n)


@dataclass
class LLCEstimate:
    """One model's estimate: λ̂ per chain, and the loss L_n(w*) it is measured from."""

    per_chain: np.ndarray
    init_loss: float

    @property
    def llc(self) -> float:
        return float(np.mean(self.per_chain))


def require_devinterp():
    """devinterp's sampler entry point, or the one clear error naming the extra that installs it."""
    try:
        from devinterp.slt.llc import llc
    except ImportError:
        raise ConfigError("llc estimator", "devinterp, after `pip install 'greedlab[slt]'` (it is not installed)",
                          "devinterp") from None
    return llc


class _Indices(torch.utils.data.Dataset):
    """Example i as the sequence [i, i]. devinterp reads any torch Dataset of {"input_ids": …} rows;
    this one costs a fifth of a Hugging Face Dataset per batch of 256 (0.26 against 1.4 ms, measured)."""

    def __init__(self, n: int):
        ids = torch.arange(n)
        self.rows = torch.stack([ids, ids], 1)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.rows[i]}


def estimate_llc(module: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: Loss,
                 cfg: LLCConfig = LLCConfig()) -> LLCEstimate:
    """λ̂ of ``module`` (at its current parameters, taken as w*) on the training set (x, y)."""
    sampler = require_devinterp()
    n = len(y)
    if n < cfg.batch_size:
        raise ConfigError("llc.batch_size", f"at most the training set's size {n}", cfg.batch_size)

    def per_token_loss(model: nn.Module, input_ids: torch.Tensor) -> torch.Tensor:
        i = input_ids[:, 0]
        return loss(model(x[i]), y[i]).unsqueeze(1)  # (batch, 1): one "token" per example

    # devinterp runs a full gc.collect() before and after every chain: 0.24 s each in a process that
    # has imported torch and transformers, most of a small model's estimate. Objects that exist
    # already are not the sampler's garbage; freezing them leaves each collection only its own.
    gc.freeze()
    # devinterp seeds the global random generators (torch, numpy, random) for its chains; the caller's
    # streams are given back as they were
    states = torch.get_rng_state(), np.random.get_state(), random.getstate()
    try:
        # devinterp draws a progress bar per chain on stderr; ours (the CLI's) already counts members
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("always")
            out = sampler(module, _Indices(n), {}, lr=cfg.lr, n_beta=nbeta_for(cfg, n), loss_fn=per_token_loss,
                          localization=cfg.localization, num_chains=cfg.chains, num_draws=cfg.draws,
                          batch_size=cfg.batch_size, init_seed=cfg.seed,
                          num_init_loss_batches=max(n // cfg.batch_size, 1),  # L_n(w*) on the whole set
                          device=str(x.device), output_path=f"{tmp}/samples.zarr")
            per_chain = np.asarray(out["llc_per_chain"].values, dtype=float)
            init_loss = float(out["init_loss"].values)
    finally:
        gc.unfreeze()
        torch.set_rng_state(states[0])
        np.random.set_state(states[1])
        random.setstate(states[2])
    # a chain whose loss turned NaN/inf stops early with a warning, leaving unwritten draws behind:
    # its estimate is no estimate
    failed = [w for w in caught if "Chain failed" in str(w.message)]
    if failed:
        per_chain = np.full(cfg.chains, np.nan)
    for w in caught:
        if w not in failed:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return LLCEstimate(per_chain, init_loss)


class Member(nn.Module):
    """Model ``i`` of a stacked ensemble as an ordinary module (devinterp samples one model at a time);
    its forward is the family's own, on a stack of one."""

    def __init__(self, model: Model, params: Params, i: int):
        super().__init__()
        self.model = model
        self.weights = nn.ParameterList([nn.Parameter(p[i].detach().clone()) for p in params])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits, _ = self.model.forward([w.unsqueeze(0) for w in self.weights], x)
        return logits[0]


def ensemble_llc(model: Model, params: Params, x: torch.Tensor, y: torch.Tensor, seeds: list[int],
                 cfg: LLCConfig = LLCConfig(), on_member: Callable[[int], None] | None = None) -> list[LLCEstimate]:
    """λ̂ of every ensemble member on the training set (x, y ∈ {−1, +1}) under the logistic loss the
    members were trained with; member i's chains are seeded with ``cfg.seed + seeds[i]``, so its
    estimate depends on its own seed only and members' sampler noise is independent. A loop, not a
    batch: devinterp's sampler takes one module, and each member's chain must see only its own loss."""
    out = []
    for i in range(params[0].shape[0]):
        mine = replace(cfg, seed=cfg.seed + int(seeds[i]))
        out.append(estimate_llc(Member(model, params, i), x, y, logistic_loss, mine))
        if on_member is not None:
            on_member(i + 1)
    return out


# -- models of known learning coefficient: the estimator's positive and negative controls ---------

def gaussian_nll(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example negative log-likelihood of y ~ N(pred, 1), up to its constant."""
    return 0.5 * (pred - y) ** 2


class Linear(nn.Module):
    """y = x·w with d weights: a regular model, λ = d/2. With ``duplicated`` every weight is the sum
    of two parameters (w = u + v): 2d parameters, the same d directions of the loss, still λ = d/2."""

    def __init__(self, w: torch.Tensor, duplicated: bool = False):
        super().__init__()
        self.u = nn.Parameter(w / 2 if duplicated else w.clone())
        self.v = nn.Parameter(w / 2) if duplicated else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.u if self.v is None else self.u + self.v
        return x @ w


def regression_check(d: int, duplicated: bool = False, n: int = 8192, seed: int = 0,
                     cfg: LLCConfig = LLCConfig()) -> tuple[LLCEstimate, int, float]:
    """λ̂ of linear regression with d true weights at its least-squares fit, on n examples with a
    full-rank standard-normal design and unit Gaussian noise; returns (estimate, parameter count, d/2).
    The exact minimizer is w* (the estimator measures from L_n(w*)), so the only errors left are the
    sampler's."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = x @ torch.randn(d, generator=g) + torch.randn(n, generator=g)
    w_hat = torch.linalg.lstsq(x, y.unsqueeze(1)).solution.squeeze(1)
    module = Linear(w_hat, duplicated)
    n_params = sum(p.numel() for p in module.parameters())
    # the sampler's seed moves with the data set's: each data set is an independent replicate of both
    return estimate_llc(module, x, y, gaussian_nll, replace(cfg, seed=cfg.seed + seed)), n_params, d / 2
