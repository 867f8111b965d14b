"""One contender's process: prepares one scenario, then times repetitions on request.

Started by ``benchmarks/run.py`` as ``python -m benchmarks.worker CONTENDER`` with the BLAS
thread variables already in its environment. It reads one JSON command per line on stdin
and answers one JSON line, prefixed with ``@@``, on stdout:

- ``{"cmd": "setup", "scenario": NAME, "params": {...}}``: build the runner (data, model).
- ``{"cmd": "run"}``: one timed repetition; answers ``{"seconds": s, "value": v}``.
- ``{"cmd": "memory"}``: ``{"peak_mb": max RSS so far, "setup_peak_mb": max RSS after setup}``.
- ``{"cmd": "quit"}``.

A process per contender and scenario keeps thread pools and allocators apart, and makes
the max RSS of a worker the peak memory of that contender on that scenario.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
import traceback
from typing import Any

from benchmarks.contenders import MODULES


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _reply(obj: dict[str, Any]) -> None:
    sys.stdout.write("@@" + json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(contender: str) -> None:
    module = importlib.import_module(f"benchmarks.contenders.{MODULES[contender]}")
    _reply({"ready": True})
    runner = None
    setup_peak = 0.0
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        try:
            if cmd == "setup":
                runner = getattr(module, msg["scenario"])(msg["params"])
                setup_peak = _max_rss_mb()
                _reply({"ok": True})
            elif cmd == "run":
                t0 = time.perf_counter()
                value = runner()
                _reply({"seconds": time.perf_counter() - t0, "value": value})
            elif cmd == "memory":
                _reply({"peak_mb": _max_rss_mb(), "setup_peak_mb": setup_peak})
            elif cmd == "quit":
                return
            else:
                _reply({"error": f"unknown command {cmd!r}"})
        except Exception:  # report, keep the protocol alive
            _reply({"error": traceback.format_exc()})


if __name__ == "__main__":
    main(sys.argv[1])
