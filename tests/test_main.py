"""The main job: ``python -m sklearn_sepclr``."""

import subprocess
import sys

import pytest

from sklearn_sepclr.__main__ import main


@pytest.mark.parametrize("dataset", ["blobs", "mice"])
def test_main_job_prints_what_it_found(capsys, dataset):
    assert main(["--dataset", dataset, "--epochs", "2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "trained 2 epochs on cpu in" in out
    assert out.count("features ->") == (4 if dataset == "blobs" else 2)
    assert "salient features:" in out and "common features:" in out
    assert "Background collapse" in out and "ratio" in out


def test_module_entry_point_has_help():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_sepclr", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--dataset" in result.stdout and "--epochs" in result.stdout
