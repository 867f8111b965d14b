"""``Module``, the base class of every layer and model, and ``Parameter``, a trainable tensor.

A module registers the parameters, buffers and sub-modules assigned to it as
attributes (``self.fc = Linear(4, 2)``), so that ``parameters()``,
``state_dict()``, ``train()``/``eval()`` and ``repr`` find them without any
bookkeeping in the layer's own code. This follows PyTorch's ``torch.nn.Module``.

Example:
    >>> import gradfit as gf
    >>> from gradfit import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = nn.Linear(4, 8)
    ...         self.fc2 = nn.Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.fc2(self.fc1(x).relu())
    >>> net = Net()
    >>> [name for name, _ in net.named_parameters()]
    ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    >>> net(gf.randn(3, 4)).shape
    (3, 2)
    >>> net
    Net(
      (fc1): Linear(in_features=4, out_features=8, bias=True)
      (fc2): Linear(in_features=8, out_features=2, bias=True)
    )
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from gradfit.hooks import RemovableHandle
from gradfit.tensor import Tensor, _to_array


class Parameter(Tensor):
    """A tensor that is a module's trainable weight: ``requires_grad=True`` by default.

    Assigning a ``Parameter`` to a module attribute registers it, so it appears in
    ``parameters()`` and ``state_dict()``. Made from a Tensor, it shares that
    tensor's array (like PyTorch); made from other data (lists, NumPy arrays), it
    copies them with gradfit's default dtypes (float32 for Python floats).

    Example:
        >>> import gradfit as gf
        >>> p = gf.nn.Parameter(gf.zeros(2))
        >>> p.requires_grad, p.dtype
        (True, dtype('float32'))
        >>> p
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = _to_array(data)
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._version = [0]
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)


class _IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictError(RuntimeError, ValueError):
    """``load_state_dict`` found missing, unexpected or wrongly shaped keys.

    A ``RuntimeError`` as in PyTorch, and a ``ValueError`` (bad input); the message
    lists every problem, one per line. ``missing_keys``, ``unexpected_keys`` and
    ``shape_mismatches`` hold them for programs.

    Example:
        >>> issubclass(StateDictError, RuntimeError) and issubclass(StateDictError, ValueError)
        True
    """

    def __init__(
        self,
        message: str,
        missing_keys: list[str],
        unexpected_keys: list[str],
        shape_mismatches: list[str],
    ) -> None:
        super().__init__(message)
        self.missing_keys = missing_keys
        self.unexpected_keys = unexpected_keys
        self.shape_mismatches = shape_mismatches


