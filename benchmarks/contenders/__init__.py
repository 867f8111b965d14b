"""One module per contender of the benchmark suite; each builds a runner per scenario.

A contender module defines, for every scenario it takes part in, a function
``scenario_name(params) -> Callable[[], float]`` that prepares everything (data, model,
optimizer) and returns a function doing one repetition (one epoch, one batch of
inferences...) and returning a number to sanity-check (a loss or a checksum). The
worker process (``benchmarks/worker.py``) times the calls; ``benchmarks/run.py``
alternates the workers.
"""

from __future__ import annotations

#: contender name -> module under ``benchmarks.contenders``
MODULES = {
    "gradfit": "gradfit_impl",
    "numpy": "numpy_impl",
    "torch": "torch_impl",
    "sklearn": "sklearn_impl",
}
