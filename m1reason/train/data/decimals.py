"""The ``decimal`` kind: adding and subtracting decimals by column, multiplying and dividing them by small
numbers (and by 10, 100, 1000), writing a division as a decimal, and rounding.

Decimals are worked as whole numbers of their smallest place (``2.35 * 4`` as ``235 * 4``, then ``940 / 100``),
so the digit-by-digit methods of ``written`` carry over. Answers are exact decimals; a rounded answer keeps the
places it was rounded to (``3.10``).
"""

from __future__ import annotations

import random
from fractions import Fraction

from m1reason.train.data.phrasing import Notation, ask
from m1reason.train.data.problem import Problem, decimal_text
from m1reason.train.data.written import (
    column_addition,
    column_subtraction,
    long_division,
    long_multiplication,
    multiply_by_digit,
)

__all__ = ["decimal"]

_PLACE_NAMES = ("thousandths", "hundredths", "tenths", "ones", "tens", "hundreds", "thousands")
_ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}


def _draw(rng: random.Random, places: int, whole_digits: int) -> Fraction:
    """A positive decimal with up to ``whole_digits`` digits before the point and exactly ``places`` after it."""
    value = Fraction(rng.randint(1, 10 ** (whole_digits + places) - 1), 10**places)
    while places and _places(value) != places:
        value += Fraction(1, 10**places)
    return value


def _places(value: Fraction) -> int:
    return len(decimal_text(value).partition(".")[2])


def _add_or_subtract(rng: random.Random, notation: Notation, op: str) -> Problem:
    x, y = (_draw(rng, rng.randint(1, 2), rng.randint(1, 3)) for _ in range(2))
    if op == "-":
        x, y = max(x, y), min(x, y)
        if x == y:
            x += 1
    a, b = decimal_text(x), decimal_text(y)
    wordings = {"+": (f"Add {a} and {b}.", f"What is the sum of {a} and {b}?", f"Find the total of {a} and {b}."),
                "-": (f"Subtract {b} from {a}.", f"What is {a} minus {b}?", f"Find the difference between {a} and "
                      f"{b}.")}[op]
    text = rng.choice([ask(rng, notation.math(f"{a} {op} {b}"))] * 3 + list(wordings))
    places = max(_places(x), _places(y))
    scale = 10**places
    names = _PLACE_NAMES[3 - places:]
    value = x + y if op == "+" else x - y
    steps = []
    if _places(x) != _places(y):
        steps.append(f"line up the points: write {a} and {b} with {places} decimal places")
    if op == "+":
        steps += column_addition([int(x * scale), int(y * scale)], names)
    else:
        steps += column_subtraction(int(x * scale), int(y * scale), names)
    steps.append(f"so {a} {op} {b} = {decimal_text(value)}")
    return Problem(kind="decimal", problem=text, steps=tuple(steps), answer=decimal_text(value))


def _multiply(rng: random.Random, notation: Notation) -> Problem:
    shape = rng.choice(("digit", "digit", "tenths", "power"))
    if shape == "digit":
        x, y = _draw(rng, rng.randint(1, 2), 1), Fraction(rng.randint(2, 9))
    elif shape == "tenths":
        x, y = _draw(rng, 1, 1), _draw(rng, 1, 1)
    else:
        x, y = _draw(rng, rng.randint(1, 3), rng.randint(1, 2)), Fraction(10 ** rng.randint(1, 3))
    a, b = decimal_text(x), decimal_text(y)
    text = rng.choice([ask(rng, notation.math(f"{a}{notation.op('*')}{b}"))] * 3 + [
        f"Multiply {a} by {b}.", f"What is the product of {a} and {b}?", f"What is {a} times {b}?"])
    value = x * y
    if shape == "power":
        shift = len(b) - 1
        steps = (f"multiplying by {b} moves the point {shift} places right: {a} * {b} = {decimal_text(value)}",)
        return Problem(kind="decimal", problem=text, steps=steps, answer=decimal_text(value))
    px, py = _places(x), _places(y)
    ix, iy = int(x * 10**px), int(y * 10**py)
    steps = [f"without the points: {ix} * {iy}"]
    steps += [multiply_by_digit(ix, iy)] if iy < 10 else long_multiplication(ix, iy)
    steps.append(f"{px + py} decimal places in all: {ix * iy} / {10 ** (px + py)} = {decimal_text(value)}")
    return Problem(kind="decimal", problem=text, steps=tuple(steps), answer=decimal_text(value))


