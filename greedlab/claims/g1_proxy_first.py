"""G1 — SGD attaches heuristics to upstream correlates (proxies) of the target before the target
is represented ("Greed Is the Root of This Evil", §1: "If the world-model doesn't yet represent the
target abstraction, the SGD will attach heuristics to upstream correlates/proxies of that abstraction").

Operationalization: on the default hierarchy world (target χ_{0123}, proxy a_4 at ρ = 0.9), per member:
proxy-reliance onset (≥ 0.5), target-reliance onset (≥ 0.5) and target-decodability onset (best hidden
layer ≥ 0.9), each the step at which the curve crosses, interpolated between evaluations
(``presets.crossing``; 'never' counts one step past the end). Statistics, each the mean over members
with a 95% interval over worlds (the members of one world are resampled together):
- lead of target reliance over proxy reliance, log10((t_target+1)/(t_proxy+1)), above its margin
  MARGIN_LEAD = 0.2 decades: early evaluations are 10^0.21 ≈ 1.6× apart (``train.eval_steps``), so a
  smaller lead can be one evaluation of the grid;
- lead of target decodability over proxy reliance, same form and margin;
- peak proxy reliance above 0.5 (the proxy carries at least half of the decision) by MARGIN_PEAK =
  0.05, three standard errors of one reliance reading on 4,096 deployment samples.
Rule (``common.combine``): supported if all three parts are and both controls pass; refuted if a
part is refuted and both controls pass (an absent effect counts only from an instrument shown to see
it where it is, and not to see it where it is not); else inconclusive.

Controls (each a row of kind "control"):
- negative, "target as easy as the proxy" (``presets.easy_target_world``, H5's and H6's run): the same
  world and ρ, but the target is the level-1 feature χ_0, linear in the pixels and so represented from
  the first step: the mechanism (no target yet to attach to) is absent, while everything else that could
  make the proxy read first remains — a level-1 correlate at the same ρ, the same onset threshold,
  evaluation grid and censoring of 'never'. The lead of target reliance over proxy reliance must vanish:
  its interval must lie below MARGIN_LEAD. Measured at quick length on 4 seeds, the proxy was relied on
  (peak 0.23–0.35) but the target reached 0.5 first, at step ~19 (lead −1.9): the control can move. (It
  replaces ρ = 0.5, where an uncorrelated feature cannot be relied on at all, so that control could not
  fail.)
- positive, "proxy decisive": ρ = 1 (G3's run): the proxy agrees with the label on every training
  example, so it is fitted before anything else; the same lead must read above MARGIN_LEAD, or the
  instruments and onsets could not see the effect where it is certain.

At the quick scale (hierarchy world, 16 seeds in 8 worlds): lead 1.44 [1.42, 1.47], decodability lead
1.35 [1.32, 1.38], peak proxy reliance 0.84 [0.83, 0.85]; easy target −1.97 [−1.99, −1.95] (ok),
proxy decisive 2.08 [2.07, 2.09] (ok): supported.

Two arms that vary what the default arm fixes by design (a level-1 proxy beside a level-4 target that
no model represents at the start). Both are half-size (``setups.control_arm``: the default arm's first
8 members, 4 worlds × 2 seeds) and paired with the default arm member for member (same init, data
order and world draw; ``presets.paired_members``). Their rules were fixed before any quick result.

- pretrained target (the essay's condition varied: "if the world-model doesn't yet represent the
  target"). A curriculum: stage 1 trains the trunk self-supervised on the world's effects
  (``presets.effects()``, every level-2 monomial of latents 0..7) plus χ_T itself as one more effect,
  through a linear decoder on the first hidden layer that is discarded after the stage (``train``:
  an effects stage's decoder is not part of the model); stage 2 is the default G1 world at ρ = 0.9,
  all parameters trainable, as long as the default arm's run. Why this and not the label at ρ = 0.5:
  training on the label would train the head on the objective itself, so stage 2 would start with
  the objective already pointed at the target and proxy reliance would stay low for a reason the
  essay does not name. After the effects stage the trunk's first layer holds χ_T, while the second
  hidden layer and the head are untouched (the decoder reads below them): the objective still has to
  be attached, and the only difference from the default arm is that the target is already
  represented when it is. Premise (a control row, kind positive: the manipulation must take): the
  target's best-layer decodability at the last evaluation of stage 1 (= the start of stage 2), mean
  over members, its interval's lower end ≥ REPRESENTED = 0.9. Statistic: the paired difference
  (pretrained − default) of peak proxy reliance, the pretrained arm's peak taken over stage 2 only
  (as long as the default arm's whole run); the claim predicts it below 0 by MARGIN_DROP = 0.2
  (the proxy must lose at least a fifth of the decision: four times MARGIN_PEAK, so that the drop is
  not a reading's noise, and under the default's peak − 0.5 ≈ 0.34, so that a proxy still relied on
  at 0.6 would not count). Reported beside it (measurements): the arm's peak and final proxy
  reliance in stage 2, and (added after a 2-seed pilot, below; the rule unchanged) the lead of target
  over proxy onset counted from stage 2's start, alone and minus the default arm's, paired.
- same-level proxy ("greed" vs "parities are slow"): the proxy is χ_{4567}, a level-4 parity on
  latents disjoint from the target's, agreeing with it at ρ = 0.9; all else the default. G1's lead
  statistic there (target-reliance onset over proxy onset, margin MARGIN_LEAD), and the paired
  difference of that lead (same-level − default). Reading: if the lead vanishes at the same level
  (the difference below −MARGIN_LEAD), the default's proxy-first is the level gap's — the proxy is
  first because it is easier ("upstream", as the essay has it, and as "parities are slow" would
  have it alike); if the same-level proxy still leads by MARGIN_LEAD, proxy-first is more than its
  easiness: a correlate that pays early is taken first even when it is no easier ("greed" in the
  strong sense).

How they enter the verdict (fixed before any quick result): G1's verdict is ``combine`` of the
default arm's three parts and the pretrained arm's part, with the same two controls. The pretrained
part counts only if its premise held; if the target was not decodable ≥ 0.9 at the start of stage 2,
that part reads inconclusive (the arm tested nothing), and so can the verdict at most. So G1 is
supported only if the proxy is taken first when the target is not represented *and* its reliance
falls by the margin when it is, and refuted if either reads the other way (controls passed). The
same-level arm's two rows are verdict rows of their own question (which account the default's lead
supports) and do not enter G1's verdict: both accounts agree that a proxy that is easier is taken
first, which is what G1 claims; they are reported so that a reader sees which one the data favour.
Added quick-scale cost: pretrained arm 8 members × (1,500 + 1,500) steps = 24,000 model-steps;
same-level arm 8 × 1,500 = 12,000; 36,000 model-steps in all (the default arm is 24,000).

A pilot of the three arms (2 seeds in one world, quick length; not evidence, no interval): the effects
stage made χ_T decodable at 0.997–0.999 (first hidden layer) by the start of stage 2, so the premise
can hold at 1,500 steps. Yet the fresh head took the proxy at once: stage-2 proxy reliance peaked at
0.85–0.87 about 19 steps in (default arm: 0.77–0.80), and the target took over about 120 steps in
(default: ~390), a stage-2 lead of ~1.1 decades against the default's ~1.47. The same-level proxy
χ_{4567} was never relied on (peak 0.03; its target's onset ~190): lead ≈ −0.9, ≈ −2.3 below the
default's.

Real data (greedlab.claims.real_data): the same statistics on MNIST-1D and digits, where the target
is the class group and the proxy a marker agreeing with it at ρ = 0.9, with the positive control at
ρ = 1. A real class cannot be made as easy as the marker, so real data has no negative control: its
table says so and its verdict cannot be "supported".
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import real_data, setups
from greedlab.claims.common import (ACCURACY, DIFFERENCE_OF_RELIANCES, RELIANCE, INCONCLUSIVE, Row, bootstrap_ci,
                                    combine, control_row, log_lead, verdict_above, verdict_below)
from greedlab.claims.context import Context
from greedlab.claims.presets import best_decodability, crossing, easy_target_world, effects, paired_members, world
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import RELIANCE_ONSET, REPRESENTED
from greedlab.report.figures import reliance_figure
from greedlab.worlds import Proxy

ID = "G1"
SUMMARY = "SGD attaches heuristics to proxies of the target before the target is represented."
SOURCE = "greed-is-the-root-of-this-evil.txt, §1 “What does that mean mechanically?”"
QUOTE = ("If the world-model doesn't yet represent the target abstraction, the SGD will attach heuristics to "
         "upstream correlates/proxies of that abstraction.")
RHO, DECISIVE_RHO = 0.9, 1.0
MARGIN_LEAD = 0.2
"""Decades: the smallest lead that counts (one step of the early, log-spaced evaluation grid)."""
MARGIN_PEAK = 0.05
"""Reliance: the smallest excess of peak proxy reliance over 0.5 that counts (3 SE of one reading)."""
PEAK = 0.5
MARGIN_DROP = 0.2
"""Reliance: the smallest fall of peak proxy reliance (pretrained − default, paired) that counts."""
SAME_LEVEL_PROXY = (4, 5, 6, 7)
"""The same-level proxy: χ_{4567}, a level-4 parity on latents disjoint from the target's χ_{0123}."""

