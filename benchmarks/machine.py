"""Describe the machine a benchmark ran on: CPU, cores, versions, BLAS threads."""

from __future__ import annotations

import os
import platform

import numpy as np


def describe() -> dict[str, str]:
    """Machine and library facts to print beside every table."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{p['internal_api']} ({p['num_threads']} threads)" for p in threadpool_info()]
        info["blas"] = ", ".join(blas)
    except ImportError:
        pass
    try:
        import torch

        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        info["torch"] = "not installed"
    return info


def markdown(info: dict[str, str]) -> str:
    """The facts as a one-line Markdown summary."""
    return "; ".join(f"{k}: {v}" for k, v in info.items())
