"""Smoke test of benchmarks/speed.py: a tiny run prints every row and both ratios."""

import json

import pytest
import torch

from .conftest import load_benchmark


def _load_speed():
    return load_benchmark("speed")


def test_speed_main_tiny(tmp_path, capsys):
    speed = _load_speed()
    out = tmp_path / "speed.json"
    summary = speed.main(
        [
            "--quick",
            "--configs", "mlp", "resnet18_32",
            "--n-samples", "256",
            "--epochs", "1",
            "--device", "cpu",
            "--threads", "1",
            "--json", str(out),
        ]
    )
    printed = capsys.readouterr().out
    for label in speed.METHODS.values():
        assert f"mlp           {label}" in printed
    header = next(line for line in printed.splitlines() if line.startswith("config ") and
                  "a/b" in line)
    assert "a/b" in header and "a/c" in header
    ratio_row = next(line for line in printed.splitlines() if line.startswith("mlp ") and
                     "a/b >= 0.85" in line)
    assert len(ratio_row.split()) >= 7
    # The CUDA-only configuration is skipped on the CPU, with a note.
    assert "[resnet18_32] skipped" in printed
    assert summary["skipped"] == ["resnet18_32"]
    saved = json.loads(out.read_text())
    (result,) = saved["results"]
    assert set(result["methods"]) == {"a", "b", "b'", "c"}
    assert {"a/b", "a/c"} <= set(result["ratios"])
    for method in result["methods"].values():
        assert method["samples_per_s"] > 0
        assert method["device_peak"] is None  # "n/a" on the CPU


def test_speed_methods_subset_times_only_those_and_prints_rows_per_config(capsys):
    speed = _load_speed()
    summary = speed.main(
        ["--quick", "--configs", "mlp", "--methods", "a", "b", "--n-samples", "128",
         "--epochs", "1", "--device", "cpu", "--threads", "1"]
    )
    (result,) = summary["results"]
    assert set(result["methods"]) == {"a", "b"}
    assert set(result["ratios"]) == {"a/b", "a/b cpu"}
    printed = capsys.readouterr().out
    # The rows come right after the configuration's timing line, before the
    # final table, so a run cut short keeps them.
    first_table = printed.index("config        method")
    assert printed.index("mlp           a  estimator fit") < first_table
    assert "c  paper structure" not in printed
    ratio_row = next(line for line in printed.splitlines()
                     if line.startswith("mlp ") and "a/b >= 0.85" in line)
    assert ratio_row.split()[2:4] == ["-", "-"]  # a/b' and a/c were not measured


def test_speed_refuses_a_device_it_cannot_use():
    speed = _load_speed()
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here, so --device cuda is valid")
    with pytest.raises(ValueError, match="CUDA is not available"):
        speed.main(["--quick", "--configs", "mlp", "--device", "cuda", "--threads", "1"])
