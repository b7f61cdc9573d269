"""equation_solution: a problem that only asks to solve one linear equation in one unknown yields its one exact
solution, checked by putting it back in; two unknowns, a power, an unknown in a denominator, no solution or every
number, or any other question yields None, never a guess."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from m1reason.answers import equation_solution, expression_value, is_equivalent, stated_value

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


@pytest.mark.parametrize(("problem", "solution"), [
    ("Solve for x: 3x + 7 = 22.", 5),
    ("Solve $2x - 9 = 15$.", 12),
    ("Solve: 5(x - 3) = 35.", 10),
    ("If 7y = 91, what is y?", 13),
    ("Solve for n: 4n + 6 = 2n + 20.", 7),
    (r"Solve $\frac{x}{3} + 5 = 11$.", 18),
    ("What value of x makes 12 - x = 4 true?", 8),
    ("Solve 6x = 21.", Fraction(7, 2)),
    ("Solve $-4x + 10 = -14$.", 6),
    ("Solve for x: 0.5x + 2 = 8.", 12),
    ("Find m: 9 - 2m = 1.", 4),
    ("Solve 8 = 2(x + 1) - 4.", 5),
    ("Solve for $t$: $15t - 40 = 5t + 30$.", 7),
    ("What is k if 3 × k = 27?", 9),
    ("Find x if x/4 = 9.", 36),
])
def test_a_linear_equation_has_its_one_solution(problem, solution):
    found = equation_solution(problem)
    assert found.value == solution and found.holds_for(str(solution)) and stated_value(problem) == found


@pytest.mark.parametrize("problem", [
    "Solve x^2 = 9.",  # two solutions
    "Solve x² - 4 = 0.",
    "Solve 2x + y = 7.",  # two unknowns
    "If 7y = 91, what is x?",  # asks for another unknown
    "Solve 2x = 2x + 1.",  # no solution
    "Solve 3(x + 1) = 3x + 3.",  # every number
    "Solve 6 / x = 2.",  # the unknown in a denominator: not read, though x = 3 would do
    "Solve 3x + 5 = 20 and check your answer.",
    "Solve 20% of x = 10.",
    "Solve x + 1 = 2 = 3.",
    "Solve for x: 2x + 1 > 7.",
    "Solve the puzzle: 3 + 4 = x.",
    "Solve.",
    "",
])
def test_anything_else_is_not_read(problem):
    assert equation_solution(problem) is None


def test_a_wrong_solution_is_described_by_the_check():
    found = equation_solution("Solve 2x + 1 = 8.")
    assert found.shown == "3.5" and found.holds_for("7/2") and found.holds_for("x = 3.5")
    assert found.describe_false("3") == "the answer 3 is false (2x + 1 = 8 holds for x = 3.5)"
    assert found.stated == "the one solution of 2x + 1 = 8"


def test_hostile_text_reads_nothing_quickly():
    for text in ("Solve " + "x + " * 5000 + "1 = 2.", "Solve " + "(" * 3000 + "x = 1.",
                 "If " + "x" * 10**5 + ", what is x?", "Solve x = " + "9" * 500 + "."):
        assert equation_solution(text) is None


def test_the_hand_written_sets_agree_and_out_of_scope_reads_nothing():
    """Every equation read in the development and test sets solves to the written answer; no out-of-scope problem
    and no problem a bare expression already reads is read as an equation."""
    read = 0
    for name in ("natural_dev", "natural_math"):
        for line in (DATA / f"{name}.jsonl").read_text().splitlines():
            row = json.loads(line)
            found = equation_solution(row["problem"])
            if found is not None:
                read += 1
                assert is_equivalent(found.shown, str(row["answer"])), row
                assert expression_value(row["problem"]) is None
    assert read >= 30
    for name in ("out_of_scope", "out_of_scope_dev"):
        for line in (DATA / f"{name}.jsonl").read_text().splitlines():
            assert equation_solution(json.loads(line)["problem"]) is None
