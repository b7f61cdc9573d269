"""A sympy worker dies with the process that started it, even when that process is SIGKILLed mid-check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from m1reason.answers._variants import HOSTILE

ROOT = Path(__file__).resolve().parents[2]
# Runs for minutes inside sympy when nothing stops it.
RUNAWAY = next(h for h in HOSTILE if h.startswith(r"\prod"))
PARENT = f"""
from m1reason.answers import is_equivalent, warm_up
from m1reason.answers._symbolic import pool
warm_up()
print(pool().pids()[0], flush=True)
is_equivalent({RUNAWAY!r}, "5", timeout=600)
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process state from /proc")


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name; None once the process is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if fields[0] in ("Z", "X") else fields


def _cpu_s(pid: int) -> float:
    fields = _stat(pid)
    assert fields is not None, "the worker died before it was given the check"
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for(condition, limit_s: float) -> bool:
    """Poll a process state (there is no event to wait on for another process's CPU time or exit)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_worker_busy_in_sympy_dies_when_its_parent_is_killed():
    env = {**os.environ, "M1REASON_ANSWER_WORKERS": "1", "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    worker = None
    try:
        worker = int(parent.stdout.readline())
        idle_cpu = _cpu_s(worker)
        # The check has reached the worker once it burns CPU: then only its parent's death can stop it.
        assert _wait_for(lambda: _cpu_s(worker) > idle_cpu + 0.5, 60.0), "the worker never started the check"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        assert _wait_for(lambda: _stat(worker) is None, 5.0), "the worker outlived its SIGKILLed parent"
    finally:
        parent.kill()
        parent.wait(timeout=10)
        if worker is not None and _stat(worker) is not None:
            os.kill(worker, signal.SIGKILL)