MAIN, NEGATIVE, POSITIVE = "main", "negative", "positive"
PRETRAINED, SAME_LEVEL = "pretrained", "same_level"
ARM_TEXT = {MAIN: f"rho={RHO}", NEGATIVE: f"control (negative): level-1 target chi_0, rho={RHO}",
            POSITIVE: f"control (positive): proxy decisive, rho={DECISIVE_RHO}",
            PRETRAINED: f"target pretrained (effects incl. chi_T), then rho={RHO}",
            SAME_LEVEL: f"same-level proxy chi_4567, rho={RHO}"}


def same_level_world(rho: float):
    """The default world with its proxy made as hard as the target: χ_{4567} at ρ."""
    return replace(world(rho), proxies=(Proxy(SAME_LEVEL_PROXY, rho),))


def pretraining_world(rho: float):
    """The default world's stage of self-supervision: predict every level-2 effect of latents 0..7
    and χ_T itself (a decoder discarded after the stage, so the head stays untrained)."""
    w = world(rho)
    return replace(w, objective="effects", effects=effects() + (tuple(w.target),))


class Key(NamedTuple):
    """A condition: the world it is on (the hierarchy or a real dataset) and its arm."""

    dataset: str
    arm: str

    def label(self) -> str:
        return real_data.label(self.dataset, ARM_TEXT[self.arm])


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    h = real_data.HIERARCHY
    specs = {Key(h, MAIN): ctx.spec(world(RHO)),
             Key(h, NEGATIVE): ctx.spec(easy_target_world(RHO)),
             Key(h, POSITIVE): ctx.spec(world(DECISIVE_RHO))}
    n = ctx.scale.steps
    pre = ctx.curriculum([ctx.stage(pretraining_world(RHO), n, name="effects incl. the target (world model)"),
                          ctx.stage(world(RHO), n, name="objective")])
    specs[Key(h, PRETRAINED)] = setups.control_arm(pre)
    specs[Key(h, SAME_LEVEL)] = setups.control_arm(ctx.spec(same_level_world(RHO)))
    for ds in real_data.DATASETS:
        specs[Key(ds, MAIN)] = real_data.spec(ctx, ds, RHO)
        specs[Key(ds, POSITIVE)] = real_data.spec(ctx, ds, DECISIVE_RHO)
    return specs


