"""G2 — The world model is learned gradually: higher-level features become represented only after
the lower-level ones they build on ("Greed Is the Root of This Evil", §1: "higher-level
features/statistical correlations build upon lower-level ones, and therefore the gradients towards
learning them only appear after the lower-level ones are learned").

Operationalization: a staircase world S1 = {0} ⊂ S2 = {0,1} ⊂ S3 = {0,1,2} ⊂ T = {0,1,2,3}
(each step agreeing with the target at a rising rate). Per seed, the decodability onset
(best hidden layer ≥ 0.9) of each step; statistic: the Spearman rank correlation of level with
onset, averaged over seeds, with a bootstrap CI; supported when it is > 0.

Control (features of equal level, no staircase): four disjoint level-2 proxies at equal agreement,
ranked 1–4 by their order in the config. The same statistic must show no ordering: its CI must
contain 0.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from greedlab.claims.common import ClaimResult, Row, bootstrap_ci, censor, combine, control_row, verdict_above
from greedlab.claims.context import Context
from greedlab.claims.presets import best_decodability
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import REPRESENTED, onset
from greedlab.report.figures import curves_figure, onset_by_level_figure
from greedlab.worlds import HierarchyConfig, Proxy, StaircaseStep

ID = "G2"
SUMMARY = "The world model is learned gradually: higher-level features are represented after lower-level ones."
SOURCE = "greed-is-the-root-of-this-evil.txt, §1 “What does that mean mechanically?”"
QUOTE = ("The world-model can only be learned gradually, because higher-level features/statistical correlations "
         "build upon lower-level ones, and therefore the gradients towards learning them only appear after the "
         "lower-level ones are learned.")

STAIRCASE = HierarchyConfig(proxies=(), staircase=(StaircaseStep((0,), 0.65), StaircaseStep((0, 1), 0.75),
                                                   StaircaseStep((0, 1, 2), 0.85)))
STAIR_FEATURES = ["step1", "step2", "step3", "target"]
CONTROL = HierarchyConfig(proxies=tuple(Proxy((4 + 2 * k, 5 + 2 * k), 0.85) for k in range(4)))
CONTROL_FEATURES = ["proxy0", "proxy1", "proxy2", "proxy3"]


def level_onset_correlation(levels: list[int], onsets: np.ndarray) -> np.ndarray:
    """Per seed: Spearman correlation of level with (censored) onset; 0 where onsets all tie."""
    out = np.zeros(len(onsets))
    for i, row in enumerate(onsets):
        if np.ptp(row) > 0:
            out[i] = spearmanr(levels, row).statistic
    return out


def decodability_onsets(r: RunResult, features: list[str]) -> np.ndarray:
    """(N, F) onset steps (inf = never) of the best layer's decodability of each feature."""
    return np.stack([onset(r.steps, best_decodability(r, f), REPRESENTED) for f in features], axis=1)


def conditions(ctx: Context) -> dict[str, RunSpec]:
    return {"staircase": ctx.spec(STAIRCASE), "control: equal levels": ctx.spec(CONTROL)}


def run(ctx: Context) -> ClaimResult:
    main, ctrl = ctx.run_all(ID, conditions(ctx)).values()
    steps = main.spec.train.steps
    levels = [len(main.spec.world.staircase[k].latents) for k in range(3)] + [len(main.spec.world.target)]
    on = decodability_onsets(main, STAIR_FEATURES)
    ci = bootstrap_ci(level_onset_correlation(levels, censor(on, steps)), np.mean)
    rows = [Row("staircase", "Spearman(level, decodability onset), mean over seeds", *ci,
                verdict_above(ci[1], ci[2], 0.0), [main.run_id])]
    for f, lev, col in zip(STAIR_FEATURES, levels, on.T):
        rows.append(Row("staircase", f"median decodability onset of {f} (level {lev}); never={steps + 1}",
                        *bootstrap_ci(censor(col, steps), np.median), "measurement", [main.run_id]))
    c_on = decodability_onsets(ctrl, CONTROL_FEATURES)
    ranks = [1, 2, 3, 4]
    cci = bootstrap_ci(level_onset_correlation(ranks, censor(c_on, steps)), np.mean)
    ctrl_ok = cci[1] <= 0.0 <= cci[2]
    rows.append(control_row("control: equal levels, no staircase", "Spearman(assigned rank, onset)", cci,
                            ctrl_ok, [ctrl.run_id]))
    figs = [
        onset_by_level_figure(ctx.figures_dir / "G2_onsets.png", "G2: decodability onset by level",
                              {"staircase": (levels, on), "control: equal levels": (ranks, c_on)}, steps),
        curves_figure(ctx.figures_dir / "G2_decodability.png", "G2: decodability of staircase steps", main.steps,
                      {f: best_decodability(main, f) for f in STAIR_FEATURES}, "probe accuracy (best layer)",
                      threshold=REPRESENTED),
    ]
    return ClaimResult(ID, SUMMARY, combine([rows[0].verdict], ctrl_ok), rows, figs)

