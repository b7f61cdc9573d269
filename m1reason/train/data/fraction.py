"""Fraction kinds: ``fraction`` (add, subtract, multiply, divide, simplify, a fraction of a number) and
``mixed_number`` (the same on mixed numbers, and converting between mixed numbers and improper fractions).

Answers are in lowest terms, ``a/b`` or an integer (an improper fraction for a mixed-number sum; a mixed number
only when the question asks for one). Steps write fractions as ``a/b`` and never write a mixed number inside a
claim. Valid paths differ per problem: the least or the product common denominator, cancelling before or after
multiplying, simplifying by the greatest common factor at once or by primes, adding whole parts apart.
"""

from __future__ import annotations

import random
from fractions import Fraction
from math import gcd

from m1reason.train.data.phrasing import Notation
from m1reason.train.data.problem import Problem, fraction_text, solution_paths

__all__ = ["fraction", "mixed_number", "simplify_steps"]


def simplify_steps(n: int, d: int, paths: random.Random) -> list[str]:
    """Lines that bring ``n/d`` to lowest terms: by the greatest common factor at once, or (on some paths) one
    prime at a time; none when it is already in lowest terms.

    >>> simplify_steps(18, 24, random.Random(0))
    ['18 / 2 = 9, 24 / 2 = 12, so 18/24 = 9/12', '9 / 3 = 3, 12 / 3 = 4, so 9/12 = 3/4']
    >>> simplify_steps(18, 24, random.Random(1)), simplify_steps(12, 4, random.Random(1))
    (['18 and 24 share the factor 6: 18 / 6 = 3, 24 / 6 = 4, so 18/24 = 3/4'], ['12 / 4 = 3'])
    """
    g = gcd(n, d)
    if d == g:
        return [f"{n} / {d} = {n // d}"] if d > 1 else []
    if g == 1:
        return []
    if paths.random() < 0.5:
        return [f"{n} and {d} share the factor {g}: {n} / {g} = {n // g}, {d} / {g} = {d // g}, "
                f"so {n}/{d} = {fraction_text(Fraction(n, d))}"]
    lines = []
    for p in (2, 3, 5, 7, 11):
        while n % p == 0 and d % p == 0:
            lines.append(f"{n} / {p} = {n // p}, {d} / {p} = {d // p}, so {n}/{d} = {n // p}/{d // p}")
            n, d = n // p, d // p
    g = gcd(n, d)
    if g > 1:  # a prime factor above 11: finish at once
        lines.append(f"{n} / {g} = {n // g}, {d} / {g} = {d // g}, so {n}/{d} = {n // g}/{d // g}")
    return lines


def _rewrite(a: int, b: int, common: int) -> list[str]:
    if b == common:
        return []
    k = common // b
    return [f"{common} / {b} = {k}, {a} * {k} = {a * k}, so {a}/{b} = {a * k}/{common}"]


def _add_steps(x: Fraction, op: str, y: Fraction, paths: random.Random) -> list[str]:
    """``x op y`` (+ or -) over a common denominator, then simplified."""
    (a, b), (c, d) = (x.numerator, x.denominator), (y.numerator, y.denominator)
    if b == d:
        n = a + c if op == "+" else a - c
        return [f"{a}/{b} {op} {c}/{d} = {n}/{b}", *simplify_steps(n, b, paths)]
    least = b * d // gcd(b, d)
    common = b * d if least != b * d and paths.random() < 0.3 else least
    n1, n2 = a * common // b, c * common // d
    n = n1 + n2 if op == "+" else n1 - n2
    return [f"a common denominator of {b} and {d} is {common}", *_rewrite(a, b, common), *_rewrite(c, d, common),
            f"{n1}/{common} {op} {n2}/{common} = {n}/{common}", *simplify_steps(n, common, paths)]


def _multiply_steps(x: Fraction, y: Fraction, paths: random.Random) -> list[str]:
    """``x * y``: multiply across then simplify, or (on some paths, when it can) cancel across first."""
    (a, b), (c, d) = (x.numerator, x.denominator), (y.numerator, y.denominator)
    g1, g2 = gcd(a, d), gcd(c, b)
    lines = []
    if (g1 > 1 or g2 > 1) and paths.random() < 0.5:
        if g1 > 1:
            lines.append(f"cancel {g1} from {a} and {d}: {a} / {g1} = {a // g1}, {d} / {g1} = {d // g1}")
        if g2 > 1:
            lines.append(f"cancel {g2} from {c} and {b}: {c} / {g2} = {c // g2}, {b} / {g2} = {b // g2}")
        a2, d2, c2, b2 = a // g1, d // g1, c // g2, b // g2
        product = Fraction(a2 * c2, b2 * d2)
        return lines + [f"{a2} * {c2} = {a2 * c2}, {b2} * {d2} = {b2 * d2}, so {a}/{b} * {c}/{d} = "
                        f"{fraction_text(product)}"]
    return [f"{a} * {c} = {a * c}, {b} * {d} = {b * d}, so {a}/{b} * {c}/{d} = {a * c}/{b * d}",
            *simplify_steps(a * c, b * d, paths)]


