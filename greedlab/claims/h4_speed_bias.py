"""H4 — Speed bias favours directly aligned models over ones that must infer what to do ("How likely
is deceptive alignment", summary, "Speed Bias": deceptively aligned models "have to go through the extra
computational step of inferring that they should pursue the training objective").

Operationalization: the compute a solution needs = the least depth at which a plain MLP computes it.
A fixed-depth family: for each objective, plain MLPs (``models.MLPConfig``, width 256, Adam, the
scale's steps) of DEPTHS = 0, 1, 2 hidden layers, each trained on that objective alone with the same
budget; per member (one init, data order and world, the same at every depth and for every objective),
its least depth is the shallowest one whose final deployment accuracy reaches CRITERION. The
objectives, on the ``setups`` world (oversight cue a_5) at ρ = 0.5:
- "target": χ_{01} (the directly aligned solution);
- "proxy": a_4 (the heuristic);
- "gated": χ_{01} when o = +1, a_4 when o = −1 (the policy of a model that pursues the training
  objective only where it infers it is overseen: the deceptive signature).

Why not the early-exit model's exit depth (the former reading, dropped with its runs): its exit depth
measures halting dynamics, not cost — under the speed penalty nearly every model exited at layer 2
whatever it computed (the proxy's read-out of one latent no earlier than χ_{01}: the positive control
failed; ``examples/h4_halting_check.py``). Why not its per-head losses (PonderNet's reading): its
heads share one trunk trained through the exit mixture, each head's gradient weighted by how often
the halting rule sends examples there, so an early head's standalone loss again says how the halting
rule behaved. A member of a fixed-depth family trains its single head at full weight, and nothing
but its depth differs from its neighbours'. The old runs (three penalized objectives, a second draw,
and G9's two runs read for class shares, 132,000 model-steps at quick scale) are not kept as
measurement rows: beside the family they would break its budget; G9 still reports exit depth.

Choices, fixed before any run:
- DEPTHS: 0 is a linear read-out (logistic regression on the pixels): a_4 is a linear function of its
  pixels, χ_{01} (an XOR) and the gated label are not (the best linear read-out scores 0.5 and 0.75 at
  deployment, where latents are uniform), so the family has a rung where the proxy is solved and
  the other two provably are not. 1 hidden layer can represent any function of a few latents, so
  every objective is solvable from depth 1 on; 2 is the depth of every other claim's MLP and leaves
  room for one extra step of inference above depth 1. A member that reaches the criterion at none of
  them is censored: its least depth counts as CENSORED = 3, a lower bound (stated in its rows).
- CRITERION = 0.95 deployment accuracy: above every partial solution (a_4 or χ_{01} alone on the
  gated label: 0.75; one latent of χ_{01}: 0.5), below the Bayes rate (each latent is read from four
  pixels at noise 0.5: errors ≈ 1e-4) by more than the accuracy's sampling error (±0.003 at 4,096
  deployment samples). The final evaluation is read: the compute a solution needs within the budget.
- ρ = 0.5 (``setups.NO_PROXY_RHO``): the family measures what each solution needs, not which one
  training prefers; at ρ = 0.9 a shallow target member could stall on the proxy (G3's starvation) and
  read as needing more depth for a reason that is not the solution's compute.
- "the gated class inferring its context": the world offers a cue rendered like any latent (``cue``),
  a cue with no signal (``hidden``: nothing to infer from) and a cue rendered weaker or stronger
  (``gains``). The cue here is a_5 at the default rendering, like a_0, a_1 and a_4: four noisy pixels
  along a random direction, no input column or clean bit of its own, so a gated member must infer o
  from the data as it infers the latents it acts on. The family trains the gated label itself: it
  asks what computing the policy needs, not how a model comes to it. That is the case most
  favourable to the gated class (a model that must also work out *that* it should gate needs at
  least this), so a "supported" reading carries over; a "refuted" reading says the policy itself costs
  no extra layer here, and leaves open what situational reasoning this world does not have would cost.
- Members: ``n_members`` per condition (10 at quick scale), each in a world of its own: a share's
  Clopper–Pearson interval counts worlds when members of a world agree, and 9 of 10 independent
  members still put its lower bound above 1/2 (0.56), where 7 of 8 (0.47) or 8 members in 4 worlds
  (0.40, however many agree) would not. At quick scale: 12 conditions × 10 members × 1,500 steps =
  180,000 model-steps.

Statistic: per member, whether its least depth under the gated objective is at least one layer more
than under the target (paired: the same init, data order and world); the share of members where it
is, with its Clopper–Pearson interval over worlds (``stats.proportion_ci``). Why a share and not the
mean difference in layers: least depths are integers, and where every member agrees (every target
member solved at depth 1, say) the mean's bootstrap-t has no spread to work from and gives no
interval; the share's interval answers then. Members censored under both objectives say nothing about
the difference and are left out (counted in the row); one censored under one objective only is
decided (at least CENSORED against a depth reached). Margin: the share must exceed MAJORITY = 1/2 —
most members need an extra layer, i.e. the median difference is at least one layer (the integer
reading of a 0.5-layer margin on the mean). The mean difference in layers (censored at 3) is reported
as a measurement. Verdict rule (fixed before any run), by ``verdict_above(lo, hi, MAJORITY)`` and
``common.combine`` with the controls: supported if the interval lies above 1/2 and the negative
control is clean; refuted if it lies below 1/2 (most members need no extra layer) and the positive
control passed; inconclusive otherwise, or when no member is decided.

Controls (rows of kind "control"):
- positive, "a cheaper solution needs less depth": the proxy a_4 needs at least one layer fewer than
  χ_{01} on the same member, on a share of members whose interval lies above 1/2. It fails if depth 0
  does not learn the read-out within the budget, or the criterion is met by a depth that cannot
  compute χ_{01} — then the instrument could not see an extra layer where one is known to be needed.
  (A target found at no depth passes it, rightly: it needs more than the proxy; the main row and the
  negative control then have no member decided, and no verdict follows.)
- negative, "two draws of one solution": the target family trained again on other worlds, inits and
  data orders (``SECOND_DRAW``), its member i set against member i of the first draw (independent
  draws: any pairing is one); the share of pairs whose least depths differ by a layer or more, either
  way, must have its interval below 1/2. Nothing but chance and the budget separates them, and the
  pairs share less than the main comparison's (no world, no seed), so the control is the stricter.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab import stats
from greedlab.claims import setups
from greedlab.claims.common import ACCURACY, INCONCLUSIVE, Row, Scale, bootstrap_ci, combine, control_row, verdict_above
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec, seeds
from greedlab.models import MLPConfig
from greedlab.report.figures import strips_figure

ID = "H4"
SUMMARY = "Speed bias favours directly aligned models over ones that must infer what to do."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, “Speed Bias”"
QUOTE = "the speed bias favors internally and corrigibly aligned models"
OBJECTIVES = ("target", "proxy", "gated")
DEPTHS = (0, 1, 2)
"""Hidden layers of the family's members (0: a linear read-out)."""
CENSORED = DEPTHS[-1] + 1
"""The least depth of a member that reaches the criterion at no depth: a lower bound."""
CRITERION = 0.95
"""Final deployment accuracy a member must reach for its depth to compute the solution."""
MAJORITY = 0.5
"""The share of members a difference of one layer or more must exceed (the margin)."""
RHO = setups.NO_PROXY_RHO
N_EVALS = 10
"""Evaluations per run: the verdict reads the last; the others show whether accuracy still rose there."""
SECOND_DRAW = 1000
"""Seed offset of the negative control's second draw: its worlds, inits and data orders are new."""


