"""G8 — A pragmascope regularizer, a clean generative world model and command training yield a
command-following ("genie") model with fewer shallow heuristics ("Greed Is the Root of This Evil",
§4 "What can be done?").

World: the ``setups`` command world (commands naming sets of 1–2 of latents 0..7, 8 held out;
the target's command χ_{01} has the proxy a_4 agreeing with it at ρ = 0.9 in training), with
*effects*: the level-2 monomials of latents 0..7 the world model must predict (rendered into effect
pixels, never shown as inputs) — all but the target χ_{01} and the held-out command sets
(``held_out_of_pretraining``): pretraining that predicted those would hand the model the very
parities it is later scored on, so its advantage would be the answer key, not a clean world model.
Nor may a product of effects give the target (χ_{02}·χ_{12} = χ_{01}): pairs holding latent 1 are left
out too (``presets.effects``; tested with ``presets.in_span``). Before that was fixed, the quick-scale
runs' effects held four such pairs (χ_{12}, χ_{13}, χ_{15}, χ_{17}); none of those runs was scored.
S = the scale's steps.
Conditions (MLP, the same members everywhere: worlds, inits, data orders):
- clean genie: (1) S steps predicting the effects from the inputs (self-supervised) under the
  pragmascope regularizer, λ = 1 (``presets.PRAGMASCOPE_LAMBDA``); (2) S steps of command training
  with the regularizer relaxed (λ falling linearly to 0) plus the L1 complexity regularizer (λ by the
  remedies table's rule) — ``presets.genie_pipeline``;
- genie without the pragmascope (λ = 0): what effects pretraining and L1 do alone;
- genie, random features: the regularizer on a random subspace of the same dimension (reported;
  no longer a control: a penalty on the wrong subspace is ruinous, so it could not fail);
- plain, equal steps: 2S steps of command training;
- plain, equal compute: 4S steps (the regularizer's second forward pass doubles a step's cost, so
  the genie spends about 4S plain steps' compute).

Measured with the target's command shown on every deployment sample (latents uniform): proxy
reliance, target reliance; and accuracy on held-out commands.
Statistics (paired per member, mean with a 95% interval over worlds), margins stated here:
- d1 = proxy reliance, genie − plain at equal compute: fewer heuristics, below 0 beyond MARGIN = 0.02
  (plain training ends near 0.07, so 0.02 is the smallest share of it that counts);
- d2 = held-out accuracy, genie − plain at equal compute: not sacrificed when the interval lies above
  −HELDOUT_LOSS = 0.05, sacrificed when it lies below it;
- d5 = proxy reliance, genie − genie without the pragmascope: the regularizer's own share, below 0
  beyond MARGIN (the claim credits the pragmascope, not effects pretraining alone).
Verdict rule: ``common.combine`` over d1, d2, d5 and the controls: supported if all three are and
both controls pass; refuted if one is refuted (by the absence of an effect — d1 or d5 ruling out a
fall of the margin — only if the positive control passed); inconclusive otherwise.

Controls (rows of kind "control"), on the same world at ρ = 0.5 (a_4 independent of the target's
label in training), each arm the first half of its ρ = 0.9 arm's members (so paired with each other
and with those members):
- negative, "no heuristic to shed": clean genie − plain (equal compute) at ρ = 0.5. There is no
  proxy to shed, but a_4 is still a training command of its own, so a model can carry a_4 into the
  target's answer by leakage between commands, and a pipeline that merely leaks less would read as
  "fewer heuristics". d1 there must lie above −MARGIN.
- positive, "a heuristic removed by hand": plain (equal compute) at ρ = 0.5 − plain at ρ = 0.9: taking
  the proxy's agreement out of the data removes the heuristic, so the same statistic must read a fall
  in proxy reliance beyond MARGIN (interval below −MARGIN), or it could not see one.
The pragmascope itself is scored on this world's ground truth (control rows, a property of the
data): recovery R² of every latent and every effect abstraction from what it finds (positive: it
sees what is there), and nothing taken from pure-noise columns (negative).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from greedlab.claims import presets, setups
from greedlab.claims.common import (ACCURACY, DIFFERENCE_OF_ACCURACIES, DIFFERENCE_OF_RELIANCES, INCONCLUSIVE, REFUTED,
                                    RELIANCE, SUPPORTED, Row, bootstrap_ci, combine, control_row, verdict_below)
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.report.figures import reliance_figure, strips_figure
from greedlab.worlds import HierarchyConfig

ID = "G8"
SUMMARY = ("Pragmascope regularizer + clean world model + command training yields a command follower with fewer "
           "shallow heuristics.")
SOURCE = "greed-is-the-root-of-this-evil.txt, §4 “What can be done?”"
QUOTE = ("hook the pragmascope to a regularizer [...] train a clean generative world model [...] then train it to "
         "follow commands")
RHO, NO_PROXY_RHO = 0.9, 0.5
LAMBDA = presets.PRAGMASCOPE_LAMBDA
MARGIN = 0.02
"""Reliance: the smallest fall in proxy reliance that counts (plain training ends near 0.07)."""
HELDOUT_LOSS = 0.05
"""Held-out command accuracy the genie may give up and still count as "not sacrificed"."""
RECOVERED = 0.75  # a latent or effect abstraction counts as found at this R² (linear read-out at σ = 0.5 tops ~0.94)
NOISE_R2 = 0.05

GENIE, RANDOM, NO_PRAG, PLAIN_STEPS, PLAIN_COMPUTE = "genie", "random", "no pragmascope", "plain steps", "plain compute"
ARM_TEXT = {GENIE: "clean genie", RANDOM: "genie, random features", NO_PRAG: "genie without pragmascope (λ = 0)",
            PLAIN_STEPS: "plain, equal steps", PLAIN_COMPUTE: "plain, equal compute"}


class Key(NamedTuple):
    """A condition: the arm and the proxy's agreement ρ in training."""

    arm: str
    rho: float = RHO

    def label(self) -> str:
        return ARM_TEXT[self.arm] + ("" if self.rho == RHO else f", rho={self.rho} (control)")


