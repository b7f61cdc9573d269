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
    ("Find 3,333 times 3.", 9999),  # the full stop ends the number
    ("What do you get if you multiply 4,050 by 12?", 48600),
    ("If you add 99 and 87, what do you get?", 186),
    ("Add up 1,205 + 3,390 + 4,005.", 8600),
    ("Find the total: 7 + 18 + 25 + 32", 82),
    ("Increase 734 by 268.", 1002),
    ("Decrease 2,640 by 875.", 1765),
    ("What number is 145 more than 862?", 1007),
    ("What is 348 less than 1,005?", 657),
    ("Take 175 away from 1,200.", 1025),
    ("What must be added to 458 to make 1,000?", 542),
    ("Find the difference between 4,312 and 1,879.", 2433),
    ("How much greater is 9,050 than 6,785?", 2265),
    ("How much less is 12 than 30?", 18),
    ("Triple 2,468.", 7404),
    ("What is the square of 27?", 729),
    ("What is 2.5 squared?", Fraction(25, 4)),
    ("Find the quotient of 3,024 and 14.", 216),
    ("How many times does 16 go into 400?", 25),
    ("What is the mean of 4, 8, 15, 16 and 23?", Fraction(66, 5)),
    ("What is the range of 14, 29, 8, 35, 21?", 27),
    ("What is 2/3 of 5/8?", Fraction(5, 12)),
    ("Increase 250 by 8%.", 270),
    ("Decrease 500 by 12%.", 440),
    ("What percent of 50 is 18?", 36),
    ("18 is what percent of 72?", 25),
    ("What percentage is 7 out of 20?", 35),
    ("24 is 60% of what number?", 40),
    ("What is 2 1/2 + 1 3/4?", Fraction(17, 4)),  # mixed numbers, plain and LaTeX
    (r"Compute $3\frac{1}{3} - 1\frac{5}{6}$.", Fraction(3, 2)),
    ("What is 8 ÷ 2 1/2?", Fraction(16, 5)),  # the division takes the whole mixed number
    ("What's 6 - 2 3/4?", Fraction(13, 4)),
    ("What is -2 1/2 + 3?", Fraction(1, 2)),  # minus the whole mixed number
    ("Multiply 1 1/2 by 2 2/3.", 4),
    ("Subtract 2 5/6 from 7 1/3.", Fraction(9, 2)),
    (r"Divide $7\frac{1}{2}$ by 3.", Fraction(5, 2)),
    ("What is 3 1/2 times 2?", 7),
])
def test_a_bare_expression_has_its_exact_value(problem, value):
    assert expression_value(problem).value == value


@pytest.mark.parametrize("problem", [
    "What is 50 + 20%?",  # 20% of what?
    "Divide 39 by 6 and write the answer as a decimal.",  # a format
    "Subtract 289 from 512, then add 7.",  # more than the one operation the form names
    "Find the difference between 3 and 8.",  # 5 or -5: readers differ when the first is the smaller
    "How much greater is 3 than 8?",
    "How many times does 16 go into 401?",  # 25 whole times, or 25 1/16?
    "What is -3 squared?",  # -9 or 9: readers differ
    "Find the median of 7, 3, 9, 1, 5.",  # no operation to write down
    "What is 2/3 of the class?",
    "Increase 80 by 45% and round to the nearest ten.",
    "Find the difference between 1,,2 and 3.",  # no number
    "How much greater is 1/0 than 2?",
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
    "Write 23/6 as a mixed number.",  # a form, not a value
    r"What is $1\frac{1}{2} + 2\frac{3}{4}$? Give your answer as an improper fraction.",
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
