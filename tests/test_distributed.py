"""Data-parallel training (torch.distributed) and distributed model selection (Dask).

The equivalence tests start 2 processes on this machine with the Gloo backend
(CPU) and check that one data-parallel step on a global batch of 2 x b
samples gives the same loss and the same parameter update as one process on
the same 2 x b samples with the same augmentation draws.
"""

import os
import pickle
import socket
from datetime import timedelta

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from sklearn_sepclr import SepCLRTransformer, stack_groups
from sklearn_sepclr._distributed import (
    _gather_loss_inputs,
    _gather_projections,
    _is_main_process,
    _resolve_distributed,
    _shard_batches,
    _unwrap_ddp,
    _wrap_ddp,
)
from sklearn_sepclr._modules import _build_encoder, _SepCLRModule
from sklearn_sepclr._net import _balanced_batches
from sklearn_sepclr.losses import sepclr_loss

from .conftest import TINY

gloo = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="torch.distributed with the Gloo backend is not available in this build",
)

#: A process group never waits longer than this for a peer.
GROUP_TIMEOUT_S = 30
#: A test never waits longer than this for its processes.
JOIN_TIMEOUT_S = 50
#: pytest's limit for a test that starts processes. The first such test also
#: starts the fork server, which imports torch and this package: on a 2-core
#: machine busy with other work that alone took more than a minute.
TEST_TIMEOUT_S = 300


# -- running functions on a group of local processes ---------------------------------
def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, fn, out_dir, kwargs):
    torch.set_num_threads(1)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world_size,
        timeout=timedelta(seconds=GROUP_TIMEOUT_S),
    )
    try:
        result = fn(rank, world_size, **kwargs)
        with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as f:
            pickle.dump(result, f)
    finally:
        dist.destroy_process_group()


def _start_method():
    """``"forkserver"`` where available and safe, else ``"spawn"``.

    A fork server that has imported this module once starts each process as
    a fork of a clean, single-threaded server (fast, and safe, unlike forking
    this multi-threaded pytest process) instead of re-importing torch and the
    package (spawn). On a machine with a CUDA device the forked children
    failed (seen on an H100 under pytest-xdist): the CUDA check that Adam's
    ``step`` makes even for CPU parameters raised "CUDA error:
    initialization error", the error of a child forked after CUDA was
    initialised. There each process is spawned.
    """
    if "forkserver" not in mp.get_all_start_methods() or torch.cuda.is_available():
        return "spawn"
    return "forkserver"


def _context():
    method = _start_method()
    ctx = mp.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload([__name__])
    return ctx


def _run_group(fn, tmp_path, world_size=2, **kwargs):
    """Run ``fn(rank, world_size, **kwargs)`` in ``world_size`` processes.

    Returns the results by rank. Never hangs: processes still running after
    ``JOIN_TIMEOUT_S`` are killed and the test fails.
    """
    ctx = _context()
    port = _free_port()
    procs = [
        ctx.Process(target=_worker, args=(rank, world_size, port, fn, str(tmp_path), kwargs))
        for rank in range(world_size)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(JOIN_TIMEOUT_S)
    alive = [p for p in procs if p.is_alive()]
    for p in alive:
        p.kill()
        p.join()
    assert not alive, f"distributed processes did not finish within {JOIN_TIMEOUT_S} s"
    codes = [p.exitcode for p in procs]
    assert codes == [0] * world_size, f"process exit codes {codes}"
    results = []
    for rank in range(world_size):
        with open(tmp_path / f"rank{rank}.pkl", "rb") as f:
            results.append(pickle.load(f))
    return results


# -- the data and model of the equivalence test --------------------------------------
N_BACKGROUND, N_TARGET, N_FEATURES, BATCH = 17, 23, 6, 20


def _data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N_BACKGROUND + N_TARGET, N_FEATURES, generator=g)
    is_target = torch.arange(len(X)) >= N_BACKGROUND
    # Augmentation draws fixed per sample: the same in both set-ups.
    noise = 0.3 * torch.randn(2, *X.shape, generator=g)
    # Global batches of 2 x b = 20 samples, from the estimator's sampler; the
    # groups split 8/9 and 12/11 over the two batches, so the two processes
    # hold slices of different sizes (the gather pads them).
    batches = _balanced_batches(is_target, BATCH, torch.Generator().manual_seed(1))
    return X, is_target, noise, batches


def _without_batchnorm(module):
    """Replace BatchNorm by identity: per-process statistics on the CPU (no
    SyncBatchNorm there) would otherwise differ from those of the global batch."""
    for name, child in list(module.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, nn.Identity())
        else:
            _without_batchnorm(child)
    return module


def _model():
    torch.manual_seed(0)
    module = _SepCLRModule(
        _build_encoder("mlp", (N_FEATURES,), 3, (16,)),
        _build_encoder("mlp", (N_FEATURES,), 2, (16,)),
        3,
        2,
    )
    return _without_batchnorm(module)