def held_out_of_pretraining() -> tuple[tuple[int, ...], ...]:
    """The sets effects pretraining must not predict: the target's and every held-out command's."""
    _, held = setups.commands()
    return (setups.TARGET, *held)


def effects() -> tuple[tuple[int, ...], ...]:
    """The consequences the world model predicts: level-2 monomials of the command pool's latents,
    the target's and the held-out commands' sets excluded, and every pair holding latent 1, so that no
    product of effects gives the target either (χ_{02}·χ_{12} = χ_{01}; ``presets.effects``)."""
    return presets.effects(exclude=held_out_of_pretraining(), target=setups.TARGET)


def worlds(rho: float = RHO) -> tuple[HierarchyConfig, HierarchyConfig]:
    """(command world, the same world with the effects objective)."""
    train, held = setups.commands()
    cmd = setups.world(rho=rho, objective="command", commands=train, heldout_commands=held)
    return cmd, replace(cmd, objective="effects", effects=effects())


def conditions(ctx: Context) -> dict[Key, RunSpec]:
    S = ctx.scale.steps
    out = {}
    for rho in (RHO, NO_PROXY_RHO):
        cmd, _ = worlds(rho)
        pipe = functools.partial(presets.genie_pipeline, ctx, cmd, S, exclude=held_out_of_pretraining())
        # the controls train the first half of the main arms' members (paired with them)
        half = (lambda spec: spec) if rho == RHO else presets.first_half
        out[Key(GENIE, rho)] = half(ctx.curriculum(pipe()))
        out[Key(PLAIN_COMPUTE, rho)] = half(ctx.spec(cmd, steps=4 * S, n_evals=24))
        if rho == RHO:
            out[Key(RANDOM)] = ctx.curriculum(pipe(features="random"))
            out[Key(NO_PRAG)] = ctx.curriculum(pipe(lam=0.0))
            out[Key(PLAIN_STEPS)] = ctx.spec(cmd, steps=2 * S, n_evals=24)
    return out


def scorecard_rows() -> tuple[list[Row], bool, bool]:
    """The pragmascope against this world's ground truth (no training: a property of the data):
    (rows, recovery ok, noise ok)."""
    rows, ok_found, ok_noise = _scorecard_rows()
    return [replace(r) for r in rows], ok_found, ok_noise  # copies: callers own their rows


@functools.lru_cache(maxsize=1)  # a property of the fixed world: ~10 s, so once per process, not per report
def _scorecard_rows() -> tuple[tuple[Row, ...], bool, bool]:
    from greedlab.pragmascope import world_scorecard

    _, eff = worlds()
    s = world_scorecard(eff)
    ok_lat, ok_eff = s["latent_r2"].min() >= RECOVERED, s["effect_r2"].min() >= RECOVERED
    ok_n, ok_noise = s["n_features"] == s["n_true"], s["noise_r2"] < NOISE_R2
    nan = float("nan")
    cond = "pragmascope on this world"
    rows = [control_row(cond, f"worst recovery R² of the {len(s['latent_r2'])} latents (must reach {RECOVERED})",
                        (float(s["latent_r2"].min()), nan, nan), ok_lat, [], positive=True),
            control_row(cond, f"worst recovery R² of the {len(s['effect_r2'])} effect abstractions (must reach "
                        f"{RECOVERED})", (float(s["effect_r2"].min()), nan, nan), ok_eff, [], positive=True),
            control_row(cond, f"features found (true abstractions: {s['n_true']})",
                        (float(s["n_features"]), nan, nan), ok_n, [], positive=True),
            control_row(cond, f"best R² of a pure-noise column from the features (must stay below {NOISE_R2})",
                        (s["noise_r2"], nan, nan), ok_noise, [], positive=False)]
    return tuple(rows), bool(ok_lat and ok_eff and ok_n), bool(ok_noise)


NAMES = {"proxy": "proxy reliance, target commanded", "target": "target reliance, target commanded",
         "held": "held-out command accuracy", "seen": "seen-command accuracy"}


def values(r: RunResult) -> dict[str, np.ndarray]:
    return {"proxy": r.final("reliance@target_command", "proxy0"),
            "target": r.final("reliance@target_command", "target"),
            "held": r.final("command_acc", "heldout"), "seen": r.final("command_acc", "seen")}


