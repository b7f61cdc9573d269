"""A generator that acts on a deadline up to one long step late (``step_latency_s``) gets its samples' deadline
and the forcing of answers that much earlier, so the solution still returns within the budget."""

import strategies
from m1reason.generator.fake import FakeGenerator
from strategies._runner import end_margin


class Late(FakeGenerator):
    """A fake whose steps may run ``late`` seconds past a deadline; it records each request's deadline."""

    def __init__(self, late: float):
        self.late, self.deadlines = late, []

        def handler(request, i):
            self.deadlines.append(request.deadline)
            return "</think> \\boxed{4}"

        super().__init__(handler)

    def step_latency_s(self):
        return self.late


def test_samples_end_a_step_earlier_when_the_generator_is_late():
    on_time, late = Late(0.0), Late(0.6)
    for gen in (on_time, late):
        strategies.SelfConsistency(n=2, seed=0).run("What is 2 + 2?", gen, budget_s=10.0)
    assert all(d <= 10.0 - end_margin(10.0) for d in on_time.deadlines)
    # 0.6 s earlier, give or take the clock between the two runs
    assert all(abs((a - b) - 0.6) < 0.2 for a, b in zip(on_time.deadlines, late.deadlines))


def test_lateness_takes_at_most_a_quarter_of_the_budget():
    gen = Late(5.0)
    solution = strategies.SelfConsistency(n=1, seed=0).run("What is 2 + 2?", gen, budget_s=2.0)
    assert solution.answer == "4"
    assert all(1.0 < d <= 2.0 - end_margin(2.0) - 0.5 for d in gen.deadlines)
