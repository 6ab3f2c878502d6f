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
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from greedlab.errors import ConfigError
from greedlab.models import MLPConfig
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig

WORLD_KEYS = ("n_latents", "pixels_per_latent", "noise", "n_train", "seed")
SECTIONS = {
    "world": WORLD_KEYS,
    "model": tuple(f.name for f in dataclasses.fields(MLPConfig)),
    "train": tuple(f.name for f in dataclasses.fields(TrainConfig)),
}
_TYPES = {"world": HierarchyConfig, "model": MLPConfig, "train": TrainConfig}

Overrides = dict[str, dict[str, object]]


def _accepted() -> str:
    return ", ".join(f"{s}.{k}" for s, keys in SECTIONS.items() for k in keys)


def _coerce(section: str, key: str, value: object) -> object:
    """TOML gives typed values; ``--set`` gives text. Cast to the field's declared type."""
    field = next(f for f in dataclasses.fields(_TYPES[section]) if f.name == key)
    kind = field.type if isinstance(field.type, str) else field.type.__name__
    try:
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind == "float":
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{section}.{key}", f"a value of type {kind}", value) from None


def add(overrides: Overrides, dotted: str, value: object) -> None:
    section, _, key = dotted.partition(".")
    if section not in SECTIONS or key not in SECTIONS[section]:
        raise ConfigError("config key", _accepted(), dotted)
    overrides.setdefault(section, {})[key] = _coerce(section, key, value)


def load(path: Path | None, sets: list[str] | None) -> Overrides:
    """Overrides from a TOML file, then ``key=value`` flags on top (flags win)."""
    out: Overrides = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text())
        except OSError as e:
            raise ConfigError("config", "a readable TOML file", f"{path} ({e.strerror})") from None
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
    return out


def apply(overrides: Overrides, world: HierarchyConfig, model: MLPConfig, train: TrainConfig):
    """The configs with overrides in place; dataclass validation names any bad value. The [model]
    section describes the MLP, so it leaves other families (a claim's transformer, say) alone."""
    return (dataclasses.replace(world, **overrides.get("world", {})),
            dataclasses.replace(model, **overrides.get("model", {})) if isinstance(model, MLPConfig) else model,
            dataclasses.replace(train, **overrides.get("train", {})))
