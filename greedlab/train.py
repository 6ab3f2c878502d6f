"""Train N independent models as one vectorized computation.

``train(world, model, config, init_seeds, data_seeds)`` is a pure function of its arguments:
model n's trajectory depends only on (init_seeds[n], data_seeds[n]), never on its ensemble
companions, so the ensemble equals a Python loop over the same models (tested), and the same
config and seeds give the same numbers on CPU.

Why one optimizer over stacked tensors is exact: SGD, momentum, Adam and AdamW are all
element-wise, so one instance over (N, …) tensors performs N independent updates. The loss is
the *sum* over models of each model's mean loss, so each model's gradient is its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from greedlab.errors import ConfigError
from greedlab.models import EXIT_DEPTH, Model, Params
from greedlab.models.mlp import init_dense
from greedlab.optim import ConeDescent
from greedlab.pragmascope.regularizer import FEATURES, SCHEDULES, invariance_penalty, resampler, strength
from greedlab.timing import phase
from greedlab.worlds import Batch, World

OPTIMIZERS = ("sgd", "adam", "adamw", "cone")


@dataclass(frozen=True)
class TrainConfig:
    """How every model of an ensemble is trained."""

    optimizer: str = "adam"
    """sgd, adam, adamw or cone (greedlab.optim.ConeDescent, x0 = the parameters it starts from)."""
    lr: float = 1e-3
    """Learning rate."""
    momentum: float = 0.0
    """SGD momentum (sgd only)."""
    weight_decay: float = 0.0
    """L2 (sgd, adam) or decoupled (adamw) weight decay."""
    batch_size: int = 128
    """Examples per step per model."""
    steps: int = 2000
    """Optimizer steps."""
    n_evals: int = 30
    """Evaluations: about half log-spaced (the greedy phase is early), half evenly spaced."""
    cone_alpha: float = 0.0
    """Cone half-angle in degrees, [0, 90) (cone only; 0 is plain SGD)."""
    spectral_decoupling: float = 0.0
    """λ of spectral decoupling: adds λ/2·mean(logits²) to each model's loss (Pezeshki et al. 2021)."""
    l1: float = 0.0
    """λ of the complexity penalty: adds λ·Σ|W| over each model's weight matrices (not biases)."""
    speed_penalty: float = 0.0
    """λ of the speed penalty: adds λ·mean expected exit depth to each model's loss (early-exit models only)."""
    pragmascope: float = 0.0
    """λ of the pragmascope regularizer: hidden activity must not depend on anything but the world's
    natural latents (``greedlab.pragmascope.regularizer``; hierarchy worlds only)."""
    pragmascope_features: str = "natural"
    """natural (the pragmascope's latents) or random (a random subspace of the same size: the control)."""
    pragmascope_schedule: str = "constant"
    """constant, or relaxed: λ falls linearly to 0 over the stage."""
    effects_weight: float = 0.0
    """λ of an auxiliary world-model loss: beside the label's loss, a decoder on the hidden layer an
    effects stage reads predicts the world's effect pixels (squared error, weighted λ), so a model can
    learn a task while it keeps predicting consequences (multi-task pretraining). The decoder exists
    only for the stage. Needs a world with effects (``world.effects``) and an objective other than
    effects (which trains on them alone); 0 = none."""
    loss: str = "logistic"
    """The per-example training loss for labels y ∈ {−1, +1}: logistic log(1 + e^{−yf}), hinge
    max(0, 1 − yf) or square (f − y)²/2. (Instruments always report the logistic loss, so runs
    trained on different losses stay comparable.)"""

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError("train.optimizer", ", ".join(OPTIMIZERS), self.optimizer)
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError("train.lr", "a finite number > 0", self.lr)
        if not (0 <= self.momentum < 1):
            raise ConfigError("train.momentum", "a number in [0, 1)", self.momentum)
        if not (self.weight_decay >= 0):
            raise ConfigError("train.weight_decay", "a number ≥ 0", self.weight_decay)
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ConfigError("train.batch_size", "an integer ≥ 1", self.batch_size)
        if not (isinstance(self.steps, int) and self.steps >= 1):
            raise ConfigError("train.steps", "an integer ≥ 1", self.steps)
        if not (isinstance(self.n_evals, int) and self.n_evals >= 2):
            raise ConfigError("train.n_evals", "an integer ≥ 2", self.n_evals)
        if not (0 <= self.cone_alpha < 90):
            raise ConfigError("train.cone_alpha", "degrees in [0, 90)", self.cone_alpha)
        if self.pragmascope_features not in FEATURES:
            raise ConfigError("train.pragmascope_features", ", ".join(FEATURES), self.pragmascope_features)
        if self.loss not in LOSSES:
            raise ConfigError("train.loss", ", ".join(LOSSES), self.loss)
        if self.pragmascope_schedule not in SCHEDULES:
            raise ConfigError("train.pragmascope_schedule", ", ".join(SCHEDULES), self.pragmascope_schedule)
        for name in ("spectral_decoupling", "l1", "speed_penalty", "pragmascope", "effects_weight"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ConfigError(f"train.{name}", "a finite number ≥ 0", value)


def eval_steps(steps: int, n_evals: int) -> list[int]:
    """Dense early, sparse late: log-spaced plus evenly spaced checkpoints, 0 and ``steps`` included."""
    half = max(n_evals // 2, 1)
    logs = {int(round(10 ** (i * math.log10(steps) / half))) for i in range(half + 1)}
    lins = {int(round(steps * i / half)) for i in range(half + 1)}
    return sorted({0, steps} | logs | lins)


def make_optimizer(cfg: TrainConfig, params: Params) -> torch.optim.Optimizer:
    # fused=True: one kernel per tensor instead of ~10 element-wise passes; measured on 2 CPU cores
    # it cut Adam's share of a 64-model step from 9-13 ms to 2.5 ms. Still element-wise, so still
    # N independent optimizers.
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, fused=True)
    if cfg.optimizer == "cone":  # one cone per model: see greedlab.optim
        return ConeDescent(params, lr=cfg.lr, alpha_deg=cfg.cone_alpha)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)


