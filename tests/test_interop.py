"""gf.interop: weights move gradfit -> torch -> gradfit bit for bit, for every layer both have."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from gradfit.interop import (
    from_torch_state_dict,
    load_torch_safetensors,
    save_torch_safetensors,
    to_numpy,
    to_torch_state_dict,
)

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")


def _first(out):
    return out[0] if isinstance(out, tuple) else out


# name: (build(nn) -> module, input shape, integer vocabulary or None, call(module, x))
LAYERS = {
    "Linear": (lambda nn: nn.Linear(4, 3), (5, 4), None),
    "Conv1d": (lambda nn: nn.Conv1d(2, 4, 3, stride=2, padding=1, groups=2), (3, 2, 9), None),
    "Conv2d": (lambda nn: nn.Conv2d(2, 3, (3, 2), padding="same", dilation=2), (2, 2, 6, 5), None),
    "BatchNorm1d": (lambda nn: nn.BatchNorm1d(4), (6, 4), None),
    "BatchNorm2d": (lambda nn: nn.BatchNorm2d(3, affine=False), (2, 3, 4, 4), None),
    "LayerNorm": (lambda nn: nn.LayerNorm((2, 3)), (4, 2, 3), None),
    "Embedding": (lambda nn: nn.Embedding(7, 3, padding_idx=0), (4, 5), 7),
    "RNN": (lambda nn: nn.RNN(3, 4, num_layers=2, nonlinearity="relu"), (5, 2, 3), None),
    "GRU": (lambda nn: nn.GRU(3, 4, batch_first=True, bidirectional=True), (2, 5, 3), None),
    "LSTM": (lambda nn: nn.LSTM(3, 4, num_layers=2, proj_size=2), (5, 2, 3), None),
    "RNNCell": (lambda nn: nn.RNNCell(3, 4), (2, 3), None),
    "GRUCell": (lambda nn: nn.GRUCell(3, 4), (2, 3), None),
    "LSTMCell": (lambda nn: nn.LSTMCell(3, 4), (2, 3), None),
    "MultiheadAttention": (
        lambda nn: nn.MultiheadAttention(8, 2, batch_first=True),
        (2, 3, 8),
        None,
    ),
    "TransformerEncoderLayer": (
        lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        (2, 3, 8),
        None,
    ),
    "TransformerDecoderLayer": (
        lambda nn: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True),
        (3, 2, 8),
        None,
    ),
    "Transformer": (
        lambda nn: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True),
        (2, 3, 8),
        None,
    ),
    "Sequential_mlp": (
        lambda nn: nn.Sequential(
            nn.Flatten(),
            nn.Linear(6, 5),
            nn.BatchNorm1d(5),
            nn.GELU(),
            nn.Dropout(0.2),
            nn.Linear(5, 2),
        ),
        (4, 2, 3),
        None,
    ),
    "Sequential_cnn": (
        lambda nn: nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16, 3),
        ),
        (2, 1, 4, 4),
        None,
    ),
}


def _call(m, x):
    if isinstance(m, (gf.nn.MultiheadAttention, torch.nn.MultiheadAttention)):
        return m(x, x, x, need_weights=False)[0]
    if isinstance(m, (gf.nn.TransformerDecoderLayer, torch.nn.TransformerDecoderLayer)):
        return m(x, x * 0.5)  # (tgt, memory)
    if isinstance(m, (gf.nn.Transformer, torch.nn.Transformer)):
        return m(x, x[:, :2] * 0.5)  # (src, tgt)
    return _first(m(x))


def _warm(m, x):
    """Move the BatchNorm running statistics away from their initial values."""
    m.train()
    _call(m, x)
    m.eval()


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_round_trip_gradfit_torch_gradfit(name):
    build, shape, vocab = LAYERS[name]
    gf.manual_seed(0)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = (
        rng.integers(0, vocab, size=shape)
        if vocab
        else rng.standard_normal(shape).astype(np.float32)
    )
    src = build(gf.nn)
    _warm(src, gf.tensor(x))
    tm = build(torch.nn).eval()
    tm.load_state_dict(to_torch_state_dict(src))
    back = from_torch_state_dict(build(gf.nn), tm.state_dict()).eval()

    a, b = src.state_dict(), back.state_dict()
    assert list(a) == list(b) == list(tm.state_dict())
    for k in a:
        va, vb = to_numpy(a[k]), to_numpy(b[k])
        assert va.dtype == vb.dtype and va.shape == vb.shape, k
        assert va.tobytes() == vb.tobytes(), f"{k} is not bit-identical"

    with gf.no_grad(), torch.no_grad():
        ref = _call(src, gf.tensor(x)).numpy()
        got_t = _call(tm, torch.from_numpy(x)).numpy()
        got_b = _call(back, gf.tensor(x)).numpy()
    np.testing.assert_allclose(got_t, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got_b, ref)


def test_torch_trained_model_moves_to_gradfit():
    """torch -> gradfit: a torch model's weights and running stats give torch's outputs."""
    torch.manual_seed(1)
    build = LAYERS["Sequential_cnn"][0]
    tm = build(torch.nn)
    tm.train()
    tm(torch.randn(8, 1, 4, 4) * 3)  # running statistics
    tm.eval()
    g = from_torch_state_dict(build(gf.nn), tm.state_dict()).eval()
    x = np.random.default_rng(1).standard_normal((3, 1, 4, 4)).astype(np.float32)
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(g(gf.tensor(x)).numpy(), ref, rtol=1e-5, atol=1e-6)
    assert g[1].num_batches_tracked.item() == 1


def test_safetensors_both_ways(tmp_path):
    from safetensors.torch import load_file, save_file

    build = LAYERS["Sequential_mlp"][0]
    gf.manual_seed(2)
    src = build(gf.nn)
    save_torch_safetensors(src, tmp_path / "gf.safetensors", metadata={"note": "x"})
    tm = build(torch.nn)
    tm.load_state_dict(load_file(tmp_path / "gf.safetensors"))  # torch reads gradfit's file
    for k, v in src.state_dict().items():
        assert tm.state_dict()[k].numpy().tobytes() == to_numpy(v).tobytes()

    torch.manual_seed(3)
    tm2 = build(torch.nn)
    save_file(tm2.state_dict(), str(tmp_path / "torch.safetensors"))  # gradfit reads torch's
    g = load_torch_safetensors(build(gf.nn), tmp_path / "torch.safetensors")
    for k, v in tm2.state_dict().items():
        assert to_numpy(g.state_dict()[k]).tobytes() == v.numpy().tobytes()


def test_mismatches_are_reported_and_nothing_changes():
    g = gf.nn.Linear(3, 2)
    before = g.weight.numpy().copy()
    sd = torch.nn.Linear(4, 2).state_dict()
    with pytest.raises(gf.nn.StateDictError, match="weight"):
        from_torch_state_dict(g, sd)
    np.testing.assert_array_equal(g.weight.numpy(), before)
    with pytest.raises(gf.nn.StateDictError, match="Missing"):
        from_torch_state_dict(g, {"weight": torch.zeros(2, 3)})
    out = from_torch_state_dict(g, {"weight": torch.zeros(2, 3)}, strict=False)
    assert float(out.weight.abs().sum().item()) == 0.0


def test_data_parallel_prefix_and_bfloat16_and_bad_file(tmp_path):
    g = gf.nn.Linear(2, 2)
    sd = {
        f"module.{k}": v.to(torch.bfloat16) for k, v in torch.nn.Linear(2, 2).state_dict().items()
    }
    from_torch_state_dict(g, sd)
    np.testing.assert_array_equal(g.bias.numpy(), sd["module.bias"].float().numpy())
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load_torch_safetensors(g, bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_torch_safetensors(g, tmp_path / "missing.safetensors")


def test_numpy_only_and_no_torch_at_import():
    import subprocess
    import sys

    code = (
        "import sys, gradfit as gf, gradfit.interop, gradfit.onnx\n"
        "sd = gf.interop.to_torch_state_dict(gf.nn.Linear(2, 1), as_numpy=True)\n"
        "assert 'torch' not in sys.modules and 'onnx' not in sys.modules, sorted(sys.modules)\n"
        "print(sorted(sd))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['bias', 'weight']"
