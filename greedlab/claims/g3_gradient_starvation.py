"""G3 — Gradient starvation: once heuristics fit, the gradient toward the target abstraction
vanishes even though learning it would improve accuracy ("Greed Is the Root of This Evil", §1:
"Once there's enough messy hacks, the SGD won't bother attaching heuristics to the target
abstraction even after it's represented in the world-model ... The gradients just aren't there").

Three parts, each a statistic with a bootstrap 95% CI across seeds:
(a) final target reliance falls as ρ rises: Spearman correlation of ρ with final target reliance
    over all seeds of ρ ∈ {0.5, 0.8, 0.9, 0.97, 1.0} must be < 0, with mean final train
    accuracy ≥ 0.95 in every condition (the proxy fits the training data; nothing is underfit);
(b) the functional gradient signal toward χ_T collapses after proxy fit: at ρ = 0.9, the signal
    at the step where proxy reliance peaks (the proxy is fit) divided by its value at step 0
    must be < 0.5;
(c) the target is learned faster with the proxy absent (ρ = 0.5) than present (ρ = 0.9):
    log10 lead of the present condition's target onset over the absent one's must be > 0.
Control ρ = 0.5: at the same step as (b), the target signal ratio must stay ≥ 0.5 (no collapse
without a proxy to fit).

Real data (greedlab.claims.real_data): the same three parts and control on MNIST-1D and digits
(class group as target, marker as proxy) at ρ ∈ {0.5, 0.9, 0.97, 1.0}.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.stats import spearmanr

from greedlab.claims import real_data
from greedlab.claims.common import (ClaimResult, Row, bootstrap_ci, censor, combine, control_row, verdict_above,
                                    verdict_below)
from greedlab.claims.context import Context
from greedlab.claims.presets import world
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import RELIANCE_ONSET, onset
from greedlab.report.figures import final_vs_condition_figure, reliance_figure

ID = "G3"
SUMMARY = "Gradient starvation: once proxies fit, the gradient toward the target vanishes."
SOURCE = "greed-is-the-root-of-this-evil.txt, §1 “What does that mean mechanically?”"
QUOTE = ("Once there's enough messy hacks, the SGD won't bother attaching heuristics to the target abstraction even "
         "after it's represented in the world-model — because if the extant messy hacks approximate the target "
         "abstraction well enough, there's very little performance-improvement to be gained by marginally "
         "improving the accuracy so.")
RHOS = (0.5, 0.8, 0.9, 0.97, 1.0)
REAL_RHOS = (0.5, 0.9, 0.97, 1.0)  # one ρ fewer: a CNN model-step costs ~3 hierarchy-MLP steps on CPU
MAIN_RHO, CONTROL_RHO = 0.9, 0.5
FITS = 0.95


def signal_ratio_at(r: RunResult, step: float) -> np.ndarray:
    """Per seed: target gradient signal at the first evaluation ≥ ``step`` over its value at step 0."""
    sig = r.curve("gradient_signal", "target")
    k = int(np.searchsorted(r.steps, step))
    k = min(k, len(r.steps) - 1)
    return sig[:, k] / sig[:, 0]


def conditions(ctx: Context) -> dict[str, RunSpec]:
    specs = {f"rho={rho}": ctx.spec(world(rho)) for rho in RHOS}
    specs.update(real_data.conditions(ctx, REAL_RHOS, control=False))
    return specs


def analyse(runs: dict[float, RunResult], name: Callable[[str], str] = str) -> tuple[list[Row], str]:
    """Parts (a)–(c) and the control on one ensemble per ρ (``runs`` must hold MAIN_RHO and
    CONTROL_RHO); ``name`` turns a condition into its row label. Returns the rows and the verdict."""
    rhos = sorted(runs)
    main, ctrl = runs[MAIN_RHO], runs[CONTROL_RHO]
    steps = main.spec.train.steps
    rows: list[Row] = []

    # (a) dose-response of final target reliance on ρ
    finals = [runs[rho].final("reliance", "target") for rho in rhos]

    def corr(*groups):
        x = np.concatenate([np.full(len(g), rho) for rho, g in zip(rhos, groups)])
        return spearmanr(x, np.concatenate(groups)).statistic

    ci = bootstrap_ci(finals, corr)
    fit = {rho: float(runs[rho].final("train_acc").mean()) for rho in rhos}
    all_fit = min(fit.values()) >= FITS
    va = verdict_below(ci[1], ci[2], 0.0) if all_fit else "inconclusive"
    ids = [runs[r].run_id for r in rhos]
    part_a = Row(name("rho in " + ",".join(map(str, rhos))), "(a) Spearman(rho, final target reliance)", *ci, va, ids)
    rows.append(part_a)
    for rho, f in zip(rhos, finals):
        m = bootstrap_ci(f, np.mean)
        rows.append(Row(name(f"rho={rho}"), f"final target reliance (train acc {fit[rho]:.3f})", *m, "measurement",
                        [runs[rho].run_id]))

    # (b) collapse of the target's gradient signal once the proxy fits
    proxy = main.curve("reliance", "proxy0")
    t_fit = main.steps[proxy.argmax(axis=1)]  # per seed: the step at which the proxy is fit best
    at = float(np.median(t_fit))
    ratio = np.array([signal_ratio_at(main, t)[i] for i, t in enumerate(t_fit)])
    ci_b = bootstrap_ci(ratio, np.mean)
    part_b = Row(name(f"rho={MAIN_RHO}"), "(b) target gradient signal at peak proxy reliance / at step 0", *ci_b,
                 verdict_below(ci_b[1], ci_b[2], 0.5), [main.run_id])
    rows.append(part_b)
    ci_ctrl = bootstrap_ci(signal_ratio_at(ctrl, at), np.mean)
    ctrl_ok = ci_ctrl[1] >= 0.5
    rows.append(control_row(name(f"control rho={CONTROL_RHO}"), f"target gradient signal at step {at:.0f} / at step 0",
                            ci_ctrl, ctrl_ok, [ctrl.run_id]))

    # (c) the proxy's presence delays the target
    t_present = censor(onset(main.steps, main.curve("reliance", "target"), RELIANCE_ONSET), steps)
    t_absent = censor(onset(ctrl.steps, ctrl.curve("reliance", "target"), RELIANCE_ONSET), steps)
    ci_c = bootstrap_ci([np.log10(t_present + 1), np.log10(t_absent + 1)], lambda p, a: p.mean() - a.mean())
    part_c = Row(name(f"rho={MAIN_RHO} vs {CONTROL_RHO}"), "(c) log10 delay of target onset, proxy present vs absent",
                 *ci_c, verdict_above(ci_c[1], ci_c[2], 0.0), [main.run_id, ctrl.run_id])
    rows.append(part_c)
    return rows, combine([part_a.verdict, part_b.verdict, part_c.verdict], ctrl_ok)


def run(ctx: Context) -> ClaimResult:
    named = ctx.run_all(ID, conditions(ctx))
    runs = {rho: named[f"rho={rho}"] for rho in RHOS}
    rows, verdict = analyse(runs)
    for ds in real_data.DATASETS:
        real = {rho: named[real_data.name(ds, f"rho={rho}")] for rho in REAL_RHOS}
        r_rows, r_verdict = analyse(real, lambda c, ds=ds: real_data.name(ds, c))
        rows += r_rows + [real_data.verdict_row(ds, r_verdict, [i for r in r_rows for i in r.run_ids])]
    main, ctrl = runs[MAIN_RHO], runs[CONTROL_RHO]
    finals = [runs[rho].final("reliance", "target") for rho in RHOS]
    figs = [
        final_vs_condition_figure(ctx.figures_dir / "G3_final_target.png", "G3: final target reliance vs ρ",
                                  list(RHOS), finals, [str(r) for r in RHOS], "proxy agreement ρ in training",
                                  "final target reliance"),
        reliance_figure(ctx.figures_dir / "G3_gradient_signal.png", "G3: gradient signal on the training set",
                        {f"rho={MAIN_RHO}": main, f"control rho={CONTROL_RHO}": ctrl},
                        [("gradient_signal", "target", "signal toward target"),
                         ("gradient_signal", "proxy0", "signal toward proxy"),
                         ("reliance", "target", "target reliance")]),
    ]
    return ClaimResult(ID, SUMMARY, verdict, rows, figs)
