"""G6 — Once proxies fit, improving capability lowers the loss more than correcting the objective
("Greed Is the Root of This Evil", §2: the SGD can "tweak the mess of mesa-objectives ... or it can
just increase the power of the GPS").

Operationalization, per architecture (MLP, tiny transformer), on the ``setups`` world (target
χ_{01}, proxy a_4 at ρ = 0.9): at every step the first-order loss decrease ``−g·Δθ`` is split
between the "trunk" (every layer but the last: the world model) and the "head" (the readout: the
objective). Per seed, the head's share of the decrease before the proxy fits (steps up to the
proxy-reliance onset, ≥ 0.5) and after it. Statistic: share after − share before. Supported if its
CI lies below 0 (the objective's share falls once the proxy fits), refuted if above. Seeds whose
proxy never fits are left out, with a count. A measurement: CLAIMS.md gives no control.
"""

from __future__ import annotations

import numpy as np

from greedlab.claims import setups
from greedlab.claims.common import ClaimResult, Row, all_agree, bootstrap_ci, verdict_below
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import RELIANCE_ONSET, onset
from greedlab.report.figures import curves_figure

ID = "G6"
SUMMARY = "Once proxies fit, improving capability lowers the loss more than correcting the objective."
SOURCE = "greed-is-the-root-of-this-evil.txt, §2 “How does that lead to inner misalignment?”"
QUOTE = ("it can spend its \"budget\" to tweak the mess of mesa-objectives to more closely resemble the actual base "
         "objective, or it can just increase the power of the GPS")


def conditions(ctx: Context) -> dict[str, RunSpec]:
    return setups.attribution_specs(ctx)


def proxy_fit(r: RunResult) -> np.ndarray:
    return onset(r.steps, r.curve("reliance", "proxy0"), RELIANCE_ONSET)


def head_shares(r: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """(before, after) head share of the loss decrease per seed; NaN where the proxy never fits."""
    t = proxy_fit(r)
    fit = np.isfinite(t)
    t = np.where(fit, t, 0)
    end = np.full_like(t, r.steps[-1])
    before = setups.windows(r, np.zeros_like(t), t)
    after = setups.windows(r, t, end)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = before["head"] / (before["head"] + before["trunk"])
        a = after["head"] / (after["head"] + after["trunk"])
    return np.where(fit, b, np.nan), np.where(fit, a, np.nan)


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    rows, parts, curves = [], [], {}
    for a, r in runs.items():
        b, af = head_shares(r)
        ok = np.isfinite(b) & np.isfinite(af)
        ci = bootstrap_ci((af - b)[ok], np.mean)
        rows.append(Row(a, f"head share after proxy fit − before ({ok.sum()}/{len(ok)} seeds fit the proxy)", *ci,
                        verdict_below(ci[1], ci[2], 0.0), [r.run_id]))
        parts.append(rows[-1].verdict)
        for name, v in (("head share before proxy fit", b), ("head share after proxy fit", af)):
            rows.append(Row(a, name, *bootstrap_ci(v[ok], np.mean), "measurement", [r.run_id]))
        for g in ("head", "trunk"):
            curves[f"{a}: {g}"] = r.curve("loss_decrease", g)
    verdict = all_agree(parts)
    steps = next(iter(runs.values())).steps
    fig = curves_figure(ctx.figures_dir / "G6_attribution.png", "G6/H2: loss decrease per step, by parameter group",
                        steps, curves, "first-order loss decrease per step", logy=True)
    return ClaimResult(ID, SUMMARY, verdict, rows, [fig])