def _loss(encode_and_project, x, noise, is_target):
    views = torch.cat([x + noise[0], x + noise[1]])
    (r_c, r_s), (common, salient) = encode_and_project(views)
    # Projections, then representations: (c1, c2, s1, s2) of each.
    parts = [half for t in (common, salient, r_c, r_s) for half in t.chunk(2)]
    parts, is_target = _gather_loss_inputs(parts, is_target)
    return sepclr_loss(
        *parts[:4],
        is_target,
        salient_weight=1.0,
        background_weight=10.0,
        representations=parts[4:],
        representation_jem_weight=1.0,
    )


def _train_steps(rank, world_size):
    """Two Adam steps, one per global batch; data-parallel when world_size > 1."""
    X, is_target, noise, batches = _data()
    module = _model()
    if world_size > 1:
        project = _wrap_ddp(module, "cpu")
        batches = _shard_batches(batches, is_target, rank, world_size)
    else:
        project = module.encode_and_project
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    losses, terms, grads = [], [], []
    for index in batches:
        optimizer.zero_grad()
        total, parts = _loss(project, X[index], noise[:, index], is_target[index])
        total.backward()
        losses.append(total.item())
        terms.append({k: v.item() for k, v in parts.items()})
        grads.append({k: p.grad.clone() for k, p in module.named_parameters()})
        optimizer.step()
    if world_size > 1:
        module = _unwrap_ddp(project)
    return {
        "losses": losses,
        "terms": terms,
        "grads": grads,
        "params": {k: v.detach().clone() for k, v in module.state_dict().items()},
        "batches": [b.tolist() for b in batches],
    }


@pytest.fixture
def Xy(blobs):
    return stack_groups(blobs.X_background, blobs.X_target)


# -- unit tests, no process group ----------------------------------------------------
def _groups(n_background, n_target):
    return torch.cat([torch.zeros(n_background), torch.ones(n_target)]).bool()


@pytest.mark.parametrize("world_size", [2, 3, 4])
@pytest.mark.parametrize("n_background, n_target, batch_size", [(17, 23, 20), (90, 30, 16)])
def test_shards_partition_each_global_batch_and_hold_both_groups(
    world_size, n_background, n_target, batch_size
):
    is_target = _groups(n_background, n_target)
    batches = _balanced_batches(is_target, batch_size, torch.Generator().manual_seed(0))
    shards = [_shard_batches(batches, is_target, r, world_size) for r in range(world_size)]
    for b, batch in enumerate(batches):
        pieces = [shards[r][b] for r in range(world_size)]
        together = torch.cat(pieces)
        if min(is_target[batch].sum(), (~is_target[batch]).sum()) >= world_size:
            # Together the slices are exactly the global batch, each sample once.
            assert sorted(together.tolist()) == sorted(batch.tolist())
        else:
            # A group with fewer members than processes is repeated.
            assert set(together.tolist()) == set(batch.tolist())
        for piece in pieces:
            assert is_target[piece].any() and not is_target[piece].all()
            # Nearly equal slices: each group differs by at most one sample.
            assert len(piece) - min(len(p) for p in pieces) <= 2


def test_a_group_smaller_than_the_world_is_repeated_in_every_slice():
    is_target = _groups(2, 30)
    (batch,) = _balanced_batches(is_target, 64, torch.Generator().manual_seed(0))
    shards = [_shard_batches([batch], is_target, r, 4)[0] for r in range(4)]
    for piece in shards:
        assert (~is_target[piece]).sum() == 1 and is_target[piece].sum() >= 7
    assert set(torch.cat(shards).tolist()) == set(batch.tolist())


def test_one_process_changes_nothing():
    is_target = _groups(5, 7)
    batches = _balanced_batches(is_target, 4, torch.Generator().manual_seed(0))
    assert all(
        torch.equal(a, b)
        for a, b in zip(_shard_batches(batches, is_target, 0, 1), batches, strict=True)
    )
    t = torch.randn(3, 2)
    assert _gather_projections(t) is t
    parts, is_target = (t, t, t, t), torch.tensor([True, False, True])
    assert _gather_loss_inputs(parts, is_target) == (parts, is_target)
    assert _is_main_process()
    assert _resolve_distributed(False) is False
    assert _resolve_distributed("auto") is False


def test_distributed_true_without_a_launcher_says_how_to_launch(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="torchrun"):
        _resolve_distributed(True)


