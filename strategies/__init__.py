"""Test-time scaling strategies over any m1reason Generator (LongCoT, SelfConsistency, BudgetAware).

Not built yet: they arrive with the strategies issue, and will import only m1reason's public API.
"""

__all__: list[str] = []
