"""X1 — "Stochastic cone descent" finds the minimum closest to initialization and reduces greed
(a proposal in the comments of "Greed Is the Root of This Evil": step within angle α of the
gradient, minimizing the scalar product with x − x0; see greedlab.optim.ConeDescent).

Why the design changed. The first version compared the end points of equal step budgets on
minibatches (batch 128 of 8,192): SGD (lr 0.3, ``presets.SGD_LR``) against the cone at α ∈ {30°,
60°, 80°} with SGD's lr. Cone(60°) never fit the training set there, so its distance from the start
was the distance of a run that had not arrived anywhere, and nothing was compared at matched loss.
A two-member pilot (batch 128) found the stochastic cone at 60° stuck at the start's loss (train loss
0.68 after 1,500 steps, 0.1 from x0) at lr 0.3 and at lr 0.15 alike; on the full batch of 512
examples, lr 0.3 stalled at loss 0.50 while lr 0.15 fit (loss 0.005 at step 1,500). So:

1. A full-batch arm decides. The default world with a training set of FULL_BATCH_N = 512 examples
   (the default world's 8,192 cannot be descended on the full batch at this budget), every step on
   all of them: plain gradient descent (GD) at SGD_LR, and the cone at α ∈ ALPHAS with
   lr(α) = SGD_LR·cos α, a rule fixed in code. Why cos α: the cone's step keeps the gradient's
   length η|g| but leans up to α off it, so its first-order decrease is η|g|²·cos φ (φ ≤ α the lean)
   while the second-order rise ½η²|g|²·dᵀHd does not shrink with the lean; a step that still lowers
   the loss needs η < 2 cos φ / dᵀHd, so the stable step shrinks like cos α (the pilot's 60° stall at
   0.3 and fit at 0.15 = 0.3·cos 60°). Half-size arms (the first half of the members,
   ``presets.first_half``: 8 at quick scale, 4 worlds × 2), paired member by member.
2. Arms are compared at matched training loss, not at the end of a budget: each member is read
   where its training loss first reaches LEVEL = 0.05 (logistic; train accuracy 1.00 there in the
   pilot), interpolated in log loss between the evaluation that first reaches it and the one before
   (so that two arms whose evaluation grids straddle the level differently are still read at the same
   loss). An arm with a member that never reaches LEVEL gives no comparison, and its row says how many
   did; a part without a comparison is inconclusive.
3. An overparameterized linear arm (``greedlab.least_squares``: 32 examples, 128 parameters, one
   problem per member), where the minimum closest to x0 is computable, x* = x0 + A⁺(b − A·x0), and
   plain GD converges to it exactly. The cone's end point is measured against it (distance to x*
   and distance from x0, each over |x* − x0|) beside GD's, and at matched loss (LINEAR_LEVEL = 1e-3
   of the start's loss) beside GD's; lr(α) = LINEAR_LR·cos α on problems rescaled to Hessian norm 1,
   for the scale's steps (at 1,500 even the cone at 80° ends within 0.01·|x* − x0| of x*: measured, 0.006).
   Measurements, and one control (below).
4. The stochastic arm is kept as it was (same runs; cone(30°) is the remedies table's run) and read
   at matched loss like the rest: measurement rows, no comparison where the cone never fits.

Verdict rule (margins fixed in code before any quick-scale run of this design; only the two-member
pilot above came first): with paired per-member statistics of the full-batch cone(60°) against
full-batch GD at matched loss,
- relative distance from the start, d_cone/d_GD − 1, below 0 beyond DISTANCE_MARGIN = 0.07 (the
  first version's 0.5 was 7% of SGD's path: kept as that share, since full-batch paths on 512
  examples are shorter);
- proxy reliance, cone − GD, below 0 beyond MARGIN = 0.05 (as G9 and the remedies table).
``common.combine`` joins them: supported if both are and every control passes; refuted if a part is
refuted (by the absence of an effect only if the positive controls passed); else inconclusive.

Measured at quick scale (this rule, unchanged after the run): the full-batch cone(60°) reached
LEVEL in 6 of 8 members (the two of one world stalled at train loss 0.19 and 0.10 with lr 0.15), so
both parts give no comparison and the claim is inconclusive, with all three controls passing (slow GD
−0.004 [−0.007, 0.005]; ρ = 0.5 −0.82 [−0.98, −0.41]; planted −0.209 [−0.209, −0.208]). The
stochastic cones reached it in 0 of 16 members at every α (60°: train loss 0.68, 0.1 from x0, after
1,500 steps), SGD and Adam in 16 of 16. Read outside the rule, on the six members that did reach it,
cone(60°) sat 8.3% closer than GD (−0.076 to −0.090) with proxy reliance 0.025 lower: within the
reliance margin. In the linear arm every angle ends at x* (80°: within 0.006·|x* − x0|), 0.9–1.3%
closer than GD at matched loss on the way.

Controls (rows of kind "control"; cone(0°), GD bit for bit by its code, is not one):
- negative, "as slow, no pull, read at the same loss": full-batch GD at lr(60°) = 0.15 against GD at
  0.3. Plain descent at a smaller step follows nearly the same path (gradient flow), so at matched
  loss it must not read closer: its relative distance's interval must lie above −DISTANCE_MARGIN. If
  it reads closer, the matched-loss reading (evaluation grid, interpolation, speed) manufactures
  "closer" by itself, and the cone's reading means nothing.
- positive, "less greed where it is certain": full-batch GD on the same world at ρ = 0.5 (the proxy
  uncorrelated with the label in training) against ρ = 0.9, at matched loss; the proxy-reliance
  difference must lie below −MARGIN. If at LEVEL even that reads as no reduction (a floor), the
  statistic could not see less greed and its absence refutes nothing.
- positive, "a planted farther minimum": in the linear arm, GD from x0 against GD started off x0 along
  A's null space by PLANTED·|x* − x0| (which follows GD's losses step for step while sitting
  √(1 + PLANTED²) as far from x0 at the end, ``least_squares``), read at matched loss; the relative
  distance must lie below −DISTANCE_MARGIN. If the matched-loss distance reading cannot see a
  shortening planted where it is known, it cannot see the cone's.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab import stats
from greedlab.claims import presets
from greedlab.claims.common import (ACCURACY, DIFFERENCE_OF_RELIANCES, RELIANCE, Row, bootstrap_ci, combine,
                                    control_row, verdict_below)
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec, seeds
from greedlab.least_squares import LeastSquaresSpec
from greedlab.report.figures import curves_figure

ID = "X1"
SUMMARY = "Stochastic cone descent finds the minimum closest to initialization and reduces greed."
SOURCE = "greed-is-the-root-of-this-evil.txt, comments (“stochastic cone descent”)"
QUOTE = "The method I propose preserves all minima and just tries to move towards the one closest to the initial point."
RHO, NO_PROXY_RHO = 0.9, 0.5
SGD_LR = presets.SGD_LR
ALPHAS = (30.0, 60.0, 80.0)
TESTED_ALPHA = 60.0
MARGIN = 0.05
"""Reliance: the smallest fall in proxy reliance that counts."""
DISTANCE_MARGIN = 0.07
"""Relative: the smallest shortening of the distance from the start (d_cone/d_GD − 1) that counts."""
LEVEL = 0.05
"""The training loss (logistic) at which the network arms are compared."""
FULL_BATCH_N = 512
"""Training examples of the full-batch arm's world (every step uses all of them)."""
LINEAR_LR = 1.0
"""The linear arm's GD step on problems whose Hessian has norm 1 (stable below 2)."""
LINEAR_LEVEL = 1e-3
"""The linear arm's matched loss, as a share of the start's loss."""
PLANTED = 0.75
"""The planted case's null-space offset, in units of |x* − x0|."""
STOCHASTIC, FULL, LINEAR = "stochastic", "full batch", "linear"
MEASURES = (("distance_from_init", "", "distance from init"), ("train_loss", "", "final train loss"),
            ("train_acc", "", "final train accuracy"), ("reliance", "proxy0", "final proxy reliance"),
            ("reliance", "target", "final target reliance"))
