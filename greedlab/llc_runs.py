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
from greedlab.instruments.llc import KNOWN_LAMBDA, LLCConfig, LLCEstimate, ensemble_llc, known_check
from greedlab.timing import phase
from greedlab.train import eval_steps, logistic_loss, train
from greedlab.worlds import HierarchyConfig, make_world

EARLY_FRACTION = 0.1
"""The earlier checkpoint: the first evaluation step ≥ this fraction of training. Its models fit
less tightly (higher training loss) than at the end, which is what a loss-matched comparison needs."""

Progress = Callable[[int, int], None]

PLATEAU_POINTS = 4
"""The draws-to-plateau curve reads λ̂ from the first draws/2^k kept draws, k = PLATEAU_POINTS − 1 … 0."""
TRACE_BLOCKS = 16
"""The loss trace (burn-in included) is kept as this many block means per estimate."""


def estimate_keys(cfg: LLCConfig, prefix: str = "llc") -> list[tuple[str, str]]:
    """The (instrument, feature) pairs ``estimate_values`` writes, whatever the estimates."""
    keys = [(prefix, ""), (f"{prefix}_chain_sd", ""), (f"{prefix}_init_loss", ""), (f"{prefix}_half", "first"),
            (f"{prefix}_half", "second")]
    keys += [(f"{prefix}_draws", str(max(cfg.draws >> k, 1))) for k in range(PLATEAU_POINTS - 1, -1, -1)]
    block = (cfg.burn_in + cfg.draws) // TRACE_BLOCKS
    keys += [(f"{prefix}_trace", str((j + 1) * block)) for j in range(TRACE_BLOCKS)] if block else []
    return list(dict.fromkeys(keys))


def estimate_values(ests: list[LLCEstimate], cfg: LLCConfig, prefix: str = "llc") -> dict[tuple[str, str], list[float]]:
    """Per member, what the store keeps of an estimate: λ̂ (``prefix``), its chains' SD, L_n(w*), λ̂ from
    each half of the kept draws (``{prefix}_half`` first/second: apart, the chain was still moving),
    the draws-to-plateau curve (``{prefix}_draws``, feature = draws kept) and the loss trace
    (``{prefix}_trace``, feature = the block's last SGLD step, burn-in included)."""
    out: dict[tuple[str, str], list[float]] = {key: [] for key in estimate_keys(cfg, prefix)}

    def put(key, v):
        out[key].append(float(v))

    half = cfg.draws // 2
    block = (cfg.burn_in + cfg.draws) // TRACE_BLOCKS
    for e in ests:
        put((prefix, ""), e.llc)
        put((f"{prefix}_chain_sd", ""), e.per_chain.std())
        put((f"{prefix}_init_loss", ""), e.init_loss)
        put((f"{prefix}_half", "first"), e.kept(half))
        put((f"{prefix}_half", "second"), e.kept(cfg.draws - half, half))
        for kept in dict.fromkeys(max(cfg.draws >> k, 1) for k in range(PLATEAU_POINTS - 1, -1, -1)):
            put((f"{prefix}_draws", str(kept)), e.kept(kept))
        for j, v in enumerate(e.trace(block)[:TRACE_BLOCKS] if block else []):
            put((f"{prefix}_trace", str((j + 1) * block)), v)
    return out


