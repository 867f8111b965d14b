"""Structure ops: tril/triu, diag/diagonal/diag_embed, trace, roll, fliplr/flipud, rot90,
meshgrid, narrow, unbind, repeat_interleave, tile.

Example:
    >>> import gradfit as gf
    >>> gf.triu(gf.ones(3, 3)).sum().item(), gf.roll(gf.arange(4), 1).tolist()
    (6.0, [3, 0, 1, 2])
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.autograd import Function
from gradfit.ops.linear_map import linear_backward_graph
from gradfit.tensor import Tensor, _norm_dim


class Tri(Function):
    def forward(self, x: np.ndarray, k: int, upper: bool) -> np.ndarray:
        self.k, self.upper = k, upper
        return np.triu(x, k) if upper else np.tril(x, k)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (np.triu(grad, self.k) if self.upper else np.tril(grad, self.k),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return linear_backward_graph(self, grad, lambda g: self.backward(g)[0])  # self-adjoint


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of the last two dimensions (elements above ``diagonal`` set to 0).

    Example:
        >>> import gradfit as gf
        >>> gf.tril(gf.ones(2, 2)).tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    if input.ndim < 2:
        raise RuntimeError(f"tril: input tensor must have at least 2 dimensions, got {input.ndim}")
    return Tri.apply(input, k=int(diagonal), upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of the last two dimensions (elements below ``diagonal`` set to 0).

    Example:
        >>> import gradfit as gf
        >>> gf.triu(gf.ones(2, 2), 1).tolist()
        [[0.0, 1.0], [0.0, 0.0]]
    """
    if input.ndim < 2:
        raise RuntimeError(f"triu: input tensor must have at least 2 dimensions, got {input.ndim}")
    return Tri.apply(input, k=int(diagonal), upper=True)


def _diag_index(shape: tuple[int, ...], offset: int, d1: int, d2: int) -> tuple[Any, ...]:
    """An index that reads the diagonal of ``d1``/``d2`` as the last dimension."""
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        m = builtins.max(builtins.min(n1, n2 - offset), 0)
        r, c = np.arange(m), np.arange(m) + offset
    else:
        m = builtins.max(builtins.min(n1 + offset, n2), 0)
        r, c = np.arange(m) - offset, np.arange(m)
    return r, c


