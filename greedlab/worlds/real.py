"""Real data with an injected proxy: MNIST-1D and scikit-learn's digits, plus a marker.

The label is a grouping of the dataset's classes into two (default: classes 0–4 → +1, 5–9 → −1).
The proxy is a *marker* written over a few fixed input positions — a spike pattern at the start of
an MNIST-1D signal, a 2×2 patch in the bottom-left corner of a digit — whose sign agrees with the
label on a fraction ρ of the training set and is independent of it at deployment.

Ground truth is the pair (class group, marker): the latents are ``a = [y, marker]`` (both ±1), so
the tracked features ``target = (0,)`` and ``proxy0 = (1,)`` make the reliance instrument read
exact correlations. There is no Fourier basis of the images themselves: what the model does with
the rest of the input is measured by counterfactuals instead (``counterfactuals``, and
greedlab.instruments.counterfactual).

Splits come from the dataset's own partitions: ``train`` is the train partition (MNIST-1D's 4,000
samples, as in its paper); the test partition (1,000) is halved into ``probe`` and ``deploy``.
Each probe/deploy image appears twice in a row, with marker +s and −s (antithetic pairs), so the
marker is exactly balanced within every class on those splits, not just in expectation.
A finite world: ``sample`` returns the rows that exist, at most ``n``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from greedlab.errors import ConfigError
from greedlab.worlds.hierarchy import SPLITS, Batch, _seed_of

DATASETS = ("mnist1d", "digits")
INPUT_DIM = {"mnist1d": 40, "digits": 64}
# marker positions and pattern (× marker sign × marker_scale), chosen where the data is nearly empty:
# MNIST-1D signals are centred noise at their edges; digit images are background in that corner
MARKER = {"mnist1d": ((0, 1, 2), (1.0, -1.0, 1.0)),
          "digits": ((48, 49, 56, 57), (1.0, 1.0, 1.0, 1.0))}
DIGITS_TEST = 600  # digits has no official split: a fixed 1,197 / 600 permutation of the 1,797 images
COUNTERFACTUALS = ("aligned", "opposed", "random", "flipped", "removed", "class_destroyed")


@lru_cache(maxsize=None)
def load_classes(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, class_train, x_test, class_test) as float32 / int64 arrays, standardized.

    MNIST-1D is generated in memory by the mnist1d package's own generator with its default
    arguments (seed 42, 4,000 / 1,000 split) — never downloaded, never unpickled. Generation takes
    about two seconds, hence the cache.
    """
    if dataset == "mnist1d":
        from mnist1d.data import get_dataset_args, make_dataset

        # make_dataset seeds the global `random` and numpy generators; leave them as they were
        np_state, py_state = np.random.get_state(), random.getstate()
        try:
            d = make_dataset(get_dataset_args())
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
        # make_dataset already centres the data and scales it to unit std
        return (d["x"].astype(np.float32), d["y"].astype(np.int64), d["x_test"].astype(np.float32),
                d["y_test"].astype(np.int64))
    if dataset == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        perm = np.random.default_rng(0).permutation(len(d.target))
        x, c = d.data[perm], d.target[perm]
        n_tr = len(c) - DIGITS_TEST
        mean, std = x[:n_tr].mean(), x[:n_tr].std()  # one global scale keeps the background one value
        x = ((x - mean) / std).astype(np.float32)
        return x[:n_tr], c[:n_tr].astype(np.int64), x[n_tr:], c[n_tr:].astype(np.int64)
    raise ConfigError("world.dataset", ", ".join(DATASETS), dataset)


@dataclass(frozen=True)
class RealConfig:
    """A real dataset with a class grouping as the label and an injected marker as the proxy."""

    dataset: str = "mnist1d"
    """mnist1d (generated locally) or digits (scikit-learn's bundled 8×8 digits)."""
    positive: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Classes labelled +1; every other class is −1."""
    rho: float = 0.9
    """Fraction of training samples whose marker sign equals their label (0.5: uninformative)."""
    marker_scale: float = 2.0
    """Marker amplitude, in units of the data's standard deviation."""
    n_train: int | None = None
    """Training samples (a prefix of the train partition); None: all of it."""
    seed: int = 0
    """World seed: fixes which training samples agree with the marker and the deployment markers."""

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ConfigError("world.dataset", ", ".join(DATASETS), self.dataset)
        ok = (len(self.positive) > 0 and len(set(self.positive)) == len(self.positive)
              and all(isinstance(c, int) and 0 <= c <= 9 for c in self.positive) and len(self.positive) < 10)
        if not ok:
            raise ConfigError("world.positive", "a non-empty proper subset of the classes 0..9", self.positive)
        if not (0.0 <= self.rho <= 1.0):
            raise ConfigError("world.rho", "a number in [0, 1]", self.rho)
        if not (self.marker_scale >= 0 and math.isfinite(self.marker_scale)):
            raise ConfigError("world.marker_scale", "a finite number ≥ 0", self.marker_scale)
        if self.n_train is not None and not (isinstance(self.n_train, int) and self.n_train >= 1):
            raise ConfigError("world.n_train", "None (the whole train partition) or an integer ≥ 1", self.n_train)

    @property
    def input_dim(self) -> int:
        return INPUT_DIM[self.dataset]


