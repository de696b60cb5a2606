"""Memory benchmark: peak host memory of ``fit`` and ``transform`` against data size.

``SepCLRTransformer.transform`` runs the encoders on consecutive batches of
``batch_size`` samples, so its memory should grow with the data (the input it
is given and the output it returns), not with data x model (the activations
of every layer for every sample at once). ``fit`` keeps uint8 images as uint8
on the host and converts one batch at a time, so it should not hold a float32
copy of an image dataset.

Each point runs in a fresh Python subprocess, so peaks never mix: the child
imports torch, loads the model (fitted beforehand in another subprocess and
saved with ``SepCLRTransformer.save``) or builds the estimator, creates the
input data, then records its resident set size (RSS) as the baseline and
samples ``/proc/self/statm`` every 2 ms in a thread while ``transform`` or
``fit`` runs (``ru_maxrss`` is used too when it rose past its value at the
baseline, so a spike between two samples is not missed). *peak growth* =
peak RSS - baseline.

Columns:

* ``input MB``: the array given to ``transform``/``fit``; ``f32 MB``: the same
  data as float32 (the copy an implementation converting the whole dataset
  would make; equal to the input for float32 tables);
* ``output MB``: the array ``transform`` returns (n x 64 float32);
* ``all-acts MB``: what holding every activation for every sample at once
  would cost: n x (sum of the output sizes of the Linear/Conv layers of both
  encoders, computed from the model with forward hooks) x 4 bytes. A lower
  bound: BatchNorm/ReLU outputs, the heads, the second view and the gradients
  of training are not counted;
* ``growth/(in+out)``: peak growth over input + output MB (fit: over input +
  f32 MB); ``growth/acts``: peak growth over all-acts MB.

Run ``python benchmarks/memory.py --help``. ``--quick`` (small sizes) runs in
about 1-2 minutes on a 2-core CPU.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# The sibling helper module (a script's folder is first on sys.path).
from _common import PeakRSS, StopAfter, machine_info

MB = 1e6
N_COMMON = N_SALIENT = 32
TABULAR_FEATURES = 50
TRANSFORM_IMAGE_SHAPE = (1, 28, 28)
FIT_IMAGE_SHAPE = (3, 32, 32)

#: (tabular transform rows, image transform images, tabular fit rows, image fit images)
DEFAULT_SIZES = {
    "tabular_transform": [10_000, 100_000, 1_000_000],
    "image_transform": [1_000, 10_000],
    "tabular_fit": [10_000, 100_000],
    "image_fit": [5_000, 20_000],
}
QUICK_SIZES = {
    "tabular_transform": [2_000, 50_000],
    "image_transform": [1_000],
    "tabular_fit": [2_000],
    "image_fit": [300],
}
#: Batch size of the image fits (``--quick``: smaller, so a batch is quick on a CPU).
FIT_IMAGE_BATCH_SIZE = {False: 256, True: 64}
#: Samples the models used by ``transform`` are fitted on (1 epoch).
PREP_SAMPLES = {"tabular": 2_000, "image": 500}
QUICK_PREP_SAMPLES = {"tabular": 500, "image": 200}


# -- the child: one point per process -----------------------------------------
def _activation_floats(module, input_shape):
    """Floats per sample output by the Linear/Conv layers of both encoders."""
    import torch
    from torch import nn

    total = 0

    def hook(_module, _inputs, output):
        nonlocal total
        total += output[0].numel()  # one sample of the batch

    handles = [
        m.register_forward_hook(hook)
        for encoder in (module.common_encoder, module.salient_encoder)
        for m in encoder.modules()
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))
    ]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(torch.zeros(2, *input_shape))
    finally:
        for handle in handles:
            handle.remove()
        module.train(was_training)
    return total


def _make_data(kind, n, shape, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    if kind == "tabular":
        # Generated directly in float32: no float64 temporary in the baseline.
        return rng.standard_normal((n, *shape), dtype=np.float32)
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _estimator(kind, *, max_epochs=1, batch_size=256, callbacks=None):
    from sklearn_sepclr import SepCLRTransformer

    return SepCLRTransformer(
        n_common=N_COMMON,
        n_salient=N_SALIENT,
        encoder="mlp" if kind == "tabular" else "cnn",
        max_epochs=max_epochs,
        batch_size=batch_size,
        device="cpu",
        random_state=0,
        callbacks=callbacks,
        background_mixing=0.0,  # as when README.md's tables were measured
    )


def _child(spec):
    """Measure one point described by ``spec``; return a JSON-able dict."""
    import warnings

    import numpy as np
    import torch

    torch.set_num_threads(spec.get("threads", 1))
    from sklearn_sepclr import SepCLRTransformer

    if spec["phase"] == "prep":  # fit and save the models that transform uses
        for kind, (n, shape, path) in spec["models"].items():
            X = _make_data(kind, n, tuple(shape), seed=1)
            _estimator(kind).fit(X, np.arange(n) % 2).save(path)
        return {}
    kind, n, shape = spec["kind"], spec["n"], tuple(spec["shape"])
    groups = np.arange(n) % 2
    steps = None
    if spec["phase"] == "transform":
        est = SepCLRTransformer.load(spec["path"], device="cpu")
        X = _make_data(kind, n, shape)
        with PeakRSS() as rss:
            t0 = time.perf_counter()
            Z = est.transform(X)
            seconds = time.perf_counter() - t0
        module, output_bytes = est.net_.module_, Z.nbytes
    else:  # fit
        steps = spec.get("steps") or None
        callbacks = [("stop", StopAfter(steps))] if steps else None
        est = _estimator(kind, batch_size=spec.get("batch_size", 256), callbacks=callbacks)
        X = _make_data(kind, n, shape)
        with PeakRSS() as rss, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Training was interrupted")
            t0 = time.perf_counter()
            est.fit(X, groups)
            seconds = time.perf_counter() - t0
        module, output_bytes = est.net_.module_, 0
        if steps:  # batches actually run (an interrupted epoch leaves no history)
            steps = next(cb.seen_ for name, cb in est.net_.callbacks_ if name == "stop")
    return {
        "phase": spec["phase"],
        "kind": kind,
        "n": n,
        "shape": list(shape),
        "dtype": str(X.dtype),
        "input_mb": X.nbytes / MB,
        "float32_mb": X.size * 4 / MB,
        "output_mb": output_bytes / MB,
        "activations_mb": n * _activation_floats(module, shape) * 4 / MB,
        "baseline_mb": rss.start / MB,
        "peak_mb": rss.peak / MB,
        "growth_mb": rss.growth / MB,
        "seconds": seconds,
        "batches": steps,
    }


def _run_child(spec, timeout=None):
    """Run one point in a fresh interpreter and return its result dict."""
    env = dict(os.environ, OMP_NUM_THREADS=str(spec.get("threads", 1)))
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"memory benchmark child {spec} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the table ------------------------------------------------------------------
COLUMNS = (
    ("phase", 10), ("data", 22), ("n", 9), ("input MB", 9), ("f32 MB", 9),
    ("output MB", 10), ("growth MB", 10), ("all-acts MB", 12),
    ("growth/(in+out)", 16), ("growth/acts", 12), ("dgrowth/dn B", 13), ("time s", 8),
)


def _add_marginals(results):
    """Bytes of peak growth per extra sample between consecutive sizes of a series."""
    last = {}
    for result in results:
        key = (result["phase"], result["kind"], tuple(result["shape"]))
        previous = last.get(key)
        result["marginal_bytes_per_sample"] = None
        if previous is not None and result["n"] != previous["n"]:
            result["marginal_bytes_per_sample"] = (
                (result["growth_mb"] - previous["growth_mb"]) * MB
                / (result["n"] - previous["n"])
            )
        last[key] = result
    return results


def _row(result):
    shape = "x".join(map(str, result["shape"]))
    data = f"{result['kind']} {shape} {result['dtype']}"
    # fit returns no features: compare with the input and a float32 copy instead.
    reference = result["input_mb"] + (
        result["output_mb"] if result["phase"] == "transform" else result["float32_mb"]
    )
    output = f"{result['output_mb']:.1f}" if result["phase"] == "transform" else "-"
    values = (
        result["phase"] if not result.get("batches") else f"fit({result['batches']}b)",
        data,
        f"{result['n']:,}",
        f"{result['input_mb']:.1f}",
        f"{result['float32_mb']:.1f}",
        output,
        f"{result['growth_mb']:.1f}",
        f"{result['activations_mb']:.0f}",
        f"{result['growth_mb'] / reference:.2f}",
        f"{result['growth_mb'] / result['activations_mb']:.3f}",
        "-" if result.get("marginal_bytes_per_sample") is None
        else f"{result['marginal_bytes_per_sample']:.0f}",
        f"{result['seconds']:.1f}",
    )
    return "  ".join(v.rjust(w) if i > 1 else v.ljust(w)
                     for i, (v, (_, w)) in enumerate(zip(values, COLUMNS, strict=True)))


def _header():
    return "  ".join(name.rjust(w) if i > 1 else name.ljust(w)
                     for i, (name, w) in enumerate(COLUMNS))


def transform_bound_mb(result, factor=3.0, slack_mb=200.0):
    """A generous bound on ``transform``'s peak growth: factor x (in + out) + slack."""
    return factor * (result["input_mb"] + result["output_mb"]) + slack_mb


