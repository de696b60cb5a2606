"""Tests of sklearn_sepclr.metrics: linear probes, k-means ARI, background collapse."""

import sys

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_sepclr.baselines import ContrastivePCA
from sklearn_sepclr.metrics import (
    BackgroundCollapse,
    background_collapse,
    background_collapse_from_estimator,
    kmeans_ari,
    probe_scores,
    probe_table,
)

COLUMNS = ["space", "attribute", "metric", "score", "chance"]


def _known_answers(n_samples=400, seed=0):
    """Features whose columns are: a label, a continuous value, then pure noise."""
    rng = np.random.RandomState(seed)
    label = rng.randint(3, size=n_samples)
    value = rng.normal(size=n_samples)
    features = np.c_[label, value, rng.normal(size=(n_samples, 3))]
    attributes = {"label": label, "value": 2.0 * value - 1.0}
    return features, attributes


def _split(features, attributes, n_train):
    train = {name: values[:n_train] for name, values in attributes.items()}
    test = {name: values[n_train:] for name, values in attributes.items()}
    return features[:n_train], train, features[n_train:], test


def _rows(table):
    return {(row.space, row.attribute): row for row in table.itertuples()}


def test_probe_scores_known_answers():
    features, attributes = _known_answers()
    table = probe_scores(
        *_split(features, attributes, 200),
        spaces={"label": [0], "value": slice(1, 2), "noise": slice(2, None)},
    )
    assert list(table.columns) == COLUMNS
    assert table.shape == (6, 5)
    assert table[["space", "attribute"]].to_numpy().tolist() == [
        ["label", "label"],
        ["label", "value"],
        ["value", "label"],
        ["value", "value"],
        ["noise", "label"],
        ["noise", "value"],
    ]
    rows = _rows(table)
    assert rows["label", "label"].metric == "balanced_accuracy"
    assert rows["label", "label"].score == 1.0
    assert rows["label", "label"].chance == pytest.approx(1 / 3)
    assert abs(rows["noise", "label"].score - 1 / 3) < 0.12
    assert rows["value", "value"].metric == "mean_absolute_error"
    assert rows["value", "value"].score < 1e-10
    # Chance of a regression: the error of always predicting the train mean.
    test_value, train_value = attributes["value"][200:], attributes["value"][:200]
    expected = np.abs(test_value - train_value.mean()).mean()
    assert rows["noise", "value"].chance == pytest.approx(expected)
    assert rows["noise", "value"].score > 0.9 * expected


def test_probe_scores_default_space_and_dataframe_attributes():
    features, attributes = _known_answers()
    frame = pd.DataFrame(attributes, index=np.arange(400) * 7)
    table = probe_scores(features[:200], frame.iloc[:200], features[200:], frame.iloc[200:])
    assert table["space"].tolist() == ["all", "all"]
    assert table["score"].tolist()[0] == 1.0
    assert table["score"].tolist()[1] < 1e-10


def test_probe_scores_column_selections_agree():
    features, attributes = _known_answers()
    mask = np.array([True, False, True, False, False])
    spaces = {"slice": slice(0, 3, 2), "indices": [0, 2], "mask": mask}
    table = probe_scores(*_split(features, attributes, 200), spaces=spaces)
    scores = table.pivot(index="attribute", columns="space", values="score")
    assert_allclose(scores["indices"], scores["slice"])
    assert_allclose(scores["mask"], scores["slice"])


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["healthy", "sick"] * 100),
        np.array([False, True] * 100),
        pd.Categorical(["a", "b"] * 100),
        pd.array([0, 1] * 100, dtype="Int64"),
    ],
    ids=["str", "bool", "categorical", "nullable-int"],
)
def test_categorical_dtypes_are_classification(labels):
    features = np.asarray(pd.Series(labels).factorize()[0], dtype=float)[:, None]
    table = probe_scores(features[:100], {"y": labels[:100]}, features[100:], {"y": labels[100:]})
    assert table["metric"].tolist() == ["balanced_accuracy"]
    assert table["score"].tolist() == [1.0]
    assert table["chance"].tolist() == [0.5]


def test_tasks_override_the_dtype():
    features, attributes = _known_answers()
    attributes["label_as_float"] = attributes["label"].astype(float)
    table = probe_scores(
        *_split(features, attributes, 200),
        tasks={"label": "regression", "label_as_float": "classification"},
    )
    assert table["metric"].tolist() == [
        "mean_absolute_error",
        "mean_absolute_error",
        "balanced_accuracy",
    ]


