"""Shared set-ups of the model-class claims (G5, G6, G10, H2, H7): the world, the commands and the
architectures they compare; and the attribution runs G6 and H2 share, with their controls and the
readings both take of them (windows, the noise floor).

The target here is χ_{01}, level 2, not the default level 4: measured on 2 cores, the tiny
transformer does not learn a level-4 parity within 3,000 steps (target reliance 0.00 while it sits on
the proxy at 0.79), but learns χ_{01} in about 250 (reliance 0.98), as the MLP does. These claims are
about what happens *after* a model can represent the target, so every architecture must be able to.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from greedlab.claims.common import Row
from greedlab.claims.context import Context
from greedlab.claims.presets import first_half
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import RELIANCE_ONSET, onset
from greedlab.models import MLPConfig, Model, MoEConfig, TransformerConfig
from greedlab.worlds import HierarchyConfig, Proxy

TARGET = (0, 1)
PROXY = (4,)
CUE = 5
COMMAND_POOL = 8  # commands name sets of latents 0..7 (target, proxy and cue latents among them)
COMMAND_SIZES = (1, 2)
N_HELDOUT = 8


def commands() -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    """(training, held-out) commands: every set of 1–2 latents of the pool, 8 held out at random
    (fixed seed). The target's set (0, 1) is always a training command."""
    sets = [S for k in COMMAND_SIZES for S in itertools.combinations(range(COMMAND_POOL), k)]
    rng = random.Random(0)
    rng.shuffle(sets)
    held = [S for S in sets if S != TARGET][:N_HELDOUT]
    train = sorted((S for S in sets if S not in held), key=lambda S: (len(S), S))
    return tuple(train), tuple(sorted(held, key=lambda S: (len(S), S)))


def world(rho: float = 0.9, **kw) -> HierarchyConfig:
    """The base world: target χ_{01}, proxy a_4 at ρ in training."""
    return replace(HierarchyConfig(), target=TARGET, proxies=(Proxy(PROXY, rho),), **kw)


