"""The newer activations (Hardtanh ... PReLU) against torch: values, gradients, reprs, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradfit as gf
import gradfit.nn.functional as F
from oracle import check

rng = np.random.default_rng(0)
X = (rng.standard_normal((3, 5)) * 3).astype(np.float32)

PAIRS = [
    ("hardtanh", lambda x: F.hardtanh(x, -1.5, 2.0), lambda x: TF.hardtanh(x, -1.5, 2.0)),
    ("relu6", F.relu6, TF.relu6),
    ("mish", F.mish, TF.mish),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid),
    ("softsign", F.softsign, TF.softsign),
    ("tanhshrink", F.tanhshrink, TF.tanhshrink),
    ("hardswish", F.hardswish, TF.hardswish),
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid),
    ("softshrink", lambda x: F.softshrink(x, 0.7), lambda x: TF.softshrink(x, 0.7)),
    ("hardshrink", lambda x: F.hardshrink(x, 0.7), lambda x: TF.hardshrink(x, 0.7)),
    ("threshold", lambda x: F.threshold(x, 0.3, -2.0), lambda x: TF.threshold(x, 0.3, -2.0)),
    ("celu", lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7)),
    ("selu", F.selu, TF.selu),
    ("glu", F.glu, lambda x: TF.glu(x, -1) if x.shape[-1] % 2 == 0 else None),
    ("glu0", lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0)),
]


@pytest.mark.parametrize("name,gfn,tfn", PAIRS, ids=[p[0] for p in PAIRS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_grads(name, gfn, tfn, dtype):
    x = X[:2, :4] if name.startswith("glu") else X
    check(gfn, tfn, [x.astype(dtype)])
    check(gfn, tfn, [np.zeros((0, 4), dtype)]) if name != "glu0" else None
    if not name.startswith("glu"):
        check(gfn, tfn, [np.array(1.3, dtype)])


@pytest.mark.parametrize("name,gfn,tfn", PAIRS, ids=[p[0] for p in PAIRS])
def test_gradcheck(name, gfn, tfn):
    x = X[:2, :4].astype(np.float64) + 0.05  # keep off kinks
    assert gf.gradcheck(gfn, [gf.tensor(x, requires_grad=True)])


@pytest.mark.parametrize(
    "wshape,xshape", [((1,), (4, 3, 2)), ((3,), (4, 3, 2)), ((3,), (2, 3)), ((1,), (5,))]
)
def test_prelu(wshape, xshape):
    x = rng.standard_normal(xshape).astype(np.float32)
    w = rng.uniform(0.1, 0.5, wshape).astype(np.float32)
    check(F.prelu, TF.prelu, [x, w])
    assert gf.gradcheck(
        F.prelu,
        [
            gf.tensor(x.astype(np.float64), requires_grad=True),
            gf.tensor(w.astype(np.float64), requires_grad=True),
        ],
    )


def test_prelu_module():
    m, tm = gf.nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert repr(m) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in tm.state_dict().items()
    ]
    np.testing.assert_allclose(m.weight.numpy(), tm.weight.detach().numpy())
    with pytest.raises(RuntimeError):
        m(gf.zeros(2, 4))
    with pytest.raises(RuntimeError):
        tm(torch.zeros(2, 4))


MODS = [
    ("Hardtanh", (-2.0, 3.0)),
    ("ReLU6", ()),
    ("Mish", ()),
    ("LogSigmoid", ()),
    ("Softsign", ()),
    ("Tanhshrink", ()),
    ("Hardswish", ()),
    ("Hardsigmoid", ()),
    ("Softshrink", (0.3,)),
    ("Hardshrink", ()),
    ("Threshold", (0.1, 20.0)),
    ("CELU", (0.5,)),
    ("SELU", ()),
    ("GLU", (0,)),
    ("PReLU", ()),
]


@pytest.mark.parametrize("name,args", MODS, ids=[m[0] for m in MODS])
def test_module_repr_and_forward(name, args):
    g, t = getattr(gf.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(g) == repr(t)
    x = X[:2, :4]
    np.testing.assert_allclose(
        g(gf.tensor(x)).numpy(), t(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_inplace_repr():
    assert repr(gf.nn.ReLU6(inplace=True)) == repr(torch.nn.ReLU6(inplace=True))
    assert repr(gf.nn.Hardtanh(inplace=True)) == repr(torch.nn.Hardtanh(inplace=True))


def test_errors():
    with pytest.raises(RuntimeError):
        F.glu(gf.zeros(2, 3))
    with pytest.raises(RuntimeError):
        TF.glu(torch.zeros(2, 3))
    with pytest.raises(IndexError):
        F.glu(gf.zeros(2, 4), dim=2)
    with pytest.raises(TypeError, match="hardtanh"):
        F.hardtanh(np.zeros(3))
    with pytest.raises(ValueError):
        F.hardtanh(gf.zeros(3), 2.0, 1.0)
    with pytest.raises(ValueError):
        TF.hardtanh(torch.zeros(3), 2.0, 1.0)
