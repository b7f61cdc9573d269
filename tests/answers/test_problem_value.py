"""expression_value: a problem that only asks for one expression's value yields it exactly; any problem that asks
for more (a format, a rounding, a unit, a percent, a variable) or is not arithmetic yields None, never a guess."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from m1reason.answers import expression_value

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


@pytest.mark.parametrize(("problem", "value"), [
    ("What is 3 + 4 × 5?", 23),
    ("What's 7 + 18 / 3 * 2?", 19),
    (r"Evaluate $(8 + 2) \times 6 - 4$.", 56),
    ("Work out 14 − 30.", -16),  # the Unicode minus sign
    ("Compute 4,528 + 3,917.", 8445),
    (r"Compute $\frac{12 + 6}{3} + 2 \times 5$.", 16),
    ("Simplify: 2 × [3 + (10 − 4) × 2]", 30),
    ("10 + 2 * 3^2 =", 28),
    ("12 ÷ 4 = ?", 3),
    ("Find 1/2 + 1/3 + 1/6.", 1),
    ("What is 2(3 + 4)?", 14),
    ("How much is 90 take away 37?", 53),
    ("What is 3/4 divided by 1/2?", Fraction(3, 2)),
    (r"Calculate $\frac{4}{9} \div \frac{8}{3}$.", Fraction(1, 6)),
    ("Calculate 6 - 2 * 4, following the order of operations.", -2),
    ("Compute 10 - 4.28.", Fraction(572, 100)),
    ("Find the sum of 12,345 and 6,789.", 19134),
    ("Add 0.35, 1.2 and 4.05.", Fraction(56, 10)),
    ("Add -36 and -19.", -55),
    ("Subtract 289 from 512.", 223),
    ("What's the product of -11 and -12?", 132),
    ("Multiply 3/7 by 14.", 6),
    ("Divide 1,728 by 12.", 144),
    ("Find 12.5% of 64.", 8),
    ("what's 15% of 80", 12),
])
def test_a_bare_expression_has_its_exact_value(problem, value):
    assert expression_value(problem).value == value


@pytest.mark.parametrize("problem", [
    "What is 50 + 20%?",  # 20% of what?
    "What percentage is 7 out of 20?",
    "Divide 39 by 6 and write the answer as a decimal.",  # a format
    "Subtract 289 from 512, then add 7.",  # more than the one operation the form names
    "Find the difference between 4,312 and 1,879.",  # which way round is the question's
    "What is 7/8 as a decimal?",  # a format
    "Round 3.456 + 1.2 to the nearest tenth.",
    "What is 50 divided by 4? Give your answer as a mixed number.",
    "What is 7 + 5 in base 8?",
    "Solve 3x + 5 = 20.",  # a variable
    "Add 0.35, 1.2 and 4.05 to the list.",  # a list to extend, not a sum
    "What is 12?",  # nothing to work out
    "What is 5 / (3 - 3)?",  # undefined
    "What is 17 mod 5?",
    "A box holds 12 + 3 apples. How many apples?",  # a story
    "What is 2 + 3? And what is 4 + 5?",  # two expressions
    "What is 3 + 4 cm?",
    "What is 2^100000?",  # past the checker's bounds
    "What is 6 ÷ 2(1 + 2)?",  # readers disagree on whether the product binds first
    "",
])
def test_anything_more_than_a_value_is_not_read(problem):
    assert expression_value(problem) is None


def test_a_wrong_answer_is_described_with_the_value():
    found = expression_value("What is 12 * 9?")
    assert found.holds_for("108") and found.holds_for("108.0") and not found.holds_for("128")
    assert found.describe_false("128") == "the answer 128 is false (12 * 9 = 108)"
    assert expression_value("Compute 1/3 + 1/3.").shown == "2/3" and expression_value("What is 1 / 8?").shown == "0.125"
    assert expression_value("What is 1 - 9 / 8?").shown == "-0.125"


def test_every_hand_written_expression_problem_agrees_with_its_answer():
    """The checker's value is the hand-written answer on every problem it reads, and it reads no out-of-scope one."""
    read = 0
    for name in ("natural_dev.jsonl", "natural_math.jsonl"):
        for line in (DATA / name).read_text().splitlines():
            problem = json.loads(line)
            found = expression_value(problem["problem"])
            if found is not None:
                read += 1
                assert found.holds_for(problem["answer"]), (problem, found)
    assert read >= 230
    for name in ("out_of_scope.jsonl", "out_of_scope_dev.jsonl"):
        assert not [p for p in map(json.loads, (DATA / name).read_text().splitlines())
                    if expression_value(p["problem"])]


def test_hostile_input_is_bounded():
    with pytest.raises(TypeError, match="needs a str"):
        expression_value(None)
    assert expression_value("What is " + " + ".join(["9" * 50] * 2000) + "?") is None  # too long to judge
    assert expression_value("((((" * 5000 + "1") is None
