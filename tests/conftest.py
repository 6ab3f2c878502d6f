import pytest
from typer.testing import CliRunner

from greedlab.cli import app


@pytest.fixture(scope="session")
def smoke_store(tmp_path_factory):
    """One smoke-scale run of every claim, shared by the CLI and report tests: (folder, CLI result)."""
    d = tmp_path_factory.mktemp("smoke")
    res = CliRunner().invoke(app, ["run", "--scale", "smoke", "--store", str(d / "g.duckdb"), "--quiet",
                                   "--timings", str(d / "timings.json")])
    assert res.exit_code == 0, res.output
    return d, res
