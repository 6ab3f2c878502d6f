"""Runs that measure the local learning coefficient (LLC) of trained solutions, stored like any run.

The trainer's runs keep curves, not parameters; the LLC needs the parameters themselves. So an
``LLCRunSpec`` trains its ensemble (the same ``train`` call, seeds and data order as its
``RunSpec``) and estimates λ̂ of each member on a named world's training set before the parameters
are dropped. ``LLCCheckSpec`` is the estimator's own check on models of known λ. Both are kinds of
run that ``greedlab.experiment.run`` stores and ``load`` reads back (like ``greedlab.anchors``), so
a report is rebuilt from the store without sampling again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import torch

from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec, config_key, world_key
from greedlab.instruments import EvalSet, diverged, evaluate
from greedlab.instruments.llc import LLCConfig, ensemble_llc, regression_check
from greedlab.timing import phase
from greedlab.train import eval_steps, logistic_loss, train
from greedlab.worlds import HierarchyConfig, make_world

EARLY_FRACTION = 0.1
"""The earlier checkpoint: the first evaluation step ≥ this fraction of training. Its models fit
less tightly (higher training loss) than at the end, which is what a loss-matched comparison needs."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LLCRunSpec:
    """Train ``run``'s ensemble; at the end (and with ``early`` also at the earlier checkpoint)
    measure every member on ``measured``: the standard instruments on its deployment split,
    accuracy and loss on its whole training set, and λ̂ on that training set."""

    run: RunSpec
    measured: HierarchyConfig
    llc: LLCConfig = field(default_factory=LLCConfig)
    early: bool = False

    def __post_init__(self) -> None:
        if self.run.stages:
            raise ConfigError("llc run", "a single-stage run (no curriculum)", f"{len(self.run.stages)} stages")
        if self.measured.input_dim != self.run.world.input_dim:
            raise ConfigError("llc run.measured", f"a world with input_dim {self.run.world.input_dim}",
                              self.measured.input_dim)

    def config(self) -> dict:
        return {"kind": "llc", "run": self.run.config(), "measured": world_key(self.measured),
                "llc": dataclasses.asdict(self.llc), "early": self.early}

    @property
    def run_id(self) -> str:
        return config_key(self.config())

    @property
    def n_models(self) -> int:
        return self.run.n_models

    @property
    def init_seeds(self) -> tuple[int, ...]:
        return self.run.init_seeds

    @property
    def data_seeds(self) -> tuple[int, ...]:
        return self.run.data_seeds

    @property
    def member_worlds(self) -> tuple[int, ...]:
        """Each member's world seed (``RunResult.worlds``): its run's."""
        return self.run.member_worlds

    @property
    def checkpoints(self) -> list[int]:
        steps = self.run.train.steps
        end = [steps]
        if not self.early:
            return end
        first = min(s for s in eval_steps(steps, self.run.train.n_evals) if s >= EARLY_FRACTION * steps)
        return sorted({first, steps})

    @property
    def total_steps(self) -> int:
        """Progress units: training steps, then one per member estimate."""
        return self.run.train.steps + self.n_models * len(self.checkpoints)

    def measure(self, device: str = "cpu", progress: Progress | None = None) -> list[tuple[int, dict]]:
        spec, steps = self.run, self.run.train.steps
        # members live in their own world draws (``spec.world_seeds``): each trains on its world's data
        # and is measured on ``measured`` drawn under the same seed (the same rendering of the latents),
        # as ``experiment.measure`` does; a single world keeps the plain calls of runs stored before
        mine = list(spec.member_worlds)
        seeds_w = list(dict.fromkeys(mine))
        which = [seeds_w.index(w) for w in mine]
        groups = [torch.tensor([m for m, i in enumerate(which) if i == g]) for g in range(len(seeds_w))]
        with phase("world"):
            measured = [make_world(spec.world_of(self.measured, w)) for w in seeds_w]
            datas = [w.train_set().to(device) for w in measured]
            half = spec.eval_samples // 2
            evs = [EvalSet.build(w, n_deploy=spec.eval_samples, n_probe=half, n_train=half, device=device,
                                 train_set=d) for w, d in zip(measured, datas)]
        kept: dict[int, list[torch.Tensor]] = {}
        wanted = set(self.checkpoints)

        def on_eval(step, params):
            if step in wanted:
                kept[step] = [p.clone() for p in params]

        def on_step(step):
            if progress is not None and (step % 25 == 0 or step == steps):
                progress(step, self.total_steps)

        # the evaluation steps are train's own (eval_steps); the early checkpoint is one of them
        one = len(seeds_w) == 1
        trained = [make_world(spec.world_of(spec.world, w)) for w in seeds_w]
        params = train(trained[0] if one else trained, spec.model, spec.train, list(spec.init_seeds),
                       list(spec.data_seeds), on_eval=on_eval, on_step=on_step, device=device,
                       member_world=None if one else which)
        kept[steps] = params
        done = steps
        records = []
        for step in self.checkpoints:
            vals: dict = {}
            for g, (ev, data) in enumerate(zip(evs, datas)):
                idx = groups[g]
                p = [q[idx.to(q.device)] for q in kept[step]]
                with torch.no_grad():
                    part = evaluate(spec.model, p, ev)
                    f, _ = spec.model.forward(p, data.x)
                    # the fit on the whole set λ̂ is measured on (evaluate's train_acc reads a prefix of it)
                    part["train_acc", ""] = (torch.sign(f) == data.y).float().mean(1)
                    part["train_loss", ""] = logistic_loss(f, data.y).mean(1)
                    part["diverged", ""] = diverged(p, part["train_loss", ""])

                def tick(k, done=done):
                    if progress is not None:
                        progress(done + k, self.total_steps)

                # a diverged member has no basin to sample: its λ̂ stays NaN
                good = [i for i, bad in enumerate(part["diverged", ""].tolist()) if not bad]
                llc, sd, init = (torch.full((len(idx),), float("nan")) for _ in range(3))
                if good:
                    with phase("llc"):
                        ests = ensemble_llc(spec.model, [q[good] for q in p], data.x, data.y,
                                            [spec.init_seeds[int(idx[i])] for i in good], self.llc, tick)
                    for i, e in zip(good, ests):
                        llc[i], sd[i], init[i] = e.llc, float(e.per_chain.std()), e.init_loss
                part["llc", ""], part["llc_chain_sd", ""], part["llc_init_loss", ""] = llc, sd, init
                done += len(idx)
                for key, v in part.items():
                    if key not in vals:  # every member is in one group: each entry is written once
                        vals[key] = torch.empty((self.n_models,), dtype=v.dtype, device=v.device)
                    vals[key][idx.to(v.device)] = v
            records.append((step, vals))
        return records


