"""gradcheck passes on correct gradients and names the worst element on wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit.autograd import Function


class WrongSquare(Function):
    def forward(self, x):
        self.saved = (x,)
        return x * x

    def backward(self, grad):
        (x,) = self.saved
        g = 2 * x * grad
        g.reshape(-1)[4] += 1.0  # a deliberate error at flat position 4
        return (g,)


def test_passes_on_correct_gradients():
    a = gf.randn(3, 4, dtype="float64", requires_grad=True)
    b = gf.randn(4, dtype="float64", requires_grad=True)
    assert gf.gradcheck(lambda a, b: (a * b).tanh() @ b, [a, b])


def test_reports_position_and_both_values():
    x = gf.randn(2, 3, dtype="float64", requires_grad=True)
    with pytest.raises(
        gf.GradcheckError,
        match=r"input 0 .* at index \(1, 1\): backprop gave .* finite differences gave",
    ):
        gf.gradcheck(lambda t: WrongSquare.apply(t), [x])


def test_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gf.gradcheck(lambda t: t * 2, [gf.ones(2, requires_grad=True)])
    with pytest.raises(ValueError, match="no input has requires_grad"):
        gf.gradcheck(lambda t: t * 2, [gf.ones(2, dtype="float64")])


def test_leaves_inputs_unchanged():
    x = gf.randn(5, dtype="float64", requires_grad=True)
    before = x.numpy().copy()
    gf.gradcheck(lambda t: t.exp(), [x])
    assert np.array_equal(before, x.numpy())


def test_works_on_non_contiguous_inputs_and_keeps_their_grad():
    arr = np.asfortranarray(np.random.default_rng(0).standard_normal((3, 4)))
    x = gf.from_numpy(arr).requires_grad_()
    x.grad = gf.ones(3, 4, dtype="float64")
    assert gf.gradcheck(lambda t: (t * t).sum(), [x])
    assert x.grad.tolist() == [[1.0] * 4] * 3
