"""The first thing every strategy's ``run`` does: refuse a problem outside the generator's scope, before any work.

A generator may carry a ``scope`` (``m1reason.scope.Scope``; absent or None: it is asked anything, as M1-3B is).
A problem outside it gets its Solution at once, status "out_of_scope" with the scope's reason: no sample drawn,
no throughput measured, no plan made, since a small model asked outside its training answers anyway, confidently
wrong. The check is made here rather than in ``run_samples``, which BudgetAware reaches only after calibrating
and planning. Which problems are in scope is ``m1reason.scope``'s business, not this module's.
"""

from __future__ import annotations

import time

from m1reason.checks import check_problem
from m1reason.generator.protocol import as_generator
from strategies.solution import Plan, Solution

__all__ = ["out_of_scope"]


def out_of_scope(problem: str, generator, strategy: str, budget_s: float | None = None) -> Solution | None:
    """The Solution of ``problem`` when it is outside ``generator.scope`` ("out_of_scope", no samples), else None;
    an empty problem is a ValueError, as it is for every strategy.

    >>> from m1reason.generator.fake import FakeGenerator
    >>> from m1reason.scope import EMBEDDED_SCOPE
    >>> fake = FakeGenerator(lambda request, i: "</think> \\\\boxed{2}", scope=EMBEDDED_SCOPE)
    >>> sol = out_of_scope("Differentiate 3x + 1.", fake, "LongCoT")
    >>> sol.status, sol.plan.reason
    ('out_of_scope', "not run: out of the embedded model's scope: calculus ('differentiate')")
    >>> out_of_scope("What is 3 + 4?", fake, "LongCoT") is None
    True
    """
    check_problem(problem)
    scope = as_generator(generator).scope
    if scope is None:
        return None
    started = time.monotonic()
    verdict = scope.check(problem)
    if verdict.in_scope:
        return None
    plan = Plan(strategy=strategy, n=0, max_new_tokens=0, budget_s=budget_s, reason=f"not run: {verdict.reason}")
    return Solution(problem=problem, answer=None, status="out_of_scope", status_reason=verdict.reason,
                    confidence=0.0, plan=plan, stopped="not run", timings={"total_s": time.monotonic() - started},
                    reproducibility={"strategy": strategy, "scope": scope.name})
