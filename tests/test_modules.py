"""Encoders and projection heads: shapes, factory errors, image backbones."""

import pytest
import torch
from torch import nn

from sklearn_sepclr._modules import (
    _IMAGE_ENCODERS,
    _build_encoder,
    _cnn_n_blocks,
    _ConvEncoder,
    _MLPEncoder,
    _projection_head,
    _ResNet18,
    _SepCLRModule,
)

IMAGE_SHAPES = [(1, 28, 28), (3, 32, 32), (3, 64, 64)]


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    # Tiny batches gain nothing from intra-op threads, and on a busy machine
    # OpenMP's waiting makes a ResNet-18 forward ten times slower.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(n_threads)


def test_mlp_encoder_output_shape():
    encoder = _MLPEncoder(12, 5, hidden_layer_sizes=(16, 8))
    assert encoder(torch.randn(4, 12)).shape == (4, 5)
    # Anything with 12 values per sample is flattened first.
    assert encoder(torch.randn(4, 3, 2, 2)).shape == (4, 5)


def test_projection_head_follows_the_paper():
    head = _projection_head(8, 4)
    assert [type(layer) for layer in head] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    assert head[0].out_features == 128
    assert head(torch.randn(6, 8)).shape == (6, 4)


def test_build_encoder_mlp():
    encoder = _build_encoder("mlp", (3, 4), 6, (16,))
    assert isinstance(encoder, _MLPEncoder)
    assert encoder(torch.randn(2, 3, 4)).shape == (2, 6)


def test_build_encoder_calls_a_callable_with_shape_and_width():
    calls = []

    def factory(input_shape, n_out):
        calls.append((input_shape, n_out))
        return nn.Linear(input_shape[0], n_out)

    encoder = _build_encoder(factory, [7], 3, (16,))
    assert isinstance(encoder, nn.Linear)
    assert calls == [((7,), 3)]


def test_build_encoder_rejects_a_callable_returning_no_module():
    with pytest.raises(TypeError, match="must return a torch.nn.Module.*got function"):
        _build_encoder(lambda input_shape, n_out: lambda x: x, (4,), 2, (16,))


@pytest.mark.parametrize("name", ["transformer", "MLP", None])
def test_build_encoder_rejects_unknown_names(name):
    with pytest.raises(ValueError, match="encoder must be 'mlp', 'cnn', 'resnet18'"):
        _build_encoder(name, (4,), 2, (16,))


@pytest.mark.parametrize("name", ["cnn", "resnet18"])
def test_image_encoders_need_image_shaped_samples(name):
    with pytest.raises(ValueError, match=r"needs images.*\(12,\)"):
        _build_encoder(name, (12,), 2, (16,))


def test_image_encoders_are_registered():
    assert _IMAGE_ENCODERS == {"cnn": _ConvEncoder, "resnet18": _ResNet18}


@pytest.mark.parametrize("shape", IMAGE_SHAPES)
@pytest.mark.parametrize("name", ["cnn", "resnet18"])
def test_image_encoder_output_shape(name, shape):
    encoder = _build_encoder(name, shape, 5, (16,))
    with torch.no_grad():
        assert encoder(torch.rand(2, *shape)).shape == (2, 5)


@pytest.mark.parametrize("shape", [(1, 8, 8), (4, 9, 13)])
def test_cnn_takes_small_images_and_any_channel_count(shape):
    with torch.no_grad():
        assert _ConvEncoder(shape, 3)(torch.rand(2, *shape)).shape == (2, 3)


def _convs(encoder):
    return [c for c in encoder.modules() if isinstance(c, nn.Conv2d)]


def _conv_strides(encoder):
    return [c.stride[0] for c in _convs(encoder)]


def _receptive_field(encoder):
    """Receptive field, in pixels, of the encoder's convolutions in a row."""
    field, jump = 1, 1
    for conv in _convs(encoder):
        field += (conv.kernel_size[0] - 1) * jump
        jump *= conv.stride[0]
    return field