RANGES = {"train_acc": ACCURACY, "reliance": RELIANCE}
"""The ranges MEASURES' intervals are clipped to (distance and loss have none above)."""


class Key(NamedTuple):
    """A condition: optimizer, its learning rate, the cone's angle (cone only), the world's ρ, the arm
    (stochastic minibatches, full batch, or the linear least-squares problems) and, linear arm only,
    the planted start's offset."""

    optimizer: str
    lr: float
    alpha: float = 0.0
    rho: float = RHO
    arm: str = STOCHASTIC
    displaced: float = 0.0

    def label(self) -> str:
        name = f"cone alpha={self.alpha:g}" if self.optimizer == "cone" else f"{self.optimizer} lr {self.lr:g}"
        if self.optimizer == "cone" and self.arm != STOCHASTIC:
            name += f" lr {self.lr:.3g}"
        if self.arm == FULL and self.optimizer == "sgd" and self.lr != SGD_LR:
            name += " (negative control: as slow as the cone, no pull)"
        if self.rho != RHO:
            name += f", rho={self.rho} (positive control)"
        if self.displaced:
            name += f", started {self.displaced:g}·|x*−x0| off x0 in the null space (positive control)"
        return name if self.arm == STOCHASTIC else f"{self.arm}: {name}"


ADAM_LR = 1e-3
SGD, ADAM = Key("sgd", SGD_LR), Key("adam", ADAM_LR)


