"""LongCoT: budget forcing appends the right text to the live sample when length or time runs out; "Wait"."""

import time

from m1reason.generator.fake import FakeCompletion, FakeGenerator
from strategies import LongCoT, SelfConsistency

PREFIX = "\n\nThe final answer is $\\boxed{"
THINKING = "Let me think. " * 50


def test_length_out_inside_thinking_appends_think_end_and_answer_prefix(spy):
    gen = spy(lambda request, i: FakeCompletion(THINKING, after_append="42}$. Done."))
    sol = LongCoT(max_new_tokens=30, force_tokens=16).run("6 * 7?", gen)
    [(sample_id, forced, sampling)] = gen.appends
    assert forced == "\n</think>" + PREFIX
    assert sampling.max_new_tokens == 30 + len(forced) + 16  # the live sample gets room to write the answer
    assert sol.answer == "42" and sol.samples[0].forced == [forced]
    assert sol.samples[0].text == THINKING[:30] + forced + "42}$. Done."
    assert sol.plan.n == 1 and sol.plan.max_new_tokens == 30


def test_length_out_after_think_end_appends_only_the_prefix(spy):
    gen = spy(lambda request, i: FakeCompletion("done </think> the result is big", after_append="7}$"))
    sol = LongCoT(max_new_tokens=20).run("?", gen)
    assert [a[1] for a in gen.appends] == [PREFIX] and sol.answer == "7"


def test_no_forcing_when_an_answer_is_already_there(spy):
    gen = spy(lambda request, i: "x </think> $\\boxed{5}$ and then some more words")
    sol = LongCoT(max_new_tokens=25).run("?", gen)
    assert not gen.appends and sol.answer == "5" and sol.samples[0].finish_reason == "length"


def test_forced_once_only(spy):
    gen = spy(lambda request, i: FakeCompletion(THINKING, after_append="still thinking " * 10))
    sol = LongCoT(max_new_tokens=30, force_tokens=8).run("?", gen)
    assert len(gen.appends) == 1 and sol.answer is None and sol.samples[0].finish_reason == "length"


def test_wait_when_the_chain_stops_too_early(spy):
    gen = spy(lambda request, i: FakeCompletion("</think> $\\boxed{3}$", after_append=" no: </think> $\\boxed{4}$"))
    sol = LongCoT(min_tokens=100, max_waits=1).run("?", gen)
    assert [a[1] for a in gen.appends] == ["\nWait"] and sol.answer == "4"
    assert sol.samples[0].forced == ["\nWait"]
    assert not spy(lambda r, i: "</think> $\\boxed{3}$").appends  # off by default
    assert LongCoT().run("?", spy(lambda r, i: "</think> $\\boxed{3}$")).samples[0].forced == []


def test_without_append_it_reprompts_with_the_partial_text(spy):
    def handler(request, i):
        return "42}$" if request.prompt.endswith(PREFIX) else THINKING

    gen = spy(handler, capabilities={"stream", "cancel"})
    sol = LongCoT(max_new_tokens=30).run("6 * 7?", gen)
    assert not gen.appends and len(gen.requests) == 2
    assert gen.requests[1].prompt.endswith(THINKING[:30] + "\n</think>" + PREFIX)
    assert sol.answer == "42" and sol.samples[0].forced == ["\n</think>" + PREFIX]


def test_a_reprompt_ends_at_the_samples_end_as_they_do(spy):
    def handler(request, i):
        return "42}$" if request.prompt.endswith(PREFIX) else THINKING * 10

    gen = spy(handler, capabilities={"stream", "cancel"}, real_time=True, step_s=0.005)
    started = time.monotonic()
    sol = LongCoT(max_new_tokens=30).run("6 * 7?", gen, budget_s=3.0)  # cut by length, then prompted again
    assert len(gen.requests) == 2 and sol.answer == "42" and time.monotonic() - started < 3.0 + 0.5
    first, reprompt = gen.requests
    assert reprompt.deadline is not None and 0 < reprompt.deadline < first.deadline <= 3.0


def test_budget_forces_the_answer_out_before_the_deadline(spy):
    gen = spy(lambda request, i: FakeCompletion(THINKING * 10, after_append="8}$"),
              real_time=True, step_s=0.005)
    started = time.monotonic()
    sol = LongCoT().run("?", gen, budget_s=1.0)
    elapsed = time.monotonic() - started
    assert sol.answer == "8" and sol.stopped == "forced" and elapsed < 1.0 + 0.5
    assert gen.requests[0].deadline is not None and gen.requests[0].deadline <= 1.0
    assert gen.appends[0][1] == "\n</think>" + PREFIX


def test_deadline_without_append_keeps_partial_text(spy):
    gen = spy(lambda request, i: "so far \\boxed{5} maybe " * 50,
              capabilities={"stream", "cancel"}, real_time=True, step_s=0.005)
    started = time.monotonic()
    sol = SelfConsistency(n=2).run("?", gen, budget_s=0.5)
    assert time.monotonic() - started < 0.5 + 0.5
    assert {s.finish_reason for s in sol.samples} == {"deadline"} and sol.answer == "5"


def test_fake_generator_has_append(spy):
    assert "append" in FakeGenerator(lambda r, i: "").capabilities
