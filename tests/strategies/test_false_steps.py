"""A sample whose reasoning writes false arithmetic does not vote; when every sample that answered has a false
step they all vote, and the answer says it is not to be trusted and is never shown as confident."""

import itertools
import json

import pytest
from pydantic import ValidationError

from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.vote_curve import checked_voters
from strategies import LongCoT, Plan, SelfConsistency, Solution
from strategies.solution import CAVEAT_CONFIDENCE

RIGHT = "12 * 9 = 108, so the product is 108. </think> $\\boxed{108}$"
WRONG = "12 * 9 = 128, so the product is 128. </think> $\\boxed{128}$"
WRONG_STEP = "line 1: 12 * 9 = 128 is false (12 * 9 = 108)"

# A word problem: no expression to check its answers against, so only their steps are checked
STORY = "How many eggs are in 12 boxes of 9?"


def scripted(texts):
    return FakeGenerator(lambda request, i: FakeCompletion(texts[i], steps=i + 1))


def test_a_false_step_sample_does_not_vote_and_the_majority_changes():
    texts = [WRONG, RIGHT, WRONG, RIGHT, WRONG]
    sol = SelfConsistency(n=5, early_stop="none").run(STORY, scripted(texts))
    assert sol.answer == "108"  # 3 votes to 2 for 128 without the check
    assert [(v.answer, v.count) for v in sol.votes] == [("108", 2)]
    assert sol.confidence == 1.0  # the share among the samples that voted
    assert (sol.status, sol.status_reason) == ("answered", None)
    assert [s.counted for s in sol.samples] == [False, True, False, True, False]
    assert [s.false_steps for s in sol.samples] == [[WRONG_STEP], [], [WRONG_STEP], [], [WRONG_STEP]]
    assert [s.steps_checked for s in sol.samples] == [1] * 5
    assert [s.answer for s in sol.samples] == ["128", "108", "128", "108", "128"]  # still recorded
    assert sol.winner.text == RIGHT


def test_when_every_answering_sample_has_a_false_step_they_vote_with_a_caveat():
    texts = [WRONG, WRONG, WRONG.replace("128", "118"), "I am not sure, 2 + 2 = 4."]
    sol = SelfConsistency(n=4, early_stop="none").run(STORY, scripted(texts))
    assert sol.answer == "128" and sol.status == "answered"
    assert sol.status_reason == f"every sample's arithmetic has a false step, e.g. {WRONG_STEP}"
    assert sol.confidence == CAVEAT_CONFIDENCE == 0.5  # 2 of 4 would be 0.5 too; see the next test
    assert [s.counted for s in sol.samples] == [True, True, True, True]
    assert sol.samples[3].false_steps == [] and sol.samples[3].steps_checked == 1
    assert sol.headline.startswith("answer: 128 (not trusted: every sample's arithmetic has a false step")
    assert "every sample's arithmetic" in repr(sol)


def test_the_caveat_caps_a_unanimous_vote():
    sol = SelfConsistency(n=3, early_stop="none").run(STORY, scripted([WRONG] * 3))
    assert sol.answer == "128" and sol.confidence == 0.5  # 3 of 3 agree, and all wrote 12 * 9 = 128
    assert sol.status_reason.endswith(WRONG_STEP)


def test_long_cot_reports_its_step_check():
    sol = LongCoT().run(STORY, scripted([WRONG]))
    assert sol.answer == "128" and sol.confidence == 0.5
    assert sol.status_reason == f"every sample's arithmetic has a false step, e.g. {WRONG_STEP}"
    assert sol.samples[0].false_steps == [WRONG_STEP] and sol.samples[0].counted
    right = LongCoT().run(STORY, scripted([RIGHT]))
    assert (right.answer, right.confidence, right.status_reason) == ("108", 1.0, None)
    assert right.samples[0].steps_checked == 1 and right.samples[0].false_steps == []


def test_a_forced_answer_is_checked_with_the_rest_of_its_text():
    prefix = "\n\nThe final answer is $\\boxed{"

    def handler(request, i):  # no append: the strategy re-prompts with the cut text and the answer prefix
        return "128}$ since 12 * 9 = 128" if request.prompt.endswith(prefix) else "Let me think. " * 10

    fake = FakeGenerator(handler, capabilities={"stream", "cancel"})
    sol = LongCoT(max_new_tokens=30, force_tokens=40).run(STORY, fake)
    [sample] = sol.samples
    assert sample.answer == "128" and sample.forced and sample.false_steps
    assert sol.status_reason.startswith("every sample's arithmetic has a false step")


def test_cancelled_samples_are_not_checked():
    steps = [1, 2, 3, 50, 50]
    fake = FakeGenerator(lambda request, i: FakeCompletion(RIGHT, steps=steps[i]))
    sol = SelfConsistency(n=5).run(STORY, fake)
    cancelled = [s for s in sol.samples if s.finish_reason == "cancelled"]
    assert sol.stopped == "settled" and cancelled
    assert all(s.steps_checked == 0 and s.false_steps == [] for s in cancelled)


def test_false_steps_round_trip_through_json():
    texts = [WRONG, RIGHT, WRONG]
    sol = SelfConsistency(n=3, early_stop="none").run(STORY, scripted(texts))
    assert Solution.model_validate_json(sol.model_dump_json()) == sol
    data = json.loads(sol.model_dump_json())
    assert data["samples"][0]["false_steps"] == [WRONG_STEP] and data["samples"][0]["steps_checked"] == 1
    doubted = SelfConsistency(n=2, early_stop="none").run(STORY, scripted([WRONG] * 2))
    assert Solution.model_validate_json(doubted.model_dump_json()) == doubted
    for sample in data["samples"]:  # a record written before the check existed still reads
        del sample["false_steps"], sample["steps_checked"]
    old = Solution.model_validate(data)
    assert old.samples[0].false_steps == [] and old.samples[0].steps_checked == 0


def test_an_answer_with_a_caveat_is_never_confident():
    plan = Plan(strategy="LongCoT", n=1, max_new_tokens=8, reason="test")
    with pytest.raises(ValidationError, match="never confident"):
        Solution(problem="p", answer="4", confidence=0.9, plan=plan, status_reason="every sample ... false step")
    assert Solution(problem="p", answer="4", confidence=0.9, plan=plan).status_reason is None


@pytest.mark.parametrize("pattern", list(itertools.product(range(4), repeat=3)))
def test_the_vote_curve_sets_aside_the_samples_self_consistency_sets_aside(pattern):
    # the vote curve (BudgetAware's cap) must describe the vote SelfConsistency holds, on every mix of samples
    kinds = [(RIGHT, "108", True), (WRONG, "128", False), ("12 * 9 = 108, thinking", None, True),
             ("12 * 9 = 128, thinking", None, False)]
    texts, answers, steps_ok = zip(*(kinds[i] for i in pattern))
    sol = SelfConsistency(n=3, early_stop="none").run(STORY, scripted(list(texts)))
    voted = [s.counted and s.answer is not None for s in sol.samples]
    expected = [v and a is not None for v, a in zip(checked_voters(list(answers), list(steps_ok)), answers)]
    assert voted == expected
