"""Stochastic views for contrastive training, batched on the training device.

An augmentation is any callable ``augment(x_batch, generator) -> x_batch``
that keeps the batch shape and draws its randomness from ``generator`` (a
``torch.Generator`` on the batch's device), so that fits are reproducible
from ``random_state``. The built-in ones also have a ``fit(X)`` step that
learns data statistics (per-feature spread) once, before training.
"""

import functools
import math

import torch
import torch.nn.functional as F


class TabularAugmentation:
    """Gaussian noise plus random feature masking, scaled per feature.

    Each entry gets noise ``noise_scale * std_j * N(0, 1)``; then, with
    probability ``mask_prob``, it is replaced by its feature's mean (the value
    that carries no information about the sample). Scaling by each feature's
    standard deviation makes the views equally hard whatever the units of
    the columns.

    Parameters
    ----------
    noise_scale : float, default=0.1
        Noise standard deviation, as a fraction of each feature's.
    mask_prob : float, default=0.2
        Probability that an entry is masked.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sepclr import SepCLRTransformer, TabularAugmentation
    >>> X = torch.randn(100, 5)
    >>> augment = TabularAugmentation(noise_scale=0.2).fit(X)
    >>> augment(X[:4], torch.Generator().manual_seed(0)).shape
    torch.Size([4, 5])
    >>> est = SepCLRTransformer(augmentation=TabularAugmentation(mask_prob=0.1))
    """

    def __init__(self, noise_scale=0.1, mask_prob=0.2):
        self.noise_scale = noise_scale
        self.mask_prob = mask_prob

    def fit(self, X):
        X = X.flatten(start_dim=1).float()
        self.mean_ = X.mean(dim=0)
        # A constant column gets no noise rather than a division by zero.
        self.std_ = X.std(dim=0, correction=0) if len(X) > 1 else torch.zeros_like(self.mean_)
        return self

    def __call__(self, x, generator):
        shape = x.shape
        x = x.flatten(start_dim=1)
        mean = self.mean_.to(device=x.device, dtype=x.dtype)
        std = self.std_.to(device=x.device, dtype=x.dtype)
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        x = x + self.noise_scale * std * noise
        masked = torch.rand(x.shape, generator=generator, device=x.device) < self.mask_prob
        x = torch.where(masked, mean.expand_as(x), x)
        return x.reshape(shape)


class ScarfAugmentation:
    """SCARF corruption: random features replaced by draws from their marginal.

    Each entry is, with probability ``corruption_prob``, replaced by the same
    feature of another training sample drawn uniformly (Bahri et al.,
    "SCARF: Self-Supervised Contrastive Learning using Random Feature
    Corruption", ICLR 2022).

    Parameters
    ----------
    corruption_prob : float, default=0.6
        Probability that an entry is replaced (the paper's default).

    Examples
    --------
    >>> import torch
    >>> from sklearn_sepclr import ScarfAugmentation
    >>> X = torch.arange(12.0).reshape(4, 3)
    >>> view = ScarfAugmentation(corruption_prob=1.0).fit(X)(X, torch.Generator().manual_seed(0))
    >>> bool(torch.isin(view[:, 0], X[:, 0]).all())  # draws from the same column
    True
    """

    def __init__(self, corruption_prob=0.6):
        self.corruption_prob = corruption_prob

    def fit(self, X):
        self.pool_ = X.flatten(start_dim=1).float()
        return self

    def __call__(self, x, generator):
        shape = x.shape
        x = x.flatten(start_dim=1)
        pool = self.pool_.to(device=x.device, dtype=x.dtype)
        rows = torch.randint(len(pool), x.shape, generator=generator, device=x.device)
        draws = torch.gather(pool, 0, rows)
        corrupt = torch.rand(x.shape, generator=generator, device=x.device) < self.corruption_prob
        return torch.where(corrupt, draws, x).reshape(shape)


#: ITU-R BT.601 luma weights, the grayscale that torchvision and kornia use.
_LUMA = (0.299, 0.587, 0.114)

#: How many crop boxes are drawn per sample before falling back (torchvision's).
_CROP_TRIES = 10


