"""Data-parallel training of SepCLR on :mod:`torch.distributed`.

SepCLR's uniformity and k-JEM terms compare every sample of a batch with
every other sample, so with several processes (one per GPU, launched by
``torchrun``) each process must see the projections of the *whole* global
batch. The pieces here do that on PyTorch's own engine:

* :func:`_shard_batches`: every process draws the same global batches (same
  seed) and keeps its own slice; each slice holds both groups, and the
  slices of a global batch together are exactly that batch;
* :func:`_gather_loss_inputs` (built on :func:`_gather_projections`):
  all-gathers the projections of both views (and the representations when
  the loss uses them) and the groups, with gradients
  flowing back to each process's own rows
  (:func:`torch.distributed.nn.functional.all_gather`), so every process
  evaluates the loss of the global batch;
* :func:`_wrap_ddp` / :func:`_unwrap_ddp`: wrap the module in
  :class:`~torch.nn.parallel.DistributedDataParallel` (BatchNorm becomes
  :class:`~torch.nn.SyncBatchNorm` on GPUs) for training, and give back a
  plain, picklable module afterwards.

Gradient scale. Every process computes the same global loss ``L``. The
backward of ``all_gather`` *sums* over processes the gradient each one sends
to a slice, so process ``r`` receives ``W * dL/dZ_r`` for its rows ``Z_r``
(``W`` processes) and its parameter gradient is ``W`` times the share of
``dL/dtheta`` that flows through its own rows. DDP *averages* parameter
gradients over processes: ``(1/W) * sum_r W * g_r = sum_r g_r = dL/dtheta``.
The local loss therefore needs **no** rescaling to reproduce the gradient of
one process on the global batch (``tests/test_distributed.py`` checks it).
"""

import inspect
import os
import warnings

import torch
import torch.distributed as dist
from torch import nn

__all__ = []


# -- process group ------------------------------------------------------------
def _is_distributed():
    """True when a default process group with more than one process exists."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _rank_and_world_size():
    """``(rank, world_size)`` of this process; ``(0, 1)`` without a group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _is_main_process():
    """True on rank 0, and in a plain single-process run.

    Use it to log, print or write checkpoints once rather than once per
    process.
    """
    return _rank_and_world_size()[0] == 0


