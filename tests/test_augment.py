"""Augmentations: tabular noise/masking, SCARF, and batched image views."""

import pytest
import torch

from sklearn_sepclr._augment import (
    ImageAugmentation,
    ScarfAugmentation,
    TabularAugmentation,
    _Draws,
    _identity,
    _mix_with_background,
    _resolve_augmentation,
)

#: Image augmentation with every random operation switched off.
NO_OP = dict(crop_scale=(1, 1), crop_ratio=(1, 1), flip_prob=0, jitter_prob=0, grayscale_prob=0)


def _generator(seed=0):
    return torch.Generator().manual_seed(seed)


def _images(shape, seed=0):
    return torch.rand(shape, generator=_generator(seed))


# --- tabular ---------------------------------------------------------------


def _tabular():
    """Columns with very different spreads, the last one constant."""
    X = torch.randn(500, 3, generator=_generator(1)) * torch.tensor([100.0, 0.01, 0.0])
    X[:, 2] = 7.0
    return X


def test_tabular_keeps_shape():
    augment = TabularAugmentation().fit(torch.randn(20, 6))
    x = torch.randn(8, 2, 3)
    assert augment(x, _generator()).shape == x.shape


def test_tabular_noise_scales_with_feature_std():
    X = _tabular()
    augment = TabularAugmentation(noise_scale=0.1, mask_prob=0.0).fit(X)
    noise = augment(X, _generator()) - X
    torch.testing.assert_close(noise.std(dim=0), 0.1 * X.std(dim=0), rtol=0.1, atol=0)
    # A constant column carries no spread, so it gets no noise at all.
    assert (noise[:, 2] == 0).all()


def test_tabular_masks_to_the_feature_mean():
    X = _tabular()
    augment = TabularAugmentation(noise_scale=0.0, mask_prob=0.5).fit(X)
    out = augment(X, _generator())
    masked = out != X
    assert 0.4 < masked[:, :2].float().mean() < 0.6
    torch.testing.assert_close(out[masked], X.mean(dim=0).expand_as(X)[masked])
    assert (out[:, 2] == 7.0).all()


def test_tabular_single_row_fit_adds_no_noise():
    augment = TabularAugmentation(mask_prob=0.0).fit(torch.ones(1, 4))
    x = torch.randn(3, 4)
    assert torch.equal(augment(x, _generator()), x)


def test_tabular_is_reproducible_from_the_seed():
    X = _tabular()
    augment = TabularAugmentation().fit(X)
    assert torch.equal(augment(X, _generator(3)), augment(X, _generator(3)))
    assert not torch.equal(augment(X, _generator(3)), augment(X, _generator(4)))


def test_scarf_draws_values_from_the_same_column():
    # Disjoint values per column and between pool and batch, so that the
    # origin of every output entry is unambiguous.
    pool = torch.arange(40.0).reshape(10, 4) * 10 + torch.arange(4.0)
    x = -1 - torch.arange(24.0).reshape(6, 4)
    out = ScarfAugmentation(corruption_prob=0.6).fit(pool)(x, _generator())
    kept = out == x
    from_pool = (out[:, None, :] == pool[None, :, :]).any(dim=1)
    assert (kept | from_pool).all()
    assert kept.any() and from_pool.any()


def test_scarf_extreme_probabilities():
    pool = torch.randn(10, 4)
    x = torch.randn(6, 4)
    assert torch.equal(ScarfAugmentation(0.0).fit(pool)(x, _generator()), x)
    out = ScarfAugmentation(1.0).fit(pool)(x, _generator())
    assert (out[:, None, :] == pool[None, :, :]).any(dim=1).all()


def test_resolve_augmentation():
    assert _resolve_augmentation(None, is_image=False) is _identity
    assert isinstance(_resolve_augmentation("auto", is_image=False), TabularAugmentation)
    assert isinstance(_resolve_augmentation("auto", is_image=True), ImageAugmentation)
    assert isinstance(_resolve_augmentation("noise", is_image=True), TabularAugmentation)
    assert isinstance(_resolve_augmentation("scarf", is_image=False), ScarfAugmentation)
    assert _resolve_augmentation(_identity, is_image=False) is _identity
    with pytest.raises(ValueError, match="augmentation must be"):
        _resolve_augmentation("flip", is_image=True)
    with pytest.raises(TypeError, match="augmentation must be.*got int"):
        _resolve_augmentation(3, is_image=False)


# --- images ----------------------------------------------------------------


