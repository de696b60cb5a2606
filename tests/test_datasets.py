"""Tests of sklearn_sepclr.datasets: shapes, determinism, factors, offline loading."""

import gzip
import io
import socket
from importlib import resources

import numpy as np
import pytest

from sklearn_sepclr.datasets import (
    _dsprites,
    _images,
    _mnist,
    load_mice_protein,
    load_mnist_on_grass,
    load_textures_mnist,
    make_contrastive_blobs,
    make_dsprites_grid,
)

# Tiny versions of every random dataset: (function, keyword arguments).
SMALL = {
    "blobs": (make_contrastive_blobs, {"n_background": 30, "n_target": 20}),
    "grass": (load_mnist_on_grass, {"n_background": 30, "n_target": 20}),
    "textures": (load_textures_mnist, {"n_background": 30, "n_target": 20}),
    "textures_gray": (load_textures_mnist, {"n_background": 30, "n_target": 20, "n_channels": 1}),
    "dsprites": (make_dsprites_grid, {"n_background": 30, "n_target": 20}),
}
IMAGES = {
    "grass": (1, 28),
    "textures": (3, 32),
    "textures_gray": (1, 32),
    "dsprites": (1, 32),
}


def small(name, random_state=0, **params):
    function, kwargs = SMALL[name]
    return function(**kwargs, **params, random_state=random_state)


def _check_bunch(data, n_background, n_target):
    """The contract every dataset shares (see make_contrastive_blobs)."""
    assert len(data.X_background) == n_background
    assert len(data.X_target) == n_target
    assert set(data.background_attributes) == set(data.common_attributes)
    assert set(data.target_attributes) == set(data.common_attributes + data.salient_attributes)
    assert not set(data.common_attributes) & set(data.salient_attributes)
    for name, values in data.background_attributes.items():
        assert values.shape == (n_background,), name
    for name, values in data.target_attributes.items():
        assert values.shape == (n_target,), name
    assert isinstance(data.DESCR, str) and len(data.DESCR) > 200


@pytest.mark.parametrize("name", SMALL)
def test_bunch_contract(name):
    _check_bunch(small(name), 30, 20)


def test_mice_bunch_contract():
    _check_bunch(load_mice_protein(), 135, 270)


@pytest.mark.parametrize("name", IMAGES)
def test_images_are_uint8_nchw(name):
    n_channels, size = IMAGES[name]
    data = small(name)
    assert data.image_shape == (n_channels, size, size)
    for X in (data.X_background, data.X_target):
        assert X.dtype == np.uint8
        assert X.shape[1:] == data.image_shape
        assert X.flags.c_contiguous and X.flags.writeable
        assert X.max() > 100  # 0-255 values, not 0-1


@pytest.mark.parametrize("name", SMALL)
def test_deterministic_from_random_state(name):
    first, again, other = small(name, 0), small(name, 0), small(name, 1)
    for key in ("X_background", "X_target"):
        np.testing.assert_array_equal(first[key], again[key])
        assert not np.array_equal(first[key], other[key])
    for group in ("background_attributes", "target_attributes"):
        for attribute, values in first[group].items():
            np.testing.assert_array_equal(values, again[group][attribute])


@pytest.mark.parametrize("name", SMALL)
def test_random_state_instance_accepted(name):
    data = small(name, np.random.RandomState(0))
    np.testing.assert_array_equal(data.X_target, small(name, 0).X_target)


# --- make_contrastive_blobs ------------------------------------------------------


def test_blobs_shapes_and_labels():
    data = make_contrastive_blobs(40, 30, n_features=7, n_salient_clusters=4, random_state=0)
    assert data.X_background.shape == (40, 7) and data.X_target.shape == (30, 7)
    assert data.X_background.dtype == np.float64
    assert set(data.target_attributes["common"]) <= set(range(3))
    assert set(data.target_attributes["salient"]) <= set(range(4))
    np.testing.assert_allclose(data.mixing @ data.mixing.T, np.eye(4), atol=1e-12)


