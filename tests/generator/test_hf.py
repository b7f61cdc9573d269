"""HFGenerator against the model's own full forward: batching, padding and admission change no sample."""

import pytest
import torch

from m1reason.engine.sampling import SamplingBatch, sample
from m1reason.errors import CapacityError
from m1reason.generator.hf import HFGenerator
from m1reason.types import GenerationRequest, SamplingParams

GREEDY = SamplingParams(temperature=0, max_new_tokens=10, ignore_eos=True)
SAMPLED = SamplingParams(n=3, temperature=1.0, top_k=40, top_p=0.95, max_new_tokens=10, ignore_eos=True, seed=11)
PROMPTS = [[1, 30, 31, 32], [1, 40, 41, 42, 43, 44, 45, 46, 47], [1, 50]]


def req(prompt, params=GREEDY, request_id=None, **kw):
    kw = {"request_id": request_id} if request_id else {}
    return GenerationRequest(prompt_token_ids=prompt, sampling=params, **kw)


def full_forward_loop(model, prompt, steps, params=GREEDY, seed=0, index=0):
    """Recompute the whole sequence every step; greedy argmax, or the engine's sampler keyed by (seed, index, step)."""
    ids = list(prompt)
    with torch.no_grad():
        for step in range(steps):
            logits = model(torch.tensor([ids])).logits[:, -1].float()
            one = lambda v, dtype=torch.float32: torch.tensor([v], dtype=dtype)  # noqa: E731
            batch = SamplingBatch(one(params.temperature), one(params.top_k, torch.long), one(params.top_p),
                                  one(params.min_p), one(seed, torch.long), one(index, torch.long),
                                  one(step, torch.long))
            ids.append(int(sample(logits, batch)[0]))
    return ids[len(prompt):]


def token_ids(results):
    return [[s.token_ids for s in r.samples] for r in results]


def test_greedy_equals_argmax_over_full_forward_batched_or_not(llama):
    expected = [full_forward_loop(llama, p, 10) for p in PROMPTS]
    for max_batch in (8, 1):
        results = HFGenerator(llama, max_batch=max_batch).generate([req(p) for p in PROMPTS])
        assert [r.samples[0].token_ids for r in results] == expected


def test_seeded_samples_equal_full_forward_sampler_and_ignore_batch_mates(llama):
    alone = HFGenerator(llama).generate([req(PROMPTS[0], SAMPLED, "a")])[0]
    expected = [full_forward_loop(llama, PROMPTS[0], 10, SAMPLED, seed=11, index=i) for i in range(3)]
    assert [s.token_ids for s in alone.samples] == expected
    assert len({tuple(t) for t in expected}) == 3  # the three streams really differ
    others = [req(PROMPTS[1], SAMPLED.model_copy(update={"n": 2, "seed": 3, "max_new_tokens": 3}), "b"),
              req(PROMPTS[2], SAMPLED.model_copy(update={"seed": 4, "max_new_tokens": 5}), "c")]
    # three rows at most: "a" waits for b and c to leave, then joins rows of other lengths mid-flight
    batched = HFGenerator(llama, max_batch=3).generate([*others, req(PROMPTS[0], SAMPLED, "a")])
    assert [s.token_ids for s in batched[2].samples] == expected
    assert batched[0].samples[0].token_ids == HFGenerator(llama).generate([others[0]])[0].samples[0].token_ids


def test_stop_string_spanning_tokens(llama, tokenizer):
    gen = HFGenerator(llama, tokenizer)
    params = SamplingParams(temperature=0, max_new_tokens=40, ignore_eos=True)
    tokens = gen.generate([req(PROMPTS[1], params)])[0].samples[0].token_ids
    prefixes = [tokenizer.decode(tokens[:j], skip_special_tokens=True) for j in range(len(tokens) + 1)]
    text = prefixes[-1]
    for j in range(2, len(tokens)):  # a stop made of the end of token j-1 and the start of token j
        stop = text[len(prefixes[j]) - 2:len(prefixes[j]) + 2]
        ends = next(k for k in range(len(prefixes)) if stop in prefixes[k])
        if len(stop) == 4 and len(prefixes[j]) >= 2 and stop not in tokenizer.decode(tokens[ends - 1:ends]):
            break
    else:
        pytest.fail("no stop string spanning two tokens in the greedy text")
    events = list(gen.stream([req(PROMPTS[1], params.model_copy(update={"stop": (stop, "never seen")}))]))
    sample = events[-1].result.samples[0]
    assert (sample.finish_reason, sample.text) == ("stop", text[:text.index(stop)])
    assert sample.token_ids == tokens[:ends]
    deltas = [e.text_delta for e in events if e.kind == "tokens"]
    assert "".join(deltas) == sample.text and len(deltas) == ends


