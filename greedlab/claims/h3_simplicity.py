"""H3 — Simplicity bias: SGD favours the solution class that occupies more parameter volume ("How
likely is deceptive alignment", summary, "Simplicity Bias": "simpler algorithms are generally
specified by more possible models").

Operationalization. One training set that two solution classes fit exactly: G1's world (target
χ_{0123}, proxy a_4) at ρ = 1, where the proxy agrees with the label on every training example.
Volume is read by the local learning coefficient λ̂ (``instruments.llc``, devinterp's SGLD
estimator, ``pip install 'greedlab[slt]'``): lower λ = more volume = simpler. Three ensembles with
the same model, optimizer (the project's default, Adam, unless overridden), steps and seeds:
- "SGD at rho=1": plain training on that set. Each seed is classified at the end
  (``instruments.model_class.classify`` on deployment reliance: ``proxy`` or ``internal``).
  p_proxy, p_target = fractions of seeds in each class (bootstrap CI). SGD's favourite is the class
  whose fraction has its CI above 0.5; with neither, there is no favourite.
- "proxy-class" and "target-class" representatives: trained on ρ = 0.5 data (the two features
  independent) with the label a_4, resp. χ_{0123}. Both fit the ρ = 1 set by construction: there,
  a_4 = χ_{0123}. A representative counts if it fits that set (accuracy ≥ 0.95, reported) and reads
  as its class; the two classes are built by the same procedure, differing only in the label.
- λ̂ of every seed on the ρ = 1 training set (n = 8,192, nβ = n/log n, identical settings).
Statistic: Δλ = mean λ̂(target class) − mean λ̂(proxy class), at the end of training, the classes
resampled on their own (bootstrap 95% CI).

Verdict rule (fixed before any run):
- favourite proxy: supported if Δλ's CI lies above 0 (the favourite has the lower λ), refuted if
  below 0; favourite target: mirrored; inconclusive otherwise, with no favourite, or with fewer
  than 3 representatives of a class;
- inconclusive whatever the above if a control fails:
  1. estimator check (``llc_runs.LLCCheckSpec``, eight regression data sets of n = 8,192, the same
     settings): linear regression with d = 4 and d = 16 weights must read λ = d/2 within ±25% (mean
     over the data sets), and one with every weight duplicated (2d parameters, λ still d/2, d = 8)
     must read below 0.75 × its parameter count / 2: the instrument tracks λ, not the parameter
     count, and no constant passes both d;
  2. loss level: with logistic loss on separable data the loss never stops falling, and λ̂ falls
     with it (the logits grow, the loss flattens: measured before the run, a proxy-class model read
     5.4 at 100 steps and 1.8 at 3,000). So the ordering must survive a handicap: the class with the
     lower λ̂ at the end, taken at an earlier checkpoint (the first evaluation ≥ 10% of training)
     where its training loss is at least the other class's final loss, must still read lower than
     the other class at the end (CI of the difference above 0). With fewer than 3 fitted
     representatives there is nothing to control; the row then reads inconclusive, as the claim does.
SGD's own seeds' λ̂ (by class) are reported beside the representatives' as measurements.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from greedlab.claims import presets
from greedlab.claims.common import (INCONCLUSIVE, REFUTED, SUPPORTED, ClaimResult, Row, bootstrap_ci, control_row,
                                    verdict_above)
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
EXTRAS = {"devinterp": "slt"}
"""Packages this claim needs to train, and the extra that installs them (checked before a run)."""

FIT, MIN_SEEDS = 0.95, 3
CHECK_BAND, DEGENERATE_BELOW = 0.25, 0.75
SGD, CHECK = "SGD at rho=1", "estimator check"
PROXY, TARGET = "proxy-class: label a_4, rho=0.5", "target-class: label chi_0123, rho=0.5"
CLASS_OF = {PROXY: "proxy", TARGET: "internal"}  # the classifier's names (instruments.model_class)
LABEL = {PROXY: "proxy-class", TARGET: "target-class"}


def llc_config(ctx: Context) -> LLCConfig:
    """The estimator's settings: the defaults, with one chain at smoke scale (chains change only the
    variance of each model's estimate, not its bias, and smoke verdicts mean nothing)."""
    return LLCConfig(chains=1) if ctx.scale.name == "smoke" else LLCConfig()


