"""conv1d / conv2d against PyTorch (values and every gradient), gradcheck, dtype, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
from gradfit.ops import conv as conv_mod
from gradfit.ops.conv import conv1d, conv2d
from oracle import check

rng = np.random.default_rng(0)


def _arrays(x_shape, w_shape, bias, dtype=np.float32):
    arrs = [rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)]
    if bias:
        arrs.append(rng.standard_normal(w_shape[0]).astype(dtype))
    return arrs


CASES_2D = [
    # N, C, H, W, O, kh, kw, stride, padding, dilation, groups, bias
    (1, 1, 5, 5, 1, 3, 3, 1, 0, 1, 1, True),
    (2, 3, 7, 8, 4, 3, 2, 1, 1, 1, 1, True),
    (1, 4, 9, 7, 6, 3, 3, 2, (1, 2), 1, 2, False),
    (2, 4, 9, 9, 4, 2, 3, 1, "same", (2, 1), 4, True),
    (2, 2, 6, 7, 3, 3, 3, (2, 3), 0, 2, 1, True),
    (3, 6, 5, 5, 6, 1, 1, 1, 2, 1, 3, True),
    (2, 2, 8, 8, 2, 4, 4, 1, "same", 1, 1, False),
    (2, 2, 8, 6, 2, 3, 2, 1, "valid", 1, 2, True),
    (2, 3, 6, 6, 2, 2, 2, 2, 1, 1, 1, True),
    (1, 5, 6, 9, 3, 5, 5, 1, 2, 1, 1, True),  # the LeNet-like shape, batch size 1
    (3, 4, 7, 7, 6, 5, 5, 1, 2, 1, 2, True),  # LeNet-like ('same' width: flat row shifts)
    (2, 2, 4, 4, 3, 5, 5, 1, 3, 1, 1, True),  # kernel larger than the input, padding makes room
    (3, 3, 5, 6, 4, 2, 2, 1, 2, 1, 1, True),  # padding > extent - 1: the input grad crops
    (3, 2, 6, 5, 2, 3, 3, 1, (0, 2), (1, 2), 1, True),  # 'same' width with dilation
]

# chunking of the batch: the default (one chunk at these sizes), one sample per chunk, and
# uneven chunks (the last one smaller) through the same unfolding buffer
CHUNKINGS = {
    "one": None,
    "per-sample": lambda batch, per, cols: [(n, n + 1) for n in range(batch)],
    "uneven": lambda batch, per, cols: [(0, min(2, batch))] + ([(2, batch)] if batch > 2 else []),
}


def _tols(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("row_unfolding", [False, True], ids=["im2col", "rows"])
@pytest.mark.parametrize("case", CASES_2D)
def test_conv2d_matches_torch(case, row_unfolding, chunking, dtype, monkeypatch, kernel_path):
    N, C, H, W, n_out, kh, kw, s, p, d, g, bias = case
    # both internal strategies (full im2col, row unfolding) must give PyTorch's numbers,
    # however the batch is split into chunks
    monkeypatch.setattr(conv_mod, "_FULL_IM2COL_MAX_K", 0 if row_unfolding else 10**9)
    if CHUNKINGS[chunking] is not None:
        monkeypatch.setattr(conv_mod, "_chunks", CHUNKINGS[chunking])
        N += 2
    arrs = _arrays((N, C, H, W), (n_out, C // g, kh, kw), bias, dtype)

    def run(F, x, w, b=None):
        return F(x, w, b, stride=s, padding=p, dilation=d, groups=g)

    check(lambda *a: run(conv2d, *a), lambda *a: run(TF.conv2d, *a), arrs, **_tols(dtype))


def test_chunks_cover_the_batch_evenly():
    for batch in (1, 5, 100, 128, 1000):
        for per in (1, 10**3, 10**5, 10**9):
            for cols in (1, 49, 784):
                chunks = conv_mod._chunks(batch, per, cols)
                sizes = [n1 - n0 for n0, n1 in chunks]
                assert chunks[0][0] == 0 and chunks[-1][1] == batch
                assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
                assert max(sizes) - min(sizes) <= 1 or len(chunks) == 1
                # each chunk holds about _CHUNK_BYTES, but at least _MIN_CHUNK_COLS columns
                cap = max(conv_mod._CHUNK_BYTES // per, -(-conv_mod._MIN_CHUNK_COLS // cols), 1)
                assert max(sizes) <= max(cap, 1) or len(chunks) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_lenet_shapes_in_chunks_match_torch(dtype, kernel_path):
    """The benchmark's second convolution (16 -> 32, 5x5, padding 2, 14x14) at a batch size
    that the default budget splits into several chunks: values and every gradient."""
    arrs = _arrays((40, 16, 14, 14), (32, 16, 5, 5), True, dtype)
    assert len(conv_mod._chunks(40, 32 * 5 * 18 * 14 * 4, 14 * 14)) > 1
    # float32 weight gradients are sums of 7,840 products: absolute tolerance for rounding
    tols = dict(rtol=1e-4, atol=2e-3) if dtype == np.float32 else _tols(dtype)
    check(lambda *a: conv2d(*a, padding=2), lambda *a: TF.conv2d(*a, padding=2), arrs, **tols)


@pytest.mark.parametrize("row_unfolding", [False, True], ids=["im2col", "rows"])
@pytest.mark.parametrize(
    "opts", [dict(padding=1), dict(stride=2, padding=1), dict(padding=(0, 2), dilation=2)]
)
def test_empty_batch_like_torch(opts, row_unfolding, monkeypatch, kernel_path):
    """A batch of 0 samples: empty output and input gradient, zero weight and bias gradients."""
    monkeypatch.setattr(conv_mod, "_FULL_IM2COL_MAX_K", 0 if row_unfolding else 10**9)
    for dtype in (np.float32, np.float64):
        arrs = _arrays((0, 3, 5, 5), (2, 3, 3, 3), True, dtype)
        check(lambda *a: conv2d(*a, **opts), lambda *a: TF.conv2d(*a, **opts), arrs)
    arrs = _arrays((0, 2, 7), (3, 2, 3), True)
    check(lambda *a: conv1d(*a, stride=2), lambda *a: TF.conv1d(*a, stride=2), arrs)


CASES_1D = [
    (1, 1, 6, 1, 3, 1, 0, 1, 1, True),
    (2, 3, 10, 4, 3, 2, 1, 1, 1, True),
    (2, 4, 9, 6, 2, 1, "same", 3, 2, False),
    (3, 2, 8, 2, 4, 3, 2, 1, 2, True),
    (2, 3, 7, 5, 3, 1, "valid", 2, 1, True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("case", CASES_1D)
def test_conv1d_matches_torch(case, chunking, dtype, monkeypatch, kernel_path):
    N, C, L, n_out, k, s, p, d, g, bias = case
    if CHUNKINGS[chunking] is not None:
        monkeypatch.setattr(conv_mod, "_chunks", CHUNKINGS[chunking])
        N += 2
    arrs = _arrays((N, C, L), (n_out, C // g, k), bias, dtype)

    def run(F, x, w, b=None):
        return F(x, w, b, stride=s, padding=p, dilation=d, groups=g)

    check(lambda *a: run(conv1d, *a), lambda *a: run(TF.conv1d, *a), arrs, **_tols(dtype))


def test_unbatched_input_matches_torch():
    x, w, b = _arrays((3, 6, 5), (4, 3, 3, 2), True)
    check(lambda *a: conv2d(*a, padding=1), lambda *a: TF.conv2d(*a, padding=1), [x, w, b])
    x, w = _arrays((3, 7), (2, 3, 3), False)
    check(lambda *a: conv1d(*a), lambda *a: TF.conv1d(*a), [x, w])


def test_grad_of_weight_only_and_input_only():
    x, w = _arrays((2, 3, 6, 6), (4, 3, 3, 3), False)
    gx = gf.tensor(x)
    gw = gf.tensor(w, requires_grad=True)
    conv2d(gx, gw, stride=2).sum().backward()
    tw = torch.tensor(w, requires_grad=True)
    TF.conv2d(torch.tensor(x), tw, stride=2).sum().backward()
    np.testing.assert_allclose(gw.grad._data, tw.grad.numpy(), rtol=1e-4, atol=1e-4)
    gx = gf.tensor(x, requires_grad=True)
    conv2d(gx, gf.tensor(w), padding=1).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    TF.conv2d(tx, torch.tensor(w), padding=1).sum().backward()
    np.testing.assert_allclose(gx.grad._data, tx.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_stacked_convs_match_torch():
    """Two convs in a row (the second reads the first's output layout) and their gradients."""
    x, w1, b1 = _arrays((2, 2, 9, 9), (3, 2, 3, 3), True)
    w2, b2 = _arrays((4, 3, 2, 2), (4, 3, 2, 2), True)[1:]

    def net(F, x, w1, b1, w2, b2):
        return F.conv2d(F.relu(F.conv2d(x, w1, b1, padding=1)), w2, b2, stride=2)

    class G:
        conv2d = staticmethod(conv2d)
        relu = staticmethod(gf.relu)

    check(lambda *a: net(G, *a), lambda *a: net(TF, *a), [x, w1, b1, w2, b2], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "opts",
    [
        dict(stride=1, padding=1, dilation=1, groups=1),
        dict(stride=2, padding=(0, 1), dilation=1, groups=2),
        dict(stride=1, padding="same", dilation=2, groups=1),
        dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=1),
        dict(stride=1, padding=(1, 2), dilation=(1, 2), groups=2),  # 'same' width: flat shifts
        dict(stride=1, padding=2, dilation=1, groups=1),  # padding > extent - 1
    ],
)
@pytest.mark.parametrize("chunking", ["one", "uneven"])
@pytest.mark.parametrize("row_unfolding", [False, True], ids=["im2col", "rows"])
def test_conv2d_gradcheck(opts, row_unfolding, chunking, monkeypatch, kernel_path):
    monkeypatch.setattr(conv_mod, "_FULL_IM2COL_MAX_K", 0 if row_unfolding else 10**9)
    if CHUNKINGS[chunking] is not None:
        monkeypatch.setattr(conv_mod, "_chunks", CHUNKINGS[chunking])
    x = gf.randn(3, 4, 6, 5, dtype="float64", requires_grad=True)
    w = gf.randn(4, 4 // opts["groups"], 3, 2, dtype="float64", requires_grad=True)
    b = gf.randn(4, dtype="float64", requires_grad=True)
    assert gf.gradcheck(lambda x, w, b: conv2d(x, w, b, **opts), [x, w, b])


def test_conv1d_gradcheck():
    x = gf.randn(2, 2, 7, dtype="float64", requires_grad=True)
    w = gf.randn(3, 2, 3, dtype="float64", requires_grad=True)
    b = gf.randn(3, dtype="float64", requires_grad=True)
    assert gf.gradcheck(lambda x, w, b: conv1d(x, w, b, stride=2, padding=1, dilation=2), [x, w, b])


def test_float32_stays_float32():
    x = gf.randn(2, 3, 5, 5, requires_grad=True)
    w = gf.randn(2, 3, 3, 3, requires_grad=True)
    b = gf.randn(2, requires_grad=True)
    y = conv2d(x, w, b, stride=2, padding=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(padding="full"), ValueError, "padding must be 'valid', 'same'"),
        (dict(padding="same", stride=2), ValueError, "not supported for strided"),
        (dict(stride=0), ValueError, "stride must be >= 1"),
        (dict(padding=-1), ValueError, "padding must be >= 0"),
        (dict(dilation=(1, 2, 3)), TypeError, "dilation must be an int or a tuple of 2"),
        (dict(stride=True), TypeError, "stride must be an int or a tuple of 2 ints, got True"),
        (dict(stride=(True, 1)), TypeError, r"stride must be an int .*, got \(True, 1\)"),
        (dict(stride=1.0), TypeError, "stride must be an int or a tuple of 2 ints, got 1.0"),
        (dict(stride=(1, 0)), ValueError, r"stride must be >= 1, got \(1, 0\)"),
        (dict(groups=2), ValueError, "input has 3 channels"),
        (dict(groups=0), ValueError, "groups must be a positive integer"),
    ],
)
def test_bad_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        conv2d(gf.randn(1, 3, 5, 5), gf.randn(2, 3, 3, 3), **kwargs)


