"""Check analytic gradients against central finite differences in float64.

Example:
    >>> import gradfit as gf
    >>> x = gf.randn(3, dtype="float64", requires_grad=True)
    >>> gf.gradcheck(lambda t: (t.tanh() * t).sum(), [x])
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradfit.autograd import enable_grad, no_grad
from gradfit.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with finite differences."""


def _as_scalar_output(out: Any, weights: dict[int, np.ndarray], k: int) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if k not in weights:
        rng = np.random.default_rng(1234 + k)
        weights[k] = rng.standard_normal(out.shape).astype(np.float64)
    return (out * Tensor._wrap(weights[k])).sum()


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare ``fn``'s backpropagated gradients with central finite differences.

    Inputs must be float64 tensors; those with ``requires_grad=True`` are checked.
    A non-scalar output is reduced with fixed random weights, which checks the
    full vector-Jacobian product. Returns True, or raises :class:`GradcheckError`
    naming the input, the worst element's position, and both values.

    Example:
        >>> import gradfit as gf
        >>> a = gf.randn(2, 3, dtype="float64", requires_grad=True)
        >>> b = gf.randn(3, 4, dtype="float64", requires_grad=True)
        >>> gf.gradcheck(lambda a, b: a @ b, [a, b])
        True
    """
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(t).__name__}, expected a Tensor")
        if t.requires_grad and t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {t.dtype}; finite differences need float64 inputs "
                "(use .double())"
            )
    checked = [i for i, t in enumerate(inputs) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    weights: dict[int, np.ndarray] = {}

    def value(k: int) -> float:
        with no_grad():
            out = fn(*inputs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return float(sum(_as_scalar_output(o, weights, j).item() for j, o in enumerate(outs)))

    # analytic (the inputs' own .grad is put back afterwards)
    saved_grads = {i: inputs[i].grad for i in checked}
    for i in checked:
        inputs[i].grad = None
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    total = None
    for j, o in enumerate(outs):
        s = _as_scalar_output(o, weights, j)
        total = s if total is None else total + s
    total.backward()
    analytic = {
        i: (
            inputs[i].grad._data.copy() if inputs[i].grad is not None else np.zeros(inputs[i].shape)
        )
        for i in checked
    }
    for i in checked:
        inputs[i].grad = saved_grads[i]

    # numeric
    for i in checked:
        arr = inputs[i]._data
        numeric = np.zeros(arr.shape, dtype=np.float64)
        for k, idx in enumerate(np.ndindex(arr.shape)):  # in place, whatever the memory layout
            orig = arr[idx]
            arr[idx] = orig + eps
            plus = value(k)
            arr[idx] = orig - eps
            minus = value(k)
            arr[idx] = orig
            numeric[idx] = (plus - minus) / (2 * eps)
        a = analytic[i]
        err = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and (np.nanmax(err) > 0 or not np.all(np.isfinite(a) == np.isfinite(numeric))):
            flat_pos = int(np.nanargmax(np.where(np.isnan(err), np.inf, err)))
            pos = tuple(int(i) for i in np.unravel_index(flat_pos, a.shape))
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {arr.shape}) is wrong at index {pos}: "
                f"backprop gave {float(a[pos])!r}, finite differences gave {float(numeric[pos])!r} "
                f"(atol={atol}, rtol={rtol})"
            )
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor] | Tensor | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
) -> bool:
    """Check second derivatives: :func:`gradcheck` applied to ``fn``'s gradient.

    PyTorch's ``torch.autograd.gradgradcheck``: the function checked is
    ``(inputs, v) -> autograd.grad(fn(inputs), inputs, v, create_graph=True)``, with
    ``v`` the upstream gradients (``grad_outputs``, random float64 ones when not
    given), so both the gradient's dependence on the inputs (the Hessian) and on
    ``v`` are compared with finite differences. ``gen_non_contig_grad_outputs`` is
    accepted and ignored (arrays here have no layout that could matter).

    Example:
        >>> import gradfit as gf
        >>> x = gf.randn(3, dtype="float64", requires_grad=True)
        >>> gf.gradgradcheck(lambda t: (t * t * t).sin(), [x])
        True
    """
    from gradfit.autograd import grad as autograd_grad

    inputs = list(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradgradcheck: no input has requires_grad=True")
    with no_grad():
        out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if grad_outputs is None:
        rng = np.random.default_rng(4321)
        vs = [Tensor._wrap(rng.standard_normal(o.shape)) for o in outs]
    else:
        given = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
        if len(given) != len(outs):
            raise ValueError(
                f"gradgradcheck: got {len(given)} grad_outputs for {len(outs)} outputs"
            )
        vs = [Tensor._wrap(np.array(v._data, dtype=np.float64)) for v in given]
    for v in vs:
        v.requires_grad_(True)
    n = len(inputs)

    def first_grads(*args: Tensor) -> tuple[Tensor, ...]:
        xs, v = list(args[:n]), list(args[n:])
        with enable_grad():  # gradcheck's finite differences run this under no_grad
            return _grads(xs, v)

    def _grads(xs: list[Tensor], v: list[Tensor]) -> tuple[Tensor, ...]:
        res = fn(*xs)
        res = list(res) if isinstance(res, (tuple, list)) else [res]
        pairs = [(r, g) for r, g in zip(res, v) if r.requires_grad]
        if not pairs:
            raise ValueError("gradgradcheck: no output of fn requires grad")
        gs = autograd_grad(
            [r for r, _ in pairs],
            [xs[i] for i in diff],
            [g for _, g in pairs],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g if g is not None else xs[i] * 0.0 for g, i in zip(gs, diff))

    return gradcheck(first_grads, [*inputs, *vs], eps=eps, atol=atol, rtol=rtol)
