"""benchmarks.step_repair: a false step is cut and corrected, a sample that keeps erring stops after the rounds
allowed, and a sample whose arithmetic holds is asked once, without and with repair."""

from benchmarks.step_repair import greedy_with_and_without_repair
from m1reason import FakeGenerator
from m1reason.train.data import Problem


def test_a_sample_that_keeps_erring_is_repaired_at_most_rounds_times():
    calls = []

    def handler(request, i):
        calls.append(request.prompt)
        return "\n9 * 9 = 80\n</think> \\boxed{80}"  # every continuation makes a new false step

    row = greedy_with_and_without_repair(FakeGenerator(handler), [Problem(kind="mul", problem="9 * 9?", steps=(),
                                                                          answer="81")], rounds=2)[0]
    assert row["repairs"] == 2 and len(calls) == 4  # without repair once; with: the sample, two continuations
    assert calls[-1].endswith("9 * 9 = 81\n9 * 9 = 81")  # each continuation starts from the corrected text
    assert row["greedy"] == "80" and row["repaired"] == "80"


def test_right_arithmetic_is_asked_once():
    calls = []
    fake = FakeGenerator(lambda request, i: calls.append(1) or "2 + 2 = 4\n</think> \\boxed{4}")
    row = greedy_with_and_without_repair(fake, [Problem(kind="add", problem="2 + 2?", steps=(), answer="4")],
                                         rounds=3)[0]
    assert (row["repairs"], len(calls), row["repaired"]) == (0, 2, "4")  # once without repair, once with
