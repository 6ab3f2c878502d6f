import math

from greedlab.bench import bench


def test_bench_reports_consistent_figures():
    r = bench(n_models=4, steps=5, loop_models=2, width=32)
    for k in ("ensemble_model_steps_per_s", "loop_model_steps_per_s", "vmap_model_steps_per_s", "achieved_flops",
              "matmul_flops", "peak_rss_mb"):
        assert r[k] > 0 and math.isfinite(r[k]), k
    assert math.isclose(r["ensemble_vs_loop"], r["ensemble_model_steps_per_s"] / r["loop_model_steps_per_s"])
    assert math.isclose(r["fraction_of_matmul_peak"], r["achieved_flops"] / r["matmul_flops"])
    assert math.isclose(r["batched_vs_vmap"], r["ensemble_model_steps_per_s"] / r["vmap_model_steps_per_s"])
