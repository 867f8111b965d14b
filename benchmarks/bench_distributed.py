"""Data-parallel training: one MLP epoch on 1 process vs 2 processes, gradfit beside torch DDP.

    python benchmarks/bench_distributed.py                 # the default problem
    python benchmarks/bench_distributed.py --samples 4096  # shorter
    python benchmarks/bench_distributed.py --model cnn     # the README's LeNet instead

The problem (as in the main suite): random float32 inputs (784 features), 10 classes, an
MLP 784-512-256-10 (``--model mlp``, 535k parameters: much to all-reduce per FLOP) or the
README's LeNet-style CNN on 1x28x28 images (``--model cnn``, 44k parameters: little to
all-reduce per FLOP), SGD with momentum, a global batch of ``--batch`` samples per step.
Every process uses 1 thread (``OMP/OPENBLAS/MKL_NUM_THREADS=1``, ``torch.set_num_threads(1)``).

- gradfit, 1 process: the plain model and a shuffled ``DataLoader``.
- gradfit, 2 processes: ``mpiexec -n 2``, ``DistributedDataParallel`` and a
  ``DistributedSampler`` (each rank takes half of every global batch).
- torch, 1 process, and torch DDP with the gloo backend on 2 processes, both indexing tensors
  by the sampler's indices (no per-sample DataLoader).

Each configuration runs in fresh processes: one warm-up epoch, then ``--epochs`` timed epochs
(rank 0's wall time per epoch, median). The configurations alternate over ``--rounds`` rounds
and the table gives the medians, the speed-up of 2 processes over 1, and the load average
(the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

SIZES = (784, 512, 256, 10)
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ROOT = Path(__file__).resolve().parent.parent


def _data(n: int) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], n).astype(np.int64)
    return x, y


def _build(nn: object, model: str) -> object:
    """The benchmark's model from ``nn`` (``gradfit.nn`` or ``torch.nn``: the same code)."""
    if model == "cnn":  # the README's LeNet-style CNN
        return nn.Sequential(
            nn.Conv2d(1, 6, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(256, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(nn.Linear(SIZES[i], SIZES[i + 1]))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def gradfit_worker(args: argparse.Namespace) -> None:
    import gradfit as gf
    import gradfit.distributed as dist
    from gradfit.data import ArrayDataset, DataLoader

    distributed = "PMI_RANK" in os.environ or "OMPI_COMM_WORLD_RANK" in os.environ
    x, y = _data(args.samples)
    if args.model == "cnn":
        x = x.reshape(-1, 1, 28, 28)
    ds = ArrayDataset(x, y)
    gf.manual_seed(0)
    model = _build(gf.nn, args.model)
    if distributed:
        dist.init_process_group("mpi")
        world, rank = dist.get_world_size(), dist.get_rank()
        model = gf.nn.parallel.DistributedDataParallel(model, gradient_as_bucket_view=args.view)
        sampler = dist.DistributedSampler(ds, world, rank, seed=0)
        loader = DataLoader(ds, batch_size=args.batch // world, sampler=sampler)
    else:
        world, rank, sampler = 1, 0, None
        loader = DataLoader(ds, batch_size=args.batch, shuffle=True)
    opt = gf.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = gf.nn.CrossEntropyLoss()
    times = []
    for epoch in range(args.epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
            dist.barrier()
        t0 = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        if sampler is not None:
            dist.barrier()
        times.append(time.perf_counter() - t0)
    if rank == 0:
        print(json.dumps({"epoch_s": statistics.median(times[1:]), "loss": float(loss.item())}))
    if distributed:
        dist.destroy_process_group()


def torch_worker(args: argparse.Namespace) -> None:
    import torch
    import torch.distributed as tdist

    torch.set_num_threads(1)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    x, y = _data(args.samples)
    if args.model == "cnn":
        x = x.reshape(-1, 1, 28, 28)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    torch.manual_seed(0)
    model: torch.nn.Module = _build(torch.nn, args.model)
    sampler = None
    if world > 1:
        tdist.init_process_group("gloo", rank=rank, world_size=world)
        model = torch.nn.parallel.DistributedDataParallel(model)
        sampler = torch.utils.data.DistributedSampler(range(len(x)), world, rank, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    bs = args.batch // world
    times = []
    for epoch in range(args.epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
            idx = torch.tensor(list(sampler))
            tdist.barrier()
        else:
            idx = torch.randperm(len(x))
        t0 = time.perf_counter()
        for s in range(0, len(idx), bs):
            b = idx[s : s + bs]
            opt.zero_grad()
            loss = loss_fn(model(x[b]), y[b])
            loss.backward()
            opt.step()
        if sampler is not None:
            tdist.barrier()
        times.append(time.perf_counter() - t0)
    if rank == 0:
        print(json.dumps({"epoch_s": statistics.median(times[1:]), "loss": float(loss.item())}))
    if world > 1:
        tdist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(kind: str, procs: int, args: argparse.Namespace) -> float:
    env = {**os.environ, **THREADS}
    env["PYTHONPATH"] = f"{ROOT / 'src'}{os.pathsep}{env.get('PYTHONPATH', '')}"
    me = [sys.executable, str(Path(__file__).resolve()), "--worker", kind]
    me += ["--samples", str(args.samples), "--batch", str(args.batch), "--epochs", str(args.epochs)]
    me += ["--model", args.model] + (["--view"] if args.view else [])
    if kind == "gradfit":
        mpiexec = str(Path(sys.executable).parent / "mpiexec")
        if not Path(mpiexec).exists():
            mpiexec = shutil.which("mpiexec") or "mpiexec"
        cmd = [mpiexec, "-n", str(procs), *me] if procs > 1 else me
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    else:
        port = str(_free_port())
        ps = []
        for r in range(procs):
            e = {**env, "RANK": str(r), "WORLD_SIZE": str(procs)}
            e.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
            ps.append(subprocess.Popen(me, env=e, stdout=subprocess.PIPE, text=True))
        outs = [p.communicate()[0] for p in ps]
        if any(p.returncode for p in ps):
            raise RuntimeError(f"torch worker failed: {[p.returncode for p in ps]}")
        out = outs[0]
    return float(json.loads(out.strip().splitlines()[-1])["epoch_s"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worker", choices=["gradfit", "torch"])
    p.add_argument("--samples", type=int, default=12288)
    p.add_argument("--batch", type=int, default=128, help="global batch (split over ranks)")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs per run (after 1 warm-up)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--contenders", default="gradfit,torch")
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--view", action="store_true", help="gradfit: DDP(gradient_as_bucket_view=True)")
    args = p.parse_args()
    if args.worker == "gradfit":
        return gradfit_worker(args)
    if args.worker == "torch":
        return torch_worker(args)
    kinds = args.contenders.split(",")
    results: dict[tuple[str, int], list[float]] = {}
    loads = [os.getloadavg()[0]]
    for r in range(args.rounds):
        for kind in kinds if r % 2 == 0 else kinds[::-1]:
            for procs in (1, 2) if r % 2 == 0 else (2, 1):
                results.setdefault((kind, procs), []).append(_run(kind, procs, args))
                loads.append(os.getloadavg()[0])
    what = f"MLP {'-'.join(map(str, SIZES))}" if args.model == "mlp" else "LeNet-style CNN"
    print(
        f"{what}, {args.samples} samples, global batch {args.batch}, "
        f"1 thread per process, median of {args.rounds} runs x {args.epochs} epochs; "
        f"load average (1 min) during the run {min(loads):.1f}-{max(loads):.1f} on "
        f"{os.cpu_count()} cores\n"
    )
    print("| library | 1 process (s/epoch) | 2 processes (s/epoch) | speed-up |")
    print("|---|---|---|---|")
    for kind in kinds:
        one = statistics.median(results[(kind, 1)])
        two = statistics.median(results[(kind, 2)])
        name = "gradfit (MPI, DDP)" if kind == "gradfit" else "torch (gloo, DDP)"
        print(f"| {name} | {one:.3f} | {two:.3f} | {one / two:.2f}x |")


if __name__ == "__main__":
    main()
