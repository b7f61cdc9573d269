"""The solution of a problem that only asks to solve one linear equation in one unknown ("Solve for x: 3x + 7 =
22.", "If 7y = 91, what is y?").

Such a problem states its own check, as a bare expression does: an answer is right exactly when it is the
equation's one solution. ``equation_solution`` reads the problem conservatively: the whole question must be one of
a few forms that only ask for the unknown (``_FORMS``), the equation one ``=`` between number-only expressions in
one single-letter unknown, and that unknown the one the question names. The equation is never solved by algebra on
its text: both sides are evaluated exactly (``_arith.py``) with numbers put in for the unknown, and it is read only
when their difference is linear with a non-zero slope (checked at five points), so the one solution is exact and
checked by putting it back in. Anything else (two unknowns, a square, an unknown in a denominator, a story) reads
nothing.
"""

from __future__ import annotations

import re
from fractions import Fraction

from m1reason.answers._arith import ARITH, NotArithmetic, evaluate, lex
from m1reason.answers._problem import ExpressionValue
from m1reason.answers._question import asked_form

__all__ = ["LETTER", "equation_solution", "side_value"]

_UNKNOWN = r"(?P<unknown>[a-z])"
# The questions that only ask for the unknown, each with the equation in it
_FORMS = tuple(re.compile(form) for form in (
    rf"solve(?: for {_UNKNOWN})?:? (?P<equation>.+)",
    rf"find {_UNKNOWN}(?::| if)? (?P<equation>.+)",
    rf"if (?P<equation>.+), (?:what is|find) (?:the value of )?{_UNKNOWN}",
    rf"what value of {_UNKNOWN} makes (?P<equation>.+?) true",
    rf"what is {_UNKNOWN} if (?P<equation>.+)",
))
LETTER = re.compile(r"(?<![A-Za-z\\])[A-Za-z](?![A-Za-z])")
_POINTS = (0, 1, 2, 3, 7)  # five points: a polynomial of degree 4 or less that is linear at all of them is linear


def equation_solution(problem: str) -> ExpressionValue | None:
    """The equation and its one solution when the problem only asks to solve one linear equation in one unknown;
    None for any other problem.

    >>> found = equation_solution("Solve for x: 3x + 7 = 22.")
    >>> found.expression, found.value, found.unknown
    ('3x + 7 = 22', Fraction(5, 1), 'x')
    >>> found.holds_for("x = 5"), found.describe_false("6")
    (True, 'the answer 6 is false (3x + 7 = 22 holds for x = 5)')
    >>> equation_solution(r"Solve $\\frac{2x + 1}{5} = 3$.").value, equation_solution("If 7y = 91, what is y?").value
    (Fraction(7, 1), Fraction(13, 1))
    >>> [equation_solution(p) for p in ("Solve x^2 = 9.", "Solve 2x + y = 7.", "If 7y = 91, what is x?",
    ...                                  "Solve 2x = 2x + 1.", "Solve 6 / x = 2.")]
    [None, None, None, None, None]
    """
    if not isinstance(problem, str):
        raise TypeError(f"equation_solution needs a str, got {type(problem).__name__}")
    found = asked_form(problem, _FORMS)  # "Solve for $x$: $2x = 6$"
    return _solved(found["equation"].strip(), found["unknown"]) if found else None


def _solved(equation: str, named: str | None) -> ExpressionValue | None:
    sides = equation.split("=")
    unknowns = {m[0] for m in LETTER.finditer(equation)}
    if len(sides) != 2 or len(unknowns) != 1 or (named is not None and unknowns != {named}):
        return None
    [unknown] = unknowns
    try:
        at = [_difference(sides, unknown, Fraction(x)) for x in _POINTS]
        slope = at[1] - at[0]
        if slope == 0 or any(at[i] != at[0] + slope * x for i, x in enumerate(_POINTS)):
            return None  # no solution, every number, or not linear
        solution = -at[0] / slope
        if _difference(sides, unknown, solution) != 0:
            return None
    except (NotArithmetic, ZeroDivisionError):
        return None
    return ExpressionValue(expression=equation, value=solution, unknown=unknown)


def _difference(sides: list[str], unknown: str, x: Fraction) -> Fraction:
    """Left side minus right side with ``x`` put in for the unknown (in brackets: ``3x`` reads ``3(x)``)."""
    put_in = f"({x.numerator}/{x.denominator})"
    left, right = (side_value(LETTER.sub(lambda m: put_in if m[0] == unknown else m[0], side)) for side in sides)
    return left - right


def side_value(side: str) -> Fraction:
    tokens = [t for t in lex(side) if t.kind not in ("gap", "skip", "dollar")]
    if any(t.kind not in ARITH or t.percent for t in tokens):
        raise NotArithmetic(f"not a number-only side: {side!r}")
    return evaluate(tokens)
