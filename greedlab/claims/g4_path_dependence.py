"""G4 — Which features are learned, and in what order, is robust across runs; the final objective
(the mix of target and proxy reliance) is strongly path-dependent ("Greed Is the Root of This
Evil", §2, closing parenthesis).

Operationalization: on the default world at ρ ∈ {0.9, 0.97, 0.99}, one ensemble per ρ and source of
variation, the other two held fixed: "init" (only the initialization differs between members: one
world, one data order), "order" (only the data order: one world, one initialization) and "world"
(only the data: one initialization and data order, each member its own world draw).
Intervals: with "init" or "order" the members share one world and are independent draws of the
varied source within it, so their intervals treat members as the unit (clusters=None) and speak of
that world; with "world" every member is its own world.
- Order agreement: each member's onset steps (first evaluation at or past a fixed threshold; 'never'
  ties one step past the end) of five learning events that no inequality orders (``EVENTS``): the
  proxy relied on (reliance on a_4 ≥ 0.5), the target decodable in the first hidden layer (≥ 0.9),
  the target decodable in the last hidden layer (≥ 0.9), the proxy's exceptions memorized (accuracy
  on the training examples where a_4 disagrees with the label ≥ 0.9) and the target relied on
  (reliance on χ_{0123} ≥ 0.5); Kendall τ-b between every pair of members, averaged per member.
  "High": the interval of the mean lies above TAU_HIGH = 0.5 by MARGIN_TAU = 0.1, in every
  condition (an intersection of tests: no adjustment).
  Why no event implies another (so a τ near 1 is something SGD did, not logic): reliances are Walsh
  coefficients of the decision on orthogonal monomials (a_4 and χ_{0123}), so either can reach 0.5
  with the other at 0 (ρ = 0.5 runs use the target and never the proxy; ρ = 0.99 runs the reverse);
  soft reliance 0.5 on the target (E[tanh(f/2)·χ_T]) guarantees only that the output's sign, a
  linear read-out of the last layer, is right on half the samples, far from a probe's 0.9, and a
  decodable target need not be used; a probe on one layer bounds nothing about another (the layers
  are joined by a ReLU map, which can lose or create linear decodability); the exceptions, 1 − ρ of
  the training set, can be memorized without the target (ρ = 0.99 members do it at steps 700–900
  and never use the target) and target reliance 0.5 does not force them fitted. The earlier five
  events (proxy reliance, target decodable, target reliance, train accuracy ≥ 0.99, deployment
  accuracy ≥ 0.9) were nested (deployment accuracy 0.9 forces hard target reliance ≥ 0.8; train
  accuracy 0.99 at ρ = 0.9 forces most of the exceptions fitted), so their τ was in part forced; it is
  reported beside as a measurement (``NESTED_EVENTS``). A member's events shuffled at random give
  τ ≈ 0 and a fixed order τ = 1 (tests/test_claims_g1_g4.py): the statistic is not bound to read 1.
- Objective dispersion: the SD across members of final target reliance (interval: ``stats.sd_ci``,
  which errs toward larger SDs; the percentile bootstrap of np.std lay wholly below the true SD a
  third of the time). "Dispersed" means above DISPERSED = 0.05, the smallest spread that counts —
  three times the ~0.016 standard error of one reliance reading on 4,096 deployment samples — at
  some ρ (three chances per source: intervals at Holm's levels, ``stats.holm_intervals``), for every
  source; "not dispersed" at a ρ when the interval lies wholly below it. The SD of final proxy
  reliance and the pairwise disagreement rate on deployment are reported beside it.
Rule (``common.combine``): order robust and objective dispersed (both supported) with both controls
passing → supported; either part refuted with both controls passing → refuted; else inconclusive.

Controls of the dispersion part:
- negative, "a pinned intermediate objective": a world whose label is the target χ_{01} where a cue
  a_5 is +1 and the proxy a_4 where it is −1 (``objective="gated"``), seeds varied in init and order
  over several worlds. Every member must fit both halves of the data, so the end point is the same
  for all — the mechanism (an objective set by which heuristic came first) is absent — but it sits at
  target reliance ≈ 0.5, far from the floor and ceiling that pinned the old controls; measurement
  noise, unfinished training and the SD estimator's behaviour would all still show as spread. The
  SD must stay below DISPERSED (interval wholly below). It replaces ρ = 0.5 and ρ = 1.0, where
  every member ends at reliance 1 or 0 and no spread is possible.
- positive, "spread planted by hand": the members of the ρ = 0.5 and ρ = 1.0 runs (G3's) pooled, half
  ending on the target and half on the proxy: a spread of about 0.5 made by construction, which the
  same instrument and interval must read as dispersed.

At the quick scale (hierarchy world, 16 seeds), re-read from the stored runs with the five events
that no inequality orders: order agreement at ρ = 0.9 0.96 [0.94, 0.97] (init), 0.97 [0.96, 0.97]
(order), 0.95 [0.93, 0.96] (world); at ρ = 0.97 0.90 [0.82, 0.91], 0.96 [0.93, 0.97], 0.84 [0.78,
0.87]; at ρ = 0.99 1.00 [0.79, 1] for each source — there only two events occur (the proxy relied on
at step 11–19, its exceptions memorized at 700–900; the target is never decodable nor used), and all
members share that order. Each member's onsets shuffled read 0.01–0.02 in every condition: robust,
and not by construction. The earlier nested events read 0.92–1.00 (reported beside). The SD of
final target reliance is above the margin only at ρ = 0.97 with the world varied, 0.083 [0.055,
0.159]; init varied 0.072 [0.046, 0.137] and order varied 0.026 [0.014, 0.059] straddle it; at
ρ = 0.9 and 0.99 every source is below it. Gated 0.008 [0.003, 0.033] (ok), pooled 0.50 (ok):
inconclusive (dispersion not shown for init or order).

Path dependence or memorization? (The training-set axis, fixed in code before any quick run of it;
measurements, no part of the verdict.) At ρ = 0.97 every member reaches train accuracy 1.000, so the
≈ 250 proxy exceptions among the 8,192 training examples are memorized, and the spread of final
target reliance could be the memorization route (Sagawa et al. 2020: which members memorize the
exceptions rather than learn the target) rather than a path. So the dispersion at MEMO_RHO = 0.97 is
read again where nothing can be memorized: online (a fresh batch every step, ``presets.ONLINE``),
- per source, init and world varied (``MEMO_SOURCES``), as G4's own conditions at ρ = 0.97 (the
  memorizable fixed set) with the world online: full-size arms (16 members: an SD of members that
  share one world is bounded only from 16, ``stats.MIN_CLUSTERS``); the order source is left out
  (its online stream is the thing varied: no fixed order to compare);
- with init and world varied together (``BOTH``), at every training set of ``presets.TRAIN_SIZES``:
  G3's memorization arms (``setups.memorization_arm``, 8 members in 4 worlds, the same run ids,
  trained once) and the default run at ρ = 0.97 (G3's and H1's) restricted to the same 8 members.
Per regime, rows: the SD of final target reliance (``stats.sd_ci`` at 95%, unadjusted) read by the
dispersion rule (``dispersed``: above DISPERSED, or wholly below it), mean final target reliance,
final accuracy on the proxy's exceptions (fixed sets: memorization; online: training-split
exceptions the stream never drew, i.e. the target generalized) with the final train accuracy. Per
source a summary row: "dispersed without memorization" (online dispersed), "dispersed only with
memorization" (online wholly below DISPERSED, a fixed set dispersed), "not dispersed either way"
(all wholly below) or "undecided". Added quick cost: 2 arms × 16 members × 1,500 steps = 48,000
model-steps; the BOTH regimes are G3's runs and add nothing.

Real data (greedlab.claims.real_data): the same parts and positive control on MNIST-1D and digits at
ρ = 0.97 (class group as target, marker as proxy); a gated objective does not exist there, so real
data has no negative control and its verdict cannot be "supported". With the five events: digits
0.79 [0.74, 0.83] (init), 0.97 (order), 0.91 (world); MNIST-1D 1.00 for each source, vacuously — only
the proxy's event occurs there within the run (the events-per-member row says so); on digits the
class is decodable in both layers at step 0 in most members, so those two events tie first.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import real_data
from greedlab.claims.common import (ACCURACY, CORRELATION, REFUTED, RELIANCE, SD_OF_RELIANCE, SUPPORTED, Row, all_agree,
                                    any_supports, bootstrap_ci, censor, combine, control_row, verdict_above)
from greedlab.claims.context import Context
from greedlab.claims.presets import (DEFAULT_TRAIN, ONLINE, TRAIN_SIZES, best_decodability, exception_row,
                                     memorization_reading, paired_members, train_set_name, train_set_world, world)
from greedlab.claims.setups import memorization_arm
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import RELIANCE_ONSET, REPRESENTED, onset
from greedlab.report.figures import histograms_figure
from greedlab.stats import LEVEL, holm_intervals, mean_ci, sd_ci

ID = "G4"
SUMMARY = "Feature order is robust across runs; the final objective is path-dependent."
SOURCE = "greed-is-the-root-of-this-evil.txt, §2 “How does that lead to inner misalignment?” (closing parenthesis)"
QUOTE = ("The features the ML models learn, and their order, appear to be a robust function of the training data + "
         "the training process, so I suspect there isn't much variance across training runs. But the final "
         "mesa-objectives are a function of a function of ... a function of the initially-learned shallow "
         "heuristics — I expect there is strong path-dependence in that sense.")
RHOS = (0.9, 0.97, 0.99)
REAL_RHOS = (0.97,)  # on the hierarchy world the final objective dispersed only near ρ = 0.97
SOURCES = ("init", "order", "world")
POOLED_RHOS = (0.5, 1.0)
TAU_HIGH = 0.5
MARGIN_TAU = 0.1
"""Kendall τ: how far above TAU_HIGH order agreement must lie to count as high."""
DISPERSED = 0.05
"""SD of final target reliance: the smallest spread that counts (3 SE of one reliance reading)."""
GATED = replace(world(0.9), target=(0, 1), cue=5, objective="gated")

MAIN, NEGATIVE, POSITIVE = "main", "negative", "positive"


class Key(NamedTuple):
    """A condition: its world (the hierarchy or a real dataset), arm, ρ and varied source."""

    dataset: str
    arm: str
    rho: float | None = None
    source: str = "both"

    def label(self) -> str:
        if self.arm == NEGATIVE:
            text = "control (negative): gated objective chi_01 / a_4 by cue a_5"
        elif self.arm == POSITIVE:
            text = f"control (positive): rho={self.rho} of the pooled rho={POOLED_RHOS[0]} and rho={POOLED_RHOS[1]}"
        else:
            text = f"rho={self.rho}, {self.source} varied"
        return real_data.label(self.dataset, text)


MEMO_RHO = 0.97
MEMO_SOURCES = ("init", "world")
BOTH = "both"
DISPERSED_WITHOUT, DISPERSED_ONLY_MEMORIZING = "dispersed without memorization", "dispersed only with memorization"
NOT_DISPERSED, UNDECIDED = "not dispersed either way", "undecided"


class Memo(NamedTuple):
    """A condition of the training-set axis at MEMO_RHO: the varied source (one of MEMO_SOURCES, or BOTH:
    init and world together) and the training set (``presets.TRAIN_SIZES``; ONLINE: none fixed)."""

    source: str
    n_train: int

    def label(self) -> str:
        what = "init and world varied" if self.source == BOTH else f"{self.source} varied"
        return f"rho={MEMO_RHO}, {what}, {train_set_name(self.n_train)}"


def memo_specs(ctx: Context) -> dict[Memo, RunSpec]:
    """The axis's conditions: per source its online arm (the fixed set is G4's own run); with BOTH varied
    every training set, G3's arms and the default run at MEMO_RHO (shared, trained once)."""
    specs = {Memo(src, ONLINE): ctx.spec(train_set_world(MEMO_RHO, ONLINE), vary=src) for src in MEMO_SOURCES}
    specs.update({Memo(BOTH, n): ctx.spec(world(MEMO_RHO)) if n == DEFAULT_TRAIN else memorization_arm(ctx, MEMO_RHO, n)
                  for n in TRAIN_SIZES})
    return specs


