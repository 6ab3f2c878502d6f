"""The linear arm of X1: overparameterized least squares, where the minimum closest to the start is
the pseudo-inverse solution. Plain GD must reach it to machine precision, cone descent must reach the
same point (its steps never leave x0 + rowspace(A)), and the planted start off x0 along the null
space must follow GD's losses while ending √(1 + d²) as far from x0."""

import math

import numpy as np
import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.least_squares import LeastSquaresSpec, descend, null_direction, problem

MEMBERS = dict(init_seeds=(0, 1, 2, 3), data_seeds=(9, 9, 9, 9), world_seeds=(0, 0, 1, 1))


def final(records, inst):
    return records[-1][1][inst, ""].numpy()


def curve(records, inst):
    return np.stack([v[inst, ""].numpy() for _, v in records], axis=1)


def test_problem_is_overparameterized_rescaled_and_its_closest_minimum_is_the_pseudo_inverse_solution():
    A, b, x0, star = problem(8, 20, world_seed=3, init_seed=4)
    assert torch.linalg.eigvalsh(A.T @ A / 8).max().item() == pytest.approx(1.0)
    torch.testing.assert_close(A @ star, b)  # a minimum (loss 0)
    # closest to x0 among minima: x* − x0 is orthogonal to the null space (the minima's directions)
    n = null_direction(A, 4)
    assert abs(float(A @ n @ (A @ n))) < 1e-20 and abs(float(n @ (star - x0))) < 1e-10
    other = star + 0.3 * n  # another minimum, farther from x0
    torch.testing.assert_close(A @ other, b)
    assert (other - x0).norm() > (star - x0).norm()


def test_gradient_descent_and_the_cone_both_end_at_the_closest_minimum():
    for alpha in (0.0, 60.0):
        rec = descend(LeastSquaresSpec(alpha=alpha, lr=math.cos(math.radians(alpha)), steps=1000, **MEMBERS))
        assert final(rec, "train_loss").max() < 1e-12
        assert (final(rec, "distance_to_closest") / final(rec, "closest_distance")).max() < 1e-6
        np.testing.assert_allclose(final(rec, "distance_from_init"), final(rec, "closest_distance"), rtol=1e-6)


def test_the_planted_start_follows_gd_losses_and_ends_farther_by_the_planted_amount():
    gd = descend(LeastSquaresSpec(steps=300, **MEMBERS))
    far = descend(LeastSquaresSpec(steps=300, displaced=0.75, **MEMBERS))
    np.testing.assert_allclose(curve(far, "train_loss"), curve(gd, "train_loss"), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(final(far, "distance_from_init") / final(far, "closest_distance"), 1.25, rtol=1e-9)
    np.testing.assert_allclose(final(far, "distance_to_closest") / final(far, "closest_distance"), 0.75, rtol=1e-9)


def test_a_step_too_long_for_plain_descent_does_not_fit():
    # the rescaling makes lr = 2 the stability edge: beyond it, plain descent blows up instead of fitting
    rec = descend(LeastSquaresSpec(lr=2.5, steps=200, **MEMBERS))
    assert not (final(rec, "train_loss") < 1).any()


@pytest.mark.parametrize("kw,field", [(dict(n_params=32), "least_squares.n_params"),
                                      (dict(alpha=90.0), "least_squares.alpha"),
                                      (dict(lr=0.0), "least_squares.lr"),
                                      (dict(displaced=-1.0), "least_squares.displaced"),
                                      (dict(world_seeds=(0,)), "least_squares seeds")])
def test_bad_specs_name_their_field(kw, field):
    with pytest.raises(ConfigError) as e:
        LeastSquaresSpec(**{**MEMBERS, **kw})
    assert e.value.field == field
