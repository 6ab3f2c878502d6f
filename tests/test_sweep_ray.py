"""Sweeps on a real Ray cluster on loopback (no mock): the same tables as the local engine, a worker
that dies mid-task is retried, and a second driver joins the cluster by address from the CLI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greedlab.cli import app
from greedlab.sweep.engines import LocalEngine, RayEngine, connect_ray
from greedlab.sweep.grid import load_grid
from greedlab.sweep import run_sweep

from sweep_helpers import N_CHUNKS, snapshot, write_grid

ray = pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of 2 CPUs on 127.0.0.1, owned by this module and stopped after it."""
    if ray.is_initialized():
        ray.shutdown()
    connect_ray(None, num_cpus=2, _node_ip_address="127.0.0.1")  # a new cluster, even if one runs here
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def local_tables(tmp_path_factory):
    d = tmp_path_factory.mktemp("local")
    run_sweep(load_grid(write_grid(d)), d / "s.duckdb", engine=LocalEngine())
    return snapshot(d / "s.duckdb")


def test_ray_and_local_give_identical_tables(cluster, local_tables, tmp_path):
    summary = run_sweep(load_grid(write_grid(tmp_path)), tmp_path / "s.duckdb", engine=RayEngine())
    assert summary.trained == N_CHUNKS
    assert snapshot(tmp_path / "s.duckdb") == local_tables


def test_a_worker_killed_mid_task_is_retried_and_the_sweep_completes(cluster, local_tables, tmp_path):
    marks = str(tmp_path / "marks")
    os.mkdir(marks)

    def dies_once(spec, lo, hi, device):
        # defined here so that Ray ships it by value; the first attempt at each run's first chunk
        # kills its own worker process, as an out-of-memory kill or a lost node would
        import os as _os

        from greedlab.sweep.chunks import train_chunk

        mark = _os.path.join(marks, f"{spec.run_id}-{lo}")
        if lo == 0 and not _os.path.exists(mark):
            open(mark, "w").close()
            _os._exit(1)
        open(mark + ".done", "w").close()
        return train_chunk(spec, lo, hi, device)

    summary = run_sweep(load_grid(write_grid(tmp_path)), tmp_path / "s.duckdb",
                        engine=RayEngine(max_retries=2, task=dies_once))
    assert summary.trained == N_CHUNKS
    killed = [m for m in os.listdir(marks) if m.endswith("-0")]
    assert len(killed) == 3 and all(os.path.exists(os.path.join(marks, m + ".done")) for m in killed)
    assert snapshot(tmp_path / "s.duckdb") == local_tables


def test_the_cli_joins_a_running_cluster_by_address(cluster, local_tables, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-m", "greedlab.cli", "sweep", str(write_grid(tmp_path)), "--store",
                          str(tmp_path / "s.duckdb"), "--engine", "ray", "--address", cluster],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("stored chunk") == N_CHUNKS
    assert snapshot(tmp_path / "s.duckdb") == local_tables


def test_ray_not_installed_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    res = CliRunner().invoke(app, ["sweep", str(write_grid(tmp_path)), "--store", str(tmp_path / "s.duckdb"),
                                   "--engine", "ray"])
    assert res.exit_code == 2 and "greedlab[ray]" in res.output
    assert not (tmp_path / "s.duckdb").exists()


def test_an_unreachable_cluster_is_one_clear_error_before_the_store_is_made(tmp_path):
    res = CliRunner().invoke(app, ["sweep", str(write_grid(tmp_path)), "--store", str(tmp_path / "s.duckdb"),
                                   "--engine", "ray", "--address", "127.0.0.1:1"])
    assert res.exit_code == 2 and "address" in res.output and "127.0.0.1:1" in res.output
    assert not (tmp_path / "s.duckdb").exists()
