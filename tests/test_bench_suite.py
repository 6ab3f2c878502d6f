"""The benchmark suite reports every figure it promises, consistently (no timing assertions: speed
is the benchmark's business, not the tests')."""

import io
import math

import pytest
from rich.console import Console
from typer.testing import CliRunner

from greedlab.bench.suite import figure, precision_error, print_suite, suite
from greedlab.cli import app


def test_suite_figures_are_complete_and_consistent(tmp_path):
    r = suite(claims=False, sizes=(1, 2, 4), budget=8, max_steps=4, loop_at=4, loop_models=2, rounds=2)
    assert [row["models"] for row in r["curve"]] == [1, 2, 4]
    for row in r["curve"]:
        assert row["model_steps_per_s"] > 0 and row["peak_rss_mb"] > 0 and row["steps"] == 4
        # the overall rate is a ratio of sums: it lies within the rounds' spread
        assert row["rate_min"] * (1 - 1e-9) <= row["model_steps_per_s"] <= row["rate_max"] * (1 + 1e-9)
    four = r["curve"][-1]["model_steps_per_s"]
    assert math.isclose(r["ensemble_vs_loop"], four / r["loop_model_steps_per_s"])
    assert [g["met"] for g in r["goals"]] == [r["ensemble_vs_loop"] >= 20]
    out = io.StringIO()
    print_suite(r, Console(file=out, width=160))
    assert "model-steps/s" in out.getvalue() and "goals" in out.getvalue()
    assert "min–max over rounds" in out.getvalue() and "distinct runs" in out.getvalue()
    assert figure(r, tmp_path / "curve.png").stat().st_size > 1000


def test_reduced_precision_is_measured_against_float32():
    exact = precision_error("tf32", False, n_models=2, steps=5)  # on CPU tf32 changes no float32 matmul
    assert exact["speedup"] > 0 and exact["max_abs_reliance_error"] >= exact["median_abs_reliance_error"] >= 0
    bf16 = precision_error("bf16", False, n_models=2, steps=5)
    assert 0 < bf16["max_abs_reliance_error"] < 1 and 0 <= bf16["prediction_flip_rate"] < 0.5


@pytest.mark.parametrize("args, field", [
    (["bench", "--precision", "fp8"], "precision"),
    (["bench", "--suite", "--device", "tpu"], "device"),
])
def test_bad_bench_arguments_exit_2(args, field):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and field in res.output and "accepted" in res.output


def test_suite_plan_counts_shared_runs_once():
    from greedlab.bench.suite import suite_plan
    from greedlab.claims import REGISTRY

    plan = suite_plan("smoke")
    rows = {r["claim"]: r for r in plan["claims"]}
    assert set(rows) == set(REGISTRY)
    assert all(r["runs"] >= 1 and r["model_steps"] > 0 for r in rows.values())
    # claims share runs (G1's default world is G3's and H6's), so the distinct total is smaller
    assert plan["runs"] == sum(r["runs"] - r["shared_runs"] for r in rows.values())
    assert plan["runs"] < sum(r["runs"] for r in rows.values())
    assert plan["model_steps"] < sum(r["model_steps"] for r in rows.values())


def test_run_reports_where_its_time_went(smoke_store):
    """The smoke suite (shared fixture) wrote its breakdown: the phases of every run it trained, summed
    over its worker processes, plus its own analysis, figures and report."""
    import json

    from greedlab import timing
    from greedlab.store import Store

    folder, res = smoke_store
    spent = json.loads((folder / "timings.json").read_text())
    phases = spent["phases"]
    assert {"world", "training", "evaluation", "probes", "analysis", "figures", "report"} <= set(phases)
    assert set(phases) <= set(timing.PHASES) and all(v > 0 for v in phases.values())
    assert spent["runs_trained"] == spent["runs"] > 0
    with Store(folder / "g.duckdb", read_only=True) as st:
        stored = st.run_timings()
    assert len(stored) >= spent["runs"]  # every run keeps its own breakdown in the store
    assert sum(t.get("training", 0) for t in stored.values()) == pytest.approx(phases["training"], rel=1e-6, abs=1e-3)
    assert "time:" in res.output and "training" in res.output
