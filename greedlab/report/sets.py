"""Verdict sets: the claims' results at one scale under one set of user overrides.

The store keeps a claim's verdicts per set (see greedlab.store), so a smoke run never stands in for
a quick one. A set's stored overrides are the user's config sections (``world``, ``model``,
``train``) plus ``scale``: the ``--seeds``/``--worlds``/``--steps`` values that differ from the named
scale's, which is everything needed to rebuild the set's runs and verdicts from the store.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from greedlab.errors import ConfigError
from greedlab.store import UNKNOWN_SCALE, Store, overrides_key

SCALE_FLAGS = ("seeds", "worlds", "steps")
SMOKE = "smoke"  # the scale that checks the pipeline; its verdicts are no evidence either way


def set_overrides(config_overrides: dict, scale_changes: dict) -> dict:
    """The overrides a set is stored under: config sections, and ``scale`` when flags changed it."""
    out = {k: dict(v) for k, v in config_overrides.items() if v}
    if scale_changes:
        out["scale"] = dict(scale_changes)
    return out


def build_scale(name: str, changes: dict):
    """The named scale with ``changes`` (of SCALE_FLAGS) in place."""
    from greedlab.claims.common import get_scale

    base = get_scale(name)
    have = {f.name for f in dataclasses.fields(base)}
    for k in changes:
        if k not in have:  # an older Scale without world draws
            raise ConfigError(f"--{k}", f"only {', '.join(f'--{f}' for f in SCALE_FLAGS if f in have)} "
                              "in this greedlab", changes[k])
    sc = dataclasses.replace(base, **changes)
    worlds = getattr(sc, "worlds", 1)
    if sc.seeds % worlds:
        field_ = "--seeds" if "seeds" in changes else "--worlds"
        raise ConfigError(field_, f"--seeds a multiple of --worlds: the seeds are spread evenly over the world draws "
                          f"(here {sc.seeds} seeds, {worlds} worlds; the {name} scale's own: {base.seeds} seeds, "
                          f"{getattr(base, 'worlds', 1)} worlds)", changes.get(field_[2:]))
    return sc


def scale_changes(name: str, given: dict) -> dict:
    """The given flag values that differ from the named scale's: a flag that repeats the scale's own
    number names the same runs, so it must name the same set."""
    from greedlab.claims.common import get_scale

    base = get_scale(name)
    return {k: v for k, v in given.items() if v is not None and getattr(base, k, None) != v}


def command(scale: str, overrides: dict, claims: list[str] | None = None) -> str:
    """The ``greedlab run`` line that makes this set (every override as a --set flag)."""
    parts = ["greedlab run"] + [f"--claim {c}" for c in claims or []] + [f"--scale {scale}"]
    parts += [f"--{k} {v}" for k, v in overrides.get("scale", {}).items()]
    parts += [f"--set {shlex.quote(f'{s}.{k}={v}')}" for s, table in overrides.items() if s != "scale"
              for k, v in table.items()]
    return " ".join(parts)


@dataclass
class ResultSet:
    """One set's claims as the report shows them: (claim module, result, or None if not stored)."""

    scale: str
    overrides: dict
    claims: list[tuple[object, object]] = field(default_factory=list)
    created_at: datetime | None = None
    rebuilt: bool = True
    """False: the rows as stored, without figures (a set made before scales were recorded, or one
    this greedlab can no longer rebuild)."""

    @property
    def key(self) -> str:
        return overrides_key(self.overrides)

    @property
    def slug(self) -> str:
        """Its figures' folder and its anchors on the page."""
        return self.scale if not self.overrides else f"{self.scale}-{self.key[:8]}"

    @property
    def smoke(self) -> bool:
        return self.scale == SMOKE

    @property
    def stored(self) -> list[str]:
        return [m.ID for m, r in self.claims if r is not None]

    def command(self, claims: list[str] | None = None) -> str:
        return command(self.scale, self.overrides, claims)

    def describe(self) -> str:
        """'quick, defaults' / 'smoke (pipeline check: not evidence), model.width=128, --seeds 8'."""
        what = [f"{self.scale} scale" + (" (pipeline check: not evidence)" if self.smoke else "")]
        what += [f"--{k} {v}" for k, v in self.overrides.get("scale", {}).items()]
        what += [f"{s}.{k}={v}" for s, t in self.overrides.items() if s != "scale" for k, v in t.items()]
        return ", ".join(what) if len(what) > 1 else what[0] + ", defaults"


