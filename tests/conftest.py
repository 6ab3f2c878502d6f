import os

# Tests run in pytest-xdist worker processes of one thread each (pyproject's addopts): on 2 cores two
# single-threaded processes beat one with two threads, and never stall on a busy core (OpenMP).
# Set before torch is imported by any test module.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
from typer.testing import CliRunner

from greedlab.cli import app


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Every test that reads the smoke suite runs in one worker (``--dist loadgroup``): the suite is a
    session fixture, trained once per worker that asks for it, and ~145 runs is too many to train twice."""
    for item in items:
        if "smoke_store" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("smoke"))


@pytest.fixture(scope="session")
def smoke_store(tmp_path_factory):
    """One smoke-scale run of every claim, shared by the CLI and report tests: (folder, CLI result)."""
    d = tmp_path_factory.mktemp("smoke")
    res = CliRunner().invoke(app, ["run", "--scale", "smoke", "--store", str(d / "g.duckdb"), "--quiet",
                                   "--timings", str(d / "timings.json")])
    assert res.exit_code == 0, res.output
    return d, res
