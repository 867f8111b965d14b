"""``gradfit viz curvature RUN`` and ``gradfit train --track-curvature K``."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from PIL import Image

import gradfit as gf
from gradfit.cli.main import main

FAST = {"hidden": "8", "epochs": 2, "no_baselines": True, "schedule": "none", "lr": 0.05}


def _printed(text):
    return {int(e): float(v) for e, v in re.findall(r"epoch (\d+): sharpness (\S+)", text)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    tracked = gf.train.run({**FAST, "out": str(root / "tracked"), "track_curvature": 1})
    plain = gf.train.run({**FAST, "out": str(root / "plain")})
    return tracked, plain


def test_a_tracked_run_is_drawn_from_its_history(runs, tmp_path, capsys):
    tracked, _ = runs
    rows = json.loads((tracked.out / "metrics.json").read_text())["history"]
    recorded = {r["epoch"]: r["sharpness"] for r in rows if "sharpness" in r}
    assert sorted(recorded) == [1, 2]
    assert "sharpness" in (tracked.out / "history.csv").read_text().splitlines()[0]
    out = tmp_path / "s.png"
    assert main(["viz", "curvature", str(tracked.out), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert _printed(text) == pytest.approx(recorded, rel=1e-3)
    assert "limit 76 " in text  # SGD lr 0.05 with momentum 0.9: 2 (1 + 0.9) / 0.05
    im = Image.open(out)
    assert im.format == "PNG" and im.size[0] > 200
    # the history alone (no checkpoint): metrics.json still says SGD with momentum 0.9
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(tracked.out / "metrics.json", alone)
    assert main(["viz", "curvature", str(alone), "--out", str(tmp_path / "a.png")]) == 0
    assert "limit 76 " in capsys.readouterr().out


def test_an_untracked_run_is_measured_at_its_checkpoint(runs, tmp_path, capsys):
    tracked, plain = runs
    # tracking measures without changing the run: both end at the same weights
    for a, b in zip(tracked.model.parameters(), plain.model.parameters()):
        assert (a.numpy() == b.numpy()).all()
    out = tmp_path / "s.svg"
    ckpt = plain.out / "checkpoint.safetensors"
    assert main(["viz", "curvature", str(ckpt), "--out", str(out), "--iters", "20"]) == 0
    text = capsys.readouterr().out
    assert "measured at epoch 2" in text
    last = tracked.history.rows[-1]["sharpness"]
    assert _printed(text)[2] == pytest.approx(last, rel=1e-3)
    assert out.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("argv", "msg"),
    [
        (["viz", "curvature", "NO_SUCH_RUN", "--out", "x.png"], "no such run directory"),
        (["viz", "curvature", ".", "--out", "x.txt"], "--out"),
        (["viz", "curvature", ".", "--out", "x.png", "--bogus"], "unrecognized arguments"),
        (["viz", "curvature", ".", "--out", "x.png", "--samples", "0"], "--samples"),
        (["viz", "curvature", ".", "--out", "x.png"], "no checkpoint.safetensors"),
        (
            ["train", "--track-curvature", "-1", "--epochs", "1", "--no-baselines"],
            "--track-curvature",
        ),
    ],
)
def test_usage_errors(tmp_path, monkeypatch, capsys, argv, msg):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_landscape_newton_arrows_of_a_checkpoint(tmp_path, capsys):
    import numpy as np
    import torch

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
    out = tmp_path / "n.png"
    argv = ["viz", "landscape", str(tmp_path), "--newton", "--lr", "0.5", "--steps", "5",
            "--samples", "64", "--damping", "0.1", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert Image.open(out).format == "PNG"
    # the gradient step's length, checked with torch on the same weights and samples
    lin = torch.nn.Linear(64, 10).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(model.state_dict()["linear.weight"].numpy()))
        lin.bias.copy_(torch.tensor(model.state_dict()["linear.bias"].numpy()))
    x, y = torch.tensor(data.test.x[:64], dtype=torch.float64), torch.tensor(data.test.y[:64])
    torch.nn.functional.cross_entropy(lin(x), y).backward()
    g = np.sqrt(sum(float((p.grad**2).sum()) for p in lin.parameters()))
    shown = float(re.search(r"\|lr g\| = (\S+)", text).group(1))
    assert shown == pytest.approx(0.5 * g, rel=1e-3)
    assert "conjugate gradients" in text  # 650 parameters: no exact Hessian
    assert "not solved" not in text  # damped, the system is well posed: CG solves it
    assert main(["viz", "landscape", str(tmp_path), "--lr", "0.1", "--out", str(out)]) == 2
    assert "add --newton" in capsys.readouterr().err


def test_a_model_without_second_derivatives_is_refused_before_training(
    tmp_path, capsys, monkeypatch
):
    from gradfit.train.sharpness import TrackSharpness

    def no_double_backward(self, model, loss_fn):
        raise NotImplementedError("double backward is not implemented for SomeLayer")

    monkeypatch.setattr(TrackSharpness, "check", no_double_backward)
    out = tmp_path / "run"
    argv = ["train", "--hidden", "8", "--epochs", "1", "--no-baselines", "--quiet",
            "--track-curvature", "1", "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--track-curvature" in err and "SomeLayer" in err and "Traceback" not in err
    assert not (out / "checkpoint.safetensors").exists()
