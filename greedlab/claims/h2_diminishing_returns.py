"""H2 — Returns to improving the proxy diminish faster than returns to improving the world model
("How likely is deceptive alignment", summary: "the returns to improving the model's understanding of the
world diminish more slowly than the returns to improving the model's proxy").

Operationalization: the G6 runs (per-group attribution of the first-order loss decrease, MLP and
tiny transformer). Per seed, each group's total decrease in an early window after the proxy fits,
(t_fit, 4·t_fit], and a late window, the second half of training. Statistic:
``log10(head late/early) − log10(trunk late/early)`` of the seed-mean decreases (bootstrapped over
seeds): below 0 when the head's (objective's) returns fall off faster than the trunk's (world
model's). Supported if its CI lies below 0 for every architecture, refuted if above for every one.
A measurement: CLAIMS.md gives no control.
"""

from __future__ import annotations

import numpy as np

from greedlab.claims import setups
from greedlab.claims.common import ClaimResult, Row, all_agree, bootstrap_ci, verdict_below
from greedlab.claims.context import Context
from greedlab.claims.g6_capability_over_objective import proxy_fit
from greedlab.experiment import RunSpec
from greedlab.report.figures import curves_figure

ID = "H2"
SUMMARY = "Returns to improving the proxy diminish faster than returns to improving the world model."
SOURCE = "how-likely-is-deceptive-alignment-summary.txt, on the path to deceptive alignment"
QUOTE = ("Hubinger argues that the returns to improving the model’s understanding of the world diminish more slowly "
         "than the returns to improving the model’s proxy.")


def conditions(ctx: Context) -> dict[str, RunSpec]:
    return setups.attribution_specs(ctx)


def _decay(x: np.ndarray) -> float:
    he, hl, te, tl = (x[:, k].mean() for k in range(4))
    if min(he, hl, te, tl) <= 0:
        return float("nan")  # a group whose loss decrease is not positive has no "returns" to compare
    return float(np.log10(hl / he) - np.log10(tl / te))


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    rows, parts, curves = [], [], {}
    for a, r in runs.items():
        t = proxy_fit(r)
        ok = np.isfinite(t)
        T = float(r.steps[-1])
        early = setups.windows(r, np.where(ok, t, 0), np.where(ok, np.minimum(4 * t, T / 2), 0))
        late = setups.windows(r, np.full(len(t), T / 2), np.full(len(t), T))
        wid_e = np.maximum(np.minimum(4 * t, T / 2) - t, 1)
        per_step = np.stack([early["head"] / wid_e, late["head"] / (T / 2),
                             early["trunk"] / wid_e, late["trunk"] / (T / 2)], axis=1)[ok]
        ci = bootstrap_ci(per_step, _decay)
        rows.append(Row(a, f"log10 decay of head returns − of trunk returns ({ok.sum()}/{len(ok)} seeds)", *ci,
                        verdict_below(ci[1], ci[2], 0.0), [r.run_id]))
        parts.append(rows[-1].verdict)
        names = ("head, early", "head, late", "trunk, early", "trunk, late")
        for k, name in enumerate(names):
            rows.append(Row(a, f"loss decrease per step: {name}", *bootstrap_ci(per_step[:, k], np.mean), "measurement",
                            [r.run_id]))
        for g in ("head", "trunk"):
            curves[f"{a}: {g}"] = r.curve("loss_decrease", g)
    verdict = all_agree(parts)
    steps = next(iter(runs.values())).steps
    fig = curves_figure(ctx.figures_dir / "H2_returns.png", "H2: returns per step, by parameter group", steps,
                        curves, "first-order loss decrease per step", logy=True)
    return ClaimResult(ID, SUMMARY, verdict, rows, [fig])
