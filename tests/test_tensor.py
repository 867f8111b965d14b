"""Tensor construction, properties, conversion, repr and operators."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf


def test_default_dtypes_follow_torch():
    assert gf.tensor([1.0, 2.0]).dtype == np.float32
    assert gf.tensor(np.array([1.0])).dtype == np.float64  # numpy arrays keep their dtype
    assert gf.tensor([1, 2]).dtype == np.int64
    assert gf.tensor([True, False]).dtype == np.bool_
    assert gf.tensor([1, 2], dtype="float64").dtype == np.float64
    assert gf.tensor(3.5).shape == ()


def test_properties_and_conversions():
    x = gf.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.size() == (2, 3) and x.size(-1) == 3
    assert x.numel() == 6 and len(x) == 2
    assert x.T.shape == (3, 2)
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert isinstance(x.numpy(), np.ndarray)
    assert x[1, 2].item() == 6.0
    assert x.double().dtype == np.float64 and x.long().dtype == np.int64
    assert x.astype("float64").float().dtype == np.float32
    assert float(x.sum()) == 21.0


def test_item_of_many_elements_is_an_error():
    with pytest.raises(ValueError, match=r"item: only a one-element tensor.*\(2,\)"):
        gf.ones(2).item()


def test_detach_and_requires_grad():
    w = gf.ones(2, requires_grad=True)
    y = w * 2
    assert w.is_leaf and not y.is_leaf
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    assert np.shares_memory(d.numpy(), y.numpy())
    z = gf.zeros(2).requires_grad_()
    assert z.requires_grad


def test_repr_is_readable():
    assert repr(gf.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(gf.ones(1, requires_grad=True))
    assert "grad_fn=<Mul>" in repr(gf.ones(1, requires_grad=True) * 2)
    assert "dtype=float64" in repr(gf.ones(1, dtype="float64"))


def test_comparisons_give_bool_tensors():
    x = gf.tensor([1.0, 2.0, 3.0])
    for r in (x > 1, x >= 2, x < 2, x <= 1, x == 2, x != 2):
        assert isinstance(r, gf.Tensor) and r.dtype == np.bool_
    assert (x > 1).tolist() == [False, True, True]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~(x > 1)).tolist() == [True, False, False]


def test_unsupported_data_is_a_clear_error():
    with pytest.raises(TypeError, match="cannot make a tensor from"):
        gf.tensor(["a", "b"])
    with pytest.raises(TypeError, match="unsupported dtype"):
        gf.tensor([1.0], dtype="complex64")


def test_bool_of_multi_element_tensor_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gf.ones(2))


def test_iteration_and_index_conversion():
    rows = list(gf.arange(6).reshape(3, 2))
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    assert [10, 20, 30][gf.tensor(1)] == 20


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (2**63, None),
        (-(2**63) - 1, None),
        (2**70, None),
        ([1, 2**63], None),  # NumPy would silently make this float64
        ([[0], [2**64]], None),
        (2**63, "int32"),
        (300, "int8"),
        ([1, 256], "uint8"),
    ],
)
def test_integers_out_of_range_raise_as_torch(data, dtype):
    import torch

    tdt = None if dtype is None else getattr(torch, dtype)
    with pytest.raises((ValueError, RuntimeError)):
        torch.tensor(data, dtype=tdt)
    target = dtype or "int64"
    with pytest.raises(OverflowError, match=rf"tensor: the integer -?\d+ does not fit in {target}"):
        gf.tensor(data, dtype=dtype)


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (2**63 - 1, None),
        (-(2**63), None),
        ([1.5, 2**63], None),
        (2**63, "float32"),
        ([1, 2**64], "float64"),
        (-1, "uint8"),  # PyTorch wraps negative values into unsigned types
        (127, "int8"),
    ],
)
def test_integers_in_range_or_stored_as_floats_match_torch(data, dtype):
    import torch

    tdt = None if dtype is None else getattr(torch, dtype)
    expected = torch.tensor(data, dtype=tdt).numpy()
    got = gf.tensor(data, dtype=dtype).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_inplace_on_an_expanded_view_says_it_is_read_only():
    import torch

    with pytest.raises(RuntimeError, match="clone"):
        torch.zeros(3, 1).expand(3, 4).add_(1)
    x = gf.zeros(3, 1).expand(3, 4)
    for op in (lambda: x.add_(1), lambda: x.zero_(), lambda: x.copy_(gf.ones(3, 4))):
        with pytest.raises(RuntimeError, match=r"read-only .*expand/broadcast_to.*clone\(\)"):
            op()
    with pytest.raises(RuntimeError, match=r"in-place \+= on a read-only tensor"):
        x += 1
    y = gf.broadcast_to(gf.ones(2), (3, 2)).clone()
    y.mul_(2)
    np.testing.assert_array_equal(y.numpy(), np.full((3, 2), 2.0))
