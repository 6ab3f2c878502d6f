import pickle

import numpy as np
import pytest

from greedlab import stats
from greedlab.claims.common import (BOOT_SEED, FLAGGED, INCONCLUSIVE, N_BOOT, REFUTED, SUPPORTED, UNDERPOWERED, Row,
                                    all_agree, any_supports, bootstrap_ci, combine, control_row, log_lead,
                                    verdict_above, verdict_below)


def test_bootstrap_ci_covers_the_mean_and_is_reproducible():
    x = np.random.default_rng(1).normal(2.0, 1.0, 64)
    point, lo, hi = bootstrap_ci(x, np.mean)
    assert lo < point < hi and lo < 2.0 < hi
    assert bootstrap_ci(x, np.mean) == (point, lo, hi)


def _one_resample_at_a_time(groups, stat):
    """The plain form of the bootstrap: one resample, one group after another."""
    rng = np.random.default_rng(BOOT_SEED)
    return np.array([stat(*[g[rng.integers(0, len(g), len(g))] for g in groups]) for _ in range(N_BOOT)])


def test_the_batched_engine_draws_the_plain_loops_resamples():
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 1, 16), rng.normal(0.5, 2, 7)
    x_nan = x.copy()
    x_nan[2] = np.nan
    for groups, stat in [([x], np.mean), ([x], np.median), ([x], np.std), ([x_nan], np.mean),
                         ([x], lambda a: a.max() - a.min()),
                         ([x, y], lambda a, b: a.mean() - b.mean()),
                         ([rng.normal(size=(9, 3))], lambda m: m[:, 0].mean() - m[:, 2].mean())]:
        assert np.allclose(stats.resample_stats(groups, stat), _one_resample_at_a_time(groups, stat),
                           rtol=0, atol=1e-12, equal_nan=True)


def test_each_statistic_goes_to_its_method():
    rng = np.random.default_rng(4)
    x = rng.normal(size=16)
    assert bootstrap_ci(x, np.mean).method == "mean"
    assert bootstrap_ci(x, np.std).method == "sd"
    assert bootstrap_ci((x > 0).astype(float), np.mean).method == "proportion"
    assert bootstrap_ci(x > 0, np.mean).method == "proportion"
    assert bootstrap_ci(x, np.median).method == "bootstrap"
    assert bootstrap_ci([x, x + 1], lambda a, b: a.mean() - b.mean()).method == "bootstrap"
    assert bootstrap_ci([x], np.mean) == bootstrap_ci(x, np.mean)
    assert bootstrap_ci(x, np.mean) == stats.mean_ci(x) and bootstrap_ci(x, np.std) == stats.sd_ci(x)


def test_a_share_of_none_is_not_the_interval_zero_zero():
    point, lo, hi = bootstrap_ci(np.zeros(8), np.mean)
    assert (point, lo) == (0.0, 0.0) and hi == pytest.approx(0.3694, abs=1e-4)


def test_clusters_pass_through_for_one_array_and_for_groups():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=16), rng.normal(size=16)
    worlds = np.repeat(np.arange(8), 2)
    assert bootstrap_ci(x, np.mean, clusters=worlds) == stats.mean_ci(x, worlds)
    assert bootstrap_ci([x], np.std, clusters=[worlds]) == stats.sd_ci(x, worlds)
    ci = bootstrap_ci([x, y], lambda a, b: a.mean() - b.mean(), clusters=[worlds, worlds + 8])
    assert ci[1:] == pytest.approx(stats.diff_ci(x, y, worlds, worlds)[1:], rel=1e-9)
    assert bootstrap_ci([x], np.mean, clusters=worlds) == stats.mean_ci(x, worlds)  # one array for the groups
    assert bootstrap_ci(x[:4], np.mean, clusters=worlds[:4]).reason  # smoke: 2 worlds, no interval, no crash


