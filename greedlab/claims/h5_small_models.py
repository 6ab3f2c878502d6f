"""H5 — The smallest models that fit the training data generalize worst ("How likely is deceptive
alignment", §3 Speed Bias).

Operationalization: on the default world (proxy a_4 at ρ = 0.9), MLPs of widths 4 … 256, every
width with the same seeds in the same worlds. A seed *fits* when its training accuracy reaches
``FITS`` = 0.99; a width fits when at least half its seeds do. Every seed's fit status is reported
(the fit rate per width, with its interval). Statistic: the deployment-accuracy gap between the
widest width and the narrowest width that fits, over the seeds that fit at both: per seed (the two
widths share its world and data order) the wide model's accuracy minus the narrow one's, the mean
with an interval over worlds. Margin ``MARGIN`` = 0.05: a gap of five points of deployment accuracy
is the smallest that counts ("generalize terribly"; a wider model's slightly smoother fit moves
accuracy by far less). By the margin-aware rule: supported when the gap's interval lies above the
margin, refuted when it lies below 0 (the narrow models generalize better) and the positive control
passed. Spearman(width, deployment accuracy) over every fitting seed (the earlier
statistic) is reported beside it as a measurement.

Controls (rows of kind "control"):
- negative: the same statistic in a world whose target is as easy as the proxy (χ_{0}, level 1;
  ``presets.easy_target_world``) at widths 4 and 256. Every width can represent the
  target there, so no model has to fit by a worse algorithm; what else could open a gap — narrow
  models training slower within the budget, fitting just past the threshold, averaging the pixel
  noise less well — is still there. The gap's interval must lie below ``MARGIN``.
- positive (planted): in place of the narrowest width, the widest width trained where the proxy is
  decisive (ρ = 1, the run G3 shares): it fits its training set through the proxy and is built to
  generalize badly. The gap between the widest width at ρ = 0.9 and it (same seeds, same worlds) must
  exceed ``MARGIN``.

Real data (greedlab.claims.real_data): the same statistic for MLPs of widths 4 … 128 on digits with
the marker at ρ = 0.9, by the same rule, whose reading its gap row shows; it has no negative control
of its own there, so the dataset's verdict row stays inconclusive (``combine`` neither supports nor
refutes without one). At quick scale its 8 seeds lie in 8 worlds of one seed each, too few for the
mean's interval (``stats.MIN_CLUSTERS``). Not on MNIST-1D: there no MLP of width ≤ 256 fit its training set in the 600
steps of the quick scale (train accuracy 0.92–0.98), so no width would enter the statistic.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import real_data
from greedlab.claims.common import (ACCURACY, DIFFERENCE_OF_ACCURACIES, Row, bootstrap_ci, combine, control_row,
                                    verdict_above)
from greedlab.claims.context import Context
from greedlab.claims.presets import easy_target_world, paired, world
from greedlab.experiment import RunResult, RunSpec
from greedlab.models import MLPConfig
from greedlab.report.figures import final_vs_condition_figure
from greedlab.stats import spearman_ci

ID = "H5"
SUMMARY = "The smallest models that fit the training data generalize worst."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, §3 “Low Path Dependence”, Speed Bias"
QUOTE = ("Empirically, the smallest models which perfectly fit the training data generalize terribly to the test "
         "dataset, as they overfit to the training set while larger models learn simpler and better-generalizing "
         "algorithms.")
RHO = 0.9
WIDTHS = (4, 8, 16, 32, 64, 256)
CONTROL_WIDTHS = (4, 256)
REAL_DATASET = "digits"
REAL_WIDTHS = (4, 8, 16, 64, 128)  # every width ≥ 16 fit digits; 256 cost as much as the rest together
FITS = 0.99
FIT_SHARE = 0.5
"""A width fits when at least this share of its seeds fit."""
MARGIN = 0.05
"""The smallest deployment-accuracy gap (widest − narrowest fitting) that counts."""


class Cond(NamedTuple):
    """One ensemble: its width and its world — ``default`` (ρ = 0.9), ``easy`` (the negative control's
    easy target), ``decisive`` (ρ = 1, the positive control) or a real dataset's name."""

    width: int
    world: str = "default"

    def label(self) -> str:
        if self.world in real_data.DATASETS:
            return real_data.name(self.world, f"width={self.width}")
        prefix = {"default": "", "easy": "easy target, ", "decisive": "proxy decisive (rho=1), "}[self.world]
        return f"{prefix}width={self.width}"


