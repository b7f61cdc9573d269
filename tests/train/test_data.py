"""The synthetic problems: answers are right (checked independently), solutions end in \\boxed{}, splits are fixed."""

from __future__ import annotations

import random
import re
from fractions import Fraction

import pytest
import sympy

from m1reason.answers import extract_answer, is_equivalent
from m1reason.train.data import KINDS, heldout_problems, make_problem, render_solution, training_problems
from m1reason.train.examples import step_problems


def _independent_answer(p) -> Fraction:
    text = p.problem
    if p.kind == "arithmetic" or p.kind == "fraction":
        expr = re.match(r"What is (.+)\?$", text)[1]
        return Fraction(str(sympy.nsimplify(sympy.sympify(expr, rational=True))))
    if p.kind == "equation":
        lhs, rhs = re.match(r"Solve for x: (.+) = (-?\d+)\.$", text).groups()
        x = sympy.Symbol("x")
        [sol] = sympy.solve(sympy.sympify(lhs.replace("x", "*x"), rational=True) - int(rhs), x)
        return Fraction(str(sol))
    if p.kind == "percent":
        if text.startswith("What is"):
            pct, base = map(int, re.findall(r"\d+", text))
            return Fraction(pct * base, 100)
        base, pct = map(int, re.findall(r"\d+", text))
        return base - Fraction(pct * base, 100)
    nums = list(map(int, re.findall(r"\d+", text)))
    if "gives away" in text:
        have, packs, each, give = nums
        return Fraction(have + packs * each - give)
    have, bags, each = nums
    return Fraction(have + bags * each)


@pytest.mark.parametrize("kind", KINDS)
def test_answers_are_correct(kind):
    rng = random.Random(kind)
    for _ in range(60):
        p = make_problem(rng, kind)
        assert Fraction(p.answer) == _independent_answer(p), p
        solution = render_solution(p)
        assert is_equivalent(extract_answer(solution), p.answer)
        assert solution.startswith("<think>\n") and "</think>" in solution


def test_steps_are_true_statements():
    rng = random.Random(1)
    for _ in range(200):
        p = make_problem(rng)
        for step in p.steps:
            for left, right in zip(step.split(" = "), step.split(" = ")[1:]):
                if "x" in left or "%" in left or not left.strip():
                    continue
                assert sympy.sympify(left, rational=True) == sympy.sympify(right, rational=True), (p, step)


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
