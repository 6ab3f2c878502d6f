"""H3 — Simplicity bias: SGD favours the solution class that occupies more parameter volume ("How
likely is deceptive alignment", summary, "Simplicity Bias": "simpler algorithms are generally
specified by more possible models").

Operationalization. One training set that two solution classes fit exactly: G1's world (target
χ_{0123}, proxy a_4) at ρ = 1, where the proxy agrees with the label on every training example.
Volume is read by the local learning coefficient λ̂ (``instruments.llc``, an SGLD estimator that
reproduces devinterp's chain for chain): lower λ = more volume = simpler. Three ensembles with
the same model, optimizer (the project's default, Adam, unless overridden), steps, seeds and worlds
(each seed in its own world draw: the interval resamples worlds):
- "SGD at rho=1": plain training on that set. Each seed is classified at the end
  (``instruments.model_class.classify`` on deployment reliance: ``proxy`` or ``internal``).
  p_proxy, p_target = shares of seeds in each class (Clopper–Pearson over worlds). SGD's favourite
  is the class whose share's interval lies above 0.5; with neither, there is no favourite.
- "proxy-class" and "target-class" representatives: trained on ρ = 0.5 data (the two features
  independent) with the label a_4, resp. χ_{0123}. Both fit the ρ = 1 set by construction: there,
  a_4 = χ_{0123}. A representative counts if it fits that set (accuracy ≥ 0.95, reported) and reads
  as its class; the two classes are built by the same procedure, differing only in the label.
- "plain SGD at rho=1": the same training on the same set, seeds and worlds with plain SGD
  (``presets.SGD_LR``, no momentum) instead of Adam, classified the same way (no λ̂: only its class
  shares are used). The essay's claim is about SGD, and Adam's per-parameter step sizes are a
  different inductive bias: the favourite counts only if plain SGD's favourite is the same class.
  (Added, with this requirement, before any run of the arm; the Adam arm then favoured the proxy
  class with 16 of 16 seeds.)
- λ̂ of every seed on its world's ρ = 1 training set (n = 8,192, nβ = n/log n, identical settings).
Statistic: Δλ = λ̂(target class) − λ̂(proxy class) per seed (the two representatives of one seed
share its world, initialization seed and data order), over the seeds both of whose representatives
count; its mean, with an interval over worlds. Margin ``MARGIN`` = 1: one unit of λ, the volume of
two regular parameters; the negative control below (one class reached by two procedures) shows how
far λ̂ moves with how a solution was reached rather than which class it is.

Verdict rule (fixed before any run), by the margin-aware rule on Δλ:
- favourite proxy: supported if Δλ's interval lies above the margin (the favourite has the lower
  λ), refuted if it lies below 0 (the favourite has the higher λ); favourite target: mirrored;
  inconclusive with no favourite, with plain SGD favouring another class (or none), or with fewer
  than 3 seeds whose representatives both count;
- inconclusive whatever the above if a negative control fails, and a refutation by the absence of a
  difference also needs the positive control.

Controls (rows of kind "control"):
- positive (planted): the estimator on models of known λ (``llc_runs.LLCCheckSpec``, sixteen data
  sets of n = 8,192, the claim's settings): logistic regression on non-separable data with d = 4 and
  16 weights (λ = d/2, the networks' loss family at its curvature nβh ≈ 100–200; no constant passes
  both d), the same with every weight duplicated (8 flat directions), and singular points whose λ
  lies below d/2: y = w²x at w = 0 (λ = 1/4) and y = w₁w₂x at w = 0 (λ = 1/2), squared and logistic.
  Each must read within ±25% (the whole interval of the mean ratio over the data sets inside the
  band) of λ, or, for y = w₁w₂x, of the exact tempered value (quadrature, ``llc.tempered_value``):
  its multiplicity 2 puts the tempered posterior itself at ~0.75 of λ at this n (WBIC's log term),
  a bias no sampler setting removes; the statistic states that ratio.
- negative, parameter count: the duplicated model (16 parameters, λ = 4) must read below 0.75 × its
  parameter count / 2 (interval): λ̂ tracks λ, not the count.
- negative, procedure: SGD's own seeds of its favourite class against that class's representatives,
  per seed: the same class reached by two procedures (training on the ρ = 1 set itself; on ρ = 0.5
  data, labelled). No volume difference between classes is there, but everything else that
  separates the representatives from each other is (the data they were trained on, how tightly they
  fit it, the training loss they end at). The difference's interval must lie within ±``MARGIN``.
- negative, loss level (matched loss): with logistic loss on separable data the loss never stops
  falling, and λ̂ falls with it (the logits grow, the loss flattens: measured before the run, a
  proxy-class model read 5.4 at 100 steps and 1.8 at 3,000). So each representative is also read at
  the first evaluation where its training loss on the ρ = 1 set is ≤ ``MATCH_LOSS`` (both classes at
  the same loss, each's actual loss there reported), and Δλ there must keep the end's ordering
  beyond the margin (interval), over the seeds whose representatives both count and reach it. With
  fewer than 3 such seeds the row reads inconclusive, as the claim does; when Δλ shows no ordering
  at all there is nothing for the loss level to have made, and the control is not applied. (It
  replaced, before any run of it, a handicap form that read the lower class at its first evaluation
  ≥ 10% of training against the other at the end.)
- negative, plateau: per class, λ̂ from the second half of the kept draws − from the first half,
  per seed, must lie within ±``PLATEAU`` (interval): a chain still moving has not read its basin.
  The draws-to-plateau curve (λ̂ from the first 512, 1,024, 2,048, 4,096 kept draws) is reported per
  class, and every estimate's loss trace (burn-in included, 16 block means) is stored with the run.
Class pairs (``h3_pairs``): the default pair is one in which Fourier degree, learning order and λ̂
all point at the proxy, so SGD's choice there credits none of them in particular. Four more pairs
(the proxy's level and rendering strength varied; declared before any of their λ̂) are read the same
way, and a second row, "volume against order", is supported only if SGD follows the lower λ̂ in a pair
where the class learned first is the other one, and refuted if in any pair SGD's favourite has the
higher λ̂ (the rule in ``h3_pairs``). The claim is supported only if both rows are; refuted if
either is (with the controls as above); their representatives' plateau controls join the others.
Estimator settings: ``instruments.llc.LLCConfig``'s defaults (ε 5e-4, γ 1, burn-in 2,048 discarded,
4,096 draws, batch 512, 2 chains), which read every known-λ case right on unit-scale weights, written
for the networks' weights of size ~0.1 (``llc.at_scale``, ``llc.WEIGHT_SCALE``): ε 5e-6, γ 100, the
same steps exactly in those coordinates; the check runs its cases written at that scale (so it reads
what the unit-scale check reads, to float precision). 1 chain at quick; 1 chain of 64 + 128 steps at
smoke (smoke checks the pipeline). At unit scale the defaults made the networks' chains leave their
basin (measurements in ``llc.WEIGHT_SCALE``). The former settings (ε 1e-4, γ 100, no burn-in, 256
draws, batch 256) are in unit terms ε 1e-2 and γ 1 with 256 steps: on unit-scale cases they read
logistic regression at 0.3–0.6 of d/2 and the singular points at ≈ 0; the assumption now made
explicit is the weight scale at which the check's cases stand for the networks. All of this was set
before any quick run of H3. A pilot at these settings (not evidence: two seeds of one world, each
class trained as at quick, one chain): λ̂ at the end 4.0, 4.0 (proxy-class) and 13.9, 15.8
(target-class); at matched loss 7.0, 8.9 (proxy-class, loss 0.0036–0.0038, step 49) and 18.0, 18.8
(target-class, loss 0.0053–0.0069, step 300); halves of the draws 3.6/4.5, 4.5/3.5, 13.3/14.6,
15.7/15.9. The matched losses are those of train's evaluation steps (log- then evenly spaced), so
they match within the factor between neighbouring evaluations (here < 2), not exactly.
SGD's own seeds' λ̂ (by class) are reported beside the representatives' as measurements.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import h3_pairs, presets
from greedlab.claims.h3_pairs import classes
from greedlab.claims.common import (INCONCLUSIVE, Row, bootstrap_ci, combine, control_row,
                                    verdict_above, verdict_below)
from greedlab.claims.context import Context
from greedlab.experiment import RunResult
from greedlab.instruments.llc import WEIGHT_SCALE, LLCConfig, at_scale
from greedlab.llc_runs import CHECK_CASES, LLCCheckSpec, LLCRunSpec
from greedlab.report.figures import scatter_figure, strips_figure

ID = "H3"
SUMMARY = "Simplicity bias: SGD favours the solution class occupying more parameter volume (lower LLC)."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, “Simplicity Bias”"
QUOTE = ("simpler algorithms are generally specified by more possible models. Thus, we can estimate the "
         "simplicity of a model class by how many possible models implement it.")

FIT, MIN_SEEDS = 0.95, 3
CHECK_BAND, DEGENERATE_BELOW = 0.25, 0.75
CHECK_SETS = 16
"""Data sets the estimator check reads each known λ on."""
SMOKE_CHECK_SETS = 4
"""At smoke scale: 16 data sets × 7 cases was 28% of the whole smoke suite's compute (164 s of 594, one
run), which the test suite trains once. A pipeline check needs the rows, not their intervals: with 4
sets they have none (``stats.MIN_CLUSTERS``) and read "no verdict", as smoke rows may."""
MARGIN = 1.0
"""The smallest difference in λ̂ between the classes that counts."""
PLATEAU = MARGIN / 2
"""How far λ̂ from the second half of a chain's kept draws may lie from the first half's (per class, the
interval over worlds): a chain still drifting by that much could move each class's λ̂ by it again
with as many draws more, and two classes drifting apart by half the margin each make a margin."""
MATCH_LOSS = 1e-2
"""The training loss (on the ρ = 1 set) at which the classes are also compared: each representative is
read at the first evaluation where its loss is ≤ this. Fixed before any run: a loss at which a
model fits (a mean logistic loss of 0.01 leaves almost every margin above 2) and that both classes
pass early, where the evaluations are dense (log-spaced), so the loss at the checkpoint overshoots
it little; the checkpoint's actual losses are reported per class."""
MULTIPLICITY_2 = ("product squared", "product logistic")
"""Known-λ cases of multiplicity 2: the tempered posterior itself reads below λ at finite n
(``instruments.llc``), so λ̂ is held to the exact tempered value there, to λ everywhere else."""


