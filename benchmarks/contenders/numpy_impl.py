"""The hand-written NumPy reference (``benchmarks/numpy_mlp.py``), the GEMM floor and rate."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.contenders import common
from benchmarks.numpy_mlp import NumpyMLP


def mlp_epoch(p: dict[str, Any]) -> Callable[[], float]:
    sizes = common.mlp_sizes(p["width"])
    x, y = common.classification_data(p["n"], sizes[:1], seed=p["seed"])
    net = NumpyMLP(sizes, seed=p["seed"])
    rng = np.random.default_rng(p["seed"])
    batch = p["batch"]

    def epoch() -> float:
        loss = float("nan")
        for idx in common.batches(len(x), batch, rng):
            loss = net.train_step(x[idx], y[idx], common.LR, common.MOMENTUM)
        return loss

    return epoch


def gemm_epoch(p: dict[str, Any]) -> Callable[[], float]:
    """Only the matrix products of an MLP epoch (same shapes, same count): the floor."""
    sizes = common.mlp_sizes(p["width"])
    rng = np.random.default_rng(p["seed"])
    batch, steps = p["batch"], -(-p["n"] // p["batch"])
    f = np.float32
    ws = [rng.standard_normal((b, a), dtype=f) for a, b in itertools.pairwise(sizes)]
    acts = [rng.standard_normal((batch, a), dtype=f) for a in sizes[:-1]]
    ds = [rng.standard_normal((batch, b), dtype=f) for b in sizes[1:]]

    def epoch() -> float:
        s = 0.0
        for _ in range(steps):
            for a, w in zip(acts, ws, strict=True):
                a @ w.T
            for i, (a, d, w) in enumerate(zip(acts, ds, ws, strict=True)):
                d.T @ a
                if i > 0:
                    d @ w
        return s

    return epoch


def gemm_rate(p: dict[str, Any]) -> Callable[[], float]:
    """``reps`` products of two ``size x size`` float32 matrices (the machine's GEMM rate)."""
    rng = np.random.default_rng(0)
    n = p["size"]
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)

    def run() -> float:
        for _ in range(p["reps"]):
            np.matmul(a, b, out=out)
        return float(out[0, 0])

    return run


def op_overhead(p: dict[str, Any]) -> Callable[[], float]:
    """The same multiplication chain by hand: forward products, backward chain rule."""
    n = p["ops"]
    x0 = np.random.default_rng(0).standard_normal(16, dtype=np.float32)
    c = np.float32(1.0001)

    def run() -> float:
        xs = [x0]
        for _ in range(n):
            xs.append(xs[-1] * c)
        g = np.ones_like(x0)
        for _ in range(n):
            g = g * c
        return float(g[0])

    return run


def inference(p: dict[str, Any]) -> Callable[[], float]:
    sizes = common.mlp_sizes(p["width"])
    x, _ = common.classification_data(p["n"], sizes[:1], seed=p["seed"])
    net = NumpyMLP(sizes, seed=p["seed"])
    xs = [x[i : i + p["batch"]] for i in range(0, p["n"], p["batch"])]

    def run() -> float:
        return float(sum(net.predict(xb)[0, 0] for xb in xs))

    return run
