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

Intervention ("builds upon" is shown by a delay, not by the rank correlation alone): a step is taken
away and the higher features must come later. Reference: the staircase plus an unrelated level-2
feature χ_{89} agreeing with the label at 0.75, as S2 does (``WITH_OTHER``). Intervention arm: the
reference without S2 = {0,1} (``WITHOUT_STEP``: χ_{01} is independent of the label in training, S1
and S3 keep their rates). Per member, paired by world, init and data order (the arms hold the main
arm's members): the log10 ratio of the decodability onsets (best layer ≥ 0.9, interpolated between
evaluations by ``presets.crossing``; 'never' one step past the end, which understates a delay) of S3
and of T, without S2 over with it; mean over members, bootstrap-t interval over worlds. Each of S3
and T supported when the interval lies above 0 by MARGIN_DELAY = 0.1 decades (×1.26), refuted when
wholly below 0; the part is supported when both are (``common.all_agree``).
- negative, "an unrelated feature of the same level removed instead": the reference without χ_{89},
  which is the main staircase run (shared, no extra cost); the delays of S3 and T must stay below
  MARGIN_DELAY (interval's upper bound). A delay there would say removing any correlated level-2
  feature slows learning (less label signal in total), not the missing step beneath S3 and T.
- positive, "a delay planted by the training": the run taught in turn (S3 only in the third quarter
  of the steps, T in the last) against the staircase; the delays of S3 and T must exceed MARGIN_DELAY.
Cost at the quick scale: two arms of 16 members × 1,500 steps (48,000 model-steps); at half size (4
worlds) the mean's bootstrap-t was too wide to decide synthetic delays that every member showed.
At the quick scale (16 members in 8 worlds) the step's removal did not delay what was above it: it
hastened it. Without S2, S3's onset came 0.30 decades earlier [−0.39, −0.25] and T's 0.13 earlier
[−0.15, −0.10]; removing the unrelated χ_{89} instead hastened them less (−0.17 and −0.10: a feature
that agrees with the label but is not the target takes some of the gradient the higher features
would get, which is the essay's starvation, not its scaffolding); teaching in turn delays S3 by 0.78
[0.76, 0.82] decades and T by 0.92 [0.89, 0.96], so the instrument reads a delay where there is one.
Every control passed: the intervention part is refuted, and with it the claim, although the rank
part (the order of onsets) holds. The rule was fixed before these arms ran.

Rule (``common.combine``): supported if the staircase's interval lies above 1/2 + MARGIN, the
intervention part is supported and all four controls pass (both rank controls, both intervention
controls); refuted if either part is refuted with all controls passing; else inconclusive. (Before
the intervention the rule was the rank part alone.)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.stats import spearmanr

from greedlab.claims.common import (CORRELATION, Row, all_agree, bootstrap_ci, censor, combine, control_row,
                                    log_lead, verdict_above)
from greedlab.claims.context import Context
from greedlab.claims.presets import best_decodability, crossing, paired_members
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


OTHER = Proxy((8, 9), 0.75)
"""A level-2 feature outside the staircase, agreeing with the label as often as S2 does: the unrelated
feature the intervention's control removes."""
WITH_OTHER = replace(STAIRCASE, proxies=(OTHER,))
"""The intervention's reference: the staircase and the unrelated level-2 feature χ_{89}."""
REMOVED_STEP = STAIRCASE.staircase[1]
WITHOUT_STEP = replace(WITH_OTHER, staircase=tuple(s for s in STAIRCASE.staircase if s != REMOVED_STEP))
"""The reference without the step S2 = {0,1}: χ_{01} is then independent of the label in training (the
increment {1,2} is drawn given its parity, a_1 uniform within it), S1 and S3 keep their rates."""
HIGHER = ((0, 1, 2), (0, 1, 2, 3))
"""The features above the removed step whose onsets the intervention reads: S3 and the target T."""
MARGIN_DELAY = 0.1
"""Decades (×1.26): the smallest paired onset delay of a higher feature that counts as one."""


class Key(NamedTuple):
    """A condition: the staircase, a staircase elsewhere (its features unrewarded), one taught in order, or
    an intervention arm (the staircase with an unrelated level-2 feature, and that world without S2)."""

    arm: str

    def label(self) -> str:
        return ARM_TEXT[self.arm]


MAIN, NEGATIVE, POSITIVE = Key("staircase"), Key("elsewhere"), Key("planted")
REFERENCE, NO_STEP = Key("with other"), Key("no step2")
ARM_TEXT = {"staircase": "staircase", "elsewhere": "control (negative): staircase on a_8..a_11, features unrewarded",
            "planted": "control (positive): S1, S2, S3, T taught in turn",
            "with other": "intervention reference: staircase + unrelated chi_89",
            "no step2": "intervention: step S2={0,1} removed"}


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
    # the intervention's arms hold the main arm's members (same inits, data orders and worlds), paired
    # member for member. Full size, not half: at 4 worlds the bootstrap-t of a mean delay was several
    # times Student's width (synthetic delays of -0.06..-0.42 decades in all 8 members read [-0.32, 0.17]);
    # at 8 worlds [-0.29, -0.18]
    return {MAIN: ctx.spec(STAIRCASE), NEGATIVE: ctx.spec(ELSEWHERE), POSITIVE: ctx.curriculum(taught),
            REFERENCE: ctx.spec(WITH_OTHER), NO_STEP: ctx.spec(WITHOUT_STEP)}


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
                   mean_ci(learned_correlation(r, feats), clusters=r.worlds).within(*CORRELATION), "measurement",
                   [r.run_id], kind="measurement"),
            Row.of(cond, "mean Spearman(level, onset) over all four features, those decodable at step 0 included",
                   mean_ci(level_onset_correlation(lev, on), clusters=r.worlds).within(*CORRELATION),
                   "measurement", [r.run_id], kind="measurement")]
    for f, k, col in zip(feats, lev, on.T):
        rows.append(Row.of(cond, f"median decodability onset of {f} (level {k}); never={steps + 1}",
                           # an onset lies in [0, steps + 1] ('never' is censored one past the end)
                           bootstrap_ci(col, np.median, clusters=r.worlds, support=(0.0, steps + 1.0)),
                           "measurement", [r.run_id], kind="measurement"))
        rows.append(Row.of(cond, f"fraction of seeds with {f} (level {k}) decodable at step 0",
                           bootstrap_ci(col == 0, np.mean, clusters=r.worlds), "measurement", [r.run_id],
                           kind="measurement"))
    return rows


