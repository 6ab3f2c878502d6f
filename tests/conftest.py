import os

# Tests run in pytest-xdist worker processes of one thread each (pyproject's addopts): on 2 cores two
# single-threaded processes beat one with two threads, and never stall on a busy core (OpenMP).
# Set before torch is imported by any test module.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import shutil
from types import SimpleNamespace

import pytest
from filelock import FileLock
from typer.testing import CliRunner

from greedlab.cli import app


@pytest.fixture(scope="session")
def smoke_store(tmp_path_factory, worker_id):
    """One smoke-scale run of every claim, shared by the CLI and report tests: (folder, CLI result).

    Trained once per test session, whatever the number of worker processes: the first worker that
    needs it trains it (in 2 processes, so the cores stay busy while other workers wait on the lock),
    and each worker then works on its own copy of the store, so that tests which write to it (a rerun,
    a verdict set) never contend for one DuckDB file."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # the workers' common temporary folder
    trained = shared / "smoke-trained"
    with FileLock(str(shared / "smoke-trained.lock")):
        if not (trained / "output.txt").exists():
            trained.mkdir(exist_ok=True)
            res = CliRunner().invoke(app, ["run", "--scale", "smoke", "--store", str(trained / "g.duckdb"),
                                           "--quiet", "--timings", str(trained / "timings.json")])
            assert res.exit_code == 0, res.output
            (trained / "output.txt").write_text(res.output)
    d = tmp_path_factory.mktemp("smoke")
    shutil.copytree(trained, d, dirs_exist_ok=True)
    return d, SimpleNamespace(exit_code=0, output=(d / "output.txt").read_text())
