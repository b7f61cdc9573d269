"""Several decode steps per engine step (``decode_steps``) give exactly the tokens of one step at a time."""

import pytest
import torch

from m1reason.engine import Engine, Sequence, Status
from m1reason.types import SamplingParams
from tests.conftest import flat_tiny_model
from tests.engine.test_engine import SAMPLED, argmax_loop, run, seqs_for

STOPPING = SamplingParams(temperature=1.0, seed=11, max_new_tokens=30, stop_token_ids=(7, 23))
SHORT = SamplingParams(temperature=1.0, seed=12, max_new_tokens=11, ignore_eos=True, top_k=20)
CAREFUL = SamplingParams(temperature=0.7, seed=13, max_new_tokens=30, min_new_tokens=4, logprobs=True,
                         stop_token_ids=(5,))
CONFIDENT = SamplingParams(temperature=0.9, seed=14, max_new_tokens=25, logprobs=True, confidence=True,
                           stop_token_ids=(9, 17))
FORCED_ON = SamplingParams(temperature=1.0, seed=11, max_new_tokens=40, logprobs=True, confidence=True,
                           stop_token_ids=(23,))  # what a budget-forced sample continues with


@pytest.fixture(scope="module")
def model():
    """test_engine's model: small embeddings give a flat next-token distribution, so sampling really varies."""
    return flat_tiny_model(64)


class Workload:
    """Requests joining and leaving mid-flight, with actions fired when a sample reaches a number of tokens (or
    ends). The first run (any decode_steps) records how many tokens each action's sample had when it fired; a
    replay with ``fire_at`` fires each action at exactly that count, so both runs do the same things to the same
    samples, and must give the same tokens, finish reasons, log-probabilities and confidence."""

    def __init__(self, model, decode_steps: int, fire_at: dict | None = None, kv_tokens: int = 16 * 40,
                 feed_appends: int = 0, overlap: bool = False):
        self.engine = engine = Engine(model, max_slots=16, max_len=40, kv_tokens=kv_tokens, block_size=4,
                                      decode_steps=decode_steps, feed_appends=feed_appends, overlap=overlap)
        self.a = seqs_for([1, 2, 3], STOPPING, n=3, request="a")
        self.b = seqs_for([4, 5, 6, 7], SHORT, n=2, request="b")
        self.c = seqs_for(list(range(8, 28)), CAREFUL, n=2, request="c")  # 20 tokens: reaches max_len 40
        self.d = seqs_for([3, 1, 4, 1, 5], CONFIDENT, n=3, request="d")
        self.children: list[Sequence] = []
        self.overrun_resumed: list[str] = []  # samples resumed after their state ran past their end
        a, b, c, d = self.a, self.b, self.c, self.d
        # name: (sample, tokens it must have, or None: once it has ended, what to do)
        self.actions = {
            "admit c": (a[0], 2, lambda: engine.add(c)),
            "cancel d/2": (d[2], 6, lambda: engine.cancel(d[2])),
            "append to live b/0": (b[0], 4, lambda: self.force(b[0], [9, 10], SHORT.model_copy(
                update={"max_new_tokens": 16}))),
            "append 9 to live b/1": (b[1], 2, lambda: self.force(b[1], list(range(30, 39)), SHORT.model_copy(
                update={"max_new_tokens": 24}))),
            "fork c/0": (c[0], 6, lambda: self.children.extend(engine.fork(c[0], 2))),
            "force ended a/0": (a[0], None, lambda: self.force(a[0], [9, 10], FORCED_ON)),
            "force ended d/0": (d[0], None, lambda: self.force(d[0], [11], FORCED_ON)),
            "force ended d/1": (d[1], None, lambda: self.force(d[1], [12, 13, 14], FORCED_ON)),
            "force ended a/2": (a[2], None, lambda: self.force(a[2], [15], FORCED_ON)),
        }
        self.fire_at, self.fired = fire_at, {}
        self.confidence: dict[str, object] = {}
        engine.add(a)
        engine.add(b)
        engine.add(d)

    def force(self, seq: Sequence, tokens: list[int], params: SamplingParams) -> None:
        """Budget forcing: append to a sample (live, or just ended) and let it go on under new parameters."""
        if seq.state_overrun:
            self.overrun_resumed.append(seq.sample_id)
        seq.params = params
        self.engine.append(seq, tokens)

    def due(self, name: str, seq: Sequence, threshold: int | None) -> bool:
        if name in self.fired or (self.fire_at is not None and name not in self.fire_at):
            return False
        if threshold is None:  # on its end (not cancelled), in the step it ends in: its slot is still held
            return seq.status is Status.FINISHED and seq.finish_reason != "cancelled" and seq.slot is not None
        threshold = threshold if self.fire_at is None else self.fire_at[name]
        return seq.status is Status.RUNNING and seq.num_generated >= threshold

    def run(self, max_steps: int = 500):
        engine, steps = self.engine, 0
        while engine.has_work() and steps < max_steps:
            out = engine.step()
            steps += 1
            for seq in out.finished:
                self.confidence[seq.sample_id] = engine.read_confidence(seq)
            for name, (seq, threshold, act) in self.actions.items():
                if self.due(name, seq, threshold):
                    self.fired[name] = seq.num_generated
                    act()
        seqs = [*self.a, *self.b, *self.c, *self.d, *self.children]
        return {s.sample_id: (s.generated, s.finish_reason, s.logprobs, self.confidence.get(s.sample_id))
                for s in seqs}, steps


