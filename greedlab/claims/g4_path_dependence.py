"""G4 — Which features are learned, and in what order, is robust across runs; the final objective
(the mix of target and proxy reliance) is strongly path-dependent ("Greed Is the Root of This
Evil", §2, closing parenthesis).

Operationalization: on the default world at ρ ∈ {0.9, 0.97, 0.99}, two ensembles per ρ: one in
which only the initialization differs between seeds (one shared data order) and one in which only
the data order differs (one shared initialization).
- Order agreement: each seed's onset steps of five learning events (proxy reliance ≥ 0.5, target
  decodable ≥ 0.9, target reliance ≥ 0.5, train accuracy ≥ 0.99, deployment accuracy ≥ 0.9;
  'never' ties at the end); Kendall τ-b between every pair of seeds, averaged per seed. "High"
  means the CI of the mean lies above 0.5, in every condition.
- Objective dispersion: the std across seeds of final target reliance (also its IQR, the std of
  final proxy reliance and the pairwise disagreement rate on deployment, reported). "Dispersed"
  means the CI's low end exceeds 0.05 — three times the ~0.016 standard error of one reliance
  measurement on 4,096 deployment samples — at some ρ, for both sources of variation.
Controls ρ = 0.5 and ρ = 1.0 (seeds vary in both init and order; the runs G3 also uses): the
final objective must not be dispersed there (CI high end of the std below 0.05).

Real data (greedlab.claims.real_data): the same parts and controls on MNIST-1D and digits at
ρ = 0.97 (class group as target, marker as proxy).
"""

from __future__ import annotations

import itertools
from typing import Callable

import numpy as np
from scipy.stats import kendalltau

from greedlab.claims import real_data
from greedlab.claims.common import (INCONCLUSIVE, REFUTED, SUPPORTED, ClaimResult, Row, all_agree, any_supports,
                                    bootstrap_ci, censor,
                                    control_row, verdict_above)
from greedlab.claims.context import Context
from greedlab.claims.presets import best_decodability, world
from greedlab.experiment import RunResult, RunSpec
from greedlab.instruments import REPRESENTED, RELIANCE_ONSET, onset
from greedlab.report.figures import histograms_figure

ID = "G4"
SUMMARY = "Feature order is robust across runs; the final objective is path-dependent."
SOURCE = "greed-is-the-root-of-this-evil.txt, §2 “How does that lead to inner misalignment?” (closing parenthesis)"
QUOTE = ("The features the ML models learn, and their order, appear to be a robust function of the training data + "
         "the training process, so I suspect there isn't much variance across training runs. But the final "
         "mesa-objectives are a function of a function of ... a function of the initially-learned shallow "
         "heuristics — I expect there is strong path-dependence in that sense.")
RHOS = (0.9, 0.97, 0.99)
CONTROL_RHOS = (0.5, 1.0)
REAL_RHOS = (0.97,)  # on the hierarchy world the final objective dispersed only near ρ = 0.97
SOURCES = ("init", "order")
TAU_HIGH, DISPERSED = 0.5, 0.05


def conditions(ctx: Context) -> dict[str, RunSpec]:
    specs = {f"rho={rho}, {src} varied": ctx.spec(world(rho), vary=src) for rho in RHOS for src in SOURCES}
    specs.update({f"control rho={rho}": ctx.spec(world(rho)) for rho in CONTROL_RHOS})
    for src in SOURCES:
        specs.update(real_data.conditions(ctx, REAL_RHOS, control=False, vary=src, suffix=f", {src} varied"))
    for ds in real_data.DATASETS:
        specs.update({real_data.name(ds, f"control rho={rho}"): real_data.spec(ctx, ds, rho) for rho in CONTROL_RHOS})
    return specs


def event_onsets(r: RunResult) -> np.ndarray:
    """(N, 5) onset steps of the five learning events, censored one step past the end."""
    ev = [onset(r.steps, r.curve("reliance", "proxy0"), RELIANCE_ONSET),
          onset(r.steps, best_decodability(r, "target"), REPRESENTED),
          onset(r.steps, r.curve("reliance", "target"), RELIANCE_ONSET),
          onset(r.steps, r.curve("train_acc"), 0.99),
          onset(r.steps, r.curve("deploy_acc"), 0.9)]
    return censor(np.stack(ev, axis=1), int(r.steps[-1]))


def order_agreement(onsets: np.ndarray) -> np.ndarray:
    """(N,): each seed's mean Kendall τ-b with every other seed's event order (1 where both tie all)."""
    n = len(onsets)
    tau = np.eye(n)
    for i, j in itertools.combinations(range(n), 2):
        a, b = onsets[i], onsets[j]
        t = 1.0 if np.array_equal(a, b) else kendalltau(a, b).statistic
        tau[i, j] = tau[j, i] = 0.0 if np.isnan(t) else t
    return (tau.sum(axis=1) - 1) / max(n - 1, 1)


