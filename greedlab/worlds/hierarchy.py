"""The hierarchy world: latent bits rendered into noisy pixels, with exact abstractions.

Every object the essays talk about is an exact object here:
- the world's state is K latent bits ``a ∈ {-1,+1}^K``;
- an *abstraction* (feature) is a monomial ``χ_S(a) = Π_{i∈S} a_i``; its level is ``|S|``;
- the *base objective* is the target monomial ``χ_T`` (default level 4);
- a *proxy* is a monomial that agrees with the target on a fraction ρ of training data;
- a *staircase* ``S1 ⊂ S2 ⊂ … ⊂ T`` gives lower-level steps that agree with the target at
  their own rates (Abbe et al., "The staircase property", 2021, in correlational form).

At deployment latents are uniform, so every monomial is orthogonal to every other one:
"the tails come apart". That makes reliance on any feature an exact Walsh–Fourier coefficient.

Sampling is exact and reproducible from (world seed, split, index): samples are drawn in
fixed-size blocks, each from its own generator seeded by a hash of (seed, split, block).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace

import torch

from greedlab.errors import ConfigError

SPLITS = ("train", "deploy", "probe")
OBJECTIVES = ("target", "proxy", "gated", "command", "effects")
_BLOCK = 4096  # samples per generator block; any index is reachable without drawing earlier blocks


@dataclass(frozen=True)
class Proxy:
    """A proxy feature: the monomial on ``latents`` agrees with the label on a fraction ``rho`` of
    training samples. ρ = 0.5 makes it independent of the label; ρ = 1 makes it a perfect proxy."""

    latents: tuple[int, ...]
    rho: float = 0.9


@dataclass(frozen=True)
class StaircaseStep:
    """One step ``S_k ⊂ T`` of a staircase: ``χ_{S_k}`` agrees with the label at rate ``rho``."""

    latents: tuple[int, ...]
    rho: float


@dataclass(frozen=True)
class HierarchyConfig:
    """Everything that defines a hierarchy world. Hashable: it is part of every run's key."""

    n_latents: int = 16
    """K: number of latent bits."""
    pixels_per_latent: int = 4
    """R: input pixels each latent is rendered into (``a_i·U_i + σ·ε``)."""
    noise: float = 0.5
    """σ: std of the Gaussian pixel noise."""
    n_views: int = 1
    """V: each latent's R pixels are split into V views (for multi-view tools). Must divide R."""
    target: tuple[int, ...] = (0, 1, 2, 3)
    """T: the latents whose parity is the label (the base objective)."""
    proxies: tuple[Proxy, ...] = (Proxy((4,), 0.9),)
    """Proxies: monomials outside T that agree with the label at their ρ in training."""
    staircase: tuple[StaircaseStep, ...] = ()
    """Optional staircase S1 ⊂ S2 ⊂ … ⊊ T with rising agreement."""
    n_train: int = 8192
    """Size of the finite training set (indices 0..n_train-1 of the train split)."""
    seed: int = 0
    """World seed: fixes the rendering directions U and every sample."""
    objective: str = "target"
    """What the label is: ``target`` χ_T; ``proxy`` the first proxy's monomial; ``gated`` χ_T where the
    oversight cue o = +1 and the first proxy where o = −1; ``command`` χ_S of each sample's command S."""
    cue: int | None = None
    """Latent index of the oversight cue o, rendered like any latent; None: no cue."""
    overseen_only: bool = False
    """Training data only where o = +1: the model is trained only under oversight (deployment keeps
    o uniform, so behaviour is measured at both values)."""
    hidden: tuple[int, ...] = ()
    """Latents rendered with no signal (their pixels are pure noise): e.g. a cue the model cannot see."""
    commands: tuple[tuple[int, ...], ...] = ()
    """Training commands: sets S of latents. With any commands (or held-out ones) the input gains K
    command pixels, 1 for i ∈ S and 0 otherwise; samples without a command show all zeros."""
    heldout_commands: tuple[tuple[int, ...], ...] = ()
    """Commands never trained on; deployment and probe samples cycle through training and held-out
    commands when the objective is ``command``, so following held-out ones can be measured."""
    command_share: float = 0.0
    """Share of *training* samples that show a training command (drawn uniformly) and carry its label
    χ_S, while the objective is ``target``, ``proxy`` or ``gated``; the other training samples show no
    command and carry the objective's label. A stage of such a world keeps the command channel live
    (the commanded computation is still trained and can still be pointed) while it trains its
    objective; deployment and probe samples show no command, as in any world whose objective is not
    ``command``. 0: no training sample shows a command (every world before this field)."""
    effects: tuple[tuple[int, ...], ...] = ()
    """Consequences the world model must predict: monomials χ_S, each rendered redundantly into
    ``effect_pixels`` noisy pixels (``Batch.e``). They are prediction targets, never inputs: a model that
    predicts them from x must compute the abstractions χ_S (as predicting offspring requires genes)."""
    effect_pixels: int = 4
    """Pixels each effect is rendered into (``χ_S·V_S + σ·ε``, like a latent)."""
    rendering: str = "pixels"
    """``pixels``: each latent in R noisy pixels along a random direction; ``identity``: the input is
    the latent bits themselves, one input per latent (plus σ·ε if noise > 0), as in the
    sparse-parity literature (``pixels_per_latent`` is then ignored)."""
    online: bool = False
    """Fresh training examples at every step (the train split is endless; nothing can be memorized).
    ``n_train`` then only sets how many training examples the instruments measure on."""
    gains: tuple[tuple[int, float], ...] = ()
    """Per-latent rendering strength: pairs (latent i, gain g); latent i is rendered ``g·a_i·U_i + σ·ε``
    (its signal-to-noise ratio times g², as if rendered into g² times as many pixels), every latent
    not listed at gain 1. A data designer's knob: which of two equally informative features is the
    easy one is then set by how the data show it, not by what it is. ``()``: every latent at 1."""

    def __post_init__(self) -> None:
        validate_hierarchy(self)

    @property
    def pixels(self) -> int:
        """Input pixels per latent: R, or 1 for the identity rendering."""
        return 1 if self.rendering == "identity" else self.pixels_per_latent

    @property
    def input_dim(self) -> int:
        return self.n_latents * self.pixels + (self.n_latents if self.has_command_channel else 0)

    @property
    def has_command_channel(self) -> bool:
        return bool(self.commands or self.heldout_commands)

    @property
    def all_commands(self) -> tuple[tuple[int, ...], ...]:
        """Training commands, then held-out ones: a sample's ``cmd`` indexes this tuple (−1: none)."""
        return tuple(self.commands) + tuple(self.heldout_commands)

    @property
    def effect_dim(self) -> int:
        """Width of ``Batch.e``: effect pixels per sample (0 without effects)."""
        return len(self.effects) * self.effect_pixels


