"""Speed benchmark: training throughput of ``SepCLRTransformer.fit`` against bare loops.

One run trains the *same* network (built by ``sklearn_sepclr._modules``) with
the *same* loss (:func:`sklearn_sepclr.losses.sepclr_loss`, same weights) and
the same optimiser (Adam, same learning rate) in four ways, and reports
samples/s and peak memory for each:

a  ``SepCLRTransformer.fit``, end to end: input checks, group-balanced
   batches, augmentation, skorch's loop, history; nothing is subtracted (the
   ``fit`` call is timed over ``--epochs`` epochs, after an untimed 1-epoch
   warm-up fit).
b  a bare PyTorch loop on *pre-augmented* batches already on the device (a
   few batches of views drawn once beforehand, then cycled), both views in
   one forward pass as the estimator does: the upper bound of the training
   step.
b' the same bare loop, drawing the views of every batch on the device with
   the estimator's augmentation (b' - b: augmentation cost; a - b': the cost
   of the estimator's wrapper: skorch, batching, history).
c  the structure of the paper's published training scripts: views drawn on
   the CPU (tabular: the batch at once; images: one image at a time in a
   Python loop, as a torchvision-transform ``Dataset`` + ``DataLoader``
   would), copied to the device, one forward pass per view, fp32, and the
   running loss read with ``.item()`` every step. Deliberately the slow
   baseline.

samples/s = n_samples * epochs / time. Methods run in turns (a, b, b', c,
then again for ``--repeats``) and the best time of each is kept, so that
load from other processes on a shared machine hits all of them alike.
Memory: host peak RSS (sampled every 5 ms from ``/proc/self/statm``, or the
process's ``ru_maxrss`` where that is unavailable) and its growth during the
run; device peak ``torch.cuda.max_memory_allocated`` on CUDA, "n/a" on CPU.

``--memory-check`` fits 50,000 uint8 images of 3x32x32 (``encoder="cnn"``,
stopped after ``--memory-steps`` batches) and checks that the host RSS grows
by well under the size of a float32 copy of the dataset (614 MB).

Run ``python benchmarks/speed.py --help``; ``--quick`` runs on a 2-core CPU
in under 2 minutes.
"""

import argparse
import dataclasses
import json
import math
import sys
import time
import warnings

import numpy as np
import torch

from sklearn_sepclr._transformer import _resolve_device

# The sibling helper module (a script's folder is first on sys.path).
from _common import PeakRSS, StopAfter, machine_info


@dataclasses.dataclass(frozen=True)
class Config:
    """A network and data size; ``quick_*`` are the sizes with ``--quick``."""

    name: str
    encoder: str
    shape: tuple
    dtype: str
    n_samples: int
    quick_samples: int
    batch_size: int
    quick_batch_size: int
    cuda_only: bool = False

    @property
    def is_image(self):
        return len(self.shape) == 3


CONFIGS = {
    c.name: c
    for c in [
        Config("mlp", "mlp", (50,), "float32", 20_000, 10_240, 256, 256),
        Config("cnn28", "cnn", (1, 28, 28), "uint8", 2_048, 256, 256, 128),
        Config("resnet18_32", "resnet18", (3, 32, 32), "uint8", 20_480, 2_048, 512, 512, True),
        Config("resnet18_128", "resnet18", (3, 128, 128), "uint8", 5_120, 1_024, 256, 256,
               True),
    ]
}

METHODS = {
    "a": "a  estimator fit",
    "b": "b  bare, pre-augmented",
    "b'": "b' bare + device aug",
    "c": "c  paper structure",
}

#: Size of the representations, as the estimator's defaults.
N_COMMON = N_SALIENT = 32
#: Distinct pre-augmented batches that loop b cycles through.
N_PREDRAWN = 4
#: Untimed steps before each bare loop (allocator, kernel choice).
WARMUP_STEPS = 1

MEMORY_CHECK_SHAPE = (3, 32, 32)
MEMORY_CHECK_SAMPLES = 50_000


