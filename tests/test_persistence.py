"""Reliability: weights-only files, checkpoints, resume, interrupts, faults."""

import os
import pickle
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_sepclr import SepCLRTransformer, TrainingDivergedError
from sklearn_sepclr._persist import FORMAT_VERSION


def _fit(blobs, **params):
    return SepCLRTransformer(**params).fit(blobs.X_background, blobs.X_target)


# -- weights-only files ----------------------------------------------------------
def test_save_load_round_trip(blobs, tiny, tmp_path):
    est = _fit(blobs, **tiny)
    path = tmp_path / "model.pt"
    est.save(path)
    # The file is plain data: it loads without unpickling any code.
    blob = torch.load(path, weights_only=True)
    assert blob["format_version"] == FORMAT_VERSION
    loaded = SepCLRTransformer.load(path, device="cpu")
    assert loaded.get_params()["n_common"] == est.n_common
    assert loaded.background_label_ == est.background_label_
    assert loaded.input_shape_ == est.input_shape_
    assert len(loaded.history_) == len(est.history_)
    assert_array_equal(loaded.transform(blobs.X_target), est.transform(blobs.X_target))
    assert loaded.score(blobs.X_background, blobs.X_target) == pytest.approx(
        est.score(blobs.X_background, blobs.X_target)
    )


def test_save_keeps_feature_names(blobs, tiny, tmp_path):
    pd = pytest.importorskip("pandas")
    columns = [f"f{i}" for i in range(6)]
    est = SepCLRTransformer(**tiny).fit(
        pd.DataFrame(blobs.X_background, columns=columns),
        pd.DataFrame(blobs.X_target, columns=columns),
    )
    est.save(tmp_path / "m.pt")
    loaded = SepCLRTransformer.load(tmp_path / "m.pt")
    assert list(loaded.feature_names_in_) == columns


def test_load_refuses_another_file_format(blobs, tiny, tmp_path):
    path = tmp_path / "model.pt"
    _fit(blobs, **tiny).save(path)
    blob = torch.load(path, weights_only=True)
    blob.update(format_version=FORMAT_VERSION + 1, library_version="9.0.0")
    torch.save(blob, path)
    with pytest.raises(ValueError, match=r"written by sklearn-sepclr 9\.0\.0 .* reads format"):
        SepCLRTransformer.load(path)


def test_save_refuses_code_parameters(blobs, tiny, tmp_path):
    est = _fit(blobs, augmentation=lambda x, g: x, **tiny)
    with pytest.raises(TypeError, match="augmentation=.*use pickle or joblib"):
        est.save(tmp_path / "model.pt")


def test_a_model_saved_for_cuda_loads_on_the_cpu(blobs, tiny, tmp_path):
    # No GPU here: the file says the model was trained on CUDA, and load
    # maps every tensor to the CPU (the same torch.load path a CUDA file
    # takes, with map_location="cpu").
    est = _fit(blobs, **tiny)
    path = tmp_path / "model.pt"
    est.save(path)
    blob = torch.load(path, weights_only=True)
    blob["params"]["device"] = "cuda"
    torch.save(blob, path)
    loaded = SepCLRTransformer.load(path, device="cpu")
    assert loaded.device_.type == "cpu"
    assert_allclose(loaded.transform(blobs.X_target), est.transform(blobs.X_target), atol=1e-5)


# -- checkpoints and resume --------------------------------------------------------
def test_checkpoints_every_k_epochs_in_a_unique_directory(blobs, tiny, tmp_path):
    tiny.update(max_epochs=5, checkpoint_dir=tmp_path, checkpoint_interval=2)
    first = _fit(blobs, **tiny)
    second = _fit(blobs, **tiny)
    assert first.checkpoint_path_ != second.checkpoint_path_
    for est in (first, second):
        assert os.path.dirname(est.checkpoint_path_) == str(tmp_path)
        assert sorted(os.listdir(est.checkpoint_path_)) == ["epoch_0002.pt", "epoch_0004.pt"]
    ckpt = SepCLRTransformer.load(os.path.join(first.checkpoint_path_, "epoch_0004.pt"))
    assert len(ckpt.history_) == 4


def test_resume_from_checkpoint_reaches_the_uninterrupted_weights(blobs, tiny, tmp_path):
    tiny.update(max_epochs=6)
    uninterrupted = _fit(blobs, **tiny)
    _fit(blobs, checkpoint_dir=tmp_path, checkpoint_interval=3, **{**tiny, "max_epochs": 3})
    (run,) = os.listdir(tmp_path)
    resumed = SepCLRTransformer.load(tmp_path / run / "epoch_0003.pt", device="cpu")
    resumed.set_params(warm_start=True, max_epochs=3)
    resumed.fit(blobs.X_background, blobs.X_target)
    assert len(resumed.history_) == 6
    expected = uninterrupted.net_.module_.state_dict()
    for name, tensor in resumed.net_.module_.state_dict().items():
        torch.testing.assert_close(tensor, expected[name], rtol=0, atol=0, msg=name)
    assert_array_equal(resumed.transform(blobs.X_target), uninterrupted.transform(blobs.X_target))


