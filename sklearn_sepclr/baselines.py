"""Linear baselines for contrastive analysis, in the package's estimator API.

:class:`ContrastivePCA` is contrastive PCA (cPCA, Abid et al. 2018): the
linear method that SepCLR is compared with. It takes the same three fit forms
as :class:`~sklearn_sepclr.SepCLRTransformer`, so comparing the two is a
matter of swapping one pipeline step.
"""

from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .utils import _fit_groups, _GroupedFitMixin, _split_fit_inputs

__all__ = ["ContrastivePCA"]


class ContrastivePCA(
    _GroupedFitMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Contrastive PCA: directions where the target varies more than the background.

    PCA finds the directions of largest variance of one dataset. When a
    target dataset (patients, treated cells) shares its strongest sources of
    variation with a background dataset (healthy controls, untreated cells),
    those shared directions hide the patterns specific to the target.
    Contrastive PCA (cPCA) instead takes the leading eigenvectors of the
    *contrastive covariance*

    .. math::

        C_\\alpha = \\mathrm{Cov}(X_{target}) - \\alpha\\,\\mathrm{Cov}(X_{background}),

    that is the unit directions :math:`v` that maximise
    :math:`v^\\top \\mathrm{Cov}(X_{target}) v - \\alpha\\,
    v^\\top \\mathrm{Cov}(X_{background}) v`: large target variance, penalised
    by the background variance. With ``alpha=0`` this is PCA of the target;
    the larger ``alpha``, the more any variation also present in the
    background is cancelled. Each covariance is the unbiased sample
    covariance of its group, centred on that group's own mean (a shift of
    the background against the target is not a pattern cPCA looks for).

    cPCA is linear and finds salient directions only: it has no common space.
    Compared with the ``contrastive`` package, this class solves the
    symmetric eigenproblem with a symmetric solver (real, sorted
    eigenvalues), gives components with deterministic signs, and projects new
    data with the mean and scaling learned in :meth:`fit` (so held-out data
    land in the same coordinates as the training data).

    Parameters
    ----------
    n_components : int, default=2
        Number of contrastive directions to keep (at most ``n_features``).
        Two is the usual choice for plots; take more as input to a
        downstream model.

    alpha : float >= 0 or "auto", default=1.0
        Weight of the background covariance. ``1.0`` subtracts the
        background covariance as is, which suits two groups measured on the
        same scale. Increase it to cancel shared variation more strongly
        (cPCA's authors scan a log-spaced range, e.g. 0.1 to 1000; use
        :class:`~sklearn.model_selection.GridSearchCV` with a downstream
        model to choose), decrease it towards 0 to move towards PCA of the
        target. ``"auto"`` sets ``alpha`` to the ratio of the largest
        eigenvalue of the target covariance to the largest eigenvalue of the
        background covariance, so that the strongest background direction,
        once weighted, has exactly the variance of the strongest target
        direction. This makes the result unchanged when the background is
        rescaled by a constant (e.g. measured with another gain); when the
        background has no variance at all, ``alpha_`` is 0. The value used
        is stored in ``alpha_``.

    standardize : bool, default=False
        If True, scale every feature to unit variance (with a
        :class:`~sklearn.preprocessing.StandardScaler` fitted on the pooled
        background and target samples) before computing the covariances;
        :meth:`transform` and :meth:`inverse_transform` reapply it. Use it
        when features have different units. The same scaler fitted on the
        pooled data is what ``make_pipeline(StandardScaler(),
        ContrastivePCA())`` does.

    background_label : "auto" or scalar, default="auto"
        With ``fit(X, y)`` or ``fit(X, y, sample_group=groups)``: the group
        label of the background samples; every other label is target (so
        several patient subtypes are all target). ``"auto"`` takes 0 (or
        False) when present, else the smallest label. Ignored by the
        two-dataset form ``fit(X_background, X_target)``.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The contrastive directions, unit-norm rows, sorted by decreasing
        contrastive eigenvalue. The sign of each row is fixed so that its
        entry of largest absolute value is positive.

    explained_variance_ : ndarray of shape (n_components,)
        The contrastive eigenvalues: target variance minus ``alpha_`` times
        background variance along each component. They may be negative when
        ``alpha_`` is large.

    mean_ : ndarray of shape (n_features,)
        Mean of the target samples (after standardisation when
        ``standardize=True``), subtracted by :meth:`transform`.

    alpha_ : float
        The background weight used (``alpha``, or the value chosen by
        ``"auto"``).

    scaler_ : StandardScaler or None
        The scaler fitted on the pooled data when ``standardize=True``.

    background_label_ : scalar
        The group label taken as background (0 for the two-dataset form).

    n_components_ : int
        Number of components (``n_components``).

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    sklearn.decomposition.PCA : PCA of one dataset (``alpha=0`` on the target).
    sklearn_sepclr.SepCLRTransformer : Non-linear contrastive analysis that
        also learns the common space.
    sklearn_sepclr.stack_groups : Stack background and target into ``(X, y)``.

    Notes
    -----
    The cost is that of a ``(n_features, n_features)`` symmetric
    eigendecomposition, fine up to a few thousand features.

    References
    ----------
    .. [1] A. Abid, M. J. Zhang, V. K. Bagaria and J. Zou, "Exploring
       patterns enriched in a dataset with contrastive principal component
       analysis", Nature Communications 9, 2134 (2018).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn_sepclr.baselines import ContrastivePCA
    >>> from sklearn_sepclr.datasets import make_contrastive_blobs
    >>> data = make_contrastive_blobs(random_state=0)
    >>> cpca = ContrastivePCA(n_components=2).fit(data.X_background, data.X_target)
    >>> cpca.transform(data.X_target).shape
    (300, 2)

    ``data.mixing[2:]`` embeds the target-only (salient) latent plane in the
    20 features. The leading cPCA direction lies almost inside it (a norm of
    1 after projection on the plane), the leading PCA direction of the
    target is almost orthogonal to it:

    >>> salient_plane = data.mixing[2:]
    >>> print(np.linalg.norm(salient_plane @ cpca.components_[0]).round(2))
    0.93
    >>> pca = PCA(n_components=2).fit(data.X_target)
    >>> print(np.linalg.norm(salient_plane @ pca.components_[0]).round(2))
    0.02
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "standardize": ["boolean"],
        "background_label": "no_validation",
    }

    def __init__(self, n_components=2, *, alpha=1.0, standardize=False, background_label="auto"):
        self.n_components = n_components
        self.alpha = alpha
        self.standardize = standardize
        self.background_label = background_label

    def _fit(self, X, y, sample_group):
        """Fit; return the samples fitted on (stacked in the two-dataset form)."""
        X, groups, two_datasets = _split_fit_inputs(X, y, sample_group)
        X_valid = validate_data(self, X, dtype=[np.float64, np.float32])
        n_features = X_valid.shape[1]
        if self.n_components > n_features:
            raise ValueError(
                f"n_components={self.n_components} must be at most the number "
                f"of features, n_features={n_features}."
            )
        is_target, self.background_label_ = _fit_groups(
            groups, X_valid.shape[0], self.background_label, two_datasets
        )
        self.scaler_ = StandardScaler().fit(X_valid) if self.standardize else None
        if self.scaler_ is not None:
            X_valid = self.scaler_.transform(X_valid)
        # Each group is centred on its own mean, as in Abid et al. (2018): a shift
        # of the background against the target is not a contrastive direction.
        X64 = X_valid.astype(np.float64, copy=False)
        cov_target, mean_target = _covariance(X64[is_target])
        cov_background, _ = _covariance(X64[~is_target])
        if isinstance(self.alpha, str):  # "auto", the only string allowed
            self.alpha_ = _auto_alpha(cov_target, cov_background)
        else:
            self.alpha_ = float(self.alpha)
        contrastive = cov_target - self.alpha_ * cov_background
        # eigh returns ascending eigenvalues: take the last n_components, reversed.
        eigenvalues, eigenvectors = linalg.eigh(
            contrastive, subset_by_index=[n_features - self.n_components, n_features - 1]
        )
        components = _flip_signs(eigenvectors[:, ::-1].T)
        dtype = X_valid.dtype
        self.components_ = components.astype(dtype)
        self.explained_variance_ = eigenvalues[::-1].astype(dtype)
        self.mean_ = mean_target.astype(dtype)
        self.n_components_ = self.n_components
        self._n_features_out = self.n_components
        return X_valid, (X.index if hasattr(X, "iloc") else None)

    def transform(self, X):
        """Project samples on the contrastive directions.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Any samples, background, target or new; no group is needed.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            ``(X - mean_) @ components_.T``, after the standardisation
            learned in :meth:`fit` when ``standardize=True``.
        """
        check_is_fitted(self)
        return self._transform_checked(
            validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        )

    def _transform_checked(self, X):
        if self.scaler_ is not None:
            X = self.scaler_.transform(X)
        return (X - self.mean_) @ self.components_.T

    def inverse_transform(self, X):
        """Map projections back to the feature space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Projections, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            ``X @ components_ + mean_``, un-standardised when
            ``standardize=True``: the point of the component span (through
            the target mean) whose projection is ``X``.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"inverse_transform expects {self.n_components_} columns (one per "
                f"component); got {X.shape[1]}."
            )
        X_original = X @ self.components_ + self.mean_
        if self.scaler_ is not None:
            X_original = self.scaler_.inverse_transform(X_original)
        return X_original

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The groups (y or sample_group) are needed to fit.
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _covariance(X):
    """Unbiased covariance and mean of the rows of ``X`` (zero for one row)."""
    mean = X.mean(axis=0)
    centred = X - mean
    return centred.T @ centred / max(len(X) - 1, 1), mean


def _auto_alpha(cov_target, cov_background):
    """The ``alpha="auto"`` rule: largest target over largest background eigenvalue."""
    n = len(cov_target)
    top_target = linalg.eigh(cov_target, eigvals_only=True, subset_by_index=[n - 1, n - 1])[0]
    top_background = linalg.eigh(
        cov_background, eigvals_only=True, subset_by_index=[n - 1, n - 1]
    )[0]
    # A background with no variance (up to rounding) makes every alpha give the
    # same directions; 0 keeps the explained variances those of the target.
    if top_background <= n * np.finfo(np.float64).eps * top_target:
        return 0.0
    return float(top_target / top_background)


def _flip_signs(components):
    """Make the largest-magnitude entry of each row positive (as svd_flip does)."""
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    signs[signs == 0] = 1.0
    return components * signs[:, None]
