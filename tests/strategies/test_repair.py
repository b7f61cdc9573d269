"""``repair_steps``: a sample kept out of the vote by a false arithmetic step is continued from its text up to that
step, corrected, and votes if its new text holds; never more rounds than asked, never after the budget, and a
continuation that reaches no answer leaves the old record."""

import time

import strategies
from m1reason.generator.fake import FakeCompletion, FakeGenerator

# Word problems: they state no value to check their answers against, so only their steps are
SPIDERS = "How many legs do 7 spiders have, at 8 each?"
BOARD = "How many squares are on a 9 by 9 board?"


def scripted(first: str, continued: str, calls: list):
    def handler(request, i):
        calls.append(request.prompt)
        return FakeCompletion(continued if request.prompt.endswith(("= 56", "= 81")) else first)
    return FakeGenerator(handler)


def test_a_false_step_is_corrected_continued_and_the_sample_votes():
    calls = []
    fake = scripted("7 * 8 = 54\n</think> \\boxed{54}", "\n</think> \\boxed{56}", calls)
    plain = strategies.SelfConsistency(n=2, early_stop="none").run(SPIDERS, fake)
    assert plain.answer == "54"  # every sample wrote a false step: they vote, under a caveat
    assert plain.status_reason.startswith("every sample's arithmetic has a false step")
    calls.clear()
    fixed = strategies.SelfConsistency(n=2, early_stop="none", repair_steps=1).run(SPIDERS, fake)
    assert (fixed.answer, fixed.status_reason, [v.count for v in fixed.votes]) == ("56", None, [2])
    assert [s.repaired for s in fixed.samples] == [["line 1: 7 * 8 = 54 corrected to 56"]] * 2
    assert all(s.counted and not s.false_steps and "7 * 8 = 56" in s.text for s in fixed.samples)
    assert len(calls) == 4 and calls[-1].endswith("7 * 8 = 56")  # two samples, then one continuation each


def test_a_sample_that_keeps_erring_is_repaired_at_most_repair_steps_times():
    calls = []
    fake = scripted("9 * 9 = 80\n</think> \\boxed{80}", "\n9 * 9 = 80\n</think> \\boxed{80}", calls)
    sol = strategies.SelfConsistency(n=1, early_stop="none", repair_steps=3).run(BOARD, fake)
    [sample] = sol.samples
    assert len(calls) == 4 and len(sample.repaired) == 3  # the sample, then three continuations
    assert sample.false_steps and sol.status_reason.startswith("every sample's arithmetic")  # voting, caveated


def test_a_continuation_without_an_answer_keeps_the_old_record():
    calls = []
    fake = scripted("7 * 8 = 54\n</think> \\boxed{54}", " and so on", calls)
    sol = strategies.SelfConsistency(n=1, early_stop="none", repair_steps=2).run(SPIDERS, fake)
    assert sol.samples[0].text == "7 * 8 = 54\n</think> \\boxed{54}" and sol.samples[0].repaired == []
    assert len(calls) == 3  # each round tried again from the same false step


def test_no_repair_once_the_budget_is_spent():
    calls = []

    def slow(request, i):
        calls.append(request.prompt)
        time.sleep(0.3)
        return FakeCompletion("7 * 8 = 54\n</think> \\boxed{54}")

    sol = strategies.SelfConsistency(n=1, early_stop="none", repair_steps=2).run(SPIDERS, FakeGenerator(slow),
                                                                                  budget_s=0.2)
    assert len(calls) == 1 and sol.samples[0].repaired == []
