"""Per-op overhead: small elementwise ops and matmul forward+backward, gradfit vs NumPy vs PyTorch.

Run: python -m benchmarks.bench_ops [--quick]

Small op: a chain of N elementwise multiplies on a 16-element vector, then backward.
The NumPy reference does the same arithmetic by hand (forward products and the
backward chain rule) with no graph; the difference is gradfit's overhead per op.
Matmul: (128, 784) @ (784, 512) forward and both gradients, the first layer of the MLP.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import gradfit as gf
from benchmarks.machine import describe, markdown


def timeit(fn: Callable[[], object], reps: int, inner: int) -> float:
    """Median seconds per call of ``fn`` over ``reps`` repetitions of ``inner`` calls."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def small_op_contenders(n: int) -> dict[str, Callable[[], object]]:
    x0 = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    c = np.float32(1.0001)

    def numpy_ref() -> object:
        xs = [x0]
        for _ in range(n):
            xs.append(xs[-1] * c)
        g = np.ones_like(x0)
        for _ in range(n):
            g = g * c
        return g

    x = gf.tensor(x0, requires_grad=True)
    ones = np.ones(16, np.float32)

    def gradfit_run() -> object:
        y = x
        for _ in range(n):
            y = y * 1.0001
        x.grad = None
        y.backward(ones)
        return x.grad

    out = {"numpy": numpy_ref, "gradfit": gradfit_run}
    try:
        import torch

        torch.set_num_threads(1)
        tx = torch.tensor(x0, requires_grad=True)
        tones = torch.ones(16)

        def torch_run() -> object:
            y = tx
            for _ in range(n):
                y = y * 1.0001
            tx.grad = None
            y.backward(tones)
            return tx.grad

        out["torch"] = torch_run
    except ImportError:
        pass
    return out


def matmul_contenders() -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    a0 = rng.standard_normal((128, 784)).astype(np.float32)
    w0 = rng.standard_normal((784, 512)).astype(np.float32) * 0.05
    g0 = rng.standard_normal((128, 512)).astype(np.float32)

    def numpy_ref() -> object:
        a0 @ w0
        return g0 @ w0.T, a0.T @ g0

    a = gf.tensor(a0, requires_grad=True)
    w = gf.tensor(w0, requires_grad=True)

    def gradfit_run() -> object:
        a.grad = w.grad = None
        (a @ w).backward(g0)
        return w.grad

    out = {"numpy": numpy_ref, "gradfit": gradfit_run}
    try:
        import torch

        ta = torch.tensor(a0, requires_grad=True)
        tw = torch.tensor(w0, requires_grad=True)
        tg = torch.tensor(g0)

        def torch_run() -> object:
            ta.grad = tw.grad = None
            (ta @ tw).backward(tg)
            return tw.grad

        out["torch"] = torch_run
    except ImportError:
        pass
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    reps = 5 if args.quick else 15
    n = 1000
    print(f"machine: {markdown(describe())}\n")

    print(f"## Small elementwise op, forward + backward (chain of {n} ops on 16 floats)\n")
    res = {k: timeit(f, reps, 3) / n * 1e6 for k, f in small_op_contenders(n).items()}
    print("| contender | µs per op (fwd+bwd) | overhead over NumPy (µs) |")
    print("|---|---|---|")
    for k, v in res.items():
        print(f"| {k} | {v:.2f} | {v - res['numpy']:.2f} |")

    print("\n## matmul (128, 784) @ (784, 512), forward + both gradients\n")
    res = {k: timeit(f, reps, 5) * 1e3 for k, f in matmul_contenders().items()}
    print("| contender | ms | ratio to NumPy |")
    print("|---|---|---|")
    for k, v in res.items():
        print(f"| {k} | {v:.3f} | {v / res['numpy']:.2f} |")


if __name__ == "__main__":
    main()