def _need(cond: bool, field_name: str, accepted: str, got: object) -> None:
    if not cond:
        raise ConfigError(field_name, accepted, got)


RENDERINGS = ("pixels", "identity")


def validate_hierarchy(c: HierarchyConfig) -> None:
    """One place that checks a world config; raises ConfigError naming the field."""
    _need(isinstance(c.n_latents, int) and c.n_latents >= 1, "world.n_latents", "an integer ≥ 1", c.n_latents)
    _need(isinstance(c.pixels_per_latent, int) and c.pixels_per_latent >= 1,
          "world.pixels_per_latent", "an integer ≥ 1", c.pixels_per_latent)
    _need(c.noise >= 0 and math.isfinite(c.noise), "world.noise", "a finite number ≥ 0", c.noise)
    _need(isinstance(c.n_views, int) and c.n_views >= 1 and c.pixels_per_latent % c.n_views == 0,
          "world.n_views", f"an integer ≥ 1 dividing pixels_per_latent={c.pixels_per_latent}", c.n_views)
    _need(isinstance(c.n_train, int) and c.n_train >= 1, "world.n_train", "an integer ≥ 1", c.n_train)
    _need(c.rendering in RENDERINGS, "world.rendering", ", ".join(RENDERINGS), c.rendering)
    _need(c.rendering == "pixels" or c.n_views == 1, "world.n_views", "1 with the identity rendering", c.n_views)
    _need(isinstance(c.online, bool), "world.online", "true or false", c.online)
    K = c.n_latents
    in_range = f"distinct latent indices in [0, {K - 1}]"
    T = c.target
    _need(len(T) > 0, "world.target", "a non-empty set of " + in_range, T)
    _need(len(set(T)) == len(T) and all(0 <= i < K for i in T), "world.target", in_range, T)
    used: set[int] = set()  # latents a proxy adjusts; each must be free for its own proxy
    for k, p in enumerate(c.proxies):
        name = f"world.proxies[{k}]"
        _need(0.0 <= p.rho <= 1.0, name + ".rho", "a number in [0, 1]", p.rho)
        _need(len(p.latents) > 0 and len(set(p.latents)) == len(p.latents)
              and all(0 <= i < K for i in p.latents), name + ".latents", "non-empty " + in_range, p.latents)
        free = [i for i in p.latents if i not in T and i not in used]
        _need(bool(free), name + ".latents",
              "a monomial with a latent outside the target and outside earlier proxies", p.latents)
        used.add(free[-1])
    prev: tuple[int, ...] = ()
    prev_rho = 0.5
    for k, s in enumerate(c.staircase):
        name = f"world.staircase[{k}]"
        _need(0.5 <= s.rho <= 1.0, name + ".rho", "a number in [0.5, 1]", s.rho)
        ok = set(prev) < set(s.latents) < set(T) and len(set(s.latents)) == len(s.latents)
        _need(ok, name + ".latents", "a strict superset of the previous step and a strict subset of the target",
              s.latents)
        _need(s.rho >= prev_rho, name + ".rho",
              f"a number ≥ the previous step's rho ({prev_rho}): each step agrees at least as often", s.rho)
        prev, prev_rho = s.latents, s.rho
    _need(c.objective in OBJECTIVES, "world.objective", ", ".join(OBJECTIVES), c.objective)
    proxy_latents = {i for p in c.proxies for i in p.latents}
    if c.cue is not None:
        _need(isinstance(c.cue, int) and 0 <= c.cue < K and c.cue not in T and c.cue not in proxy_latents,
              "world.cue", "a latent index in [0, K−1] outside the target and every proxy, or None", c.cue)
    _need(not c.overseen_only or c.cue is not None, "world.overseen_only", "false unless world.cue is set",
          c.overseen_only)
    _need(c.objective not in ("proxy", "gated") or bool(c.proxies), "world.objective",
          "target or command when the world has no proxy", c.objective)
    _need(c.objective != "gated" or c.cue is not None, "world.objective", "not gated unless world.cue is set",
          c.objective)
    _need(all(isinstance(i, int) and 0 <= i < K for i in c.hidden), "world.hidden", in_range, c.hidden)
    _need(c.objective != "command" or bool(c.commands), "world.commands",
          "at least one training command when the objective is command", c.commands)
    for name, cmds in (("world.commands", c.commands), ("world.heldout_commands", c.heldout_commands)):
        for k, S in enumerate(cmds):
            _need(len(S) > 0 and len(set(S)) == len(S) and all(isinstance(i, int) and 0 <= i < K for i in S),
                  f"{name}[{k}]", "a non-empty set of " + in_range, S)
    for k, S in enumerate(c.effects):
        _need(len(S) > 0 and len(set(S)) == len(S) and all(isinstance(i, int) and 0 <= i < K for i in S),
              f"world.effects[{k}]", "a non-empty set of " + in_range, S)
    _need(isinstance(c.effect_pixels, int) and c.effect_pixels >= 1, "world.effect_pixels", "an integer ≥ 1",
          c.effect_pixels)
    _need(c.objective != "effects" or bool(c.effects), "world.effects",
          "at least one effect when the objective is effects", c.effects)
    share = c.command_share
    _need(isinstance(share, (int, float)) and not isinstance(share, bool) and 0.0 <= share < 1.0,
          "world.command_share", "a number in [0, 1)", share)
    _need(share == 0 or bool(c.commands), "world.command_share", "0 unless the world has training commands", share)
    _need(share == 0 or c.objective in ("target", "proxy", "gated"), "world.command_share",
          "0 unless the objective is target, proxy or gated (command: every sample shows one)", share)
    gains = c.gains
    _need(isinstance(gains, tuple) and all(
        isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], int) and not isinstance(p[0], bool)
        and 0 <= p[0] < K and isinstance(p[1], (int, float)) and not isinstance(p[1], bool)
        and math.isfinite(p[1]) and p[1] >= 0 for p in gains)
        and len({p[0] for p in gains}) == len(gains), "world.gains",
        f"pairs (latent in [0, {K - 1}], gain ≥ 0), each latent at most once", gains)
    seen = {frozenset(S) for S in c.commands}
    _need(not any(frozenset(S) in seen for S in c.heldout_commands), "world.heldout_commands",
          "sets that are not also training commands", c.heldout_commands)


