"""The claims beyond toy worlds: the conditions every claim adds on real data.

Each real dataset (greedlab.worlds.real) gets the claim's own statistics and verdict rule on its
own ensembles, with its own control at ρ = 0.5 (the marker carries no information about the
label in training). A claim's overall verdict stays the hierarchy world's — the operationalization
CLAIMS.md fixes — and each dataset adds a verdict row computed by the same rule.

Models: the MNIST-1D paper's CNN on MNIST-1D; a small 2D CNN on the 8×8 digits. Both train with
Adam at the MNIST-1D paper's learning rate 1e-2 (at the hierarchy default of 1e-3 the MNIST-1D CNN
needed over 1,000 steps before the class signal overtook the marker). Only the ``[train]`` user
overrides apply here: ``[world]`` and ``[model]`` describe the hierarchy world and its MLP.
"""

from __future__ import annotations

from greedlab.claims.common import INCONCLUSIVE, REFUTED, Row, combine
from greedlab.claims.context import Context
from greedlab.experiment import RunResult, RunSpec
from greedlab.models import CNNConfig, Model
from greedlab.worlds import RealConfig

DATASETS = ("mnist1d", "digits")
MODELS: dict[str, Model] = {
    "mnist1d": CNNConfig(),
    "digits": CNNConfig(ndim=2, channels=8, kernels=(3, 3), strides=(1, 2)),
}
LR = 1e-2
# (seeds, steps, evaluations) per scale. 600 steps: the MNIST-1D CNN's target reliance at ρ = 0.9
# passes 0.5 around step 500. With 8 seeds every real-data run of every claim plus the anchors took
# 150 s (one thread on a shared 2-core machine). On MNIST-1D an evaluation (probes,
# counterfactuals: 9,000 rows per model) costs as much as ~25 training steps; at 20 evaluations
# they took half of a run's time, hence 16 (and 8 in the smoke runs the tests repeat)
# Quick: 16 seeds (8 worlds × 2), as the hierarchy runs: ``greedlab.stats`` gives a mean or an SD
# over 8 members of a world each no interval at all (its intervals cover from 16 members, or from 4
# worlds of several seeds), so at 8 seeds every real-data row was inconclusive.
SCALES = {"smoke": (4, 60, 8), "quick": (16, 600, 16), "full": (32, 3000, 16)}
CONTROL_RHO = 0.5
HIERARCHY = "hierarchy"
"""The dataset a claim's typed condition key names for its hierarchy-world conditions."""


def world(dataset: str, rho: float) -> RealConfig:
    return RealConfig(dataset=dataset, rho=rho)


def spec(ctx: Context, dataset: str, rho: float, vary: str = "both", model: Model | None = None) -> RunSpec:
    """A real-data run at this context's scale: its dataset's model, Adam at LR, the user's [train] overrides."""
    n_seeds, steps, n_evals = SCALES[ctx.scale.name]
    return ctx.real_spec(world(dataset, rho), model or MODELS[dataset], steps=steps, n_seeds=n_seeds, vary=vary,
                         lr=LR, n_evals=n_evals)


def name(dataset: str, condition: str) -> str:
    """A real-data condition's name in verdict tables: 'mnist1d: rho=0.9'."""
    return f"{dataset}: {condition}"


def label(dataset: str, condition: str) -> str:
    """A condition's text in verdict tables: as it is on the hierarchy world, after its dataset's name
    on a real one (a typed key's ``label()``)."""
    return condition if dataset == HIERARCHY else name(dataset, condition)


def conditions(ctx: Context, rhos: tuple[float, ...], control: bool = True, vary: str = "both",
               suffix: str = "") -> dict[str, RunSpec]:
    """{"<dataset>: rho=<ρ><suffix>": spec} for every dataset and ρ, plus "<dataset>: control rho=0.5"."""
    out = {}
    for ds in DATASETS:
        for rho in rhos:
            out[name(ds, f"rho={rho}{suffix}")] = spec(ctx, ds, rho, vary=vary)
        if control:
            out[name(ds, f"control rho={CONTROL_RHO}")] = spec(ctx, ds, CONTROL_RHO)
    return out


def split(runs: dict[str, RunResult]) -> tuple[dict[str, RunResult], dict[str, dict[str, RunResult]]]:
    """(hierarchy runs, {dataset: its runs under their names without the dataset prefix})."""
    real = {ds: {k[len(name(ds, "")):]: r for k, r in runs.items() if k.startswith(name(ds, ""))} for ds in DATASETS}
    return {k: r for k, r in runs.items() if not k.startswith(tuple(name(ds, "") for ds in DATASETS))}, real


def verdict_row(dataset: str, verdict: str, run_ids: list[str]) -> Row:
    """The dataset's verdict, by the claim's own rule over its rows (controls included)."""
    nan = float("nan")
    return Row(name(dataset, "all parts"), "verdict on real data (same rule, own control)", nan, nan, nan, verdict,
               sorted(set(run_ids)), kind="verdict")


def no_control_row(dataset: str, which: str, why: str) -> Row:
    """A control the dataset lacks, said in its table: with it missing, the dataset's verdict cannot be
    'supported' (``verdict_without_negative_control``)."""
    nan = float("nan")
    return Row(name(dataset, f"no {which} control"), why, nan, nan, nan, INCONCLUSIVE, [], kind="control",
               control=which)


def verdict_without_negative_control(parts: list[str], positive_ok: bool) -> str:
    """The claim's rule on a dataset that has no negative control: never 'supported' (nothing shows
    the instrument reads no effect where there is none), but refuted as the rule would refute with
    one — an absent effect, read by an instrument the positive control showed able to see it."""
    refuted = combine(parts, True, positive_ok)
    return REFUTED if refuted == REFUTED else combine(parts, False, positive_ok)
