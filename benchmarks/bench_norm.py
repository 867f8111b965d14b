"""GroupNorm forward + backward (input, weight and bias gradients), gradfit vs PyTorch single-thread.

Run: python -m benchmarks.bench_norm [--quick]

Shape (32, 64, 16, 16) with 8 groups: a U-Net-sized block. Target (issue 13): gradfit within
1.3x of PyTorch on one thread.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

import gradfit as gf
import gradfit.nn.functional as F
from benchmarks.bench_ops import timeit
from benchmarks.machine import describe, markdown

SHAPE, GROUPS = (32, 64, 16, 16), 8


def groupnorm_contenders(
    shape: tuple[int, ...] = SHAPE, groups: int = GROUPS
) -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape).astype(np.float32)
    g0 = rng.standard_normal(shape).astype(np.float32)
    c = shape[1]
    x = gf.tensor(x0, requires_grad=True)
    w = gf.ones(c, requires_grad=True)
    b = gf.zeros(c, requires_grad=True)
    gg = gf.tensor(g0)

    def gradfit_run() -> object:
        x.grad = w.grad = b.grad = None
        F.group_norm(x, groups, w, b).backward(gg)
        return x.grad

    out = {"gradfit": gradfit_run}
    try:
        import torch

        torch.set_num_threads(1)
        tx = torch.tensor(x0, requires_grad=True)
        tw = torch.ones(c, requires_grad=True)
        tb = torch.zeros(c, requires_grad=True)
        tg = torch.tensor(g0)

        def torch_run() -> object:
            tx.grad = tw.grad = tb.grad = None
            torch.nn.functional.group_norm(tx, groups, tw, tb).backward(tg)
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
    print(f"## GroupNorm {SHAPE}, {GROUPS} groups, forward + backward\n")
    res = {k: timeit(f, reps, 3) * 1e3 for k, f in groupnorm_contenders().items()}
    print("| contender | ms | ratio to torch |")
    print("|---|---|---|")
    for k, v in res.items():
        ratio = f"{v / res['torch']:.2f}" if "torch" in res else "-"
        print(f"| {k} | {v:.3f} | {ratio} |")


if __name__ == "__main__":
    main()
