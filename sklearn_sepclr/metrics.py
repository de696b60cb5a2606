"""The evaluation protocol of contrastive analysis (Louiset et al., ICLR 2024).

A good common space predicts the attributes that background and target share
and a good salient space predicts the target-only attributes, while neither
predicts the other's. This module measures that with *linear probes*: a
simple model fitted on the train-split features of one space and scored on
the test split, for each space and each attribute (:func:`probe_table` for a
fitted estimator, :func:`probe_scores` for precomputed features). It also
gives the clustering score :func:`kmeans_ari` and the background-collapse
diagnostic (:func:`background_collapse`, and
:func:`background_collapse_from_estimator`): how close the background's
salient codes are to the constant ``s' = 0`` they are trained towards.
"""

from collections.abc import Mapping
from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import adjusted_rand_score, balanced_accuracy_score, mean_absolute_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array

__all__ = [
    "BackgroundCollapse",
    "background_collapse",
    "background_collapse_from_estimator",
    "kmeans_ari",
    "probe_scores",
    "probe_table",
]

_TASKS = ("classification", "regression")


def probe_table(
    estimator,
    X_train,
    attributes_train,
    X_test,
    attributes_test,
    *,
    spaces="auto",
    tasks=None,
    classifier=None,
    regressor=None,
):
    """Linear-probe scores of a fitted transformer, per space and attribute.

    The representations ``estimator.transform(X_train)`` and
    ``estimator.transform(X_test)`` are split into spaces (for SepCLR: the
    common and the salient features), then :func:`probe_scores` fits one
    probe per space and attribute on the train split and scores it on the
    test split. This is the protocol of Louiset et al. (2024): the common
    space should predict the shared attributes, the salient space the
    target-only ones.

    Parameters
    ----------
    estimator : fitted transformer
        Anything with ``transform``; a :class:`~sklearn.pipeline.Pipeline`
        ending with one works too.
    X_train, X_test : array-like of shape (n_train, ...) and (n_test, ...)
        The samples of the two splits, as ``estimator.transform`` takes them.
    attributes_train, attributes_test : dict of array-like or DataFrame
        The attributes to predict, one entry (or column) per attribute with
        one value per sample; the same names in both splits. Missing values
        (NaN, None) mark samples that have no value for that attribute (e.g.
        the salient attribute of background samples) and are left out of
        that attribute's probe.
    spaces : "auto" or dict of str to column selection, default="auto"
        Which columns of the representations form each space. ``"auto"``:
        when the estimator (or the last step of a pipeline) has integer
        attributes ``n_common`` and ``n_salient`` and its ``transform``
        returns ``[common | salient]``, the spaces ``"common"`` (first
        ``n_common`` columns) and ``"salient"`` (next ``n_salient``); with
        ``output="common"`` or ``"salient"`` only that space. Otherwise one
        space named after the estimator's class in lower case (e.g.
        ``"contrastivepca"``) holding every column. A dict maps a space name
        to anything that selects columns of a NumPy array: a ``slice``, a
        list or array of indices, a boolean mask.
    tasks : dict of str to {"classification", "regression"}, default=None
        As in :func:`probe_scores`.
    classifier, regressor : estimator, default=None
        As in :func:`probe_scores`.

    Returns
    -------
    table : pandas.DataFrame
        One row per space and attribute; see :func:`probe_scores`.

    See Also
    --------
    probe_scores : The same table from precomputed features.

    Examples
    --------
    >>> from sklearn_sepclr.baselines import ContrastivePCA
    >>> from sklearn_sepclr.datasets import make_contrastive_blobs
    >>> from sklearn_sepclr.metrics import probe_table
    >>> data = make_contrastive_blobs(n_background=200, n_target=400, random_state=0)
    >>> cpca = ContrastivePCA(n_components=1).fit(data.X_background, data.X_target)
    >>> X, attrs = data.X_target, data.target_attributes
    >>> train = {name: values[:200] for name, values in attrs.items()}
    >>> test = {name: values[200:] for name, values in attrs.items()}
    >>> table = probe_table(cpca, X[:200], train, X[200:], test)
    >>> table.round(2)
                space attribute             metric  score  chance
    0  contrastivepca    common  balanced_accuracy   0.38    0.33
    1  contrastivepca   salient  balanced_accuracy   0.99    0.50

    The contrastive direction predicts the target-only attribute, not the
    shared one.
    """
    features_train = np.asarray(estimator.transform(X_train))
    features_test = np.asarray(estimator.transform(X_test))
    if isinstance(spaces, str):
        if spaces != "auto":
            raise ValueError(f'spaces must be "auto" or a dict; got {spaces!r}.')
        spaces = _default_spaces(estimator)
        n_expected = max(columns.stop or 0 for columns in spaces.values())
        if n_expected and features_train.shape[1] != n_expected:
            raise ValueError(
                f"spaces='auto' expects {n_expected} columns from transform (n_common "
                f"then n_salient); got {features_train.shape[1]}. Pass spaces explicitly."
            )
    return probe_scores(
        features_train,
        attributes_train,
        features_test,
        attributes_test,
        spaces=spaces,
        tasks=tasks,
        classifier=classifier,
        regressor=regressor,
    )


