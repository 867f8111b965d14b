"""Module and Parameter: registration, traversal, modes, freezing, state_dict, repr, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(gf.ones(4))
        self.register_buffer("running", gf.zeros(4))
        self.register_buffer("scratch", gf.zeros(2), persistent=False)
        self.plain = 3.0

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.drop(self.block(x)))


def test_parameter_defaults():
    p = nn.Parameter(gf.zeros(2, 3))
    assert isinstance(p, gf.Tensor) and p.requires_grad and p.dtype == np.float32
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert not nn.Parameter(gf.zeros(2), requires_grad=False).requires_grad
    t = gf.zeros(3)
    assert nn.Parameter(t)._data is t._data  # shares memory, like PyTorch
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert len(list(net.parameters())) == 4
    assert [n for n, _ in net.named_buffers()] == ["block.running", "block.scratch"]
    assert [n for n, _ in net.named_children()] == ["block", "drop", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "drop", "head"]
    assert net.head.bias is None
    assert net.block.plain == 3.0
    assert net.get_submodule("block.fc") is net.block.fc
    assert "fc" in dir(net.block)


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2


def test_reassignment_and_deletion():
    m = Block()
    m.scale = nn.Parameter(gf.zeros(4))
    assert float(m.scale.sum()) == 0.0
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'scale'"):
        m.scale = gf.zeros(4)
    m.scale = None
    assert "scale" not in [n for n, _ in m.named_parameters()]
    m.fc = nn.Identity()  # replace a child
    assert isinstance(m.fc, nn.Identity)
    m.running = gf.ones(4)  # buffers take tensors
    assert float(m.state_dict()["running"].sum()) == 4.0
    del m.fc
    with pytest.raises(AttributeError, match="has no attribute 'fc'"):
        _ = m.fc


def test_assign_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(gf.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_train_eval_recursive():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_requires_grad_and_zero_grad():
    net = Net()
    net(gf.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.block.requires_grad_(False)
    net(gf.randn(2, 3)).sum().backward()
    assert net.block.fc.weight.grad is None and net.head.weight.grad is not None


def test_apply_visits_children_first():
    order = []
    Net().apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "Block", "Dropout", "Linear", "Net"]


def test_state_dict_round_trip_and_copies():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == [
        "block.scale",
        "block.running",
        "block.fc.weight",
        "block.fc.bias",
        "head.weight",
    ]
    # as torch: detached tensors sharing the parameters' memory
    assert all(isinstance(v, gf.Tensor) and not v.requires_grad for v in sd.values())
    assert np.shares_memory(sd["block.fc.weight"].numpy(), a.block.fc.weight.numpy())
    assert sd["block.fc.weight"] is not a.block.fc.weight
    sd = a.state_dict()
    w_before = b.block.fc.weight
    b.load_state_dict(sd)
    assert b.block.fc.weight is w_before  # loaded in place: optimizers keep their references
    x = gf.randn(5, 3)
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    # gradfit tensors are accepted too
    b.load_state_dict({k: gf.tensor(v.numpy()) for k, v in sd.items()})
    b.load_state_dict({k: v.numpy() for k, v in sd.items()})  # and arrays


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    bad = Net().state_dict()
    del bad["block.scale"]
    del bad["head.weight"]
    bad["extra.weight"] = np.zeros(3, np.float32)
    bad["block.fc.weight"] = np.zeros((5, 3), np.float32)
    bad["block.fc.bias"] = np.full(4, 7.0, np.float32)  # valid, must still not be loaded
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    for key in ("block.scale", "head.weight", "extra.weight", "block.fc.weight"):
        assert key in msg
    assert "(5, 3)" in msg and "(4, 3)" in msg
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)
    assert info.value.missing_keys == ["block.scale", "head.weight"]
    assert info.value.unexpected_keys == ["extra.weight"]
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict():
    net = Net()
    sd = net.state_dict()
    del sd["head.weight"]
    sd["junk"] = np.zeros(1)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["head.weight"] and res.unexpected_keys == ["junk"]
    sd["block.scale"] = np.zeros(9, np.float32)
    with pytest.raises(ValueError, match="block.scale"):  # shapes are checked even when not strict
        net.load_state_dict(sd, strict=False)


def test_repr_tree():
    text = repr(Net())
    assert text == (
        "Net(\n"
        "  (block): Block(\n"
        "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "  )\n"
        "  (drop): Dropout(p=0.5, inplace=False)\n"
        "  (head): Linear(in_features=4, out_features=2, bias=False)\n"
        ")"
    )


def test_input_shape_error_helper():
    err = nn.Linear(784, 128).input_shape_error("(*, 784)", gf.zeros(32, 100))
    assert isinstance(err, ValueError)
    assert str(err) == (
        "Linear(in_features=784, out_features=128, bias=True): expected input (*, 784), got (32, 100)"
    )


def test_forward_missing_is_clear():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(gf.zeros(1))
