"""AsyncSolver: ``await solver.solve(problem)`` for many concurrent callers (a tutoring app's students) sharing one
generator, so their samples share the engine's batched decode steps instead of each paying its own pass.

Each admitted request runs ``m1reason.solving.solve`` (the one solve path) with its strategy in a worker thread
over one SharedGenerator: the strategies' streams all feed one engine, which advances every live sample each step
(continuous batching: a new request's samples join the running batch at the next step). Answer extraction and
voting run in those threads, off the event loop. Admission (queue bound, tenant limits) lives in ``admission``; a
request's job in ``_jobs``; the thread-to-loop hand-over in ``_channel``.

Under a budget a caller never waits much past it: a request still waiting for a turn when its budget runs out, or
whose strategy has not returned ``RETURN_BY_S`` after it, gets a Solution with no answer and a status saying why
("no_turn", "no_answer"), never an empty answer that looks like success and never an open-ended wait. A problem
outside the generator's scope gets its "out_of_scope" Solution at once, before admission: it takes no place in the
queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from m1reason.checks import check_request
from m1reason.errors import CapacityError
from m1reason.serving._channel import Channel
from m1reason.serving._jobs import _Cancelled, _Job, _JobGenerator, unanswered
from m1reason.serving._memory import release_free_memory
from m1reason.serving.admission import Admission
from m1reason.serving.async_generator import AsyncGenerator
from m1reason.serving.events import SolveEvent, Started
from m1reason.serving.shared import SharedGenerator
from m1reason.solving import make_strategy

__all__ = ["AsyncSolver"]

# A request under a budget returns at most this long after its budget, answered or not: half of the second a caller
# is promised, the other half left for the transport (an HTTP front's event loop under a burst, the response).
RETURN_BY_S = 0.5
# Once nothing has run or waited for this long, the pages a burst's threads freed go back to the OS: a server's
# memory returns to where it was instead of staying at the burst's high-water mark. Long enough that a steady
# stream of requests (idle for moments between them) does not trim after each one.
IDLE_TRIM_S = 1.0


class _Early(Exception):
    """Inside ``_begin``: the request has its ``solution`` without a turn: it is outside the generator's scope, or
    its budget ran out before a turn came."""

    def __init__(self, solution):
        super().__init__(solution.status_reason)
        self.solution = solution


class AsyncSolver:
    """Solve problems for many concurrent callers over one shared generator.

    ``generator``: any Generator (or AsyncGenerator); None loads ``default_generator(model, max_slots=64)`` on
    first use (or on ``await start()``). ``max_active``: strategies running at once (worker threads; their
    samples share the engine's batch, whose width is the engine's ``max_slots``). ``max_queue``: requests that
    may wait beyond those; more raise CapacityError with ``retry_after_s`` at once. Per tenant (``tenant=`` on a
    call; None is exempt): ``tenant_rate`` starts per ``tenant_period_s`` (asyncio-throttle; callers wait their
    turn), ``tenant_concurrency`` running at once, ``tenant_queue`` waiting at most. ``check`` runs answer checks
    on their own ``check_workers`` threads, never behind solves; more than ``max_checks`` running or waiting raise
    CapacityError at once.

    >>> from m1reason.generator.fake import FakeGenerator
    >>> async def demo():
    ...     fake = FakeGenerator(lambda request, i: "so x = 4 </think> $\\\\boxed{4}$")
    ...     async with AsyncSolver(fake, tenant_concurrency=2) as solver:
    ...         return await asyncio.gather(*(solver.solve(f"{k} + {4 - k}?", tenant="class-7b") for k in range(3)))
    >>> [s.answer for s in asyncio.run(demo())]
    ['4', '4', '4']
    """

    def __init__(self, generator=None, *, max_queue: int = 512, max_active: int = 256,
                 tenant_rate: int | None = None, tenant_period_s: float = 60.0,
                 tenant_concurrency: int | None = None, tenant_queue: int | None = None, model: str | None = None,
                 check_workers: int = 4, max_checks: int = 16):
        if check_workers < 1 or max_checks < check_workers:
            raise ValueError(f"need check_workers >= 1 and max_checks >= check_workers (got {check_workers}, "
                             f"{max_checks})")
        self.admission = Admission(max_active=max_active, max_queue=max_queue, tenant_rate=tenant_rate,
                                   tenant_period_s=tenant_period_s, tenant_concurrency=tenant_concurrency,
                                   tenant_queue=tenant_queue)
        self._source, self._model = generator, model
        self.shared: SharedGenerator | None = None
        self._workers = self._worker_pool(max_active)
        self._control = ThreadPoolExecutor(1, thread_name_prefix="m1reason-control")
        self._checks = ThreadPoolExecutor(check_workers, thread_name_prefix="m1reason-check")
        self.max_checks, self._checks_pending = max_checks, 0
        self._owns_shared = False  # this solver made the SharedGenerator (so it stops its engine thread on close)
        self._cold: dict[str, float] = {}
        self._starting: asyncio.Lock | None = None
        self._jobs: set[_Job] = set()
        self._closed = False
        self._idle_trim: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        """Load the generator and warm it up (off the event loop), once; ``solve`` calls it if needed. An
        M1Generator's ``warm_up`` measures its speed, captures its decode graphs and compiles its kernels, so no
        student's request pays for them; these cold-start costs appear once, in the first Solution's timings
        (``load_s``, ``calibration_s``: the warm-up)."""
        if self.shared is not None:
            return
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self.shared is None:
                self.shared, self._cold = await asyncio.get_running_loop().run_in_executor(self._control, self._load)

    async def solve(self, problem: str, *, budget_s: float | None = 30.0, strategy="auto",
                    tenant: str | None = None):
        """A ``strategies.Solution`` for ``problem``; ``budget_s`` counts from the call (queueing included), and
        the Solution comes within about ``RETURN_BY_S`` after it, with status "no_turn" if the budget ran out
        before the request got a turn, "no_answer" if none came in time, and at once, without queueing,
        "out_of_scope" for a problem outside the generator's scope.

        Raises CapacityError (with ``retry_after_s``) when the queue is full, BudgetError or ValueError for bad
        arguments, M1Error when the engine failed while running it, and whatever this request's strategy raised
        (other requests are not affected). Cancelling the awaiting task cancels the request's samples and frees
        their slots.
        """
        try:
            job = await self._begin(problem, budget_s, strategy, tenant, stream=False)
        except _Early as early:
            return early.solution
        try:
            return await self._outcome(job)
        except asyncio.CancelledError:
            self._cancel(job)
            raise

    async def stream(self, problem: str, *, budget_s: float | None = 30.0, strategy="auto",
                     tenant: str | None = None) -> AsyncIterator[SolveEvent]:
        """Like ``solve``, as events: Started, then TextDelta / SampleEnded / ProgressUpdate as they happen, and
        the Solution last (only the Solution when the budget ran out before a turn came, status "no_turn", or the
        problem is out of scope, status "out_of_scope").
        Leaving early (break, cancellation, a client gone) cancels the request; close the iterator promptly,
        e.g. with ``contextlib.aclosing``."""
        try:
            job = await self._begin(problem, budget_s, strategy, tenant, stream=True)
        except _Early as early:
            yield early.solution
            return
        stop_events = None
        if job.deadline is not None:  # the events end by the deadline, whatever the strategy is doing
            loop = asyncio.get_running_loop()
            stop_events = loop.call_later(max(0.0, job.deadline - time.monotonic()), job.channel.close)
        try:
            yield Started(queued_s=job.queued_s)
            async for batch in job.channel.batches():
                for event in batch:
                    yield event
            yield await self._outcome(job)
        finally:
            if stop_events is not None:
                stop_events.cancel()
            if job.future is not None and not job.future.done():  # None: released, so finished
                self._cancel(job)

    async def check(self, candidate: str, gold: str) -> bool:
        """``m1reason.answers.is_equivalent`` on the check threads (symbolic checks can take a while), which
        solves never hold up; a check waits at most behind ``max_checks`` others, and past that raises
        CapacityError (with ``retry_after_s``) at once.

        >>> asyncio.run(AsyncSolver(object()).check("0.5", "\\\\frac{1}{2}"))
        True
        """
        from m1reason.answers import is_equivalent

        if self._closed:
            raise CapacityError("the solver is shut down")
        if self._checks_pending >= self.max_checks:
            raise CapacityError(f"busy: {self._checks_pending} answer checks already running or waiting "
                                f"(max_checks={self.max_checks})", retry_after_s=1.0)
        loop = asyncio.get_running_loop()
        self._checks_pending += 1
        future = self._checks.submit(is_equivalent, candidate, gold)
        future.add_done_callback(lambda _: _call_soon(loop, self._check_done))
        return await asyncio.wrap_future(future)

    def _check_done(self) -> None:
        self._checks_pending -= 1

    def stats(self) -> dict:
        """Health and load: ``ok`` (False once the engine has failed, with ``error`` saying why, or while shutting
        down), requests running and waiting, sequences in the engine now (None before the generator is loaded),
        answer checks running or waiting.

        >>> AsyncSolver(object()).stats()
        {'ok': True, 'error': None, 'active': 0, 'queued': 0, 'occupancy': None, 'checks': 0}
        """
        failure = self.shared.failure if self.shared is not None else None
        error = (f"the engine failed and stopped serving: {failure}" if failure is not None
                 else "the solver is shutting down" if self._closed else None)
        occupancy = self.shared.occupancy() if self.shared is not None else None
        return {"ok": error is None, "error": error, "active": self.admission.active,
                "queued": self.admission.queued, "occupancy": occupancy, "checks": self._checks_pending}

    async def aclose(self, *, grace_s: float = 30.0) -> None:
        """Refuse new requests, fail waiting ones (CapacityError), let running ones finish for ``grace_s``
        seconds, then cancel the rest and stop the worker threads and, if this solver started it, the engine's
        thread (checks still running are not waited for)."""
        self._closed = True
        self.admission.close()
        if self._idle_trim is not None:
            self._idle_trim.cancel()
        running = {asyncio.wrap_future(job.future): job for job in self._jobs}
        if running:
            _, late = await asyncio.wait(running, timeout=grace_s)
            for future in late:
                self._cancel(running[future])
            if late:
                await asyncio.wait(late)
            for future in running:  # their callers see the errors; these copies must not log them again
                future.exception()
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    async def __aenter__(self) -> AsyncSolver:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # ---- inside ---------------------------------------------------------------------------------------------
    def _load(self) -> tuple[SharedGenerator, dict]:
        cold, started = {}, time.monotonic()
        source = self._source
        if source is None:
            from m1reason.defaults import default_generator

            source = default_generator(self._model, max_slots=64)
            cold["load_s"] = time.monotonic() - started
        shared = source.shared if isinstance(source, AsyncGenerator) else SharedGenerator(source)
        self._owns_shared = not isinstance(source, AsyncGenerator)
        measured = time.monotonic()
        shared.warm_up()  # calibration (an M1Generator's: every decode graph, first compiles, the heap frozen)
        cold["calibration_s"] = time.monotonic() - measured
        return shared, cold

    async def _begin(self, problem, budget_s, strategy, tenant, *, stream: bool) -> _Job:
        check_request(problem, budget_s)
        make_strategy(strategy, budget_s)  # a bad name fails on the caller's side, before queueing
        if self._closed:
            raise CapacityError("the solver is shut down")
        await self.start()
        chosen = make_strategy(strategy, budget_s, self.shared)  # sized for the model (its strategy_defaults)
        # On the event loop: the check is linear in the text, quick even for the tutoring app's longest problems.
        refused = _out_of_scope(problem, self.shared, chosen, budget_s)
        if refused is not None:  # answered now: it takes no place in the queue and waits for no turn
            raise _Early(refused)
        arrived = time.monotonic()
        try:  # a turn that has not come by the end of the budget is no use
            await asyncio.wait_for(self.admission.enter(tenant), timeout=budget_s)
        except asyncio.TimeoutError:
            waited = time.monotonic() - arrived
            raise _Early(unanswered(problem, chosen, "no_turn", waited, {"total_s": 0.0, "queue_s": waited})) \
                from None
        try:
            loop = asyncio.get_running_loop()
            channel = Channel(loop) if stream else None
            cold, self._cold = self._cold, {}
            job = _Job(chosen, problem, budget_s, tenant, arrived, channel, cold)
            job.generator = _JobGenerator(self.shared, job.on_event if stream else None, self._peers)
            job.queued_s = time.monotonic() - arrived
            job.deadline = None if budget_s is None else arrived + budget_s + RETURN_BY_S
            job.future = self._workers.submit(job.run)
        except BaseException:
            self.admission.leave(tenant)
            raise
        self._jobs.add(job)
        job.outcome = asyncio.wrap_future(job.future)  # what callers await: it outlives the job's release
        job.outcome.add_done_callback(_retrieve)  # a stream whose client left never awaits it: no "never retrieved"
        job.future.add_done_callback(lambda _: _call_soon(loop, self._finished, job))
        return job

    async def _outcome(self, job: _Job):
        """The job's Solution; by its deadline (budget + RETURN_BY_S from the call) one with no answer instead,
        the job cancelled: a strategy held up (an overloaded host, a slow vote) does not hold its caller."""
        future = job.outcome
        try:
            if job.deadline is None:
                return await future
            return await asyncio.wait_for(asyncio.shield(future), max(0.0, job.deadline - time.monotonic()))
        except asyncio.TimeoutError:
            self._cancel(job)
            future.add_done_callback(_retrieve)  # its error (cancelled) has no reader
            return job.late()
        except _Cancelled:
            raise CapacityError("the solver shut down before this request finished") from None

    def _peers(self) -> int:
        """Requests of this solver besides the caller's, running or waiting for a turn (read from a job's
        thread: two counters, each read whole)."""
        return max(0, self.admission.active + self.admission.queued - 1)

    def _finished(self, job: _Job) -> None:
        self._jobs.discard(job)
        self.admission.leave(job.tenant, time.monotonic() - job.started)
        job.release()
        if self._idle() and self._idle_trim is None:
            self._idle_trim = asyncio.get_running_loop().call_later(IDLE_TRIM_S, self._trim_if_idle)

    def _idle(self) -> bool:
        return not self._jobs and not self.admission.active and not self.admission.queued

    @staticmethod
    def _worker_pool(size: int) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(size, thread_name_prefix="m1reason-solve")

    def _trim_if_idle(self) -> None:
        self._idle_trim = None
        if self._idle() and not self._closed:  # else the next job's end schedules it again
            # A burst leaves up to ``max_active`` idle worker threads that a pool never retires, each holding the
            # stack pages and allocator state it touched: a fresh pool starts threads again as they are needed.
            retired, self._workers = self._workers, self._worker_pool(self.admission.max_active)
            retired.shutdown(wait=False)
            with contextlib.suppress(RuntimeError):  # shut down meanwhile
                self._control.submit(_release_after, retired)

    def _cancel(self, job: _Job) -> None:
        generator = job.generator
        if generator is None:  # released: the job has finished
            return
        generator.cancelled = True
        with contextlib.suppress(RuntimeError):  # shut down: the job ends at its next event anyway
            self._control.submit(generator.cancel_all)

    def _shutdown(self) -> None:
        self._workers.shutdown(wait=True)
        self._control.shutdown(wait=True)
        self._checks.shutdown(wait=False, cancel_futures=True)
        if self._owns_shared and self.shared is not None:
            self.shared.close()


def _out_of_scope(problem: str, shared: SharedGenerator, strategy, budget_s: float | None):
    """The "out_of_scope" Solution the strategy would return at once for a problem outside the generator's scope
    (``strategies._scope``), else None; a strategy object of the caller's own is refused alike."""
    from strategies._scope import out_of_scope

    return out_of_scope(problem, shared, type(strategy).__name__, budget_s)


def _release_after(retired: ThreadPoolExecutor) -> None:
    """Once the retired pool's threads have exited (they are idle: at once), hand the freed pages back."""
    retired.shutdown(wait=True)
    release_free_memory()


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()


def _call_soon(loop: asyncio.AbstractEventLoop, callback, *args) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed; nothing is waiting on it
        loop.call_soon_threadsafe(callback, *args)
