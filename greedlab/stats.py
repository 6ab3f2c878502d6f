"""Confidence intervals a referee accepts: one method per kind of statistic, each checked for coverage.

Every method is a plain function returning an :class:`Interval`, a ``(point, low, high)`` tuple
that also carries the method's name and, when it gives no bounds, the reason. Runs span several
worlds (independent data draws) with seeds nested inside each; members of one world are not
independent, so every method takes ``clusters`` (a world id per member) and treats the *world* as
the unit of replication. Without ``clusters`` each member is its own world.

A method is only allowed to answer at sizes where it was shown to cover: ``coverage_table()``
simulates each one on known distributions (normal, skewed, bimodal, and worlds whose between-world
variance matches the within-world variance) at the project's sample sizes, and ``MIN_CLUSTERS``
holds the fewest worlds at which every distribution of its panel was covered at least 93% of the
time by the nominal 95% interval. Below that the method returns NaN bounds and says why: a
verdict is then "inconclusive", never a false one.

Measured (``summarize_coverage(coverage_table())``, 2,000 data sets per distribution, seed 7):
the worst coverage of the nominal 95% interval over each method's panel, where it occurred, and
the largest share of intervals lying wholly below the truth. "3", "8", ... are members without
worlds; "4x2" is 4 worlds of 2 seeds. The percentile bootstrap these replace covered 0.75, 0.87
and 0.92 at 3, 8 and 16 members (means), and its SD interval lay below the truth 34% of the time
at 8::

    method     n      worst  of                                          low≤  answers
    mean       3      0.602  bimodal.25                                 0.388  no verdict
    mean       8      0.891  bimodal.25                                 0.107  no verdict
    mean       16     0.950  exponential                                0.037  yes
    mean       64     0.946  exponential                                0.031  yes
    mean       4x2    0.934  exponential worlds, exponential seeds      0.054  yes
    mean       8x2    0.948  exponential worlds, exponential seeds      0.043  yes
    mean       16x4   0.947  exponential worlds, exponential seeds      0.040  yes
    difference 8      0.926  bimodal.25                                 0.072  no verdict
    difference 16     0.938  exponential                                0.048  yes
    difference 64     0.946  exponential                                0.031  yes
    difference 4x2    0.946  exponential worlds, exponential seeds      0.046  yes
    difference 8x2    0.940  exponential worlds, exponential seeds      0.041  yes
    difference 16x4   0.931  exponential worlds, exponential seeds      0.044  yes
    ratio      8      0.942  bimodal.5, paired                          0.043  yes
    ratio      16     0.934  bimodal.25, paired                         0.040  yes
    ratio      64     0.940  exponential, paired                        0.036  yes
    ratio      4x2    0.942  normal worlds, normal seeds, paired        0.036  yes
    ratio      8x2    0.950  normal worlds, normal seeds                0.038  yes
    ratio      16x4   0.942  exponential worlds, exponential seeds, pa  0.038  yes
    sd         8      0.899  bimodal.25                                 0.101  no verdict
    sd         16     0.953  gamma4                                     0.036  yes
    sd         64     0.934  gamma4                                     0.045  yes
    sd         4x2    0.992  gamma4 worlds, gamma4 seeds                0.008  yes
    sd         8x2    0.974  gamma4 worlds, gamma4 seeds                0.024  yes
    sd         16x4   0.956  gamma4 worlds, gamma4 seeds                0.039  yes
    proportion 3      0.989  p=0.2                                      0.000  yes
    proportion 8      0.992  p=0.2                                      0.003  yes
    proportion 16     0.980  p=0.5                                      0.011  yes
    proportion 64     0.955  p=0.2                                      0.020  yes
    proportion 4x2    0.997  p=0.2                                      0.000  yes
    proportion 8x2    0.977  p=0.5                                      0.013  yes
    proportion 16x4   0.939  p=0.2                                      0.047  yes
    spearman   3      0.821  bimodal.25, slope 0.5                      0.014  no verdict
    spearman   8      0.933  bimodal.25, slope 0.5                      0.019  yes
    spearman   16     0.954  bimodal.5, slope 0.5                       0.026  yes
    spearman   64     0.951  normal, slope 0.5                          0.025  yes
    spearman   4x2    0.963  normal worlds, normal seeds, slope 0.0     0.019  yes
    spearman   8x2    0.956  normal worlds, normal seeds, slope 0.5     0.020  yes
    spearman   16x4   0.948  normal worlds, normal seeds, slope 0.5     0.020  yes

Notes on the figures. The generic world bootstrap (``cluster_bootstrap_ci``) computes exactly the
mean's and the difference's intervals on those statistics (tested), so their rows are its rows.
Every bootstrap-t bound is held to at most ``STUDENT_CAP`` (2) × Student's half-width from the
point (the figures above are with it; without it they were 0.999 at 3 members, 0.951 at 16 and 0.939
at 4x2, and at 4 worlds the interval was over 8× Student's width in a tenth of data sets).
At 3 members the mean's interval is capped on nearly every data set (and covers 0.60: no verdict). The failures at 8
members are the bimodal case with a quarter of runs in the second mode: 10% of samples of 8 hold
none of them, and no interval built from such a sample reaches the truth. Four worlds do answer;
the mean's interval there is a median 1.34 times as wide as Student's t (the bootstrap-t pays for
not assuming normality), at most 2 times. The SD panel stops at kurtosis 4.5 (gamma(4)); with exponential data
(kurtosis 9) its coverage is 0.94, 0.88, 0.92 at 8, 16, 64 members and 0.94, 0.92 at 8x2, 16x4
(lying below the truth 5–11% of the time): dispersion verdicts on heavy-tailed quantities are
not protected by this method. Spearman's sizes are per level, three levels (its threshold counts
worlds over all levels).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import stats as sps

LEVEL = 0.95
N_BOOT = 2000
STUDENT_CAP = 2.0
"""A bootstrap-t bound lies at most this many times Student's half-width (t_{G−1}·se) from the point
(``_boot_t_core``): the bootstrap-t's studentized resamples explode at few worlds."""
BOOT_SEED = 20240601  # fixed: the same measurements always give the same interval


class Interval(tuple):
    """``(point, low, high)``, unpacked by every caller as before, plus ``method`` (which function
    made it) and ``reason`` (why the bounds are NaN; empty when they are not)."""

    def __new__(cls, point: float, low: float, high: float, method: str = "", reason: str = ""):
        self = tuple.__new__(cls, (float(point), float(low), float(high)))
        self.method, self.reason = method, reason
        return self

    def __getnewargs__(self):  # pickling: tuple's default would call __new__ with one argument
        return (*self, self.method, self.reason)

    point = property(lambda self: self[0])
    low = property(lambda self: self[1])
    high = property(lambda self: self[2])

    @property
    def ok(self) -> bool:
        """Whether there are bounds to decide on."""
        return not (math.isnan(self[1]) or math.isnan(self[2]))

    def within(self, lo: float, hi: float) -> "Interval":
        """This interval clipped to a statistic's range [lo, hi] (a reliance lies in [−1, 1], an
        accuracy in [0, 1]). Clipping to where the true value must lie cannot lower coverage; it
        removes what a bootstrap-t interval at a handful of worlds can show past the range (an
        accuracy's interval reaching 8.45). A NaN bound stays NaN."""
        clip = (lambda v: v if math.isnan(v) else min(max(v, lo), hi))
        return Interval(self[0], clip(self[1]), clip(self[2]), self.method, self.reason)

    def __repr__(self) -> str:
        why = f", reason={self.reason!r}" if self.reason else ""
        return f"Interval({self[0]!r}, {self[1]!r}, {self[2]!r}, method={self.method!r}{why})"


def no_verdict(point: float, method: str, reason: str) -> Interval:
    return Interval(point, float("nan"), float("nan"), method, reason)


