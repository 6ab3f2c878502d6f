"""The local learning coefficient: the estimator against models of known λ (positive control: regular
models read d/2; negative: duplicated parameters do not read their count/2), against devinterp's
estimator chain for chain (when ``greedlab[slt]`` is installed), the ensemble wrapper and failed chains."""

import contextlib
import io
import tempfile
import warnings

import numpy as np
import pytest
import torch

from greedlab.errors import ConfigError
from greedlab.instruments import llc as llc_mod
from greedlab.instruments.llc import LLCConfig, Member, ensemble_llc, estimate_llc, regression_check
from greedlab.models import MLPConfig
from greedlab.train import logistic_loss

TOLERANCE = 0.25
OLD = LLCConfig(lr=1e-4, localization=100.0, draws=256, burn_in=0, batch_size=256)
"""The settings H3 used before the known-λ checks in the logistic family and at singular points."""


def mean_known(name, seeds=(0, 1, 2, 3), cfg=LLCConfig()):
    case = next(c for c in llc_mod.KNOWN_LAMBDA if c.name == name)
    got = [llc_mod.known_check(case, seed=s, cfg=cfg) for s in seeds]
    return float(np.mean([e.llc for e, _ in got])), float(np.mean([t for _, t in got])), case


def test_regular_logistic_models_read_half_their_dimension_for_two_dimensions():
    # two d whose ±25% windows ([1.5, 2.5] and [6, 10]) do not overlap: no constant estimator passes both
    for name in ("logistic d=4", "logistic d=16"):
        lam, tempered, case = mean_known(name)
        assert abs(tempered / case.lam - 1) < 0.02          # γ = 1 barely shrinks a regular direction …
        assert abs(lam / case.lam - 1) <= TOLERANCE, (name, lam)   # … and the sampler reads it


def test_flat_directions_read_their_effective_dimension_not_their_parameter_count():
    lam, _, case = mean_known("logistic duplicated d=8")
    assert case.params == 16 and case.lam == 4
    assert lam < 0.75 * case.params / 2, lam             # not the parameter count …
    assert abs(lam / case.lam - 1) <= TOLERANCE, lam     # … but the d/2 of the weights it computes


def test_singular_points_read_their_lambda_below_d_over_2():
    # y = w²x at w = 0: λ = 1/4 (multiplicity 1), read against λ itself
    lam, tempered, _ = mean_known("square squared")
    assert abs(tempered / 0.25 - 1) < 0.05 and abs(lam / 0.25 - 1) <= TOLERANCE, lam
    # y = w₁w₂x at w = 0: λ = 1/2 with multiplicity 2, whose tempered posterior reads below λ at finite n;
    # the sampler is held to that exact value, and it is still far above the former settings' ≈ 0
    lam, tempered, _ = mean_known("product logistic")
    assert 0.3 < tempered < 0.45 and abs(lam / tempered - 1) <= TOLERANCE, (lam, tempered)


def test_the_former_settings_read_a_singular_point_as_zero_and_regular_logistic_low():
    """Why the settings changed: γ = 100 confines the chain to |w| ≲ 0.1, where y = w₁w₂x is flat to
    within nβ·(w₁w₂)² ≈ 0.1, and shrinks logistic regression's directions (nβh ≈ 100–200) by about half."""
    lam, tempered, _ = mean_known("product squared", seeds=(0, 1), cfg=OLD)
    assert lam < 0.05 and tempered < 0.05
    lam, tempered, _ = mean_known("logistic d=16", seeds=(0, 1), cfg=OLD)
    assert lam / 8 < 0.75 and tempered / 8 < 0.75


def test_burn_in_discards_the_chains_first_steps_and_the_plateau_curve_reads_the_rest():
    case = next(c for c in llc_mod.KNOWN_LAMBDA if c.name == "logistic d=4")
    module, x, y, loss = llc_mod.known_problem(case)
    cfg = LLCConfig(burn_in=64, draws=128, chains=1)
    est = estimate_llc(module, x, y, loss, cfg)
    assert est.traces.shape == (1, 192) and est.burn_in == 64   # the same chain as without burn-in (below)
    kept = est.traces[0, 64:]
    assert est.llc == pytest.approx(est.nbeta * (kept.mean() - est.init_loss), rel=1e-9)
    assert est.kept(128) == pytest.approx(est.llc, rel=1e-9)
    assert est.kept(64, 64) == pytest.approx(est.nbeta * (kept[64:].mean() - est.init_loss), rel=1e-9)
    # the chain starts at w*, where the loss is lowest: the first block of the trace reads lowest
    trace = est.trace(32)
    assert len(trace) == 6 and trace[0] < trace[2:].mean()
    # with no burn-in the same steps are all kept
    none = estimate_llc(module, x, y, loss, LLCConfig(burn_in=0, draws=192, chains=1))
    np.testing.assert_allclose(none.traces, est.traces)
    assert none.llc == pytest.approx(none.nbeta * (none.traces.mean() - none.init_loss), rel=1e-9)


