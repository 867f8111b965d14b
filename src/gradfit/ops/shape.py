"""Shape and indexing: reshape/view, transpose, permute, flatten, squeeze, unsqueeze,
expand/broadcast_to, repeat, cat, stack, split/chunk, pad, flip, indexing, and dtype casts.

Gradients of indexing scatter-add into a zero array, so repeated indices accumulate.

Example:
    >>> import gradfit as gf
    >>> x = gf.arange(6.0).reshape(2, 3)
    >>> x.T.shape, x[:, 1].tolist(), gf.cat([x, x], dim=0).shape
    ((3, 2), [1.0, 4.0], (4, 3))
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit import autograd
from gradfit.autograd import Function
from gradfit.ops.views import note_view
from gradfit.tensor import Tensor, _norm_dim


class Reshape(Function):
    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                f"into {tuple(shape)}"
            ) from None

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad.reshape(self.shape),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad.reshape(self.shape),)


class Permute(Function):
    def forward(self, x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        self.inv = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad.transpose(self.inv),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad.permute(*[int(i) for i in self.inv]),)


class Expand(Function):
    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.shape = x.shape
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {x.shape} to {tuple(shape)}") from None

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        from gradfit.autograd import sum_to

        return (sum_to(grad, self.shape),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (autograd.sum_to(grad, self.shape),)


class Repeat(Function):
    """PyTorch's ``repeat`` (NumPy's ``tile``)."""

    def forward(self, x: np.ndarray, reps: tuple[int, ...]) -> np.ndarray:
        self.shape = x.shape
        self.reps = reps
        return np.tile(x, reps)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        reps = self.reps
        shape = (1,) * (len(reps) - len(self.shape)) + self.shape
        split = []
        for r, n in zip(reps, shape, strict=True):
            split += [r, n]
        g = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return (g.reshape(self.shape),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        reps = self.reps
        shape = (1,) * (len(reps) - len(self.shape)) + self.shape
        split: list[int] = []
        for r, n in zip(reps, shape, strict=True):
            split += [r, n]
        g = grad.reshape(split).sum(dim=tuple(range(0, len(split), 2)))
        return (g.reshape(self.shape),)


class Cat(Function):
    def forward(self, *xs: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        self.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        idx = np.cumsum(self.sizes)[:-1]
        parts = np.split(grad, idx, axis=self.dim)
        return tuple(
            p if need else None for p, need in zip(parts, self.needs_input_grad, strict=True)
        )

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        out: list[Any] = []
        start = 0
        for n, need in zip(self.sizes, self.needs_input_grad, strict=True):
            idx = (slice(None),) * self.dim + (slice(start, start + n),)
            out.append(grad[idx] if need else None)
            start += n
        return tuple(out)


class Stack(Function):
    def forward(self, *xs: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        return np.stack(xs, axis=dim)

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        return tuple(
            np.take(grad, i, axis=self.dim) if need else None
            for i, need in enumerate(self.needs_input_grad)
        )

    def backward_graph(self, grad: Tensor) -> tuple[Any, ...]:
        pre = (slice(None),) * self.dim
        return tuple(
            grad[pre + (i,)] if need else None for i, need in enumerate(self.needs_input_grad)
        )


class Pad(Function):
    def forward(self, x: np.ndarray, widths: list[tuple[int, int]], value: float) -> np.ndarray:
        self.shape = x.shape
        self.widths = widths
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        idx = tuple(slice(lo, grad.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))
        return (grad[idx],)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        idx = tuple(slice(lo, grad.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))
        return (grad[idx],)


class Flip(Function):
    def forward(self, x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        self.dims = dims
        return np.flip(x, axis=dims).copy()  # PyTorch's flip copies

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (np.flip(grad, axis=self.dims),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad.flip(self.dims),)


class GetItem(Function):
    """``x[index]``; the gradient of advanced (integer or mask) indexing scatter-adds.

    ``pre`` is a basic index (ints, slices, None, Ellipsis) applied first, as PyTorch
    applies integer indices before advanced ones; ``index`` is then applied to its view.
    """

    def forward(self, x: np.ndarray, index: Any, advanced: bool, pre: Any = None) -> np.ndarray:
        self.shape, self.dtype = x.shape, x.dtype
        self.index, self.advanced, self.pre = index, advanced, pre
        if pre is not None:
            x = x[pre]
        return x[index]

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        g = np.zeros(self.shape, dtype=grad.dtype)
        view = g if self.pre is None else g[self.pre]  # a view: writes reach g
        if self.advanced:
            np.add.at(view, self.index, grad)
        else:
            view[self.index] = grad
        return (g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (_GetItemBackward.apply(grad, src=self),)


class _GetItemBackward(Function):
    """The scatter that is ``GetItem``'s backward, as an op (for a double backward):
    its own gradient is the same indexing again."""

    def forward(self, grad: np.ndarray, src: GetItem) -> np.ndarray:
        self.src = src
        return src.backward(grad)[0]

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        src = self.src
        g = grad if src.pre is None else grad[src.pre]
        return (np.array(g[src.index]),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        src = self.src
        return (GetItem.apply(grad, index=src.index, advanced=src.advanced, pre=src.pre),)


class Cast(Function):
    def forward(self, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        self.src = x.dtype
        return x.astype(dtype)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad.astype(self.src),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad.to(self.src),)


class Alias(Function):
    """The identity on the very same array: what a view that changes nothing records."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad,)


