"""ConvTranspose2d forward + backward (input, weight and bias gradients), gradfit vs PyTorch.

Run: python -m benchmarks.bench_conv_transpose [--quick]

The DCGAN generator's upsampling step: batch 64, 64 -> 32 channels, 4x4 kernel, stride 2,
padding 1, 8x8 -> 16x16; plus a 16x16 -> 32x32 one (32 -> 16 channels). PyTorch runs on one
thread; the target is gradfit within 1.3x of it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

import gradfit as gf
from benchmarks.bench_ops import timeit
from benchmarks.machine import describe, markdown

CASES = [
    dict(batch=64, cin=64, cout=32, side=8),
    dict(batch=64, cin=32, cout=16, side=16),
]


def contenders(batch: int, cin: int, cout: int, side: int) -> dict[str, Callable[[], Any]]:
    """One forward + backward of ConvTranspose2d(cin, cout, 4, stride=2, padding=1) per call."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((batch, cin, side, side)).astype(np.float32)
    g0 = rng.standard_normal((batch, cout, 2 * side, 2 * side)).astype(np.float32)
    layer = gf.nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)
    x = gf.tensor(x0, requires_grad=True)

    def gradfit_run() -> Any:
        x.grad = layer.weight.grad = layer.bias.grad = None
        layer(x).backward(g0)
        return x.grad

    out = {"gradfit": gradfit_run}
    try:
        import torch

        torch.set_num_threads(1)
        tlayer = torch.nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)
        tx = torch.tensor(x0, requires_grad=True)
        tg = torch.tensor(g0)

        def torch_run() -> Any:
            tx.grad = tlayer.weight.grad = tlayer.bias.grad = None
            tlayer(tx).backward(tg)
            return tx.grad

        out["torch"] = torch_run
    except ImportError:
        pass
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    reps = 5 if args.quick else 15
    print(f"machine: {markdown(describe())}\n")
    print("## ConvTranspose2d(k=4, stride=2, padding=1), forward + backward\n")
    print("| case | contender | ms | ratio to torch |")
    print("|---|---|---|---|")
    for c in CASES:
        res = {k: timeit(f, reps, 3) * 1e3 for k, f in contenders(**c).items()}
        name = f"{c['batch']}x{c['cin']}x{c['side']}² -> {c['cout']}x{2 * c['side']}²"
        for k, v in res.items():
            ratio = f"{v / res['torch']:.2f}" if "torch" in res else "-"
            print(f"| {name} | {k} | {v:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
