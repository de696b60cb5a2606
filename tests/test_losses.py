"""The SepCLR objective, term by term, against values worked out by hand."""

import math

import pytest
import torch

from sklearn_sepclr.losses import (
    SALIENT_UNIFORMITY_MODES,
    TERM_NAMES,
    alignment,
    background_spread,
    cross_correlation,
    joint_entropy,
    sepclr_loss,
    uniformity,
)

TAU = 0.5


def test_alignment_by_hand():
    z1 = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    z2 = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    # squared distances 1, 0, 4; / (2 tau) = 1; mean = 5 / 3
    assert alignment(z1, z2, temperature=TAU).item() == pytest.approx(5 / 3)
    mask = torch.tensor([False, True, True])
    assert alignment(z1, z2, temperature=TAU, mask=mask).item() == pytest.approx(2.0)
    empty = torch.zeros(3, dtype=torch.bool)
    assert alignment(z1, z2, mask=empty).item() == 0.0


def test_uniformity_by_hand():
    # Three points on a line at 0, 1, 3: pair distances^2 are 1, 9, 4.
    z = torch.tensor([[0.0], [1.0], [3.0]])
    expected = math.log((math.exp(-1) + math.exp(-9) + math.exp(-4)) / 3)
    assert uniformity(z, temperature=TAU).item() == pytest.approx(expected)
    # tau = 1 halves every exponent.
    expected = math.log((math.exp(-0.5) + math.exp(-4.5) + math.exp(-2)) / 3)
    assert uniformity(z, temperature=1.0).item() == pytest.approx(expected)


def test_uniformity_of_one_point_is_zero_not_nan():
    assert uniformity(torch.ones(1, 3)).item() == 0.0


def test_joint_entropy_by_hand():
    c = torch.tensor([[0.0], [1.0], [0.0]])
    s = torch.tensor([[0.0], [0.0], [2.0]])
    # joint squared distances: d(0,1) = 1, d(0,2) = 4, d(1,2) = 1 + 4 = 5.
    rows = [
        [0, -1, -4],
        [-1, 0, -5],
        [-4, -5, 0],
    ]
    expected = sum(math.log(sum(math.exp(v) for v in row) / 3) for row in rows) / 3
    assert joint_entropy(c, s, temperature=TAU).item() == pytest.approx(expected)


