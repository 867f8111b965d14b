"""Recurrent layers against torch 2.13 with the same weights: outputs, states and gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit.nn.utils.rnn import (
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
)


def copy_weights(g, t):
    for name, p in t.named_parameters():
        getattr(g, name)._data[...] = p.detach().numpy()


def pair(cls, *args, dtype="float64", **kw):
    torch.manual_seed(0)
    t = getattr(torch.nn, cls)(*args, **kw)
    t = t.double() if dtype == "float64" else t
    g = getattr(gf.nn, cls)(*args, dtype=dtype, **kw)
    copy_weights(g, t)
    return g, t


def close(a, b, tol):
    a = a.numpy() if isinstance(a, gf.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def states(h, lstm):
    return list(h) if lstm else [h]


def loss_of(out, h, lstm, lib):
    """A loss touching every output and final state, with different weights per element."""
    o = out.data if hasattr(out, "batch_sizes") else out
    total = (o * o).sum()
    for k, s in enumerate(states(h, lstm)):
        total = total + (s.sin() if lib == "gf" else torch.sin(s)).sum() * (k + 1)
    return total


CONFIGS = list(
    itertools.product(
        ["RNN", "GRU", "LSTM"], [1, 2], [False, True], [False, True], [False, True]
    )  # cls, layers, bidirectional, batch_first, packed
)


@pytest.mark.parametrize("cls, layers, bidir, batch_first, packed", CONFIGS)
def test_layers_match_torch(cls, layers, bidir, batch_first, packed):
    lstm = cls == "LSTM"
    g, t = pair(cls, 3, 4, num_layers=layers, bidirectional=bidir, batch_first=batch_first)
    rng = np.random.default_rng(layers * 7 + bidir)
    T, B = 5, 3
    x = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3))
    D = 2 if bidir else 1
    h0 = rng.standard_normal((layers * D, B, 4))
    c0 = rng.standard_normal((layers * D, B, 4))
    gx, tx = gf.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gh0, th0 = gf.tensor(h0, requires_grad=True), torch.tensor(h0, requires_grad=True)
    gc0, tc0 = gf.tensor(c0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    ghx = (gh0, gc0) if lstm else gh0
    thx = (th0, tc0) if lstm else th0
    gin, tin = gx, tx
    if packed:
        lengths = [2, 5, 1]  # unsorted: exercises sorting and unsorting
        gin = pack_padded_sequence(gx, lengths, batch_first=batch_first, enforce_sorted=False)
        tin = torch.nn.utils.rnn.pack_padded_sequence(
            tx, lengths, batch_first=batch_first, enforce_sorted=False
        )
    gout, gh = g(gin, ghx)
    tout, th = t(tin, thx)
    if packed:
        close(gout.data, tout.data, 1e-10)
        np.testing.assert_array_equal(gout.batch_sizes.numpy(), tout.batch_sizes.numpy())
        gpad, glen = pad_packed_sequence(gout, batch_first=batch_first)
        tpad, tlen = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first=batch_first)
        close(gpad, tpad, 1e-10)
        assert glen.tolist() == tlen.tolist()
    else:
        close(gout, tout, 1e-10)
    for a, b in zip(states(gh, lstm), states(th, lstm)):
        close(a, b, 1e-10)
    loss_of(gout, gh, lstm, "gf").backward()
    loss_of(tout, th, lstm, "torch").backward()
    close(gx.grad, tx.grad, 1e-9)
    close(gh0.grad, th0.grad, 1e-9)
    if lstm:
        close(gc0.grad, tc0.grad, 1e-9)
    for name, p in t.named_parameters():
        close(getattr(g, name).grad, p.grad, 1e-9)


@pytest.mark.parametrize(
    "kw", [{"proj_size": 2}, {"proj_size": 2, "bidirectional": True, "num_layers": 2}]
)
def test_lstm_projection(kw):
    g, t = pair("LSTM", 3, 5, **kw)
    x = np.random.default_rng(1).standard_normal((4, 2, 3))
    gx, tx = gf.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (go, (gh, gc)), (to, (th, tc)) = g(gx), t(tx)
    close(go, to, 1e-10)
    close(gh, th, 1e-10)
    close(gc, tc, 1e-10)
    ((go * go).sum() + gc.sum()).backward()
    ((to * to).sum() + tc.sum()).backward()
    close(gx.grad, tx.grad, 1e-9)
    for name, p in t.named_parameters():
        close(getattr(g, name).grad, p.grad, 1e-9)


@pytest.mark.parametrize("cls", ["RNN", "GRU", "LSTM"])
def test_unbatched_length_one_and_float32(cls):
    g, t = pair(cls, 2, 3, dtype="float32")
    for shape in [(1, 2), (4, 2), (1, 1, 2)]:
        x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
        (go, gh), (to, th) = g(gf.tensor(x)), t(torch.tensor(x))
        assert go.dtype == np.float32
        close(go, to, 1e-5)
        for a, b in zip(states(gh, cls == "LSTM"), states(th, cls == "LSTM")):
            close(a, b, 1e-5)


def test_relu_rnn_and_cells_match_torch():
    g, t = pair("RNN", 3, 4, nonlinearity="relu", num_layers=2)
    x = np.random.default_rng(3).standard_normal((5, 2, 3))
    close(g(gf.tensor(x))[0], t(torch.tensor(x))[0], 1e-10)
    for cls in ["RNNCell", "GRUCell", "LSTMCell"]:
        gc, tc = pair(cls, 3, 4)
        xb = np.random.default_rng(4).standard_normal((2, 3))
        hb = np.random.default_rng(5).standard_normal((2, 4))
        ghx = gf.tensor(hb, requires_grad=True)
        thx = torch.tensor(hb, requires_grad=True)
        ga = (ghx, gf.tensor(hb)) if cls == "LSTMCell" else ghx
        ta = (thx, torch.tensor(hb)) if cls == "LSTMCell" else thx
        go, to = gc(gf.tensor(xb), ga), tc(torch.tensor(xb), ta)
        go, to = (go[0], to[0]) if cls == "LSTMCell" else (go, to)
        close(go, to, 1e-10)
        (go * go).sum().backward()
        (to * to).sum().backward()
        close(ghx.grad, thx.grad, 1e-10)
        close(gc.weight_hh.grad, tc.weight_hh.grad, 1e-10)
        close(gc(gf.tensor(xb[0]))[0] if cls == "LSTMCell" else gc(gf.tensor(xb[0])),
              tc(torch.tensor(xb[0]))[0] if cls == "LSTMCell" else tc(torch.tensor(xb[0])), 1e-10)  # fmt: skip


@pytest.mark.parametrize("cls", ["RNN", "GRU", "LSTM"])
def test_gradcheck_float64(cls):
    m = getattr(gf.nn, cls)(2, 3, dtype="float64", bidirectional=True)
    x = gf.randn(3, 2, 2, dtype="float64", requires_grad=True)

    def f(x):
        out, h = m(x)
        return out.sum() + (h[0] if cls == "LSTM" else h).sum()

    assert gf.gradcheck(f, [x])


def test_a_thousand_steps_backpropagate():
    m = gf.nn.GRU(2, 4)
    x = gf.randn(1000, 1, 2, requires_grad=True)
    out, _ = m(x)
    out[-1].sum().backward()
    assert x.grad.shape == (1000, 1, 2) and np.isfinite(x.grad.numpy()).all()


def test_state_dict_keys_shapes_repr_and_init_match_torch():
    for cls, kw in [("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
                    ("GRU", {"bias": False, "batch_first": True, "dropout": 0.5, "num_layers": 2}),
                    ("RNN", {"nonlinearity": "relu"})]:  # fmt: skip
        g, t = pair(cls, 3, 5, **kw)
        assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in t.state_dict().items()
        ]
        assert repr(g) == repr(t)
    bound = 1 / np.sqrt(50)
    w = gf.nn.LSTM(10, 50).weight_hh_l0.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_dropout_between_layers_only_in_training():
    m = gf.nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = gf.randn(5, 2, 3)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    m.train()
    _ = gf.manual_seed(0)
    c = m(x)[0]
    _ = gf.manual_seed(1)
    d = m(x)[0]
    assert not np.allclose(c.numpy(), d.numpy())


def test_bad_input_names_the_layer_and_shapes():
    m = gf.nn.GRU(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="GRU: Expected input to be 2D or 3D, got 4D"):
        m(gf.zeros(1, 2, 3, 4))
    with pytest.raises(RuntimeError, match="Expected 3, got 5"):
        m(gf.zeros(2, 2, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 4\), got \[1, 2, 4\]"):
        m(gf.zeros(2, 2, 3), gf.zeros(1, 2, 4))
    with pytest.raises(RuntimeError, match="hx should also be 3-D"):
        m(gf.zeros(2, 2, 3), gf.zeros(2, 4))
    with pytest.raises(ValueError, match="proj_size"):
        gf.nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        gf.nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout should be a number"):
        gf.nn.LSTM(3, 4, dropout=2)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        gf.nn.RNN(3, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        gf.nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.warns(UserWarning, match="dropout"):
        gf.nn.LSTM(3, 4, dropout=0.2)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(gf.zeros(3, 2, 1), [1, 3])
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(gf.zeros(3, 2, 1), [3, 0])


def test_pad_and_pack_utilities_match_torch():
    rng = np.random.default_rng(6)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    g = [gf.tensor(s, requires_grad=True) for s in seqs]
    t = [torch.tensor(s, requires_grad=True) for s in seqs]
    for bf, side in [(False, "right"), (True, "right"), (True, "left")]:
        close(pad_sequence(g, batch_first=bf, padding_value=-1.0, padding_side=side),
              torch.nn.utils.rnn.pad_sequence(t, batch_first=bf, padding_value=-1.0, padding_side=side), 0)  # fmt: skip
    gp = pack_sequence(g, enforce_sorted=False)
    tp = torch.nn.utils.rnn.pack_sequence(t, enforce_sorted=False)
    close(gp.data, tp.data, 0)
    assert gp.sorted_indices.tolist() == tp.sorted_indices.tolist()
    assert gp.unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    (gp.data * gp.data).sum().backward()
    (tp.data * tp.data).sum().backward()
    for a, b in zip(g, t):
        close(a.grad, b.grad, 1e-12)
    gx, glen = pad_packed_sequence(gp, batch_first=True, total_length=6)
    tx, tlen = torch.nn.utils.rnn.pad_packed_sequence(tp, batch_first=True, total_length=6)
    close(gx, tx, 0)
    assert glen.tolist() == tlen.tolist()
    assert [s.shape for s in unpack_sequence(gp)] == [(3, 2), (1, 2), (4, 2)]


def test_packed_equals_each_sequence_alone():
    m = gf.nn.LSTM(2, 3, bidirectional=True)
    rng = np.random.default_rng(7)
    seqs = [gf.tensor(rng.standard_normal((n, 2)).astype(np.float32)) for n in (4, 2, 5)]
    out, (h, _) = m(pack_sequence(seqs, enforce_sorted=False))
    padded, _ = pad_packed_sequence(out)
    for b, s in enumerate(seqs):
        alone, (h1, _) = m(s.unsqueeze(1))
        np.testing.assert_allclose(padded[: s.shape[0], b].numpy(), alone[:, 0].numpy(), atol=1e-6)
        np.testing.assert_allclose(h[:, b].numpy(), h1[:, 0].numpy(), atol=1e-6)
