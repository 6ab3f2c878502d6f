"""One run = one ensemble of seeds trained on one (world, model, training) config, with every
instrument recorded at every evaluation. Runs are keyed by a hash of their full config and seeds;
a finished run is read back from the store instead of trained again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from greedlab import __version__
from greedlab.errors import ConfigError
from greedlab.instruments import EvalSet, evaluate
from greedlab.models import MLPConfig, Model
from greedlab.store import Store
from greedlab.train import TrainConfig, eval_steps, train
from greedlab.worlds import HierarchyConfig, RealConfig, make_world

DATA_SEED_OFFSET = 100_000  # data-order seeds live apart from init seeds so the two never coincide


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's numbers."""

    world: HierarchyConfig | RealConfig = field(default_factory=HierarchyConfig)
    model: Model = field(default_factory=MLPConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    init_seeds: tuple[int, ...] = tuple(range(16))
    data_seeds: tuple[int, ...] = tuple(range(DATA_SEED_OFFSET, DATA_SEED_OFFSET + 16))

    def config(self) -> dict:
        cfg = dataclasses.asdict(self)
        if self.model.family != "mlp":  # MLP runs keep the keys they had before other families existed
            cfg["model"] = {"family": self.model.family, **cfg["model"]}
        return cfg

    @property
    def run_id(self) -> str:
        """Hash of the full config (world, model, training, seeds): the run's key in the store."""
        blob = json.dumps(self.config(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def n_models(self) -> int:
        return len(self.init_seeds)


VARY = ("both", "init", "order")


def seeds(n: int, base: int = 0, vary: str = "both") -> dict:
    """Init and data-order seeds for n models, as RunSpec keyword arguments.

    ``vary``: "both" gives every model its own init and data order; "init" shares one data order
    (only the initialization differs); "order" shares one initialization (only the data order
    differs) — the two sources of path dependence, separated.
    """
    inits = tuple(range(base, base + n))
    orders = tuple(range(DATA_SEED_OFFSET + base, DATA_SEED_OFFSET + base + n))
    if vary == "init":
        orders = (orders[0],) * n
    elif vary == "order":
        inits = (inits[0],) * n
    elif vary != "both":
        raise ConfigError("vary", ", ".join(VARY), vary)
    return {"init_seeds": inits, "data_seeds": orders}


@dataclass
class RunResult:
    """Measured curves of one run: ``curve(instrument, feature)`` is an (N, T) array over ``steps``."""

    run_id: str
    spec: RunSpec
    steps: np.ndarray
    values: dict[tuple[str, str], np.ndarray]

    def curve(self, instrument: str, feature: str = "") -> np.ndarray:
        return self.values[instrument, feature]

    def final(self, instrument: str, feature: str = "") -> np.ndarray:
        return self.values[instrument, feature][:, -1]

    def layers(self) -> list[str]:
        return sorted({i.split(":", 1)[1] for i, _ in self.values if i.startswith("decodability:")})


def _to_columns(records: list[tuple[int, dict]]) -> dict[str, np.ndarray]:
    cols: dict[str, list] = {"seed": [], "step": [], "instrument": [], "feature": [], "value": []}
    for step, vals in records:
        for (inst, feat), v in vals.items():
            v = v.detach().cpu().double().numpy()
            n = len(v)
            cols["seed"].append(np.arange(n, dtype=np.int32))
            cols["step"].append(np.full(n, step, dtype=np.int32))
            cols["instrument"].append(np.full(n, inst, dtype=object))
            cols["feature"].append(np.full(n, feat, dtype=object))
            cols["value"].append(v)
    return {k: np.concatenate(v) for k, v in cols.items()}


def _from_columns(run_id: str, spec: RunSpec, cols: dict[str, np.ndarray]) -> RunResult:
    steps = np.array(sorted(set(cols["step"].tolist())))
    pos = {s: i for i, s in enumerate(steps)}
    n = spec.n_models
    values: dict[tuple[str, str], np.ndarray] = {}
    for inst, feat, seed, step, v in zip(cols["instrument"], cols["feature"], cols["seed"], cols["step"],
                                         cols["value"]):
        arr = values.get((inst, feat))
        if arr is None:
            arr = values[inst, feat] = np.full((n, len(steps)), np.nan)
        arr[seed, pos[step]] = v
    return RunResult(run_id, spec, steps, values)


Progress = Callable[[int, int], None]  # (steps done, steps total)


class MissingRun(LookupError):
    """A run the caller asked to load is not finished in the store."""


def load(spec: RunSpec, store: Store) -> RunResult:
    """The stored curves of a finished run; MissingRun if it is not in the store."""
    if store.run_status(spec.run_id) != "done":
        raise MissingRun(spec.run_id)
    return _from_columns(spec.run_id, spec, store.load_metrics(spec.run_id))


def run(spec: RunSpec, store: Store, device: str = "cpu", progress: Progress | None = None) -> RunResult:
    """Train and measure ``spec`` unless the store already holds it finished; return its curves."""
    run_id = spec.run_id
    if store.run_status(run_id) == "done":
        if progress is not None:
            progress(spec.train.steps, spec.train.steps)
        return load(spec, store)
    store.begin_run(run_id, spec.config(), list(spec.init_seeds), list(spec.data_seeds), __version__)
    if not isinstance(spec, RunSpec):  # another kind of run (greedlab.anchors) measures itself
        cols = _to_columns(spec.measure(device, progress))
        store.finish_run(run_id, cols)
        return _from_columns(run_id, spec, cols)
    world = make_world(spec.world)
    data = world.train_set()
    ev = EvalSet.build(world, device=device, train_set=data)
    records: list[tuple[int, dict]] = []

    def on_eval(step, params):
        records.append((step, evaluate(spec.model, params, ev)))

    def on_step(step):
        if progress is not None and (step % 25 == 0 or step == spec.train.steps):
            progress(step, spec.train.steps)

    train(world, spec.model, spec.train, list(spec.init_seeds), list(spec.data_seeds), on_eval=on_eval,
          on_step=on_step, device=device, train_set=data)
    cols = _to_columns(records)
    store.finish_run(run_id, cols)
    return _from_columns(run_id, spec, cols)
