"""H3's class pairs: volume against learning order and Fourier degree.

H3's default pair (target χ_{0123}, proxy a_4) is one in which every measure of simplicity agrees:
the proxy has the lower Fourier degree, is learned first and has the lower λ̂. SGD picking it then
credits none of them in particular. These pairs, declared before any of their λ̂ was measured, vary
the proxy's level and its rendering strength (``world.gains``: a latent rendered at gain g has g²
times the signal-to-noise ratio) so that the measures can come apart. A pilot before the design was
fixed (8 seeds, one run each, no λ̂; not evidence) read, per pair, the steps to a training loss of
0.01 on each class's own data and SGD's choice at ρ = 1: a_4 at gain 0.5 is learned *after* the
target (500 against 300 steps) yet chosen by 8/8 seeds under Adam and plain SGD; at gain 0.3 it is
learned later still (7/8 never reach 0.01) and plain SGD chooses the target (8/8), Adam mostly a mix.

Per pair, with H3's procedure (``h3_simplicity``): SGD's favourite at ρ = 1 under Adam and under
plain SGD (the scale's seeds; it counts only where both agree), and one representative per class
(trained on ρ = 0.5 data with that class's label, the scale's seeds) with λ̂ on the pair's ρ = 1
training set at the end. Not half the seeds: at 4 worlds of 2 the world bootstrap-t's interval on a
chain's drift reached −9.8 for drifts of SD 0.1 in this module's tests, so the plateau control would
fail on width alone. Not a second λ̂ at matched loss either (the default pair's control has it):
λ̂ costs ~1 core-minute per estimate, and the pairs record only the step where each member first
reaches training loss ≤ ``MATCH_LOSS`` on the ρ = 1 set (``LLCRunSpec.estimate_at_match``), which
gives the order below.
Three predictions of which class SGD picks:
- volume: the class with the lower λ̂ at the end (Δλ = λ̂(target) − λ̂(proxy), interval over worlds beyond
  ``MARGIN``: above it the proxy class has the lower λ̂, below −MARGIN the target class);
- order: the class whose representative first reaches training loss ≤ ``MATCH_LOSS`` on the ρ = 1
  set (median step over its kept seeds; decided when the two medians differ by a factor of at least
  ``ORDER_FACTOR``: the evaluation grid's neighbouring steps differ by < 2, so closer is a tie; a
  class none of whose seeds gets there is last);
- degree: the class whose feature has the lower Fourier degree (equal degrees: none).

Rule for the pairs row (fixed with the pairs, before any of their λ̂):
- a pair is *for* volume when SGD's favourite (agreed) is volume's class; *against* it when there is
  a favourite and Δλ's interval lies wholly on the favourite's wrong side of 0 (the favourite has the
  higher λ̂); a pair *separates* volume from order (or degree) when both are decided and differ;
- refuted if any pair is against volume; supported if none is and at least one pair that separates
  volume from order is for volume (SGD followed volume where order said otherwise); inconclusive
  otherwise — including when no pair separates them, whatever else agrees.
The plateau control (``h3_simplicity.PLATEAU``) applies to every pair's representatives as to the
default pair's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from greedlab.claims import presets
from greedlab.claims.common import INCONCLUSIVE, REFUTED, SUPPORTED, Row, bootstrap_ci, control_row
from greedlab.claims.context import Context
from greedlab.experiment import RunResult
from greedlab.instruments.model_class import classify
from greedlab.llc_runs import LLCRunSpec
from greedlab.worlds import HierarchyConfig, Proxy

ORDER_FACTOR = 2.0
"""Two classes' median steps to a fit must differ by at least this factor for one to come first."""
SMOKE_PAIRS = 1
"""At smoke scale (a pipeline check) only the first declared pair runs: every pair is the same pipeline."""


@dataclass(frozen=True)
class Pair:
    """A class pair: the target's latents, the proxy's latents and per-latent rendering gains."""

    name: str
    target: tuple[int, ...] = (0, 1, 2, 3)
    proxy: tuple[int, ...] = (presets.PROXY_LATENT,)
    gains: tuple[tuple[int, float], ...] = ()

    def world(self, rho: float, **kw) -> HierarchyConfig:
        return replace(presets.world(rho), target=self.target, proxies=(Proxy(self.proxy, rho),), gains=self.gains,
                       **kw)

    def degree_class(self) -> str:
        """The class of lower Fourier degree ("" when equal)."""
        if len(self.proxy) == len(self.target):
            return ""
        return "proxy" if len(self.proxy) < len(self.target) else "internal"