DECISIVE = Cond(max(WIDTHS), "decisive")


def conditions(ctx: Context) -> dict[Cond, RunSpec]:
    # every arm has the scale's seeds: a mean over 8 worlds of one seed each has no interval
    # (``stats.MIN_CLUSTERS``), over 8 worlds of two it has
    specs = {Cond(w): ctx.spec(world(RHO), model=MLPConfig(width=w)) for w in WIDTHS}
    specs.update({Cond(w, "easy"): ctx.spec(easy_target_world(RHO), model=MLPConfig(width=w)) for w in CONTROL_WIDTHS})
    specs[DECISIVE] = ctx.spec(world(1.0), model=MLPConfig(width=DECISIVE.width))
    specs.update({Cond(w, REAL_DATASET): real_data.spec(ctx, REAL_DATASET, RHO, model=MLPConfig(width=w))
                  for w in REAL_WIDTHS})
    return specs


def fits(r: RunResult) -> np.ndarray:
    return r.final("train_acc") >= FITS


def paired_gap(wide: RunResult, narrow: RunResult) -> tuple[tuple, int]:
    """Deployment accuracy of ``wide`` minus ``narrow``, per seed fitting in both (they share seeds and
    worlds), its mean over worlds (clipped to [−1, 1], where a difference of two accuracies lies); and
    the number of such seeds."""
    wide, narrow = paired(wide, narrow)  # a seed left out of either (diverged) is left out of both
    both = fits(wide) & fits(narrow)
    d = wide.final("deploy_acc")[both] - narrow.final("deploy_acc")[both]
    return bootstrap_ci(d, np.mean, clusters=wide.worlds[both], support=DIFFERENCE_OF_ACCURACIES), int(both.sum())


def narrowest_fitting(runs: dict[int, RunResult]) -> int | None:
    """The smallest width at which at least FIT_SHARE of the seeds fit (None: none does)."""
    return next((w for w in sorted(runs) if fits(runs[w]).mean() >= FIT_SHARE), None)


def width_rows(runs: dict[int, RunResult], prefix: str) -> list[Row]:
    """Every seed's fit status (the fit rate, and which seeds) and the fitting seeds' accuracy, per width."""
    rows = []
    for w, r in sorted(runs.items()):
        fit = fits(r)
        rows.append(Row.of(f"{prefix}width={w}", f"fraction of seeds fitting train (≥ {FITS}): {int(fit.sum())}/"
                           f"{len(fit)}; not fitting: seeds {np.flatnonzero(~fit).tolist()}",
                           bootstrap_ci(fit.astype(float), np.mean, clusters=r.worlds, support=ACCURACY), "measurement",
                           [r.run_id], kind="measurement"))
        if fit.any():
            rows.append(Row.of(f"{prefix}width={w}", "deployment accuracy of fitting seeds",
                               bootstrap_ci(r.final("deploy_acc")[fit], np.mean, clusters=r.worlds[fit],
                                            support=ACCURACY), "measurement", [r.run_id], kind="measurement"))
    return rows


def gap(runs: dict[int, RunResult], prefix: str) -> tuple[str, str, tuple]:
    """The statistic on one family of widths: (condition, what was compared, (mean, low, high)); NaN
    when no width but the widest fits."""
    widest, narrow = max(runs), narrowest_fitting(runs)
    if narrow is None or narrow == widest:
        nan = float("nan")
        why = "no width fits" if narrow is None else "only the widest width fits"
        return f"{prefix}width={widest} vs narrowest fitting", f"deployment-accuracy gap: {why}", (nan, nan, nan)
    ci, n = paired_gap(runs[widest], runs[narrow])
    return (f"{prefix}width={widest} vs width={narrow}",
            f"deployment accuracy, widest − narrowest fitting width, paired over {n} seeds fitting at both", ci)


