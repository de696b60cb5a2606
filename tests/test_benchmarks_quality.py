"""Smoke test of benchmarks/quality.py: a tiny run prints a row per method."""

import json

import numpy as np
import pytest

from .conftest import load_benchmark

pytest.importorskip("pandas")

def _load_quality():
    return load_benchmark("quality")


def test_quality_main_tiny(tmp_path, capsys):
    quality = _load_quality()
    methods = [m for m in quality.METHODS if m != "contrastive_pkg"]
    try:
        import contrastive  # noqa: F401

        methods = list(quality.METHODS)
    except ImportError:
        pass
    out = tmp_path / "quality.json"
    summary = quality.main(
        [
            "--quick",
            "--datasets", "blobs",
            "--n-samples", "80",
            "--epochs", "2",
            "--device", "cpu",
            "--methods", *methods,
            "--sepclr-param", "n_common=4",
            "--sepclr-param", "n_salient=4",
            "--sepclr-param", "hidden_layer_sizes=[16]",
            "--json", str(out),
        ]
    )
    printed = capsys.readouterr().out
    # Each SepCLR fit is probed twice: representations, then projections.
    rows = [
        label
        for m in methods
        for label in ((m, f"{m}@proj") if m.startswith("sepclr") else (m,))
    ]
    assert list(summary["method"]) == rows
    summary_block = printed.split("## summary")[1]
    for method in rows:
        assert f" {method} " in summary_block
    for method in ("sepclr", "sepclr@proj"):
        assert summary.loc[summary.method == method, "s->s"].notna().all()
        assert summary.loc[summary.method == method, "collapse"].notna().all()
    # Same fit, different features: the probe scores come from different spaces.
    payload = json.loads(out.read_text())
    assert {r["method"] for r in payload["results"]} == set(rows)
    # Where it ran travels with the numbers.
    import torch

    assert payload["machine"]["torch"] == torch.__version__
    assert payload["machine"]["device"] == "cpu" and payload["machine"]["cuda"] is None
    # The processor's instruction set changes CPU round-off, so it is recorded.
    assert payload["machine"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert {"numpy", "scikit-learn", "skorch", "cpu_model"} <= set(payload["machine"])
    scores = {
        r["method"]: [p["score"] for p in r["probes"]] for r in payload["results"]
    }
    fit_times = {r["method"]: r["fit_time_s"] for r in payload["results"]}
    assert fit_times["sepclr"] == fit_times["sepclr@proj"]
    assert len(scores["sepclr"]) == len(scores["sepclr@proj"])


@pytest.mark.parametrize(
    "features, rows",
    [("representation", ["sepclr", "pca"]), ("projection", ["sepclr@proj", "pca"])],
)
def test_quality_features_keeps_one_kind(capsys, features, rows):
    quality = _load_quality()
    summary = quality.main(
        [
            "--quick",
            "--datasets", "blobs",
            "--n-samples", "80",
            "--epochs", "1",
            "--device", "cpu",
            "--methods", "sepclr", "pca",
            "--features", features,
            "--sepclr-param", "n_common=4",
            "--sepclr-param", "n_salient=4",
            "--sepclr-param", "hidden_layer_sizes=[16]",
        ]
    )
    capsys.readouterr()
    assert list(summary["method"]) == rows
    # The collapse ratio belongs to the fit: present whichever features are probed.
    assert summary.loc[summary.method == rows[0], "collapse"].notna().all()


def _supervised_probe(epochs):
    quality = _load_quality()
    summary = quality.main(
        [
            "--datasets", "blobs",
            "--n-samples", "200",
            "--epochs", str(epochs),
            "--device", "cpu",
            "--methods", "supervised",
            "--sepclr-param", "n_salient=1",
            "--sepclr-param", "hidden_layer_sizes=[16]",
        ]
    )
    return float(summary["all->s"].iloc[0])


def test_quality_supervised_yardstick_learns_the_salient_attribute(capsys):
    # One output dimension: an untrained encoder's single feature reads the
    # salient clusters poorly; trained with their labels it reads them all.
    untrained = _supervised_probe(0)
    trained = _supervised_probe(100)
    capsys.readouterr()
    assert untrained < 0.9
    assert trained >= 0.95
    assert _supervised_probe(100) == trained  # deterministic from --seed


def test_quality_standardize_changes_only_the_networks(capsys):
    quality = _load_quality()

    def run(*extra):
        return quality.main(
            [
                "--datasets", "blobs",
                "--n-samples", "80",
                "--epochs", "2",
                "--device", "cpu",
                "--methods", "sepclr", "contrastivepca", "pca",
                "--features", "projection",
                "--sepclr-param", "n_common=4",
                "--sepclr-param", "n_salient=4",
                "--sepclr-param", "hidden_layer_sizes=[16]",
                *extra,
            ]
        ).set_index("method")

    raw, scaled = run(), run("--standardize")
    capsys.readouterr()
    linear = ["s->s", "s->c", "all->s", "all->c"]
    for method in ("contrastivepca", "pca"):
        a, b = raw.loc[method, linear], scaled.loc[method, linear]
        assert a.isna().equals(b.isna())
        np.testing.assert_allclose(a.dropna(), b.dropna())
    # SepCLR trains on other numbers: its collapse ratio moves.
    assert raw.loc["sepclr@proj", "collapse"] != scaled.loc["sepclr@proj", "collapse"]


def test_quality_jem_bandwidth_swaps_only_the_kernel_width():
    torch = pytest.importorskip("torch")
    from sklearn_sepclr import losses

    quality = _load_quality()
    g = torch.Generator().manual_seed(0)
    common = torch.nn.functional.normalize(torch.randn(16, 3, generator=g), dim=1)
    salient = 3.0 * torch.randn(16, 4, generator=g)
    library = losses.joint_entropy(common, salient, temperature=0.5)

    def median_width(z):
        d = losses._squared_distances(z)
        return d[~torch.eye(len(d), dtype=torch.bool)].median()

    def reference(width_c, width_s):
        log_kernel = (
            -losses._squared_distances(common) / width_c
            - losses._squared_distances(salient) / width_s
        )
        return (torch.logsumexp(log_kernel, dim=1) - np.log(len(common))).mean()

    with quality._jem_bandwidth("shared"):
        assert losses.joint_entropy(common, salient) == library
    with quality._jem_bandwidth("0.5"):  # k-JEM's own tau, equal to the shared one
        assert torch.allclose(losses.joint_entropy(common, salient), library)
    with quality._jem_bandwidth("2.0"):
        assert torch.allclose(losses.joint_entropy(common, salient), reference(4.0, 4.0))
    with quality._jem_bandwidth("median-salient"):
        got = losses.joint_entropy(common, salient, temperature=0.5)
        assert torch.allclose(got, reference(1.0, median_width(salient)))
        assert not torch.allclose(got, library)
    with quality._jem_bandwidth("median"):
        got = losses.joint_entropy(common, salient)
        assert torch.allclose(got, reference(median_width(common), median_width(salient)))
    assert losses.joint_entropy(common, salient, temperature=0.5) == library  # restored
    with pytest.raises(quality.argparse.ArgumentTypeError):
        quality._jem_bandwidth_arg("wide")


def test_quality_cnn_widths_build_the_requested_encoder():
    nn = pytest.importorskip("torch.nn")
    quality = _load_quality()
    split = quality.load_dataset("textures", 40, 8, seed=0)

    def estimator(*argv):
        args = quality.build_parser().parse_args([*argv, "--image-epochs", "1"])
        return quality._sepclr(split, "full", args)

    est = estimator("--cnn-widths", "4", "8", "8", "16")
    est.set_params(device="cpu").fit(split.X_train, split.target_train.astype(int))
    for encoder in (est.net_.module_.common_encoder, est.net_.module_.salient_encoder):
        convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
        assert [c.out_channels for c in convs] == [4, 8, 8, 16]
    est = estimator("--cnn-strides", "2", "2", "2", "2")
    convs = [m for m in est.encoder(split.X_train.shape[1:], 3).modules()
             if isinstance(m, nn.Conv2d)]
    assert [c.stride for c in convs] == [(2, 2)] * 4
    assert estimator().encoder == "cnn"


def test_quality_rejects_cnn_strides_that_do_not_match_the_widths(capsys):
    quality = _load_quality()
    with pytest.raises(SystemExit):
        quality.main(["--datasets", "textures", "--cnn-widths", "4", "8", "--cnn-strides", "1"])
    assert "2 widths, 1 strides" in capsys.readouterr().err


def test_quality_cosine_lr_schedule_decays_over_the_run():
    quality = _load_quality()
    split = quality.load_dataset("textures", 40, 8, seed=0)
    args = quality.build_parser().parse_args(
        ["--image-epochs", "3", "--lr-schedule", "cosine", "--cnn-widths", "4", "4", "4", "4"]
    )
    est = quality._sepclr(split, "full", args).set_params(device="cpu")
    est.fit(split.X_train, split.target_train.astype(int))
    lrs = est.net_.history[:, "event_lr"]
    # Epoch e trains at lr * (1 + cos(pi e / 3)) / 2: 1e-3, 7.5e-4, 2.5e-4.
    assert lrs == pytest.approx([1e-3, 7.5e-4, 2.5e-4])
    args = quality.build_parser().parse_args(["--image-epochs", "3"])
    assert quality._sepclr(split, "full", args).callbacks is None
    # Without --image-epochs the schedule spans the library's image default,
    # and tabular data get theirs.
    for name, size, epochs in (("textures", 8, 300), ("blobs", None, 100)):
        args = quality.build_parser().parse_args(["--lr-schedule", "cosine"])
        est = quality._sepclr(quality.load_dataset(name, 40, size, seed=0), "full", args)
        assert est.max_epochs == "auto"
        assert dict(est.callbacks)["lr_schedule"].kwargs["T_max"] == epochs


def test_quality_cpca_alpha_reaches_both_implementations():
    quality = _load_quality()
    split = quality.load_dataset("blobs", 80, None, seed=0)

    def fit(method, *argv):
        args = quality.build_parser().parse_args(list(argv))
        cache = {}
        Z_train, _, _, est = quality._fit_method(method, split, args, cache)
        return cache["alpha"], Z_train, est

    auto, Z_auto, est = fit("contrastivepca")
    assert est.alpha == "auto" and auto > 0
    zero, Z_zero, est = fit("contrastivepca", "--cpca-alpha", "0")
    assert zero == est.alpha_ == 0.0
    assert not np.allclose(Z_auto, Z_zero)
    for bad in ("-1", "nan", "inf", "large"):
        with pytest.raises(quality.argparse.ArgumentTypeError):
            quality._cpca_alpha_arg(bad)
    pytest.importorskip("contrastive")
    assert fit("contrastive_pkg", "--cpca-alpha", "2.5")[0] == 2.5
    # alpha = 0, which the package alone refuses ("alpha_value must be provided").
    zero, Z_package, _ = fit("contrastive_pkg", "--cpca-alpha", "0")
    assert zero == 0.0
    assert Z_package.shape == Z_zero.shape and np.isfinite(Z_package).all()


def test_quality_augmentation_params_reach_the_image_views_only():
    quality = _load_quality()
    from sklearn_sepclr import ImageAugmentation

    argv = ["--augmentation-param", "brightness=0.8",
            "--augmentation-param", "crop_scale=[0.9, 1]"]

    def estimator(name, *extra):
        args = quality.build_parser().parse_args([*argv, *extra])
        return quality._sepclr(quality.load_dataset(name, 40, 8, seed=0), "full", args)

    augment = estimator("textures").augmentation
    assert isinstance(augment, ImageAugmentation)
    assert augment.brightness == 0.8 and augment.crop_scale == (0.9, 1)
    assert augment.contrast == ImageAugmentation().contrast  # the others: the library's
    assert estimator("blobs").augmentation == "auto"  # tabular data keep theirs


def test_quality_plain_target_trains_on_the_targets_alone():
    # Changing the background training rows leaves the targets-only fit's
    # features of the target rows as they were, and moves the pooled fit's.
    quality = _load_quality()
    args = quality.build_parser().parse_args(
        ["--epochs", "2", "--device", "cpu", "--sepclr-param", "hidden_layer_sizes=[16]"]
    )

    def target_features(method, split):
        Z_train, _, spaces, _ = quality._fit_method(method, split, args, {})
        assert list(spaces) == ["all"]
        return Z_train[split.target_train]

    split = quality.load_dataset("blobs", 120, None, seed=0)
    before = {m: target_features(m, split) for m in ("sepclr_plain_target", "sepclr_plain")}
    background = ~split.target_train
    split.X_train[background] = split.X_train[background][::-1] + 1.0
    after = {m: target_features(m, split) for m in before}
    np.testing.assert_array_equal(after["sepclr_plain_target"], before["sepclr_plain_target"])
    assert not np.allclose(after["sepclr_plain"], before["sepclr_plain"])


def test_quality_plain_probes_the_common_space_of_both_feature_kinds():
    # Plain contrastive learning has one space, the common one: the rows of
    # its projections (``project`` returns both heads) must not take in the
    # salient head, which never trained in this ablation.
    quality = _load_quality()
    args = quality.build_parser().parse_args(
        ["--epochs", "1", "--device", "cpu", "--sepclr-param", "hidden_layer_sizes=[16]"]
    )
    split = quality.load_dataset("blobs", 120, None, seed=0)
    Z_train, _, spaces, est = quality._fit_method("sepclr_plain", split, args, {})
    assert list(spaces) == ["all"]
    projections = est.project(split.X_train)
    assert projections.shape[1] == est.n_common + est.n_salient
    np.testing.assert_array_equal(
        projections[:, spaces["all"]], projections[:, : est.n_common]
    )
    assert Z_train[:, spaces["all"]].shape[1] == est.n_common


@pytest.mark.parametrize("dataset, n_samples, size, argv", [
    ("blobs", 120, None, ["--epochs", "2", "--sepclr-param", "hidden_layer_sizes=[16]"]),
    ("textures", 40, 8, ["--image-epochs", "1"]),
])
def test_quality_plain_is_the_no_jem_common_space(dataset, n_samples, size, argv):
    # With every term that ties the spaces off, nothing the salient terms
    # compute reaches the common encoder: it trains as plain contrastive
    # learning does, from the same initial weights and batches, so the two
    # ablations' common features agree (the README reads the recorded
    # full-size runs this way). A salient term leaking into the common
    # encoder, or the ablations drawing different batches, breaks this.
    quality = _load_quality()
    args = quality.build_parser().parse_args([*argv, "--device", "cpu", "--seed", "3"])
    split = quality.load_dataset(dataset, n_samples, size, seed=0)
    no_jem = quality._fit_method("sepclr_no_jem", split, args, {})
    plain = quality._fit_method("sepclr_plain", split, args, {})
    for i in (0, 1):  # train and test rows
        common = no_jem[i][:, no_jem[2]["common"]]
        np.testing.assert_allclose(plain[i][:, plain[2]["all"]], common, rtol=0, atol=1e-6)
    # The salient encoder did train without k-JEM (its terms are on).
    variants = load_benchmark("_variants")
    assert variants.variant_params("sepclr_no_jem").get("salient_weight", 1.0) > 0
    assert variants.variant_params("sepclr_plain")["salient_weight"] == 0


def test_quality_default_methods_leave_out_the_diagnostics():
    quality = _load_quality()
    args = quality.build_parser().parse_args([])
    assert set(quality.DIAGNOSTICS) == {"sepclr_plain_target", "sepclr_untrained"}
    assert set(args.methods) == set(quality.METHODS) - set(quality.DIAGNOSTICS)


def test_quality_untrained_keeps_the_initial_weights():
    # The diagnostic probes SepCLR's networks at their random initial weights:
    # its fit must not move them, while the same fit at the library's learning
    # rate does (so the comparison would catch a step that got through).
    import torch

    quality = _load_quality()
    args = quality.build_parser().parse_args(
        ["--device", "cpu", "--sepclr-param", "hidden_layer_sizes=[16]", "--seed", "3"]
    )
    split = quality.load_dataset("blobs", 120, None, seed=0)

    def weights(est):
        est.fit(split.X_train, split.target_train.astype(int))
        return {k: v.clone() for k, v in est.net_.module_.named_parameters()}

    untrained = quality._sepclr(split, "untrained", args)
    assert untrained.max_epochs == 1
    once = weights(untrained)
    thrice = weights(untrained.set_params(max_epochs=3))
    trained = weights(untrained.set_params(lr=1e-3))
    assert once.keys() == thrice.keys() == trained.keys()
    # (Parameters initialised at 0 can move by a step of about 1e-30.)
    assert all(torch.allclose(once[k], thrice[k], rtol=0, atol=1e-25) for k in once)
    assert max((once[k] - trained[k]).abs().max() for k in once) > 1e-3
    # Its spaces: the full model's common and salient widths.
    Z_train, Z_test, spaces, est = quality._fit_method("sepclr_untrained", split, args, {})
    assert list(spaces) == ["common", "salient"]
    assert Z_train.shape[1] == est.n_common + est.n_salient


#: A value other than the default for every parameter that targets.py
#: ignores when it pools the untrained networks' seeds.
_OBJECTIVE_VALUES = {
    "temperature": 0.1, "uniformity_weight": 0.5, "salient_weight": 0.0,
    "background_weight": 0.0, "jem_weight": 0.0, "representation_jem_weight": 0.0,
    "representation_jem_encoder": "common", "decorrelation_weight": 10.0,
    "decorrelation_encoder": "both", "background_spread_weight": 5.0,
    "salient_uniformity": "single", "weight_decay": 0.1, "max_grad_norm": 1.0,
}


def test_quality_untrained_networks_ignore_the_objective():
    # targets.py pools untrained runs whatever these parameters were
    # (_variants.OBJECTIVE_PARAMS): each must leave the networks' outputs
    # exactly as they are, on images, where the batch-norm statistics are
    # taken from the training batches; background_mixing, which changes
    # those batches, must not (so the comparison would catch a parameter
    # listed there that reaches the networks).
    import numpy as np

    from sklearn_sepclr import SepCLRTransformer

    variants = load_benchmark("_variants")
    assert set(_OBJECTIVE_VALUES) == variants.OBJECTIVE_PARAMS
    rng = np.random.RandomState(0)
    X_bg, X_tg = (rng.rand(40, 1, 12, 12).astype(np.float32) for _ in range(2))
    X = np.concatenate([X_bg, X_tg])
    base = dict(encoder="cnn", n_common=4, n_salient=4, batch_size=16, random_state=0,
                device="cpu", **variants.variant_params("sepclr_untrained"))

    def features(**params):
        return SepCLRTransformer(**base, **params).fit(X_bg, X_tg).transform(X)

    reference = features()
    for name, value in _OBJECTIVE_VALUES.items():
        assert SepCLRTransformer().get_params()[name] != value, name
        np.testing.assert_array_equal(features(**{name: value}), reference, err_msg=name)
    assert np.abs(features(background_mixing=0.0) - reference).max() > 1e-4


def test_quality_untrained_networks_ignore_the_schedule_options():
    # The quality.py options that targets.py ignores for the untrained
    # networks (_variants._UNTRAINED_OPTIONS) leave their features as they
    # are: the variant sets the epochs, and the schedule and k-JEM's width
    # only shape steps that move nothing.
    import numpy as np

    quality = _load_quality()
    variants = load_benchmark("_variants")
    _, options = variants.ignored_settings("sepclr_untrained")
    assert options == {"jem_bandwidth", "lr_schedule", "epochs", "image_epochs"}
    split = quality.load_dataset("blobs", 120, None, seed=0)
    common = ["--device", "cpu", "--sepclr-param", "hidden_layer_sizes=[16]", "--seed", "3"]

    def features(*argv):
        args = quality.build_parser().parse_args([*common, *argv])
        Z_train, Z_test, _, _ = quality._fit_method("sepclr_untrained", split, args, {})
        return np.concatenate([Z_train, Z_test])

    reference = features()
    changed = features("--lr-schedule", "cosine", "--jem-bandwidth", "0.1",
                       "--epochs", "7", "--image-epochs", "5")
    np.testing.assert_array_equal(changed, reference)


def test_quality_linear_widths_follow_the_salient_space_only():
    # PCA gets twice n_salient whatever n_common is, so narrowing SepCLR's
    # common space does not weaken the PCA baseline; cPCA gets n_salient.
    quality = _load_quality()
    split = quality.load_dataset("mice", 0, None, seed=0)  # mice: always all rows

    def width(method, *argv):
        args = quality.build_parser().parse_args(list(argv))
        Z_train, _, _, _ = quality._fit_method(method, split, args, {})
        return Z_train.shape[1]

    narrow = ("--sepclr-param", "n_common=4", "--sepclr-param", "n_salient=6")
    assert width("pca", *narrow) == 12
    assert width("contrastivepca", *narrow) == 6
    assert width("pca", *narrow, "--linear-components", "5") == 5


def test_quality_ablations_switch_off_the_terms_that_tie_the_spaces():
    # "Without k-JEM" and plain contrastive learning switch off both k-JEM
    # terms and the decorrelation, even when --sepclr-param sets them for
    # the full model.
    quality = _load_quality()
    split = quality.load_dataset("textures", 40, 8, seed=0)
    argv = ["--sepclr-param", "representation_jem_weight=10", "--sepclr-param", "jem_weight=30"]
    argv += ["--sepclr-param", "decorrelation_weight=20"]
    argv += ["--sepclr-param", "background_spread_weight=5"]
    args = quality.build_parser().parse_args(argv)
    full = quality._sepclr(split, "full", args)
    assert (full.jem_weight, full.representation_jem_weight) == (30, 10)
    assert full.decorrelation_weight == 20
    for variant in ("no_jem", "plain"):
        est = quality._sepclr(split, variant, args)
        assert est.jem_weight == 0 and est.representation_jem_weight == 0, variant
        assert est.decorrelation_weight == 0, variant
    # The background spread is a salient term, not a tie: "without k-JEM"
    # keeps it, plain contrastive learning has no salient space to apply it to.
    assert quality._sepclr(split, "no_jem", args).background_spread_weight == 5
    plain = quality._sepclr(split, "plain", args)
    assert plain.output == "common" and plain.background_spread_weight == 0
