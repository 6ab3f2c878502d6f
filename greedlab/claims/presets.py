"""Presets every hierarchy claim shares, owned by none of them: the default world and the readings
several claims take of a run. (Claims import this, never one another.)"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from greedlab.experiment import RunResult
from greedlab.worlds import HierarchyConfig, Proxy

PROXY_LATENT = 4
"""The default proxy: latent a_4, a level-1 feature outside the level-4 target χ_{0123}."""


def world(rho: float) -> HierarchyConfig:
    """The default world (target χ_{0123}) with the proxy a_4 agreeing with it at ρ in training."""
    return replace(HierarchyConfig(), proxies=(Proxy((PROXY_LATENT,), rho),))


def best_decodability(r: RunResult, feature: str) -> np.ndarray:
    """(N, T): the best hidden layer's probe accuracy for ``feature`` at each evaluation."""
    return np.max([r.curve(f"decodability:{layer}", feature) for layer in r.layers()], axis=0)
