"""Compare SepCLR settings on MNIST-on-grass images (CPU-sized exploration).

Usage: ``python benchmarks/image_variants.py [VARIANT ...] [--epochs N]``
(default: all variants, 100 epochs). Each variant fits ``encoder="cnn"`` on
700 background + 700 target 16 px images and prints the linear-probe balanced
accuracy of the digit from the salient (s->s) and common (c->s) features of
300 held-out targets, for the representations (``transform``) and the
projections (``project``, columns ``@proj``), and the background-collapse
ratio. Results are recorded in README.md.
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
    """Departures from the library's defaults (crops of 60-100 % of the image,
    ``salient_weight=1``, ``background_weight=10``, batch 256, lr 1e-3)."""
    return {
        "default": {},
        "paper_image_weights": dict(salient_weight=1000.0, background_weight=1000.0),
        "simclr_crop": dict(augmentation=ImageAugmentation(crop_scale=(0.2, 1.0))),
        "no_flip": dict(augmentation=ImageAugmentation(flip_prob=0.0)),
        "batch64": dict(batch_size=64),
        "lr3e-4": dict(lr=3e-4),
        "background100": dict(background_weight=100.0),
        "jem30": dict(jem_weight=30.0),
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
    parser.add_argument("--epochs", type=int, default=100)
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
            est, data.X_background[700:], data.X_target[test]
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
