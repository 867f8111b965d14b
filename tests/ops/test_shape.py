"""Shape ops and indexing against PyTorch (values and gradients) and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import gradfit as gf
from oracle import check
from strategies import dtypes, nonscalar_shapes, rand, seeds, shape_and_dim, shapes


@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_reshape_flatten_view(shape, dtype, seed):
    x = rand(shape, dtype, seed)
    check(lambda a: a.reshape(-1), lambda a: a.reshape(-1), [x])
    check(lambda a: a.view(1, -1), lambda a: a.reshape(1, -1), [x])
    check(lambda a: a.flatten(), lambda a: a.flatten(), [x])
    if len(shape) >= 2:
        check(lambda a: a.flatten(1), lambda a: a.flatten(1), [x])
        check(lambda a: a.flatten(0, -2), lambda a: a.flatten(0, -2), [x])


@given(shape=nonscalar_shapes, dtype=dtypes, seed=seeds, data=st.data())
def test_permute_transpose_T(shape, dtype, seed, data):
    x = rand(shape, dtype, seed)
    perm = data.draw(st.permutations(range(len(shape))))
    check(lambda a: a.permute(*perm), lambda a: a.permute(*perm), [x])
    d0 = data.draw(st.integers(-len(shape), len(shape) - 1))
    d1 = data.draw(st.integers(-len(shape), len(shape) - 1))
    check(lambda a: a.transpose(d0, d1), lambda a: a.transpose(d0, d1), [x])
    if len(shape) == 2:
        check(lambda a: a.T, lambda a: a.T, [x])
    if len(shape) >= 2:
        check(lambda a: a.mT, lambda a: a.mT, [x])


@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_squeeze_unsqueeze(shape, dtype, seed):
    x = rand(shape, dtype, seed)
    check(lambda a: a.squeeze(), lambda a: a.squeeze(), [x])
    for d in range(-len(shape) - 1, len(shape) + 1):
        check(lambda a, d=d: a.unsqueeze(d), lambda a, d=d: a.unsqueeze(d), [x])
    for d in range(-len(shape), len(shape)):
        check(lambda a, d=d: a.squeeze(d), lambda a, d=d: a.squeeze(d), [x])


@given(shape=shapes, dtype=dtypes, seed=seeds, data=st.data())
def test_expand_broadcast_to_repeat(shape, dtype, seed, data):
    x = rand(shape, dtype, seed)
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2))
    target = tuple(lead) + tuple(data.draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    check(lambda a: a.expand(target), lambda a: a.expand(target), [x])
    check(lambda a: gf.broadcast_to(a, target), lambda a: torch.broadcast_to(a, target), [x])
    reps = tuple(lead) + tuple(data.draw(st.integers(1, 3)) for _ in shape)
    if reps:
        check(lambda a: a.repeat(*reps), lambda a: a.repeat(*reps), [x])


@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds, n=st.integers(1, 3))
def test_cat_stack(sd, dtype, seed, n):
    shape, dim = sd
    arrays = [rand(shape, dtype, seed + i) for i in range(n)]
    check(lambda *a: gf.cat(a, dim), lambda *a: torch.cat(a, dim), arrays)
    check(lambda *a: gf.stack(a, dim), lambda *a: torch.stack(a, dim), arrays)
    check(lambda *a: gf.stack(a, -1), lambda *a: torch.stack(a, -1), arrays)


@given(sd=shape_and_dim(), dtype=dtypes, seed=seeds, size=st.integers(1, 4))
def test_split_chunk(sd, dtype, seed, size):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    check(lambda a: a.split(size, dim), lambda a: a.split(size, dim), [x])
    check(lambda a: a.chunk(size, dim), lambda a: a.chunk(size, dim), [x])


def test_split_with_sections():
    x = rand((5, 3))
    check(lambda a: a.split([2, 3]), lambda a: a.split([2, 3]), [x])


@given(shape=nonscalar_shapes, dtype=dtypes, seed=seeds, data=st.data())
def test_pad_and_flip(shape, dtype, seed, data):
    x = rand(shape, dtype, seed)
    npairs = data.draw(st.integers(1, len(shape)))
    pad = tuple(data.draw(st.integers(0, 2)) for _ in range(2 * npairs))
    check(lambda a: gf.pad(a, pad, value=0.5), lambda a: TF.pad(a, pad, value=0.5), [x])
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    check(lambda a: a.flip(dims), lambda a: a.flip(dims), [x])


INDICES = [
    (2,),
    (-1,),
    (slice(1, None),),
    (slice(None, None, 2),),
    (None, 1),
    (Ellipsis, 0),
    (slice(None), None, 1),
    ([0, 2, 2, 1],),  # repeated: gradients accumulate
    (np.array([[0, 1], [1, 1]]),),
    (slice(None), [0, 0, 1]),
    ([1, 0], [0, 2]),
]


@pytest.mark.parametrize("idx", INDICES, ids=[repr(i) for i in INDICES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_indexing(idx, dtype):
    x = rand((4, 3, 2), dtype, 5)
    tidx = tuple(torch.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in idx)
    gidx = idx if len(idx) > 1 else idx[0]
    check(lambda a: a[gidx], lambda a: a[tidx if len(idx) > 1 else tidx[0]], [x])


def test_boolean_mask_and_tensor_indices():
    x = rand((4, 3), np.float64, 1)
    check(lambda a: a[a > 0], lambda a: a[a > 0], [x])
    check(lambda a: a[gf.tensor([3, 3, 0])], lambda a: a[torch.tensor([3, 3, 0])], [x])
    check(
        lambda a: a[:, gf.tensor([True, False, True])],
        lambda a: a[:, torch.tensor([True, False, True])],
        [x],
    )


def _torch_index(idx):
    """The same index for PyTorch: lists and arrays as tensors, 0-d gradfit tensors as tensors."""
    out = []
    for i in idx:
        if isinstance(i, (list, np.ndarray)):
            out.append(torch.tensor(np.asarray(i)))
        elif isinstance(i, gf.Tensor):
            out.append(torch.tensor(i.numpy()))
        else:
            out.append(i)
    return tuple(out)


MIXED_INDICES = [
    (1, slice(None), [0, 0]),  # NumPy would give (2, 4); PyTorch applies the int first: (4, 2)
    (-1, slice(None), [4, 0, 4]),
    (1, None, slice(None), [0, 3]),
    (Ellipsis, 1, [0, 1]),
    (1, Ellipsis, [2, 2]),
    ([0, 1], 1, Ellipsis, [2, 3]),
    ([2, 0], slice(1, 3), 4),
    (2, [True, False, True, False], [1, 2]),
    (1, np.ones((4, 5), dtype=bool)),
    (slice(None), 2, np.array([[0, 1], [4, 4]])),
    (True, 1, slice(None), [0, 0]),
    (1, 2, 3, True),
    (1, slice(None, None, 2), None, [[1], [3]]),
    (np.int64(0), slice(None), np.array(2)),  # NumPy ints and 0-d arrays count as ints
    ([1, 0], slice(None), np.array(2)),
    (slice(None), [0], Ellipsis, [0]),  # an empty Ellipsis does not separate advanced indices
    (np.eye(3, 4, dtype=bool), Ellipsis, 2),
]


@pytest.mark.parametrize("idx", MIXED_INDICES, ids=[repr(i) for i in MIXED_INDICES])
def test_mixed_int_and_advanced_indexing_matches_torch(idx):
    x = rand((3, 4, 5), np.float64, 2)
    check(lambda a: a[idx], lambda a: a[_torch_index(idx)], [x])


def test_zero_dim_tensor_index_is_an_int():
    x = rand((3, 4, 5), np.float64, 3)
    i = gf.tensor(1)
    check(lambda a: a[i, :, [0, 0]], lambda a: a[torch.tensor(1), :, [0, 0]], [x])
    check(lambda a: a[i], lambda a: a[torch.tensor(1)], [x])


@st.composite
def mixed_index(draw):
    """A shape and an index mixing ints, slices, None, Ellipsis, int lists and 1-d masks."""
    shape = tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=4)))
    n_sel = draw(st.integers(1, 3))  # every int list / mask selects this many elements

    def parts_for(sizes):
        parts = []
        for size in sizes:
            kind = draw(st.sampled_from(["int", "slice", "list", "mask"]))
            if kind == "int":
                parts.append(draw(st.integers(-size, size - 1)))
            elif kind == "slice":
                start, step = draw(st.integers(0, size - 1)), draw(st.integers(1, 2))
                parts.append(slice(start, None, step))
            elif kind == "list" or size < n_sel:
                parts.append(
                    draw(st.lists(st.integers(0, size - 1), min_size=n_sel, max_size=n_sel))
                )
            else:
                parts.append(draw(st.permutations([True] * n_sel + [False] * (size - n_sel))))
            if draw(st.integers(0, 4)) == 0:
                parts.append(None)
        return parts

    n_head = draw(st.integers(0, len(shape)))
    head = parts_for(shape[:n_head])
    if not draw(st.booleans()):
        return shape, tuple(head)
    n_tail = draw(st.integers(0, len(shape) - n_head))
    tail = parts_for(shape[len(shape) - n_tail :])
    return shape, (*head, Ellipsis, *tail)


@given(case=mixed_index(), seed=seeds)
def test_mixed_indexing_hypothesis_matches_torch(case, seed):
    shape, idx = case
    x = rand(shape, np.float64, seed)
    check(lambda a: a[idx], lambda a: a[_torch_index(idx)], [x])


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: a.reshape(6, 2).T @ a.reshape(6, 2),
        lambda a: a.permute(2, 0, 1).flatten(1),
        lambda a: a.unsqueeze(0).expand(3, 2, 3, 2).sum(0),
        lambda a: a.repeat(2, 1, 3),
        lambda a: gf.cat([a, a * 2], dim=1),
        lambda a: gf.stack([a, a.flip(0)], dim=-1),
        lambda a: a.split(1, dim=1)[1] * a.chunk(3, dim=1)[2],
        lambda a: gf.pad(a, (1, 2, 0, 1)),
        lambda a: a[[0, 0, 1], 1:] ** 2,
        lambda a: a[a > 0].sum() + a[:, None, 0].sum(),
        lambda a: a[1, :, [0, 0, 1]].sum(0) * a[0, [1, 1, 2], 1],
    ],
)
def test_gradcheck(fn):
    x = gf.tensor(rand((2, 3, 2), np.float64, 4), requires_grad=True)
    assert gf.gradcheck(fn, [x])


def test_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        gf.ones(2, 3).reshape(4, 2)
    with pytest.raises(IndexError, match=r"shape \(3,\).*out of bounds"):
        gf.ones(3)[5]
    with pytest.raises(IndexError, match=r"shape \(3,\)"):
        gf.ones(3)[[0, 7]]
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\)"):
        gf.cat([gf.ones(2, 3), gf.ones(2, 4)])
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape"):
        gf.stack([gf.ones(2), gf.ones(3)])
    with pytest.raises(ValueError, match="permute"):
        gf.ones(2, 3).permute(0, 0)
    with pytest.raises(ValueError, match="expand"):
        gf.ones(2, 3).expand(4, 3)


def test_cast_is_differentiable_and_float32_default():
    x = gf.ones(3, requires_grad=True)
    y = x.double() * 2
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])


def test_flip_of_0d_tensor_is_a_copy_as_torch():
    x = np.array(1.5)
    check(lambda a: a.flip(0), lambda a: a.flip(0), [x])
    check(lambda a: a.flip([-1]), lambda a: a.flip([-1]), [x])
    with pytest.raises(IndexError, match="flip: dimension 1 is out of range"):
        gf.tensor(1.0).flip(1)


def test_0d_tensors_cannot_be_concatenated_or_split_as_torch():
    x0, t0 = gf.tensor(1.0), torch.tensor(1.0)
    for gf_fn, torch_fn, msg in [
        (lambda: gf.cat([x0, x0]), lambda: torch.cat([t0, t0]), "zero-dimensional tensor"),
        (lambda: x0.split(1), lambda: t0.split(1), "split expects at least a 1-dimensional"),
        (lambda: x0.chunk(1), lambda: t0.chunk(1), "chunk expects at least a 1-dimensional"),
    ]:
        with pytest.raises(RuntimeError, match=msg):
            torch_fn()
        with pytest.raises(ValueError, match=msg):
            gf_fn()
    check(lambda a: gf.stack([a, a]), lambda a: torch.stack([a, a]), [np.array(2.0)])


def test_empty_tensors_split_cat_and_index_as_torch():
    x = rand((0, 3), np.float64, 0)
    check(lambda a: gf.cat([a, a], dim=1), lambda a: torch.cat([a, a], dim=1), [x])
    check(lambda a: a.split(2, dim=1)[1], lambda a: a.split(2, dim=1)[1], [x])
    check(lambda a: a[:, [0, 2]], lambda a: a[:, [0, 2]], [x])
    check(lambda a: a.flip(0), lambda a: a.flip(0), [x])


# ----------------------------------------------------------------- views that change nothing
# PyTorch returns a new tensor (sharing data and version counter) for these, never the input.
_NOOP_VIEWS = {
    "view": lambda a: a.view(tuple(a.shape)),
    "reshape": lambda a: a.reshape(tuple(a.shape)),
    "view_as": lambda a: a.view_as(a),
    "reshape_as": lambda a: a.reshape_as(a),
    "squeeze": lambda a: a.squeeze(),  # no dimension of size 1
    "squeeze(dim)": lambda a: a.squeeze(0),
    "expand": lambda a: a.expand(*a.shape),
    "expand(-1)": lambda a: a.expand(-1, -1),
    "expand_as": lambda a: a.expand_as(a),
}
_NOOP_VIEWS_1D = {
    "transpose": lambda a: a.transpose(0, -1),
    "T": lambda a: a.permute(0),
}


def _noop_cases():
    return [pytest.param(name, f, (2, 3), id=name) for name, f in _NOOP_VIEWS.items()] + [
        pytest.param(name, f, (3,), id=name) for name, f in _NOOP_VIEWS_1D.items()
    ]


@pytest.mark.parametrize(("name", "f", "shape"), _noop_cases())
def test_noop_view_is_a_new_tensor_whose_hook_sees_only_its_own_gradient(name, f, shape):
    x0 = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    res = []
    for lib in (gf, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = x * 2
        v = f(y)
        assert v is not y and v.shape == y.shape and v.requires_grad
        assert v.grad_fn is not None and v.grad_fn is not y.grad_fn
        v.register_hook(lambda g: g * 0)  # zeroes v's part of y's gradient, not y's own
        (v * v).sum().backward()
        w = f(x)
        w.retain_grad()  # a view of a leaf is a non-leaf: it retains its own gradient
        ((w * 5).sum() + (x * x).sum()).backward()
        res.append((x.grad, w.grad))
    (gx, gw), (tx, tw) = res
    np.testing.assert_allclose(gx.numpy(), tx.numpy())
    np.testing.assert_allclose(gw.numpy(), tw.numpy())


@pytest.mark.parametrize(("name", "f", "shape"), _noop_cases())
@pytest.mark.parametrize("grad_mode", [True, False])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_noop_view_shares_data_and_version_counter_as_torch(
    name, f, shape, grad_mode, requires_grad
):
    t = torch.zeros(shape, requires_grad=requires_grad)
    x = gf.zeros(*shape, requires_grad=requires_grad)
    with torch.set_grad_enabled(grad_mode), gf.set_grad_enabled(grad_mode):
        tv, v = f(t), f(x)
    assert (v is x) is (tv is t) is False
    assert v.is_leaf is tv.is_leaf
    # as gradfit's other views (x.reshape(6)) and unlike PyTorch's, a view made under
    # no_grad does not require grad
    assert v.requires_grad is (requires_grad and grad_mode)
    if grad_mode or not requires_grad:
        assert v.requires_grad is tv.requires_grad
    assert np.shares_memory(v._data, x._data)
    if name.startswith("expand"):
        return  # expanded views are read-only in gradfit (written through x below)
    with torch.no_grad(), gf.no_grad():
        before = x._version[0]
        v.add_(1)  # through the view: the base sees the values and the version bump
        tv.add_(1)
        assert x._version[0] == before + 1 and x.tolist() == t.tolist()
        x.mul_(3)  # through the base: the view sees both
        t.mul_(3)
        assert v._version[0] == before + 2 and v.tolist() == tv.tolist() == f(t).tolist()


def test_inplace_change_through_a_noop_view_is_caught_by_backward():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    v = y.view(2)
    with gf.no_grad():
        v.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_flatten_of_one_dim_and_cast_to_own_dtype_return_the_input_as_torch():
    for lib in (gf, torch):
        a = lib.ones(2, 3, requires_grad=True)
        assert a.flatten(1, 1) is a and a.flatten(-1) is a
        assert a.float() is a and a.to(lib.float32) is a
