"""Sweeps on the local engine: resume after a crash (SIGKILL included), the same tables whatever the
scheduling, and one clear error (exit 2) with the store unharmed when the store can't be used."""

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from greedlab.sweep.chunks import train_chunk
from greedlab.cli import app
from greedlab.sweep.engines import LocalEngine
from greedlab.sweep.grid import load_grid
from greedlab.store import Store
from greedlab.sweep import run_sweep

from sweep_helpers import N_CHUNKS, snapshot, write_grid

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, **kw):
    """The sweep command in a fresh process, as a user runs it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "greedlab.cli", "sweep", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """An uninterrupted sweep of the test grid, trained by two worker processes."""
    d = tmp_path_factory.mktemp("clean")
    res = CliRunner().invoke(app, ["sweep", str(write_grid(d)), "--store", str(d / "s.duckdb"), "--workers", "2"])
    assert res.exit_code == 0, res.output
    return snapshot(d / "s.duckdb")


def test_a_sweep_stores_whole_runs_that_claims_can_read(clean):
    assert len(clean["runs"]) == 3 and all(r[4] == "done" for r in clean["runs"])
    assert len(clean["chunks"]) == N_CHUNKS and all(c[3] == "done" and c[4] is None for c in clean["chunks"])
    seeds = {(m[0], m[1]) for m in clean["metrics"]}
    assert len(seeds) == 3 * 4
    instruments = {m[3] for m in clean["metrics"]}
    assert {"disagreement", "diverged", "reliance", "train_acc"} <= instruments


def test_the_same_tables_from_one_process_and_from_two(clean, tmp_path):
    run_sweep(load_grid(write_grid(tmp_path)), tmp_path / "s.duckdb", engine=LocalEngine(workers=1))
    assert snapshot(tmp_path / "s.duckdb") == clean


def test_sigkill_mid_sweep_then_resume_gives_the_uninterrupted_tables(clean, tmp_path):
    grid, store = write_grid(tmp_path), tmp_path / "s.duckdb"
    proc = _cli(grid, "--store", store)
    try:
        for line in proc.stdout:  # the driver prints a line as each chunk is committed
            if line.startswith("stored chunk"):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    with Store(store, read_only=True) as st:
        done = sum(c["status"] == "done" for r in st.runs() for c in st.chunks(r["run_id"]))
    assert 1 <= done < N_CHUNKS, "the kill should land mid-sweep"

    proc = _cli(grid, "--store", store)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert f"{done} chunks already stored, {N_CHUNKS - done} to train" in out
    assert out.count("stored chunk") == N_CHUNKS - done  # nothing finished is trained again
    assert snapshot(store) == clean


def test_a_driver_that_dies_between_a_runs_last_chunk_and_its_finish_is_completed(clean, tmp_path):
    grid, store = write_grid(tmp_path), tmp_path / "s.duckdb"
    sweep = load_grid(grid)

    class Crash(Exception):
        pass

    def crashing_engine_map(tasks):
        tasks = list(tasks)
        yield train_chunk(tasks[0].spec, tasks[0].lo, tasks[0].hi)
        yield train_chunk(tasks[1].spec, tasks[1].lo, tasks[1].hi)
        raise Crash  # dies after two chunks

    eng = LocalEngine()
    eng.map = crashing_engine_map
    import greedlab.sweep as sweep_mod

    finish = sweep_mod._finish
    sweep_mod._finish = lambda *a: (_ for _ in ()).throw(Crash())  # and before the run is marked done
    try:
        with pytest.raises(Crash):
            run_sweep(sweep, store, engine=eng)
    finally:
        sweep_mod._finish = finish
    with Store(store, read_only=True) as st:
        first = sweep.runs()[0][1].run_id
        assert st.run_status(first) == "running" and all(c["status"] == "done" for c in st.chunks(first))
    summary = run_sweep(sweep, store)
    assert (summary.trained, summary.skipped) == (N_CHUNKS - 2, 2)
    assert snapshot(store) == clean


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("kind", ["corrupt", "foreign"])
def test_a_corrupt_or_foreign_store_is_refused_and_untouched(tmp_path, kind):
    grid, store = write_grid(tmp_path), tmp_path / "s.duckdb"
    if kind == "corrupt":
        store.write_bytes(os.urandom(20_000))
    else:
        con = duckdb.connect(str(store))
        con.execute("create table results(x int)")
        con.execute("insert into results values (42)")
        con.close()
    before = _files(tmp_path)
    res = CliRunner().invoke(app, ["sweep", str(grid), "--store", str(store)])
    assert res.exit_code == 2 and "not a greedlab results store" in res.output
    assert _files(tmp_path) == before


def _read_only_view(folder: Path) -> list[str]:
    """A command prefix that runs what follows with ``folder`` read-only; skips where that can't be had."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{folder}' '{folder}'"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("running as root without mount namespaces: no way to make a folder read-only")
    return ["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{folder}' '{folder}' && exec \"$@\"", "sh"]


def test_a_read_only_folder_is_one_clear_error_and_the_store_is_unharmed(clean, tmp_path):
    grid = write_grid(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    store = data / "s.duckdb"
    run_sweep(load_grid(grid), store)
    before = _files(data)
    prefix = _read_only_view(data)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # a wider grid: new runs to write, into a store that cannot be written
    grid2 = write_grid(tmp_path, grid.read_text().replace("0.99]", "0.99, 0.8]"), "wider.toml")
    try:
        out = subprocess.run([*prefix, sys.executable, "-m", "greedlab.cli", "sweep", str(grid2), "--store",
                              str(store)], env=env, capture_output=True, text=True, timeout=300)
    finally:
        data.chmod(0o755)
    assert out.returncode == 2, out.stderr
    assert "not writable" in out.stderr and "Traceback" not in out.stderr
    assert _files(data) == before


def test_a_full_disk_is_one_clear_error_and_the_store_is_unharmed(clean, tmp_path):
    grid = write_grid(tmp_path)
    store = tmp_path / "s.duckdb"
    run_sweep(load_grid(write_grid(tmp_path, grid.read_text().replace("0.9, 0.97, 0.99", "0.9"), "one.toml")), store)
    before = snapshot(store)
    limit = 24 * 1024  # per file: room for the .wal to log bookkeeping, not a chunk's metrics

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = _cli(grid, "--store", store, preexec_fn=small_disk)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    assert "disk is full or a file-size limit" in err and "Traceback" not in err
    after = snapshot(store)
    for table in ("runs", "metrics", "chunks"):  # every row stored before is there, unchanged
        assert set(before[table]) <= set(after[table]), table
    assert {r for r in after["metrics"] if r[0] not in {b[0] for b in before["runs"]}} == set()
    # and with room again the sweep completes to the uninterrupted tables
    assert run_sweep(load_grid(grid), store).trained > 0
    assert snapshot(store) == clean
