"""Where the background driver's time goes, turn by turn: the engine's step is only part of it.

Under many concurrent requests the engine's own prefill and decode records can cover a small share of the wall
time; the rest is the driver waiting for the generator's lock (threads appending, cancelling, collecting events),
waiting for work, delivering a step's tokens to their requests, and handing the lock to queued threads.
``DriverTurns`` keeps each turn's split, bounded, so that a benchmark can say which of these took a cell's time.
"""

from __future__ import annotations

from typing import NamedTuple

from m1reason.records import MarkedLog

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


class DriverTurns(MarkedLog[DriverTurn]):
    """The driver's recent turns (at most ``maxlen``), and every turn since a mark (``m1reason.records.MarkedLog``);
    ``totals_since`` sums each share of a window's turns.

    >>> turns = DriverTurns(maxlen=2)
    >>> mark = turns.mark()
    >>> for engine_s in (0.004, 0.002, 0.003):
    ...     turns.append(DriverTurn(0.0, 0.0, engine_s, 0.001, 0.0))
    >>> turns.totals_since(mark)  # a mark keeps every turn after it, beyond maxlen, until read
    {'turns': 3, 'lock_wait_s': 0.0, 'idle_s': 0.0, 'engine_s': 0.009, 'deliver_s': 0.003, 'handover_s': 0.0}
    >>> len(turns)  # and bounded again once read
    2
    """

    def totals_since(self, mark: int) -> dict:
        """The number of turns after ``mark`` and each share's seconds, summed (rounded to the microsecond)."""
        taken = self.since(mark)
        sums = [round(sum(column), 6) for column in zip(*taken)] if taken else [0.0] * len(DriverTurn._fields)
        return {"turns": len(taken), **dict(zip(DriverTurn._fields, sums))}
