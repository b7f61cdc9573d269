"""AsyncSolver: ``await solver.solve(problem)`` for many concurrent callers (a tutoring app's students) sharing one
generator, so their samples share the engine's batched decode steps instead of each paying its own pass.

Each admitted request runs its strategy in a worker thread over one SharedGenerator: the strategies' streams
all feed one engine, which advances every live sample each step (continuous batching: a new request's samples
join the running batch at the next step). Answer extraction and voting run in those threads, off the event loop.
Admission (queue bound, tenant limits) lives in ``admission``; the thread-to-loop hand-over in ``_channel``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor

from m1reason.errors import CapacityError
from m1reason.generator import SampleFinished, TokensAppended
from m1reason.serving._channel import Channel
from m1reason.serving.admission import Admission
from m1reason.serving.async_generator import AsyncGenerator
from m1reason.serving.events import ProgressUpdate, SampleEnded, SolveEvent, Started, TextDelta
from m1reason.serving.shared import SharedGenerator
from m1reason.solving import check_request, make_strategy

__all__ = ["AsyncSolver"]


class _Cancelled(Exception):
    """Raised inside a strategy's thread when its caller went away or the solver shut down."""


class _JobGenerator:
    """The generator one strategy run sees: the shared one, plus a record of its requests (so the run can be
    cancelled from outside) and an optional tap on its events (for streaming text)."""

    def __init__(self, shared: SharedGenerator, on_event=None):
        self.shared, self.on_event = shared, on_event
        self.capabilities, self.tokenizer = shared.capabilities, shared.tokenizer
        self.cancelled = False
        self._request_ids: list[str] = []
        self._lock = threading.Lock()

    def stream(self, requests):
        requests = self._track(requests)
        events = self.shared.stream(requests)
        try:
            for event in events:
                if self.cancelled:
                    raise _Cancelled()
                if self.on_event is not None:
                    self.on_event(event)
                yield event
        finally:
            events.close()  # cancels whatever of these requests still runs

    def generate(self, requests):
        requests = self._track(requests)
        results = self.shared.generate(requests)
        if self.cancelled:
            raise _Cancelled()
        return results

    def cancel(self, id: str) -> bool:
        return self.shared.cancel(id)

    def append(self, sample_id, text_or_token_ids, *, sampling=None):
        return self.shared.append(sample_id, text_or_token_ids, sampling=sampling)

    def fork(self, sample_id, n=1, sampling=None):
        return self.shared.fork(sample_id, n, sampling)

    def throughput_model(self):
        return self.shared.throughput_model()

    def cancel_all(self) -> None:
        """From another thread: stop this run; its live samples end now and free their slots."""
        self.cancelled = True
        with self._lock:
            ids = list(self._request_ids)
        for request_id in ids:
            self.shared.cancel(request_id)

    def _track(self, requests) -> list:
        if self.cancelled:
            raise _Cancelled()
        requests = list(requests)
        with self._lock:
            self._request_ids += [r.request_id for r in requests]
        return requests


class _Job:
    def __init__(self, strategy, problem: str, budget_s: float | None, tenant: str | None,
                 generator: _JobGenerator, channel: Channel | None, cold: dict):
        self.strategy, self.problem, self.budget_s, self.tenant = strategy, problem, budget_s, tenant
        self.generator, self.channel, self.cold = generator, channel, cold
        self.queued_s = 0.0
        self.started = 0.0
        self.future: Future | None = None

    def run(self):
        """In a worker thread: the strategy, with the budget left after queueing (at least a quarter of it)."""
        try:
            budget = None if self.budget_s is None else max(self.budget_s - self.queued_s, 0.25 * self.budget_s)
            options = {"budget_s": budget}
            if self.channel is not None and "on_progress" in inspect.signature(self.strategy.run).parameters:
                options["on_progress"] = self._progress
            solution = self.strategy.run(self.problem, self.generator, **options)
            timings = {**solution.timings, "queue_s": self.queued_s, **self.cold}
            return solution.model_copy(update={"timings": timings})
        finally:
            if self.channel is not None:
                self.channel.close()

    def _progress(self, p) -> None:
        self.channel.put(ProgressUpdate(finished=p.finished, running=p.running, tokens=p.tokens,
                                        elapsed_s=p.elapsed_s, tokens_per_s=p.tokens_per_s, budget_s=p.budget_s,
                                        tally=[(str(a), int(c)) for a, c in p.tally]))

    def on_event(self, event) -> None:
        if isinstance(event, TokensAppended):
            if event.text_delta:
                self.channel.put(TextDelta(sample_id=event.sample_id, text=event.text_delta))
        elif isinstance(event, SampleFinished):
            self.channel.put(SampleEnded(sample_id=event.sample_id, finish_reason=event.sample.finish_reason,
                                         num_tokens=event.sample.num_tokens))


