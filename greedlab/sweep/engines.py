"""Engines: where a sweep's chunks are trained.

An engine takes tasks (a run's spec and a chunk ``[lo, hi)`` of its models) and yields each task's
``ChunkResult`` as it finishes, in any order. Engines only compute: the driver (greedlab.sweep) alone
writes to the store, so no engine, worker or machine ever needs the store file.

- ``local``: in this process, one chunk after another; or, with ``workers > 1``, in a pool of
  processes, each with its share of the cores (two single-threaded processes reach about the
  matmul peak of one two-threaded one on 2 cores: STYLE.md's measurement).
- ``ray``: one Ray task per chunk on an existing cluster (``address="auto"`` or ``"HOST:PORT"``) or
  a local one started for the sweep. A task whose worker dies is retried by Ray (``max_retries``);
  the code of this greedlab is shipped to the workers (``runtime_env.py_modules``) so that every
  chunk runs the same code as the driver. Ray is an optional dependency (``pip install 'greedlab[ray]'``).

The result of a chunk does not depend on the engine, the worker or the thread count (tested).
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from greedlab.sweep.chunks import ChunkResult, train_chunk
from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec
from greedlab.parallel import exit_with_parent, stop_workers

ENGINES = ("local", "ray")
ChunkTask = Callable[[RunSpec, int, int, str], ChunkResult]


@dataclass(frozen=True)
class Task:
    spec: RunSpec
    lo: int
    hi: int
    device: str = "cpu"


class ChunkFailed(RuntimeError):
    """A chunk could not be trained (after the engine's retries); finished chunks stay stored."""


class LocalEngine:
    """Chunks in this process, or in ``workers`` processes."""

    name = "local"

    def __init__(self, workers: int = 1, task: ChunkTask = train_chunk):
        if not (isinstance(workers, int) and workers >= 1):
            raise ConfigError("workers", "an integer ≥ 1", workers)
        self.workers, self.task = workers, task

    def map(self, tasks: Iterable[Task]) -> Iterator[ChunkResult]:
        tasks = list(tasks)
        if self.workers == 1 or len(tasks) <= 1:
            for t in tasks:
                try:
                    res = self.task(t.spec, t.lo, t.hi, t.device)
                except Exception as e:
                    raise ChunkFailed(f"run {t.spec.run_id} models [{t.lo}, {t.hi}): {type(e).__name__}: {e}") from e
                yield res
            return
        import multiprocessing

        threads = max(1, (os.cpu_count() or 1) // self.workers)
        # spawn, not fork: a forked copy of a process that already ran torch's thread pool can hang
        with ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_set_threads, initargs=(threads, os.getpid())) as pool:
            pending = {pool.submit(self.task, t.spec, t.lo, t.hi, t.device): t for t in tasks}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        t = pending.pop(fut)
                        try:
                            res = fut.result()
                        except Exception as e:
                            raise ChunkFailed(f"run {t.spec.run_id} models [{t.lo}, {t.hi}): "
                                              f"{type(e).__name__}: {e}") from e
                        yield res
            except BaseException:  # interrupted, a chunk failed, or the consumer stopped: end the workers now
                stop_workers(pool)
                raise

    def close(self) -> None:
        pass


def _set_threads(n: int, parent: int | None = None) -> None:
    import torch

    torch.set_num_threads(n)
    if parent is not None:
        exit_with_parent(parent)


class RayEngine:
    """One Ray task per chunk. ``address``: None starts a local Ray instance for this sweep (and
    stops it in ``close``); "auto" or "HOST:PORT" joins a running cluster. If this process is
    already connected to Ray, that connection is used as it is (connect with ``connect_ray`` so
    that its workers run this greedlab)."""

    name = "ray"

    def __init__(self, address: str | None = None, max_retries: int = 3, cpus_per_task: float = 1,
                 gpus_per_task: float = 0, num_cpus: int | None = None, task: ChunkTask = train_chunk):
        ray = require_ray()
        if not (isinstance(max_retries, int) and max_retries >= 0):
            raise ConfigError("retries", "an integer ≥ 0", max_retries)
        self.ray, self.task = ray, task
        self.started = connect_ray(address, num_cpus) if not ray.is_initialized() else False
        self.remote = ray.remote(self.task).options(max_retries=max_retries, retry_exceptions=False,
                                                    num_cpus=cpus_per_task, num_gpus=gpus_per_task)

    def map(self, tasks: Iterable[Task]) -> Iterator[ChunkResult]:
        ray = self.ray
        # a task given a GPU by Ray sees it (alone) as cuda:0, whatever index the driver named
        pending = {self.remote.remote(t.spec, t.lo, t.hi, "cuda" if t.device.startswith("cuda") else t.device): t
                   for t in tasks}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                t = pending.pop(done[0])
                try:
                    res = ray.get(done[0])
                except ray.exceptions.RayError as e:
                    raise ChunkFailed(f"run {t.spec.run_id} models [{t.lo}, {t.hi}): "
                                      f"{str(e).strip().splitlines()[0]}") from e
                yield res
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def connect_ray(address: str | None = None, num_cpus: int | None = None, **init_kwargs) -> bool:
    """Connect this process to Ray as a driver whose tasks run this very greedlab: a cluster's own
    copy (or none) never trains a chunk, since its package is shipped with the job
    (``runtime_env.py_modules``, which Ray accepts only here, at ``ray.init``). ``address`` None
    starts a new local instance (``num_cpus`` of them). Returns True (a connection was made)."""
    ray = require_ray()
    check_address(address)
    kw = {"address": address or "local", "include_dashboard": False, "log_to_driver": False,
          "runtime_env": {"py_modules": [str(Path(__file__).resolve().parent)]}, **init_kwargs}
    if address is None and num_cpus is not None:
        kw["num_cpus"] = num_cpus
    try:
        ray.init(**kw)
    except (ConnectionError, ValueError, RuntimeError) as e:
        raise ConfigError("address", "auto, or HOST:PORT of a running Ray cluster",
                          f"{address} ({str(e).strip().splitlines()[0]})") from None
    return True


def check_address(address: str | None) -> None:
    """Fail in seconds, naming the address, where ray.init would retry an unreachable GCS for minutes
    (None, "auto", "local" and ray:// addresses are left to Ray)."""
    import socket

    if address in (None, "auto", "local") or "://" in address:
        return

    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except (OSError, ValueError) as e:
        raise ConfigError("address", "auto, or HOST:PORT of a running Ray cluster's head",
                          f"{address} ({e.strerror or e})") from None


def require_ray():
    """The ray module, or one clear error saying how to get it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("engine", "local; or ray after `pip install 'greedlab[ray]'` (Ray is not installed)",
                          "ray") from None
    return ray


def make_engine(name: str, address: str | None = None, workers: int = 1, max_retries: int = 3,
                device: str = "cpu") -> LocalEngine | RayEngine:
    if name not in ENGINES:
        raise ConfigError("engine", ", ".join(ENGINES), name)
    if name == "local":
        if address is not None:
            raise ConfigError("address", "only with --engine ray", address)
        return LocalEngine(workers)
    return RayEngine(address, max_retries=max_retries, gpus_per_task=1 if device.startswith("cuda") else 0)
