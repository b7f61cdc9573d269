"""M1Generator with several decode steps per engine step: the same samples, text and stream as one at a time, even
when a stop string ends a sample in the middle of the steps."""

import pytest

from m1reason.generator.m1 import M1Generator
from m1reason.types import RequestFinished, SampleFinished, SamplingParams, TokensAppended
from tests.conftest import flat_tiny_model
from tests.generator.test_m1 import SEEDED, ByteTokenizer, request


@pytest.fixture(scope="module")
def model():
    """test_m1's model: a flat next-token distribution, so seeded sampling really varies."""
    return flat_tiny_model(256)


def comparable(sample):
    """A sample without its timings (which differ from run to run)."""
    return sample.model_dump(exclude={"timings"})


def assert_same_sample(got: dict, expected: dict) -> None:
    """Same tokens, text and finish reason; log-probabilities and confidence equal to rounding (a sample's state
    recomputed from its tokens, after an append, rounds a little differently from one built token by token)."""
    floats = ("logprobs", "confidence")
    assert {k: v for k, v in got.items() if k not in floats} == {k: v for k, v in expected.items() if k not in floats}
    assert got["logprobs"] == pytest.approx(expected["logprobs"], abs=1e-5)
    if expected["confidence"] is None:
        assert got["confidence"] is None
    else:
        assert got["confidence"] == pytest.approx(expected["confidence"], abs=1e-5)


@pytest.fixture(params=[False, True], ids=["serial", "overlapped"])
def overlap(request):
    """Whether the generators under test launch each group of decode steps before reading the last one back."""
    return request.param


def generators(model, *decode_steps, overlap=False):
    """One generator per decode_steps; the first, the reference, reads every group back before the next."""
    return [M1Generator(model, ByteTokenizer(), max_slots=8, max_len=128, decode_steps=k, overlap=overlap and i > 0)
            for i, k in enumerate(decode_steps)]


def spy_take_back(gen):
    taken = []
    real = gen.engine.take_back
    gen.engine.take_back = lambda seq, n: (taken.append(n), real(seq, n))[1]
    return taken


def test_stop_strings_inside_the_steps_cut_the_sample_where_one_step_at_a_time_does(model, overlap):
    one, four = generators(model, 1, 4, overlap=overlap)
    free = one.generate([request([40, 41, 42], "free", max_new_tokens=24, **SEEDED)])[0].samples[0]
    # stop strings of one and two characters (= tokens) ending at each position not at the end of a 4-token step
    # (the first token comes from the prefill, then steps of 4: tokens 1-4, 5-8, ...)
    stops = [free.text[at - width + 1:at + 1] for at in range(2, 20) if at % 4 != 0 for width in (1, 2)]
    stops = [s for s in dict.fromkeys(stops) if free.text.find(s) >= 1]
    taken = spy_take_back(four)
    params = dict(max_new_tokens=24, logprobs=True, confidence=True, **SEEDED)
    for i, stop in enumerate(stops):
        [expected] = one.generate([request([40, 41, 42], f"cut{i}", stop=(stop,), **params)])
        [got] = four.generate([request([40, 41, 42], f"cut{i}", stop=(stop,), **params)])
        cut = expected.samples[0]
        assert (cut.finish_reason, cut.text) == ("stop", free.text[:free.text.find(stop)])
        assert [comparable(s) for s in got.samples] == [comparable(s) for s in expected.samples], stop
    assert any(n > 0 for n in taken), "some stop string should have ended a sample before the end of its steps"


def test_streams_show_the_same_text_and_tokens_and_nothing_past_a_stop_string(model, overlap):
    one, four = generators(model, 1, 4, overlap=overlap)
    free = one.generate([request([40, 41, 42], "free", max_new_tokens=16, **SEEDED)])[0].samples[0]
    stop = free.text[5:7]  # ends at token 6: inside the second 4-token step
    streamed = []
    for gen in (one, four):
        text, tokens, finished = "", [], []
        for event in gen.stream([request([40, 41, 42], "s", n=2, max_new_tokens=16, stop=(stop,), **SEEDED)]):
            if isinstance(event, TokensAppended):
                text += event.text_delta
                tokens += [(event.sample_id, t) for t in event.token_ids]
            if isinstance(event, SampleFinished):
                finished.append(comparable(event.sample))
        per_sample = {sid: [t for s, t in tokens if s == sid] for sid in ("s/0", "s/1")}
        streamed.append((per_sample, sorted(finished, key=lambda s: s["sample_id"])))
        assert [s["token_ids"] for s in streamed[-1][1]] == list(per_sample.values())
    assert streamed[0] == streamed[1]
    assert streamed[1][1][0]["finish_reason"] == "stop"


def test_a_mixed_batch_with_budget_forcing_gives_the_same_samples(model, overlap):
    """Stop tokens, EOS, lengths, logprobs and confidence, n > 1, and an append to each sample as it ends."""
    results = []
    for gen in generators(model, 1, 4, 7, overlap=overlap):
        requests = [request([1, 2, 3], "stops", n=3, max_new_tokens=30, temperature=1.0, seed=5, ignore_eos=False,
                            stop_token_ids=(7, 23, 41), logprobs=True, confidence=True),
                    request([9, 8], "short", n=2, max_new_tokens=9, temperature=0.8, seed=6),
                    request([5, 5, 5, 5], "text", max_new_tokens=20, temperature=1.0, seed=7, stop=("ab", "x"))]
        forced, finals = set(), {}
        for event in gen.stream(requests):
            if isinstance(event, SampleFinished) and event.sample_id not in forced and event.sample_id != "text/0":
                forced.add(event.sample_id)
                gen.append(event.sample_id, [87, 97], sampling=SamplingParams(
                    temperature=1.0, seed=5, max_new_tokens=event.sample.num_tokens + 6, logprobs=True,
                    confidence=True))
            if isinstance(event, RequestFinished):
                finals[event.request_id] = [comparable(s) for s in event.result.samples]
        results.append(finals)
    for other in results[1:]:
        assert other.keys() == results[0].keys()
        for request_id, samples in other.items():
            for got, expected in zip(samples, results[0][request_id], strict=True):
                assert_same_sample(got, expected)
    assert {s["finish_reason"] for r in results[0].values() for s in r} >= {"length"}


@pytest.mark.parametrize("decode_steps", [1, 4])
def test_decode_steps_reaches_the_engine(model, decode_steps):
    gen, = generators(model, decode_steps)
    assert gen.engine.decode_steps == decode_steps


def test_a_sample_gets_one_event_per_step_however_many_tokens_it_got(model):
    """Posting an event per token made the generator's bookkeeping grow with decode_steps; one per sample per step
    carries the same tokens."""
    one, four = generators(model, 1, 4)
    events = {}
    for name, gen in (("one", one), ("four", four)):
        appended = [e for e in gen.stream([request([40, 41, 42], name, max_new_tokens=12, ignore_eos=True,
                                                   **SEEDED)]) if isinstance(e, TokensAppended)]
        events[name] = [list(e.token_ids) for e in appended]
    assert all(len(ids) == 1 for ids in events["one"]) and len(events["one"]) == 12
    assert [t for ids in events["four"] for t in ids] == [t for ids in events["one"] for t in ids]
    assert len(events["four"]) < 6 and max(map(len, events["four"])) == 4