def _divide(rng: random.Random, notation: Notation) -> Problem:
    shape = rng.choice(("digit", "digit", "power", "fraction"))
    if shape == "fraction":  # a whole-number division whose quotient is a terminating decimal
        d = rng.choice((4, 5, 8, 20, 25, 2, 4, 8))
        n = rng.randint(1, 2 * d)
        while n % d == 0:
            n += 1
        shown = notation.math(notation.frac(n, d) if rng.random() < 0.5 else f"{n}{notation.op('/')}{d}")
        text = rng.choice((f"Write {shown} as a decimal.", f"Convert {shown} to a decimal.",
                           f"What is {shown} as a decimal?"))
        value = Fraction(n, d)
        places = _places(value)
        lines, q, _ = long_division(n * 10**places, d)
        steps = (f"write {n} as {n * 10**places} / {10**places}", *lines,
                 f"{q} / {10**places} = {decimal_text(value)}", f"so {n} / {d} = {decimal_text(value)}")
        return Problem(kind="decimal", problem=text, steps=steps, answer=decimal_text(value))
    if shape == "power":
        x, y = _draw(rng, rng.randint(0, 2), rng.randint(1, 3)), Fraction(10 ** rng.randint(1, 3))
    else:
        y = Fraction(rng.randint(2, 9))
        x = y * _draw(rng, rng.randint(1, 2), 1)
    a, b = decimal_text(x), decimal_text(y)
    text = rng.choice([ask(rng, notation.math(f"{a}{notation.op('/')}{b}"))] * 3 + [
        f"Divide {a} by {b}.", f"What is {a} divided by {b}?", f"Share {a} equally into {b} parts. How much is "
        "each part?"])
    value = x / y
    if shape == "power":
        steps = (f"dividing by {b} moves the point {len(b) - 1} places left: {a} / {b} = {decimal_text(value)}",)
        return Problem(kind="decimal", problem=text, steps=steps, answer=decimal_text(value))
    places = max(_places(x), _places(value))
    scaled = int(x * 10**places)
    lines, q, _ = long_division(scaled, int(y))
    steps = (f"write {a} as {scaled} / {10**places}", *lines, f"so {scaled} / {b} = {q}",
             f"put the point back: {q} / {10**places} = {decimal_text(value)}")
    return Problem(kind="decimal", problem=text, steps=steps, answer=decimal_text(value))


