"""Checkpoints: round trip, atomic writes under a kill, refusal of crafted/truncated/tampered files."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import gradfit as gf
from gradfit.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _model_and_opt():
    gf.manual_seed(0)
    model = gf.nn.Sequential(gf.nn.Linear(4, 8), gf.nn.ReLU(), gf.nn.Linear(8, 3))
    opt = gf.optim.Adam(model.parameters(), lr=0.01)
    x, y = gf.randn(16, 4), gf.randint(0, 3, (16,))
    for _ in range(3):
        opt.zero_grad()
        gf.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model, opt


def test_round_trip_restores_model_and_optimizer(tmp_path):
    model, opt = _model_and_opt()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, opt, meta={"epoch": 3, "config": {"a": [1, 2]}})
    ck = load_checkpoint(path)
    assert ck.meta["epoch"] == 3 and ck.meta["config"] == {"a": [1, 2]}
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(ck.model_state[k], v)
    opt2 = gf.optim.Adam(model.parameters(), lr=0.5)
    opt2.load_state_dict(ck.optim_state)
    sd1, sd2 = opt.state_dict(), opt2.state_dict()
    assert sd2["param_groups"][0]["lr"] == 0.01
    for i, st in sd1["state"].items():
        for key, val in st.items():
            np.testing.assert_array_equal(np.asarray(sd2["state"][i][key]), np.asarray(val))
    assert (tmp_path / "c.json").exists()  # the JSON record beside the weights


def test_truncated_file_is_refused(tmp_path):
    model, opt = _model_and_opt()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, opt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(path)


def test_tampered_weights_are_refused(tmp_path):
    model, _ = _model_and_opt()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # flip bits inside the last tensor
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="do not match the digest"):
        load_checkpoint(path)


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_pickle_is_never_unpickled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not (tmp_path / "PWNED").exists()


def test_file_without_gradfit_metadata_is_refused(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "plain.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(path))
    with pytest.raises(CheckpointError, match="not a gradfit checkpoint"):
        load_checkpoint(path)


def test_kill_during_save_never_leaves_a_broken_checkpoint(tmp_path):
    path = tmp_path / "big.safetensors"
    script = textwrap.dedent(
        f"""
        import gradfit as gf
        from gradfit.train.checkpoint import save_checkpoint
        m = gf.nn.Linear(2000, 1000)
        print("ready", flush=True)
        while True:
            save_checkpoint({str(path)!r}, m)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    for delay in (0.3, 0.17, 0.23):
        time.sleep(delay)
        if path.exists():
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    ck = load_checkpoint(path)  # whichever version is there is complete and verified
    assert ck.model_state["weight"].shape == (1000, 2000)


def test_zero_dim_state_keeps_its_shape_and_loads_back(tmp_path):
    # BatchNorm's num_batches_tracked and matrix factorisation's global bias are 0-d
    pairs = gf.tensor(np.array([[0, 1], [2, 3]], dtype=np.int64))
    for model, x in (
        (gf.nn.Sequential(gf.nn.Linear(3, 4), gf.nn.BatchNorm1d(4)), gf.randn(8, 3)),
        (gf.models.matrix_factorization(5, 6, 2), pairs),
    ):
        model(x)  # BatchNorm counts a batch
        path = tmp_path / "m.safetensors"
        save_checkpoint(path, model)
        state = load_checkpoint(path).model_state
        for k, v in model.state_dict().items():
            assert state[k].shape == v.shape, k
            np.testing.assert_array_equal(state[k], v, err_msg=k)
        model.load_state_dict(state)  # refused before: (1,) in the file vs () in the model
