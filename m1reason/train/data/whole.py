"""Whole-number kinds: mental ``arithmetic`` (small sums and products, split at the tens on some paths) and the
written methods ``addition``, ``subtraction``, ``multiplication`` and ``division`` on numbers of up to 5 digits.

Each maker draws numbers, then a wording (``phrasing``), and solves with ``written``'s step lines. A division that
asks for no remainder is exact; one that does is boxed as ``q remainder r``, or ``r`` when only the remainder is
asked for.
"""

from __future__ import annotations

import random

from m1reason.train.data.phrasing import Notation, ask, join_list
from m1reason.train.data.problem import Problem, solution_paths
from m1reason.train.data.written import (
    column_addition,
    column_subtraction,
    long_division,
    long_multiplication,
    operation_steps,
)

__all__ = ["addition", "arithmetic", "division", "multiplication", "subtraction", "whole_number"]


def whole_number(rng: random.Random, digits: int) -> int:
    """A number with exactly ``digits`` digits.

    >>> 1000 <= whole_number(random.Random(0), 4) <= 9999
    True
    """
    return rng.randint(10 ** (digits - 1), 10**digits - 1)


def _expression(notation: Notation, numbers: list[int], op: str) -> str:
    return notation.math(notation.op(op).join(notation.num(n) for n in numbers))


def arithmetic(rng: random.Random) -> Problem:
    """Mental arithmetic: ``a op b``, or ``a op b op c`` with ``*`` before ``+`` and ``-``, never negative.

    >>> p = arithmetic(random.Random(3)); p.problem, p.steps
    ('Find the value of 81 - 61.', ('81 - 60 = 21', '21 - 1 = 20'))
    """
    notation = Notation.draw(rng, latex=0.2)

    def term() -> tuple[tuple[int, int] | None, int]:
        if rng.random() < 0.4:
            a, b = rng.randint(2, 12), rng.randint(2, 9)
            return (a, b), a * b
        return None, rng.randint(1, 99)

    def show(factors: tuple[int, int] | None, value: int) -> str:
        return str(value) if factors is None else f"{factors[0]}{notation.op('*')}{factors[1]}"

    first, v1 = term()
    if rng.random() < 0.5:  # two operands
        op = rng.choice("+-*")
        if op == "*":
            a, b = rng.randint(2, 19), rng.randint(2, 9)
        else:
            a, b = sorted((rng.randint(1, 99), rng.randint(1, 99)), reverse=op == "-")
            if op == "+" and rng.random() < 0.5:
                a, b = b, a
        text = ask(rng, _expression(notation, [a, b], op))
        value = {"+": a + b, "-": a - b, "*": a * b}[op]
        return Problem(kind="arithmetic", problem=text, steps=tuple(operation_steps(a, op, b, solution_paths(text))),
                       answer=str(value))
    second, v2 = term()
    op = rng.choice("+-")
    if op == "-" and v2 > v1:
        (first, v1), (second, v2) = (second, v2), (first, v1)
    text = ask(rng, notation.math(f"{show(first, v1)} {op} {show(second, v2)}"))
    paths = solution_paths(text)
    steps = []
    for factors in (first, second):
        if factors:
            steps += operation_steps(factors[0], "*", factors[1], paths)
    steps += operation_steps(v1, op, v2, paths)
    return Problem(kind="arithmetic", problem=text, steps=tuple(steps), answer=str(v1 + v2 if op == "+" else v1 - v2))


def addition(rng: random.Random) -> Problem:
    """Column addition of two numbers of up to 5 digits, or three of up to 4.

    >>> p = addition(random.Random(3)); p.problem, p.answer
    ('Use column addition to work out 585 + 478.', '1063')
    """
    if rng.random() < 0.8:
        longest = rng.randint(2, 5)
        numbers = [whole_number(rng, longest), whole_number(rng, rng.randint(1, longest))]
        rng.shuffle(numbers)
    else:
        numbers = [whole_number(rng, rng.randint(2, 4)) for _ in range(3)]
    notation = Notation.draw(rng)
    shown = [notation.num(n) for n in numbers]
    wordings = [ask(rng, _expression(notation, numbers, "+"))] * 4 + [
        f"Add {join_list(shown)}.", f"What is the sum of {join_list(shown)}?", f"Find the total of {join_list(shown)}.",
        f"Use column addition to work out {_expression(notation, numbers, '+')}."]
    if len(numbers) == 2:
        wordings += [f"Increase {shown[0]} by {shown[1]}.", f"What is {shown[1]} more than {shown[0]}?",
                     f"What is {shown[0]} plus {shown[1]}?"]
    text = rng.choice(wordings)
    total = sum(numbers)
    paths = solution_paths(text)
    if len(numbers) == 2 and max(numbers) < 100 and paths.random() < 0.5:
        steps = operation_steps(numbers[0], "+", numbers[1], paths)
    else:
        steps = column_addition(numbers) + [f"so {' + '.join(map(str, numbers))} = {total}"]
    return Problem(kind="addition", problem=text, steps=tuple(steps), answer=str(total))