def _addindent(s: str, num_spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(" " * num_spaces + line for line in lines)


class Module:
    """Base class of layers and models: subclass it, assign layers in ``__init__``, write ``forward``.

    Calling the module (``model(x)``) runs ``forward``. Parameters, buffers and
    sub-modules are registered when assigned as attributes. ``training`` is True
    after construction; ``eval()`` switches the module and its children to
    evaluation mode (Dropout off, BatchNorm uses running statistics).

    Layers report a wrong input shape with :meth:`input_shape_error`.

    Example:
        >>> import gradfit as gf
        >>> class Affine(gf.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = gf.nn.Parameter(gf.ones(3))
        ...         self.register_buffer("calls", gf.zeros(()))
        ...     def forward(self, x):
        ...         return x * self.scale
        >>> m = Affine()
        >>> list(m.state_dict())
        ['scale', 'calls']
        >>> m.eval().training
        False
    """

    training: bool
    # read-only defaults, so a subclass that skips Module.__init__ still runs (without hooks)
    _forward_pre_hooks: Any = MappingProxyType({})
    _forward_hooks: Any = MappingProxyType({})
    # a layer that can run the modules after it in a Sequential as one fused call defines
    # _fuse_next(self, x, rest) (gradfit.nn.conv); None here keeps Sequential's check cheap
    _fuse_next: Any = None

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()

    # ----------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses override it."""
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(): define forward(self, ...) in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks):  # the common, fast case
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        # tuple(...) so that a hook may remove itself (or others) while the hooks run
        for hook in tuple(self._forward_pre_hooks.values()):
            if isinstance(hook, _WithKwargs):  # hook(module, args, kwargs) -> (args, kwargs)
                result = hook.fn(self, args, kwargs)
                if result is not None:
                    args, kwargs = result
                continue
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in tuple(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_pre_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; it may replace the inputs.

        ``args`` is the tuple of positional arguments (keyword arguments go to
        ``forward`` only). A hook that returns None leaves them as they are; one that
        returns a tuple replaces them, and any other value ``v`` replaces them with
        ``(v,)``. Hooks run in the order registered; ``prepend=True`` puts this one
        first. With ``with_kwargs=True`` the hook is called as ``hook(module, args,
        kwargs)`` and may return a new ``(args, kwargs)`` pair, as in PyTorch.

        Example:
            >>> import gradfit as gf
            >>> relu = gf.nn.ReLU()
            >>> with relu.register_forward_pre_hook(lambda m, args: -args[0]):
            ...     relu(gf.tensor([1.0, -2.0]))
            tensor([0., 2.])
            >>> relu(gf.tensor([1.0, -2.0]))
            tensor([1., 0.])
        """
        self._check_init("a hook")
        if with_kwargs:
            if not callable(hook):
                raise TypeError(
                    f"register_forward_pre_hook: hook must be callable, got {type(hook).__name__}"
                )
            hook = _WithKwargs(hook)
        return self._add_hook(self._forward_pre_hooks, hook, prepend, "register_forward_pre_hook")

    def register_forward_hook(
        self, hook: Callable[[Module, tuple[Any, ...], Any], Any], *, prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward``; it may replace the output.

        ``args`` is the tuple of positional inputs (after any pre-hook replaced
        them). A hook that returns None leaves the output as it is; any other value
        becomes the output (and what later hooks see). Hooks run in the order
        registered; ``prepend=True`` puts this one first. As in PyTorch;
        ``with_kwargs`` and ``always_call`` are not supported. Use it to record
        intermediate activations of any model:

        Example:
            >>> import gradfit as gf
            >>> model = gf.models.cnn1d()
            >>> seen = {}
            >>> def record(module, args, output):
            ...     seen["conv2"] = output.shape
            >>> with model.conv2.register_forward_hook(record):
            ...     _ = model(gf.randn(3, 40))
            >>> seen
            {'conv2': (3, 25, 10)}
        """
        self._check_init("a hook")
        return self._add_hook(self._forward_hooks, hook, prepend, "register_forward_hook")

    @staticmethod
    def _add_hook(
        hooks: OrderedDict[int, Any], hook: Any, prepend: bool, who: str
    ) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{who}: hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    # ----------------------------------------------------------------- registration
    def _check_init(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call: "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            self._check_init("parameters")
            self._remove_from(name, d)
            params[name] = value
        elif isinstance(value, Module):
            self._check_init("child modules")
            self._remove_from(name, d)
            d["_modules"][name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of "
                    f"{type(self).__name__} (gf.nn.Parameter or None expected)"
                )
            params[name] = None
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} of "
                    f"{type(self).__name__} (gf.nn.Module or None expected)"
                )
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} of "
                    f"{type(self).__name__} (gf.Tensor or None expected)"
                )
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _remove_from(self, name: str, d: dict[str, Any]) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            d[key].pop(name, None)
        d["_non_persistent_buffers"].discard(name)
        d.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d.get(key, ()):
                del d[key][name]
                d["_non_persistent_buffers"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        extra = [*self._parameters, *self._buffers, *self._modules]
        return sorted(set(super().__dir__()) | set(extra))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, for an absent optional weight such as a bias) as ``name``.

        Example:
            >>> import gradfit as gf
            >>> m = gf.nn.Module()
            >>> m.register_parameter("bias", None)
            >>> m.bias is None
            True
        """
        self._check_init("parameters")
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} must be a gf.nn.Parameter or None, "
                f"got {type(param).__name__}"
            )
        self._remove_from(name, self.__dict__)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not a parameter (e.g. BatchNorm's running mean).

        Buffers are in ``state_dict()`` (unless ``persistent=False``) and are not
        returned by ``parameters()``.

        Example:
            >>> import gradfit as gf
            >>> m = gf.nn.Module()
            >>> m.register_buffer("running_mean", gf.zeros(3))
            >>> [n for n, _ in m.named_buffers()]
            ['running_mean']
        """
        self._check_init("buffers")
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: {name!r} must be a gf.Tensor or None, got {type(tensor).__name__}"
            )
        self._remove_from(name, self.__dict__)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (what attribute assignment does).

        Example:
            >>> import gradfit as gf
            >>> m = gf.nn.Module()
            >>> m.add_module("act", gf.nn.ReLU())
            >>> m.act
            ReLU()
        """
        self._check_init("child modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module: {name!r} must be a gf.nn.Module or None, got {type(module).__name__}"
            )
        self._check_name(name, "module")
        self._remove_from(name, self.__dict__)
        self._modules[name] = module

    register_module = add_module

    @staticmethod
    def _check_name(name: Any, what: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{what} name must be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise ValueError(f"{what} name must be non-empty and contain no '.', got {name!r}")

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path such as ``"encoder.0"``.

        Example:
            >>> import gradfit as gf
            >>> net = gf.nn.Sequential(gf.nn.Linear(2, 3), gf.nn.ReLU())
            >>> net.get_submodule("1")
            ReLU()
        """
        mod: Module = self
        if target == "":
            return mod
        for part in target.split("."):
            child = mod._modules.get(part)
            if child is None:
                raise AttributeError(f"{mod._get_name()} has no submodule {part!r} (in {target!r})")
            mod = child
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path such as ``"0.weight"``.

        Example:
            >>> import gradfit as gf
            >>> net = gf.nn.Sequential(gf.nn.Linear(2, 3))
            >>> net.get_parameter("0.bias").shape
            (3,)
        """
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{mod._get_name()} has no parameter `{name}` (in {target!r})")
        p = mod._parameters[name]
        if p is None:
            raise AttributeError(f"`{name}` is None in {mod._get_name()} (in {target!r})")
        return p

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path such as ``"0.running_mean"``.

        Example:
            >>> import gradfit as gf
            >>> net = gf.nn.Sequential(gf.nn.BatchNorm1d(3))
            >>> net.get_buffer("0.running_var").shape
            (3,)
        """
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._buffers:
            raise AttributeError(f"{mod._get_name()} has no buffer `{name}` (in {target!r})")
        b = mod._buffers[name]
        if b is None:
            raise AttributeError(f"`{name}` is None in {mod._get_name()} (in {target!r})")
        return b

    # ----------------------------------------------------------------- device and dtype
    def _cast_floats(self, dtype: Any) -> Module:
        dt = np.dtype(dtype)
        if dt == np.float16:
            raise RuntimeError(
                f"{self._get_name()}: gradfit does not train in float16 (NumPy has no fast "
                "half-precision kernels); keep float32 (.float()) or use float64 (.double())"
            )
        if dt.kind != "f":
            raise TypeError(
                f"{self._get_name()}.to: nn.Module.to only accepts floating point dtypes, but got {dt}"
            )
        for module in self.modules():
            for d in (module._parameters, module._buffers):
                for t in d.values():
                    if t is not None and t._data.dtype.kind == "f" and t._data.dtype != dt:
                        t._data = t._data.astype(dt)
                        t._version[0] += 1
                        if t.grad is not None:
                            t.grad = t.grad.to(dt) if hasattr(t.grad, "to") else t.grad
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move/cast in place, as PyTorch: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``.

        gradfit runs on the CPU: a device whose name is ``"cpu"`` (or ``"cpu:0"``) is accepted
        and changes nothing; any other device is a ``RuntimeError``. A floating ``dtype``
        casts every floating parameter and buffer (integer buffers stay as they are).

        Example:
            >>> import gradfit as gf
            >>> lin = gf.nn.Linear(2, 2).to("cpu", gf.float64)
            >>> lin.weight.dtype
            dtype('float64')
        """
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a._data.dtype if a._data.dtype.kind == "f" else dtype
            elif isinstance(a, bool) or a is None:
                continue
            elif _is_device(a):
                device = a
            else:
                dtype = a
        if device is not None:
            _check_cpu(device, self._get_name())
        if dtype is not None:
            self._cast_floats(dtype)
        return self

    def cpu(self) -> Module:
        """Return ``self``: gradfit's parameters always live on the CPU.

        Example:
            >>> import gradfit as gf
            >>> gf.nn.ReLU().cpu()
            ReLU()
        """
        return self

    def cuda(self, device: Any = None) -> Module:
        """Refused: gradfit runs on the CPU only (``RuntimeError``).

        Example:
            >>> import gradfit as gf
            >>> gf.nn.ReLU().cuda()
            Traceback (most recent call last):
            ...
            RuntimeError: ReLU.cuda(): gradfit runs on the CPU only (no CUDA backend); use .to("cpu") or drop the call
        """
        raise RuntimeError(
            f"{self._get_name()}.cuda(): gradfit runs on the CPU only (no CUDA backend); "
            'use .to("cpu") or drop the call'
        )

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64 (in place).

        Example:
            >>> import gradfit as gf
            >>> gf.nn.Linear(1, 1).double().weight.dtype
            dtype('float64')
        """
        return self._cast_floats(np.float64)

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32 (in place).

        Example:
            >>> import gradfit as gf
            >>> gf.nn.Linear(1, 1).double().float().weight.dtype
            dtype('float32')
        """
        return self._cast_floats(np.float32)

    def half(self) -> Module:
        """Refused with a ``RuntimeError``: gradfit does not train in float16.

        Example:
            >>> import gradfit as gf
            >>> gf.nn.Linear(1, 1).half()
            Traceback (most recent call last):
            ...
            RuntimeError: Linear: gradfit does not train in float16 (NumPy has no fast half-precision kernels); keep float32 (.float()) or use float64 (.double())
        """
        return self._cast_floats(np.float16)

    def type(self, dst_type: Any) -> Module:
        """Cast floating parameters and buffers to ``dst_type`` (in place).

        Example:
            >>> import gradfit as gf
            >>> gf.nn.Linear(1, 1).type(gf.float64).bias.dtype
            dtype('float64')
        """
        return self._cast_floats(dst_type)

    # ----------------------------------------------------------------- traversal
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """Every module in the tree (this one first, named ``""``), with its dotted name.

        Example:
            >>> import gradfit as gf
            >>> net = gf.nn.Sequential(gf.nn.Linear(2, 3), gf.nn.ReLU())
            >>> [n for n, _ in net.named_modules()]
            ['', '0', '1']
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """Every module in the tree, this one first.

        Example:
            >>> import gradfit as gf
            >>> len(list(gf.nn.Sequential(gf.nn.Linear(2, 3), gf.nn.ReLU()).modules()))
            3
        """
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their names.

        Example:
            >>> import gradfit as gf
            >>> [n for n, _ in gf.nn.Sequential(gf.nn.ReLU(), gf.nn.Tanh()).named_children()]
            ['0', '1']
        """
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct sub-modules.

        Example:
            >>> import gradfit as gf
            >>> list(gf.nn.Sequential(gf.nn.ReLU()).children())
            [ReLU()]
        """
        for _, m in self.named_children():
            yield m

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        mods = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for mprefix, module in mods:
            for name, value in getattr(module, store).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield mprefix + ("." if mprefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name; a parameter shared by two layers appears once.

        Example:
            >>> import gradfit as gf
            >>> [(n, p.shape) for n, p in gf.nn.Linear(3, 2).named_parameters()]
            [('weight', (2, 3)), ('bias', (2,))]
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)  # type: ignore[misc]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (what an optimizer is given).

        Example:
            >>> import gradfit as gf
            >>> sum(p.numel() for p in gf.nn.Linear(784, 10).parameters())
            7850
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name.

        Example:
            >>> import gradfit as gf
            >>> list(gf.nn.Linear(2, 2).named_buffers())
            []
        """
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer.

        Example:
            >>> import gradfit as gf
            >>> list(gf.nn.ReLU().buffers())
            []
        """
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----------------------------------------------------------------- modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and all below.

        Example:
            >>> import gradfit as gf
            >>> net = gf.nn.Sequential(gf.nn.Dropout(0.5))
            >>> net.train(False)[0].training
            False
        """
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {mode!r}")
        self.__dict__["training"] = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: the same as ``train(False)``.

        Example:
            >>> import gradfit as gf
            >>> gf.nn.Dropout().eval().training
            False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter: ``requires_grad_(False)`` freezes the module.

        Example:
            >>> import gradfit as gf
            >>> lin = gf.nn.Linear(2, 2).requires_grad_(False)
            >>> any(p.requires_grad for p in lin.parameters())
            False
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (to None by default, as in PyTorch 2).

        Example:
            >>> import gradfit as gf
            >>> lin = gf.nn.Linear(2, 1)
            >>> lin(gf.ones(1, 2)).sum().backward()
            >>> lin.zero_grad()
            >>> lin.weight.grad is None
            True
        """
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad._data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on this module.

        Example:
            >>> import gradfit as gf
            >>> def init(m):
            ...     if isinstance(m, gf.nn.Linear):
            ...         gf.nn.init.zeros_(m.weight)
            >>> net = gf.nn.Sequential(gf.nn.Linear(2, 2)).apply(init)
            >>> float(net[0].weight.abs().sum())
            0.0
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- state
    def state_dict(
        self, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Any]:
        """Parameters and persistent buffers by dotted name, as detached tensors sharing memory.

        As in PyTorch, each value is ``param.detach()``: it shares the parameter's array, so
        later training changes it too; keep a snapshot with
        ``{k: v.clone() for k, v in sd.items()}`` (or ``copy.deepcopy``). ``np.asarray(v)``
        and ``v.numpy()`` give the array. ``keep_vars=True`` returns the tensors themselves.

        Example:
            >>> import gradfit as gf
            >>> sd = gf.nn.Linear(3, 2).state_dict()
            >>> {k: v.shape for k, v in sd.items()}
            {'weight': (2, 3), 'bias': (2,)}
        """
        out: OrderedDict[str, Any] = OrderedDict() if destination is None else destination  # type: ignore[assignment]
        for mprefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            sep = "." if mprefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[mprefix + sep + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers:
                    out[mprefix + sep + name] = b if keep_vars else b.detach()
        return out

    def _state_targets(self) -> OrderedDict[str, Tensor]:
        return self.state_dict(keep_vars=True)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """Copy values into this module's parameters and buffers, in place.

        Every missing key, unexpected key and wrongly shaped value is collected and
        reported in one :class:`StateDictError`; when anything is wrong, no
        parameter is changed. ``strict=False`` ignores missing and unexpected keys
        (shape mismatches are still errors) and returns them. Values may be NumPy
        arrays, gradfit tensors, or anything ``np.asarray`` accepts. ``assign=True``
        makes each parameter and buffer use the given array itself (no copy, its dtype
        kept), as PyTorch's ``assign``; the default copies into the existing arrays.

        Example:
            >>> import gradfit as gf
            >>> a, b = gf.nn.Linear(3, 2), gf.nn.Linear(3, 2)
            >>> b.load_state_dict(a.state_dict())
            _IncompatibleKeys(missing_keys=[], unexpected_keys=[])
            >>> bool((a.weight == b.weight).all())
            True
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to arrays, got "
                f"{type(state_dict).__name__}"
            )
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        bad: list[str] = []
        arrays: dict[str, np.ndarray] = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:
                arr = value._data if isinstance(value, Tensor) else _as_array(value)
            except (TypeError, ValueError) as e:
                bad.append(f"{key}: cannot read the value as an array ({e})")
                continue
            if arr.shape != target.shape:
                bad.append(
                    f"{key}: shape {tuple(arr.shape)} in the checkpoint, "
                    f"{tuple(target.shape)} in the model"
                )
            elif not np.can_cast(arr.dtype, target.dtype, casting="same_kind"):
                bad.append(f"{key}: dtype {arr.dtype} cannot be loaded into {target.dtype}")
            else:
                arrays[key] = arr
        if bad or (strict and (missing or unexpected)):
            lines = [f"Error(s) in loading state_dict for {self._get_name()}:"]
            if strict and missing:
                lines.append("  Missing key(s): " + ", ".join(repr(k) for k in missing))
            if strict and unexpected:
                lines.append("  Unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
            if bad:
                lines.append("  Size mismatch(es):")
                lines.extend("    " + b for b in bad)
            lines.append("  No parameter or buffer was changed.")
            raise StateDictError("\n".join(lines), missing, unexpected, bad)
        for key, arr in arrays.items():
            target = targets[key]
            if assign:
                target._data = arr
            else:
                np.copyto(target._data, arr, casting="unsafe")
            target._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- errors
    def input_shape_error(self, expected: str, got: Any) -> ValueError:
        """The error a layer raises for a wrongly shaped input (stable API for layer authors).

        Signature: ``input_shape_error(expected: str, got: tuple | Tensor) -> ValueError``.
        ``expected`` describes the accepted shapes, e.g. ``"(*, 784)"`` or
        ``"(N, C, H, W) with C=3"``; ``got`` is the input's shape (or the input).
        The message names the layer as it prints in a model. Use it as
        ``raise self.input_shape_error("(*, 784)", x.shape)``.

        Example:
            >>> import gradfit as gf
            >>> lin = gf.nn.Linear(784, 128)
            >>> print(lin.input_shape_error("(*, 784)", (32, 100)))
            Linear(in_features=784, out_features=128, bias=True): expected input (*, 784), got (32, 100)
        """
        if isinstance(got, Tensor):
            got = got.shape
        shape = tuple(int(s) for s in got) if isinstance(got, (tuple, list)) else got
        return ValueError(f"{self._layer_str()}: expected input {expected}, got {shape}")

    def _layer_str(self) -> str:
        return f"{self._get_name()}({self.extra_repr()})"

    # ----------------------------------------------------------------- repr
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's ``repr`` line; layers override it.

        Example:
            >>> import gradfit as gf
            >>> gf.nn.Linear(2, 3).extra_repr()
            'in_features=2, out_features=3, bias=True'
        """
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def _repr_html_(self) -> str:  # Jupyter: the layers as a table, the repr folded below
        from gradfit.notebook import module_html

        return module_html(self)


def _as_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, duck-typed
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"dtype {arr.dtype} is not numeric")
    return arr


def _is_device(a: Any) -> bool:
    if isinstance(a, str):
        return a.split(":")[0] in ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia")
    if isinstance(a, int):
        return False
    return type(a).__name__ == "device" or (
        hasattr(a, "index") and hasattr(a, "type") and not isinstance(a, type)
    )


def _check_cpu(device: Any, who: str) -> None:
    name = str(device)
    if name not in ("cpu", "cpu:0"):
        raise RuntimeError(
            f"{who}.to({name!r}): gradfit runs on the CPU only; available device: 'cpu'. "
            "Write device = 'cuda' if gf.cuda.is_available() else 'cpu' to pick it"
        )


class _WithKwargs:
    """A forward pre-hook registered with ``with_kwargs=True`` (it also sees the keywords)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)
