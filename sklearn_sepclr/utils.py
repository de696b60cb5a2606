"""Helpers shared by the contrastive-analysis estimators.

Every estimator of this package accepts the same three ways of saying which
sample is background and which is target:

* ``fit(X_background, X_target)``: two datasets with the same columns;
* ``fit(X, y)``: one dataset, ``y`` the group of each sample;
* ``fit(X, y, sample_group=g)``: ``y`` is kept for a downstream model and the
  group is given as metadata (works through pipelines and model selection).

:func:`stack_groups` is the public bridge between the first form and the
second; :func:`_resolve_groups` turns the second and third forms into one
boolean ``is_target`` vector.
"""

import numbers

import numpy as np
from scipy import sparse
from sklearn.base import _fit_context
from sklearn.utils._set_output import _get_output_config

__all__ = ["stack_groups"]


def stack_groups(X_background, X_target):
    """Stack a background and a target dataset into one ``(X, y)`` pair.

    The rows of ``X_background`` come first, then those of ``X_target``;
    ``y`` is 0 for background rows and 1 for target rows. This is exactly how
    ``fit(X_background, X_target)`` is understood by the estimators of this
    package, so ``est.fit_transform(X_background, X_target)`` equals
    ``est.fit_transform(*stack_groups(X_background, X_target))``.

    Parameters
    ----------
    X_background : array-like or DataFrame of shape (n_background, ...)
        Background samples (e.g. healthy controls).
    X_target : array-like or DataFrame of shape (n_target, ...)
        Target samples (e.g. patients). Same trailing shape (or columns) as
        ``X_background``.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_background + n_target, ...)
        The stacked samples. Two DataFrames give a DataFrame with a fresh
        ``RangeIndex``; anything else gives an ndarray.
    y : ndarray of shape (n_background + n_target,)
        0 for background rows, 1 for target rows (dtype ``int64``).

    Raises
    ------
    ValueError
        If the two datasets do not have the same number of features.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sepclr import stack_groups
    >>> X, y = stack_groups(np.zeros((2, 3)), np.ones((1, 3)))
    >>> X.shape, y.tolist()
    ((3, 3), [0, 0, 1])
    """
    if sparse.issparse(X_background) or sparse.issparse(X_target):
        raise TypeError(
            "Sparse input is not supported: SepCLR trains dense neural "
            "networks; convert with X.toarray() first."
        )
    if _is_dataframe(X_background) and _is_dataframe(X_target):
        import pandas as pd

        if list(X_background.columns) != list(X_target.columns):
            raise ValueError(
                "The background and target datasets must have the same "
                f"columns; got {list(X_background.columns)[:5]}... and "
                f"{list(X_target.columns)[:5]}..."
            )
        X = pd.concat([X_background, X_target], ignore_index=True)
        n_bg, n_tg = len(X_background), len(X_target)
    else:
        X_bg, X_tg = np.asarray(X_background), np.asarray(X_target)
        if X_bg.ndim < 2 or X_tg.ndim < 2:
            raise ValueError(
                "The background and target datasets must be 2-D (or N-D "
                f"images); got arrays with {X_bg.ndim} and {X_tg.ndim} "
                "dimensions."
            )
        if X_bg.shape[1:] != X_tg.shape[1:]:
            raise ValueError(
                "The background and target datasets must have the same "
                f"number of features; got {X_bg.shape[1:]} for background "
                f"and {X_tg.shape[1:]} for target."
            )
        X = np.concatenate([X_bg, X_tg])
        n_bg, n_tg = len(X_bg), len(X_tg)
    for name, n in (("background", n_bg), ("target", n_tg)):
        if n == 0:
            raise ValueError(
                f"The {name} dataset is empty: contrastive analysis needs samples "
                "of both groups."
            )
    y = np.r_[np.zeros(n_bg, dtype=np.int64), np.ones(n_tg, dtype=np.int64)]
    return X, y


