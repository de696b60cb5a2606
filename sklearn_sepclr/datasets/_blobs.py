"""Synthetic tabular data with known common and salient factors."""

import numpy as np
from sklearn.utils import Bunch, check_random_state

_DESCR = """\
Contrastive blobs
-----------------

Both groups share a *common* factor: a cluster among ``n_common_clusters``
in a 2-D latent space, with a large spread. Only the target group has a
*salient* factor: a cluster among ``n_salient_clusters`` in a second 2-D
latent space (background samples sit at its origin). The 4 latent
coordinates are embedded in ``n_features`` dimensions by a random
orthonormal map, then isotropic noise is added. The common factor carries
more variance than the salient one, so PCA on the pooled data finds the
common clusters first; a contrastive method must find the salient ones.
"""


def make_contrastive_blobs(
    n_background=300,
    n_target=300,
    n_features=20,
    *,
    n_common_clusters=3,
    n_salient_clusters=2,
    common_scale=6.0,
    salient_scale=3.0,
    cluster_std=0.5,
    noise=0.1,
    random_state=None,
):
    """Make background and target tabular data with known factors.

    Parameters
    ----------
    n_background, n_target : int, default=300
        Number of background and target samples.
    n_features : int, default=20
        Number of observed features (at least 4).
    n_common_clusters : int, default=3
        Number of clusters of the common factor (in both groups).
    n_salient_clusters : int, default=2
        Number of clusters of the salient factor (target only).
    common_scale, salient_scale : float, default=6.0 and 3.0
        Spread of the cluster centres of the common and salient factors.
    cluster_std : float, default=0.5
        Within-cluster standard deviation of the latent coordinates.
    noise : float, default=0.1
        Standard deviation of the isotropic noise on the observed features.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With keys ``X_background`` (n_background, n_features) and
        ``X_target`` (n_target, n_features), float64;
        ``background_attributes`` = ``{"common": labels}`` and
        ``target_attributes`` = ``{"common": labels, "salient": labels}``
        (int arrays); ``common_attributes = ["common"]``,
        ``salient_attributes = ["salient"]``; ``mixing`` (4, n_features),
        the orthonormal map of the latent coordinates; ``DESCR``.

    Examples
    --------
    >>> from sklearn_sepclr.datasets import make_contrastive_blobs
    >>> data = make_contrastive_blobs(n_background=5, n_target=4, random_state=0)
    >>> data.X_background.shape, data.X_target.shape
    ((5, 20), (4, 20))
    >>> sorted(data.target_attributes)
    ['common', 'salient']
    """
    if n_features < 4:
        raise ValueError(f"n_features must be at least 4; got {n_features}.")
    rng = check_random_state(random_state)
    common_centres = rng.normal(scale=common_scale, size=(n_common_clusters, 2))
    salient_centres = rng.normal(scale=salient_scale, size=(n_salient_clusters, 2))
    mixing = np.linalg.qr(rng.normal(size=(n_features, 4)))[0].T

    def draw(n, salient):
        common = rng.randint(n_common_clusters, size=n)
        latent = np.zeros((n, 4))
        latent[:, :2] = common_centres[common]
        labels = None
        if salient:
            labels = rng.randint(n_salient_clusters, size=n)
            latent[:, 2:] = salient_centres[labels]
        latent += rng.normal(scale=cluster_std, size=latent.shape)
        X = latent @ mixing + rng.normal(scale=noise, size=(n, n_features))
        return X, common, labels

    X_bg, common_bg, _ = draw(n_background, salient=False)
    X_tg, common_tg, salient_tg = draw(n_target, salient=True)
    return Bunch(
        X_background=X_bg,
        X_target=X_tg,
        background_attributes={"common": common_bg},
        target_attributes={"common": common_tg, "salient": salient_tg},
        common_attributes=["common"],
        salient_attributes=["salient"],
        mixing=mixing,
        DESCR=_DESCR,
    )
