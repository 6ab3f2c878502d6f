"""Claim H3 (simplicity bias, LLC) on synthetic results: its pure ``analyse`` fed λ̂ chosen by hand.
Every control is shown to fail when its condition is made to show the effect (negative) or to lack it
(positive), turning the verdict inconclusive; clean inputs give the rule's verdict and number. Also:
its conditions, that it trains without devinterp, LLC runs over several worlds equal to each world
alone, and one end-to-end smoke run read back from the store."""

from pathlib import Path

import numpy as np
import pytest

from greedlab.claims import h3_pairs, h3_simplicity as h3
from greedlab.claims.common import INCONCLUSIVE, REFUTED, SCALES, SUPPORTED
from greedlab.claims.context import Context
from greedlab.llc_runs import CHECK_CASES
from fakes import fake_run

QUICK = Context(SCALES["quick"], Path("."), None)
OK, FAILED = "control ok", "control FAILED"


def test_h3_needs_no_optional_package(monkeypatch):
    """The LLC sampler is greedlab's own: H3 runs with devinterp absent (it is only the tests' reference)."""
    import importlib.util

    from greedlab.claims import REGISTRY, check_extras

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "devinterp" else real(name, *a))
    check_extras("H3")
    assert not getattr(REGISTRY["H3"], "EXTRAS", {})


def _noisy(n: int, value: float, sd: float, seed: int) -> np.ndarray:
    return value + sd * np.random.default_rng(seed).standard_normal(n)


SEPARATING = (h3_pairs.PAIRS[0].name, ("proxy", 5.0, 14.0, 500.0, 100.0, 0.0))
"""A pair in which SGD follows volume (the proxy class: lower λ̂) though the target class fits first."""
AGREEING = ("proxy", 5.0, 14.0, 50.0, 300.0, 0.0)
"""A pair in which volume, order and SGD all point at the proxy class: it separates nothing."""


def pair_runs(specs: dict, pairs: dict | None = None) -> dict:
    """Runs of H3's class pairs with λ̂ by hand: ``pairs[name] = (favourite class under both optimizers,
    proxy-class λ̂, target-class λ̂, proxy-class step to the matched loss, target-class step, plateau
    drift)``; a pair not given separates volume from order (``SEPARATING``) if it is the first, else
    agrees (``AGREEING``)."""
    pairs = {SEPARATING[0]: SEPARATING[1], **(pairs or {})}
    reliance = {"proxy": (0.0, 0.95), "internal": (0.95, 0.0)}
    out = {}
    for k, spec in specs.items():
        if not isinstance(k, h3_pairs.PairCond):
            continue
        fav, llc_p, llc_t, step_p, step_t, drift = pairs.get(k.pair, AGREEING)
        n = spec.n_models
        if k.role in (h3_pairs.ADAM, h3_pairs.PLAIN):
            t, p = reliance[fav]
            out[k] = fake_run(spec, [1500], {("reliance", "target"): t, ("reliance", "proxy0"): p})
            continue
        cls = h3_pairs.CLS[k.role]
        llc, step = (llc_p, step_p) if cls == "proxy" else (llc_t, step_t)
        t, p = reliance[cls]
        seed = 100 + 10 * [q.name for q in h3_pairs.PAIRS].index(k.pair) + h3_pairs.ROLES.index(k.role)
        end = _noisy(n, llc, 0.2, seed)[:, None]
        half = _noisy(n, drift / 2, 0.05, seed + 1)[:, None]  # the chain's halves: their drift, and some noise
        out[k] = fake_run(spec, [1500], {("llc", ""): end, ("train_acc", ""): 1.0,
                                         ("train_loss", ""): 1e-4, ("matched_step", ""): step,
                                         ("matched_loss", ""): 9e-3, ("reliance", "target"): t,
                                         ("reliance", "proxy0"): p, ("llc_half", "first"): end - half,
                                         ("llc_half", "second"): end + half})
    return out


