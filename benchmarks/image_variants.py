"""Compare SepCLR settings on MNIST-on-grass images (CPU-sized exploration).

Usage: ``python benchmarks/image_variants.py [VARIANT ...] [--epochs N]
[--n-images N] [--image-size PX] [--device DEV]`` (default: all variants, 100
epochs, 1000 background + 1000 target images of 16 px, the library's device).
Each variant fits ``encoder="cnn"`` (unless the variant names another), with
no background blend (unless the variant sets one), on 70 %
of the background and of the target images and prints the linear-probe
balanced accuracy of the digit from the salient (s->s) and common (c->s)
features of the 30 % held-out targets, for the representations (``transform``) and the
projections (``project``, columns ``@proj``), and the background-collapse
ratio. Results are recorded in README.md.
"""

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import train_test_split

from sklearn_sepclr import ContrastivePCA, ImageAugmentation, SepCLRTransformer
from sklearn_sepclr.datasets import load_mnist_on_grass
from sklearn_sepclr.metrics import background_collapse_from_estimator, probe_scores

# The sibling helper module (a script's folder is first on sys.path).
from _common import cosine_schedule


class _DegradedViews(ImageAugmentation):
    """The library's views, then a Gaussian blur and/or pixel noise.

    A test of one explanation of the gap to cPCA: the grass texture of each
    crop identifies an image, and instance discrimination learns that easy
    feature instead of the digit (feature suppression). Blur and noise erase
    fine texture and keep the digit's shape. Per sample: with probability
    ``blur_prob`` a blur of width drawn in ``blur_sigma`` pixels, then noise
    of standard deviation ``noise_std``; vectorised over the batch.
    """

    def __init__(self, blur_prob=0.0, blur_sigma=(0.1, 1.0), noise_std=0.0):
        super().__init__()
        self.blur_prob = blur_prob
        self.blur_sigma = blur_sigma
        self.noise_std = noise_std

    def __call__(self, x, generator):
        x = super().__call__(x, generator)
        n, channels = x.shape[:2]
        options = dict(generator=generator, device=x.device, dtype=x.dtype)
        if self.blur_prob:
            low, high = self.blur_sigma
            sigma = low + (high - low) * torch.rand(n, **options)
            sigma = torch.where(torch.rand(n, **options) < self.blur_prob, sigma, 1e-3)
            radius = int(np.ceil(2 * high))
            t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
            kernel = torch.exp(-(t**2) / (2 * sigma[:, None] ** 2))
            kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(channels, 0)
            flat = x.reshape(1, n * channels, *x.shape[2:])
            flat = F.pad(flat, (radius, radius, radius, radius), mode="reflect")
            flat = F.conv2d(flat, kernel[:, None, None, :], groups=n * channels)
            flat = F.conv2d(flat, kernel[:, None, :, None], groups=n * channels)
            x = flat.reshape(x.shape)
        if self.noise_std:
            x = (x + self.noise_std * torch.randn(x.shape, **options)).clamp(0, 1)
        return x


#: The settings every variant starts from: the library's image defaults of
#: 22 Nov 2026, when README.md's table was measured (no background blend;
#: the epochs come from ``--epochs``). The ``blend`` variant is the blend
#: of the later image defaults.
_BASE = dict(encoder="cnn", background_mixing=0.0, random_state=0)


