"""Admission: who may start solving now. A bounded FIFO queue under a global cap on running requests, and per
tenant a start-rate limit (asyncio-throttle, which limits starts per period, not concurrency), a cap on running
requests and a cap on waiting ones. A full queue answers at once with CapacityError and a retry-after estimate
(backpressure) instead of letting waits grow without bound. It runs on the event loop and knows nothing of models.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from asyncio_throttle import Throttler

from m1reason.errors import CapacityError

__all__ = ["Admission"]


@dataclass(eq=False)
class _Waiter:
    tenant: str | None
    future: asyncio.Future


@dataclass(eq=False)
class _Tenant:
    throttler: Throttler | None
    last_start: float = field(default=-1e18)


class Admission:
    """``await enter(tenant)`` waits for a turn (or raises CapacityError); ``leave(tenant)`` hands it on.

    ``tenant=None`` is exempt from the per-tenant limits (the global ones still apply).

    >>> async def demo():
    ...     gate = Admission(max_active=1, max_queue=0)
    ...     await gate.enter("ann")
    ...     try:
    ...         await gate.enter("bob")
    ...     except CapacityError as err:
    ...         print(type(err).__name__, err.retry_after_s is not None)
    ...     gate.leave("ann")
    >>> asyncio.run(demo())
    CapacityError True
    """

    def __init__(self, *, max_active: int, max_queue: int, tenant_rate: int | None = None,
                 tenant_period_s: float = 60.0, tenant_concurrency: int | None = None,
                 tenant_queue: int | None = None):
        if max_active < 1 or max_queue < 0:
            raise ValueError(f"need max_active >= 1 and max_queue >= 0 (got {max_active}, {max_queue})")
        for name, value in (("tenant_rate", tenant_rate), ("tenant_concurrency", tenant_concurrency)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value}")
        if tenant_queue is not None and tenant_queue < 0:
            raise ValueError(f"tenant_queue must be >= 0 or None, got {tenant_queue}")
        if tenant_period_s <= 0:
            raise ValueError(f"tenant_period_s must be > 0, got {tenant_period_s}")
        self.max_active, self.max_queue = max_active, max_queue
        self.tenant_rate, self.tenant_period_s = tenant_rate, tenant_period_s
        self.tenant_concurrency, self.tenant_queue = tenant_concurrency, tenant_queue
        self.active = 0
        self.queued = 0  # waiting for a rate-limit turn or for a running slot
        self.tenant_active: Counter = Counter()
        self.tenant_queued: Counter = Counter()
        self.service_s = 5.0  # running mean of a request's time, for retry-after estimates
        self._waiters: deque[_Waiter] = deque()
        self._tenants: dict[str, _Tenant] = {}
        self._closed: str | None = None

    # ---- the two verbs ----------------------------------------------------------------------------------------
    async def enter(self, tenant: str | None) -> None:
        """Wait for a turn: the tenant's rate, then a running slot (global and the tenant's), in arrival order."""
        self._reserve(tenant)
        try:
            state = self._tenant(tenant)
            if state is not None and state.throttler is not None:
                await state.throttler.acquire()
                state.last_start = time.monotonic()
            if self._closed:
                raise CapacityError(self._closed)
            waiter = _Waiter(tenant, asyncio.get_running_loop().create_future())
            self._waiters.append(waiter)
            self._wake()  # starts it now if nobody startable is ahead of it
            try:
                await waiter.future
            except asyncio.CancelledError:
                if waiter.future.done() and not waiter.future.cancelled() and waiter.future.exception() is None:
                    self.leave(tenant)  # the turn came as the caller went away: hand it on
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
        finally:
            self.queued -= 1
            if tenant is not None:
                self.tenant_queued[tenant] -= 1
                if not self.tenant_queued[tenant]:
                    del self.tenant_queued[tenant]

    def leave(self, tenant: str | None, service_s: float | None = None) -> None:
        """A running request ended (``service_s``: how long it ran, for the retry-after estimate)."""
        self.active -= 1
        if tenant is not None:
            self.tenant_active[tenant] -= 1
            if not self.tenant_active[tenant]:
                del self.tenant_active[tenant]
        if service_s is not None:
            self.service_s = 0.9 * self.service_s + 0.1 * service_s
        self._wake()
        self._forget_idle()

    def close(self, reason: str = "the solver is shutting down") -> None:
        """Refuse new requests and fail the waiting ones with CapacityError(reason)."""
        self._closed = reason
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_exception(CapacityError(reason))

    def retry_after_s(self) -> float:
        """A guess at when a turn frees: the mean request time, scaled by how many wait per running slot."""
        return round(max(0.5, self.service_s * (1 + self.queued / self.max_active)), 1)

    # ---- bookkeeping ------------------------------------------------------------------------------------------
    def _reserve(self, tenant: str | None) -> None:
        if self._closed:
            raise CapacityError(self._closed)
        if self.queued >= self.max_queue and not (self.queued == 0 and self._can_start(tenant)):
            raise CapacityError(f"busy: {self.queued} requests already wait (max_queue={self.max_queue})",
                                retry_after_s=self.retry_after_s())
        if tenant is not None and self.tenant_queue is not None and self.tenant_queued[tenant] >= self.tenant_queue \
                and not self._can_start(tenant):
            raise CapacityError(f"busy: tenant {tenant!r} already has {self.tenant_queued[tenant]} requests waiting "
                                f"(tenant_queue={self.tenant_queue})", retry_after_s=self.retry_after_s())
        self.queued += 1
        if tenant is not None:
            self.tenant_queued[tenant] += 1

    def _tenant(self, tenant: str | None) -> _Tenant | None:
        if tenant is None:
            return None
        if tenant not in self._tenants:
            throttler = None
            if self.tenant_rate is not None:
                throttler = Throttler(self.tenant_rate, self.tenant_period_s,
                                      retry_interval=min(0.05, self.tenant_period_s / self.tenant_rate / 4))
            self._tenants[tenant] = _Tenant(throttler)
        return self._tenants[tenant]

    def _can_start(self, tenant: str | None) -> bool:
        if self.active >= self.max_active:
            return False
        cap = self.tenant_concurrency
        return tenant is None or cap is None or self.tenant_active[tenant] < cap

    def _start(self, tenant: str | None) -> None:
        self.active += 1
        if tenant is not None:
            self.tenant_active[tenant] += 1

    def _wake(self) -> None:
        """Start waiters in arrival order, skipping those whose tenant is at its cap (others may go first)."""
        for waiter in list(self._waiters):
            if self.active >= self.max_active:
                return
            if waiter.future.done():
                self._waiters.remove(waiter)
            elif self._can_start(waiter.tenant):
                self._waiters.remove(waiter)
                self._start(waiter.tenant)
                waiter.future.set_result(None)

    def _forget_idle(self) -> None:
        """Drop tenants with nothing running or waiting whose rate window has passed (memory stays bounded)."""
        if len(self._tenants) < 1024:
            return
        horizon = time.monotonic() - self.tenant_period_s
        for name in [n for n, t in self._tenants.items() if t.last_start < horizon
                     and not self.tenant_active[n] and not self.tenant_queued[n]]:
            del self._tenants[name]
