"""The graph walk: deep chains, reused nodes, accumulation, release of saved arrays, grad modes."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit.autograd import sum_to


def test_chain_of_100000_ops_backpropagates_without_recursion():
    x = gf.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_reused_nodes_get_correct_gradients():
    a = gf.tensor(3.0, requires_grad=True)
    b = a + a
    c = b * b  # c = 4 a^2 -> dc/da = 8a = 24
    c.backward()
    assert a.grad.item() == 24.0


def test_diamond_graph_matches_torch():
    x = gf.tensor([0.5, -1.5], requires_grad=True)
    tx = torch.tensor([0.5, -1.5], requires_grad=True)
    for lib, v in ((gf, x), (torch, tx)):
        h = v * 2
        out = (h.exp() + h * h + lib.tanh(h)).sum() * h.sum()
        out.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_leaf_gradient_shared_by_add_is_not_aliased():
    # w and b both receive the same upstream array from add; they must not share storage
    w = gf.zeros(3, requires_grad=True)
    b = gf.zeros(3, requires_grad=True)
    (w + b).sum().backward()
    w.grad.mul_(5)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_pending_gradient_not_corrupted_by_leaf_accumulation():
    # w gets g from the outer add while the inner add still needs g for q
    w = gf.tensor([1.0, 2.0], requires_grad=True)
    q = gf.tensor([3.0, 4.0], requires_grad=True)
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    tq = torch.tensor([3.0, 4.0], requires_grad=True)
    for a, b in ((w, q), (tw, tq)):
        out = a + ((a * 2) + b * 3)
        out.backward(gf.ones(2) * 1.5 if isinstance(a, gf.Tensor) else torch.ones(2) * 1.5)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())
    np.testing.assert_allclose(q.grad.numpy(), tq.grad.numpy())


def test_gradients_accumulate_across_backward_calls_like_torch():
    w = gf.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    assert w.grad.tolist() == [5.0, 7.0]
    w.grad = None
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_user_gradient_is_not_modified():
    x = gf.ones(3, requires_grad=True)
    g = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    (x + 0).backward(g)
    (x + 0).backward(g)
    assert g.tolist() == [1.0, 2.0, 3.0]
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_backward_on_non_scalar_without_gradient_is_a_clear_error():
    x = gf.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for a scalar output.*shape \(3,\)"):
        (x * 2).backward()
    with pytest.raises(
        ValueError, match=r"gradient has shape \(2,\) but the tensor has shape \(3,\)"
    ):
        (x * 2).backward(gf.ones(2))


def test_backward_on_tensor_without_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gf.ones(2).sum().backward()


def test_second_backward_needs_retain_graph():
    x = gf.ones(2, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * np.e * np.ones(2), rtol=1e-6)
    with pytest.raises(RuntimeError, match="a second time.*retain_graph=True"):
        y.backward()


def test_saved_arrays_are_released_after_backward():
    x = gf.randn(50, 50, requires_grad=True)
    h = x.exp()  # Exp saves its output array
    ref = weakref.ref(h._data)
    loss = (h * 2).sum()
    del h
    gc.collect()
    assert ref() is not None  # still needed by the graph
    loss.backward()
    gc.collect()
    assert ref() is None


def test_training_loop_memory_does_not_grow():
    w = gf.randn(64, 64, requires_grad=True)
    x = gf.randn(32, 64)

    def step():
        loss = ((x @ w).relu() ** 2).mean()
        w.grad = None
        loss.backward()
        with gf.no_grad():
            w.sub_(0.001 * w.grad)

    for _ in range(50):
        step()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    steps = 2_000
    for _ in range(steps):
        step()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    # 100 bytes a step (less than a leaked tensor or graph node) fails it; measured: ~17 kB
    # once (tracemalloc's own start-up), then ~0.15 bytes a step
    assert grown < 100 * steps, f"memory grew by {grown} bytes over {steps:,} steps"


def test_no_grad_records_nothing_and_works_as_decorator():
    w = gf.ones(2, requires_grad=True)
    with gf.no_grad():
        y = w * 2
        assert not gf.is_grad_enabled()
        with gf.enable_grad():
            z = w * 2
    assert gf.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @gf.no_grad()
    def f(t):
        return t * 3

    assert not f(w).requires_grad
    assert gf.is_grad_enabled()
    with gf.set_grad_enabled(False):
        assert not (w * 1).requires_grad
    assert gf.is_grad_enabled()


def test_inplace_on_leaf_requiring_grad_is_refused_but_allowed_under_no_grad():
    w = gf.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place \+= on a leaf tensor that requires grad"):
        w += 1
    with gf.no_grad():
        w += 1
        w *= 2
    assert w.tolist() == [4.0, 4.0, 4.0]


def test_inplace_on_a_tensor_the_graph_still_needs_is_detected():
    x = gf.ones(3, requires_grad=True)
    y = x.exp()
    y += 1  # recorded, as in PyTorch; exp saved its output, so backward refuses
    with pytest.raises(RuntimeError, match="Exp: its output was modified by an in-place"):
        y.sum().backward()
    y = x.exp()
    with gf.no_grad():
        y.add_(1)  # allowed, as in PyTorch, but the graph saved y's old value...
    with pytest.raises(RuntimeError, match="Exp: its output was modified by an in-place"):
        y.sum().backward()  # ...so backward refuses instead of giving a wrong gradient


def test_modifying_a_saved_output_through_detach_is_detected():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()
    d = e.detach()
    d += 1
    with pytest.raises(RuntimeError, match="its output was modified"):
        e.sum().backward()


def test_modifying_an_input_through_a_view_is_detected():
    w = gf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = gf.tensor([1.0, 1.0, 1.0])
    y = (w * x).sum()
    v = x[0:2]
    v += 5
    with pytest.raises(RuntimeError, match="input 1 was modified"):
        y.backward()
    x2 = gf.ones(2, 3)
    y2 = (w * x2).sum()
    x2.T[0].add_(1)  # a view of a view
    with pytest.raises(RuntimeError, match="input 1 was modified"):
        y2.backward()


def test_index_arrays_are_copied():
    x = gf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    idx = np.array([0, 0])
    y = x[idx]
    idx += 2
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 0.0]


def test_ops_that_save_nothing_can_be_backpropagated_twice_like_torch():
    x = gf.ones(2, requires_grad=True)
    z = x + x
    a, b = z.sum(), (z * 2.0).sum()
    a.backward()
    b.backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_set_grad_enabled_as_decorator_changes_mode_only_inside():
    @gf.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert gf.is_grad_enabled()
    assert not f(gf.ones(1, requires_grad=True)).requires_grad
    assert gf.is_grad_enabled()


def test_numpy_array_of_a_tensor_is_a_copy_and_asarray_is_not():
    t = gf.tensor([1.0, 2.0])
    a = np.array(t)
    a[0] = 99
    assert t.tolist() == [1.0, 2.0]
    assert np.shares_memory(np.asarray(t), t._data)


def test_integer_cast_carries_no_gradient():
    x = gf.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad
    assert not x.bool().requires_grad


def test_input_modified_after_use_is_detected_at_backward():
    w = gf.ones(3, requires_grad=True)
    x = gf.ones(3)
    y = (w * x).sum()
    x += 1  # x is saved by mul for w's gradient
    with pytest.raises(RuntimeError, match="Mul: input 1 was modified by an in-place operation"):
        y.backward()


def test_sum_to_reduces_broadcast_dimensions():
    g = np.ones((2, 3, 4), np.float32)
    assert sum_to(g, (3, 1)).tolist() == [[8.0]] * 3
    assert sum_to(g, ()).item() == 24.0
    assert sum_to(g, (2, 3, 4)) is g


def test_create_graph_through_an_op_without_double_backward_names_it():
    x = gf.ones(3, requires_grad=True)
    (x * x).sum().backward(create_graph=True)  # supported: see test_double_backward.py
    assert x.grad.requires_grad

    class Twice(gf.Function):  # an op with a backward and no backward_graph
        def forward(self, a):
            return a * 2

        def backward(self, grad):
            return (grad * 2,)

    with pytest.raises(NotImplementedError, match="double backward is not implemented for Twice"):
        Twice.apply(x).sum().backward(create_graph=True)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        gf.tensor([1, 2], requires_grad=True)


# ----------------------------------------------------------------- 0-d gradients are arrays
# NumPy gives a scalar (np.float32) for arithmetic on two 0-d arrays; every gradient the walk
# hands on must still be a writeable 0-d ndarray of the tensor's dtype.


def _assert_0d_grad(g, expected, dtype):
    assert type(g._data) is np.ndarray, type(g._data)
    assert g._data.shape == () and g.dtype == dtype
    assert g._data.flags.writeable
    np.testing.assert_allclose(g._data, expected.detach().numpy(), rtol=1e-6)
    g.zero_()  # raised "in-place zero_ on a read-only tensor" on a NumPy scalar
    assert g.item() == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_0d_leaf_used_twice_gets_a_writeable_array_grad(dtype):
    x = gf.tensor(2.0, dtype=dtype, requires_grad=True)
    tx = torch.tensor(2.0, dtype=getattr(torch, dtype), requires_grad=True)
    for v in (x, tx):
        (v * v + v * 3).backward()
    _assert_0d_grad(x.grad, tx.grad, np.dtype(dtype))
    # a second pass adds to the existing grad (in place), still an array
    x.grad = None
    tx.grad = None
    for v in (x, tx):
        (v * v).backward()
        (v + v).backward()
    _assert_0d_grad(x.grad, tx.grad, np.dtype(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_retained_0d_non_leaf_grad_is_a_writeable_array(dtype):
    res = []
    for lib in (gf, torch):
        x = lib.tensor(2.0, dtype=getattr(lib, dtype), requires_grad=True)
        y = x * x
        y.retain_grad()
        (y + y * 3).backward(retain_graph=True)
        res.append((x, y))
    (x, y), (tx, ty) = res
    _assert_0d_grad(y.grad, ty.grad, np.dtype(dtype))
    _assert_0d_grad(x.grad, tx.grad, np.dtype(dtype))
    # a second pass sums into the retained grad out of place: still an array
    for v in (y, ty):
        v.grad = None
        (v + v * 3).backward(retain_graph=True)
        (v * v).backward()
    _assert_0d_grad(y.grad, ty.grad, np.dtype(dtype))


def test_0d_gradients_reach_op_backwards_and_hooks_as_arrays():
    seen = []

    class Id(gf.Function):
        def forward(self, x):
            return x.copy()

        def backward(self, grad):
            seen.append(type(grad))
            return (grad,)

    x = gf.tensor(2.0, requires_grad=True)
    y = Id.apply(x)
    z = Id.apply(y * 3)  # Mul's backward on 0-d arrays returns a NumPy scalar
    h = z.register_hook(lambda g: seen.append(type(g._data)))
    (z * z + z).backward()  # z's gradient is a sum of two
    x.register_hook(lambda g: seen.append(type(g._data)))
    w = x * x
    (w + w).backward()
    h.remove()
    assert seen == [np.ndarray] * 4
    assert type(x.grad._data) is np.ndarray and x.grad.item() == (2 * 6 + 1) * 3 + 4 * 2


def test_autograd_grad_of_0d_inputs_returns_arrays():
    x = gf.tensor(2.0, requires_grad=True)
    y = x * x
    gx, gy = gf.autograd.grad(y * y + y, [x, y])
    tx = torch.tensor(2.0, requires_grad=True)
    ty = tx * tx
    tgx, tgy = torch.autograd.grad(ty * ty + ty, [tx, ty])
    _assert_0d_grad(gx, tgx, np.dtype("float32"))
    _assert_0d_grad(gy, tgy, np.dtype("float32"))
