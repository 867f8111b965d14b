"""Containers of modules: ``Sequential`` (a chain), ``ModuleList`` and ``ModuleDict``.

Each registers its members as sub-modules, so their parameters, modes and
state are found by the parent, exactly as in PyTorch.

Example:
    >>> import gradfit as gf
    >>> from gradfit import nn
    >>> mlp = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    >>> mlp(gf.randn(32, 784)).shape
    (32, 10)
    >>> mlp[:2]
    Sequential(
      (0): Linear(in_features=784, out_features=128, bias=True)
      (1): ReLU()
    )
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from gradfit.nn.module import Module


def _index(idx: Any, n: int, who: str) -> int:
    try:
        i = int(idx.__index__())
    except AttributeError:
        raise TypeError(
            f"{who} indices must be integers or slices, not {type(idx).__name__}"
        ) from None
    if not -n <= i < n:
        raise IndexError(f"{who} index {i} is out of range for {n} module(s)")
    return i % n


def _check_module(m: Any, who: str) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"{who}: expected a gf.nn.Module, got {type(m).__name__}")
    return m


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Takes modules as arguments (named ``"0"``, ``"1"``, ...) or one ``OrderedDict``
    of named modules. Indexing gives a member; slicing gives a new ``Sequential``
    sharing the members (and their parameters).

    Example:
        >>> import gradfit as gf
        >>> from collections import OrderedDict
        >>> net = gf.nn.Sequential(OrderedDict(fc=gf.nn.Linear(4, 2), act=gf.nn.Tanh()))
        >>> net.fc
        Linear(in_features=4, out_features=2, bias=True)
        >>> net[-1], len(net)
        (Tanh(), 2)
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, _check_module(module, "Sequential"))
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), _check_module(module, "Sequential"))

    @overload
    def __getitem__(self, idx: slice) -> Sequential: ...
    @overload
    def __getitem__(self, idx: int) -> Module: ...

    def __getitem__(self, idx: Any) -> Any:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        return items[_index(idx, len(items), "Sequential")][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        keys = list(self._modules)
        key = keys[_index(idx, len(keys), "Sequential")]
        self._modules[key] = _check_module(module, "Sequential")

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        if isinstance(idx, slice):
            for key in keys[idx]:
                del self._modules[key]
        else:
            del self._modules[keys[_index(idx, len(keys), "Sequential")]]
        # renumber, as PyTorch does, so that indices stay contiguous
        if all(k.isdigit() for k in self._modules):
            mods = list(self._modules.values())
            self._modules.clear()
            for i, m in enumerate(mods):
                self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end.

        Example:
            >>> import gradfit as gf
            >>> len(gf.nn.Sequential(gf.nn.ReLU()).append(gf.nn.Tanh()))
            2
        """
        self.add_module(str(len(self)), _check_module(module, "Sequential.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Add every module of ``modules`` at the end.

        Example:
            >>> import gradfit as gf
            >>> len(gf.nn.Sequential().extend([gf.nn.ReLU(), gf.nn.Tanh()]))
            2
        """
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before position ``index``.

        Example:
            >>> import gradfit as gf
            >>> gf.nn.Sequential(gf.nn.ReLU()).insert(0, gf.nn.Tanh())[0]
            Tanh()
        """
        _check_module(module, "Sequential.insert")
        mods = list(self._modules.values())
        n = len(mods)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} module(s)")
        mods.insert(index if index >= 0 else index + n, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m
        return self

    def forward(self, x: Any) -> Any:
        """Each member on the output of the one before; a member with a ``_fuse_next``
        method may run the ones after it too, fused (``Conv2d -> ReLU -> MaxPool2d``:
        :meth:`gradfit.nn.Conv2d._fuse_next`), with the same values and graph."""
        mods = list(self._modules.values())
        n = len(mods)
        i = 0
        while i < n:
            m = mods[i]
            i += 1
            fuse = getattr(m, "_fuse_next", None)  # a Module's class attribute: a fast hit
            if fuse is not None and i < n:
                done = fuse(x, mods[i : i + 2])
                if done is not None:
                    x, ran = done
                    i += ran
                    continue
            x = m(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters belong to the parent; ``forward`` is up to you.

    Example:
        >>> import gradfit as gf
        >>> layers = gf.nn.ModuleList([gf.nn.Linear(4, 4) for _ in range(3)])
        >>> len(list(layers.parameters())), len(layers[1:])
        (6, 2)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: Any) -> Any:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[_index(idx, len(mods), "ModuleList")]

    def __setitem__(self, idx: int, module: Module) -> None:
        i = _index(idx, len(self), "ModuleList")
        self._modules[str(i)] = _check_module(module, "ModuleList")

    def __delitem__(self, idx: int | slice) -> None:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(idx, len(mods), "ModuleList")]
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end.

        Example:
            >>> import gradfit as gf
            >>> len(gf.nn.ModuleList().append(gf.nn.ReLU()))
            1
        """
        self.add_module(str(len(self)), _check_module(module, "ModuleList.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add every module of ``modules`` at the end.

        Example:
            >>> import gradfit as gf
            >>> len(gf.nn.ModuleList().extend([gf.nn.ReLU(), gf.nn.Tanh()]))
            2
        """
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend: expected an iterable of modules, got one Module")
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``.

        Example:
            >>> import gradfit as gf
            >>> ml = gf.nn.ModuleList([gf.nn.ReLU()])
            >>> ml.insert(0, gf.nn.Tanh()); ml[0]
            Tanh()
        """
        _check_module(module, "ModuleList.insert")
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward(): iterate over it in your module's forward"
        )


class ModuleDict(Module):
    """A dict of named modules whose parameters belong to the parent.

    Example:
        >>> import gradfit as gf
        >>> heads = gf.nn.ModuleDict({"cls": gf.nn.Linear(8, 3), "reg": gf.nn.Linear(8, 1)})
        >>> list(heads.keys()), heads["reg"].out_features
        (['cls', 'reg'], 1)
    """

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; keys: {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()  # type: ignore[return-value]

    def items(self) -> Iterable[tuple[str, Module]]:
        """(name, module) pairs, in insertion order."""
        return self._modules.items()  # type: ignore[return-value]

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module.

        Example:
            >>> import gradfit as gf
            >>> d = gf.nn.ModuleDict({"a": gf.nn.ReLU()})
            >>> d.pop("a"), len(d)
            (ReLU(), 0)
        """
        m = self[key]
        del self._modules[key]
        return m

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from (name, module) pairs.

        Example:
            >>> import gradfit as gf
            >>> d = gf.nn.ModuleDict()
            >>> d.update([("act", gf.nn.ReLU())]); list(d)
            ['act']
        """
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError("ModuleDict.update: expected a mapping or (name, module) pairs")
            self[pair[0]] = pair[1]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward(): pick a module by key")


# ------------------------------------------------------------------ parameter containers
def _as_parameter(value: Any) -> Any:
    from gradfit.nn.module import Parameter
    from gradfit.tensor import Tensor

    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _param_line(p: Any) -> str:
    from gradfit.tensor import Tensor

    if not isinstance(p, Tensor):
        return f"Object of type: {type(p).__name__}"
    size = "x".join(str(s) for s in p.shape)
    return f"Parameter containing: [gradfit.{p.dtype} of size {size}]"


class ParameterList(Module):
    """A list of parameters, registered under the names ``"0"``, ``"1"``, ...

    Tensors appended are wrapped in :class:`Parameter`, as in PyTorch.

    Example:
        >>> import gradfit as gf
        >>> pl = gf.nn.ParameterList([gf.nn.Parameter(gf.zeros(2)) for _ in range(2)])
        >>> len(pl), [n for n, _ in pl.named_parameters()]
        (2, ['0', '1'])
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _key(self, idx: int) -> str:
        return str(_index(idx, self._size, "ParameterList"))

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, self._key(idx))

    def __setitem__(self, idx: int, param: Any) -> None:
        setattr(self, self._key(idx), _as_parameter(param))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._size))

    def __iadd__(self, parameters: Iterable[Any]) -> ParameterList:
        return self.extend(parameters)

    def __dir__(self) -> list[str]:
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value: Any) -> ParameterList:
        """Add one parameter at the end.

        Example:
            >>> import gradfit as gf
            >>> len(gf.nn.ParameterList().append(gf.zeros(3)))
            1
        """
        self._size += 1
        setattr(self, str(self._size - 1), _as_parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add several parameters at the end.

        Example:
            >>> import gradfit as gf
            >>> len(gf.nn.ParameterList().extend([gf.zeros(1), gf.zeros(2)]))
            2
        """
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(
                f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}"
            )
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({i}): {_param_line(p)}" for i, p in enumerate(self))

    def __repr__(self) -> str:
        body = self.extra_repr()
        return "ParameterList(\n" + _addindent4(body) + "\n)" if body else "ParameterList()"

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList is a container of parameters and has no forward()")


def _addindent4(s: str) -> str:
    return "\n".join("    " + line for line in s.split("\n"))


class ParameterDict(Module):
    """A dict of parameters by name (insertion order kept); tensors are wrapped in :class:`Parameter`.

    Example:
        >>> import gradfit as gf
        >>> pd = gf.nn.ParameterDict({"scale": gf.ones(3)})
        >>> list(pd.state_dict()), type(pd["scale"]).__name__
        (['scale'], 'Parameter')
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._keys.keys()

    def values(self) -> Iterable[Any]:
        """The parameters, in insertion order."""
        return [self[k] for k in self._keys]

    def items(self) -> Iterable[tuple[str, Any]]:
        """``(name, parameter)`` pairs, in insertion order."""
        return [(k, self[k]) for k in self._keys]

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter named ``key``, or ``default``."""
        return self[key] if key in self._keys else default

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its parameter."""
        v = self[key]
        del self[key]
        return v

    def clear(self) -> None:
        """Remove every parameter."""
        for k in list(self._keys):
            del self[k]

    def update(self, parameters: Any) -> None:
        """Add or replace parameters from a mapping or an iterable of ``(name, value)`` pairs.

        A plain ``dict`` is added in sorted key order, an ``OrderedDict``, a ``ParameterDict``
        or a list of pairs in its own order (PyTorch's rule).
        """
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            items: Any = parameters.items()
        elif isinstance(parameters, Mapping):
            items = sorted(parameters.items())  # as PyTorch: a plain mapping is added in key order
        else:
            items = parameters
        for pair in items:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(
                    f"ParameterDict.update: expected (name, value) pairs, got {type(pair).__name__}"
                )
            self[pair[0]] = pair[1]

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): {_param_line(p)}" for k, p in self.items())

    def __repr__(self) -> str:
        body = self.extra_repr()
        return "ParameterDict(\n" + _addindent4(body) + "\n)" if body else "ParameterDict()"

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict is a container of parameters and has no forward()")