def _batch(dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    tensors = [torch.randn(4, 3, generator=g, dtype=dtype) for _ in range(4)]
    is_target = torch.tensor([False, True, True, False])
    return (*tensors, is_target)


def _by_hand(c1, c2, s1, s2, is_target, representations=None):
    """Each term of DESIGN.md 1 written with explicit loops over 4 points."""
    n = len(c1)
    c1 = [v / v.norm() for v in c1]
    c2 = [v / v.norm() for v in c2]
    zero = torch.zeros_like(s1[0])
    sh1 = [s1[i] if is_target[i] else zero for i in range(n)]
    sh2 = [s2[i] if is_target[i] else zero for i in range(n)]

    def k(a, b):
        return math.exp(-float(((a - b) ** 2).sum()) / (2 * TAU))

    def unif(z):
        pairs = [k(z[i], z[j]) for i in range(n) for j in range(i + 1, n)]
        return math.log(sum(pairs) / len(pairs))

    def jem(c, s):
        m = len(c)
        rows = [sum(k(c[i], c[j]) * k(s[i], s[j]) for j in range(m)) / m for i in range(m)]
        return sum(math.log(r) for r in rows) / m

    def target_sphere(r):
        return [r[i] / r[i].norm() for i in range(n) if is_target[i]]

    def mean_squared_correlation(a, b):
        # Pearson correlation of every column of a with every column of b,
        # each standard deviation (n - 1 in the denominator) plus 1e-4.
        m = len(a)

        def column(z, j):
            values = [float(z[i][j]) for i in range(m)]
            mean = sum(values) / m
            centred = [v - mean for v in values]
            sd = math.sqrt(sum(v * v for v in centred) / (m - 1))
            return [v / (sd + 1e-4) for v in centred]

        cols_a = [column(a, j) for j in range(len(a[0]))]
        cols_b = [column(b, j) for j in range(len(b[0]))]
        squares = [
            (sum(x * y for x, y in zip(u, v, strict=True)) / (m - 1)) ** 2
            for u in cols_a
            for v in cols_b
        ]
        return sum(squares) / len(squares)

    def background_over_target_variance(z):
        # Per column: unbiased variance over the background rows divided by
        # itself plus the unbiased variance over the target rows (plus
        # 1e-8); mean of the columns.
        def variance(rows, j):
            values = [float(z[i][j]) for i in rows]
            mean = sum(values) / len(values)
            return sum((v - mean) ** 2 for v in values) / (len(values) - 1)

        bg = [i for i in range(n) if not is_target[i]]
        tg = [i for i in range(n) if is_target[i]]
        ratios = [
            variance(bg, j) / (variance(bg, j) + variance(tg, j) + 1e-8) for j in range(len(z[0]))
        ]
        return sum(ratios) / len(ratios)

    representation_jem = decorrelation = background_spread = 0.0
    if representations is not None:
        background_spread = (
            background_over_target_variance(representations[2])
            + background_over_target_variance(representations[3])
        ) / 2
        rc1, rc2, rs1, rs2 = (target_sphere(r) for r in representations)
        representation_jem = (jem(rc1, rs1) + jem(rc2, rs2)) / 2
        rc1, rc2, rs1, rs2 = ([r[i] for i in range(n) if is_target[i]] for r in representations)
        decorrelation = (
            mean_squared_correlation(rc1, rs1) + mean_squared_correlation(rc2, rs2)
        ) / 2

    targets = [i for i in range(n) if is_target[i]]
    background = [i for i in range(n) if not is_target[i]]
    return {
        "common_alignment": sum(float(((c1[i] - c2[i]) ** 2).sum()) for i in range(n))
        / (2 * TAU * n),
        "common_uniformity": (unif(c1) + unif(c2)) / 2,
        "salient_alignment": sum(float(((s1[i] - s2[i]) ** 2).sum()) for i in targets)
        / (2 * TAU * len(targets)),
        "salient_uniformity": (unif(sh1) + unif(sh2)) / 2,
        "background": sum(
            float((s1[i] ** 2).sum()) + float((s2[i] ** 2).sum()) for i in background
        )
        / (2 * TAU * len(background) * 2),
        "jem": (jem(c1, sh1) + jem(c2, sh2)) / 2,
        "representation_jem": representation_jem,
        "decorrelation": decorrelation,
        "background_spread": background_spread,
    }


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_term_matches_the_definition(dtype):
    batch = _batch(dtype)
    total, terms = sepclr_loss(*batch, temperature=TAU)
    expected = _by_hand(*batch)
    assert tuple(terms) == TERM_NAMES
    for name in TERM_NAMES:
        assert terms[name].dtype == dtype
        assert terms[name].item() == pytest.approx(expected[name], rel=1e-5), name
    assert total.dtype == dtype


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_representation_jem_matches_the_definition(dtype):
    batch = _batch(dtype)
    g = torch.Generator().manual_seed(1)
    widths = (5, 5, 2, 2)  # r_c1, r_c2, r_s1, r_s2
    representations = tuple(torch.randn(4, w, generator=g, dtype=dtype) for w in widths)
    total, terms = sepclr_loss(*batch, temperature=TAU, representations=representations)
    expected = _by_hand(*batch, representations=representations)["representation_jem"]
    assert terms["representation_jem"].dtype == dtype
    assert terms["representation_jem"].item() == pytest.approx(expected, rel=1e-5)
    assert terms["representation_jem"].item() < 0
    # It enters the total only through its weight, and leaves the other terms.
    without, plain = sepclr_loss(*batch, temperature=TAU)
    assert total.item() == without.item()
    assert plain["representation_jem"].item() == 0.0
    weighted, _ = sepclr_loss(
        *batch, temperature=TAU, representations=representations, representation_jem_weight=3.0
    )
    assert weighted.item() == pytest.approx(without.item() + 3.0 * expected, rel=1e-5)
    for name in TERM_NAMES:
        if name not in ("representation_jem", "decorrelation", "background_spread"):
            assert terms[name].item() == plain[name].item(), name
    with pytest.raises(ValueError, match="4 encoder outputs"):
        sepclr_loss(*batch, representations=representations[:2])


@pytest.mark.parametrize("term", ["representation_jem", "decorrelation"])
@pytest.mark.parametrize(
    "encoder, trained", [("both", (0, 1, 2, 3)), ("common", (0, 1)), ("salient", (2, 3))]
)
def test_encoder_option_chooses_where_the_gradient_goes(term, encoder, trained):
    # representation_jem_encoder and decorrelation_encoder: the term's value
    # does not depend on the choice, only where its gradient goes.
    option = f"{term}_encoder"
    batch = _batch(torch.float64)
    g = torch.Generator().manual_seed(1)
    representations = tuple(
        torch.randn(4, w, generator=g, dtype=torch.float64, requires_grad=True)
        for w in (5, 5, 2, 2)
    )
    _, terms = sepclr_loss(
        *batch, temperature=TAU, representations=representations, **{option: encoder}
    )
    detached = tuple(r.detach() for r in representations)
    expected = _by_hand(*batch, representations=detached)[term]
    assert terms[term].item() == pytest.approx(expected, rel=1e-9)
    grads = torch.autograd.grad(terms[term], representations, allow_unused=True)
    is_target = batch[-1]
    for i, grad in enumerate(grads):
        if i in trained:
            # Target rows get gradient, background rows do not enter the term.
            assert grad is not None and grad[is_target].abs().sum() > 0, i
            assert torch.all(grad[~is_target] == 0), i
        else:
            assert grad is None or torch.all(grad == 0), i
    with pytest.raises(ValueError, match=f"{option} must be one of"):
        sepclr_loss(*batch, representations=representations, **{option: "x"})


def test_cross_correlation_by_hand():
    c = torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [3.0, 1.0]])
    # Column 0 of c rises, column 1 is symmetric about the middle: a rising
    # salient column is perfectly correlated with the first and
    # uncorrelated with the second.
    s = torch.tensor([[1.0], [3.0], [5.0], [7.0]])
    assert cross_correlation(c, s).item() == pytest.approx(0.5, rel=1e-3)
    assert cross_correlation(c[:, :1], s).item() == pytest.approx(1.0, rel=1e-3)
    assert cross_correlation(c[:, :1], -s).item() == pytest.approx(1.0, rel=1e-3)
    assert cross_correlation(c[:, 1:], s).item() == pytest.approx(0.0, abs=1e-12)
    # Scale- and shift-free in each column; symmetric in its two blocks.
    scaled = cross_correlation(c * torch.tensor([10.0, 0.1]) + 3.0, s)
    assert scaled.item() == pytest.approx(0.5, rel=1e-3)
    assert cross_correlation(s, c).item() == pytest.approx(cross_correlation(c, s).item())
    # A constant column counts as uncorrelated, with a finite gradient.
    flat = torch.ones(4, 1, requires_grad=True)
    value = cross_correlation(flat, s)
    value.backward()
    assert value.item() == 0.0 and torch.isfinite(flat.grad).all()
    assert cross_correlation(c[:1], s[:1]).item() == 0.0


