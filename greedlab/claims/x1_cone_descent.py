"""X1 — "Stochastic cone descent" finds the minimum closest to initialization and reduces greed
(a proposal in the comments of "Greed Is the Root of This Evil": step within angle α of the
gradient, minimizing the scalar product with x − x0; see greedlab.optim.ConeDescent).

Operationalization: on G1's world (target χ_{0123}, proxy a_4 at ρ = 0.9), the default MLP trained
for the scale's steps by SGD (lr 0.3: measured at the quick scale, it fits the training set, train
accuracy 1.00 on 16 of 16 seeds, where lr 0.1 left train loss 0.012 and target reliance 0.86 on 4 seeds), Adam (its default lr 1e-3) and cone descent at α ∈ {0°, 30°, 60°,
80°} with SGD's lr, every condition on the same seeds (same inits, same data orders). Per seed, at
the end: Euclidean distance from the initialization in parameter space, train loss, train accuracy,
proxy and target reliance; each with a bootstrap 95% CI across seeds.

Verdict rule (the issue's, fixed in code before the quick-scale runs; only a 4-seed pilot to pick
SGD's lr came first): with paired per-seed differences cone(60°) − SGD,
supported if the distance difference's CI lies below 0 AND the proxy-reliance difference's CI lies
below 0 AND cone(60°) reaches train accuracy ≥ 0.99 (its mean's CI lower bound); refuted if either
difference's CI lies above 0; inconclusive otherwise.
Control: α = 0 is plain gradient descent, so cone(0°) and SGD must give the same final reliances:
largest absolute difference over seeds and features (proxy, target) < 1e-4.
"""

from __future__ import annotations

import numpy as np

from greedlab.claims import presets
from greedlab.claims.common import (INCONCLUSIVE, SUPPORTED, ClaimResult, Row, bootstrap_ci, combine, control_row,
                                    verdict_below)
from greedlab.claims.context import Context
from greedlab.experiment import RunSpec
from greedlab.report.figures import curves_figure

ID = "X1"
SUMMARY = "Stochastic cone descent finds the minimum closest to initialization and reduces greed."
SOURCE = "greed-is-the-root-of-this-evil.txt, comments (“stochastic cone descent”)"
QUOTE = "The method I propose preserves all minima and just tries to move towards the one closest to the initial point."
RHO = 0.9
SGD_LR = 0.3
ALPHAS = (0.0, 30.0, 60.0, 80.0)
TESTED_ALPHA = 60.0
FIT_ACC = 0.99
CONTROL_TOL = 1e-4
MEASURES = (("distance_from_init", "", "distance from init"), ("train_loss", "", "final train loss"),
            ("train_acc", "", "final train accuracy"), ("reliance", "proxy0", "final proxy reliance"),
            ("reliance", "target", "final target reliance"))


def cone(alpha: float) -> str:
    return f"cone alpha={alpha:g}"


def conditions(ctx: Context) -> dict[str, RunSpec]:
    world = presets.world(RHO)
    out = {"sgd": ctx.spec(world, optimizer="sgd", lr=SGD_LR), "adam": ctx.spec(world, optimizer="adam")}
    for a in ALPHAS:
        out[cone(a)] = ctx.spec(world, optimizer="cone", lr=SGD_LR, cone_alpha=a)
    return out


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    rows = []
    sgd, tested = runs["sgd"], runs[cone(TESTED_ALPHA)]
    ids = [sgd.run_id, tested.run_id]
    parts = []
    for inst, feat, name in (MEASURES[0], MEASURES[3]):
        diff = tested.final(inst, feat) - sgd.final(inst, feat)  # paired: same init and data seeds
        ci = bootstrap_ci(diff, np.mean)
        rows.append(Row(f"{cone(TESTED_ALPHA)} − sgd", f"{name}: difference", *ci, verdict_below(ci[1], ci[2], 0.0),
                        ids))
        parts.append(rows[-1].verdict)
    acc = bootstrap_ci(tested.final("train_acc"), np.mean)
    fits = acc[1] >= FIT_ACC
    rows.append(Row(cone(TESTED_ALPHA), f"final train accuracy (must reach ≥ {FIT_ACC})", *acc,
                    SUPPORTED if fits else INCONCLUSIVE, [tested.run_id]))
    parts.append(rows[-1].verdict)
    zero = runs[cone(0.0)]
    gap = max(float(np.max(np.abs(zero.final("reliance", f) - sgd.final("reliance", f)))) for f in ("proxy0", "target"))
    ctrl_ok = gap < CONTROL_TOL
    rows.append(control_row(f"{cone(0.0)} vs sgd", f"max |final reliance difference| (must be < {CONTROL_TOL:g})",
                            (gap, gap, gap), ctrl_ok, [zero.run_id, sgd.run_id]))
    for cond, r in runs.items():
        for inst, feat, name in MEASURES:
            rows.append(Row(cond, name, *bootstrap_ci(r.final(inst, feat), np.mean), "measurement", [r.run_id]))
        # greed is about the path, not only the end: how far the proxy took over on the way
        rows.append(Row(cond, "peak proxy reliance", *bootstrap_ci(r.curve("reliance", "proxy0").max(axis=1), np.mean),
                        "measurement", [r.run_id]))
    steps = sgd.steps
    # cone(0°) is SGD step for step (the control): drawn once, under SGD's name
    shown = {("sgd (= cone alpha=0)" if c == "sgd" else c): r for c, r in runs.items() if c != cone(0.0)}
    figs = [curves_figure(ctx.figures_dir / f"X1_{inst}.png", f"X1: {label} by optimizer", steps,
                          {c: r.curve(inst, feat) for c, r in shown.items()}, label)
            for inst, feat, label in (("distance_from_init", "", "distance from initialization"),
                                      ("reliance", "proxy0", "proxy reliance"),
                                      ("train_loss", "", "train loss"))]
    # headline: the row that decides when the differences hold but the tested cone does not fit
    headline = 2 if parts[:2] == [SUPPORTED, SUPPORTED] and not fits else 0
    return ClaimResult(ID, SUMMARY, combine(parts, ctrl_ok), rows, figs, headline=headline)
