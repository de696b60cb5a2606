"""The skorch net that trains SepCLR: batches, views and the training step.

The public :class:`~sklearn_sepclr.SepCLRTransformer` builds one
:class:`_SepCLRNet` per fit (its ``net_``). Each step of skorch's loop is
overridden in a small method, so a subclass can change one thing at a time:

* :meth:`_SepCLRNet.get_iterator` yields group-balanced batches, already on
  the training device (no per-sample ``Dataset.__getitem__`` calls);
* :meth:`_SepCLRNet.make_views` draws the two augmented views;
* :meth:`_SepCLRNet.compute_loss` runs both views through each encoder in one
  pass and evaluates :func:`~sklearn_sepclr.losses.sepclr_loss`;
* :meth:`_SepCLRNet.train_step_single` and :meth:`validation_step` return
  every loss term and the gradient norm as one tensor on the device;
  :meth:`_SepCLRNet.run_single_epoch` copies them to the host once per
  epoch, records them in the history and stops on a non-finite value.
"""

import copy
import math
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, PassthroughScoring
from torch import nn

from ._augment import _mix_with_background
from ._distributed import (
    _broadcast_buffers,
    _gather_loss_inputs,
    _rank_and_world_size,
    _shard_batches,
    _unwrap_ddp,
    _views_seed_offset,
    _wrap_ddp,
)
from .losses import TERM_NAMES, sepclr_loss

# Offsets that give each random stream of a fit its own seed.
_SEED_BATCHES, _SEED_VIEWS, _SEED_EVAL_BATCHES, _SEED_EVAL_VIEWS = range(4)


class TrainingDivergedError(FloatingPointError):
    """Raised when a SepCLR loss term or the gradient becomes NaN or infinite.

    The message names the term (or the gradient norm), the epoch and the
    precision. The values are checked at the end of each epoch (checking
    every batch would make the host wait for the device at every step). A
    fit that raises it leaves the estimator as it was before: unfitted after
    a fresh fit, with its previous model after a ``warm_start`` fit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sepclr import SepCLRTransformer, TrainingDivergedError
    >>> X = np.random.RandomState(0).normal(size=(8, 3))
    >>> est = SepCLRTransformer(max_epochs=1, augmentation=lambda x, g: x * np.nan)
    >>> try:
    ...     est.fit(X, [0, 1] * 4)
    ... except TrainingDivergedError as exc:
    ...     print("diverged:", "common_alignment" in str(exc))
    diverged: True
    """


class _SepCLRCriterion(nn.Module):
    """The SepCLR objective as a module, so skorch can set its weights."""

    #: Settings added after the first release of the criterion, with the
    #: values that reproduce the loss of a criterion pickled before them.
    _ADDED_SETTINGS = {
        "representation_jem_weight": 0.0,
        "representation_jem_encoder": "both",
        "decorrelation_weight": 0.0,
        "decorrelation_encoder": "common",
        "background_spread_weight": 0.0,
    }

    def __init__(
        self,
        temperature=0.5,
        uniformity_weight=2.0,
        salient_weight=1000.0,
        background_weight=1000.0,
        jem_weight=10.0,
        salient_uniformity="per_background",
        representation_jem_weight=0.0,
        representation_jem_encoder="both",
        decorrelation_weight=0.0,
        decorrelation_encoder="common",
        background_spread_weight=0.0,
    ):
        super().__init__()
        self.temperature = temperature
        self.uniformity_weight = uniformity_weight
        self.salient_weight = salient_weight
        self.background_weight = background_weight
        self.jem_weight = jem_weight
        self.salient_uniformity = salient_uniformity
        self.representation_jem_weight = representation_jem_weight
        self.representation_jem_encoder = representation_jem_encoder
        self.decorrelation_weight = decorrelation_weight
        self.decorrelation_encoder = decorrelation_encoder
        self.background_spread_weight = background_spread_weight

    def forward(self, common1, common2, salient1, salient2, is_target, representations=None):
        return sepclr_loss(
            common1,
            common2,
            salient1,
            salient2,
            is_target,
            temperature=self.temperature,
            uniformity_weight=self.uniformity_weight,
            salient_weight=self.salient_weight,
            background_weight=self.background_weight,
            jem_weight=self.jem_weight,
            salient_uniformity=self.salient_uniformity,
            representations=representations,
            representation_jem_weight=self.representation_jem_weight,
            representation_jem_encoder=self.representation_jem_encoder,
            decorrelation_weight=self.decorrelation_weight,
            decorrelation_encoder=self.decorrelation_encoder,
            background_spread_weight=self.background_spread_weight,
        )

    def __setstate__(self, state):
        # A criterion pickled before a setting existed gets the value that
        # keeps its loss.
        super().__setstate__({**self._ADDED_SETTINGS, **state})

    @property
    def uses_representations(self):
        """Whether the loss reads the encoder outputs (``J_r``, ``D`` or ``V``
        is on)."""
        return bool(
            self.representation_jem_weight
            or self.decorrelation_weight
            or self.background_spread_weight
        )