class AsyncSolver:
    """Solve problems for many concurrent callers over one shared generator.

    ``generator``: any Generator (or AsyncGenerator); None loads ``default_generator(model, max_slots=64)`` on
    first use (or on ``await start()``). ``max_active``: strategies running at once (worker threads; their
    samples share the engine's batch, whose width is the engine's ``max_slots``). ``max_queue``: requests that
    may wait beyond those; more raise CapacityError with ``retry_after_s`` at once. Per tenant (``tenant=`` on a
    call; None is exempt): ``tenant_rate`` starts per ``tenant_period_s`` (asyncio-throttle; callers wait their
    turn), ``tenant_concurrency`` running at once, ``tenant_queue`` waiting at most.

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
                 tenant_concurrency: int | None = None, tenant_queue: int | None = None, model: str | None = None):
        self.admission = Admission(max_active=max_active, max_queue=max_queue, tenant_rate=tenant_rate,
                                   tenant_period_s=tenant_period_s, tenant_concurrency=tenant_concurrency,
                                   tenant_queue=tenant_queue)
        self._source, self._model = generator, model
        self.shared: SharedGenerator | None = None
        self._workers = ThreadPoolExecutor(max_active, thread_name_prefix="m1reason-solve")
        self._control = ThreadPoolExecutor(1, thread_name_prefix="m1reason-control")
        self._cold: dict[str, float] = {}
        self._starting: asyncio.Lock | None = None
        self._jobs: set[_Job] = set()
        self._closed = False

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
        """A ``strategies.Solution`` for ``problem``; ``budget_s`` counts from the call (queueing included).

        Raises CapacityError (with ``retry_after_s``) when the queue is full, BudgetError or ValueError for bad
        arguments, and whatever this request's strategy raised (other requests are not affected). Cancelling
        the awaiting task cancels the request's samples and frees their slots.
        """
        job = await self._begin(problem, budget_s, strategy, tenant, stream=False)
        try:
            return await asyncio.wrap_future(job.future)
        except _Cancelled:
            raise CapacityError("the solver shut down before this request finished") from None
        except asyncio.CancelledError:
            self._cancel(job)
            raise

    async def stream(self, problem: str, *, budget_s: float | None = 30.0, strategy="auto",
                     tenant: str | None = None) -> AsyncIterator[SolveEvent]:
        """Like ``solve``, as events: Started, then TextDelta / SampleEnded / ProgressUpdate as they happen, and
        the Solution last. Leaving early (break, cancellation, a client gone) cancels the request; close the
        iterator promptly, e.g. with ``contextlib.aclosing``."""
        job = await self._begin(problem, budget_s, strategy, tenant, stream=True)
        try:
            yield Started(queued_s=job.queued_s)
            async for batch in job.channel.batches():
                for event in batch:
                    yield event
            try:
                solution = await asyncio.wrap_future(job.future)
            except _Cancelled:
                raise CapacityError("the solver shut down before this request finished") from None
            yield solution
        finally:
            if not job.future.done():
                self._cancel(job)

    async def check(self, candidate: str, gold: str) -> bool:
        """``m1reason.answers.is_equivalent`` in a worker thread (symbolic checks can take a while).

        >>> asyncio.run(AsyncSolver(object()).check("0.5", "\\\\frac{1}{2}"))
        True
        """
        from m1reason.answers import is_equivalent

        return await asyncio.get_running_loop().run_in_executor(self._control, is_equivalent, candidate, gold)

    def stats(self) -> dict:
        """Requests running and waiting, and sequences in the engine now (None before the generator is loaded).

        >>> AsyncSolver(object()).stats()
        {'active': 0, 'queued': 0, 'occupancy': None}
        """
        occupancy = self.shared.occupancy() if self.shared is not None else None
        return {"active": self.admission.active, "queued": self.admission.queued, "occupancy": occupancy}

    async def aclose(self, *, grace_s: float = 30.0) -> None:
        """Refuse new requests, fail waiting ones (CapacityError), let running ones finish for ``grace_s``
        seconds, then cancel the rest and stop the worker threads."""
        self._closed = True
        self.admission.close()
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
        measured = time.monotonic()
        warm_up = getattr(shared.generator, "warm_up", None)
        if warm_up is not None:  # calibration, every decode graph, first compiles, then the heap frozen
            warm_up()
        else:
            shared.throughput_model()
        cold["calibration_s"] = time.monotonic() - measured
        return shared, cold

    async def _begin(self, problem, budget_s, strategy, tenant, *, stream: bool) -> _Job:
        check_request(problem, budget_s)
        make_strategy(strategy, budget_s)  # a bad name fails on the caller's side, before queueing
        if self._closed:
            raise CapacityError("the solver is shut down")
        await self.start()
        chosen = make_strategy(strategy, budget_s, self.shared)  # sized for the model (its strategy_defaults)
        arrived = time.monotonic()
        await self.admission.enter(tenant)
        try:
            loop = asyncio.get_running_loop()
            channel = Channel(loop) if stream else None
            cold, self._cold = self._cold, {}
            job = _Job(chosen, problem, budget_s, tenant, None, channel, cold)
            job.generator = _JobGenerator(self.shared, job.on_event if stream else None)
            job.queued_s = time.monotonic() - arrived
            job.started = time.monotonic()
            job.future = self._workers.submit(job.run)
        except BaseException:
            self.admission.leave(tenant)
            raise
        self._jobs.add(job)
        job.future.add_done_callback(lambda _: _call_soon(loop, self._finished, job))
        return job

    def _finished(self, job: _Job) -> None:
        self._jobs.discard(job)
        self.admission.leave(job.tenant, time.monotonic() - job.started)

    def _cancel(self, job: _Job) -> None:
        job.generator.cancelled = True
        with contextlib.suppress(RuntimeError):  # shut down: the job ends at its next event anyway
            self._control.submit(job.generator.cancel_all)

    def _shutdown(self) -> None:
        self._workers.shutdown(wait=True)
        self._control.shutdown(wait=True)


def _call_soon(loop: asyncio.AbstractEventLoop, callback, *args) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed; nothing is waiting on it
        loop.call_soon_threadsafe(callback, *args)
