"""The training machinery: group-balanced batches, splits and iterators."""

import os
import sys

import numpy as np
import pytest
import torch

from sklearn_sepclr._net import (
    _balanced_batches,
    _BatchIterator,
    _group_split,
    _GroupDataset,
    _to_model_input,
)


def _groups(n_background, n_target):
    return torch.cat([torch.zeros(n_background), torch.ones(n_target)]).bool()


@pytest.mark.parametrize(
    "n_background, n_target, batch_size",
    [(90, 30, 16), (30, 90, 32), (7, 200, 50), (3, 4, 256), (1, 1, 2)],
)
def test_every_batch_holds_both_groups_in_proportion(n_background, n_target, batch_size):
    is_target = _groups(n_background, n_target)
    batches = _balanced_batches(is_target, batch_size, torch.Generator().manual_seed(0))
    n = n_background + n_target
    assert len(batches) == max(1, -(-n // batch_size))
    sizes = []
    for batch in batches:
        groups = is_target[batch]
        assert groups.any() and not groups.all()
        sizes.append(len(batch))
        if n_background >= len(batches):
            # Each group is cut into nearly equal chunks: the proportion holds.
            expected = n_target / n
            assert abs(groups.float().mean().item() - expected) <= 2 * len(batches) / n
    assert max(sizes) <= batch_size + 1
    covered = torch.cat(batches).unique()
    assert len(covered) == n  # every sample is seen in an epoch


def test_small_group_is_repeated_when_there_are_more_batches_than_members():
    is_target = _groups(2, 100)
    batches = _balanced_batches(is_target, 10, torch.Generator().manual_seed(0))
    assert len(batches) == 11
    assert all((~is_target[b]).sum() == 1 for b in batches)


def test_fewer_samples_than_batch_size_is_one_batch():
    is_target = _groups(3, 5)
    (batch,) = _balanced_batches(is_target, 256, torch.Generator().manual_seed(0))
    assert sorted(batch.tolist()) == list(range(8))


def test_batches_are_reproducible_from_the_seed():
    is_target = _groups(40, 60)
    a = _balanced_batches(is_target, 16, torch.Generator().manual_seed(3))
    b = _balanced_batches(is_target, 16, torch.Generator().manual_seed(3))
    c = _balanced_batches(is_target, 16, torch.Generator().manual_seed(4))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))


def test_group_split_keeps_both_groups_on_both_sides():
    dataset = _GroupDataset(torch.arange(40.0)[:, None], _groups(10, 30))
    train, valid = _group_split(dataset, 0.2, torch.Generator().manual_seed(0))
    assert len(train) + len(valid) == 40
    assert valid.is_target.sum() == 6 and (~valid.is_target).sum() == 2
    assert set(train.X.ravel().tolist()).isdisjoint(valid.X.ravel().tolist())
    # A tiny group still leaves one sample on each side.
    dataset = _GroupDataset(torch.arange(12.0)[:, None], _groups(2, 10))
    train, valid = _group_split(dataset, 0.1, torch.Generator().manual_seed(0))
    assert (~train.is_target).sum() == 1 and (~valid.is_target).sum() == 1


def test_training_iterator_reshuffles_validation_iterator_does_not():
    dataset = _GroupDataset(torch.arange(64.0)[:, None], _groups(32, 32))
    epoch = iter(range(100))
    train = _BatchIterator(dataset, 16, "cpu", seed=lambda: next(epoch))
    first, second = ([x.ravel().tolist() for x, _ in train] for _ in range(2))
    assert first != second
    valid = _BatchIterator(dataset, 16, "cpu", seed=0)
    first, second = ([x.ravel().tolist() for x, _ in valid] for _ in range(2))
    assert first == second


def test_inference_iterator_is_ordered_and_has_no_groups():
    dataset = _GroupDataset(torch.arange(10.0)[:, None])
    batches = list(_BatchIterator(dataset, 4, "cpu", seed=0))
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    assert torch.cat([x for x, _ in batches]).ravel().tolist() == list(range(10))
    assert all(g is None for _, g in batches)


