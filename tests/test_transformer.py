"""SepCLRTransformer: fit forms, outputs, training knobs and persistence."""

import io
import pickle

import joblib
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from sklearn_sepclr import SepCLRTransformer, TrainingDivergedError, stack_groups
from sklearn_sepclr.datasets import make_contrastive_blobs
from sklearn_sepclr.losses import TERM_NAMES, background_spread


def _fit(blobs, **params):
    return SepCLRTransformer(**params).fit(blobs.X_background, blobs.X_target)


# -- fit forms ---------------------------------------------------------------
def test_three_fit_forms_give_the_same_model(blobs, tiny):
    X, groups = stack_groups(blobs.X_background, blobs.X_target)
    two_datasets = SepCLRTransformer(**tiny).fit(blobs.X_background, blobs.X_target)
    with_y = SepCLRTransformer(**tiny).fit(X, groups)
    subtype = np.arange(len(X)) % 3  # any downstream label
    with_metadata = SepCLRTransformer(**tiny).fit(X, subtype, sample_group=groups)
    expected = two_datasets.transform(X)
    assert_array_equal(with_y.transform(X), expected)
    assert_array_equal(with_metadata.transform(X), expected)


def test_fit_transform_two_datasets_equals_stacked(blobs, tiny):
    Z = SepCLRTransformer(**tiny).fit_transform(blobs.X_background, blobs.X_target)
    stacked = SepCLRTransformer(**tiny).fit_transform(
        *stack_groups(blobs.X_background, blobs.X_target)
    )
    assert Z.shape == (60, 4)
    assert_array_equal(Z, stacked)


def test_fit_transform_equals_fit_then_transform(blobs, tiny):
    X, groups = stack_groups(blobs.X_background, blobs.X_target)
    est = SepCLRTransformer(**tiny)
    assert_array_equal(est.fit_transform(X, groups), est.transform(X))


@pytest.mark.parametrize(
    "groups, background",
    [
        (lambda n: np.where(np.arange(n) < 30, "healthy", "patient"), "healthy"),
        (lambda n: np.arange(n) >= 30, False),
        (lambda n: np.where(np.arange(n) < 30, 2, np.arange(n) % 2 + 5), 2),
    ],
    ids=["strings", "booleans", "subtypes"],
)
def test_background_label_auto(blobs, tiny, groups, background):
    X, _ = stack_groups(blobs.X_background, blobs.X_target)
    est = SepCLRTransformer(**tiny).fit(X, groups(len(X)))
    assert est.background_label_ == background


def test_explicit_background_label(blobs, tiny):
    X, groups = stack_groups(blobs.X_background, blobs.X_target)
    labels = np.where(groups == 1, "control", "zz-patient")
    # The explicit label flips which group is background.
    est = SepCLRTransformer(background_label="zz-patient", **tiny).fit(X, labels)
    assert est.background_label_ == "zz-patient"
    with pytest.raises(ValueError, match="background_label='nobody' is not among"):
        SepCLRTransformer(background_label="nobody", **tiny).fit(X, labels)


# -- outputs -----------------------------------------------------------------
@pytest.mark.parametrize(
    "output, n_out, names",
    [
        ("both", 5, ["common0", "common1", "salient0", "salient1", "salient2"]),
        ("common", 2, ["common0", "common1"]),
        ("salient", 3, ["salient0", "salient1", "salient2"]),
    ],
)
def test_output_and_feature_names(blobs, tiny, output, n_out, names):
    tiny.update(n_salient=3)
    both = _fit(blobs, **tiny).transform(blobs.X_target)
    est = _fit(blobs, output=output, **tiny)
    Z = est.transform(blobs.X_target)
    assert Z.shape == (30, n_out)
    assert list(est.get_feature_names_out()) == names
    columns = {"both": slice(None), "common": slice(0, 2), "salient": slice(2, 5)}[output]
    assert_array_equal(Z, both[:, columns])