# Fewest worlds at which each method covered every distribution of its panel (``coverage_table``),
# as (without clusters: members, with clusters of 2+ members: worlds). Sizes between the planned
# ones were not measured, so they count as the next planned size up.
MIN_CLUSTERS: dict[str, tuple[int, int]] = {
    "mean": (16, 4),        # 8 members: 0.89 when a quarter of runs fall in a second mode
    "difference": (16, 4),  # 8 members: 0.93 on the same
    "ratio": (8, 4),
    "spearman": (24, 12),   # worlds over all levels: 3 levels × 8 members, 3 × 4 worlds
    "sd": (16, 4),          # 8 members: 0.90 on the bimodal case
    "proportion": (1, 4),   # Clopper–Pearson is exact at any n; with worlds from 4 on
    "bootstrap": (16, 4),   # on means and differences it is mean_ci's and diff_ci's interval
}


def _refusal(method: str, n_clusters: int, clustered: bool) -> str:
    need = MIN_CLUSTERS[method][int(clustered)]
    if n_clusters >= need:
        return ""
    unit = "worlds" if clustered else "members"
    return f"{method}: {n_clusters} {unit}, fewer than the {need} at which its interval was shown to cover"


# -- clusters ---------------------------------------------------------------------------------------

def _codes(n: int, clusters) -> tuple[np.ndarray, int]:
    """Cluster ids as codes 0..G-1 (first appearance order is irrelevant), and G."""
    if clusters is None:
        return np.arange(n), n
    clusters = np.asarray(clusters)
    if clusters.shape != (n,):
        raise ValueError(f"clusters must give one id per member: {clusters.shape} ids for {n} members")
    _, codes = np.unique(clusters, return_inverse=True)
    return codes.ravel(), int(codes.max()) + 1 if n else 0


def _indicator(codes: np.ndarray, g: int) -> np.ndarray:
    """(N, G) 0/1 matrix: member i belongs to world j. Cluster sums of a batch are one product."""
    m = np.zeros((len(codes), g))
    m[np.arange(len(codes)), codes] = 1.0
    return m


def _pseudo_values(x: np.ndarray, ind: np.ndarray) -> np.ndarray:
    """(..., G) per-world values whose plain mean is the member mean and whose spread gives the
    cluster-robust variance of it: v_g = x̄ + G·n_g·(ȳ_g − x̄)/N. With equal world sizes these are the
    world means; with unequal ones they are the linearization of the ratio estimator Σx/N, whose
    variance Σv²/(G(G−1)) is the usual cluster-robust (CR1) variance."""
    sizes = ind.sum(axis=0)
    n, g = ind.shape
    xbar = x.mean(axis=-1, keepdims=True)
    ybar = (x @ ind) / sizes
    return xbar + g * sizes * (ybar - xbar) / n


# -- the world-level bootstrap-t ---------------------------------------------------------------------

def _counts(idx: np.ndarray, g: int) -> np.ndarray:
    """(B, g) how often each world is drawn in each resample of an index block (B, g)."""
    c = np.zeros((idx.shape[0], g))
    np.add.at(c, (np.repeat(np.arange(idx.shape[0]), idx.shape[1]), idx.ravel()), 1.0)
    return c


def _mean_var(v: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per resample (counts c, (B, G)) of per-world values v (..., G): the mean and the squared
    standard error of the mean, s²/G. Batch: (..., B)."""
    g = v.shape[-1]
    c = c.astype(v.dtype)  # the coverage simulation runs in float32, a single interval in float64
    m = v @ c.T / g
    m2 = (v ** 2) @ c.T / g
    return m, np.maximum(m2 - m ** 2, 0.0) / (g - 1)


def _boot_t_core(point, se, boots, boot_se, level: float = LEVEL, df: int | None = None):
    """Bootstrap-t: the studentized resamples t* = (θ* − θ)/se* stand in for the unknown
    distribution of (θ − truth)/se, so the interval is [θ − q₉₇.₅·se, θ − q₂.₅·se]. Unlike the
    percentile interval it is as wide as the sampling variability of the spread itself demands
    and follows the statistic's skew. A resample with no spread has t* = ±inf (0 if it equals
    the point); the quantiles are taken outward (lower/higher order statistics), so such resamples
    only widen the interval. Batch: point, se (R,), boots, boot_se (R, B)."""
    point, se = np.asarray(point, dtype=float), np.asarray(se, dtype=float)
    d = boots - point[..., None].astype(boots.dtype)
    # A resample whose spread is rounding noise (worlds equal but for their last bits, as statistics
    # summed in floating point give) has no spread: left as it was, its t* = d/1e-8 was finite and
    # enormous, and such resamples put the bound at −7e5 for worlds of 1.0 and 0.5 (tests/test_stats.py).
    # A variance summed as E[x²] − E[x]² carries noise of ~1e-16·x², a standard error of ~1e-8·|x|;
    # the metrics themselves are float32 (7 digits), so a spread below 1e-7 of the values' size is noise.
    noise = 1e-7 * np.abs(boots) + 1e-8 * se[..., None]
    boot_se = np.where(boot_se <= noise, 0.0, boot_se)
    with np.errstate(all="ignore"):
        t = d / boot_se  # ±inf where a resample has no spread
    undefined = np.isnan(t)
    if undefined.any():
        t[undefined & (d == 0)] = 0.0  # no spread and equal to the point; NaN stays for NaN resamples
        undefined = np.isnan(t)
    a = (1 - level) / 2
    with np.errstate(all="ignore"):
        if undefined.any():  # an undefined statistic on some resamples: quantiles of the rest
            q_lo = np.nanquantile(t, a, axis=-1, method="lower")
            q_hi = np.nanquantile(t, 1 - a, axis=-1, method="higher")
        else:  # the same order statistics, by partial sort (a batch of replicates at once)
            n = t.shape[-1]
            k_lo, k_hi = math.floor(a * (n - 1)), math.ceil((1 - a) * (n - 1))
            part = np.partition(t, [k_lo, k_hi], axis=-1)
            q_lo, q_hi = part[..., k_lo], part[..., k_hi]
        if df is not None and df >= 1:
            # Many worlds with one value and one apart (accuracies of 1.0 but one seed): more than 2.5%
            # of resamples miss the odd world, have no spread and t* = ±inf, which made the bound
            # infinite (−inf for [60]*15 + [50]). There the studentized distribution is not
            # estimable; Student's t on the world values bounds that side instead, never narrower
            # than the finite resamples say.
            from scipy.stats import t as student
            crit = student.ppf(1 - a, df)
            finite = np.where(np.isfinite(t), t, np.nan)
            with np.errstate(all="ignore"):
                top, bottom = np.nanmax(finite, axis=-1), np.nanmin(finite, axis=-1)
            q_hi = np.where(np.isposinf(q_hi), np.fmax(crit, np.nan_to_num(top, nan=crit)), q_hi)
            q_lo = np.where(np.isneginf(q_lo), np.fmin(-crit, np.nan_to_num(bottom, nan=-crit)), q_lo)
            # Few worlds: resamples that draw one or two worlds over and over have a spread far below
            # the sample's, so their t* are huge and set the quantiles. At 4 worlds of 2 normal seeds
            # the interval was ≥ 8× as wide as Student's in 10% of data sets and ≥ 72× in 1%
            # (controls failed on width alone: [−0.014, 1.87] around 0.017). Each side is held to at
            # most STUDENT_CAP × Student's half-width; the interval is then the intersection of two
            # intervals, missing only where one of them misses. Measured at 4×2 (1,000 data sets):
            # coverage 0.955 normal, 0.943 exponential (uncapped 0.956, 0.947; Student alone 0.961,
            # 0.914), median width 1.34× Student's (uncapped 2.0–2.3×), never over 2×.
            cap = STUDENT_CAP * crit
            q_hi, q_lo = np.minimum(q_hi, cap), np.maximum(q_lo, -cap)
        return point - q_hi * se, point - q_lo * se


# -- mean and differences ----------------------------------------------------------------------------

def _mean_core(v: np.ndarray, level: float = LEVEL, seed: int = BOOT_SEED):
    """World bootstrap-t of the mean of per-world values v (..., G): (point, low, high)."""
    g = v.shape[-1]
    bm, bv = _mean_var(v, _counts(_draw([g], seed=seed), g))
    point, var = v.mean(axis=-1), v.var(axis=-1, ddof=1) / g
    lo, hi = _boot_t_core(point, np.sqrt(var), bm, np.sqrt(bv), level, df=g - 1)
    return point, lo, hi


def _welch_core(va: np.ndarray, vb: np.ndarray, level: float = LEVEL, seed: int = BOOT_SEED):
    """World bootstrap-t of mean(a) − mean(b) for two independent sets of per-world values, each
    resampled on its own; the standard error is Welch's, √(s_a²/G_a + s_b²/G_b)."""
    ga, gb = va.shape[-1], vb.shape[-1]
    idx = _draw([ga, gb], seed=seed)
    ma, wa = _mean_var(va, _counts(idx[:, :ga], ga))
    mb, wb = _mean_var(vb, _counts(idx[:, ga:], gb))
    point = va.mean(axis=-1) - vb.mean(axis=-1)
    var = va.var(axis=-1, ddof=1) / ga + vb.var(axis=-1, ddof=1) / gb
    lo, hi = _boot_t_core(point, np.sqrt(var), ma - mb, np.sqrt(wa + wb), level, df=min(ga, gb) - 1)
    return point, lo, hi


