"""Bad input, fuzzed: property-based tests of SepCLRTransformer's input checks.

Every generated input must either work (``fit`` returns ``self``; ``transform``
returns a finite float32/float64 array of the right shape and dtype) or raise a
``ValueError``/``TypeError`` whose message names the problem. Any other
exception (a ``RuntimeError`` from torch, ...), an unclear message, a wrong
result or a hang is a failure.

The bugs this fuzzing found (and that were fixed) are kept as explicit
regression cases at the end of the module (``test_regression``).

Each case is counted per category (inputs tried, clear errors, worked, unclear
or wrong, crashes or hangs); the table is printed at the end of the module.
"""

import decimal
import signal
from collections import Counter, defaultdict
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import sparse

from sklearn_sepclr import SepCLRTransformer

from .conftest import TINY as CONFTEST_TINY

pytestmark = pytest.mark.slow

TINY = {**CONFTEST_TINY, "max_epochs": 1}
N_OUT = TINY["n_common"] + TINY["n_salient"]

#: Deterministic, database-free; the deadline is per example (a fit takes ~0.1 s).
FUZZ = settings(
    max_examples=25,
    deadline=20_000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Seconds after which a single case counts as a hang.
HANG_S = 60

# Keywords a clear message must contain (any of them), per kind of bad input.
NAN_KW = ("nan", "inf")
SPARSE_KW = ("sparse",)
FEATURE_KW = ("feature", "shape", "column")
GROUP_KW = ("group", "background", "target")
IMAGE_KW = ("image_shape",)
DIM_KW = ("2d", "2-d", "dimension")
EMPTY_KW = ("0 sample", "empty")
COMPLEX_KW = ("complex",)
STRING_KW = ("string",)
DUPLICATE_KW = ("unique", "duplicate")
NAME_TYPE_KW = ("feature names", "string names")
MISSING_LABEL_KW = ("contain none", "contain nan", "missing")
LABEL_TYPE_KW = ("type",)

# -- counting ------------------------------------------------------------------
COLUMNS = ("tried", "clear error", "worked", "unclear/wrong", "crash/hang")
COUNTS = defaultdict(Counter)


@pytest.fixture(scope="module", autouse=True)
def _print_counts(request):
    yield
    lines = ["", "Fuzzed inputs per category:", _table()]
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:  # pragma: no cover
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)


