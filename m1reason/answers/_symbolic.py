"""A pool of killable worker processes for the checks that can run away (sympy, math-verify).

Lazily started, shared, thread-safe, shut down at exit. A call that overruns its deadline kills its
worker (SIGKILL to the child, not a signal handler here) and a fresh one is started at once, so the
pool works from any thread and from asyncio (via ``asyncio.to_thread``). Requests are JSON lines
over pipes: nothing is unpickled from the worker. Each worker also holds the read end of a "lifeline"
pipe whose write end only this process holds, so a worker dies with its parent however the parent dies.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
# Start-up (importing sympy) is not the check's time: it is bounded separately.
STARTUP_TIMEOUT_S = 60.0
# Three, so that a replacement (about a second to import sympy) is ready before the two others are
# killed by back-to-back runaways; each worker holds about 120 MB.
POOL_SIZE = max(1, int(os.environ.get("M1REASON_ANSWER_WORKERS", "3")))
QUEUE_WAIT_S = 5.0


class WorkerTimeout(Exception):
    """No answer from a worker in time: none was free or started, it died, or (WorkerOverrun) it overran."""


class WorkerOverrun(WorkerTimeout):
    """The worker was alive but did not answer this request in time: the request's own doing (it was killed)."""


class WorkerStarting(WorkerTimeout):
    """The worker was still starting (importing sympy) when the check's time ran out; it is kept."""


@dataclass(frozen=True)
class TimedOut:
    """A cached verdict: the work overran ``limit_s`` seconds, so it is not tried again unless given clearly more.

    "Clearly": over a quarter more. The time a check has left for its worker call varies by milliseconds with
    what ran before it, and a runaway given a few milliseconds more overruns again.
    """

    limit_s: float

    def covers(self, timeout_s: float) -> bool:
        return timeout_s <= 1.25 * self.limit_s


# Set by ``waits_until``: the latest a call may wait for a free or a started worker, whatever its timeout says.
_WAITS_UNTIL: ContextVar[float | None] = ContextVar("answer_worker_waits_until", default=None)


@contextlib.contextmanager
def waits_until(end: float | None) -> Iterator[None]:
    """Within the block, queueing for a worker and waiting for one to start end by ``end`` (``time.monotonic()``).

    A caller with a total time bound (``group_equivalent``) uses it so that no wait outlasts its bound; the
    check's own run is still bounded by its timeout.
    """
    token = _WAITS_UNTIL.set(end)
    try:
        yield
    finally:
        _WAITS_UNTIL.reset(token)


