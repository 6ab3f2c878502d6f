"""greedlab's instruments on a model and training loop of your own.

``Monitor(world, model, layers=[...], every=k)`` watches one plain ``nn.Module`` while you train
it: call ``monitor.step(step)`` (or ``monitor(step)``) in your loop and every k steps it reads, on
the world's fixed evaluation samples, soft and hard reliance on each tracked feature (target,
proxies, staircase steps, latents), decodability of those features at each named module, train and
deployment accuracy and loss — and, on real-data worlds, the marker counterfactuals. The readings
are exactly ``greedlab.instruments.evaluate``'s: the module is shown to it as an ensemble of one
(logits with a leading model axis of size 1), so nothing is measured twice in two ways.

A read runs under ``torch.no_grad`` in eval mode and puts every submodule's train/eval flag back
as it found it. Activations are taken by forward hooks on the named modules
(``model.get_submodule(name)``), registered for one read and removed after it; a module's output
is flattened per example (a tuple output: its first element). The model must return one logit
per example — shape (B,) or (B, 1), positive meaning label 1 — or two class logits (B, 2), read
as the log-odds f₁ − f₀.

History stays in memory (``monitor.steps``, ``monitor.history[instrument, feature]``); with a
``store`` the readings become one stored run at ``close()`` (or on leaving a ``with`` block
without an exception), in the store's usual long format, so ``greedlab export`` reads it. Its key
is the hash of a config naming the monitor, the world's config, the model (class, parameter count,
a hash of its repr and of its parameters when the monitor was made) and any ``config`` you pass
(your optimizer, learning rate, seeds …): the same run made twice replaces itself.
"""

from __future__ import annotations

import hashlib
import os

import torch
from torch import nn

from greedlab import __version__
from greedlab.datasets import as_world
from greedlab.errors import ConfigError
from greedlab.experiment import _to_columns, config_key, world_key
from greedlab.instruments import EvalSet, diverged, evaluate
from greedlab.store import Store
from greedlab.worlds import HierarchyConfig, RealConfig, World


def module_logits(out) -> torch.Tensor:
    """One logit per example (B,) from a module's output: (B,), (B, 1) or two class logits (B, 2)."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if out.dim() == 2 and out.shape[1] == 2:
        return out[:, 1] - out[:, 0]  # log-odds of class 1, the label +1
    if out.dim() == 2 and out.shape[1] == 1:
        return out[:, 0]
    if out.dim() == 1:
        return out
    raise ConfigError("model output", "logits of shape (B,), (B, 1) or (B, 2)", tuple(out.shape))


class ModuleModel:
    """An ``nn.Module`` seen through greedlab's model protocol as an ensemble of one: ``forward``
    ignores ``params`` (the module holds its own) and returns logits (1, B) and, with ``keep``, the
    named modules' outputs (1, B, W), read in batches of ``batch_size`` by hooks removed after."""

    family = "module"

    def __init__(self, module: nn.Module, layers: list[str], batch_size: int = 1024):
        self.module, self.layers, self.batch_size = module, list(layers), batch_size

    def layer_names(self) -> list[str]:
        return list(self.layers)

    def forward(self, params, x: torch.Tensor, keep: bool = False):
        names = self.layers if keep else []
        current: dict[str, torch.Tensor] = {}
        acts: dict[str, list[torch.Tensor]] = {n: [] for n in names}

        def hook_for(name):
            def hook(mod, inp, out):
                t = out[0] if isinstance(out, (tuple, list)) else out
                current[name] = t.detach().reshape(t.shape[0], -1).float()  # a module called twice: its last call
            return hook

        hooks = [self.module.get_submodule(n).register_forward_hook(hook_for(n)) for n in names]
        logits = []
        try:
            for xb in x.split(self.batch_size):
                current.clear()
                logits.append(module_logits(self.module(xb)).float())
                for n in names:
                    if n not in current:
                        raise ConfigError("layers", "modules that run in the model's forward pass", n)
                    acts[n].append(current[n])
        finally:
            for h in hooks:
                h.remove()
        return torch.cat(logits)[None], {n: torch.cat(v)[None] for n, v in acts.items()}


