"""``greedlab bench``: how fast the ensemble trainer is, measured against two references in one run.

1. the same models trained one at a time by the same ``train`` function (the Python loop a user
   would otherwise write), and
2. the machine's own large-matmul rate, measured on the spot, as nanoGPT's ``estimate_mfu`` does
   against a datasheet peak. Achieved FLOP/s count forward + backward as 3× the forward pass.

It also times ``torch.func`` (stack_module_state + vmap(functional_call)) on the same step: the
measurement behind models.py's choice of hand-batched matmuls.
"""

from __future__ import annotations

import copy
import resource
import time

import torch

from greedlab.models import MLPConfig, flops_per_example
from greedlab.train import TrainConfig, logistic_loss, train
from greedlab.worlds import HierarchyConfig, HierarchyWorld


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def matmul_flops(device: str = "cpu", n: int = 2048, repeats: int = 5) -> float:
    """Best-of-``repeats`` float32 FLOP/s of one large square matmul."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best


def _time_train(world, model, cfg, seeds, device, data) -> float:
    _sync(device)
    t = time.perf_counter()
    train(world, model, cfg, seeds, [s + 1000 for s in seeds], device=device, train_set=data)
    _sync(device)
    return time.perf_counter() - t


def _vmap_steps_per_s(model: MLPConfig, world, data, n_models: int, steps: int, batch: int, device: str) -> float:
    """Model-steps/s of the torch.func route: vmap over functional_call of stacked nn modules."""
    from torch import nn
    from torch.func import functional_call, grad, stack_module_state, vmap

    def make():
        layers, d = [], world.input_dim
        for _ in range(model.depth):
            layers += [nn.Linear(d, model.width), nn.ReLU()]
            d = model.width
        return nn.Sequential(*layers, nn.Linear(d, 1)).to(device)

    mods = [make() for _ in range(n_models)]
    params, buffers = stack_module_state(mods)
    base = copy.deepcopy(mods[0]).to("meta")

    def loss(p, b, x, y):
        return logistic_loss(functional_call(base, (p, b), (x,)).squeeze(-1), y).mean()

    g = vmap(grad(loss))
    leaves = [p.detach().requires_grad_(False) for p in params.values()]
    opt = torch.optim.Adam(leaves, lr=1e-3, fused=True)  # same optimizer as the trainer: a fair race
    x_all, y_all = data.x.to(device), data.y.to(device)
    idx = torch.randint(0, len(x_all), (n_models, batch), device=device)
    x, y = x_all[idx], y_all[idx]

    def step():
        grads = g(dict(zip(params, leaves)), buffers, x, y)
        for p, name in zip(leaves, params):
            p.grad = grads[name]
        opt.step()

    step()
    _sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return n_models * steps / (time.perf_counter() - t)


def bench(n_models: int = 64, steps: int = 200, loop_models: int = 8, device: str = "cpu", width: int = 256,
          depth: int = 2, batch_size: int = 128) -> dict:
    """All figures as one flat dict; ratios are computed from figures measured in this same call."""
    world = HierarchyWorld(HierarchyConfig())
    data = world.train_set()
    model = MLPConfig(width=width, depth=depth)
    cfg = TrainConfig(steps=steps, batch_size=batch_size)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    peak = matmul_flops(device)
    _time_train(world, model, TrainConfig(steps=5, batch_size=batch_size), list(range(n_models)), device, data)
    ens_t = _time_train(world, model, cfg, list(range(n_models)), device, data)
    ens = n_models * steps / ens_t
    # per-model time in a loop does not depend on how many models follow, so a subset suffices
    loop_n = min(loop_models, n_models)
    loop_t = sum(_time_train(world, model, cfg, [s], device, data) for s in range(loop_n))
    loop = loop_n * steps / loop_t
    vm = _vmap_steps_per_s(model, world, data, n_models, max(steps // 4, 5), batch_size, device)
    flops_step = 3 * flops_per_example(model, world.input_dim) * batch_size
    achieved = ens * flops_step
    out = {
        "ensemble_vs_loop": ens / loop,
        "fraction_of_matmul_peak": achieved / peak,
        "ensemble_model_steps_per_s": ens,
        "loop_model_steps_per_s": loop,
        "vmap_model_steps_per_s": vm,
        "batched_vs_vmap": ens / vm,
        "achieved_flops": achieved,
        "matmul_flops": peak,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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
    if device.startswith("cuda"):
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
    t.add_row("[bold]fraction of matmul peak[/]", f"[bold]{100 * result['fraction_of_matmul_peak']:.1f}%[/]")
    t.add_row("ensemble model-steps/s", f"{result['ensemble_model_steps_per_s']:.0f}")
    t.add_row("loop model-steps/s", f"{result['loop_model_steps_per_s']:.0f}")
    t.add_row("torch.func vmap model-steps/s", f"{result['vmap_model_steps_per_s']:.0f}")
    t.add_row("hand-batched vs vmap", f"{result['batched_vs_vmap']:.2f}×")
    t.add_row("achieved GFLOP/s", f"{result['achieved_flops'] / 1e9:.1f}")
    t.add_row("matmul GFLOP/s (measured)", f"{result['matmul_flops'] / 1e9:.1f}")
    t.add_row("peak RSS MB", f"{result['peak_rss_mb']:.0f}")
    if "peak_cuda_mb" in result:
        t.add_row("peak CUDA MB", f"{result['peak_cuda_mb']:.0f}")
    console.print(t)