def h3_runs(sgd_llc=2.3, sgd_class="proxy", proxy=(4.8, 2.5), target=(14.5, 14.0), drift=(0.0, 0.0),
            check=None, never_matched=0, plain_class=None, pairs=None) -> dict:
    """H3's runs with λ̂ by hand: SGD's seeds at ``sgd_llc``, all of ``sgd_class``; each class's
    representatives at (the first evaluation with training loss ≤ MATCH_LOSS, end), fitting and reading
    as their class; ``drift``: per class, λ̂ of the second half of the kept draws − the first half;
    ``check``: case name -> λ̂ / reference for the estimator check (1 where not given; the reference is
    λ, or the tempered value 0.77·λ for the multiplicity-2 cases); ``never_matched``: that many seeds
    per class never reach the matched loss (NaN there); ``plain_class``: the class plain SGD's seeds all
    end in (default: ``sgd_class``); ``pairs``: the class pairs' readings (``pair_runs``)."""
    specs = h3.conditions(QUICK)
    n = specs[h3.SGD].n_models
    reliance = {"proxy": (0.0, 0.95), "internal": (0.95, 0.0)}

    def rep(spec, cls, llc, seed, half_drift=0.0, matched=None):
        t, p = reliance[cls]
        end = _noisy(n, llc[-1], 0.2, seed)[:, None]
        curves = {("llc", ""): end, ("train_acc", ""): np.ones((n, 1)), ("train_loss", ""): np.full((n, 1), 1e-4),
                  ("reliance", "target"): np.full((n, 1), t), ("reliance", "proxy0"): np.full((n, 1), p),
                  ("llc_half", "first"): end - half_drift / 2, ("llc_half", "second"): end + half_drift / 2}
        for k in (256, 512, 1024, 2048):
            curves[("llc_draws", str(k))] = end
        if matched is not None:
            m = _noisy(n, matched, 0.2, seed + 1)
            m[:never_matched] = np.nan
            curves[("llc_matched", "")] = m[:, None]
            curves[("matched_loss", "")] = np.where(np.isnan(m), np.nan, 9e-3)[:, None]
            curves[("matched_step", "")] = np.where(np.isnan(m), np.nan, 60.0)[:, None]
        return fake_run(spec, [1500], curves)

    curves = {}
    ratios = check or {}
    m = h3.CHECK_SETS
    for i, case in enumerate(CHECK_CASES):
        tempered = case.lam * (0.77 if case.name in h3.MULTIPLICITY_2 else 0.99)
        ref = tempered if case.name in h3.MULTIPLICITY_2 else case.lam
        curves[("llc_check", case.name)] = _noisy(m, ratios.get(case.name, 1.0) * ref, 0.05 * ref, i)[:, None]
        curves[("llc_check_truth", case.name)] = np.full((m, 1), case.lam)
        curves[("llc_check_tempered", case.name)] = np.full((m, 1), tempered)
        curves[("llc_check_params", case.name)] = np.full((m, 1), float(case.params))
    return {h3.CHECK: fake_run(specs[h3.CHECK], [0], curves),
            h3.SGD: rep(specs[h3.SGD], sgd_class, (sgd_llc,), 0),
            h3.PLAIN_SGD: rep(specs[h3.PLAIN_SGD], plain_class or sgd_class, (0.0,), 5),
            h3.PROXY: rep(specs[h3.PROXY], "proxy", proxy, 10, drift[0], proxy[0]),
            h3.TARGET: rep(specs[h3.TARGET], "internal", target, 20, drift[1], target[0]),
            **pair_runs(specs, pairs)}


N_CONTROLS = len(CHECK_CASES) + 1 + 2 + 2 + 2 * len(h3_pairs.PAIRS)
"""The known-λ cases, the parameter count, procedure and loss, 2 plateaus, and 2 plateaus per class pair."""
MATCHED = "at matched training loss"


def controls(rows) -> list[str]:
    return [r.verdict for r in rows if r.kind == "control"]