class Cond(NamedTuple):
    """One of H3's runs: its role, and for a representative the class the classifier must read."""

    name: str
    cls: str = ""

    def label(self) -> str:
        return self.name


CHECK, SGD = Cond("estimator check"), Cond("SGD at rho=1")
PLAIN_SGD = Cond("plain SGD at rho=1")
"""The same training as ``SGD`` (which runs the project's default optimizer, Adam) with plain SGD."""
PROXY = Cond("proxy-class: label a_4, rho=0.5", "proxy")   # the classifier's names (instruments.model_class)
TARGET = Cond("target-class: label chi_0123, rho=0.5", "internal")
LABEL = {PROXY: "proxy-class", TARGET: "target-class"}
CLASSES = (PROXY, TARGET)


SMOKE_LLC = at_scale(LLCConfig(chains=1, burn_in=64, draws=128), WEIGHT_SCALE)
"""At smoke scale (a pipeline check whose verdicts mean nothing): one short chain, for the estimates
and the check alike; the check's rows may then fail, as any smoke row may."""


def llc_config(ctx: Context) -> LLCConfig:
    """The estimator's settings: the defaults (``LLCConfig``: the ones the known-λ check reads right on
    unit-scale weights) scaled to the networks' weights (``at_scale(…, WEIGHT_SCALE)``: ε 5e-6, γ 100),
    with one chain at quick scale (chains change only the variance of each estimate, which the
    interval over worlds carries, not its bias; one chain halves the sampling, which at these settings
    costs more than the training), ``SMOKE_LLC`` at smoke scale."""
    if ctx.scale.name == "smoke":
        return SMOKE_LLC
    return at_scale(LLCConfig(chains=1) if ctx.scale.name == "quick" else LLCConfig(), WEIGHT_SCALE)


