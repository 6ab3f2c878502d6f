"""Figures people would rather look at than read. Every figure shows all seeds' spread
(median line, interquartile band), never a lone mean."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from greedlab.experiment import RunResult  # noqa: E402

COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def _band(ax, steps, curves, color, label):
    if len(curves) == 0:
        return  # every seed of the run diverged and was left out: nothing to draw
    with warnings.catch_warnings():  # a step no seed measured (e.g. a rate before its first window) stays a gap
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(curves, axis=0)
        lo, hi = np.nanpercentile(curves, [25, 75], axis=0)
    measured = np.isfinite(med)
    if measured.sum() < len(med) / 2:  # read at a few steps only (stage ends): join those, marked
        steps, med, lo, hi = np.asarray(steps)[measured], med[measured], lo[measured], hi[measured]
        ax.plot(steps, med, color=color, label=label, lw=2, marker="o", ms=4)
    else:
        ax.plot(steps, med, color=color, label=label, lw=2)
    ax.fill_between(steps, lo, hi, color=color, alpha=0.2, lw=0)


def _save(fig, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def reliance_figure(path: Path, title: str, runs: dict[str, RunResult], curves: list[tuple[str, str, str]],
                    extra: tuple[str, Callable[[RunResult], np.ndarray]] | None = None) -> str:
    """One panel per condition: each (instrument, feature) curve over training steps (symlog x)."""
    fig, axes = plt.subplots(1, len(runs), figsize=(5.2 * len(runs), 3.8), squeeze=False, sharey=True)
    for ax, (cond, r) in zip(axes[0], runs.items()):
        for k, (inst, feat, label) in enumerate(curves):
            _band(ax, r.steps, r.curve(inst, feat), COLORS[k % len(COLORS)], label)
        if extra is not None:
            _band(ax, r.steps, extra[1](r), "#555555", extra[0])
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(left=0)  # steps are ≥ 0: a symlog axis would otherwise show an empty negative decade
        ax.set_title(cond)
        ax.set_xlabel("training step")
        ax.axhline(0, color="k", lw=0.5)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("value (median, IQR over seeds)")
    axes[0][-1].legend(fontsize=8, loc="best")
    fig.suptitle(title)
    return _save(fig, path)


def curves_figure(path: Path, title: str, steps: np.ndarray, curves: dict[str, np.ndarray], ylabel: str,
                  threshold: float | None = None, logy: bool = False) -> str:
    """One panel: several (N, T) curves over training steps, median and IQR band each."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, (label, c) in enumerate(curves.items()):
        _band(ax, steps, c, COLORS[k % len(COLORS)], label)
    if threshold is not None:
        ax.axhline(threshold, color="k", ls=":", lw=1)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=0)
    if logy:  # rates spanning decades, possibly ≤ 0 somewhere: symmetric log
        ax.set_yscale("symlog", linthresh=1e-5)
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def onset_by_level_figure(path: Path, title: str, panels: dict[str, tuple[list[int], np.ndarray]],
                          steps: int) -> str:
    """Per panel: each seed's onset step (y, log) against the feature's level (x), never plotted at the top."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False, sharey=True)
    rng = np.random.default_rng(0)
    for ax, (name, (levels, onsets)) in zip(axes[0], panels.items()):
        for j, lev in enumerate(levels):
            col = np.where(np.isfinite(onsets[:, j]), onsets[:, j], steps * 1.5)
            ax.scatter(lev + rng.uniform(-0.15, 0.15, len(col)), col + 1, s=12, alpha=0.6, color=COLORS[j % 7])
            ax.plot([lev - 0.3, lev + 0.3], [np.median(col) + 1] * 2, color="k", lw=2)
        ax.axhline(steps * 1.2, color="gray", ls=":", lw=1)
        ax.text(min(levels), steps * 1.25, "never", fontsize=8, color="gray")
        ax.set_yscale("log")
        ax.set_xticks(sorted(set(levels)))
        ax.set_xlabel("feature level |S| (or assigned rank in the control)")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("decodability onset step + 1")
    fig.suptitle(title)
    return _save(fig, path)


def final_vs_condition_figure(path: Path, title: str, xs: list[float], finals: list[np.ndarray],
                              labels: list[str], xlabel: str, ylabel: str) -> str:
    """Strip plot of each seed's final value per condition, with medians joined."""
    fig, ax = plt.subplots(figsize=(6, 4))
    rng = np.random.default_rng(0)
    pos = np.arange(len(xs))
    for p, v in zip(pos, finals):
        ax.scatter(p + rng.uniform(-0.12, 0.12, len(v)), v, s=14, alpha=0.6, color=COLORS[1])
    ax.plot(pos, [np.median(v) for v in finals], color="k", marker="o", lw=2, label="median")
    ax.set_xticks(pos, labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    return _save(fig, path)


def histograms_figure(path: Path, title: str, panels: dict[str, dict[str, np.ndarray]], xlabel: str,
                      bins: np.ndarray | None = None) -> str:
    """A grid of histograms: one row per outer key, one panel per inner key (shared bins)."""
    n_cols = max(len(p) for p in panels.values())
    bins = np.linspace(-0.05, 1.05, 23) if bins is None else bins
    fig, axes = plt.subplots(len(panels), n_cols, figsize=(3.2 * n_cols, 2.4 * len(panels)), squeeze=False,
                             sharex=True)
    for i, (row, cells) in enumerate(panels.items()):
        for j in range(n_cols):
            ax = axes[i][j]
            if j >= len(cells):
                ax.axis("off")
                continue
            name, values = list(cells.items())[j]
            ax.hist(values, bins=bins, color=COLORS[i % len(COLORS)], alpha=0.8)
            ax.set_title(f"{row}, {name}", fontsize=9)
            ax.grid(alpha=0.3)
            ax.set_xlabel(xlabel, fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def heatmaps_figure(path: Path, title: str, grids: dict[str, tuple[list, list, np.ndarray, list[list[str]]]],
                    colorbar: str) -> str:
    """One heatmap per grid: rows × cols of values, each cell annotated (e.g. 'split', 'converge')."""
    fig, axes = plt.subplots(1, len(grids), figsize=(4.6 * len(grids), 3.8), squeeze=False)
    vmax = max(float(np.nanmax(g[2])) for g in grids.values()) or 1.0
    for ax, (name, (rows, cols, vals, notes)) in zip(axes[0], grids.items()):
        im = ax.imshow(vals, cmap="magma_r", vmin=0, vmax=vmax, aspect="auto")
        ax.set_xticks(range(len(cols)), [str(c) for c in cols])
        ax.set_yticks(range(len(rows)), [str(r) for r in rows])
        ax.set_xlabel(name)
        ax.set_ylabel("ρ")
        for i in range(len(rows)):
            for j in range(len(cols)):
                dark = vals[i, j] > 0.5 * vmax
                ax.text(j, i, f"{vals[i, j]:.3f}\n{notes[i][j]}", ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    fig.colorbar(im, ax=axes[0].tolist(), label=colorbar, shrink=0.8)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return str(path)


def strips_figure(path: Path, title: str, panels: dict[str, dict[str, np.ndarray]], ylabel: str,
                  threshold: float | None = None) -> str:
    """One panel per outer key; in each, every seed's value per condition (NaN seeds drawn as × at 0)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.9), squeeze=False, sharey=True)
    rng = np.random.default_rng(0)
    for ax, (name, conds) in zip(axes[0], panels.items()):
        for p, (cond, v) in enumerate(conds.items()):
            v = np.asarray(v, float)
            ok = np.isfinite(v)
            ax.scatter(p + rng.uniform(-0.12, 0.12, ok.sum()), v[ok], s=14, alpha=0.6, color=COLORS[p % 7])
            if (~ok).any():
                ax.scatter(p + rng.uniform(-0.12, 0.12, (~ok).sum()), np.zeros((~ok).sum()), marker="x",
                           color="gray", s=14, label="undefined" if p == 0 else None)
            if ok.any():
                ax.plot([p - 0.3, p + 0.3], [np.median(v[ok])] * 2, color="k", lw=2)
        if threshold is not None:
            ax.axhline(threshold, color="k", ls=":", lw=1)
        ax.set_xticks(range(len(conds)), list(conds), rotation=20, ha="right", fontsize=8)
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    fig.suptitle(title)
    return _save(fig, path)


def scatter_figure(path: Path, title: str, groups: dict[str, tuple[np.ndarray, np.ndarray]], xlabel: str,
                   ylabel: str, logx: bool = False) -> str:
    """One panel: every seed as a point (x, y), one colour per group; non-finite points left out."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for k, (label, (x, y)) in enumerate(groups.items()):
        x, y = np.asarray(x, float), np.asarray(y, float)
        ok = np.isfinite(x) & np.isfinite(y) & ((x > 0) if logx else True)
        ax.scatter(x[ok], y[ok], s=18, alpha=0.7, color=COLORS[k % len(COLORS)], label=label)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title)
    return _save(fig, path)


def class_shares_figure(path: Path, title: str, shares: dict[str, dict[str, float]]) -> str:
    """Stacked bars: the fraction of seeds in each model class, per condition."""
    from greedlab.instruments.model_class import CLASSES

    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(shares) + 2.5), 4))
    bottom = np.zeros(len(shares))
    for k, cls in enumerate(CLASSES):
        vals = np.array([s.get(cls, 0.0) for s in shares.values()])
        ax.bar(range(len(shares)), vals, bottom=bottom, color=COLORS[k % len(COLORS)], label=cls)
        bottom += vals
    ax.set_xticks(range(len(shares)), list(shares), rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("fraction of seeds")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title)
    return _save(fig, path)