def same_results(ours: dict, reference: dict) -> None:
    assert ours.keys() == reference.keys()
    for sample_id, (tokens, reason, logprobs, confidence) in ours.items():
        ref_tokens, ref_reason, ref_logprobs, ref_confidence = reference[sample_id]
        assert (sample_id, tokens, reason) == (sample_id, ref_tokens, ref_reason)
        assert logprobs == pytest.approx(ref_logprobs, abs=1e-5), sample_id
        if ref_confidence is None:
            assert confidence is None, sample_id
        else:  # a state recomputed from its tokens rounds a little differently from one built token by token
            assert confidence.mean == pytest.approx(ref_confidence.mean, abs=1e-5), sample_id
            assert confidence.lowest_window == pytest.approx(ref_confidence.lowest_window, abs=1e-5), sample_id


@pytest.mark.parametrize("decode_steps", [4, 7])
def test_several_steps_at_once_give_the_tokens_of_one_step_at_a_time(model, decode_steps):
    several = Workload(model, decode_steps)
    results, steps = several.run()
    assert set(several.fired) == set(several.actions), "every action of the script should have happened"
    single = Workload(model, 1, fire_at=several.fired)
    reference, single_steps = single.run()
    assert single.fired == several.fired
    same_results(results, reference)
    assert steps < single_steps * 0.6, (steps, single_steps)  # it really ran several steps per engine step
    reasons = {reason for _, reason, _, _ in results.values()}
    assert {"stop", "length", "cancelled"} <= reasons, reasons
    assert several.overrun_resumed, "some forced sample should have ended inside a multi-step decode"


def test_one_sync_per_engine_step_and_several_model_steps(model, monkeypatch):
    """decode_steps=4 runs 4 model steps per engine step and copies tokens to the host once for them."""
    engine = Engine(model, max_slots=4, max_len=64, decode_steps=4)
    params = SamplingParams(temperature=1.0, seed=3, max_new_tokens=13, ignore_eos=True)
    seqs = seqs_for([1, 2, 3], params, n=2)
    engine.add(seqs)
    engine.step()  # prefill: the first token
    calls = {"model": 0, "tolist": 0}
    real_step, real_tolist = model.step, torch.Tensor.tolist

    def counting_step(*args):
        calls["model"] += 1
        return real_step(*args)

    def counting_tolist(self):
        calls["tolist"] += 1
        return real_tolist(self)

    monkeypatch.setattr(engine.model, "step", counting_step)
    monkeypatch.setattr(torch.Tensor, "tolist", counting_tolist)
    per_step = []
    while engine.has_work():
        before = dict(calls)
        out = engine.step()
        per_step.append((calls["model"] - before["model"], calls["tolist"] - before["tolist"], len(out.tokens)))
    monkeypatch.undo()
    assert per_step == [(4, 1, 8)] * 3, per_step
    alone = run(Engine(model, max_slots=4, max_len=64), [seqs_for([1, 2, 3], params, n=2)])
    assert [[s.generated for s in seqs]] == alone


