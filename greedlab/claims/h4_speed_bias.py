"""H4 — Speed bias favours directly aligned models over ones that must infer what to do ("How likely
is deceptive alignment", summary, "Speed Bias": deceptively aligned models "have to go through the extra computational step
of inferring that they should pursue the training objective").

Operationalization: compute a solution needs = the mean expected exit depth the early-exit MLP
(``models.early_exit``, G9's model and speed penalty λ) settles on when it is charged for depth.
Three penalized runs on the ``setups`` world (target χ_{01}, proxy a_4 at ρ = 0.9, oversight cue a_5
in every input so the inputs are identical), which differ only in the label:
- objective "target": χ_{01} (the directly aligned solution);
- objective "proxy": a_4 (the heuristic);
- objective "gated": χ_{01} when o = +1, a_4 when o = −1 (a model that must infer from the context
  whether it is overseen before deciding what to do: the deceptive signature).
Seeds are classified at the end by ``instruments.model_class.classify``; each class's depth is taken
over the seeds of its own run that reached it ("internal" in the target run, "proxy" in the proxy run,
"context-gated" in the gated run). Statistic: depth(context-gated) − depth(internal), each resampled
on its own, bootstrap 95% CI. Verdict rule (fixed before any run): supported if the CI lies above 0
(the aligned solution is faster); refuted if below 0; inconclusive otherwise, and also when either
class is reached by fewer than 3 seeds (its depth is then not measured).
Class frequencies under a speed penalty are reported from G9's two runs on the default world (the
same runs, not trained twice) as measurements.
"""

from __future__ import annotations

import numpy as np

from greedlab.claims import g9_speed_regularizer as g9
from greedlab.claims import setups
from greedlab.claims.common import INCONCLUSIVE, ClaimResult, Row, bootstrap_ci, verdict_above
from greedlab.claims.context import Context
from greedlab.experiment import RunSpec
from greedlab.instruments.model_class import CLASSES, class_shares
from greedlab.report.figures import class_shares_figure, strips_figure

ID = "H4"
SUMMARY = "Speed bias favours directly aligned models over ones that must infer what to do."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, “Speed Bias”"
QUOTE = "the speed bias favors internally and corrigibly aligned models"
OBJECTIVES = {"target": "internal", "proxy": "proxy", "gated": "context-gated"}
MIN_SEEDS = 3


def conditions(ctx: Context) -> dict[str, RunSpec]:
    out = {f"objective {obj}": ctx.spec(setups.world(rho=0.9, cue=setups.CUE, objective=obj), model=g9.MODEL,
                                         speed_penalty=g9.SPEED) for obj in OBJECTIVES}
    out.update({f"G9 {name}": spec for name, spec in g9.conditions(ctx).items()})
    return out


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    rows, depths, shares = [], {}, {}
    for obj, cls in OBJECTIVES.items():
        r = runs[f"objective {obj}"]
        classes = setups.final_classes(r)
        shares[f"objective {obj}"] = class_shares(classes)
        d = r.final("exit_depth")
        depths[cls] = d[classes == cls]
        rows.append(Row(f"objective {obj}", f"mean exit depth of its {cls} seeds ({len(depths[cls])}/{len(d)})",
                        *bootstrap_ci(depths[cls], np.mean), "measurement", [r.run_id]))
        rows.append(Row(f"objective {obj}", "mean exit depth, all seeds", *bootstrap_ci(d, np.mean), "measurement",
                        [r.run_id]))
    gated, direct = depths["context-gated"], depths["internal"]
    ci = bootstrap_ci([gated, direct], lambda g, i: g.mean() - i.mean())
    enough = min(len(gated), len(direct)) >= MIN_SEEDS
    verdict = verdict_above(ci[1], ci[2], 0.0) if enough else INCONCLUSIVE
    ids = [runs["objective gated"].run_id, runs["objective target"].run_id]
    rows.insert(0, Row("gated − internal", "mean exit depth: difference", *ci, verdict, ids))
    for name in g9.conditions(ctx):
        r = runs[f"G9 {name}"]
        classes = setups.final_classes(r)
        shares[f"default world, {name}"] = class_shares(classes)
        for c in CLASSES:
            n = int(np.sum(classes == c))
            if n:
                rows.append(Row(f"default world, {name}", f"share of class {c}", n / len(classes), n / len(classes),
                                n / len(classes), "measurement", [r.run_id]))
    figs = [strips_figure(ctx.figures_dir / "H4_depth.png", "H4: exit depth under a speed penalty, by class",
                          {"seeds of the intended class": depths}, "mean expected exit depth"),
            class_shares_figure(ctx.figures_dir / "H4_classes.png", "H4: model classes at the end", shares)]
    return ClaimResult(ID, SUMMARY, verdict, rows, figs)
