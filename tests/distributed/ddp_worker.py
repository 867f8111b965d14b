"""Run under ``mpiexec -n 2``: checks for gradfit.distributed (see test_distributed_ddp.py).

Modes:
  equivalence [bucket_mb]  100 SGD steps with DDP on 2 ranks == 100 steps on one process
                           over the same global batches; prints "OK <max diff>" on rank 0.
  no_sync                  two micro-batches under no_sync + one synced == the summed gradient
  hang                     rank 1 never joins the all_reduce: rank 0 must abort after the timeout
  kill                     rank 1 is killed (SIGKILL) before the all_reduce
"""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np

import gradfit as gf
import gradfit.distributed as dist
from gradfit.data import ArrayDataset, DataLoader
from gradfit.nn.parallel import DistributedDataParallel


def make_model() -> gf.nn.Module:
    gf.manual_seed(1234 + dist.get_rank())  # different on each rank: DDP must broadcast
    return gf.nn.Sequential(
        gf.nn.Linear(6, 16), gf.nn.Tanh(), gf.nn.Linear(16, 16), gf.nn.Tanh(), gf.nn.Linear(16, 3)
    )


def data() -> ArrayDataset:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((70, 6)).astype(np.float32)  # 70: not a multiple of 2 * 8
    y = rng.integers(0, 3, 70)
    return ArrayDataset(x, y)


def equivalence(bucket_mb: float, as_view: bool = False) -> None:
    ds = data()
    ws, rank = dist.get_world_size(), dist.get_rank()
    model = DistributedDataParallel(
        make_model(), bucket_cap_mb=bucket_mb, gradient_as_bucket_view=as_view
    )
    if bucket_mb < 0.01:
        assert len(model._buckets) > 1, "expected several buckets"
    initial = [p._data.copy() for p in model.parameters()]
    ref = make_model()
    ref.load_state_dict({k[len("module.") :]: v for k, v in model.state_dict().items()})
    opt = gf.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = gf.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    samplers = [dist.DistributedSampler(ds, ws, r, seed=7) for r in range(ws)]
    mine = DataLoader(ds, batch_size=8, sampler=samplers[rank])
    loss_fn = gf.nn.CrossEntropyLoss()
    steps, epoch = 0, 0
    while steps < 100:
        for s in samplers:
            s.set_epoch(epoch)
        per_rank = [np.split(s.indices(), range(8, len(s), 8)) for s in samplers]
        for b, (x, y) in enumerate(mine):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            views = [  # the parameter reached last gets the engine's copy of its hook's result
                np.shares_memory(p.grad._data, b.out)
                for b in model._buckets
                for p in b.params
                if p is not model._last
            ]
            if views != [as_view] * len(views):
                raise SystemExit(f"gradient_as_bucket_view={as_view}, but .grad views: {views}")
            opt.step()
            idx = np.concatenate([per_rank[r][b] for r in range(ws)])  # the global batch
            ref_opt.zero_grad()
            xs, ys = ds[idx]
            loss_fn(ref(gf.tensor(xs)), gf.tensor(ys)).backward()
            ref_opt.step()
            steps += 1
            if steps == 100:
                break
        epoch += 1
    diff = max(
        float(np.abs(p._data - q._data).max())
        for p, q in zip(model.module.parameters(), ref.parameters(), strict=True)
    )
    mine_w = np.concatenate([p._data.ravel() for p in model.parameters()])
    gathered = [np.empty_like(mine_w) for _ in range(ws)]
    dist.all_gather(gathered, mine_w)
    spread = max(float(np.abs(g - gathered[0]).max()) for g in gathered)
    moved = float(np.abs(mine_w - np.concatenate([p.ravel() for p in initial])).max())
    if rank == 0:
        print(f"OK diff {diff:.3g} spread {spread:.3g} moved {moved:.3g}")
    if diff > 1e-4 or spread != 0.0 or moved < 1e-2:
        raise SystemExit(f"rank {rank}: diff {diff} spread {spread} moved {moved}")


def no_sync() -> None:
    ws, rank = dist.get_world_size(), dist.get_rank()
    model = DistributedDataParallel(make_model())
    ref = make_model()
    ref.load_state_dict({k[len("module.") :]: v for k, v in model.state_dict().items()})
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((ws, 3, 4, 6)).astype(np.float32)  # rank, micro-batch, rows
    for m in range(2):
        with model.no_sync():
            model(gf.tensor(xs[rank, m])).pow(2).sum().backward()
    model(gf.tensor(xs[rank, 2])).pow(2).sum().backward()
    for r in range(ws):
        for m in range(3):
            ref(gf.tensor(xs[r, m])).pow(2).sum().backward()
    diff = max(
        float(np.abs(p.grad._data - q.grad._data / ws).max())
        for p, q in zip(model.module.parameters(), ref.parameters(), strict=True)
    )
    if rank == 0:
        print(f"OK diff {diff:.3g}")
    if diff > 1e-4:
        raise SystemExit(f"rank {rank}: no_sync gradients differ by {diff}")