def test_h3_clean_lower_volume_favourite_is_supported():
    rows, verdict = h3.analyse(h3_runs())
    head = rows[0]
    assert verdict == SUPPORTED and head.verdict == SUPPORTED and "favourite: proxy-class" in head.statistic
    assert head.value == pytest.approx(11.5, abs=0.2) and head.ci_low > h3.MARGIN
    assert controls(rows) == [OK] * N_CONTROLS
    share = next(r for r in rows if "share of seeds ending proxy-class" in r.statistic)
    assert share.value == 1 and share.ci_low > 0.5 and share.ci_high == 1 and share.ci_low < 0.7  # 16/16 in 8 worlds
    matched = next(r for r in rows if r.condition.endswith(MATCHED))
    assert matched.value == pytest.approx(14.5 - 4.8, abs=0.2) and "losses there 0.009" in matched.statistic
    plateau = [r for r in rows if r.kind == "measurement" and "draws-to-plateau" in r.statistic]
    assert len(plateau) == 8
    assert all(r.value == pytest.approx(2.5, abs=0.1) for r in plateau if r.condition.startswith("proxy"))


def test_h3_favourite_target_is_mirrored():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=2.6, sgd_class="internal", proxy=(15.0, 14.0), target=(4.0, 2.5)))
    assert verdict == SUPPORTED and rows[0].value == pytest.approx(-11.5, abs=0.2)


def test_h3_favourite_with_the_higher_lambda_is_refuted():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=14.0, proxy=(15.0, 14.0), target=(4.0, 2.5)))
    assert verdict == REFUTED and rows[0].value == pytest.approx(-11.5, abs=0.2) and rows[0].ci_high < 0
    assert controls(rows) == [OK] * N_CONTROLS


def test_h3_classes_of_equal_volume_are_not_refuted_by_the_rule_alone():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=5.0, proxy=(6.0, 5.0), target=(6.0, 5.0)))
    assert abs(rows[0].value) < 0.2 and rows[0].ci_low < 0 < rows[0].ci_high < h3.MARGIN and verdict == INCONCLUSIVE
    loss = next(r for r in rows if r.condition.endswith(MATCHED))
    assert loss.verdict == INCONCLUSIVE and "not applied" in loss.statistic  # no ordering to guard


def test_h3_procedure_control_fails_when_one_class_reads_apart_by_how_it_was_reached():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=5.0))
    proc = next(r for r in rows if r.condition.startswith("SGD at rho=1 −"))
    assert proc.verdict == FAILED and proc.value == pytest.approx(2.5, abs=0.2)
    assert verdict == INCONCLUSIVE


def test_h3_parameter_count_control_fails_when_the_estimator_counts_parameters():
    rows, verdict = h3.analyse(h3_runs(check={"logistic duplicated d=8": 2.0}))  # λ̂ = 16/2 = the count/2
    dup = next(r for r in rows if r.condition.endswith("duplicated d=8, parameter count"))
    assert dup.verdict == FAILED and dup.value == pytest.approx(1.0, abs=0.05)
    assert verdict == INCONCLUSIVE


def test_h3_loss_control_fails_when_the_ordering_is_gone_at_matched_loss():
    # at the end the target class reads 11.5 higher, but read at the same training loss the two are level:
    # the end's difference came from how far each had fitted
    rows, verdict = h3.analyse(h3_runs(proxy=(14.2, 2.5)))
    loss = next(r for r in rows if r.condition.endswith(MATCHED))
    assert loss.verdict == FAILED and abs(loss.value) < 0.5
    assert verdict == INCONCLUSIVE


def test_h3_loss_control_fails_when_the_ordering_flips_at_matched_loss():
    rows, verdict = h3.analyse(h3_runs(proxy=(14.2, 2.5), target=(4.0, 14.0)))
    loss = next(r for r in rows if r.condition.endswith(MATCHED))
    assert loss.verdict == FAILED and loss.value == pytest.approx(-10.2, abs=0.3) and verdict == INCONCLUSIVE


