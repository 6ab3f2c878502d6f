import numpy as np

from greedlab.claims.common import (BOOT_SEED, INCONCLUSIVE, N_BOOT, REFUTED, SUPPORTED, bootstrap_ci, combine, log_lead,
                                    verdict_above, verdict_below)


def test_bootstrap_ci_covers_the_mean_and_is_reproducible():
    x = np.random.default_rng(1).normal(2.0, 1.0, 64)
    point, lo, hi = bootstrap_ci(x, np.mean)
    assert lo < point < hi and lo < 2.0 < hi
    assert bootstrap_ci(x, np.mean) == (point, lo, hi)


def _one_resample_at_a_time(groups, stat, level=0.95):
    """The plain form of the bootstrap: one resample, one group after another."""
    rng = np.random.default_rng(BOOT_SEED)
    boots = [stat(*[g[rng.integers(0, len(g), len(g))] for g in groups]) for _ in range(N_BOOT)]
    a = (1 - level) / 2
    return tuple(float(v) for v in np.nanquantile(boots, [a, 1 - a]))


def test_the_batched_bootstrap_gives_the_plain_loops_intervals():
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 1, 16), rng.normal(0.5, 2, 7)
    x_nan = x.copy()
    x_nan[2] = np.nan
    for groups, stat in [([x], np.mean), ([x], np.median), ([x], np.std), ([x_nan], np.mean),
                         ([x], lambda a: a.max() - a.min()),
                         ([x, y], lambda a, b: a.mean() - b.mean()),
                         ([rng.normal(size=(9, 3))], lambda m: m[:, 0].mean() - m[:, 2].mean())]:
        _, lo, hi = bootstrap_ci(groups if len(groups) > 1 else groups[0], stat)
        assert np.allclose((lo, hi), _one_resample_at_a_time(groups, stat), rtol=0, atol=1e-12, equal_nan=True)


def test_a_statistic_undefined_on_every_resample_is_no_interval_and_no_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        point, lo, hi = bootstrap_ci(np.array([np.nan, np.nan]), np.mean)
    assert np.isnan(lo) and np.isnan(hi)


def test_bootstrap_ci_of_nothing_is_no_interval():
    assert all(np.isnan(v) for v in bootstrap_ci(np.array([]), np.mean))


def test_verdict_rules_can_go_all_three_ways():
    assert verdict_above(0.1, 0.3, 0.0) == SUPPORTED
    assert verdict_above(-0.3, -0.1, 0.0) == REFUTED
    assert verdict_above(-0.1, 0.1, 0.0) == INCONCLUSIVE
    assert verdict_below(0.1, 0.3, 0.5) == SUPPORTED and verdict_below(0.6, 0.7, 0.5) == REFUTED


def test_a_failed_control_makes_a_supported_claim_inconclusive_but_cannot_hide_a_refutation():
    assert combine([SUPPORTED, SUPPORTED], controls_ok=True) == SUPPORTED
    assert combine([SUPPORTED, SUPPORTED], controls_ok=False) == INCONCLUSIVE
    assert combine([SUPPORTED, REFUTED], controls_ok=False) == REFUTED


def test_log_lead_censors_never_at_the_end():
    lead = log_lead(np.array([9.0]), np.array([np.inf]), steps=99)
    assert np.isclose(lead[0], np.log10(101) - np.log10(10))
