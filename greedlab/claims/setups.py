"""Shared set-ups of the model-class claims (G5, G6, G10, H2, H7): the world, the commands and the
architectures they compare.

The target here is χ_{01}, level 2, not the default level 4: measured on 2 cores, the tiny
transformer does not learn a level-4 parity within 3,000 steps (target reliance 0.00 while it sits on
the proxy at 0.79), but learns χ_{01} in about 250 (reliance 0.98), as the MLP does. These claims are
about what happens *after* a model can represent the target, so every architecture must be able to.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import numpy as np

from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.models import MLPConfig, MoEConfig, Model, TransformerConfig
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


def attribution_specs(ctx: Context) -> dict[str, RunSpec]:
    """G6 and H2 share these runs: the base world at ρ = 0.9 with per-group loss-decrease attribution."""
    archs = architectures(ctx)
    out = {}
    for a in ATTRIBUTION_ARCHS:
        model, n = archs[a]
        stage = ctx.stage(world(rho=0.9), ctx.scale.steps, n_evals=30, name="base objective")
        out[a] = ctx.curriculum([stage], model=model, n_seeds=n, attribute=True)
    return out


def windows(r, lo, hi):
    """Per seed: total first-order loss decrease of each group over training steps (lo, hi] (arrays
    of step bounds per seed), from the per-window mean rates the store keeps."""
    steps = r.steps
    widths = np.diff(steps, prepend=0)  # evaluation k covers (steps[k-1], steps[k]]
    totals = {}
    for g in ("head", "trunk"):
        rate = np.nan_to_num(r.curve("loss_decrease", g))  # NaN at step 0: no window yet
        inside = (steps[None, :] > np.asarray(lo)[:, None]) & (steps[None, :] <= np.asarray(hi)[:, None])
        totals[g] = (rate * widths[None, :] * inside).sum(axis=1)
    return totals


def final_classes(r: RunResult) -> np.ndarray:
    """Each seed's model class at the end of a run (``instruments.model_class`` rules and thresholds)."""
    from greedlab.instruments.model_class import classify

    return classify({k: v[:, -1] for k, v in r.values.items()})
