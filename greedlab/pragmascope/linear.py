"""The linear pragmascope: multi-view CCA (MAXVAR), scored on held-out rows (see the package's docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from greedlab.errors import ConfigError
from greedlab.pragmascope.data import load, parse_views

REDUNDANCY_MIN = 0.5  # a reported feature keeps at least half its variance with any one view left out
# ... and is shared: a linear feature spread thinly over many independent views is recoverable with
# any one of them left out too (each adds little), so redundancy alone would report pure noise.
# What noise lacks is covariance *between* the views' parts of the feature.
SHARED_MIN = 0.2
RIDGE = 1e-3  # whitening ridge, relative to standardized columns: keeps near-collinear views stable
MAX_CANDIDATES = 64
SPLIT_SEED = 0


@dataclass
class Abstractions:
    """What the pragmascope found. ``features`` (rows × k) for the input rows, ranked; per feature its
    ``redundancy`` and ``agreement``; ``mediation`` (k + 1,) after 0..k features; every candidate's
    redundancy and agreement (reported or not) for the figure."""

    features: np.ndarray
    redundancy: np.ndarray
    agreement: np.ndarray
    mediation: np.ndarray
    candidate_redundancy: np.ndarray
    candidate_agreement: np.ndarray
    views: list[np.ndarray]
    mean: np.ndarray
    std: np.ndarray
    whiten: list[np.ndarray]
    loadings: np.ndarray
    encode: Callable[[np.ndarray], np.ndarray] | None = None
    """The nonlinear method's per-view encoders (raw rows → concatenated embeddings)."""
    data_views: list[np.ndarray] | None = None
    """The data's views when ``views`` are the encoders' embedding blocks."""

    def transform(self, x: np.ndarray) -> np.ndarray:
        """The reported features of new rows with the same columns."""
        if self.encode is not None:
            x = self.encode(x)
        return _whitened(x, self) @ self.loadings


def _whitened(x: np.ndarray, fit) -> np.ndarray:
    z = (x - fit.mean) / fit.std
    return np.concatenate([z[:, v] @ w for v, w in zip(fit.views, fit.whiten)], axis=1)


def _whitening(z: np.ndarray) -> np.ndarray:
    """Columns → unit-variance, uncorrelated directions (rank-revealing: null directions dropped)."""
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    var = s ** 2 / len(z)
    keep = var > 1e-10 * max(var.max(), 1e-300)
    return vt[keep].T / np.sqrt(var[keep] + RIDGE)


def _blocks(views: list[np.ndarray], whiten: list[np.ndarray]) -> list[slice]:
    out, pos = [], 0
    for w in whiten:
        out.append(slice(pos, pos + w.shape[1]))
        pos += w.shape[1]
    return out


def _r2(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 1 - ((y - pred) ** 2).sum(0) / np.maximum(((y - y.mean(0)) ** 2).sum(0), 1e-300)


def _top_shared(blocks: list[np.ndarray]) -> float:
    """(σ₁² − 1)/(V − 1) of the MAXVAR matrix of ``blocks``: 0 when no direction is shared, 1 when one
    direction is identical in every view."""
    ws = [b @ _whitening(b) for b in blocks]
    ws = [w for w in ws if w.shape[1]]
    if len(ws) < 2:
        return 0.0
    s = np.linalg.svd(np.concatenate(ws, axis=1) / np.sqrt(len(ws[0])), compute_uv=False)
    return float((s[0] ** 2 - 1) / (len(ws) - 1))


def _mediation(hold: np.ndarray, blocks: list[slice], feats: np.ndarray, rng: np.random.Generator) -> float:
    if feats.shape[1]:  # one least-squares solve for every column at once: the same residuals
        f = np.column_stack([feats, np.ones(len(feats))])
        hold = hold - f @ np.linalg.lstsq(f, hold, rcond=None)[0]
    views = [hold[:, b] for b in blocks]
    shuffled = [v[rng.permutation(len(v))] for v in views]
    return max(0.0, _top_shared(views) - _top_shared(shuffled))


def mediation_given(data: str | Path | np.ndarray, views: str | list | None, latents: np.ndarray) -> float:
    """The mediation score of given latents (rows × k), e.g. a world's true ones: the views'
    remaining dependence once the latents are regressed out (0 = independent given them)."""
    x, _ = load(data)
    groups = (parse_views(views, x.shape[1]) if views is None or isinstance(views, str)
              else [np.asarray(v) for v in views])
    z = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    return _mediation(z, [g for g in groups], np.asarray(latents, float), np.random.default_rng(SPLIT_SEED + 1))


def _groups(x: np.ndarray, views: str | list | None) -> list[np.ndarray]:
    groups = (parse_views(views, x.shape[1]) if views is None or isinstance(views, str)
              else [np.asarray(v) for v in views])
    if len(groups) < 2:
        raise ConfigError("--views", "at least two views", len(groups))
    if len(x) < 20:
        raise ConfigError("data", "at least 20 rows", len(x))
    return groups


def _split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, held-out rows): fixed, so the nonlinear method's encoders never see the rows the
    linear stage scores on."""
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    return order[:n // 2], order[n // 2:]


def find(data: str | Path | np.ndarray, views: str | list | None = None) -> Abstractions:
    """The natural abstractions of ``data`` (rows are samples). ``views``: a spec string (see
    ``parse_views``), a list of column-index lists, or None (every column its own view)."""
    x, _ = load(data)
    groups = _groups(x, views)
    fit_rows, hold_rows = _split(len(x))
    mean, std = x[fit_rows].mean(0), x[fit_rows].std(0)
    std = np.where(std > 0, std, 1.0)
    z = (x[fit_rows] - mean) / std
    whiten = [_whitening(z[:, v]) for v in groups]
    probe = Abstractions(np.empty(0), np.empty(0), np.empty(0), np.empty(0), np.empty(0), np.empty(0), groups, mean,
                         std, whiten, np.empty(0))
    zf, zh = _whitened(x[fit_rows], probe), _whitened(x[hold_rows], probe)
    blocks = _blocks(groups, whiten)
    _, s, vt = np.linalg.svd(zf / np.sqrt(len(zf)), full_matrices=False)
    m = min(MAX_CANDIDATES, len(s))
    load_ = vt[:m].T / s[:m]  # unit-variance features on the fit half
    ff, fh = zf @ load_, zh @ load_
    red = np.full(m, np.inf)
    for b in blocks:  # leave view b out: fit on one half, score on the other
        rest = np.ones(zf.shape[1], bool)
        rest[b] = False
        coef = np.linalg.lstsq(zf[:, rest], ff, rcond=None)[0]
        red = np.minimum(red, _r2(zh[:, rest] @ coef, fh))
    parts = np.stack([zh[:, b] @ load_[b] for b in blocks])  # (V, rows, m): each view's part of each feature
    agree = 1 - parts.var(1).sum(0) / np.maximum(fh.var(0), 1e-300)
    keep = np.flatnonzero((red > REDUNDANCY_MIN) & (agree > SHARED_MIN))
    med = np.array([_mediation(zh, blocks, fh[:, keep[:k]], np.random.default_rng(SPLIT_SEED + 1))
                    for k in range(len(keep) + 1)])
    out = Abstractions(np.empty(0), red[keep], agree[keep], med, red, agree, groups, mean, std, whiten, load_[:, keep])
    out.features = out.transform(x)
    return out