def test_missing_attribute_values_are_left_out():
    features, attributes = _known_answers()
    label = attributes["label"].astype(object)
    value = attributes["value"].copy()
    label[::4] = None  # e.g. the salient attribute of background samples
    value[1::4] = np.nan
    table = probe_scores(
        *_split(features, {"label": label, "value": value}, 200),
        spaces={"noise": slice(2, None)},
    )
    known = np.array([v is not None for v in label])
    train, test = known[:200], known[200:]
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    probe.fit(features[:200][train, 2:], label[:200][train].astype(int))
    expected = balanced_accuracy_score(
        label[200:][test].astype(int), probe.predict(features[200:][test, 2:])
    )
    assert table["score"].iloc[0] == pytest.approx(expected)
    assert np.isfinite(table["score"].iloc[1])


def test_custom_probes():
    features, attributes = _known_answers()
    table = probe_scores(
        *_split(features, attributes, 200),
        classifier=DummyClassifier(strategy="most_frequent"),
        regressor=DummyRegressor(),
    )
    # A constant prediction scores exactly chance.
    assert_allclose(table["score"], table["chance"])


def test_probe_scores_errors():
    features, attributes = _known_answers()
    F_train, A_train, F_test, A_test = _split(features, attributes, 200)
    with pytest.raises(ValueError, match="same attributes"):
        probe_scores(F_train, A_train, F_test, {"label": A_test["label"]})
    with pytest.raises(ValueError, match=r"attributes_train\['value'\] has 10 values for 200"):
        probe_scores(F_train, {**A_train, "value": A_train["value"][:10]}, F_test, A_test)
    with pytest.raises(ValueError, match="holds no attribute"):
        probe_scores(F_train, {}, F_test, {})
    with pytest.raises(ValueError, match="single class"):
        probe_scores(F_train, {"c": np.zeros(200, int)}, F_test, {"c": np.zeros(200, int)})
    with pytest.raises(ValueError, match="tasks maps"):
        probe_scores(F_train, A_train, F_test, A_test, tasks={"label": "ranking"})
    with pytest.raises(ValueError, match="selects no feature"):
        probe_scores(F_train, A_train, F_test, A_test, spaces={"empty": slice(0, 0)})
    with pytest.raises(ValueError, match="same number of columns"):
        probe_scores(F_train, A_train, F_test[:, :2], A_test)
    with pytest.raises(TypeError, match="dict of arrays"):
        probe_scores(F_train, A_train["label"], F_test, A_test["label"])
    with pytest.raises(ValueError, match="no value in the train or the test split"):
        empty = {"c": np.full(200, np.nan)}
        probe_scores(F_train, empty, F_test, empty)


def test_missing_pandas_gives_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    features, attributes = _known_answers()
    with pytest.raises(ImportError, match="pip install pandas"):
        probe_scores(*_split(features, attributes, 200))


class _FakeSepCLR(TransformerMixin, BaseEstimator):
    """Stands for SepCLRTransformer: transform -> [common | salient], project too."""

    def __init__(self, n_common=2, n_salient=3, output="both"):
        self.n_common = n_common
        self.n_salient = n_salient
        self.output = output

    def fit(self, X, y=None):
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X):
        # Column 0 (the label) goes to the common space, column 1 to the salient.
        X = np.asarray(X, dtype=float)
        common = np.c_[X[:, 0], np.zeros((len(X), self.n_common - 1))]
        salient = np.c_[X[:, 1], np.zeros((len(X), self.n_salient - 1))]
        return {"both": np.c_[common, salient], "common": common, "salient": salient}[self.output]

    def project(self, X):
        return 10.0 * self.transform(X)


def test_probe_table_splits_common_and_salient():
    features, attributes = _known_answers()
    table = probe_table(_FakeSepCLR(), *_split(features, attributes, 200))
    rows = _rows(table)
    assert table["space"].tolist() == ["common", "common", "salient", "salient"]
    assert rows["common", "label"].score == 1.0
    assert rows["salient", "value"].score < 1e-10
    assert rows["salient", "label"].score < 0.6
    assert rows["common", "value"].score > 0.5 * rows["common", "value"].chance
    # The same through a pipeline that ends with the estimator.
    pipe = make_pipeline(FunctionTransformer(), _FakeSepCLR()).fit(features)
    assert_allclose(probe_table(pipe, *_split(features, attributes, 200))["score"], table["score"])