def test_pandas_in_and_out(blobs, tiny):
    pd = pytest.importorskip("pandas")
    columns = [f"gene{i}" for i in range(6)]
    bg = pd.DataFrame(blobs.X_background, columns=columns)
    tg = pd.DataFrame(blobs.X_target, columns=columns, index=range(100, 130))
    est = SepCLRTransformer(**tiny).set_output(transform="pandas")
    Z = est.fit_transform(bg, tg)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == ["common0", "common1", "salient0", "salient1"]
    assert list(Z.index) == list(range(60))  # the stacked rows' index
    assert_array_equal(est.feature_names_in_, columns)
    Z_target = est.transform(tg)
    assert list(Z_target.index) == list(range(100, 130))
    assert_allclose(Z_target.to_numpy(), Z.to_numpy()[30:], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(blobs, tiny, dtype):
    est = SepCLRTransformer(**tiny).fit(
        blobs.X_background.astype(dtype), blobs.X_target.astype(dtype)
    )
    assert est.transform(blobs.X_target.astype(dtype)).dtype == dtype
    assert est.project(blobs.X_target.astype(dtype)).dtype == dtype


def test_transform_is_row_wise(blobs, tiny):
    est = _fit(blobs, **tiny)
    X = blobs.X_target
    full = est.transform(X)
    assert_allclose(est.transform(X[:7]), full[:7], rtol=1e-5, atol=1e-6)
    order = np.random.RandomState(0).permutation(len(X))
    assert_allclose(est.transform(X[order]), full[order], rtol=1e-5, atol=1e-6)


def test_project_returns_normalised_common_projections(blobs, tiny):
    est = _fit(blobs, **tiny)
    P = est.project(blobs.X_target)
    assert P.shape == (30, 4)
    assert_allclose(np.linalg.norm(P[:, :2], axis=1), 1.0, rtol=1e-5)


# -- training ------------------------------------------------------------------
def test_history_holds_loss_and_every_term(blobs, tiny):
    tiny.update(max_epochs=3)
    est = _fit(blobs, **tiny)
    assert len(est.history_) == 3
    for name in ("loss", *TERM_NAMES):
        values = est.history_[:, f"train_{name}"]
        assert len(values) == 3 and np.all(np.isfinite(values))
    assert est.history_[-1, "train_background"] >= 0


def test_representation_jem_reaches_the_loss(blobs, tiny):
    # On by default: weight 10, on tabular data through the common encoder.
    default = _fit(blobs, **tiny)
    assert default.net_.criterion_.representation_jem_weight == 10.0
    values = np.asarray(default.history_[:, "train_representation_jem"])
    assert np.all(values < 0) and np.all(np.isfinite(values))
    explicit = _fit(
        blobs, representation_jem_weight=10, representation_jem_encoder="common", **tiny
    )
    assert_array_equal(default.transform(blobs.X_target), explicit.transform(blobs.X_target))
    # 0 switches it off: the model changes. The term is still measured while
    # the decorrelation term reads the representations, and recorded as 0
    # once nothing does.
    off = _fit(blobs, representation_jem_weight=0, **tiny)
    assert np.all(np.asarray(off.history_[:, "train_representation_jem"]) < 0)
    assert not np.allclose(off.transform(blobs.X_target), default.transform(blobs.X_target))
    neither = _fit(blobs, representation_jem_weight=0, decorrelation_weight=0, **tiny)
    assert not neither.net_.criterion_.uses_representations
    for name in ("representation_jem", "decorrelation"):
        assert np.all(np.asarray(neither.history_[:, f"train_{name}"]) == 0)


def test_decorrelation_reaches_the_loss(blobs, tiny):
    # On by default on tabular data (weight 10, the same fit); a heavier
    # weight decorrelates the two representations further, 0 leaves them as
    # the other terms make them.
    tiny.update(max_epochs=6)
    fits = {w: _fit(blobs, decorrelation_weight=w, **tiny) for w in (0, 10.0, 1000.0)}
    default = _fit(blobs, **tiny)
    assert default.net_.criterion_.decorrelation_weight == 10.0
    assert_array_equal(default.transform(blobs.X_target), fits[10.0].transform(blobs.X_target))
    last = {w: est.history_[-1, "train_decorrelation"] for w, est in fits.items()}
    assert all(0 < value < 1 for value in last.values())
    assert last[1000.0] < 0.9 * last[0]
    Z = {w: est.transform(blobs.X_target) for w, est in fits.items()}
    assert not np.allclose(Z[0], Z[10.0])
    with pytest.raises(ValueError, match="decorrelation_weight"):
        _fit(blobs, decorrelation_weight=-1, **tiny)


def test_background_spread_reaches_the_loss(blobs, tiny):
    # Off by default on tabular data; a heavy weight makes the salient features vary less
    # over the background, relative to the targets, than without it. (The
    # term is a ratio of batch variances: it needs a few dozen steps.)
    tiny.update(max_epochs=20, batch_size=32, lr=1e-2)
    fits = {w: _fit(blobs, background_spread_weight=w, **tiny) for w in (0, 100.0)}
    assert _fit(blobs, **tiny).net_.criterion_.background_spread_weight == 0.0
    last = {w: est.history_[-1, "train_background_spread"] for w, est in fits.items()}
    assert all(0 < value < 1 for value in last.values())
    assert last[100.0] < 0.5 * last[0]
    # On the fitted salient representations of the whole sets as well.
    X_all = np.concatenate([blobs.X_background, blobs.X_target])
    is_target = torch.arange(len(X_all)) >= len(blobs.X_background)
    share = {}
    for w, est in fits.items():
        salient = torch.as_tensor(est.transform(X_all)[:, est.n_common :])
        share[w] = background_spread(salient, is_target).item()
    assert share[100.0] < 0.5 * share[0]
    with pytest.raises(ValueError, match="background_spread_weight"):
        _fit(blobs, background_spread_weight=-1, **tiny)


@pytest.mark.parametrize("term", ["representation_jem", "decorrelation"])
def test_encoder_option_reaches_the_loss(blobs, tiny, term):
    # Which encoder a term trains (representation_jem_encoder,
    # decorrelation_encoder) changes the fitted model; the weight alone
    # decides whether the term is on.
    option = f"{term}_encoder"
    fits = {
        encoder: _fit(blobs, **{f"{term}_weight": 10.0, option: encoder}, **tiny)
        for encoder in ("both", "common", "salient")
    }
    for encoder, est in fits.items():
        assert getattr(est.net_.criterion_, option) == encoder
    Z = {encoder: est.transform(blobs.X_target) for encoder, est in fits.items()}
    assert not np.allclose(Z["both"], Z["common"])
    assert not np.allclose(Z["both"], Z["salient"])
    assert not np.allclose(Z["common"], Z["salient"])
    with pytest.raises(ValueError, match=option):
        _fit(blobs, **{option: "projection"}, **tiny)


def test_salient_uniformity_reaches_the_loss(blobs, tiny):
    paper = _fit(blobs, **tiny)
    single = _fit(blobs, salient_uniformity="single", **tiny)
    assert paper.net_.criterion_.salient_uniformity == "per_background"
    assert single.net_.criterion_.salient_uniformity == "single"
    # Same seed, same first batch: only U_s (and what it trains) differs.
    first = {name: est.history_[0, "batches"][0] for name, est in
             (("paper", paper), ("single", single))}
    assert first["paper"]["train_common_alignment"] == first["single"]["train_common_alignment"]
    assert first["paper"]["train_salient_uniformity"] != first["single"][
        "train_salient_uniformity"
    ]
    assert not np.allclose(paper.transform(blobs.X_target), single.transform(blobs.X_target))
    with pytest.raises(ValueError, match="salient_uniformity"):
        _fit(blobs, salient_uniformity="targets", **tiny)


def test_background_mixing_reaches_the_views(blobs, tiny):
    off = _fit(blobs, **tiny)
    assert off.net_.background_mixing == 0.0  # "auto" on tabular data
    mixed = _fit(blobs, background_mixing=0.5, **tiny)
    assert mixed.net_.background_mixing == 0.5
    # Off, the views are the augmentation's own two draws, as before the option.
    x = torch.as_tensor(blobs.X_target[:8], dtype=torch.float32)
    is_target = torch.arange(8) >= 4
    views = off.net_.make_views(x, is_target, torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    expected = torch.cat([off.net_.augmentation(x, g), off.net_.augmentation(x, g)])
    assert torch.equal(views, expected)
    # On, the same seed trains on other views from the first batch on.
    first = [est.history_[0, "batches"][0]["train_common_alignment"] for est in (off, mixed)]
    assert first[0] != first[1]
    assert not np.allclose(off.transform(blobs.X_target), mixed.transform(blobs.X_target))
    for bad in (-0.1, 1.5, "always"):
        with pytest.raises(ValueError, match="background_mixing"):
            _fit(blobs, background_mixing=bad, **tiny)


def test_warm_start_takes_the_new_loop_settings(blobs, tiny):
    from sklearn_sepclr import ScarfAugmentation

    est = _fit(blobs, warm_start=True, **tiny)
    assert not isinstance(est.net_.augmentation, ScarfAugmentation)
    est.set_params(
        background_mixing=0.25,
        augmentation="scarf",
        lr=1e-4,
        batch_size=16,
        max_grad_norm=0.5,
        weight_decay=1e-3,
        jem_weight=3.0,
    ).fit(blobs.X_background, blobs.X_target)
    net = est.net_
    assert net.background_mixing == 0.25
    assert isinstance(net.augmentation, ScarfAugmentation)
    assert (net.lr, net.batch_size, net.max_grad_norm) == (1e-4, 16, 0.5)
    groups = net.optimizer_.param_groups
    assert all(g["lr"] == 1e-4 and g["weight_decay"] == 1e-3 for g in groups)
    assert net.criterion_.jem_weight == 3.0


def test_same_seed_same_features_and_global_rng_untouched(blobs, tiny):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = _fit(blobs, **tiny).transform(blobs.X_target)
    assert torch.equal(torch.get_rng_state(), state)
    second = _fit(blobs, **tiny).transform(blobs.X_target)
    assert_array_equal(first, second)
    tiny.update(random_state=1)
    other = _fit(blobs, **tiny).transform(blobs.X_target)
    assert not np.allclose(first, other)


def test_verbose_prints_progress_and_losses(blobs, tiny, capsys):
    _fit(blobs, verbose=0, **tiny)
    quiet = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    _fit(blobs, verbose=1, **tiny)
    loud = capsys.readouterr()
    assert "train_loss" in loud.out
    assert "train_jem" in loud.out
    assert "it/s" in loud.err or "batch" in loud.err or "%" in loud.err


def test_early_stopping_stops_and_logs_validation(blobs, tiny):
    # With a vanishing learning rate only the BatchNorm statistics move, so
    # the validation loss soon stops improving and training ends early.
    tiny.update(max_epochs=50, lr=1e-12, early_stopping=True, n_iter_no_change=2)
    est = _fit(blobs, **tiny)
    assert len(est.history_) < 50
    assert not any(est.history_[-2:, "valid_loss_best"])
    assert np.all(np.isfinite(est.history_[:, "valid_loss"]))
    assert np.all(np.isfinite(est.history_[:, "valid_jem"]))


def test_early_stopping_needs_two_samples_per_group(tiny, no_training):
    X = np.random.RandomState(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match="at least 2 samples of each group"):
        SepCLRTransformer(early_stopping=True, **tiny).fit(X, [0, 1, 1, 1, 1])


def test_warm_start_continues_training(blobs, tiny):
    est = _fit(blobs, warm_start=True, **tiny)
    first = est.transform(blobs.X_target)
    est.fit(blobs.X_background, blobs.X_target)
    assert len(est.history_) == 4
    assert not np.allclose(est.transform(blobs.X_target), first)
    with pytest.raises(ValueError, match="features"):
        est.fit(blobs.X_background[:, :3], blobs.X_target[:, :3])


def test_warm_start_refuses_parameters_that_change_the_networks(blobs, tiny):
    est = _fit(blobs, warm_start=True, **tiny)
    before = est.transform(blobs.X_target)
    # The same sizes written as a list are the same networks.
    est.set_params(hidden_layer_sizes=list(est.hidden_layer_sizes))
    est.fit(blobs.X_background, blobs.X_target)
    trained_on = est.transform(blobs.X_target)
    assert not np.allclose(trained_on, before)
    est.set_params(n_common=est.n_common + 1, hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match=r"n_common=\d+ -> \d+.*hidden_layer_sizes"):
        est.fit(blobs.X_background, blobs.X_target)
    # The fitted model is untouched, and a cold fit takes the new shape.
    assert len(est.history_) == 2 * tiny["max_epochs"]
    est.set_params(n_common=est.n_common - 1)
    assert_array_equal(est.transform(blobs.X_target), trained_on)
    est.set_params(n_common=est.n_common + 1, warm_start=False)
    est.fit(blobs.X_background, blobs.X_target)
    assert est.transform(blobs.X_target).shape[1] == est.n_common + est.n_salient


def test_set_params_after_fit_keeps_the_fitted_widths(blobs, tiny):
    pd = pytest.importorskip("pandas")
    from sklearn_sepclr.metrics import background_collapse_from_estimator, probe_table

    est = _fit(blobs, **tiny)
    half = len(blobs.X_target) // 2
    labels = blobs.target_attributes

    def fitted_model_outputs():
        table = probe_table(
            est,
            blobs.X_target[:half],
            {name: values[:half] for name, values in labels.items()},
            blobs.X_target[half:],
            {name: values[half:] for name, values in labels.items()},
        )
        return (
            est.transform(blobs.X_target),
            est.project(blobs.X_target),
            est.get_feature_names_out(),
            background_collapse_from_estimator(est, blobs.X_background, blobs.X_target),
            table,
        )

    before = fitted_model_outputs()
    # As with scikit-learn's estimators, new parameters take effect at the
    # next fit; until then the fitted model answers as trained.
    est.set_params(n_common=est.n_common - 1, n_salient=est.n_salient + 1)
    after = fitted_model_outputs()
    for old, new in zip(before[:3], after[:3], strict=True):
        assert_array_equal(new, old)
    assert after[3] == before[3]
    pd.testing.assert_frame_equal(after[4], before[4])
    est.fit(blobs.X_background, blobs.X_target)
    assert est.transform(blobs.X_target).shape[1] == est.n_common + est.n_salient


def test_refit_without_warm_start_starts_over(blobs, tiny):
    est = _fit(blobs, **tiny)
    first = est.transform(blobs.X_target)
    est.fit(blobs.X_background, blobs.X_target)
    assert len(est.history_) == 2
    assert_array_equal(est.transform(blobs.X_target), first)


def test_callbacks_are_copied_per_fit(blobs, tiny):
    from skorch.callbacks import Callback

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1

    callback = CountEpochs()
    est = _fit(blobs, callbacks=[("count", callback)], **tiny)
    assert not hasattr(callback, "epochs_")
    assert dict(est.net_.callbacks_)["count"].epochs_ == 2


def test_device_auto_and_explicit_cpu(blobs, tiny):
    tiny.pop("device")
    est = _fit(blobs, device="auto", **tiny)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert est.device_.type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_cuda_without_cuda_is_a_clear_error(blobs, tiny, no_training):
    tiny.update(device="cuda")
    with pytest.raises(ValueError, match="CUDA is not available"):
        _fit(blobs, **tiny)


def test_bf16_autocast_trains(blobs, tiny):
    # CPU autocast runs the same code path as CUDA's bf16.
    est = _fit(blobs, precision="bf16", **tiny)
    Z = est.transform(blobs.X_target)
    assert Z.dtype == np.float64 and np.all(np.isfinite(Z))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bf16_fit_and_cpu_unpickle(blobs, tiny):
    tiny.update(device="cuda", precision="bf16")
    est = _fit(blobs, **tiny)
    assert est.device_.type == "cuda"
    restored = pickle.loads(pickle.dumps(est))
    assert_allclose(restored.transform(blobs.X_target), est.transform(blobs.X_target))


def test_score_is_minus_the_loss_and_deterministic(blobs, tiny):
    est = _fit(blobs, **tiny)
    score = est.score(blobs.X_background, blobs.X_target)
    assert np.isfinite(score)
    assert score == est.score(blobs.X_background, blobs.X_target)
    X, groups = stack_groups(blobs.X_background, blobs.X_target)
    assert score == est.score(X, groups)
    assert score == est.score(X, groups + 7, sample_group=groups)
    with pytest.raises(ValueError, match="requires y"):
        est.score(X)


def test_score_improves_with_training(blobs, tiny):
    tiny.update(max_epochs=1, lr=1e-12)
    untrained = _fit(blobs, **tiny).score(blobs.X_background, blobs.X_target)
    tiny.update(max_epochs=20, lr=1e-2)
    trained = _fit(blobs, **tiny).score(blobs.X_background, blobs.X_target)
    assert trained > untrained


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_gives_identical_transform(blobs, tiny, dump):
    est = _fit(blobs, **tiny)
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(est))
    else:
        buffer = io.BytesIO()
        joblib.dump(est, buffer)
        buffer.seek(0)
        restored = joblib.load(buffer)
    assert_array_equal(restored.transform(blobs.X_target), est.transform(blobs.X_target))
    assert restored.score(blobs.X_background, blobs.X_target) == est.score(
        blobs.X_background, blobs.X_target
    )


def test_clone_is_unfitted_with_same_params(blobs, tiny):
    est = _fit(blobs, **tiny)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "net_")