def test_steps_stop_short_of_max_new_tokens_and_max_len(model):
    """No sample runs past its length: a batch takes as many steps as its shortest budget allows."""
    engine = Engine(model, max_slots=4, max_len=16, decode_steps=7)
    long = seqs_for([1, 2, 3, 4, 5, 6], SamplingParams(temperature=0, max_new_tokens=50, ignore_eos=True))
    short = seqs_for([1, 2], SamplingParams(temperature=0, max_new_tokens=6, ignore_eos=True), request="s")
    engine.add(long)
    engine.add(short)
    tokens_per_step = []
    while engine.has_work():
        tokens_per_step.append(len(engine.step().tokens))
    assert (short[0].num_generated, short[0].finish_reason) == (6, "length")
    assert (len(long[0].tokens), long[0].finish_reason) == (16, "length")  # max_len
    assert tokens_per_step == [2, 2 * 5, 4], tokens_per_step  # 5 steps to short's end, then 4 to max_len


def test_steps_stop_short_of_the_nearest_deadline(model, monkeypatch):
    """A batch takes no more steps than fit before a row's deadline at the recent time per step, so the deadline
    is seen about when it falls, not up to decode_steps late; without one, the full count."""
    import m1reason.engine.engine as engine_module

    now = [100.0]
    monkeypatch.setattr(engine_module.time, "monotonic", lambda: now[0])
    engine = Engine(model, max_slots=4, max_len=64, decode_steps=8)
    free = seqs_for([1, 2, 3], SamplingParams(temperature=0, max_new_tokens=40, ignore_eos=True), n=2)
    engine.add(free)
    engine.step()  # prefill and the first token
    engine.timings.decode.append((2, 4.0, 0.010))  # this batch size last took 10 ms a step
    assert len(engine.step().tokens) == 2 * 8  # no deadline: all 8
    free[1].deadline_at = now[0] + 0.035  # 3.5 steps away
    engine.timings.decode.append((2, 12.0, 0.010))
    assert len(engine.step().tokens) == 2 * 3
    free[1].deadline_at = now[0] + 0.001  # less than a step away: one step, then the deadline is seen
    engine.timings.decode.append((2, 15.0, 0.010))
    assert len(engine.step().tokens) == 2 * 1
    now[0] += 0.002
    out = engine.step()
    assert free[1].finish_reason == "deadline" and free[1] in out.finished


@pytest.mark.parametrize("released", [False, True], ids=["slot held", "slot freed"])
@pytest.mark.parametrize("overlap", [False, True], ids=["serial", "overlapped"])
def test_append_after_ending_inside_a_chunk_continues_as_one_step_at_a_time(model, released, overlap):
    prompt = [9, 8, 7]
    free = argmax_loop(model, prompt, 8)
    stop = free[1]  # the second token: the first of a 4-step chunk (the first token comes from the prefill)
    assert stop not in free[:1]
    results = []
    for decode_steps in (1, 4):
        engine = Engine(model, max_slots=4, max_len=64, decode_steps=decode_steps, overlap=overlap)
        seq, = seqs_for(prompt, SamplingParams(temperature=0, max_new_tokens=30, stop_token_ids=(stop,)))
        engine.add([seq])
        while seq.is_live:
            engine.step()
        assert (seq.generated, seq.finish_reason) == (free[:2], "stop")
        # it ran past its end inside its group of 4, or in the group launched ahead of the one it ended in
        assert seq.state_overrun == (decode_steps == 4 or overlap)
        if released:
            engine.step()
        seq.params = SamplingParams(temperature=0, max_new_tokens=12, ignore_eos=True)
        engine.append(seq, [30, 31])
        while engine.has_work():
            engine.step()
        results.append(seq.generated)
    head = prompt + free[:2] + [30, 31]
    assert results[0] == results[1] == free[:2] + [30, 31] + argmax_loop(model, head, 8)