class Clone(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (grad,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return (grad,)


# ------------------------------------------------------------------ functional API


def _view_of(out: Tensor, base: Tensor) -> Tensor:
    """Let a result that shares memory with ``base`` share its version counter too.

    An in-place change through either is then seen by every graph that saved the other
    (as PyTorch's views do).
    """
    if np.may_share_memory(out._data, base._data):
        out._version = base._version
        root = getattr(base, "_base", None)
        out._base = base if root is None else root  # for in-place changes through it
        if autograd._grad_enabled:  # its node is renewed if the base changes in place
            note_view(out._base, out)
    return out


def _alias(x: Tensor) -> Tensor:
    """A new tensor on ``x``'s array and version counter: a reshape, view, expand or
    transpose that changes nothing.

    PyTorch returns a new tensor for these too, never ``x`` itself, so that hooks,
    ``retain_grad`` and ``.grad`` of the view are its own. While grad is recorded the view
    gets an identity node (:class:`Alias`); otherwise it is a plain alias, a leaf.
    """
    if x.requires_grad and autograd._grad_enabled:
        out = Alias.apply(x)
    else:
        out = Tensor._wrap(x._data)
    out._version = x._version  # in-place changes through either are seen by both
    root = getattr(x, "_base", None)
    out._base = x if root is None else root
    if autograd._grad_enabled:
        note_view(out._base, out)
    return out


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same data in a new shape (one dimension may be -1).

    The result is always a new tensor, sharing the data and the version counter, also
    where the shape does not change (as in PyTorch, ``x.view(x.shape) is x`` is False).

    Example:
        >>> import gradfit as gf
        >>> gf.arange(6).reshape(2, -1).shape
        (2, 3)
        >>> x = gf.ones(2, 3)
        >>> x.view(2, 3) is x
        False
    """
    shp = _shape_arg(shape)
    if shp == x.shape:
        return _alias(x)
    return _view_of(Reshape.apply(x, shape=shp), x)


view = reshape


def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2, 3, 4).permute(2, 0, 1).shape
        (4, 2, 3)
    """
    d = _shape_arg(dims)
    if len(d) != x.ndim:
        raise ValueError(f"permute: got {len(d)} dims {d} for a tensor with {x.ndim} dimensions")
    nd = tuple(_norm_dim(i, x.ndim, "permute") for i in d)
    if sorted(nd) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {d} are not a permutation of 0..{x.ndim - 1}")
    return _view_of(Permute.apply(x, dims=nd), x)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2, 3).transpose(0, 1).shape
        (3, 2)
    """
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return _alias(x)
    d0, d1 = _norm_dim(dim0, x.ndim, "transpose"), _norm_dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return _view_of(Permute.apply(x, dims=tuple(dims)), x)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` .. ``end_dim`` into one.

    When there is nothing to merge (``start_dim`` and ``end_dim`` name the same dimension),
    the input itself is returned, as PyTorch does.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2, 3, 4).flatten(1).shape
        (2, 12)
    """
    if x.ndim == 0:
        return reshape(x, 1)
    s = _norm_dim(start_dim, x.ndim, "flatten")
    e = _norm_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    if s == e:  # nothing to merge: PyTorch returns the input itself (no graph node)
        return x
    shp = x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :]
    return reshape(x, shp)