def test_blobs_salient_factor_absent_from_background():
    data = make_contrastive_blobs(1000, 1000, random_state=0)
    on_salient = data.mixing[2:].T
    background = data.X_background @ on_salient
    target = data.X_target @ on_salient
    # Background: only the within-cluster and observation noise, around 0.
    np.testing.assert_allclose(background.mean(axis=0), 0, atol=0.1)
    assert np.all(background.std(axis=0) < 0.6)
    # Target: the salient clusters sit apart, so the spread is far larger.
    assert target.var(axis=0).sum() > 4 * background.var(axis=0).sum()
    labels = data.target_attributes["salient"]
    centres = [target[labels == k].mean(axis=0) for k in np.unique(labels)]
    assert np.linalg.norm(centres[0] - centres[1]) > 1


def test_blobs_rejects_too_few_features():
    with pytest.raises(ValueError, match="n_features"):
        make_contrastive_blobs(n_features=3)


# --- load_mnist_on_grass ----------------------------------------------------------


def _centre_minus_border(X):
    """Mean brightness of the image centre minus that of a 3-pixel border."""
    mean = X.reshape(len(X), -1, *X.shape[-2:]).mean(axis=(0, 1))
    border = np.ones(mean.shape, dtype=bool)
    border[3:-3, 3:-3] = False
    size = mean.shape[0]
    centre = mean[size // 4 : -size // 4, size // 4 : -size // 4]
    return centre.mean() - mean[border].mean()


def test_mnist_on_grass_digit_only_in_target():
    data = load_mnist_on_grass(500, 500, random_state=0)
    assert set(data.target_attributes["digit"]) == set(range(10))
    assert data.common_attributes == [] and data.salient_attributes == ["digit"]
    # Grass is stationary: no bright centre on background images; the white
    # digits (always centred, as in MNIST) brighten the centre of targets.
    assert abs(_centre_minus_border(data.X_background)) < 4
    assert _centre_minus_border(data.X_target) > 12
    # Grass, not the digit, carries most of the variance of the targets.
    background_var = data.X_background.reshape(500, -1).astype(float).var(axis=0).sum()
    target_var = data.X_target.reshape(500, -1).astype(float).var(axis=0).sum()
    assert background_var < target_var < 1.5 * background_var


def test_mnist_on_grass_digits_distinct_while_they_last():
    data = load_mnist_on_grass(1, 1000, random_state=0)
    flat = data.X_target.reshape(1000, -1)
    assert len(np.unique(flat, axis=0)) == 1000
    assert np.bincount(data.target_attributes["digit"]).min() > 60


@pytest.mark.parametrize("image_size", [16, 24])
def test_mnist_on_grass_image_size(image_size):
    data = load_mnist_on_grass(3, 4, image_size=image_size, random_state=0)
    assert data.X_target.shape == (4, 1, image_size, image_size)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_target": 0}, "n_target"),
        ({"image_size": 4}, "image_size"),
        ({"digit_opacity": 0}, "digit_opacity"),
        ({"n_background": 2.5}, "n_background"),
    ],
)
def test_mnist_on_grass_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        load_mnist_on_grass(**{"n_background": 2, "n_target": 2, **params})


# --- load_textures_mnist ----------------------------------------------------------


def test_textures_mnist_labels():
    data = load_textures_mnist(400, 300, random_state=0)
    assert len(data.source_names) == 9
    for group in (data.background_attributes, data.target_attributes):
        assert set(group["source"]) == set(range(9))
    assert set(data.target_attributes["digit"]) == set(range(10))
    assert data.common_attributes == ["source"] and data.salient_attributes == ["digit"]


def test_textures_mnist_digit_only_in_target():
    data = load_textures_mnist(600, 600, n_channels=1, random_state=0)
    assert abs(_centre_minus_border(data.X_background)) < 6
    assert _centre_minus_border(data.X_target) > 15


