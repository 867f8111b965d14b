"""``gradfit viz``: each subcommand writes a file with the right content; bad usage exits 2."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from gradfit.cli.main import main


def _png_ok(path, min_size=200):
    im = Image.open(path)
    assert im.format == "PNG" and im.size[0] >= min_size
    assert np.asarray(im.convert("L")).std() > 5  # something is drawn


def test_descent_png_and_gif(tmp_path, capsys):
    out = tmp_path / "d.png"
    rc = main(["viz", "descent", "--function", "bowl", "--lr", "0.05", "--steps", "30",
               "--optimizers", "sgd,momentum", "--out", str(out), "--gif"])  # fmt: skip
    assert rc == 0
    _png_ok(out)
    assert Image.open(tmp_path / "d.gif").n_frames > 5
    text = capsys.readouterr().out
    assert "SGD" in text and "Momentum" in text and "Adam" not in text


def test_descent_diverging_lr_is_reported(tmp_path, capsys):
    rc = main(["viz", "descent", "--function", "bowl", "--lr", "0.7", "--optimizers", "sgd",
               "--out", str(tmp_path / "d.svg")])  # fmt: skip
    assert rc == 0 and "diverged" in capsys.readouterr().out
    assert (tmp_path / "d.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("argv", "msg"),
    [
        (["viz", "descent", "--function", "nope", "--out", "X.png"], "unknown test function"),
        (["viz", "descent", "--optimizers", "lbfgs", "--out", "X.png"], "--optimizers"),
        (["viz", "descent", "--out", "X.txt"], "--out"),
        (["viz", "curves", "NO_SUCH_DIR", "--out", "X.png"], "no such run directory"),
        (["viz", "explain", "x.__class__", "--values", "x=1"], "not a tensor method"),
        (["viz", "explain", "open('f')", "--values", "x=1"], "has no value"),
        (["viz", "explain", "x * y", "--values", "x=1"], "y has no value"),
    ],
)
def test_usage_errors(tmp_path, monkeypatch, capsys, argv, msg):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err


def test_graph_dot_and_svg(tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["viz", "graph", "--model", "mlp", "--hidden", "8", "--out", str(out)]) == 0
    dot = out.read_text()
    for s in ["fc1.weight\\n(8, 64)", "out.weight\\n(10, 8)", "CrossEntropy", "ReLU\\n(4, 8)"]:
        assert s in dot
    if shutil.which("dot"):
        assert main(["viz", "graph", "--model", "logistic", "--out", str(tmp_path / "g.svg")]) == 0
        assert "<svg" in (tmp_path / "g.svg").read_text()


def test_curves_from_a_run_directory(tmp_path):
    rows = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.1 / e, "lr": 0.1} for e in (1, 2, 3)]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text(json.dumps({"history": rows}))
    out = tmp_path / "c.png"
    assert main(["viz", "curves", str(tmp_path / "run"), "--out", str(out)]) == 0
    _png_ok(out)
    csv_run = tmp_path / "csvrun"
    csv_run.mkdir()
    (csv_run / "history.csv").write_text("epoch,train_loss,lr\n1,0.9,0.1\n2,0.5,0.1\n")
    assert main(["viz", "curves", str(csv_run), "--out", str(tmp_path / "c2.png")]) == 0


def test_landscape_of_a_checkpoint(tmp_path, capsys):
    import gradfit as gf
    from gradfit.cli import common
    from gradfit.cli.config import resolve
    from gradfit.models import build_model
    from gradfit.train.checkpoint import save_checkpoint

    cfg = resolve({"model": "logistic"})
    data = common.load_data(cfg)
    mcfg = common.model_config_for(cfg, data)
    gf.manual_seed(0)
    model = build_model(mcfg)
    meta = {"config": {"run": cfg, "model_config": mcfg}}  # as gradfit train records it
    save_checkpoint(tmp_path / "checkpoint.safetensors", model, meta=meta)
    out = tmp_path / "l.png"
    rc = main(["viz", "landscape", str(tmp_path), "--out", str(out), "--steps", "5",
               "--samples", "64"])  # fmt: skip
    assert rc == 0
    _png_ok(out)
    loss_fn, _ = common.loss_and_metrics(data.task)
    with gf.no_grad():
        expected = loss_fn(model(gf.tensor(data.test.x[:64])), gf.tensor(data.test.y[:64])).item()
    assert f"loss at the trained weights {expected:.4g}" in capsys.readouterr().out
    assert main(["viz", "landscape", str(tmp_path / "none"), "--out", str(out)]) == 2


def test_explain_prints_leaf_gradients(capsys):
    assert main(["viz", "explain", "(x * w + b).tanh()", "--values", "x=0.5,w=2,b=0"]) == 0
    text = capsys.readouterr().out
    g = 1 - np.tanh(1.0) ** 2
    line = next(ln for ln in text.splitlines() if "d(out)/d(w)" in ln)
    assert float(line.split("=")[1]) == pytest.approx(0.5 * g, rel=1e-5)
