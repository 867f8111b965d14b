"""``gradfit viz curvature RUN`` and ``gradfit train --track-curvature K``."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

import gradfit as gf
from gradfit.cli.main import main

FAST = {"hidden": "8", "epochs": 3, "no_baselines": True, "schedule": "none", "lr": 0.05}


def _printed(text):
    return {int(e): float(v) for e, v in re.findall(r"epoch (\d+): sharpness (\S+)", text)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    tracked = gf.train.run({**FAST, "out": str(root / "tracked"), "track_curvature": 2})
    plain = gf.train.run({**FAST, "out": str(root / "plain")})
    return tracked, plain


def test_a_tracked_run_is_drawn_from_its_history(runs, tmp_path, capsys):
    tracked, _ = runs
    rows = json.loads((tracked.out / "metrics.json").read_text())["history"]
    recorded = {r["epoch"]: r["sharpness"] for r in rows if "sharpness" in r}
    assert sorted(recorded) == [1, 2, 3]
    assert "sharpness" in (tracked.out / "history.csv").read_text().splitlines()[0]
    out = tmp_path / "s.png"
    assert main(["viz", "curvature", str(tracked.out), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert _printed(text) == pytest.approx(recorded, rel=1e-3)
    assert "limit 76 " in text  # SGD lr 0.05 with momentum 0.9: 2 (1 + 0.9) / 0.05
    im = Image.open(out)
    assert im.format == "PNG" and im.size[0] > 200


def test_an_untracked_run_is_measured_at_its_checkpoint(runs, tmp_path, capsys):
    tracked, plain = runs
    # tracking measures without changing the run: both end at the same weights
    for a, b in zip(tracked.model.parameters(), plain.model.parameters()):
        assert (a.numpy() == b.numpy()).all()
    out = tmp_path / "s.svg"
    ckpt = plain.out / "checkpoint.safetensors"
    assert main(["viz", "curvature", str(ckpt), "--out", str(out), "--iters", "20"]) == 0
    text = capsys.readouterr().out
    assert "measured at epoch 3" in text
    last = tracked.history.rows[-1]["sharpness"]
    assert _printed(text)[3] == pytest.approx(last, rel=1e-3)
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
