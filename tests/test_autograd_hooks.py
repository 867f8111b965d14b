"""Tensor.register_hook and Tensor.retain_grad, each compared with PyTorch on the same graph."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit.autograd import _TensorHooks


def close(actual, expected):
    a = actual.numpy() if isinstance(actual, gf.Tensor) else np.asarray(actual)
    e = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert a.shape == e.shape
    np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


def recorder(log, name, lib):
    """A hook that records a copy of the gradient it sees and returns None."""

    def hook(g):
        assert isinstance(g, gf.Tensor if lib is gf else torch.Tensor)
        log.append((name, np.array(g.numpy() if lib is gf else g.detach().numpy())))

    return hook


def assert_same_log(log_gf, log_torch):
    assert [n for n, _ in log_gf] == [n for n, _ in log_torch]
    for (_, a), (_, e) in zip(log_gf, log_torch, strict=True):
        close(a, e)


# ------------------------------------------------------------------ what hooks see


def test_hooks_on_leaf_and_non_leaf_see_the_gradients_torch_sees():
    logs = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        log = logs[lib] = []
        y = x * x
        z = lib.tanh(y)
        x.register_hook(recorder(log, "x", lib))
        y.register_hook(recorder(log, "y", lib))
        z.register_hook(recorder(log, "z", lib))
        (z * 3).sum().backward()
    assert_same_log(logs[gf], logs[torch])
    assert [n for n, _ in logs[gf]] == ["z", "y", "x"]  # each once its gradient is complete


def test_hook_argument_is_a_gradfit_tensor_that_does_not_require_grad():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(seen.append)
    (x * 2).sum().backward()
    assert type(seen[0]) is gf.Tensor and not seen[0].requires_grad


def test_hook_on_a_tensor_used_twice_sees_the_summed_gradient_once():
    logs = {}
    for lib in (gf, torch):
        x = lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)
        log = logs[lib] = []
        y = x * 3
        x.register_hook(recorder(log, "x", lib))
        y.register_hook(recorder(log, "y", lib))
        (y * y + lib.exp(y) + x * y).sum().backward()
    assert_same_log(logs[gf], logs[torch])
    assert [n for n, _ in logs[gf]] == ["y", "x"]


def test_hook_on_the_output_sees_the_upstream_gradient():
    logs = {}
    for lib in (gf, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        log = logs[lib] = []
        y = x.sum(1)
        y.register_hook(recorder(log, "y", lib))
        y.backward(lib.tensor([2.0, -1.0], dtype=lib.float64))
        log.append(("x.grad", np.array(x.grad.numpy())))
    assert_same_log(logs[gf], logs[torch])


def test_hook_on_a_leaf_that_is_the_root():
    for lib in (gf, torch):
        x = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
        x.register_hook(lambda g: g * 5)
        x.backward()
        assert x.grad.item() == 5.0


def test_hook_on_a_dropped_intermediate_still_runs_as_in_torch():
    calls = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        calls[lib] = []
        y.register_hook(calls[lib].append)
        z = (y * y).sum()
        del y
        gc.collect()
        z.backward()
    assert len(calls[gf]) == len(calls[torch]) == 1
    close(calls[gf][0], calls[torch][0])


def test_leaf_whose_last_use_gets_no_gradient_is_still_hooked_once():
    class GfBlock(gf.Function):  # lets no gradient through
        def forward(self, a):
            return a.copy()

        def backward(self, grad):
            return (None,)

    class TorchBlock(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.clone()

        @staticmethod
        def backward(ctx, grad):
            return None

    logs = {}
    for lib, block in ((gf, GfBlock), (torch, TorchBlock)):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        log = logs[lib] = []
        x.register_hook(recorder(log, "x", lib))
        # x * 3 comes after x * 2 in the walk, and no gradient reaches it
        ((x * 2).sum() + block.apply(x * 3).sum()).backward()
        log.append(("x.grad", np.array(x.grad.numpy())))
    assert_same_log(logs[gf], logs[torch])


# ------------------------------------------------------------------ replacing the gradient


def test_leaf_hook_return_value_is_what_accumulates_into_grad():
    grads = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        x.register_hook(lambda g: g * 2 + 1)
        (x**3).sum().backward()
        (x**2).sum().backward()  # accumulates a second, also replaced, gradient
        grads[lib] = x.grad
    close(grads[gf], grads[torch])


def test_non_leaf_hook_return_value_flows_on_to_the_inputs():
    grads = {}
    for lib in (gf, torch):
        a = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = a * b
        h.register_hook(lambda g: g.clamp(min=0) * 10)
        (lib.sin(h) * lib.tensor([1.0, -1.0, 2.0], dtype=lib.float64)).sum().backward()
        grads[lib] = (a.grad, b.grad)
    close(grads[gf][0], grads[torch][0])
    close(grads[gf][1], grads[torch][1])


def test_several_hooks_run_in_registration_order_each_on_the_previous_result():
    results = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * x
        order = []
        y.register_hook(lambda g, o=order: (o.append(1), g + 1)[1])
        y.register_hook(lambda g, o=order: (o.append(2), g * 3)[1])
        y.register_hook(lambda g, o=order: o.append(3))  # None: keeps the gradient
        y.sum().backward()
        results[lib] = (order, x.grad)
    assert results[gf][0] == results[torch][0] == [1, 2, 3]
    close(results[gf][1], results[torch][1])  # (1 + 1) * 3 * 2x, not (1 * 3 + 1) * 2x


# ------------------------------------------------------------------ removal


def test_removed_hook_is_not_called_and_remove_twice_is_harmless():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    h = x.register_hook(lambda g: calls.append(1) or g * 100)
    h.remove()
    h.remove()
    (x * 2).sum().backward()
    assert calls == []
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_handle_as_context_manager_removes_on_exit():
    x = gf.tensor([1.0], requires_grad=True)
    calls = []
    with x.register_hook(lambda g: calls.append(g.item())):
        (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert calls == [2.0]


def test_hook_removing_itself_runs_once_and_the_others_still_run():
    x = gf.tensor([1.0], requires_grad=True)
    calls = []

    def once(g):
        calls.append("once")
        handle.remove()

    handle = x.register_hook(once)
    x.register_hook(lambda g: calls.append("always"))
    for _ in range(2):
        (x * 2).sum().backward()
    assert calls == ["once", "always", "always"]


def test_removing_every_hook_returns_backward_to_its_plain_path():
    gc.collect()
    before = dict(_TensorHooks.live)
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    hx, hy = x.register_hook(lambda g: g), y.register_hook(lambda g: g)
    assert _TensorHooks.live == {**before, id(x): 1, id(y.grad_fn): 1}
    hx.remove()
    hy.remove()
    (y * y).sum().backward()  # the walk drops the emptied hook tables it meets
    assert _TensorHooks.live == before


# ------------------------------------------------------------------ retain_grad


def test_retain_grad_on_intermediates_of_a_small_mlp_matches_torch():
    rng = np.random.default_rng(0)
    data = {
        "x": rng.standard_normal((4, 3)),
        "w1": rng.standard_normal((3, 5)),
        "b1": rng.standard_normal(5),
        "w2": rng.standard_normal((5, 2)),
        "target": rng.standard_normal((4, 2)),
    }
    out = {}
    for lib in (gf, torch):
        t = {
            k: lib.tensor(v, dtype=lib.float64, requires_grad=k != "target")
            for k, v in data.items()
        }
        h = t["x"] @ t["w1"] + t["b1"]
        a = lib.tanh(h)
        o = a @ t["w2"]
        loss = ((o - t["target"]) ** 2).mean()
        for v in (h, a, o, loss):
            v.retain_grad()
        loss.backward()
        out[lib] = [h.grad, a.grad, o.grad, loss.grad, t["w1"].grad, t["x"].grad]
    for g, e in zip(out[gf], out[torch], strict=True):
        assert g is not None
        close(g, e)


def test_retain_grad_accumulates_over_two_backwards_with_retain_graph():
    out = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        y = x * x
        y.retain_grad()
        z = (lib.exp(y) * 0.1).sum()
        z.backward(retain_graph=True)
        first = y.grad
        first_values = np.array(first.numpy())
        z.backward()
        out[lib] = (first_values, y.grad, x.grad)
        close(first, first_values)  # the first .grad was not changed in place
    for g, e in zip(out[gf], out[torch], strict=True):
        close(g, e)


def test_retained_grad_is_the_gradient_after_the_hooks():
    out = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.retain_grad()  # registered first, still sees the hook's result, as in torch
        y.register_hook(lambda g: g * 10)
        (y * y).sum().backward()
        out[lib] = (y.grad, x.grad)
    close(out[gf][0], out[torch][0])
    close(out[gf][1], out[torch][1])


def test_retain_grad_on_the_root_and_retains_grad_flags():
    for lib in (gf, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        s = (x * 3).sum()
        assert not s.retains_grad and not x.retains_grad
        s.retain_grad()
        x.retain_grad()  # a leaf: nothing to do
        assert s.retains_grad and not x.retains_grad
        s.backward()
        assert s.grad.item() == 1.0


def test_non_leaf_without_retain_grad_has_no_grad():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    (y * y).sum().backward()
    assert y.grad is None


def test_retained_grad_after_the_tensor_is_dropped_is_not_kept_alive():
    import weakref

    x = gf.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    z = (y * y).sum()
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])


# ------------------------------------------------------------------ dtypes, modes, errors


def test_float32_stays_float32_through_hooks_and_retained_grads():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.dtype) or g * 2)
    x.register_hook(lambda g: seen.append(g.dtype))
    y.retain_grad()
    (y * y).sum().backward()
    assert seen == [np.float32, np.float32]
    assert y.grad.dtype == np.float32 and x.grad.dtype == np.float32


def test_hooks_run_without_recording_as_in_torch():
    states = {}
    for lib in (gf, torch):
        w = lib.tensor([2.0], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([1.0], dtype=lib.float64, requires_grad=True)
        made = []
        x.register_hook(lambda g, w=w, made=made: made.append(g * w) or made[-1])
        (x * 3).sum().backward()
        states[lib] = (lib.is_grad_enabled(), made[0].requires_grad, x.grad.requires_grad)
    assert states[gf] == states[torch] == (True, False, False)


def test_no_hooks_on_tensors_made_under_no_grad():
    for lib in (gf, torch):
        w = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            y = w * 2
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            y.register_hook(lambda g: g)
        with pytest.raises(RuntimeError, match="retain_grad"):
            y.retain_grad()
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            lib.ones(2).register_hook(lambda g: g)


def test_computing_under_no_grad_calls_no_hook():
    w = gf.ones(2, requires_grad=True)
    calls = []
    w.register_hook(calls.append)
    with gf.no_grad():
        y = (w * 2).sum()
    with pytest.raises(RuntimeError):
        y.backward()
    assert calls == [] and w.grad is None


def test_error_messages_name_register_hook():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"register_hook: .* shape \(1,\) .* shape \(2,\)"):
        y = x * 2
        y.register_hook(lambda g: g[:1])
        y.sum().backward()
    with pytest.raises(RuntimeError, match=r"register_hook: .* dtype float64 .* dtype float32"):
        y = x * 2
        y.register_hook(lambda g: g.double())
        y.sum().backward()
    with pytest.raises(TypeError, match="register_hook: hook .* returned ndarray"):
        z = gf.tensor([1.0], requires_grad=True)
        z.register_hook(lambda g: g.numpy() * 2)
        (z * 2).sum().backward()
    with pytest.raises(TypeError, match="register_hook: hook must be callable"):
        x.register_hook(3)


def test_exception_in_a_hook_propagates_and_restores_grad_mode():
    x = gf.tensor([1.0], requires_grad=True)

    def bad(g):
        raise KeyError("from the hook")

    x.register_hook(bad)
    with pytest.raises(KeyError, match="from the hook"):
        (x * 2).sum().backward()
    assert gf.is_grad_enabled()


def test_hook_keeping_its_argument_does_not_see_later_accumulation():
    kept = {}
    for lib in (gf, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        kept[lib] = []
        x.register_hook(kept[lib].append)
        for _ in range(2):
            (x * 2).sum().backward()
        kept[lib].append(x.grad)
    for g, e in zip(kept[gf], kept[torch], strict=True):
        close(g, e)


def test_hook_returning_a_tensor_it_keeps_is_not_changed_by_accumulation():
    const = gf.tensor([5.0, 5.0], dtype="float64")
    x = gf.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    x.register_hook(lambda g: const)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])
    np.testing.assert_allclose(const.numpy(), [5.0, 5.0])


# ------------------------------------------------------------------ views, in-place, versions


def test_hooks_on_views_match_torch():
    logs = {}
    for lib in (gf, torch):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
        log = logs[lib] = []
        v = x[:, 1:]
        r = x.reshape(3, 2)
        v.register_hook(recorder(log, "v", lib))
        r.register_hook(lambda g: g * 2)
        r.retain_grad()
        ((v * v).sum() + (r**3).sum()).backward()
        log.append(("r.grad", np.array(r.grad.numpy())))
        log.append(("x.grad", np.array(x.grad.numpy())))
    assert_same_log(logs[gf], logs[torch])


def test_in_place_change_is_still_caught_with_hooks_and_retain_grad():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    y = gf.exp(x)  # saves its output
    y.register_hook(lambda g: g)
    y.retain_grad()
    z = (y * 2).sum()
    with gf.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.backward()


def test_leaf_hook_survives_in_place_updates_between_steps():
    logs = {}
    for lib in (gf, torch):
        w = lib.tensor([1.0, -1.0], dtype=lib.float64, requires_grad=True)
        log = logs[lib] = []
        w.register_hook(recorder(log, "w", lib))
        for _ in range(3):
            (w**2).sum().backward()
            with lib.no_grad():
                w -= 0.1 * w.grad
            w.grad = None
        log.append(("w", np.array(w.detach().numpy())))
    assert_same_log(logs[gf], logs[torch])


def test_leaf_hook_argument_shared_with_another_leafs_grad_is_not_changed_later():
    kept = {}
    for lib in (gf, torch):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        c = lib.tensor([2.0, -1.0], dtype=lib.float64)
        kept[lib] = []
        a.register_hook(kept[lib].append)
        for _ in range(2):
            ((a + b) * c).sum().backward()  # a and b get the same gradient
        kept[lib] += [a.grad, b.grad]
    for g, e in zip(kept[gf], kept[torch], strict=True):
        close(g, e)


def test_non_leaf_hook_argument_passed_on_to_a_leaf_is_not_changed_later():
    kept = {}
    for lib in (gf, torch):
        b = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        c = lib.tensor([2.0, -1.0], dtype=lib.float64)
        kept[lib] = []
        for _ in range(2):
            p = b + 1.0  # its backward passes the gradient on unchanged
            p.register_hook(kept[lib].append)
            (p * c).sum().backward()
        kept[lib].append(b.grad)
    for g, e in zip(kept[gf], kept[torch], strict=True):
        close(g, e)


def test_a_leaf_complete_early_is_hooked_before_the_rest_of_the_walk_as_in_torch():
    logs = {}
    for lib in (gf, torch):
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([3.0, -1.0], dtype=lib.float64, requires_grad=True)
        log = logs[lib] = []
        y = w * 2
        for name, t in (("w", w), ("x", x), ("y", y)):
            t.register_hook(recorder(log, name, lib))
        (y * x).sum().backward()  # x's gradient is complete right after the last product
    assert_same_log(logs[gf], logs[torch])
    assert [n for n, _ in logs[gf]] == ["x", "y", "w"]
