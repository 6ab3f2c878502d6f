"""H7 — Corrigible (pointer) alignment is reached sooner than internal alignment ("How likely is
deceptive alignment", summary: "the corrigibly aligned path is probably shorter than the internally
aligned path").

Operationalization, per architecture (MLP, tiny transformer), on the ``setups`` world (target χ_{01},
proxy a_4 at ρ = 0.9 in training, commands naming sets of 1–2 of latents 0..7):
- internal: the objective is fixed (no command shown); steps until deployment accuracy ≥ 0.9;
- pointer: the objective is given as a command; the training commands include the target's set
  {0, 1} among 28; steps until accuracy ≥ 0.9 on deployment samples commanded {0, 1}.
Both see the same number of steps and examples; the pointer sees the target's set in 1/28 of them,
the price of having to follow any command. Statistic per architecture: log10 lead of the pointer
over the internal model, log10((t_internal+1)/(t_pointer+1)), never-reached censored one step past
the end. Supported if its CI lies above 0 for every architecture, refuted if below for every one.
Also reported: held-out command accuracy of the pointer (does it follow sets it never saw?).
A comparison of two paths: CLAIMS.md gives no control.
"""

from __future__ import annotations

import numpy as np

from greedlab.claims import setups
from greedlab.claims.common import ClaimResult, Row, all_agree, bootstrap_ci, censor, verdict_above
from greedlab.claims.context import Context
from greedlab.experiment import RunSpec
from greedlab.instruments import onset
from greedlab.instruments.model_class import class_shares
from greedlab.report.figures import class_shares_figure, reliance_figure

ID = "H7"
SUMMARY = "Corrigible (pointer) alignment is reached sooner than internal alignment."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, “Corrigible Alignment”"
QUOTE = "the corrigibly aligned path is probably shorter than the internally aligned path"
RHO = 0.9
GENERALIZED = 0.9
ARCHS = ("mlp", "transformer")


def conditions(ctx: Context) -> dict[str, RunSpec]:
    archs = setups.architectures(ctx)
    train, held = setups.commands()
    kw = dict(commands=train, heldout_commands=held)
    out = {}
    for a in ARCHS:
        model, n = archs[a]
        for name, objective in (("internal", "target"), ("pointer", "command")):
            st = ctx.stage(setups.world(rho=RHO, objective=objective, **kw), ctx.scale.steps, name=name)
            out[f"{a}: {name}"] = ctx.curriculum([st], model=model, n_seeds=n)
    return out


def _log_steps(t: np.ndarray, steps: int) -> np.ndarray:
    return np.log10(censor(t, steps) + 1)


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    rows, parts = [], []
    for a in ARCHS:
        internal, pointer = runs[f"{a}: internal"], runs[f"{a}: pointer"]
        steps = ctx.scale.steps
        t_int = onset(internal.steps, internal.curve("deploy_acc"), GENERALIZED)
        t_ptr = onset(pointer.steps, pointer.curve("command_acc", "target"), GENERALIZED)
        # the two runs train different models: resample each run's seeds on its own
        ci = bootstrap_ci([_log_steps(t_ptr, steps), _log_steps(t_int, steps)], lambda p, i: i.mean() - p.mean())
        rows.append(Row(a, "log10 lead of pointer over internal (steps to ≥ 0.9 deployment accuracy)", *ci,
                        verdict_above(ci[1], ci[2], 0.0), [pointer.run_id, internal.run_id]))
        parts.append(rows[-1].verdict)
        for name, t in (("internal", t_int), ("pointer", t_ptr)):
            reached = int(np.isfinite(t).sum())
            rows.append(Row(f"{a}: {name}", f"median steps to ≥ 0.9 ({reached}/{len(t)} seeds reached; "
                            "never = one past the end)", *bootstrap_ci(censor(t, steps), np.median), "measurement",
                            [runs[f"{a}: {name}"].run_id]))
        c = bootstrap_ci(pointer.final("command_acc", "heldout"), np.mean)
        rows.append(Row(f"{a}: pointer", "final held-out command accuracy", *c, "measurement", [pointer.run_id]))
    verdict = all_agree(parts)
    shares = {name: class_shares(setups.final_classes(r)) for name, r in runs.items()}
    figs = [class_shares_figure(ctx.figures_dir / "H7_classes.png", "H7: model classes at the end", shares)]
    figs += [reliance_figure(ctx.figures_dir / f"H7_{a}.png", f"H7 ({a}): fixed objective vs objective as a command",
                            {"internal": runs[f"{a}: internal"], "pointer": runs[f"{a}: pointer"]},
                            [("deploy_acc", "", "deployment accuracy (own objective)"),
                             ("command_acc", "target", "accuracy when commanded the target"),
                             ("command_acc", "heldout", "held-out command accuracy")]) for a in ARCHS]
    return ClaimResult(ID, SUMMARY, verdict, rows, figs)