class RealWorld:
    """A world instance over a real dataset; see the module docstring for the splits."""

    def __init__(self, config: RealConfig):
        self.config = config
        x_tr, c_tr, x_te, c_te = load_classes(config.dataset)
        if config.n_train is not None and config.n_train > len(c_tr):
            raise ConfigError("world.n_train", f"at most {len(c_tr)} (the {config.dataset} train partition)",
                              config.n_train)
        self.marker_pos = list(MARKER[config.dataset][0])
        self.pattern = torch.tensor(MARKER[config.dataset][1]) * config.marker_scale
        pos = torch.tensor(config.positive)
        half = len(c_te) // 2
        self._images = {"train": torch.from_numpy(x_tr), "probe": torch.from_numpy(x_te[:half]),
                        "deploy": torch.from_numpy(x_te[half:2 * half])}
        self._classes = {"train": torch.from_numpy(c_tr), "probe": torch.from_numpy(c_te[:half]),
                         "deploy": torch.from_numpy(c_te[half:2 * half])}
        self._labels = {s: torch.where(torch.isin(c, pos), 1.0, -1.0) for s, c in self._classes.items()}
        self._markers = {s: self._draw_markers(s) for s in SPLITS}

    @property
    def input_dim(self) -> int:
        return self.config.input_dim

    def tracked_features(self) -> dict[str, tuple[int, ...]]:
        return {"target": (0,), "proxy0": (1,)}

    def size(self, split: str) -> int:
        """Rows in ``split``: the train partition (or its n_train prefix); two per probe/deploy image."""
        if split == "train":
            return self.config.n_train or len(self._labels["train"])
        return 2 * len(self._labels[split])

    def _rows(self, split: str) -> torch.Tensor:
        """Image index of every row of ``split`` (probe and deploy rows come in antithetic pairs)."""
        n = len(self._labels[split])
        return torch.arange(n) if split == "train" else torch.arange(2 * n) // 2

    def _draw_markers(self, split: str) -> torch.Tensor:
        g = torch.Generator().manual_seed(_seed_of(self.config.seed, "real", split))
        y = self._labels[split]
        if split == "train":
            # exactly round(ρ·n) agreeing samples over the partition, so ρ = 0.5 is exactly uninformative
            agree = torch.full((len(y),), -1.0)
            agree[torch.randperm(len(y), generator=g)[:round(self.config.rho * len(y))]] = 1.0
            return agree * y
        s = torch.where(torch.rand(len(y), generator=g) < 0.5, 1.0, -1.0)
        return torch.stack([s, -s], dim=1).reshape(-1)

    def render(self, images: torch.Tensor, marker: torch.Tensor | None) -> torch.Tensor:
        """Images with the marker pattern × sign written over the marker positions; None: no marker."""
        x = images.clone()
        if marker is not None:
            x[:, self.marker_pos] = marker[:, None] * self.pattern
        return x

    def sample(self, split: str, start: int, n: int) -> Batch:
        """Rows ``start .. start+n-1`` of ``split`` that exist; the same indices give the same rows."""
        if split not in SPLITS:
            raise ConfigError("split", ", ".join(SPLITS), split)
        stop = min(start + n, self.size(split))
        img = self._rows(split)[start:stop]
        y = self._labels[split][img]
        m = self._markers[split][start:stop]
        x = self.render(self._images[split][img], m)
        return Batch(x, y, torch.stack([y, m], dim=1))

    def train_set(self) -> Batch:
        return self.sample("train", 0, self.size("train"))

    def counterfactuals(self, split: str = "deploy", n: int | None = None) -> dict[str, Batch]:
        """The first n rows of ``split`` re-rendered, row for row, with the marker or the class signal
        changed (labels y stay the rows' own):

        - ``aligned``: marker = label (the training correlation at ρ = 1); ``opposed``: marker = −label;
        - ``random``: the rows as sampled (marker independent of the label);
        - ``flipped``: each row's marker negated; ``removed``: the original pixels, no marker;
        - ``class_destroyed``: every non-marker pixel taken from another image (a random derangement
          of the split's images, so the class signal is independent of the label), marker = label —
          Shah et al.'s (2020) test of randomizing the complex block and keeping the simple one.
        """
        n = self.size(split) if n is None else min(n, self.size(split))
        base = self.sample(split, 0, n)
        img = self._rows(split)[:n]
        images = self._images[split][img]
        y, m = base.y, base.a[:, 1]
        g = torch.Generator().manual_seed(_seed_of(self.config.seed, "donor", split))
        k = len(self._labels[split])
        cycle = torch.randperm(k, generator=g)
        donor_of = torch.empty(k, dtype=torch.long)
        donor_of[cycle] = cycle.roll(-1)  # one random cycle through all images: nobody is their own donor
        donor = self._images[split][donor_of[img]]
        mixed = self.render(donor, y)
        x = {"aligned": (self.render(images, y), y), "opposed": (self.render(images, -y), -y),
             "random": (base.x, m), "flipped": (self.render(images, -m), -m),
             "removed": (self.render(images, None), torch.zeros_like(m)), "class_destroyed": (mixed, y)}
        return {kind: Batch(xk, y, torch.stack([y, mk], dim=1)) for kind, (xk, mk) in x.items()}