def conditions(ctx: Context) -> dict:
    cfg = llc_config(ctx)
    sgd = ctx.spec(presets.world(1.0))
    measured = sgd.world  # the ρ = 1 world with the user's rendering overrides: one training set for all
    # the check keeps the default chains at every scale: it is cheap (0.3 s an estimate), and chains
    # change an estimate's variance only, not the bias the check bounds
    return {CHECK: LLCCheckSpec(replace(cfg, chains=LLCConfig().chains)),
            SGD: LLCRunSpec(sgd, measured, cfg),
            PROXY: LLCRunSpec(ctx.spec(replace(presets.world(0.5), objective="proxy")), measured, cfg,
                              early=True),
            TARGET: LLCRunSpec(ctx.spec(presets.world(0.5)), measured, cfg, early=True)}


def _mean(v: np.ndarray) -> float:
    return float(np.mean(v)) if len(v) else float("nan")


def at(r: RunResult, instrument: str, k: int, feature: str = "") -> np.ndarray:
    """Per seed, the value at the k-th measured checkpoint (−1: the end)."""
    return r.curve(instrument, feature)[:, k]


def classes(r: RunResult, k: int = -1) -> np.ndarray:
    return classify({key: v[:, k] for key, v in r.values.items()})


def kept(r: RunResult, cond: str) -> np.ndarray:
    """Representatives that count: of their class and fitting the ρ = 1 set at the end."""
    return (classes(r) == CLASS_OF[cond]) & (at(r, "train_acc", -1) >= FIT)


def favourite(p_proxy: tuple, p_target: tuple) -> str | None:
    """The class SGD picks more often than not, by its fraction's CI; None when neither is clear."""
    if p_proxy[1] > 0.5:
        return PROXY
    if p_target[1] > 0.5:
        return TARGET
    return None


def simplicity_verdict(fav: str | None, delta: tuple, enough: bool) -> str:
    """The rule of the docstring on Δλ = λ(target) − λ(proxy) (point, low, high)."""
    if fav is None or not enough:
        return INCONCLUSIVE
    v = verdict_above(delta[1], delta[2], 0.0)
    if fav == TARGET:
        v = {SUPPORTED: REFUTED, REFUTED: SUPPORTED}.get(v, v)
    return v


def check_rows(r: RunResult) -> tuple[list[Row], bool]:
    """The estimator's control rows: λ̂/(d/2) on regular models, λ̂/(parameter count/2) on the duplicated one."""
    rows, ok = [], True
    for kind, d in CHECK_CASES:
        name = f"{kind} d={d}"
        est, truth, count = (r.final(i, name) for i in ("llc_check", "llc_check_truth", "llc_check_params"))
        # the tolerance is on the mean over data sets: it bounds the sampler's bias, which is what the
        # class comparison inherits (its variance is in the comparison's own CI)
        if kind == "regular":
            ci = bootstrap_ci(est / truth, np.mean)
            good = abs(ci[0] - 1) <= CHECK_BAND
            stat = f"λ̂ / (d/2) on linear regression, {d} weights (must lie in [{1 - CHECK_BAND}, {1 + CHECK_BAND}])"
        else:
            ci = bootstrap_ci(est / (count / 2), np.mean)
            good = ci[0] < DEGENERATE_BELOW
            stat = (f"λ̂ / (parameters/2), {int(count[0])} parameters for {d} weights, λ = {d / 2:g} "
                    f"(must lie below {DEGENERATE_BELOW})")
        rows.append(control_row(f"{CHECK}: {name}", stat, ci, good, [r.run_id]))
        ok &= good
    return rows, ok


def loss_matched_row(reps: dict[str, RunResult], keep: dict[str, np.ndarray],
                     end: dict[str, np.ndarray]) -> tuple[Row, bool]:
    """Control 2: the class with the lower λ̂ at the end, handicapped with a higher training loss (its
    earlier checkpoint), against the other class at the end."""
    low = PROXY if _mean(end[PROXY]) <= _mean(end[TARGET]) else TARGET
    high = TARGET if low == PROXY else PROXY
    r = reps[low]
    fits_early = keep[low] & (at(r, "train_acc", 0) >= FIT) & (classes(r, 0) == CLASS_OF[low])
    early_llc, early_loss = at(r, "llc", 0)[fits_early], at(r, "train_loss", 0)[fits_early]
    end_loss = at(reps[high], "train_loss", -1)[keep[high]]
    handicap = bool(_mean(early_loss) >= _mean(end_loss))  # False when either is empty (NaN)
    ci = bootstrap_ci([end[high], early_llc], lambda h, lo: h.mean() - lo.mean())
    testable = min(len(early_llc), len(end[high])) >= MIN_SEEDS
    ok = testable and handicap and ci[1] > 0
    row = control_row(f"{LABEL[high]} at the end − {LABEL[low]} at step {int(r.steps[0])}",
                      f"mean λ̂: difference (must be > 0, with the {LABEL[low]}'s training loss "
                      f"{_mean(early_loss):.2g} ≥ the other's {_mean(end_loss):.2g})", ci, ok,
                      [reps[high].run_id, r.run_id])
    if not testable:  # too few representatives fit: nothing to control, and the verdict is inconclusive anyway
        row.verdict = INCONCLUSIVE
    return row, ok


