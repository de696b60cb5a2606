"""The training machinery: group-balanced batches, splits and iterators."""

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