def test_a_statistic_undefined_on_every_member_is_no_interval_and_no_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ci = bootstrap_ci(np.array([np.nan, np.nan]), np.mean)
        lam = bootstrap_ci(np.full(16, np.nan), lambda a: a.mean())
    assert np.isnan(ci[1]) and np.isnan(ci[2]) and ci.reason
    assert np.isnan(lam[1]) and lam.reason


def test_bootstrap_ci_of_nothing_is_no_interval():
    assert all(np.isnan(v) for v in bootstrap_ci(np.array([]), np.mean))
    assert all(np.isnan(v) for v in bootstrap_ci([np.array([]), np.ones(3)], lambda a, b: 0.0))


def test_verdict_rules_can_go_all_three_ways():
    assert verdict_above(0.1, 0.3, 0.0) == SUPPORTED
    assert verdict_above(-0.3, -0.1, 0.0) == REFUTED
    assert verdict_above(-0.1, 0.1, 0.0) == INCONCLUSIVE
    assert verdict_below(0.1, 0.3, 0.5) == SUPPORTED and verdict_below(0.6, 0.7, 0.5) == REFUTED
    assert verdict_above(float("nan"), float("nan"), 0.0) == INCONCLUSIVE
    assert verdict_below(float("nan"), 1.0, 0.0) == INCONCLUSIVE


def test_a_margin_must_be_cleared_to_support_but_not_to_refute():
    # beyond threshold + margin: supported; above the threshold but not the margin: a small effect
    assert verdict_above(0.25, 0.35, 0.0, margin=0.2) == SUPPORTED
    assert verdict_above(0.05, 0.15, 0.0, margin=0.2) == INCONCLUSIVE
    # below the threshold itself refutes, whatever the margin
    assert verdict_above(-0.3, -0.01, 0.0, margin=0.2) == REFUTED
    assert verdict_below(-0.35, -0.25, 0.0, margin=0.2) == SUPPORTED
    assert verdict_below(-0.15, -0.05, 0.0, margin=0.2) == INCONCLUSIVE
    assert verdict_below(0.01, 0.3, 0.0, margin=0.2) == REFUTED


def test_an_interval_too_wide_for_its_margin_is_underpowered():
    assert verdict_above(-0.3, 0.3, 0.0, margin=0.2) == UNDERPOWERED  # width 0.6 > 0.4
    assert verdict_above(-0.1, 0.25, 0.0, margin=0.2) == INCONCLUSIVE  # width 0.35: it could have decided
    assert verdict_below(-0.3, 0.3, 0.0, margin=0.2) == UNDERPOWERED
    assert verdict_above(-0.3, 0.3, 0.0) == INCONCLUSIVE  # no margin, no notion of power


def test_a_refutation_needs_a_positive_control_and_clean_negative_ones():
    assert combine([SUPPORTED, REFUTED], negative_ok=True, positive_ok=True) == REFUTED
    assert combine([SUPPORTED, REFUTED], negative_ok=True, positive_ok=False) == INCONCLUSIVE
    assert combine([SUPPORTED, REFUTED], negative_ok=True) == INCONCLUSIVE  # no positive control: never refuted
    assert combine([SUPPORTED, REFUTED], negative_ok=False, positive_ok=True) == INCONCLUSIVE


def test_support_needs_every_part_clean_negative_controls_and_no_failed_positive_one():
    assert combine([SUPPORTED, SUPPORTED], True, True) == SUPPORTED
    assert combine([SUPPORTED, SUPPORTED], True) == SUPPORTED
    assert combine([SUPPORTED, SUPPORTED], False, True) == INCONCLUSIVE
    assert combine([SUPPORTED, SUPPORTED], True, False) == INCONCLUSIVE
    assert combine([SUPPORTED, UNDERPOWERED], True, True) == INCONCLUSIVE
    assert combine([], True, True) == INCONCLUSIVE