def conditions(ctx: Context) -> dict:
    cfg = llc_config(ctx)
    sgd = ctx.spec(presets.world(1.0))
    measured = sgd.world  # the ρ = 1 world with the user's rendering overrides: one training set for all
    # the check runs the claim's own settings. 16 data sets: a mean over fewer independent ones has no
    # interval (``stats.MIN_CLUSTERS``)
    sets = SMOKE_CHECK_SETS if ctx.scale.name == "smoke" else CHECK_SETS
    return {CHECK: LLCCheckSpec(cfg, seeds=tuple(range(sets)), scale=WEIGHT_SCALE),
            SGD: LLCRunSpec(sgd, measured, cfg),
            PLAIN_SGD: ctx.spec(presets.world(1.0), optimizer="sgd", lr=presets.SGD_LR),
            PROXY: LLCRunSpec(ctx.spec(replace(presets.world(0.5), objective="proxy")), measured, cfg,
                              match_loss=MATCH_LOSS),
            TARGET: LLCRunSpec(ctx.spec(presets.world(0.5)), measured, cfg, match_loss=MATCH_LOSS),
            **h3_pairs.conditions(ctx, cfg, MATCH_LOSS)}


def at(r: RunResult, instrument: str, k: int, feature: str = "") -> np.ndarray:
    """Per seed, the value at the k-th measured checkpoint (−1: the end)."""
    return r.curve(instrument, feature)[:, k]


