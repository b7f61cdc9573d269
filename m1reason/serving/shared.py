"""SharedGenerator: one generator used by many threads at once.

Strategies are synchronous code that stream from a generator; serving runs each in a worker thread, and this
adapter makes those threads safe together. A generator that can drive itself (M1Generator) gets its background
driver started: one thread steps the engine for everybody, and each stream only waits for its own events (every
step advances every live sample: continuous batching). Any other generator is serialised: every call into it
(each ``next()`` of a stream, every cancel, append and fork) happens under one lock. It knows nothing of
asyncio, tenants or strategies.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import nullcontext

from m1reason.generator import GenerationRequest, GenerationResult, RequestFinished, SamplingParams
from m1reason.generator.protocol import GenerationEvent, GeneratorBase, as_generator

__all__ = ["SharedGenerator"]


class SharedGenerator(GeneratorBase):
    """Wrap ``generator`` so that many threads can stream, cancel, append and fork through it safely.

    It also makes generators that are not thread-safe (FakeGenerator, HFGenerator) usable from several threads:
    their streams interleave one event at a time. Taking the lock around each ``next()`` also closes a gap in
    which a stream that waited for the lock while another thread ran the last step of everything would find
    the engine idle and its own events not yet read.

    >>> from m1reason.generator.fake import FakeGenerator
    >>> shared = SharedGenerator(FakeGenerator(lambda request, i: "</think> \\\\boxed{4}"))
    >>> [result] = shared.generate([GenerationRequest(prompt="2 + 2?", request_id="r")])
    >>> result.samples[0].text
    '</think> \\\\boxed{4}'
    """

    def __init__(self, generator):
        if isinstance(generator, SharedGenerator):
            generator = generator.generator
        self.generator = generator = as_generator(generator)
        self.capabilities = frozenset(generator.capabilities)
        self.tokenizer, self.strategy_defaults = generator.tokenizer, generator.strategy_defaults
        self.scope, self.confidence_map = generator.scope, generator.confidence_map
        self.lock = threading.RLock()
        # A generator that can drive itself from a background thread (M1Generator) is thread-safe: streams then
        # only wait for their own events and every step serves all of them. Others are serialised by the lock.
        self.self_driven = hasattr(generator, "run_in_background")
        self._started_driver = bool(generator.run_in_background()) if self.self_driven else False

    @property
    def failure(self) -> str | None:
        """Why the wrapped generator stopped serving (its engine failed), or None while it serves.

        >>> from m1reason.generator.fake import FakeGenerator
        >>> SharedGenerator(FakeGenerator(lambda request, i: "x")).failure is None
        True
        """
        return self.generator.failure

    def close(self) -> None:
        """Stop the background driver this adapter started (a self-driven generator's ``close``), if any.

        >>> from m1reason.generator.fake import FakeGenerator
        >>> SharedGenerator(FakeGenerator(lambda request, i: "x")).close()
        """
        if self._started_driver:
            self._started_driver = False
            self.generator.close()

    def stream(self, requests: Iterable[GenerationRequest]) -> Iterator[GenerationEvent]:
        """The wrapped generator's stream; each event is taken under the lock. Closing it cancels what still runs."""
        if self.self_driven:
            yield from self.generator.stream(list(requests))
            return
        with self.lock:
            events = iter(self.generator.stream(list(requests)))
        try:
            while True:
                with self.lock:
                    event = next(events, None)
                if event is None:
                    return
                yield event
        finally:
            with self.lock:
                close = getattr(events, "close", None)  # an iterator of the generator's own may not close
                if close is not None:
                    close()

    def generate(self, requests: Iterable[GenerationRequest]) -> list[GenerationResult]:
        """Blocking results in request order; through ``stream`` when possible, so other threads keep going."""
        requests = list(requests)
        if "stream" not in self.capabilities:
            with self.lock:
                return self.generator.generate(requests)
        done = {e.request_id: e.result for e in self.stream(requests) if isinstance(e, RequestFinished)}
        return [done[r.request_id] for r in requests]

    def exclusive(self):
        """A context in which this thread's calls run back to back, with no other thread's in between (and, for a
        self-driven generator, no engine step): e.g. forcing answers out of 16 samples at a deadline.

        >>> from m1reason.generator.fake import FakeGenerator
        >>> shared = SharedGenerator(FakeGenerator(lambda request, i: "x"))
        >>> with shared.exclusive():
        ...     shared.cancel("nothing-running")
        False
        """
        return self.generator.exclusive() if self.self_driven else self.lock

    # A self-driven generator is thread-safe on its own: its calls skip this adapter's lock, which would otherwise
    # queue every thread's appends behind one another, each then waiting for an engine step (a long delay at a
    # deadline when many problems force all their answers at once).
    def cancel(self, id: str) -> bool:
        """Cancel a sample or request (waits at most for the step in progress)."""
        with self._serialised():
            return self.generator.cancel(id)

    def append(self, sample_id: str, text_or_token_ids: str | list[int], *,
               sampling: SamplingParams | None = None) -> None:
        """Force tokens into a live sample (see the Generator protocol)."""
        with self._serialised():
            if sampling is None:
                return self.generator.append(sample_id, text_or_token_ids)
            return self.generator.append(sample_id, text_or_token_ids, sampling=sampling)

    def fork(self, sample_id: str, n: int = 1, sampling: SamplingParams | None = None) -> list[str]:
        """Branch a live sample into n (see the Generator protocol)."""
        with self._serialised():
            return self.generator.fork(sample_id, n, sampling)

    def _serialised(self):
        return nullcontext() if self.self_driven else self.lock

    def throughput_model(self):
        """The wrapped generator's throughput model (measured under the lock, as it runs the model)."""
        with self.lock:
            return self.generator.throughput_model()

    def encode_prompt(self, prompt: str) -> list[int] | None:
        """The wrapped generator's encoding of ``prompt`` (thread-safe: it only reads the tokenizer), or None.

        >>> from m1reason.generator.fake import FakeGenerator
        >>> SharedGenerator(FakeGenerator(lambda request, i: "x")).encode_prompt("2 + 2?") is None
        True
        """
        return self.generator.encode_prompt(prompt)

    def reserve(self, request_id: str, plan):
        """The wrapped generator's ``reserve`` (thread-safe: planners take turns on their own lock).

        >>> from m1reason.generator.fake import FakeGenerator
        >>> SharedGenerator(FakeGenerator(lambda request, i: "x")).reserve("r", lambda: "the plan")
        'the plan'
        """
        return self.generator.reserve(request_id, plan)

    def unreserve(self, request_id: str) -> None:
        """The wrapped generator's ``unreserve``."""
        self.generator.unreserve(request_id)

    def warm_up(self) -> int:
        """The wrapped generator's ``warm_up`` (call it idle, before serving: it runs the model).

        >>> from m1reason.generator.fake import FakeGenerator
        >>> SharedGenerator(FakeGenerator(lambda request, i: "x")).warm_up()  # scratch calls made
        0
        """
        with self._serialised():
            return self.generator.warm_up()

    def step_latency_s(self) -> float:
        """The wrapped generator's ``step_latency_s`` (read without waiting for a step).

        >>> from m1reason.generator.fake import FakeGenerator
        >>> SharedGenerator(FakeGenerator(lambda request, i: "x")).step_latency_s()
        0.0
        """
        return self.generator.step_latency_s()

    def occupancy(self) -> int:
        """Sequences in flight now (the wrapped generator's ``occupancy``; a self-driven one reads it without
        waiting for a step).

        >>> from m1reason.generator.fake import FakeGenerator
        >>> SharedGenerator(FakeGenerator(lambda request, i: "x")).occupancy()
        0
        """
        with self._serialised():
            return self.generator.occupancy()
