"""The synthetic problems' public face: the reply format, the fixed held-out split, the named error, the API.

Answers read back from the text: test_data_answers.py; true step claims: test_data_steps.py; determinism and
the split per kind: test_data_split.py; wordings: test_data_phrasing.py; token lengths: test_data_lengths.py.
"""

from __future__ import annotations

import random

import pytest

import m1reason.train.data as data
from m1reason.answers import extract_answer, is_equivalent
from m1reason.train.data import KINDS, heldout_problems, make_problem, render_solution, training_problems
from m1reason.train.examples import step_problems


@pytest.mark.parametrize("kind", KINDS)
def test_replies_think_then_box_the_answer(kind):
    rng = random.Random(kind)
    for _ in range(60):
        p = make_problem(rng, kind)
        solution = render_solution(p)
        assert p.kind == kind
        assert is_equivalent(extract_answer(solution), p.answer)
        assert solution.startswith("<think>\n") and solution.endswith("</think>\nThe answer is \\boxed{"
                                                                      + p.answer + "}.")


def test_default_mix_draws_every_kind_and_mostly_whole_numbers_and_words():
    rng = random.Random(1)
    kinds = [make_problem(rng).kind for _ in range(3000)]
    assert set(kinds) == set(KINDS)
    whole = {"arithmetic", "addition", "subtraction", "multiplication", "division", "order", "word"}
    assert sum(k in whole for k in kinds) > 0.55 * len(kinds)
    assert sum(data._DEFAULT_WEIGHTS.values()) == pytest.approx(1.0) and set(data._DEFAULT_WEIGHTS) == set(KINDS)


def test_heldout_split_is_fixed_and_disjoint_from_training():
    held = heldout_problems(500)
    assert held == heldout_problems(500) and len({p.problem for p in held}) == 500
    assert {p.kind for p in held} == set(KINDS)
    texts = {p.problem for p in held}
    assert not texts & {p.problem for p in step_problems(0, 0, 2000)}
    stream = training_problems(0)
    assert not texts & {next(stream).problem for _ in range(1000)}


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="unknown problem kind 'calculus'"):
        make_problem(random.Random(0), "calculus")


def test_public_names_are_the_documented_ones():
    assert sorted(data.__all__) == ["HELDOUT_SEED", "KINDS", "Problem", "SPLIT_PROBABILITY", "heldout_problems",
                                    "make_problem", "operation_steps", "render_solution", "training_problems"]
    assert all(getattr(data, name).__doc__ for name in data.__all__ if callable(getattr(data, name)))
