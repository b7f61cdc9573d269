"""Whole-number kinds: mental ``arithmetic`` (small sums, products and table divisions, split at the tens on
some paths; chains of three operands such as ``4 x 25 x 7``; questions said in words, ``seven times eight``) and
the written methods ``addition``, ``subtraction``, ``multiplication`` and ``division`` on numbers of up to 5 digits.

Each maker draws numbers, then a wording (``phrasing``), and solves with ``written``'s step lines. Some questions
spell their numbers out (``eight hundred twelve plus three hundred ninety-nine``); their solutions restate them in
digits first (``eight hundred twelve is 812``, no claim) and then work as usual. A division that asks for no
remainder is exact, or a terminating decimal worked past the point (``7 / 4 = 1.75``); one that does is boxed as
``q remainder r``, or ``r`` when only the remainder is asked for.
"""

from __future__ import annotations

import random

from m1reason.train.data.phrasing import Notation, ask, in_words, join_list
from m1reason.train.data.problem import Problem, solution_paths
from m1reason.train.data.written import (
    column_addition,
    column_subtraction,
    long_division,
    long_multiplication,
    multiply_by_digit,
    operation_steps,
    worked,
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


SPELLED_PROBABILITY = 0.12  # how often a question that can spell its numbers out does


def _spelled(rng: random.Random, numbers: list[int]) -> tuple[list[str], str] | None:
    """The numbers in words (British "and" on some) and the step that restates them in digits; None when one is
    over 9,999 or a round hundred (``two hundred and five`` would then read as one number).

    >>> _spelled(random.Random(0), [812, 24])
    (['eight hundred twelve', 'twenty-four'], 'eight hundred twelve is 812 and twenty-four is 24')
    """
    if any(n > 9999 or n % 100 == 0 for n in numbers):
        return None
    british = rng.random() < 0.3
    words = [in_words(n, british=british) for n in numbers]
    return words, join_list([f"{w} is {n}" for w, n in zip(words, numbers)])


def _chain(rng: random.Random, notation: Notation) -> Problem:
    """Three operands with one operation (``47 + 58 + 96``, ``1000 - 250 - 125``, ``11 * 11 * 11``), worked left to
    right with each partial result on its own line."""
    op = rng.choice("+-*")
    if op == "+":
        numbers = [rng.randint(11, 99) for _ in range(3)]
    elif op == "-":
        if rng.random() < 0.5:  # a round start and steps of 5: how shopping and change sums look
            a = rng.choice((100, 150, 200, 250, 300, 500, 1000))
            b = 5 * rng.randint(2, a // 10)
            numbers = [a, b, 5 * rng.randint(1, (a - b) // 5 - 1)]
        else:
            a = rng.randint(50, 99)
            b = rng.randint(10, a - 20)
            numbers = [a, b, rng.randint(2, a - b - 1)]
    else:
        numbers = [rng.choice((rng.randint(2, 12), 15, 20, 25)), rng.randint(2, 12), rng.randint(2, 12)]
        rng.shuffle(numbers)
    expression = _expression(notation, numbers, op)
    wordings = [ask(rng, expression)] * 5
    if op == "*":
        shown = join_list([notation.num(n) for n in numbers])
        wordings += [f"What is the product of {shown}?", f"Multiply {shown} together."]
    text = rng.choice(wordings)
    paths = solution_paths(text)
    steps, value = [], numbers[0]
    for n in numbers[1:]:  # sums and differences stay mental: 175 + 71 split at the tens, not in columns
        steps += worked(value, op, n, paths) if op == "*" else operation_steps(value, op, n, paths)
        value = {"+": value + n, "-": value - n, "*": value * n}[op]
    steps.append(f"so {f' {op} '.join(map(str, numbers))} = {value}")
    return Problem(kind="arithmetic", problem=text, steps=tuple(steps), answer=str(value))


_SAID = {"+": ("plus",), "-": ("minus", "take away"), "*": ("times", "multiplied by"), "/": ("divided by",)}


def _said(rng: random.Random) -> Problem:
    """A two-number question said in words: ``What is seven times eight?``, ``twenty-four divided by six``."""
    op = rng.choice("+-*/")
    if op in "+-":
        a, b = (rng.randint(11, rng.choice((99, 999))) for _ in range(2))
        a, b = (max(a, b), min(a, b)) if op == "-" else (a, b)
    elif op == "*":
        a, b = rng.choice(((rng.randint(2, 12), rng.randint(2, 12)), (rng.randint(13, 99), rng.randint(2, 9))))
    else:
        b = rng.randint(2, 12)
        a = b * rng.randint(2, 12)
    spelled = _spelled(rng, [a, b])
    if spelled is None or a == b:  # a round hundred: say it another way
        return _said(rng)
    (x, y), restated = spelled
    said = rng.choice(_SAID[op])
    text = rng.choice((f"What is {x} {said} {y}?", f"How much is {x} {said} {y}?", f"Work out {x} {said} {y}.",
                       f"{x[0].upper()}{x[1:]} {said} {y} is what?", f"Calculate {x} {said} {y}.",
                       f"What do you get from {x} {said} {y}?"))
    steps = [restated, *worked(a, op, b, solution_paths(text))]
    value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]
    return Problem(kind="arithmetic", problem=text, steps=tuple(steps), answer=str(value))


def arithmetic(rng: random.Random) -> Problem:
    """Mental arithmetic: ``a op b`` (a division is a table fact), ``a op b op c`` with ``*`` before ``+`` and
    ``-``, a chain of one operation, or a question in words; never negative.

    >>> p = arithmetic(random.Random(3)); p.problem, p.steps
    ('Find the value of 61 - 9.', ('61 - 9 = 52',))
    >>> p = arithmetic(random.Random(27)); p.problem, p.steps[:2]
    ('Calculate 7 × 8 × 20.', ('7 * 8 = 56', '56 * 2: 6 * 2 = 12, 5 * 2 + 1 = 11, so 56 * 2 = 112'))
    >>> p = arithmetic(random.Random(10)); p.problem, p.steps
    ('Calculate seventy-two divided by six.', ('seventy-two is 72 and six is 6', '6 * 12 = 72, so 72 / 6 = 12'))
    """
    notation = Notation.draw(rng, latex=0.2)
    kind = rng.random()
    if kind < 0.15:
        return _chain(rng, notation)
    if kind < 0.15 + SPELLED_PROBABILITY:
        return _said(rng)

    def term() -> tuple[tuple[int, int] | None, int]:
        if rng.random() < 0.4:
            a, b = rng.randint(2, 12), rng.randint(2, 9)
            return (a, b), a * b
        return None, rng.randint(1, 99)

    def show(factors: tuple[int, int] | None, value: int) -> str:
        return str(value) if factors is None else f"{factors[0]}{notation.op('*')}{factors[1]}"

    first, v1 = term()
    if rng.random() < 0.5:  # two operands
        op = rng.choice("+-*/")
        if op == "*":
            a, b = rng.randint(2, 19), rng.randint(2, 9)
        elif op == "/":
            b = rng.randint(2, 12)
            a = b * rng.randint(2, 12)
        else:
            a, b = sorted((rng.randint(1, 99), rng.randint(1, 99)), reverse=op == "-")
            if op == "+" and rng.random() < 0.5:
                a, b = b, a
        text = ask(rng, _expression(notation, [a, b], op))
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]
        return Problem(kind="arithmetic", problem=text, steps=tuple(worked(a, op, b, solution_paths(text))),
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
    ('Give the value of 585 + 478.', '1063')
    """
    if rng.random() < 0.8:
        longest = rng.randint(2, 5)
        numbers = [whole_number(rng, longest), whole_number(rng, rng.randint(1, longest))]
        rng.shuffle(numbers)
    else:
        numbers = [whole_number(rng, rng.randint(2, 4)) for _ in range(3)]
    notation = Notation.draw(rng)
    spelled = _spelled(rng, numbers) if rng.random() < SPELLED_PROBABILITY else None
    shown = spelled[0] if spelled else [notation.num(n) for n in numbers]
    listed = join_list(shown)
    wordings = [f"Add {listed}.", f"What is the sum of {listed}?", f"Find the total of {listed}.",
                f"What is the total of {listed}?", f"Sum {listed}.", f"What is {' plus '.join(shown)}?"]
    if not spelled:
        wordings += [ask(rng, _expression(notation, numbers, "+"))] * 4 + [
            f"Use column addition to work out {_expression(notation, numbers, '+')}."]
    if len(numbers) == 2:
        wordings += [f"Increase {shown[0]} by {shown[1]}.", f"What is {shown[1]} more than {shown[0]}?",
                     f"Add {shown[1]} to {shown[0]}.", f"What do you get when you add {shown[1]} to {shown[0]}?"]
    text = rng.choice(wordings)
    total = sum(numbers)
    paths = solution_paths(text)
    steps = [spelled[1]] if spelled else []
    if len(numbers) == 2 and max(numbers) < 100 and paths.random() < 0.5:
        steps += operation_steps(numbers[0], "+", numbers[1], paths)
    else:
        steps += column_addition(numbers) + [f"so {' + '.join(map(str, numbers))} = {total}"]
    return Problem(kind="addition", problem=text, steps=tuple(steps), answer=str(total))


def subtraction(rng: random.Random) -> Problem:
    """Column subtraction ``a - b`` with ``a`` of up to 5 digits and ``0 < b < a``.

    >>> p = subtraction(random.Random(3)); p.problem, p.answer
    ('What is seven hundred and six take away two hundred and thirty-three?', '473')
    """
    longest = rng.randint(2, 5)
    a, b = whole_number(rng, longest), whole_number(rng, rng.randint(1, longest))
    if a == b:
        b = rng.randint(1, a - 1)
    a, b = max(a, b), min(a, b)
    notation = Notation.draw(rng)
    spelled = _spelled(rng, [a, b]) if rng.random() < SPELLED_PROBABILITY else None
    x, y = spelled[0] if spelled else (notation.num(a), notation.num(b))
    expression = _expression(notation, [a, b], "-")
    wordings = [f"Subtract {y} from {x}.", f"What is {x} minus {y}?", f"Take {y} away from {x}.",
                f"How much more is {x} than {y}?", f"Find the difference between {x} and {y}.",
                f"Decrease {x} by {y}.", f"What number is {y} less than {x}?", f"What is {x} take away {y}?",
                f"What do you get when you subtract {y} from {x}?", f"How much is left when you take {y} from {x}?"]
    if not spelled:
        wordings += [ask(rng, expression)] * 4 + [f"Use column subtraction to work out {expression}."]
    text = rng.choice(wordings)
    paths = solution_paths(text)
    steps = [spelled[1]] if spelled else []
    if a < 100 and paths.random() < 0.5:
        steps += operation_steps(a, "-", b, paths)
    else:
        steps += column_subtraction(a, b) + [f"so {a} - {b} = {a - b}"]
    return Problem(kind="subtraction", problem=text, steps=tuple(steps), answer=str(a - b))


_SHAPES = ((3, 2), (2, 2), (4, 1), (3, 1), (2, 1))  # digits of the factors: long multiplication up to 3 x 2


def multiplication(rng: random.Random) -> Problem:
    """Long multiplication of up to 3 digits by 2 (or 4 digits by 1). The multiplier, whose digits give the
    rows, is the shorter factor, or either one (a choice of path) when both have two digits.

    Some ask to double or triple one number.

    >>> p = multiplication(random.Random(3)); p.problem, p.answer
    ('Find the product of 18 and 84.', '1512')
    """
    notation = Notation.draw(rng)
    if rng.random() < 0.08:
        a, k = whole_number(rng, rng.randint(2, 4)), rng.choice((2, 3))
        x = notation.num(a)
        text = rng.choice((f"Double {x}.", f"What is double {x}?", f"What is twice {x}?") if k == 2 else
                          (f"Triple {x}.", f"What is triple {x}?", f"What is {x} tripled?"))
        return Problem(kind="multiplication", problem=text, steps=(multiply_by_digit(a, k),), answer=str(a * k))
    long, short = rng.choices(_SHAPES, weights=(35, 30, 15, 10, 10))[0]
    a, b = whole_number(rng, long), whole_number(rng, short)
    factors = [a, b] if rng.random() < 0.5 else [b, a]
    spelled = _spelled(rng, factors) if rng.random() < SPELLED_PROBABILITY else None
    x, y = spelled[0] if spelled else (notation.num(n) for n in factors)
    expression = _expression(notation, factors, "*")
    wordings = [f"Multiply {x} by {y}.", f"What is the product of {x} and {y}?", f"What is {x} times {y}?",
                f"What is {x} multiplied by {y}?", f"Find the product of {x} and {y}."]
    if not spelled:
        wordings += [ask(rng, expression)] * 4 + [f"Use long multiplication to find {expression}."]
    text = rng.choice(wordings)
    if long == short == 2 and solution_paths(text).random() < 0.5:  # 3 rows of a 3-digit multiplier run too long
        a, b = b, a
    steps = [spelled[1]] if spelled else []
    return Problem(kind="multiplication", problem=text, steps=(*steps, *long_multiplication(a, b)),
                   answer=str(a * b))


def _divisor(rng: random.Random) -> int:
    """One digit mostly, 10 to 25 on some (``Divide 144 by 12``): long division works the same with either."""
    return rng.randint(2, 9) if rng.random() < 0.75 else rng.randint(10, 25)


def _decimal_division(n: int, d: int) -> tuple[list[str], str]:
    """Long division of ``n`` by ``d`` carried past the point, a 0 brought down for each decimal place until
    nothing is left (``d`` must give a terminating decimal), and the quotient as a decimal.

    >>> lines, value = _decimal_division(7, 4)
    >>> for line in lines: print(line)
    7: 4 * 1 = 4, 7 - 4 = 3
    write the point and bring down 0 to get 30: 4 * 7 = 28, 30 - 28 = 2
    bring down 0 to get 20: 4 * 5 = 20, 20 - 20 = 0
    so 7 / 4 = 1.75
    >>> value
    '1.75'
    """
    lines, q, r = long_division(n, d)
    places = []
    while r:
        current = r * 10
        digit = current // d
        lead = "bring down 0" if places else "write the point and bring down 0"
        lines.append(f"{lead} to get {current}: {d} * {digit} = {d * digit}, {current} - {d * digit} = "
                     f"{current - d * digit}")
        places.append(str(digit))
        r = current - d * digit
    value = f"{q}.{''.join(places)}" if places else str(q)
    return lines + [f"so {n} / {d} = {value}"], value


def _terminating(rng: random.Random) -> tuple[int, int]:
    """A division that does not come out even but ends within three decimal places (``7 / 4 = 1.75``)."""
    while True:
        d = rng.choice((2, 4, 5, 8, 6, 12, 15, 16, 20, 25, 40))
        n = rng.randint(d + 1, rng.choice((99, 999)))
        if n % d and 1000 * n % d == 0:
            return n, d


def division(rng: random.Random) -> Problem:
    """Long division of up to 4 digits by a divisor up to 25: exact (``q``), or asking for the quotient and
    remainder (``q remainder r``), or for the remainder alone (``r``), or as a decimal when it does not come out
    even (``7 / 4`` is ``1.75``); some exact ones halve a number or spell it out.

    >>> p = division(random.Random(0)); p.problem, p.answer
    ('Calculate 6,049 ÷ 23.', '263')
    >>> p = division(random.Random(27)); p.problem, p.answer
    ('Write $\\\\frac{17}{8}$ as a decimal.', '2.125')
    """
    d = _divisor(rng)
    mode = rng.choices(("exact", "both", "remainder", "decimal", "halve"), weights=(38, 27, 17, 15, 3))[0]
    if mode == "halve":
        n = 2 * rng.randint(6, 4999)
        x = Notation.draw(rng).num(n)
        text = rng.choice((f"Halve {x}.", f"What is half of {x}?", f"What is {x} halved?", f"Find half of {x}."))
        steps, q, _ = long_division(n, 2)
        return Problem(kind="division", problem=text, steps=(*steps, f"so {n} / 2 = {q}"), answer=str(q))
    if mode == "exact":
        n = d * rng.randint(max(2, 10 // d + 1), 9999 // d)
    elif mode == "decimal":
        n, d = _terminating(rng)
    else:
        n = rng.randint(max(10, d + 1), 9999)
        while n % d == 0:
            n += 1
    notation = Notation.draw(rng)
    x, y = notation.num(n), notation.num(d)
    expression = _expression(notation, [n, d], "/")
    frac = f"$\\frac{{{n}}}{{{d}}}$" if notation.latex else f"{n}/{d}"
    spelled = _spelled(rng, [n, d]) if mode == "exact" and rng.random() < SPELLED_PROBABILITY else None
    if spelled:
        x, y = spelled[0]
        wordings = [f"What is {x} divided by {y}?", f"Divide {x} by {y}.", f"How many times does {y} go into {x}?",
                    f"What is the quotient of {x} and {y}?", f"Share {x} equally into {y} groups. How many are in "
                    "each group?"]
    elif mode == "exact":
        wordings = [ask(rng, expression)] * 4 + [
            ask(rng, frac), f"Divide {x} by {y}.", f"What is {x} divided by {y}?", f"How many times does {y} go "
            f"into {x}?", f"Share {x} equally into {y} groups. How many are in each group?",
            f"Use long division to work out {expression}.", f"What is the quotient of {x} and {y}?",
            f"Find the quotient of {x} divided by {y}.", f"How many {y}s are in {x}?",
            f"{x} divided by {y} equals what?", f"Split {x} into {y} equal parts. How big is each part?"]
    elif mode == "both":
        wordings = [f"Divide {x} by {y}. Give the quotient and the remainder.",
                    f"What is {expression}? Answer with a quotient and a remainder.",
                    f"Find the quotient and remainder when {x} is divided by {y}.",
                    f"Work out {expression} with a remainder.", f"Use long division to find {expression}, with "
                    "remainder.", f"{x} divided by {y} is how much, with remainder?",
                    f"What is {x} divided by {y}, with remainder?", f"{expression} = ? (with remainder)",
                    f"What is {x} divided by {y}? Write the answer with a remainder.", f"{x} ÷ {y} with remainder"]
    elif mode == "remainder":
        wordings = [f"What is the remainder when {x} is divided by {y}?", f"Find the remainder of {expression}.",
                    f"What is left over when {x} is divided by {y}?", f"What is {x} mod {y}?",
                    f"What remainder do you get from {expression}?", f"When {x} is divided by {y}, what is the "
                    "remainder?", f"Divide {x} by {y}. What is the remainder?", f"What is the remainder of {x} "
                    f"divided by {y}?"]
    else:  # a decimal: said so, or a bare division that does not come out even, as a calculator answers it
        wordings = [ask(rng, expression)] * 2 + [
            f"What is {expression} as a decimal?", f"Divide {x} by {y}. Give your answer as a decimal.",
            f"Work out {expression}, giving the answer as a decimal.", f"What is {x} divided by {y} as a decimal?",
            f"Write {frac} as a decimal.", f"Use long division to work out {expression} as a decimal."]
    text = rng.choice(wordings)
    if mode == "decimal":
        steps, value = _decimal_division(n, d)
        return Problem(kind="division", problem=text, steps=tuple(steps), answer=value)
    steps, q, r = long_division(n, d)
    if spelled:
        steps.insert(0, spelled[1])
    if mode == "exact":
        return Problem(kind="division", problem=text, steps=(*steps, f"so {n} / {d} = {q}"), answer=str(q))
    steps.append(f"so {n} / {d} is {q} remainder {r}")
    return Problem(kind="division", problem=text, steps=tuple(steps),
                   answer=f"{q} remainder {r}" if mode == "both" else str(r))
