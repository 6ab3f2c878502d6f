"""The local learning coefficient (LLC): how much parameter volume a solution occupies.

Singular learning theory (Watanabe) counts a solution's complexity by λ, the learning coefficient:
near a minimum w*, the volume of parameters whose loss is within ε of the minimum scales as ε^λ,
so a *lower* λ is *more* volume. A regular model with d parameters has λ = d/2; redundant or
degenerate parameters make it smaller. Lau et al. ("The Local Learning Coefficient", 2023) estimate
it at a trained model as ``λ̂ = nβ·(E_w[L_n(w)] − L_n(w*))``, the expectation over a tempered
posterior localized at w* and sampled with SGLD.

The sampler is written here, not imported. devinterp (the reference implementation, 2.x) samples
language models and depends on datasets, transformers, pyarrow, xarray and zarr: installed for this
one estimator they made the test environment 2.1 GB, where none of them is needed to take SGLD steps
on a small model. ``estimate_llc`` is devinterp 2.0's estimator step for step — the same update
(its ``SGMCMC.sgld``), the same minibatch order (one shuffled pass of a ``DataLoader`` seeded with
the chain seed, replayed), the same noise stream (chain c seeded with seed + c), the loss averaged
over every draw — so H3's numbers are the ones devinterp computes with the same settings:
``tests/test_llc.py`` compares the two chain for chain when devinterp is installed
(``pip install 'greedlab[slt]'``), and checks both against models of known λ.
"""

from __future__ import annotations

import copy
import math
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
    """SGLD steps per chain. The loss is averaged over all of them, as devinterp does (no burn-in is
    discarded), so chains must equilibrate within a small fraction (~10 steps here). Best a multiple of
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


def minibatches(n: int, batch_size: int, seed: int) -> torch.Tensor:
    """The examples each SGLD step reads, (n // batch_size, batch_size): one shuffled pass over the
    training set, dropping the remainder, drawn as devinterp draws it (a ``DataLoader`` seeded with
    ``seed``) and replayed for as many steps as a chain takes."""
    loader = torch.utils.data.DataLoader(torch.arange(n), batch_size=batch_size, shuffle=True, drop_last=True,
                                         generator=torch.Generator().manual_seed(seed))
    return torch.stack(list(loader))


def estimate_llc(module: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: Loss,
                 cfg: LLCConfig = LLCConfig()) -> LLCEstimate:
    """λ̂ of ``module`` (at its current parameters, taken as w*) on the training set (x, y).

    Each chain starts at w* and takes ``cfg.draws`` SGLD steps
    ``w ← w − ε/2·(nβ·∇L_batch(w) + γ·(w − w*)) + √ε·N(0, 1)``; λ̂ of a chain is nβ times the mean of
    the minibatch losses it met minus L_n(w*), the loss over the examples the chains read. The module
    is left as it was, and so are the caller's random streams (the sampler has generators of its own)."""
    n = len(y)
    if n < cfg.batch_size:
        raise ConfigError("llc.batch_size", f"at most the training set's size {n}", cfg.batch_size)
    nbeta = nbeta_for(cfg, n)
    batches = minibatches(n, cfg.batch_size, cfg.seed).to(x.device)
    with torch.no_grad():
        init_loss = float(torch.stack([loss(module(x[i]), y[i]).float().mean() for i in batches]).mean())
    per_chain = np.array([nbeta * (_chain_loss(module, x, y, loss, batches, nbeta, cfg, chain) - init_loss)
                          for chain in range(cfg.chains)])
    return LLCEstimate(per_chain, init_loss)


def _chain_loss(module: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: Loss, batches: torch.Tensor,
                nbeta: float, cfg: LLCConfig, chain: int) -> float:
    """One chain's mean minibatch loss over its draws; NaN, with a warning, if the loss turns NaN or
    infinite (a step past stability): such a chain has no estimate."""
    model = copy.deepcopy(module)
    params = [p for p in model.parameters() if p.requires_grad]
    center = [p.detach().clone() for p in params]
    noise = torch.Generator(device=x.device).manual_seed(cfg.seed + chain)
    total = 0.0
    for step in range(cfg.draws):
        i = batches[step % len(batches)]
        batch_loss = loss(model(x[i]), y[i]).float().mean()
        if not torch.isfinite(batch_loss):
            warnings.warn(f"LLC chain {chain} failed: the loss is NaN or infinite at step {step} "
                          f"(lr {cfg.lr} is past stability here)", RuntimeWarning, stacklevel=3)
            return float("nan")
        grads = torch.autograd.grad(batch_loss, params, allow_unused=True)
        total += batch_loss.item()
        with torch.no_grad():
            for p, g, c in zip(params, grads, center):
                if g is None:  # a parameter the loss does not reach stays at w*
                    continue
                drift = g * nbeta + cfg.localization * (p - c)
                p.add_(drift, alpha=-0.5 * cfg.lr)
                p.add_(torch.normal(mean=0.0, std=1.0, size=p.shape, device=p.device, generator=noise),
                       alpha=cfg.lr ** 0.5)
    return total / cfg.draws


class Member(nn.Module):
    """Model ``i`` of a stacked ensemble as an ordinary module (the sampler takes one model at a time);
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
    batch: each member's chain must see only its own loss (and a loop keeps the sampler devinterp's)."""
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
