"""Gradients of gradients (create_graph=True) compared with torch, and gradgradcheck.

For each op: the first gradient (with create_graph) is reduced with random weights
and differentiated again, in gradfit and in torch on the same float64 data; the
second gradients must agree. gradgradcheck compares with finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradfit as gf
import strategies
from oracle import assert_close

torch.set_num_threads(1)


def _lib(lib):
    return (gf, gf.nn.functional) if lib is gf else (torch, torch.nn.functional)


def second_order(fn, arrays, ints=(), rtol=1e-9, atol=1e-10, seed=0):
    """fn(lib, F, *tensors): compare d/dx [sum_i v_i . d(w . fn)/dx_i] with torch."""
    rng = np.random.default_rng(seed)
    res = {}
    for lib in (gf, torch):
        mod, F = _lib(lib)
        xs = [mod.tensor(a.copy(), requires_grad=True) for a in arrays]
        consts = [mod.tensor(a.copy()) for a in ints]
        out = fn(mod, F, *xs, *consts)
        r = np.random.default_rng(seed)
        w = mod.tensor(r.standard_normal(tuple(out.shape)))
        grads = mod.autograd.grad((out * w).sum(), xs, create_graph=True, allow_unused=True)
        z = None
        for g, a in zip(grads, arrays):
            if g is None or not g.requires_grad:
                continue
            term = (g * mod.tensor(r.standard_normal(a.shape))).sum()
            z = term if z is None else z + term
        second = (None,) * len(xs) if z is None else mod.autograd.grad(z, xs, allow_unused=True)
        res[lib] = (grads, second)
    del rng
    for k in range(len(arrays)):
        for level in (0, 1):
            a, e = res[gf][level][k], res[torch][level][k]
            if e is None:
                assert a is None or np.allclose(a.numpy(), 0), f"input {k} level {level}"
                continue
            assert a is not None, f"input {k}: gradfit gave no gradient at level {level}"
            assert_close(
                a.detach(), e.detach(), rtol=rtol, atol=atol, what=f"x{k} order {level + 1}"
            )


R = np.random.default_rng(42)


def rn(*shape, pos=False):
    a = R.standard_normal(shape)
    return np.abs(a) + 0.5 if pos else a


UNARY = {
    "exp": lambda m, F, x: x.exp(),
    "log": lambda m, F, x: (x * x + 0.5).log(),
    "log1p": lambda m, F, x: (x * x).log1p(),
    "sqrt": lambda m, F, x: (x * x + 0.1).sqrt(),
    "tanh": lambda m, F, x: x.tanh(),
    "sigmoid": lambda m, F, x: x.sigmoid(),
    "relu": lambda m, F, x: F.relu(x) * x,
    "abs": lambda m, F, x: x.abs() * x,
    "sin": lambda m, F, x: x.sin(),
    "cos": lambda m, F, x: x.cos(),
    "softplus": lambda m, F, x: F.softplus(x, beta=2.0),
    "gelu": lambda m, F, x: F.gelu(x),
    "gelu_tanh": lambda m, F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda m, F, x: F.silu(x),
    "leaky_relu": lambda m, F, x: F.leaky_relu(x, 0.1) * x,
    "elu": lambda m, F, x: F.elu(x, alpha=0.7),
    "neg_pow": lambda m, F, x: -(x**3) + (x * x + 1) ** 0.5 + (x * x) ** 2 + (x * x + 1) ** -1.5,
    "rpow": lambda m, F, x: 2.0**x,
    "scalar": lambda m, F, x: (x + 1.5) * 3.0 - 2.0 / (x * x + 1),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_second_order(name):
    second_order(UNARY[name], [rn(2, 3)])
    second_order(UNARY[name], [rn()])  # 0-d


BINARY = {
    "add": lambda m, F, a, b: (a + b) * a,
    "sub": lambda m, F, a, b: (a - b) * b,
    "mul": lambda m, F, a, b: a * b * a,
    "div": lambda m, F, a, b: a / (b * b + 1),
    "pow": lambda m, F, a, b: (a * a + 1) ** b,
    "maximum": lambda m, F, a, b: m.maximum(a, b) * a,
    "minimum": lambda m, F, a, b: m.minimum(a, b) * b,
    "where": lambda m, F, a, b: m.where(a > 0, a * a, b * b * b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (1, 3)), ((3,), (2, 3))])
def test_binary_second_order(name, shapes):
    second_order(BINARY[name], [rn(*shapes[0]), rn(*shapes[1])])


@pytest.mark.parametrize(
    "sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 2, 3), (3, 4))]
)
def test_matmul_shapes(sa, sb):
    second_order(lambda m, F, a, b: (a @ b) ** 2, [rn(*sa), rn(*sb)])
    second_order(lambda m, F, a, b: (a @ b).tanh(), [rn(*sa), rn(*sb)])


def test_linear_and_clamp():
    second_order(lambda m, F, x, w, b: F.linear(x, w, b).tanh(), [rn(2, 2, 3), rn(4, 3), rn(4)])
    second_order(lambda m, F, x: x.clamp(-0.5, 0.5) * x + x.clamp(min=0.1) ** 2, [rn(2, 3)])
    second_order(
        lambda m, F, x, lo, hi: m.clamp(x, lo, hi) * x, [rn(3, 2), rn(3, 2) - 1, rn(3, 2) + 1]
    )


REDUCE = {
    "sum": lambda m, F, x: (x.sum(1) ** 2).sum() + x.sum() ** 2,
    "mean": lambda m, F, x: x.mean(0, keepdim=True) ** 3,
    "amax": lambda m, F, x: x.amax(1) ** 2,
    "max_dim": lambda m, F, x: x.max(dim=0).values ** 2,
    "var": lambda m, F, x: x.var(dim=1) * x.var(),
    "std": lambda m, F, x: x.std(dim=0, keepdim=True) ** 2 + x.std(),
    "norm": lambda m, F, x: x.norm() * x.norm(dim=1).sum(),
    "logsumexp": lambda m, F, x: x.logsumexp(1) ** 2,
    "softmax": lambda m, F, x: F.softmax(x, dim=1) ** 2,
    "log_softmax": lambda m, F, x: F.log_softmax(x, dim=0) ** 2,
}


@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reduce_second_order(name):
    second_order(REDUCE[name], [rn(3, 4)])


SHAPE = {
    "reshape": lambda m, F, x: x.reshape(4, 3) ** 3,
    "view_flatten": lambda m, F, x: x.view(12).flatten() ** 3,
    "permute": lambda m, F, x: x.permute(1, 0) ** 3,
    "transpose": lambda m, F, x: x.transpose(0, 1) ** 3,
    "getitem": lambda m, F, x: x[1:, ::2] ** 3 + x[[0, 0, 2]].sum() ** 2,
    "expand": lambda m, F, x: x[:1].expand(3, 4) ** 3,
    "broadcast": lambda m, F, x: m.broadcast_to(x[:, :1], (3, 4)) ** 3,
    "cat": lambda m, F, x: m.cat([x, x * x], dim=1) ** 2,
    "stack": lambda m, F, x: m.stack([x, x * x], dim=1) ** 2,
    "squeeze": lambda m, F, x: x.unsqueeze(0).unsqueeze(2).squeeze() ** 3,
    "clone": lambda m, F, x: x.clone() ** 3,
    "flip_repeat": lambda m, F, x: (x.flip(0).repeat(2, 1)) ** 3,
}


@pytest.mark.parametrize("name", sorted(SHAPE))
def test_shape_second_order(name):
    second_order(SHAPE[name], [rn(3, 4)])


def test_losses_second_order():
    y = np.array([0, 2, 1])
    second_order(lambda m, F, x, y: F.cross_entropy(x * x, y), [rn(3, 4)], ints=[y])
    second_order(
        lambda m, F, x, y: F.cross_entropy(x.tanh(), y, label_smoothing=0.2, reduction="sum"),
        [rn(3, 4)],
        ints=[y],
    )
    p = np.abs(rn(3, 4))
    second_order(
        lambda m, F, x, p: F.cross_entropy(x**3, p / p.sum(1, keepdim=True)), [rn(3, 4)], ints=[p]
    )
    second_order(lambda m, F, x, t: F.mse_loss(x.tanh(), t), [rn(3, 4), rn(3, 4)])
    second_order(lambda m, F, x, t: F.mse_loss(x * x, t, reduction="none"), [rn(3, 4), rn(3, 4)])


def test_embedding_second_order(kernel_path):
    idx = np.array([[0, 3], [3, 1]])
    second_order(lambda m, F, w, i: F.embedding(i, w).sin(), [rn(4, 3)], ints=[idx])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: (x * x * x).sin() / (x.exp() + 1),
        lambda x: gf.nn.functional.log_softmax(x.tanh(), dim=1) * x,
        lambda x: (x @ x.T).logsumexp(1) + x.var(dim=0).sum() + x.norm(),
        lambda x: gf.nn.functional.gelu(x) * gf.nn.functional.silu(x),
        lambda x: gf.cat([x[1:], x[:1] ** 2]).amax(0) * x.std(),
    ],
)
def test_gradgradcheck(fn):
    x = gf.tensor(rn(3, 2), requires_grad=True)
    assert gf.gradgradcheck(fn, [x])
    assert gf.autograd.gradgradcheck is gf.gradgradcheck


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class Cube(gf.Function):
        def forward(self, x):
            self.saved = (x,)
            return x**3

        def backward(self, grad):
            return (3 * self.saved[0] ** 2 * grad,)

        def backward_graph(self, grad):
            # the right value, but as a constant: its derivative in x (6 x) is lost
            return (grad * gf.tensor(3 * self.saved[0] ** 2),)

    x = gf.tensor(rn(3), requires_grad=True)
    with pytest.raises(gf.GradcheckError):
        gf.gradgradcheck(lambda t: Cube.apply(t), [x])


def test_third_order_of_x4():
    x = gf.tensor([1.5, -2.0, 0.5], dtype=gf.float64, requires_grad=True)
    (g1,) = gf.autograd.grad((x**4).sum(), x, create_graph=True)
    (g2,) = gf.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = gf.autograd.grad(g2.sum(), x, create_graph=True)
    (g4,) = gf.autograd.grad(g3.sum(), x)
    xv = x.detach().numpy()
    np.testing.assert_allclose(g1.detach().numpy(), 4 * xv**3)
    np.testing.assert_allclose(g2.detach().numpy(), 12 * xv**2)
    np.testing.assert_allclose(g3.detach().numpy(), 24 * xv)
    np.testing.assert_allclose(g4.numpy(), np.full(3, 24.0))


def test_backward_create_graph_fills_grad_in_the_graph():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.dtype == gf.float32
    gx = x.grad
    x.grad = None
    gx.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])


def test_grad_outputs_stay_in_the_graph_float32():
    x = gf.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = gf.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (g,) = gf.autograd.grad(x.tanh(), x, v, create_graph=True)
    assert g.dtype == gf.float32
    gv, gx = gf.autograd.grad(g.sum(), [v, x])
    xt = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    vt = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (gt,) = torch.autograd.grad(xt.tanh(), xt, vt, create_graph=True)
    gvt, gxt = torch.autograd.grad(gt.sum(), [vt, xt])
    assert_close(gv, gvt, rtol=1e-5, atol=1e-6)
    assert_close(gx, gxt, rtol=1e-5, atol=1e-6)


def test_unsupported_op_names_itself():
    class Twice(gf.Function):  # an op with a backward and no backward_graph
        def forward(self, x):
            return x * 2

        def backward(self, grad):
            return (grad * 2,)

    x = gf.tensor([1.0, 0.0, 3.0], requires_grad=True)
    (g,) = gf.autograd.grad(Twice.apply(x).sum(), x)  # first order works
    assert g.shape == (3,)
    with pytest.raises(NotImplementedError, match="double backward is not implemented for Twice"):
        gf.autograd.grad(Twice.apply(x).sum(), x, create_graph=True)


def test_shared_gradients_are_not_aliased():
    a = gf.tensor([1.0, 2.0], requires_grad=True)
    b = gf.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad
    a.grad.data.mul_(0)  # writeable, and b's is not touched
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def _mlp(lib, params, x):
    w1, b1, w2, b2 = params
    F = _lib(lib)[1]
    return F.linear(F.linear(x, w1, b1).tanh(), w2, b2)


def test_mlp_hessian_vector_product():
    rng = np.random.default_rng(3)
    shapes = [(5, 4), (5,), (2, 5), (2,)]
    arrays = [rng.standard_normal(s) for s in shapes]
    vecs = [rng.standard_normal(s) for s in shapes]
    x, y = rng.standard_normal((6, 4)), np.array([0, 1, 1, 0, 1, 0])
    out = {}
    for lib in (gf, torch):
        mod, F = _lib(lib)
        ps = [mod.tensor(a.copy(), requires_grad=True) for a in arrays]
        loss = F.cross_entropy(_mlp(lib, ps, mod.tensor(x)), mod.tensor(y))
        gs = mod.autograd.grad(loss, ps, create_graph=True)
        dot = sum((g * mod.tensor(v)).sum() for g, v in zip(gs, vecs))
        out[lib] = mod.autograd.grad(dot, ps)
    for a, e in zip(out[gf], out[torch]):
        assert_close(a, e, rtol=1e-9, atol=1e-11)


def test_wgan_gp_penalty_step():
    rng = np.random.default_rng(4)
    real, fake, eps = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.random((4, 1))
    arrays = [rng.standard_normal((8, 3)), rng.standard_normal(8), rng.standard_normal((1, 8))]
    out = {}
    for lib in (gf, torch):
        mod, F = _lib(lib)
        w1, b1, w2 = [mod.tensor(a.copy(), requires_grad=True) for a in arrays]
        e = mod.tensor(eps)
        xi = (e * mod.tensor(real) + (1 - e) * mod.tensor(fake)).requires_grad_(True)
        critic = F.linear(F.leaky_relu(F.linear(xi, w1, b1), 0.2), w2)
        (g,) = mod.autograd.grad(critic.sum(), xi, create_graph=True)
        penalty = ((g.norm(dim=1) - 1) ** 2).mean()
        loss = F.linear(mod.tensor(fake), w1, b1).tanh().mean() + 10 * penalty
        loss.backward()
        out[lib] = [penalty.detach()] + [t.grad for t in (w1, b1, w2)]
    for a, e in zip(out[gf], out[torch]):
        assert_close(a, e, rtol=1e-9, atol=1e-11)


def test_maml_inner_outer_step_on_sine():
    rng = np.random.default_rng(5)
    xs, xq = rng.uniform(-3, 3, (5, 1)), rng.uniform(-3, 3, (5, 1))
    amp, phase = 1.3, 0.4
    ys, yq = amp * np.sin(xs + phase), amp * np.sin(xq + phase)
    arrays = [
        rng.standard_normal((8, 1)) * 0.5,
        np.zeros(8),
        rng.standard_normal((1, 8)) * 0.5,
        np.zeros(1),
    ]
    out = {}
    for lib in (gf, torch):
        mod, F = _lib(lib)
        ps = [mod.tensor(a.copy(), requires_grad=True) for a in arrays]
        inner = F.mse_loss(_mlp(lib, ps, mod.tensor(xs)), mod.tensor(ys))
        gs = mod.autograd.grad(inner, ps, create_graph=True)
        fast = [p - 0.1 * g for p, g in zip(ps, gs)]
        outer = F.mse_loss(_mlp(lib, fast, mod.tensor(xq)), mod.tensor(yq))
        outer.backward()
        out[lib] = [outer.detach()] + [p.grad for p in ps]
    for a, e in zip(out[gf], out[torch]):
        assert_close(a, e, rtol=1e-9, atol=1e-11)


def test_first_order_grads_carry_no_graph():
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    (g,) = gf.autograd.grad((x**3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def test_nll_bce_dropout_second_order():
    y = np.array([1, 0, 3])
    second_order(
        lambda m, F, x, y: F.nll_loss(F.log_softmax(x * x, dim=1), y), [rn(3, 4)], ints=[y]
    )
    second_order(
        lambda m, F, x, y: F.nll_loss(x.tanh(), y, reduction="none", ignore_index=0),
        [rn(3, 4)],
        ints=[y],
    )
    t = (R.random((3, 4)) > 0.5).astype(np.float64)
    second_order(
        lambda m, F, x, t: F.binary_cross_entropy_with_logits(x * x, t), [rn(3, 4)], ints=[t]
    )
    pw = np.abs(rn(4)) + 0.5
    second_order(
        lambda m, F, x, t, pw: F.binary_cross_entropy_with_logits(
            x**3, t, pos_weight=pw, reduction="sum"
        ),
        [rn(3, 4)],
        ints=[t, pw],
    )
    x = gf.tensor(rn(3, 4), requires_grad=True)
    y = gf.nn.functional.dropout(x, 0.5)
    (g,) = gf.autograd.grad((y**3).sum(), x, create_graph=True)
    (h,) = gf.autograd.grad(g.sum(), x)
    mask = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy() * mask**3)


def test_torch_style_function_double_backward():
    class Cube(gf.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    class Once(Cube):
        @staticmethod
        @gf.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    x = gf.tensor([1.0, -2.0], requires_grad=True)
    (g,) = gf.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = gf.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [6.0, -12.0])
    with pytest.raises(RuntimeError, match="once_differentiable"):
        gf.autograd.grad(Once.apply(x).sum(), x, create_graph=True)


def test_layer_norm_second_order():
    second_order(
        lambda m, F, x, w, b: F.layer_norm(x * x, (4,), w, b, eps=1e-3).tanh(),
        [rn(3, 4), rn(4), rn(4)],
    )
    second_order(lambda m, F, x: F.layer_norm(x, (2, 4)) ** 3, [rn(3, 2, 4)])
    second_order(lambda m, F, x: F.layer_norm(x**3, (4,)) ** 2, [rn(4)])


def test_hooks_retain_grad_and_non_leaf_inputs_under_create_graph():
    res = {}
    for lib in (gf, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = x.sin()
        h.retain_grad()
        h.register_hook(lambda g: g * 2)
        y = (h**3).sum()
        gh, gx = lib.autograd.grad(y, [h, x], create_graph=True)
        (gg,) = lib.autograd.grad((gx * gx).sum() + gh.sum(), x)
        res[lib] = (gh, gx, gg)
    for a, e in zip(res[gf], res[torch]):
        assert_close(a.detach(), e.detach(), rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph")
def test_leaf_hook_and_accumulation_under_backward_create_graph():
    res = {}
    for lib in (gf, torch):
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        x.register_hook(lambda g: g * 3)
        (x**3).sum().backward(create_graph=True)
        (x.exp()).sum().backward(create_graph=True)  # accumulates into x.grad
        first = x.grad
        x.grad = None
        first.sum().backward()
        res[lib] = (first, x.grad)
    for a, e in zip(res[gf], res[torch]):
        assert_close(a.detach(), e.detach(), rtol=1e-12, atol=1e-12)


HYP_BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "where"]


@settings(max_examples=12, deadline=None)
@given(shapes=strategies.pair_shapes, name=st.sampled_from(HYP_BINARY), seed=strategies.seeds)
def test_binary_second_order_broadcast_shapes(shapes, name, seed):
    sa, sb = shapes.input_shapes
    a = strategies.rand(sa, np.float64, seed)
    b = strategies.rand(sb, np.float64, seed + 1)
    second_order(BINARY[name], [a, b], seed=seed)


@settings(max_examples=10, deadline=None)
@given(sd=strategies.shape_and_dims(), seed=strategies.seeds)
def test_reductions_second_order_hypothesis_dims(sd, seed):
    shape, dims = sd
    x = strategies.rand(shape, np.float64, seed)
    if dims is None:
        fn = lambda m, F, x: x.sum() ** 2 + x.mean() ** 3 + x.logsumexp(tuple(range(x.ndim))) ** 2
    else:
        fn = lambda m, F, x: (
            x.sum(dims, keepdim=True) ** 2 + x.mean(dims) ** 3 + x.logsumexp(dims) ** 2
        )
    second_order(fn, [x], seed=seed)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(stride=2, padding=1),
        dict(padding=2, dilation=2),
        dict(stride=(2, 1), padding=(1, 0)),
    ],
)
def test_conv2d_second_order(kw):
    second_order(
        lambda m, F, x, w, b: F.conv2d(x * x, w, b, **kw).tanh(),
        [rn(2, 2, 5, 6), rn(3, 2, 3, 2), rn(3)],
    )


def test_conv1d_second_order_and_gradgradcheck():
    second_order(
        lambda m, F, x, w: F.conv1d(x, w, stride=2, padding=1) ** 2, [rn(2, 2, 7), rn(3, 2, 3)]
    )
    x = gf.tensor(rn(1, 2, 5), requires_grad=True)
    w = gf.tensor(rn(2, 2, 2), requires_grad=True)
    assert gf.gradgradcheck(lambda x, w: gf.nn.functional.conv1d(x, w, padding=1).sin(), [x, w])


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_second_order(training):
    rm, rv = np.abs(rn(3)), np.abs(rn(3)) + 0.5

    def fn(m, F, x, w, b):
        return F.batch_norm(
            x * x, m.tensor(rm), m.tensor(rv), w, b, training=training, eps=1e-3
        ).tanh()

    second_order(fn, [rn(4, 3, 2), rn(3), rn(3)])
    second_order(lambda m, F, x: F.batch_norm(x**3, None, None, training=True) ** 2, [rn(5, 3)])
