"""dSprites-style shapes over a grid of MNIST digits (SepCLR's disentanglement set)."""

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._mnist import MNIST_ATTRIBUTION, check_size, draw_digits

SHAPES = ("square", "ellipse", "heart", "triangle")
_GRID_POSITIONS = ("top_left", "top_right", "bottom_left", "bottom_right")
# Radius of a shape at scale 1, as a fraction of the image side. Every shape
# fits in a disc of this radius, whatever its rotation, so centres drawn at
# least this far from the borders keep the whole shape inside the image.
_RADIUS = 0.2
_MIN_SCALE = 0.5
# Samples whose masks are computed at once: bounds the float32 temporaries
# (a few arrays of _CHUNK * image_size**2 values) at large sizes.
_CHUNK = 1024

_DESCR = f"""\
dSprites on an MNIST grid
-------------------------

A procedural version of the disentanglement experiment of SepCLR (Louiset,
Duchesnay, Grigis, Gori, ICLR 2024), after the dSprites shapes (Matthey et
al., 2017, https://github.com/google-deepmind/dsprites-dataset), drawn here
from their equations rather than taken from that dataset. Background
images are 2 x 2 grids of MNIST digits; target images are such grids with
one white shape drawn over them. The four digits are common factors (both
groups); the shape's kind, scale, rotation and position are salient factors
(target only):

- ``shape``: index in ``shape_names`` (square, ellipse, heart, triangle);
- ``scale``: uniform in [0.5, 1], the shape's radius being ``0.2 * scale *
  image_size`` pixels;
- ``rotation``: uniform in [0, 2 pi) radians, counter-clockwise (a square
  looks the same modulo pi / 2, an ellipse modulo pi, a triangle modulo
  2 pi / 3);
- ``position_x``, ``position_y``: uniform in [0, 1], the centre's position
  from left to right and from top to bottom, between 0.2 and 0.8 of the
  image side.

{MNIST_ATTRIBUTION}
"""


def _inside(name, u, v):
    """Whether points (u, v) of a shape's own frame (radius 1, v up) are inside."""
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.7
    if name == "ellipse":
        return u**2 + (v / 0.5) ** 2 <= 1
    if name == "heart":
        # (x^2 + y^2 - 1)^3 <= x^2 y^3, a classic heart curve spanning about
        # [-1.14, 1.14] x [-1, 1.24]; shrunk and lowered to fit the unit disc.
        x, y = 1.2 * u, 1.2 * v + 0.12
        return (x**2 + y**2 - 1) ** 3 <= x**2 * y**3
    # Equilateral triangle, apex up, circumradius 1: three half-planes whose
    # outward normals point down, up-right and up-left, each at distance 1/2.
    inside = v >= -0.5
    for angle in (np.pi / 6, 5 * np.pi / 6):
        inside &= u * np.cos(angle) + v * np.sin(angle) <= 0.5
    return inside


def _shape_masks(shape, centre_x, centre_y, radius, rotation, size):
    """Boolean masks (n, size, size) of rotated shapes, in pixel units."""
    pixels = np.arange(size, dtype=np.float32) + 0.5
    masks = np.empty((len(shape), size, size), dtype=bool)
    for start in range(0, len(shape), _CHUNK):
        block = slice(start, start + _CHUNK)
        x, y, r, angle = (
            a[block, None, None].astype(np.float32) for a in (centre_x, centre_y, radius, rotation)
        )
        dx, dy = (pixels[None, None, :] - x) / r, (y - pixels[None, :, None]) / r
        cos, sin = np.cos(angle), np.sin(angle)
        # Undo the shape's rotation: a pixel is inside the rotated shape when
        # its position rotated by -rotation is inside the upright one.
        u, v = cos * dx + sin * dy, cos * dy - sin * dx
        for index, name in enumerate(SHAPES):
            picked = shape[block] == index
            masks[block][picked] = _inside(name, u[picked], v[picked])
    return masks