def conditions(ctx: Context) -> dict[Key | Memo, RunSpec]:
    h = real_data.HIERARCHY
    specs = {Key(h, MAIN, rho, src): ctx.spec(world(rho), vary=src) for rho in RHOS for src in SOURCES}
    specs[Key(h, NEGATIVE)] = ctx.spec(GATED)
    specs.update({Key(h, POSITIVE, rho): ctx.spec(world(rho)) for rho in POOLED_RHOS})
    for ds in real_data.DATASETS:
        specs.update({Key(ds, MAIN, rho, src): real_data.spec(ctx, ds, rho, vary=src)
                      for rho in REAL_RHOS for src in SOURCES})
        specs.update({Key(ds, POSITIVE, rho): real_data.spec(ctx, ds, rho) for rho in POOLED_RHOS})
    specs.update(memo_specs(ctx))
    return specs


def clusters(r: RunResult) -> np.ndarray | None:
    """The unit an interval resamples: worlds, or members when they all share one world (only init or
    data order varied: independent draws of that source, given the world)."""
    w = r.worlds
    return None if len(np.unique(w)) == 1 else w


EXCEPTIONS_FIT = 0.9
"""Accuracy on the proxy's exceptions at which they count as memorized (chance 0.5; a proxy-bound
model scores near 0 there)."""
EVENTS = ("proxy relied on", "target decodable, first hidden layer", "target decodable, last hidden layer",
          "proxy's exceptions memorized", "target relied on")
