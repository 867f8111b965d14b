"""PyTorch eager on the CPU, written the fast way a PyTorch user would (no per-sample DataLoader)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks.contenders import common

torch.set_num_threads(int(os.environ.get("GRADFIT_BENCH_THREADS", "1")))


def _train_epoch_runner(
    model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int, seed: int
) -> Callable[[], float]:
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.SGD(model.parameters(), lr=common.LR, momentum=common.MOMENTUM)
    gen = torch.Generator().manual_seed(seed)
    n = len(x)
    model.train()

    def epoch() -> float:
        loss = None
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        return float(loss.item()) if loss is not None else float("nan")

    return epoch


def mlp(sizes: tuple[int, ...]) -> nn.Module:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def mlp_epoch(p: dict[str, Any]) -> Callable[[], float]:
    torch.manual_seed(p["seed"])
    sizes = common.mlp_sizes(p["width"])
    x, y = common.classification_data(p["n"], sizes[:1], seed=p["seed"])
    return _train_epoch_runner(mlp(sizes), x, y, p["batch"], p["seed"])


def lenet_epoch(p: dict[str, Any]) -> Callable[[], float]:
    torch.manual_seed(p["seed"])
    side = p.get("side", common.LENET_SIDE)
    x, y = common.classification_data(p["n"], (1, side, side), seed=p["seed"])
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * (side // 4) ** 2, 10),
    )
    return _train_epoch_runner(model, x, y, p["batch"], p["seed"])


class CNN1d(nn.Module):
    """The MNIST-1D ``ConvBase``, as ``gf.models.cnn1d``."""

    def __init__(self, length: int, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        n = length
        for k in (5, 3, 3):
            n = (n + 2 - k) // 2 + 1
        self.linear = nn.Linear(channels * n, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.view(x.shape[0], 1, -1)
        h = self.conv1(h).relu()
        h = self.conv2(h).relu()
        h = self.conv3(h).relu()
        return self.linear(h.reshape(h.shape[0], -1))


def cnn1d_epoch(p: dict[str, Any]) -> Callable[[], float]:
    torch.manual_seed(p["seed"])
    x, y = common.classification_data(p["n"], (common.CNN1D_LENGTH,), seed=p["seed"])
    model = CNN1d(common.CNN1D_LENGTH, common.CNN1D_CHANNELS)
    return _train_epoch_runner(model, x, y, p["batch"], p["seed"])


def op_overhead(p: dict[str, Any]) -> Callable[[], float]:
    n = p["ops"]
    x = torch.tensor(np.random.default_rng(0).standard_normal(16, dtype=np.float32))
    x.requires_grad_(True)
    ones = torch.ones(16)

    def run() -> float:
        h = x
        for _ in range(n):
            h = h * 1.0001
        x.grad = None
        h.backward(ones)
        return float(x.grad[0])

    return run


def inference(p: dict[str, Any]) -> Callable[[], float]:
    torch.manual_seed(p["seed"])
    sizes = common.mlp_sizes(p["width"])
    x, _ = common.classification_data(p["n"], sizes[:1], seed=p["seed"])
    model = mlp(sizes).eval()
    xs = [torch.from_numpy(x[i : i + p["batch"]]) for i in range(0, p["n"], p["batch"])]

    def run() -> float:
        s = 0.0
        with torch.no_grad():
            for xb in xs:
                s += float(model(xb)[0, 0])
        return s

    return run


def conv_transpose_steps(p: dict[str, Any]) -> Callable[[], float]:
    """Forward + backward of ConvTranspose2d(cin, cout, 4, 2, 1), as gradfit_impl's."""
    torch.manual_seed(p["seed"])
    rng = np.random.default_rng(p["seed"])
    b, s = p["batch"], p["side"]
    layer = nn.ConvTranspose2d(p["cin"], p["cout"], 4, stride=2, padding=1)
    x = torch.tensor(rng.standard_normal((b, p["cin"], s, s), dtype=np.float32), requires_grad=True)
    g = torch.from_numpy(rng.standard_normal((b, p["cout"], 2 * s, 2 * s), dtype=np.float32))

    def run() -> float:
        for _ in range(p["n"] // b):
            x.grad = layer.weight.grad = layer.bias.grad = None
            layer(x).backward(g)
        return float(layer.weight.grad.ravel()[0])

    return run
