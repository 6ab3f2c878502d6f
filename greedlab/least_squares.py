"""Overparameterized least squares: the one setting where "the minimum closest to the start" is known.

Each member is its own problem: A (n × p, p > n: more parameters than examples) and b drawn from the
member's world seed, the start x0 from its init seed, loss L(x) = ½·mean_i (a_i·x − b_i)². Its minima
form the affine set {x : Ax = b}; the one closest to x0 is the pseudo-inverse solution
x* = x0 + A⁺(b − A·x0). Gradient descent from x0 converges to exactly that point: every gradient
Aᵀ(Ax − b)/n lies in A's row space, so the displacement x − x0 never leaves it, and the only minimum
in x0 + rowspace(A) is x*. Cone descent's step is a·g + b·(x − x0) (``greedlab.optim``), so it too
stays in x0 + rowspace(A): wherever it converges, it converges to x*, no closer (nothing is) and no
farther. What it can change is how far from x0 it is on the way, at a given loss.

Each problem is rescaled so that the Hessian AᵀA/n has largest eigenvalue 1 (A and b divided by
the same factor: the minima do not move); plain descent is then stable for lr < 2, and ``lr`` is
one number for every member.

``displaced``: a planted case. The start is x0 + n, n in A's null space with |n| = displaced·|x* − x0|
(a fresh direction from the init seed), but distances are still read from x0. The null-space part
changes neither loss nor gradient, so this run follows the undisplaced run's losses step for step while
sitting √(1 + displaced²) times as far from x0 at the end: a method known to end farther at every loss.

``LeastSquaresSpec`` is a run of its own kind (like ``greedlab.anchors.AnchorSpec``): stored and
resumed by ``greedlab.experiment.run``, its ``measure`` returning [(step, {(instrument, ""): (N,)})]:
``train_loss`` (L(x)/L(x0), the start's loss as 1), ``distance_from_init`` (|x − x0|),
``distance_to_closest`` (|x − x*|) and ``closest_distance`` (|x* − x0|, the same at every step).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import torch

from greedlab.errors import ConfigError
from greedlab.experiment import config_key
from greedlab.optim import ConeDescent
from greedlab.train import eval_steps


@dataclass(frozen=True)
class LeastSquaresSpec:
    """Members' least-squares problems and how they are descended (cone descent; α = 0 is plain GD)."""

    n_examples: int = 32
    n_params: int = 128
    alpha: float = 0.0
    """Cone half-angle in degrees (0: gradient descent)."""
    lr: float = 1.0
    """Step size on the rescaled problem (largest Hessian eigenvalue 1: plain descent is stable below 2)."""
    steps: int = 1500
    n_evals: int = 30
    displaced: float = 0.0
    """Start off x0 along A's null space by this multiple of |x* − x0| (the planted case); 0: at x0."""
    init_seeds: tuple[int, ...] = (0, 1)
    data_seeds: tuple[int, ...] = (100_000, 100_001)
    """Unused by the full-batch descent; kept so that members pair like every other run's."""
    world_seeds: tuple[int, ...] = (0, 0)

    def __post_init__(self) -> None:
        if not (isinstance(self.n_examples, int) and isinstance(self.n_params, int)
                and 1 <= self.n_examples < self.n_params):
            raise ConfigError("least_squares.n_params", f"an integer > n_examples ({self.n_examples})",
                              self.n_params)
        if not 0 <= self.alpha < 90:
            raise ConfigError("least_squares.alpha", "degrees in [0, 90)", self.alpha)
        if not self.lr > 0:
            raise ConfigError("least_squares.lr", "a number > 0", self.lr)
        if not self.displaced >= 0:
            raise ConfigError("least_squares.displaced", "a number ≥ 0", self.displaced)
        if not (len(self.init_seeds) == len(self.data_seeds) == len(self.world_seeds) >= 1):
            raise ConfigError("least_squares seeds", "equally many (≥ 1) init, data and world seeds",
                              (len(self.init_seeds), len(self.data_seeds), len(self.world_seeds)))

    def config(self) -> dict:
        return {"run": "least_squares", **dataclasses.asdict(self)}

    @property
    def run_id(self) -> str:
        return config_key(self.config())

    @property
    def n_models(self) -> int:
        return len(self.init_seeds)

    @property
    def member_worlds(self) -> tuple[int, ...]:
        return self.world_seeds

    @property
    def total_steps(self) -> int:
        return self.steps

    def measure(self, device: str = "cpu", progress: Callable[[int, int], None] | None = None):
        return descend(self, progress)


def problem(n: int, p: int, world_seed: int, init_seed: int) -> tuple[torch.Tensor, ...]:
    """(A, b, x0, x*) of one member, float64, A and b rescaled so that λ_max(AᵀA/n) = 1."""
    g = torch.Generator().manual_seed(int(world_seed))
    A = torch.randn(n, p, generator=g, dtype=torch.float64) / p ** 0.5
    b = torch.randn(n, generator=g, dtype=torch.float64)
    scale = torch.linalg.eigvalsh(A.T @ A / n).max().sqrt()
    A, b = A / scale, b / scale
    x0 = torch.randn(p, generator=torch.Generator().manual_seed(int(init_seed)), dtype=torch.float64)
    return A, b, x0, x0 + torch.linalg.pinv(A) @ (b - A @ x0)


def null_direction(A: torch.Tensor, init_seed: int) -> torch.Tensor:
    """A unit vector of A's null space, drawn from the member's init seed (its own stream)."""
    r = torch.randn(A.shape[1], generator=torch.Generator().manual_seed(int(init_seed) + 7_777_777),
                    dtype=torch.float64)
    r = r - torch.linalg.pinv(A) @ (A @ r)
    return r / r.norm()


def descend(spec: LeastSquaresSpec, progress: Callable[[int, int], None] | None = None) -> list[tuple[int, dict]]:
    probs = [problem(spec.n_examples, spec.n_params, w, i) for w, i in zip(spec.world_seeds, spec.init_seeds)]
    A = torch.stack([q[0] for q in probs])
    b = torch.stack([q[1] for q in probs])
    x0 = torch.stack([q[2] for q in probs])
    star = torch.stack([q[3] for q in probs])
    start = x0.clone()
    if spec.displaced > 0:
        far = (star - x0).norm(dim=1, keepdim=True) * spec.displaced
        start = start + far * torch.stack([null_direction(q[0], i) for q, i in zip(probs, spec.init_seeds)])
    x = start.clone().requires_grad_(True)
    opt = ConeDescent([x], lr=spec.lr, alpha_deg=spec.alpha)  # per model: row n is member n's parameters

    def loss_of(z: torch.Tensor) -> torch.Tensor:  # (N,)
        return 0.5 * ((torch.einsum("nij,nj->ni", A, z) - b) ** 2).mean(dim=1)

    l0 = loss_of(x0)
    checkpoints = set(eval_steps(spec.steps, spec.n_evals))
    closest = (star - x0).norm(dim=1)
    records: list[tuple[int, dict]] = []
    for step in range(spec.steps + 1):
        if step in checkpoints:
            with torch.no_grad():
                records.append((step, {("train_loss", ""): loss_of(x) / l0,
                                       ("distance_from_init", ""): (x - x0).norm(dim=1),
                                       ("distance_to_closest", ""): (x - star).norm(dim=1),
                                       ("closest_distance", ""): closest.clone()}))
        if step == spec.steps:
            break
        opt.zero_grad(set_to_none=True)
        loss_of(x).sum().backward()
        opt.step()
        if progress is not None and ((step + 1) % 250 == 0 or step + 1 == spec.steps):
            progress(step + 1, spec.steps)
    return records
