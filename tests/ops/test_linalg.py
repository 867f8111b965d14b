"""matmul in 1-D, 2-D, batched and broadcast forms against PyTorch; errors; gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gradfit as gf
from oracle import check
from strategies import dtypes, rand, seeds


@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 5)) for _ in range(3))
    kind = draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched", "broadcast"]))
    if kind == "vv":
        return (k,), (k,)
    if kind == "mv":
        return (n, k), (k,)
    if kind == "vm":
        return (k,), (k, m)
    if kind == "mm":
        return (n, k), (k, m)
    b = draw(st.integers(1, 3))
    if kind == "batched":
        return (b, n, k), (b, k, m)
    return draw(
        st.sampled_from([((b, 1, n, k), (2, k, m)), ((n, k), (b, k, m)), ((b, n, k), (k,))])
    )


@given(shapes=matmul_shapes(), dtype=dtypes, seed=seeds)
def test_matmul_matches_torch(shapes, dtype, seed):
    a, b = rand(shapes[0], dtype, seed), rand(shapes[1], dtype, seed + 1)
    check(lambda a, b: a @ b, lambda a, b: a @ b, [a, b])
    check(gf.matmul, torch.matmul, [a, b])


def test_matmul_with_constant_operands():
    w = rand((4, 3))
    check(lambda w: np.ones((2, 4), np.float32) @ w, lambda w: torch.ones(2, 4) @ w, [w])


@pytest.mark.parametrize(
    "shapes", [((3, 4), (4, 2)), ((4,), (4, 2)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (3, 4, 2))]
)
def test_gradcheck(shapes):
    a = gf.tensor(rand(shapes[0], np.float64, 1), requires_grad=True)
    b = gf.tensor(rand(shapes[1], np.float64, 2), requires_grad=True)
    assert gf.gradcheck(gf.matmul, [a, b])


def test_error_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"matmul: cannot multiply \(32, 784\) by \(100, 10\): 784 != 100"
    ):
        gf.randn(32, 784) @ gf.randn(100, 10)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        gf.tensor(2.0) @ gf.ones(2)
    with pytest.raises(ValueError, match="batch dimensions"):
        gf.ones(2, 3, 4) @ gf.ones(3, 4, 5)
