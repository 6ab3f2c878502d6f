"""User overrides of the defaults every claim builds on, from a TOML file and/or ``--set`` flags.

    # greedlab.toml
    [world]
    noise = 0.8
    [model]
    width = 128
    [train]
    optimizer = "sgd"
    lr = 0.05

``greedlab run --config greedlab.toml --set train.momentum=0.9``. Claims still choose their own
target, proxies and staircase (that is what a claim *is*); these fields change the world's
rendering and size, the model and the optimizer under every claim. Each value is checked by the
dataclass it lands in, so a bad one fails with the field's name before anything runs.

One parser: ``parse`` turns a dotted key and a value (TOML-typed or text) into a typed value, once;
``run``/``report`` (``load``) and sweep grids (``greedlab.sweep.grid``) both use it. A field a claim sets
or varies itself cannot be overridden for that claim (``greedlab.claims.overrides.check``), and
``train.steps`` is the scale's (``--steps``), not an override, for claims.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from greedlab.errors import ConfigError
from greedlab.models import MLPConfig
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig

WORLD_KEYS = ("n_latents", "pixels_per_latent", "noise", "n_train", "seed", "rho")
RHO = "rho"
"""``world.rho``: the agreement rate of every proxy in training (hierarchy worlds) or of the marker
(real worlds) — set in this one place for both."""
MIN_TRAIN = 128  # below one default batch a "training set" is memorized in a step and measures nothing
SCALE_KEYS = {"train.steps": "--steps N"}
"""Keys that belong to the scale, not to ``--set``, when claims run: a claim's equal-budget and
equal-compute comparisons are built from its steps."""
SECTIONS = {
    "world": WORLD_KEYS,
    "model": tuple(f.name for f in dataclasses.fields(MLPConfig)),
    "train": tuple(f.name for f in dataclasses.fields(TrainConfig)),
}
_TYPES = {"world": HierarchyConfig, "model": MLPConfig, "train": TrainConfig}

Overrides = dict[str, dict[str, object]]


def _accepted() -> str:
    return ", ".join(f"{s}.{k}" for s, keys in SECTIONS.items() for k in keys)


def _kind(section: str, key: str) -> str:
    if section == "world" and key == RHO:
        return "float"
    field = next(f for f in dataclasses.fields(_TYPES[section]) if f.name == key)
    return field.type if isinstance(field.type, str) else field.type.__name__


def parse(dotted: str, value: object) -> tuple[str, str, object]:
    """(section, key, value cast to the field's declared type): the one parser of every override.
    TOML gives typed values; ``--set`` and YAML may give text. Unknown keys and ill-typed values fail
    naming the key and what is accepted."""
    section, _, key = str(dotted).strip().partition(".")
    if section not in SECTIONS or key not in SECTIONS[section]:
        raise ConfigError("config key", _accepted(), dotted)
    kind = _kind(section, key)
    try:
        if isinstance(value, bool) and kind in ("int", "float"):
            raise ValueError
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            value = int(value)
        elif kind == "float":
            value = float(value)
        else:
            value = str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{section}.{key}", f"a value of type {kind}", value) from None
    if section == "world" and key == RHO and not 0.0 <= value <= 1.0:
        raise ConfigError("world.rho", "a number in [0, 1]", value)
    if section == "world" and key == "n_train" and value < MIN_TRAIN:
        raise ConfigError("world.n_train", f"an integer ≥ {MIN_TRAIN} (one batch)", value)
    return section, key, value


def put(overrides: Overrides, section: str, key: str, value: object) -> None:
    """Store an already parsed value (no second coercion)."""
    overrides.setdefault(section, {})[key] = value


def add(overrides: Overrides, dotted: str, value: object) -> None:
    put(overrides, *parse(dotted, value))


def _read(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError("config", "a readable TOML file", f"{path} ({e.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError("config", "a UTF-8 TOML file", f"{path} (not UTF-8 text)") from None


def load(path: Path | None, sets: list[str] | None, for_claims: bool = True) -> Overrides:
    """Overrides from a TOML file, then ``key=value`` flags on top (flags win). ``for_claims``:
    keys that belong to the scale (``SCALE_KEYS``) are refused, naming the flag to use instead."""
    out: Overrides = {}
    if path is not None:
        try:
            data = tomllib.loads(_read(path))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError("config", "a valid TOML file", f"{path} ({e})") from None
        for section, table in data.items():
            if not isinstance(table, dict):
                raise ConfigError("config section", ", ".join(f"[{s}]" for s in SECTIONS), section)
            for key, value in table.items():
                add(out, f"{section}.{key}", value)
    for item in sets or []:
        dotted, eq, value = item.partition("=")
        if not eq:
            raise ConfigError("--set", "section.key=value, e.g. model.width=128", item)
        add(out, dotted.strip(), value.strip())
    if for_claims:
        for dotted, flag in SCALE_KEYS.items():
            section, _, key = dotted.partition(".")
            if key in out.get(section, {}):
                raise ConfigError(dotted, f"no override: the scale sets it for every claim (use {flag})",
                                  out[section][key])
    return out


def apply(overrides: Overrides, world, model: MLPConfig, train: TrainConfig):
    """The configs with overrides in place; dataclass validation names any bad value. The [model]
    section describes the MLP, so it leaves other families (a claim's transformer, say) alone;
    [world] fields other than ``rho`` describe the hierarchy world (a real world takes ``rho`` only)."""
    fields = dict(overrides.get("world", {}))
    rho = fields.pop(RHO, None)
    if isinstance(world, HierarchyConfig):
        world = dataclasses.replace(world, **fields)
        if rho is not None:
            world = dataclasses.replace(world, proxies=tuple(dataclasses.replace(p, rho=rho) for p in world.proxies))
    elif rho is not None and hasattr(world, RHO):
        world = dataclasses.replace(world, rho=rho)
    return (world,
            dataclasses.replace(model, **overrides.get("model", {})) if isinstance(model, MLPConfig) else model,
            dataclasses.replace(train, **overrides.get("train", {})))
