"""H6 — The path to internal alignment is long: performance gain per step toward the exact target
decays ("How likely is deceptive alignment", §2 Internal Alignment).

Operationalization, per seed, every path measured from the same training-accuracy level
``LEVEL`` = 0.85 (proxy level: the proxy alone gives 0.9 at ρ = 0.9) to ≥ 0.99 deployment accuracy (the target
learned); never reaching 0.99 counts as reaching it one step after the end (a lower bound). The
conditions are paired: ρ = 0.9 and the baseline ρ = 0.5 (no proxy to fit first) are built with the
same seeds in the same worlds, so each seed is compared with itself, and the interval resamples worlds.
(a) path length: log10((path at ρ = 0.9 + 1) / (path at ρ = 0.5 + 1)), the mean over seeds.
    Supported when its interval lies above ``MARGIN_LOG`` = 0.3 (a factor of 2, the smallest that
    counts); refuted when it lies below 0 (the path with a proxy is the shorter).
(b) decay of the gain per step: deployment-accuracy gain per step over the second half of a seed's
    path over that of its first half, in log10, at ρ = 0.9 minus at ρ = 0.5. Any curve that
    approaches a ceiling gains less per step near it, so the baseline's own decay is subtracted:
    (b) counts only the decay beyond the ceiling's. Supported when its interval lies below
    −``MARGIN_LOG``.
Both are read by the margin-aware rule (``common.verdict_above``/``below``); the claim holds when (a)
and (b) do.

Controls (each a row of kind "control"):
- negative: the same two statistics in a world whose target is as easy as the proxy (χ_{0}, level 1;
  ``presets.easy_target_world``), ρ = 0.9 against ρ = 0.5, paired alike. There nothing is fit first
  and starved, but what could fake the effect is all still there: the path's start is reached
  through the proxy at ρ = 0.9 and not at ρ = 0.5, both paths end at the same ceiling, long paths are
  censored alike. Both statistics must stay within ±``MARGIN_LOG`` of 0 (their intervals inside).
- positive (planted): a curriculum whose first half-run trains on ρ = 1 (the proxy decisive: the
  target is not needed), then the ρ = 0.9 world for a full run: a delay of at least half a run
  between proxy-level accuracy and the target is planted by hand. Its path against the baseline's
  (the statistic of (a), paired alike) must exceed ``MARGIN_LOG``. (b) has no planted control (no
  training schedule plants a decay without planting a ceiling), so (b) is never refuted: a decay
  shown weaker than the baseline's stays inconclusive.
The old control (ρ = 0.5 measured from initialization) included the baseline's own plateau before
any learning and so made every path look short by comparison; all paths now start at ``LEVEL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims.common import (INCONCLUSIVE, REFUTED, Row, bootstrap_ci, censor, combine, control_row,
                                    verdict_above, verdict_below)
from greedlab.claims.context import Context
from greedlab.claims.presets import easy_target_world, world
from greedlab.claims.presets import paired as paired_runs
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import onset
from greedlab.report.figures import reliance_figure

ID = "H6"
SUMMARY = "The path to internal alignment is long: the gain per step toward the exact target decays."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, §2 “High Path Dependence”, Internal Alignment"
QUOTE = ("Because there are diminishing performance returns to making the model's proxy more aligned with the "
         "training objective, the performance gain per step towards internal alignment eventually becomes very low.")
RHO, BASE_RHO = 0.9, 0.5
LEVEL = 0.85
"""Every path starts at this training accuracy: proxy level at ρ = 0.9. The proxy alone gives 0.9 on
the whole training set but ±0.007 on the 2,048 examples measured, so a model that relies on it alone
would cross 0.9 only half the time; 0.85 it always crosses."""
ALIGNED = 0.99
MARGIN_LOG = 0.3
"""The smallest effect that counts, in log10: a factor of 2 in path length or in gain decay."""


class Cond(NamedTuple):
    """One condition: the world (``default``: target χ_{0123}; ``easy``: χ_{0}), its ρ, and whether a
    first half-run on ρ = 1 plants a delay (the positive control)."""

    world: str
    rho: float
    planted: bool = False

    def label(self) -> str:
        if self.planted:
            return f"planted delay: rho=1 for half a run, then rho={self.rho}"
        return f"{'easy target, ' if self.world == 'easy' else ''}rho={self.rho}"


MAIN, BASE = Cond("default", RHO), Cond("default", BASE_RHO)
EASY, EASY_BASE = Cond("easy", RHO), Cond("easy", BASE_RHO)
PLANTED = Cond("default", RHO, planted=True)


def conditions(ctx: Context) -> dict[Cond, RunSpec]:
    steps = ctx.scale.steps
    planted = ctx.curriculum([ctx.stage(world(1.0), steps // 2, name="proxy decisive"),
                              ctx.stage(world(RHO), steps, name="rho=0.9")])
    # MAIN and BASE are the default world's runs other claims share. Every arm has the scale's seeds in
    # the same worlds, so each is paired with the baseline seed by seed (and a mean over 8 worlds of one
    # seed each would have no interval: ``stats.MIN_CLUSTERS``)
    return {MAIN: ctx.spec(world(RHO)), BASE: ctx.spec(world(BASE_RHO)), EASY: ctx.spec(easy_target_world(RHO)),
            EASY_BASE: ctx.spec(easy_target_world(BASE_RHO)), PLANTED: planted}


def path(r: RunResult, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the seeds that reach training accuracy ``level``: (their indices, that step, the step of
    ≥ 0.99 deployment accuracy censored one past the end). Seeds that never reach it have no path."""
    start = onset(r.steps, r.curve("train_acc"), level - 1e-9)
    done = censor(onset(r.steps, r.curve("deploy_acc"), ALIGNED), int(r.steps[-1]))
    seeds = np.flatnonzero(np.isfinite(start))
    return seeds, start[seeds], np.maximum(done[seeds], start[seeds])