def _variants(epochs):
    """Departures from ``_BASE`` (crops of 60-100 % of the image,
    ``salient_weight=1``, ``background_weight=10``, batch 256, lr 1e-3, no
    weight decay, a constant learning rate, no background blend); ``epochs``
    sets the length of the cosine schedule."""
    return {
        "default": {},
        "blend": dict(background_mixing=0.5),
        "paper_image_weights": dict(salient_weight=1000.0, background_weight=1000.0),
        "simclr_crop": dict(augmentation=ImageAugmentation(crop_scale=(0.2, 1.0))),
        "no_flip": dict(augmentation=ImageAugmentation(flip_prob=0.0)),
        "batch64": dict(batch_size=64),
        "lr3e-4": dict(lr=3e-4),
        "background100": dict(background_weight=100.0),
        "jem30": dict(jem_weight=30.0),
        "resnet18": dict(encoder="resnet18"),
        "no_jitter": dict(augmentation=ImageAugmentation(jitter_prob=0.0)),
        "crop80": dict(augmentation=ImageAugmentation(crop_scale=(0.8, 1.0))),
        "tau0.2": dict(temperature=0.2),
        "tau1": dict(temperature=1.0),
        "uniformity1": dict(uniformity_weight=1.0),
        "no_geometry": dict(
            augmentation=ImageAugmentation(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0),
                                           flip_prob=0.0)
        ),
        "crop90_no_flip": dict(
            augmentation=ImageAugmentation(crop_scale=(0.9, 1.0), flip_prob=0.0)
        ),
        "blur": dict(augmentation=_DegradedViews(blur_prob=0.5)),
        "pixel_noise": dict(augmentation=_DegradedViews(noise_std=0.1)),
        "dims64": dict(n_common=64, n_salient=64),
        "jem100": dict(jem_weight=100.0),
        "cosine": dict(callbacks=[cosine_schedule(epochs)]),
        "weight_decay": dict(weight_decay=5e-4),
    }


def _cpca_row(data, digit, train, test, n_bg_train):
    """ContrastivePCA (32 components, alpha="auto") on the same split, flattened."""
    flat_bg = data.X_background[:n_bg_train].reshape(n_bg_train, -1).astype(np.float32)
    flat = data.X_target.reshape(len(data.X_target), -1).astype(np.float32)
    cpca = ContrastivePCA(n_components=32, alpha="auto").fit(flat_bg, flat[train])
    table = probe_scores(
        cpca.transform(flat[train]),
        {"digit": digit[train]},
        cpca.transform(flat[test]),
        {"digit": digit[test]},
    )
    score = float(table.score.iloc[0])
    print(f"{'contrastivepca':16s} s->s {score:.3f}", flush=True)
    return ("contrastivepca", score, float("nan"), float("nan"))


def main(argv=None):
    variants = _variants(epochs=100)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", choices=[[], *variants], default=list(variants))
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-images", type=int, default=1000,
                        help="background images, and as many target images")
    parser.add_argument("--image-size", type=int, default=16)
    parser.add_argument("--device", default="auto", help='"auto", "cpu" or "cuda"')
    args = parser.parse_args(argv)
    variants = _variants(args.epochs)
    torch.set_num_threads(args.threads)
    n = args.n_images
    data = load_mnist_on_grass(
        n_background=n, n_target=n, image_size=args.image_size, random_state=0
    )
    digit = data.target_attributes["digit"]
    train, test = train_test_split(np.arange(n), test_size=0.3, random_state=0, stratify=digit)
    n_bg_train = len(train)
    rows = [_cpca_row(data, digit, train, test, n_bg_train)]
    for name in args.variants:
        start = time.perf_counter()
        params = dict(_BASE, max_epochs=args.epochs, device=args.device)
        params.update(variants[name])
        est = SepCLRTransformer(**params).fit(
            data.X_background[:n_bg_train], data.X_target[train]
        )
        Z_train, Z_test = est.transform(data.X_target[train]), est.transform(data.X_target[test])
        P_train, P_test = est.project(data.X_target[train]), est.project(data.X_target[test])
        scores = {}
        for suffix, (A, B) in (("", (Z_train, Z_test)), ("@proj", (P_train, P_test))):
            for space, columns in (
                ("s->s", slice(est.n_common, None)),
                ("c->s", slice(est.n_common)),
            ):
                table = probe_scores(
                    A[:, columns], {"digit": digit[train]}, B[:, columns], {"digit": digit[test]}
                )
                scores[space + suffix] = float(table.score.iloc[0])
        collapse = background_collapse_from_estimator(
            est, data.X_background[n_bg_train:], data.X_target[test]
        )
        rows.append((name, scores["s->s"], scores["c->s"], collapse.ratio))
        printed = "  ".join(f"{key} {value:.3f}" for key, value in scores.items())
        print(
            f"{name:20s} {printed}  collapse {collapse.ratio:.3f}  "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    return rows


if __name__ == "__main__":
    main()
