"""Quality benchmark: linear-probe scores of SepCLR against cPCA, PCA and ablations.

For each dataset, every method is fitted on the same train split and probed on
the same test split with :mod:`sklearn_sepclr.metrics` (logistic regression,
balanced accuracy; linear regression, mean absolute error, for continuous
attributes). Salient attributes are probed on target samples only (the
background has none); common attributes on background and target samples.

Methods
-------
sepclr
    ``SepCLRTransformer`` with the library's defaults for the data type
    (``encoder="cnn"`` for images); only ``max_epochs`` (``--epochs``) and
    ``device`` are set, and ``batch_size`` is capped at the train size.
sepclr_no_jem
    The same with ``jem_weight=0``, ``representation_jem_weight=0`` and
    ``decorrelation_weight=0`` (both k-JEM terms and the decorrelation of
    the representations off: no term ties the two spaces together).
sepclr_plain
    Plain contrastive learning on one space: ``salient_weight=0,
    background_weight=0, background_spread_weight=0, jem_weight=0,
    representation_jem_weight=0, decorrelation_weight=0``, so
    only the common encoder is trained, with alignment + uniformity on all
    samples (SimCLR-style, as in Wang & Isola 2020, on the pooled data). Its
    common space is evaluated as the single representation (space
    ``"all"``), and in the ``@proj`` rows the common head's outputs alone.
sepclr_plain_target
    The same plain contrastive learning on the *target* training rows alone
    (no background images): instance discrimination with SepCLR's views and
    encoder where every image holds the salient attribute. A diagnostic, not
    a contrastive-analysis method: it says how much of the salient attribute
    self-supervision with these views reads without SepCLR's other terms, so
    that the distance from SepCLR to ``supervised`` can be split into what
    the views and self-supervision cost and what the objective costs or
    adds. The estimator needs both groups, so the target rows are labelled
    alternately background and target; with the salient, background and
    k-JEM terms off the labels only stratify the batches.
sepclr_untrained
    SepCLR's networks as ``sepclr`` builds them, left at their random
    initial weights: one epoch at a learning rate of ``1e-30`` (Adam's
    steps are at most about the learning rate, so no weight moves by more
    than that; batch norm still takes the training data's statistics). A
    diagnostic of what the leakage probes read before any training: how
    much of the salient attribute random features of the common space's
    width carry, and of the common attribute random features of the
    salient space's width, which the terms that tie the spaces must remove
    for the leakage targets to be met.
contrastivepca
    :class:`sklearn_sepclr.baselines.ContrastivePCA` with ``alpha="auto"``
    (standardised features for tabular data).
contrastive_pkg
    The PyPI ``contrastive`` package's ``CPCA`` (if installed) with the same
    number of components, ``alpha_selection="manual"`` and ``alpha_value``
    equal to ``ContrastivePCA``'s ``alpha_``, ``standardize`` as above. It is
    fitted on the train split (``fit(foreground, background)``); the features
    of *all* samples, train and test, come from one call of its
    ``transform`` on the stacked rows (one call, because ``transform`` flips
    the sign of each of the first two columns by the sign of the first row it
    is given, so separate calls can flip train and test differently). That
    ``transform`` projects raw data on directions found in the centred
    (and, with ``standardize=True``, per-group standardised) space: this is
    the package's held-out behaviour, kept as is. Complex eigenvectors from
    its ``numpy.linalg.eig`` are reduced to their real part. With more than
    1000 features the package would first reduce the data with PCA, after
    which ``transform`` cannot take raw data; we pass
    ``preprocess_with_pca_dim=n_features`` to keep it usable.
pca
    PCA on the pooled train data (standardised for tabular data).
supervised
    Not a contrastive-analysis method but a yardstick: SepCLR's salient
    encoder (``cnn`` for images, ``mlp`` for tabular data, or the
    ``--sepclr-param encoder=...``; ``n_salient`` outputs), plus a linear
    layer, trained with cross-entropy on the first categorical salient
    attribute of the labelled target training rows, with SepCLR's
    augmentation, epochs, learning rate and seed, and batches of 64 (more
    optimiser steps than SepCLR's, on a third of its rows). Its encoder
    output is probed as the single space ``"all"``. It tells how much of the
    salient attribute that encoder can read from this many training images
    when it is *told* the labels, which bounds what a self-supervised method
    with the same encoder can be expected to reach.

SepCLR's features are probed twice from the same fit: its representations
(``transform``, rows ``sepclr``, ...) and its projection-head outputs
(``project``, rows ``sepclr@proj``, ...), the space where the loss, and so
k-JEM's independence constraint and the background term, act.
``--features`` keeps one of the two.

The linear methods get as many dimensions as SepCLR's salient space: cPCA
``n_salient`` components (its only space is salient) and PCA twice that
(its one space holds both kinds of variation), capped at the number of
features; ``--linear-components`` overrides both. PCA's width does not
follow ``n_common``, so a narrower common space in SepCLR does not make
the PCA baseline weaker. Both cPCA implementations use
ContrastivePCA's ``alpha="auto"`` rule; ``--cpca-alpha`` fixes another.

Five experiment switches change SepCLR itself, for every SepCLR variant
(``--cnn-widths``, ``--cnn-strides`` and ``--augmentation-param`` also for
the yardstick).
``--augmentation-param KEY=VALUE`` (repeatable) builds the image views from
``ImageAugmentation(KEY=VALUE, ...)``, the library's values elsewhere (no
effect on tabular data). ``--cnn-widths`` sets
the channels of the blocks of the ``cnn`` encoder (default 32 64 128
256, then 256 for each block an image larger than 17 px adds) and
``--cnn-strides`` their strides (default 1 2 2 ...); either one alone
fixes the number of blocks.
``--jem-bandwidth`` trains with another kernel width in the k-JEM
term only (``shared``, the default, is the library's objective: k-JEM uses
the ``temperature`` of every other term; a number is k-JEM's own ``tau``;
``median-salient`` divides the salient squared distances by their median in
the batch, and ``median`` does so in both spaces; the medians are taken
without gradient). ``--lr-schedule cosine`` decays the learning rate to 0
on a cosine over ``max_epochs`` (``constant``, the default, is the
library's). They answer "is the encoder too small", "does k-JEM see the
dependence at the salient codes' scale" and "does the optimiser need the
decay that self-supervised recipes use", and how strong the views should
be; see benchmarks/README.md.

Run ``python benchmarks/quality.py --help``; ``--quick`` runs on a 2-core
CPU in under 10 minutes.
"""