DEFAULT = Pair("a_4 (H3's pair)")
PAIRS = (Pair("a_4 at gain 0.5", gains=((presets.PROXY_LATENT, 0.5),)),
         Pair("a_4 at gain 0.3", gains=((presets.PROXY_LATENT, 0.3),)),
         Pair("chi_4567 (the target's degree)", proxy=(4, 5, 6, 7)),
         Pair("target chi_01, proxy chi_456", target=(0, 1), proxy=(4, 5, 6)))
"""The declared pairs beside H3's own (``DEFAULT``, whose runs are H3's main ones)."""

ADAM, PLAIN, PROXY_REP, TARGET_REP = "Adam at rho=1", "plain SGD at rho=1", "proxy-class", "target-class"
ROLES = (ADAM, PLAIN, PROXY_REP, TARGET_REP)
CLS = {PROXY_REP: "proxy", TARGET_REP: "internal"}
NAME = {"proxy": "proxy-class", "internal": "target-class", "": "none", None: "none"}


class PairCond(NamedTuple):
    pair: str
    role: str

    def label(self) -> str:
        return f"pair {self.pair}: {self.role}"


def pairs(ctx: Context) -> tuple[Pair, ...]:
    return PAIRS[:SMOKE_PAIRS] if ctx.scale.name == "smoke" else PAIRS


def conditions(ctx: Context, llc, match_loss: float) -> dict:
    out = {}
    for p in pairs(ctx):
        fav = ctx.spec(p.world(1.0))
        measured = fav.world  # the pair's ρ = 1 set with the user's rendering overrides
        out[PairCond(p.name, ADAM)] = fav
        out[PairCond(p.name, PLAIN)] = ctx.spec(p.world(1.0), optimizer="sgd", lr=presets.SGD_LR)
        for role, world in ((PROXY_REP, p.world(0.5, objective="proxy")), (TARGET_REP, p.world(0.5))):
            out[PairCond(p.name, role)] = LLCRunSpec(ctx.spec(world), measured, llc, match_loss=match_loss,
                                                     estimate_at_match=False)
    return out


def classes(r: RunResult, k: int = -1) -> np.ndarray:
    """Each member's class (``instruments.model_class``) at the k-th measured checkpoint (−1: the end)."""
    return classify({key: v[:, k] for key, v in r.values.items()})


def names(runs: dict) -> list[str]:
    """The pairs ``runs`` hold, H3's own (``DEFAULT``) first."""
    return [DEFAULT.name] + list(dict.fromkeys(k.pair for k in runs if isinstance(k, PairCond)))


def favourite(r: RunResult) -> tuple[str | None, dict]:
    """The class SGD picks more often than not: the one whose share's interval lies above ½ (None:
    neither), and both shares (keyed by the classifier's names)."""
    cls = classes(r)
    shares = {c: bootstrap_ci((cls == c).astype(float), np.mean, clusters=r.worlds) for c in ("proxy", "internal")}
    fav = next((c for c, ci in shares.items() if ci[1] > 0.5), None)
    return fav, shares


def first_fit(r: RunResult, kept: np.ndarray) -> float:
    """Median over kept seeds of the step where the ρ = 1 set's loss first reached the matched loss
    (inf for a seed that never did: it comes last)."""
    steps = r.curve("matched_step")[kept, -1]
    return float(np.median(np.where(np.isfinite(steps), steps, np.inf))) if len(steps) else float("nan")


def order_class(proxy_step: float, target_step: float, factor: float = ORDER_FACTOR) -> str:
    """The class that fits first by at least ``factor`` ("" for a tie or when unknown)."""
    if not (np.isfinite(proxy_step) or np.isfinite(target_step)):
        return ""
    if proxy_step * factor <= target_step:
        return "proxy"
    if target_step * factor <= proxy_step:
        return "internal"
    return ""


def volume_class(delta: tuple, margin: float) -> str:
    """The class with the lower λ̂ by Δλ = λ̂(target) − λ̂(proxy) beyond the margin ("" undecided)."""
    if delta[1] > margin:
        return "proxy"
    if delta[2] < -margin:
        return "internal"
    return ""


def pair_outcome(fav: str | None, delta: tuple, vol: str) -> str:
    """"for", "against" (the favourite has the higher λ̂: the interval wholly on its wrong side of 0)
    or "" (undecided)."""
    if fav is None:
        return ""
    if vol == fav:
        return "for"
    wrong = delta[2] < 0 if fav == "proxy" else delta[1] > 0
    return "against" if wrong else ""


def pairs_verdict(outcomes: list[tuple[str, bool]]) -> str:
    """(outcome, separates volume from order) per pair → the pairs row's verdict (module docstring)."""
    if any(o == "against" for o, _ in outcomes):
        return REFUTED
    if any(o == "for" and sep for o, sep in outcomes):
        return SUPPORTED
    return INCONCLUSIVE


