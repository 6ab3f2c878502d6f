"""Bad input, as a new user meets it: each case is one line naming the file or field and what is
accepted, exit code 2, refused before anything trains or is written, and the store's bytes unchanged."""

import hashlib
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from greedlab.cli import app
from greedlab.store import Store

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _digest(path: Path) -> str:
    """The bytes of a file, or of every file under a folder (names included)."""
    h = hashlib.sha256()
    for p in sorted([path] if path.is_file() else path.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(path.parent)).encode() + p.read_bytes())
    return h.hexdigest()


def _refused(res, *words):
    """Exit 2 with one line that holds every word of ``words``."""
    lines = res.output.strip().splitlines()
    assert res.exit_code == 2, res.output
    assert len(lines) == 1, res.output
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture
def store(tmp_path):
    """A store holding one verdict (no training needed), and its digest to compare after."""
    path = tmp_path / "s" / "g.duckdb"
    path.parent.mkdir()
    with Store(path) as st:
        st.replace_verdicts("G1", [dict(condition="overall", statistic="verdict", value=float("nan"),
                                        ci_low=float("nan"), ci_high=float("nan"), verdict="supported",
                                        run_ids=[], version="0")], scale="quick")
    return path


@contextmanager
def _read_only(folder: Path):
    """``folder`` made unwritable, for root too (whom permission bits do not stop: the immutable flag does)."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0
    if immutable and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        folder.chmod(0o755)
        pytest.skip("cannot make a folder unwritable for root here (chattr +i refused)")
    try:
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


# -- run / report / export / sweep: the store must not change ------------------------------------------

def test_report_folder_that_cannot_be_written_is_refused_before_training(store, tmp_path):
    before = _digest(store.parent)
    (tmp_path / "ro").mkdir()
    with _read_only(tmp_path / "ro") as ro:
        line = _refused(_run("run", "--scale", "smoke", "--claim", "G1", "--store", store, "--report", ro / "r"),
                        "--report", str(ro), "writable")
    assert "accepted" in line
    assert _digest(store.parent) == before


def test_report_folder_that_is_a_file_is_refused(store, tmp_path):
    before = _digest(store.parent)
    (tmp_path / "afile").write_text("mine")
    _refused(_run("run", "--scale", "smoke", "--claim", "G1", "--store", store, "--report", tmp_path / "afile"),
             "--report", "not a file")
    assert _digest(store.parent) == before and (tmp_path / "afile").read_text() == "mine"


def test_report_of_a_store_in_a_read_only_folder(store, tmp_path):
    before = _digest(store.parent)
    with _read_only(store.parent):
        # the default report folder sits beside the store: refused, naming the way out
        _refused(_run("report", "--store", store, "--quiet"), "--report", "writable")
        # elsewhere, the report is read from the read-only store
        res = _run("report", "--store", store, "--quiet", "--report", tmp_path / "r")
        assert res.exit_code == 0, res.output
    assert _digest(store.parent) == before
    page = (tmp_path / "r" / "index.html").read_text()
    assert "quick scale" in page and 'id="G1"' in page


def test_config_file_that_is_not_utf8(store, tmp_path):
    before = _digest(store.parent)
    cfg = tmp_path / "latin1.toml"
    cfg.write_bytes("[model]\n# largeur \xe9tendue\nwidth = 24\n".encode("latin-1"))
    _refused(_run("run", "--scale", "smoke", "--claim", "G1", "--store", store, "--config", cfg),
             "config", str(cfg), "UTF-8", "accepted")
    assert _digest(store.parent) == before


def test_grid_file_that_is_not_utf8(store, tmp_path):
    before = _digest(store.parent)
    grid = tmp_path / "grid.toml"
    grid.write_bytes("[train]\n# pas \xe0 pas\nsteps = 10\n".encode("latin-1"))
    _refused(_run("sweep", grid, "--store", store, "--quiet"), "grid file", str(grid), "UTF-8", "accepted")
    assert _digest(store.parent) == before


@pytest.mark.parametrize("args, field", [
    (["--seeds", "0"], "--seeds"),
    (["--steps", "-5"], "--steps"),
    (["--worlds", "0"], "--worlds"),
    (["--scale", "huge"], "scale"),
    (["--claim", "G1", "--claim", "Z9"], "claim"),
])
def test_bad_flags_before_torch_loads(store, args, field):
    before = _digest(store.parent)
    _refused(_run("run", "--store", store, *args), field, "accepted")
    assert _digest(store.parent) == before


def test_seeds_must_split_evenly_over_worlds(store):
    from greedlab.claims.common import Scale

    if "worlds" not in Scale.__dataclass_fields__:
        pytest.skip("this greedlab's scales have no world draws")
    before = _digest(store.parent)
    _refused(_run("run", "--store", store, "--scale", "smoke", "--claim", "G1", "--seeds", "6", "--worlds", "4"),
             "--seeds", "multiple", "accepted")
    assert _digest(store.parent) == before


def test_unknown_claim_is_refused_without_loading_torch(tmp_path):
    """Checked against greedlab.claim_ids, so a typo costs no torch import (7–13 s on a laptop)."""
    code = ("import sys; from typer.testing import CliRunner; from greedlab.cli import app; "
            f"r = CliRunner().invoke(app, ['run', '--claim', 'Z9', '--store', {str(tmp_path / 's.duckdb')!r}]); "
            "print(r.exit_code, 'torch' in sys.modules); print(r.output)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.splitlines()[0] == "2 False", out
    assert "claim" in out and "G1" in out and not (tmp_path / "s.duckdb").exists()


def test_export_never_overwrites_a_users_files_unless_forced(store, tmp_path):
    before = _digest(store.parent)
    out = tmp_path / "out"
    out.mkdir()
    (out / "verdicts.csv").write_text("my own verdicts")
    _refused(_run("export", "--store", store, "--out", out), "--out", "verdicts.csv", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["verdicts.csv"]  # nothing written, not even runs.csv
    assert (out / "verdicts.csv").read_text() == "my own verdicts"
    res = _run("export", "--store", store, "--out", out, "--force")
    assert res.exit_code == 0, res.output
    head = (out / "verdicts.csv").read_text().splitlines()[0]
    assert head.startswith("claim,scale,overrides_hash,overrides,")
    (tmp_path / "ro").mkdir()
    with _read_only(tmp_path / "ro") as ro:
        _refused(_run("export", "--store", store, "--out", ro / "x"), "--out", "not writable")
    assert _digest(store.parent) == before


# -- pragmascope: the data and the output folder must not change ---------------------------------------

def _csv(path: Path, rows: int = 40, blank: bool = False, value: str | None = None, text: bool = False):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 4))
    lines = ["a,b,c,d" + (",label" if text else "")]
    for i, r in enumerate(x):
        cells = [f"{v:.4f}" for v in r]
        if i == 7 and blank:
            cells[1] = ""
        if i == 9 and value is not None:
            cells[2] = value
        lines.append(",".join(cells) + (f",l{i % 3}" if text else ""))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("kind, words", [
    ("blank", ["column 'b'", "data row 8", "--na drop"]),
    ("nan", ["column 'c'", "data row 10", "--na drop"]),
    ("inf", ["column 'c'", "non-finite", "--na drop"]),
    ("-inf", ["column 'c'", "non-finite"]),
])
def test_missing_or_non_finite_cells_are_refused_unless_dropped(tmp_path, kind, words):
    data = _csv(tmp_path / "d.csv", blank=kind == "blank", value=None if kind == "blank" else kind)
    before = _digest(tmp_path)
    _refused(_run("pragmascope", data, "--out", tmp_path / "out"), "data", str(data), "accepted", *words)
    assert _digest(tmp_path) == before and not (tmp_path / "out").exists()
    res = _run("pragmascope", data, "--out", tmp_path / "out", "--na", "drop")
    assert res.exit_code == 0, res.output
    assert "left out 1 of 40 rows" in res.output


@pytest.mark.parametrize("make, words", [
    (lambda d: (d / "folder.csv").mkdir() or d / "folder.csv", ["data", "not a folder"]),
    (lambda d: (d / "fake.parquet").write_text("not parquet") and d / "fake.parquet", ["data", "Parquet", "fake"]),
    (lambda d: (d / "latin1.csv").write_bytes("a,b\n1,\xe9\n".encode("latin-1")) and d / "latin1.csv",
     ["data", "UTF-8", "latin1.csv"]),
    (lambda d: d / "missing.csv", ["data", "existing"]),
    (lambda d: (d / "t.csv").write_text("a,b\nx,y\n") and d / "t.csv", ["data", "two numeric columns"]),
])
def test_data_that_is_not_a_table(tmp_path, make, words):
    data = make(tmp_path)
    before = _digest(tmp_path)
    _refused(_run("pragmascope", data, "--out", tmp_path / "out"), "accepted", *words)
    assert _digest(tmp_path) == before


def test_pragmascope_out_that_cannot_be_written(tmp_path):
    data = _csv(tmp_path / "d.csv")
    (tmp_path / "taken").write_text("a file")
    _refused(_run("pragmascope", data, "--out", tmp_path / "taken"), "--out", "not a file")
    (tmp_path / "ro").mkdir()
    with _read_only(tmp_path / "ro") as ro:
        before = _digest(tmp_path)
        _refused(_run("pragmascope", data, "--out", ro / "out"), "--out", "writable")
        assert _digest(tmp_path) == before


def test_bad_na_policy(tmp_path):
    _refused(_run("pragmascope", _csv(tmp_path / "d.csv"), "--out", tmp_path / "o", "--na", "zero"),
             "--na", "refuse, drop")


def test_python_dash_m_greedlab():
    out = subprocess.run([sys.executable, "-m", "greedlab", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip()
    assert shutil.which("greedlab") is None or subprocess.run(
        ["greedlab", "--version"], capture_output=True, text=True, timeout=60).stdout == out.stdout