class Diagonal(Function):
    def forward(self, x: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
        self.shape, self.args = x.shape, (offset, d1, d2)
        return np.diagonal(x, offset, d1, d2).copy()

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        offset, d1, d2 = self.args
        g = np.zeros(self.shape, dtype=grad.dtype)
        r, c = _diag_index(self.shape, offset, d1, d2)
        gv = np.moveaxis(g, (d1, d2), (-2, -1))  # a view of g, the diagonal's axes last
        gv[..., r, c] = grad
        return (g,)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        offset, d1, d2 = self.args
        return linear_backward_graph(self, grad, lambda g: np.diagonal(g, offset, d1, d2).copy())


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal of dimensions ``dim1``/``dim2`` (shifted by ``offset``), as the last dimension.

    Example:
        >>> import gradfit as gf
        >>> gf.arange(9).reshape(3, 3).diagonal(1).tolist()
        [1, 5]
    """
    d1 = _norm_dim(dim1, input.ndim, "diagonal")
    d2 = _norm_dim(dim2, input.ndim, "diagonal")
    if input.ndim < 2:
        raise RuntimeError(
            f"diagonal: expected a tensor with at least 2 dimensions, got {input.ndim}"
        )
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dimension ({dim1}, {dim2})")
    return Diagonal.apply(input, offset=int(offset), d1=d1, d2=d2)


class DiagEmbed(Function):
    def forward(self, x: np.ndarray, offset: int) -> np.ndarray:
        n = x.shape[-1] + abs(offset)
        self.offset = offset
        out = np.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
        r, c = _diag_index(out.shape, offset, out.ndim - 2, out.ndim - 1)
        out[..., r, c] = x
        return out

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        return (np.diagonal(grad, self.offset, grad.ndim - 2, grad.ndim - 1).copy(),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        shape, dtype = grad.shape, grad.dtype

        def embed(g: np.ndarray) -> np.ndarray:
            out = np.zeros(shape, dtype=dtype)
            r, c = _diag_index(shape, self.offset, len(shape) - 2, len(shape) - 1)
            out[..., r, c] = g
            return out

        return linear_backward_graph(self, grad, embed)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """Square matrices (in the last two dimensions) with ``input``'s last dimension on their
    diagonal ``offset``. Only the default ``dim1=-2, dim2=-1`` is supported.

    Example:
        >>> import gradfit as gf
        >>> gf.diag_embed(gf.tensor([1, 2])).tolist()
        [[1, 0], [0, 2]]
    """
    if (dim1, dim2) not in ((-2, -1), (input.ndim - 1, input.ndim)):
        raise NotImplementedError(
            f"diag_embed: only dim1=-2, dim2=-1 are supported, got {dim1}, {dim2}"
        )
    if input.ndim == 0:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dimension, got a 0-d one")
    return DiagEmbed.apply(input, offset=int(offset))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-D tensor as a square matrix with it on diagonal ``diagonal``, or the diagonal of a
    2-D tensor as 1-D.

    Example:
        >>> import gradfit as gf
        >>> gf.diag(gf.tensor([1, 2])).tolist(), gf.diag(gf.eye(2)).tolist()
        ([[1, 0], [0, 2]], [1.0, 1.0])
    """
    if input.ndim == 1:
        return DiagEmbed.apply(input, offset=int(diagonal))
    if input.ndim == 2:
        return Diagonal.apply(input, offset=int(diagonal), d1=0, d2=1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """The sum of the main diagonal of a 2-D tensor (integers sum to int64).

    Example:
        >>> import gradfit as gf
        >>> gf.trace(gf.arange(9.0).reshape(3, 3)).item()
        12.0
    """
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix (2-D tensor), got {input.ndim}-D")
    return Diagonal.apply(input, offset=0, d1=0, d2=1).sum()


class Roll(Function):
    def forward(self, x: np.ndarray, shifts: Any, dims: Any) -> np.ndarray:
        self.shifts, self.dims = shifts, dims
        return np.roll(x, shifts, dims)

    def backward(self, grad: np.ndarray) -> tuple[Any]:
        neg = -self.shifts if isinstance(self.shifts, int) else tuple(-s for s in self.shifts)
        return (np.roll(grad, neg, self.dims),)

    def backward_graph(self, grad: Tensor) -> tuple[Any]:
        return linear_backward_graph(self, grad, lambda g: np.roll(g, self.shifts, self.dims))


def roll(
    input: Tensor,  # noqa: A002
    shifts: int | Sequence[int],
    dims: int | Sequence[int] | None = None,
) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (over the flattened tensor when
    ``dims`` is None).

    Example:
        >>> import gradfit as gf
        >>> gf.arange(6).reshape(2, 3).roll(1, 1).tolist()
        [[2, 0, 1], [5, 3, 4]]
    """
    if dims is None:
        if not isinstance(shifts, int) and len(shifts) != 1:
            raise RuntimeError(f"roll: expected one shift when dims is None, got {shifts}")
        s = shifts if isinstance(shifts, int) else int(shifts[0])
        return Roll.apply(input.reshape(-1), shifts=s, dims=0).reshape(input.shape)
    sh = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    ds = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(sh) != len(ds):
        raise RuntimeError(f"roll: shifts {sh} and dims {ds} must have the same length")
    if input.ndim == 0:
        raise IndexError("roll: dimension specified as 0 but tensor has no dimensions")
    nd = tuple(_norm_dim(d, input.ndim, "roll") for d in ds)
    return Roll.apply(input, shifts=sh, dims=nd)


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    """Reverse the columns (dimension 1) of a tensor with at least 2 dimensions.

    Example:
        >>> import gradfit as gf
        >>> gf.fliplr(gf.tensor([[1, 2]])).tolist()
        [[2, 1]]
    """
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got {input.ndim}-d")
    return input.flip(1)


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    """Reverse the rows (dimension 0) of a tensor with at least 1 dimension.

    Example:
        >>> import gradfit as gf
        >>> gf.flipud(gf.tensor([1, 2])).tolist()
        [2, 1]
    """
    if input.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return input.flip(0)


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """Rotate by 90 degrees ``k`` times in the plane ``dims`` (from the first towards the second).

    Example:
        >>> import gradfit as gf
        >>> gf.rot90(gf.tensor([[1, 2], [3, 4]])).tolist()
        [[2, 4], [1, 3]]
    """
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected 2 dims, got {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"rot90: expected a tensor with at least 2 dimensions, got {input.ndim}")
    d0, d1 = (_norm_dim(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"rot90: the two dims must differ, got {tuple(dims)}")
    k = k % 4
    if k == 0:
        return input.clone()
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip((d0, d1))
    return input.transpose(d0, d1).flip(d1)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` the i-th output varies along
    dimension i; ``'xy'`` swaps the first two dimensions (Cartesian, as NumPy's default).

    Example:
        >>> import gradfit as gf
        >>> a, b = gf.meshgrid(gf.tensor([1, 2]), gf.tensor([3, 4, 5]), indexing="ij")
        >>> a.shape, b[0].tolist()
        ((2, 3), [3, 4, 5])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise RuntimeError("meshgrid: expects a non-empty list of tensors")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expects 0-d or 1-d tensors, got one of shape {t.shape}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(
                f"meshgrid: expects all tensors to have the same dtype, got {tensors[0].dtype} "
                f"and {t.dtype}"
            )
    ts = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    outs = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = -1
        outs.append(t.reshape(view).expand(*shape))
    if swap:
        outs[0], outs[1] = outs[1], outs[0]
    return tuple(outs)


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:  # noqa: A002
    """The slice ``start : start + length`` of dimension ``dim`` (``start`` may be negative).

    Example:
        >>> import gradfit as gf
        >>> gf.arange(5).narrow(0, 1, 3).tolist()
        [1, 2, 3]
    """
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor")
    d = _norm_dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    s = int(start)
    if not -n <= s <= n:
        raise IndexError(f"narrow: start {s} is out of range for dimension {dim} of size {n}")
    s = s % n if s < 0 else s
    if length < 0 or s + length > n:
        raise RuntimeError(
            f"narrow: start ({s}) + length ({length}) exceeds dimension size ({n}) of dim {dim}"
        )
    return input[(slice(None),) * d + (slice(s, s + length),)]


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """The slices along ``dim``, each without that dimension.

    Example:
        >>> import gradfit as gf
        >>> [t.tolist() for t in gf.tensor([[1, 2], [3, 4]]).unbind(1)]
        [[1, 3], [2, 4]]
    """
    if input.ndim == 0:
        raise IndexError("unbind: dimension specified as 0 but tensor has no dimensions")
    d = _norm_dim(dim, input.ndim, "unbind")
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


def repeat_interleave(
    input: Tensor,  # noqa: A002
    repeats: Any = None,
    dim: int | None = None,
    *,
    output_size: int | None = None,
) -> Tensor:
    """Repeat each element ``repeats`` times (an int, or one count per element) along ``dim``
    (over the flattened tensor when ``dim`` is None). With a single tensor of counts,
    ``repeat_interleave(counts)`` repeats ``arange(len(counts))``.

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([1, 2]).repeat_interleave(2).tolist()
        [1, 1, 2, 2]
        >>> gf.repeat_interleave(gf.tensor([2, 1])).tolist()
        [0, 0, 1]
    """
    from gradfit.ops.indexing import IndexSelect

    if repeats is None:
        counts = input._data
        if counts.ndim > 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be a 0-d or 1-d integer tensor")
        return Tensor._wrap(np.repeat(np.arange(counts.size), counts.reshape(-1)).astype(np.int64))
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _norm_dim(dim, x.ndim, "repeat_interleave")
    if x.ndim == 0:
        x = x.reshape(1)
    n = x.shape[d]
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if reps.dtype.kind not in "iu":
        raise RuntimeError(f"repeat_interleave: repeats must be integers, got {reps.dtype}")
    if reps.ndim > 1 or (reps.ndim == 1 and reps.size not in (1, n)):
        raise RuntimeError(
            f"repeat_interleave: repeats must have the same size as input along dim ({n}), "
            f"got shape {reps.shape}"
        )
    if (reps < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    idx = np.repeat(np.arange(n), reps.reshape(-1) if reps.size != 1 else int(reps.reshape(-1)[0]))
    if output_size is not None and output_size != idx.size:
        raise RuntimeError(
            f"repeat_interleave: output_size {output_size} does not match the result's {idx.size}"
        )
    return IndexSelect.apply(x, index=idx.astype(np.int64), dim=d)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """Repeat the tensor ``dims`` times along each dimension; with fewer ``dims`` than
    dimensions, leading 1s are assumed (unlike ``repeat``).

    Example:
        >>> import gradfit as gf
        >>> gf.tensor([[1, 2]]).tile((2,)).tolist()
        [[1, 2, 1, 2]]
    """
    reps = (dims,) if isinstance(dims, int) else tuple(dims)
    reps = (1,) * (input.ndim - len(reps)) + reps
    return input.repeat(*reps)


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:  # noqa: A002
    """Move dimension(s) ``source`` to position(s) ``destination``, keeping the others' order.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2, 3, 4).movedim(0, -1).shape
        (3, 4, 2)
    """
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: source ({len(src)} dims) and destination ({len(dst)} dims) must match"
        )
    s = [_norm_dim(d, input.ndim, "movedim") for d in src]
    t = [_norm_dim(d, input.ndim, "movedim") for d in dst]
    if len(set(s)) != len(s) or len(set(t)) != len(t):
        raise RuntimeError(f"movedim: repeated dim in source {src} or destination {dst}")
    if input.ndim == 0:
        return input.reshape(())
    order = [i for i in range(input.ndim) if i not in s]
    for dd, ss in sorted(zip(t, s, strict=True)):
        order.insert(dd, ss)
    return input.permute(*order)


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    """NumPy's name for ``transpose(input, axis0, axis1)``.

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2, 3).swapaxes(0, 1).shape
        (3, 2)
    """
    return input.transpose(axis0, axis1)


swapdims = swapaxes


# ------------------------------------------------------------------ stacking and reshaping helpers


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least one dimension (a 0-d one becomes shape (1,)).

    Example:
        >>> import gradfit as gf
        >>> gf.atleast_1d(gf.tensor(1.0)).shape
        (1,)
    """
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least two dimensions (leading 1s added).

    Example:
        >>> import gradfit as gf
        >>> gf.atleast_2d(gf.ones(3)).shape
        (1, 3)
    """
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least three dimensions, as NumPy: (N,) -> (1, N, 1), (M, N) -> (M, N, 1).

    Example:
        >>> import gradfit as gf
        >>> gf.atleast_3d(gf.ones(2, 3)).shape
        (2, 3, 1)
    """
    return _atleast(tensors, 3)


def _atleast(tensors: Any, n: int) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(tuple(tensors[0]), n))
    out = []
    for t in tensors:
        if t.ndim >= n:
            out.append(t)
        elif n == 3:
            shape = {0: (1, 1, 1), 1: (1, t.numel(), 1), 2: (*t.shape, 1)}[t.ndim]
            out.append(t.reshape(shape))
        else:
            out.append(t.reshape((1,) * (n - t.ndim) + t.shape))
    return out[0] if len(out) == 1 else tuple(out)