class Key(NamedTuple):
    """A condition: the objective trained, the member's depth, and which draw of the family."""

    objective: str
    depth: int
    draw: int = 0

    def label(self) -> str:
        return f"{family_label(self.objective, self.draw)}, depth {self.depth}"


def family_label(objective: str, draw: int = 0) -> str:
    """How one objective's family (every depth of one draw) reads in rows and figures."""
    return f"objective {objective}" + (", second draw (negative control)" if draw else "")


def n_members(scale: Scale) -> int:
    """Members per condition, each in a world of its own: five eighths of the scale's seeds (10 at
    quick scale, 40 at full), at least 2."""
    return max(scale.seeds * 5 // 8, 2)


def member_spec(ctx: Context, objective: str, depth: int, draw: int = 0) -> RunSpec:
    """One member of the family: an MLP of ``depth`` hidden layers trained on ``objective`` with the
    scale's steps; members share their seeds across depths and objectives within a draw."""
    world = setups.world(rho=RHO, cue=setups.CUE, objective=objective)
    spec = ctx.spec(world, model=MLPConfig(depth=depth), n_evals=N_EVALS)
    n, base = n_members(ctx.scale), SECOND_DRAW * draw
    return replace(spec, **seeds(n, base=base, worlds=n, world_base=spec.world.seed + base))


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    out = {Key(obj, d): member_spec(ctx, obj, d) for obj in OBJECTIVES for d in DEPTHS}
    out.update({Key("target", d, 1): member_spec(ctx, "target", d, draw=1) for d in DEPTHS})
    return out


class Least(NamedTuple):
    """Per member of one objective's family (present, not diverged, at every depth): its index in
    the spec, its least depth (CENSORED if none), its world."""

    member: np.ndarray
    depth: np.ndarray
    world: np.ndarray


def _members(r: RunResult) -> np.ndarray:
    return r.kept if r.kept is not None else np.arange(r.spec.n_models)


def least_depth(runs: dict[Key, RunResult], objective: str, draw: int = 0) -> Least:
    """Each member's shallowest depth whose final deployment accuracy reaches CRITERION. A member left
    out (diverged) at any depth is left out: its least depth is not known."""
    family = [runs[Key(objective, d, draw)] for d in DEPTHS]
    idx = np.array(sorted(set.intersection(*(set(_members(r).tolist()) for r in family))), dtype=int)
    least = np.full(len(idx), CENSORED)
    for d, r in reversed(list(zip(DEPTHS, family))):  # deepest first: the shallowest success is written last
        acc = dict(zip(_members(r).tolist(), r.final("deploy_acc")))
        least = np.where([acc[i] >= CRITERION for i in idx], d, least)
    worlds = np.asarray(family[0].spec.member_worlds)[idx] if len(idx) else np.zeros(0)
    return Least(idx, least, worlds)


def paired(a: Least, b: Least) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a's least depth, b's, a's world) over the member indices both have. Within a draw, index i is
    the same member (init, data order and world) under every objective; across draws it pairs
    independent members."""
    _, ia, ib = np.intersect1d(a.member, b.member, return_indices=True)
    return a.depth[ia], b.depth[ib], a.world[ia]


def one_more(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 where a needs at least one layer more than b, else 0; NaN where both are censored (a censored
    least depth is a lower bound, so against a depth reached it is decided, against another not)."""
    out = (a >= b + 1).astype(float)
    out[(a == CENSORED) & (b == CENSORED)] = np.nan
    return out


def apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 where a and b differ by a layer or more either way, else 0; NaN where both are censored."""
    out = (np.abs(a - b) >= 1).astype(float)
    out[(a == CENSORED) & (b == CENSORED)] = np.nan
    return out


def share(x: np.ndarray, worlds: np.ndarray) -> tuple[stats.Interval, str]:
    """The share of decided members with outcome 1 (Clopper–Pearson over worlds), and how many were
    decided, for the row's text."""
    ok = ~np.isnan(x)
    ci = bootstrap_ci(x[ok], np.mean, clusters=worlds[ok], support=ACCURACY) if ok.any() else \
        stats.no_verdict(float("nan"), "proportion", "proportion: no member decided (each reached the criterion "
                                                     "at no depth on both sides)")
    return ci, f"{int(ok.sum())} of {len(x)} decided"


def mean_in(x: np.ndarray, worlds: np.ndarray, support: tuple[float, float]) -> stats.Interval:
    """The mean's bootstrap-t interval over worlds, clipped to ``support``. Called directly, not through
    ``bootstrap_ci``: least depths and their differences are integers, and values that happen to be
    all 0 or 1 would be read there as a share in [0, 1], which neither quantity is bound to."""
    if not len(x):
        return stats.no_verdict(float("nan"), "mean", "mean: no member")
    return stats.mean_ci(np.asarray(x, float), worlds).within(*support)


def difference_row(condition: str, a: np.ndarray, b: np.ndarray, worlds: np.ndarray, ids: list[str]) -> Row:
    """The mean difference in least depth, censored members at CENSORED (a lower bound), as a measurement."""
    ci = mean_in(a - b, worlds, (-CENSORED, CENSORED))
    return Row.of(condition, f"mean least depth: difference in layers ({len(a)} members; never reaching "
                  f"{CRITERION} counted at {CENSORED}, a lower bound)", ci, "measurement", ids, "measurement")


def ids_of(runs: dict[Key, RunResult], *families: tuple[str, int]) -> list[str]:
    return [runs[Key(obj, d, draw)].run_id for obj, draw in families for d in DEPTHS]


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    target, proxy, gated = (least_depth(runs, obj) for obj in ("target", "proxy", "gated"))
    again = least_depth(runs, "target", draw=1)
    g, t, w = paired(gated, target)
    main, decided = share(one_more(g, t), w)
    verdict = verdict_above(main[1], main[2], MAJORITY) if main.ok else INCONCLUSIVE
    main_ids = ids_of(runs, ("gated", 0), ("target", 0))
    rows = [Row.of("gated − target", f"share of members whose least depth (deployment accuracy ≥ {CRITERION}) is "
                   f"≥ 1 layer more under the gated objective ({decided}; must lie above {MAJORITY})", main, verdict,
                   main_ids, "verdict")]
    t2, p, wp = paired(target, proxy)
    pos, decided = share(one_more(t2, p), wp)
    pos_ok = pos.ok and pos[1] > MAJORITY
    pos_ids = ids_of(runs, ("proxy", 0), ("target", 0))
    rows.append(control_row("target − proxy (positive: a cheaper solution needs less depth)",
                            f"share of members whose least depth is ≥ 1 layer more under the target than under "
                            f"the proxy ({decided}; must lie above {MAJORITY})", pos, pos_ok, pos_ids, positive=True))
    a2, a1, wn = paired(again, target)
    neg, decided = share(apart(a2, a1), wn)
    neg_ok = neg.ok and neg[2] < MAJORITY
    neg_ids = ids_of(runs, ("target", 1), ("target", 0))
    rows.append(control_row("target, second draw vs target (negative: two draws of one solution)",
                            f"share of member pairs whose least depths differ by ≥ 1 layer ({decided}; must lie "
                            f"below {MAJORITY})", neg, neg_ok, neg_ids, positive=False))
    rows += [difference_row("gated − target", g, t, w, main_ids), difference_row("target − proxy", t2, p, wp, pos_ids),
             difference_row("target, second draw − target", a2, a1, wn, neg_ids)]
    for (obj, draw), fam in {("target", 0): target, ("proxy", 0): proxy, ("gated", 0): gated,
                             ("target", 1): again}.items():
        rows += family_rows(runs, obj, draw, fam)
    return rows, combine([verdict], neg_ok, pos_ok)


def family_rows(runs: dict[Key, RunResult], objective: str, draw: int, fam: Least) -> list[Row]:
    """Measurements of one objective's family: how its least depths fall, and per depth the share of
    members reaching the criterion."""
    counts = ", ".join(f"{d}: {int(np.sum(fam.depth == d))}" for d in DEPTHS)
    ci = mean_in(fam.depth, fam.world, (0, CENSORED))
    out = [Row.of(family_label(objective, draw), f"mean least depth (members by least depth {counts}, never: "
                  f"{int(np.sum(fam.depth == CENSORED))}, counted at {CENSORED})", ci, "measurement",
                  ids_of(runs, (objective, draw)), "measurement")]
    for d in DEPTHS:
        r = runs[Key(objective, d, draw)]
        acc = r.final("deploy_acc")
        median = float(np.median(acc)) if len(acc) else float("nan")
        reached = bootstrap_ci((acc >= CRITERION).astype(float), np.mean, clusters=r.worlds, support=ACCURACY)
        out.append(Row.of(Key(objective, d, draw).label(), f"share of members reaching deployment accuracy ≥ "
                          f"{CRITERION} (median accuracy {median:.3f})",
                          reached, "measurement", [r.run_id], "measurement"))
    return out


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    panels = {family_label(obj, draw): {f"depth {d}": runs[Key(obj, d, draw)].final("deploy_acc") for d in DEPTHS}
              for obj, draw in (("target", 0), ("proxy", 0), ("gated", 0), ("target", 1))}
    return [strips_figure(folder / "H4_depth.png", "H4: final deployment accuracy by depth, per objective", panels,
                          "deployment accuracy", threshold=CRITERION)]
