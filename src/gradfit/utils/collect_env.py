"""What gradfit runs on: versions, CPU, BLAS, threads and compiled kernels, in one report.

PyTorch's ``python -m torch.utils.collect_env`` for gradfit. Speed depends on the machine as
much as on the code (the CPU, the BLAS library NumPy loaded and its kernel for this CPU, how
many threads each uses, whether numba compiled gradfit's kernels), so a speed question or a
bug report starts with this report::

    python -m gradfit.utils.collect_env     # or: gradfit env (--json for a machine)

Nothing here is imported by ``import gradfit``. Package versions come from the installed
metadata (the packages are not imported), except NumPy and threadpoolctl, which are asked,
and numba, which is imported if gradfit would use it (that is the only way to know it works).

Example:
    >>> from gradfit.utils.collect_env import get_env_info
    >>> info = get_env_info()
    >>> info.gradfit_version == __import__("gradfit").__version__
    True
    >>> info.cores >= 1
    True
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import platform
import sys
from typing import Any

__all__ = ["SystemEnv", "get_env_info", "get_pretty_env_info", "main"]

# optional packages worth naming in a report (their distribution names)
_PACKAGES = (
    "numba", "threadpoolctl", "safetensors", "rich", "scikit-learn", "matplotlib", "torch",
    "onnx", "onnxruntime", "mpi4py", "optuna", "mnist1d",
)  # fmt: skip
# environment variables that change threads, kernels or memory
_ENV_PREFIXES = ("GRADFIT_", "OMP_", "OPENBLAS_", "MKL_", "NUMBA_", "MALLOC_")


@dataclasses.dataclass(frozen=True)
class SystemEnv:
    """The facts :func:`get_env_info` collects (a JSON-ready record).

    Example:
        >>> from gradfit.utils.collect_env import get_env_info
        >>> sorted(get_env_info().as_dict())[:3]
        ['blas', 'cores', 'cpu']
    """

    gradfit_version: str
    python_version: str
    os: str
    cpu: str
    cores: int
    usable_cores: int
    numpy_version: str
    blas: list[dict[str, Any]]
    num_threads: int
    num_interop_threads: int
    kernels: str
    packages: dict[str, str]
    environment: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """The record as a plain dict (for ``json.dumps``).

        Example:
            >>> from gradfit.utils.collect_env import get_env_info
            >>> "numpy_version" in get_env_info().as_dict()
            True
        """
        return dataclasses.asdict(self)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), or what ``platform`` knows.

    Example:
        >>> from gradfit.utils.collect_env import cpu_model
        >>> isinstance(cpu_model(), str)
        True
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def blas_info() -> list[dict[str, Any]]:
    """The BLAS (and OpenMP) libraries loaded in this process, as threadpoolctl sees them:
    which library, its version, the kernel it chose for this CPU and its thread count.

    Example:
        >>> from gradfit.utils.collect_env import blas_info
        >>> all("library" in lib for lib in blas_info())
        True
    """
    import numpy as np  # noqa: F401 - loads NumPy's BLAS, which is what threadpoolctl lists
    from threadpoolctl import threadpool_info

    keys = {"internal_api": "library", "version": "version", "architecture": "kernel",
            "threading_layer": "threading", "num_threads": "threads", "filepath": "file"}  # fmt: skip
    return [{new: lib[old] for old, new in keys.items() if old in lib} for lib in threadpool_info()]


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def get_env_info() -> SystemEnv:
    """Collect the report's facts.

    Example:
        >>> from gradfit.utils.collect_env import get_env_info
        >>> get_env_info().kernels.split(":")[0] in ("on", "off")
        True
    """
    import numpy as np

    import gradfit
    from gradfit import kernels, threads

    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on macOS or Windows
        usable = os.cpu_count() or 1
    env = {k: v for k, v in sorted(os.environ.items()) if k.startswith(_ENV_PREFIXES)}
    return SystemEnv(
        gradfit_version=gradfit.__version__,
        python_version=f"{platform.python_version()} ({platform.python_implementation()})",
        os=platform.platform(),
        cpu=cpu_model(),
        cores=os.cpu_count() or 1,
        usable_cores=usable,
        numpy_version=np.__version__,
        blas=blas_info(),
        num_threads=threads.get_num_threads(),
        num_interop_threads=threads.get_num_interop_threads(),
        kernels=kernels.status(),
        packages={name: _version(name) for name in _PACKAGES},
        environment=env,
    )


def get_pretty_env_info(info: SystemEnv | None = None) -> str:
    """The report as text, one fact a line.

    Example:
        >>> from gradfit.utils.collect_env import get_pretty_env_info
        >>> get_pretty_env_info().splitlines()[0].startswith("gradfit ")
        True
    """
    e = info or get_env_info()
    lines = [
        f"gradfit {e.gradfit_version}",
        f"Python {e.python_version} on {e.os}",
        f"CPU: {e.cpu}; {e.cores} logical cores, {e.usable_cores} usable by this process",
        f"NumPy {e.numpy_version}",
    ]
    for lib in e.blas or [{"library": "none found by threadpoolctl"}]:
        parts = [lib.get("library", "?"), lib.get("version") or ""]
        if lib.get("kernel"):
            parts.append(f"kernel {lib['kernel']}")
        if "threads" in lib:
            parts.append(f"{lib['threads']} threads")
        lines.append("BLAS: " + ", ".join(p for p in parts if p))
    lines += [
        f"gradfit threads: {e.num_threads} (interop {e.num_interop_threads})",
        f"compiled kernels: {e.kernels}",
        "packages: " + ", ".join(f"{k} {v}" for k, v in e.packages.items()),
        "environment: " + (", ".join(f"{k}={v}" for k, v in e.environment.items()) or "-"),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the report (``--json``: as JSON); returns the exit code.

    Example:
        >>> from gradfit.utils.collect_env import main
        >>> import contextlib, io
        >>> with contextlib.redirect_stdout(io.StringIO()) as out:
        ...     code = main(["--json"])
        >>> code, out.getvalue().startswith("{")
        (0, True)
    """
    args = sys.argv[1:] if argv is None else argv
    unknown = [a for a in args if a != "--json"]
    if unknown:
        print(f"collect_env: unknown option {unknown[0]!r} (only --json)", file=sys.stderr)
        return 2
    info = get_env_info()
    if "--json" in args:
        print(json.dumps(info.as_dict(), indent=2))
    else:
        print(get_pretty_env_info(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