def test_h3_loss_control_waits_when_too_few_seeds_reach_the_matched_loss():
    rows, verdict = h3.analyse(h3_runs(never_matched=14))
    loss = next(r for r in rows if r.condition.endswith(MATCHED))
    assert loss.verdict == INCONCLUSIVE and "(2 seeds" in loss.statistic and verdict == INCONCLUSIVE


def test_h3_plateau_control_fails_when_a_chain_is_still_drifting():
    rows, verdict = h3.analyse(h3_runs(drift=(0.0, 1.2)))
    plateau = {r.condition: r for r in rows if r.condition.endswith(": plateau")}
    assert plateau["proxy-class: plateau"].verdict == OK
    assert plateau["target-class: plateau"].verdict == FAILED
    assert plateau["target-class: plateau"].value == pytest.approx(1.2, abs=0.01) and verdict == INCONCLUSIVE


def test_h3_positive_control_fails_on_an_estimator_blind_to_lambda_and_no_refutation_follows():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=14.0, proxy=(15.0, 14.0), target=(4.0, 2.5),
                                       check={"logistic d=16": 0.25}))
    d16 = next(r for r in rows if r.condition.endswith("logistic d=16"))
    assert d16.verdict == FAILED and d16.value == pytest.approx(0.25, abs=0.05)
    assert rows[0].verdict == REFUTED and verdict == INCONCLUSIVE  # the rule alone would refute


@pytest.mark.parametrize("case", ["product squared", "square squared"])
def test_h3_positive_control_fails_on_an_estimator_that_reads_singular_points_as_zero(case):
    """The former localization (γ = 100) read y = w₁w₂x at w = 0 as 0.01 for λ = 1/2."""
    rows, verdict = h3.analyse(h3_runs(sgd_llc=14.0, proxy=(15.0, 14.0), target=(4.0, 2.5), check={case: 0.05}))
    row = next(r for r in rows if r.condition.endswith(case))
    assert row.verdict == FAILED and row.value == pytest.approx(0.05, abs=0.02)
    assert rows[0].verdict == REFUTED and verdict == INCONCLUSIVE


def _split(runs: dict, cond) -> dict:
    """``runs`` with ``cond``'s seeds ending half in each class: no favourite."""
    r = runs[cond]
    half = np.where(np.arange(16) % 2 == 0, 0.95, 0.0)[:, None]
    return {**runs, cond: fake_run(r.spec, r.steps, {**r.values, ("reliance", "target"): half,
                                                     ("reliance", "proxy0"): 0.95 - half})}


def test_h3_no_favourite_is_inconclusive():
    rows, verdict = h3.analyse(_split(h3_runs(), h3.SGD))
    assert "favourite: none" in rows[0].statistic and verdict == INCONCLUSIVE


def test_h3_plain_sgd_favouring_the_other_class_makes_it_inconclusive():
    """The claim is about SGD: Adam's favourite counts only when plain SGD's is the same."""
    rows, verdict = h3.analyse(h3_runs(plain_class="internal"))
    assert verdict == INCONCLUSIVE and rows[0].verdict == INCONCLUSIVE
    assert "proxy-class with Adam, target-class with plain SGD" in rows[0].statistic
    plain = next(r for r in rows if r.condition == h3.PLAIN_SGD.label() and "ending target-class" in r.statistic)
    assert plain.value == 1 and plain.ci_low > 0.5


def test_h3_plain_sgd_without_a_favourite_makes_it_inconclusive():
    rows, verdict = h3.analyse(_split(h3_runs(), h3.PLAIN_SGD))
    assert "none with plain SGD" in rows[0].statistic and verdict == INCONCLUSIVE


