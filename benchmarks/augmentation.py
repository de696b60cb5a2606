"""Throughput of the image augmentation: ours against kornia's equivalent.

Both run the SimCLR pipeline (random resized crop, horizontal flip, colour
jitter with p=0.8, random grayscale) on one batch on the CPU; kornia is
optional and skipped when it is not installed.

Usage: ``python benchmarks/augmentation.py [--batch-size 256] [--threads 1]``
"""

import argparse
import statistics
import time

import torch

from sklearn_sepclr._augment import ImageAugmentation


def _samples_per_second(pipelines, x, repeats):
    """Median samples/s of each pipeline, timed in turns so that a busy
    machine slows all of them alike."""
    times = {name: [] for name in pipelines}
    for _ in range(repeats + 1):
        for name, augment in pipelines.items():
            start = time.perf_counter()
            augment(x)
            times[name].append(time.perf_counter() - start)
    # The first call of each allocates and picks kernels: drop it.
    return {name: len(x) / statistics.median(t[1:]) for name, t in times.items()}


def _kornia_pipeline(shape):
    import kornia.augmentation as K

    n_channels, height, width = shape
    ops = [K.RandomResizedCrop((height, width), scale=(0.2, 1.0)), K.RandomHorizontalFlip()]
    if n_channels == 3:
        ops += [K.ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8), K.RandomGrayscale(p=0.2)]
    else:  # kornia's saturation and hue need RGB, as ours do
        ops += [K.ColorJitter(0.4, 0.4, p=0.8)]
    return torch.nn.Sequential(*ops)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    generator = torch.Generator().manual_seed(0)
    ours = ImageAugmentation()
    try:
        import kornia
    except ImportError:
        kornia = None
        print("kornia is not installed: timing ours only")
    for shape in [(3, 32, 32), (1, 28, 28)]:
        x = torch.rand(args.batch_size, *shape, generator=generator)
        pipelines = {"ours": lambda x: ours(x, generator)}
        if kornia is not None:
            pipelines[f"kornia {kornia.__version__}"] = _kornia_pipeline(shape)
        for name, rate in _samples_per_second(pipelines, x, args.repeats).items():
            print(f"{args.batch_size} x {shape}  {name:14} {rate:10,.0f} samples/s")


if __name__ == "__main__":
    main()