def kept(r: RunResult, c: Cond, k: int = -1) -> np.ndarray:
    """Representatives that count at checkpoint k: of their class and fitting the ρ = 1 set."""
    return (classes(r, k) == c.cls) & (at(r, "train_acc", k) >= FIT)


def simplicity_verdict(fav: Cond | None, delta: tuple, enough: bool, plain_fav: Cond | None = None) -> str:
    """The rule of the docstring on Δλ = λ(target) − λ(proxy) (point, low, high); ``plain_fav`` is plain
    SGD's favourite, which must be ``fav``."""
    if fav is None or plain_fav != fav or not enough:
        return INCONCLUSIVE
    if fav == PROXY:
        return verdict_above(delta[1], delta[2], 0.0, margin=MARGIN)
    return verdict_below(delta[1], delta[2], 0.0, margin=MARGIN)


def per_seed(a: RunResult, b: RunResult, keep_a: np.ndarray, keep_b: np.ndarray,
             ka: int = -1, kb: int = -1, inst: str = "llc") -> tuple[tuple, int]:
    """λ̂(a at checkpoint ka) − λ̂(b at kb) per seed counted in both (the runs share seeds and worlds):
    its mean with an interval over worlds, and the number of seeds."""
    both = keep_a & keep_b
    d = at(a, inst, ka)[both] - at(b, inst, kb)[both]
    return bootstrap_ci(d, np.mean, clusters=a.worlds[both]), int(both.sum())


def check_rows(r: RunResult) -> tuple[list[Row], bool, bool]:
    """The estimator's control rows. Positive: every known-λ case reads λ within ±``CHECK_BAND`` (the
    interval of the mean ratio over data sets inside the band; for the multiplicity-2 cases the exact
    tempered value stands in for λ). Negative: the duplicated model must not read its parameter count/2.
    Returns (rows, positive ok, negative ok)."""
    rows, pos_ok, neg_ok = [], True, True
    for case in CHECK_CASES:
        est, truth, tempered = (r.final(i, case.name) for i in ("llc_check", "llc_check_truth", "llc_check_tempered"))
        # the band is on the mean over data sets: it bounds the sampler's bias, which is what the class
        # comparison inherits (its variance is in the comparison's own interval)
        ref = tempered if case.name in MULTIPLICITY_2 else truth
        ci = bootstrap_ci(est / ref, np.mean, clusters=r.worlds)
        good = bool(1 - CHECK_BAND <= ci[1] and ci[2] <= 1 + CHECK_BAND)
        pos_ok &= good
        what = (f"the exact tempered value {np.mean(tempered):.3g} (multiplicity 2)" if case.name in MULTIPLICITY_2
                else f"λ = {case.lam:g}")
        stat = (f"λ̂ / reference, {case.params} parameters, λ = {case.lam:g}; reference: {what}; tempered "
                f"value / λ = {np.mean(tempered / truth):.2f} (must lie in [{1 - CHECK_BAND}, {1 + CHECK_BAND}])")
        rows.append(control_row(f"{CHECK.label()}: {case.name}", stat, ci, good, [r.run_id], positive=True))
        if "duplicated" in case.name:
            count = r.final("llc_check_params", case.name)
            ci = bootstrap_ci(est / (count / 2), np.mean, clusters=r.worlds)
            good = bool(ci[2] < DEGENERATE_BELOW)
            neg_ok &= good
            rows.append(control_row(f"{CHECK.label()}: {case.name}, parameter count",
                                    f"λ̂ / (parameters/2), {case.params} parameters, λ = {case.lam:g} "
                                    f"(must lie below {DEGENERATE_BELOW})", ci, good, [r.run_id], positive=False))
    return rows, pos_ok, neg_ok


