"""gf.onnx.export: every exported model passes the ONNX checker and ONNX Runtime agrees with gradfit.

Each model is exported once with a dynamic batch axis from a batch-1 example, then run in
ONNX Runtime on batch 1 and on batch 17; both must equal gradfit's own outputs within 1e-5.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import gradfit as gf
from gradfit import nn

ort = pytest.importorskip("onnxruntime")
# "onnx.checker", not "onnx": tests/ is on sys.path, where a bare "onnx" finds this folder
pytest.importorskip("onnx.checker")
import onnx  # noqa: E402

DYN = {"input": {0: "batch"}, "output": {0: "batch"}}


def _session(proto_bytes: bytes):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(proto_bytes, opts, providers=["CPUExecutionProvider"])


def _make_input(shape, kind, rng):
    if kind == "float":
        return gf.tensor(rng.standard_normal(shape).astype(np.float32))
    return gf.tensor(rng.integers(0, kind, size=shape).astype(np.int64))


def _check(model, shape, kind="float", batches=(1, 17)):
    """Export with a dynamic batch from a batch-1 example; compare ORT with gradfit."""
    rng = np.random.default_rng(0)
    model.eval()
    buf = io.BytesIO()
    proto = gf.onnx.export(model, _make_input((1, *shape), kind, rng), buf, dynamic_axes=DYN)
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()), full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    sess = _session(buf.getvalue())
    for n in batches:
        x = _make_input((n, *shape), kind, rng)
        with gf.no_grad():
            ref = model(x).numpy()
        (got,) = sess.run(None, {"input": x.numpy()})
        assert got.dtype == ref.dtype and got.shape == ref.shape, (got.shape, ref.shape)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ every ready-made model
MODELS = {
    "mlp": (lambda: gf.models.mlp([12, 16, 3], dropout=0.2, batch_norm=True), (12,), "float"),
    "mlp_gelu": (lambda: gf.models.mlp([6, 8, 8, 2], activation="gelu"), (2, 3), "float"),
    "cnn": (lambda: gf.models.cnn(image_size=8, channels=[4, 6], hidden=[8]), (64,), "float"),
    "cnn_bn": (
        lambda: gf.models.cnn(image_size=8, channels=[4, 6], hidden=[8], batch_norm=True),
        (1, 8, 8),
        "float",
    ),
    "cnn_lenet": (
        lambda: gf.models.cnn(image_size=28, channels=[2, 3], hidden=[8, 8], dropout=0.1),
        (1, 28, 28),
        "float",
    ),
    "cnn1d": (lambda: gf.models.cnn1d(in_length=20, channels=4, num_classes=3), (20,), "float"),
    "logistic": (lambda: gf.models.logistic(10, 4), (10,), "float"),
    "linear": (lambda: gf.models.linear(5, 2), (5,), "float"),
    "gru": (lambda: gf.models.gru(in_length=6, hidden=5, num_classes=3), (6,), "float"),
    "lstm": (lambda: gf.models.lstm(in_length=5, hidden=4, layers=2), (5,), "float"),
    "lstm_features": (
        lambda: gf.models.lstm(in_length=5, hidden=4, in_features=3),
        (3, 5),  # (N, C, L) as a 1-D CNN reads it: transposed by the model
        "float",
    ),
    "matrix_factorization": (
        lambda: gf.models.matrix_factorization(6, 9, dim=3, global_mean=2.5),
        (2,),
        6,  # ids in [0, 6): valid users and items
    ),
}
for _arch in ("bigram", "mlp", "rnn", "gru", "transformer"):
    MODELS[f"char_lm_{_arch}"] = (
        lambda a=_arch: gf.models.char_lm(
            vocab_size=11, block_size=5, arch=a, embed=8, hidden=12, layers=2, heads=2
        ),
        (5,),
        11,
    )


def test_every_registered_model_is_covered():
    missing = [
        n
        for n in gf.models.list_models()
        if not any(k == n or k.startswith(n + "_") for k in MODELS)
    ]
    assert not missing


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ready_made_models(name):
    gf.manual_seed(0)
    build, shape, kind = MODELS[name]
    _check(build(), shape, kind)


# ------------------------------------------------------------------ a corpus of compositions
class Residual(nn.Module):
    """x + body(x): a user module with its own forward, exported by a registered converter."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


