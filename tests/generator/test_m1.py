"""M1Generator end to end on a tiny model: what a strategy or a server relies on, checked against the model."""

import threading
import time

import pytest
import torch
from pydantic import ValidationError

from m1reason.errors import CapacityError
from m1reason.generator import m1 as m1_module
from m1reason.generator.m1 import M1Generator
from m1reason.types import GenerationRequest, RequestFinished, SampleFinished, SamplingParams, TokensAppended
from tests.conftest import flat_tiny_model


class ByteTokenizer:
    """Token i is character i (Latin-1, vocab 256): one token, one character, so tests can aim stop strings."""

    bos_token, bos_token_id, eos_token_id = None, None, 2

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": list(text.encode("latin-1"))}

    def decode(self, ids, skip_special_tokens=False):
        return bytes(ids).decode("latin-1")


@pytest.fixture(scope="module")
def model():
    return flat_tiny_model(256)


@pytest.fixture
def gen(model):
    return M1Generator(model, ByteTokenizer(), max_slots=8, max_len=128)


SEEDED = {"temperature": 1.0, "seed": 3}


def request(ids, rid, **params):
    defaults = {"temperature": 0, "max_new_tokens": 8, "ignore_eos": True}
    return GenerationRequest(prompt_token_ids=ids, request_id=rid, sampling=SamplingParams(**{**defaults, **params}))


def argmax_loop(model, prompt, steps):
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(steps):
            ids.append(int(model(torch.tensor([ids]))[0, -1].argmax()))
    return ids[len(prompt):]


def test_greedy_tokens_equal_an_argmax_loop_over_the_full_forward(gen, model):
    [result] = gen.generate([request([72, 105, 33], "g", max_new_tokens=10)])
    assert result.samples[0].token_ids == argmax_loop(model, [72, 105, 33], 10)
    assert result.samples[0].text == ByteTokenizer().decode(result.samples[0].token_ids, True)


def test_seeded_samples_do_not_depend_on_the_rest_of_the_batch(model):
    alone = M1Generator(model, max_slots=8, max_len=128).generate(
        [request([5, 6, 7], "a", temperature=1.0, seed=11, n=3)])[0]
    crowd = M1Generator(model, max_slots=8, max_len=128).generate(
        [request([9] * 20, "x", temperature=1.0, seed=3, n=2), request([5, 6, 7], "a", temperature=1.0, seed=11, n=3),
         request([1, 2], "y", temperature=0.5, seed=4)])[1]
    assert [s.token_ids for s in alone.samples] == [s.token_ids for s in crowd.samples]
    assert len({tuple(s.token_ids) for s in alone.samples}) == 3  # three different streams of one seed


def test_stop_string_spanning_tokens_cuts_text_and_stops(gen):
    free = gen.generate([request([40, 41, 42], "free", max_new_tokens=12, **SEEDED)])[0].samples[0]
    at = next(i for i in range(1, 10) if free.text.find(free.text[i:i + 2]) == i)
    stop = free.text[at:at + 2]  # two characters = two tokens
    [result] = gen.generate([request([40, 41, 42], "cut", max_new_tokens=12, stop=(stop,), **SEEDED)])
    sample = result.samples[0]
    assert (sample.finish_reason, sample.text) == ("stop", free.text[:at])
    assert sample.token_ids == free.token_ids[:at + 2]


def test_streamed_text_never_shows_a_stop_string(gen):
    free = gen.generate([request([40, 41, 42], "free", max_new_tokens=12, **SEEDED)])[0].samples[0]
    stop = free.text[6:9]
    deltas = [e.text_delta for e in gen.stream([request([40, 41, 42], "s", max_new_tokens=12, stop=(stop,), **SEEDED)])
              if isinstance(e, TokensAppended)]
    assert "".join(deltas) == free.text[:free.text.find(stop)]


def test_stop_token_ends_with_stop_and_keeps_the_token(gen, model):
    expected = argmax_loop(model, [10, 11], 6)
    [result] = gen.generate([request([10, 11], "t", max_new_tokens=20, stop_token_ids=(expected[3],))])
    sample = result.samples[0]
    assert sample.finish_reason == "stop"
    assert sample.token_ids == expected[:expected.index(expected[3]) + 1]


