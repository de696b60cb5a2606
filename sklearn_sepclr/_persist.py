"""Weights-only files and periodic checkpoints of a SepCLR fit.

A file is a ``torch.save`` of plain data — parameters, fitted attributes,
state dicts and the history — that ``torch.load(weights_only=True)`` reads
without unpickling any code. It is the format of both
:meth:`SepCLRTransformer.save` and the checkpoints written during ``fit``.
"""

import os
import time
import uuid
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import Callback

#: Bumped whenever the file layout changes; a file with another format is
#: refused by ``load`` with a message naming both library versions.
FORMAT_VERSION = 1


def _plain(value):
    """Turn numpy scalars/arrays and tuples into what weights_only accepts."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (str, bool, Integral, Real, torch.Tensor)):
        return value
    raise TypeError(f"{type(value).__name__} is not plain data")


def _header(estimator):
    """Parameters and fitted attributes of an estimator, as plain data.

    Raises a TypeError naming the parameter when it holds code (a callable
    encoder or augmentation): such a model can only be pickled.
    """
    params = estimator.get_params(deep=False)
    params["callbacks"] = None  # training-time only, not part of the model
    for name, value in params.items():
        try:
            params[name] = _plain(value)
        except TypeError as exc:
            raise TypeError(
                f"save() stores weights and plain parameters only, but {name}="
                f"{value!r} is {exc}; use pickle or joblib for this model."
            ) from exc
    fitted = {
        name: _plain(getattr(estimator, name))
        for name in ("input_shape_", "n_features_in_", "feature_names_in_", "background_label_")
        if hasattr(estimator, name)
    }
    return {"params": params, "fitted": fitted}


def _write(path, header, net, library_version):
    augmentation = getattr(net.augmentation, "__dict__", {})
    blob = {
        "format_version": FORMAT_VERSION,
        "library_version": library_version,
        **header,
        "seed": int(net.seed),
        "module": net.module_.state_dict(),
        "optimizer": net.optimizer_.state_dict(),
        "augmentation": {k: v for k, v in augmentation.items() if isinstance(v, torch.Tensor)},
        "history": _plain([dict(epoch) for epoch in net.history]),
    }
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(blob, tmp)
    os.replace(tmp, path)  # a crash mid-write never leaves a truncated file


def _read(path, library_version):
    blob = torch.load(path, map_location="cpu", weights_only=True)
    found = blob.get("format_version") if isinstance(blob, dict) else None
    if found != FORMAT_VERSION:
        written_by = blob.get("library_version", "unknown") if isinstance(blob, dict) else "?"
        raise ValueError(
            f"{os.fspath(path)!r} was written by sklearn-sepclr {written_by} in file "
            f"format {found!r}; this is sklearn-sepclr {library_version}, which "
            f"reads format {FORMAT_VERSION} only. Load it with the version that "
            "wrote it and refit, or save it again from that version with pickle."
        )
    return blob


def _new_run_dir(root):
    """A fresh directory per fit, so parallel fits never share files."""
    name = f"sepclr-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path = os.path.join(os.fspath(root), name)
    os.makedirs(path)
    return path


class _PeriodicCheckpoint(Callback):
    """Write a weights-only file every ``interval`` epochs into ``dirname``."""

    def __init__(self, dirname, interval, header, library_version):
        self.dirname = dirname
        self.interval = interval
        self.header = header
        self.library_version = library_version

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch % self.interval == 0:
            path = os.path.join(self.dirname, f"epoch_{epoch:04d}.pt")
            _write(path, self.header, net, self.library_version)