def test_h3_conditions_share_one_measured_training_set_seeds_and_worlds():
    ctx = Context(SCALES["quick"], Path("/tmp"), None, {"world": {"noise": 0.8}})
    specs = h3.conditions(ctx)
    assert all(isinstance(c, (h3.Cond, h3_pairs.PairCond)) for c in specs)
    runs = [specs[c] for c in (h3.SGD, h3.PROXY, h3.TARGET)]
    assert {s.measured for s in runs} == {runs[0].run.world} and runs[0].run.world.proxies[0].rho == 1.0
    assert runs[0].measured.noise == 0.8                             # the user's rendering, everywhere
    assert [s.run.world.objective for s in runs] == ["target", "proxy", "target"]
    assert {s.run.init_seeds for s in runs} == {tuple(range(16))}
    assert len({s.member_worlds for s in runs}) == 1 and len(set(runs[0].member_worlds)) == 8  # paired, 8 worlds
    assert len({s.run_id for s in specs.values()}) == len(specs)
    assert [s.match_loss for s in runs] == [None, h3.MATCH_LOSS, h3.MATCH_LOSS] and runs[1].checkpoints == [1500]
    plain = specs[h3.PLAIN_SGD]  # the Adam arm's training with plain SGD: same set, seeds and worlds
    assert plain.world == runs[0].run.world and plain.train.optimizer == "sgd" and plain.train.momentum == 0
    assert plain.init_seeds == runs[0].run.init_seeds and plain.member_worlds == runs[0].member_worlds


def test_llc_runs_over_several_worlds_equal_each_world_alone():
    """Each member trains in its own world and is measured on the measured world drawn under its seed:
    a run over two worlds gives, member for member, what each world's run alone gives."""
    import torch
    from dataclasses import replace

    from greedlab.experiment import RunSpec, seeds
    from greedlab.instruments.llc import LLCConfig
    from greedlab.llc_runs import LLCRunSpec
    from greedlab.models import MLPConfig
    from greedlab.train import TrainConfig

    w = replace(h3.presets.world(1.0), n_train=256)
    cfg, model = LLCConfig(chains=1, draws=4, burn_in=2, batch_size=64), MLPConfig(width=8)
    train = TrainConfig(steps=10, n_evals=2, batch_size=64)
    mixed = RunSpec(world=w, model=model, train=train, eval_samples=256, **seeds(4, worlds=2, world_base=w.seed))
    both = LLCRunSpec(mixed, w, cfg).measure()[-1][1]
    for ws in sorted(set(mixed.world_seeds)):
        idx = [i for i, x in enumerate(mixed.world_seeds) if x == ws]
        alone = RunSpec(world=replace(w, seed=ws), model=model, train=train, eval_samples=256,
                        init_seeds=tuple(mixed.init_seeds[i] for i in idx),
                        data_seeds=tuple(mixed.data_seeds[i] for i in idx))
        one = LLCRunSpec(alone, replace(w, seed=ws), cfg).measure()[-1][1]
        for key in (("llc", ""), ("train_loss", ""), ("reliance", "proxy0")):
            torch.testing.assert_close(both[key][idx], one[key], rtol=1e-4, atol=1e-6)


