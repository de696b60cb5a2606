"""Tests of sklearn_sepclr.baselines.ContrastivePCA."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_sepclr.baselines import ContrastivePCA
from sklearn_sepclr.datasets import make_contrastive_blobs
from sklearn_sepclr.utils import stack_groups


def _two_groups(n_background=60, n_target=50, n_features=6, seed=0):
    """Anisotropic background and target with different covariances and means."""
    rng = np.random.RandomState(seed)
    X_bg = rng.normal(size=(n_background, n_features)) @ rng.normal(size=(n_features,) * 2)
    X_tg = rng.normal(size=(n_target, n_features)) @ rng.normal(size=(n_features,) * 2) + 3.0
    return X_bg, X_tg


def _direct_cpca(X_bg, X_tg, alpha, n_components):
    """cPCA by the definition: top eigenpairs of Cov(target) - alpha Cov(background)."""
    contrastive = np.cov(X_tg, rowvar=False) - alpha * np.cov(X_bg, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(contrastive)
    order = np.argsort(eigenvalues)[::-1][:n_components]
    return eigenvalues[order], eigenvectors[:, order].T


def _assert_same_up_to_sign(A, B):
    signs = np.sign(np.sum(A * B, axis=1))
    assert_allclose(A, B * signs[:, None], atol=1e-8)


@parametrize_with_checks([ContrastivePCA()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 3.0])
@pytest.mark.parametrize("n_components", [1, 3, 6])
def test_matches_direct_eigendecomposition(alpha, n_components):
    X_bg, X_tg = _two_groups()
    cpca = ContrastivePCA(n_components, alpha=alpha).fit(X_bg, X_tg)
    eigenvalues, eigenvectors = _direct_cpca(X_bg, X_tg, alpha, n_components)
    assert_allclose(cpca.explained_variance_, eigenvalues, rtol=1e-10, atol=1e-10)
    _assert_same_up_to_sign(cpca.components_, eigenvectors)
    assert_allclose(cpca.components_ @ cpca.components_.T, np.eye(n_components), atol=1e-10)
    assert_allclose(cpca.mean_, X_tg.mean(axis=0))
    assert cpca.alpha_ == alpha
    assert cpca.n_components_ == n_components


def test_alpha_zero_is_pca_of_the_target():
    X_bg, X_tg = _two_groups()
    cpca = ContrastivePCA(3, alpha=0).fit(X_bg, X_tg)
    pca = PCA(3).fit(X_tg)
    assert_allclose(cpca.explained_variance_, pca.explained_variance_)
    _assert_same_up_to_sign(cpca.components_, pca.components_)


def test_signs_are_deterministic():
    X_bg, X_tg = _two_groups()
    cpca = ContrastivePCA(4).fit(X_bg, X_tg)
    largest = cpca.components_[np.arange(4), np.argmax(np.abs(cpca.components_), axis=1)]
    assert np.all(largest > 0)
    # Shuffled rows and negated data give the same components.
    rng = np.random.RandomState(1)
    shuffled = ContrastivePCA(4).fit(rng.permutation(X_bg), rng.permutation(X_tg))
    negated = ContrastivePCA(4).fit(-X_bg, -X_tg)
    assert_allclose(shuffled.components_, cpca.components_, atol=1e-10)
    assert_allclose(negated.components_, cpca.components_, atol=1e-10)


def test_held_out_transform_projects_on_the_target_mean():
    X_bg, X_tg = _two_groups()
    X_new = np.random.RandomState(2).normal(size=(7, X_bg.shape[1]))
    cpca = ContrastivePCA(2).fit(X_bg, X_tg)
    assert_allclose(cpca.transform(X_new), (X_new - X_tg.mean(axis=0)) @ cpca.components_.T)
    # Transforming more samples does not change a sample's features.
    assert_allclose(cpca.transform(np.r_[X_new, X_bg])[:7], cpca.transform(X_new))


def test_standardize_reapplies_the_pooled_scaler():
    X_bg, X_tg = _two_groups()
    X, y = stack_groups(X_bg, X_tg)
    X_new = np.random.RandomState(3).normal(size=(5, X.shape[1]))
    cpca = ContrastivePCA(2, standardize=True).fit(X, y)
    scaler = StandardScaler().fit(X)
    by_hand = ContrastivePCA(2).fit(scaler.transform(X), y)
    assert_allclose(cpca.scaler_.mean_, scaler.mean_)
    assert_allclose(cpca.components_, by_hand.components_, atol=1e-10)
    assert_allclose(cpca.transform(X_new), by_hand.transform(scaler.transform(X_new)))
    # Standardised cPCA ignores the units of each feature.
    units = np.arange(1.0, X.shape[1] + 1.0) ** 3
    rescaled = ContrastivePCA(2, standardize=True).fit(X * units, y)
    assert_allclose(rescaled.transform(X_new * units), cpca.transform(X_new), atol=1e-8)


@pytest.mark.parametrize("standardize", [False, True])
def test_inverse_transform_round_trip(standardize):
    X_bg, X_tg = _two_groups()
    cpca = ContrastivePCA(3, standardize=standardize).fit(X_bg, X_tg)
    Z = np.random.RandomState(4).normal(size=(8, 3))
    X_span = cpca.inverse_transform(Z)
    assert X_span.shape == (8, X_bg.shape[1])
    assert_allclose(cpca.transform(X_span), Z, atol=1e-10)
    assert_allclose(cpca.inverse_transform(cpca.transform(X_span)), X_span, atol=1e-10)
    with pytest.raises(ValueError, match="expects 3 columns"):
        cpca.inverse_transform(np.zeros((2, 2)))


def test_fit_forms_agree():
    X_bg, X_tg = _two_groups()
    X, y = stack_groups(X_bg, X_tg)
    two_datasets = ContrastivePCA(3).fit(X_bg, X_tg)
    labelled = ContrastivePCA(3).fit(X, y)
    downstream = np.arange(len(X)) % 3
    metadata = ContrastivePCA(3).fit(X, downstream, sample_group=y)
    named = np.where(y == 1, "patient", "control")
    by_name = ContrastivePCA(3, background_label="control").fit(X, named)
    # Several target subtypes are all target.
    subtypes = y * (1 + np.arange(len(X)) % 2)
    by_subtype = ContrastivePCA(3).fit(X, subtypes)
    for other in (labelled, metadata, by_name, by_subtype):
        assert_allclose(other.components_, two_datasets.components_)
        assert_allclose(other.explained_variance_, two_datasets.explained_variance_)
    assert two_datasets.background_label_ == 0
    assert by_name.background_label_ == "control"


def test_fit_transform_two_datasets_returns_the_stacked_rows():
    X_bg, X_tg = _two_groups()
    Z = ContrastivePCA(2).fit_transform(X_bg, X_tg)
    Z_stacked = ContrastivePCA(2).fit_transform(*stack_groups(X_bg, X_tg))
    cpca = ContrastivePCA(2).fit(X_bg, X_tg)
    assert Z.shape == (len(X_bg) + len(X_tg), 2)
    assert_allclose(Z, Z_stacked)
    assert_allclose(Z, cpca.transform(np.r_[X_bg, X_tg]))


def test_dataframes_feature_names_and_pandas_output():
    X_bg, X_tg = _two_groups(n_features=3)
    columns = ["gene_a", "gene_b", "gene_c"]
    df_bg = pd.DataFrame(X_bg, columns=columns, index=100 + np.arange(len(X_bg)))
    df_tg = pd.DataFrame(X_tg, columns=columns)
    cpca = ContrastivePCA(2).set_output(transform="pandas")
    Z = cpca.fit_transform(df_bg, df_tg)
    assert list(Z.columns) == ["contrastivepca0", "contrastivepca1"]
    assert_array_equal(Z.index, np.arange(len(X_bg) + len(X_tg)))
    assert_array_equal(cpca.feature_names_in_, columns)
    assert_array_equal(cpca.get_feature_names_out(), Z.columns)
    Z_bg = cpca.transform(df_bg)
    assert_array_equal(Z_bg.index, df_bg.index)
    assert_allclose(Z_bg.to_numpy(), Z.to_numpy()[: len(X_bg)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_preserves_dtype(dtype):
    X_bg, X_tg = _two_groups()
    cpca = ContrastivePCA(2).fit(X_bg.astype(dtype), X_tg.astype(dtype))
    assert cpca.components_.dtype == dtype
    assert cpca.transform(X_tg.astype(dtype)).dtype == dtype
    assert cpca.inverse_transform(np.zeros((1, 2), dtype=dtype)).dtype == dtype


def test_alpha_auto_is_the_ratio_of_top_eigenvalues():
    X_bg, X_tg = _two_groups()
    cpca = ContrastivePCA(2, alpha="auto").fit(X_bg, X_tg)
    ratio = (
        np.linalg.eigvalsh(np.cov(X_tg, rowvar=False))[-1]
        / np.linalg.eigvalsh(np.cov(X_bg, rowvar=False))[-1]
    )
    assert_allclose(cpca.alpha_, ratio)
    _, eigenvectors = _direct_cpca(X_bg, X_tg, ratio, 2)
    _assert_same_up_to_sign(cpca.components_, eigenvectors)
    # Rescaling the background rescales alpha_ and leaves the directions unchanged.
    rescaled = ContrastivePCA(2, alpha="auto").fit(10.0 * X_bg, X_tg)
    assert_allclose(rescaled.alpha_, cpca.alpha_ / 100.0)
    assert_allclose(rescaled.components_, cpca.components_, atol=1e-10)


def test_alpha_auto_without_background_variance_is_zero():
    X_bg, X_tg = _two_groups()
    constant = np.zeros((4, X_bg.shape[1]))
    cpca = ContrastivePCA(2, alpha="auto").fit(constant, X_tg)
    assert cpca.alpha_ == 0.0
    assert_allclose(cpca.components_, ContrastivePCA(2, alpha=0).fit(X_bg, X_tg).components_)
    # A single background sample has no variance either (and gives no NaN).
    single = ContrastivePCA(2, alpha="auto").fit(X_bg[:1], X_tg)
    assert single.alpha_ == 0.0
    assert np.all(np.isfinite(single.components_))


def test_finds_the_salient_directions_of_contrastive_blobs():
    data = make_contrastive_blobs(random_state=0)
    salient_plane = data.mixing[2:]
    cpca = ContrastivePCA(1).fit(data.X_background, data.X_target)
    pca_target = PCA(1).fit(data.X_target)
    pca_pooled = PCA(1).fit(np.r_[data.X_background, data.X_target])
    assert np.linalg.norm(salient_plane @ cpca.components_[0]) > 0.9
    assert np.linalg.norm(salient_plane @ pca_target.components_[0]) < 0.1
    assert np.linalg.norm(salient_plane @ pca_pooled.components_[0]) < 0.1
    # With three salient clusters the salient factor spans a plane: cPCA's two
    # components lie in it (cosines of the principal angles near 1).
    data = make_contrastive_blobs(n_salient_clusters=3, random_state=0)
    cpca = ContrastivePCA(2, alpha=2.0).fit(data.X_background, data.X_target)
    pca = PCA(2).fit(data.X_target)
    cosines = np.linalg.svd(data.mixing[2:] @ cpca.components_.T, compute_uv=False)
    assert cosines.min() > 0.95
    assert np.linalg.svd(data.mixing[2:] @ pca.components_.T, compute_uv=False).min() < 0.1


def _subtype_problem():
    """Groups, plus a downstream label that only the salient factor predicts."""
    data = make_contrastive_blobs(n_background=150, n_target=150, random_state=0)
    X, groups = stack_groups(data.X_background, data.X_target)
    subtype = np.r_[np.full(150, -1), data.target_attributes["salient"]]
    return X, subtype, groups


def test_pipeline_with_sample_group_as_fit_param():
    X, subtype, groups = _subtype_problem()
    pipe = make_pipeline(StandardScaler(), ContrastivePCA(1), LogisticRegression())
    pipe.fit(X, subtype, contrastivepca__sample_group=groups)
    assert pipe.score(X, subtype) > 0.7
    # alpha=0 (PCA of the target) finds the common factor instead.
    pipe.set_params(contrastivepca__alpha=0.0)
    pipe.fit(X, subtype, contrastivepca__sample_group=groups)
    assert pipe.score(X, subtype) < 0.6
    pipe.set_params(contrastivepca__alpha=1.0)
    pipe.fit(X, subtype, contrastivepca__sample_group=groups)
    alone = ContrastivePCA(1).fit(StandardScaler().fit_transform(X), groups)
    assert_allclose(pipe[1].components_, alone.components_)


def test_pipeline_and_grid_search_with_metadata_routing():
    X, subtype, groups = _subtype_problem()
    with config_context(enable_metadata_routing=True):
        cpca = ContrastivePCA(1).set_fit_request(sample_group=True)
        pipe = make_pipeline(StandardScaler(), cpca, LogisticRegression())
        pipe.fit(X, subtype, sample_group=groups)
        assert pipe.score(X, subtype) > 0.7
        search = GridSearchCV(pipe, {"contrastivepca__alpha": [0.0, 2.0]}, cv=3)
        search.fit(X, subtype, sample_group=groups)
    assert search.best_params_ == {"contrastivepca__alpha": 2.0}


def test_grid_search_without_metadata_routing():
    X, subtype, groups = _subtype_problem()
    pipe = make_pipeline(StandardScaler(), ContrastivePCA(1), LogisticRegression())
    search = GridSearchCV(pipe, {"contrastivepca__alpha": [0.0, 2.0]}, cv=3)
    search.fit(X, subtype, contrastivepca__sample_group=groups)
    assert search.best_params_ == {"contrastivepca__alpha": 2.0}
    assert search.best_score_ > 0.75


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_rejects_nan_and_inf(bad):
    X_bg, X_tg = _two_groups()
    X_tg[0, 0] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        ContrastivePCA().fit(X_bg, X_tg)


def test_rejects_bad_input():
    X_bg, X_tg = _two_groups()
    X, y = stack_groups(X_bg, X_tg)
    with pytest.raises(ValueError, match="2D array"):
        ContrastivePCA().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="Only one group"):
        ContrastivePCA().fit(X, np.ones(len(X)))
    with pytest.raises(ValueError, match="n_components=7 must be at most .* n_features=6"):
        ContrastivePCA(7).fit(X, y)
    with pytest.raises(ValueError, match="same number of features"):
        ContrastivePCA().fit(X_bg, X_tg[:, :3])
    with pytest.raises(ValueError, match="sample_group cannot be combined"):
        ContrastivePCA().fit(X_bg, X_tg, sample_group=y)
    with pytest.raises(ValueError, match="needs to know which samples are background"):
        ContrastivePCA().fit(X)
    with pytest.raises(ValueError, match="not among the group labels"):
        ContrastivePCA(background_label="control").fit(X, y)
    with pytest.raises(InvalidParameterError, match="alpha"):
        ContrastivePCA(alpha=-1.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="alpha"):
        ContrastivePCA(alpha="largest").fit(X, y)
    cpca = ContrastivePCA().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        cpca.transform(X[:, :3])


def test_two_dataset_form_ignores_background_label():
    # fit(X_background, X_target) says which rows are background; a label
    # meant for y must not swap the groups.
    rng = np.random.RandomState(0)
    X_bg, X_tg = rng.normal(size=(20, 4)), rng.normal(size=(20, 4))
    est = ContrastivePCA(background_label=1).fit(X_bg, X_tg)
    reference = ContrastivePCA().fit(X_bg, X_tg)
    assert est.background_label_ == 0
    np.testing.assert_allclose(est.components_, reference.components_)
