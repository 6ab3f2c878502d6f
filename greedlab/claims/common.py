"""What every claim shares: scales, bootstrap confidence intervals and verdict rules.

A verdict is computed from an interval by a rule fixed here, before any run:
- ``supported``: the 95% CI lies entirely on the claimed side of the threshold;
- ``refuted``: it lies entirely on the other side;
- ``inconclusive``: it straddles the threshold, or a control in which the effect must vanish
  did not come out clean (then the instrument, not the claim, is in doubt).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from greedlab.errors import ConfigError

SUPPORTED, REFUTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"
FLAGGED = "flagged"  # a row that is no verdict: seeds set aside (diverged), listed by name
N_BOOT = 2000
BOOT_SEED = 20240601  # fixed: the same measurements always give the same interval


@dataclass(frozen=True)
class Scale:
    """How big a claim's experiments are."""

    name: str
    seeds: int
    steps: int
    max_evals: int | None = None
    """Cap on evaluations per stage (evaluation, not training, dominates tiny runs)."""
    eval_samples: int = 4096
    """Deployment samples per evaluation (reliance SE ≈ 0.5/√n)."""
    worlds: int = 1
    """Independent world draws the seeds of a condition are spread over (seeds/worlds per world):
    the unit an interval resamples. A condition with fewer seeds uses as many worlds as divide them."""

    def worlds_for(self, n: int) -> int:
        """The number of worlds for a condition of ``n`` models: at most ``worlds``, dividing n."""
        w = max(1, min(self.worlds, n))
        while n % w:
            w -= 1
        return w


SCALES = {
    # seconds: checks the pipeline runs; its verdicts mean nothing
    "smoke": Scale("smoke", seeds=4, steps=60, max_evals=6, eval_samples=1024, worlds=2),
    "quick": Scale("quick", seeds=16, steps=1500, worlds=8),  # 8 worlds × 2 seeds
    "full": Scale("full", seeds=64, steps=4000, worlds=16),  # 16 worlds × 4 seeds
}


def get_scale(name: str) -> Scale:
    if name not in SCALES:
        raise ConfigError("scale", ", ".join(SCALES), name)
    return SCALES[name]


# The common statistics, evaluated on every resample at once (a row per resample).
_ROWWISE: dict[Callable, Callable[[np.ndarray], np.ndarray]] = {
    np.mean: lambda m: m.mean(axis=1),
    np.median: lambda m: np.median(m, axis=1),
    np.std: lambda m: m.std(axis=1),
}


def bootstrap_ci(samples: list[np.ndarray] | np.ndarray, stat: Callable[..., float],
                 level: float = 0.95) -> tuple[float, float, float]:
    """(point, low, high): percentile bootstrap over seeds.

    ``samples`` is one per-seed array, or a list of them (one per condition, each resampled
    on its own, as the seeds of different conditions are independent).
    """
    groups = [np.asarray(samples, dtype=float)] if not isinstance(samples, list) else [
        np.asarray(s, dtype=float) for s in samples]
    if any(len(g) == 0 for g in groups):
        return float("nan"), float("nan"), float("nan")  # nothing measured: no interval, never a verdict
    point = float(stat(*groups))
    # All resamples in one draw: a (N_BOOT, Σn) matrix of indices, each column bounded by its
    # group's size. NumPy's bounded integers consume the stream element by element, so this is
    # the same sequence as drawing each group's indices in turn, resample by resample (checked in
    # the tests) -- the intervals are unchanged, only ~20x faster.
    sizes = [len(g) for g in groups]
    highs = np.repeat(sizes, sizes)
    idx = np.random.default_rng(BOOT_SEED).integers(0, np.broadcast_to(highs, (N_BOOT, len(highs))))
    cols = np.cumsum([0, *sizes])
    resampled = [g[idx[:, a:b]] for g, a, b in zip(groups, cols[:-1], cols[1:])]
    if len(groups) == 1 and groups[0].ndim == 1 and stat in _ROWWISE:
        boots = _ROWWISE[stat](resampled[0])
    else:
        boots = np.array([stat(*[r[b] for r in resampled]) for b in range(N_BOOT)], dtype=float)
    if np.isnan(boots).all():
        return point, float("nan"), float("nan")  # the statistic is undefined on every resample
    alpha = (1 - level) / 2
    lo, hi = np.nanquantile(boots, [alpha, 1 - alpha])
    return point, float(lo), float(hi)


def verdict_above(lo: float, hi: float, threshold: float) -> str:
    """Claim: the statistic exceeds ``threshold``."""
    if lo > threshold:
        return SUPPORTED
    if hi < threshold:
        return REFUTED
    return INCONCLUSIVE


def verdict_below(lo: float, hi: float, threshold: float) -> str:
    """Claim: the statistic is below ``threshold``."""
    if hi < threshold:
        return SUPPORTED
    if lo > threshold:
        return REFUTED
    return INCONCLUSIVE


def combine(parts: list[str], controls_ok: bool) -> str:
    """A claim with several parts holds only if all hold; any refuted part refutes it."""
    if REFUTED in parts:
        return REFUTED
    if not controls_ok:
        return INCONCLUSIVE
    return SUPPORTED if all(p == SUPPORTED for p in parts) else INCONCLUSIVE


def any_supports(parts: list[str]) -> str:
    """An existence claim over several conditions (architectures, ρ values): supported if any part
    is, refuted only if every part is."""
    if SUPPORTED in parts:
        return SUPPORTED
    return REFUTED if all(p == REFUTED for p in parts) else INCONCLUSIVE


def all_agree(parts: list[str]) -> str:
    """A claim that must hold in every condition: supported if every part is, refuted if every
    part is, inconclusive when they differ."""
    if all(p == SUPPORTED for p in parts):
        return SUPPORTED
    return REFUTED if all(p == REFUTED for p in parts) else INCONCLUSIVE


@dataclass
class Row:
    """One line of a claim's verdict table (and of the store's ``verdicts`` table)."""

    condition: str
    statistic: str
    value: float
    ci_low: float
    ci_high: float
    verdict: str
    run_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(condition=self.condition, statistic=self.statistic, value=self.value, ci_low=self.ci_low,
                    ci_high=self.ci_high, verdict=self.verdict, run_ids=self.run_ids)


@dataclass
class ClaimResult:
    claim: str
    summary: str
    verdict: str
    rows: list[Row]
    figures: list[str] = field(default_factory=list)
    headline: int = 0
    """Index of the row the report's summary shows."""


def control_row(condition: str, statistic: str, ci: tuple[float, float, float], vanished: bool,
                run_ids: list[str]) -> Row:
    """A control's row: its verdict says whether the effect vanished as it must."""
    return Row(condition, statistic, *ci, "control ok" if vanished else "control FAILED", run_ids)


def censor(onsets: np.ndarray, steps: int) -> np.ndarray:
    """Onsets with 'never' (inf) set to one step past the end: a lower bound, conservative
    for any claim that something comes late."""
    return np.where(np.isfinite(onsets), onsets, steps + 1)


def log_lead(early: np.ndarray, late: np.ndarray, steps: int) -> np.ndarray:
    """Per seed log10((late+1)/(early+1)): > 0 when ``early`` comes first. Onsets span decades
    (the greedy phase is in the first tens of steps), so leads are compared in log time."""
    return np.log10(censor(late, steps) + 1) - np.log10(censor(early, steps) + 1)
