"""Where the background driver's time goes, turn by turn: the engine's step is only part of it.

Under many concurrent requests the engine's own prefill and decode records can cover a small share of the wall
time; the rest is the driver waiting for the generator's lock (threads appending, cancelling, collecting events),
waiting for work, delivering a step's tokens to their requests, and handing the lock to queued threads.
``DriverTurns`` keeps each turn's split, bounded, so that a benchmark can say which of these took a cell's time.
"""

from __future__ import annotations

import collections
import threading
from typing import NamedTuple

__all__ = ["DriverTurn", "DriverTurns"]


class DriverTurn(NamedTuple):
    """One turn of the background driver, in seconds of wall time (threads share one interpreter, so a share
    that grows under load may be time spent waiting for the others' Python work). A tuple: one is made per
    engine step.

    >>> DriverTurn(lock_wait_s=0.001, idle_s=0.0, engine_s=0.004, deliver_s=0.0005, handover_s=0.0002).engine_s
    0.004
    """

    lock_wait_s: float  # taking the generator's lock from another thread that held it
    idle_s: float  # holding the lock with nothing to run, until work came
    engine_s: float  # inside Engine.step: admission, prefill, decode, reading tokens back
    deliver_s: float  # the step's tokens and text to their requests' mailboxes, stop strings, finished samples
    handover_s: float  # after the step, letting the threads queued on the lock take their turns


class DriverTurns:
    """The driver's recent turns (at most ``maxlen``), and their sums since a mark; the driver appends while a
    reader marks and sums from another thread.

    >>> turns = DriverTurns(maxlen=2)
    >>> mark = turns.mark()
    >>> for engine_s in (0.004, 0.002, 0.003):
    ...     turns.append(DriverTurn(0.0, 0.0, engine_s, 0.001, 0.0))
    >>> turns.since(mark)  # a mark keeps every turn after it, beyond maxlen, until read
    {'turns': 3, 'lock_wait_s': 0.0, 'idle_s': 0.0, 'engine_s': 0.009, 'deliver_s': 0.003, 'handover_s': 0.0}
    >>> len(turns.recent)  # and bounded again once read
    2
    """

    def __init__(self, maxlen: int = 4096):
        self.maxlen = maxlen
        self.recent: collections.deque[DriverTurn] = collections.deque(maxlen=maxlen)
        self._marks = 0
        self._dropped = 0  # turns dropped off the front of the bounded deque, so that marks stay positions
        self._lock = threading.Lock()

    def append(self, turn: DriverTurn) -> None:
        with self._lock:
            if len(self.recent) == self.recent.maxlen:
                self._dropped += 1
            self.recent.append(turn)

    def mark(self) -> int:
        """A position to sum from; until ``since`` reads it, no turn is dropped."""
        with self._lock:
            self._marks += 1
            self.recent = collections.deque(self.recent)
            return self._dropped + len(self.recent)

    def since(self, mark: int) -> dict:
        """The number of turns after ``mark`` and each share's seconds, summed (rounded to the microsecond)."""
        with self._lock:
            taken = list(self.recent)[max(0, mark - self._dropped):]
            self._marks -= 1
            if self._marks == 0:
                kept = collections.deque(self.recent, maxlen=self.maxlen)
                self._dropped += len(self.recent) - len(kept)
                self.recent = kept
        sums = [round(sum(column), 6) for column in zip(*taken)] if taken else [0.0] * len(DriverTurn._fields)
        return {"turns": len(taken), **dict(zip(DriverTurn._fields, sums))}