def subtraction(rng: random.Random) -> Problem:
    """Column subtraction ``a - b`` with ``a`` of up to 5 digits and ``0 < b < a``.

    >>> p = subtraction(random.Random(3)); p.problem, p.answer
    ('Decrease 706 by 233.', '473')
    """
    longest = rng.randint(2, 5)
    a, b = whole_number(rng, longest), whole_number(rng, rng.randint(1, longest))
    if a == b:
        b = rng.randint(1, a - 1)
    a, b = max(a, b), min(a, b)
    notation = Notation.draw(rng)
    x, y = notation.num(a), notation.num(b)
    expression = _expression(notation, [a, b], "-")
    text = rng.choice([ask(rng, expression)] * 4 + [
        f"Subtract {y} from {x}.", f"What is {x} minus {y}?", f"Take {y} away from {x}.",
        f"How much more is {x} than {y}?", f"Find the difference between {x} and {y}.", f"Decrease {x} by {y}.",
        f"What number is {y} less than {x}?", f"Use column subtraction to work out {expression}."])
    paths = solution_paths(text)
    if a < 100 and paths.random() < 0.5:
        steps = operation_steps(a, "-", b, paths)
    else:
        steps = column_subtraction(a, b) + [f"so {a} - {b} = {a - b}"]
    return Problem(kind="subtraction", problem=text, steps=tuple(steps), answer=str(a - b))


_SHAPES = ((3, 2), (2, 2), (4, 1), (3, 1), (2, 1))  # digits of the factors: long multiplication up to 3 x 2


def multiplication(rng: random.Random) -> Problem:
    """Long multiplication of up to 3 digits by 2 (or 4 digits by 1). The multiplier, whose digits give the
    rows, is the shorter factor, or either one (a choice of path) when both have two digits.

    >>> p = multiplication(random.Random(3)); p.problem, p.answer
    ('Multiply 657 by 26.', '17082')
    """
    long, short = rng.choices(_SHAPES, weights=(35, 30, 15, 10, 10))[0]
    a, b = whole_number(rng, long), whole_number(rng, short)
    factors = [a, b] if rng.random() < 0.5 else [b, a]
    notation = Notation.draw(rng)
    x, y = (notation.num(n) for n in factors)
    expression = _expression(notation, factors, "*")
    text = rng.choice([ask(rng, expression)] * 4 + [
        f"Multiply {x} by {y}.", f"What is the product of {x} and {y}?", f"What is {x} times {y}?",
        f"What is {x} multiplied by {y}?", f"Use long multiplication to find {expression}."])
    if long == short == 2 and solution_paths(text).random() < 0.5:  # 3 rows of a 3-digit multiplier run too long
        a, b = b, a
    return Problem(kind="multiplication", problem=text, steps=tuple(long_multiplication(a, b)), answer=str(a * b))


def division(rng: random.Random) -> Problem:
    """Long division of up to 4 digits by one digit: exact (``q``), or asking for the quotient and remainder
    (``q remainder r``), or for the remainder alone (``r``).

    >>> p = division(random.Random(0)); p.problem, p.answer
    ('Find the quotient and remainder when 6900 is divided by 8.', '862 remainder 4')
    """
    d = rng.randint(2, 9)
    mode = rng.choices(("exact", "both", "remainder"), weights=(45, 35, 20))[0]
    if mode == "exact":
        n = d * rng.randint(max(2, 10 // d + 1), 9999 // d)
    else:
        n = rng.randint(10, 9999)
        while n % d == 0:
            n += 1
    notation = Notation.draw(rng)
    x, y = notation.num(n), notation.num(d)
    expression = _expression(notation, [n, d], "/")
    if mode == "exact":
        frac = f"$\\frac{{{n}}}{{{d}}}$" if notation.latex else f"{n}/{d}"
        wordings = [ask(rng, expression)] * 4 + [
            ask(rng, frac), f"Divide {x} by {y}.", f"What is {x} divided by {y}?", f"How many times does {y} go "
            f"into {x}?", f"Share {x} equally into {y} groups. How many are in each group?",
            f"Use long division to work out {expression}."]
    elif mode == "both":
        wordings = [f"Divide {x} by {y}. Give the quotient and the remainder.",
                    f"What is {expression}? Answer with a quotient and a remainder.",
                    f"Find the quotient and remainder when {x} is divided by {y}.",
                    f"Work out {expression} with a remainder.", f"Use long division to find {expression}, with "
                    "remainder.", f"{x} divided by {y} is how much, with remainder?"]
    else:
        wordings = [f"What is the remainder when {x} is divided by {y}?", f"Find the remainder of {expression}.",
                    f"What is left over when {x} is divided by {y}?", f"What is {x} mod {y}?",
                    f"What remainder do you get from {expression}?"]
    text = rng.choice(wordings)
    steps, q, r = long_division(n, d)
    if mode == "exact":
        return Problem(kind="division", problem=text, steps=(*steps, f"so {n} / {d} = {q}"), answer=str(q))
    steps.append(f"so {n} / {d} is {q} remainder {r}")
    return Problem(kind="division", problem=text, steps=tuple(steps),
                   answer=f"{q} remainder {r}" if mode == "both" else str(r))
