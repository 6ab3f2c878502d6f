"""Overrides that cannot corrupt a claim.

A user override (``--set``/``--config``) lands on every run a claim builds. If it names a field the
claim sets or varies itself, it silently rewrites the claim: ``--set model.width=128`` would turn
H5's six widths into one model under six labels, ``--set train.optimizer=sgd`` X1's cone conditions
into SGD. So such a key is refused before anything trains, naming the claim, the field and why.

Which fields a claim sets or varies is read off its own plan (its ``conditions`` built without
overrides), never listed by hand, so the check cannot go stale as claims change: a field varies if
the claim's runs hold more than one value of it; it is set if they hold one value that is not the
field's default. Any other field takes the user's value, and the run ids reflect it.
"""

from __future__ import annotations

from pathlib import Path

from greedlab.claims.common import Scale
from greedlab.config import RHO, SECTIONS, Overrides
from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec
from greedlab.models import MLPConfig
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig

_DEFAULTS = {"world": HierarchyConfig(), "model": MLPConfig(), "train": TrainConfig()}


def _configs(spec, section: str) -> list:
    """The configs of ``section`` that a run's overrides would reach (every stage's too)."""
    stages = getattr(spec, "stages", ()) or ()
    if section == "world":
        return [w for w in [getattr(spec, "world", None), *(st.world for st in stages)] if w is not None]
    if section == "model":
        m = getattr(spec, "model", None)
        return [m] if isinstance(m, MLPConfig) else []  # [model] describes the MLP only
    return [t for t in [getattr(spec, "train", None), *(st.train for st in stages)] if isinstance(t, TrainConfig)]


def _values(config, section: str, key: str) -> list:
    """The values of ``key`` this config holds (a world holds one ρ per proxy, a real world one)."""
    if section == "world" and key == RHO:
        if isinstance(config, HierarchyConfig):
            return [p.rho for p in config.proxies]
        return [config.rho] if hasattr(config, RHO) else []
    if section == "world" and not isinstance(config, HierarchyConfig):
        return []  # the other [world] fields describe the hierarchy world; a real world ignores them
    return [getattr(config, key)] if hasattr(config, key) else []


def claimed(plan: dict, section: str, key: str) -> str | None:
    """'varies (a, b, …)' or 'sets (v)' if the claim's plan chooses this field itself, else None."""
    seen: list = []
    fixed = False  # a run that takes no overrides (a published anchor's settings) fixes what it holds
    for spec in plan.values():
        spec = spec.run if isinstance(getattr(spec, "run", None), RunSpec) else spec  # an LLC run trains a RunSpec
        for cfg in _configs(spec, section):
            for v in _values(cfg, section, key):
                fixed = fixed or not isinstance(spec, RunSpec)
                if v not in seen:
                    seen.append(v)
    shown = ", ".join(str(v) for v in seen[:6]) + (", …" if len(seen) > 6 else "")
    if len(seen) > 1:
        return f"varies {section}.{key} ({shown})"
    if fixed or (section == "world" and key == RHO and seen):  # any proxy's ρ is the claim's choice
        return f"sets {section}.{key} ({shown})"
    if section == "world" and key == RHO:
        return None
    default = getattr(_DEFAULTS[section], key)
    if seen and seen[0] != default:
        return f"sets {section}.{key} ({shown})"
    return None


def check(ids: list[str], overrides: Overrides, scale: Scale | None = None) -> None:
    """Raise ConfigError (one line) if an override names a field that one of ``ids`` sets or varies."""
    keys = [(s, k) for s, table in overrides.items() for k in table]
    if not keys:
        return
    from greedlab.claims import REGISTRY
    from greedlab.claims.common import SCALES
    from greedlab.claims.context import Context

    ctx = Context(scale or SCALES["quick"], Path("."), run=None)
    plans = {c: REGISTRY[c].conditions(ctx) for c in ids}
    for section, key in keys:
        found = [f"{c} {why}" for c, plan in plans.items() if (why := claimed(plan, section, key))]
        if found:
            raise ConfigError(f"--set/--config {section}.{key}", "fields no chosen claim sets or varies (leave those "
                              "claims out with --claim, or use a sweep grid for an experiment of your own)",
                              "; ".join(found))


def free_fields(claim: str, scale: Scale | None = None) -> list[str]:
    """Every overridable field the claim leaves at its default (what ``--set`` may change for it)."""
    from greedlab.claims import REGISTRY
    from greedlab.claims.common import SCALES
    from greedlab.claims.context import Context

    plan = REGISTRY[claim].conditions(Context(scale or SCALES["quick"], Path("."), run=None))
    return [f"{s}.{k}" for s, ks in SECTIONS.items() for k in ks if claimed(plan, s, k) is None]


__all__ = ["check", "claimed", "free_fields"]
