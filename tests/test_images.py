"""SepCLRTransformer on images: both input forms, uint8, encoders, pipelines."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_sepclr import SepCLRTransformer


@pytest.fixture(scope="module")
def images():
    """Tiny uint8 images: background noise; targets carry a bright square."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 120, size=(24, 1, 12, 12)).astype(np.uint8)
    X[12:, :, 3:8, 3:8] = 250
    groups = np.r_[np.zeros(12, int), np.ones(12, int)]
    return X, groups


def _tiny_cnn(**params):
    config = dict(
        n_common=2,
        n_salient=2,
        encoder="cnn",
        max_epochs=1,
        batch_size=12,
        device="cpu",
        random_state=0,
    )
    return SepCLRTransformer(**{**config, **params})


class _Stop(Exception):
    pass


def _settings_at_train_begin(est, *fit_args):
    """The net's ``max_epochs``, ``background_mixing``, background term
    weight, representations' k-JEM encoder, decorrelation weight and
    background spread weight when training starts; the fit is stopped there
    (a 300-epoch default is not run)."""
    from skorch.callbacks import Callback

    seen = {}

    class Peek(Callback):
        def on_train_begin(self, net, **kwargs):
            seen.update(
                max_epochs=net.max_epochs,
                background_mixing=net.background_mixing,
                background_weight=net.criterion_.background_weight,
                representation_jem_encoder=net.criterion_.representation_jem_encoder,
                decorrelation_weight=net.criterion_.decorrelation_weight,
                background_spread_weight=net.criterion_.background_spread_weight,
            )
            raise _Stop

    with pytest.raises(_Stop):
        est.set_params(callbacks=[("peek", Peek())]).fit(*fit_args)
    return seen


def test_auto_defaults_depend_on_the_kind_of_data(images):
    X, groups = images
    auto = dict(
        max_epochs="auto",
        background_mixing="auto",
        background_weight="auto",
        representation_jem_encoder="auto",
        decorrelation_weight="auto",
        background_spread_weight="auto",
    )
    image = _settings_at_train_begin(_tiny_cnn(**auto), X, groups)
    assert image == {
        "max_epochs": 300,
        "background_mixing": 0.5,
        "background_weight": 10.0,
        "representation_jem_encoder": "salient",
        "decorrelation_weight": 0.0,
        "background_spread_weight": 1.0,
    }
    # The same images as rows (tabular data): the tabular defaults.
    rows = SepCLRTransformer(n_common=2, n_salient=2, hidden_layer_sizes=(8,), device="cpu")
    tabular = _settings_at_train_begin(rows, X.reshape(len(X), -1) / 255.0, groups)
    assert tabular == {
        "max_epochs": 100,
        "background_mixing": 0.0,
        "background_weight": 30.0,
        "representation_jem_encoder": "common",
        "decorrelation_weight": 10.0,
        "background_spread_weight": 0.0,
    }
    # Flattened images with image_shape are images.
    flat = _tiny_cnn(image_shape=(1, 12, 12), **auto)
    assert _settings_at_train_begin(flat, X.reshape(len(X), -1), groups) == image
    # Numbers are taken as given, on images too.
    given = _tiny_cnn(
        max_epochs=3,
        background_mixing=0.0,
        background_weight=7,
        representation_jem_encoder="both",
        decorrelation_weight=2,
        background_spread_weight=0,
    )
    assert _settings_at_train_begin(given, X, groups) == {
        "max_epochs": 3,
        "background_mixing": 0.0,
        "background_weight": 7.0,
        "representation_jem_encoder": "both",
        "decorrelation_weight": 2.0,
        "background_spread_weight": 0.0,
    }


def test_warm_start_resolves_auto_for_images(images):
    X, groups = images
    est = _tiny_cnn(
        warm_start=True, background_mixing=0.25, background_weight=3.0, decorrelation_weight=5.0,
        background_spread_weight=0.0,
    )
    est.fit(X, groups)
    assert est.net_.criterion_.background_weight == 3.0
    assert est.net_.criterion_.decorrelation_weight == 5.0
    assert est.net_.criterion_.background_spread_weight == 0.0
    est.set_params(
        background_mixing="auto",
        background_weight="auto",
        decorrelation_weight="auto",
        background_spread_weight="auto",
        max_epochs=2,
    )
    est.fit(X, groups)
    assert est.net_.background_mixing == 0.5
    assert est.net_.criterion_.background_weight == 10.0
    assert est.net_.criterion_.decorrelation_weight == 0.0
    assert est.net_.criterion_.background_spread_weight == 1.0
    assert len(est.history_) == 3


