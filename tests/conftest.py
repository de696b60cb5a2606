"""Shared fixtures: tiny CPU configurations and small datasets."""

from pathlib import Path

import pytest
import torch

from sklearn_sepclr.datasets import make_contrastive_blobs

# Two CPU cores in CI: one thread per test process avoids oversubscription.
torch.set_num_threads(1)

#: The benchmark scripts and their README.
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

#: The smallest SepCLR that still trains: for API tests, not for quality.
TINY = dict(
    n_common=2,
    n_salient=2,
    hidden_layer_sizes=(8,),
    max_epochs=2,
    batch_size=16,
    device="cpu",
    random_state=0,
)


@pytest.fixture
def tiny():
    return dict(TINY)


@pytest.fixture(scope="session")
def blobs():
    return make_contrastive_blobs(n_background=30, n_target=30, n_features=6, random_state=0)


@pytest.fixture
def no_training(monkeypatch):
    """Make any attempt to start training fail the test."""
    from sklearn_sepclr._net import _SepCLRNet

    def refuse(*args, **kwargs):
        raise AssertionError("training started although the input is invalid")

    monkeypatch.setattr(_SepCLRNet, "fit", refuse)
    monkeypatch.setattr(_SepCLRNet, "partial_fit", refuse)
    monkeypatch.setattr(_SepCLRNet, "initialize", refuse)


def load_benchmark(name):
    """Import ``benchmarks/<name>.py`` by path (importing runs nothing).

    A script run as a file finds its sibling ``_common`` module because Python
    puts the script's folder first on ``sys.path``; a test loading it by path
    puts that folder there itself.
    """
    import importlib.util
    import sys

    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    script = BENCHMARKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
