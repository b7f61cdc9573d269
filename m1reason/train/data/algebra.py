"""Algebra kinds: ``equation`` (one unknown: ``ax + b = c``, ``x + b = c``, ``a(x + b) = c``, ``x/a + b = c``,
``ax + b = cx + d`` and their rearrangements, bare or as a number puzzle, "I think of a number", "twice a number
plus 5 is 17") and ``system`` (two linear equations in x and y, or a and b, m and n, ..., with an integer
solution, solved by adding, subtracting or substituting, one of them sometimes given; asked for both unknowns,
the pair, one unknown or their sum; also two numbers from their sum and difference, two baskets of shopping and
the classic ticket problem).

Steps keep arithmetic and algebra apart: ``20 - 5 = 15, so 3x = 15`` (the claim is ``20 - 5 = 15``; the
equation after "so" has a variable and is no claim), and end with a substitution back as a check.
"""

from __future__ import annotations

import random
import re

from m1reason.train.data.phrasing import Notation, currency, pick_names
from m1reason.train.data.problem import Problem, operand, solution_paths

__all__ = ["equation", "linear_text", "system"]


def linear_text(coefficients: list[int], names: list[str], constant: int = 0) -> str:
    """A linear expression as people write it: ``3x - y + 4``, ``-x + 2y``.

    >>> linear_text([3, -1], ["x", "y"], 4), linear_text([-1, 2], ["x", "y"]), linear_text([0, 5], ["x", "y"], -2)
    ('3x - y + 4', '-x + 2y', '5y - 2')
    """
    parts = []
    for c, name in zip(coefficients, names):
        if c:
            size = name if abs(c) == 1 else f"{abs(c)}{name}"
            parts.append(("-" if c < 0 else "") + size if not parts else (" - " if c < 0 else " + ") + size)
    if constant:
        parts.append(str(constant) if not parts else (" - " if constant < 0 else " + ") + str(abs(constant)))
    return "".join(parts) or "0"


def _signed(b: int) -> str:
    return f"+ {b}" if b >= 0 else f"- {-b}"


def _combination(a: int, x: int, b: int, y: int) -> str:
    """``a * x + b * y`` for a check line, a negative ``b`` written as a subtraction."""
    return f"{a} * {operand(x)} {'+' if b >= 0 else '-'} {abs(b)} * {operand(y)}"


_SOLVE = ("Solve for {v}: {eq}.", "Solve {eq}.", "Find {v} if {eq}.", "If {eq}, what is {v}?",
          "What value of {v} makes {eq} true?", "Solve the equation {eq} for {v}.", "{eq}. What is {v}?",
          "Find the value of {v} in {eq}.", "Solve: {eq}", "Find {v}: {eq}", "{eq}, {v} = ?", "What is {v} if {eq}?",
          "{eq}. Solve for {v}.", "Find {v} when {eq}.", "Solve for {v} in {eq}.", "What is {v} in {eq}?")


def _term(a: int, v: str) -> str:
    """``a`` times ``v`` as people write it: ``x`` for one, ``3x`` otherwise."""
    return v if a == 1 else f"{a}{v}"


def _balance(a: int, b: int, c: int, v: str) -> list[str]:
    """``a v + b = c`` solved: take b off both sides, divide by a, check.

    >>> _balance(1, 7, 15, "x")
    ['subtract 7 from both sides: 15 - 7 = 8, so x = 8', 'check: 8 + 7 = 15']
    """
    x = (c - b) // a
    lines = [f"{'subtract' if b > 0 else 'add'} {abs(b)} {'from' if b > 0 else 'to'} both sides: {c} "
             f"{'-' if b > 0 else '+'} {abs(b)} = {c - b}, so {_term(a, v)} = {c - b}"] if b else []
    if a != 1:
        lines.append(f"divide both sides by {a}: {c - b} / {a} = {x}, so {v} = {x}")
    lines.append(f"check: {_times(a, x)} {_signed(b)} = {c}" if b else f"check: {_times(a, x)} = {c}")
    return lines


