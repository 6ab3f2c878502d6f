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
- λ̂ of every seed on its world's ρ = 1 training set (n = 8,192, nβ = n/log n, identical settings).
Statistic: Δλ = λ̂(target class) − λ̂(proxy class) per seed (the two representatives of one seed
share its world, initialization seed and data order), over the seeds both of whose representatives
count; its mean, with an interval over worlds. Margin ``MARGIN`` = 1: one unit of λ, the volume of
two regular parameters; the negative control below (one class reached by two procedures) shows how
far λ̂ moves with how a solution was reached rather than which class it is.

Verdict rule (fixed before any run), by the margin-aware rule on Δλ:
- favourite proxy: supported if Δλ's interval lies above the margin (the favourite has the lower
  λ), refuted if it lies below 0 (the favourite has the higher λ); favourite target: mirrored;
  inconclusive with no favourite or with fewer than 3 seeds whose representatives both count;
- inconclusive whatever the above if a negative control fails, and a refutation by the absence of a
  difference also needs the positive control.

Controls (rows of kind "control"):
- positive (planted): the estimator on models of known λ (``llc_runs.LLCCheckSpec``, sixteen
  regression data sets of n = 8,192, the same settings): linear regression with d = 4 and d = 16
  weights (λ = d/2, a difference of 6 planted by hand) must read λ = d/2 within ±25%, the whole
  interval of the mean over the data sets inside the band; no constant passes both d.
- negative, parameter count: one regression with every weight duplicated (2d parameters, λ still
  d/2, d = 8) must read below 0.75 × its parameter count / 2 (interval): λ̂ tracks λ, not the count.
- negative, procedure: SGD's own seeds of its favourite class against that class's representatives,
  per seed: the same class reached by two procedures (training on the ρ = 1 set itself; on ρ = 0.5
  data, labelled). No volume difference between classes is there, but everything else that
  separates the representatives from each other is (the data they were trained on, how tightly they
  fit it, the training loss they end at). The difference's interval must lie within ±``MARGIN``.
- negative, loss level: with logistic loss on separable data the loss never stops falling, and λ̂
  falls with it (the logits grow, the loss flattens: measured before the run, a proxy-class model
  read 5.4 at 100 steps and 1.8 at 3,000). So the ordering must survive a handicap: the class with
  the lower λ̂ at the end, taken at an earlier checkpoint (the first evaluation ≥ 10% of training)
  where its training loss is at least the other class's final loss, must still read lower than the
  other class at the end by more than ``MARGIN`` (per seed, interval). With fewer than 3 such seeds
  there is nothing to control; the row then reads inconclusive, as the claim does. When Δλ shows no
  ordering at all there is nothing for the loss level to have made, and the control is not applied.
SGD's own seeds' λ̂ (by class) are reported beside the representatives' as measurements.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import presets
from greedlab.claims.common import (INCONCLUSIVE, Row, bootstrap_ci, combine, control_row,
                                    verdict_above, verdict_below)
from greedlab.claims.context import Context
from greedlab.experiment import RunResult
from greedlab.instruments.llc import LLCConfig
from greedlab.instruments.model_class import classify
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
"""Regression data sets the estimator check reads each known λ on."""
MARGIN = 1.0
"""The smallest difference in λ̂ between the classes that counts."""


class Cond(NamedTuple):
    """One of H3's runs: its role, and for a representative the class the classifier must read."""

    name: str
    cls: str = ""

    def label(self) -> str:
        return self.name


CHECK, SGD = Cond("estimator check"), Cond("SGD at rho=1")
PROXY = Cond("proxy-class: label a_4, rho=0.5", "proxy")   # the classifier's names (instruments.model_class)
TARGET = Cond("target-class: label chi_0123, rho=0.5", "internal")
LABEL = {PROXY: "proxy-class", TARGET: "target-class"}
CLASSES = (PROXY, TARGET)


def llc_config(ctx: Context) -> LLCConfig:
    """The estimator's settings: the defaults, with one chain at smoke scale (chains change only the
    variance of each model's estimate, not its bias, and smoke verdicts mean nothing)."""
    return LLCConfig(chains=1) if ctx.scale.name == "smoke" else LLCConfig()


def conditions(ctx: Context) -> dict:
    cfg = llc_config(ctx)
    sgd = ctx.spec(presets.world(1.0))
    measured = sgd.world  # the ρ = 1 world with the user's rendering overrides: one training set for all
    # the check keeps the default chains at every scale: it is cheap (0.3 s an estimate), and chains
    # change an estimate's variance only, not the bias the check bounds. 16 data sets: a mean over
    # fewer independent ones has no interval (``stats.MIN_CLUSTERS``)
    return {CHECK: LLCCheckSpec(replace(cfg, chains=LLCConfig().chains), seeds=tuple(range(CHECK_SETS))),
            SGD: LLCRunSpec(sgd, measured, cfg),
            PROXY: LLCRunSpec(ctx.spec(replace(presets.world(0.5), objective="proxy")), measured, cfg, early=True),
            TARGET: LLCRunSpec(ctx.spec(presets.world(0.5)), measured, cfg, early=True)}


