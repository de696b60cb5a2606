"""The SepCLR objective as plain PyTorch functions.

Usable from any training loop (Lightning, Accelerate, a bare loop): each
primitive is a small function of tensors, and :func:`sepclr_loss` combines
them as in Louiset et al., "Separating common from salient patterns with
Contrastive Representation Learning", ICLR 2024 (arXiv 2402.11928):

.. math::

    L = (A_c + w_u U_c) + \\beta_s (A_s + w_u U_s) + \\beta_r R + \\lambda J
        + \\lambda_r J_r + \\mu D + \\nu V

with the Gaussian kernel :math:`K(a, b) = \\exp(-\\|a - b\\|^2 / (2\\tau))`.
All functions are vectorised over the batch, work in float32 and float64, and
return 0 (never NaN) for a term over an empty set of samples.
"""

import math

import torch

__all__ = [
    "alignment",
    "uniformity",
    "joint_entropy",
    "cross_correlation",
    "background_spread",
    "sepclr_loss",
    "TERM_NAMES",
    "SALIENT_UNIFORMITY_MODES",
    "REPRESENTATION_JEM_ENCODERS",
    "DECORRELATION_ENCODERS",
]

#: Keys of the ``terms`` dictionary returned by :func:`sepclr_loss`.
TERM_NAMES = (
    "common_alignment",
    "common_uniformity",
    "salient_alignment",
    "salient_uniformity",
    "background",
    "jem",
    "representation_jem",
    "decorrelation",
    "background_spread",
)

#: Accepted values of ``salient_uniformity`` in :func:`sepclr_loss`.
SALIENT_UNIFORMITY_MODES = ("per_background", "single")

#: Accepted values of ``representation_jem_encoder`` in :func:`sepclr_loss`.
REPRESENTATION_JEM_ENCODERS = ("both", "common", "salient")

#: Accepted values of ``decorrelation_encoder`` in :func:`sepclr_loss`.
DECORRELATION_ENCODERS = REPRESENTATION_JEM_ENCODERS


def _squared_distances(z):
    """Pairwise squared Euclidean distances, shape (n, n).

    The Gram-matrix form avoids an (n, n, d) intermediate; clamping removes
    the tiny negatives of round-off, and unlike ``torch.cdist`` there is no
    square root whose gradient is infinite at distance 0.
    """
    sq = (z * z).sum(dim=1)
    gram = z @ z.T
    return (sq[:, None] + sq[None, :] - 2.0 * gram).clamp_min(0.0)


def alignment(z1, z2, *, temperature=0.5, mask=None):
    """Alignment of two views: mean of ``||z1_i - z2_i||^2 / (2 tau)``.

    Parameters
    ----------
    z1, z2 : torch.Tensor of shape (n, d)
        Embeddings of the first and the second view of the same samples.
    temperature : float, default=0.5
        Kernel bandwidth ``tau``.
    mask : torch.Tensor of bool, shape (n,), default=None
        Samples to average over (e.g. the target samples for the salient
        alignment). ``None`` means all samples.

    Returns
    -------
    torch.Tensor
        Scalar; 0 when ``mask`` selects no sample.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sepclr.losses import alignment
    >>> z1 = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    >>> z2 = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    >>> float(alignment(z1, z2, temperature=0.5))
    0.5
    """
    per_sample = ((z1 - z2) ** 2).sum(dim=1) / (2.0 * temperature)
    return _masked_mean(per_sample, mask)


def _masked_mean(values, mask):
    if mask is None:
        return values.mean() if values.numel() else values.sum()
    # sum / max(count, 1): an empty set gives exactly 0 and a finite gradient.
    count = mask.sum().clamp_min(1).to(values.dtype)
    return (values * mask.to(values.dtype)).sum() / count


