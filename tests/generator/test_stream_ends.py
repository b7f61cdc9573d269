"""A stream whose request is over returns without waiting for the engine step in progress: under load a step can
take a second or more, and a strategy answering at its deadline would return that much past it. Its slots are
freed by the driver's next turn."""

import threading
import time

import pytest

from m1reason.generator.m1 import M1Generator
from m1reason.types import GenerationRequest, RequestFinished, SampleFinished, SamplingParams
from tests.conftest import flat_tiny_model

SLOW_STEP_S = 2.0


@pytest.fixture(scope="module")
def model():
    return flat_tiny_model(64)


def request(rid, prompt, tokens):
    return GenerationRequest(prompt_token_ids=prompt, request_id=rid,
                             sampling=SamplingParams(temperature=0, max_new_tokens=tokens, ignore_eos=True))


def test_a_finished_stream_returns_while_a_slow_step_runs(model, monkeypatch):
    gen = M1Generator(model, max_slots=4, max_len=256, freeze_gc=False)
    gen.run_in_background()
    slow, in_slow_step = threading.Event(), threading.Event()
    real_step = gen.engine.step

    def step():
        if slow.is_set():
            in_slow_step.set()
            time.sleep(SLOW_STEP_S)  # the driver holds the generator's lock all along, as a long prefill does
        return real_step()

    monkeypatch.setattr(gen.engine, "step", step)
    other_done = threading.Event()
    threading.Thread(target=lambda: (list(gen.stream([request("long", [5, 6], 200)])), other_done.set()),
                     daemon=True).start()
    events, stream = [], gen.stream([request("short", [7, 8], 4)])
    for event in stream:
        events.append(event)
        if isinstance(event, SampleFinished):  # its RequestFinished and the stream's end are still to come
            slow.set()
            assert in_slow_step.wait(5)
            started = time.monotonic()
    ended_after = time.monotonic() - started
    try:
        assert isinstance(events[-1], RequestFinished) and events[-1].result.samples[0].num_tokens == 4
        assert ended_after < SLOW_STEP_S / 2, f"the stream waited {ended_after:.2f} s for the step in progress"
        slow.clear()
        assert other_done.wait(30)
        deadline = time.monotonic() + 10  # the driver's next turn forgets the ended request and frees its slot
        while gen.engine.cache.free_slots < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gen.engine.cache.free_slots == 4 and "short" not in gen._requests
    finally:
        gen.close()


def test_a_request_id_is_free_again_as_soon_as_its_stream_ended(model):
    gen = M1Generator(model, max_slots=4, max_len=256, freeze_gc=False)
    gen.run_in_background()
    try:
        for _ in range(3):  # the same id back to back: a submission forgets what ended streams left behind
            [result] = gen.generate([request("same", [3, 4], 2)])
            assert result.samples[0].num_tokens == 2
            stream = gen.stream([request("same", [3, 4], 2)])
            assert isinstance(list(stream)[-1], RequestFinished)
    finally:
        gen.close()
