"""H1 — Training is either low or high path dependence, and which one we are in decides the analysis
("How likely is deceptive alignment", §1, High vs Low Path Dependence).

Operationalization: a regime map. Over three grids — ρ × width, ρ × learning rate, ρ × batch size,
ρ ∈ {0.9, 0.97, 0.99}, other settings at their defaults — train half the scale's seeds per cell
(init and data order both varied) and classify every final model (``instruments.model_class``:
internal, proxy, mixed, …, with its reported thresholds). A cell's dispersion is the share of seeds
*outside* its most common class (0: every run ends the same kind of model), with a bootstrap CI over
seeds. A cell *converges* (low path dependence) when the CI's high end is below 0.1 and *splits*
(high path dependence) when its low end is above 0.1; between, it is unclear. The claim holds when the
map shows both regimes; it is refuted when every cell falls in the same one. The cross-seed std of
final target reliance is reported beside it (a finer reading of the same spread, within a class).
No control: this is a map, and its cells are the evidence.
"""

from __future__ import annotations

import numpy as np

from greedlab.claims.common import INCONCLUSIVE, REFUTED, SUPPORTED, ClaimResult, Row, bootstrap_ci
from greedlab.claims.context import Context
from greedlab.claims.presets import world
from greedlab.claims.setups import final_classes
from greedlab.experiment import RunSpec
from greedlab.models import MLPConfig
from greedlab.report.figures import heatmaps_figure

ID = "H1"
SUMMARY = "Training is either low or high path dependence; a regime map shows where runs converge and split."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, §1 “High vs Low Path Dependence”"
QUOTE = ("If gradient descent has low path dependence, different training runs with different initializations and "
         "different orderings of training data end up converging. [...] If gradient descent has high path "
         "dependence, then differences between different training runs result in significantly different final "
         "models.")
RHOS = (0.9, 0.97, 0.99)
GRIDS = {"width": (64, 128, 256), "learning rate": (3e-4, 1e-3, 3e-3), "batch size": (32, 64, 128)}
DISPERSED = 0.1  # share of seeds outside the modal class


def _spec(ctx: Context, rho: float, axis: str, value) -> RunSpec:
    kw: dict = {"n_seeds": max(ctx.scale.seeds // 2, 2), "n_evals": 2}  # only the final state matters here
    if axis == "width":
        kw["model"] = MLPConfig(width=value)
    elif axis == "learning rate":
        kw["lr"] = value
    else:
        kw["batch_size"] = value
    return ctx.spec(world(rho), **kw)


def conditions(ctx: Context) -> dict[str, RunSpec]:
    return {f"rho={rho}, {axis}={v}": _spec(ctx, rho, axis, v) for axis, values in GRIDS.items()
            for rho in RHOS for v in values}


def class_dispersion(classes: np.ndarray) -> float:
    """Share of seeds outside the most common class."""
    _, counts = np.unique(np.asarray(classes, dtype=str), return_counts=True)
    return 1.0 - counts.max() / counts.sum()


def regime(lo: float, hi: float) -> str:
    return "converge" if hi < DISPERSED else ("split" if lo > DISPERSED else "unclear")


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    rows, grids, regimes = [], {}, []
    for axis, values in GRIDS.items():
        vals = np.zeros((len(RHOS), len(values)))
        notes = [["" for _ in values] for _ in RHOS]
        for i, rho in enumerate(RHOS):
            for j, v in enumerate(values):
                name = f"rho={rho}, {axis}={v}"
                r = runs[name]
                classes = final_classes(r)
                ci = bootstrap_ci(np.arange(len(classes)), lambda idx: class_dispersion(classes[idx.astype(int)]))
                reg = regime(ci[1], ci[2])
                regimes.append(reg)
                names, counts = np.unique(np.asarray(classes, dtype=str), return_counts=True)
                mix = ", ".join(f"{c} {k}" for c, k in sorted(zip(names, counts), key=lambda t: -t[1]))
                vals[i, j], notes[i][j] = ci[0], f"{reg}\n{mix}"
                rows.append(Row(name, f"share of seeds outside the modal class ({mix})", *ci, reg, [r.run_id]))
                rows.append(Row(name, "std of final target reliance across seeds",
                                *bootstrap_ci(r.final("reliance", "target"), np.std), "measurement", [r.run_id]))
        grids[axis] = (list(RHOS), list(values), vals, notes)
    n_conv, n_split = regimes.count("converge"), regimes.count("split")
    verdict = SUPPORTED if n_conv and n_split else (
        REFUTED if n_conv == len(regimes) or n_split == len(regimes) else INCONCLUSIVE)
    rows.insert(0, Row("all cells", f"cells that split (of {len(regimes)}; {n_conv} converge, "
                       f"{len(regimes) - n_conv - n_split} unclear)", float(n_split), float("nan"), float("nan"),
                       verdict, [runs[k].run_id for k in runs]))
    fig = heatmaps_figure(ctx.figures_dir / "H1_regime_map.png",
                          "H1: share of seeds outside the modal model class (converge < 0.1 < split)",
                          grids, "class dispersion")
    return ClaimResult(ID, SUMMARY, verdict, rows, [fig])
