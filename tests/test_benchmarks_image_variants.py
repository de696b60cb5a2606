"""Smoke test of benchmarks/image_variants.py: one epoch, one variant."""

import math

import pytest

from .conftest import load_benchmark


@pytest.mark.slow
def test_image_variants_main_one_epoch(capsys):
    rows = load_benchmark("image_variants").main(["--epochs", "1", "--threads", "1", "crop06"])
    assert [row[0] for row in rows] == ["contrastivepca", "crop06"]
    assert all(0 <= row[1] <= 1 for row in rows)
    assert math.isfinite(rows[1][3])
    assert "crop06" in capsys.readouterr().out