def _finite(x: np.ndarray, method: str) -> str:
    if len(x) == 0:
        return f"{method}: no members"
    if not np.isfinite(x).all():
        return f"{method}: {int((~np.isfinite(x)).sum())} of {len(x)} members undefined (NaN or inf)"
    return ""


def _screen(x: np.ndarray, clusters, method: str) -> tuple[np.ndarray | None, int, str]:
    """(world codes, number of worlds, why ``method`` gives no interval: undefined members or too few
    worlds — "" when it does) for one sample of per-member values."""
    why = _finite(x, method)
    if why:
        return None, 0, why
    codes, g = _codes(len(x), clusters)
    return codes, g, _refusal(method, g, g < len(x))


NO_SPREAD = "every world gave the same value: the data cannot bound how much a new world would differ"


def mean_ci(x, clusters=None, level: float = LEVEL) -> Interval:
    """Mean of per-member values (also a paired difference: pass a − b per member).

    Why this method: worlds, not members, are independent, so the unit resampled is the world
    (its mean, or with unequal numbers of seeds per world the cluster-robust linearization of the
    member mean). The interval is the bootstrap-t of the mean: the percentile bootstrap it
    replaces is too narrow at small n (it covered 0.75 at n = 3, 0.87 at n = 8, because a
    resample's spread is the sample's, shrunk), and a plain t-interval, exact for normal data,
    misses skewed data on one side (0.92 for exponential worlds at 4×2 even with Hall's skewness
    correction, where the bootstrap-t covers 0.94). Fewer worlds than MIN_CLUSTERS["mean"]: no interval (see the coverage figures)."""
    x = np.asarray(x, dtype=float).ravel()
    point = float(x.mean()) if len(x) else float("nan")
    codes, g, why = _screen(x, clusters, "mean")
    if why:
        return no_verdict(point, "mean", why)
    v = _pseudo_values(x, _indicator(codes, g))
    if np.ptp(v) == 0:
        return no_verdict(point, "mean", f"mean: {NO_SPREAD}")
    _, lo, hi = _mean_core(v, level)
    return _inside(point, float(lo), float(hi), "mean")


def diff_ci(a, b, clusters_a=None, clusters_b=None, level: float = LEVEL) -> Interval:
    """Difference of means, mean(a) − mean(b), of two *independent* groups (conditions trained on
    different worlds and seeds). If the two conditions share worlds, the per-world differences are
    paired: compute them and use ``mean_ci``.

    Why this method: the bootstrap-t of ``mean_ci`` with each group's worlds resampled on their
    own and Welch's standard error, which does not assume equal spreads (conditions often differ
    in spread by an order of magnitude). Refuses when either group has fewer worlds than
    MIN_CLUSTERS["difference"]."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    point = float(a.mean() - b.mean()) if len(a) and len(b) else float("nan")
    why = _finite(a, "difference") or _finite(b, "difference")
    if why:
        return no_verdict(point, "difference", why)
    (ca, ga), (cb, gb) = _codes(len(a), clusters_a), _codes(len(b), clusters_b)
    why = _refusal("difference", min(ga, gb), ga < len(a) or gb < len(b))
    if why:
        return no_verdict(point, "difference", why)
    va, vb = _pseudo_values(a, _indicator(ca, ga)), _pseudo_values(b, _indicator(cb, gb))
    if np.ptp(va) == 0 and np.ptp(vb) == 0:
        return no_verdict(point, "difference", f"difference: {NO_SPREAD}")
    _, lo, hi = _welch_core(va, vb, level)
    return _inside(point, float(lo), float(hi), "difference")


def _inside(point: float, lo: float, hi: float, method: str) -> Interval:
    """An interval must hold its own point estimate; one that does not is a sign the method's
    approximation broke down on these data (it happened with the percentile bootstrap of a rank
    correlation), so no verdict rather than a contradictory row."""
    if not (lo <= point <= hi):
        return no_verdict(point, method, f"{method}: the point {point:.4g} fell outside its own interval "
                                         f"[{lo:.4g}, {hi:.4g}]")
    return Interval(point, lo, hi, method)


# -- ratio of means -----------------------------------------------------------------------------------

def _fieller_core(ma, mb, va, vb, cab, df, level: float = LEVEL):
    """Fieller's interval for ma/mb: the ρ with (ma − ρ·mb)² ≤ q²·(va + ρ²vb − 2ρ·cab). Bounded
    only when the denominator is itself clearly away from 0 (mb² > q²·vb); otherwise NaN."""
    q2 = sps.t.ppf(1 - (1 - level) / 2, df) ** 2
    qa = mb ** 2 - q2 * vb
    qb = ma * mb - q2 * cab
    qc = ma ** 2 - q2 * va
    disc = qb ** 2 - qa * qc
    ok = (qa > 0) & (disc >= 0)
    with np.errstate(all="ignore"):
        root = np.sqrt(np.where(ok, disc, 0.0))
        lo = np.where(ok, (qb - root) / qa, np.nan)
        hi = np.where(ok, (qb + root) / qa, np.nan)
    return lo, hi


def ratio_ci(a, b, clusters_a=None, clusters_b=None, paired: bool = False, log_base: float | None = None,
             level: float = LEVEL) -> Interval:
    """Ratio of means mean(a)/mean(b) — or its logarithm in ``log_base`` (e.g. 10), as claims that
    compare step counts or onsets in log time use it (pass a + 1 and b + 1 for log10((ā+1)/(b̄+1))).

    ``paired``: a and b are measured on the same members (then ``clusters_b`` is ignored);
    otherwise the groups are independent.

    Why this method: Fieller's interval, exact for normal data, inverts the linear statistic
    ā − ρ·b̄ instead of using the delta method's symmetric ± around ā/b̄, so it follows the ratio's
    skew and, when the denominator's own interval reaches 0, it says so (unbounded: no verdict)
    rather than printing a finite interval that means nothing. The variances are over per-world
    values, Welch-Satterthwaite degrees of freedom for independent groups, G − 1 paired. The log
    form is the log of Fieller's bounds (both must be positive)."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    method = "log ratio" if log_base else "ratio"
    with np.errstate(all="ignore"):
        r = a.mean() / b.mean() if len(a) and len(b) else float("nan")
        point = float(np.log(r) / np.log(log_base)) if log_base else float(r)
    why = _finite(a, method) or _finite(b, method)
    if why:
        return no_verdict(point, method, why)
    if paired and len(a) != len(b):
        raise ValueError(f"paired ratio: {len(a)} and {len(b)} members")
    ca, ga = _codes(len(a), clusters_a)
    if paired:
        ind = _indicator(ca, ga)
        why = _refusal("ratio", ga, ga < len(a))
        if why:
            return no_verdict(point, method, why)
        pa, pb = _pseudo_values(a, ind), _pseudo_values(b, ind)
        lo, hi = _fieller_paired(pa, pb, level)
    else:
        cb, gb = _codes(len(b), clusters_b)
        why = _refusal("ratio", min(ga, gb), ga < len(a) or gb < len(b))
        if why:
            return no_verdict(point, method, why)
        lo, hi = _fieller_independent(_pseudo_values(a, _indicator(ca, ga)), _pseudo_values(b, _indicator(cb, gb)),
                                      level)
    lo, hi = float(lo), float(hi)
    if math.isnan(lo):
        return no_verdict(point, method, f"{method}: the denominator's interval reaches 0 (Fieller's interval "
                                         "is unbounded)")
    if log_base:
        if lo <= 0:
            return no_verdict(point, method, f"{method}: the ratio's interval reaches 0 or below; no logarithm")
        lo, hi = math.log(lo) / math.log(log_base), math.log(hi) / math.log(log_base)
    return _inside(point, lo, hi, method)


