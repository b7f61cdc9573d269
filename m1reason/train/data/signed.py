"""The ``integers`` kind and the sign rules every kind's negative numbers are worked with.

``signed_steps`` works ``a op b`` for integers of any sign the way a person does: the sign rules turn it into
whole-number work (``5 - (-13)`` is ``5 + 13``; ``14 - 30`` is ``30 - 14`` made negative; ``(-6) * 7`` is
``6 * 7`` with one negative), which the mental and written methods then do digit by digit, and a last claim
states the signed result. A small model that has learnt whole-number arithmetic well then needs only the rule,
never arithmetic on signs it has to keep in its head. The ``integers`` kind asks for signed arithmetic as people
write it (``(-6) × 7``, ``-48 ÷ -6``, ``Find 5 - (-13).``, ``the product of -11 and -12``) and tells it as
temperatures, heights below sea level and bank balances.
"""

from __future__ import annotations

import random

from m1reason.train.data.phrasing import Notation, ask
from m1reason.train.data.problem import Problem, operand, solution_paths
from m1reason.train.data.written import operation_steps, worked

__all__ = ["integers", "signed_steps"]


def _value(a: int, op: str, b: int) -> int:
    if op == "/":
        return a // b
    return {"+": a + b, "-": a - b, "*": a * b}[op]


def _whole(a: int, op: str, b: int, paths: random.Random) -> list[str]:
    """Whole-number work: ``worked``, except that adding or taking away a digit or a round ten stays mental
    (``126 + 2 = 128``, not three columns)."""
    if op in "+-" and (b < 10 or b % 10 == 0) and a >= b:
        return operation_steps(a, op, b, paths)
    return worked(a, op, b, paths)


def signed_steps(a: int, op: str, b: int, paths: random.Random) -> list[str]:
    """The worked lines of ``a op b`` (``+ - * /``, a division exact) for integers of any sign: whole numbers go
    straight to ``worked``; otherwise a sign rule first, the whole-number work, then the signed claim.

    >>> signed_steps(5, "-", -13, random.Random(0))
    ['taking away a negative adds: 5 - (-13) is 5 + 13', '5 + 13 = 18']
    >>> signed_steps(14, "-", 30, random.Random(0))
    ['30 is more than 14, so the answer is negative: 30 - 14 = 16', 'so 14 - 30 = -16']
    >>> signed_steps(-48, "/", -6, random.Random(0))
    ['6 * 8 = 48, so 48 / 6 = 8', 'two negatives make a positive: -48 / (-6) = 8']
    >>> for line in signed_steps(-9, "+", 4, random.Random(0)): print(line)
    add the other way round: -9 + 4 is 4 - 9
    9 is more than 4, so the answer is negative: 9 - 4 = 5
    so 4 - 9 = -5
    """
    value = _value(a, op, b)
    if op in "*/":
        if a >= 0 and b >= 0:
            return _whole(a, op, b, paths)
        rule = "two negatives make a positive" if a < 0 and b < 0 else "one negative makes it negative"
        if value == 0:
            rule = "zero has no sign"
        return [*_whole(abs(a), op, abs(b), paths), f"{rule}: {a} {op} {operand(b)} = {value}"]
    if b < 0:  # a + (-3) is a - 3; a - (-3) is a + 3
        flipped = "-" if op == "+" else "+"
        rule = "adding a negative takes away" if op == "+" else "taking away a negative adds"
        return [f"{rule}: {a} {op} {operand(b)} is {a} {flipped} {-b}", *signed_steps(a, flipped, -b, paths)]
    if a < 0 and op == "+":  # -9 + 4 is 4 - 9
        return [f"add the other way round: {a} + {b} is {b} - {-a}", *signed_steps(b, "-", -a, paths)]
    if a < 0:  # -9 - 6 is -(9 + 6)
        return [f"both take away, so the answer is negative: {-a} + {b} = {-a + b}", f"so {a} - {b} = {value}"]
    if op == "-" and a < b:
        own = _whole(b, "-", a, paths)
        own[0] = f"{b} is more than {a}, so the answer is negative: {own[0]}"
        return [*own, f"so {a} - {b} = {value}"]
    return _whole(a, op, b, paths)


