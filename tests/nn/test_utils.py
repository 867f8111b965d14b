"""nn.utils against torch.nn.utils: clipping, vectors, penalties, decay groups."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit import nn
from gradfit.nn import utils


def _pair_with_grads(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) * 3 for s in [(3, 4), (4,), (2, 2)]]
    ours = [gf.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    for o, t, a in zip(ours, theirs, arrays):
        g = rng.standard_normal(a.shape).astype(np.float32)
        o.grad = gf.tensor(g)
        t.grad = torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pair_with_grads()
    n1 = utils.clip_grad_norm_(ours, max_norm, norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert float(n1) == pytest.approx(float(n2), rel=1e-5)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)
        assert o.grad.dtype == np.float32


def test_clip_grad_norm_nonfinite_and_value():
    ours, theirs = _pair_with_grads(1)
    utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())
    ours[0].grad._data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)


def test_parameters_vector_round_trip():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    vec = utils.parameters_to_vector(net.parameters())
    assert vec.shape == (26,)
    expected = np.concatenate([p.numpy().ravel() for p in net.parameters()])
    np.testing.assert_array_equal(vec.numpy(), expected)
    utils.vector_to_parameters(vec * 2, net.parameters())
    np.testing.assert_array_equal(
        utils.parameters_to_vector(net.parameters()).numpy(), 2 * expected
    )
    with pytest.raises(ValueError, match="26 elements"):
        utils.vector_to_parameters(gf.zeros(5), net.parameters())


def test_penalties_values_and_gradients():
    w = gf.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    b = gf.tensor([-1.0, 0.0], requires_grad=True)
    l2 = utils.l2_penalty([w, b])
    assert l2.item() == pytest.approx(1 + 4 + 0.25 + 9 + 1)
    l2.backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * w.numpy())
    w.grad = b.grad = None
    l1 = utils.l1_penalty([w, b])
    assert l1.item() == pytest.approx(7.5)
    l1.backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.sign(w.numpy()))


def test_param_groups_weight_decay():
    class Norm(nn.Module):  # a normalisation layer by name: its 2-D weight is still undecayed
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(gf.ones(2, 2))

    LayerNormLike = type("LayerNormLike", (Norm,), {})
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), LayerNormLike(), nn.Linear(8, 2, bias=False))
    decay, no_decay = utils.param_groups_weight_decay(model, 0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    ids = lambda ps: {id(p) for p in ps}
    assert ids(decay["params"]) == {id(model[0].weight), id(model[3].weight)}
    assert ids(no_decay["params"]) == {id(model[0].bias), id(model[2].weight)}


# ---------------------------------------------------------------------------- skip_init
def _built(factory):
    """Build with factory() and return {name: (shape, dtype)} of its state."""
    return {k: (v.shape, v.dtype) for k, v in factory().state_dict().items()}


SKIP_CASES = {
    "linear": (nn.Linear, (30, 20)),
    "linear_no_bias": (nn.Linear, (30, 20), {"bias": False}),
    "conv2d": (nn.Conv2d, (3, 8, 3)),
    "embedding": (nn.Embedding, (10, 4)),
    "batchnorm": (nn.BatchNorm1d, (6,)),
    "layernorm": (nn.LayerNorm, ((4, 5),)),
    "mlp_bn": (gf.models.mlp, ([64, 32, 16, 10],), {"batch_norm": True, "dropout": 0.1}),
    "cnn_bn": (gf.models.cnn, (), {"image_size": 8, "batch_norm": True}),
    "cnn1d": (gf.models.cnn1d, ()),
    "mf": (gf.models.matrix_factorization, (5, 7), {"dim": 3, "global_mean": 3.5}),
    "build_model": (gf.models.build_model, ({"name": "logistic", "in_features": 8, "num_classes": 3},)),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SKIP_CASES))
def test_skip_init_builds_the_same_architecture_without_initialising(case, monkeypatch):
    cls, args, *rest = SKIP_CASES[case]
    kwargs = rest[0] if rest else {}
    expected = _built(lambda: cls(*args, **kwargs))
    written = []
    monkeypatch.setattr(gf.nn.init, "_fill", lambda t, v: written.append(t.shape))
    state = gf.random.get_rng_state()
    module = utils.skip_init(cls, *args, **kwargs)
    assert gf.random.get_rng_state() == state, "an initialiser drew random numbers"
    assert written == [], f"initialisers wrote {written}"
    assert isinstance(module, nn.Module)
    assert {k: (v.shape, v.dtype) for k, v in module.state_dict().items()} == expected
    monkeypatch.undo()
    model = cls(*args, **kwargs)  # initialised as usual once skip_init has returned
    module.load_state_dict(model.state_dict())
    for (k, a), b in zip(module.state_dict().items(), model.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=k)


# each about 1 GB of float32 parameters and buffers, reserved but never written
BIG = [
    (nn.Linear, (16000, 16000)),
    (nn.BatchNorm1d, (2**26,)),
    (nn.LayerNorm, (2**27,)),
    (nn.Embedding, (2**24, 16)),
]


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
@pytest.mark.parametrize("cls,args", BIG, ids=[c.__name__ for c, _ in BIG])
def test_skip_init_does_not_touch_the_weights_memory(cls, args):
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    before = rss()
    module = utils.skip_init(cls, *args)
    grown = rss() - before
    assert sum(v._data.nbytes for v in module.state_dict(keep_vars=True).values()) > 2**29
    assert grown < 100 * 2**20, f"building grew the resident memory by {grown / 2**20:.0f} MB"


def test_skip_init_errors():
    with pytest.raises(TypeError, match=r"already built Linear \(pass the class"):
        utils.skip_init(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="expected a module class or a function"):
        utils.skip_init("Linear")
    with pytest.raises(TypeError, match="returned int, not a gf.nn.Module"):
        utils.skip_init(lambda: 3)
    with pytest.raises(ValueError, match="in_features"):
        utils.skip_init(nn.Linear, -1, 2)
    assert float(nn.init.ones_(gf.zeros(2)).sum()) == 2.0  # initialisers are back on
