"""The PyTorch oracle: run one computation in gradfit and in PyTorch, compare values and gradients.

Usage in a test::

    from oracle import check, tol
    check(lambda x, y: x * y, lambda x, y: x * y, [a, b])   # a, b: NumPy arrays

(modelled on tinygrad's ``helper_test_op``). Float inputs get ``requires_grad`` in
both libraries; the outputs are reduced with the same random upstream gradient, and
every input gradient is compared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import gradfit as gf

torch.set_num_threads(1)

TOL = {
    np.dtype(np.float32): dict(rtol=1e-4, atol=1e-5),
    np.dtype(np.float64): dict(rtol=1e-7, atol=1e-9),
}


def tol(dtype: Any) -> dict[str, float]:
    """Default comparison tolerances for a dtype."""
    return dict(TOL[np.dtype(dtype)])


def to_torch(a: Any, requires_grad: bool = False) -> torch.Tensor:
    arr = a._data if isinstance(a, gf.Tensor) else np.asarray(a)
    t = torch.from_numpy(np.array(arr, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, gf.Tensor):
        return x._data
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_close(
    actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6, what: str = ""
) -> None:
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch's {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what, equal_nan=True)


def check(
    gf_fn: Callable[..., Any],
    torch_fn: Callable[..., Any],
    arrays: Sequence[np.ndarray],
    grad: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
    seed: int = 0,
) -> Any:
    """Run both functions on copies of ``arrays``; compare outputs and input gradients."""
    arrays = [np.asarray(a) for a in arrays]
    floats = [a.dtype.kind == "f" for a in arrays]
    gx = [gf.tensor(a, dtype=a.dtype, requires_grad=grad and f) for a, f in zip(arrays, floats)]
    tx = [to_torch(a, requires_grad=grad and f) for a, f in zip(arrays, floats)]
    gout = gf_fn(*gx)
    tout = torch_fn(*tx)
    gouts = gout if isinstance(gout, (tuple, list)) else (gout,)
    touts = tout if isinstance(tout, (tuple, list)) else (tout,)
    dt = next((a.dtype for a in arrays if a.dtype.kind == "f"), np.dtype(np.float32))
    t = tol(dt)
    if rtol is not None:
        t["rtol"] = rtol
    if atol is not None:
        t["atol"] = atol
    for i, (g, tt) in enumerate(zip(gouts, touts)):
        assert isinstance(g, gf.Tensor), f"output {i} is {type(g)}"
        if check_dtype:
            assert g.dtype == to_numpy(tt).dtype, (
                f"output {i}: dtype {g.dtype} != torch's {tt.dtype}"
            )
        assert_close(g, tt, what=f"output {i}", **t)
    if not grad or not any(floats):
        return gout
    rng = np.random.default_rng(seed)
    gsum, tsum = None, None
    for g, tt in zip(gouts, touts):
        if g.dtype.kind != "f" or not g.requires_grad:
            continue
        w = rng.standard_normal(g.shape).astype(g.dtype)
        gs = (g * gf.tensor(w, dtype=w.dtype)).sum()
        ts = (tt * torch.from_numpy(w)).sum()
        gsum = gs if gsum is None else gsum + gs
        tsum = ts if tsum is None else tsum + ts
    if gsum is None:
        return gout
    gsum.backward()
    tsum.backward()
    for i, (g, tt, f) in enumerate(zip(gx, tx, floats)):
        if not f:
            continue
        if tt.grad is None:
            assert g.grad is None or np.all(g.grad._data == 0), f"input {i}: torch has no grad"
            continue
        assert g.grad is not None, f"input {i}: gradfit gave no gradient, torch did"
        assert g.grad.dtype == g.dtype, f"input {i}: grad dtype {g.grad.dtype} != {g.dtype}"
        assert_close(g.grad, tt.grad, what=f"grad of input {i}", **t)
    return gout


def pair(arr: Any, requires_grad: bool = True) -> tuple[gf.Tensor, torch.Tensor]:
    """The same float64 data as a gradfit tensor and a torch tensor."""
    arr = np.asarray(arr, dtype=np.float64)
    return (
        gf.tensor(arr.copy(), requires_grad=requires_grad),
        torch.tensor(arr.copy(), requires_grad=requires_grad),
    )
