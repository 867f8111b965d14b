"""Shared sizes, data and FLOP counts, so every contender runs exactly the same problem."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np

MLP_SIZES = (784, 512, 256, 10)
LR, MOMENTUM = 0.01, 0.9
LENET_SIDE = 28
CNN1D_LENGTH, CNN1D_CHANNELS = 40, 25


def mlp_sizes(width: int) -> tuple[int, ...]:
    """The sweep's MLP: ``784 -> width -> width/2 -> 10`` (width 512 is the headline MLP)."""
    return (784, width, max(width // 2, 1), 10)


def classification_data(
    n: int, shape: Sequence[int], classes: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random float32 inputs of ``shape`` (standard normal) and int64 labels."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *shape), dtype=np.float32)
    y = rng.integers(0, classes, n, dtype=np.int64)
    return x, y


def batches(n: int, batch: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Index arrays of one shuffled epoch (the last batch may be smaller)."""
    order = rng.permutation(n)
    for i in range(0, n, batch):
        yield order[i : i + batch]


def mlp_train_flops(sizes: Sequence[int]) -> int:
    """Floating-point operations of one training sample's matrix products.

    Forward ``2 * in * out`` per layer; backward the weight gradient (``2 * in * out``) per
    layer and the input gradient for every layer but the first (the data needs none).
    """
    macs = [a * b for a, b in itertools.pairwise(sizes)]
    return 2 * sum(macs) + 2 * sum(macs) + 2 * sum(macs[1:])


def epoch_samples(n: int, batch: int) -> int:
    """``n`` rounded up to whole batches (every contender runs the same batches)."""
    return max(batch, -(-n // batch) * batch)
