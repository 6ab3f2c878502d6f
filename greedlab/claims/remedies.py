"""R — The remedies side by side: every counter to greed this project implements, on one world and
one budget ("Greed Is the Root of This Evil", §4 "What can be done?", and its comments).

World: G1's (target χ_{0123}, proxy a_4), at ρ = 0.9 and at ρ = 0.97 (where plain training keeps
more of its proxy, so a remedy has room to show). Budget: the scale's members (the same worlds,
inits and data orders in every condition, so differences are paired per member) and the scale's
steps. Conditions — each RunSpec is built exactly as the claim it comes from builds it (from
``presets``), so the store trains it once:
- none: the default MLP with Adam (X1's "adam", G3's run at each ρ);
- spectral decoupling (Pezeshki et al. 2021), λ by rule: the logistic loss's pull σ(−f) and the
  penalty's push λf balance at a margin f = 3 (95% confidence), ``λ = σ(−3)/3 ≈ 0.016``: logits stay
  confident but unsaturated, which is where gradient starvation sets in (Pezeshki et al.);
- L1 complexity, λ by rule (``presets.l1_strength``): the penalty at initialization is 5% of the
  loss at chance, ``λ = 0.05·log 2 / E[Σ|W|]`` with E|W| = b/2 for nn.Linear's U(−b, b), b = 1/√fan_in;
- speed penalty: G9's penalized early-exit MLP; G9's unpenalized one is shown for reference;
- objective switch: half the steps on G7's B objective (χ_{0,1,2,3,8}, proxy a_5 at ρ = 0.9: it
  shares the target's latents, so its world model should hold the pieces of χ_{0123}), then half on
  the base objective — the same total steps as every other condition;
- cone descent at α = 30° with X1's SGD lr 0.3 (X1's run); SGD at that lr (X1's run) for reference;
- pragmascope regularizer, λ = 1 (G8's rule), on every step;
- clean-genie pipeline (``presets.genie_pipeline``): half the steps predicting the world's effects
  (every level-2 monomial of latents 0..7) under the pragmascope regularizer, then half on the base
  objective with the regularizer relaxed and L1 — the same total steps (its compute column counts the
  regularizer's second forward pass). As in G8, no effect, and no product of effects, is the target:
  pairs holding latent 3 are left out (``presets.effects``; until this was fixed, the pairs
  {0,1}×{2,3}, {0,2}×{1,3}, {0,3}×{1,2} multiplied to χ_{0123}, and pretraining handed the model the
  target).
Rows per condition: final deployment target and proxy reliance (hard and soft), final train loss,
training compute (forward FLOPs per example × batch × steps; expected exit depth for early exit), mean
and 95% interval over worlds.

Statistic and verdict rule: per remedy and ρ, the paired difference of final *hard* target reliance
E[sign(f)·χ_T], remedy − none (``RELIANCE``). Until the quick runs of this version, the rule read the
soft coefficient E[(2σ(f) − 1)·χ_T], which mixes confidence with use: an exact χ_T model
reads 0.76 at logit 2, so spectral decoupling, which caps logits near 3, could not score above ≈ 0.9
whatever it learned. The switch was made because of that argument, before any run read it; the soft
differences stay in the report beside the hard ones. Margin MARGIN = 0.05 of reliance: the smallest gain worth having.
Fourteen comparisons decide the claim (seven remedies × two ρ; the two references are reported, not
counted), so each interval is Holm-adjusted (``stats.holm_intervals``: the step-down levels at which
Holm's procedure tests each against the margin); each row's verdict is the margin-aware helper's on
its adjusted interval: supported ("beats none by the margin"), refuted ("a gain of the margin ruled
out"), or inconclusive. Overall, for the claim "some remedy beats plain Adam on target reliance at
equal budget": supported if any remedy's row is supported and the negative control passed; refuted
if every remedy's row is refuted and the positive control passed at both ρ (the claim is refuted by
an absence); inconclusive otherwise.

Budget check (measurements, no verdict): plain Adam and the seven remedies again at ρ = 0.97 with
LONGER = 2 × the steps, on the first half of the members; each remedy's gain there, and the rank
agreement (Kendall τ) of the remedies' mean gains at 1× and 2×: does the ranking hold when training
runs longer, or does a remedy only buy time?

Controls (rows of kind "control"; hard reliance as the rule):
- negative, "a remedy too weak to act": the speed penalty at λ/100 on the early-exit MLP at ρ = 0.97
  (G9's negative control, the same run) against that architecture without a penalty: chance, the
  pairing and two runs of a member drifting apart at a ρ where the end is path dependent are all
  there, the remedy is not; it must not read as beating its reference: interval's upper end below
  MARGIN.
- positive, "the remedy by construction": data in which the proxy carries no information (ρ = 0.5,
  G3's run) against none at each ρ: removing the proxy's agreement is what every remedy tries to
  approximate, so target reliance must read above +MARGIN. Where it does not (at ρ = 0.9 plain Adam
  may already sit near its ceiling), no remedy could show a gain there, and that ρ's rows cannot
  refute the claim.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab import stats
from greedlab.claims import presets
from greedlab.claims.common import (DIFFERENCE_OF_RELIANCES, INCONCLUSIVE, REFUTED, SUPPORTED, Row, bootstrap_ci,
                                    control_row, verdict_above)
from greedlab.claims.common import RELIANCE as RELIANCE_RANGE
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.models import MLPConfig
from greedlab.report.figures import strips_figure

ID = "R"
SUMMARY = "Some remedy for greed beats plain training on deployment target reliance at the same budget."
SOURCE = "greed-is-the-root-of-this-evil.txt, §4 “What can be done?” and comments"
QUOTE = ("replacing the SGD with something that takes the shortest and not the steepest path should just about fix "
         "the whole inner-alignment problem")
RHOS = (0.9, 0.97)
NO_PROXY_RHO = 0.5
CONTROL_RHO = 0.97
CONE_ALPHA = 30.0
SD = 1 / (1 + math.exp(3)) / 3
MARGIN = 0.05
"""Reliance: the smallest gain in final target reliance over plain Adam worth having."""
LONGER = 2
"""The budget check trains plain Adam and every remedy at CONTROL_RHO for this many times the steps."""
RELIANCE = "hard_reliance"
"""The verdicts read hard reliance, E[sign(f)·χ_T] (the soft coefficient mixes confidence with use:
spectral decoupling caps logits near 3, which would cap its soft score near 0.9 whatever it learned);
the soft one is reported beside it."""
l1_strength = presets.l1_strength

NONE, SPECTRAL, L1, PRAGMASCOPE, GENIE = "none", "spectral", "l1", "pragmascope", "genie"
SPEED, EXIT, SWITCH, CONE, SGD = "speed", "early exit", "switch", "cone", "sgd"
BALANCED, TOO_WEAK = "balanced data", "speed/100"
REFERENCES = (EXIT, SGD)  # baselines of two remedies, not remedies
REMEDIES = (GENIE, L1, PRAGMASCOPE, SPECTRAL, SPEED, SWITCH, CONE)


def _text(remedy: str, input_dim: int) -> str:
    return {NONE: "none (Adam)", SPECTRAL: f"spectral decoupling {SD:.3f}",
            L1: f"L1 {l1_strength(MLPConfig(), input_dim):.1e}",
            PRAGMASCOPE: f"pragmascope regularizer {presets.PRAGMASCOPE_LAMBDA:g}",
            GENIE: "clean-genie pipeline (effects under pragmascope, then objective + relaxed reg + L1)",
            SPEED: f"speed penalty {presets.SPEED:.3f}", EXIT: "early exit, no penalty",
            SWITCH: "objective switch (G7's B, then base)", CONE: f"cone alpha={CONE_ALPHA:g}",
            SGD: f"sgd lr {presets.SGD_LR:g}", BALANCED: "balanced data (positive control)",
            TOO_WEAK: f"speed penalty {presets.SPEED / 100:.5f} (negative control: too weak to act)"}[remedy]


class Key(NamedTuple):
    """A condition: the world's ρ, the remedy and its budget (1: the scale's steps; LONGER: that many
    times as many, the budget check)."""

    rho: float
    remedy: str
    budget: int = 1

    def label(self) -> str:
        more = "" if self.budget == 1 else f", {self.budget}× steps (budget check)"
        return f"rho={self.rho}: {_text(self.remedy, presets.world(self.rho).input_dim)}{more}"


def conditions_at(ctx: Context, rho: float) -> dict[str, RunSpec]:
    """Every condition on G1's world at ``rho``, by remedy; each the very run its own claim trains."""
    world = presets.world(rho)
    half = max(ctx.scale.steps // 2, 1)
    switch = ctx.curriculum([ctx.stage(presets.SWITCH_B, half, name="objective B (G7)"),
                             ctx.stage(world, ctx.scale.steps - half, name="base objective")])
    exit_model = presets.EXIT_MODEL
    return {NONE: ctx.spec(world),
            SPECTRAL: ctx.spec(world, spectral_decoupling=SD),
            L1: ctx.spec(world, l1=l1_strength(MLPConfig(), world.input_dim)),
            PRAGMASCOPE: ctx.spec(world, pragmascope=presets.PRAGMASCOPE_LAMBDA),
            GENIE: ctx.curriculum(presets.genie_pipeline(ctx, world, half, n_evals=ctx.spec(world).train.n_evals // 2)),
            SPEED: ctx.spec(world, model=exit_model, speed_penalty=presets.SPEED),
            EXIT: ctx.spec(world, model=exit_model),
            SWITCH: switch,
            CONE: ctx.spec(world, optimizer="cone", lr=presets.SGD_LR, cone_alpha=CONE_ALPHA),
            SGD: ctx.spec(world, optimizer="sgd", lr=presets.SGD_LR)}


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    out = {Key(rho, remedy): spec for rho in RHOS for remedy, spec in conditions_at(ctx, rho).items()}
    # the budget check: plain Adam and every remedy at CONTROL_RHO with LONGER × the steps, on the
    # first half of the members (paired with each other and with the same members at 1×)
    longer = replace(ctx, scale=replace(ctx.scale, steps=LONGER * ctx.scale.steps))
    for remedy, spec in conditions_at(longer, CONTROL_RHO).items():
        if remedy in (NONE, *REMEDIES):
            out[Key(CONTROL_RHO, remedy, LONGER)] = presets.first_half(spec)
    out[Key(NO_PROXY_RHO, BALANCED)] = ctx.spec(presets.world(NO_PROXY_RHO))  # G3's ρ = 0.5 run
    out[Key(CONTROL_RHO, TOO_WEAK)] = presets.first_half(ctx.spec(presets.world(CONTROL_RHO), model=presets.EXIT_MODEL,
                                                                  speed_penalty=presets.SPEED / 100))  # G9's control
    return out


def compute(spec: RunSpec) -> float:
    """Forward FLOPs spent in training per model: per example × batch × steps, over every stage; a
    stage under the pragmascope regularizer runs a second forward pass (on the resampled inputs), and
    an effects stage's decoder adds its own multiply-adds."""
    per = spec.model.flops_per_example(spec.world.input_dim)
    total = 0.0
    for st in spec.plan:
        step = per * (2 if st.train.pragmascope > 0 else 1)
        if st.world.objective == "effects":
            step += 2 * spec.model.width * st.world.effect_dim  # the decoder reads one hidden layer
        total += step * st.train.batch_size * st.train.steps
    return float(total)


def paired_gain(a: RunResult, b: RunResult, instrument: str = RELIANCE):
    """(a − b final target reliance per member, worlds) over the members both runs kept."""
    a, b = presets.paired_members(a, b)
    return a.final(instrument, "target") - b.final(instrument, "target"), a.worlds


def gain_ci(d: np.ndarray, worlds: np.ndarray, level: float = stats.LEVEL):
    """The mean paired gain's interval, inside the range of a difference of two reliances."""
    return bootstrap_ci(d, np.mean, clusters=worlds, level=level, support=DIFFERENCE_OF_RELIANCES)


def kendall_tau(x, y) -> float:
    """Kendall's τ-a of two equally long sequences (pairs tied in either count as neither):
    the budget check's rank agreement of the remedies' gains, 7 values, no interval."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    i, j = np.triu_indices(len(x), 1)
    s = np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
    return float(s.sum() / len(s)) if len(s) else float("nan")


def overall(verdicts: dict, negative_ok: bool, positive_ok: bool) -> str:
    """The docstring's rule over the remedies' rows (references left out)."""
    if SUPPORTED in verdicts.values():
        return SUPPORTED if negative_ok else INCONCLUSIVE
    if verdicts and all(v == REFUTED for v in verdicts.values()) and positive_ok:
        return REFUTED
    return INCONCLUSIVE


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    rows: list[Row] = []
    family = [(rho, remedy) for rho in RHOS for remedy in REMEDIES]
    gains = {(rho, remedy): paired_gain(runs[Key(rho, remedy)], runs[Key(rho, NONE)]) for rho in RHOS
             for remedy in (*REMEDIES, *REFERENCES)}

    def at(key):
        return lambda level: gain_ci(*gains[key], level=level)

    adjusted = dict(zip(family, stats.holm_intervals([at(k) for k in family], [MARGIN] * len(family))))
    verdicts = {}
    for rho in RHOS:
        none = runs[Key(rho, NONE)]
        for remedy in (*REMEDIES, *REFERENCES):
            r = runs[Key(rho, remedy)]
            cond = f"{Key(rho, remedy).label()} − none"
            if remedy in REMEDIES:
                ci = adjusted[rho, remedy]
                v = verdict_above(ci[1], ci[2], 0.0, margin=MARGIN)
                verdicts[rho, remedy] = v
                rows.append(Row.of(cond, f"final hard target reliance: difference (beats none by {MARGIN}; Holm-"
                                   f"adjusted over {len(family)} comparisons)", ci, v, [r.run_id, none.run_id],
                                   "verdict"))
            else:
                rows.append(Row.of(cond, "final hard target reliance: difference (reference, not a remedy)",
                                   at((rho, remedy))(0.95), "measurement", [r.run_id, none.run_id], "measurement"))
            d, w = paired_gain(r, none, "reliance")
            rows.append(Row.of(cond, "final soft target reliance: difference (reported, not the rule's)",
                               gain_ci(d, w), "measurement", [r.run_id, none.run_id], "measurement"))
    balanced = runs[Key(NO_PROXY_RHO, BALANCED)]
    pos_ok = True
    for rho in RHOS:
        none = runs[Key(rho, NONE)]
        d, w = paired_gain(balanced, none)  # built with the same members as none: paired
        ci = gain_ci(d, w)
        ok = ci[1] > MARGIN
        pos_ok &= ok
        rows.append(control_row(f"{Key(NO_PROXY_RHO, BALANCED).label()} − rho={rho}: none (positive: the remedy by "
                                "construction)", f"final target reliance: difference (must lie above {MARGIN})", ci, ok,
                                [balanced.run_id, none.run_id], positive=True))
    weak, ref = runs[Key(CONTROL_RHO, TOO_WEAK)], runs[Key(CONTROL_RHO, EXIT)]
    d, w = paired_gain(weak, ref)
    ci = gain_ci(d, w)
    neg_ok = ci[2] < MARGIN
    rows.append(control_row(f"{Key(CONTROL_RHO, TOO_WEAK).label()} − {Key(CONTROL_RHO, EXIT).label()}",
                            f"final target reliance: difference (must lie below {MARGIN})", ci, neg_ok,
                            [weak.run_id, ref.run_id], positive=False))
    rows += budget_rows(runs, {rm: float(np.mean(gains[CONTROL_RHO, rm][0])) for rm in REMEDIES})
    for key, r in runs.items():
        for inst, feat, name in (("hard_reliance", "target", "final hard target reliance"),
                                 ("hard_reliance", "proxy0", "final hard proxy reliance"),
                                 ("reliance", "target", "final target reliance"),
                                 ("reliance", "proxy0", "final proxy reliance"),
                                 ("train_loss", "", "final train loss")):
            rng = RELIANCE_RANGE if "reliance" in inst else None
            rows.append(Row.of(key.label(), name, bootstrap_ci(r.final(inst, feat), np.mean, clusters=r.worlds,
                                                               support=rng),
                               "measurement", [r.run_id], "measurement"))
        c = compute(r.spec)
        rows.append(Row(key.label(), "training compute (forward FLOPs per model)", c, c, c, "measurement", [r.run_id],
                        "measurement"))
        if ("exit_depth", "") in r.values:
            rows.append(Row.of(key.label(), "final mean exit depth",
                               bootstrap_ci(r.final("exit_depth"), np.mean, clusters=r.worlds), "measurement",
                               [r.run_id], "measurement"))
    return rows, overall(verdicts, neg_ok, pos_ok)


def budget_rows(runs: dict[Key, RunResult], gains_1x: dict[str, float]) -> list[Row]:
    """The budget check (measurements; the verdict is decided at 1×): each remedy's paired gain over
    plain Adam at LONGER × the steps, and the rank agreement (Kendall τ) of the remedies' mean gains
    at 1× and at LONGER ×: near 1, the ranking holds when training runs longer."""
    if Key(CONTROL_RHO, NONE, LONGER) not in runs:
        return []
    rows, gains = [], {}
    none = runs[Key(CONTROL_RHO, NONE, LONGER)]
    for remedy in REMEDIES:
        r = runs[Key(CONTROL_RHO, remedy, LONGER)]
        d, w = paired_gain(r, none)
        gains[remedy] = float(np.mean(d))
        rows.append(Row.of(f"{Key(CONTROL_RHO, remedy, LONGER).label()} − none",
                           "final hard target reliance: difference (budget check, no verdict)",
                           gain_ci(d, w), "measurement", [r.run_id, none.run_id], "measurement"))
    order = list(REMEDIES)
    tau = kendall_tau([gains_1x[m] for m in order], [gains[m] for m in order])
    best = (max(order, key=gains_1x.get), max(order, key=gains.get))
    nan = float("nan")
    rows.append(Row(f"rho={CONTROL_RHO}: remedies at 1× and {LONGER}× steps",
                    f"rank agreement of the {len(order)} remedies' mean gains, Kendall τ (best at 1×: {best[0]}; "
                    f"at {LONGER}×: {best[1]})", tau, nan, nan, "measurement",
                    [runs[Key(CONTROL_RHO, m, LONGER)].run_id for m in order], kind="measurement"))
    return rows


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    figs = []
    for rho in RHOS:
        here = {_text(k.remedy, presets.world(rho).input_dim): r for k, r in runs.items()
                if k.rho == rho and k.budget == 1}
        panels = {name: {c: r.final(RELIANCE, feat) for c, r in here.items()}
                  for feat, name in (("target", "final hard target reliance"),
                                     ("proxy0", "final hard proxy reliance"))}
        figs.append(strips_figure(folder / f"R_remedies_rho{rho}.png",
                                  f"Remedies at equal budget (default world, ρ = {rho})", panels,
                                  "reliance at deployment, per member"))
    return figs