import argparse
import contextlib
import functools
import json
import math
import os
import sys
import time
import warnings

import numpy as np

# The sibling helper modules (a script's folder is first on sys.path).
from _common import cosine_schedule, machine_info
from _variants import SEPCLR_VARIANTS, VARIANTS

DATASETS = ("blobs", "mice", "mnist_grass", "textures", "dsprites")
METHODS = (
    "sepclr",
    "sepclr_no_jem",
    "sepclr_plain",
    "sepclr_plain_target",
    "sepclr_untrained",
    "contrastivepca",
    "contrastive_pkg",
    "pca",
    "supervised",
)
#: Diagnostics, fitted only when named in ``--methods``.
DIAGNOSTICS = ("sepclr_plain_target", "sepclr_untrained")
#: What a run without ``--methods`` fits: every method but the diagnostics.
DEFAULT_METHODS = tuple(m for m in METHODS if m not in DIAGNOSTICS)
#: Sizes of ``--quick``: small images and few image epochs, so all five
#: datasets run in under 10 minutes on a 2-core CPU. ``None`` epochs mean
#: the library default ``max_epochs``.
QUICK = {"n_samples": 600, "epochs": None, "image_epochs": 6, "image_size": 16}
FULL = {"n_samples": 5000, "epochs": None, "image_epochs": None, "image_size": None}


# -- datasets -----------------------------------------------------------------
class _Split:
    """Train/test rows of a dataset, as (X, group, attributes) per split."""

    def __init__(self, name, is_image, X, is_target, attributes, common, salient, train):
        self.name = name
        self.is_image = is_image
        self.common = list(common)
        self.salient = list(salient)
        test = ~train
        self.X_train, self.X_test = X[train], X[test]
        self.target_train, self.target_test = is_target[train], is_target[test]
        self.attr_train = {k: v[train] for k, v in attributes.items()}
        self.attr_test = {k: v[test] for k, v in attributes.items()}

    @property
    def n_features(self):
        return int(np.prod(self.X_train.shape[1:]))

    def flat(self, X):
        """Rows of float32 features for the linear methods."""
        X = X.reshape(len(X), -1)
        return (X.astype(np.float32) / 255.0) if self.is_image else X


