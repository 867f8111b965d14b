"""Reductions with dim/keepdim (incl. negative and tuple dims) against PyTorch, and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradfit as gf
from oracle import check
from strategies import dtypes, positive, rand, seeds, shape_and_dim, shape_and_dims


def _tdim(dim):
    return tuple(range(0)) if dim is None else dim


@given(sd=shape_and_dims(), keepdim=st.booleans(), dtype=dtypes, seed=seeds)
def test_sum_mean(sd, keepdim, dtype, seed):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    if dim is None:
        check(lambda a: a.sum(), lambda a: a.sum(), [x])
        check(lambda a: a.mean(), lambda a: a.mean(), [x])
    else:
        check(
            lambda a: a.sum(dim=dim, keepdim=keepdim),
            lambda a: a.sum(dim=dim, keepdim=keepdim),
            [x],
        )
        check(
            lambda a: a.mean(dim=dim, keepdim=keepdim),
            lambda a: a.mean(dim=dim, keepdim=keepdim),
            [x],
        )


@given(sd=shape_and_dims(), keepdim=st.booleans(), dtype=dtypes, seed=seeds)
def test_amax_amin_logsumexp_norm(sd, keepdim, dtype, seed):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    td = _tdim(dim) if dim is not None else tuple(range(len(shape)))
    check(
        lambda a: a.amax(dim=dim, keepdim=keepdim), lambda a: a.amax(dim=td, keepdim=keepdim), [x]
    )
    check(
        lambda a: a.amin(dim=dim, keepdim=keepdim), lambda a: a.amin(dim=td, keepdim=keepdim), [x]
    )
    check(
        lambda a: a.logsumexp(dim=dim, keepdim=keepdim),
        lambda a: a.logsumexp(dim=td, keepdim=keepdim),
        [x],
    )
    for p in (2, 1, float("inf"), 3):
        check(
            lambda a, p=p: a.norm(p=p, dim=dim, keepdim=keepdim),
            lambda a, p=p: torch.linalg.vector_norm(
                a, ord=p, dim=td if dim is not None else None, keepdim=keepdim
            ),
            [x],
        )


@given(
    sd=shape_and_dims(),
    keepdim=st.booleans(),
    dtype=dtypes,
    seed=seeds,
    corr=st.sampled_from([0, 1]),
)
def test_var_std(sd, keepdim, dtype, seed, corr):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    n = (
        int(
            np.prod(
                [shape[d] for d in ((dim,) if isinstance(dim, int) else (dim or range(len(shape))))]
            )
        )
        if shape
        else 1
    )
    if n - corr <= 0:
        return  # torch gives nan/inf with a warning there; covered elsewhere
    check(
        lambda a: a.var(dim=dim, keepdim=keepdim, correction=corr),
        lambda a: torch.var(a, dim=dim, keepdim=keepdim, correction=corr),
        [x],
        rtol=1e-3 if dtype == np.float32 else None,
    )
    if n > 1 or corr == 0:
        check(
            lambda a: a.std(dim=dim, keepdim=keepdim, unbiased=bool(corr)),
            lambda a: torch.std(a, dim=dim, keepdim=keepdim, correction=corr),
            [x] if n > 1 else [x + 0],
            rtol=1e-3 if dtype == np.float32 else None,
        )


@given(sd=shape_and_dim(), keepdim=st.booleans(), dtype=dtypes, seed=seeds)
def test_max_min_with_dim_return_values_and_indices(sd, keepdim, dtype, seed):
    shape, dim = sd
    x = rand(shape, dtype, seed)
    check(lambda a: tuple(a.max(dim, keepdim)), lambda a: tuple(a.max(dim, keepdim)), [x])
    check(lambda a: tuple(a.min(dim, keepdim)), lambda a: tuple(a.min(dim, keepdim)), [x])
    check(lambda a: a.argmax(dim, keepdim), lambda a: a.argmax(dim, keepdim), [x], grad=False)
    check(lambda a: a.argmin(dim=dim), lambda a: a.argmin(dim=dim), [x], grad=False)


@given(sd=shape_and_dim(), keepdim=st.booleans(), dtype=dtypes, seed=seeds)
def test_prod(sd, keepdim, dtype, seed):
    shape, dim = sd
    x = rand(shape, dtype, seed, 0.5, 1.5)
    check(lambda a: a.prod(dim, keepdim), lambda a: a.prod(dim, keepdim), [x])
    check(lambda a: a.prod(), lambda a: a.prod(), [x])


def test_prod_gradient_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 4.0]])
    check(lambda a: a.prod(1), lambda a: a.prod(1), [x])
    check(lambda a: a.prod(0), lambda a: a.prod(0), [x])
    check(lambda a: a.prod(), lambda a: a.prod(), [np.array([2.0, 0.0, 3.0])])


def test_full_max_ties_share_gradient_like_torch():
    x = np.array([[1.0, 3.0], [3.0, 2.0]])
    check(lambda a: a.max(), lambda a: a.max(), [x])
    check(lambda a: a.amax(dim=1), lambda a: a.amax(dim=1), [x])


def test_logsumexp_is_stable():
    x = np.array([[1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]], dtype=np.float32)
    check(lambda a: a.logsumexp(dim=1), lambda a: a.logsumexp(dim=1), [x])


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: a.sum(dim=(0, 2)),
        lambda a: a.mean(dim=-1, keepdim=True),
        lambda a: a.var(dim=1),
        lambda a: a.std(),
        lambda a: a.norm(dim=0),
        lambda a: a.norm(p=3),
        lambda a: a.logsumexp(dim=1),
        lambda a: a.prod(dim=2),
        lambda a: a.amax(dim=(1, 2)),
        lambda a: a.max(dim=0).values,
    ],
)
def test_gradcheck(fn):
    x = gf.tensor(rand((2, 3, 4), np.float64, 7), requires_grad=True)
    assert gf.gradcheck(fn, [x])


def test_norm_of_zero_vector_has_zero_gradient():
    x = gf.zeros(3, requires_grad=True)
    x.norm().backward()
    assert np.all(x.grad.numpy() == 0)


def test_bad_dims_are_clear_errors():
    with pytest.raises(IndexError, match=r"sum: dim 3 is out of range .* 2 dimensions"):
        gf.ones(2, 3).sum(dim=3)
    with pytest.raises(ValueError, match="twice"):
        gf.ones(2, 3).sum(dim=(1, -1))
    with pytest.raises(TypeError, match="mean: expected a floating-point tensor"):
        gf.tensor([1, 2]).mean()


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "norm", "var", "std"])
def test_empty_dim_tuple_reduces_every_dimension_as_torch(name):
    x = rand((2, 3), np.float64, 0)
    # torch's var/std values with dim=() are right but their gradients are inf: compare with dim=None
    tdim = None if name in ("var", "std") else ()
    check(lambda a: getattr(a, name)(dim=()), lambda a: getattr(a, name)(dim=tdim), [x])


def test_reductions_keep_float32():
    x = gf.tensor(positive((3, 4)), requires_grad=True)
    outs = [x.sum(), x.mean(1), x.var(0), x.std(), x.norm(), x.logsumexp(1), x.prod(1), x.amax()]
    for o in outs:
        assert o.dtype == np.float32
    sum(o.sum() for o in outs).backward()
    assert x.grad.dtype == np.float32


# Empty and 0-d inputs: the result (or the error) is PyTorch's. Each entry: how to call the
# reduction with a dim (None: over everything) in gradfit and in torch, and the dims it takes.
EMPTY_REDUCTIONS = {
    "sum": (lambda a, d: a.sum() if d is None else a.sum(dim=d), "tuple"),
    "mean": (lambda a, d: a.mean() if d is None else a.mean(dim=d), "tuple"),
    "prod": (lambda a, d: a.prod() if d is None else a.prod(d), "int"),
    "amax": (lambda a, d: a.amax() if d is None else a.amax(dim=d), "tuple"),
    "amin": (lambda a, d: a.amin() if d is None else a.amin(dim=d), "tuple"),
    "max": (lambda a, d: a.max() if d is None else a.max(d)[0], "int"),
    "min": (lambda a, d: a.min() if d is None else a.min(d)[0], "int"),
    "logsumexp": (lambda a, d: a.logsumexp(dim=d), "tuple_required"),
    "norm": (lambda a, d: a.norm() if d is None else a.norm(dim=d), "tuple"),
    "var": (lambda a, d: a.var() if d is None else a.var(dim=d), "tuple"),
}
EMPTY_SHAPES = [(), (0,), (0, 3), (3, 0), (2, 0, 3)]


def _empty_cases():
    cases = []
    for name, (_, kind) in EMPTY_REDUCTIONS.items():
        for shape in EMPTY_SHAPES:
            n = len(shape)
            dims = [] if kind == "tuple_required" else [None]
            dims += [0, -1] if n == 0 else list(range(n))
            if kind != "int" and n >= 2:
                dims.append((0, n - 1))
            cases += [(name, shape, d) for d in dims]
    return cases


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch: var with no degrees of freedom
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # -inf * weights in check
@pytest.mark.parametrize(("name", "shape", "dim"), _empty_cases(), ids=str)
def test_reductions_of_empty_and_0d_tensors_match_torch(name, shape, dim):
    fn, _ = EMPTY_REDUCTIONS[name]
    x = rand(shape, np.float64, 1)
    try:
        fn(torch.from_numpy(x), dim)
    except (RuntimeError, IndexError) as e:
        # undefined in torch (max of nothing): gradfit raises a clear error naming the op
        with pytest.raises((ValueError, IndexError), match=name) as info:
            fn(gf.tensor(x), dim)
        assert "tuple index" not in str(info.value), f"torch: {e}"
        return
    check(lambda a: fn(a, dim), lambda a: fn(a, dim), [x])


def test_argmax_of_empty_tensors_matches_torch():
    x = np.zeros((0, 3))
    check(lambda a: a.argmax(dim=1), lambda a: a.argmax(dim=1), [x], grad=False)
    check(lambda a: a.argmin(1, True), lambda a: a.argmin(1, True), [x], grad=False)
    with pytest.raises(IndexError, match="argmax: cannot reduce over dimension 0"):
        gf.tensor(x).argmax(dim=0)
    with pytest.raises(ValueError, match="argmax: cannot reduce all of an empty tensor"):
        gf.tensor(x).argmax()


def test_prod_of_empty_tensor_backpropagates_an_empty_gradient():
    x = gf.zeros(0, requires_grad=True)
    y = x.prod()
    y.backward()
    assert y.item() == 1.0 and x.grad.shape == (0,)


@st.composite
def _maybe_empty_shape_and_dim(draw):
    """A shape that may have zero-size dims (and may be 0-d), and None or one of its dims."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    n = max(len(shape), 1)
    return shape, draw(st.one_of(st.none(), st.integers(-n, n - 1)))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize(
    "name", ["sum", "mean", "prod", "amax", "logsumexp", "norm", "var", "std", "max"]
)
@given(sd=_maybe_empty_shape_and_dim(), keepdim=st.booleans(), seed=seeds)
def test_reductions_with_zero_size_dims_match_torch(name, sd, keepdim, seed):
    shape, dim = sd
    if name == "logsumexp" and dim is None:
        dim = tuple(range(len(shape)))  # logsumexp needs dim in torch
    x = rand(shape, np.float64, seed)

    def fn(a):
        if name == "max":
            return a.max() if dim is None else a.max(dim, keepdim)[0]
        if dim is None:
            return getattr(a, name)()
        return getattr(a, name)(dim=dim, keepdim=keepdim)

    try:
        fn(torch.from_numpy(x))
    except (RuntimeError, IndexError):
        with pytest.raises((ValueError, IndexError)):
            fn(gf.tensor(x))
        return
    check(fn, fn, [x])


