"""G7 — Switching the objective from A to B, where B's abstraction is already in the world model,
attaches to B better than training B from scratch; but A's heuristics carry over ("Greed Is the Root
of This Evil", §4 "What can be done?": "Another problem is that a lot of heuristics/misaligned
mesa-objectives will presumably carry over").

Choice of A and B (why): A = χ_{0123} with its proxy a_4 at ρ = 0.9 (G1's world). B = χ_{0,1,2,3,8}
= χ_A·a_8, with its own proxy a_5 at ρ = 0.9 (``presets.SWITCH_B``). B is the abstraction A-training
builds (χ_{0123}) times one raw latent: a model whose world model holds χ_A needs only a level-2 step
to B, while from scratch B is a level-5 parity. A' = χ_{9,10,11,12} with proxy a_13 at ρ = 0.9 lives
on latents disjoint from B's and A's. B's world tracks χ_A as the staircase step ``step1`` = (0,1,2,3)
at ρ = 0.5 (which leaves its data uniform: agreement 0.5 imposes nothing) and every latent, so A's
proxy is ``a4`` and A''s is ``a13``.

Two B worlds, alike but for a_4 (its column of B's training data is redrawn last, so rendering, a_5 and
every other latent are the same samples):
- B "a_4 is noise": a_4 uniform in B's data, uncorrelated with B's label; whatever reliance on it
  survives B is carried over, but B's gradient pays to erase it;
- B "a_4 pays" (``B_PAYS``): a_4 a second proxy of B's label at ρ = 0.9, as a_5 is (the two proxies
  are drawn independently given the label, so from scratch B treats them alike). A's heuristic still
  pays under B, and B's gradient has no reason to erase it: the essay's case, in which carry-over is
  decided.

Conditions, same members (worlds, inits, data orders), same budget per stage (the scale's steps for A,
as many for B):
- "switch" A(ρ = 0.9) → B, "scratch" B alone, "unrelated" A' → B (a_4 noise);
- "switch from a proxy-bound A" A(ρ = 0.97) → B (a_4 noise): at ρ = 0.9 A's models drop a_4 before the
  switch (measured at quick scale: 0.04 there), leaving no heuristic to carry; at ρ = 0.97 A ends on a_4
  (0.75 at the switch, quick scale), so the heuristic is there to carry or erase;
- the same proxy-bound A → B (a_4 pays), and B (a_4 pays) from scratch;
- "A that taught no heuristic": A at ρ = 0.5 (a_4 independent of A's label) → B (a_4 pays), on the
  first half of the members at quick scale (``setups.control_arm``), paired member by member.

Statistics at the end, paired per member, mean with a 95% interval over worlds; margin MARGIN = 0.05
of reliance for both (as G9 and the remedies table):
- transfer: B-target reliance, switch − scratch (a_4 noise, A at ρ = 0.9);
- carry-over: reliance on A's proxy a_4, switch from the proxy-bound A − scratch, in B where a_4 pays.
Verdict rule: each part by the margin-aware ``verdict_above`` (above 0 beyond the margin: supported;
an effect of the margin ruled out: refuted), joined by ``common.combine`` with the controls below: a
part refuted by the absence of its effect stands only if the positive controls passed.

Changed after the first quick results (a referee's objection, not the numbers' direction): the
carry-over part was first decided in B with a_4 as noise (switch from A at ρ = 0.9 − scratch: −0.040,
refuted), a heuristic B's gradient must erase; the essay's case is a heuristic that still pays under
B. Carry-over is now decided in B where a_4 pays; the noise case stays, as a negative control (the
proxy-bound switch, whose heuristic is there at the switch, must be erased) and as a measurement (the
old part's number). The paying arms were fixed in code before any of them ran.

Controls (rows of kind "control"):
- negative, "pretraining that builds nothing B needs" (A' → B, unrelated − scratch): A' shares no
  latent with B or with a_4, so neither B's abstraction nor A's proxy is there to carry; what A'
  pretraining does bring — twice the steps, a trained rather than a fresh initialization — would
  still show as an effect. Both differences (B-target reliance and a_4 reliance) must lie below
  MARGIN: their intervals' upper ends under it.
- negative, "a heuristic B does not pay for" (proxy-bound A → B with a_4 noise − scratch): B's
  gradient erases reliance on a feature its data leave uncorrelated with the label, so the final a_4
  difference must lie below MARGIN; an instrument that read carry-over here would read the switch's
  history, not a heuristic B kept.
- negative, "an A that taught no heuristic" (A at ρ = 0.5 → B with a_4 paying − scratch there): the
  same pretraining, abstraction and paying a_4, without A's heuristic; whatever pretraining alone does
  to a_4 reliance in a B that pays for it must lie below MARGIN.
- positive, "a heuristic planted in the model at the switch", in each B world: the proxy-bound switch
  read at the first evaluation of B (``EARLY_STEP``, step 1 of B: a B stage of one step), against
  scratch in the same B world at the same step of B. The a_4 reliance the switch hands to B is there by
  construction of the curriculum, so the same instrument, pairing and interval must read it above
  MARGIN, or they could not have seen carry-over at the end either.

Changed after the first quick run of the paying arms: the positive controls read the first evaluation
at least 1% of B's steps into B (step 19 at quick scale), and both failed there (noise B −0.12, paying B
−0.04): within 19 steps B had already re-weighted a_4 — from scratch the paying B reaches a_4 reliance
0.45 by then, and the proxy-bound switch, holding a_4 at 0.75 at the switch, has come down to 0.42 (in
the noise B it overshoots below zero). A reading that late plants nothing, so it could not tell a blind
instrument from a working one; step 1 of B still holds the switch's a_4 (0.74 there).

Measured at quick scale (8 worlds × 2 seeds, 1,500 steps a stage), every control passing: transfer
+0.79 [0.70, 0.86]; carry-over where a_4 pays −0.056 [−0.087, −0.028], refuted. A paying heuristic is
kept as far as B pays for it, not beyond: the switch ends sharing its output between a_4 and a_5 as
scratch does (0.42 and 0.41 against 0.48 and 0.50), and learns B's target (+0.42). Beside the rule,
against the switch from an A that taught no heuristic it holds more a_4 (+0.22 [0.18, 0.25]) and less
of B's target (0.42 against 0.77 on the same members): what A's heuristic costs there is B, not a heuristic kept.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import presets, setups
from greedlab.claims.common import (DIFFERENCE_OF_RELIANCES, RELIANCE, Row, bootstrap_ci, combine, control_row,
                                    verdict_above)
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.report.figures import reliance_figure
from greedlab.worlds import HierarchyConfig, Proxy

ID = "G7"
SUMMARY = ("Switching objective A→B, with B's abstraction already in the world model, attaches to B better than "
           "training B from scratch; but A's heuristics carry over.")
SOURCE = "greed-is-the-root-of-this-evil.txt, §4 “What can be done?”"
QUOTE = ("Take a ML model optimized for an objective A. Re-train it to optimize an objective B, picked such that we "
         "expect the ML model's WM to feature the abstraction that B is defined over")
RHO = 0.9
A = HierarchyConfig(target=(0, 1, 2, 3), proxies=(Proxy((4,), RHO),))
RHO_BOUND = 0.97  # G1's world at this ρ ends on its proxy (remedies table: target 0.40, proxy 0.60)
A_BOUND = HierarchyConfig(target=(0, 1, 2, 3), proxies=(Proxy((4,), RHO_BOUND),))
A_NO_HEURISTIC = HierarchyConfig(target=(0, 1, 2, 3), proxies=(Proxy((4,), 0.5),))
"""A with a_4 independent of its label: the same abstraction to build, no heuristic on a_4 to learn."""
A_UNRELATED = HierarchyConfig(target=(9, 10, 11, 12), proxies=(Proxy((13,), RHO),))
B = presets.SWITCH_B
RHO_PAYS = RHO
"""a_4's agreement with B's label in ``B_PAYS``: A's own ρ, and that of B's proxy a_5."""
B_PAYS = replace(B, proxies=B.proxies + (Proxy((4,), RHO_PAYS),))
"""B with A's proxy a_4 kept as a second proxy of B's label (``proxy1``): the heuristic still pays."""
MARGIN = 0.05
"""Reliance: the smallest transfer or carry-over that counts."""
EARLY_STEP = 1
"""The positive controls read the first evaluation at least this many steps into B (every stage is
evaluated at its step 1: ``train.eval_steps``)."""

NOISE, PAYS = "B", "B, a_4 pays"
LABELS = {"A": "switch A→B", "": "B from scratch", "A'": "control A'→B", "A bound": f"switch A(ρ={RHO_BOUND})→B",
          "A no heuristic": "control A(ρ=0.5)→B"}


class Key(NamedTuple):
    """A condition, named by what was trained before B ("": nothing) and which B world it ends in."""

    first: str
    b: str = NOISE

    def label(self) -> str:
        return LABELS[self.first] + ("" if self.b == NOISE else f" ({PAYS})")


SWITCH, SCRATCH, UNRELATED, SWITCH_BOUND = Key("A"), Key(""), Key("A'"), Key("A bound")
PAYS_SWITCH, PAYS_SCRATCH, NO_HEURISTIC = Key("A bound", PAYS), Key("", PAYS), Key("A no heuristic", PAYS)


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    n = ctx.scale.steps
    b = ctx.stage(B, n, name="objective B")
    pays = ctx.stage(B_PAYS, n, name="objective B, a_4 pays")
    bound = ctx.stage(A_BOUND, n, name="objective A, proxy-bound")
    return {SWITCH: ctx.curriculum([ctx.stage(A, n, name="objective A"), b]),
            SCRATCH: ctx.curriculum([b]),
            UNRELATED: ctx.curriculum([ctx.stage(A_UNRELATED, n, name="unrelated objective A'"), b]),
            SWITCH_BOUND: ctx.curriculum([bound, b]),
            PAYS_SWITCH: ctx.curriculum([bound, pays]),
            PAYS_SCRATCH: ctx.curriculum([pays]),
            NO_HEURISTIC: setups.control_arm(ctx.curriculum([ctx.stage(A_NO_HEURISTIC, n,
                                                                       name="objective A, no heuristic"), pays]))}


def switch_step(r: RunResult) -> int:
    """The step at which ``r`` switched to B (0 for B from scratch)."""
    return sum(st.train.steps for st in r.spec.plan[:-1])


def at_switch(r, feature: str, n: int) -> np.ndarray:
    """Per-member reliance on ``feature`` at the last evaluation of stage A (step ≤ n)."""
    return r.curve("reliance", feature)[:, int(np.searchsorted(r.steps, n, side="right")) - 1]


def into_b(r: RunResult, feature: str, step: int) -> tuple[np.ndarray, int]:
    """(per-member reliance on ``feature`` at the first evaluation ≥ ``step`` steps into B, that step)."""
    k = int(np.searchsorted(r.steps, switch_step(r) + step, side="left"))
    return r.curve("reliance", feature)[:, k], int(r.steps[k] - switch_step(r))


def final_difference(a: RunResult, b: RunResult, feature: str) -> tuple:
    """Mean of a − b final reliance on ``feature`` per member (paired) with its interval over worlds
    (clipped to [−2, 2], where a difference of two reliances lies)."""
    a, b = presets.paired_members(a, b)
    return bootstrap_ci(a.final("reliance", feature) - b.final("reliance", feature), np.mean, clusters=a.worlds,
                        support=DIFFERENCE_OF_RELIANCES)


def planted(bound: RunResult, scratch: RunResult) -> tuple[tuple, int]:
    """A positive control: a_4 reliance early in B, proxy-bound switch − scratch at the same B step."""
    bound, scratch = presets.paired_members(bound, scratch)
    v, step = into_b(bound, "a4", EARLY_STEP)
    w, step_s = into_b(scratch, "a4", step)
    if step != step_s:
        raise ValueError(f"stage B is evaluated at different steps: {step} and {step_s}")
    return bootstrap_ci(v - w, np.mean, clusters=bound.worlds, support=DIFFERENCE_OF_RELIANCES), step


def _diff(a: Key, b: Key) -> str:
    return f"{a.label()} − {b.label()}"


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    r = runs
    a4 = "A-proxy (a_4) reliance"
    rows = []
    for (x, y), feat, name in (((SWITCH, SCRATCH), "target", "B-target reliance"), ((PAYS_SWITCH, PAYS_SCRATCH), "a4",
                                                                                      f"{a4}, a_4 paying under B")):
        ci = final_difference(r[x], r[y], feat)
        rows.append(Row.of(_diff(x, y), f"final {name}: difference (margin {MARGIN})", ci,
                           verdict_above(ci[1], ci[2], 0.0, margin=MARGIN), [r[x].run_id, r[y].run_id], "verdict"))
    parts = [row.verdict for row in rows]
    negatives = [((UNRELATED, SCRATCH), "target", "B-target reliance", "nothing B needs"),
                 ((UNRELATED, SCRATCH), "a4", a4, "nothing B needs"),
                 ((SWITCH_BOUND, SCRATCH), "a4", a4, "a heuristic B does not pay for must be erased"),
                 ((NO_HEURISTIC, PAYS_SCRATCH), "a4", a4, "an A that taught no heuristic")]
    neg_ok = True
    for (x, y), feat, name, why in negatives:
        ci = final_difference(r[x], r[y], feat)
        ok = bool(ci[2] < MARGIN)
        neg_ok &= ok
        rows.append(control_row(f"{_diff(x, y)} (negative: {why})", f"final {name}: difference (must lie below "
                                f"{MARGIN})", ci, ok, [r[x].run_id, r[y].run_id], positive=False))
    pos_ok = True
    for x, y in ((SWITCH_BOUND, SCRATCH), (PAYS_SWITCH, PAYS_SCRATCH)):
        pos, step = planted(r[x], r[y])
        ok = bool(pos[1] > MARGIN)
        pos_ok &= ok
        rows.append(control_row(f"{_diff(x, y)} (positive: heuristic planted at the switch)",
                                f"{a4} at step {step} of B: difference (must lie above {MARGIN})", pos, ok,
                                [r[x].run_id, r[y].run_id], positive=True))
    for key in (SWITCH, SWITCH_BOUND, UNRELATED, PAYS_SWITCH, NO_HEURISTIC):
        rows.append(Row.of(key.label(), f"{a4} at the switch (end of stage A)",
                           bootstrap_ci(at_switch(r[key], "a4", switch_step(r[key])), np.mean, clusters=r[key].worlds,
                                        support=RELIANCE), "measurement", [r[key].run_id], "measurement"))
    probes = [((SWITCH, SCRATCH), "a4", f"{a4} (the carry-over part before a_4 paid under B)"),
              ((SWITCH_BOUND, SCRATCH), "target", "B-target reliance"),
              ((PAYS_SWITCH, PAYS_SCRATCH), "target", "B-target reliance (transfer where a_4 pays)"),
              ((PAYS_SWITCH, PAYS_SCRATCH), "proxy0", "B-proxy (a_5) reliance"),
              ((PAYS_SWITCH, NO_HEURISTIC), "a4", f"{a4} (against a switch that taught no heuristic)")]
    for (x, y), feat, name in probes:
        ci = final_difference(r[x], r[y], feat)
        rows.append(Row.of(_diff(x, y), f"final {name}: difference (not in the rule)", ci, "measurement",
                           [r[x].run_id, r[y].run_id], "measurement"))
    for key, run in r.items():
        for feat, name in (("target", "final B-target reliance"), ("proxy0", "final B-proxy (a_5) reliance"),
                           ("step1", "final A-target (χ_0123) reliance"), ("a4", "final A-proxy (a_4) reliance"),
                           ("a13", "final A'-proxy (a_13) reliance")):
            rows.append(Row.of(key.label(), name, bootstrap_ci(run.final("reliance", feat), np.mean,
                                                               clusters=run.worlds, support=RELIANCE),
                               "measurement", [run.run_id], "measurement"))
    return rows, combine(parts, neg_ok, pos_ok)


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    curves = [("reliance", "target", "B target"), ("reliance", "proxy0", "B proxy a_5"),
              ("reliance", "step1", "A target χ_0123"), ("reliance", "a4", "A proxy a_4")]
    out = []
    for name, b in (("G7_switch.png", NOISE), ("G7_switch_pays.png", PAYS)):
        title = "G7: objective switch A→B vs B from scratch" + ("" if b == NOISE else ", a_4 still paying under B")
        out.append(reliance_figure(folder / name, title, {k.label(): r for k, r in runs.items() if k.b == b}, curves))
    return out
