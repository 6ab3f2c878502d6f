"""G5 — A general-purpose capability learned late gets pointed at the existing heuristics, not at the
base objective ("Greed Is the Root of This Evil", §2: "So the SGD will enslave the GPS to the
heuristics").

Operationalization, per architecture (MLP, tiny transformer), on the ``setups`` world (target
χ_{01}, proxy a_4 at ρ = 0.9, commands naming sets of 1–2 of latents 0..7, 8 held out):
1. heuristics: train on the proxy a_4 alone (no command shown);
2. general commanded computation ("GPS" in miniature): train on χ_S for commanded sets S;
3. base objective: train on χ_{01} with the proxy at ρ = 0.9 (no command shown).
Control: the same stages 2 and 3 without stage 1.
Statistic: final proxy reliance at deployment, "with heuristics first" minus control (seeds of the
two runs resampled independently). Supported if its CI lies above 0, refuted if below. The GPS
must exist for the claim to be tested: held-out command accuracy at the end of stage 2 must reach
0.9 (mean over seeds, in both runs), else the verdict is inconclusive.
"""

from __future__ import annotations

import numpy as np

from greedlab.claims import setups
from greedlab.claims.common import INCONCLUSIVE, ClaimResult, Row, any_supports, bootstrap_ci, verdict_above
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments.model_class import class_shares
from greedlab.report.figures import class_shares_figure, reliance_figure

ID = "G5"
SUMMARY = "A general capability learned late gets pointed at the existing heuristics, not at the base objective."
SOURCE = "greed-is-the-root-of-this-evil.txt, §2 “How does that lead to inner misalignment?”"
QUOTE = "So the SGD will enslave the GPS to the heuristics."
RHO = 0.9
GPS_LEARNED = 0.9
ARCHS = ("mlp", "transformer")
CONDITIONS = ("heuristics first", "control no proxy stage")


def stages(ctx: Context, condition: str):
    steps = ctx.scale.steps
    train, held = setups.commands()
    kw = dict(commands=train, heldout_commands=held)
    heur = ctx.stage(setups.world(rho=RHO, objective="proxy", **kw), max(steps // 3, 1), n_evals=10,
                     name="proxy heuristics")
    gps = ctx.stage(setups.world(rho=RHO, objective="command", **kw), steps, n_evals=14, name="commanded parity")
    base = ctx.stage(setups.world(rho=RHO, **kw), steps, n_evals=20, name="base objective")
    return [heur, gps, base] if condition == "heuristics first" else [gps, base]


def conditions(ctx: Context) -> dict[str, RunSpec]:
    archs = setups.architectures(ctx)
    return {f"{a}: {c}": ctx.curriculum(stages(ctx, c), model=archs[a][0], n_seeds=archs[a][1])
            for a in ARCHS for c in CONDITIONS}


def gps_accuracy(r: RunResult) -> np.ndarray:
    """Held-out command accuracy per seed at the end of the command stage."""
    stage = r.curve("stage")[0]
    gps_stage = int(stage.max()) - 1  # the command stage is the one before the last
    k = int(np.nonzero(stage == gps_stage)[0][-1])
    return r.curve("command_acc", "heldout")[:, k]


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    rows, parts, gps_ok = [], [], True
    for a in ARCHS:
        first, ctrl = runs[f"{a}: heuristics first"], runs[f"{a}: control no proxy stage"]
        ci = bootstrap_ci([first.final("reliance", "proxy0"), ctrl.final("reliance", "proxy0")],
                          lambda x, y: x.mean() - y.mean())
        rows.append(Row(f"{a}: heuristics first − control", "final proxy reliance difference", *ci,
                        verdict_above(ci[1], ci[2], 0.0), [first.run_id, ctrl.run_id]))
        parts.append(rows[-1].verdict)
        for name, r in (("heuristics first", first), ("control no proxy stage", ctrl)):
            for feat in ("proxy0", "target"):
                c = bootstrap_ci(r.final("reliance", feat), np.mean)
                rows.append(Row(f"{a}: {name}", f"final {feat} reliance", *c, "measurement", [r.run_id]))
            c = bootstrap_ci(gps_accuracy(r), np.mean)
            learned = c[0] >= GPS_LEARNED
            gps_ok &= learned
            rows.append(Row(f"{a}: {name}", "held-out command accuracy after the command stage", *c,
                            "GPS learned" if learned else "GPS NOT learned", [r.run_id]))
    # any architecture showing it is evidence; refuted only if every one refutes
    verdict = any_supports(parts) if gps_ok else INCONCLUSIVE
    shares = {name: class_shares(setups.final_classes(r)) for name, r in runs.items()}
    figs = [class_shares_figure(ctx.figures_dir / "G5_classes.png", "G5: model classes at the end", shares)]
    figs += [reliance_figure(ctx.figures_dir / f"G5_{a}.png", f"G5 ({a}): heuristics → commands → base objective",
                            {c: runs[f"{a}: {c}"] for c in CONDITIONS},
                            [("reliance", "proxy0", "proxy reliance"), ("reliance", "target", "target reliance"),
                             ("command_acc", "heldout", "held-out command accuracy")]) for a in ARCHS]
    return ClaimResult(ID, SUMMARY, verdict, rows, figs)
