"""What a claim needs from the outside: where to store, how big to run, where to draw."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from greedlab.claims.common import Scale
from greedlab.config import Overrides, apply
from greedlab.experiment import RunResult, RunSpec, seeds
from greedlab.models import MLPConfig, Model
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

    def spec(self, world: HierarchyConfig, model: MLPConfig | None = None, steps: int | None = None,
             n_seeds: int | None = None, vary: str = "both", **train_overrides) -> RunSpec:
        """A run at this context's scale (seeds, steps), the default model and Adam, then user overrides."""
        train = replace(TrainConfig(), steps=steps or self.scale.steps, **train_overrides)
        world, model, train = apply(self.overrides, world, model or MLPConfig(), train)
        return RunSpec(world=world, model=model, train=train, **seeds(n_seeds or self.scale.seeds, vary=vary))

    def real_spec(self, world: RealConfig, model: Model, steps: int, n_seeds: int, vary: str = "both",
                  **train_overrides) -> RunSpec:
        """A real-data run: only the user's [train] overrides apply ([world] and [model] describe the
        hierarchy world and its MLP)."""
        train = replace(TrainConfig(), steps=steps, **train_overrides)
        train = replace(train, **self.overrides.get("train", {}))
        return RunSpec(world=world, model=model, train=train, **seeds(n_seeds, vary=vary))

    def run_all(self, claim: str, specs: dict[str, RunSpec]) -> dict[str, RunResult]:
        """Run (or load) every condition of a claim, in order."""
        return {name: self.run(spec, f"{claim} {name}") for name, spec in specs.items()}
