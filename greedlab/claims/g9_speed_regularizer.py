"""G9 — A speed regularizer does not help: it favours fast built-in heuristics ("Greed Is the Root of
This Evil", §4 "What can be done?": "I'm skeptical that it will help … that'd be synonymous with
encouraging it to develop fast built-in heuristics").

Operationalization: on G1's world (target χ_{0123}, proxy a_4), at ρ = 0.9 and at ρ = 0.97, the
early-exit MLP (``models.early_exit``: 3 hidden layers of 256, a head and a learned halting unit after
each) trained with Adam for the scale's steps, with and without a speed penalty ``λ·E[exit depth]``,
on the same members (same worlds, inits and data orders). λ is fixed by a rule, not tuned
(``presets.SPEED``): skipping all L − 1 optional layers is worth 10% of the loss at chance,
``λ = 0.1·log 2/(L − 1) ≈ 0.035``. ρ = 0.97 is there because at ρ = 0.9 the unpenalized model already
ends on the target (reliance ≈ 0.96): there the penalty has no room to help, and "no help" would be
read at a ceiling.

Statistics, per member (penalty − none, paired) at the end, mean with a 95% interval over worlds:
the difference in deployment proxy reliance and in deployment target reliance. "Does not help"
means neither moves in the helpful direction by more than the margin MARGIN = δ = 0.05 of reliance
(a tenth of the way from a proxy-bound model to an even mix). "Does not help" bounds an effect
rather than claiming one, so the margin is the helpers' threshold itself (``verdict_above(lo, hi,
−δ)`` on the proxy difference, ``verdict_below(lo, hi, +δ)`` on the target's). Verdict rule (fixed
before any run), at each ρ:
- helps (that ρ refutes the claim): the proxy difference's interval lies below −δ, or the target
  difference's above +δ;
- no help (that ρ supports it): the proxy difference's interval lies above −δ and the target
  difference's below +δ;
- inconclusive otherwise ("inconclusive (underpowered)" where an interval is wider than 2δ).
The claim must hold at both ρ: refuted if either ρ shows help; supported only if both show none and
the positive controls pass (support here is the *absence* of an effect, so it needs them);
inconclusive otherwise, and whenever the negative control fails.

Controls (rows of kind "control"):
- negative, "a penalty too small to act": λ/100 at ρ = 0.97 against none (all of none's members,
  paired with them). Speed pressure is absent, but everything else that could
  make a difference read as help remains: the penalty's code path, two runs of one member drifting
  apart (at ρ = 0.97 where a member ends is path dependent), the pairing and the interval. Help
  beyond δ must be ruled out as the rule reads "no help": the proxy difference's interval above −δ
  and the target difference's below +δ. It was a half-size arm (4 worlds × 2) until the control's
  reading moved across the margin between two trainings of the same runs ([−0.008, 0.061] on the
  target difference, then [−0.005, 0.022]: third-digit differences in the stored runs, and at 4
  worlds the bootstrap-t bound is ~1.8× Student's); it now has the main arms' 8 worlds, a change of
  the control's size made after those readings, with the rule and margin unchanged.
- positive, "a regularizer that does help": the default MLP with and without L1 (λ by the remedies
  table's rule, ``presets.l1_strength``) at ρ = 0.97 (the remedies table's and G3's runs, not
  trained twice): the same statistic must read help, the target difference's interval above +δ — or
  this pipeline could not have seen help from the speed penalty either.
- positive, "the penalty acted": the mean exit depth falls under the penalty by more than
  DEPTH_MARGIN = 0.25 layers at both ρ (an unpenalized model exits near layer 2.8), else nothing
  was tested.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import presets
from greedlab.claims.common import (DIFFERENCE_OF_RELIANCES, INCONCLUSIVE, REFUTED, RELIANCE, SUPPORTED, UNDERPOWERED,
                                    Row, bootstrap_ci, control_row, verdict_above, verdict_below)
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.models import MLPConfig
from greedlab.report.figures import strips_figure

ID = "G9"
SUMMARY = "A speed regularizer does not help (it favours fast built-in heuristics)."
SOURCE = "greed-is-the-root-of-this-evil.txt, §4 “What can be done?”, footnote 5"
QUOTE = "It's often mentioned as the anti-deception tool, but I'm skeptical that it will help"
RHOS = (0.9, 0.97)
CONTROL_RHO = 0.97
MODEL = presets.EXIT_MODEL
SPEED = presets.SPEED
PLACEBO = SPEED / 100
MARGIN = 0.05
"""Reliance: the smallest help that counts (a tenth of the way from a proxy-bound model to an even mix)."""
DEPTH_MARGIN = 0.25
"""Layers: the smallest fall in mean exit depth that counts as the penalty having acted."""

NONE, PENALTY, TOO_SMALL, L1 = "none", "speed", "speed/100", "L1"
REG_TEXT = {NONE: "no penalty", PENALTY: f"speed penalty {SPEED:.3f}", TOO_SMALL: f"speed penalty {PLACEBO:.5f} "
            "(too small to act)", L1: "L1 (remedies table's rule)"}
EXIT, MLP = "early exit", "mlp"


class Key(NamedTuple):
    """A condition: the world's ρ, the model family and the regularizer."""

    rho: float
    model: str
    regularizer: str

    def label(self) -> str:
        return f"rho={self.rho}: {self.model}, {REG_TEXT[self.regularizer]}"


