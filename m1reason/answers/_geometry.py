"""The exact value of a problem that only asks for one measure of one plane or solid figure given its dimensions
("What is the area of a rectangle 12 cm by 7 cm?", "A triangle has base 10 and height 6. What is its area?",
"How many degrees is each interior angle of a regular pentagon?").

Such a problem states its own check: the answer is right exactly when it is the measure's value. ``shape_measure``
reads the problem conservatively, in three passes over its text: the dimensions it gives (``_GIVEN``: "length 15",
"12 by 7", "legs 6 and 8", "angles of 47° and 68°"), each number in one of them and every length in one unit; the
one figure it names (``_FIGURES``); the one measure it asks for (``_MEASURES``). Whatever is left must be words that
ask and nothing else (``_FILLER``). A figure's measure is read only from the dimensions its formula needs, exactly
(``_formula``); a measure given rather than asked ("a perimeter of 40", an inverse problem), a circle (its answers
are approximations of pi), a hypotenuse that is not rational, or any other word reads nothing.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from m1reason.answers._problem import ExpressionValue

__all__ = ["shape_measure"]

_N = r"(\d{1,6}(?:\.\d{1,6})?)"
_LENGTH_UNIT = (r"(?:mm|cm|m|km|ft|yd|millimet(?:re|er)s?|centimet(?:re|er)s?|met(?:re|er)s?|kilomet(?:re|er)s?"
                r"|inch(?:es)?|f(?:oo|ee)t|yards?|units?)")
_DEGREES = r"(?:°|\^\\circ|\^\{\\circ\}|\\circ| degrees?)"
# The dimensions a problem gives, each as (name or names, its numbers); "by" also reads "x" and "×"
_BY = r" ?(?:by|x|×|\\times) ?"
_GIVEN = tuple((re.compile(pattern), names) for pattern, names in (
    (rf"{_N}{_BY}{_N}{_BY}{_N}", ("length", "width", "height")),
    (rf"{_N}{_BY}{_N}", ("length", "width")),
    (rf"(?:parallel sides|bases)(?: of)? {_N} and {_N}", ("base", "top")),
    (rf"legs(?: of)? {_N} and {_N}", ("leg", "other leg")),
    (rf"(?:\bangles?|(?<=angles of a triangle))(?: of| are| measure| measuring)? {_N} and {_N}",
     ("angle", "other angle")),
    (rf"(?:side length|sides? of length|side|sides|edge length|edges? of length|edge)(?: of| is| =)? {_N}",
     ("side",)),
    (rf"(length|width|breadth|height|base)(?: of| is| =)? {_N}", None),  # named by the word
    (rf"{_N} (long|wide|high|tall)", None),
    (rf"an? {_N} angle", ("angle",)),
))
_WORD_NAME = {"breadth": "width", "long": "length", "wide": "width", "high": "height", "tall": "height"}
_POLYGON = {"triangle": 3, "quadrilateral": 4, "pentagon": 5, "hexagon": 6, "heptagon": 7, "octagon": 8,
            "nonagon": 9, "decagon": 10, "dodecagon": 12}
_FIGURES = (
    ("right triangle", r"right(?:-angled)? triangle"), ("rectangle", r"rectangle"), ("square", r"square"),
    ("triangle", r"(?<!right )(?<!right-angled )triangle"), ("parallelogram", r"parallelogram"),
    ("trapezoid", r"trapezoid|trapezium"),
    ("box", r"box|cuboid|rectangular (?:prism|box|solid)"), ("cube", r"cube"),
    ("polygon", r"(?:regular )?(?:" + "|".join(name for name in _POLYGON if name != "triangle") + r")"),
)
_MEASURES = (  # each as the check names it, and as a question may write it
    ("surface area", r"(?:total )?surface area"), ("area", r"(?<!surface )area"), ("perimeter", r"perimeter"),
    ("volume", r"volume"), ("hypotenuse", r"hypotenuse"), ("third angle", r"third angle"),
    ("complement", r"complement"), ("supplement", r"supplement"),
    ("sum of the interior angles", r"sum of (?:the |its )?(?:interior |inside )?angles"),
    ("interior angle", r"each (?:interior )?angle"), ("exterior angle", r"each exterior angle"),
)
_FILLER = frozenset({
    "what", "is", "the", "of", "a", "an", "find", "calculate", "compute", "work", "out", "its", "it", "has", "have",
    "with", "and", "that", "how", "many", "much", "in", "degrees", "measure", "measures", "measuring", "units",
    "square", "cubic", "long", "big", "given", "determine", "are", "does", "whose", "sides", "side", "two", "there",
    "angles",
})
_LONGEST = 250  # characters: such a question is short, and no longer text is scanned


def shape_measure(problem: str) -> ExpressionValue | None:
    """The figure, its dimensions and the exact value of the one measure the problem asks for; None for any
    other problem.

    >>> found = shape_measure("What is the area of a rectangle 12 cm by 7 cm?")
    >>> found.expression, found.value
    ('the area of a rectangle with length 12 and width 7', Fraction(84, 1))
    >>> [shape_measure(p).value for p in ("A triangle has base 10 and height 6. What is its area?",
    ...                                  "How many degrees is each interior angle of a regular pentagon?")]
    [Fraction(30, 1), Fraction(108, 1)]
    >>> [shape_measure(p) for p in ("A rectangle has a perimeter of 40 cm and a length of 12 cm. What is its width?",
    ...                             "A circle has radius 5. What is its area?", "What is the area of a triangle?")]
    [None, None, None]
    """
    if not isinstance(problem, str):
        raise TypeError(f"shape_measure needs a str, got {type(problem).__name__}")
    text = " ".join(problem.replace("$", "").replace("\\,", "").split()).lower()
    if len(text) > _LONGEST:
        return None
    units = set(re.findall(rf"(?<=\d) ?({_LENGTH_UNIT})\b", text))
    if len({unit.rstrip("s") for unit in units if not unit.startswith("unit")}) > 1:
        return None  # two units: a conversion first
    text = re.sub(rf"(?<=\d) ?(?:{_LENGTH_UNIT}\b|{_DEGREES})", "", text)
    given, text = _given(text)
    figure, text = _one_of(_FIGURES, text)
    measure, text = _one_of(_MEASURES, text)
    if given is None or measure is None or set(re.findall(r"[a-z]+", text)) - _FILLER or re.search(r"\d", text):
        return None  # a word that asks for more, or a number no dimension took
    if figure is None:  # an angle's complement or supplement needs no figure
        value = _angle(measure[0], given)
        return None if value is None else ExpressionValue(f"the {measure[0]} of a {_plain(given['angle'])}° angle",
                                                          value)
    sides = _POLYGON.get(figure[1].removeprefix("regular "))
    value = _formula(figure[0], measure[0], given, sides)
    if value is None:
        return None
    shown = " and ".join(f"{name} {_plain(number)}" for name, number in given.items())
    article = "an" if figure[1][0] in "aeiou" else "a"
    what = f"the {measure[0]} of {article} {figure[1]}" + (f" with {shown}" if shown else "")
    return ExpressionValue(expression=what, value=value)


def _angle(measure: str, given: dict[str, Fraction]) -> Fraction | None:
    if set(given) != {"angle"} or not 0 < given["angle"] < {"complement": 90, "supplement": 180}.get(measure, 0):
        return None
    return (90 if measure == "complement" else 180) - given["angle"]


def _given(text: str) -> tuple[dict[str, Fraction] | None, str]:
    """The dimensions the text gives by name, and the text without them; None when a name is given twice."""
    given: dict[str, Fraction] = {}
    for pattern, names in _GIVEN:
        for found in list(pattern.finditer(text)):
            if names is None:
                word, number = (found[1], found[2]) if not found[1][0].isdigit() else (found[2], found[1])
                pairs = [(_WORD_NAME.get(word, word), number)]
            else:
                pairs = list(zip(names, found.groups()))
            for name, number in pairs:
                if name in given:
                    return None, text
                given[name] = Fraction(number)
        text = pattern.sub(" ", text)
    return given, text


def _one_of(choices: tuple, text: str) -> tuple[tuple[str, str] | None, str]:
    """The one choice the text names (its key and the words as written) and the text without it; None when it
    names none or two."""
    named = [(key, found) for key, pattern in choices for found in re.finditer(rf"\b(?:{pattern})\b", text)]
    if len(named) != 1:
        return None, text
    key, found = named[0]
    return (key, found[0]), text[:found.start()] + " " + text[found.end():]


def _formula(figure: str, measure: str, given: dict[str, Fraction], sides: int | None) -> Fraction | None:
    """The measure's exact value from exactly the dimensions its formula needs (any other given: None)."""
    needs = lambda *names: set(given) == set(names)  # noqa: E731
    g = given
    if figure == "polygon" and sides and not given:
        return {"sum of the interior angles": Fraction((sides - 2) * 180),
                "interior angle": Fraction((sides - 2) * 180, sides),
                "exterior angle": Fraction(360, sides)}.get(measure)
    if figure == "rectangle" and needs("length", "width"):
        return {"area": g["length"] * g["width"], "perimeter": 2 * (g["length"] + g["width"])}.get(measure)
    if figure == "square" and needs("side"):
        return {"area": g["side"] ** 2, "perimeter": 4 * g["side"]}.get(measure)
    if figure in ("triangle", "parallelogram") and needs("base", "height") and measure == "area":
        return g["base"] * g["height"] / (2 if figure == "triangle" else 1)
    if figure == "trapezoid" and needs("base", "top", "height") and measure == "area":
        return (g["base"] + g["top"]) * g["height"] / 2
    if figure == "box" and needs("length", "width", "height") and measure == "volume":
        return g["length"] * g["width"] * g["height"]
    if figure == "cube" and needs("side"):
        return {"volume": g["side"] ** 3, "surface area": 6 * g["side"] ** 2}.get(measure)
    if figure == "right triangle" and needs("leg", "other leg"):
        if measure == "area":
            return g["leg"] * g["other leg"] / 2
        if measure == "hypotenuse":
            return _rational_root(g["leg"] ** 2 + g["other leg"] ** 2)
    if figure == "triangle" and needs("angle", "other angle") and measure == "third angle":
        third = 180 - g["angle"] - g["other angle"]
        return third if third > 0 else None
    return None


def _rational_root(square: Fraction) -> Fraction | None:
    top, bottom = math.isqrt(square.numerator), math.isqrt(square.denominator)
    return Fraction(top, bottom) if top * top == square.numerator and bottom * bottom == square.denominator else None


def _plain(number: Fraction) -> str:
    return str(number.numerator) if number.denominator == 1 else str(float(number))
