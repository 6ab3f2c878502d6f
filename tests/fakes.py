"""Synthetic results for sensitivity tests: a claim's pure ``analyse`` fed curves chosen by hand, so a
test can put the effect where it must not be (a negative control) or take it away where it must be
(a positive control) and check that the control fails and the verdict turns inconclusive."""

from __future__ import annotations

import numpy as np

from greedlab.experiment import RunResult, RunSpec


def fake_run(spec: RunSpec, steps, curves: dict, run_id: str = "fake") -> RunResult:
    """A RunResult of ``spec`` whose curve (instrument, feature) is ``curves[(instrument, feature)]``:
    an (N, T) array over ``steps``, or a callable (N, T) -> array given the step grid broadcast."""
    steps = np.asarray(steps)
    n, t = spec.n_models, len(steps)
    values = {}
    for key, v in curves.items():
        key = key if isinstance(key, tuple) else (key, "")
        arr = v(np.broadcast_to(steps, (n, t))) if callable(v) else np.broadcast_to(np.asarray(v, float), (n, t))
        values[key] = np.array(arr, dtype=float)
    return RunResult(run_id, spec, steps, values)


def ramp(start: float, end: float, at: int, width: int = 1):
    """A curve that steps from ``start`` to ``end`` at step ``at`` (linearly over ``width`` steps)."""
    return lambda s: start + (end - start) * np.clip((s - at) / max(width, 1), 0, 1)


def noisy(base, sd: float, seed: int = 0):
    """``base`` (a value or curve) plus per-model Gaussian noise (the same at every step)."""
    rng = np.random.default_rng(seed)

    def f(s):
        b = base(s) if callable(base) else np.broadcast_to(base, s.shape)
        return b + rng.normal(0, sd, size=(s.shape[0], 1))
    return f
