"""Smoke test of benchmarks/image_variants.py: one epoch, one variant."""

import math

import pytest

from .conftest import load_benchmark


@pytest.mark.slow
def test_image_variants_main_one_epoch(capsys):
    image_variants = load_benchmark("image_variants")
    rows = image_variants.main(["--epochs", "1", "--threads", "1", "simclr_crop"])
    assert [row[0] for row in rows] == ["contrastivepca", "simclr_crop"]
    assert all(0 <= row[1] <= 1 for row in rows)
    assert math.isfinite(rows[1][3])
    out = capsys.readouterr().out
    assert "simclr_crop" in out and "s->s@proj" in out
