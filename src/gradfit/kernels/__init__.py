"""Optional compiled kernels: a NumPy function compiled by numba when it is installed.

gradfit is NumPy first: every op has a pure-NumPy path that is always there and always
tested. A few memory-bound ops (normalisation, pooling, the scatter of a transposed
convolution) are slower in NumPy than they need to be, because NumPy cannot fuse
``x * a + b`` into one pass or loop over short rows without per-row overhead. For those,
an op may also carry a *kernel*: plain Python loops over arrays, compiled by
`numba <https://numba.pydata.org>`_ (a dependency of gradfit wherever numba has a wheel) on
first use, cached on disk, and run without the GIL so that gradfit's thread pool
(:mod:`gradfit.threads`) can run batch chunks of it in parallel.

When numba is missing (a Python it has no wheel for), or it is installed but fails to import
(e.g. a NumPy newer than it supports: a ``RuntimeWarning`` says so once), or
``GRADFIT_JIT=0`` is set in the environment, or :func:`set_enabled` turned kernels off,
:func:`enabled` is False and every op takes its NumPy path. Results agree to float rounding
either way (the tests run both).

``import gradfit`` does not import numba: the first op that asks :func:`enabled` imports it
(about 57 MB of memory, and 65 MB more of LLVM when the first kernel loads), and a kernel
compiles when an op first calls it.

Example:
    >>> import numpy as np
    >>> from gradfit import kernels
    >>> def _add_one(x, out):
    ...     for i in range(x.shape[0]):
    ...         out[i] = x[i] + 1.0
    >>> add_one = kernels.Kernel(_add_one)
    >>> x = np.arange(3, dtype=np.float32)
    >>> out = np.empty_like(x)
    >>> if kernels.enabled():
    ...     add_one(x, out)
    ... else:
    ...     _ = np.add(x, 1.0, out=out)  # the NumPy path
    >>> out
    array([1., 2., 3.], dtype=float32)
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["Kernel", "available", "disabled", "enabled", "set_enabled", "status"]

_state: dict[str, bool | None] = {"available": None, "enabled": None, "imports": None}
_import_error: list[str] = []  # why numba failed to import, once it has
_lock = threading.RLock()  # a kernel compiles the kernels it calls first


def available() -> bool:
    """Whether numba is installed (checked without importing it).

    Example:
        >>> from gradfit import kernels
        >>> isinstance(kernels.available(), bool)
        True
    """
    if _state["available"] is None:
        _state["available"] = importlib.util.find_spec("numba") is not None
    return bool(_state["available"])


def enabled() -> bool:
    """Whether ops use their compiled kernels now.

    True when numba is installed, ``GRADFIT_JIT`` is not ``0`` and :func:`set_enabled`
    has not turned kernels off.

    Example:
        >>> from gradfit import kernels
        >>> kernels.enabled() == (kernels.available() and kernels.enabled())
        True
    """
    if _state["enabled"] is None:
        wanted = available() and os.environ.get("GRADFIT_JIT", "1").strip() != "0"
        _state["enabled"] = wanted and _imports()
    return bool(_state["enabled"])


def _imports() -> bool:
    """Whether ``import numba`` works (tried once; a failure warns and leaves kernels off)."""
    with _lock:
        if _state["imports"] is None:
            try:
                import numba  # noqa: F401
            except Exception as e:  # numba raises ImportError, or others, on a NumPy it lacks
                _import_error.append(f"{type(e).__name__}: {e}")
                # recorded before the warning: a filter that makes it an error must not make
                # every later op import numba and raise again
                _state["imports"] = False
                warnings.warn(
                    f"gradfit.kernels: numba is installed but does not import ({_import_error[0]});"
                    " compiled kernels are off and every op takes its NumPy path (same results,"
                    " slower). Reinstall numba for your NumPy, or set GRADFIT_JIT=0 to silence this.",
                    RuntimeWarning,
                    stacklevel=4,
                )
            else:
                _state["imports"] = True
    return bool(_state["imports"])


def set_enabled(on: bool) -> None:
    """Turn compiled kernels on or off for this process (on needs numba installed).

    Example:
        >>> from gradfit import kernels
        >>> before = kernels.enabled()
        >>> kernels.set_enabled(False)
        >>> kernels.enabled()
        False
        >>> kernels.set_enabled(before)
    """
    if not isinstance(on, bool):
        raise TypeError(f"kernels.set_enabled: expected a bool, got {type(on).__name__}")
    if on and not available():
        raise RuntimeError(
            "kernels.set_enabled(True): numba is not installed; install it with "
            "pip install numba (it has wheels for CPython 3.10-3.14)"
        )
    if on and not _imports():
        raise RuntimeError(
            f"kernels.set_enabled(True): numba is installed but does not import "
            f"({_import_error[0] if _import_error else 'unknown error'})"
        )
    _state["enabled"] = on


def status() -> str:
    """Whether the compiled kernels are in use, and if not, why (one line, for reports).

    Asks :func:`enabled` (so numba is imported here if it is to be used).

    Example:
        >>> from gradfit import kernels
        >>> kernels.status().split(":")[0] in ("on", "off")
        True
    """
    if enabled():
        return "on: numba compiles the kernels of gradfit.kernels"
    if not available():
        return "off: numba is not installed (no wheel for this Python?); the NumPy paths run"
    if _state["imports"] is False:
        err = _import_error[0] if _import_error else "unknown error"
        return f"off: numba is installed but does not import ({err})"
    if os.environ.get("GRADFIT_JIT", "1").strip() == "0":
        return "off: GRADFIT_JIT=0 in the environment"
    return "off: turned off by gradfit.kernels.set_enabled(False) or kernels.disabled()"


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run a block on the NumPy paths only (restores the previous setting).

    Example:
        >>> from gradfit import kernels
        >>> with kernels.disabled():
        ...     kernels.enabled()
        False
    """
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before