def _times(a: int, x: int) -> str:
    """``a * x`` in a check line, or ``x`` alone when ``a`` is 1."""
    return str(x) if a == 1 else f"{a} * {operand(x)}"


def _said(a: int) -> str:
    return "Twice" if a == 2 else f"{a} times"


# How a number puzzle says each form: (a, b, c) with b's sign spelt out by the wording. The first of each is the
# classic "I think of a number"; the others are how worksheets word the same equation.
def _worded(form: str, a: int, b: int, c: int, rng: random.Random) -> str:
    plus, more = ("plus", "added") if b > 0 else ("minus", "subtracted")
    wordings = {
        "ax+b": (f"I think of a number, multiply it by {a} and {'add' if b > 0 else 'subtract'} {abs(b)}. The result "
                 f"is {c}. What is my number?", f"{_said(a)} a number {plus} {abs(b)} is {c}. What is the number?",
                 f"When a number is multiplied by {a} and then {abs(b)} is {more}, the answer is {c}. Find the "
                 "number."),
        "a(x+b)": (f"I think of a number, {'add' if b > 0 else 'subtract'} {abs(b)} and multiply the result by {a}. I "
                   f"get {c}. What was my number?", f"{abs(b)} is {'added to' if b > 0 else 'subtracted from'} a "
                   f"number and the result is multiplied by {a}, giving {c}. What is the number?"),
        "x/a+b": (f"A number is divided by {a} and then {abs(b)} is {'added' if b > 0 else 'taken away'}. The result "
                  f"is {c}. Find the number.", f"A number divided by {a}, {plus} {abs(b)}, equals {c}. What is the "
                  "number?"),
        "ax": (f"A number multiplied by {a} gives {c}. What is the number?",
               f"{_said(a)} a number is {c}. Find the number.")}
    return rng.choice(wordings[form])


def _both_sides(rng: random.Random, x: int, v: str, notation: Notation) -> Problem:
    """``ax + b = cx + d``: take the smaller x term off both sides, then balance as usual."""
    c = rng.randint(1, 6)
    a = c + rng.randint(1, 6)
    b = rng.choice((-1, 1)) * rng.randint(1, 20)
    d = (a - c) * x + b
    if d == 0:
        b, d = b + 1, d + 1
    eq = notation.math(f"{_term(a, v)} {_signed(b)} = {_term(c, v)} {_signed(d)}")
    text = rng.choice(_SOLVE).format(v=v, eq=eq)
    steps = [f"subtract {_term(c, v)} from both sides: {a} - {c} = {a - c}, so {_term(a - c, v)} {_signed(b)} = {d}",
             *_balance(a - c, b, d, v)[:-1],
             f"check: {a} * {operand(x)} {_signed(b)} = {a * x + b} and {_times(c, x)} {_signed(d)} = {a * x + b}"]
    return Problem(kind="equation", problem=text, steps=tuple(steps), answer=str(x))


