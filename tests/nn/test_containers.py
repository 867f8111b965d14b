"""Sequential (indexing, slicing, editing), ModuleList and ModuleDict."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import gradfit as gf
from gradfit import nn


def test_sequential_chains_and_indexes():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = gf.randn(5, 3)
    manual = net[2](net[1](net[0](x)))
    np.testing.assert_array_equal(net(x).numpy(), manual.numpy())
    assert len(net) == 3 and isinstance(net[-1], nn.Linear)
    sub = net[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2
    assert [n for n, _ in sub.named_children()] == ["1", "2"]  # keeps the original names
    assert sub[1] is net[2]  # shares modules and parameters
    with pytest.raises(IndexError, match="index 3 is out of range for 3"):
        net[3]
    with pytest.raises(TypeError, match="indices must be integers or slices"):
        net["a"]


def test_sequential_ordered_dict_and_editing():
    net = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
    assert isinstance(net.fc, nn.Linear) and isinstance(net.act, nn.Tanh)
    seq = nn.Sequential(nn.ReLU(), nn.Tanh())
    seq.append(nn.Sigmoid())
    seq.insert(0, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Identity", "ReLU", "Tanh", "Sigmoid"]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    seq[0] = nn.ELU()
    assert isinstance(seq[0], nn.ELU)
    with pytest.raises(TypeError, match="expected a gf.nn.Module, got int"):
        nn.Sequential(nn.ReLU(), 3)


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(1, nn.Sigmoid())
    assert [type(m).__name__ for m in layers] == [
        "Linear",
        "Sigmoid",
        "Linear",
        "Linear",
        "ReLU",
        "Tanh",
    ]
    del layers[0]
    assert isinstance(layers[0], nn.Sigmoid)
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers[-1] = nn.GELU()
    assert isinstance(layers[-1], nn.GELU)
    with pytest.raises(NotImplementedError):
        layers(gf.zeros(1))


def test_module_dict():
    d = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.ReLU()})
    assert list(d) == ["a", "b"] and "a" in d and len(d) == 2
    d["c"] = nn.Tanh()
    assert [k for k, _ in d.items()] == ["a", "b", "c"]
    assert len(list(d.parameters())) == 2
    assert isinstance(d.pop("b"), nn.ReLU) and "b" not in d
    with pytest.raises(KeyError, match="no key 'zz'"):
        d["zz"]


def test_container_parameters_in_state_dict():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
            self.heads = nn.ModuleDict({"x": nn.Linear(1, 1)})

    assert list(M().state_dict()) == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
        "heads.x.weight", "heads.x.bias",
    ]  # fmt: skip