def test_bad_shapes_and_dtypes():
    with pytest.raises(ValueError, match=r"conv2d: expected input \(N, C, H, W\)"):
        conv2d(gf.randn(5, 5), gf.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match="input has 4 channels"):
        conv2d(gf.randn(1, 4, 5, 5), gf.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        conv2d(gf.randn(1, 3, 2, 5), gf.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        conv2d(gf.randn(1, 3, 5, 5), gf.randn(2, 3, 3, 3), gf.randn(3))
    with pytest.raises(TypeError, match="share one float dtype"):
        conv2d(gf.randn(1, 3, 5, 5, dtype="float64"), gf.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match="conv1d: weight must have 3 dimensions"):
        conv1d(gf.randn(1, 3, 5), gf.randn(2, 3, 3, 3))


@pytest.mark.parametrize("row_unfolding", [False, True], ids=["im2col", "rows"])
def test_graphs_alive_together_keep_their_saved_unfoldings(row_unfolding, monkeypatch):
    """Large temporaries come from reused scratch buffers: one still saved for a pending
    backward must never be handed to another convolution (shapes big enough to use them)."""
    monkeypatch.setattr(conv_mod, "_FULL_IM2COL_MAX_K", 0 if row_unfolding else 10**9)
    xs = [rng.standard_normal((8, 16, 20, 20)).astype(np.float32) for _ in range(3)]
    w_np = rng.standard_normal((8, 16, 5, 5)).astype(np.float32)
    w = gf.tensor(w_np, requires_grad=True)
    wt = torch.tensor(w_np, requires_grad=True)
    outs = [conv2d(gf.tensor(x), w, padding=2) for x in xs]  # three graphs pending
    outs_t = [TF.conv2d(torch.tensor(x), wt, padding=2) for x in xs]
    for k in (2, 0, 1):  # backward out of order
        w.grad, wt.grad = None, None
        g = rng.standard_normal(outs[k].shape).astype(np.float32)
        outs[k].backward(gf.tensor(g))
        outs_t[k].backward(torch.tensor(g))
        np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(outs[k].numpy(), outs_t[k].detach().numpy(), atol=1e-4)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kw"),
    [
        ((20, 1, 28, 28), (16, 1, 5, 5), {"padding": 2}),  # LeNet's first convolution
        ((7, 25, 1, 19), (25, 25, 1, 3), {"stride": (1, 2), "padding": (0, 1)}),  # MNIST-1D's
        ((4, 6, 6, 5), (4, 3, 3, 3), {"padding": 1, "groups": 2, "dilation": (2, 1)}),
        ((0, 3, 5, 5), (2, 3, 3, 3), {}),  # an empty batch
    ],
)
@pytest.mark.skipif(not gf.kernels.available(), reason="numba is not installed")
def test_compiled_full_im2col_finish_gives_the_numpy_paths_bits(x_shape, w_shape, kw, monkeypatch):
    """gradfit.kernels.conv.finish_full (bias, the fused ReLU and the move to NCHW in one
    pass) does NumPy's float operations: the same bits, also for NaN and -0 outputs."""
    import contextlib

    from gradfit.ops.conv_epilogue import conv_relu

    calls = []
    finish = conv_mod.finish_full
    monkeypatch.setattr(conv_mod, "finish_full", lambda *a: calls.append(1) or finish(*a))
    x, w = _arrays(x_shape, w_shape, False)
    if x.size:
        x[0, 0, 0, :2] = [np.nan, -0.0]
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    g = None
    results = {}
    for on in (False, True):
        with contextlib.nullcontext() if on else gf.kernels.disabled():
            for bias, relu in [(None, False), (b, False), (b, True), (None, True)]:
                arrs = (x, w) if bias is None else (x, w, bias)
                ts = [gf.tensor(a, requires_grad=True) for a in arrs]
                if relu:
                    args = {
                        "stride": kw.get("stride", 1),
                        "padding": kw.get("padding", 0),
                        "dilation": kw.get("dilation", 1),
                        "groups": kw.get("groups", 1),
                    }
                    y, _ = conv_relu(2, *ts[:2], ts[2] if bias is not None else None,
                                     args["stride"], args["padding"], args["dilation"],
                                     args["groups"])  # fmt: skip
                else:
                    y = conv2d(*ts, **kw)
                if g is None:
                    g = rng.standard_normal(y.shape).astype(np.float32)
                y.backward(gf.tensor(g))
                results[on, bias is None, relu] = [y.numpy()] + [t.grad.numpy() for t in ts]
        assert bool(calls) == on  # the compiled finish ran (and only with kernels on)
    for key in [(True, nb, r) for nb in (False, True) for r in (False, True)]:
        off = results[(False, *key[1:])]
        for a, c in zip(off, results[key], strict=True):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(np.signbit(a), np.signbit(c))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kw"),
    [
        ((20, 16, 14, 14), (32, 16, 5, 5), {"padding": 2}),  # LeNet's second convolution
        ((6, 20, 9, 11), (8, 10, 3, 3), {"padding": 1, "groups": 2, "dilation": (1, 1)}),
        ((5, 12, 8, 9), (6, 12, 3, 5), {"padding": (0, 4), "dilation": (1, 2)}),  # crops
        ((4, 24, 7, 7), (5, 24, 3, 3), {"padding": "same"}),
    ],
)
@pytest.mark.skipif(not gf.kernels.available(), reason="numba is not installed")
def test_compiled_row_unfolding_gives_the_numpy_paths_bits(x_shape, w_shape, kw, monkeypatch):
    """The compiled unfolding and finish (gradfit.kernels.conv) sum in the NumPy path's
    order: output and every gradient are bit-identical, with and without a bias."""
    import contextlib

    monkeypatch.setattr(conv_mod, "_FULL_IM2COL_MAX_K", 0)  # row unfolding for every case
    calls = []
    finish = conv_mod.finish_rows  # (gradfit.kernels.conv's, as the op names it)
    monkeypatch.setattr(conv_mod, "finish_rows", lambda *a: calls.append(1) or finish(*a))
    x, w = _arrays(x_shape, w_shape, False)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    g = None
    results = {}
    for on in (False, True):
        with contextlib.nullcontext() if on else gf.kernels.disabled():
            assert gf.kernels.enabled() == on
            for bias in (None, b):
                arrs = (x, w) if bias is None else (x, w, bias)
                ts = [gf.tensor(a, requires_grad=True) for a in arrs]
                y = conv2d(*ts, **kw)
                if g is None:
                    g = rng.standard_normal(y.shape).astype(np.float32)
                y.backward(gf.tensor(g))
                results[on, bias is None] = [y.numpy()] + [t.grad.numpy() for t in ts]
        assert bool(calls) == on  # the compiled path ran (forward and input gradient)
    for nobias in (False, True):
        for a, c in zip(results[False, nobias], results[True, nobias], strict=True):
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kw"),
    [
        ((3, 1, 1, 40), (25, 1, 1, 5), {"stride": (1, 2), "padding": (0, 1)}),  # MNIST-1D's
        ((2, 4, 9, 11), (6, 4, 3, 3), {"stride": 2, "padding": 1}),
        ((2, 6, 10, 9), (4, 3, 3, 2), {"stride": (3, 2), "dilation": (2, 1), "groups": 2}),
        ((5, 12, 8, 9), (6, 12, 3, 5), {"stride": 2, "padding": (0, 4)}),  # crops
        ((3, 16, 12, 12), (8, 16, 5, 5), {"stride": 2, "padding": 2}),  # row unfolding
        # kernel columns that reach no input column (padding wider than the input)
        ((2, 3, 2, 2), (2, 3, 3, 5), {"stride": (2, 3), "padding": (2, 4), "dilation": (1, 2)}),
    ],
)
@pytest.mark.skipif(not gf.kernels.available(), reason="numba is not installed")
def test_compiled_strided_input_gradient_gives_the_numpy_paths_bits(
    x_shape, w_shape, kw, monkeypatch
):
    """A strided convolution's input gradient, gathered by gradfit.kernels.col2im, sums in the
    NumPy path's order (its slice additions): bit-identical, and the kernel ran."""
    import contextlib

    calls = []
    real = conv_mod.col2im_strided  # (gradfit.kernels.col2im's, as the op names it)
    monkeypatch.setattr(conv_mod, "col2im_strided", lambda *a: calls.append(1) or real(*a))
    x, w = _arrays(x_shape, w_shape, False)
    g, grads = None, {}
    for on in (False, True):
        with contextlib.nullcontext() if on else gf.kernels.disabled():
            xt = gf.tensor(x, requires_grad=True)
            y = conv2d(xt, gf.tensor(w), **kw)
            if g is None:
                g = rng.standard_normal(y.shape).astype(np.float32)
            y.backward(gf.tensor(g))
            grads[on] = xt.grad.numpy()
        assert bool(calls) == on
    np.testing.assert_array_equal(grads[False], grads[True])
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.conv2d(tx, torch.tensor(w), **kw).backward(torch.tensor(g))
    np.testing.assert_allclose(grads[True], tx.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kw"),
    [
        ((2, 3, 9, 9), (4, 3, 3, 3), {"stride": 2, "padding": 1}),  # the strided scatter
        ((2, 16, 12, 12), (8, 16, 5, 5), {"padding": 2}),  # the compiled unfolding and finish
    ],
)
def test_float16_keeps_the_numpy_path(kernel_path, x_shape, w_shape, kw):
    """numba has no float16 sums: the compiled conv kernels are for float32/float64 only."""
    x, w = _arrays(x_shape, w_shape, False)
    grads = {}
    for dt in (np.float16, np.float32):
        xt = gf.tensor(x.astype(dt), requires_grad=True)
        y = conv2d(xt, gf.tensor(w.astype(dt)), **kw)
        y.sum().backward()
        assert y.dtype == dt and xt.grad.dtype == dt
        grads[dt] = xt.grad.numpy().astype(np.float32)
    np.testing.assert_allclose(grads[np.float16], grads[np.float32], rtol=1e-2, atol=0.1)


