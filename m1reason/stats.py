"""95% intervals over problems, shared by what ships beside a model (its vote curve) and the benchmarks' tables.

Accuracy over n problems is a mean of per-problem values; comparing two configurations on the same problems is a
paired question, whose interval (over per-problem differences) is much narrower than either accuracy's own.
"""

from __future__ import annotations

import math

__all__ = ["Z95", "mean_ci", "paired_gain"]

Z95 = 1.96  # the normal distribution's two-sided 95% point


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its normal-approximation 95% interval.

    >>> [round(x, 4) for x in mean_ci([1.0, 0.0, 1.0, 0.0])]
    [0.5, 0.5658]
    """
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / max(1, n - 1)
    return mean, Z95 * math.sqrt(var / n)


def paired_gain(after: list[float], before: list[float]) -> tuple[float, float]:
    """Mean per-problem difference ``after - before`` and its 95% half-width (same problems, same order).

    >>> [round(x, 4) for x in paired_gain([1.0, 1.0, 0.5, 1.0], [1.0, 0.75, 0.5, 0.75])]
    [0.125, 0.1415]
    """
    if len(after) != len(before):
        raise ValueError(f"paired_gain needs the same problems: {len(after)} values against {len(before)}")
    return mean_ci([a - b for a, b in zip(after, before)])
