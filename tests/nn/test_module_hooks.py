"""Forward hooks and pre-hooks on Module: the same scenarios run on gradfit and on PyTorch."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gradfit as gf
from gradfit import nn
from gradfit.hooks import RemovableHandle

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") and hasattr(t, "numpy") else t.numpy()


def _both(build):
    """Run ``build(lib)`` on gradfit and torch; return both results."""
    return build(gf), build(torch)


def _net(lib):
    """A two-level model that is not a Sequential: Outer(inner=Inner(fc), act, head)."""
    base = lib.nn.Module

    class Inner(base):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 4)

        def forward(self, x):
            return self.fc(x)

    class Outer(base):
        def __init__(self):
            super().__init__()
            self.inner = Inner()
            self.act = lib.nn.ReLU()
            self.head = lib.nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.act(self.inner(x)))

    return Outer()


def _same_weights(g, t):
    with torch.no_grad():
        for (gn, gp), (tn, tp) in zip(g.named_parameters(), t.named_parameters()):
            assert gn == tn
            tp.copy_(torch.from_numpy(np.array(gp._data)))


def _x(lib, shape=(5, 3), seed=0):
    arr = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return gf.tensor(arr) if lib is gf else torch.from_numpy(arr)


def test_hooks_run_in_registration_order_around_forward_like_torch():
    def run(lib):
        log = []
        m = _net(lib)
        names = {id(mod): name or "model" for name, mod in m.named_modules()}
        for mod in m.modules():
            for k in (1, 2):
                mod.register_forward_pre_hook(
                    lambda mm, args, k=k: log.append(("pre", names[id(mm)], k, len(args)))
                )
                mod.register_forward_hook(
                    lambda mm, args, out, k=k: log.append(("post", names[id(mm)], k, out.shape))
                )
        m(_x(lib))
        return [(a, b, c, tuple(d) if a == "post" else d) for a, b, c, d in log]

    ours, theirs = _both(run)
    assert ours == theirs
    # nested modules each called their own hooks: parent pre before child, child post first
    assert ours[0][:2] == ("pre", "model") and ours[-1][:2] == ("post", "model")
    assert {n for _, n, _, _ in ours} == {"model", "inner", "inner.fc", "act", "head"}


def test_pre_hook_replaces_args_tuple_or_single_value_like_torch():
    for mode in ("none", "tuple", "single"):

        def run(lib, mode=mode):
            m = _net(lib)
            seen = []

            def pre(mod, args):
                if mode == "none":
                    return None
                doubled = args[0] * 2
                return (doubled,) if mode == "tuple" else doubled

            m.head.register_forward_pre_hook(pre)
            m.head.register_forward_hook(lambda mod, args, out: seen.append(_np(args[0])))
            return m, m(_x(lib)), seen

        (gm, gout, gseen), (tm, tout, tseen) = _both(run)
        _same_weights(gm, tm)
        gout, tout = gm(_x(gf)), tm(_x(torch))  # same weights now, so same numbers
        np.testing.assert_allclose(_np(gout), _np(tout), rtol=1e-5, atol=1e-6)
        # the forward hook saw the replaced args (a tuple, even for a single return value)
        hidden = _np(gm.act(gm.inner(_x(gf))))
        factor = 1 if mode == "none" else 2
        np.testing.assert_allclose(gseen[-1], factor * hidden, rtol=1e-6)
        np.testing.assert_allclose(gseen[-1], tseen[-1], rtol=1e-5, atol=1e-6)


def test_forward_hook_replaces_output_and_later_hooks_see_it_like_torch():
    def run(lib):
        m = lib.nn.ReLU()
        seen = []
        m.register_forward_hook(lambda mod, args, out: out + 1)
        m.register_forward_hook(lambda mod, args, out: seen.append(_np(out).copy()))  # None
        m.register_forward_hook(lambda mod, args, out: out * 10)
        return _np(m(_x(lib, (2, 3)))), seen

    (gout, gseen), (tout, tseen) = _both(run)
    relu = np.maximum(_np(_x(gf, (2, 3))), 0)
    np.testing.assert_allclose(gseen[0], relu + 1, rtol=1e-6)
    np.testing.assert_allclose(gout, (relu + 1) * 10, rtol=1e-6)
    np.testing.assert_allclose(gout, tout, rtol=1e-6)
    np.testing.assert_allclose(gseen[0], tseen[0], rtol=1e-6)


def test_prepend_puts_the_hook_first_like_torch():
    def run(lib):
        log = []
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, a: log.append("pre-a"))
        m.register_forward_pre_hook(lambda mod, a: log.append("pre-b"), prepend=True)
        m.register_forward_pre_hook(lambda mod, a: log.append("pre-c"))
        m.register_forward_hook(lambda mod, a, o: log.append("post-a"))
        m.register_forward_hook(lambda mod, a, o: log.append("post-b"), prepend=True)
        m.register_forward_hook(lambda mod, a, o: log.append("post-c"), prepend=True)
        m(_x(lib))
        return log

    ours, theirs = _both(run)
    assert ours == theirs
    assert ours == ["pre-b", "pre-a", "pre-c", "post-c", "post-b", "post-a"]


def test_remove_is_idempotent_and_with_block_removes_like_torch():
    def run(lib):
        log = []
        m = lib.nn.Identity()
        h1 = m.register_forward_hook(lambda mod, a, o: log.append(1))
        h2 = m.register_forward_hook(lambda mod, a, o: log.append(2))
        m(_x(lib))
        h1.remove()
        h1.remove()  # a second remove does nothing
        m(_x(lib))
        with m.register_forward_pre_hook(lambda mod, a: log.append("ctx")) as h3:
            m(_x(lib))
        m(_x(lib))
        h2.remove()
        m(_x(lib))
        return log, type(h3).__name__, [len(m._forward_hooks), len(m._forward_pre_hooks)]

    ours, theirs = _both(run)
    assert ours == theirs
    assert ours[0] == [1, 2, 2, "ctx", 2, 2]
    assert ours[2] == [0, 0]


def test_with_block_removes_the_hook_when_forward_raises():
    m = nn.Linear(3, 2)
    log = []
    with pytest.raises(ValueError), m.register_forward_hook(lambda mod, a, o: log.append(1)):
        m(gf.randn(2, 5))  # wrong shape
    assert len(m._forward_hooks) == 0
    m(gf.randn(2, 3))
    assert log == []


def test_a_hook_may_remove_itself_while_hooks_run():
    def run(lib):
        log = []
        m = lib.nn.Identity()
        handles = []
        handles.append(m.register_forward_hook(lambda mod, a, o: handles[0].remove()))
        m.register_forward_hook(lambda mod, a, o: log.append("after"))
        m(_x(lib))
        m(_x(lib))
        return log, len(m._forward_hooks)

    ours, theirs = _both(run)
    assert ours == theirs == (["after", "after"], 1)


def test_keyword_arguments_reach_forward_but_not_the_hooks():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    seen = []
    m.register_forward_pre_hook(lambda mod, args: seen.append(len(args)))
    out = m(gf.ones(2), factor=3.0)
    np.testing.assert_array_equal(out.numpy(), [3.0, 3.0])
    assert seen == [1]


def test_hooks_are_not_in_state_dict_parameters_or_repr():
    m = _net(gf)
    before = (list(m.state_dict()), [n for n, _ in m.named_parameters()], repr(m))
    m.register_forward_hook(lambda mod, a, o: None)
    m.inner.fc.register_forward_pre_hook(lambda mod, a: None)
    after = (list(m.state_dict()), [n for n, _ in m.named_parameters()], repr(m))
    assert after == before
    tm = _net(torch)
    tm.register_forward_hook(lambda mod, a, o: None)
    assert list(m.state_dict()) == list(tm.state_dict())
    # the hook tables are plain entries of the instance __dict__, like _parameters
    assert "_forward_hooks" in m.__dict__ and "_forward_pre_hooks" in m.__dict__
    assert len(m.__dict__["_forward_hooks"]) == 1
    # and load_state_dict still round-trips with hooks registered
    m2 = _net(gf)
    m2.load_state_dict(m.state_dict())


def test_deepcopy_copies_the_hooks_like_torch():
    def run(lib):
        log = []
        m = _net(lib)
        h = m.act.register_forward_hook(lambda mod, a, o: log.append(id(mod)))
        c = copy.deepcopy(m)
        c(_x(lib))
        m(_x(lib))
        calls = [log == [id(c.act), id(m.act)]]
        h.remove()  # removes the original's hook only
        log.clear()
        c(_x(lib))
        m(_x(lib))
        calls.append(log == [id(c.act)])
        # a handle copied together with its module belongs to the copy
        c2, h2 = copy.deepcopy((c, c.act.register_forward_hook(lambda mod, a, o: None)))
        counts = [len(c.act._forward_hooks), len(c2.act._forward_hooks)]
        h2.remove()
        counts += [len(c.act._forward_hooks), len(c2.act._forward_hooks)]
        copy.deepcopy(h2).remove()  # a copied handle of nothing removes nothing, no error
        return calls, counts

    ours, theirs = _both(run)
    assert ours == theirs
    assert ours == ([True, True], [2, 2, 2, 1])


def test_handle_keeps_no_module_alive_and_ids_are_unique():
    m = nn.ReLU()
    h1 = m.register_forward_hook(lambda mod, a, o: None)
    h2 = m.register_forward_pre_hook(lambda mod, a: None)
    assert isinstance(h1, RemovableHandle) and h1.id != h2.id
    assert "active" in repr(h1)
    del m
    h1.remove()  # the module is gone: nothing to do, no error
    assert "removed" in repr(h1)


def test_a_non_callable_hook_is_refused():
    with pytest.raises(TypeError, match="callable"):
        nn.ReLU().register_forward_hook(3)
    with pytest.raises(TypeError, match="callable"):
        nn.ReLU().register_forward_pre_hook("hook")


def test_hooks_record_the_intermediate_activations_of_cnn1d():
    gf.manual_seed(0)
    model = gf.models.cnn1d()
    assert not isinstance(model, nn.Sequential)
    acts = {}

    def record(name):
        def hook(module, args, output):
            acts[name] = output.numpy().copy()

        return hook

    handles = [model.get_submodule(n).register_forward_hook(record(n)) for n in ("conv1", "linear")]
    x = gf.randn(4, 40)
    with gf.no_grad():
        out = model(x)
    for h in handles:
        h.remove()
    # recomputed by hand from the layers: the hooks saw exactly what forward computed
    with gf.no_grad():
        conv1 = model.conv1(x.reshape(4, 1, 40))
        h3 = model.conv3(model.conv2(conv1.relu()).relu()).relu()
    np.testing.assert_array_equal(acts["conv1"], conv1.numpy())
    np.testing.assert_array_equal(acts["linear"], out.numpy())
    np.testing.assert_allclose(
        acts["linear"], model.linear(h3.reshape(4, -1)).numpy(), rtol=1e-6, atol=1e-6
    )
    assert acts["conv1"].shape == (4, 25, 19)
    # removed: another pass records nothing new
    acts.clear()
    model(x)
    assert acts == {}


def test_forward_pre_hook_with_kwargs_sees_and_replaces_keywords_as_torch():
    import torch

    seen = {}

    def hook(module, args, kwargs):
        seen[type(module).__module__.split(".")[0]] = sorted(kwargs)
        return args, {**kwargs, "src_key_padding_mask": None}

    for lib in (gf, torch):
        layer = lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0)
        handle = layer.register_forward_pre_hook(hook, with_kwargs=True)
        mask = lib.zeros(2, 3, dtype=lib.bool)
        out = layer(lib.randn(3, 2, 4), src_key_padding_mask=mask)
        assert tuple(out.shape) == (3, 2, 4)
        handle.remove()
    assert seen["gradfit"] == seen["torch"] == ["src_key_padding_mask"]