class Kernel:
    """A Python function over NumPy arrays, compiled by numba on its first call.

    Compiled with ``nogil=True`` (so pool threads run it in parallel), ``cache=True``
    (compiled once per machine, not per process) and ``fastmath`` off (IEEE results).
    Call it only when :func:`enabled` is True; ops keep their NumPy path for the rest.

    A kernel may call another: a module-level name that holds a ``Kernel`` is compiled
    with it (``inline=True`` for a small scalar helper, e.g. :func:`gradfit.kernels.expf.expf`,
    inlined into its callers' loops so that LLVM vectorises them as if it were written there).
    numba's disk cache follows the calling kernel's own file: after editing a helper in
    another file, clear the ``__pycache__`` ``*.nbi``/``*.nbc`` files (an installed release
    never needs this).

    Args:
        fn: the function to compile: loops over arrays, no Python objects.
        inline: inline it into the kernels that call it (a helper, not an entry point).

    Example:
        >>> import numpy as np
        >>> from gradfit import kernels
        >>> def _total(x):
        ...     s = 0.0
        ...     for v in x:
        ...         s += v
        ...     return s
        >>> total = kernels.Kernel(_total)
        >>> total.__name__
        '_total'
    """

    def __init__(self, fn: Callable[..., Any], inline: bool = False) -> None:
        self.fn = fn
        self.inline = inline
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self._compiled: Callable[..., Any] | None = None

    def _compile(self) -> Callable[..., Any]:
        with _lock:
            if self._compiled is None:
                import numba

                fn = _with_compiled_callees(self.fn)
                opts: dict[str, Any] = {"nogil": True}
                if self.inline:
                    opts["inline"] = "always"
                try:
                    self._compiled = numba.njit(cache=True, **opts)(fn)
                except RuntimeError:  # no file to cache beside (e.g. defined in a notebook)
                    self._compiled = numba.njit(**opts)(fn)
        return self._compiled

    def __call__(self, *args: Any) -> Any:
        """Run the compiled function (compiling it first if needed)."""
        compiled = self._compiled or self._compile()
        return compiled(*args)


def _with_compiled_callees(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, or a copy of it whose globals map each ``Kernel`` it names to its numba
    dispatcher (numba resolves a called global when it compiles the caller)."""
    names = [n for n in fn.__code__.co_names if isinstance(fn.__globals__.get(n), Kernel)]
    if not names:
        return fn
    import types

    scope = dict(fn.__globals__)
    for n in names:
        callee = scope[n]
        scope[n] = callee._compiled or callee._compile()
    copy = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__qualname__, copy.__module__ = fn.__qualname__, fn.__module__
    copy.__doc__ = fn.__doc__
    return copy