# -- divergence ----------------------------------------------------------------
def _nan_after_first_epoch():
    calls = {"n": 0}

    def augment(x, generator):
        calls["n"] += 1
        return x * float("nan") if calls["n"] > 8 else x

    return augment


def test_huge_learning_rate_stops_with_the_term_named(blobs, tiny):
    tiny.update(lr=1e12, max_epochs=30, salient_weight=1000.0, background_weight=1000.0)
    est = SepCLRTransformer(**tiny)
    with pytest.raises(TrainingDivergedError, match=r"loss term '(\w+)' became"):
        est.fit(blobs.X_background, blobs.X_target)
    assert not hasattr(est, "net_")


def test_nan_stops_fit_names_term_and_epoch_and_leaves_unfitted(blobs, tiny):
    tiny.update(max_epochs=5, augmentation=_nan_after_first_epoch())
    est = SepCLRTransformer(**tiny)
    with pytest.raises(TrainingDivergedError, match=r"epoch 2: the loss term 'common_alignment'"):
        est.fit(blobs.X_background, blobs.X_target)
    assert not hasattr(est, "net_")


def test_nan_with_warm_start_keeps_last_good_model(blobs, tiny):
    est = _fit(blobs, warm_start=True, **tiny)
    before = est.transform(blobs.X_target)
    est.set_params(augmentation=lambda x, g: x * float("nan"))
    with pytest.raises(TrainingDivergedError):
        est.fit(blobs.X_background, blobs.X_target)
    assert len(est.history_) == 2
    assert_array_equal(est.transform(blobs.X_target), before)