def test_uint8_becomes_float_in_unit_range_on_the_device():
    x = torch.tensor([[0, 128, 255]], dtype=torch.uint8)
    out = _to_model_input(x, torch.device("cpu"), non_blocking=False)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), [[0.0, 128 / 255, 1.0]])
    x64 = torch.ones(2, 2, dtype=torch.float64)
    assert _to_model_input(x64, torch.device("cpu"), non_blocking=False).dtype == torch.float32


# -- no host synchronisation per batch -------------------------------------------
#: Tensor methods that copy a value to the host: on a GPU each one makes the
#: host wait until the device has finished all the work queued before it.
_HOST_READS = ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__")


def _count_host_reads(monkeypatch, fit):
    """Host reads of tensors during ``fit()``, except those of torch's
    optimizers: Adam reads its step counters, which live on the host (CPU
    tensors, unless ``capturable``) whatever the device of the weights."""
    counts = {"n": 0}
    optim = os.path.join("torch", "optim", "")
    for name in _HOST_READS:
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, **kwargs):
            if optim not in sys._getframe(1).f_code.co_filename:
                counts["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    fit()
    monkeypatch.undo()
    return counts["n"]


@pytest.mark.parametrize("kind", ["tabular", "images"])
def test_training_reads_the_device_once_per_epoch_not_per_batch(monkeypatch, kind):
    # Host reads that grew with the number of batches would stall a GPU at
    # every step (the loss terms and the gradient norm are read once per epoch).
    from sklearn_sepclr import SepCLRTransformer

    rng = np.random.RandomState(0)
    if kind == "tabular":
        X, params = rng.normal(size=(64, 5)).astype(np.float32), {}
    else:
        X = rng.randint(0, 256, size=(64, 1, 12, 12)).astype(np.uint8)
        params = {"encoder": "cnn"}
    groups = np.arange(64) % 2

    def fit(batch_size):
        return lambda: SepCLRTransformer(
            n_common=2, n_salient=2, hidden_layer_sizes=(8,), max_epochs=3,
            batch_size=batch_size, device="cpu", random_state=0, **params,
        ).fit(X, groups)

    two_batches = _count_host_reads(monkeypatch, fit(32))
    eight_batches = _count_host_reads(monkeypatch, fit(8))
    assert eight_batches == two_batches


def test_criterion_pickled_before_the_representation_terms_computes_the_paper_loss():
    # A criterion unpickled from a model saved before representation_jem_weight,
    # representation_jem_encoder, decorrelation_weight, decorrelation_encoder
    # and background_spread_weight existed lacks them: it must compute the
    # paper's objective (J_r, D and V weighted 0),
    # not fail.
    import pickle

    from sklearn_sepclr._net import _SepCLRCriterion

    g = torch.Generator().manual_seed(0)
    batch = [torch.randn(6, 3, generator=g) for _ in range(4)]
    is_target = torch.tensor([False, False, False, True, True, True])
    representations = tuple(torch.randn(6, 5, generator=g) for _ in range(4))
    old = _SepCLRCriterion(
        representation_jem_weight=10.0,
        representation_jem_encoder="common",
        decorrelation_weight=10.0,
        decorrelation_encoder="salient",
        background_spread_weight=10.0,
    )
    del old.representation_jem_weight, old.representation_jem_encoder, old.decorrelation_weight
    del old.decorrelation_encoder, old.background_spread_weight
    old = pickle.loads(pickle.dumps(old))
    assert not old.uses_representations
    assert old.decorrelation_encoder == "common"
    paper = _SepCLRCriterion(representation_jem_weight=0.0, decorrelation_weight=0.0)
    total, terms = old(*batch, is_target, representations=representations)
    expected, _ = paper(*batch, is_target, representations=representations)
    assert total.item() == expected.item()
    assert terms["representation_jem"].item() < 0 and terms["decorrelation"].item() > 0
    assert terms["background_spread"].item() > 0
    # The decorrelation or the background spread alone makes the criterion
    # read the representations.
    assert _SepCLRCriterion(decorrelation_weight=1.0).uses_representations
    assert _SepCLRCriterion(
        representation_jem_weight=0.0, background_spread_weight=1.0
    ).uses_representations
