"""Claim H3 (simplicity bias, LLC) on synthetic results: its pure ``analyse`` fed λ̂ chosen by hand.
Every control is shown to fail when its condition is made to show the effect (negative) or to lack it
(positive), turning the verdict inconclusive; clean inputs give the rule's verdict and number. Also:
its conditions, that it trains without devinterp, LLC runs over several worlds equal to each world
alone, and one end-to-end smoke run read back from the store."""

from pathlib import Path

import numpy as np
import pytest

from greedlab.claims import h3_simplicity as h3
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


def h3_runs(sgd_llc=2.3, sgd_class="proxy", proxy=(4.8, 2.5), target=(14.5, 14.0), losses=(5e-4, 1.5e-4),
            check=(1.0, 1.0, 0.5)) -> dict:
    """H3's runs with λ̂ by hand: SGD's seeds at ``sgd_llc``, all of ``sgd_class``; each class's
    representatives at (earlier checkpoint, end), fitting and reading as their class; training loss
    of the proxy class at its earlier checkpoint and of the target class at the end (``losses``); the
    estimator check reading ``check`` = (λ̂/(d/2) at d = 4, at d = 16, λ̂/(parameters/2) duplicated)."""
    specs = h3.conditions(QUICK)
    n = specs[h3.SGD].n_models
    reliance = {"proxy": (0.0, 0.95), "internal": (0.95, 0.0)}

    def rep(spec, cls, llc, loss, seed, steps):
        t, p = reliance[cls]
        k = len(steps)
        llc = np.stack([_noisy(n, v, 0.2, seed + i) for i, v in enumerate(llc)], axis=1)
        return fake_run(spec, steps, {("llc", ""): llc, ("train_acc", ""): np.ones((n, k)),
                                      ("train_loss", ""): np.tile(loss, (n, 1)),
                                      ("reliance", "target"): np.full((n, k), t),
                                      ("reliance", "proxy0"): np.full((n, k), p)})

    curves = {}
    for (kind, d), ratio in zip(CHECK_CASES, check):
        count = d if kind == "regular" else 2 * d
        scale = d / 2 if kind == "regular" else count / 2
        m = h3.CHECK_SETS
        curves[("llc_check", f"{kind} d={d}")] = _noisy(m, ratio * scale, 0.05 * scale, d)[:, None]
        curves[("llc_check_truth", f"{kind} d={d}")] = np.full((m, 1), d / 2)
        curves[("llc_check_params", f"{kind} d={d}")] = np.full((m, 1), float(count))
    return {h3.CHECK: fake_run(specs[h3.CHECK], [0], curves),
            h3.SGD: rep(specs[h3.SGD], sgd_class, (sgd_llc,), [7e-6], 0, [1500]),
            h3.PROXY: rep(specs[h3.PROXY], "proxy", proxy, [losses[0], 6e-5], 10, [150, 1500]),
            h3.TARGET: rep(specs[h3.TARGET], "internal", target, [5e-2, losses[1]], 20, [150, 1500])}


def controls(rows) -> list[str]:
    return [r.verdict for r in rows if r.kind == "control"]


def test_h3_clean_lower_volume_favourite_is_supported():
    rows, verdict = h3.analyse(h3_runs())
    head = rows[0]
    assert verdict == SUPPORTED and head.verdict == SUPPORTED and "favourite: proxy-class" in head.statistic
    assert head.value == pytest.approx(11.5, abs=0.2) and head.ci_low > h3.MARGIN
    assert controls(rows) == [OK] * 5  # the check's three, the procedure, the loss level
    share = next(r for r in rows if "share of seeds ending proxy-class" in r.statistic)
    assert share.value == 1 and share.ci_low > 0.5 and share.ci_high == 1 and share.ci_low < 0.7  # 16/16 in 8 worlds


def test_h3_favourite_target_is_mirrored():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=2.6, sgd_class="internal", proxy=(15.0, 14.0), target=(4.0, 2.5),
                                       losses=(5e-4, 1e-4)))
    assert verdict == SUPPORTED and rows[0].value == pytest.approx(-11.5, abs=0.2)


def test_h3_favourite_with_the_higher_lambda_is_refuted():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=14.0, proxy=(15.0, 14.0), target=(4.0, 2.5), losses=(5e-4, 6e-5)))
    assert verdict == REFUTED and rows[0].value == pytest.approx(-11.5, abs=0.2) and rows[0].ci_high < 0
    assert controls(rows) == [OK] * 5


