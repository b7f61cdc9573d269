"""A problem outside the generator's scope gets an "out_of_scope" Solution from every strategy at once: no
request, no calibration, no plan; without a scope (or with ``Scope.everything()``) the same problem runs."""

import pytest
from pydantic import ValidationError

from m1reason.scope import EMBEDDED_SCOPE, Scope
from strategies import BudgetAware, LongCoT, Plan, SelfConsistency, Solution
from tests.strategies.conftest import SpyGenerator, boxed

CALCULUS = "Find the derivative of 3x + 2."
REASON = "out of the embedded model's scope: calculus ('derivative')"
STRATEGIES = [SelfConsistency(n=4), LongCoT(max_new_tokens=64), BudgetAware(n=4, needed_tokens=8, max_new_tokens=64)]


class Counting(SpyGenerator):
    """A SpyGenerator that also counts how often its throughput was asked for (BudgetAware's calibration)."""

    def __init__(self, handler, **options):
        super().__init__(handler, **options)
        self.measured = 0

    def throughput_model(self):
        self.measured += 1
        return super().throughput_model()


def scripted(**options):
    return Counting(lambda request, i: boxed("3"), **options)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
def test_a_problem_outside_the_scope_is_answered_out_of_scope_without_a_request(strategy):
    fake = scripted(scope=EMBEDDED_SCOPE)
    sol = strategy.run(CALCULUS, fake, budget_s=5.0)
    assert (sol.answer, sol.status, sol.status_reason, sol.confidence) == (None, "out_of_scope", REASON, 0.0)
    assert fake.requests == [] and fake.measured == 0  # no sample drawn, no throughput measured
    assert sol.samples == [] and sol.votes == [] and sol.num_tokens == 0 and sol.stopped == "not run"
    assert sol.plan == Plan(strategy=type(strategy).__name__, n=0, max_new_tokens=0, budget_s=5.0,
                            reason="not run: " + REASON)
    assert sol.headline == REASON and sol.timings["total_s"] < 0.1


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("scope", [None, Scope.everything()], ids=["no scope", "everything"])
def test_without_a_scope_the_same_problem_runs(strategy, scope):
    fake = scripted(scope=scope)
    sol = strategy.run(CALCULUS, fake, budget_s=5.0)
    assert (sol.answer, sol.status) == ("3", "answered") and fake.requests


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
def test_a_problem_inside_the_scope_runs(strategy):
    fake = scripted(scope=EMBEDDED_SCOPE)
    sol = strategy.run("What is 15% of 20?", fake, budget_s=5.0)
    assert (sol.answer, sol.status) == ("3", "answered") and fake.requests


def test_an_empty_problem_is_still_an_error_not_out_of_scope():
    with pytest.raises(ValueError, match="non-empty"):
        SelfConsistency().run("  ", scripted(scope=EMBEDDED_SCOPE))


def test_an_out_of_scope_solution_goes_through_json_unchanged():
    sol = LongCoT().run(CALCULUS, scripted(scope=EMBEDDED_SCOPE))
    again = Solution.model_validate_json(sol.model_dump_json())
    assert again == sol and again.status == "out_of_scope"
    assert "no answer (out of the embedded model's scope" in repr(sol) and "n=0" in repr(sol)


def test_out_of_scope_needs_a_reason_and_no_answer():
    plan = Plan(strategy="LongCoT", n=0, max_new_tokens=0, reason="not run")
    with pytest.raises(ValidationError, match="needs a status_reason"):
        Solution(problem="p", answer=None, status="out_of_scope", confidence=0, plan=plan)
    with pytest.raises(ValidationError, match="'answered' exactly when it has an answer"):
        Solution(problem="p", answer="4", status="out_of_scope", status_reason="why", confidence=1, plan=plan)
