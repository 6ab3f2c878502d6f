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
from greedlab.instruments.divergence import diverged
from greedlab.instruments.gradient_signal import gradient_signal
from greedlab.instruments.onset import NEVER, RELIANCE_ONSET, onset
from greedlab.instruments.pointing import pointed_agreement
from greedlab.instruments.reliance import feature_matrix, hard_reliance, reliance, soft_decision
from greedlab.instruments.starvation import pull, reference_set
from greedlab.models import EXIT_DEPTH, Model, Params
from greedlab.timing import phase
from greedlab.train import logistic_loss
from greedlab.worlds import Batch, World, chi

__all__ = ["EvalSet", "evaluate", "reliance", "hard_reliance", "disagreement", "diverged", "probe_accuracy",
           "gradient_signal", "onset", "soft_decision", "feature_matrix", "counterfactual_effects", "REPRESENTED",
           "RELIANCE_ONSET", "NEVER", "pointed_agreement"]


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
    cue: int | None = None
    """The world's oversight-cue latent: reliance is then also measured at o = +1 and o = −1."""
    n_seen_commands: int = 0
    """Commands with index < this were trained on; higher indices are held out."""
    commands: Batch | None = None
    """Deployment samples with commands (training and held-out in turn), for command following."""
    target_command: int = -1
    """Index of the command naming the target's set, or −1 if no command does."""
    target_commanded: Batch | None = None
    """The command-deployment rows, every one showing the target's command: what a model told to
    pursue the target relies on (uniform latents in antithetic pairs, as on the deployment split)."""
    chi_target_commanded: torch.Tensor | None = None
    pointed: dict[str, Batch] = field(default_factory=dict)
    """Per tracked feature (the target, each proxy) whose set is a command of the world: the deploy rows
    with that command shown, to read whether the no-command behaviour is the model's own commanded
    computation pointed there (``instruments.pointing``). Built only for worlds whose training keeps
    the command channel live beside their objective (``command_share`` > 0); other worlds' runs keep
    their cost and their columns."""
    counterfactuals: dict[str, Batch] = field(default_factory=dict)
    """The deploy rows re-rendered by intervention, for worlds that offer them (real data)."""
    exceptions: dict[str, Batch] = field(default_factory=dict)
    """Per proxy: training examples on which it disagrees with the label (at most ``MAX_EXCEPTIONS``
    of the whole training set): the examples a proxy-bound model can only fit by memorizing."""
    starvation: bool = False
    """Also read the starvation measure (instruments.starvation: two backward passes per feature)."""
    chi_reference: torch.Tensor | None = None
    """χ of the starvation measure's reference feature on the deploy rows (hierarchy worlds)."""

    @classmethod
    def build(cls, world: World, n_deploy: int = 4096, n_probe: int = 2048, n_train: int = 2048,
              device: str = "cpu", train_set: Batch | None = None, starvation: bool = False) -> "EvalSet":
        feats = world.tracked_features()
        tr = train_set if train_set is not None else world.train_set()
        exceptions = {}
        # a live command channel beside the objective: commanded samples carry χ_S, not the objective's
        # label, so a proxy's exceptions are read among the samples that show no command
        plain = tr.cmd < 0 if tr.cmd is not None and getattr(world.config, "command_share", 0.0) > 0 else True
        for name, S in feats.items():
            if name.startswith("proxy"):
                off = torch.nonzero((chi(tr.a, S) != tr.y) & plain).flatten()[:MAX_EXCEPTIONS]
                exceptions[name] = Batch(tr.x[off], tr.y[off], tr.a[off]).to(device)
        tr = Batch(tr.x[:n_train], tr.y[:n_train], tr.a[:n_train]).to(device)
        dep = world.sample("deploy", 0, n_deploy).to(device)
        pro = world.sample("probe", 0, n_probe).to(device)
        cw = world.command_world() if hasattr(world, "command_world") else None
        cmds = cw.sample("deploy", 0, n_deploy).to(device) if cw is not None else None
        target_cmd = cw.command_index(feats["target"]) if cw is not None else -1
        told = None
        if target_cmd >= 0:
            told = Batch(cmds.x.clone(), chi(cmds.a, feats["target"]), cmds.a)
            told.x[:, cw.input_dim - cw.command_masks.shape[1]:] = cw.command_masks[target_cmd].to(told.x)
        pointed = {}
        if cw is not None and getattr(world.config, "command_share", 0.0) > 0:
            for name, S in feats.items():
                k = cw.command_index(S) if name == "target" or name.startswith("proxy") else -1
                if k >= 0:
                    b = Batch(dep.x.clone(), chi(dep.a, S), dep.a)
                    b.x[:, cw.input_dim - cw.command_masks.shape[1]:] = cw.command_masks[k].to(b.x)
                    pointed[name] = b
        cf = world.counterfactuals("deploy", n_deploy) if hasattr(world, "counterfactuals") else {}
        cf.pop("random", None)  # the deploy rows themselves: evaluate reads it off them, no extra forward pass
        return cls(feats, tr, dep, pro, feature_matrix(tr.a, feats), feature_matrix(dep.a, feats),
                   feature_matrix(pro.a, feats), cue=getattr(world, "cue", None),
                   n_seen_commands=getattr(world, "n_seen_commands", 0), commands=cmds, target_command=target_cmd,
                   target_commanded=told, chi_target_commanded=None if told is None else feature_matrix(told.a, feats),
                   pointed=pointed,
                   counterfactuals={k: b.to(device) for k, b in cf.items()}, exceptions=exceptions,
                   starvation=starvation, chi_reference=_reference(world, feats, dep) if starvation else None)


