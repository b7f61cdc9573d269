"""FakeGenerator: scripted completions that honour the Generator protocol's rules, in an order the script sets."""

import pytest

from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.types import GenerationRequest, SamplingParams


def request(request_id="r", n=1, deadline=None, **sampling):
    return GenerationRequest(prompt="what is 2+2?", request_id=request_id, deadline=deadline,
                             sampling=SamplingParams(n=n, **sampling))


def texts(result):
    return [(s.text, s.finish_reason) for s in result.samples]


def streamed_text(events, sample_id):
    return "".join(e.text_delta for e in events if e.kind == "tokens" and e.sample_id == sample_id)


def test_n_samples_ids_and_request_order():
    fake = FakeGenerator(lambda req, i: f"{req.request_id}:{i}")
    results = fake.generate([request("b", n=3), request("a", n=1)])
    assert [r.request_id for r in results] == ["b", "a"]
    assert [s.sample_id for s in results[0].samples] == ["b/0", "b/1", "b/2"]
    assert texts(results[0]) == [("b:0", "stop"), ("b:1", "stop"), ("b:2", "stop")]
    assert results[0].samples[1].token_ids == [ord(c) for c in "b:1"]
    assert results[0].prompt_tokens == len("what is 2+2?")
    assert results[1].reproducibility["generator"] == "FakeGenerator"


def test_script_sets_finishing_order_and_requests_interleave():
    steps = {("a", 0): 5, ("a", 1): 2, ("b", 0): 3}
    fake = FakeGenerator(lambda req, i: FakeCompletion(f"{req.request_id}{i}xy", steps=steps[req.request_id, i]))
    events = list(fake.stream([request("a", n=2), request("b")]))
    ends = [(e.kind, e.sample_id if e.kind == "sample" else e.request_id) for e in events if e.kind != "tokens"]
    assert ends == [("sample", "a/1"), ("sample", "b/0"), ("request", "b"), ("sample", "a/0"), ("request", "a")]
    first_tokens = [e.sample_id for e in events if e.kind == "tokens"][:3]
    assert first_tokens == ["a/0", "a/1", "b/0"]  # one step advances every live sample
    assert streamed_text(events, "a/0") == "a0xy"
    last = {e.sample_id: i for i, e in enumerate(events) if e.kind == "tokens"}
    finished = {e.sample_id: i for i, e in enumerate(events) if e.kind == "sample"}
    assert all(last[s] < finished[s] for s in finished)


def test_stop_string_cuts_text_and_is_never_streamed():
    fake = FakeGenerator(lambda req, i: "x = 4</answer> and more", tokens_per_step=3)
    events = list(fake.stream([request(stop=("</answer>", "zzz"))]))
    sample = events[-1].result.samples[0]
    assert (sample.text, sample.finish_reason) == ("x = 4", "stop")
    assert sample.token_ids == [ord(c) for c in "x = 4</answer>"]
    assert streamed_text(events, "r/0") == "x = 4"
    assert all("<" not in e.text_delta for e in events if e.kind == "tokens")


def test_held_back_stop_prefix_is_released_when_no_stop_follows():
    result = FakeGenerator(lambda req, i: "a </b").generate([request(stop=("</think>",))])[0]
    assert texts(result) == [("a </b", "stop")]


def test_max_new_tokens_cuts_with_length():
    fake = FakeGenerator(lambda req, i: "abcdef" if i == 0 else FakeCompletion("ab", finish_reason="length"))
    assert texts(fake.generate([request(n=2, max_new_tokens=3)])[0]) == [("abc", "length"), ("ab", "length")]


def test_deadline_keeps_partial_text_on_the_simulated_clock():
    fake = FakeGenerator(lambda req, i: "abcdefgh" if i == 0 else "ab", step_s=1.0)
    result = fake.generate([request(n=2, deadline=2.5)])[0]
    assert texts(result) == [("abc", "deadline"), ("ab", "stop")]  # steps start at 0, 1, 2; the 4th at 3 > 2.5