def _operation_steps(x: Fraction, op: str, y: Fraction, paths: random.Random) -> list[str]:
    if op in "+-":
        return _add_steps(x, op, y, paths)
    if op == "*":
        return _multiply_steps(x, y, paths)
    flipped = Fraction(y.denominator, y.numerator)
    return [f"dividing by {fraction_text(y)} is multiplying by {y.denominator}/{y.numerator}",
            *_multiply_steps(x, flipped, paths),
            f"so ({x.numerator}/{x.denominator}) / ({fraction_text(y)}) = {fraction_text(x / y)}"]


def _proper(rng: random.Random, top: int = 12) -> Fraction:
    d = rng.randint(2, top)
    return Fraction(rng.randint(1, d - 1), d)


def _shown(notation: Notation, q: Fraction) -> str:
    return notation.frac(q.numerator, q.denominator)


def _sign(notation: Notation, op: str) -> str:
    if op == "/":  # never "3/4 / 2/5": a fraction bar next to a division slash reads two ways
        return " \\div " if notation.latex else " ÷ "
    return f" {notation.op(op).strip()} "  # "2 1/3 · 1 3/4", never "2 1/3·1 3/4"


_WORDED = {"+": ("Add {x} and {y}.", "What is the sum of {x} and {y}?", "What is {x} plus {y}?"),
           "-": ("Subtract {y} from {x}.", "What is {x} minus {y}?", "Find the difference between {x} and {y}."),
           "*": ("Multiply {x} by {y}.", "What is {x} of {y}?", "What is the product of {x} and {y}?"),
           "/": ("Divide {x} by {y}.", "What is {x} divided by {y}?", "How many times does {y} go into {x}?")}
_ASK = ("What is {}?", "Compute {}.", "Find {}.", "Calculate {}.", "Evaluate {}.", "Work out {}.",
        "Find the value of {}.", "{} = ?")
_LOWEST = ("", "", " Give the answer in lowest terms.", " Simplify your answer.", " Write the answer as a fraction.")


def _question(rng: random.Random, notation: Notation, x: str, op: str, y: str) -> str:
    if rng.random() < 0.7:
        return rng.choice(_ASK).format(notation.math(f"{x}{_sign(notation, op)}{y}")) + rng.choice(_LOWEST)
    return rng.choice(_WORDED[op]).format(x=notation.math(x), y=notation.math(y)) + rng.choice(_LOWEST)


_COMPARE = ("Which is bigger, {x} or {y}?", "Which is larger: {x} or {y}?", "Which is greater, {x} or {y}?",
            "Which fraction is smaller, {x} or {y}?", "Which is less: {x} or {y}?", "Is {x} or {y} larger?")


def _compare(rng: random.Random, notation: Notation) -> Problem:
    """The bigger (or smaller) of two different proper fractions, by cross-multiplying: a/b against c/d is ad
    against cb, both over bd."""
    x, y = _proper(rng), _proper(rng)
    while x == y:
        y = _proper(rng)
    template = rng.choice(_COMPARE)
    smaller = "smaller" in template or "less" in template
    text = template.format(x=notation.math(_shown(notation, x)), y=notation.math(_shown(notation, y)))
    (a, b), (c, d) = (x.numerator, x.denominator), (y.numerator, y.denominator)
    bigger, answer = (x, y) if x > y else (y, x), (y if x > y else x) if smaller else max(x, y)
    steps = (f"over a common denominator {b} * {d} = {b * d}: {a} * {d} = {a * d} and {c} * {b} = {c * b}",
             f"{max(a * d, c * b)} > {min(a * d, c * b)}, so {fraction_text(bigger[0])} is bigger than "
             f"{fraction_text(bigger[1])}") + ((f"the smaller is {fraction_text(answer)}",) if smaller else ())
    return Problem(kind="fraction", problem=text, steps=steps, answer=fraction_text(answer))


