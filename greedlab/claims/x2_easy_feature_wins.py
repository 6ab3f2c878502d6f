"""X2 — SGD getting stuck on heuristics may be desirable: controlling the data can make the favoured
heuristic the intended one (comment on "Greed Is the Root of This Evil").

Operationalization: two features both agree with the label on all training data (ρ = 1); one is
easy (a single latent, level 1), one is hard (a parity of four latents, level 4).
- "intended easy": the label is the easy feature χ_{0}; the unintended hard feature χ_{4567} agrees.
- "intended hard": the label is the hard feature χ_{0123}; the unintended easy feature a_4 agrees.
Statistic per condition: final reliance on the easy feature minus on the hard one, per seed, its mean
with an interval over worlds. Margin ``MARGIN`` = 0.2 (the model classes' "ignored" threshold: a
reliance gap below it is no preference). The claim holds when the gap's interval lies above the
margin in both conditions — reliance follows ease, whichever feature we intended — so the data's
designer can choose the heuristic SGD favours; it is refuted when in either condition the interval
lies below 0 (the hard feature wins) and the positive control passed.

Controls (rows of kind "control"):
- negative: the default world at ρ = 0.5 (the run G1 and H6 share), where the easy feature a_4
  carries no information about the label and the hard one χ_{0123} is the label. The pull toward
  the easy feature must vanish: the gap must lie below −``MARGIN`` (reliance follows the hard
  feature). What would fake the effect fails here: a hard feature that cannot be learned in the
  step budget, or an instrument that reads low-level features more readily, leave the gap near 0
  or above.
- positive (planted): the easy feature a_4 made the label alone (the same world at ρ = 0.5 with the
  objective a_4; the hard feature is independent of it): a gap above ``MARGIN`` is
  planted by the data, and must be read.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import presets
from greedlab.claims.common import Row, bootstrap_ci, combine, control_row, verdict_above
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.report.figures import reliance_figure
from greedlab.worlds import HierarchyConfig, Proxy

ID = "X2"
SUMMARY = "Reliance follows the easy feature, intended or not: the data decides which heuristic wins."
SOURCE = "greed-is-the-root-of-this-evil.txt, comments (“Fix the problem by controlling the data”)"
QUOTE = ("We want SGD to be bad and get stuck on heuristics, because we might be able to set up a training "
         "environment, where sensible human-scale models are the favored heuristics.")
MARGIN = 0.2
"""The smallest reliance gap (easy − hard) that counts as a preference."""


class Cond(NamedTuple):
    """A condition and how to read it: the world, and which of its features (``target`` or ``proxy0``)
    is the easy one and which the hard one."""

    name: str
    world: HierarchyConfig
    easy: str
    hard: str

    def label(self) -> str:
        return self.name


INTENDED_EASY = Cond("intended easy", HierarchyConfig(target=(0,), proxies=(Proxy((4, 5, 6, 7), 1.0),)),
                     "target", "proxy0")
INTENDED_HARD = Cond("intended hard", presets.world(1.0), "proxy0", "target")
NEGATIVE = Cond("control: easy feature uninformative (rho=0.5)", presets.world(0.5), "proxy0", "target")
POSITIVE = Cond("control: easy feature the label alone", replace(presets.world(0.5), objective="proxy"),
                "proxy0", "target")
PARTS = (INTENDED_EASY, INTENDED_HARD)


def conditions(ctx: Context) -> dict[Cond, RunSpec]:
    return {c: ctx.spec(c.world) for c in (*PARTS, NEGATIVE, POSITIVE)}


def gap(r: RunResult, c: Cond) -> tuple:
    """Final reliance on the easy feature minus on the hard one: (mean, low, high) over worlds."""
    return bootstrap_ci(r.final("reliance", c.easy) - r.final("reliance", c.hard), np.mean, clusters=r.worlds)


def analyse(runs: dict[Cond, RunResult]) -> tuple[list[Row], str]:
    rows, parts = [], []
    for c in PARTS:
        r = runs[c]
        ci = gap(r, c)
        parts.append(verdict_above(ci[1], ci[2], 0.0, margin=MARGIN))
        rows.append(Row.of(c.label(), f"final reliance on easy − on hard feature (counts above {MARGIN})", ci,
                           parts[-1], [r.run_id], kind="verdict"))
        intended = "easy" if c.easy == "target" else "hard"
        rows.append(Row.of(c.label(), f"final reliance on the intended feature ({intended})",
                           bootstrap_ci(r.final("reliance", "target"), np.mean, clusters=r.worlds), "measurement",
                           [r.run_id], kind="measurement"))
    neg = gap(runs[NEGATIVE], NEGATIVE)
    neg_ok = bool(neg[2] < -MARGIN)
    rows.append(control_row(NEGATIVE.label(), f"final reliance on easy − on hard feature: the label is the hard "
                            f"feature alone (must lie below −{MARGIN})", neg, neg_ok, [runs[NEGATIVE].run_id],
                            positive=False))
    pos = gap(runs[POSITIVE], POSITIVE)
    pos_ok = bool(pos[1] > MARGIN)
    rows.append(control_row(POSITIVE.label(), f"final reliance on easy − on hard feature, planted by the label "
                            f"(must exceed {MARGIN})", pos, pos_ok, [runs[POSITIVE].run_id], positive=True))
    return rows, combine(parts, neg_ok, pos_ok)


def figures(runs: dict[Cond, RunResult], folder: Path) -> list[str]:
    return [reliance_figure(Path(folder) / "X2_reliance.png", "X2: reliance follows the easy feature",
                            {c.label(): runs[c] for c in (*PARTS, NEGATIVE)},
                            [("reliance", "target", "label feature (target)"),
                             ("reliance", "proxy0", "the other feature")])]
