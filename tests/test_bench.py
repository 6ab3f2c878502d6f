import io
import math

from rich.console import Console

from greedlab.bench.throughput import bench, print_bench

RATES = ("ensemble_model_steps_per_s", "loop_model_steps_per_s", "batched_model_steps_per_s",
         "vmap_model_steps_per_s", "achieved_flops", "matmul_flops", "peak_rss_mb")


def test_bench_reports_consistent_figures():
    # figures only, no timing assertions: speed is the benchmark's business, not the tests'
    r = bench(n_models=4, steps=5, loop_models=2, width=32)
    for k in RATES:
        assert r[k] > 0 and math.isfinite(r[k]), k
    assert math.isclose(r["ensemble_vs_loop"], r["ensemble_model_steps_per_s"] / r["loop_model_steps_per_s"])
    assert math.isclose(r["fraction_of_matmul_peak"], r["achieved_flops"] / r["matmul_flops"])
    assert math.isclose(r["batched_vs_vmap"], r["batched_model_steps_per_s"] / r["vmap_model_steps_per_s"])
    assert (r["n_models"], r["steps"], r["loop_models"], r["device"]) == (4, 5, 2, "cpu")
    assert r["threads"] >= 1 and r["torch_version"]

    out = io.StringIO()
    print_bench(r, Console(file=out, width=120))
    assert "ensemble vs per-model loop" in out.getvalue() and "fraction of matmul peak" in out.getvalue()