def fraction(rng: random.Random) -> Problem:
    """Two proper fractions added, subtracted, multiplied or divided; a fraction simplified; a fraction of a
    whole number; or the bigger (or smaller) of two.

    >>> p = fraction(random.Random(0)); p.problem, p.answer
    ('Calculate 7/8 · 2/3. Write the answer as a fraction.', '7/12')
    """
    notation = Notation.draw(rng)
    what = rng.choices(("+", "-", "*", "/", "simplify", "of", "compare"), weights=(23, 18, 18, 14, 9, 9, 9))[0]
    if what == "compare":
        return _compare(rng, notation)
    if what == "simplify":
        low, k = _proper(rng), rng.randint(2, 12)
        n, d = low.numerator * k, low.denominator * k
        shown = notation.math(notation.frac(n, d))
        text = rng.choice((f"Simplify {shown}.", f"Write {shown} in lowest terms.", f"Reduce {shown} to its "
                           "simplest form.", f"What is {shown} in simplest form?", f"Simplify the fraction {shown}."))
        return Problem(kind="fraction", problem=text, steps=tuple(simplify_steps(n, d, solution_paths(text))),
                       answer=fraction_text(low))
    if what == "of":
        part = _proper(rng)
        whole = part.denominator * rng.randint(2, 12)
        shown = notation.math(_shown(notation, part))
        text = rng.choice((f"What is {shown} of {whole}?", f"Find {shown} of {whole}.", f"Calculate {shown} of "
                           f"{whole}.", f"How much is {shown} of {whole}?"))
        a, b = part.numerator, part.denominator
        if solution_paths(text).random() < 0.5:
            steps = (f"{whole} / {b} = {whole // b}", f"{whole // b} * {a} = {whole // b * a}")
        else:
            steps = (f"{a} * {whole} = {a * whole}", f"{a * whole} / {b} = {a * whole // b}")
        return Problem(kind="fraction", problem=text, steps=steps, answer=str(a * whole // b))
    x, y = _proper(rng), _proper(rng)
    if what == "-" and y > x:
        x, y = y, x
    if what == "-" and x == y:
        y = Fraction(1, 2 * y.denominator)
    text = _question(rng, notation, _shown(notation, x), what, _shown(notation, y))
    value = {"+": x + y, "-": x - y, "*": x * y, "/": x / y}[what]
    return Problem(kind="fraction", problem=text, steps=tuple(_operation_steps(x, what, y, solution_paths(text))),
                   answer=fraction_text(value))


def _mixed_text(notation: Notation, whole: int, part: Fraction) -> str:
    if notation.latex:
        return f"{whole}\\frac{{{part.numerator}}}{{{part.denominator}}}"
    return f"{whole} {part.numerator}/{part.denominator}"


def _to_improper(whole: int, part: Fraction) -> str:
    n, d = part.numerator, part.denominator
    return f"{whole} * {d} + {n} = {whole * d + n}, so {whole} {n}/{d} is {whole * d + n}/{d}"


def mixed_number(rng: random.Random) -> Problem:
    """Mixed numbers: two added, subtracted, multiplied or divided (answer an improper fraction or integer),
    or one converted to an improper fraction, or an improper fraction written as a mixed number.

    >>> p = mixed_number(random.Random(0)); p.problem, p.answer
    ('Compute 4 2/3 - 3 2/5. Write the answer as a fraction.', '19/15')
    """
    notation = Notation.draw(rng)
    what = rng.choices(("+", "-", "*", "/", "improper", "mixed"), weights=(30, 25, 15, 10, 10, 10))[0]
    whole, part = rng.randint(1, 5 if what in "+-" else 3), _proper(rng, 10 if what in "+-" else 6)
    value = whole + part
    if what in ("improper", "mixed"):
        if what == "improper":
            shown = notation.math(_mixed_text(notation, whole, part))
            text = rng.choice((f"Write {shown} as an improper fraction.", f"Convert {shown} to an improper fraction.",
                               f"What is {shown} as an improper fraction?", f"Change {shown} into an improper "
                               "fraction."))
            return Problem(kind="mixed_number", problem=text, steps=(_to_improper(whole, part),),
                           answer=fraction_text(value))
        n, d = value.numerator, value.denominator
        shown = notation.math(notation.frac(n, d))
        text = rng.choice((f"Write {shown} as a mixed number.", f"Convert {shown} to a mixed number.",
                           f"What is {shown} as a mixed number?", f"Change the improper fraction {shown} into a "
                           "mixed number."))
        steps = (f"{d} * {whole} = {d * whole}, {n} - {d * whole} = {part.numerator}",
                 f"so {n}/{d} is {whole} whole and {part.numerator}/{d} left")
        return Problem(kind="mixed_number", problem=text, steps=steps, answer=f"{whole} {part.numerator}/{d}")
    other_whole, other_part = rng.randint(1, 5 if what in "+-" else 3), _proper(rng, 10 if what in "+-" else 6)
    other = other_whole + other_part
    if what == "-" and other >= value:
        (whole, part, value), (other_whole, other_part, other) = (other_whole, other_part, other), (whole, part, value)
    if what == "-" and other == value:
        whole, value = whole + 1, value + 1
    text = _question(rng, notation, _mixed_text(notation, whole, part), what,
                     _mixed_text(notation, other_whole, other_part))
    paths = solution_paths(text)
    result = {"+": value + other, "-": value - other, "*": value * other, "/": value / other}[what]
    if what == "+" and paths.random() < 0.4:  # whole parts and fraction parts apart
        parts = part + other_part
        steps = [f"whole parts: {whole} + {other_whole} = {whole + other_whole}",
                 *_add_steps(part, "+", other_part, paths),
                 f"{whole + other_whole} + {fraction_text(parts)} = {fraction_text(result)}"]
    else:
        steps = [_to_improper(whole, part), _to_improper(other_whole, other_part),
                 *_operation_steps(value, what, other, paths)]
    return Problem(kind="mixed_number", problem=text, steps=tuple(steps), answer=fraction_text(result))
