"""M1Generator under failures: a step that fails some requests fails only those, with a clear error, and the
background driver goes on; a failure of the engine itself ends every request, says so, and stops serving."""

import threading

import pytest

from m1reason.errors import M1Error
from m1reason.generator.m1 import M1Generator
from m1reason.types import GenerationRequest, RequestFinished, SamplingParams, TokensAppended
from tests.conftest import flat_tiny_model


@pytest.fixture(scope="module")
def model():
    return flat_tiny_model(64)


@pytest.fixture
def gen(model):
    gen = M1Generator(model, max_slots=8, max_len=256, freeze_gc=False)
    gen.run_in_background()
    yield gen
    gen.close()


def request(rid, prompt, n=1, tokens=8):
    return GenerationRequest(prompt_token_ids=prompt, request_id=rid,
                             sampling=SamplingParams(n=n, temperature=0, max_new_tokens=tokens, ignore_eos=True))


def in_thread(gen, req, started: threading.Event | None = None):
    """Stream ``req`` in a thread; the returned dict gets "result" or "error" when it ends."""
    outcome = {}

    def run():
        try:
            for event in gen.stream([req]):
                if isinstance(event, TokensAppended) and started is not None:
                    started.set()
                if isinstance(event, RequestFinished):
                    outcome["result"] = event.result
        except Exception as err:  # noqa: BLE001 - the test looks at it
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def test_a_request_a_step_fails_gets_a_clear_error_and_the_others_go_on(gen, model, monkeypatch):
    decoding = threading.Event()
    good = in_thread(gen, request("good", [10, 11, 12], n=2, tokens=60), decoding)
    assert decoding.wait(10)  # already decoding: it does not share the bad prompt's prefill call
    real = model.prefill

    def prefill(ids, *args, **kwargs):  # fails for the one prompt holding token 63
        if (ids == 63).any():
            raise RuntimeError("injected")
        return real(ids, *args, **kwargs)

    monkeypatch.setattr(model, "prefill", prefill)
    bad = in_thread(gen, request("bad", [63, 62], n=3))
    for outcome in (bad, good):
        outcome["thread"].join(20)
    assert isinstance(bad["error"], M1Error)
    assert str(bad["error"]) == ("request bad: an engine step failed while running it (RuntimeError: injected); "
                                 "the engine goes on serving other requests")
    assert [s.num_tokens for s in good["result"].samples] == [60, 60]
    later = in_thread(gen, request("later", [20, 21]))
    later["thread"].join(20)
    assert later["result"].samples[0].num_tokens == 8
    assert gen.failure is None and gen.failed_requests == 1 and gen._driver.is_alive()
    gen.close()  # a stream that ends during a step leaves its slots to the driver's next turn; close takes it
    assert gen.occupancy() == 0 and gen.engine.cache.free_slots == 8


def test_an_engine_failure_ends_every_request_and_stops_serving(gen, monkeypatch):
    decoding = threading.Event()
    running = [in_thread(gen, request(f"r{i}", [5 + i, 6], n=2, tokens=200), decoding) for i in range(3)]
    assert decoding.wait(10)
    driver = gen._driver

    def broken(out):
        raise AssertionError("scheduler bookkeeping broke")

    monkeypatch.setattr(gen.engine, "_expire_deadlines", broken)
    for outcome in running:
        outcome["thread"].join(10)
        assert "stopped serving" in str(outcome.get("error")) and "AssertionError" in str(outcome["error"])
    driver.join(5)
    assert not driver.is_alive()
    assert gen.failure == "AssertionError: scheduler bookkeeping broke"
    with pytest.raises(M1Error, match="the engine failed .* and stopped serving"):
        gen.generate([request("new", [1, 2])])
    assert gen.run_in_background() is False


def test_the_samples_of_a_failed_request_refuse_appends_and_forks_by_name(model):
    gen = M1Generator(model, max_slots=8, max_len=256, freeze_gc=False)
    stream = gen.stream([request("f", [5, 6], tokens=20)])
    next(e for e in stream if isinstance(e, TokensAppended))
    with gen.exclusive():
        gen._fail_request("f", "injected")  # as a step that fails this request's work does
        for act in (lambda: gen.append("f/0", [7]), lambda: gen.fork("f/0")):
            with pytest.raises(ValueError, match=r"'f/0' belongs to a failed request \(injected\)"):
                act()
    with pytest.raises(M1Error, match="request f: injected"):
        list(stream)
    assert gen.engine.cache.free_slots == 8