def test_divergence_after_good_epochs_of_a_warm_fit_keeps_the_previous_model(blobs, tiny):
    # The values are checked at the end of each epoch; the epoch that holds
    # the first non-finite value is named, and the fit changes nothing.
    est = _fit(blobs, warm_start=True, **tiny)
    before = est.transform(blobs.X_target)
    est.set_params(augmentation=_nan_after_first_epoch(), max_epochs=3)
    with pytest.raises(TrainingDivergedError, match="at epoch 4: the loss term"):
        est.fit(blobs.X_background, blobs.X_target)
    assert len(est.history_) == 2
    assert_array_equal(est.transform(blobs.X_target), before)


# -- quality -------------------------------------------------------------------
@pytest.mark.slow
def test_salient_space_recovers_the_salient_groups():
    data = make_contrastive_blobs(random_state=0)
    est = SepCLRTransformer(
        n_common=8, n_salient=8, max_epochs=40, batch_size=128, device="cpu", random_state=0
    ).fit(data.X_background, data.X_target)
    Z = est.transform(data.X_target)
    truth = data.target_attributes["salient"]

    def ari(features):
        labels = KMeans(2, n_init=10, random_state=0).fit_predict(features)
        return adjusted_rand_score(truth, labels)

    assert ari(Z[:, 8:]) >= 0.8
    assert ari(Z[:, :8]) <= 0.2
    salient = est.project(np.vstack([data.X_background, data.X_target]))[:, 8:]
    norms = np.linalg.norm(salient, axis=1)
    assert norms[:300].mean() < 0.1 * norms[300:].mean()


