"""The nonlinear pragmascope: per-view encoders trained to agree, then the linear method on their embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from greedlab.pragmascope.data import load
from greedlab.pragmascope.linear import Abstractions, _groups, _split, find

def find_nonlinear(data: str | Path | np.ndarray, views: str | list | None = None, dim: int = 8, width: int = 64,
                   steps: int = 600, temperature: float = 0.2, seed: int = 0) -> Abstractions:
    """The nonlinear method: one small MLP encoder per view, trained on the fit half so that each
    view's embedding picks its own row out of a batch given the *other* views' mean embedding
    (InfoNCE against the leave-one-view-out consensus: redundancy as a training signal). The
    linear method then runs on the embeddings, one view per encoder, and scores them on the
    held-out half the encoders never saw, so its scores and thresholds mean the same thing.

    ``dim`` caps how many abstractions it can report: measured on the default hierarchy world
    (16 latents, 4 views), dim = 8 reported 8 features, dim = 32 reported 29 (functions of the
    latents among them) with every latent at linear R² ≥ 0.68, where the linear method reaches
    ≥ 0.79 with exactly 16. Use it where the views share structure no linear map shows."""
    import torch
    import torch.nn.functional as F

    x, _ = load(data)
    groups = _groups(x, views)
    fit_rows, _ = _split(len(x))
    mean, std = x[fit_rows].mean(0), np.where(x[fit_rows].std(0) > 0, x[fit_rows].std(0), 1.0)
    gen = torch.Generator().manual_seed(seed)

    def layer(i, o):
        return [torch.randn(i, o, generator=gen) / np.sqrt(i), torch.zeros(o)]

    encs = [layer(len(g), width) + layer(width, dim) for g in groups]
    for p in (p for e in encs for p in e):
        p.requires_grad_(True)

    def embed(z: torch.Tensor) -> list[torch.Tensor]:
        return [torch.relu(z[:, g] @ w1 + b1) @ w2 + b2 for g, (w1, b1, w2, b2) in zip(groups, encs)]

    zt = torch.as_tensor((x - mean) / std, dtype=torch.float32)
    fit = torch.as_tensor(fit_rows)
    opt = torch.optim.Adam([p for e in encs for p in e], lr=3e-3)
    batch = min(256, len(fit))
    for _ in range(steps):
        idx = fit[torch.randperm(len(fit), generator=gen)[:batch]]
        hs = torch.stack([F.normalize(h, dim=1) for h in embed(zt[idx])])  # (V, B, dim)
        others = F.normalize(hs.sum(0, keepdim=True) - hs, dim=2)  # each view's leave-one-out consensus
        logits = hs @ others.transpose(1, 2) / temperature  # (V, B, B)
        target = torch.arange(batch).expand(len(groups), -1)
        loss = F.cross_entropy(logits.flatten(0, 1), target.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()

    def encode(raw: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            z = torch.as_tensor((raw - mean) / std, dtype=torch.float32)
            return torch.cat(embed(z), dim=1).double().numpy()

    emb = encode(x)
    res = find(emb, [list(range(v * dim, (v + 1) * dim)) for v in range(len(groups))])
    res.encode = encode
    res.data_views = groups
    return res
