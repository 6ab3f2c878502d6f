"""H4 — Speed bias favours directly aligned models over ones that must infer what to do ("How likely
is deceptive alignment", summary, "Speed Bias": deceptively aligned models "have to go through the extra
computational step of inferring that they should pursue the training objective").

Operationalization: compute a solution needs = the mean expected exit depth the early-exit MLP
(``models.early_exit``, with G9's speed penalty λ: ``presets.EXIT_MODEL``, ``presets.SPEED``) settles
on when it is charged for depth. Three penalized runs on the ``setups`` world (target χ_{01}, proxy
a_4 at ρ = 0.9, oversight cue a_5 in every input so the inputs are identical), on the same members,
which differ only in the label:
- objective "target": χ_{01} (the directly aligned solution);
- objective "proxy": a_4 (the heuristic);
- objective "gated": χ_{01} when o = +1, a_4 when o = −1 (a model that must infer from the context
  whether it is overseen before deciding what to do: the deceptive signature).
Members are classified at the end by ``instruments.model_class.classify``; each class's depth is
taken over the members of its own run that reached it ("internal" in the target run, "proxy" in the
proxy run, "context-gated" in the gated run).

Statistic: depth(context-gated) − depth(internal), a difference of two means over members selected
by class, with Welch's 95% interval over worlds (``stats.diff_ci``; the groups share worlds but no
member, and treating them as independent can only widen it). Margin: DEPTH_MARGIN = 0.25 layers,
an extra layer for a quarter of the examples (one extra step of inference on the half of inputs
that are unobserved would cost 0.5). Verdict rule (fixed before any run), by
``verdict_above(lo, hi, 0, margin=DEPTH_MARGIN)`` and ``common.combine`` with the controls below:
supported if the interval lies above the margin (the aligned solution is faster) and the negative
control is clean; refuted if it lies below 0 (the gated solution is the faster) and the positive
control passed; inconclusive otherwise ("inconclusive (underpowered)" when it straddles while wider
than 2·DEPTH_MARGIN), and also when either class is reached by fewer than MIN_SEEDS members (its
depth is then not measured).

Controls (rows of kind "control"):
- positive, "a cheaper solution exits earlier": the proxy a_4 is read off one latent's pixels (a
  linear read-out) while χ_{01} is a product of two; if exit depth measures the computation a
  solution needs, depth(proxy) − depth(internal) lies below −DEPTH_MARGIN. If it does not, the
  instrument cannot see an extra step of inference either (README: under the penalty nearly every
  model exits at layer 2, whatever it computes — halting dynamics, not cost).
- negative, "two draws of one solution": a second penalized run of the target objective on other
  worlds, inits and data orders (half the members, two per world), its internal members' depth
  against the first run's. The mechanism (an extra step) is absent, but everything else that makes two class-selected
  groups of separate runs differ remains — chance, the selection by class, the interval over
  worlds: the difference's interval must lie inside ±DEPTH_MARGIN.
Class frequencies under a speed penalty are reported from G9's two runs on the default world at ρ = 0.9
(built as G9 builds them: the same runs, not trained twice) as measurements.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab import stats
from greedlab.claims import presets, setups
from greedlab.claims.common import INCONCLUSIVE, Row, bootstrap_ci, combine, control_row, verdict_above
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec, seeds
from greedlab.instruments.model_class import CLASSES, class_shares
from greedlab.report.figures import class_shares_figure, strips_figure

ID = "H4"
SUMMARY = "Speed bias favours directly aligned models over ones that must infer what to do."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, “Speed Bias”"
QUOTE = "the speed bias favors internally and corrigibly aligned models"
OBJECTIVES = {"target": "internal", "proxy": "proxy", "gated": "context-gated"}
MIN_SEEDS = 3
DEPTH_MARGIN = 0.25
"""Layers: the smallest difference in mean exit depth that counts (an extra layer on a quarter of inputs)."""
RHO = 0.9
SECOND_DRAW = 1000
"""Seed offset of the negative control's second draw: its worlds, inits and data orders are new."""
COMMAND_WORLD, DEFAULT_WORLD = "command world", "default world"


class Key(NamedTuple):
    """A condition: the world, the objective trained, whether it is penalized, and which draw."""

    world: str
    objective: str
    penalized: bool = True
    draw: int = 0

    def label(self) -> str:
        pen = "speed penalty" if self.penalized else "no penalty"
        if self.world == DEFAULT_WORLD:
            return f"{DEFAULT_WORLD}, {pen}"
        second = ", second draw (negative control)" if self.draw else ""
        return f"objective {self.objective}{second}"