def test_cnn_strides_set_each_block_and_the_final_map():
    shape = (1, 28, 28)
    strided = _ConvEncoder(shape, 3, strides=(2, 2, 2, 2))
    four = _ConvEncoder(shape, 3, widths=(32, 64, 128, 256))
    assert _conv_strides(strided) == [2, 2, 2, 2]
    assert _conv_strides(four) == [1, 2, 2, 2]
    with torch.no_grad():
        x = torch.rand(2, *shape)
        assert four.features(x).shape[2:] == (4, 4)
        assert strided.features(x).shape[2:] == (2, 2)
        assert strided(x).shape == (2, 3)
    # Strides alone set the number of blocks; with widths they must agree.
    assert _conv_strides(_ConvEncoder(shape, 3, strides=(2, 2))) == [2, 2]
    with pytest.raises(ValueError, match="one stride per block"):
        _ConvEncoder(shape, 3, widths=(8, 8, 8), strides=(1, 2))


@pytest.mark.parametrize(
    "size, n_blocks",
    [(8, 4), (16, 4), (17, 4), (18, 5), (28, 5), (32, 5), (33, 5), (34, 6), (64, 6)],
)
def test_cnn_adds_blocks_until_its_receptive_field_covers_the_image(size, n_blocks):
    assert _cnn_n_blocks(size) == n_blocks
    encoder = _ConvEncoder((1, size, size), 3)
    assert _conv_strides(encoder) == [1] + [2] * (n_blocks - 1)
    assert [c.out_channels for c in _convs(encoder)] == [32, 64, 128, 256] + [256] * (n_blocks - 4)
    assert _receptive_field(encoder) >= size
    # The fewest blocks that do: one fewer would not cover the image.
    if n_blocks > 4:
        fewer = _ConvEncoder((1, size, size), 3, strides=(1,) + (2,) * (n_blocks - 2))
        assert _receptive_field(fewer) < size
    # Rectangular images go by their longer side.
    assert _conv_strides(_ConvEncoder((3, 8, size), 3)) == _conv_strides(encoder)


def test_cnn_at_16_px_is_the_four_block_network():
    # The image verdicts at 16 px were measured with this network: the
    # automatic depth must leave it, and its initial weights, unchanged.
    torch.manual_seed(0)
    auto = _ConvEncoder((3, 16, 16), 5)
    torch.manual_seed(0)
    explicit = _ConvEncoder((3, 16, 16), 5, widths=(32, 64, 128, 256), strides=(1, 2, 2, 2))
    for a, b in zip(auto.state_dict().values(), explicit.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    "shape, small",
    [((3, 32, 32), True), ((1, 28, 28), True), ((3, 32, 96), True), ((3, 33, 33), False)],
)
def test_resnet18_picks_its_stem_from_the_image_size(shape, small):
    encoder = _ResNet18(shape, 4)
    assert encoder.small_input is small
    assert isinstance(encoder.stem[-1], nn.MaxPool2d) is not small
    assert encoder.stem[0].kernel_size == ((3, 3) if small else (7, 7))


def test_resnet18_stem_can_be_forced():
    assert _ResNet18((3, 64, 64), 4, small_input=True).small_input
    assert not _ResNet18((3, 32, 32), 4, small_input=False).small_input


def test_resnet18_has_the_standard_architecture():
    # torchvision's resnet18 has 11,689,512 parameters, 513,000 of them in its
    # 1000-class head: the same body plus our 512 -> n_out head must match.
    encoder = _ResNet18((3, 64, 64), 10, small_input=False)
    n_params = sum(p.numel() for p in encoder.parameters())
    assert n_params == 11_689_512 - 513_000 + 513 * 10


@pytest.mark.parametrize("name", ["cnn", "resnet18"])
def test_image_encoders_accept_channels_last(name):
    encoder = _IMAGE_ENCODERS[name]((3, 16, 16), 4).eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        expected = encoder(x)
        encoder = encoder.to(memory_format=torch.channels_last)
        out = encoder(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["cnn", "resnet18"])
def test_image_encoders_run_under_bf16_autocast(name):
    encoder = _IMAGE_ENCODERS[name]((3, 8, 8), 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = encoder(torch.rand(2, 3, 8, 8))
    assert out.shape == (2, 4)
    assert out.dtype == torch.bfloat16
    assert torch.isfinite(out).all()
    out.float().sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in encoder.parameters() if p.grad is not None)


def test_sepclr_module_with_image_encoders():
    shape = (1, 12, 12)
    module = _SepCLRModule(_ConvEncoder(shape, 4), _ConvEncoder(shape, 3), 4, 3)
    x = torch.rand(5, *shape)
    r_c, r_s = module(x)
    p_c, z_s = module.project(x)
    assert r_c.shape == p_c.shape == (5, 4)
    assert r_s.shape == z_s.shape == (5, 3)
