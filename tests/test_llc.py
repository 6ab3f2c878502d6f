"""The local learning coefficient: devinterp's estimator against models of known λ (positive control:
regular models read d/2; negative: duplicated parameters do not read their count/2), the ensemble
wrapper, failed chains and the missing-extra error."""

import sys

import numpy as np
import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.instruments import llc as llc_mod
from greedlab.instruments.llc import LLCConfig, Member, ensemble_llc, estimate_llc, regression_check
from greedlab.models import MLPConfig
from greedlab.train import logistic_loss

pytest.importorskip("devinterp")  # the [test] extra installs it; a bare install skips these cleanly

TOLERANCE = 0.25


def mean_llc(d, duplicated=False, seeds=(0, 1, 2, 3)):
    got = [regression_check(d, duplicated, seed=s) for s in seeds]
    return float(np.mean([e.llc for e, _, _ in got])), got[0][1], got[0][2]


def test_regular_models_read_half_their_dimension_for_two_dimensions():
    # two d whose ±25% windows ([1.5, 2.5] and [6, 10]) do not overlap: no constant estimator passes both
    for d in (4, 16):
        lam, n_params, truth = mean_llc(d)
        assert n_params == d and truth == d / 2
        assert abs(lam / truth - 1) <= TOLERANCE, (d, lam)


def test_duplicated_parameters_read_their_effective_dimension_not_their_count():
    lam, n_params, truth = mean_llc(8, duplicated=True)
    assert n_params == 16 and truth == 4
    assert lam < 0.75 * n_params / 2, lam             # not the parameter count …
    assert abs(lam / truth - 1) <= TOLERANCE, lam     # … but the d/2 of the weights it computes


def test_estimate_is_measured_from_the_loss_at_the_given_point():
    # at w* the estimate is ≈ d/2 > 0; away from the minimum the chains fall downhill and the "estimate"
    # turns negative: λ̂ means something only at a fitted model, which is why H3 checks the fit first
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8192, 4, generator=g)
    y = x @ torch.ones(4) + torch.randn(8192, generator=g)
    w_star = torch.linalg.lstsq(x, y.unsqueeze(1)).solution.squeeze(1)
    at_min = estimate_llc(llc_mod.Linear(w_star), x, y, llc_mod.gaussian_nll).llc
    assert abs(at_min / 2 - 1) <= TOLERANCE, at_min
    assert estimate_llc(llc_mod.Linear(w_star + 0.5), x, y, llc_mod.gaussian_nll).llc < -10


def test_the_callers_random_streams_are_left_as_they_were():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    regression_check(4, n=512, cfg=LLCConfig(batch_size=64, draws=8, chains=1))
    torch.testing.assert_close(torch.rand(3), expected)


def test_a_member_is_its_own_model_of_the_ensemble():
    model = MLPConfig(width=8, depth=1)
    params = model.init(6, [0, 1])
    x = torch.randn(5, 6)
    logits, _ = model.forward(params, x)
    torch.testing.assert_close(Member(model, params, 1)(x), logits[1])
    assert not torch.allclose(Member(model, params, 0)(x), logits[1])


def test_a_members_estimate_does_not_depend_on_its_ensemble_companions():
    model = MLPConfig(width=8, depth=1)
    params = model.init(6, [3, 4])
    g = torch.Generator().manual_seed(1)
    x = torch.randn(512, 6, generator=g)
    y = torch.sign(x[:, 0] + 1e-3)
    cfg = LLCConfig(batch_size=64, draws=32, chains=1)
    both = ensemble_llc(model, params, x, y, [3, 4], cfg)
    alone = ensemble_llc(model, [p[1:] for p in params], x, y, [4], cfg)
    np.testing.assert_allclose(both[1].per_chain, alone[0].per_chain, rtol=1e-5)
    assert both[0].per_chain[0] != both[1].per_chain[0]
    assert all(np.isfinite(e.init_loss) for e in both)
    # the loss it is measured from is the members' own logistic loss on (x, y)
    f, _ = model.forward(params, x)
    np.testing.assert_allclose(both[0].init_loss, logistic_loss(f[0], y).mean().item(), rtol=1e-4)


@pytest.mark.parametrize("field, kw", [("llc.lr", dict(lr=0.0)), ("llc.chains", dict(chains=0)),
                                       ("llc.nbeta", dict(nbeta=-1.0)), ("llc.localization", dict(localization=-1))])
def test_bad_settings_name_their_field(field, kw):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        LLCConfig(**kw)


def test_missing_devinterp_is_one_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "devinterp.slt.llc", None)  # import now fails as if not installed
    with pytest.raises(ConfigError, match=r"greedlab\[slt\]"):
        llc_mod.require_devinterp()


def test_a_chain_that_blows_up_gives_no_number():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1024, 4, generator=g)
    y = x.sum(1)
    with pytest.warns(RuntimeWarning):
        est = estimate_llc(llc_mod.Linear(torch.ones(4)), x, y, llc_mod.gaussian_nll,
                           LLCConfig(lr=10.0, draws=32, batch_size=64))   # a step far past stability
    assert np.isnan(est.per_chain).all() and np.isnan(est.llc)
