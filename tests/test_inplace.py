"""In-place operations and ``x[i] = v`` against PyTorch: values, gradients, version errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf

R = np.random.default_rng(0)


def run_both(prog, *arrays, dtype="float64"):
    """Run ``prog(lib, *leaves)`` in gradfit and torch; compare output and leaf gradients."""
    res = {}
    for lib in (gf, torch):
        leaves = [
            lib.tensor(np.array(a), dtype=getattr(lib, dtype), requires_grad=True) for a in arrays
        ]
        out = prog(lib, *leaves)
        gout = lib.tensor(
            np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=getattr(lib, dtype)
        )
        out.backward(gout)
        res[lib] = (
            out.detach().numpy().copy(),
            [None if t.grad is None else t.grad.numpy().copy() for t in leaves],
        )
    (og, gg), (ot, gt) = res[gf], res[torch]
    np.testing.assert_allclose(og, ot, rtol=1e-10, atol=1e-12)
    for a, b in zip(gg, gt, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


INDEXES = [
    (1,),
    (slice(1, 3),),
    (Ellipsis, 0),
    (None, 1),
    (slice(None), [0, 2]),
    ([0, 2], slice(1, None)),
    (1, [0, 1]),
    ("mask",),
    (slice(None, None, 2), -1),
]


@pytest.mark.parametrize("index", INDEXES, ids=str)
def test_setitem_on_a_graph_tensor_matches_torch(index):
    a, w = R.standard_normal((3, 4)), R.standard_normal(())

    def prog(lib, x, v):
        y = x * 2
        idx = index
        if index == ("mask",):
            idx = (y > 0).detach() if lib is torch else y.detach() > 0
        y[idx] = v * 3
        return y * x

    run_both(prog, a, w)


@pytest.mark.parametrize("index", INDEXES, ids=str)
def test_setitem_with_a_tensor_value_broadcast_to_the_slot(index):
    a = R.standard_normal((3, 4))
    mask = np.ones((3, 4), bool)
    mask[1, 2] = False
    tidx = (torch.from_numpy(mask),) if index == ("mask",) else index
    slot = tuple(torch.zeros(3, 4)[tidx].shape)
    v = R.standard_normal(slot[-1:])  # broadcast over the leading dimensions of the slot

    def prog(lib, x, val):
        y = x.exp() * 1.0  # exp saved its output: overwriting it would be refused
        i = (lib.tensor(mask),) if index == ("mask",) else index
        y[i] = val
        return y.sum(0)

    run_both(prog, a, v)


def test_gradcheck_through_recorded_inplace_ops():
    x = gf.randn(3, 4, dtype="float64", requires_grad=True)
    w = gf.randn(4, dtype="float64", requires_grad=True)

    def f(x, w):
        y = x * 1.0
        y[1] = w
        y[0].mul_(w)
        y[:, 2] += x[:, 0]
        y.exp_()
        return y

    assert gf.gradcheck(f, [x, w])


def test_augmented_assignment_on_an_indexed_slot_of_a_1d_tensor():
    def prog(lib, x, w):
        y = x * 2
        y[0] += w * 3
        y[1].mul_(w)
        y[-1] = y[0].clone() * y[1].clone()  # mul saves its inputs: not views of y
        return y

    run_both(prog, R.standard_normal(4), R.standard_normal(()))


def test_value_requiring_grad_makes_a_plain_tensor_require_grad():
    def prog(lib, w):
        x = lib.zeros(4, dtype=lib.float64)
        x[1:3] = w
        assert x.requires_grad and not x.is_leaf
        return x * lib.arange(4, dtype=lib.float64)

    run_both(prog, R.standard_normal(2))


def test_chains_of_inplace_methods_match_torch():
    def prog(lib, x, o):
        y = x * 1.5
        y.add_(o, alpha=2).mul_(o).sub_(1).div_(o.abs() + 1)
        y.clamp_(-2, 2).pow_(2).sqrt_()
        y = y * 1.0  # sqrt_ saved its output: torch would refuse the next in-place op
        y.exp_()
        y = y * 1.0
        y += o
        y *= 2
        y -= 1
        y /= 3
        y.addcmul_(x, o, value=0.5).addcdiv_(x, o.abs() + 1, value=2)
        y.masked_fill_(o > 0.3, 0.25)
        y = y.tanh_() * 1.0
        y.neg_().abs_().sigmoid_()
        y = y * 1.0
        y.log_()
        y.clamp_min_(-0.5).clamp_max_(0.0).relu_()
        z = x * 1.0
        z.sign_()
        return y + z * o

    run_both(prog, R.standard_normal((2, 3)), R.standard_normal((2, 3)))


def test_fill_zero_copy_index_fill_on_graph_tensors():
    def prog(lib, x, s, src):
        y = x * 2
        y.index_fill_(1, lib.tensor([0, 2]), s)
        z = x * 3
        z.copy_(src)  # broadcast
        u = x.exp()
        u = u + 0
        u[0].zero_()
        u[1].fill_(s)
        return y + z + u

    run_both(prog, R.standard_normal((2, 3)), R.standard_normal(()), R.standard_normal(3))


def test_inplace_on_views_rewrites_the_base_history():
    def prog(lib, x, w):
        y = x * 2
        y[0].mul_(w)  # through a view
        y[:, 1] = 0  # on the base
        y[1][2] = w.sum()  # a view's setitem
        v = y.t() if lib is torch else y.T
        v[0] += 1  # python: tmp = v[0]; tmp += 1; v[0] = tmp
        y.reshape(-1)[3:5].exp_()
        return y * x

    run_both(prog, R.standard_normal((2, 3)), R.standard_normal(3))


def test_view_of_a_plain_tensor_given_a_value_that_requires_grad():
    def prog(lib, w):
        x = lib.zeros(2, 3, dtype=lib.float64)
        x[1].copy_(w)
        return x * 2

    run_both(prog, R.standard_normal(3))


def test_saved_value_overwritten_raises_like_torch():
    for lib in (gf, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        z = y * y  # saves y
        y[0] = 5.0
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            z.sum().backward()
        e = x.exp()  # saves its output
        e.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            e.sum().backward()


def test_ops_that_saved_nothing_keep_working_after_inplace():
    def prog(lib, x):
        y = x + 1  # add saves nothing
        y.mul_(3)
        y[0] = 0.0
        return y

    run_both(prog, R.standard_normal(3))


def test_leaf_errors_match_torch():
    for lib in (gf, torch):
        w = lib.ones(3, requires_grad=True)
        for op in (
            lambda: w.add_(1),
            lambda: w.__setitem__(0, 1.0),
            lambda: w.zero_(),
            lambda: w.exp_(),
        ):
            with pytest.raises(RuntimeError, match="leaf"):
                op()
        with pytest.raises(RuntimeError, match="leaf"):
            w[0].mul_(2)
        with lib.no_grad():
            w[0] = 5.0
            w[1:].mul_(2)
        assert w.tolist() == [5.0, 2.0, 2.0]
        assert w.is_leaf and w.requires_grad


@pytest.mark.parametrize("dtype", ["int64", "bool", "float32"])
def test_setitem_on_plain_tensors_of_every_dtype(dtype):
    a = np.arange(12).reshape(3, 4) % 3
    for lib in (gf, torch):
        x = lib.tensor(a, dtype=getattr(lib, dtype))
        x[0] = 1
        x[:, 1] = lib.tensor([0, 1, 0], dtype=getattr(lib, dtype))
        x[x == 2] = 0
        x[[1, 2], [3, 0]] = 1
        x[..., None, -1] = 0
        if lib is gf:
            got = x.numpy().copy()
        else:
            np.testing.assert_array_equal(got, x.numpy())
            assert got.dtype == x.numpy().dtype


def test_zero_dim_and_empty():
    for lib in (gf, torch):
        x = lib.tensor(3.0, dtype=lib.float64, requires_grad=True)
        y = x * 2
        y[...] = x * x
        y.mul_(x)
        y.backward()
        if lib is gf:
            g0 = x.grad.item()
        else:
            assert g0 == pytest.approx(x.grad.item())
        e = lib.zeros(0, 3)
        e[:, 1] = 5.0
        e.add_(1)
        assert tuple(e.shape) == (0, 3)
        z = lib.zeros(2, 3)
        z[lib.zeros(2, 3, dtype=lib.bool)] = 1.0
        assert z.sum().item() == 0


def test_bad_setitem_raises_like_torch():
    for lib in (gf, torch):
        x = lib.zeros(2, 3)
        with pytest.raises(IndexError):
            x[5] = 1.0
        with pytest.raises(RuntimeError):
            x[0] = lib.ones(4)
        with pytest.raises(RuntimeError):
            x.copy_(lib.ones(4))
        with pytest.raises(RuntimeError):
            x.masked_fill_(lib.zeros(2, 3), 1.0)  # not a bool mask


def test_no_grad_update_bumps_the_version_of_a_saved_input():
    w = gf.ones(3, requires_grad=True)
    x = gf.ones(3)
    y = (w * x).sum()
    x[0] = 2.0
    with pytest.raises(RuntimeError, match="input 1 was modified"):
        y.backward()


def test_changing_an_input_of_an_op_that_saved_nothing_is_fine_like_torch():
    def prog(lib, x):
        y = x * 2
        z = y + 1  # add saves nothing
        c = y[0:2].clone()  # clone and the view save nothing
        y.mul_(3)
        return z * 2 + y + c.sum()

    run_both(prog, R.standard_normal(3))


def test_an_operand_that_shares_memory_with_the_target():
    def prog(lib, x):
        y = x * 2
        y[2:].add_(y[:2])  # another part of the same base
        return y

    run_both(prog, R.standard_normal(4))


def test_multiplying_by_itself_uses_the_old_value():
    x = gf.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    y = x * 2
    y.mul_(y)  # PyTorch refuses this at backward (mul saved y); gradfit keeps the old value
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())


# A view made before its base (or another view of it) changes in place must be differentiated
# through the change: PyTorch regenerates its grad_fn; gradfit renews its node at the change
# (gradfit.ops.views). It kept the old node before, and the gradient was silently wrong.
STALE_VIEW_CASES = {
    "base changed": lambda t: (lambda y: (t.mul_(3), (y * y).sum())[1])(t.reshape(2, 3)),
    "through a view of the view": lambda t: (lambda y: (y[0].mul_(3), (y * y).sum())[1])(
        t.reshape(2, 3)
    ),
    "through a sibling view": lambda t: (lambda y, z: (z.mul_(3), (y * y).sum())[1])(t[:, 0], t[0]),
    "setitem on the base": lambda t: (
        lambda y: (t.__setitem__((0, 1), t[1, 2] * 5), (y * y).sum())[1]
    )(t.flatten()),
    "transposed view, two changes": lambda t: (
        lambda y: (t.add_(1.0), t[1].mul_(2), y.exp().sum())[2]
    )(t.T),
}


@pytest.mark.parametrize("case", list(STALE_VIEW_CASES))
def test_views_follow_in_place_changes_of_their_base(case):
    a0 = np.arange(1, 7, dtype=np.float32).reshape(2, 3) / 4
    a = gf.tensor(a0, requires_grad=True)
    STALE_VIEW_CASES[case](a * 1).backward()
    b = torch.tensor(a0, requires_grad=True)
    STALE_VIEW_CASES[case](b * 1).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)