def cone(alpha: float) -> Key:
    """The stochastic arm's cone: SGD's lr at every α (cone(30°) is the remedies table's run)."""
    return Key("cone", SGD_LR, alpha)


def full_lr(alpha: float) -> float:
    """The full-batch step for angle α: SGD_LR·cos α (see the module docstring)."""
    return SGD_LR * math.cos(math.radians(alpha))


def full_cone(alpha: float) -> Key:
    return Key("cone", full_lr(alpha), alpha, arm=FULL)


FULL_GD = Key("sgd", SGD_LR, arm=FULL)
FULL_SLOW = Key("sgd", full_lr(TESTED_ALPHA), arm=FULL)
FULL_NO_PROXY = Key("sgd", SGD_LR, rho=NO_PROXY_RHO, arm=FULL)


def linear(alpha: float, displaced: float = 0.0) -> Key:
    return Key("cone" if alpha else "gd", LINEAR_LR * math.cos(math.radians(alpha)), alpha, arm=LINEAR,
               displaced=displaced)


LINEAR_GD, LINEAR_PLANTED = linear(0.0), linear(0.0, PLANTED)


def full_world(rho: float):
    return replace(presets.world(rho), n_train=FULL_BATCH_N)


def conditions(ctx: Context) -> dict:
    world = presets.world(RHO)
    out: dict = {SGD: ctx.spec(world, optimizer="sgd", lr=SGD_LR), ADAM: ctx.spec(world, optimizer="adam")}
    for a in ALPHAS:
        out[cone(a)] = ctx.spec(world, optimizer="cone", lr=SGD_LR, cone_alpha=a)

    def full(key: Key) -> RunSpec:
        kw = dict(cone_alpha=key.alpha) if key.optimizer == "cone" else {}
        return presets.first_half(ctx.spec(full_world(key.rho), optimizer=key.optimizer, lr=key.lr,
                                           batch_size=FULL_BATCH_N, **kw))

    for key in (FULL_GD, FULL_SLOW, FULL_NO_PROXY, *(full_cone(a) for a in ALPHAS)):
        out[key] = full(key)
    n = ctx.scale.seeds
    members = seeds(n, worlds=ctx.scale.worlds_for(n))
    members.setdefault("world_seeds", (0,) * n)
    for key in (LINEAR_GD, LINEAR_PLANTED, *(linear(a) for a in ALPHAS)):
        out[key] = LeastSquaresSpec(alpha=key.alpha, lr=key.lr, displaced=key.displaced, steps=ctx.scale.steps,
                                    n_evals=min(LeastSquaresSpec.n_evals, ctx.scale.max_evals or LeastSquaresSpec.n_evals),
                                    **members)
    return out


def at_level(r: RunResult, level: float, instrument: str, feature: str = "") -> np.ndarray:
    """Per member: the curve's value where the training loss first reaches ``level``, interpolated in
    log loss between the evaluation that first reaches it and the one before; NaN if it never does."""
    loss = np.maximum(r.curve("train_loss"), 1e-300)
    vals = r.curve(instrument, feature)
    hit = loss <= level
    k = hit.argmax(axis=1)
    prev = np.maximum(k - 1, 0)
    rows = np.arange(len(loss))
    l0, l1 = np.log(loss[rows, prev]), np.log(loss[rows, k])
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(l0 > l1, (l0 - math.log(level)) / (l0 - l1), 1.0)
    frac = np.clip(frac, 0.0, 1.0)
    out = vals[rows, prev] + frac * (vals[rows, k] - vals[rows, prev])
    return np.where(hit.any(axis=1), out, np.nan)