def _iqr(x: np.ndarray) -> float:
    q1, q3 = np.percentile(x, [25, 75])
    return float(q3 - q1)


def analyse(runs: dict[str, RunResult], rhos: tuple[float, ...],
            name: Callable[[str], str] = str) -> tuple[list[Row], str, tuple[str, str]]:
    """Order agreement and dispersion per ρ and source, and the controls, on runs named as in
    ``conditions`` (before ``name``). Returns the rows, the verdict and the parts' verdicts."""
    rows: list[Row] = []
    taus_ok, dispersed = [], {src: [] for src in SOURCES}
    for rho in rhos:
        for src in SOURCES:
            r = runs[f"rho={rho}, {src} varied"]
            cond = name(f"rho={rho}, {src} varied")
            tau = bootstrap_ci(order_agreement(event_onsets(r)), np.mean)
            rows.append(Row(cond, "order agreement: mean Kendall tau of event onsets", *tau,
                            verdict_above(tau[1], tau[2], TAU_HIGH), [r.run_id]))
            taus_ok.append(rows[-1].verdict)
            final_t = r.final("reliance", "target")
            sd = bootstrap_ci(final_t, np.std)
            rows.append(Row(cond, "dispersion: std of final target reliance", *sd,
                            verdict_above(sd[1], sd[2], DISPERSED), [r.run_id]))
            dispersed[src].append(rows[-1].verdict)
            for stat, fn, x in (("IQR of final target reliance", _iqr, final_t),
                                ("std of final proxy reliance", np.std, r.final("reliance", "proxy0")),
                                ("pairwise disagreement rate on deploy", np.mean, r.final("disagreement")),
                                ("mean final target reliance", np.mean, final_t)):
                rows.append(Row(cond, stat, *bootstrap_ci(x, fn), "measurement", [r.run_id]))
    ctrl_ok = True
    for rho in CONTROL_RHOS:
        r = runs[f"control rho={rho}"]
        sd = bootstrap_ci(r.final("reliance", "target"), np.std)
        ok = sd[2] < DISPERSED
        ctrl_ok &= ok
        rows.append(control_row(name(f"control rho={rho}"), "std of final target reliance", sd, ok, [r.run_id]))

    order = SUPPORTED if all(v == SUPPORTED for v in taus_ok) else (
        REFUTED if REFUTED in taus_ok else INCONCLUSIVE)
    # dispersed for a source if some ρ shows it; refuted only if no ρ could show it for either source
    per_src = [any_supports(v) for v in dispersed.values()]
    disp = all_agree(per_src)
    if REFUTED in (order, disp):
        verdict = REFUTED
    elif order == disp == SUPPORTED and ctrl_ok:
        verdict = SUPPORTED
    else:
        verdict = INCONCLUSIVE
    return rows, verdict, (order, disp)


def run(ctx: Context) -> ClaimResult:
    runs, real_runs = real_data.split(ctx.run_all(ID, conditions(ctx)))
    rows, verdict, (order, disp) = analyse(runs, RHOS)
    rows.append(Row("all rho, both sources", "parts: order robust / objective dispersed", float("nan"),
                    float("nan"), float("nan"), f"{order} / {disp}", [runs[k].run_id for k in runs]))
    spread = [i for i, r in enumerate(rows) if r.statistic.startswith("dispersion")]
    headline = max(spread, key=lambda i: rows[i].value)  # the most dispersed condition
    panels = {f"{src} varied": {f"rho={rho}": runs[f"rho={rho}, {src} varied"].final("reliance", "target")
                                for rho in RHOS} for src in SOURCES}
    panels["both varied (controls)"] = {f"rho={rho}": runs[f"control rho={rho}"].final("reliance", "target")
                                        for rho in CONTROL_RHOS}
    fig = histograms_figure(ctx.figures_dir / "G4_final_target_hist.png",
                            "G4: final target reliance across seeds", panels, "final target reliance")
    for ds, real in real_runs.items():
        r_rows, r_verdict, r_parts = analyse(real, REAL_RHOS, lambda c, ds=ds: real_data.name(ds, c))
        r_rows.append(Row(real_data.name(ds, "all rho, both sources"), "parts: order robust / objective dispersed",
                          float("nan"), float("nan"), float("nan"), " / ".join(r_parts),
                          [r.run_id for r in real.values()]))
        rows += r_rows + [real_data.verdict_row(ds, r_verdict, [i for r in r_rows for i in r.run_ids])]
    return ClaimResult(ID, SUMMARY, verdict, rows, [fig], headline=headline)