def _check_representation_term(dtype, seed, name):
    """Check the term ``name`` on the representations against :func:`_by_hand`,
    its weight ``{name}_weight`` in the total and its 0 without
    representations; return its value, its gradients with respect to
    ``(r_c1, r_c2, r_s1, r_s2)`` and the target mask."""
    g = torch.Generator().manual_seed(seed)
    c1, c2, s1, s2 = (torch.randn(8, 3, generator=g, dtype=dtype) for _ in range(4))
    is_target = torch.tensor([True, False] * 4)
    representations = tuple(
        torch.randn(8, w, generator=g, dtype=dtype, requires_grad=True) for w in (5, 5, 2, 2)
    )
    batch = (c1, c2, s1, s2, is_target)
    total, terms = sepclr_loss(*batch, temperature=TAU, representations=representations)
    detached = tuple(r.detach() for r in representations)
    expected = _by_hand(*batch, representations=detached)[name]
    assert terms[name].dtype == dtype
    assert terms[name].item() == pytest.approx(expected, rel=1e-5)
    weight = {f"{name}_weight": 3.0}
    weighted, _ = sepclr_loss(*batch, temperature=TAU, representations=representations, **weight)
    assert weighted.item() == pytest.approx(total.item() + 3.0 * expected, rel=1e-5)
    # Without representations the term is 0.
    _, plain = sepclr_loss(*batch, temperature=TAU, **weight)
    assert plain[name].item() == 0.0
    grads = torch.autograd.grad(terms[name], representations, allow_unused=True)
    return expected, grads, is_target


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_decorrelation_matches_the_definition_and_trains_the_common_encoder(dtype):
    expected, grads, is_target = _check_representation_term(dtype, 2, "decorrelation")
    assert 0 < expected < 1
    # It reaches the common representations of the target rows only.
    for i, grad in enumerate(grads[:2]):
        assert grad[is_target].abs().sum() > 0, i
        assert torch.all(grad[~is_target] == 0), i
    assert all(grad is None for grad in grads[2:])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_background_spread_matches_the_definition_and_trains_the_salient_encoder(dtype):
    expected, grads, is_target = _check_representation_term(dtype, 3, "background_spread")
    assert expected > 0
    # It reaches the salient representations of both groups, nothing else.
    assert all(grad is None for grad in grads[:2])
    for i, grad in enumerate(grads[2:]):
        assert grad[is_target].abs().sum() > 0 and grad[~is_target].abs().sum() > 0, i


