"""SepCLRTransformer: contrastive analysis with SepCLR as a scikit-learn transformer."""

import copy
import os
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from torch import nn

from ._augment import _resolve_augmentation
from ._distributed import (
    _broadcast_object,
    _distributed_device,
    _is_main_process,
    _resolve_distributed,
)
from ._modules import _build_encoder, _SepCLRModule
from ._net import TrainingDivergedError, _GroupDataset, _GroupSplit, _SepCLRCriterion, _SepCLRNet
from ._persist import _header, _new_run_dir, _PeriodicCheckpoint, _read, _write
from ._version import __version__
from .losses import (
    DECORRELATION_ENCODERS,
    REPRESENTATION_JEM_ENCODERS,
    SALIENT_UNIFORMITY_MODES,
)
from .utils import _fit_groups, _GroupedFitMixin, _is_dataframe, _shape, _split_fit_inputs

_FITTED_ATTRIBUTES = (
    "net_",
    "checkpoint_path_",
    "history_",
    "device_",
    "background_label_",
    "input_shape_",
    "n_features_in_",
    "feature_names_in_",
)

#: What ``"auto"`` means for ``max_epochs``, ``background_mixing``,
#: ``background_weight``, ``representation_jem_encoder``,
#: ``decorrelation_weight`` and ``background_spread_weight``, by the kind of
#: data the estimator is fitted on (see their docstrings and
#: ``benchmarks/README.md``, "Image defaults of 23 Nov 2026", "A heavier
#: background term on tabular data", "The representations' k-JEM term",
#: "Decorrelating the common representations" and "The background's spread
#: on every image set at full size").
_AUTO_DEFAULTS = {
    "max_epochs": {"tabular": 100, "image": 300},
    "background_mixing": {"tabular": 0.0, "image": 0.5},
    "background_weight": {"tabular": 30.0, "image": 10.0},
    "representation_jem_encoder": {"tabular": "common", "image": "salient"},
    "decorrelation_weight": {"tabular": 10.0, "image": 0.0},
    "background_spread_weight": {"tabular": 0.0, "image": 1.0},
}


def _resolve_auto(name, value, is_image):
    """``value`` of parameter ``name``, with ``"auto"`` replaced by what it
    stands for on this kind of data (images or tabular)."""
    if isinstance(value, str) and value == "auto":
        return _AUTO_DEFAULTS[name]["image" if is_image else "tabular"]
    return value


