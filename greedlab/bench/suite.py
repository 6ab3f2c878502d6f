"""``greedlab bench --suite``: every figure the project promises, measured in one run.

1. Throughput against ensemble size (1 … 1024 models) as a curve: model-steps per second of the
   trainer's step loop, steps per size capped so that each size costs about the same time, timed
   in rounds so that every size sees the same load on a shared machine.
2. Ensemble against a per-model loop at 256 models. The loop is timed on a few models and
   extrapolated (a model's time in a loop does not depend on how many follow it), and says so.
3. Peak memory per size: resident set size sampled while it trains (CPU), or
   ``torch.cuda.max_memory_allocated`` (CUDA).
4. The claims suite at a scale: what it trains (runs and model-steps per claim, shared runs counted
   once), and optionally its wall time in a fresh process on a temporary store, with where the
   time went (world drawing, training, evaluation, probes, starvation, LLC, analysis, figures,
   report: ``greedlab.timing``), summed over the worker processes.
5. Optionally ``torch.compile`` and reduced precision (tf32, bf16): their speed and their measured
   error against float32 on the same seeds, since a faster number that is wrong is no gain.

Every throughput figure is timed in rounds and reported with its spread over them (min–max), the
thread count and the 1-minute load at the start: a figure from a busy machine says so.

Goals, checked against the figures measured here, never assumed: the quick suite in ≤ 20 minutes
on 2 CPU cores and the full suite in ≤ 10 minutes on one H100-class GPU; the ensemble ≥ 20× a
per-model loop at 256 models (a GPU figure: on 2 CPU cores the loop already reaches a good share of
the matmul peak); 1,000 seeds × 2,000 steps of the default world in under a minute on one H100
(extrapolated from the 1,024-model rate).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

from greedlab.bench.throughput import _train_rate, matmul_flops
from greedlab.errors import ConfigError
from greedlab.instruments import feature_matrix, reliance
from greedlab.models import MLPConfig
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig, HierarchyWorld

SIZES = (1, 4, 16, 64, 256, 1024)
PRECISIONS = ("float32", "tf32", "bf16")
GOAL_SUITE_S, GOAL_FULL_GPU_S, GOAL_RATIO, GOAL_H100_S = 1200.0, 600.0, 20.0, 60.0


class _PeakRSS:
    """Highest resident set size of this process while the block runs, sampled every 5 ms
    (ru_maxrss is a lifetime peak: it could not tell one ensemble size from the next)."""

    def __enter__(self) -> "_PeakRSS":
        self.peak, self._stop = _rss(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: fall back to the lifetime peak
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss if sys.platform == "darwin" else rss * 1024


@contextlib.contextmanager
def precision(mode: str, device: str):
    """float32 (exact), tf32 (float32 matmuls on TF32 tensor cores; on CPU the same switch lets
    oneDNN use bf16 internally where it can), or bf16 autocast of the matmuls."""
    if mode not in PRECISIONS:
        raise ConfigError("precision", ", ".join(PRECISIONS), mode)
    before = torch.get_float32_matmul_precision()
    try:
        if mode == "tf32":
            torch.set_float32_matmul_precision("high")
        if mode == "bf16":
            with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
                yield
        else:
            yield
    finally:
        torch.set_float32_matmul_precision(before)


class Compiled:
    """A model whose forward pass is ``torch.compile``d; the rest of the protocol is the model's."""

    def __init__(self, model):
        self.model, self.family = model, model.family
        self._forward = torch.compile(model.forward, dynamic=False)

    def forward(self, params, x, keep: bool = False):
        return self._forward(params, x, keep)

    def __getattr__(self, name):
        return getattr(self.model, name)


