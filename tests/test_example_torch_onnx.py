"""examples/torch_to_gradfit_onnx.py runs: torch -> safetensors -> gradfit fine-tuning -> ONNX."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_torch_to_gradfit_to_onnx_example(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    sys.path.insert(0, str(EXAMPLES))
    try:
        from torch_to_gradfit_onnx import main
    finally:
        sys.path.remove(str(EXAMPLES))
    res = main(out_dir=str(tmp_path))
    assert res["torch_acc"] > 0.9  # torch learned the digits 0-4
    assert res["same"] < 1e-4  # gradfit computes what torch computed from the loaded weights
    assert res["gf_acc"] > 0.8  # the frozen features serve the digits 5-9 (chance: 0.2)
    assert res["onnx_diff"] < 1e-4  # ONNX Runtime serves what gradfit computes
    assert (tmp_path / "model.onnx").exists() and (tmp_path / "cnn-0-4.safetensors").exists()
