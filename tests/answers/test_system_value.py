"""system_value: a problem that asks for one quantity from two linear equations in two unknowns yields its exact
value at their one solution, checked by putting the solution back in; a pair asked for, dependent or inconsistent
equations, a product of the unknowns, a third unknown or any other question yields None, never a guess."""

from __future__ import annotations

from fractions import Fraction

import pytest

from m1reason.answers import stated_value, system_value
from tests.answers.hand_written import agreeing_reads


@pytest.mark.parametrize(("problem", "value"), [
    ("Solve the system x + y = 10 and x - y = 4. What is x?", 7),
    ("Solve 2x + y = 11 and x - y = 1. What is x?", 4),
    ("Solve for y: 3x + 2y = 16 and x + y = 6.", 2),
    ("Solve 5x - 2y = 4 and x + 2y = 8 for x.", 2),
    ("If a + b = 9 and a - b = 3, what is a × b?", 18),
    ("If x = 2y and x + y = 27, what is x?", 18),
    ("Solve $x + 2y = 9$ and $3x - y = 6$. What is $y$?", 3),
    ("Solve 3x + 2y = 16 and x - y = 2. What is x + y?", 6),
    ("If 2p + 3q = 1 and p - q = 3, find q.", -1),
    ("Solve for x: x + y = 1, x - y = 0.", Fraction(1, 2)),
    (r"If $\frac{x}{2} + y = 4$ and $x - y = 2$, what is y?", 2),
])
def test_one_quantity_of_a_linear_system_has_its_exact_value(problem, value):
    found = system_value(problem)
    assert found.value == value and found.holds_for(str(value)) and stated_value(problem) == found


@pytest.mark.parametrize("problem", [
    "Solve the system x + y = 10, x - y = 4.",  # both unknowns: a pair
    "Solve y = 2x + 1 and y = x + 4. Give (x, y).",
    "Solve x + y = 2 and 2x + 2y = 4. What is x?",  # a line of solutions
    "Solve x + y = 2 and x + y = 3. What is x?",  # none
    "If xy = 6 and x + y = 5, what is x?",  # not linear
    "If x * y = 6 and x + y = 5, what is x?",
    "If x^2 + y = 6 and x - y = 0, what is x?",
    "If 1/x + y = 2 and x - y = 0, what is x?",
    "Solve x + y = 3 and x - y = 1 for z.",  # not one of the unknowns
    "Solve x + y + z = 3 and x - y = 1 for x.",  # three unknowns
    "Solve x + y = 3 and x - y = 1. What is x? Show your work.",
    "Solve 2x + 1 = 7 and 3x = 9 for x.",  # one unknown twice: not a system of two
    "",
])
def test_anything_else_is_not_read(problem):
    assert system_value(problem) is None


def test_a_wrong_answer_names_the_system():
    found = system_value("If a + b = 9 and a - b = 3, what is a × b?")
    assert found.describe_false("12") == "the answer 12 is false (a + b = 9 and a - b = 3 hold for a × b = 18)"


def test_hostile_text_reads_nothing_quickly():
    with pytest.raises(TypeError, match="needs a str"):
        system_value(None)
    assert system_value("Solve " + "x + " * 5000 + "y = 1 and x = 2 for y.") is None
    assert system_value("If x = " + "9" * 250 + " and y = x, what is y?") is None  # past the checker's digits
    assert system_value("If x = " + "9" * 40 + " and y = x, what is y?").value == int("9" * 40)  # exact


def test_the_hand_written_sets_agree_and_out_of_scope_reads_nothing():
    assert agreeing_reads(system_value) >= 8
