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
over every draw — so without burn-in H3's numbers are the ones devinterp computes with the same
settings: ``tests/test_llc.py`` compares the two chain for chain when devinterp is installed
(``pip install 'greedlab[slt]'``). A burn-in drops the first steps of that same chain (devinterp's
``num_burnin_steps`` read differently in a test, by 0.2 on 256 draws, not yet explained). Every chain's loss at every step is
kept (``LLCEstimate.traces``): λ̂ from the first k kept draws (the draws-to-plateau curve) and from
each half of them say whether a chain had reached equilibrium. The settings are checked on models
of known λ in the networks' loss family and at singular points (``KNOWN_LAMBDA``).
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

    Chosen on models of known λ in the networks' loss family and at singular points
    (``KNOWN_LAMBDA``; ``llc_runs.LLCCheckSpec``, ``tests/test_llc.py``). Measured over 8 data sets of
    n = 8,192 each, λ̂ / (the exact tempered value ``tempered_value``):
    - the former settings (ε 1e-4, γ 100, 256 draws, no burn-in, batch 256) read logistic regression
      d = 4 and 16 at 0.28 and 0.57 of d/2 (γ shrinks directions of curvature nβh ≈ 100–200 by about
      half, and the chain had not relaxed), y = w₁w₂x at w = 0 at 0.01 and y = w²x at 0.03 of λ:
      a regular-regression check (nβh ≈ 900) passed while the networks' regime read low;
    - ε 1e-3, γ 1, burn-in 1,024, 2,048 draws, batch 1,024: 1.07, 1.11 (regular), 1.20 (duplicated),
      1.25 (y = w₁w₂x, squared loss), 1.02 (logistic), 1.14 (y = w²x): the step's own bias reads up,
      most where a singular valley lets the curvature across it grow (ε·nβ·w₁²/2 near 1 at |w₁| ≈ 1);
    - these defaults (ε 5e-4, γ 1, burn-in 2,048, 4,096 draws, batch 512): 1.02, 1.10 (regular d = 4,
      16), 1.15 (duplicated), 0.95 and 0.93 (y = w₁w₂x, squared and logistic), 1.01 (y = w²x).
    One setting reads all of them; it costs 6,144 steps per chain where the former took 256.
    """

    lr: float = 5e-4
    """SGLD step ε. Stable while ε·nβ·h/2 < 1 for the sharpest curvature h of the loss (at nβ ≈ 900,
    h up to ~4: a fitted logistic model's curvature is σ'(f)·|∇f|², small once it fits); its bias
    (up) grows with ε·nβ·h (see above). A chain relaxes along a direction of curvature h in
    ~2/(ε·(nβh + γ)) steps: at 1e-4 and γ = 100 that was ~100–200 steps in logistic regression's
    directions, most of the 256 draws then taken."""
    localization: float = 1.0
    """γ, the pull toward w*: keeps chains in w*'s basin. A Gaussian direction of curvature nβh reads
    a factor nβh/(nβh + γ) of its 1/2; a singular direction (flat along an axis, as y = w₁w₂x at
    w = 0) reads ≈ 0 unless the chain may wander out to |w| ~ 1/√γ ≫ nβ^(−1/4) ≈ 0.2. At the former
    100 the exact tempered value of y = w₁w₂x is 0.03 (λ = 1/2); at 1 it is 0.38, at 0.1 0.42 (the
    rest of the way to 1/2 is the multiplicity term, ``KNOWN_LAMBDA``), and logistic regression's
    is within 1% of d/2. Smaller γ costs mixing time (~2/(εγ) steps along a flat direction)."""
    nbeta: float | None = None
    """Inverse temperature nβ; None: n/log n, the WBIC temperature (Watanabe 2013) devinterp recommends."""
    chains: int = 2
    """Independent SGLD chains; their spread is the estimate's own standard error."""
    draws: int = 4096
    """SGLD steps per chain whose loss is kept (after ``burn_in``): at γ = 1 a singular direction's
    chain wanders for thousands of steps (at ε 1e-3, two halves of 1,024 draws read y = w₁w₂x
    apart by ±30% in one chain). A multiple of n/batch_size (whole passes over the training set):
    every example then weighs the same in the sampled loss as in L_n(w*), else the minibatches' own
    loss differences enter λ̂ multiplied by nβ (measured on ten d = 4 regressions: 0.64–1.42 of d/2
    at 200 draws, 0.76–1.08 at 256)."""
    burn_in: int = 2048
    """SGLD steps taken first and discarded: the chain starts at w*, where the loss is lowest, and
    its loss rises toward equilibrium over ~2/(ε·(nβh + γ)) steps along a direction of curvature h;
    averaging those steps in reads λ̂ low, most in the flattest directions. 2,048 = 2/(ε·(nβh + γ))
    for nβh ≈ 1 at ε 5e-4, γ 1: every direction that contributes ≥ 1/4 of its 1/2 to λ̂ (nβh ≥ γ/3)
    has relaxed to e^(−1.3) or less of its start. devinterp's default is 0."""
    batch_size: int = 512
    """Examples per SGLD step. Minibatch gradient noise adds to the injected noise and reads λ̂ high,
    ∝ ε/batch: at ε 1e-3, a batch of 256 read logistic regression d = 16 at 1.25 of d/2 and 1,024 at
    1.04; 512 at ε 5e-4 keeps 1,024's ratio at half the cost of a step."""
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
        if not (isinstance(self.burn_in, int) and self.burn_in >= 0):
            raise ConfigError("llc.burn_in", "an integer ≥ 0", self.burn_in)


