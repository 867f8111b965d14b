"""The device API against PyTorch's: gf.device, cuda/mps/accelerator queries, device= and .to()."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf


@pytest.mark.parametrize("spec", ["cpu", "cpu:0", "cpu:3", "cuda", "cuda:1", "mps", "meta"])
def test_device_objects_match_torch(spec):
    d, td = gf.device(spec), torch.device(spec)
    assert (str(d), repr(d), d.type, d.index) == (str(td), repr(td), td.type, td.index)
    assert gf.device(d) == d and hash(gf.device(spec)) == hash(d)


def test_device_with_index_and_equality():
    assert gf.device("cpu", 0) == gf.device("cpu:0")
    assert repr(gf.device("cpu", 0)) == repr(torch.device("cpu", 0))
    assert gf.device("cpu") != gf.device("cpu:0")  # as torch: the index is part of it
    assert (gf.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")
    assert str(gf.device("cpu")) == "cpu"


@pytest.mark.parametrize("bad", ["foo", "cpu:x", "cpu:-1", "gpu"])
def test_bad_device_strings_raise_like_torch(bad):
    with pytest.raises(RuntimeError):
        torch.device(bad)
    with pytest.raises(RuntimeError):
        gf.device(bad)


def test_bad_device_type_is_type_error():
    with pytest.raises(TypeError):
        torch.device(1.5)
    with pytest.raises(TypeError):
        gf.device(1.5)


def test_availability_queries():
    assert gf.cuda.is_available() is False and gf.cuda.device_count() == 0
    assert gf.backends.mps.is_available() is False
    assert gf.accelerator.is_available() is False
    assert gf.accelerator.current_accelerator() is None
    gf.cuda.manual_seed_all(0)  # seeding boilerplate is accepted
    gf.backends.cudnn.deterministic = True
    gf.backends.cudnn.benchmark = False


def test_the_usual_boilerplate_picks_the_cpu():
    device = gf.device("cuda" if gf.cuda.is_available() else "cpu")
    x = gf.randn(2, 3, device=device).to(device)
    assert x.device == gf.device("cpu") and str(x.device) == "cpu"
    assert x.is_cuda is False and x.is_cpu is True


CREATORS = [
    ("tensor", lambda m, dev: m.tensor([1.0, 2.0], device=dev)),
    ("zeros", lambda m, dev: m.zeros(2, 3, device=dev)),
    ("ones", lambda m, dev: m.ones((2,), device=dev)),
    ("empty", lambda m, dev: m.empty(2, device=dev)),
    ("full", lambda m, dev: m.full((2,), 3.0, device=dev)),
    ("arange", lambda m, dev: m.arange(5, device=dev)),
    ("linspace", lambda m, dev: m.linspace(0, 1, 4, device=dev)),
    ("eye", lambda m, dev: m.eye(3, device=dev)),
    ("rand", lambda m, dev: m.rand(2, device=dev)),
    ("randn", lambda m, dev: m.randn(2, device=dev)),
    ("randint", lambda m, dev: m.randint(0, 5, (3,), device=dev)),
    ("randperm", lambda m, dev: m.randperm(4, device=dev)),
    ("zeros_like", lambda m, dev: m.zeros_like(m.ones(2), device=dev)),
    ("ones_like", lambda m, dev: m.ones_like(m.ones(2), device=dev)),
    ("full_like", lambda m, dev: m.full_like(m.ones(2), 2.0, device=dev)),
    ("rand_like", lambda m, dev: m.rand_like(m.ones(2), device=dev)),
    ("randn_like", lambda m, dev: m.randn_like(m.ones(2), device=dev)),
    ("as_tensor", lambda m, dev: m.as_tensor([1, 2], device=dev)),
    ("normal", lambda m, dev: m.normal(0.0, 1.0, (2,), device=dev)),
]


@pytest.mark.parametrize("name,make", CREATORS, ids=[c[0] for c in CREATORS])
@pytest.mark.parametrize("dev", ["cpu", "cpu:0", None])
def test_creation_accepts_cpu_device(name, make, dev):
    g = make(gf, dev if dev is None else gf.device(dev))
    t = make(torch, dev)
    assert g.shape == tuple(t.shape) and str(g.dtype) == str(t.dtype).replace("torch.", "")
    assert make(gf, dev).device.type == "cpu"


@pytest.mark.parametrize("name,make", CREATORS, ids=[c[0] for c in CREATORS])
@pytest.mark.parametrize("dev", ["cuda", "cuda:0", "mps", 0])
def test_creation_refuses_other_devices_with_the_fix(name, make, dev):
    with pytest.raises(RuntimeError, match="gf.cuda.is_available"):
        make(gf, dev)


def test_tensor_to_forms_match_torch():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    g, t = gf.tensor(a), torch.tensor(a)
    assert g.to("cpu") is g and t.to("cpu") is t
    assert g.to(gf.float32) is g
    assert g.cpu() is g
    assert g.to(gf.device("cpu")) is g
    for gf_args, th_args, kw in [
        ((gf.float64,), (torch.float64,), {}),
        (("cpu", gf.float64), ("cpu", torch.float64), {}),
        ((), (), {"device": "cpu", "dtype": "__int64"}),
        ((gf.zeros(1, dtype=gf.int64),), (torch.zeros(1, dtype=torch.int64),), {}),
        ((gf.float16,), (torch.float16,), {"non_blocking": True}),
    ]:
        gkw = dict(kw)
        tkw = dict(kw)
        if kw.get("dtype") == "__int64":
            gkw["dtype"], tkw["dtype"] = gf.int64, torch.int64
        go, to = g.to(*gf_args, **gkw), t.to(*th_args, **tkw)
        assert str(go.dtype) == str(to.dtype).replace("torch.", "")
        np.testing.assert_array_equal(go.numpy(), to.numpy())


def test_to_copy_gives_a_new_tensor_in_the_graph():
    x = gf.ones(2, requires_grad=True)
    y = x.to("cpu", copy=True)
    assert y is not x and y.grad_fn is not None
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_to_float64_keeps_the_gradient():
    x = gf.ones(2, requires_grad=True)
    x.to(gf.device("cpu"), gf.float64).sum().backward()
    assert x.grad.dtype == gf.float32


def test_cuda_and_to_cuda_refused():
    x = gf.ones(2)
    for f in (lambda: x.cuda(), lambda: x.to("cuda"), lambda: x.to("mps", gf.float32),
              lambda: x.to(device="cuda:0")):  # fmt: skip
        with pytest.raises(RuntimeError, match="CPU only"):
            f()


def test_to_bad_arguments():
    with pytest.raises(TypeError):
        gf.ones(2).to(dtype=gf.float32, bogus=1)
    with pytest.raises(TypeError):
        gf.ones(2).to([1])


def test_default_device():
    assert gf.get_default_device() == gf.device("cpu")
    assert repr(gf.get_default_device()) == repr(torch.get_default_device())
    gf.set_default_device("cpu")
    gf.set_default_device(None)
    with pytest.raises(RuntimeError, match="CPU only"):
        gf.set_default_device("cuda")
    assert gf.get_default_device().type == "cpu"


def test_generator_device():
    assert gf.Generator(device=gf.device("cpu")).device == "cpu"
    with pytest.raises(RuntimeError):
        gf.Generator(device="cuda")
