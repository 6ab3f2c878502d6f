"""G1 — SGD attaches heuristics to upstream correlates (proxies) of the target before the target
is represented ("Greed Is the Root of This Evil", §1: "If the world-model doesn't yet represent the
target abstraction, the SGD will attach heuristics to upstream correlates/proxies of that abstraction").

Operationalization: on the default hierarchy world (target χ_{0123}, proxy a_4 at ρ = 0.9),
per seed: proxy-reliance onset, target-reliance onset and target-decodability onset (best hidden
layer ≥ 0.9). Statistics, each with a bootstrap 95% CI across seeds:
- lead of target reliance over proxy reliance, log10((t_target+1)/(t_proxy+1)) > 0;
- lead of target decodability over proxy reliance, same form, > 0;
- peak proxy reliance > 0.5.
Control ρ = 0.5 (proxy uncorrelated in training): peak proxy reliance must stay below 0.5.

Real data (greedlab.claims.real_data): the same statistics on MNIST-1D and digits, where the target
is the class group and the proxy a marker agreeing with it at ρ = 0.9; control ρ = 0.5.
"""

from __future__ import annotations


import numpy as np

from greedlab.claims import real_data
from greedlab.claims.presets import best_decodability, world
from greedlab.claims.common import (ClaimResult, Row, bootstrap_ci, combine, control_row, log_lead,
                                    verdict_above)
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import REPRESENTED, RELIANCE_ONSET, onset
from greedlab.report.figures import reliance_figure

ID = "G1"
SUMMARY = "SGD attaches heuristics to proxies of the target before the target is represented."
SOURCE = "greed-is-the-root-of-this-evil.txt, §1 “What does that mean mechanically?”"
QUOTE = ("If the world-model doesn't yet represent the target abstraction, the SGD will attach heuristics to "
         "upstream correlates/proxies of that abstraction.")
RHO, CONTROL_RHO = 0.9, 0.5


def onsets(r: RunResult) -> dict[str, np.ndarray]:
    return {
        "proxy": onset(r.steps, r.curve("reliance", "proxy0"), RELIANCE_ONSET),
        "target": onset(r.steps, r.curve("reliance", "target"), RELIANCE_ONSET),
        "target_decodable": onset(r.steps, best_decodability(r, "target"), REPRESENTED),
    }


def conditions(ctx: Context) -> dict[str, RunSpec]:
    specs = {f"rho={RHO}": ctx.spec(world(RHO)), f"control rho={CONTROL_RHO}": ctx.spec(world(CONTROL_RHO))}
    specs.update(real_data.conditions(ctx, (RHO,)))
    return specs


def analyse(main: RunResult, ctrl: RunResult, cond: str, ctrl_cond: str) -> tuple[list[Row], str]:
    """The three statistics on ``main`` and the control on ``ctrl``; the verdict by the rule."""
    steps = main.spec.train.steps
    on = onsets(main)
    rows = []
    for name, late in (("target reliance", on["target"]), ("target decodability", on["target_decodable"])):
        ci = bootstrap_ci(log_lead(on["proxy"], late, steps), np.mean)
        rows.append(Row(cond, f"log10 lead of {name} onset over proxy onset", *ci,
                        verdict_above(ci[1], ci[2], 0.0), [main.run_id]))
    peak = main.curve("reliance", "proxy0").max(axis=1)
    ci = bootstrap_ci(peak, np.mean)
    rows.append(Row(cond, "peak proxy reliance", *ci, verdict_above(ci[1], ci[2], 0.5), [main.run_id]))
    ctrl_peak = bootstrap_ci(ctrl.curve("reliance", "proxy0").max(axis=1), np.mean)
    ctrl_ok = ctrl_peak[2] < 0.5
    rows.append(control_row(ctrl_cond, "peak proxy reliance", ctrl_peak, ctrl_ok, [ctrl.run_id]))
    return rows, combine([r.verdict for r in rows[:3]], ctrl_ok)


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    cond, ctrl_cond = f"rho={RHO}", f"control rho={CONTROL_RHO}"
    main, ctrl = runs[cond], runs[ctrl_cond]
    rows, verdict = analyse(main, ctrl, cond, ctrl_cond)
    for ds in real_data.DATASETS:
        r_cond, r_ctrl = real_data.name(ds, cond), real_data.name(ds, ctrl_cond)
        r_rows, r_verdict = analyse(runs[r_cond], runs[r_ctrl], r_cond, r_ctrl)
        # a real class is not built to be absent at the start: say when it was decodable from step 0
        # (the decodability lead is then ≤ 0) or never (the lead is then a censored lower bound)
        dec = onsets(runs[r_cond])["target_decodable"]
        for what, hit in (("at step 0", dec == 0), ("never", ~np.isfinite(dec))):
            r_rows.append(Row(r_cond, f"fraction of seeds with the target decodable {what}",
                              *bootstrap_ci(hit.astype(float), np.mean), "measurement", [runs[r_cond].run_id]))
        rows += r_rows + [real_data.verdict_row(ds, r_verdict, [i for r in r_rows for i in r.run_ids])]
    curves = [("reliance", "proxy0", "proxy reliance"), ("reliance", "target", "target reliance")]
    extra = ("target decodability (best layer)", lambda r: best_decodability(r, "target"))
    figs = [reliance_figure(ctx.figures_dir / "G1_reliance.png", "G1: proxy before target",
                            {cond: main, ctrl_cond: ctrl}, curves, extra=extra),
            reliance_figure(ctx.figures_dir / "G1_reliance_real.png", "G1 on real data: marker before class",
                            {real_data.name(ds, cond): runs[real_data.name(ds, cond)] for ds in real_data.DATASETS},
                            curves, extra=extra)]
    return ClaimResult(ID, SUMMARY, verdict, rows, figs)
