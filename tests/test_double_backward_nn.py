"""Second derivatives of the layer ops (pooling, padding, resampling, fold, convolution,
normalisation, embedding, recurrent layers) against torch, and gradgradcheck in float64.

:func:`double_vjp` differentiates the first gradient ``g = d<v, f(x)>/dx`` (made with
``create_graph=True``) again, with respect to the inputs *and* to the upstream gradient
``v``: the second catches a wrong transpose in an op whose backward is linear in ``v``
(pooling, padding, resampling), where the first alone may be zero.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradfit as gf
from oracle import assert_close

torch.set_num_threads(1)

R = np.random.default_rng(7)


def rn(*shape: int) -> np.ndarray:
    return R.standard_normal(shape)


def _F(lib):
    return gf.nn.functional if lib is gf else torch.nn.functional


def double_vjp(fn, arrays, consts=(), seed=0, rtol=1e-8, atol=1e-10):
    """Compare with torch: g = grad(f(x), x, v, create_graph), then d(sum_i u_i . g_i)/d(x, v).

    ``fn(F, *tensors, *consts)``; ``consts`` are arrays passed as tensors without grad.
    """
    res = {}
    for lib in (gf, torch):
        F = _F(lib)
        xs = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        cs = [lib.tensor(a.copy()) for a in consts]
        out = fn(F, *xs, *cs)
        r = np.random.default_rng(seed)
        v = lib.tensor(r.standard_normal(tuple(out.shape)), requires_grad=True)
        gs = lib.autograd.grad(out, xs, v, create_graph=True, allow_unused=True)
        z = None
        for g, a in zip(gs, arrays, strict=True):
            u = lib.tensor(r.standard_normal(a.shape))
            if g is not None and g.requires_grad:
                term = (g * u).sum()
                z = term if z is None else z + term
        second = lib.autograd.grad(z, [*xs, v], allow_unused=True)
        res[lib] = (gs, second)
    for level in (0, 1):
        for k, (a, e) in enumerate(zip(res[gf][level], res[torch][level], strict=True)):
            what = f"{'v' if k == len(arrays) else f'x{k}'} order {level + 1}"
            if e is None:
                assert a is None or np.allclose(a.numpy(), 0), what
                continue
            if a is None:
                assert np.allclose(e.detach().numpy(), 0), f"{what}: gradfit gave none"
                continue
            assert_close(a.detach(), e.detach(), rtol=rtol, atol=atol, what=what)


def ggcheck(fn, arrays):
    xs = [gf.tensor(a.copy(), requires_grad=True) for a in arrays]
    assert gf.gradgradcheck(fn, xs)


# --------------------------------------------------------------------------- pooling

POOL = {
    "max2d_tiles": (lambda F, x: F.max_pool2d(x, 2) ** 2, (2, 2, 4, 6)),
    "max2d_tiles_3x3": (lambda F, x: F.max_pool2d(x, 3) ** 2, (1, 2, 7, 6)),
    "max2d_tiles_3x1": (lambda F, x: F.max_pool2d(x, (3, 1)).sin(), (1, 2, 6, 3)),
    "max2d_overlap_pad": (lambda F, x: F.max_pool2d(x, 3, 2, 1) ** 2, (2, 1, 5, 6)),
    "max2d_dilation_ceil": (
        lambda F, x: F.max_pool2d(x, 2, 2, dilation=2, ceil_mode=True) ** 2,
        (1, 2, 7, 7),
    ),
    "max1d": (lambda F, x: F.max_pool1d(x, 3, 2, 1) ** 2, (2, 3, 9)),
    "max1d_unbatched": (lambda F, x: F.max_pool1d(x, 2) ** 2, (3, 8)),
    "avg2d": (lambda F, x: F.avg_pool2d(x * x, 2) ** 2, (2, 2, 4, 6)),
    "avg2d_pad_nocount": (
        lambda F, x: F.avg_pool2d(x * x, 3, 2, 1, count_include_pad=False).sin(),
        (1, 2, 5, 6),
    ),
    "avg2d_ceil_divisor": (
        lambda F, x: F.avg_pool2d(x, 2, ceil_mode=True, divisor_override=3) ** 3,
        (1, 1, 5, 5),
    ),
    "avg1d": (lambda F, x: F.avg_pool1d(x * x, 3, 2, 1) ** 2, (2, 2, 8)),
    "adaptive_avg2d": (lambda F, x: F.adaptive_avg_pool2d(x * x, (2, 3)) ** 2, (2, 2, 5, 7)),
    "adaptive_avg2d_divisible": (lambda F, x: F.adaptive_avg_pool2d(x, 2) ** 3, (1, 2, 4, 4)),
    "adaptive_avg1d": (lambda F, x: F.adaptive_avg_pool1d(x, 3).sin(), (2, 2, 7)),
    "adaptive_max2d": (lambda F, x: F.adaptive_max_pool2d(x, (2, 3)) ** 2, (2, 2, 5, 7)),
    "adaptive_max1d": (lambda F, x: F.adaptive_max_pool1d(x, 3) ** 2, (2, 2, 7)),
}


@pytest.mark.parametrize("name", sorted(POOL))
def test_pool_second_order(name, kernel_path):
    fn, shape = POOL[name]
    double_vjp(fn, [rn(*shape)])


def test_pool_ties_follow_torch(kernel_path):
    # windows of equal values (zeros after a relu): the gradient goes to the first one
    x = np.maximum(rn(1, 2, 4, 6), 0) * 0
    x[0, 0, 1, 1] = 0.5
    double_vjp(
        lambda F, x: (F.max_pool2d(x, 2) ** 2).sum() + F.max_pool2d(x, 3, 1, 1).sin().sum(), [x]
    )


def test_max_pool_large_batch_split_across_threads(kernel_path):
    # over 1 MB: the tiled max pool runs (and saves its argmax) in batch chunks
    old = gf.get_num_threads()
    gf.set_num_threads(2)
    try:
        double_vjp(lambda F, x: F.max_pool2d(x, 2) ** 2, [rn(33, 8, 16, 32)])
    finally:
        gf.set_num_threads(old)


@pytest.mark.parametrize("name", ["max2d_overlap_pad", "avg2d_pad_nocount", "adaptive_max2d"])
def test_pool_gradgradcheck(name):
    fn, shape = POOL[name]
    ggcheck(lambda x: fn(gf.nn.functional, x), [rn(*shape)])


@settings(max_examples=8, deadline=None)
@given(
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 1),
    h=st.integers(3, 7),
    w=st.integers(3, 7),
    ceil=st.booleans(),
    avg=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_pool_second_order_hypothesis(k, s, p, h, w, ceil, avg, seed):
    p = min(p, k // 2)
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    if avg:
        double_vjp(lambda F, x: F.avg_pool2d(x * x, k, s, p, ceil_mode=ceil) ** 2, [x], seed=seed)
    else:
        double_vjp(lambda F, x: F.max_pool2d(x, k, s, p, ceil_mode=ceil) ** 2, [x], seed=seed)


# --------------------------------------------------------------------------- padding, resampling, fold

RESHAPE = {
    "pad_constant": (lambda F, x: F.pad(x, (1, 2, 0, 1), value=0.5) ** 2, (2, 2, 3, 4)),
    "pad_negative": (lambda F, x: F.pad(x * x, (-1, 2, 1, -1)).sin(), (1, 2, 4, 5)),
    "pad_reflect": (lambda F, x: F.pad(x, (2, 1, 1, 2), mode="reflect") ** 2, (1, 2, 4, 4)),
    "pad_replicate": (lambda F, x: F.pad(x, (3, 1), mode="replicate") ** 2, (2, 2, 4)),
    "pad_circular": (lambda F, x: F.pad(x, (1, 2, 2, 1), mode="circular") ** 2, (1, 1, 3, 4)),
    "nearest": (lambda F, x: F.interpolate(x, scale_factor=2) ** 2, (1, 2, 3, 4)),
    "nearest_exact": (
        lambda F, x: F.interpolate(x, size=5, mode="nearest-exact") ** 2,
        (1, 2, 3),
    ),
    "linear": (lambda F, x: F.interpolate(x, size=7, mode="linear") ** 2, (2, 1, 4)),
    "bilinear_align": (
        lambda F, x: F.interpolate(x * x, size=(5, 3), mode="bilinear", align_corners=True).sin(),
        (1, 2, 3, 4),
    ),
    "bicubic": (lambda F, x: F.interpolate(x, scale_factor=1.5, mode="bicubic") ** 2, (1, 1, 4, 4)),
    "area": (lambda F, x: F.interpolate(x, size=(2, 3), mode="area") ** 2, (1, 2, 5, 7)),
    "pixel_shuffle": (lambda F, x: F.pixel_shuffle(x, 2) ** 2, (1, 8, 2, 3)),
    "pixel_unshuffle": (lambda F, x: F.pixel_unshuffle(x, 2) ** 2, (1, 2, 4, 6)),
    "unfold": (
        lambda F, x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)) ** 2,
        (2, 2, 4, 5),
    ),
    "fold": (lambda F, x: F.fold(x, (4, 5), 2, padding=1, stride=2).sin(), (2, 8, 9)),
}


@pytest.mark.parametrize("name", sorted(RESHAPE))
def test_padding_resample_fold_second_order(name):
    fn, shape = RESHAPE[name]
    double_vjp(fn, [rn(*shape)])


@pytest.mark.parametrize("name", ["pad_reflect", "bilinear_align", "fold"])
def test_padding_resample_fold_gradgradcheck(name):
    fn, shape = RESHAPE[name]
    ggcheck(lambda x: fn(gf.nn.functional, x), [rn(*shape)])


# --------------------------------------------------------------------------- convolution

CONV2D = [
    dict(groups=2),
    dict(groups=2, stride=2, padding=1, dilation=(1, 2)),
    dict(groups=4, stride=(1, 2)),
    dict(padding="same"),  # even kernel: one more row/column of padding at the end
    dict(padding="same", dilation=(1, 3), groups=2),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kw", CONV2D, ids=str)
def test_conv2d_groups_and_uneven_padding_second_order(kw):
    double_vjp(
        lambda F, x, w, b: F.conv2d(x * x, w, b, **kw).tanh(),
        [rn(2, 4, 5, 6), rn(4, 4 // kw.get("groups", 1), 2, 3), rn(4)],
    )


def test_conv1d_groups_same_second_order_and_gradgradcheck():
    double_vjp(
        lambda F, x, w: F.conv1d(x, w, padding="same", groups=3) ** 2,
        [rn(2, 3, 6), rn(6, 1, 4)],
    )
    double_vjp(lambda F, x, w: F.conv1d(x, w, stride=3, dilation=2) ** 2, [rn(3, 7), rn(2, 3, 2)])
    ggcheck(
        lambda x, w: gf.nn.functional.conv1d(x, w, padding="same", groups=2).sin(),
        [rn(1, 2, 5), rn(2, 1, 2)],
    )


def test_conv2d_gradgradcheck_groups_stride():
    ggcheck(
        lambda x, w, b: gf.nn.functional.conv2d(x, w, b, stride=2, padding=1, groups=2).sin(),
        [rn(1, 2, 4, 5), rn(4, 1, 3, 2), rn(4)],
    )


@settings(max_examples=6, deadline=None)
@given(
    groups=st.sampled_from([1, 2]),
    k=st.integers(1, 3),
    s=st.integers(1, 2),
    d=st.integers(1, 2),
    p=st.integers(0, 2),
    hw=st.tuples(st.integers(4, 6), st.integers(4, 6)),
    seed=st.integers(0, 2**16),
)
def test_conv2d_second_order_hypothesis(groups, k, s, d, p, hw, seed):
    r = np.random.default_rng(seed)
    arrays = [r.standard_normal((2, 2, *hw)), r.standard_normal((2, 2 // groups, k, k))]
    opts = dict(stride=s, dilation=d, padding=p, groups=groups)
    double_vjp(lambda F, x, w: F.conv2d(x, w, **opts) ** 2, arrays, seed=seed)


def test_conv_transpose_under_create_graph_runs_its_own_backward_graph():
    # ConvTransposeNd subclasses ConvNd: it must not run the convolution's backward_graph
    # (more in test_double_backward_conv_transpose.py)
    double_vjp(
        lambda F, x, w: F.conv_transpose2d(x, w, stride=2) ** 2, [rn(1, 2, 3, 3), rn(2, 3, 2, 2)]
    )


# --------------------------------------------------------------------------- normalisation


def test_group_norm_second_order(kernel_path):
    double_vjp(
        lambda F, x, w, b: F.group_norm(x * x, 2, w, b, eps=1e-3).tanh(),
        [rn(3, 4, 5), rn(4), rn(4)],
    )
    double_vjp(lambda F, x: F.group_norm(x, 3) ** 3, [rn(2, 6, 2, 3)])
    double_vjp(lambda F, x: F.group_norm(x**3, 1, eps=0.5) ** 2, [rn(2, 3)])  # no positions
    # bias alone (gradfit adds a constant weight of ones; torch 2.13's double backward fails)
    ggcheck(lambda x, b: gf.nn.functional.group_norm(x, 2, None, b).sin(), [rn(2, 4, 3), rn(4)])


def test_instance_norm_second_order(kernel_path):
    double_vjp(
        lambda F, x, w, b: F.instance_norm(x, weight=w, bias=b).sin(),
        [rn(2, 3, 2, 3), rn(3), rn(3)],
    )
    rm, rv = rn(3), np.abs(rn(3)) + 0.5
    double_vjp(
        lambda F, x, m, v: F.instance_norm(x, m, v, use_input_stats=False) ** 3,
        [rn(2, 3, 4)],
        consts=[rm, rv],
    )


def test_norms_gradgradcheck():
    F = gf.nn.functional
    ggcheck(lambda x, w, b: F.group_norm(x, 2, w, b).sin(), [rn(2, 4, 3), rn(4), rn(4)])
    ggcheck(lambda x, w: F.layer_norm(x, (3,), w).sin(), [rn(2, 3), rn(3)])
    ggcheck(lambda x: F.batch_norm(x, None, None, training=True).sin(), [rn(4, 2, 2)])


def test_group_norm_float32_second_order_keeps_dtype(kernel_path):
    x = gf.tensor(rn(2, 4, 3).astype(np.float32), requires_grad=True)
    (g,) = gf.autograd.grad((gf.nn.functional.group_norm(x, 2) ** 3).sum(), [x], create_graph=True)
    (h,) = gf.autograd.grad((g * g).sum(), [x])
    xt = torch.tensor(x.numpy(), requires_grad=True)
    (gt,) = torch.autograd.grad(
        (torch.nn.functional.group_norm(xt, 2) ** 3).sum(), [xt], create_graph=True
    )
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt])
    assert g.dtype == gf.float32 and h.dtype == gf.float32
    assert_close(h, ht, rtol=2e-3, atol=2e-3)


# --------------------------------------------------------------------------- embedding


def test_embedding_second_order_padding_idx_and_gradgradcheck():
    idx = np.array([[1, 2, 4], [4, 3, 0]])
    double_vjp(lambda F, w, i: F.embedding(i, w, padding_idx=4) ** 3, [rn(5, 3)], consts=[idx])
    ggcheck(lambda w: gf.nn.functional.embedding(gf.tensor(idx), w).sin(), [rn(5, 2)])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_second_order(mode):
    # torch 2.13 has no double backward for embedding_bag: compared with the same bags
    # written as embedding + reductions in torch, and by gradgradcheck
    idx, offsets = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3])
    rows = [idx[:3], idx[3:]]

    def fn(F, w, i, o):
        if F is gf.nn.functional:
            return F.embedding_bag(i, w, o, mode=mode) ** 2
        bags = [F.embedding(torch.tensor(r), w) for r in rows]
        red = {"sum": lambda b: b.sum(0), "mean": lambda b: b.mean(0), "max": lambda b: b.amax(0)}
        return torch.stack([red[mode](b) for b in bags]) ** 2

    double_vjp(fn, [rn(10, 3)], consts=[idx, offsets])
    i, o = gf.tensor(idx), gf.tensor(offsets)
    ggcheck(lambda w: gf.nn.functional.embedding_bag(i, w, o, mode=mode).sin(), [rn(10, 2)])


def test_embedding_bag_per_sample_weights_gradgradcheck():
    i, o = gf.tensor(np.array([1, 2, 4, 0])), gf.tensor(np.array([0, 1]))
    ggcheck(
        lambda w, p: gf.nn.functional.embedding_bag(
            i, w, o, mode="sum", per_sample_weights=p
        ).sin(),
        [rn(5, 2), rn(4)],
    )


# --------------------------------------------------------------------------- recurrent layers


def _pair(cls, *args, **kw):
    torch.manual_seed(0)
    t = getattr(torch.nn, cls)(*args, **kw).double()
    g = getattr(gf.nn, cls)(*args, dtype="float64", **kw)
    for name, p in t.named_parameters():
        getattr(g, name)._data[...] = p.detach().numpy()
    return g, t


def module_second_order(cls, x, hx, lengths=None, rtol=1e-8, **kw):
    """Second derivatives of a loss of a recurrent module's outputs and states with respect
    to the input, the initial states and every parameter, against torch."""
    g, t = _pair(cls, x.shape[-1], 3, **kw)
    names = [n for n, _ in t.named_parameters()]
    cell = cls.endswith("Cell")
    res = {}
    for lib, mod in ((gf, g), (torch, t)):
        xs = [lib.tensor(a.copy(), requires_grad=True) for a in [x, *hx]]
        leaves = xs + [getattr(mod, n) for n in names]
        inp = xs[0]
        if lengths is not None:
            pack = gf.nn.utils.rnn if lib is gf else torch.nn.utils.rnn
            inp = pack.pack_padded_sequence(inp, lengths, enforce_sorted=False)
        state = tuple(xs[1:]) if len(hx) == 2 else xs[1]
        if cell:
            res_out = mod(inp, state)
            outs = list(res_out) if isinstance(res_out, tuple) else [res_out]
        else:
            out, h = mod(inp, state)
            outs = [out.data if lengths is not None else out, *(h if isinstance(h, tuple) else [h])]
        r = np.random.default_rng(1)
        loss = sum(
            ((o * o).sin() * lib.tensor(r.standard_normal(tuple(o.shape)))).sum() for o in outs
        )
        gs = lib.autograd.grad(loss, leaves, create_graph=True)
        z = sum((gi * lib.tensor(r.standard_normal(tuple(gi.shape)))).sum() for gi in gs)
        res[lib] = (gs, lib.autograd.grad(z, leaves))
    labels = ["x", *(f"h{k}" for k in range(len(hx))), *names]
    for level in (0, 1):
        for k, (a, e) in enumerate(zip(res[gf][level], res[torch][level], strict=True)):
            assert_close(a.detach(), e.detach(), rtol=rtol, atol=1e-10,
                         what=f"{cls} {labels[k]} order {level + 1}")  # fmt: skip


RNN_CASES = {
    "rnn_tanh": ("RNN", dict()),
    "rnn_relu_2layers": ("RNN", dict(nonlinearity="relu", num_layers=2)),
    "gru_bidirectional": ("GRU", dict(bidirectional=True)),
    "gru_no_bias": ("GRU", dict(bias=False)),
    "lstm": ("LSTM", dict()),
    "lstm_proj_bidir": ("LSTM", dict(proj_size=2, bidirectional=True)),
}


@pytest.mark.parametrize("name", sorted(RNN_CASES))
def test_recurrent_modules_second_order(name):
    cls, kw = RNN_CASES[name]
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1) * D
    P = kw.get("proj_size") or 3
    hx = [rn(L, 2, P)] + ([rn(L, 2, 3)] if cls == "LSTM" else [])
    module_second_order(cls, rn(4, 2, 2), hx, **kw)


@pytest.mark.parametrize("cls", ["RNN", "GRU", "LSTM"])
def test_recurrent_packed_second_order(cls):
    hx = [rn(2, 3, 3)] + ([rn(2, 3, 3)] if cls == "LSTM" else [])
    module_second_order(cls, rn(4, 3, 2), hx, lengths=[2, 4, 1], bidirectional=True)


@pytest.mark.parametrize("cls", ["RNNCell", "GRUCell", "LSTMCell"])
def test_recurrent_cells_second_order(cls):
    hx = [rn(2, 3)] + ([rn(2, 3)] if cls == "LSTMCell" else [])
    module_second_order(cls, rn(2, 2), hx)


@pytest.mark.parametrize("mode", ["RNN_TANH", "GRU", "LSTM"])
def test_recurrent_op_gradgradcheck_non_leaf_biases_and_packing(mode):
    from gradfit.ops.rnn import recurrent

    G = {"RNN_TANH": 1, "GRU": 3, "LSTM": 4}[mode]
    bs = np.array([2, 2, 1])

    def f(x, h0, w_ih, w_hh, b):
        c0 = h0 * 0.5 if mode == "LSTM" else None
        out, h, c = recurrent(mode, x, h0, c0, w_ih, w_hh, b * 2.0, b[::-1] + 0.1,
                              reverse=True, batch_sizes=bs)  # fmt: skip
        return out.sum(0).tanh() + h if c is None else out.sum(0) + h * c

    ggcheck(f, [rn(3, 2, 2), rn(2, 2), rn(2 * G, 2), rn(2 * G, 2), rn(2 * G)])


# --------------------------------------------------------------------------- whole models


def _cnn(F, x, w1, b1, gamma, beta, w2, w3, b3, y):
    h = F.conv2d(x, w1, b1, padding=1)
    h = F.batch_norm(h, None, None, gamma, beta, training=True)
    h = F.max_pool2d(F.relu(h), 2)
    h = F.conv2d(F.pad(h, (1, 0, 1, 0), mode="replicate"), w2, groups=2, stride=(1, 2))
    h = F.adaptive_avg_pool2d(F.group_norm(h.tanh(), 2), (1, 1)).flatten(1)
    return F.cross_entropy(F.linear(h, w3, b3), y)


def test_cnn_loss_hessian_vector_product():
    r = np.random.default_rng(3)
    x, y = r.standard_normal((3, 2, 6, 6)), np.array([0, 2, 1])
    shapes = [(4, 2, 3, 3), (4,), (4,), (4,), (4, 2, 2, 2), (3, 4), (3,)]
    params = [r.standard_normal(s) * 0.5 for s in shapes]
    vs = [r.standard_normal(s) for s in shapes]
    res = {}
    for lib in (gf, torch):
        F, xt, yt = _F(lib), lib.tensor(x), lib.tensor(y)
        ps = tuple(lib.tensor(p) for p in params)
        v = tuple(lib.tensor(a) for a in vs)
        res[lib] = lib.autograd.functional.hvp(lambda *ps: _cnn(F, xt, *ps, yt), ps, v)
    assert_close(res[gf][0], res[torch][0], rtol=1e-10, atol=1e-12, what="loss")
    for k, (a, e) in enumerate(zip(res[gf][1], res[torch][1], strict=True)):
        assert_close(a, e, rtol=1e-7, atol=1e-10, what=f"Hv of parameter {k}")


def test_maml_step_with_a_gru_on_sine_sequences():
    # inner step on a support set of sine sequences, outer loss on a query set through the
    # adapted weights; torch runs the adapted module with torch.func.functional_call
    from gradfit.ops.rnn import recurrent

    r = np.random.default_rng(11)
    t = np.linspace(0, 3, 6)

    def task(n):
        ph = r.uniform(0, np.pi, (1, n, 1))
        seq = np.sin(t[:, None, None] + ph)  # (T, n, 1)
        return seq[:-1], seq[1:]

    (xs, ys), (xq, yq) = task(3), task(4)
    g, tm = _pair("GRU", 1, 3)
    names = [n for n, _ in tm.named_parameters()]
    head_w, head_b = r.standard_normal((1, 3)) * 0.5, np.zeros(1)
    res = {}
    for lib in (gf, torch):
        F = _F(lib)
        ps = [lib.tensor(getattr(g, n).numpy().copy(), requires_grad=True) for n in names]
        ps += [
            lib.tensor(head_w.copy(), requires_grad=True),
            lib.tensor(head_b.copy(), requires_grad=True),
        ]

        def predict(ws, x):
            if lib is gf:
                h0 = gf.zeros(x.shape[1], 3, dtype=x.dtype)
                out = recurrent("GRU", x, h0, None, *ws[:4])[0]
            else:
                out = torch.func.functional_call(tm, dict(zip(names, ws[:4])), (x,))[0]
            return F.linear(out, ws[4], ws[5])

        inner = F.mse_loss(predict(ps, lib.tensor(xs)), lib.tensor(ys))
        gs = lib.autograd.grad(inner, ps, create_graph=True)
        fast = [p - 0.3 * gi for p, gi in zip(ps, gs, strict=True)]
        outer = F.mse_loss(predict(fast, lib.tensor(xq)), lib.tensor(yq))
        outer.backward()
        res[lib] = [outer.detach()] + [p.grad for p in ps]
    for k, (a, e) in enumerate(zip(res[gf], res[torch], strict=True)):
        assert_close(a, e, rtol=1e-8, atol=1e-11, what=f"outer loss / meta-gradient {k}")


@pytest.mark.parametrize("pool", ["tiles", "overlap", "embedding"])
def test_input_gradient_penalty_in_the_same_loss(pool):
    # "double backpropagation": loss + |d loss / d x|^2 in one backward. The walk may pass
    # (and release) a node before the node recorded from its gradient, which still needs
    # the first node's saved argmax or indices
    r = np.random.default_rng(4)
    idx = np.array([[0, 2, 2, 1]])
    x = r.standard_normal((2, 1, 4, 4)) if pool != "embedding" else r.standard_normal((3, 2))
    arrays = [x, r.standard_normal((2, 1, 3, 3)), r.standard_normal((3, 8))]
    c = r.standard_normal((2, 3))
    res = {}
    for lib in (gf, torch):
        F = _F(lib)
        xt, w, v = (lib.tensor(a.copy(), requires_grad=True) for a in arrays)
        if pool == "embedding":
            h = F.embedding(lib.tensor(idx), xt).reshape(1, 8)
        else:
            h = F.conv2d(xt, w, padding=1).tanh()
            h = F.max_pool2d(h, 2) if pool == "tiles" else F.max_pool2d(h, 3, 2, 1)
            h = h.reshape(2, 8)
        # linear after the pool: the gradient there does not depend on the pool's output
        loss = (F.linear(h, v) * lib.tensor(c[: h.shape[0]])).sum()
        (gx,) = lib.autograd.grad(loss, [xt], create_graph=True)
        (loss + (gx * gx).sum()).backward()
        res[lib] = [t.grad for t in (xt, w, v)]
    for k, (a, e) in enumerate(zip(res[gf], res[torch], strict=True)):
        if e is None:
            assert a is None or np.allclose(a.numpy(), 0)
        else:
            assert_close(a, e, rtol=1e-8, atol=1e-10, what=f"{pool} input {k}")


# --------------------------------------------------------------------------- third order


THIRD = {
    "max_pool": lambda F, x: F.max_pool2d(x, 2, 1) ** 3,
    "avg_pool": lambda F, x: F.avg_pool2d(x, 2, 1, 1) ** 3,
    "adaptive_max": lambda F, x: F.adaptive_max_pool2d(x, 2) ** 3,
    "pad_reflect": lambda F, x: F.pad(x, (1, 1, 1, 0), mode="reflect") ** 3,
    "bilinear": lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear") ** 3,
    "unfold": lambda F, x: F.unfold(x, 2) ** 3,
    "group_norm": lambda F, x: F.group_norm(x, 2) ** 3,
}


@pytest.mark.parametrize("name", sorted(THIRD))
def test_third_order(name):
    x = rn(1, 4, 3, 3)
    res = {}
    for lib in (gf, torch):
        xt = lib.tensor(x.copy(), requires_grad=True)
        r = np.random.default_rng(0)
        out = THIRD[name](_F(lib), xt)
        z = (out * lib.tensor(r.standard_normal(tuple(out.shape)))).sum()
        for _ in range(2):
            (gx,) = lib.autograd.grad(z, [xt], create_graph=True)
            z = (gx * lib.tensor(r.standard_normal(x.shape))).sum()
        res[lib] = lib.autograd.grad(z, [xt])[0]
    assert_close(res[gf], res[torch], rtol=1e-8, atol=1e-10, what=f"{name} third order")


# --------------------------------------------------------------------------- nn layers

LAYERS = [
    ("Conv2d", (4, 4, 3), dict(padding=1, padding_mode="circular", groups=2), (2, 4, 5, 5)),
    ("Conv2d", (2, 4, 2), dict(padding="same", padding_mode="reflect"), (2, 2, 5, 5)),
    ("Conv1d", (2, 4, 3), dict(padding=2, padding_mode="replicate", dilation=2), (2, 2, 7)),
    ("BatchNorm2d", (3,), {}, (4, 3, 2, 2)),
    ("LayerNorm", ((2, 3),), {}, (2, 2, 3)),
    ("GroupNorm", (2, 4), {}, (2, 4, 3)),
    ("InstanceNorm2d", (3,), dict(affine=True, track_running_stats=True), (2, 3, 2, 3)),
    ("MaxPool2d", (2,), {}, (2, 2, 4, 4)),
    ("AvgPool1d", (3, 2, 1), {}, (2, 2, 7)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 2, 5, 5)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 2, 7)),
    ("Upsample", (), dict(scale_factor=2, mode="nearest"), (1, 2, 2, 3)),
    ("PixelShuffle", (2,), {}, (1, 4, 2, 2)),
    ("ZeroPad2d", ((1, 2, 0, 1),), {}, (1, 2, 2, 3)),
    ("ReflectionPad1d", (2,), {}, (1, 2, 4)),
    ("ReplicationPad2d", (1,), {}, (1, 2, 3, 3)),
    ("CircularPad2d", (1,), {}, (1, 2, 3, 3)),
    ("Unfold", (2,), {}, (1, 2, 3, 3)),
    ("Fold", ((3, 3), 2), {}, (1, 8, 4)),
    ("Embedding", (6, 3), dict(padding_idx=1), None),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name, args, kw, shape", LAYERS, ids=[f"{c[0]}-{c[2]}" for c in LAYERS])
def test_layers_second_order(name, args, kw, shape):
    """Second derivatives with respect to the input and every parameter of a layer."""
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(*args, **kw).double()
    g = getattr(gf.nn, name)(*args, **kw).to(gf.float64)
    names = [n for n, _ in t.named_parameters()]
    for n in names:
        getattr(g, n)._data[...] = getattr(t, n).detach().numpy()
    x = np.array([[0, 1, 3], [5, 3, 2]]) if shape is None else rn(*shape)
    res = {}
    for lib, mod in ((gf, g), (torch, t)):
        xt = lib.tensor(x.copy(), requires_grad=shape is not None)
        leaves = ([xt] if shape is not None else []) + [getattr(mod, n) for n in names]
        out = mod(xt)
        r = np.random.default_rng(1)
        loss = ((out * out).sin() * lib.tensor(r.standard_normal(tuple(out.shape)))).sum()
        gs = lib.autograd.grad(loss, leaves, create_graph=True)
        z = sum((gi * lib.tensor(r.standard_normal(tuple(gi.shape)))).sum() for gi in gs)
        res[lib] = (gs, lib.autograd.grad(z, leaves, allow_unused=True))
    for level in (0, 1):
        for k, (a, e) in enumerate(zip(res[gf][level], res[torch][level], strict=True)):
            what = f"{name} leaf {k} order {level + 1}"
            if e is None:
                assert a is None or np.allclose(a.numpy(), 0), what
            else:
                assert_close(a.detach(), e.detach(), rtol=1e-8, atol=1e-10, what=what)


# --------------------------------------------------------------------------- edge cases and shapes

EDGES = {
    "conv1d_unbatched": (lambda F, x, w: F.conv1d(x, w, padding=1) ** 2, [(2, 5), (3, 2, 2)], []),
    "conv2d_unbatched_groups_same": (
        lambda F, x, w: F.conv2d(x, w, groups=2, padding="same") ** 2,
        [(2, 4, 4), (2, 1, 2, 2)],
        [],
    ),
    "conv_input_only": (lambda F, x, w: F.conv2d(x, w) ** 2, [(1, 2, 4, 4)], [(3, 2, 2, 2)]),
    "conv_weight_only": (
        lambda F, w, x: F.conv2d(x, w, stride=2) ** 2,
        [(3, 2, 2, 2)],
        [(1, 2, 5, 5)],
    ),
    "group_norm_weight_only": (lambda F, w, x: F.group_norm(x, 2, w) ** 2, [(4,)], [(2, 4, 3)]),
    "empty_batch_max_pool": (lambda F, x: F.max_pool2d(x, 2) ** 2, [(0, 2, 4, 4)], []),
    "empty_batch_avg_pool": (lambda F, x: F.avg_pool2d(x, 2) ** 2, [(0, 2, 4, 4)], []),
    "empty_batch_conv": (lambda F, x, w: F.conv2d(x, w) ** 2, [(0, 2, 4, 4), (3, 2, 2, 2)], []),
}


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name", sorted(EDGES))
def test_edge_cases_second_order(name):
    fn, shapes, consts = EDGES[name]
    double_vjp(fn, [rn(*s) for s in shapes], consts=[rn(*s) for s in consts])


@settings(max_examples=6, deadline=None)
@given(
    n=st.integers(1, 3),
    groups=st.sampled_from([1, 2, 4]),
    spatial=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    affine=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_group_norm_second_order_hypothesis(n, groups, spatial, affine, seed):
    r = np.random.default_rng(seed)
    if 4 // groups * int(np.prod(spatial)) < 2:
        spatial = [*spatial, 2]  # torch wants more than one value per group
    x = r.standard_normal((n, 4, *spatial))
    if affine:
        double_vjp(
            lambda F, x, w, b: F.group_norm(x, groups, w, b).sin(),
            [x, r.standard_normal(4), r.standard_normal(4)],
            seed=seed,
        )
    else:
        double_vjp(lambda F, x: F.group_norm(x, groups) ** 3, [x], seed=seed)


@settings(max_examples=6, deadline=None)
@given(
    mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]),
    pads=st.lists(st.integers(0, 2), min_size=4, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_pad_second_order_hypothesis(mode, pads, seed):
    x = np.random.default_rng(seed).standard_normal((1, 2, 3, 4))
    double_vjp(lambda F, x: F.pad(x * x, tuple(pads), mode=mode).sin(), [x], seed=seed)


def test_conv_graph_walked_twice_with_retain_graph():
    # a Hessian-vector product repeated (power iteration) walks the recorded conv twice:
    # its backward must keep its saved columns when retain_graph=True
    import torch

    rng = np.random.default_rng(0)
    xv = rng.standard_normal((2, 2, 6, 6))
    wv = rng.standard_normal((3, 2, 3, 3))
    res = []
    for lib in (gf, torch):
        x = lib.tensor(xv)
        w = lib.tensor(wv, requires_grad=True)
        conv = gf.nn.functional.conv2d if lib is gf else torch.nn.functional.conv2d
        (g,) = lib.autograd.grad((conv(x, w) ** 2).mean(), [w], create_graph=True)
        first = lib.autograd.grad((g * g).sum(), [w], retain_graph=True)[0]
        second = lib.autograd.grad((g * g).sum(), [w], retain_graph=True)[0]
        res.append((np.asarray(first.detach().numpy()), np.asarray(second.detach().numpy())))
    np.testing.assert_array_equal(res[0][0], res[0][1])
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-10)