def test_textures_mnist_sources_differ_and_gray_sources_stay_gray():
    data = load_textures_mnist(300, 1, sources=["gravel", "coffee"], random_state=0)
    X, source = data.X_background.astype(float), data.background_attributes["source"]
    gravel, coffee = X[source == 0], X[source == 1]
    # A grayscale source is repeated on the three channels; coffee is colour.
    assert np.all(gravel[:, 0] == gravel[:, 1]) and np.all(gravel[:, 1] == gravel[:, 2])
    assert np.abs(coffee[:, 0] - coffee[:, 2]).mean() > 10
    assert data.source_names == ["gravel", "coffee"]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_channels": 2}, "n_channels"),
        ({"sources": ["lena"]}, "sources"),
        ({"sources": []}, "sources"),
        ({"digit_opacity": 1.5}, "digit_opacity"),
    ],
)
def test_textures_mnist_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        load_textures_mnist(2, 2, **params)


# --- make_dsprites_grid -----------------------------------------------------------


def _masks_of(data):
    """Shape masks recomputed from the salient attributes of the targets."""
    attributes, size = data.target_attributes, data.image_shape[-1]
    span = (1 - 2 * _dsprites._RADIUS) * size
    return _dsprites._shape_masks(
        attributes["shape"],
        _dsprites._RADIUS * size + span * attributes["position_x"],
        _dsprites._RADIUS * size + span * attributes["position_y"],
        _dsprites._RADIUS * size * attributes["scale"],
        attributes["rotation"],
        size,
    )


@pytest.mark.parametrize("image_size", [32, 64])
def test_dsprites_shapes_drawn_where_attributes_say(image_size):
    data = make_dsprites_grid(20, 200, image_size=image_size, random_state=0)
    assert data.X_target.shape == (200, 1, image_size, image_size)
    masks = _masks_of(data)
    assert np.all(data.X_target[:, 0][masks] == 255)
    areas = masks.sum(axis=(1, 2)) / image_size**2
    # At least a few pixels, at most the disc of radius 0.2 * image_size.
    assert areas.min() > 0.01 and areas.max() < np.pi * 0.2**2


def test_dsprites_attribute_ranges():
    data = make_dsprites_grid(50, 400, random_state=0)
    attributes = data.target_attributes
    assert set(attributes["shape"]) == set(range(len(data.shape_names)))
    assert data.shape_names == ["square", "ellipse", "heart", "triangle"]
    assert np.all((0.5 <= attributes["scale"]) & (attributes["scale"] <= 1))
    assert np.all((0 <= attributes["rotation"]) & (attributes["rotation"] < 2 * np.pi))
    for name in ("position_x", "position_y"):
        assert np.all((0 <= attributes[name]) & (attributes[name] <= 1))
    for name in data.common_attributes:
        assert set(data.background_attributes[name]) <= set(range(10))
        assert set(attributes[name]) <= set(range(10))


def test_dsprites_background_is_a_digit_grid_without_shape():
    data = make_dsprites_grid(300, 300, random_state=0)
    digits, labels = _mnist.mnist_digits(16)
    label_of = {digit.tobytes(): label for digit, label in zip(digits, labels, strict=True)}
    quarters = data.X_background[:, 0].reshape(300, 2, 16, 2, 16).transpose(0, 1, 3, 2, 4)
    # Every quarter of a background image is exactly one resized MNIST digit,
    # whose label is the attribute of that position.
    for k, where in enumerate(("top_left", "top_right", "bottom_left", "bottom_right")):
        found = [label_of.get(q.tobytes()) for q in quarters.reshape(300, 4, 16, 16)[:, k]]
        assert found == data.background_attributes[f"digit_{where}"].tolist()
    # The shape adds bright pixels to the targets only.
    assert data.X_target.mean() > data.X_background.mean() + 4