def rebuild(ids: list[str], scale: str, overrides: dict, st: Store, figures: Path,
            on_claim: Callable[[str], None] | None = None, done: dict | None = None) -> ResultSet:
    """Every claim of ``ids`` recomputed from the store's runs of this set (nothing is trained);
    ``done`` holds results already in hand (claim id → ClaimResult)."""
    from greedlab.claims import REGISTRY
    from greedlab.claims.context import Context, run_claim
    from greedlab.experiment import MissingRun, load

    config = {k: v for k, v in overrides.items() if k != "scale"}
    sc = build_scale(scale, overrides.get("scale", {}))
    out = ResultSet(scale, overrides)
    for c in ids:
        if on_claim is not None:
            on_claim(c)
        if done and c in done:
            out.claims.append((REGISTRY[c], done[c]))
            continue
        try:
            res = run_claim(REGISTRY[c], Context(sc, figures, lambda spec, label: load(spec, st), config))
        except (MissingRun, ConfigError):  # not stored, or not buildable under these overrides
            res = None
        out.claims.append((REGISTRY[c], res))
    return out


def as_stored(ids: list[str], info: dict, st: Store) -> ResultSet:
    """A set's claims from its stored verdict rows alone (no runs are read, no figures drawn)."""
    from greedlab.claims import REGISTRY
    from greedlab.claims.common import ClaimResult, Row

    out = ResultSet(info["scale"], info["overrides"], created_at=info["created_at"], rebuilt=False)
    nan = float("nan")
    for c in ids:
        rows = st.verdicts(c, scale=info["scale"], overrides_hash=info["overrides_hash"])
        overall = [r for r in rows if r["condition"] == "overall"]
        if not overall:
            out.claims.append((REGISTRY[c], None))
            continue
        body = [Row(r["condition"], r["statistic"], *(nan if r[k] is None else r[k]
                                                      for k in ("value", "ci_low", "ci_high")),
                    r["verdict"], r["run_ids"]) for r in rows if r["condition"] != "overall"]
        out.claims.append((REGISTRY[c], ClaimResult(c, REGISTRY[c].SUMMARY, overall[0]["verdict"], body)))
    return out


def stored_sets(ids: list[str], st: Store, figures: Path, skip: set[tuple[str, str]] = frozenset(),
                scale: str | None = None, on_claim: Callable[[str], None] | None = None) -> list[ResultSet]:
    """Every verdict set the store holds (or those of ``scale``), newest first, each rebuilt from
    its runs where it can be."""
    out = []
    for info in st.verdict_sets():
        if (info["scale"], info["overrides_hash"]) in skip or (scale is not None and info["scale"] != scale):
            continue
        if info["scale"] == UNKNOWN_SCALE:
            out.append(as_stored(ids, info, st))
            continue
        probe = ResultSet(info["scale"], info["overrides"])
        try:
            rs = rebuild(ids, info["scale"], info["overrides"], st, figures / probe.slug, on_claim)
        except ConfigError:  # overrides this greedlab no longer accepts: show what was stored
            rs = as_stored(ids, info, st)
        if any(r is None and m.ID in info["claims"] for m, r in rs.claims):
            # verdicts whose runs cannot be read back (deleted, or made by an older greedlab): as stored
            kept = dict(as_stored([m.ID for m, r in rs.claims if r is None], info, st).claims)
            rs.claims = [(m, r if r is not None else kept.get(m)) for m, r in rs.claims]
        rs.created_at = info["created_at"]
        out.append(rs)
    return out
