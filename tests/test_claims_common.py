import numpy as np

from greedlab.claims.common import (INCONCLUSIVE, REFUTED, SUPPORTED, bootstrap_ci, combine, log_lead,
                                    verdict_above, verdict_below)


def test_bootstrap_ci_covers_the_mean_and_is_reproducible():
    x = np.random.default_rng(1).normal(2.0, 1.0, 64)
    point, lo, hi = bootstrap_ci(x, np.mean)
    assert lo < point < hi and lo < 2.0 < hi
    assert bootstrap_ci(x, np.mean) == (point, lo, hi)


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
