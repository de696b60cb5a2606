"""stack_groups and the group-label rules shared by every estimator."""

import numpy as np
import pytest

from sklearn_sepclr import stack_groups
from sklearn_sepclr.utils import _resolve_groups, _split_fit_inputs


def test_stack_groups_arrays():
    X, y = stack_groups(np.zeros((2, 3)), np.ones((3, 3)))
    assert X.shape == (5, 3)
    assert y.tolist() == [0, 0, 1, 1, 1]
    assert y.dtype == np.int64


def test_stack_groups_images_keep_their_shape_and_dtype():
    X, y = stack_groups(np.zeros((2, 1, 4, 4), np.uint8), np.ones((1, 1, 4, 4), np.uint8))
    assert X.shape == (3, 1, 4, 4) and X.dtype == np.uint8


def test_stack_groups_dataframes():
    pd = pytest.importorskip("pandas")
    bg = pd.DataFrame({"a": [1.0, 2.0]}, index=[10, 11])
    tg = pd.DataFrame({"a": [3.0]}, index=[10])
    X, y = stack_groups(bg, tg)
    assert isinstance(X, pd.DataFrame)
    assert list(X.index) == [0, 1, 2] and X["a"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="same columns"):
        stack_groups(bg, pd.DataFrame({"b": [1.0]}))


def test_stack_groups_rejects_mismatched_features():
    with pytest.raises(ValueError, match="same number of features"):
        stack_groups(np.zeros((2, 3)), np.zeros((2, 4)))


@pytest.mark.parametrize(
    "groups, background, targets",
    [
        ([0, 1, 2, 0], 0, [False, True, True, False]),
        ([True, False, True], False, [True, False, True]),
        (["b", "a", "c"], "a", [True, False, True]),
        ([3, 5, 5], 3, [False, True, True]),
    ],
)
def test_auto_background_label(groups, background, targets):
    is_target, label = _resolve_groups(groups, len(groups))
    assert label == background
    assert is_target.tolist() == targets


def test_column_vector_of_labels_is_not_a_dataset():
    X = np.zeros((4, 3))
    y = np.array([[0], [1], [1], [0]])
    _, groups, two_datasets = _split_fit_inputs(X, y, None)
    assert not two_datasets
    assert _resolve_groups(groups, 4)[0].tolist() == [False, True, True, False]


def test_two_dataset_form_with_sample_group_is_refused():
    with pytest.raises(ValueError, match="cannot be combined"):
        _split_fit_inputs(np.zeros((2, 3)), np.zeros((2, 3)), [0, 1, 0, 1])


@pytest.mark.parametrize(
    "groups, message",
    [
        ([0.0, np.nan, 1.0], "NaN"),
        ([0.0, np.inf, 1.0], "infinity"),
        (np.array([0, None, 1], dtype=object), "None, NaN or NaT"),
        (["a", float("nan"), "b"], "None, NaN or NaT"),
        (np.array([0, "a", 1], dtype=object), "mix types"),
        (np.zeros((3, 2)), "1-D"),
    ],
)
def test_bad_group_labels(groups, message):
    with pytest.raises((ValueError, TypeError), match=message):
        _resolve_groups(groups, 3)