@gf.onnx.register_converter(Residual)
def _residual(g, m, names, values):
    y, _ = gf.onnx.convert(g, m.body, names, values)
    return g.op("Add", [names[0], y])


def _trained_bn(bn: nn.Module, shape) -> nn.Module:
    """Running statistics that differ from the defaults, so eval mode is really tested."""
    bn.train()
    with gf.no_grad():
        for _ in range(3):
            bn(gf.randn(*shape) * 2 + 1)
    with gf.no_grad():
        bn.weight.copy_(gf.randn(*bn.weight.shape))
        bn.bias.copy_(gf.randn(*bn.bias.shape))
    return bn


S = nn.Sequential
CORPUS = {
    "linear_relu": (lambda: S(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2)), (5,)),
    "linear_nobias_3d": (lambda: S(nn.Linear(4, 3, bias=False), nn.Tanh()), (2, 4)),
    "activations": (
        lambda: S(
            nn.Linear(4, 6),
            nn.LeakyReLU(0.1),
            nn.ELU(0.7),
            nn.GELU(),
            nn.SiLU(),
            nn.Sigmoid(),
            nn.Linear(6, 6),
            nn.Softplus(beta=2.0, threshold=1.0),
            nn.Tanh(),
        ),
        (4,),
    ),
    "gelu_tanh_softmax": (lambda: S(nn.Linear(3, 5), nn.GELU("tanh"), nn.Softmax(dim=1)), (3,)),
    "log_softmax_last": (lambda: S(nn.Linear(3, 4), nn.LogSoftmax(dim=-1)), (2, 3)),
    "conv1d_stride_pad": (
        lambda: S(nn.Conv1d(2, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten()),
        (2, 9),
    ),
    "conv1d_same_dilation": (
        lambda: S(nn.Conv1d(2, 4, 4, padding="same", dilation=2), nn.MaxPool1d(2)),
        (2, 10),
    ),
    "conv1d_groups_avgpool": (
        lambda: S(nn.Conv1d(4, 6, 3, groups=2, padding="valid"), nn.AvgPool1d(3, 2, padding=1)),
        (4, 11),
    ),
    "conv2d_padding_dilation": (
        lambda: S(nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2))),
        (3, 7, 6),
    ),
    "conv2d_same": (lambda: S(nn.Conv2d(2, 3, 4, padding="same"), nn.SiLU()), (2, 5, 6)),
    "conv2d_depthwise": (lambda: S(nn.Conv2d(4, 4, 3, groups=4, bias=False)), (4, 6, 6)),
    "maxpool2d_options": (
        lambda: S(nn.MaxPool2d(3, stride=2, padding=1, dilation=1, ceil_mode=True)),
        (2, 7, 7),
    ),
    "maxpool2d_dilation": (lambda: S(nn.MaxPool2d(2, stride=1, dilation=2)), (1, 6, 5)),
    "avgpool2d_pad": (
        lambda: S(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)),
        (2, 6, 6),
    ),
    "avgpool2d_include_pad": (lambda: S(nn.AvgPool2d(2, padding=1)), (2, 5, 5)),
    "adaptive_global": (
        lambda: S(nn.Conv2d(1, 3, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2)),
        (1, 6, 6),
    ),
    "adaptive_divisible": (lambda: S(nn.AdaptiveAvgPool2d((2, None))), (3, 6, 4)),
    "batchnorm2d_eval": (
        lambda: S(nn.Conv2d(2, 3, 3), _trained_bn(nn.BatchNorm2d(3), (4, 3, 4, 4)), nn.ReLU()),
        (2, 6, 6),
    ),
    "batchnorm1d_eval": (
        lambda: S(nn.Linear(4, 5), _trained_bn(nn.BatchNorm1d(5), (8, 5)), nn.Dropout(0.5)),
        (4,),
    ),
    "batchnorm1d_3d_no_affine": (
        lambda: S(_trained_bn_na(nn.BatchNorm1d(3, affine=False), (4, 3, 5))),
        (3, 5),
    ),
    "layernorm": (lambda: S(nn.LayerNorm(6), nn.Linear(6, 2)), (3, 6)),
    "layernorm_2d_no_affine": (lambda: S(nn.LayerNorm((2, 3), elementwise_affine=False)), (2, 3)),
    "flatten_unflatten": (
        lambda: S(nn.Flatten(), nn.Linear(12, 12), nn.Unflatten(1, (3, 4)), nn.Flatten(1, 2)),
        (3, 4),
    ),
    "unflatten_minus_one": (lambda: S(nn.Unflatten(1, (2, -1)), nn.Softmax(dim=2)), (6,)),
    "identity_dropout": (lambda: S(nn.Identity(), nn.Dropout(0.3), nn.Linear(3, 3)), (3,)),
    "residual_mlp": (
        lambda: S(nn.Linear(4, 6), Residual(S(nn.Linear(6, 6), nn.ReLU())), nn.Linear(6, 2)),
        (4,),
    ),
    "residual_conv": (
        lambda: S(
            nn.Conv2d(1, 4, 3, padding=1),
            Residual(S(nn.Conv2d(4, 4, 3, padding=1))),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16, 2),
        ),
        (1, 4, 4),
    ),
    "transformer_encoder": (
        lambda: S(
            nn.Linear(3, 8),
            nn.TransformerEncoder(
                nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True),
                2,
                norm=nn.LayerNorm(8),
            ),
        ),
        (4, 3),
    ),
    "transformer_seq_first_relu": (
        # (T, N, E) with T dynamic: attention serves any sequence length
        lambda: S(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)),
        (3, 8),
    ),
    "embedding_flatten_linear": (
        lambda: S(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 3), nn.Softmax(dim=1)),
        (3,),
        10,
    ),
}


