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
    four = r["curve"][-1]["model_steps_per_s"]
    assert math.isclose(r["ensemble_vs_loop"], four / r["loop_model_steps_per_s"])
    assert [g["met"] for g in r["goals"]] == [r["ensemble_vs_loop"] >= 20]
    out = io.StringIO()
    print_suite(r, Console(file=out, width=160))
    assert "model-steps/s" in out.getvalue() and "goals" in out.getvalue()
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
