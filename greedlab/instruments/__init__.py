"""Instruments: exact measurements of what every model of an ensemble relies on and represents.

Each instrument is a plain function over tensors (see its module). ``evaluate`` runs all of them
on a whole ensemble at one evaluation step and returns ``{(instrument, feature): values (N,)}``,
the long format the store keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from greedlab.instruments.counterfactual import counterfactual_effects
from greedlab.instruments.decodability import REPRESENTED, probe_accuracy
from greedlab.instruments.disagreement import disagreement
from greedlab.instruments.gradient_signal import gradient_signal
from greedlab.instruments.onset import NEVER, RELIANCE_ONSET, onset
from greedlab.instruments.reliance import feature_matrix, reliance, soft_decision
from greedlab.models import Model, Params
from greedlab.train import logistic_loss
from greedlab.worlds import Batch, World

__all__ = ["EvalSet", "evaluate", "reliance", "disagreement", "probe_accuracy", "gradient_signal", "onset", "soft_decision",
           "feature_matrix", "counterfactual_effects", "REPRESENTED", "RELIANCE_ONSET", "NEVER"]


@dataclass
class EvalSet:
    """Fixed evaluation samples shared by every model and step, with their feature matrices."""

    features: dict[str, tuple[int, ...]]
    train: Batch
    deploy: Batch
    probe: Batch
    chi_train: torch.Tensor
    chi_deploy: torch.Tensor
    chi_probe: torch.Tensor
    n_probe_test: int = 2048
    """Deployment samples the probes are scored on (a prefix of ``deploy``): ±1.1% accuracy SE."""
    counterfactuals: dict[str, Batch] = field(default_factory=dict)
    """The deploy rows re-rendered by intervention, for worlds that offer them (real data)."""

    @classmethod
    def build(cls, world: World, n_deploy: int = 4096, n_probe: int = 2048, n_train: int = 2048,
              device: str = "cpu", train_set: Batch | None = None) -> "EvalSet":
        feats = world.tracked_features()
        tr = train_set if train_set is not None else world.train_set()
        tr = Batch(tr.x[:n_train], tr.y[:n_train], tr.a[:n_train]).to(device)
        dep = world.sample("deploy", 0, n_deploy).to(device)
        pro = world.sample("probe", 0, n_probe).to(device)
        cf = world.counterfactuals("deploy", n_deploy) if hasattr(world, "counterfactuals") else {}
        cf.pop("random", None)  # the deploy rows themselves: evaluate reads it off them, no extra forward pass
        return cls(feats, tr, dep, pro, feature_matrix(tr.a, feats), feature_matrix(dep.a, feats),
                   feature_matrix(pro.a, feats), counterfactuals={k: b.to(device) for k, b in cf.items()})


def evaluate(model: Model, params: Params, ev: EvalSet) -> dict[tuple[str, str], torch.Tensor]:
    """All instruments on all models. Keys are (instrument, feature); values have shape (N,)."""
    names = list(ev.features)
    out: dict[tuple[str, str], torch.Tensor] = {}

    f_dep, h_dep = model.forward(params, ev.deploy.x, keep=True)
    rel, se = reliance(f_dep, ev.chi_deploy)
    for j, name in enumerate(names):
        out["reliance", name] = rel[:, j]
        out["reliance_se", name] = se[:, j]
    out["deploy_acc", ""] = (torch.sign(f_dep) == ev.deploy.y).float().mean(1)
    out["disagreement", ""] = disagreement(f_dep)
    out["deploy_loss", ""] = logistic_loss(f_dep, ev.deploy.y).mean(1)
    if ev.counterfactuals:
        out.update(counterfactual_effects(model, params, ev.deploy, ev.counterfactuals, f_base=f_dep))
        out["counterfactual_acc", "random"] = out["deploy_acc", ""]
        out["counterfactual_flip", "random"] = torch.zeros_like(out["deploy_acc", ""])

    f_tr, _ = model.forward(params, ev.train.x)
    sig = gradient_signal(f_tr, ev.train.y, ev.chi_train)
    for j, name in enumerate(names):
        out["gradient_signal", name] = sig[:, j]
    out["train_acc", ""] = (torch.sign(f_tr) == ev.train.y).float().mean(1)
    out["train_loss", ""] = logistic_loss(f_tr, ev.train.y).mean(1)

    _, h_pro = model.forward(params, ev.probe.x, keep=True)
    k = ev.n_probe_test
    for layer in h_dep:
        acc = probe_accuracy(h_pro[layer], ev.chi_probe, h_dep[layer][:, :k], ev.chi_deploy[:k])
        for j, name in enumerate(names):
            out[f"decodability:{layer}", name] = acc[:, j]
    return out