def trainer_ctrl_c() -> None:
    """gf.train.Trainer with DDP and DistributedSync; rank 1 alone gets a Ctrl-C."""
    from gradfit.train import Callback, Trainer

    rank = dist.get_rank()
    ds = data()
    model = DistributedDataParallel(make_model())
    sampler = dist.DistributedSampler(ds, seed=3)
    loader = DataLoader(ds, batch_size=4, sampler=sampler)

    class Interrupt(Callback):
        def on_batch_end(self, trainer, batch, loss, size):
            if rank == 1 and trainer.epoch == 2 and batch == 3:
                os.kill(os.getpid(), signal.SIGINT)

    opt = gf.optim.SGD(model.parameters(), lr=0.05)
    trainer = Trainer(
        model, gf.nn.CrossEntropyLoss(), opt, callbacks=[dist.DistributedSync(), Interrupt()]
    )
    try:
        trainer.fit(loader, epochs=5)
        raise SystemExit(f"rank {rank}: fit ended without the interruption")
    except KeyboardInterrupt:
        pass
    stopped = trainer.interrupted["batches"]
    both = [None, None]
    dist.all_gather_object(both, [trainer.epoch, stopped, trainer.history["train_loss"]])
    if both[0] != both[1]:
        raise SystemExit(f"rank {rank}: ranks disagree: {both}")
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        raise SystemExit(f"rank {rank}: Ctrl-C handler not restored")
    if rank == 0:
        print(f"OK stopped in epoch {trainer.epoch} after batch {stopped} on both ranks")


def trainer_until_ctrl_c() -> None:
    """Train until mpiexec forwards a Ctrl-C to every rank; report where each stopped."""
    from gradfit.train import Callback, Trainer

    rank = dist.get_rank()
    ds = data()
    model = DistributedDataParallel(make_model())
    loader = DataLoader(ds, batch_size=4, sampler=dist.DistributedSampler(ds))

    class Slow(Callback):
        def on_batch_end(self, trainer, batch, loss, size):
            if trainer.global_step == 3 and rank == 0:
                print("started", flush=True)
            time.sleep(0.01 * (rank + 1))  # the ranks drift apart

    opt = gf.optim.SGD(model.parameters(), lr=0.05)
    trainer = Trainer(
        model, gf.nn.CrossEntropyLoss(), opt, callbacks=[dist.DistributedSync(), Slow()]
    )
    try:
        trainer.fit(loader, epochs=10_000)
    except KeyboardInterrupt:
        print(f"rank {rank} stopped at step {trainer.global_step}", flush=True)
        dist.barrier()  # both ranks are still in step
        sys.exit(130)


def trainer_nan() -> None:
    """Rank 1 alone gets a NaN loss at step 5: every rank stops at once, none hangs."""
    from gradfit.train import NaNGuard, Trainer, TrainingDiverged

    rank = dist.get_rank()
    ds = data()

    class PoisonOnRank1(gf.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = make_model()
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            out = self.net(x)
            return out * float("nan") if rank == 1 and self.calls == 5 else out

    model = DistributedDataParallel(PoisonOnRank1())
    loader = DataLoader(ds, batch_size=4, sampler=dist.DistributedSampler(ds))
    opt = gf.optim.SGD(model.parameters(), lr=0.05)
    trainer = Trainer(
        model, gf.nn.CrossEntropyLoss(), opt, callbacks=[dist.DistributedSync(), NaNGuard()]
    )
    try:
        trainer.fit(loader, epochs=3)
    except TrainingDiverged as e:
        print(f"rank {rank} stopped at step {trainer.global_step}: {e}", flush=True)
        dist.barrier()
        return
    raise SystemExit(f"rank {rank}: no TrainingDiverged")


def failure(kind: str) -> None:
    t = gf.ones(4)
    dist.all_reduce(t)  # everyone alive here
    if dist.get_rank() == 1:
        if kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(120)  # hang
    dist.all_reduce(t)
    print("not reached", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    dist.init_process_group("mpi", timeout=3.0 if mode in ("hang", "kill") else 60.0)
    if mode == "equivalence":
        equivalence(float(sys.argv[2]) if len(sys.argv) > 2 else 25.0, "view" in sys.argv[3:])
    elif mode == "no_sync":
        no_sync()
    elif mode == "trainer_until_ctrl_c":
        trainer_until_ctrl_c()
    elif mode == "trainer_nan":
        trainer_nan()
    elif mode == "trainer_ctrl_c":
        trainer_ctrl_c()
    else:
        failure(mode)
    dist.destroy_process_group()
