"""G1 — SGD attaches heuristics to upstream correlates (proxies) of the target before the target
is represented ("Greed Is the Root of This Evil", §1: "If the world-model doesn't yet represent the
target abstraction, the SGD will attach heuristics to upstream correlates/proxies of that abstraction").

Operationalization: on the default hierarchy world (target χ_{0123}, proxy a_4 at ρ = 0.9), per member:
proxy-reliance onset (≥ 0.5), target-reliance onset (≥ 0.5) and target-decodability onset (best hidden
layer ≥ 0.9), each the step at which the curve crosses, interpolated between evaluations
(``presets.crossing``; 'never' counts one step past the end). Statistics, each the mean over members
with a 95% interval over worlds (the members of one world are resampled together):
- lead of target reliance over proxy reliance, log10((t_target+1)/(t_proxy+1)), above its margin
  MARGIN_LEAD = 0.2 decades: early evaluations are 10^0.21 ≈ 1.6× apart (``train.eval_steps``), so a
  smaller lead can be one evaluation of the grid;
- lead of target decodability over proxy reliance, same form and margin;
- peak proxy reliance above 0.5 (the proxy carries at least half of the decision) by MARGIN_PEAK =
  0.05, three standard errors of one reliance reading on 4,096 deployment samples.
Rule (``common.combine``): supported if all three parts are and both controls pass; refuted if a
part is refuted and both controls pass (an absent effect counts only from an instrument shown to see
it where it is, and not to see it where it is not); else inconclusive.

Controls (each a row of kind "control"):
- negative, "target as easy as the proxy" (``presets.easy_target_world``, H5's and H6's run): the same
  world and ρ, but the target is the level-1 feature χ_0, linear in the pixels and so represented from
  the first step: the mechanism (no target yet to attach to) is absent, while everything else that could
  make the proxy read first remains — a level-1 correlate at the same ρ, the same onset threshold,
  evaluation grid and censoring of 'never'. The lead of target reliance over proxy reliance must vanish:
  its interval must lie below MARGIN_LEAD. Measured at quick length on 4 seeds, the proxy was relied on
  (peak 0.23–0.35) but the target reached 0.5 first, at step ~19 (lead −1.9): the control can move. (It
  replaces ρ = 0.5, where an uncorrelated feature cannot be relied on at all, so that control could not
  fail.)
- positive, "proxy decisive": ρ = 1 (G3's run): the proxy agrees with the label on every training
  example, so it is fitted before anything else; the same lead must read above MARGIN_LEAD, or the
  instruments and onsets could not see the effect where it is certain.

At the quick scale (hierarchy world, 16 seeds in 8 worlds): lead 1.44 [1.42, 1.47], decodability lead
1.35 [1.32, 1.38], peak proxy reliance 0.84 [0.83, 0.85]; easy target −1.97 [−1.99, −1.95] (ok),
proxy decisive 2.08 [2.07, 2.09] (ok): supported.

Real data (greedlab.claims.real_data): the same statistics on MNIST-1D and digits, where the target
is the class group and the proxy a marker agreeing with it at ρ = 0.9, with the positive control at
ρ = 1. A real class cannot be made as easy as the marker, so real data has no negative control: its
table says so and its verdict cannot be "supported".
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import real_data
from greedlab.claims.common import Row, bootstrap_ci, combine, control_row, log_lead, verdict_above
from greedlab.claims.context import Context
from greedlab.claims.presets import best_decodability, crossing, easy_target_world, world
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import RELIANCE_ONSET, REPRESENTED
from greedlab.report.figures import reliance_figure

ID = "G1"
SUMMARY = "SGD attaches heuristics to proxies of the target before the target is represented."
SOURCE = "greed-is-the-root-of-this-evil.txt, §1 “What does that mean mechanically?”"
QUOTE = ("If the world-model doesn't yet represent the target abstraction, the SGD will attach heuristics to "
         "upstream correlates/proxies of that abstraction.")
RHO, DECISIVE_RHO = 0.9, 1.0
MARGIN_LEAD = 0.2
"""Decades: the smallest lead that counts (one step of the early, log-spaced evaluation grid)."""
MARGIN_PEAK = 0.05
"""Reliance: the smallest excess of peak proxy reliance over 0.5 that counts (3 SE of one reading)."""
PEAK = 0.5

MAIN, NEGATIVE, POSITIVE = "main", "negative", "positive"
ARM_TEXT = {MAIN: f"rho={RHO}", NEGATIVE: f"control (negative): level-1 target chi_0, rho={RHO}",
            POSITIVE: f"control (positive): proxy decisive, rho={DECISIVE_RHO}"}


class Key(NamedTuple):
    """A condition: the world it is on (the hierarchy or a real dataset) and its arm."""

    dataset: str
    arm: str

    def label(self) -> str:
        return real_data.label(self.dataset, ARM_TEXT[self.arm])


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    h = real_data.HIERARCHY
    specs = {Key(h, MAIN): ctx.spec(world(RHO)),
             Key(h, NEGATIVE): ctx.spec(easy_target_world(RHO)),
             Key(h, POSITIVE): ctx.spec(world(DECISIVE_RHO))}
    for ds in real_data.DATASETS:
        specs[Key(ds, MAIN)] = real_data.spec(ctx, ds, RHO)
        specs[Key(ds, POSITIVE)] = real_data.spec(ctx, ds, DECISIVE_RHO)
    return specs


def onsets(r: RunResult) -> dict[str, np.ndarray]:
    return {
        "proxy": crossing(r.steps, r.curve("reliance", "proxy0"), RELIANCE_ONSET),
        "target": crossing(r.steps, r.curve("reliance", "target"), RELIANCE_ONSET),
        "target_decodable": crossing(r.steps, best_decodability(r, "target"), REPRESENTED),
    }


def reliance_lead(r: RunResult) -> tuple:
    """Mean log10 lead of target-reliance onset over proxy-reliance onset, interval over worlds."""
    on = onsets(r)
    return bootstrap_ci(log_lead(on["proxy"], on["target"], int(r.steps[-1])), np.mean, clusters=r.worlds)


def parts(r: RunResult, cond: str) -> list[Row]:
    """The three statistics of one ensemble, each with its verdict."""
    steps = int(r.steps[-1])
    on = onsets(r)
    rows: list[Row] = []
    for what, late in (("target reliance", on["target"]), ("target decodability", on["target_decodable"])):
        ci = bootstrap_ci(log_lead(on["proxy"], late, steps), np.mean, clusters=r.worlds)
        rows.append(Row.of(cond, f"log10 lead of {what} onset over proxy onset (margin {MARGIN_LEAD} decades)", ci,
                           verdict_above(ci[1], ci[2], 0.0, margin=MARGIN_LEAD), [r.run_id], kind="verdict"))
    ci = bootstrap_ci(r.curve("reliance", "proxy0").max(axis=1), np.mean, clusters=r.worlds)
    rows.append(Row.of(cond, f"peak proxy reliance (> {PEAK}, margin {MARGIN_PEAK})", ci,
                       verdict_above(ci[1], ci[2], PEAK, margin=MARGIN_PEAK), [r.run_id], kind="verdict"))
    return rows


def negative_control(r: RunResult, cond: str) -> tuple[Row, bool]:
    ci = reliance_lead(r)
    ok = ci[2] < MARGIN_LEAD  # the whole interval below the smallest lead that counts
    return control_row(cond, f"log10 lead of target reliance onset over proxy onset: must stay below {MARGIN_LEAD} "
                             "(target represented from the start)", ci, ok, [r.run_id], positive=False), ok


def positive_control(r: RunResult, cond: str) -> tuple[Row, bool]:
    ci = reliance_lead(r)
    ok = ci[1] > MARGIN_LEAD
    return control_row(cond, f"log10 lead of target reliance onset over proxy onset: must exceed {MARGIN_LEAD} "
                             "(proxy fits every training example)", ci, ok, [r.run_id], positive=True), ok


def decodable_shares(r: RunResult, cond: str) -> list[Row]:
    """A real class is not built to be absent at the start: how often it was decodable from step 0
    (the decodability lead is then ≤ 0) or never (the lead is then a censored lower bound)."""
    dec = onsets(r)["target_decodable"]
    return [Row.of(cond, f"fraction of seeds with the target decodable {what}",
                   bootstrap_ci(hit.astype(float), np.mean, clusters=r.worlds), "measurement", [r.run_id],
                   kind="measurement")
            for what, hit in (("at step 0", dec == 0), ("never", ~np.isfinite(dec)))]


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    """Rows and verdict (the hierarchy world's) from the runs of ``conditions``; each real dataset adds
    its rows and its own verdict row by the same rule."""
    h = real_data.HIERARCHY
    main = runs[Key(h, MAIN)]
    rows = parts(main, Key(h, MAIN).label())
    neg_row, neg_ok = negative_control(runs[Key(h, NEGATIVE)], Key(h, NEGATIVE).label())
    pos_row, pos_ok = positive_control(runs[Key(h, POSITIVE)], Key(h, POSITIVE).label())
    verdict = combine([r.verdict for r in rows], neg_ok, pos_ok)
    rows += [neg_row, pos_row]
    for ds in real_data.DATASETS:
        r_main = runs[Key(ds, MAIN)]
        r_rows = parts(r_main, Key(ds, MAIN).label())
        r_pos, r_pos_ok = positive_control(runs[Key(ds, POSITIVE)], Key(ds, POSITIVE).label())
        r_verdict = real_data.verdict_without_negative_control([r.verdict for r in r_rows], r_pos_ok)
        r_rows += [r_pos, real_data.no_control_row(
            ds, "negative", "the class cannot be made as easy as the marker: no condition where proxy-first must "
                            "vanish, so this dataset's verdict cannot be 'supported'")]
        r_rows += decodable_shares(r_main, Key(ds, MAIN).label())
        rows += r_rows + [real_data.verdict_row(ds, r_verdict, [i for r in r_rows for i in r.run_ids])]
    return rows, verdict


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    h = real_data.HIERARCHY
    curves = [("reliance", "proxy0", "proxy reliance"), ("reliance", "target", "target reliance")]
    extra = ("target decodability (best layer)", lambda r: best_decodability(r, "target"))
    return [reliance_figure(folder / "G1_reliance.png", "G1: proxy before target",
                            {k.label(): runs[k] for k in (Key(h, MAIN), Key(h, NEGATIVE), Key(h, POSITIVE))},
                            curves, extra=extra),
            reliance_figure(folder / "G1_reliance_real.png", "G1 on real data: marker before class",
                            {Key(ds, MAIN).label(): runs[Key(ds, MAIN)] for ds in real_data.DATASETS},
                            curves, extra=extra)]
