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


def test_image_variants_cosine_schedule_spans_the_requested_epochs():
    # The cosine variant must decay over the run's length, not a fixed one,
    # or a --epochs 300 run would restart the schedule after 100 epochs.
    image_variants = load_benchmark("image_variants")
    for epochs in (7, 300):
        (name, schedule), = image_variants._variants(epochs)["cosine"]["callbacks"]
        assert name == "lr_schedule"
        assert schedule.T_max == epochs
    assert image_variants._variants(7)["weight_decay"] == {"weight_decay": 5e-4}


def test_image_variants_start_from_the_recorded_defaults():
    # README.md's variant table was measured without the background blend
    # that the library's image defaults now add; "blend" is that addition.
    image_variants = load_benchmark("image_variants")
    assert image_variants._BASE["background_mixing"] == 0.0
    assert image_variants._variants(7)["blend"] == {"background_mixing": 0.5}
