"""group_norm's fast path: float32 statistics stay accurate on offset data, odd layouts
and degenerate weights, against torch in float64 (the exact answer) and in float32."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

import gradfit as gf
import gradfit.nn.functional as F
from oracle import check

rng = np.random.default_rng(13)


def _both(x: np.ndarray, g: int, w: np.ndarray, b: np.ndarray, dy: np.ndarray):
    xs = gf.tensor(x, requires_grad=True)
    ws, bs = gf.tensor(w, requires_grad=True), gf.tensor(b, requires_grad=True)
    y = F.group_norm(xs, g, ws, bs)
    y.backward(gf.tensor(dy))
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    tw = torch.tensor(w.astype(np.float64), requires_grad=True)
    tb = torch.tensor(b.astype(np.float64), requires_grad=True)
    ty = TF.group_norm(tx, g, tw, tb)
    ty.backward(torch.tensor(dy.astype(np.float64)))
    got = [y.numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()]
    want = [t.detach().numpy() for t in (ty, tx.grad, tw.grad, tb.grad)]
    return got, want


def test_group_norm_offset_groups_float32(kernel_path):
    # mean^2 / var of 1e5 in some groups: E[x^2] - mean^2 in float32 would lose 3 digits
    x = rng.standard_normal((3, 6, 5, 4)).astype(np.float32)
    x[0] += 300.0
    x[2, :3] -= 1000.0
    w, b = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    got, want = _both(x, 2, w, b, dy)
    for name, a, e in zip(["out", "x.grad", "w.grad", "b.grad"], got, want):
        assert a.dtype == np.float32, name
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=2e-4, err_msg=name)


def test_group_norm_constant_group_and_zero_weight(kernel_path):
    x = rng.standard_normal((2, 4, 6)).astype(np.float32)
    x[1, :2] = 5.0  # a constant group: variance 0, only eps keeps it finite
    w = np.array([0.0, 1.5, -2.0, 0.0], np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    got, want = _both(x, 2, w, b, dy)
    for name, a, e in zip(["out", "x.grad", "w.grad", "b.grad"], got, want):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4, err_msg=name)


def test_group_norm_non_contiguous_input(kernel_path):
    base = rng.standard_normal((4, 3, 5, 2)).astype(np.float32)
    check(
        lambda x: F.group_norm(x.permute(0, 3, 2, 1), 1),
        lambda x: TF.group_norm(x.permute(0, 3, 2, 1), 1),
        [base],
    )