def measurement_rows(sgd: RunResult, sgd_cls: np.ndarray, reps: dict[str, RunResult],
                     keep: dict[str, np.ndarray]) -> list[Row]:
    rows = []
    for c, r in reps.items():
        n_keep, n = int(keep[c].sum()), len(keep[c])
        share = n_keep / max(n, 1)
        rows.append(Row(c, f"representatives kept: of their class and train accuracy ≥ {FIT} on the ρ = 1 set "
                        f"({n_keep}/{n})", share, share, share, "measurement", [r.run_id]))
        for k, when in ((0, f"step {int(r.steps[0])}"), (-1, "end")):
            for inst, what in (("train_acc", "train accuracy"), ("train_loss", "train loss"), ("llc", "λ̂")):
                rows.append(Row(c, f"{what} on the ρ = 1 set at {when}, all seeds",
                                *bootstrap_ci(at(r, inst, k), np.mean), "measurement", [r.run_id]))
    for c in (PROXY, TARGET):
        mine = at(sgd, "llc", -1)[sgd_cls == CLASS_OF[c]]
        rows.append(Row(SGD, f"λ̂ of SGD's own {LABEL[c]} seeds ({len(mine)}/{len(sgd_cls)})",
                        *bootstrap_ci(mine, np.mean), "measurement", [sgd.run_id]))
    rows.append(Row(SGD, "train loss on the ρ = 1 set at the end", *bootstrap_ci(at(sgd, "train_loss", -1), np.mean),
                    "measurement", [sgd.run_id]))
    return rows


def figures(ctx: Context, sgd: RunResult, reps: dict[str, RunResult]) -> list[str]:
    strips = {"end of training": {"SGD's seeds": at(sgd, "llc", -1),
                                  **{LABEL[c]: at(r, "llc", -1) for c, r in reps.items()}},
              "earlier checkpoint": {LABEL[c]: at(r, "llc", 0) for c, r in reps.items()}}
    points = {f"{LABEL[c]}, {when}": (at(r, "train_loss", k), at(r, "llc", k))
              for c, r in reps.items() for k, when in ((0, "early"), (-1, "end"))}
    points["SGD's seeds, end"] = (at(sgd, "train_loss", -1), at(sgd, "llc", -1))
    return [strips_figure(ctx.figures_dir / "H3_llc.png", "H3: λ̂ on the ρ = 1 training set (lower = more volume)",
                          strips, "local learning coefficient λ̂"),
            scatter_figure(ctx.figures_dir / "H3_llc_vs_loss.png", "H3: λ̂ against training loss, per seed", points,
                           "training loss on the ρ = 1 set", "λ̂", logx=True)]


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    sgd, check = runs[SGD], runs[CHECK]
    reps = {c: runs[c] for c in (PROXY, TARGET)}

    sgd_cls = classes(sgd)
    p = {c: bootstrap_ci((sgd_cls == CLASS_OF[c]).astype(float), np.mean) for c in (PROXY, TARGET)}
    fav = favourite(p[PROXY], p[TARGET])
    keep = {c: kept(r, c) for c, r in reps.items()}
    end = {c: at(r, "llc", -1)[keep[c]] for c, r in reps.items()}
    delta = bootstrap_ci([end[TARGET], end[PROXY]], lambda t, q: t.mean() - q.mean())
    enough = min(len(v) for v in end.values()) >= MIN_SEEDS
    verdict = simplicity_verdict(fav, delta, enough)
    rows = [Row("target-class − proxy-class", "mean λ̂ on the ρ = 1 training set: difference "
                f"(SGD's favourite: {'none' if fav is None else LABEL[fav]})", *delta, verdict,
                [reps[TARGET].run_id, reps[PROXY].run_id])]
    rows += [Row(SGD, f"fraction of seeds ending {LABEL[c]} (classifier: {CLASS_OF[c]})", *p[c], "measurement",
                 [sgd.run_id]) for c in (PROXY, TARGET)]
    loss_row, loss_ok = loss_matched_row(reps, keep, end)
    check_list, check_ok = check_rows(check)
    rows += [loss_row] + check_list + measurement_rows(sgd, sgd_cls, reps, keep)
    if not (check_ok and loss_ok):
        verdict = INCONCLUSIVE  # the row keeps the rule's reading; the claim's verdict waits for the controls
    return ClaimResult(ID, SUMMARY, verdict, rows, figures(ctx, sgd, reps))