@pytest.mark.parametrize(
    ("shape", "dim"), [(s, d) for s in EMPTY_SHAPES for d in [None, 0, -1]], ids=str
)
def test_inf_norm_of_empty_tensors_matches_torch_and_names_norm(shape, dim):
    x = rand(shape, np.float64, 1)

    def fn(a):
        return a.norm(p=float("inf")) if dim is None else a.norm(p=float("inf"), dim=dim)

    try:
        torch.linalg.vector_norm(torch.from_numpy(x), float("inf"), dim=dim)
    except (RuntimeError, IndexError):  # the largest |x| of nothing: torch refuses it
        with pytest.raises((ValueError, IndexError), match=r"^norm\(p=inf\): cannot reduce"):
            fn(gf.tensor(x))
        return
    check(fn, lambda a: torch.linalg.vector_norm(a, float("inf"), dim=dim), [x])


@pytest.mark.parametrize("name", ["sum", "mean"])
@pytest.mark.parametrize(
    ("shape", "dim", "keepdim"),
    [
        ((), None, False),
        ((3, 4), None, False),
        ((3, 4), None, True),
        ((3, 4), 0, False),
        ((3, 4), -1, True),
        ((2, 0, 3), 1, False),
        ((63, 65), (0, 1), False),  # 4095 elements: the last size written into a new array
        ((63, 65), 1, False),
        ((64, 64), None, False),  # 4096: the first size given a broadcast view
        ((64, 64), 0, True),
        ((64, 64), 1, False),
    ],
)
def test_sum_mean_backward_small_new_array_large_broadcast_view(name, shape, dim, keepdim):
    x0 = np.random.default_rng(0).standard_normal(shape)
    x, tx = gf.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    outs = []
    for lib, v in ((gf, x), (torch, tx)):
        r = getattr(v, name)() if dim is None else getattr(v, name)(dim=dim, keepdim=keepdim)
        w = lib.tensor(np.arange(1.0, 1.0 + r.numel()).reshape(tuple(r.shape)))
        # x used twice: the second gradient is added to the first, which is a copy if a view
        ((r * w).sum() + getattr(v, name)() * 3).backward()
        outs.append(r)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert type(x.grad._data) is np.ndarray and x.grad._data.flags.writeable
    x.grad.zero_()

    r = outs[0]
    g = r.grad_fn.backward(np.ones(r.shape))[0]
    assert type(g) is np.ndarray and g.shape == shape and g.dtype == np.float64
    if x.numel() < 4096:  # a new array: cheap to make, safe to write into
        assert g.base is None and g.flags.writeable
    else:  # a broadcast view: no memory for the gradient of a large input
        assert not g.flags.writeable and 0 in g.strides
