"""Answer checking for graders and voting: extract, compare, cluster.

``extract_answer`` finds the final answer in model output (``lenient=True`` also reads one out of output
that neither boxes nor announces it), ``is_equivalent`` decides whether two answers are the same (exact for
integers and fractions, decimals to their stated precision, structures, symbolic forms through a killable
sympy/math-verify worker), ``group_equivalent`` clusters answers for majority voting, ``check_steps``
judges the number-only arithmetic a reasoning text writes down ("12 * 9 = 108"), and ``stated_value`` reads
the exact value a problem states its own check for: the value of the one expression it asks for ("What is 3 + 4 ×
5?", ``expression_value``), the one solution of the linear equation it asks to solve ("Solve 3x + 7 = 22.",
``equation_solution``), one quantity of two linear equations ("If a + b = 9 and a - b = 3, what is a × b?",
``system_value``), a quantity in another unit ("How many minutes are in 2.5 hours?", ``unit_conversion``) or
a figure's measure ("the area of a rectangle 12 cm by 7 cm", ``shape_measure``). The policy and the disputed
cases are documented in docs/answers.md.

>>> from m1reason.answers import is_equivalent
>>> is_equivalent(r"<think>...</think> So the answer is $\\boxed{870{,}000{,}000}$.", "8.7e8")
True
"""

from __future__ import annotations

from m1reason.answers._check import DEFAULT_TIMEOUT_S, MAX_ANSWER_CHARS, group_equivalent, is_equivalent
from m1reason.answers._equation import equation_solution
from m1reason.answers._extract import extract_answer
from m1reason.answers._geometry import shape_measure
from m1reason.answers._normalize import answer_key
from m1reason.answers._problem import ExpressionValue, expression_value
from m1reason.answers._stated import stated_value
from m1reason.answers._steps import StepClaim, StepReport, check_steps
from m1reason.answers._symbolic import pool as _pool
from m1reason.answers._system import system_value
from m1reason.answers._units import unit_conversion

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "ExpressionValue",
    "MAX_ANSWER_CHARS",
    "StepClaim",
    "StepReport",
    "answer_key",
    "check_steps",
    "equation_solution",
    "expression_value",
    "extract_answer",
    "group_equivalent",
    "is_equivalent",
    "shape_measure",
    "shutdown_workers",
    "stated_value",
    "system_value",
    "unit_conversion",
    "warm_up",
]


def warm_up() -> None:
    """Start the symbolic worker processes now, so that the first checks do not pay their start-up.

    >>> warm_up()
    """
    _pool().warm_up()


def shutdown_workers() -> None:
    """Stop the symbolic worker processes (they also stop at interpreter exit; a later check restarts them).

    >>> shutdown_workers()
    """
    _pool().shutdown()