def _fieller_independent(va: np.ndarray, vb: np.ndarray, level: float = LEVEL):
    ga, gb = va.shape[-1], vb.shape[-1]
    ma, mb = va.mean(axis=-1), vb.mean(axis=-1)
    wa, wb = va.var(axis=-1, ddof=1) / ga, vb.var(axis=-1, ddof=1) / gb
    with np.errstate(all="ignore"):
        rho = ma / mb
        w = wa + rho ** 2 * wb  # the variance of ā − ρ̂·b̄, whose degrees of freedom Fieller's t uses
        df = np.where(w > 0, w ** 2 / (wa ** 2 / (ga - 1) + (rho ** 2 * wb) ** 2 / (gb - 1)), ga + gb - 2)
    return _fieller_core(ma, mb, wa, wb, np.zeros_like(ma), np.nan_to_num(df, nan=1.0), level)


def _fieller_paired(va: np.ndarray, vb: np.ndarray, level: float = LEVEL):
    g = va.shape[-1]
    ma, mb = va.mean(axis=-1), vb.mean(axis=-1)
    da, db = va - ma[..., None], vb - mb[..., None]
    scale = 1.0 / (g * (g - 1))
    return _fieller_core(ma, mb, (da ** 2).sum(-1) * scale, (db ** 2).sum(-1) * scale, (da * db).sum(-1) * scale,
                         g - 1, level)


# -- dispersion ---------------------------------------------------------------------------------------

