"""UCI Mice Protein Expression, split for contrastive analysis (cPCA's protocol)."""

import csv
import functools
import gzip
import io
from importlib import resources

import numpy as np
from sklearn.utils import Bunch, check_random_state

_DATA = resources.files(__package__) / "data"
_CSV = "mice_protein_expression.csv.gz"
_RST = "mice_protein.rst"


@functools.lru_cache(maxsize=1)
def _read_table():
    """The shipped CSV as (header, string array of rows); cached, never written."""
    with gzip.open(io.BytesIO((_DATA / _CSV).read_bytes()), "rt", encoding="utf-8") as file:
        header, *rows = csv.reader(file)
    return header, np.array(rows)


def _impute_column_means(X):
    """Replace each NaN with its column's mean (over every row of the file)."""
    means = np.nanmean(X, axis=0)
    missing = np.isnan(X)
    X[missing] = np.take(means, np.nonzero(missing)[1])
    return X


def load_mice_protein(*, shuffle=False, random_state=None, as_frame=False):
    """Load the Mice Protein Expression data split as cPCA's benchmark.

    Expression levels of 77 proteins in the cortex of mice (UCI Machine
    Learning Repository, Higuera, Gardiner and Cios, 2015, CC BY 4.0),
    split as in contrastive PCA (Abid et al., 2018): the target holds
    saline-injected mice trained in the shock-context condition, Control
    and Ts65Dn (Down syndrome model) genotypes; the background holds
    saline-injected Control mice trained in the context-shock condition.
    The genotype is the salient attribute. Missing values are replaced by
    the mean of their protein over the whole file. Read more in
    ``data.DESCR``.

    Parameters
    ----------
    shuffle : bool, default=False
        Whether to shuffle the rows of each group; by default they keep the
        file's order (grouped by mouse).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle; unused when ``shuffle=False``.
    as_frame : bool, default=False
        If True, ``X_background`` and ``X_target`` are pandas DataFrames
        whose columns are the protein names (needs pandas).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With keys ``X_background`` (135, 77) and ``X_target`` (270, 77),
        float64 without NaN; ``background_attributes = {}`` and
        ``target_attributes = {"genotype": labels}`` (int, 0 Control,
        1 Ts65Dn); ``common_attributes = []``, ``salient_attributes =
        ["genotype"]``; ``feature_names`` (list of the 77 protein names);
        ``background_mouse`` and ``target_mouse`` (str arrays: the mouse of
        each measurement, 15 per mouse, to split by mouse); ``DESCR``.

    Examples
    --------
    >>> from sklearn_sepclr.datasets import load_mice_protein
    >>> data = load_mice_protein()
    >>> data.X_background.shape, data.X_target.shape
    ((135, 77), (270, 77))
    >>> int(data.target_attributes["genotype"].sum())
    135
    """
    header, table = _read_table()
    column = {name: index for index, name in enumerate(header)}
    feature_names = header[column["DYRK1A_N"] : column["Genotype"]]
    values = table[:, column["DYRK1A_N"] : column["Genotype"]]
    X = _impute_column_means(np.where(values == "", "nan", values).astype(np.float64))
    mouse = np.char.partition(table[:, column["MouseID"]], "_")[:, 0]
    genotype = (table[:, column["Genotype"]] == "Ts65Dn").astype(np.int64)
    saline = table[:, column["Treatment"]] == "Saline"
    behavior = table[:, column["Behavior"]]
    target = np.flatnonzero(saline & (behavior == "S/C"))
    background = np.flatnonzero(saline & (behavior == "C/S") & (genotype == 0))
    if shuffle:
        rng = check_random_state(random_state)
        target, background = rng.permutation(target), rng.permutation(background)
    X_background, X_target = X[background], X[target]
    if as_frame:
        pd = _import_pandas()
        X_background = pd.DataFrame(X_background, columns=feature_names)
        X_target = pd.DataFrame(X_target, columns=feature_names)
    return Bunch(
        X_background=X_background,
        X_target=X_target,
        background_attributes={},
        target_attributes={"genotype": genotype[target]},
        common_attributes=[],
        salient_attributes=["genotype"],
        feature_names=feature_names,
        background_mouse=mouse[background],
        target_mouse=mouse[target],
        DESCR=(_DATA / _RST).read_text(encoding="utf-8"),
    )


def _import_pandas():
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("as_frame=True needs pandas: `pip install pandas`.") from exc
    return pandas