def at(r: RunResult, instrument: str, k: int, feature: str = "") -> np.ndarray:
    """Per seed, the value at the k-th measured checkpoint (−1: the end)."""
    return r.curve(instrument, feature)[:, k]


def classes(r: RunResult, k: int = -1) -> np.ndarray:
    return classify({key: v[:, k] for key, v in r.values.items()})


def kept(r: RunResult, c: Cond, k: int = -1) -> np.ndarray:
    """Representatives that count at checkpoint k: of their class and fitting the ρ = 1 set."""
    return (classes(r, k) == c.cls) & (at(r, "train_acc", k) >= FIT)


def favourite(p_proxy: tuple, p_target: tuple) -> Cond | None:
    """The class SGD picks more often than not, by its share's interval; None when neither is clear."""
    if p_proxy[1] > 0.5:
        return PROXY
    if p_target[1] > 0.5:
        return TARGET
    return None


def simplicity_verdict(fav: Cond | None, delta: tuple, enough: bool) -> str:
    """The rule of the docstring on Δλ = λ(target) − λ(proxy) (point, low, high)."""
    if fav is None or not enough:
        return INCONCLUSIVE
    if fav == PROXY:
        return verdict_above(delta[1], delta[2], 0.0, margin=MARGIN)
    return verdict_below(delta[1], delta[2], 0.0, margin=MARGIN)


def per_seed(a: RunResult, b: RunResult, keep_a: np.ndarray, keep_b: np.ndarray,
             ka: int = -1, kb: int = -1) -> tuple[tuple, int]:
    """λ̂(a at checkpoint ka) − λ̂(b at kb) per seed counted in both (the runs share seeds and worlds):
    its mean with an interval over worlds, and the number of seeds."""
    both = keep_a & keep_b
    d = at(a, "llc", ka)[both] - at(b, "llc", kb)[both]
    return bootstrap_ci(d, np.mean, clusters=a.worlds[both]), int(both.sum())


def check_rows(r: RunResult) -> tuple[list[Row], bool, bool]:
    """The estimator's control rows: λ̂/(d/2) on regular models (positive), λ̂/(parameter count/2) on the
    duplicated one (negative). Returns (rows, positive ok, negative ok)."""
    rows, pos_ok, neg_ok = [], True, True
    for kind, d in CHECK_CASES:
        name = f"{kind} d={d}"
        est, truth, count = (r.final(i, name) for i in ("llc_check", "llc_check_truth", "llc_check_params"))
        # the band is on the mean over data sets: it bounds the sampler's bias, which is what the class
        # comparison inherits (its variance is in the comparison's own interval)
        if kind == "regular":
            ci = bootstrap_ci(est / truth, np.mean, clusters=r.worlds)
            good = bool(1 - CHECK_BAND <= ci[1] and ci[2] <= 1 + CHECK_BAND)
            pos_ok &= good
            stat = (f"λ̂ / (d/2) on linear regression, {d} weights: λ planted by hand (must lie in "
                    f"[{1 - CHECK_BAND}, {1 + CHECK_BAND}])")
        else:
            ci = bootstrap_ci(est / (count / 2), np.mean, clusters=r.worlds)
            good = bool(ci[2] < DEGENERATE_BELOW)
            neg_ok &= good
            stat = (f"λ̂ / (parameters/2), {int(count[0])} parameters for {d} weights, λ = {d / 2:g} "
                    f"(must lie below {DEGENERATE_BELOW})")
        rows.append(control_row(f"{CHECK.label()}: {name}", stat, ci, good, [r.run_id], positive=kind == "regular"))
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


def loss_matched_row(reps: dict[Cond, RunResult], keep: dict[Cond, np.ndarray]) -> tuple[Row, bool]:
    """Negative control: the class with the lower λ̂ at the end, handicapped with a higher training loss
    (its earlier checkpoint), against the other class at the end."""
    end = {c: at(r, "llc", -1)[keep[c]] for c, r in reps.items()}
    low = PROXY if _mean(end[PROXY]) <= _mean(end[TARGET]) else TARGET
    high = TARGET if low == PROXY else PROXY
    r_low, r_high = reps[low], reps[high]
    early = kept(r_low, low, 0) & keep[low]
    early_loss, end_loss = at(r_low, "train_loss", 0)[early], at(r_high, "train_loss", -1)[keep[high]]
    handicap = bool(_mean(early_loss) >= _mean(end_loss))  # False when either is empty (NaN)
    ci, n = per_seed(r_high, r_low, keep[high], early, -1, 0)
    testable = n >= MIN_SEEDS
    ok = bool(testable and handicap and ci[1] > MARGIN)
    row = control_row(f"{LABEL[high]} at the end − {LABEL[low]} at step {int(r_low.steps[0])}",
                      f"λ̂ per seed ({n} seeds; must exceed {MARGIN}, with the {LABEL[low]}'s training loss "
                      f"{_mean(early_loss):.2g} ≥ the other's {_mean(end_loss):.2g})", ci, ok,
                      [r_high.run_id, r_low.run_id], positive=False)
    if not testable:  # too few representatives fit: nothing to control, and the verdict is inconclusive anyway
        row.verdict = INCONCLUSIVE
    return row, ok


