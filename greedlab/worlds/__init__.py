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


def make_world(config: HierarchyConfig | RealConfig) -> World:
    """The world a config describes (the config's type says which kind)."""
    if isinstance(config, RealConfig):
        return RealWorld(config)
    return HierarchyWorld(config)


__all__ = ["SPLITS", "Batch", "HierarchyConfig", "HierarchyWorld", "Proxy", "RealConfig", "RealWorld",
           "StaircaseStep", "World", "chi", "make_world"]