CHECK_CASES = (("regular", 4), ("regular", 16), ("duplicated", 8))
"""(kind, d): linear regression with d weights, λ = d/2; ``duplicated`` has two parameters per weight
(2d in all) and the same λ = d/2, below its parameter count / 2."""


@dataclass(frozen=True)
class LLCCheckSpec:
    """The estimator on models of known λ (``instruments.llc.regression_check``), one independent
    regression data set per "seed", with the settings a claim uses. Stored per seed and case:
    ``llc_check`` (λ̂), ``llc_check_truth`` (d/2) and ``llc_check_params`` (parameter count)."""

    llc: LLCConfig = field(default_factory=LLCConfig)
    seeds: tuple[int, ...] = tuple(range(8))
    n: int = 8192
    """Examples per regression data set: the default world's training-set size, so the check runs
    at the inverse temperature nβ = n/log n the claims' estimates run at."""

    def config(self) -> dict:
        return {"kind": "llc_check", "llc": dataclasses.asdict(self.llc), "seeds": list(self.seeds), "n": self.n,
                "cases": [list(c) for c in CHECK_CASES]}

    @property
    def run_id(self) -> str:
        return config_key(self.config())

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    @property
    def init_seeds(self) -> tuple[int, ...]:
        return self.seeds

    @property
    def data_seeds(self) -> tuple[int, ...]:
        return self.seeds

    @property
    def member_worlds(self) -> tuple[int, ...]:
        """Every regression data set is drawn on its own: each is its own world."""
        return self.seeds

    @property
    def total_steps(self) -> int:
        return len(CHECK_CASES) * len(self.seeds)

    def measure(self, device: str = "cpu", progress: Progress | None = None) -> list[tuple[int, dict]]:
        vals: dict[tuple[str, str], torch.Tensor] = {}
        done = 0
        for kind, d in CHECK_CASES:
            name = f"{kind} d={d}"
            with phase("llc"):
                got = [regression_check(d, kind == "duplicated", n=self.n, seed=s, cfg=self.llc) for s in self.seeds]
            vals["llc_check", name] = torch.tensor([e.llc for e, _, _ in got])
            vals["llc_check_truth", name] = torch.tensor([t for _, _, t in got])
            vals["llc_check_params", name] = torch.tensor([float(k) for _, k, _ in got])
            done += len(self.seeds)
            if progress is not None:
                progress(done, self.total_steps)
        return [(0, vals)]
