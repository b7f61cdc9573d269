"""Synthetic tutor-style math problems with step-by-step solutions, for training and evaluating tiny models.

Owns the problem kinds (plain arithmetic, multi-step word problems, fractions, percentages, linear equations),
their R1-style solutions (``<think>`` steps ``</think>`` then ``\\boxed{answer}``) and the seeded split: the
held-out set is drawn from its own seed and every training problem whose text is in it is skipped, so the two
never overlap. Nothing here tokenizes or knows about models.

Whole-number steps are written one of two valid ways, chosen per problem: directly (``57 + 68 = 125``) or split
into easier steps (``57 + 60 = 117`` then ``117 + 8 = 125``). Real reasoning data has many paths to one answer,
and self-consistency needs them: a model that learned a single path makes the same mistake in every sample, so
a vote over its samples cannot beat one sample. The choice is a function of the problem's text (not of the draw),
so adding it left the problems themselves, and the held-out split, unchanged.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from fractions import Fraction

from pydantic import BaseModel, ConfigDict

__all__ = ["KINDS", "HELDOUT_SEED", "SPLIT_PROBABILITY", "Problem", "heldout_problems", "make_problem",
           "operation_steps", "render_solution", "training_problems"]

KINDS = ("arithmetic", "word", "fraction", "percent", "equation")
HELDOUT_SEED = 20250417
_DEFAULT_WEIGHTS = {"arithmetic": 0.5, "word": 0.2, "fraction": 0.1, "percent": 0.1, "equation": 0.1}
_NAMES = ("Ava", "Ben", "Mia", "Leo", "Zoe", "Sam", "Ivy", "Max", "Noah", "Emma")
_ITEMS = ("apples", "pencils", "stickers", "marbles", "books", "cookies", "cards", "shells")
SPLIT_PROBABILITY = 0.5  # how often a step that can be split is written split


class Problem(BaseModel):
    """One problem: its text, the step lines of its worked solution, and the exact answer as a string.

    >>> p = make_problem(random.Random(0), "arithmetic")
    >>> p.kind, render_solution(p).endswith("\\\\boxed{" + p.answer + "}.")
    ('arithmetic', True)
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    problem: str
    steps: tuple[str, ...]
    answer: str


def render_solution(problem: Problem) -> str:
    """The assistant's reply: the steps inside ``<think>``, then the boxed answer.

    >>> render_solution(Problem(kind="arithmetic", problem="What is 2 + 3?", steps=("2 + 3 = 5",), answer="5"))
    '<think>\\n2 + 3 = 5\\n</think>\\nThe answer is \\\\boxed{5}.'
    """
    return "<think>\n" + "\n".join(problem.steps) + "\n</think>\nThe answer is \\boxed{" + problem.answer + "}."


