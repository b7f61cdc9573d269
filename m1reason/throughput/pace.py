"""The pace of decode steps as requests were really served, for the throughput model.

Under load a request waits for more per token than any calibration shows: prefills of other arrivals share its
steps, and the threads of other requests take turns with it. A throughput model that trusted the calibration alone
planned far more samples than fitted in a budget. So a generator keeps a ``PaceMeter`` of the steps as served
(start of one engine step to the start of the next, while it had work throughout), and ``FittedThroughput`` refits
on those rows with the calibration's: the served pace dominates where it has been seen, the calibration anchors
the rest.
"""

from __future__ import annotations

import threading
from collections import deque

from m1reason.throughput.fit import NormalEquations

__all__ = ["PaceMeter"]


class PaceMeter:
    """Decode steps as requests were served: for each engine step, the time from its start to the next step's
    start (while the engine had work throughout) per token it gave each sequence, as rows (batch, context,
    seconds) like the calibration's. Thread-safe; keeps the latest ``keep`` rows.

    >>> pace = PaceMeter()
    >>> pace.step(started=10.0, batch=32, context=100.0, tokens_per_seq=4, busy=True)
    >>> pace.step(started=10.02, batch=32, context=104.0, tokens_per_seq=4, busy=False)
    >>> pace.step(started=99.0, batch=32, context=9.0, tokens_per_seq=1, busy=True)  # after idling: not a row
    >>> pace.rows(), pace.count
    ([(32, 100.0, 0.005)], 1)
    """

    BLOCK = 64  # rows summed together: a refit adds up keep / BLOCK sums, and a step only adds one row to one

    def __init__(self, keep: int = 512, max_gap_s: float = 1.0):
        self._rows: deque = deque(maxlen=keep)
        # The normal equations of the latest rows, in blocks: the step (the engine's hot path) adds its row to the
        # block being filled, whole blocks fall out as new ones fill, and a refit sums them, never a pass over the
        # rows. No row is ever subtracted, so no rounding accumulates.
        self._blocks: deque = deque(maxlen=max(1, keep // self.BLOCK))
        self._filling = NormalEquations()
        self._last: tuple | None = None
        self._lock = threading.Lock()
        self.max_gap_s = max_gap_s
        self.count = 0  # rows ever recorded (refits key on it)

    def step(self, *, started: float, batch: int, context: float, tokens_per_seq: float, busy: bool,
             decoded: bool = True) -> None:
        """Record an engine step that started at ``started`` (monotonic seconds); ``busy``: work remains after it;
        ``decoded``: it ran decode steps. A step that only prefilled (new prompts, nothing else decoding) is no
        row: the prefill is the throughput model's other term, and a request planning its own time counts its
        own prefill there once. A prefill in a step that also decodes others stays in that row: those others
        wait for it."""
        with self._lock:
            last = self._last
            if last is not None and 0 < started - last[0] <= self.max_gap_s:
                row = (last[1], last[2], round((started - last[0]) / last[3], 9))
                self._rows.append(row)
                self._filling.add(*row)
                self.count += 1
                if self.count % self.BLOCK == 0:
                    self._blocks.append(self._filling)
                    self._filling = NormalEquations()
            starts_row = busy and decoded and batch and tokens_per_seq
            self._last = (started, batch, context, tokens_per_seq) if starts_row else None

    def rows(self) -> list[tuple[int, float, float]]:
        with self._lock:
            return list(self._rows)

    def sums(self) -> NormalEquations:
        """The normal equations of the latest ``keep // BLOCK`` whole blocks of rows and the block being filled
        (about the latest ``keep`` rows)."""
        with self._lock:
            return sum(self._blocks, self._filling)
