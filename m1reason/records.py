"""MarkedLog: a bounded log that one thread appends to while another reads everything since a mark.

The engine keeps its recent step costs (for the throughput model) and the generator its driver's turns, each
bounded so a long-running server holds a fixed amount. A benchmark or a monitor wants every record of a window,
however long: it takes a mark, and until it reads the window back no record after the mark is dropped.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

__all__ = ["MarkedLog"]

T = TypeVar("T")


class MarkedLog(Generic[T]):
    """The last ``maxlen`` records, and every record since an open mark; safe to append from one thread while
    others mark, read and search.

    >>> log = MarkedLog(maxlen=2)
    >>> mark = log.mark()
    >>> log.extend([1, 2, 3])
    >>> log.recent(), len(log)  # three kept while the mark is open
    ([1, 2, 3], 3)
    >>> log.since(mark), log.recent()  # the window, then bounded again
    ([1, 2, 3], [2, 3])
    >>> log.latest(lambda x: x < 3)
    2
    """

    def __init__(self, maxlen: int = 4096):
        self.maxlen = maxlen
        self._records: collections.deque[T] = collections.deque(maxlen=maxlen)
        self._dropped = 0  # records dropped off the front, so that a mark stays a position in the whole log
        self._open = 0  # marks taken and not yet read
        self._lock = threading.Lock()

    def append(self, record: T) -> None:
        with self._lock:
            self._append(record)

    def extend(self, records: Iterable[T]) -> None:
        with self._lock:
            for record in records:
                self._append(record)

    def _append(self, record: T) -> None:
        if len(self._records) == self._records.maxlen:
            self._dropped += 1
        self._records.append(record)

    def mark(self) -> int:
        """A position to read from with ``since``; until then no record after it is dropped."""
        with self._lock:
            self._open += 1
            self._records = collections.deque(self._records)
            return self._dropped + len(self._records)

    def since(self, mark: int) -> list[T]:
        """The records appended after ``mark``, which this closes (the log is bounded again once none is open)."""
        with self._lock:
            window = list(self._records)[max(0, mark - self._dropped):]
            self._open -= 1
            if self._open == 0:
                kept = collections.deque(self._records, maxlen=self.maxlen)
                self._dropped += len(self._records) - len(kept)
                self._records = kept
        return window

    def recent(self) -> list[T]:
        """The records kept now, oldest first."""
        with self._lock:
            return list(self._records)

    def last(self, count: int) -> list[T]:
        """The newest ``count`` records (fewer if the log holds fewer), newest first.

        >>> log = MarkedLog()
        >>> log.extend([1, 2, 3]); log.last(2), log.last(5)
        ([3, 2], [3, 2, 1])
        """
        with self._lock:
            return list(itertools.islice(reversed(self._records), count))

    def latest(self, where: Callable[[T], bool]) -> T | None:
        """The newest record that ``where`` accepts, or None."""
        with self._lock:
            return next((record for record in reversed(self._records) if where(record)), None)

    def __len__(self) -> int:
        return len(self._records)
