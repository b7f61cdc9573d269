"""benchmarks/rollout_lengths: GRPO's reward at a length limit, and the share of samples the limit cuts off."""

from benchmarks.rollout_lengths import measure
from m1reason import M1Generator
from m1reason.train.examples import step_problems


def test_a_limit_below_every_solution_cuts_off_every_sample_and_pays_nothing():
    generator = M1Generator.from_pretrained("m1reason/embedded", device="cpu")
    problems = step_problems(99, 0, 4, weights={"fraction": 1.0})
    short, full = measure(generator, problems, limits=[4, 192], temperatures=[1.0], samples=2)
    assert (short["limit"], short["at_limit"], short["reward"], short["p90_length"]) == (4, 1.0, 0.0, 4)
    assert full["at_limit"] < 1.0 and full["mean_length"] > 4