def probe_scores(
    features_train,
    attributes_train,
    features_test,
    attributes_test,
    *,
    spaces=None,
    tasks=None,
    classifier=None,
    regressor=None,
):
    """Linear-probe scores of precomputed features, per space and attribute.

    For each space (a set of feature columns) and each attribute, a probe is
    fitted on the train-split features and scored on the test split:

    * categorical attributes (bool, integer, string, object or categorical
      dtype): ``make_pipeline(StandardScaler(),
      LogisticRegression(max_iter=1000))``, scored by balanced accuracy
      (higher is better; chance is ``1 / n_classes`` of the test split);
    * continuous attributes (float dtype): ``make_pipeline(StandardScaler(),
      LinearRegression())``, scored by mean absolute error (lower is better;
      chance is the error of always predicting the train mean).

    Parameters
    ----------
    features_train : array-like of shape (n_train, n_features)
        Representations of the train split.
    attributes_train : dict of array-like or DataFrame
        The attributes of the train samples: one entry (or column) per
        attribute, one value per sample. Missing values (NaN, None) mark
        samples without that attribute; they are left out of its probe.
    features_test : array-like of shape (n_test, n_features)
        Representations of the test split.
    attributes_test : dict of array-like or DataFrame
        The attributes of the test samples, with the same names.
    spaces : dict of str to column selection, default=None
        Space name to the columns that form it (a ``slice``, indices or a
        boolean mask), e.g. ``{"common": slice(0, 32), "salient":
        slice(32, 64)}``. None: one space ``"all"`` with every column.
    tasks : dict of str to {"classification", "regression"}, default=None
        Overrides the task inferred from an attribute's dtype, e.g.
        ``{"age": "regression"}`` for ages stored as integers.
    classifier : estimator, default=None
        The probe of categorical attributes, cloned for every fit; None for
        the scaled logistic regression above. Scored by balanced accuracy.
    regressor : estimator, default=None
        The probe of continuous attributes, cloned for every fit; None for
        the scaled linear regression above. Scored by mean absolute error.

    Returns
    -------
    table : pandas.DataFrame
        One row per space and attribute (spaces in the given order, then
        attributes), with columns ``space``, ``attribute``, ``metric``
        (``"balanced_accuracy"`` or ``"mean_absolute_error"``), ``score``
        and ``chance``.

    Raises
    ------
    ImportError
        If pandas is not installed.
    ValueError
        If the splits have different attributes, an attribute's length does
        not match its split, or a categorical attribute has a single class in
        the train split.

    See Also
    --------
    probe_table : The same table from a fitted transformer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sepclr.metrics import probe_scores
    >>> rng = np.random.RandomState(0)
    >>> label = rng.randint(2, size=200)
    >>> size = rng.normal(size=200)
    >>> features = np.c_[label + 0.1 * rng.normal(size=200), size, rng.normal(size=200)]
    >>> attributes = {"label": label, "size": 3 * size}
    >>> table = probe_scores(
    ...     features[:100], {k: v[:100] for k, v in attributes.items()},
    ...     features[100:], {k: v[100:] for k, v in attributes.items()},
    ...     spaces={"first": [0], "others": slice(1, None)},
    ... )
    >>> table.round(2)
        space attribute               metric  score  chance
    0   first     label    balanced_accuracy   1.00    0.50
    1   first      size  mean_absolute_error   2.45    2.44
    2  others     label    balanced_accuracy   0.50    0.50
    3  others      size  mean_absolute_error   0.00    2.44
    """
    pd = _import_pandas("probe_scores")
    features_train = check_array(features_train, dtype=np.float64)
    features_test = check_array(features_test, dtype=np.float64)
    if features_train.shape[1] != features_test.shape[1]:
        raise ValueError(
            "The train and test features must have the same number of columns; "
            f"got {features_train.shape[1]} and {features_test.shape[1]}."
        )
    train = _attribute_frame(pd, attributes_train, len(features_train), "attributes_train")
    test = _attribute_frame(pd, attributes_test, len(features_test), "attributes_test")
    if list(train.columns) != list(test.columns):
        raise ValueError(
            "attributes_train and attributes_test must name the same attributes "
            f"(in the same order); got {list(train.columns)} and {list(test.columns)}."
        )
    tasks = {} if tasks is None else dict(tasks)
    for name, task in tasks.items():
        if name not in train.columns or task not in _TASKS:
            raise ValueError(
                f"tasks maps attribute names to one of {_TASKS}; got {name!r}: {task!r} "
                f"(attributes: {list(train.columns)})."
            )
    spaces = {"all": slice(None)} if spaces is None else spaces
    rows = []
    for space, columns in spaces.items():
        Z_train, Z_test = features_train[:, columns], features_test[:, columns]
        if Z_train.ndim != 2 or Z_train.shape[1] == 0:
            raise ValueError(f"Space {space!r} selects no feature column ({columns!r}).")
        for name in train.columns:
            task = tasks.get(name) or _infer_task(pd, train[name])
            probe = _make_probe(task, classifier, regressor)
            metric, score, chance = _score_probe(
                probe, task, name, Z_train, train[name], Z_test, test[name]
            )
            rows.append((space, name, metric, score, chance))
    return pd.DataFrame(rows, columns=["space", "attribute", "metric", "score", "chance"])