def uniformity(z, *, temperature=0.5):
    """Uniformity: ``log`` of the mean Gaussian kernel over pairs ``i < j``.

    Minimising it spreads the embeddings (Wang & Isola, 2020); it is the
    kernel estimate of minus the entropy of the embedding distribution.

    Parameters
    ----------
    z : torch.Tensor of shape (n, d)
        Embeddings of one view.
    temperature : float, default=0.5
        Kernel bandwidth ``tau``.

    Returns
    -------
    torch.Tensor
        Scalar; 0 when ``n < 2`` (no pair).

    Examples
    --------
    >>> import torch
    >>> from sklearn_sepclr.losses import uniformity
    >>> z = torch.tensor([[0.0], [1.0]])
    >>> float(uniformity(z, temperature=0.5))  # log(exp(-1))
    -1.0
    """
    n = z.shape[0]
    if n < 2:
        return z.sum() * 0.0
    rows, cols = torch.triu_indices(n, n, offset=1, device=z.device)
    log_kernel = -_squared_distances(z)[rows, cols] / (2.0 * temperature)
    return torch.logsumexp(log_kernel, dim=0) - math.log(rows.numel())


def joint_entropy(common, salient, *, temperature=0.5):
    """Kernel estimate of minus the joint entropy of common and salient codes.

    ``mean_i log( mean_j K(c_i, c_j) K(s_i, s_j) )`` with ``j = i`` included
    (the k-JEM term of SepCLR). Minimising it maximises ``H(c, s)`` and, with
    the uniformity terms holding ``H(c)`` and ``H(s)``, drives the mutual
    information ``I(c; s) = H(c) + H(s) - H(c, s)`` towards 0.

    Parameters
    ----------
    common, salient : torch.Tensor of shape (n, d_c) and (n, d_s)
        Common and salient embeddings of the same samples (one view).
    temperature : float, default=0.5
        Kernel bandwidth ``tau``.

    Returns
    -------
    torch.Tensor
        Scalar, at most 0 (it is 0 when all samples coincide).

    Examples
    --------
    >>> import torch
    >>> from sklearn_sepclr.losses import joint_entropy
    >>> c = torch.zeros(3, 2)
    >>> s = torch.zeros(3, 2)
    >>> float(joint_entropy(c, s))
    0.0
    """
    n = common.shape[0]
    if n == 0:
        return common.sum() * 0.0
    distances = _squared_distances(common) + _squared_distances(salient)
    log_kernel = -distances / (2.0 * temperature)
    return (torch.logsumexp(log_kernel, dim=1) - math.log(n)).mean()


def cross_correlation(common, salient, *, eps=1e-4):
    """Mean squared Pearson correlation between the columns of two blocks.

    .. math::

        D = \\frac{1}{d_c d_s} \\sum_{i, j} \\rho(c_{\\cdot i}, s_{\\cdot j})^2

    over the ``n`` rows of the batch. It is 0 when every common feature is
    uncorrelated with every salient feature in the batch (a necessary
    condition of independence) and 1 when each is an affine function of
    the other. Unlike :func:`joint_entropy` it has no kernel width, so it
    does not saturate when the codes lie far apart; it only sees linear
    dependence, the kind a linear probe reads.

    Parameters
    ----------
    common : torch.Tensor of shape (n, d_c)
        One block of features (e.g. the common representations).
    salient : torch.Tensor of shape (n, d_s)
        The other block, for the same samples.
    eps : float, default=1e-4
        Added to each column's standard deviation, so constant columns
        count as uncorrelated instead of dividing by zero.

    Returns
    -------
    torch.Tensor
        Scalar in [0, 1]; 0 when ``n < 2``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sepclr.losses import cross_correlation
    >>> c = torch.tensor([[0.0], [1.0], [2.0]])
    >>> round(float(cross_correlation(c, 3 * c + 1)), 3)
    1.0
    >>> round(float(cross_correlation(c, torch.tensor([[1.0], [-2.0], [1.0]]))), 3)
    0.0
    """
    n = common.shape[0]
    if n < 2:
        return common.sum() * 0.0 + salient.sum() * 0.0

    def standardised(x):
        x = x - x.mean(dim=0)
        return x / (x.std(dim=0) + eps)

    correlation = standardised(common).T @ standardised(salient) / (n - 1)
    return (correlation**2).mean()


def _masked_variance(x, mask):
    """Per-column unbiased variance of the rows of ``x`` where ``mask``
    holds (0 for fewer than two rows); no host synchronisation."""
    weights = mask.to(x.dtype)[:, None]
    count = weights.sum()
    mean = (weights * x).sum(dim=0) / count.clamp_min(1)
    return (weights * (x - mean) ** 2).sum(dim=0) / (count - 1).clamp_min(1)