def test_h3_classes_of_equal_volume_are_not_refuted_by_the_rule_alone():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=5.0, proxy=(6.0, 5.0), target=(6.0, 5.0)))
    assert abs(rows[0].value) < 0.2 and rows[0].ci_low < 0 < rows[0].ci_high < h3.MARGIN and verdict == INCONCLUSIVE
    loss = next(r for r in rows if "at step 150" in r.condition)
    assert loss.verdict == INCONCLUSIVE and "not applied" in loss.statistic  # no ordering to guard


def test_h3_procedure_control_fails_when_one_class_reads_apart_by_how_it_was_reached():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=5.0))
    proc = next(r for r in rows if r.condition.startswith("SGD at rho=1 −"))
    assert proc.verdict == FAILED and proc.value == pytest.approx(2.5, abs=0.2)
    assert verdict == INCONCLUSIVE


def test_h3_parameter_count_control_fails_when_the_estimator_counts_parameters():
    rows, verdict = h3.analyse(h3_runs(check=(1.0, 1.0, 1.0)))
    dup = next(r for r in rows if r.condition.endswith("duplicated d=8"))
    assert dup.verdict == FAILED and dup.value == pytest.approx(1.0, abs=0.05)
    assert verdict == INCONCLUSIVE


def test_h3_loss_control_fails_when_the_handicapped_class_loses_its_lead():
    rows, verdict = h3.analyse(h3_runs(proxy=(14.2, 2.5)))
    loss = next(r for r in rows if "at step 150" in r.condition)
    assert loss.verdict == FAILED and abs(loss.value) < 0.5
    assert verdict == INCONCLUSIVE


def test_h3_loss_control_fails_without_the_handicap():
    rows, verdict = h3.analyse(h3_runs(losses=(1e-5, 1.5e-4)))  # the earlier checkpoint already fits tighter
    assert next(r for r in rows if "at step 150" in r.condition).verdict == FAILED and verdict == INCONCLUSIVE


def test_h3_positive_control_fails_on_an_estimator_blind_to_lambda_and_no_refutation_follows():
    rows, verdict = h3.analyse(h3_runs(sgd_llc=14.0, proxy=(15.0, 14.0), target=(4.0, 2.5), losses=(5e-4, 6e-5),
                                       check=(1.0, 0.25, 0.5)))
    d16 = next(r for r in rows if r.condition.endswith("regular d=16"))
    assert d16.verdict == FAILED and d16.value == pytest.approx(0.25, abs=0.05)
    assert rows[0].verdict == REFUTED and verdict == INCONCLUSIVE  # the rule alone would refute


def test_h3_no_favourite_is_inconclusive():
    runs = h3_runs()
    sgd = runs[h3.SGD]
    half = np.where(np.arange(16) % 2 == 0, 0.95, 0.0)[:, None]
    runs[h3.SGD] = fake_run(sgd.spec, sgd.steps, {**sgd.values, ("reliance", "target"): half,
                                                  ("reliance", "proxy0"): 0.95 - half})
    rows, verdict = h3.analyse(runs)
    assert "favourite: none" in rows[0].statistic and verdict == INCONCLUSIVE


def test_h3_conditions_share_one_measured_training_set_seeds_and_worlds():
    ctx = Context(SCALES["quick"], Path("/tmp"), None, {"world": {"noise": 0.8}})
    specs = h3.conditions(ctx)
    assert all(isinstance(c, h3.Cond) for c in specs)
    runs = [specs[c] for c in (h3.SGD, h3.PROXY, h3.TARGET)]
    assert {s.measured for s in runs} == {runs[0].run.world} and runs[0].run.world.proxies[0].rho == 1.0
    assert runs[0].measured.noise == 0.8                             # the user's rendering, everywhere
    assert [s.run.world.objective for s in runs] == ["target", "proxy", "target"]
    assert {s.run.init_seeds for s in runs} == {tuple(range(16))}
    assert len({s.member_worlds for s in runs}) == 1 and len(set(runs[0].member_worlds)) == 8  # paired, 8 worlds
    assert len({s.run_id for s in specs.values()}) == len(specs)
    assert runs[1].early and runs[1].checkpoints[0] >= 150 and runs[1].checkpoints[-1] == 1500


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
    cfg, model = LLCConfig(chains=1, draws=4, batch_size=64), MLPConfig(width=8)
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
    assert len(checks) == 3 and all(r.verdict == OK and r.kind == "control" for r in checks), checks
    assert sum(r.kind == "control" for r in res.rows) == 5
    assert any("share of seeds ending proxy-class" in r.statistic for r in res.rows)
    assert all(Path(f).exists() for f in res.figures) and len(res.figures) == 2
    assert sorted((r.condition, r.statistic, r.value) for r in res.rows if r.value == r.value) == sorted(stored)