@pytest.mark.parametrize("overlap", [False, True], ids=["serial", "overlapped"])
def test_fork_after_ending_inside_a_chunk_starts_from_the_right_state(model, overlap):
    prompt = [9, 8, 7]
    free = argmax_loop(model, prompt, 8)
    stop = free[1]
    assert stop not in free[:1]
    engine = Engine(model, max_slots=4, max_len=64, decode_steps=4, overlap=overlap)
    seq, = seqs_for(prompt, SamplingParams(temperature=0, max_new_tokens=30, stop_token_ids=(stop,)))
    engine.add([seq])
    while seq.is_live:
        engine.step()
    assert seq.state_overrun
    probe, = engine.fork(seq, 1, SamplingParams(temperature=0, max_new_tokens=8, ignore_eos=True))
    while engine.has_work():
        engine.step()
    assert probe.generated == free[:2] + argmax_loop(model, prompt + free[:2], 6)


@pytest.mark.parametrize("overlap", [False, True], ids=["serial", "overlapped"])
def test_a_full_block_pool_takes_fewer_steps_and_preempts_as_before(model, overlap):
    """Reserving KV for the steps ahead never preempts; with the pool full it runs fewer steps at once."""
    groups = lambda: [seqs_for(list(range(i, i + 9)), SAMPLED, n=2, request=f"q{i}") for i in range(4)]  # noqa: E731
    roomy = run(Engine(model, max_slots=8, max_len=64), groups())
    tight = Engine(model, max_slots=8, max_len=64, kv_tokens=6 * 16, block_size=16, decode_steps=4, overlap=overlap)
    preempted, ahead = [], []
    original, reserve_ahead = tight.scheduler.preempt, tight.scheduler.reserve_ahead
    tight.scheduler.preempt = lambda seq: (preempted.append(seq.sample_id), original(seq))[1]

    def spying_reserve_ahead(seqs, extra):
        steps = reserve_ahead(seqs, extra)
        ahead.append((extra + 1, steps))
        return steps

    tight.scheduler.reserve_ahead = spying_reserve_ahead
    assert run(tight, groups()) == roomy
    assert preempted, "the pool was meant to be too small for all samples at once"
    assert any(got < wanted for wanted, got in ahead), "some step should have found too few free blocks"
    assert any(got == 4 for _, got in ahead)


@pytest.mark.parametrize("overlap", [False, True], ids=["serial", "overlapped"])
def test_out_of_memory_in_the_middle_of_the_steps_recomputes(model, overlap):
    expected = run(Engine(model, max_slots=8, max_len=64), [seqs_for([1, 2, 3, 4], SAMPLED, n=6)])
    engine = Engine(model, max_slots=8, max_len=64, decode_steps=4, overlap=overlap)
    real_step, calls = model.step, []

    def flaky_step(tokens, cache, slots):
        calls.append(tokens.shape[0])
        if tokens.shape[0] > 3 and len(calls) % 4 == 3:  # the third step of a chunk
            raise torch.OutOfMemoryError("simulated")
        return real_step(tokens, cache, slots)

    engine.model = type("Flaky", (), {"step": staticmethod(flaky_step), "prefill": model.prefill})()
    assert run(engine, [seqs_for([1, 2, 3, 4], SAMPLED, n=6)]) == expected
    assert engine.scheduler.max_running <= 3


def test_decode_steps_must_be_positive(model):
    with pytest.raises(ValueError, match="decode_steps"):
        Engine(model, max_slots=2, max_len=32, decode_steps=0)


