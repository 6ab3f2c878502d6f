"""H2 — Returns to improving the proxy diminish faster than returns to improving the world model
("How likely is deceptive alignment", summary: "the returns to improving the model's understanding of the
world diminish more slowly than the returns to improving the model's proxy").

Operationalization: the G6 runs (``setups.attribution_conditions``: per-group attribution of the
first-order loss decrease, MLP and tiny transformer). Per seed, each group's decrease per step in
an early window after the proxy fits, (t_fit, min(4·t_fit, T/2)], and a late window, the second half
of training (T/2, T]. Statistic: ``log10(head late/early) − log10(trunk late/early)`` of the
seed-mean returns, below 0 when the head's (objective's) returns fall off faster than the trunk's
(world model's); its interval resamples worlds (cluster bootstrap). A return that fell to nothing
(exactly 0: a frozen group's) reads as a fall of FLOOR_DECADES decades, further than any measured
(~4 at quick scale); a mean return below 0 has no "returns" to compare (no interval).
Margin: MARGIN = 0.2 decades (a factor 1.6 between the two decays), the smallest difference that counts.
Rule, per architecture (``verdict_below`` at 0 with MARGIN): supported if the interval lies below
−MARGIN, refuted if it lies above 0 (the head's returns fall off no faster than the trunk's),
inconclusive (underpowered) if it straddles while wider than 2·MARGIN. Supported if every
architecture supports it, refuted if every one refutes it (``all_agree``).
Attribution and noise floor (``train.Attribution``, ``setups.noise_floor``): ∇L in −∇L·Δθ is the
gradient of an independent batch, not of the batch that made the step, whose −g·Δθ holds a positive
noise term that no loss decrease pays for; near zero loss (the late window) it is most of the
reading. The independent estimate is unbiased; its noise is measured per step (successive
differences), a window's floor is FLOOR_Z = 2 standard errors of its estimated decrease, and a window
whose mean estimated decrease (signal) is not above its mean floor gives no verdict (the row says
so), nor passes a control. Rule changed after results: the floor was the attributed decrease the loss
did not realise, from the same-batch estimate; measured so at quick scale (8 MLP seeds), the late
window's returns were ~1e-7 per step and the loss realised 8.8e-5 of a fall against 3.2e-4
attributed but not realised: below that floor. The referee's objection made the estimate the
independent batch's, with the floor from its own noise. Measured so at quick scale (MLP arms, 16
seeds): the late window's estimated decrease is 9.2e-5 (~1.2e-7 per step, close to the 8.8e-5 the
loss realised) against a floor of 1.35e-5; the step's own batch read 4.3e-4 over the same steps.
The quick run (both architectures, rule unchanged after it): MLP 1.08 [0.97, 1.22] decades, refuted
with both controls passing; transformer 1.93 [1.74, 7.18], but its head-frozen control fails the floor
rule, its late window reading 0.0075 against a mean floor of 0.0127 carried by one seed of 8 (a late
burst: 0.050 against 0.101; the other seven's floors are ≤ 1e-5); overall inconclusive.

Controls (the G6 runs), per architecture:
- negative, "rho 0.5, no proxy": no proxy to fit; windows placed at the main arm's median proxy-fit
  step. If the head's returns fall off faster anyway (a readout learns first and saturates first,
  whatever the task), the statistic reads below −MARGIN: it must stay above −MARGIN (interval);
- positive, "head frozen early": the head trains for the first steps/25 only, so its late returns
  are 0 by hand while the trunk keeps learning: the statistic must read below −MARGIN (interval).
The controls train half the seeds (``setups.control_seeds``), two to a world as every arm of 8.
A failed control makes the verdict inconclusive: a failed negative one means effects are reported where
there are none, a failed positive one that the pipeline missed an effect planted by hand (so the
effect's absence refutes nothing, and its presence is read by an instrument in doubt).
"""

from __future__ import annotations

import math

import numpy as np

from greedlab.claims import setups
from greedlab.claims.common import INCONCLUSIVE, Row, all_agree, bootstrap_ci, combine, control_row, verdict_below
from greedlab.claims.context import Context
from greedlab.claims.setups import HEAD_FROZEN, MAIN, NO_PROXY, Attribution
from greedlab.experiment import RunResult, RunSpec
from greedlab.report.figures import curves_figure

ID = "H2"
SUMMARY = "Returns to improving the proxy diminish faster than returns to improving the world model."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, on the path to deceptive alignment"
QUOTE = ("Hubinger argues that the returns to improving the model’s understanding of the world diminish more slowly "
         "than the returns to improving the model’s proxy.")
MARGIN = 0.2
FLOOR_DECADES = 8.0
NAMES = ("head, early", "head, late", "trunk, early", "trunk, late")


def conditions(ctx: Context) -> dict[Attribution, RunSpec]:
    return setups.attribution_conditions(ctx)