class ImageAugmentation:
    """SimCLR image views, drawn per sample and batched on the device.

    Applies, in this order, a random resized crop (rescaled back to the input
    size) with a random horizontal flip, a colour jitter, and a random
    grayscale, as in SimCLR (Chen et al., ICML 2020, Appendix A). Every
    sample gets its own crop box, flip, jitter factors and grayscale draw,
    but the whole batch goes through a handful of tensor operations (one
    ``grid_sample`` for all the crops), so it runs at the speed of the
    device that holds the batch rather than one image at a time on the CPU.

    Called as ``augment(x, generator)``, with ``x`` a float tensor of shape
    ``(n, C, H, W)`` and values in [0, 1], and ``generator`` a
    ``torch.Generator`` on the same device; returns a tensor of the same
    shape, dtype and range. Saturation, hue and grayscale only make sense
    for RGB images: with another number of channels only brightness and
    contrast are jittered.

    Parameters
    ----------
    crop_scale : tuple of float, default=(0.6, 1.0)
        Range of the crop area, as a fraction of the image area. Milder than
        SimCLR's (0.08, 1.0) on ImageNet or (0.2, 1.0) on CIFAR: in
        contrastive analysis the salient pattern is often a small object
        (a digit, a lesion) that an aggressive crop removes from one view,
        so the views no longer share it. On MNIST on grass (16 px, 100
        epochs) ``(0.2, 1.0)`` lost to ``(0.6, 1.0)``; see
        ``benchmarks/README.md``.
    crop_ratio : tuple of float, default=(3/4, 4/3)
        Range of the crop aspect ratio (width / height), drawn log-uniformly.
    flip_prob : float, default=0.5
        Probability of a horizontal flip.
    jitter_prob : float, default=0.8
        Probability that a sample's colours are jittered.
    brightness : float, default=0.4
        Brightness factor drawn from ``[1 - brightness, 1 + brightness]``.
    contrast : float, default=0.4
        Contrast factor drawn from ``[1 - contrast, 1 + contrast]``.
    saturation : float, default=0.4
        Saturation factor drawn from ``[1 - saturation, 1 + saturation]``.
    hue : float, default=0.1
        Hue shift drawn from ``[-hue, hue]``, in turns of the colour wheel.
    grayscale_prob : float, default=0.2
        Probability that a sample is turned to gray (kept as 3 channels).

    See Also
    --------
    TabularAugmentation : Views of tabular data.

    Notes
    -----
    Differences from torchvision's per-image transforms, all for batching:
    crop offsets are continuous rather than whole pixels; the jitter
    applies brightness, contrast, saturation and hue in this fixed order
    rather than a random one; and the hue shift is a rotation of the
    colours about the gray axis (one 3x3 matrix per sample) rather than a
    shift in HSV space. None of the steps reads a value back from the
    device, so GPU training never waits on the augmentation.

    Examples
    --------
    >>> import torch
    >>> from sklearn_sepclr import ImageAugmentation
    >>> augment = ImageAugmentation().fit(None)
    >>> images = torch.rand(4, 3, 32, 32)
    >>> views = augment(images, torch.Generator().manual_seed(0))
    >>> views.shape
    torch.Size([4, 3, 32, 32])
    >>> bool(views.min() >= 0 and views.max() <= 1)
    True
    """

    def __init__(
        self,
        crop_scale=(0.6, 1.0),
        crop_ratio=(3 / 4, 4 / 3),
        flip_prob=0.5,
        jitter_prob=0.8,
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.1,
        grayscale_prob=0.2,
    ):
        self.crop_scale = crop_scale
        self.crop_ratio = crop_ratio
        self.flip_prob = flip_prob
        self.jitter_prob = jitter_prob
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.grayscale_prob = grayscale_prob

    def fit(self, X):
        """Do nothing: the views need no statistics of the data.

        Parameters
        ----------
        X : object
            Ignored; present for the trainer's ``fit(X)`` protocol.

        Returns
        -------
        self : ImageAugmentation
        """
        return self

    def __call__(self, x, generator):
        dtype = x.dtype
        # Sampling coordinates need float32 at least: bfloat16 would move a
        # 64 px crop by a fraction of a pixel. For the same reason autocast,
        # which would run the colour matmuls in bfloat16, is switched off.
        x = x.to(torch.promote_types(dtype, torch.float32))
        with torch.autocast(x.device.type, enabled=False):
            draw = _Draws(len(x), generator, x.device, x.dtype)
            x = self._crop_and_flip(x, draw)
            x = self._jitter(x, draw)
            if x.shape[1] == 3:
                gray = _to_gray(x).expand_as(x)
                grayscale = draw.bernoulli(self.grayscale_prob)[:, None, None, None]
                x = torch.where(grayscale, gray, x)
        return x.to(dtype)

    def _crop_and_flip(self, x, draw):
        n, _, height, width = x.shape
        crop_w, crop_h = self._crop_size(height / width, draw)
        # One affine map per sample from output to input coordinates, both in
        # grid_sample's [-1, 1] frame: scaling by the crop size, shifting by
        # a centre that keeps the box inside the image, and a negative x
        # scale for the flip. The crop is never larger than the output, so
        # bilinear sampling only upsamples and needs no antialiasing.
        flip = torch.where(draw.bernoulli(self.flip_prob), -1.0, 1.0).to(x.dtype)
        shift_x = (1 - crop_w) * draw.uniform(-1, 1)
        shift_y = (1 - crop_h) * draw.uniform(-1, 1)
        zero = torch.zeros_like(crop_w)
        theta = torch.stack(
            [
                torch.stack([crop_w * flip, zero, shift_x], dim=1),
                torch.stack([zero, crop_h, shift_y], dim=1),
            ],
            dim=1,
        )
        grid = F.affine_grid(theta, [n, 1, height, width], align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def _crop_size(self, aspect, draw):
        """Crop width and height, as fractions of the image's; ``aspect = H / W``.

        Like torchvision, draws several (area, ratio) pairs per sample and
        keeps the first whose box fits in the image; all samples draw them
        at once.
        """
        shape = (_CROP_TRIES,)
        area = draw.uniform(*self.crop_scale, shape)
        log_ratio = draw.uniform(*(math.log(r) for r in self.crop_ratio), shape)
        ratio = torch.exp(log_ratio)
        crop_w = torch.sqrt(area * ratio * aspect)
        crop_h = torch.sqrt(area / ratio / aspect)
        fits = (crop_w <= 1) & (crop_h <= 1)
        first = fits.to(torch.uint8).argmax(dim=1, keepdim=True)  # 0 if none fits
        crop_w = crop_w.gather(1, first).squeeze(1)
        crop_h = crop_h.gather(1, first).squeeze(1)
        # A box that does not fit shrinks to the largest of its shape that
        # does, keeping its aspect ratio within crop_ratio.
        overflow = torch.maximum(crop_w, crop_h).clamp(min=1)
        return crop_w / overflow, crop_h / overflow

    def _jitter(self, x, draw):
        apply = draw.bernoulli(self.jitter_prob)

        def factor(strength, centre=1.0):
            # Unjittered samples get the neutral factor, which leaves them
            # exactly unchanged, so there is no branch per sample.
            f = draw.uniform(centre - strength, centre + strength)
            return torch.where(apply, f, centre)[:, None, None, None]

        brightness = factor(self.brightness)
        contrast = factor(self.contrast)
        saturation = factor(self.saturation)
        hue = factor(self.hue, centre=0.0)
        # A fixed order, where torchvision and kornia shuffle the four steps
        # on each call: choosing an order in Python would read a random
        # number back from the device, a sync that stalls GPU training.
        x = (x * brightness).clamp_(0, 1)
        x = _blend(x, _to_gray(x).mean(dim=(1, 2, 3), keepdim=True), contrast).clamp_(0, 1)
        if x.shape[1] == 3:
            x = _blend(x, _to_gray(x), saturation).clamp_(0, 1)
            x = _rotate_hue(x, hue).clamp_(0, 1)
        return x


class _Draws:
    """Per-sample random numbers, all from one generator on one device."""

    def __init__(self, n, generator, device, dtype):
        self.n = n
        self.generator = generator
        self.device = device
        self.dtype = dtype

    def uniform(self, low, high, shape=()):
        u = torch.rand(
            (self.n, *shape), generator=self.generator, device=self.device, dtype=self.dtype
        )
        return low + (high - low) * u

    def bernoulli(self, p):
        return self.uniform(0, 1) < p


def _to_gray(x):
    """Luma of RGB images; any other image is averaged over its channels."""
    if x.shape[1] == 3:
        # A matmul over flattened pixels: several times faster on CPU than
        # the equivalent einsum or a sum of weighted channel slices.
        luma, _ = _colour_constants(x.device, x.dtype)
        return torch.matmul(luma, x.flatten(2)).reshape(len(x), 1, *x.shape[2:])
    return x.mean(dim=1, keepdim=True)


@functools.lru_cache(maxsize=8)
def _colour_constants(device, dtype):
    """Luma weights and the cross-product matrix of the unit gray axis.

    Cached per device: building a tensor from Python numbers on a GPU is a
    blocking host-to-device copy, which must not happen on every batch.
    """
    luma = torch.tensor(_LUMA, dtype=dtype, device=device)
    cross = torch.tensor([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=dtype, device=device)
    return luma, cross / math.sqrt(3)


def _blend(x, other, factor):
    # factor = 1 returns x; 0 returns other; above 1 pushes x away from it.
    # One fused lerp kernel instead of four elementwise passes.
    return torch.lerp(other, x, factor)


def _rotate_hue(x, hue):
    """Rotate RGB colours about the gray axis by ``hue`` turns, per sample.

    Rodrigues' formula about the unit axis (1, 1, 1) / sqrt(3): gray pixels
    stay gray and a hue of 0 is exactly the identity.
    """
    angle = 2 * math.pi * hue.view(-1, 1, 1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    _, cross = _colour_constants(x.device, x.dtype)
    eye = torch.eye(3, device=x.device, dtype=x.dtype)
    gray_axis = torch.full((3, 3), 1 / 3, device=x.device, dtype=x.dtype)
    rotation = cos * eye + sin * cross + (1 - cos) * gray_axis
    return torch.matmul(rotation, x.flatten(2)).reshape(x.shape)


def _identity(x, generator):
    return x


def _mix_with_background(views, is_target, strength, generator):
    """Blend every view with the same view of a random background of its batch.

    Row ``i`` becomes ``w_i * views[i] + (1 - w_i) * views[j_i]``, with
    ``j_i`` a background row of the batch drawn uniformly (with replacement)
    and ``w_i ~ U(1 - strength, 1)``. A target keeps its salient pattern, at
    weight ``w_i`` or more, over a mixture of two backgrounds' common
    variation; a background blended with a background stays one. A batch
    without background rows is returned unchanged.

    Sync-free on accelerators: the partners are drawn by indexing the rows
    sorted with the backgrounds first, never by reading the number of
    backgrounds back to the host.
    """
    n = len(views)
    is_target = is_target.to(device=views.device, dtype=torch.bool)
    n_background = n - is_target.sum()
    backgrounds_first = torch.argsort(is_target.to(torch.uint8), stable=True)
    draws = _Draws(n, generator, views.device, views.dtype)
    rank = (draws.uniform(0, 1) * n_background).long().clamp_(max=n_background - 1).clamp_(min=0)
    partner = views[backgrounds_first[rank]]
    weight = torch.where(n_background > 0, draws.uniform(1 - strength, 1), 1.0)
    weight = weight.view(n, *([1] * (views.dim() - 1)))
    return _blend(views, partner, weight)


def _resolve_augmentation(augmentation, is_image):
    """Map the estimator's ``augmentation`` parameter to a callable.

    Returns a fresh object, so fitting it never touches the parameter.
    """
    if augmentation is None:
        return _identity
    if isinstance(augmentation, str):
        if augmentation == "auto":
            if is_image:
                return _IMAGE_AUGMENTATION()
            return TabularAugmentation()
        if augmentation == "noise":
            return TabularAugmentation()
        if augmentation == "scarf":
            return ScarfAugmentation()
        raise ValueError(
            "augmentation must be 'auto', 'noise', 'scarf', None or a callable "
            f"augment(x_batch, generator) -> x_batch; got {augmentation!r}."
        )
    if callable(augmentation):
        return augmentation
    raise TypeError(
        "augmentation must be 'auto', 'noise', 'scarf', None or a callable "
        f"augment(x_batch, generator) -> x_batch; got {type(augmentation).__name__}."
    )


#: Factory of the default image augmentation.
_IMAGE_AUGMENTATION = ImageAugmentation
