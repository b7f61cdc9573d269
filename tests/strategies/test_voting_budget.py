"""Voting keeps to the solve's budget: the equivalence checks of the tally stop at its deadline."""

from __future__ import annotations

import time

import pytest

from m1reason.answers import warm_up
from m1reason.answers._symbolic import pool
from m1reason.generator.fake import FakeGenerator
from strategies import SelfConsistency
from strategies.voting import Tally
from tests.answers.test_time_bound import hard_answers
from tests.strategies.conftest import boxed


@pytest.fixture(scope="module", autouse=True)
def _warm_workers():
    warm_up()  # the workers' start-up is a cold-start cost, outside the budget


def test_a_tally_past_its_deadline_checks_nothing_new():
    hard = hard_answers(3)
    tally = Tally(deadline=time.monotonic())
    for i, answer in enumerate([*hard, "10,080", "10080", hard[1]]):
        tally.add(f"s{i}", answer)
    kills = pool().kills
    votes = tally.votes()
    assert pool().kills == kills  # no check ran, so no runaway worker was killed
    assert [(v.answer, v.count) for v in votes[:2]] == [(hard[1], 2), ("10,080", 2)]
    assert sorted(v.count for v in votes) == [1, 1, 2, 2]


def test_self_consistency_over_hard_answers_keeps_to_its_budget():
    hard = hard_answers(16)
    # Without cancel every sample finishes and votes: 16 distinct answers, each of whose checks overruns.
    gen = FakeGenerator(lambda request, i: boxed(hard[i]), capabilities={"stream"})
    start = time.monotonic()
    sol = SelfConsistency(n=16, seed=5).run("What is the product?", gen, budget_s=2.0)
    elapsed = time.monotonic() - start
    assert elapsed < 2.0 + 1.0, elapsed
    assert sum(s.counted for s in sol.samples) == 16
    assert sorted(v.count for v in sol.votes) == [1] * 16  # left apart, never merged on a check that did not end
