"""The engine against the model's own forward: batching, forking, preemption and appends change nothing."""

from dataclasses import replace

import pytest
import torch

from m1reason.engine import Engine, Sequence
from m1reason.types import SamplingParams
from tests.conftest import flat_tiny_model

GREEDY = SamplingParams(temperature=0, max_new_tokens=12, ignore_eos=True)
SAMPLED = SamplingParams(temperature=1.0, top_p=0.9, max_new_tokens=12, ignore_eos=True, seed=5)


@pytest.fixture(scope="module")
def model():
    return flat_tiny_model(64)


def seqs_for(prompt, params, n=1, request="r", seed=None):
    seed = params.seed if seed is None else seed
    return [Sequence(f"{request}/{i}", request, i, seed or 0, params, list(prompt), len(prompt)) for i in range(n)]


def run(engine, groups, max_steps=1000):
    for group in groups:
        engine.add(group)
    for _ in range(max_steps):
        if not engine.has_work():
            break
        engine.step()
    return [[s.generated for s in g] for g in groups]


def argmax_loop(model, prompt, steps):
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(steps):
            ids.append(int(model(torch.tensor([ids]))[0, -1].argmax()))
    return ids[len(prompt):]


def test_greedy_equals_argmax_over_full_forward(model):
    prompt = [3, 9, 4, 1, 7]
    (tokens,), = run(Engine(model, max_slots=4, max_len=64), [seqs_for(prompt, GREEDY)])
    assert tokens == argmax_loop(model, prompt, 12)


def test_forked_samples_equal_independent_runs(model):
    prompt = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]  # 17 tokens: a partial KV block
    forked, = run(Engine(model, max_slots=8, max_len=64), [seqs_for(prompt, SAMPLED, n=4)])
    alone = []
    for i in range(4):
        seq = Sequence(f"x/{i}", "x", i, 5, SAMPLED, list(prompt), len(prompt))
        alone.append(run(Engine(model, max_slots=2, max_len=64), [[seq]])[0][0])
    assert forked == alone
    assert len({tuple(t) for t in forked}) == 4  # different streams, different samples


def test_mid_flight_admission_gives_each_request_its_solo_tokens(model):
    prompts = [[1, 2, 3], list(range(10, 30)), [40, 41, 42, 43, 44, 45, 46]]
    solo = [run(Engine(model, max_slots=4, max_len=64), [seqs_for(p, SAMPLED, n=2, request=f"s{i}")])[0]
            for i, p in enumerate(prompts)]
    engine = Engine(model, max_slots=8, max_len=64)
    groups = [seqs_for(p, SAMPLED, n=2, request=f"s{i}") for i, p in enumerate(prompts)]
    engine.add(groups[0])
    for group in groups[1:]:  # arrive while the first is decoding
        engine.step()
        engine.step()
        engine.add(group)
    while engine.has_work():
        engine.step()
    assert [[s.generated for s in g] for g in groups] == solo


def test_tiny_block_pool_preempts_youngest_and_results_do_not_change(model):
    groups = lambda: [seqs_for(list(range(i, i + 9)), SAMPLED, n=2, request=f"q{i}") for i in range(4)]  # noqa: E731
    roomy = run(Engine(model, max_slots=8, max_len=64), groups())
    tight = Engine(model, max_slots=8, max_len=64, kv_tokens=6 * 16, block_size=16)
    preempted = []
    original = tight.scheduler.preempt
    tight.scheduler.preempt = lambda seq: (preempted.append(seq.sample_id), original(seq))[1]
    assert run(tight, groups()) == roomy
    assert preempted, "the pool was meant to be too small for all samples at once"