def onsets(r: RunResult) -> dict[str, np.ndarray]:
    return {
        "proxy": crossing(r.steps, r.curve("reliance", "proxy0"), RELIANCE_ONSET),
        "target": crossing(r.steps, r.curve("reliance", "target"), RELIANCE_ONSET),
        "target_decodable": crossing(r.steps, best_decodability(r, "target"), REPRESENTED),
    }


def reliance_lead(r: RunResult) -> tuple:
    """Mean log10 lead of target-reliance onset over proxy-reliance onset, interval over worlds."""
    on = onsets(r)
    return bootstrap_ci(log_lead(on["proxy"], on["target"], int(r.steps[-1])), np.mean, clusters=r.worlds)


def parts(r: RunResult, cond: str) -> list[Row]:
    """The three statistics of one ensemble, each with its verdict."""
    steps = int(r.steps[-1])
    on = onsets(r)
    rows: list[Row] = []
    for what, late in (("target reliance", on["target"]), ("target decodability", on["target_decodable"])):
        ci = bootstrap_ci(log_lead(on["proxy"], late, steps), np.mean, clusters=r.worlds)
        rows.append(Row.of(cond, f"log10 lead of {what} onset over proxy onset (margin {MARGIN_LEAD} decades)", ci,
                           verdict_above(ci[1], ci[2], 0.0, margin=MARGIN_LEAD), [r.run_id], kind="verdict"))
    ci = bootstrap_ci(r.curve("reliance", "proxy0").max(axis=1), np.mean, clusters=r.worlds, support=RELIANCE)
    rows.append(Row.of(cond, f"peak proxy reliance (> {PEAK}, margin {MARGIN_PEAK})", ci,
                       verdict_above(ci[1], ci[2], PEAK, margin=MARGIN_PEAK), [r.run_id], kind="verdict"))
    return rows


