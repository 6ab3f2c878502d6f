"""The helpers claims share to pair runs member by member."""

from dataclasses import replace

import numpy as np
import pytest

from fakes import fake_run
from greedlab.claims import presets
from greedlab.claims.common import get_scale
from greedlab.claims.context import Context
from greedlab.claims.presets import first_half, paired_members
from greedlab.experiment import seeds

QUICK = Context(get_scale("quick"), None, None)


def _spec(n=8, worlds=4, base=0):
    spec = QUICK.spec(presets.world(0.9), n_seeds=n)
    return replace(spec, **seeds(n, worlds=worlds, world_base=base))


def test_pairing_keeps_the_members_both_runs_kept_row_for_row():
    a, b = _spec(), _spec()
    ra = fake_run(a, [0, 10], {"x": np.arange(8.0)[:, None] + [0, 1]})
    rb = fake_run(b, [0, 10], {"x": 10 + np.arange(8.0)[:, None] + [0, 1]})
    rb = type(rb)(rb.run_id, rb.spec, rb.steps, {k: v[[0, 2, 5]] for k, v in rb.values.items()}, np.array([0, 2, 5]))
    pa, pb = paired_members(ra, rb)  # members 1, 3, 4, 6, 7 diverged in b: left out of both
    assert list(pa.final("x")) == [1, 3, 6] and list(pb.final("x")) == [11, 13, 16]
    half = first_half(a)
    ph, pf = paired_members(fake_run(half, [0], {"x": np.zeros((4, 1))}), ra)
    assert len(ph.final("x")) == len(pf.final("x")) == half.n_models


def test_pairing_runs_whose_shared_members_all_diverged_is_empty_not_an_error():
    a, b = _spec(), _spec()
    ra = fake_run(a, [0, 10], {"x": np.ones((8, 2))})
    rb = fake_run(b, [0, 10], {"x": np.ones((8, 2))})
    rb = type(rb)(rb.run_id, rb.spec, rb.steps, {k: v[:0] for k, v in rb.values.items()}, np.array([], dtype=int))
    pa, pb = paired_members(ra, rb)
    assert pa.final("x").shape == (0,) and pb.final("x").shape == (0,)


def test_pairing_runs_built_with_no_member_in_common_is_refused():
    a, b = _spec(base=0), _spec(base=100)
    with pytest.raises(ValueError, match="share no member"):
        paired_members(fake_run(a, [0], {"x": np.zeros((8, 1))}), fake_run(b, [0], {"x": np.zeros((8, 1))}))