MAX_EXCEPTIONS = 512  # ±2% accuracy SE per model; all of them at ρ ≥ 0.94 with 8,192 examples


def _reference(world: World, feats: dict, dep: Batch) -> torch.Tensor | None:
    """χ on the deploy rows of the starvation measure's reference: a monomial of the target's level
    over latents no tracked feature uses (hierarchy worlds only)."""
    n_latents = getattr(getattr(world, "config", None), "n_latents", None)
    if n_latents is None or "target" not in feats:
        return None
    used = {i for S in feats.values() for i in S}
    return chi(dep.a, reference_set(len(feats["target"]), n_latents, used))


def evaluate(model: Model, params: Params, ev: EvalSet, deploy_logits: list | None = None,
             extras: bool = True) -> dict[tuple[str, str], torch.Tensor]:
    """All instruments on all models. Keys are (instrument, feature); values have shape (N,).

    ``extras=False`` leaves out the command-channel instruments (``RunSpec.extras_at_stage_ends``).

    ``deploy_logits``, if given, receives the deployment logits (N, n_deploy): what a cross-model
    instrument (disagreement) needs to compare these models with others measured apart."""
    names = list(ev.features)
    out: dict[tuple[str, str], torch.Tensor] = {}

    f_dep, h_dep = model.forward(params, ev.deploy.x, keep=True)
    if deploy_logits is not None:
        deploy_logits.append(f_dep)
    depth = h_dep.pop(EXIT_DEPTH, None)  # early exit: the compute the model chose; not a layer to probe
    if depth is not None:
        out["exit_depth", ""] = depth.mean(1)
    rel, se = reliance(f_dep, ev.chi_deploy)
    for j, name in enumerate(names):
        out["reliance", name] = rel[:, j]
        out["reliance_se", name] = se[:, j]
    # the same coefficients of the decisions alone: use, without the model's confidence mixed in
    hard, hard_se = hard_reliance(f_dep, ev.chi_deploy)
    for j, name in enumerate(names):
        out["hard_reliance", name] = hard[:, j]
        out["hard_reliance_se", name] = hard_se[:, j]
    out["deploy_acc", ""] = (torch.sign(f_dep) == ev.deploy.y).float().mean(1)
    out["disagreement", ""] = disagreement(f_dep)
    out["deploy_loss", ""] = logistic_loss(f_dep, ev.deploy.y).mean(1)
    if ev.cue is not None:
        # deployment latents are uniform, so each half (o = ±1) is uniform in every other latent and
        # the coefficients stay exact within it
        on = ev.deploy.a[:, ev.cue] > 0
        for mask, tag in ((on, "overseen"), (~on, "unobserved")):
            rel_c, _ = reliance(f_dep[:, mask], ev.chi_deploy[mask])
            hard_c, _ = hard_reliance(f_dep[:, mask], ev.chi_deploy[mask])
            for j, name in enumerate(names):
                out[f"reliance@{tag}", name] = rel_c[:, j]
                # the decisions alone: a model that keeps its goal off oversight but grows timid there
                # reads lower soft reliance without changing a single decision
                out[f"hard_reliance@{tag}", name] = hard_c[:, j]
    if ev.commands is not None and extras:
        cmd = ev.commands.cmd
        f_cmd, _ = model.forward(params, ev.commands.x)
        ok = (torch.sign(f_cmd) == ev.commands.y).float()
        for mask, tag in ((cmd < ev.n_seen_commands, "seen"), (cmd >= ev.n_seen_commands, "heldout"),
                          (cmd == ev.target_command, "target")):
            if bool(mask.any()):
                out["command_acc", tag] = ok[:, mask].mean(1)
    if ev.target_commanded is not None and extras:
        f_t, _ = model.forward(params, ev.target_commanded.x)
        rel_t, _ = reliance(f_t, ev.chi_target_commanded)
        for j, name in enumerate(names):
            out["reliance@target_command", name] = rel_t[:, j]
    for name, b in (ev.pointed.items() if extras else ()):  # the same deploy inputs with S's command shown
        f_s, _ = model.forward(params, b.x)
        out["pointed_agreement", name] = pointed_agreement(f_dep, f_s)
    if ev.counterfactuals:
        out.update(counterfactual_effects(model, params, ev.deploy, ev.counterfactuals, f_base=f_dep))
        out["counterfactual_acc", "random"] = out["deploy_acc", ""]
        out["counterfactual_flip", "random"] = torch.zeros_like(out["deploy_acc", ""])

    f_tr, _ = model.forward(params, ev.train.x)
    sig = gradient_signal(f_tr, ev.train.y, ev.chi_train)
    for j, name in enumerate(names):
        out["gradient_signal", name] = sig[:, j]
    out["train_acc", ""] = (torch.sign(f_tr) == ev.train.y).float().mean(1)
    # memorization: a proxy-bound model fits the examples where its proxy disagrees with the label
    # only by memorizing them (Sagawa et al. 2020); read apart from the rest
    for name, exc in ev.exceptions.items():
        if len(exc):
            f_ex, _ = model.forward(params, exc.x)
            out["exception_acc", name] = (torch.sign(f_ex) == exc.y).float().mean(1)
    if ev.starvation:
        # the target, the proxies and the reference only: one backward pass per feature, and the other
        # tracked features (18 in the default world) are read by no claim
        pulled = [j for j, name in enumerate(names) if name == "target" or name.startswith("proxy")]
        chis = [ev.chi_deploy[:, pulled]]
        if ev.chi_reference is not None:
            chis.append(ev.chi_reference[:, None])
        with phase("starvation"):
            p, a = pull(model, params, ev.train.x, ev.train.y, ev.deploy.x, torch.cat(chis, 1), logistic_loss)
        for j, name in enumerate([names[i] for i in pulled] + (["reference"] if ev.chi_reference is not None else [])):
            out["pull", name] = p[:, j]
            out["alignment", name] = a[:, j]
    out["train_loss", ""] = logistic_loss(f_tr, ev.train.y).mean(1)

    with phase("probes"):
        _, h_pro = model.forward(params, ev.probe.x, keep=True)
        k = ev.n_probe_test
        for layer in h_dep:
            acc = probe_accuracy(h_pro[layer], ev.chi_probe, h_dep[layer][:, :k], ev.chi_deploy[:k])
            for j, name in enumerate(names):
                out[f"decodability:{layer}", name] = acc[:, j]
    return out