# -- bad input: one test per case of DESIGN.md 2, none may start training ----------
def _X(n=8, d=3):
    return np.random.RandomState(0).normal(size=(n, d))


GROUPS = np.array([0, 0, 0, 0, 1, 1, 1, 1])


@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_nan_or_inf_in_X(tiny, no_training, value, word):
    X = _X()
    X[3, 1] = value
    with pytest.raises(ValueError, match=word):
        SepCLRTransformer(**tiny).fit(X, GROUPS)


def test_strings_in_X(tiny, no_training):
    X = _X().astype(object)
    X[2, 0] = "high"
    with pytest.raises(ValueError, match="could not convert string"):
        SepCLRTransformer(**tiny).fit(X, GROUPS)


def test_1d_X(tiny, no_training):
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        SepCLRTransformer(**tiny).fit(_X()[:, 0], GROUPS)


def test_empty_X(tiny, no_training):
    with pytest.raises(ValueError, match="0 sample"):
        SepCLRTransformer(**tiny).fit(np.empty((0, 3)), np.empty(0))


@pytest.mark.parametrize("groups", [np.zeros(8), np.full(8, "patient")], ids=["zeros", "one"])
def test_one_group_only(tiny, no_training, groups):
    with pytest.raises(ValueError, match="Only one group"):
        SepCLRTransformer(**tiny).fit(_X(), groups)