def test_deadline_ends_samples_within_a_step_keeping_partial_text(model):
    gen = M1Generator(model, max_slots=4, max_len=100_000, kv_tokens=8192)
    started = time.monotonic()
    [result] = gen.generate([GenerationRequest(prompt_token_ids=[3, 4], deadline=0.3, request_id="d",
                                               sampling=SamplingParams(n=2, max_new_tokens=100_000, ignore_eos=True))])
    elapsed = time.monotonic() - started
    assert {s.finish_reason for s in result.samples} == {"deadline"}
    assert all(s.num_tokens > 0 for s in result.samples)
    assert 0.3 <= elapsed < 2.0


def test_cancel_one_sample_mid_batch_frees_its_slot_and_spares_the_rest(gen):
    free_slots = gen.engine.cache.free_slots
    finished = {}
    for event in gen.stream([request([1, 2, 3], "c", n=3, max_new_tokens=30, temperature=1.0, seed=1)]):
        if event.kind == "tokens" and event.sample_id == "c/1" and len(gen._samples["c/1"].seq.generated) == 3:
            assert gen.cancel("c/1")
            assert not gen.cancel("c/1")  # nothing live any more
        if isinstance(event, SampleFinished):
            finished[event.sample_id] = event.sample
    assert finished["c/1"].finish_reason == "cancelled" and finished["c/1"].num_tokens == 3
    assert finished["c/0"].num_tokens == finished["c/2"].num_tokens == 30
    assert gen.engine.cache.free_slots == free_slots


@pytest.mark.parametrize("feed_appends", [0, 8])  # appended tokens prefilled, or fed through decode steps
def test_append_continues_like_generating_the_concatenated_prompt(model, feed_appends):
    gen = M1Generator(model, ByteTokenizer(), max_slots=8, max_len=128, feed_appends=feed_appends)
    forced = [87, 97, 105, 116]  # "Wait"
    tokens = []
    for event in gen.stream([request([20, 21, 22], "a", max_new_tokens=4)]):
        if isinstance(event, SampleFinished) and not tokens:
            tokens = event.sample.token_ids
            gen.append("a/0", forced, sampling=SamplingParams(temperature=0, max_new_tokens=12, ignore_eos=True))
        if isinstance(event, RequestFinished):
            final = event.result.samples[0]
    assert final.token_ids[:8] == tokens + forced
    assert final.token_ids[8:] == argmax_loop(model, [20, 21, 22] + tokens + forced, 4)
    assert final.text.startswith(ByteTokenizer().decode(tokens) + "Wait")


def test_forked_probe_leaves_the_parent_unchanged(gen):
    params = {"temperature": 1.0, "seed": 9, "max_new_tokens": 16}
    plain = gen.generate([request([30, 31], "p", **params)])[0].samples[0].token_ids
    probe_ids = []
    for event in gen.stream([request([30, 31], "p", **params)]):
        if event.kind == "tokens" and event.sample_id == "p/0" and len(gen._samples["p/0"].seq.generated) == 5:
            probe_ids = gen.fork("p/0", 2, SamplingParams(temperature=1.0, max_new_tokens=8, ignore_eos=True))
        if isinstance(event, RequestFinished):
            result = event.result
    by_id = {s.sample_id: s for s in result.samples}
    assert by_id["p/0"].token_ids == plain
    assert len(probe_ids) == 2 and all(by_id[i].token_ids[:5] == plain[:5] for i in probe_ids)
    assert all(by_id[i].num_tokens == 8 for i in probe_ids)


