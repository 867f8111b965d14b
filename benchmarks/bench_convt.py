"""ConvTranspose2d forward + backward (input, weight and bias gradients), gradfit vs PyTorch single-thread.

Run: python -m benchmarks.bench_convt [--quick] [--rounds R] [--case dcgan|dcgan1d]

The DCGAN upsampling layer of ``python -m benchmarks.run`` (case ``convt2d``):
ConvTranspose2d(64, 32, 4, stride=2, padding=1) on a batch of 64 8x8 maps, and a 1-D
counterpart. gradfit and torch run in two single-thread processes, timed in alternating
rounds (see benchmarks/pair.py). Target (issue 13): gradfit within 1.3x of PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import gradfit as gf

CASES = {
    "dcgan": "ConvTranspose2d(64, 32, 4, stride=2, padding=1), (64, 64, 8, 8) -> 16x16, fwd+bwd",
    "dcgan1d": "ConvTranspose1d(64, 32, 4, stride=2, padding=1), (64, 64, 64) -> 128, fwd+bwd",
}


def contenders(case: str = "dcgan") -> dict[str, Callable[[], object]]:
    """gradfit's and torch's layer on the same input and output gradient; each returns x.grad."""
    one_d = case == "dcgan1d"
    rng = np.random.default_rng(0)
    shape, out = ((64, 64, 64), (64, 32, 128)) if one_d else ((64, 64, 8, 8), (64, 32, 16, 16))
    x0 = rng.standard_normal(shape, dtype=np.float32)
    g0 = rng.standard_normal(out, dtype=np.float32)
    cls = gf.nn.ConvTranspose1d if one_d else gf.nn.ConvTranspose2d
    layer = cls(64, 32, 4, stride=2, padding=1)
    x = gf.tensor(x0, requires_grad=True)

    def gradfit_run() -> object:
        x.grad = layer.weight.grad = layer.bias.grad = None
        layer(x).backward(g0)
        return x.grad

    res = {"gradfit": gradfit_run}
    try:
        import torch
    except ImportError:
        return res
    torch.set_num_threads(1)
    tcls = torch.nn.ConvTranspose1d if one_d else torch.nn.ConvTranspose2d
    tl = tcls(64, 32, 4, stride=2, padding=1)
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        tl.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    tx, tg = torch.tensor(x0, requires_grad=True), torch.from_numpy(g0)

    def torch_run() -> object:
        tx.grad = tl.weight.grad = tl.bias.grad = None
        tl(tx).backward(tg)
        return tx.grad

    res["torch"] = torch_run
    return res


def main() -> None:
    from benchmarks import pair

    pair.main("benchmarks.bench_convt", __doc__, contenders, CASES, lambda c, q: 3)


if __name__ == "__main__":
    main()