def architectures(ctx: Context) -> dict[str, tuple[Model, int]]:
    """Architecture name → (model, seeds). The transformer costs ~5× an MLP step on CPU, so it runs
    half the seeds (at least 2)."""
    n = ctx.scale.seeds
    return {"mlp": (MLPConfig(), n), "moe": (MoEConfig(), n),
            "transformer": (TransformerConfig(), max(n // 2, 2))}


ATTRIBUTION_ARCHS = ("mlp", "transformer")
ATTRIBUTION_RHO = 0.9
NO_PROXY_RHO = 0.5
"""The attribution runs' negative control: a_4 independent of the label, so there is no proxy to fit."""
HEAD_TRAINED_FOR = 25
"""The positive control trains the head for the first steps/25 and freezes it after, so the objective's
returns stop by hand: 60 of 1,500 steps at quick scale, after the proxy fits (measured there: step 19
for the MLP, 30–49 for the transformer) and before the target does (80; 131–300)."""
MAIN, NO_PROXY, HEAD_FROZEN = "rho 0.9", "control: rho 0.5, no proxy", "control: head frozen early"
ATTRIBUTION_ARMS = (MAIN, NO_PROXY, HEAD_FROZEN)


class Attribution(NamedTuple):
    """A G6/H2 condition: architecture and arm (one of ATTRIBUTION_ARMS)."""

    arch: str
    arm: str

    def label(self) -> str:
        return f"{self.arch}: {self.arm}"


def control_arm(spec: RunSpec) -> RunSpec:
    """A control arm paired with a main arm: the main arm's first half of members (``presets.first_half``)
    where that still leaves 8 (4 worlds of 2), else all of them; ``presets.paired_members`` pairs it."""
    return first_half(spec) if spec.n_models // 2 >= 8 else spec


def control_seeds(n: int) -> int:
    """Seeds of a control arm read against a margin, not paired with a main arm: half the main arm's,
    but at least 8 (4 worlds of 2 seeds: the fewest at which a mean's interval answers, see
    ``greedlab.stats.MIN_CLUSTERS``)."""
    return max(n // 2, min(n, 8))


def attribution_conditions(ctx: Context) -> dict[Attribution, RunSpec]:
    """G6 and H2 share these runs (same specs, same ids, trained once): per architecture the base world
    at ρ = 0.9 with per-group loss-decrease attribution, and two controls — ρ = 0.5 (no proxy to fit),
    and the head frozen after steps/HEAD_TRAINED_FOR (the objective's returns stopped by hand).

    Cost: the attribution's independent batch is one more forward and backward pass per training step
    (``train.Attribution``), on these runs only; no arm is added (quick scale: 48,000 MLP and 36,000
    transformer model-steps, as before). Measured on 2 busy cores, 100 steps: a step of 16 MLPs took
    115 ms against 74–91 ms without it, a step of 8 transformers 682 ms against 356–376 ms."""
    archs = architectures(ctx)
    steps = ctx.scale.steps
    out = {}
    for a in ATTRIBUTION_ARCHS:
        model, n = archs[a]
        main = ctx.stage(world(rho=ATTRIBUTION_RHO), steps, n_evals=30, name="base objective")
        out[Attribution(a, MAIN)] = ctx.curriculum([main], model=model, n_seeds=n, attribute=True)
        flat = ctx.stage(world(rho=NO_PROXY_RHO), steps, n_evals=30, name="base objective, no proxy")
        out[Attribution(a, NO_PROXY)] = ctx.curriculum([flat], model=model, n_seeds=control_seeds(n), attribute=True)
        early = max(steps // HEAD_TRAINED_FOR, 1)
        frozen = [ctx.stage(world(rho=ATTRIBUTION_RHO), early, n_evals=10, name="base objective"),
                  ctx.stage(world(rho=ATTRIBUTION_RHO), max(steps - early, 1), trainable="trunk", n_evals=24,
                            name="base objective, head frozen")]
        out[Attribution(a, HEAD_FROZEN)] = ctx.curriculum(frozen, model=model, n_seeds=control_seeds(n),
                                                          attribute=True)
    return out


def proxy_fit(r: RunResult) -> np.ndarray:
    """Per seed: the step at which proxy reliance first reaches RELIANCE_ONSET (inf if never)."""
    return onset(r.steps, r.curve("reliance", "proxy0"), RELIANCE_ONSET)


def windows(r, lo, hi, instrument: str = "loss_decrease", groups=("head", "trunk")):
    """Per seed: total first-order loss decrease of each group over training steps (lo, hi] (arrays
    of step bounds per seed), from the per-window mean rates the store keeps (or the sum over those
    steps of another per-step ``instrument`` the attribution keeps, ``train.Attribution``)."""
    steps = r.steps
    widths = np.diff(steps, prepend=0)  # evaluation k covers (steps[k-1], steps[k]]
    totals = {}
    for g in groups:
        rate = np.nan_to_num(r.curve(instrument, g))  # NaN at step 0: no window yet
        inside = (steps[None, :] > np.asarray(lo)[:, None]) & (steps[None, :] <= np.asarray(hi)[:, None])
        totals[g] = (rate * widths[None, :] * inside).sum(axis=1)
    return totals


def noise_floor(r: RunResult, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Per seed (signal, floor) of a window: the estimated first-order loss decrease over its steps
    (head + trunk), and FLOOR_Z standard errors of that estimate's own noise.

    The estimate takes each step's ∇L from an independent batch, so it is unbiased, but noisy; the
    attribution keeps each step's noise variance (successive differences, ``train.Attribution``), and
    a window's is their sum over its steps. A window whose mean signal is not above its mean floor
    (``above_floor``) is split between the groups by noise: it gives no verdict."""
    att = windows(r, lo, hi)
    var = windows(r, lo, hi, "loss_decrease_var", ("total",))["total"]
    return att["head"] + att["trunk"], FLOOR_Z * np.sqrt(np.maximum(var, 0))


def above_floor(windows_: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether every window's mean signal is above its mean floor (no windows: no). The mean of the
    seeds' floors, not the floor of their mean (√seeds lower): G6 reads a share per seed, so each
    seed's window must be readable, and H2 is held to the same, stricter, rule."""
    return bool(windows_) and all(float(np.mean(s)) > float(np.mean(f)) for s, f in windows_)


def floor_note(floors) -> str:
    """What a row adds when a window of its statistic is not above its noise floor (G6 and H2)."""
    return "" if above_floor(floors) else "; a window is not above its noise floor: no verdict"


def final_classes(r: RunResult) -> np.ndarray:
    """Each seed's model class at the end of a run (``instruments.model_class`` rules and thresholds)."""
    from greedlab.instruments.model_class import classify

    return classify({k: v[:, -1] for k, v in r.values.items()})


FLOOR_Z = 2.0
"""A window's noise floor in standard errors of its estimated loss decrease (``noise_floor``), fixed
before any run measured with it: a seed's window with no decrease at all reads above it about 2.3%
of the time (one-sided, normal noise)."""


def floor_rows(cond: str, names, floors, r: RunResult, bounds, used: np.ndarray) -> list[Row]:
    """G6's and H2's measurement rows of their windows: per window ``names[k]`` its (signal, floor)
    ``floors[k]`` over the seeds ``used``, and, for the record, the step's own batch's reading over
    the same steps (``bounds[k]`` = (lo, hi), per seed of the run): what the estimate would have read
    with the bias the independent batch removes."""
    nan = float("nan")
    out = []
    for name, (sig, fl), (lo, hi) in zip(names, floors, bounds):
        same = windows(r, lo, hi, "loss_decrease_same_batch", ("total",))["total"][used]
        out.append(Row(cond, f"{name} window: estimated loss decrease (independent batch) vs its noise floor "
                       f"{np.mean(fl):.3g} ({FLOOR_Z:g} SE); the step's own batch read {np.mean(same):.3g}",
                       float(np.mean(sig)), nan, nan, "measurement", [r.run_id], kind="measurement"))
    return out


from greedlab.claims.presets import train_set_world  # kept beside its one user, at the end of the module


def memorization_arm(ctx: Context, rho: float, n_train: int) -> RunSpec:
    """An arm of the training-set size axis (``presets.TRAIN_SIZES``) on the default world at ρ: half
    size (``control_arm``: the main run's first half of members) with the starvation measure on. G3
    trains these at ρ ∈ {0.9, 0.97}; H1 and G4 read the same specs (same run ids, trained once). The
    default training set's regime is the plain run ``ctx.spec(presets.world(ρ))``; its arm here (G3's
    ``Measured``, at ρ ∈ {0.5, 0.9, 0.97, 1}) is that run's first half with the measure on, a run of its own."""
    return control_arm(replace(ctx.spec(train_set_world(rho, n_train)), starvation=True))
