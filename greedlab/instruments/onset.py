"""Onsets: the first evaluation step at which a measured curve crosses a threshold."""

from __future__ import annotations

import numpy as np

RELIANCE_ONSET = 0.5   # a feature is "relied on" once its coefficient reaches 0.5
NEVER = np.inf


def onset(steps: np.ndarray, values: np.ndarray, threshold: float) -> np.ndarray:
    """First step where ``values[..., t] ≥ threshold``; ``inf`` where never. values: (..., T)."""
    hit = values >= threshold
    first = hit.argmax(axis=-1)
    out = np.asarray(steps, dtype=float)[first]
    return np.where(hit.any(axis=-1), out, NEVER)
