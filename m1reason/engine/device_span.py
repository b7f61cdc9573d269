"""DeviceSpan: how long a stretch of device work took, measured without making the host wait for it.

Timing GPU work with the host's clock needs a synchronize at the end, and that wait also covers whatever was queued
before the work (with ``Engine(overlap=...)``, the decode group in flight), so the host stops launching the work
that follows for nothing. CUDA events timestamp the stream itself: the span starts when the device reaches it and
is read once the host has waited for the device anyway (after the step's one copy of tokens to the host).
"""

from __future__ import annotations

import time

import torch

__all__ = ["DeviceSpan"]


class DeviceSpan:
    """Opened on ``device`` at construction, closed by ``stop()``; ``seconds()`` reads it, waiting for the device only
    if the work is still running. On a CPU every op has finished when it returns, so the host's clock is exact.

    >>> span = DeviceSpan(torch.device("cpu"))
    >>> _ = torch.ones(4).sum()
    >>> span.stop()
    >>> 0.0 <= span.seconds() < 1.0
    True
    """

    def __init__(self, device: torch.device) -> None:
        self._events = None
        if device.type == "cuda":
            self._events = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            self._events[0].record()
        self._started, self._stopped = time.perf_counter(), None

    def stop(self) -> None:
        """Close the span behind the work launched so far (on a GPU: when the device gets there)."""
        if self._events is not None:
            self._events[1].record()
        self._stopped = time.perf_counter()

    def seconds(self) -> float:
        """The span's length in seconds (on a GPU from the device's timestamps)."""
        if self._stopped is None:
            raise RuntimeError("DeviceSpan.seconds() before stop()")
        if self._events is None:
            return self._stopped - self._started
        start, end = self._events
        end.synchronize()
        return start.elapsed_time(end) / 1e3
