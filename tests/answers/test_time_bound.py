"""The checker's time: overruns are cached (not run again), and group_equivalent keeps to its time limit."""

from __future__ import annotations

import itertools
import math
import time

import pytest

from m1reason.answers import group_equivalent, is_equivalent, warm_up
from m1reason.answers._symbolic import pool

_fresh = itertools.count(1000)


def hard_answers(n: int) -> list[str]:
    """Distinct answers whose value sympy computes for minutes: every check on them overruns and kills a worker.

    Fresh ones on each call: verdicts are cached for the whole process, and a test must not find them cached.
    """
    return [rf"\prod_{{k={next(_fresh)}}}^{{10^{{9}}}} k" for _ in range(n)]


@pytest.fixture(scope="module", autouse=True)
def _warm_workers():
    warm_up()  # start-up is a one-time cost of its own, not what these tests bound


def test_an_overrun_is_cached_and_not_run_again():
    [hard] = hard_answers(1)
    kills = pool().kills
    assert is_equivalent(hard, "5", timeout=0.3) is False
    assert pool().kills == kills + 1
    # The same pair, and any other pair needing this answer's value, is not run again with as much time ...
    assert is_equivalent(hard, "5", timeout=0.3) is False
    assert is_equivalent("7", hard, timeout=0.2) is False
    assert pool().kills == kills + 1
    # ... but a check given more time tries again.
    assert is_equivalent(hard, "5", timeout=0.6) is False
    assert pool().kills == kills + 2


def test_n_hard_answers_cost_n_overruns_not_n_squared():
    hard = hard_answers(4)
    kills = pool().kills
    assert group_equivalent(hard, timeout=0.5) == [[0], [1], [2], [3]]
    assert 1 <= pool().kills - kills <= len(hard)  # each answer's value overran once (12 checks before caching)


def test_hard_answers_are_grouped_within_the_time_limit():
    hard = hard_answers(12)
    answers = [*hard, "10,080", "10080", hard[0]]
    start = time.monotonic()
    groups = group_equivalent(answers, timeout=1.0, time_limit_s=1.5)
    elapsed = time.monotonic() - start
    assert elapsed < 1.5 + 1.0, elapsed  # the documented bound: the limit plus one check's timeout
    # nothing merged wrongly, and equal keys joined even after the time was up
    assert sorted(groups) == sorted([[0, 14], [12, 13], *([i] for i in range(1, 12))])


def test_once_time_is_up_only_known_verdicts_merge():
    answers = [r"\frac{917}{1024}", "0.8955078125", "1/3"]
    assert group_equivalent(answers, time_limit_s=0) == [[0], [1], [2]]  # not checked: left apart
    assert group_equivalent(answers) == [[0, 1], [2]]
    assert group_equivalent(answers, time_limit_s=0) == [[0, 1], [2]]  # the cached verdict is free


@pytest.mark.parametrize("limit", [-1.0, math.nan, "2", [1]])
def test_a_bad_time_limit_is_refused(limit):
    with pytest.raises(ValueError, match="time_limit_s"):
        group_equivalent(["1", "2"], time_limit_s=limit)
