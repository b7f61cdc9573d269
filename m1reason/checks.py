"""The one check of what a caller asks to solve: a non-empty problem and a usable time budget.

``solve``, the strategies, AsyncSolver, the REPL and the command line all call these, so a bad budget gets the
same error and the same message wherever it comes in. Which strategy a name means is ``m1reason.solving``'s
business, not this module's.
"""

from __future__ import annotations

import math

from m1reason.errors import BudgetError

__all__ = ["check_budget", "check_problem", "check_request"]

BUDGET_RULE = "budget_s must be a finite number of seconds > 0 (or None)"


def check_budget(budget_s) -> None:
    """Raise BudgetError unless ``budget_s`` is None (no budget) or a finite number of seconds > 0.

    >>> check_budget(5), check_budget(None)
    (None, None)
    >>> check_budget(0)
    Traceback (most recent call last):
    ...
    m1reason.errors.BudgetError: budget_s must be a finite number of seconds > 0 (or None), got 0
    """
    if budget_s is None:
        return
    if isinstance(budget_s, bool) or not isinstance(budget_s, int | float) or not 0 < budget_s < math.inf:
        raise BudgetError(f"{BUDGET_RULE}, got {budget_s!r}")


def check_problem(problem) -> None:
    """Raise ValueError unless ``problem`` is a string with something in it.

    >>> check_problem("What is 2 + 2?")
    >>> check_problem("  ")
    Traceback (most recent call last):
    ...
    ValueError: problem must be a non-empty string
    """
    if not isinstance(problem, str) or not problem.strip():
        raise ValueError("problem must be a non-empty string")


def check_request(problem, budget_s) -> None:
    """``check_problem`` and ``check_budget`` together: what every entry point checks before any work.

    >>> check_request("What is 2 + 2?", 5)
    >>> check_request("What is 2 + 2?", float("nan"))
    Traceback (most recent call last):
    ...
    m1reason.errors.BudgetError: budget_s must be a finite number of seconds > 0 (or None), got nan
    """
    check_problem(problem)
    check_budget(budget_s)