@dataclass(frozen=True)
class LLCRunSpec:
    """Train ``run``'s ensemble; at the end (and with ``early`` also at the earlier checkpoint)
    measure every member on ``measured``: the standard instruments on its deployment split,
    accuracy and loss on its whole training set, and λ̂ on that training set."""

    run: RunSpec
    measured: HierarchyConfig
    llc: LLCConfig = field(default_factory=LLCConfig)
    early: bool = False
    match_loss: float | None = None
    """With a loss: each member is also read (``llc_matched`` and its companions, stored with the
    end's record) at the first of train's evaluation steps where its logistic loss on the measured
    training set is ≤ this loss; ``matched_loss``/``matched_step`` say where. NaN if it never gets there."""
    estimate_at_match: bool = True
    """False: record where each member first reaches ``match_loss`` (``matched_step``/``matched_loss``,
    e.g. to order classes by how fast they fit) without a second λ̂ there, which halves the run's
    sampling."""

    def __post_init__(self) -> None:
        if self.run.stages:
            raise ConfigError("llc run", "a single-stage run (no curriculum)", f"{len(self.run.stages)} stages")
        if self.measured.input_dim != self.run.world.input_dim:
            raise ConfigError("llc run.measured", f"a world with input_dim {self.run.world.input_dim}",
                              self.measured.input_dim)

    def config(self) -> dict:
        key = {"kind": "llc", "run": self.run.config(), "measured": world_key(self.measured),
               "llc": dataclasses.asdict(self.llc), "early": self.early}
        if self.match_loss is not None:
            key["match_loss"] = self.match_loss
        if not self.estimate_at_match:  # keyed only when off: every run stored before the field keeps its id
            key["estimate_at_match"] = False
        return key

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
        matched = self.match_loss is not None and self.estimate_at_match
        return self.run.train.steps + self.n_models * (len(self.checkpoints) + matched)

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
        # per member: (step, loss, its parameters) at the first evaluation at or below match_loss
        matched: dict[int, tuple[int, float, list[torch.Tensor]]] = {}

        def on_eval(step, params):
            if step in wanted:
                kept[step] = [p.clone() for p in params]
            if self.match_loss is None or len(matched) == self.n_models:
                return
            with torch.no_grad():
                for g, data in enumerate(datas):
                    idx = groups[g]
                    f, _ = spec.model.forward([q[idx.to(q.device)] for q in params], data.x)
                    for j, loss in enumerate(logistic_loss(f, data.y).mean(1).tolist()):
                        m = int(idx[j])
                        if m not in matched and loss <= self.match_loss:
                            matched[m] = (step, loss, [q[m].clone() for q in params])

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
                part.update(self._estimates(spec, p, data, idx, good, "llc", tick))
                done += len(idx)
                if self.match_loss is not None and step == steps:
                    here = [i for i in range(len(idx)) if int(idx[i]) in matched]
                    if self.estimate_at_match:
                        pm = [torch.stack([matched[int(idx[i])][2][k] for i in here]) for k in range(len(p))] if here else p
                        part.update(self._estimates(spec, pm, data, idx, here, "llc_matched", tick, stacked=here))
                        done += len(idx)
                    at_match = [matched.get(int(m), (float("nan"), float("nan"), None)) for m in idx.tolist()]
                    part["matched_step", ""] = torch.tensor([float(a[0]) for a in at_match])
                    part["matched_loss", ""] = torch.tensor([float(a[1]) for a in at_match])
                for key, v in part.items():
                    if key not in vals:  # every member is in one group: each entry is written once
                        vals[key] = torch.empty((self.n_models,), dtype=v.dtype, device=v.device)
                    vals[key][idx.to(v.device)] = v
            records.append((step, vals))
        return records

    def _estimates(self, spec: RunSpec, p: list[torch.Tensor], data, idx: torch.Tensor, good: list[int], prefix: str,
                   tick, stacked: list[int] | None = None) -> dict:
        """λ̂ and its companions (``estimate_values``) for the group's members ``good`` (positions in
        ``idx``), NaN for the rest; ``p`` holds the group's members, or with ``stacked`` only those."""
        out: dict = {}
        if good:
            rows = list(range(len(good))) if stacked is not None else good
            with phase("llc"):
                ests = ensemble_llc(spec.model, [q[rows] for q in p], data.x, data.y,
                                    [spec.init_seeds[int(idx[i])] for i in good], self.llc, tick)
            for key, vs in estimate_values(ests, self.llc, prefix).items():
                col = torch.full((len(idx),), float("nan"))
                col[good] = torch.tensor(vs)
                out[key] = col
        else:
            for key in estimate_keys(self.llc, prefix):  # nothing to estimate: the group's rows are NaN
                out[key] = torch.full((len(idx),), float("nan"))
        return out


CHECK_CASES = KNOWN_LAMBDA
"""The estimator's models of known λ (``instruments.llc.KNOWN_LAMBDA``): logistic regression d = 4, 16
(regular), the same with duplicated weights (flat directions), y = w₁w₂x and y = w²x at w = 0
(singular, λ below d/2)."""


@dataclass(frozen=True)
class LLCCheckSpec:
    """The estimator on models of known λ (``instruments.llc.known_check``), one independent data set
    per "seed", with the settings a claim uses. Stored per seed and case (feature = the case's name):
    ``llc_check`` (λ̂), ``llc_check_truth`` (λ), ``llc_check_tempered`` (what λ̂ estimates at these
    settings and n, exactly), ``llc_check_params`` (parameter count), ``llc_check_half`` (λ̂ from each
    half of the kept draws; feature "<case>|first" / "<case>|second")."""

    llc: LLCConfig = field(default_factory=LLCConfig)
    seeds: tuple[int, ...] = tuple(range(8))
    n: int = 8192
    """Examples per data set: the default world's training-set size, so the check runs at the inverse
    temperature nβ = n/log n the claims' estimates run at."""
    scale: float = 1.0
    """The size the cases' weights are written at (``instruments.llc.known_problem``): the size of the
    weights the settings are meant for (``instruments.llc.at_scale``)."""

    def config(self) -> dict:
        key = {"kind": "llc_check", "llc": dataclasses.asdict(self.llc), "seeds": list(self.seeds), "n": self.n,
               "cases": [dataclasses.astuple(c) for c in CHECK_CASES]}
        if self.scale != 1.0:
            key["scale"] = self.scale
        return key

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
        """Every data set is drawn on its own: each is its own world."""
        return self.seeds

    @property
    def total_steps(self) -> int:
        return len(CHECK_CASES) * len(self.seeds)

    def measure(self, device: str = "cpu", progress: Progress | None = None) -> list[tuple[int, dict]]:
        vals: dict[tuple[str, str], torch.Tensor] = {}
        done, half = 0, self.llc.draws // 2
        for case in CHECK_CASES:
            with phase("llc"):
                got = [known_check(case, n=self.n, seed=s, cfg=self.llc, scale=self.scale) for s in self.seeds]
            vals["llc_check", case.name] = torch.tensor([e.llc for e, _ in got])
            vals["llc_check_truth", case.name] = torch.full((len(got),), case.lam)
            vals["llc_check_tempered", case.name] = torch.tensor([t for _, t in got])
            vals["llc_check_params", case.name] = torch.full((len(got),), float(case.params))
            vals["llc_check_half", f"{case.name}|first"] = torch.tensor([e.kept(half) for e, _ in got])
            vals["llc_check_half", f"{case.name}|second"] = torch.tensor([e.kept(self.llc.draws - half, half)
                                                                          for e, _ in got])
            done += len(self.seeds)
            if progress is not None:
                progress(done, self.total_steps)
        return [(0, vals)]
