"""H5 — The smallest models that fit the training data generalize worst ("How likely is deceptive
alignment", §3 Speed Bias).

Operationalization: on the default world (proxy a_4 at ρ = 0.9), MLPs of widths 4 … 256. Among
the seeds that reach training accuracy ≥ 0.99, deployment accuracy against width: Spearman
correlation of width with deployment accuracy (seeds resampled within each width) must be > 0.
Widths where no seed fits are reported and left out. No control: a measurement across sizes.

Real data (greedlab.claims.real_data): the same statistic for MLPs of widths 4 … 128 on digits with
the marker at ρ = 0.9. Not on MNIST-1D: there no MLP of width ≤ 256 fit its training set in the
600 steps of the quick scale (train accuracy 0.92–0.98), so no width would enter the statistic.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.stats import spearmanr

from greedlab.claims import real_data
from greedlab.claims.common import INCONCLUSIVE, ClaimResult, Row, bootstrap_ci, verdict_above
from greedlab.claims.context import Context
from greedlab.claims.presets import world
from greedlab.experiment import RunResult, RunSpec
from greedlab.models import MLPConfig
from greedlab.report.figures import final_vs_condition_figure

ID = "H5"
SUMMARY = "The smallest models that fit the training data generalize worst."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, §3 “Low Path Dependence”, Speed Bias"
QUOTE = ("Empirically, the smallest models which perfectly fit the training data generalize terribly to the test "
         "dataset, as they overfit to the training set while larger models learn simpler and better-generalizing "
         "algorithms.")
RHO = 0.9
WIDTHS = (4, 8, 16, 32, 64, 256)
REAL_DATASET = "digits"
REAL_WIDTHS = (4, 8, 16, 64, 128)  # every width ≥ 16 fit digits; 256 cost as much as the rest together
FITS = 0.99


def conditions(ctx: Context) -> dict[str, RunSpec]:
    specs = {f"width={w}": ctx.spec(world(RHO), model=MLPConfig(width=w)) for w in WIDTHS}
    specs.update({real_data.name(REAL_DATASET, f"width={w}"): real_data.spec(ctx, REAL_DATASET, RHO,
                                                                            model=MLPConfig(width=w))
                  for w in REAL_WIDTHS})
    return specs


def analyse(runs: dict[int, RunResult], name: Callable[[str], str] = str) -> tuple[Row, list[Row], list, list]:
    """(headline row, per-width rows, widths that fit, their fitting seeds' deployment accuracies)."""
    rows, widths, accs = [], [], []
    for w, r in runs.items():
        fit = r.final("train_acc") >= FITS
        acc = r.final("deploy_acc")
        rows.append(Row(name(f"width={w}"), f"fraction of seeds fitting train (≥ {FITS})",
                        *bootstrap_ci(fit, np.mean), "measurement", [r.run_id]))
        if fit.any():
            rows.append(Row(name(f"width={w}"), "deployment accuracy of fitting seeds",
                            *bootstrap_ci(acc[fit], np.mean), "measurement", [r.run_id]))
            widths.append(w)
            accs.append(acc[fit])
    ids = [r.run_id for r in runs.values()]
    if len(widths) >= 2:
        def corr(*groups):
            x = np.concatenate([np.full(len(g), w) for w, g in zip(widths, groups)])
            y = np.concatenate(groups)
            return 0.0 if np.ptp(y) == 0 else spearmanr(x, y).statistic

        ci = bootstrap_ci(accs, corr)
        head = Row(name("fitting seeds, all widths"), "Spearman(width, deployment accuracy)", *ci,
                   verdict_above(ci[1], ci[2], 0.0), ids)
    else:
        head = Row(name("fitting seeds, all widths"), "Spearman(width, deployment accuracy): < 2 widths fit",
                   float("nan"), float("nan"), float("nan"), INCONCLUSIVE, ids)
    return head, rows, widths, accs


def run(ctx: Context) -> ClaimResult:
    named = ctx.run_all(ID, conditions(ctx))
    head, rows, widths, accs = analyse({w: named[f"width={w}"] for w in WIDTHS})
    rows.insert(0, head)
    real = {w: named[real_data.name(REAL_DATASET, f"width={w}")] for w in REAL_WIDTHS}
    r_head, r_rows, _, _ = analyse(real, lambda c: real_data.name(REAL_DATASET, c))
    rows += [r_head] + r_rows + [real_data.verdict_row(REAL_DATASET, r_head.verdict, r_head.run_ids)]
    fig = final_vs_condition_figure(ctx.figures_dir / "H5_width.png", "H5: deployment accuracy of models that fit",
                                    widths, accs, [str(w) for w in widths], "hidden width",
                                    "deployment accuracy (train acc ≥ 0.99)") if widths else None
    return ClaimResult(ID, SUMMARY, head.verdict, rows, [fig] if fig else [])
