"""The command line end to end: tiny runs, resume, and one clear error (exit 2) for bad input."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from greedlab.cli import app

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, list(args))


def _count(store: Path, table: str) -> int:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()


def test_run_prints_verdicts_for_every_claim_and_draws_figures(smoke_store):
    d, res = smoke_store
    for claim in ("G1", "G2", "G3"):
        assert claim in res.output
    assert "control" in res.output
    assert "smoke: not evidence" in res.output  # a pipeline check, printed as one
    figs = sorted(p.name for p in (d / "greedlab-report" / "figures" / "smoke").glob("*.png"))
    assert (d / "greedlab-report" / "index.html").exists()
    assert "G1_reliance.png" in figs and "G3_final_target.png" in figs and "G2_onsets.png" in figs
    verdicts = duckdb.connect(str(d / "g.duckdb"), read_only=True).execute(
        "select distinct verdict, scale, overrides from verdicts where condition = 'overall'").fetchall()
    assert {v for (v, _, _) in verdicts} <= {"supported", "refuted", "inconclusive"}
    assert {(s, o) for (_, s, o) in verdicts} == {("smoke", "{}")}


def test_rerunning_a_finished_config_is_a_no_op(smoke_store):
    d, _ = smoke_store
    store = d / "g.duckdb"
    before = (_count(store, "runs"), _count(store, "metrics"))
    res = _run("run", "--scale", "smoke", "--store", str(store), "--quiet", "--claim", "G1")
    assert res.exit_code == 0, res.output
    assert (_count(store, "runs"), _count(store, "metrics")) == before


def test_a_killed_run_restarts_cleanly(smoke_store, tmp_path):
    """A run left 'running' with partial metrics (as SIGKILL leaves it) is redone without duplicates."""
    d, _ = smoke_store
    clean = d / "g.duckdb"
    store = tmp_path / "k.duckdb"
    assert _run("run", "--scale", "smoke", "--store", str(store), "--quiet", "--claim", "G1").exit_code == 0
    con = duckdb.connect(str(store))
    run_id = con.execute("select run_id from runs order by run_id limit 1").fetchone()[0]
    n_full = con.execute("select count(*) from metrics where run_id = ?", [run_id]).fetchone()[0]
    con.execute("update runs set status = 'running' where run_id = ?", [run_id])
    con.execute("delete from metrics where run_id = ? and step > 10", [run_id])
    con.close()
    assert _run("run", "--scale", "smoke", "--store", str(store), "--quiet", "--claim", "G1").exit_code == 0
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("select count(*) from metrics where run_id = ?", [run_id]).fetchone()[0] == n_full
    assert con.execute("select status from runs where run_id = ?", [run_id]).fetchone()[0] == "done"
    dup = con.execute("select count(*) from (select run_id, seed, step, instrument, feature, count(*) c "
                      "from metrics group by all having c > 1)").fetchone()[0]
    assert dup == 0
    # same config and seeds, same numbers as the uninterrupted store
    a = con.execute("select sum(value) from metrics where run_id = ?", [run_id]).fetchone()[0]
    con.close()
    b = duckdb.connect(str(clean), read_only=True).execute(
        "select sum(value) from metrics where run_id = ?", [run_id]).fetchone()[0]
    assert a == pytest.approx(b, rel=1e-9)


def test_export_writes_the_three_tables(smoke_store, tmp_path):
    d, _ = smoke_store
    res = _run("export", "--store", str(d / "g.duckdb"), "--out", str(tmp_path / "x"), "--format", "csv")
    assert res.exit_code == 0, res.output
    for t in ("runs", "metrics", "verdicts"):
        assert (tmp_path / "x" / f"{t}.csv").stat().st_size > 0


@pytest.mark.parametrize("args, field", [
    (["run", "--claim", "Z9"], "claim"),
    (["run", "--scale", "huge"], "scale"),
    (["run", "--device", "tpu"], "device"),
    (["export", "--out", "x", "--format", "xlsx"], "format"),
    (["bench", "--models", "0"], "models"),
])
def test_bad_arguments_name_the_field_and_exit_2(args, field, tmp_path):
    res = _run(*args[:1], "--store", str(tmp_path / "s.duckdb"), *args[1:]) if args[0] != "bench" else _run(*args)
    assert res.exit_code == 2
    assert field in res.output and "accepted" in res.output
    assert not (tmp_path / "s.duckdb").exists()


def test_unwritable_store_path_is_one_clear_error(tmp_path):
    res = _run("run", "--scale", "smoke", "--quiet", "--store", str(tmp_path / "no" / "such" / "g.duckdb"))
    assert res.exit_code == 2 and "error" in res.output


def test_corrupt_store_file_is_left_untouched(tmp_path):
    bad = tmp_path / "g.duckdb"
    bad.write_bytes(b"this is not a database" * 100)
    before = bad.read_bytes()
    res = _run("run", "--scale", "smoke", "--quiet", "--claim", "G1", "--store", str(bad))
    assert res.exit_code == 2 and "error" in res.output
    assert bad.read_bytes() == before


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "greedlab.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip()


def test_claim_ids_and_scales_match_the_registry():
    """greedlab.claim_ids lets the CLI refuse a typo before torch loads; it must not drift."""
    from greedlab.claim_ids import CLAIM_IDS, SCALE_NAMES, describe
    from greedlab.claims import REGISTRY
    from greedlab.claims.common import SCALES

    assert CLAIM_IDS == tuple(REGISTRY) and SCALE_NAMES == tuple(SCALES)
    assert describe() == [dict(id=c, summary=m.SUMMARY, extras=getattr(m, "EXTRAS", {})) for c, m in REGISTRY.items()]


def test_list_shows_every_claim_and_what_the_store_holds(tmp_path):
    from greedlab.claims import REGISTRY
    from greedlab.store import Store

    res = _run("list", "--store", str(tmp_path / "none.duckdb"))
    assert res.exit_code == 0, res.output
    for c, m in REGISTRY.items():
        assert f"│ {c} " in res.output
    assert "stored" not in res.output
    for m in REGISTRY.values():
        for package, extra in getattr(m, "EXTRAS", {}).items():
            assert f"{extra} ({package}" in res.output
    with Store(tmp_path / "s.duckdb") as st:
        row = dict(condition="overall", statistic="verdict", value=0.0, ci_low=0.0, ci_high=0.0, verdict="supported",
                   run_ids=[], version="0")
        st.replace_verdicts("G2", [row], scale="quick")
        st.replace_verdicts("G2", [row], scale="smoke", overrides={"model": {"width": 8}})
    res = _run("list", "--store", str(tmp_path / "s.duckdb"))
    assert res.exit_code == 0, res.output
    assert "smoke*, quick" in next(line for line in res.output.splitlines() if "│ G2 " in line)


def test_help_shows_the_config_sections():
    res = _run("run", "--help")
    assert "[world] [model] [train]" in " ".join(res.output.split())
    assert all(f in res.output for f in ("--seeds", "--worlds", "--steps"))


def test_ctrl_c_says_how_much_is_stored_and_exits_130(tmp_path, monkeypatch):
    import greedlab.experiment as experiment

    real, calls = experiment.run, []

    def interrupted_second(spec, store, **kw):
        calls.append(spec.run_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(spec, store, **kw)

    monkeypatch.setattr(experiment, "run", interrupted_second)
    store = tmp_path / "s.duckdb"
    # one process: the interrupt is raised by the second run trained here (--workers 2 trains in children)
    res = _run("run", "--scale", "smoke", "--claim", "G1", "--store", str(store), "--quiet", "--workers", "1")
    assert res.exit_code == 130, res.output
    n = res.output.strip().splitlines()[-1]
    assert n.startswith("interrupted: 1 of ") and n.endswith(" runs stored; rerun to resume")
    assert _count(store, "runs") == 1 and _count(store, "verdicts") == 0


def test_verdicts_are_kept_per_scale_and_overrides(smoke_store, tmp_path):
    """A run at another setting adds a verdict set; it never replaces the smoke run's, and the report
    shows both, newest first, without a progress bar for training it does not do."""
    d, _ = smoke_store
    store = tmp_path / "g.duckdb"
    shutil.copy(d / "g.duckdb", store)
    before = duckdb.connect(str(store), read_only=True).execute(
        "select * exclude (created_at) from verdicts order by all").fetchall()
    res = _run("run", "--scale", "smoke", "--claim", "G1", "--seeds", "2", "--worlds", "1", "--steps", "30",
               "--store", str(store), "--quiet", "--report", str(tmp_path / "r1"))
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("select * exclude (created_at) from verdicts where overrides = '{}' order by all"
                       ).fetchall() == before
    (new,) = con.execute("select distinct overrides from verdicts where overrides != '{}'").fetchall()
    con.close()
    assert json.loads(new[0]) == {"scale": {"seeds": 2, "worlds": 1, "steps": 30}}
    steps = {json.loads(c).get("train", {}).get("steps") for (c,) in duckdb.connect(
        str(store), read_only=True).execute("select config_json from runs").fetchall()}
    assert 30 in steps
    res = _run("report", "--store", str(store), "--report", str(tmp_path / "r"))
    assert res.exit_code == 0, res.output
    assert "runs to train" not in res.output and "/119" not in res.output  # nothing trains, so no such bar
    page = (tmp_path / "r" / "index.html").read_text()
    newest, older = page.index("--seeds 2"), page.index("Summary: smoke scale")
    assert page.index("In this store") < page.index('id="set-smoke-') < page.index('id="set-smoke"')
    assert "smoke: not evidence" in page and newest > 0 and older > 0
    only = _run("report", "--store", str(store), "--report", str(tmp_path / "r2"), "--quiet", "--seeds", "2",
                "--worlds", "1", "--steps", "30", "--scale", "smoke", "--claim", "G1")
    assert only.exit_code == 0, only.output
    assert "In this store" not in (tmp_path / "r2" / "index.html").read_text()
    out = _run("export", "--store", str(store), "--out", str(tmp_path / "x"))
    assert out.exit_code == 0, out.output
    exported = tmp_path / "x" / "verdicts.csv"
    rows = duckdb.connect().execute(f"select distinct scale, overrides from read_csv('{exported}')").fetchall()
    # compared as JSON: the CSV reader may hand the column back with its keys in another order
    assert {(s, json.dumps(json.loads(o), sort_keys=True)) for s, o in rows} == \
        {("smoke", "{}"), ("smoke", json.dumps(json.loads(new[0]), sort_keys=True))}


@pytest.mark.parametrize("args, field", [
    (["--set", "model.width=-3"], "model.width"),
    (["--set", "world.n_latents=4"], "world.proxies[0].latents"),   # the default proxy a_4 no longer exists
    (["--set", "world.noise=-1"], "world.noise"),
    (["--set", "train.optimizer=lbfgs"], "train.optimizer"),
    (["--set", "model.colour=red"], "config key"),
    (["--set", "width"], "--set"),
])
def test_bad_config_values_fail_before_anything_is_stored(args, field, tmp_path):
    store = tmp_path / "s.duckdb"
    res = _run("run", "--quiet", "--scale", "smoke", "--store", str(store), *args)
    assert res.exit_code == 2, res.output
    assert field in res.output and "accepted" in res.output
    assert not store.exists()


def test_config_file_overrides_reach_the_runs(tmp_path):
    cfg = tmp_path / "g.toml"
    cfg.write_text("[model]\nwidth = 24\n[train]\noptimizer = 'sgd'\n")  # not lr: G1's real-data arms set their own
    store = tmp_path / "s.duckdb"
    res = _run("run", "--quiet", "--scale", "smoke", "--claim", "G1", "--store", str(store), "--config", str(cfg),
               "--set", "train.momentum=0.9")
    assert res.exit_code == 0, res.output
    configs = [json.loads(c) for (c,) in duckdb.connect(str(store), read_only=True).execute(
        "select config_json from runs").fetchall()]
    assert configs and all(c["train"]["optimizer"] == "sgd" and c["train"]["momentum"] == 0.9 for c in configs)
    # [model] describes the hierarchy world's MLP; real-data runs keep their own CNNs
    hierarchy = [c for c in configs if "n_latents" in c["world"]]
    assert hierarchy and all(c["model"]["width"] == 24 for c in hierarchy)
    assert any(c["model"].get("family") == "cnn" for c in configs)
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nwidth=")
    res = _run("run", "--quiet", "--scale", "smoke", "--store", str(store), "--config", str(bad))
    assert res.exit_code == 2 and "config" in res.output