def test_background_mixing_blends_image_views(images):
    X, groups = images
    off = _tiny_cnn(background_mixing=0.0).fit(X, groups)
    assert off.net_.background_mixing == 0.0
    mixed = _tiny_cnn(background_mixing=0.5).fit(X, groups)
    assert mixed.net_.background_mixing == 0.5
    assert not np.allclose(off.transform(X), mixed.transform(X))
    # The views of one batch: backgrounds (no square) stay free of the
    # targets' bright square; targets keep it at half strength or more.
    x = torch.as_tensor(X, dtype=torch.float32) / 255
    is_target = torch.as_tensor(groups == 1)
    mixed.net_.augmentation = lambda batch, generator: batch
    views = mixed.net_.make_views(x, is_target, torch.Generator().manual_seed(0))
    square = views[:, :, 3:8, 3:8]
    group = torch.cat([is_target, is_target])
    assert square[~group].max() <= 119 / 255  # the backgrounds' pixels are 0..119
    assert square[group].min() >= 0.5 * 250 / 255
    assert not torch.equal(views[: len(x)], views[len(x) :])  # two draws


def test_nd_and_flattened_images_give_identical_results(images):
    X, groups = images
    nd = _tiny_cnn().fit(X, groups)
    flat = _tiny_cnn(image_shape=(1, 12, 12)).fit(X.reshape(24, -1), groups)
    assert flat.input_shape_ == nd.input_shape_ == (1, 12, 12)
    assert_array_equal(flat.transform(X.reshape(24, -1)), nd.transform(X))


def test_uint8_and_float_images_agree(images):
    X, groups = images
    as_uint8 = _tiny_cnn().fit(X, groups)
    as_float = _tiny_cnn().fit(X.astype(np.float32) / 255, groups)
    assert_allclose(
        as_uint8.transform(X), as_float.transform(X.astype(np.float32) / 255), atol=1e-5
    )
    assert as_uint8.transform(X).dtype == np.float32


def test_uint8_images_stay_uint8_on_the_host(images, monkeypatch):
    X, groups = images
    import sklearn_sepclr._net as net_module

    seen = []
    original = net_module._to_model_input

    def spy(x, device, non_blocking):
        seen.append(x.dtype)
        return original(x, device, non_blocking)

    monkeypatch.setattr(net_module, "_to_model_input", spy)
    _tiny_cnn().fit(X, groups)
    assert seen and set(seen) == {torch.uint8}  # converted batch by batch


@pytest.mark.parametrize("encoder", ["cnn", "resnet18"])
def test_image_encoders_fit_and_transform(images, encoder):
    X, groups = images
    est = SepCLRTransformer(
        n_common=3,
        n_salient=2,
        encoder=encoder,
        max_epochs=1,
        batch_size=12,
        device="cpu",
        random_state=0,
    ).fit(X, groups)
    Z = est.transform(X)
    assert Z.shape == (24, 5) and np.all(np.isfinite(Z))
    assert est.net_.module_.common_encoder is not est.net_.module_.salient_encoder
    # Images keep the paper's medical weights (tabular data get a background
    # weight of 30 from background_weight="auto"; see the docstring).
    assert est.net_.criterion_.salient_weight == 1.0
    assert est.net_.criterion_.background_weight == 10.0


def test_custom_callable_encoder(images):
    X, groups = images
    calls = []

    def encoder(input_shape, n_out):
        calls.append((input_shape, n_out))
        c = input_shape[0]
        return torch.nn.Sequential(
            torch.nn.Conv2d(c, 4, 3),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.LazyLinear(n_out),
        )

    est = _tiny_cnn(encoder=encoder).fit(X, groups)
    assert calls == [((1, 12, 12), 2), ((1, 12, 12), 2)]
    assert est.transform(X).shape == (24, 4)


def test_encoder_returning_no_module_is_a_clear_error(images):
    X, groups = images
    with pytest.raises(TypeError, match="must return a torch.nn.Module"):
        _tiny_cnn(encoder=lambda shape, n: "not a module").fit(X, groups)


def test_image_encoder_on_tabular_data_is_a_clear_error():
    X = np.random.RandomState(0).normal(size=(8, 5))
    with pytest.raises(ValueError, match="needs images"):
        _tiny_cnn().fit(X, [0, 1] * 4)


def test_pipeline_on_flattened_images(images):
    X, groups = images
    digits = np.arange(24) % 2
    pipe = make_pipeline(_tiny_cnn(image_shape=(1, 12, 12)), LogisticRegression())
    pipe.fit(X.reshape(24, -1), digits, sepclrtransformer__sample_group=groups)
    assert pipe.predict(X.reshape(24, -1)).shape == (24,)


def test_image_augmentation_is_the_default_for_images(images):
    from sklearn_sepclr import ImageAugmentation

    X, groups = images
    est = _tiny_cnn().fit(X, groups)
    assert isinstance(est.net_.augmentation, ImageAugmentation)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_image_fit_bf16_channels_last(images):
    X, groups = images
    est = _tiny_cnn(device="cuda", precision="bf16").fit(X, groups)
    assert est.device_.type == "cuda"
    first = next(est.net_.module_.common_encoder.parameters())
    assert first.is_contiguous(memory_format=torch.channels_last)
    Z = est.transform(X)
    assert Z.dtype == np.float32 and np.all(np.isfinite(Z))