def test_a_fork_of_a_sample_in_a_group_on_the_device_shares_its_state_instead_of_recomputing_it(model):
    """With decode groups overlapped, the parent's group in flight is read back first (its tokens delivered): the
    fork costs no prefill, the copy continues from exactly the parent's tokens at that point, and the parent's
    own tokens are those of a run without the fork."""
    overlapped = M1Generator(model, ByteTokenizer(), max_slots=8, max_len=128, decode_steps=4, overlap=True)
    params = {"temperature": 1.0, "seed": 9, "max_new_tokens": 24}
    plain = overlapped.generate([request([30, 31], "p", **params)])[0].samples[0].token_ids
    prefills = overlapped.engine.timings.prefill.mark()
    forked_at, copy = None, None
    for event in overlapped.stream([request([30, 31], "p", **params)]):
        if copy is None and event.kind == "tokens":
            with overlapped.exclusive():  # no step between the look and the fork
                if overlapped.engine.in_flight(overlapped._samples["p/0"].seq):
                    [copy] = overlapped.fork("p/0", 1, SamplingParams(temperature=0, max_new_tokens=16,
                                                                      ignore_eos=True))
                    forked_at = list(overlapped._samples["p/0"].seq.generated)
        if isinstance(event, RequestFinished):
            result = event.result
    assert copy is not None, "the sample never had a group on the device"
    by_id = {s.sample_id: s for s in result.samples}
    assert by_id["p/0"].token_ids == plain
    assert len(forked_at) > 4  # the first group's tokens and the one read back for the fork
    assert by_id[copy].token_ids[:len(forked_at)] == forked_at
    continued = by_id[copy].token_ids[len(forked_at):]  # max_new_tokens counts the inherited ones
    assert len(continued) == 16 - len(forked_at)
    assert continued == argmax_loop(model, [30, 31] + forked_at, len(continued))
    assert len(overlapped.engine.timings.prefill.since(prefills)) == 1  # the prompt's; none for the copy


def test_an_append_to_a_sample_in_a_group_on_the_device_continues_from_its_state_instead_of_recomputing_it(model):
    """With decode groups overlapped, an append (budget forcing's deadline text) to a sample whose group is on the
    device reads the group back first: its tokens are delivered, the forced tokens go after them, and the sample
    goes on from its state, with no prefill of its whole chain."""
    overlapped = M1Generator(model, ByteTokenizer(), max_slots=8, max_len=128, decode_steps=4, overlap=True)
    forced = [87, 97, 105, 116]  # "Wait"
    prefills = overlapped.engine.timings.prefill.mark()
    before = None
    for event in overlapped.stream([request([30, 31], "p", temperature=0, max_new_tokens=24, ignore_eos=True)]):
        if before is None and event.kind == "tokens":
            with overlapped.exclusive():  # no step between the look and the append
                seq = overlapped._samples["p/0"].seq
                if overlapped.engine.in_flight(seq):
                    overlapped.append("p/0", forced)
                    before = list(seq.generated)[:-len(forced)]
        if isinstance(event, RequestFinished):
            final = event.result.samples[0]
    assert before is not None, "the sample never had a group on the device"
    assert len(before) > 4  # the first group's tokens and the one read back for the append
    cut = len(before) + len(forced)
    assert final.token_ids[:cut] == before + forced
    assert final.token_ids[cut:] == argmax_loop(model, [30, 31] + before + forced, 24 - cut)
    # the prompt, then the forced tokens after the last one sampled: not the whole chain again
    assert [tokens for tokens, _ in overlapped.engine.timings.prefill.since(prefills)] == [2, 1 + len(forced)]


def test_events_come_in_the_order_samples_finish(gen):
    events = list(gen.stream([request([1, 2], "long", max_new_tokens=9), request([3, 4], "short", max_new_tokens=3)]))
    ends = [(e.kind, getattr(e, "sample_id", None) or e.request_id) for e in events if e.kind != "tokens"]
    assert ends == [("sample", "short/0"), ("request", "short"), ("sample", "long/0"), ("request", "long")]


def test_closing_a_stream_early_cancels_its_requests(gen):
    stream = gen.stream([request([1, 2], "e", n=2, max_new_tokens=50)])
    next(stream)
    stream.close()
    assert gen.engine.cache.free_slots == 8 and not gen._requests and not gen.engine.has_work()


def test_many_short_requests_leave_no_state_behind(gen):
    start = (gen.engine.cache.free_slots, gen.engine.cache.free_blocks)
    requests = [request([1 + i % 50, 2, 3][: 1 + i % 3], f"m{i}", max_new_tokens=1 + i % 4, n=1 + i % 2)
                for i in range(300)]
    results = gen.generate(requests)
    assert [r.request_id for r in results] == [r.request_id for r in requests]
    assert (gen.engine.cache.free_slots, gen.engine.cache.free_blocks) == start
    assert not gen._requests and not gen._samples and not len(gen._mailboxes)