def _space_widths(estimator):
    """``(n_common, n_salient)`` of an estimator, None where it has none.

    A fitted SepCLR transformer answers with its networks' widths, which
    ``set_params`` does not change before the next fit.
    """
    if hasattr(estimator, "net_") and hasattr(estimator, "_fitted_widths"):
        return estimator._fitted_widths()
    return getattr(estimator, "n_common", None), getattr(estimator, "n_salient", None)


def _default_spaces(estimator):
    """The spaces of ``probe_table(spaces="auto")``."""
    final = estimator[-1] if hasattr(estimator, "steps") else estimator
    n_common, n_salient = _space_widths(final)
    if not (isinstance(n_common, Integral) and isinstance(n_salient, Integral)):
        return {type(final).__name__.lower(): slice(None)}
    output = getattr(final, "output", "both")
    if output == "common":
        return {"common": slice(0, n_common)}
    if output == "salient":
        return {"salient": slice(0, n_salient)}
    return {"common": slice(0, n_common), "salient": slice(n_common, n_common + n_salient)}


def _attribute_frame(pd, attributes, n_samples, what):
    """Attributes as a DataFrame with a fresh index, checked against ``n_samples``."""
    if isinstance(attributes, pd.DataFrame):
        columns = {name: attributes[name] for name in attributes.columns}
    elif isinstance(attributes, Mapping):
        columns = {name: pd.Series(values) for name, values in attributes.items()}
    else:
        raise TypeError(
            f"{what} must be a dict of arrays (attribute name -> one value per "
            f"sample) or a DataFrame; got {type(attributes).__name__}."
        )
    if not columns:
        raise ValueError(f"{what} holds no attribute.")
    for name, values in columns.items():
        if len(values) != n_samples:
            raise ValueError(f"{what}[{name!r}] has {len(values)} values for {n_samples} samples.")
    return pd.DataFrame({name: values.reset_index(drop=True) for name, values in columns.items()})


def _infer_task(pd, values):
    """Float dtype means a continuous attribute; anything else is categorical."""
    if pd.api.types.is_float_dtype(values.dtype):
        return "regression"
    return "classification"