def _digit_grids(n, size, rng):
    """``n`` 2 x 2 grids of MNIST digits, uint8 (n, size, size), and labels (n, 4)."""
    half = size // 2
    digits, labels = draw_digits(4 * n, half, rng)
    grids = digits.reshape(n, 2, 2, half, half).transpose(0, 1, 3, 2, 4)
    return grids.reshape(n, size, size), labels.reshape(n, 4)


def make_dsprites_grid(n_background=5000, n_target=5000, *, image_size=32, random_state=None):
    """Make dSprites-style shapes over grids of MNIST digits.

    Background images are 2 x 2 grids of MNIST digits; target images are
    such grids with a white shape (square, ellipse, heart or triangle) of
    random scale, rotation and position drawn over them. The four digits
    are common factors; the shape's kind, scale, rotation and position are
    salient factors, continuous ones included. Read more in ``data.DESCR``.

    Parameters
    ----------
    n_background, n_target : int, default=5000
        Number of background and target images.
    image_size : int, default=32
        Side of the square images, in pixels: even, at least 16 (32 or 64
        are the usual choices); each digit fills a quarter of it.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw (digits, shapes and their parameters).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With keys ``X_background`` (n_background, 1, image_size, image_size)
        and ``X_target`` (n_target, 1, image_size, image_size), uint8 in
        0-255; ``background_attributes`` with the digit labels
        ``"digit_top_left"``, ``"digit_top_right"``, ``"digit_bottom_left"``,
        ``"digit_bottom_right"`` (int in 0-9), ``target_attributes`` with
        these and ``"shape"`` (int index in ``shape_names``), ``"scale"``,
        ``"rotation"``, ``"position_x"``, ``"position_y"`` (float);
        ``common_attributes`` (the four digit names), ``salient_attributes``
        (the five shape names); ``shape_names``; ``image_shape`` (1,
        image_size, image_size); ``DESCR``.

    Examples
    --------
    >>> from sklearn_sepclr.datasets import make_dsprites_grid
    >>> data = make_dsprites_grid(n_background=3, n_target=2, random_state=0)
    >>> data.X_target.shape, data.X_target.dtype
    ((2, 1, 32, 32), dtype('uint8'))
    >>> data.salient_attributes
    ['shape', 'scale', 'rotation', 'position_x', 'position_y']
    """
    check_size("n_background", n_background, 1)
    check_size("n_target", n_target, 1)
    check_size("image_size", image_size, 16)
    if image_size % 2:
        raise ValueError(f"image_size must be even; got {image_size}.")
    rng = check_random_state(random_state)
    grids, digits = _digit_grids(n_background + n_target, image_size, rng)
    salient = {
        "shape": rng.randint(len(SHAPES), size=n_target),
        "scale": rng.uniform(_MIN_SCALE, 1.0, size=n_target),
        "rotation": rng.uniform(0.0, 2 * np.pi, size=n_target),
        "position_x": rng.uniform(0.0, 1.0, size=n_target),
        "position_y": rng.uniform(0.0, 1.0, size=n_target),
    }
    span = (1 - 2 * _RADIUS) * image_size
    masks = _shape_masks(
        salient["shape"],
        _RADIUS * image_size + span * salient["position_x"],
        _RADIUS * image_size + span * salient["position_y"],
        _RADIUS * image_size * salient["scale"],
        salient["rotation"],
        image_size,
    )
    target = grids[n_background:].copy()
    target[masks] = 255
    common = {f"digit_{where}": digits[:, k] for k, where in enumerate(_GRID_POSITIONS)}
    return Bunch(
        X_background=grids[:n_background, None].copy(),
        X_target=target[:, None],
        background_attributes={name: value[:n_background] for name, value in common.items()},
        target_attributes={
            **{name: value[n_background:] for name, value in common.items()},
            **salient,
        },
        common_attributes=list(common),
        salient_attributes=list(salient),
        shape_names=list(SHAPES),
        image_shape=(1, image_size, image_size),
        DESCR=_DESCR,
    )
