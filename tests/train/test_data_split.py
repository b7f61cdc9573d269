"""The seeded split and the determinism it rests on: the same seed gives the same problems, the same text the
same solution, and training never draws a held-out problem, of the mixed set or of any one kind."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from m1reason.train.data import KINDS, heldout_problems, make_problem
from m1reason.train.examples import step_problems


@pytest.mark.parametrize("kind", KINDS)
def test_a_seed_gives_the_same_problems_and_other_seeds_others(kind):
    first = [make_problem(random.Random(7), kind) for _ in range(3)]
    again = [make_problem(random.Random(7), kind) for _ in range(3)]
    assert first == again
    drawn = {make_problem(random.Random(seed), kind).problem for seed in range(50)}
    assert len(drawn) >= 45  # a large space of problems per kind, not a handful repeated


def test_the_same_text_always_gets_the_same_solution():
    """The solution path is a function of the problem text, not of the draw that made it."""
    solutions: dict[str, set] = defaultdict(set)
    for kind in KINDS:
        for seed in range(3):
            rng = random.Random(f"paths-{kind}-{seed}")
            for _ in range(300):
                p = make_problem(rng, kind)
                solutions[p.problem].add((p.steps, p.answer))
    assert all(len(s) == 1 for s in solutions.values())
    assert len(solutions) > 3 * 300 * len(KINDS) * 0.8


@pytest.mark.parametrize("kind", KINDS)
def test_training_never_draws_a_heldout_problem_of_one_kind(kind):
    held = {p.problem for p in heldout_problems(500, kind=kind)}
    assert len(held) == 500 and {p.kind for p in heldout_problems(50, kind=kind)} == {kind}
    drawn = step_problems(0, 0, 600, weights={kind: 1.0})
    assert {p.kind for p in drawn} == {kind} and not held & {p.problem for p in drawn}


def test_the_mixed_heldout_set_has_every_kind():
    kinds = [p.kind for p in heldout_problems(1000)]
    assert set(kinds) == set(KINDS) and min(kinds.count(k) for k in KINDS) >= 10


_PATHS = {"fraction": ("cancel ", "share the factor", "/ 2 = "),
          "mixed_number": ("whole parts:", " * 2 + 1 = "), "equation": ("expand:", "divide both sides by"),
          "percent": ("10% of", "/100 = ", "of the old", " * 100 = "),
          "geometry": ("add the four sides", "perimeter is 2 * (", "2 * ")}


@pytest.mark.parametrize("kind", sorted(_PATHS))
def test_kinds_solve_their_problems_more_than_one_way(kind):
    """Several valid paths: each marker of a way to solve shows up in some of a kind's solutions."""
    rng = random.Random(f"ways-{kind}")
    solutions = ["\n".join(make_problem(rng, kind).steps) for _ in range(400)]
    for marker in _PATHS[kind]:
        assert any(marker in s for s in solutions), marker