def test_cancel_sample_and_request_mid_stream():
    fake = FakeGenerator(lambda req, i: "abcdefgh")
    stream = fake.stream([request("a", n=2), request("b", n=2)])
    events = []
    for event in stream:
        events.append(event)
        if len(events) == 4:  # every sample has its first token
            assert fake.cancel("a/1") and fake.cancel("b")
            assert not fake.cancel("a/1") and not fake.cancel("nope")
    results = {e.request_id: e.result for e in events if e.kind == "request"}
    assert texts(results["a"]) == [("abcdefgh", "stop"), ("a", "cancelled")]
    assert texts(results["b"]) == [("a", "cancelled"), ("a", "cancelled")]
    cancelled_at = next(i for i, e in enumerate(events) if e.kind == "sample" and e.sample_id == "a/1")
    assert not [e for e in events[cancelled_at:] if e.kind == "tokens" and e.sample_id != "a/0"]


def test_request_finishes_after_its_cancelled_sample_is_reported():
    fake = FakeGenerator(lambda req, i: "abcdef" if i == 2 else "ab")
    events = []
    for event in fake.stream([request(n=3)]):
        events.append((event.kind, getattr(event, "sample_id", None)))
        if events[-1] == ("sample", "r/1"):
            fake.cancel("r/2")
    assert events[-5:] == [("sample", "r/0"), ("tokens", "r/1"), ("sample", "r/1"), ("sample", "r/2"),
                           ("request", None)]


def test_append_after_finish_continues_budget_forcing_style():
    script = FakeCompletion("think.", after_append=lambda text: f" more ({len(text)})")
    fake = FakeGenerator(lambda req, i: script)
    events, forced = [], 0
    for event in fake.stream([request()]):
        events.append(event)
        if event.kind == "sample" and forced < 2:
            forced += 1
            fake.append(event.sample_id, " Wait")
    finished = [e.sample.text for e in events if e.kind == "sample"]
    assert finished == ["think.", "think. Wait more (11)", "think. Wait more (11) Wait more (26)"]
    assert [e.kind for e in events].count("request") == 1 and events[-1].kind == "request"
    assert streamed_text(events, "r/0") == finished[-1]
    assert events[-1].result.samples[0].token_ids == [ord(c) for c in finished[-1]]


def test_append_to_live_sample_replaces_the_rest_and_freed_samples_refuse():
    fake = FakeGenerator(lambda req, i: FakeCompletion("aaaaaaaa", after_append=" 4"))
    stream = fake.stream([request(stop=("</think>",))])
    next(stream), next(stream)
    fake.append("r/0", [ord(c) for c in "!</think>"])
    events = list(stream)
    assert events[-1].result.samples[0].text == "aa!</think> 4"  # forced stops do not end the sample
    with pytest.raises(KeyError, match="its stream has ended"):
        fake.append("r/0", "more")


def test_finished_samples_take_appends_until_the_stream_ends_but_forks_only_at_once():
    fake = FakeGenerator(lambda req, i: FakeCompletion("a" if req.request_id == "r" and i == 0 else "abc",
                                                       after_append="!"))
    stream = fake.stream([request(n=2), request("other", n=1)])
    events = [next(stream) for _ in range(4)]  # step 1: tokens r/0, finished r/0, tokens r/1, tokens other/0
    assert [e.kind for e in events] == ["tokens", "sample", "tokens", "tokens"]
    fake.fork("r/0")  # it still holds its state in the step it finished
    events.append(next(stream))  # step 2 has begun
    with pytest.raises(ValueError, match="holds no state to fork"):
        fake.fork("r/0")
    fake.append("r/1", "?")
    for event in stream:
        events.append(event)
        if event.kind == "request" and event.request_id == "r" and event.result.samples[0].text == "a":
            fake.append("r/0", " late", sampling=SamplingParams(max_new_tokens=4))  # revives a delivered request
    finished = [texts(e.result) for e in events if e.kind == "request" and e.request_id == "r"]
    assert finished == [[("a", "stop"), ("ab?!", "stop"), ("a", "stop")],
                        [("a late", "length"), ("ab?!", "stop"), ("a", "stop")]]


