"""Sweep grids: a TOML (or YAML) file that names many runs at once.

    # sweep.toml
    [sweep]
    seeds = 64          # models per run: seeds 0..63; or [lo, hi] for seeds lo..hi-1
    vary = "both"       # both, init (one shared data order) or order (one shared initialization)
    chunk = 16          # models per task handed to an engine (default: 16 on CPU, 1024 on a GPU)

    [train]             # fixed values: the same keys as a --config file
    steps = 1500

    [grid]              # axes: every combination becomes one run
    "world.rho" = [0.9, 0.97, 0.99]
    "model.width" = [64, 256]
    "train.lr" = [3e-4, 1e-3]

Keys are the fields of ``greedlab.config`` (world rendering and size, model, training) plus
``world.rho``, the agreement rate of the world's proxies (the axis of the regime maps). Grid keys may
also be nested (``[grid.model] width = [64, 256]``). Every value is checked, and every run built,
before anything trains: a bad one fails naming its key. Seed ranges keep runs apart: seeds 0..63
and seeds 64..127 of one config are two runs, and can be swept separately and pooled.
"""

from __future__ import annotations

import dataclasses
import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from greedlab import config as user_config
from greedlab.errors import ConfigError
from greedlab.experiment import VARY, RunSpec, seeds
from greedlab.models import MLPConfig
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig

SWEEP_KEYS = ("seeds", "vary", "chunk")
WORLD_EXTRAS = ("rho",)
SECTIONS = ("sweep", "grid", *user_config.SECTIONS)


@dataclass(frozen=True)
class Sweep:
    """A parsed grid: fixed overrides, axes, and the seeds every run gets."""

    fixed: dict = field(default_factory=dict)
    """{"world.noise": 0.5, ...}: set in every run."""
    axes: dict = field(default_factory=dict)
    """{"model.width": (64, 256), ...}: one run per combination, in file order."""
    seed_range: tuple[int, int] = (0, 16)
    """Seeds lo..hi-1 (init seeds; data-order seeds are offset as in experiment.seeds)."""
    vary: str = "both"
    chunk: int | None = None
    """Models per chunk: the unit of work an engine trains and the store checkpoints. None: 16 on
    CPU (one cache-sized stack, see train.default_chunk), 1,024 on a GPU (which small stacks leave idle)."""

    @classmethod
    def from_dict(cls, data: dict) -> "Sweep":
        """From the parsed file (sections as nested dicts); every key and value validated."""
        if not isinstance(data, dict):
            raise ConfigError("grid file", "a table of sections: " + _sections(), type(data).__name__)
        kw: dict = {}
        for key, value in (data.get("sweep") or {}).items():
            if key not in SWEEP_KEYS:
                raise ConfigError("sweep key", ", ".join(SWEEP_KEYS), key)
            kw[key] = value
        fixed, axes = {}, {}
        for section, table in data.items():
            if section not in SECTIONS:
                raise ConfigError("grid file section", _sections(), section)
            if section == "sweep":
                continue
            if not isinstance(table, dict):
                raise ConfigError(f"[{section}]", "a table of key = value", table)
            for dotted, value in _flatten(table, "" if section == "grid" else section):
                if section == "grid":
                    if not isinstance(value, list) or not value:
                        raise ConfigError(f"grid.{dotted}", "a non-empty list of values", value)
                    axes[dotted] = tuple(_check(dotted, v) for v in value)
                else:
                    fixed[dotted] = _check(dotted, value)
        both = sorted(set(fixed) & set(axes))
        if both:
            raise ConfigError(both[0], "either a fixed value or a grid axis, not both", "both")
        sweep = cls(fixed=fixed, axes=axes, seed_range=_seed_range(kw.get("seeds", 16)),
                    vary=kw.get("vary", "both"), chunk=kw.get("chunk"))
        if sweep.vary not in VARY:
            raise ConfigError("sweep.vary", ", ".join(VARY), sweep.vary)
        if sweep.chunk is not None and not (isinstance(sweep.chunk, int) and not isinstance(sweep.chunk, bool)
                                            and sweep.chunk >= 1):
            raise ConfigError("sweep.chunk", "an integer ≥ 1 (models per chunk)", sweep.chunk)
        sweep.runs()  # build every run now: a value no config accepts fails here, naming its field
        return sweep

    def points(self) -> list[dict]:
        """Every combination of the axes, as {key: value}, in file order."""
        keys = list(self.axes)
        return [dict(zip(keys, combo)) for combo in itertools.product(*self.axes.values())]

    def runs(self) -> list[tuple[dict, RunSpec]]:
        """(grid point, its RunSpec) for every point; a point repeated by equal values is kept once."""
        out, seen = [], set()
        for point in self.points():
            spec = self.spec({**self.fixed, **point})
            if spec.run_id not in seen:
                seen.add(spec.run_id)
                out.append((point, spec))
        return out

    def spec(self, values: dict) -> RunSpec:
        overrides: user_config.Overrides = {}
        for dotted, value in values.items():  # parsed once, by _check, when the grid was read
            section, _, key = dotted.partition(".")
            user_config.put(overrides, section, key, value)
        world, model, train = user_config.apply(overrides, HierarchyConfig(), MLPConfig(), TrainConfig())
        lo, hi = self.seed_range
        return RunSpec(world=world, model=model, train=train, **seeds(hi - lo, base=lo, vary=self.vary))

    def chunk_size(self, device: str) -> int:
        return self.chunk or (16 if device == "cpu" else 1024)

    def with_chunk(self, chunk: int | None) -> "Sweep":
        if chunk is None:
            return self
        if not (isinstance(chunk, int) and chunk >= 1):
            raise ConfigError("chunk", "an integer ≥ 1 (models per chunk)", chunk)
        return dataclasses.replace(self, chunk=chunk)


