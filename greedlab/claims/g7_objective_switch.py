"""G7 — Switching the objective from A to B, where B's abstraction is already in the world model,
attaches to B better than training B from scratch; but A's heuristics carry over ("Greed Is the Root
of This Evil", §4 "What can be done?": "Another problem is that a lot of heuristics/misaligned
mesa-objectives will presumably carry over").

Choice of A and B (why): A = χ_{0123} with its proxy a_4 at ρ = 0.9 (G1's world). B = χ_{0,1,2,3,8}
= χ_A·a_8, with its own proxy a_5 at ρ = 0.9. B is the abstraction A-training builds (χ_{0123}) times
one raw latent: a model whose world model holds χ_A needs only a level-2 step to B, while from scratch
B is a level-5 parity. In B's training data χ_A and a_4 are uncorrelated with the label (a_8 and a_4
are uniform there), so whatever reliance on them survives is carried over, not re-learned. The control
A' = χ_{9,10,11,12} with proxy a_13 at ρ = 0.9 lives on latents disjoint from B's and A's.
B's world tracks χ_A as the staircase step ``step1`` = (0,1,2,3) at ρ = 0.5 (which leaves its data
uniform: agreement 0.5 imposes nothing) and every latent, so A's proxy is ``a4`` and A''s is ``a13``.

Conditions, same seeds, same budget: "switch" (A for the scale's steps, then B for as many);
"scratch" (B alone for the scale's steps); control "unrelated" (A' then B).
Probe outside the rule (added after the first quick run, so it does not enter the verdict): at
ρ = 0.9 A's models drop a_4 before the switch, leaving little to carry; "switch from a proxy-bound
A" trains A at ρ = 0.97, where A ends relying on a_4, then B, and reports the same carry-over
difference beside a_4's reliance at the moment of the switch.
Statistics at the end, paired per seed, bootstrap 95% CI:
- transfer: B-target reliance, switch − scratch;
- carry-over: reliance on A's proxy a_4, switch − scratch.
Verdict rule (fixed before any run): the claim has two parts, each supported if its CI lies above 0
and refuted if below 0; combined by ``common.combine``. Control (the benefit must come from B's
abstraction, not from any pretraining): unrelated − scratch B-target reliance must not lie above the
switch's benefit: its CI's upper bound below the transfer CI's lower bound, or the transfer's CI
straddles or lies below 0 (then there is no benefit to explain).
"""

from __future__ import annotations

import numpy as np

from greedlab.claims.common import ClaimResult, Row, bootstrap_ci, combine, control_row, verdict_above
from greedlab.claims.context import Context
from greedlab.experiment import RunSpec
from greedlab.report.figures import reliance_figure
from greedlab.worlds import HierarchyConfig, Proxy, StaircaseStep

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
B = HierarchyConfig(target=(0, 1, 2, 3, 8), proxies=(Proxy((5,), RHO),), staircase=(StaircaseStep((0, 1, 2, 3), 0.5),))
SWITCH, SCRATCH, UNRELATED = "switch A→B", "B from scratch", "control A'→B"
SWITCH_BOUND = f"probe: switch A(ρ={RHO_BOUND})→B"


def conditions(ctx: Context) -> dict[str, RunSpec]:
    n = ctx.scale.steps
    b = ctx.stage(B, n, name="objective B")
    return {SWITCH: ctx.curriculum([ctx.stage(A, n, name="objective A"), b]),
            SCRATCH: ctx.curriculum([b]),
            UNRELATED: ctx.curriculum([ctx.stage(A_UNRELATED, n, name="unrelated objective A'"), b]),
            SWITCH_BOUND: ctx.curriculum([ctx.stage(A_BOUND, n, name="objective A, proxy-bound"), b])}


def at_switch(r, feature: str, n: int) -> np.ndarray:
    """Per-seed reliance on ``feature`` at the last evaluation of stage A (step ≤ n)."""
    return r.curve("reliance", feature)[:, int(np.searchsorted(r.steps, n, side="right")) - 1]


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    sw, sc, un = runs[SWITCH], runs[SCRATCH], runs[UNRELATED]
    rows, parts = [], []
    for feat, name in (("target", "B-target reliance"), ("a4", "A-proxy (a_4) reliance")):
        ci = bootstrap_ci(sw.final("reliance", feat) - sc.final("reliance", feat), np.mean)  # paired seeds
        rows.append(Row(f"{SWITCH} − {SCRATCH}", f"final {name}: difference", *ci, verdict_above(ci[1], ci[2], 0.0),
                        [sw.run_id, sc.run_id]))
        parts.append(rows[-1].verdict)
    transfer = rows[0]
    ctrl = bootstrap_ci(un.final("reliance", "target") - sc.final("reliance", "target"), np.mean)
    ctrl_ok = transfer.ci_low <= 0 or ctrl[2] < transfer.ci_low
    rows.append(control_row(f"{UNRELATED} − {SCRATCH}", "final B-target reliance: difference (below the switch's)",
                            ctrl, ctrl_ok, [un.run_id, sc.run_id]))
    bound = runs[SWITCH_BOUND]
    for cond, r in ((SWITCH, sw), (SWITCH_BOUND, bound), (UNRELATED, un)):
        rows.append(Row(cond, "A-proxy (a_4) reliance at the switch (end of stage A)",
                        *bootstrap_ci(at_switch(r, "a4", ctx.scale.steps), np.mean), "measurement", [r.run_id]))
    for feat, name in (("a4", "A-proxy (a_4) reliance"), ("target", "B-target reliance")):
        rows.append(Row(f"{SWITCH_BOUND} − {SCRATCH}", f"final {name}: difference (probe, not in the rule)",
                        *bootstrap_ci(bound.final("reliance", feat) - sc.final("reliance", feat), np.mean),
                        "measurement", [bound.run_id, sc.run_id]))
    for cond, r in runs.items():
        for feat, name in (("target", "final B-target reliance"), ("proxy0", "final B-proxy (a_5) reliance"),
                           ("step1", "final A-target (χ_0123) reliance"), ("a4", "final A-proxy (a_4) reliance"),
                           ("a13", "final A'-proxy (a_13) reliance")):
            rows.append(Row(cond, name, *bootstrap_ci(r.final("reliance", feat), np.mean), "measurement", [r.run_id]))
    fig = reliance_figure(ctx.figures_dir / "G7_switch.png", "G7: objective switch A→B vs B from scratch", runs,
                          [("reliance", "target", "B target"), ("reliance", "proxy0", "B proxy a_5"),
                           ("reliance", "step1", "A target χ_0123"), ("reliance", "a4", "A proxy a_4")])
    return ClaimResult(ID, SUMMARY, combine(parts, ctrl_ok), rows, [fig])