"""The order statistic's events, none implied by another (module docstring)."""
NESTED_EVENTS = ("proxy relied on", "target decodable (best layer)", "target relied on", "train accuracy 0.99",
                 "deployment accuracy 0.9")
"""The earlier events, in part nested by logic: their τ is reported, not judged."""


def event_onsets(r: RunResult) -> np.ndarray:
    """(N, 5) onset steps of ``EVENTS``, censored one step past the end."""
    layers = r.layers()
    ev = [onset(r.steps, r.curve("reliance", "proxy0"), RELIANCE_ONSET),
          onset(r.steps, r.curve(f"decodability:{layers[0]}", "target"), REPRESENTED),
          onset(r.steps, r.curve(f"decodability:{layers[-1]}", "target"), REPRESENTED),
          onset(r.steps, r.curve("exception_acc", "proxy0"), EXCEPTIONS_FIT),
          onset(r.steps, r.curve("reliance", "target"), RELIANCE_ONSET)]
    return censor(np.stack(ev, axis=1), int(r.steps[-1]))


def nested_onsets(r: RunResult) -> np.ndarray:
    """(N, 5) onset steps of ``NESTED_EVENTS`` (the earlier statistic's), censored one step past the end."""
    ev = [onset(r.steps, r.curve("reliance", "proxy0"), RELIANCE_ONSET),
          onset(r.steps, best_decodability(r, "target"), REPRESENTED),
          onset(r.steps, r.curve("reliance", "target"), RELIANCE_ONSET),
          onset(r.steps, r.curve("train_acc"), 0.99),
          onset(r.steps, r.curve("deploy_acc"), 0.9)]
    return censor(np.stack(ev, axis=1), int(r.steps[-1]))