def _tensors(tensors: Any, op: str) -> list[Tensor]:
    ts = list(tensors)
    if not ts:
        raise RuntimeError(f"{op}(): expects a non-empty TensorList")
    return ts


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dimension 1 (dimension 0 for 1-D tensors).

    Example:
        >>> import gradfit as gf
        >>> gf.hstack([gf.ones(2), gf.zeros(1)]).tolist()
        [1.0, 1.0, 0.0]
    """
    from gradfit.ops.shape import cat

    ts = _atleast(tuple(_tensors(tensors, "hstack")), 1)
    ts = [ts] if isinstance(ts, Tensor) else list(ts)
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dimension 0 after making every tensor at least 2-D (``row_stack``).

    Example:
        >>> import gradfit as gf
        >>> gf.vstack([gf.ones(2), gf.zeros(2)]).shape
        (2, 2)
    """
    from gradfit.ops.shape import cat

    ts = _atleast(tuple(_tensors(tensors, "vstack")), 2)
    return cat([ts] if isinstance(ts, Tensor) else list(ts), 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dimension 2 after making every tensor at least 3-D.

    Example:
        >>> import gradfit as gf
        >>> gf.dstack([gf.ones(2), gf.zeros(2)]).shape
        (1, 2, 2)
    """
    from gradfit.ops.shape import cat

    ts = _atleast(tuple(_tensors(tensors, "dstack")), 3)
    return cat([ts] if isinstance(ts, Tensor) else list(ts), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Join as columns: 0-d and 1-d tensors become columns (N, 1), then ``hstack``.

    Example:
        >>> import gradfit as gf
        >>> gf.column_stack([gf.ones(3), gf.zeros(3)]).shape
        (3, 2)
    """
    from gradfit.ops.shape import cat

    ts = [t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in _tensors(tensors, "column_stack")]
    return cat(ts, 1)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:  # noqa: A002
    """Split dimension ``dim`` into ``sizes`` (one of them may be -1).

    Example:
        >>> import gradfit as gf
        >>> gf.zeros(2, 6).unflatten(1, (2, 3)).shape
        (2, 2, 3)
    """
    d = _norm_dim(dim, input.ndim, "unflatten")
    sz = list(sizes)
    if not sz:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = 1
    for s in sz:
        if s != -1:
            known *= s
    if sz.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred (-1)")
    n = input.shape[d]
    if -1 in sz:
        if known == 0 or n % known:
            raise RuntimeError(
                f"unflatten: sizes {tuple(sizes)} do not fit a dimension of size {n}"
            )
        sz[sz.index(-1)] = n // known
    elif known != n:
        raise RuntimeError(
            f"unflatten: provided sizes {tuple(sizes)} don't multiply up to the size of dim {dim} ({n})"
        )
    return input.reshape(input.shape[:d] + tuple(sz) + input.shape[d + 1 :])


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    """The elements as a 1-D tensor.

    Example:
        >>> import gradfit as gf
        >>> gf.ones(2, 3).ravel().shape
        (6,)
    """
    return input.reshape(-1)


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """The slice at ``index`` along ``dim``, without that dimension (``input[:, index]`` for dim 1).

    Example:
        >>> import gradfit as gf
        >>> gf.arange(6).reshape(2, 3).select(1, -1).tolist()
        [2, 5]
    """
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor")
    d = _norm_dim(dim, input.ndim, "select")
    n = input.shape[d]
    i = int(index)
    if not -n <= i < n:
        raise IndexError(
            f"select(): index {i} out of range for tensor of size {input.shape} at dimension {dim}"
        )
    return input[(slice(None),) * d + (i,)]


def diff(
    input: Tensor,  # noqa: A002
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (after joining ``prepend``/``append``).

    Example:
        >>> import gradfit as gf
        >>> gf.diff(gf.tensor([1, 4, 9, 16])).tolist()
        [3, 5, 7]
    """
    from gradfit.ops.shape import cat

    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = _norm_dim(dim, input.ndim, "diff")
    x = input
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, x, append) if p is not None]
        x = cat(parts, d)
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        lo = x[(slice(None),) * d + (slice(0, m - 1),)]
        hi = x[(slice(None),) * d + (slice(1, m),)]
        x = (hi ^ lo) if x._data.dtype == np.bool_ else hi - lo
    return x


def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix from 0-, 1- or 2-D tensors (promoted to a common dtype).

    Example:
        >>> import gradfit as gf
        >>> gf.block_diag(gf.ones(1, 1), gf.ones(2, 2) * 2).tolist()
        [[1.0, 0.0, 0.0], [0.0, 2.0, 2.0], [0.0, 2.0, 2.0]]
    """
    from gradfit.ops.shape import pad
    from gradfit.tensor import tensors_of

    if not tensors:
        return Tensor._wrap(np.zeros((1, 0), dtype=np.float32))
    ts = list(tensors_of(*tensors))
    mats = []
    for i, t in enumerate(ts):
        if t.ndim > 2:
            raise RuntimeError(
                f"block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has {t.ndim} dimensions"
            )
        mats.append(t.reshape(1, -1) if t.ndim < 2 else t)
    rows = builtins.sum(m.shape[0] for m in mats)
    cols = builtins.sum(m.shape[1] for m in mats)
    out, c = [], 0
    for m in mats:
        out.append(pad(m, (c, cols - c - m.shape[1])))
        c += m.shape[1]
    from gradfit.ops.shape import cat

    res = cat(out, 0)
    return res.reshape(rows, cols)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """All combinations of elements of 1-D tensors, one per row (a 1-D tensor for one input).

    Example:
        >>> import gradfit as gf
        >>> gf.cartesian_prod(gf.tensor([1, 2]), gf.tensor([3, 4])).tolist()
        [[1, 3], [1, 4], [2, 3], [2, 4]]
    """
    from gradfit.ops.shape import stack

    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expect a 1D vector, but got shape {t.shape}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)