def _stack_attributes(data):
    """Attributes of the stacked rows [background; target]; missing -> None/NaN."""
    n_bg, n_tg = len(data.X_background), len(data.X_target)
    out = {}
    for name in data.common_attributes + data.salient_attributes:
        tg = np.asarray(data.target_attributes[name])
        bg = data.background_attributes.get(name)
        if np.issubdtype(tg.dtype, np.floating):
            bg = np.full(n_bg, np.nan) if bg is None else np.asarray(bg, dtype=np.float64)
            out[name] = np.concatenate([bg, tg.astype(np.float64)])
        else:  # categorical: object dtype with None, so the probe stays a classifier
            column = np.empty(n_bg + n_tg, dtype=object)
            column[:n_bg] = None if bg is None else list(np.asarray(bg).tolist())
            column[n_bg:] = tg.tolist()
            out[name] = column
    return out


def load_dataset(name, n_samples, image_size, seed, test_fraction=0.3):
    """The dataset ``name`` split into train and test rows."""
    from sklearn_sepclr import datasets

    rng = np.random.RandomState(seed)
    n = n_samples // 2
    image_kw = {} if image_size is None else {"image_size": image_size}
    if name == "blobs":
        data = datasets.make_contrastive_blobs(n_background=n, n_target=n, random_state=seed)
    elif name == "mice":
        data = datasets.load_mice_protein()
    elif name == "mnist_grass":
        data = datasets.load_mnist_on_grass(n, n, random_state=seed, **image_kw)
    elif name == "textures":
        data = datasets.load_textures_mnist(n, n, random_state=seed, **image_kw)
    elif name == "dsprites":
        data = datasets.make_dsprites_grid(n, n, random_state=seed, **image_kw)
    else:
        raise ValueError(f"Unknown dataset {name!r}; choose among {DATASETS}.")
    X = np.concatenate([data.X_background, data.X_target])
    n_bg = len(data.X_background)
    is_target = np.arange(len(X)) >= n_bg
    if name == "mice":
        # Split by mouse (15 measurements each), stratified by group and
        # genotype, so the probe cannot recognise mice it has seen.
        mouse = np.concatenate([data.background_mouse, data.target_mouse])
        genotype = np.concatenate(
            [np.full(n_bg, -1), data.target_attributes["genotype"]]
        )
        train = np.zeros(len(X), dtype=bool)
        for stratum in np.unique(genotype):
            mice = np.unique(mouse[genotype == stratum])
            rng.shuffle(mice)
            n_test = max(1, round(test_fraction * len(mice)))
            train |= np.isin(mouse, mice[n_test:]) & (genotype == stratum)
    else:
        train = np.zeros(len(X), dtype=bool)
        for group in (False, True):
            rows = rng.permutation(np.flatnonzero(is_target == group))
            train[rows[round(test_fraction * len(rows)) :]] = True
    return _Split(
        name,
        X.ndim == 4,
        X,
        is_target,
        _stack_attributes(data),
        data.common_attributes,
        data.salient_attributes,
        train,
    )


# -- methods ------------------------------------------------------------------
class _PackageCPCA:
    """The PyPI ``contrastive`` package's CPCA, wrapped as described above."""

    def __init__(self, n_components, alpha, standardize):
        self.n_components = n_components
        self.alpha = alpha
        self.standardize = standardize

    def fit(self, background, target):
        from contrastive import CPCA

        self.model_ = CPCA(n_components=self.n_components, standardize=self.standardize)
        n_features = background.shape[1]
        self.model_.fit(target, background, preprocess_with_pca_dim=max(1000, n_features))
        return self

    def transform(self, X):
        # The package reads alpha_value=0 as "not given" and raises; the
        # smallest positive float gives the same contrastive covariance.
        alpha = self.alpha or np.nextafter(0.0, 1.0)
        Z = self.model_.transform(X, alpha_selection="manual", alpha_value=alpha)
        return np.real(Z)


