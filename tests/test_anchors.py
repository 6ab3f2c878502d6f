"""Ten-class MNIST-1D baselines: runs stored and resumed like any run, and the paper's numbers."""

import pytest

from greedlab.anchors import PAPER, TOLERANCE, AnchorSpec
from greedlab.errors import ConfigError
from greedlab.experiment import RunSpec, load, run
from greedlab.models import CNNConfig
from greedlab.store import Store
from greedlab.train import TrainConfig
from greedlab.worlds import RealConfig


def _spec(model, steps, seeds=(0,)):
    return AnchorSpec(model=model, train=TrainConfig(steps=steps, n_evals=4, optimizer="adam", lr=1e-2, batch_size=100),
                      init_seeds=seeds, data_seeds=tuple(100_000 + s for s in seeds))


def test_anchor_runs_are_stored_and_read_back_not_retrained(tmp_path):
    spec = _spec("logreg", 40, seeds=(0, 1))
    assert spec.run_id != _spec("mlp", 40, seeds=(0, 1)).run_id
    with Store(tmp_path / "s.duckdb") as st:
        first = run(spec, st)
        assert st.run_status(spec.run_id) == "done"
        again = run(spec, st)
        assert (again.final("test_acc") == first.final("test_acc")).all()
        assert first.curve("test_acc").shape == (2, len(first.steps)) and first.steps[-1] == 40
        assert (load(spec, st).final("train_acc") == first.final("train_acc")).all()


def test_logistic_regression_reproduces_the_papers_32_percent():
    r = _spec("logreg", 1500).measure()
    acc = r[-1][1]["test_acc", ""].item()
    assert abs(acc - PAPER["logreg"]) <= TOLERANCE["logreg"], acc


@pytest.mark.slow
def test_the_cnn_reproduces_the_papers_94_percent():
    acc = _spec("cnn", 3000).measure()[-1][1]["test_acc", ""].item()
    assert abs(acc - PAPER["cnn"]) <= TOLERANCE["cnn"], acc


def test_a_real_data_run_goes_through_the_same_pipeline(tmp_path):
    spec = RunSpec(world=RealConfig(dataset="digits", rho=0.9),
                   model=CNNConfig(ndim=2, channels=4, kernels=(3, 3), strides=(1, 2)),
                   train=TrainConfig(steps=20, n_evals=3, lr=1e-2), init_seeds=(0, 1), data_seeds=(5, 6))
    assert spec.config()["model"]["family"] == "cnn" and spec.config()["world"]["dataset"] == "digits"
    with Store(tmp_path / "s.duckdb") as st:
        r = run(spec, st)
    assert r.curve("reliance", "proxy0").shape == (2, len(r.steps))
    assert {"conv.0", "conv.1"} == set(r.layers())
    assert r.final("counterfactual_flip", "flipped").shape == (2,)


def test_bad_anchor_specs_name_the_field():
    with pytest.raises(ConfigError, match="anchor.model"):
        AnchorSpec(model="gru")
    with pytest.raises(ConfigError, match="anchor.dataset"):
        AnchorSpec(dataset="mnist")
