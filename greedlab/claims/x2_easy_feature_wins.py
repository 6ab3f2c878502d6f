"""X2 — SGD getting stuck on heuristics may be desirable: controlling the data can make the favoured
heuristic the intended one (comment on "Greed Is the Root of This Evil").

Operationalization: two features both agree with the label on all training data (ρ = 1); one is
easy (a single latent, level 1), one is hard (a parity of four latents, level 4).
- "intended easy": the label is the easy feature χ_{0}; the unintended hard feature χ_{4567} agrees.
- "intended hard": the label is the hard feature χ_{0123}; the unintended easy feature a_4 agrees.
Statistic per condition: final reliance on the easy feature minus on the hard one. The claim holds
when it is > 0 in both conditions — reliance follows ease, whichever feature we intended — so the
data's designer can choose the heuristic SGD favours.
"""

from __future__ import annotations

import numpy as np

from greedlab.claims.common import ClaimResult, Row, bootstrap_ci, combine, verdict_above
from greedlab.claims.context import Context
from greedlab.experiment import RunSpec
from greedlab.report.figures import reliance_figure
from greedlab.worlds import HierarchyConfig, Proxy

ID = "X2"
SUMMARY = "Reliance follows the easy feature, intended or not: the data decides which heuristic wins."
SOURCE = "greed-is-the-root-of-this-evil.txt, comments (“Fix the problem by controlling the data”)"
QUOTE = ("We want SGD to be bad and get stuck on heuristics, because we might be able to set up a training "
         "environment, where sensible human-scale models are the favored heuristics.")
WORLDS = {
    "intended easy": (HierarchyConfig(target=(0,), proxies=(Proxy((4, 5, 6, 7), 1.0),)), "target", "proxy0"),
    "intended hard": (HierarchyConfig(target=(0, 1, 2, 3), proxies=(Proxy((4,), 1.0),)), "proxy0", "target"),
}


def conditions(ctx: Context) -> dict[str, RunSpec]:
    return {name: ctx.spec(w) for name, (w, _, _) in WORLDS.items()}


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    rows, parts = [], []
    for name, (_, easy, hard) in WORLDS.items():
        r = runs[name]
        e, h = r.final("reliance", easy), r.final("reliance", hard)
        ci = bootstrap_ci(e - h, np.mean)
        rows.append(Row(name, "final reliance on easy − on hard feature", *ci, verdict_above(ci[1], ci[2], 0.0),
                        [r.run_id]))
        parts.append(rows[-1].verdict)
        rows.append(Row(name, f"final reliance on the intended feature ({'easy' if easy == 'target' else 'hard'})",
                        *bootstrap_ci(r.final("reliance", "target"), np.mean), "measurement", [r.run_id]))
    fig = reliance_figure(ctx.figures_dir / "X2_reliance.png", "X2: reliance follows the easy feature",
                          {n: runs[n] for n in WORLDS},
                          [("reliance", "target", "intended (label) feature"),
                           ("reliance", "proxy0", "unintended feature")])
    return ClaimResult(ID, SUMMARY, combine(parts, True), rows, [fig])
