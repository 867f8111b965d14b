"""Hypothesis strategies shared by the op tests: shapes (incl. () and size-1 dims) and arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = [np.float32, np.float64]

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)
pair_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)


def rand(
    shape: tuple[int, ...],
    dtype: type = np.float32,
    seed: int = 0,
    low: float = -2,
    high: float = 2,
) -> np.ndarray:
    """Uniform random array of a shape and dtype."""
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def positive(shape: tuple[int, ...], dtype: type = np.float32, seed: int = 0) -> np.ndarray:
    return rand(shape, dtype, seed, 0.1, 3.0)


dtypes = st.sampled_from(DTYPES)
seeds = st.integers(0, 2**16)


@st.composite
def shape_and_dim(draw: st.DrawFn, min_dims: int = 1) -> tuple[tuple[int, ...], int]:
    """A shape and a valid (possibly negative) dim of it."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=5))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return shape, dim


@st.composite
def shape_and_dims(draw: st.DrawFn) -> tuple[tuple[int, ...], object]:
    """A shape and a reduction dim: None, an int (maybe negative) or a tuple of distinct dims."""
    shape = draw(shapes)
    n = len(shape)
    if n == 0:
        return shape, None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-n, n - 1))
    dims = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    return shape, tuple(dims)
