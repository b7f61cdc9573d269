"""Mailboxes: where M1Generator's steps leave each request's events until the stream of that request reads them.

A step posts under the generator's lock; a stream reads without it. That is safe because each request's mailbox is
a deque that only the step appends to and only that request's stream pops from the left, each atomic; reading
events never keeps the driver from its next step (dozens of streams taking the lock for every read kept it
waiting: BENCHMARKS.md "budget_curve_gpu_load_mixed_s1000"). Events carry a number from one counter, so a stream
of several requests yields them in the order they happened.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque

from m1reason.generator._live import PendingTokens

__all__ = ["Mailboxes"]


class Mailboxes:
    """Per-request queues of numbered events, and the threading.Event each request's stream waits on.

    >>> boxes = Mailboxes()
    >>> boxes.open("r", waker=None)
    >>> boxes.post("r", "first"); boxes.post("r", "second")
    >>> boxes.has_events(["r"]), boxes.collect(["r"]), boxes.has_events(["r"])
    (True, ['first', 'second'], False)
    """

    def __init__(self) -> None:
        self._boxes: dict[str, deque] = {}  # request id -> (event number, event)
        self._wakers: dict[str, threading.Event] = {}  # request id -> the Event its stream waits on
        self._numbers = itertools.count()

    def __len__(self) -> int:
        """Requests with a mailbox open."""
        return len(self._boxes)

    def open(self, request_id: str, waker: threading.Event | None) -> None:
        """A mailbox for a new request; ``waker`` (if any) is set whenever an event comes for it."""
        self._boxes[request_id] = deque()
        if waker is not None:
            self._wakers[request_id] = waker

    def close(self, request_id: str) -> None:
        """Forget a request's mailbox and waker (its stream has ended)."""
        self._boxes.pop(request_id, None)
        self._wakers.pop(request_id, None)

    def post(self, request_id: str, event, *, wake: bool = True) -> None:
        """Leave an event for the request. ``wake=False`` for a caller posting many that wakes each request once."""
        self._boxes[request_id].append((next(self._numbers), event))
        if wake:
            self.wake(request_id)

    def wake(self, request_id: str) -> None:
        waker = self._wakers.get(request_id)
        if waker is not None:
            waker.set()

    def has_events(self, ids: list[str]) -> bool:
        return any(self._boxes.get(request_id) for request_id in ids)

    def collect(self, ids: list[str], *, token_events: bool = True) -> list:
        """The events posted for these requests, in the order they happened, taken out of their mailboxes; token
        events (PendingTokens) built into TokensAppended, or, without ``token_events``, dropped unbuilt. Events
        posted while this reads come at the next read (their stream is woken for them)."""
        numbered = []
        for request_id in ids:
            box = self._boxes.get(request_id)
            while box:
                numbered.append(box.popleft())
        numbered.sort(key=lambda item: item[0])
        if not token_events:
            return [event for _, event in numbered if not isinstance(event, PendingTokens)]
        built = iter(PendingTokens.build_all([event for _, event in numbered if isinstance(event, PendingTokens)]))
        return [next(built) if isinstance(event, PendingTokens) else event for _, event in numbered]
