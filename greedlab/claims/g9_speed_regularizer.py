"""G9 — A speed regularizer does not help: it favours fast built-in heuristics ("Greed Is the Root of
This Evil", §4 "What can be done?": "I'm skeptical that it will help … that'd be synonymous with
encouraging it to develop fast built-in heuristics").

Operationalization: on G1's world (target χ_{0123}, proxy a_4 at ρ = 0.9), the early-exit MLP
(``models.early_exit``: 3 hidden layers of 256, a head and a learned halting unit after each) trained
with Adam for the scale's steps, with and without a speed penalty ``λ·E[exit depth]``, on the same
seeds (same inits, same data orders). λ is fixed by a rule, not tuned: skipping all L − 1 optional
layers is worth 10% of the loss at chance, ``λ = 0.1·log 2/(L − 1) ≈ 0.035`` — too small to matter
before the data are fit, decisive among solutions that fit them.

Statistics, paired per seed (penalty − none) at the end, bootstrap 95% CI: the difference in
deployment proxy reliance and in deployment target reliance. "Does not help" means neither moves in
the helpful direction by more than a margin δ = 0.05 of reliance. Verdict rule (fixed before any run):
- refuted if the penalty helps by more than δ: the proxy difference's CI lies below −δ, or the
  target difference's CI lies above +δ;
- supported if any help is ruled out beyond δ: the proxy difference's CI lies above −δ and the
  target difference's CI lies below +δ;
- inconclusive otherwise.
Control (the regularizer must have acted, else nothing was tested): the mean exit depth difference's
CI lies below 0.
"""

from __future__ import annotations

import math

import numpy as np

from greedlab.claims import presets
from greedlab.claims.common import (INCONCLUSIVE, REFUTED, SUPPORTED, ClaimResult, Row, bootstrap_ci, combine,
                                    control_row)
from greedlab.claims.context import Context
from greedlab.experiment import RunSpec
from greedlab.models import EarlyExitConfig
from greedlab.report.figures import strips_figure

ID = "G9"
SUMMARY = "A speed regularizer does not help (it favours fast built-in heuristics)."
SOURCE = "greed-is-the-root-of-this-evil.txt, §4 “What can be done?”, footnote 5"
QUOTE = "It's often mentioned as the anti-deception tool, but I'm skeptical that it will help"
RHO = 0.9
MODEL = EarlyExitConfig()
SPEED = 0.1 * math.log(2) / (MODEL.depth - 1)
MARGIN = 0.05
NONE, PENALTY = "no penalty", f"speed penalty {SPEED:.3f}"
MEASURES = (("reliance", "proxy0", "final proxy reliance"), ("reliance", "target", "final target reliance"),
            ("exit_depth", "", "final mean exit depth"), ("train_loss", "", "final train loss"))


def conditions(ctx: Context) -> dict[str, RunSpec]:
    world = presets.world(RHO)
    return {NONE: ctx.spec(world, model=MODEL), PENALTY: ctx.spec(world, model=MODEL, speed_penalty=SPEED)}


def helps_verdict(proxy_ci: tuple[float, float, float], target_ci: tuple[float, float, float],
                  margin: float = MARGIN) -> str:
    """The rule of the docstring, on (point, low, high) CIs of penalty − none."""
    if proxy_ci[2] < -margin or target_ci[1] > margin:
        return REFUTED
    if proxy_ci[1] > -margin and target_ci[2] < margin:
        return SUPPORTED
    return INCONCLUSIVE


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    none, pen = runs[NONE], runs[PENALTY]
    ids = [none.run_id, pen.run_id]
    diffs = {name: bootstrap_ci(pen.final(inst, feat) - none.final(inst, feat), np.mean)  # paired seeds
             for inst, feat, name in MEASURES}
    verdict = helps_verdict(diffs["final proxy reliance"], diffs["final target reliance"])
    rows = [Row("penalty − none", f"{name}: difference", *diffs[name],
                verdict if name in ("final proxy reliance", "final target reliance") else "measurement", ids)
            for _, _, name in MEASURES[:2]]
    depth = diffs["final mean exit depth"]
    acted = depth[2] < 0
    rows.append(control_row("penalty − none", "final mean exit depth: difference (must be < 0)", depth, acted, ids))
    rows.append(Row("penalty − none", "final train loss: difference", *diffs["final train loss"], "measurement", ids))
    for cond, r in runs.items():
        for inst, feat, name in MEASURES:
            rows.append(Row(cond, name, *bootstrap_ci(r.final(inst, feat), np.mean), "measurement", [r.run_id]))
        rows.append(Row(cond, "peak proxy reliance", *bootstrap_ci(r.curve("reliance", "proxy0").max(axis=1), np.mean),
                        "measurement", [r.run_id]))
    panels = {name: {c: r.final(inst, feat) for c, r in runs.items()} for inst, feat, name in MEASURES[:3]}
    fig = strips_figure(ctx.figures_dir / "G9_speed.png", "G9: early-exit MLP with and without a speed penalty",
                        panels, "per seed, at the end")
    return ClaimResult(ID, SUMMARY, combine([verdict], acted), rows, [fig])