def test_background_spread_reads_what_only_the_targets_vary_in():
    g = torch.Generator().manual_seed(4)
    is_target = torch.arange(200) >= 100
    # Varies alike in both groups: the targets repeat the backgrounds' values.
    shared = torch.randn(100, 1, generator=g).repeat(2, 1)
    only_target = torch.where(is_target, torch.randn(200, generator=g), 0.0)[:, None]
    # A feature that varies in the targets alone scores 0, a shared one 1/2,
    # one in the backgrounds alone 1; their mean 1/2.
    only_background = torch.where(is_target, 0.0, torch.randn(200, generator=g))[:, None]
    assert background_spread(only_target, is_target).item() == 0.0
    assert background_spread(shared, is_target).item() == pytest.approx(0.5, rel=1e-6)
    assert background_spread(only_background, is_target).item() == pytest.approx(1.0, rel=1e-6)
    both = torch.cat([shared, only_target], dim=1)
    assert background_spread(both, is_target).item() == pytest.approx(
        background_spread(shared, is_target).item() / 2
    )
    # Rescaling or shifting a feature leaves it unchanged: shrinking the
    # features cannot lower it.
    moved = both * torch.tensor([0.01, 50.0]) + torch.tensor([7.0, -2.0])
    assert background_spread(moved, is_target).item() == pytest.approx(
        background_spread(both, is_target).item(), rel=1e-3
    )
    # Fewer than two rows in either group: 0 (no variance to compare).
    one = torch.arange(200) == 0
    for groups in (one, ~one, torch.zeros(200, dtype=torch.bool)):
        assert background_spread(both, groups).item() == 0.0
    # A feature constant over the batch scores 0, not NaN.
    assert background_spread(torch.ones(200, 1), is_target).item() == 0.0


def test_total_is_the_weighted_sum():
    weights = dict(
        uniformity_weight=3.0, salient_weight=5.0, background_weight=7.0, jem_weight=11.0
    )
    total, t = sepclr_loss(*_batch(), temperature=TAU, **weights)
    expected = (
        t["common_alignment"]
        + 3.0 * t["common_uniformity"]
        + 5.0 * (t["salient_alignment"] + 3.0 * t["salient_uniformity"])
        + 7.0 * t["background"]
        + 11.0 * t["jem"]
    )
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)


def test_defaults_are_the_papers():
    batch = _batch()
    total, t = sepclr_loss(*batch)
    explicit, _ = sepclr_loss(
        *batch,
        temperature=0.5,
        uniformity_weight=2.0,
        salient_weight=1000.0,
        background_weight=1000.0,
        jem_weight=10.0,
    )
    assert total.item() == explicit.item()


def test_single_s_prime_uniformity_by_hand():
    # Targets at 1 and 3 on a line, s' = 0 once: pairs (1, 3), (1, 0), (3, 0).
    s = torch.tensor([[9.0], [1.0], [3.0], [7.0], [5.0]])
    is_target = torch.tensor([False, True, True, False, False])
    c = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    _, single = sepclr_loss(c, c, s, s, is_target, salient_uniformity="single")
    expected = math.log((math.exp(-4) + math.exp(-1) + math.exp(-9)) / 3)
    assert single["salient_uniformity"].item() == pytest.approx(expected)
    # The paper's form counts s' once per background row: three copies, so
    # three s'-s' pairs of kernel 1 among the ten.
    _, paper = sepclr_loss(c, c, s, s, is_target)
    expected = math.log((3 + math.exp(-4) + 3 * (math.exp(-1) + math.exp(-9))) / 10)
    assert paper["salient_uniformity"].item() == pytest.approx(expected)
    # Every other term is the same in both modes.
    for name in TERM_NAMES:
        if name != "salient_uniformity":
            assert single[name].item() == paper[name].item(), name


