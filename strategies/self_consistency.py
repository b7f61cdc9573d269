"""SelfConsistency: n samples, a majority vote over clusters of equivalent answers, early stopping.

The vote counts ``group_equivalent`` clusters, never raw strings. Early stopping (``early_stop``) cancels the
samples still running the moment the vote is settled: "unbeatable" (the runner-up cannot catch up: stopping
never changes the winner), "beta" (Adaptive-Consistency, P(leader > runner-up) >= ``beta_threshold``),
"first_m" (short-m@k: vote over the first ``m`` finished), "none". Confidence weighting/filtering is optional.
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
from strategies.voting import EarlyStop

__all__ = ["SelfConsistency"]


class SelfConsistency(StrategySettings):
    """``n`` samples (default 8, each up to ``max_new_tokens``) and a vote; ties go to the more confident cluster,
    then to the cluster that finished first.

    >>> from m1reason.generator.fake import FakeCompletion, FakeGenerator
    >>> answers = ["0.5", "3", "1/2", "\\\\frac{1}{2}", "3"]
    >>> fake = FakeGenerator(lambda req, i: FakeCompletion(f"</think> $\\\\boxed{{{answers[i]}}}$", steps=i + 1))
    >>> sol = SelfConsistency(n=5, early_stop="none").run("Half of one?", fake)
    >>> sol.answer, [v.count for v in sol.votes], sol.confidence
    ('0.5', [3, 2], 0.6)
    """

    n: int = Field(default=8, ge=1, le=4096)
    early_stop: EarlyStop = "unbeatable"

    def run(self, problem: str, generator, *, budget_s: float | None = None,
            on_progress: Callable[[Progress], None] | None = None) -> Solution:
        """Draw ``n`` samples and vote; under ``budget_s`` answers are forced out before the deadline. A problem
        outside ``generator.scope`` draws none: its Solution is "out_of_scope"."""
        check_budget(budget_s)
        refused = out_of_scope(problem, generator, "SelfConsistency", budget_s)
        if refused is not None:
            return refused
        started = time.monotonic()
        plan = Plan(strategy="SelfConsistency", n=self.n, max_new_tokens=self.max_new_tokens, budget_s=budget_s,
                    early_stop=self.early_stop, reason=f"fixed n={self.n}, each up to {self.max_new_tokens} tokens")
        return run_samples(self, problem, generator, plan, started=started, budget_s=budget_s,
                           force_at=fallback_force_at(budget_s), on_progress=on_progress)