def _mean(v: np.ndarray) -> float:
    return float(np.mean(v)) if len(v) else float("nan")


def procedure_row(sgd: RunResult, reps: dict[Cond, RunResult], fav: Cond | None) -> tuple[Row, bool]:
    """Negative control: SGD's own seeds of its favourite class against that class's representatives."""
    c = fav or PROXY
    sgd, rep = presets.paired(sgd, reps[c])
    ci, n = per_seed(sgd, rep, classes(sgd) == c.cls, kept(rep, c))
    testable = fav is not None and n >= MIN_SEEDS
    ok = bool(testable and -MARGIN < ci[1] and ci[2] < MARGIN)
    row = control_row(f"{SGD.label()} − {LABEL[c]}", f"λ̂ per seed, SGD's own {LABEL[c]} seeds − that class's "
                      f"representatives ({n} seeds; must lie within ±{MARGIN})", ci, ok, [sgd.run_id, rep.run_id],
                      positive=False)
    if not testable:  # no favourite or too few seeds of it: nothing to control, and the verdict is inconclusive anyway
        row.verdict = INCONCLUSIVE
    return row, ok


def loss_matched_row(reps: dict[Cond, RunResult], keep: dict[Cond, np.ndarray], delta: tuple) -> tuple[Row, bool]:
    """Negative control (the loss level): Δλ read with both classes at the same training loss (each at
    its first evaluation with loss ≤ ``MATCH_LOSS``) must keep the end's ordering beyond the margin;
    a difference made by how far each class had fitted by the end would not."""
    proxy, target = reps[PROXY], reps[TARGET]
    both = [keep[c] & np.isfinite(at(reps[c], "llc_matched", -1)) for c in CLASSES]
    ci, n = per_seed(target, proxy, both[1], both[0], inst="llc_matched")
    loss = {c: _mean(at(reps[c], "matched_loss", -1)[b]) for c, b in zip(CLASSES, both)}
    step = {c: _mean(at(reps[c], "matched_step", -1)[b]) for c, b in zip(CLASSES, both)}
    end_loss = {c: _mean(at(reps[c], "train_loss", -1)[keep[c]]) for c in CLASSES}
    testable = n >= MIN_SEEDS
    up = delta[0] > 0  # the end's ordering: the target class higher
    ok = bool(testable and (ci[1] > MARGIN if up else ci[2] < -MARGIN))
    row = control_row("target-class − proxy-class at matched training loss",
                      f"λ̂ per seed, each read at its first evaluation with training loss ≤ {MATCH_LOSS:g} "
                      f"({n} seeds; must lie {'above' if up else 'below'} {'' if up else '−'}{MARGIN}, the end's "
                      f"ordering): losses there {loss[PROXY]:.2g} (proxy-class, step {step[PROXY]:.0f}) and "
                      f"{loss[TARGET]:.2g} (target-class, step {step[TARGET]:.0f}); at the end "
                      f"{end_loss[PROXY]:.2g} and {end_loss[TARGET]:.2g}", ci, ok,
                      [target.run_id, proxy.run_id], positive=False)
    if not testable:  # too few representatives reached the loss: nothing to control, the verdict waits
        row.verdict = INCONCLUSIVE
    return row, ok


