"""unit_conversion: a problem that only asks to convert a quantity to another unit of the same kind yields its exact
value there; a unit it does not know, two kinds, a conversion the problem states itself, or any other question
yields None, never a guess."""

from __future__ import annotations

from fractions import Fraction

import pytest

from m1reason.answers import stated_value, unit_conversion
from tests.answers.hand_written import agreeing_reads


@pytest.mark.parametrize(("problem", "value"), [
    ("How many centimetres are in 3.6 metres?", 360),
    ("Convert 4,500 grams to kilograms.", Fraction(9, 2)),
    ("How many minutes are in 2.5 hours?", 150),
    ("What is 7 km in metres?", 7000),
    ("How many seconds are there in 3 hours?", 10_800),
    ("Convert 250 mL to litres.", Fraction(1, 4)),
    ("How many inches are in 4 feet 7 inches?", 55),
    ("How many hours are in a week?", 168),
    ("Convert 2 hours 45 minutes to minutes.", 165),
    ("How many minutes are in 3 hours and 20 minutes?", 200),
    ("Convert 96 inches to feet.", 8),
    ("How many grams is 0.75 kg?", 750),
    ("How many yards are in 1 mile?", 1760),
    ("How many ounces are in 3 pounds?", 48),
    ("How many quarts are in 6 gallons?", 24),
    ("How many pints are in a gallon?", 8),
    ("Convert 1 inch to centimeters.", Fraction(254, 100)),  # exact, by definition
    ("Convert $3{,}600$ seconds to hours.", None),  # LaTeX's thousands separator is not read: nothing, not a guess
])
def test_a_conversion_has_its_exact_value(problem, value):
    found = unit_conversion(problem)
    if value is None:
        assert found is None
    else:
        assert found.value == value and stated_value(problem) == found


@pytest.mark.parametrize("problem", [
    "How many grams are in 3 metres?",  # two kinds of unit
    "How many cups are in 2 litres?",  # a unit it does not know
    "Convert 1,5 kg to grams.",  # a decimal comma, or a typo: not 15
    "How many ounces are in 3 pounds? (1 lb = 16 oz)",  # a conversion the problem states: more than a question
    "Convert 5 m to m.",  # nothing to convert
    "How many square centimetres are in 1 square metre?",  # an area
    "A race is 5,000 m long. How long is it in km?",  # a story
    "How many minutes are in 2 hours? And in 3?",
    "How many metres are in 3 metres of rope and 2 apples?",
    "",
])
def test_anything_else_is_not_read(problem):
    assert unit_conversion(problem) is None


def test_a_wrong_answer_names_the_conversion():
    found = unit_conversion("Convert 90 minutes to hours.")
    assert found.shown == "1.5" and found.holds_for("1.5 hours") and found.holds_for("3/2")
    assert not found.holds_for("1.3")
    assert found.describe_false("1.3") == "the answer 1.3 is false (90 minutes in hours = 1.5)"


def test_hostile_text_reads_nothing_quickly():
    with pytest.raises(TypeError, match="needs a str"):
        unit_conversion(3)
    assert unit_conversion("How many m are in " + "1 km " * 20_000 + "x?") is None
    assert unit_conversion("Convert " + "9" * 10_000 + " g to kg.") is None  # no such quantity is a question
    assert unit_conversion("Convert 1" + ",000" * 30 + " g to kg.") is None


def test_the_hand_written_sets_agree_and_out_of_scope_reads_nothing():
    assert agreeing_reads(unit_conversion) >= 25