def test_out_of_memory_shrinks_the_batch_and_recomputes(model):
    expected = run(Engine(model, max_slots=8, max_len=64), [seqs_for([1, 2, 3, 4], SAMPLED, n=6)])
    engine = Engine(model, max_slots=8, max_len=64)
    real_step, failures = model.step, []

    def flaky_step(tokens, cache, slots):
        if tokens.shape[0] > 3:
            failures.append(tokens.shape[0])
            raise torch.OutOfMemoryError("simulated")
        return real_step(tokens, cache, slots)

    engine.model = type("Flaky", (), {"step": staticmethod(flaky_step), "prefill": model.prefill})()
    assert run(engine, [seqs_for([1, 2, 3, 4], SAMPLED, n=6)]) == expected
    assert failures and engine.scheduler.max_running <= 3


def test_append_continues_like_the_concatenated_prompt(model):
    engine = Engine(model, max_slots=4, max_len=64)
    params = SamplingParams(temperature=0, max_new_tokens=20, ignore_eos=True)
    seq, = seqs_for([4, 5, 6], params)
    engine.add([seq])
    for _ in range(4):
        engine.step()
    forced = [30, 31, 32]
    engine.append(seq, forced)
    while engine.has_work():
        engine.step()
    head = seq.tokens[: 3 + 4 + 3]
    assert head[-3:] == forced
    assert seq.tokens[len(head):] == argmax_loop(model, head, len(seq.tokens) - len(head))


def test_appends_in_one_step_share_one_prefill_call_and_continue_exactly(model):
    """A strategy forcing answers out at its deadline appends to every live sample at once: those continuations (of
    different lengths, from different states) are prefilled in one padded call, each exactly as alone."""
    engine = Engine(model, max_slots=8, max_len=64)
    params = SamplingParams(temperature=0, max_new_tokens=24, ignore_eos=True)
    seqs = [seqs_for(prompt, params, request=f"r{i}")[0] for i, prompt in enumerate(([4, 5, 6], [7, 8, 9, 10, 11],
                                                                                        [12, 13]))]
    for seq in seqs:
        engine.add([seq])
    for _ in range(3):
        engine.step()
    forced = ([30, 31, 32], [40, 41, 42, 43], [50, 51, 52])  # + each one's last sampled token: 4, 5, 4
    for seq, tokens in zip(seqs, forced):
        engine.append(seq, tokens)
    calls = []
    original = model.prefill
    model.prefill = lambda ids, *a, **k: (calls.append(tuple(ids.shape)), original(ids, *a, **k))[1]
    try:
        engine.step()
    finally:
        del model.prefill
    assert calls == [(3, 5)]  # one call, padded to the longest continuation (within pack_prefills' slack)
    while engine.has_work():
        engine.step()
    for seq, tokens in zip(seqs, forced):
        head = seq.tokens[: seq.prompt_len + 3 + len(tokens)]
        assert head[-len(tokens):] == tokens
        assert seq.tokens[len(head):] == argmax_loop(model, head, len(seq.tokens) - len(head))


def test_forked_probe_leaves_the_parent_unchanged(model):
    reference, = run(Engine(model, max_slots=4, max_len=64), [seqs_for([9, 8, 7], SAMPLED)])
    engine = Engine(model, max_slots=4, max_len=64)
    parent, = seqs_for([9, 8, 7], SAMPLED)
    engine.add([parent])
    for _ in range(5):
        engine.step()
    probe, = engine.fork(parent, 1, SamplingParams(temperature=0, max_new_tokens=30, ignore_eos=True))
    engine.append(probe, [1, 2, 3])
    while engine.has_work():
        engine.step()
    assert parent.generated == reference[0]
    assert probe.tokens[: len(parent.tokens) - 7] == parent.tokens[: len(parent.tokens) - 7]


def test_slots_and_blocks_return_after_a_thousand_requests(model):
    engine = Engine(model, max_slots=16, max_len=32, kv_tokens=16 * 32)
    free_slots, free_blocks = engine.cache.free_slots, engine.cache.free_blocks
    params = SamplingParams(temperature=0.8, max_new_tokens=2, seed=1)
    for i in range(1000):
        engine.add(seqs_for([i % 50 + 1, 3, 5], params, request=f"m{i}"))
        if i % 8 == 7:
            while engine.has_work():
                engine.step()
    while engine.has_work():
        engine.step()
    engine.step()  # release the last parked slots
    assert (engine.cache.free_slots, engine.cache.free_blocks) == (free_slots, free_blocks)