@pytest.mark.parametrize("decode_steps", [1, 3, 4])
def test_appends_fed_through_decode_steps_give_the_tokens_of_a_prefill(model, decode_steps):
    """feed_appends: short appends to decoding samples go through decode steps, one token per step, instead of a
    prefill call; every sample's tokens, finish reason, log-probabilities and confidence stay the same."""
    fed = Workload(model, decode_steps, feed_appends=16)  # 9 appended tokens take several multi-step calls
    real_fed_inputs, multi_step_feeds = fed.engine.runner._fed_inputs, []
    fed.engine.runner._fed_inputs = lambda seqs, steps: (multi_step_feeds.append(steps - 1),
                                                         real_fed_inputs(seqs, steps))[1]
    results, _ = fed.run()
    # fed rows run several decode steps per engine step too
    assert (max(multi_step_feeds, default=1) > 1) == (decode_steps > 1)
    assert set(fed.fired) == set(fed.actions), "every action of the script should have happened"
    prefilled = Workload(model, 1, fire_at=fed.fired)  # one step at a time, appends prefilled
    reference, _ = prefilled.run()
    assert prefilled.fired == fed.fired
    same_results(results, reference)
    prefill_calls = lambda w: len(w.engine.timings.prefill)  # noqa: E731
    assert prefill_calls(fed) < prefill_calls(prefilled), "some append should have been fed, not prefilled"


def test_while_a_sample_is_fed_its_append_the_others_keep_decoding(model):
    engine = Engine(model, max_slots=4, max_len=64, feed_appends=8)
    params = SamplingParams(temperature=1.0, seed=5, max_new_tokens=30, ignore_eos=True)
    fed, other = seqs_for([1, 2, 3], params, n=2)
    engine.add([fed, other])
    for _ in range(3):
        engine.step()
    prefills, before = len(engine.timings.prefill), len(fed.tokens)
    engine.append(fed, [40, 41, 42, 43, 44])
    assert fed.feeding
    for _ in range(5):  # the appended tokens go in one per step, beside the other sample's decoding
        out = engine.step()
        assert [seq for seq, _ in out.tokens] == [other]
    out = engine.step()  # the last appended token in: the fed sample samples again
    assert {seq for seq, _ in out.tokens} == {fed, other} and not fed.feeding
    assert len(engine.timings.prefill) == prefills and fed.tokens[before:before + 5] == [40, 41, 42, 43, 44]


def test_long_appends_and_appends_to_waiting_samples_are_still_prefilled(model):
    engine = Engine(model, max_slots=4, max_len=64, feed_appends=2)
    params = SamplingParams(temperature=1.0, seed=5, max_new_tokens=30, ignore_eos=True)
    [seq] = seqs_for([1, 2, 3], params, n=1)
    engine.add([seq])
    engine.step()
    engine.append(seq, [40, 41, 42])  # longer than feed_appends
    assert not seq.feeding
    with pytest.raises(ValueError, match="feed_appends"):
        Engine(model, max_slots=4, max_len=64, feed_appends=-1)


@pytest.mark.parametrize("decode_steps", [1, 4])
@pytest.mark.parametrize("feed_appends", [0, 16])
def test_overlapped_groups_give_the_tokens_of_one_step_at_a_time(model, decode_steps, feed_appends):
    """overlap: each engine step launches the next group of decode steps before reading the last one back (on a
    GPU the host's work then hides behind the device's). Rows that end, are cancelled, appended to or forked while a
    group runs ahead keep none of its tokens and recompute their state if they go on: the tokens, finish reasons,
    log-probabilities and confidence stay those of one step at a time."""
    overlapped = Workload(model, decode_steps, feed_appends=feed_appends, overlap=True)
    launched, real_launch = [], overlapped.engine._launch_next
    def launch_next(rows, in_flight):
        group = real_launch(rows, in_flight)
        launched.append(group is not None)
        return group

    overlapped.engine._launch_next = launch_next
    results, _ = overlapped.run()
    assert sum(launched) >= 3, "groups should have been launched ahead"
    assert set(overlapped.fired) == set(overlapped.actions), "every action of the script should have happened"
    single = Workload(model, 1, fire_at=overlapped.fired, feed_appends=feed_appends)
    reference, _ = single.run()
    same_results(results, reference)


