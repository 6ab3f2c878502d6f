"""The worlds as ``torch.utils.data.Dataset``s, for a model and training loop of your own.

A ``WorldDataset`` holds a fixed slice of one split of a world — the same rows every time, since a
world's samples are a pure function of (world seed, split, index) — so a ``DataLoader`` over it is
an ordinary PyTorch input pipeline, and ``greedlab.monitor.Monitor`` measures the model on the
world's own deploy and probe splits.

Labels are class indices in {0, 1}, as float32 (label +1 → 1, −1 → 0): what PyTorch's losses take.
``nn.BCEWithLogitsLoss()(f, y)`` on a one-logit model is then greedlab's logistic loss
log(1 + e^{−(2y−1) f}), and ``y.long()`` is the target of ``nn.CrossEntropyLoss`` for a two-logit
model. The ±1 labels the instruments use are ``dataset.batch.y``; the latents ``dataset.batch.a``.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from greedlab.errors import ConfigError
from greedlab.worlds import SPLITS, Batch, HierarchyConfig, RealConfig, World, make_world

DEFAULT_EVAL_ROWS = 4096
"""Rows of an unbounded split (a hierarchy world's deploy and probe) taken when ``n`` is None."""


def as_world(world: World | HierarchyConfig | RealConfig) -> World:
    """A world instance from a world or its config."""
    return make_world(world) if isinstance(world, (HierarchyConfig, RealConfig)) else world


def split_size(world: World, split: str) -> int | None:
    """Rows ``split`` has, or None where it is unbounded (a hierarchy world's deploy and probe)."""
    if hasattr(world, "size"):  # a finite (real-data) world
        return world.size(split)
    return world.config.n_train if split == "train" else None


class WorldDataset(Dataset):
    """Rows ``start .. start+n−1`` of one split of a world, as (x, y) pairs with y ∈ {0., 1.}.

    ``n`` None: the whole split where it is finite (train; a real world's deploy and probe), else
    ``DEFAULT_EVAL_ROWS``. The train split is the world's finite training set, so ``n`` larger than
    it is refused rather than silently drawing samples the world never trains on.
    """

    def __init__(self, world: World | HierarchyConfig | RealConfig, split: str = "train", n: int | None = None,
                 start: int = 0):
        if split not in SPLITS:
            raise ConfigError("split", ", ".join(SPLITS), split)
        self.world, self.split = as_world(world), split
        size = split_size(self.world, split)
        if n is None:
            n = size - start if size is not None else DEFAULT_EVAL_ROWS
        if not (isinstance(n, int) and n >= 1 and start >= 0 and (size is None or start + n <= size)):
            raise ConfigError("n", f"an integer ≥ 1 with start + n ≤ {size} (rows in {split})" if size is not None
                              else "an integer ≥ 1", n)
        self.batch: Batch = self.world.sample(split, start, n)
        self.x = self.batch.x
        self.y = (self.batch.y > 0).float()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def world_datasets(world: World | HierarchyConfig | RealConfig, n_eval: int | None = None) -> dict[str, WorldDataset]:
    """{split: WorldDataset} for train (the whole training set), deploy and probe (``n_eval`` rows each)."""
    w = as_world(world)
    out = {}
    for s in SPLITS:
        size = split_size(w, s)
        n = None if s == "train" or n_eval is None else min(n_eval, size or n_eval)
        out[s] = WorldDataset(w, s, n)
    return out
