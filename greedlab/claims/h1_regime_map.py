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

Memorization or starvation? (The training-set axis, fixed in code before any quick run of it.) At
every ρ the models reach train accuracy 1.000: at ρ = 0.97 the ≈ 250 proxy exceptions among the 8,192
training examples are memorized, so a proxy-reliant end point may be the memorization route to
spurious-feature reliance (Sagawa et al. 2020), not a vanishing gradient. The map's cells are read
again with the training set varied (``presets.TRAIN_SIZES``): at ρ ∈ MEMO_RHOS = {0.9, 0.97}, the
default cell with n_train ∈ {2,048, 8,192 (the map's own cell), 32,768} and online (a fresh batch
every step: nothing can be memorized) — these arms are G3's memorization axis
(``setups.memorization_arm``: half size, 8 members in 4 worlds, the same specs and run ids, trained
once); and online alone at ONLINE_CELLS, the cells next to ρ = 0.97 where the map's class can change
along ρ (ρ = 0.99) and width (64 and 128 at ρ = 0.97): half-size arms of their own. Per cell and
training set, measurements on the same members (the map's cell read on the arms' 8; none of them
joins the map's verdict or its Holm family):
- the map's rule read on its own: the SD of final (soft) target reliance with its 95% interval,
  unadjusted, and ``regime`` of it (converge / split / unclear);
- the class per seed by ``instruments.model_class`` on *hard* reliance (E[sign(f)·χ], confidence-free:
  a memorizing model's logit scale cannot move it between classes), and the share of seeds in the
  proxy-reliant class (Clopper–Pearson over worlds); the map's own class mix stays on soft reliance,
  as before;
- final accuracy on the proxy's exceptions (memorization in a fixed set; online it is read on
  training-split exceptions the stream never drew: the target generalized) and final train accuracy.
Per cell a summary row reads the proxy class by training set: "proxy class without memorization" if
at least one online seed is proxy-reliant (the class exists where nothing can be memorized: one seed
shows it), "proxy class only with memorization" if no online seed is and some fixed-set seed is (the
row's interval is the online share's, so it says how large a share 0 of 8 still allows), "no proxy
class" if no seed of any regime is. Added quick cost: 3 arms (online at ONLINE_CELLS) × 8 members ×
1,500 steps = 36,000 model-steps; the arms at ρ = 0.9 and 0.97 are G3's and add nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims.common import (INCONCLUSIVE, REFUTED, SD_OF_RELIANCE, SUPPORTED, Row, bootstrap_ci, combine,
                                    control_row)
from greedlab.claims.context import Context
from greedlab.claims.presets import (DEFAULT_TRAIN, ONLINE, TRAIN_SIZES, exception_row, paired_members, train_set_name,
                                     train_set_world, world)
from greedlab.claims.setups import control_arm, final_classes, memorization_arm
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


# -- the training-set axis: is the proxy-reliant class memorization's? (module docstring) ---------------

MEMO_RHOS = (0.9, 0.97)
"""The default cells read at every training-set size: G3's memorization arms, trained once."""
ONLINE_CELLS = (Cell(0.99), Cell(0.97, width=64), Cell(0.97, width=128))
"""Cells read online beside their map cell: where the class can change along ρ and width near 0.97."""
PROXY_CLASS = "proxy"
PROXY_WITHOUT, PROXY_ONLY_MEMORIZING, NO_PROXY_CLASS = ("proxy class without memorization",
                                                        "proxy class only with memorization", "no proxy class")


class Regime(NamedTuple):
    """A cell of the map trained on another training set (``presets.TRAIN_SIZES``; ONLINE: none fixed)."""

    cell: Cell
    n_train: int

    def label(self) -> str:
        return f"{self.cell.label()}, {train_set_name(self.n_train)}"


def train_sizes(c: Cell) -> tuple[int, ...]:
    """The training sets a cell is read at: every size at the default cells of MEMO_RHOS, else the
    default set (the map's run) and online."""
    return TRAIN_SIZES if c in MEMO_CELLS else (DEFAULT_TRAIN, ONLINE)


MEMO_CELLS = tuple(Cell(rho) for rho in MEMO_RHOS)
REGIMES = tuple(Regime(c, n) for c in (*MEMO_CELLS, *ONLINE_CELLS) for n in train_sizes(c) if n != DEFAULT_TRAIN)


def _regime_spec(ctx: Context, g: Regime) -> RunSpec:
    c = g.cell
    if c in MEMO_CELLS:  # G3's arm: the same spec, so the same run, trained once
        return memorization_arm(ctx, c.rho, g.n_train)
    model = MLPConfig(width=c.width) if c.width != WIDTH else None
    return control_arm(ctx.spec(train_set_world(c.rho, g.n_train), model=model, lr=c.lr, batch_size=c.batch,
                                n_evals=2))


def conditions(ctx: Context) -> dict[Cell | Regime, RunSpec]:
    specs = {c: _spec(ctx, c) for c in (*CELLS, NEGATIVE)}
    specs.update({g: _regime_spec(ctx, g) for g in REGIMES})
    return specs


def dispersion_at(r: RunResult):
    """The cell's SD of final target reliance as a function of the confidence level (for Holm)."""
    x, w = r.final("reliance", "target"), r.worlds
    return lambda level: sd_ci(x, clusters=w, level=level).within(*SD_OF_RELIANCE)  # an SD of reliances: ≤ 1


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


def hard_classes(r: RunResult) -> np.ndarray:
    """Each seed's final class (``instruments.model_class``) on hard reliance: the sign of the decision,
    not its confidence, on the target and the proxy."""
    from greedlab.instruments.model_class import classify

    return classify({("reliance", f): r.final("hard_reliance", f) for f in ("target", "proxy0")})


def proxy_class_reading(online: int, fixed: int) -> str:
    """The summary's reading from the count of proxy-class seeds online and in the fixed training sets."""
    if online:
        return PROXY_WITHOUT
    return PROXY_ONLY_MEMORIZING if fixed else NO_PROXY_CLASS


def training_set_axis(runs: dict) -> list[Row]:
    """Measurement rows of the training-set axis (module docstring), per cell and training set, and a
    summary per cell; nothing here joins the verdict."""
    rows: list[Row] = []
    for c in (*MEMO_CELLS, *ONLINE_CELLS):
        if c not in runs or any(Regime(c, n) not in runs for n in train_sizes(c) if n != DEFAULT_TRAIN):
            continue
        counts, rules, shares = {}, {}, {}
        on = runs[Regime(c, ONLINE)]
        for n in train_sizes(c):
            # the map's own cell read on the members the half-size arms hold: the same 8 in every regime
            r = paired_members(runs[c], on)[0] if n == DEFAULT_TRAIN else runs[Regime(c, n)]
            cond, ids, w = Regime(c, n).label(), [r.run_id], r.worlds
            ci = sd_ci(r.final("reliance", "target"), clusters=w).within(*SD_OF_RELIANCE)
            rules[n] = regime(ci[1], ci[2])
            rows.append(Row.of(cond, f"SD of final target reliance across seeds, 95% unadjusted (the map's rule, "
                               f"split above / converge below {SPREAD}; outside its Holm family)", ci, rules[n], ids,
                               kind="measurement"))
            classes = np.asarray(hard_classes(r), dtype=str)
            names, k = np.unique(classes, return_counts=True)
            mix = ", ".join(f"{a} {b}" for a, b in sorted(zip(names, k), key=lambda t: -t[1]))
            proxy = classes == PROXY_CLASS
            counts[n] = (int(proxy.sum()), len(proxy))
            shares[n] = bootstrap_ci(proxy.astype(float), np.mean, clusters=w)
            rows.append(Row.of(cond, f"share of seeds in the proxy-reliant class, on hard reliance ({mix})",
                               shares[n], "measurement", ids, kind="measurement"))
            rows.append(exception_row(cond, r, n, w, ids))
        share = shares[ONLINE]
        fixed = sum(counts[n][0] for n in counts if n != ONLINE)
        text = "; ".join(f"{train_set_name(n)} {counts[n][0]}/{counts[n][1]} ({rules[n]})" for n in counts)
        rows.append(Row(f"{c.label()}, every training set", "proxy-reliant seeds (hard reliance) by training set, "
                        f"and the map's rule: {text}; value: the online share", *share[:3],
                        proxy_class_reading(counts[ONLINE][0], fixed),
                        [runs[c].run_id] + [runs[Regime(c, n)].run_id for n in counts if n != DEFAULT_TRAIN],
                        kind="measurement", note=getattr(share, "reason", "")))
    return rows


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

    neg = sd_ci(runs[NEGATIVE].final("reliance", "target"), clusters=runs[NEGATIVE].worlds,
                level=strict).within(*SD_OF_RELIANCE)
    neg_ok = bool(neg[2] < SPREAD)
    rows.append(control_row(f"control: {NEGATIVE.label()}", f"SD of final target reliance, no proxy to split over "
                            f"(must converge: below {SPREAD})", neg, neg_ok, [runs[NEGATIVE].run_id], positive=False))
    a, b = (runs[c] for c in MIXED)
    x, w = mixed_cell(a, b)
    pos = sd_ci(x, clusters=w, level=strict).within(*SD_OF_RELIANCE)
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
    return rows + training_set_axis(runs), verdict


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