def test_option_checks_hold_after_the_same_shapes_were_checked_and_cached():
    """The shape-and-option checks are cached for plain ints, strings and int tuples; other
    values (bools, floats, lists) always take the full check."""
    x, w = gf.randn(1, 3, 5, 5), gf.randn(2, 3, 3, 3)
    for _ in range(2):
        assert conv2d(x, w, stride=1, padding="same").shape == (1, 2, 5, 5)
        with pytest.raises(TypeError, match="stride must be an int or a tuple of 2 ints"):
            conv2d(x, w, stride=True)
        with pytest.raises(TypeError, match="stride must be an int or a tuple of 2 ints"):
            conv2d(x, w, stride=(True, 1))
        with pytest.raises(TypeError, match="padding must be an int or a tuple of 2 ints"):
            conv2d(x, w, padding=1.0)
        assert conv2d(x, w, stride=[1, 2]).shape == (1, 2, 3, 2)
        with pytest.raises(ValueError, match="input has 4 channels"):
            conv2d(gf.randn(1, 4, 5, 5), w)
        with pytest.raises(ValueError, match="groups must be a positive integer"):
            conv2d(x, w, groups=0)


@pytest.mark.skipif(not gf.kernels.available(), reason="numba is not installed")
def test_cached_plans_follow_the_layout_threshold(monkeypatch):
    """The cached plans, chunks and groups are keyed on the module's tuning constants too:
    changing the full-im2col threshold switches the layout of the same shapes at once."""
    calls = []
    finish = conv_mod.finish_rows
    monkeypatch.setattr(conv_mod, "finish_rows", lambda *a: calls.append(1) or finish(*a))
    x, w = gf.randn(2, 3, 8, 8), gf.randn(4, 3, 3, 3)
    full = conv2d(x, w, padding=1)
    assert not calls  # K = 27 <= 160: full im2col
    monkeypatch.setattr(conv_mod, "_FULL_IM2COL_MAX_K", 0)
    rows = conv2d(x, w, padding=1)
    assert calls  # the row layout ran for the same shapes
    np.testing.assert_allclose(rows.numpy(), full.numpy(), rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(conv_mod, "_MAX_GROUPS", 1)
    assert conv_mod._groups(5) == (range(0, 5),)
    monkeypatch.setattr(conv_mod, "_MIN_CHUNKS", 1)
    monkeypatch.setattr(conv_mod, "_MIN_CHUNK_COLS", 1 << 30)
    assert conv_mod._chunks(64, 1000, 64) == ((0, 64),)