def squeeze(x: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in ``dim`` that have size 1).

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2, 1, 3).squeeze().shape
        (2, 3)
    """
    if dim is None:
        shp = tuple(n for n in x.shape if n != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else dim
        nd = {_norm_dim(d, x.ndim, "squeeze") for d in dims} if x.ndim else set()
        shp = tuple(n for i, n in enumerate(x.shape) if not (i in nd and n == 1))
    return reshape(x, shp)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2, 3).unsqueeze(1).shape
        (2, 1, 3)
    """
    n = x.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"unsqueeze: dim {dim} is out of range for a result with {n} dimensions")
    d = dim % n
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to a larger shape without copying (-1 keeps a dimension).

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(3, 1).expand(3, 4).shape
        (3, 4)
    """
    shp = list(_shape_arg(sizes))
    lead = len(shp) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: cannot expand shape {x.shape} to fewer dimensions {tuple(shp)}")
    for i in range(x.ndim):
        if shp[lead + i] == -1:
            shp[lead + i] = x.shape[i]
    target = tuple(shp)
    if target == x.shape:
        return _alias(x)
    return _view_of(Expand.apply(x, shape=target), x)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """NumPy's name for :func:`expand`.

    Example:
        >>> import gradfit as gf
        >>> gf.broadcast_to(gf.zeros(3), (2, 3)).shape
        (2, 3)
    """
    return expand(x, *shape)


def repeat(x: Tensor, *reps: Any) -> Tensor:
    """Tile the tensor ``reps`` times along each dimension (PyTorch's ``repeat``).

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([1, 2]).repeat(2)
        tensor([1, 2, 1, 2])
    """
    r = _shape_arg(reps)
    if len(r) < x.ndim:
        raise ValueError(
            f"repeat: got {len(r)} repeat counts for a tensor with {x.ndim} dimensions"
        )
    return Repeat.apply(x, reps=r)


def _same_dtype(tensors: Sequence[Any], op: str) -> list[Tensor]:
    from gradfit.tensor import tensors_of

    if len(tensors) == 0:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    return list(tensors_of(*tensors))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension.

    Example:
        >>> import gradfit as gf
        >>> gf.cat([gf.zeros(2, 3), gf.ones(1, 3)]).shape
        (3, 3)
    """
    ts = _same_dtype(tensors, "cat")
    for i, t in enumerate(ts):
        if t.ndim == 0:
            raise ValueError(
                f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated; "
                "use gf.stack to join 0-d tensors into a 1-d one"
            )
    d = _norm_dim(dim, ts[0].ndim, "cat")
    ref = ts[0].shape
    for i, t in enumerate(ts):
        if t.ndim != len(ref) or t.shape[:d] + t.shape[d + 1 :] != ref[:d] + ref[d + 1 :]:
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, which does not match {ref} "
                f"outside dimension {dim}"
            )
    return Cat.apply(*ts, dim=d)


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension.

    Example:
        >>> import gradfit as gf
        >>> gf.stack([gf.zeros(3), gf.ones(3)], dim=1).shape
        (3, 2)
    """
    ts = _same_dtype(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, tensor 0 has {ts[0].shape}")
    n = ts[0].ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: dim {dim} is out of range for a result with {n} dimensions")
    return Stack.apply(*ts, dim=dim % n)


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> list[Tensor]:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given sizes.

    Example:
        >>> import gradfit as gf
        >>> [p.shape for p in gf.arange(5).split(2)]
        [(2,), (2,), (1,)]
    """
    if x.ndim == 0:
        raise ValueError("split expects at least a 1-dimensional tensor, got a 0-d tensor")
    d = _norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dim {dim}")
    out, start = [], 0
    for s in sizes:
        idx = (slice(None),) * d + (slice(start, start + s),)
        out.append(x[idx])
        start += s
    return out