# -- equivalence with one process ------------------------------------------------------
@gloo
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_data_parallel_step_equals_one_process_on_the_global_batch(tmp_path):
    reference = _train_steps(0, 1)
    results = _run_group(_train_steps, tmp_path, world_size=2)
    # The two slices of each global batch are the single process's batch.
    for b, batch in enumerate(reference["batches"]):
        assert sorted(results[0]["batches"][b] + results[1]["batches"][b]) == sorted(batch)
        assert results[0]["batches"][b] and results[1]["batches"][b]
    assert len(results[0]["batches"][1]) != len(results[1]["batches"][1])  # uneven slices
    for result in results:
        # Same global loss and terms on each process as on one process ...
        np.testing.assert_allclose(result["losses"], reference["losses"], rtol=1e-5)
        for got, want in zip(result["terms"], reference["terms"], strict=True):
            for name in want:
                np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-6)
        # ... the same gradients after DDP's averaging (no loss rescaling) ...
        for got, want in zip(result["grads"], reference["grads"], strict=True):
            for name in want:
                torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-6)
        # ... and the same parameters after the Adam updates.
        for name, want in reference["params"].items():
            torch.testing.assert_close(result["params"][name], want, rtol=1e-4, atol=1e-6)


def _gather_uneven(rank, world_size):
    t = torch.full((rank + 1, 2), float(rank), requires_grad=True)
    gathered = _gather_projections(t)
    # Every process computes the same function of the gathered rows.
    weights = torch.arange(1.0, len(gathered) + 1)[:, None]
    (weights * gathered).sum().backward()
    return {"gathered": gathered.detach(), "grad": t.grad}


@gloo
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_gather_pads_uneven_slices_and_routes_gradients_to_their_owner(tmp_path):
    results = _run_group(_gather_uneven, tmp_path, world_size=2)
    expected = torch.tensor([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    for result in results:
        torch.testing.assert_close(result["gathered"], expected)
    # Gradient of rank r's rows: the weights of those rows, summed over the
    # 2 processes (each computed the loss): 2 * weight.
    torch.testing.assert_close(results[0]["grad"], torch.full((1, 2), 2.0))
    torch.testing.assert_close(results[1]["grad"], torch.tensor([[4.0, 4.0], [6.0, 6.0]]))


# -- the estimator trained data-parallel ------------------------------------------------


def _fit_estimator(rank, world_size, X, y):
    est = SepCLRTransformer(
        **{**TINY, "random_state": None},  # rank 0's seed is broadcast: still one model
        early_stopping=True,  # validation on every process takes the same decisions
        validation_fraction=0.2,
        distributed=True,
    ).fit(X, y)
    Z = est.transform(X)
    return {
        "loss": list(est.history_[:, "train_loss"]),
        "params": {k: v.clone() for k, v in est.net_.module_.state_dict().items()},
        "Z": Z,
        "pickled": pickle.dumps(est),
        "main": _is_main_process(),
    }


@gloo
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_estimator_trains_data_parallel_and_ends_as_a_plain_model(tmp_path, Xy):
    X, y = Xy
    results = _run_group(_fit_estimator, tmp_path, world_size=2, X=X, y=y)
    # Every process logged the same global-batch losses and ends with the same model.
    assert results[0]["loss"] == pytest.approx(results[1]["loss"])
    for name, value in results[0]["params"].items():
        torch.testing.assert_close(results[1]["params"][name], value)
    np.testing.assert_allclose(results[0]["Z"], results[1]["Z"], rtol=1e-5, atol=1e-6)
    assert [r["main"] for r in results] == [True, False]
    # The fitted estimator is an ordinary one: it unpickles and transforms here.
    est = pickle.loads(results[0]["pickled"])
    modules = list(est.net_.module_.modules())
    assert not any(isinstance(m, (nn.SyncBatchNorm, nn.parallel.DistributedDataParallel))
                   for m in modules)
    np.testing.assert_allclose(est.transform(X), results[0]["Z"], rtol=1e-5, atol=1e-6)


def test_estimator_distributed_auto_without_a_group_is_single_process(Xy, tiny):
    X, y = Xy
    a = SepCLRTransformer(**tiny).fit(X, y).transform(X)
    b = SepCLRTransformer(**tiny, distributed="auto").fit(X, y).transform(X)
    np.testing.assert_array_equal(a, b)


# -- distributed model selection with Dask -------------------------------------------
@pytest.mark.timeout(2 * TEST_TIMEOUT_S)
def test_grid_search_runs_on_a_local_dask_cluster(Xy, tiny):
    distributed = pytest.importorskip("distributed")
    import dask
    import joblib
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    grid = {"jem_weight": [0.0, 10.0]}
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(SepCLRTransformer(**tiny), grid, cv=cv, n_jobs=2)
    # Worker processes (not threads: each fit seeds torch's global generator
    # inside fork_rng, which threads of one process would share), started as
    # forks of a clean server rather than by re-importing everything.
    method = _start_method()
    with (
        dask.config.set({"distributed.worker.multiprocessing-method": method}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        search.fit(*Xy)
    # Nearly the same scores as a search in this process: each fit is seeded,
    # but a worker's BLAS may run with another thread count than this test
    # process, and Adam turns last-bit differences of near-zero gradients
    # into lr-sized steps, so two epochs can differ by about a percent.
    local = GridSearchCV(SepCLRTransformer(**tiny), grid, cv=cv).fit(*Xy)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    np.testing.assert_allclose(scores, local.cv_results_["mean_test_score"], rtol=0.05)