def test_llc_runs_read_each_member_where_its_loss_first_reaches_the_matched_loss():
    """With ``match_loss`` each member is also read at the first evaluation step where its loss on the
    measured set is at or below it: that step's loss is ≤ the level, the previous evaluation's above
    it; a level no member reaches leaves NaN. The plateau curve and loss trace come with every estimate."""
    import torch
    from dataclasses import replace

    from greedlab.experiment import RunSpec, seeds
    from greedlab.instruments.llc import LLCConfig
    from greedlab.llc_runs import TRACE_BLOCKS, LLCRunSpec
    from greedlab.models import MLPConfig
    from greedlab.train import TrainConfig, eval_steps

    w = replace(h3.presets.world(1.0), n_train=256)
    cfg, model = LLCConfig(chains=1, draws=16, burn_in=8, batch_size=64), MLPConfig(width=16)
    train = TrainConfig(steps=60, n_evals=12, batch_size=64)
    spec = RunSpec(world=w, model=model, train=train, eval_samples=256, **seeds(2, worlds=1, world_base=w.seed))
    records = LLCRunSpec(spec, w, cfg, match_loss=0.65).measure()
    assert [s for s, _ in records] == [60]
    end = records[-1][1]
    steps, losses = end["matched_step", ""], end["matched_loss", ""]
    assert torch.isfinite(steps).all() and (losses <= 0.65).all()
    assert set(steps.tolist()) <= set(eval_steps(60, 12)) and torch.isfinite(end["llc_matched", ""]).all()
    assert (end["train_loss", ""] < losses).all()       # it went on fitting after the matched checkpoint
    assert {f for i, f in end if i == "llc_draws"} == {"2", "4", "8", "16"}
    assert len([f for i, f in end if i == "llc_trace"]) == TRACE_BLOCKS
    torch.testing.assert_close(end["llc_draws", "16"], end["llc", ""])
    steps_only = LLCRunSpec(spec, w, cfg, match_loss=0.65, estimate_at_match=False)
    assert steps_only.run_id != LLCRunSpec(spec, w, cfg, match_loss=0.65).run_id
    assert "estimate_at_match" not in LLCRunSpec(spec, w, cfg, match_loss=0.65).config()  # stored ids unchanged
    only = steps_only.measure()[-1][1]   # where each member first fits, without a second λ̂ there
    assert ("llc_matched", "") not in only and torch.equal(only["matched_step", ""], steps)
    torch.testing.assert_close(only["llc", ""], end["llc", ""])
    never = LLCRunSpec(spec, w, cfg, match_loss=1e-9).measure()[-1][1]
    assert torch.isnan(never["llc_matched", ""]).all() and torch.isnan(never["matched_step", ""]).all()
    torch.testing.assert_close(never["llc", ""], end["llc", ""])    # the end's reading is unchanged


@pytest.mark.slow
def test_h3_runs_end_to_end_at_smoke_scale(smoke_store, tmp_path):
    """The smoke suite (shared with the CLI tests) trained H3 and stored it; here it is analysed
    again from the store: nothing retrained, nothing resampled, the stored verdict rows exactly."""
    from greedlab.claims.context import run_claim
    from greedlab.experiment import run
    from greedlab.store import Store

    store = smoke_store[0] / "g.duckdb"
    with Store(store) as st:
        n_runs = st.con.execute("select count(*) from runs").fetchone()[0]
        stored = st.con.execute("select condition, statistic, value from verdicts where claim = 'H3' "
                                "and value is not null").fetchall()  # NaN is stored as NULL
        res = run_claim(h3, Context(SCALES["smoke"], tmp_path / "figures", lambda spec, label: run(spec, st)))
        assert st.con.execute("select count(*) from runs").fetchone()[0] == n_runs  # read back, not trained
    assert res.claim == "H3"
    checks = [r for r in res.rows if r.condition.startswith("estimator check")]
    assert len(checks) == len(CHECK_CASES) + 1 and all(r.kind == "control" for r in checks), checks
    # the default pair's five, and each smoke pair's two plateau controls
    assert sum(r.kind == "control" for r in res.rows) == len(CHECK_CASES) + 5 + 2 * h3_pairs.SMOKE_PAIRS
    assert any("share of seeds ending proxy-class" in r.statistic for r in res.rows)
    assert any(r.condition == "class pairs: volume against order" for r in res.rows)
    assert any(r.condition == f"pair {h3_pairs.PAIRS[0].name}: plain SGD at rho=1" for r in res.rows)
    assert all(Path(f).exists() for f in res.figures) and len(res.figures) == 3  # with the pairs' λ̂
    assert sorted((r.condition, r.statistic, r.value) for r in res.rows if r.value == r.value) == sorted(stored)


# -- the class pairs: volume against order (h3_pairs) ------------------------------------------------------

def _pair_head(rows):
    return next(r for r in rows if r.condition == "class pairs: volume against order")


def test_h3_pairs_sgd_following_order_against_volume_refutes():
    """A pair whose favourite is the class learned first while the other has the lower λ̂ (beyond 0):
    volume did not decide SGD's choice there."""
    name = h3_pairs.PAIRS[1].name
    rows, verdict = h3.analyse(h3_runs(pairs={name: ("proxy", 14.0, 5.0, 50.0, 300.0, 0.0)}))
    assert _pair_head(rows).verdict == REFUTED and verdict == REFUTED
    pair = next(r for r in rows if r.condition == f"pair {name}")
    assert pair.ci_high < 0 and "against volume" in pair.statistic and "order: proxy-class first" in pair.statistic


