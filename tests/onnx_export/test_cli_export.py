"""``gradfit export RUN --format onnx``: a checkpoint becomes an ONNX file with a dynamic batch."""

from __future__ import annotations

import numpy as np
import pytest

import gradfit as gf
from clirun import gradfit
from gradfit.cli.main import main
from gradfit.train.checkpoint import save_checkpoint

ort = pytest.importorskip("onnxruntime")
# "onnx.checker", not "onnx": tests/ is on sys.path, where a bare "onnx" finds this folder
pytest.importorskip("onnx.checker")
import onnx  # noqa: E402


def _run_dir(tmp_path, model):
    run = tmp_path / "run"
    save_checkpoint(
        run / "checkpoint.safetensors", model, meta={"config": {"model_config": model.config}}
    )
    return run


def _agrees(path, model, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = sess.run(["output"], {"input": x.numpy()})
    model.eval()
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_export_command_writes_a_servable_file(tmp_path):
    gf.manual_seed(0)
    model = gf.models.cnn(image_size=8, channels=[2, 3], hidden=[4], batch_norm=True)
    run = _run_dir(tmp_path, model)
    r = gradfit("export", str(run), "--format", "onnx")  # the real command, in a subprocess
    assert r.returncode == 0, r.stderr
    assert "model.onnx" in r.stdout and "batch, 1, 8, 8" in r.stdout
    path = run / "model.onnx"
    onnx.checker.check_model(onnx.load(str(path)))
    _agrees(path, model, gf.randn(17, 1, 8, 8))  # exported at batch 1: the batch is dynamic


@pytest.mark.parametrize(
    "build, x",
    [
        (lambda: gf.models.mlp([6, 5, 2]), lambda: gf.randn(3, 6)),
        (lambda: gf.models.cnn1d(in_length=12, channels=3), lambda: gf.randn(17, 12)),
        (lambda: gf.models.gru(in_length=4, hidden=3), lambda: gf.randn(5, 4)),
        (lambda: gf.models.lstm(in_length=4, hidden=3, in_features=2), lambda: gf.randn(5, 4, 2)),
        (lambda: gf.models.logistic(5, 3), lambda: gf.randn(17, 5)),
        (lambda: gf.models.linear(5), lambda: gf.randn(2, 5)),
        (
            lambda: gf.models.char_lm(vocab_size=6, block_size=3, embed=4, heads=2, layers=1),
            lambda: gf.tensor(np.random.default_rng(0).integers(0, 6, (4, 3))),
        ),
        (
            lambda: gf.models.matrix_factorization(3, 4, dim=2),
            lambda: gf.tensor(np.array([[0, 1], [2, 3]])),
        ),
    ],
)
def test_export_in_process_for_other_models(tmp_path, build, x, capsys):
    gf.manual_seed(1)
    model = build()
    run = _run_dir(tmp_path, model)
    out = tmp_path / "sub" / "m.onnx"
    assert main(["export", str(run / "checkpoint.safetensors"), "--out", str(out)]) == 0
    _agrees(out, model, x())


def _one_line_error(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err, err


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    run = _run_dir(tmp_path, gf.models.mlp([3, 2]))
    _one_line_error(capsys, ["export", str(run), "--format", "tflite"], "unknown format")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _one_line_error(capsys, ["export", str(run), "--out", str(blocker / "m.onnx")], "cannot write")
    _one_line_error(capsys, ["export", str(run), "--out", str(tmp_path)], "is a directory")
    _one_line_error(capsys, ["export", str(run), "--input-shape", "a,b"], "--input-shape")
    _one_line_error(capsys, ["export", str(tmp_path / "nothing")], "nothing")
    _one_line_error(capsys, ["export", str(run), "--opset", "9"], "opset_version")
    assert not (run / "model.onnx").exists()


def test_unsupported_layer_is_named(tmp_path, capsys):
    class Doubler(gf.nn.Module):
        def forward(self, x):
            return x * 2

    @gf.models.register_model("onnx_cli_test_doubler")
    def doubler(n: int = 2):
        return gf.nn.Sequential(gf.nn.Linear(n, n), Doubler())

    try:
        run = _run_dir(tmp_path, doubler())
        argv = ["export", str(run), "--input-shape", "2"]
        _one_line_error(capsys, argv, "Doubler")
    finally:
        gf.models._REGISTRY.pop("onnx_cli_test_doubler")
