"""A suite's runs trained in worker processes give the numbers they give trained alone."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from greedlab.experiment import RunSpec, load, measure, seeds
from greedlab.models import MLPConfig
from greedlab.parallel import cost, default_workers, train_missing
from greedlab.store import Store
from greedlab.train import TrainConfig
from greedlab.worlds import HierarchyConfig, Proxy

WORLD = replace(HierarchyConfig(), proxies=(Proxy((4,), 0.9),), n_train=512)


def _spec(width, **kw):
    return RunSpec(world=WORLD, model=MLPConfig(width=width), train=TrainConfig(steps=20, n_evals=3, batch_size=32),
                   eval_samples=128, **seeds(4, worlds=2), **kw)


def test_runs_trained_in_two_processes_equal_runs_trained_alone(tmp_path):
    specs = [_spec(8), _spec(16), _spec(8)]  # the repeat is trained once
    seen, steps = [], []
    with Store(tmp_path / "g.duckdb") as st:
        n = train_missing(specs, st, workers=2, progress=lambda r, d, t: steps.append((r, d, t)),
                          run_done=seen.append)
        assert n == 2 and sorted(seen) == sorted({s.run_id for s in specs})
        assert {r for r, _, _ in steps} == set(seen) and all(d <= t for _, d, t in steps)
        for s in specs[:2]:
            got = load(s, st)
            alone = measure(s)
            keep = alone["instrument"] == "reliance"
            want = dict(zip(zip(alone["seed"][keep], alone["step"][keep], alone["feature"][keep]), alone["value"][keep]))
            r = got.curve("reliance", "target")
            for (seed, step, feat), v in want.items():
                if feat == "target":
                    assert abs(r[seed, list(got.steps).index(step)] - v) < 1e-6
        assert train_missing(specs, st, workers=2) == 0  # all stored: nothing to do


def test_one_worker_leaves_training_to_the_caller_and_costs_order_runs(tmp_path):
    with Store(tmp_path / "g.duckdb") as st:
        assert train_missing([_spec(8)], st, workers=1) == 0
        assert st.run_status(_spec(8).run_id) != "done"
    assert cost(_spec(16)) > cost(_spec(8))
    assert default_workers("cuda") == 1 and 1 <= default_workers("cpu") <= 2


def _children(pid: int) -> set[int]:
    """Pids whose parent is ``pid`` (read from /proc: no process library needed)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _gone(pids, within: float) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not any(Path(f"/proc/{p}").exists() and "Z" not in Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1][:3]
                   for p in pids if Path(f"/proc/{p}").exists()):
            return True
        time.sleep(0.2)
    return False


def _wait_for(predicate, within: float):
    end = time.monotonic() + within
    while time.monotonic() < end:
        got = predicate()
        if got:
            return got
        time.sleep(0.2)
    return None


DRIVER = """
import os, sys, time, multiprocessing
from concurrent.futures import ProcessPoolExecutor
from greedlab.parallel import _one_thread
pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread,
                           initargs=(os.getpid(),))
pool.submit(time.sleep, 120)
time.sleep(120)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_a_worker_stops_when_its_driver_is_killed_outright(tmp_path):
    # SIGKILL gives the driver no chance to stop anything: the worker's own watchdog must end it
    driver = subprocess.Popen([sys.executable, "-c", DRIVER], env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        # the worker is the child that is neither the resource tracker nor gone; wait for the pool to start it
        workers = _wait_for(lambda: {p for p in _children(driver.pid)
                                     if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")}, 60)
        assert workers, "the pool never started its worker"
        driver.kill()
        driver.wait(10)
        assert _gone(workers, 10), "a worker kept running after its driver was killed"
    finally:
        if driver.poll() is None:
            driver.kill()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_sigterm_stops_a_parallel_run_at_once_and_says_what_is_stored(tmp_path):
    cmd = [sys.executable, "-m", "greedlab", "run", "--claim", "G1", "--scale", "smoke", "--workers", "2", "--quiet",
           "--store", str(tmp_path / "s.duckdb"), "--report", str(tmp_path / "rep")]
    proc = subprocess.Popen(cmd, env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        def training():
            kids = {p for p in _children(proc.pid)
                    if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")}
            return kids if len(kids) >= 3 else None  # the queue's manager and two workers
        kids = _wait_for(training, 120)
        assert kids, "the run never started its worker processes"
        time.sleep(2)  # let the workers import and start a run
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130
        assert "interrupted:" in err and "rerun to resume" in err and "Traceback" not in err, err[-3000:]
        assert time.monotonic() - start < 30  # not after the running runs finish
        assert _gone(kids, 10), "worker processes outlived the interrupted run"
    finally:
        if proc.poll() is None:
            proc.kill()