def test_image_fit_returns_self():
    augment = ImageAugmentation()
    assert augment.fit(_images((2, 3, 8, 8))) is augment


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("shape", [(16, 1, 12, 12), (16, 3, 10, 14)])
def test_image_keeps_shape_dtype_and_range(shape, dtype):
    x = _images(shape).to(dtype)
    out = ImageAugmentation()(x, _generator())
    assert out.shape == x.shape
    assert out.dtype == dtype
    assert out.min() >= 0 and out.max() <= 1


def test_image_randomness_is_per_sample():
    x = _images((1, 3, 12, 12)).expand(6, -1, -1, -1).contiguous()
    out = ImageAugmentation()(x, _generator()).flatten(start_dim=1)
    differences = torch.cdist(out, out)
    assert (differences + torch.eye(6) > 1e-3).all()


def test_image_is_reproducible_from_the_seed():
    x = _images((4, 3, 12, 12))
    augment = ImageAugmentation()
    assert torch.equal(augment(x, _generator(5)), augment(x, _generator(5)))
    assert not torch.equal(augment(x, _generator(5)), augment(x, _generator(6)))


@pytest.mark.parametrize("shape, ratio", [((3, 3, 16, 16), 1.0), ((3, 1, 10, 20), 2.0)])
def test_image_without_random_operations_is_the_identity(shape, ratio):
    x = _images(shape)
    augment = ImageAugmentation(**{**NO_OP, "crop_ratio": (ratio, ratio)})
    torch.testing.assert_close(augment(x, _generator()), x)


def test_image_flip():
    x = _images((3, 3, 8, 8))
    augment = ImageAugmentation(**{**NO_OP, "flip_prob": 1})
    torch.testing.assert_close(augment(x, _generator()), x.flip(-1))


def test_image_crop_covers_the_requested_area():
    # On a linear ramp, bilinear sampling is exact: a crop of a quarter of
    # the area (half the side) spans half of the ramp's range.
    ramp = torch.linspace(0, 1, 32).expand(4, 1, 32, 32)
    augment = ImageAugmentation(**{**NO_OP, "crop_scale": (0.25, 0.25)})
    for image in (ramp, ramp.transpose(2, 3)):
        out = augment(image, _generator())
        spans = out.amax(dim=(1, 2, 3)) - out.amin(dim=(1, 2, 3))
        torch.testing.assert_close(spans, torch.full((4,), 0.5))


@pytest.mark.parametrize("aspect", [1.0, 0.5, 2.0])
def test_image_crop_boxes_respect_scale_and_ratio(aspect):
    draw = _Draws(2000, _generator(), torch.device("cpu"), torch.float32)
    width, height = ImageAugmentation()._crop_size(aspect, draw)
    eps = 1e-5
    assert (width <= 1 + eps).all() and (height <= 1 + eps).all()
    assert (width * height >= 0.2 - eps).all()
    ratio = width / height / aspect  # in pixels
    assert (ratio >= 3 / 4 - eps).all() and (ratio <= 4 / 3 + eps).all()


def test_image_default_crops_keep_most_of_a_square_image():
    # The default keeps at least 60 % of the area, so that a small salient
    # object survives in both views (SimCLR's 0.2 lost 7 points of probe
    # accuracy on MNIST on grass; benchmarks/README.md).
    draw = _Draws(2000, _generator(), torch.device("cpu"), torch.float32)
    width, height = ImageAugmentation()._crop_size(1.0, draw)
    area = width * height
    assert area.min() >= 0.6 - 1e-5
    assert area.max() <= 1 + 1e-5 and area.mean() > 0.7


def test_image_grayscale_has_equal_channels():
    x = _images((4, 3, 8, 8))
    out = ImageAugmentation(**{**NO_OP, "grayscale_prob": 1})(x, _generator())
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])
    expected = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    torch.testing.assert_close(out[:, 0], expected)


def test_image_brightness_scales_each_sample_by_its_own_factor():
    x = 0.1 + 0.5 * _images((8, 3, 6, 6))  # in [0.1, 0.6]: 1.4 x never clips
    jitter = dict(jitter_prob=1, brightness=0.4, contrast=0, saturation=0, hue=0)
    out = ImageAugmentation(**{**NO_OP, **jitter})(x, _generator())
    factors = out / x
    per_sample = factors.flatten(start_dim=1)
    torch.testing.assert_close(per_sample, per_sample[:, :1].expand_as(per_sample))
    assert ((per_sample >= 0.6) & (per_sample <= 1.4)).all()
    assert len(per_sample[:, 0].unique()) == 8


