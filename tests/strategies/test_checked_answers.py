"""A problem that only asks for one expression's value checks every answer against it: a false answer never votes
(not even when nothing else answered), a right one is reported as checked, and a run with only false answers says
so instead of answering."""

from __future__ import annotations

import pytest

from m1reason.generator.fake import FakeCompletion, FakeGenerator
from strategies import BudgetAware, LongCoT, SelfConsistency
from strategies.solution import CHECKED_CONFIDENCE

PROBLEM = "What is 3 + 50 * 2?"


def scripted(answers: list[str], steps: str = "50 * 2 = 100, 3 + 100 = 103") -> FakeGenerator:
    return FakeGenerator(lambda request, i: FakeCompletion(f"{steps} </think> $\\boxed{{{answers[i % len(answers)]}}}$",
                                                           steps=i + 1))


def test_false_answers_do_not_vote_and_the_right_minority_wins():
    sol = SelfConsistency(n=5, early_stop="none").run(PROBLEM, scripted(["13", "13", "103", "13", "106"]))
    assert sol.answer == "103" and sol.status == "answered" and sol.status_reason is None
    assert sol.confidence >= CHECKED_CONFIDENCE and sol.confidence_basis.startswith("checked: the answer is the "
                                                                                     "exact value of 3 + 50 * 2")
    assert [s.answer_checked for s in sol.samples] == [False, False, True, False, False]
    assert [s.counted for s in sol.samples] == [False, False, True, False, False]
    assert sol.samples[0].false_steps == ["the answer 13 is false (3 + 50 * 2 = 103)"]


def test_when_every_answer_is_false_there_is_no_answer_and_the_reason_says_why():
    sol = SelfConsistency(n=4, early_stop="none").run(PROBLEM, scripted(["13", "13", "53", "13"]))
    assert sol.answer is None and sol.status == "no_answer" and sol.confidence == 0
    assert sol.status_reason == ("no sample's answer is right: every answer given (13, 53) is false "
                                 "(3 + 50 * 2 = 103)")


def test_a_false_answer_is_never_readmitted_with_the_false_step_samples():
    # one right answer written after a false step, three false answers with true steps: the right one votes
    texts = ["3 + 50 = 53, 53 * 2 = 106 </think> $\\boxed{106}$", "50 * 2 = 90, so 103 </think> $\\boxed{103}$"]
    fake = FakeGenerator(lambda request, i: FakeCompletion(texts[i], steps=i + 1))
    sol = SelfConsistency(n=2, early_stop="none").run(PROBLEM, fake)
    assert sol.answer == "103" and sol.status_reason is None and sol.confidence >= CHECKED_CONFIDENCE
    assert sol.samples[1].false_steps == ["line 1: 50 * 2 = 90 is false (50 * 2 = 100)"]
    assert not sol.samples[0].counted


def test_early_stopping_never_settles_on_false_answers():
    for rule in ("unbeatable", "beta", "first_m"):
        sol = SelfConsistency(n=6, early_stop=rule, m=2).run(PROBLEM, scripted(["13"] * 5 + ["103"]))
        assert sol.answer == "103" and sol.stopped == "finished", rule


def test_off_it_votes_as_before_and_a_word_problem_is_not_checked():
    sol = SelfConsistency(n=3, early_stop="none", check_answers=False).run(PROBLEM, scripted(["13", "13", "103"]))
    assert sol.answer == "13" and {s.answer_checked for s in sol.samples} == {None}
    story = LongCoT().run("Sam has 3 bags of 50 and 2 more. How many?", scripted(["152"]))
    assert story.answer == "152" and story.samples[0].answer_checked is None
    assert not story.confidence_basis.startswith("checked")


@pytest.mark.parametrize("strategy", [LongCoT(), SelfConsistency(n=3), BudgetAware()])
def test_every_strategy_checks(strategy):
    sol = strategy.run(PROBLEM, scripted(["103", "13", "103"] * 20), budget_s=30)
    assert sol.answer == "103" and sol.samples[0].answer_checked is True


def test_budget_aware_plans_past_the_vote_curve_only_where_answers_are_checked(spy):
    planner = BudgetAware(useful_samples=1, needed_tokens=8, max_new_tokens=256)
    checked = planner.run(PROBLEM, spy(lambda request, i: "50 * 2 = 100 </think> $\\boxed{103}$"), budget_s=30)
    story = planner.run("Sam has 3 bags of 50 and 2 more. How many?",
                        spy(lambda request, i: "</think> $\\boxed{152}$"), budget_s=30)
    assert story.plan.n == 1 and "vote curve" in story.plan.reason
    assert checked.plan.n > 1 and checked.answer == "103"


def test_an_equation_checks_its_answers_by_its_one_solution():
    equation = "Solve for x: 3x + 7 = 22."
    sol = SelfConsistency(n=4, early_stop="none").run(equation, scripted(["x = 6", "6", "x = 5", "6"], steps="x = 5"))
    assert sol.answer == "x = 5" and sol.confidence >= CHECKED_CONFIDENCE
    assert sol.confidence_basis.startswith("checked: the answer is the one solution of 3x + 7 = 22")
    assert sol.samples[0].false_steps == ["the answer x = 6 is false (3x + 7 = 22 holds for x = 5)"]
    none_right = SelfConsistency(n=2, early_stop="none").run(equation, scripted(["6", "4"], steps="x = 5"))
    assert none_right.status == "no_answer" and none_right.status_reason.endswith("(3x + 7 = 22 holds for x = 5)")


@pytest.mark.parametrize("strategy", [SelfConsistency(n=2, early_stop="none"), LongCoT(), BudgetAware()])
def test_a_problem_over_several_lines_is_solved_and_checked(strategy):
    """A pasted exercise keeps its line breaks: every strategy reads it (it once raised a TypeError in the reader
    of worded operations) and still checks its answer."""
    sol = strategy.run("Work out the following.\n\n3 + 50 * 2", scripted(["103"]), budget_s=5)
    assert sol.answer == "103" and sol.status == "answered" and sol.confidence >= CHECKED_CONFIDENCE