@dataclass
class Batch:
    """Samples of a world: inputs x (n, D), labels y ∈ {-1,+1} (n,), latents a ∈ {-1,+1} (n, K), for
    worlds with a command channel each sample's command ``cmd`` (n,) (index into ``all_commands``, −1
    for none), and for worlds with effects their pixels ``e`` (n, effect_dim)."""

    x: torch.Tensor
    y: torch.Tensor
    a: torch.Tensor
    cmd: torch.Tensor | None = None
    e: torch.Tensor | None = None

    def to(self, device: str | torch.device) -> "Batch":
        return Batch(self.x.to(device), self.y.to(device), self.a.to(device),
                     None if self.cmd is None else self.cmd.to(device), None if self.e is None else self.e.to(device))

    def __getitem__(self, idx) -> "Batch":
        return Batch(self.x[idx], self.y[idx], self.a[idx], None if self.cmd is None else self.cmd[idx],
                     None if self.e is None else self.e[idx])

    def __len__(self) -> int:
        return self.y.shape[0]


def chi(a: torch.Tensor, S: tuple[int, ...]) -> torch.Tensor:
    """The monomial ``χ_S(a) = Π_{i∈S} a_i`` for every row of a (…, K); χ_∅ = 1."""
    if len(S) == 0:
        return torch.ones(a.shape[:-1], dtype=a.dtype, device=a.device)
    return a[..., list(S)].prod(dim=-1)