def order_agreement(onsets: np.ndarray) -> np.ndarray:
    """(N,): each member's mean Kendall τ-b with every other member's event order (1 where both tie
    all events alike; 0 where one of them ties all and the other does not: τ is undefined there).

    τ-b of members a and b is Σ s_a·s_b / √(n_a·n_b) over event pairs, s = sign of the onset
    difference and n the untied pairs: one matrix product for every pair of members at once."""
    n, k = onsets.shape
    i, j = np.triu_indices(k, 1)
    s = np.sign(onsets[:, i] - onsets[:, j])
    untied = (s != 0).sum(axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = (s @ s.T) / np.sqrt(np.outer(untied, untied))
    same = (onsets[:, None, :] == onsets[None, :, :]).all(axis=-1)
    tau = np.where(same, 1.0, np.nan_to_num(tau, nan=0.0))
    return (tau.sum(axis=1) - 1) / max(n - 1, 1)


SHUFFLES = 20
"""Fixed random permutations of each member's onsets for the shuffled reference (seeded: analyse stays pure)."""


def shuffled_agreement(onsets: np.ndarray, n: int = SHUFFLES, seed: int = 0) -> np.ndarray:
    """(N,): each member's order agreement when every member's onsets are permuted at random, averaged
    over ``n`` fixed draws: what the same onsets (ties and 'never' included) give when no order is
    shared. Near 0 where the statistic is not forced by the onsets' values themselves."""
    rng = np.random.default_rng(seed)
    return np.mean([order_agreement(np.array([rng.permutation(row) for row in onsets])) for _ in range(n)], axis=0)


def spread(x: np.ndarray, c: np.ndarray | None, level: float = LEVEL) -> tuple:
    """The SD of reliances (values in [−1, 1], so an SD of at most 1: the interval is clipped there)."""
    return sd_ci(x, clusters=c, level=level).within(*SD_OF_RELIANCE)


def dispersed(lo: float, hi: float) -> str:
    """Supported above the margin (underpowered when the interval straddles it wider than twice it);
    an SD cannot fall below 0, so "not dispersed" is the interval wholly below the margin itself."""
    v = verdict_above(lo, hi, 0.0, margin=DISPERSED)
    return REFUTED if v != SUPPORTED and hi < DISPERSED else v


def dispersion_rows(runs: dict[float, RunResult], src: str, name) -> tuple[list[Row], list[str]]:
    """One source's dispersion at each ρ, Holm-adjusted over the ρ (dispersed at *some* ρ is the claim)."""
    rhos = sorted(runs)
    finals = {rho: runs[rho].final("reliance", "target") for rho in rhos}
    cis = holm_intervals([lambda lvl, rho=rho: spread(finals[rho], clusters(runs[rho]), lvl) for rho in rhos],
                         [DISPERSED] * len(rhos))
    rows, verdicts = [], []
    for rho, ci in zip(rhos, cis):
        v = dispersed(ci[1], ci[2])
        rows.append(Row.of(name(rho), f"dispersion: SD of final target reliance (margin {DISPERSED}; Holm over "
                                      f"{len(rhos)} rho)", ci, v, [runs[rho].run_id], kind="verdict"))
        verdicts.append(v)
    return rows, verdicts


def analyse_world(runs: dict[Key, RunResult], ds: str, rhos: tuple[float, ...]) -> tuple[list[Row], str, Row]:
    """Order agreement and dispersion per ρ and source and the controls on one world's runs. Returns
    the rows, the verdict and a summary row (the parts and the largest spread)."""
    rows: list[Row] = []
    taus, by_source = [], {}
    for src in SOURCES:
        mains = {rho: runs[Key(ds, MAIN, rho, src)] for rho in rhos}
        for rho, r in mains.items():
            cond = Key(ds, MAIN, rho, src).label()
            c = clusters(r)
            tau = bootstrap_ci(order_agreement(event_onsets(r)), np.mean, clusters=c, support=CORRELATION)
            rows.append(Row.of(cond, f"order agreement: mean Kendall tau of the onsets of {len(EVENTS)} events no "
                                     f"inequality orders (> {TAU_HIGH}, margin {MARGIN_TAU})", tau,
                               verdict_above(tau[1], tau[2], TAU_HIGH, margin=MARGIN_TAU), [r.run_id], kind="verdict"))
            taus.append(rows[-1].verdict)
            on = event_onsets(r)
            occurred = (on <= r.steps[-1]).sum(axis=1).astype(float)
            for stat, ci in (("order agreement, each member's onsets shuffled (what no shared order gives)",
                              bootstrap_ci(shuffled_agreement(on), np.mean, clusters=c, support=CORRELATION)),
                             # a count, not a share: mean_ci even where every member counts 1 event
                             (f"events that occurred per member (of {len(EVENTS)}; 'never' ties at the end)",
                              mean_ci(occurred, clusters=c).within(0.0, float(len(EVENTS)))),
                             ("order agreement over the earlier nested events (in part forced by logic)",
                              bootstrap_ci(order_agreement(nested_onsets(r)), np.mean, clusters=c,
                                           support=CORRELATION))):
                rows.append(Row.of(cond, stat, ci, "measurement", [r.run_id], kind="measurement"))
            final_t = r.final("reliance", "target")
            for stat, fn, x, rng in (("SD of final proxy reliance", np.std, r.final("reliance", "proxy0"), SD_OF_RELIANCE),
                                     ("pairwise disagreement rate on deploy", np.mean, r.final("disagreement"), ACCURACY),
                                     ("mean final target reliance", np.mean, final_t, RELIANCE)):
                rows.append(Row.of(cond, stat, bootstrap_ci(x, fn, clusters=c, support=rng), "measurement",
                                   [r.run_id], kind="measurement"))
        d_rows, by_source[src] = dispersion_rows(mains, src, lambda rho, src=src: Key(ds, MAIN, rho, src).label())
        rows += d_rows

    pooled = [runs[Key(ds, POSITIVE, rho)] for rho in POOLED_RHOS]
    x = np.concatenate([r.final("reliance", "target") for r in pooled])
    # the two runs share world seeds but are different training sets: their worlds are distinct clusters
    c = np.concatenate([r.worlds * len(pooled) + k for k, r in enumerate(pooled)])
    pos_ci = spread(x, c)
    pos_ok = pos_ci[1] > DISPERSED
    rows.append(control_row(real_data.label(ds, f"control (positive): rho={POOLED_RHOS[0]} and rho={POOLED_RHOS[1]} "
                                                "pooled"),
                            f"SD of final target reliance: must exceed {DISPERSED}", pos_ci, pos_ok,
                            [r.run_id for r in pooled], positive=True))
    if ds == real_data.HIERARCHY:
        neg = runs[Key(ds, NEGATIVE)]
        neg_ci = spread(neg.final("reliance", "target"), clusters(neg))
        neg_ok = neg_ci[2] < DISPERSED
        rows.append(control_row(Key(ds, NEGATIVE).label(), f"SD of final target reliance: must stay below {DISPERSED}"
                                f" (mean {neg.final('reliance', 'target').mean():.2f})", neg_ci, neg_ok, [neg.run_id],
                                positive=False))
    else:
        neg_ok = False
        rows.append(real_data.no_control_row(ds, "negative", "no gated objective on real data: no condition whose "
                                                             "end point is pinned away from 0 and 1, so this "
                                                             "dataset's verdict cannot be 'supported'"))

    order = all_agree(taus) if REFUTED not in taus else REFUTED
    # dispersed for a source if some ρ shows it; refuted for it only if no ρ could
    disp = all_agree([any_supports(v) for v in by_source.values()])
    verdict = (combine([order, disp], neg_ok, pos_ok) if ds == real_data.HIERARCHY
               else real_data.verdict_without_negative_control([order, disp], pos_ok))
    spreads = [r for r in rows if r.statistic.startswith("dispersion")]
    top = max(spreads, key=lambda r: r.value if np.isfinite(r.value) else -np.inf)
    summary = Row(real_data.label(ds, f"all rho, all sources (largest SD: {top.condition})"),
                  f"parts: order robust {order} / objective dispersed {disp}", top.value, top.ci_low, top.ci_high,
                  verdict, sorted({i for r in rows for i in r.run_ids}), kind="verdict")
    return rows, verdict, summary


def memo_reading(online: str, fixed: list[str]) -> str:
    """Per source: what the training sets say together (``dispersed``'s verdicts at 95%)."""
    return memorization_reading(online, fixed, DISPERSED_WITHOUT, DISPERSED_ONLY_MEMORIZING, NOT_DISPERSED, UNDECIDED)


def memorization_axis(runs: dict) -> list[Row]:
    """The training-set axis's measurement rows (module docstring); nothing here joins the verdict."""
    h, rows = real_data.HIERARCHY, []
    both_online = runs[Memo(BOTH, ONLINE)]
    for src in (*MEMO_SOURCES, BOTH):
        if src == BOTH:  # the default run's members that the half-size arms hold: the same 8 in each regime
            regimes = {n: (paired_members(runs[Memo(BOTH, n)], both_online)[0] if n == DEFAULT_TRAIN
                           else runs[Memo(BOTH, n)]) for n in TRAIN_SIZES}
        else:
            regimes = {DEFAULT_TRAIN: runs[Key(h, MAIN, MEMO_RHO, src)], ONLINE: runs[Memo(src, ONLINE)]}
        verdicts, sds = {}, {}
        for n, r in regimes.items():
            cond, ids, c = Memo(src, n).label(), [r.run_id], clusters(r)
            final_t = r.final("reliance", "target")
            ci = sds[n] = spread(final_t, c)
            verdicts[n] = dispersed(ci[1], ci[2])
            rows.append(Row.of(cond, f"SD of final target reliance, 95% unadjusted (dispersed above {DISPERSED}; "
                               f"{len(final_t)} members)", ci, verdicts[n], ids, kind="measurement"))
            rows.append(Row.of(cond, "mean final target reliance", bootstrap_ci(final_t, np.mean, clusters=c,
                                                                                support=RELIANCE),
                               "measurement", ids, kind="measurement"))
            rows.append(exception_row(cond, r, n, c, ids))
        on = sds[ONLINE]
        reading = memo_reading(verdicts[ONLINE], [v for n, v in verdicts.items() if n != ONLINE])
        what = "init and world varied" if src == BOTH else f"{src} varied"
        rows.append(Row(f"rho={MEMO_RHO}, {what}, every training set", "dispersion by training set: "
                        + "; ".join(f"{train_set_name(n)} {v}" for n, v in verdicts.items())
                        + "; value: the online SD", *on[:3], reading,
                        sorted({r.run_id for r in regimes.values()}), kind="measurement",
                        note=getattr(on, "reason", "")))
    return rows


def analyse(runs: dict) -> tuple[list[Row], str]:
    """The hierarchy world's rows and verdict (its summary row first), then the training-set axis's
    measurements; each real dataset adds its rows and its own verdict row."""
    rows, verdict, summary = analyse_world(runs, real_data.HIERARCHY, RHOS)
    rows = [summary] + rows + memorization_axis(runs)
    for ds in real_data.DATASETS:
        r_rows, r_verdict, r_summary = analyse_world(runs, ds, REAL_RHOS)
        rows += [r_summary] + r_rows + [real_data.verdict_row(ds, r_verdict, r_summary.run_ids)]
    return rows, verdict


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    h = real_data.HIERARCHY
    panels = {f"{src} varied": {f"rho={rho}": runs[Key(h, MAIN, rho, src)].final("reliance", "target")
                                for rho in RHOS} for src in SOURCES}
    panels["controls"] = {"gated (negative)": runs[Key(h, NEGATIVE)].final("reliance", "target"),
                          "rho=0.5 + rho=1 pooled (positive)": np.concatenate(
                              [runs[Key(h, POSITIVE, rho)].final("reliance", "target") for rho in POOLED_RHOS])}
    # the training-set axis: the same sources at ρ = 0.97 with a memorizable training set and online
    panels[f"rho={MEMO_RHO}"] = {
        f"{src} varied, {'online' if n == ONLINE else 'fixed set'}": (runs[Memo(src, n)] if n == ONLINE
                                                             else runs[Key(h, MAIN, MEMO_RHO, src)]).final(
            "reliance", "target") for src in MEMO_SOURCES for n in (DEFAULT_TRAIN, ONLINE)}
    return [histograms_figure(folder / "G4_final_target_hist.png", "G4: final target reliance across seeds", panels,
                              "final target reliance")]