def gain_decay(r: RunResult, seeds: np.ndarray, start: np.ndarray, done: np.ndarray) -> np.ndarray:
    """Per seed of ``path``: deploy-accuracy gain per step in the path's second half over its first half
    (NaN where the first half gained nothing: no rate to decay from)."""
    acc = r.curve("deploy_acc")[seeds]
    out = np.full(len(acc), np.nan)
    for i in range(len(acc)):
        mid = (start[i] + done[i]) / 2
        a0, am, a1 = (np.interp(t, r.steps, acc[i]) for t in (start[i], mid, min(done[i], r.steps[-1])))
        first = (am - a0) / max(mid - start[i], 1)
        second = (a1 - am) / max(done[i] - mid, 1)
        if first > 0:
            out[i] = second / first
    return out


def _per_seed(r: RunResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log10(path + 1), log10 gain decay, each seed's world), NaN where a seed has no path or no decay."""
    n = len(r.worlds)
    log_path, log_decay = np.full(n, np.nan), np.full(n, np.nan)
    seeds, s, d = path(r)
    log_path[seeds] = np.log10(d - s + 1)
    decay = gain_decay(r, seeds, s, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_decay[seeds] = np.where(decay > 0, np.log10(decay), np.nan)  # a second half that lost: no log
    return log_path, log_decay, r.worlds


def paired(a: RunResult, b: RunResult, which: int) -> tuple[tuple, int]:
    """Interval of the mean per-seed difference a − b of statistic ``which`` (0: log path, 1: log
    decay) over the seeds where both are defined, worlds resampled; and how many seeds that is."""
    a, b = paired_runs(a, b)  # a seed left out of either (diverged) is left out of both
    va, vb = _per_seed(a)[which], _per_seed(b)[which]
    ok = np.isfinite(va) & np.isfinite(vb)
    return bootstrap_ci(va[ok] - vb[ok], np.mean, clusters=a.worlds[ok]), int(ok.sum())


def within_margin(ci) -> bool:
    """A negative control's statistic is clean when its whole interval lies within ±MARGIN_LOG."""
    return bool(-MARGIN_LOG < ci[1] and ci[2] < MARGIN_LOG)


def analyse(runs: dict[Cond, RunResult]) -> tuple[list[Row], str]:
    main, base, easy, easy_base, planted = (runs[c] for c in (MAIN, BASE, EASY, EASY_BASE, PLANTED))
    ids = [main.run_id, base.run_id]
    pair = f"{MAIN.label()} vs {BASE.label()}"
    rows: list[Row] = []

    a, n_a = paired(main, base, 0)
    verdict_a = verdict_above(a[1], a[2], 0.0, margin=MARGIN_LOG)
    rows.append(Row.of(pair, f"(a) log10 path ratio from train accuracy {LEVEL} to {ALIGNED} deployment accuracy "
                       f"({n_a} paired seeds; counts above {MARGIN_LOG})", a, verdict_a, ids, kind="verdict"))
    b, n_b = paired(main, base, 1)
    verdict_b = verdict_below(b[1], b[2], 0.0, margin=MARGIN_LOG)
    if verdict_b == REFUTED:
        verdict_b = INCONCLUSIVE  # no planted decay shows the pipeline would see one: no refutation without it
    rows.append(Row.of(pair, f"(b) log10 gain decay (2nd half / 1st half of the path) minus the baseline's "
                       f"({n_b} paired seeds; counts below −{MARGIN_LOG}; no positive control: never refuted)",
                       b, verdict_b, ids, kind="verdict"))

    neg_ok = True
    for which, name in ((0, "(a) log10 path ratio"), (1, "(b) log10 gain decay minus the baseline's")):
        ci, n = paired(easy, easy_base, which)
        ok = within_margin(ci)
        neg_ok &= ok
        rows.append(control_row(f"{EASY.label()} vs {EASY_BASE.label()}",
                                f"{name} with a target as easy as the proxy ({n} paired seeds; must lie within "
                                f"±{MARGIN_LOG})", ci, ok, [easy.run_id, easy_base.run_id], positive=False))

    pos, n = paired(planted, base, 0)
    pos_ok = bool(pos[1] > MARGIN_LOG)
    rows.append(control_row(f"{PLANTED.label()} vs {BASE.label()}",
                            f"(a) log10 path ratio, a delay of {int(planted.spec.plan[0].train.steps)} steps planted "
                            f"({n} paired seeds; must exceed {MARGIN_LOG})", pos, pos_ok,
                            [planted.run_id, base.run_id], positive=True))

    for c, r in ((MAIN, main), (BASE, base)):
        lp_c, _, w = _per_seed(r)
        ok = np.isfinite(lp_c)
        # a path lies between 0 steps and one past the end (censored there): so does its mean
        ci = bootstrap_ci(10 ** lp_c[ok] - 1, np.mean, clusters=w[ok], support=(0.0, float(r.steps[-1]) + 1))
        rows.append(Row.of(c.label(), f"path length in steps from train accuracy {LEVEL} (mean)", ci, "measurement",
                           [r.run_id], kind="measurement"))
    return rows, combine([verdict_a, verdict_b], neg_ok, pos_ok)


def figures(runs: dict[Cond, RunResult], folder: Path) -> list[str]:
    return [reliance_figure(Path(folder) / "H6_accuracy.png", "H6: from proxy-level accuracy to the target",
                            {c.label(): runs[c] for c in (MAIN, BASE, EASY, PLANTED)},
                            [("train_acc", "", "train accuracy"), ("deploy_acc", "", "deployment accuracy"),
                             ("train_loss", "", "train loss")])]
