"""X2 — SGD getting stuck on heuristics may be desirable: controlling the data can make the favoured
heuristic the intended one (comment on "Greed Is the Root of This Evil").

Operationalization. Two features of the same kind, both single latents (level 1), both agreeing with
the label on every training example (ρ = 1): the intended feature a_0 (the label, ``target``) and
another feature a_4 (``proxy0``). Nothing about the features themselves tells them apart; only how the
data render them does, and that is the designer's choice: a feature is *made easy* by rendering its
latent at gain ``GAIN`` = 2 (``world.gains``: its pixels carry 2·a_i·U_i + σ·ε, four times the
signal-to-noise ratio, as if shown in four times as many pixels); every other latent stays at gain 1.
Conditions (same seeds and worlds, so paired member for member):
- "intended made easy": a_0 at gain 2, a_4 at 1 — the intended feature must win;
- "other made easy": a_4 at gain 2, a_0 at 1 — the same intended feature, not made easy, must lose.
Statistic per condition: final HARD reliance (``hard_reliance``, E_deploy[sign f · χ], what the
model's decisions follow) on the intended feature minus on the other, per seed; its mean, with an
interval over worlds. Soft reliance's gap is reported beside it, and so is the paired swing (gap with
the intended made easy − gap with the other made easy). Margin ``MARGIN`` = 0.2 (the model classes'
"ignored" threshold: a reliance gap below it is no preference), fixed before any run.

Verdict rule: "intended made easy" supported if the gap's interval lies above +``MARGIN``, refuted if
it lies below 0; "other made easy" supported if it lies below −``MARGIN``, refuted if above 0. The
claim — the intended feature wins when, and only when, it is made easy — is supported when both parts
are (``combine``, with the controls below); refuted when either is refuted and both controls pass.

Optimizer: plain SGD at ``presets.SGD_LR`` (0.3), not the project's default Adam — a change made
after the measurement below, before any claim run. Under Adam the world draw itself decided which of
two equally rendered latents won: on the symmetric world (8 seeds, 4 worlds, 1,500 steps) the hard gap
read +0.44, +0.33 | +0.15, +0.02 | +0.29, +0.34 | −0.32, −0.46 (worlds separated by |; the two seeds
of a world agree), an ease no designer set, which a negative control inside ±0.2 could not pass. The
likely cause (not isolated): Adam steps each input weight by its own history, so a rendering direction
U_i nearer the pixel axes is learned faster at the same ‖U_i‖₂. SGD's update is rotation-invariant;
under it the same runs read +0.20, −0.01 | −0.02, −0.00 | −0.07, +0.07 | −0.05, −0.26 (no world effect).
``GAIN`` = 2 was chosen before any run.

Why single latents, not parities: with two level-2 parities χ_{01} and χ_{45} (SGD, same pilot) the
symmetric world picks one per seed, winner take all (hard gaps +0.24, +0.31 | +0.01, −0.85 | +0.21,
−0.67 | −0.24, −0.05), too spread for a negative control inside ±0.2 at 16 seeds, while the intended
parity made easy still won (+0.98). What single latents give up: a reader of the training set that
weighs each latent by its signal-to-noise ratio would also follow the stronger one, so a win here shows
that the designer picks the winner, not that SGD got stuck on it.

Controls (rows of kind "control"):
- negative (symmetric rendering): the same world with neither feature made easy (both at gain 1).
  Nothing the designer did favours either, so the gap's interval must lie inside ±``MARGIN``. It
  fails if the instruments, the label's construction (a_4 is set from the label, a_0 is the label)
  or the optimizer favour one of the two by themselves; then a win in the main conditions would not
  be the designer's doing.
- positive (planted by the label): symmetric rendering, the label a_0 alone, a_4 independent of it
  (ρ = 0.5): a gap planted by the data, which must read above +``MARGIN``. A half-size arm
  (``setups.control_seeds``): the effect it must show is the largest there is.

Pilot before the module was written (8 seeds, 4 worlds, 1,500 steps, SGD): hard gap +0.99 with the
intended made easy, −0.99 with the other made easy, +0.99 planted; soft the same to 0.01.

H3's level-based comparison (a single latent against a parity of four, at ρ = 1) is no longer part of
X2: ease by level is not something a data designer sets. Until this version X2 read that comparison
(its "intended hard" condition was G3's ρ = 1 run) and could not fail apart from it.

Quick-scale cost: 16 + 16 + 16 + 8 models × 1,500 steps = 84,000 model-steps, none shared (no other
claim trains gains or SGD on this world). Before, X2 read 96,000, of which 48,000 were G1's and G3's
runs: the suite grows by 36,000 model-steps and two runs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import presets
from greedlab.claims.common import (DIFFERENCE_OF_RELIANCES, Row, bootstrap_ci, combine, control_row, verdict_above,
                                    verdict_below)
from greedlab.claims.context import Context
from greedlab.claims.setups import control_seeds
from greedlab.experiment import RunResult, RunSpec
from greedlab.report.figures import reliance_figure
from greedlab.worlds import HierarchyConfig, Proxy

ID = "X2"
SUMMARY = ("The intended feature wins when, and only when, the data make it the easy one: the designer "
           "picks the heuristic SGD favours.")
SOURCE = "greed-is-the-root-of-this-evil.txt, comments (“Fix the problem by controlling the data”)"
QUOTE = ("We want SGD to be bad and get stuck on heuristics, because we might be able to set up a training "
         "environment, where sensible human-scale models are the favored heuristics.")
MARGIN = 0.2
"""The smallest reliance gap (intended − other) that counts as a preference."""
GAIN = 2.0
"""How a feature is made easy: its latent rendered at this gain (signal-to-noise ratio × 4)."""
SWING = (-4.0, 4.0)
"""The range of the designer's swing: a difference of two gaps, each in [−2, 2]."""
INTENDED, OTHER = 0, 4
"""The intended feature a_0 (the label) and the other feature a_4 (agreeing with it on every training
example): two single latents, the same kind of feature."""
RELIANCE = "hard_reliance"
"""The verdict's instrument: what the decisions follow (soft reliance is reported beside it)."""