def _launched_by_torchrun():
    """True when the environment variables ``torchrun`` sets are present."""
    return all(name in os.environ for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR"))


def _resolve_distributed(distributed):
    """Whether a fit trains data-parallel, from the ``distributed`` parameter.

    ``False``: never. ``"auto"``: when a process group of more than one
    process is initialised (by the user, or by a launcher that did it).
    ``True``: always; the default process group is initialised from the
    ``torchrun`` environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``...)
    when it is not yet, with NCCL for CUDA tensors and Gloo for CPU tensors.
    A group of one process trains as a single process.
    """
    if distributed is False:
        return False
    if distributed == "auto":
        return _is_distributed()
    if not (dist.is_available() and dist.is_initialized()):
        if not dist.is_available() or not _launched_by_torchrun():
            raise ValueError(
                "distributed=True needs torch.distributed: launch the script with "
                "`torchrun --nproc_per_node=N script.py`, or call "
                "torch.distributed.init_process_group() before fit. Use "
                "distributed='auto' to train data-parallel only when launched so."
            )
        # No backend named: PyTorch sets up NCCL for CUDA and Gloo for CPU.
        dist.init_process_group()
    return _is_distributed()


def _broadcast_object(obj, src=0):
    """Rank ``src``'s value of a picklable object, on every process.

    Used for the seed of a fit, so that ``random_state=None`` still gives
    every process the same weights, batches and validation split.
    """
    if not _is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def _distributed_device(device):
    """One GPU per process: ``cuda`` without an index becomes ``cuda:LOCAL_RANK``.

    ``torchrun`` sets ``LOCAL_RANK`` (the rank on this machine). An explicit
    index (``cuda:1``) and CPU devices are kept.
    """
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        index = int(os.environ.get("LOCAL_RANK", torch.cuda.current_device()))
        device = torch.device("cuda", index)
        torch.cuda.set_device(device)
    return device


# -- batches --------------------------------------------------------------------
def _shard_batches(batches, is_target, rank, world_size):
    """This process's slice of each global batch; every slice holds both groups.

    Parameters
    ----------
    batches : list of torch.Tensor
        Global index batches, the same on every process (drawn from the same
        seed, e.g. by :func:`~sklearn_sepclr._net._balanced_batches`).
    is_target : torch.Tensor of bool, shape (n_samples,)
        Group of every sample.
    rank, world_size : int
        This process and the number of processes.

    Returns
    -------
    list of torch.Tensor
        One index tensor per global batch: the background part of the batch
        cut into ``world_size`` nearly equal pieces, and the target part
        likewise; process ``rank`` takes piece ``rank`` of each. The pieces
        of all processes together are the global batch, so ``world_size``
        processes see exactly the samples one process would. A group with
        fewer than ``world_size`` members in a batch is repeated up to
        ``world_size`` (as :func:`~sklearn_sepclr._net._balanced_batches`
        repeats a small group) so no slice misses a group; a group absent
        from the batch stays absent.
    """
    if world_size == 1:
        return list(batches)
    shards = []
    for batch in batches:
        groups = is_target[batch.to(is_target.device)].to(batch.device)
        pieces = []
        for members in (batch[~groups], batch[groups]):
            if 0 < len(members) < world_size:
                members = members[torch.arange(world_size) % len(members)]
            pieces.append(torch.tensor_split(members, world_size)[rank])
        shards.append(torch.cat(pieces))
    return shards


# -- gathering --------------------------------------------------------------------
def _gather_projections(t):
    """All-gather a ``(n_local, d)`` tensor from every process, with gradients.

    Returns the rows of all processes, rank 0's first, as one
    ``(sum of n_local, d)`` tensor. The backward pass sends each process the
    gradient of its own rows (summed over processes, see the module
    docstring). Processes may hold different numbers of rows (the last
    batch of an epoch rarely splits evenly): rows are padded to the largest
    count for the collective and the padding is dropped. Without an
    initialised process group of more than one process, ``t`` is returned
    unchanged.
    """
    if not _is_distributed():
        return t
    from torch.distributed.nn.functional import all_gather

    world_size = dist.get_world_size()
    n_local = torch.tensor([t.shape[0]], device=t.device, dtype=torch.int64)
    counts = [torch.empty_like(n_local) for _ in range(world_size)]
    dist.all_gather(counts, n_local)
    counts = torch.cat(counts).tolist()
    n_max = max(counts)
    if t.shape[0] < n_max:
        padding = t.new_zeros((n_max - t.shape[0], *t.shape[1:]))
        t = torch.cat([t, padding])
    with warnings.catch_warnings():
        # PyTorch 2.13 deprecates it in favour of a private module; it is the
        # public autograd-aware gather that also runs on Gloo (CPU).
        warnings.filterwarnings("ignore", "torch.distributed.nn.functional.all_gather")
        parts = all_gather(t)
    return torch.cat([part[:count] for part, count in zip(parts, counts, strict=True)])


def _gather_loss_inputs(parts, is_target):
    """The loss inputs of the global batch, from every process's local rows.

    The tensors of ``parts`` (the four projections, and the four
    representations when the loss uses them), all of one dtype, and the
    group vector are packed into one tensor, so a step costs a single
    all-gather (plus one of the row counts). Returns ``(gathered parts,
    is_target)`` in the same order; without a process group of more than
    one process, unchanged.
    """
    if not _is_distributed():
        return tuple(parts), is_target
    widths = [p.shape[1] for p in parts]
    flags = is_target.to(device=parts[0].device, dtype=parts[0].dtype)[:, None]
    packed = _gather_projections(torch.cat([*parts, flags], dim=1))
    *gathered, flags = packed.split([*widths, 1], dim=1)
    return tuple(gathered), flags[:, 0] > 0.5


# -- the module ------------------------------------------------------------------
class _Projector(nn.Module):
    """A module whose ``forward`` is ``module.encode_and_project``.

    DDP synchronises gradients only for calls that go through its own
    ``forward``; SepCLR's training step needs the representations and the
    projections.
    """

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module.encode_and_project(x)


def _sync_batchnorm_supported(device):
    # SyncBatchNorm synchronises statistics only for accelerator tensors;
    # on the CPU it refuses to run in training mode (PyTorch 2.x).
    return torch.device(device).type != "cpu"


def _to_sync_batchnorm(module):
    """Replace every BatchNorm layer of ``module`` by SyncBatchNorm, in place.

    Returns the replaced layers' original classes by qualified name, for
    :func:`_from_sync_batchnorm`.
    """
    originals = {}
    for name, child in list(module.named_modules()):
        if (
            name  # the root itself is a container, never a BatchNorm layer
            and isinstance(child, nn.modules.batchnorm._BatchNorm)
            and not isinstance(child, nn.SyncBatchNorm)
        ):
            originals[name] = type(child)
    for name in originals:
        parent_name, _, attr = name.rpartition(".")
        parent = module.get_submodule(parent_name)
        setattr(parent, attr, nn.SyncBatchNorm.convert_sync_batchnorm(getattr(parent, attr)))
    return originals


def _from_sync_batchnorm(module, originals):
    """Undo :func:`_to_sync_batchnorm`: same weights and running statistics."""
    for name, cls in originals.items():
        parent_name, _, attr = name.rpartition(".")
        parent = module.get_submodule(parent_name)
        sync = getattr(parent, attr)
        plain = cls(
            sync.num_features,
            eps=sync.eps,
            momentum=sync.momentum,
            affine=sync.affine,
            track_running_stats=sync.track_running_stats,
        )
        tensors = [*sync.parameters(), *sync.buffers()]
        if tensors:
            plain.to(tensors[0].device)
        plain.load_state_dict(sync.state_dict())
        plain.train(sync.training)
        setattr(parent, attr, plain)


def _wrap_ddp(module, device, *, sync_batchnorm="auto"):
    """Wrap ``module`` for data-parallel training; its parameters stay shared.

    Parameters
    ----------
    module : _SepCLRModule
        Trained in place: DDP does not copy parameters, so ``module`` holds
        the trained weights after training (rank 0's initial weights and
        buffers are broadcast to every process at wrapping).
    device : torch.device
        The device of this process.
    sync_batchnorm : "auto" or bool, default="auto"
        Convert BatchNorm to :class:`torch.nn.SyncBatchNorm`, so that the
        statistics are those of the global batch (needed for the same result
        as one process on the global batch, and advised for contrastive
        learning). "auto": on accelerators; PyTorch's SyncBatchNorm does not
        run on CPU tensors, where each process normalises by the statistics
        of its own slice and the running statistics follow rank 0.

    Returns
    -------
    DistributedDataParallel
        Call it as ``ddp(x)`` to get ``module.encode_and_project(x)``.
    """
    device = torch.device(device)
    if sync_batchnorm == "auto":
        sync_batchnorm = _sync_batchnorm_supported(device)
    originals = _to_sync_batchnorm(module) if sync_batchnorm else {}
    # SyncBatchNorm keeps the running statistics equal everywhere; plain
    # BatchNorm gets rank 0's at each step. (Buffers are synchronised at
    # wrapping either way.) PyTorch 2.13 renamed the option.
    ddp_parameters = inspect.signature(nn.parallel.DistributedDataParallel).parameters
    buffers = "forward_sync_buffers" if "forward_sync_buffers" in ddp_parameters else (
        "broadcast_buffers"
    )
    ddp = nn.parallel.DistributedDataParallel(
        _Projector(module),
        device_ids=[device.index] if device.type == "cuda" else None,
        **{buffers: not sync_batchnorm},
    )
    ddp._sepclr_batchnorm_classes = originals
    return ddp


def _unwrap_ddp(ddp):
    """The plain module inside :func:`_wrap_ddp`'s wrapper, BatchNorm restored.

    Buffers (BatchNorm running statistics) are first made equal to rank 0's,
    so every process ends with the same model, which pickles and runs like
    one trained in a single process.
    """
    module = ddp.module.module
    _broadcast_buffers(module)
    _from_sync_batchnorm(module, getattr(ddp, "_sepclr_batchnorm_classes", {}))
    return module


def _broadcast_buffers(module, src=0):
    """Copy rank ``src``'s buffers (BatchNorm running statistics) everywhere.

    Makes evaluation (validation loss, early stopping) identical on every
    process, so they all take the same decisions. A no-op without a process
    group.
    """
    if not _is_distributed():
        return
    for buffer in module.buffers():
        dist.broadcast(buffer.data, src=src)


def _views_seed_offset(rank):
    """Offset of each process's augmentation stream: distinct draws per process."""
    return 0 if rank == 0 else 104729 * rank  # a large prime, away from the epoch offsets