def describe_model(model: nn.Module) -> dict:
    """What the store keeps about a model of your own: class, parameter count, hashes of its repr
    (the architecture) and of its current parameters and buffers (its starting point)."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    cls = type(model)
    return {"family": "module", "class": f"{cls.__module__}.{cls.__qualname__}",
            "parameters": sum(p.numel() for p in model.parameters()),
            "repr_sha256": hashlib.sha256(repr(model).encode()).hexdigest()[:16],
            "state_sha256": h.hexdigest()[:16]}


def _world_config(world: World) -> dict:
    c = getattr(world, "config", None)
    if isinstance(c, (HierarchyConfig, RealConfig)):
        return {"kind": "real" if isinstance(c, RealConfig) else "hierarchy", **world_key(c)}
    return {"kind": type(world).__qualname__}


class Monitor:
    """Read greedlab's instruments on ``model`` every ``every`` steps of your training loop.

    world: a world or its config (greedlab.worlds.HierarchyConfig, RealConfig).
    layers: names of modules (as ``model.named_modules()`` gives them) whose outputs are probed.
    store: a results-store path or an open ``Store``; None keeps the readings in memory only.
    name, config: stored in the run's config (and so in its key); ``config`` is yours, e.g. the
    optimizer, learning rate and seed, so that runs differing only there are kept apart.
    n_eval: deployment samples (probe and train subsets: half as many each, as in greedlab runs).
    """

    def __init__(self, world: World | HierarchyConfig | RealConfig, model: nn.Module, layers=(), every: int = 1,
                 store: Store | str | os.PathLike | None = None, name: str = "monitor", config: dict | None = None,
                 n_eval: int = 4096, batch_size: int = 1024):
        if not (isinstance(every, int) and every >= 1):
            raise ConfigError("every", "an integer ≥ 1", every)
        if not (isinstance(n_eval, int) and n_eval >= 64):
            raise ConfigError("n_eval", "an integer ≥ 64", n_eval)
        layers = [layers] if isinstance(layers, str) else list(layers)
        for n in layers:
            try:
                model.get_submodule(n)
            except AttributeError:
                names = ", ".join(k for k, _ in model.named_modules() if k)
                raise ConfigError("layers", f"module names of the model: {names}", n) from None
        self.world, self.model, self.layers, self.every = as_world(world), model, layers, every
        self.store, self.name = store, name
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
        self.ev = EvalSet.build(self.world, n_deploy=n_eval, n_probe=n_eval // 2, n_train=n_eval // 2, device=device)
        self._model = ModuleModel(model, layers, batch_size)
        self.config = {"monitor": {"name": name, "every": every, "layers": layers, "n_eval": n_eval},
                       "world": _world_config(self.world), "model": describe_model(model), "user": dict(config or {})}
        self.steps: list[int] = []
        self.history: dict[tuple[str, str], list[float]] = {}
        self._records: list[tuple[int, dict]] = []
        self._closed = False

    @property
    def run_id(self) -> str:
        """The run's key in the store: the hash of ``self.config``."""
        return config_key(self.config)

    def step(self, step: int, force: bool = False) -> dict[tuple[str, str], float] | None:
        """Read the instruments if ``step`` is a multiple of ``every`` (or ``force``); returns the
        readings {(instrument, feature): value}, or None when this step is not read."""
        if (step % self.every and not force) or (self.steps and step == self.steps[-1]):
            return None  # not a reading step, or already read (a forced last step that was one)
        return self.read(step)

    __call__ = step

    def read(self, step: int) -> dict[tuple[str, str], float]:
        """Read every instrument now and record it under ``step``."""
        if self.steps and step <= self.steps[-1]:
            raise ConfigError("step", f"a step after the last one read ({self.steps[-1]})", step)
        modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        try:
            with torch.no_grad():
                vals = evaluate(self._model, [], self.ev)
                params = [p.detach()[None] for p in self.model.parameters()]
                vals["diverged", ""] = diverged(params, vals["train_loss", ""])
        finally:
            for m, training in modes:  # flag by flag: a parent's .train() would overwrite its children's
                m.training = training
        vals.pop(("disagreement", ""))  # one model: nothing to disagree with
        vals = {k: v.detach().cpu() for k, v in vals.items()}
        self._records.append((step, vals))
        self.steps.append(step)
        for k, v in vals.items():
            self.history.setdefault(k, []).append(float(v[0]))
        return {k: float(v[0]) for k, v in vals.items()}

    def latest(self, instrument: str, feature: str = "") -> float:
        return self.history[instrument, feature][-1]

    def default_columns(self) -> list[tuple[str, str]]:
        feats = list(self.ev.features)
        cols = [("train_acc", ""), ("deploy_acc", "")]
        for f in ("target", "proxy0"):
            if f in feats:
                cols += [("reliance", f), ("hard_reliance", f)]
        cols += [(f"decodability:{n}", "target") for n in self.layers]
        return cols

    def table(self, columns: list[tuple[str, str]] | None = None) -> str:
        """The history as a plain-text table, one row per read (default: accuracies, soft and hard
        reliance on target and proxy, target decodability at each layer)."""
        cols = [c for c in (columns or self.default_columns()) if c in self.history]
        heads = ["step"] + [i.replace("decodability:", "decod:").replace("hard_reliance", "hard") +
                            (f"[{f}]" if f else "") for i, f in cols]
        rows = [[str(s)] + [f"{self.history[c][t]:.3f}" for c in cols] for t, s in enumerate(self.steps)]
        widths = [max(len(r[j]) for r in [heads] + rows) for j in range(len(heads))]
        return "\n".join("  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in [heads] + rows)

    def close(self) -> str | None:
        """Write the readings to the store as one finished run (once); returns its run id, or None
        without a store or readings."""
        if self._closed:
            return None
        self._closed = True
        if self.store is None or not self._records:
            return None
        run_id = self.run_id
        st = self.store if isinstance(self.store, Store) else Store(self.store)
        try:
            # seed column 0: the metrics' row for model 0 of a one-model run; the data order is the
            # caller's own, so no data seed is claimed
            st.begin_run(run_id, self.config, [0], [], __version__)
            st.finish_run(run_id, _to_columns(self._records))
        finally:
            if st is not self.store:
                st.close()
        return run_id

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:  # a loop that failed leaves no run marked done
            self.close()