def plateau_rows(reps: dict[Cond, RunResult], keep: dict[Cond, np.ndarray]) -> tuple[list[Row], bool]:
    """Negative control (the sampler's equilibrium): per class, λ̂ from the second half of the kept
    draws − from the first half, per seed, must lie within ±``PLATEAU``; the draws-to-plateau curve
    (``llc_draws``) and the loss trace (``llc_trace``) are stored per run for a reader to look at."""
    rows, all_ok = [], True
    for c in CLASSES:
        r = reps[c]
        drift = at(r, "llc_half", -1, "second")[keep[c]] - at(r, "llc_half", -1, "first")[keep[c]]
        ci = bootstrap_ci(drift, np.mean, clusters=r.worlds[keep[c]])
        ok = bool(len(drift) >= MIN_SEEDS and -PLATEAU < ci[1] and ci[2] < PLATEAU)
        all_ok &= ok
        rows.append(control_row(f"{LABEL[c]}: plateau", f"λ̂ from the second half of the kept draws − the first "
                                f"half, per seed, at the end ({len(drift)} seeds; must lie within ±{PLATEAU:g})",
                                ci, ok, [r.run_id], positive=False))
    return rows, all_ok


def measurement_rows(sgd: RunResult, sgd_cls: np.ndarray, reps: dict[Cond, RunResult],
                     keep: dict[Cond, np.ndarray]) -> list[Row]:
    rows = []
    for c, r in reps.items():
        n_keep, n = int(keep[c].sum()), len(keep[c])
        rows.append(Row.of(c.label(), f"representatives kept: of their class and train accuracy ≥ {FIT} on the "
                           f"ρ = 1 set ({n_keep}/{n})",
                           bootstrap_ci(keep[c].astype(float), np.mean, clusters=r.worlds), "measurement",
                           [r.run_id], kind="measurement"))
        for inst, what in (("train_acc", "train accuracy at the end"), ("train_loss", "train loss at the end"),
                           ("llc", "λ̂ at the end"), ("matched_loss", f"train loss where first ≤ {MATCH_LOSS:g}"),
                           ("matched_step", f"step where the train loss is first ≤ {MATCH_LOSS:g}"),
                           ("llc_matched", f"λ̂ where the train loss is first ≤ {MATCH_LOSS:g}")):
            v = at(r, inst, -1)
            fin = np.isfinite(v)
            rows.append(Row.of(c.label(), f"{what} on the ρ = 1 set ({int(fin.sum())}/{len(v)} seeds)",
                               bootstrap_ci(v[fin], np.mean, clusters=r.worlds[fin]), "measurement",
                               [r.run_id], kind="measurement"))
        for k in sorted({f for i, f in r.values if i == "llc_draws"}, key=int):
            rows.append(Row.of(c.label(), f"λ̂ at the end from the first {k} kept draws (draws-to-plateau), all seeds",
                               bootstrap_ci(at(r, "llc_draws", -1, k), np.mean, clusters=r.worlds), "measurement",
                               [r.run_id], kind="measurement"))
    for c in CLASSES:
        mine = sgd_cls == c.cls
        rows.append(Row.of(SGD.label(), f"λ̂ of SGD's own {LABEL[c]} seeds ({int(mine.sum())}/{len(sgd_cls)})",
                           bootstrap_ci(at(sgd, "llc", -1)[mine], np.mean, clusters=sgd.worlds[mine]), "measurement",
                           [sgd.run_id], kind="measurement"))
    rows.append(Row.of(SGD.label(), "train loss on the ρ = 1 set at the end",
                       bootstrap_ci(at(sgd, "train_loss", -1), np.mean, clusters=sgd.worlds), "measurement",
                       [sgd.run_id], kind="measurement"))
    return rows


