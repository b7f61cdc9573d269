"""The exact value a problem states its own check for: whatever a sample reasons, its answer is right exactly when
it is that value. Five readers, each conservative: ``expression_value`` (a problem that only asks for one
number-only expression's value), ``equation_solution`` (one that only asks to solve one linear equation in one
unknown), ``system_value`` (one that asks for one quantity from two linear equations in two unknowns),
``unit_conversion`` (one that only asks to convert a quantity to another unit) and ``shape_measure`` (one that
only asks for one measure of a figure given its dimensions)."""

from __future__ import annotations

import functools

from m1reason.answers._equation import equation_solution
from m1reason.answers._geometry import shape_measure
from m1reason.answers._problem import ExpressionValue, expression_value
from m1reason.answers._system import system_value
from m1reason.answers._units import unit_conversion

__all__ = ["stated_value"]


def stated_value(problem: str) -> ExpressionValue | None:
    """The value the problem states its own check for (``expression_value``, ``equation_solution``,
    ``system_value``, ``unit_conversion`` or ``shape_measure``, the first that reads it), or None when it states
    none (a story, a format, anything no reader reads).

    >>> [stated_value(p).value for p in ("What is 3 + 50 * 2?", "Solve 2x - 9 = 15.", "Convert 2.5 kg to grams.")]
    [Fraction(103, 1), Fraction(12, 1), Fraction(2500, 1)]
    >>> stated_value("Sam has 12 apples and gives 5 away. How many are left?") is None
    True
    """
    return _read(problem)


_READERS = (expression_value, equation_solution, system_value, unit_conversion, shape_measure)


@functools.lru_cache(maxsize=256)  # a strategy's planner and its sampling loop both read the same problem
def _read(problem: str) -> ExpressionValue | None:
    return next((found for read in _READERS if (found := read(problem)) is not None), None)