def _table():
    rows = [("category", *COLUMNS)]
    total = Counter()
    for category in sorted(COUNTS):
        total.update(COUNTS[category])
        rows.append((category, *(str(COUNTS[category][c]) for c in COLUMNS)))
    rows.append(("TOTAL", *(str(total[c]) for c in COLUMNS)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )


class _Hang(Exception):
    pass


@contextmanager
def _hang_guard(seconds):
    if not hasattr(signal, "SIGALRM"):  # pragma: no cover - Windows
        yield
        return

    def handler(signum, frame):
        raise _Hang(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _check_output(Z, n_rows, dtype):
    if np.isscalar(Z) or isinstance(Z, float):  # score
        assert np.isfinite(Z), f"score is not finite: {Z}"
        return
    assert isinstance(Z, np.ndarray), type(Z)
    assert Z.dtype in (np.float32, np.float64), Z.dtype
    if dtype is not None:
        expected = dtype if isinstance(dtype, tuple) else (dtype,)
        assert Z.dtype in expected, f"output dtype {Z.dtype}, expected {expected}"
    assert Z.shape == (n_rows, N_OUT), Z.shape
    assert np.all(np.isfinite(Z)), "output is not finite"


def _run(category, action, *, error=None, n_rows=None, dtype=None):
    """Run ``action()`` and check the property; count the outcome.

    ``error``: None if the input is valid (it must work), else the keywords of
    which the ``ValueError``/``TypeError`` message must contain one.
    """
    counts = COUNTS[category]
    counts["tried"] += 1
    try:
        with _hang_guard(HANG_S):
            Z = action()
    except _Hang:
        counts["crash/hang"] += 1
        raise
    except (ValueError, TypeError) as exc:
        message = str(exc).lower()
        if error is None:
            counts["unclear/wrong"] += 1
            raise AssertionError(f"valid input raised {type(exc).__name__}: {exc}") from exc
        if not any(k in message for k in error):
            counts["unclear/wrong"] += 1
            raise AssertionError(
                f"unclear message, none of {error} in {type(exc).__name__}: {exc}"
            ) from exc
        counts["clear error"] += 1
        return exc
    except AssertionError:  # a wrong result checked inside the action
        counts["unclear/wrong"] += 1
        raise
    except BaseException:
        counts["crash/hang"] += 1
        raise
    if error is not None:
        counts["unclear/wrong"] += 1
        raise AssertionError(f"bad input was accepted (expected an error naming {error})")
    try:
        _check_output(Z, n_rows, dtype)
    except AssertionError:
        counts["unclear/wrong"] += 1
        raise
    counts["worked"] += 1
    return Z


def _est(**params):
    return SepCLRTransformer(**{**TINY, **params})


def _fit_then(est, X, y=None, *, sample_group=None, method="transform", X_new=None):
    """Fit (checking it returns self), then call ``method`` on ``X_new`` (or X)."""
    fitted = est.fit(X, y, sample_group=sample_group)
    assert fitted is est, "fit did not return self"
    X_new = X if X_new is None else X_new
    if method == "score":
        return est.score(X_new, y, sample_group=sample_group)
    return getattr(est, method)(X_new)


def _groups(n):
    return np.arange(n) % 2


def _rng(seed):
    return np.random.default_rng(seed)


# -- shapes --------------------------------------------------------------------
@st.composite
def _shapes(draw):
    ndim = draw(st.sampled_from([1, 2, 2, 3, 4]))
    n = draw(st.sampled_from([0, 1, 2, 3, 17]))
    if ndim == 1:
        shape = (n,)
    elif ndim == 2:
        shape = (n, draw(st.sampled_from([0, 1, 2, 5])))
    else:
        # A zero-size trailing dimension of an N-D array is a known bug
        # (test_known_bug "nd_zero_features").
        shape = (n, *draw(st.lists(st.integers(1, 3), min_size=ndim - 1, max_size=ndim - 1)))
    image_shape = None
    if draw(st.booleans()):
        if ndim == 4:
            image_shape = shape[1:]  # consistent; a mismatch is a known bug
        elif ndim == 2 and shape[1] > 0:
            f = shape[1]
            image_shape = draw(st.sampled_from([(1, 1, f), (f, 1, 1), (1, f, 1)]))
    return shape, image_shape


@FUZZ
@given(case=_shapes(), seed=st.integers(0, 3))
def test_shapes(case, seed):
    shape, image_shape = case
    X = _rng(seed).normal(size=shape)
    n = shape[0]
    if len(shape) == 1:
        error = DIM_KW
    elif n == 0:
        error = EMPTY_KW
    elif len(shape) == 2 and shape[1] == 0:
        error = ("0 feature",)
    elif n == 1:
        error = GROUP_KW
    else:
        error = None
    _run(
        "shapes (0/1 rows, 1 feature, 1-D, N-D)",
        lambda: _fit_then(_est(image_shape=image_shape), X, _groups(n)),
        error=error,
        n_rows=n,
        dtype=np.float64,
    )


# -- dtypes --------------------------------------------------------------------
_DTYPES = [
    "int8", "int64", "uint8", "uint16", "bool", "float16", "float32", "float64",
    "complex64", "complex128", "object", "str_numeric", "str_letters", "bytes_numeric",
]  # fmt: skip


def _as_dtype(values, kind):
    if kind == "str_numeric":
        return values.astype(str)
    if kind == "bytes_numeric":
        return values.astype("S8")
    if kind == "str_letters":
        return np.full(values.shape, "a")
    if kind == "object":
        return values.astype(object)
    return values.astype(kind)


@FUZZ
@given(
    kind=st.sampled_from(_DTYPES),
    layout=st.sampled_from(["tabular", "nchw", "image_shape"]),
    seed=st.integers(0, 3),
)
def test_dtypes(kind, layout, seed):
    shape = (8, 1, 2, 2) if layout == "nchw" else (8, 4)
    X = _as_dtype(_rng(seed).integers(0, 5, size=shape), kind)
    image_shape = (1, 2, 2) if layout == "image_shape" else None
    if kind.startswith("complex"):
        error = COMPLEX_KW
    elif kind == "str_letters":
        error = STRING_KW
    else:
        error = None
    if layout == "tabular":
        # Tabular data keep float32, anything else becomes float64.
        dtype = np.float32 if kind == "float32" else np.float64
    else:
        # Images keep float64, anything else becomes float32 (uint8 on the host).
        dtype = np.float64 if kind == "float64" else np.float32
    _run(
        "dtypes (int/bool/float16-64/uint8/object/str/complex)",
        lambda: _fit_then(_est(image_shape=image_shape), X, _groups(8)),
        error=error,
        n_rows=8,
        dtype=dtype,
    )


# -- NaN / inf -----------------------------------------------------------------
@FUZZ
@given(
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
    dtype=st.sampled_from(["float16", "float32", "float64", "object"]),
    layout=st.sampled_from(["tabular", "nchw", "image_shape", "dataframe"]),
    where=st.sampled_from(["fit", "target dataset", "transform", "score", "project"]),
    positions=st.lists(st.integers(0, 8 * 4 - 1), min_size=1, max_size=3, unique=True),
    seed=st.integers(0, 3),
)
def test_nan_inf(value, dtype, layout, where, positions, seed):
    shape = (8, 1, 2, 2) if layout == "nchw" else (8, 4)
    X = _rng(seed).normal(size=shape).astype(dtype)
    bad = X.copy()
    bad.flat[positions] = value
    if layout == "dataframe":
        X, bad = pd.DataFrame(X.astype(float)), pd.DataFrame(bad.astype(float))
    image_shape = (1, 2, 2) if layout == "image_shape" else None
    est = _est(image_shape=image_shape)
    if where == "fit":
        action = lambda: _fit_then(est, bad, _groups(8))  # noqa: E731
    elif where == "target dataset":
        action = lambda: _fit_then(est, X, bad)  # noqa: E731
    else:
        action = lambda: _fit_then(est, X, _groups(8), method=where, X_new=bad)  # noqa: E731
    _run("NaN/inf placements", action, error=NAN_KW)


# -- DataFrames ----------------------------------------------------------------
def _column(kind, n, rng):
    if kind == "float64":
        return rng.normal(size=n)
    if kind == "float32":
        return rng.normal(size=n).astype(np.float32)
    if kind == "int":
        return rng.integers(0, 5, size=n)
    if kind == "bool":
        return rng.integers(0, 2, size=n).astype(bool)
    if kind == "cat_num":
        return pd.Categorical(rng.integers(0, 3, size=n))
    if kind == "cat_str":
        return pd.Categorical(rng.choice(["x", "y", "z"], size=n))
    if kind == "Int64":
        return pd.array(rng.integers(0, 5, size=n), dtype="Int64")
    if kind == "Int64_NA":
        return pd.array([None, *rng.integers(0, 5, size=n - 1)], dtype="Int64")
    if kind == "cat_NaN":
        return pd.Categorical([np.nan, *rng.integers(0, 3, size=n - 1)])
    if kind == "obj_str":
        return np.array(["a", *rng.integers(0, 5, size=n - 1)], dtype=object)
    raise AssertionError(kind)


_COLUMN_ERRORS = {
    "cat_str": STRING_KW,
    "obj_str": STRING_KW,
    "Int64_NA": NAN_KW,
    "cat_NaN": NAN_KW,
}


@FUZZ
@given(
    kinds=st.lists(
        st.sampled_from(
            ["float64", "float32", "int", "bool", "cat_num", "cat_str", "Int64", "Int64_NA",
             "cat_NaN", "obj_str"]
        ),
        min_size=1,
        max_size=4,
    ),
    names=st.sampled_from(["str", "int", "mixed", "duplicated"]),
    two_datasets=st.booleans(),
    seed=st.integers(0, 3),
)
def test_dataframes(kinds, names, two_datasets, seed):
    n = 8
    rng = _rng(seed)
    df = pd.DataFrame({i: _column(k, n, rng) for i, k in enumerate(kinds)})
    if names == "str":
        df.columns = [f"c{i}" for i in range(len(kinds))]
    elif names == "mixed" and len(kinds) > 1:
        df.columns = ["c0", *range(1, len(kinds))]
    elif names == "duplicated" and len(kinds) > 1:
        df.columns = ["c0", "c0", *(f"c{i}" for i in range(2, len(kinds)))]
    error = set()
    if len(kinds) > 1 and names == "duplicated":
        error |= set(DUPLICATE_KW)
    if len(kinds) > 1 and names == "mixed":
        error |= set(NAME_TYPE_KW)
    for k in kinds:
        error |= set(_COLUMN_ERRORS.get(k, ()))
    if two_datasets:
        # The NA sits in row 0, so the background half holds it.
        action = lambda: _fit_then(_est(), df.iloc[:4], df.iloc[4:], X_new=df)  # noqa: E731
    else:
        action = lambda: _fit_then(_est(), df, _groups(n))  # noqa: E731
    float32 = all(k == "float32" for k in kinds)
    _run(
        "DataFrames (categorical, duplicated names, NA)",
        action,
        error=tuple(error) or None,
        n_rows=n,
        dtype=np.float32 if float32 else (np.float32, np.float64),
    )


# -- sparse --------------------------------------------------------------------
_SPARSE = ["csr", "csc", "coo", "lil", "dok", "bsr", "dia"]


@FUZZ
@given(
    fmt=st.sampled_from(_SPARSE),
    array_api=st.booleans(),
    where=st.sampled_from(
        ["fit", "background dataset", "target dataset", "y", "transform", "score"]
    ),
    seed=st.integers(0, 3),
)
def test_sparse(fmt, array_api, where, seed):
    X = _rng(seed).normal(size=(8, 4)) * (_rng(seed + 1).random((8, 4)) < 0.5)
    make = sparse.csr_array if array_api else sparse.csr_matrix
    Xs = make(X).asformat(fmt)
    est, y = _est(), _groups(8)
    if where == "fit":
        action = lambda: _fit_then(est, Xs, y)  # noqa: E731
    elif where == "background dataset":
        action = lambda: _fit_then(est, Xs, X)  # noqa: E731
    elif where == "target dataset":
        action = lambda: _fit_then(est, X, Xs)  # noqa: E731
    elif where == "y":
        action = lambda: _fit_then(est, X, make(y[:, None]).asformat(fmt))  # noqa: E731
    else:
        action = lambda: _fit_then(est, X, y, method=where, X_new=Xs)  # noqa: E731
    _run("scipy sparse", action, error=SPARSE_KW)


# -- group labels --------------------------------------------------------------
_POOLS = {
    "int": [0, 1, 2, -3],
    "str": ["a", "b", "ctrl", "z"],
    "bool": [True, False],
    "float": [0.0, 1.5, -2.0],
    "mixed": [0, 1, "a", True, 2.5, "b"],
}


def _container(labels, kind):
    if kind == "list":
        return list(labels)
    if kind == "object array":
        return np.array(labels, dtype=object)
    if kind == "array":
        return np.asarray(labels)
    if kind == "Series":
        return pd.Series(labels)
    raise AssertionError(kind)


def _is_missing(v):
    return v is None or (isinstance(v, float) and v != v)


@FUZZ
@given(
    pool=st.sampled_from(sorted(_POOLS)),
    data=st.data(),
    missing=st.sampled_from([None, None, None, "None", "nan", "np.nan"]),
    container=st.sampled_from(["list", "object array", "array", "Series"]),
    mode=st.sampled_from(["y", "sample_group", "sample_group + y"]),
)
def test_group_labels(pool, data, missing, container, mode):
    labels = data.draw(st.lists(st.sampled_from(_POOLS[pool]), min_size=1, max_size=9))
    if missing is not None:
        i = data.draw(st.integers(0, len(labels) - 1))
        labels[i] = {"None": None, "nan": float("nan"), "np.nan": np.nan}[missing]
    groups = _container(labels, container)
    as_numpy = np.asarray(groups)
    # Known bug: numpy turns a NaN beside strings into the string "nan"
    # (test_known_bug "labels_list_str_nan").
    assume(not (missing and as_numpy.dtype.kind == "U"))
    n = len(labels)
    X = _rng(n).normal(size=(n, 3))
    if any(_is_missing(v) for v in labels):
        error = MISSING_LABEL_KW
    elif as_numpy.dtype == object and len({isinstance(v, str) for v in labels}) > 1:
        error = LABEL_TYPE_KW
    elif len(set(as_numpy.tolist())) < 2:
        error = GROUP_KW
    else:
        error = None
    if mode == "y":
        action = lambda: _fit_then(_est(), X, groups)  # noqa: E731
    else:
        y = _rng(0).integers(0, 3, size=n) if mode == "sample_group + y" else None
        action = lambda: _fit_then(_est(), X, y, sample_group=groups)  # noqa: E731
    _run("group labels (types, None/NaN, single-sample groups)", action, error=error, n_rows=n)


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


# -- image_shape ---------------------------------------------------------------
@FUZZ
@given(
    n_features=st.integers(1, 12),
    random_shape=st.lists(st.integers(-1, 4), min_size=0, max_size=4).map(tuple),
    factor=st.booleans(),
    encoder=st.sampled_from(["mlp", "mlp", "cnn"]),
    transform_nd=st.booleans(),
    data=st.data(),
)
def test_image_shape(n_features, random_shape, factor, encoder, transform_nd, data):
    image_shape = random_shape
    if factor:  # half of the cases: (C, H, W) with C * H * W == n_features
        c = data.draw(st.sampled_from(_divisors(n_features)))
        h = data.draw(st.sampled_from(_divisors(n_features // c)))
        image_shape = (c, h, n_features // c // h)
    if len(image_shape) != 3 or min(image_shape) < 1:
        error = IMAGE_KW
    elif int(np.prod(image_shape)) != n_features:
        error = IMAGE_KW
    else:
        error = None
    X = _rng(n_features).normal(size=(6, n_features))
    X_new = X.reshape(6, *image_shape) if error is None and transform_nd else X
    _run(
        "image_shape mismatches",
        lambda: _fit_then(_est(image_shape=image_shape, encoder=encoder), X, _groups(6),
                          X_new=X_new),
        error=error,
        n_rows=6,
        dtype=np.float64,
    )


# -- feature counts between fit and transform -----------------------------------
_SAMPLE_SHAPES = [(1,), (2,), (3,), (4,), (1, 2, 2), (4, 1, 1), (2, 2)]


@FUZZ
@given(
    fit_shape=st.sampled_from(_SAMPLE_SHAPES),
    new_shape=st.sampled_from(_SAMPLE_SHAPES),
    method=st.sampled_from(["transform", "project", "score"]),
    dataframe=st.booleans(),
)
def test_feature_mismatch(fit_shape, new_shape, method, dataframe):
    rng = _rng(0)
    X = rng.normal(size=(6, *fit_shape))
    X_new = rng.normal(size=(6, *new_shape))
    if dataframe and len(fit_shape) == len(new_shape) == 1:
        X = pd.DataFrame(X, columns=[f"a{i}" for i in range(fit_shape[0])])
        X_new = pd.DataFrame(X_new, columns=[f"a{i}" for i in range(new_shape[0])])
    error = None if fit_shape == new_shape else FEATURE_KW
    _run(
        "features differ between fit and transform",
        lambda: _fit_then(_est(), X, _groups(6), method=method, X_new=X_new),
        error=error,
        n_rows=6,
        dtype=np.float64,
    )


# -- the two-dataset form --------------------------------------------------------
@FUZZ
@given(
    n_bg=st.integers(0, 4),
    n_tg=st.integers(0, 4),
    bg_shape=st.sampled_from(_SAMPLE_SHAPES),
    tg_shape=st.sampled_from(_SAMPLE_SHAPES),
    dataframes=st.booleans(),
)
def test_two_datasets(n_bg, n_tg, bg_shape, tg_shape, dataframes):
    # A (n, 1) target beside a wider background is a column of labels, by design.
    assume(not (tg_shape == (1,) and len(bg_shape) == 1 and bg_shape[0] > 1))
    rng = _rng(n_bg + 5 * n_tg)
    X_bg = rng.normal(size=(n_bg, *bg_shape))
    X_tg = rng.normal(size=(n_tg, *tg_shape))
    if dataframes and len(bg_shape) == len(tg_shape) == 1:
        X_bg = pd.DataFrame(X_bg, columns=[f"a{i}" for i in range(bg_shape[0])])
        X_tg = pd.DataFrame(X_tg, columns=[f"a{i}" for i in range(tg_shape[0])])
    error = set()
    if bg_shape != tg_shape:
        error |= set(FEATURE_KW)
    if n_bg + n_tg == 0:
        error |= set(EMPTY_KW)
    elif n_bg == 0 or n_tg == 0:
        error |= set(GROUP_KW)

    def action():
        est = _est()
        Z = est.fit_transform(X_bg, X_tg)
        assert est.background_label_ == 0
        _check_output(est.transform(X_bg), n_bg, np.float64)
        return Z

    _run(
        "two-dataset form (mismatched features, empty)",
        action,
        error=tuple(error) or None,
        n_rows=n_bg + n_tg,
        dtype=np.float64,
    )


# -- y / sample_group of the wrong length -----------------------------------------
@FUZZ
@given(
    n=st.integers(2, 8),
    m=st.integers(0, 10),
    mode=st.sampled_from(["y", "sample_group", "sample_group + y", "wrong y, right group"]),
    container=st.sampled_from(["list", "array", "Series", "column"]),
)
def test_label_length(n, m, mode, container):
    X = _rng(n).normal(size=(n, 3))

    def wrap(labels):
        if container == "column":
            return labels[:, None]
        return _container(labels, container)

    wrong, right = wrap(_groups(m)), wrap(_groups(n))
    if mode == "y":
        kwargs = dict(y=wrong)
    elif mode == "sample_group":
        kwargs = dict(sample_group=wrong)
    elif mode == "sample_group + y":
        kwargs = dict(y=right, sample_group=wrong)
    else:  # y is for a downstream model: SepCLR ignores it
        kwargs = dict(y=wrong, sample_group=right)
    error = GROUP_KW if m != n and mode != "wrong y, right group" else None
    _run(
        "y / sample_group of wrong length",
        lambda: _fit_then(_est(), X, kwargs.get("y"), sample_group=kwargs.get("sample_group")),
        error=error,
        n_rows=n,
        dtype=np.float64,
    )


# -- hand-picked edge cases --------------------------------------------------------
def _edge_cases():
    rng = _rng(0)
    X, y = rng.normal(size=(8, 3)), _groups(8)
    return {
        "single background sample": (lambda: _fit_then(_est(), X, np.r_[0, np.ones(7)]), None),
        "single target sample, batch_size=2": (
            lambda: _fit_then(_est(batch_size=2), X, np.r_[np.zeros(7), 1]),
            None,
        ),
        "one sample per group": (lambda: _fit_then(_est(), X[:2], [0, 1]), None),
        "early stopping, one sample per group": (
            lambda: _fit_then(_est(early_stopping=True), X[:3], [0, 1, 1]),
            ("early_stopping", "group"),
        ),
        "background_label absent": (
            lambda: _fit_then(_est(background_label="ctrl"), X, y),
            ("background_label",),
        ),
        "sample_group with two datasets": (
            lambda: _fit_then(_est(), X[:4], X[4:], sample_group=y[:4]),
            ("sample_group",),
        ),
        "y is None": (lambda: _fit_then(_est(), X), ("y",)),
        "1-D transform": (lambda: _fit_then(_est(), X, y, X_new=X[0]), DIM_KW),
        "0-row transform": (lambda: _fit_then(_est(), X, y, X_new=X[:0]), EMPTY_KW),
        "ragged nested list": (lambda: _fit_then(_est(), [[1.0, 2.0], [3.0]] * 4, y),
                               ("inhomogeneous", "sequence")),
        "cnn on tabular data": (lambda: _fit_then(_est(encoder="cnn"), X, y), ("image",)),
        "image_shape of 2 values": (
            lambda: _fit_then(_est(image_shape=(4, 4)), rng.normal(size=(8, 16)), y),
            IMAGE_KW,
        ),
        "DataFrame columns reordered in transform": (
            lambda: _fit_then(_est(), pd.DataFrame(X, columns=list("abc")), y,
                              X_new=pd.DataFrame(X, columns=list("cba"))),
            ("feature names",),
        ),
        "two DataFrames with different columns": (
            lambda: _fit_then(_est(), pd.DataFrame(X[:4], columns=list("abc")),
                              pd.DataFrame(X[4:], columns=list("abd"))),
            ("column",),
        ),
    }


@pytest.mark.parametrize("name", sorted(_edge_cases()))
def test_edge_case(name):
    action, error = _edge_cases()[name]
    n_rows = 2 if name == "one sample per group" else 8
    _run("hand-picked edge cases", action, error=error, n_rows=n_rows, dtype=np.float64)


# -- regressions: bugs this fuzzing found, each now a clear error or correct -------
def _regressions():
    rng = _rng(0)
    X, y = rng.normal(size=(8, 3)), _groups(8)
    huge = X * 1e39  # finite in float64, beyond float32 (the networks' precision)
    labels_nat = np.array(["NaT", "2020-01-01"] * 4, dtype="datetime64[D]")
    return {
        "fit_beyond_float32": (
            "was: finite float64 beyond float32 range crashes training "
            "(TrainingDivergedError) instead of a ValueError before training",
            lambda: _fit_then(_est(), huge, y),
            ("float32", "too large", "inf"),
        ),
        "transform_beyond_float32": (
            "was: transform of finite float64 beyond float32 range returns inf/NaN",
            lambda: _fit_then(_est(), X, y, X_new=huge),
            ("float32", "too large", "inf"),
        ),
        "score_beyond_float32": (
            "was: score of finite float64 beyond float32 range returns NaN",
            lambda: _fit_then(_est(), X, y, method="score", X_new=huge),
            ("float32", "too large", "inf"),
        ),
        "nd_zero_features": (
            "was: N-D X with a zero-size dimension (0 features) is accepted",
            lambda: _fit_then(_est(), np.zeros((8, 0, 2, 2)), y),
            ("0 feature",),
        ),
        "nd_image_shape_mismatch": (
            "was: image_shape is silently ignored when X is N-D and does not match",
            lambda: _fit_then(_est(image_shape=(3, 4, 4)), rng.normal(size=(8, 1, 4, 4)), y),
            IMAGE_KW,
        ),
        "image_shape_float": (
            "was: non-integer image_shape entries are truncated silently",
            lambda: _fit_then(_est(image_shape=(1.5, 4, 4)), rng.normal(size=(8, 16)), y),
            IMAGE_KW,
        ),
        "image_shape_nan": (
            "was: image_shape with NaN gives 'cannot convert float NaN to integer'",
            lambda: _fit_then(_est(image_shape=(np.nan, 4, 4)), rng.normal(size=(8, 16)), y),
            IMAGE_KW,
        ),
        "labels_list_str_nan": (
            "was: a NaN in a list of string labels becomes the label 'nan'",
            lambda: _fit_then(_est(), X, ["a", float("nan")] * 4),
            MISSING_LABEL_KW,
        ),
        "labels_nat": (
            "was: NaT group labels are taken as a group",
            lambda: _fit_then(_est(), X, labels_nat),
            MISSING_LABEL_KW + ("contain nat",),
        ),
        "labels_float32_nan_object": (
            "was: np.float32('nan') in object labels is not detected as missing",
            lambda: _fit_then(_est(), X, np.array([np.float32("nan"), 1] * 4, dtype=object)),
            MISSING_LABEL_KW,
        ),
        "labels_pd_NA_object": (
            "was: pd.NA in object labels reported as 'mix types'",
            lambda: _fit_then(_est(), X, np.array([pd.NA, 1] * 4, dtype=object)),
            MISSING_LABEL_KW,
        ),
        "labels_pd_string_NA": (
            "was: pandas string labels with NA reported as 'mix types'",
            lambda: _fit_then(_est(), X, pd.array(["a", None] * 4, dtype="string")),
            MISSING_LABEL_KW,
        ),
        "labels_decimal_nan": (
            "was: Decimal('NaN') labels crash with decimal.InvalidOperation",
            lambda: _fit_then(_est(), X, np.array([decimal.Decimal("NaN"), 1] * 4, dtype=object)),
            MISSING_LABEL_KW,
        ),
        "background_label_unhashable": (
            "was: unhashable background_label gives a bare 'unhashable type' TypeError",
            lambda: _fit_then(_est(background_label=[0]), X, y),
            ("background_label",),
        ),
        "sample_group_sparse": (
            "was: sparse sample_group reported as 'shape ()' instead of naming sparse",
            lambda: _fit_then(_est(), X, sample_group=sparse.csr_matrix(y)),
            SPARSE_KW,
        ),
        "two_datasets_background_label": (
            "was: background_label=1 swaps the groups of fit(X_background, X_target)",
            lambda: _check_background(_est(background_label=1).fit(X[:4], X[4:])),
            None,
        ),
        "two_datasets_empty_background": (
            "was: an empty background dataset is reported as 'background only'",
            lambda: _fit_then(_est(), X[:0], X[4:]),
            ("empty", "target only"),
        ),
    }


def _check_background(est):
    assert est.background_label_ == 0, f"background_label_={est.background_label_!r}"
    return est.transform(np.zeros((8, 3)))


@pytest.mark.parametrize("name", sorted(_regressions()))
def test_regression(name):
    _, action, error = _regressions()[name]
    _run("regressions", action, error=error, n_rows=8, dtype=np.float64)
