"""Claim H3 (simplicity bias, LLC): its verdict rule on known inputs, its conditions, the CLI's
check of its optional extra, and one end-to-end smoke run through the store."""

from pathlib import Path

import pytest

pytest.importorskip("devinterp")  # the [test] extra installs it; a bare install skips these cleanly


def test_the_cli_refuses_to_train_h3_without_its_extra_and_still_reports(monkeypatch, tmp_path):
    import importlib.util

    from typer.testing import CliRunner

    from greedlab.cli import app

    from greedlab.claims import check_extras
    from greedlab.store import Store

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "devinterp" else real(name, *a))
    check_extras("G1")                                           # other claims do not need it
    store = tmp_path / "g.duckdb"
    res = CliRunner().invoke(app, ["run", "--claim", "H3", "--scale", "smoke", "--store", str(store), "--quiet"])
    assert res.exit_code == 2 and "greedlab[slt]" in res.output and not store.exists()
    with Store(store):
        pass
    res = CliRunner().invoke(app, ["report", "--claim", "H3", "--scale", "smoke", "--store", str(store), "--quiet"])
    assert res.exit_code == 0 and "not in the store" in res.output  # reading needs no sampler


def test_h3_rule_follows_sgds_favourite():
    from greedlab.claims.common import INCONCLUSIVE, REFUTED, SUPPORTED
    from greedlab.claims.h3_simplicity import PROXY, TARGET, favourite, simplicity_verdict

    assert favourite((0.9, 0.7, 1.0), (0.1, 0.0, 0.3)) == PROXY
    assert favourite((0.1, 0.0, 0.3), (0.9, 0.7, 1.0)) == TARGET
    assert favourite((0.5, 0.3, 0.7), (0.5, 0.3, 0.7)) is None
    lower_proxy, lower_target, unclear = (10.0, 8.0, 12.0), (-10.0, -12.0, -8.0), (1.0, -1.0, 3.0)
    assert simplicity_verdict(PROXY, lower_proxy, True) == SUPPORTED
    assert simplicity_verdict(PROXY, lower_target, True) == REFUTED
    assert simplicity_verdict(TARGET, lower_target, True) == SUPPORTED
    assert simplicity_verdict(TARGET, lower_proxy, True) == REFUTED
    assert simplicity_verdict(PROXY, unclear, True) == INCONCLUSIVE
    assert simplicity_verdict(None, lower_proxy, True) == INCONCLUSIVE
    assert simplicity_verdict(PROXY, lower_proxy, False) == INCONCLUSIVE


def test_h3_conditions_share_one_measured_training_set_and_seeds():
    from greedlab.claims import h3_simplicity as h3
    from greedlab.claims.common import get_scale
    from greedlab.claims.context import Context

    ctx = Context(get_scale("quick"), Path("/tmp"), None, {"world": {"noise": 0.8}})
    specs = h3.conditions(ctx)
    runs = [specs[c] for c in (h3.SGD, h3.PROXY, h3.TARGET)]
    assert {s.measured for s in runs} == {runs[0].run.world} and runs[0].run.world.proxies[0].rho == 1.0
    assert runs[0].measured.noise == 0.8                             # the user's rendering, everywhere
    assert [s.run.world.objective for s in runs] == ["target", "proxy", "target"]
    assert {s.run.init_seeds for s in runs} == {tuple(range(16))}
    assert len({s.run_id for s in specs.values()}) == len(specs)
    assert runs[1].early and runs[1].checkpoints[0] >= 150 and runs[1].checkpoints[-1] == 1500


@pytest.mark.slow
def test_h3_runs_end_to_end_at_smoke_scale(smoke_store, tmp_path):
    """The smoke suite (shared with the CLI tests) trained H3 and stored it; here it is analysed
    again from the store: nothing retrained, nothing resampled, the stored verdict rows exactly."""
    from greedlab.claims import h3_simplicity as h3
    from greedlab.claims.common import get_scale
    from greedlab.claims.context import Context, run_claim
    from greedlab.experiment import run
    from greedlab.store import Store

    store = smoke_store[0] / "g.duckdb"
    with Store(store) as st:
        n_runs = st.con.execute("select count(*) from runs").fetchone()[0]
        stored = st.con.execute("select condition, statistic, value from verdicts where claim = 'H3' "
                                "and value is not null").fetchall()  # NaN is stored as NULL
        res = run_claim(h3, Context(get_scale("smoke"), tmp_path / "figures", lambda spec, label: run(spec, st)))
        assert st.con.execute("select count(*) from runs").fetchone()[0] == n_runs  # read back, not trained
    assert res.claim == "H3" and res.verdict in ("supported", "refuted", "inconclusive")
    checks = [r for r in res.rows if r.condition.startswith("estimator check")]
    assert len(checks) == 3 and all(r.verdict == "control ok" for r in checks), checks
    assert any("fraction of seeds ending proxy-class" in r.statistic for r in res.rows)
    assert all(Path(f).exists() for f in res.figures) and len(res.figures) == 2
    assert sorted((r.condition, r.statistic, r.value) for r in res.rows if r.value == r.value) == sorted(stored)
