"""A Solution says why it has no answer: "no_turn" when its samples never got a turn before the deadline,
"no_answer" (with how its samples ended) when they ran and none answered; never success without an answer."""

import pytest
from pydantic import ValidationError

from m1reason.generator import GenerationResult, Sample
from m1reason.generator.fake import FakeCompletion, FakeGenerator
from strategies import LongCoT, Plan, SelfConsistency, Solution

PLAN = Plan(strategy="LongCoT", n=1, max_new_tokens=8, reason="test")


def test_a_solution_without_an_answer_is_never_answered():
    bare = Solution(problem="p", answer=None, confidence=0, plan=PLAN)
    assert (bare.status, bare.status_reason) == ("no_answer", "no sample reached an answer")
    with pytest.raises(ValidationError, match="'answered' exactly when it has an answer"):
        Solution(problem="p", answer=None, status="answered", confidence=0, plan=PLAN)
    with pytest.raises(ValidationError, match="'answered' exactly when it has an answer"):
        Solution(problem="p", answer="4", status="no_turn", status_reason="waited", confidence=1, plan=PLAN)
    with pytest.raises(ValidationError, match="needs a status_reason"):
        Solution(problem="p", answer=None, status="no_turn", confidence=0, plan=PLAN)
    waited = Solution(problem="p", answer=None, status="no_turn", status_reason="waited 2.8 s", confidence=0,
                      plan=PLAN)
    assert Solution.model_validate_json(waited.model_dump_json()) == waited
    assert waited.model_dump(mode="json")["status_reason"] == "waited 2.8 s"


class NeverScheduled:
    """A generator whose samples all reach their deadline before a first token, as behind a full engine."""

    capabilities = frozenset()

    def generate(self, requests):
        return [GenerationResult(request_id=r.request_id, samples=[
            Sample(sample_id=f"{r.request_id}/{i}", token_ids=[], finish_reason="deadline")
            for i in range(r.sampling.n)]) for r in requests]


def test_samples_that_never_got_a_turn_make_a_no_turn_solution():
    sol = SelfConsistency(n=3).run("2 + 2?", NeverScheduled(), budget_s=2.0)
    assert sol.answer is None and sol.status == "no_turn"
    assert sol.status_reason.startswith("no answer within the budget: waited ")
    assert sol.status_reason.endswith(" s for a turn")


def test_samples_that_ran_without_answering_say_how_they_ended():
    fake = FakeGenerator(lambda request, i: FakeCompletion("still thinking", finish_reason="length"))
    sol = SelfConsistency(n=2, force_answers=False).run("2 + 2?", fake)
    assert sol.status == "no_answer"
    assert sol.status_reason == "no sample reached an answer (2 cut by the length limit)"


def test_an_answer_is_answered():
    sol = LongCoT().run("2 + 2?", FakeGenerator(lambda request, i: "</think> \\boxed{4}"))
    assert (sol.answer, sol.status, sol.status_reason) == ("4", "answered", None)