# -- main -------------------------------------------------------------------------
def _parse(argv):
    parser = argparse.ArgumentParser(
        description="Peak host memory of SepCLRTransformer fit/transform against data size "
        "(each point in a fresh subprocess)."
    )
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (1-2 minutes on a 2-core CPU)")
    parser.add_argument("--tabular-sizes", type=int, nargs="*",
                        help="rows of 50 float32 features given to transform "
                        "(default 10k 100k 1M)")
    parser.add_argument("--image-sizes", type=int, nargs="*",
                        help="uint8 1x28x28 images given to transform (default 1k 10k; "
                        "add 100000 for the large point, ~10x the time of 10k)")
    parser.add_argument("--fit-tabular-sizes", type=int, nargs="*",
                        help="rows of 50 float32 features for fit (default 10k 100k)")
    parser.add_argument("--fit-image-sizes", type=int, nargs="*",
                        help="uint8 3x32x32 images for fit (default 5k 20k)")
    parser.add_argument("--fit-image-batches", type=int, default=None,
                        help="stop image fits after this many batches of 256 (0: the "
                        "whole epoch, ~7 s a batch on one CPU thread; default 4, 2 "
                        "batches of 64 with --quick)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="points measured at once, each in its own process (default 1, "
                        "2 with --quick); peaks do not mix, timings do")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per child")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark; print the table and return the list of result dicts."""
    args = _parse(argv)
    if args._child:
        print(json.dumps(_child(json.loads(args._child))))
        return None
    sizes = dict(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    prep = QUICK_PREP_SAMPLES if args.quick else PREP_SAMPLES
    for key, value in (
        ("tabular_transform", args.tabular_sizes),
        ("image_transform", args.image_sizes),
        ("tabular_fit", args.fit_tabular_sizes),
        ("image_fit", args.fit_image_sizes),
    ):
        if value is not None:
            sizes[key] = value
    image_batches = args.fit_image_batches
    if image_batches is None:
        image_batches = 2 if args.quick else 4
    jobs = args.jobs if args.jobs is not None else (2 if args.quick else 1)

    import torch

    info = machine_info(torch.device("cpu"), args.threads)
    print(f"machine: {info['cpu_model'] or platform.machine()} ({info['cpu_capability']}), "
          f"{info['cpu_count']} CPUs, python {info['python']}, torch {info['torch']}, "
          f"torch threads per child: {args.threads}")
    print(_header())

    tabular = (TABULAR_FEATURES,)
    specs = []
    for kind, shape, key in (
        ("tabular", tabular, "tabular_transform"),
        ("image", TRANSFORM_IMAGE_SHAPE, "image_transform"),
    ):
        specs += [{"phase": "transform", "kind": kind, "n": n, "shape": list(shape)}
                  for n in sizes[key]]
    specs += [{"phase": "fit", "kind": "tabular", "n": n, "shape": list(tabular)}
              for n in sizes["tabular_fit"]]
    specs += [{"phase": "fit", "kind": "image", "n": n, "shape": list(FIT_IMAGE_SHAPE),
               "steps": image_batches, "batch_size": FIT_IMAGE_BATCH_SIZE[args.quick]}
              for n in sizes["image_fit"]]

    with tempfile.TemporaryDirectory() as tmp:
        models = {
            kind: (prep[kind], list(shape), os.path.join(tmp, f"{kind}.pt"))
            for kind, shape in (("tabular", tabular), ("image", TRANSFORM_IMAGE_SHAPE))
            if any(s["phase"] == "transform" and s["kind"] == kind for s in specs)
        }
        for spec in specs:
            spec["threads"] = args.threads
            if spec["phase"] == "transform":
                spec["path"] = models[spec["kind"]][2]
        # Points are independent processes: running several at once mixes no
        # peaks (RSS is per process), only the timings. Fits need no prepared
        # model, so they start while the transform models are fitted.
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            prepared = pool.submit(
                _run_child, {"phase": "prep", "models": models, "threads": args.threads}
            )
            futures = {}
            for i, spec in enumerate(specs):
                if spec["phase"] == "fit":
                    futures[i] = pool.submit(_run_child, spec)
            prepared.result()
            for i, spec in enumerate(specs):
                if spec["phase"] == "transform":
                    futures[i] = pool.submit(_run_child, spec)
            results = []
            for i in range(len(specs)):
                results.append(futures[i].result())
                print(_row(_add_marginals(results)[-1]), flush=True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "results": results}, f, indent=2)
    return results


if __name__ == "__main__":
    main()
