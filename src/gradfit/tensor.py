"""``Tensor``: an array, its gradient, and the node of the graph that made it.

Operators and methods delegate to the differentiable operations in
:mod:`gradfit.ops`. The NumPy array lives in ``Tensor._data`` (``.numpy()`` returns it);
``.data`` is, as in PyTorch, a tensor sharing that memory but cut from the graph.

Example:
    >>> import gradfit as gf
    >>> x = gf.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x ** 2).sum()
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from gradfit import autograd, backend
from gradfit.autograd import Function
from gradfit.hooks import RemovableHandle

Scalar = int | float | bool


class Tensor:
    """An n-dimensional array that records the operations made on it for backpropagation.

    Args:
        data: array-like (nested lists, NumPy array, scalar or Tensor).
        dtype: float32 by default for floats, int64 for ints, bool for bools.
        requires_grad: record operations on this tensor and give it a ``.grad``.

    Example:
        >>> import gradfit as gf
        >>> gf.Tensor([1, 2, 3], dtype="float32")
        tensor([1., 2., 3.])
    """

    # _hooks (see autograd._TensorHooks) is set only on leaves given a hook: unset, it costs nothing
    __slots__ = (
        "__weakref__",
        "_base",
        "_data",
        "_hooks",
        "_version",
        "_views",  # weak references to its views (gradfit.ops.views), once it has any
        "grad",
        "grad_fn",
        "requires_grad",
    )
    __array_priority__ = 1000  # numpy_array + tensor -> Tensor.__radd__

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        arr = _to_array(data, dtype)
        self._data = arr
        self.grad: Tensor | None = None
        self.grad_fn: Function | None = None
        self._version = [0]
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- construction
    @classmethod
    def _wrap(cls, arr: np.ndarray) -> Tensor:
        """A leaf around ``arr`` without copying or checking (internal fast path)."""
        t = object.__new__(cls)
        t._data = arr
        t.grad = None
        t.grad_fn = None
        t.requires_grad = False
        t._version = [0]
        return t

    @classmethod
    def _from_op(cls, arr: Any, fn: Function | None) -> Tensor:
        if type(arr) is not np.ndarray:
            arr = np.asarray(arr)
        t = object.__new__(cls)
        t._data = arr
        t.grad = None
        t.grad_fn = fn
        t._version = [0]
        if fn is None:
            t.requires_grad = False
        else:
            t.requires_grad = True
            fn.out_meta = (arr.shape, arr.dtype)
        return t

    # ----------------------------------------------------------------- properties
    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's memory, cut from the graph, as PyTorch's ``.data``.

        Changes made through it are not seen by autograd (it has its own version
        counter): ``p.data -= lr * p.grad`` updates a parameter without recording it.
        Assigning ``t.data = other`` makes ``t`` hold ``other``'s array (any shape).
        ``.numpy()`` gives the NumPy array itself.

        Example:
            >>> import gradfit as gf
            >>> p = gf.ones(2, requires_grad=True)
            >>> p.data -= 0.5
            >>> p
            tensor([0.5, 0.5], requires_grad=True)
        """
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        if isinstance(value, Tensor):
            arr = value._data
        else:
            raise TypeError(
                f"data: expected a Tensor to assign to .data, got {type(value).__name__} "
                "(wrap an array with gf.tensor(...) or gf.from_numpy(...))"
            )
        if arr.dtype != self._data.dtype and self.requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"data: cannot give a tensor that requires grad the {arr.dtype} data of "
                "a non-float tensor"
            )
        self._data = arr

    @property
    def shape(self) -> tuple[int, ...]:
        """The tensor's shape as a tuple (PyTorch returns ``torch.Size``, a tuple too)."""
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the data."""
        return self._data.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (not the result of a recorded operation)."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dimensions reversed (the matrix transpose for 2-D tensors)."""
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The last two dimensions swapped (batched matrix transpose)."""
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape as a :class:`gf.Size` (a tuple with ``numel()``), or one dimension's size.

        Example:
            >>> import gradfit as gf
            >>> gf.zeros(2, 3).size(-1)
            3
            >>> gf.zeros(2, 3).size().numel()
            6
        """
        if dim is None:
            from gradfit.size import Size

            return Size(self._data.shape)
        return self._data.shape[_norm_dim(dim, self.ndim, "size")]

    def numel(self) -> int:
        """Number of elements.

        Example:
            >>> import gradfit as gf
            >>> gf.zeros(2, 3).numel()
            6
        """
        return int(self._data.size)

    def dim(self) -> int:
        """Number of dimensions (PyTorch's ``dim()``)."""
        return self._data.ndim

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shares memory, like PyTorch's ``numpy()``).

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2).numpy()
            array([1., 1.], dtype=float32)
        """
        return self._data

    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number.

        Example:
            >>> import gradfit as gf
            >>> gf.tensor([2.5]).item()
            2.5
        """
        if self._data.size != 1:
            raise ValueError(
                f"item: only a one-element tensor can be converted to a Python scalar, "
                f"got shape {self.shape}"
            )
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        """Nested Python lists.

        Example:
            >>> import gradfit as gf
            >>> gf.tensor([[1, 2]]).tolist()
            [[1, 2]]
        """
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing the data, cut from the graph (and sharing the version counter).

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2, requires_grad=True).detach().requires_grad
            False
        """
        t = Tensor._wrap(self._data)
        t._version = self._version
        return t

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2).clone()
            tensor([1., 1.])
        """
        from gradfit.ops.shape import Clone

        return Clone.apply(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place; only float leaves can require grad.

        Example:
            >>> import gradfit as gf
            >>> gf.zeros(2).requires_grad_().requires_grad
            True
        """
        if requires_grad and not backend.is_floating(self._data.dtype):
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"this one is {self._data.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False) on a non-leaf tensor: use .detach() to cut it from the graph"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def astype(self, dtype: Any) -> Tensor:
        """Convert to ``dtype`` (differentiable between float dtypes).

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2).astype("float64").dtype
            dtype('float64')
        """
        from gradfit.ops.shape import Cast

        dt = backend.to_dtype(dtype)
        if dt == self._data.dtype:
            return self
        if not backend.is_floating(dt):  # integers and bools carry no gradient
            return Tensor._wrap(self._data.astype(dt))
        return Cast.apply(self, dtype=dt)

    def float(self) -> Tensor:
        """Convert to float32."""
        return self.astype(backend.float32)

    def double(self) -> Tensor:
        """Convert to float64."""
        return self.astype(backend.float64)

    def long(self) -> Tensor:
        """Convert to int64."""
        return self.astype(backend.int64)

    def int(self) -> Tensor:
        """Convert to int32."""
        return self.astype(backend.int32)

    def bool(self) -> Tensor:
        """Convert to bool."""
        return self.astype(backend.bool_)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # NumPy 2 asks for a copy (np.array) or none (np.asarray) and trusts the answer
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            if copy is False:
                raise ValueError(
                    f"cannot convert a {self._data.dtype} tensor to {dtype} without a copy"
                )
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data)

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._data.reshape(()))

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self) -> str:
        from gradfit.printing import array2string_options

        body = np.array2string(
            self._data, separator=", ", prefix="tensor(", **array2string_options()
        )
        extras = []
        if self._data.dtype not in (backend.float32, backend.int64, backend.bool_):
            extras.append(f"dtype={self._data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def _repr_html_(self) -> str:  # Jupyter: a table of the values under a shape/dtype line
        from gradfit.notebook import tensor_html

        return tensor_html(self)

    # ----------------------------------------------------------------- autograd
    def backward(
        self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Backpropagate: add d(self)/d(leaf) to the ``.grad`` of every leaf that requires grad.

        ``gradient`` is required unless the tensor holds one element. The graph's
        saved arrays are freed afterwards unless ``retain_graph=True``.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0, -2.0], requires_grad=True)
            >>> (w * 3).sum().backward()
            >>> w.grad
            tensor([3., 3.])
        """
        g = None
        if create_graph and isinstance(gradient, Tensor):
            g = gradient  # kept in the graph: the result can depend on it
        elif gradient is not None:
            g = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
        autograd.backward(self, g, retain_graph=retain_graph, create_graph=create_graph)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` with this tensor's gradient during every backward pass.

        ``grad`` is the gradient with respect to this tensor once every use of it has
        contributed (a tensor used twice gets one call, with the sum). If the hook
        returns a tensor, it replaces the gradient: for a leaf, it is what goes into
        ``.grad``; for any other tensor, what flows on to the operations that made it.
        It must have the gradient's shape and dtype. Several hooks run in the order
        they were registered, each on what the previous one returned; like the rest
        of backward they run without recording operations. As in PyTorch, the hook
        should not modify ``grad`` in place.

        Returns a handle whose ``remove()`` takes the hook off (also on leaving a
        ``with`` block). Raises ``RuntimeError`` for a tensor that does not require grad.

        Example:
            >>> import gradfit as gf
            >>> x = gf.tensor([1.0, 2.0], requires_grad=True)
            >>> y = x * 3
            >>> seen = []
            >>> h1 = y.register_hook(lambda g: seen.append(g.tolist()))
            >>> h2 = x.register_hook(lambda g: g * 10)  # scale what reaches x.grad
            >>> (y * y).sum().backward()
            >>> seen
            [[6.0, 12.0]]
            >>> x.grad
            tensor([180., 360.])
            >>> h2.remove()
        """
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require "
                "gradient (create it with requires_grad=True, outside gf.no_grad())"
            )
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
        hooks = autograd._tensor_hooks(self).hooks
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward passes.

        Only leaves get a ``.grad`` otherwise (for a leaf this does nothing). The
        retained gradient is the one after this tensor's hooks, and like a leaf's it
        adds up over backward passes until you set ``.grad = None``.

        Example:
            >>> import gradfit as gf
            >>> x = gf.tensor([1.0, 2.0], requires_grad=True)
            >>> y = x * x
            >>> y.retain_grad()
            >>> (3 * y).sum().backward()
            >>> y.grad
            tensor([3., 3.])
        """
        if not self.requires_grad:
            raise RuntimeError(
                "retain_grad: can't retain the gradient of a tensor that does not require grad"
            )
        if self.grad_fn is not None:
            autograd._tensor_hooks(self).retain = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor (False for leaves).

        Example:
            >>> import gradfit as gf
            >>> y = gf.ones(2, requires_grad=True) * 2
            >>> y.retains_grad
            False
            >>> y.retain_grad()
            >>> y.retains_grad
            True
        """
        st = None if self.grad_fn is None else getattr(self.grad_fn, "_hooks", None)
        return st is not None and st.retain is not None

    # ----------------------------------------------------------------- in-place operations
    # Outside the graph (no_grad, or nothing requires grad) they change the array in place;
    # in it, gradfit.ops.inplace records them and rebases the tensor onto the new node.

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value``: every index ``x[index]`` accepts; recorded in the graph
        when ``x`` (or its base, or ``value``) requires grad, as in PyTorch.

        Example:
            >>> import gradfit as gf
            >>> w = gf.tensor([1.0, 2.0], requires_grad=True)
            >>> x = gf.zeros(3)
            >>> x[1:] = w * 2
            >>> x.sum().backward()
            >>> w.grad
            tensor([2., 2.])
        """
        from gradfit.ops.inplace import setitem

        setitem(self, index, value)

    def _needs_record(self, *others: Any) -> bool:
        """Whether an in-place change goes through the graph (see gradfit.ops.inplace)."""
        if not autograd._grad_enabled or self._data.dtype.kind != "f":
            return False
        if self.requires_grad:
            return True
        for o in others:
            if isinstance(o, Tensor) and o.requires_grad:
                return True
        base = getattr(self, "_base", None)
        return base is not None and base.requires_grad

    def _record(self, op: str, fn: Callable[[Tensor], Tensor]) -> Tensor:
        from gradfit.ops.inplace import record

        if not self._data.flags.writeable:
            self._check_writeable(op)
        return record(self, op, fn)

    def _assign(self, op: str, index: Any, value: Any) -> Tensor:
        from gradfit.ops.inplace import setitem

        if isinstance(value, Tensor) and value._data.ndim and op != "zero_":
            raise RuntimeError(
                f"{op} only supports a 0-dimension value tensor, but got a tensor with "
                f"{value._data.ndim} dimensions"
            )
        setitem(self, index, value, op)
        return self

    def zero_(self) -> Tensor:
        """Fill with zeros in place.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2).zero_()
            tensor([0., 0.])
        """
        return self._assign("zero_", Ellipsis, 0)

    def fill_(self, value: Any) -> Tensor:
        """Fill with ``value`` (a number or a 0-d tensor) in place.

        Example:
            >>> import gradfit as gf
            >>> gf.zeros(2).fill_(3)
            tensor([3., 3.])
        """
        return self._assign("fill_", Ellipsis, value)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor in place.

        Example:
            >>> import gradfit as gf
            >>> gf.zeros(2).copy_(gf.ones(2))
            tensor([1., 1.])
        """
        arr = src._data if isinstance(src, Tensor) else np.asarray(src)
        try:
            np.broadcast_shapes(arr.shape, self.shape)
            if np.broadcast_shapes(arr.shape, self.shape) != self.shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(
                f"copy_: the source of shape {arr.shape} cannot be broadcast to the "
                f"destination's shape {self.shape}"
            ) from None
        if self._needs_record(src):
            return self._record("copy_", lambda t: _copied(t, src))
        self._check_inplace("copy_")
        np.copyto(self._data, np.broadcast_to(arr, self.shape), casting="unsafe")
        self._version[0] += 1
        return self

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """Set the elements where the boolean ``mask`` (broadcast to this shape) is True.

        Example:
            >>> import gradfit as gf
            >>> x = gf.zeros(3)
            >>> x.masked_fill_(gf.tensor([True, False, True]), 5.0)
            tensor([5., 0., 5.])
        """
        m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise RuntimeError(
                f"masked_fill_ only supports boolean masks, but got mask with dtype {m.dtype}"
            )
        try:
            m = np.broadcast_to(m, self.shape)
        except ValueError:
            raise RuntimeError(
                f"masked_fill_: the mask of shape {m.shape} cannot be broadcast to the "
                f"tensor's shape {self.shape}"
            ) from None
        return self._assign("masked_fill_", m, value)

    def index_fill_(self, dim: int, index: Any, value: Any) -> Tensor:
        """Set the entries at positions ``index`` along ``dim`` to ``value``.

        Example:
            >>> import gradfit as gf
            >>> gf.zeros(2, 3).index_fill_(1, gf.tensor([0, 2]), 1.0)
            tensor([[1., 0., 1.],
                    [1., 0., 1.]])
        """
        d = _norm_dim(dim, self.ndim, "index_fill_")
        idx = index._data if isinstance(index, Tensor) else np.asarray(index)
        if idx.dtype.kind not in "iu" or idx.ndim > 1:
            raise IndexError(
                f"index_fill_: index must be a 0-d or 1-d integer tensor, got dtype {idx.dtype} "
                f"and {idx.ndim} dimensions"
            )
        if self.ndim == 0:
            return self._assign("index_fill_", Ellipsis, value) if idx.size else self
        return self._assign("index_fill_", (slice(None),) * d + (idx.reshape(-1),), value)

    def _check_inplace(self, op: str) -> None:
        """Refuse an in-place change of a leaf that requires grad while grad is recorded
        (as PyTorch does), and any change of a read-only array.

        Under ``gf.no_grad()`` in-place updates are allowed; if a graph saved the old value,
        the version counter makes its backward raise instead of giving a wrong gradient.
        """
        if self.requires_grad and autograd._grad_enabled:
            what = "a leaf tensor" if self.grad_fn is None else "a tensor in the graph"
            raise RuntimeError(
                f"in-place {op} on {what} that requires grad: the graph needs its value to "
                "compute gradients. Write it out of place (x = x + y), or wrap the update in "
                "gf.no_grad() (as an optimizer step does)."
            )
        self._check_writeable(op)

    def _check_writeable(self, op: str) -> None:
        if not self._data.flags.writeable:
            raise RuntimeError(
                f"in-place {op} on a read-only tensor: it is a view made by expand/broadcast_to "
                "(several of its elements share one memory location), or wraps a read-only "
                "array; clone() it first (x = x.clone()), as in PyTorch"
            )

    def _inplace(self, op: str, other: Any, ufunc: Any) -> Tensor:
        if autograd._grad_enabled and self._needs_record(other):
            if isinstance(other, Tensor) and np.may_share_memory(other._data, self._data):
                other = other.clone()  # y.mul_(y): the operand's value before the change
            return self._record(op, lambda t: _BINARY[ufunc](t, other))
        self._check_inplace(op)
        arr = other._data if isinstance(other, Tensor) else other
        try:
            ufunc(self._data, arr, out=self._data, casting="same_kind")
        except ValueError as e:
            oshape = np.shape(arr)
            raise RuntimeError(
                f"in-place {op}: cannot broadcast {oshape} into the tensor's shape {self.shape}"
            ) from e
        except TypeError as e:  # numpy's UFuncTypeError for casting
            raise RuntimeError(f"in-place {op}: {e}") from e
        self._version[0] += 1
        return self

    def _inplace_fn(self, op: str, fn: Callable[[Tensor], Tensor], *others: Any) -> Tensor:
        """In place ``self = fn(self)``; ``fn`` is out of place (recorded when needed)."""
        if self._needs_record(*others):
            return self._record(op, fn)
        self._check_inplace(op)
        with autograd.no_grad():
            res = fn(Tensor._wrap(self._data))._data
        try:
            np.copyto(self._data, res, casting="same_kind")
        except TypeError as e:
            raise RuntimeError(
                f"in-place {op}: result type {res.dtype} can't be cast to the desired output "
                f"type {self._data.dtype}"
            ) from e
        except ValueError as e:
            raise RuntimeError(
                f"in-place {op}: the result of shape {res.shape} cannot be written into the "
                f"tensor's shape {self.shape}"
            ) from e
        self._version[0] += 1
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace("+=", other, np.add)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace("-=", other, np.subtract)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace("*=", other, np.multiply)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace("/=", other, np.true_divide)

    def __ipow__(self, other: Any) -> Tensor:
        return self._inplace_fn("**=", lambda t: t**other, other)

    def add_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """In-place ``self += alpha * other``.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2).add_(gf.ones(2), alpha=2)
            tensor([3., 3.])
        """
        return self._inplace("add_", other if alpha == 1 else _scaled(other, alpha), np.add)

    def sub_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """In-place ``self -= alpha * other``."""
        return self._inplace("sub_", other if alpha == 1 else _scaled(other, alpha), np.subtract)

    def mul_(self, other: Any) -> Tensor:
        """In-place ``self *= other``."""
        return self._inplace("mul_", other, np.multiply)

    def div_(self, other: Any) -> Tensor:
        """In-place ``self /= other``."""
        return self._inplace("div_", other, np.true_divide)

    def pow_(self, exponent: Any) -> Tensor:
        """In-place ``self **= exponent``."""
        return self._inplace_fn("pow_", lambda t: t**exponent, exponent)

    def addcmul_(self, tensor1: Any, tensor2: Any, value: Scalar = 1) -> Tensor:
        """In-place ``self += value * tensor1 * tensor2``.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2).addcmul_(gf.tensor([1.0, 2.0]), gf.tensor([3.0, 4.0]), value=0.5)
            tensor([2.5, 5. ])
        """
        return self._inplace_fn(
            "addcmul_", lambda t: t + tensor1 * tensor2 * value, tensor1, tensor2
        )

    def addcdiv_(self, tensor1: Any, tensor2: Any, value: Scalar = 1) -> Tensor:
        """In-place ``self += value * tensor1 / tensor2``."""
        return self._inplace_fn(
            "addcdiv_", lambda t: t + tensor1 / tensor2 * value, tensor1, tensor2
        )

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """In-place clamp to ``[min, max]``.

        Example:
            >>> import gradfit as gf
            >>> gf.tensor([-1.0, 0.5, 2.0]).clamp_(0, 1)
            tensor([0. , 0.5, 1. ])
        """
        return self._inplace_fn("clamp_", lambda t: t.clamp(min, max), min, max)

    clip_ = clamp_

    def clamp_min_(self, min: Any) -> Tensor:  # noqa: A002
        """In-place ``clamp_(min=min)``."""
        return self._inplace_fn("clamp_min_", lambda t: t.clamp(min, None), min)

    def clamp_max_(self, max: Any) -> Tensor:  # noqa: A002
        """In-place ``clamp_(max=max)``."""
        return self._inplace_fn("clamp_max_", lambda t: t.clamp(None, max), max)

    def sqrt_(self) -> Tensor:
        """In-place square root."""
        return self._inplace_fn("sqrt_", lambda t: t.sqrt())

    def exp_(self) -> Tensor:
        """In-place exponential."""
        return self._inplace_fn("exp_", lambda t: t.exp())

    def log_(self) -> Tensor:
        """In-place natural logarithm."""
        return self._inplace_fn("log_", lambda t: t.log())

    def abs_(self) -> Tensor:
        """In-place absolute value."""
        return self._inplace_fn("abs_", lambda t: t.abs())

    def sign_(self) -> Tensor:
        """In-place sign (-1, 0 or 1; 0 for NaN, as PyTorch)."""
        return self._inplace_fn("sign_", lambda t: t.sign())

    def neg_(self) -> Tensor:
        """In-place negation."""
        return self._inplace_fn("neg_", lambda t: -t)

    negative_ = neg_

    def relu_(self) -> Tensor:
        """In-place ReLU."""
        return self._inplace_fn("relu_", lambda t: t.relu())

    def sigmoid_(self) -> Tensor:
        """In-place logistic sigmoid."""
        return self._inplace_fn("sigmoid_", lambda t: t.sigmoid())

    def tanh_(self) -> Tensor:
        """In-place hyperbolic tangent."""
        return self._inplace_fn("tanh_", lambda t: t.tanh())

    # ----------------------------------------------------------------- torch parity: devices,
    # conversions, aliases and random fills (gradfit/device.py, gradfit/ops/aliases.py,
    # gradfit/sampling.py hold the logic)
    @property
    def device(self) -> Any:
        """The device holding the data: always ``gf.device("cpu")``.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2).device
            device(type='cpu')
        """
        from gradfit.device import CPU

        return CPU

    @property
    def is_cuda(self) -> bool:
        """False: gradfit tensors live on the CPU."""
        return False

    @property
    def is_cpu(self) -> bool:
        """True: gradfit tensors live on the CPU."""
        return True

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Convert dtype and/or device, as PyTorch's ``to``: ``to(dtype)``, ``to(device)``,
        ``to(device, dtype)``, ``to(other_tensor)``, with ``non_blocking=`` and ``copy=``.

        Returns ``self`` when nothing changes (unless ``copy=True``). Only the CPU is a
        valid device; others raise ``RuntimeError`` saying so.

        Example:
            >>> import gradfit as gf
            >>> x = gf.ones(2)
            >>> x.to("cpu") is x, x.to("cpu", gf.float64).dtype, x.to(gf.zeros(1, dtype="int64"))
            (True, dtype('float64'), tensor([1, 1]))
        """
        from gradfit.device import check_device, is_device_like

        dev = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        copy = bool(kwargs.pop("copy", False))
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
        args = list(args)
        if args and isinstance(args[0], Tensor):
            other = args.pop(0)
            dtype = other._data.dtype
        elif args and (
            is_device_like(args[0]) or (isinstance(args[0], int) and not isinstance(args[0], bool))
        ):
            dev = args.pop(0)
        if args and dtype is None and not isinstance(args[0], bool):
            dtype = args.pop(0)
        if args and isinstance(args[0], bool):  # to(dtype, non_blocking, copy)
            args.pop(0)
            if args:
                copy = bool(args.pop(0))
        if args:
            raise TypeError(
                f"to: could not read the arguments {args!r} (expected a device, a dtype or a tensor)"
            )
        check_device(dev, "to")
        out = self if dtype is None else self.astype(dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self, memory_format: Any = None) -> Tensor:
        """This tensor (it is already on the CPU), as PyTorch's ``cpu()``.

        Example:
            >>> import gradfit as gf
            >>> x = gf.ones(1); x.cpu() is x
            True
        """
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """Refused: gradfit has no GPU backend (``RuntimeError`` saying what to write)."""
        from gradfit.device import _refuse

        raise _refuse("cuda" if device is None else str(device), "cuda")

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """With no argument, PyTorch's type string (``'torch.FloatTensor'``); else ``to(dtype)``
        (a dtype or such a string).

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2).type(), gf.ones(2).type(gf.float64).dtype
            ('torch.FloatTensor', dtype('float64'))
        """
        if dtype is None:
            return "torch." + _TYPE_NAMES[self._data.dtype]
        if isinstance(dtype, str) and dtype.startswith("torch."):
            names = {v: k for k, v in _TYPE_NAMES.items()}
            if dtype[6:] not in names:
                raise ValueError(f"type: invalid type {dtype!r}")
            dtype = names[dtype[6:]]
        return self.astype(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """Convert to ``other``'s dtype.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2).type_as(gf.zeros(1, dtype="int64"))
            tensor([1, 1])
        """
        if not isinstance(other, Tensor):
            raise TypeError(f"type_as: expected a Tensor, got {type(other).__name__}")
        return self.astype(other._data.dtype)

    def half(self) -> Tensor:
        """Convert to float16."""
        return self.astype(backend.float16)

    def short(self) -> Tensor:
        """Convert to int16."""
        return self.astype(backend.int16)

    def char(self) -> Tensor:
        """Convert to int8."""
        return self.astype(backend.int8)

    def byte(self) -> Tensor:
        """Convert to uint8."""
        return self.astype(backend.uint8)

    def is_floating_point(self) -> bool:
        """Whether the dtype is a float type.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(1).is_floating_point(), gf.arange(2).is_floating_point()
            (True, False)
        """
        return self._data.dtype.kind == "f"

    def nelement(self) -> int:
        """Number of elements (alias of ``numel``)."""
        return int(self._data.size)

    def element_size(self) -> int:
        """Bytes per element.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(1).element_size(), gf.ones(1, dtype="float64").element_size()
            (4, 8)
        """
        return self._data.itemsize

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the data is laid out in row-major order without gaps.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2, 3).is_contiguous(), gf.ones(2, 3).t().is_contiguous()
            (True, False)
        """
        return bool(self._data.flags.c_contiguous)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """This tensor if contiguous, else a row-major copy that stays in the graph.

        Example:
            >>> import gradfit as gf
            >>> gf.ones(2, 3).t().contiguous().is_contiguous()
            True
        """
        if self._data.flags.c_contiguous:
            return self
        return self.clone()

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with samples from U(a, b) (``generator=`` or gradfit's generator)."""
        from gradfit.sampling import fill_

        return fill_(
            self,
            "uniform_",
            generator,
            lambda r, n: r.uniform(a, b, n),
            check=a <= b,
            msg=f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}",
        )

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with samples from N(mean, std**2)."""
        from gradfit.sampling import fill_

        return fill_(
            self,
            "normal_",
            generator,
            lambda r, n: r.normal(mean, std, n),
            check=std >= 0,
            msg=f"normal expects std >= 0.0, but found std {std}",
        )


_TYPE_NAMES = {
    backend.float32: "FloatTensor",
    backend.float64: "DoubleTensor",
    backend.float16: "HalfTensor",
    backend.int64: "LongTensor",
    backend.int32: "IntTensor",
    backend.int16: "ShortTensor",
    backend.int8: "CharTensor",
    backend.uint8: "ByteTensor",
    backend.bool_: "BoolTensor",
}


def _data(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _scaled(x: Any, alpha: Scalar) -> Any:
    """``alpha * x`` for the ``alpha=`` of add_/sub_ (a tensor stays in the graph)."""
    return x * alpha if isinstance(x, Tensor) else np.multiply(x, alpha)


def _copied(t: Tensor, src: Any) -> Tensor:
    """``src`` broadcast to ``t``'s shape and cast to its dtype, as a new value of ``t``."""
    from gradfit.ops.inplace import SetItem, _unchecked_inputs

    s = src if isinstance(src, Tensor) else Tensor._wrap(np.asarray(src, t._data.dtype))
    if s._data.dtype != t._data.dtype:
        s = s.astype(t._data.dtype)
    return _unchecked_inputs(SetItem.apply(t, s, pre=None, index=Ellipsis))


_BINARY: dict[Any, Callable[[Tensor, Any], Tensor]] = {
    np.add: lambda a, b: a + b,
    np.subtract: lambda a, b: a - b,
    np.multiply: lambda a, b: a * b,
    np.true_divide: lambda a, b: a / b,
}


def _norm_dim(dim: int, ndim: int, op: str) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dimension {dim} is out of range for a tensor with {ndim} dimensions "
            f"(expected {-n} to {n - 1})"
        )
    return dim % n


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data to an array with PyTorch's default dtypes."""
    dt = None if dtype is None else backend.to_dtype(dtype)
    if isinstance(data, Tensor):
        arr = data._data
        return arr.copy() if dt is None or dt == arr.dtype else arr.astype(dt)
    if isinstance(data, np.ndarray):
        if dt is None:
            if data.dtype.kind in "fiub" and data.dtype in backend._SUPPORTED:
                return data.copy()
            if data.dtype.kind == "f":
                return data.astype(backend.default_float)
            if data.dtype.kind in "iu":
                return data.astype(backend.default_int)
            raise TypeError(f"tensor: unsupported array dtype {data.dtype}")
        return data.astype(dt)
    if isinstance(data, (np.generic,)):
        data = data.item() if dt is None and data.dtype not in backend._SUPPORTED else data
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"tensor: could not make an array from the data ({e})") from e
    if arr.dtype.kind in "uOf" and arr.size and (dt is None or dt.kind in "iu"):
        _check_int_range(data, arr, dt)
    if dt is not None:
        if dt.kind in "iu" and arr.dtype.kind in "iu" and arr.size:
            _check_int_range(data, arr, dt)
        return arr.astype(dt)
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(backend.default_float) if arr.dtype == np.float64 else arr
    if kind in "iu":
        return arr.astype(backend.default_int) if not isinstance(data, np.generic) else arr
    if kind == "b":
        return arr
    raise TypeError(
        f"tensor: cannot make a tensor from {type(data).__name__} data "
        f"(NumPy made an array of dtype {arr.dtype}); expected numbers or booleans"
    )


def _has_float(data: Any) -> bool:
    """Whether nested lists/tuples hold a non-integer number (only walked on the rare path)."""
    if isinstance(data, (list, tuple)):
        return any(_has_float(d) for d in data)
    return not isinstance(data, (int, np.integer))


def _check_int_range(data: Any, arr: np.ndarray, dt: np.dtype | None) -> None:
    """Refuse Python integers that do not fit the integer dtype, as PyTorch does.

    NumPy would make 2**63 a uint64 (then wrap it to a negative int64), turn a list holding it
    into float64, or give an object array for larger values; PyTorch raises instead.
    """
    target = backend.default_int if dt is None else dt
    info = np.iinfo(target)
    kind = arr.dtype.kind
    if kind == "f":
        # an all-integer list NumPy turned into floats because one value is too big for int64
        if dt is not None or isinstance(data, (float, np.floating)):
            return
        big = float(np.abs(arr).max())
        if not big >= 2.0**63 or _has_float(data):
            return
        bad = next(int(v) for v in _flat(data) if not info.min <= int(v) <= info.max)
    else:
        if kind == "O" and _has_float(data):
            return
        lo, hi = int(arr.min()), int(arr.max())
        # PyTorch lets negative values wrap into unsigned types (two's complement)
        low = -info.max if target.kind == "u" else info.min
        if low <= lo and hi <= info.max:
            return
        bad = hi if hi > info.max else lo
    raise OverflowError(
        f"tensor: the integer {bad} does not fit in {target} (range {info.min} to {info.max}); "
        f"pass dtype='float64' (or float32) to store it as a float"
    )


def _flat(data: Any) -> Iterator[Any]:
    if isinstance(data, (list, tuple)):
        for d in data:
            yield from _flat(d)
    else:
        yield data


def as_tensor_like(value: Any, like: Tensor) -> Tensor:
    """Turn a scalar, list or array operand into a constant tensor for an op with ``like``.

    Python scalars and arrays take ``like``'s dtype where that loses nothing a
    PyTorch user would expect: a float operand with a float tensor keeps the
    tensor's precision (a float32 model stays float32), a float operand with an
    integer tensor becomes float32.

    Example:
        >>> import gradfit as gf
        >>> as_tensor_like(2.5, gf.ones(2)).dtype
        dtype('float32')
    """
    if isinstance(value, Tensor):
        return value
    ldt = like._data.dtype
    if isinstance(value, bool):
        dt = ldt
    elif isinstance(value, int):
        dt = ldt if ldt.kind != "b" else backend.default_int
    elif isinstance(value, float):
        dt = ldt if ldt.kind == "f" else backend.default_float
    else:
        arr = np.asarray(value)
        kind = arr.dtype.kind
        if kind == "f":
            dt = ldt if ldt.kind == "f" else backend.default_float
        elif kind in "iu":
            dt = ldt if ldt.kind == "f" else backend.result_type(ldt, np.dtype(np.int64))
        elif kind == "b":
            dt = np.dtype(np.bool_) if ldt.kind == "b" else ldt
        else:
            raise TypeError(f"unsupported operand of dtype {arr.dtype}")
        return Tensor._wrap(arr.astype(dt, copy=False))
    return Tensor._wrap(np.asarray(value, dtype=dt))


def tensors_of(*xs: Any) -> Sequence[Tensor]:
    """Make every operand a Tensor, promoting dtypes like PyTorch (see ``backend.result_type``).

    Example:
        >>> import gradfit as gf
        >>> [t.dtype for t in tensors_of(gf.ones(1), 2)]
        [dtype('float32'), dtype('float32')]
    """
    like = next((x for x in xs if isinstance(x, Tensor)), None)
    if like is None:
        like = Tensor(xs[0])
    ts = [as_tensor_like(x, like) for x in xs]
    dt = ts[0]._data.dtype
    for t in ts[1:]:
        dt = backend.result_type(dt, t._data.dtype)
    return [t if t._data.dtype == dt else t.astype(dt) for t in ts]


autograd._Tensor = Tensor