def chunk(x: Tensor, chunks: int, dim: int = 0) -> list[Tensor]:
    """Split into ``chunks`` pieces of (nearly) equal size, as PyTorch's ``chunk``.

    Example:
        >>> import gradfit as gf
        >>> [p.shape for p in gf.arange(5).chunk(2)]
        [(3,), (2,)]
    """
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    if x.ndim == 0:
        raise ValueError("chunk expects at least a 1-dimensional tensor, got a 0-d tensor")
    n = x.shape[_norm_dim(dim, x.ndim, "chunk")]
    return split(x, builtins.max(1, math.ceil(n / chunks)), dim)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad with a constant; ``pad`` lists (left, right) pairs from the last dimension backwards,
    as PyTorch's ``F.pad``.

    Example:
        >>> import gradfit as gf
        >>> gf.pad(gf.ones(2, 2), (1, 1)).shape
        (2, 4)
    """
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: expected an even number of values, at most 2 per dimension "
            f"({2 * x.ndim} for shape {x.shape}), got {len(pad)}"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        lo, hi = int(pad[2 * i]), int(pad[2 * i + 1])
        if lo < 0 or hi < 0:
            raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
        widths[x.ndim - 1 - i] = (lo, hi)
    return Pad.apply(x, widths=widths, value=value)


def flip(x: Tensor, dims: int | Sequence[int]) -> Tensor:
    """Reverse the order of elements along ``dims``.

    Example:
        >>> import gradfit as gf
        >>> gf.arange(3).flip(0)
        tensor([2, 1, 0])
    """
    ds = (dims,) if isinstance(dims, int) else tuple(dims)
    if x.ndim == 0:  # dim 0 or -1 of a 0-d tensor: nothing to reverse (PyTorch returns a copy)
        for d in ds:
            _norm_dim(d, 0, "flip")
        return Clone.apply(x)
    return Flip.apply(x, dims=tuple(_norm_dim(d, x.ndim, "flip") for d in ds))


def _index_part(part: Any) -> tuple[Any, str]:
    """Convert one part of an index to NumPy's form and name its kind.

    Kinds: ``"int"`` (a Python/NumPy integer or a 0-d integer tensor, which PyTorch treats
    as an integer), ``"basic"`` (slice, None, Ellipsis), ``"array"`` (an integer or boolean
    array/list/tensor) and ``"bool"`` (a Python or 0-d boolean: a new axis of size 1 or 0).
    """
    if isinstance(part, Tensor):
        part = part._data
    if isinstance(part, (list, np.ndarray)):
        arr = np.asarray(part)
        if arr.dtype.kind not in "iub" and arr.size:
            raise IndexError(
                f"index: tensors used as indices must be integer or bool, got {arr.dtype}"
            )
        if arr.ndim == 0 and isinstance(part, np.ndarray):
            return (arr.item(), "bool") if arr.dtype.kind == "b" else (int(arr), "int")
        return (arr.copy() if arr.size else arr.astype(np.int64)), "array"
    if isinstance(part, (bool, np.bool_)):
        return bool(part), "bool"
    if isinstance(part, (int, np.integer)):
        return int(part), "int"
    return part, "basic"


def _expand_ellipsis(conv: list[Any], kinds: list[str], ndim: int) -> tuple[list[Any], list[str]]:
    """Replace ``...`` by the slices it stands for.

    NumPy counts an Ellipsis as separating two advanced indices even where it stands for no
    dimension (``x[:, [0], ..., [0]]`` on shape (2, 2, 2) gives (1, 2)); PyTorch does not (2, 1).
    """
    where = [i for i, c in enumerate(conv) if c is Ellipsis and kinds[i] == "basic"]
    if len(where) != 1:
        return conv, kinds  # none, or several: NumPy raises its own error
    used = 0
    for c, k in zip(conv, kinds, strict=True):
        if k == "int" or (k == "basic" and isinstance(c, slice)):
            used += 1
        elif k == "array":
            used += c.ndim if c.dtype.kind == "b" else 1
    n = builtins.max(ndim - used, 0)
    i = where[0]
    return (
        conv[:i] + [slice(None)] * n + conv[i + 1 :],
        kinds[:i] + ["basic"] * n + kinds[i + 1 :],
    )


def _split_ints(conv: list[Any], kinds: list[str]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Split an index with integers and advanced parts into (basic index, the rest).

    PyTorch applies integer indices as a basic ``select`` before the advanced indices, so
    ``x[1, :, [0, 0]]`` on shape (3, 4, 5) is ``x[1][:, [0, 0]]``, of shape (4, 2) (NumPy
    counts the integer as an advanced index and gives (2, 4)).
    """
    pre: list[Any] = []
    rest: list[Any] = []
    for c, k in zip(conv, kinds, strict=True):
        if k == "int":
            pre.append(c)
        elif k == "bool":
            rest.append(c)
        elif k == "array":  # the dimensions it consumes are kept whole by the first step
            pre.extend([slice(None)] * (c.ndim if c.dtype.kind == "b" else 1))
            rest.append(c)
        elif c is Ellipsis:
            pre.append(c)
            rest.append(c)
        else:  # slice or None: applied in the first step, kept whole by the second
            pre.append(c)
            rest.append(slice(None))
    if not builtins.any(p is Ellipsis for p in pre):
        pre.append(Ellipsis)  # so that the first step is a view even when it selects one element
    return tuple(pre), tuple(rest)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with ints, slices, None, Ellipsis, integer arrays and boolean masks.

    Integers mixed with advanced (array or mask) indices are applied first, as PyTorch
    does, so the result's shape is PyTorch's where NumPy's would differ.

    Example:
        >>> import gradfit as gf
        >>> x = gf.arange(6.0).reshape(2, 3)
        >>> x[x > 2].tolist(), x[[0, 0], 1].tolist()
        ([3.0, 4.0, 5.0], [1.0, 1.0])
        >>> gf.zeros(3, 4, 5)[1, :, [0, 0]].shape
        (4, 2)
    """
    parts = index if isinstance(index, tuple) else (index,)
    conv, kinds = [], []
    for p in parts:
        c, k = _index_part(p)
        conv.append(c)
        kinds.append(k)
    advanced = "array" in kinds or "bool" in kinds
    pre = None
    if advanced:
        conv, kinds = _expand_ellipsis(conv, kinds, x.ndim)
    if advanced and "int" in kinds:
        pre, idx = _split_ints(conv, kinds)
    elif advanced:
        idx = tuple(conv)
    elif "int" in kinds and not builtins.any(c is Ellipsis for c in conv):
        idx = (*conv, Ellipsis)  # a 0-d result is then a view, as in PyTorch, not a copy
    else:
        idx = tuple(conv) if isinstance(index, tuple) else conv[0]
    try:
        out = GetItem.apply(x, index=idx, advanced=advanced, pre=pre)
        return out if advanced else _view_of(out, x)
    except IndexError as e:
        raise IndexError(f"index into a tensor of shape {x.shape}: {e}") from None
