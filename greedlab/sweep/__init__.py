"""Sweeps: many runs, trained in chunks on an engine, checkpointed chunk by chunk.

    from greedlab.sweep.grid import load_grid
    from greedlab.sweep import run_sweep
    summary = run_sweep(load_grid("sweep.toml"), "greedlab.duckdb", engine="ray", address="auto")

The driver (this module) is the only writer of the store. It registers every run of the grid with
its chunk boundaries, hands the chunks that are not yet stored to an engine, and stores each result
as it arrives, with its 'done' mark, in one transaction. When a run's last chunk is in, it computes the
run-wide instruments and marks the run done. So a driver killed at any moment (SIGKILL included)
loses at most the chunks in flight: started again, it trains only what is missing, stores nothing
twice, and ends with the same tables as an uninterrupted sweep (tested). Finished runs are ordinary
runs of the store: claims, reports and exports read them like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from greedlab import __version__
from greedlab.sweep.chunks import bounds, run_wide_metrics
from greedlab.sweep.engines import LocalEngine, RayEngine, Task, make_engine
from greedlab.experiment import RunSpec, load
from greedlab.sweep.grid import Sweep
from greedlab.store import Store

Log = Callable[[str], None]


@dataclass
class SweepSummary:
    """What a sweep did, and one row per run of its grid."""

    trained: int = 0
    """Chunks trained and stored by this call."""
    skipped: int = 0
    """Chunks found already stored (a resumed sweep) or in runs already done."""
    rows: list[dict] = field(default_factory=list)


def run_sweep(sweep: Sweep, store: str | Path | Store, engine: str | LocalEngine | RayEngine = "local",
              address: str | None = None, workers: int = 1, device: str = "cpu", max_retries: int = 3,
              log: Log | None = None) -> SweepSummary:
    """Train every run of ``sweep`` that the store lacks, on ``engine`` ("local", "ray", or an engine
    object), and return a summary. ``store`` is a path (opened here) or an open Store."""
    runs = sweep.runs()  # every config built before the store is touched
    own_store = not isinstance(store, Store)
    st = Store(store) if own_store else store
    eng = None
    try:
        if any(st.run_status(spec.run_id) != "done" for _, spec in runs):
            # connected before anything is written: a cluster that can't be reached leaves the store as it was
            eng = engine if not isinstance(engine, str) else make_engine(engine, address, workers, max_retries,
                                                                         device)
        summary, tasks = _plan(sweep, runs, st, device, log)
        if tasks:
            remaining, specs = {}, {t.spec.run_id: t.spec for t in tasks}
            for t in tasks:
                remaining[t.spec.run_id] = remaining.get(t.spec.run_id, 0) + 1
            for res in eng.map(tasks):
                stored = st.finish_chunk(res.run_id, res.lo, res.hi, res.metrics, res.predictions)
                summary.trained += stored
                remaining[res.run_id] -= 1
                if log is not None:
                    log(f"stored chunk: run {res.run_id} models [{res.lo}, {res.hi})")
                if remaining[res.run_id] == 0:
                    _finish(st, res.run_id, log, specs[res.run_id])
        summary.rows = [_row(point, spec, st) for point, spec in runs]
        return summary
    finally:
        if eng is not None and isinstance(engine, str):
            eng.close()
        if own_store:
            st.close()


def _plan(sweep: Sweep, runs: list[tuple[dict, RunSpec]], st: Store, device: str,
          log: Log | None) -> tuple[SweepSummary, list[Task]]:
    """Register every run not done; the chunks still to train. A run whose chunks are all stored but
    which was never marked done (the driver died between the two) is finished here."""
    summary = SweepSummary()
    tasks: list[Task] = []
    for _, spec in runs:
        if st.run_status(spec.run_id) == "done":
            summary.skipped += len(st.chunks(spec.run_id)) or 1
            continue
        chunks = st.begin_chunked_run(spec.run_id, spec.config(), list(spec.init_seeds), list(spec.data_seeds),
                                      __version__, bounds(spec.n_models, sweep.chunk_size(device)))
        done = {c["lo"] for c in st.chunks(spec.run_id) if c["status"] == "done"}
        summary.skipped += len(done)
        todo = [Task(spec, lo, hi, device) for lo, hi in chunks if lo not in done]
        if not todo:
            _finish(st, spec.run_id, log, spec)
        tasks += todo
    if log is not None:
        log(f"{len(runs)} runs: {summary.skipped} chunks already stored, {len(tasks)} to train")
    return summary, tasks


def _finish(st: Store, run_id: str, log: Log | None, spec: RunSpec) -> None:
    st.finish_chunked_run(run_id, run_wide_metrics(st.chunk_predictions(run_id), list(spec.member_worlds)))
    if log is not None:
        log(f"run done: {run_id}")


def _row(point: dict, spec: RunSpec, st: Store) -> dict:
    """A run's line in the summary: its grid point, flagged seeds, and medians over the others."""
    res = load(spec, st)
    bad = res.diverged_seeds()
    ok = res.without(bad)
    row = {"run_id": spec.run_id, **point, "seeds": spec.n_models, "diverged": bad}
    for inst, feat in (("train_acc", ""), ("deploy_acc", ""), ("reliance", "target"), ("reliance", "proxy0")):
        v = ok.values.get((inst, feat))
        key = f"{inst}:{feat}" if feat else inst
        row[key] = float(np.median(v[:, -1])) if v is not None and len(v) else float("nan")
    return row