def at_scale(cfg: LLCConfig, scale: float) -> LLCConfig:
    """The settings that treat weights of size ``scale`` as ``cfg`` treats weights of size 1: SGLD with
    (ε, γ) on weights s·w takes exactly the steps of (ε/s², γ·s²) on w, so (ε·s², γ/s²) on weights of
    size s is ``cfg`` on unit weights. ``LLCConfig``'s defaults were read right on unit-scale models;
    a network whose weights are ~0.1 needs them at scale 0.1 (see ``WEIGHT_SCALE``)."""
    return replace(cfg, lr=cfg.lr * scale ** 2, localization=cfg.localization / scale ** 2)


WEIGHT_SCALE = 0.1
"""The size of the claims' MLP weights the estimator's settings are scaled to (``at_scale``): nn.Linear's
init, uniform ±1/√fan_in, is ±0.125 in the first layer (64 inputs) and ±0.0625 after (256). Measured
on two proxy-class representatives (quick settings, 1,500 steps): with the unit-scale defaults
(ε 5e-4, γ 1) their chains left the basin (the loss trace jumped to nβ·(L − L*) ≈ 3·10⁴ and back;
the two halves of the draws read 6.0 and 11.3), at scale 0.1 (ε 5e-6, γ 100) they rose through
the burn-in to ≈ 4 and stayed (halves 3.6/4.5 and 4.5/3.5), with no jump."""


def nbeta_for(cfg: LLCConfig, n: int) -> float:
    return cfg.nbeta if cfg.nbeta is not None else n / math.log(n)


