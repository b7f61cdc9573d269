"""The exact value a problem states its own check for: whatever a sample reasons, its answer is right exactly when
it is that value. Two readers, each conservative: ``expression_value`` (a problem that only asks for one
number-only expression's value) and ``equation_solution`` (one that only asks to solve one linear equation in one
unknown)."""

from __future__ import annotations

import functools

from m1reason.answers._equation import equation_solution
from m1reason.answers._problem import ExpressionValue, expression_value

__all__ = ["stated_value"]


def stated_value(problem: str) -> ExpressionValue | None:
    """The value the problem states its own check for (``expression_value``, else ``equation_solution``), or None
    when it states none (a story, a format, a unit, anything either reader does not read).

    >>> stated_value("What is 3 + 50 * 2?").value, stated_value("Solve 2x - 9 = 15.").value
    (Fraction(103, 1), Fraction(12, 1))
    >>> stated_value("Sam has 12 apples and gives 5 away. How many are left?") is None
    True
    """
    return _read(problem)


@functools.lru_cache(maxsize=256)  # a strategy's planner and its sampling loop both read the same problem
def _read(problem: str) -> ExpressionValue | None:
    return expression_value(problem) or equation_solution(problem)
