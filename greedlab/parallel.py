"""Train a claim suite's missing runs in parallel processes of one thread each.

Why processes × 1 thread: on 2 cores two single-threaded processes reach more of the matmul peak
than one process with two threads (52% against 44%, measured), and, on a shared machine, two
OpenMP threads stall whenever another program holds a core (measured: 91 model-steps/s with 2
threads against 951 with one). A suite is ~100 independent runs, so whole runs are the unit: no
run is split, and a run's numbers are those it gets trained alone (``experiment.measure`` of its
spec; the thread count does not change them, tested).

Only this (the driver) process writes to the store, each run as it finishes, so an interrupted
suite keeps every finished run and resumes from there. An interrupted driver (Ctrl-C, SIGTERM) stops
its workers at once, and a worker whose driver is gone (killed outright) stops within a second, rather
than training on for minutes with nobody to store its result.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterable

import numpy as np

from greedlab.experiment import measure_timed
from greedlab.store import Store

Progress = Callable[[str, int, int], None]  # (run id, steps done, steps total)
RunDone = Callable[[str], None]


def default_workers(device: str = "cpu") -> int:
    """One process per core on CPU (at most 2: a laptop's fair share); one on a GPU, which a
    single process's ensemble already fills."""
    if not device.startswith("cpu"):
        return 1
    return max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def cost(spec) -> float:
    """A run's relative training cost (models × steps × parameters per model, roughly): the longest
    runs start first so that the last one to finish is short."""
    model = getattr(spec, "model", None)
    width = getattr(model, "width", 256) if model is not None else 256
    depth = getattr(model, "depth", 2) if model is not None else 2
    n = getattr(spec, "n_models", 1)
    return float(n * spec.total_steps * width * width * max(depth, 1) * (5 if getattr(model, "family", "") == "transformer" else 1))


def measure_run(spec, device: str = "cpu", progress_queue=None) -> tuple[str, dict[str, np.ndarray], dict]:
    """(run id, store columns, seconds per phase) of one run, trained and measured in this process."""
    def progress(done, total):
        if progress_queue is not None:
            progress_queue.put((spec.run_id, done, total))
    cols, seconds = measure_timed(spec, device, progress)
    return spec.run_id, cols, seconds


def _one_thread(parent: int | None = None) -> None:
    import torch

    torch.set_num_threads(1)
    if parent is not None:
        exit_with_parent(parent)


def exit_with_parent(parent: int) -> None:
    """Called in a worker process: end it when the process ``parent`` (its driver) is gone."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int, every: float = 0.5) -> None:
    """A worker's watchdog: exit when the driver is gone (reparented: ``getppid`` changes). Why a poll
    and not ``prctl(PR_SET_PDEATHSIG)``: it is Linux-only and tied to the thread that forked, while
    this works wherever ``spawn`` does; half a second of polling costs nothing beside a training step."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def stop_workers(pool) -> None:
    """Cancel what has not started and end the workers now: a pool's own shutdown would wait for every
    running run to finish (minutes) although its result can no longer be stored."""
    # no public handle on the workers; taken before shutdown, which drops it
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(5)
    pool.shutdown(wait=False, cancel_futures=True)


def train_missing(specs: Iterable, store: Store, workers: int, device: str = "cpu",
                  progress: Progress | None = None, run_done: RunDone | None = None) -> int:
    """Train every spec the store does not hold finished, ``workers`` at a time; store each as it
    finishes. Returns the number trained. With ``workers`` = 1 nothing is done here (the caller's
    own loop trains in order, with step-level progress in this process)."""
    from greedlab import __version__

    todo, seen = [], set()
    for s in specs:
        if s.run_id not in seen and store.run_status(s.run_id) != "done":
            seen.add(s.run_id)
            todo.append(s)
    if workers <= 1 or not todo:
        return 0
    todo.sort(key=cost, reverse=True)
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # not fork: a forked torch thread pool can hang
    with ctx.Manager() as manager, ProcessPoolExecutor(workers, mp_context=ctx, initializer=_one_thread,
                                                        initargs=(os.getpid(),)) as pool:
        q = manager.Queue()
        pending = {pool.submit(measure_run, s, device, q): s for s in todo}
        trained = 0
        try:
            while pending:
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                _drain(q, progress)
                for fut in done:
                    spec = pending.pop(fut)
                    run_id, cols, seconds = fut.result()
                    store.begin_run(run_id, spec.config(), list(spec.init_seeds), list(spec.data_seeds), __version__)
                    store.finish_run(run_id, cols, timings=seconds)
                    trained += 1
                    if run_done is not None:
                        run_done(run_id)
            _drain(q, progress)
        except BaseException:  # interrupted, or a run failed: stop the others rather than wait on them
            stop_workers(pool)
            raise
    return trained


def _drain(q, progress: Progress | None) -> None:
    while True:
        try:
            item = q.get_nowait()
        except (queue.Empty, EOFError, OSError):
            return
        if progress is not None:
            progress(*item)
