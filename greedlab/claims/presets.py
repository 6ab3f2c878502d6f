"""Presets every hierarchy claim shares, owned by none of them: the default world and the readings
several claims take of a run. (Claims import this, never one another.)"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np

from greedlab.experiment import RunResult, Stage
from greedlab.models import EarlyExitConfig, MLPConfig
from greedlab.worlds import HierarchyConfig, Proxy, StaircaseStep

PROXY_LATENT = 4
"""The default proxy: latent a_4, a level-1 feature outside the level-4 target χ_{0123}."""


def world(rho: float) -> HierarchyConfig:
    """The default world (target χ_{0123}) with the proxy a_4 agreeing with it at ρ in training."""
    return replace(HierarchyConfig(), proxies=(Proxy((PROXY_LATENT,), rho),))


EASY_TARGET = (0,)
"""The easy target: latent a_0, a level-1 feature, as easy as the proxy a_4."""


def easy_target_world(rho: float) -> HierarchyConfig:
    """The default world with its target made as easy as the proxy (χ_{0}, level 1; the proxy a_4 at ρ):
    every model can represent the target from the start, so nothing has to be fit first and starved.
    Where an effect is claimed to come from a hard target, it must vanish here (H5, H6)."""
    return replace(world(rho), target=EASY_TARGET)


def best_decodability(r: RunResult, feature: str) -> np.ndarray:
    """(N, T): the best hidden layer's probe accuracy for ``feature`` at each evaluation."""
    return np.max([r.curve(f"decodability:{layer}", feature) for layer in r.layers()], axis=0)


# -- the remedies several claims train (G7, G8, G9, X1 and the remedies table R share them) ------------

SGD_LR = 0.3
"""Plain SGD's learning rate on the default world (X1, R): measured at the quick scale it fits the
training set (train accuracy 1.00 on 16 of 16 seeds), where lr 0.1 left train loss 0.012."""

EXIT_MODEL = EarlyExitConfig()
"""The early-exit MLP G9 and R charge for depth (H4 read its exit depth until it moved to a fixed-depth family)."""

SPEED = 0.1 * math.log(2) / (EXIT_MODEL.depth - 1)
"""The speed penalty's λ by rule, not tuned: skipping all L − 1 optional layers is worth 10% of the
loss at chance (≈ 0.035) — too small to matter before the data are fit, decisive among solutions
that fit them."""

SWITCH_B = HierarchyConfig(target=(0, 1, 2, 3, 8), proxies=(Proxy((5,), 0.9),),
                           staircase=(StaircaseStep((0, 1, 2, 3), 0.5),))
"""G7's objective B, χ_{0,1,2,3,8} with its own proxy a_5 at ρ = 0.9: the default target's abstraction
times one raw latent. Its world tracks χ_{0123} as ``step1`` (ρ = 0.5 there imposes nothing on the
data). R's objective switch pretrains on it."""

PRAGMASCOPE_LAMBDA = 1.0
"""The pragmascope regularizer's λ by rule: the penalty is the share of a layer's variation that is
not the latents' (0..~2), so λ = 1 prices a layer made of noise like an unlearned task (log 2)."""

COMMAND_POOL = 8
"""Effects and commands name sets of latents 0..7 (``setups.COMMAND_POOL``)."""


def l1_strength(model: MLPConfig, input_dim: int) -> float:
    """λ such that λ·E[Σ|W|] at nn.Linear's initialization is 5% of log 2 (E|W| = b/2 for U(−b, b),
    b = 1/√fan_in)."""
    dims = [input_dim] + [model.width] * model.depth + [1]
    expected = sum(a * b * 0.5 / math.sqrt(a) for a, b in zip(dims[:-1], dims[1:]))
    return 0.05 * math.log(2) / expected


def effects(exclude: tuple[tuple[int, ...], ...] = (), target: tuple[int, ...] | None = None) -> tuple[tuple[int, ...], ...]:
    """The consequences a clean world model predicts: every level-2 monomial of latents 0..7, but
    those in ``exclude`` (sets whose parity must not be handed to the model by pretraining) and, given
    a ``target``, every pair holding the target's last latent. Why that latent: a product of parities
    is the parity of the sets' symmetric difference, so χ_{02}·χ_{12} = χ_{01}, and more generally any
    even set is a product of pairs (χ_{04}·χ_{14}·χ_{23} = χ_{0123}); leaving out one pair per product
    never ends. With no effect holding that latent no product of effects, of any number, holds it, so
    the target is out of their span (``in_span``) while every other latent still takes part."""
    drop = {tuple(sorted(S)) for S in exclude}
    last = max(target) if target else None
    return tuple(S for S in itertools.combinations(range(COMMAND_POOL), 2) if S not in drop and last not in S)