def scripted_run(model):
    """Requests joining and leaving mid-flight: stop tokens, EOS, different lengths, min_new_tokens, logprobs,
    a cancel, an append and a fork. Returns each sample's (id, generated, finish reason, logprobs)."""
    stopping = SamplingParams(temperature=1.0, seed=11, max_new_tokens=30, stop_token_ids=(7, 23))
    short = SamplingParams(temperature=1.0, seed=12, max_new_tokens=7, ignore_eos=True, top_k=20)
    careful = SamplingParams(temperature=0.7, seed=13, max_new_tokens=30, min_new_tokens=4, logprobs=True,
                             stop_token_ids=(5,))
    engine = Engine(model, max_slots=12, max_len=40, kv_tokens=12 * 40, block_size=4)
    a, b = seqs_for([1, 2, 3], stopping, n=3, request="a"), seqs_for([4, 5, 6, 7], short, n=2, request="b")
    c = seqs_for(list(range(8, 28)), careful, n=2, request="c")  # 20 tokens: runs into max_len 40 after forcing
    engine.add(a)
    engine.add(b)
    steps = [engine.step() for _ in range(2)]
    engine.add(c)
    steps.append(engine.step())
    engine.cancel(a[1])
    steps += [engine.step() for _ in range(3)]
    engine.append(b[0], [9, 10])
    children = engine.fork(c[0], 2)
    while engine.has_work():
        steps.append(engine.step())
    seqs = [*a, *b, *c, *children]
    return [(s.sample_id, s.generated, s.finish_reason, s.logprobs) for s in seqs], steps


def test_kept_decode_rows_give_the_tokens_of_rebuilding_every_step(model, monkeypatch):
    from m1reason.engine.batch import DecodeBatch

    builds = []
    real_build = DecodeBatch.build.__func__
    monkeypatch.setattr(DecodeBatch, "build", classmethod(
        lambda cls, seqs, *args: builds.append(len(seqs)) or real_build(cls, seqs, *args)))
    kept, steps = scripted_run(model)
    assert len(builds) < len(steps) - 5, "steady steps should reuse the last step's rows"
    monkeypatch.setattr(DecodeBatch, "reusable", property(lambda self: False))
    rebuilt, _ = scripted_run(model)
    assert kept == rebuilt
    reasons = {reason for _, _, reason, _ in kept}
    assert {"stop", "length", "cancelled"} <= reasons, reasons  # the script exercises every way to end


def test_finish_reasons_follow_the_tokens(model):
    """Every sample ends at its first stop token (EOS unless ignored), else at max_new_tokens or max_len."""
    results, _ = scripted_run(model)
    for sample_id, generated, reason, _ in results:
        if sample_id.startswith("a/") and reason != "cancelled":
            hits = [i for i, t in enumerate(generated) if t in {2, 7, 23}]  # the tiny config's EOS is 2
            if hits:
                assert (reason, hits[0]) == ("stop", len(generated) - 1)
            else:
                assert (reason, len(generated)) == ("length", 30)
        if sample_id.startswith("b/1"):
            assert (reason, len(generated)) == ("length", 7)
        if sample_id.startswith("c/"):
            assert 5 not in generated[:4]  # min_new_tokens bans the stop token early
            if 5 in generated:
                assert (reason, generated.index(5)) == ("stop", len(generated) - 1)
            else:
                assert (reason, 20 + len(generated)) == ("length", 40)  # max_len, before max_new_tokens


def test_block_boundaries_crossed_together_are_written_in_one_batch(model):
    """n samples forked from one prompt cross every KV block boundary in the same step (one batched block-table
    write); each must still read only its own keys, so it samples what it samples alone."""
    prompt = [1, 2, 3, 4, 5, 6]
    together, = run(Engine(model, max_slots=8, max_len=64, block_size=4), [seqs_for(prompt, SAMPLED, n=5)])
    alone = [run(Engine(model, max_slots=2, max_len=64, block_size=4),
                 [[Sequence(f"x/{i}", "x", i, 5, SAMPLED, list(prompt), len(prompt))]])[0][0] for i in range(5)]
    assert together == alone
    assert len({tuple(t) for t in together}) == 5


