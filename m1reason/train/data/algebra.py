"""Algebra kinds: ``equation`` (one unknown: ``ax + b = c``, ``a(x + b) = c``, ``x/a + b = c`` and their
rearrangements, bare or as "I think of a number") and ``system`` (two linear equations in x and y with an
integer solution, solved by adding, subtracting or substituting; also the classic ticket problem).

Steps keep arithmetic and algebra apart: ``20 - 5 = 15, so 3x = 15`` (the claim is ``20 - 5 = 15``; the
equation after "so" has a variable and is no claim), and end with a substitution back as a check.
"""

from __future__ import annotations

import random

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
          "Find the value of {v} in {eq}.")


def _balance(a: int, b: int, c: int, v: str) -> list[str]:
    """``a v + b = c`` solved: take b off both sides, divide by a, check."""
    x = (c - b) // a
    lines = [f"{'subtract' if b > 0 else 'add'} {abs(b)} {'from' if b > 0 else 'to'} both sides: {c} "
             f"{'-' if b > 0 else '+'} {abs(b)} = {c - b}, so {a}{v} = {c - b}"] if b else []
    if a != 1:
        lines.append(f"divide both sides by {a}: {c - b} / {a} = {x}, so {v} = {x}")
    lines.append(f"check: {a} * {operand(x)} {_signed(b)} = {c}" if b else f"check: {a} * {operand(x)} = {c}")
    return lines


def equation(rng: random.Random) -> Problem:
    """One linear equation in one unknown with an integer solution.

    >>> p = equation(random.Random(1)); p.problem, p.answer
    ('43 = 4k - 9. What is k?', '13')
    >>> for step in p.steps: print(step)
    add 9 to both sides: 43 + 9 = 52, so 4k = 52
    divide both sides by 4: 52 / 4 = 13, so k = 13
    check: 4 * 13 - 9 = 43
    """
    a, x = rng.randint(2, 9), rng.randint(-10, 15) if rng.random() < 0.25 else rng.randint(1, 15)
    b = rng.choice((-1, 1)) * rng.randint(1, 30)
    form = rng.choices(("ax+b", "a(x+b)", "x/a+b", "ax"), weights=(45, 25, 20, 10))[0]
    if form == "x/a+b":
        x = a * rng.randint(-3 if x < 0 else 1, 10)
    worded = rng.random() < 0.2 and x > 0 and form != "ax"
    v = "n" if worded else rng.choice("xxxxnyak")
    notation = Notation.draw(rng, latex=0 if worded else 0.25)
    c = {"ax+b": a * x + b, "a(x+b)": a * (x + b), "x/a+b": x // a + b, "ax": a * x}[form]
    left = {"ax+b": f"{a}{v} {_signed(b)}", "a(x+b)": f"{a}({v} {_signed(b)})", "ax": f"{a}{v}",
            "x/a+b": (f"\\frac{{{v}}}{{{a}}}" if notation.latex else f"{v}/{a}") + f" {_signed(b)}"}[form]
    if worded:
        text = {"ax+b": f"I think of a number, multiply it by {a} and {'add' if b > 0 else 'subtract'} {abs(b)}. "
                        f"The result is {c}. What is my number?",
                "a(x+b)": f"I think of a number, {'add' if b > 0 else 'subtract'} {abs(b)} and multiply the result "
                          f"by {a}. I get {c}. What was my number?",
                "x/a+b": f"A number is divided by {a} and then {abs(b)} is {'added' if b > 0 else 'taken away'}. "
                         f"The result is {c}. Find the number."}[form]
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
    return {"both": f"x = {x}, y = {y}", "x": str(x), "y": str(y)}[ask]


_SYSTEM = ("Solve the system: {e1} and {e2}.", "Solve the simultaneous equations {e1} and {e2}.",
           "Find x and y if {e1} and {e2}.", "Solve for x and y: {e1}, {e2}.", "{e1} and {e2}. Find x and y.")
_ONE = ("If {e1} and {e2}, what is {v}?", "Given {e1} and {e2}, find {v}.", "{e1} and {e2}. What is {v}?")


def _system_text(rng: random.Random, notation: Notation, e1: str, e2: str, ask: str) -> str:
    e1, e2 = notation.math(e1), notation.math(e2)
    if rng.random() < 0.3:
        e1, e2 = e2, e1
    if ask == "both":
        return rng.choice(_SYSTEM).format(e1=e1, e2=e2)
    return rng.choice(_ONE).format(e1=e1, e2=e2, v=ask)


_Solved = tuple[str, list[str], str, int, int]  # text, steps, which unknown is asked for, x, y


def _sum_difference(rng: random.Random, x: int, y: int, notation: Notation, ask: str) -> _Solved:
    """x + y = s and x - y = d: add them (or the same as "two numbers add up to s")."""
    s, d = x + y, x - y
    if rng.random() < 0.3 and x > y > 0:
        ask = rng.choice(("x", "y"))
        text = (f"Two numbers add up to {s} and their difference is {d}. What is the "
                f"{'larger' if ask == 'x' else 'smaller'} number?")
        lines = [f"let the numbers be x and y, with x + y = {s} and x - y = {d}"]
    else:
        text = _system_text(rng, notation, f"x + y = {s}", f"x - y = {d}", ask)
        lines = []
    lines += [f"add the equations: {s} + {operand(d)} = {2 * x}, so 2x = {2 * x}", f"{2 * x} / 2 = {x}, so x = {x}",
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


_FORMS = {"sum": _sum_difference, "same": _same_coefficient, "substitute": _substitute, "eliminate": _eliminate}


def system(rng: random.Random) -> Problem:
    """Two linear equations in x and y with an integer solution; the answer is ``x = ..., y = ...``, or one of
    them when only one is asked for.

    >>> p = system(random.Random(1)); p.problem, p.answer
    ('4x + 4y = -16 and x + 4y = -13. Find x and y.', 'x = -1, y = -3')
    """
    x, y = rng.randint(-5, 12), rng.randint(-5, 12)
    notation = Notation.draw(rng, latex=0.25)
    ask = rng.choices(("both", "x", "y"), weights=(70, 15, 15))[0]
    form = rng.choices(("sum", "same", "substitute", "eliminate", "tickets"), weights=(20, 25, 20, 20, 15))[0]
    if form == "tickets":
        return _tickets(rng)
    text, lines, ask, x, y = _FORMS[form](rng, x, y, notation, ask)
    return Problem(kind="system", problem=text, steps=tuple(lines), answer=_pair(x, y, ask))


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
