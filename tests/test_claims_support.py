"""Intervals of bounded statistics stay inside their ranges (``bootstrap_ci(support=…)``,
``stats.Interval.within``) in A1, G1, G2, G4, G5, G7, G9, G10, H5, H6, R, X1 and X2.

Each claim's pure ``analyse`` is fed synthetic runs built so that a bootstrap-t interval passes the
range: per member a value at the edge of its range but for one world of two members far inside it
(a heavy tail at a handful of worlds), with conditions alternating between the two edges so that
paired differences sit at theirs. The same runs are analysed with clipping switched off, to show
the unclipped intervals do leave the range (else the test would show nothing), that clipping moves
no point, and that it moves no verdict: a supported or refuted reading, or a control's pass, reads
an interval's side of a threshold inside the range, which clipping cannot change (only an
'underpowered' label, which reads the width, can turn plain inconclusive)."""

from pathlib import Path

import numpy as np
import pytest

from greedlab import stats
from greedlab.claims import a1_anchors as a1, g10_oversight_gating as g10, g1_proxy_first as g1
from greedlab.claims import g2_gradual_world_model as g2, g4_path_dependence as g4
from greedlab.claims import g5_gps_pointed_at_heuristics as g5, g7_objective_switch as g7
from greedlab.claims import g9_speed_regularizer as g9, h5_small_models as h5, h6_long_path as h6
from greedlab.claims import remedies as rm, x1_cone_descent as x1, x2_easy_feature_wins as x2
from greedlab.claims.common import (ACCURACY, CORRELATION, DIFFERENCE_OF_ACCURACIES, DIFFERENCE_OF_RELIANCES,
                                    INCONCLUSIVE, RELIANCE, SCALES, SD_OF_RELIANCE, UNDERPOWERED)
from greedlab.claims.context import Context
from fakes import fake_run

QUICK = Context(SCALES["quick"], Path("."), None)
UNBOUNDED = None