# -- data and shared pieces ---------------------------------------------------
def make_data(config, n_samples, seed=0):
    """Samples and groups (half background, half target), on the host."""
    rng = np.random.default_rng(seed)
    groups = np.arange(n_samples) % 2
    if config.is_image:
        X = rng.integers(0, 256, size=(n_samples, *config.shape), dtype=np.uint8)
    else:
        from sklearn_sepclr.datasets import make_contrastive_blobs

        data = make_contrastive_blobs(
            n_background=n_samples // 2,
            n_target=n_samples - n_samples // 2,
            n_features=config.shape[0],
            random_state=seed,
        )
        X = np.vstack([data.X_background, data.X_target]).astype(np.float32)
        groups = np.r_[np.zeros(n_samples // 2, int), np.ones(n_samples - n_samples // 2, int)]
        order = rng.permutation(n_samples)  # mixed groups in any slice
        X, groups = X[order], groups[order]
    return X, groups


def make_estimator(config, device, epochs, **params):
    from sklearn_sepclr import SepCLRTransformer

    return SepCLRTransformer(
        n_common=N_COMMON,
        n_salient=N_SALIENT,
        encoder=config.encoder,
        batch_size=config.batch_size,
        max_epochs=epochs,
        device=device,
        random_state=0,
        # The reference loops draw plain views; so does the trainer here.
        **{"background_mixing": 0.0, **params},
    )


def loss_weights(estimator):
    """The loss weights the fitted estimator trained with."""
    criterion = estimator.net_.criterion_
    names = ("temperature", "uniformity_weight", "salient_weight", "background_weight",
             "jem_weight")
    return {name: getattr(criterion, name) for name in names}


def build_module(config, device, seed=0):
    """The estimator's network, with the estimator's sizes and memory format."""
    from sklearn_sepclr._modules import _build_encoder, _SepCLRModule

    torch.manual_seed(seed)
    hidden = (256, 256)  # the estimator's default hidden_layer_sizes
    module = _SepCLRModule(
        _build_encoder(config.encoder, config.shape, N_COMMON, hidden),
        _build_encoder(config.encoder, config.shape, N_SALIENT, hidden),
        N_COMMON,
        N_SALIENT,
    )
    if config.is_image:
        module = module.to(memory_format=torch.channels_last)
    return module.to(device).train()


def make_augmentation(config, X_float, device):
    """The estimator's default augmentation, fitted, its statistics on ``device``."""
    from sklearn_sepclr import ImageAugmentation, TabularAugmentation

    if config.is_image:
        return ImageAugmentation().fit(None)
    augment = TabularAugmentation().fit(X_float)
    augment.mean_ = augment.mean_.to(device)
    augment.std_ = augment.std_.to(device)
    return augment


def _to_float(x, device):
    x = x.to(device)
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _cpu_clock():
    """CPU seconds of the work: of this thread with one torch thread (the
    memory sampler excluded), else of the process."""
    return time.thread_time() if torch.get_num_threads() == 1 else time.process_time()


class _Clock:
    """Wall and CPU seconds of a block, the device synchronised at both ends.

    CPU time barely changes with the load of other processes, so its ratios
    cross-check the wall-time ones on a shared machine (CPU device only).
    """

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        _sync(self.device)
        self.wall, self.cpu = time.perf_counter(), _cpu_clock()
        return self

    def __exit__(self, *exc):
        _sync(self.device)
        self.wall = time.perf_counter() - self.wall
        self.cpu = _cpu_clock() - self.cpu

    @property
    def seconds(self):
        return self.wall, self.cpu


def _batch_indices(groups_t, batch_size, generator):
    from sklearn_sepclr._net import _balanced_batches

    return _balanced_batches(groups_t, batch_size, generator)


# -- the four ways of training ------------------------------------------------
def run_estimator(config, X, groups, device, epochs):
    """a: ``SepCLRTransformer.fit``, timed whole."""
    estimator = make_estimator(config, device, epochs)
    with _Clock(device) as clock:
        estimator.fit(X, groups)
    return clock.seconds


def _bare_steps(config, n_samples, epochs):
    return epochs * max(1, math.ceil(n_samples / config.batch_size))


def run_bare(config, X, groups, device, epochs, weights, augment_each_step):
    """b (pre-augmented views) and b' (views drawn on the device each step)."""
    from sklearn_sepclr.losses import sepclr_loss

    module = build_module(config, device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    X_t, groups_t = torch.as_tensor(X), torch.as_tensor(groups).bool()
    generator = torch.Generator().manual_seed(1)
    views_gen = torch.Generator(device=device).manual_seed(2)
    augment = make_augmentation(config, _to_float(X_t, "cpu") if not config.is_image else None,
                                device)
    batches = []
    for index in _batch_indices(groups_t, config.batch_size, generator)[:N_PREDRAWN]:
        x = _to_float(X_t[index], device)
        if config.is_image:
            x = x.contiguous(memory_format=torch.channels_last)
        if not augment_each_step:
            x = torch.cat([augment(x, views_gen), augment(x, views_gen)])
        batches.append((x, groups_t[index].to(device)))

    def step(i):
        x, is_target = batches[i % len(batches)]
        if augment_each_step:
            x = torch.cat([augment(x, views_gen), augment(x, views_gen)])
        optimizer.zero_grad(set_to_none=True)
        common, salient = module.project(x)
        common1, common2 = common.chunk(2)
        salient1, salient2 = salient.chunk(2)
        total, _ = sepclr_loss(common1, common2, salient1, salient2, is_target, **weights)
        total.backward()
        optimizer.step()

    for i in range(WARMUP_STEPS):
        step(i)
    with _Clock(device) as clock:
        for i in range(_bare_steps(config, len(X), epochs)):
            step(i)
    return clock.seconds


def run_paper(config, X, groups, device, epochs, weights, warmup=True):
    """c: CPU views (per image for images), copy, one forward pass per view."""
    from sklearn_sepclr.losses import sepclr_loss

    module = build_module(config, device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    X_t, groups_t = torch.as_tensor(X), torch.as_tensor(groups).bool()
    cpu_gen = torch.Generator().manual_seed(3)
    augment = make_augmentation(config, X_t if not config.is_image else None, "cpu")

    def views(index):
        if not config.is_image:
            x = X_t[index]
            return augment(x, cpu_gen), augment(x, cpu_gen)
        # What a torchvision-transform Dataset does in __getitem__: one image
        # at a time, two views each, then the DataLoader's collate stacks them.
        pairs = []
        for i in index.tolist():
            image = X_t[i : i + 1].float().div_(255.0)
            pairs.append((augment(image, cpu_gen), augment(image, cpu_gen)))
        return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])

    def step(index):
        view1, view2 = views(index)
        view1 = view1.to(device)
        view2 = view2.to(device)
        is_target = groups_t[index].to(device)
        optimizer.zero_grad(set_to_none=True)
        common1, salient1 = module.project(view1)
        common2, salient2 = module.project(view2)
        total, _ = sepclr_loss(common1, common2, salient1, salient2, is_target, **weights)
        total.backward()
        optimizer.step()
        return total.item()

    n = len(X)
    if warmup:
        for _ in range(WARMUP_STEPS):
            step(torch.randperm(n, generator=cpu_gen)[: config.batch_size])
    running = 0.0
    with _Clock(device) as clock:
        for _ in range(epochs):
            for index in torch.randperm(n, generator=cpu_gen).split(config.batch_size):
                running += step(index)
    return clock.seconds


# -- one configuration --------------------------------------------------------
def _measure(fn, device):
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with PeakRSS() as rss:
        seconds, cpu_seconds = fn()
    device_peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "host_peak": rss.peak,
            "host_growth": rss.growth, "device_peak": device_peak}


def run_config(config, device, epochs, n_samples, repeats, methods=tuple(METHODS)):
    X, groups = make_data(config, n_samples)
    # Untimed warm-up fit on one batch: first calls, and the loss weights.
    warm = make_estimator(config, device, 1).fit(X[: config.batch_size],
                                                 groups[: config.batch_size])
    weights = loss_weights(warm)
    del warm
    runners = {
        "a": lambda: run_estimator(config, X, groups, device, epochs),
        "b": lambda: run_bare(config, X, groups, device, epochs, weights, False),
        "b'": lambda: run_bare(config, X, groups, device, epochs, weights, True),
        "c": lambda: run_paper(config, X, groups, device, epochs, weights),
    }
    runners = {key: fn for key, fn in runners.items() if key in methods}
    runs = {key: [] for key in runners}
    for _ in range(repeats):
        for key, fn in runners.items():
            runs[key].append(_measure(fn, device))
    # Time: the best of the repeats (wall and CPU separately); memory: the largest.
    best = {}
    for key, results in runs.items():
        best[key] = {
            "seconds": min(r["seconds"] for r in results),
            "cpu_seconds": min(r["cpu_seconds"] for r in results),
            "host_peak": max(r["host_peak"] for r in results),
            "host_growth": max(r["host_growth"] for r in results),
            "device_peak": None if device.type != "cuda" else max(
                r["device_peak"] for r in results),
            "all_seconds": [r["seconds"] for r in results],
        }
        best[key]["samples_per_s"] = n_samples * epochs / best[key]["seconds"]
        best[key]["samples_per_cpu_s"] = n_samples * epochs / best[key]["cpu_seconds"]
    ratios = {}
    for other in [m for m in ("b", "b'", "c") if "a" in best and m in best]:
        ratios[f"a/{other}"] = best["a"]["samples_per_s"] / best[other]["samples_per_s"]
        ratios[f"a/{other} cpu"] = (best["a"]["samples_per_cpu_s"]
                                    / best[other]["samples_per_cpu_s"])
    return {
        "config": config.name,
        "encoder": config.encoder,
        "sample_shape": list(config.shape),
        "dtype": config.dtype,
        "n_samples": n_samples,
        "batch_size": config.batch_size,
        "epochs": epochs,
        "device": str(device),
        "methods": best,
        "ratios": ratios,
    }


# -- host-memory check ----------------------------------------------------------
def memory_check(device, steps, batch_size, n_samples=MEMORY_CHECK_SAMPLES, limit=0.5):
    """Fit uint8 images; the host RSS growth must stay below ``limit`` x float32 size."""
    from sklearn_sepclr import SepCLRTransformer

    def fit(X, groups):
        est = SepCLRTransformer(
            encoder="cnn", max_epochs=1, batch_size=batch_size, device=device,
            random_state=0, callbacks=[("stop", StopAfter(steps))],
        )
        with PeakRSS() as rss, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Training was interrupted")
            est.fit(X, groups)
        return rss

    rng = np.random.default_rng(0)
    # Reference: the same fit on a small dataset (model, activations), after
    # an unmeasured one that pays the first-call costs (allocator, kernels).
    small = rng.integers(0, 256, size=(2 * batch_size, *MEMORY_CHECK_SHAPE), dtype=np.uint8)
    fit(small, np.arange(len(small)) % 2)
    reference = fit(small, np.arange(len(small)) % 2)
    X = rng.integers(0, 256, size=(n_samples, *MEMORY_CHECK_SHAPE), dtype=np.uint8)
    groups = np.arange(n_samples) % 2
    rss = fit(X, groups)
    float32_bytes = X.size * 4
    result = {
        "n_samples": n_samples,
        "sample_shape": list(MEMORY_CHECK_SHAPE),
        "steps": steps,
        "batch_size": batch_size,
        "uint8_dataset_bytes": int(X.nbytes),
        "float32_copy_bytes": int(float32_bytes),
        "host_rss_before_fit": rss.start,
        "host_rss_peak_growth": rss.growth,
        "reference_growth_small_dataset": reference.growth,
        "limit_bytes": int(limit * float32_bytes),
    }
    result["passed"] = bool(rss.growth < limit * float32_bytes)
    return result


# -- output ---------------------------------------------------------------------
def _mb(value):
    return "n/a" if value is None else f"{value / 1e6:.0f}"


def format_table(results, header=True):
    title = (f"{'config':<13} {'method':<24} {'samples/s':>10} {'wall s':>8} {'cpu s':>8} "
             f"{'host peak MB':>12} {'host +MB':>9} {'device peak MB':>14}")
    lines = [title, "-" * len(title)] if header else []
    for res in results:
        for key, label in METHODS.items():
            if key not in res["methods"]:
                continue
            m = res["methods"][key]
            lines.append(
                f"{res['config']:<13} {label:<24} {m['samples_per_s']:>10.0f} "
                f"{m['seconds']:>8.2f} {m['cpu_seconds']:>8.2f} {_mb(m['host_peak']):>12} "
                f"{_mb(m['host_growth']):>9} {_mb(m['device_peak']):>14}"
            )
    return "\n".join(lines)


def _ratio_cell(ratios, name):
    return f"{ratios[name]:>6.2f}" if name in ratios else f"{'-':>6}"


def format_ratios(results):
    names = ("a/b", "a/b'", "a/c")
    header = (f"{'config':<13} " + " ".join(f"{n:>6}" for n in names) + "   | cpu-time "
              + " ".join(f"{n:>6}" for n in names) + "   target")
    lines = [header, "-" * len(header)]
    for res in results:
        r = res["ratios"]
        target = ""
        if res["config"] == "mlp" and res["device"] == "cpu" and "a/b" in r:
            met = ["met" if r[k] >= 0.85 else "NOT met" for k in ("a/b", "a/b cpu")]
            target = f"a/b >= 0.85: {met[0]} (wall), {met[1]} (cpu)"
        lines.append(
            f"{res['config']:<13} " + " ".join(_ratio_cell(r, n) for n in names)
            + "   |          " + " ".join(_ratio_cell(r, n + " cpu") for n in names)
            + f"   {target}"
        )
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS),
                        help="configurations to time (default: all; CUDA-only ones are "
                        "skipped without CUDA)")
    parser.add_argument("--device", default="auto", help="'auto' (CUDA if available), 'cpu', "
                        "'cuda'")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS),
                        help="methods to time (default: all; the ratios need a). The "
                        "paper-structure loop c is by far the slowest")
    parser.add_argument("--epochs", type=int, help="timed epochs (default 2; 1 with --quick)")
    parser.add_argument("--n-samples", type=int, help="samples per configuration "
                        "(default: each configuration's own)")
    parser.add_argument("--repeats", type=int, help="timed runs of each method, best kept "
                        "(default 2; 1 with --quick)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads "
                        "(default 1: the benchmark machine is shared)")
    parser.add_argument("--quick", action="store_true", help="small sizes: < 2 min on a CPU")
    parser.add_argument("--memory-check", action="store_true", help="also run the host-memory "
                        "check on 50,000 uint8 3x32x32 images")
    parser.add_argument("--memory-steps", type=int, default=10,
                        help="training batches of the memory check (default 10)")
    parser.add_argument("--memory-batch-size", type=int, default=64)
    parser.add_argument("--no-throughput", action="store_true",
                        help="skip the throughput configurations (e.g. with --memory-check)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    device = _resolve_device(args.device)
    epochs = args.epochs or (1 if args.quick else 2)
    repeats = args.repeats or (1 if args.quick else 2)
    info = machine_info(device, args.threads)
    print(f"torch {info['torch']}, python {info['python']}, {info['cpu_count']} CPU cores, "
          f"{args.threads} torch thread(s), device {device}"
          + (f" ({info['cuda']})" if info["cuda"] else ""))
    if "load_average" in info:
        load = " ".join(f"{x:.2f}" for x in info["load_average"])
        print(f"load average {load}: shared machine, timings vary with the load")
    print(f"epochs {epochs}, repeats {repeats} (best time kept)")
    started = time.perf_counter()
    results, skipped = [], []
    for name in [] if args.no_throughput else args.configs:
        config = CONFIGS[name]
        if args.quick:
            config = dataclasses.replace(config, batch_size=config.quick_batch_size)
        if config.cuda_only and device.type != "cuda":
            skipped.append(name)
            print(f"[{name}] skipped: needs CUDA, and the device is {device}")
            continue
        n_samples = args.n_samples or (config.quick_samples if args.quick else config.n_samples)
        t0 = time.perf_counter()
        results.append(run_config(config, device, epochs, n_samples, repeats, args.methods))
        print(f"[{name}] {n_samples} samples x {epochs} epoch(s), batch {config.batch_size}: "
              f"{time.perf_counter() - t0:.0f} s")
        # Each configuration's rows as soon as they exist: a run stopped by a
        # time limit keeps what it measured.
        print(format_table(results[-1:], header=False), flush=True)
    if results:
        print()
        print(format_table(results))
        print()
        print("samples/s ratios, measured in this run (wall time; CPU time of the "
              "training thread as a load-robust cross-check):")
        print(format_ratios(results))
    memory = None
    if args.memory_check:
        memory = memory_check(device, args.memory_steps, args.memory_batch_size)
        print()
        shape = "x".join(map(str, memory["sample_shape"]))
        print(f"host-memory check: {memory['n_samples']} uint8 images {shape} "
              f"({_mb(memory['uint8_dataset_bytes'])} MB), cnn, {memory['steps']} batches "
              f"of {memory['batch_size']}")
        print(f"  peak host RSS growth during fit: {_mb(memory['host_rss_peak_growth'])} MB "
              f"(same fit on {2 * memory['batch_size']} images: "
              f"{_mb(memory['reference_growth_small_dataset'])} MB)")
        print(f"  float32 copy of the dataset:     {_mb(memory['float32_copy_bytes'])} MB; "
              f"limit {_mb(memory['limit_bytes'])} MB: "
              f"{'passed' if memory['passed'] else 'FAILED'}")
    elapsed = time.perf_counter() - started
    print(f"\ntotal time {elapsed:.0f} s")
    summary = {"machine": info, "epochs": epochs, "repeats": repeats, "results": results,
               "skipped": skipped, "memory_check": memory, "total_seconds": elapsed}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    if memory is not None and not memory["passed"]:
        raise SystemExit("host-memory check failed")
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