def reached(r: RunResult, level: float) -> int:
    """How many members' training loss reaches ``level`` at some evaluation."""
    return int((r.curve("train_loss") <= level).any(axis=1).sum())


def matched(a: RunResult, b: RunResult, instrument: str, feature: str = "", level: float = LEVEL,
            relative: bool = False) -> stats.Interval:
    """Per member a − b (or a/b − 1) read at matched training loss, with its interval over worlds; no
    bounds, and the reason, when a member of either arm never reaches the level. A difference of
    reliances is clipped to [−2, 2]; a relative distance is unbounded above and left as it is."""
    a, b = presets.paired_members(a, b)
    short = [f"{reached(r, level)} of {len(r.curve('train_loss'))} members of {name}"
             for r, name in ((a, "the first arm"), (b, "the second")) if reached(r, level) < len(r.curve("train_loss"))]
    if short:
        return stats.no_verdict(float("nan"), "matched loss",
                                f"no comparison: only {' and '.join(short)} reach train loss {level:g}")
    va, vb = at_level(a, level, instrument, feature), at_level(b, level, instrument, feature)
    rng = DIFFERENCE_OF_RELIANCES if instrument == "reliance" and not relative else None
    return bootstrap_ci(va / vb - 1 if relative else va - vb, np.mean, clusters=a.worlds, support=rng)


def _said(statistic: str, ci) -> str:
    """The statistic's text, with the reason when an arm gave no comparison (a row must say so)."""
    why = getattr(ci, "reason", "")
    return f"{statistic}; {why}" if why.startswith("no comparison") else statistic


def _row(condition: str, statistic: str, ci, verdict: str, run_ids: list[str], kind: str) -> Row:
    return Row.of(condition, _said(statistic, ci), ci, verdict, run_ids, kind)


def _dist(level: float) -> str:
    return f"distance from init at train loss {level:g}: relative difference d/d_ref − 1"


def _proxy(level: float) -> str:
    return f"proxy reliance at train loss {level:g}: difference"


def analyse(runs: dict) -> tuple[list[Row], str]:
    gd, tested = runs[FULL_GD], runs[full_cone(TESTED_ALPHA)]
    ids = [tested.run_id, gd.run_id]
    cond = f"{full_cone(TESTED_ALPHA).label()} − {FULL_GD.label()}"
    dist = matched(tested, gd, "distance_from_init", relative=True)
    proxy = matched(tested, gd, "reliance", "proxy0")
    rows = [_row(cond, f"{_dist(LEVEL)} (closer: below 0, margin {DISTANCE_MARGIN})", dist,
                 verdict_below(dist[1], dist[2], 0.0, margin=DISTANCE_MARGIN), ids, "verdict"),
            _row(cond, f"{_proxy(LEVEL)} (less greed: below 0, margin {MARGIN})", proxy,
                 verdict_below(proxy[1], proxy[2], 0.0, margin=MARGIN), ids, "verdict")]
    parts = [r.verdict for r in rows]
    slow = runs[FULL_SLOW]
    neg = matched(slow, gd, "distance_from_init", relative=True)
    neg_ok = bool(neg[1] > -DISTANCE_MARGIN)  # NaN (no comparison) is no pass
    rows.append(control_row(f"{FULL_SLOW.label()} − {FULL_GD.label()}",
                            _said(f"{_dist(LEVEL)} (must lie above −{DISTANCE_MARGIN})", neg), neg, neg_ok,
                            [slow.run_id, gd.run_id], positive=False))
    no_proxy = runs[FULL_NO_PROXY]
    pos = matched(no_proxy, gd, "reliance", "proxy0")
    pos_ok = bool(pos[2] < -MARGIN)
    rows.append(control_row(f"{FULL_NO_PROXY.label()} − {FULL_GD.label()}",
                            _said(f"{_proxy(LEVEL)} (must lie below −{MARGIN})", pos), pos, pos_ok,
                            [no_proxy.run_id, gd.run_id], positive=True))
    lin_gd, planted = runs[LINEAR_GD], runs[LINEAR_PLANTED]
    plant = matched(lin_gd, planted, "distance_from_init", level=LINEAR_LEVEL, relative=True)
    plant_ok = bool(plant[2] < -DISTANCE_MARGIN)
    rows.append(control_row(f"{LINEAR_GD.label()} − {LINEAR_PLANTED.label()}",
                            _said(f"{_dist(LINEAR_LEVEL)} of the start's loss (must lie below −{DISTANCE_MARGIN})",
                                  plant), plant, plant_ok, [lin_gd.run_id, planted.run_id], positive=True))
    rows += _comparisons(runs) + _linear_rows(runs) + _measurements(runs)
    return rows, combine(parts, neg_ok, pos_ok and plant_ok)