class _GroupedFitMixin:
    """``fit`` and ``fit_transform`` in the package's three fit forms.

    A subclass implements ``_fit(X, y, sample_group) -> (X_checked, index)``
    (the validated, stacked samples and the pandas index of the stacked
    rows, or None) and ``_transform_checked(X_checked)``; it resolves the
    groups with :func:`_fit_groups`.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, sample_group=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, ...)
            All samples, or the background dataset in the two-dataset form
            ``fit(X_background, X_target)``.
        y : array-like of shape (n_samples,), or the target dataset, default=None
            1-D: the group of each sample (``background_label`` marks
            background, every other value is target). With the same features
            as ``X``: the target dataset. May be a downstream label when
            ``sample_group`` is given.
        sample_group : array-like of shape (n_samples,), default=None
            The group of each sample, when ``y`` is needed by a downstream
            model: ``pipe.fit(X, y, <step>__sample_group=groups)``, or with
            metadata routing ``set_fit_request(sample_group=True)``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X, y, sample_group)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, *, sample_group=None):
        """Fit, then transform the samples fitted on.

        ``fit_transform(X_background, X_target)`` returns the features of the
        stacked rows ``[X_background; X_target]``, exactly as
        ``fit_transform(*stack_groups(X_background, X_target))``.

        Parameters
        ----------
        X, y, sample_group
            As in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_output_features)
            The features of the (stacked) samples.
        """
        X, index = self._fit(X, y, sample_group)
        Z = self._transform_checked(X)
        if index is not None and _get_output_config("transform", self)["dense"] == "pandas":
            # In the two-dataset form the caller's X is only the background:
            # give the output the stacked rows' index, which set_output keeps.
            import pandas as pd

            Z = pd.DataFrame(Z, index=index, columns=self.get_feature_names_out())
        return Z


def _fit_groups(groups, n_samples, background_label, two_datasets):
    """``_resolve_groups`` for a resolved fit form.

    In the two-dataset form the groups are :func:`stack_groups`' 0/1,
    whatever ``background_label`` says about the labels of a ``y``.
    """
    return _resolve_groups(groups, n_samples, 0 if two_datasets else background_label)


def _is_dataframe(X):
    return hasattr(X, "columns") and hasattr(X, "iloc")


def _is_target_dataset(X, y):
    """Whether ``fit(X, y)`` is the two-dataset form ``fit(X_bg, X_tg)``.

    A DataFrame or an array of two or more dimensions is a dataset, except a
    column vector ``(n_samples, 1)`` beside an ``X`` with more than one
    feature, which scikit-learn users pass as labels.
    """
    if y is None or isinstance(y, (str, bytes)):
        return False
    if _is_dataframe(y) or sparse.issparse(y):
        return True
    y_shape = np.asarray(y).shape
    if len(y_shape) < 2:
        return False
    is_column = len(y_shape) == 2 and y_shape[1] == 1
    X_shape = _shape(X)
    return not (is_column and len(X_shape) == 2 and X_shape[1] != 1)


def _shape(X):
    """Shape of any array-like (DataFrames and array-protocol objects too)."""
    return X.shape if _is_dataframe(X) else np.asarray(X).shape


def _split_fit_inputs(X, y, sample_group):
    """Normalise the three fit forms into ``(X, groups, y_downstream)``.

    Returns the (possibly stacked) samples, the raw group labels (one per
    sample) and whether the two-dataset form was used.
    """
    if _is_target_dataset(X, y):
        if sample_group is not None:
            raise ValueError(
                "sample_group cannot be combined with the two-dataset form "
                "fit(X_background, X_target): the groups are already given "
                "by the two datasets."
            )
        X, groups = stack_groups(X, y)
        return X, groups, True
    if sample_group is not None:
        return X, sample_group, False
    if y is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None: "
            "contrastive analysis needs to know which samples are background "
            "and which are target. Call fit(X_background, X_target), "
            "fit(X, y) with y the group of each sample, or "
            "fit(X, y, sample_group=groups); got y=None and no sample_group."
        )
    return X, y, False


def _resolve_groups(groups, n_samples, background_label="auto"):
    """Turn group labels into a boolean ``is_target`` vector.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        One label per sample.
    n_samples : int
        Number of samples of ``X`` (checked against ``len(groups)``).
    background_label : "auto" or scalar
        The label of background samples; every other label is target.
        ``"auto"`` takes 0 (or False) when present, else the smallest label.

    Returns
    -------
    is_target : ndarray of bool, shape (n_samples,)
    background_label : scalar
        The label that was taken as background.
    """
    if sparse.issparse(groups):
        raise TypeError(
            "Sparse group labels (y or sample_group) are not supported; pass a "
            "1-D array, e.g. groups.toarray().ravel()."
        )
    if _has_missing(groups):
        raise ValueError("The group labels (y or sample_group) contain None, NaN or NaT.")
    groups = np.asarray(groups)
    if groups.ndim == 2 and groups.shape[1] == 1:
        groups = groups.ravel()
    if groups.ndim != 1:
        raise ValueError(
            "The group labels (y or sample_group) must be 1-D, one label "
            f"per sample; got an array of shape {groups.shape}."
        )
    if len(groups) != n_samples:
        raise ValueError(
            f"Found {len(groups)} group labels (y or sample_group) for "
            f"{n_samples} samples; give exactly one group label per sample."
        )
    if groups.dtype.kind == "f" and not np.all(np.isfinite(groups)):
        raise ValueError("The group labels (y or sample_group) contain infinity.")
    try:
        labels = np.unique(groups)
    except TypeError as exc:
        raise TypeError(
            "The group labels (y or sample_group) mix types that cannot be "
            f"compared ({exc}); use one type, e.g. all strings or all ints."
        ) from exc
    if isinstance(background_label, str) and background_label == "auto":
        zero = [lab for lab in labels if _is_zero(lab)]
        background = zero[0] if zero else labels[0]
    else:
        try:
            known = background_label in set(labels.tolist())
        except TypeError as exc:
            raise TypeError(
                "background_label must be 'auto' or a single group label; got "
                f"{background_label!r}."
            ) from exc
        if not known:
            raise ValueError(
                f"background_label={background_label!r} is not among the "
                f"group labels {labels.tolist()[:10]}."
            )
        background = background_label
    if isinstance(background, np.generic):
        background = background.item()
    is_target = groups != background
    n_target = int(is_target.sum())
    if n_target == 0 or n_target == n_samples:
        found = "target" if n_target else "background"
        raise ValueError(
            f"Only one group was found ({found} only, labels "
            f"{labels.tolist()[:10]}, background_label={background!r}): "
            "contrastive analysis needs both background and target samples "
            "(at least one class of each)."
        )
    return is_target, background


def _has_missing(groups):
    """Whether labels hold None, NaN (of any type), NaT or pandas' NA.

    Checked on an object view of the raw labels, before numpy would turn a
    NaN among strings into the string label "nan".
    """
    import pandas as pd

    if _is_dataframe(groups):
        return bool(groups.isna().to_numpy().any())
    values = groups.to_numpy(dtype=object) if hasattr(groups, "to_numpy") else groups
    try:
        values = np.asarray(values, dtype=object)
    except ValueError:  # ragged input: left to the shape checks
        return False
    return bool(pd.isna(values).any())


def _is_zero(label):
    if isinstance(label, (bool, np.bool_)):
        return not label
    if isinstance(label, (numbers.Number, np.number)):
        return label == 0
    return False
