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

from greedlab import __version__, timing
from greedlab.errors import ConfigError
from greedlab.instruments import EvalSet, diverged, evaluate
from greedlab.models import MLPConfig, Model
from greedlab.store import Store
from greedlab.timing import phase
from greedlab.train import ATTRIBUTION_METHOD, TRAINABLE, Attribution, TrainConfig, train
from greedlab.worlds import HierarchyConfig, RealConfig, make_world

DATA_SEED_OFFSET = 100_000  # data-order seeds live apart from init seeds so the two never coincide
STAGE_SEED_OFFSET = 1_000_003  # stage k of a curriculum draws its data order from data seed + k·this


def config_key(config: dict) -> str:
    """A run's key in the store: the first 16 hex digits of the sha256 of its config as sorted JSON."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Stage:
    """One stage of a curriculum: its world (inputs, label objective, data filter such as
    ``overseen_only``), its training (optimizer, steps) and which parameter groups learn."""

    world: HierarchyConfig
    train: TrainConfig
    trainable: str = "all"
    """all, trunk (the world model) or head (the objective)."""
    name: str = ""


# world fields added after the first release: left out of a run's key while at their defaults, so
# every run stored before they existed keeps its id
_LATER_WORLD_FIELDS = {"objective": "target", "cue": None, "overseen_only": False, "hidden": (), "commands": (),
                       "heldout_commands": (), "effects": (), "effect_pixels": 4,
                       "rendering": "pixels", "online": False, "command_share": 0.0,
                       "gains": ()}
_NEWEST_WORLD_FIELDS = {"command_share": 0.0, "gains": ()}
"""World fields added after every kind of run (LLC runs, monitored runs) had keyed its world in full:
``world_key`` leaves them out of those keys too while at their defaults."""


def world_key(config) -> dict:
    """A world config as a run's key holds it in full (``dataclasses.asdict``), but for the fields
    added since (``_NEWEST_WORLD_FIELDS``) at their defaults: runs keyed so before keep their ids."""
    return _drop_defaults(dataclasses.asdict(config), _NEWEST_WORLD_FIELDS)


def _drop_defaults(fields: dict, defaults: dict) -> dict:
    """``fields`` without the keys that sit at their ``defaults`` (in place; returned for chaining)."""
    for key, default in defaults.items():
        if key in fields and fields[key] == default:
            fields.pop(key)
    return fields


_NEWEST_TRAIN_FIELDS = {"effects_weight": 0.0}
"""Training fields added after every kind of run (anchors too) had keyed its TrainConfig in full:
``train_key`` leaves them out of those keys while at their defaults."""


def train_key(config) -> dict:
    """A TrainConfig as a run's key holds it in full, but for ``_NEWEST_TRAIN_FIELDS`` at their defaults:
    runs keyed so before (the anchors) keep their ids."""
    return _drop_defaults(dataclasses.asdict(config), _NEWEST_TRAIN_FIELDS)


_LATER_TRAIN_FIELDS = {"cone_alpha": 0.0, "spectral_decoupling": 0.0, "l1": 0.0, "speed_penalty": 0.0,
                       "pragmascope": 0.0, "pragmascope_features": "natural", "pragmascope_schedule": "constant",
                       **_NEWEST_TRAIN_FIELDS}  # likewise for training


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's numbers."""

    world: HierarchyConfig | RealConfig = field(default_factory=HierarchyConfig)
    model: Model = field(default_factory=MLPConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    init_seeds: tuple[int, ...] = tuple(range(16))
    data_seeds: tuple[int, ...] = tuple(range(DATA_SEED_OFFSET, DATA_SEED_OFFSET + 16))
    world_seeds: tuple[int, ...] = ()
    """Per model: the seed of its own world draw (training set, rendering, proxy exceptions,
    deployment and probe sets; for real data the marker injection). Empty: every model lives in
    ``world`` itself (world.seed). Models of one world are clustered: the world, not the seed, is
    the unit an interval resamples (``RunResult.worlds``)."""
    stages: tuple[Stage, ...] = ()
    """A curriculum: trained in order, each continuing from the last. Empty: one stage of
    (world, train). ``world`` is always the world the instruments measure in."""
    attribute: bool = False
    """Record the first-order loss decrease per parameter group and its noise (``loss_decrease`` metrics,
    ``train.Attribution``)."""
    eval_samples: int = 4096
    """Deployment samples every evaluation measures on (probe and train subsets: half as many each)."""
    starvation: bool = False
    """Also read the starvation measure at every evaluation (``instruments.starvation``)."""
    extras_at_stage_ends: bool = False
    """Read the command-channel instruments (command accuracy, the commanded and pointed sets) only
    at each stage's last evaluation: they are forward passes over three to four more sets the size of
    the deployment set, and a claim that reads them at stage ends need not pay for them at every step."""

    def __post_init__(self) -> None:
        if self.world_seeds and len(self.world_seeds) != len(self.init_seeds):
            raise ConfigError("world_seeds", f"one per model ({len(self.init_seeds)}), or none",
                              len(self.world_seeds))
        if not (isinstance(self.eval_samples, int) and self.eval_samples >= 64):
            raise ConfigError("eval_samples", "an integer ≥ 64", self.eval_samples)
        for k, st in enumerate(self.stages):
            if not isinstance(st, Stage):
                raise ConfigError(f"stages[{k}]", "a Stage", st)
            if st.world.input_dim != self.world.input_dim:
                raise ConfigError(f"stages[{k}].world", f"a world with input_dim {self.world.input_dim} "
                                  "(the measured world's)", st.world.input_dim)
            if st.trainable not in TRAINABLE:
                raise ConfigError(f"stages[{k}].trainable", ", ".join(TRAINABLE), st.trainable)

    def config(self) -> dict:
        cfg = dataclasses.asdict(self)
        if self.model.family != "mlp":  # MLP runs keep the keys they had before other families existed
            cfg["model"] = {"family": self.model.family, **cfg["model"]}
        for key, default in (("stages", ()), ("attribute", False), ("eval_samples", 4096), ("world_seeds", ()),
                             ("starvation", False), ("extras_at_stage_ends", False)):  # likewise for plain runs
            if getattr(self, key) == default:
                cfg.pop(key)
        if self.attribute:  # how it is measured is part of a run's numbers (runs measured otherwise keep apart)
            cfg["attribute"] = ATTRIBUTION_METHOD
        for world in [cfg["world"]] + [st["world"] for st in cfg.get("stages", ())]:
            _drop_defaults(world, _LATER_WORLD_FIELDS)
        for train in [cfg["train"]] + [st["train"] for st in cfg.get("stages", ())]:
            _drop_defaults(train, _LATER_TRAIN_FIELDS)
        return cfg

    @property
    def plan(self) -> tuple[Stage, ...]:
        """The stages actually trained."""
        return self.stages or (Stage(self.world, self.train),)

    @property
    def total_steps(self) -> int:
        return sum(st.train.steps for st in self.plan)

    @property
    def run_id(self) -> str:
        """Hash of the full config (world, model, training, seeds): the run's key in the store."""
        return config_key(self.config())

    @property
    def n_models(self) -> int:
        return len(self.init_seeds)

    @property
    def member_worlds(self) -> tuple[int, ...]:
        """Each model's world seed (``world.seed`` for all of them when ``world_seeds`` is empty)."""
        return self.world_seeds or (self.world.seed,) * self.n_models

    def world_of(self, config, seed: int):
        """``config`` (the measured world or a curriculum stage's) as drawn for a model of world
        ``seed``: shifted by that model's offset from ``world.seed``, so a stage whose world seed
        differs on purpose keeps its difference, and a curriculum stays within one draw."""
        shifted = config.seed + (seed - self.world.seed)
        return config if shifted == config.seed else dataclasses.replace(config, seed=shifted)


VARY = ("both", "init", "order", "world")


def seeds(n: int, base: int = 0, vary: str = "both", worlds: int = 1, world_base: int = 0) -> dict:
    """Init, data-order and world seeds for n models, as RunSpec keyword arguments.

    ``vary``: "both" gives every model its own init and data order, the n models spread over
    ``worlds`` world draws (n/worlds seeds nested in each; ``worlds`` = 1 keeps every model in the
    config's own world, as runs did before worlds were resampled); "init" shares one world and one
    data order (only the initialization differs); "order" shares one world and one initialization
    (only the data order differs); "world" shares one initialization and data order over n worlds
    (only the data draw differs) — the three sources of path dependence, separated.
    """
    if vary not in VARY:
        raise ConfigError("vary", ", ".join(VARY), vary)
    if not (isinstance(worlds, int) and 1 <= worlds and n % worlds == 0):
        raise ConfigError("worlds", f"a divisor of the number of models ({n})", worlds)
    inits = tuple(range(base, base + n))
    orders = tuple(range(DATA_SEED_OFFSET + base, DATA_SEED_OFFSET + base + n))
    out: dict = {}
    if vary == "init":
        orders = (orders[0],) * n
    elif vary == "order":
        inits = (inits[0],) * n
    elif vary == "world":
        inits, orders = (inits[0],) * n, (orders[0],) * n
        out["world_seeds"] = tuple(range(world_base, world_base + n))
    elif worlds > 1:
        per = n // worlds  # contiguous: models [k·per, (k+1)·per) share world k
        out["world_seeds"] = tuple(world_base + m // per for m in range(n))
    return {"init_seeds": inits, "data_seeds": orders, **out}


@dataclass
class RunResult:
    """Measured curves of one run: ``curve(instrument, feature)`` is an (N, T) array over ``steps``."""

    run_id: str
    spec: RunSpec
    steps: np.ndarray
    values: dict[tuple[str, str], np.ndarray]
    kept: np.ndarray | None = None
    """The spec's model indices these curves' rows are (None: all, in order)."""

    @property
    def worlds(self) -> np.ndarray:
        """(N,) each model's world seed: the cluster an interval resamples (``clusters=`` of
        ``claims.common.bootstrap_ci``)."""
        return np.asarray(self.spec.member_worlds)[self._kept()]

    def _kept(self) -> np.ndarray:
        return self.kept if self.kept is not None else np.arange(self.spec.n_models)

    def curve(self, instrument: str, feature: str = "") -> np.ndarray:
        return self.values[instrument, feature]

    def final(self, instrument: str, feature: str = "") -> np.ndarray:
        return self.values[instrument, feature][:, -1]

    def layers(self) -> list[str]:
        return sorted({i.split(":", 1)[1] for i, _ in self.values if i.startswith("decodability:")})

    def diverged_seeds(self) -> list[int]:
        """Seeds whose parameters or training loss became NaN or infinite at some evaluation (none
        for runs stored before divergence was recorded)."""
        flags = self.values.get(("diverged", ""))
        if flags is None:
            return []
        return np.flatnonzero(np.nan_to_num(flags, nan=1.0).max(axis=1) > 0).tolist()

    def without(self, seeds: list[int]) -> "RunResult":
        """The same run with ``seeds`` left out of every curve (rows renumbered in order)."""
        keep = np.setdiff1d(np.arange(len(self._kept())), seeds)
        return RunResult(self.run_id, self.spec, self.steps, {k: v[keep] for k, v in self.values.items()},
                         self._kept()[keep])


def _to_columns(records: list[tuple[int, dict]], first_seed: int = 0) -> dict[str, np.ndarray]:
    cols: dict[str, list] = {"seed": [], "step": [], "instrument": [], "feature": [], "value": []}
    for step, vals in records:
        for (inst, feat), v in vals.items():
            v = v.detach().cpu().double().numpy()
            n = len(v)
            cols["seed"].append(np.arange(first_seed, first_seed + n, dtype=np.int32))
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
    total = spec.total_steps
    if store.run_status(run_id) == "done":
        if progress is not None:
            progress(total, total)
        return load(spec, store)
    store.begin_run(run_id, spec.config(), list(spec.init_seeds), list(spec.data_seeds), __version__)
    cols, seconds = measure_timed(spec, device, progress)
    store.finish_run(run_id, cols, timings=seconds)
    return _from_columns(run_id, spec, cols)


def measure_timed(spec, device: str = "cpu", progress: Progress | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Store columns of any kind of run, trained and measured in this process, and its seconds per
    phase (``greedlab.timing``). A run of its own kind (anchors, LLC, least squares) measures itself;
    what it does outside the timed phases counts as "other"."""
    before = timing.snapshot()
    if isinstance(spec, RunSpec):
        cols = measure(spec, device, progress)
    else:
        with phase("other"):
            cols = _to_columns(spec.measure(device, progress))
    return cols, timing.since(before)


def measure(spec: RunSpec, device: str = "cpu", progress: Progress | None = None,
            members: tuple[int, int] | None = None, deploy_logits: list | None = None) -> dict[str, np.ndarray]:
    """Train and measure models ``members = (lo, hi)`` of ``spec`` (default: all of them); their
    metrics as store columns, ``seed`` being each model's index in the run.

    A model's numbers depend only on its own seeds, except ``disagreement``, which compares the
    models measured together; ``deploy_logits`` (if given) receives ``(step, deployment logits)``
    at each evaluation so that it can be computed later over models measured apart (a sweep's chunks).
    """
    lo, hi = members if members is not None else (0, spec.n_models)
    if not 0 <= lo < hi <= spec.n_models:
        raise ConfigError("members", f"0 ≤ lo < hi ≤ {spec.n_models}", (lo, hi))
    n, total = hi - lo, spec.total_steps
    # the worlds these models live in, in order of first appearance; models of one world are
    # evaluated together on that world's samples (disagreement compares models on the same inputs)
    mine = list(spec.member_worlds[lo:hi])
    seeds_w = list(dict.fromkeys(mine))
    which = [seeds_w.index(w) for w in mine]
    groups = [torch.tensor([m for m, i in enumerate(which) if i == g]) for g in range(len(seeds_w))]
    with phase("world"):
        measured = [make_world(spec.world_of(spec.world, w)) for w in seeds_w]
        half = spec.eval_samples // 2
        measured_data = [w.train_set() for w in measured]
        evs = [EvalSet.build(w, n_deploy=spec.eval_samples, n_probe=half, n_train=half, device=device,
                             train_set=d, starvation=spec.starvation) for w, d in zip(measured, measured_data)]
    attribution = Attribution(spec.model.param_groups()) if spec.attribute else None
    records: list[tuple[int, dict]] = []
    params = None
    start: list = []  # the first evaluation's parameters: the initialization, for distance_from_init
    offset = 0

    def evaluate_all(p, logits, extras=True):
        if len(groups) == 1:
            return evaluate(spec.model, p, evs[0], deploy_logits=logits, extras=extras)
        parts = []
        for g, ev in zip(groups, evs):
            sub_logits: list | None = [] if logits is not None else None
            parts.append((g, evaluate(spec.model, [t[g] for t in p], ev, deploy_logits=sub_logits, extras=extras),
                          sub_logits))
        vals = {}
        for key in parts[0][1]:
            out = torch.full((n,), float("nan"), device=parts[0][1][key].device)
            for g, v, _ in parts:
                out[g.to(out.device)] = v[key].to(out)
            vals[key] = out
        if logits is not None:
            first = parts[0][2][0]
            f = torch.empty((n, first.shape[1]), dtype=first.dtype, device=first.device)
            for g, _, lg in parts:
                f[g.to(f.device)] = lg[0]
            logits.append(f)
        return vals

    for k, stage in enumerate(spec.plan):
        same = stage.world == spec.world
        with phase("world"):
            worlds = measured if same else [make_world(spec.world_of(stage.world, w)) for w in seeds_w]
            data = measured_data if same else [w.train_set() for w in worlds]  # the measured world's are built

        def on_eval(step, p, k=k, offset=offset):
            if k > 0 and step == 0:
                return  # the previous stage's last evaluation already measured these parameters
            logits: list | None = [] if deploy_logits is not None else None
            vals = evaluate_all(p, logits, extras=not spec.extras_at_stage_ends or step == stage.train.steps)
            vals["diverged", ""] = diverged(p, vals["train_loss", ""])
            if logits:
                deploy_logits.append((offset + step, logits[0]))
            if not start:
                start.extend(t.clone() for t in p)
            # Euclidean distance travelled in parameter space (cone descent's claim is about it)
            vals["distance_from_init", ""] = sum(((t - t0) ** 2).flatten(1).sum(1) for t, t0 in zip(p, start)).sqrt()
            if spec.stages:
                vals["stage", ""] = torch.full((n,), float(k))
            window = attribution.take() if attribution is not None else None
            vals.update(window or {})  # ("loss_decrease", group) and its noise (``train.Attribution``)
            records.append((offset + step, vals))

        def on_step(step, offset=offset):
            if progress is not None and (step % 25 == 0 or offset + step == total):
                progress(offset + step, total)

        seeds_k = [d + k * STAGE_SEED_OFFSET for d in spec.data_seeds[lo:hi]]
        one = len(worlds) == 1  # a single world keeps the plain call: bit-for-bit what runs always gave
        params = train(worlds[0] if one else worlds, spec.model, stage.train, list(spec.init_seeds[lo:hi]), seeds_k,
                       on_eval=on_eval, on_step=on_step, device=device, train_set=data[0] if one else data,
                       init_params=params, trainable=stage.trainable, attribution=attribution,
                       member_world=None if one else which)
        offset += stage.train.steps
    return _to_columns(records, first_seed=lo)
