"""Names PyTorch accepts for existing things: keepdims=/axis=, t(), type(), comparisons,
contiguous(), mm/bmm, dtype helpers, finfo/iinfo, inference_mode, set_printoptions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from oracle import assert_close, check

X = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)

REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "logsumexp", "var", "std"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize(
    "kw", [{"axis": 1}, {"dim": 0, "keepdims": True}, {"axis": -1, "keepdims": True}]
)
def test_reduction_aliases_match_torch(name, kw):
    check(lambda a: getattr(gf, name)(a, **kw), lambda a: getattr(torch, name)(a, **kw), [X])
    check(lambda a: getattr(a, name)(**kw), lambda a: getattr(a, name)(**kw), [X])


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
def test_dim_reduction_aliases_match_torch(name):
    g = getattr(gf, name)(gf.tensor(X), axis=1, keepdims=True)
    t = getattr(torch, name)(torch.tensor(X), axis=1, keepdims=True)
    g0 = g[0] if isinstance(g, tuple) else g
    t0 = t[0] if isinstance(t, tuple) else t
    assert_close(g0, t0)


def test_dim_and_axis_together_refused():
    with pytest.raises(TypeError):
        gf.sum(gf.ones(2), dim=0, axis=0)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0, 2)])
def test_t_matches_torch(shape):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    check(lambda a: a.t(), lambda a: a.t(), [x])
    check(lambda a: gf.t(a), lambda a: torch.t(a), [x])


def test_t_refuses_3d():
    with pytest.raises(RuntimeError):
        torch.ones(2, 2, 2).t()
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        gf.ones(2, 2, 2).t()


TYPE_CASES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("dt", TYPE_CASES)
def test_type_strings_match_torch(dt):
    g = gf.ones(2).to(getattr(gf, dt) if dt != "bool" else gf.bool)
    t = torch.ones(2).to(getattr(torch, dt))
    assert g.type() == t.type()
    assert gf.ones(2).type(t.type()).dtype == np.dtype(dt)
    assert g.element_size() == t.element_size()


def test_type_and_type_as():
    assert gf.ones(2).type(gf.float64).dtype == gf.float64
    assert gf.ones(2).type_as(gf.zeros(1, dtype=gf.int64)).dtype == gf.int64
    with pytest.raises(ValueError):
        gf.ones(2).type("torch.NoSuchTensor")
    with pytest.raises(TypeError):
        gf.ones(2).type_as(np.zeros(1))
    x = gf.ones(2, requires_grad=True)
    x.type(gf.float64).sum().backward()
    assert x.grad.dtype == gf.float32


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
@pytest.mark.parametrize("other", [0.5, "tensor", "row"])
def test_comparisons_match_torch(name, other):
    b = {"tensor": X[::-1].copy(), "row": X[0]}.get(other, other)
    gb = gf.tensor(b) if isinstance(b, np.ndarray) else b
    tb = torch.tensor(b) if isinstance(b, np.ndarray) else b
    g1 = getattr(gf, name)(gf.tensor(X), gb)
    g2 = getattr(gf.tensor(X), name)(gb)
    t = getattr(torch, name)(torch.tensor(X), tb)
    for g in (g1, g2):
        assert g.dtype == np.bool_
        np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_comparisons_empty_and_bad_shapes():
    assert gf.eq(gf.ones(0), gf.ones(0)).shape == (0,)
    assert gf.gt(gf.tensor(2.0), 1.0).item() is True
    with pytest.raises(RuntimeError):
        torch.eq(torch.ones(2), torch.ones(3))
    with pytest.raises(RuntimeError):
        gf.eq(gf.ones(2), gf.ones(3))


def test_contiguous_and_sizes():
    for make in (
        lambda m: m.ones(2, 3),
        lambda m: m.ones(2, 3).t(),
        lambda m: m.ones(0),
        lambda m: m.ones(()),
    ):
        g, t = make(gf), make(torch)
        assert g.is_contiguous() == t.is_contiguous()
        assert g.contiguous().is_contiguous()
        assert g.nelement() == t.nelement() == gf.numel(g) == torch.numel(t)
    x = gf.ones(2, 3, requires_grad=True)
    y = x.t().contiguous()
    (y * gf.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(3, 2).T)


@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 4)), ((0, 3), (3, 2)), ((2, 0), (0, 2))])
def test_mm_matches_torch(sa, sb):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    check(lambda x, y: gf.mm(x, y), lambda x, y: torch.mm(x, y), [a, b])
    check(lambda x, y: x.mm(y), lambda x, y: x.mm(y), [a.astype(np.float32), b.astype(np.float32)])


def test_bmm_matches_torch():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 3, 5))
    check(lambda x, y: gf.bmm(x, y), lambda x, y: torch.bmm(x, y), [a, b])
    check(lambda x, y: x.bmm(y), lambda x, y: x.bmm(y), [a, b])
    x = gf.tensor(a[:, :, :2], requires_grad=True)
    assert gf.gradcheck(lambda u: gf.bmm(u, gf.tensor(b[:, :2])), (x,))


@pytest.mark.parametrize(
    "fn,sa,sb",
    [
        ("mm", (2, 3), (4, 2)), ("mm", (2, 3, 1), (1, 2)), ("mm", (3,), (3, 2)),
        ("bmm", (2, 2, 3), (3, 3, 2)), ("bmm", (2, 2, 3), (2, 2, 2)), ("bmm", (2, 3), (3, 2)),
    ],
)  # fmt: skip
def test_mm_bmm_errors_match_torch(fn, sa, sb):
    with pytest.raises(RuntimeError):
        getattr(torch, fn)(torch.ones(sa), torch.ones(sb))
    with pytest.raises(RuntimeError):
        getattr(gf, fn)(gf.ones(sa), gf.ones(sb))


def test_mm_dtype_mismatch_refused():
    with pytest.raises(RuntimeError):
        torch.mm(torch.ones(2, 2), torch.ones(2, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError):
        gf.mm(gf.ones(2, 2), gf.ones(2, 2, dtype=gf.float64))


def test_tensor_queries():
    assert gf.is_tensor(gf.ones(1)) and not gf.is_tensor(np.ones(1))
    for dt in ("float32", "float64", "int64", "bool"):
        assert (
            gf.ones(1, dtype=dt).is_floating_point()
            == torch.ones(1, dtype=getattr(torch, dt)).is_floating_point()
        )
        assert gf.is_floating_point(gf.ones(1, dtype=dt)) == (dt.startswith("float"))
    with pytest.raises(TypeError):
        gf.numel([1, 2])


def test_as_tensor_shares_or_copies_like_torch():
    a = np.arange(3, dtype=np.float32)
    assert gf.as_tensor(a).numpy() is a
    assert gf.as_tensor(a, dtype=gf.float64).numpy() is not a
    t = gf.ones(2)
    assert gf.as_tensor(t) is t
    assert gf.as_tensor([1, 2]).dtype == gf.int64
    assert gf.as_tensor(np.float64(2.0)).shape == ()


def test_dtype_names_exist_as_in_torch():
    for name, want in [("float", "float32"), ("double", "float64"), ("half", "float16"), ("int", "int32"),
                       ("short", "int16"), ("long", "int64"), ("uint8", "uint8"), ("bool", "bool"),
                       ("int8", "int8"), ("float16", "float16")]:  # fmt: skip
        assert getattr(gf, name) == np.dtype(want)
        assert str(getattr(torch, name)) == "torch." + want
    assert gf.ones(2).dtype == gf.float32
    with pytest.raises(AttributeError, match="bfloat16"):
        _ = gf.bfloat16


@pytest.mark.parametrize("dt", ["float16", "float32", "float64", None])
def test_finfo_matches_torch(dt):
    g = gf.finfo(getattr(gf, dt) if dt else None)
    t = torch.finfo(getattr(torch, dt)) if dt else torch.finfo()
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(g, attr) == getattr(t, attr), attr
    assert repr(g).startswith("finfo(resolution=")


@pytest.mark.parametrize("dt", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(dt):
    g, t = gf.iinfo(getattr(gf, dt)), torch.iinfo(getattr(torch, dt))
    assert (g.bits, g.min, g.max) == (t.bits, t.min, t.max)


def test_finfo_iinfo_wrong_kind():
    with pytest.raises(TypeError):
        torch.finfo(torch.int64)
    with pytest.raises(TypeError):
        gf.finfo(gf.int64)
    with pytest.raises(TypeError):
        gf.iinfo(gf.float32)


def test_default_dtype():
    assert gf.get_default_dtype() == gf.float32
    try:
        gf.set_default_dtype(gf.float64)
        assert gf.tensor([1.5]).dtype == gf.float64 and gf.zeros(2).dtype == gf.float64
        assert gf.rand(2).dtype == gf.float64 and gf.get_default_dtype() == gf.float64
    finally:
        gf.set_default_dtype(gf.float32)
    assert gf.zeros(1).dtype == gf.float32
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)
    with pytest.raises(TypeError, match="floating-point"):
        gf.set_default_dtype(gf.int64)


def test_inference_mode_context_and_decorators():
    w = gf.ones(2, requires_grad=True)
    with gf.inference_mode():
        assert not gf.is_grad_enabled()
        assert not (w * 2).requires_grad
    assert gf.is_grad_enabled()
    with gf.inference_mode(False):
        assert (w * 2).requires_grad

    @gf.inference_mode()
    def f(x):
        return x * 2

    @gf.inference_mode
    def g(x):
        return x * 2

    assert not f(w).requires_grad and not g(w).requires_grad and (w * 2).requires_grad
    assert f.__name__ == "f" and g.__name__ == "g"


@pytest.fixture
def reset_print():
    yield
    gf.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def test_printoptions_precision_and_sci(reset_print):
    vals = [1.234567, 2.5, 1500.0]
    for kw in ({"precision": 2}, {"precision": 6}):
        gf.set_printoptions(**kw)
        torch.set_printoptions(**kw)
        assert repr(gf.tensor(vals)) == repr(torch.tensor(vals))
    gf.set_printoptions(sci_mode=True, precision=2)
    assert "e+03" in repr(gf.tensor([1500.0]))
    gf.set_printoptions(sci_mode=False)
    assert "e+05" not in repr(gf.tensor([1e-5, 1e5]))


def test_printoptions_threshold_and_edgeitems(reset_print):
    gf.set_printoptions(threshold=5, edgeitems=2)
    torch.set_printoptions(threshold=5, edgeitems=2)
    # the same items are shown (torch pads "..." with one more space)
    assert repr(gf.arange(10)).split() == repr(torch.arange(10)).split()
    gf.set_printoptions(profile="full")
    assert "..." not in repr(gf.arange(2000))
    with pytest.raises(ValueError):
        gf.set_printoptions(profile="tiny")
