"""GroupNorm and InstanceNorm1d/2d against torch: values, gradients, running stats, reprs, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
import gradfit.nn.functional as F
from oracle import check

rng = np.random.default_rng(2)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,g",
    [((3, 4, 5), 2), ((2, 6, 3, 3), 3), ((2, 4), 2), ((0, 4, 3), 2), ((2, 4, 1), 1)]
    + [((2, 36, 17), 1)],  # many channels a group, an odd number of positions
)
def test_group_norm_functional(dt, shape, g, kernel_path):
    x = rng.standard_normal(shape).astype(dt) * 2 + 1
    c = shape[1]
    w, b = rng.standard_normal(c).astype(dt), rng.standard_normal(c).astype(dt)
    check(
        lambda x, w, b: F.group_norm(x, g, w, b),
        lambda x, w, b: TF.group_norm(x, g, w, b),
        [x, w, b],
    )
    check(lambda x: F.group_norm(x, g), lambda x: TF.group_norm(x, g), [x])


def test_group_norm_threads_give_the_same_bits(kernel_path):
    # 1 MiB: the kernels split the batch over the pool's threads; nothing summed over the
    # batch depends on the split
    x = rng.standard_normal((4, 8, 64, 128)).astype(np.float32) + 3
    w, b = rng.standard_normal(8).astype(np.float32), rng.standard_normal(8).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    before = gf.get_num_threads()
    runs = []
    try:
        for k in (1, 2):
            gf.set_num_threads(k)
            xs, ws, bs = (gf.tensor(a, requires_grad=True) for a in (x, w, b))
            y = F.group_norm(xs, 4, ws, bs)
            y.backward(gf.tensor(dy))
            runs.append([a.numpy() for a in (y, xs.grad, ws.grad, bs.grad)])
    finally:
        gf.set_num_threads(before)
    for one, two in zip(*runs, strict=True):
        np.testing.assert_array_equal(one, two)


def test_group_norm_gradcheck(kernel_path):
    x = gf.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    w = gf.tensor(rng.standard_normal(4), requires_grad=True)
    b = gf.tensor(rng.standard_normal(4), requires_grad=True)
    assert gf.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b, 1e-3), [x, w, b])


def test_group_norm_module():
    for args, kw in [
        ((2, 4), {}),
        ((1, 4), dict(affine=False)),
        ((4, 4), dict(eps=1e-3, bias=False)),
    ]:
        g, t = gf.nn.GroupNorm(*args, **kw), torch.nn.GroupNorm(*args, **kw)
        assert repr(g) == repr(t)
        assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in t.state_dict().items()
        ]
        assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
        x = rng.standard_normal((2, 4, 3)).astype(np.float32)
        np.testing.assert_allclose(
            g(gf.tensor(x)).numpy(), t(torch.from_numpy(x)).detach().numpy(), atol=1e-5
        )
    with pytest.raises(ValueError):
        gf.nn.GroupNorm(3, 4)
    with pytest.raises(ValueError):
        torch.nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError):
        F.group_norm(gf.zeros(2, 4, 3), 3)
    with pytest.raises(RuntimeError):
        TF.group_norm(torch.zeros(2, 4, 3), 3)
    with pytest.raises(ValueError, match="GroupNorm"):
        gf.nn.GroupNorm(2, 4)(gf.zeros(2, 6, 3))


@pytest.mark.parametrize(
    "cls,shape",
    [
        ("InstanceNorm1d", (3, 4, 5)),
        ("InstanceNorm2d", (2, 4, 3, 3)),
        ("InstanceNorm1d", (4, 5)),
        ("InstanceNorm2d", (4, 3, 3)),
    ],
)
@pytest.mark.parametrize(
    "affine,track", [(False, False), (True, False), (True, True), (False, True)]
)
def test_instance_norm_module(cls, shape, affine, track, kernel_path):
    g = getattr(gf.nn, cls)(4, affine=affine, track_running_stats=track, momentum=0.3)
    t = getattr(torch.nn, cls)(4, affine=affine, track_running_stats=track, momentum=0.3)
    assert repr(g) == repr(t)
    assert list(g.state_dict()) == list(t.state_dict())
    if affine:
        w = rng.standard_normal(4)
        g.weight._data[:] = w
        t.weight.data[:] = torch.from_numpy(w)
    for mode in ("train", "eval"):
        getattr(g, mode)(), getattr(t, mode)()
        x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
        gx, tx = gf.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        gy, ty = g(gx), t(tx)
        np.testing.assert_allclose(gy.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
        wgt = rng.standard_normal(shape).astype(np.float32)
        (gy * gf.tensor(wgt)).sum().backward()
        (ty * torch.from_numpy(wgt)).sum().backward()
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
        for k, v in t.state_dict().items():
            np.testing.assert_allclose(
                np.asarray(g.state_dict()[k]), v.numpy(), rtol=1e-5, atol=1e-6
            )


def test_instance_norm_functional_and_errors(kernel_path):
    x = rng.standard_normal((2, 3, 4))
    check(F.instance_norm, TF.instance_norm, [x])
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    check(
        lambda x: F.instance_norm(x, gf.tensor(rm), gf.tensor(rv), use_input_stats=False),
        lambda x: TF.instance_norm(
            x, torch.from_numpy(rm), torch.from_numpy(rv), use_input_stats=False
        ),
        [x],
    )
    assert gf.gradcheck(lambda x: F.instance_norm(x), [gf.tensor(x, requires_grad=True)])
    with pytest.raises(ValueError):
        F.instance_norm(gf.zeros(2, 3, 1))
    with pytest.raises(ValueError):
        TF.instance_norm(torch.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="InstanceNorm2d"):
        gf.nn.InstanceNorm2d(3)(gf.zeros(2, 3))
    with pytest.raises(ValueError):
        gf.nn.InstanceNorm1d(3, affine=True)(gf.zeros(2, 4, 5))