@pytest.mark.parametrize("output", ["common", "salient"])
def test_probe_table_single_output(output):
    features, attributes = _known_answers()
    table = probe_table(_FakeSepCLR(output=output), *_split(features, attributes, 200))
    assert set(table["space"]) == {output}


def test_probe_table_explicit_spaces_and_one_space_estimators():
    features, attributes = _known_answers()
    split = _split(features, attributes, 200)
    table = probe_table(_FakeSepCLR(), *split, spaces={"first": [0]})
    assert table["space"].tolist() == ["first", "first"]
    groups = np.arange(len(features)) % 2
    cpca = ContrastivePCA(2).fit(features, groups)
    table = probe_table(cpca, *split)
    assert table["space"].tolist() == ["contrastivepca", "contrastivepca"]
    with pytest.raises(ValueError, match='spaces must be "auto"'):
        probe_table(cpca, *split, spaces="all")

    class Truncated(_FakeSepCLR):
        def transform(self, X):
            return super().transform(X)[:, :-1]

    with pytest.raises(ValueError, match="expects 5 columns from transform"):
        probe_table(Truncated(), *split)


def test_kmeans_ari():
    rng = np.random.RandomState(0)
    labels = np.repeat(["a", "b", "c"], 50)
    centres = {"a": [0, 0], "b": [10, 0], "c": [0, 10]}
    separated = np.array([centres[label] for label in labels]) + rng.normal(size=(150, 2))
    assert kmeans_ari(separated, labels, random_state=0) == 1.0
    noise = rng.normal(size=(150, 2))
    assert abs(kmeans_ari(noise, labels, random_state=0)) < 0.1
    # Two clusters for three classes cannot reach 1.
    assert kmeans_ari(separated, labels, n_clusters=2, random_state=0) < 1.0
    with pytest.raises(ValueError, match="one value per sample"):
        kmeans_ari(separated, labels[:10])


def test_background_collapse_on_hand_made_codes():
    collapse = background_collapse([[0.0, 0.0], [0.0, 2.0]], [[3.0, 4.0], [6.0, 8.0]])
    assert isinstance(collapse, BackgroundCollapse)
    assert collapse == (1.0, 7.5, 1.0 / 7.5)
    assert collapse._asdict() == {
        "background_norm": 1.0,
        "target_norm": 7.5,
        "ratio": 1.0 / 7.5,
    }
    assert background_collapse(np.zeros((3, 2)), np.ones((2, 2))).ratio == 0.0
    assert np.isnan(background_collapse(np.zeros((3, 2)), np.zeros((2, 2))).ratio)
    assert background_collapse(np.ones((3, 2)), np.zeros((2, 2))).ratio == np.inf
    with pytest.raises(ValueError, match="same number of columns"):
        background_collapse(np.zeros((3, 2)), np.zeros((3, 3)))


def test_background_collapse_from_estimator():
    est = _FakeSepCLR(n_common=2, n_salient=3)
    X_bg = np.c_[np.ones(4), np.zeros(4)]  # salient column 0: background collapsed
    X_tg = np.c_[np.ones(5), np.full(5, 2.0)]
    collapse = background_collapse_from_estimator(est, X_bg, X_tg)
    assert collapse == (0.0, 20.0, 0.0)  # project() = 10 * transform()
    by_transform = background_collapse_from_estimator(est, X_bg, X_tg, method="transform")
    assert by_transform == (0.0, 2.0, 0.0)
    salient_only = _FakeSepCLR(output="salient")
    assert background_collapse_from_estimator(salient_only, X_bg, X_tg, method="transform") == (
        0.0,
        2.0,
        0.0,
    )
    # Estimators without a common space: every column is salient.
    cpca = ContrastivePCA(1).fit(X_bg + np.eye(4, 2), X_tg + np.eye(5, 2))
    expected = background_collapse(cpca.transform(X_bg), cpca.transform(X_tg))
    assert background_collapse_from_estimator(cpca, X_bg, X_tg, method="transform") == expected
    with pytest.raises(TypeError, match="no project"):
        background_collapse_from_estimator(cpca, X_bg, X_tg)
    with pytest.raises(ValueError, match="method must be"):
        background_collapse_from_estimator(est, X_bg, X_tg, method="predict")


def test_background_collapse_from_estimator_needs_n_common_with_project():
    class ProjectOnly:
        def project(self, X):
            return np.asarray(X)

    with pytest.raises(TypeError, match="no integer n_common"):
        background_collapse_from_estimator(ProjectOnly(), np.zeros((2, 2)), np.ones((2, 2)))