def _cnn_encoder(args):
    """The ``cnn`` encoder that ``--cnn-widths`` and ``--cnn-strides`` ask
    for, as a callable ``encoder``; ``None`` when neither is given."""
    if not (args.cnn_widths or args.cnn_strides):
        return None
    from sklearn_sepclr._modules import _ConvEncoder

    cnn = {}
    if args.cnn_widths:
        cnn["widths"] = tuple(args.cnn_widths)
    if args.cnn_strides:
        cnn["strides"] = tuple(args.cnn_strides)
    return functools.partial(_ConvEncoder, **cnn)


def _sepclr(split, variant, args):
    from sklearn_sepclr import SepCLRTransformer

    params = {"device": args.device, "random_state": args.seed}
    epochs = args.image_epochs if split.is_image else args.epochs
    if epochs is not None:
        params["max_epochs"] = epochs
    if split.is_image:
        params["encoder"] = _cnn_encoder(args) or "cnn"
    default_batch = SepCLRTransformer().batch_size
    if len(split.X_train) < default_batch:
        params["batch_size"] = len(split.X_train)
    if split.is_image and args.augmentation_params:
        from sklearn_sepclr import ImageAugmentation

        params["augmentation"] = ImageAugmentation(**args.augmentation_params)
    params.update(args.sepclr_params)
    # After --sepclr-param: a variant sets what it changes (an ablation's terms
    # off, the untrained networks' epoch and rate), whatever the full model's.
    params.update(VARIANTS.get(variant, {}))
    est = SepCLRTransformer(**params)
    if args.lr_schedule == "cosine":
        # Over the estimator's resolved max_epochs: set here, by
        # --sepclr-param, or the library's default for the data type.
        epochs = _resolved_epochs(est, split.is_image)
        est.set_params(callbacks=[*(est.callbacks or []), cosine_schedule(epochs)])
    return est


def _resolved_epochs(est, is_image):
    """``est.max_epochs``, with the library's ``"auto"`` resolved for images
    or tabular data (before fit, which resolves it the same way)."""
    from sklearn_sepclr._transformer import _resolve_auto

    return _resolve_auto("max_epochs", est.max_epochs, is_image)


def _fit_method(method, split, args, cache):
    """Fit one method on the train split; return (features_train, features_test,
    spaces, estimator)."""
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_sepclr.baselines import ContrastivePCA

    reference = _sepclr(split, "full", args)
    n_salient = reference.n_salient
    k_cpca = min(args.linear_components or n_salient, split.n_features)
    k_pca = min(args.linear_components or 2 * n_salient, split.n_features)
    standardize = not split.is_image
    g_train = split.target_train
    if method.startswith("sepclr"):
        variant = SEPCLR_VARIANTS[method]
        est = _sepclr(split, variant, args)
        X_fit, groups = split.X_train, g_train.astype(int)
        if method == "sepclr_plain_target":
            # Targets only; alternate labels, which only stratify the batches here.
            X_fit = X_fit[g_train]
            groups = np.arange(len(X_fit)) % 2
        with _jem_bandwidth(args.jem_bandwidth):
            est.fit(X_fit, groups)
        Z_train, Z_test = est.transform(split.X_train), est.transform(split.X_test)
        if variant == "plain":
            # The common space alone, in the representations (output="common")
            # and in the projections (project returns both heads; the salient
            # one never trained here).
            spaces = {"all": slice(0, est.n_common)}
        else:
            spaces = {
                "common": slice(0, est.n_common),
                "salient": slice(est.n_common, est.n_common + est.n_salient),
            }
        return Z_train, Z_test, spaces, est
    X_train, X_test = split.flat(split.X_train), split.flat(split.X_test)

    def contrastive_pca():
        # Ours, fitted; the package's cPCA takes its alpha_ (--cpca-alpha or auto).
        est = ContrastivePCA(k_cpca, alpha=args.cpca_alpha, standardize=standardize)
        return est.fit(X_train[~g_train], X_train[g_train])

    if method == "contrastivepca":
        est = contrastive_pca()
        cache["alpha"] = est.alpha_
        return est.transform(X_train), est.transform(X_test), {"salient": slice(None)}, est
    if method == "contrastive_pkg":
        if "alpha" not in cache:
            cache["alpha"] = contrastive_pca().alpha_
        est = _PackageCPCA(max(2, k_cpca), cache["alpha"], standardize)
        est.fit(X_train[~g_train], X_train[g_train])
        Z = est.transform(np.concatenate([X_train, X_test]).astype(np.float64))
        return Z[: len(X_train)], Z[len(X_train) :], {"salient": slice(None)}, est
    if method == "supervised":
        return (*_supervised(split, reference, args), {"all": slice(None)}, None)
    if method == "pca":
        steps = [StandardScaler()] if standardize else []
        est = make_pipeline(*steps, PCA(k_pca, random_state=args.seed))
        est.fit(X_train)
        return est.transform(X_train), est.transform(X_test), {"all": slice(None)}, est
    raise ValueError(f"Unknown method {method!r}; choose among {METHODS}.")