def analyse(runs: dict[Cond, RunResult]) -> tuple[list[Row], str]:
    sgd, check = runs[SGD], runs[CHECK]
    proxy, target = presets.paired(runs[PROXY], runs[TARGET])
    reps = {PROXY: proxy, TARGET: target}

    sgd_cls = classes(sgd)
    by_cls = {c.cls: c for c in CLASSES}
    (fav, p), (plain_fav, plain_p) = (h3_pairs.favourite(r) for r in (sgd, runs[PLAIN_SGD]))
    fav, plain_fav = by_cls.get(fav), by_cls.get(plain_fav)
    shares = {SGD: p, PLAIN_SGD: plain_p}
    keep = {c: kept(r, c) for c, r in reps.items()}
    delta, n = per_seed(target, proxy, keep[TARGET], keep[PROXY])
    verdict = simplicity_verdict(fav, delta, n >= MIN_SEEDS, plain_fav)
    name = {None: "none", **LABEL}
    rows = [Row.of("target-class − proxy-class", f"λ̂ on the ρ = 1 training set per seed, both representatives "
                   f"counted ({n} seeds; counts beyond {MARGIN}; SGD's favourite: {name[fav]} with Adam, "
                   f"{name[plain_fav]} with plain SGD)", delta, verdict, [target.run_id, proxy.run_id],
                   kind="verdict")]
    rows += [Row.of(run.label(), f"share of seeds ending {LABEL[c]} (classifier: {c.cls})", shares[run][c.cls],
                    "measurement", [runs[run].run_id], kind="measurement") for run in (SGD, PLAIN_SGD) for c in CLASSES]
    check_list, pos_ok, count_ok = check_rows(check)
    proc_row, proc_ok = procedure_row(sgd, reps, fav)
    loss_row, loss_ok = loss_matched_row(reps, keep, delta)
    if not (delta[1] > 0 or delta[2] < 0):
        # no ordering of the classes to guard: the loss level cannot have made one, and a difference that
        # is absent is not one a matched loss could take away
        loss_row.verdict, loss_ok = INCONCLUSIVE, True
        loss_row.statistic += "; not applied: Δλ shows no ordering"
    plateau, plateau_ok = plateau_rows(reps, keep)
    default = {h3_pairs.ADAM: sgd, h3_pairs.PLAIN: runs[PLAIN_SGD], h3_pairs.PROXY_REP: proxy,
               h3_pairs.TARGET_REP: target}
    pair_rows, pair_verdict, pair_plateau_ok = h3_pairs.analyse(
        runs, default, margin=MARGIN, plateau=PLATEAU, match_loss=MATCH_LOSS, fit=FIT, min_seeds=MIN_SEEDS,
        per_seed=per_seed)
    rows += pair_rows[:1] + check_list + [proc_row, loss_row] + plateau + measurement_rows(sgd, sgd_cls, reps, keep)
    rows += pair_rows[1:]
    # the headline rows keep their rules' readings; the claim's verdict waits for the controls
    return rows, combine([verdict, pair_verdict], count_ok and proc_ok and loss_ok and plateau_ok and pair_plateau_ok,
                         pos_ok)


def figures(runs: dict[Cond, RunResult], folder: Path) -> list[str]:
    sgd = runs[SGD]
    reps = {c: runs[c] for c in CLASSES}
    strips = {"end of training": {"SGD's seeds": at(sgd, "llc", -1),
                                  **{LABEL[c]: at(r, "llc", -1) for c, r in reps.items()}},
              f"at train loss ≤ {MATCH_LOSS:g}": {LABEL[c]: at(r, "llc_matched", -1) for c, r in reps.items()}}
    points = {f"{LABEL[c]}, {when}": (at(r, loss, -1), at(r, inst, -1))
              for c, r in reps.items() for loss, inst, when in (("matched_loss", "llc_matched", "matched loss"),
                                                                 ("train_loss", "llc", "end"))}
    points["SGD's seeds, end"] = (at(sgd, "train_loss", -1), at(sgd, "llc", -1))
    pair_strips = {}
    for name in h3_pairs.names(runs):
        got = reps if name == h3_pairs.DEFAULT.name else {c: runs[h3_pairs.PairCond(name, role)] for c, role in
                                                           ((PROXY, h3_pairs.PROXY_REP), (TARGET, h3_pairs.TARGET_REP))}
        pair_strips[name] = {LABEL[c]: at(r, "llc", -1) for c, r in got.items()}
    folder = Path(folder)
    return [strips_figure(folder / "H3_pairs.png", "H3: λ̂ per class pair at the end (lower = more volume)",
                          pair_strips, "local learning coefficient λ̂"),
            strips_figure(folder / "H3_llc.png", "H3: λ̂ on the ρ = 1 training set (lower = more volume)",
                          strips, "local learning coefficient λ̂"),
            scatter_figure(folder / "H3_llc_vs_loss.png", "H3: λ̂ against training loss, per seed", points,
                           "training loss on the ρ = 1 set", "λ̂", logx=True)]
