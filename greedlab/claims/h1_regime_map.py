"""H1 — Training is either low or high path dependence, and which one we are in decides the analysis
("How likely is deceptive alignment", §1, High vs Low Path Dependence).

Operationalization: a regime map. Over three grids — ρ × width, ρ × learning rate, ρ × batch size,
ρ ∈ {0.9, 0.97, 0.99}, other settings at their defaults (the cell at all defaults is shared by the
three grids and by other claims' runs) — train the scale's seeds per cell (init, data order and
world all varied) and read every final model. A cell's dispersion is the standard deviation across
seeds of final target reliance (``stats.sd_ci``: an interval for the SD of a new seed in a new
world, worlds resampled). A cell *converges* (low path dependence) when its interval lies below
``SPREAD`` = 0.1 and *splits* (high path dependence) when it lies above; otherwise it is unclear.
``SPREAD`` is the margin, the smallest dispersion that counts: with classes 0.4 apart in reliance
(``instruments.model_class``: internal ≥ 0.6, ignored ≤ 0.2), one seed in eight ending a class away
from the rest already gives an SD of 0.13. The cells are many comparisons: every cell's interval is
taken at the level Holm's step-down procedure tests it at (``stats.holm_intervals``, the family being
the distinct cells), so a map with a converging and a splitting cell is not one found by chance
among 21.

Why the SD and not the share of seeds outside the modal class, the statistic the map once used: a
share cannot show convergence at this scale. With 8 worlds, 0 seeds out of 16 outside the modal
class gives [0, 0.37] (Clopper–Pearson on 8 independent worlds), and over 21 cells wider still; no
cell could ever read "converge". The share and the class mix are reported in every cell beside it.

Verdict: supported when the map holds a cell that converges and one that splits; refuted when every
cell converges or every cell splits; inconclusive otherwise, or when a control fails (a refutation
by a regime's absence needs both controls: each shows one regime can be seen where it is known).

Controls (rows of kind "control"), read at the strictest level of the map's Holm family:
- negative: ρ = 0.5 at the defaults (the run G1's control and H6's baseline share): the proxy carries
  no information, so there is no choice between features for seeds to split over. It must converge
  (interval below ``SPREAD``). What could still spread it: seeds that have not finished learning the
  target within the budget, world draws of different difficulty, evaluation noise.
- positive (planted): a mixed cell, the seeds of ρ = 0.9 in the first half of the worlds with those
  of ρ = 0.99 in the other half (both at the defaults): seeds trained toward different final models
  by hand. It must split (interval above ``SPREAD``). It costs no training.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims.common import INCONCLUSIVE, REFUTED, SUPPORTED, Row, bootstrap_ci, combine, control_row
from greedlab.claims.context import Context
from greedlab.claims.presets import world
from greedlab.claims.setups import final_classes
from greedlab.experiment import RunResult, RunSpec
from greedlab.models import MLPConfig
from greedlab.report.figures import heatmaps_figure
from greedlab.stats import LEVEL, holm_intervals, sd_ci
from greedlab.train import TrainConfig

ID = "H1"
SUMMARY = "Training is either low or high path dependence; a regime map shows where runs converge and split."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, §1 “High vs Low Path Dependence”"
QUOTE = ("If gradient descent has low path dependence, different training runs with different initializations and "
         "different orderings of training data end up converging. [...] If gradient descent has high path "
         "dependence, then differences between different training runs result in significantly different final "
         "models.")
RHOS = (0.9, 0.97, 0.99)
WIDTH, LR, BATCH = MLPConfig().width, TrainConfig().lr, TrainConfig().batch_size
GRIDS = {"width": (64, 128, 256), "learning rate": (3e-4, 1e-3, 3e-3), "batch size": (32, 64, 128)}
SPREAD = 0.1
"""The margin: the SD of final target reliance across seeds that separates converging from splitting."""
CONTROL_RHO = 0.5
CONVERGE, SPLIT, UNCLEAR = "converge", "split", "unclear"


class Cell(NamedTuple):
    """One cell of the map: ρ and the three settings the grids vary (the others at their defaults)."""

    rho: float
    width: int = WIDTH
    lr: float = LR
    batch: int = BATCH

    def label(self) -> str:
        changed = [f"{a}={v:g}" for a, v, d in (("width", self.width, WIDTH), ("lr", self.lr, LR),
                                                 ("batch", self.batch, BATCH)) if v != d]
        return f"rho={self.rho}, " + (", ".join(changed) or "defaults")


def cell(rho: float, axis: str, value) -> Cell:
    field = {"width": "width", "learning rate": "lr", "batch size": "batch"}[axis]
    return Cell(rho)._replace(**{field: value})


CELLS = tuple(dict.fromkeys(cell(rho, axis, v) for axis, values in GRIDS.items() for rho in RHOS for v in values))
NEGATIVE = Cell(CONTROL_RHO)
MIXED = (Cell(0.9), Cell(0.99))
"""The positive control's two cells: ρ = 0.9 seeds in the first half of the worlds, ρ = 0.99 in the rest."""


def _spec(ctx: Context, c: Cell) -> RunSpec:
    if c == Cell(c.rho):  # the default cell: the very run other claims train at this ρ
        return ctx.spec(world(c.rho))
    model = MLPConfig(width=c.width) if c.width != WIDTH else None
    return ctx.spec(world(c.rho), model=model, lr=c.lr, batch_size=c.batch, n_evals=2)  # only the end matters


def conditions(ctx: Context) -> dict[Cell, RunSpec]:
    return {c: _spec(ctx, c) for c in (*CELLS, NEGATIVE)}