def test_eos_stop_token_ids_and_min_new_tokens(llama, tokenizer):
    tokens = HFGenerator(llama).generate([req(PROMPTS[0])])[0].samples[0].token_ids
    stop_id = tokens[3]
    first = tokens.index(stop_id)
    plain = SamplingParams(temperature=0, max_new_tokens=10)
    sample = HFGenerator(llama).generate([req(PROMPTS[0], plain.model_copy(update={"stop_token_ids": (stop_id,)}))])
    assert (sample[0].samples[0].token_ids, sample[0].samples[0].finish_reason) == (tokens[:first + 1], "stop")
    saved = llama.generation_config.eos_token_id
    try:
        llama.generation_config.eos_token_id = [tokenizer.eos_token_id, stop_id]
        gen = HFGenerator(llama)
        assert gen.eos_token_ids == {tokenizer.eos_token_id, stop_id}
        ended, ignored, late = gen.generate([req(PROMPTS[0], plain, "e"), req(PROMPTS[0], GREEDY, "i"),
                                             req(PROMPTS[0], plain.model_copy(update={"min_new_tokens": 6}), "m")])
    finally:
        llama.generation_config.eos_token_id = saved
    assert ended.samples[0].token_ids == tokens[:first + 1] and ended.samples[0].finish_reason == "stop"
    assert ignored.samples[0].token_ids == tokens
    assert stop_id not in late.samples[0].token_ids[:6] and late.samples[0].num_tokens >= 6


def test_logprobs_are_the_models_own(llama):
    sample = HFGenerator(llama).generate([req(PROMPTS[2], GREEDY.model_copy(update={"logprobs": True}))])[0].samples[0]
    with torch.no_grad():
        full = llama(torch.tensor([PROMPTS[2] + sample.token_ids])).logits[0].log_softmax(-1)
    expected = [float(full[len(PROMPTS[2]) - 1 + t, tok]) for t, tok in enumerate(sample.token_ids)]
    assert sample.logprobs == pytest.approx(expected, abs=1e-4)
    assert HFGenerator(llama).generate([req(PROMPTS[2])])[0].samples[0].logprobs is None


def test_deadline_ends_within_a_step_keeping_partial_tokens(llama):
    gen, now = HFGenerator(llama), [0.0]
    gen._clock = lambda: now[0]
    params = GREEDY.model_copy(update={"n": 2})
    events = []
    for event in gen.stream([GenerationRequest(prompt_token_ids=PROMPTS[0], sampling=params, deadline=5.0,
                                               request_id="late"), req(PROMPTS[1], GREEDY, "free")]):
        events.append(event)
        if sum(e.kind == "tokens" and e.sample_id == "late/0" for e in events) == 3:
            now[0] = 10.0
    results = {e.request_id: e.result for e in events if e.kind == "request"}
    assert [(s.finish_reason, s.num_tokens) for s in results["late"].samples] == [("deadline", 3)] * 2
    assert results["late"].samples[0].token_ids == full_forward_loop(llama, PROMPTS[0], 3)
    assert results["free"].samples[0].finish_reason == "length"


def test_cancel_sample_and_request_mid_batch(llama):
    gen = HFGenerator(llama)
    events, cancelled = [], []
    for event in gen.stream([req(PROMPTS[0], SAMPLED.model_copy(update={"n": 2}), "a"), req(PROMPTS[1], SAMPLED, "b")]):
        events.append(event)
        if len(events) == 1:
            cancelled = [gen.cancel("a/1"), gen.cancel("b"), gen.cancel("a/1"), gen.cancel("nope")]
    assert cancelled == [True, True, False, False]
    results = {e.request_id: e.result for e in events if e.kind == "request"}
    assert [(s.finish_reason, s.num_tokens) for s in results["a"].samples] == [("length", 10), ("cancelled", 1)]
    assert [s.finish_reason for s in results["b"].samples] == ["cancelled"] * 3
    first_end = next(i for i, e in enumerate(events) if e.kind == "sample")
    assert {e.sample_id for e in events[first_end:] if e.kind == "tokens"} == {"a/0"}
    assert results["a"].samples[0].token_ids == full_forward_loop(llama, PROMPTS[0], 10, SAMPLED, seed=11)
    assert not gen.cancel("a/0")  # the stream is over


