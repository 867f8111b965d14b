"""gradfit train --init-from a safetensors file that PyTorch saved (issue 19)."""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import torch
from safetensors.torch import save_file

from gradfit.cli.main import main


def test_init_from_torch_safetensors_fine_tunes_with_a_frozen_body(tmp_path, capsys):
    torch.manual_seed(0)
    # the layers of gf.models.mlp([64, 32, 10]), under its names
    net = torch.nn.Sequential(
        OrderedDict(fc1=torch.nn.Linear(64, 32), act=torch.nn.ReLU(), out=torch.nn.Linear(32, 10))
    )
    path = tmp_path / "torch.safetensors"
    save_file(net.state_dict(), str(path))
    code = main(["train", "--init-from", str(path), "--freeze", "fc1", "--hidden", "32",
                 "--no-batch-norm", "--dropout", "0", "--epochs", "1", "--no-baselines", "--quiet",
                 "--out", str(tmp_path / "ft")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    from gradfit.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(str(tmp_path / "ft" / "checkpoint.safetensors"))
    np.testing.assert_array_equal(ckpt.model_state["fc1.weight"], net.fc1.weight.detach().numpy())
    assert not np.array_equal(ckpt.model_state["out.weight"], net.out.weight.detach().numpy())
    assert json.loads((tmp_path / "ft" / "metrics.json").read_text())["test_accuracy"] > 0.1


def test_init_from_torch_weights_of_another_shape_is_one_line(tmp_path, capsys):
    net = torch.nn.Sequential(torch.nn.Linear(64, 7), torch.nn.ReLU(), torch.nn.Linear(7, 10))
    path = tmp_path / "torch.safetensors"
    save_file(net.state_dict(), str(path))
    code = main(["train", "--init-from", str(path), "--hidden", "32", "--no-batch-norm",
              "--epochs", "1", "--no-baselines", "--quiet", "--out", str(tmp_path / "x")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--init-from" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
