"""Worlds: data-generating processes with ground truth.

A world is anything with this small protocol, so real-data worlds plug in beside the
hierarchy world: ``input_dim``, ``sample(split, start, n) -> Batch`` (x, y, a),
``train_set()``, ``tracked_features() -> {name: latents}``.
"""

from typing import Protocol

from greedlab.worlds.hierarchy import (
    SPLITS,
    Batch,
    HierarchyConfig,
    HierarchyWorld,
    Proxy,
    StaircaseStep,
    chi,
)
from greedlab.worlds.real import RealConfig, RealWorld


class World(Protocol):
    input_dim: int

    def sample(self, split: str, start: int, n: int) -> Batch: ...

    def train_set(self) -> Batch: ...

    def tracked_features(self) -> dict[str, tuple[int, ...]]: ...


def sparse_parity(n: int, k: int, online: bool = True, noise: float = 0.0, **kw) -> HierarchyConfig:
    """The (n, k) sparse-parity problem of the literature (Barak et al. 2022): n uniform bits as the
    input itself, the label the parity of k of them, no proxy; fresh examples every step unless
    ``online`` is False (then ``n_train`` examples, default 8,192). ``kw``: any other world field,
    e.g. ``staircase=(StaircaseStep((0,), 0.9), …)`` for a staircase function."""
    return HierarchyConfig(n_latents=n, target=tuple(range(k)), proxies=(), rendering="identity", noise=noise,
                           online=online, **kw)


def make_world(config: HierarchyConfig | RealConfig) -> World:
    """The world a config describes (the config's type says which kind)."""
    if isinstance(config, RealConfig):
        return RealWorld(config)
    return HierarchyWorld(config)


__all__ = ["sparse_parity", "SPLITS", "Batch", "HierarchyConfig", "HierarchyWorld", "Proxy", "RealConfig", "RealWorld",
           "StaircaseStep", "World", "chi", "make_world"]