MEASURES = (("reliance", "proxy0", "final proxy reliance"), ("reliance", "target", "final target reliance"),
            ("exit_depth", "", "final mean exit depth"), ("train_loss", "", "final train loss"))


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    """Every spec is built as the remedies table (and G3, for the plain MLP) builds it: one run each."""
    out = {}
    for rho in RHOS:
        world = presets.world(rho)
        out[Key(rho, EXIT, NONE)] = ctx.spec(world, model=MODEL)
        out[Key(rho, EXIT, PENALTY)] = ctx.spec(world, model=MODEL, speed_penalty=SPEED)
    world = presets.world(CONTROL_RHO)
    out[Key(CONTROL_RHO, EXIT, TOO_SMALL)] = ctx.spec(world, model=MODEL, speed_penalty=PLACEBO)
    out[Key(CONTROL_RHO, MLP, NONE)] = ctx.spec(world)
    out[Key(CONTROL_RHO, MLP, L1)] = ctx.spec(world, l1=presets.l1_strength(MLPConfig(), world.input_dim))
    return out


def difference(a: RunResult, b: RunResult, instrument: str, feature: str = "") -> tuple:
    """Mean of a − b per member (same members: paired) with its interval over worlds: a reliance's
    clipped to [−2, 2], where a difference of two lies (exit depth and loss are left as they are)."""
    a, b = presets.paired_members(a, b)
    return bootstrap_ci(a.final(instrument, feature) - b.final(instrument, feature), np.mean, clusters=a.worlds,
                        support=DIFFERENCE_OF_RELIANCES if instrument == "reliance" else None)


def help_verdicts(proxy: tuple, target: tuple, margin: float = MARGIN) -> tuple[str, str]:
    """(proxy part, target part) on (point, low, high) of penalty − none, each a verdict on "no help
    beyond the margin": supported when the interval rules the help out (proxy difference above
    −margin, target difference below +margin), refuted when it shows it (beyond the margin), and
    ``UNDERPOWERED`` when it decides neither while wider than 2·margin. The helpers' threshold is
    the margin itself here: "does not help" is a bound on the effect, not an effect."""
    parts = (verdict_above(proxy[1], proxy[2], -margin), verdict_below(target[1], target[2], margin))
    return tuple(UNDERPOWERED if v == INCONCLUSIVE and ci[2] - ci[1] > 2 * margin else v
                 for v, ci in zip(parts, (proxy, target)))


def no_help(parts: tuple[str, str]) -> str:
    """One ρ's verdict on "does not help" from its two parts."""
    if REFUTED in parts:
        return REFUTED
    if all(p == SUPPORTED for p in parts):
        return SUPPORTED
    return INCONCLUSIVE