class _GroupDataset(torch.utils.data.Dataset):
    """Samples (a tensor on any device) and, for training, their groups.

    Integer tensors (uint8 images) stay integer here and become float on
    the training device, one batch at a time (see :func:`_to_model_input`).
    """

    def __init__(self, X, is_target=None):
        self.X = X
        self.is_target = is_target

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):  # pragma: no cover - the iterator never calls it
        return self.X[i], None if self.is_target is None else self.is_target[i]

    def subset(self, index):
        index = torch.as_tensor(index)
        is_target = None if self.is_target is None else self.is_target[index]
        return _GroupDataset(self.X[index.to(self.X.device)], is_target)


def _group_split(dataset, fraction, generator):
    """Split off a validation set holding both groups in their proportion."""
    valid = []
    for mask in (~dataset.is_target, dataset.is_target):
        members = torch.nonzero(mask).ravel()
        members = members[torch.randperm(len(members), generator=generator)]
        n_valid = min(max(1, round(fraction * len(members))), len(members) - 1)
        valid.append(members[:n_valid])
    valid = torch.cat(valid)
    train = torch.ones(len(dataset), dtype=torch.bool)
    train[valid] = False
    return dataset.subset(torch.nonzero(train).ravel()), dataset.subset(valid)


class _GroupSplit:
    """skorch ``train_split``: a stratified split by group, seeded."""

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, dataset, y=None, **fit_params):
        generator = torch.Generator().manual_seed(self.seed)
        return _group_split(dataset, self.fraction, generator)


def _balanced_batches(is_target, batch_size, generator):
    """Index batches that each hold both groups, in their proportion.

    Each group is shuffled and cut into the same number of nearly equal
    chunks, one per batch, so no batch is much smaller than the others and
    every batch has at least one background and one target sample (a group
    smaller than the number of batches is repeated). With fewer samples than
    ``batch_size`` there is a single batch of all samples.
    """
    n_batches = max(1, math.ceil(len(is_target) / batch_size))
    chunks = []
    for mask in (~is_target, is_target):
        members = torch.nonzero(mask).ravel()
        members = members[torch.randperm(len(members), generator=generator)]
        if 0 < len(members) < n_batches:
            members = members[torch.arange(n_batches) % len(members)]
        chunks.append(torch.tensor_split(members, n_batches))
    return [torch.cat(pair) for pair in zip(*chunks, strict=True)]


def _to_model_input(x, device, non_blocking):
    """Move a batch to the training device and make it float32.

    uint8 images become floats in [0, 1] on the device, so the host keeps
    one byte per pixel.
    """
    x = x.to(device, non_blocking=non_blocking)
    if x.dtype == torch.uint8:
        return x.float().div_(255.0)
    return x.float()