def difference(a: RunResult, b: RunResult, what: str) -> tuple:
    """Mean of a − b per member (paired) with its interval over worlds."""
    a, b = presets.paired_members(a, b)
    rng = DIFFERENCE_OF_RELIANCES if what in ("proxy", "target") else DIFFERENCE_OF_ACCURACIES
    return bootstrap_ci(values(a)[what] - values(b)[what], np.mean, clusters=a.worlds, support=rng)


def not_sacrificed(d2: tuple) -> str:
    """d2's part: held-out accuracy kept within HELDOUT_LOSS (supported) or lost beyond it (refuted)."""
    if d2[1] > -HELDOUT_LOSS:
        return SUPPORTED
    if d2[2] < -HELDOUT_LOSS:
        return REFUTED
    return INCONCLUSIVE


def analyse(runs: dict[Key, RunResult]) -> tuple[list[Row], str]:
    genie, plain, no_prag = runs[Key(GENIE)], runs[Key(PLAIN_COMPUTE)], runs[Key(NO_PRAG)]
    d1, d2 = difference(genie, plain, "proxy"), difference(genie, plain, "held")
    d5 = difference(genie, no_prag, "proxy")
    ids = [genie.run_id, plain.run_id]
    rows = [Row.of("clean genie − plain (equal compute)", f"proxy reliance, target commanded (d1; margin {MARGIN})",
                   d1, verdict_below(d1[1], d1[2], 0.0, margin=MARGIN), ids, "verdict"),
            Row.of("clean genie − plain (equal compute)", f"held-out command accuracy (d2; may lose at most "
                   f"{HELDOUT_LOSS})", d2, not_sacrificed(d2), ids, "verdict"),
            Row.of("clean genie − genie without pragmascope", f"proxy reliance, target commanded (d5: the "
                   f"regularizer's own share; margin {MARGIN})", d5, verdict_below(d5[1], d5[2], 0.0, margin=MARGIN),
                   [genie.run_id, no_prag.run_id], "verdict")]
    parts = [r.verdict for r in rows]
    g0, p0 = runs[Key(GENIE, NO_PROXY_RHO)], runs[Key(PLAIN_COMPUTE, NO_PROXY_RHO)]
    neg = difference(g0, p0, "proxy")
    neg_ok = neg[1] > -MARGIN
    rows.append(control_row(f"clean genie − plain (equal compute), rho={NO_PROXY_RHO} (negative: no heuristic to shed)",
                            f"proxy reliance, target commanded (must lie above −{MARGIN})", neg, neg_ok,
                            [g0.run_id, p0.run_id], positive=False))
    pos = difference(p0, plain, "proxy")  # the first half of plain's members, paired
    pos_ok = pos[2] < -MARGIN
    rows.append(control_row(f"plain (equal compute), rho={NO_PROXY_RHO} − rho={RHO} (positive: heuristic removed "
                            "from the data)", f"proxy reliance, target commanded (must lie below −{MARGIN})", pos,
                            pos_ok, [p0.run_id, plain.run_id], positive=True))
    score, found_ok, noise_ok = scorecard_rows()
    rows += score
    verdict = combine(parts, neg_ok and noise_ok, pos_ok and found_ok)
    for key, what in ((Key(PLAIN_STEPS), "proxy"), (Key(RANDOM), "proxy"), (Key(RANDOM), "held")):
        r = runs[key]
        rows.append(Row.of(f"clean genie − {key.label()}", NAMES[what], difference(genie, r, what), "measurement",
                           [genie.run_id, r.run_id], "measurement"))
    rows.append(Row.of("clean genie − genie without pragmascope", "held-out command accuracy (the regularizer's own "
                       "share)", difference(genie, no_prag, "held"), "measurement", [genie.run_id, no_prag.run_id],
                       "measurement"))
    for key, r in runs.items():
        for what, v in values(r).items():
            rng = RELIANCE if what in ("proxy", "target") else ACCURACY
            rows.append(Row.of(key.label(), NAMES[what], bootstrap_ci(v, np.mean, clusters=r.worlds, support=rng),
                               "measurement", [r.run_id], "measurement"))
    return rows, verdict


def figures(runs: dict[Key, RunResult], folder: Path) -> list[str]:
    panels = {name: {k.label(): values(r)[what] for k, r in runs.items()}
              for what, name in (("proxy", "proxy reliance (target commanded)"),
                                 ("target", "target reliance (target commanded)"),
                                 ("held", "held-out command accuracy"))}
    return [strips_figure(folder / "G8_genie.png", "G8: clean-genie pipeline vs plain training and controls",
                          panels, "final value, per member"),
            reliance_figure(folder / "G8_curves.png", "G8: over training (pipeline stages in sequence)",
                            {k.label(): runs[k] for k in (Key(GENIE), Key(NO_PRAG), Key(PLAIN_COMPUTE))},
                            [("reliance@target_command", "proxy0", "proxy reliance"),
                             ("reliance@target_command", "target", "target reliance"),
                             ("command_acc", "heldout", "held-out command accuracy")])]