def test_h3_pairs_that_separate_nothing_leave_the_claim_inconclusive():
    """Every pair agreeing on volume, order and SGD's choice credits volume with nothing: the default
    pair's support is not enough."""
    rows, verdict = h3.analyse(h3_runs(pairs={SEPARATING[0]: AGREEING}))
    assert rows[0].verdict == SUPPORTED and _pair_head(rows).verdict == INCONCLUSIVE and verdict == INCONCLUSIVE
    assert "0 separating" in _pair_head(rows).statistic


def test_h3_pairs_plateau_control_fails_when_a_pair_chain_drifts():
    name = h3_pairs.PAIRS[2].name
    rows, verdict = h3.analyse(h3_runs(pairs={name: AGREEING[:5] + (1.5,)}))
    failed = [r.condition for r in rows if r.kind == "control" and r.verdict != OK]
    assert failed == [f"pair {name}: proxy-class: plateau", f"pair {name}: target-class: plateau"]
    assert _pair_head(rows).verdict == SUPPORTED and verdict == INCONCLUSIVE


def test_h3_pair_readings():
    assert h3_pairs.order_class(100, 300) == "proxy" and h3_pairs.order_class(300, 100) == "internal"
    assert h3_pairs.order_class(100, 150) == ""                     # within the evaluation grid's spacing
    assert h3_pairs.order_class(np.inf, 300) == "internal" and h3_pairs.order_class(np.inf, np.inf) == ""
    assert h3_pairs.volume_class((5, 1.5, 8), 1.0) == "proxy" and h3_pairs.volume_class((-5, -8, -1.5), 1.0) == "internal"
    assert h3_pairs.volume_class((1, 0.5, 2), 1.0) == ""
    assert h3_pairs.pair_outcome("proxy", (5, 2, 8), "proxy") == "for"
    assert h3_pairs.pair_outcome("proxy", (-5, -8, -2), "internal") == "against"
    assert h3_pairs.pair_outcome("proxy", (-0.5, -2, 0.5), "") == ""    # undecided: the interval straddles 0
    assert h3_pairs.pair_outcome(None, (5, 2, 8), "proxy") == ""
    assert h3_pairs.Pair("x", proxy=(4, 5, 6, 7)).degree_class() == "" and h3_pairs.DEFAULT.degree_class() == "proxy"


def test_h3_pairs_conditions():
    specs = h3.conditions(QUICK)
    pairs = {k: s for k, s in specs.items() if isinstance(k, h3_pairs.PairCond)}
    assert len(pairs) == 4 * len(h3_pairs.PAIRS) and len(h3_pairs.PAIRS) + 1 >= 5   # five pairs with the default
    for p in h3_pairs.PAIRS:
        fav, plain, prox, targ = (pairs[h3_pairs.PairCond(p.name, r)] for r in h3_pairs.ROLES)
        assert fav.world.proxies[0].rho == 1.0 and fav.world.target == p.target and fav.world.gains == p.gains
        assert plain.train.optimizer == "sgd" and plain.world == fav.world
        assert prox.measured == fav.world and targ.measured == fav.world      # λ̂ on the pair's own ρ = 1 set
        assert [prox.run.world.objective, targ.run.world.objective] == ["proxy", "target"]
        assert prox.n_models == 16 and len(set(prox.member_worlds)) == 8 and not prox.estimate_at_match
        assert prox.run.init_seeds == targ.run.init_seeds and prox.member_worlds == targ.member_worlds
    smoke = h3.conditions(Context(SCALES["smoke"], Path("."), None))
    assert len([k for k in smoke if isinstance(k, h3_pairs.PairCond)]) == 4 * h3_pairs.SMOKE_PAIRS
