"""Compare SepCLR settings on MNIST-on-grass images (CPU-sized exploration).

Usage: ``python benchmarks/image_variants.py [VARIANT ...]`` (default: all).
Each variant fits ``encoder="cnn"`` for 30 epochs on 700 background + 700
target 16 px images and prints linear-probe balanced accuracy of the digit
from the salient (s->s) and common (c->s) features of 300 held-out targets,
and the background-collapse ratio. Results are recorded in README.md.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from sklearn_sepclr import ContrastivePCA, ImageAugmentation, SepCLRTransformer
from sklearn_sepclr.datasets import load_mnist_on_grass
from sklearn_sepclr.metrics import background_collapse_from_estimator, probe_scores


def _variants():
    crop = {s: ImageAugmentation(crop_scale=(s, 1.0)) for s in (0.6, 0.8)}
    noflip = ImageAugmentation(crop_scale=(0.6, 1.0), flip_prob=0.0)
    return {
        "default": {},
        "crop06": dict(augmentation=crop[0.6]),
        "crop06_w1_10": dict(augmentation=crop[0.6], salient_weight=1.0, background_weight=10.0),
        "crop08_w1_100": dict(augmentation=crop[0.8], salient_weight=1.0, background_weight=100.0),
        "crop06_w10_100": dict(
            augmentation=crop[0.6], salient_weight=10.0, background_weight=100.0
        ),
        "crop06_noflip_w1_10": dict(
            augmentation=noflip, salient_weight=1.0, background_weight=10.0
        ),
        "crop06_w1_10_lr3e-4": dict(
            augmentation=crop[0.6], salient_weight=1.0, background_weight=10.0, lr=3e-4
        ),
    }


def _cpca_row(data, digit, train, test):
    """ContrastivePCA (32 components, alpha="auto") on the same split, flattened."""
    flat_bg = data.X_background[:700].reshape(700, -1).astype(np.float32)
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
    variants = _variants()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", choices=[[], *variants], default=list(variants))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_mnist_on_grass(n_background=1000, n_target=1000, image_size=16, random_state=0)
    digit = data.target_attributes["digit"]
    train, test = train_test_split(np.arange(1000), test_size=0.3, random_state=0, stratify=digit)
    rows = [_cpca_row(data, digit, train, test)]
    for name in args.variants:
        start = time.perf_counter()
        est = SepCLRTransformer(
            encoder="cnn", max_epochs=args.epochs, random_state=0, **variants[name]
        ).fit(data.X_background[:700], data.X_target[train])
        Z_train, Z_test = est.transform(data.X_target[train]), est.transform(data.X_target[test])
        scores = {}
        for space, columns in (("s->s", slice(est.n_common, None)), ("c->s", slice(est.n_common))):
            table = probe_scores(
                Z_train[:, columns],
                {"digit": digit[train]},
                Z_test[:, columns],
                {"digit": digit[test]},
            )
            scores[space] = float(table.score.iloc[0])
        collapse = background_collapse_from_estimator(
            est, data.X_background[700:], data.X_target[test]
        )
        rows.append((name, scores["s->s"], scores["c->s"], collapse.ratio))
        print(
            f"{name:16s} s->s {scores['s->s']:.3f}  c->s {scores['c->s']:.3f}  "
            f"collapse {collapse.ratio:.3f}  ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    return rows


if __name__ == "__main__":
    main()
