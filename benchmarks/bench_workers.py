"""DataLoader worker processes: a Python ``Dataset`` whose ``__getitem__`` does real work.

Each sample is made in Python: a 64x64 float32 "image" built from its index, blurred with a
3x3 box filter and normalised (about 0.2 ms of NumPy per sample), as an augmentation
pipeline would. One epoch of 4,096 samples at batch 64, timed for ``num_workers`` 0 and 2,
for gradfit and for PyTorch's ``DataLoader`` over the same dataset, each run in its own
process (one BLAS thread each), median of ``--repeats`` epochs after one warm-up epoch.

Run: python -m benchmarks.bench_workers [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

N, BATCH, SIDE = 4096, 64, 64


class Blurred:
    """The dataset, written once for both libraries (a plain class with the protocol)."""

    def __len__(self) -> int:
        return N

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        rng = np.random.default_rng(i)
        img = rng.standard_normal((SIDE, SIDE)).astype(np.float32)
        out = np.zeros_like(img)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                out += np.roll(np.roll(img, dy, 0), dx, 1)
        out /= 9.0
        out = (out - out.mean()) / (out.std() + 1e-6)
        return out, i % 10


def one(lib: str, workers: int, repeats: int) -> list[float]:
    """Time ``repeats`` epochs of one library at one worker count (in this process)."""
    if lib == "torch":
        import torch
        from torch.utils.data import DataLoader, Dataset

        torch.set_num_threads(1)
        base = Dataset
    else:
        from gradfit.data import DataLoader, Dataset

        base = Dataset
    ds = type("BlurredDS", (base,), dict(Blurred.__dict__))()
    loader = DataLoader(ds, batch_size=BATCH, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)  # fmt: skip
    times = []
    for r in range(repeats + 1):
        t = time.perf_counter()
        for x, _ in loader:
            _ = x[0, 0, 0]
        if r:
            times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("LIB", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.repeats)))
        return
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    print(f"# DataLoader workers: {N} samples, batch {BATCH}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, epoch seconds (median of {args.repeats})\n")  # fmt: skip
    print("| library | num_workers=0 | num_workers=2 | speed-up |")
    print("|---|---|---|---|")
    libs = ["gradfit"]
    try:
        import torch  # noqa: F401

        libs.append("torch")
    except ImportError:
        pass
    for lib in libs:
        med = {}
        for w in (0, 2):
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_workers", "--repeats", str(args.repeats),
                 "--one", lib, str(w)],
                capture_output=True, text=True, env=env, check=True,
            )  # fmt: skip
            med[w] = statistics.median(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"| {lib} | {med[0]:.2f} | {med[2]:.2f} | {med[0] / med[2]:.2f}x |")


if __name__ == "__main__":
    main()
