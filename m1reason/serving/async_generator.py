"""AsyncGenerator: the Generator protocol for asyncio code. Each stream runs in a worker thread over a
SharedGenerator, and its events reach the event loop in batches; a consumer that stops (break, cancellation,
a client gone) cancels its requests, so their slots free at the next step. Strategies are not its business.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor

from m1reason.generator import GenerationRequest, GenerationResult, RequestFinished, SamplingParams
from m1reason.generator.protocol import GenerationEvent
from m1reason.serving._channel import Channel
from m1reason.serving.shared import SharedGenerator

__all__ = ["AsyncGenerator"]


class AsyncGenerator:
    """``await generate(requests)``, ``async for event in stream(requests)``, ``await cancel(id)``,
    ``await append(...)``, ``await fork(...)`` over any Generator; at most ``max_streams`` streams run at once
    (more wait for a thread).

    >>> from m1reason.generator.fake import FakeGenerator
    >>> async def demo():
    ...     agen = AsyncGenerator(FakeGenerator(lambda request, i: "ok"))
    ...     request = GenerationRequest(prompt="hi", request_id="r")
    ...     kinds = [event.kind async for event in agen.stream([request])]
    ...     [result] = await agen.generate([GenerationRequest(prompt="hi", request_id="s")])
    ...     await agen.aclose()
    ...     return kinds, result.samples[0].text
    >>> asyncio.run(demo())
    (['tokens', 'tokens', 'sample', 'request'], 'ok')
    """

    def __init__(self, generator, *, max_streams: int = 256):
        self.shared = generator.shared if isinstance(generator, AsyncGenerator) else SharedGenerator(generator)
        self.capabilities = self.shared.capabilities
        self.tokenizer = self.shared.tokenizer
        self.scope = self.shared.scope
        self.confidence_map = self.shared.confidence_map
        self._streams = ThreadPoolExecutor(max_streams, thread_name_prefix="m1reason-stream")
        self._control = ThreadPoolExecutor(1, thread_name_prefix="m1reason-control")

    async def stream(self, requests: Iterable[GenerationRequest]) -> AsyncIterator[GenerationEvent]:
        """Events as the generator's ``stream`` gives them. Leaving the loop early cancels what still runs."""
        requests = list(requests)
        loop = asyncio.get_running_loop()
        channel, stop = Channel(loop), threading.Event()
        self._streams.submit(_pump, self.shared, requests, channel, stop)
        finished = False
        try:
            async for batch in channel.batches():
                for event in batch:
                    yield event
            finished = True
        finally:
            if not finished:
                stop.set()
                for request in requests:
                    self._control.submit(self.shared.cancel, request.request_id)

    async def generate(self, requests: Iterable[GenerationRequest]) -> list[GenerationResult]:
        """Run requests to the end; results in request order."""
        requests = list(requests)
        done = {e.request_id: e.result async for e in self.stream(requests) if isinstance(e, RequestFinished)}
        return [done[r.request_id] for r in requests]

    async def cancel(self, id: str) -> bool:
        """End a sample or every live sample of a request with "cancelled"."""
        return await asyncio.get_running_loop().run_in_executor(self._control, self.shared.cancel, id)

    async def append(self, sample_id: str, text_or_token_ids: str | list[int], *,
                     sampling: SamplingParams | None = None) -> None:
        """Force tokens into a live sample; it continues from its state."""
        call = lambda: self.shared.append(sample_id, text_or_token_ids, sampling=sampling)
        return await asyncio.get_running_loop().run_in_executor(self._control, call)

    async def fork(self, sample_id: str, n: int = 1, sampling: SamplingParams | None = None) -> list[str]:
        """Branch a live sample into n new ones; returns their ids."""
        call = lambda: self.shared.fork(sample_id, n, sampling)
        return await asyncio.get_running_loop().run_in_executor(self._control, call)

    async def aclose(self) -> None:
        """Wait for the stream threads to end (streams still open should be closed or cancelled first)."""
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._streams.shutdown(wait=True)
        self._control.shutdown(wait=True)


def _pump(shared: SharedGenerator, requests: list[GenerationRequest], channel: Channel, stop: threading.Event):
    error = None
    try:
        events = shared.stream(requests)
        try:
            for event in events:
                channel.put(event)
                if stop.is_set():
                    break
        finally:
            events.close()
    except BaseException as exc:  # noqa: BLE001 - handed to the one consumer of this stream, nobody else
        error = exc
    channel.close(error)
