"""Test-time scaling strategies over any m1reason Generator: LongCoT, SelfConsistency, BudgetAware.

Each is a pydantic settings object with one method, ``run(problem, generator, *, budget_s=None) -> Solution``.
They import only m1reason's public API, check ``generator.capabilities`` and degrade when a feature is missing.
See docs/strategies.md.

>>> from m1reason.generator.fake import FakeGenerator
>>> SelfConsistency(n=3).run("1 + 1?", FakeGenerator(lambda req, i: "</think> \\\\boxed{2}")).answer
'2'
"""

from strategies._runner import Progress
from strategies.budget_aware import BudgetAware
from strategies.long_cot import LongCoT
from strategies.self_consistency import SelfConsistency
from strategies.solution import Plan, SampleRecord, Solution, Vote
from strategies.voting import Tally, beta_win_probability

__all__ = [
    "BudgetAware",
    "LongCoT",
    "Plan",
    "Progress",
    "SampleRecord",
    "SelfConsistency",
    "Solution",
    "Tally",
    "Vote",
    "beta_win_probability",
]