def test_the_old_call_reads_its_flag_as_the_negative_controls_and_cannot_refute():
    assert combine([SUPPORTED, SUPPORTED], controls_ok=True) == SUPPORTED
    assert combine([SUPPORTED, SUPPORTED], controls_ok=False) == INCONCLUSIVE
    assert combine([SUPPORTED, REFUTED], controls_ok=True) == INCONCLUSIVE
    assert combine([REFUTED], True) == INCONCLUSIVE
    with pytest.raises(TypeError):
        combine([SUPPORTED])
    with pytest.raises(TypeError):
        combine([SUPPORTED], True, controls_ok=True)


def test_underpowered_parts_count_as_inconclusive_across_conditions():
    assert any_supports([UNDERPOWERED, REFUTED]) == INCONCLUSIVE
    assert any_supports([UNDERPOWERED, SUPPORTED]) == SUPPORTED
    assert any_supports([REFUTED, REFUTED]) == REFUTED
    assert all_agree([SUPPORTED, UNDERPOWERED]) == INCONCLUSIVE
    assert all_agree([REFUTED, REFUTED]) == REFUTED and all_agree([SUPPORTED]) == SUPPORTED


def test_rows_say_what_kind_they_are():
    assert Row("c", "s", 1.0, 0.5, 1.5, SUPPORTED).kind == "verdict"
    assert Row("c", "s", 1.0, 0.5, 1.5, "measurement").kind == "measurement"
    assert Row("c", "s", float("nan"), float("nan"), float("nan"), FLAGGED).kind == "flag"
    assert Row("c", "s", 1.0, 0.5, 1.5, "regime: split", kind="measurement").kind == "measurement"
    with pytest.raises(ValueError):
        Row("c", "s", 1.0, 0.5, 1.5, SUPPORTED, kind="opinion")
    neg = control_row("ctrl", "s", (0.01, 0.0, 0.02), True, ["r1"])
    pos = control_row("planted", "s", (0.3, 0.2, 0.4), False, ["r2"], positive=True)
    assert (neg.kind, neg.control, neg.verdict) == ("control", "negative", "control ok")
    assert (pos.kind, pos.control, pos.verdict) == ("control", "positive", "control FAILED")
    d = pos.as_dict()
    assert d["kind"] == "control" and d["control"] == "positive" and d["run_ids"] == ["r2"] and d["ci_low"] == 0.2


def test_a_row_keeps_why_its_interval_has_no_bounds():
    ci = bootstrap_ci(np.arange(3.0), np.mean)  # 3 members: no mean interval
    row = Row.of("c", "mean", ci, verdict_above(ci[1], ci[2], 0.0), ["r"])
    assert row.verdict == INCONCLUSIVE and "fewer than" in row.note and row.value == 1.0
    assert "fewer than" in control_row("c", "s", ci, False, ["r"]).note
    assert pickle.loads(pickle.dumps(ci)).reason == ci.reason


def test_log_lead_censors_never_at_the_end():
    lead = log_lead(np.array([9.0]), np.array([np.inf]), steps=99)
    assert np.isclose(lead[0], np.log10(101) - np.log10(10))


def test_an_interval_is_clipped_to_the_range_its_statistic_must_lie_in():
    from greedlab.claims.common import ACCURACY, RELIANCE

    # two worlds far apart and one odd member: a bootstrap-t interval at four worlds can pass 1
    x = np.array([0.99, 1.0, 1.0, 0.98, 0.2, 0.25, 1.0, 1.0])
    w = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    raw = bootstrap_ci(x, np.mean, clusters=w)
    assert raw[1] < 0 and raw[2] > 1  # [−29.4, 1.19] for an accuracy: what clipping is for
    ci = bootstrap_ci(x, np.mean, clusters=w, support=ACCURACY)
    assert ci[0] == raw[0] and ci[1] == max(raw[1], 0.0) and ci[2] == min(raw[2], 1.0) <= 1.0
    assert stats.Interval(0.5, -3.0, 9.0, "m").within(*RELIANCE)[1:] == (-1.0, 1.0)
    nan = stats.no_verdict(0.5, "m", "too few").within(0, 1)
    assert np.isnan(nan[1]) and np.isnan(nan[2]) and nan.reason == "too few"
