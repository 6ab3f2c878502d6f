"""Where the time goes: wall-clock seconds per phase of a run, each phase exclusive of the phases
nested inside it (training's seconds do not include the evaluations it calls).

The suite's cost is what decides how many seeds and steps a laptop can afford, and a guess about
it is usually wrong (evaluation, not training, dominated tiny runs once). So every run records its
own breakdown (``since`` a ``snapshot`` taken before it; the store keeps it beside the run), and ``greedlab bench
--suite`` adds them up. Timers are per process, and cost a ``perf_counter`` call per phase entry.

Phases: ``world`` (drawing worlds, training sets, evaluation sets), ``training`` (optimizer steps),
``evaluation`` (the instruments at each evaluation, probes excepted), ``probes`` (decodability probe
fits), ``starvation`` (the pull of the descent direction), ``llc`` (SGLD sampling), ``other`` (what a
run of its own kind, e.g. the published anchors' own training loops, does outside those), and, in the
command's own process, ``analysis`` (claims' statistics), ``figures`` and ``report``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Iterator

PHASES = ("world", "training", "evaluation", "probes", "starvation", "llc", "other", "analysis", "figures",
          "report")

_totals: dict[str, float] = defaultdict(float)
_stack: list[list] = []  # [name, seconds spent in nested phases]


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Count the block's wall time to ``name``, less the time of phases opened inside it."""
    start = time.perf_counter()
    _stack.append([name, 0.0])
    try:
        yield
    finally:
        _, nested = _stack.pop()
        spent = time.perf_counter() - start
        _totals[name] += spent - nested
        if _stack:
            _stack[-1][1] += spent


def snapshot() -> dict[str, float]:
    """The seconds per phase counted so far in this process."""
    return dict(_totals)


def since(before: dict[str, float]) -> dict[str, float]:
    """The seconds per phase counted since ``before`` (a ``snapshot``): one run's breakdown, whatever
    the process counted before it (a claim's analysis, another run)."""
    return {k: round(v - before.get(k, 0.0), 4) for k, v in _totals.items() if v - before.get(k, 0.0) > 0}


def add(into: dict[str, float], more: dict[str, float]) -> dict[str, float]:
    """Sum two breakdowns (runs trained in other processes come back as dicts)."""
    for k, v in more.items():
        into[k] = into.get(k, 0.0) + v
    return into


PARENT = ("analysis", "figures", "report")
"""The phases a command counts in its own process; a run's phases come from the store (a run trained
in a worker process counts them there), so a breakdown takes each from one place only."""


def breakdown(run_timings: dict[str, dict[str, float]], parent: dict[str, float]) -> dict[str, float]:
    """One breakdown of a command: the phases of the runs it trained plus its own (``PARENT``) phases."""
    out: dict[str, float] = {}
    for t in run_timings.values():
        add(out, t)
    return add(out, {k: v for k, v in parent.items() if k in PARENT})


def describe(seconds: dict[str, float]) -> str:
    """'training 61% · evaluation 22% · …' in ``PHASES`` order, of the total seconds counted."""
    total = sum(seconds.values())
    if total <= 0:
        return "nothing timed"
    parts = [f"{k} {100 * seconds[k] / total:.0f}%" for k in PHASES if seconds.get(k, 0) / total >= 0.005]
    return f"{' · '.join(parts)} (of {total:.0f} s of compute)"