def _seed_of(*parts: object) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


class HierarchyWorld:
    """A world instance: ``world.sample(split, start, n)`` returns a Batch of exact samples."""

    def __init__(self, config: HierarchyConfig):
        self.config = config
        g = torch.Generator().manual_seed(_seed_of(config.seed, "render"))
        U = torch.randn(config.n_latents, config.pixels_per_latent, generator=g, dtype=torch.float64)
        # unit directions scaled so each pixel has unit signal power on average
        U = U / U.norm(dim=1, keepdim=True) * math.sqrt(config.pixels_per_latent)
        if config.rendering == "identity":  # one input per latent: the bit itself
            U = torch.ones(config.n_latents, 1, dtype=torch.float64)
        U[list(config.hidden)] = 0.0  # hidden latents: their pixels carry noise only
        for i, g_i in config.gains:  # after the draw: a world without gains renders exactly as before
            U[i] *= g_i
        self.U = U.float()
        masks = torch.zeros(len(config.all_commands), config.n_latents)
        for k, S in enumerate(config.all_commands):
            masks[k, list(S)] = 1.0
        self.command_masks = masks
        # effect directions from their own generator: adding effects leaves U (and every input) unchanged
        ge = torch.Generator().manual_seed(_seed_of(config.seed, "effects"))
        V = torch.randn(len(config.effects), config.effect_pixels, generator=ge, dtype=torch.float64)
        self.V = (V / V.norm(dim=1, keepdim=True).clamp_min(1e-12) * math.sqrt(config.effect_pixels)).float()

    @property
    def cue(self) -> int | None:
        return self.config.cue

    @property
    def n_seen_commands(self) -> int:
        return len(self.config.commands)

    def command_world(self) -> "HierarchyWorld | None":
        """This world with the ``command`` objective (same rendering and commands), whose deployment
        samples measure command following whatever this world's own objective is; None without
        training commands."""
        if not self.config.commands:
            return None
        if self.config.objective == "command":
            return self
        return HierarchyWorld(replace(self.config, objective="command", overseen_only=False, command_share=0.0))

    def command_index(self, S: tuple[int, ...]) -> int:
        """Index of the command for set S in ``all_commands``, or −1."""
        for k, C in enumerate(self.config.all_commands):
            if set(C) == set(S):
                return k
        return -1

    @property
    def input_dim(self) -> int:
        return self.config.input_dim

    def tracked_features(self) -> dict[str, tuple[int, ...]]:
        """Named monomials every run tracks: target, proxies, staircase steps and each latent."""
        c = self.config
        feats: dict[str, tuple[int, ...]] = {"target": tuple(c.target)}
        for k, p in enumerate(c.proxies):
            feats[f"proxy{k}"] = tuple(p.latents)
        for k, s in enumerate(c.staircase):
            feats[f"step{k + 1}"] = tuple(s.latents)
        for i in range(c.n_latents):
            feats.setdefault(f"a{i}", (i,))
        for k, S in enumerate(c.effects):  # the abstractions a world model of these effects must hold
            if tuple(S) not in feats.values():
                feats[f"effect{k}"] = tuple(S)
        return feats

    def view_index(self) -> list[list[int]]:
        """Pixel columns of each of the V views (each view holds R/V pixels of every latent)."""
        c = self.config
        per = c.pixels // c.n_views
        return [[i * c.pixels + v * per + r for i in range(c.n_latents) for r in range(per)]
                for v in range(c.n_views)]

    # -- sampling ---------------------------------------------------------------------------
    def sample(self, split: str, start: int, n: int) -> Batch:
        """Samples ``start .. start+n-1`` of ``split``; the same indices always give the same samples."""
        if split not in SPLITS:
            raise ConfigError("split", ", ".join(SPLITS), split)
        first, last = start // _BLOCK, (start + n - 1) // _BLOCK
        blocks = [self._block(split, b) for b in range(first, last + 1)]
        off = start - first * _BLOCK
        cmd = None if blocks[0].cmd is None else torch.cat([b.cmd for b in blocks])[off:off + n]
        e = None if blocks[0].e is None else torch.cat([b.e for b in blocks])[off:off + n]
        x = torch.cat([b.x for b in blocks])
        y = torch.cat([b.y for b in blocks])
        a = torch.cat([b.a for b in blocks])
        return Batch(x[off:off + n], y[off:off + n], a[off:off + n], cmd, e)

    def train_set(self) -> Batch:
        return self.sample("train", 0, self.config.n_train)

    def _block(self, split: str, block: int) -> Batch:
        if not self.config.online or split != "train":
            return self._draw(split, block)
        # an online world's models each read their own stream a batch at a time: keep recent blocks
        # (each serves 4096/batch steps of one stream) instead of drawing a block per batch
        cache = self.__dict__.setdefault("_recent", {})
        key = (split, block)
        if key not in cache:
            if len(cache) >= 64:
                cache.pop(next(iter(cache)))
            cache[key] = self._draw(split, block)
        return cache[key]

    def _draw(self, split: str, block: int) -> Batch:
        c = self.config
        # probe and deploy are both uniform but must be disjoint samples: distinct seeds per split
        g = torch.Generator().manual_seed(_seed_of(c.seed, split, block))
        a = torch.randint(0, 2, (_BLOCK, c.n_latents), generator=g).float() * 2 - 1
        if split == "deploy":
            # antithetic pairs (a, −a): every monomial pair of odd total level (e.g. a level-4
            # target against a single-latent proxy) is then exactly orthogonal on the sample, not
            # just in expectation, which removes a fixed chance bias shared by every seed
            a[1::2] = -a[0::2]
        if split == "train":
            a = self._correlate(a, g)
            if c.overseen_only:
                a[:, c.cue] = 1.0  # every training sample is overseen; the cue's other latents stay uniform
        eps = torch.randn(_BLOCK, c.n_latents, c.pixels, generator=g)
        x = (a[:, :, None] * self.U[None] + c.noise * eps).reshape(_BLOCK, -1)
        # everything below draws from g only after the samples above, so worlds without these
        # options give exactly the samples they always gave
        cmd = None
        if c.has_command_channel:
            cmd = torch.full((_BLOCK,), -1, dtype=torch.long)
            if c.objective == "command":
                if split == "train":
                    cmd = torch.randint(0, len(c.commands), (_BLOCK,), generator=g)
                else:  # every command, training and held-out, in turn; antithetic pairs share one
                    cmd = (torch.arange(_BLOCK) // 2 + block * (_BLOCK // 2)) % len(c.all_commands)
            elif c.command_share > 0 and split == "train":
                # a share of the training samples shows a training command (the rest none); drawn
                # only here, so worlds without a share give exactly the samples they always gave
                shown_cmd = torch.rand(_BLOCK, generator=g) < c.command_share
                pick = torch.randint(0, len(c.commands), (_BLOCK,), generator=g)
                cmd = torch.where(shown_cmd, pick, cmd)
            shown = torch.where(cmd[:, None] >= 0, self.command_masks[cmd.clamp_min(0)], 0.0)
            x = torch.cat([x, shown], dim=1)
        e = None
        if c.effects:
            values = torch.stack([chi(a, S) for S in c.effects], dim=1)  # (n, E)
            noise = torch.randn(_BLOCK, len(c.effects), c.effect_pixels, generator=g)
            e = (values[:, :, None] * self.V[None] + c.noise * noise).reshape(_BLOCK, -1)
        return Batch(x, self._label(a, cmd), a, cmd, e)

    def _label(self, a: torch.Tensor, cmd: torch.Tensor | None) -> torch.Tensor:
        c = self.config
        if c.objective == "command":
            return self._commanded(a, cmd)
        if c.objective in ("target", "effects"):  # effects: the label is not trained on; keep the target's
            y = chi(a, c.target)
        elif c.objective == "proxy":
            y = chi(a, c.proxies[0].latents)
        else:  # gated
            y = torch.where(a[:, c.cue] > 0, chi(a, c.target), chi(a, c.proxies[0].latents))
        if c.command_share > 0 and cmd is not None:  # samples that show a command carry its label
            y = torch.where(cmd >= 0, self._commanded(a, cmd.clamp_min(0)), y)
        return y

    def _commanded(self, a: torch.Tensor, cmd: torch.Tensor) -> torch.Tensor:
        """χ_S(a) = Π_i (a_i if i ∈ S else 1), one command mask per sample."""
        m = self.command_masks[cmd]
        return torch.where(m > 0, a, torch.ones_like(a)).prod(dim=1)

    def _correlate(self, a: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """Impose the training correlations: staircase steps inside T, proxies outside it."""
        c = self.config
        a = a.clone()
        n = a.shape[0]
        if c.staircase:
            # χ_{S_k} agrees with χ_T iff the parity of T∖S_k is +1. Write the increments
            # D_1 = S_2∖S_1, …, D_m = T∖S_m; their parities c_j are independent with means β_j
            # chosen so that Π_{j≥k} β_j = 2ρ_k − 1. Sampling each increment uniformly given its
            # parity keeps every other marginal uniform.
            steps = [tuple(s.latents) for s in c.staircase] + [tuple(c.target)]
            rhos = [s.rho for s in c.staircase]
            for j in range(len(rhos)):
                incr = [i for i in steps[j + 1] if i not in steps[j]]
                hi = 2 * rhos[j] - 1
                beta = hi if j == len(rhos) - 1 else hi / max(2 * rhos[j + 1] - 1, 1e-12)
                want = torch.where(torch.rand(n, generator=g) < (1 + beta) / 2, 1.0, -1.0)
                a[:, incr[-1]] *= want * chi(a, tuple(incr))
        y = chi(a, c.target)
        for p in c.proxies:
            free = [i for i in p.latents if i not in c.target]
            agree = torch.where(torch.rand(n, generator=g) < p.rho, 1.0, -1.0)
            # set one free latent so that χ_P = agree · y; the rest of P stays uniform
            a[:, free[-1]] *= agree * y * chi(a, p.latents)
        return a
