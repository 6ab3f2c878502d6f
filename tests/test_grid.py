"""Grid files: TOML and YAML say the same thing; every bad key or value fails naming it."""

import sys

import pytest

from greedlab.errors import ConfigError
from greedlab.sweep.grid import Sweep, load_grid

TOML = """
[sweep]
seeds = [4, 8]
vary = "init"
chunk = 3

[train]
steps = 50

[grid]
"world.rho" = [0.9, 0.97]
model.width = [16, 32]
"""

YAML = """
sweep: {seeds: [4, 8], vary: init, chunk: 3}
train: {steps: 50}
grid:
  world.rho: [0.9, 0.97]
  model: {width: [16, 32]}
"""


def test_a_grid_expands_to_one_run_per_combination(tmp_path):
    (tmp_path / "g.toml").write_text(TOML)
    sweep = load_grid(tmp_path / "g.toml")
    runs = sweep.runs()
    assert [p for p, _ in runs] == [{"world.rho": 0.9, "model.width": 16}, {"world.rho": 0.9, "model.width": 32},
                                    {"world.rho": 0.97, "model.width": 16}, {"world.rho": 0.97, "model.width": 32}]
    for point, spec in runs:
        assert spec.world.proxies[0].rho == point["world.rho"] and spec.model.width == point["model.width"]
        assert spec.train.steps == 50 and spec.init_seeds == (4, 5, 6, 7)
        assert len(set(spec.data_seeds)) == 1  # vary = init: one shared data order
    assert len({s.run_id for _, s in runs}) == 4 and sweep.chunk == 3


def test_yaml_and_toml_give_the_same_runs(tmp_path):
    pytest.importorskip("yaml")
    (tmp_path / "g.toml").write_text(TOML)
    (tmp_path / "g.yaml").write_text(YAML)
    a, b = load_grid(tmp_path / "g.toml"), load_grid(tmp_path / "g.yaml")
    assert [s.run_id for _, s in a.runs()] == [s.run_id for _, s in b.runs()]


def test_yaml_without_pyyaml_is_one_clear_error(tmp_path, monkeypatch):
    (tmp_path / "g.yaml").write_text(YAML)
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    with pytest.raises(ConfigError, match="pip install pyyaml"):
        load_grid(tmp_path / "g.yaml")


def test_set_adds_fixed_values(tmp_path):
    (tmp_path / "g.toml").write_text(TOML)
    runs = load_grid(tmp_path / "g.toml", ["train.lr=0.01", "world.noise=0.3"]).runs()
    assert all(s.train.lr == 0.01 and s.world.noise == 0.3 for _, s in runs)


@pytest.mark.parametrize("data, field", [
    ({"grid": {"model.widht": [1]}}, "grid key"),
    ({"grid": {"model.width": [16, -1]}}, "model.width"),
    ({"grid": {"model.width": 16}}, "grid.model.width"),
    ({"grid": {"model.width": []}}, "grid.model.width"),
    ({"grid": {"world.rho": [1.5]}}, "world.rho"),
    ({"grid": {"train.optimizer": ["adam", "lbfgs"]}}, "train.optimizer"),
    ({"train": {"steps": 10}, "grid": {"train.steps": [1, 2]}}, "train.steps"),
    ({"sweep": {"seeds": 0}}, "sweep.seeds"),
    ({"sweep": {"seeds": [5, 2]}}, "sweep.seeds"),
    ({"sweep": {"vary": "sometimes"}}, "sweep.vary"),
    ({"sweep": {"chunk": 0}}, "sweep.chunk"),
    ({"sweep": {"workers": 2}}, "sweep key"),
    ({"remedy": {"x": 1}}, "grid file section"),
    ({"world": {"n_latents": 4}}, "world.proxies[0].latents"),  # caught by the world's own validation
])
def test_bad_grids_fail_naming_the_field(data, field):
    with pytest.raises(ConfigError) as e:
        Sweep.from_dict(data)
    assert e.value.field == field or field in str(e.value)
    assert "accepted" in str(e.value)


@pytest.mark.parametrize("name, text, field", [
    ("g.toml", "[grid\n", "valid TOML"),
    ("g.json", "{}", "a .toml, .yaml or .yml file"),
    ("missing.toml", None, "readable"),
])
def test_unreadable_grid_files(tmp_path, name, text, field):
    if text is not None:
        (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match=field):
        load_grid(tmp_path / name)
