"""explain_backward: the leaf gradients it reports equal .grad after backward()."""

import re

import numpy as np
import pytest

import gradfit as gf
from gradfit.viz.explain import backward_steps, explain_backward


def _leaf_values(text):
    out = {}
    for line in text.split("leaf gradients:\n")[1].splitlines():
        m = re.match(r"\s+d\(out\)/d\((\w+)\) = (.+?)(\s{3}\(.*\))?$", line)
        out[m.group(1)] = np.array(eval(m.group(2)), dtype=np.float64)  # numbers and lists
    return out


@pytest.mark.parametrize(
    "expr",
    [
        lambda x, w, b: x * w + b,
        lambda x, w, b: (x * w + b).relu() * x,
        lambda x, w, b: ((x - w) ** 2 / (b + 3.0)).exp(),
        lambda x, w, b: (x * w).tanh() + (x * b).sigmoid() - w * w,
    ],
)
def test_scalar_leaf_gradients_equal_grad(expr):
    vals = {"x": 1.5, "w": -0.7, "b": 0.4}
    leaves = {k: gf.tensor(v, dtype="float64", requires_grad=True) for k, v in vals.items()}
    out = expr(**leaves)
    text = explain_backward(out, names=leaves)
    reported = _leaf_values(text)
    out.backward()
    for k, t in leaves.items():
        if t.grad is not None:
            np.testing.assert_allclose(reported[k], t.grad._data, rtol=1e-5, atol=1e-6)


def test_vector_expression_with_broadcast_and_matmul():
    gf.manual_seed(1)
    x = gf.randn(3, 2, requires_grad=True)
    w = gf.randn(2, 2, requires_grad=True)
    b = gf.randn(2, requires_grad=True)
    out = ((x @ w + b).relu() * x).sum()
    _, grads, leaves = backward_steps(out)
    out.backward()
    assert [id(t) for t in leaves] and len(leaves) == 3
    for t in (x, w, b):
        np.testing.assert_allclose(grads[id(t)], t.grad._data, rtol=1e-5, atol=1e-6)
    text = explain_backward(((x @ w + b).relu() * x).sum(), names={"x": x, "w": w, "b": b})
    assert "vector-Jacobian product" in text  # matmul/broadcast steps are not elementwise


def test_steps_show_local_derivative_times_upstream():
    x = gf.tensor(3.0, requires_grad=True)
    out = (x * 4.0).exp() * 0.0 + x * x  # Mul of x with itself: local 3 each
    text = explain_backward(x * x, names={"x": x})
    assert "input 0 (x): local 3 x upstream 1 = 3" in text
    assert "d(out)/d(x) = 6   (3 + 3)" in text
    assert out.requires_grad


def test_order_is_backward_order_and_graph_survives():
    a = gf.tensor(2.0, requires_grad=True)
    out = ((a * 3.0).exp()).log()
    text = explain_backward(out, names={"a": a})
    steps = re.findall(r"step \d+: (\w+)", text)
    assert steps == ["Log", "Exp", "Mul"]
    out.backward()  # explain did not free the saved arrays
    assert a.grad.item() == pytest.approx(3.0)


def test_after_backward_needs_retain_graph():
    a = gf.tensor(2.0, requires_grad=True)
    out = a * a
    out.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        explain_backward(out)
    out2 = a * a
    out2.backward(retain_graph=True)
    assert "d(out)/d(leaf0) = 4" in explain_backward(out2)


def test_errors():
    with pytest.raises(ValueError, match="leaf"):
        explain_backward(gf.tensor(1.0, requires_grad=True))
    with pytest.raises(ValueError, match="shape"):
        explain_backward(gf.ones(2, requires_grad=True) * 2)
    with pytest.raises(TypeError):
        explain_backward(3.0)
