"""Einstein summation and the BLAS-style products built on matmul: einsum, addmm, addmv,
baddbmm, outer, dot, mv.

``einsum``'s backward for each operand is itself an einsum: the output gradient contracted
with the other operands onto that operand's subscripts (repeated subscripts such as ``ii``
write onto the diagonal; subscripts only that operand has are broadcast).

Example:
    >>> import gradfit as gf
    >>> a, b = gf.ones(2, 3), gf.ones(3, 4)
    >>> gf.einsum("ij,jk->ik", a, b).shape
    (2, 4)
"""

from __future__ import annotations

import builtins
import string
from typing import Any

import numpy as np

from gradfit.autograd import Function, sum_to
from gradfit.ops.linear_map import linear_map
from gradfit.tensor import Tensor, tensors_of

_LETTERS = string.ascii_letters
_OPTIMIZE_FROM = 4096  # elements: from here NumPy's contraction path (BLAS) beats its plain loop


def _optimize(arrays: Any) -> Any:
    """``optimize=`` for np.einsum: its path search costs ~15 us, worth it for larger operands
    (7x faster on an attention-sized product) and for three or more operands."""
    return (
        "greedy"
        if len(arrays) > 2 or builtins.max(a.size for a in arrays) >= _OPTIMIZE_FROM
        else False
    )


def _parse(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Subscripts per operand and for the output, with ``...`` replaced by letters."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(
            f"einsum(): the equation {equation!r} names {len(ins)} operands, got {len(shapes)}"
        )
    used = set(eq) - set(".,->")
    for ch in used:
        if ch not in _LETTERS:
            raise RuntimeError(f"einsum(): invalid subscript {ch!r} in {equation!r}")
    free = [c for c in _LETTERS if c not in used]
    ell_n = 0
    for s, shp in zip(ins, shapes, strict=True):
        n = len(s.replace("...", ""))
        if "..." in s:
            ell_n = max(ell_n, len(shp) - n)
        elif n != len(shp):
            raise RuntimeError(
                f"einsum(): the subscripts {s!r} name {n} dimensions, the operand has "
                f"{len(shp)} (shape {shp})"
            )
    ell = "".join(free[:ell_n])
    subs = []
    for s, shp in zip(ins, shapes, strict=True):
        if "..." in s:
            k = len(shp) - len(s.replace("...", ""))
            if k < 0:
                raise RuntimeError(
                    f"einsum(): the subscripts {s!r} name more dimensions than {shp}"
                )
            s = s.replace("...", ell[ell_n - k :])
        subs.append(s)
    if rhs is None:
        counts: dict[str, int] = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = rhs.replace("...", ell)
        for c in out:
            if not any(c in s for s in subs):
                raise RuntimeError(f"einsum(): output subscript {c!r} appears in no operand")
        if len(set(out)) != len(out):
            raise RuntimeError(f"einsum(): output subscripts in {equation!r} repeat a letter")
    return subs, out


