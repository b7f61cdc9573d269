"""benchmarks.forcing_ab: both ways of forcing run every configuration on every problem, and the plain way
really hides fork from the strategies."""

from benchmarks.forcing_ab import WithoutFork, run
from m1reason.generator.fake import FakeCompletion, FakeGenerator
from m1reason.train.data import heldout_problems


def test_every_configuration_runs_both_ways_on_every_problem():
    problems = heldout_problems(3)
    answers = {p.problem: p.answer for p in problems}
    answer_to = lambda prompt: next(a for q, a in answers.items() if q in prompt)  # noqa: E731
    gen = FakeGenerator(lambda request, i: FakeCompletion(f"</think> $\\boxed{{{answer_to(request.prompt)}}}$"))
    records = run(gen, problems, budget=5.0, defaults={"needed_tokens": 8, "max_new_tokens": 32}, rounds=2)
    assert {(r["config"], r["forcing"]) for r in records} == {
        (c, w) for c in ("BudgetAware", "n=1, 160 tok") for w in ("hedged", "plain")}
    assert all(r["problems"] == 3 and r["rounds"] == 2 and r["accuracy"] == 1.0 for r in records)
    assert [r["gain_over_plain"] for r in records if r["forcing"] == "hedged"] == [(0.0, 0.0), (0.0, 0.0)]
    assert "fork" not in WithoutFork(gen).capabilities and "fork" in gen.capabilities