def spearman_row(runs: dict[int, RunResult], prefix: str) -> list[Row]:
    """The earlier statistic, Spearman(width, deployment accuracy) over every fitting seed, as a measurement."""
    fit_w = [(w, r) for w, r in sorted(runs.items()) if fits(r).any()]
    if len(fit_w) < 2:
        return []
    x = np.concatenate([np.full(int(fits(r).sum()), w) for w, r in fit_w])
    y = np.concatenate([r.final("deploy_acc")[fits(r)] for _, r in fit_w])
    cl = np.concatenate([r.worlds[fits(r)] for _, r in fit_w])
    return [Row.of(f"{prefix}all fitting seeds", "Spearman(width, deployment accuracy), worlds resampled",
                   spearman_ci(x, y, clusters=cl), "measurement", [r.run_id for _, r in fit_w], kind="measurement")]


def analyse(runs: dict[Cond, RunResult]) -> tuple[list[Row], str]:
    family = {k: {c.width: r for c, r in runs.items() if c.world == k} for k in ("default", "easy", REAL_DATASET)}
    main, easy, real = family["default"], family["easy"], family[REAL_DATASET]
    rows: list[Row] = []

    cond, what, ci = gap(main, "")
    part = verdict_above(ci[1], ci[2], 0.0, margin=MARGIN)
    rows.append(Row.of(cond, f"{what} (counts above {MARGIN})", ci, part, [r.run_id for r in main.values()],
                       kind="verdict"))
    cond, what, neg = gap(easy, "easy target, ")
    neg_ok = bool(neg[2] < MARGIN)
    rows.append(control_row(cond, f"{what}: no model needs a worse algorithm (must lie below {MARGIN})", neg, neg_ok,
                            [r.run_id for r in easy.values()], positive=False))
    wide, decisive = main[max(WIDTHS)], runs[DECISIVE]
    pos, n = paired_gap(wide, decisive)
    pos_ok = bool(pos[1] > MARGIN)
    rows.append(control_row(f"width={wide.spec.model.width} vs {DECISIVE.label()}",
                            f"deployment accuracy, rho={RHO} − proxy decisive, paired over {n} seeds fitting at "
                            f"both: a gap planted (must exceed {MARGIN})", pos, pos_ok, [wide.run_id, decisive.run_id],
                            positive=True))
    rows += spearman_row(main, "") + width_rows(main, "") + width_rows(easy, "easy target, ")

    prefix = real_data.name(REAL_DATASET, "")
    cond, what, r_ci = gap(real, prefix)
    r_part = verdict_above(r_ci[1], r_ci[2], 0.0, margin=MARGIN)
    ids = [r.run_id for r in real.values()]
    rows.append(Row.of(cond, f"{what} (counts above {MARGIN}; no control of its own on {REAL_DATASET})", r_ci, r_part,
                       ids, kind="verdict"))
    rows += spearman_row(real, prefix) + width_rows(real, prefix)
    # no negative control of its own on digits: the dataset's verdict is neither supported nor refuted
    rows.append(real_data.verdict_row(REAL_DATASET, combine([r_part], False, pos_ok), ids))
    return rows, combine([part], neg_ok, pos_ok)


def figures(runs: dict[Cond, RunResult], folder: Path) -> list[str]:
    fitting = [(c.width, r.final("deploy_acc")[fits(r)]) for c, r in sorted(runs.items())
               if c.world == "default" and fits(r).any()]
    if not fitting:
        return []
    return [final_vs_condition_figure(Path(folder) / "H5_width.png", "H5: deployment accuracy of models that fit",
                                      [w for w, _ in fitting], [a for _, a in fitting], [str(w) for w, _ in fitting],
                                      "hidden width", f"deployment accuracy (train acc ≥ {FITS})")]
