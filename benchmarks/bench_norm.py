"""GroupNorm forward + backward (input, weight and bias gradients), gradfit vs PyTorch single-thread.

Run: python -m benchmarks.bench_norm [--quick] [--rounds R] [--case groupnorm|instancenorm]
(``GRADFIT_JIT=0 python -m benchmarks.bench_norm`` times gradfit's NumPy path instead of its
compiled kernels.)

gradfit and torch run in two single-thread processes, timed in alternating rounds
(see benchmarks/pair.py); the table gives wall and CPU-time ratios gradfit / torch.

Shape (32, 64, 16, 16) with 8 groups: a U-Net-sized block. Target (issue 13): gradfit within
1.3x of PyTorch on one thread. The instancenorm case is InstanceNorm2d(64, affine=True) on
the same shape (gradfit routes it through group_norm with one channel a group).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import gradfit as gf
import gradfit.nn.functional as F

SHAPE, GROUPS = (32, 64, 16, 16), 8


def groupnorm_contenders(
    shape: tuple[int, ...] = SHAPE, groups: int = GROUPS, instance: bool = False
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
        if instance:
            F.instance_norm(x, weight=w, bias=b).backward(gg)
        else:
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
            if instance:
                torch.nn.functional.instance_norm(tx, weight=tw, bias=tb).backward(tg)
            else:
                torch.nn.functional.group_norm(tx, groups, tw, tb).backward(tg)
            return tx.grad

        out["torch"] = torch_run
    except ImportError:
        pass
    return out


def contenders(case: str) -> dict[str, Callable[[], object]]:
    """The paired benchmark's contenders (see :mod:`benchmarks.pair`)."""
    return groupnorm_contenders(instance=case == "instancenorm")


def main() -> None:
    from benchmarks import pair

    title = f"GroupNorm {SHAPE}, {GROUPS} groups, forward + backward (x, weight, bias)"
    titles = {
        "groupnorm": title,
        "instancenorm": f"InstanceNorm2d {SHAPE}, affine, forward + backward (x, weight, bias)",
    }
    pair.main("benchmarks.bench_norm", __doc__, contenders, titles, lambda c, q: 20)


if __name__ == "__main__":
    main()
