"""The pragmascope against a world whose natural abstractions are known."""

from __future__ import annotations

import numpy as np

from greedlab.pragmascope.linear import _r2, _split, find

def recovery(features: np.ndarray, truths: np.ndarray) -> np.ndarray:
    """R² of each truth column (rows × T) from an affine read-out of ``features``, fitted on one half
    of the rows and scored on the other (a read-out fitted and scored on the same rows flatters)."""
    fit, hold = _split(len(features))
    f = np.column_stack([features, np.ones(len(features))])
    coef = np.linalg.lstsq(f[fit], truths[fit], rcond=None)[0]
    return _r2(f[hold] @ coef, truths[hold])


def world_scorecard(config, rows: int = 4000, noise_columns: int = 16, seed: int = 0) -> dict:
    """The pragmascope against a hierarchy world's ground truth: it sees the world's pixels, its
    effect pixels and ``noise_columns`` columns of pure noise (every column its own variable), and is
    scored on how well its features recover every latent and every effect abstraction χ_S.
    Returns the R² per latent and per effect, the number of features and what an ideal finder would
    report (one per latent with signal, one per effect), and ``noise_r2``, the best R² of any noise
    column from the features (≈ 0: nothing was taken from pure noise)."""
    import torch

    from greedlab.worlds import HierarchyWorld, chi

    world = HierarchyWorld(config)
    b = world.sample("deploy", 0, rows)
    n = config.n_latents * config.pixels_per_latent
    parts = [b.x[:, :n]] + ([b.e] if b.e is not None else [])
    noise = np.random.default_rng(seed).normal(size=(rows, noise_columns))
    x = np.column_stack([torch.cat(parts, 1).double().numpy(), noise])
    found = find(x, None)
    a = b.a.double().numpy()
    effects = np.column_stack([chi(b.a, S).double().numpy() for S in config.effects]) if config.effects else \
        np.empty((rows, 0))
    shown = [i for i in range(config.n_latents) if i not in config.hidden]
    return {"latent_r2": recovery(found.features, a[:, shown]), "effect_r2": recovery(found.features, effects),
            "n_features": found.features.shape[1], "n_true": len(shown) + len(config.effects),
            "noise_r2": float(recovery(found.features, noise).max()) if noise_columns else 0.0}