def test_single_s_prime_repels_targets_more_strongly():
    # Two targets close together among many background rows: the paper's
    # s'-uniformity spends its gradient on the s'-s' block, the single-s'
    # form pushes the two targets apart much harder.
    s = torch.zeros(10, 2, dtype=torch.float64)
    s[0] = torch.tensor([2.0, 0.0])
    s[1] = torch.tensor([2.0, 0.3])
    is_target = torch.zeros(10, dtype=torch.bool)
    is_target[:2] = True
    c = torch.randn(10, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    pull_apart = {}
    for mode in SALIENT_UNIFORMITY_MODES:
        z = s.clone().requires_grad_(True)
        _, terms = sepclr_loss(c, c, z, z, is_target, salient_uniformity=mode)
        (grad,) = torch.autograd.grad(terms["salient_uniformity"], z)
        # Descent moves target 1 along -grad; its component along (t1 - t0).
        pull_apart[mode] = float(-grad[1] @ (s[1] - s[0]))
    assert pull_apart["per_background"] > 0
    assert pull_apart["single"] > 5 * pull_apart["per_background"]


def test_unknown_salient_uniformity_is_rejected():
    with pytest.raises(ValueError, match="salient_uniformity must be one of"):
        sepclr_loss(*_batch(), salient_uniformity="targets")


@pytest.mark.parametrize("group", [True, False], ids=["target-only", "background-only"])
def test_single_s_prime_is_finite_on_one_group_batches(group):
    c1, c2, s1, s2, _ = _batch()
    s1.requires_grad_(True)
    is_target = torch.full((4,), group)
    total, terms = sepclr_loss(c1, c2, s1, s2, is_target, salient_uniformity="single")
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(s1.grad).all()
    if not group:
        # s' alone: one point, no pair, U_s = 0.
        assert terms["salient_uniformity"].item() == 0.0


def test_background_salient_rows_get_gradient_only_from_background_term():
    c1, c2, s1, s2, is_target = _batch(torch.float64)
    s1.requires_grad_(True)
    s2.requires_grad_(True)
    weights = dict(salient_weight=3.0, background_weight=5.0, jem_weight=7.0)
    total, terms = sepclr_loss(c1, c2, s1, s2, is_target, **weights)
    grad1, grad2 = torch.autograd.grad(total, (s1, s2), retain_graph=True)
    background_only = torch.autograd.grad(5.0 * terms["background"], (s1, s2))
    bg = ~is_target
    torch.testing.assert_close(grad1[bg], background_only[0][bg])
    torch.testing.assert_close(grad2[bg], background_only[1][bg])
    # The target rows do get gradient from the other salient terms.
    assert not torch.allclose(grad1[is_target], background_only[0][is_target])
    # Without the background term, background rows get no gradient at all.
    total, _ = sepclr_loss(c1, c2, s1, s2, is_target, background_weight=0.0)
    grad1, _ = torch.autograd.grad(total, (s1, s2))
    assert torch.count_nonzero(grad1[bg]) == 0


@pytest.mark.parametrize("group", [True, False], ids=["target-only", "background-only"])
def test_one_group_batch_is_finite_with_empty_terms_zero(group):
    c1, c2, s1, s2, _ = _batch()
    for t in (c1, c2, s1, s2):
        t.requires_grad_(True)
    is_target = torch.full((4,), group)
    total, terms = sepclr_loss(c1, c2, s1, s2, is_target)
    assert torch.isfinite(total)
    assert all(torch.isfinite(v) for v in terms.values())
    empty = "background" if group else "salient_alignment"
    assert terms[empty].item() == 0.0
    if not group:
        # No target: every salient code is the constant s', so U_s = log 1 = 0.
        assert terms["salient_uniformity"].item() == 0.0
    total.backward()
    assert all(torch.isfinite(t.grad).all() for t in (c1, c2, s1, s2))


def test_identical_samples_give_finite_gradients():
    # Zero pairwise distances: a square root would have an infinite gradient.
    x = torch.ones(3, 2, requires_grad=True)
    is_target = torch.tensor([False, True, True])
    total, _ = sepclr_loss(x, x, x, x, is_target)
    total.backward()
    assert torch.isfinite(x.grad).all()


def test_common_projections_are_normalised_inside():
    c1, c2, s1, s2, is_target = _batch()
    _, terms = sepclr_loss(c1, c2, s1, s2, is_target)
    _, scaled = sepclr_loss(10 * c1, 0.1 * c2, s1, s2, is_target)
    for name in ("common_alignment", "common_uniformity"):
        assert terms[name].item() == pytest.approx(scaled[name].item(), rel=1e-5)