def in_span(sets, target) -> bool:
    """Whether χ_target is a product of some of the parities χ_S, S in ``sets`` (Gaussian elimination
    over GF(2) on the sets' indicator bits): whether pretraining on ``sets`` hands the model the target."""
    basis: dict[int, int] = {}  # leading bit -> row
    for S in sets:
        v = sum(1 << i for i in S)
        while v:
            top = v.bit_length() - 1
            if top not in basis:
                basis[top] = v
                break
            v ^= basis[top]
    v = sum(1 << i for i in target)
    while v:
        top = v.bit_length() - 1
        if top not in basis:
            return False
        v ^= basis[top]
    return True


def genie_pipeline(ctx, objective_world: HierarchyConfig, steps: int, features: str = "natural",
                   lam: float = PRAGMASCOPE_LAMBDA, n_evals: int = 12,
                   exclude: tuple[tuple[int, ...], ...] = ()) -> list[Stage]:
    """The clean-genie pipeline's two stages (G8, R): predicting the world's ``effects(exclude, target)``
    (nothing in them, alone or multiplied together, gives the objective's target) under
    the pragmascope regularizer (λ = ``lam``; none at 0), then ``objective_world``'s objective with the
    regularizer relaxed plus L1 by ``l1_strength``'s rule. ``ctx`` is the claim's Context."""
    effect_world = replace(objective_world, objective="effects", effects=effects(exclude, objective_world.target))
    reg = dict(pragmascope=lam, pragmascope_features=features) if lam > 0 else {}
    l1 = l1_strength(MLPConfig(), objective_world.input_dim)
    return [ctx.stage(effect_world, steps, n_evals=n_evals, name="effects (world model)", **reg),
            ctx.stage(objective_world, steps, n_evals=n_evals, name="objective",
                      **(dict(reg, pragmascope_schedule="relaxed") if reg else {}), l1=l1)]


def paired(a: RunResult, b: RunResult) -> tuple[RunResult, RunResult]:
    """``a`` and ``b`` restricted to the members both hold, row for row, for a per-member comparison of
    two conditions built with the same seeds (same worlds, inits and data orders): a member left out
    of either run (a diverged seed) is left out of both. Refuses runs whose members were not drawn alike."""
    sa, sb = a.spec, b.spec
    if (sa.init_seeds, sa.data_seeds, sa.member_worlds) != (sb.init_seeds, sb.data_seeds, sb.member_worlds):
        raise ValueError(f"runs {a.run_id} and {b.run_id} do not share their members' seeds: not paired")
    return paired_members(a, b)  # the same members: matched row for row, a diverged one leaves both