def test_fork_continues_parent_script_and_joins_its_request():
    fake = FakeGenerator(lambda req, i: FakeCompletion("abcdef", after_append="!"))
    stream = fake.stream([request()])
    next(stream), next(stream)  # "a", "b"
    child, probe = fake.fork("r/0", 2)
    fake.append(probe, " answer:")
    events = list(stream)
    samples = {s.sample_id: s for s in events[-1].result.samples}
    assert list(samples) == ["r/0", child, probe]
    assert samples["r/0"].text == samples[child].text == "abcdef"
    assert samples[probe].text == "ab answer:!"
    assert streamed_text(events, child) == "cdef"
    short = FakeGenerator(lambda req, i: "abcdef")
    stream = short.stream([request()])
    next(stream)
    (kid,) = short.fork("r/0", sampling=SamplingParams(max_new_tokens=3))
    assert texts(list(stream)[-1].result)[1] == ("abc", "length")


def test_capabilities_are_declared_and_enforced():
    fake = FakeGenerator(lambda req, i: "x", capabilities={"stream", "cancel"})
    with pytest.raises(NotImplementedError, match="'fork'"):
        fake.fork("r/0")
    with pytest.raises(NotImplementedError, match="'append'"):
        fake.append("r/0", "x")
    assert fake.capabilities == frozenset({"stream", "cancel"})
    with pytest.raises(ValueError, match="unknown capabilities"):
        FakeGenerator(lambda req, i: "x", capabilities={"teleport"})
    no_stream = FakeGenerator(lambda req, i: "x", capabilities=set())
    with pytest.raises(NotImplementedError, match="'stream'"):
        no_stream.stream([request()])
    assert texts(no_stream.generate([request()])[0]) == [("x", "stop")]


def test_logprobs_and_confidence_only_when_asked_and_declared():
    script = FakeCompletion("ab", confidence=-0.5, logprob=-0.25)
    sample = FakeGenerator(lambda req, i: script).generate([request(logprobs=True, confidence=True)])[0].samples[0]
    assert sample.logprobs == [-0.25, -0.25] and sample.confidence.mean == -0.5
    plain = FakeGenerator(lambda req, i: script, capabilities={"stream"})
    sample = plain.generate([request(logprobs=True, confidence=True)])[0].samples[0]
    assert sample.logprobs is None and sample.confidence is None


def test_invalid_use_is_reported():
    fake = FakeGenerator(lambda req, i: 42)
    with pytest.raises(TypeError, match="str or FakeCompletion, not int"):
        fake.generate([request()])
    with pytest.raises(ValueError, match="unique"):
        FakeGenerator(lambda req, i: "x").generate([request("a"), request("a")])
    with pytest.raises(ValueError, match="steps must be >= 1"):
        FakeCompletion("x", steps=0)
    with pytest.raises(KeyError, match="no live sample 'r/0'"):
        FakeGenerator(lambda req, i: "x").append("r/0", "y")
    fake = FakeGenerator(lambda req, i: "abc")
    stream = fake.stream([request()])
    next(stream)
    fake.cancel("r")
    with pytest.raises(ValueError, match="was cancelled"):
        fake.append("r/0", "more")
    fake = FakeGenerator(lambda req, i: "abc")
    stream = fake.stream([request()])
    next(stream)
    with pytest.raises(ValueError, match="nothing to append"):
        fake.append("r/0", [])


def test_throughput_model_is_synthetic_and_counts_live_samples():
    fake = FakeGenerator(lambda req, i: "abcdef", step_s=0.5)
    model = fake.throughput_model()
    assert model.decode_step_s(8, 1000) == pytest.approx(0.5)
    stream = fake.stream([request(n=3)])
    next(stream)
    assert model.occupancy() == 3
    list(stream)
    assert model.occupancy() == 0


def test_reproducibility_records_the_fake_and_seed():
    result = FakeGenerator(lambda req, i: "x").generate([request(seed=7)])[0]
    assert result.reproducibility["handler"].endswith("<lambda>")
    assert result.reproducibility["seed"] == 7 and result.reproducibility["sampling"]["seed"] == 7


def test_real_time_deadline_uses_the_wall_clock():
    sample = FakeGenerator(lambda req, i: "a" * 100, step_s=0.01, real_time=True).generate(
        [request(deadline=0.035)])[0].samples[0]
    assert sample.finish_reason == "deadline" and 1 <= sample.num_tokens <= 4
