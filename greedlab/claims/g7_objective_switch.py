"""G7 — Switching the objective from A to B, where B's abstraction is already in the world model,
attaches to B better than training B from scratch; but A's heuristics carry over ("Greed Is the Root
of This Evil", §4 "What can be done?": "Another problem is that a lot of heuristics/misaligned
mesa-objectives will presumably carry over").

Choice of A and B (why): A = χ_{0123} with its proxy a_4 at ρ = 0.9 (G1's world). B = χ_{0,1,2,3,8}
= χ_A·a_8, with its own proxy a_5 at ρ = 0.9 (``presets.SWITCH_B``). B is the abstraction A-training
builds (χ_{0123}) times one raw latent: a model whose world model holds χ_A needs only a level-2 step
to B, while from scratch B is a level-5 parity. In B's training data χ_A and a_4 are uncorrelated
with the label (a_8 and a_4 are uniform there), so whatever reliance on them survives is carried
over, not re-learned. A' = χ_{9,10,11,12} with proxy a_13 at ρ = 0.9 lives on latents disjoint from
B's and A's. B's world tracks χ_A as the staircase step ``step1`` = (0,1,2,3) at ρ = 0.5 (which leaves
its data uniform: agreement 0.5 imposes nothing) and every latent, so A's proxy is ``a4`` and A''s is
``a13``.

Conditions, same members (worlds, inits, data orders), same budget per stage: "switch" (A for the
scale's steps, then B for as many); "scratch" (B alone for the scale's steps); "unrelated" (A' then
B). Probe outside the rule (added after the first quick run, so it does not enter the verdict): at
ρ = 0.9 A's models drop a_4 before the switch, leaving little to carry; "switch from a proxy-bound
A" trains A at ρ = 0.97, where A ends relying on a_4, then B, and reports the same carry-over
difference beside a_4's reliance at the moment of the switch.

Statistics at the end, paired per member, mean with a 95% interval over worlds; margin MARGIN = 0.05
of reliance for both (as G9 and the remedies table):
- transfer: B-target reliance, switch − scratch;
- carry-over: reliance on A's proxy a_4, switch − scratch.
Verdict rule (fixed before any run): each part by the margin-aware ``verdict_above`` (above 0 beyond
the margin: supported; an effect of the margin ruled out: refuted), joined by ``common.combine`` with
the controls below: a part refuted by the absence of its effect stands only if the positive control
passed.

Controls (rows of kind "control"):
- negative, "pretraining that builds nothing B needs" (A' → B, unrelated − scratch): A' shares no
  latent with B or with a_4, so neither B's abstraction nor A's proxy is there to carry; what A'
  pretraining does bring — twice the steps, a trained rather than a fresh initialization — would
  still show as an effect. Both differences (B-target reliance and a_4 reliance) must lie below
  MARGIN: their intervals' upper ends under it.
- positive, "a heuristic planted in the model at the switch": the proxy-bound A (ρ = 0.97, ending on
  a_4) read at the first evaluation at least 1% of B's steps into B (``EARLY_B``), against scratch at
  the same step of B: the a_4 reliance the switch hands to B is there by construction of the
  curriculum, so the same instrument, pairing and interval must read it above MARGIN, or they could
  not have seen carry-over at the end either.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import presets
from greedlab.claims.common import Row, bootstrap_ci, combine, control_row, verdict_above
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
A_UNRELATED = HierarchyConfig(target=(9, 10, 11, 12), proxies=(Proxy((13,), RHO),))
B = presets.SWITCH_B
MARGIN = 0.05
"""Reliance: the smallest transfer or carry-over that counts."""
EARLY_B = 0.01
"""The positive control reads the first evaluation at least this share of B's steps into B."""

LABELS = {"A": "switch A→B", "": "B from scratch", "A'": "control A'→B",
          "A bound": f"probe: switch A(ρ={RHO_BOUND})→B"}


class Key(NamedTuple):
    """A condition, named by what was trained before B ("": nothing)."""

    first: str

    def label(self) -> str:
        return LABELS[self.first]


