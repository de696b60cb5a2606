"""Run the full-size quality recipe within a time budget, keeping what finishes.

The image sets' verdicts at the loaders' full sizes need many long
``quality.py`` runs (defaults, untrained networks and the baselines on
three seeds of each set, and the two ablations). On a machine lent for a
few minutes they cannot all finish, and one command that is stopped from
outside keeps nothing. This script runs them in order of what the verdicts
need most (seed 0 of the defaults, then the ablations, then more seeds),
``--parallel`` at a time, each as its own ``quality.py`` process writing its
own JSON; it stops whatever still runs at the end of ``--budget`` and does
not start a run when less than ``--min-start`` seconds are left. It then
prints one line per run and judges the finished ones with ``targets.py``::

    python benchmarks/recipe.py --device cuda --budget 540 --out gpu_runs
    python benchmarks/recipe.py --dry-run                  # the runs, in order

Everything ``quality.py`` takes beyond the recipe's own options (for
example ``--sepclr-param decorrelation_weight=10``) follows ``--``.
"""

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

IMAGE_SETS = ("mnist_grass", "textures", "dsprites")
#: What a seed of the defaults fits: the library's SepCLR, the same networks
#: at their initial weights (the leakage rows' yardstick) and the baselines.
DEFAULT_METHODS = ("sepclr", "sepclr_untrained", "contrastivepca", "contrastive_pkg", "pca")
ABLATION_METHODS = ("sepclr_no_jem", "sepclr_plain")


@dataclass
class Run:
    """One ``quality.py`` process: its name (which names its JSON and log) and argv."""

    name: str
    argv: list
    status: str = "not started"
    wall_s: float = 0.0
    _process: object = field(default=None, repr=False)
    _started: float = field(default=0.0, repr=False)


def plan(datasets, seeds, ablation_seeds, device, threads, out, extra=()):
    """The recipe's runs, most needed first.

    Seed 0 of the defaults on every set, then the ablations, then the other
    seeds: a budget that ends early still leaves one full verdict table.
    """
    out = Path(out)

    def run(name, dataset, seed, methods):
        argv = [sys.executable, str(HERE / "quality.py"), "--datasets", dataset,
                "--seed", str(seed), "--methods", *methods, "--device", device,
                "--threads", str(threads), "--json", str(out / f"{name}.json"), *extra]
        return Run(name, argv)

    seeds = list(seeds)
    first, rest = seeds[:1], seeds[1:]
    runs = [run(f"defaults_{d}_{s}", d, s, DEFAULT_METHODS) for s in first for d in datasets]
    runs += [run(f"ablations_{d}_{s}", d, s, ABLATION_METHODS)
             for s in ablation_seeds for d in datasets]
    runs += [run(f"defaults_{d}_{s}", d, s, DEFAULT_METHODS) for s in rest for d in datasets]
    return runs


def execute(runs, budget, parallel, out, min_start=60.0, poll=0.5, env=None):
    """Run ``runs`` in order, ``parallel`` at a time, all ended by ``budget`` seconds.

    Each run's output goes to ``out/<name>.log``. A run still going when the
    budget ends is terminated (then killed 10 s later) and marked "stopped at
    the budget"; one that would start with less than ``min_start`` seconds left
    stays "not started". Returns ``runs`` with ``status`` and ``wall_s`` set.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + budget
    pending, active = list(runs), []
    while pending or active:
        now = time.monotonic()
        while pending and len(active) < parallel and deadline - now >= min_start:
            run = pending.pop(0)
            with open(out / f"{run.name}.log", "w", encoding="utf-8") as log:
                run._process = subprocess.Popen(run.argv, stdout=log, stderr=subprocess.STDOUT,
                                                env=env)
            run._started, run.status = now, "running"
            active.append(run)
        if deadline - now < min_start:
            pending.clear()  # too late to start anything: they stay "not started"
        for run in list(active):
            code = run._process.poll()
            if code is None and now >= deadline:
                _stop(run._process)
                code, run.status = run._process.returncode, "stopped at the budget"
            if code is not None:
                run.wall_s = time.monotonic() - run._started
                if run.status == "running":
                    run.status = "done" if code == 0 else f"failed (exit {code})"
                active.remove(run)
        if active:
            time.sleep(poll)
    return runs


def _stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(IMAGE_SETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--ablation-seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and OpenMP threads of each run (default 1)")
    parser.add_argument("--parallel", type=int, default=6, help="runs at a time (default 6)")
    parser.add_argument("--budget", type=float, default=3600.0,
                        help="seconds until every run still going is stopped (default 3600)")
    parser.add_argument("--min-start", type=float, default=60.0,
                        help="start no run with fewer seconds than this left (default 60)")
    parser.add_argument("--out", default="recipe_runs", help="folder of the JSONs and logs")
    parser.add_argument("--dry-run", action="store_true", help="print the runs, run nothing")
    parser.add_argument("extra", nargs="*", help="after --: more quality.py arguments")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.parallel < 1 or args.budget <= 0:
        raise SystemExit("--parallel must be >= 1 and --budget > 0")
    runs = plan(args.datasets, args.seeds, args.ablation_seeds, args.device, args.threads,
                args.out, args.extra)
    if args.dry_run:
        for run in runs:
            print(run.name, " ".join(run.argv[1:]))
        return runs
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONUNBUFFERED": "1"}
    execute(runs, args.budget, args.parallel, args.out, min_start=args.min_start, env=env)
    for run in runs:
        print(f"{run.name}: {run.status}" + (f", {run.wall_s:.0f} s" if run.wall_s else ""))
    finished = [str(Path(args.out) / f"{r.name}.json") for r in runs if r.status == "done"]
    if finished:
        import targets  # the sibling script; imported here, so a dry run loads no pandas

        targets.main([*finished, "--markdown"])
    return runs


if __name__ == "__main__":
    main()
