"""SharedGenerator and AsyncGenerator: many threads (or tasks) over one generator."""

import asyncio
import threading

from m1reason.generator import GenerationRequest, RequestFinished, SamplingParams
from m1reason.serving import AsyncGenerator, SharedGenerator


def test_many_threads_ending_together_all_get_their_results(tiny):
    # Without the shared lock, a stream waiting to step while another ran the last step of everything found the
    # engine idle and its own events unread, and raised.
    shared = SharedGenerator(tiny)
    for trial in range(4):
        barrier, errors, done = threading.Barrier(16), [], []

        def one(i, trial=trial, barrier=barrier, errors=errors, done=done):
            request = GenerationRequest(prompt_token_ids=[1, 2, 3], request_id=f"t{trial}-{i}",
                                        sampling=SamplingParams(max_new_tokens=4, ignore_eos=True, seed=i))
            barrier.wait()
            try:
                ends = [e for e in shared.stream([request]) if isinstance(e, RequestFinished)]
                done.append(ends[0].request_id == request.request_id)
            except Exception as err:  # noqa: BLE001 - the test reports it
                errors.append(err)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and done == [True] * 16


def test_async_generator_stream_generate_and_cancel(tiny):
    async def main():
        agen = AsyncGenerator(tiny)
        long = GenerationRequest(prompt_token_ids=[5, 6], request_id="long",
                                 sampling=SamplingParams(n=2, max_new_tokens=200, ignore_eos=True))
        short = GenerationRequest(prompt_token_ids=[7, 8], request_id="short",
                                  sampling=SamplingParams(max_new_tokens=3, ignore_eos=True))
        stream = agen.stream([long])
        async for event in stream:
            if event.kind == "tokens":
                break
        await stream.aclose()  # leaving early cancels the long request
        [result] = await agen.generate([short])
        for _ in range(100):
            if tiny.occupancy() == 0:
                break
            await asyncio.sleep(0.01)
        await agen.aclose()
        return result.samples[0].num_tokens, tiny.occupancy()

    assert asyncio.run(main()) == (3, 0)