def load_grid(path: str | Path, sets: list[str] | None = None) -> Sweep:
    """Parse a grid file (.toml, or .yaml/.yml when PyYAML is installed); ``sets`` ("model.width=128")
    add fixed values on top, as ``greedlab run --set`` does."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError("grid file", "a readable TOML or YAML file", f"{path} ({e.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError("grid file", "a UTF-8 TOML or YAML file", f"{path} (not UTF-8 text)") from None
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigError("grid file", "a .toml file, or .yaml after `pip install pyyaml`", str(path)) from None
        try:
            data = yaml.safe_load(text)  # safe_load: plain data only, never arbitrary objects
        except yaml.YAMLError as e:
            raise ConfigError("grid file", "valid YAML", f"{path} ({str(e).splitlines()[0]})") from None
    elif path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError("grid file", "valid TOML", f"{path} ({e})") from None
    else:
        raise ConfigError("grid file", "a .toml, .yaml or .yml file", str(path))
    if not data:  # an empty file would otherwise train the default 16-seed run: surely not what was meant
        raise ConfigError("grid file", "at least one section ([sweep], [grid], [world], [model], [train])",
                          f"{path} (empty)")
    if not isinstance(data, dict):
        raise ConfigError("grid file", "a table of sections ([sweep], [grid], ...)", f"{path} ({type(data).__name__})")
    data = dict(data)
    for item in sets or []:
        dotted, eq, value = item.partition("=")
        section, _, key = dotted.strip().partition(".")
        if not eq or not key:
            raise ConfigError("--set", "section.key=value, e.g. model.width=128", item)
        if section not in user_config.SECTIONS:
            raise ConfigError("--set", ", ".join(f"{s}.KEY" for s in user_config.SECTIONS), item)
        data[section] = {**(data.get(section) or {}), key: value.strip()}
    return Sweep.from_dict(data)


def _sections() -> str:
    return ", ".join(f"[{s}]" for s in SECTIONS)


def _flatten(table: dict, prefix: str):
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            yield from _flatten(value, dotted)
        else:
            yield dotted, value


def _check(dotted: str, value):
    """The value coerced to its field's type by the one parser (``config.parse``); unknown keys and
    ill-typed values fail naming the key."""
    try:
        return user_config.parse(dotted, value)[2]
    except ConfigError as e:
        if e.field == "config key":
            raise ConfigError("grid key", user_config._accepted(), dotted) from None
        raise


def _seed_range(value) -> tuple[int, int]:
    ok_int = isinstance(value, int) and not isinstance(value, bool)
    if ok_int and value >= 1:
        return 0, value
    if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                            for v in value) and 0 <= value[0] < value[1]):
        return value[0], value[1]
    raise ConfigError("sweep.seeds", "an integer n ≥ 1 (seeds 0..n-1) or [lo, hi] with 0 ≤ lo < hi", value)
