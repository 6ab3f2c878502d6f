"""``greedlab bench``: how fast the ensemble trainer is, measured against two references in one run.

1. the same models trained one at a time by the same ``train`` function (the Python loop a user
   would otherwise write), and
2. the machine's own large-matmul rate, measured on the spot, as nanoGPT's ``estimate_mfu`` does
   against a datasheet peak. Achieved FLOP/s count forward + backward as 3× the forward pass.

It also races the hand-batched step (``mlp_forward``'s baddbmm chain) against ``torch.func``
(stack_module_state + vmap(functional_call)) on the same data, chunks and fused Adam: the
measurement behind models.py's choice of hand-batched matmuls.

Timers start after setup (world, train set, init, optimizer) and read only after a device sync.
"""

from __future__ import annotations

import math
import os
import resource
import sys
import time

import torch

from greedlab.models import MLPConfig, Params, flops_per_example, mlp_forward
from greedlab.train import TrainConfig, default_chunk, logistic_loss, make_optimizer, train
from greedlab.worlds import Batch, HierarchyConfig, HierarchyWorld


def _sync(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def matmul_flops(device: str = "cpu", n: int = 2048, repeats: int = 5) -> float:
    """Best-of-``repeats`` float32 FLOP/s of one large square matmul (best: least disturbed)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b  # warm-up: thread pool, BLAS dispatch, CUDA context
    best = math.inf
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


def _train_rate(world, model: MLPConfig, cfg: TrainConfig, seeds: list[int], device: str,
                data: Batch) -> tuple[int, float, Params]:
    """(model-steps, seconds, final parameters) of ``train``'s step loop alone.

    The clock runs from the end of step 1 to the end of the last step, via ``on_step``: init_mlp
    (0.3 s for 64 models on 2 CPU cores, as long as ~40 steps), optimizer construction and the
    first step stay outside it.
    With a single step there is nothing to exclude them from, so the whole call is timed.
    """
    marks: dict[int, float] = {}

    def on_step(s: int) -> None:
        if s in (1, cfg.steps):
            _sync(device)
            marks[s] = time.perf_counter()

    _sync(device)
    marks[0] = time.perf_counter()
    params = train(world, model, cfg, seeds, [s + 1000 for s in seeds], on_step=on_step, device=device,
                   train_set=data)
    first = 1 if cfg.steps > 1 else 0
    return len(seeds) * (cfg.steps - first), marks[cfg.steps] - marks[first], params


def _step_rate(step, n_models: int, steps: int, device: str) -> float:
    """Model-steps/s of ``step()`` (one optimizer step of every model), after one warm-up call."""
    step()
    _sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return n_models * steps / (time.perf_counter() - t)


def _batched_step(model: MLPConfig, params: Params, x: torch.Tensor, y: torch.Tensor, size: int):
    """train()'s step on a fixed batch: baddbmm forward per chunk of ``size`` models, fused Adam."""
    chunks = []
    for lo in range(0, len(x), size):
        p = [q[lo:lo + size].clone().requires_grad_(True) for q in params]
        chunks.append((p, make_optimizer(TrainConfig(), p), x[lo:lo + size], y[lo:lo + size]))

    def step() -> None:
        for p, opt, xc, yc in chunks:
            logits, _ = mlp_forward(model, p, xc)
            loss = logistic_loss(logits, yc).mean(dim=1).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return step


def _vmap_step(model: MLPConfig, input_dim: int, x: torch.Tensor, y: torch.Tensor, size: int, device: str):
    """The torch.func route on the same batch and chunks: per-model nn.Sequential modules stacked by
    stack_module_state, vmap(grad(functional_call)) for the gradients, the same fused Adam."""
    from torch import nn
    from torch.func import functional_call, grad, stack_module_state, vmap

    def make() -> nn.Module:
        layers, d = [], input_dim
        for _ in range(model.depth):
            layers += [nn.Linear(d, model.width), nn.ReLU()]
            d = model.width
        return nn.Sequential(*layers, nn.Linear(d, 1)).to(device)

    base = make().to("meta")  # a stateless template: functional_call supplies the weights

    def loss(p, b, xm, ym):
        return logistic_loss(functional_call(base, (p, b), (xm,)).squeeze(-1), ym).mean()

    per_model_grad = vmap(grad(loss))
    chunks = []
    for lo in range(0, len(x), size):
        params, buffers = stack_module_state([make() for _ in range(len(x[lo:lo + size]))])
        leaves = {k: v.detach() for k, v in params.items()}  # plain leaves: grads come from grad()
        opt = make_optimizer(TrainConfig(), list(leaves.values()))
        chunks.append((leaves, buffers, opt, x[lo:lo + size], y[lo:lo + size]))

    def step() -> None:
        for leaves, buffers, opt, xc, yc in chunks:
            grads = per_model_grad(leaves, buffers, xc, yc)
            for k, p in leaves.items():
                p.grad = grads[k]
            opt.step()
    return step


def _peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2 ** 20 if sys.platform == "darwin" else rss / 2 ** 10  # bytes on macOS, KiB on Linux


def bench(n_models: int = 64, steps: int = 200, loop_models: int = 8, device: str = "cpu", width: int = 256,
          depth: int = 2, batch_size: int = 128) -> dict:
    """All figures as one flat dict; ratios are computed from figures measured in this same call."""
    world = HierarchyWorld(HierarchyConfig())
    data = world.train_set().to(device)  # built and moved once, outside every timer
    model = MLPConfig(width=width, depth=depth)
    cfg = TrainConfig(steps=steps, batch_size=batch_size)
    warm = TrainConfig(steps=3, batch_size=batch_size)
    seeds = list(range(n_models))
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")  # other work skews every figure
    peak = matmul_flops(device)

    # the first train call of a process pays ~1 s of one-off setup; both routes are warmed
    _train_rate(world, model, warm, seeds, device, data)
    _train_rate(world, model, warm, [0], device, data)
    ens_steps, ens_t, params = _train_rate(world, model, cfg, seeds, device, data)
    ens = ens_steps / ens_t
    # a model's time in the loop does not depend on how many follow it: a subset gives the rate
    loop_n = min(loop_models, n_models)
    runs = [_train_rate(world, model, cfg, [s], device, data) for s in range(loop_n)]
    loop = sum(r[0] for r in runs) / sum(r[1] for r in runs)

    # hand-batched vs torch.func: the same fixed batch, chunks and Adam, so only the forward/backward
    # formulation differs (the trainer's data gather is left out of both)
    size = default_chunk(device) or n_models
    idx = torch.randint(0, len(data), (n_models, cfg.batch_size), device=device)
    x, y = data.x[idx], data.y[idx]
    race = max(steps // 4, 5)
    batched = _step_rate(_batched_step(model, params, x, y, size), n_models, race, device)  # trained weights
    vm = _step_rate(_vmap_step(model, world.input_dim, x, y, size, device), n_models, race, device)

    flops_step = 3 * flops_per_example(model, world.input_dim) * cfg.batch_size  # fwd + bwd ≈ 3× fwd
    achieved = ens * flops_step
    out = {
        "ensemble_vs_loop": ens / loop,
        "fraction_of_matmul_peak": achieved / peak,
        "ensemble_model_steps_per_s": ens,
        "loop_model_steps_per_s": loop,
        "batched_model_steps_per_s": batched,
        "vmap_model_steps_per_s": vm,
        "batched_vs_vmap": batched / vm,
        "achieved_flops": achieved,
        "matmul_flops": peak,
        "peak_rss_mb": _peak_rss_mb(),
        "load_avg_1min": load,
        "n_models": n_models,
        "steps": steps,
        "loop_models": loop_n,
        "width": width,
        "depth": depth,
        "batch_size": batch_size,
        "device": device,
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
    }
    if torch.device(device).type == "cuda":
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
    return out


def print_bench(result: dict, console) -> None:
    from rich.table import Table

    t = Table(title=f"greedlab bench — {result['n_models']} MLPs {result['width']}×{result['depth']}, "
                    f"batch {result['batch_size']}, {result['steps']} steps, {result['device']}, "
                    f"{result['threads']} threads")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("[bold]ensemble vs per-model loop[/]", f"[bold]{result['ensemble_vs_loop']:.2f}×[/]")
    t.add_row("[bold]fraction of matmul peak[/]", f"[bold]{100 * result['fraction_of_matmul_peak']:.1f}%[/]",
              end_section=True)
    t.add_row("ensemble model-steps/s", f"{result['ensemble_model_steps_per_s']:.0f}")
    t.add_row(f"loop model-steps/s ({result['loop_models']} models)", f"{result['loop_model_steps_per_s']:.0f}")
    t.add_row("achieved GFLOP/s", f"{result['achieved_flops'] / 1e9:.1f}")
    t.add_row("matmul GFLOP/s (measured)", f"{result['matmul_flops'] / 1e9:.1f}", end_section=True)
    t.add_row("hand-batched step model-steps/s", f"{result['batched_model_steps_per_s']:.0f}")
    t.add_row("torch.func vmap step model-steps/s", f"{result['vmap_model_steps_per_s']:.0f}")
    t.add_row("hand-batched vs vmap", f"{result['batched_vs_vmap']:.2f}×", end_section=True)
    t.add_row("peak RSS MB", f"{result['peak_rss_mb']:.0f}")
    if "peak_cuda_mb" in result:
        t.add_row("peak CUDA MB", f"{result['peak_cuda_mb']:.0f}")
    t.add_row("1-min load average at start", f"{result['load_avg_1min']:.2f}")
    console.print(t)