def _comparisons(runs: dict) -> list[Row]:
    """Every other angle, full batch and stochastic, against its arm's plain descent at matched loss."""
    out = []
    pairs = [(full_cone(a), FULL_GD) for a in ALPHAS if a != TESTED_ALPHA]
    pairs += [(cone(a), SGD) for a in ALPHAS] + [(ADAM, SGD)]
    for key, ref in pairs:
        a, b = runs[key], runs[ref]
        for ci, what in ((matched(a, b, "distance_from_init", relative=True), _dist(LEVEL)),
                         (matched(a, b, "reliance", "proxy0"), _proxy(LEVEL))):
            out.append(_row(f"{key.label()} − {ref.label()}", what, ci, "measurement", [a.run_id, b.run_id],
                            "measurement"))
    return out


def _linear_rows(runs: dict) -> list[Row]:
    """The linear arm: where each end point lies against the closest minimum, and matched-loss distances."""
    out = []
    gd = runs[LINEAR_GD]
    for key in (LINEAR_GD, *(linear(a) for a in ALPHAS)):
        r = runs[key]
        ref = r.final("closest_distance")
        for inst, name in (("distance_to_closest", "end point's distance to the closest minimum x*, over |x*−x0|"),
                           ("distance_from_init", "end point's distance from x0, over |x*−x0| (1: at x*)"),
                           ("train_loss", "final loss, over the start's")):
            v = r.final(inst) / (ref if inst != "train_loss" else 1.0)
            out.append(Row.of(key.label(), name, bootstrap_ci(v, np.mean, clusters=r.worlds), "measurement",
                              [r.run_id], "measurement"))
        if key != LINEAR_GD:
            ci = matched(r, gd, "distance_from_init", level=LINEAR_LEVEL, relative=True)
            out.append(_row(f"{key.label()} − {LINEAR_GD.label()}", f"{_dist(LINEAR_LEVEL)} of the start's loss",
                            ci, "measurement", [r.run_id, gd.run_id], "measurement"))
    return out


def _measurements(runs: dict) -> list[Row]:
    out = []
    for key, r in runs.items():
        if key.arm == LINEAR:
            continue
        n = len(r.curve("train_loss"))
        k = reached(r, LEVEL)
        out.append(Row(key.label(), f"members (of {n}) whose train loss reaches {LEVEL:g}", float(k),
                       float("nan"), float("nan"), "measurement", [r.run_id], "measurement"))
        for inst, feat, name in MEASURES:
            out.append(Row.of(key.label(), name, bootstrap_ci(r.final(inst, feat), np.mean, clusters=r.worlds,
                                                              support=RANGES.get(inst)),
                              "measurement", [r.run_id], "measurement"))
        # greed is about the path, not only the end: how far the proxy took over on the way
        out.append(Row.of(key.label(), "peak proxy reliance",
                          bootstrap_ci(r.curve("reliance", "proxy0").max(axis=1), np.mean, clusters=r.worlds,
                                       support=RELIANCE), "measurement", [r.run_id], "measurement"))
    return out


def figures(runs: dict, folder: Path) -> list[str]:
    out = []
    for arm, ref in ((STOCHASTIC, SGD), (FULL, FULL_GD)):
        shown = {k.label(): r for k, r in runs.items() if k.arm == arm and k.rho == RHO}
        tag = "" if arm == STOCHASTIC else "_full_batch"
        out += [curves_figure(folder / f"X1{tag}_{inst}.png", f"X1 ({arm}): {label} by optimizer", runs[ref].steps,
                              {c: r.curve(inst, feat) for c, r in shown.items()}, label,
                              threshold=LEVEL if inst == "train_loss" else None)
                for inst, feat, label in (("distance_from_init", "", "distance from initialization"),
                                          ("reliance", "proxy0", "proxy reliance"),
                                          ("train_loss", "", "train loss"))]
    return out