GATED, TARGET, PROXY = Key(COMMAND_WORLD, "gated"), Key(COMMAND_WORLD, "target"), Key(COMMAND_WORLD, "proxy")
TARGET_AGAIN = Key(COMMAND_WORLD, "target", draw=1)


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    out = {Key(COMMAND_WORLD, obj): ctx.spec(setups.world(rho=RHO, cue=setups.CUE, objective=obj),
                                            model=presets.EXIT_MODEL, speed_penalty=presets.SPEED)
           for obj in OBJECTIVES}
    # half the members, in half the worlds (two members each, as the first draw has), all seeds new
    first = presets.first_half(out[TARGET])
    n, w = first.n_models, len(set(first.member_worlds))
    out[TARGET_AGAIN] = replace(first, **seeds(n, base=SECOND_DRAW, worlds=w,
                                               world_base=first.world.seed + SECOND_DRAW))
    default = presets.world(RHO)  # G9's two runs at ρ = 0.9, built as G9 builds them
    out[Key(DEFAULT_WORLD, "target", False)] = ctx.spec(default, model=presets.EXIT_MODEL)
    out[Key(DEFAULT_WORLD, "target", True)] = ctx.spec(default, model=presets.EXIT_MODEL, speed_penalty=presets.SPEED)
    return out


def class_depth(r: RunResult, cls: str) -> tuple[np.ndarray, np.ndarray]:
    """(exit depth, world) of the members of ``r`` that ended in class ``cls``."""
    keep = setups.final_classes(r) == cls
    return r.final("exit_depth")[keep], r.worlds[keep]


def depth_difference(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple:
    """Mean depth of group a − of group b: Welch's interval over per-world values (``stats.diff_ci``).
    The groups are selected by class, so no member of one is paired with one of the other; where
    they share worlds, treating them as independent ignores a covariance that a world moving both
    alike makes positive, so the interval is if anything too wide."""
    return stats.diff_ci(a[0], b[0], a[1], b[1])


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    rows, depths = [], {}
    for obj, cls in OBJECTIVES.items():
        r = runs[Key(COMMAND_WORLD, obj)]
        depths[cls] = class_depth(r, cls)
        d, n = depths[cls][0], len(r.final("exit_depth"))
        rows.append(Row.of(Key(COMMAND_WORLD, obj).label(), f"mean exit depth of its {cls} members ({len(d)}/{n})",
                           bootstrap_ci(d, np.mean, clusters=depths[cls][1]), "measurement", [r.run_id],
                           "measurement"))
        rows.append(Row.of(Key(COMMAND_WORLD, obj).label(), "mean exit depth, all members",
                           bootstrap_ci(r.final("exit_depth"), np.mean, clusters=r.worlds), "measurement", [r.run_id],
                           "measurement"))
    gated, direct, proxy = depths["context-gated"], depths["internal"], depths["proxy"]
    ci = depth_difference(gated, direct)
    enough = min(len(gated[0]), len(direct[0])) >= MIN_SEEDS
    verdict = verdict_above(ci[1], ci[2], 0.0, margin=DEPTH_MARGIN) if enough else INCONCLUSIVE
    ids = [runs[GATED].run_id, runs[TARGET].run_id]
    rows.insert(0, Row.of("gated − internal", f"mean exit depth: difference (margin {DEPTH_MARGIN} layers; each class "
                          f"needs ≥ {MIN_SEEDS} members)", ci, verdict, ids, "verdict"))
    pos = depth_difference(proxy, direct)
    pos_ok = min(len(proxy[0]), len(direct[0])) >= MIN_SEEDS and pos[2] < -DEPTH_MARGIN
    rows.insert(1, control_row("proxy − internal (positive: a cheaper solution exits earlier)",
                               f"mean exit depth: difference (must lie below −{DEPTH_MARGIN})", pos, pos_ok,
                               [runs[PROXY].run_id, runs[TARGET].run_id], positive=True))
    again = runs[TARGET_AGAIN]
    other = class_depth(again, "internal")
    neg = depth_difference(other, direct)
    neg_ok = min(len(other[0]), len(direct[0])) >= MIN_SEEDS and -DEPTH_MARGIN < neg[1] and neg[2] < DEPTH_MARGIN
    rows.insert(2, control_row("internal, second draw − internal (negative: two draws of one solution)",
                               f"mean exit depth: difference (must lie inside ±{DEPTH_MARGIN})", neg, neg_ok,
                               [again.run_id, runs[TARGET].run_id], positive=False))
    for key in (Key(DEFAULT_WORLD, "target", False), Key(DEFAULT_WORLD, "target", True)):
        r = runs[key]
        classes = setups.final_classes(r)
        for c in CLASSES:
            k = int(np.sum(classes == c))
            if k:
                rows.append(Row.of(key.label(), f"share of class {c}", bootstrap_ci((classes == c).astype(float),
                                   np.mean, clusters=r.worlds), "measurement", [r.run_id], "measurement"))
    return rows, combine([verdict], neg_ok, pos_ok)


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    depths = {cls: class_depth(runs[Key(COMMAND_WORLD, obj)], cls)[0] for obj, cls in OBJECTIVES.items()}
    depths["internal, second draw"] = class_depth(runs[TARGET_AGAIN], "internal")[0]
    shares = {k.label(): class_shares(setups.final_classes(r)) for k, r in runs.items()}
    return [strips_figure(folder / "H4_depth.png", "H4: exit depth under a speed penalty, by class",
                          {"members of the intended class": depths}, "mean expected exit depth"),
            class_shares_figure(folder / "H4_classes.png", "H4: model classes at the end", shares)]