@contextlib.contextmanager
def _jem_bandwidth(bandwidth):
    """Train with k-JEM's kernel width changed (``--jem-bandwidth``).

    ``shared`` leaves the library's objective alone. Otherwise
    ``sklearn_sepclr.losses.joint_entropy``, which ``sepclr_loss`` calls, is
    swapped while the block runs for the same estimator,
    ``mean_i log mean_j exp(-dc_ij / wc - ds_ij / ws)`` on squared distances,
    with other widths: ``wc = ws = 2 * tau`` for a number ``tau``; the batch
    median of the off-diagonal ``ds`` for ``ws`` (``median-salient``), and of
    ``dc`` for ``wc`` too (``median``). The library divides both by
    ``2 * temperature``.
    """
    if bandwidth == "shared":
        yield
        return
    import torch

    from sklearn_sepclr import losses

    # Spaces whose width is the batch median; the others use k-JEM's own tau
    # (a number) or, for the median modes, the shared temperature.
    median_spaces = {"median-salient": ("salient",), "median": ("common", "salient")}
    median_spaces = median_spaces.get(bandwidth, ())
    own_tau = None if median_spaces else float(bandwidth)

    def width(distances, space, temperature):
        if space in median_spaces:
            off_diagonal = ~torch.eye(len(distances), dtype=torch.bool, device=distances.device)
            return distances[off_diagonal].median().detach().clamp_min(1e-6)
        return 2.0 * (temperature if own_tau is None else own_tau)

    def joint_entropy(common, salient, *, temperature=0.5):
        log_kernel = sum(
            -d / width(d, space, temperature)
            for space, d in (
                ("common", losses._squared_distances(common)),
                ("salient", losses._squared_distances(salient)),
            )
        )
        return (torch.logsumexp(log_kernel, dim=1) - math.log(common.shape[0])).mean()

    original = losses.joint_entropy
    losses.joint_entropy = joint_entropy
    try:
        yield
    finally:
        losses.joint_entropy = original


def _jem_bandwidth_arg(value):
    if value in ("shared", "median-salient", "median"):
        return value
    try:
        if float(value) > 0:
            return value
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"--jem-bandwidth must be shared, median-salient, median or a positive number; "
        f"got {value!r}"
    )


#: Batch size of the ``supervised`` yardstick: a usual supervised batch, which
#: gives it more optimiser steps than SepCLR's 256 on its one-third of the rows.
_SUPERVISED_BATCH = 64