def edge(n: int, high: bool, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Per member: at ``hi`` (``high``) or ``lo``, within 1% of the range, but for members 4 and 5 (one
    world, two members to a world) 80% and 75% of the way to the other end. At 4 worlds the mean's
    bootstrap-t interval then reads e.g. [0.16, 1.19] for a mean of accuracies (0.80)."""
    u = np.ones(n)
    u[::2] -= 0.01
    u[4:6] = (0.2, 0.25)
    return lo + (hi - lo) * (u if high else 1 - u)


def flat(spec, steps, values: dict):
    """A run whose curves hold each member's value (an (N,) array) at every evaluation; an (N, T) array is
    taken as the curve itself."""
    t = len(steps)
    return fake_run(spec, steps, {k: v if np.ndim(v) == 2 else np.tile(np.asarray(v, float)[:, None], (1, t))
                                  for k, v in values.items()})


def evaluations(spec) -> np.ndarray:
    """Step 0, the last step, and every stage's first steps: where the claims read a curve."""
    ends = np.cumsum([0] + [st.train.steps for st in spec.plan])
    return np.unique(np.concatenate([ends, ends[:-1] + 1, ends[:-1] + 15, [spec.total_steps]]))


def unclipped(monkeypatch, analyse, runs):
    """``analyse(runs)`` with every interval left as its method gave it."""
    with monkeypatch.context() as m:
        m.setattr(stats.Interval, "within", lambda self, lo, hi: self)
        return analyse(runs)


def plain(verdict: str) -> str:
    """A verdict as the combining rules read it: 'underpowered' is inconclusive."""
    return INCONCLUSIVE if verdict == UNDERPOWERED else verdict


def outside(row, rng) -> bool:
    lo, hi = rng
    return bool(row.ci_low < lo or row.ci_high > hi)


def check(monkeypatch, analyse, runs, range_of) -> None:
    """Every row's interval inside its statistic's range, the unclipped intervals not all, and the same
    points and verdicts either way."""
    raw_rows, raw_verdict = unclipped(monkeypatch, analyse, runs)
    rows, verdict = analyse(runs)
    assert verdict == raw_verdict and len(rows) == len(raw_rows)
    passed = 0
    for row, raw in zip(rows, raw_rows):
        assert (row.condition, row.statistic) == (raw.condition, raw.statistic)
        assert row.value == raw.value or (np.isnan(row.value) and np.isnan(raw.value))
        assert plain(row.verdict) == plain(raw.verdict), (row.condition, row.statistic)
        rng = range_of(row)
        if rng is UNBOUNDED or np.isnan(row.ci_low):
            continue
        assert not outside(row, rng), (row.condition, row.statistic, row.ci_low, row.ci_high, rng)
        passed += outside(raw, rng)
    assert passed, "no unclipped interval left its range: these runs test nothing"


# -- G5 -------------------------------------------------------------------------------------------------

def g5_runs() -> dict:
    """Per arm, in turn at +1 and at −1: hard and soft proxy reliance, and a pointing index at the same
    edge (agreement with the GPS pointed at {4} at one end of [0, 1], at {0, 1} at the other); the GPS
    learned (held-out command accuracy at the top of its range)."""
    runs = {}
    for i, (k, spec) in enumerate(g5.conditions(QUICK).items()):
        n, high = spec.n_models, i % 2 == 0
        steps = evaluations(spec)
        stage = np.searchsorted(np.cumsum([st.train.steps for st in spec.plan]), steps, side="left")
        rel = edge(n, high, -1.0, 1.0)
        runs[k] = flat(spec, steps, {("hard_reliance", "proxy0"): rel, ("hard_reliance", "target"): -rel,
                                     ("reliance", "proxy0"): rel, ("reliance", "target"): -rel,
                                     ("pointed_agreement", "proxy0"): edge(n, high),
                                     ("pointed_agreement", "target"): edge(n, not high),
                                     ("stage", ""): np.tile(stage, (n, 1)), ("command_acc", "heldout"): edge(n, True)})
    return runs


def g5_range(row):
    if " − " in row.condition:
        return DIFFERENCE_OF_RELIANCES  # of reliances, or of pointing indices
    return ACCURACY if "command accuracy" in row.statistic else RELIANCE


def test_g5_intervals_stay_inside_their_ranges(monkeypatch):
    check(monkeypatch, g5.analyse, g5_runs(), g5_range)


# -- G7 -------------------------------------------------------------------------------------------------

def g7_runs() -> dict:
    runs = {}
    for i, (k, spec) in enumerate(g7.conditions(QUICK).items()):
        rel = edge(spec.n_models, i % 2 == 0, -1.0, 1.0)
        runs[k] = flat(spec, evaluations(spec), {("reliance", f): rel for f in ("target", "a4", "proxy0", "step1",
                                                                                  "a13")})
    return runs


def test_g7_intervals_stay_inside_their_ranges(monkeypatch):
    check(monkeypatch, g7.analyse, g7_runs(),
          lambda row: DIFFERENCE_OF_RELIANCES if " − " in row.condition else RELIANCE)


# -- G9 -------------------------------------------------------------------------------------------------

def g9_runs() -> dict:
    runs = {}
    for i, (k, spec) in enumerate(g9.conditions(QUICK).items()):
        n = spec.n_models
        rel = edge(n, i % 2 == 0, -1.0, 1.0)
        values = {("reliance", "target"): rel, ("reliance", "proxy0"): -rel, ("train_loss", ""): 0.01 + 0 * rel}
        if k.model == g9.EXIT:
            values["exit_depth", ""] = 2.8 - (0.8 if k.regularizer == g9.PENALTY else 0) + 0 * rel
        runs[k] = flat(spec, evaluations(spec), values)
    return runs


def g9_range(row):
    if "reliance" not in row.statistic:
        return UNBOUNDED  # exit depth, train loss
    return DIFFERENCE_OF_RELIANCES if " − " in row.condition else RELIANCE


def test_g9_intervals_stay_inside_their_ranges(monkeypatch):
    check(monkeypatch, g9.analyse, g9_runs(), g9_range)


# -- H5 -------------------------------------------------------------------------------------------------

def h5_runs() -> dict:
    """Every seed fits; deployment accuracy at the top of [0, 1] and at the bottom in turn (width 4 at
    the top, 256 at the bottom: the widest − narrowest gap near −1)."""
    runs = {}
    for i, (k, spec) in enumerate(h5.conditions(QUICK).items()):
        n = spec.n_models
        runs[k] = flat(spec, [0, spec.total_steps], {("deploy_acc", ""): edge(n, i % 2 == 0),
                                                     ("train_acc", ""): np.ones(n)})
    return runs


def h5_range(row):
    if "widest − narrowest" in row.statistic or "− proxy decisive" in row.statistic:
        return DIFFERENCE_OF_ACCURACIES
    return RELIANCE if "Spearman" in row.statistic else ACCURACY  # a correlation; a share or an accuracy


def test_h5_intervals_stay_inside_their_ranges(monkeypatch):
    check(monkeypatch, h5.analyse, h5_runs(), h5_range)


# -- H6 -------------------------------------------------------------------------------------------------

def h6_runs() -> dict:
    """Train accuracy past 0.85 at step 10; deployment accuracy at 0.99 a path later, the path 0–10 steps
    but for one world's members, 750–800 steps: a mean path length near the range's bottom."""
    runs = {}
    for k, spec in h6.conditions(QUICK).items():
        steps = np.arange(0, spec.total_steps + 1, 2)
        s = np.broadcast_to(steps, (spec.n_models, len(steps)))
        done = 10 + edge(spec.n_models, False, 0.0, 1000.0)[:, None]
        runs[k] = fake_run(spec, steps, {("train_acc", ""): np.where(s >= 10, 0.95, 0.5),
                                         ("deploy_acc", ""): np.where(s >= done, 0.99, 0.5 + 0.4 * (s >= 10))})
    return runs


def test_h6_intervals_stay_inside_their_ranges(monkeypatch):
    runs = h6_runs()
    steps = runs[h6.MAIN].steps[-1]
    check(monkeypatch, h6.analyse, runs,
          lambda row: (0.0, steps + 1.0) if "path length in steps" in row.statistic else UNBOUNDED)


# -- X1 -------------------------------------------------------------------------------------------------

def x1_runs() -> dict:
    """Every arm's train loss reaches its level at step 100 having moved 3.0 from the start; proxy and
    target reliance and train accuracy at one edge of their range or the other, in turn."""
    steps = np.array([0, 3, 10, 30, 100, 300, 700, 1000, 1500])
    runs = {}
    for i, (k, spec) in enumerate(x1.conditions(QUICK).items()):
        n, high = spec.n_models, i % 2 == 0
        level = x1.LINEAR_LEVEL if k.arm == x1.LINEAR else x1.LEVEL
        rate = np.log(0.7 / level) / 100
        rel = edge(n, high, -1.0, 1.0)
        runs[k] = flat(spec, steps, {
            ("train_loss", ""): np.tile(0.7 * np.exp(-rate * steps), (n, 1)),
            ("distance_from_init", ""): np.tile(3.0 * steps / 100, (n, 1)),
            ("reliance", "proxy0"): rel, ("reliance", "target"): -rel, ("train_acc", ""): edge(n, high),
            ("closest_distance", ""): np.full(n, 3.0), ("distance_to_closest", ""): np.full(n, 0.1)})
    return runs


def x1_range(row):
    if "proxy reliance at train loss" in row.statistic:
        return DIFFERENCE_OF_RELIANCES
    if "train accuracy" in row.statistic:
        return ACCURACY
    return RELIANCE if "reliance" in row.statistic else UNBOUNDED  # distances, losses, counts


def test_x1_intervals_stay_inside_their_ranges(monkeypatch):
    check(monkeypatch, x1.analyse, x1_runs(), x1_range)


@pytest.mark.parametrize("rng", [ACCURACY, RELIANCE, DIFFERENCE_OF_ACCURACIES, DIFFERENCE_OF_RELIANCES])
def test_the_edge_values_leave_every_range_at_four_worlds(rng):
    """The runs above are built so: the unclipped interval of such values passes the range."""
    x = edge(8, True, *rng)
    ci = stats.mean_ci(x, np.repeat(np.arange(4), 2))
    assert ci[2] > rng[1] and rng[0] <= ci[0] <= rng[1]


# -- X2 -------------------------------------------------------------------------------------------------

def x2_runs() -> dict:
    """Hard and soft reliance on the intended feature at one edge of [−1, 1] and on the other at the
    opposite edge, the edges swapped from one condition to the next: each gap at ±2, the designer's swing
    (intended made easy − other made easy) near +4."""
    runs = {}
    for i, (c, spec) in enumerate(x2.conditions(QUICK).items()):
        rel = edge(spec.n_models, i % 2 == 0, -1.0, 1.0)
        runs[c] = flat(spec, [0, spec.total_steps], {(inst, f): sign * rel for inst in ("hard_reliance", "reliance")
                                                     for f, sign in (("target", 1), ("proxy0", -1))})
    return runs


def test_x2_intervals_stay_inside_their_ranges(monkeypatch):
    check(monkeypatch, x2.analyse, x2_runs(),
          lambda row: x2.SWING if row.condition == "designer's swing" else DIFFERENCE_OF_RELIANCES)


# -- G1 -------------------------------------------------------------------------------------------------

def g1_runs() -> dict:
    """Proxy and target reliance flat at opposite edges of [−1, 1], the edges swapped from one condition to
    the next (the pretrained arm at the bottom where the default arm is at the top: their paired
    difference near −2); the target's decodability at the top of [0, 1] on every layer."""
    runs = {}
    for i, (k, spec) in enumerate(g1.conditions(QUICK).items()):
        n = spec.n_models
        rel = edge(n, i % 2 == 0, -1.0, 1.0)
        runs[k] = flat(spec, evaluations(spec), {("reliance", "proxy0"): rel, ("reliance", "target"): -rel,
                                                 ("decodability:hidden.0", "target"): edge(n, True),
                                                 ("decodability:hidden.1", "target"): edge(n, True)})
    return runs


def g1_range(row):
    if "decodab" in row.statistic and "lead" not in row.statistic:
        return ACCURACY  # the premise's probe accuracy, shares of seeds decodable at step 0 or never
    if "minus the default arm's, paired" in row.statistic and "reliance onset" not in row.statistic:
        return DIFFERENCE_OF_RELIANCES
    return RELIANCE if "proxy reliance" in row.statistic else UNBOUNDED  # log leads in decades


def test_g1_intervals_stay_inside_their_ranges(monkeypatch):
    runs = g1_runs()
    assert sum(g1_range(r) == DIFFERENCE_OF_RELIANCES for r in g1.analyse(runs)[0]) == 1  # the range reads it
    check(monkeypatch, g1.analyse, runs, g1_range)


# -- G4 -------------------------------------------------------------------------------------------------

def g4_runs() -> dict:
    """Reliances at one edge of [−1, 1] (proxy and target alike) and every accuracy, decodability and the
    disagreement rate at the same end of [0, 1], the end swapped from one condition to the next: a
    member at the top passes every event at step 0, one at the bottom none (all five 'never'), so the
    events per member sit at 5 (or 0) but for one world."""
    runs = {}
    for i, (k, spec) in enumerate(g4.conditions(QUICK).items()):
        n, high = spec.n_models, i % 2 == 0
        rel, acc = edge(n, high, -1.0, 1.0), edge(n, high)
        runs[k] = flat(spec, evaluations(spec), {
            ("reliance", "proxy0"): rel, ("reliance", "target"): rel, ("decodability:hidden.0", "target"): acc,
            ("decodability:hidden.1", "target"): acc, ("exception_acc", "proxy0"): acc, ("train_acc", ""): acc,
            ("deploy_acc", ""): acc, ("disagreement", ""): acc})
    return runs


def g4_range(row):
    if "order agreement" in row.statistic:
        return CORRELATION  # a mean of Kendall τ
    if "events that occurred per member" in row.statistic:
        return 0.0, float(len(g4.EVENTS))
    if "SD" in row.statistic or "dispersion" in row.statistic or row.statistic.startswith("parts:"):
        return SD_OF_RELIANCE  # the summary row carries the largest dispersion's interval
    if "reliance" in row.statistic:
        return RELIANCE
    return ACCURACY if "disagreement" in row.statistic or "accuracy" in row.statistic else UNBOUNDED


def test_g4_intervals_stay_inside_their_ranges(monkeypatch):
    runs = g4_runs()
    events = [r for r in g4.analyse(runs)[0] if "events that occurred" in r.statistic]
    assert events and max(r.value for r in events) > 4  # the count's top edge is reached
    check(monkeypatch, g4.analyse, runs, g4_range)


# -- R --------------------------------------------------------------------------------------------------

def r_runs() -> dict:
    """Plain Adam's final reliances (hard and soft, on target and proxy) at the bottom of [−1, 1], every
    other condition's at the top: each remedy's paired gain, the references', the controls' and the
    budget check's near +2."""
    runs = {}
    for k, spec in rm.conditions(QUICK).items():
        n = spec.n_models
        rel = edge(n, k.remedy != rm.NONE, -1.0, 1.0)
        values = {(inst, f): rel for inst in ("hard_reliance", "reliance") for f in ("target", "proxy0")}
        values["train_loss", ""] = np.full(n, 0.01)
        if spec.model == rm.presets.EXIT_MODEL:
            values["exit_depth", ""] = np.full(n, 2.0)
        runs[k] = flat(spec, [0, spec.total_steps], values)
    return runs


def r_range(row):
    if "difference" in row.statistic:
        return DIFFERENCE_OF_RELIANCES  # paired gains: the remedies' (Holm), the references', controls, budget
    return RELIANCE if "reliance" in row.statistic else UNBOUNDED  # loss, compute, exit depth, rank agreement


def test_r_intervals_stay_inside_their_ranges(monkeypatch):
    runs = r_runs()
    assert any(k.budget == rm.LONGER for k in runs)  # the budget check's rows are read too
    check(monkeypatch, rm.analyse, runs, r_range)


# -- G10 ------------------------------------------------------------------------------------------------

def g10_runs() -> dict:
    """The target followed when overseen (1.0) and dropped off oversight (0.0): a hard gating index of 1;
    the old goal's reliance off oversight at the top of [−1, 1], so persistence, min(1, r_P(o=−1)), sits
    near its top of 1."""
    runs = {}
    for k, spec in g10.conditions(QUICK).items():
        n = spec.n_models
        runs[k] = flat(spec, evaluations(spec), {("hard_reliance@overseen", "target"): np.ones(n),
                                                 ("hard_reliance@unobserved", "target"): np.zeros(n),
                                                 ("hard_reliance@unobserved", "proxy0"): edge(n, True, -1.0, 1.0)})
    return runs


def g10_range(row):
    if "persistence" in row.statistic and "Spearman" not in row.statistic:
        return g10.PERSISTENCE
    return RELIANCE if "old goal's hard reliance" in row.statistic else UNBOUNDED  # gating index, trends


def test_g10_intervals_stay_inside_their_ranges(monkeypatch):
    assert g10.PERSISTENCE[0] == -np.inf  # bounded above only: the lower side is left as the method gave it
    check(monkeypatch, g10.analyse, g10_runs(), g10_range)


# -- A1 -------------------------------------------------------------------------------------------------

def a1_runs() -> dict:
    """Every accuracy and decodability at one end of [0, 1], the class-destroyed accuracy at the other
    (the drop near ±1), the head's reliances at the same edge of [−1, 1]; the end swapped from one
    condition to the next."""
    runs = {}
    for i, (k, spec) in enumerate(a1.conditions(QUICK).items()):
        n, high = spec.n_models, i % 2 == 0
        if k.model:  # a baseline's 3 members give no interval (each its own unit): nothing to clip
            runs[k] = flat(spec, [0, 1], {("test_acc", ""): np.full(n, 0.5), ("train_acc", ""): np.ones(n)})
            continue
        acc, rel = edge(n, high), edge(n, high, -1.0, 1.0)
        values = {("counterfactual_acc", kind): acc for kind in ("aligned", "random", "removed", "opposed")}
        values.update({("counterfactual_acc", "class_destroyed"): edge(n, not high), ("deploy_acc", ""): acc,
                       ("reliance", "target"): rel, ("reliance", "proxy0"): rel})
        values.update({(f"decodability:{layer}", "target"): acc for layer in spec.model.layer_names()})
        runs[k] = flat(spec, [0, spec.total_steps], values)
    return runs


def a1_range(row):
    if "accuracy drop" in row.statistic:
        return DIFFERENCE_OF_ACCURACIES
    if "reliance" in row.statistic:
        return RELIANCE
    return UNBOUNDED if "share of lost accuracy" in row.statistic else ACCURACY  # a ratio; accuracies, probes


def test_a1_intervals_stay_inside_their_ranges(monkeypatch):
    check(monkeypatch, a1.analyse, a1_runs(), a1_range)


# -- G2 -------------------------------------------------------------------------------------------------

G2_FEATURES = ("step1", "step2", "step3", "target", "proxy0", "proxy1", "proxy2", "proxy3")


def step_at(onsets: np.ndarray):
    """A decodability curve at 0.5 until each member's onset, 0.95 from it on."""
    return lambda s: np.where(s >= onsets, 0.95, 0.5)


def g2_runs() -> dict:
    """Every feature a world has becomes decodable at 100 steps per level, in level order, but for one
    world's two members (4 and 5), where the order is reversed: a per-member Spearman(level, onset) of +1
    but for one world at −1, its mean at the top of [−1, 1] with a heavy tail."""
    runs = {}
    for k, spec in g2.conditions(QUICK).items():
        feats = [f for f in G2_FEATURES if f in {"target", *(f"step{i + 1}" for i in range(len(spec.world.staircase))),
                                                 *(f"proxy{i}" for i in range(len(spec.world.proxies)))}]
        lev = np.array(g2.levels(spec.world, feats), float)
        reversed_ = np.isin(np.arange(spec.n_models), (4, 5))[:, None]
        onsets = 100 * np.where(reversed_, lev.max() + 1 - lev, lev)  # (N, F)
        steps = np.arange(0, spec.total_steps + 1, 10)  # fine enough to read every onset
        runs[k] = fake_run(spec, steps, {("decodability:hidden.0", f): step_at(onsets[:, j:j + 1])
                                         for j, f in enumerate(feats)})
    return runs


def g2_range_for(runs):
    """G2's ranges; a median onset's is [0, steps + 1] of the runs given."""
    steps = runs[g2.MAIN].steps[-1]

    def g2_range(row):
        if "mean Spearman" in row.statistic:
            return CORRELATION
        if "median decodability onset" in row.statistic:
            return 0.0, steps + 1.0  # censored one past the end
        return ACCURACY if "share" in row.statistic or "fraction" in row.statistic else UNBOUNDED  # log delays
    return g2_range


def test_g2_intervals_stay_inside_their_ranges(monkeypatch):
    runs = g2_runs()
    check(monkeypatch, g2.analyse, runs, g2_range_for(runs))
