"""benchmarks/recipe.py: the runs come in the order the verdicts need them,
a budget stops what still runs and starts nothing too late, and a tiny real
run ends in a verdict table."""

import json
import sys

import pytest

from .conftest import load_benchmark

pytest.importorskip("pandas")


def _names(runs):
    return [run.name for run in runs]


def test_plan_puts_seed_zero_and_the_ablations_first(tmp_path):
    recipe = load_benchmark("recipe")
    runs = recipe.plan(["textures", "dsprites"], [0, 1], [0], "cuda", 1, tmp_path,
                       extra=["--image-epochs", "5"])
    assert _names(runs) == [
        "defaults_textures_0", "defaults_dsprites_0",
        "ablations_textures_0", "ablations_dsprites_0",
        "defaults_textures_1", "defaults_dsprites_1",
    ]
    argv = runs[4].argv
    assert argv[argv.index("--seed") + 1] == "1"
    assert argv[argv.index("--device") + 1] == "cuda"
    assert argv[argv.index("--json") + 1] == str(tmp_path / "defaults_textures_1.json")
    assert argv[-2:] == ["--image-epochs", "5"]
    methods = argv[argv.index("--methods") + 1:argv.index("--device")]
    assert methods == list(recipe.DEFAULT_METHODS)


def test_dry_run_lists_the_full_recipe(capsys):
    recipe = load_benchmark("recipe")
    runs = recipe.main(["--dry-run"])
    # Three sets: three seeds of the defaults and one of the ablations.
    assert len(runs) == 12 and all(run.status == "not started" for run in runs)
    assert len(capsys.readouterr().out.splitlines()) == 12


def _python(code):
    return [sys.executable, "-c", code]


def test_execute_keeps_order_stops_at_the_budget_and_starts_nothing_late(tmp_path):
    recipe = load_benchmark("recipe")
    runs = [
        recipe.Run("ok", _python("print('hello')")),
        recipe.Run("fails", _python("import sys; sys.exit(3)")),
        recipe.Run("slow", _python("import time; time.sleep(60)")),
        recipe.Run("late", _python("print('never')")),
    ]
    recipe.execute(runs, budget=3.0, parallel=1, out=tmp_path, min_start=1.0, poll=0.05)
    status = {run.name: run.status for run in runs}
    assert status == {"ok": "done", "fails": "failed (exit 3)",
                      "slow": "stopped at the budget", "late": "not started"}
    assert (tmp_path / "ok.log").read_text().strip() == "hello"
    assert not (tmp_path / "late.log").exists()
    assert 1.0 < runs[2].wall_s < 15.0  # stopped by the budget, not by its own end


@pytest.mark.slow
def test_tiny_real_recipe_judges_what_finished(tmp_path, capsys):
    recipe = load_benchmark("recipe")
    out = tmp_path / "runs"
    runs = recipe.main([
        "--datasets", "blobs", "--seeds", "0", "--ablation-seeds", "--device", "cpu",
        "--budget", "600", "--min-start", "1", "--out", str(out), "--",
        "--quick", "--n-samples", "80", "--epochs", "2",
        "--sepclr-param", "n_common=4", "--sepclr-param", "n_salient=4",
        "--sepclr-param", "hidden_layer_sizes=[16]",
    ])
    assert [(run.name, run.status) for run in runs] == [("defaults_blobs_0", "done")]
    payload = json.loads((out / "defaults_blobs_0.json").read_text())
    assert payload["args"]["seed"] == 0 and payload["args"]["device"] == "cpu"
    printed = capsys.readouterr().out
    assert "defaults_blobs_0: done" in printed
    # targets.py judged the finished run: its Markdown table names the set.
    assert "| blobs" in printed