def test_a_delivered_requests_samples_give_their_slots_back_together(gen, monkeypatch):
    """One block-table write and one length write for all of a request's samples (a kernel launch each on a
    GPU), not two per sample."""
    calls = []
    free_many = gen.engine.cache.free_many
    monkeypatch.setattr(gen.engine.cache, "free_many", lambda slots: calls.append(list(slots)) or free_many(slots))
    list(gen.stream([request([5, 6], "g", n=6, max_new_tokens=3)]))
    assert [len(slots) for slots in calls if slots] == [6]
    assert gen.engine.cache.free_slots == 8


def test_bad_requests_are_rejected_clearly_and_disturb_nothing(model):
    gen = M1Generator(model, max_slots=4, max_len=32)
    with pytest.raises(ValidationError, match="temperature"):
        SamplingParams(temperature=-1)
    with pytest.raises(ValidationError, match="min_new_tokens"):
        SamplingParams(min_new_tokens=5, max_new_tokens=2)
    with pytest.raises(ValueError, match="need a tokenizer"):
        gen.submit([GenerationRequest(prompt="hello")])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        gen.submit([request([1, 999], "v")])
    with pytest.raises(CapacityError, match="n=5 samples exceed"):
        gen.submit([request([1, 2], "ok"), request([1, 2], "wide", n=5)])
    assert not gen._requests  # the good request of a rejected batch was not queued either
    gen.submit([request([1, 2], "dup")])
    with pytest.raises(ValueError, match="already in flight"):
        gen.submit([request([1, 2], "dup")])
    with pytest.raises(KeyError, match="no live sample"):
        gen.append("nope/0", [1])


def test_confidence_and_logprobs_are_reported(gen):
    [result] = gen.generate([request([1, 2], "c", temperature=1.0, seed=2, logprobs=True, confidence=True)])
    sample = result.samples[0]
    assert len(sample.logprobs) == sample.num_tokens and all(lp <= 0 for lp in sample.logprobs)
    assert sample.confidence is not None and sample.confidence.mean > 0
    assert result.reproducibility["seed"] == 2 and "torch" in result.reproducibility["versions"]


def test_cancel_from_another_thread(gen):
    stream = gen.stream([request([1, 2], "th", max_new_tokens=100_000)])
    next(stream)
    threading.Thread(target=gen.cancel, args=("th",)).start()
    finished = [e for e in stream if isinstance(e, SampleFinished)]
    assert finished[0].sample.finish_reason == "cancelled"