def _decades(late: float, early: float) -> float:
    if early <= 0 or late < 0:
        return math.nan  # a group whose loss decrease is not positive has no "returns" to compare
    return max(math.log10(late / early), -FLOOR_DECADES) if late > 0 else -FLOOR_DECADES


def _decay(x: np.ndarray) -> float:
    """The statistic on (seeds, 4) per-step returns in NAMES order, from their means over seeds."""
    he, hl, te, tl = x.mean(axis=0).tolist()  # evaluated ~20,000 times per interval (bootstrap-t)
    return _decades(hl, he) - _decades(tl, te)


def returns(r: RunResult, split: np.ndarray | None = None) -> dict:
    """Per-step returns of each group in the early and late windows (``per_step``, (seeds, 4) in NAMES
    order, over the seeds with a split: ``used``), the windows' per-seed (signal, floor), and the
    statistic's ``ci``. The early window starts at each seed's proxy fit, or at ``split``."""
    t = setups.proxy_fit(r) if split is None else np.asarray(split, float)
    used = np.isfinite(t)
    T = float(r.steps[-1])
    t = np.where(used, t, 0)
    e_hi = np.minimum(4 * t, T / 2)
    early = setups.windows(r, t, e_hi)
    late = setups.windows(r, np.full(len(t), T / 2), np.full(len(t), T))
    wid_e = np.maximum(e_hi - t, 1)
    per_step = np.stack([early["head"] / wid_e, late["head"] / (T / 2),
                         early["trunk"] / wid_e, late["trunk"] / (T / 2)], axis=1)[used]
    bounds = ((t, e_hi), (np.full(len(t), T / 2), np.full(len(t), T)))
    floors = [tuple(x[used] for x in setups.noise_floor(r, lo, hi)) for lo, hi in bounds] if used.any() else []
    ci = bootstrap_ci(per_step, _decay, clusters=r.worlds[used])
    return dict(ci=ci, used=used, floors=floors, bounds=bounds, per_step=per_step)


def analyse(runs: dict[Attribution, RunResult]) -> tuple[list[Row], str]:
    rows, parts = [], []
    nan = float("nan")
    for a in dict.fromkeys(k.arch for k in runs):
        main, neg, pos = (runs[Attribution(a, arm)] for arm in (MAIN, NO_PROXY, HEAD_FROZEN))
        cond = Attribution(a, MAIN).label()
        m = returns(main)
        ci, used = m["ci"], m["used"]
        readable = setups.above_floor(m["floors"])
        verdict = verdict_below(ci[1], ci[2], 0.0, margin=MARGIN) if readable else INCONCLUSIVE
        rows.append(Row.of(cond, f"log10 decay of head returns − of trunk returns ({used.sum()}/{len(used)} seeds; "
                           f"supported below −{MARGIN}, refuted above 0){setups.floor_note(m['floors'])}", ci, verdict,
                           [main.run_id], "verdict"))
        for k, name in enumerate(NAMES):
            rows.append(Row.of(cond, f"loss decrease per step: {name}",
                               bootstrap_ci(m["per_step"][:, k], np.mean, clusters=main.worlds[used]), "measurement",
                               [main.run_id], "measurement"))
        rows += setups.floor_rows(cond, ("early", "late"), m["floors"], main, m["bounds"], used)

        fit = setups.proxy_fit(main)
        split = float(np.median(fit[np.isfinite(fit)])) if np.isfinite(fit).any() else nan
        n = returns(neg, np.full(len(neg.curve("train_loss")), split))
        neg_ok = bool(n["ci"][1] > -MARGIN) and setups.above_floor(n["floors"])
        rows.append(control_row(Attribution(a, NO_PROXY).label(),
                                f"log10 decay of head − trunk returns, windows from step {split:g} (the main arm's "
                                f"median proxy fit); no proxy: interval must lie above −{MARGIN}"
                                f"{setups.floor_note(n['floors'])}", n["ci"], neg_ok, [neg.run_id, main.run_id],
                                positive=False))
        p = returns(pos)
        pos_ok = bool(p["ci"][2] < -MARGIN) and setups.above_floor(p["floors"])
        rows.append(control_row(Attribution(a, HEAD_FROZEN).label(),
                                f"log10 decay of head − trunk returns ({p['used'].sum()}/{len(p['used'])} seeds); "
                                f"head frozen by hand: interval must lie below −{MARGIN}{setups.floor_note(p['floors'])}",
                                p["ci"], pos_ok, [pos.run_id], positive=True))
        parts.append(combine([verdict], neg_ok, pos_ok))
    return rows, all_agree(parts)


def figures(runs: dict[Attribution, RunResult], folder) -> list[str]:
    curves = {f"{k.label()}: {g}": r.curve("loss_decrease", g) for k, r in runs.items() if k.arm == MAIN
              for g in ("head", "trunk")}
    steps = next(r for k, r in runs.items() if k.arm == MAIN).steps
    return [curves_figure(folder / "H2_returns.png", "H2: returns per step, by parameter group", steps, curves,
                          "first-order loss decrease per step", logy=True)]