def background_spread(features, is_target, *, eps=1e-8):
    """The background's share of each feature's variance, averaged over the features.

    .. math::

        V = \\frac{1}{d} \\sum_j \\frac{\\mathrm{Var}_{bg}(z_{\\cdot j})}
            {\\mathrm{Var}_{bg}(z_{\\cdot j}) + \\mathrm{Var}_{tg}(z_{\\cdot j})
            + \\epsilon}

    over the rows of a batch, each variance taken within its group. A
    feature that varies among the targets but not among the backgrounds
    scores 0: it can only carry what the targets have and the backgrounds
    lack. One that varies alike in both groups scores 1/2, one that varies
    in the backgrounds alone 1. Each feature is compared with itself, so
    rescaling or shifting a feature, which a linear probe that standardises
    its inputs does not see either, leaves ``V`` unchanged, and shrinking
    the features does not lower it.

    Parameters
    ----------
    features : torch.Tensor of shape (n, d)
        Features of background and target samples (e.g. the salient
        representations).
    is_target : torch.Tensor of bool, shape (n,)
        True for target rows, False for background rows.
    eps : float, default=1e-8
        Added to each denominator, so a feature constant over the batch
        scores 0 instead of dividing by zero.

    Returns
    -------
    torch.Tensor
        Scalar in [0, 1); 0 with fewer than two target rows or two
        background rows.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sepclr.losses import background_spread
    >>> is_target = torch.tensor([False, False, True, True])
    >>> z = torch.tensor([[0.0, 0.0], [0.0, 2.0], [-1.0, 0.0], [1.0, 2.0]])
    >>> round(float(background_spread(z, is_target)), 3)  # (0/2 + 2/4) / 2
    0.25
    """
    is_target = is_target.to(device=features.device, dtype=torch.bool)
    background = _masked_variance(features, ~is_target)
    target = _masked_variance(features, is_target)
    share = (background / (background + target + eps)).mean()
    both = (is_target.sum() >= 2) & ((~is_target).sum() >= 2)
    return torch.where(both, share, torch.zeros_like(share))


def _salient_uniformity(salient_hat, is_target, mode, temperature):
    """``U_s`` of one view; ``salient_hat`` has its background rows at s' = 0."""
    if mode == "single":
        # The target rows and one row of the constant s' = 0.
        s_prime = salient_hat.new_zeros(1, salient_hat.shape[1])
        salient_hat = torch.cat([salient_hat[is_target], s_prime])
    return uniformity(salient_hat, temperature=temperature)