def _bonett_kurtosis(v: np.ndarray) -> np.ndarray:
    """Bonett's (2006) kurtosis estimate over the last axis: fourth moment about a trimmed mean
    (trim 1/(2√(n−4))), which is less biased than the plain one in small samples."""
    n = v.shape[-1]
    trim = 1 / (2 * math.sqrt(max(n - 4, 1)))
    mt = sps.trim_mean(v, min(trim, 0.49), axis=-1)
    ss = ((v - v.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
    with np.errstate(all="ignore"):
        return np.where(ss > 0, n * ((v - mt[..., None]) ** 4).sum(axis=-1) / np.where(ss > 0, ss, 1.0) ** 2, 3.0)


def _sd_core(x: np.ndarray, ind: np.ndarray, level: float = LEVEL):
    """(low, high) for the SD of one member, over a batch x (..., N) with one world structure.

    The variance of a member is between-world plus within-world variance; its estimate is the
    one-way ANOVA one, V = MSW + (MSB − MSW)/n₀, with Satterthwaite's degrees of freedom (without
    worlds, V is the sample variance on n − 1). Two intervals are made from it and the wider ends
    kept: the chi-square interval on those degrees of freedom (exact for normal data, and wide
    enough for light tails and bimodal data), and Bonett's log-scale interval, whose standard
    error grows with the estimated kurtosis (members' or world means', whichever is larger) so
    that heavy tails — where small samples usually miss the rare large deviations and the
    chi-square interval lies wholly below the truth — widen the upper end."""
    n, g = ind.shape
    sizes = ind.sum(axis=0)
    cm = (x @ ind) / sizes
    gm = x.mean(axis=-1)
    ssb = (((cm - gm[..., None]) ** 2) * sizes).sum(axis=-1)
    msb = ssb / max(g - 1, 1)
    if n > g:
        msw = ((x - cm @ ind.T) ** 2).sum(axis=-1) / (n - g)
        n0 = (n - (sizes ** 2).sum() / n) / (g - 1)
    else:
        msw, n0 = np.zeros_like(gm), 1.0
    ca, cw = 1 / n0, 1 - 1 / n0
    var = ca * msb + cw * msw
    den = (ca * msb) ** 2 / max(g - 1, 1) + ((cw * msw) ** 2 / (n - g) if n > g else 0.0)
    with np.errstate(all="ignore"):
        df = np.clip(np.where(den > 0, var ** 2 / np.where(den > 0, den, 1.0), n - 1), 1, n - 1)
    a = (1 - level) / 2
    lo1 = np.sqrt(df * var / sps.chi2.ppf(1 - a, df))
    hi1 = np.sqrt(df * var / sps.chi2.ppf(a, df))
    kurt = _bonett_kurtosis(x)
    if n > g and g >= 5:
        kurt = np.maximum(kurt, _bonett_kurtosis(cm))
    m = df + 1
    z = sps.norm.ppf(1 - a)
    c = m / (m - z)
    se = c * np.sqrt(np.maximum(kurt - (m - 3) / m, 0) / (m - 1))
    q = sps.t.ppf(1 - a, df)
    lo2 = np.sqrt(c * var * np.exp(-q * se))
    hi2 = np.sqrt(c * var * np.exp(q * se))
    return np.minimum(lo1, lo2), np.maximum(hi1, hi2)


def sd_ci(x, clusters=None, level: float = LEVEL) -> Interval:
    """Standard deviation across members. The point is ``np.std`` (divisor n), as the claims
    have always printed it; the interval is for the SD of one member drawn from a new world and
    seed (between- plus within-world).

    Why this method: the percentile bootstrap of np.std lay wholly below the true SD 34% of the
    time at n = 8 (a resample can only repeat the spread already seen, and np.std is biased low).
    This interval (see ``_sd_core``) is the wider of a chi-square interval on the design's
    Satterthwaite degrees of freedom and Bonett's kurtosis-scaled log interval, so it errs
    toward containing larger SDs: a control "the effect did not spread" (high end below a bound)
    passes only when it truly did not. Its panel covers skewness up to 1 and kurtosis up to 4.5
    (gamma(4)) and bimodal mixtures; heavier tails (exponential, kurtosis 9) still under-cover —
    see the figures. Refuses below MIN_CLUSTERS["sd"]: without worlds, 8 members cannot see a
    mode a quarter of the runs fall into 10% of the time, and then the SD is far too small."""
    x = np.asarray(x, dtype=float).ravel()
    point = float(x.std()) if len(x) else float("nan")
    codes, g, why = _screen(x, clusters, "sd")
    if why:
        return no_verdict(point, "sd", why)
    lo, hi = _sd_core(x, _indicator(codes, g), level)
    # the point (divisor n, and the ANOVA estimate differs with worlds) can sit just below the
    # low end; the interval is then stretched to it: only ever wider, never a moved verdict
    lo, hi = min(float(lo), point), max(float(hi), point)
    return Interval(point, lo, hi, "sd")


# -- proportion ---------------------------------------------------------------------------------------

def _clopper_pearson(k, n, level: float = LEVEL):
    """Exact binomial interval; k and n may be fractional (an effective sample) and arrays."""
    a = (1 - level) / 2
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(all="ignore"):
        lo = np.where(k <= 0, 0.0, sps.beta.ppf(a, np.maximum(k, 1e-12), n - k + 1))
        hi = np.where(k >= n, 1.0, sps.beta.ppf(1 - a, k + 1, np.maximum(n - k, 1e-12)))
    return lo, hi


def _effective_n(x: np.ndarray, ind: np.ndarray) -> np.ndarray:
    """N / design effect, deff = 1 + (n₀ − 1)·ICC with the one-way ANOVA intraclass correlation
    clipped to [0, 1]. When every member has the same outcome the data say nothing about the ICC,
    so the worst case (ICC = 1: a world's seeds all agree, one world = one observation) is used."""
    n, g = ind.shape
    if n == g:
        return np.full(x.shape[:-1], float(n))
    sizes = ind.sum(axis=0)
    cm = (x @ ind) / sizes
    p = x.mean(axis=-1)
    n0 = (n - (sizes ** 2).sum() / n) / (g - 1)
    msb = (((cm - p[..., None]) ** 2) * sizes).sum(axis=-1) / (g - 1)
    msw = ((x - cm @ ind.T) ** 2).sum(axis=-1) / (n - g)
    with np.errstate(all="ignore"):
        icc = (msb - msw) / (msb + (n0 - 1) * msw)
    icc = np.where(np.isfinite(icc), np.clip(icc, 0.0, 1.0), 1.0)
    return n / (1 + (n0 - 1) * icc)


def proportion_ci(x, clusters=None, level: float = LEVEL) -> Interval:
    """Share of members with outcome 1 (x is 0/1 or boolean).

    Why this method: Clopper–Pearson is exact — at least 95% coverage for every true share and n —
    and never gives a zero-width interval: 0/8 gives [0, 0.37], not [0, 0]. With worlds, seeds of
    one world tend to share their outcome, so the count is worth fewer independent trials: the
    interval is Clopper–Pearson on the effective sample N/deff (design effect from the estimated
    intraclass correlation; the worst case, one trial per world, when all outcomes agree)."""
    x = np.asarray(x, dtype=float).ravel()
    point = float(x.mean()) if len(x) else float("nan")
    why = _finite(x, "proportion")
    if why:
        return no_verdict(point, "proportion", why)
    if not np.isin(x, (0.0, 1.0)).all():
        raise ValueError("proportion_ci takes 0/1 outcomes")
    codes, g = _codes(len(x), clusters)
    why = _refusal("proportion", g, g < len(x))
    if why:
        return no_verdict(point, "proportion", why)
    n_eff = float(_effective_n(x, _indicator(codes, g)))
    lo, hi = _clopper_pearson(point * n_eff, n_eff, level)
    return Interval(point, float(lo), float(hi), "proportion")


# -- resampling worlds --------------------------------------------------------------------------------

@dataclass
class _Design:
    """How a list of groups is resampled: units (worlds) in strata; a unit's members per group."""

    strata: list[np.ndarray]          # unit ids per stratum
    members: list[list[np.ndarray]]   # members[unit][group] -> member indices of that unit in that group
    n_groups: int

    @property
    def sizes(self) -> list[int]:
        return [len(s) for s in self.strata]

    def balanced(self) -> bool:
        """Every unit of a stratum has the same number of members in each group (then every
        resample has the same shape and the statistic can be evaluated on a batch)."""
        for s in self.strata:
            counts = {tuple(len(self.members[u][k]) for k in range(self.n_groups)) for u in s}
            if len(counts) > 1:
                return False
        return True

    def picker(self) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
        """A function from unit positions per stratum (repeats allowed) to member indices per
        group. With balanced strata one fancy index per stratum and group does it."""
        if self.balanced():
            tables = [[np.stack([self.members[u][k] for u in s]) for k in range(self.n_groups)] for s in self.strata]

            def pick(positions):
                return [np.concatenate([t[k][p].ravel() for t, p in zip(tables, positions)])
                        for k in range(self.n_groups)]
        else:
            def pick(positions):
                return [np.concatenate([self.members[s[i]][k] for s, p in zip(self.strata, positions) for i in p]
                                       ).astype(int) for k in range(self.n_groups)]
        return pick


def _design(groups: list[np.ndarray], clusters: list | None) -> _Design:
    """Units are worlds: the members of one world id, in whichever groups it appears. Units are
    resampled within strata of units that appear in the same groups: a world that is only in one
    condition stays there (as conditions' members were resampled apiece before), a world measured
    in every condition is drawn with all its members in all of them (a crossed, paired design).
    Without clusters each member of each group is its own unit, stratum = group."""
    if clusters is None:
        clusters = [None] * len(groups)
    if len(clusters) != len(groups):
        raise ValueError(f"{len(clusters)} cluster arrays for {len(groups)} groups")
    units: dict = {}
    for k, (grp, cl) in enumerate(zip(groups, clusters)):
        ids = [("member", k, i) for i in range(len(grp))] if cl is None else list(np.asarray(cl).tolist())
        if len(ids) != len(grp):
            raise ValueError(f"clusters must give one id per member: {len(ids)} ids for {len(grp)} members")
        for i, u in enumerate(ids):
            units.setdefault(u, [[] for _ in groups])[k].append(i)
    members = [[np.asarray(m, dtype=int) for m in per] for per in units.values()]
    by_sig: dict = {}
    for u, per in enumerate(members):
        by_sig.setdefault(tuple(len(m) > 0 for m in per), []).append(u)
    # strata in the order of the groups they start in: without clusters, stratum k is group k
    strata = [np.asarray(v) for _, v in sorted(by_sig.items(), key=lambda kv: kv[0].index(True))]
    return _Design(strata, members, len(groups))


def _draw(sizes: list[int], n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> np.ndarray:
    """(n_boot, Σ sizes) indices, column block s drawn from range(sizes[s]). One call: NumPy's
    bounded integers consume the stream element by element, so this is the same sequence as
    drawing each stratum's indices in turn, resample by resample."""
    highs = np.repeat(sizes, sizes)
    return np.random.default_rng(seed).integers(0, np.broadcast_to(highs, (n_boot, len(highs))))


# The common statistics, evaluated on every resample at once (a row per resample).
_ROWWISE: dict[Callable, Callable[[np.ndarray], np.ndarray]] = {
    np.mean: lambda m: m.mean(axis=1),
    np.median: lambda m: np.median(m, axis=1),
    np.std: lambda m: m.std(axis=1),
}


def resample_stats(groups: list[np.ndarray], stat: Callable, clusters: list | None = None,
                   n_boot: int = N_BOOT, seed: int = BOOT_SEED, with_se: bool = False):
    """The statistic on ``n_boot`` resamples of worlds (see ``_design``): the bootstrap engine.
    With ``with_se`` also each resample's delete-one-world jackknife standard error (the
    bootstrap-t needs it): returns (values, standard errors)."""
    d = _design(groups, clusters)
    idx = _draw(d.sizes, n_boot, seed)
    cols = np.cumsum([0, *d.sizes])
    picks = [idx[:, a:b] for a, b in zip(cols[:-1], cols[1:])]  # positions within each stratum
    if d.balanced() and len(groups) == 1 and groups[0].ndim == 1 and stat in _ROWWISE:
        table = np.stack([d.members[u][0] for u in d.strata[0]])  # (units, members per unit)
        members = table[picks[0]]                                  # (B, units, members per unit)
        grp, fn = groups[0], _ROWWISE[stat]
        vals = fn(grp[members.reshape(n_boot, -1)])
        if not with_se:
            return vals
        g = members.shape[1]
        leave = np.stack([fn(grp[np.delete(members, j, axis=1).reshape(n_boot, -1)]) for j in range(g)], axis=1)
        return vals, _jack_se_rows(leave)
    pick = d.picker()
    vals, ses = np.empty(n_boot), np.empty(n_boot)
    for b in range(n_boot):
        positions = [p[b] for p in picks]
        vals[b] = _evaluate(groups, stat, pick, positions)
        if with_se:
            ses[b] = _jack_se(groups, stat, pick, positions)
    return (vals, ses) if with_se else vals


def _evaluate(groups, stat, pick, positions: list[np.ndarray]) -> float:
    """The statistic on the members of the units at ``positions`` (per stratum, repeats allowed)."""
    return float(stat(*[g[i] for g, i in zip(groups, pick(positions))]))


def _jack_se_rows(leave: np.ndarray) -> np.ndarray:
    """Jackknife standard error from leave-one-out values (..., G)."""
    g = leave.shape[-1]
    return np.sqrt((g - 1) / g * ((leave - leave.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1))


def _jack_se(groups, stat, pick, positions: list[np.ndarray]) -> float:
    """Delete-one-world jackknife standard error of the statistic on ``positions``; strata add."""
    var = 0.0
    for s, ps in enumerate(positions):
        if len(ps) < 2:
            return float("nan")
        leave = np.array([_evaluate(groups, stat, pick, [np.delete(ps, j) if t == s else p
                                                          for t, p in enumerate(positions)])
                          for j in range(len(ps))])
        var += float(_jack_se_rows(leave)) ** 2
    return math.sqrt(var)


def cluster_bootstrap_ci(samples, stat: Callable, clusters=None, level: float = LEVEL) -> Interval:
    """Any statistic of one per-member array or of a list of them (``stat(*groups)``), when no
    specific method applies: resample worlds (``_design``), bootstrap-t with the delete-one-world
    jackknife as each resample's standard error.

    Why worlds and not members within them: a world's mean already carries its seeds' noise, so
    drawing worlds with all their members reproduces the variance of any world-level average;
    resampling members inside the drawn worlds as well would add the within-world variance a
    second time (Davison & Hinkley 1997, §3.8) and inflate intervals most where worlds are few.
    Why bootstrap-t: the percentile interval it replaces is too narrow at small n (0.87 at n = 8)
    and not centred where the statistic is biased (a rank correlation printed a point outside its
    interval); studentizing fixes both for smooth statistics (expanded BCa, tried first, still
    covered only 0.91–0.92 for skewed means at 16 members and 8×2). The cost is one jackknife per
    resample: the statistic is evaluated (G + 1)·2000 times. Not for medians and other
    non-smooth statistics, whose jackknife SE is unreliable; an interval that does not hold its
    point is returned as no verdict."""
    groups = [np.asarray(samples, dtype=float)] if not isinstance(samples, list) else [
        np.asarray(s, dtype=float) for s in samples]
    cl = None if clusters is None else (list(clusters) if isinstance(samples, list) else [clusters])
    if any(len(g) == 0 for g in groups):
        return no_verdict(float("nan"), "bootstrap", "bootstrap: a group has no members")
    point = float(stat(*groups))
    if not math.isfinite(point):
        return no_verdict(point, "bootstrap", "bootstrap: the statistic is undefined on the data")
    d = _design(groups, cl)
    clustered = any(len(m) > 1 for per in d.members for m in per)
    why = _refusal("bootstrap", min(d.sizes), clustered)
    if why:
        return no_verdict(point, "bootstrap", why)
    boots, boot_se = resample_stats(groups, stat, cl, with_se=True)
    if not np.isfinite(boots).any():
        return no_verdict(point, "bootstrap", "bootstrap: the statistic is undefined on every resample")
    if np.nanmax(boots) == np.nanmin(boots) == point:
        return no_verdict(point, "bootstrap", f"bootstrap: {NO_SPREAD}")
    se = _jack_se(groups, stat, d.picker(), [np.arange(n) for n in d.sizes])
    lo, hi = _boot_t_core(np.array([point]), np.array([se]), boots[None, :], boot_se[None, :], level,
                          df=min(d.sizes) - 1)
    lo, hi = float(lo[0]), float(hi[0])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return no_verdict(point, "bootstrap", "bootstrap: unbounded (too many resamples without spread)")
    return _inside(point, lo, hi, "bootstrap")


# -- rank correlation ---------------------------------------------------------------------------------

def _pearson_masked(rx: np.ndarray, ry: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Pearson correlation over axis −2 (members) of rx (N, G), ry (..., N, G) restricted to
    ``mask`` (N, G; 1 = kept), from sums (five passes over the batch instead of a dozen)."""
    n = mask.sum(axis=-2)
    xm = rx * mask
    sx, sxx = xm.sum(-2), (xm * rx).sum(-2)
    ym = ry * mask
    sy, syy, sxy = ym.sum(-2), (ym * ry).sum(-2), (ym * rx).sum(-2)
    with np.errstate(all="ignore"):
        return (sxy - sx * sy / n) / np.sqrt((sxx - sx ** 2 / n) * (syy - sy ** 2 / n))


def _below(v: np.ndarray) -> np.ndarray:
    """(..., N, N): 1 where member k's value is below member i's, ½ where equal (midranks). A
    member's rank is its row sum + ½, and with world j left out it drops by the row's sum over
    j's members — so every leave-one-world-out rank comes from one comparison, no re-sorting."""
    return (v[..., None, :] < v[..., :, None]).astype(v.dtype) + v.dtype.type(0.5) * (v[..., None, :] == v[..., :, None])


def _spearman_core(x: np.ndarray, y: np.ndarray, codes: np.ndarray, g: int, chunk: int = 200):
    """Spearman's r over a batch y (..., N) against x (N,), and the standard error of its Fisher
    z, atanh(r): the delete-one-world jackknife's, floored at the normal-theory value √(1.06/(N−3))
    for N independent members (Fieller, Hartley & Pearson 1957) — a jackknife that sees no spread
    (levels perfectly separated: every leave-one-out r the same) would otherwise claim certainty. Computed in the
    dtype of y (the coverage simulation uses float32)."""
    dt = y.dtype if y.dtype in (np.float32, np.float64) else np.float64
    x, y = x.astype(dt), y.astype(dt)
    ind = _indicator(codes, g).astype(dt)
    mid = (len(x) + 1) / 2  # ranks centred, so the sums of squares do not swamp float32
    cx = _below(x)
    rx = cx.sum(-1) + 0.5 - mid
    rx_leave = rx[:, None] - cx @ ind                      # (N, G)
    y2 = y.reshape(-1, y.shape[-1])
    r, se = np.empty(len(y2)), np.empty(len(y2))
    for c in range(0, len(y2), chunk):
        cy = _below(y2[c:c + chunk])
        ry = cy.sum(-1) + 0.5 - mid                        # (r, N)
        r[c:c + chunk] = _pearson_masked(rx[:, None], ry[..., None], np.ones((len(rx), 1), dt))[..., 0]
        ry_leave = ry[..., None] - cy @ ind                # (r, N, G)
        leave = _pearson_masked(rx_leave, ry_leave, 1 - ind)
        se[c:c + chunk] = _jack_se_rows(np.arctanh(np.clip(leave, -0.999999, 0.999999)))
    n = len(x)  # clustering only adds variance: the floor is that of N independent members
    floor = math.sqrt(1.06 / (n - 3)) if n > 3 else np.inf
    return r.reshape(y.shape[:-1]), np.maximum(se, floor).reshape(y.shape[:-1])


def _fisher_interval(r, se, g: int, level: float = LEVEL):
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    q = sps.t.ppf(1 - (1 - level) / 2, g - 1)
    return np.tanh(z - q * se), np.tanh(z + q * se)


def spearman_ci(levels, values, clusters=None, level: float = LEVEL) -> Interval:
    """Spearman's rank correlation between a per-member level (a condition's ρ, width, ...) and a
    per-member value.

    Why this method: on the Fisher z scale the sampling distribution of a correlation is close
    to normal with a stable spread, so z ± t·SE, mapped back, stays inside [−1, 1] and always
    holds its own point — the percentile bootstrap of r did not (it printed a point outside its
    interval). The standard error is the delete-one-world jackknife's (floored, see
    ``_spearman_core``), so worlds, not members, are the unit; t on G − 1 degrees of freedom for
    the few-worlds case. Refuses below
    MIN_CLUSTERS["spearman"] worlds."""
    x = np.asarray(levels, dtype=float).ravel()
    y = np.asarray(values, dtype=float).ravel()
    if len(x) != len(y):
        raise ValueError(f"{len(x)} levels for {len(y)} values")
    why = _finite(y, "spearman") or _finite(x, "spearman")
    if why:
        return no_verdict(float("nan"), "spearman", why)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return no_verdict(float("nan"), "spearman", "spearman: the levels or the values are all equal")
    point = float(sps.spearmanr(x, y).statistic)
    codes, g = _codes(len(x), clusters)
    why = _refusal("spearman", g, g < len(x))
    if why:
        return no_verdict(point, "spearman", why)
    _, se = _spearman_core(x, y, codes, g)
    lo, hi = _fisher_interval(point, float(se), g, level)
    return _inside(point, float(lo), float(hi), "spearman")


# -- many comparisons, and how many worlds ------------------------------------------------------------

def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (in the given order): a comparison is rejected at level α when its
    adjusted p ≤ α. Controls the chance of any false rejection among k at α without assuming the
    comparisons independent, and rejects at least as much as Bonferroni."""
    p = np.asarray(pvalues, dtype=float)
    k = len(p)
    order = np.argsort(p)
    adj = np.minimum(1.0, np.maximum.accumulate((k - np.arange(k)) * p[order]))
    out = np.empty(k)
    out[order] = adj
    return out


def holm_intervals(interval_at: Sequence[Callable[[float], Interval]], thresholds: Sequence[float],
                   level: float = LEVEL) -> list[Interval]:
    """Each of k comparisons' interval at the level Holm's step-down procedure tests it at, for a
    claim decided by all of them. ``interval_at[i](lvl)`` makes comparison i's interval at level
    ``lvl``; comparison i is rejected when that interval excludes ``thresholds[i]``.

    Step down: with m comparisons left, every one whose interval at 1 − α/m excludes its threshold
    is rejected (Holm would take them one at a time at levels no stricter), and the rest are tried
    again at 1 − α/(m − 1); once none is rejected, the remaining keep their intervals at that
    level. A verdict read off these intervals by the usual rule is Holm's decision; the intervals
    are not simultaneous confidence intervals."""
    alpha, k = 1 - level, len(interval_at)
    done: dict[int, Interval] = {}
    while len(done) < k:
        lvl = 1 - alpha / (k - len(done))
        cur = {i: f(lvl) for i, f in enumerate(interval_at) if i not in done}
        hit = {i: ci for i, ci in cur.items() if ci[1] > thresholds[i] or ci[2] < thresholds[i]}
        done.update(hit or cur)
        if not hit:
            break
    return [done[i] for i in range(k)]


def needed_n(spread: float, margin: float, level: float = LEVEL, method: str = "mean",
             max_worlds: int = 100_000) -> int:
    """Worlds needed for the ``level`` interval of a mean to be narrower than 2·``margin``, given
    ``spread``, the SD of per-world means observed (at the same number of seeds per world): the
    fewest G ≥ MIN_CLUSTERS[method] with t_{G−1}·spread/√G < margin. Ignores the skewness
    correction (it moves the interval more than it widens it). ``max_worlds`` + 1 if even that
    many would not do."""
    if not (spread >= 0 and margin > 0):
        raise ValueError(f"needed_n: spread {spread} must be ≥ 0 and margin {margin} > 0")
    q = 1 - (1 - level) / 2
    g = max(MIN_CLUSTERS[method][1], 2)
    while g <= max_worlds:
        if sps.t.ppf(q, g - 1) * spread / math.sqrt(g) < margin:
            return g
        g = g + 1 if g < 1000 else int(g * 1.01) + 1
    return max_worlds + 1


# -- coverage ----------------------------------------------------------------------------------------
# Each method's interval, simulated on known distributions at the project's sizes: without worlds
# 3 (A1's anchors), 8, 16 and 64 members; with worlds 4×2 (arms with half the seeds), 8×2 (quick),
# 16×4 (full). Values are μ + τ_w·w + τ_e·e with w (per world) and e (per member) standardized
# (mean 0, variance 1); with worlds τ_w = τ_e = 1 (between-world variance equal to within).

UNCLUSTERED, CLUSTERED = (3, 8, 16, 64), ((4, 2), (8, 2), (16, 4))


def _standard(kind: str, rng: np.random.Generator, shape) -> np.ndarray:
    """Draws with mean 0 and variance 1: normal; exponential (skewness 2, kurtosis 9); gamma(4)
    (skewness 1, kurtosis 4.5); bimodal with share p in the upper mode ("bimodal.5", "bimodal.25":
    two attractors, a little noise within each)."""
    if kind == "normal":
        return rng.normal(size=shape)
    if kind == "exponential":
        return rng.exponential(size=shape) - 1
    if kind == "gamma4":
        return (rng.gamma(4.0, size=shape) - 4) / 2
    if kind.startswith("bimodal"):
        p = float(kind[len("bimodal"):])
        return ((rng.random(shape) < p) - p) / math.sqrt(p * (1 - p)) * math.sqrt(0.99) + 0.1 * rng.normal(size=shape)
    raise ValueError(kind)


def _members(design, world: str | None, member: str, rng, reps: int) -> tuple[np.ndarray, np.ndarray]:
    """(reps, N) standardized draws for a design (an int: that many members, no worlds; a pair
    (G, m)), and the world code of each member."""
    if isinstance(design, int):
        return _standard(member, rng, (reps, design)), np.arange(design)
    g, m = design
    x = _standard(world, rng, (reps, g, 1)) + _standard(member, rng, (reps, g, m))
    return x.reshape(reps, g * m), np.repeat(np.arange(g), m)


def _label(design) -> str:
    return str(design) if isinstance(design, int) else f"{design[0]}x{design[1]}"


def _panel(design, one_level: tuple[str, ...], two_level: tuple[tuple[str, str], ...]):
    """(label, world kind, member kind) of a method's distributions at a design."""
    if isinstance(design, int):
        return [(k, None, k) for k in one_level]
    return [(f"{w} worlds, {e} seeds", w, e) for w, e in two_level]


MEAN_PANEL = (("normal", "exponential", "bimodal.5", "bimodal.25"),
              (("normal", "normal"), ("exponential", "exponential"), ("bimodal.5", "normal"),
               ("normal", "bimodal.25")))
SD_PANEL = (("normal", "gamma4", "bimodal.5", "bimodal.25"),
            (("normal", "normal"), ("gamma4", "gamma4"), ("bimodal.5", "normal"), ("normal", "bimodal.25")))
SD_BEYOND = (("exponential",), (("exponential", "exponential"),))  # reported, outside the SD panel


def _row(method, design, dist, lo, hi, truth, answered) -> dict:
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    return dict(method=method, design=_label(design), dist=dist, coverage=float(np.mean((lo <= truth) & (truth <= hi))),
                miss_low=float(np.mean(hi < truth)), miss_high=float(np.mean(lo > truth)),
                width=float(np.nanmedian(hi - lo)), answered=answered)


def _answers(method: str, design) -> bool:
    if isinstance(design, int):
        return not _refusal(method, design, False)
    return not _refusal(method, design[0], design[1] > 1)


def _cov_mean(reps, rng):
    out = []
    for design in (*UNCLUSTERED, *CLUSTERED):
        for dist, w, e in _panel(design, *MEAN_PANEL):
            x, codes = _members(design, w, e, rng, reps)
            v = _pseudo_values(x, _indicator(codes, codes.max() + 1)).astype(np.float32)
            _, lo, hi = _mean_core(v)
            out.append(_row("mean", design, dist, lo, hi, 0.0, _answers("mean", design)))
    return out


def _cov_difference(reps, rng):
    """Two independent groups of the same design; the second has half the spread and its own
    shape (normal), so the difference is skewed when the first is."""
    out = []
    for design in (*UNCLUSTERED[1:], *CLUSTERED):
        for dist, w, e in _panel(design, *MEAN_PANEL):
            xa, codes = _members(design, w, e, rng, reps)
            xb, _ = _members(design, "normal", "normal", rng, reps)
            ind = _indicator(codes, codes.max() + 1)
            va, vb = (_pseudo_values(z, ind).astype(np.float32) for z in (xa, 0.5 * xb))
            _, lo, hi = _welch_core(va, vb)
            out.append(_row("difference", design, dist, lo, hi, 0.0, _answers("difference", design)))
    return out


def _cov_ratio(reps, rng):
    """Positive values with coefficient of variation 0.3 per member (numerator mean 1, denominator
    mean 2: true ratio 0.5); independent groups, and paired (same members, correlation 0.5)."""
    out = []
    for design in (*UNCLUSTERED[1:], *CLUSTERED):
        for dist, w, e in _panel(design, *MEAN_PANEL):
            scale = 0.3 / (1 if isinstance(design, int) else math.sqrt(2))
            xa, codes = _members(design, w, e, rng, reps)
            xb, _ = _members(design, "normal", "normal", rng, reps)
            ind = _indicator(codes, codes.max() + 1)
            a, b = 1 + scale * xa, 2 * (1 + scale * xb)
            lo, hi = _fieller_independent(_pseudo_values(a, ind), _pseudo_values(b, ind))
            out.append(_row("ratio", design, dist, lo, hi, 0.5, _answers("ratio", design)))
            bp = 2 * (1 + scale * (0.5 * xa + math.sqrt(0.75) * xb))
            lo, hi = _fieller_paired(_pseudo_values(a, ind), _pseudo_values(bp, ind))
            out.append(_row("ratio", design, dist + ", paired", lo, hi, 0.5, _answers("ratio", design)))
    return out


def _cov_sd(reps, rng):
    out = []
    for panel, tag in ((SD_PANEL, ""), (SD_BEYOND, " (beyond the panel)")):
        for design in (*UNCLUSTERED[1:], *CLUSTERED):
            for dist, w, e in _panel(design, *panel):
                x, codes = _members(design, w, e, rng, reps)
                lo, hi = _sd_core(x, _indicator(codes, codes.max() + 1))
                truth = 1.0 if isinstance(design, int) else math.sqrt(2)
                out.append(_row("sd", design, dist + tag, lo, hi, truth, _answers("sd", design) and not tag))
    return out


def _cov_proportion(reps, rng):
    """Bernoulli(p); with worlds, each world's own p drawn from a beta with mean p and intraclass
    correlation 0.5 (seeds of a world mostly agree)."""
    out = []
    for design in (*UNCLUSTERED, *CLUSTERED):
        for p in (0.05, 0.2, 0.5):
            if isinstance(design, int):
                x, codes = (rng.random((reps, design)) < p).astype(float), np.arange(design)
            else:
                g, m = design
                pw = rng.beta(p, 1 - p, (reps, g, 1))  # a + b = 1: ICC = 1/(a + b + 1) = 0.5
                x, codes = (rng.random((reps, g, m)) < pw).astype(float).reshape(reps, g * m), np.repeat(np.arange(g), m)
            n_eff = _effective_n(x, _indicator(codes, codes.max() + 1))
            lo, hi = _clopper_pearson(x.mean(-1) * n_eff, n_eff)
            out.append(_row("proportion", design, f"p={p}", lo, hi, p, _answers("proportion", design)))
    return out


@functools.lru_cache(maxsize=None)
def _spearman_truth(kind_w, kind_e, slope, clustered) -> float:
    """The population value (what the sample Spearman tends to with many worlds): a large sample of
    independent members with the same marginal distribution."""
    rng = np.random.default_rng(12345)
    n = 100_000
    lev = np.repeat([0.0, 1.0, 2.0], n)
    noise = _standard(kind_e, rng, 3 * n)
    if clustered:
        noise = (noise + _standard(kind_w, rng, 3 * n)) / math.sqrt(2)
    return float(sps.spearmanr(lev, slope * lev + noise).statistic)


def _cov_spearman(reps, rng):
    """Three levels (a condition's ρ, say), the design's worlds and seeds at each level, value =
    slope·level + noise: slope 0.5 (ρ_s ≈ 0.4) for each shape, and slope 0 (no relation)."""
    out = []
    for design in (*UNCLUSTERED, *CLUSTERED):
        cells = [(d, w, e, 0.5) for d, w, e in _panel(design, *MEAN_PANEL)] + [_panel(design, *MEAN_PANEL)[0] + (0.0,)]
        for dist, w, e, slope in cells:
            parts = [_members(design, w, e, rng, reps) for _ in range(3)]
            scale = 1 if isinstance(design, int) else math.sqrt(2)
            y = np.concatenate([p[0] / scale for p in parts], axis=1)
            per, g = parts[0][0].shape[1], parts[0][1].max() + 1
            codes = np.concatenate([p[1] + k * g for k, p in enumerate(parts)])
            lev = np.repeat([0.0, 1.0, 2.0], per)
            truth = 0.0 if slope == 0 else _spearman_truth(w, e, slope, not isinstance(design, int))
            r, se = _spearman_core(lev, (slope * lev + y).astype(np.float32), codes, 3 * g)
            lo, hi = _fisher_interval(r, se, 3 * g)
            out.append(_row("spearman", design, f"{dist}, slope {slope}", lo, hi, truth,
                            not _refusal("spearman", 3 * g, not isinstance(design, int))))
    return out


# The generic bootstrap is not simulated apart: on a mean, or a difference of two groups' means, it
# computes exactly the intervals of mean_ci and diff_ci (same resamples, and the jackknife standard
# error of a mean is s/√G), which the tests check; its rows are theirs.
COVERAGE_METHODS = {"mean": _cov_mean, "difference": _cov_difference, "ratio": _cov_ratio, "sd": _cov_sd,
                    "proportion": _cov_proportion, "spearman": _cov_spearman}


def coverage_table(reps: int = 2000, seed: int = 7, methods: Sequence[str] | None = None) -> list[dict]:
    """Coverage of every method's nominal 95% interval: one row per (method, design, distribution)
    with the share of ``reps`` simulated data sets whose interval held the truth (``coverage``),
    lay wholly below it (``miss_low``) or above it (``miss_high``), the median width, and whether
    the method answers at that design (``answered``; it gives NaN bounds otherwise)."""
    rows = []
    for name in methods or COVERAGE_METHODS:
        rows += COVERAGE_METHODS[name](reps, np.random.default_rng([seed, list(COVERAGE_METHODS).index(name)]))
    return rows


def summarize_coverage(rows: list[dict]) -> str:
    """One line per method and design: the worst coverage over its panel (and where), the most
    often an interval lay wholly below the truth, and whether the method answers there."""
    lines = [f"{'method':<11}{'n':<6}{'worst':>6}  {'of':<42}{'low≤':>6}  answers"]
    keys = dict.fromkeys((r["method"], r["design"]) for r in rows)
    for m, d in keys:
        cell = [r for r in rows if (r["method"], r["design"]) == (m, d) and "beyond" not in r["dist"]]
        if not cell:
            continue
        worst = min(cell, key=lambda r: r["coverage"])
        lines.append(f"{m:<11}{d:<6}{worst['coverage']:>6.3f}  {worst['dist'][:41]:<42}"
                     f"{max(r['miss_low'] for r in cell):>6.3f}  {'yes' if cell[0]['answered'] else 'no verdict'}")
    return "\n".join(lines)


def format_coverage(rows: list[dict]) -> str:
    """The table as text, one line per row (for the module docstring and reports)."""
    lines = [f"{'method':<11}{'n':<6}{'distribution':<40}{'cover':>7}{'low':>7}{'high':>7}  answers"]
    for r in rows:
        lines.append(f"{r['method']:<11}{r['design']:<6}{r['dist']:<40}{r['coverage']:>7.3f}{r['miss_low']:>7.3f}"
                     f"{r['miss_high']:>7.3f}  {'yes' if r['answered'] else 'no verdict'}")
    return "\n".join(lines)
