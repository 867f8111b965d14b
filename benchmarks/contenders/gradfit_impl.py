"""gradfit as a user writes it: ``gf.models``/``gf.nn`` layers, the DataLoader, ``gf.optim.SGD``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

import gradfit as gf
import gradfit.nn.functional as F
from benchmarks.contenders import common
from gradfit import nn
from gradfit.data import ArrayDataset, DataLoader

if hasattr(gf, "set_num_threads"):  # the run's thread count (an older checkout has none)
    gf.set_num_threads(int(os.environ.get("GRADFIT_BENCH_THREADS", "1")))


def _train_epoch_runner(
    model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int, seed: int
) -> Callable[[], float]:
    loader = DataLoader(ArrayDataset(x, y), batch_size=batch, shuffle=True, seed=seed)
    opt = gf.optim.SGD(model.parameters(), lr=common.LR, momentum=common.MOMENTUM)
    model.train()

    def epoch() -> float:
        loss = None
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return float(loss.item()) if loss is not None else float("nan")

    return epoch


def mlp_epoch(p: dict[str, Any]) -> Callable[[], float]:
    gf.manual_seed(p["seed"])
    sizes = common.mlp_sizes(p["width"])
    x, y = common.classification_data(p["n"], sizes[:1], seed=p["seed"])
    return _train_epoch_runner(gf.models.mlp(list(sizes)), x, y, p["batch"], p["seed"])


def lenet(in_side: int = common.LENET_SIDE) -> nn.Module:
    """conv 1->16 5x5 pad 2, ReLU, maxpool 2, conv 16->32 5x5 pad 2, ReLU, maxpool 2, linear."""
    side = in_side // 4
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * side * side, 10),
    )


def lenet_epoch(p: dict[str, Any]) -> Callable[[], float]:
    gf.manual_seed(p["seed"])
    side = p.get("side", common.LENET_SIDE)
    x, y = common.classification_data(p["n"], (1, side, side), seed=p["seed"])
    return _train_epoch_runner(lenet(side), x, y, p["batch"], p["seed"])


def cnn1d_epoch(p: dict[str, Any]) -> Callable[[], float]:
    gf.manual_seed(p["seed"])
    x, y = common.classification_data(p["n"], (common.CNN1D_LENGTH,), seed=p["seed"])
    model = gf.models.cnn1d(common.CNN1D_LENGTH, 10, common.CNN1D_CHANNELS)
    return _train_epoch_runner(model, x, y, p["batch"], p["seed"])


def op_overhead(p: dict[str, Any]) -> Callable[[], float]:
    """A chain of ``ops`` multiplications of a 16-float tensor, then backward."""
    n = p["ops"]
    x = gf.tensor(np.random.default_rng(0).standard_normal(16, dtype=np.float32))
    x.requires_grad_(True)
    ones = gf.ones(16)

    def run() -> float:
        h = x
        for _ in range(n):
            h = h * 1.0001
        x.grad = None
        h.backward(ones)
        return float(x.grad._data[0])

    return run


def inference(p: dict[str, Any]) -> Callable[[], float]:
    """``no_grad`` forward passes of the MLP over ``n`` samples in batches of ``batch``."""
    gf.manual_seed(p["seed"])
    sizes = common.mlp_sizes(p["width"])
    x, _ = common.classification_data(p["n"], sizes[:1], seed=p["seed"])
    model = gf.models.mlp(list(sizes))
    model.eval()
    xs = [gf.tensor(x[i : i + p["batch"]]) for i in range(0, p["n"], p["batch"])]

    def run() -> float:
        s = 0.0
        with gf.no_grad():
            for xb in xs:
                s += float(model(xb)._data[0, 0])
        return s

    return run


def conv_transpose_steps(p: dict[str, Any]) -> Callable[[], float]:
    """Forward + backward of a DCGAN upsampling layer, ConvTranspose2d(cin, cout, 4, 2, 1), over
    ``n`` samples in batches of ``batch`` (same input and output gradient every step)."""
    gf.manual_seed(p["seed"])
    rng = np.random.default_rng(p["seed"])
    b, s = p["batch"], p["side"]
    layer = gf.nn.ConvTranspose2d(p["cin"], p["cout"], 4, stride=2, padding=1)
    x = gf.tensor(rng.standard_normal((b, p["cin"], s, s), dtype=np.float32), requires_grad=True)
    g = rng.standard_normal((b, p["cout"], 2 * s, 2 * s), dtype=np.float32)

    def run() -> float:
        for _ in range(p["n"] // b):
            x.grad = layer.weight.grad = layer.bias.grad = None
            layer(x).backward(g)
        return float(layer.weight.grad._data.ravel()[0])

    return run