def analyse(runs: dict, default: dict, *, margin: float, plateau: float, match_loss: float, fit: float,
            min_seeds: int, per_seed) -> tuple[list[Row], str, bool]:
    """Rows for every pair (``default``: the default pair's runs under ``ROLES``), the pairs row's
    verdict, and whether every pair's plateau control passed. A representative counts when it reads as
    its class and fits the ρ = 1 set (accuracy ≥ ``fit``), as in H3; ``per_seed`` is H3's Δλ per seed."""
    def kept(r: RunResult, cls: str) -> np.ndarray:
        return (classes(r) == cls) & (r.curve("train_acc")[:, -1] >= fit)

    rows, outcomes, plateau_ok, ids = [], [], True, []
    spec_of = {DEFAULT.name: DEFAULT, **{p.name: p for p in PAIRS}}
    for name in names(runs):
        get = (lambda role: default[role]) if name == DEFAULT.name else (lambda role: runs[PairCond(name, role)])
        adam, plain, prox, targ = (get(role) for role in ROLES)
        targ, prox = presets.paired(targ, prox)  # the same members row for row (a diverged seed leaves both)
        get = {ADAM: adam, PLAIN: plain, PROXY_REP: prox, TARGET_REP: targ}.__getitem__
        (fa, sa), (fp, sp) = favourite(adam), favourite(plain)
        fav = fa if fa == fp else None
        keep = {role: kept(get(role), CLS[role]) for role in (PROXY_REP, TARGET_REP)}
        delta, n = per_seed(targ, prox, keep[TARGET_REP], keep[PROXY_REP])
        vol = volume_class(delta, margin) if n >= min_seeds else ""
        steps = {role: first_fit(get(role), keep[role]) for role in (PROXY_REP, TARGET_REP)}
        order = order_class(steps[PROXY_REP], steps[TARGET_REP])
        degree = spec_of[name].degree_class()
        outcome = pair_outcome(fav, delta, vol) if n >= min_seeds else ""
        separates = bool(vol and order and vol != order)
        outcomes.append((outcome, separates))
        what = (f"favourite: {NAME[fa]} (Adam), {NAME[fp]} (plain SGD); order: {NAME[order]} first (median step to "
                f"loss ≤ {match_loss:g}: {steps[PROXY_REP]:g} proxy-class, {steps[TARGET_REP]:g} target-class); "
                f"degree: {NAME[degree]} lower; volume: {NAME[vol]} lower; {n} seeds; the pair reads "
                f"{ {'for': 'for volume', 'against': 'against volume'}.get(outcome, 'undecided') }"
                f"{', separating volume from order' if separates else ''}")
        ids += [targ.run_id, prox.run_id]
        rows.append(Row.of(f"pair {name}", f"Δλ̂ target-class − proxy-class at the end ({what})", delta,
                           "measurement", [targ.run_id, prox.run_id], kind="measurement"))
        for role, shares in ((ADAM, sa), (PLAIN, sp)):
            for c, ci in shares.items():
                rows.append(Row.of(f"pair {name}: {role}", f"share of seeds ending {NAME[c]}", ci, "measurement",
                                   [get(role).run_id], kind="measurement"))
        if name != DEFAULT.name:  # the default pair's plateau rows are H3's own
            for role in (PROXY_REP, TARGET_REP):
                r, k = get(role), keep[role]
                drift = r.curve("llc_half", "second")[k, -1] - r.curve("llc_half", "first")[k, -1]
                ci = bootstrap_ci(drift, np.mean, clusters=r.worlds[k])
                ok = bool(len(drift) >= min_seeds and -plateau < ci[1] and ci[2] < plateau)
                plateau_ok &= ok
                rows.append(control_row(f"pair {name}: {role}: plateau", f"λ̂ from the second half of the kept draws "
                                        f"− the first half ({len(drift)} seeds; must lie within ±{plateau:g})", ci, ok,
                                        [r.run_id], positive=False))
                rows.append(Row.of(f"pair {name}: {role}", f"representatives kept: of their class and train accuracy "
                                   f"≥ {fit} on the ρ = 1 set ({int(k.sum())}/{len(k)})",
                                   bootstrap_ci(k.astype(float), np.mean, clusters=r.worlds), "measurement",
                                   [r.run_id], kind="measurement"))
    verdict = pairs_verdict(outcomes)
    n_sep = sum(sep for _, sep in outcomes)
    n_for = sum(o == "for" for o, _ in outcomes)
    n_against = sum(o == "against" for o, _ in outcomes)
    head = Row.of("class pairs: volume against order", f"{len(outcomes)} pairs: {n_for} for volume, {n_against} "
                  f"against, {n_sep} separating volume from order (supported: one that separates is for volume and "
                  f"none is against; refuted: one is against)", (float(n_for), float("nan"), float("nan")), verdict,
                  ids, kind="verdict")
    return [head] + rows, verdict, plateau_ok
