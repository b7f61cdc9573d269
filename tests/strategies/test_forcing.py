"""Hedged forcing at the deadline: with fork, the answer is forced out of a copy and the sample may still finish
its own chain; its own answer votes when it reaches one, the copy's forced answer when it does not."""

import time

import pytest

from m1reason.defaults import ByteTokenizer
from m1reason.errors import CapacityError
from m1reason.generator.fake import FakeCompletion
from strategies import SelfConsistency
from strategies._runner import run_samples
from strategies.solution import Plan

THINKING = "Let me think about it. " * 4
FORCED = "8}$."  # what a forced copy writes after the answer prefix


def solve_forced_at_once(gen, n=1, force_at=0.0):
    """Run n samples with the deadline forcing due ``force_at`` seconds in (0: at the first token); no budget, so
    nothing is cut by time. Forcing reaches the samples that have started by then."""
    plan = Plan(strategy="test", n=n, max_new_tokens=500, reason="forcing test")
    return run_samples(SelfConsistency(n=n, seed=0), "?", gen, plan, started=time.monotonic(), budget_s=None,
                       force_at=force_at)


def test_the_sample_that_finishes_its_own_chain_votes_its_own_answer(spy):
    gen = spy(lambda request, i: FakeCompletion(THINKING + "</think> so $\\boxed{7}$", after_append=FORCED))
    sol = solve_forced_at_once(gen)
    [(copy_id, forced, _)] = gen.appends
    assert copy_id != sol.samples[0].sample_id  # the copy was forced, not the sample
    assert forced.startswith("\n</think>")
    assert sol.answer == "7" and sol.samples[0].forced == [] and len(sol.samples) == 1
    assert sol.stopped == "forced"


def test_a_sample_that_never_answers_votes_its_forced_copy(spy):
    gen = spy(lambda request, i: FakeCompletion(THINKING + " still thinking", after_append=FORCED))
    sol = solve_forced_at_once(gen)
    [record] = sol.samples
    assert sol.answer == "8" and record.forced and record.sample_id == gen.appends[0][0]


def test_an_answer_of_its_own_ends_the_copy(spy):
    slow_forced = FakeCompletion("hmm " * 40 + FORCED)
    gen = spy(lambda request, i: FakeCompletion("</think> $\\boxed{7}$", after_append=slow_forced))
    sol = solve_forced_at_once(gen)
    assert sol.answer == "7" and gen.cancels == [gen.appends[0][0]]


def test_every_sample_is_hedged_and_votes_once(spy):
    scripts = [THINKING + "</think> $\\boxed{7}$", THINKING + " no answer", "so </think> $\\boxed{7}$"]
    gen = spy(lambda request, i: FakeCompletion(scripts[i], after_append=FORCED), real_time=True, step_s=0.002)
    sol = solve_forced_at_once(gen, n=3, force_at=0.02)  # <= 11 steps in: all three are thinking
    assert len(sol.samples) == 3 and sorted(r.answer for r in sol.samples) == ["7", "7", "8"]
    assert sol.answer == "7" and len(gen.appends) == 3


def test_without_fork_the_sample_itself_is_forced(spy):
    gen = spy(lambda request, i: FakeCompletion(THINKING + "</think> so $\\boxed{7}$", after_append=FORCED),
              capabilities={"stream", "cancel", "append"})
    sol = solve_forced_at_once(gen)
    assert sol.answer == "8" and gen.appends[0][0] == sol.samples[0].sample_id


def test_no_slot_for_a_copy_falls_back_to_forcing_the_sample(spy):
    class Full(spy):
        def fork(self, sample_id, n=1, sampling=None):
            raise CapacityError("fork needs 1 slots, 0 free")

    gen = Full(lambda request, i: FakeCompletion(THINKING + "</think> so $\\boxed{7}$", after_append=FORCED))
    sol = solve_forced_at_once(gen)
    assert sol.answer == "8" and gen.appends[0][0] == sol.samples[0].sample_id


@pytest.mark.parametrize("budget_s", [0.6])
def test_hedged_forcing_keeps_the_deadline(spy, budget_s):
    gen = spy(lambda request, i: FakeCompletion(THINKING * 20, after_append=FORCED), real_time=True, step_s=0.005)
    started = time.monotonic()
    sol = SelfConsistency(n=2, seed=0).run("?", gen, budget_s=budget_s)
    assert time.monotonic() - started < budget_s + 0.5
    assert sol.answer == "8" and all(r.forced for r in sol.samples) and len(sol.samples) == 2


def test_forced_text_goes_as_token_ids_encoded_once_per_tokenizer(spy):
    """Every live sample is forced while the generator's steps are held off: the tokenizer runs once for the
    forcing text, not once per sample inside that hold."""
    calls = []

    class CountingBytes(ByteTokenizer):
        def __call__(self, text, add_special_tokens=True):
            calls.append(text)
            return super().__call__(text, add_special_tokens)

    gen = spy(lambda request, i: FakeCompletion(THINKING + " still thinking", after_append=FORCED),
              real_time=True, step_s=0.002)
    gen.tokenizer = CountingBytes()
    sol = solve_forced_at_once(gen, n=3, force_at=0.02)
    sent = [forced for _, forced, _ in gen.appends]
    assert len(sent) == 3 and all(ids == list(sol.samples[0].forced[0].encode()) for ids in sent)
    assert calls.count(sol.samples[0].forced[0]) == 1
    assert sol.answer == "8"
