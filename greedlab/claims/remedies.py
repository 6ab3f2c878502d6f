"""R — The remedies side by side: every counter to greed this project implements, on one world and
one budget ("Greed Is the Root of This Evil", §4 "What can be done?", and its comments).

World: G1's (target χ_{0123}, proxy a_4), at ρ = 0.9 and at ρ = 0.97 (where plain training keeps
more of its proxy, so a remedy has room to show). Budget: the scale's seeds (same init and
data-order seeds in every condition, so differences are paired per seed) and the scale's steps.
Conditions — each RunSpec is built exactly as the claim it comes from builds it, so the store trains
it once (at ρ = 0.9 they are those claims' own runs):
- none: the default MLP with Adam (G1's main run, X1's "adam");
- spectral decoupling (Pezeshki et al. 2021), λ by rule: the logistic loss's pull σ(−f) and the
  penalty's push λf balance at a margin f = 3 (95% confidence), ``λ = σ(−3)/3 ≈ 0.016``: logits stay
  confident but unsaturated, which is where gradient starvation sets in (Pezeshki et al.);
- L1 complexity, λ by rule: the penalty at initialization is 5% of the loss at chance,
  ``λ = 0.05·log 2 / E[Σ|W|]`` with E|W| = b/2 for nn.Linear's U(−b, b), b = 1/√fan_in;
- speed penalty: G9's penalized early-exit MLP; G9's unpenalized one is shown for reference;
- objective switch: half the steps on G7's B objective (χ_{0,1,2,3,8}, proxy a_5 at ρ = 0.9: it
  shares the target's latents, so its world model should hold the pieces of χ_{0123}), then half on
  the base objective — the same total steps as every other condition;
- cone descent at α = 30° with X1's SGD lr 0.3 (X1's run); SGD at that lr (X1's run) for reference;
- pragmascope regularizer, λ = 1 (G8's rule), on every step;
- clean-genie pipeline (G8's): half the steps predicting the world's effects (every level-2 monomial
  of latents 0..7) under the pragmascope regularizer, then half on the base objective with the
  regularizer relaxed and L1 — the same total steps (its compute column counts the regularizer's
  second forward pass).
Rows per condition: final deployment target and proxy reliance, final train loss, training compute
(forward FLOPs per example × batch × steps; expected exit depth for early exit), mean and 95% CI.

Statistic and verdict rule (fixed before any run): per condition, the paired difference of final
target reliance, condition − none; a row reads supported ("beats none") if its CI lies above 0,
refuted ("worse than none") if below 0, inconclusive otherwise. Overall, for the claim "some
remedy beats plain Adam on target reliance at equal budget": supported if any remedy's row is
supported (at either ρ); refuted if none is and every remedy's CI upper bound lies below 0.05 (none
can beat it by a margin worth having); inconclusive otherwise. With sixteen comparisons, one supported
row at 95% is weaker evidence than one claim's; the table reports every interval so the reader can judge.
"""

from __future__ import annotations

import math

import numpy as np

from greedlab.claims import presets, g7_objective_switch, g8_clean_genie, g9_speed_regularizer, x1_cone_descent
from greedlab.claims.common import INCONCLUSIVE, REFUTED, SUPPORTED, ClaimResult, Row, bootstrap_ci, verdict_above
from greedlab.claims.context import Context
from greedlab.experiment import RunSpec
from greedlab.models import MLPConfig
from greedlab.report.figures import strips_figure

ID = "R"
SUMMARY = "Some remedy for greed beats plain training on deployment target reliance at the same budget."
SOURCE = "greed-is-the-root-of-this-evil.txt, §4 “What can be done?” and comments"
QUOTE = ("replacing the SGD with something that takes the shortest and not the steepest path should just about fix "
         "the whole inner-alignment problem")
RHOS = (0.9, 0.97)
CONE_ALPHA = 30.0
SD = 1 / (1 + math.exp(3)) / 3
MARGIN = 0.05
NONE = "none (Adam)"
REFERENCE = ("early exit, no penalty", "sgd lr 0.3")  # baselines of two remedies, not remedies


def l1_strength(model: MLPConfig, input_dim: int) -> float:
    """λ such that λ·E[Σ|W|] at nn.Linear's initialization is 5% of log 2."""
    dims = [input_dim] + [model.width] * model.depth + [1]
    expected = sum(a * b * 0.5 / math.sqrt(a) for a, b in zip(dims[:-1], dims[1:]))
    return 0.05 * math.log(2) / expected


