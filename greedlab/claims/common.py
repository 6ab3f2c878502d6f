"""What every claim shares: scales, confidence intervals and verdict rules.

A verdict is computed from an interval by a rule fixed here, before any run:
- ``supported``: the 95% CI lies entirely on the claimed side of the threshold (beyond it by the
  claim's margin, when it states one);
- ``refuted``: it lies entirely on the other side — and the claim's positive control showed the
  instrument sees the effect where it is known to be there (``combine``);
- ``inconclusive``: it straddles, or a control failed (then the instrument, not the claim, is in
  doubt), or the method gives no interval at this sample size (``greedlab.stats``);
- ``inconclusive (underpowered)``: it straddles while wider than twice the margin: more worlds
  would decide it (``greedlab.stats.needed_n`` says how many).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from greedlab import stats
from greedlab.errors import ConfigError
from greedlab.stats import BOOT_SEED, N_BOOT, Interval  # noqa: F401  (the claims' and tests' names)

SUPPORTED, REFUTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"
UNDERPOWERED = "inconclusive (underpowered)"  # straddles, and too wide for the margin to be told apart
FLAGGED = "flagged"  # a row that is no verdict: seeds set aside (diverged), listed by name
CONTROL_OK, CONTROL_FAILED = "control ok", "control FAILED"


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
        """The number of worlds for a condition of ``n`` models: at most ``worlds``, dividing n, and
        with at least two seeds in each world when n ≥ 4 (a half-size arm of 8 is 4 worlds × 2, not
        8 × 1: the interval methods are checked for coverage on worlds of two or more seeds)."""
        w = max(1, min(self.worlds, n // 2 if n >= 4 else n))
        while n % w:
            w -= 1
        return w


SCALES = {
    # seconds: checks the pipeline runs; its verdicts mean nothing. Evaluation (forward passes on the
    # evaluation sets, probes) was ~60% of a smoke run's time, and the test suite trains every claim at
    # this scale once: 512 samples and 4 evaluations per stage cut a transformer arm's time by half
    # (measured: 28.3 s → 14.7 s for H7's internal arm) and the suite's smoke training with it
    "smoke": Scale("smoke", seeds=4, steps=60, max_evals=4, eval_samples=512, worlds=2),
    "quick": Scale("quick", seeds=16, steps=1500, worlds=8),  # 8 worlds × 2 seeds
    "full": Scale("full", seeds=64, steps=4000, worlds=16),  # 16 worlds × 4 seeds
}


def get_scale(name: str) -> Scale:
    if name not in SCALES:
        raise ConfigError("scale", ", ".join(SCALES), name)
    return SCALES[name]


def _is_binary(x: np.ndarray) -> bool:
    return x.dtype == bool or (x.size > 0 and bool(np.isin(x, (0.0, 1.0)).all()))


def bootstrap_ci(samples: list[np.ndarray] | np.ndarray, stat: Callable[..., float],
                 level: float = 0.95, clusters=None, support: tuple[float, float] | None = None) -> Interval:
    """(point, low, high) for ``stat`` of per-member values, by the method of ``greedlab.stats``
    that fits it; an :class:`~greedlab.stats.Interval`, so ``.reason`` says why when the bounds
    are NaN (too few worlds for the method to be trusted, undefined values).

    ``samples`` is one per-member array, or a list of them (one per condition, passed to ``stat``
    in order). ``clusters`` gives each member's world id (a list of such arrays for a list of
    groups; one array is taken to hold for every group); members of one world are resampled
    together, across groups too when the groups share world ids. Without it every member is its
    own world.

    Dispatch, on one per-member array: ``np.mean`` of 0/1 values (or booleans) is a share —
    Clopper–Pearson, never [0, 0]; any other ``np.mean`` is the mean's bootstrap-t; ``np.std``
    the dispersion interval. Everything else (medians, lambdas over groups) goes to the generic
    world bootstrap. A per-member quantity that happens to be exactly 0 or 1 everywhere (a train
    accuracy of 1.0 on every seed) is then read as a share, whose interval is valid for the mean
    of any quantity in [0, 1] but wide; call ``stats.mean_ci`` where that matters. Deterministic:
    every resampling method draws from the fixed ``BOOT_SEED``.
    ``support`` (e.g. ``RELIANCE``, ``ACCURACY``): the range the statistic must lie in; the interval
    is clipped to it (``stats.Interval.within``).
    """
    ci = _bootstrap_ci(samples, stat, level, clusters)
    return ci if support is None else ci.within(*support)


ACCURACY, RELIANCE, SD_OF_RELIANCE = (0.0, 1.0), (-1.0, 1.0), (0.0, 1.0)
"""Ranges for ``bootstrap_ci(support=…)``: an accuracy or share, a reliance coefficient, and the SD of
values in [−1, 1] (at most 1)."""
DIFFERENCE_OF_ACCURACIES, DIFFERENCE_OF_RELIANCES = (-1.0, 1.0), (-2.0, 2.0)
"""Ranges of a difference of two values in [0, 1] (accuracies, shares, agreements) and of two in
[−1, 1] (reliances, or differences of two shares such as a pointing index)."""
CORRELATION = (-1.0, 1.0)
"""Range of a rank correlation (Kendall's τ, Spearman's ρ) and of a mean of them."""


def _bootstrap_ci(samples: list[np.ndarray] | np.ndarray, stat: Callable[..., float],
                  level: float = 0.95, clusters=None) -> Interval:
    # the docstring is bootstrap_ci's
    if isinstance(samples, list) and clusters is not None and not isinstance(clusters, (list, tuple)):
        clusters = [clusters] * len(samples)  # one array of ids for every group (the same worlds)
    if not isinstance(samples, list) or len(samples) == 1:
        x = np.asarray(samples[0] if isinstance(samples, list) else samples)
        cl = clusters[0] if isinstance(samples, list) and clusters is not None else clusters
        if x.ndim == 1 and stat is np.mean:
            return stats.proportion_ci(x, cl, level) if _is_binary(x) else stats.mean_ci(x, cl, level)
        if x.ndim == 1 and stat is np.std:
            return stats.sd_ci(x, cl, level)
    return stats.cluster_bootstrap_ci(samples, stat, clusters, level)


def verdict_above(lo: float, hi: float, threshold: float, margin: float = 0.0) -> str:
    """Claim: the statistic exceeds ``threshold`` — by more than ``margin``, the smallest effect
    the claim counts as one.

    Supported needs the interval beyond threshold + margin: a tiny effect measured precisely is
    not the effect claimed. Refuted needs it wholly on the other side of the threshold itself,
    not of threshold + margin: an interval between the two shows an effect, only a small one, and
    a refutation must say the effect is absent or reversed, whatever margin was chosen. An
    interval that decides neither and is wider than 2·margin could not have told the two apart:
    ``UNDERPOWERED``. No bounds (NaN): inconclusive."""
    if np.isnan(lo) or np.isnan(hi):
        return INCONCLUSIVE
    if lo > threshold + margin:
        return SUPPORTED
    if hi < threshold:
        return REFUTED
    return UNDERPOWERED if margin > 0 and hi - lo > 2 * margin else INCONCLUSIVE


def verdict_below(lo: float, hi: float, threshold: float, margin: float = 0.0) -> str:
    """Claim: the statistic is below ``threshold`` by more than ``margin`` (the mirror of
    ``verdict_above``)."""
    if np.isnan(lo) or np.isnan(hi):
        return INCONCLUSIVE
    if hi < threshold - margin:
        return SUPPORTED
    if lo > threshold:
        return REFUTED
    return UNDERPOWERED if margin > 0 and hi - lo > 2 * margin else INCONCLUSIVE


def combine(parts: list[str], negative_ok: bool | None = None, positive_ok: bool | None = None, *,
            controls_ok: bool | None = None) -> str:
    """A claim with several parts holds only if all hold; a refuted part refutes it — if the
    controls allow either.

    ``negative_ok``: the negative controls came out clean (where the effect must vanish, it did).
    ``positive_ok``: the positive control passed (where the effect is known to be present, the
    instrument showed it); ``None``: the claim has no positive control.

    - supported: every part supported, the negative controls clean, and no positive control
      failed (one that failed puts the instrument in doubt however the parts came out);
    - refuted: a part refuted, the positive control passed and the negative controls clean. A
      refutation says the effect is absent; absence is evidence only from an instrument shown to
      see the effect where it is there, so a claim *without* a positive control can be
      supported or inconclusive, never refuted. A failed negative control means the instrument
      reports effects that are not there, so its reading of "absent" is not trusted either;
    - inconclusive otherwise (``UNDERPOWERED`` parts count as inconclusive).

    The old call ``combine(parts, controls_ok)`` (or ``controls_ok=``) reads its flag as the
    negative controls and finds no positive control: the conservative reading, under which such
    a claim cannot be refuted until it states its positive control."""
    if controls_ok is not None:
        if negative_ok is not None:
            raise TypeError("combine: give negative_ok or the old controls_ok, not both")
        negative_ok = controls_ok
    if negative_ok is None:
        raise TypeError("combine: negative_ok (or the old controls_ok) is required")
    if parts and all(p == SUPPORTED for p in parts) and negative_ok and positive_ok is not False:
        return SUPPORTED
    if REFUTED in parts and positive_ok is True and negative_ok:
        return REFUTED
    return INCONCLUSIVE


def any_supports(parts: list[str]) -> str:
    """An existence claim over several conditions (architectures, ρ values): supported if any part
    is, refuted only if every part is (underpowered parts are inconclusive)."""
    if SUPPORTED in parts:
        return SUPPORTED
    return REFUTED if all(p == REFUTED for p in parts) else INCONCLUSIVE


def all_agree(parts: list[str]) -> str:
    """A claim that must hold in every condition: supported if every part is, refuted if every
    part is, inconclusive when they differ (underpowered parts are inconclusive)."""
    if all(p == SUPPORTED for p in parts):
        return SUPPORTED
    return REFUTED if all(p == REFUTED for p in parts) else INCONCLUSIVE


ROW_KINDS = ("verdict", "control", "measurement", "flag")


@dataclass
class Row:
    """One line of a claim's verdict table (and of the store's ``verdicts`` table).

    ``kind`` says what the line is: a "verdict" (a claim's part), a "control", a "measurement"
    reported beside them, or a "flag" (seeds set aside). Left empty it is read off the verdict
    text. ``control`` is "negative" (the effect must vanish) or "positive" (it must appear) on
    control rows. ``note`` carries why an interval has no bounds (see ``Row.of``)."""

    condition: str
    statistic: str
    value: float
    ci_low: float
    ci_high: float
    verdict: str
    run_ids: list[str] = field(default_factory=list)
    kind: str = ""
    control: str = ""
    note: str = ""

    def __post_init__(self):
        if not self.kind:
            self.kind = {FLAGGED: "flag", "measurement": "measurement", CONTROL_OK: "control",
                         CONTROL_FAILED: "control"}.get(self.verdict, "verdict")
        if self.kind not in ROW_KINDS:
            raise ValueError(f"row kind {self.kind!r} is not one of {ROW_KINDS}")

    @classmethod
    def of(cls, condition: str, statistic: str, ci: tuple[float, float, float], verdict: str,
           run_ids: list[str], kind: str = "") -> "Row":
        """A row from an interval, keeping the interval's reason for having no bounds as its note."""
        return cls(condition, statistic, *ci, verdict, run_ids, kind, note=getattr(ci, "reason", ""))

    def as_dict(self) -> dict:
        return dict(condition=self.condition, statistic=self.statistic, value=self.value, ci_low=self.ci_low,
                    ci_high=self.ci_high, verdict=self.verdict, run_ids=self.run_ids, kind=self.kind,
                    control=self.control, note=self.note)


@dataclass
class ClaimResult:
    claim: str
    summary: str
    verdict: str
    rows: list[Row]
    figures: list[str] = field(default_factory=list)
    headline: int = 0
    """Index of the row the report's summary shows."""


def control_row(condition: str, statistic: str, ci: tuple[float, float, float], ok: bool,
                run_ids: list[str], positive: bool = False) -> Row:
    """A control's row: its verdict says whether the control came out as it must — for a negative
    control (``positive=False``) the effect vanished, for a positive one it appeared."""
    return Row(condition, statistic, *ci, CONTROL_OK if ok else CONTROL_FAILED, run_ids, "control",
               "positive" if positive else "negative", getattr(ci, "reason", ""))


def censor(onsets: np.ndarray, steps: int) -> np.ndarray:
    """Onsets with 'never' (inf) set to one step past the end: a lower bound, conservative
    for any claim that something comes late."""
    return np.where(np.isfinite(onsets), onsets, steps + 1)


def log_lead(early: np.ndarray, late: np.ndarray, steps: int) -> np.ndarray:
    """Per seed log10((late+1)/(early+1)): > 0 when ``early`` comes first. Onsets span decades
    (the greedy phase is in the first tens of steps), so leads are compared in log time."""
    return np.log10(censor(late, steps) + 1) - np.log10(censor(early, steps) + 1)