def test_dsprites_shape_geometry():
    size, n = 64, 8
    centre = np.full(n, 32.0)
    radius = np.full(n, 12.0)
    for index, name in enumerate(_dsprites.SHAPES):
        shape = np.full(n, index)
        rotation = np.linspace(0, 2 * np.pi, n, endpoint=False)
        masks = _dsprites._shape_masks(shape, centre, centre, radius, rotation, size)
        areas = masks.sum(axis=(1, 2))
        # Rotation keeps the area (up to pixelisation) and the shape in its disc.
        assert areas.max() < 1.1 * areas.min(), name
        rows, cols = np.nonzero(masks[0])
        assert np.hypot(rows + 0.5 - 32, cols + 0.5 - 32).max() <= 12 + 1, name
    # Symmetries: a square is unchanged by a quarter turn.
    square = _dsprites._shape_masks(
        np.zeros(2, int), centre[:2], centre[:2], radius[:2], np.array([0, np.pi / 2]), size
    )
    np.testing.assert_array_equal(square[0], square[1])
    # The triangle's apex points up at rotation 0 (rows grow downwards).
    triangle = _dsprites._shape_masks(
        np.array([3]), centre[:1], centre[:1], radius[:1], np.zeros(1), size
    )[0]
    rows = np.nonzero(triangle)[0]
    assert triangle[rows.min()].sum() < triangle[rows.max()].sum()


def test_dsprites_rejects_odd_size():
    with pytest.raises(ValueError, match="even"):
        make_dsprites_grid(2, 2, image_size=33)


# --- load_mice_protein ------------------------------------------------------------


def _shipped_csv():
    pd = pytest.importorskip("pandas")
    path = resources.files("sklearn_sepclr.datasets") / "data"
    raw = (path / "mice_protein_expression.csv.gz").read_bytes()
    return pd.read_csv(io.BytesIO(gzip.decompress(raw)))


def test_mice_protein_follows_cpca_protocol():
    table = _shipped_csv()
    saline = table["Treatment"] == "Saline"
    target = table[saline & (table["Behavior"] == "S/C")]
    background = table[saline & (table["Behavior"] == "C/S") & (table["Genotype"] == "Control")]
    data = load_mice_protein()
    assert data.X_target.shape == (len(target), 77) == (270, 77)
    assert data.X_background.shape == (len(background), 77) == (135, 77)
    np.testing.assert_array_equal(
        data.target_attributes["genotype"], (target["Genotype"] == "Ts65Dn").to_numpy()
    )
    assert np.bincount(data.target_attributes["genotype"]).tolist() == [135, 135]
    assert data.feature_names == list(table.columns[1:78])
    assert data.salient_attributes == ["genotype"] and data.common_attributes == []
    # Measured values are unchanged; missing ones get their column's mean.
    values = target[data.feature_names].to_numpy()
    measured = ~np.isnan(values)
    np.testing.assert_allclose(data.X_target[measured], values[measured])
    means = table[data.feature_names].mean().to_numpy()
    rows, cols = np.nonzero(~measured)
    assert len(rows) > 0
    np.testing.assert_allclose(data.X_target[rows, cols], means[cols])
    assert data.X_target.dtype == np.float64
    assert np.isfinite(data.X_background).all() and np.isfinite(data.X_target).all()


def test_mice_protein_mice():
    data = load_mice_protein()
    for mouse in (data.background_mouse, data.target_mouse):
        _, counts = np.unique(mouse, return_counts=True)
        assert np.all(counts == 15)
    assert not set(data.background_mouse) & set(data.target_mouse)
    assert "CC BY 4.0" in data.DESCR and "Higuera" in data.DESCR


def test_mice_protein_shuffle_and_frame():
    plain = load_mice_protein()
    shuffled = load_mice_protein(shuffle=True, random_state=0)
    again = load_mice_protein(shuffle=True, random_state=0)
    np.testing.assert_array_equal(shuffled.X_target, again.X_target)
    assert not np.array_equal(shuffled.X_target, plain.X_target)
    # The same rows, in another order.
    np.testing.assert_array_equal(
        np.sort(shuffled.X_target, axis=0), np.sort(plain.X_target, axis=0)
    )
    pytest.importorskip("pandas")
    frame = load_mice_protein(as_frame=True)
    assert list(frame.X_target.columns) == plain.feature_names
    np.testing.assert_array_equal(frame.X_background.to_numpy(), plain.X_background)


# --- offline ----------------------------------------------------------------------


def test_loaders_never_touch_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset loader tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # Empty the caches so that the digits are read from disk again here.
    _mnist._mnist_28.cache_clear()
    _mnist.mnist_digits.cache_clear()
    _images._source_image.cache_clear()
    for name in SMALL:
        small(name)
    load_mice_protein()