def test_two_datasets_with_different_feature_counts(tiny, no_training):
    with pytest.raises(ValueError, match="same number of features"):
        SepCLRTransformer(**tiny).fit(_X(4, 3), _X(4, 5))


def test_image_shape_not_matching_the_features(tiny, no_training):
    with pytest.raises(ValueError, match=r"image_shape=\(1, 4, 4\) holds 16 values"):
        SepCLRTransformer(image_shape=(1, 4, 4), **tiny).fit(_X(8, 15), GROUPS)


def test_fewer_samples_than_a_batch_needs(tiny, no_training):
    # A batch needs one background and one target sample.
    with pytest.raises(ValueError, match="Only one group"):
        SepCLRTransformer(**tiny).fit(_X(1, 3), [1])


def test_group_labels_of_the_wrong_length(tiny, no_training):
    with pytest.raises(ValueError, match="Found 5 group labels .* for 8 samples"):
        SepCLRTransformer(**tiny).fit(_X(), GROUPS[:5])
    with pytest.raises(ValueError, match="Found 5 group labels"):
        SepCLRTransformer(**tiny).fit(_X(), GROUPS, sample_group=GROUPS[:5])


def test_no_groups_at_all(tiny, no_training):
    with pytest.raises(ValueError, match="requires y to be passed"):
        SepCLRTransformer(**tiny).fit(_X())


def test_sparse_X(tiny, no_training):
    from scipy import sparse

    with pytest.raises(TypeError, match="[Ss]parse"):
        SepCLRTransformer(**tiny).fit(sparse.csr_matrix(_X()), GROUPS)


@pytest.mark.parametrize(
    "param, value",
    [("n_common", 0), ("lr", -1.0), ("encoder", "transformer"), ("precision", "16")],
)
def test_invalid_parameters(tiny, no_training, param, value):
    tiny[param] = value
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        SepCLRTransformer(**tiny).fit(_X(), GROUPS)


def test_transform_with_other_feature_count(blobs, tiny):
    est = _fit(blobs, **tiny)
    with pytest.raises(ValueError, match="X has 5 features"):
        est.transform(blobs.X_target[:, :5])
