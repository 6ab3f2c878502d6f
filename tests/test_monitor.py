"""greedlab.monitor and greedlab.datasets: the instruments on plain nn.Modules and training loops,
checked against hand-wired and trained positive controls, an untrained negative control, and
greedlab's own evaluate on the same weights."""

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from greedlab.cli import app
from greedlab.controls import parity_mlp
from greedlab.datasets import WorldDataset, world_datasets
from greedlab.errors import ConfigError
from greedlab.instruments import evaluate
from greedlab.monitor import Monitor, module_logits
from greedlab.store import Store
from greedlab.train import logistic_loss
from greedlab.worlds import HierarchyConfig, HierarchyWorld, Proxy, RealConfig

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CORE = {"reliance", "reliance_se", "hard_reliance", "hard_reliance_se", "train_acc", "train_loss", "deploy_acc",
        "deploy_loss", "gradient_signal", "diverged", "exception_acc"}


@pytest.fixture(scope="module")
def world():
    return HierarchyWorld(HierarchyConfig())


def mlp(d_in: int, width: int = 64, dropout: float = 0.0) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(width, 1))


def example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def no_hooks(model: nn.Module) -> bool:
    return all(not m._forward_hooks for m in model.modules())


# -- datasets ----------------------------------------------------------------------------------