def equation(rng: random.Random) -> Problem:
    """One linear equation in one unknown with an integer solution: ``ax + b = c`` (``x + b = c`` too),
    ``a(x + b) = c``, ``x/a + b = c``, ``ax = c`` or ``ax + b = cx + d``, bare or as a number puzzle.

    >>> p = equation(random.Random(1)); p.problem, p.answer
    ('43 = 4k - 9. Solve for k.', '13')
    >>> for step in p.steps: print(step)
    add 9 to both sides: 43 + 9 = 52, so 4k = 52
    divide both sides by 4: 52 / 4 = 13, so k = 13
    check: 4 * 13 - 9 = 43
    >>> p = equation(random.Random(37)); p.problem
    'What value of x makes 10x + 15 = 4x + 81 true?'
    >>> for step in p.steps: print(step)
    subtract 4x from both sides: 10 - 4 = 6, so 6x + 15 = 81
    subtract 15 from both sides: 81 - 15 = 66, so 6x = 66
    divide both sides by 6: 66 / 6 = 11, so x = 11
    check: 10 * 11 + 15 = 125 and 4 * 11 + 81 = 125
    """
    a, x = rng.randint(2, 9), rng.randint(-10, 15) if rng.random() < 0.25 else rng.randint(1, 15)
    b = rng.choice((-1, 1)) * rng.randint(1, 30)
    form = rng.choices(("ax+b", "a(x+b)", "x/a+b", "ax", "x+b", "both"), weights=(35, 20, 15, 10, 10, 10))[0]
    if form == "x/a+b":
        x = a * rng.randint(-3 if x < 0 else 1, 10)
    worded = rng.random() < 0.2 and x > 0 and form in ("ax+b", "a(x+b)", "x/a+b", "ax")
    v = "n" if worded else rng.choice("xxxxnyak")
    notation = Notation.draw(rng, latex=0 if worded else 0.25)
    if form == "both":
        return _both_sides(rng, x, v, notation)
    if form == "x+b":  # a lone x: "x + 7 = 15", solved as 1x + 7 = 15 without the division
        form, a = "ax+b", 1
    c = {"ax+b": a * x + b, "a(x+b)": a * (x + b), "x/a+b": x // a + b, "ax": a * x}[form]
    left = {"ax+b": f"{_term(a, v)} {_signed(b)}", "a(x+b)": f"{a}({v} {_signed(b)})", "ax": f"{a}{v}",
            "x/a+b": (f"\\frac{{{v}}}{{{a}}}" if notation.latex else f"{v}/{a}") + f" {_signed(b)}"}[form]
    if a == 1 and b > 0 and rng.random() < 0.3:
        left = f"{b} + {v}"
    if worded:
        text = _worded(form, a, b, c, rng)
        steps = [f"let the number be n: {left} = {c}"]
    else:
        shown = notation.math(f"{left} = {c}" if rng.random() < 0.85 else f"{c} = {left}")
        text = rng.choice(_SOLVE).format(v=v, eq=shown)
        steps = []
    if form == "ax+b" or form == "ax":
        steps += _balance(a, b if form == "ax+b" else 0, c, v)
    elif form == "a(x+b)":
        if solution_paths(text).random() < 0.5:  # divide first
            k = c // a
            steps += [f"divide both sides by {a}: {c} / {a} = {k}, so {v} {_signed(b)} = {k}",
                      f"{k} {'-' if b > 0 else '+'} {abs(b)} = {x}, so {v} = {x}",
                      f"check: {a} * ({operand(x)} {_signed(b)}) = {c}"]
        else:  # expand the brackets first
            steps += [f"expand: {a} * {operand(b)} = {a * b}, so {a}{v} {_signed(a * b)} = {c}",
                      *_balance(a, a * b, c, v)]
    else:
        k = c - b
        steps += [f"{'subtract' if b > 0 else 'add'} {abs(b)}: {c} {'-' if b > 0 else '+'} {abs(b)} = {k}, "
                  f"so {v}/{a} = {k}", f"multiply both sides by {a}: {k} * {a} = {x}, so {v} = {x}",
                  f"check: {x} / {a} {_signed(b)} = {c}"]
    return Problem(kind="equation", problem=text, steps=tuple(steps), answer=str(x))


def _pair(x: int, y: int, ask: str) -> str:
    """The answer to what the question asks: both unknowns named, the pair ``(x, y)``, one of them, or their sum."""
    return {"both": f"x = {x}, y = {y}", "pair": f"({x}, {y})", "x": str(x), "y": str(y), "total": str(x + y)}[ask]


_SYSTEM = ("Solve the system: {e1} and {e2}.", "Solve the simultaneous equations {e1} and {e2}.",
           "Find x and y if {e1} and {e2}.", "Solve for x and y: {e1}, {e2}.", "{e1} and {e2}. Find x and y.",
           "Solve: {e1}, {e2}", "{e1}, {e2}. Find x and y.", "Solve the system of equations {e1} and {e2}.",
           "Find the values of x and y: {e1} and {e2}.", "Solve simultaneously: {e1} and {e2}.",
           "What are x and y if {e1} and {e2}?", "Given {e1} and {e2}, find x and y.")
_PAIR = ("Solve {e1} and {e2}. Give the answer as (x, y).", "Find the solution (x, y) of {e1} and {e2}.",
         "Which pair (x, y) satisfies both {e1} and {e2}?", "Solve the system {e1}, {e2}. Write the solution as "
         "an ordered pair (x, y).")
_ONE = ("If {e1} and {e2}, what is {v}?", "Given {e1} and {e2}, find {v}.", "{e1} and {e2}. What is {v}?",
        "Solve {e1} and {e2} for {v}.", "Find the value of {v} if {e1} and {e2}.", "{e1}, {e2}. {v} = ?")
_TOTAL = ("If {e1} and {e2}, what is x + y?", "Given {e1} and {e2}, find x + y.",
          "{e1} and {e2}. What is the value of x + y?")
_WORDINGS = {"both": _SYSTEM, "pair": _PAIR, "x": _ONE, "y": _ONE, "total": _TOTAL}
# The unknowns a bare system is written in; x and y most, as in most books, but "2a + b = 11" is as common.
_LETTERS = ("xy", "xy", "xy", "xy", "xy", "ab", "mn", "pq", "st")


def _system_text(rng: random.Random, notation: Notation, e1: str, e2: str, ask: str) -> str:
    e1, e2 = notation.math(e1), notation.math(e2)
    if rng.random() < 0.3:
        e1, e2 = e2, e1
    return rng.choice(_WORDINGS[ask]).format(e1=e1, e2=e2, v=ask)


def _renamed(text: str, letters: str) -> str:
    """``text`` (a bare system's question, step or answer) with the unknowns x and y written as ``letters``.

    >>> _renamed("Solve 2x + y = 11 and x - y = 1. Find x and y: expand (x, y)", "ab")
    'Solve 2a + b = 11 and a - b = 1. Find a and b: expand (a, b)'
    """
    if letters == "xy":
        return text
    return re.sub(r"(?<![A-Za-z\\])[xy](?![A-Za-z])", lambda m: letters["xy".index(m[0])], text)


_Solved = tuple[str, list[str], str, int, int]  # text, steps, which unknown is asked for, x, y


def _total_line(x: int, y: int) -> str:
    return f"{x} + {operand(y)} = {x + y}, so x + y = {x + y}"


def _sum_difference(rng: random.Random, x: int, y: int, notation: Notation, ask: str) -> _Solved:
    """x + y = s and x - y = d: add them (never asking for x + y, which the first equation says)."""
    s, d = x + y, x - y
    ask = "both" if ask == "total" else ask
    text = _system_text(rng, notation, f"x + y = {s}", f"x - y = {d}", ask)
    lines = [f"add the equations: {s} + {operand(d)} = {2 * x}, so 2x = {2 * x}", f"{2 * x} / 2 = {x}, so x = {x}",
             f"{s} - {operand(x)} = {y}, so y = {y}", f"check: {x} - {operand(y)} = {d}"]
    return text, lines, ask, x, y


def _same_coefficient(rng: random.Random, x: int, y: int, notation: Notation, ask: str) -> _Solved:
    """The same y coefficient in both: subtract to lose y."""
    a2, a1 = sorted(rng.sample(range(1, 7), 2))
    b = rng.choice((-3, -2, -1, 1, 2, 3, 4))
    c1, c2 = a1 * x + b * y, a2 * x + b * y
    text = _system_text(rng, notation, f"{linear_text([a1, b], ['x', 'y'])} = {c1}",
                        f"{linear_text([a2, b], ['x', 'y'])} = {c2}", ask)
    lines = [f"subtract the equations: {a1} - {a2} = {a1 - a2}, {c1} - {operand(c2)} = {c1 - c2}, so "
             f"{linear_text([a1 - a2], ['x'])} = {c1 - c2}"]
    if a1 - a2 != 1:
        lines.append(f"{c1 - c2} / {a1 - a2} = {x}, so x = {x}")
    lines.append(f"{a1} * {operand(x)} = {a1 * x}, {c1} - {operand(a1 * x)} = {b * y}, so "
                 f"{linear_text([b], ['y'])} = {b * y}")
    if b != 1:
        lines.append(f"{b * y} / {operand(b)} = {y}, so y = {y}")
    lines.append(f"check: {_combination(a2, x, b, y)} = {c2}")
    return text, lines, ask, x, y


def _substitute(rng: random.Random, x: int, y: int, notation: Notation, ask: str) -> _Solved:
    """y = mx + k and ax + by = c: put the first into the second."""
    m, k = rng.choice((-2, -1, 1, 2, 3)), rng.randint(-6, 6)
    y = m * x + k
    a, b = rng.randint(1, 5), rng.choice((-2, -1, 1, 2, 3))
    while a + b * m == 0:
        a += 1
    c = a * x + b * y
    big = a + b * m
    text = _system_text(rng, notation, f"y = {linear_text([m], ['x'], k)}", f"{linear_text([a, b], ['x', 'y'])}"
                        f" = {c}", ask)
    into = f"put y = {linear_text([m], ['x'], k)} into the other equation"
    lines = [f"{into}: {b} * {operand(m)} = {b * m}, {b} * {operand(k)} = {b * k}" if b != 1 else f"{into}",
             f"{a} + {operand(b * m)} = {big}, so {linear_text([big], ['x'], b * k)} = {c}",
             f"{c} - {operand(b * k)} = {c - b * k}, so {linear_text([big], ['x'])} = {c - b * k}"]
    if big != 1:
        lines.append(f"{c - b * k} / {operand(big)} = {x}, so x = {x}")
    lines += [f"{m} * {operand(x)} + {operand(k)} = {y}, so y = {y}", f"check: {_combination(a, x, b, y)} = {c}"]
    return text, lines, ask, x, y


def _eliminate(rng: random.Random, x: int, y: int, notation: Notation, ask: str) -> _Solved:
    """x + b1 y = c1 and a2 x + b2 y = c2: scale the first by a2 and subtract."""
    a2, b1, b2 = rng.randint(2, 4), rng.choice((-2, -1, 1, 2, 3)), rng.choice((-3, -1, 1, 2, 4, 5))
    while a2 * b1 == b2:
        b2 += 1
    c1, c2 = x + b1 * y, a2 * x + b2 * y
    text = _system_text(rng, notation, f"{linear_text([1, b1], ['x', 'y'])} = {c1}",
                        f"{linear_text([a2, b2], ['x', 'y'])} = {c2}", ask)
    big, rhs = a2 * b1 - b2, a2 * c1 - c2
    lines = [f"multiply the first equation by {a2}: {a2} * {operand(b1)} = {a2 * b1}, {a2} * {operand(c1)} = "
             f"{a2 * c1}, so {linear_text([a2, a2 * b1], ['x', 'y'])} = {a2 * c1}",
             f"subtract the second: {a2 * b1} - {operand(b2)} = {big}, {a2 * c1} - {operand(c2)} = {rhs}, so "
             f"{linear_text([big], ['y'])} = {rhs}", f"{rhs} / {operand(big)} = {y}, so y = {y}",
             f"{c1} - {operand(b1)} * {operand(y)} = {x}, so x = {x}", f"check: {_combination(a2, x, b2, y)} = {c2}"]
    return text, lines, ask, x, y


def _given(rng: random.Random, x: int, y: int, notation: Notation, ask: str) -> _Solved:
    """ax + by = c with one unknown given (``If 3x + 2y = 12 and x = 2, what is y?``): put it in, solve for the
    other; the question asks for the other, whatever ``ask`` was."""
    a, b = rng.choice((1, 2, 3, 4, 5, -1, -2)), rng.choice((1, 2, 3, 4, 5, -1, -2, -3))
    c = a * x + b * y
    known, value, own, unknown, want, coefficient = rng.choice((("x", x, a, "y", y, b), ("y", y, b, "x", x, a)))
    text = _system_text(rng, notation, f"{linear_text([a, b], ['x', 'y'])} = {c}", f"{known} = {value}", unknown)
    rest = c - own * value
    lines = [f"put {known} = {value} in: {own} * {operand(value)} = {own * value}, so "
             f"{linear_text([coefficient], [unknown], own * value)} = {c}",
             f"{c} - {operand(own * value)} = {rest}, so {linear_text([coefficient], [unknown])} = {rest}"]
    if coefficient != 1:
        lines.append(f"{rest} / {operand(coefficient)} = {want}, so {unknown} = {want}")
    lines.append(f"check: {_combination(a, x, b, y)} = {c}")
    return text, lines, unknown, x, y


_FORMS = {"sum": _sum_difference, "same": _same_coefficient, "substitute": _substitute, "eliminate": _eliminate,
          "given": _given}
_TWO_NUMBERS = ("Two numbers add up to {s} and their difference is {d}.",
                "The sum of two numbers is {s} and their difference is {d}.",
                "Two numbers have a sum of {s} and a difference of {d}.",
                "The sum of two numbers is {s}. One of them is {d} more than the other.")
_MULTIPLE = {"sum": ("The sum of two numbers is {s}. One number is {k} times the other.",
                     "One number is {k} times another, and together they make {s}."),
             "difference": ("One number is {k} times another. Their difference is {d}.",
                            "The difference of two numbers is {d}, and one is {k} times the other.")}
_WHICH = ("What is the {which} number?", "Find the {which} number.", "What is the {which} of the two numbers?")


def _two_numbers(rng: random.Random) -> Problem:
    """Two unknown numbers from their sum and difference, or from a sum or difference and "k times the other",
    said in words; the question asks for the larger or the smaller."""
    larger = rng.random() < 0.5
    question = rng.choice(_WHICH).format(which=rng.choice(("larger", "bigger", "greater") if larger else
                                                          ("smaller",)))
    if rng.random() < 0.6:  # sum and difference
        y = rng.randint(1, 40)
        x = y + rng.randint(1, 30)
        s, d = x + y, x - y
        text = rng.choice(_TWO_NUMBERS).format(s=s, d=d) + " " + question
        lines = [f"let the numbers be x and y, with x + y = {s} and x - y = {d}",
                 f"add the equations: {s} + {d} = {2 * x}, so 2x = {2 * x}", f"{2 * x} / 2 = {x}, so x = {x}"]
        if not larger:
            lines.append(f"{s} - {x} = {y}, so y = {y}")
        lines.append(f"check: {x} - {y} = {d}")
        return Problem(kind="system", problem=text, steps=tuple(lines), answer=str(x if larger else y))
    k, n = rng.randint(2, 6), rng.randint(2, 20)
    how = rng.choice(("sum", "difference"))
    text = rng.choice(_MULTIPLE[how]).format(s=(k + 1) * n, d=(k - 1) * n, k=k) + " " + question
    if how == "sum":
        lines = [f"the smaller is 1 part and the larger {k} parts: 1 + {k} = {k + 1} parts",
                 f"one part is {(k + 1) * n} / {k + 1} = {n}"]
    else:
        lines = [f"the smaller is 1 part and the larger {k} parts: the difference is {k} - 1 = {k - 1} parts"]
        lines.append(f"one part is {(k - 1) * n} / {k - 1} = {n}" if k > 2 else f"so one part is {n}")
    lines.append(f"the smaller number is {n}" if not larger else f"the larger number is {k} * {n} = {k * n}")
    return Problem(kind="system", problem=text, steps=tuple(lines), answer=str(k * n if larger else n))


_GOODS = (("apple", "apples"), ("pear", "pears"), ("pen", "pens"), ("notebook", "notebooks"), ("pie", "pies"),
          ("cake", "cakes"), ("burger", "burgers"), ("drink", "drinks"), ("ruler", "rulers"), ("melon", "melons"))


def _prices(rng: random.Random) -> Problem:
    """Two baskets with the same number of the second thing: the difference in cost is the extra first things."""
    cash = currency(rng).format
    (one, ones), (two, twos) = rng.sample(_GOODS, 2)
    x, y = rng.randint(1, 12), rng.randint(1, 12)
    a2 = rng.randint(1, 4)
    a1, b = a2 + rng.randint(1, 4), rng.randint(1, 5)
    c1, c2 = a1 * x + b * y, a2 * x + b * y

    def basket(count: int, thing: str, things: str) -> str:
        return f"{count} {thing if count == 1 else things}"

    want_first = rng.random() < 0.5
    item = one if want_first else two
    lots = [f"{basket(a1, one, ones)} and {basket(b, two, twos)} cost {cash(c1)}.",
            f"{basket(a2, one, ones)} and {basket(b, two, twos)} cost {cash(c2)}."]
    rng.shuffle(lots)
    text = " ".join(lots) + " " + rng.choice((f"How much does one {item} cost?", f"What is the price of one {item}?",
                                              f"How much is one {item}?"))
    lines = [f"the dearer lot has {a1} - {a2} = {a1 - a2} more {ones} and costs {c1} - {c2} = {c1 - c2} more"]
    lines.append(f"one {one} costs {c1 - c2} / {a1 - a2} = {x}" if a1 - a2 > 1 else f"so one {one} costs {x}")
    if not want_first:
        lines += [f"{a2} * {x} = {a2 * x}, {c2} - {a2 * x} = {b * y}",
                  f"one {two} costs {b * y} / {b} = {y}" if b > 1 else f"so one {two} costs {y}"]
    return Problem(kind="system", problem=text, steps=tuple(lines), answer=str(x if want_first else y))


def system(rng: random.Random) -> Problem:
    """Two linear equations in two unknowns with an integer solution, bare (in x and y, or a and b, m and n, ...)
    or as a story; the answer is ``x = ..., y = ...``, the pair ``(x, y)`` when asked for it, one unknown, or
    ``x + y``.

    >>> p = system(random.Random(1)); p.problem, p.answer
    ('Solve simultaneously: 4x + 4y = -16 and x + 4y = -13.', 'x = -1, y = -3')
    >>> p = system(random.Random(3)); p.problem, p.answer
    ('Solve the system $3s + 4t = 54$, $s + t = 14$. Write the solution as an ordered pair (s, t).', '(2, 12)')
    """
    x, y = rng.randint(-5, 12), rng.randint(-5, 12)
    notation = Notation.draw(rng, latex=0.25)
    ask = rng.choices(("both", "pair", "x", "y", "total"), weights=(52, 10, 14, 14, 10))[0]
    form = rng.choices(("sum", "same", "substitute", "eliminate", "given", "numbers", "prices", "tickets"),
                       weights=(14, 18, 15, 15, 10, 12, 8, 8))[0]
    stories = {"numbers": _two_numbers, "prices": _prices, "tickets": _tickets}
    if form in stories:
        return stories[form](rng)
    text, lines, ask, x, y = _FORMS[form](rng, x, y, notation, ask)
    if ask == "total":
        lines.append(_total_line(x, y))
    letters = rng.choice(_LETTERS)
    return Problem(kind="system", problem=_renamed(text, letters), steps=tuple(_renamed(li, letters) for li in lines),
                   answer=_renamed(_pair(x, y, ask), letters))


def _tickets(rng: random.Random) -> Problem:
    cash = currency(rng).format
    adult, child = sorted(rng.sample(range(3, 20), 2), reverse=True)
    adults, children = rng.randint(1, 9), rng.randint(1, 9)
    count, total = adults + children, adults * adult + children * child
    name = pick_names(rng, 1)[0]
    want_adults = rng.random() < 0.5
    text = (f"Adult tickets cost {cash(adult)} and child tickets cost {cash(child)}. {name} buys {count} "
            f"tickets for {cash(total)} in all. How many {'adult' if want_adults else 'child'} tickets did "
            f"{name} buy?")
    lines = [f"if all {count} were child tickets: {count} * {child} = {count * child}",
             f"the extra is {total} - {count * child} = {total - count * child}",
             f"each adult ticket costs {adult} - {child} = {adult - child} more",
             f"{total - count * child} / {adult - child} = {adults} adult tickets"]
    if not want_adults:
        lines.append(f"{count} - {adults} = {children} child tickets")
    return Problem(kind="system", problem=text, steps=tuple(lines), answer=str(adults if want_adults else children))