def _make_probe(task, classifier, regressor):
    if task == "classification":
        if classifier is None:
            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        return clone(classifier)
    if regressor is None:
        return make_pipeline(StandardScaler(), LinearRegression())
    return clone(regressor)


def _score_probe(probe, task, name, Z_train, y_train, Z_test, y_test):
    """Fit one probe on the labelled train rows; score it on the labelled test rows."""
    known_train, known_test = y_train.notna().to_numpy(), y_test.notna().to_numpy()
    if not known_train.any() or not known_test.any():
        raise ValueError(f"Attribute {name!r} has no value in the train or the test split.")
    # Through a list so that object columns whose missing values were
    # dropped get the dtype of the values left (ints, strings, bools).
    y_train = np.asarray(y_train[known_train].tolist())
    y_test = np.asarray(y_test[known_test].tolist())
    if task == "regression":
        y_train, y_test = y_train.astype(np.float64), y_test.astype(np.float64)
        probe.fit(Z_train[known_train], y_train)
        score = mean_absolute_error(y_test, probe.predict(Z_test[known_test]))
        chance = mean_absolute_error(y_test, np.full_like(y_test, y_train.mean()))
        return "mean_absolute_error", float(score), float(chance)
    if len(np.unique(y_train)) < 2:
        raise ValueError(
            f"Attribute {name!r} has a single class in the train split: a classifier "
            "cannot be fitted. Drop it, or pass tasks={...: 'regression'} if it is "
            "continuous."
        )
    probe.fit(Z_train[known_train], y_train)
    score = balanced_accuracy_score(y_test, probe.predict(Z_test[known_test]))
    return "balanced_accuracy", float(score), 1.0 / len(np.unique(y_test))


def kmeans_ari(features, labels, *, n_clusters=None, random_state=None):
    """Adjusted Rand index of a k-means clustering against known labels.

    Clusters the features with :class:`~sklearn.cluster.KMeans` (10
    initialisations) and compares the clusters with the labels: 1 means the
    clusters are the label classes, about 0 means no better than random. A
    complement of the linear probes that needs no train/test split.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Representations, e.g. the salient features of target samples.
    labels : array-like of shape (n_samples,)
        The known class of each sample.
    n_clusters : int, default=None
        Number of clusters; None for the number of distinct labels.
    random_state : int, RandomState instance or None, default=None
        Seed of the k-means initialisation.

    Returns
    -------
    ari : float
        The adjusted Rand index, at most 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sepclr.metrics import kmeans_ari
    >>> features = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> kmeans_ari(features, ["a", "a", "b", "b"], random_state=0)
    1.0
    """
    features = check_array(features)
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(features):
        raise ValueError(
            f"labels must be 1-D with one value per sample ({len(features)}); got "
            f"shape {labels.shape}."
        )
    if n_clusters is None:
        n_clusters = len(np.unique(labels))
    clusters = KMeans(n_clusters, n_init=10, random_state=random_state).fit_predict(features)
    return float(adjusted_rand_score(labels, clusters))


class BackgroundCollapse(NamedTuple):
    """Result of :func:`background_collapse`.

    Attributes
    ----------
    background_norm : float
        Mean Euclidean norm of the background salient codes.
    target_norm : float
        Mean Euclidean norm of the target salient codes.
    ratio : float
        ``background_norm / target_norm``: 0 for a perfect collapse of the
        background onto ``s' = 0``, about 1 or more for none (``nan`` when
        both norms are 0, ``inf`` when only the target's is).

    Examples
    --------
    >>> from sklearn_sepclr.metrics import BackgroundCollapse
    >>> BackgroundCollapse(background_norm=0.1, target_norm=2.0, ratio=0.05).ratio
    0.05
    """

    background_norm: float
    target_norm: float
    ratio: float


