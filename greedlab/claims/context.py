"""What a claim needs from the outside: where to store, how big to run, where to draw."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from greedlab.claims.common import FLAGGED, ClaimResult, Row, Scale
from greedlab.config import Overrides, apply
from greedlab.experiment import RunResult, RunSpec, Stage, seeds
from greedlab.models import MLPConfig, Model
from greedlab.timing import phase
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig, RealConfig


@dataclass
class Context:
    scale: Scale
    figures_dir: Path
    run: Callable[[RunSpec, str], RunResult]
    """``run(spec, label)`` trains or loads one run (the label names it in progress output)."""
    overrides: Overrides = field(default_factory=dict)
    """User overrides of world rendering, model and optimizer (see greedlab.config)."""
    excluded: dict[str, tuple[str, list[int], int]] = field(default_factory=dict)
    """Per condition: (run id, its diverged seeds, its number of seeds). Set by ``run_all``."""

    def spec(self, world: HierarchyConfig, model: Model | None = None, steps: int | None = None,
             n_seeds: int | None = None, vary: str = "both", **train_overrides) -> RunSpec:
        """A run at this context's scale (seeds, steps), the default model and Adam, then user overrides."""
        train = replace(TrainConfig(), steps=steps or self.scale.steps, **train_overrides)
        train = self._cap(train)
        world, model, train = apply(self.overrides, world, model or MLPConfig(), train)
        return RunSpec(world=world, model=model, train=train, eval_samples=self.scale.eval_samples,
                       **self._seeds(n_seeds or self.scale.seeds, vary, world))

    def _seeds(self, n: int, vary: str, world) -> dict:
        """Seeds nested in this scale's worlds (``vary`` = both), from the world's own seed up."""
        return seeds(n, vary=vary, worlds=self.scale.worlds_for(n) if vary == "both" else 1,
                     world_base=world.seed)

    def stage(self, world: HierarchyConfig, steps: int, trainable: str = "all", name: str = "",
              **train_overrides) -> Stage:
        """One curriculum stage with Adam and the user's overrides."""
        train = self._cap(replace(TrainConfig(), steps=steps, **train_overrides))
        world, _, train = apply(self.overrides, world, MLPConfig(), train)
        return Stage(world, train, trainable, name)

    def curriculum(self, stages: list[Stage], model: Model | None = None, n_seeds: int | None = None,
                   attribute: bool = False) -> RunSpec:
        """A run through ``stages``, measured in the last stage's world."""
        _, model, _ = apply(self.overrides, stages[-1].world, model or MLPConfig(), TrainConfig())
        return RunSpec(world=stages[-1].world, model=model, train=stages[-1].train, stages=tuple(stages),
                       attribute=attribute, eval_samples=self.scale.eval_samples,
                       **self._seeds(n_seeds or self.scale.seeds, "both", stages[-1].world))

    def _cap(self, train: TrainConfig) -> TrainConfig:
        cap = self.scale.max_evals
        return train if cap is None or train.n_evals <= cap else replace(train, n_evals=cap)

    def real_spec(self, world: RealConfig, model: Model, steps: int, n_seeds: int, vary: str = "both",
                  **train_overrides) -> RunSpec:
        """A real-data run with the user's overrides: [train] (the pragmascope regularizer's excepted),
        [model] when the model is an MLP, and ``world.rho`` (the marker's agreement)."""
        train = replace(TrainConfig(), steps=steps, **train_overrides)
        # the pragmascope regularizer is defined on a hierarchy world's pixels (its natural latents are
        # found there), so real-data runs take every override but those; of [world], ρ alone applies
        overrides = {**self.overrides, "train": {k: v for k, v in self.overrides.get("train", {}).items()
                                                 if not k.startswith("pragmascope")}}
        world, model, train = apply(overrides, world, model, train)
        return RunSpec(world=world, model=model, train=train, eval_samples=self.scale.eval_samples,
                       **self._seeds(n_seeds, vary, world))

    def run_all(self, claim: str, specs: dict) -> dict:
        """Run (or load) every condition of a claim, in order, each without its diverged seeds."""
        out = {}
        for name, spec in specs.items():
            res = self.run(spec, f"{claim} {label(name)}")
            bad = res.diverged_seeds()
            if bad:
                # a seed whose training blew up (NaN/inf) measures nothing about greed: it is left out of
                # every statistic, and the claim's table says which seeds and how many
                self.excluded[label(name)] = (res.run_id, bad, spec.n_models)
                res = res.without(bad)
            out[name] = res
        return out

    def flagged_rows(self) -> list[Row]:
        """One row per condition that lost seeds to divergence: which seeds, out of how many."""
        nan = float("nan")
        return [Row(f"{name}: diverged seeds", f"left out of every statistic: seeds {bad} of {n}", float(len(bad)),
                    nan, nan, FLAGGED, [run_id]) for name, (run_id, bad, n) in self.excluded.items()]


def label(key) -> str:
    """How a condition's key reads in progress lines and tables: a typed key may define ``label()``."""
    return key.label() if hasattr(key, "label") else str(key)


def run_claim(module, ctx: Context) -> ClaimResult:
    """Run one claim; with a row for every condition whose diverged seeds were left out.

    The claim contract: a module gives ``conditions(ctx) -> {key: spec}`` (keys typed, e.g. a
    NamedTuple per claim, never strings parsed back), a pure ``analyse(runs) -> (rows, verdict)`` over
    the results keyed alike (it trains nothing and draws nothing, so a test can feed it synthetic
    results), and ``figures(runs, folder) -> [paths]``. This function does the rest for every claim."""
    runs = ctx.run_all(module.ID, module.conditions(ctx))
    with phase("analysis"):
        rows, verdict = module.analyse(runs)
    with phase("figures"):
        figs = module.figures(runs, ctx.figures_dir)
    res = ClaimResult(module.ID, module.SUMMARY, verdict, rows, [str(f) for f in figs])
    res.rows += ctx.flagged_rows()
    return res
