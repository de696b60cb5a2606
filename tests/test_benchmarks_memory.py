"""Smoke test of benchmarks/memory.py: the quick run prints every row and transform's
peak host memory stays within a generous bound of its input + output."""

import json

import pytest

from .conftest import load_benchmark


def _load_memory():
    return load_benchmark("memory")


@pytest.mark.slow
def test_memory_main_quick(tmp_path, capsys):
    memory = _load_memory()
    out = tmp_path / "memory.json"
    results = memory.main(["--quick", "--json", str(out)])
    printed = capsys.readouterr().out

    header = next(line for line in printed.splitlines() if line.startswith("phase"))
    for name in ("input MB", "output MB", "growth MB", "all-acts MB", "growth/acts"):
        assert name in header
    sizes = memory.QUICK_SIZES
    expected = (
        [("transform", "tabular", n) for n in sizes["tabular_transform"]]
        + [("transform", "image", n) for n in sizes["image_transform"]]
        + [("fit", "tabular", n) for n in sizes["tabular_fit"]]
        + [("fit", "image", n) for n in sizes["image_fit"]]
    )
    assert [(r["phase"], r["kind"], r["n"]) for r in results] == expected
    rows = [line for line in printed.splitlines() if line.startswith(("transform", "fit"))]
    assert len(rows) == len(expected)
    for row, (_, kind, n) in zip(rows, expected, strict=True):
        assert kind in row and f"{n:,}" in row
    recorded = json.loads(out.read_text())
    assert recorded["results"] == results
    # The processor and versions, as the other benchmarks record them.
    for key in ("cpu_model", "cpu_capability", "cpu_count", "torch", "scikit-learn"):
        assert key in recorded["machine"]
    assert recorded["machine"]["torch_threads"] == 1

    for result in results:
        assert result["growth_mb"] > -5  # RSS may shrink a little
        assert result["activations_mb"] > 0
        if result["phase"] == "transform":
            assert result["output_mb"] == pytest.approx(result["n"] * 64 * 4 / 1e6)
            assert result["growth_mb"] < memory.transform_bound_mb(result), result
        else:
            # uint8 images stay uint8: fit never holds many float32 copies of them.
            assert result["growth_mb"] < 3 * result["float32_mb"] + 600, result