def _trained_bn_na(bn, shape):
    bn.train()
    with gf.no_grad():
        for _ in range(3):
            bn(gf.randn(*shape) * 3 - 1)
    return bn


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus(name):
    gf.manual_seed(1)
    build, shape, *kind = CORPUS[name]
    _check(build(), shape, *kind)


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_layers_in_sequential(mode, bidirectional):
    """The recurrent layers return (output, h): export them as a model of their own."""

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            kw = {"nonlinearity": "relu"} if mode == "RNN" else {}
            self.rnn = getattr(nn, mode)(
                3, 4, num_layers=2, batch_first=True, bidirectional=bidirectional, **kw
            )

        def forward(self, x):
            return self.rnn(x)[0]

    @gf.onnx.register_converter(Seq)
    def _seq(g, m, names, values):
        out, _ = gf.onnx.convert(g, m.rnn, names, values)
        return out[0]

    gf.manual_seed(2)
    _check(Seq(), (5, 3))


MULTI = {
    # name: (build, input names, shapes with None for the batch, batch axis)
    "mha_batch_first": (
        lambda: nn.MultiheadAttention(8, 2, batch_first=True),
        ["q", "k", "v"], [(None, 3, 8), (None, 4, 8), (None, 4, 8)], 0,
    ),
    "mha_kdim_vdim_seq_first": (
        lambda: nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False),
        ["q", "k", "v"], [(3, None, 8), (4, None, 3), (4, None, 5)], 1,
    ),
    "decoder_layer_norm_first": (
        lambda: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True),
        ["tgt", "memory"], [(None, 3, 8), (None, 4, 8)], 0,
    ),
    "decoder_seq_first": (
        lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2),
        ["tgt", "memory"], [(3, None, 8), (4, None, 8)], 1,
    ),
    "transformer": (
        lambda: nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, batch_first=True, activation="gelu"),
        ["src", "tgt"], [(None, 4, 8), (None, 3, 8)], 0,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MULTI))
def test_attention_and_transformers_with_several_inputs(name):
    gf.manual_seed(4)
    build, names, shapes, axis = MULTI[name]
    model = build().eval()

    def inputs(n):
        return [gf.randn(*(n if d is None else d for d in shape)) for shape in shapes]

    buf = io.BytesIO()
    gf.onnx.export(model, tuple(inputs(1)), buf, input_names=names,
                   dynamic_axes={k: {axis: "batch"} for k in names})  # fmt: skip
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()), full_check=True)
    sess = _session(buf.getvalue())
    for n in (1, 17):
        xs = inputs(n)
        with gf.no_grad():
            ref = model(*xs)
        ref = ref if isinstance(ref, tuple) else (ref,)
        got = sess.run(None, {k: x.numpy() for k, x in zip(names, xs, strict=True)})
        assert len(got) == len(ref)
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_allclose(a, b.numpy(), rtol=1e-5, atol=1e-5)