class _BatchIterator:
    """Re-iterable batches of a :class:`_GroupDataset` for skorch.

    With groups, batches are group-balanced and drawn from ``seed``: an int
    gives the same batches at every pass (validation, scoring), a callable is
    asked for the seed at the start of each pass (training: one seed per
    epoch, so a run resumed from a checkpoint draws what an uninterrupted
    run draws). Without groups (``transform``), batches are consecutive
    slices. ``shard=(rank, world_size)``: this process's slice of each
    global batch (data-parallel training).
    """

    def __init__(self, dataset, batch_size, device, seed, shard=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.seed = seed
        self.shard = shard

    def _batch_indices(self):
        if self.dataset.is_target is None:
            return torch.arange(len(self.dataset)).split(self.batch_size)
        seed = self.seed() if callable(self.seed) else self.seed
        generator = torch.Generator().manual_seed(seed)
        batches = _balanced_batches(self.dataset.is_target, self.batch_size, generator)
        if self.shard is not None:
            batches = _shard_batches(batches, self.dataset.is_target, *self.shard)
        return batches

    def __len__(self):
        return max(1, math.ceil(len(self.dataset) / self.batch_size))

    def __iter__(self):
        X, is_target = self.dataset.X, self.dataset.is_target
        pin = self.device.type == "cuda" and X.device.type == "cpu"
        for index in self._batch_indices():
            xb = X[index.to(X.device)]
            if pin:
                # Page-locked memory lets the copy overlap with compute.
                xb = xb.pin_memory()
            xb = _to_model_input(xb, self.device, non_blocking=pin)
            yb = None if is_target is None else is_target[index].to(self.device)
            yield xb, yb


class _SepCLRNet(NeuralNet):
    """skorch net training a :class:`~sklearn_sepclr._modules._SepCLRModule`.

    Extra parameters beside skorch's: ``augmentation`` (a callable
    ``augment(x, generator)``), ``background_mixing`` (the largest weight
    of the background blended into each view, 0 for none), ``seed`` (root
    of every random stream of the fit), ``precision`` ("32" or "bf16"),
    ``max_grad_norm`` (clip the gradient norm, or None),
    ``compile_options`` (None, or keyword arguments of
    :func:`torch.compile` for the training projection) and ``distributed``
    (train data-parallel over the default process group of
    :mod:`torch.distributed`, see :mod:`sklearn_sepclr._distributed`).
    """

    def __init__(
        self,
        *args,
        augmentation=None,
        background_mixing=0.0,
        seed=0,
        precision="32",
        max_grad_norm=None,
        compile_options=None,
        distributed=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.augmentation = augmentation
        self.background_mixing = background_mixing
        self.seed = seed
        self.precision = precision
        self.max_grad_norm = max_grad_norm
        self.compile_options = compile_options
        self.distributed = distributed
        self._ddp_wrapper = None

    # -- set-up -----------------------------------------------------------
    def get_default_callbacks(self):
        # Record each loss term per epoch (batch-size weighted mean), for
        # training and, when there is a validation split, for validation.
        terms = [
            (f"{prefix}_{name}", PassthroughScoring(
                name=f"{prefix}_{name}", lower_is_better=None, on_train=prefix == "train"))
            for prefix in ("train", "valid")
            for name in TERM_NAMES
        ]
        gradient = PassthroughScoring(
            name="train_gradient_norm", lower_is_better=None, on_train=True
        )
        return [
            *super().get_default_callbacks(),
            *terms,
            ("train_gradient_norm", gradient),
        ]

    def get_dataset(self, X, y=None):
        if isinstance(X, _GroupDataset):
            return X
        return _GroupDataset(torch.as_tensor(X), None if y is None else torch.as_tensor(y))

    def get_iterator(self, dataset, training=False):
        if training:
            seed = self._epoch_seed
        else:
            seed = self.seed + _SEED_EVAL_BATCHES
        # Data-parallel: every process draws the same global batches and
        # keeps its slice; validation and scoring see all samples.
        shard = _rank_and_world_size() if training and self._ddp() is not None else None
        return _BatchIterator(dataset, self.batch_size, self.device, seed, shard=shard)

    def _epoch_seed(self, offset=_SEED_BATCHES):
        # The history holds the current epoch from on_epoch_begin on.
        return self.seed + offset + 7919 * len(self.history)

    def _views_generator(self, seed):
        return torch.Generator(device=self.device).manual_seed(seed)

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        # A stream per epoch: a warm-started or resumed fit continues with
        # the views an uninterrupted fit would draw.
        offset = 0
        if self._ddp() is not None:  # each process draws its own views
            offset = _views_seed_offset(_rank_and_world_size()[0])
        self.train_views_ = self._views_generator(self._epoch_seed(_SEED_VIEWS) + offset)

    def _ddp(self):
        # getattr: nets pickled before data-parallel training existed.
        return getattr(self, "_ddp_wrapper", None)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        if not self.distributed:
            return super().partial_fit(X, y, classes, **fit_params)
        if not self.initialized_:
            self.initialize()
        # skorch lets only initialize() set module attributes; this one is
        # transient (None outside training, never pickled).
        object.__setattr__(self, "_ddp_wrapper", _wrap_ddp(self.module_, self.device))
        try:
            return super().partial_fit(X, y, classes, **fit_params)
        finally:
            # A plain module again (BatchNorm, not SyncBatchNorm), equal on
            # every process: the fitted estimator pickles as usual.
            _unwrap_ddp(self._ddp_wrapper)
            self._ddp_wrapper = None

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        if training and self._ddp() is not None:
            # The logged loss is the global batch's: weigh it by that size,
            # so every process logs the same epoch means.
            self.history.record_batch("train_batch_size", self.global_batch_size_)

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self._snapshot()

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        self._snapshot()

    def _snapshot(self):
        """Keep the weights and optimizer state of the last completed epoch.

        A KeyboardInterrupt mid-epoch then leaves a model at a clean epoch
        boundary instead of a half-trained epoch.
        """
        self.last_epoch_ = {
            "epochs": len(self.history),
            "module": {k: v.detach().clone() for k, v in self.module_.state_dict().items()},
            "optimizer": copy.deepcopy(self.optimizer_.state_dict()),
        }

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        try:
            return super().fit_loop(X, y, epochs, **fit_params)
        except KeyboardInterrupt:
            if self._early_stopped():
                raise  # skorch's EarlyStopping stops training this way
            snapshot = self.last_epoch_
            self.module_.load_state_dict(snapshot["module"])
            self.optimizer_.load_state_dict(snapshot["optimizer"])
            del self.history[snapshot["epochs"]:]
            warnings.warn(
                "Training was interrupted (KeyboardInterrupt); the model is kept "
                f"at its last completed epoch ({snapshot['epochs']}).",
                UserWarning,
                stacklevel=2,
            )
            return self

    def _early_stopped(self):
        return any(
            isinstance(cb, EarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience
            for _, cb in self.callbacks_
        )

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if not training:
            # Validation sees the same views every epoch, so its loss is
            # comparable across epochs (early stopping relies on this).
            self.eval_views_ = self._views_generator(self.seed + _SEED_EVAL_VIEWS)
            if self._ddp() is not None:
                # Rank 0's BatchNorm running statistics everywhere: the same
                # validation loss, hence early-stopping decision, everywhere.
                _broadcast_buffers(self.module_)
        if iterator is None:
            return
        # skorch's loop reads each batch's loss with .item(), which makes the
        # host wait for the device at every step. Here each step's values stay
        # on the device until the epoch ends, so on a GPU the host queues the
        # next batches while the device computes.
        pending = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            pending.append((self.history[-1]["batches"][-1], step["values"]))
            self.history.record_batch(f"{prefix}_batch_size", len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        self.history.record(f"{prefix}_batch_count", len(pending))
        self._record_epoch(prefix, pending)

    # -- the training step, one overridable piece at a time ---------------
    def make_views(self, x, is_target, generator):
        """Two augmented views of the batch, stacked as ``[view1; view2]``.

        With ``background_mixing`` above 0, each view is then blended with
        the same view of a random background of the batch
        (``_augment._mix_with_background``).
        """
        views = []
        for _ in range(2):
            view = self.augmentation(x, generator)
            if self.background_mixing:
                view = _mix_with_background(view, is_target, self.background_mixing, generator)
            views.append(view)
        return torch.cat(views)

    def compute_loss(self, x, is_target, generator):
        """SepCLR loss of one batch and its unweighted terms.

        Both views go through each encoder in a single pass: BatchNorm
        statistics are then those of the 2n stacked samples, as in SimCLR's
        reference implementation, and the convolutions run on one large
        batch instead of two half-size ones.
        """
        views = self.make_views(x, is_target, generator)
        if views.dim() == 4:
            # The image encoders are channels-last (faster convolutions).
            views = views.contiguous(memory_format=torch.channels_last)
        autocast = torch.autocast(
            device_type=torch.device(self.device).type,
            dtype=torch.bfloat16,
            enabled=self.precision == "bf16",
        )
        with autocast:
            representations, projections = self._encode_and_project(views)
        # Projections (c1, c2, s1, s2), then, when the loss reads them, the
        # representations in the same order.
        outputs = projections
        if self.criterion_.uses_representations:
            outputs = projections + representations
        parts = [half for t in outputs for half in t.float().chunk(2)]
        if self._ddp() is not None and self.module_.training:
            # The loss of the global batch (uniformity and k-JEM compare all
            # pairs). No rescaling: the gather's backward sums over
            # processes and DDP averages (see _distributed.py).
            parts, is_target = _gather_loss_inputs(parts, is_target)
            self.global_batch_size_ = len(is_target)
        return self.criterion_(*parts[:4], is_target, representations=parts[4:] or None)

    def _encode_and_project(self, views):
        if self._ddp() is not None and self.module_.training:
            # DDP synchronises gradients only through its own forward
            # (compile_options is not applied in data-parallel training).
            return self._ddp_wrapper(views)
        if self.compile_options is None:
            return self.module_.encode_and_project(views)
        if getattr(self, "compiled_project_", None) is None:
            # Compiled lazily and never pickled: module_ stays a plain
            # nn.Module, so a compiled fit pickles like any other.
            self.compiled_project_ = torch.compile(
                self.module_.encode_and_project, **self.compile_options
            )
        return self.compiled_project_(views)

    def _gradient_norm(self):
        """Total gradient norm, clipped to ``max_grad_norm`` when set."""
        parameters = [p for p in self.module_.parameters() if p.grad is not None]
        if self.max_grad_norm is not None:
            return nn.utils.clip_grad_norm_(parameters, self.max_grad_norm)
        # One fused multi-tensor kernel per device and dtype on CUDA (the
        # per-parameter loop launches one kernel per tensor: ~130 for
        # ResNet-18 encoders), the same arithmetic on the CPU.
        norms = torch._foreach_norm([p.grad for p in parameters])
        return torch.linalg.vector_norm(torch.stack(norms))

    def _record_epoch(self, prefix, pending):
        """Record the values of one pass in its batches' history entries.

        ``pending`` holds, per batch, its history entry and the ``(names,
        values)`` that its step returned, the values stacked in one tensor;
        one ``tolist`` moves them all to the host. If any is not finite,
        :class:`TrainingDivergedError` names the first faulty value (the
        estimator then discards this net).
        """
        if not pending:
            return
        names = pending[0][1][0]
        table = torch.stack([values for _, (_, values) in pending]).tolist()
        for numbers in table:
            bad = [n for n, v in zip(names, numbers, strict=True) if not math.isfinite(v)]
            if bad:
                self._diverged(prefix, names, numbers, bad)
        for (entry, _), numbers in zip(pending, table, strict=True):
            entry.update({f"{prefix}_{n}": v for n, v in zip(names, numbers, strict=True)})

    def _diverged(self, prefix, names, numbers, bad):
        name = next((n for n in bad if n not in ("loss", "gradient_norm")), bad[0])
        what = {"loss": "total loss", "gradient_norm": "gradient norm"}.get(
            name, f"loss term {name!r}"
        )
        raise TrainingDivergedError(
            f"SepCLR training diverged at epoch {len(self.history)}: the {what} became "
            f"{numbers[names.index(name)]} ({prefix} batch, precision={self.precision!r}). "
            "Lower lr or the term weights, set max_grad_norm, or check the input "
            "scale (standardise tabular features)."
        )

    @staticmethod
    def _step(values):
        """A step's result for skorch: the loss, and every value (loss, terms,
        gradient norm) stacked on the device for :meth:`_record_epoch`."""
        stacked = torch.stack([v.detach().float() for v in values.values()])
        return {"loss": values["loss"].detach(), "y_pred": None,
                "values": (list(values), stacked)}

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        x, is_target = batch
        total, terms = self.compute_loss(x, is_target, self.train_views_)
        total.backward()
        return self._step({"loss": total, **terms, "gradient_norm": self._gradient_norm()})

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        x, is_target = batch
        with torch.no_grad():
            total, terms = self.compute_loss(x, is_target, self.eval_views_)
        return self._step({"loss": total, **terms})

    def evaluation_step(self, batch, training=False):
        self.check_is_fitted()
        x, _ = batch
        with torch.set_grad_enabled(training):
            self._set_training(training)
            return self.module_(x)

    def projection_step(self, batch):
        """Projection-head outputs ``(normalised p_c, z_s)`` of a batch."""
        x, _ = batch
        self._set_training(False)
        with torch.no_grad():
            common, salient = self.module_.project(x)
        return nn.functional.normalize(common, dim=1), salient

    def evaluate_loss(self, dataset):
        """Mean SepCLR loss on a grouped dataset, in evaluation mode.

        Uses fixed batches and views, so the same data give the same value.
        """
        self.eval_views_ = self._views_generator(self.seed + _SEED_EVAL_VIEWS)
        iterator = self.get_iterator(dataset, training=False)
        totals, weights = [], []
        self._set_training(False)
        with torch.no_grad():
            for x, is_target in iterator:
                total, _ = self.compute_loss(x, is_target, self.eval_views_)
                totals.append(total.float())
                weights.append(len(x))
        return float(np.average(torch.stack(totals).cpu().numpy(), weights=weights))

    # -- persistence -------------------------------------------------------
    def __getstate__(self):
        # Generators and compiled functions cannot be pickled (they are made
        # again when needed); the epoch snapshot only serves an interrupt.
        state = super().__getstate__()
        for name in ("train_views_", "eval_views_", "compiled_project_", "last_epoch_"):
            state.pop(name, None)
        state["_ddp_wrapper"] = None
        return state