def logistic_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example logistic loss log(1 + e^{−y f}) for labels y ∈ {−1, +1}."""
    return F.softplus(-y * logits)


LOSSES = {
    "logistic": logistic_loss,
    "hinge": lambda f, y: F.relu(1 - y * f),
    "square": lambda f, y: (f - y) ** 2 / 2,
}


def is_weight(p: torch.Tensor) -> bool:
    """A weight matrix (≥ 2 per-model axes longer than 1), not a bias, gain or position vector."""
    return sum(d > 1 for d in p.shape[1:]) >= 2


def penalty(cfg: TrainConfig, params: Params, logits: torch.Tensor) -> torch.Tensor | float:
    """The regularizers' terms, summed over models like the loss (so each model's gradient is its
    own). Exactly 0.0, not a zero tensor, when both are off: plain training stays bitwise unchanged."""
    out: torch.Tensor | float = 0.0
    if cfg.spectral_decoupling > 0:  # penalizes the logits themselves, not the weights
        out = out + cfg.spectral_decoupling / 2 * (logits ** 2).mean(dim=1).sum()
    if cfg.l1 > 0:  # a description-length proxy: fewer and smaller weights
        out = out + cfg.l1 * sum(p.abs().sum() for p in params if p.requires_grad and is_weight(p))
    return out


class _Orders:
    """Per-model data order: a fresh permutation of the training set each epoch, drawn from the
    model's own generator, so a model's batches depend only on its data seed."""

    def __init__(self, data_seeds: list[int], n: int, batch: int, device: torch.device):
        self.gens = [torch.Generator().manual_seed(int(s)) for s in data_seeds]
        self.n, self.batch, self.device = n, batch, device
        self.perm = torch.empty(0)
        self.pos = n  # forces a new epoch at the first call

    def next(self) -> torch.Tensor:
        if self.pos + self.batch > self.n:
            self.perm = torch.stack([torch.randperm(self.n, generator=g) for g in self.gens]).to(self.device)
            self.pos = 0
        idx = self.perm[:, self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx


class _Online:
    """Fresh training examples every step (an online world): model m's t-th batch is examples
    [o_m + tB, o_m + (t+1)B) of the endless train split of its own world, o_m set by its data seed,
    so a model's data depend only on its own seeds. Used as both the batch order and the data: the
    ``x``/``y``/``e`` "columns" read the batch that ``next()`` drew (idx is ignored)."""

    STRIDE = 1 << 40  # examples between two data seeds' streams: no two models' streams overlap

    def __init__(self, worlds: list, data_seeds: list[int], batch: int, device: torch.device):
        self.worlds, self.batch, self.device = worlds, batch, device
        self.pos = [int(s) % (1 << 20) * self.STRIDE for s in data_seeds]
        self.current: Batch | None = None
        self.x, self.y, self.e = self._Col("x", self), self._Col("y", self), self._Col("e", self)

    class _Col:
        def __init__(self, name, owner):
            self.name, self.owner = name, owner

        def __getitem__(self, idx):
            return getattr(self.owner.current, self.name)

    def next(self) -> torch.Tensor:
        parts = [w.sample("train", p, self.batch) for w, p in zip(self.worlds, self.pos)]
        self.pos = [p + self.batch for p in self.pos]
        e = None if parts[0].e is None else torch.stack([b.e for b in parts]).to(self.device)
        self.current = Batch(torch.stack([b.x for b in parts]).to(self.device),
                             torch.stack([b.y for b in parts]).to(self.device), torch.empty(0), None, e)
        return torch.empty(0)


EvalHook = Callable[[int, Params], None]

TRAINABLE = ("all", "trunk", "head")
DECODER_SEED_OFFSET = 7_000_003  # an effects stage's decoder is drawn from init seed + this


def _objective(world: World) -> str:
    return getattr(getattr(world, "config", None), "objective", "target")


def effects_loss(pred: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """Per model (N,): mean squared error of predicted effect pixels."""
    return ((pred - e) ** 2).mean(dim=(1, 2))


ATTRIBUTION_METHOD = "independent batch; noise by successive differences"
"""How ``Attribution`` measures, named in the config of every run that records it (``RunSpec.config``): a
run measured another way (the step's own minibatch, before this) has another id and is not read back."""
PROBE_SEED_OFFSET = 3_000_017  # the independent batches' order: data seed + this (apart from every stage's)


class Attribution:
    """First-order attribution of each step's loss decrease to parameter groups, with its noise.

    At every step the decrease of model n's training loss is, to first order, ``−∇L·Δθ`` summed over its
    parameters (Δθ the step taken), split by the groups of ``model.param_groups()`` ("trunk" = world
    model, "head" = objective). ∇L, the full training set's gradient before the step, is estimated by
    the gradient of an *independent* batch: one drawn from the model's own world's training set in
    an order of its own (data seed + PROBE_SEED_OFFSET), not the batch that made the step.

    Why not the step's own batch (``same_batch=True``, kept for comparison): its gradient g_B made Δθ,
    so −g_B·Δθ holds a positive term that no loss decrease pays for (for SGD η·tr Σ/B beside the
    η·|∇L|² the loss actually loses, to first order); near zero loss it is most of the reading. An
    independent batch's gradient has expectation ∇L whatever Δθ is, so −g·Δθ is an unbiased estimate
    of the first-order decrease. Why not the full training set: exact, but n/B forward and backward
    passes per step (64 at 8,192 examples and batch 128); an independent batch costs one, and its
    noise is measured instead (below). Each step's batch is marginally a uniform draw independent of
    the step's; batches of one epoch are disjoint, which only makes a window's sum less noisy than
    the floor says.

    Noise: per step, the variance of the estimated total decrease d_t (head + trunk) by successive
    differences, (d_t − d_{t−1})²/2: the batches are fresh every step, so the estimate's noise is
    independent from step to step while the decrease itself drifts slowly; a drift, and any real
    step-to-step variation of the decrease, counts as noise (the floor errs high). The first step
    measured, having no predecessor, counts its whole value d_0² as noise.

    ``take()`` returns, since the previous call (one evaluation window), each (instrument, feature)'s
    mean per step, (N,): ("loss_decrease", group) the estimated decrease, ("loss_decrease_var",
    "total") the noise variance of a step's total, ("loss_decrease_same_batch", "total") the step's
    own batch's reading (for the record: what the bias was); and starts a new window.
    """

    def __init__(self, groups: list[str], same_batch: bool = False):
        self.groups = groups
        self.names = sorted(set(groups))
        self.same_batch = same_batch
        self.sums: dict[tuple[str, str], torch.Tensor] | None = None
        self.count = 0
        self.prev: torch.Tensor | None = None  # the previous step's estimated total (carried across windows)

    def add(self, per_chunk: list[dict[str, torch.Tensor]], same: list[dict[str, torch.Tensor]] | None = None) -> None:
        """One step: ``per_chunk`` the estimate's ``measure`` of each chunk, ``same`` the step batch's."""
        step = {g: torch.cat([c[g] for c in per_chunk]) for g in self.names}
        total = sum(step.values())
        own = total if same is None else sum(torch.cat([c[g] for c in same]) for g in self.names)
        var = total ** 2 if self.prev is None else (total - self.prev) ** 2 / 2
        self.prev = total
        row = {("loss_decrease", g): v for g, v in step.items()}
        row["loss_decrease_var", "total"] = var
        row["loss_decrease_same_batch", "total"] = own
        self.sums = row if self.sums is None else {k: self.sums[k] + v for k, v in row.items()}
        self.count += 1

    def take(self) -> dict[tuple[str, str], torch.Tensor] | None:
        if self.sums is None:
            return None
        out = {k: v / self.count for k, v in self.sums.items()}
        self.sums, self.count = None, 0
        return out

    def measure(self, params: Params, grads: list[torch.Tensor | None], before: list[torch.Tensor]) -> dict:
        out = {}
        for g in self.names:
            tot = None
            for p, gr, b, grp in zip(params, grads, before, self.groups):
                if grp != g or gr is None:
                    continue
                d = -(gr * (p.detach() - b)).flatten(1).sum(1)
                tot = d if tot is None else tot + d
            out[g] = tot if tot is not None else torch.zeros(params[0].shape[0], device=params[0].device)
        return out


class _Gathered:
    """Per-model training sets of a chunk whose models live in different worlds: ``x[idx]`` with
    idx (c, B) gathers row idx[m, b] of model m's own world, as ``Batch.x[idx]`` does for one world."""

    class _Field:
        def __init__(self, stacked: torch.Tensor, which: torch.Tensor):
            self.stacked, self.which = stacked, which

        def __getitem__(self, idx: torch.Tensor) -> torch.Tensor:
            return self.stacked[self.which[:, None], idx]

    def __init__(self, sets: list[Batch], which: torch.Tensor):
        self.x = self._Field(torch.stack([d.x for d in sets]), which)
        self.y = self._Field(torch.stack([d.y for d in sets]), which)
        self.e = None if sets[0].e is None else self._Field(torch.stack([d.e for d in sets]), which)


def _member_data(sets: list[Batch], which: list[int], resamps, dev):
    """The training data (and pragmascope resampler) of one chunk. A chunk within one world uses
    that world's Batch itself, so single-world training is bit-for-bit what it always was."""
    if len(set(which)) == 1:
        return sets[which[0]], resamps[which[0]] if resamps else None
    used = sorted(set(which))
    pos = torch.tensor([used.index(w) for w in which], device=dev)
    data = _Gathered([sets[w] for w in used], pos)
    resamp = None
    if resamps:  # each model's own world's projection: (c, D, D) and (c, 1, D) broadcast over its batch
        resamp = type(resamps[0])(torch.stack([resamps[w].proj for w in which]),
                                  torch.stack([resamps[w].shift for w in which])[:, None, :], resamps[which[0]].k)
    return data, resamp


def default_chunk(device: str) -> int | None:
    """Models per batched matmul. On CPU, stacks of ~16 keep each layer's weights in cache:
    measured on 2 cores, 16 models reach 61% of the matmul peak, 64 reach 52%, 256 only 34%.
    On a GPU the whole ensemble is one stack (None)."""
    return 16 if torch.device(device).type == "cpu" else None


def train(world: World | list[World], model: Model, config: TrainConfig, init_seeds: list[int],
          data_seeds: list[int], on_eval: EvalHook | None = None, on_step: Callable[[int], None] | None = None,
          device: str = "cpu", train_set: Batch | list[Batch] | None = None, chunk: int | None = -1,
          init_params: Params | None = None, trainable: str = "all",
          attribution: Attribution | None = None, member_world: list[int] | None = None) -> Params:
    """Train len(init_seeds) models; returns their stacked final parameters.

    ``on_eval(step, params)`` runs (under no_grad) at every step of ``eval_steps`` with all models'
    parameters; ``on_step`` is called after every optimizer step (for progress bars). ``chunk``
    sets how many models share one batched matmul (default: ``default_chunk(device)``); chunks
    are independent stacks stepped in turn, so the result does not depend on it.

    ``init_params`` continues from given parameters (a curriculum's later stage) instead of a fresh
    init; ``trainable`` ("all", "trunk", "head") freezes the other parameter groups;
    ``attribution`` records each step's first-order loss decrease per parameter group, estimated with
    the gradient of an independent batch (one more forward and backward pass per step; see
    ``Attribution``); it never changes what is trained.

    ``world`` may be a list of worlds (draws of one config under different seeds) with
    ``member_world[n]`` the index of model n's world (and ``train_set`` then a list, one per world):
    each model trains on its own world's data, still in one stack per chunk: a batch is gathered
    per model from the stacked training sets, so worlds × seeds cost what seeds alone cost.

    A world whose objective is ``effects`` trains self-supervised: a linear decoder on the last
    hidden layer but one predicts the effect pixels (squared error); the decoder exists only for the stage
    (it is not part of the model), so what the stage leaves behind is a world model in the trunk.
    ``config.effects_weight`` > 0 adds that decoder's loss beside the label's, on any other objective.
    """
    if trainable not in TRAINABLE:
        raise ConfigError("trainable", ", ".join(TRAINABLE), trainable)
    if config.speed_penalty > 0 and model.family != "early_exit":
        raise ConfigError("train.speed_penalty", "0 unless the model family is early_exit", config.speed_penalty)
    if len(init_seeds) != len(data_seeds) or not init_seeds:
        raise ConfigError("seeds", "equally many (≥ 1) init seeds and data seeds",
                          (len(init_seeds), len(data_seeds)))
    worlds = world if isinstance(world, list) else [world]
    which = list(member_world) if member_world is not None else [0] * len(init_seeds)
    if len(which) != len(init_seeds) or not all(0 <= w < len(worlds) for w in which):
        raise ConfigError("member_world", f"one index in [0, {len(worlds)}) per model", member_world)
    world = worlds[0]
    ssl = _objective(world) == "effects"
    if ssl and trainable == "head":
        raise ConfigError("trainable", "all or trunk when the world's objective is effects", trainable)
    # an auxiliary effects loss beside the label's (multi-task): the same decoder an effects stage trains
    aux = config.effects_weight > 0
    if aux and (ssl or not getattr(getattr(world, "config", None), "effects", ())):
        raise ConfigError("train.effects_weight", "0 unless the world has effects (world.effects) and its "
                          "objective is not effects", config.effects_weight)
    if config.pragmascope > 0 and not hasattr(getattr(world, "config", None), "n_latents"):
        raise ConfigError("train.pragmascope", "0 unless the world is a hierarchy world", config.pragmascope)
    resamps = ([resampler(w.config, config.pragmascope_features) for w in worlds] if config.pragmascope > 0
               else None)
    resamp = resamps[0] if resamps else None
    layers = model.layer_names()
    keep = ssl or aux or resamp is not None
    if keep and not layers:  # a model with no hidden layer (an MLP of depth 0) has nothing to read
        raise ConfigError("model.depth", "≥ 1 when training reads a hidden layer (objective effects, pragmascope)",
                          getattr(model, "depth", 0))
    # the effects decoder reads the last hidden layer but one: the layers below it become the world
    # model, and the top layer stays free to learn, later, which of its abstractions to point at (a
    # linear head on the decoder's own layer could not select among them by a command)
    tap = (layers[-2] if len(layers) > 1 else layers[-1]) if layers else None
    dev = torch.device(device)
    sets = train_set if isinstance(train_set, list) else [train_set] if train_set is not None else [None] * len(worlds)
    sets = [(d if d is not None else w.train_set()).to(dev) for d, w in zip(sets, worlds)]
    if len({len(d) for d in sets}) > 1:
        raise ConfigError("train_set", "training sets of one size in every world", [len(d) for d in sets])
    data = sets[0]
    n = len(init_seeds)
    size = default_chunk(device) if chunk == -1 else chunk
    size = n if size is None else size
    stacks = []
    groups = model.param_groups()
    train_mask = [trainable == "all" or g == trainable for g in groups]
    for lo in range(0, n, size):
        start = (model.init(world.input_dim, init_seeds[lo:lo + size]) if init_params is None
                 else [p[lo:lo + size].detach().clone() for p in init_params])
        params = [p.to(dev).requires_grad_(t) for p, t in zip(start, train_mask)]
        if getattr(getattr(world, "config", None), "online", False):
            orders = _Online([worlds[w] for w in which[lo:lo + size]], data_seeds[lo:lo + size], config.batch_size, dev)
            chunk_data, chunk_resamp = orders, _member_data(sets, which[lo:lo + size], resamps, dev)[1]
        else:
            orders = _Orders(data_seeds[lo:lo + size], len(data), min(config.batch_size, len(data)), dev)
            chunk_data, chunk_resamp = _member_data(sets, which[lo:lo + size], resamps, dev)
        decoder: Params = []
        if ssl or aux:
            with torch.no_grad():
                width = model.forward(params, data.x[:2], keep=True)[1][tap].shape[-1]
            seeds = [s + DECODER_SEED_OFFSET for s in init_seeds[lo:lo + size]]
            decoder = [t.to(dev).requires_grad_() for t in init_dense([width, data.e.shape[1]], seeds)]
        opt = make_optimizer(config, [p for p, t in zip(params, train_mask) if t] + decoder)
        probe = None  # (order, data) of the independent batches an attribution estimates ∇L with
        if attribution is not None and not attribution.same_batch:
            probe_seeds = [s + PROBE_SEED_OFFSET for s in data_seeds[lo:lo + size]]
            if isinstance(orders, _Online):  # an online world's own endless train split, another stretch of it
                probe = (_Online(orders.worlds, probe_seeds, config.batch_size, dev),) * 2
            else:
                probe = (_Orders(probe_seeds, len(data), min(config.batch_size, len(data)), dev), chunk_data)
        stacks.append((params, opt, orders, decoder, chunk_data, chunk_resamp, probe))

    def all_params() -> Params:  # the model's parameters (an effects stage's decoder is not part of it)
        if len(stacks) == 1:
            return stacks[0][0]
        return [torch.cat([s[0][k] for s in stacks]) for k in range(len(stacks[0][0]))]

    def objective(params: Params, decoder: Params, data, idx: torch.Tensor, resamp, step: int) -> torch.Tensor:
        """The training objective on batch ``idx`` of ``data``, summed over models (each model's gradient is
        its own): the step's batch, and the independent one an attribution reads."""
        x = data.x[idx]
        logits, acts = model.forward(params, x, keep=keep)
        # an effects stage trains the decoder's loss alone; effects_weight adds it beside the label's
        loss = 0.0 if ssl else LOSSES[config.loss](logits, data.y[idx]).mean(dim=1).sum()
        if decoder:
            pred = torch.baddbmm(decoder[1], acts[tap], decoder[0])
            loss = loss + (1.0 if ssl else config.effects_weight) * effects_loss(pred, data.e[idx]).sum()
        loss = loss + penalty(config, params, logits)
        if resamp is not None:
            # one permutation per step, shared by every model and chunk: results stay chunk-independent
            perm = torch.randperm(x.shape[1], generator=torch.Generator().manual_seed(step)).to(dev)
            _, acts2 = model.forward(params, resamp.resample(x, perm), keep=True)
            lam = strength(config.pragmascope, config.pragmascope_schedule, step, config.steps)
            loss = loss + lam * invariance_penalty(acts, acts2, perm, layers).sum()
        if config.speed_penalty > 0:  # charged on the compute the model chose, per example
            loss = loss + config.speed_penalty * acts[EXIT_DEPTH].mean(dim=1).sum()
        return loss

    # the step loop is timed as training, its evaluations apart (greedlab.timing)
    with phase("training"):
        checkpoints = set(eval_steps(config.steps, config.n_evals))
        for step in range(config.steps + 1):
            if on_eval is not None and step in checkpoints:
                with torch.no_grad(), phase("evaluation"):
                    on_eval(step, all_params())
            if step == config.steps:
                break
            measured, same = [], []
            for params, opt, orders, decoder, data, resamp, probe in stacks:
                loss = objective(params, decoder, data, orders.next(), resamp, step)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if attribution is not None:
                    grads = [p.grad for p in params]
                    estimate = grads
                    if probe is not None:  # one more forward and backward pass, on the independent batch
                        free = [p for p in params if p.requires_grad]
                        got = iter(torch.autograd.grad(objective(params, decoder, probe[1], probe[0].next(), resamp, step),
                                                       free))
                        estimate = [next(got) if p.requires_grad else None for p in params]
                    before = [p.detach().clone() for p in params]
                opt.step()
                if attribution is not None:
                    measured.append(attribution.measure(params, estimate, before))
                    same.append(attribution.measure(params, grads, before))
            if attribution is not None:
                attribution.add(measured, same)
            if on_step is not None:
                on_step(step + 1)
    return [p.detach() for p in all_params()]
