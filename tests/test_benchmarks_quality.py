"""Smoke test of benchmarks/quality.py: a tiny run prints a row per method."""

import json

import pytest

from .conftest import load_benchmark

pytest.importorskip("pandas")

def _load_quality():
    return load_benchmark("quality")


def test_quality_main_tiny(tmp_path, capsys):
    quality = _load_quality()
    methods = [m for m in quality.METHODS if m != "contrastive_pkg"]
    try:
        import contrastive  # noqa: F401

        methods = list(quality.METHODS)
    except ImportError:
        pass
    out = tmp_path / "quality.json"
    summary = quality.main(
        [
            "--quick",
            "--datasets", "blobs",
            "--n-samples", "80",
            "--epochs", "2",
            "--device", "cpu",
            "--methods", *methods,
            "--sepclr-param", "n_common=4",
            "--sepclr-param", "n_salient=4",
            "--sepclr-param", "hidden_layer_sizes=[16]",
            "--json", str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert list(summary["method"]) == methods
    summary_block = printed.split("## summary")[1]
    for method in methods:
        assert f"blobs {method:>15}" in summary_block or f" {method} " in summary_block
    assert summary.loc[summary.method == "sepclr", "s->s"].notna().all()
    assert summary.loc[summary.method == "sepclr", "collapse"].notna().all()
    payload = json.loads(out.read_text())
    assert {r["method"] for r in payload["results"]} == set(methods)
