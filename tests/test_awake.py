"""gradfit.awake: keep-awake threads at idle priority, armed by parallel work, asleep after it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

import gradfit as gf
from gradfit import awake, threads


def _probe(code: str, **env: str) -> str:
    full = dict(os.environ)
    full.pop("GRADFIT_SPIN", None)
    full.update(env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=full, check=True)  # fmt: skip
    return out.stdout.strip()


def test_environment_variable_turns_them_off():
    code = "from gradfit import awake; print(awake.supported())"
    assert _probe(code, GRADFIT_SPIN="0") == "False"
    assert _probe(code, GRADFIT_JIT="0") == "False"  # they spin in a compiled kernel


def test_arm_is_a_no_op_where_unsupported(monkeypatch):
    monkeypatch.setitem(awake._state, "supported", False)
    awake.arm()  # no thread started, no error


@pytest.mark.skipif(not awake.supported(), reason="keep-awake threads need Linux and numba")
def test_parallel_work_arms_idle_priority_threads_that_then_sleep():
    before = gf.get_num_threads()
    gf.set_num_threads(2)
    try:
        threads.run_all([lambda: None, lambda: None], hold=False)
    finally:
        gf.set_num_threads(before)
    names = {t.name: t for t in threading.enumerate()}
    spinners = [t for n, t in names.items() if n.startswith("gradfit-awake-")]
    assert len(spinners) == len(os.sched_getaffinity(0))
    for t in spinners:  # idle priority: they run only where a core has nothing else to run
        assert os.sched_getscheduler(t.native_id) == os.SCHED_IDLE
    # with no more parallel work they stop spinning (about 20 ms; allow a loaded machine 30 s)
    deadline = time.monotonic() + 30
    while awake._state["event"].is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not awake._state["event"].is_set()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_its_own():
    code = (
        "import os, gradfit as gf\n"
        "from gradfit import awake, threads\n"
        "gf.set_num_threads(2)\n"
        "threads.run_all([lambda: None, lambda: None], hold=False)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    ok = awake._state['flags'] is None\n"
        "    threads.run_all([lambda: None, lambda: None], hold=False)\n"
        "    os._exit(0 if ok else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status))\n"
    )
    assert _probe(code) == "0"