@dataclass
class LLCEstimate:
    """One model's estimate: λ̂ per chain, the loss L_n(w*) it is measured from, and each chain's
    minibatch loss at every step it took (burn-in included), from which λ̂ is recomputed for any
    number of kept draws."""

    per_chain: np.ndarray
    init_loss: float
    traces: np.ndarray | None = None
    """(chains, burn_in + draws): the minibatch loss each step met; NaN from a failed step on."""
    burn_in: int = 0
    nbeta: float = float("nan")

    @property
    def llc(self) -> float:
        return float(np.mean(self.per_chain))

    def kept(self, k: int, start: int = 0) -> float:
        """λ̂ from the kept draws start … start + k − 1 (after the burn-in), averaged over chains: read
        at growing k it is the draws-to-plateau curve; two halves read apart show a chain still moving."""
        if self.traces is None:
            raise ValueError("this estimate kept no loss traces")
        part = self.traces[:, self.burn_in + start:self.burn_in + start + k]
        return float(np.mean(self.nbeta * (part.mean(1) - self.init_loss)))

    def trace(self, block: int) -> np.ndarray:
        """nβ·(loss − L_n(w*)) averaged over chains and over blocks of ``block`` steps, burn-in included:
        the chains' relaxation from w* as the estimate sees it (a trailing partial block is dropped)."""
        if self.traces is None:
            raise ValueError("this estimate kept no loss traces")
        t = self.traces[:, :self.traces.shape[1] // block * block]
        return self.nbeta * (t.reshape(len(t), -1, block).mean(2).mean(0) - self.init_loss)


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
    traces = np.stack([_chain_trace(module, x, y, loss, batches, nbeta, cfg, chain) for chain in range(cfg.chains)])
    per_chain = nbeta * (traces[:, cfg.burn_in:].mean(1) - init_loss)
    return LLCEstimate(per_chain, init_loss, traces, cfg.burn_in, nbeta)


def _chain_trace(module: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: Loss, batches: torch.Tensor,
                 nbeta: float, cfg: LLCConfig, chain: int) -> np.ndarray:
    """One chain's minibatch loss at each of its burn_in + draws steps; NaN from the step on where the
    loss turns NaN or infinite (a step past stability), with a warning: such a chain has no estimate."""
    model = copy.deepcopy(module)
    params = [p for p in model.parameters() if p.requires_grad]
    center = [p.detach().clone() for p in params]
    noise = torch.Generator(device=x.device).manual_seed(cfg.seed + chain)
    trace = np.full(cfg.burn_in + cfg.draws, np.nan)
    for step in range(cfg.burn_in + cfg.draws):
        i = batches[step % len(batches)]
        batch_loss = loss(model(x[i]), y[i]).float().mean()
        if not torch.isfinite(batch_loss):
            warnings.warn(f"LLC chain {chain} failed: the loss is NaN or infinite at step {step} "
                          f"(lr {cfg.lr} is past stability here)", RuntimeWarning, stacklevel=3)
            return trace
        grads = torch.autograd.grad(batch_loss, params, allow_unused=True)
        trace[step] = batch_loss.item()
        with torch.no_grad():
            for p, g, c in zip(params, grads, center):
                if g is None:  # a parameter the loss does not reach stays at w*
                    continue
                drift = g * nbeta + cfg.localization * (p - c)
                p.add_(drift, alpha=-0.5 * cfg.lr)
                p.add_(torch.normal(mean=0.0, std=1.0, size=p.shape, device=p.device, generator=noise),
                       alpha=cfg.lr ** 0.5)
    return trace


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


# -- known λ in the networks' own loss family, and at singular points ------------------------------
#
# The networks are read under the logistic loss, on data they fit, and they are singular models. So
# the estimator is checked (``KNOWN_LAMBDA``) on (i) logistic regression on non-separable data
# (regular: λ = d/2, curvature nβh ≈ 100–200 rather than regression's ≈ 900), (ii) singular models at
# w = 0 whose λ is below d/2: y = w₁w₂x (λ = 1/2, multiplicity m = 2) and y = w²x (λ = 1/4, m = 1),
# under the squared and the logistic loss (near w = 0 the logistic loss is quadratic in the output,
# K ≈ c²·E[x²]/8, so λ is the squared loss's), and (iii) logistic regression with every weight
# duplicated (a minimum with d flat directions: λ = d/2 for 2d parameters).
#
# With m = 2 the tempered posterior's own expectation nβ·E[L − L*] lies below λ at any finite n,
# by ~(m − 1)/log(nβ) (Watanabe's WBIC carries the same term): at n = 8,192 and γ = 1 it is 0.38
# (squared) and 0.36 (logistic) for λ = 1/2. ``tempered_value`` computes it by quadrature, for the
# estimator to be checked against the quantity it estimates; λ itself is stored beside it.


class Product(nn.Module):
    """y = c(w)·x₁ with c = w₁·w₂ (``kind="product"``) or c = w² (``"square"``), at w = 0."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind
        self.a = nn.Parameter(torch.zeros(()))
        self.b = nn.Parameter(torch.zeros(())) if kind == "product" else None

    def coef(self) -> torch.Tensor:
        return self.a * self.b if self.kind == "product" else self.a ** 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0] * self.coef()


def _fit_logistic(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The exact minimizer of the mean logistic loss (L-BFGS to a gradient of ~1e-9): the estimator
    measures from L_n(w*), so w* must be the minimum, not near it."""
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    x64, y64 = x.double(), y.double()
    opt = torch.optim.LBFGS([w], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        out = logistic_loss(x64 @ w, y64).mean()
        out.backward()
        return out

    opt.step(closure)
    return w.detach().float()


@dataclass(frozen=True)
class KnownCase:
    """A model of known λ: ``name``, λ, parameter count."""

    name: str
    lam: float
    params: int


KNOWN_LAMBDA = (KnownCase("logistic d=4", 2.0, 4), KnownCase("logistic d=16", 8.0, 16),
                KnownCase("logistic duplicated d=8", 4.0, 16),
                KnownCase("product squared", 0.5, 2), KnownCase("product logistic", 0.5, 2),
                KnownCase("square squared", 0.25, 1))
"""The estimator's known-λ cases (see the comment above)."""


def known_problem(case: KnownCase, n: int = 8192, seed: int = 0,
                  scale: float = 1.0) -> tuple[nn.Module, torch.Tensor, torch.Tensor, Loss]:
    """(module at w*, x, y, per-example loss) for ``case``, data set ``seed``. With ``scale`` s the same
    model is written in weights s times smaller (the inputs s, or for the products s², times larger):
    the same function, loss and λ, with the sampler meeting it as it meets weights of that size (SGLD
    with (ε, γ) on weights s·w is SGLD with (ε/s², γ·s²) on w)."""
    module, x, y, loss = _known_problem(case, n, seed)
    if scale != 1.0:
        with torch.no_grad():
            if isinstance(module, Linear):
                x = x / scale
                for p in module.parameters():
                    p.mul_(scale)
            else:
                x = x / scale ** 2
    return module, x, y, loss


def _known_problem(case: KnownCase, n: int, seed: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor, Loss]:
    g = torch.Generator().manual_seed(seed)
    if case.name.startswith("logistic"):
        d = int(case.name.split("d=")[1])
        x = torch.randn(n, d, generator=g)
        # labels drawn from the model (weights of norm 1.5): overlapping classes, no separating plane,
        # so the maximum-likelihood w* exists and is a strict minimum
        w0 = torch.randn(d, generator=g)
        w0 = 1.5 * w0 / w0.norm()
        y = torch.where(torch.rand(n, generator=g) < torch.sigmoid(x @ w0), 1.0, -1.0)
        return Linear(_fit_logistic(x, y), duplicated="duplicated" in case.name), x, y, logistic_loss
    kind, loss_name = case.name.split()
    x = torch.randn(n, 1, generator=g)
    if loss_name == "squared":
        # noise made orthogonal to x: w = 0 (c = 0) is then the exact minimizer of L_n
        y = torch.randn(n, generator=g)
        y = y - x[:, 0] * (x[:, 0] @ y) / (x[:, 0] @ x[:, 0])
        loss: Loss = gaussian_nll
    else:
        # balanced labels independent of x, and x made orthogonal to them: c = 0 is the exact minimizer
        y = torch.where(torch.randperm(n, generator=g) % 2 == 0, 1.0, -1.0)
        x[:, 0] -= (x[:, 0] @ y) / n * y
        loss = logistic_loss
    return Product(kind), x, y, loss


def tempered_value(case: KnownCase, x: torch.Tensor, y: torch.Tensor, loss: Loss, module: nn.Module,
                   cfg: LLCConfig) -> float:
    """What λ̂ estimates at these settings, exactly: nβ·E[L_n(w) − L_n(w*)] under the localized tempered
    posterior exp(−nβ·(L_n(w) − L_n(w*)) − γ|w − w*|²/2). By quadrature for the singular cases (one or
    two parameters); for the logistic ones from the Hessian H at w* (the posterior is Gaussian there
    to O(1/√(nβ))): Σ_i ½·nβh_i/(nβh_i + γ) over H's eigenvalues h_i."""
    n = len(y)
    nbeta, gamma = nbeta_for(cfg, n), cfg.localization
    if case.name.startswith("logistic"):
        params = list(module.parameters())
        flat = torch.cat([p.detach().reshape(-1) for p in params])
        sizes = [p.numel() for p in params]

        def f(v):
            parts = torch.split(v, sizes)
            w = parts[0] if len(parts) == 1 else parts[0] + parts[1]
            return logistic_loss(x.double() @ w, y.double()).mean()

        h = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, flat.double())).clamp(min=0).numpy()
        return float(np.sum(0.5 * nbeta * h / (nbeta * h + gamma)))
    # singular: the loss is a function of the coefficient c alone; tabulate it, then integrate over w
    width = 8 / math.sqrt(max(gamma, 1e-2))    # 8 localization SDs
    grid = np.linspace(-width, width, 2401)
    cs = np.linspace(-width ** 2, width ** 2, 20001)
    with torch.no_grad():
        base = float(loss(torch.zeros(n), y).double().mean())
        xc = x[:, 0].double()
        k = np.array([float(loss(c * xc, y.double()).mean()) - base for c in cs])
    if case.name.startswith("product"):
        a, b = np.meshgrid(grid, grid, indexing="ij")
        c, r2 = a * b, a ** 2 + b ** 2
    else:
        c, r2 = grid ** 2, grid ** 2
    kk = np.interp(c, cs, k)
    logw = -nbeta * kk - gamma * r2 / 2
    w = np.exp(logw - logw.max())
    return float(nbeta * (kk * w).sum() / w.sum())


def known_check(case: KnownCase, n: int = 8192, seed: int = 0, cfg: LLCConfig = LLCConfig(),
                scale: float = 1.0) -> tuple[LLCEstimate, float]:
    """λ̂ of ``case`` on data set ``seed`` with settings ``cfg``, its weights at ``scale`` (the sampler's
    seed moves with the data set's: each is an independent replicate of both), and the tempered value
    it estimates."""
    module, x, y, loss = known_problem(case, n, seed, scale)
    est = estimate_llc(module, x, y, loss, replace(cfg, seed=cfg.seed + seed))
    return est, tempered_value(case, x, y, loss, module, cfg)