class SepCLRTransformer(_GroupedFitMixin, TransformerMixin, BaseEstimator):
    """Separate common from salient features with SepCLR.

    Contrastive analysis compares a *target* dataset (patients, treated
    cells, images with an object) with a *background* dataset (healthy
    controls, untreated cells, plain images). SepCLR (Louiset et al., ICLR
    2024) learns two representations with two separate encoders:

    * **common** features, the variation both groups share, trained on all
      samples with a contrastive alignment + uniformity objective;
    * **salient** features, the variation only the target has: trained with
      the same objective on target samples, while background samples are
      pulled to the constant code ``s' = 0``;

    and a kernel joint-entropy term (k-JEM) keeps the two spaces
    statistically independent. The package adds three terms on the encoder
    outputs themselves: a second k-JEM term (``representation_jem_weight``),
    on tabular data their decorrelation (``decorrelation_weight``), and on
    images the background's share of the salient features' variance
    (``background_spread_weight``); all three at 0 give the paper's
    objective. ``transform`` needs no group
    labels: it returns ``[common | salient]`` features for any sample.

    Parameters
    ----------
    n_common : int, default=16
        Dimension of the common representation (the paper uses 32; 16 on
        CelebA). A narrower common space has less room left over once it
        holds the shared variation, and so holds less of the target's own.
        On the package's natural-image benchmarks (16 px, 1,400 training
        images, three seeds) 16 instead of 32 cut what the common features
        read of the salient digit from 0.45 to 0.28 (textures + MNIST;
        chance 0.10) and from 0.40 to 0.28 (MNIST on grass), and read the
        digit from the salient features 1.8 and 2.6 points better, for 4.4
        points of the common attribute (textures). On the dSprites grid,
        whose common attribute is four digits, it changed neither probe of
        the shape but read the digits 10 points worse: widen it when the
        shared variation is rich. 8 lost 15 points of the common attribute
        on textures. On tabular data 16 and 32 did about equally (Mice
        Protein, ten seeds), and 8 cut the leakage of the genotype into the
        common features from 0.80 to 0.61 (chance 0.50) for 2 points of the
        salient probe: try 8 when the common factors are few. See
        ``benchmarks/README.md``, "A narrower common space".
    n_salient : int, default=32
        Dimension of the salient representation.
    encoder : {"mlp", "cnn", "resnet18"} or callable, default="mlp"
        Backbone of both encoders. ``"mlp"`` for tabular data. ``"cnn"``: a
        small convolutional network for images up to about 64 px, with as
        many 3x3 blocks as it takes to see the whole image (four up to 17
        px, five up to 33 px, six up to 65 px). ``"resnet18"``: the paper's
        ResNet-18, for larger images or a GPU. A callable is
        called as ``encoder(input_shape, n_out)`` (once per space) and must
        return an :class:`torch.nn.Module` mapping a batch of shape
        ``(n, *input_shape)`` to ``(n, n_out)``.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Widths of the hidden layers of the ``"mlp"`` encoder.
    image_shape : tuple of int (C, H, W) or None, default=None
        Shape of one image when ``X`` holds flattened images (one image per
        row), so image models fit in pipelines. Not needed when ``X`` is
        already of shape ``(n, C, H, W)``.
    augmentation : "auto", "noise", "scarf", callable or None, default="auto"
        How the two views of each sample are drawn. ``"auto"``: Gaussian
        noise plus feature masking scaled to each feature's spread for
        tabular data (:class:`~sklearn_sepclr.TabularAugmentation`),
        SimCLR-style crops, flips and colour jitter with crops of at least
        60 % of the image for images
        (:class:`~sklearn_sepclr.ImageAugmentation`).
        ``"scarf"``: random features replaced by draws from their marginal
        (:class:`~sklearn_sepclr.ScarfAugmentation`). A callable is called
        as ``augment(x_batch, generator) -> x_batch`` on float batches on the
        training device; if it has a ``fit`` method it is fitted on (a copy
        of) the training data first. ``None`` gives identical views.
    background_mixing : float in [0, 1] or "auto", default="auto"
        After ``augmentation``, blend each view with the same view of a
        random background sample of its batch: ``w * view + (1 - w) *
        background_view``, with ``w ~ U(1 - background_mixing, 1)`` drawn per
        sample. A target view keeps its salient pattern over a mix of two
        samples' common variation, which the salient encoder must then
        ignore; a background blended with a background stays a background
        (in data-parallel training, partners come from the process's share
        of the batch). 0 switches it off; it is not part of the paper's
        method. ``"auto"``: 0.5 for images, 0 for tabular data, where it
        did not help. On the package's natural-image benchmarks (16 px,
        1,400 training images, three seeds), 0.5 with 300 epochs read the
        salient digit 11.8 points better than 300 epochs without it on
        textures + MNIST and 1.6 points better on MNIST on grass; at 100
        epochs it gains less and weakens the background collapse. See
        ``max_epochs`` and ``benchmarks/README.md``.
    temperature : float, default=0.5
        Bandwidth ``tau`` of the Gaussian kernel of every term.
    uniformity_weight : float, default=2.0
        Weight ``w_u`` of the common and salient uniformity terms.
    salient_weight : float, default=1.0
        Weight ``beta_s`` of the salient alignment and uniformity. 1 is the
        paper's value on its medical datasets. Its image value, 1000, lost
        on every benchmark we ran, images included (MNIST on grass: linear
        probe of the digit from the salient features 0.39 against 0.54;
        textures + MNIST: 0.29 against 0.57; tabular data: the salient space
        does not separate): it leaves the k-JEM and background terms too
        weak to shape the salient encoder. See ``benchmarks/README.md``.
    background_weight : float or "auto", default="auto"
        Weight ``beta_r`` pulling background salient codes to ``s' = 0``.
        ``"auto"``: 30 for tabular data, 10 (the paper's medical value) for
        images. A background sample carries all the shared variation and
        none of the target's own, so a heavier pull makes the salient
        encoder ignore more of what is shared. On the Mice Protein benchmark
        (ten seeds, 32-D common space) 30 instead of 10 read the genotype
        from the salient features 3.7 points better (0.927 against 0.890;
        better on five seeds, equal on five), leaked it less into the
        common projections (0.624 against 0.709, chance 0.50; lower on nine
        seeds) and collapsed the background codes further (ratio 0.082
        against 0.107);
        on the synthetic blobs (three seeds) it moved no probe by more than
        4 points and halved the collapse ratio (0.022 against 0.043). 100
        did as well on the probes but broke the k-means clusters of the
        salient space on the blobs of ``python -m sklearn_sepclr``. On
        natural images 30 cost 11 to 13 points of the salient probe
        (textures + MNIST and MNIST on grass, seed 0, 100 epochs with the
        background blend), so images keep 10. Increase it when background
        salient codes do not collapse.
    jem_weight : float, default=10.0
        Weight ``lambda`` of the k-JEM term; increase it when common and
        salient features leak into each other, 0 switches it off.
    representation_jem_weight : float, default=10.0
        Weight ``lambda_r`` of a second k-JEM term, not in the paper, on the
        representations that ``transform`` returns: the encoder outputs of
        the target samples, each normalised to the unit sphere. The paper's
        k-JEM acts on the projection heads' outputs only, and the
        representations before the heads keep dependences the heads drop
        (see :meth:`project`). The term makes the two representations less
        predictable from each other; ``representation_jem_encoder`` says
        which encoder it trains. 0 switches it off (the paper's objective).
        Against 0, on the package's benchmarks (``benchmarks/README.md``,
        "Which encoder the representations' k-JEM term trains"):

        * Mice Protein (ten seeds; common encoder): the common
          representations read the genotype at 0.650 instead of 0.771
          (chance 0.50), the common projections at 0.569 instead of 0.627;
          the salient probe moved by less than a point.
        * Textures + MNIST (16 px, three seeds; salient encoder): the
          salient representations read the digit 5.7 points better (0.734)
          and the source image 8.8 points less (0.523, chance 0.11); the
          common ones kept the source image (0.694 against 0.683).
        * MNIST on grass and the dSprites grid (three seeds each): the
          salient probe gained 2.7 and 1.1 points; the common projections
          of MNIST on grass read the digit 2.1 points more (0.210, chance
          0.10).
        * Background collapse ratios moved by at most 0.011 (0.086 on
          textures + MNIST, 0.078 on MNIST on grass).

        Applied to both encoders at once (``representation_jem_encoder``
        set to ``"both"``) the term also spreads the representations over the
        sphere: on textures + MNIST the common representations lost 13
        points of the source image, and k-means no longer found the two
        salient clusters of ``make_contrastive_blobs`` (adjusted Rand index
        0.88 → 0.11); the common encoder alone keeps them (0.82).
    representation_jem_encoder : {"auto", "both", "common", "salient"}, \
default="auto"
        Which encoder the representations' k-JEM term trains (see
        ``representation_jem_weight``); the other side's representations
        enter the term as constants. ``"auto"``: ``"common"`` for tabular
        data, ``"salient"`` for images. Measured at a weight of 10 against
        ``"both"`` (``benchmarks/README.md``, "Which encoder the
        representations' k-JEM term trains"): on Mice Protein (ten seeds)
        training the common encoder alone cut the leakage as much (common
        projections 0.569 against 0.577, chance 0.50) and kept the two
        salient clusters of ``make_contrastive_blobs`` (adjusted Rand index
        0.82 against 0.11);
        on textures + MNIST (three seeds) training the salient encoder alone
        read the digit as well from the salient features (0.734 against
        0.733), kept the source image in the common ones (0.694 against
        0.554) and the background collapse (ratio 0.086 against 0.104).
    decorrelation_weight : float or "auto", default="auto"
        Weight ``mu`` of a term, not in the paper, that decorrelates the
        common representations from the salient ones: the mean squared
        Pearson correlation between every common and every salient feature
        over the target samples of a batch
        (:func:`sklearn_sepclr.losses.cross_correlation`). By default it
        trains the common encoder only (``decorrelation_encoder``), which
        gives up what it shares linearly with the salient features, the
        dependence a linear probe reads. Unlike
        the k-JEM terms it has no kernel width, so it still acts when the
        codes lie further apart than ``temperature``. 0 switches it off
        (the paper's objective). ``"auto"``: 10 for tabular data, 0 for
        images. Against 0, on the package's benchmarks
        (``benchmarks/README.md``, "Decorrelating the common
        representations"):

        * Mice Protein (ten seeds): the common representations read the
          genotype at 0.554 instead of 0.650 (chance 0.50; lower on eight
          seeds), the common projections at 0.533 instead of 0.569; the
          salient probe and the background collapse did not move.
        * Synthetic blobs (three seeds): the common features read the
          salient clusters a little more (0.816 against 0.787), and k-means
          still finds those clusters in the salient space.
        * Images (three seeds, weight 10): on MNIST on grass the common
          representations read the digit at 0.211 instead of 0.284 (chance
          0.10) with the salient probe unchanged, but on textures + MNIST
          the common projections read it more (0.226 against 0.199), the
          common space lost 2.4 points of its own attribute and the
          background collapse weakened (ratio 0.102 against 0.086); hence
          0 on images. Try 10 where the common features leak the salient
          attribute.
        * Images at the loaders' resolution (28 and 32 px, the five-block
          ``"cnn"``, weight 10): on MNIST on grass (five seeds) the common
          representations read the digit at 0.188 instead of 0.257, lower
          on every seed, and the background collapse held (ratio 0.071
          against 0.062), but the salient probe lost 1.1 points (0.564
          against 0.575; "The same decorrelation over five seeds"). On
          textures + MNIST (two seeds) they read it at 0.174 instead of
          0.192 with the salient probe 0.5 points higher ("Decorrelating
          the common representations at the loaders' resolution").
        * Textures + MNIST at the loaders' full size (3,500 training
          images, two seeds, each against the defaults fitted on the same
          processor): the common representations' read of the digit rose
          5.5 points on one seed and fell 6.4 on the other (0.192 against
          0.196 on the mean), while the common space read the source
          photograph 1.9 points less (4.0 on the projections; "The two
          full-size variants on a second seed"). Beside
          ``background_spread_weight`` (the image default since; two more
          seeds) it cost the common space 7.5 points of the photograph
          (0.749 against 0.824) and lowered no leakage: the common
          representations read the digit at 0.208 against 0.202, the
          salient ones the photograph at 0.504 against 0.459
          ("Decorrelating the common representations under the image
          defaults: textures + MNIST"). On the dSprites grid (two
          seeds, 8 Dec) the common representations read the shape more
          (0.268 against 0.250) and the grid digits less (0.509 against
          0.523), with the salient probe unchanged.
        * MNIST on grass at the loaders' full size (one seed, against the
          defaults on the same processor): the common representations read
          the digit at 0.193 instead of 0.210 (projections 0.156 instead
          of 0.201), under the bound of 0.20, for a point of the salient
          probe. Beside ``background_spread_weight`` (the image default
          since; two more seeds): 0.206 instead of 0.224 (projections
          0.185 instead of 0.208), lower on both seeds, with the salient
          probe 0.6 points higher ("Decorrelating the common
          representations under the image defaults: MNIST on grass"). On
          images whose common variation carries no attribute of its own
          to keep, 10 is the setting to try for a cleaner common space;
          where it does, as on textures + MNIST, it costs that attribute.

        Through both encoders it cost the salient probe 3 points on MNIST
        on grass: the salient features gave up the attribute too.
    decorrelation_encoder : {"common", "salient", "both"}, default="common"
        Which encoder the decorrelation term trains (see
        ``decorrelation_weight``); the other side's representations enter
        it as constants. ``"common"``: the common features give up what
        they share linearly with the salient ones, the leakage of the
        salient attribute into the common space. ``"salient"``: the
        salient features give up what they share with the common ones, the
        leakage the other way. Measured on textures + MNIST
        (``benchmarks/README.md``, "Decorrelation through the salient
        encoder"), with ``decorrelation_weight=100`` and
        ``background_spread_weight=1``:

        * At 16 px (two seeds) the salient representations read the source
          photograph at 0.358 instead of 0.477 with neither term and 0.428
          with the background spread alone (chance 0.11), the salient
          probe gained 6.1 points, and one seed's background collapse ratio
          rose to 0.110. At a weight of 100 alone: 0.443, and 10 did
          nothing.
        * At the loaders' full size (3,500 training images, three seeds,
          each against the background spread alone fitted on the same
          processor) the salient projections read it at 0.236 instead of
          0.306, lower on every seed but over the bound of ten points over
          chance (0.211) on two of three; the salient representations at
          0.442 instead of 0.438, lower on one seed only. The salient probe
          lost 0.7 points, the common space's leakage of the digit and the
          background collapse held, and the common space read the
          photograph 3.9 points better.
        * On the dSprites grid at full size (two seeds) the salient
          representations read the grid digits at 0.173 instead of 0.215
          (chance 0.10), but the drawn shape 2.6 points less on each seed
          (0.385), which took the mean margin over the linear methods from
          5.6 to 3.0 points.
        * On MNIST on grass at full size (two seeds, against the
          background spread alone) the salient representations read the
          digit 2.6 points less and the common ones 5.0 points more
          (0.267, chance 0.10; projections 0.230 instead of 0.183).

        The image defaults stay ``"common"`` with a weight of 0: the
        dSprites grid and MNIST on grass lost salient signal, and textures
        still misses its bound with it. Try ``"salient"`` with a weight of
        100 and ``background_spread_weight=1`` (the image default) where
        the salient projections keep what the background shares and the
        salient attribute has room to spare; check the salient probe and
        the common space's leakage on held-out data before keeping it.
    background_spread_weight : float or "auto", default="auto"
        Weight ``nu`` of a term, not in the paper, on the salient
        representations that ``transform`` returns: for each feature, the
        background samples' share of its variance in a batch (its variance
        over the background samples divided by that plus its variance over
        the target samples), averaged over the features
        (:func:`sklearn_sepclr.losses.background_spread`). The background
        term pins the background's salient *projections* to ``s' = 0``,
        which the projection head can do alone, dropping what the
        backgrounds vary in while the encoder keeps it; this term asks it
        of the salient encoder, so the salient features vary with what
        only the targets have. It trains the salient encoder only.
        ``"auto"``, the default, is 1 on images and 0 (off) on tabular data;
        0 gives the paper's objective. Measured at a weight of 1 against 0
        (``benchmarks/README.md``, "The background's spread in the salient
        representations" and "The background's spread on every image set
        at full size"):

        * Textures + MNIST (16 px, three seeds): the salient
          representations read the digit 5.5 points better (0.770, better
          on every seed) and the source photograph 5.6 points less (0.456,
          chance 0.11); the common features and the background collapse
          did not lose. Weight 10 pushed the collapse ratio to 0.1.
        * MNIST on grass (28 px, two seeds): the common representations
          read the digit 2.3 points less (0.254, chance 0.10); the
          salient probe gained 2.0 points on one seed and lost 1.2 on
          the other.
        * Tabular data (two seeds): the Mice Protein probes moved by at
          most 2.2 points; on ``make_contrastive_blobs`` the common
          features read the salient clusters 1.7 and 3.4 points more.
        * Textures + MNIST at the loaders' full size (32 px, 3,500
          training images, two seeds, each against the defaults fitted on
          the same processor): the salient representations read the
          source photograph 11.9 points less (0.442 against 0.561, lower
          on both seeds), still twice the 0.21 bound; the digit probe,
          the common features and the collapse moved by about a point or
          less on the mean, and the salient features' k-means clusters
          followed the digit less on one seed ("The two full-size
          variants on a second seed").
        * The dSprites grid at full size (two seeds): the salient
          representations read the grid digits at 0.182 instead of 0.215
          (chance 0.10; under the bound of 0.20 on both seeds) and the
          drawn shape 0.3 points better; MNIST on grass at full size (one
          seed): the digit probe gained 1.5 points and the common
          projections read the digit 3.8 points less.

        On images it is on by default: at the loaders' full size it
        lowered the salient features' read of the common attribute on all
        four seeds that have one, and no verdict of the package's
        benchmarks got worse on any of the five seeds fitted both ways.
        With it, the image defaults at the loaders' full size (five seeds
        of each image set) meet every target of the package's benchmarks
        on the dSprites grid; on MNIST on grass the common space's
        leakage of the digit is under its bound on the projections only,
        on textures + MNIST it is under it by 0.2 points, and textures'
        salient features still read the source photograph at 0.437
        against a bound of 0.21 (``benchmarks/README.md``, "Where the
        quality targets stand"). On tabular data it gained nothing
        and raised the blobs' leakage, so it stays off there.
    salient_uniformity : {"per_background", "single"}, default="per_background"
        How the constant ``s' = 0`` enters the salient uniformity term.
        ``"per_background"`` is the paper's s'-uniformity: each background
        row of a batch counts as one copy of ``s'``, so the ``s'``-``s'``
        pairs hold most of the term's kernel sum and the targets are pushed
        apart weakly. ``"single"`` counts ``s'`` once. On the package's
        natural-image benchmarks (16 px, 1,400 training images, three seeds)
        it read the salient digit 6.3 points better on textures + MNIST and
        3.0 points better on MNIST on grass, but let the common projections
        read more of it (7 to 8 points) and weakened the background collapse
        (ratio 0.10 to 0.13 and 0.08 to 0.12); on the dSprites grid it did
        not help. The paper's form stays the default; see
        :func:`sklearn_sepclr.losses.sepclr_loss` and ``benchmarks/README.md``.
    max_epochs : int or "auto", default="auto"
        Number of passes over the training data (the maximum when
        ``early_stopping=True``). ``"auto"``: 300 for images, 100 for
        tabular data. Image fits keep improving after 100 epochs, and the
        background blend (``background_mixing``) needs them: on the
        package's image benchmarks (16 px, 1,400 training images, three
        seeds) the image defaults (300 epochs with ``background_mixing=0.5``)
        read the salient digit 12.8 points better than 100 epochs without
        the blend on textures + MNIST (better than contrastive PCA and PCA
        on every seed) and 4.1 points better on MNIST on grass, kept the
        background collapse under a tenth of the targets' norm (mean of the
        seeds) on all three image sets, and tied on the dSprites grid, for
        three times the training time. Set an integer to train shorter or
        longer.
    batch_size : int, default=256
        Number of samples per batch (each batch holds both groups in their
        proportion; with fewer samples, one batch of all of them).
    lr : float, default=1e-3
        Learning rate of Adam (the paper uses 3e-4 for 200+ epochs on large
        image sets; 1e-3 reaches the same separation in fewer epochs on the
        package's benchmarks).
    weight_decay : float, default=0.0
        L2 penalty of Adam.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of each group and stop when the
        validation loss has not improved for ``n_iter_no_change`` epochs;
        the best weights are restored.
    validation_fraction : float, default=0.1
        Fraction of each group held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    background_label : "auto" or scalar, default="auto"
        Group label of the background samples in ``y`` or ``sample_group``;
        every other label is target. ``"auto"``: 0 (or False) when present,
        else the smallest label.
    output : {"both", "common", "salient"}, default="both"
        What ``transform`` returns.
    warm_start : bool, default=False
        Continue training the fitted networks, with the optimizer's state
        and the history, on the next ``fit`` call instead of starting anew.
        The loss weights, views, ``lr``, ``weight_decay``, ``batch_size``,
        ``max_epochs`` (epochs to add), precision and clipping of that call
        are the current parameters, so a warm fit can fine-tune with a
        lower ``lr``. ``n_common``, ``n_salient``, ``encoder`` and
        ``hidden_layer_sizes`` shape the networks: a warm fit after one of
        them changed raises a ``ValueError``.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, batches and views. Torch's global random state is
        left untouched. On the CPU the same seed gives bit-identical
        features with the same number of torch threads, processor and
        library versions (another thread count, instruction set or BLAS
        path changes float rounding, which training amplifies; see
        "Round-off" in ``benchmarks/README.md``); on CUDA
        some kernels (cuDNN convolution algorithms chosen by benchmarking,
        atomics in backward passes) are not deterministic,
        so expect agreement to about 1e-5, not bit for bit, unless
        ``torch.use_deterministic_algorithms(True)`` is set.
    verbose : int, default=0
        0: silent; 1 or more: a progress bar per epoch and a line of losses
        after each epoch.
    callbacks : list of skorch callbacks or None, default=None
        Extra :mod:`skorch.callbacks` (deep-copied at each fit).
    device : str, default="auto"
        Training device: "auto" (CUDA when available, else CPU), "cpu",
        "cuda" or "cuda:N".
    precision : {"32", "bf16"}, default="32"
        "bf16" runs the encoders under bfloat16 autocast (the loss stays in
        float32): faster on recent GPUs.
    compile : bool or dict, default=False
        Compile the training forward pass with :func:`torch.compile` (a dict
        gives its keyword arguments, e.g. ``{"mode": "max-autotune"}``). The
        compiled function is rebuilt after unpickling; the fitted model
        pickles as usual.
    max_grad_norm : float or None, default=None
        Clip the total gradient norm to this value (None: no clipping). The
        norm is logged as ``train_gradient_norm`` either way, and a
        non-finite gradient stops training at the end of its epoch with
        :class:`TrainingDivergedError`, leaving the estimator as it was
        before the fit.
    checkpoint_dir : str, path or None, default=None
        Write a weights-only checkpoint every ``checkpoint_interval`` epochs
        into a new sub-directory of this directory, unique to the fit (see
        ``checkpoint_path_``), so parallel fits never collide. Resume with
        :meth:`load` then ``set_params(warm_start=True)`` and ``fit``.
    checkpoint_interval : int, default=10
        Epochs between two checkpoints.
    distributed : bool or "auto", default=False
        Train data-parallel with :mod:`torch.distributed`, one process per
        GPU, launched by ``torchrun --nproc_per_node=N script.py``; every
        process calls ``fit`` on the whole dataset. Each global batch of
        ``batch_size`` samples is split over the processes, their
        projections are all-gathered so the loss is the global batch's, and
        gradients are averaged by
        :class:`~torch.nn.parallel.DistributedDataParallel` (BatchNorm is
        synchronised on GPUs). ``"auto"``: only when a process group of more
        than one process is initialised; ``True``: initialise it from the
        ``torchrun`` environment if needed. Only rank 0 logs and writes
        checkpoints; every process ends with the same, ordinary fitted
        model. See :doc:`/distributed`.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` holds the encoders.
    history_ : skorch.History
        Per-epoch log: ``train_loss`` and each unweighted loss term
        (``train_common_alignment``, ``train_common_uniformity``,
        ``train_salient_alignment``, ``train_salient_uniformity``,
        ``train_background``, ``train_jem``, ``train_representation_jem``,
        ``train_decorrelation``),
        and their ``valid_`` counterparts with early stopping. E.g.
        ``history_[:, "train_loss"]``.
    background_label_ : scalar
        The group label taken as background.
    device_ : torch.device
        The device the networks were trained on.
    input_shape_ : tuple of int
        Shape of one sample as the encoders see it.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of the features seen during fit (DataFrame input only).
    checkpoint_path_ : str
        Directory of this fit's checkpoints (only with ``checkpoint_dir``).

    See Also
    --------
    sklearn_sepclr.stack_groups : Stack background and target datasets.
    sklearn_sepclr.losses.sepclr_loss : The objective, for custom loops.

    References
    ----------
    R. Louiset, E. Duchesnay, A. Grigis, P. Gori. "Separating common from
    salient patterns with Contrastive Representation Learning", ICLR 2024.

    Examples
    --------
    >>> from sklearn_sepclr import SepCLRTransformer
    >>> from sklearn_sepclr.datasets import make_contrastive_blobs
    >>> data = make_contrastive_blobs(n_background=40, n_target=40, random_state=0)
    >>> est = SepCLRTransformer(n_common=4, n_salient=2, max_epochs=2, random_state=0)
    >>> est.fit(data.X_background, data.X_target).transform(data.X_target).shape
    (40, 6)
    """

    _parameter_constraints = {
        "n_common": [Interval(Integral, 1, None, closed="left")],
        "n_salient": [Interval(Integral, 1, None, closed="left")],
        "encoder": [StrOptions({"mlp", "cnn", "resnet18"}), callable],
        "hidden_layer_sizes": ["array-like"],
        "image_shape": ["array-like", None],
        "augmentation": [StrOptions({"auto", "noise", "scarf"}), callable, None],
        "background_mixing": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "uniformity_weight": [Interval(Real, 0, None, closed="left")],
        "salient_weight": [Interval(Real, 0, None, closed="left")],
        "background_weight": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "jem_weight": [Interval(Real, 0, None, closed="left")],
        "representation_jem_weight": [Interval(Real, 0, None, closed="left")],
        "representation_jem_encoder": [StrOptions({"auto", *REPRESENTATION_JEM_ENCODERS})],
        "decorrelation_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "decorrelation_encoder": [StrOptions(set(DECORRELATION_ENCODERS))],
        "background_spread_weight": [
            Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "salient_uniformity": [StrOptions(set(SALIENT_UNIFORMITY_MODES))],
        "max_epochs": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "background_label": "no_validation",
        "output": [StrOptions({"both", "common", "salient"})],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "precision": [StrOptions({"32", "bf16"})],
        "distributed": ["boolean", StrOptions({"auto"})],
        "compile": ["boolean", dict],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "checkpoint_dir": [str, os.PathLike, None],
        "checkpoint_interval": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_common=16,
        n_salient=32,
        *,
        encoder="mlp",
        hidden_layer_sizes=(256, 256),
        image_shape=None,
        augmentation="auto",
        background_mixing="auto",
        temperature=0.5,
        uniformity_weight=2.0,
        salient_weight=1.0,
        background_weight="auto",
        jem_weight=10.0,
        representation_jem_weight=10.0,
        representation_jem_encoder="auto",
        decorrelation_weight="auto",
        decorrelation_encoder="common",
        background_spread_weight="auto",
        salient_uniformity="per_background",
        max_epochs="auto",
        batch_size=256,
        lr=1e-3,
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        background_label="auto",
        output="both",
        warm_start=False,
        random_state=None,
        verbose=0,
        callbacks=None,
        device="auto",
        precision="32",
        compile=False,
        max_grad_norm=None,
        checkpoint_dir=None,
        checkpoint_interval=10,
        distributed=False,
    ):
        self.n_common = n_common
        self.n_salient = n_salient
        self.encoder = encoder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.augmentation = augmentation
        self.background_mixing = background_mixing
        self.temperature = temperature
        self.uniformity_weight = uniformity_weight
        self.salient_weight = salient_weight
        self.background_weight = background_weight
        self.jem_weight = jem_weight
        self.representation_jem_weight = representation_jem_weight
        self.representation_jem_encoder = representation_jem_encoder
        self.decorrelation_weight = decorrelation_weight
        self.decorrelation_encoder = decorrelation_encoder
        self.background_spread_weight = background_spread_weight
        self.salient_uniformity = salient_uniformity
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.background_label = background_label
        self.output = output
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.compile = compile
        self.max_grad_norm = max_grad_norm
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_interval = checkpoint_interval
        self.distributed = distributed

    # -- fitting ------------------------------------------------------------
    def _fit(self, X, y, sample_group):
        X, groups, two_datasets = _split_fit_inputs(X, y, sample_group)
        warm = self.warm_start and hasattr(self, "net_")
        if warm:
            self._check_same_networks()
        else:
            # A fit that fails (bad input, divergence) leaves no stale model.
            self._reset()
        X_checked = self._validate_X(X, reset=not warm)
        is_target, background_label = _fit_groups(
            groups, len(X_checked), self.background_label, two_datasets
        )
        self._check_group_sizes(is_target)
        device = _resolve_device(self.device)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        distributed = _resolve_distributed(self.distributed)
        if distributed:
            # One GPU per process, and one seed (weights, batches, views,
            # validation split) for all, even with random_state=None.
            device = _distributed_device(device)
            seed = _broadcast_object(seed)
        self.background_label_ = background_label
        self.device_ = device
        try:
            with _forked_torch_rng(seed, device):
                net = self._warm_net() if warm else self._make_net(device, seed)
                net.distributed = distributed
                dataset = _GroupDataset(
                    _to_storage(X_checked, device, self._is_image), torch.as_tensor(is_target)
                )
                net.augmentation = _fitted_augmentation(net.augmentation, dataset.X, device)
                try:
                    if warm:
                        net.partial_fit(dataset)
                    else:
                        net.fit(dataset)
                finally:
                    _move_augmentation(net.augmentation, "cpu")
        except BaseException:
            if not warm:
                self._reset()  # a failed fit leaves no half-fitted estimator
            raise
        self.net_ = net
        self.history_ = net.history
        return X_checked, (X.index if _is_dataframe(X) else None)

    def _networks(self):
        """The parameters that shape the networks (a warm start keeps them)."""
        hidden = self.hidden_layer_sizes
        return {
            "n_common": self.n_common,
            "n_salient": self.n_salient,
            "encoder": self.encoder,
            "hidden_layer_sizes": tuple(hidden) if isinstance(hidden, list) else hidden,
        }

    def _check_same_networks(self):
        """A warm start trains the fitted networks on: refuse parameters that
        would need other ones, rather than ignore them."""
        built = getattr(self.net_, "networks", None)
        if built is None:  # a model pickled before this record existed
            return
        now = self._networks()
        changed = [
            f"{name}={built[name]!r} -> {now[name]!r}"
            for name in built
            if not _same_value(built[name], now[name])
        ]
        if changed:
            raise ValueError(
                "warm_start=True trains the fitted networks on, but these parameters "
                f"changed since they were built: {', '.join(changed)}. Set them back, "
                "or set warm_start=False to train new networks."
            )

    def _reset(self):
        for name in _FITTED_ATTRIBUTES:
            self.__dict__.pop(name, None)

    def _check_group_sizes(self, is_target):
        if not self.early_stopping:
            return
        n_target = int(is_target.sum())
        smallest = min(n_target, len(is_target) - n_target)
        if smallest < 2:
            raise ValueError(
                "early_stopping=True holds out a validation set with samples of "
                "both groups, which needs at least 2 samples of each group; "
                f"got {n_target} target and {len(is_target) - n_target} "
                "background samples. Use early_stopping=False or more samples."
            )

    def _warm_net(self):
        """A copy of the fitted net that trains on with the current settings.

        The networks, the optimizer state and the history carry on; the
        objective, the augmentation and the loop settings are taken from the
        current parameters (e.g. a lower ``lr`` to fine-tune).
        """
        net = copy.deepcopy(self.net_)
        net.set_params(**self._schedule(), verbose=self.verbose)
        for name, value in self._loop_settings().items():
            setattr(net, name, value)
        net.criterion_ = self._make_criterion()
        return net

    def _schedule(self):
        """Optimiser and epoch settings, as the skorch net takes them (on a
        fitted net, skorch updates the optimizer's parameter groups in place
        and keeps its state)."""
        return dict(
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self._resolved("max_epochs"),
            batch_size=self.batch_size,
        )

    def _loop_settings(self):
        """Settings of the training step (views, blend, precision, clipping,
        compilation), resolved for the fitted kind of data."""
        return dict(
            augmentation=_resolve_augmentation(self.augmentation, self._is_image),
            background_mixing=float(self._resolved("background_mixing")),
            precision=self.precision,
            max_grad_norm=self.max_grad_norm,
            compile_options=_compile_options(self.compile),
        )

    def _resolved(self, name):
        """Parameter ``name`` with ``"auto"`` replaced by its value for the
        fitted kind of data (images or tabular; see ``_AUTO_DEFAULTS``)."""
        return _resolve_auto(name, getattr(self, name), self._is_image)

    def _make_criterion(self):
        return _SepCLRCriterion(
            temperature=self.temperature,
            uniformity_weight=self.uniformity_weight,
            salient_weight=float(self.salient_weight),
            background_weight=float(self._resolved("background_weight")),
            jem_weight=self.jem_weight,
            salient_uniformity=self.salient_uniformity,
            representation_jem_weight=float(self.representation_jem_weight),
            representation_jem_encoder=self._resolved("representation_jem_encoder"),
            decorrelation_weight=float(self._resolved("decorrelation_weight")),
            decorrelation_encoder=self.decorrelation_encoder,
            background_spread_weight=float(self._resolved("background_spread_weight")),
        )

    def _make_net(self, device, seed, *, checkpoints=True):
        """Build the skorch net (inside the seeded RNG context)."""
        input_shape = self.input_shape_
        module = _SepCLRModule(
            _build_encoder(self.encoder, input_shape, self.n_common, self.hidden_layer_sizes),
            _build_encoder(self.encoder, input_shape, self.n_salient, self.hidden_layer_sizes),
            self.n_common,
            self.n_salient,
        )
        _materialize_lazy(module, input_shape)
        if self._is_image:
            module = module.to(memory_format=torch.channels_last)
        callbacks = copy.deepcopy(self.callbacks) or []
        train_split = None
        if self.early_stopping:
            from skorch.callbacks import EarlyStopping

            train_split = _GroupSplit(self.validation_fraction, seed)
            callbacks.append(
                ("early_stopping", EarlyStopping(patience=self.n_iter_no_change, load_best=True))
            )
        if self.verbose and _is_main_process():
            from skorch.callbacks import ProgressBar

            callbacks.append(("progress_bar", ProgressBar()))
        if checkpoints and self.checkpoint_dir is not None and _is_main_process():
            self.checkpoint_path_ = _new_run_dir(self.checkpoint_dir)
            checkpoint = _PeriodicCheckpoint(
                self.checkpoint_path_, self.checkpoint_interval, _header(self), __version__
            )
            callbacks.append(("checkpoint", checkpoint))
        net = _SepCLRNet(
            module=module,
            criterion=self._make_criterion(),
            optimizer=torch.optim.Adam,
            train_split=train_split,
            callbacks=callbacks,
            verbose=self.verbose if _is_main_process() else 0,
            device=str(device),
            seed=seed,
            **self._schedule(),
            **self._loop_settings(),
        )
        net.networks = self._networks()
        return net

    # -- input checks -------------------------------------------------------
    @property
    def _is_image(self):
        return len(self.input_shape_) == 3 if hasattr(self, "input_shape_") else False

    def _validate_X(self, X, *, reset):
        """Check X and bring it to the encoders' sample shape.

        Tabular data keeps float32/float64 (other dtypes become float64).
        Images, given as (n, C, H, W) arrays or as rows with
        ``image_shape``, keep uint8 so the host holds one byte per pixel.
        """
        if len(_shape(X)) > 2:
            X = check_array(X, allow_nd=True, dtype=_image_dtype(X), ensure_min_samples=1)
            n_features = int(np.prod(X.shape[1:]))
            if n_features == 0:
                raise ValueError(
                    f"0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
                )
            if self.image_shape is not None and self._check_image_shape(
                n_features
            ) != tuple(X.shape[1:]):
                raise ValueError(
                    f"image_shape={tuple(self.image_shape)} does not match the "
                    f"shape of the images in X, {tuple(X.shape[1:])}."
                )
            if reset:
                self.__dict__.pop("feature_names_in_", None)
                self.n_features_in_ = n_features
            elif n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {n_features} features (shape {X.shape[1:]}), but "
                    f"{type(self).__name__} is expecting {self.n_features_in_} "
                    "features as input."
                )
            sample_shape = X.shape[1:]
        else:
            image = self.image_shape is not None
            X = validate_data(
                self, X, reset=reset, dtype=_image_dtype(X) if image else ("float64", "float32")
            )
            sample_shape = (X.shape[1],)
            if image:
                sample_shape = self._check_image_shape(X.shape[1])
                X = X.reshape(len(X), *sample_shape)
        _check_float32_range(X)
        if reset:
            self.input_shape_ = tuple(int(s) for s in sample_shape)
        elif tuple(sample_shape) != self.input_shape_:
            raise ValueError(
                f"X holds samples of shape {tuple(sample_shape)}, but "
                f"{type(self).__name__} was fitted on samples of shape "
                f"{self.input_shape_}."
            )
        return X

    def _check_image_shape(self, n_features):
        shape = tuple(np.ravel(np.asarray(self.image_shape, dtype=object)))
        if len(shape) != 3 or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in shape
        ):
            raise ValueError(
                "image_shape must be (C, H, W) with positive integer sizes; got "
                f"{self.image_shape!r}."
            )
        shape = tuple(int(s) for s in shape)
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape={shape} holds {int(np.prod(shape))} values per "
                f"image, but X has {n_features} features per row."
            )
        return shape

    # -- transforming -------------------------------------------------------
    def transform(self, X):
        """Common and salient features of any samples (no groups needed).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features) or (n_samples, C, H, W)
            Samples with the features seen in fit.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_output_features)
            The encoder outputs (the representations before the projection
            heads, as evaluated in the paper): ``[common | salient]``, or one
            space (see ``output``). float32 input gives float32 output,
            anything else float64.
        """
        check_is_fitted(self)
        return self._transform_checked(self._validate_X(X, reset=False))

    def _transform_checked(self, X):
        return self._collect(X, self.net_.evaluation_step, self.output)

    def project(self, X):
        """Projection-head outputs, the space the SepCLR loss works in.

        The common projections are normalised to the unit sphere; background
        salient projections should lie near ``s' = 0`` after training (see
        :func:`sklearn_sepclr.metrics.background_collapse`). The k-JEM term
        makes common and salient projections independent, so these features
        leak less between the two spaces than the representations of
        :meth:`transform`, which keep more of the input.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
            Samples with the features seen in fit.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_common + n_salient)
            ``[common projections | salient projections]`` (``output`` is
            ignored).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._collect(X, self.net_.projection_step, "both")

    def _collect(self, X, step, output):
        """Run ``step`` on consecutive batches of X into one output array.

        Each batch's ``(common, salient)`` columns of ``output`` are written
        straight into a preallocated array of the output dtype: memory grows
        with the output plus one batch of activations, however many rows.
        """
        columns = {"both": (True, True), "common": (True, False), "salient": (False, True)}
        keep = columns[output]
        n_common, n_salient = self._fitted_widths()
        width = n_common * keep[0] + n_salient * keep[1]
        out = np.empty((len(X), width), dtype=_output_dtype(X))
        rows = torch.from_numpy(out)
        start = 0
        for batch in self.net_.get_iterator(_GroupDataset(_host_tensor(X)), training=False):
            parts = [t for t, wanted in zip(step(batch), keep, strict=True) if wanted]
            block = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
            rows[start : start + len(block)] = block.detach().cpu()
            start += len(block)
        return out

    def _fitted_widths(self):
        """``(n_common, n_salient)`` of the fitted networks.

        Not the current parameters: after ``set_params(n_common=...)`` the
        fitted model keeps transforming as it was trained until the next fit,
        as scikit-learn's estimators do.
        """
        built = getattr(self.net_, "networks", None)
        if built is None:  # a model pickled before this record existed
            return self.n_common, self.n_salient
        return built["n_common"], built["n_salient"]

    def get_feature_names_out(self, input_features=None):
        """Names of the output features: ``common0, ...`` then ``salient0, ...``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored apart from validation against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str
            One name per output column of :meth:`transform`.
        """
        check_is_fitted(self)
        n_common, n_salient = self._fitted_widths()
        common = [f"common{i}" for i in range(n_common)]
        salient = [f"salient{i}" for i in range(n_salient)]
        names = {"common": common, "salient": salient, "both": common + salient}
        return np.asarray(names[self.output], dtype=object)

    # -- scoring ------------------------------------------------------------
    def score(self, X, y=None, *, sample_group=None):
        """Minus the SepCLR loss on ``X`` (higher is better).

        The loss is evaluated in inference mode with fixed batches and views,
        so the same data give the same score. It is only comparable between
        models trained with the same loss settings; select models with a
        downstream probe (see :mod:`sklearn_sepclr.metrics`).

        Parameters
        ----------
        X, y, sample_group
            As in :meth:`fit` (groups are needed).

        Returns
        -------
        score : float
            ``-loss``.
        """
        check_is_fitted(self)
        X, groups, two_datasets = _split_fit_inputs(X, y, sample_group)
        X = self._validate_X(X, reset=False)
        is_target, _ = _fit_groups(groups, len(X), self.background_label_, two_datasets)
        dataset = _GroupDataset(_host_tensor(X), torch.as_tensor(is_target))
        net = self.net_
        net.augmentation = _fitted_augmentation(net.augmentation, None, net.device)
        try:
            return -net.evaluate_loss(dataset)
        finally:
            _move_augmentation(net.augmentation, "cpu")

    # -- persistence --------------------------------------------------------
    def save(self, path):
        """Write the fitted model to a weights-only file.

        The file holds the parameters, the fitted attributes, the network
        and optimizer states and the history as plain data, which
        :meth:`load` reads with ``torch.load(weights_only=True)``: no code is
        unpickled. Models with a callable ``encoder`` or ``augmentation``
        cannot be saved this way (use pickle or joblib).

        Parameters
        ----------
        path : str or path-like
            File to write (conventionally ``*.pt``).

        Returns
        -------
        self : SepCLRTransformer
            The estimator, unchanged.
        """
        check_is_fitted(self)
        _write(path, _header(self), self.net_, __version__)
        return self

    @classmethod
    def load(cls, path, *, device="auto"):
        """Read a model written by :meth:`save` or a ``fit`` checkpoint.

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save` or found in ``checkpoint_path_``.
        device : str, default="auto"
            Where to put the networks; a model trained on CUDA loads on a
            CPU-only machine.

        Returns
        -------
        estimator : SepCLRTransformer
            A fitted estimator; to continue training from a checkpoint, call
            ``set_params(warm_start=True)`` then ``fit``.

        Raises
        ------
        ValueError
            If the file was written in another file format (by an
            incompatible version of the library).
        """
        blob = _read(path, __version__)
        est = cls(**{**blob["params"], "device": device})
        for name, value in blob["fitted"].items():
            if name == "feature_names_in_":
                value = np.asarray(value, dtype=object)
            setattr(est, name, tuple(value) if name == "input_shape_" else value)
        est.device_ = _resolve_device(device)
        net = est._make_net(est.device_, blob["seed"], checkpoints=False).initialize()
        net.module_.load_state_dict(blob["module"])
        net.optimizer_.load_state_dict(blob["optimizer"])
        for name, tensor in blob["augmentation"].items():
            setattr(net.augmentation, name, tensor)
        net.history_ = type(net.history)(blob["history"])
        est.net_, est.history_ = net, net.history
        return est

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = False
        return tags


# -- helpers ----------------------------------------------------------------
def _resolve_device(device):
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device={device!r} is not a valid torch device: {exc}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} was requested but CUDA is not available.")
    return device


def _same_value(a, b):
    """``a == b`` for parameter values, False where ``==`` is not a truth value."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError, RuntimeError):
        return False


@contextmanager
def _forked_torch_rng(seed, device):
    """Seed torch for the duration of a fit without touching its global state."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _image_dtype(X):
    """uint8 images stay uint8; other images become float32 or stay float64."""
    dtype = getattr(X, "dtype", None)
    if dtype == np.uint8:
        return np.uint8
    return ("float32", "float64") if dtype != np.float64 else "float64"


def _check_float32_range(X):
    """The networks compute in float32: larger values would become inf."""
    if X.dtype == np.float64 and X.size:
        largest = float(np.abs(X).max())
        if largest > float(np.finfo(np.float32).max):
            raise ValueError(
                f"X holds values up to {largest:.3g}, beyond the float32 range the "
                "networks compute in (3.4e38); rescale the features (e.g. "
                "StandardScaler)."
            )


def _materialize_lazy(module, input_shape):
    """Give lazy layers (e.g. ``nn.LazyLinear`` in a custom encoder) their
    shapes with a dummy batch, before anything touches their parameters."""
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in module.parameters()):
        module.eval()
        with torch.no_grad():
            module.project(torch.zeros(2, *input_shape))
        module.train()


def _compile_options(compile):
    if compile is True:
        return {}
    return dict(compile) if compile else None


def _output_dtype(X):
    return np.float64 if X.dtype == np.float64 else np.float32


def _host_tensor(X):
    X = X.to_numpy() if _is_dataframe(X) else X
    with warnings.catch_warnings():
        # Read-only inputs (memory maps) are only ever read.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.as_tensor(X)


def _to_storage(X, device, is_image):
    """Where the training data live during fit.

    Tabular data go to the device as float32. Images keep their dtype (uint8
    stays uint8, one byte per pixel): on a GPU with room for them (a quarter
    of its free memory) they move there once, so batches are gathered on the
    device; otherwise they stay on the host and each batch is copied from
    pinned memory without blocking.
    """
    X = _host_tensor(X)
    if not is_image:
        return X.to(device=device, dtype=torch.float32)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if X.element_size() * X.nelement() <= free // 4:
            return X.to(device)
    return X


def _fitted_augmentation(augmentation, X, device):
    """A copy of the augmentation, fitted on X if it learns statistics,
    with its statistics on the training device."""
    if X is not None and hasattr(augmentation, "fit"):
        augmentation = copy.deepcopy(augmentation).fit(X)
    _move_augmentation(augmentation, device)
    return augmentation


def _move_augmentation(augmentation, device):
    """Move the tensors an augmentation learned in ``fit`` to ``device``.

    After training they go back to the CPU, so a model trained on a GPU
    unpickles on a CPU-only machine.
    """
    for name, value in vars(augmentation).items() if hasattr(augmentation, "__dict__") else ():
        if isinstance(value, torch.Tensor):
            setattr(augmentation, name, value.to(device))


__all__ = ["SepCLRTransformer", "TrainingDivergedError"]
