"""benchmarks/budget_curve.py's bookkeeping: every (budget, configuration) is scored on the same problems, and the
summary compares BudgetAware with the best grid point of each budget."""

from __future__ import annotations

from benchmarks.budget_curve import GRID_N, GRID_TOKENS, run, summary
from m1reason.generator.fake import FakeGenerator
from m1reason.train.data import heldout_problems


def test_every_configuration_is_scored_and_the_summary_picks_the_best_grid_point():
    problems = heldout_problems(3, kind="arithmetic")
    answers = {p.problem: p.answer for p in problems}

    def handler(request, i):  # right on the first sample of each problem only: more samples cannot help a vote
        problem = next(q for q in answers if q in request.prompt)
        return f"</think> \\boxed{{{answers[problem] if i == 0 else '-1'}}}"

    records = run(FakeGenerator(handler), problems, [5.0], {"needed_tokens": 8, "max_new_tokens": 48})
    assert len(records) == 1 + len(GRID_N) * len(GRID_TOKENS)
    by_config = {r["config"]: r for r in records}
    assert by_config[f"n=1, {GRID_TOKENS[0]} tok"]["accuracy"] == 1.0
    assert by_config[f"n=4, {GRID_TOKENS[0]} tok"]["accuracy"] == 0.0  # 1 right vs 3 wrong votes
    [row] = summary(records)
    assert row["best grid %"].startswith("100.0") and row["best grid point"].startswith("n=1")
    assert row["within the best's CI"] == (by_config["BudgetAware"]["accuracy"] == 1.0)