def conditions_at(ctx: Context, rho: float) -> dict[str, RunSpec]:
    """Every condition on G1's world at ``rho``; at ρ = 0.9 each is the very run its own claim trains."""
    world = presets.world(rho)
    half = max(ctx.scale.steps // 2, 1)
    switch = ctx.curriculum([ctx.stage(g7_objective_switch.B, half, name="objective B (G7)"),
                             ctx.stage(world, ctx.scale.steps - half, name="base objective")])
    l1 = l1_strength(MLPConfig(), world.input_dim)
    exit_model = g9_speed_regularizer.MODEL
    return {NONE: ctx.spec(world),
            f"spectral decoupling {SD:.3f}": ctx.spec(world, spectral_decoupling=SD),
            f"L1 {l1:.1e}": ctx.spec(world, l1=l1),
            f"pragmascope regularizer {g8_clean_genie.LAMBDA:g}": ctx.spec(world, pragmascope=g8_clean_genie.LAMBDA),
            "clean-genie pipeline (effects under pragmascope, then objective + relaxed reg + L1)":
                ctx.curriculum(g8_clean_genie.pipeline(ctx, world, half, n_evals=ctx.spec(world).train.n_evals // 2)),
            g9_speed_regularizer.PENALTY: ctx.spec(world, model=exit_model, speed_penalty=g9_speed_regularizer.SPEED),
            "early exit, no penalty": ctx.spec(world, model=exit_model),
            "objective switch (G7's B, then base)": switch,
            f"cone alpha={CONE_ALPHA:g}": ctx.spec(world, optimizer="cone", lr=x1_cone_descent.SGD_LR,
                                                  cone_alpha=CONE_ALPHA),
            "sgd lr 0.3": ctx.spec(world, optimizer="sgd", lr=x1_cone_descent.SGD_LR)}


def conditions(ctx: Context) -> dict[str, RunSpec]:
    return {f"rho={rho}: {c}": spec for rho in RHOS for c, spec in conditions_at(ctx, rho).items()}


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


def overall(verdicts: dict[str, str], highs: dict[str, float], margin: float = MARGIN) -> str:
    """The rule of the docstring over the remedies' rows (references left out)."""
    if SUPPORTED in verdicts.values():
        return SUPPORTED
    return REFUTED if all(h < margin for h in highs.values()) else INCONCLUSIVE


def run(ctx: Context) -> ClaimResult:
    runs = ctx.run_all(ID, conditions(ctx))
    rows, verdicts, highs, figs = [], {}, {}, []
    for rho in RHOS:
        tag = f"rho={rho}: "
        here = {c[len(tag):]: r for c, r in runs.items() if c.startswith(tag)}
        none = here[NONE]
        for cond, r in here.items():
            if cond == NONE:
                continue
            ci = bootstrap_ci(r.final("reliance", "target") - none.final("reliance", "target"), np.mean)
            v = verdict_above(ci[1], ci[2], 0.0)
            rows.append(Row(f"{tag}{cond} − none", "final target reliance: difference (supported = beats none)", *ci,
                            v if cond not in REFERENCE else "measurement", [r.run_id, none.run_id]))
            if cond not in REFERENCE:
                verdicts[tag + cond], highs[tag + cond] = v, ci[2]
        for cond, r in here.items():
            for inst, feat, name in (("reliance", "target", "final target reliance"),
                                     ("reliance", "proxy0", "final proxy reliance"),
                                     ("train_loss", "", "final train loss")):
                rows.append(Row(tag + cond, name, *bootstrap_ci(r.final(inst, feat), np.mean), "measurement",
                                [r.run_id]))
            c = compute(r.spec)
            rows.append(Row(tag + cond, "training compute (forward FLOPs per model)", c, c, c, "measurement",
                            [r.run_id]))
            if ("exit_depth", "") in r.values:
                rows.append(Row(tag + cond, "final mean exit depth", *bootstrap_ci(r.final("exit_depth"), np.mean),
                                "measurement", [r.run_id]))
        panels = {name: {c: r.final("reliance", feat) for c, r in here.items()}
                  for feat, name in (("target", "final target reliance"), ("proxy0", "final proxy reliance"))}
        figs.append(strips_figure(ctx.figures_dir / f"R_remedies_rho{rho}.png",
                                  f"Remedies at equal budget (default world, ρ = {rho})", panels,
                                  "reliance at deployment, per seed"))
    return ClaimResult(ID, SUMMARY, overall(verdicts, highs), rows, figs)
