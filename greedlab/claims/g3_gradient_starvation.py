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
(b) the functional gradient signal toward χ_T collapses once the proxy fits: at ρ = 0.9, per member,
    the signal at the step where proxy reliance peaks over its value at step 0; its mean must lie
    below COLLAPSE = 0.5 by MARGIN_B = 0.1;
(c) the proxy delays the target: per member, log10(t+1) of the target-reliance onset (≥ 0.5,
    interpolated between evaluations: ``presets.crossing``; 'never' one step past the end) at ρ = 0.9
    minus the same member's at ρ = 0.5; the mean must exceed MARGIN_C = 0.1 decades (past the first
    hundred steps evaluations are at most 10^0.13 apart, ``train.eval_steps``).
Every part must hold (an intersection of tests: no multiplicity adjustment is needed).
Rule (``common.combine``): supported if every part is and both controls pass; refuted if a part is
refuted and both controls pass (an absent effect counts only from an instrument shown to see it where
it is, and not to see it where it is not); else inconclusive.

Controls of (b), the part a mechanism-free artefact could produce:
- negative, ρ = 0.5 scored late: no proxy to fit, so nothing but the target can absorb the residual.
  Each member is scored at the last evaluation at which its target reliance is still below
  UNLEARNED = 0.1 (as little of the target learned as the ρ = 0.9 member at its proxy fit), and no
  earlier than that member's ρ = 0.9 proxy fit: the latest point where a falling signal would be
  starvation's artefact — fitting noise or memorizing the training set, growing logit scales, the
  optimizer's drift — rather than the target being learned. The signal ratio must stay above
  COLLAPSE (interval wholly above 0.5). (It replaces the same ratio read at the ρ = 0.9 run's median
  proxy-fit step, about step 20, before the control model had learned anything. Measured at quick
  length on 4 seeds: scored at steps 100–131, the ratio read 0.87–0.97 — it moves, and could fall.)
- positive, ρ = 1: the proxy agrees with the label on every training example, so once it is fitted
  the residual is orthogonal to every other feature; the ratio at the proxy's peak must read below
  COLLAPSE − MARGIN_B.

At the quick scale (hierarchy world, 16 seeds in 8 worlds): (a) slope −1.65 [−1.68, −1.56] (pooled
Spearman −0.98, unbounded below 12 worlds); (b) 0.34 [0.32, 0.35]; (c) 0.36 [0.35, 0.37] decades;
negative 0.92 [0.90, 0.94] (ok), positive 0.00 (ok): supported.

