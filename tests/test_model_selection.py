"""SepCLRTransformer inside pipelines and model selection, with and without routing."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sepclr import SepCLRTransformer, stack_groups


@pytest.fixture
def subtypes(blobs):
    """X, a downstream label (background, or the salient cluster) and groups."""
    X, groups = stack_groups(blobs.X_background, blobs.X_target)
    y = np.r_[np.zeros(30, int), 1 + blobs.target_attributes["salient"]]
    return X, y, groups


@pytest.fixture
def routing():
    sklearn.set_config(enable_metadata_routing=True)
    yield
    sklearn.set_config(enable_metadata_routing=False)


def _pipe(tiny, routed=False):
    sepclr = SepCLRTransformer(**tiny)
    if routed:
        sepclr.set_fit_request(sample_group=True)
    return make_pipeline(StandardScaler(), sepclr, LogisticRegression())


def _check_pipeline(tiny, subtypes, routed):
    X, y, groups = subtypes
    pipe = _pipe(tiny, routed)
    if routed:
        pipe.fit(X, y, sample_group=groups)
    else:
        pipe.fit(X, y, sepclrtransformer__sample_group=groups)
    assert pipe.predict(X).shape == (60,)
    assert set(pipe.predict(X)) <= set(y)
    # The group was used for SepCLR, y only by the classifier.
    assert pipe[1].background_label_ == 0
    assert list(pipe[-1].classes_) == sorted(set(y))


def _check_grid_search(tiny, subtypes, routed):
    X, y, groups = subtypes
    grid = GridSearchCV(
        _pipe(tiny, routed),
        {"sepclrtransformer__n_salient": [1, 3]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    params = {"sample_group": groups} if routed else {"sepclrtransformer__sample_group": groups}
    grid.fit(X, y, **params)
    assert grid.best_params_["sepclrtransformer__n_salient"] in (1, 3)
    assert len(grid.cv_results_["mean_test_score"]) == 2
    assert grid.best_estimator_[1].n_salient == grid.best_params_["sepclrtransformer__n_salient"]


def _check_cross_val_score(tiny, subtypes, routed):
    X, y, groups = subtypes
    params = {"sample_group": groups} if routed else {"sepclrtransformer__sample_group": groups}
    key = "params"
    scores = cross_val_score(_pipe(tiny, routed), X, y, cv=3, **{key: params})
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))


CHECKS = [_check_pipeline, _check_grid_search, _check_cross_val_score]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__[7:])
def test_without_routing(tiny, subtypes, check):
    check(tiny, subtypes, routed=False)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__[7:])
def test_with_metadata_routing(tiny, subtypes, routing, check):
    check(tiny, subtypes, routed=True)


def test_grid_search_on_the_transformer_alone_uses_score(tiny, blobs):
    # Without a downstream model GridSearchCV ranks by minus the SepCLR loss.
    X, groups = stack_groups(blobs.X_background, blobs.X_target)
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    grid = GridSearchCV(SepCLRTransformer(**tiny), {"temperature": [0.5, 1.0]}, cv=cv)
    grid.fit(X, groups)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))


def test_clone_inside_pipeline_keeps_parameters(tiny):
    pipe = _pipe(tiny)
    cloned = clone(pipe)
    assert cloned[1].get_params() == pipe[1].get_params()
