"""TurnTakingLock: the generator's lock, which its background driver hands over between engine steps.

The driver holds the generator's lock for every engine step and takes it again at once. A plain lock does not
hand itself to a thread already waiting for it: the releasing thread usually wins the race to take it back, so a
strategy's ``append`` or ``cancel`` could wait many steps under a few concurrent problems, which made answers
forced out at a deadline arrive long after it. Counting the waiters lets the driver step aside
until each has had a turn.
"""

from __future__ import annotations

import threading

__all__ = ["TurnTakingLock"]


class TurnTakingLock:
    """A re-entrant lock (used with ``with``) that counts the threads blocked on it, so that a thread taking it in
    a loop can wait, between two turns, until those have had theirs (``yield_to_waiters``). ``raw`` is the
    underlying RLock, for a ``threading.Condition``.

    >>> lock = TurnTakingLock()
    >>> with lock:
    ...     with lock:  # re-entrant
    ...         lock.waiting
    0
    >>> lock.yield_to_waiters(timeout=0.01)  # nobody waits: returns at once
    True
    """

    def __init__(self):
        self.raw = threading.RLock()
        self._counted = threading.Condition(threading.Lock())
        self.waiting = 0

    def __enter__(self) -> TurnTakingLock:
        if self.raw.acquire(blocking=False):
            return self
        with self._counted:
            self.waiting += 1
        try:
            self.raw.acquire()
        finally:
            with self._counted:
                self.waiting -= 1
                self._counted.notify_all()
        return self

    def __exit__(self, *exc) -> None:
        self.raw.release()

    def yield_to_waiters(self, timeout: float) -> bool:
        """Called without holding the lock: wait until no thread is blocked on it, at most ``timeout`` seconds.
        True if none is left waiting."""
        with self._counted:
            return self._counted.wait_for(lambda: self.waiting == 0, timeout=timeout)
