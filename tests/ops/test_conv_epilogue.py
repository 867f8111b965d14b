"""Conv2d -> ReLU (-> MaxPool2d) fused in a Sequential (gradfit.ops.conv_epilogue): the same
bits as the modules run one by one, the same graph, PyTorch's values, and every way out of
the fusion (hooks, subclasses, other options, no numba)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit import kernels, nn
from gradfit.ops import conv as conv_mod
from gradfit.ops import conv_epilogue
from oracle import to_numpy, to_torch

rng = np.random.default_rng(7)

# in_ch, out_ch, kernel, conv options, input (N, H, W), pool (None: ReLU only)
CASES = [
    (1, 16, 5, {"padding": 2}, (9, 28, 28), 2),  # LeNet's first layer: full im2col
    (16, 32, 5, {"padding": 2}, (9, 14, 14), 2),  # LeNet's second: compiled row unfolding
    (3, 4, 3, {"stride": 2, "padding": 1}, (4, 11, 9), 2),  # strided: col2im gradient, odd pool
    (4, 6, 3, {"padding": (0, 1), "dilation": (2, 1), "groups": 2, "bias": False}, (3, 9, 8), 2),
    (2, 5, 3, {"padding": "same"}, (3, 7, 7), None),  # ReLU only: a Flatten follows
    (2, 3, 3, {}, (1, 5, 5), 2),  # pooling floors a 3x3 map
    (2, 3, 3, {"padding": 1}, (0, 6, 6), 2),  # an empty batch
]


def _model(cin, cout, k, opts, pool, dtype):
    gf.manual_seed(3)
    mods = [nn.Conv2d(cin, cout, k, dtype=dtype, **opts), nn.ReLU()]
    if pool:
        mods.append(nn.MaxPool2d(pool))
    return nn.Sequential(*mods, nn.Flatten())


def _one_by_one(seq, x):
    for m in seq:
        x = m(x)
    return x


def _run(seq, x, fused, g):
    xt = gf.tensor(x, requires_grad=True)
    y = seq(xt) if fused else _one_by_one(seq, xt)
    y.backward(gf.tensor(g))
    grads = [p.grad.numpy().copy() for p in seq.parameters()]
    for p in seq.parameters():
        p.grad = None
    return y, xt.grad.numpy(), grads


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_fused_gives_the_bits_of_the_ops_one_by_one(case, dtype, threads, kernel_path, monkeypatch):
    cin, cout, k, opts, (n, h, w), pool = case
    before = gf.get_num_threads()
    gf.set_num_threads(threads)
    try:
        # several chunks, so that the pool's threads share the work
        per_sample = lambda b, per, cols: [(i, i + 1) for i in range(b)] or [(0, 0)]
        monkeypatch.setattr(conv_mod, "_chunks", per_sample)
        seq = _model(cin, cout, k, opts, pool, gf.float64 if dtype == np.float64 else gf.float32)
        x = rng.standard_normal((n, cin, h, w)).astype(dtype)
        x[:, :, :2] = 0  # zero rows: ReLU ties at 0 and maxima among zeros
        y_ref = _one_by_one(seq, gf.tensor(x))
        g = rng.standard_normal(y_ref.shape).astype(dtype)
        y1, gx1, gp1 = _run(seq, x, True, g)
        y0, gx0, gp0 = _run(seq, x, False, g)
    finally:
        gf.set_num_threads(before)
    assert y1.dtype == dtype and gx1.dtype == dtype
    np.testing.assert_array_equal(y1.numpy(), y0.numpy())
    np.testing.assert_array_equal(gx1, gx0)
    for a, b in zip(gp1, gp0, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_graph_is_the_three_ops():
    seq = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    y = seq(gf.randn(2, 2, 8, 8, requires_grad=True))
    names = []
    fn = y.grad_fn
    while fn is not None and not isinstance(fn, gf.Tensor):
        names.append(fn.name)
        fn = fn.parents[0]
    assert names == ["MaxPool2d", "ReLU", "ConvNd"]


@pytest.mark.skipif(not kernels.available(), reason="numba is not installed")
def test_the_sequential_runs_the_fused_call(monkeypatch):
    calls = []
    real = conv_epilogue.conv_relu
    monkeypatch.setattr(gf.nn.conv, "conv_relu", lambda *a: calls.append(a[-1]) or real(*a))
    lenet = nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 12 * 12, 3))  # fmt: skip
    y = lenet(gf.randn(2, 1, 28, 28))
    assert y.shape == (2, 3)
    assert calls == [(2, 2, 0, 1, False), None]  # with its pooling, then ReLU only


def test_matches_torch():
    seq = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    tseq = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.MaxPool2d(2))  # fmt: skip
    with torch.no_grad():
        tseq[0].weight.copy_(to_torch(seq[0].weight.numpy()))
        tseq[0].bias.copy_(to_torch(seq[0].bias.numpy()))
    x = rng.standard_normal((5, 3, 10, 10)).astype(np.float32)
    g = rng.standard_normal((5, 6, 5, 5)).astype(np.float32)
    xg, xt = gf.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    seq(xg).backward(gf.tensor(g))
    yt = tseq(xt)
    yt.backward(to_torch(g))
    np.testing.assert_allclose(seq(xg).numpy(), to_numpy(yt), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xg.grad.numpy(), to_numpy(xt.grad), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(seq[0].weight.grad.numpy(), to_numpy(tseq[0].weight.grad),
                               rtol=1e-4, atol=1e-4)  # fmt: skip
    np.testing.assert_allclose(seq[0].bias.grad.numpy(), to_numpy(tseq[0].bias.grad),
                               rtol=1e-4, atol=1e-4)  # fmt: skip


def test_forward_hooks_see_every_module():
    seq = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    seen = []
    seq[1].register_forward_hook(lambda m, a, out: seen.append(out.shape))
    seq[2].register_forward_pre_hook(lambda m, a: seen.append(a[0].shape))
    seq(gf.randn(2, 1, 6, 6))
    assert seen == [(2, 2, 6, 6), (2, 2, 6, 6)]


def test_subclasses_and_other_options_run_one_by_one(monkeypatch):
    def fail(*a):
        raise AssertionError("fused")

    monkeypatch.setattr(gf.nn.conv, "conv_relu", fail)

    class MyReLU(nn.ReLU):
        pass

    x = gf.randn(2, 2, 6, 6)
    nn.Sequential(nn.Conv2d(2, 2, 3), MyReLU())(x)
    nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"), nn.ReLU())(x)
    nn.Sequential(nn.Conv2d(2, 2, 3), nn.Tanh(), nn.ReLU())(x)
    nn.Sequential(nn.Conv2d(2, 2, 3), nn.ReLU())(gf.randn(2, 6, 6))  # unbatched
    with pytest.raises(TypeError, match=r"Conv2d\(2, 2.*share one float dtype"):
        nn.Sequential(nn.Conv2d(2, 2, 3, dtype=gf.float64), nn.ReLU())(x)  # the layer's error
    with pytest.raises(ValueError, match=r"Conv2d\(3, 2"):
        nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU())(x)


@pytest.mark.parametrize("pool", [nn.MaxPool2d(3), nn.MaxPool2d(2, ceil_mode=True),
                                  nn.MaxPool2d(2, padding=1), nn.AvgPool2d(2)])  # fmt: skip
def test_other_poolings_follow_a_fused_relu(pool):
    seq = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), pool)
    x = gf.tensor(rng.standard_normal((2, 2, 9, 9)).astype(np.float32), requires_grad=True)
    y1 = seq(x)
    y0 = _one_by_one(seq, x)
    np.testing.assert_array_equal(y1.numpy(), y0.numpy())
    y1.sum().backward()
    g1 = x.grad.numpy().copy()
    x.grad = None
    y0.sum().backward()
    np.testing.assert_array_equal(g1, x.grad.numpy())


def test_double_backward_through_the_fused_ops():
    """A gradient penalty: d/dw of |d loss / d x|^2, recorded through the three nodes."""
    seq = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, dtype=gf.float64), nn.ReLU(),
                        nn.MaxPool2d(2))  # fmt: skip
    x0 = rng.standard_normal((2, 2, 6, 6))
    out = []
    for fused in (True, False):
        x = gf.tensor(x0, requires_grad=True)
        y = seq(x) if fused else _one_by_one(seq, x)
        (gx,) = gf.autograd.grad((y * y).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        out.append(seq[0].weight.grad.numpy().copy())
        seq.zero_grad()
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12, atol=1e-12)
    assert np.abs(out[0]).max() > 0


def test_retain_graph_runs_the_backward_twice():
    seq = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    x = gf.randn(3, 2, 8, 8, requires_grad=True)
    y = seq(x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_no_grad_and_frozen_layers():
    seq = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    x = gf.randn(3, 2, 8, 8)
    with gf.no_grad():
        y = seq(x)
    assert not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), _one_by_one(seq, x).numpy())
    seq.requires_grad_(False)
    assert not seq(x).requires_grad
    seq[0].bias.requires_grad_(True)  # only the bias learns
    seq(x).sum().backward()
    b = seq[0].bias.grad.numpy().copy()
    seq[0].bias.grad = None
    _one_by_one(seq, x).sum().backward()
    np.testing.assert_allclose(b, seq[0].bias.grad.numpy(), rtol=1e-5)


def test_changing_the_relu_output_in_place_is_caught():
    seq = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU())
    y = seq(gf.randn(2, 2, 5, 5, requires_grad=True))
    y.add_(1)
    with pytest.raises(
        RuntimeError, match="ReLU: its output was modified by an in-place operation"
    ):
        y.sum().backward()


def test_functional_call_pools_only_what_it_can():
    x, w = gf.randn(2, 1, 7, 7), gf.randn(2, 1, 3, 3)
    y, pooled = conv_epilogue.conv_relu(2, x, w, None, 1, 1, 1, 1, pool=(3, None, 0, 1, False))
    assert not pooled and y.shape == (2, 2, 7, 7)
    ref = gf.relu(gf.nn.functional.conv2d(x, w, padding=1))
    np.testing.assert_array_equal(y.numpy(), ref.numpy())


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "case",
    [(1, 25, 5, {"stride": 2, "padding": 1}, (7, 40)),  # the MNIST-1D CNN's layers
     (25, 25, 3, {"stride": 2, "padding": 1}, (7, 19)),
     (4, 6, 3, {"padding": "same", "dilation": 2, "groups": 2}, (3, 11)),
     (2, 3, 3, {"bias": False}, (0, 6))],
)  # fmt: skip
def test_conv1d_relu_fused_gives_the_same_bits(case, threads, kernel_path, monkeypatch):
    cin, cout, k, opts, (n, length) = case
    before = gf.get_num_threads()
    gf.set_num_threads(threads)
    try:
        per_sample = lambda b, per, cols: [(i, i + 1) for i in range(b)] or [(0, 0)]
        monkeypatch.setattr(conv_mod, "_chunks", per_sample)
        gf.manual_seed(1)
        seq = nn.Sequential(nn.Conv1d(cin, cout, k, **opts), nn.ReLU(), nn.MaxPool1d(2))
        x = rng.standard_normal((n, cin, length)).astype(np.float32)
        y_ref = _one_by_one(seq, gf.tensor(x))
        g = rng.standard_normal(y_ref.shape).astype(np.float32)
        y1, gx1, gp1 = _run(seq, x, True, g)
        y0, gx0, gp0 = _run(seq, x, False, g)
    finally:
        gf.set_num_threads(before)
    np.testing.assert_array_equal(y1.numpy(), y0.numpy())
    np.testing.assert_array_equal(gx1, gx0)
    for a, b in zip(gp1, gp0, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_mnist1d_cnn_fuses_its_relus_and_keeps_its_hooks():
    net = gf.models.cnn1d()
    x = gf.tensor(rng.standard_normal((6, 40)).astype(np.float32))
    y = net(x)
    names, fn = [], y.grad_fn
    while fn is not None and not isinstance(fn, gf.Tensor):
        names.append(fn.name)
        fn = next((p for p in fn.parents if p is not None and not isinstance(p, gf.Tensor)), None)
    assert names.count("ReLU") == 3 and names.count("ConvNd") == 3
    h = x.reshape(6, 1, 40)
    for conv in (net.conv1, net.conv2, net.conv3):
        h = conv(h).relu()
    np.testing.assert_array_equal(y.numpy(), net.linear(h.reshape(6, -1)).numpy())
    seen = []
    net.conv2.register_forward_hook(lambda m, a, out: seen.append(out.shape))
    net(x)
    assert seen == [(6, 25, 10)]


def test_review_findings_stay_fixed():
    """A frozen weight with a learning bias (the bits), a forward replaced on the instance,
    a fused node's backward called by hand, a None member, kernels off before backward."""
    x = gf.tensor(rng.standard_normal((16, 3, 16, 16)).astype(np.float32))
    seq = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    seq[0].weight.requires_grad_(False)
    seq(x).pow(2).sum().backward()
    fused = seq[0].bias.grad.numpy().copy()
    seq[0].bias.grad = None
    _one_by_one(seq, x).pow(2).sum().backward()
    np.testing.assert_array_equal(fused, seq[0].bias.grad.numpy())

    seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    seq[1].forward = lambda t: t.clamp(min=0.5)
    assert float(seq(gf.randn(1, 1, 8, 8)).min()) == 0.5

    seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    x = gf.randn(1, 1, 8, 8, requires_grad=True)
    y = seq(x)
    ones = np.ones(y.shape, np.float32)
    by_hand = y.grad_fn.backward(ones)[0]
    ref = _one_by_one(seq, x)
    np.testing.assert_array_equal(by_hand, ref.grad_fn.backward(ones)[0])
    assert by_hand.sum() == ones.sum()

    s = nn.Sequential(nn.Linear(2, 2))
    s.add_module("n", None)
    with pytest.raises(TypeError, match="not callable"):
        s(gf.ones(1, 2))

    seq = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    x = gf.tensor(rng.standard_normal((2, 2, 6, 6)).astype(np.float32), requires_grad=True)
    y = seq(x)
    with kernels.disabled():
        y.sum().backward()
    g = x.grad.numpy().copy()
    x.grad = None
    _one_by_one(seq, x).sum().backward()
    np.testing.assert_array_equal(g, x.grad.numpy())
