"""gf.save / gf.load: safetensors + JSON round trips, refusing pickles, crafted files."""

from __future__ import annotations

import io
import json
import math
import pickle
import struct

import numpy as np
import pytest
import torch

import gradfit as gf


def roundtrip(obj, tmp_path=None):
    if tmp_path is None:
        buf = io.BytesIO()
        gf.save(obj, buf)
        buf.seek(0)
        return gf.load(buf)
    p = tmp_path / "x.pt"
    gf.save(obj, p)
    return gf.load(p)


def assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, gf.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


@pytest.mark.parametrize("where", ["bytesio", "path"])
def test_nested_structures_and_dtypes_round_trip(where, tmp_path):
    obj = {
        "f32": gf.randn(2, 3),
        "f64": gf.randn(4, dtype="float64", requires_grad=True),
        "i64": gf.tensor([1, -2, 3]),
        "bool": gf.tensor([True, False]),
        "zero_d": gf.tensor(2.5),
        "empty": gf.zeros(0, 3),
        "np": np.arange(6, dtype=np.int32).reshape(2, 3),
        "npscalar": np.float32(1.5),
        "state": {0: {"momentum_buffer": gf.ones(2)}, 1: {}},
        "groups": [{"lr": 0.1, "params": [0, 1], "nesterov": False, "name": None}],
        "tuple": (1, "two", 3.0, float("inf"), float("nan"), -(2**70)),
        "keys": {1.5: "a", None: "b", True: "c"},
    }
    assert_same(obj, roundtrip(obj, tmp_path if where == "path" else None))


def test_a_tensor_stored_twice_loads_as_one():
    t = gf.ones(3)
    a, b = roundtrip([t, {"again": t}])
    assert a is b["again"]


def test_module_and_optimizer_state_dicts_round_trip(tmp_path):
    model = gf.nn.Sequential(gf.nn.Linear(3, 4), gf.nn.ReLU(), gf.nn.Linear(4, 2))
    opt = gf.optim.Adam(model.parameters(), lr=0.01)
    model(gf.randn(5, 3)).sum().backward()
    opt.step()
    gf.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 3}, tmp_path / "c.pt")
    ck = gf.load(tmp_path / "c.pt", map_location="cpu", weights_only=True)
    model2 = gf.nn.Sequential(gf.nn.Linear(3, 4), gf.nn.ReLU(), gf.nn.Linear(4, 2))
    model2.load_state_dict(ck["model"])
    opt2 = gf.optim.Adam(model2.parameters(), lr=0.01)
    opt2.load_state_dict(ck["opt"])
    x = gf.randn(2, 3)
    np.testing.assert_array_equal(model(x).numpy(), model2(x).numpy())
    assert ck["epoch"] == 3


def test_torch_written_safetensors_file_loads(tmp_path):
    from safetensors.torch import save_file

    tm = torch.nn.Linear(3, 2)
    sd = {k: v.detach().contiguous() for k, v in tm.state_dict().items()}
    sd["half"] = torch.ones(2, dtype=torch.bfloat16) * 1.5
    save_file(sd, str(tmp_path / "m.safetensors"))
    got = gf.load(tmp_path / "m.safetensors")
    assert got["half"].tolist() == [1.5, 1.5] and got["half"].dtype == np.float32
    model = gf.nn.Linear(3, 2)
    model.load_state_dict({k: got[k] for k in ("weight", "bias")})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    want = tm(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(gf.from_numpy(x)).numpy(), want, rtol=1e-6)


def test_our_files_are_valid_safetensors(tmp_path):
    from safetensors.numpy import load_file

    gf.save({"w": gf.arange(6.0).reshape(2, 3)}, tmp_path / "s.safetensors")
    arrays = load_file(str(tmp_path / "s.safetensors"))
    assert len(arrays) == 1
    np.testing.assert_array_equal(next(iter(arrays.values())), np.arange(6.0).reshape(2, 3))


def test_pickles_and_torch_zip_files_are_refused(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
    with pytest.raises(ValueError, match="zip archive.*torch.save.*save_file"):
        gf.load(tmp_path / "t.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="pickle.*never unpickles"):
        gf.load(tmp_path / "old.pt")
    with pytest.raises(ValueError, match="pickle"):
        gf.load(io.BytesIO(pickle.dumps({"a": 1})))


def test_unsupported_objects_and_locations_are_refused():
    with pytest.raises(TypeError, match="cannot store a object.*at obj\\['x'\\]"):
        gf.save({"x": object()}, io.BytesIO())
    buf = io.BytesIO()
    gf.save(gf.ones(1), buf)
    for loc in ("cuda", "cuda:0", "mps", {"cpu": "cuda:1"}, torch.device("cuda")):
        with pytest.raises(RuntimeError, match="CPU"):
            gf.load(io.BytesIO(buf.getvalue()), map_location=loc)
    for loc in ("cpu", torch.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage):
        assert gf.load(io.BytesIO(buf.getvalue()), map_location=loc).tolist() == [1.0]


def crafted(header: dict, data: bytes = b"", claim: int | None = None) -> io.BytesIO:
    hb = json.dumps(header).encode()
    return io.BytesIO(struct.pack("<Q", len(hb) if claim is None else claim) + hb + data)


def test_truncated_and_crafted_files_are_refused_before_allocating():
    buf = io.BytesIO()
    gf.save({"w": gf.ones(100)}, buf)
    raw = buf.getvalue()
    for cut in (4, 20, len(raw) - 1):
        with pytest.raises(ValueError, match="load:"):
            gf.load(io.BytesIO(raw[:cut]))
    with pytest.raises(ValueError, match="header claims"):
        gf.load(crafted({}, claim=2**62))
    huge = {"x": {"dtype": "F32", "shape": [2**40, 2**20], "data_offsets": [0, 16]}}
    with pytest.raises(ValueError, match="claims"):
        gf.load(crafted(huge, b"\0" * 16))
    bad = [
        {"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}},
        {"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}},
        {"x": {"dtype": "OBJ", "shape": [1], "data_offsets": [0, 4]}},
        {"__metadata__": {"gradfit": '{"T": "missing"}'}},
        {"__metadata__": {"gradfit": "[" * 100000}},
        {"__metadata__": {"gradfit": '{"D": [[{"L": []}, {"V": 1}]]}'}},
        {"__metadata__": {"gradfit": '{"Q": 1}'}},
    ]
    for h in bad:
        with pytest.raises(ValueError, match="load:"):
            gf.load(crafted(h, b"\0" * 4))
    with pytest.raises(ValueError, match="load:"):
        gf.load(io.BytesIO(b"\x05\x00\x00\x00\x00\x00\x00\x00[1,2]"))
