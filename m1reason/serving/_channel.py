"""A one-way channel from a worker thread to one asyncio task: items are batched, one loop wake-up per batch.

It owns only the hand-over (a deque under a lock plus an asyncio.Event set through ``call_soon_threadsafe``);
what the items mean belongs to the caller. The end is marked by ``close``, optionally with an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque

__all__ = ["Channel"]

_END = object()


class Channel:
    """Thread side: ``put`` and ``close``; loop side: ``async for batch in channel.batches()``.

    >>> async def demo():
    ...     channel = Channel(asyncio.get_running_loop())
    ...     threading.Thread(target=lambda: (channel.put(1), channel.put(2), channel.close())).start()
    ...     return [item async for batch in channel.batches() for item in batch]
    >>> asyncio.run(demo())
    [1, 2]
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._items: deque = deque()
        self._lock = threading.Lock()
        self._ready = asyncio.Event()
        self._notified = False  # a wake-up is already on its way: later puts ride along with it

    def put(self, item) -> None:
        with self._lock:
            self._items.append(item)
            if self._notified:
                return
            self._notified = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is reading any more
            self._loop.call_soon_threadsafe(self._ready.set)

    def close(self, error: BaseException | None = None) -> None:
        self.put((_END, error))

    async def batches(self):
        """Yield lists of items as they arrive; raise the error given to ``close``, if any, at the end."""
        while True:
            with self._lock:
                items = list(self._items)
                self._items.clear()
                self._notified = False
            if not items:
                await self._ready.wait()
                self._ready.clear()
                continue
            end = next((i for i, item in enumerate(items) if isinstance(item, tuple) and item and item[0] is _END),
                       None)
            if end is None:
                yield items
                continue
            if items[:end]:
                yield items[:end]
            if items[end][1] is not None:
                raise items[end][1]
            return
