"""No float64 anywhere on a float32 training path.

After a training step of an MLP and a CNN (SGD with momentum, and Adam), every parameter,
gradient, optimizer state array, every intermediate result in the graph (each node's
output: the activations) and every array a node saved for backward must be float32
(integer and boolean arrays, such as class indices and masks, are allowed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradfit as gf
import gradfit.nn.functional as F
from gradfit.autograd import Function

F32 = np.dtype(np.float32)


def _graph_nodes(root: Function) -> list[Function]:
    seen: dict[int, Function] = {}
    stack = [root]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        stack.extend(p for p in fn.parents if isinstance(p, Function))
    return list(seen.values())


def _float_arrays(obj: Any) -> list[np.ndarray]:
    """Every floating-point array in ``obj`` (nested tuples/lists/dicts)."""
    if isinstance(obj, np.ndarray):
        return [obj] if obj.dtype.kind in "fc" else []
    if isinstance(obj, (tuple, list)):
        return [a for o in obj for a in _float_arrays(o)]
    if isinstance(obj, dict):
        return [a for o in obj.values() for a in _float_arrays(o)]
    return []


def _train_step_and_check(model: gf.nn.Module, x: np.ndarray, opt_name: str) -> None:
    params = list(model.parameters())
    if opt_name == "sgd":
        opt = gf.optim.SGD(params, lr=0.01, momentum=0.9)
    else:
        opt = gf.optim.Adam(params, lr=1e-3, amsgrad=True)
    y = gf.tensor(np.arange(x.shape[0]) % 10)
    for step in range(2):  # the second step updates existing optimizer state
        opt.zero_grad()
        out = model(gf.tensor(x))
        loss = F.cross_entropy(out, y)
        assert out.dtype == F32 and loss.dtype == F32
        nodes = _graph_nodes(loss.grad_fn)
        assert len(nodes) >= 5
        for fn in nodes:
            shape, dtype = fn.out_meta
            assert dtype == F32, f"step {step}: {fn.name} produced {dtype}"
            for arr in _float_arrays(fn.saved):
                assert arr.dtype == F32, f"{fn.name} saved a {arr.dtype} array {arr.shape}"
        loss.backward()
        for name, p in model.named_parameters():
            assert p.dtype == F32, name
            assert p.grad is not None and p.grad.dtype == F32, name
        opt.step()
        for name, p in model.named_parameters():
            assert p.dtype == F32, f"{name} after {opt_name} step"
        for name, b in model.named_buffers():  # BatchNorm running statistics
            assert b.dtype.kind != "f" or b.dtype == F32, f"buffer {name}: {b.dtype}"
        for name, p in model.named_parameters():
            state = opt.state[p]
            arrays = _float_arrays(state)
            assert arrays, f"{opt_name} kept no state for {name}"
            for arr in arrays:
                assert arr.dtype == F32, f"{opt_name} state of {name}: {arr.dtype}"
    if opt_name == "sgd":
        assert all("momentum_buffer" in opt.state[p] for p in params)
    else:
        assert all({"exp_avg", "exp_avg_sq", "max_exp_avg_sq"} <= set(opt.state[p]) for p in params)


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_mlp_training_step_stays_float32(opt_name: str) -> None:
    model = gf.models.mlp([20, 16, 12, 10])
    x = np.random.default_rng(0).standard_normal((8, 20)).astype(np.float32)
    _train_step_and_check(model, x, opt_name)


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_cnn_training_step_stays_float32(opt_name: str) -> None:
    model = gf.models.cnn(in_channels=1, num_classes=10, image_size=8, batch_norm=True)
    x = np.random.default_rng(0).standard_normal((6, 1, 8, 8)).astype(np.float32)
    _train_step_and_check(model, x, opt_name)


def test_lenet_and_cnn1d_training_steps_stay_float32() -> None:
    lenet = gf.models.cnn(image_size=28)
    x = np.random.default_rng(1).standard_normal((2, 1, 28, 28)).astype(np.float32)
    _train_step_and_check(lenet, x, "sgd")
    x1 = np.random.default_rng(2).standard_normal((4, 40)).astype(np.float32)
    _train_step_and_check(gf.models.cnn1d(), x1, "sgd")


def test_the_check_catches_a_float64_activation() -> None:
    """The walk over the graph does see a float64 intermediate (so the tests above can fail)."""
    w = gf.nn.Linear(4, 3)
    h = w(gf.ones(2, 4)).double()
    loss = F.cross_entropy(h, gf.tensor([0, 1]))
    dtypes = {fn.out_meta[1] for fn in _graph_nodes(loss.grad_fn)}
    assert np.dtype(np.float64) in dtypes
