"""G3 — Gradient starvation: once heuristics fit, the gradient toward the target abstraction
vanishes even though learning it would improve accuracy ("Greed Is the Root of This Evil", §1:
"Once there's enough messy hacks, the SGD won't bother attaching heuristics to the target
abstraction even after it's represented in the world-model ... The gradients just aren't there").

Three parts on the default world at ρ ∈ {0.5, 0.8, 0.9, 0.97, 1.0}, every condition built with the
same seeds (the same worlds, inits and data orders: member i of one condition is member i of every
other), each with a 95% interval over worlds:
(a) final target reliance falls as ρ rises: per member, the least-squares slope of its final target
    reliance on ρ across the conditions (the same member in each); the mean slope must lie below
    −MARGIN_A = −0.2 (a fall of 0.1 in reliance over the range 0.5–1, six standard errors of one
    reading), with mean final train accuracy ≥ 0.95 in every condition (the proxy fits the training
    data; nothing is underfit) — else the part is inconclusive. The pooled Spearman correlation of ρ
    with final target reliance is reported beside it (``stats.spearman_ci``, which bounds it only
    from 12 worlds: the full scale); a per-member slope is continuous, so its interval is a mean's;
(b) the gradient starves the target once the proxy fits, read in parameter space
    (``instruments.starvation``): at ρ = 0.9, per member, at the step where proxy reliance peaks, the
    cosine of the descent direction −∇L with ∇(reliance on χ_T) minus the same cosine for a same-level
    reference feature no label rewards (the *alignment gap*: ≈ 0 when the target gets no more of the
    gradient than a feature nothing rewards); its mean must lie below ALIGNED = 0.2 by MARGIN_B = 0.1
    (interval below 0.1: starves); wholly above 0.2 refutes. Read on a half-size arm with the measure on
    (``Measured``: the full run's first half of members), since G3's own runs are shared with other
    claims and the measure would change their run ids;
(c) the proxy delays the target: per member, log10(t+1) of the target-reliance onset (≥ 0.5,
    interpolated between evaluations: ``presets.crossing``; 'never' one step past the end) at ρ = 0.9
    minus the same member's at ρ = 0.5; the mean must exceed MARGIN_C = 0.1 decades (past the first
    hundred steps evaluations are at most 10^0.13 apart, ``train.eval_steps``).
Every part must hold (an intersection of tests: no multiplicity adjustment is needed).
Rule (``common.combine``): supported if every part is and both controls pass; refuted if a part is
refuted and both controls pass (an absent effect counts only from an instrument shown to see it where
it is, and not to see it where it is not); else inconclusive.

Why part (b) reads parameter space (rule changed before any run of the new measure's verdict). Part (b)
used to read the functional gradient signal E_train[y σ(−y f) χ_T] at proxy fit over step 0. Training
labels equal χ_T, so that signal is E_train[σ(−y f)], the training residual: it falls whenever the loss
falls, by any route, and cannot tell starvation from fitting. It stays as a measurement row under its
honest name ("residual"), beside part (b) and in every regime of the memorization axis; the alignment
gap decides: the cosine, not the pull ⟨∇r_T, −∇L⟩/‖∇r_T‖, which shrinks with ‖∇L‖ as the loss
falls by any route (the residual's flaw again), while the cosine asks what is left of the gradient aimed
at the target; the reference asks whether that is more than a feature nothing rewards gets. The proxy's gap,
its counterpart, is a measurement row beside part (b). No stored result of the new measure's verdict
existed when this was written. docs/RESULTS.md (quick, code 96d27f4) did hold the gap as a measurement
row on the six memorization arms (e.g. ρ = 0.9 online 0.11 [−1.82, 0.77]); ALIGNED and MARGIN_B were fixed
from the controls below before those rows were read, and were not changed after. Those intervals were
wider than 2·MARGIN_B: on 8 members in 4 worlds, part (b) may well read underpowered.

The margins come from the instrument's own hand-built controls (``tests/test_starvation.py``, read at the
quick scale's sample sizes: 2,048 training rows, 4,096 deployment rows), not from any G3 result: a model
in mid-learning whose gradient points at the target reads a target alignment of 0.95 (gap 1.32); two
starved models that fit their training set through the proxy with the target not represented — the
proxy decisive (ρ = 1), and the proxy plus the memorized examples it gets wrong (ρ = 0.97) — read gaps
of −0.08 and −0.04; and in those 601-parameter nets a same-level feature no label rewards scatters with
SD 0.12–0.18 (the reference is one draw of it; the default 256-wide MLP at initialization, where no
feature is learned, scatters likewise: SD 0.06–0.22 per model over ten such features). ALIGNED = 0.2
is a fifth of a descent direction wholly aimed at the target, more than one such SD above both starved
models; MARGIN_B = 0.1 puts the "starves" bound at 0.1, above both starved models' gaps by more than two
standard errors of a mean over 8 members at the largest scatter (0.18/√8 ≈ 0.064). A test holds the two
constants between the controls (``test_g3_margin_lies_between_the_instruments_hand_built_controls``).

Controls of (b), the part a mechanism-free artefact could produce, on the alignment gap of the
half-size measured arms:
- negative, ρ = 0.5 scored late: no proxy to fit, so nothing but the target can take the gradient.
  Each member is scored at the last evaluation at which its target reliance is still below
  UNLEARNED = 0.1 (as little of the target learned as the ρ = 0.9 member at its proxy fit), and no
  earlier than that member's ρ = 0.9 proxy fit: the latest point where a gradient turned away from the
  target would be starvation's artefact — fitting noise or memorizing the training set, growing logit
  scales, the optimizer's drift — rather than the proxy's doing. The gap must stay above ALIGNED
  (interval wholly above 0.2). It fails if the gradient leaves the target before the target is learned.
- positive, ρ = 1: the proxy agrees with the label on every training example, so once it is fitted
  nothing in the training loss asks for the target beyond it (the hand-built decisive model reads
  −0.08); the gap at the proxy's peak must read below ALIGNED − MARGIN_B. It fails if the gradient still
  aims at the target there.

Earlier quick-scale result, under the old residual rule (hierarchy world, 16 seeds in 8 worlds): (a)
slope −1.65 [−1.68, −1.56] (pooled Spearman −0.98, unbounded below 12 worlds); (b, residual) 0.34
[0.32, 0.35]; (c) 0.36 [0.35, 0.37] decades; negative 0.92 [0.90, 0.94] (ok), positive 0.00 (ok):
supported. Part (b)'s residual reading is no longer a verdict; the alignment gap has no quick result yet.

Memorization against starvation (fixed before any result of it existed). At ρ = 0.97 about 250 of
8,192 training examples contradict the proxy, and a model that reaches train accuracy 1.000 has
memorized them: a proxy-bound model's residual then vanishes by memorization (Sagawa et al. 2020),
which part (b)'s residual ratio cannot tell from a gradient that starves. So G3 adds a training-set
size axis at ρ ∈ MEMO_RHOS = {0.9, 0.97}: n_train ∈ {2,048, 8,192, 32,768} and online (a fresh batch
every step: no example is seen twice, nothing can be memorized). 8,192 is the default world: those
regimes are G3's own ρ = 0.9 and ρ = 0.97 runs (the same specs, the same run ids, 16 members, no
starvation measure), read beside their half-size measured arms (``Measured``) for the starvation measure.
The others are half-size arms (``setups.control_arm``: the same members' first
half, 8 in 4 worlds) with the starvation measure on (``instruments.starvation``). Per regime, rows:
final target reliance (soft and hard), final train accuracy and accuracy on the proxy's exceptions
(``exception_acc``: in the fixed-set regimes the training set's exceptions, i.e. memorization; online
there are no fixed exceptions: it is read on exception examples of the training split that the model's
stream never drew, i.e. the target generalized, not memorized), the residual ratio at proxy fit (a
measurement), and a per-regime row applying part (b)'s rule to the alignment gap at proxy fit (below
ALIGNED by MARGIN_B: starves; wholly above ALIGNED: does not; every regime has the measure: the 8,192
regime on its measured arm). Per ρ, a summary row says "starves without memorization" (the online regime
starves), "starves only with memorization" (online does not, a fixed-set regime does), "does not
starve" (no regime does) or "undecided".
Rule: the claim holds as stated only where nothing can be memorized. Part (d) is part (b)'s rule in the
online regime at each ρ of MEMO_RHOS, and it joins parts (a)–(c) in ``combine``: G3 is supported only if
the target starves online at both ρ too; refuted (controls passing) if at either ρ the online regime's
alignment gap lies wholly above ALIGNED (a refuted part refutes) — then the starvation seen with a fixed
training set at that ρ is memorization's, and the fixed-set regimes stand as measurements; a failed
control leaves it inconclusive as before; the controls are part (b)'s. Added quick cost: 6 arms × 8
members × 1,500 steps = 72,000 model-steps, plus the starvation measure's two backward passes per feature
per evaluation on those arms (at smoke scale it was 48% of these runs' compute). The measured arms
(part (b), its controls, the 8,192 regime) add 4 arms × 8 members × 1,500 steps = 48,000 quick model-steps
with the same measure (full scale: 4 × 32 × 4,000 = 512,000); G3's own 19 runs keep their ids. Smoke
scale checks the pipeline only; no quick result of the axis existed when this was written.
The axis (``presets.TRAIN_SIZES``, ``setups.memorization_arm``) is shared: H1 reads these arms for its
map's classes and G4 for its dispersion at ρ = 0.97, the same runs, trained once.

Real data (greedlab.claims.real_data): the same three parts and controls on MNIST-1D and digits
(class group as target, marker as proxy) at ρ ∈ {0.5, 0.9, 0.97, 1.0}; there part (b) and its controls
still read the residual ratio (below COLLAPSE = 0.5 by RESIDUAL_MARGIN = 0.1; controls as above on the
ratio), named so in their rows: those worlds have no same-level reference feature, so the real-data
verdict rows cannot tell starvation from fitting. G3's own verdict is the hierarchy world's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from greedlab.claims import real_data
from greedlab.claims.common import (ACCURACY, INCONCLUSIVE, Row, bootstrap_ci, censor, combine, control_row,
                                    verdict_above, verdict_below)
from greedlab.claims.context import Context
from greedlab.claims.presets import (DEFAULT_TRAIN, ONLINE, TRAIN_SIZES, crossing, memorization_reading, paired,
                                     train_set_name, train_set_world, world)
from greedlab.claims.setups import memorization_arm
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import RELIANCE_ONSET
from greedlab.report.figures import final_vs_condition_figure, reliance_figure
from greedlab.stats import spearman_ci

ID = "G3"
SUMMARY = "Gradient starvation: once proxies fit, the gradient toward the target vanishes."
SOURCE = "greed-is-the-root-of-this-evil.txt, §1 “What does that mean mechanically?”"
QUOTE = ("Once there's enough messy hacks, the SGD won't bother attaching heuristics to the target abstraction even "
         "after it's represented in the world-model — because if the extant messy hacks approximate the target "
         "abstraction well enough, there's very little performance-improvement to be gained by marginally "
         "improving the accuracy so.")
RHOS = (0.5, 0.8, 0.9, 0.97, 1.0)
REAL_RHOS = (0.5, 0.9, 0.97, 1.0)  # one ρ fewer: a CNN model-step costs ~3 hierarchy-MLP steps on CPU
MAIN_RHO, CONTROL_RHO, DECISIVE_RHO = 0.9, 0.5, 1.0
FITS = 0.95
UNLEARNED = 0.1
MARGIN_A = 0.2
"""Reliance per unit ρ: the gentlest fall of final target reliance with ρ that counts."""
ALIGNED = 0.2
"""Alignment gap (target minus reference) at proxy fit: at or above it the descent direction still aims at
the target (a fifth of the hand-built mid-learning model's 0.95; the module docstring says why)."""
MARGIN_B = 0.1
"""Alignment gap: how far below ALIGNED a run's must lie to read as starved."""
COLLAPSE = 0.5
"""Residual ratio (real data's part (b), and a measurement row on the hierarchy): its level to fall below."""
RESIDUAL_MARGIN = 0.1
"""Residual ratio: how far below COLLAPSE real data's part (b) must lie (its rule, unchanged)."""
MARGIN_C = 0.1
"""Decades: the smallest delay of the target's onset that counts."""


class Key(NamedTuple):
    """A condition: the world (the hierarchy or a real dataset) and the proxy's agreement ρ."""

    dataset: str
    rho: float

    def label(self) -> str:
        return real_data.label(self.dataset, f"rho={self.rho}")


MEMO_RHOS = (0.9, 0.97)
# DEFAULT_TRAIN (its regime is G3's own run at that ρ), ONLINE and TRAIN_SIZES are presets': H1 and G4
# read the same axis, and its arms (``setups.memorization_arm``) are trained once for the three claims
STARVES_WITHOUT, STARVES_ONLY_MEMORIZING = "starves without memorization", "starves only with memorization"
NO_STARVATION, UNDECIDED = "does not starve", "undecided"


class Regime(NamedTuple):
    """A condition of the memorization axis (hierarchy world): ρ and the training set (size, or ONLINE)."""

    rho: float
    n_train: int

    def label(self) -> str:
        return f"rho={self.rho}, {regime_name(self.n_train)}"


regime_name, regime_world = train_set_name, train_set_world

MEASURED_RHOS = tuple(sorted({CONTROL_RHO, MAIN_RHO, DECISIVE_RHO, *MEMO_RHOS}))
"""Where the default world also trains a half-size arm with the starvation measure on: part (b), its two
controls, and the 8,192 regime of the memorization axis at each of MEMO_RHOS."""


class Measured(NamedTuple):
    """The default world at ρ, half size (the full run's first half of members), with the starvation
    measure on (``instruments.starvation``): what part (b) and its controls read. G3's own runs at ρ are
    shared with other claims (G1, G4, H6 …); turning the measure on there would change their run ids."""

    rho: float

    def label(self) -> str:
        return f"rho={self.rho}, starvation measure (half size)"


def conditions(ctx: Context) -> dict[Key | Regime | Measured, RunSpec]:
    specs = {Key(real_data.HIERARCHY, rho): ctx.spec(world(rho)) for rho in RHOS}
    specs.update({Key(ds, rho): real_data.spec(ctx, ds, rho) for ds in real_data.DATASETS for rho in REAL_RHOS})
    # the memorization axis: the default training set is G3's own run; the others half-size, starvation on
    specs.update({Regime(rho, n): memorization_arm(ctx, rho, n) for rho in MEMO_RHOS for n in TRAIN_SIZES
                  if n != DEFAULT_TRAIN})
    # the default training set's arm of the same kind: half-size, starvation on, beside G3's own run
    specs.update({Measured(rho): memorization_arm(ctx, rho, DEFAULT_TRAIN) for rho in MEASURED_RHOS})
    return specs


def at_steps(r: RunResult, instrument: str, feature: str, at: np.ndarray) -> np.ndarray:
    """Per member: ``instrument``'s reading of ``feature`` at the first evaluation ≥ its step in ``at``."""
    k = np.minimum(np.searchsorted(r.steps, at), len(r.steps) - 1)
    return r.curve(instrument, feature)[np.arange(len(at)), k]


def signal_ratio(r: RunResult, at: np.ndarray) -> np.ndarray:
    """Per member: the residual — the target's functional gradient signal E_train[y σ(−y f) χ_T], which
    with labels equal to χ_T is E_train[σ(−y f)] — at the first evaluation ≥ its step in ``at``, over
    step 0's. It falls whenever the loss does, by any route."""
    sig = r.curve("gradient_signal", "target")
    return at_steps(r, "gradient_signal", "target", at) / sig[:, 0]


def alignment_gap(r: RunResult, at: np.ndarray, feature: str = "target") -> np.ndarray:
    """Per member: the cosine of the descent direction with ∇(reliance on ``feature``) minus the same for
    the same-level reference no label rewards, at the first evaluation ≥ its step in ``at``."""
    return at_steps(r, "alignment", feature, at) - at_steps(r, "alignment", "reference", at)


GAP = (-2.0, 2.0)
"""The alignment gap's range (a difference of two cosines): its intervals are clipped to it."""


class Reading(NamedTuple):
    """Part (b)'s statistic: per member of a run at given steps; the level a starved run lies below by
    ``margin``, how its rows name it, and the range it lies in (None: unbounded)."""

    name: str
    at: Callable[[RunResult, np.ndarray], np.ndarray]
    level: float
    margin: float
    support: tuple[float, float] | None = None

    def ci(self, r: RunResult, at: np.ndarray):
        return bootstrap_ci(self.at(r, at), np.mean, clusters=r.worlds, support=self.support)


STARVATION = Reading("alignment of the descent direction with the target minus with a same-level reference",
                     alignment_gap, ALIGNED, MARGIN_B, GAP)
"""The parameter-space starvation measure: part (b)'s rule on the hierarchy."""
RESIDUAL = Reading("residual: target gradient signal (the training residual, which falls whenever the loss "
                   "falls) / at step 0", signal_ratio, COLLAPSE, RESIDUAL_MARGIN)
"""The residual ratio: part (b)'s rule on real data (no same-level reference there), a measurement elsewhere."""


def proxy_fit_steps(r: RunResult) -> np.ndarray:
    """Per member: the step at which proxy reliance peaks (the proxy is fitted best)."""
    return r.steps[r.curve("reliance", "proxy0").argmax(axis=1)]


def late_unlearned_steps(ctrl: RunResult, not_before: np.ndarray) -> np.ndarray:
    """Per member: the last evaluation at which target reliance is still below UNLEARNED, but no earlier
    than ``not_before`` (the paired member's proxy fit in the main condition)."""
    below = ctrl.curve("reliance", "target") < UNLEARNED
    # the last evaluation of the first run of 'below' from step 0: a later dip after learning is not 'unlearned'
    first_learned = np.where(below.all(axis=1), below.shape[1], (~below).argmax(axis=1))
    last = ctrl.steps[np.maximum(first_learned - 1, 0)]
    return np.maximum(last, not_before)


def shared(runs: dict[float, RunResult]) -> dict[float, RunResult]:
    """Every run restricted to the members all of them hold (built with the same seeds, member i is the
    same world, init and data order in each; a seed that diverged anywhere leaves every condition)."""
    first = next(iter(runs.values()))
    for r in runs.values():
        first, _ = paired(first, r)
    return {rho: paired(first, r)[1] for rho, r in runs.items()}


def slopes(runs: dict[float, RunResult]) -> np.ndarray:
    """Per member: the least-squares slope of final target reliance on ρ."""
    rhos = np.array(sorted(runs))
    y = np.stack([runs[rho].final("reliance", "target") for rho in rhos], axis=1)
    x = rhos - rhos.mean()
    return (y - y.mean(axis=1, keepdims=True)) @ x / (x @ x)


def dose_response(runs: dict[float, RunResult], name) -> tuple[Row, list[Row]]:
    """Part (a) and one measurement row per ρ, and the pooled rank correlation."""
    rhos = sorted(runs)
    together = shared(runs)
    worlds = together[rhos[0]].worlds
    ci = bootstrap_ci(slopes(together), np.mean, clusters=worlds)
    fit = {rho: float(runs[rho].final("train_acc").mean()) for rho in rhos}
    fitted = min(fit.values()) >= FITS
    verdict = verdict_below(ci[1], ci[2], 0.0, margin=MARGIN_A) if fitted else INCONCLUSIVE
    ids = [runs[r].run_id for r in rhos]
    part = Row.of(name("rho in " + ",".join(map(str, rhos))),
                  f"(a) slope of final target reliance on rho, per seed (margin {MARGIN_A}; every rho fitted: "
                  f"{fitted})", ci, verdict, ids, kind="verdict")
    finals = [runs[rho].final("reliance", "target") for rho in rhos]
    levels = np.concatenate([np.full(len(f), rho) for rho, f in zip(rhos, finals)])
    # world k of one condition is world k of all: the jackknife leaves it out of every condition at once
    rank = spearman_ci(levels, np.concatenate(finals), clusters=np.concatenate([runs[rho].worlds for rho in rhos]))
    rows = [Row.of(name(f"rho={rho}"), f"final target reliance (train acc {fit[rho]:.3f})",
                   bootstrap_ci(f, np.mean, clusters=runs[rho].worlds), "measurement", [runs[rho].run_id],
                   kind="measurement") for rho, f in zip(rhos, finals)]
    rows.append(Row.of(name("rho in " + ",".join(map(str, rhos))), "Spearman(rho, final target reliance), all seeds",
                       rank, "measurement", ids, kind="measurement"))
    return part, rows


def starvation_part(main: RunResult, ctrl: RunResult, decisive: RunResult, reading: Reading,
                    name) -> tuple[list[Row], bool, bool]:
    """Part (b) on ``reading`` and its two controls: (rows, negative ok, positive ok). The part's row is
    the first; ``main``, ``ctrl`` and ``decisive`` are the runs at MAIN_RHO, CONTROL_RHO and DECISIVE_RHO."""
    level, margin = reading.level, reading.margin
    ci_b = reading.ci(main, proxy_fit_steps(main))
    part_b = Row.of(name(f"rho={MAIN_RHO}"), f"(b) {reading.name}, at peak proxy reliance (< {level:g}, margin "
                    f"{margin:g})", ci_b, verdict_below(ci_b[1], ci_b[2], level, margin=margin), [main.run_id],
                    kind="verdict")
    pm, pc = paired(main, ctrl)
    at = late_unlearned_steps(pc, proxy_fit_steps(pm))
    ci_neg = reading.ci(pc, at)
    neg_ok = ci_neg[1] > level
    neg = control_row(name(f"control (negative): rho={CONTROL_RHO}, scored late"),
                      f"{reading.name}, at the last step with target reliance < {UNLEARNED} (median step "
                      f"{np.median(at):.0f}): must stay above {level:g}", ci_neg, neg_ok, [ctrl.run_id, main.run_id],
                      positive=False)
    ci_pos = reading.ci(decisive, proxy_fit_steps(decisive))
    pos_ok = ci_pos[2] < level - margin
    pos = control_row(name(f"control (positive): rho={DECISIVE_RHO}, proxy decisive"),
                      f"{reading.name}, at peak proxy reliance: must fall below {level - margin:g}", ci_pos, pos_ok,
                      [decisive.run_id], positive=True)
    return [part_b, neg, pos], neg_ok, pos_ok


def measured_rows(main: RunResult, measured: RunResult, name) -> list[Row]:
    """Beside the measure's part (b): its proxy counterpart on the same run, and the residual ratio on
    G3's own run (the old part (b), kept under its honest name)."""
    fit_at = proxy_fit_steps(measured)
    proxy = Row.of(name(f"rho={MAIN_RHO}"), "alignment of the descent direction with the proxy minus with a "
                   "same-level reference, at peak proxy reliance", bootstrap_ci(
                       alignment_gap(measured, fit_at, "proxy0"), np.mean, clusters=measured.worlds, support=GAP),
                   "measurement", [measured.run_id], kind="measurement")
    residual = Row.of(name(f"rho={MAIN_RHO}"), f"{RESIDUAL.name}, at peak proxy reliance (a measurement: it "
                      "cannot tell starvation from fitting)", bootstrap_ci(
                          signal_ratio(main, proxy_fit_steps(main)), np.mean, clusters=main.worlds),
                      "measurement", [main.run_id], kind="measurement")
    return [proxy, residual]


def analyse_world(runs: dict[float, RunResult], name, extra_parts: tuple[str, ...] = (),
                  measured: dict[float, RunResult] | None = None) -> tuple[list[Row], str]:
    """Parts (a)–(c) and the controls on one ensemble per ρ of one world (the hierarchy or a dataset);
    ``name`` turns a condition into its row label; ``extra_parts`` (part (d)'s verdicts) join the rule.
    ``measured`` (per ρ, runs with the starvation measure on): part (b) and its controls read the measure
    there; without it (real data) they read the residual ratio."""
    main, ctrl, decisive = runs[MAIN_RHO], runs[CONTROL_RHO], runs[DECISIVE_RHO]
    part_a, rows = dose_response(runs, name)

    # (b) starvation once the proxy fits
    if measured is not None:
        b_rows, neg_ok, pos_ok = starvation_part(measured[MAIN_RHO], measured[CONTROL_RHO], measured[DECISIVE_RHO],
                                                 STARVATION, name)
        b_rows[1:1] = measured_rows(main, measured[MAIN_RHO], name)
    else:
        b_rows, neg_ok, pos_ok = starvation_part(main, ctrl, decisive, RESIDUAL, name)
    part_b = b_rows[0]

    # (c) the proxy's presence delays the target: the same member with and without it
    pm, pc = paired(main, ctrl)
    steps = int(main.steps[-1])
    t_present = censor(crossing(pm.steps, pm.curve("reliance", "target"), RELIANCE_ONSET), steps)
    t_absent = censor(crossing(pc.steps, pc.curve("reliance", "target"), RELIANCE_ONSET), steps)
    ci_c = bootstrap_ci(np.log10(t_present + 1) - np.log10(t_absent + 1), np.mean, clusters=pm.worlds)
    part_c = Row.of(name(f"rho={MAIN_RHO} vs {CONTROL_RHO}"),
                    f"(c) log10 delay of target onset, proxy present vs absent, per seed (margin {MARGIN_C})", ci_c,
                    verdict_above(ci_c[1], ci_c[2], 0.0, margin=MARGIN_C), [main.run_id, ctrl.run_id],
                    kind="verdict")
    parts = [part_a, part_b, part_c]
    verdict = combine([p.verdict for p in parts] + list(extra_parts), neg_ok, pos_ok)
    return [part_a] + rows + b_rows + [part_c], verdict


def starvation_verdict(r: RunResult) -> tuple[tuple[float, float, float], str]:
    """Part (b)'s measure and rule on one run with the starvation measure on: the alignment gap at proxy
    fit, below ALIGNED by MARGIN_B (starves, ``supported``) or wholly above ALIGNED (does not, ``refuted``)."""
    ci = STARVATION.ci(r, proxy_fit_steps(r))
    return ci, verdict_below(ci[1], ci[2], ALIGNED, margin=MARGIN_B)


def regime_summary(online: str, memorizing: list[str]) -> str:
    """Per ρ: what the regimes say together. The online regime decides whether the target starves
    without memorization; the fixed-set regimes only whether it starves where memorizing is possible."""
    return memorization_reading(online, memorizing, STARVES_WITHOUT, STARVES_ONLY_MEMORIZING, NO_STARVATION,
                                UNDECIDED)


def regime_runs(runs: dict, rho: float, n: int) -> tuple[RunResult, RunResult]:
    """A regime's (run, run with the starvation measure): the 8,192 regime is G3's own run and its half-size
    measured arm; every other regime is one half-size arm with the measure on."""
    if n == DEFAULT_TRAIN:
        return runs[Key(real_data.HIERARCHY, rho)], runs[Measured(rho)]
    return runs[Regime(rho, n)], runs[Regime(rho, n)]


def memorization_axis(runs: dict) -> tuple[list[Row], list[str]]:
    """The training-set size axis's rows, per ρ of MEMO_RHOS and regime, and part (d): part (b)'s rule
    in the online regime at each ρ (the only regime where nothing can be memorized)."""
    rows, parts = [], []
    nan = float("nan")
    for rho in MEMO_RHOS:
        verdicts = {}
        for n in TRAIN_SIZES:
            r, m = regime_runs(runs, rho, n)
            cond, ids, cl = Regime(rho, n).label(), [r.run_id], r.worlds
            online = n == ONLINE
            for inst, what in (("reliance", "soft"), ("hard_reliance", "hard")):
                rows.append(Row.of(cond, f"final target reliance ({what})",
                                   bootstrap_ci(r.final(inst, "target"), np.mean, clusters=cl), "measurement", ids,
                                   kind="measurement"))
            acc = float(r.final("train_acc").mean())
            exc_what = ("accuracy on the proxy's exceptions among training-split examples the stream never drew "
                        "(online: no fixed exceptions, nothing to memorize; this is the target generalized)"
                        if online else "accuracy on the training set's proxy exceptions (memorization)")
            rows.append(Row.of(cond, f"final {exc_what}; final train acc {acc:.3f}",
                               bootstrap_ci(r.final("exception_acc", "proxy0"), np.mean, clusters=cl, support=ACCURACY),
                               "measurement", ids, kind="measurement"))
            rows.append(Row.of(cond, f"{RESIDUAL.name}, at peak proxy reliance (a measurement)",
                               bootstrap_ci(signal_ratio(r, proxy_fit_steps(r)), np.mean, clusters=cl),
                               "measurement", ids, kind="measurement"))
            ci, v = starvation_verdict(m)
            verdicts[n] = v
            rows.append(Row.of(cond, f"{'(d) ' if online else ''}starvation at peak proxy reliance: {STARVATION.name} "
                               f"(< {ALIGNED:g}, margin {MARGIN_B:g}; "
                               f"{'nothing can be memorized' if online else 'memorization possible: a measurement'})",
                               ci, v, [m.run_id], kind="verdict" if online else "measurement"))
        parts.append(verdicts[ONLINE])
        summary = regime_summary(verdicts[ONLINE], [verdicts[n] for n in TRAIN_SIZES if n != ONLINE])
        ids = list(dict.fromkeys(x.run_id for n in TRAIN_SIZES for x in regime_runs(runs, rho, n)))
        rows.append(Row(f"rho={rho}, every training set", "starvation by regime: "
                        + "; ".join(f"{regime_name(n)} {verdicts[n]}" for n in TRAIN_SIZES),
                        nan, nan, nan, summary, ids, kind="measurement"))
    return rows, parts


def analyse(runs: dict) -> tuple[list[Row], str]:
    """The hierarchy world's rows and verdict (part (b) on the starvation measure's half-size arms, with
    part (d), the memorization axis's online regimes); each real dataset adds its rows and own verdict row."""
    h = real_data.HIERARCHY
    memo_rows, memo_parts = memorization_axis(runs)
    rows, verdict = analyse_world({rho: runs[Key(h, rho)] for rho in RHOS}, lambda c: c, tuple(memo_parts),
                                  measured={rho: runs[Measured(rho)] for rho in MEASURED_RHOS})
    rows += memo_rows
    for ds in real_data.DATASETS:
        r_rows, r_verdict = analyse_world({rho: runs[Key(ds, rho)] for rho in REAL_RHOS},
                                          lambda c, ds=ds: real_data.name(ds, c))
        rows += r_rows + [real_data.verdict_row(ds, r_verdict, [i for r in r_rows for i in r.run_ids])]
    return rows, verdict


def figures(runs: dict, folder: Path) -> list[str]:
    h = real_data.HIERARCHY
    finals = [runs[Key(h, rho)].final("reliance", "target") for rho in RHOS]
    regimes = [(rho, n) for rho in MEMO_RHOS for n in TRAIN_SIZES]
    memo = [regime_runs(runs, rho, n)[1] for rho, n in regimes]
    return [
        final_vs_condition_figure(folder / "G3_memorization_axis.png",
                                  "G3: starvation by training set (online: no memorizing)",
                                  list(range(len(regimes))), [alignment_gap(r, proxy_fit_steps(r)) for r in memo],
                                  [f"{rho}\n{'online' if n == ONLINE else f'{n // 1024}k'}" for rho, n in regimes],
                                  "ρ, training set", "alignment with target − reference at proxy fit"),
        final_vs_condition_figure(folder / "G3_final_target.png", "G3: final target reliance vs ρ",
                                  list(RHOS), finals, [str(r) for r in RHOS], "proxy agreement ρ in training",
                                  "final target reliance"),
        reliance_figure(folder / "G3_starvation.png", "G3: alignment of the descent direction (half-size arms)",
                        {Measured(rho).label(): runs[Measured(rho)] for rho in (MAIN_RHO, CONTROL_RHO, DECISIVE_RHO)},
                        [("alignment", "target", "alignment with target"),
                         ("alignment", "proxy0", "alignment with proxy"),
                         ("alignment", "reference", "alignment with reference"),
                         ("reliance", "target", "target reliance")]),
        reliance_figure(folder / "G3_gradient_signal.png", "G3: training residual (gradient signal) per feature",
                        {Key(h, rho).label(): runs[Key(h, rho)] for rho in (MAIN_RHO, CONTROL_RHO, DECISIVE_RHO)},
                        [("gradient_signal", "target", "residual toward target"),
                         ("gradient_signal", "proxy0", "residual toward proxy"),
                         ("reliance", "target", "target reliance")]),
    ]