class Cond(NamedTuple):
    """A condition: which latent is rendered at ``GAIN`` (None: neither) and ρ of the other feature."""

    name: str
    easy: int | None
    rho: float = 1.0

    def label(self) -> str:
        return self.name


MADE_EASY = Cond("intended made easy", INTENDED)
OTHER_EASY = Cond("other made easy (intended not)", OTHER)
SYMMETRIC = Cond("control: neither made easy", None)
PLANTED = Cond("control: label is the intended feature alone (rho=0.5)", None, 0.5)
PARTS = (MADE_EASY, OTHER_EASY)


def world(c: Cond) -> HierarchyConfig:
    """Target a_0, the other feature a_4 at the condition's ρ, the easy latent (if any) at ``GAIN``."""
    gains = () if c.easy is None else ((c.easy, GAIN),)
    return replace(HierarchyConfig(), target=(INTENDED,), proxies=(Proxy((OTHER,), c.rho),), gains=gains)


def conditions(ctx: Context) -> dict[Cond, RunSpec]:
    sgd = dict(optimizer="sgd", lr=presets.SGD_LR)
    out = {c: ctx.spec(world(c), **sgd) for c in (*PARTS, SYMMETRIC)}
    out[PLANTED] = ctx.spec(world(PLANTED), n_seeds=control_seeds(ctx.scale.seeds), **sgd)
    return out


def gap_values(r: RunResult, instrument: str = RELIANCE) -> np.ndarray:
    """Per seed: final reliance on the intended feature minus on the other."""
    return r.final(instrument, "target") - r.final(instrument, "proxy0")


def gap(r: RunResult, instrument: str = RELIANCE):
    """The gap's (mean, low, high) over worlds, inside the range of a difference of two reliances."""
    return bootstrap_ci(gap_values(r, instrument), np.mean, clusters=r.worlds, support=DIFFERENCE_OF_RELIANCES)


def swing_row(made_easy: RunResult, other_easy: RunResult) -> Row:
    """The designer's swing: per member, the hard gap with the intended made easy − with the other made
    easy (the two runs share their members); no interval when no member was kept in both (diverged)."""
    ids = [made_easy.run_id, other_easy.run_id]
    statistic = "hard gap with the intended made easy − with the other made easy (paired members)"
    try:
        easy, other = presets.paired(made_easy, other_easy)
    except ValueError:
        nan = float("nan")
        return Row("designer's swing", statistic, nan, nan, nan, "measurement", ids, kind="measurement",
                   note="no member kept in both runs")
    swing = gap_values(easy) - gap_values(other)
    return Row.of("designer's swing", statistic, bootstrap_ci(swing, np.mean, clusters=easy.worlds, support=SWING),
                  "measurement", ids, kind="measurement")


def analyse(runs: dict[Cond, RunResult]) -> tuple[list[Row], str]:
    rows, parts = [], []
    for c, rule, must in ((MADE_EASY, verdict_above, f"counts above {MARGIN}"),
                          (OTHER_EASY, verdict_below, f"counts below −{MARGIN}")):
        r = runs[c]
        ci = gap(r)
        parts.append(rule(ci[1], ci[2], 0.0, margin=MARGIN))
        rows.append(Row.of(c.label(), f"final hard reliance on the intended − on the other feature ({must})", ci,
                           parts[-1], [r.run_id], kind="verdict"))
        rows.append(Row.of(c.label(), "final soft reliance on the intended − on the other feature", gap(r, "reliance"),
                           "measurement", [r.run_id], kind="measurement"))
    rows.append(swing_row(runs[MADE_EASY], runs[OTHER_EASY]))
    r = runs[SYMMETRIC]
    neg = gap(r)
    neg_ok = bool(-MARGIN < neg[1] and neg[2] < MARGIN)  # NaN bounds compare False: no interval, no pass
    rows.append(control_row(SYMMETRIC.label(), f"final hard reliance on the intended − on the other feature, "
                            f"symmetric rendering (must lie inside ±{MARGIN})", neg, neg_ok, [r.run_id],
                            positive=False))
    rows.append(Row.of(SYMMETRIC.label(), "final soft reliance on the intended − on the other feature",
                       gap(r, "reliance"), "measurement", [r.run_id], kind="measurement"))
    r = runs[PLANTED]
    pos = gap(r)
    pos_ok = bool(pos[1] > MARGIN)
    rows.append(control_row(PLANTED.label(), f"final hard reliance on the intended − on the other feature, "
                            f"planted by the label (must exceed {MARGIN})", pos, pos_ok, [r.run_id], positive=True))
    return rows, combine(parts, neg_ok, pos_ok)


def figures(runs: dict[Cond, RunResult], folder: Path) -> list[str]:
    return [reliance_figure(Path(folder) / "X2_reliance.png", "X2: the feature the data make easy wins",
                            {c.label(): runs[c] for c in (*PARTS, SYMMETRIC)},
                            [(RELIANCE, "target", "intended a_0 (hard)"), (RELIANCE, "proxy0", "other a_4 (hard)"),
                             ("reliance", "target", "intended a_0 (soft)"), ("reliance", "proxy0", "other a_4 (soft)")])]