def test_a_group_runs_ahead_while_the_host_reads_the_last(model):
    """With overlap, after the first decode step every engine step finds the group it reads back already
    launched, and leaves the next one on the device: one group ahead, never more."""
    engine = Engine(model, max_slots=4, max_len=64, decode_steps=4, overlap=True)
    params = SamplingParams(temperature=1.0, seed=3, max_new_tokens=21, ignore_eos=True)
    seqs = seqs_for([1, 2, 3], params, n=2)
    engine.add(seqs)
    engine.step()  # prefill: the first token
    ahead = []
    while engine.has_work():
        out = engine.step()
        ahead.append(None if engine._ahead is None else engine._ahead.steps)
        assert all(len({t for s, t in out.tokens if s is seq}) <= 4 for seq in seqs)
    # 20 tokens after the first: 5 groups of 4. The first step launches one and leaves it; each later step
    # launches the next, then reads back the one before; the last reads the fifth, with none left to launch.
    assert ahead == [4, 4, 4, 4, 4, None], ahead
    assert all(s.num_generated == 21 and s.finish_reason == "length" for s in seqs)


def test_a_group_launched_ahead_stops_short_of_the_nearest_deadline(model, monkeypatch):
    """With overlap, the group launched ahead counts the steps still in flight before it: together they take no
    more steps than fit before a row's deadline; none when the ones in flight already reach it."""
    import m1reason.engine.engine as engine_module

    now = [100.0]
    monkeypatch.setattr(engine_module.time, "monotonic", lambda: now[0])
    # the engine's own timings of the groups then take no time: the entries appended below are the latest
    monkeypatch.setattr(engine_module.time, "perf_counter", lambda: now[0])
    engine = Engine(model, max_slots=4, max_len=64, decode_steps=4, overlap=True)
    free = seqs_for([1, 2, 3], SamplingParams(temperature=0, max_new_tokens=40, ignore_eos=True), n=2)
    engine.add(free)
    engine.step()  # prefill and the first token
    engine.step()  # launches a group of 4 and leaves it on the device
    assert engine._ahead.steps == 4
    free[1].deadline_at = now[0] + 0.065  # 6.5 steps away at 10 ms a step: 4 in flight, 2 more fit
    engine.timings.decode.append((2, 4.0, 0.010))
    assert len(engine.step().tokens) == 2 * 4 and engine._ahead.steps == 2
    now[0] += 0.040  # the 4 steps read back took their 40 ms: the deadline is 2.5 steps away, 2 in flight
    engine.timings.decode.append((2, 8.0, 0.010))
    assert len(engine.step().tokens) == 2 * 2 and engine._ahead is None


def test_a_deadline_that_passes_during_a_prefill_ends_the_sample_before_the_decode(model, monkeypatch):
    """Under load one step's prefill can take a second: a sample whose deadline passed meanwhile ends at once
    ("deadline", no token more), not after that step's decode too; the prompt prefilled still gets its token."""
    import m1reason.engine.engine as engine_module

    now = [100.0]
    monkeypatch.setattr(engine_module.time, "monotonic", lambda: now[0])
    engine = Engine(model, max_slots=4, max_len=64)
    timed = seqs_for([1, 2, 3], SamplingParams(temperature=0, max_new_tokens=40, ignore_eos=True), request="t")
    engine.add(timed)
    engine.step()
    timed[0].deadline_at = now[0] + 0.5
    tokens_before = len(timed[0].tokens)
    real_prefill = engine.runner.prefill

    def slow_prefill(*args, **kwargs):
        now[0] += 1.0  # the deadline passes while the newcomer's prompt is prefilled
        return real_prefill(*args, **kwargs)

    monkeypatch.setattr(engine.runner, "prefill", slow_prefill)
    newcomer = seqs_for([4, 5, 6, 7], SamplingParams(temperature=0, max_new_tokens=8, ignore_eos=True), request="n")
    engine.add(newcomer)
    out = engine.step()
    assert timed[0].finish_reason == "deadline" and timed[0] in out.finished
    assert len(timed[0].tokens) == tokens_before
    assert len(newcomer[0].tokens) == 5 and newcomer[0].is_live