def crossing(steps: np.ndarray, values: np.ndarray, threshold: float) -> np.ndarray:
    """Per member: the step at which ``values`` (N, T) first reaches ``threshold``, interpolated
    linearly between the evaluations either side of the crossing; the first evaluation's step if it
    is already there, inf if never. Read off the evaluation grid alone (``instruments.onset``) the
    members of an ensemble can all tie at one grid step (a decisive proxy is fitted within one
    evaluation's gap), and an interval over identical values bounds nothing (``greedlab.stats`` refuses it); between
    evaluations the members differ as their curves do."""
    steps = np.asarray(steps, dtype=float)
    hit = values >= threshold
    k = hit.argmax(axis=1)
    prev = np.maximum(k - 1, 0)
    rows = np.arange(len(values))
    v0, v1 = values[rows, prev], values[rows, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(v1 > v0, (threshold - v0) / (v1 - v0), 1.0)
    out = steps[prev] + np.clip(frac, 0.0, 1.0) * (steps[k] - steps[prev])
    return np.where(hit.any(axis=1), np.where(k == 0, steps[0], out), np.inf)


def first_half(spec):
    """``spec`` with only the first half of its members (their inits, data orders and worlds): a
    control arm at half the cost, still two or more members per world, whose members are the main
    arm's first half — paired with them by ``paired_members``."""
    n = max(spec.n_models // 2, 1)
    return replace(spec, init_seeds=spec.init_seeds[:n], data_seeds=spec.data_seeds[:n],
                   world_seeds=spec.world_seeds[:n])


def paired_members(a: RunResult, b: RunResult) -> tuple[RunResult, RunResult]:
    """``a`` and ``b`` restricted to the members they share — the same init, data-order and world
    seeds — row for row in ``a``'s order: the runs of two conditions built with the same seeds, or a
    ``first_half`` arm and its full one. A member either run left out (diverged) leaves both, and if
    that leaves none, both come back empty (the statistics then give no interval, and say why) rather
    than failing the claim. Refuses runs *built* with no member in common: pairing them is a mistake."""
    def members(r: RunResult, every: bool = False) -> list[tuple[int, int, int]]:
        s = r.spec
        kept = np.arange(s.n_models) if every or r.kept is None else r.kept
        return [(s.init_seeds[i], s.data_seeds[i], s.member_worlds[i]) for i in kept]

    if not set(members(a, every=True)) & set(members(b, every=True)):
        raise ValueError(f"runs {a.run_id} and {b.run_id} share no member: not paired")
    ma, mb = members(a), members(b)
    where_b = {m: i for i, m in enumerate(mb)}
    ia = [i for i, m in enumerate(ma) if m in where_b]
    ib = [where_b[ma[i]] for i in ia]

    def rows(r: RunResult, idx: list[int]) -> RunResult:
        kept = r.kept if r.kept is not None else np.arange(r.spec.n_models)
        return RunResult(r.run_id, r.spec, r.steps, {k: v[idx] for k, v in r.values.items()}, kept[idx])

    return rows(a, ia), rows(b, ib)


# -- the training-set size axis (G3's memorization axis; H1 and G4 read the same regimes) ---------------

DEFAULT_TRAIN = 8192
"""The default world's training set (``HierarchyConfig.n_train``): its regime is the plain run at ρ."""
ONLINE = 0
"""The training-set axis's online regime: fresh examples every step, none seen twice, nothing memorizable."""
TRAIN_SIZES = (2048, DEFAULT_TRAIN, 32768, ONLINE)
"""The axis: a quarter of the default set (more to memorize per example), the default, four times it,
and online. At ρ = 0.97 the default set holds about 250 proxy exceptions; 2,048 about 60."""


def train_set_name(n_train: int) -> str:
    """How a regime of the training-set axis reads in a row label."""
    return "online (fresh examples every step)" if n_train == ONLINE else f"n_train={n_train}"


def train_set_world(rho: float, n_train: int) -> HierarchyConfig:
    """The default world at ρ with a training set of ``n_train`` examples, or online (``ONLINE``)."""
    w = world(rho)
    return replace(w, online=True) if n_train == ONLINE else replace(w, n_train=n_train)


def memorization_reading(online: str, fixed: list[str], without: str, only_memorizing: str, neither: str,
                         undecided: str = "undecided") -> str:
    """What a claim's verdicts per training set say together (G3: starvation, G4: dispersion): the
    online regime decides whether the effect holds with nothing to memorize (``without``); where it is
    refuted online, the fixed sets decide whether it holds only where memorizing is possible."""
    from greedlab.claims.common import REFUTED, SUPPORTED

    if online == SUPPORTED:
        return without
    if online == REFUTED:
        if SUPPORTED in fixed:
            return only_memorizing
        if all(v == REFUTED for v in fixed):
            return neither
    return undecided


def exception_row(cond: str, r: RunResult, n_train: int, clusters, ids: list[str]):
    """The measurement row of a run's final accuracy on its proxy's exceptions: memorization in a fixed
    training set; online, exceptions the stream never drew (the target generalized)."""
    from greedlab.claims.common import ACCURACY, Row, bootstrap_ci

    where = ("training-split exceptions the stream never drew (online: the target generalized)"
             if n_train == ONLINE else "the training set's proxy exceptions (memorization)")
    return Row.of(cond, f"final accuracy on {where}; final train acc {float(r.final('train_acc').mean()):.3f}",
                  bootstrap_ci(r.final("exception_acc", "proxy0"), np.mean, clusters=clusters, support=ACCURACY),
                  "measurement", ids, kind="measurement")