def feature_of(world: HierarchyConfig, latents: tuple[int, ...]) -> str:
    """The name a world's runs track the monomial on ``latents`` under (step names follow the staircase's
    own numbering: without S2, S3 is ``step2``)."""
    of = {f"step{k + 1}": s.latents for k, s in enumerate(world.staircase)}
    of.update({f"proxy{k}": p.latents for k, p in enumerate(world.proxies)}, target=world.target)
    names = [n for n, S in of.items() if set(S) == set(latents)]
    if not names:
        raise KeyError(f"no tracked feature on latents {latents}")
    return names[0]


def delay(full: RunResult, cut: RunResult, latents: tuple[int, ...]) -> np.ndarray:
    """Per member shared by the two runs: log10 of the onset ratio (cut + 1)/(full + 1) of the best layer's
    decodability of χ_{latents} (interpolated between evaluations, ``presets.crossing``; 'never' one step
    past the end, which understates a delay, never inflates it). > 0: later where something was removed."""
    a, b = paired_members(full, cut)
    on = [crossing(r.steps, best_decodability(r, feature_of(r.spec.world, latents)), REPRESENTED) for r in (a, b)]
    return log_lead(on[0], on[1], int(max(a.steps[-1], b.steps[-1])))


def delay_rows(full: RunResult, cut: RunResult, cond: str, what: str) -> list[tuple[Row, tuple]]:
    """One (row, interval) per higher feature: the mean paired log delay, interval over worlds."""
    a, _ = paired_members(full, cut)
    out = []
    for S in HIGHER:
        ci = bootstrap_ci(delay(full, cut, S), np.mean, clusters=a.worlds)
        name = "target" if S == STAIRCASE.target else f"chi_{''.join(map(str, S))}"
        out.append((Row.of(cond, f"{what}: mean log10 onset delay of {name} (level {len(S)}), paired",
                           ci, "measurement", sorted({full.run_id, cut.run_id})), ci))
    return out


def intervention(runs: dict[Key, RunResult]) -> tuple[list[Row], str, bool, bool]:
    """The step removed against the reference (delays of S3 and T must exceed MARGIN_DELAY), the
    unrelated χ_{89} removed instead (the main staircase against the reference: no delay), and the order
    taught in turn against the staircase (a delay planted by the training). Rows, verdict, controls."""
    ref, cut, main, pos = runs[REFERENCE], runs[NO_STEP], runs[MAIN], runs[POSITIVE]
    rows, parts = [], []
    for row, ci in delay_rows(ref, cut, NO_STEP.label(), "S2 removed"):
        row.statistic += f" (> 0, margin {MARGIN_DELAY})"
        row.verdict, row.kind = verdict_above(ci[1], ci[2], 0.0, margin=MARGIN_DELAY), "verdict"
        parts.append(row.verdict)
        rows.append(row)
    neg = delay_rows(ref, main, "control (negative): unrelated chi_89 removed instead", "chi_89 removed")
    pos_ = delay_rows(main, pos, "control (positive): S3 and T taught only in the last two quarters",
                      "taught in turn")
    oks = []
    for (row, ci), positive in [(x, False) for x in neg] + [(x, True) for x in pos_]:
        ok = ci[1] > MARGIN_DELAY if positive else ci[2] < MARGIN_DELAY  # NaN bounds: the control fails
        must = "must exceed" if positive else "must stay below"
        rows.append(control_row(row.condition, f"{row.statistic}: {must} {MARGIN_DELAY}", ci, ok, row.run_ids,
                                positive=positive))
        oks.append((positive, ok))
    neg_ok = all(ok for positive, ok in oks if not positive)
    pos_ok = all(ok for positive, ok in oks if positive)
    return rows, all_agree(parts), neg_ok, pos_ok


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
    i_rows, i_verdict, i_neg_ok, i_pos_ok = intervention(runs)
    rows += i_rows
    for key in (MAIN, NEGATIVE, POSITIVE):
        rows += measurements(runs[key], key.label(), features(key))
    # "builds upon" needs both: the order of onsets and the delay when a lower step is taken away
    return rows, combine([rows[0].verdict, i_verdict], neg_ok and i_neg_ok, pos_ok and i_pos_ok)


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
        curves_figure(folder / "G2_intervention.png", "G2: S3 and T with and without the step S2",
                      runs[REFERENCE].steps,
                      {f"{name}, {arm}": best_decodability(runs[k], feature_of(runs[k].spec.world, S))
                       for name, S in (("S3", HIGHER[0]), ("T", HIGHER[1]))
                       for arm, k in (("with S2", REFERENCE), ("S2 removed", NO_STEP))},
                      "probe accuracy (best layer)", threshold=REPRESENTED),
    ]