def test_time_major_rnn_outputs_and_state():
    gf.manual_seed(3)
    gru = nn.GRU(2, 3, bias=False)
    x = gf.randn(4, 1, 2)  # (T, N, I)
    buf = io.BytesIO()
    gf.onnx.export(gru, x, buf, output_names=["y", "h"], dynamic_axes={"input": {1: "batch"}})
    x = gf.randn(4, 17, 2)
    y, h = gru(x)
    got_y, got_h = _session(buf.getvalue()).run(None, {"input": x.numpy()})
    np.testing.assert_allclose(got_y, y.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_h, h.numpy(), rtol=1e-5, atol=1e-5)


def test_file_path_names_and_opset(tmp_path):
    net = S(nn.Linear(3, 2))
    path = tmp_path / "sub" / "m.onnx"
    gf.onnx.export(net, gf.randn(2, 3), str(path), input_names=["x"], output_names=["y"],
                   opset_version=18, do_constant_folding=True, verbose=False)  # fmt: skip
    model = onnx.load(str(path))
    assert [i.name for i in model.graph.input] == ["x"]
    assert [o.name for o in model.graph.output] == ["y"]
    assert model.opset_import[0].version == 18
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [2, 3]


def test_float64_model_stays_float64():
    net = S(nn.Linear(3, 2, dtype="float64"), nn.Tanh())
    x = gf.randn(4, 3, dtype="float64")
    buf = io.BytesIO()
    gf.onnx.export(net, x, buf)
    (got,) = _session(buf.getvalue()).run(None, {"input": x.numpy()})
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, net(x).numpy(), rtol=1e-12)


def test_training_mode_is_restored():
    net = S(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Dropout(0.5))
    net.train()
    gf.onnx.export(net, gf.randn(3, 2), io.BytesIO())
    assert all(m.training for m in net.modules())


# ------------------------------------------------------------------ refusals
class NoConverter(nn.Module):
    def forward(self, x):
        return x * 2


@pytest.mark.parametrize(
    "model, x, match",
    [
        (S(nn.Linear(2, 2), NoConverter()), gf.randn(1, 2), "NoConverter"),
        (S(nn.AvgPool2d(2, divisor_override=3)), gf.randn(1, 1, 4, 4), "divisor_override"),
        (S(nn.AdaptiveAvgPool2d(3)), gf.randn(1, 1, 4, 4), "AdaptiveAvgPool2d"),
        (nn.LSTM(2, 3, proj_size=2), gf.randn(3, 1, 2), "proj_size"),
        (nn.MultiheadAttention(4, 2, add_bias_kv=True), (gf.randn(2, 1, 4),) * 3, "add_bias_kv"),
        (nn.TransformerDecoderLayer(4, 2, 8), gf.randn(2, 1, 4), "two inputs"),
        (S(nn.BatchNorm1d(2, track_running_stats=False)), gf.randn(3, 2), "BatchNorm1d"),
        (S(nn.Conv1d(2, 2, 3)), gf.randn(2, 5), "batched"),
    ],
)
def test_unsupported_layers_are_named(model, x, match):
    with pytest.raises(NotImplementedError, match=match):
        gf.onnx.export(model, x, io.BytesIO())


def test_bad_arguments():
    net = S(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="opset_version"):
        gf.onnx.export(net, gf.randn(1, 2), io.BytesIO(), opset_version=11)
    with pytest.raises(ValueError, match="input_names"):
        gf.onnx.export(net, gf.randn(1, 2), io.BytesIO(), input_names=["a", "b"])
    with pytest.raises(TypeError, match="args"):
        gf.onnx.export(net, "x", io.BytesIO())
    with pytest.raises(TypeError, match="dynamic_axs"):  # a typo is not silently ignored
        gf.onnx.export(net, gf.randn(1, 2), io.BytesIO(), dynamic_axs={"input": [0]})
    with pytest.raises(NotImplementedError, match="dynamic_axes"):
        gf.onnx.export(net, gf.randn(1, 2), io.BytesIO(), dynamic_shapes={"x": {0: "b"}})
    with pytest.raises(NotImplementedError, match="eval"):
        gf.onnx.export(net, gf.randn(1, 2), io.BytesIO(), training="TrainingMode.TRAINING")
    with pytest.raises(ValueError, match="dynamic axis 3"):
        gf.onnx.export(net, gf.randn(1, 2), io.BytesIO(), dynamic_axes={"input": [3]})