def test_image_hue_keeps_gray_pixels_gray():
    gray = _images((8, 1, 6, 6)).expand(-1, 3, -1, -1)
    jitter = dict(jitter_prob=1, brightness=0, contrast=0, saturation=0, hue=0.5)
    out = ImageAugmentation(**{**NO_OP, **jitter})(gray, _generator())
    torch.testing.assert_close(out, gray)


def test_image_hue_changes_colours():
    x = _images((8, 3, 6, 6))
    jitter = dict(jitter_prob=1, brightness=0, contrast=0, saturation=0, hue=0.1)
    out = ImageAugmentation(**{**NO_OP, **jitter})(x, _generator())
    assert (out - x).abs().amax(dim=(1, 2, 3)).min() > 1e-3


def test_image_accepts_channels_last():
    x = _images((4, 3, 8, 8))
    augment = ImageAugmentation()
    out = augment(x.contiguous(memory_format=torch.channels_last), _generator())
    torch.testing.assert_close(out, augment(x, _generator()))


def test_image_jitter_skips_samples_with_probability_one_minus_jitter_prob():
    x = 0.25 + 0.5 * _images((64, 3, 4, 4))
    out = ImageAugmentation(**{**NO_OP, "jitter_prob": 0.5})(x, _generator())
    unchanged = (out == x).flatten(start_dim=1).all(dim=1)
    assert 16 < unchanged.sum() < 48


def test_image_ignores_autocast():
    x = _images((4, 3, 8, 8))
    augment = ImageAugmentation()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = augment(x, _generator())
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, augment(x, _generator()))


# --- background mixing -------------------------------------------------------


def _two_groups(n_background=40, n_target=60):
    """Backgrounds valued 0..n_bg-1 (one per row), targets valued 1000."""
    is_target = torch.arange(n_background + n_target) >= n_background
    x = torch.where(is_target, 1000.0, torch.arange(n_background + n_target).float())
    return x[:, None, None, None].expand(-1, 1, 2, 2).clone(), is_target


def test_background_mixing_blends_every_row_with_a_background_only():
    x, is_target = _two_groups()
    out = _mix_with_background(x, is_target, 0.5, _generator())
    assert out.shape == x.shape
    # Each sample is blended as a whole: one weight, one partner per row.
    assert torch.equal(out, out[:, :1, :1, :1].expand_as(out))
    v = out[:, 0, 0, 0]
    # A background blended with a background stays in the backgrounds' range
    # (0..39); a target with a target would stay at 1000.
    assert (v[~is_target] >= 0).all() and (v[~is_target] <= 39).all()
    # Target rows: w * 1000 + (1 - w) * b, w in [0.5, 1], b a background value.
    assert (v[is_target] >= 500).all() and (v[is_target] < 1000).all()


def test_background_mixing_draws_weights_and_partners_over_their_ranges():
    n = 4000
    is_target = torch.arange(n) % 2 == 1
    x = torch.where(is_target, 1.0, 0.0)[:, None]  # every background is 0
    for strength in (0.2, 0.5, 1.0):
        w = _mix_with_background(x, is_target, strength, _generator())[is_target, 0]
        assert w.min() >= 1 - strength and w.max() <= 1
        assert w.min() < 1 - 0.95 * strength and w.max() > 1 - 0.05 * strength
    # Partners: feature 0 is 1 on backgrounds, feature 1 their index b, so a
    # target row (0, 0) becomes ((1 - w), (1 - w) b) and b is their ratio.
    x = torch.stack([(~is_target).float(), torch.where(is_target, 0.0, torch.arange(n) / 2)], 1)
    out = _mix_with_background(x, is_target, 1.0, _generator())[is_target].double()
    partner = torch.round(out[:, 1] / out[:, 0]).long()
    assert (partner >= 0).all() and (partner < n // 2).all()
    # 2,000 draws with replacement among 2,000 backgrounds: 1 - 1/e of them
    # (about 1,264) are drawn; a draw among a few would give far fewer.
    assert 1180 < len(torch.unique(partner)) < 1350


def test_background_mixing_is_reproducible_and_leaves_batches_without_background():
    x, is_target = _two_groups()
    first = _mix_with_background(x, is_target, 0.5, _generator(3))
    assert torch.equal(first, _mix_with_background(x, is_target, 0.5, _generator(3)))
    assert not torch.equal(first, _mix_with_background(x, is_target, 0.5, _generator(4)))
    only_targets = torch.ones(len(x), dtype=torch.bool)
    assert torch.equal(_mix_with_background(x, only_targets, 0.5, _generator()), x)
    tabular = torch.randn(10, 3)
    assert _mix_with_background(tabular, torch.arange(10) >= 5, 0.5, _generator()).shape == (10, 3)
