"""Majority voting over clusters of equivalent answers, and the rules that say when a vote is settled.

Answers are clustered with ``m1reason.answers.group_equivalent`` (never compared as raw strings); exact repeats
are merged first so the checker sees each distinct string once. Ties are broken by the larger total confidence,
then by the cluster whose first sample finished first (deterministic, and earlier finishers are shorter chains).
This module knows nothing of generators; of time it knows only the deadline that bounds the checker's work.
"""

from __future__ import annotations

import math
import time
from typing import Literal

from m1reason.answers import group_equivalent
from strategies.solution import Vote

__all__ = ["EarlyStop", "Tally", "beta_win_probability"]

EarlyStop = Literal["none", "unbeatable", "beta", "first_m"]


def beta_win_probability(leader: int, runner_up: int) -> float:
    """P(leader's share > runner-up's) under a uniform prior (Adaptive-Consistency's Beta rule).

    With v1 and v2 votes the posterior of p1 / (p1 + p2) is Beta(v1 + 1, v2 + 1); its mass above 1/2 equals
    P(Binomial(v1 + v2 + 1, 1/2) >= v2 + 1), exact in integers.

    >>> round(beta_win_probability(4, 0), 5), round(beta_win_probability(3, 0), 5), beta_win_probability(2, 2)
    (0.96875, 0.9375, 0.5)
    """
    trials = leader + runner_up + 1
    return sum(math.comb(trials, j) for j in range(runner_up + 1, trials + 1)) / 2**trials


class Tally:
    """The running vote of one problem. ``add`` a finished sample's answer (None: no vote) with a weight in (0, 1].

    >>> t = Tally()
    >>> for sid, answer in [("a", "1/2"), ("b", "0.5"), ("c", "3"), ("d", None)]:
    ...     t.add(sid, answer)
    >>> [(v.answer, v.count) for v in t.votes()]
    [('1/2', 2), ('3', 1)]
    >>> t.settled("unbeatable", remaining=1), t.settled("unbeatable", remaining=0)
    (False, True)

    ``deadline`` (a ``time.monotonic()`` value, None for none) bounds the equivalence checks: clustering gets only
    the time left before it, and past it answers join on an equal normalized key or an already known verdict
    (``group_equivalent``'s ``time_limit_s``), so counting votes never runs past the solve's budget.

    >>> late = Tally(deadline=time.monotonic())
    >>> for sid, answer in [("a", "10,080"), ("b", "10080"), ("c", "3")]:
    ...     late.add(sid, answer)
    >>> [(v.answer, v.count) for v in late.votes()]
    [('10,080', 2), ('3', 1)]
    """

    def __init__(self, *, deadline: float | None = None):
        self.order: list[tuple[str, str | None, float, float]] = []  # (sample id, answer, weight, confidence)
        self.deadline = deadline
        self._groups: list[list[str]] = []  # clusters of distinct answer strings
        self._grouped: tuple[str, ...] = ()

    def add(self, sample_id: str, answer: str | None, weight: float = 1.0, confidence: float = 0.0) -> None:
        if not 0.0 < weight <= 1.0:
            raise ValueError(f"vote weight must be in (0, 1], got {weight}")
        self.order.append((sample_id, answer, weight, confidence))

    @property
    def finished(self) -> int:
        """Samples added, with or without an answer."""
        return len(self.order)

    def votes(self, keep: set[str] | None = None) -> list[Vote]:
        """Clusters best first (weight, then confidence, then first to finish); ``keep`` limits the voters."""
        voters = [row for row in self.order if row[1] is not None and (keep is None or row[0] in keep)]
        cluster_of = self._clusters([row[1] for row in voters])
        rows: dict[int, list] = {}
        for position, (sample_id, answer, weight, confidence) in enumerate(voters):
            entry = rows.setdefault(cluster_of[answer], [answer, 0, 0.0, [], 0.0, position])
            entry[1] += 1
            entry[2] += weight
            entry[3].append(sample_id)
            entry[4] += confidence
        ranked = sorted(rows.values(), key=lambda e: (-round(e[2], 9), -e[4], e[5]))
        return [Vote(answer=e[0], count=e[1], weight=e[2], sample_ids=e[3]) for e in ranked]

    def settled(self, rule: EarlyStop, *, remaining: int, m: int = 3, threshold: float = 0.95) -> bool:
        """Whether the vote may stop now with ``remaining`` samples still running.

        - ``unbeatable``: the runner-up cannot catch the leader even if every remaining sample joins it
          (each vote weighs at most 1), so stopping never changes the winner;
        - ``beta``: Adaptive-Consistency, P(leader's share > runner-up's) >= ``threshold`` on vote counts;
        - ``first_m``: short-m@k, ``m`` samples have finished;
        - ``none``: only when nothing remains.
        """
        if remaining == 0:
            return True
        if rule == "first_m":
            return self.finished >= m
        votes = self.votes()
        if rule == "none" or not votes:
            return False
        runner_up = votes[1] if len(votes) > 1 else None
        if rule == "unbeatable":
            return votes[0].weight - (runner_up.weight if runner_up else 0.0) > remaining
        if rule == "beta":
            return beta_win_probability(votes[0].count, runner_up.count if runner_up else 0) >= threshold
        raise ValueError(f"unknown early-stop rule {rule!r}")

    def _clusters(self, answers: list[str]) -> dict[str, int]:
        new = [a for a in dict.fromkeys(answers) if a not in self._grouped]
        if new:  # re-cluster only when a string the checker has not seen arrives
            self._grouped = self._grouped + tuple(new)
            left = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
            groups = group_equivalent(list(self._grouped), time_limit_s=left)
            self._groups = [[self._grouped[i] for i in group] for group in groups]
        return {answer: k for k, group in enumerate(self._groups) for answer in group}
