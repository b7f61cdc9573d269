"""The exact value of a problem that only asks to convert a quantity from one unit to another ("How many
centimetres are in 3.6 metres?", "Convert 2 hours 45 minutes to minutes.").

Such a problem states its own check: the answer is right exactly when it is the quantity in the unit asked for.
``unit_conversion`` reads the problem conservatively: the whole question must be one of a few forms that only ask
for the conversion (``_FORMS``), every unit one of ``_UNITS`` (length, mass, time, volume; metric and US customary,
each defined exactly: an inch is 2.54 cm, a pound 453.59237 g, a US gallon 231 cubic inches), all of one kind.
A second question, a conversion the problem states itself ("(1 lb = 16 oz)"), an area or a speed, a unit it does
not know (a "cup", a "stone") reads nothing.
"""

from __future__ import annotations

import re
from fractions import Fraction

from m1reason.answers._problem import ExpressionValue
from m1reason.answers._question import asked_form

__all__ = ["unit_conversion"]

_INCH = Fraction(254, 10_000)  # metres
_GALLON = 231 * _INCH**3 * 1000  # litres: 231 cubic inches
_POUND = Fraction(45_359_237, 100_000)  # grams

# Each unit: its kind and its size in that kind's base unit (metre, gram, second, litre), with the spellings that
# name it: singular and plural, British and American, and abbreviations that no English word shares ("in", an
# inch, is left out: it is the preposition every one of these questions has).
_UNITS: dict[str, tuple[str, Fraction]] = {}
for kind, size, names in (
    ("length", Fraction(1, 1000), "millimetre millimetres millimeter millimeters mm"),
    ("length", Fraction(1, 100), "centimetre centimetres centimeter centimeters cm"),
    ("length", Fraction(1), "metre metres meter meters m"),
    ("length", Fraction(1000), "kilometre kilometres kilometer kilometers km"),
    ("length", _INCH, "inch inches"),
    ("length", 12 * _INCH, "foot feet ft"),
    ("length", 36 * _INCH, "yard yards yd yds"),
    ("length", 63_360 * _INCH, "mile miles mi"),
    ("mass", Fraction(1, 1000), "milligram milligrams mg"),
    ("mass", Fraction(1), "gram grams g"),
    ("mass", Fraction(1000), "kilogram kilograms kg"),
    ("mass", _POUND / 16, "ounce ounces oz"),
    ("mass", _POUND, "pound pounds lb lbs"),
    ("time", Fraction(1), "second seconds sec secs s"),
    ("time", Fraction(60), "minute minutes min mins"),
    ("time", Fraction(3600), "hour hours hr hrs h"),
    ("time", Fraction(86_400), "day days"),
    ("time", Fraction(604_800), "week weeks"),
    ("volume", Fraction(1, 1000), "millilitre millilitres milliliter milliliters ml"),
    ("volume", Fraction(1), "litre litres liter liters l"),
    ("volume", _GALLON / 8, "pint pints pt"),
    ("volume", _GALLON / 4, "quart quarts qt"),
    ("volume", _GALLON, "gallon gallons gal"),
):
    _UNITS.update((name, (kind, size)) for name in names.split())

_UNIT = r"[A-Za-z]+"
# A number ("4,500", not "1,5", which may be a decimal comma) no longer than a question's quantity ever is
_AMOUNT = r"(?:(?:\d{1,3}(?:,\d{3}){1,4}|\d{1,15})(?:\.\d{1,12})?|an?|one)"
_PART = rf"{_AMOUNT} {_UNIT}"
_QUANTITY = rf"(?P<quantity>{_PART}(?:,? (?:and )?{_PART})*)"
_TO = rf"(?P<to>{_UNIT})"
_FORMS = tuple(re.compile(form) for form in (
    rf"how many {_TO} (?:are|is) (?:there )?in {_QUANTITY}",
    rf"convert {_QUANTITY} (?:in)?to {_TO}",
    rf"(?:what is|express|write) {_QUANTITY} in {_TO}",
    rf"how many {_TO} (?:is|are) {_QUANTITY}",
    rf"{_QUANTITY} (?:is|equals) how many {_TO}",
))
_PART_RE = re.compile(rf"({_AMOUNT}) ({_UNIT})")


def unit_conversion(problem: str) -> ExpressionValue | None:
    """The quantity and its exact value in the unit asked for when the problem only asks for that conversion;
    None for any other problem.

    >>> found = unit_conversion("How many centimetres are in 3.6 metres?")
    >>> found.expression, found.value, found.worked
    ('3.6 metres in centimetres', Fraction(360, 1), '3.6 metres in centimetres = 360')
    >>> [unit_conversion(p).value for p in ("Convert 2 hours 45 minutes to minutes.", "How many feet are in a mile?")]
    [Fraction(165, 1), Fraction(5280, 1)]
    >>> [unit_conversion(p) for p in ("How many grams are in 3 metres?", "How many cups are in 2 litres?",
    ...                               "How many ounces are in 3 pounds? (1 lb = 16 oz)", "Convert 5 m to m.")]
    [None, None, None, None]
    """
    if not isinstance(problem, str):
        raise TypeError(f"unit_conversion needs a str, got {type(problem).__name__}")
    found = asked_form(problem, _FORMS)
    return _converted(found["quantity"], found["to"]) if found else None


def _converted(quantity: str, to: str) -> ExpressionValue | None:
    target = _UNITS.get(to.lower())
    parts = [(amount, _UNITS.get(unit.lower()), unit) for amount, unit in _PART_RE.findall(quantity)]
    if target is None or any(unit is None or unit[0] != target[0] for _, unit, _ in parts):
        return None  # a unit it does not know, or one of another kind
    if len(parts) == 1 and parts[0][1] == target:
        return None  # "Convert 5 m to m" asks for nothing a conversion answers
    total = sum(_amount(amount) * unit[1] for amount, unit, _ in parts)
    return ExpressionValue(expression=f"{quantity} in {to}", value=total / target[1])


def _amount(written: str) -> Fraction:
    return Fraction(1) if written in ("a", "an", "one") else Fraction(written.replace(",", ""))