def test_estimate_is_measured_from_the_loss_at_the_given_point():
    # at w* the estimate is ≈ d/2 > 0; away from the minimum the chains fall downhill and the "estimate"
    # turns negative: λ̂ means something only at a fitted model, which is why H3 checks the fit first
    case = next(c for c in llc_mod.KNOWN_LAMBDA if c.name == "logistic d=4")
    module, x, y, loss = llc_mod.known_problem(case)
    cfg = LLCConfig(burn_in=256, draws=512)
    at_min = estimate_llc(module, x, y, loss, cfg).llc
    assert abs(at_min / 2 - 1) <= TOLERANCE, at_min
    off = llc_mod.Linear(module.u.detach() + 0.5)
    assert estimate_llc(off, x, y, loss, cfg).llc < -10


def test_the_callers_random_streams_are_left_as_they_were():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    regression_check(4, n=512, cfg=LLCConfig(batch_size=64, draws=8, burn_in=4, chains=1))
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
    cfg = LLCConfig(batch_size=64, draws=32, burn_in=8, chains=1)
    both = ensemble_llc(model, params, x, y, [3, 4], cfg)
    alone = ensemble_llc(model, [p[1:] for p in params], x, y, [4], cfg)
    np.testing.assert_allclose(both[1].per_chain, alone[0].per_chain, rtol=1e-5)
    assert both[0].per_chain[0] != both[1].per_chain[0]
    assert all(np.isfinite(e.init_loss) for e in both)
    # the loss it is measured from is the members' own logistic loss on (x, y)
    f, _ = model.forward(params, x)
    np.testing.assert_allclose(both[0].init_loss, logistic_loss(f[0], y).mean().item(), rtol=1e-4)


@pytest.mark.parametrize("field, kw", [("llc.lr", dict(lr=0.0)), ("llc.chains", dict(chains=0)),
                                       ("llc.nbeta", dict(nbeta=-1.0)), ("llc.localization", dict(localization=-1)),
                                       ("llc.burn_in", dict(burn_in=-1))])
def test_bad_settings_name_their_field(field, kw):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        LLCConfig(**kw)


def test_a_chain_that_blows_up_gives_no_number():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1024, 4, generator=g)
    y = x.sum(1)
    with pytest.warns(RuntimeWarning):
        est = estimate_llc(llc_mod.Linear(torch.ones(4)), x, y, llc_mod.gaussian_nll,
                           LLCConfig(lr=10.0, draws=32, burn_in=0, batch_size=64))   # a step far past stability
    assert np.isnan(est.per_chain).all() and np.isnan(est.llc)


def test_no_draw_touches_the_module_it_measures():
    w = torch.tensor([1.0, -2.0, 0.5, 3.0])
    module = llc_mod.Linear(w)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(512, 4, generator=g)
    estimate_llc(module, x, x @ w, llc_mod.gaussian_nll, LLCConfig(batch_size=64, draws=16, burn_in=4))
    torch.testing.assert_close(module.u.detach(), w, rtol=0, atol=0)


def test_minibatches_are_one_shuffled_pass_without_the_remainder():
    b = llc_mod.minibatches(1000, 64, seed=5)
    assert b.shape == (15, 64) and len(set(b.flatten().tolist())) == 15 * 64
    assert torch.equal(b, llc_mod.minibatches(1000, 64, seed=5))
    assert not torch.equal(b, llc_mod.minibatches(1000, 64, seed=6))


# -- the reference: devinterp's estimator, on the same model, data and settings ---------------------

class _Indices(torch.utils.data.Dataset):
    """Example i as the token sequence [i, i]: devinterp 2.x samples language models, so a training set
    is handed to it as sequences with one "next token" each, and the loss looks the example up."""

    def __init__(self, n):
        ids = torch.arange(n)
        self.rows = torch.stack([ids, ids], 1)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return {"input_ids": self.rows[i]}


