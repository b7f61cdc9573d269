"""The problem record, its R1-style reply, and the spellings every kind's steps and answers share.

Owns ``Problem`` (text, step lines, exact answer as a string), ``render_solution`` (``<think>`` steps ``</think>``
then ``The answer is \\boxed{...}.``), how numbers are written in steps and answers (fractions as ``a/b`` in
lowest terms, decimals exactly, negatives in brackets when they follow an operator) and ``solution_paths``, the
per-problem source of the choices between equally valid ways to solve. Nothing here draws a problem.
"""

from __future__ import annotations

import random
import zlib
from fractions import Fraction

from pydantic import BaseModel, ConfigDict

__all__ = ["Problem", "decimal_text", "fraction_text", "operand", "render_solution", "solution_paths"]


class Problem(BaseModel):
    """One problem: its kind, its text, the step lines of its worked solution, and the exact answer as a string.

    >>> p = Problem(kind="arithmetic", problem="What is 2 + 3?", steps=("2 + 3 = 5",), answer="5")
    >>> p.answer, p.model_dump()["steps"]
    ('5', ('2 + 3 = 5',))
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


def solution_paths(text: str) -> random.Random:
    """The solution-path choices of one problem, seeded by its text: a pure function of the problem, so adding a
    choice never changes which problems are drawn (or the held-out split).

    >>> solution_paths("What is 2 + 3?").random() == solution_paths("What is 2 + 3?").random()
    True
    """
    return random.Random(zlib.crc32(text.encode()))


def fraction_text(value: Fraction | int) -> str:
    """An exact value as an answer or step writes it: an integer, else ``a/b`` in lowest terms.

    >>> fraction_text(Fraction(14, 24)), fraction_text(Fraction(-6, 3))
    ('7/12', '-2')
    """
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def decimal_text(value: Fraction | int, places: int | None = None) -> str:
    """A terminating value as a decimal, exactly (``places`` fixes the digits after the point, e.g. a rounded
    answer ``3.10``); ValueError when the value does not terminate within 6 places.

    >>> decimal_text(Fraction(47, 20)), decimal_text(Fraction(-1, 2)), decimal_text(12)
    ('2.35', '-0.5', '12')
    >>> decimal_text(Fraction(31, 10), 2)
    '3.10'
    """
    value = Fraction(value)
    digits = places
    if digits is None:
        digits = next((d for d in range(7) if (value * 10**d).denominator == 1), None)
        if digits is None:
            raise ValueError(f"{value} has no exact decimal within 6 places")
    scaled = value * 10**digits
    if scaled.denominator != 1:
        raise ValueError(f"{value} has no exact decimal with {digits} places")
    sign, whole = ("-" if scaled < 0 else ""), abs(scaled.numerator)
    if digits == 0:
        return f"{sign}{whole}"
    text = str(whole).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}"


def operand(value: Fraction | int | str) -> str:
    """A number as the right-hand operand of a step: negatives in brackets, so ``3 - (-5)`` reads one way.

    >>> operand(-5), operand(Fraction(3, 4)), operand("-2.5")
    ('(-5)', '3/4', '(-2.5)')
    """
    text = value if isinstance(value, str) else fraction_text(value)
    return f"({text})" if text.startswith("-") else text
