"""Overrides cannot corrupt a claim: a key naming a field the claim sets or varies is refused;
every other field takes the user's value, and what the claim varies survives it."""

import re

import pytest

from greedlab.claims import REGISTRY
from greedlab.claims.common import SCALES
from greedlab.claims.context import Context
from greedlab.claims.overrides import _configs, _values, check, claimed
from greedlab.config import SECTIONS, load
from greedlab.errors import ConfigError

# a valid, non-default value for every overridable field (speed_penalty needs an early-exit model and
# the pragmascope fields a hierarchy world: both checked where they apply, not here)
VALUES = {"world.n_latents": "20", "world.pixels_per_latent": "5", "world.noise": "0.6", "world.n_train": "4096",
          "world.seed": "3", "world.rho": "0.8", "model.width": "48", "model.depth": "3", "model.activation": "tanh",
          "train.optimizer": "adamw", "train.lr": "0.002", "train.momentum": "0.5", "train.weight_decay": "0.0001",
          "train.batch_size": "64", "train.n_evals": "12", "train.cone_alpha": "10",
          "train.spectral_decoupling": "0.01", "train.l1": "0.00001"}


def _plan(claim, overrides):
    return REGISTRY[claim].conditions(Context(SCALES["smoke"], __import__("pathlib").Path("."), None, overrides))


def _axes(plan):
    specs = [getattr(spec, "run", spec) for spec in plan.values()]
    return {(s, k): sorted({str(v) for spec in specs for c in _configs(spec, s) for v in _values(c, s, k)})
            for s, ks in SECTIONS.items() for k in ks}


def test_the_help_example_is_refused_naming_every_claim_that_varies_the_width():
    with pytest.raises(ConfigError) as e:
        check(list(REGISTRY), load(None, ["model.width=128"]))
    msg = str(e.value)
    assert "H5 varies model.width" in msg and "H1 varies model.width" in msg and "G10 varies model.width" in msg
    assert not re.search(r"\bG1\b", msg)  # G1 keeps the default width: it is not named (G10 is)


def test_steps_belong_to_the_scale_not_to_set():
    with pytest.raises(ConfigError, match="--steps"):
        load(None, ["train.steps=100"])
    assert load(None, ["train.steps=100"], for_claims=False) == {"train": {"steps": 100}}  # a sweep grid may


def test_rho_is_one_key_for_hierarchy_and_real_worlds():
    from greedlab.config import apply
    from greedlab.claims.presets import world
    from greedlab.models import MLPConfig
    from greedlab.train import TrainConfig
    from greedlab.worlds import RealConfig
    o = load(None, ["world.rho=0.7"])
    w, _, _ = apply(o, world(0.9), MLPConfig(), TrainConfig())
    assert [p.rho for p in w.proxies] == [0.7]
    r, _, _ = apply(o, RealConfig(), MLPConfig(), TrainConfig())
    assert r.rho == 0.7
    with pytest.raises(ConfigError, match="world.rho"):
        load(None, ["world.rho=1.5"])
    with pytest.raises(ConfigError, match="world.n_train"):
        load(None, ["world.n_train=1"])


@pytest.mark.parametrize("claim", list(REGISTRY))
def test_every_axis_a_claim_varies_survives_any_override_or_the_override_is_refused(claim):
    base = _plan(claim, {})
    chosen = {f"{s}.{k}" for s, ks in SECTIONS.items() for k in ks if claimed(base, s, k)}
    free = {d: v for d, v in VALUES.items() if d not in chosen}
    for dotted in sorted(chosen)[:1]:  # one end-to-end refusal per claim (claimed() decides the rest)
        with pytest.raises(ConfigError, match=f"{claim} (varies|sets) {dotted}"):
            check([claim], load(None, [f"{dotted}={VALUES.get(dotted, '1')}"]), SCALES["smoke"])
    overrides = load(None, [f"{d}={v}" for d, v in free.items()])
    check([claim], overrides, SCALES["smoke"])  # the free fields are accepted ...
    after = _axes(_plan(claim, overrides))
    before = _axes(base)
    for s, k in ((d.split(".")[0], d.split(".")[1]) for d in chosen):
        assert after[s, k] == before[s, k], f"{claim}: {s}.{k} changed under other overrides"  # ... leave its axes
    for d in free:  # ... and land wherever they apply
        s, k = d.split(".")
        if after[s, k]:
            assert after[s, k] == [str(load(None, [f"{d}={free[d]}"])[s][k])], (claim, d, after[s, k])
