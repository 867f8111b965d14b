"""gf.autograd.grad compared with torch.autograd.grad on the same float64 graphs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf
from oracle import pair


def close(actual, expected):
    assert actual is not None and expected is not None
    a = actual.numpy() if isinstance(actual, gf.Tensor) else np.asarray(actual)
    e = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert a.shape == e.shape
    np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def grad_of(lib):
    return gf.autograd.grad if lib is gf else torch.autograd.grad


def both(build, **kwargs):
    """Run ``build(lib, tensors)`` -> (outputs, inputs, grad_outputs) and grad on each library."""
    rng = np.random.default_rng(0)
    data = build(None, rng)  # the arrays
    res = {}
    for lib in (gf, torch):
        ts = {
            k: lib.tensor(v, dtype=lib.float64, requires_grad=not k.startswith("c_"))
            for k, v in data.items()
        }
        outputs, inputs, gouts = build(lib, ts)
        res[lib] = grad_of(lib)(outputs, inputs, gouts, **kwargs)
    assert isinstance(res[gf], tuple)
    assert len(res[gf]) == len(res[torch])
    for g, e in zip(res[gf], res[torch], strict=True):
        if e is None:
            assert g is None
        else:
            assert isinstance(g, gf.Tensor) and not g.requires_grad and g.grad_fn is None
            close(g, e)
    return res


# ------------------------------------------------------------------ values


def test_single_scalar_output_single_leaf_input():
    def build(lib, t):
        if lib is None:
            return {"x": t.standard_normal(5)}
        return (lib.exp(t["x"]) * t["x"]).sum(), t["x"], None

    both(build)


def test_several_outputs_inputs_and_grad_outputs():
    def build(lib, t):
        if lib is None:
            return {
                "x": t.standard_normal((3, 4)),
                "w": t.standard_normal((4, 2)),
                "c_g": t.standard_normal((3, 2)),
            }
        h = t["x"] @ t["w"]
        y1 = lib.tanh(h)
        y2 = (h * h).sum()
        return [y1, y2], [t["w"], t["x"]], [t["c_g"], None]

    both(build)


def test_tensor_grad_outputs_for_one_output_and_dtype_cast():
    x, tx = pair([1.0, -2.0, 3.0])
    g = gf.autograd.grad(x * x, x, gf.tensor([1.0, 2.0, 3.0], dtype=gf.float32))
    e = torch.autograd.grad(tx * tx, tx, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32))
    assert g[0].dtype == np.float64
    close(g[0], e[0])


def test_non_leaf_inputs_including_one_beyond_another():
    def build(lib, t):
        if lib is None:
            return {"x": t.standard_normal(4), "w": t.standard_normal(4)}
        y = t["x"] * t["w"]
        z = lib.sin(y) + y * y
        out = (z * z).sum()
        return out, [z, y, t["x"]], None

    both(build)


def test_broadcast_inputs_get_gradients_of_their_own_shape():
    def build(lib, t):
        if lib is None:
            return {
                "a": t.standard_normal((3, 1)),
                "b": t.standard_normal(4),
                "s": t.standard_normal(()),
            }
        y = (t["a"] * t["b"] + t["s"]) ** 2
        return y.mean(), [t["a"], t["b"], t["s"]], None

    res = both(build)
    assert [tuple(g.shape) for g in res[gf]] == [(3, 1), (4,), ()]


def test_output_that_is_an_input_and_duplicate_inputs():
    def build(lib, t):
        if lib is None:
            return {"x": t.standard_normal(3), "c_g": t.standard_normal(3)}
        y = t["x"] * 3
        return [y, (y * t["x"]).sum()], [t["x"], y, t["x"]], [t["c_g"], None]

    res = both(build)
    assert not np.shares_memory(res[gf][0].numpy(), res[gf][2].numpy())


def test_zero_dim_and_float32_results_stay_arrays_of_the_input_dtype():
    x = gf.tensor(2.0, requires_grad=True)  # float32
    y = x * 3
    (g,) = gf.autograd.grad(y * y, x)  # y used twice: its gradient is a sum of 0-d arrays
    assert type(g._data) is np.ndarray and g.dtype == np.float32 and g.shape == ()
    assert g.item() == pytest.approx(2 * 9 * 2.0)


def test_works_under_no_grad_and_records_nothing():
    x, tx = pair([0.5, 1.5])
    out, tout = (x * x).sum(), (tx * tx).sum()
    with gf.no_grad():
        (g,) = gf.autograd.grad(out, x)
    with torch.no_grad():
        (e,) = torch.autograd.grad(tout, tx)
    assert g.grad_fn is None and not g.requires_grad
    close(g, e)


# ------------------------------------------------------------------ .grad and memory


def test_grad_attributes_are_untouched():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    w = gf.tensor([3.0, 4.0], requires_grad=True)
    w.grad = gf.tensor([7.0, 7.0])
    before = w.grad._data.copy()
    h = x * w
    (gx, gw, gh) = gf.autograd.grad((h * h).sum(), [x, w, h])
    assert x.grad is None and h.grad is None
    np.testing.assert_array_equal(w.grad._data, before)
    assert not any(np.shares_memory(gw._data, t._data) for t in (w.grad, x, w))
    # and backward afterwards still accumulates as usual
    (x * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), before + x.numpy())


def test_results_do_not_alias_grad_outputs_or_each_other():
    a = gf.tensor([1.0, 2.0], requires_grad=True)
    b = gf.tensor([3.0, 4.0], requires_grad=True)
    go = gf.tensor([1.0, 1.0])
    ga, gb = gf.autograd.grad(a + b, [a, b], go)  # Add passes the same array to both
    np.testing.assert_array_equal(ga.numpy(), [1.0, 1.0])
    ga.add_(1.0)
    np.testing.assert_array_equal(gb.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(go.numpy(), [1.0, 1.0])
    (gs,) = gf.autograd.grad(a.sum(), a)  # a broadcast of the upstream scalar
    gs.add_(1.0)  # writeable, its own memory
    np.testing.assert_array_equal(gs.numpy(), [2.0, 2.0])


# ------------------------------------------------------------------ retain_graph


def test_graph_is_released_unless_retain_graph():
    made, res = {}, {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        out = (lib.exp(x) * x).sum()
        first = grad_of(lib)(out, x, retain_graph=True)
        second = grad_of(lib)(out, x)  # by default the saved arrays go
        with pytest.raises(RuntimeError, match="second time"):
            grad_of(lib)(out, x)
        made[lib], res[lib] = (x, out), (first[0], second[0])
    for g, e in zip(res[gf], res[torch], strict=True):
        close(g, e)
    x, out = made[gf]
    with pytest.raises(RuntimeError, match=r"^autograd\.grad through .* retain_graph=True"):
        gf.autograd.grad(out, x)
    with pytest.raises(RuntimeError, match=r"^backward through .*a second time.*retain_graph=True"):
        out.backward()


def test_nodes_the_walk_does_not_need_keep_their_saved_arrays():
    x, tx = pair([0.3, -0.7])
    for lib, t in ((gf, x), (torch, tx)):
        y = lib.exp(t)  # Exp saves its output
        z = (y * 2).sum()
        (gy,) = grad_of(lib)(z, y)  # walks z's nodes only, not Exp
        close(gy, np.full(2, 2.0))
        y.sum().backward()  # Exp is still intact
        with pytest.raises(RuntimeError):
            z.backward()  # z's nodes were released
    close(x.grad, tx.grad)


def test_only_the_part_of_the_graph_that_leads_to_the_inputs_is_walked():
    calls = []

    class Spy(gf.Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            calls.append(1)
            return (g * 2,)

    x = gf.tensor([1.0, 2.0], requires_grad=True)
    w = gf.tensor([3.0, 4.0], requires_grad=True)
    out = (Spy.apply(x) * w).sum()
    (gw,) = gf.autograd.grad(out, w, retain_graph=True)
    assert calls == []  # Spy leads only to x
    np.testing.assert_array_equal(gw.numpy(), [2.0, 4.0])
    (gx,) = gf.autograd.grad(out, x)
    assert calls == [1]
    np.testing.assert_array_equal(gx.numpy(), [6.0, 8.0])


# ------------------------------------------------------------------ unused inputs


@pytest.mark.parametrize(
    "kwargs",
    [
        {"allow_unused": True},
        {"allow_unused": True, "materialize_grads": True},
        {"materialize_grads": True},
    ],
)
def test_allow_unused_and_materialize_grads_match_torch(kwargs):
    def build(lib, t):
        if lib is None:
            return {"x": t.standard_normal(3), "w": t.standard_normal((2, 2))}
        return (t["x"] ** 3).sum(), [t["x"], t["w"]], None

    res = both(build, **kwargs)
    if kwargs.get("materialize_grads"):
        assert res[gf][1].shape == (2, 2) and res[gf][1].dtype == np.float64
    else:
        assert res[gf][1] is None


def test_unused_input_is_an_error_naming_autograd_grad_as_in_torch():
    messages = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([1.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="index 1|inputs\\[1\\]") as info:
            grad_of(lib)((x * 2).sum(), [x, w])
        messages[lib] = str(info.value)
        with pytest.raises(ValueError, match="allow_unused"):
            grad_of(lib)((x * 2).sum(), [x, w], allow_unused=False, materialize_grads=True)
    assert messages[gf].startswith("autograd.grad: inputs[1] appears to not have been used")
    assert "allow_unused=True" in messages[gf]


# ------------------------------------------------------------------ errors


def test_errors_name_autograd_grad():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    cases = [
        (
            RuntimeError,
            "only for scalar outputs",
            lambda: gf.autograd.grad(y, x, retain_graph=True),
        ),
        (
            RuntimeError,
            r"mismatch in shape.*\(3,\).*\(2,\)",
            lambda: gf.autograd.grad(y, x, gf.ones(3)),
        ),
        (RuntimeError, "2 outputs and 1 grad_outputs", lambda: gf.autograd.grad([y, y], x, [None])),
        (RuntimeError, "inputs cannot be empty", lambda: gf.autograd.grad(y.sum(), [])),
        (
            RuntimeError,
            r"inputs\[0\] does not require grad",
            lambda: gf.autograd.grad(y.sum(), gf.ones(2)),
        ),
        (
            RuntimeError,
            r"outputs\[0\] does not require grad",
            lambda: gf.autograd.grad(gf.ones(()), x),
        ),
        (
            TypeError,
            r"grad_outputs\[0\] must be",
            lambda: gf.autograd.grad(y, x, [[1.0, 2.0]], create_graph=True),
        ),
        (TypeError, r"grad_outputs\[0\] must be", lambda: gf.autograd.grad(y, x, [[1.0, 2.0]])),
        (TypeError, "inputs must be a Tensor", lambda: gf.autograd.grad(y.sum(), "x")),
        (TypeError, r"outputs\[1\] must be a Tensor", lambda: gf.autograd.grad([y.sum(), 3], x)),
    ]
    for exc, pattern, call in cases:
        with pytest.raises(exc, match=pattern) as info:
            call()
        assert str(info.value).startswith("autograd.grad"), str(info.value)


def test_torch_rejects_the_same_calls():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    for call in [
        lambda: torch.autograd.grad(y, x, retain_graph=True),
        lambda: torch.autograd.grad(y, x, torch.ones(3)),
        lambda: torch.autograd.grad([y, y], x, [None]),
        lambda: torch.autograd.grad(y.sum(), []),
        lambda: torch.autograd.grad(y.sum(), torch.ones(2)),
        lambda: torch.autograd.grad(torch.ones(()), x),
    ]:
        with pytest.raises(RuntimeError):
            call()


def test_in_place_change_after_use_is_caught():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    w = gf.tensor([3.0, 4.0])
    out = (x * w).sum()
    w.add_(1.0)
    with pytest.raises(RuntimeError, match=r"^autograd\.grad through Mul: input 1 was modified"):
        gf.autograd.grad(out, x)


# ------------------------------------------------------------------ hooks and retain_grad


def hooked_graph(lib, log, scale_y=10.0):
    """x -> y (hooked: logged and scaled) -> z (hooked, logged) -> out; a, b: other leaves."""
    x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
    a = lib.tensor([0.5, 0.25], dtype=lib.float64, requires_grad=True)
    x.register_hook(lambda g: log.append(("x", g.tolist())))
    a.register_hook(lambda g: log.append(("a", g.tolist())))

    def on_y(g):
        log.append(("y", g.tolist()))
        return g * scale_y

    y = x * 2
    y.register_hook(on_y)
    z = lib.sin(y) * a
    z.register_hook(lambda g: log.append(("z", g.tolist())))
    w = lib.exp(a)  # a branch that leads only to a
    w.register_hook(lambda g: log.append(("w", g.tolist())))
    out = (z * z).sum() + w.sum()
    return {"x": x, "a": a, "y": y, "z": z, "w": w, "out": out}


@pytest.mark.parametrize("inputs", [["x"], ["y"], ["y", "x"], ["z"], ["a"], ["x", "a"], ["w", "y"]])
def test_hooks_fire_as_in_torch(inputs):
    logs, results = {}, {}
    for lib in (gf, torch):
        log = logs[lib] = []
        t = hooked_graph(lib, log)
        results[lib] = grad_of(lib)(t["out"], [t[k] for k in inputs])
    assert sorted(logs[gf]) == sorted(logs[torch])  # the same hooks ran, on the same values
    assert logs[gf]  # some hook ran

    # in the same order along the chain z -> y -> x (PyTorch orders independent branches,
    # here the one through w, by when their nodes were created, which gradfit does not record)
    def chain(log):
        return [name for name, _ in log if name in "zyx"]

    assert chain(logs[gf]) == chain(logs[torch])
    for g, e in zip(results[gf], results[torch], strict=True):
        close(g, e)


def test_hook_on_a_non_leaf_input_its_result_is_after_the_hook_where_the_walk_stops():
    # and before it where the walk goes on through it to another input, as torch does
    for inputs, expect_scaled in ((["y"], True), (["y", "x"], False)):
        out = {}
        for lib in (gf, torch):
            t = hooked_graph(lib, [])
            out[lib] = grad_of(lib)(t["out"], [t[k] for k in inputs])
        close(out[gf][0], out[torch][0])
        t = hooked_graph(gf, [], scale_y=1.0)
        unscaled = gf.autograd.grad(t["out"], t["y"])[0]
        ratio = out[gf][0].numpy() / unscaled.numpy()
        np.testing.assert_allclose(ratio, 10.0 if expect_scaled else 1.0)


def test_retain_grad_tensors_on_the_walk_are_filled_as_in_torch():
    grads = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.retain_grad()
        u = lib.exp(x)  # walked only for x: off the path to y
        u.retain_grad()
        out = (y * y).sum() + u.sum()
        out.retain_grad()
        grad_of(lib)(out, y, retain_graph=True)  # out and y are on the walk, u is not
        first = [None if v.grad is None else v.grad.tolist() for v in (y, u, out, x)]
        grad_of(lib)(out, x)  # now all of them; y's retained grad adds up
        grads[lib] = first + [None if v.grad is None else v.grad.tolist() for v in (y, u, out, x)]
    assert grads[gf] == grads[torch]
    assert grads[gf][1] is None and grads[gf][3] is None  # u not walked, x.grad never set


# ------------------------------------------------------------------ an example: saliency


def test_input_gradient_saliency_of_a_small_mlp_matches_torch():
    rng = np.random.default_rng(1)
    gmodel = gf.nn.Sequential(
        gf.nn.Linear(6, 8, dtype=gf.float64), gf.nn.Tanh(), gf.nn.Linear(8, 3, dtype=gf.float64)
    )
    tmodel = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    ).double()
    with gf.no_grad(), torch.no_grad():
        for gp, tp in zip(gmodel.parameters(), tmodel.parameters(), strict=True):
            w = rng.standard_normal(tuple(tp.shape))
            gp.copy_(gf.tensor(w, dtype=gf.float64))
            tp.copy_(torch.tensor(w))
    images = rng.standard_normal((5, 6))
    labels = np.array([0, 2, 1, 2, 0])
    sal = {}
    for lib, model in ((gf, gmodel), (torch, tmodel)):
        x = lib.tensor(images, dtype=lib.float64, requires_grad=True)
        scores = model(x)
        picked = scores[lib.arange(5), lib.tensor(labels)]  # each image's score for its label
        (sal[lib],) = grad_of(lib)(picked.sum(), x)
    close(sal[gf], sal[torch])
    assert all(p.grad is None for p in gmodel.parameters())  # the weights saw nothing
    # each row is the gradient of that image's own score: a row of a finite difference
    x0 = gf.tensor(images, dtype=gf.float64)
    eps = 1e-6
    bumped = images.copy()
    bumped[3, 4] += eps
    with gf.no_grad():
        f0 = gmodel(x0)[3, labels[3]].item()
        f1 = gmodel(gf.tensor(bumped, dtype=gf.float64))[3, labels[3]].item()
    assert sal[gf].numpy()[3, 4] == pytest.approx((f1 - f0) / eps, rel=1e-4)


# ------------------------------------------------------------------ the walk shared with backward


def test_chain_that_branches_partway_matches_torch_in_backward_and_grad():
    # the walk follows the chain mean -> tanh -> mul as it is and sorts the diamond below it
    res = {}
    for lib in (gf, torch):
        x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
        h = x * 2
        d = lib.exp(h) + h * h  # h used twice, and x again below
        out = (lib.tanh(d * x) * 3).mean()
        (g,) = grad_of(lib)(out, x, retain_graph=True)
        out.backward()
        res[lib] = (g, x.grad)
    close(res[gf][0], res[torch][0])
    close(res[gf][1], res[torch][1])
