"""Describe the machine a benchmark ran on: CPU, cores, versions, BLAS threads."""

from __future__ import annotations

import os
import platform

import numpy as np


def describe() -> dict[str, str]:
    """Machine and library facts to print beside every table: the CPU model and the BLAS
    library with the kernel it chose for this CPU (gradfit.utils.collect_env, which
    ``gradfit env`` prints in full)."""
    from gradfit.utils.collect_env import blas_info, cpu_model

    info = {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    blas = []
    for lib in blas_info():
        kernel = f", kernel {lib['kernel']}" if lib.get("kernel") else ""
        blas.append(f"{lib.get('library', '?')} {lib.get('version') or ''}{kernel} "
                    f"({lib.get('threads', '?')} threads)")  # fmt: skip
    info["blas"] = ", ".join(blas) or "none found"
    try:
        import torch

        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        info["torch"] = "not installed"
    return info


def markdown(info: dict[str, str]) -> str:
    """The facts as a one-line Markdown summary."""
    return "; ".join(f"{k}: {v}" for k, v in info.items())
