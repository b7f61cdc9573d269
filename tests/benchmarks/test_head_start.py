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
    assert all(r["first_token_ms"] >= r["submit_ms"] for r in records)  # tokens come after the request
    one_sample_rows = records[1]["rows"]
    assert [row["problem"] for row in one_sample_rows] == [0, 1, 2]
    assert all(row["n"] == 1 and row["max_new_tokens"] == 160 and row["forked_ms"] is None
               and [reason for _, reason, forced in row["samples"]] == ["stop"] for row in one_sample_rows)


def test_a_forced_answer_is_time_stamped_after_the_submission():
    # a chain longer than the budget: the strategies force its answer out before the deadline
    problem = heldout_problems(1)
    gen = FakeGenerator(lambda request, i: FakeCompletion("thinking " * 200, after_append=" 4}."),
                        real_time=True, step_s=0.002)
    [budget_aware, one_sample] = run(gen, problem, [0.2], {"needed_tokens": 8, "max_new_tokens": 4096})
    for record in (budget_aware, one_sample):
        assert record["forced"] == 1 and record["submit_ms"] < record["forced_ms"] < record["wall_ms"] <= 250
        [row] = record["rows"]  # forced at the deadline, so through a fork, and the forced sample says so
        assert row["forked_ms"] == row["forced_ms"] and any(forced for _, _, forced in row["samples"])


def test_an_answer_forced_at_a_length_cap_is_not_a_fork():
    # BudgetAware caps its samples at the planned length: a chain that reaches it inside the thinking gets its
    # answer forced by an append at once, long before the deadline
    problem = heldout_problems(1)
    gen = FakeGenerator(lambda request, i: FakeCompletion("thinking " * 200, after_append=" 4}."))
    [budget_aware, _] = run(gen, problem, [30.0], {"needed_tokens": 8, "max_new_tokens": 16})
    [row] = budget_aware["rows"]
    assert row["max_new_tokens"] == 16 and row["forced_ms"] is not None and row["forked_ms"] is None
    assert all(forced for _, _, forced in row["samples"])


def test_the_uncapped_configuration_keeps_max_new_tokens_and_lets_the_chain_run():
    problem = heldout_problems(1)
    gen = FakeGenerator(lambda request, i: FakeCompletion("so </think> \\boxed{4}"))
    records = run(gen, problem, [30.0], {"needed_tokens": 8, "max_new_tokens": 64}, with_uncapped=True)
    assert [r["config"] for r in records] == ["BudgetAware", "n=1, 160 tok", "BudgetAware, uncapped"]
    [capped], [uncapped] = records[0]["rows"], records[2]["rows"]
    assert capped["n"] == uncapped["n"] and uncapped["max_new_tokens"] == 64
    assert uncapped["forced_ms"] is None and not any(forced for _, _, forced in uncapped["samples"])
