"""Module surface that ports use: to/cpu/cuda/double/float/half/type, get_parameter/get_buffer,
ParameterList/ParameterDict, and reprs printed as torch prints them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit import nn


def test_to_device_and_dtype():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert m.to("cpu") is m and m.cpu() is m and m.to("cpu:0") is m
    assert m.to(gf.float64) is m
    assert m[0].weight.dtype == np.float64 and m[1].running_mean.dtype == np.float64
    assert m[1].num_batches_tracked.dtype.kind == "i"  # integer buffers untouched, as torch
    w = m[0].weight
    m.float()
    assert m[0].weight is w and w.dtype == np.float32  # same Parameter object (optimizers keep it)
    m.double()
    assert m(gf.randn(4, 2).double()).dtype == np.float64
    m.to(device="cpu", dtype=gf.float32)
    assert m[0].bias.dtype == np.float32
    m.to(gf.zeros(1, dtype=gf.float64))
    assert m[0].bias.dtype == np.float64
    m.type(gf.float32)
    assert m[0].bias.dtype == np.float32


def test_to_refusals():
    m = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="CPU"):
        m.to("cuda")
    with pytest.raises(RuntimeError, match="CPU"):
        m.cuda()
    with pytest.raises(RuntimeError, match="float16"):
        m.half()
    with pytest.raises(TypeError):
        m.to(gf.int64)
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 2).to(torch.int64)


def test_get_parameter_buffer():
    g = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    assert g.get_parameter("0.weight") is g[0].weight
    assert g.get_buffer("1.running_var") is g[1].running_var
    assert tuple(g.get_parameter("1.bias").shape) == tuple(t.get_parameter("1.bias").shape)
    for fn in ("get_parameter", "get_buffer"):
        with pytest.raises(AttributeError):
            getattr(g, fn)("0.nothing")
        with pytest.raises(AttributeError):
            getattr(t, fn)("0.nothing")


def test_parameter_list():
    arrs = [np.ones((3, 4), np.float32), np.zeros(2, np.float32)]
    g = nn.ParameterList([gf.tensor(a) for a in arrs])
    t = torch.nn.ParameterList([torch.from_numpy(a.copy()) for a in arrs])
    assert len(g) == len(t) == 2
    assert isinstance(g[0], nn.Parameter) and g[-1].shape == (2,)
    assert list(g.state_dict()) == list(t.state_dict())
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    g.append(gf.ones(1))
    assert len(g) == 3 and len(list(g.parameters())) == 3
    assert repr(nn.ParameterList()) == repr(torch.nn.ParameterList())
    assert repr(g).splitlines()[1] == "    (0): Parameter containing: [gradfit.float32 of size 3x4]"
    (g[0].sum() * 2).backward()
    np.testing.assert_array_equal(g[0].grad.numpy(), np.full((3, 4), 2.0))
    with pytest.raises(IndexError):
        g[5]
    with pytest.raises(TypeError):
        g.extend(3)


def test_parameter_dict():
    g = nn.ParameterDict({"b": gf.ones(2), "a": gf.zeros(3)})
    t = torch.nn.ParameterDict({"b": torch.ones(2), "a": torch.zeros(3)})
    assert list(g.keys()) == list(t.keys())
    assert list(g.state_dict()) == list(t.state_dict())
    assert "a" in g and isinstance(g["a"], nn.Parameter)
    g["c"] = gf.ones(1)
    assert len(g) == 3 and [n for n, _ in g.named_parameters()] == ["a", "b", "c"]
    g.pop("b")
    assert list(g) == ["a", "c"] and len(list(g.parameters())) == 2
    with pytest.raises(KeyError):
        g["zzz"]
    assert repr(nn.ParameterDict()) == repr(torch.nn.ParameterDict())


def _pair(build):
    return build(nn), build(torch.nn)


@pytest.mark.parametrize(
    "build",
    [
        lambda m: m.Linear(3, 4, bias=False),
        lambda m: m.Conv2d(3, 8, 3, stride=2, padding=1),
        lambda m: m.Conv2d(3, 8, (3, 5)),
        lambda m: m.Conv1d(2, 4, 5, dilation=2, bias=False),
        lambda m: m.BatchNorm2d(8),
        lambda m: m.BatchNorm1d(4, momentum=None, affine=False),
        lambda m: m.Dropout(0.2),
        lambda m: m.Embedding(10, 3),
        lambda m: m.Embedding(10, 3, padding_idx=0),
        lambda m: m.LayerNorm(4),
        lambda m: m.Sequential(m.Linear(2, 3), m.ReLU(), m.Dropout(), m.Linear(3, 1), m.Sigmoid()),
        lambda m: m.Sequential(
            m.Sequential(m.Conv2d(1, 2, 3), m.MaxPool2d(2)), m.Flatten(), m.LeakyReLU(0.2)
        ),
        lambda m: m.ModuleList([m.Linear(1, 1), m.Tanh()]),
        lambda m: m.ModuleDict({"a": m.GELU(), "b": m.SiLU()}),
        lambda m: m.Sequential(m.GroupNorm(2, 4), m.InstanceNorm2d(4), m.PReLU(), m.Mish()),
    ],
)
def test_repr_as_torch(build):
    g, t = _pair(build)
    assert repr(g) == repr(t)


def test_load_state_dict_assign_and_keys():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    sd = a.state_dict()
    res = b.load_state_dict(sd, assign=True)
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert np.shares_memory(b.weight.numpy(), a.weight.numpy())
    res = b.load_state_dict(
        {"weight": np.zeros((2, 3), np.float32), "extra": np.zeros(1)}, strict=False
    )
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["extra"]
    assert float(b.weight.abs().sum()) == 0.0