def sepclr_loss(
    common1,
    common2,
    salient1,
    salient2,
    is_target,
    *,
    temperature=0.5,
    uniformity_weight=2.0,
    salient_weight=1000.0,
    background_weight=1000.0,
    jem_weight=10.0,
    salient_uniformity="per_background",
    representations=None,
    representation_jem_weight=0.0,
    representation_jem_encoder="both",
    decorrelation_weight=0.0,
    decorrelation_encoder="common",
    background_spread_weight=0.0,
):
    """The SepCLR objective on a mini-batch of two augmented views.

    Parameters
    ----------
    common1, common2 : torch.Tensor of shape (n, d_c)
        Raw outputs of the common projection head for view 1 and view 2.
        They are normalised to the unit sphere here.
    salient1, salient2 : torch.Tensor of shape (n, d_s)
        Raw outputs of the salient projection head (Euclidean, not
        normalised).
    is_target : torch.Tensor of bool, shape (n,)
        True for target samples, False for background samples.
    temperature : float, default=0.5
        Bandwidth ``tau`` of the Gaussian kernel shared by every term.
    uniformity_weight : float, default=2.0
        Weight ``w_u`` of both uniformity terms.
    salient_weight : float, default=1000.0
        Weight ``beta_s`` of the salient alignment and s'-uniformity.
    background_weight : float, default=1000.0
        Weight ``beta_r`` of the background term that pulls background salient
        codes to the constant ``s' = 0``.
    jem_weight : float, default=10.0
        Weight ``lambda`` of the k-JEM term (0 switches it off).
    salient_uniformity : {"per_background", "single"}, default="per_background"
        How the constant ``s'`` enters the salient uniformity ``U_s``.
        ``"per_background"`` is the paper's s'-uniformity: every background
        row becomes one copy of ``s'``. With balanced batches a quarter of
        the pairs are then ``s'``-``s'`` pairs of kernel value 1, which hold
        most of the kernel sum once the targets spread, so the repulsion
        between target codes gets a small share of the gradient.
        ``"single"`` counts ``s'`` once: ``U_s`` is the uniformity of the
        target codes together with one ``s'``, which spreads the targets
        among themselves and away from ``s'``.
    representations : tuple of 4 torch.Tensor or None, default=None
        The encoder outputs ``(r_c1, r_c2, r_s1, r_s2)`` that fed the
        projection heads, for the term ``J_r`` (not in the paper): k-JEM
        on the representations of the target samples, each normalised to
        the unit sphere, mean of the two views. The paper's k-JEM acts on
        the projections; the representations before the heads, which
        ``transform`` returns and the probes read, can keep dependences
        the heads drop. None: ``J_r = 0``.
    representation_jem_weight : float, default=0.0
        Weight ``lambda_r`` of ``J_r`` (0 switches it off).
    representation_jem_encoder : {"both", "common", "salient"}, default="both"
        Which encoder ``J_r`` trains: its gradient reaches the common and
        the salient representations (``"both"``), or only one side, the
        other side's representations entering the term detached. The value
        of ``J_r`` is the same; only where its gradient goes changes.
    decorrelation_weight : float, default=0.0
        Weight ``mu`` of the term ``D`` (not in the paper): the
        :func:`cross_correlation` of the common and salient
        ``representations`` of the target samples, mean of the two views.
        ``decorrelation_encoder`` says which encoder it trains. Needs
        ``representations``.
    decorrelation_encoder : {"common", "salient", "both"}, default="common"
        Which encoder ``D`` trains, the other side's representations
        entering it detached, as for ``representation_jem_encoder``.
        ``"common"``: the common features give up what they share linearly
        with the salient ones; ``"salient"``: the salient features give up
        what they share with the common ones. The value of ``D`` is the
        same; only where its gradient goes changes.
    background_spread_weight : float, default=0.0
        Weight ``nu`` of the term ``V`` (not in the paper): the
        :func:`background_spread` of the salient ``representations``, mean
        of the two views. The background term ``R`` pins the background's
        salient *projections* to s' = 0, which the projection head can do
        by dropping what the backgrounds vary in; ``V`` asks the same of the
        salient encoder, feature by feature, relative to the targets'
        spread. It trains the salient encoder only. Needs
        ``representations``.

    Returns
    -------
    total : torch.Tensor
        Scalar loss to minimise.
    terms : dict of str to torch.Tensor
        The unweighted terms, keyed by :data:`TERM_NAMES`:
        ``common_alignment`` (A_c), ``common_uniformity`` (U_c),
        ``salient_alignment`` (A_s, over targets), ``salient_uniformity``
        (U_s, see ``salient_uniformity``), ``background`` (R, over
        background samples), ``jem`` (J), ``representation_jem`` (J_r)
        and ``decorrelation`` (D); the last two are 0 without
        ``representations``.

    Notes
    -----
    Background rows of the salient codes are replaced by the constant
    ``s' = 0`` in the s'-uniformity and k-JEM terms, so they receive gradient
    only from the background term. A term over an empty set (no target or no
    background sample) is 0.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sepclr.losses import TERM_NAMES, sepclr_loss
    >>> g = torch.Generator().manual_seed(0)
    >>> c1, c2, s1, s2 = (torch.randn(4, 3, generator=g) for _ in range(4))
    >>> is_target = torch.tensor([False, False, True, True])
    >>> total, terms = sepclr_loss(c1, c2, s1, s2, is_target)
    >>> tuple(terms) == TERM_NAMES
    True
    >>> bool(total.isfinite())
    True
    """
    _check_option("salient_uniformity", salient_uniformity, SALIENT_UNIFORMITY_MODES)
    _check_option(
        "representation_jem_encoder", representation_jem_encoder, REPRESENTATION_JEM_ENCODERS
    )
    _check_option("decorrelation_encoder", decorrelation_encoder, DECORRELATION_ENCODERS)
    is_target = is_target.to(device=common1.device, dtype=torch.bool)
    is_background = ~is_target
    tau = temperature
    c1 = torch.nn.functional.normalize(common1, dim=1)
    c2 = torch.nn.functional.normalize(common2, dim=1)
    # zh_s: background salient rows replaced by the constant s' = 0.
    sh1 = torch.where(is_target[:, None], salient1, torch.zeros_like(salient1))
    sh2 = torch.where(is_target[:, None], salient2, torch.zeros_like(salient2))

    background_norm = (
        _masked_mean((salient1**2).sum(dim=1), is_background)
        + _masked_mean((salient2**2).sum(dim=1), is_background)
    ) / (4.0 * tau)
    terms = {
        "common_alignment": alignment(c1, c2, temperature=tau),
        "common_uniformity": 0.5
        * (uniformity(c1, temperature=tau) + uniformity(c2, temperature=tau)),
        "salient_alignment": alignment(salient1, salient2, temperature=tau, mask=is_target),
        "salient_uniformity": 0.5
        * (
            _salient_uniformity(sh1, is_target, salient_uniformity, tau)
            + _salient_uniformity(sh2, is_target, salient_uniformity, tau)
        ),
        "background": background_norm,
        "jem": 0.5
        * (
            joint_entropy(c1, sh1, temperature=tau)
            + joint_entropy(c2, sh2, temperature=tau)
        ),
        "representation_jem": _representation_jem(
            representations, is_target, tau, c1, representation_jem_encoder
        ),
        "decorrelation": _decorrelation(
            representations, is_target, c1, decorrelation_encoder
        ),
        "background_spread": _salient_background_spread(representations, is_target, c1),
    }
    total = (
        terms["common_alignment"]
        + uniformity_weight * terms["common_uniformity"]
        + salient_weight
        * (terms["salient_alignment"] + uniformity_weight * terms["salient_uniformity"])
        + background_weight * terms["background"]
        + jem_weight * terms["jem"]
        + representation_jem_weight * terms["representation_jem"]
        + decorrelation_weight * terms["decorrelation"]
        + background_spread_weight * terms["background_spread"]
    )
    return total, terms