Memorization against starvation (fixed before any result of it existed). At ρ = 0.97 about 250 of
8,192 training examples contradict the proxy, and a model that reaches train accuracy 1.000 has
memorized them: a proxy-bound model's residual then vanishes by memorization (Sagawa et al. 2020),
which part (b)'s residual ratio cannot tell from a gradient that starves. So G3 adds a training-set
size axis at ρ ∈ MEMO_RHOS = {0.9, 0.97}: n_train ∈ {2,048, 8,192, 32,768} and online (a fresh batch
every step: no example is seen twice, nothing can be memorized). 8,192 is the default world: those
regimes are G3's own ρ = 0.9 and ρ = 0.97 runs (the same specs, the same run ids, 16 members, no
starvation measure). The others are half-size arms (``setups.control_arm``: the same members' first
half, 8 in 4 worlds) with the starvation measure on (``instruments.starvation``). Per regime, rows:
final target reliance (soft and hard), final train accuracy and accuracy on the proxy's exceptions
(``exception_acc``: in the fixed-set regimes the training set's exceptions, i.e. memorization; online
there are no fixed exceptions: it is read on exception examples of the training split that the model's
stream never drew, i.e. the target generalized, not memorized), the starvation measure at proxy fit —
part (b)'s ratio, and where recorded the alignment of the descent direction with the target minus with
a same-level reference (≈ 0: the target gets no more of the gradient than a feature no label rewards)
— and a per-regime row applying part (b)'s rule (ratio below COLLAPSE by MARGIN_B: starves; wholly
above COLLAPSE: does not; the rule is on part (b)'s residual ratio, the one reading every regime has, the
8,192 runs included — the alignment row is the cleaner reading where it exists, since a residual also
falls when the proxy is simply fitted). Per ρ, a summary row says "starves without memorization" (the online regime
starves), "starves only with memorization" (online does not, a fixed-set regime does), "does not
starve" (no regime does) or "undecided".
Rule: the claim holds as stated only where nothing can be memorized. Part (d) is part (b)'s rule in the
online regime at each ρ of MEMO_RHOS, and it joins parts (a)–(c) in ``combine``: G3 is supported only if
the target starves online at both ρ too; refuted (controls passing) if at either ρ the online regime's
ratio lies wholly above COLLAPSE (a refuted part refutes) — then the starvation seen with a fixed
training set at that ρ is memorization's, and the fixed-set regimes stand as measurements; a failed
control leaves it inconclusive as before; the controls are unchanged. Added quick cost: 6 arms × 8
members × 1,500 steps = 72,000 model-steps, plus the starvation measure's two backward passes per feature
per evaluation on those arms (at smoke scale it was 48% of these runs' compute); the 8,192 regime adds
nothing. Smoke scale checks the pipeline only; no quick result of the axis existed when this was written.
The axis (``presets.TRAIN_SIZES``, ``setups.memorization_arm``) is shared: H1 reads these arms for its
map's classes and G4 for its dispersion at ρ = 0.97, the same runs, trained once.

Real data (greedlab.claims.real_data): the same three parts and controls on MNIST-1D and digits
(class group as target, marker as proxy) at ρ ∈ {0.5, 0.9, 0.97, 1.0}.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

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
COLLAPSE = 0.5
UNLEARNED = 0.1
MARGIN_A = 0.2
"""Reliance per unit ρ: the gentlest fall of final target reliance with ρ that counts."""
MARGIN_B = 0.1
"""Signal ratio: how far below COLLAPSE the collapse must lie."""
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


def conditions(ctx: Context) -> dict[Key | Regime, RunSpec]:
    specs = {Key(real_data.HIERARCHY, rho): ctx.spec(world(rho)) for rho in RHOS}
    specs.update({Key(ds, rho): real_data.spec(ctx, ds, rho) for ds in real_data.DATASETS for rho in REAL_RHOS})
    # the memorization axis: the default training set is G3's own run; the others half-size, starvation on
    specs.update({Regime(rho, n): memorization_arm(ctx, rho, n) for rho in MEMO_RHOS for n in TRAIN_SIZES
                  if n != DEFAULT_TRAIN})
    return specs


def signal_ratio(r: RunResult, at: np.ndarray) -> np.ndarray:
    """Per member: target gradient signal at the first evaluation ≥ its step in ``at``, over step 0's."""
    sig = r.curve("gradient_signal", "target")
    k = np.minimum(np.searchsorted(r.steps, at), len(r.steps) - 1)
    return sig[np.arange(len(sig)), k] / sig[:, 0]


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


def analyse_world(runs: dict[float, RunResult], name, extra_parts: tuple[str, ...] = ()) -> tuple[list[Row], str]:
    """Parts (a)–(c) and the controls on one ensemble per ρ of one world (the hierarchy or a dataset);
    ``name`` turns a condition into its row label; ``extra_parts`` (part (d)'s verdicts) join the rule."""
    main, ctrl, decisive = runs[MAIN_RHO], runs[CONTROL_RHO], runs[DECISIVE_RHO]
    part_a, rows = dose_response(runs, name)

    # (b) collapse of the target's gradient signal once the proxy fits
    fit_at = proxy_fit_steps(main)
    ci_b = bootstrap_ci(signal_ratio(main, fit_at), np.mean, clusters=main.worlds)
    part_b = Row.of(name(f"rho={MAIN_RHO}"), f"(b) target gradient signal at peak proxy reliance / at step 0 "
                                             f"(< {COLLAPSE}, margin {MARGIN_B})", ci_b,
                    verdict_below(ci_b[1], ci_b[2], COLLAPSE, margin=MARGIN_B), [main.run_id], kind="verdict")
    pm, pc = paired(main, ctrl)
    at = late_unlearned_steps(pc, proxy_fit_steps(pm))
    ci_neg = bootstrap_ci(signal_ratio(pc, at), np.mean, clusters=pc.worlds)
    neg_ok = ci_neg[1] > COLLAPSE
    neg = control_row(name(f"control (negative): rho={CONTROL_RHO}, scored late"),
                      f"target gradient signal at the last step with target reliance < {UNLEARNED} (median step "
                      f"{np.median(at):.0f}) / at step 0: must stay above {COLLAPSE}",
                      ci_neg, neg_ok, [ctrl.run_id, main.run_id], positive=False)
    ci_pos = bootstrap_ci(signal_ratio(decisive, proxy_fit_steps(decisive)), np.mean, clusters=decisive.worlds)
    pos_ok = ci_pos[2] < COLLAPSE - MARGIN_B
    pos = control_row(name(f"control (positive): rho={DECISIVE_RHO}, proxy decisive"),
                      f"target gradient signal at peak proxy reliance / at step 0: must fall below "
                      f"{COLLAPSE - MARGIN_B:g}", ci_pos, pos_ok, [decisive.run_id], positive=True)

    # (c) the proxy's presence delays the target: the same member with and without it
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
    return [part_a] + rows + [part_b, neg, pos, part_c], verdict


def starvation_verdict(r: RunResult) -> tuple[tuple[float, float, float], str]:
    """Part (b)'s measure and rule on one run: the target's signal ratio at proxy fit, below COLLAPSE
    by MARGIN_B (starves, ``supported``) or wholly above COLLAPSE (does not, ``refuted``)."""
    ci = bootstrap_ci(signal_ratio(r, proxy_fit_steps(r)), np.mean, clusters=r.worlds)
    return ci, verdict_below(ci[1], ci[2], COLLAPSE, margin=MARGIN_B)


def at_steps(r: RunResult, instrument: str, feature: str, at: np.ndarray) -> np.ndarray:
    """Per member: ``instrument``'s reading of ``feature`` at the first evaluation ≥ its step in ``at``."""
    k = np.minimum(np.searchsorted(r.steps, at), len(r.steps) - 1)
    return r.curve(instrument, feature)[np.arange(len(at)), k]


def regime_summary(online: str, memorizing: list[str]) -> str:
    """Per ρ: what the regimes say together. The online regime decides whether the target starves
    without memorization; the fixed-set regimes only whether it starves where memorizing is possible."""
    return memorization_reading(online, memorizing, STARVES_WITHOUT, STARVES_ONLY_MEMORIZING, NO_STARVATION,
                                UNDECIDED)


def memorization_axis(runs: dict) -> tuple[list[Row], list[str]]:
    """The training-set size axis's rows, per ρ of MEMO_RHOS and regime, and part (d): part (b)'s rule
    in the online regime at each ρ (the only regime where nothing can be memorized)."""
    rows, parts = [], []
    nan = float("nan")
    for rho in MEMO_RHOS:
        verdicts = {}
        for n in TRAIN_SIZES:
            r = runs[Key(real_data.HIERARCHY, rho)] if n == DEFAULT_TRAIN else runs[Regime(rho, n)]
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
            fit_at = proxy_fit_steps(r)
            if ("alignment", "reference") in r.values:
                gap = at_steps(r, "alignment", "target", fit_at) - at_steps(r, "alignment", "reference", fit_at)
                rows.append(Row.of(cond, "starvation measure at proxy fit: alignment of the descent direction with "
                                   "the target minus with a same-level reference (≈ 0: starved)",
                                   bootstrap_ci(gap, np.mean, clusters=cl), "measurement", ids, kind="measurement"))
            ci, v = starvation_verdict(r)
            verdicts[n] = v
            rows.append(Row.of(cond, f"{'(d) ' if online else ''}starvation at proxy fit: target gradient signal / "
                               f"at step 0 (< {COLLAPSE}, margin {MARGIN_B}; "
                               f"{'nothing can be memorized' if online else 'memorization possible: a measurement'})",
                               ci, v, ids, kind="verdict" if online else "measurement"))
        parts.append(verdicts[ONLINE])
        summary = regime_summary(verdicts[ONLINE], [verdicts[n] for n in TRAIN_SIZES if n != ONLINE])
        ids = [runs[Key(real_data.HIERARCHY, rho)].run_id] + [runs[Regime(rho, n)].run_id for n in TRAIN_SIZES
                                                             if n != DEFAULT_TRAIN]
        rows.append(Row(f"rho={rho}, every training set", "starvation by regime: "
                        + "; ".join(f"{regime_name(n)} {verdicts[n]}" for n in TRAIN_SIZES),
                        nan, nan, nan, summary, ids, kind="measurement"))
    return rows, parts


def analyse(runs: dict) -> tuple[list[Row], str]:
    """The hierarchy world's rows and verdict (with part (d), the memorization axis's online regimes);
    each real dataset adds its rows and own verdict row."""
    h = real_data.HIERARCHY
    memo_rows, memo_parts = memorization_axis(runs)
    rows, verdict = analyse_world({rho: runs[Key(h, rho)] for rho in RHOS}, lambda c: c, tuple(memo_parts))
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
    memo = [runs[Key(h, rho)] if n == DEFAULT_TRAIN else runs[Regime(rho, n)] for rho, n in regimes]
    return [
        final_vs_condition_figure(folder / "G3_memorization_axis.png",
                                  "G3: starvation by training set (online: no memorizing)",
                                  list(range(len(regimes))), [signal_ratio(r, proxy_fit_steps(r)) for r in memo],
                                  [f"{rho}\n{'online' if n == ONLINE else f'{n // 1024}k'}" for rho, n in regimes],
                                  "ρ, training set", "target signal at proxy fit / step 0"),
        final_vs_condition_figure(folder / "G3_final_target.png", "G3: final target reliance vs ρ",
                                  list(RHOS), finals, [str(r) for r in RHOS], "proxy agreement ρ in training",
                                  "final target reliance"),
        reliance_figure(folder / "G3_gradient_signal.png", "G3: gradient signal on the training set",
                        {Key(h, rho).label(): runs[Key(h, rho)] for rho in (MAIN_RHO, CONTROL_RHO, DECISIVE_RHO)},
                        [("gradient_signal", "target", "signal toward target"),
                         ("gradient_signal", "proxy0", "signal toward proxy"),
                         ("reliance", "target", "target reliance")]),
    ]