def rule(per_rho: list[str], negative_ok: bool, positive_ok: bool) -> str:
    """The docstring's rule over the ρ verdicts: help shown anywhere refutes (if a penalty too weak to
    act shows none); "no help" (an absence) needs both ρ and the positive controls."""
    if not negative_ok:
        return INCONCLUSIVE
    if REFUTED in per_rho:
        return REFUTED
    if all(v == SUPPORTED for v in per_rho) and positive_ok:
        return SUPPORTED
    return INCONCLUSIVE


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    rows, per_rho, acted = [], [], True
    for rho in RHOS:
        none, pen = runs[Key(rho, EXIT, NONE)], runs[Key(rho, EXIT, PENALTY)]
        ids = [pen.run_id, none.run_id]
        proxy, target = difference(pen, none, "reliance", "proxy0"), difference(pen, none, "reliance", "target")
        parts = help_verdicts(proxy, target)
        cond = f"rho={rho}: penalty − none"
        rows.append(Row.of(cond, f"final proxy reliance: difference (no help: above −{MARGIN})", proxy, parts[0], ids,
                           "verdict"))
        rows.append(Row.of(cond, f"final target reliance: difference (no help: below +{MARGIN})", target, parts[1],
                           ids, "verdict"))
        per_rho.append(no_help(parts))
        depth = difference(pen, none, "exit_depth")
        ok = depth[2] < -DEPTH_MARGIN
        acted &= ok
        rows.append(control_row(f"rho={rho}: penalty − none (positive: the penalty acted)",
                                f"final mean exit depth: difference (must fall by more than {DEPTH_MARGIN})", depth,
                                ok, ids, positive=True))
        rows.append(Row.of(cond, "final train loss: difference", difference(pen, none, "train_loss"), "measurement",
                           ids, "measurement"))
    none, small = runs[Key(CONTROL_RHO, EXIT, NONE)], runs[Key(CONTROL_RHO, EXIT, TOO_SMALL)]
    proxy, target = difference(small, none, "reliance", "proxy0"), difference(small, none, "reliance", "target")
    neg_ok = no_help(help_verdicts(proxy, target)) == SUPPORTED
    cond = f"rho={CONTROL_RHO}: penalty {PLACEBO:.5f} − none (negative: too small to act)"
    rows.append(control_row(cond, f"final proxy reliance: difference (no help: above −{MARGIN}, the target's "
                            f"below +{MARGIN})", proxy, neg_ok, [small.run_id, none.run_id], positive=False))
    rows.append(control_row(cond, f"final target reliance: difference (no help: below +{MARGIN}, the proxy's "
                            f"above −{MARGIN})", target, neg_ok, [small.run_id, none.run_id], positive=False))
    plain, l1 = runs[Key(CONTROL_RHO, MLP, NONE)], runs[Key(CONTROL_RHO, MLP, L1)]
    seen = difference(l1, plain, "reliance", "target")
    l1_ok = seen[1] > MARGIN
    rows.append(control_row(f"rho={CONTROL_RHO}: L1 − none, default MLP (positive: a regularizer that helps)",
                            f"final target reliance: difference (help must read above +{MARGIN})", seen, l1_ok,
                            [l1.run_id, plain.run_id], positive=True))
    verdict = rule(per_rho, neg_ok, l1_ok and acted)
    for key, r in runs.items():
        for inst, feat, name in MEASURES:
            if (inst, feat) in r.values:
                rng = RELIANCE if inst == "reliance" else None
                rows.append(Row.of(key.label(), name, bootstrap_ci(r.final(inst, feat), np.mean, clusters=r.worlds,
                                                                   support=rng), "measurement", [r.run_id],
                                   "measurement"))
        rows.append(Row.of(key.label(), "peak proxy reliance",
                           bootstrap_ci(r.curve("reliance", "proxy0").max(axis=1), np.mean, clusters=r.worlds,
                                        support=RELIANCE), "measurement", [r.run_id], "measurement"))
    return rows, verdict


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    shown = {k.label(): r for k, r in runs.items() if k.model == EXIT}
    panels = {name: {c: r.final(inst, feat) for c, r in shown.items()} for inst, feat, name in MEASURES[:3]}
    return [strips_figure(folder / "G9_speed.png", "G9: early-exit MLP with and without a speed penalty", panels,
                          "per member, at the end")]