def dispersion_at(r: RunResult):
    """The cell's SD of final target reliance as a function of the confidence level (for Holm)."""
    x, w = r.final("reliance", "target"), r.worlds
    return lambda level: sd_ci(x, clusters=w, level=level)


def regime(lo: float, hi: float) -> str:
    return CONVERGE if hi < SPREAD else (SPLIT if lo > SPREAD else UNCLEAR)


def class_share(r: RunResult) -> tuple[tuple, str]:
    """(share of seeds outside the modal class with its interval over worlds, the class mix)."""
    classes = np.asarray(final_classes(r), dtype=str)
    names, counts = np.unique(classes, return_counts=True)
    outside = (classes != names[np.argmax(counts)]).astype(float)
    mix = ", ".join(f"{c} {k}" for c, k in sorted(zip(names, counts), key=lambda t: -t[1]))
    return bootstrap_ci(outside, np.mean, clusters=r.worlds), mix


def mixed_cell(a: RunResult, b: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Final target reliance and worlds of the planted cell: ``a``'s seeds in the first half of the
    worlds (sorted), ``b``'s in the other half."""
    worlds = np.unique(a.worlds)
    first = set(worlds[: max(len(worlds) // 2, 1)].tolist())
    in_a = np.isin(a.worlds, list(first))
    in_b = ~np.isin(b.worlds, list(first))
    x = np.concatenate([a.final("reliance", "target")[in_a], b.final("reliance", "target")[in_b]])
    return x, np.concatenate([a.worlds[in_a], b.worlds[in_b]])


def decide(regimes: list[str], neg_ok: bool, pos_ok: bool) -> str:
    """The rule of the docstring over the cells' regimes and the two controls."""
    n_conv, n_split = regimes.count(CONVERGE), regimes.count(SPLIT)
    if n_conv and n_split:
        return combine([SUPPORTED], neg_ok, pos_ok)
    if n_conv == len(regimes) or n_split == len(regimes):
        # one regime only: a pipeline must have been shown to see the other where it is known to be (a
        # split in the mixed cell, convergence without a proxy) before its absence says anything
        return combine([REFUTED], neg_ok, pos_ok)
    return INCONCLUSIVE


def analyse(runs: dict[Cell, RunResult]) -> tuple[list[Row], str]:
    cells = [c for c in CELLS if c in runs]
    holm = holm_intervals([dispersion_at(runs[c]) for c in cells], [SPREAD] * len(cells))
    strict = 1 - (1 - LEVEL) / len(cells)  # the controls are read at the family's strictest level
    ci_of = dict(zip(cells, holm))
    rows: list[Row] = []
    for c in cells:
        r, ci = runs[c], ci_of[c]
        share, mix = class_share(r)
        rows.append(Row.of(c.label(), f"SD of final target reliance across seeds, Holm-adjusted (split above / "
                           f"converge below {SPREAD})", ci,
                           regime(ci[1], ci[2]), [r.run_id], kind="verdict"))
        rows.append(Row.of(c.label(), f"share of seeds outside the modal class ({mix})", share, "measurement",
                           [r.run_id], kind="measurement"))

    neg = sd_ci(runs[NEGATIVE].final("reliance", "target"), clusters=runs[NEGATIVE].worlds, level=strict)
    neg_ok = bool(neg[2] < SPREAD)
    rows.append(control_row(f"control: {NEGATIVE.label()}", f"SD of final target reliance, no proxy to split over "
                            f"(must converge: below {SPREAD})", neg, neg_ok, [runs[NEGATIVE].run_id], positive=False))
    a, b = (runs[c] for c in MIXED)
    x, w = mixed_cell(a, b)
    pos = sd_ci(x, clusters=w, level=strict)
    pos_ok = bool(pos[1] > SPREAD)
    rows.append(control_row(f"control: {MIXED[0].label()} and {MIXED[1].label()} mixed",
                            f"SD of final target reliance, seeds trained apart by hand (must split: above {SPREAD})",
                            pos, pos_ok, [a.run_id, b.run_id], positive=True))

    regimes = [regime(ci_of[c][1], ci_of[c][2]) for c in cells]
    verdict = decide(regimes, neg_ok, pos_ok)
    rows.insert(0, Row("all cells", f"cells that split (of {len(cells)}; {regimes.count(CONVERGE)} converge, "
                       f"{regimes.count(UNCLEAR)} unclear; Holm over the {len(cells)})",
                       float(regimes.count(SPLIT)), float("nan"), float("nan"), verdict,
                       [runs[c].run_id for c in cells], kind="verdict"))
    return rows, verdict


def figures(runs: dict[Cell, RunResult], folder: Path) -> list[str]:
    cells = [c for c in CELLS if c in runs]
    holm = dict(zip(cells, holm_intervals([dispersion_at(runs[c]) for c in cells], [SPREAD] * len(cells))))
    grids = {}
    for axis, values in GRIDS.items():
        vals = np.full((len(RHOS), len(values)), np.nan)
        notes = [["" for _ in values] for _ in RHOS]
        for i, rho in enumerate(RHOS):
            for j, v in enumerate(values):
                c = cell(rho, axis, v)
                if c in holm:
                    vals[i, j] = holm[c][0]
                    notes[i][j] = f"{regime(holm[c][1], holm[c][2])}\n{class_share(runs[c])[1]}"
        grids[axis] = (list(RHOS), list(values), vals, notes)
    return [heatmaps_figure(Path(folder) / "H1_regime_map.png",
                            f"H1: SD of final target reliance across seeds (converge < {SPREAD} < split, Holm)",
                            grids, "SD of final target reliance")]