def negative_control(r: RunResult, cond: str) -> tuple[Row, bool]:
    ci = reliance_lead(r)
    ok = ci[2] < MARGIN_LEAD  # the whole interval below the smallest lead that counts
    return control_row(cond, f"log10 lead of target reliance onset over proxy onset: must stay below {MARGIN_LEAD} "
                             "(target represented from the start)", ci, ok, [r.run_id], positive=False), ok


def positive_control(r: RunResult, cond: str) -> tuple[Row, bool]:
    ci = reliance_lead(r)
    ok = ci[1] > MARGIN_LEAD
    return control_row(cond, f"log10 lead of target reliance onset over proxy onset: must exceed {MARGIN_LEAD} "
                             "(proxy fits every training example)", ci, ok, [r.run_id], positive=True), ok


def decodable_shares(r: RunResult, cond: str) -> list[Row]:
    """A real class is not built to be absent at the start: how often it was decodable from step 0
    (the decodability lead is then ≤ 0) or never (the lead is then a censored lower bound)."""
    dec = onsets(r)["target_decodable"]
    return [Row.of(cond, f"fraction of seeds with the target decodable {what}",
                   bootstrap_ci(hit.astype(float), np.mean, clusters=r.worlds), "measurement", [r.run_id],
                   kind="measurement")
            for what, hit in (("at step 0", dec == 0), ("never", ~np.isfinite(dec)))]


def boundary(r: RunResult) -> int:
    """Index of the evaluation that ends stage 1 (the start of stage 2) of a two-stage run."""
    return int(np.searchsorted(r.steps, r.spec.stages[0].train.steps, side="right")) - 1


def pretrained_rows(pre: RunResult, main: RunResult, cond: str) -> tuple[list[Row], str]:
    """The pretrained-target arm: its premise (a control row), the paired fall of peak proxy reliance
    and, as measurements, its stage-2 peak and final proxy reliance. Returns the rows and the part's
    verdict (inconclusive when the premise failed)."""
    b = boundary(pre)
    dec = best_decodability(pre, "target")[:, b]
    ci = bootstrap_ci(dec, np.mean, clusters=pre.worlds, support=ACCURACY)  # a probe's accuracy
    # an interval with no bounds (every world the same value, e.g. every probe at 1.0) is read off the
    # members themselves: each of them must then reach the level
    premise_ok = bool(ci[1] >= REPRESENTED) if np.isfinite(ci[1]) else bool(dec.min() >= REPRESENTED)
    rows = [control_row(cond, f"target decodability (best layer) at the start of stage 2: interval must lie at or "
                              f"above {REPRESENTED} (the target represented before the objective)", ci, premise_ok,
                        [pre.run_id], positive=True)]
    p, m = paired_members(pre, main)
    proxy_p = p.curve("reliance", "proxy0")[:, b:]
    diff = proxy_p.max(axis=1) - m.curve("reliance", "proxy0").max(axis=1)
    ci = bootstrap_ci(diff, np.mean, clusters=p.worlds, support=DIFFERENCE_OF_RELIANCES)
    part = verdict_below(ci[1], ci[2], 0.0, margin=MARGIN_DROP) if premise_ok else INCONCLUSIVE
    rows.append(Row.of(cond, f"peak proxy reliance in stage 2 minus the default arm's, paired (below 0 by "
                             f"{MARGIN_DROP}; counts only if the target was represented)", ci, part,
                       [pre.run_id, main.run_id], kind="verdict"))
    for what, vals in (("peak", proxy_p.max(axis=1)), ("final", proxy_p[:, -1])):
        rows.append(Row.of(cond, f"{what} proxy reliance in stage 2",
                           bootstrap_ci(vals, np.mean, clusters=p.worlds, support=RELIANCE), "measurement",
                           [pre.run_id], kind="measurement"))
    # how long the proxy leads once the objective is trained: onsets counted from stage 2's start,
    # paired with the default arm's lead (a measurement, outside the verdict)
    start = float(p.steps[b])
    steps2 = int(p.steps[-1] - start)
    on_m = onsets(m)
    t2 = p.steps[b:] - start
    on_p = {f: crossing(t2, p.curve("reliance", c)[:, b:], RELIANCE_ONSET) for f, c in (("proxy", "proxy0"),
                                                                                         ("target", "target"))}
    lead_p = log_lead(on_p["proxy"], on_p["target"], steps2)
    lead_m = log_lead(on_m["proxy"], on_m["target"], int(m.steps[-1]))
    for what, vals in (("", lead_p), (" minus the default arm's, paired", lead_p - lead_m)):
        rows.append(Row.of(cond, f"log10 lead of target reliance onset over proxy onset in stage 2{what}",
                           bootstrap_ci(vals, np.mean, clusters=p.worlds), "measurement", [pre.run_id],
                           kind="measurement"))
    return rows, part