def background_collapse(salient_background, salient_target):
    """How close the background's salient codes are to the constant ``s' = 0``.

    SepCLR trains the salient codes of background samples towards the
    constant ``s' = 0`` (the information-less term of the loss), while the
    target's salient codes spread out to carry the target-only patterns. The
    mean norm of each group's codes and their ratio measure how well that
    worked: a ratio near 0 means the background is collapsed, a ratio near 1
    means the salient space does not tell the groups apart.

    Parameters
    ----------
    salient_background : array-like of shape (n_background, n_salient)
        Salient codes of background samples (e.g. the salient columns of
        ``SepCLRTransformer.project``).
    salient_target : array-like of shape (n_target, n_salient)
        Salient codes of target samples.

    Returns
    -------
    collapse : BackgroundCollapse
        Named tuple ``(background_norm, target_norm, ratio)``; use
        ``collapse._asdict()`` for a dict.

    See Also
    --------
    background_collapse_from_estimator : The same from a fitted estimator.

    Examples
    --------
    >>> from sklearn_sepclr.metrics import background_collapse
    >>> background_collapse([[0.0, 0.1], [0.1, 0.0]], [[3.0, 4.0], [0.0, 5.0]])
    BackgroundCollapse(background_norm=0.1, target_norm=5.0, ratio=0.02)
    """
    background = check_array(salient_background, dtype=np.float64)
    target = check_array(salient_target, dtype=np.float64)
    if background.shape[1] != target.shape[1]:
        raise ValueError(
            "The background and target salient codes must have the same number of "
            f"columns; got {background.shape[1]} and {target.shape[1]}."
        )
    background_norm = float(np.linalg.norm(background, axis=1).mean())
    target_norm = float(np.linalg.norm(target, axis=1).mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.float64(background_norm) / np.float64(target_norm))
    return BackgroundCollapse(background_norm, target_norm, ratio)


def background_collapse_from_estimator(estimator, X_background, X_target, *, method="project"):
    """Background-collapse diagnostic of a fitted estimator.

    Takes the salient codes of both groups from the estimator, then calls
    :func:`background_collapse`.

    Parameters
    ----------
    estimator : fitted estimator
        With ``method="project"``: an estimator with ``project(X)``
        returning ``[common | salient]`` projection-head outputs and an
        integer ``n_common`` (a fitted
        :class:`~sklearn_sepclr.SepCLRTransformer`); the salient codes are
        the columns after the first ``n_common``. These are the codes the
        loss pulls to ``s' = 0``, so this is the diagnostic of the paper.
        With ``method="transform"``: any transformer; the salient codes are
        the columns of ``transform(X)`` after the first ``n_common`` (every
        column when the estimator has no ``n_common``, e.g.
        :class:`~sklearn_sepclr.baselines.ContrastivePCA`).
    X_background : array-like of shape (n_background, ...)
        Background samples.
    X_target : array-like of shape (n_target, ...)
        Target samples.
    method : {"project", "transform"}, default="project"
        Which output of the estimator holds the salient codes.

    Returns
    -------
    collapse : BackgroundCollapse
        Named tuple ``(background_norm, target_norm, ratio)``.

    Examples
    --------
    >>> from sklearn_sepclr.baselines import ContrastivePCA
    >>> from sklearn_sepclr.datasets import make_contrastive_blobs
    >>> from sklearn_sepclr.metrics import background_collapse_from_estimator
    >>> data = make_contrastive_blobs(random_state=0)
    >>> cpca = ContrastivePCA().fit(data.X_background, data.X_target)
    >>> collapse = background_collapse_from_estimator(
    ...     cpca, data.X_background, data.X_target, method="transform")
    >>> bool(collapse.ratio < 1)
    True
    """
    if method not in ("project", "transform"):
        raise ValueError(f'method must be "project" or "transform"; got {method!r}.')
    if not hasattr(estimator, method):
        raise TypeError(
            f"{type(estimator).__name__} has no {method}() method; use "
            f'method="transform" for estimators without a projection head.'
        )
    n_common, _ = _space_widths(estimator)
    if method == "project" and not isinstance(n_common, Integral):
        raise TypeError(
            f"{type(estimator).__name__} has no integer n_common attribute: cannot tell "
            "the salient columns of project(X)."
        )
    start = int(n_common) if isinstance(n_common, Integral) else 0
    if method == "transform" and getattr(estimator, "output", "both") == "salient":
        start = 0  # transform already returns the salient features only
    codes = getattr(estimator, method)
    background = np.asarray(codes(X_background))[:, start:]
    target = np.asarray(codes(X_target))[:, start:]
    return background_collapse(background, target)


def _import_pandas(caller):
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            f"{caller} returns a pandas DataFrame and needs pandas: pip install pandas "
            "(or pip install 'sklearn-sepclr[test]')."
        ) from exc
    return pandas
