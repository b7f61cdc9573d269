"""shape_measure: a problem that only asks for one measure of one figure given the dimensions its formula needs
yields the exact value; a measure given rather than asked, a missing or extra dimension, two units, a circle, an
irrational hypotenuse or any other question yields None, never a guess."""

from __future__ import annotations

from fractions import Fraction

import pytest

from m1reason.answers import shape_measure, stated_value
from tests.answers.hand_written import agreeing_reads


@pytest.mark.parametrize(("problem", "value"), [
    ("What is the area of a rectangle 12 cm by 7 cm?", 84),
    ("Find the perimeter of a rectangle with length 15 ft and width 8 ft.", 46),
    ("A rectangle is 9 m long and 4 m wide. What is its area?", 36),
    ("Find the perimeter of a square with side 9 m.", 36),
    ("What is the area of a square with side length 2.5?", Fraction(25, 4)),
    ("A triangle has a base of 10 and a height of 7. What is its area?", 35),
    ("A parallelogram has base 11 m and height 4 m. Find its area.", 44),
    ("Find the area of a trapezium with parallel sides 8 and 14 and height 5.", 55),
    ("What is the volume of a box 5 cm by 4 cm by 3 cm?", 60),
    ("What is the volume of a cube with edge 6 cm?", 216),
    ("Find the surface area of a cube with side 3.", 54),
    ("A right triangle has legs 6 and 8. How long is the hypotenuse?", 10),
    ("Find the area of a right triangle with legs 5 and 9.", Fraction(45, 2)),
    ("Two angles of a triangle are 47° and 68°. What is the third angle?", 65),
    ("What is the complement of a 28° angle?", 62),
    ("Find the supplement of a 110 degree angle.", 70),
    ("What is the sum of the interior angles of a hexagon, in degrees?", 720),
    ("How many degrees is each interior angle of a regular pentagon?", 108),
    ("What is each exterior angle of a regular octagon?", 45),
])
def test_a_figure_measure_has_its_exact_value(problem, value):
    found = shape_measure(problem)
    assert found.value == value and found.holds_for(str(value)) and stated_value(problem) == found


@pytest.mark.parametrize("problem", [
    "A rectangle has a perimeter of 40 cm and a length of 12 cm. What is its width?",  # a measure given: inverse
    "A square has an area of 144 square inches. What is its perimeter?",
    "A circle has radius 5. What is its area?",  # pi: an approximation
    "What is the area of a triangle?",  # no dimensions
    "What is the area of a triangle with base 10?",  # one missing
    "What is the area of a rectangle 12 cm by 7 m?",  # two units: a conversion first
    "A right triangle has legs 1 and 2. How long is the hypotenuse?",  # sqrt(5): not an exact number
    "What is the area of a rectangle 12 by 7 with a 2 by 3 hole cut out?",  # more than the one figure
    "A garden is 20 m by 15 m. A path 2 m wide runs around it. What is the area of the path?",
    "Two angles of a triangle are 100° and 90°. What is the third angle?",  # no such triangle
    "What is the complement of a 120° angle?",
    "What is the area and perimeter of a rectangle 3 by 4?",  # two measures
    "What is the area of a rectangle 3 by 4 in square feet if each unit is 2 feet?",
    "What is the area of a rectangle with length 3 and length 4?",  # a dimension twice
    "Draw a rectangle 3 by 4 and find its area.",
    "",
])
def test_anything_else_is_not_read(problem):
    assert shape_measure(problem) is None


def test_hostile_text_reads_nothing_quickly():
    with pytest.raises(TypeError, match="needs a str"):
        shape_measure(12)
    assert shape_measure("What is the area of a rectangle " + "12 by " * 10_000 + "7?") is None
    assert shape_measure("Find the area of a square with side " + "9" * 100 + ".") is None


def test_the_hand_written_sets_agree_and_out_of_scope_reads_nothing():
    assert agreeing_reads(shape_measure) >= 15