_STORIES = (
    # (text with {a} {b}, operation on (a, b), what the answer is, a's range, b's range)
    ("The temperature was {a}°C in the morning and fell by {b} degrees by night. What was the temperature at "
     "night, in °C?", "-", (-15, 20), (3, 25)),
    ("At dawn it was {a}°C. By noon it had risen {b} degrees. What was the temperature at noon?", "+",
     (-20, -1), (2, 30)),
    ("How many degrees warmer is {b}°C than {a}°C?", "diff", (-20, -1), (1, 25)),
    ("A diver is {A} m below sea level and goes down another {b} m. What is her position relative to sea "
     "level, in metres?", "-", (-60, -5), (3, 40)),
    ("A submarine at {a} m rises {b} m. What is its new depth, as a position relative to sea level in m?", "+",
     (-300, -50), (10, 45)),
    ("A bank account has ${a}. Then ${b} is taken out. What is the balance now, in dollars?", "-", (5, 90),
     (20, 150)),
    ("The lowest temperature in a town was {a}°C and the highest was {b}°C. What was the difference between "
     "them, in degrees?", "diff", (-25, -1), (1, 35)),
)


def _story(rng: random.Random) -> Problem:
    template, op, (lo_a, hi_a), (lo_b, hi_b) = rng.choice(_STORIES)
    a, b = rng.randint(lo_a, hi_a), rng.randint(lo_b, hi_b)
    text = template.format(a=a, b=b, A=-a)
    paths = solution_paths(text)
    if op == "diff":  # how far from a up to b: b - a
        steps = [f"the difference: the higher take away the lower, {b} - {operand(a)}", *signed_steps(b, "-", a, paths)]
        value = b - a
    else:
        steps = signed_steps(a, op, b, paths)
        value = _value(a, op, b)
    return Problem(kind="integers", problem=text, steps=tuple(steps), answer=str(value))


def _signed(rng: random.Random, small: bool) -> int:
    n = rng.randint(1, 12) if small else rng.randint(2, 99)
    return -n if rng.random() < 0.6 else n


def _shown(notation: Notation, n: int, leading: bool, bare: bool) -> str:
    """``n`` as the problem writes it: a negative after an operator in brackets, or bare (``-48 ÷ -6``)."""
    return str(n) if n >= 0 or leading or bare else f"({n})"


def integers(rng: random.Random) -> Problem:
    """Signed arithmetic: ``a op b`` or ``a op b op c`` with negatives, said plainly or told as a story, worked
    by ``signed_steps``.

    >>> p = integers(random.Random(2)); p.problem, p.steps
    ('What is the value of 5 * (-10)?', ('5 * 10 = 50', 'one negative makes it negative: 5 * (-10) = -50'))
    """
    if rng.random() < 0.25:
        return _story(rng)
    notation = Notation.draw(rng, latex=0.2)
    bare = rng.random() < 0.3  # -48 ÷ -6, as people type it
    op = rng.choice("+-*/")
    if op in "*/":
        a, b = _signed(rng, True), _signed(rng, True)
        if op == "/":
            a = a * b
    else:
        a, b = _signed(rng, False), _signed(rng, False)
    numbers, ops = [a, b], [op]
    if op in "+-" and rng.random() < 0.3:  # a chain: -9 - (-4) - 6
        ops.append(rng.choice("+-"))
        numbers.append(_signed(rng, False))
    shown = notation.math("".join(
        (notation.op(ops[i - 1]) if i else "") + _shown(notation, n, i == 0, bare and ops[i - 1] in "*/")
        for i, n in enumerate(numbers)))
    wordings = [ask(rng, shown)] * 4
    if len(numbers) == 2:
        pair = f"{a} and {b}"
        wordings += {"+": [f"What is the sum of {pair}?", f"Add {a} and {b}."],
                     "-": [f"Subtract {b} from {a}.", f"What is {a} minus {b}?"],
                     "*": [f"What's the product of {pair}?", f"Multiply {a} by {b}."],
                     "/": [f"Divide {a} by {b}.", f"What is {a} divided by {b}?"]}[op]
    text = rng.choice(wordings)
    paths = solution_paths(text)
    steps, value = [], numbers[0]
    for o, n in zip(ops, numbers[1:]):
        steps += signed_steps(value, o, n, paths)
        value = _value(value, o, n)
    if len(numbers) > 2:
        steps.append("so " + "".join((f" {ops[i - 1]} " + operand(n) if i else str(n))
                                     for i, n in enumerate(numbers)) + f" = {value}")
    return Problem(kind="integers", problem=text, steps=tuple(steps), answer=str(value))
