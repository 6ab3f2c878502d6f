"""A chunk: models ``[lo, hi)`` of one run, trained and measured apart from the others.

A model's trajectory depends only on its own init and data-order seeds, so a run can be cut into
chunks, trained anywhere (another process, another machine) and put back together. Every instrument
but one is per model and needs nothing from other chunks. The exception, ``disagreement``, compares
every pair of models: each chunk therefore returns its deployment predictions (the sign of each
logit, one bit per sample), and once all chunks are in, the driver computes disagreement over the
whole run from them, with the same function on the same ±1 values as an unchunked run.

Numbers are bitwise reproducible for a given chunking (on any engine, after any restart: the store
keeps a run's chunk boundaries); a different chunking agrees to float32 rounding (~1e-7), because
batched matmuls over stacks of different sizes may sum in a different order.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch

from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec, measure
from greedlab.instruments import disagreement

CROSS_MODEL = ("disagreement",)  # instruments computed over the whole run, never within a chunk


@dataclass
class ChunkResult:
    """What a chunk task returns to the driver: plain numpy and bytes, cheap to ship."""

    run_id: str
    lo: int
    hi: int
    metrics: dict[str, np.ndarray]
    """Store columns (seed = index in the run), without the cross-model instruments."""
    predictions: bytes
    """``pack_predictions`` of the deployment logits at every evaluation."""


def bounds(n_models: int, size: int) -> list[tuple[int, int]]:
    """Consecutive chunks of at most ``size`` models covering ``[0, n_models)``."""
    if not (isinstance(size, int) and size >= 1):
        raise ConfigError("chunk", "an integer ≥ 1 (models per chunk)", size)
    return [(lo, min(lo + size, n_models)) for lo in range(0, n_models, size)]


def train_chunk(spec: RunSpec, lo: int, hi: int, device: str = "cpu") -> ChunkResult:
    """Train and measure models ``[lo, hi)`` of ``spec``: the unit of work a sweep hands out."""
    logits: list[tuple[int, torch.Tensor]] = []
    cols = measure(spec, device=device, members=(lo, hi), deploy_logits=logits)
    keep = ~np.isin(cols["instrument"], CROSS_MODEL)
    return ChunkResult(spec.run_id, lo, hi, {k: v[keep] for k, v in cols.items()}, pack_predictions(logits))


def pack_predictions(logits: list[tuple[int, torch.Tensor]]) -> bytes:
    """(step, logits (n, S)) per evaluation -> an .npz blob: ``steps`` (T,), and ``planes`` (n, T, 3,
    ⌈S/8⌉) of packed bits: logit > 0, logit < 0, logit not finite. 3 bits per sample instead of
    32 keep a 1,000-model run's predictions near 50 MB; zeros and non-finite values survive exactly."""
    steps = np.array([s for s, _ in logits], dtype=np.int64)
    planes = np.stack([torch.stack([f > 0, f < 0, ~torch.isfinite(f)], dim=1).cpu().numpy() for _, f in logits],
                      axis=1)  # (n, T, 3, S)
    buf = io.BytesIO()
    np.savez(buf, steps=steps, planes=np.packbits(planes, axis=-1), samples=np.int64(planes.shape[-1]))
    return buf.getvalue()


def unpack_predictions(blob: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """(steps (T,), packed planes (n, T, 3, ⌈S/8⌉), S) of a ``pack_predictions`` blob."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:  # plain arrays only: nothing is unpickled
        return z["steps"], z["planes"], int(z["samples"])


def signs(planes: np.ndarray, samples: int) -> torch.Tensor:
    """Packed planes (n, 3, ⌈S/8⌉) of one evaluation -> (n, S) float32: ±1, 0, or NaN where the
    logit was not finite."""
    bits = np.unpackbits(planes, axis=-1, count=samples).astype(bool)
    out = bits[:, 0].astype(np.float32) - bits[:, 1].astype(np.float32)
    out[bits[:, 2]] = np.nan
    return torch.from_numpy(out)


def run_wide_metrics(blobs: list[bytes], worlds: list[int] | None = None) -> dict[str, np.ndarray]:
    """Disagreement over all models of a run, from its chunks' predictions (in order of lo), as store
    columns. Equal to what ``evaluate`` gives the whole ensemble at once: it sees the same signs.
    With ``worlds`` (each model's world seed) models are compared within their own world only, as
    ``experiment.measure`` does: models of different worlds are not shown the same inputs."""
    parts = [unpack_predictions(b) for b in blobs]
    steps, _, samples = parts[0]
    if any(not np.array_equal(p[0], steps) or p[2] != samples for p in parts):
        raise ValueError("chunks of one run were evaluated at different steps or on different samples")
    planes = np.concatenate([p[1] for p in parts])  # (N, T, 3, ⌈S/8⌉): still packed, unpacked a step at a time
    n = planes.shape[0]
    cols: dict[str, list] = {"seed": [], "step": [], "instrument": [], "feature": [], "value": []}
    for t, step in enumerate(steps):
        cols["seed"].append(np.arange(n, dtype=np.int32))
        cols["step"].append(np.full(n, step, dtype=np.int32))
        cols["instrument"].append(np.full(n, "disagreement", dtype=object))
        cols["feature"].append(np.full(n, "", dtype=object))
        s = signs(planes[:, t], samples)
        if worlds is None or len(set(worlds)) == 1:
            cols["value"].append(disagreement(s).double().numpy())
            continue
        value = np.empty(n)
        for w in dict.fromkeys(worlds):
            mask = np.asarray(worlds) == w
            value[mask] = disagreement(s[torch.from_numpy(mask)]).double().numpy()
        cols["value"].append(value)
    return {k: np.concatenate(v) for k, v in cols.items()}
