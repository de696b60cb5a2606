"""Data-parallel SepCLR training over several processes (one per GPU).

Launch with PyTorch's launcher, one process per GPU (or per CPU worker)::

    torchrun --nproc_per_node=2 examples/distributed_train.py
    torchrun --nproc_per_node=2 examples/distributed_train.py --device cpu --epochs 5

Every process runs this whole script on the whole dataset; ``distributed=True``
makes ``fit`` split each global batch of ``--batch-size`` samples over the
processes, all-gather the projections so that the loss is the global batch's,
and average gradients with DistributedDataParallel. Only rank 0 prints. Run
without ``torchrun`` (``python examples/distributed_train.py``) it trains in
one process, as ``distributed="auto"`` would.

Not named ``plot_*``: the documentation gallery does not run it.
"""

import argparse
import time

import torch

from sklearn_sepclr import SepCLRTransformer, stack_groups
from sklearn_sepclr._distributed import _is_main_process, _launched_by_torchrun
from sklearn_sepclr.datasets import make_contrastive_blobs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=4096, help="per group")
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=512, help="global batch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    data = make_contrastive_blobs(
        n_background=args.n_samples,
        n_target=args.n_samples,
        n_features=args.n_features,
        random_state=0,
    )
    X, y = stack_groups(data.X_background, data.X_target)
    est = SepCLRTransformer(
        n_common=16,
        n_salient=16,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        device=args.device,
        random_state=0,
        # True: torchrun's environment initialises the process group.
        distributed=True if _launched_by_torchrun() else False,
    )
    start = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - start
    world_size = torch.distributed.get_world_size() if est.distributed else 1
    if _is_main_process():
        losses = est.history_[:, "train_loss"]
        print(
            f"processes={world_size} device={est.device_} samples={len(X)} "
            f"epochs={args.epochs} global_batch={args.batch_size}"
        )
        print(f"train_loss per epoch: {[round(float(v), 4) for v in losses]}")
        print(f"fit: {seconds:.2f} s, {args.epochs * len(X) / seconds:.0f} samples/s")
        print("transform of 5 samples:", est.transform(X[:5]).shape)
    if est.distributed:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