def pragmascope_figure(path: Path, candidate_redundancy: np.ndarray, reported: np.ndarray, threshold: float,
                       mediation: np.ndarray) -> str:
    """Left: every candidate's redundancy by rank (reported ones in color), the redundancy threshold
    dashed. Right: the remaining cross-view dependence after the first k reported features."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    r = np.clip(candidate_redundancy, -0.1, 1)
    a.bar(np.arange(len(r)), r, color=np.where(reported, COLORS[1], "#bbbbbb"))
    a.axhline(threshold, color="k", ls="--", lw=1)
    a.set_xlabel("candidate (ranked by shared variance)")
    a.set_ylabel("redundancy (worst leave-one-view-out R²)")
    a.set_ylim(-0.1, 1.05)
    b.plot(np.arange(len(mediation)), mediation, "o-", color=COLORS[0])
    b.set_xlabel("reported features regressed out (k)")
    b.set_ylabel("remaining cross-view dependence")
    b.set_ylim(bottom=0)
    for ax in (a, b):
        ax.grid(alpha=0.3)
    fig.suptitle("pragmascope: natural abstractions")
    return _save(fig, path)


def bars_figure(path: Path, title: str, panels: dict[str, dict[str, np.ndarray]], ylabel: str) -> str:
    """One panel per outer key: a bar per inner key at the median over seeds, every seed as a dot."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.6), squeeze=False, sharey=True)
    rng = np.random.default_rng(0)
    for ax, (name, bars) in zip(axes[0], panels.items()):
        for j, (label, v) in enumerate(bars.items()):
            ax.bar(j, np.median(v), color=COLORS[j % len(COLORS)], alpha=0.5)
            ax.scatter(j + rng.uniform(-0.15, 0.15, len(v)), v, s=10, color=COLORS[j % len(COLORS)])
        ax.set_xticks(range(len(bars)), list(bars), rotation=35, ha="right", fontsize=8)
        ax.axhline(0.5, color="k", ls=":", lw=1)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel(ylabel)
    fig.suptitle(title)
    return _save(fig, path)


def panels_grid_figure(path: Path, title: str, panels: dict[tuple[str, str], tuple[np.ndarray, dict[str, np.ndarray]]],
                       ylabel: str, threshold: float | None = None, marks: tuple[float, ...] = (),
                       xlabel: str = "training step") -> str:
    """A grid of panels, one per (row, column) key: each (steps, {label: (N, T) curves}) drawn as
    median and IQR band over seeds, with a dotted ``threshold`` and dashed verticals at ``marks``."""
    rows = list(dict.fromkeys(r for r, _ in panels))
    cols = list(dict.fromkeys(c for _, c in panels))
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(3.4 * len(cols), 3.0 * len(rows)), squeeze=False,
                             sharey=True)
    for (r, c), (steps, curves) in panels.items():
        ax = axes[rows.index(r)][cols.index(c)]
        for k, (label, v) in enumerate(curves.items()):
            _band(ax, steps, v, COLORS[k % len(COLORS)], label)
        if threshold is not None:
            ax.axhline(threshold, color="k", ls=":", lw=1)
        for m in marks:
            ax.axvline(m, color="#888888", ls="--", lw=0.8)
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(left=0)
        ax.set_title(f"{c} ({r})", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
    for row in axes:
        row[0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    return _save(fig, path)
