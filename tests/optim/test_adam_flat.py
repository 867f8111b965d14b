"""Adam's whole-group update over flat moment arrays: the same numbers as torch through a
state_dict round trip, a step where one parameter has no gradient, and float32."""

from __future__ import annotations

import numpy as np
import torch

import gradfit as gf


def _pair(seed, dtype):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s).astype(dtype) for s in ((3, 4), (4,), (2, 2, 2))]
    return ([gf.tensor(a, requires_grad=True) for a in arrs],
            [torch.tensor(a, requires_grad=True) for a in arrs])  # fmt: skip


def _grads(g_params, t_params, rng, skip=None):
    for i, (gp, tp) in enumerate(zip(g_params, t_params)):
        if i == skip:
            gp.grad, tp.grad = None, None
            continue
        a = rng.standard_normal(gp.shape).astype(gp.numpy().dtype)
        gp.grad, tp.grad = gf.tensor(a), torch.tensor(a)


def test_flat_update_follows_torch_through_state_dict_and_missing_grads():
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        gps, tps = _pair(0, dtype)
        kw = {"lr": 0.05, "weight_decay": 0.1}
        gopt, topt = gf.optim.AdamW(gps, **kw), torch.optim.AdamW(tps, foreach=False, **kw)
        rng = np.random.default_rng(1)
        for step in range(6):
            _grads(gps, tps, rng, skip=1 if step == 3 else None)  # step 3: per-param path
            gopt.step()
            topt.step()
            if step == 1:  # the moments live in one flat array (views of it)
                bases = {id(gopt.state[p]["exp_avg"].base) for p in gps}
                assert len(bases) == 1 and None not in bases
                sd = gopt.state_dict()
                gopt = gf.optim.AdamW(gps, **kw)
                gopt.load_state_dict(sd)
        for gp, tp in zip(gps, tps):
            np.testing.assert_allclose(gp.numpy(), tp.detach().numpy(), rtol=tol, atol=tol)
            assert gp.numpy().dtype == dtype
        for gp, tp in zip(gps, tps):
            gs, ts = gopt.state[gp], topt.state[tp]
            assert gs["step"] == int(ts["step"])
            np.testing.assert_allclose(
                gs["exp_avg_sq"], ts["exp_avg_sq"].numpy(), rtol=tol, atol=tol
            )


def test_adam_l2_decay_and_maximize_flat_path_follows_torch():
    gps, tps = _pair(2, np.float64)
    kw = {"lr": 0.02, "weight_decay": 0.3, "maximize": True}
    gopt, topt = gf.optim.Adam(gps, **kw), torch.optim.Adam(tps, foreach=False, **kw)
    rng = np.random.default_rng(3)
    for _ in range(4):
        _grads(gps, tps, rng)
        gopt.step()
        topt.step()
    for gp, tp in zip(gps, tps):
        np.testing.assert_allclose(gp.numpy(), tp.detach().numpy(), rtol=1e-12, atol=1e-12)
