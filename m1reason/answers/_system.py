"""The value a problem asks for from two linear equations in two unknowns ("Solve x + y = 10 and x - y = 4. What
is x?", "If a + b = 9 and a - b = 3, what is a × b?").

Such a problem states its own check, as one equation does (``_equation.py``): the system has one solution, and
the answer is right exactly when it is the asked quantity's value there. ``system_value`` reads the problem
conservatively: the whole question must be one of a few forms (``_FORMS``) that ask for one quantity (one
unknown, or a number-only expression in the two), both equations one ``=`` between number-only expressions in the
same two single-letter unknowns. Nothing is solved by algebra on the text: each equation's two sides are evaluated
exactly with numbers put in, and it is read only when their difference is affine at every one of ``_POINTS``; the
one solution (Cramer's rule) is checked by putting it back in. A question asking for both unknowns ("Find (x, y)")
reads nothing: its answer is a pair, not a value.
"""

from __future__ import annotations

import re
from fractions import Fraction

from m1reason.answers._arith import NotArithmetic
from m1reason.answers._equation import LETTER, side_value
from m1reason.answers._problem import ExpressionValue
from m1reason.answers._question import asked_form

__all__ = ["system_value"]

_EQUATIONS = r"(?P<first>[^=,]+=[^=,]+?),? (?:and )?(?P<second>[^=,]+=[^=,]+?)"
_ASKED = r"(?P<asked>[^=]+?)"
_FORMS = tuple(re.compile(form, re.IGNORECASE) for form in (
    rf"solve(?: the system)?:? {_EQUATIONS}\. (?:what is|find) (?:the value of )?{_ASKED}",
    rf"solve for {_ASKED}:? {_EQUATIONS}",
    rf"solve {_EQUATIONS} for {_ASKED}",
    rf"if {_EQUATIONS}, (?:what is|find) (?:the value of )?{_ASKED}",
))
# Points (u, v) where an equation's difference must be affine: a product, a power or a quotient of the unknowns
# shows at one of them
_POINTS = ((0, 0), (1, 0), (0, 1), (1, 1), (2, 3), (3, 7), (7, 2), (5, 11))


def system_value(problem: str) -> ExpressionValue | None:
    """The two equations and the asked quantity's exact value at their one solution; None for any other problem.

    >>> found = system_value("Solve the system x + y = 10 and x - y = 4. What is x?")
    >>> found.expression, found.value, found.worked
    ('x + y = 10 and x - y = 4', Fraction(7, 1), 'x + y = 10 and x - y = 4 hold for x = 7')
    >>> system_value("If a + b = 9 and a - b = 3, what is a × b?").value
    Fraction(18, 1)
    >>> [system_value(p) for p in ("Solve x + y = 10 and x - y = 4.", "Solve x + y = 2 and 2x + 2y = 4. What is x?",
    ...                            "If xy = 6 and x + y = 5, what is x?", "Solve x + y = 3 and x - y = 1 for z.")]
    [None, None, None, None]
    """
    if not isinstance(problem, str):
        raise TypeError(f"system_value needs a str, got {type(problem).__name__}")
    found = asked_form(problem, _FORMS)
    return _solved(found["first"].strip(), found["second"].strip(), found["asked"].strip()) if found else None


def _solved(first: str, second: str, asked: str) -> ExpressionValue | None:
    unknowns = sorted({m[0] for m in LETTER.finditer(f"{first} {second}")})
    if len(unknowns) != 2 or not {m[0] for m in LETTER.finditer(asked)} <= set(unknowns):
        return None
    try:
        (a1, b1, c1), (a2, b2, c2) = (_affine(equation.split("="), unknowns) for equation in (first, second))
        determinant = a1 * b2 - a2 * b1
        if determinant == 0:
            return None  # no solution, or a line of them
        solution = {unknowns[0]: (b1 * c2 - b2 * c1) / determinant, unknowns[1]: (a2 * c1 - a1 * c2) / determinant}
        if any(_difference(equation.split("="), solution) != 0 for equation in (first, second)):
            return None
        value = side_value(_put_in(asked, solution))
    except (NotArithmetic, ZeroDivisionError):
        return None
    return ExpressionValue(expression=f"{first} and {second}", value=value, unknown=asked)


def _affine(sides: list[str], unknowns: list[str]) -> tuple[Fraction, Fraction, Fraction]:
    """``(a, b, c)`` such that the equation's left minus right side is ``a u + b v + c`` at every one of
    ``_POINTS``; NotArithmetic when it is not."""
    if len(sides) != 2:
        raise NotArithmetic("not one equation")
    at = {(u, v): _difference(sides, dict(zip(unknowns, (Fraction(u), Fraction(v))))) for u, v in _POINTS}
    c = at[0, 0]
    a, b = at[1, 0] - c, at[0, 1] - c
    if any(d != a * u + b * v + c for (u, v), d in at.items()):
        raise NotArithmetic("not linear in the unknowns")
    return a, b, c


def _difference(sides: list[str], values: dict[str, Fraction]) -> Fraction:
    left, right = (side_value(_put_in(side, values)) for side in sides)
    return left - right


def _put_in(text: str, values: dict[str, Fraction]) -> str:
    """``text`` with each unknown's value in brackets (``3x`` reads ``3(x)``)."""
    return LETTER.sub(lambda m: f"({values[m[0]].numerator}/{values[m[0]].denominator})" if m[0] in values
                      else m[0], text)