def _round(rng: random.Random) -> Problem:
    if rng.random() < 0.3:  # a whole number to the nearest 10, 100 or 1000
        unit = 10 ** rng.randint(1, 3)
        n = rng.randint(unit + 1, 99999)
        name = {10: "ten", 100: "hundred", 1000: "thousand"}[unit]
        shown = f"{n:,}" if n >= 1000 and rng.random() < 0.4 else str(n)
        text = rng.choice((f"Round {shown} to the nearest {name}.", f"What is {shown} rounded to the nearest {name}?",
                           f"Round {shown} to the nearest {unit}."))
        down, after = n - n % unit, n // (unit // 10) % 10
        column = {10: "ones", 100: "tens", 1000: "hundreds"}[unit]
        if after < 5:
            steps = (f"the {column} digit is {after}, and {after} < 5, so round down to {down}",)
            return Problem(kind="decimal", problem=text, steps=steps, answer=str(down))
        steps = (f"the {column} digit is {after}, which is 5 or more, so round up: {down} + {unit} = {down + unit}",)
        return Problem(kind="decimal", problem=text, steps=steps, answer=str(down + unit))
    keep = rng.randint(0, 2)
    x = _draw(rng, rng.randint(keep + 1, 4), rng.randint(1, 2))
    while _places(x) <= keep:
        x += Fraction(1, 10 ** (keep + 1))
    a = decimal_text(x)
    target = {0: rng.choice(("the nearest whole number", "0 decimal places")),
              1: rng.choice(("the nearest tenth", "1 decimal place", "one decimal place")),
              2: rng.choice(("the nearest hundredth", "2 decimal places", "two decimal places"))}[keep]
    text = rng.choice((f"Round {a} to {target}.", f"What is {a} rounded to {target}?", f"Write {a} correct to "
                       f"{target}."))
    unit = Fraction(1, 10**keep)
    down = Fraction(int(x / unit)) * unit
    after = int(x * 10 ** (keep + 1)) % 10
    where = "the point" if keep == 0 else f"the {_ORDINAL[keep]} decimal place"
    if after < 5:
        steps = (f"the digit after {where} is {after}, and {after} < 5, so round down to {decimal_text(down, keep)}",)
        return Problem(kind="decimal", problem=text, steps=steps, answer=decimal_text(down, keep))
    up = down + unit
    steps = (f"the digit after {where} is {after}, which is 5 or more, so round up: {decimal_text(down, keep)} + "
             f"{decimal_text(unit)} = {decimal_text(up, keep)}",)
    return Problem(kind="decimal", problem=text, steps=steps, answer=decimal_text(up, keep))


_COMPARE = ("Which is bigger, {x} or {y}?", "Which is larger: {x} or {y}?", "Which is greater, {x} or {y}?",
            "Which number is smaller, {x} or {y}?", "Which is less: {x} or {y}?", "Is {x} or {y} larger?")


def _compare(rng: random.Random) -> Problem:
    """The bigger (or smaller) of two decimals that look alike (0.45 and 0.405, 3.7 and 3.65), compared with their
    places filled up to the same length, as thousandths."""
    whole = rng.randint(0, 9)
    x = Fraction(whole * 1000 + rng.randint(1, 999), 1000)
    y = Fraction(whole * 1000 + rng.choice((rng.randint(1, 999), int(x * 1000) % 1000 // 10 * 10 + rng.randint(0, 9))),
                 1000)
    if rng.random() < 0.5 and round(x * 100) % 100:  # one of them with fewer places: 0.45 against 0.405
        x = Fraction(round(x * 100), 100)
    while x == y:
        y += Fraction(1, 1000)
    template = rng.choice(_COMPARE)
    smaller = "smaller" in template or "less" in template
    text = template.format(x=decimal_text(x), y=decimal_text(y))
    big, small = max(x, y), min(x, y)
    answer = small if smaller else big
    steps = (f"the same number of places: {decimal_text(x, 3)} and {decimal_text(y, 3)}",
             f"{round(big * 1000)} > {round(small * 1000)} thousandths, so {decimal_text(big)} is bigger than "
             f"{decimal_text(small)}") + ((f"the smaller is {decimal_text(answer)}",) if smaller else ())
    return Problem(kind="decimal", problem=text, steps=steps, answer=decimal_text(answer))


def decimal(rng: random.Random) -> Problem:
    """One decimal problem: add, subtract, multiply, divide (by small numbers or powers of ten, or a division
    written as a decimal), round, or the bigger (or smaller) of two.

    >>> p = decimal(random.Random(5)); p.problem, p.answer
    ('What is 75.6 / 9?', '8.4')
    """
    notation = Notation.draw(rng, latex=0.2)
    what = rng.choices(("+", "-", "*", "/", "round", "compare"), weights=(23, 18, 18, 18, 14, 9))[0]
    if what == "compare":
        return _compare(rng)
    if what in "+-":
        return _add_or_subtract(rng, notation, what)
    if what == "*":
        return _multiply(rng, notation)
    if what == "/":
        return _divide(rng, notation)
    return _round(rng)