def _check_option(name, value, options):
    """Raise a ValueError naming ``name`` unless ``value`` is in ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {options}; got {value!r}.")


def _target_representations(representations, is_target, encoder):
    """The target rows of the four encoder outputs ``(r_c1, r_c2, r_s1,
    r_s2)``; ``encoder`` names the side whose gradient is kept (``"both"``:
    both), the other side's outputs are detached."""
    if len(representations) != 4:
        raise ValueError(
            "representations must be the 4 encoder outputs (r_c1, r_c2, r_s1, r_s2); "
            f"got {len(representations)}."
        )
    detached = {"both": (), "common": (2, 3), "salient": (0, 1)}[encoder]
    return tuple(
        (r.detach() if i in detached else r)[is_target] for i, r in enumerate(representations)
    )


def _representation_jem(representations, is_target, temperature, like, encoder):
    """``J_r``: k-JEM of the unit-normalised target representations, mean
    of the two views (0, of ``like``'s dtype, without representations).
    ``encoder`` names the side whose gradient is kept (``"both"``: both)."""
    if representations is None:
        return like.new_zeros(())
    common1, common2, salient1, salient2 = (
        torch.nn.functional.normalize(r, dim=1)
        for r in _target_representations(representations, is_target, encoder)
    )
    return 0.5 * (
        joint_entropy(common1, salient1, temperature=temperature)
        + joint_entropy(common2, salient2, temperature=temperature)
    )


def _decorrelation(representations, is_target, like, encoder):
    """``D``: cross-correlation of the target rows' common and salient
    representations, mean of the two views (0 without representations).
    ``encoder`` names the side whose gradient is kept (``"both"``: both),
    the other side's representations entering as constants."""
    if representations is None:
        return like.new_zeros(())
    common1, common2, salient1, salient2 = _target_representations(
        representations, is_target, encoder
    )
    return 0.5 * (cross_correlation(common1, salient1) + cross_correlation(common2, salient2))


def _salient_background_spread(representations, is_target, like):
    """``V``: :func:`background_spread` of the salient representations, mean
    of the two views (0 without representations)."""
    if representations is None:
        return like.new_zeros(())
    _, _, salient1, salient2 = representations
    return 0.5 * (
        background_spread(salient1, is_target) + background_spread(salient2, is_target)
    )