def test_world_dataset_has_fixed_rows_and_class_index_labels(world):
    tr = WorldDataset(world, "train")
    assert len(tr) == world.config.n_train
    x, y = tr[3]
    assert x.shape == (world.input_dim,) and y.dtype == torch.float32
    assert set(tr.y.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(tr.y * 2 - 1, tr.batch.y)
    again = WorldDataset(HierarchyConfig(), "deploy", n=100)   # a config is enough; rows are fixed
    torch.testing.assert_close(again.x, world.sample("deploy", 0, 100).x)
    # BCE on the 0/1 labels is greedlab's logistic loss on the ±1 labels
    f = torch.randn(len(tr))
    torch.testing.assert_close(nn.functional.binary_cross_entropy_with_logits(f, tr.y),
                               logistic_loss(f, tr.batch.y).mean())
    with pytest.raises(ConfigError):
        WorldDataset(world, "train", n=world.config.n_train + 1)


def test_world_datasets_of_a_real_world_take_its_partitions():
    d = world_datasets(RealConfig("mnist1d"), n_eval=10_000)   # 4,000 / 1,000 images, two rows per test image
    assert {s: len(v) for s, v in d.items()} == {"train": 4000, "deploy": 1000, "probe": 1000}


def test_module_logits_accepts_one_or_two_class_logits():
    out = torch.tensor([[0.5, 2.0], [1.0, -1.0]])
    torch.testing.assert_close(module_logits(out), torch.tensor([1.5, -2.0]))
    torch.testing.assert_close(module_logits(out[:, :1]), out[:, 0])
    with pytest.raises(ConfigError):
        module_logits(torch.zeros(2, 3))


# -- controls ------------------------------------------------------------------------------------

def test_hand_wired_parity_module_reads_as_evaluate_does(world):
    cfg, p = parity_mlp(world, (0, 1, 2, 3))
    net = nn.Sequential(nn.Linear(world.input_dim, cfg.width), nn.ReLU(), nn.Linear(cfg.width, cfg.width), nn.ReLU(),
                        nn.Linear(cfg.width, 1))
    with torch.no_grad():
        for lin, k in zip(net[::2], range(0, 6, 2)):
            lin.weight.copy_(p[k][0].T)
            lin.bias.copy_(p[k + 1][0, 0])
    mon = Monitor(world, net, layers=["1", "3"])
    got = mon.step(0)
    ref = evaluate(cfg, p, mon.ev)
    for (inst, feat), v in ref.items():
        name = inst.replace("hidden.0", "1").replace("hidden.1", "3")
        if inst != "disagreement":
            assert got[name, feat] == pytest.approx(v.item(), abs=1e-5), (inst, feat)
    assert got["hard_reliance", "target"] > 0.99 and got["decodability:3", "target"] >= 0.9
    assert got["decodability:1", "target"] < 0.6     # hidden.0 holds the latents, not their parity


def test_trained_module_reads_target_use_and_representation():
    world = HierarchyConfig(n_latents=8, target=(0, 1, 2), proxies=(Proxy((4,), 0.9),), n_train=4096)
    tr = WorldDataset(world, "train")
    torch.manual_seed(0)
    net = mlp(tr.x.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    mon = Monitor(tr.world, net, layers=["1", "3"], every=100)
    for step in range(1001):   # until the monitor itself sees the training set fitted
        if mon.step(step) is not None and mon.latest("train_acc") >= 0.99:
            break
        idx = torch.randint(0, len(tr), (128,), generator=g)
        loss = nn.functional.binary_cross_entropy_with_logits(net(tr.x[idx]).squeeze(1), tr.y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert mon.latest("train_acc") >= 0.99
    assert mon.history["hard_reliance", "target"][0] < 0.2          # at initialization: not used
    assert mon.latest("hard_reliance", "target") > 0.9
    assert mon.latest("decodability:3", "target") >= 0.9
    assert abs(mon.latest("hard_reliance", "proxy0")) < 0.1


def test_untrained_module_reads_no_reliance_and_chance_decodability(world):
    torch.manual_seed(1)
    net = mlp(world.input_dim)
    got = Monitor(world, net, layers=["1", "3"]).step(0)
    assert abs(got["reliance", "target"]) < 0.05 and abs(got["hard_reliance", "target"]) < 0.1
    assert abs(got["hard_reliance", "proxy0"]) < 0.5
    for layer in ("1", "3"):
        assert abs(got[f"decodability:{layer}", "target"] - 0.5) < 0.07
        assert got[f"decodability:{layer}", "a3"] > 0.9        # level-1 features are linear in the input


# -- hooks, modes, errors ------------------------------------------------------------------------

def test_reads_leave_no_hooks_and_restore_every_mode(world):
    net = mlp(world.input_dim, width=16, dropout=0.5)
    net.train()
    net[0].eval()                               # a mixed state must come back as it was
    mon = Monitor(world, net, layers=["1", "3"], every=3, n_eval=256)
    read = [mon.step(s) for s in range(60)]
    assert sum(r is not None for r in read) == 20 and mon.steps == list(range(0, 60, 3))
    assert no_hooks(net)
    assert net.training and net[4].training and not net[0].training
    # reads run in eval mode: dropout is off, so the same weights read the same
    assert len(set(mon.history["deploy_loss", ""])) == 1
    assert mon.step(57, force=True) is None     # already read
    with pytest.raises(ConfigError):
        mon.read(10)                            # steps only go forward


def test_a_layer_that_never_runs_is_refused_and_leaves_no_hook(world):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.unused = nn.Linear(world.input_dim, 1), nn.ReLU()

        def forward(self, x):
            return self.body(x)

    net = Net()
    mon = Monitor(world, net, layers=["unused"], n_eval=128)
    with pytest.raises(ConfigError, match="forward pass"):
        mon.step(0)
    assert no_hooks(net) and net.training
    with pytest.raises(ConfigError, match="module names"):
        Monitor(world, net, layers=["hidden.0"])


# -- examples and the store ----------------------------------------------------------------------

def test_hierarchy_example_stores_a_run_greedlab_exports(tmp_path):
    path = tmp_path / "m.duckdb"
    mon = example("monitor_hierarchy").main(["--steps", "10", "--every", "5", "--width", "32",
                                             "--store", str(path)])
    with Store(path, read_only=True) as st:
        (run,) = st.runs()
        cols = st.load_metrics(run["run_id"])
    assert run["run_id"] == mon.run_id and run["status"] == "done"
    assert run["config"]["model"]["class"] == "torch.nn.modules.container.Sequential"
    assert run["config"]["model"]["parameters"] == sum(p.numel() for p in mon.model.parameters())
    assert run["config"]["world"]["target"] == [0, 1, 2, 3] and run["config"]["user"]["steps"] == 10
    assert CORE | {"decodability:1", "decodability:3"} == set(cols["instrument"].tolist())
    assert set(cols["step"].tolist()) == {0, 5, 10} and set(cols["seed"].tolist()) == {0}
    n_rows = len(cols["value"])
    example("monitor_hierarchy").main(["--steps", "10", "--every", "5", "--width", "32", "--store", str(path)])
    with Store(path, read_only=True) as st:          # the same run again replaces itself
        assert len(st.runs()) == 1 and len(st.load_metrics(mon.run_id)["value"]) == n_rows
    res = CliRunner().invoke(app, ["export", "--store", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "hard_reliance" in (tmp_path / "out" / "metrics.csv").read_text()


def test_mnist1d_example_reads_marker_counterfactuals(tmp_path):
    path = tmp_path / "m.duckdb"
    mon = example("monitor_mnist1d").main(["--steps", "4", "--every", "2", "--width", "32", "--store", str(path)])
    with Store(path, read_only=True) as st:
        inst = set(st.load_metrics(mon.run_id)["instrument"].tolist())
    assert CORE | {"decodability:1", "decodability:3", "counterfactual_flip", "counterfactual_acc"} == inst
    assert set(mon.ev.features) == {"target", "proxy0"} and mon.steps == [0, 2, 4]


def test_a_failed_loop_stores_nothing(tmp_path, world):
    path = tmp_path / "m.duckdb"
    net = mlp(world.input_dim, width=8)
    with pytest.raises(RuntimeError):
        with Monitor(world, net, store=path, n_eval=128) as mon:
            mon.step(0)
            raise RuntimeError("loop failed")
    assert not path.exists()
