"""ops.gemm.matmul_nt: x @ W.T in the faster of two layouts, the same values either way."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
from gradfit.ops import gemm

RNG = np.random.default_rng(7)


def _openblas() -> bool:
    from threadpoolctl import threadpool_info

    return any(lib["internal_api"] == "openblas" for lib in threadpool_info())


def _swapped(
    rows: int, w_shape: tuple[int, int], dtype: type = np.float32, blas_threads: int = 2
) -> bool:
    lo, hi = gemm.SWAP_ROWS
    if dtype != np.float32 or rows < lo:
        return False
    if rows <= hi and min(w_shape) >= gemm.SWAP_MIN_SIDE:
        return True
    size = w_shape[0] * w_shape[1]
    return (
        blas_threads == 1
        and rows <= gemm.SWAP_ROWS_ONE_THREAD
        and size >= gemm.SWAP_MIN_SIZE_ONE_THREAD
    )


@pytest.mark.parametrize(
    ("rows", "k", "n"),
    [(32, 784, 512), (16, 128, 128), (64, 256, 300), (8, 784, 512), (7, 784, 512), (65, 784, 512),
     (32, 127, 512), (32, 784, 10), (1, 784, 512), (0, 784, 512), (200, 300, 129)],
)  # fmt: skip
def test_same_values_as_plain_matmul_inside_and_outside_the_swapped_range(rows, k, n):
    x = RNG.standard_normal((rows, k), dtype=np.float32)
    w = RNG.standard_normal((n, k), dtype=np.float32)
    got, plain = gemm.matmul_nt(x, w), x @ w.T
    assert got.shape == (rows, n) and got.dtype == np.float32 and got.flags.c_contiguous
    if _openblas():  # each element is the same dot product in the same order: the same bits
        assert np.array_equal(got, plain)
    else:
        np.testing.assert_allclose(got, plain, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("blas_threads", [2, 1])
def test_the_swapped_layout_is_taken_where_it_is_faster(monkeypatch, blas_threads):
    """8-64 rows and a W whose sides are >= 128; with BLAS on one thread also up to 128
    rows for a W of >= 2**18 elements (an MLP's 784 -> 512 layer at batch 128)."""
    calls = []
    real = np.ascontiguousarray
    monkeypatch.setattr(gemm.np, "ascontiguousarray", lambda a: calls.append(a.shape) or real(a))
    monkeypatch.setattr(gemm.threads, "blas_threads", lambda: blas_threads)
    cases = [(32, (512, 784)), (7, (512, 784)), (128, (512, 784)), (32, (10, 784)),
             (8, (256, 128)), (64, (300, 200)), (65, (300, 200)), (96, (512, 512)),
             (129, (512, 784)), (100, (256, 512))]  # fmt: skip
    for rows, shape in cases:
        gemm.matmul_nt(np.ones((rows, shape[1]), np.float32), np.ones(shape, np.float32))
    expected = [(32, 512), (8, 256), (64, 300)]
    if blas_threads == 1:
        expected = [(32, 512), (128, 512), (8, 256), (64, 300), (96, 512)]
    assert calls == expected
    assert calls == [(r, s[0]) for r, s in cases if _swapped(r, s, blas_threads=blas_threads)]
    assert _swapped(32, (512, 784)) and not _swapped(32, (512, 784), np.float64)


def test_blas_threads_is_one_once_a_convolution_held_blas():
    before = gf.get_num_threads()
    try:
        gf.set_num_threads(2)
        assert gf.threads.blas_threads() == 2
        gf.nn.functional.conv2d(gf.ones(1, 1, 4, 4), gf.ones(1, 1, 3, 3))
        assert gf.threads.blas_threads() == 1  # held: the pool is the parallelism now
        gf.set_num_threads(1)
        assert gf.threads.blas_threads() == 1
    finally:
        gf.set_num_threads(before)


def test_non_contiguous_operands_and_float64_keep_their_dtype():
    w = RNG.standard_normal((784, 512), dtype=np.float32).T  # a transposed (512, 784) view
    x = RNG.standard_normal((784, 32), dtype=np.float32).T
    np.testing.assert_allclose(gemm.matmul_nt(x, w), x @ w.T, rtol=1e-5, atol=1e-3)
    x64 = RNG.standard_normal((32, 200))
    w64 = RNG.standard_normal((300, 200))
    got = gemm.matmul_nt(x64, w64)
    assert got.dtype == np.float64 and np.array_equal(got, x64 @ w64.T)


def test_linear_layer_at_batch_32_matches_torch_forward_and_backward():
    x = RNG.standard_normal((32, 784), dtype=np.float32)
    w = RNG.standard_normal((512, 784), dtype=np.float32) * 0.05
    b = RNG.standard_normal(512, dtype=np.float32)
    gx, gw = gf.tensor(x, requires_grad=True), gf.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = gf.nn.functional.linear(gx, gw, gf.tensor(b))
    ref = TF.linear(tx, tw, torch.tensor(b))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-4)
    assert out.is_contiguous()
    out.square().sum().backward()
    ref.square().sum().backward()
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-2)


def test_into_out_on_both_paths_including_a_row_slice_of_a_larger_buffer():
    for rows in (8, 32):
        x = RNG.standard_normal((rows, 128), dtype=np.float32)
        w = RNG.standard_normal((512, 128), dtype=np.float32)
        buf = np.full((rows + 3, 512), 7.0, np.float32)
        got = gemm.matmul_nt(x, w, out=buf[:rows])
        assert got.base is buf or got is buf[:rows] or np.shares_memory(got, buf)
        np.testing.assert_array_equal(buf[:rows], gemm.matmul_nt(x, w))
        assert (buf[rows:] == 7.0).all()


def test_tensor_matmul_takes_the_same_path_for_x_at_w_t_and_its_input_gradient():
    """gf.matmul / @ : ``x @ W.T`` (forward) and ``grad @ W.T`` (the input gradient of
    ``x @ W``) go through matmul_nt; values, gradients and bits as NumPy's."""
    x = RNG.standard_normal((32, 784), dtype=np.float32)
    w = RNG.standard_normal((512, 784), dtype=np.float32) * 0.05
    v = RNG.standard_normal((784, 512), dtype=np.float32) * 0.05
    xt, wt, vt = (gf.tensor(a, requires_grad=True) for a in (x, w, v))
    y = xt @ wt.T
    z = xt @ vt
    assert np.array_equal(y.numpy(), x @ w.T) or not _openblas()
    g = RNG.standard_normal((32, 512), dtype=np.float32)
    (y * gf.tensor(g)).sum().backward()
    (z * gf.tensor(g)).sum().backward()
    tx, tw, tv = (torch.tensor(a, requires_grad=True) for a in (x, w, v))
    ((tx @ tw.T) * torch.tensor(g)).sum().backward()
    ((tx @ tv) * torch.tensor(g)).sum().backward()
    for ours, theirs in ((xt, tx), (wt, tw), (vt, tv)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-3)
