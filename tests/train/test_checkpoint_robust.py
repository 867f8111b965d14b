"""Crafted and damaged checkpoints (issue 16): each is refused with a CheckpointError naming
the problem, before anything large is read or anything is changed."""

from __future__ import annotations

import json
import os
import time
import tracemalloc

import numpy as np
import pytest
from safetensors.numpy import save

import gradfit as gf
from gradfit.train.checkpoint import (
    OLD_FORMAT,
    CheckpointError,
    _digest_stream,
    load_checkpoint,
    save_checkpoint,
)


def _saved(tmp_path):
    model = gf.nn.Linear(3, 2)
    opt = gf.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = gf.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)
    model(gf.randn(4, 3)).sum().backward()
    opt.step()
    sched.step()
    path = tmp_path / "c.safetensors"
    meta = {
        "epoch": 1,
        "step": 3,
        "scheduler": sched.state_dict(),
        "rng": {"gradfit": gf.get_rng_state(), "loader": None},
        "history": [{"epoch": 1, "loss": 0.5}],
    }
    save_checkpoint(path, model, opt, meta=meta)
    return path


def _rewrite(path, edit, *, redigest=True):
    """Edit the record of a saved checkpoint, keeping its tensors (as a user with an editor)."""
    ck = load_checkpoint(path)
    tensors = {f"model.{k}": v for k, v in ck.model_state.items()}
    for idx, st in (ck.optim_state or {}).get("state", {}).items():
        tensors.update({f"optim.{idx}.{k}": v for k, v in st.items() if isinstance(v, np.ndarray)})
    meta = json.loads(json.dumps(ck.meta))
    edit(meta)
    if redigest:
        meta["sha256"] = _digest_stream(tensors, meta)
    path.write_bytes(save(tensors, metadata={"gradfit": json.dumps(meta)}))


EDITS = {
    "rng.gradfit": lambda m: m["rng"].update(gradfit={"bit_generator": "PCG64", "state": "junk"}),
    "epoch": lambda m: m.update(epoch=[1]),
    "scheduler.last_epoch": lambda m: m["scheduler"].update(last_epoch="3"),
    "momentum": lambda m: m["optimizer"]["param_groups"][0].update(momentum="abc"),
    ".lr": lambda m: m["optimizer"]["param_groups"][0].update(lr=-5),
    "nesterov": lambda m: m["optimizer"]["param_groups"][0].update(nesterov="yes"),
    "step": lambda m: m.update(step=-1),
    "history": lambda m: m.update(history={"a": 1}),
}


@pytest.mark.parametrize("field", list(EDITS))
def test_edited_fields_are_refused_by_name(tmp_path, field):
    path = _saved(tmp_path)
    _rewrite(path, EDITS[field])
    with pytest.raises(CheckpointError, match=field.replace(".", r"\.")):
        load_checkpoint(path)


def test_the_digest_covers_the_metadata(tmp_path):
    path = _saved(tmp_path)
    load_checkpoint(path)
    _rewrite(path, lambda m: m.update(epoch=7), redigest=False)
    with pytest.raises(CheckpointError, match="do not match the digest"):
        load_checkpoint(path)


def test_format_1_checkpoints_still_load(tmp_path):
    path = _saved(tmp_path)

    def to_old(m):
        m["format"] = OLD_FORMAT

    ck = load_checkpoint(path)
    tensors = {f"model.{k}": v for k, v in ck.model_state.items()}
    meta = json.loads(json.dumps(ck.meta))
    to_old(meta)
    meta["optimizer"] = None
    meta["sha256"] = _digest_stream(tensors, None)  # format 1: the tensors only
    path.write_bytes(save(tensors, metadata={"gradfit": json.dumps(meta)}))
    assert load_checkpoint(path).meta["epoch"] == 1


def test_deeply_nested_metadata(tmp_path):
    path = tmp_path / "deep.safetensors"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_bytes(save({"model.w": np.zeros(2, np.float32)}, metadata={"gradfit": deep}))
    with pytest.raises(CheckpointError, match="RecursionError|nested"):
        load_checkpoint(path)


def test_bf16_tensor_is_refused_by_name(tmp_path):
    path = tmp_path / "bf16.safetensors"
    header = {
        "__metadata__": {"gradfit": "{}"},
        "model.w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
    }
    h = json.dumps(header).encode()
    path.write_bytes(len(h).to_bytes(8, "little") + h + b"\0" * 4)
    with pytest.raises(CheckpointError, match="BF16"):
        load_checkpoint(path)


def test_a_header_promising_more_than_the_file_holds(tmp_path):
    path = tmp_path / "big.safetensors"
    n = 2**31
    header = {
        "__metadata__": {"gradfit": "{}"},
        "model.w": {"dtype": "F32", "shape": [n // 4], "data_offsets": [0, n]},
    }
    h = json.dumps(header).encode()
    path.write_bytes(len(h).to_bytes(8, "little") + h + b"\0" * 16)
    t = time.perf_counter()
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(path)
    assert time.perf_counter() - t < 1


def test_a_large_sparse_checkpoint_is_hashed_without_copies(tmp_path):
    """A crafted file of real size is streamed through the digest, not read into memory."""
    path = tmp_path / "sparse.safetensors"
    n = 64 * 2**20
    meta = {"format": "gradfit-checkpoint-2", "sha256": "0" * 64}
    header = {
        "__metadata__": {"gradfit": json.dumps(meta)},
        "model.w": {"dtype": "F32", "shape": [n // 4], "data_offsets": [0, n]},
    }
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h)
        f.truncate(8 + len(h) + n)  # sparse: no disk used
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="digest"):
            load_checkpoint(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < n // 8, f"peak {peak} bytes for a {n}-byte file"


def test_save_removes_stale_temp_files_but_not_live_ones(tmp_path):
    dead = tmp_path / ".c.safetensors.gradfit-tmp-999999999.abc.tmp"
    live = tmp_path / f".c.safetensors.gradfit-tmp-{os.getpid()}.abc.tmp"
    other = tmp_path / ".someone-else.tmp"
    for p in (dead, live, other):
        p.write_bytes(b"half")
    save_checkpoint(tmp_path / "c.safetensors", gf.nn.Linear(2, 1))
    assert not dead.exists() and live.exists() and other.exists()


def test_a_lagging_json_twin_is_rewritten_from_the_header(tmp_path):
    path = _saved(tmp_path)
    twin = path.with_suffix(".json")
    stale = json.loads(twin.read_text())
    stale["epoch"] = 0  # one epoch behind, as a kill between the two writes leaves it
    twin.write_text(json.dumps(stale))
    ck = load_checkpoint(path)
    assert json.loads(twin.read_text()) == ck.meta