class Einsum(Function):
    def forward(
        self, *xs: np.ndarray, subs: list[str], out: str, sizes: dict[str, int]
    ) -> np.ndarray:
        self.subs, self.out, self.sizes = subs, out, sizes
        self.shapes = [x.shape for x in xs]
        full = [
            np.broadcast_to(x, tuple(sizes[c] for c in s)) for x, s in zip(xs, subs, strict=True)
        ]
        if any(self.needs_input_grad):
            self.saved = tuple(full)
        spec = ",".join(subs) + "->" + out
        return np.asarray(np.einsum(spec, *full, optimize=_optimize(full)))

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        xs, subs, sizes = self.saved, self.subs, self.sizes
        grads: list[Any] = []
        for i, need in enumerate(self.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(subs) if j != i]
            known = set(self.out).union(*others) if others else set(self.out)
            uniq = "".join(dict.fromkeys(c for c in subs[i] if c in known))
            spec = ",".join([self.out, *others]) + "->" + uniq
            ops = [grad, *(x for j, x in enumerate(xs) if j != i)]
            g = np.einsum(spec, *ops, optimize=_optimize(ops)).astype(grad.dtype, copy=False)
            # letters only this operand has: the sum over them broadcasts back
            allu = "".join(dict.fromkeys(subs[i]))
            shp = [sizes[c] for c in allu]
            g = np.broadcast_to(
                np.expand_dims(g, tuple(k for k, c in enumerate(allu) if c not in uniq))
                if len(uniq) < len(allu)
                else g,
                shp,
            )
            if len(allu) < len(subs[i]):  # a repeated letter: write onto the diagonal
                full = np.zeros(tuple(sizes[c] for c in subs[i]), dtype=grad.dtype)
                idx = []
                for c in subs[i]:
                    k = allu.index(c)
                    v = [1] * len(allu)
                    v[k] = sizes[c]
                    idx.append(np.arange(sizes[c]).reshape(v))
                full[tuple(idx)] = g
                g = full
            # undo the broadcasting of size-1 dimensions
            shape = self.shapes[i]
            axes = tuple(k for k, n in enumerate(shape) if n == 1 and g.shape[k] != 1)
            if axes:
                g = g.sum(axis=axes, keepdims=True)
            grads.append(np.array(g) if not g.flags.writeable else g)  # 0-d stays 0-d
        return tuple(grads)

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        xs, subs, sizes = self.saved, self.subs, self.sizes
        ts = []  # each operand broadcast to its subscripts' sizes, in the graph
        for j, (x, shape) in enumerate(zip(xs, self.shapes, strict=True)):
            t = self.input_tensor(
                j, x[tuple(slice(0, 1) if n == 1 else slice(None) for n in shape)]
            )
            ts.append(t if t.shape == x.shape else t.expand(x.shape))
        grads: list[Any] = []
        for i, need in enumerate(self.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            allu = "".join(dict.fromkeys(subs[i]))
            # the same contraction as backward, on Tensors (so itself an Einsum node)
            others = [s for j, s in enumerate(subs) if j != i]
            known = set(self.out).union(*others) if others else set(self.out)
            uniq = "".join(c for c in allu if c in known)
            spec = ",".join([self.out, *others]) + "->" + uniq
            g = einsum(spec, grad, *(t for j, t in enumerate(ts) if j != i))
            if len(uniq) < len(allu):  # letters only this operand has: broadcast back
                g = g.reshape(tuple(sizes[c] if c in uniq else 1 for c in allu))
                g = g.expand(tuple(sizes[c] for c in allu))
            if len(allu) < len(subs[i]):  # a repeated letter: write onto the diagonal
                g = _onto_diagonal(g, subs[i], sizes)
            grads.append(sum_to(g, self.shapes[i]))
        return tuple(grads)


def _onto_diagonal(g: Tensor, sub: str, sizes: dict[str, int]) -> Tensor:
    """``g`` (one axis per distinct letter of ``sub``) written onto the diagonal of a zero
    tensor with one axis per letter (``ii``: a matrix with ``g`` on its diagonal), recorded:
    its adjoint reads the diagonal back."""
    allu = "".join(dict.fromkeys(sub))
    idx = []
    for c in sub:
        v = [1] * len(allu)
        v[allu.index(c)] = sizes[c]
        idx.append(np.arange(sizes[c]).reshape(v))
    index, shape = tuple(idx), tuple(sizes[c] for c in sub)

    def embed(a: np.ndarray) -> np.ndarray:
        out = np.zeros(shape, dtype=a.dtype)
        out[index] = a
        return out

    return linear_map(g, embed, lambda a: a[index], "Einsum")


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum products of the operands' elements as the subscripts in ``equation`` say
    (``"ij,jk->ik"`` is a matrix product; ``...`` stands for broadcast dimensions; without
    ``->`` the output is the letters that appear once, in alphabetical order).

    Example:
        >>> import gradfit as gf
        >>> gf.einsum("ii", gf.eye(3)).item()
        3.0
        >>> gf.einsum("i,j->ij", gf.tensor([1.0, 2.0]), gf.tensor([3.0])).tolist()
        [[3.0], [6.0]]
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    ts = list(tensors_of(*operands))
    subs, out = _parse(equation, [t.shape for t in ts])
    sizes: dict[str, int] = {}
    for s, t in zip(subs, ts, strict=True):
        for c, n in zip(s, t.shape, strict=True):
            old = sizes.get(c)
            if old is None or old == 1:
                sizes[c] = n
            elif n not in (1, old):
                raise RuntimeError(
                    f"einsum(): subscript {c!r} has size {n} for an operand of shape {t.shape}, "
                    f"which does not match the size {old} it has elsewhere"
                )
    return Einsum.apply(*ts, subs=subs, out=out, sizes=sizes)


def _check_dims(op: str, **tensors: tuple[Tensor, int]) -> None:
    for name, (t, nd) in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim != nd:
            raise RuntimeError(f"{op}: {name} must be a {nd}-D tensor, got shape {t.shape}")


def _combine(op: str, input: Tensor, prod: Tensor, beta: Any, alpha: Any) -> Tensor:  # noqa: A002
    out = prod if alpha == 1 else prod * alpha
    try:
        np.broadcast_shapes(input.shape, out.shape)
    except ValueError:
        raise RuntimeError(
            f"{op}: input of shape {input.shape} does not broadcast to the product's {out.shape}"
        ) from None
    if beta == 0:  # PyTorch ignores input then (nan and inf do not propagate; zero gradient)
        from gradfit.ops.arithmetic import where

        inp = where(np.zeros(input.shape, dtype=bool), input, 0)
    else:
        inp = input if beta == 1 else input * beta
    res = inp + out
    if res.shape != out.shape:
        raise RuntimeError(
            f"{op}: input of shape {input.shape} does not broadcast to the product's {out.shape}"
        )
    return res


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1`` and ``mat2``.

    Example:
        >>> import gradfit as gf
        >>> gf.addmm(gf.ones(2, 2), gf.eye(2), gf.eye(2), beta=2).tolist()
        [[3.0, 2.0], [2.0, 3.0]]
    """
    _check_dims("addmm", mat1=(mat1, 2), mat2=(mat2, 2))
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"addmm: mat1 and mat2 shapes cannot be multiplied ({mat1.shape} and {mat2.shape})"
        )
    return _combine("addmm", input, mat1 @ mat2, beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat @ vec)`` for a 2-D ``mat`` and a 1-D ``vec``.

    Example:
        >>> import gradfit as gf
        >>> gf.addmv(gf.ones(2), gf.eye(2), gf.tensor([1.0, 2.0])).tolist()
        [2.0, 3.0]
    """
    _check_dims("addmv", mat=(mat, 2), vec=(vec, 1))
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"addmv: size mismatch, mat {mat.shape} and vec {vec.shape}")
    return _combine("addmv", input, mat @ vec, beta, alpha)


