"""benchmarks.head_start: both configurations run on every problem at every budget, and the view time-stamps
the request's submission and a forced answer without changing what the strategies see."""

from benchmarks.head_start import run
from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.train.data import heldout_problems


def test_both_configurations_run_at_every_budget_and_are_time_stamped():
    problems = heldout_problems(3)
    answers = {p.problem: p.answer for p in problems}
    answer_to = lambda prompt: next(a for q, a in answers.items() if q in prompt)  # noqa: E731
    gen = FakeGenerator(lambda request, i: FakeCompletion(f"</think> $\\boxed{{{answer_to(request.prompt)}}}$"))
    records = run(gen, problems, [5.0, 10.0], {"needed_tokens": 8, "max_new_tokens": 32})
    assert [(r["budget_s"], r["config"]) for r in records] == [
        (b, c) for b in (5.0, 10.0) for c in ("BudgetAware", "n=1, 160 tok")]
    assert all(r["problems"] == 3 and r["accuracy"] == 1.0 and r["minus_one_sample"] == (0.0, 0.0)
               for r in records)
    assert all(r["submit_ms"] >= 0 and r["forced"] == 0 and r["forced_ms"] is None for r in records)


def test_a_forced_answer_is_time_stamped_after_the_submission():
    # a chain longer than the budget: the strategies force its answer out before the deadline
    problem = heldout_problems(1)
    gen = FakeGenerator(lambda request, i: FakeCompletion("thinking " * 200, after_append=" 4}."),
                        real_time=True, step_s=0.002)
    [budget_aware, one_sample] = run(gen, problem, [0.2], {"needed_tokens": 8, "max_new_tokens": 4096})
    for record in (budget_aware, one_sample):
        assert record["forced"] == 1 and record["submit_ms"] < record["forced_ms"] < record["wall_ms"] <= 250