def _fmt(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def operation_steps(a: int, op: str, b: int, paths: random.Random) -> list[str]:
    """The worked lines of ``a op b``: the direct line, or (with probability SPLIT_PROBABILITY, when ``b`` has
    tens and units, or ``a`` is a teen for ``*``) the same operation split at the tens.

    >>> operation_steps(57, "+", 68, random.Random(1))
    ['57 + 60 = 117', '117 + 8 = 125']
    >>> operation_steps(17, "*", 8, random.Random(1)), operation_steps(17, "*", 8, random.Random(0))
    (['10 * 8 = 80', '7 * 8 = 56', '80 + 56 = 136'], ['17 * 8 = 136'])
    """
    value = {"+": a + b, "-": a - b, "*": a * b}[op]
    direct = [f"{a} {op} {b} = {value}"]
    if paths.random() >= SPLIT_PROBABILITY:
        return direct
    if op == "*" and 10 < a < 20:
        return [f"10 * {b} = {10 * b}", f"{a - 10} * {b} = {(a - 10) * b}", f"{10 * b} + {(a - 10) * b} = {value}"]
    tens, units = b - b % 10, b % 10
    if op in "+-" and tens and units:
        middle = a + tens if op == "+" else a - tens
        return [f"{a} {op} {tens} = {middle}", f"{middle} {op} {units} = {value}"]
    return direct


def _paths(text: str) -> random.Random:
    """The solution-path choices of one problem: seeded by its text, so they never change which problems are drawn."""
    return random.Random(zlib.crc32(text.encode()))


def _arithmetic(rng: random.Random) -> Problem:
    """a op b, or a op b op c with * before + and -, every intermediate value non-negative."""
    def term() -> tuple[tuple[int, int] | None, int]:
        if rng.random() < 0.4:
            a, b = rng.randint(2, 12), rng.randint(2, 9)
            return (a, b), a * b
        n = rng.randint(1, 99)
        return None, n

    def show(factors: tuple[int, int] | None, value: int) -> str:
        return str(value) if factors is None else f"{factors[0]} * {factors[1]}"

    first, v1 = term()
    if rng.random() < 0.5:  # two operands
        op = rng.choice("+-*")
        if op == "*":
            a, b = rng.randint(2, 19), rng.randint(2, 9)
        else:
            a, b = rng.randint(1, 99), rng.randint(1, 99)
            if op == "-" and b > a:
                a, b = b, a
        text = f"What is {a} {op} {b}?"
        value = {"+": a + b, "-": a - b, "*": a * b}[op]
        return Problem(kind="arithmetic", problem=text, steps=tuple(operation_steps(a, op, b, _paths(text))),
                       answer=str(value))
    second, v2 = term()
    op = rng.choice("+-")
    if op == "-" and v2 > v1:
        (first, v1), (second, v2) = (second, v2), (first, v1)
    text = f"What is {show(first, v1)} {op} {show(second, v2)}?"
    paths = _paths(text)
    steps = []
    for factors in (first, second):
        if factors:
            steps += operation_steps(factors[0], "*", factors[1], paths)
    steps += operation_steps(v1, op, v2, paths)
    value = v1 + v2 if op == "+" else v1 - v2
    return Problem(kind="arithmetic", problem=text, steps=tuple(steps), answer=str(value))


def _word(rng: random.Random) -> Problem:
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    have, bags, each = rng.randint(2, 40), rng.randint(2, 6), rng.randint(2, 9)
    got = bags * each
    if rng.random() < 0.5:
        text = (f"{name} has {have} {item}. {name} buys {bags} bags with {each} {item} in each bag. "
                f"How many {item} does {name} have now?")
        paths = _paths(text)
        return Problem(kind="word", problem=text, answer=str(have + got),
                       steps=(f"{bags} * {each} = {got}", *operation_steps(have, "+", got, paths)))
    give = rng.randint(1, have + got - 1)
    total = have + got
    text = (f"{name} has {have} {item} and gets {bags} more packs of {each}. Then {name} gives away {give}. "
            f"How many {item} are left?")
    paths = _paths(text)
    return Problem(kind="word", problem=text, answer=str(total - give),
                   steps=(f"{bags} * {each} = {got}", *operation_steps(have, "+", got, paths),
                          *operation_steps(total, "-", give, paths)))


def _fraction(rng: random.Random) -> Problem:
    b, d = rng.randint(2, 9), rng.randint(2, 9)
    a, c = rng.randint(1, b - 1), rng.randint(1, d - 1)
    op = rng.choice("+-")
    x, y = Fraction(a, b), Fraction(c, d)
    if op == "-" and y > x:
        (a, b, x), (c, d, y) = (c, d, y), (a, b, x)
    value = x + y if op == "+" else x - y
    common = b * d // _gcd(b, d)
    n1, n2 = a * common // b, c * common // d
    raw = n1 + n2 if op == "+" else n1 - n2
    steps = [f"{a}/{b} {op} {c}/{d} = {n1}/{common} {op} {n2}/{common}", f"= {raw}/{common}"]
    if _fmt(value) != f"{raw}/{common}":
        steps.append(f"= {_fmt(value)}")
    return Problem(kind="fraction", problem=f"What is {a}/{b} {op} {c}/{d}?", steps=tuple(steps), answer=_fmt(value))


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _percent(rng: random.Random) -> Problem:
    pct = rng.choice((10, 20, 25, 50, 75, 5, 30, 40))
    base = rng.randint(1, 20) * (100 // _gcd(pct, 100))
    part = base * pct // 100
    if rng.random() < 0.5:
        return Problem(kind="percent", problem=f"What is {pct}% of {base}?", answer=str(part),
                       steps=(f"{pct}% of {base} = {base} * {pct} / 100", f"{base} * {pct} = {base * pct}",
                              f"{base * pct} / 100 = {part}"))
    item = rng.choice(_ITEMS)
    text = f"A shop has {base} {item} and sells {pct}% of them. How many {item} are left?"
    return Problem(kind="percent", problem=text, answer=str(base - part),
                   steps=(f"{pct}% of {base} = {base} * {pct} / 100 = {part}", f"{base} - {part} = {base - part}"))


def _equation(rng: random.Random) -> Problem:
    a, x, b = rng.randint(2, 9), rng.randint(1, 12), rng.randint(1, 30)
    op = rng.choice("+-")
    rhs = a * x + b if op == "+" else a * x - b
    inverse = "-" if op == "+" else "+"
    return Problem(kind="equation", problem=f"Solve for x: {a}x {op} {b} = {rhs}.", answer=str(x),
                   steps=(f"{a}x = {rhs} {inverse} {b} = {a * x}", f"x = {a * x} / {a} = {x}"))


_MAKERS = {"arithmetic": _arithmetic, "word": _word, "fraction": _fraction, "percent": _percent,
           "equation": _equation}


def make_problem(rng: random.Random, kind: str | None = None, weights: dict[str, float] | None = None) -> Problem:
    """One problem of ``kind`` (drawn by ``weights`` when None; half plain arithmetic by default).

    >>> make_problem(random.Random(3), "equation").problem
    'Solve for x: 5x + 18 = 68.'
    """
    if kind is None:
        w = weights or _DEFAULT_WEIGHTS
        kind = rng.choices(list(w), weights=list(w.values()))[0]
    if kind not in _MAKERS:
        raise ValueError(f"unknown problem kind {kind!r}; choose from {', '.join(KINDS)}")
    return _MAKERS[kind](rng)


def heldout_problems(count: int = 1000, *, kind: str | None = None) -> list[Problem]:
    """The fixed held-out set: the first ``count`` distinct problems drawn from ``HELDOUT_SEED``.

    >>> a, b = heldout_problems(3), heldout_problems(3)
    >>> a == b, len({p.problem for p in heldout_problems(200)})
    (True, 200)
    """
    rng = random.Random(HELDOUT_SEED if kind is None else f"{HELDOUT_SEED}-{kind}")
    seen: dict[str, Problem] = {}
    while len(seen) < count:
        p = make_problem(rng, kind)
        seen.setdefault(p.problem, p)
    return list(seen.values())


def training_problems(seed: int, *, weights: dict[str, float] | None = None,
                      exclude: int = 2000) -> Iterator[Problem]:
    """An endless seeded stream of training problems, never one of the first ``exclude`` held-out problems
    (of the mixed set or of any single kind).

    >>> first = next(training_problems(0)); first == next(training_problems(0))
    True
    """
    held = {p.problem for p in heldout_problems(exclude)}
    for k in KINDS:
        held |= {p.problem for p in heldout_problems(min(exclude, 500), kind=k)}
    rng = random.Random(seed)
    while True:
        p = make_problem(rng, None, weights)
        if p.problem not in held:
            yield p