def baddbmm(
    input: Tensor,  # noqa: A002
    batch1: Tensor,
    batch2: Tensor,
    *,
    beta: Any = 1,
    alpha: Any = 1,
) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)`` for 3-D batches of matrices.

    Example:
        >>> import gradfit as gf
        >>> gf.baddbmm(gf.zeros(2, 1, 1), gf.ones(2, 1, 3), gf.ones(2, 3, 1)).flatten().tolist()
        [3.0, 3.0]
    """
    _check_dims("baddbmm", batch1=(batch1, 3), batch2=(batch2, 3))
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(
            f"baddbmm: batch1 {batch1.shape} and batch2 {batch2.shape} cannot be multiplied"
        )
    return _combine("baddbmm", input, batch1 @ batch2, beta, alpha)


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """The outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``.

    Example:
        >>> import gradfit as gf
        >>> gf.outer(gf.tensor([1, 2]), gf.tensor([3, 4])).tolist()
        [[3, 4], [6, 8]]
    """
    _check_dims("outer", input=(input, 1), vec2=(vec2, 1))
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def dot(input: Tensor, tensor: Tensor) -> Tensor:  # noqa: A002
    """The dot product of two 1-D tensors of the same size and dtype.

    Example:
        >>> import gradfit as gf
        >>> gf.dot(gf.tensor([1.0, 2.0]), gf.tensor([3.0, 4.0])).item()
        11.0
    """
    _check_dims("dot", input=(input, 1), tensor=(tensor, 1))
    if input.dtype != tensor.dtype:
        raise RuntimeError(
            f"dot: expected both vectors to have the same dtype, got {input.dtype} and {tensor.dtype}"
        )
    if input.shape != tensor.shape:
        raise RuntimeError(
            f"dot: inconsistent tensor size, input has {input.shape[0]} elements, "
            f"tensor has {tensor.shape[0]}"
        )
    return input @ tensor


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """A matrix (2-D) times a vector (1-D).

    Example:
        >>> import gradfit as gf
        >>> gf.mv(gf.eye(2), gf.tensor([1.0, 2.0])).tolist()
        [1.0, 2.0]
    """
    _check_dims("mv", input=(input, 2), vec=(vec, 1))
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv: size mismatch, input {input.shape} and vec {vec.shape}")
    return input @ vec


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sum products over the last ``dims`` dimensions of ``a`` and the first of ``b`` (or over
    the listed pairs ``([a dims], [b dims])``); an einsum underneath.

    Example:
        >>> import gradfit as gf
        >>> gf.tensordot(gf.ones(2, 3, 4), gf.ones(3, 4, 5)).shape
        (2, 5)
    """
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if isinstance(dims, Tensor):
            raise TypeError("tensordot: dims must be an int or a pair of lists")
    if len(da) != len(db):
        raise RuntimeError(
            f"tensordot: both dimension lists should have same length, got {da} and {db}"
        )
    da = [d % a.ndim for d in da] if a.ndim else da
    db = [d % b.ndim for d in db] if b.ndim else db
    for i, j in zip(da, db, strict=True):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size {a.shape[i]} "
                f"in dim {i} and second has size {b.shape[j]} in dim {j}"
            )
    la = _LETTERS[: a.ndim]
    lb = list(_LETTERS[a.ndim : a.ndim + b.ndim])
    for i, j in zip(da, db, strict=True):
        lb[j] = la[i]
    lb = "".join(lb)
    out = "".join(c for k, c in enumerate(la) if k not in da) + "".join(
        c for k, c in enumerate(lb) if k not in db
    )
    return einsum(f"{la},{lb}->{out}", a, b)


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The Kronecker product: every element of ``input`` times a block of ``other``.

    Example:
        >>> import gradfit as gf
        >>> gf.kron(gf.eye(2), gf.ones(1, 2)).tolist()
        [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    """
    n = builtins.max(input.ndim, other.ndim)
    a = input.reshape((1,) * (n - input.ndim) + input.shape)
    b = other.reshape((1,) * (n - other.ndim) + other.shape)
    la, lb = _LETTERS[:n], _LETTERS[n : 2 * n]
    inter = "".join(x + y for x, y in zip(la, lb, strict=True))
    prod = einsum(f"{la},{lb}->{inter}", a, b)
    return prod.reshape(tuple(x * y for x, y in zip(a.shape, b.shape, strict=True)))