def _supervised(split, reference, args):
    """Train ``supervised`` (see the module docstring); return the encoder's
    features of the train and test rows."""
    import torch
    from torch import nn

    from sklearn_sepclr._augment import _resolve_augmentation
    from sklearn_sepclr._modules import _build_encoder
    from sklearn_sepclr._net import _to_model_input
    from sklearn_sepclr._transformer import _forked_torch_rng, _resolve_device

    name = next(k for k in split.salient if split.attr_train[k].dtype == object)
    rows = split.target_train
    _, labels = np.unique(np.asarray(split.attr_train[name][rows].tolist()), return_inverse=True)
    device = _resolve_device(args.device)

    def as_float(X):
        # As SepCLR's trainer does: uint8 images become [0, 1] floats on the device.
        return _to_model_input(torch.as_tensor(X), device, non_blocking=False)

    X = torch.as_tensor(split.X_train[rows], device=device)
    y = torch.as_tensor(labels, device=device)
    epochs = args.image_epochs if split.is_image else args.epochs
    epochs = _resolved_epochs(reference, split.is_image) if epochs is None else epochs
    batch = min(_SUPERVISED_BATCH, len(X))
    with _forked_torch_rng(args.seed, device):
        generator = torch.Generator(device=device).manual_seed(args.seed)
        encoder = _build_encoder(
            reference.encoder, split.X_train.shape[1:],
            reference.n_salient, reference.hidden_layer_sizes,
        )
        model = nn.Sequential(encoder, nn.Linear(reference.n_salient, int(y.max()) + 1))
        model.to(device)
        augment = _resolve_augmentation(reference.augmentation, split.is_image)
        if hasattr(augment, "fit"):
            augment.fit(as_float(split.X_train))
        optimizer = torch.optim.Adam(model.parameters(), lr=reference.lr)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(X), generator=generator, device=device)
            for start in range(0, len(X) - batch + 1, batch):
                index = order[start : start + batch]
                loss = nn.functional.cross_entropy(
                    model(augment(as_float(X[index]), generator)), y[index]
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            return tuple(
                torch.cat([encoder(as_float(part)) for part in torch.as_tensor(Z).split(1024)])
                .cpu().numpy()
                for Z in (split.X_train, split.X_test)
            )


# -- evaluation ---------------------------------------------------------------
def _evaluate(split, Z_train, Z_test, spaces, seed):
    from sklearn_sepclr.metrics import kmeans_ari, probe_scores

    t = split.target_train, split.target_test
    rows = []
    for kind, names in (("salient", split.salient), ("common", split.common)):
        if not names:
            continue
        # Salient attributes: target rows only (the background has none).
        mask = t if kind == "salient" else (slice(None), slice(None))
        table = probe_scores(
            Z_train[mask[0]],
            {k: split.attr_train[k][mask[0]] for k in names},
            Z_test[mask[1]],
            {k: split.attr_test[k][mask[1]] for k in names},
            spaces=spaces,
        )
        table.insert(2, "kind", kind)
        rows.append(table)
    import pandas as pd

    table = pd.concat(rows, ignore_index=True)
    extra = {}
    salient_space = spaces.get("salient", spaces.get("all"))
    first = next(
        (k for k in split.salient if split.attr_test[k].dtype == object), None
    )
    if first is not None:
        labels = np.asarray(split.attr_test[first][split.target_test].tolist())
        extra["kmeans_ari"] = kmeans_ari(
            Z_test[split.target_test][:, salient_space], labels, random_state=seed
        )
    return table, extra


def _collapse(method, split, est):
    """Background-collapse ratio of a SepCLR fit with a salient space, on the
    test split (a property of the fit, whatever features are probed)."""
    from sklearn_sepclr.metrics import background_collapse_from_estimator

    if method not in ("sepclr", "sepclr_no_jem"):
        return {}
    collapse = background_collapse_from_estimator(
        est, split.X_test[~split.target_test], split.X_test[split.target_test]
    )
    return {"collapse_ratio": collapse.ratio}


def run_one(name, method, split, args, cache):
    """Fit and evaluate one method on one dataset; return its result dicts
    (two for SepCLR with ``--features both``: representation and projection)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        Z_train, Z_test, spaces, est = _fit_method(method, split, args, cache)
    fit_time = time.perf_counter() - start
    sepclr = method.startswith("sepclr")
    feature_sets = []
    if not sepclr or args.features != "projection":
        feature_sets.append((method, Z_train, Z_test))
    if sepclr and args.features != "representation":
        feature_sets.append(
            (f"{method}@proj", est.project(split.X_train), est.project(split.X_test))
        )
    collapse = _collapse(method, split, est)
    results = []
    for label, Z_train, Z_test in feature_sets:
        table, extra = _evaluate(split, Z_train, Z_test, spaces, args.seed)
        table.insert(0, "method", label)
        table.insert(0, "dataset", name)
        results.append({"dataset": name, "method": label, "fit_time_s": fit_time, **extra,
                        **collapse, "probes": table})
    return results


def summarize(results):
    """One row per dataset and method: the four probe directions (mean balanced
    accuracy over classification attributes, with chance), k-means ARI,
    collapse ratio and fit time."""
    import pandas as pd

    rows = []
    for r in results:
        t = r["probes"]
        t = t[t.metric == "balanced_accuracy"]
        row = {"dataset": r["dataset"], "method": r["method"]}
        for src in ("salient", "common"):
            for kind in ("salient", "common"):
                space = src if src in set(t.space) else "all"
                if src == "common" and space == "all" and "salient" in set(t.space):
                    continue  # cPCA has no common space
                sel = t[(t.space == space) & (t.kind == kind)]
                if space not in set(t.space) or sel.empty:
                    continue
                key = f"{src[0]}->{kind[0]}" if space != "all" else f"all->{kind[0]}"
                row[key] = sel.score.mean()
                row[f"chance_{kind[0]}"] = sel.chance.mean()
        row["kmeans_ari"] = r.get("kmeans_ari", np.nan)
        row["collapse"] = r.get("collapse_ratio", np.nan)
        row["fit_s"] = r["fit_time_s"]
        rows.append(row)
    frame = pd.DataFrame(rows)
    order = ["dataset", "method", "s->s", "c->s", "c->c", "s->c", "all->s", "all->c",
             "chance_s", "chance_c", "kmeans_ari", "collapse", "fit_s"]
    return frame[[c for c in order if c in frame.columns]]


class _ParamsAction(argparse.Action):
    """A repeatable ``KEY=VALUE`` option gathered into a dict (the default:
    empty). Values are read as JSON (lists become tuples), else kept as
    strings."""

    def __call__(self, parser, namespace, pair, option_string=None):
        key, _, value = pair.partition("=")
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
        if isinstance(value, list):
            value = tuple(value)
        # A new dict each time: the default one is shared by every parse.
        setattr(namespace, self.dest, {**getattr(namespace, self.dest), key: value})


def _cpca_alpha_arg(value):
    """``--cpca-alpha``: "auto" or a finite float >= 0."""
    if value == "auto":
        return value
    try:
        alpha = float(value)
        if np.isfinite(alpha) and alpha >= 0:
            return alpha
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected 'auto' or a finite number >= 0, got {value!r}")


def build_parser():
    parser = argparse.ArgumentParser(
        description="Probe-quality benchmark of SepCLR against cPCA, PCA and ablations."
    )
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS), choices=METHODS,
                        help="default: all but the diagnostics " + ", ".join(DIAGNOSTICS))
    parser.add_argument("--quick", action="store_true",
                        help=f"small CPU run (< 10 min on 2 cores): {QUICK}")
    parser.add_argument("--n-samples", type=int,
                        help="background + target samples of the synthetic and image "
                        "datasets (mice: always all 405)")
    parser.add_argument("--epochs", type=int,
                        help="SepCLR max_epochs on tabular data (default: the library's)")
    parser.add_argument("--image-epochs", type=int,
                        help="SepCLR max_epochs on images (default: --epochs; --quick: 6)")
    parser.add_argument("--image-size", type=int,
                        help="side of the images (default: each loader's)")
    parser.add_argument("--linear-components", type=int,
                        help="components of cPCA and PCA (default: n_salient and twice "
                        "n_salient of SepCLR)")
    parser.add_argument("--cpca-alpha", type=_cpca_alpha_arg, default="auto",
                        help="alpha of both cPCA implementations: auto (the default, "
                        "ContrastivePCA's rule) or a finite number >= 0")
    parser.add_argument("--sepclr-param", dest="sepclr_params", action=_ParamsAction,
                        default={}, metavar="KEY=VALUE",
                        help="extra SepCLRTransformer parameter for all SepCLR variants "
                        "(JSON value), e.g. --sepclr-param lr=3e-4; repeatable")
    parser.add_argument("--augmentation-param", dest="augmentation_params",
                        action=_ParamsAction, default={}, metavar="KEY=VALUE",
                        help="ImageAugmentation parameter for the SepCLR variants on images "
                        "(JSON value; the others keep the library's), e.g. "
                        "--augmentation-param brightness=0.8; repeatable")
    parser.add_argument("--cnn-widths", type=int, nargs="+", metavar="W",
                        help="channels of the blocks of the image encoder, one number "
                        "per block (default: the library's 32 64 128 256, and 256 for "
                        "each block larger images add)")
    parser.add_argument("--cnn-strides", type=int, nargs="+", metavar="S",
                        help="stride of each block of the image encoder, as many as "
                        "blocks (default: 1 for the first block, 2 for the others)")
    parser.add_argument("--jem-bandwidth", type=_jem_bandwidth_arg, default="shared",
                        help="kernel width of the k-JEM term only: shared (the library's "
                        "objective, the temperature of every term), a number (k-JEM's own "
                        "tau), median-salient or median (squared distances divided by "
                        "their batch median in the salient space, or in both spaces)")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                        help="learning rate of every SepCLR variant: constant (the "
                        "library's) or decayed to 0 on a cosine over max_epochs")
    parser.add_argument("--features", choices=("representation", "projection", "both"),
                        default="both",
                        help="SepCLR features probed: the encoders' outputs (`transform`), "
                        "the projection heads' outputs (`project`, the space the loss and "
                        "its k-JEM term act on; rows METHOD@proj), or both (default)")
    parser.add_argument("--standardize", action="store_true",
                        help="standardise tabular features on the train rows before every "
                        "method (ContrastivePCA and PCA standardise them anyway and do not "
                        "change; SepCLR, supervised and contrastive_pkg, whose transform "
                        "projects the raw rows, do)")
    parser.add_argument("--device", default="auto", help='SepCLR device ("auto", "cpu", "cuda")')
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the results to this JSON file")
    parser.add_argument("--full-tables", action="store_true",
                        help="also print every probe (space x attribute) per method")
    return parser


def library_defaults():
    """SepCLRTransformer's defaults in this checkout, ``"auto"`` spelled out.

    Recorded with each run, so that runs made before and after a change of
    the library's defaults are not pooled as one setting (``targets.py``).
    """
    from sklearn_sepclr import SepCLRTransformer
    from sklearn_sepclr._transformer import _AUTO_DEFAULTS

    params = SepCLRTransformer().get_params()
    plain = (bool, int, float, str, tuple, type(None))
    return {
        "params": {k: v for k, v in params.items() if isinstance(v, plain)},
        "auto": _AUTO_DEFAULTS,
    }


def main(argv=None):
    """Run the benchmark; return the summary DataFrame."""
    import pandas as pd
    import torch

    parser = build_parser()
    args = parser.parse_args(argv)
    encoder = _cnn_encoder(args)
    if encoder is not None:
        # Build it once now, so that the encoder's own checks reject bad
        # options before the baselines run rather than at the first SepCLR fit.
        try:
            encoder((1, 8, 8), 1)
        except ValueError as exc:
            parser.error(str(exc))
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.image_epochs is None:
        args.image_epochs = args.epochs
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# quality benchmark: {vars(args)}")
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs, cuda={torch.cuda.is_available()}")
    results = []
    total = time.perf_counter()
    for name in args.datasets:
        split = load_dataset(name, args.n_samples, args.image_size, args.seed)
        if args.standardize and not split.is_image:
            from sklearn.preprocessing import StandardScaler

            scaler = StandardScaler().fit(split.X_train)
            split.X_train, split.X_test = map(scaler.transform, (split.X_train, split.X_test))
        print(f"\n## {name}: {len(split.X_train)} train / {len(split.X_test)} test rows, "
              f"sample shape {split.X_train.shape[1:]}")
        cache = {}
        for method in args.methods:
            if method == "contrastive_pkg":
                try:
                    import contrastive  # noqa: F401
                except ImportError:
                    print("contrastive_pkg: skipped (pip install contrastive)")
                    continue
            method_results = run_one(name, method, split, args, cache)
            results.extend(method_results)
            if args.full_tables:
                for result in method_results:
                    print(result["probes"].round(3).to_string(index=False))
            print(f"{method}: fitted in {method_results[0]['fit_time_s']:.1f} s", flush=True)
        summary = summarize([r for r in results if r["dataset"] == name])
        print(summary.round(3).to_string(index=False), flush=True)
    summary = summarize(results)
    print("\n## summary (balanced accuracy; s=salient, c=common, all=single space)")
    with pd.option_context("display.width", 200):
        print(summary.round(3).to_string(index=False))
    print(f"\ntotal time: {time.perf_counter() - total:.0f} s")
    if args.json:
        from sklearn_sepclr._transformer import _resolve_device

        payload = {
            "args": {k: v for k, v in vars(args).items()},
            "machine": machine_info(_resolve_device(args.device), torch.get_num_threads()),
            "sepclr_defaults": library_defaults(),
            "summary": summary.to_dict(orient="records"),
            "results": [
                {**{k: v for k, v in r.items() if k != "probes"},
                 "probes": r["probes"].to_dict(orient="records")}
                for r in results
            ],
        }
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(payload, file, indent=1, default=str)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