def devinterp_llc(module, x, y, loss, cfg):
    """devinterp's λ̂ per chain and L_n(w*), called as greedlab called it before the sampler moved here."""
    from devinterp.slt.llc import llc

    n = len(y)

    def per_token_loss(model, input_ids):
        i = input_ids[:, 0]
        return loss(model(x[i]), y[i]).unsqueeze(1)

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        out = llc(module, _Indices(n), {}, lr=cfg.lr, n_beta=llc_mod.nbeta_for(cfg, n), loss_fn=per_token_loss,
                  localization=cfg.localization, num_chains=cfg.chains, num_draws=cfg.draws,
                  batch_size=cfg.batch_size, init_seed=cfg.seed, num_init_loss_batches=max(n // cfg.batch_size, 1),
                  device="cpu", output_path=f"{tmp}/samples.zarr")
    return np.asarray(out["llc_per_chain"].values, dtype=float), float(out["init_loss"].values)


def test_the_estimator_is_devinterps_chain_for_chain():
    pytest.importorskip("devinterp.slt.llc", reason="devinterp is not installed (pip install 'greedlab[slt]')")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8192, 4, generator=g)
    y = x @ torch.randn(4, generator=g) + torch.randn(8192, generator=g)
    w_star = torch.linalg.lstsq(x, y.unsqueeze(1)).solution.squeeze(1)
    model = MLPConfig(width=16, depth=2)
    params = model.init(4, [0])
    logistic = next(c for c in llc_mod.KNOWN_LAMBDA if c.name == "logistic duplicated d=8")
    lmod, lx, ly, _ = llc_mod.known_problem(logistic)
    # H3's step, localization and batch (at unit scale; ``at_scale`` is the same chain), 2,048 draws. The
    # burn-in is compared separately: an estimate with burn-in B keeps steps B… of this same chain
    # (test_burn_in_…). devinterp's own num_burnin_steps read 0.2 apart on this model at B = 64 and 256
    # draws, not yet explained, so it is not what is compared here
    cases = [(lmod, lx, ly, logistic_loss, LLCConfig(seed=3, burn_in=0, draws=2048)),
             (llc_mod.Linear(w_star, duplicated=True), x, y, llc_mod.gaussian_nll, OLD),   # the former ones
             (Member(model, params, 0), x, torch.sign(x[:, 0] * x[:, 1] + 1e-3), logistic_loss,
              LLCConfig(draws=64, burn_in=0, batch_size=200))]             # a member, a remainder dropped
    for module, xs, target, loss, cfg in cases:
        ours = estimate_llc(module, xs, target, loss, cfg)
        theirs, init_loss = devinterp_llc(module, xs, target, loss, cfg)
        # the same steps from the same random streams; float32 sums in other orders leave ~1e-7 of the
        # loss, times nβ ≈ 900
        assert ours.init_loss == pytest.approx(init_loss, rel=1e-6)
        np.testing.assert_allclose(ours.per_chain, theirs, rtol=0, atol=5e-4)
        assert np.ptp(ours.per_chain) > 1e-2   # chains differ: the agreement is not the init loss alone


def test_settings_at_a_weight_scale_read_a_model_written_at_that_scale_as_the_defaults_read_it_at_one():
    """SGLD with (ε, γ) on weights s·w takes the steps of (ε/s², γ·s²) on w: the check at the networks'
    weight scale with ``at_scale``'s settings reads exactly what the unit-scale check reads, so the
    known-λ readings of the defaults carry over to the settings H3 uses."""
    unit = LLCConfig(chains=1, burn_in=16, draws=32)
    scaled = llc_mod.at_scale(unit, llc_mod.WEIGHT_SCALE)
    assert scaled.lr == pytest.approx(unit.lr / 100) and scaled.localization == pytest.approx(unit.localization * 100)
    for name in ("logistic duplicated d=8", "product logistic"):
        case = next(c for c in llc_mod.KNOWN_LAMBDA if c.name == name)
        a, ta = llc_mod.known_check(case, cfg=unit)
        b, tb = llc_mod.known_check(case, cfg=scaled, scale=llc_mod.WEIGHT_SCALE)
        assert b.llc == pytest.approx(a.llc, rel=1e-3, abs=1e-3) and tb == pytest.approx(ta, rel=1e-3)
    # and the unscaled settings on the scaled model are not the same thing: there they are ε·100 and γ/100
    # in unit terms, a step past stability (the chain fails, NaN) and almost no localization
    with pytest.warns(RuntimeWarning):
        c, _ = llc_mod.known_check(case, cfg=unit, scale=llc_mod.WEIGHT_SCALE)
    assert not c.llc == pytest.approx(a.llc, rel=0.05)
