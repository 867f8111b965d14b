"""The DataLoader's cost as a fraction of an MLP epoch on MNIST-sized data.

Data: 60,000 x 784 float32 random inputs and int64 labels (the size of MNIST's training
set), batch 128, shuffled. The MLP epoch is a hand-written NumPy forward and backward pass
of 784-512-256-10 (ReLU, softmax cross-entropy, SGD) over batches that are already in
memory, so it measures the compute a loader has to keep up with. Target: the loader's
epoch costs under 5% of the MLP's. PyTorch's DataLoader over a TensorDataset is timed
alongside when torch is installed.

Run: python -m benchmarks.bench_loader [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from gradfit.data import ArrayDataset, DataLoader

N, D, BATCH = 60_000, 784, 128
SIZES = (784, 512, 256, 10)


def loader_epoch(loader: DataLoader) -> float:
    t = time.perf_counter()
    checksum = 0.0
    for x, y in loader:
        checksum += float(x._data[0, 0]) + float(y._data[0])  # touch every batch
    return time.perf_counter() - t


def mlp_epoch(x: np.ndarray, y: np.ndarray, params: list[np.ndarray], lr: float = 0.01) -> float:
    """One epoch of SGD on a NumPy MLP, batches sliced sequentially (no loader)."""
    f32 = np.float32
    t = time.perf_counter()
    for start in range(0, x.shape[0], BATCH):
        xb, yb = x[start : start + BATCH], y[start : start + BATCH]
        w1, b1, w2, b2, w3, b3 = params
        h1 = np.maximum(xb @ w1 + b1, f32(0))
        h2 = np.maximum(h1 @ w2 + b2, f32(0))
        logits = h2 @ w3 + b3
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(yb)), yb] -= f32(1)
        g3 = p / f32(len(yb))
        gw3, gb3 = h2.T @ g3, g3.sum(0)
        g2 = (g3 @ w3.T) * (h2 > 0)
        gw2, gb2 = h1.T @ g2, g2.sum(0)
        g1 = (g2 @ w2.T) * (h1 > 0)
        gw1, gb1 = xb.T @ g1, g1.sum(0)
        for w, g in zip(params, (gw1, gb1, gw2, gb2, gw3, gb3), strict=True):
            w -= f32(lr) * g
    return time.perf_counter() - t


def torch_loader_epoch(x: np.ndarray, y: np.ndarray) -> float | None:
    try:
        import torch
        from torch.utils.data import DataLoader as TorchLoader
        from torch.utils.data import TensorDataset as TorchTensorDataset
    except ImportError:
        return None
    torch.manual_seed(0)
    loader = TorchLoader(
        TorchTensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=BATCH, shuffle=True
    )
    t = time.perf_counter()
    for xb, _ in loader:
        _ = xb[0, 0]
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((N, D), dtype=np.float32)
    y = rng.integers(0, 10, N).astype(np.int64)
    params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        params.append((rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32))
        params.append(np.zeros(fan_out, dtype=np.float32))

    loader = DataLoader(ArrayDataset(x, y), batch_size=BATCH, shuffle=True, seed=0)
    loader_epoch(loader)  # warm-up
    loader_t = min(loader_epoch(loader) for _ in range(args.repeats))
    mlp_t = min(mlp_epoch(x, y, params) for _ in range(max(1, args.repeats - 1)))
    torch_times = [torch_loader_epoch(x, y) for _ in range(args.repeats)]
    torch_t = None if torch_times[0] is None else min(torch_times)

    try:
        from benchmarks.machine import describe

        print("machine: " + ", ".join(f"{k}={v}" for k, v in describe().items()))
    except ImportError:
        pass
    print(f"data: {N} x {D} float32, batch {BATCH}, {len(loader)} batches, shuffled")
    print(f"gradfit DataLoader epoch     : {loader_t * 1e3:8.1f} ms")
    if torch_t is not None:
        print(f"torch DataLoader epoch       : {torch_t * 1e3:8.1f} ms")
    print(f"NumPy MLP 784-512-256-10 epoch: {mlp_t * 1e3:8.1f} ms")
    frac = loader_t / mlp_t
    print(f"loader / MLP epoch           : {100 * frac:8.2f} %  (target < 5 %: "
          f"{'met' if frac < 0.05 else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