SWITCH, SCRATCH, UNRELATED, SWITCH_BOUND = Key("A"), Key(""), Key("A'"), Key("A bound")


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    n = ctx.scale.steps
    b = ctx.stage(B, n, name="objective B")
    return {SWITCH: ctx.curriculum([ctx.stage(A, n, name="objective A"), b]),
            SCRATCH: ctx.curriculum([b]),
            UNRELATED: ctx.curriculum([ctx.stage(A_UNRELATED, n, name="unrelated objective A'"), b]),
            SWITCH_BOUND: ctx.curriculum([ctx.stage(A_BOUND, n, name="objective A, proxy-bound"), b])}


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
    """Mean of a − b final reliance on ``feature`` per member (paired) with its interval over worlds."""
    a, b = presets.paired_members(a, b)
    return bootstrap_ci(a.final("reliance", feature) - b.final("reliance", feature), np.mean, clusters=a.worlds)


def planted(bound: RunResult, scratch: RunResult) -> tuple[tuple, int]:
    """The positive control: a_4 reliance early in B, proxy-bound switch − scratch at the same B step."""
    bound, scratch = presets.paired_members(bound, scratch)
    first = max(1, int(round(EARLY_B * bound.spec.plan[-1].train.steps)))
    v, step = into_b(bound, "a4", first)
    w, step_s = into_b(scratch, "a4", step)
    if step != step_s:
        raise ValueError(f"stage B is evaluated at different steps: {step} and {step_s}")
    return bootstrap_ci(v - w, np.mean, clusters=bound.worlds), step


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    sw, sc, un, bound = runs[SWITCH], runs[SCRATCH], runs[UNRELATED], runs[SWITCH_BOUND]
    diff = f"{SWITCH.label()} − {SCRATCH.label()}"
    rows = []
    for feat, name in (("target", "B-target reliance"), ("a4", "A-proxy (a_4) reliance")):
        ci = final_difference(sw, sc, feat)
        rows.append(Row.of(diff, f"final {name}: difference (margin {MARGIN})", ci,
                           verdict_above(ci[1], ci[2], 0.0, margin=MARGIN), [sw.run_id, sc.run_id], "verdict"))
    parts = [r.verdict for r in rows]
    neg_ok = True
    for feat, name in (("target", "B-target reliance"), ("a4", "A-proxy (a_4) reliance")):
        ci = final_difference(un, sc, feat)
        ok = ci[2] < MARGIN
        neg_ok &= ok
        rows.append(control_row(f"{UNRELATED.label()} − {SCRATCH.label()} (negative: nothing B needs)",
                                f"final {name}: difference (must lie below {MARGIN})", ci, ok, [un.run_id, sc.run_id],
                                positive=False))
    pos, step = planted(bound, sc)
    pos_ok = pos[1] > MARGIN
    rows.append(control_row(f"{SWITCH_BOUND.label()} − {SCRATCH.label()} (positive: heuristic planted at the switch)",
                            f"A-proxy (a_4) reliance at step {step} of B: difference (must lie above {MARGIN})", pos,
                            pos_ok, [bound.run_id, sc.run_id], positive=True))
    for key in (SWITCH, SWITCH_BOUND, UNRELATED):
        r = runs[key]
        rows.append(Row.of(key.label(), "A-proxy (a_4) reliance at the switch (end of stage A)",
                           bootstrap_ci(at_switch(r, "a4", switch_step(r)), np.mean, clusters=r.worlds), "measurement",
                           [r.run_id], "measurement"))
    for feat, name in (("a4", "A-proxy (a_4) reliance"), ("target", "B-target reliance")):
        rows.append(Row.of(f"{SWITCH_BOUND.label()} − {SCRATCH.label()}", f"final {name}: difference (probe, not in "
                           "the rule)", final_difference(bound, sc, feat), "measurement", [bound.run_id, sc.run_id],
                           "measurement"))
    for key, r in runs.items():
        for feat, name in (("target", "final B-target reliance"), ("proxy0", "final B-proxy (a_5) reliance"),
                           ("step1", "final A-target (χ_0123) reliance"), ("a4", "final A-proxy (a_4) reliance"),
                           ("a13", "final A'-proxy (a_13) reliance")):
            rows.append(Row.of(key.label(), name, bootstrap_ci(r.final("reliance", feat), np.mean, clusters=r.worlds),
                               "measurement", [r.run_id], "measurement"))
    return rows, combine(parts, neg_ok, pos_ok)


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    return [reliance_figure(folder / "G7_switch.png", "G7: objective switch A→B vs B from scratch",
                            {k.label(): r for k, r in runs.items()},
                            [("reliance", "target", "B target"), ("reliance", "proxy0", "B proxy a_5"),
                             ("reliance", "step1", "A target χ_0123"), ("reliance", "a4", "A proxy a_4")])]