def test_prompts_of_different_lengths_share_one_prefill_and_keep_their_solo_tokens(model, monkeypatch):
    prompts = [[1, 2, 3, 4, 5, 6, 7], [10, 11, 12, 13, 14, 15, 16, 17], [20, 21, 22, 23, 24, 25],
               [30, 31, 32, 33, 34, 35, 36, 37, 38]]  # 6-9 tokens: within the padding slack, one call
    alone = [run(Engine(model, max_slots=4, max_len=64), [seqs_for(p, SAMPLED, n=2, request=f"r{i}")])[0]
             for i, p in enumerate(prompts)]
    calls = []
    real_prefill = model.prefill

    def counted_prefill(ids, *args, **kwargs):
        calls.append(tuple(ids.shape))
        return real_prefill(ids, *args, **kwargs)

    monkeypatch.setattr(model, "prefill", counted_prefill)
    together = run(Engine(model, max_slots=8, max_len=64),
                   [seqs_for(p, SAMPLED, n=2, request=f"r{i}") for i, p in enumerate(prompts)])
    assert calls == [(4, 9)]  # four prompts padded to the longest, one call
    assert together == alone


def test_prefill_work_waits_for_company_while_others_decode(model):
    """A new prompt arriving while others decode waits (up to prefill_delay recent prefill calls) to share a prefill
    call with later arrivals; with nothing decoding, or a full call's worth waiting, it runs at once. Waiting
    changes when its tokens come, never which."""
    engine = Engine(model, max_slots=8, max_len=64, prefill_delay=1.0)
    a, = seqs_for([1, 2, 3], GREEDY, request="a")
    engine.add([a])
    engine.step()
    assert a.num_generated == 1  # nothing was decoding: prefilled at once
    engine._prefill_call_s = 3600.0  # as if a prefill call took an hour: arrivals wait for company
    b, = seqs_for([4, 5, 6], GREEDY, request="b")
    engine.add([b])
    engine.step()
    assert (a.num_generated, b.num_generated) == (2, 0)  # a decoded, b waited
    engine.config = replace(engine.config, prefill_tokens=6)  # b's 3 tokens are half a call: due now
    engine.step()
    assert b.num_generated == 1
    while engine.has_work():
        engine.step()
    assert a.tokens[3:] == argmax_loop(model, [1, 2, 3], 12) and b.tokens[3:] == argmax_loop(model, [4, 5, 6], 12)


def test_prefill_delay_must_be_a_nonnegative_number(model):
    with pytest.raises(ValueError, match="prefill_delay"):
        Engine(model, max_slots=2, max_len=32, prefill_delay=-1)


def test_the_engine_tells_the_model_which_prefills_are_fresh(model):
    """Whether a prefill continues cached state is known on the host; passed down, attention need not synchronise
    with the device to find it out. New prompts are fresh; appended continuations are not."""
    engine = Engine(model, max_slots=8, max_len=64)
    params = SamplingParams(temperature=0, max_new_tokens=12, ignore_eos=True)
    seqs = [seqs_for(prompt, params, request=f"r{i}")[0] for i, prompt in enumerate(([4, 5, 6], [7, 8]))]
    told = []
    original = model.prefill
    model.prefill = lambda ids, *a, fresh=None, **k: (told.append(fresh), original(ids, *a, fresh=fresh, **k))[1]
    try:
        for seq in seqs:
            engine.add([seq])
        engine.step()  # both prompts, one call
        engine.step()
        engine.append(seqs[0], [30, 31])
        engine.step()  # the continuation
    finally:
        del model.prefill
    assert told == [True, False]
    while engine.has_work():
        engine.step()
    head = seqs[0].tokens[:3 + 2 + 2]
    assert seqs[0].tokens[len(head):] == argmax_loop(model, head, len(seqs[0].tokens) - len(head))