def test_throughput_model_is_measured_once_and_cached_on_disk(model, monkeypatch, tmp_path):
    monkeypatch.setenv("M1REASON_CACHE", str(tmp_path))
    calls = []
    real = m1_module.measure_served
    monkeypatch.setattr(m1_module, "measure_served", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = M1Generator(model, max_slots=4, max_len=64).throughput_model()
    second = M1Generator(model, max_slots=4, max_len=64).throughput_model()
    assert len(calls) == 1 and first.decode_coef == second.decode_coef
    assert first.decode_step_s(4, 32) >= first.decode_step_s(1, 32) > 0
    assert list(tmp_path.rglob("*.json"))


def test_idle_generator_calibrates_by_serving_and_a_busy_one_beside_its_work(model, monkeypatch, tmp_path):
    monkeypatch.setenv("M1REASON_CACHE", str(tmp_path))
    used = []
    served, scratch = m1_module.measure_served, m1_module.measure
    monkeypatch.setattr(m1_module, "measure_served", lambda *a, **k: used.append("served") or served(*a, **k))
    monkeypatch.setattr(m1_module, "measure", lambda *a, **k: used.append("scratch") or scratch(*a, **k, repeats=1))
    idle = M1Generator(model, max_slots=4, max_len=64)
    idle.throughput_model()
    assert used == ["served"] and idle.pace.count == 0  # scratch steps are not the generator's load
    assert not idle.engine.has_work()  # and the scratch requests left nothing behind
    busy = M1Generator(model, max_slots=4, max_len=64, block_size=8)  # another engine shape: another cache key
    stream = busy.stream([request([1, 2], "live", max_new_tokens=100_000)])
    next(stream)
    busy.throughput_model()
    assert used == ["served", "scratch"]
    busy.cancel("live")
    assert [e for e in stream if isinstance(e, SampleFinished)][0].sample.finish_reason == "cancelled"


def test_request_finished_comes_after_every_sample_that_ended_with_it(gen):
    events = list(gen.stream([request([1, 2], "same", n=3, max_new_tokens=4)]))
    kinds = [e.kind for e in events if e.kind != "tokens"]
    assert kinds == ["sample", "sample", "sample", "request"]


def test_background_driver_serves_many_streaming_threads_in_shared_steps(model):
    gen = M1Generator(model, max_slots=64, max_len=64)
    mark = gen.driver_turns.mark()
    began = time.perf_counter()
    gen.run_in_background()
    alone = M1Generator(model, max_slots=64, max_len=64)
    results, batches = {}, []

    def student(i):
        results[i] = gen.generate([request([1 + i, 2, 3], f"s{i}", temperature=1.0, seed=i, max_new_tokens=12)])[0]

    threads = [threading.Thread(target=student, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    gen.close()
    wall = time.perf_counter() - began
    batches = [b for b, _, _ in gen.engine.timings.decode.recent()]
    assert len(results) == 40 and max(batches) > 8  # the students' samples shared decode steps
    # the driver's turns: one per engine step (a step decodes, prefills or both), their shares within the wall time
    turns, timings = gen.driver_turns.totals_since(mark), gen.engine.timings
    assert len(timings.decode) <= turns["turns"] <= len(timings.decode) + len(timings.prefill)
    assert turns["engine_s"] > 0 and sum(v for k, v in turns.items() if k != "turns") <= wall
    for i in (0, 17, 39):
        solo = alone.generate([request([1 + i, 2, 3], f"s{i}", temperature=1.0, seed=i, max_new_tokens=12)])[0]
        assert results[i].samples[0].token_ids == solo.samples[0].token_ids
    assert gen.engine.cache.free_slots == 64 and not gen._requests


def test_generate_builds_no_token_events_and_stream_builds_each_once(gen, monkeypatch):
    built = []
    real_build = m1_module.PendingTokens.build_all
    monkeypatch.setattr(m1_module.PendingTokens, "build_all", staticmethod(lambda pending: built.extend(pending) or
                                                                     real_build(pending)))
    [result] = gen.generate([request([1, 2, 3], "g", n=2, **SEEDED)])
    assert built == []  # generate returns results only: the per-token events are never built
    events = list(gen.stream([request([1, 2, 3], "s", n=2, **SEEDED)]))
    tokens = [e for e in events if isinstance(e, TokensAppended)]
    assert len(built) == len(tokens) == 16
    streamed = {e.sample_id: [] for e in tokens}
    for e in tokens:
        streamed[e.sample_id] += e.token_ids
    assert list(streamed.values()) == [s.token_ids for s in result.samples]  # same seed, same samples



def test_served_steps_feed_the_throughput_model(model, tmp_path, monkeypatch):
    """The generator records each decode step as served (batch, context, seconds per token) and, once it has
    enough, the throughput model predicts from them: a generator slowed by 20 ms a step predicts slow steps."""
    monkeypatch.setenv("M1REASON_CACHE", str(tmp_path))
    gen = M1Generator(model, max_slots=8, max_len=96)
    calibrated = gen.throughput_model().decode_step_s(4, 40)
    engine_step = gen.engine.step
    monkeypatch.setattr(gen.engine, "step", lambda: (time.sleep(0.02), engine_step())[1])
    params = SamplingParams(n=4, temperature=1.0, seed=1, max_new_tokens=40, ignore_eos=True)
    gen.generate([GenerationRequest(prompt_token_ids=[3, 1, 4], sampling=params)])
    rows = gen.pace.rows()
    assert len(rows) >= 32 and {batch for batch, _, _ in rows} == {4}
    assert all(seconds >= 0.02 for _, _, seconds in rows)
    assert gen.throughput_model().decode_step_s(4, 40) > calibrated + 0.015


def test_a_step_that_only_prefilled_is_not_a_decode_row(model, tmp_path, monkeypatch):
    """A lone request's first step prefills its prompt and decodes nothing: the throughput model has a prefill
    term for that time, so the pace meter keeps no row of it (a slow prefill there is not a slow decode)."""
    monkeypatch.setenv("M1REASON_CACHE", str(tmp_path))
    gen = M1Generator(model, max_slots=8, max_len=96)
    gen.throughput_model()
    engine_step = gen.engine.step

    def slow_prefill():
        out = engine_step()
        if out.tokens and not out.decoded:
            time.sleep(0.25)
        return out

    monkeypatch.setattr(gen.engine, "step", slow_prefill)
    params = SamplingParams(n=2, temperature=1.0, seed=1, max_new_tokens=12, ignore_eos=True)
    for _ in range(3):
        gen.generate([GenerationRequest(prompt_token_ids=[3, 1, 4], sampling=params)])
    rows = gen.pace.rows()
    assert len(rows) >= 3 * 10 and all(seconds < 0.25 for _, _, seconds in rows)


def test_a_kv_pool_too_small_for_the_scratch_requests_calibrates_on_a_scratch_cache(model, monkeypatch, tmp_path):
    """measure_served needs the KV pool to hold its prompts; where it cannot (many slots, a small pool), the
    generator falls back to timing model.step on a scratch cache instead of failing."""
    monkeypatch.setenv("M1REASON_CACHE", str(tmp_path))
    used = []
    scratch = m1_module.measure
    monkeypatch.setattr(m1_module, "measure", lambda *a, **k: used.append("scratch") or scratch(*a, **k, repeats=1))
    gen = M1Generator(model, max_slots=64, max_len=64, kv_tokens=256)
    assert gen.throughput_model().decode_step_s(8, 32) > 0 and used == ["scratch"]


def test_building_a_generator_freezes_start_up_objects_unless_asked_not_to(model):
    """Objects alive when a generator is built leave the collector's full passes (freeze_gc, the default)."""
    import gc

    gc.unfreeze()
    M1Generator(model, max_slots=2, max_len=32, freeze_gc=False)
    assert gc.get_freeze_count() == 0
    kept = type("Kept", (), {})()  # alive before the generator is built, and tracked by the collector
    assert any(o is kept for o in gc.get_objects())
    M1Generator(model, max_slots=2, max_len=32)
    assert gc.get_freeze_count() > 0 and not any(o is kept for o in gc.get_objects())  # no full pass walks it


def test_a_dropped_generator_is_collected_though_it_froze_the_collector(model):
    """The freeze comes before the generator builds its engine: a generator that is dropped is freed with its
    caches (on a GPU, its KV pool and CUDA graphs), cycles and all, instead of living on in the frozen generation."""
    import gc
    import weakref

    gen = M1Generator(model, max_slots=2, max_len=32)
    gen.generate([GenerationRequest(prompt_token_ids=[1, 2], sampling=SamplingParams(max_new_tokens=2))])
    engine, cache = weakref.ref(gen.engine), weakref.ref(gen.engine.cache)
    gen.engine.cycle = gen  # a reference cycle through the engine, as closures and back-references make
    del gen
    gc.collect()
    assert engine() is None and cache() is None


def test_byte_table_detokenizing_streams_exactly_the_tokenizers_text(model):
    """A byte-level tokenizer is detokenized from its byte table, a run of tokens at a time where no stop string
    can cut it: the streamed text adds up to the final text, which is the tokenizer's own decoding of the tokens
    (the window path differs from it on invalid UTF-8, as a random tiny model writes), and stop strings still
    cut at the right place."""
    from m1reason.defaults import EMBEDDED_MODEL
    from m1reason.tokenizer import load_tokenizer

    tok = load_tokenizer(str(EMBEDDED_MODEL))
    gen = M1Generator(model, tok, max_slots=8, max_len=128, decode_steps=4)
    for stop in ((), ("e", "1")):
        streamed, final = {}, {}
        for event in gen.stream([request([20, 21, 22], f"s{len(stop)}", n=3, max_new_tokens=40, stop=stop,
                                         **SEEDED)]):
            if isinstance(event, TokensAppended):
                streamed[event.sample_id] = streamed.get(event.sample_id, "") + event.text_delta
            elif isinstance(event, SampleFinished):
                final[event.sample_id] = event.sample
        for sample_id, sample in final.items():
            assert streamed.get(sample_id, "") == sample.text
            decoded = tok.decode(sample.token_ids, skip_special_tokens=True)
            if not stop:
                assert sample.text == decoded and sample.finish_reason == "length"
            elif sample.finish_reason == "stop":
                assert not any(s in sample.text for s in stop) and decoded.startswith(sample.text)
                assert any(decoded[len(sample.text):].startswith(s) for s in stop)
        assert not stop or any(s.finish_reason == "stop" for s in final.values())