# -- interrupts ----------------------------------------------------------------------
def test_keyboard_interrupt_keeps_the_last_completed_epoch(blobs, tiny):
    calls = {"n": 0}

    def interrupt_in_epoch_three(x, generator):
        calls["n"] += 1
        if calls["n"] == 2 * 4 * 2 + 3:  # 2 views x 4 batches x 2 epochs, then mid-epoch
            raise KeyboardInterrupt
        return x

    tiny.update(max_epochs=10, augmentation=interrupt_in_epoch_three)
    est = SepCLRTransformer(**tiny)
    with pytest.warns(UserWarning, match="interrupted .* last completed epoch \\(2\\)"):
        est.fit(blobs.X_background, blobs.X_target)
    assert len(est.history_) == 2
    # Same weights as a fit of exactly two epochs.
    two = _fit(blobs, **{**tiny, "max_epochs": 2, "augmentation": None})
    reference = SepCLRTransformer(**{**tiny, "max_epochs": 2, "augmentation": None})
    reference.fit(blobs.X_background, blobs.X_target)
    assert_array_equal(two.transform(blobs.X_target), reference.transform(blobs.X_target))
    Z = est.transform(blobs.X_target)
    assert np.all(np.isfinite(Z))
    assert_array_equal(est.transform(blobs.X_target), Z)


def test_early_stopping_is_not_reported_as_an_interrupt(blobs, tiny):
    tiny.update(max_epochs=50, lr=1e-12, early_stopping=True, n_iter_no_change=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = _fit(blobs, **tiny)
    assert len(est.history_) < 50


# -- numerical faults -------------------------------------------------------------------
def test_gradient_norm_is_logged_and_clipped(blobs, tiny):
    free = _fit(blobs, **tiny)
    assert np.all(np.isfinite(free.history_[:, "train_gradient_norm"]))
    clipped = _fit(blobs, max_grad_norm=1e-3, **tiny)
    # The logged norm is the norm before clipping; the update is what is
    # clipped, so the weights move less than without clipping.
    initial = SepCLRTransformer(**{**tiny, "lr": 1e-30}).fit(blobs.X_background, blobs.X_target)

    def distance(est):
        a = dict(est.net_.module_.named_parameters())
        b = dict(initial.net_.module_.named_parameters())
        return sum(float((a[k] - b[k]).detach().norm()) for k in a)

    assert distance(clipped) < distance(free)


class _InfiniteGradient(torch.autograd.Function):
    """Identity forward, infinite backward: a finite loss, a broken gradient."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * float("inf")


class _PoisonableEncoder(torch.nn.Module):
    def __init__(self, input_shape, n_out):
        super().__init__()
        self.linear = torch.nn.Linear(input_shape[0], n_out)
        self.poison = False

    def forward(self, x):
        out = self.linear(x)
        return _InfiniteGradient.apply(out) if self.poison else out


def test_non_finite_gradient_stops_before_the_weights_change(blobs, tiny):
    est = _fit(blobs, warm_start=True, encoder=_PoisonableEncoder, **tiny)
    before = {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
    est.net_.module_.common_encoder.poison = True
    with pytest.raises(TrainingDivergedError, match="gradient norm became"):
        est.fit(blobs.X_background, blobs.X_target)
    for name, tensor in est.net_.module_.state_dict().items():
        torch.testing.assert_close(tensor, before[name], rtol=0, atol=0, msg=name)
    assert len(est.history_) == 2


def test_bf16_divergence_names_the_precision(blobs, tiny):
    tiny.update(precision="bf16", augmentation=lambda x, g: x * float("nan"))
    with pytest.raises(TrainingDivergedError, match="precision='bf16'"):
        _fit(blobs, **tiny)


# -- compile ---------------------------------------------------------------------------
def test_compile_fits_and_pickles(blobs, tiny):
    if not hasattr(torch, "compile"):
        pytest.skip("torch.compile is not available in this torch build")
    # The "eager" backend runs our compile path (TorchDynamo capture) without
    # a C++ toolchain, so the test is fast; inductor is torch's business.
    est = _fit(blobs, compile={"backend": "eager"}, **tiny)
    assert est.net_.compiled_project_ is not None
    restored = pickle.loads(pickle.dumps(est))
    assert not hasattr(restored.net_, "compiled_project_")
    assert_array_equal(restored.transform(blobs.X_target), est.transform(blobs.X_target))
    plain = _fit(blobs, **tiny)
    assert_allclose(est.transform(blobs.X_target), plain.transform(blobs.X_target), atol=1e-5)


# -- determinism and long inputs -----------------------------------------------------------
def test_same_seed_bit_identical_on_cpu(blobs, tiny):
    a = _fit(blobs, **tiny).transform(blobs.X_target)
    b = _fit(blobs, **tiny).transform(blobs.X_target)
    assert a.tobytes() == b.tobytes()


def test_transform_runs_in_batches(blobs, tiny, monkeypatch):
    est = _fit(blobs, **tiny)
    seen = []
    step = est.net_.evaluation_step

    def spy(batch, training=False):
        seen.append(len(batch[0]))
        return step(batch, training)

    monkeypatch.setattr(est.net_, "evaluation_step", spy)
    X = np.random.RandomState(0).normal(size=(100, 6))
    assert est.transform(X).shape == (100, 4)
    assert seen == [16] * 6 + [4]
