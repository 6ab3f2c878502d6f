"""What a claim needs from the outside: where to store, how big to run, where to draw."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from greedlab.claims.common import Scale
from greedlab.experiment import RunResult, RunSpec, seeds
from greedlab.models import MLPConfig
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig


@dataclass
class Context:
    scale: Scale
    figures_dir: Path
    run: Callable[[RunSpec, str], RunResult]
    """``run(spec, label)`` trains or loads one run (the label names it in progress output)."""

    def spec(self, world: HierarchyConfig, model: MLPConfig | None = None, steps: int | None = None,
             **train_overrides) -> RunSpec:
        """A run at this context's scale: its seeds and step budget, the default model and Adam."""
        train = replace(TrainConfig(), steps=steps or self.scale.steps, **train_overrides)
        return RunSpec(world=world, model=model or MLPConfig(), train=train, **seeds(self.scale.seeds))
