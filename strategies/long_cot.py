"""LongCoT: one long chain of thought, with s1-style budget forcing so that a cut chain still gives an answer.

When the chain runs out of length (or, under a budget, of time) inside its thinking, "</think>" and an answer
prefix are appended to the live sample, which continues from its state (no re-prefill). With ``min_tokens`` set,
a chain that stops earlier gets "Wait" appended and goes on. Generators without ``append`` get a re-prompt.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import Field

from m1reason.checks import check_budget
from strategies._runner import Progress, fallback_force_at, run_samples
from strategies._scope import out_of_scope
from strategies._settings import StrategySettings
from strategies.solution import Plan, Solution

__all__ = ["LongCoT"]


class LongCoT(StrategySettings):
    """One sample with a long length budget (``max_new_tokens``, default 32768) and budget forcing.

    >>> from m1reason.generator.fake import FakeCompletion, FakeGenerator
    >>> fake = FakeGenerator(lambda req, i: FakeCompletion("x is 41... or", after_append="42}$"))
    >>> sol = LongCoT(max_new_tokens=8).run("What is 6 * 7?", fake)
    >>> sol.answer, sol.samples[0].forced
    ('42', ['\\n</think>\\n\\nThe final answer is $\\\\boxed{'])
    """

    max_new_tokens: int = Field(default=32768, ge=1)

    def run(self, problem: str, generator, *, budget_s: float | None = None,
            on_progress: Callable[[Progress], None] | None = None) -> Solution:
        """Solve ``problem`` with one chain; under ``budget_s`` the answer is forced out before the deadline. A
        problem outside ``generator.scope`` runs none: its Solution is "out_of_scope"."""
        check_budget(budget_s)
        refused = out_of_scope(problem, generator, "LongCoT", budget_s)
        if refused is not None:
            return refused
        started = time.monotonic()
        plan = Plan(strategy="LongCoT", n=1, max_new_tokens=self.max_new_tokens, budget_s=budget_s,
                    reason="one long chain; its answer is forced out if length or time runs out while thinking")
        return run_samples(self, problem, generator, plan, started=started, budget_s=budget_s,
                           force_at=fallback_force_at(budget_s), on_progress=on_progress)