def same_level_rows(same: RunResult, main: RunResult, cond: str) -> list[Row]:
    """The same-level proxy arm: G1's lead there, and its paired difference from the default's lead
    (below −MARGIN_LEAD: the default's lead is the level gap's). Rows of their own question, outside
    G1's verdict."""
    steps = int(same.steps[-1])
    s, m = paired_members(same, main)
    on_s, on_m = onsets(s), onsets(m)
    lead_s = log_lead(on_s["proxy"], on_s["target"], steps)
    lead_m = log_lead(on_m["proxy"], on_m["target"], int(main.steps[-1]))
    ci = bootstrap_ci(lead_s, np.mean, clusters=s.worlds)
    rows = [Row.of(cond, f"log10 lead of target reliance onset over proxy onset, proxy as hard as the target "
                         f"(margin {MARGIN_LEAD}; supported: proxy first even when no easier)", ci,
                   verdict_above(ci[1], ci[2], 0.0, margin=MARGIN_LEAD), [same.run_id], kind="verdict")]
    ci = bootstrap_ci(lead_s - lead_m, np.mean, clusters=s.worlds)
    rows.append(Row.of(cond, f"lead minus the default arm's lead, paired (below 0 by {MARGIN_LEAD}; supported: the "
                             "default's proxy-first is the level gap's; not in G1's verdict)", ci,
                       verdict_below(ci[1], ci[2], 0.0, margin=MARGIN_LEAD), [same.run_id, main.run_id],
                       kind="verdict"))
    return rows


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    """Rows and verdict (the hierarchy world's) from the runs of ``conditions``; each real dataset adds
    its rows and its own verdict row by the same rule."""
    h = real_data.HIERARCHY
    main = runs[Key(h, MAIN)]
    rows = parts(main, Key(h, MAIN).label())
    neg_row, neg_ok = negative_control(runs[Key(h, NEGATIVE)], Key(h, NEGATIVE).label())
    pos_row, pos_ok = positive_control(runs[Key(h, POSITIVE)], Key(h, POSITIVE).label())
    pre_rows, pre_part = pretrained_rows(runs[Key(h, PRETRAINED)], main, Key(h, PRETRAINED).label())
    verdict = combine([r.verdict for r in rows] + [pre_part], neg_ok, pos_ok)
    rows += [neg_row, pos_row] + pre_rows
    rows += same_level_rows(runs[Key(h, SAME_LEVEL)], main, Key(h, SAME_LEVEL).label())
    for ds in real_data.DATASETS:
        r_main = runs[Key(ds, MAIN)]
        r_rows = parts(r_main, Key(ds, MAIN).label())
        r_pos, r_pos_ok = positive_control(runs[Key(ds, POSITIVE)], Key(ds, POSITIVE).label())
        r_verdict = real_data.verdict_without_negative_control([r.verdict for r in r_rows], r_pos_ok)
        r_rows += [r_pos, real_data.no_control_row(
            ds, "negative", "the class cannot be made as easy as the marker: no condition where proxy-first must "
                            "vanish, so this dataset's verdict cannot be 'supported'")]
        r_rows += decodable_shares(r_main, Key(ds, MAIN).label())
        rows += r_rows + [real_data.verdict_row(ds, r_verdict, [i for r in r_rows for i in r.run_ids])]
    return rows, verdict


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    h = real_data.HIERARCHY
    curves = [("reliance", "proxy0", "proxy reliance"), ("reliance", "target", "target reliance")]
    extra = ("target decodability (best layer)", lambda r: best_decodability(r, "target"))
    return [reliance_figure(folder / "G1_reliance.png", "G1: proxy before target",
                            {k.label(): runs[k] for k in (Key(h, MAIN), Key(h, NEGATIVE), Key(h, POSITIVE),
                                                          Key(h, PRETRAINED), Key(h, SAME_LEVEL))},
                            curves, extra=extra),
            reliance_figure(folder / "G1_reliance_real.png", "G1 on real data: marker before class",
                            {Key(ds, MAIN).label(): runs[Key(ds, MAIN)] for ds in real_data.DATASETS},
                            curves, extra=extra)]