def _steps_for(n: int, budget: int, max_steps: int, min_steps: int = 10) -> int:
    """About ``budget`` model-steps per size, so each size costs about the same time."""
    return min(max_steps, max(min_steps, budget // n))


def throughput_curve(device: str = "cpu", sizes=SIZES, budget: int = 20_000, max_steps: int = 200,
                     loop_at: int = 256, loop_models: int = 8, rounds: int = 4, log=None) -> dict:
    """Model-steps/s and peak memory per ensemble size, and the ensemble-vs-loop ratio at ``loop_at``.

    The timings are taken in ``rounds`` rounds, each giving every size (and the loop) a share of its
    steps in turn: on a machine shared with other work, every figure then sees the same mix of load,
    and a ratio compares like with like. Peak memory is measured in a pass of its own, one size at a time.
    """
    world = HierarchyWorld(HierarchyConfig())
    data = world.train_set().to(device)
    model = MLPConfig()
    cuda = torch.device(device).type == "cuda"
    _train_rate(world, model, TrainConfig(steps=3), [0, 1], device, data)  # one-off setup out of the timings
    peaks = {}
    for n in sizes:
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        with _PeakRSS() as mem:
            _train_rate(world, model, TrainConfig(steps=2), list(range(n)), device, data)
        peaks[n] = {"peak_rss_mb": mem.peak / 2 ** 20}
        if cuda:
            peaks[n]["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
    per_round = {n: max(2, _steps_for(n, budget, max_steps) // rounds) for n in sizes}
    timed = {n: [0, 0.0] for n in sizes}
    per_round_rate: dict[int, list[float]] = {n: [] for n in sizes}
    loop = [0, 0.0]
    with_loop = loop_at in sizes
    for r in range(rounds):
        for n in sizes:  # +1: _train_rate leaves the first step (and the init) out of the clock
            done, secs, _ = _train_rate(world, model, TrainConfig(steps=per_round[n] + 1), list(range(n)), device, data)
            timed[n][0] += done
            timed[n][1] += secs
            per_round_rate[n].append(done / secs)
        if with_loop:
            for s in range(loop_models):
                done, secs, _ = _train_rate(world, model, TrainConfig(steps=per_round[loop_at] + 1), [s], device, data)
                loop[0] += done
                loop[1] += secs
        if log is not None:
            log(f"round {r + 1}/{rounds}: " + ", ".join(f"{n}: {timed[n][0] / timed[n][1]:.0f}" for n in sizes)
                + " model-steps/s")
    rows = [{"models": n, "steps": per_round[n] * rounds, "model_steps_per_s": timed[n][0] / timed[n][1],
             "seconds": timed[n][1], "rate_min": min(per_round_rate[n]), "rate_max": max(per_round_rate[n]),
             **peaks[n]} for n in sizes]
    out = {"curve": rows, "rounds": rounds}
    if with_loop:
        ens = timed[loop_at][0] / timed[loop_at][1]
        out.update(loop_model_steps_per_s=loop[0] / loop[1], loop_models=loop_models, loop_at=loop_at,
                   ensemble_vs_loop=ens / (loop[0] / loop[1]))
    return out


def precision_error(mode: str, use_compile: bool, device: str = "cpu", n_models: int = 16,
                    steps: int = 200) -> dict:
    """Speed and error of (mode, compile) against float32 on the same seeds: the largest change of
    any model's final target and proxy reliance, and the fraction of deployment predictions that flip."""
    world = HierarchyWorld(HierarchyConfig())
    data = world.train_set().to(device)
    model = MLPConfig()
    cfg = TrainConfig(steps=steps)
    seeds = list(range(n_models))
    dep = world.sample("deploy", 0, 4096).to(device)
    feats = world.tracked_features()
    chi = feature_matrix(dep.a, {k: feats[k] for k in ("target", "proxy0")})

    fast_model = Compiled(model) if use_compile else model

    def train_once(fast: bool, config: TrainConfig = cfg):
        with precision(mode, device) if fast else contextlib.nullcontext():
            return _train_rate(world, fast_model if fast else model, config, seeds, device, data)

    for fast in (False, True):  # warm-up (and compilation) out of the clock
        train_once(fast, TrainConfig(steps=3))
    timed = {False: [0, 0.0], True: [0, 0.0]}
    final = {}
    for _ in range(2):  # alternated, so that on a shared machine both see the same load
        for fast in (False, True):
            done, secs, final[fast] = train_once(fast)
            timed[fast][0] += done
            timed[fast][1] += secs
    base_rate, rate = (timed[f][0] / timed[f][1] for f in (False, True))
    with torch.no_grad():  # both measured in float32
        base_logits, logits = (model.forward(final[f], dep.x)[0] for f in (False, True))
    base_rel, rel = reliance(base_logits, chi)[0], reliance(logits, chi)[0]
    return {"precision": mode, "compile": use_compile, "speedup": rate / base_rate,
            "model_steps_per_s": rate, "float32_model_steps_per_s": base_rate,
            "max_abs_reliance_error": float((rel - base_rel).abs().max()),
            "median_abs_reliance_error": float((rel - base_rel).abs().median()),
            "prediction_flip_rate": float((torch.sign(logits) != torch.sign(base_logits)).float().mean()),
            "n_models": n_models, "steps": steps}


def suite_plan(scale: str = "quick") -> dict:
    """What the claims suite at ``scale`` trains, without training it: per claim its runs and
    model-steps (models × steps), and the distinct total (a run several claims share counts once)."""
    from greedlab.claims import REGISTRY
    from greedlab.claims.common import get_scale
    from greedlab.claims.context import Context

    sc = get_scale(scale)
    seen, rows = {}, []
    for cid, module in REGISTRY.items():
        specs = list(module.conditions(Context(sc, Path(tempfile.gettempdir()), None)).values())
        ids = {s.run_id: s.n_models * s.total_steps for s in specs}
        rows.append({"claim": cid, "runs": len(ids), "model_steps": sum(ids.values()),
                     "shared_runs": sum(r in seen for r in ids)})
        seen.update(ids)
    return {"scale": scale, "claims": rows, "runs": len(seen), "model_steps": sum(seen.values())}


def time_suite(scale: str = "quick", device: str = "cpu", workers: int | None = None) -> dict:
    """``greedlab run --scale SCALE`` (every claim) in a fresh process on a temporary store: its wall
    time and where the time went (seconds per phase, summed over the runs' processes)."""
    import json

    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [sys.executable, "-m", "greedlab", "run", "--scale", scale, "--quiet", "--device", device,
               "--store", str(Path(d) / "g.duckdb"), "--timings", str(Path(d) / "t.json")]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        t = time.perf_counter()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        secs = time.perf_counter() - t
        if out.returncode != 0:
            raise RuntimeError(f"the {scale} suite failed: {out.stderr.strip().splitlines()[-1:]}")
        spent = json.loads((Path(d) / "t.json").read_text())
    return {"suite_seconds": secs, "suite_scale": scale, "suite_workers": spent["workers"],
            "suite_runs": spent["runs_trained"], "suite_phases": spent["phases"]}


def suite(device: str = "cpu", claims: bool = True, scale: str = "quick", sizes=SIZES, budget: int = 20_000,
          max_steps: int = 200, loop_at: int = 256, loop_models: int = 8, rounds: int = 4,
          precisions: tuple[str, ...] = (), use_compile: bool = False, precision_steps: int = 200, log=None,
          workers: int | None = None) -> dict:
    """All figures of ``greedlab bench --suite`` as one dict; ratios computed from figures measured here."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out = {"device": device, "threads": torch.get_num_threads(), "torch_version": torch.__version__,
           "load_avg_1min": load, "matmul_flops": matmul_flops(device)}
    out.update(throughput_curve(device, sizes, budget, max_steps, loop_at, loop_models, rounds, log=log))
    # each option on its own against float32: its speed and its error are then its own
    variants = [(m, False) for m in precisions] + ([("float32", True)] if use_compile else [])
    out["precision"] = [precision_error(m, c, device, steps=precision_steps) for m, c in variants]
    out["plan"] = suite_plan(scale)
    if claims:
        if log is not None:
            log(f"timing the {scale} claims suite in a fresh process ({out['plan']['runs']} runs, "
                f"{out['plan']['model_steps'] / 1e6:.1f} M model-steps) …")
        out.update(time_suite(scale, device, workers))
    big = [r for r in out["curve"] if r["models"] >= 1000]
    if big:  # training alone, extrapolated from the measured rate: instruments come on top
        out["seconds_1000x2000"] = 1000 * 2000 / big[-1]["model_steps_per_s"]
    out["goals"] = goals(out)
    return out


def goals(r: dict) -> list[dict]:
    """Each goal of issue 7 with the figure measured for it, and whether it was met here."""
    g = []
    if "suite_seconds" in r and r.get("suite_scale") == "quick" and not r["device"].startswith("cuda"):
        g.append({"goal": "quick claims suite ≤ 20 min on 2 CPU cores",
                  "measured": f"{r['suite_seconds'] / 60:.1f} min on {os.cpu_count()} cores, "
                              f"{r['suite_workers']} processes (load {r['load_avg_1min']:.1f} at start)",
                  "met": r["suite_seconds"] <= GOAL_SUITE_S if (os.cpu_count() or 0) <= 2 else None,
                  "device": r["device"]})
    if "suite_seconds" in r and r.get("suite_scale") == "full" and r["device"].startswith("cuda"):
        g.append({"goal": "full claims suite ≤ 10 min on one H100-class GPU",
                  "measured": f"{r['suite_seconds'] / 60:.1f} min on {r['device']}",
                  "met": r["suite_seconds"] <= GOAL_FULL_GPU_S, "device": r["device"]})
    if "ensemble_vs_loop" in r:
        g.append({"goal": f"ensemble ≥ 20× a per-model loop at {r['loop_at']} models",
                  "measured": f"{r['ensemble_vs_loop']:.2f}× (loop timed on {r['loop_models']} models, extrapolated)",
                  "met": r["ensemble_vs_loop"] >= GOAL_RATIO, "device": r["device"]})
    if "seconds_1000x2000" in r:
        g.append({"goal": "1,000 seeds × 2,000 steps < 1 min on one H100",
                  "measured": f"{r['seconds_1000x2000']:.0f} s of training (extrapolated from the 1,024-model rate)",
                  "met": r["seconds_1000x2000"] < GOAL_H100_S if r["device"].startswith("cuda") else None,
                  "device": r["device"]})
    return g


def figure(r: dict, path: str | Path) -> Path:
    """Throughput (and the loop's, as a flat line) against ensemble size, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = [row["models"] for row in r["curve"]]
    rate = [row["model_steps_per_s"] for row in r["curve"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(n, rate, "o-", lw=2, label="ensemble (one batched trainer)")
    if "loop_model_steps_per_s" in r:
        ax.axhline(r["loop_model_steps_per_s"], color="gray", ls="--",
                   label=f"per-model loop ({r['loop_models']} models timed)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("models in the ensemble")
    ax.set_ylabel("model-steps per second")
    ax.set_title(f"greedlab throughput, {r['device']}, {r['threads']} threads, torch {r['torch_version']}, "
                 f"1-min load {r['load_avg_1min']:.1f} at start", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def print_suite(r: dict, console) -> None:
    from rich.table import Table

    t = Table(title=f"greedlab bench --suite — default MLP 256×2, batch 128, Adam, {r['device']}, "
                    f"{r['threads']} threads, load {r['load_avg_1min']:.2f} at start")
    for col in ("models", f"steps timed ({r['rounds']} rounds)", "model-steps/s", "min–max over rounds",
                "vs 1 model", "peak RSS MB") + (
            ("peak CUDA MB",) if "peak_cuda_mb" in r["curve"][0] else ()):
        t.add_column(col, justify="right")
    one = r["curve"][0]["model_steps_per_s"]
    for row in r["curve"]:
        cells = [str(row["models"]), str(row["steps"]), f"{row['model_steps_per_s']:.0f}",
                 f"{row.get('rate_min', float('nan')):.0f}–{row.get('rate_max', float('nan')):.0f}",
                 f"{row['model_steps_per_s'] / one:.1f}×", f"{row['peak_rss_mb']:.0f}"]
        if "peak_cuda_mb" in row:
            cells.append(f"{row['peak_cuda_mb']:.0f}")
        t.add_row(*cells)
    console.print(t)
    if r["precision"]:
        e0 = r["precision"][0]
        p = Table(title=f"compile / reduced precision against float32 (same {e0['n_models']} seeds, "
                        f"{e0['steps']} steps; reliance on target and proxy)")
        for col in ("precision", "compile", "speed vs float32", "median / max |Δ final reliance|",
                    "flipped predictions"):
            p.add_column(col, justify="right")
        for e in r["precision"]:
            p.add_row(e["precision"], str(e["compile"]), f"{e['speedup']:.2f}×",
                      f"{e['median_abs_reliance_error']:.2e} / {e['max_abs_reliance_error']:.2e}",
                      f"{100 * e['prediction_flip_rate']:.3f}%")
        console.print(p)
    if "plan" in r:
        print_plan(r, console)
    g = Table(title="goals")
    for col in ("goal", "measured", "met"):
        g.add_column(col)
    for e in r["goals"]:
        met = "n/a here (needs a GPU)" if e["met"] is None else ("yes" if e["met"] else "no")
        g.add_row(e["goal"], e["measured"], met)
    console.print(g)


def print_plan(r: dict, console) -> None:
    """The suite's plan per claim and, when it was timed, where its time went."""
    from rich.table import Table

    from greedlab import timing

    plan = r["plan"]
    t = Table(title=f"the {plan['scale']} claims suite: {plan['runs']} distinct runs, "
                    f"{plan['model_steps'] / 1e6:.2f} M model-steps")
    for col in ("claim", "runs", "of them shared", "M model-steps"):
        t.add_column(col, justify="right")
    for row in sorted(plan["claims"], key=lambda x: -x["model_steps"]):
        t.add_row(row["claim"], str(row["runs"]), str(row["shared_runs"]), f"{row['model_steps'] / 1e6:.2f}")
    console.print(t)
    if "suite_phases" in r:
        spent = r["suite_phases"]
        total = sum(spent.values()) or 1.0
        p = Table(title=f"where the {r['suite_scale']} suite's time went: {r['suite_seconds']:.0f} s wall, "
                        f"{r['suite_runs']} runs in {r['suite_workers']} processes")
        for col in ("phase", "seconds (all processes)", "share"):
            p.add_column(col, justify="right")
        for k in timing.PHASES:
            if k in spent:
                p.add_row(k, f"{spent[k]:.0f}", f"{100 * spent[k] / total:.0f}%")
        console.print(p)
