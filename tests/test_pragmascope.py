"""The pragmascope against ground truth: hierarchy worlds whose latents are known (positive
controls) and data with no shared structure (negative controls: nothing may be reported)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from greedlab import pragmascope as ps
from greedlab.cli import app
from greedlab.errors import ConfigError
from greedlab.worlds import HierarchyConfig, HierarchyWorld


def _world(noise=0.2, rows=4000):
    # σ = 0.2: each latent's 4 pixels then hold enough signal for a *linear* read-out at R² ≥ 0.9
    # (at the default σ = 0.5 the best linear estimate of a latent reaches R² ≈ 0.8–0.94 however found)
    w = HierarchyWorld(HierarchyConfig(n_views=4, noise=noise, proxies=()))
    b = w.sample("deploy", 0, rows)
    return w, b.x.double().numpy(), b.a.double().numpy()


def _r2_each(features, targets):
    f = np.column_stack([features, np.ones(len(features))])
    pred = f @ np.linalg.lstsq(f, targets, rcond=None)[0]
    return 1 - ((targets - pred) ** 2).mean(0) / targets.var(0)


@pytest.mark.parametrize("grouped", [True, False])
def test_recovers_every_latent_of_a_hierarchy_world(grouped):
    w, x, a = _world()
    res = ps.find(x, w.view_index() if grouped else None)
    K = a.shape[1]
    assert res.features.shape == (len(x), K)  # one abstraction per latent, none from the noise
    assert np.all(_r2_each(res.features, a) >= 0.9)
    assert np.all(res.redundancy > 0.9) and np.all(res.agreement > ps.SHARED_MIN)
    np.testing.assert_allclose(res.transform(x), res.features)


def test_no_shared_structure_yields_no_abstractions():
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(4000, 48))
    assert ps.find(noise, "auto:4").features.shape[1] == 0
    assert ps.find(noise, None).features.shape[1] == 0
    # structure inside each view but none across views: still nothing natural across them
    private = np.repeat(rng.normal(size=(4000, 4)), 12, axis=1) + 0.3 * rng.normal(size=(4000, 48))
    res = ps.find(private, "auto:4")
    assert res.features.shape[1] == 0 and res.candidate_redundancy.max() > ps.REDUNDANCY_MIN  # agreement decides


def test_mediation_vanishes_given_the_true_latents_and_falls_with_the_found_ones():
    w, x, a = _world()
    views = w.view_index()
    assert ps.mediation_given(x, views, a) < 0.05
    assert ps.mediation_given(x, views, a[:, :8]) > 0.5  # half the latents still link the views
    res = ps.find(x, views)
    assert res.mediation[0] > 0.5 and res.mediation[-1] < 0.5 * res.mediation[0]
    assert ps.find(np.random.default_rng(2).normal(size=(2000, 16)), "auto:4").mediation[0] < 0.05


def test_view_specs():
    assert [v.tolist() for v in ps.parse_views("0-1,2-3", 4)] == [[0, 1], [2, 3]]
    assert [v.tolist() for v in ps.parse_views("0+3,1-2", 4)] == [[0, 3], [1, 2]]
    assert [v.tolist() for v in ps.parse_views("auto:3", 6)] == [[0, 1], [2, 3], [4, 5]]
    assert len(ps.parse_views(None, 5)) == 5
    for bad in ("0-1", "0-1,1-2", "0-9,10", "a-b,c", "auto:1", "auto:x", "2-1,3"):
        with pytest.raises(ConfigError) as e:
            ps.parse_views(bad, 4)
        assert e.value.field == "--views"


def test_cli_writes_features_scores_and_figure(tmp_path):
    w, x, a = _world(rows=2000)
    cols = [c for v in w.view_index() for c in v]  # reorder so the four views are contiguous blocks
    path = tmp_path / "data.csv"
    np.savetxt(path, x[:, cols], delimiter=",", comments="", header=",".join(f"p{c}" for c in cols))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["pragmascope", str(path), "--views", "auto:4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    feats = np.loadtxt(out / "features.csv", delimiter=",", skiprows=1)
    scores = json.loads((out / "scores.json").read_text())
    assert feats.shape == (2000, 16) and len(scores["features"]) == 16
    assert len(scores["views"]) == 4 and len(scores["mediation_after_k_features"]) == 17
    assert np.all(_r2_each(feats, a) >= 0.9)
    assert (out / "pragmascope.png").stat().st_size > 10_000
    bad = CliRunner().invoke(app, ["pragmascope", str(path), "--views", "0-3,2-5", "--out", str(out)])
    assert bad.exit_code == 2 and "--views" in bad.output and len(bad.output.strip().splitlines()) == 1
    bad = CliRunner().invoke(app, ["pragmascope", str(path), "--method", "deep", "--out", str(out)])
    assert bad.exit_code == 2 and "--method" in bad.output


def test_parquet_input_keeps_numeric_columns(tmp_path):
    import duckdb

    with duckdb.connect() as con:
        con.execute("copy (select range::double as a, range * 2 as b, 'x' as label, -range as c from range(50)) "
                    f"to '{tmp_path / 'd.parquet'}' (format parquet)")
    x, names = ps.load(tmp_path / "d.parquet")
    assert x.shape == (50, 3) and names == ["a", "b", "c"] and x[7].tolist() == [7.0, 14.0, -7.0]
    assert ps.load_table(tmp_path / "d.parquet").dropped_columns == ["label"]
    with pytest.raises(ConfigError):
        ps.load(tmp_path / "d.txt")


def test_missing_and_non_finite_values_are_refused_or_dropped(tmp_path):
    """A blank cell used to become 0.0 and an inf a LinAlgError deep in the whitening."""
    path = tmp_path / "d.csv"
    path.write_text("a,b,c\n1,2,3\n4,,6\n7,8,inf\n1,2,3\n")
    with pytest.raises(ConfigError, match="column 'b'.*data row 2; 2 of 4 rows") as e:
        ps.load(path)
    assert e.value.field == "data" and "--na drop" in e.value.accepted
    t = ps.load_table(path, na="drop")
    assert t.x.tolist() == [[1, 2, 3], [1, 2, 3]] and t.dropped_rows == 2
    x = np.ones((30, 3))
    x[4, 1] = np.nan
    with pytest.raises(ConfigError, match="column 'x1'"):
        ps.find(x)
    assert ps.load(x, na="drop")[0].shape == (29, 3)
    with pytest.raises(ConfigError) as e:
        ps.load(path, na="zero")
    assert e.value.field == "--na"


def test_views_by_column_name_and_dropped_text_columns_named(tmp_path):
    w, x, a = _world(rows=1000)
    cols = [c for v in w.view_index() for c in v]
    x = x[:, cols]
    path = tmp_path / "data.csv"
    names = [f"p{c}" for c in cols]
    # a text column in front would shift every index after it: it is named, and views can use names
    lines = ["id," + ",".join(names)] + [f"row{i}," + ",".join(f"{v:.5f}" for v in r) for i, r in enumerate(x)]
    path.write_text("\n".join(lines) + "\n")
    spec = ",".join("+".join(names[v * 16:(v + 1) * 16]) for v in range(4))
    assert [g.tolist() for g in ps.parse_views(spec, 64, names)] == [list(range(v * 16, (v + 1) * 16))
                                                                     for v in range(4)]
    assert [g.tolist() for g in ps.parse_views(f"{names[0]}+1-3,4-7", 8, names[:8])] == [[0, 1, 2, 3],
                                                                                        [4, 5, 6, 7]]
    with pytest.raises(ConfigError, match="column names"):
        ps.parse_views("p0+nope,1", 8, names[:8])
    res = CliRunner().invoke(app, ["pragmascope", str(path), "--views", spec, "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "non-numeric columns left out: id" in res.output and f"0={names[0]}" in res.output
    scores = json.loads((tmp_path / "out" / "scores.json").read_text())
    assert scores["views"][1] == names[16:32] and len(scores["features"]) == 16


def _sign_nuisance(n=4000, k=2, V=4, seed=0):
    """Shared bits a that no view shows linearly: view v holds a·s_v and s_v (s_v its own random
    signs) plus two noise columns, so every cross-view covariance is 0 but a = (a·s_v)·s_v in each."""
    rng = np.random.default_rng(seed)
    a = rng.choice([-1.0, 1.0], size=(n, k))
    cols = []
    for _ in range(V):
        s = rng.choice([-1.0, 1.0], size=(n, k))
        cols += [a * s, s, rng.normal(size=(n, 2))]
    x = np.column_stack(cols) + 0.1 * rng.normal(size=(n, V * (2 * k + 2)))
    return x, a, [list(range(v * (2 * k + 2), (v + 1) * (2 * k + 2))) for v in range(V)]


def test_nonlinear_method_finds_what_no_linear_view_shows_and_nothing_in_noise():
    x, a, views = _sign_nuisance()
    assert ps.find(x, views).features.shape[1] == 0  # invisible to the linear method
    res = ps.find_nonlinear(x, views)
    assert 1 <= res.features.shape[1] <= 3 and np.all(_r2_each(res.features, a) >= 0.9)
    assert res.mediation[-1] < 0.3 * res.mediation[0]
    np.testing.assert_allclose(res.transform(x), res.features, atol=1e-6)
    noise = ps.find_nonlinear(np.random.default_rng(4).normal(size=(4000, 24)), views)
    assert noise.features.shape[1] == 0