class _Worker:
    """One worker process; used by one thread at a time (the pool hands it out)."""

    def __init__(self) -> None:
        # The worker exits when the write end closes, which the kernel does when this process dies, even by
        # SIGKILL. Both ends are non-inheritable, so no other exec'd child holds a copy that keeps it alive.
        lifeline, self._lifeline = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER_SCRIPT), str(lifeline)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
                pass_fds=(lifeline,),
            )
        except OSError:
            os.close(self._lifeline)
            raise
        finally:
            os.close(lifeline)
        self.ready = False
        self._buf = b""

    def _readline(self, deadline: float) -> dict:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            remaining = max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], remaining)[0]:
                raise WorkerTimeout("no reply in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise WorkerTimeout("worker exited")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def poll_ready(self) -> bool:
        """True once the worker has announced it is ready; never blocks."""
        if not self.ready and self.proc.poll() is None:
            try:
                self._readline(time.monotonic())
                self.ready = True
            except WorkerTimeout:
                pass
        return self.ready

    def call(self, op: str, args: list, timeout_s: float, startup_s: float, shared: bool):
        """Run ``op``; waiting for start-up takes up to ``startup_s``, and out of ``timeout_s`` when ``shared``."""
        start = time.monotonic()
        if not self.ready:
            try:
                self._readline(start + startup_s)
            except WorkerTimeout as e:
                if self.proc.poll() is None:
                    raise WorkerStarting("answer worker still starting") from e
                raise
            self.ready = True
        deadline = (start if shared else time.monotonic()) + timeout_s
        try:
            self.proc.stdin.write((json.dumps({"op": op, "args": args}) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise WorkerTimeout("worker pipe closed") from e
        try:
            reply = self._readline(deadline)
        except WorkerTimeout as e:
            if self.proc.poll() is None:
                raise WorkerOverrun(f"no reply in {timeout_s:.2f} s") from e
            raise
        return reply.get("result") if reply.get("ok") else None

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            logger.warning("answer worker %s did not exit after SIGKILL", self.proc.pid)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        # Once only: a second close could hit an unrelated file that reused the number.
        lifeline, self._lifeline = self._lifeline, -1
        if lifeline >= 0:
            os.close(lifeline)


class WorkerPool:
    """Up to ``size`` workers, started on first use and replaced when killed."""

    def __init__(self, size: int = POOL_SIZE) -> None:
        self.size = size
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self.kills = 0
        self._closed = False
        self._started = False

    def _acquire(self, deadline: float) -> _Worker | None:
        with self._cond:
            while not self._idle and self._count >= self.size:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return None
                self._cond.wait(remaining)
            if self._idle:
                # A replacement may still be importing sympy: take a worker that is ready when one is.
                ready = [w for w in self._idle if w.poll_ready()]
                if ready or self._count >= self.size:
                    worker = (ready or self._idle)[-1]
                    self._idle.remove(worker)
                    return worker
            self._count += 1
        try:
            return _Worker()
        except OSError:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            logger.exception("could not start an answer worker")
            return None

    def _release(self, worker: _Worker | None) -> None:
        with self._cond:
            closed = self._closed
            if worker is None or closed:
                self._count -= 1
            else:
                self._idle.append(worker)
            self._cond.notify()
        if worker is not None and closed:
            worker.kill()

    def call(self, op: str, args: list, timeout_s: float):
        """Run ``op`` in a worker within ``timeout_s`` (plus the pool's first start); None when it failed.

        Raises WorkerOverrun when it overran (the worker is killed and replaced), WorkerTimeout when none
        was free or started in time. Inside ``waits_until(end)`` those waits also end by ``end``.
        """
        until = _WAITS_UNTIL.get()
        # Queueing behind busy workers (many threads at once) is not the check's time: it gets its own wait.
        acquire_by = time.monotonic() + timeout_s + QUEUE_WAIT_S
        worker = self._acquire(acquire_by if until is None else min(acquire_by, until))
        if worker is None:
            raise WorkerTimeout("no answer worker free in time")
        # Waiting for a replacement to finish starting is queueing too (bounded like it); only the pool's
        # first start may take longer. The check's own time starts when the worker is ready.
        startup_s = STARTUP_TIMEOUT_S if not self._started else timeout_s + QUEUE_WAIT_S
        if until is not None:
            startup_s = min(startup_s, max(0.0, until - time.monotonic()))
        try:
            result = worker.call(op, args, timeout_s, startup_s, shared=False)
        except WorkerStarting:
            self._release(worker)
            raise
        except WorkerTimeout:
            # Killed, not interrupted: the C code sympy may be stuck in cannot be reached otherwise.
            worker.kill()
            self.kills += 1
            logger.info("answer worker overran %.2f s on %r: killed and replaced", timeout_s, op)
            replacement = None if self._closed else self._spawn()
            self._release(replacement)
            raise
        except Exception:
            worker.kill()
            self._release(None)
            raise
        self._started = True
        self._release(worker)
        return result

    def _spawn(self) -> _Worker | None:
        try:
            return _Worker()
        except OSError:
            logger.exception("could not restart an answer worker")
            return None

    def warm_up(self) -> None:
        """Start every worker now and wait until they are ready (so the first checks are not cold)."""
        workers = [w for w in (self._acquire(time.monotonic() + STARTUP_TIMEOUT_S) for _ in range(self.size)) if w]
        for w in workers:
            try:
                w.call("ping", [], STARTUP_TIMEOUT_S, STARTUP_TIMEOUT_S, shared=False)
                self._started = True
            except WorkerTimeout:
                w.kill()
                w = None
            self._release(w)

    def shutdown(self) -> None:
        """Kill idle workers (busy ones are killed when their call returns to a closed pool)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for w in idle:
            w.kill()

    def pids(self) -> list[int]:
        """Process ids of the idle workers (for tests and diagnostics)."""
        with self._cond:
            return [w.proc.pid for w in self._idle]


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """The shared pool, created on first use and shut down at interpreter exit."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._closed:
            _pool = WorkerPool()
            atexit.register(_pool.shutdown)
        return _pool
