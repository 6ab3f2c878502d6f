"""H6 — The path to internal alignment is long: performance gain per step toward the exact target
decays ("How likely is deceptive alignment", §2 Internal Alignment).

Operationalization, on the default world (the runs G3 also uses), per seed:
(a) path length: steps from proxy-level training accuracy (train accuracy ≥ ρ, what the proxy alone
    gives) to ≥ 0.99 deployment accuracy (the target learned). Statistic: log10 of the mean path
    at ρ = 0.9 over the mean steps to 0.99 deployment accuracy from initialization at ρ = 0.5
    (control: no proxy to be fit first). Supported when > 0.
(b) decay of the gain per step: deployment-accuracy gain per step over the second half of each
    seed's path divided by that over the first half. Supported when < 1.
Never reaching 0.99 counts as reaching it one step after the end (a conservative lower bound).
"""

from __future__ import annotations

import numpy as np

from greedlab.claims.common import ClaimResult, Row, bootstrap_ci, censor, combine, verdict_above, verdict_below
from greedlab.claims.context import Context
from greedlab.claims.presets import world
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import onset
from greedlab.report.figures import reliance_figure

ID = "H6"
SUMMARY = "The path to internal alignment is long: the gain per step toward the exact target decays."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, §2 “High Path Dependence”, Internal Alignment"
QUOTE = ("Because there are diminishing performance returns to making the model's proxy more aligned with the "
         "training objective, the performance gain per step towards internal alignment eventually becomes very low.")
RHO, CONTROL_RHO = 0.9, 0.5
ALIGNED = 0.99


def conditions(ctx: Context) -> dict[str, RunSpec]:
    return {f"rho={RHO}": ctx.spec(world(RHO)), f"control rho={CONTROL_RHO}": ctx.spec(world(CONTROL_RHO))}


def path(r: RunResult, rho: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the seeds that reach proxy-level train accuracy: (their indices, that step, the step of
    ≥ 0.99 deployment accuracy censored one past the end). Seeds that never fit even the proxy
    have no path."""
    start = onset(r.steps, r.curve("train_acc"), rho - 1e-9)
    done = censor(onset(r.steps, r.curve("deploy_acc"), ALIGNED), int(r.steps[-1]))
    seeds = np.flatnonzero(np.isfinite(start))
    return seeds, start[seeds], np.maximum(done[seeds], start[seeds])


def gain_decay(r: RunResult, seeds: np.ndarray, start: np.ndarray, done: np.ndarray) -> np.ndarray:
    """Per seed of ``path``: deploy-accuracy gain per step in the path's second half over its first half."""
    acc = r.curve("deploy_acc")[seeds]
    out = np.full(len(acc), np.nan)
    for i in range(len(acc)):
        mid = (start[i] + done[i]) / 2
        a0, am, a1 = (np.interp(t, r.steps, acc[i]) for t in (start[i], mid, min(done[i], r.steps[-1])))
        first = (am - a0) / max(mid - start[i], 1)
        second = (a1 - am) / max(done[i] - mid, 1)
        if first > 0:
            out[i] = second / first
    return out


def run(ctx: Context) -> ClaimResult:
    main, ctrl = ctx.run_all(ID, conditions(ctx)).values()
    seeds, s, d = path(main, RHO)
    cseeds, cs, cd = path(ctrl, CONTROL_RHO)
    rows = []
    if len(s) >= 2 and len(cs) >= 2:
        ci = bootstrap_ci([d - s, cd - cs], lambda a, b: np.log10((a.mean() + 1) / (b.mean() + 1)))
        rows.append(Row(f"rho={RHO} vs {CONTROL_RHO}", "(a) log10 path length ratio (proxy-level → 0.99 deploy acc)",
                        *ci, verdict_above(ci[1], ci[2], 0.0), [main.run_id, ctrl.run_id]))
    else:
        rows.append(Row(f"rho={RHO} vs {CONTROL_RHO}", "(a) path length ratio: fewer than 2 seeds reach proxy level",
                        float("nan"), float("nan"), float("nan"), "inconclusive", [main.run_id, ctrl.run_id]))
    rows.append(Row(f"rho={RHO}", "path length in steps (mean)", *bootstrap_ci(d - s, np.mean), "measurement",
                    [main.run_id]))
    rows.append(Row(f"control rho={CONTROL_RHO}", "steps from init to 0.99 deploy acc (mean)",
                    *bootstrap_ci(cd - cs, np.mean), "measurement", [ctrl.run_id]))
    decay = gain_decay(main, seeds, s, d)
    decay = decay[np.isfinite(decay)]
    if len(decay) >= 2:
        cb = bootstrap_ci(decay, np.mean)
        part_b = Row(f"rho={RHO}", "(b) gain per step, 2nd half of path / 1st half", *cb,
                     verdict_below(cb[1], cb[2], 1.0), [main.run_id])
    else:
        part_b = Row(f"rho={RHO}", "(b) gain per step, 2nd half of path / 1st half (no seed gained)",
                     float("nan"), float("nan"), float("nan"), "inconclusive", [main.run_id])
    rows.append(part_b)
    cdecay = gain_decay(ctrl, cseeds, cs, cd)
    cdecay = cdecay[np.isfinite(cdecay)]
    if len(cdecay) >= 2:
        rows.append(Row(f"control rho={CONTROL_RHO}", "gain per step, 2nd half / 1st half",
                        *bootstrap_ci(cdecay, np.mean), "measurement", [ctrl.run_id]))
    fig = reliance_figure(ctx.figures_dir / "H6_accuracy.png", "H6: from proxy-level accuracy to the target",
                          {f"rho={RHO}": main, f"control rho={CONTROL_RHO}": ctrl},
                          [("train_acc", "", "train accuracy"), ("deploy_acc", "", "deployment accuracy"),
                           ("train_loss", "", "train loss")])
    return ClaimResult(ID, SUMMARY, combine([rows[0].verdict, part_b.verdict], True), rows, [fig])