def measurement_rows(sgd: RunResult, sgd_cls: np.ndarray, reps: dict[Cond, RunResult],
                     keep: dict[Cond, np.ndarray]) -> list[Row]:
    rows = []
    for c, r in reps.items():
        n_keep, n = int(keep[c].sum()), len(keep[c])
        rows.append(Row.of(c.label(), f"representatives kept: of their class and train accuracy ≥ {FIT} on the "
                           f"ρ = 1 set ({n_keep}/{n})",
                           bootstrap_ci(keep[c].astype(float), np.mean, clusters=r.worlds), "measurement",
                           [r.run_id], kind="measurement"))
        for k, when in ((0, f"step {int(r.steps[0])}"), (-1, "end")):
            for inst, what in (("train_acc", "train accuracy"), ("train_loss", "train loss"), ("llc", "λ̂")):
                rows.append(Row.of(c.label(), f"{what} on the ρ = 1 set at {when}, all seeds",
                                   bootstrap_ci(at(r, inst, k), np.mean, clusters=r.worlds), "measurement",
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
    p = {c: bootstrap_ci((sgd_cls == c.cls).astype(float), np.mean, clusters=sgd.worlds) for c in CLASSES}
    fav = favourite(p[PROXY], p[TARGET])
    keep = {c: kept(r, c) for c, r in reps.items()}
    delta, n = per_seed(target, proxy, keep[TARGET], keep[PROXY])
    verdict = simplicity_verdict(fav, delta, n >= MIN_SEEDS)
    rows = [Row.of("target-class − proxy-class", f"λ̂ on the ρ = 1 training set per seed, both representatives "
                   f"counted ({n} seeds; counts beyond {MARGIN}; SGD's favourite: "
                   f"{'none' if fav is None else LABEL[fav]})", delta, verdict, [target.run_id, proxy.run_id],
                   kind="verdict")]
    rows += [Row.of(SGD.label(), f"share of seeds ending {LABEL[c]} (classifier: {c.cls})", p[c], "measurement",
                    [sgd.run_id], kind="measurement") for c in CLASSES]
    check_list, pos_ok, count_ok = check_rows(check)
    proc_row, proc_ok = procedure_row(sgd, reps, fav)
    loss_row, loss_ok = loss_matched_row(reps, keep)
    if not (delta[1] > 0 or delta[2] < 0):
        # no ordering of the classes to guard: the loss level cannot have made one, and a difference that
        # is absent is not one the handicap could take away
        loss_row.verdict, loss_ok = INCONCLUSIVE, True
        loss_row.statistic += "; not applied: Δλ shows no ordering"
    rows += check_list + [proc_row, loss_row] + measurement_rows(sgd, sgd_cls, reps, keep)
    # the headline row keeps the rule's reading; the claim's verdict waits for the controls
    return rows, combine([verdict], count_ok and proc_ok and loss_ok, pos_ok)


def figures(runs: dict[Cond, RunResult], folder: Path) -> list[str]:
    sgd = runs[SGD]
    reps = {c: runs[c] for c in CLASSES}
    strips = {"end of training": {"SGD's seeds": at(sgd, "llc", -1),
                                  **{LABEL[c]: at(r, "llc", -1) for c, r in reps.items()}},
              "earlier checkpoint": {LABEL[c]: at(r, "llc", 0) for c, r in reps.items()}}
    points = {f"{LABEL[c]}, {when}": (at(r, "train_loss", k), at(r, "llc", k))
              for c, r in reps.items() for k, when in ((0, "early"), (-1, "end"))}
    points["SGD's seeds, end"] = (at(sgd, "train_loss", -1), at(sgd, "llc", -1))
    folder = Path(folder)
    return [strips_figure(folder / "H3_llc.png", "H3: λ̂ on the ρ = 1 training set (lower = more volume)",
                          strips, "local learning coefficient λ̂"),
            scatter_figure(folder / "H3_llc_vs_loss.png", "H3: λ̂ against training loss, per seed", points,
                           "training loss on the ρ = 1 set", "λ̂", logx=True)]