def test_event_order_and_streamed_text(llama, tokenizer):
    gen = HFGenerator(llama, tokenizer)
    short = SamplingParams(n=2, temperature=0.9, max_new_tokens=4, ignore_eos=True, seed=1)
    events = list(gen.stream([GenerationRequest(prompt="What is 2 + 2?", request_id="long", sampling=GREEDY),
                              GenerationRequest(prompt="think", request_id="short", sampling=short)]))
    kinds = [(e.kind, getattr(e, "sample_id", getattr(e, "request_id", None))) for e in events if e.kind != "tokens"]
    assert kinds == [("sample", "short/0"), ("sample", "short/1"), ("request", "short"),
                     ("sample", "long/0"), ("request", "long")]
    assert [e.sample_id for e in events[:3]] == ["long/0", "short/0", "short/1"]  # one step: every row, in order
    result = events[-1].result
    sample = result.samples[0]
    assert "".join(e.text_delta for e in events if e.kind == "tokens" and e.sample_id == "long/0") == sample.text
    assert sample.text == tokenizer.decode(sample.token_ids, skip_special_tokens=True)
    assert result.prompt_tokens == len(tokenizer("What is 2 + 2?")["input_ids"])
    assert sample.timings["total_s"] >= sample.timings["first_token_s"] >= 0


def test_reproducibility_record_replays_an_unseeded_sample(llama):
    gen = HFGenerator(llama)
    unseeded = SAMPLED.model_copy(update={"seed": None, "n": 1})
    first = gen.generate([req(PROMPTS[0], unseeded)])[0]
    record = first.reproducibility
    assert {"seed", "sampling", "model_id", "dtype", "device", "versions"} <= set(record)
    assert record["dtype"] == "torch.float32" and {"m1reason", "torch", "transformers"} <= set(record["versions"])
    again = gen.generate([req(PROMPTS[0], unseeded.model_copy(update={"seed": record["seed"]}))])[0]
    assert again.samples[0].token_ids == first.samples[0].token_ids


def test_invalid_use_is_reported(llama, tokenizer):
    gen = HFGenerator(llama)
    assert gen.capabilities == {"stream", "cancel", "logprobs"}
    with pytest.raises(NotImplementedError, match="'append'"):
        gen.append("r/0", "Wait")
    with pytest.raises(NotImplementedError, match="'fork'"):
        gen.fork("r/0", 2)
    with pytest.raises(ValueError, match="need a tokenizer"):
        gen.generate([GenerationRequest(prompt="hi")])
    with pytest.raises(ValueError, match="need a tokenizer"):
        gen.generate([req(PROMPTS[0], GREEDY.model_copy(update={"stop": ("x",)}))])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        gen.generate([req([1, len(tokenizer)])])
    with pytest.raises(CapacityError, match="128 positions"):
        gen.generate([req([1] * 128)])
    with pytest.raises(ValueError, match="unique"):
        gen.generate([req(PROMPTS[0], request_id="x"), req(PROMPTS[1], request_id="x")])
    with pytest.raises(ValueError, match="max_batch"):
        HFGenerator(llama, max_batch=0)


def test_length_stops_at_the_models_last_position(llama):
    sample = HFGenerator(llama).generate([req([1] * 120, GREEDY.model_copy(update={"max_new_tokens": 50}))])[0]
    assert (sample.samples[0].finish_reason, sample.samples[0].num_tokens) == ("length", 8)


def test_throughput_model_is_measured_once_and_cached(llama, tmp_path, monkeypatch):
    monkeypatch.setenv("M1REASON_CACHE", str(tmp_path))
    gen = HFGenerator(llama, max_batch=4)
    model = gen.throughput_model()
    assert model.decode_step_s(4, 32) > 0 and model.prefill_s(32) >= 0 and model.occupancy() == 0
    fresh = HFGenerator(llama, max_batch=4)
    monkeypatch.setattr(fresh, "_calibrate", lambda: pytest.fail("calibrated again"))
    assert fresh.throughput_model().decode_coef == model.decode_coef  # read from disk


def test_from_pretrained_loads_folder_and_tokenizer(llama, tokenizer, tmp_path):
    llama.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    gen = HFGenerator.from_pretrained(tmp_path, device="cpu")
    assert gen.tokenizer is not None and gen.source["model_id"] == str(tmp_path.resolve())
    assert gen.generate([req(PROMPTS[0])])[0].samples[0].token_ids == full_forward_loop(llama, PROMPTS[0], 10)
